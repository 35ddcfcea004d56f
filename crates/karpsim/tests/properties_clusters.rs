//! Property tests over random valid clusters: the invariants a user relies on. Every pending pod is
//! placed exactly once or reported with a reason; no node holds more than its allocatable; every
//! node selector, required node affinity, taint and required hostname anti-affinity is respected;
//! the cost is the sum of the node prices; the same input gives byte-identical output; and
//! consolidation until stable loses no pod.

mod properties_common;
use properties_common::config;

use karpsim::catalog::parse_custom_catalog;
use karpsim::disruption::{DisruptionOptions, until_stable_state};
use karpsim::io::Inputs;
use karpsim::model::Pod;
use karpsim::resources::Resources;
use karpsim::scheduling::{ProvisionOptions, ProvisionResult, provision};
use karpsim::state::ClusterState;
use proptest::prelude::*;
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

const ZONES: [&str; 3] = ["z1", "z2", "z3"];

#[derive(Debug, Clone)]
struct Cluster {
    catalog: String,
    objects: Vec<Value>,
}

fn instance_type() -> impl Strategy<Value = (u32, u32, u32, bool, u8, u8, f64)> {
    // cpu, memory GiB, pods, arm64, zone mask, capacity types (1 spot, 2 on-demand, 3 both), price
    (prop::sample::select(vec![1u32, 2, 4, 8, 16]), prop::sample::select(vec![1u32, 2, 4, 8, 32]), 2u32..30, any::<bool>(), 1u8..8, 1u8..4, 0.01f64..2.0)
}

fn catalog_json(types: &[(u32, u32, u32, bool, u8, u8, f64)]) -> String {
    let ts: Vec<Value> = types
        .iter()
        .enumerate()
        .map(|(i, (cpu, mem, pods, arm, zones, cts, price))| {
            let mut offerings = Vec::new();
            for (z, zone) in ZONES.iter().enumerate() {
                if zones & (1 << z) == 0 {
                    continue;
                }
                if cts & 1 != 0 {
                    offerings.push(json!({"zone": zone, "capacity_type": "spot", "price": price * 0.4}));
                }
                if cts & 2 != 0 {
                    offerings.push(json!({"zone": zone, "capacity_type": "on-demand", "price": price}));
                }
            }
            json!({"name": format!("t{i}"), "capacity": {"cpu": cpu.to_string(), "memory": format!("{mem}Gi"), "pods": pods.to_string()},
                   "overhead": {"cpu": "100m", "memory": "100Mi"},
                   "labels": {"kubernetes.io/arch": if *arm { "arm64" } else { "amd64" }, "kubernetes.io/os": "linux", "size": format!("s{cpu}")},
                   "offerings": offerings})
        })
        .collect();
    json!({"instance_types": ts}).to_string()
}

fn nodepool() -> impl Strategy<Value = (Option<&'static str>, Option<&'static str>, bool, i32)> {
    (
        prop::option::of(prop::sample::select(vec!["spot", "on-demand"])),
        prop::option::of(prop::sample::select(vec!["amd64", "arm64"])),
        any::<bool>(),
        0i32..10,
    )
}

#[derive(Debug, Clone)]
struct PodGen {
    cpu: u32,
    mem_mi: u32,
    arch: Option<&'static str>,
    zones: Option<u8>,
    tolerate: bool,
    spread: bool,
    anti: bool,
    group: u8,
    replicas: u8,
}

fn pod_gen() -> impl Strategy<Value = PodGen> {
    (0u32..6000, 0u32..20_000, prop::option::of(prop::sample::select(vec!["amd64", "arm64"])), prop::option::of(1u8..8), any::<bool>(), prop::bool::weighted(0.2), prop::bool::weighted(0.2), 0u8..3, 1u8..4)
        .prop_map(|(cpu, mem_mi, arch, zones, tolerate, spread, anti, group, replicas)| PodGen { cpu, mem_mi, arch, zones, tolerate, spread, anti, group, replicas })
}

