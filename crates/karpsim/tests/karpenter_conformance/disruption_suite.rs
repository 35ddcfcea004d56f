//! `pkg/controllers/disruption/suite_test.go`: scheduling simulations of disruption, budgets per
//! NodePool, pod eviction costs and which nodes are disruption candidates.
//!
//! Karpenter's candidate cases call `NewCandidate` for a graceful (consolidation) or eventual
//! (drift) disruption class; here the same node goes through a disruption decision: a candidate
//! is acted on (a node with pods is consolidated or, drifted, replaced; an empty one deleted), a
//! node that is not is kept with the rule's reason.

use crate::disruption_harness::*;
use crate::harness::*;
use karpsim::disruption::{Action, Method, allowed_disruptions, eviction_cost};
use karpsim::model::DisruptionReason;
use serde_json::json;

const FILE: &str = "disruption/suite_test.go";

// ---------------------------------------------------------------- simulate scheduling

#[test]
fn pods_of_deleting_nodes_reschedule() {
    ports!(FILE, "Simulate Scheduling > should allow pods on deleting nodes to reschedule to uninitialized nodes");
    // ten of the dearest nodes (3 cpu allocatable each), all but the first being deleted; the
    // first holds a 2-cpu pod: consolidating it must find the pod a home
    // (Karpenter's case simulates the candidate directly; a budget of 100% lets the decision run)
    let mut d = Dis::new();
    d.apply(dpool("default", "WhenEmptyOrUnderutilized").budgets(json!([{"nodes": "100%"}])));
    for i in 0..10 {
        let n = claim_node(&format!("node-{i}"), "default", &most_od(), Some(json!({"cpu": "3", "pods": "100"})));
        d.apply(if i == 0 { n } else { n.deleting(&ts(NOW - 60)) });
    }
    d.apply(bound("p", "node-0").cpu("2").mem("100Mi"));
    let out = d.once();
    let c = out.only_is(Method::SingleNode, Action::Replace, &["node-0"]);
    assert!(c.pods.iter().all(|m| m.to != "pending"), "{c:#?}");
}

#[test]
fn replacements_one_after_another() {
    ports!(FILE, "Simulate Scheduling > should allow multiple replace operations to happen successively");
    // ten drifted nodes, each holding a pod pinned to it by a partition label; a budget of 3
    let mut d = Dis::new();
    d.apply(dpool("default", "WhenEmptyOrUnderutilized").consolidate_after("Never").budgets(json!([{"nodes": "3"}])).req("test-partition", "Exists", &[]).label("generation", "2"));
    for i in 0..10 {
        let node = format!("node-{i}");
        d.apply(claim_node(&node, "default", &most_od(), Some(json!({"cpu": "3", "pods": "100"}))).label("test-partition", &i.to_string()));
        d.apply(bound(&format!("p-{i}"), &node).cpu("100m").mem("100Mi").node_selector("test-partition", &i.to_string()));
    }
    let mut replaced = Vec::new();
    for round in 0..4 {
        let out = d.once();
        if round == 3 {
            // three nodes are being replaced: the budget is spent
            out.none();
            break;
        }
        let c = out.only().clone();
        assert_eq!((c.method, c.action, c.nodes.len(), c.replacements.len()), (Method::Drift, Action::Replace, 1, 1), "{c:#?}");
        // the replaced node drains; its replacement is launched, not initialized yet
        let old = c.nodes[0].clone();
        let partition = old.trim_start_matches("node-").to_string();
        let r = &c.replacements[0];
        *d.e.get("Node", &old) = Node(d.e.get("Node", &old).clone()).deleting(&ts(NOW - 1)).0;
        d.apply(managed_node(&format!("{old}-replacement"), "default", &r.instance_type, &r.zone, &r.capacity_type).uninitialized().label("test-partition", &partition).label("generation", "2"));
        replaced.push(old);
    }
    assert_eq!(replaced.len(), 3);
}

// ---------------------------------------------------------------- budgets

