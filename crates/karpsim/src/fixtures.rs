//! Generators for benchmarks and tests (feature `fixtures`): the shape of Karpenter's own scheduling
//! benchmark (`pkg/controllers/provisioning/scheduling/scheduling_benchmark_test.go`, design §7) and
//! a few helpers to build larger clusters.
//!
//! ```
//! use karpsim::fixtures;
//! use karpsim::scheduling::{provision, ProvisionOptions};
//! let state = fixtures::karpenter_state(fixtures::diverse_pods(50, 42));
//! let result = provision(&state, &ProvisionOptions::default());
//! assert!(result.unschedulable.is_empty());
//! ```

use crate::catalog::{parse_custom_catalog, Catalog};
use crate::labels::{self, Sym};
use crate::model::{
    Affinity, LabelSelector, Node, NodeInclusionPolicy, NodePool, NodeSelectorRequirement, NodeSelectorTerm, Pod, PodAffinityTerm, PodPhase,
    TopologySpreadConstraint, UnsatisfiableAction, WeightedNodeSelectorTerm, WeightedPodAffinityTerm,
};
use crate::resources::{Limits, Resources};
use crate::state::ClusterState;
use rand::rngs::Xoshiro256PlusPlus;
use rand::{RngExt, SeedableRng};
use std::collections::BTreeMap;
use std::sync::Arc;

const GI: i64 = 1 << 30;
const MI: i64 = 1 << 20;

/// Karpenter's fake `InstanceTypes(n)`: type i (`fake-it-i`) has cpu i+1, memory 2(i+1) GiB,
/// pods 10(i+1), offerings spot in test-zone-1/2 and on-demand in test-zone-1/2/3, all at
/// `0.1·cpu + 0.1·memGiB·1.073741824` (`PriceFromResources`), overhead 100m cpu / 10Mi memory,
/// labels arch amd64 and os linux.
pub fn karpenter_catalog(n: usize) -> Catalog {
    let types: Vec<serde_json::Value> = (0..n)
        .map(|i| {
            let cpu = (i + 1) as f64;
            let mem_gi = 2.0 * (i + 1) as f64;
            let price = 0.1 * cpu + 0.1 * mem_gi * (GI as f64) / 1e9;
            let offerings: Vec<serde_json::Value> = [("test-zone-1", "spot"), ("test-zone-2", "spot"), ("test-zone-1", "on-demand"), ("test-zone-2", "on-demand"), ("test-zone-3", "on-demand")]
                .iter()
                .map(|(z, c)| serde_json::json!({"zone": z, "capacity_type": c, "price": price}))
                .collect();
            serde_json::json!({
                "name": format!("fake-it-{i}"),
                "capacity": {"cpu": format!("{}", i + 1), "memory": format!("{}Gi", 2 * (i + 1)), "pods": format!("{}", 10 * (i + 1))},
                "overhead": {"cpu": "100m", "memory": "10Mi"},
                "labels": {"kubernetes.io/arch": "amd64", "kubernetes.io/os": "linux"},
                "offerings": offerings,
            })
        })
        .collect();
    let text = serde_json::json!({ "instance_types": types }).to_string();
    parse_custom_catalog("karpenter-fake-400", &text).expect("the generated catalog is valid")
}

/// The benchmark's NodePool: defaults, limits cpu 10,000,000 and memory 10,000,000 Gi (never reached).
pub fn karpenter_nodepool() -> NodePool {
    let mut p = NodePool::new("default");
    p.limits = Limits(BTreeMap::from([("cpu".to_string(), 10_000_000 * 1000), ("memory".to_string(), 10_000_000 * GI)]));
    p
}

/// A state with the benchmark's catalog (400 types), its NodePool, no nodes and the given pods.
pub fn karpenter_state(pods: Vec<Pod>) -> ClusterState {
    state_with(karpenter_catalog(400), vec![karpenter_nodepool()], Vec::new(), pods)
}

