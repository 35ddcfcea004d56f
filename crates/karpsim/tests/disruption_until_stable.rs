//! Until stable: invariants on a seeded random cluster and on the shipped EKS snapshot, and the
//! key one-round decisions on the snapshot.

#[path = "disruption_common/mod.rs"]
mod common;

use common::*;
use karpsim::catalog::CatalogSource;
use karpsim::disruption::{disrupt_once, until_stable_state, Action, DisruptionOptions, DisruptionResult, Method};
use karpsim::io::Inputs;
use karpsim::state::ClusterState;
use serde_json::json;
use std::collections::BTreeSet;
use std::path::Path;

/// Every active, non-DaemonSet input pod is bound to an end-state node or reported pending; no
/// node holds more than its allocatable; costs never increase; consolidation commands save money.
#[track_caller]
fn check_invariants(input: &ClusterState, r: &DisruptionResult, end: &ClusterState) {
    let end_state = r.end_state.as_ref().expect("until_stable sets end_state");
    let nodes: BTreeSet<_> = end.nodes.iter().map(|n| n.name).collect();
    let pending: BTreeSet<&str> = end_state.pending.iter().map(|u| u.pod.as_str()).collect();
    for p in input.pods.iter().filter(|p| p.is_active() && !p.is_daemonset_pod() && !p.is_mirror()) {
        let now = end.pods.iter().find(|q| q.uid == p.uid).unwrap_or_else(|| panic!("pod {} lost", p.key()));
        let bound = now.node_name.is_some_and(|n| nodes.contains(&n));
        assert!(bound || pending.contains(p.key().as_str()), "pod {} neither on a node nor pending: {}", p.key(), show(r));
    }
    for n in &end.nodes {
        let pods: Vec<_> = end.pods.iter().filter(|p| p.node_name == Some(n.name) && !p.is_terminal()).collect();
        let cpu: i64 = pods.iter().map(|p| p.requests.cpu).sum();
        let mem: i64 = pods.iter().map(|p| p.requests.memory).sum();
        assert!(cpu <= n.allocatable.cpu, "{}: cpu {cpu} > {}", n.name, n.allocatable.cpu);
        assert!(mem <= n.allocatable.memory, "{}: memory {mem} > {}", n.name, n.allocatable.memory);
        assert!(pods.len() as i64 <= n.allocatable.pods, "{}: {} pods > {}", n.name, pods.len(), n.allocatable.pods);
    }
    assert!(r.cost_per_hour_after <= r.cost_per_hour_before + 1e-9, "cost went up: {}", show(r));
    let mut cost = r.cost_per_hour_before;
    for c in &r.commands {
        if matches!(c.method, Method::Emptiness | Method::MultiNode | Method::SingleNode) {
            assert!(c.price_after < c.price_before, "consolidation must save: {c:#?}");
        }
        cost -= c.savings_per_hour;
    }
    assert!((cost - r.cost_per_hour_after).abs() < 1e-6, "commands' savings add up to the end cost");
    assert_eq!(end_state.nodes.len(), end.nodes.len());
}

fn run_twice(state: &ClusterState, o: &DisruptionOptions) -> (DisruptionResult, ClusterState) {
    let (r1, end) = until_stable_state(state, o);
    let (r2, _) = until_stable_state(state, o);
    assert_eq!(serde_json::to_string(&r1).unwrap(), serde_json::to_string(&r2).unwrap(), "not deterministic");
    (r1, end)
}

/// Numerical Recipes' LCG.
struct Lcg(u64);
impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
        self.0 >> 33
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

fn random_world(seed: u64) -> World {
    let mut rng = Lcg(seed);
    let types = std_types();
    let mut w = World::new(types.clone());
    w.pool("general", "WhenEmptyOrUnderutilized", json!([{"nodes": "50%"}]));
    let spot = w.pool("flex", "WhenEmptyOrUnderutilized", json!([{"nodes": "2"}]));
    spot["spec"]["template"]["spec"]["requirements"][0]["values"] = json!(["on-demand", "spot"]);
    w.pool("quiet", "WhenEmpty", all());
    let pools = ["general", "flex", "quiet"];
    let mut pod_id = 0;
    for i in 0..14 {
        let t = &types[rng.below(types.len() as u64) as usize];
        let pool = pools[rng.below(3) as usize];
        let ct = if pool == "flex" && rng.below(2) == 0 { "spot" } else { "on-demand" };
        let name = format!("node-{i:02}");
        w.node(&name, Some(pool), &t.name, ZONES[rng.below(3) as usize], ct);
        w.ds_pod("agent", &name, 100);
        let mut free = i64::from(t.cpu) * 1000 - 100;
        let fill = rng.below(100) as i64; // percent of the node to fill
        let target = free * fill / 100;
        let mut used = 0;
        while used < target {
            let cpu = 100 * (1 + rng.below(15) as i64);
            if cpu > free {
                break;
            }
            pod_id += 1;
            let pn = format!("p{pod_id:03}");
            let pod = w.pod(&pn, Some(&name), cpu as u32);
            if rng.below(10) == 0 {
                pod["metadata"]["annotations"] = json!({"karpenter.sh/do-not-disrupt": "true"});
            }
            free -= cpu;
            used += cpu;
        }
    }
    for _ in 0..3 {
        pod_id += 1;
        w.pod(&format!("p{pod_id:03}"), None, 500);
    }
    w
}

#[test]
fn until_stable_random_clusters_keep_invariants() {
    for seed in [1, 7, 42, 2026] {
        let w = random_world(seed);
        let state = w.state();
        let (r, end) = run_twice(&state, &opts());
        check_invariants(&state, &r, &end);
        assert!(r.rounds >= 1);
        // stable means stable: one more round does nothing
        let again = disrupt_once(&end, &DisruptionOptions { now: Some(NOW + 7 * DAY), ..opts() });
        assert!(again.commands.is_empty(), "seed {seed}: not stable: {}", show(&again));
    }
}

