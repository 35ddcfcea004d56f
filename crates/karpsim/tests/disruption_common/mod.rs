//! Builders for small, exact disruption scenarios: a custom catalog with chosen prices in zones
//! z1..z3, and Kubernetes objects (NodePools, nodes, bound pods, PDBs) as JSON documents.
#![allow(dead_code)]

use karpsim::catalog::{CatalogSource, parse_custom_catalog};
use karpsim::disruption::{Action, Command, DisruptionOptions, DisruptionResult, Method};
use karpsim::io::Inputs;
use karpsim::state::ClusterState;
use serde_json::{Value, json};
use std::sync::Arc;

/// 2026-06-01T12:00:00Z, the simulated "now" of every scenario.
pub const NOW: i64 = 1_780_315_200;
pub const MIN: i64 = 60;
pub const HOUR: i64 = 3600;
pub const DAY: i64 = 86_400;

/// RFC 3339 (UTC) of Unix seconds.
pub fn ts(secs: i64) -> String {
    karpsim::io::format_rfc3339(secs)
}

/// One instance type of a custom catalog.
#[derive(Clone)]
pub struct Ty {
    pub name: String,
    pub cpu: u32,
    pub mem_gi: u32,
    /// (zone, capacity type, price)
    pub offers: Vec<(String, &'static str, f64)>,
}

pub const ZONES: [&str; 3] = ["z1", "z2", "z3"];

/// A type offered on-demand at `od` and spot at `spot` in z1..z3 (`None`: not offered).
pub fn ty(name: &str, cpu: u32, mem_gi: u32, od: Option<f64>, spot: Option<f64>) -> Ty {
    let mut offers = Vec::new();
    for z in ZONES {
        if let Some(p) = od {
            offers.push((z.to_string(), "on-demand", p));
        }
        if let Some(p) = spot {
            offers.push((z.to_string(), "spot", p));
        }
    }
    Ty { name: name.into(), cpu, mem_gi, offers }
}

/// small 2 cpu $0.10, medium 4 cpu $0.20, large 8 cpu $0.40, xlarge 16 cpu $0.80 (on-demand);
/// spot at 40 % of on-demand.
pub fn std_types() -> Vec<Ty> {
    vec![
        ty("small", 2, 4, Some(0.10), Some(0.04)),
        ty("medium", 4, 8, Some(0.20), Some(0.08)),
        ty("large", 8, 16, Some(0.40), Some(0.16)),
        ty("xlarge", 16, 32, Some(0.80), Some(0.32)),
    ]
}

pub fn catalog_json(types: &[Ty]) -> String {
    let its: Vec<Value> = types
        .iter()
        .map(|t| {
            json!({
                "name": t.name,
                "capacity": {"cpu": t.cpu.to_string(), "memory": format!("{}Gi", t.mem_gi), "pods": "110"},
                "offerings": t.offers.iter().map(|(z, ct, p)| json!({"zone": z, "capacity_type": ct, "price": p})).collect::<Vec<_>>(),
            })
        })
        .collect();
    json!({ "instance_types": its }).to_string()
}

/// A scenario under construction.
pub struct World {
    pub types: Vec<Ty>,
    pub objs: Vec<Value>,
}

impl World {
    pub fn new(types: Vec<Ty>) -> World {
        World { types, objs: Vec::new() }
    }

    fn push(&mut self, v: Value) -> &mut Value {
        self.objs.push(v);
        self.objs.last_mut().unwrap()
    }

    /// A NodePool allowing on-demand only, consolidating after 0s, with the given budgets
    /// (e.g. `json!([{"nodes": "100%"}])`). Tweak the returned value for more.
    pub fn pool(&mut self, name: &str, policy: &str, budgets: Value) -> &mut Value {
        self.push(json!({
            "apiVersion": "karpenter.sh/v1", "kind": "NodePool",
            "metadata": {"name": name},
            "spec": {
                "template": {"spec": {
                    "requirements": [{"key": "karpenter.sh/capacity-type", "operator": "In", "values": ["on-demand"]}],
                    "nodeClassRef": {"group": "karpenter.k8s.aws", "kind": "EC2NodeClass", "name": "default"},
                    "expireAfter": "Never",
                }},
                "disruption": {"consolidationPolicy": policy, "consolidateAfter": "0s", "budgets": budgets},
            },
        }))
    }

    /// A Ready, initialized node created a day ago (`pool: None`: not managed by Karpenter).
    pub fn node(&mut self, name: &str, pool: Option<&str>, ty: &str, zone: &str, ct: &str) -> &mut Value {
        let mut labels = json!({
            "kubernetes.io/hostname": name,
            "node.kubernetes.io/instance-type": ty,
            "topology.kubernetes.io/zone": zone,
            "kubernetes.io/os": "linux",
            "kubernetes.io/arch": "amd64",
        });
        if let Some(p) = pool {
            labels["karpenter.sh/nodepool"] = json!(p);
            labels["karpenter.sh/capacity-type"] = json!(ct);
            labels["karpenter.sh/initialized"] = json!("true");
            labels["karpenter.sh/registered"] = json!("true");
            labels["karpenter.k8s.aws/ec2nodeclass"] = json!("default");
        } else {
            labels["eks.amazonaws.com/capacityType"] = json!(if ct == "spot" { "SPOT" } else { "ON_DEMAND" });
        }
        self.push(json!({
            "apiVersion": "v1", "kind": "Node",
            "metadata": {"name": name, "labels": labels, "creationTimestamp": ts(NOW - DAY)},
            "spec": {},
            "status": {"conditions": [{"type": "Ready", "status": "True"}]},
        }))
    }