fn objects(pools: &[(Option<&str>, Option<&str>, bool, i32)], daemonsets: &[(u32, u32)], pods: &[PodGen]) -> Vec<Value> {
    let mut out = Vec::new();
    for (i, (ct, arch, taint, weight)) in pools.iter().enumerate() {
        let mut reqs = Vec::new();
        if let Some(ct) = ct {
            reqs.push(json!({"key": "karpenter.sh/capacity-type", "operator": "In", "values": [ct]}));
        }
        if let Some(a) = arch {
            reqs.push(json!({"key": "kubernetes.io/arch", "operator": "In", "values": [a]}));
        }
        let mut spec = json!({"requirements": reqs});
        if *taint {
            spec["taints"] = json!([{"key": "dedicated", "value": "batch", "effect": "NoSchedule"}]);
        }
        let mut np = json!({"apiVersion": "karpenter.sh/v1", "kind": "NodePool", "metadata": {"name": format!("pool{i}")}, "spec": {"template": {"spec": spec}}});
        if *weight > 0 {
            np["spec"]["weight"] = json!(weight);
        }
        out.push(np);
    }
    for (i, (cpu, mem)) in daemonsets.iter().enumerate() {
        out.push(json!({"apiVersion": "apps/v1", "kind": "DaemonSet", "metadata": {"name": format!("ds{i}"), "namespace": "kube-system"},
            "spec": {"template": {"spec": {"tolerations": [{"operator": "Exists"}],
                "containers": [{"name": "c", "resources": {"requests": {"cpu": format!("{cpu}m"), "memory": format!("{mem}Mi")}}}]}}}}));
    }
    for (i, p) in pods.iter().enumerate() {
        let mut spec = json!({"containers": [{"name": "c", "resources": {"requests": {"cpu": format!("{}m", p.cpu), "memory": format!("{}Mi", p.mem_mi)}}}]});
        if let Some(a) = p.arch {
            spec["nodeSelector"] = json!({"kubernetes.io/arch": a});
        }
        if let Some(mask) = p.zones {
            let zones: Vec<&str> = ZONES.iter().enumerate().filter(|(z, _)| mask & (1 << z) != 0).map(|(_, z)| *z).collect();
            spec["affinity"] = json!({"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [
                {"matchExpressions": [{"key": "topology.kubernetes.io/zone", "operator": "In", "values": zones}]}]}}});
        }
        if p.anti {
            spec["affinity"]["podAntiAffinity"] = json!({"requiredDuringSchedulingIgnoredDuringExecution": [
                {"topologyKey": "kubernetes.io/hostname", "labelSelector": {"matchLabels": {"anti": format!("g{}", p.group)}}}]});
        }
        if p.spread {
            spec["topologySpreadConstraints"] = json!([{"maxSkew": 1, "topologyKey": "topology.kubernetes.io/zone", "whenUnsatisfiable": "DoNotSchedule",
                "labelSelector": {"matchLabels": {"spread": format!("g{}", p.group)}}}]);
        }
        if p.tolerate {
            spec["tolerations"] = json!([{"key": "dedicated", "operator": "Equal", "value": "batch", "effect": "NoSchedule"}]);
        }
        let mut labels = json!({"app": format!("w{i}")});
        if p.anti {
            labels["anti"] = json!(format!("g{}", p.group));
        }
        if p.spread {
            labels["spread"] = json!(format!("g{}", p.group));
        }
        out.push(json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": format!("w{i}"), "namespace": "default"},
            "spec": {"replicas": p.replicas, "template": {"metadata": {"labels": labels}, "spec": spec}}}));
    }
    out
}

fn cluster() -> impl Strategy<Value = Cluster> {
    (
        prop::collection::vec(instance_type(), 1..5),
        prop::collection::vec(nodepool(), 1..3),
        prop::collection::vec((10u32..300, 10u32..300), 0..3),
        prop::collection::vec(pod_gen(), 1..12),
    )
        .prop_map(|(types, pools, ds, pods)| Cluster { catalog: catalog_json(&types), objects: objects(&pools, &ds, &pods) })
}

