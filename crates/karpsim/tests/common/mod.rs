//! Shared helpers for the provisioning tests: small exact catalogs shaped like Karpenter's fake
//! cloud provider (`pkg/cloudprovider/fake/instancetype.go`, design §8.1), YAML snippets for pods,
//! NodePools and Nodes, and `run`.
#![allow(dead_code)]

use karpsim::catalog::parse_custom_catalog;
use karpsim::io::Inputs;
use karpsim::scheduling::{NodeClaimResult, ProvisionOptions, ProvisionResult, provision};
use karpsim::state::ClusterState;
use std::sync::Arc;

pub const GI: f64 = 1024.0 * 1024.0 * 1024.0;

/// One instance type of a test catalog.
#[derive(Clone)]
pub struct It {
    pub name: String,
    pub cpu: String,
    pub memory: String,
    pub pods: u32,
    pub extra: Vec<(String, String)>,
    pub labels: Vec<(String, String)>,
    /// (zone, capacity type, price, available)
    pub offerings: Vec<(String, String, f64, bool)>,
}

/// Karpenter's `PriceFromResources`: 0.1 per core + 0.1 per 10⁹ bytes of memory.
pub fn fake_price(cpu: f64, mem_gi: f64) -> f64 {
    0.1 * cpu + 0.1 * mem_gi * GI / 1e9
}

/// A type like `fake.NewInstanceType`: offerings spot in zones 1–2, on-demand in zones 1–3, all at
/// the same price; arch amd64; overhead 100m cpu / 10Mi memory.
pub fn it(name: &str, cpu: u32, mem_gi: u32, pods: u32) -> It {
    let price = fake_price(cpu as f64, mem_gi as f64);
    let size = if cpu > 4 && mem_gi > 8 { "large" } else { "small" };
    It {
        name: name.into(),
        cpu: cpu.to_string(),
        memory: format!("{mem_gi}Gi"),
        pods,
        extra: vec![],
        labels: vec![
            ("kubernetes.io/arch".into(), "amd64".into()),
            ("kubernetes.io/os".into(), "linux".into()),
            ("size".into(), size.into()),
        ],
        offerings: vec![
            ("test-zone-1".into(), "spot".into(), price, true),
            ("test-zone-2".into(), "spot".into(), price, true),
            ("test-zone-1".into(), "on-demand".into(), price, true),
            ("test-zone-2".into(), "on-demand".into(), price, true),
            ("test-zone-3".into(), "on-demand".into(), price, true),
        ],
    }
}

impl It {
    pub fn label(mut self, k: &str, v: &str) -> It {
        self.labels.retain(|(kk, _)| kk != k);
        self.labels.push((k.into(), v.into()));
        self
    }
    pub fn resource(mut self, k: &str, v: &str) -> It {
        self.extra.push((k.into(), v.into()));
        self
    }
    /// Replace the offerings.
    pub fn offers(mut self, o: &[(&str, &str, f64)]) -> It {
        self.offerings = o.iter().map(|(z, c, p)| (z.to_string(), c.to_string(), *p, true)).collect();
        self
    }
    /// Set every offering's price.
    pub fn price(mut self, p: f64) -> It {
        for o in &mut self.offerings {
            o.2 = p;
        }
        self
    }
    pub fn unavailable(mut self, zone: &str, ct: &str) -> It {
        for o in &mut self.offerings {
            if o.0 == zone && o.1 == ct {
                o.3 = false;
            }
        }
        self
    }
}

pub fn catalog(types: &[It]) -> String {
    let ts: Vec<serde_json::Value> = types
        .iter()
        .map(|t| {
            let mut cap = serde_json::Map::new();
            cap.insert("cpu".into(), t.cpu.clone().into());
            cap.insert("memory".into(), t.memory.clone().into());
            cap.insert("pods".into(), t.pods.to_string().into());
            for (k, v) in &t.extra {
                cap.insert(k.clone(), v.clone().into());
            }
            let labels: serde_json::Map<String, serde_json::Value> = t.labels.iter().map(|(k, v)| (k.clone(), v.clone().into())).collect();
            let offerings: Vec<serde_json::Value> = t
                .offerings
                .iter()
                .map(|(z, c, p, a)| serde_json::json!({"zone": z, "capacity_type": c, "price": p, "available": a}))
                .collect();
            serde_json::json!({"name": t.name, "capacity": cap, "overhead": {"cpu": "100m", "memory": "10Mi"}, "labels": labels, "offerings": offerings})
        })
        .collect();
    serde_json::json!({ "instance_types": ts }).to_string()
}

/// Karpenter's default fake catalog subset without GPUs: default (4 cpu/4Gi), small (2/2Gi),
/// arm (16/128Gi, arm64), single-pod (4/4Gi, 1 pod).
pub fn default_catalog() -> String {
    catalog(&[
        it("default-instance-type", 4, 4, 5),
        it("small-instance-type", 2, 2, 5),
        it("arm-instance-type", 16, 128, 5).label("kubernetes.io/arch", "arm64"),
        it("single-pod-instance-type", 4, 4, 1),
    ])
}

