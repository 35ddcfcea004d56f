//! The test environment of Karpenter's suites, in karpsim's inputs: the fake cloud provider's
//! instance types as a custom catalog (`pkg/cloudprovider/fake/instancetype.go`), Karpenter's test
//! objects (`pkg/test`) as Kubernetes JSON documents, and what `ExpectScheduled` and friends look
//! at, read from karpsim's results.
//!
//! Differences from the fake provider, each harmless for the cases ported:
//! * the fake types run `darwin`, `linux` and `windows` at once (a multi-valued `kubernetes.io/os`
//!   requirement, which a catalog label cannot say); here they carry no OS label, so any OS a pod
//!   asks for is accepted and a NodeClaim narrows to one, as with the fake types;
//! * the fake provider registers `size`, `special` and `integer` as well-known labels; a custom
//!   catalog's label keys are well-known in karpsim, to the same effect.
#![allow(dead_code)]

use karpsim::catalog::{CatalogSource, parse_custom_catalog};
use karpsim::io::Inputs;
use karpsim::scheduling::{NodeClaimResult, ProvisionOptions, ProvisionResult, provision};
use karpsim::state::ClusterState;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::sync::Arc;

/// Names the Karpenter test a conformance test ports: the Go file under `pkg/controllers/` and the
/// Ginkgo path (`Describe > Context > It`) at kubernetes-sigs/karpenter v1.14.1. The suite's
/// manifest test reads these.
macro_rules! ports {
    ($file:expr, $path:literal) => {
        let _: (&str, &str) = ($file, $path);
    };
}
pub(crate) use ports;

pub const GI: f64 = 1073741824.0;

pub const ZONE: &str = "topology.kubernetes.io/zone";
pub const HOSTNAME: &str = "kubernetes.io/hostname";
pub const ARCH: &str = "kubernetes.io/arch";
pub const OS: &str = "kubernetes.io/os";
pub const CT: &str = "karpenter.sh/capacity-type";
pub const IT: &str = "node.kubernetes.io/instance-type";
pub const NODEPOOL: &str = "karpenter.sh/nodepool";
pub const SPOT: &str = "spot";
pub const OD: &str = "on-demand";
pub const VENDOR_A: &str = "fake.com/vendor-a";
pub const VENDOR_B: &str = "fake.com/vendor-b";

// ---------------------------------------------------------------- instance types

/// One offering: zone, capacity type, price, available.
#[derive(Debug, Clone)]
pub struct Off {
    pub zone: String,
    pub ct: String,
    pub price: f64,
    pub available: bool,
}

/// A fake instance type (`fake.NewInstanceType`).
#[derive(Debug, Clone)]
pub struct Ty {
    pub name: String,
    pub cpu: f64,
    pub mem_bytes: f64,
    /// Capacity as written (cpu, memory, pods and extended resources).
    pub capacity: BTreeMap<String, String>,
    pub labels: BTreeMap<String, String>,
    /// `None`: the fake defaults (spot in zones 1–2, on-demand in zones 1–3, at the resource price).
    pub offerings: Option<Vec<Off>>,
}

/// `PriceFromResources`: 0.1 per core, 0.1 per 10⁹ bytes of memory, 1.0 per GPU vendor resource.
pub fn price_from_resources(cpu: f64, mem_bytes: f64, gpus: usize) -> f64 {
    0.1 * cpu + 0.1 * mem_bytes / 1e9 + gpus as f64
}

/// `fake.NewInstanceType(name)`: 4 cpu, 4Gi, 5 pods, amd64, default offerings.
pub fn ty(name: &str) -> Ty {
    let mut t = Ty { name: name.into(), cpu: 4.0, mem_bytes: 4.0 * GI, capacity: BTreeMap::new(), labels: BTreeMap::new(), offerings: None };
    t.capacity.insert("cpu".into(), "4".into());
    t.capacity.insert("memory".into(), "4Gi".into());
    t.capacity.insert("pods".into(), "5".into());
    t.labels.insert(ARCH.into(), "amd64".into());
    t
}

