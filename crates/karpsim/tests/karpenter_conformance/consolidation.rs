//! `pkg/controllers/disruption/consolidation_test.go`: consolidation within budgets, replacing a
//! node with a cheaper one (spot-to-spot rules included), deleting nodes whose pods fit elsewhere,
//! merging several nodes, and what blocks it (PDBs, do-not-disrupt, uninitialized destinations,
//! topology, consolidateAfter). The suite turns `SpotToSpotConsolidation` on.

use crate::disruption_harness::*;
use crate::harness::*;
use karpsim::disruption::{Action, Command, Method};
use karpsim::scheduling::{MinValuesPolicy, PreferencePolicy};
use serde_json::{Value, json};

const FILE: &str = "disruption/consolidation_test.go";

/// The suite's NodePool (WhenEmptyOrUnderutilized, consolidateAfter 0s, budget 100%), spot-to-spot on.
fn cons() -> Dis {
    let mut d = Dis::new();
    d.opts.spot_to_spot = true;
    d.apply(pool("default"));
    d
}

fn pool(name: &str) -> NodePool {
    dpool(name, "WhenEmptyOrUnderutilized").budgets(json!([{"nodes": "100%"}]))
}

fn cpu(n: &str) -> Option<Value> {
    Some(json!({"cpu": n}))
}

/// The suite's `nodeClaim`/`spotNodeClaim`: the dearest on-demand or spot type, 32 cpu.
fn dear(name: &str, spot: bool) -> Node {
    claim_node(name, "default", &if spot { most_spot() } else { most_od() }, cpu("32"))
}

/// A pod of the ReplicaSet `rs` bound to `node`.
fn rs_pod(name: &str, node: &str) -> Pod {
    bound(name, node).label("app", "test").owner("ReplicaSet", "rs")
}

#[track_caller]
fn replaced<'a>(out: &'a Dout, node: &str) -> &'a Command {
    let c = out.only();
    assert_eq!((c.action, c.nodes.as_slice()), (Action::Replace, [node.to_string()].as_slice()), "{c:#?}");
    assert_eq!(c.replacements.len(), 1, "{c:#?}");
    c
}

#[track_caller]
fn deleted<'a>(out: &'a Dout, nodes: &[&str]) -> &'a Command {
    let c = out.only();
    assert_eq!(c.action, Action::Delete, "{c:#?}");
    let mut got: Vec<&str> = c.nodes.iter().map(String::as_str).collect();
    got.sort();
    assert_eq!(got, nodes, "{c:#?}");
    c
}

// ---------------------------------------------------------------- budgets

/// Ten of the dearest nodes (32 cpu, 100 pods) in the suite's pool with a budget.
fn ten(budget: &str) -> Dis {
    let mut d = cons();
    *d.e.get("NodePool", "default") = pool("default").budgets(json!([{"nodes": budget}])).0;
    for i in 0..10 {
        d.apply(claim_node(&format!("node-{i}"), "default", &most_od(), alloc32()));
    }
    d
}

#[test]
fn budget_three_empty() {
    ports!(FILE, "Consolidation > Budgets > should only allow 3 empty nodes to be disrupted");
    let out = ten("30%").once();
    assert_eq!((out.only().method, out.only().nodes.len()), (Method::Emptiness, 3));
}

#[test]
fn budget_all_empty() {
    ports!(FILE, "Consolidation > Budgets > should allow all empty nodes to be disrupted");
    assert_eq!(ten("100%").once().only().nodes.len(), 10);
}

#[test]
fn budget_no_empty() {
    ports!(FILE, "Consolidation > Budgets > should allow no empty nodes to be disrupted");
    ten("0%").once().none();
}

#[test]
fn budget_three_multi_node() {
    ports!(FILE, "Consolidation > Budgets > should only allow 3 nodes to be deleted in multi node consolidation delete");
    let mut d = ten("30%");
    for i in 0..10 {
        d.apply(rs_pod(&format!("p-{i}"), &format!("node-{i}")).cpu("100m"));
    }
    let out = d.once();
    let c = out.only();
    assert_eq!((c.method, c.action, c.nodes.len()), (Method::MultiNode, Action::Delete, 3), "{c:#?}");
}

#[test]
fn budget_three_single_node() {
    ports!(FILE, "Consolidation > Budgets > should only allow 3 nodes to be deleted in single node consolidation delete");
    let mut d = ten("30%");
    for i in 0..10 {
        d.apply(rs_pod(&format!("p-{i}"), &format!("node-{i}")).cpu("15"));
    }
    // five decisions, each under way before the next: three nodes go
    let cmds = d.run_commands(5);
    assert_eq!(cmds.iter().map(|c| c.nodes.len()).sum::<usize>(), 3, "{cmds:#?}");
    assert!(cmds.iter().all(|c| c.action == Action::Delete));
}

/// Ten more NodePools of three of the dearest nodes each, with a budget.
fn pools(budget: &str, with_pods: bool) -> Dis {
    let mut d = cons();
    for p in 0..10 {
        let name = format!("pool-{p}");
        d.apply(pool(&name).budgets(json!([{"nodes": budget}])));
        for i in 0..3 {
            let node = format!("{name}-node-{i}");
            d.apply(claim_node(&node, &name, &most_od(), alloc32()));
            if with_pods {
                d.apply(bound(&format!("{node}-p"), &node).cpu("1"));
            }
        }
    }
    d
}

