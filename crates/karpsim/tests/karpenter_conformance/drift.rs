//! `pkg/controllers/disruption/drift_test.go`: drifted nodes replaced or deleted one at a time,
//! within budgets, empty ones first, and the nodes drift leaves alone.
//!
//! A NodeClaim is drifted here because its NodePool's template carries a label (`generation: 2`)
//! the node lacks; a node that is not drifted carries it.

use crate::disruption_harness::*;
use crate::harness::*;
use karpsim::disruption::{Action, Method, allowed_disruptions};
use karpsim::model::DisruptionReason;
use serde_json::json;

const FILE: &str = "disruption/drift_test.go";

const GEN: &str = "generation";

/// The suite's NodePool: consolidateAfter 1h, budget 100%, template label `generation: 2`.
fn np(name: &str) -> NodePool {
    nodepool(name).consolidate_after("1h").budgets(json!([{"nodes": "100%"}])).label(GEN, "2")
}

/// A NodeClaim of the dearest on-demand type, drifted (it lacks the template label) or not. The
/// suite's NodeClaims are not Consolidatable: they were initialized ten minutes ago, within the
/// pool's consolidateAfter.
fn drifted_node(name: &str, pool: &str, alloc: Option<serde_json::Value>) -> Node {
    claim_node(name, pool, &most_od(), alloc).created(&ts(NOW - 600))
}

fn current_node(name: &str, pool: &str) -> Node {
    drifted_node(name, pool, alloc32()).label(GEN, "2")
}

/// A pod of a ReplicaSet bound to `node`.
fn rs_pod(name: &str, node: &str) -> Pod {
    bound(name, node).label("app", "test").owner("ReplicaSet", "rs")
}

/// The context's drifted node `node` (32 cpu) in pool `default`.
fn one() -> Dis {
    let mut d = Dis::new();
    d.apply(np("default")).apply(drifted_node("node", "default", alloc32()));
    d
}

// ---------------------------------------------------------------- budgets

#[test]
fn budget_allows_three() {
    ports!(FILE, "Drift > Budgets > should only consider 3 nodes allowed to be disrupted because of budgets");
    let mut d = Dis::new();
    d.apply(np("default").budgets(json!([{"nodes": "30%"}])));
    for i in 0..10 {
        d.apply(drifted_node(&format!("node-{i}"), "default", alloc32()));
    }
    assert_eq!(allowed_disruptions(&d.e.state(), DisruptionReason::Drifted, NOW)["default"], 3);
}

#[test]
fn budget_with_commands_in_progress() {
    ports!(FILE, "Drift > Budgets > should disrupt 3 nodes, taking into account commands in progress");
    let mut d = Dis::new();
    d.apply(np("default").budgets(json!([{"nodes": "30%"}])));
    for i in 0..10 {
        let name = format!("node-{i}");
        d.apply(if i < 5 { drifted_node(&name, "default", alloc32()) } else { current_node(&name, "default") });
        if i < 5 {
            d.apply(rs_pod(&format!("p-{i}"), &name).cpu("1"));
        }
    }
    let cmds = d.run_commands(5);
    assert_eq!(cmds.len(), 3, "{cmds:#?}");
    assert!(cmds.iter().all(|c| c.method == Method::Drift && c.nodes.len() == 1));
}

#[test]
fn budgets_per_nodepool() {
    ports!(FILE, "Drift > Budgets > should respect budgets for multiple nodepools");
    let mut d = Dis::new();
    d.apply(np("default"));
    for p in 0..10 {
        let pool = format!("pool-{p}");
        d.apply(np(&pool).consolidate_after("Never").budgets(json!([{"nodes": "1"}])).expire_after("Never"));
        for i in 0..3 {
            let name = format!("{pool}-node-{i}");
            d.apply(drifted_node(&name, &pool, alloc32()));
            if i < 2 {
                d.apply(rs_pod(&format!("{pool}-p-{i}"), &name).cpu("1"));
            }
        }
    }
    let cmds = d.run_commands(30);
    assert_eq!(cmds.len(), 10, "{cmds:#?}");
    for p in 0..10 {
        assert_eq!(cmds.iter().filter(|c| c.nodes[0].starts_with(&format!("pool-{p}-"))).count(), 1);
    }
}

// ---------------------------------------------------------------- drift

