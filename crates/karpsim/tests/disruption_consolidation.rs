//! Consolidation (Karpenter v1.14.1 `consolidation.go`, `multinodeconsolidation.go`,
//! `singlenodeconsolidation.go`, `balanced.go`), candidate order, topology after the move, drift.

#[path = "disruption_common/mod.rs"]
mod common;

use common::*;
use karpsim::disruption::{Action, CandidateOrder, Command, DisruptionOptions, Method};
use serde_json::{json, Value};

fn require(pool: &mut Value, key: &str, op: &str, values: &[&str]) {
    pool["spec"]["template"]["spec"]["requirements"].as_array_mut().unwrap().push(json!({"key": key, "operator": op, "values": values}));
}

fn set_capacity_types(pool: &mut Value, cts: &[&str]) {
    pool["spec"]["template"]["spec"]["requirements"][0]["values"] = json!(cts);
}

fn replacement(c: &Command) -> (&str, &str, &str, f64) {
    assert_eq!(c.replacements.len(), 1, "{c:#?}");
    let r = &c.replacements[0];
    (r.instance_type.as_str(), r.zone.as_str(), r.capacity_type.as_str(), r.price_per_hour)
}

fn anti_affinity(pod: &mut Value, group: &str) {
    pod["metadata"]["labels"]["grp"] = json!(group);
    pod["spec"]["affinity"] = json!({"podAntiAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [
        {"labelSelector": {"matchLabels": {"grp": group}}, "topologyKey": "kubernetes.io/hostname"}]}});
}

// ---------------------------------------------------------------- delete vs replace

/// A node whose pods fit on the rest of the cluster is deleted, the pods going to the other node.
#[test]
fn delete_when_pods_fit_elsewhere() {
    let mut w = World::new(std_types());
    w.pool("default", "WhenEmptyOrUnderutilized", all());
    w.node("n-big", Some("default"), "large", "z1", "on-demand");
    w.node("n-small", Some("default"), "medium", "z1", "on-demand");
    w.pod("batch", Some("n-big"), 6000);
    w.pod("web", Some("n-small"), 1000);
    let r = w.once();
    let c = only(&r);
    assert_cmd(c, Method::SingleNode, Action::Delete, &["n-small"]);
    assert_eq!(c.pods.iter().map(|p| (p.pod.as_str(), p.to.as_str())).collect::<Vec<_>>(), vec![("default/web", "n-big")]);
    assert!((c.savings_per_hour - 0.20).abs() < 1e-9);
}

/// A lone underused node is replaced by exactly one cheaper node; options are the strictly
/// cheaper types only.
#[test]
fn replace_with_one_cheaper_node() {
    let mut w = World::new(std_types());
    w.pool("default", "WhenEmptyOrUnderutilized", all());
    w.node("n1", Some("default"), "large", "z2", "on-demand");
    w.pod("web", Some("n1"), 1000);
    let r = w.once();
    let c = only(&r);
    assert_cmd(c, Method::SingleNode, Action::Replace, &["n1"]);
    assert_eq!(replacement(c), ("small", "z1", "on-demand", 0.10));
    assert_eq!(c.replacements[0].instance_type_options, vec!["small", "medium"]);
    assert_eq!(c.pods[0].to, "replacement-0");
}

/// Never replace one node with two, even when two are cheaper.
#[test]
fn never_replace_with_two_nodes() {
    let mut w = World::new(vec![ty("large", 8, 16, Some(0.40), None), ty("xlarge", 16, 32, Some(2.00), None)]);
    w.pool("default", "WhenEmptyOrUnderutilized", all());
    w.node("n1", Some("default"), "xlarge", "z1", "on-demand");
    anti_affinity(w.pod("a", Some("n1"), 7000), "x");
    anti_affinity(w.pod("b", Some("n1"), 7000), "x");
    let r = w.once();
    assert_no_command(&r);
    assert_kept(&r, "n1", "2 new nodes");
}

// ---------------------------------------------------------------- price rules