/// Ten of the dearest nodes in a pool with a budget (the BeforeEach of the context).
fn ten_nodes(budget: &str) -> Dis {
    let mut d = Dis::new();
    d.apply(nodepool("default").budgets(json!([{"nodes": budget}])));
    for i in 0..10 {
        d.apply(claim_node(&format!("node-{i}"), "default", &most_od(), alloc32()));
    }
    d
}

#[track_caller]
fn allowed(d: &Dis) -> i64 {
    let state = d.e.state();
    let reasons = [DisruptionReason::Empty, DisruptionReason::Underutilized, DisruptionReason::Drifted];
    let counts: Vec<i64> = reasons.iter().map(|r| allowed_disruptions(&state, *r, NOW)["default"]).collect();
    assert!(counts.iter().all(|c| *c == counts[0]), "{counts:?}");
    counts[0]
}

#[test]
fn budget_ignores_unmanaged_nodes() {
    ports!(FILE, "BuildDisruptionBudgetMapping > should not consider nodes that are not managed as part of disruption count");
    let mut d = ten_nodes("100%");
    d.apply(node("unmanaged"));
    assert_eq!(allowed(&d), 10);
    // 50% of 10 nodes is 5 (of 11 it would be 6)
    let mut d = ten_nodes("50%");
    d.apply(node("unmanaged"));
    assert_eq!(allowed(&d), 5);
}

#[test]
fn budget_ignores_uninitialized_nodes() {
    ports!(FILE, "BuildDisruptionBudgetMapping > should not consider nodes that are not initialized as part of disruption count");
    let mut d = ten_nodes("100%");
    d.apply(claim_node("new", "default", &most_od(), alloc32()).uninitialized());
    assert_eq!(allowed(&d), 10);
    let mut d = ten_nodes("50%");
    d.apply(claim_node("new", "default", &most_od(), alloc32()).uninitialized());
    assert_eq!(allowed(&d), 5);
}

#[test]
fn budget_never_negative() {
    ports!(FILE, "BuildDisruptionBudgetMapping > should not return a negative disruption value");
    let mut d = Dis::new();
    d.apply(nodepool("default").budgets(json!([{"nodes": "10%"}])));
    for i in 0..10 {
        d.apply(claim_node(&format!("node-{i}"), "default", &most_od(), alloc32()).deleting(&ts(NOW - 60)));
    }
    assert_eq!(allowed(&d), 0);
}

#[test]
fn budget_counts_deleting_nodes() {
    ports!(FILE, "BuildDisruptionBudgetMapping > should consider nodes with a deletion timestamp set and MarkedForDeletion to the disruption count");
    // a node being deleted and one marked for deletion (a deletion under way too, as a snapshot shows it)
    let mut d = ten_nodes("100%");
    for n in ["node-0", "node-1"] {
        *d.e.get("Node", n) = Node(d.e.get("Node", n).clone()).deleting(&ts(NOW - 60)).0;
    }
    assert_eq!(allowed(&d), 8);
}

#[test]
fn budget_counts_not_ready_nodes() {
    ports!(FILE, "BuildDisruptionBudgetMapping > should consider not ready nodes to the disruption count");
    let mut d = ten_nodes("100%");
    for n in ["node-0", "node-1"] {
        *d.e.get("Node", n) = Node(d.e.get("Node", n).clone()).not_ready().0;
    }
    assert_eq!(allowed(&d), 8);
}

// ---------------------------------------------------------------- eviction cost

fn cost_of(p: Pod) -> f64 {
    let mut e = Env::new();
    e.apply(p);
    eviction_cost(&e.state().pods[0])
}

#[test]
fn eviction_cost_standard() {
    ports!(FILE, "Pod Eviction Cost > should have a standard disruptionCost for a pod with no priority or disruptionCost specified");
    assert_eq!(cost_of(pod("p")), 1.0);
}

const DELETION_COST: &str = "controller.kubernetes.io/pod-deletion-cost";

#[test]
fn eviction_cost_positive_deletion_cost() {
    ports!(FILE, "Pod Eviction Cost > should have a higher disruptionCost for a pod with a positive deletion disruptionCost");
    assert!(cost_of(pod("p").annotation(DELETION_COST, "100")) > 1.0);
}