impl Ty {
    pub fn cpu(mut self, cores: u32) -> Ty {
        self.cpu = f64::from(cores);
        self.capacity.insert("cpu".into(), cores.to_string());
        self
    }
    pub fn mem_gi(mut self, gi: u32) -> Ty {
        self.mem_bytes = f64::from(gi) * GI;
        self.capacity.insert("memory".into(), format!("{gi}Gi"));
        self
    }
    pub fn pods(mut self, n: u32) -> Ty {
        self.capacity.insert("pods".into(), n.to_string());
        self
    }
    pub fn resource(mut self, k: &str, v: &str) -> Ty {
        self.capacity.insert(k.into(), v.into());
        self
    }
    pub fn arch(self, a: &str) -> Ty {
        self.label(ARCH, a)
    }
    pub fn os(self, o: &str) -> Ty {
        self.label(OS, o)
    }
    pub fn label(mut self, k: &str, v: &str) -> Ty {
        self.labels.insert(k.into(), v.into());
        self
    }
    /// Offerings at the resource price.
    pub fn offers(mut self, o: &[(&str, &str)]) -> Ty {
        let p = self.price();
        self.offerings = Some(o.iter().map(|(z, c)| Off { zone: z.to_string(), ct: c.to_string(), price: p, available: true }).collect());
        self
    }
    /// Offerings with their prices.
    pub fn offers_at(mut self, o: &[(&str, &str, f64)]) -> Ty {
        self.offerings = Some(o.iter().map(|(z, c, p)| Off { zone: z.to_string(), ct: c.to_string(), price: *p, available: true }).collect());
        self
    }
    pub fn unavailable(mut self, zone: &str, ct: &str) -> Ty {
        let mut offs = self.all_offerings();
        for o in &mut offs {
            if o.zone == zone && o.ct == ct {
                o.available = false;
            }
        }
        self.offerings = Some(offs);
        self
    }
    /// The fake price of the type's resources.
    pub fn price(&self) -> f64 {
        let gpus = [VENDOR_A, VENDOR_B].iter().filter(|k| self.capacity.contains_key(**k)).count();
        price_from_resources(self.cpu, self.mem_bytes, gpus)
    }
    pub fn all_offerings(&self) -> Vec<Off> {
        self.offerings.clone().unwrap_or_else(|| {
            let p = self.price();
            [("test-zone-1", SPOT), ("test-zone-2", SPOT), ("test-zone-1", OD), ("test-zone-2", OD), ("test-zone-3", OD)]
                .iter()
                .map(|(z, c)| Off { zone: z.to_string(), ct: c.to_string(), price: p, available: true })
                .collect()
        })
    }

    fn to_json(&self) -> Value {
        let mut labels = self.labels.clone();
        // size/special/integer (`NewInstanceType`): large and optional above 4 cpu and 8Gi
        let large = self.cpu > 4.0 && self.mem_bytes > 8.0 * GI;
        labels.entry("size".into()).or_insert_with(|| if large { "large" } else { "small" }.into());
        if large {
            labels.entry("special".into()).or_insert_with(|| "optional".into());
        }
        labels.entry("integer".into()).or_insert_with(|| format!("{}", self.cpu as i64));
        json!({
            "name": self.name,
            "capacity": self.capacity,
            "overhead": {"cpu": "100m", "memory": "10Mi"},
            "labels": labels,
            "offerings": self.all_offerings().iter().map(|o| json!({"zone": o.zone, "capacity_type": o.ct, "price": o.price, "available": o.available})).collect::<Vec<_>>(),
        })
    }
}

/// The default catalog of the fake provider (`GetInstanceTypes` with no override).
pub fn default_types() -> Vec<Ty> {
    vec![
        ty("default-instance-type"),
        ty("small-instance-type").cpu(2).mem_gi(2),
        ty("gpu-vendor-instance-type").resource(VENDOR_A, "2"),
        ty("gpu-vendor-b-instance-type").resource(VENDOR_B, "2"),
        ty("arm-instance-type").arch("arm64").cpu(16).mem_gi(128),
        ty("single-pod-instance-type").pods(1),
    ]
}

/// `fake.InstanceTypes(n)`: `fake-it-i` with i+1 cpu, 2(i+1) Gi, 10(i+1) pods.
pub fn instance_types(n: u32) -> Vec<Ty> {
    (0..n).map(|i| ty(&format!("fake-it-{i}")).cpu(i + 1).mem_gi(2 * (i + 1)).pods(10 * (i + 1))).collect()
}

