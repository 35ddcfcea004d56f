//! Disruption rule by rule (Karpenter v1.14.1 `pkg/controllers/disruption`): emptiness, budgets,
//! candidate filters, expiration. Each scenario is small and asserts the exact command.

#[path = "disruption_common/mod.rs"]
mod common;

use common::*;
use karpsim::disruption::{budget_allows, Action, Method};
use karpsim::model::Budget;
use serde_json::json;

// ---------------------------------------------------------------- emptiness

/// A node hosting only DaemonSet pods is empty: Emptiness deletes it (and only it).
#[test]
fn emptiness_daemonset_only_node_is_deleted() {
    let mut w = World::new(std_types());
    w.pool("default", "WhenEmptyOrUnderutilized", all());
    w.node("n-ds", Some("default"), "medium", "z1", "on-demand");
    w.node("n-app", Some("default"), "medium", "z1", "on-demand");
    w.ds_pod("agent", "n-ds", 100);
    w.ds_pod("agent", "n-app", 100);
    w.pod("web", Some("n-app"), 3000);
    let r = w.once();
    let c = only(&r);
    assert_cmd(c, Method::Emptiness, Action::Delete, &["n-ds"]);
    assert!(c.replacements.is_empty());
    assert!((c.savings_per_hour - 0.20).abs() < 1e-9, "{c:#?}");
}

/// Terminal pods and terminating non-StatefulSet pods do not make a node non-empty; a terminating
/// StatefulSet pod does (`IsReschedulable`).
#[test]
fn emptiness_terminal_and_terminating_pods() {
    let mut w = World::new(std_types());
    w.pool("default", "WhenEmptyOrUnderutilized", all());
    w.node("n-done", Some("default"), "small", "z1", "on-demand");
    w.node("n-sts", Some("default"), "small", "z1", "on-demand");
    w.node("n-keep", Some("default"), "large", "z1", "on-demand");
    w.pod("job", Some("n-done"), 500)["status"]["phase"] = json!("Succeeded");
    w.pod("old-web", Some("n-done"), 500)["metadata"]["deletionTimestamp"] = json!(ts(NOW - MIN));
    let sts = w.pod("db-0", Some("n-sts"), 500);
    sts["metadata"]["deletionTimestamp"] = json!(ts(NOW - MIN));
    sts["metadata"]["ownerReferences"][0]["kind"] = json!("StatefulSet");
    w.pod("big", Some("n-keep"), 7000);
    let r = w.once();
    assert_cmd(only(&r), Method::Emptiness, Action::Delete, &["n-done"]);
}

/// v1.14 `IsEmpty`: a reschedulable pod whose eviction cost is ≤ 0 (very low priority) does not
/// make the node non-empty.
#[test]
fn emptiness_negative_eviction_cost_pod_counts_as_empty() {
    let mut w = World::new(std_types());
    w.pool("default", "WhenEmptyOrUnderutilized", all());
    w.node("n-low", Some("default"), "medium", "z1", "on-demand");
    w.node("n-app", Some("default"), "large", "z1", "on-demand");
    w.pod("filler", Some("n-low"), 500)["spec"]["priority"] = json!(-100_000_000); // cost 1 − 2.98 < 0
    w.pod("web", Some("n-app"), 7000);
    let r = w.once();
    assert_cmd(only(&r), Method::Emptiness, Action::Delete, &["n-low"]);

    // control: priority 0 makes it a (non-empty) consolidation candidate instead
    w.get("Pod", "filler")["spec"]["priority"] = json!(0);
    let r = w.once();
    assert!(r.commands.iter().all(|c| c.method != Method::Emptiness), "{}", show(&r));
}

/// consolidateAfter not elapsed since the last pod event: kept, with the reason.
#[test]
fn emptiness_waits_for_consolidate_after() {
    let mut w = World::new(std_types());
    w.pool("default", "WhenEmptyOrUnderutilized", all())["spec"]["disruption"]["consolidateAfter"] = json!("1h");
    w.node("n-new", Some("default"), "medium", "z1", "on-demand")["metadata"]["creationTimestamp"] = json!(ts(NOW - 30 * MIN));
    w.node("n-old", Some("default"), "medium", "z1", "on-demand")["metadata"]["creationTimestamp"] = json!(ts(NOW - 2 * HOUR));
    let r = w.once();
    assert_cmd(only(&r), Method::Emptiness, Action::Delete, &["n-old"]);
    assert_kept(&r, "n-new", "consolidateAfter");
}

