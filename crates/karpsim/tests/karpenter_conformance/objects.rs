//! Karpenter's test objects (`pkg/test`: `NodePool`, `UnschedulablePod`, `NodeClaimLinkedNode`,
//! `DaemonSet`, `PodDisruptionBudget`) as Kubernetes JSON documents, with builders for the options
//! the cases set.
#![allow(dead_code)]

use crate::harness::{CT, HOSTNAME, IT, NODEPOOL, ZONE};
use serde_json::{Value, json};

/// `{key, operator, values}`.
pub fn expr(key: &str, op: &str, values: &[&str]) -> Value {
    if values.is_empty() { json!({"key": key, "operator": op}) } else { json!({"key": key, "operator": op, "values": values}) }
}

/// A label selector `matchLabels`.
pub fn labels_sel(pairs: &[(&str, &str)]) -> Value {
    let m: serde_json::Map<String, Value> = pairs.iter().map(|(k, v)| (k.to_string(), json!(v))).collect();
    json!({"matchLabels": m})
}

/// `test.NodePool`: limits cpu 2000, node class `default`, no requirements.
#[derive(Debug, Clone)]
pub struct NodePool(pub Value);

pub fn nodepool(name: &str) -> NodePool {
    NodePool(json!({
        "apiVersion": "karpenter.sh/v1", "kind": "NodePool",
        "metadata": {"name": name},
        "spec": {
            "limits": {"cpu": "2000"},
            "template": {"metadata": {}, "spec": {
                "nodeClassRef": {"group": "karpenter.k8s.aws", "kind": "EC2NodeClass", "name": "default"},
                "requirements": [],
            }},
        },
    }))
}

impl NodePool {
    fn spec(&mut self) -> &mut Value {
        &mut self.0["spec"]["template"]["spec"]
    }
    pub fn req(mut self, key: &str, op: &str, values: &[&str]) -> NodePool {
        self.spec()["requirements"].as_array_mut().unwrap().push(expr(key, op, values));
        self
    }
    pub fn req_min(mut self, key: &str, op: &str, values: &[&str], min: u32) -> NodePool {
        let mut e = expr(key, op, values);
        e["minValues"] = json!(min);
        self.spec()["requirements"].as_array_mut().unwrap().push(e);
        self
    }
    /// Replace the requirements.
    pub fn reqs(mut self, exprs: Vec<Value>) -> NodePool {
        self.spec()["requirements"] = json!(exprs);
        self
    }
    pub fn label(mut self, k: &str, v: &str) -> NodePool {
        let m = &mut self.0["spec"]["template"]["metadata"];
        if m.get("labels").is_none() {
            m["labels"] = json!({});
        }
        m["labels"][k] = json!(v);
        self
    }
    pub fn taint(mut self, key: &str, value: &str, effect: &str) -> NodePool {
        let t = self.spec();
        if t.get("taints").is_none() {
            t["taints"] = json!([]);
        }
        t["taints"].as_array_mut().unwrap().push(json!({"key": key, "value": value, "effect": effect}));
        self
    }
    pub fn startup_taint(mut self, key: &str, value: &str, effect: &str) -> NodePool {
        let t = self.spec();
        if t.get("startupTaints").is_none() {
            t["startupTaints"] = json!([]);
        }
        t["startupTaints"].as_array_mut().unwrap().push(json!({"key": key, "value": value, "effect": effect}));
        self
    }
    pub fn weight(mut self, w: i32) -> NodePool {
        self.0["spec"]["weight"] = json!(w);
        self
    }
    pub fn limits(mut self, l: Value) -> NodePool {
        self.0["spec"]["limits"] = l;
        self
    }
    pub fn nodeclass(mut self, name: &str) -> NodePool {
        self.spec()["nodeClassRef"]["name"] = json!(name);
        self
    }
    /// A static NodePool: `spec.replicas`, and no limit but `limits.nodes` (the CRD's rule).
    pub fn replicas(mut self, n: i64) -> NodePool {
        self.0["spec"]["replicas"] = json!(n);
        if let Some(limits) = self.0["spec"]["limits"].as_object_mut() {
            limits.retain(|k, _| k == "nodes");
        }
        self
    }
    pub fn set(mut self, path: &[&str], v: Value) -> NodePool {
        set_path(&mut self.0, path, v);
        self
    }
}