/// `fake.InstanceTypesAssorted()`: cpu × memory × zone × capacity type × os × arch, one offering each.
pub fn assorted_types() -> Vec<Ty> {
    let mut out = Vec::new();
    for cpu in [1u32, 2, 4, 8, 16, 32, 64] {
        for mem in [1u32, 2, 4, 8, 16, 32, 64, 128] {
            for zone in ["test-zone-1", "test-zone-2", "test-zone-3"] {
                for ct in [SPOT, OD] {
                    for os in ["linux", "windows"] {
                        for arch in ["amd64", "arm64"] {
                            let t = ty(&format!("{cpu}-cpu-{mem}-mem-{arch}-{os}-{zone}-{ct}")).cpu(cpu).mem_gi(mem).arch(arch).os(os);
                            out.push(t.clone().offers(&[(zone, ct)]));
                        }
                    }
                }
            }
        }
    }
    out
}

pub fn catalog_json(types: &[Ty]) -> String {
    json!({"instance_types": types.iter().map(Ty::to_json).collect::<Vec<_>>()}).to_string()
}

// ---------------------------------------------------------------- objects

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
    pub fn replicas(mut self, n: i64) -> NodePool {
        self.0["spec"]["replicas"] = json!(n);
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

// ---------------------------------------------------------------- environment

/// Karpenter's test environment: a catalog, the objects applied, the scheduler options (the test
/// harness's `MaxInstanceTypes = 60` is karpsim's default).
pub struct Env {
    pub types: Vec<Ty>,
    pub objs: Vec<Value>,
    pub opts: ProvisionOptions,
}

impl Env {
    /// The fake provider's default catalog.
    pub fn new() -> Env {
        Env::with_types(default_types())
    }
    pub fn with_types(types: Vec<Ty>) -> Env {
        Env { types, objs: Vec::new(), opts: ProvisionOptions::default() }
    }
    /// `ExpectApplied`.
    pub fn apply(&mut self, v: impl Into<Value>) -> &mut Env {
        self.objs.push(v.into());
        self
    }
    pub fn apply_all<T: Into<Value>>(&mut self, vs: impl IntoIterator<Item = T>) -> &mut Env {
        for v in vs {
            self.objs.push(v.into());
        }
        self
    }
    /// The object of this kind and name (panics when absent).
    #[track_caller]
    pub fn get(&mut self, kind: &str, name: &str) -> &mut Value {
        self.objs.iter_mut().find(|o| o["kind"] == kind && o["metadata"]["name"] == name).unwrap_or_else(|| panic!("no {kind} {name}"))
    }
    /// `ExpectDeleted`: remove the object of this kind and name.
    pub fn delete(&mut self, kind: &str, name: &str) -> &mut Env {
        self.objs.retain(|o| !(o["kind"] == kind && o["metadata"]["name"] == name));
        self
    }
    /// The cluster after `ExpectProvisioned` and the state controllers caught up: every NodeClaim
    /// of `out` is an in-flight node (registered, not initialized; the fake provider's
    /// `NodeClaimLinkedNode`: its NodeClaim's labels, taints and startup taints, and the
    /// `karpenter.sh/unregistered` taint) holding its pods. Returns the nodes' names, in NodeClaim
    /// order (`{nodeclaim}-{round}`, so that later rounds' NodeClaims do not clash).
    pub fn launch(&mut self, out: &Outcome) -> Vec<String> {
        let round = self.objs.iter().filter(|o| o["kind"] == "Node").count();
        let mut names = Vec::new();
        for c in &out.r.nodeclaims {
            let name = format!("{}-n{}", c.name, round + names.len());
            let placed = out.node(&c.pods[0]).unwrap();
            let pool = self.objs.iter().find(|o| o["kind"] == "NodePool" && o["metadata"]["name"] == c.nodepool.as_str()).cloned().unwrap();
            let mut n = node(&name).label("karpenter.sh/registered", "true").label("karpenter.sh/initialized", "false");
            for (k, v) in &placed.labels {
                n = n.label(k, v);
            }
            let spec = &pool["spec"]["template"]["spec"];
            for field in ["taints", "startupTaints"] {
                for t in spec[field].as_array().into_iter().flatten() {
                    n = n.taint(t["key"].as_str().unwrap(), t["value"].as_str().unwrap_or(""), t["effect"].as_str().unwrap());
                }
            }
            n = n.taint("karpenter.sh/unregistered", "", "NoExecute");
            self.objs.push(n.0);
            for p in &c.pods {
                let pod_name = p.split_once('/').map_or(p.as_str(), |(_, n)| n).to_string();
                let obj = self.get("Pod", &pod_name);
                *obj = Pod(obj.clone()).on(&name).0;
            }
            names.push(name);
        }
        names
    }
    pub fn state(&self) -> ClusterState {
        let mut inputs = Inputs::new();
        let list = json!({"apiVersion": "v1", "kind": "List", "items": self.objs});
        inputs.load_value(list, "test").unwrap_or_else(|e| panic!("{e}"));
        let inputs = inputs.finish().unwrap_or_else(|e| panic!("{e}"));
        let catalog = parse_custom_catalog("fake", &catalog_json(&self.types)).unwrap_or_else(|e| panic!("{e}"));
        ClusterState::from_inputs(inputs, &CatalogSource::Custom(Arc::new(catalog))).unwrap_or_else(|e| panic!("{e}"))
    }
    /// `ExpectProvisioned`: one provisioning run over the pending pods.
    pub fn provision(&self) -> Outcome {
        let state = self.state();
        let r = provision(&state, &self.opts);
        Outcome { r, state }
    }
    /// One provisioning run over `base` (a state of this environment, built once) with these pods
    /// added: for cases that run many times against the same cluster.
    pub fn provision_with(&self, base: &ClusterState, pods: &[Pod]) -> Outcome {
        let mut inputs = Inputs::new();
        let list = json!({"apiVersion": "v1", "kind": "List", "items": pods.iter().map(|p| p.0.clone()).collect::<Vec<_>>()});
        inputs.load_value(list, "pods").unwrap_or_else(|e| panic!("{e}"));
        let mut state = base.clone();
        state.pods.extend(inputs.finish().unwrap_or_else(|e| panic!("{e}")).pods);
        let r = provision(&state, &self.opts);
        Outcome { r, state }
    }
}

/// Where a pod went: a new NodeClaim (what the fake provider would launch) or an existing node.
#[derive(Debug, Clone)]
pub struct Placed<'a> {
    pub name: String,
    /// The node's labels: for a NodeClaim, its single-valued requirements, the launched type's
    /// labels, zone and capacity type (the fake provider's node labels).
    pub labels: BTreeMap<String, String>,
    pub claim: Option<&'a NodeClaimResult>,
}