/// A state over one catalog shared by every pool.
pub fn state_with(catalog: Catalog, nodepools: Vec<NodePool>, nodes: Vec<Node>, pods: Vec<Pod>) -> ClusterState {
    let catalog = Arc::new(catalog);
    ClusterState::new(nodepools, Vec::new(), nodes, pods, Vec::new(), Vec::new(), |_| Ok(Arc::clone(&catalog))).expect("a valid state")
}

/// A plain pending pod `default/<name>` with cpu (millicores) and memory (bytes) requests. Its uid is
/// its name, its creation time 0, so the queue breaks request ties by name.
pub fn pod(name: &str, cpu_milli: i64, memory: i64) -> Pod {
    let mut p = Pod::new("default", name, Resources::from_pairs([("cpu", cpu_milli), ("memory", memory)]));
    p.uid = Sym::new(name);
    p
}

fn selector(k: &str, v: &str) -> Option<LabelSelector> {
    Some(LabelSelector { match_labels: BTreeMap::from([(Sym::new(k), Sym::new(v))]), match_expressions: Vec::new() })
}

fn term(k: &str, v: &str, topology_key: Sym) -> PodAffinityTerm {
    PodAffinityTerm { label_selector: selector(k, v), namespaces: Vec::new(), namespace_selector: None, topology_key, match_label_keys: Vec::new(), mismatch_label_keys: Vec::new() }
}

/// The benchmark's random requests and label values, from one seeded stream drawn in the same order
/// as Karpenter's generator (labels first, then cpu, then memory, per pod).
struct Draw(Xoshiro256PlusPlus);

impl Draw {
    fn label(&mut self) -> &'static str {
        ["a", "b", "c", "d", "e", "f", "g"][self.0.random_range(0..7usize)]
    }
    fn cpu(&mut self) -> i64 {
        [100, 250, 500, 1000, 1500][self.0.random_range(0..5usize)]
    }
    fn memory(&mut self) -> i64 {
        [100, 256, 512, 1024, 2048, 4096][self.0.random_range(0..6usize)] * MI
    }
}

/// Which fifth of [`diverse_pods`] a pod belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PodKind {
    Generic,
    ZonalSpread,
    HostnameSpread,
    ZonalAffinity,
    HostnameAntiAffinity,
}

fn make(d: &mut Draw, kind: PodKind, index: usize) -> Pod {
    let name = format!("pod-{index:06}");
    let (labels, affinity, spread): (BTreeMap<Sym, Sym>, Affinity, Vec<TopologySpreadConstraint>) = match kind {
        PodKind::Generic => (BTreeMap::from([(Sym::new("my-label"), Sym::new(d.label()))]), Affinity::default(), Vec::new()),
        PodKind::ZonalSpread | PodKind::HostnameSpread => {
            let own = d.label();
            let sel = d.label();
            let key = if kind == PodKind::ZonalSpread { *labels::ZONE } else { *labels::HOSTNAME };
            let c = TopologySpreadConstraint {
                max_skew: 1,
                topology_key: key,
                when_unsatisfiable: UnsatisfiableAction::DoNotSchedule,
                label_selector: selector("my-label", sel),
                min_domains: None,
                node_affinity_policy: NodeInclusionPolicy::Honor,
                node_taints_policy: NodeInclusionPolicy::Ignore,
                match_label_keys: Vec::new(),
            };
            (BTreeMap::from([(Sym::new("my-label"), Sym::new(own))]), Affinity::default(), vec![c])
        }
        PodKind::ZonalAffinity => {
            let v = d.label();
            let a = Affinity { pod_affinity_required: vec![term("my-affininity", v, *labels::ZONE)], ..Affinity::default() };
            (BTreeMap::from([(Sym::new("my-affininity"), Sym::new(v))]), a, Vec::new())
        }
        PodKind::HostnameAntiAffinity => {
            let a = Affinity { pod_anti_affinity_required: vec![term("app", "nginx", *labels::HOSTNAME)], ..Affinity::default() };
            (BTreeMap::from([(Sym::new("app"), Sym::new("nginx"))]), a, Vec::new())
        }
    };
    let mut p = pod(&name, d.cpu(), d.memory());
    p.labels = labels.into();
    p.affinity = affinity.into();
    p.topology_spread = spread.into();
    p
}