fn state(c: &Cluster) -> ClusterState {
    let cat = Arc::new(parse_custom_catalog("prop", &c.catalog).expect("a generated catalog is valid"));
    let mut i = Inputs::new();
    i.load_str(&serde_json::to_string(&c.objects).unwrap(), "cluster.json").expect("generated manifests are valid");
    let i = i.finish().expect("generated manifests are valid");
    ClusterState::new(i.nodepools, i.nodeclasses, i.nodes, i.pods, i.daemonsets, i.pdbs, |_| Ok(cat.clone())).expect("state")
}

/// Whether a node with `labels` satisfies a node-selector requirement (In, NotIn, Exists, DoesNotExist).
fn satisfies(labels: &BTreeMap<String, String>, key: &str, op: &str, values: &[String]) -> bool {
    let v = labels.get(key);
    match op {
        "In" => v.is_some_and(|v| values.contains(v)),
        "NotIn" => v.is_none_or(|v| !values.contains(v)),
        "Exists" => v.is_some(),
        "DoesNotExist" => v.is_none(),
        other => panic!("operator {other} is not generated"),
    }
}

fn check_provisioning(s: &ClusterState, r: &ProvisionResult) -> Result<(), TestCaseError> {
    let pods: BTreeMap<String, &Pod> = s.pods.iter().map(|p| (p.key(), p)).collect();
    // every pending pod placed exactly once, or pending with a reason
    let mut seen: Vec<String> = r.nodeclaims.iter().flat_map(|n| n.pods.iter().cloned()).collect();
    seen.extend(r.existing_nodes.iter().flat_map(|n| n.pods.iter().cloned()));
    for u in &r.unschedulable {
        prop_assert!(!u.reason.trim().is_empty(), "{} pending without a reason", u.pod);
        seen.push(u.pod.clone());
    }
    seen.sort();
    let expected: Vec<String> = pods.keys().cloned().collect();
    prop_assert_eq!(seen, expected);

    let mut cost = 0.0;
    for nc in &r.nodeclaims {
        cost += nc.price_per_hour;
        // no node's requests over its allocatable, counted from the pods themselves
        let mut used = Resources::new();
        for p in &nc.pods {
            let mut req = pods[p].requests.clone();
            req.pods = 1;
            used.add_assign(&req);
        }
        prop_assert!(used.fits(&nc.allocatable), "{}: pods request {:?}, allocatable {:?}", nc.name, used, nc.allocatable);
        prop_assert!(nc.requests.fits(&nc.allocatable), "{}: requests with DaemonSets {:?} over {:?}", nc.name, nc.requests, nc.allocatable);
        // the node's labels: the instance type's, its offering's zone and capacity type, its pool
        let pt = &s.pool_types[&karpsim::labels::Sym::new(&nc.nodepool)];
        let it = pt.types.iter().find(|t| t.it.name.as_str() == nc.instance_type).expect("the launched type is in the pool's catalog");
        prop_assert!(
            it.it.offerings.iter().any(|o| o.available && o.zone.as_str() == nc.zone && o.capacity_type.as_str() == nc.capacity_type && o.price == nc.price_per_hour),
            "{} launched on an offering the catalog does not have", nc.name
        );
        let mut labels: BTreeMap<String, String> = it.it.labels.iter().filter_map(|(k, v)| v.map(|v| (k.to_string(), v.to_string()))).collect();
        labels.insert("topology.kubernetes.io/zone".into(), nc.zone.clone());
        labels.insert("karpenter.sh/capacity-type".into(), nc.capacity_type.clone());
        labels.insert("node.kubernetes.io/instance-type".into(), nc.instance_type.clone());
        labels.insert("karpenter.sh/nodepool".into(), nc.nodepool.clone());
        let pool = s.nodepools.iter().find(|p| p.name.as_str() == nc.nodepool).expect("pool");
        for req in &pool.requirements {
            prop_assert!(satisfies(&labels, req.key.as_str(), &req.operator, &req.values), "{} breaks its pool's {:?}", nc.name, req);
        }
        let mut anti: BTreeSet<String> = BTreeSet::new();
        for key in &nc.pods {
            let p = pods[key];
            for (k, v) in &p.node_selector {
                prop_assert_eq!(labels.get(k.as_str()), Some(&v.to_string()), "{} on {} breaks its node selector", key, nc.name);
            }
            let terms = &p.affinity.node_required;
            prop_assert!(
                terms.is_empty() || terms.iter().any(|t| t.match_expressions.iter().all(|e| satisfies(&labels, e.key.as_str(), &e.operator, &e.values))),
                "{} on {} breaks its required node affinity", key, nc.name
            );
            for t in &pool.taints {
                prop_assert!(
                    p.tolerations.iter().any(|tol| tol.key.is_none_or(|k| k == t.key) && tol.value.as_deref().is_none_or(|v| v == t.value.as_str())),
                    "{} on {} does not tolerate {:?}", key, nc.name, t
                );
            }
            if !p.affinity.pod_anti_affinity_required.is_empty() {
                let group = p.labels.get(&karpsim::labels::Sym::new("anti")).map(|g| g.to_string()).unwrap_or_default();
                prop_assert!(anti.insert(group), "two pods of one anti-affinity group on {}", nc.name);
            }
        }
    }
    prop_assert!((cost - r.cost_per_hour).abs() <= 1e-9 * cost.max(1.0), "cost {} is not the sum of node prices {}", r.cost_per_hour, cost);
    Ok(())
}

