//! `pkg/controllers/disruption/emptiness_test.go`: empty nodes deleted within budgets, and the
//! nodes that are not empty or not candidates kept.

use crate::disruption_harness::*;
use crate::harness::*;
use karpsim::disruption::{Action, Method};
use serde_json::json;

const FILE: &str = "disruption/emptiness_test.go";

/// The suite's NodePool: WhenEmpty, `consolidateAfter: 0s`, budget 100%.
fn np() -> NodePool {
    dpool("default", "WhenEmpty").budgets(json!([{"nodes": "100%"}]))
}

/// The suite's two NodeClaims: the cheapest spot type, 32 cpu allocatable.
fn two() -> Dis {
    let mut d = Dis::new();
    d.apply(np());
    for n in ["node-0", "node-1"] {
        d.apply(claim_node(n, "default", &least_spot(), alloc32()));
    }
    d
}

/// `n` empty nodes of the cheapest on-demand type in `pool`.
fn empty_nodes(d: &mut Dis, pool: &str, n: usize) -> Vec<String> {
    let names = numbered(&format!("{pool}-node"), n);
    for name in &names {
        d.apply(claim_node(name, pool, &least_od(), alloc32()));
    }
    names
}

fn budget_run(budget: &str) -> (Vec<String>, Dout) {
    let mut d = Dis::new();
    d.apply(np().budgets(json!([{"nodes": budget}])));
    let nodes = empty_nodes(&mut d, "default", 10);
    (nodes, d.once())
}

#[test]
fn budget_all() {
    ports!(FILE, "Emptiness > Budgets > should allow all empty nodes to be disrupted");
    let (nodes, out) = budget_run("100%");
    let want: Vec<&str> = nodes.iter().map(String::as_str).collect();
    out.only_is(Method::Emptiness, Action::Delete, &want);
}

#[test]
fn budget_none() {
    ports!(FILE, "Emptiness > Budgets > should allow no empty nodes to be disrupted");
    budget_run("0%").1.none();
}

#[test]
fn budget_three() {
    ports!(FILE, "Emptiness > Budgets > should only allow 3 empty nodes to be disrupted");
    let (_, out) = budget_run("30%");
    assert_eq!(out.only().nodes.len(), 3);
}

/// Ten NodePools of three empty nodes each, with a budget, beside the suite's pool.
fn pools_run(budget: &str) -> Dout {
    let mut d = Dis::new();
    d.apply(np());
    for i in 0..10 {
        let name = format!("pool-{i}");
        d.apply(dpool(&name, "WhenEmpty").consolidate_after("30s").budgets(json!([{"nodes": budget}])));
        empty_nodes(&mut d, &name, 3);
    }
    d.once()
}

#[test]
fn budget_two_per_pool() {
    ports!(FILE, "Emptiness > Budgets > should allow 2 nodes from each nodePool to be deleted");
    let out = pools_run("50%");
    let c = out.only();
    assert_eq!(c.nodes.len(), 20);
    for i in 0..10 {
        assert_eq!(c.nodes.iter().filter(|n| n.starts_with(&format!("pool-{i}-"))).count(), 2, "{c:#?}");
    }
}

#[test]
fn budget_all_per_pool() {
    ports!(FILE, "Emptiness > Budgets > should allow all nodes from each nodePool to be deleted");
    assert_eq!(pools_run("100%").only().nodes.len(), 30);
}

#[test]
fn empty_node_deleted() {
    ports!(FILE, "Emptiness > Emptiness > can delete empty nodes");
    let mut d = Dis::new();
    d.apply(np()).apply(claim_node("node-0", "default", &least_spot(), alloc32()));
    d.once().only_is(Method::Emptiness, Action::Delete, &["node-0"]);
}

#[test]
fn empty_drifted_node_deleted() {
    ports!(FILE, "Emptiness > Emptiness > can delete empty and drifted nodes");
    let mut d = Dis::new();
    // drifted: the NodePool's template now carries a label the node lacks
    d.apply(np().label("team", "new")).apply(claim_node("node-0", "default", &least_spot(), alloc32()));
    let out = d.once();
    assert_eq!(out.only().action, Action::Delete);
    assert!(out.acted("node-0"));
}

#[test]
fn not_consolidatable_ignored() {
    ports!(FILE, "Emptiness > Emptiness > should ignore nodes without the consolidatable status condition");
    // Consolidatable is set once consolidateAfter has passed; the nodes are an hour old
    let mut d = Dis::new();
    d.apply(np().consolidate_after("2h")).apply(claim_node("node-0", "default", &least_spot(), alloc32()));
    let out = d.once();
    out.none();
    out.kept_for("node-0", "consolidateAfter");
}