#[test]
fn budget_two_per_pool() {
    ports!(FILE, "Consolidation > Budgets > should allow 2 nodes from each nodePool to be deleted");
    assert_eq!(pools("50%", false).once().only().nodes.len(), 20);
}

#[test]
fn budget_all_per_pool() {
    ports!(FILE, "Consolidation > Budgets > should allow all nodes from each nodePool to be deleted");
    assert_eq!(pools("100%", false).once().only().nodes.len(), 30);
}

#[test]
fn budget_none_per_pool() {
    ports!(FILE, "Consolidation > Budgets > should allow no nodes from each nodePool to be deleted");
    pools("0%", false).once().none();
}

/// Nothing is done and the nodes are kept for the budget (Karpenter then does not mark the
/// cluster consolidated, and looks again).
#[track_caller]
fn blocked_by_budget(d: &Dis, node: &str) {
    let out = d.once();
    out.none();
    out.kept_for(node, "budget");
}

fn ten_with_pods(budget: &str) -> Dis {
    let mut d = ten(budget);
    for i in 0..10 {
        d.apply(bound(&format!("p-{i}"), &format!("node-{i}")).cpu("1"));
    }
    d
}

#[test]
fn budget_blocks_emptiness_one_pool() {
    ports!(FILE, "Consolidation > Budgets > should not mark empty node consolidated if the candidates can't be disrupted due to budgets with one nodepool");
    blocked_by_budget(&ten("0%"), "node-0");
}

#[test]
fn budget_blocks_emptiness_many_pools() {
    ports!(FILE, "Consolidation > Budgets > should not mark empty node consolidated if all candidates can't be disrupted due to budgets with many nodepools");
    blocked_by_budget(&pools("0%", false), "pool-0-node-0");
}

#[test]
fn budget_blocks_multi_node_one_pool() {
    ports!(FILE, "Consolidation > Budgets > should not mark multi node consolidated if the candidates can't be disrupted due to budgets with one nodepool");
    blocked_by_budget(&ten_with_pods("0%"), "node-0");
}

#[test]
fn budget_blocks_multi_node_many_pools() {
    ports!(FILE, "Consolidation > Budgets > should not mark multi node consolidated if all candidates can't be disrupted due to budgets with many nodepools");
    blocked_by_budget(&pools("0%", true), "pool-0-node-0");
}

#[test]
fn budget_blocks_single_node_one_pool() {
    ports!(FILE, "Consolidation > Budgets > should not mark single node consolidated if the candidates can't be disrupted due to budgets with one nodepool");
    blocked_by_budget(&ten_with_pods("0%"), "node-9");
}

#[test]
fn budget_blocks_single_node_many_pools() {
    ports!(FILE, "Consolidation > Budgets > should not mark single node consolidated if all candidates can't be disrupted due to budgets with many nodepools");
    blocked_by_budget(&pools("0%", true), "pool-9-node-2");
}

// ---------------------------------------------------------------- replace

fn can_replace(spot: bool) {
    let mut d = cons();
    d.apply(dear("node", spot)).apply(rs_pod("p", "node"));
    let out = d.once();
    let c = replaced(&out, "node");
    let current = if spot { most_spot() } else { most_od() }.name;
    assert!(!c.replacements[0].instance_type_options.contains(&current), "{c:#?}");
}

#[test]
fn replace_on_demand() {
    ports!(FILE, "Consolidation > Replace > can replace node > if the candidate is on-demand node");
    can_replace(false);
}

#[test]
fn replace_spot() {
    ports!(FILE, "Consolidation > Replace > can replace node > if the candidate is spot node");
    can_replace(true);
}

/// The first `n` assorted types, the first made a spot type at 0.001 (`lo.Slice(InstanceTypesAssorted(), 0, n)`).
fn first_assorted(n: usize) -> Vec<Ty> {
    let mut types: Vec<Ty> = assorted().0.iter().take(n).cloned().collect();
    let first = types[0].clone();
    let zone = first.all_offerings()[0].zone.clone();
    types[0] = first.offers_at(&[(&zone, SPOT, 0.001)]);
    types
}

fn spot_node_of(d: &mut Dis, t: &Ty) {
    d.apply(claim_node("node", "default", t, cpu("32"))).apply(rs_pod("p", "node"));
}

#[test]
fn spot_to_spot_needs_flexibility() {
    ports!(FILE, "Consolidation > Replace > cannot replace spot with spot if less than minimum InstanceTypes flexibility");
    let types = first_assorted(5);
    // the dearest spot type of the five: one cheaper spot type is too few
    let node_type = types[3].clone();
    assert_eq!(node_type.all_offerings()[0].ct, SPOT);
    let mut d = Dis::with_types(types);
    d.opts.spot_to_spot = true;
    d.apply(pool("default"));
    spot_node_of(&mut d, &node_type);
    let out = d.once();
    out.none();
    out.kept_for("node", "15");
}

#[test]
fn spot_to_spot_disabled() {
    ports!(FILE, "Consolidation > Replace > cannot replace spot with spot if the spotToSpotConsolidation is disabled");
    let mut d = cons();
    d.opts.spot_to_spot = false;
    d.apply(dear("node", true)).apply(rs_pod("p", "node"));
    let out = d.once();
    out.none();
    out.kept_for("node", "SpotToSpotConsolidation");
}