/// The design's WorstLaunchPrice example: current on-demand node at $0.50; the only smaller type
/// has spot offerings at 1.00/0.20/0.40, so its worst spot price (1.00) is not below 0.50.
#[test]
fn worst_launch_price_blocks_a_replacement_with_one_cheap_spot_offering() {
    let cheap = |z1: f64| Ty {
        name: "cheap".into(),
        cpu: 4,
        mem_gi: 8,
        offers: vec![
            ("z1".into(), "spot", z1),
            ("z2".into(), "spot", 0.20),
            ("z3".into(), "spot", 0.40),
            ("z1".into(), "on-demand", 0.30),
            ("z2".into(), "on-demand", 0.30),
            ("z3".into(), "on-demand", 0.30),
        ],
    };
    let mut w = World::new(vec![ty("cur", 8, 16, Some(0.50), None), cheap(1.00)]);
    set_capacity_types(w.pool("default", "WhenEmptyOrUnderutilized", all()), &["on-demand", "spot"]);
    w.node("n1", Some("default"), "cur", "z1", "on-demand");
    w.pod("web", Some("n1"), 1000);
    let r = w.once();
    assert_no_command(&r);
    assert_kept(&r, "n1", "no cheaper replacement");

    // every spot offering below 0.50: replaced, on spot
    w.types[1] = cheap(0.45);
    let r = w.once();
    let c = only(&r);
    assert_cmd(c, Method::SingleNode, Action::Replace, &["n1"]);
    let (it, _, ct, price) = replacement(c);
    assert_eq!((it, ct), ("cheap", "spot"));
    assert!(price < 0.50);
}

/// An on-demand node replaced under a NodePool that allows spot and on-demand is replaced by spot;
/// an on-demand-only NodePool gets on-demand.
#[test]
fn on_demand_replacement_is_forced_to_spot_when_both_allowed() {
    let mut w = World::new(vec![ty("cur", 8, 16, Some(0.50), None), ty("cheap", 4, 8, Some(0.30), Some(0.10))]);
    set_capacity_types(w.pool("default", "WhenEmptyOrUnderutilized", all()), &["on-demand", "spot"]);
    w.node("n1", Some("default"), "cur", "z1", "on-demand");
    w.pod("web", Some("n1"), 1000);
    let r = w.once();
    assert_eq!(replacement(only(&r)), ("cheap", "z1", "spot", 0.10));

    set_capacity_types(w.get("NodePool", "default"), &["on-demand"]);
    let r = w.once();
    assert_eq!(replacement(only(&r)), ("cheap", "z1", "on-demand", 0.30));
}

/// big: 8 cpu spot at $1; `n` 2-cpu spot types t00.. at $0.01, $0.02, ...
fn spot_world(n: usize) -> World {
    let mut types = vec![ty("big", 8, 16, None, Some(1.00))];
    for i in 0..n {
        types.push(ty(&format!("t{i:02}"), 2, 4, None, Some(0.01 * (i + 1) as f64)));
    }
    let mut w = World::new(types);
    set_capacity_types(w.pool("default", "WhenEmptyOrUnderutilized", all()), &["spot"]);
    w.node("n1", Some("default"), "big", "z1", "spot");
    w.pod("web", Some("n1"), 1000);
    w
}

#[test]
fn spot_to_spot_is_off_by_default() {
    let r = spot_world(20).once();
    assert_no_command(&r);
    assert_kept(&r, "n1", "spot-to-spot");
}

/// With the gate on, single-node spot-to-spot needs 15 cheaper types and keeps the 15 cheapest.
#[test]
fn spot_to_spot_needs_fifteen_cheaper_types_and_truncates() {
    let o = DisruptionOptions { spot_to_spot: true, ..opts() };
    let r = spot_world(20).once_with(&o);
    let c = only(&r);
    assert_cmd(c, Method::SingleNode, Action::Replace, &["n1"]);
    let want: Vec<String> = (0..15).map(|i| format!("t{i:02}")).collect();
    assert_eq!(c.replacements[0].instance_type_options, want);
    assert_eq!(replacement(c).2, "spot");

    let r = spot_world(14).once_with(&o);
    assert_no_command(&r);
    assert_kept(&r, "n1", "14 cheaper");
    assert_eq!(only(&spot_world(15).once_with(&o)).replacements[0].instance_type_options.len(), 15);
}

// ---------------------------------------------------------------- multi-node