#[test]
fn emptiness_never_with_consolidate_after_never() {
    let mut w = World::new(std_types());
    w.pool("default", "WhenEmpty", all())["spec"]["disruption"]["consolidateAfter"] = json!("Never");
    w.node("n1", Some("default"), "medium", "z1", "on-demand");
    w.node("n2", Some("default"), "medium", "z2", "on-demand");
    assert_no_command(&w.once());
}

/// All empty nodes the budget allows go in ONE command, most valuable first (savings ratio).
#[test]
fn emptiness_batches_all_empty_nodes_within_budget() {
    let mut w = World::new(std_types());
    w.pool("default", "WhenEmptyOrUnderutilized", json!([{"nodes": "2"}]));
    w.node("e-small", Some("default"), "small", "z1", "on-demand");
    w.node("e-large", Some("default"), "large", "z1", "on-demand");
    w.node("e-medium", Some("default"), "medium", "z2", "on-demand");
    w.node("e-small2", Some("default"), "small", "z3", "on-demand");
    w.node("busy", Some("default"), "medium", "z1", "on-demand");
    w.pod("web", Some("busy"), 3500);
    let r = w.once();
    let c = only(&r);
    assert_cmd(c, Method::Emptiness, Action::Delete, &["e-large", "e-medium"]);
    assert_kept(&r, "e-small", "budget");
    assert_kept(&r, "e-small2", "budget");

    // with room in the budget, every empty node goes at once
    w.get("NodePool", "default")["spec"]["disruption"]["budgets"] = all();
    let r = w.once();
    assert_cmd(only(&r), Method::Emptiness, Action::Delete, &["e-large", "e-medium", "e-small", "e-small2"]);
}

// ---------------------------------------------------------------- budgets

fn budget(nodes: &str) -> Budget {
    Budget { nodes: nodes.into(), schedule: None, duration: None, reasons: None }
}

#[test]
fn budget_percent_rounds_up() {
    assert_eq!(budget_allows(&budget("10%"), NOW, 5), 1);
    assert_eq!(budget_allows(&budget("10%"), NOW, 0), 0);
    assert_eq!(budget_allows(&budget("10%"), NOW, 10), 1);
    assert_eq!(budget_allows(&budget("10%"), NOW, 11), 2);
    assert_eq!(budget_allows(&budget("0%"), NOW, 7), 0);
    assert_eq!(budget_allows(&budget("3"), NOW, 1), 3);
}

/// Five empty nodes and the default 10 % budget: one node per round.
fn empty_pool(w: &mut World, pool: &str, n: usize) {
    for i in 0..n {
        w.node(&format!("{pool}-{i}"), Some(pool), "medium", ZONES[i % 3], "on-demand");
    }
}

#[test]
fn budget_ten_percent_of_five_nodes_is_one() {
    let mut w = World::new(std_types());
    w.pool("default", "WhenEmptyOrUnderutilized", json!([{"nodes": "10%"}]));
    empty_pool(&mut w, "default", 5);
    let c = w.once();
    assert_eq!(only(&c).nodes.len(), 1, "{}", show(&c));
}

/// Several budgets: the minimum of the active ones applies.
#[test]
fn budget_several_budgets_take_the_minimum() {
    let mut w = World::new(std_types());
    w.pool("default", "WhenEmptyOrUnderutilized", json!([{"nodes": "3"}, {"nodes": "50%"}]));
    empty_pool(&mut w, "default", 4);
    assert_eq!(only(&w.once()).nodes.len(), 2);
    w.get("NodePool", "default")["spec"]["disruption"]["budgets"] = json!([{"nodes": "3"}, {"nodes": "100%"}]);
    assert_eq!(only(&w.once()).nodes.len(), 3);
}

