//! `pkg/controllers/disruption/balanced_integration_test.go`: the `Balanced` consolidation
//! policy end to end (the scoring functions' own unit tests in `balanced_test.go`,
//! `balanced_scoring_test.go` and `balanced_adversarial_test.go` have no cluster input to port).
//! The events the Go cases also look for are not checked.

use crate::disruption_harness::*;
use crate::harness::*;
use karpsim::disruption::{Action, Method};
use serde_json::{Value, json};

const FILE: &str = "disruption/balanced_integration_test.go";

fn balanced(name: &str) -> NodePool {
    dpool(name, "Balanced").budgets(json!([{"nodes": "100%"}]))
}

fn env() -> Dis {
    let mut d = Dis::new();
    d.apply(balanced("default"));
    d
}

fn node_of(name: &str, t: &Ty, alloc: Value) -> Node {
    claim_node(name, "default", t, Some(alloc))
}

fn a32() -> Value {
    json!({"cpu": "32", "pods": "100"})
}

fn rs_pod(name: &str, node: &str, cpu: &str) -> Pod {
    bound(name, node).label("app", "balanced-test").owner("ReplicaSet", "rs").cpu(cpu)
}

/// The on-demand type half-way up the price order of the assorted catalog (`onDemandInstances[len/2]`).
fn middle_od() -> Ty {
    assorted_type("32-cpu-4-mem-amd64-linux-test-zone-1-on-demand")
}

#[test]
fn oversized_node_replaced() {
    ports!(FILE, "Balanced Consolidation > Single-Node > should approve replacing an oversized node");
    let mut d = env();
    d.apply(node_of("node", &most_od(), a32())).apply(rs_pod("p", "node", "500m"));
    let out = d.once();
    let c = out.only();
    assert_eq!((c.action, c.nodes.as_slice()), (Action::Replace, ["node".to_string()].as_slice()), "{c:#?}");
    assert!(!c.replacements[0].instance_type_options.contains(&most_od().name));
}

#[test]
fn well_packed_node_kept() {
    ports!(FILE, "Balanced Consolidation > Single-Node > should reject replacing a well-packed node");
    let mut d = env();
    d.apply(node_of("node", &least_od(), a32()));
    for i in 0..8 {
        d.apply(rs_pod(&format!("p-{i}"), "node", "3500m"));
    }
    d.once().none();
}

#[test]
fn several_underutilized_nodes() {
    ports!(FILE, "Balanced Consolidation > Multi-Node > should approve consolidating multiple underutilized nodes");
    let mut d = env();
    for i in 0..3 {
        d.apply(node_of(&format!("node-{i}"), &most_od(), a32())).apply(rs_pod(&format!("p-{i}"), &format!("node-{i}"), "1"));
    }
    let out = d.once();
    assert!(out.only().nodes.len() >= 2, "{:#?}", out.r);
}

#[test]
fn zero_budget() {
    ports!(FILE, "Balanced Consolidation > Budgets > should block disruption when budget is 0%");
    let mut d = Dis::new();
    d.apply(balanced("default").budgets(json!([{"nodes": "0%"}])));
    d.apply(node_of("node", &most_od(), a32())).apply(rs_pod("p", "node", "500m"));
    d.once().none();
}

#[test]
fn empty_before_underutilized() {
    ports!(FILE, "Balanced Consolidation > Priority Ordering > should consolidate empty nodes before non-empty nodes when budget is limited");
    let mut d = Dis::new();
    d.apply(balanced("default").budgets(json!([{"nodes": "1"}])));
    d.apply(node_of("empty", &most_od(), a32())).apply(node_of("busy", &most_od(), a32())).apply(rs_pod("p", "busy", "500m"));
    let out = d.once();
    let c = out.only();
    assert!(c.nodes.contains(&"empty".to_string()) && !c.nodes.contains(&"busy".to_string()), "{c:#?}");
}

#[test]
fn delete_when_pods_fit() {
    ports!(FILE, "Balanced Consolidation > Decision and Savings > should choose delete when pods fit on existing nodes");
    let source = middle_od();
    let mut d = env();
    d.apply(node_of("a", &source, a32())).apply(rs_pod("pa", "a", "1"));
    d.apply(node_of("b", &source, a32()));
    for i in 0..30 {
        d.apply(rs_pod(&format!("pb-{i}"), "b", "1"));
    }
    let out = d.once();
    let c = out.r.commands.iter().find(|c| c.action == Action::Delete).unwrap_or_else(|| panic!("{:#?}", out.r));
    assert!((c.savings_per_hour - source.price()).abs() < 0.01, "{c:#?}");
}

#[test]
fn replace_when_cheaper_node_needed() {
    ports!(FILE, "Balanced Consolidation > Decision and Savings > should choose replace when pods need a new cheaper node");
    let mut d = env();
    d.apply(node_of("a", &most_od(), a32())).apply(rs_pod("pa", "a", "2"));
    let out = d.once();
    let c = out.only();
    assert_eq!(c.action, Action::Replace);
    assert!(c.savings_per_hour > 0.0 && c.savings_per_hour < most_od().price(), "{c:#?}");
}

#[test]
fn highest_ratio_first() {
    ports!(FILE, "Balanced Consolidation > Ratio Sort in Multi-Node > should select highest-ratio candidates first when nodes have heterogeneous prices and pod counts");
    let mut d = env();
    d.apply(node_of("a", &most_od(), a32())).apply(node_of("b", &middle_od(), a32())).apply(node_of("c", &least_od(), json!({"cpu": "4", "pods": "100"})));
    for i in 0..10 {
        d.apply(rs_pod(&format!("pa-{i}"), "a", "100m"));
    }
    d.apply(rs_pod("pb", "b", "100m"));
    for i in 0..8 {
        d.apply(rs_pod(&format!("pc-{i}"), "c", "100m"));
    }
    let out = d.once();
    let c = out.r.commands.first().unwrap_or_else(|| panic!("{:#?}", out.r));
    let b = c.nodes.iter().position(|n| n == "b").unwrap_or_else(|| panic!("b not in {c:#?}"));
    if let Some(cc) = c.nodes.iter().position(|n| n == "c") {
        assert!(b < cc, "{c:#?}");
    }
}

#[test]
fn mixed_policies() {
    ports!(FILE, "Balanced Consolidation > Mixed-Policy NodePools > should apply scoring to Balanced pools while non-Balanced pools consolidate normally");
    let mut d = Dis::new();
    d.apply(dpool("balanced", "Balanced")).apply(dpool("plain", "WhenEmptyOrUnderutilized"));
    d.apply(claim_node("balanced-node", "balanced", &most_od(), Some(a32()))).apply(rs_pod("pb", "balanced-node", "500m"));
    d.apply(claim_node("plain-node", "plain", &most_od(), Some(a32()))).apply(rs_pod("pp", "plain-node", "500m"));
    let cmds = d.run_commands(4);
    for n in ["balanced-node", "plain-node"] {
        assert!(cmds.iter().any(|c| c.nodes.iter().any(|x| x == n)), "{n} kept: {cmds:#?}");
    }
    assert!(cmds.iter().all(|c| matches!(c.method, Method::SingleNode | Method::MultiNode)));
}