#[test]
fn eviction_cost_negative_deletion_cost() {
    ports!(FILE, "Pod Eviction Cost > should have a lower disruptionCost for a pod with a positive deletion disruptionCost");
    assert!(cost_of(pod("p").annotation(DELETION_COST, "-100")) < 1.0);
}

#[test]
fn eviction_cost_ordered_by_deletion_cost() {
    ports!(FILE, "Pod Eviction Cost > should have higher costs for higher deletion costs");
    let [a, b, c] = ["101", "100", "99"].map(|v| cost_of(pod("p").annotation(DELETION_COST, v)));
    assert!(a > b && b > c, "{a} {b} {c}");
}

#[test]
fn eviction_cost_higher_priority() {
    ports!(FILE, "Pod Eviction Cost > should have a higher disruptionCost for a pod with a higher priority");
    assert!(cost_of(pod("p").priority(1)) > 1.0);
}

#[test]
fn eviction_cost_lower_priority() {
    ports!(FILE, "Pod Eviction Cost > should have a lower disruptionCost for a pod with a lower priority");
    assert!(cost_of(pod("p").priority(-1)) < 1.0);
}

// ---------------------------------------------------------------- candidates

/// The dearest node of the context's NodePool (WhenEmptyOrUnderutilized) with `pods` on it.
/// `drifted`: the pool's template has moved on (a label the node lacks), so that the node is an
/// eventual-disruption (drift) candidate; `tgp`: the pool's terminationGracePeriod.
fn candidate(pods: Vec<Pod>, drifted: bool, tgp: Option<&str>) -> Dis {
    let mut d = Dis::new();
    let mut pool = dpool("default", "WhenEmptyOrUnderutilized");
    if drifted {
        pool = pool.label("generation", "2").consolidate_after("Never");
    }
    if let Some(t) = tgp {
        pool = pool.termination_grace_period(t);
    }
    d.apply(pool).apply(claim_node("node", "default", &most_od(), None)).apply_all(pods);
    d
}

fn dnd(p: Pod) -> Pod {
    p.annotation("karpenter.sh/do-not-disrupt", "true")
}

fn blocked_by_pdb(d: &mut Dis) {
    d.apply(pdb("pdb", &[("test", "value")], json!({"maxUnavailable": 0})));
}

fn app_pod() -> Pod {
    bound("p", "node").label("test", "value")
}

#[track_caller]
fn is_candidate(d: &Dis) {
    let out = d.once();
    assert!(out.acted("node"), "{:#?}", out.r);
}

#[track_caller]
fn not_candidate(d: &Dis, why: &str) {
    let out = d.once();
    out.none();
    out.kept_for("node", why);
}

#[test]
fn do_not_disrupt_pod_blocks() {
    ports!(FILE, "Candidate Filtering > should not consider candidates that have do-not-disrupt pods scheduled and no terminationGracePeriod");
    not_candidate(&candidate(vec![dnd(bound("p", "node"))], false, None), "do-not-disrupt");
}

#[test]
fn do_not_disrupt_mirror_pod_blocks() {
    ports!(FILE, "Candidate Filtering > should not consider candidates that have do-not-disrupt mirror pods scheduled");
    not_candidate(&candidate(vec![dnd(bound("p", "node").owner("Node", "node"))], false, None), "do-not-disrupt");
}

#[test]
fn do_not_disrupt_daemonset_pod_blocks() {
    ports!(FILE, "Candidate Filtering > should not consider candidates that have do-not-disrupt daemonset pods scheduled");
    let mut d = candidate(vec![dnd(bound("p", "node").owner("DaemonSet", "ds"))], false, None);
    d.apply(daemonset("ds", pod("ds")));
    not_candidate(&d, "do-not-disrupt");
}

#[test]
fn do_not_disrupt_with_grace_period_drifts() {
    ports!(FILE, "Candidate Filtering > should consider candidates that have do-not-disrupt pods scheduled with a terminationGracePeriod set for eventual disruption");
    is_candidate(&candidate(vec![dnd(bound("p", "node"))], true, Some("300s")));
}