proptest! {
    #![proptest_config(config(48))]

    #[test]
    fn provisioning_keeps_every_invariant(c in cluster()) {
        let s = state(&c);
        let r = provision(&s, &ProvisionOptions::default());
        check_provisioning(&s, &r)?;
        // the same input, byte-identical output
        let again = provision(&state(&c), &ProvisionOptions::default());
        prop_assert_eq!(serde_json::to_string(&r).unwrap(), serde_json::to_string(&again).unwrap());
    }
}

proptest! {
    // each case runs consolidation until stable twice: fewer cases in the default run
    #![proptest_config(config(16))]

    #[test]
    fn consolidation_until_stable_loses_no_pod(nodes in 1usize..10, pods_per_node in 1usize..4, seed in any::<u64>()) {
        let start = karpsim::fixtures::karpenter_cluster(nodes, pods_per_node, seed);
        let opts = DisruptionOptions { now: Some(3_600), max_rounds: Some(40), ..DisruptionOptions::default() };
        let (result, end) = until_stable_state(&start, &opts);
        let before: BTreeSet<String> = start.pods.iter().filter(|p| !p.is_daemonset_pod()).map(|p| p.key()).collect();
        let after: BTreeSet<String> = end.pods.iter().filter(|p| !p.is_daemonset_pod()).map(|p| p.key()).collect();
        prop_assert_eq!(&before, &after, "pods lost or invented by consolidation");
        let names: BTreeSet<_> = end.nodes.iter().map(|n| n.name).collect();
        let mut used: BTreeMap<_, Resources> = BTreeMap::new();
        for p in &end.pods {
            match p.node_name {
                Some(n) => {
                    prop_assert!(names.contains(&n), "{} bound to a node that is gone", p.key());
                    let mut r = p.requests.clone();
                    r.pods = 1;
                    used.entry(n).or_default().add_assign(&r);
                }
                None => prop_assert!(
                    result.end_state.as_ref().is_some_and(|e| e.pending.iter().any(|u| u.pod == p.key())),
                    "{} is unbound but not reported pending", p.key()
                ),
            }
        }
        for n in &end.nodes {
            if let Some(u) = used.get(&n.name) {
                prop_assert!(u.fits(&n.allocatable), "{} holds {:?} over {:?}", n.name, u, n.allocatable);
            }
        }
        let again = until_stable_state(&start, &opts).0;
        prop_assert_eq!(serde_json::to_string(&result).unwrap(), serde_json::to_string(&again).unwrap());
    }
}