#[test]
fn next_node_when_first_cannot_move() {
    ports!(FILE, "Drift > Drift > should continue to the next drifted node if the first cannot reschedule all pods");
    let mut d = one();
    d.apply(bound("huge", "node").cpu("150"));
    d.apply(drifted_node("node-2", "default", Some(json!({"cpu": "1", "pods": "100"})))).apply(bound("small", "node-2").cpu("1"));
    let out = d.once();
    let c = out.only();
    assert_eq!((c.method, c.nodes.as_slice()), (Method::Drift, ["node-2".to_string()].as_slice()), "{c:#?}");
}

#[test]
fn not_drifted_ignored() {
    ports!(FILE, "Drift > Drift > should ignore nodes without the drifted status condition");
    let mut d = Dis::new();
    d.apply(np("default")).apply(current_node("node", "default"));
    d.once().none();
}

#[test]
fn drifted_false_ignored() {
    ports!(FILE, "Drift > Drift > should ignore nodes with the drifted status condition set to false");
    let mut d = Dis::new();
    d.apply(np("default")).apply(current_node("node", "default"));
    let out = d.once();
    out.none();
    assert!(out.kept("node").is_none_or(|k| !k.contains("drift")), "{:?}", out.kept("node"));
}

#[test]
fn do_not_disrupt_node_ignored() {
    ports!(FILE, "Drift > Drift > should ignore nodes with the karpenter.sh/do-not-disrupt annotation set to true");
    let mut d = Dis::new();
    d.apply(np("default")).apply(drifted_node("node", "default", alloc32()).annotation("karpenter.sh/do-not-disrupt", "true"));
    let out = d.once();
    out.none();
    out.kept_for("node", "do-not-disrupt");
}

#[test]
fn do_not_disrupt_false_drifts() {
    ports!(FILE, "Drift > Drift > should delete drifted nodes with the karpenter.sh/do-not-disrupt annotation set to false");
    let mut d = Dis::new();
    d.apply(np("default")).apply(drifted_node("node", "default", alloc32()).annotation("karpenter.sh/do-not-disrupt", "false"));
    d.apply(current_node("node-2", "default")).apply(rs_pod("p", "node"));
    d.once().only_is(Method::Drift, Action::Delete, &["node"]);
}

#[test]
fn do_not_disrupt_pod_no_replacement() {
    ports!(FILE, "Drift > Drift > should not create replacements for drifted nodes that have pods with the karpenter.sh/do-not-disrupt annotation set to true");
    let mut d = one();
    d.apply(bound("p", "node").annotation("karpenter.sh/do-not-disrupt", "true"));
    let out = d.once();
    out.none();
    out.kept_for("node", "do-not-disrupt");
}

#[test]
fn do_not_disrupt_pod_no_replacement_2() {
    ports!(
        FILE,
        "Drift > Drift > should not create replacements for drifted nodes that have pods with the karpenter.sh/do-not-disrupt annotation set to true when the NodePool's TerminationGracePeriod is not nil"
    );
    // (the Go case sets no terminationGracePeriod either)
    let mut d = one();
    d.apply(bound("p", "node").annotation("karpenter.sh/do-not-disrupt", "true"));
    let out = d.once();
    out.none();
    out.kept_for("node", "do-not-disrupt");
}

#[test]
fn blocking_pdb_no_replacement() {
    ports!(FILE, "Drift > Drift > should not create replacements for drifted nodes that have pods with the blocking PDBs when the NodePool's TerminationGracePeriod is not nil");
    let mut d = Dis::new();
    d.apply(np("default").termination_grace_period("300s")).apply(drifted_node("node", "default", alloc32()));
    d.apply(bound("p", "node").label("test", "value")).apply(pdb("pdb", &[("test", "value")], json!({"maxUnavailable": 0})));
    // the pod cannot be evicted, so no capacity is launched for it
    let out = d.once();
    assert!(out.r.commands.iter().all(|c| c.replacements.is_empty()), "{:#?}", out.r.commands);
}

#[test]
fn active_do_not_disrupt_duration() {
    ports!(FILE, "Drift > Drift > should not drift nodes with pods that have a duration-based do-not-disrupt annotation that is still active");
    let mut d = one();
    d.apply(bound("p", "node").annotation("karpenter.sh/do-not-disrupt", "2m").set(&["status", "startTime"], json!(ts(NOW))));
    let out = d.once();
    out.none();
    out.kept_for("node", "do-not-disrupt");
    // three minutes later the node is replaced
    d.opts.now = Some(NOW + 180);
    d.once().only_is(Method::Drift, Action::Replace, &["node"]);
}

#[test]
fn invalid_do_not_disrupt_format() {
    ports!(FILE, "Drift > Drift > should drift nodes with pods that have an invalid do-not-disrupt annotation format");
    let mut d = one();
    d.apply(current_node("node-2", "default")).apply(rs_pod("p", "node").annotation("karpenter.sh/do-not-disrupt", "invalid-format"));
    d.once().only_is(Method::Drift, Action::Delete, &["node"]);
}