#[test]
fn spot_to_spot_among_cheapest() {
    ports!(FILE, "Consolidation > Replace > cannot replace spot with spot if it is part of the 15 cheapest instance types.");
    let types = first_assorted(20);
    let mut spot: Vec<Ty> = types.iter().filter(|t| t.all_offerings().iter().any(|o| o.ct == SPOT)).cloned().collect();
    spot.sort_by(|a, b| a.all_offerings()[0].price.total_cmp(&b.all_offerings()[0].price));
    let node_type = spot[1].clone();
    let mut d = Dis::with_types(types);
    d.opts.spot_to_spot = true;
    d.apply(pool("default"));
    spot_node_of(&mut d, &node_type);
    d.once().none();
}

/// The first 18 spot types of the assorted catalog at 1.0, 1.1, ... with the 17th at 0.001; the
/// node runs the 18th (the dearest). Returns the types and the names of the `keep` cheapest.
fn eighteen_spot(keep: usize) -> (Vec<Ty>, Vec<String>) {
    let mut types: Vec<Ty> = assorted().0.iter().filter(|t| t.all_offerings()[0].ct == SPOT).take(18).cloned().collect();
    for (i, t) in types.iter_mut().enumerate() {
        let o = t.all_offerings()[0].clone();
        let price = if i == 16 { 0.001 } else { 1.0 + i as f64 * 0.1 };
        *t = t.clone().offers_at(&[(&o.zone, SPOT, price)]);
    }
    let mut by_price = types.clone();
    by_price.sort_by(|a, b| a.all_offerings()[0].price.total_cmp(&b.all_offerings()[0].price));
    (types, by_price.iter().take(keep).map(|t| t.name.clone()).collect())
}

fn spot_to_spot_truncation(min_values: Option<u32>, keep: usize) {
    let (types, want) = eighteen_spot(keep);
    let node_type = types[17].clone();
    let mut d = Dis::with_types(types.clone());
    d.opts.spot_to_spot = true;
    let mut p = pool("default");
    if let Some(m) = min_values {
        p = p.reqs(vec![json!({"key": IT, "operator": "Exists", "minValues": m})]);
    }
    d.apply(p);
    spot_node_of(&mut d, &node_type);
    let out = d.once();
    let c = replaced(&out, "node");
    let mut got = c.replacements[0].instance_type_options.clone();
    got.sort();
    let mut want = want;
    want.sort();
    assert_eq!(got, want);
    assert!(got.contains(&types[16].name) && !got.contains(&types[17].name));
}

#[test]
fn spot_to_spot_orders_by_price() {
    ports!(FILE, "Consolidation > Replace > spot to spot consolidation should order the instance types by price before enforcing minimum flexibility.");
    spot_to_spot_truncation(None, 15);
}

#[test]
fn spot_to_spot_min_values_above_15() {
    ports!(
        FILE,
        "Consolidation > Replace > spot to spot consolidation should consider the max of default and minimum number of instanceTypeOptions from minValues in requirement for truncation if minimum number of instanceTypeOptions from minValues in requirement is greater than 15."
    );
    spot_to_spot_truncation(Some(16), 16);
}

#[test]
fn spot_to_spot_min_values_below_15() {
    ports!(
        FILE,
        "Consolidation > Replace > spot to spot consolidation should consider the default for truncation if minimum number of instanceTypeOptions from minValues in requirement is less than 15."
    );
    spot_to_spot_truncation(Some(10), 15);
}

#[test]
fn same_type_filter_with_min_values() {
    ports!(FILE, "Consolidation > Replace > should handle failing filterOutSameInstanceType correctly (without a panic) when minValues isn't satisfied");
    let current = ty("current-on-demand").cpu(5).offers_at(&[("test-zone-1a", OD, 0.5)]);
    let other = ty("other-on-demand").cpu(5).offers_at(&[("test-zone-1a", OD, 0.4)]);
    let mut d = Dis::with_types(vec![current.clone(), other]);
    d.apply(pool("default").reqs(vec![json!({"key": IT, "operator": "Exists", "minValues": 2}), expr(CT, "In", &[OD])]));
    for i in 0..3 {
        d.apply(claim_node(&format!("node-{i}"), "default", &current, Some(json!({"cpu": "4", "pods": "100"}))));
    }
    for (p, n) in [("p-0", 0), ("p-1", 1), ("p-2", 2), ("p-3", 2)] {
        d.apply(rs_pod(p, &format!("node-{n}")).cpu("2"));
    }
    let out = d.once();
    let c = out.only();
    assert_eq!((c.action, c.nodes.len()), (Action::Delete, 1), "{c:#?}");
}

fn min_values_beyond_cheaper() {
    // the sixteenth cheapest spot type (2 cpu, 1Gi): only the twelve of 1 cpu and 1Gi are cheaper
    let mut d = cons();
    *d.e.get("NodePool", "default") = pool("default").reqs(vec![json!({"key": IT, "operator": "Exists", "minValues": 16})]).0;
    d.apply(claim_node("node", "default", &assorted_type("2-cpu-1-mem-amd64-linux-test-zone-1-spot"), cpu("32"))).apply(rs_pod("p", "node"));
    d.once().none();
}

#[test]
fn min_values_broken_by_price_on_demand() {
    ports!(FILE, "Consolidation > Replace > Consolidation should fail if filterByPrice breaks the minimum requirement from the NodePools. > if the candidate is on-demand node");
    // (the Go case applies the spot node in both entries)
    min_values_beyond_cheaper();
}