impl Placed<'_> {
    pub fn label(&self, k: &str) -> Option<&str> {
        self.labels.get(k).map(String::as_str)
    }
    #[track_caller]
    pub fn has(&self, k: &str, v: &str) {
        assert_eq!(self.label(k), Some(v), "{} labels {:?}", self.name, self.labels);
    }
    pub fn instance_type(&self) -> &str {
        self.label(IT).unwrap_or("")
    }
    pub fn price(&self) -> f64 {
        self.claim.map(|c| c.price_per_hour).unwrap_or(0.0)
    }
    /// The NodeClaim's instance-type options (a new NodeClaim only).
    #[track_caller]
    pub fn options(&self) -> &[String] {
        &self.claim.expect("a new NodeClaim").instance_type_options
    }
    /// A NodeClaim requirement line for `key` (`In [a, b]`).
    pub fn requirement(&self, key: &str) -> Option<&str> {
        self.claim?.requirements.iter().find_map(|r| r.strip_prefix(key).and_then(|s| s.strip_prefix(' ')))
    }
}

pub struct Outcome {
    pub r: ProvisionResult,
    pub state: ClusterState,
}

/// `key In [v]` lines of a NodeClaim's requirements, as labels.
fn single_valued(lines: &[String]) -> BTreeMap<String, String> {
    lines
        .iter()
        .filter_map(|l| {
            let (k, rest) = l.split_once(' ')?;
            let v = rest.strip_prefix("In [")?.strip_suffix(']')?;
            (!v.contains(", ")).then(|| (k.to_string(), v.to_string()))
        })
        .collect()
}