#[test]
fn do_not_disrupt_node_ignored() {
    ports!(FILE, "Emptiness > Emptiness > should ignore nodes with the karpenter.sh/do-not-disrupt annotation");
    let mut d = Dis::new();
    d.apply(np()).apply(claim_node("node-0", "default", &least_spot(), alloc32()).annotation("karpenter.sh/do-not-disrupt", "true"));
    let out = d.once();
    out.none();
    out.kept_for("node-0", "do-not-disrupt");
}

#[test]
fn do_not_disrupt_false_deleted() {
    ports!(FILE, "Emptiness > Emptiness > should delete nodes with the karpenter.sh/do-not-disrupt annotation set to false");
    let mut d = Dis::new();
    d.apply(np()).apply(claim_node("node-0", "default", &least_spot(), alloc32()).annotation("karpenter.sh/do-not-disrupt", "false"));
    d.once().only_is(Method::Emptiness, Action::Delete, &["node-0"]);
}

#[test]
fn node_with_pods_ignored() {
    ports!(FILE, "Emptiness > Emptiness > should ignore nodes that have pods");
    let mut d = Dis::new();
    d.apply(np()).apply(claim_node("node-0", "default", &least_spot(), alloc32())).apply(bound("p", "node-0"));
    d.once().none();
}

#[test]
fn consolidatable_false_ignored() {
    ports!(FILE, "Emptiness > Emptiness > should ignore nodes with the consolidatable status condition set to false");
    // Consolidatable=False: a pod event more recent than consolidateAfter (a pod that just left)
    let mut d = Dis::new();
    d.apply(np().consolidate_after("30m"));
    d.apply(claim_node("node-0", "default", &least_spot(), alloc32()));
    d.apply(bound("done", "node-0").phase("Succeeded").set(&["status", "startTime"], json!(ts(NOW - 60))));
    let out = d.once();
    out.none();
    out.kept_for("node-0", "consolidateAfter");
}

#[test]
fn several_empty_nodes_deleted() {
    ports!(FILE, "Emptiness > can delete multiple empty nodes");
    two().once().only_is(Method::Emptiness, Action::Delete, &["node-0", "node-1"]);
}

#[test]
fn pending_pods_considered() {
    ports!(FILE, "Emptiness > considers pending pods when consolidating");
    let big = assorted_type("64-cpu-1-mem-amd64-linux-test-zone-1-on-demand");
    let mut d = Dis::new();
    d.apply(np()).apply(claim_node("node-0", "default", &big, Some(json!({"cpu": "64", "pods": "5"}))));
    d.apply(bound("p", "node-0").cpu("1")).apply(pod("unsched").cpu("62"));
    d.once().none();
}

#[test]
fn daemonset_pod_is_empty() {
    ports!(FILE, "Emptiness > will consider a node with a DaemonSet pod as empty");
    let mut d = Dis::new();
    d.apply(np()).apply(claim_node("node-0", "default", &least_od(), alloc32()));
    d.apply(daemonset("ds", pod("ds"))).apply(bound("ds-abcde", "node-0").owner("DaemonSet", "ds"));
    d.once().only_is(Method::Emptiness, Action::Delete, &["node-0"]);
}

#[test]
fn terminating_deployment_pods_are_empty() {
    ports!(FILE, "Emptiness > will consider a node with terminating Deployment pods as empty");
    let mut d = Dis::new();
    d.apply(np()).apply(claim_node("node-0", "default", &least_od(), alloc32()));
    for i in 0..3 {
        d.apply(bound(&format!("web-{i}"), "node-0").owner("ReplicaSet", "web").deleting(&ts(NOW - 10)));
    }
    d.once().only_is(Method::Emptiness, Action::Delete, &["node-0"]);
}

#[test]
fn terminating_statefulset_pod_not_empty() {
    ports!(FILE, "Emptiness > will not consider a node with a terminating StatefulSet pod as empty");
    let mut d = Dis::new();
    d.apply(np()).apply(claim_node("node-0", "default", &least_od(), alloc32()));
    d.apply(bound("db-0", "node-0").owner("StatefulSet", "db").deleting(&ts(NOW - 10)));
    d.once().none();
}

#[test]
fn static_pool_nodes_not_consolidated() {
    ports!(FILE, "Emptiness > Static NodePool > should not consolidate static NodePool nodes");
    let mut d = Dis::new();
    d.apply(nodepool("static").replicas(2));
    for n in ["node-0", "node-1"] {
        d.apply(claim_node(n, "static", &least_od(), Some(json!({"cpu": "10", "memory": "1000Mi", "pods": "2"}))));
    }
    d.once().none();
}