/// Two underused mediums merge into one large that costs less than both.
#[test]
fn multi_node_merges_two_nodes_into_one_cheaper() {
    let mut w = World::new(vec![ty("small", 2, 4, Some(0.10), None), ty("medium", 4, 8, Some(0.20), None), ty("large", 8, 16, Some(0.30), None)]);
    w.pool("default", "WhenEmptyOrUnderutilized", all());
    w.node("n1", Some("default"), "medium", "z1", "on-demand");
    w.node("n2", Some("default"), "medium", "z2", "on-demand");
    w.pod("a", Some("n1"), 2500);
    w.pod("b", Some("n2"), 2500);
    let r = w.once();
    let c = only(&r);
    assert_cmd(c, Method::MultiNode, Action::Replace, &["n1", "n2"]);
    assert_eq!(replacement(c).0, "large");
    assert!((c.savings_per_hour - 0.10).abs() < 1e-9, "{c:#?}");
    assert!(c.pods.iter().all(|p| p.to == "replacement-0"));
}

/// `filterOutSameInstanceType`: two smalls are not merged into one small; one is deleted instead.
#[test]
fn multi_node_does_not_merge_into_the_same_type() {
    let mut w = World::new(std_types());
    w.pool("default", "WhenEmptyOrUnderutilized", all());
    w.node("n1", Some("default"), "small", "z1", "on-demand");
    w.node("n2", Some("default"), "small", "z1", "on-demand");
    w.pod("a", Some("n1"), 500);
    w.pod("b", Some("n2"), 500);
    let r = w.once();
    assert_cmd(only(&r), Method::SingleNode, Action::Delete, &["n1"]);
}

// ---------------------------------------------------------------- policies

#[test]
fn when_empty_pool_is_not_consolidated_when_non_empty() {
    let mut w = World::new(std_types());
    w.pool("default", "WhenEmpty", all());
    w.node("n1", Some("default"), "large", "z2", "on-demand");
    w.pod("web", Some("n1"), 1000);
    let r = w.once();
    assert_no_command(&r);
    assert_kept(&r, "n1", "WhenEmpty");
}

/// Balanced: A (large, 1 small pod) and B (small, too full to take A's pod). Replacing A by a small saves 0.30 of 0.50
/// (60 % of the cost for 50 % of the disruption: approved). With a small at 0.38 the saving is
/// 0.02 of 0.78 (score 0.05 < 0.5): rejected, though WhenEmptyOrUnderutilized takes it.
/// (b's 1.6 cpu pod fits on a, a's 0.5 cpu pod does not fit on b.)
fn balanced_world(policy: &str, small_price: f64) -> World {
    let mut w = World::new(vec![ty("small", 2, 4, Some(small_price), None), ty("medium", 4, 8, Some(0.90), None), ty("large", 8, 16, Some(0.40), None)]);
    w.pool("default", policy, all());
    w.node("a", Some("default"), "large", "z1", "on-demand");
    w.node("b", Some("default"), "small", "z1", "on-demand");
    w.pod("web", Some("a"), 500);
    w.pod("api", Some("b"), 1600);
    w
}

#[test]
fn balanced_approves_a_big_saving() {
    let r = balanced_world("Balanced", 0.10).once();
    let c = only(&r);
    assert_cmd(c, Method::SingleNode, Action::Replace, &["a"]);
    assert_eq!(replacement(c).0, "small");
}

#[test]
fn balanced_rejects_a_tiny_saving() {
    // a is tried first (savings ratio 0.20 vs 0.19) and rejected; deleting b (its pod fits on a)
    // saves 0.38 of 0.78 for half the disruption: approved
    let r = balanced_world("Balanced", 0.38).once();
    assert_cmd(only(&r), Method::SingleNode, Action::Delete, &["b"]);
    assert_kept(&r, "a", "Balanced");
    let r = balanced_world("WhenEmptyOrUnderutilized", 0.38).once();
    assert_eq!(replacement(only(&r)), ("small", "z1", "on-demand", 0.38));
}

// ---------------------------------------------------------------- candidate order