impl Outcome {
    fn key(pod: &str) -> String {
        if pod.contains('/') { pod.to_string() } else { format!("default/{pod}") }
    }
    /// Where the pod went (`None`: pending).
    pub fn node(&self, pod: &str) -> Option<Placed<'_>> {
        let key = Outcome::key(pod);
        if let Some(c) = self.r.nodeclaims.iter().find(|c| c.pods.contains(&key)) {
            let mut labels = single_valued(&c.requirements);
            if let Some(it) = self.state.pool_types.values().flat_map(|pt| pt.types.iter()).find(|t| t.it.name.as_str() == c.instance_type) {
                for (k, v) in &it.it.labels {
                    if let Some(v) = v {
                        labels.insert(k.to_string(), v.to_string());
                    }
                }
            }
            labels.insert(IT.into(), c.instance_type.clone());
            labels.insert(ZONE.into(), c.zone.clone());
            labels.insert(CT.into(), c.capacity_type.clone());
            labels.insert(NODEPOOL.into(), c.nodepool.clone());
            return Some(Placed { name: c.name.clone(), labels, claim: Some(c) });
        }
        let n = self.r.existing_nodes.iter().find(|n| n.pods.contains(&key))?;
        let node = self.state.nodes.iter().find(|x| x.name.as_str() == n.name)?;
        let labels = node.labels.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        Some(Placed { name: n.name.clone(), labels, claim: None })
    }
    /// `ExpectScheduled`.
    #[track_caller]
    pub fn scheduled(&self, pod: &str) -> Placed<'_> {
        self.node(pod).unwrap_or_else(|| panic!("{pod} not scheduled: {:#?}", self.r))
    }
    /// `ExpectNotScheduled`.
    #[track_caller]
    pub fn not_scheduled(&self, pod: &str) {
        assert!(self.node(pod).is_none(), "{pod} scheduled: {:#?}", self.r);
    }
    /// Why a pod stayed pending.
    #[track_caller]
    pub fn reason(&self, pod: &str) -> &str {
        let key = Outcome::key(pod);
        self.r.unschedulable.iter().find(|u| u.pod == key).map(|u| u.reason.as_str()).unwrap_or_else(|| panic!("{pod} has no reason: {:#?}", self.r))
    }
    /// New NodeClaims launched.
    pub fn claims(&self) -> usize {
        self.r.nodeclaims.len()
    }
    /// Distinct nodes (new or existing) the pods went to.
    #[track_caller]
    pub fn nodes_of(&self, pods: &[String]) -> std::collections::BTreeSet<String> {
        pods.iter().map(|p| self.scheduled(p).name).collect()
    }
    /// For each label value, how many of `pods` went to nodes carrying it (`ExpectSkew`); pending
    /// pods are not counted.
    pub fn skew(&self, pods: &[String], key: &str) -> Vec<usize> {
        let mut counts: BTreeMap<String, usize> = BTreeMap::new();
        for p in pods {
            if let Some(n) = self.node(p)
                && let Some(v) = n.label(key)
            {
                *counts.entry(v.to_string()).or_default() += 1;
            }
        }
        let mut v: Vec<usize> = counts.into_values().collect();
        v.sort();
        v
    }
}

impl Outcome {
    /// `ExpectSkew`: the scheduled pods of namespace `default` that `sel` selects (`None`: all),
    /// bound before this run or placed by it, counted by their node's value for `key` (the node's
    /// name for hostnames), sorted. Terminal, terminating and pending pods do not count.
    pub fn skew_all(&self, sel: Option<&[(&str, &str)]>, key: &str) -> Vec<usize> {
        let mut counts: BTreeMap<String, usize> = BTreeMap::new();
        for p in self.state.pods.iter().filter(|p| p.namespace.as_str() == "default" && p.is_active()) {
            if let Some(sel) = sel
                && !sel.iter().all(|(k, v)| p.labels.iter().any(|(pk, pv)| pk.as_str() == *k && pv.as_str() == *v))
            {
                continue;
            }
            let domain = match p.node_name {
                Some(n) => {
                    let Some(node) = self.state.nodes.iter().find(|x| x.name == n) else { continue };
                    if key == HOSTNAME { Some(n.to_string()) } else { node.labels.iter().find(|(k, _)| k.as_str() == key).map(|(_, v)| v.to_string()) }
                }
                None => match self.node(&p.key()) {
                    Some(placed) if key == HOSTNAME => Some(placed.name.clone()),
                    Some(placed) => placed.label(key).map(str::to_string),
                    None => None,
                },
            };
            if let Some(d) = domain {
                *counts.entry(d).or_default() += 1;
            }
        }
        let mut v: Vec<usize> = counts.into_values().collect();
        v.sort();
        v
    }
}

/// A pending pod kube-scheduler has not marked unschedulable (no conditions): not Karpenter's.
pub fn plain_pod(name: &str) -> Pod {
    pod(name).set(&["status"], json!({"phase": "Pending"}))
}

/// Names of pods.
pub fn names(pods: &[Pod]) -> Vec<String> {
    pods.iter().map(Pod::name).collect()
}