/// Read YAML (named `test.yaml` in errors) and finish the inputs.
pub fn load(text: &str) -> karpsim::Result<Inputs> {
    let mut i = Inputs::new();
    i.load_str(text, "test.yaml")?;
    i.finish()
}

/// The error reading `text` gives (panics if it reads).
#[track_caller]
pub fn load_err(text: &str) -> String {
    match load(text) {
        Ok(_) => panic!("expected an error for:\n{text}"),
        Err(e) => e.to_string(),
    }
}

#[track_caller]
pub fn assert_names(e: &str, parts: &[&str]) {
    for p in parts {
        assert!(e.contains(p), "{p:?} missing from: {e}");
    }
}

pub fn state(catalog_json: &str, yaml: &str) -> ClusterState {
    let cat = Arc::new(parse_custom_catalog("test-catalog", catalog_json).expect("catalog"));
    let mut i = Inputs::new();
    i.load_str(yaml, "test.yaml").unwrap_or_else(|e| panic!("{e}\n{yaml}"));
    let i = i.finish().unwrap_or_else(|e| panic!("{e}\n{yaml}"));
    let mut s = ClusterState::new(i.nodepools, i.nodeclasses, i.nodes, i.pods, i.daemonsets, i.pdbs, |_| Ok(cat.clone())).expect("state");
    s.namespaces = i.namespaces;
    s
}

/// The state as `karpsim provision` builds it (`ClusterState::from_inputs`: existing nodes take
/// their price, and their capacity when the input gives none, from the catalog).
pub fn state_from_inputs(catalog_json: &str, yaml: &str) -> ClusterState {
    let cat = Arc::new(parse_custom_catalog("test-catalog", catalog_json).expect("catalog"));
    let mut i = Inputs::new();
    i.load_str(yaml, "test.yaml").unwrap_or_else(|e| panic!("{e}\n{yaml}"));
    let i = i.finish().unwrap_or_else(|e| panic!("{e}\n{yaml}"));
    ClusterState::from_inputs(i, &karpsim::catalog::CatalogSource::Custom(cat)).unwrap_or_else(|e| panic!("{e}"))
}

pub fn run_with(catalog_json: &str, yaml: &str, opts: &ProvisionOptions) -> ProvisionResult {
    let s = state(catalog_json, yaml);
    let r = provision(&s, opts);
    check_invariants(&s, &r);
    r
}

pub fn run(catalog_json: &str, yaml: &str) -> ProvisionResult {
    run_with(catalog_json, yaml, &ProvisionOptions::default())
}

/// Every pending input pod Karpenter provisions is placed exactly once or reported with a
/// non-empty reason.
pub fn check_invariants(s: &ClusterState, r: &ProvisionResult) {
    let mut seen: Vec<String> = Vec::new();
    for nc in &r.nodeclaims {
        seen.extend(nc.pods.iter().cloned());
    }
    for n in &r.existing_nodes {
        seen.extend(n.pods.iter().cloned());
    }
    for u in &r.unschedulable {
        assert!(!u.reason.trim().is_empty(), "empty reason for {}", u.pod);
        seen.push(u.pod.clone());
    }
    // the pods Karpenter provisions (the others are counted in a warning)
    let mut pending: Vec<String> = karpsim::scheduling::pending_pods(s, &mut Vec::new()).iter().map(|p| p.key()).collect();
    pending.sort();
    seen.sort();
    assert_eq!(seen, pending, "every pending pod placed once or unschedulable: {r:#?}");
}

// ---------- YAML snippets ----------

/// A NodePool; `extra_spec` is YAML for `template.spec` beyond requirements (indented 6 spaces),
/// `reqs` are requirement lines like `{key: k, operator: In, values: [a]}`.
pub fn pool(name: &str, reqs: &[&str]) -> String {
    pool_full(name, 0, reqs, "", "", "")
}

/// `labels` / `limits` are flow maps (`{a: b}`) or empty; `spec_extra` lines go under `template.spec`
/// at 6 spaces of indentation.
pub fn pool_full(name: &str, weight: i32, reqs: &[&str], labels: &str, limits: &str, spec_extra: &str) -> String {
    let mut s = format!("---\napiVersion: karpenter.sh/v1\nkind: NodePool\nmetadata: {{name: {name}}}\nspec:\n");
    if weight != 0 {
        s += &format!("  weight: {weight}\n");
    }
    if !limits.is_empty() {
        s += &format!("  limits: {limits}\n");
    }
    s += "  template:\n";
    if !labels.is_empty() {
        s += &format!("    metadata: {{labels: {labels}}}\n");
    }
    s += "    spec:\n      nodeClassRef: {group: karpenter.k8s.aws, kind: EC2NodeClass, name: default}\n";
    if reqs.is_empty() {
        s += "      requirements: []\n";
    } else {
        s += "      requirements:\n";
        for r in reqs {
            s += &format!("      - {r}\n");
        }
    }
    s += spec_extra;
    s
}