#[test]
fn pdb_with_grace_period_drifts() {
    ports!(FILE, "Candidate Filtering > should consider candidates that have PDB-blocked pods scheduled with a terminationGracePeriod set for eventual disruption");
    let mut d = candidate(vec![app_pod()], true, Some("300s"));
    blocked_by_pdb(&mut d);
    is_candidate(&d);
}

#[test]
fn do_not_disrupt_with_grace_period_not_consolidated() {
    ports!(FILE, "Candidate Filtering > should not consider candidates that have do-not-disrupt pods scheduled with a terminationGracePeriod set for graceful disruption");
    not_candidate(&candidate(vec![dnd(bound("p", "node"))], false, Some("300s")), "do-not-disrupt");
}

#[test]
fn pdb_with_grace_period_not_consolidated() {
    ports!(FILE, "Candidate Filtering > should not consider candidates that have PDB-blocked pods scheduled with a terminationGracePeriod set for graceful disruption");
    let mut d = candidate(vec![app_pod()], false, Some("300s"));
    blocked_by_pdb(&mut d);
    not_candidate(&d, "PodDisruptionBudget default/pdb");
}

#[test]
fn do_not_disrupt_without_grace_period_not_drifted() {
    ports!(FILE, "Candidate Filtering > should not consider candidates that have do-not-disrupt pods scheduled without a terminationGracePeriod set for eventual disruption");
    not_candidate(&candidate(vec![dnd(bound("p", "node"))], true, None), "do-not-disrupt");
}

#[test]
fn pdb_without_grace_period_not_drifted() {
    ports!(FILE, "Candidate Filtering > should not consider candidates that have PDB-blocked pods scheduled without a terminationGracePeriod set for eventual disruption");
    let mut d = candidate(vec![app_pod()], true, None);
    blocked_by_pdb(&mut d);
    not_candidate(&d, "PodDisruptionBudget default/pdb");
}

#[test]
fn do_not_disrupt_terminating_pod_ignored() {
    ports!(FILE, "Candidate Filtering > should consider candidates that have do-not-disrupt terminating pods");
    is_candidate(&candidate(vec![dnd(bound("p", "node")).deleting(&ts(NOW - 10))], false, None));
}

#[test]
fn do_not_disrupt_terminal_pods_ignored() {
    ports!(FILE, "Candidate Filtering > should consider candidates that have do-not-disrupt terminal pods");
    let pods = vec![dnd(bound("ok", "node")).phase("Succeeded"), dnd(bound("failed", "node")).phase("Failed")];
    is_candidate(&candidate(pods, false, None));
}

#[test]
fn do_not_disrupt_node() {
    ports!(FILE, "Candidate Filtering > should not consider candidates that have do-not-disrupt on nodes");
    let mut d = candidate(vec![], false, None);
    *d.e.get("Node", "node") = Node(d.e.get("Node", "node").clone()).annotation("karpenter.sh/do-not-disrupt", "true").0;
    not_candidate(&d, "do-not-disrupt");
}

#[test]
fn two_pdbs_block() {
    ports!(FILE, "Candidate Filtering > should not consider candidates that have multiple PDBs on the same pod");
    let mut d = candidate(vec![app_pod()], false, None);
    d.apply(pdb("pdb1", &[("test", "value")], json!({"maxUnavailable": 0}))).apply(pdb("pdb2", &[("test", "value")], json!({"maxUnavailable": 0})));
    not_candidate(&d, "more than one PodDisruptionBudget");
}

#[test]
fn blocking_pdb() {
    ports!(FILE, "Candidate Filtering > should not consider candidates that have fully blocking PDBs");
    let mut d = candidate(vec![app_pod()], false, None);
    blocked_by_pdb(&mut d);
    not_candidate(&d, "PodDisruptionBudget default/pdb");
}

#[test]
fn blocking_pdb_on_daemonset_pod() {
    ports!(FILE, "Candidate Filtering > should not consider candidates that have fully blocking PDBs on daemonset pods");
    let mut d = candidate(vec![app_pod().owner("DaemonSet", "ds")], false, None);
    d.apply(daemonset("ds", pod("ds")));
    blocked_by_pdb(&mut d);
    not_candidate(&d, "PodDisruptionBudget default/pdb");
}