/// Budget 1 (so single-node decides). n1: medium $0.20, one pod (ratio 0.10, cost 1);
/// n2: large $0.40, two pods (ratio 0.133, cost 2). Each's pods fit on the other.
/// v1.14 savings ratio tries n2 first; the old disruption-cost order tries n1 first.
#[test]
fn candidate_order_savings_ratio_vs_disruption_cost() {
    let mut w = World::new(std_types());
    w.pool("default", "WhenEmptyOrUnderutilized", json!([{"nodes": "1"}]));
    w.node("n1", Some("default"), "medium", "z1", "on-demand");
    w.node("n2", Some("default"), "large", "z1", "on-demand");
    w.pod("p1", Some("n1"), 1000);
    w.pod("p2", Some("n2"), 500);
    w.pod("p3", Some("n2"), 500);
    assert_cmd(only(&w.once()), Method::SingleNode, Action::Delete, &["n2"]);
    let o = DisruptionOptions { candidate_order: CandidateOrder::DisruptionCost, ..opts() };
    assert_cmd(only(&w.once_with(&o)), Method::SingleNode, Action::Delete, &["n1"]);
}

// ---------------------------------------------------------------- topology after the move

/// Hostname anti-affinity: each node's pod refuses the other node, and a new medium is not
/// cheaper: nothing happens. Without the anti-affinity one node is deleted.
#[test]
fn hostname_anti_affinity_blocks_consolidation() {
    let mut w = World::new(std_types());
    require(w.pool("default", "WhenEmptyOrUnderutilized", all()), "node.kubernetes.io/instance-type", "In", &["medium"]);
    w.node("n1", Some("default"), "medium", "z1", "on-demand");
    w.node("n2", Some("default"), "medium", "z1", "on-demand");
    anti_affinity(w.pod("a", Some("n1"), 1000), "web");
    anti_affinity(w.pod("b", Some("n2"), 1000), "web");
    assert_no_command(&w.once());
    for p in ["a", "b"] {
        w.get("Pod", p)["spec"].as_object_mut().unwrap().remove("affinity");
    }
    assert_cmd(only(&w.once()), Method::SingleNode, Action::Delete, &["n1"]);
}

/// Zone spread (maxSkew 1 over z1, z2): the pod of the z1 node cannot join its sibling in z2, so
/// the node is replaced by a smaller one in z1 (and the two nodes cannot merge into one node).
/// Without the constraint both merge into one small.
#[test]
fn zone_spread_is_kept_when_moving_pods() {
    let mut w = World::new(std_types());
    require(w.pool("default", "WhenEmptyOrUnderutilized", all()), "topology.kubernetes.io/zone", "In", &["z1", "z2"]);
    w.node("n1", Some("default"), "large", "z1", "on-demand");
    w.node("n2", Some("default"), "large", "z2", "on-demand");
    for (p, n) in [("s1", "n1"), ("s2", "n2")] {
        let pod = w.pod(p, Some(n), 1000);
        pod["metadata"]["labels"]["grp"] = json!("s");
        pod["spec"]["topologySpreadConstraints"] =
            json!([{"maxSkew": 1, "topologyKey": "topology.kubernetes.io/zone", "whenUnsatisfiable": "DoNotSchedule", "labelSelector": {"matchLabels": {"grp": "s"}}}]);
    }
    let r = w.once();
    let c = only(&r);
    assert_cmd(c, Method::SingleNode, Action::Replace, &["n1"]);
    assert_eq!(replacement(c), ("small", "z1", "on-demand", 0.10));
    for p in ["s1", "s2"] {
        w.get("Pod", p)["spec"].as_object_mut().unwrap().remove("topologySpreadConstraints");
    }
    assert_cmd(only(&w.once()), Method::MultiNode, Action::Replace, &["n1", "n2"]);
}

// ---------------------------------------------------------------- drift

/// Nodes whose instance type the NodePool no longer allows are drifted: one node per round (the
/// oldest), replaced with whatever the pods need, with no price check.
#[test]
fn drift_replaces_one_node_without_price_check() {
    let mut w = World::new(std_types());
    require(w.pool("default", "WhenEmptyOrUnderutilized", all()), "node.kubernetes.io/instance-type", "In", &["xlarge"]);
    w.node("d1", Some("default"), "medium", "z1", "on-demand")["metadata"]["creationTimestamp"] = json!(ts(NOW - 3 * DAY));
    w.node("d2", Some("default"), "medium", "z1", "on-demand")["metadata"]["creationTimestamp"] = json!(ts(NOW - 2 * DAY));
    w.pod("a", Some("d1"), 3000);
    w.pod("b", Some("d2"), 3000);
    let r = w.once();
    let c = only(&r);
    assert_cmd(c, Method::Drift, Action::Replace, &["d1"]);
    assert_eq!(replacement(c).0, "xlarge");
    assert!(c.savings_per_hour < 0.0, "drift has no price check: {c:#?}");
}