#[test]
fn min_values_broken_by_price_spot() {
    ports!(FILE, "Consolidation > Replace > Consolidation should fail if filterByPrice breaks the minimum requirement from the NodePools. > if the candidate is spot node");
    min_values_beyond_cheaper();
}

fn replace_beside_empty_pool(spot: bool) {
    let mut d = cons();
    // a NodePool that offers no instance type
    d.apply(pool("other").req(IT, "In", &["no-such-type"]));
    d.apply(dear("node", spot)).apply(rs_pod("p", "node"));
    replaced(&d.once(), "node");
}

#[test]
fn replace_beside_empty_pool_on_demand() {
    ports!(FILE, "Consolidation > Replace > can replace nodes if another nodePool returns no instance types > if the candidate is on-demand node");
    replace_beside_empty_pool(false);
}

#[test]
fn replace_beside_empty_pool_spot() {
    ports!(FILE, "Consolidation > Replace > can replace nodes if another nodePool returns no instance types > if the candidate is spot node");
    replace_beside_empty_pool(true);
}

fn three_pods(d: &mut Dis, node: &str, ready: bool) {
    for i in 0..3 {
        let p = rs_pod(&format!("p-{i}"), node);
        d.apply(if ready { p } else { p.set(&["status", "conditions"], json!([{"type": "Ready", "status": "False"}])) });
    }
}

fn pdb_blocks_replace(spot: bool) {
    let mut d = cons();
    d.apply(dear("node", spot));
    three_pods(&mut d, "node", true);
    d.apply(pdb("pdb", &[("app", "test")], json!({"maxUnavailable": 0})));
    let out = d.once();
    out.none();
    out.kept_for("node", "PodDisruptionBudget");
}

#[test]
fn pdb_blocks_replace_on_demand() {
    ports!(FILE, "Consolidation > Replace > can replace nodes, considers PDB > if the candidate is on-demand node");
    pdb_blocks_replace(false);
}

#[test]
fn pdb_blocks_replace_spot() {
    ports!(FILE, "Consolidation > Replace > can replace nodes, considers PDB > if the candidate is spot node");
    pdb_blocks_replace(true);
}

fn pdb_always_allow_unhealthy(spot: bool) {
    let mut d = cons();
    d.apply(dear("node", spot));
    three_pods(&mut d, "node", false);
    d.apply(pdb("pdb", &[("app", "test")], json!({"maxUnavailable": 0, "unhealthyPodEvictionPolicy": "AlwaysAllow"})));
    replaced(&d.once(), "node");
}

#[test]
fn pdb_policy_on_demand() {
    ports!(FILE, "Consolidation > Replace > can replace nodes, considers PDB policy > if the candidate is on-demand node");
    pdb_always_allow_unhealthy(false);
}

#[test]
fn pdb_policy_spot() {
    ports!(FILE, "Consolidation > Replace > can replace nodes, considers PDB policy > if the candidate is spot node");
    pdb_always_allow_unhealthy(true);
}

fn pdb_other_namespace(spot: bool) {
    let mut d = cons();
    d.apply(dear("node", spot)).apply(rs_pod("p", "node"));
    let mut b = pdb("pdb", &[("app", "test")], json!({"maxUnavailable": 0}));
    b["metadata"]["namespace"] = json!("other");
    d.apply(b);
    replaced(&d.once(), "node");
}

#[test]
fn pdb_namespace_on_demand() {
    ports!(FILE, "Consolidation > Replace > can replace nodes, PDB namespace must match > if the candidate is on-demand node");
    pdb_other_namespace(false);
}

#[test]
fn pdb_namespace_spot() {
    ports!(FILE, "Consolidation > Replace > can replace nodes, PDB namespace must match > if the candidate is spot node");
    pdb_other_namespace(true);
}

/// `node` (two pods of 2 cpu) and `other` (5 cpu, one pod of 2 cpu), `block` applied to `other`
/// or its pod: only `node` is replaced.
fn replace_beside_blocked(spot: bool, block_node: bool) {
    let mut d = cons();
    let t = if spot { most_spot() } else { most_od() };
    d.apply(dear("node", spot));
    let other = claim_node("other", "default", &t, Some(json!({"cpu": "5", "pods": "100"})));
    d.apply(if block_node { other.annotation("karpenter.sh/do-not-disrupt", "true") } else { other });
    d.apply(rs_pod("p-0", "node").cpu("2")).apply(rs_pod("p-1", "node").cpu("2"));
    let p = rs_pod("p-2", "other").cpu("2");
    d.apply(if block_node { p } else { p.annotation("karpenter.sh/do-not-disrupt", "true") });
    let out = d.once();
    let c = out.only();
    assert_eq!(c.nodes, ["node"], "{c:#?}");
}

#[test]
fn do_not_disrupt_node_on_demand() {
    ports!(FILE, "Consolidation > Replace > can replace nodes, considers karpenter.sh/do-not-disrupt set to true on nodes > if the candidate is on-demand node");
    replace_beside_blocked(false, true);
}

#[test]
fn do_not_disrupt_node_spot() {
    ports!(FILE, "Consolidation > Replace > can replace nodes, considers karpenter.sh/do-not-disrupt set to true on nodes > if the candidate is spot node");
    replace_beside_blocked(true, true);
}