#[test]
fn blocking_pdb_on_mirror_pod_ignored() {
    ports!(FILE, "Candidate Filtering > should consider candidates that have fully blocking PDBs on mirror pods");
    let mut d = candidate(vec![app_pod().owner("Node", "node")], false, None);
    blocked_by_pdb(&mut d);
    is_candidate(&d);
}

#[test]
fn do_not_disrupt_pod_blocks_consolidation() {
    ports!(FILE, "Candidate Filtering > should not consider candidates that have do-not-disrupt pods without a terminationGracePeriod set for graceful disruption");
    not_candidate(&candidate(vec![dnd(bound("p", "node"))], false, None), "do-not-disrupt");
}

#[test]
fn blocking_pdb_blocks_consolidation() {
    ports!(FILE, "Candidate Filtering > should not consider candidates that have fully blocking PDBs without a terminationGracePeriod set for graceful disruption");
    let mut d = candidate(vec![app_pod()], false, None);
    blocked_by_pdb(&mut d);
    not_candidate(&d, "PodDisruptionBudget default/pdb");
}

#[test]
fn blocking_pdb_on_terminal_pods_ignored() {
    ports!(FILE, "Candidate Filtering > should consider candidates that have fully blocking PDBs on terminal pods");
    let pods = vec![bound("ok", "node").label("test", "value").phase("Succeeded"), bound("failed", "node").label("test", "value").phase("Failed")];
    let mut d = candidate(pods, false, None);
    blocked_by_pdb(&mut d);
    is_candidate(&d);
}

#[test]
fn blocking_pdb_on_terminating_pod_ignored() {
    ports!(FILE, "Candidate Filtering > should consider candidates that have fully blocking PDBs on terminating pods");
    let mut d = candidate(vec![app_pod().deleting(&ts(NOW - 10))], false, None);
    blocked_by_pdb(&mut d);
    is_candidate(&d);
}

#[test]
fn deleting_node_not_candidate() {
    ports!(FILE, "Candidate Filtering > should not consider candidates that are deleting");
    let mut d = candidate(vec![], false, None);
    *d.e.get("Node", "node") = Node(d.e.get("Node", "node").clone()).deleting(&ts(NOW - 10)).0;
    not_candidate(&d, "being deleted");
}

#[test]
fn uninitialized_node_not_candidate() {
    ports!(FILE, "Candidate Filtering > should not consider candidates that aren't yet initialized");
    let mut d = candidate(vec![], false, None);
    *d.e.get("Node", "node") = Node(d.e.get("Node", "node").clone()).uninitialized().0;
    not_candidate(&d, "not initialized");
}

#[test]
fn node_without_nodepool_not_candidate() {
    ports!(FILE, "Candidate Filtering > should not consider candidates that are not owned by a NodePool (no karpenter.sh/nodepool label)");
    let mut d = candidate(vec![], false, None);
    *d.e.get("Node", "node") = Node(d.e.get("Node", "node").clone()).unlabel(NODEPOOL).0;
    not_candidate(&d, "karpenter.sh/nodepool");
}

#[test]
fn node_of_missing_nodepool_not_candidate() {
    ports!(FILE, "Candidate Filtering > should not consider candidates that are have a non-existent NodePool");
    let mut d = candidate(vec![], false, None);
    d.e.delete("NodePool", "default");
    d.apply(nodepool("other"));
    not_candidate(&d, "NodePool default not found");
}

/// An empty node that lacks a label is still a candidate: emptiness deletes it.
fn without_label(key: &str) {
    let mut d = candidate(vec![], false, None);
    *d.e.get("Node", "node") = Node(d.e.get("Node", "node").clone()).unlabel(key).0;
    d.once().only_is(Method::Emptiness, Action::Delete, &["node"]);
}

#[test]
fn no_capacity_type_label() {
    ports!(FILE, "Candidate Filtering > should consider candidates that do not have the karpenter.sh/capacity-type label");
    without_label(CT);
}