/// Drift replacements are not limited to one node.
#[test]
fn drift_may_need_several_replacements() {
    let mut w = World::new(std_types());
    require(w.pool("default", "WhenEmptyOrUnderutilized", all()), "node.kubernetes.io/instance-type", "In", &["large"]);
    w.node("d1", Some("default"), "xlarge", "z1", "on-demand");
    anti_affinity(w.pod("a", Some("d1"), 7000), "x");
    anti_affinity(w.pod("b", Some("d1"), 7000), "x");
    let r = w.once();
    let c = only(&r);
    assert_cmd(c, Method::Drift, Action::Replace, &["d1"]);
    assert_eq!(c.replacements.iter().map(|r| r.instance_type.as_str()).collect::<Vec<_>>(), vec!["large", "large"]);
}

#[test]
fn drifted_node_whose_pods_cannot_move_is_kept() {
    let mut w = World::new(std_types());
    require(w.pool("default", "WhenEmptyOrUnderutilized", all()), "node.kubernetes.io/instance-type", "In", &["small"]);
    w.node("d1", Some("default"), "large", "z1", "on-demand");
    w.pod("big", Some("d1"), 3000);
    let r = w.once();
    assert_no_command(&r);
    let why = kept(&r, "d1");
    assert!(why.contains("drifted") && why.contains("could not be rescheduled"), "{why}");
}

/// Drift reasons show the operator the NodePool was written with (`Gt 5`), not the inclusive bound
/// Karpenter holds it as (`Gte 6`).
#[test]
fn drift_reason_shows_the_operator_as_written() {
    let mut w = World::new(std_types());
    require(w.pool("default", "WhenEmptyOrUnderutilized", all()), "example.com/generation", "Gt", &["5"]);
    w.node("d1", Some("default"), "medium", "z1", "on-demand")["metadata"]["labels"]["example.com/generation"] = json!("5");
    w.pod("a", Some("d1"), 3000);
    let r = w.once();
    let c = only(&r);
    assert_eq!(c.method, Method::Drift);
    assert!(c.reason.contains("example.com/generation Gt 5 but only In [5]"), "{}", c.reason);
}

/// A pool requiring `example.com/generation Gt 5` and node `d1` (generation 6, one pod), checked
/// once: not drifted.
fn generation_world() -> World {
    let mut w = World::new(std_types());
    require(w.pool("default", "WhenEmptyOrUnderutilized", all()), "example.com/generation", "Gt", &["5"]);
    w.node("d1", Some("default"), "medium", "z1", "on-demand")["metadata"]["labels"]["example.com/generation"] = json!("6");
    w.pod("a", Some("d1"), 3000);
    assert_no_command(&w.once());
    w
}

/// A node relabelled between two rounds is judged by its labels now (drift verdicts are kept from
/// one round to the next, per node, while its labels and its pool's requirements stay the same).
#[test]
fn drift_follows_a_node_relabelled_between_rounds() {
    let mut w = generation_world();
    w.get("Node", "d1")["metadata"]["labels"]["example.com/generation"] = json!("5");
    let r = w.once();
    assert_eq!(only(&r).method, Method::Drift, "generation 5 is no longer Gt 5: {r:#?}");
    // and back: the node is no longer drifted
    w.get("Node", "d1")["metadata"]["labels"]["example.com/generation"] = json!("7");
    assert_no_command(&w.once());
}

/// A NodePool whose requirements change between two rounds is judged by its requirements now
/// (each pool's parsed requirements are kept from one round to the next while they stay as
/// written, and drift verdicts are checked against them by pointer).
#[test]
fn drift_follows_a_nodepool_edited_between_rounds() {
    let mut w = generation_world();
    let reqs = &mut w.get("NodePool", "default")["spec"]["template"]["spec"]["requirements"];
    let last = reqs.as_array().unwrap().len() - 1;
    reqs[last]["values"] = json!(["6"]);
    let r = w.once();
    assert_eq!(only(&r).method, Method::Drift, "generation 6 is no longer Gt 6: {r:#?}");
    // and back: the node is no longer drifted
    let reqs = &mut w.get("NodePool", "default")["spec"]["template"]["spec"]["requirements"];
    reqs[last]["values"] = json!(["5"]);
    assert_no_command(&w.once());
}