/// A budget limited to other reasons does not restrict emptiness; one for `Empty` does.
#[test]
fn budget_reasons_filter() {
    let mut w = World::new(std_types());
    w.pool("default", "WhenEmptyOrUnderutilized", json!([{"nodes": "0", "reasons": ["Underutilized", "Drifted"]}, {"nodes": "100%"}]));
    empty_pool(&mut w, "default", 3);
    assert_eq!(only(&w.once()).nodes.len(), 3);
    w.get("NodePool", "default")["spec"]["disruption"]["budgets"] = json!([{"nodes": "0", "reasons": ["Empty"]}, {"nodes": "100%"}]);
    let r = w.once();
    assert_no_command(&r);
    assert_kept(&r, "default-0", "budget");
}

/// Each NodePool has its own budget; emptiness still makes one command across pools.
#[test]
fn budget_per_nodepool() {
    let mut w = World::new(std_types());
    w.pool("a", "WhenEmptyOrUnderutilized", json!([{"nodes": "1"}]));
    w.pool("b", "WhenEmptyOrUnderutilized", all());
    empty_pool(&mut w, "a", 3);
    empty_pool(&mut w, "b", 2);
    let r = w.once();
    let c = only(&r);
    assert_eq!(c.method, Method::Emptiness);
    let from_a = c.nodes.iter().filter(|n| n.starts_with("a-")).count();
    let from_b = c.nodes.iter().filter(|n| n.starts_with("b-")).count();
    assert_eq!((from_a, from_b), (1, 2), "{c:#?}");
}

/// A cron budget applies only inside its window at the simulated time.
#[test]
fn budget_cron_window() {
    let mut w = World::new(std_types());
    // nothing may be disrupted 09:00–17:00 UTC; NOW is 12:00 UTC
    w.pool("default", "WhenEmptyOrUnderutilized", json!([{"nodes": "0", "schedule": "0 9 * * *", "duration": "8h"}, {"nodes": "100%"}]));
    empty_pool(&mut w, "default", 2);
    let inside = w.once();
    assert_no_command(&inside);
    assert_kept(&inside, "default-0", "budget");
    let mut o = opts();
    o.now = Some(NOW + 6 * HOUR); // 18:00
    assert_eq!(only(&w.once_with(&o)).nodes.len(), 2);
    o.now = Some(NOW - 3 * HOUR - 1); // 08:59:59
    assert_eq!(only(&w.once_with(&o)).nodes.len(), 2);
    o.now = Some(NOW - 3 * HOUR); // 09:00:00, window starts
    assert_no_command(&w.once_with(&o));
}

/// Nodes already disrupting (NotReady, or being deleted) consume budget.
#[test]
fn budget_counts_nodes_already_disrupting() {
    let mut w = World::new(std_types());
    w.pool("default", "WhenEmptyOrUnderutilized", json!([{"nodes": "2"}]));
    empty_pool(&mut w, "default", 3);
    w.node("sick", Some("default"), "large", "z1", "on-demand")["status"]["conditions"][0]["status"] = json!("False");
    w.pod("web", Some("sick"), 7000);
    assert_eq!(only(&w.once()).nodes.len(), 1, "2 allowed − 1 NotReady");
    w.node("going", Some("default"), "large", "z1", "on-demand")["metadata"]["deletionTimestamp"] = json!(ts(NOW - MIN));
    w.pod("api", Some("going"), 7000);
    let r = w.once();
    assert_no_command(&r);
    assert_kept(&r, "default-0", "budget");
}

// ---------------------------------------------------------------- candidate filters

#[test]
fn unmanaged_and_uninitialized_nodes_are_never_candidates() {
    let mut w = World::new(std_types());
    w.pool("default", "WhenEmptyOrUnderutilized", all());
    w.node("mng", None, "medium", "z1", "on-demand");
    let fresh = w.node("fresh", Some("default"), "medium", "z1", "on-demand");
    fresh["metadata"]["labels"].as_object_mut().unwrap().remove("karpenter.sh/initialized");
    let r = w.once();
    assert_no_command(&r);
    assert_kept(&r, "mng", "not managed");
    assert_kept(&r, "fresh", "not initialized");
}