#[test]
fn no_zone_label() {
    ports!(FILE, "Candidate Filtering > should consider candidates that do not have the topology.kubernetes.io/zone label");
    without_label(ZONE);
}

#[test]
fn no_instance_type_label() {
    ports!(FILE, "Candidate Filtering > should consider candidates that do not have the node.kubernetes.io/instance-type label");
    without_label(IT);
}

#[test]
fn unknown_instance_type() {
    ports!(FILE, "Candidate Filtering > should consider candidates that have an instance type that cannot be resolved");
    let mut d = candidate(vec![], false, None);
    *d.e.get("Node", "node") = Node(d.e.get("Node", "node").clone()).label(IT, "retired-type").0;
    d.once().only_is(Method::Emptiness, Action::Delete, &["node"]);
}

// ---------------------------------------------------------------- with NodeClaim objects

#[test]
fn local_volume_node_replaced() {
    ports!(FILE, "Simulate Scheduling > can replace node with a local PV (ignoring hostname affinity)");
    // a StatefulSet pod whose local volume is on this node: its replacement drops the hostname
    let mut d = Dis::new();
    d.apply(dpool("default", "WhenEmptyOrUnderutilized"));
    let (n, claim) = with_claim(claim_node("node", "default", &most_od(), alloc32()), &[]);
    d.apply(n).apply(claim);
    d.apply(storage_class("local-path", Some("kubernetes.io/no-provisioner"), false, None));
    d.apply(pv("vol").local().terms(vec![vec![expr(HOSTNAME, "In", &["node"])]]));
    d.apply(pvc("claim", Some("local-path"), Some("vol")));
    d.apply(bound("p", "node").label("app", "test").owner("StatefulSet", "ss").pvc("claim"));
    let c = d.once().only_is(Method::SingleNode, Action::Replace, &["node"]).clone();
    assert_eq!(c.replacements.len(), 1, "{c:#?}");
    assert!(c.pods.iter().all(|m| m.to != "pending"), "{c:#?}");
}

#[test]
fn budget_ignores_terminating_instance() {
    ports!(FILE, "BuildDisruptionBudgetMapping > should not consider nodes that have the terminating status condition as part of disruption count");
    let mut d = Dis::new();
    d.apply(nodepool("default").budgets(json!([{"nodes": "100%"}])));
    for i in 0..10 {
        let (n, claim) = with_claim(claim_node(&format!("node-{i}"), "default", &most_od(), alloc32()), &[]);
        d.apply(n).apply(claim);
    }
    // a NodeClaim whose instance is terminating: its node is being deleted
    let (n, claim) = with_claim(claim_node("terminating", "default", &most_od(), alloc32()), &[("InstanceTerminating", "True")]);
    d.apply(n).apply(claim);
    assert_eq!(allowed(&d), 10);
}

#[test]
fn node_without_nodeclaim_not_candidate() {
    ports!(FILE, "Candidate Filtering > should not consider candidates that has just a Node representation");
    // the cluster's NodeClaims are given (another node's): this node has none
    let mut d = candidate(vec![], false, None);
    let (other, claim) = with_claim(claim_node("other", "default", &most_od(), None).annotation("karpenter.sh/do-not-disrupt", "true"), &[]);
    d.apply(other).apply(claim);
    not_candidate(&d, "not managed by Karpenter (no NodeClaim in the inputs)");
}

#[test]
fn nodeclaim_without_node_not_candidate() {
    ports!(FILE, "Candidate Filtering > should not consider candidate that has just a NodeClaim representation");
    // a NodeClaim, initialized, whose Node is not in the cluster: in-flight capacity, no candidate
    // (karpsim's reason is that the node is not initialized: it has no Node to be)
    let mut d = candidate(vec![], false, None);
    let (_, claim) = with_claim(claim_node("node", "default", &most_od(), None), &[]);
    d.e.delete("Node", "node");
    let mut claim = claim;
    claim["status"].as_object_mut().unwrap().remove("nodeName");
    claim["status"]["allocatable"] = json!({"cpu": "32", "pods": "100"});
    d.apply(claim);
    not_candidate(&d, "not initialized");
}