#[test]
fn do_not_disrupt_pod_on_demand() {
    ports!(FILE, "Consolidation > Replace > can replace nodes, considers karpenter.sh/do-not-disrupt set to true on pods > if the candidate is on-demand node");
    replace_beside_blocked(false, false);
}

#[test]
fn do_not_disrupt_pod_spot() {
    ports!(FILE, "Consolidation > Replace > can replace nodes, considers karpenter.sh/do-not-disrupt set to true on pods > if the candidate is spot node");
    replace_beside_blocked(true, false);
}

#[test]
fn dearer_spot_replacement() {
    ports!(FILE, "Consolidation > Replace > won't replace node if any spot replacement is more expensive");
    let current = ty("current-on-demand").offers_at(&[("test-zone-1a", OD, 0.5)]).unavailable("test-zone-1a", OD);
    // a spot launch may land on any of the offerings: the dearest (1.0) is above 0.5
    let replacement = ty("potential-spot-replacement").offers_at(&[("test-zone-1a", SPOT, 1.0), ("test-zone-1b", SPOT, 0.2), ("test-zone-1c", SPOT, 0.4)]);
    let mut d = Dis::with_types(vec![current.clone(), replacement]);
    d.opts.spot_to_spot = true;
    d.apply(pool("default")).apply(claim_node("node", "default", &current, cpu("32"))).apply(rs_pod("p", "node"));
    d.once().none();
}

#[test]
fn dearer_on_demand_replacement() {
    ports!(FILE, "Consolidation > Replace > won't replace on-demand node if on-demand replacement is more expensive");
    let current = ty("current-on-demand").offers_at(&[("test-zone-1a", OD, 0.5)]).unavailable("test-zone-1a", OD);
    let replacement = ty("on-demand-replacement").offers_at(&[
        ("test-zone-1a", OD, 0.6),
        ("test-zone-1b", OD, 0.6),
        ("test-zone-1a", SPOT, 0.2),
        ("test-zone-1b", SPOT, 0.3),
    ]);
    let mut d = Dis::with_types(vec![current.clone(), replacement]);
    d.apply(pool("default").req(CT, "In", &[OD])).apply(claim_node("node", "default", &current, cpu("32"))).apply(rs_pod("p", "node"));
    d.once().none();
}

// ---------------------------------------------------------------- delete

/// The context's two nodes of the cheapest on-demand type (32 cpu, 100 pods), three pods: two on
/// `node-0`, one on `node-1` (`pods` builds them).
fn two_cheap(pods: impl Fn(usize, Pod) -> Pod) -> Dis {
    let mut d = cons();
    for n in ["node-0", "node-1"] {
        d.apply(claim_node(n, "default", &least_od(), alloc32()));
    }
    for (i, n) in [(0, "node-0"), (1, "node-0"), (2, "node-1")] {
        d.apply(pods(i, rs_pod(&format!("p-{i}"), n)));
    }
    d
}

#[test]
fn delete_node() {
    ports!(FILE, "Consolidation > Delete > can delete nodes");
    let out = two_cheap(|_, p| p).once();
    assert_eq!((out.only().action, out.only().nodes.len()), (Action::Delete, 1));
}

#[test]
fn delete_node_beside_pool_without_template() {
    ports!(FILE, "Consolidation > Delete > can delete nodes if another nodePool has no node template");
    // (the Go case builds that NodePool but never applies it)
    let out = two_cheap(|_, p| p).once();
    assert_eq!((out.only().action, out.only().nodes.len()), (Action::Delete, 1));
}

#[test]
fn delete_onto_unmanaged_node() {
    ports!(FILE, "Consolidation > Delete > can delete nodes, when non-Karpenter capacity can fit pods");
    let mut d = cons();
    d.apply(claim_node("node-0", "default", &least_od(), alloc32()));
    d.apply(node("unmanaged").resources(json!({"cpu": "32", "pods": "100"})));
    for i in 0..3 {
        d.apply(rs_pod(&format!("p-{i}"), "node-0"));
    }
    deleted(&d.once(), &["node-0"]);
}

#[test]
fn delete_respects_pdb() {
    ports!(FILE, "Consolidation > Delete > can delete nodes, considers PDB");
    let mut d = two_cheap(|i, p| if i == 2 { p.label("pdb", "yes") } else { p });
    d.apply(pdb("pdb", &[("pdb", "yes")], json!({"maxUnavailable": 0})));
    deleted(&d.once(), &["node-0"]);
}

#[test]
fn delete_respects_do_not_disrupt_node() {
    ports!(FILE, "Consolidation > Delete > can delete nodes, considers karpenter.sh/do-not-disrupt set to true on nodes");
    let mut d = two_cheap(|_, p| p);
    *d.e.get("Node", "node-1") = Node(d.e.get("Node", "node-1").clone()).annotation("karpenter.sh/do-not-disrupt", "true").0;
    deleted(&d.once(), &["node-0"]);
}

#[test]
fn delete_respects_do_not_disrupt_pod() {
    ports!(FILE, "Consolidation > Delete > can delete nodes, considers karpenter.sh/do-not-disrupt set to true on pods");
    let d = two_cheap(|i, p| if i == 2 { p.annotation("karpenter.sh/do-not-disrupt", "true") } else { p });
    deleted(&d.once(), &["node-0"]);
}