#[test]
fn node_do_not_disrupt_annotation() {
    let mut w = World::new(std_types());
    w.pool("default", "WhenEmptyOrUnderutilized", all());
    w.node("n1", Some("default"), "medium", "z1", "on-demand")["metadata"]["annotations"] = json!({"karpenter.sh/do-not-disrupt": "true"});
    let r = w.once();
    assert_no_command(&r);
    assert_kept(&r, "n1", "do-not-disrupt");
}

/// Two half-full nodes: consolidation deletes one and moves its pod to the other. Which one is
/// decided by the blocks under test.
fn two_nodes() -> World {
    let mut w = World::new(std_types());
    // medium only: merging both into one medium is not cheaper than keeping one (multi-node's
    // filterOutSameInstanceType), so single-node consolidation decides
    w.pool("default", "WhenEmptyOrUnderutilized", all())["spec"]["template"]["spec"]["requirements"]
        .as_array_mut()
        .unwrap()
        .push(json!({"key": "node.kubernetes.io/instance-type", "operator": "In", "values": ["medium"]}));
    w.node("n1", Some("default"), "medium", "z1", "on-demand");
    w.node("n2", Some("default"), "medium", "z1", "on-demand");
    w.pod("a", Some("n1"), 1000);
    w.pod("b", Some("n2"), 1000);
    w
}

#[test]
fn two_nodes_control_deletes_the_first() {
    let r = two_nodes().once();
    let c = only(&r);
    assert_cmd(c, Method::SingleNode, Action::Delete, &["n1"]);
    assert_eq!(c.pods.len(), 1);
    assert_eq!((c.pods[0].pod.as_str(), c.pods[0].to.as_str()), ("default/a", "n2"));
}

#[test]
fn pod_do_not_disrupt_true_blocks_its_node() {
    let mut w = two_nodes();
    w.get("Pod", "a")["metadata"]["annotations"] = json!({"karpenter.sh/do-not-disrupt": "true"});
    let r = w.once();
    assert_cmd(only(&r), Method::SingleNode, Action::Delete, &["n2"]);
    assert_kept(&r, "n1", "do-not-disrupt");
}

#[test]
fn pod_do_not_disrupt_duration() {
    let mut w = two_nodes();
    // started an hour ago: "2h" still protects it
    w.get("Pod", "a")["metadata"]["annotations"] = json!({"karpenter.sh/do-not-disrupt": "2h"});
    let r = w.once();
    assert_cmd(only(&r), Method::SingleNode, Action::Delete, &["n2"]);
    assert_kept(&r, "n1", "do-not-disrupt");
    // "30m" has elapsed: no protection
    w.get("Pod", "a")["metadata"]["annotations"] = json!({"karpenter.sh/do-not-disrupt": "30m"});
    assert_cmd(only(&w.once()), Method::SingleNode, Action::Delete, &["n1"]);
}

#[test]
fn pdb_without_allowed_disruptions_blocks() {
    let mut w = two_nodes();
    w.pdb("a-pdb", "a", json!({"minAvailable": 1}));
    let r = w.once();
    assert_cmd(only(&r), Method::SingleNode, Action::Delete, &["n2"]);
    assert_kept(&r, "n1", "PodDisruptionBudget");
    // maxUnavailable 1 allows the eviction
    w.get("PodDisruptionBudget", "a-pdb")["spec"] = json!({"selector": {"matchLabels": {"app": "a"}}, "maxUnavailable": 1});
    assert_cmd(only(&w.once()), Method::SingleNode, Action::Delete, &["n1"]);
}

#[test]
fn pod_matched_by_two_pdbs_blocks() {
    let mut w = two_nodes();
    w.pdb("a-pdb", "a", json!({"maxUnavailable": 1}));
    w.pdb("a-pdb2", "a", json!({"maxUnavailable": "50%"}));
    let r = w.once();
    assert_cmd(only(&r), Method::SingleNode, Action::Delete, &["n2"]);
    assert_kept(&r, "n1", "more than one");
}