#[test]
fn longest_do_not_disrupt_duration() {
    ports!(FILE, "Drift > Drift > should not drift nodes until the longest duration-based do-not-disrupt grace period expires across multiple pods");
    let mut d = one();
    for (p, dur) in [("p1", "1m"), ("p2", "3m")] {
        d.apply(bound(p, "node").annotation("karpenter.sh/do-not-disrupt", dur).set(&["status", "startTime"], json!(ts(NOW))));
    }
    d.once().none();
    d.opts.now = Some(NOW + 120);
    d.once().none();
    d.opts.now = Some(NOW + 240);
    d.once().only_is(Method::Drift, Action::Replace, &["node"]);
}

#[test]
fn drifted_node_replaced() {
    ports!(FILE, "Drift > Drift > should replace drifted nodes");
    let mut d = one();
    d.apply(rs_pod("p", "node"));
    let out = d.once();
    let c = out.only_is(Method::Drift, Action::Replace, &["node"]);
    assert_eq!(c.replacements.len(), 1);
}

#[test]
fn drifted_node_deleted() {
    ports!(FILE, "Drift > Drift > should delete drifted nodes");
    let mut d = one();
    d.apply(current_node("node-2", "default")).apply(rs_pod("p", "node"));
    d.once().only_is(Method::Drift, Action::Delete, &["node"]);
}

#[test]
fn empty_drifted_node_deleted_without_consolidation() {
    ports!(FILE, "Drift > Drift > should delete drifted nodes when they are empty and consolidation is disabled");
    let mut d = Dis::new();
    d.apply(np("default").consolidate_after("Never")).apply(drifted_node("node", "default", alloc32()));
    d.once().only_is(Method::Drift, Action::Delete, &["node"]);
}

#[test]
fn empty_drifted_first() {
    ports!(FILE, "Drift > Drift > should drift empty nodes before non-empty nodes");
    let mut d = Dis::new();
    d.apply(np("default").consolidate_after("Never"));
    d.apply(drifted_node("node", "default", alloc32())).apply(drifted_node("node-2", "default", alloc32())).apply(rs_pod("p", "node"));
    d.once().only_is(Method::Drift, Action::Delete, &["node-2"]);
}

#[test]
fn empty_drifted_consolidatable_deleted() {
    ports!(FILE, "Drift > Drift > should delete drifted nodes when they are empty and consolidatable");
    let mut d = Dis::new();
    d.apply(np("default").consolidate_after("0s")).apply(drifted_node("node", "default", alloc32()));
    let out = d.once();
    assert_eq!(out.only().action, Action::Delete);
    assert!(out.acted("node"));
}

#[test]
fn drifted_node_replaced_by_several() {
    ports!(FILE, "Drift > Drift > can replace drifted nodes with multiple nodes");
    let current = ty("current-on-demand").offers_at(&[("test-zone-1a", OD, 0.5)]).unavailable("test-zone-1a", OD);
    let replacement = ty("replacement-on-demand").cpu(3).offers_at(&[("test-zone-1a", OD, 0.3)]);
    let mut d = Dis::with_types(vec![current.clone(), replacement]);
    d.apply(np("default")).apply(claim_node("node", "default", &current, Some(json!({"cpu": "8"}))).created(&ts(NOW - 600)));
    for i in 0..3 {
        d.apply(rs_pod(&format!("p-{i}"), "node").cpu("2"));
    }
    let out = d.once();
    let c = out.only_is(Method::Drift, Action::Replace, &["node"]);
    assert_eq!(c.replacements.len(), 3, "{c:#?}");
}

#[test]
fn static_pool_not_drifted() {
    ports!(FILE, "Drift > Static NodePool > should not consider static nodepool for drift");
    let mut d = Dis::new();
    d.apply(nodepool("static").replicas(2).label(GEN, "2"));
    for n in ["node-0", "node-1"] {
        d.apply(claim_node(n, "static", &least_od(), Some(json!({"cpu": "10", "memory": "1000Mi", "pods": "2"}))));
    }
    // Drift leaves static nodes alone. karpsim holds static NodePools whenever given (Karpenter's
    // StaticCapacity gate on, with a warning), so StaticDrift (`disruption/staticdrift.go`) is what
    // replaces a drifted static node, never Drift.
    let out = d.once();
    assert!(out.r.commands.iter().all(|c| c.method == Method::StaticDrift), "{:#?}", out.r.commands);
}