/// Set the value at `path` in `root`, creating objects on the way; an array step is an index.
pub fn set_path(root: &mut Value, path: &[&str], v: Value) {
    let mut at = root;
    for p in path {
        at = match at {
            Value::Array(a) => &mut a[p.parse::<usize>().unwrap()],
            _ => {
                if at.get(*p).is_none() {
                    at[*p] = json!({});
                }
                &mut at[*p]
            }
        };
    }
    *at = v;
}

/// `test.UnschedulablePod`: in namespace `default`, marked unschedulable by kube-scheduler, no
/// requests unless given.
#[derive(Debug, Clone)]
pub struct Pod(pub Value);

pub fn pod(name: &str) -> Pod {
    Pod(json!({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": name, "namespace": "default", "uid": format!("uid-{name}"), "labels": {}},
        "spec": {"containers": [{"name": "c", "image": "pause", "resources": {}}]},
        "status": {"phase": "Pending", "conditions": [{"type": "PodScheduled", "status": "False", "reason": "Unschedulable"}]},
    }))
}

/// `n` pods `{prefix}-{i}` built by `f`.
pub fn pods(prefix: &str, n: usize, f: impl Fn(Pod) -> Pod) -> Vec<Pod> {
    (0..n).map(|i| f(pod(&format!("{prefix}-{i}")))).collect()
}