/// `unhealthyPodEvictionPolicy: AlwaysAllow` lets an unready pod be evicted even when the PDB
/// allows no disruption; without it the unready pod blocks.
#[test]
fn pdb_always_allow_with_unready_pod() {
    let mut w = two_nodes();
    w.get("Pod", "a")["status"]["conditions"] = json!([{"type": "Ready", "status": "False"}]);
    w.pdb("a-pdb", "a", json!({"minAvailable": 1}));
    let r = w.once();
    assert_cmd(only(&r), Method::SingleNode, Action::Delete, &["n2"]);
    assert_kept(&r, "n1", "PodDisruptionBudget");
    w.get("PodDisruptionBudget", "a-pdb")["spec"]["unhealthyPodEvictionPolicy"] = json!("AlwaysAllow");
    assert_cmd(only(&w.once()), Method::SingleNode, Action::Delete, &["n1"]);
}

/// A PDB covers DaemonSet pods too: `ValidatePodsDisruptable` checks every evictable pod on the
/// node, and `IsEvictable` exempts mirror pods and pods tolerating the `karpenter.sh/disrupted`
/// taint, not DaemonSet pods. A node whose only pod is a DaemonSet pod under a fully blocking PDB
/// is therefore not deleted as empty.
#[test]
fn pdb_on_a_daemonset_pod_blocks_its_node() {
    let mut w = World::new(std_types());
    w.pool("default", "WhenEmptyOrUnderutilized", all());
    w.node("n-ds", Some("default"), "medium", "z1", "on-demand");
    w.ds_pod("agent", "n-ds", 100);
    w.pdb("agent-pdb", "agent", json!({"maxUnavailable": 0}));
    let r = w.once();
    assert_no_command(&r);
    assert_kept(&r, "n-ds", "PodDisruptionBudget default/agent-pdb");

    // a DaemonSet pod that tolerates every taint also tolerates karpenter.sh/disrupted:NoSchedule:
    // it is not evicted, so its PDB does not apply and the node goes as empty
    w.get("Pod", "agent-n-ds")["spec"]["tolerations"] = json!([{"operator": "Exists"}]);
    assert_cmd(only(&w.once()), Method::Emptiness, Action::Delete, &["n-ds"]);
}

// ---------------------------------------------------------------- expiration

/// expireAfter elapsed: deleted at once, whatever the budgets and PDBs say; the pod is rescheduled.
#[test]
fn expiration_ignores_budgets_and_pdbs() {
    let mut w = World::new(std_types());
    let p = w.pool("default", "WhenEmptyOrUnderutilized", json!([{"nodes": "0"}]));
    p["spec"]["template"]["spec"]["expireAfter"] = json!("24h");
    w.node("old", Some("default"), "medium", "z1", "on-demand")["metadata"]["creationTimestamp"] = json!(ts(NOW - 2 * DAY));
    w.node("young", Some("default"), "medium", "z1", "on-demand")["metadata"]["creationTimestamp"] = json!(ts(NOW - HOUR));
    w.pod("a", Some("old"), 1000);
    w.pod("b", Some("young"), 3500);
    w.pdb("a-pdb", "a", json!({"minAvailable": 1}));
    let r = w.once();
    let c = only(&r);
    assert_cmd(c, Method::Expiration, Action::Delete, &["old"]);
    // a does not fit next to b (3.5 of 4 cpu): it goes pending or to a new node, never disappears
    assert_eq!(c.pods.len(), 1, "{c:#?}");
    assert_eq!(c.pods[0].pod, "default/a");
}

#[test]
fn expiration_never() {
    let mut w = World::new(std_types());
    w.pool("default", "WhenEmptyOrUnderutilized", json!([{"nodes": "0"}]));
    w.node("old", Some("default"), "medium", "z1", "on-demand")["metadata"]["creationTimestamp"] = json!(ts(NOW - 400 * DAY));
    w.pod("a", Some("old"), 1000);
    assert_no_command(&w.once());
}