// ---------------------------------------------------------------- the EKS snapshot

fn eks() -> ClusterState {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/eks-snapshot/cluster.json");
    let mut i = Inputs::new();
    i.load_path(&path).unwrap();
    let inputs = i.finish().unwrap();
    ClusterState::from_inputs(inputs, &CatalogSource::parse("aws:us-east-1").unwrap()).unwrap()
}

/// The snapshot was taken at 2026-11-20T12:00:00Z (the nodes' last heartbeat). karpsim's default
/// `now` is the latest creation/start time in the input (2026-11-15T10:00:00Z), so it is given.
fn eks_opts() -> DisruptionOptions {
    DisruptionOptions { now: Some(1_795_176_000), ..DisruptionOptions::default() }
}

const EMPTY: &str = "ip-10-0-5-50.ec2.internal"; // m6i.large, only DaemonSet pods
const DND: &str = "ip-10-0-6-60.ec2.internal"; // r6i.large, do-not-disrupt pod
const UNMANAGED: &str = "ip-10-0-1-10.ec2.internal"; // managed node group
const BATCH: &str = "ip-10-0-8-80.ec2.internal"; // WhenEmpty pool, runs a job
const DRIFTED: &str = "ip-10-0-7-70.ec2.internal"; // m5.large spot, NodePool now wants gen > 5

#[test]
fn eks_snapshot_one_round() {
    let state = eks();
    let r = disrupt_once(&state, &eks_opts());
    let c = only(&r);
    assert_cmd(c, Method::Emptiness, Action::Delete, &[EMPTY]);
    assert!(c.price_before > 0.0 && c.savings_per_hour == c.price_before);
    assert_kept(&r, DND, "do-not-disrupt");
    assert_kept(&r, UNMANAGED, "not managed");
}

#[test]
fn eks_snapshot_until_stable() {
    let state = eks();
    let (r, end) = run_twice(&state, &eks_opts());
    check_invariants(&state, &r, &end);
    assert_cmd(&r.commands[0], Method::Emptiness, Action::Delete, &[EMPTY]);
    // drift acts in the second round, before consolidation
    assert_eq!((r.commands[1].method, r.commands[1].nodes.as_slice()), (Method::Drift, &[DRIFTED.to_string()][..]), "{}", show(&r));
    for c in &r.commands {
        for n in [DND, UNMANAGED, BATCH] {
            assert!(!c.nodes.iter().any(|x| x == n), "{n} must never be disrupted: {c:#?}");
        }
    }
    let left: BTreeSet<&str> = end.nodes.iter().map(|n| n.name.as_str()).collect();
    for n in [DND, UNMANAGED, BATCH] {
        assert!(left.contains(n), "{n} kept");
    }
    assert!(r.cost_per_hour_after < r.cost_per_hour_before);
    assert!(r.commands.iter().any(|c| matches!(c.method, Method::SingleNode | Method::MultiNode)), "{}", show(&r));
}


/// Every node of the benchmark cluster drifted: drift replaces one node a round (`drift.go`).
fn drifted_cluster(nodes: usize) -> ClusterState {
    let mut s = karpsim::fixtures::karpenter_cluster(nodes, 2, 42);
    s.nodepools[0].labels.insert(karpsim::labels::Sym::new("tier"), karpsim::labels::Sym::new("v2"));
    s
}

#[test]
fn the_default_round_limit_lets_every_node_be_disrupted() {
    // a fixed cap (1,000 before) cut drifted clusters larger than it short
    let opts = DisruptionOptions::default();
    for nodes in [10, 2_500] {
        let s = karpsim::fixtures::karpenter_cluster(nodes, 0, 42);
        assert!(opts.round_limit(&s) >= 2 * nodes, "{nodes} nodes: {}", opts.round_limit(&s));
    }
    assert_eq!(DisruptionOptions { max_rounds: Some(7), ..opts }.round_limit(&drifted_cluster(3)), 7);
}

#[test]
fn a_round_cap_that_cuts_until_stable_short_warns_and_one_that_does_not_is_silent() {
    let s = drifted_cluster(8);
    let opts = DisruptionOptions { now: Some(3_600), ..DisruptionOptions::default() };
    let (settled, _) = until_stable_state(&s, &opts);
    assert!(settled.rounds > 3, "drift replaces the nodes one a round: {}", show(&settled));
    assert!(!settled.warnings.iter().any(|w| w.contains("max_rounds")), "{:?}", settled.warnings);

    let (cut, end) = until_stable_state(&s, &DisruptionOptions { max_rounds: Some(3), ..opts.clone() });
    assert_eq!(cut.rounds, 3);
    assert_eq!(cut.commands, settled.commands[..cut.commands.len()], "the same commands, fewer of them");
    assert!(cut.warnings.iter().any(|w| w.starts_with("stopped after 3 rounds (max_rounds) while methods still acted")), "{:?}", cut.warnings);
    assert!(end.nodes.iter().any(|n| n.labels.get(&karpsim::labels::Sym::new("tier")).is_none()), "drifted nodes remain");

    // settling exactly at the cap is a whole answer: no warning
    let (exact, _) = until_stable_state(&s, &DisruptionOptions { max_rounds: Some(settled.rounds), ..opts });
    assert_eq!(exact.commands, settled.commands);
    assert!(!exact.warnings.iter().any(|w| w.contains("max_rounds")), "{:?}", exact.warnings);
}