    /// A Running pod of a ReplicaSet bound to `node`, requesting `cpu_m` millicores and 128Mi,
    /// started an hour ago (`node: None`: pending).
    pub fn pod(&mut self, name: &str, node: Option<&str>, cpu_m: u32) -> &mut Value {
        let mut spec = json!({
            "containers": [{"name": "c", "image": "app", "resources": {"requests": {"cpu": format!("{cpu_m}m"), "memory": "128Mi"}}}],
        });
        let status = match node {
            Some(n) => {
                spec["nodeName"] = json!(n);
                json!({"phase": "Running", "startTime": ts(NOW - HOUR), "conditions": [{"type": "Ready", "status": "True"}]})
            }
            None => json!({"phase": "Pending", "conditions": [{"type": "PodScheduled", "status": "False", "reason": "Unschedulable"}]}),
        };
        self.push(json!({
            "apiVersion": "v1", "kind": "Pod",
            "metadata": {
                "name": name, "namespace": "default", "uid": format!("uid-{name}"),
                "labels": {"app": name},
                "creationTimestamp": ts(NOW - HOUR),
                "ownerReferences": [{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": format!("{name}-rs"), "uid": format!("rs-{name}"), "controller": true}],
            },
            "spec": spec,
            "status": status,
        }))
    }

    /// A DaemonSet pod (owner kind DaemonSet) of DaemonSet `ds` on `node`.
    pub fn ds_pod(&mut self, ds: &str, node: &str, cpu_m: u32) -> &mut Value {
        let name = format!("{ds}-{node}");
        let p = self.pod(&name, Some(node), cpu_m);
        p["metadata"]["ownerReferences"] =
            json!([{"apiVersion": "apps/v1", "kind": "DaemonSet", "name": ds, "uid": format!("ds-{ds}"), "controller": true}]);
        p["metadata"]["labels"] = json!({"app": ds});
        p
    }

    pub fn pdb(&mut self, name: &str, app: &str, spec_extra: Value) -> &mut Value {
        let mut spec = json!({"selector": {"matchLabels": {"app": app}}});
        for (k, v) in spec_extra.as_object().unwrap() {
            spec[k] = v.clone();
        }
        self.push(json!({
            "apiVersion": "policy/v1", "kind": "PodDisruptionBudget",
            "metadata": {"name": name, "namespace": "default"},
            "spec": spec,
        }))
    }

    pub fn get(&mut self, kind: &str, name: &str) -> &mut Value {
        self.objs.iter_mut().find(|o| o["kind"] == kind && o["metadata"]["name"] == name).unwrap_or_else(|| panic!("no {kind} {name}"))
    }

    pub fn state(&self) -> ClusterState {
        let mut inputs = Inputs::new();
        let list = json!({"apiVersion": "v1", "kind": "List", "items": self.objs});
        inputs.load_value(list, "test").unwrap_or_else(|e| panic!("{e}"));
        let inputs = inputs.finish().unwrap_or_else(|e| panic!("{e}"));
        let catalog = parse_custom_catalog("test-catalog", &catalog_json(&self.types)).unwrap_or_else(|e| panic!("{e}"));
        ClusterState::from_inputs(inputs, &CatalogSource::Custom(Arc::new(catalog))).unwrap_or_else(|e| panic!("{e}"))
    }

    pub fn once(&self) -> DisruptionResult {
        karpsim::disruption::disrupt_once(&self.state(), &opts())
    }

    pub fn once_with(&self, o: &DisruptionOptions) -> DisruptionResult {
        karpsim::disruption::disrupt_once(&self.state(), o)
    }
}

pub fn opts() -> DisruptionOptions {
    DisruptionOptions { now: Some(NOW), ..DisruptionOptions::default() }
}

/// Default budgets: `[{nodes: 100%}]`, so that budgets do not interfere.
pub fn all() -> Value {
    json!([{"nodes": "100%"}])
}

/// The only command of a round (panics with the result otherwise).
#[track_caller]
pub fn only(r: &DisruptionResult) -> &Command {
    assert_eq!(r.commands.len(), 1, "expected exactly one command: {}", show(r));
    &r.commands[0]
}

#[track_caller]
pub fn assert_cmd(c: &Command, method: Method, action: Action, nodes: &[&str]) {
    assert_eq!((c.method, c.action), (method, action), "{c:#?}");
    let mut got: Vec<&str> = c.nodes.iter().map(String::as_str).collect();
    got.sort();
    let mut want = nodes.to_vec();
    want.sort();
    assert_eq!(got, want, "{c:#?}");
}

#[track_caller]
pub fn assert_no_command(r: &DisruptionResult) {
    assert!(r.commands.is_empty(), "expected no command: {}", show(r));
}

/// Why `node` was kept (panics if it was not).
#[track_caller]
pub fn kept<'a>(r: &'a DisruptionResult, node: &str) -> &'a str {
    r.kept.iter().find(|k| k.node == node).map(|k| k.reason.as_str()).unwrap_or_else(|| panic!("{node} not kept: {}", show(r)))
}

#[track_caller]
pub fn assert_kept(r: &DisruptionResult, node: &str, reason_part: &str) {
    let why = kept(r, node);
    assert!(why.contains(reason_part), "{node} kept for {why:?}, expected {reason_part:?}");
}

pub fn show(r: &DisruptionResult) -> String {
    serde_json::to_string_pretty(r).unwrap()
}