/// `makeDiversePods(n)`: five equal fifths (generic; zonal spread; hostname spread; zonal self
/// affinity; hostname anti-affinity `app=nginx`), the remainder generic; requests and label values
/// from `Xoshiro256PlusPlus::seed_from_u64(seed)`.
pub fn diverse_pods(n: usize, seed: u64) -> Vec<Pod> {
    let mut d = Draw(Xoshiro256PlusPlus::seed_from_u64(seed));
    let fifth = n / 5;
    let kinds = [PodKind::Generic, PodKind::ZonalSpread, PodKind::HostnameSpread, PodKind::ZonalAffinity, PodKind::HostnameAntiAffinity];
    let mut out = Vec::with_capacity(n);
    for k in kinds {
        for _ in 0..fifth {
            let i = out.len();
            out.push(make(&mut d, k, i));
        }
    }
    while out.len() < n {
        let i = out.len();
        out.push(make(&mut d, PodKind::Generic, i));
    }
    out
}

/// Only the unconstrained (generic) pods of the same shape: requests from the same generator.
pub fn generic_pods(n: usize, seed: u64) -> Vec<Pod> {
    let mut d = Draw(Xoshiro256PlusPlus::seed_from_u64(seed));
    (0..n).map(|i| make(&mut d, PodKind::Generic, i)).collect()
}

/// `makePreferencePods(n)`: `app=nginx` pods preferring zone test-zone-1 (weight 1), with preferred
/// anti-affinity to each other on zone (weight 10, unsatisfiable after three) and on hostname
/// (weight 1).
pub fn preference_pods(n: usize, seed: u64) -> Vec<Pod> {
    let mut d = Draw(Xoshiro256PlusPlus::seed_from_u64(seed));
    (0..n)
        .map(|i| {
            let mut p = pod(&format!("pref-{i:06}"), d.cpu(), d.memory());
            *p.labels = BTreeMap::from([(Sym::new("app"), Sym::new("nginx"))]);
            *p.affinity = Affinity {
                node_preferred: vec![WeightedNodeSelectorTerm {
                    weight: 1,
                    term: NodeSelectorTerm {
                        match_expressions: vec![NodeSelectorRequirement { key: *labels::ZONE, operator: "In".into(), values: vec!["test-zone-1".into()], min_values: None }],
                        match_fields: false,
                    },
                }],
                pod_anti_affinity_preferred: vec![
                    WeightedPodAffinityTerm { weight: 10, term: term("app", "nginx", *labels::ZONE) },
                    WeightedPodAffinityTerm { weight: 1, term: term("app", "nginx", *labels::HOSTNAME) },
                ],
                ..Affinity::default()
            };
            p
        })
        .collect()
}

/// `n` pods `solo-i` (label `app=solo`) with required hostname anti-affinity to each other, so each
/// needs a node of its own; requests from the benchmark's lists.
pub fn anti_affinity_pods(n: usize, seed: u64) -> Vec<Pod> {
    let mut d = Draw(Xoshiro256PlusPlus::seed_from_u64(seed));
    (0..n)
        .map(|i| {
            let mut p = pod(&format!("solo-{i:06}"), d.cpu(), d.memory());
            *p.labels = BTreeMap::from([(Sym::new("app"), Sym::new("solo"))]);
            *p.affinity = Affinity { pod_anti_affinity_required: vec![term("app", "solo", *labels::HOSTNAME)], ..Affinity::default() };
            p
        })
        .collect()
}