impl Pod {
    pub fn name(&self) -> String {
        self.0["metadata"]["name"].as_str().unwrap().to_string()
    }
    fn resources(&mut self) -> &mut Value {
        &mut self.0["spec"]["containers"][0]["resources"]
    }
    pub fn request(mut self, k: &str, v: &str) -> Pod {
        let r = self.resources();
        if r.get("requests").is_none() {
            r["requests"] = json!({});
        }
        r["requests"][k] = json!(v);
        self
    }
    pub fn limit(mut self, k: &str, v: &str) -> Pod {
        let r = self.resources();
        if r.get("limits").is_none() {
            r["limits"] = json!({});
        }
        r["limits"][k] = json!(v);
        self
    }
    pub fn cpu(self, v: &str) -> Pod {
        self.request("cpu", v)
    }
    pub fn mem(self, v: &str) -> Pod {
        self.request("memory", v)
    }
    pub fn label(mut self, k: &str, v: &str) -> Pod {
        self.0["metadata"]["labels"][k] = json!(v);
        self
    }
    pub fn annotation(mut self, k: &str, v: &str) -> Pod {
        let m = &mut self.0["metadata"];
        if m.get("annotations").is_none() {
            m["annotations"] = json!({});
        }
        m["annotations"][k] = json!(v);
        self
    }
    pub fn ns(mut self, ns: &str) -> Pod {
        self.0["metadata"]["namespace"] = json!(ns);
        self
    }
    pub fn node_selector(mut self, k: &str, v: &str) -> Pod {
        let s = &mut self.0["spec"];
        if s.get("nodeSelector").is_none() {
            s["nodeSelector"] = json!({});
        }
        s["nodeSelector"][k] = json!(v);
        self
    }
    fn affinity(&mut self) -> &mut Value {
        let s = &mut self.0["spec"];
        if s.get("affinity").is_none() {
            s["affinity"] = json!({});
        }
        &mut s["affinity"]
    }
    /// Add expressions to the first required node-affinity term (`NodeRequirements`).
    pub fn node_req(mut self, key: &str, op: &str, values: &[&str]) -> Pod {
        let a = self.affinity();
        let terms = &mut a["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]["nodeSelectorTerms"];
        if !terms.is_array() {
            *terms = json!([{"matchExpressions": []}]);
        }
        terms[0]["matchExpressions"].as_array_mut().unwrap().push(expr(key, op, values));
        self
    }
    /// Set the required node-affinity terms (OR-ed), each a list of expressions.
    pub fn node_terms(mut self, terms: Vec<Vec<Value>>) -> Pod {
        let a = self.affinity();
        a["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]["nodeSelectorTerms"] =
            json!(terms.into_iter().map(|t| json!({"matchExpressions": t})).collect::<Vec<_>>());
        self
    }
    /// Add a preferred node-affinity term.
    pub fn node_pref(mut self, weight: i32, exprs: Vec<Value>) -> Pod {
        let a = self.affinity();
        let p = &mut a["nodeAffinity"]["preferredDuringSchedulingIgnoredDuringExecution"];
        if !p.is_array() {
            *p = json!([]);
        }
        p.as_array_mut().unwrap().push(json!({"weight": weight, "preference": {"matchExpressions": exprs}}));
        self
    }
    /// Add a pod (anti-)affinity term: `kind` is `podAffinity` or `podAntiAffinity`; `weight`
    /// `None` = required.
    pub fn pod_affinity_term(mut self, kind: &str, weight: Option<i32>, term: Value) -> Pod {
        let a = self.affinity();
        let key = if weight.is_some() { "preferredDuringSchedulingIgnoredDuringExecution" } else { "requiredDuringSchedulingIgnoredDuringExecution" };
        let p = &mut a[kind][key];
        if !p.is_array() {
            *p = json!([]);
        }
        let item = match weight {
            Some(w) => json!({"weight": w, "podAffinityTerm": term}),
            None => term,
        };
        p.as_array_mut().unwrap().push(item);
        self
    }
    pub fn affinity_to(self, key: &str, sel: &[(&str, &str)]) -> Pod {
        self.pod_affinity_term("podAffinity", None, json!({"topologyKey": key, "labelSelector": labels_sel(sel)}))
    }
    pub fn anti_affinity_to(self, key: &str, sel: &[(&str, &str)]) -> Pod {
        self.pod_affinity_term("podAntiAffinity", None, json!({"topologyKey": key, "labelSelector": labels_sel(sel)}))
    }
    pub fn preferred_affinity_to(self, weight: i32, key: &str, sel: &[(&str, &str)]) -> Pod {
        self.pod_affinity_term("podAffinity", Some(weight), json!({"topologyKey": key, "labelSelector": labels_sel(sel)}))
    }
    pub fn preferred_anti_affinity_to(self, weight: i32, key: &str, sel: &[(&str, &str)]) -> Pod {
        self.pod_affinity_term("podAntiAffinity", Some(weight), json!({"topologyKey": key, "labelSelector": labels_sel(sel)}))
    }
    /// Add a topology spread constraint (a JSON object).
    pub fn tsc(mut self, c: Value) -> Pod {
        let s = &mut self.0["spec"];
        if s.get("topologySpreadConstraints").is_none() {
            s["topologySpreadConstraints"] = json!([]);
        }
        s["topologySpreadConstraints"].as_array_mut().unwrap().push(c);
        self
    }
    /// A `DoNotSchedule` spread on `key` over pods with these labels.
    pub fn spread(self, key: &str, max_skew: i32, sel: &[(&str, &str)]) -> Pod {
        self.tsc(json!({"topologyKey": key, "maxSkew": max_skew, "whenUnsatisfiable": "DoNotSchedule", "labelSelector": labels_sel(sel)}))
    }
    pub fn toleration(mut self, t: Value) -> Pod {
        let s = &mut self.0["spec"];
        if s.get("tolerations").is_none() {
            s["tolerations"] = json!([]);
        }
        s["tolerations"].as_array_mut().unwrap().push(t);
        self
    }
    pub fn host_port(mut self, port: i32) -> Pod {
        let c = &mut self.0["spec"]["containers"][0];
        if c.get("ports").is_none() {
            c["ports"] = json!([]);
        }
        c["ports"].as_array_mut().unwrap().push(json!({"containerPort": 80, "hostPort": port, "protocol": "TCP"}));
        self
    }
    /// Bound to `node`, Running and Ready (`ExpectManualBinding`).
    pub fn on(mut self, node: &str) -> Pod {
        self.0["spec"]["nodeName"] = json!(node);
        self.0["status"] = json!({"phase": "Running", "conditions": [{"type": "Ready", "status": "True"}, {"type": "PodScheduled", "status": "True"}]});
        self
    }
    pub fn phase(mut self, p: &str) -> Pod {
        self.0["status"]["phase"] = json!(p);
        self
    }
    pub fn owner(mut self, kind: &str, name: &str) -> Pod {
        self.0["metadata"]["ownerReferences"] = json!([{"apiVersion": "apps/v1", "kind": kind, "name": name, "uid": format!("uid-{name}"), "controller": true}]);
        self
    }
    pub fn priority(mut self, p: i64) -> Pod {
        self.0["spec"]["priority"] = json!(p);
        self
    }
    pub fn deleting(mut self, ts: &str) -> Pod {
        self.0["metadata"]["deletionTimestamp"] = json!(ts);
        self
    }
    pub fn created(mut self, ts: &str) -> Pod {
        self.0["metadata"]["creationTimestamp"] = json!(ts);
        self
    }
    pub fn init_container(mut self, resources: Value) -> Pod {
        let s = &mut self.0["spec"];
        if s.get("initContainers").is_none() {
            s["initContainers"] = json!([]);
        }
        let n = s["initContainers"].as_array().unwrap().len();
        s["initContainers"].as_array_mut().unwrap().push(json!({"name": format!("init-{n}"), "image": "pause", "resources": resources}));
        self
    }
    fn push_volume(mut self, v: Value) -> Pod {
        let s = &mut self.0["spec"];
        if s.get("volumes").is_none() {
            s["volumes"] = json!([]);
        }
        s["volumes"].as_array_mut().unwrap().push(v);
        self
    }
    /// A `persistentVolumeClaim` volume (`PodOptions.PersistentVolumeClaims`).
    pub fn pvc(self, claim: &str) -> Pod {
        let n = self.0["spec"]["volumes"].as_array().map_or(0, Vec::len);
        self.push_volume(json!({"name": format!("vol-{n}"), "persistentVolumeClaim": {"claimName": claim}}))
    }
    /// A generic ephemeral volume named `volume` (its claim is `{pod}-{volume}`) whose template names
    /// `class` (`None`: no class, so the default one).
    pub fn ephemeral(self, volume: &str, class: Option<&str>) -> Pod {
        let mut spec = json!({"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}});
        if let Some(c) = class {
            spec["storageClassName"] = json!(c);
        }
        self.push_volume(json!({"name": volume, "ephemeral": {"volumeClaimTemplate": {"spec": spec}}}))
    }
    /// Set the field at `path` (array items by index).
    pub fn set(mut self, path: &[&str], v: Value) -> Pod {
        set_path(&mut self.0, path, v);
        self
    }
}

/// A Node (Ready, initialized unless told otherwise) with labels; capacity = allocatable.
#[derive(Debug, Clone)]
pub struct Node(pub Value);

/// A Karpenter-managed node of `pool`, launched as instance type `it` in `zone`/`ct`, initialized.
pub fn managed_node(name: &str, pool: &str, it: &str, zone: &str, ct: &str) -> Node {
    node(name)
        .label(NODEPOOL, pool)
        .label(IT, it)
        .label(ZONE, zone)
        .label(CT, ct)
        .label("karpenter.sh/registered", "true")
        .label("karpenter.sh/initialized", "true")
}

/// A Ready node with only a hostname label and no status resources (it takes them from its type).
pub fn node(name: &str) -> Node {
    Node(json!({
        "apiVersion": "v1", "kind": "Node",
        "metadata": {"name": name, "labels": {HOSTNAME: name}},
        "spec": {},
        "status": {"conditions": [{"type": "Ready", "status": "True"}]},
    }))
}

impl Node {
    pub fn label(mut self, k: &str, v: &str) -> Node {
        self.0["metadata"]["labels"][k] = json!(v);
        self
    }
    pub fn unlabel(mut self, k: &str) -> Node {
        self.0["metadata"]["labels"].as_object_mut().unwrap().remove(k);
        self
    }
    /// Capacity and allocatable (a JSON resource list).
    pub fn resources(mut self, r: Value) -> Node {
        self.0["status"]["capacity"] = r.clone();
        self.0["status"]["allocatable"] = r;
        self
    }
    pub fn allocatable(mut self, r: Value) -> Node {
        self.0["status"]["allocatable"] = r;
        self
    }
    pub fn taint(mut self, key: &str, value: &str, effect: &str) -> Node {
        let s = &mut self.0["spec"];
        if s.get("taints").is_none() {
            s["taints"] = json!([]);
        }
        s["taints"].as_array_mut().unwrap().push(json!({"key": key, "value": value, "effect": effect}));
        self
    }
    /// Not initialized (in flight): Karpenter's `initialized` label is false.
    pub fn uninitialized(self) -> Node {
        self.label("karpenter.sh/initialized", "false")
    }
    pub fn not_ready(mut self) -> Node {
        self.0["status"]["conditions"] = json!([{"type": "Ready", "status": "False"}]);
        self
    }
    pub fn deleting(mut self, ts: &str) -> Node {
        self.0["metadata"]["deletionTimestamp"] = json!(ts);
        self
    }
    pub fn annotation(mut self, k: &str, v: &str) -> Node {
        let m = &mut self.0["metadata"];
        if m.get("annotations").is_none() {
            m["annotations"] = json!({});
        }
        m["annotations"][k] = json!(v);
        self
    }
    pub fn created(mut self, ts: &str) -> Node {
        self.0["metadata"]["creationTimestamp"] = json!(ts);
        self
    }
}

/// A DaemonSet in `default` whose pod template is `template` (a [`Pod`]'s spec and labels).
pub fn daemonset(name: &str, template: Pod) -> Value {
    let mut spec = template.0["spec"].clone();
    spec.as_object_mut().unwrap().remove("nodeName");
    let labels = template.0["metadata"]["labels"].clone();
    json!({
        "apiVersion": "apps/v1", "kind": "DaemonSet",
        "metadata": {"name": name, "namespace": "default"},
        "spec": {"selector": {"matchLabels": {"ds": name}}, "template": {"metadata": {"labels": labels}, "spec": spec}},
    })
}

/// A PodDisruptionBudget in `default` over pods with these labels; `rule` is `{"maxUnavailable": ..}` or `{"minAvailable": ..}`.
pub fn pdb(name: &str, sel: &[(&str, &str)], rule: Value) -> Value {
    let mut spec = json!({"selector": labels_sel(sel)});
    for (k, v) in rule.as_object().unwrap() {
        spec[k] = v.clone();
    }
    json!({"apiVersion": "policy/v1", "kind": "PodDisruptionBudget", "metadata": {"name": name, "namespace": "default"}, "spec": spec})
}

pub fn nodeclass(name: &str) -> Value {
    json!({"apiVersion": "karpenter.k8s.aws/v1", "kind": "EC2NodeClass", "metadata": {"name": name}, "spec": {"amiFamily": "AL2023"}})
}

impl From<NodePool> for Value {
    fn from(v: NodePool) -> Value {
        v.0
    }
}
impl From<Pod> for Value {
    fn from(v: Pod) -> Value {
        v.0
    }
}
impl From<Node> for Value {
    fn from(v: Node) -> Value {
        v.0
    }
}


// ---------------------------------------------------------------- storage (`pkg/test/storage.go`)

/// `test.PersistentVolumeClaim` in `default`: a claim of `class` (`None`: no class set), bound to
/// `volume` when given (then annotated `pv.kubernetes.io/bind-completed`, as the helper does, and
/// `Bound`); otherwise `Pending`, as the API server shows a new claim.
pub fn pvc(name: &str, class: Option<&str>, volume: Option<&str>) -> Value {
    let mut v = json!({
        "apiVersion": "v1", "kind": "PersistentVolumeClaim",
        "metadata": {"name": name, "namespace": "default"},
        "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}},
        "status": {"phase": "Pending"},
    });
    if let Some(c) = class {
        v["spec"]["storageClassName"] = json!(c);
    }
    if let Some(pv) = volume {
        v["spec"]["volumeName"] = json!(pv);
        v["metadata"]["annotations"] = json!({"pv.kubernetes.io/bind-completed": "yes"});
        v["status"]["phase"] = json!("Bound");
    }
    v
}

/// `test.PersistentVolume`: a CSI volume of driver `test.driver` (the source and node affinity set
/// by the builders below).
#[derive(Debug, Clone)]
pub struct Pv(pub Value);

pub fn pv(name: &str) -> Pv {
    Pv(json!({
        "apiVersion": "v1", "kind": "PersistentVolume",
        "metadata": {"name": name},
        "spec": {"csi": {"driver": "test.driver", "volumeHandle": "test-handle"}, "accessModes": ["ReadWriteOnce"], "capacity": {"storage": "100Gi"}},
    }))
}

impl Pv {
    /// One node-selector term with the zones (`PersistentVolumeOptions.Zones`).
    pub fn zones(self, zones: &[&str]) -> Pv {
        self.terms(vec![vec![expr(ZONE, "In", zones)]])
    }
    /// Node-affinity terms (OR-ed), each a list of expressions.
    pub fn terms(mut self, terms: Vec<Vec<Value>>) -> Pv {
        let t: Vec<Value> = terms.into_iter().map(|e| json!({"matchExpressions": e})).collect();
        self.0["spec"]["nodeAffinity"] = json!({"required": {"nodeSelectorTerms": t}});
        self
    }
    pub fn driver(mut self, d: &str) -> Pv {
        self.0["spec"]["csi"]["driver"] = json!(d);
        self
    }
    pub fn class(mut self, c: &str) -> Pv {
        self.0["spec"]["storageClassName"] = json!(c);
        self
    }
    /// Replace the CSI source by another (`local`, `hostPath`, `nfs`, `awsElasticBlockStore`).
    pub fn source(mut self, kind: &str, v: Value) -> Pv {
        let spec = self.0["spec"].as_object_mut().unwrap();
        spec.remove("csi");
        spec.insert(kind.to_string(), v);
        self
    }
    pub fn local(self) -> Pv {
        self.source("local", json!({"path": "/mnt/local-disks"}))
    }
    pub fn host_path(self) -> Pv {
        self.source("hostPath", json!({"path": "/mnt/local-disks"}))
    }
    pub fn deleting(mut self) -> Pv {
        self.0["metadata"]["deletionTimestamp"] = json!("2026-01-01T00:00:00Z");
        self
    }
}

impl From<Pv> for Value {
    fn from(v: Pv) -> Value {
        v.0
    }
}

/// `test.StorageClass`: provisioner `test-provisioner` unless given, `WaitForFirstConsumer` when
/// `wait`, else the API's default (`Immediate`); one allowed-topology term of `zones` when given.
pub fn storage_class(name: &str, provisioner: Option<&str>, wait: bool, zones: Option<&[&str]>) -> Value {
    let mut v = json!({
        "apiVersion": "storage.k8s.io/v1", "kind": "StorageClass",
        "metadata": {"name": name},
        "provisioner": provisioner.unwrap_or("test-provisioner"),
        "volumeBindingMode": if wait { "WaitForFirstConsumer" } else { "Immediate" },
    });
    if let Some(z) = zones {
        v["allowedTopologies"] = json!([{"matchLabelExpressions": [{"key": ZONE, "values": z}]}]);
    }
    v
}

/// A StorageClass with these allowed-topology terms (OR-ed), each `(key, values)` pairs AND-ed.
pub fn storage_class_terms(name: &str, terms: &[&[(&str, &[&str])]]) -> Value {
    let mut v = storage_class(name, None, true, None);
    v["allowedTopologies"] = json!(terms
        .iter()
        .map(|t| json!({"matchLabelExpressions": t.iter().map(|(k, vs)| json!({"key": k, "values": vs})).collect::<Vec<_>>()}))
        .collect::<Vec<_>>());
    v
}

/// Mark a StorageClass the default (`storageclass.kubernetes.io/is-default-class`), created at `ts`.
pub fn default_class(mut sc: Value, ts: &str) -> Value {
    sc["metadata"]["annotations"] = json!({"storageclass.kubernetes.io/is-default-class": "true"});
    sc["metadata"]["creationTimestamp"] = json!(ts);
    sc
}

/// A CSINode for `node` with a volume limit per driver.
pub fn csi_node(node: &str, limits: &[(&str, i32)]) -> Value {
    let drivers: Vec<Value> =
        limits.iter().map(|(d, n)| json!({"name": d, "nodeID": "fake-node-id", "allocatable": {"count": n}})).collect();
    json!({"apiVersion": "storage.k8s.io/v1", "kind": "CSINode", "metadata": {"name": node}, "spec": {"drivers": drivers}})
}