/// Requirement allowing both capacity types, as Karpenter's scheduling suite does.
pub const ANY_CT: &str = "{key: karpenter.sh/capacity-type, operator: In, values: [spot, on-demand]}";

/// A pending pod in namespace `default`. `spec` lines go under `spec:` at 2 spaces.
pub fn pod(name: &str, cpu: &str, mem: &str, labels: &str, spec: &str) -> String {
    pod_at(name, cpu, mem, labels, spec, "2024-01-01T00:00:00Z")
}

pub fn pod_at(name: &str, cpu: &str, mem: &str, labels: &str, spec: &str, created: &str) -> String {
    let labels = if labels.is_empty() { "{}" } else { labels };
    let mut req = Vec::new();
    if !cpu.is_empty() {
        req.push(format!("cpu: {cpu}"));
    }
    if !mem.is_empty() {
        req.push(format!("memory: {mem}"));
    }
    format!(
        "---\napiVersion: v1\nkind: Pod\nmetadata: {{name: {name}, namespace: default, uid: {name}, creationTimestamp: '{created}', labels: {labels}}}\nspec:\n  containers:\n  - name: c\n    image: x\n    resources: {{requests: {{{}}}}}\n{spec}",
        req.join(", ")
    )
}

/// A pod bound to `node`.
pub fn bound_pod(name: &str, node: &str, cpu: &str, labels: &str, spec: &str) -> String {
    format!("{}  nodeName: {node}\nstatus: {{phase: Running}}\n", pod(name, cpu, "", labels, spec))
}

/// A Node with `labels` (flow map body without braces), capacity = allocatable = `cpu`/`mem`/`pods`.
pub fn node(name: &str, labels: &str, cpu: &str, mem: &str, pods: u32, extra_spec: &str) -> String {
    format!(
        "---\napiVersion: v1\nkind: Node\nmetadata: {{name: {name}, labels: {{kubernetes.io/hostname: {name}, {labels}}}}}\nspec: {{{extra_spec}}}\nstatus:\n  capacity: {{cpu: '{cpu}', memory: {mem}, pods: '{pods}'}}\n  allocatable: {{cpu: '{cpu}', memory: {mem}, pods: '{pods}'}}\n  conditions: [{{type: Ready, status: 'True'}}]\n"
    )
}

/// A DaemonSet whose pod requests `cpu`/`mem`; `spec` lines go under the pod template spec at 6 spaces.
pub fn daemonset(name: &str, cpu: &str, mem: &str, spec: &str) -> String {
    format!(
        "---\napiVersion: apps/v1\nkind: DaemonSet\nmetadata: {{name: {name}, namespace: kube-system}}\nspec:\n  selector: {{matchLabels: {{app: {name}}}}}\n  template:\n    metadata: {{labels: {{app: {name}}}}}\n    spec:\n      containers:\n      - name: c\n        image: x\n        resources: {{requests: {{cpu: {cpu}, memory: {mem}}}}}\n{spec}"
    )
}

// ---------- result accessors ----------

pub fn claim_of<'a>(r: &'a ProvisionResult, pod: &str) -> Option<&'a NodeClaimResult> {
    let key = format!("default/{pod}");
    r.nodeclaims.iter().find(|n| n.pods.contains(&key))
}

#[track_caller]
pub fn claim<'a>(r: &'a ProvisionResult, pod: &str) -> &'a NodeClaimResult {
    claim_of(r, pod).unwrap_or_else(|| panic!("{pod} not on a new NodeClaim: {r:#?}"))
}

pub fn existing_of(r: &ProvisionResult, pod: &str) -> Option<String> {
    let key = format!("default/{pod}");
    r.existing_nodes.iter().find(|n| n.pods.contains(&key)).map(|n| n.name.clone())
}

pub fn reason<'a>(r: &'a ProvisionResult, pod: &str) -> Option<&'a str> {
    let key = format!("default/{pod}");
    r.unschedulable.iter().find(|u| u.pod == key).map(|u| u.reason.as_str())
}

#[track_caller]
pub fn unschedulable<'a>(r: &'a ProvisionResult, pod: &str) -> &'a str {
    reason(r, pod).unwrap_or_else(|| panic!("{pod} expected unschedulable: {r:#?}"))
}

/// Pod names (without namespace) on each NodeClaim, in NodeClaim order.
pub fn layout(r: &ProvisionResult) -> Vec<Vec<String>> {
    r.nodeclaims.iter().map(|n| n.pods.iter().map(|p| p.trim_start_matches("default/").to_string()).collect()).collect()
}

/// The requirement line for `key` on a NodeClaim, e.g. `In [test-zone-1]`.
pub fn req<'a>(nc: &'a NodeClaimResult, key: &str) -> Option<&'a str> {
    nc.requirements.iter().find_map(|r| r.strip_prefix(key).and_then(|s| s.strip_prefix(' ')))
}

pub fn zone_of(r: &ProvisionResult, pod: &str) -> String {
    claim(r, pod).zone.clone()
}