#[test]
fn do_not_disrupt_pods_with_grace_period() {
    ports!(FILE, "Consolidation > Delete > does not consolidate nodes with karpenter.sh/do-not-disrupt set to true on pods when the NodePool's TerminationGracePeriod is not nil");
    let mut d = two_cheap(|_, p| p.annotation("karpenter.sh/do-not-disrupt", "true"));
    *d.e.get("NodePool", "default") = pool("default").termination_grace_period("300s").0;
    d.once().none();
}

#[test]
fn blocking_pdb_with_grace_period() {
    ports!(FILE, "Consolidation > Delete > does not consolidate nodes with pods with blocking PDBs when the NodePool's TerminationGracePeriod is not nil");
    let mut d = two_cheap(|_, p| p);
    *d.e.get("NodePool", "default") = pool("default").termination_grace_period("300s").0;
    d.apply(pdb("pdb", &[("app", "test")], json!({"maxUnavailable": 0})));
    d.once().none();
}

fn started_now(p: Pod) -> Pod {
    p.set(&["status", "startTime"], json!(ts(NOW)))
}

#[test]
fn active_do_not_disrupt_duration() {
    ports!(FILE, "Consolidation > Delete > does not consolidate nodes with pods that have a duration-based do-not-disrupt annotation that is still active");
    let d = two_cheap(|i, p| if i == 2 { started_now(p.annotation("karpenter.sh/do-not-disrupt", "2m")) } else { p });
    deleted(&d.once(), &["node-0"]);
}

#[test]
fn expired_do_not_disrupt_duration() {
    ports!(FILE, "Consolidation > Delete > can consolidate nodes after duration-based do-not-disrupt annotation expires");
    let mut d = two_cheap(|_, p| started_now(p.annotation("karpenter.sh/do-not-disrupt", "2m")));
    d.once().none();
    d.opts.now = Some(NOW + 180);
    assert_eq!(d.once().only().nodes.len(), 1);
}

#[test]
fn invalid_do_not_disrupt_not_blocking() {
    ports!(FILE, "Consolidation > Delete > can delete nodes, considers invalid do-not-disrupt annotation format as not blocking");
    let d = two_cheap(|i, p| if i == 2 { p.annotation("karpenter.sh/do-not-disrupt", "invalid-format") } else { p });
    assert_eq!(d.once().only().nodes.len(), 1);
}

#[test]
fn pods_without_owner_evicted() {
    ports!(FILE, "Consolidation > Delete > can delete nodes, evicts pods without an ownerRef");
    let d = two_cheap(|_, p| {
        let mut p = p;
        p.0["metadata"].as_object_mut().unwrap().remove("ownerReferences");
        p
    });
    assert_eq!(d.once().only().nodes.len(), 1);
}

#[test]
fn not_onto_uninitialized_node() {
    ports!(FILE, "Consolidation > Delete > won't delete node if it would require pods to schedule on an uninitialized node");
    let mut d = two_cheap(|_, p| p);
    *d.e.get("Node", "node-0") = Node(d.e.get("Node", "node-0").clone()).uninitialized().0;
    let out = d.once();
    out.none();
    out.kept_for("node-1", "uninitialized");
}

#[test]
fn not_onto_node_within_consolidate_after() {
    ports!(FILE, "Consolidation > Delete > should not consolidate pods onto a destination node that is under its consolidateAfter window");
    // the pods were just bound: both nodes are within consolidateAfter (1m)
    let mut d = two_cheap(|_, p| started_now(p));
    *d.e.get("NodePool", "default") = pool("default").consolidate_after("1m").0;
    d.once().none();
    d.opts.now = Some(NOW + 120);
    assert_eq!(d.once().only().nodes.len(), 1);
}

#[test]
fn onto_node_with_consolidate_after_never() {
    ports!(FILE, "Consolidation > Delete > should consolidate pods onto a destination node with consolidateAfter set to Never");
    let mut d = cons();
    d.apply(pool("destination").consolidate_after("Never"));
    d.apply(claim_node("node-0", "default", &least_od(), alloc32())).apply(claim_node("dest", "destination", &least_od(), alloc32()));
    d.apply(rs_pod("p", "node-0"));
    deleted(&d.once(), &["node-0"]);
}

#[test]
fn replace_within_consolidate_after() {
    ports!(FILE, "Consolidation > Delete > should replace a node with a cheaper one even when consolidateAfter has not expired");
    let mut d = cons();
    *d.e.get("NodePool", "default") = pool("default").consolidate_after("1m").0;
    d.apply(dear("node", false)).apply(started_now(rs_pod("p", "node")));
    d.opts.now = Some(NOW + 120);
    replaced(&d.once(), "node");
}

#[test]
fn initialized_destinations_first() {
    ports!(FILE, "Consolidation > Delete > should consider initialized nodes before uninitialized nodes");
    let default = ty("default-instance-type").cpu(3).mem_gi(3).pods(110);
    let small = ty("small-instance-type").cpu(1).mem_gi(1).pods(10);
    let mut d = Dis::with_types(vec![default.clone(), small.clone()]);
    d.apply(pool("default"));
    let alloc = Some(json!({"cpu": "3", "memory": "3Gi", "pods": "100"}));
    for i in 0..100 {
        let n = claim_node(&format!("node-{i}"), "default", &default, alloc.clone());
        d.apply(if i == 42 { n.uninitialized() } else { n });
        d.apply(rs_pod(&format!("p-{i}"), &format!("node-{i}")).cpu("2").mem("2Gi"));
    }
    d.apply(claim_node("small", "default", &small, Some(json!({"cpu": "1", "memory": "1Gi", "pods": "100"}))));
    d.apply(rs_pod("p-small", "small").cpu("1").mem("1Gi"));
    let out = d.once();
    let c = out.only();
    assert_eq!(c.nodes, ["small"], "{c:#?}");
    assert!(c.pods.iter().all(|m| m.to != "node-42"), "{c:#?}");
}