/// A cluster of `nodes` Karpenter-managed nodes of the benchmark catalog, each holding bound pods
/// that use part of it, for consolidation benchmarks. Node i is `fake-it-{t}` with t cycling through
/// small sizes (cpu 2..=16), spread over the three zones, on-demand, created an hour before `now`;
/// it carries `pods_per_node` generic pods taking between 10% and 60% of its cpu. Deterministic for a
/// seed.
pub fn karpenter_cluster(nodes: usize, pods_per_node: usize, seed: u64) -> ClusterState {
    let catalog = karpenter_catalog(400);
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
    let zones = ["test-zone-1", "test-zone-2", "test-zone-3"];
    let mut out_nodes = Vec::with_capacity(nodes);
    let mut pods = Vec::with_capacity(nodes * pods_per_node);
    for i in 0..nodes {
        let t = 1 + rng.random_range(0..16usize); // fake-it-1..16: cpu 2..17
        let it = &catalog.instance_types[catalog.instance_types.iter().position(|x| x.name.as_str() == format!("fake-it-{t}")).unwrap_or(0)];
        let zone = Sym::new(zones[i % 3]);
        let ct = Sym::new(labels::CAPACITY_TYPE_ON_DEMAND);
        let name = Sym::new(&format!("node-{i:05}"));
        let mut node_labels: BTreeMap<Sym, Sym> = it.labels.iter().filter_map(|(k, v)| v.map(|v| (*k, v))).collect();
        node_labels.insert(*labels::ZONE, zone);
        node_labels.insert(*labels::CAPACITY_TYPE, ct);
        node_labels.insert(*labels::HOSTNAME, name);
        node_labels.insert(*labels::NODEPOOL, Sym::new("default"));
        node_labels.insert(*labels::REGISTERED, Sym::new("true"));
        node_labels.insert(*labels::INITIALIZED, Sym::new("true"));
        let price = it.offerings.iter().find(|o| o.zone == zone && o.capacity_type == ct).map(|o| o.price);
        out_nodes.push(Node {
            name,
            labels: node_labels.into(),
            annotations: BTreeMap::new(),
            taints: Vec::new(),
            capacity: it.capacity.clone(),
            allocatable: it.allocatable.clone(),
            resources_reported: true,
            has_nodeclaim: false,
            nodepool: Some(Sym::new("default")),
            instance_type: Some(it.name),
            zone: Some(zone),
            capacity_type: Some(ct),
            creation_timestamp: 0,
            initialized: true,
            ready: true,
            deletion_timestamp: None,
            last_pod_event: Some(0),
            observed: None,
            price,
            provider_id: None,
            volume_limits: BTreeMap::new(),
        });
        let share = 10 + rng.random_range(0..51i64); // percent of the node's cpu
        let cpu_each = (it.allocatable.cpu * share / 100 / pods_per_node.max(1) as i64).max(10);
        let mem_each = (it.allocatable.memory * share / 100 / pods_per_node.max(1) as i64).max(MI);
        for j in 0..pods_per_node {
            let mut p = pod(&format!("bound-{i:05}-{j:02}"), cpu_each, mem_each);
            p.node_name = Some(name);
            p.phase = PodPhase::Running;
            p.start_time = Some(0);
            p.owner = Some(crate::model::OwnerRef { kind: crate::model::OwnerKind::ReplicaSet, name: Sym::new("web") });
            pods.push(p);
        }
    }
    let mut pool = karpenter_nodepool();
    pool.limits = Limits::default();
    state_with(catalog, vec![pool], out_nodes, pods)
}

/// A node of NodePool `default` launched like `old` (its type, zone, capacity type, labels and
/// resources), as a disruption command's replacement would be.
pub fn new_node_like(old: &Node) -> crate::disruption::NewNode {
    crate::disruption::NewNode {
        nodepool: Sym::new("default"),
        instance_type: old.instance_type.expect("a type"),
        zone: old.zone.expect("a zone"),
        capacity_type: old.capacity_type.expect("a capacity type"),
        price: 0.01,
        labels: old.labels.iter().map(|(k, v)| (*k, *v)).collect(),
        allocatable: old.allocatable.clone(),
        capacity: old.capacity.clone(),
        reservation_id: None,
    }
}