#[test]
fn permanently_pending_pod() {
    ports!(FILE, "Consolidation > Delete > can delete nodes with a permanently pending pod");
    let mut d = two_cheap(|_, p| p);
    d.apply(pod("pending").node_selector("non-existent", "node-label"));
    assert_eq!(d.once().only().nodes.len(), 1);
}

#[test]
fn no_pod_goes_pending() {
    ports!(FILE, "Consolidation > Delete > won't delete nodes if it would make a non-pending pod go pending");
    let mut d = two_cheap(|i, p| p.node_selector("foo", if i < 2 { "1" } else { "2" }));
    for (n, v) in [("node-0", "1"), ("node-1", "2")] {
        *d.e.get("Node", n) = Node(d.e.get("Node", n).clone()).label("foo", v).0;
    }
    d.once().none();
}

#[test]
fn delete_beside_invalid_pool() {
    ports!(FILE, "Consolidation > Delete > can delete nodes while an invalid node pool exists");
    // a NodePool whose instance types cannot be had
    let mut d = two_cheap(|_, p| p);
    d.apply(pool("bad-nodepool").req(IT, "In", &["no-such-type"]));
    assert_eq!(d.once().only().nodes.len(), 1);
}

// ---------------------------------------------------------------- several nodes

/// Three of the dearest on-demand or spot nodes (32 cpu, 100 pods), one ReplicaSet pod on each.
fn three_dear(spot: impl Fn(usize) -> bool) -> Dis {
    let mut d = cons();
    for i in 0..3 {
        let t = if spot(i) { most_spot() } else { most_od() };
        d.apply(claim_node(&format!("node-{i}"), "default", &t, alloc32())).apply(rs_pod(&format!("p-{i}"), &format!("node-{i}")));
    }
    d
}

#[track_caller]
fn merged(d: &Dis) {
    let out = d.once();
    let c = out.only();
    assert_eq!((c.method, c.nodes.len(), c.replacements.len()), (Method::MultiNode, 3, 1), "{c:#?}");
}

#[test]
fn merge_three_on_demand() {
    ports!(FILE, "Consolidation > Multi-NodeClaim > can merge 3 nodes into 1 > if the candidate is on-demand node");
    merged(&three_dear(|_| false));
}

#[test]
fn merge_three_spot() {
    ports!(FILE, "Consolidation > Multi-NodeClaim > can merge 3 nodes into 1 > if the candidate is spot node");
    merged(&three_dear(|_| true));
}

#[test]
fn merge_three_mixed() {
    ports!(FILE, "Consolidation > Multi-NodeClaim > can merge 3 nodes into 1 if the candidates have both spot and on-demand");
    merged(&three_dear(|i| i == 2));
}

fn no_merge_into_same_type(spot: bool) {
    let mut d = cons();
    let t = if spot { least_spot() } else { least_od() };
    for n in ["node-0", "node-1"] {
        d.apply(claim_node(n, "default", &t, alloc32()));
    }
    for (i, n) in [(0, "node-0"), (1, "node-0"), (2, "node-1")] {
        d.apply(rs_pod(&format!("p-{i}"), n));
    }
    let out = d.once();
    let c = out.only();
    assert_eq!((c.action, c.nodes.len()), (Action::Delete, 1), "{c:#?}");
}

#[test]
fn no_merge_same_type_on_demand() {
    ports!(FILE, "Consolidation > Multi-NodeClaim > won't merge 2 nodes into 1 of the same type > if the candidate is on-demand node");
    no_merge_into_same_type(false);
}

#[test]
fn no_merge_same_type_spot() {
    ports!(FILE, "Consolidation > Multi-NodeClaim > won't merge 2 nodes into 1 of the same type > if the candidate is spot node");
    no_merge_into_same_type(true);
}

fn empty_nodes_deleted(spot: bool) {
    let mut d = cons();
    let t = if spot { most_spot() } else { most_od() };
    for i in 0..3 {
        d.apply(claim_node(&format!("node-{i}"), "default", &t, alloc32()));
    }
    let out = d.once();
    assert_eq!((out.only().action, out.only().nodes.len()), (Action::Delete, 3));
}

#[test]
fn empty_nodes_on_demand() {
    ports!(FILE, "Consolidation > Multi-NodeClaim > should consolidate multiple empty nodes via multi-nodeclaim consolidation > if the candidate is on-demand node");
    empty_nodes_deleted(false);
}

#[test]
fn empty_nodes_spot() {
    ports!(FILE, "Consolidation > Multi-NodeClaim > should consolidate multiple empty nodes via multi-nodeclaim consolidation > if the candidate is spot node");
    empty_nodes_deleted(true);
}

#[test]
fn best_savings_ratio_first() {
    ports!(FILE, "Consolidation > Node Lifetime Consideration > should consolidate the node with best savings ratio first");
    // node-1 has fewer pods: a lower rescheduling cost for the same price
    let mut d = cons();
    *d.e.get("NodePool", "default") = pool("default").expire_after("3s").0;
    d.opts.now = Some(T0 + 2);
    d.apply(claim_node("node-0", "default", &least_od(), alloc32()));
    d.apply(claim_node("node-1", "default", &least_od(), alloc32()).created(&ts(T0 + 2)));
    for (i, n) in [(0, "node-0"), (1, "node-0"), (2, "node-1")] {
        d.apply(rs_pod(&format!("p-{i}"), n).created(&ts(T0)).set(&["status", "startTime"], json!(ts(T0))));
    }
    let out = d.once();
    let c = out.r.commands.iter().find(|c| c.method != Method::Expiration).unwrap_or_else(|| panic!("{:#?}", out.r));
    assert_eq!(c.nodes, ["node-1"], "{c:#?}");
}

// ---------------------------------------------------------------- topology and preferences

/// Nodes in zones 1, 2 and 3 (1 cpu each; zone 2's the dearest type), one pod each.
fn zonal(pod: impl Fn(Pod) -> Pod, zone2: Ty) -> Dis {
    let mut d = cons();
    let types = [assorted_type("1-cpu-1-mem-amd64-linux-test-zone-1-on-demand"), zone2, assorted_type("1-cpu-1-mem-amd64-linux-test-zone-3-on-demand")];
    for (i, t) in types.iter().enumerate() {
        d.apply(claim_node(&format!("node-{i}"), "default", t, cpu("1")));
        d.apply(pod(rs_pod(&format!("p-{i}"), &format!("node-{i}")).cpu("1")));
    }
    d
}

#[test]
fn replace_keeping_zonal_spread() {
    ports!(FILE, "Consolidation > Topology Consideration > can replace node maintaining zonal topology spread");
    let spread = |p: Pod| p.label("app", "test-zonal-spread").spread(ZONE, 1, &[("app", "test-zonal-spread")]);
    let d = zonal(spread, assorted_type("64-cpu-128-mem-amd64-linux-test-zone-2-on-demand"));
    let out = d.once();
    let c = replaced(&out, "node-1");
    assert_eq!(c.replacements[0].zone, "test-zone-2", "{c:#?}");
}

#[test]
fn anti_affinity_blocks_delete() {
    ports!(FILE, "Consolidation > Topology Consideration > won't delete node if it would violate pod anti-affinity");
    let apart = |p: Pod| p.anti_affinity_to(HOSTNAME, &[("app", "test")]);
    let d = zonal(apart, assorted_type("1-cpu-1-mem-amd64-linux-test-zone-2-on-demand"));
    d.once().none();
}

#[test]
fn delete_ignoring_preferences() {
    ports!(FILE, "Consolidation > Preferences > should consolidate a node through deletion when ignoring preferences");
    let mut d = cons();
    d.opts.provisioning.preference_policy = PreferencePolicy::Ignore;
    for n in ["node-0", "node-1"] {
        d.apply(claim_node(n, "default", &least_od(), Some(json!({"cpu": "5", "pods": "100"}))));
    }
    for (i, n) in [(0, "node-0"), (1, "node-0"), (2, "node-1")] {
        d.apply(bound(&format!("p-{i}"), n).label("app", "foo").preferred_anti_affinity_to(1, HOSTNAME, &[("app", "foo")]));
    }
    assert_eq!(d.once().only().nodes.len(), 1);
}

#[test]
fn replace_ignoring_preferences() {
    ports!(FILE, "Consolidation > Preferences > should consolidate a node through replacement when ignoring preferences");
    let mut d = cons();
    d.opts.provisioning.preference_policy = PreferencePolicy::Ignore;
    d.apply(dear("node", false)).apply(bound("p", "node").label("app", "foo").node_pref(1, vec![expr(IT, "In", &[&most_od().name])]));
    let out = d.once();
    let c = replaced(&out, "node");
    assert!(!c.replacements[0].instance_type_options.contains(&most_od().name));
}

#[test]
fn min_values_not_relaxed_for_consolidation() {
    ports!(FILE, "Consolidation > MinValuesPolicy > should not consolidate a node by relaxing min values when policy is set to BestEffort");
    // the requirement lists every type of the suite's catalog; the cloud then offers two
    let names: Vec<&str> = assorted().0.iter().map(|t| t.name.as_str()).collect();
    let mut d = Dis::with_types(vec![least_od(), most_od()]);
    d.opts.provisioning.min_values_policy = MinValuesPolicy::BestEffort;
    d.apply(pool("with-min-values").weight(100).reqs(vec![json!({"key": IT, "operator": "In", "values": names, "minValues": 3})]));
    d.apply(claim_node("node", "with-min-values", &most_od(), Some(json!({"cpu": "5", "pods": "100"})))).apply(bound("p", "node"));
    d.once().none();
}

#[test]
fn static_pool_not_consolidated() {
    ports!(FILE, "Consolidation > Static NodePool > should not consolidate static NodePool nodes");
    let mut d = cons();
    d.apply(nodepool("static").replicas(2));
    for n in ["node-0", "node-1"] {
        d.apply(claim_node(n, "static", &least_od(), Some(json!({"cpu": "10", "memory": "1000Mi", "pods": "2"}))));
    }
    d.once().none();
}
