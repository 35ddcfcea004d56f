//! `pkg/controllers/provisioning/scheduling/topology_test.go`: topology spread constraints (zone,
//! hostname, capacity type, custom labels, node inclusion policies), pod affinity and
//! anti-affinity, taints.

use crate::harness::*;
use serde_json::{Value, json};

const FILE: &str = "provisioning/scheduling/topology_test.go";

const L: (&str, &str) = ("test", "test");

/// The suite's NodePool: any capacity type.
fn np() -> NodePool {
    nodepool("default").req(CT, "Exists", &[])
}

/// A spread constraint over the suite's labels.
fn tsc(key: &str, skew: i32, when: &str) -> Value {
    json!({"topologyKey": key, "maxSkew": skew, "whenUnsatisfiable": when, "labelSelector": labels_sel(&[L])})
}

/// `n` pods `{prefix}-i` labelled `test=test` with these constraints.
fn spread(prefix: &str, n: usize, tscs: &[Value]) -> Vec<Pod> {
    pods(prefix, n, |p| tscs.iter().fold(p.label(L.0, L.1), |p, c| p.tsc(c.clone())))
}

/// The suite's pods with `f` applied.
fn spread_with(prefix: &str, n: usize, tscs: &[Value], f: impl Fn(Pod) -> Pod) -> Vec<Pod> {
    spread(prefix, n, tscs).into_iter().map(f).collect()
}

/// The counts of the suite's pods by `key`.
fn skew(out: &Outcome, key: &str) -> Vec<usize> {
    out.skew_all(Some(&[L]), key)
}

#[track_caller]
fn max_count(out: &Outcome, key: &str) -> usize {
    skew(out, key).into_iter().max().unwrap_or(0)
}

/// Provision, then turn what was launched into in-flight nodes holding their pods (the state
/// after `ExpectProvisioned`).
fn round(e: &mut Env, pods: Vec<Pod>) -> Outcome {
    e.apply_all(pods);
    let out = e.provision();
    e.launch(&out);
    out
}

fn set_pool(e: &mut Env, pool: NodePool) {
    *e.get("NodePool", "default") = pool.0;
}

#[test]
fn unknown_topology_key() {
    ports!(FILE, "Topology > should ignore unknown topology keys");
    let mut e = Env::new();
    e.apply(np()).apply_all(spread("a", 1, &[tsc("unknown", 1, "DoNotSchedule")])).apply(pod("b"));
    let out = e.provision();
    out.not_scheduled("a-0");
    out.scheduled("b");
}

#[test]
fn invalid_label_selector() {
    ports!(FILE, "Topology > should not spread an invalid label selector");
    // Karpenter packs both pods on one node (a value no label can have selects nothing). The API
    // server refuses to create a pod whose topology spread selector has an invalid label value
    // (pod validation allows one only in a pod that already had it,
    // `hasInvalidTopologySpreadConstraintLabelSelector`), and karpsim refuses such input with the
    // field named rather than guess (issue 13).
    let c = json!({"topologyKey": ZONE, "maxSkew": 1, "whenUnsatisfiable": "DoNotSchedule", "labelSelector": {"matchLabels": {"app.kubernetes.io/name": "{{ zqfmgb }}"}}});
    let mut e = Env::new();
    e.apply(np()).apply_all(spread("a", 2, &[c]));
    let err = e.input_error();
    assert!(err.contains("topologySpreadConstraints[0].labelSelector.matchLabels") && err.contains("not a valid label value"), "{err}");
}

#[test]
fn nil_label_selector() {
    ports!(FILE, "Topology > should not spread when a nil label selector is defined");
    let c = json!({"topologyKey": ZONE, "maxSkew": 1, "whenUnsatisfiable": "DoNotSchedule"});
    let mut e = Env::new();
    e.apply(np()).apply_all(spread("a", 2, &[c]));
    assert_eq!(e.provision().skew_all(None, ZONE), [2]);
}

// ---------------------------------------------------------------- zonal

fn zonal(pool: NodePool, n: usize) -> Outcome {
    let mut e = Env::new();
    e.apply(pool).apply_all(spread("p", n, &[tsc(ZONE, 1, "DoNotSchedule")]));
    e.provision()
}

#[test]
fn zonal_match_labels() {
    ports!(FILE, "Topology > Zonal > should balance pods across zones (match labels)");
    assert_eq!(skew(&zonal(np(), 4), ZONE), [1, 1, 2]);
}

#[test]
fn zonal_match_expressions() {
    ports!(FILE, "Topology > Zonal > should balance pods across zones (match expressions)");
    let c = json!({"topologyKey": ZONE, "maxSkew": 1, "whenUnsatisfiable": "DoNotSchedule",
        "labelSelector": {"matchExpressions": [{"key": "test", "operator": "In", "values": ["test"]}]}});
    let mut e = Env::new();
    e.apply(np()).apply_all(spread("p", 4, &[c]));
    assert_eq!(skew(&e.provision(), ZONE), [1, 1, 2]);
}

#[test]
fn zonal_pool_constraints() {
    ports!(FILE, "Topology > Zonal > should respect NodePool zonal constraints");
    let pool = np().reqs(vec![expr(ZONE, "In", &["test-zone-1", "test-zone-2", "test-zone-3"])]);
    assert_eq!(skew(&zonal(pool, 4), ZONE), [1, 1, 2]);
}

#[test]
fn zonal_pool_subset_requirements() {
    ports!(FILE, "Topology > Zonal > should respect NodePool zonal constraints (subset) with requirements");
    let pool = np().reqs(vec![expr(ZONE, "In", &["test-zone-1", "test-zone-2"])]);
    assert_eq!(skew(&zonal(pool, 4), ZONE), [2, 2]);
}

#[test]
fn zonal_pool_subset_labels() {
    ports!(FILE, "Topology > Zonal > should respect NodePool zonal constraints (subset) with labels");
    assert_eq!(skew(&zonal(np().label(ZONE, "test-zone-1"), 4), ZONE), [4]);
}

#[test]
fn zonal_pool_subset_requirements_and_labels() {
    ports!(FILE, "Topology > Zonal > should respect NodePool zonal constraints (subset) with requirements and labels");
    let pool = np().reqs(vec![expr(ZONE, "In", &["test-zone-1", "test-zone-2"])]).label(ZONE, "test-zone-1");
    assert_eq!(skew(&zonal(pool, 4), ZONE), [4]);
}

#[test]
fn zonal_pool_subset_labels_across_pools() {
    ports!(FILE, "Topology > Zonal > should respect NodePool zonal constraints (subset) with labels across NodePools");
    let mut e = Env::new();
    e.apply(np().reqs(vec![expr(ZONE, "In", &["test-zone-1", "test-zone-2"])]).label(ZONE, "test-zone-1"))
        .apply(nodepool("second").label(ZONE, "test-zone-2"))
        .apply_all(spread("p", 4, &[tsc(ZONE, 1, "DoNotSchedule")]));
    assert_eq!(skew(&e.provision(), ZONE), [2, 2]);
}

#[test]
fn zonal_existing_pod() {
    ports!(FILE, "Topology > Zonal > should respect NodePool zonal constraints (existing pod)");
    let mut e = Env::new();
    e.apply(np());
    round(&mut e, vec![pod("first").label(L.0, L.1).cpu("1.1").node_selector(ZONE, "test-zone-3")]);
    set_pool(&mut e, np().reqs(vec![expr(ZONE, "In", &["test-zone-1", "test-zone-2"])]));
    let out = round(&mut e, spread_with("p", 6, &[tsc(ZONE, 1, "DoNotSchedule")], |p| p.cpu("1.1")));
    assert_eq!(skew(&out, ZONE), [1, 2, 2]);
}

fn rr(p: Pod) -> Pod {
    p.cpu("1.1")
}

#[test]
fn zonal_non_minimum_domain() {
    ports!(FILE, "Topology > Zonal > should schedule to the non-minimum domain if its all that's available");
    let c = [tsc(ZONE, 5, "DoNotSchedule")];
    let mut e = Env::new();
    e.apply(np().reqs(vec![expr(ZONE, "In", &["test-zone-1"])]));
    assert_eq!(skew(&round(&mut e, spread_with("a", 1, &c, rr)), ZONE), [1]);
    set_pool(&mut e, np().reqs(vec![expr(ZONE, "In", &["test-zone-2"])]));
    assert_eq!(skew(&round(&mut e, spread_with("b", 1, &c, rr)), ZONE), [1, 1]);
    set_pool(&mut e, np().reqs(vec![expr(ZONE, "In", &["test-zone-3"])]));
    assert_eq!(skew(&round(&mut e, spread_with("c", 10, &c, rr)), ZONE), [1, 1, 6]);
}

#[test]
fn zonal_only_minimum_domains_when_violating() {
    ports!(FILE, "Topology > Zonal > should only schedule to minimum domains if already violating max skew");
    let c = [tsc(ZONE, 1, "DoNotSchedule")];
    let mut e = Env::new();
    e.apply(np());
    let out = round(&mut e, spread_with("a", 9, &c, rr));
    assert_eq!(skew(&out, ZONE), [3, 3, 3]);
    // delete the pods outside zone 1
    let gone: Vec<String> = (0..9).map(|i| format!("a-{i}")).filter(|p| out.scheduled(p).label(ZONE) != Some("test-zone-1")).collect();
    for p in gone {
        e.delete("Pod", &p);
    }
    let out = round(&mut e, spread_with("b", 3, &c, rr));
    assert_eq!(skew(&out, ZONE), [1, 2, 3]);
}

#[test]
fn zonal_max_skew_do_not_schedule() {
    ports!(FILE, "Topology > Zonal > should not violate max-skew when unsat = do not schedule");
    let c = [tsc(ZONE, 1, "DoNotSchedule")];
    let mut e = Env::new();
    e.apply(np().reqs(vec![expr(ZONE, "In", &["test-zone-1"])]));
    assert_eq!(skew(&round(&mut e, spread_with("a", 1, &c, rr)), ZONE), [1]);
    set_pool(&mut e, np().reqs(vec![expr(ZONE, "In", &["test-zone-2", "test-zone-3"])]));
    assert_eq!(skew(&round(&mut e, spread_with("b", 10, &c, rr)), ZONE), [1, 2, 2]);
}

#[test]
fn zonal_max_skew_do_not_schedule_discover_domains() {
    ports!(FILE, "Topology > Zonal > should not violate max-skew when unsat = do not schedule (discover domains)");
    let c = [tsc(ZONE, 1, "DoNotSchedule")];
    let mut e = Env::new();
    e.apply(np().reqs(vec![expr(ZONE, "In", &["test-zone-1"])]));
    // the first pod has no spread of its own: zone 1 is learnt from its node
    round(&mut e, vec![rr(pod("first").label(L.0, L.1))]);
    set_pool(&mut e, np().reqs(vec![expr(ZONE, "In", &["test-zone-2", "test-zone-3"])]));
    assert_eq!(skew(&round(&mut e, spread_with("b", 10, &c, rr)), ZONE), [1, 2, 2]);
}

/// Nodes in zone (or capacity type) `key` = `v1`, `v2` and one without the label; a spread over two
/// new pods counts only the running pods that match, in the namespace, on nodes with a domain.
fn count_only_matching(key: &str, v1: &str, v2: &str) -> Outcome {
    let mut e = Env::new();
    e.apply(np())
        .apply(node("first").label(key, v1))
        .apply(node("second").label(key, v2))
        .apply(node("third"))
        .apply(plain_pod("no-labels").on("first"))
        .apply(plain_pod("pending").label(L.0, L.1))
        .apply(plain_pod("no-domain").label(L.0, L.1).on("third"))
        .apply(plain_pod("wrong-ns").label(L.0, L.1).ns("wrong-namespace").on("first"))
        .apply(plain_pod("terminating").label(L.0, L.1).deleting("2026-01-01T00:00:00Z"))
        .apply(plain_pod("failed").label(L.0, L.1).on("first").phase("Failed"))
        .apply(plain_pod("succeeded").label(L.0, L.1).on("first").phase("Succeeded"))
        .apply(plain_pod("r1").label(L.0, L.1).on("first"))
        .apply(plain_pod("r2").label(L.0, L.1).on("first"))
        .apply(plain_pod("r3").label(L.0, L.1).on("second"))
        .apply_all(spread("p", 2, &[tsc(key, 1, "DoNotSchedule")]));
    e.provision()
}

#[test]
fn zonal_count_only_matching() {
    ports!(FILE, "Topology > Zonal > should only count running/scheduled pods with matching labels scheduled to nodes with a corresponding domain");
    assert_eq!(skew(&count_only_matching(ZONE, "test-zone-1", "test-zone-2"), ZONE), [1, 2, 2]);
}

#[test]
fn zonal_no_selector_matches_all() {
    ports!(FILE, "Topology > Zonal > should match all pods when labelSelector is not specified");
    let mut e = Env::new();
    e.apply(np()).apply(pod("p"));
    assert_eq!(e.provision().skew_all(None, ZONE), [1]);
}

/// The spread selects `test=test`, which the pods do not carry: they do not count, and pack.
fn interdependent(key: &str) {
    let mut e = Env::new();
    let ps = pods("p", 5, |p| p.tsc(tsc(key, 1, "DoNotSchedule")));
    e.apply(np()).apply_all(ps.clone());
    assert_eq!(e.provision().nodes_of(&names(&ps)).len(), 1);
}

#[test]
fn zonal_interdependent_selectors() {
    ports!(FILE, "Topology > Zonal > should handle interdependent selectors");
    interdependent(HOSTNAME);
}

fn min_domains(zones: &[&str], min: i32, n: usize) -> Vec<usize> {
    let mut c = tsc(ZONE, 1, "DoNotSchedule");
    c["minDomains"] = json!(min);
    let mut e = Env::new();
    e.apply(np().reqs(vec![expr(ZONE, "In", zones)])).apply_all(spread("p", n, &[c]));
    skew(&e.provision(), ZONE)
}

#[test]
fn zonal_min_domains() {
    ports!(FILE, "Topology > Zonal > should respect minDomains constraints");
    assert_eq!(min_domains(&["test-zone-1", "test-zone-2"], 3, 3), [1, 1]);
}

#[test]
fn zonal_min_domains_equal() {
    ports!(FILE, "Topology > Zonal > satisfied minDomains constraints (equal) should allow expected pod scheduling");
    assert_eq!(min_domains(&["test-zone-1", "test-zone-2", "test-zone-3"], 3, 11), [3, 4, 4]);
}

#[test]
fn zonal_min_domains_greater() {
    ports!(FILE, "Topology > Zonal > satisfied minDomains constraints (greater than minimum) should allow expected pod scheduling");
    assert_eq!(min_domains(&["test-zone-1", "test-zone-2", "test-zone-3"], 2, 11), [3, 4, 4]);
}

// ---------------------------------------------------------------- hostname

#[test]
fn hostname_balance() {
    ports!(FILE, "Topology > Hostname > should balance pods across nodes");
    let mut e = Env::new();
    e.apply(np()).apply_all(spread("p", 4, &[tsc(HOSTNAME, 1, "DoNotSchedule")]));
    assert_eq!(skew(&e.provision(), HOSTNAME), [1, 1, 1, 1]);
}

#[test]
fn hostname_up_to_max_skew() {
    ports!(FILE, "Topology > Hostname > should balance pods on the same hostname up to maxskew");
    let mut e = Env::new();
    e.apply(np()).apply_all(spread("p", 4, &[tsc(HOSTNAME, 4, "DoNotSchedule")]));
    assert_eq!(skew(&e.provision(), HOSTNAME), [4]);
}

fn app_spread(name: &str, app: &str) -> Pod {
    pod(name).label("app", app).tsc(json!({"topologyKey": HOSTNAME, "maxSkew": 1, "whenUnsatisfiable": "DoNotSchedule", "labelSelector": labels_sel(&[("app", app)])}))
}

#[test]
fn hostname_two_deployments() {
    ports!(FILE, "Topology > Hostname > balance multiple deployments with hostname topology spread");
    let mut e = Env::new();
    e.apply(np()).apply_all(vec![app_spread("a1", "app1"), app_spread("a2", "app1"), app_spread("b1", "app2"), app_spread("b2", "app2")]);
    let out = e.provision();
    for p in ["a1", "a2", "b1", "b2"] {
        out.scheduled(p);
    }
    assert_eq!(out.claims(), 2);
}

#[test]
fn hostname_two_deployments_arch() {
    ports!(FILE, "Topology > Hostname > balance multiple deployments with hostname topology spread & varying arch");
    let mut e = Env::new();
    let ps = vec![
        app_spread("a1", "app1").node_req(ARCH, "In", &["amd64"]),
        app_spread("a2", "app1").node_req(ARCH, "In", &["amd64"]),
        app_spread("b1", "app2").node_req(ARCH, "In", &["arm64"]),
        app_spread("b2", "app2").node_req(ARCH, "In", &["arm64"]),
    ];
    e.apply(np()).apply_all(ps);
    let out = e.provision();
    for p in ["a1", "a2", "b1", "b2"] {
        out.scheduled(p);
    }
    assert_eq!(out.claims(), 4);
}

// ---------------------------------------------------------------- capacity type

#[test]
fn ct_balance() {
    ports!(FILE, "Topology > CapacityType > should balance pods across capacity types");
    let mut e = Env::new();
    e.apply(np()).apply_all(spread("p", 4, &[tsc(CT, 1, "DoNotSchedule")]));
    assert_eq!(skew(&e.provision(), CT), [2, 2]);
}

#[test]
fn ct_pool_constraints() {
    ports!(FILE, "Topology > CapacityType > should respect NodePool capacity type constraints");
    let mut e = Env::new();
    e.apply(np().reqs(vec![expr(CT, "In", &[SPOT, OD])])).apply_all(spread("p", 4, &[tsc(CT, 1, "DoNotSchedule")]));
    assert_eq!(skew(&e.provision(), CT), [2, 2]);
}

fn ct_two_rounds(when: &str) -> Vec<usize> {
    let c = [tsc(CT, 1, when)];
    let mut e = Env::new();
    e.apply(np().reqs(vec![expr(CT, "In", &[SPOT])]));
    assert_eq!(skew(&round(&mut e, spread_with("a", 1, &c, rr)), CT), [1]);
    set_pool(&mut e, np().reqs(vec![expr(CT, "In", &[OD])]));
    skew(&round(&mut e, spread_with("b", 5, &c, rr)), CT)
}

#[test]
fn ct_max_skew_do_not_schedule() {
    ports!(FILE, "Topology > CapacityType > should not violate max-skew when unsat = do not schedule (capacity type)");
    assert_eq!(ct_two_rounds("DoNotSchedule"), [1, 2]);
}

#[test]
fn ct_max_skew_schedule_anyway() {
    ports!(FILE, "Topology > CapacityType > should violate max-skew when unsat = schedule anyway (capacity type)");
    assert_eq!(ct_two_rounds("ScheduleAnyway"), [1, 5]);
}

#[test]
fn ct_count_only_matching() {
    ports!(FILE, "Topology > CapacityType > should only count running/scheduled pods with matching labels scheduled to nodes with a corresponding domain");
    assert_eq!(skew(&count_only_matching(CT, SPOT, OD), CT), [2, 3]);
}

#[test]
fn ct_no_selector_matches_all() {
    ports!(FILE, "Topology > CapacityType > should match all pods when labelSelector is not specified");
    let mut e = Env::new();
    e.apply(np()).apply(pod("p"));
    assert_eq!(e.provision().skew_all(None, CT), [1]);
}

#[test]
fn ct_interdependent_selectors() {
    ports!(FILE, "Topology > CapacityType > should handle interdependent selectors");
    interdependent(HOSTNAME);
}

#[test]
fn ct_node_affinity_constrained() {
    ports!(FILE, "Topology > CapacityType > should balance pods across capacity-types (node required affinity constrained)");
    let mut e = Env::new();
    e.apply(np());
    let first = pod("first").label(L.0, L.1).node_req(ZONE, "In", &["test-zone-1"]).node_req(CT, "In", &[OD]);
    round(&mut e, vec![first]);
    // the zone 2 spot pods do not count the on-demand pod in zone 1 (node affinity policy Honor)
    let out = round(&mut e, spread_with("p", 5, &[tsc(CT, 1, "DoNotSchedule")], |p| p.node_req(ZONE, "In", &["test-zone-2"]).node_req(CT, "In", &[SPOT])));
    assert_eq!(skew(&out, CT), [1, 5]);
}

/// One pod alone on a single-pod node, then a spread over `key` with the NodePool limited to
/// `value`: the existing node's domain holds the others to two.
fn single_pod_node_then_spread(key: &str, first_value: &str, limited: &str) -> Vec<usize> {
    let mut e = Env::new();
    e.apply(np());
    let first = pod("first").label(L.0, L.1).node_selector(IT, "single-pod-instance-type").node_req(key, "In", &[first_value]);
    round(&mut e, vec![first]);
    set_pool(&mut e, np().reqs(vec![expr(key, "In", &[limited])]));
    skew(&round(&mut e, spread_with("p", 5, &[tsc(key, 1, "DoNotSchedule")], |p| p.cpu("2"))), key)
}

#[test]
fn ct_no_constraints() {
    ports!(FILE, "Topology > CapacityType > should balance pods across capacity-types (no constraints)");
    assert_eq!(single_pod_node_then_spread(CT, OD, SPOT), [1, 2]);
}

#[test]
fn ct_arch_no_constraints() {
    ports!(FILE, "Topology > CapacityType > should balance pods across arch (no constraints)");
    assert_eq!(single_pod_node_then_spread(ARCH, "amd64", "arm64"), [1, 2]);
}

// ---------------------------------------------------------------- combined

#[test]
fn combined_hostname_and_zonal() {
    ports!(FILE, "Topology > Combined Hostname and Zonal Topology > should spread pods while respecting both constraints (hostname and zonal)");
    let c = [tsc(ZONE, 1, "DoNotSchedule"), tsc(HOSTNAME, 3, "DoNotSchedule")];
    let mut e = Env::new();
    e.apply(np());
    for (prefix, n, want) in [("a", 2, vec![1, 1]), ("b", 3, vec![1, 2, 2]), ("c", 5, vec![3, 3, 4]), ("d", 11, vec![7, 7, 7])] {
        let out = round(&mut e, spread(prefix, n, &c));
        assert_eq!(skew(&out, ZONE), want, "after {prefix}");
        assert!(max_count(&out, HOSTNAME) <= 3);
    }
}

#[test]
fn combined_pool_requirements() {
    ports!(FILE, "Topology > Combined Hostname and Zonal Topology > should balance pods across NodePool requirements");
    let key = "capacity.spread.4-1";
    let mut e = Env::new();
    e.apply(nodepool("spot").req(CT, "In", &[SPOT]).req(key, "In", &["2", "3", "4", "5"]))
        .apply(nodepool("on-demand").req(CT, "In", &[OD]).req(key, "In", &["1"]))
        .apply_all(spread("p", 20, &[tsc(key, 1, "DoNotSchedule")]));
    let out = e.provision();
    for i in 0..20 {
        out.scheduled(&format!("p-{i}"));
    }
    assert_eq!(skew(&out, key), [4, 4, 4, 4, 4]);
    assert_eq!(skew(&out, CT), [4, 16]);
}

#[test]
fn combined_zonal_and_hostname_with_disabled_pool() {
    ports!(FILE, "Topology > Combined Hostname and Zonal Topology > should spread pods while respecting both constraints");
    let mut e = Env::new();
    e.apply(np().reqs(vec![expr(ZONE, "In", &["test-zone-1", "test-zone-2"])]))
        .apply(nodepool("disabled").reqs(vec![expr(ZONE, "In", &["test-zone-3"])]).limits(json!({"cpu": "0"})))
        .apply_all(spread("p", 10, &[tsc(ZONE, 1, "DoNotSchedule"), tsc(HOSTNAME, 1, "ScheduleAnyway")]));
    let out = e.provision();
    assert_eq!(skew(&out, ZONE), [1, 1]);
    assert_eq!(skew(&out, HOSTNAME), [1, 1]);
}

#[test]
fn combined_capacity_type_and_hostname() {
    ports!(FILE, "Topology > Combined Hostname and Zonal Topology > should spread pods while respecting both constraints #2");
    let c = [tsc(CT, 1, "DoNotSchedule"), tsc(HOSTNAME, 3, "DoNotSchedule")];
    let mut e = Env::new();
    e.apply(np());
    for (prefix, n, want) in [("a", 2, vec![1, 1]), ("b", 3, vec![2, 3]), ("c", 5, vec![5, 5]), ("d", 11, vec![10, 11])] {
        let out = round(&mut e, spread(prefix, n, &c));
        assert_eq!(skew(&out, CT), want, "after {prefix}");
        assert!(max_count(&out, HOSTNAME) <= 3);
    }
}

// ---------------------------------------------------------------- matchLabelKeys

#[test]
fn match_label_keys() {
    ports!(FILE, "Topology > MatchLabelKeys > should support matchLabelKeys");
    let mut c = tsc(HOSTNAME, 1, "DoNotSchedule");
    c["matchLabelKeys"] = json!(["test-label"]);
    let mut ps = spread_with("a", 2, std::slice::from_ref(&c), |p| p.label("test-label", "value-a"));
    ps.extend(spread_with("b", 2, &[c], |p| p.label("test-label", "value-b")));
    let mut e = Env::new();
    e.apply(np()).apply_all(ps);
    // two nodes, one pod of each "deployment" on each
    assert_eq!(skew(&e.provision(), HOSTNAME), [2, 2]);
}

#[test]
fn match_label_keys_unknown_label() {
    ports!(FILE, "Topology > MatchLabelKeys > should ignore unknown labels specified in matchLabelKeys");
    let mut c = tsc(HOSTNAME, 1, "DoNotSchedule");
    c["matchLabelKeys"] = json!(["test-label"]);
    let mut e = Env::new();
    e.apply(np()).apply_all(spread("p", 4, &[c]));
    assert_eq!(skew(&e.provision(), HOSTNAME), [1, 1, 1, 1]);
}

// ---------------------------------------------------------------- node taints policy

const SPREAD: &str = "fake-label";

/// Two tainted nodes with 100m in domains foo and bar; the NodePool makes baz. Five 1-cpu pods
/// spread over the label with the given policy field.
fn taints_policy(field: &str, policy: &str, pod_selector: Option<(&str, &str)>, pool: NodePool, node_label: Option<(&str, &str)>) -> Vec<usize> {
    let mut c = tsc(SPREAD, 1, "DoNotSchedule");
    c[field] = json!(policy);
    let mk = |name: &str, v: &str| {
        let mut n = node(name).label(SPREAD, v).resources(json!({"cpu": "100m"}));
        if let Some((k, val)) = node_label {
            n = n.label(k, val);
        } else {
            n = n.taint("taintname", "taintvalue", "NoSchedule");
        }
        n
    };
    let mut e = Env::new();
    e.apply(pool).apply(mk("node1", "foo")).apply(mk("node2", "bar"));
    e.apply_all(spread_with("p", 5, &[c], |p| {
        let p = p.cpu("1");
        match pod_selector {
            Some((k, v)) => p.node_selector(k, v),
            None => p,
        }
    }));
    skew(&e.provision(), SPREAD)
}

#[test]
fn taints_policy_ignore() {
    ports!(FILE, "Topology > NodeTaintsPolicy > should balance pods across a label (NodeTaintsPolicy=ignore)");
    // three domains known, only baz can take pods: one pod
    assert_eq!(taints_policy("nodeTaintsPolicy", "Ignore", None, np().label(SPREAD, "baz"), None), [1]);
}

#[test]
fn taints_policy_honor() {
    ports!(FILE, "Topology > NodeTaintsPolicy > should balance pods across a label (NodeTaintsPolicy=honor)");
    // the tainted nodes are not domains for these pods: all five go to baz
    assert_eq!(taints_policy("nodeTaintsPolicy", "Honor", None, np().label(SPREAD, "baz"), None), [5]);
}

fn discovered_from_pool(policy: &str) -> Vec<usize> {
    let mut c = tsc(SPREAD, 1, "DoNotSchedule");
    c["nodeTaintsPolicy"] = json!(policy);
    let mut e = Env::new();
    e.apply(np().req(SPREAD, "In", &["foo"]))
        .apply(nodepool("tainted").taint("taint-key", "taint-value", "NoSchedule").req(CT, "Exists", &[]).req(SPREAD, "In", &["bar"]))
        .apply_all(spread("p", 2, &[c]));
    skew(&e.provision(), SPREAD)
}

#[test]
fn taints_policy_ignore_pool_domains() {
    ports!(FILE, "Topology > NodeTaintsPolicy > should balance pods across a label when discovered from the nodepool (NodeTaintsPolicy=ignore)");
    assert_eq!(discovered_from_pool("Ignore"), [1]);
}

#[test]
fn taints_policy_honor_pool_domains() {
    ports!(FILE, "Topology > NodeTaintsPolicy > should balance pods across a label when discovered from the nodepool (NodeTaintsPolicy=honor)");
    assert_eq!(discovered_from_pool("Honor"), [2]);
}

#[test]
fn taints_policy_honor_exclusive_pools() {
    ports!(FILE, "Topology > NodeTaintsPolicy > should balance pods across a label when mutually exclusive NodePools (by taints) share domains (NodeTaintsPolicy=honor)");
    let mut c = tsc(SPREAD, 1, "DoNotSchedule");
    c["nodeTaintsPolicy"] = json!("Honor");
    let mut e = Env::new();
    for (i, domains) in [["foo", "bar"], ["foo", "baz"]].iter().enumerate() {
        let taint = format!("nodepool-{i}");
        e.apply(nodepool(&format!("pool-{i}")).taint("taint-key", &taint, "NoSchedule").req(CT, "Exists", &[]).req(SPREAD, "In", domains));
        let tol = json!({"key": "taint-key", "effect": "NoSchedule", "value": taint});
        e.apply_all(spread_with(&format!("d{i}"), (i + 1) * 2, std::slice::from_ref(&c), |p| p.toleration(tol.clone())));
    }
    assert_eq!(skew(&e.provision(), SPREAD), [1, 2, 3]);
}

// ---------------------------------------------------------------- node affinity policy

#[test]
fn affinity_policy_ignore() {
    ports!(FILE, "Topology > NodeAffinityPolicy > should balance pods across a label (NodeAffinityPolicy=ignore)");
    let pool = np().label(SPREAD, "baz").label("selector", "value");
    assert_eq!(taints_policy("nodeAffinityPolicy", "Ignore", Some(("selector", "value")), pool, Some(("selector", "mismatch"))), [1]);
}

#[test]
fn affinity_policy_honor() {
    ports!(FILE, "Topology > NodeAffinityPolicy > should balance pods across a label (NodeAffinityPolicy=honor)");
    let pool = np().label(SPREAD, "baz").label("selector", "value");
    assert_eq!(taints_policy("nodeAffinityPolicy", "Honor", Some(("selector", "value")), pool, Some(("selector", "mismatch"))), [5]);
}

#[test]
fn combined_zonal_and_capacity_type() {
    ports!(FILE, "Topology > Combined Zonal and Capacity Type Topology > should spread pods while respecting both constraints");
    let c = [tsc(CT, 1, "DoNotSchedule"), tsc(ZONE, 1, "DoNotSchedule")];
    let mut e = Env::new();
    e.apply(np());
    for (prefix, n, ct_max, zone_max) in [("a", 2, 1, 1), ("b", 3, 3, 2), ("c", 3, 5, 4), ("d", 11, 11, 7)] {
        let out = round(&mut e, spread(prefix, n, &c));
        assert!(max_count(&out, CT) <= ct_max && max_count(&out, ZONE) <= zone_max, "after {prefix}: {:?} {:?}", skew(&out, CT), skew(&out, ZONE));
    }
}

#[test]
fn combined_hostname_zonal_capacity_type() {
    ports!(FILE, "Topology > Combined Hostname, Zonal, and Capacity Type Topology > should spread pods while respecting all constraints");
    let c = [tsc(CT, 1, "DoNotSchedule"), tsc(ZONE, 2, "DoNotSchedule"), tsc(HOSTNAME, 3, "DoNotSchedule")];
    let mut e = Env::assorted();
    e.apply(np());
    let spread_of = |v: Vec<usize>| v.iter().max().unwrap_or(&0) - v.iter().min().unwrap_or(&0);
    for i in 1..15 {
        let batch = spread(&format!("r{i}"), i, &c);
        let names = names(&batch);
        let out = round(&mut e, batch);
        for p in &names {
            out.scheduled(p);
        }
        assert!(spread_of(skew(&out, CT)) <= 1 && spread_of(skew(&out, ZONE)) <= 2 && spread_of(skew(&out, HOSTNAME)) <= 3, "round {i}");
    }
}

// ---------------------------------------------------------------- combined with node affinity

#[test]
fn zonal_limited_by_node_selector() {
    ports!(FILE, "Topology > Combined Zonal Topology and Node Affinity > should limit spread options by nodeSelector");
    let c = [tsc(ZONE, 1, "DoNotSchedule")];
    let mut e = Env::new();
    e.apply(np())
        .apply_all(spread_with("a", 5, &c, |p| p.node_selector(ZONE, "test-zone-1")))
        .apply_all(spread_with("b", 10, &c, |p| p.node_selector(ZONE, "test-zone-2")));
    assert_eq!(skew(&e.provision(), ZONE), [5, 10]);
}

#[test]
fn zonal_limited_by_node_requirements() {
    ports!(FILE, "Topology > Combined Zonal Topology and Node Affinity > should limit spread options by node requirements");
    let mut e = Env::new();
    e.apply(np()).apply_all(spread_with("p", 10, &[tsc(ZONE, 1, "DoNotSchedule")], |p| p.node_req(ZONE, "In", &["test-zone-1", "test-zone-2"])));
    assert_eq!(skew(&e.provision(), ZONE), [5, 5]);
}

#[test]
fn zonal_limited_by_required_node_affinity() {
    ports!(FILE, "Topology > Combined Zonal Topology and Node Affinity > should limit spread options by required node affinity");
    let c = [tsc(ZONE, 1, "DoNotSchedule")];
    let mut e = Env::new();
    e.apply(np());
    let out = round(&mut e, spread_with("a", 6, &c, |p| p.node_req(ZONE, "In", &["test-zone-1", "test-zone-2"])));
    assert_eq!(skew(&out, ZONE), [3, 3]);
    set_pool(&mut e, np().reqs(vec![expr(ZONE, "In", &["test-zone-1", "test-zone-2", "test-zone-3"])]));
    // the empty zone 3 takes it, though max-skew is violated, as it improves the skew
    let out = round(&mut e, spread_with("b", 1, &c, |p| p.node_req(ZONE, "In", &["test-zone-2", "test-zone-3"])));
    assert_eq!(skew(&out, ZONE), [1, 3, 3]);
    let out = round(&mut e, spread("c", 5, &c));
    assert_eq!(skew(&out, ZONE), [4, 4, 4]);
}

#[test]
fn zonal_not_limited_by_preferred_node_affinity() {
    ports!(FILE, "Topology > Combined Zonal Topology and Node Affinity > should not limit spread options by preferred node affinity");
    let mut e = Env::new();
    e.apply(np()).apply_all(spread_with("p", 6, &[tsc(ZONE, 1, "DoNotSchedule")], |p| p.node_pref(1, vec![expr(ZONE, "In", &["test-zone-1", "test-zone-2"])])));
    assert_eq!(skew(&e.provision(), ZONE), [2, 2, 2]);
}

#[test]
fn ct_limited_by_node_selector() {
    ports!(FILE, "Topology > Combined Capacity Type Topology and Node Affinity > should limit spread options by nodeSelector");
    let c = [tsc(CT, 1, "ScheduleAnyway")];
    let mut e = Env::new();
    e.apply(np()).apply_all(spread_with("a", 5, &c, |p| p.node_selector(CT, SPOT))).apply_all(spread_with("b", 5, &c, |p| p.node_selector(CT, OD)));
    assert_eq!(skew(&e.provision(), CT), [5, 5]);
}

#[test]
fn ct_limited_by_node_affinity() {
    ports!(FILE, "Topology > Combined Capacity Type Topology and Node Affinity > should limit spread options by node affinity (capacity type)");
    let c = [tsc(CT, 1, "DoNotSchedule")];
    let mut e = Env::new();
    e.apply(np());
    assert_eq!(skew(&round(&mut e, spread_with("a", 3, &c, |p| p.node_req(CT, "In", &[SPOT]))), CT), [3]);
    assert_eq!(skew(&round(&mut e, spread_with("b", 1, &c, |p| p.node_req(CT, "In", &[OD, SPOT]))), CT), [1, 3]);
    assert_eq!(skew(&round(&mut e, spread("c", 5, &c)), CT), [4, 5]);
}

// ---------------------------------------------------------------- pod affinity and anti-affinity

const SEC: (&str, &str) = ("security", "s2");

fn aff_pod(name: &str) -> Pod {
    pod(name).label(SEC.0, SEC.1)
}

#[test]
fn empty_affinity() {
    ports!(FILE, "Topology > Pod Affinity/Anti-Affinity > should schedule a pod with empty pod affinity and anti-affinity");
    let p = pod("p").set(&["spec", "affinity"], json!({"podAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": []}, "podAntiAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": []}}));
    let mut e = Env::new();
    e.apply(np()).apply(p);
    e.provision().scheduled("p");
}

#[test]
fn affinity_hostname() {
    ports!(FILE, "Topology > Pod Affinity/Anti-Affinity > should respect pod affinity (hostname)");
    let mut e = Env::new();
    e.apply(np())
        .apply_all(spread("p", 10, &[tsc(HOSTNAME, 1, "DoNotSchedule")]))
        .apply(aff_pod("aff1"))
        .apply(pod("aff2").affinity_to(HOSTNAME, &[SEC]));
    let out = e.provision();
    assert_eq!(out.scheduled("aff1").name, out.scheduled("aff2").name);
}

fn arch_spread(p: Pod) -> Pod {
    p.label(SEC.0, SEC.1).tsc(json!({"topologyKey": HOSTNAME, "maxSkew": 1, "whenUnsatisfiable": "DoNotSchedule", "labelSelector": labels_sel(&[SEC])}))
}

#[test]
fn affinity_arch() {
    ports!(FILE, "Topology > Pod Affinity/Anti-Affinity > should respect pod affinity (arch)");
    let mut e = Env::new();
    e.apply(np())
        .apply(arch_spread(pod("aff1")).cpu("2").node_selector(ARCH, "arm64"))
        .apply(arch_spread(pod("aff2")).cpu("1").affinity_to(ARCH, &[SEC]));
    let out = e.provision();
    let (a, b) = (out.scheduled("aff1"), out.scheduled("aff2"));
    assert_eq!(a.label(ARCH), b.label(ARCH));
    assert_ne!(a.name, b.name);
}

fn self_affine(n: usize, key: &str) -> Vec<Pod> {
    pods("p", n, |p| p.label(SEC.0, SEC.1).affinity_to(key, &[SEC]))
}

#[test]
fn self_affinity_hostname() {
    ports!(FILE, "Topology > Pod Affinity/Anti-Affinity > should respect self pod affinity (hostname)");
    let ps = self_affine(3, HOSTNAME);
    let mut e = Env::new();
    e.apply(np()).apply_all(ps.clone());
    assert_eq!(e.provision().nodes_of(&names(&ps)).len(), 1);
}

#[test]
fn self_affinity_first_empty_domain_only() {
    ports!(FILE, "Topology > Pod Affinity/Anti-Affinity > should respect self pod affinity for first empty topology domain only (hostname)");
    let mut e = Env::new();
    e.apply(np());
    let ps = self_affine(10, HOSTNAME);
    let out = round(&mut e, ps.clone());
    let placed: Vec<String> = names(&ps).into_iter().filter(|p| out.node(p).is_some()).collect();
    // five pods fit the node; the other five cannot start a second one
    assert_eq!(placed.len(), 5);
    assert_eq!(out.nodes_of(&placed).len(), 1);
    // nor can a later batch, though the node is not ready yet
    for p in names(&ps) {
        if out.node(&p).is_none() {
            e.delete("Pod", &p);
        }
    }
    let next = pods("q", 10, |p| p.label(SEC.0, SEC.1).affinity_to(HOSTNAME, &[SEC]));
    let out = e.apply_all(next.clone()).provision();
    for p in names(&next) {
        out.not_scheduled(&p);
    }
}

#[test]
fn self_affinity_first_empty_domain_constrained_zones() {
    ports!(FILE, "Topology > Pod Affinity/Anti-Affinity > should respect self pod affinity for first empty topology domain only (hostname/constrained zones)");
    let mut e = Env::new();
    e.apply(np());
    round(&mut e, vec![aff_pod("first").node_selector(ZONE, "test-zone-1").affinity_to(HOSTNAME, &[SEC])]);
    let ps = pods("p", 10, |p| p.label(SEC.0, SEC.1).node_req(ZONE, "In", &["test-zone-2", "test-zone-3"]).affinity_to(HOSTNAME, &[SEC]));
    let out = e.apply_all(ps.clone()).provision();
    for p in names(&ps) {
        out.not_scheduled(&p);
    }
}

#[test]
fn self_affinity_zone() {
    ports!(FILE, "Topology > Pod Affinity/Anti-Affinity > should respect self pod affinity (zone)");
    let ps = self_affine(3, ZONE);
    let mut e = Env::new();
    e.apply(np()).apply_all(ps.clone());
    assert_eq!(e.provision().nodes_of(&names(&ps)).len(), 1);
}

#[test]
fn self_affinity_zone_constrained() {
    ports!(FILE, "Topology > Pod Affinity/Anti-Affinity > should respect self pod affinity (zone w/ constraint)");
    let ps: Vec<Pod> = self_affine(3, ZONE).into_iter().map(|p| p.node_req(ZONE, "In", &["test-zone-3"])).collect();
    let mut e = Env::new();
    e.apply(np()).apply_all(ps.clone());
    let out = e.provision();
    assert_eq!(out.nodes_of(&names(&ps)).len(), 1);
    for p in names(&ps) {
        out.scheduled(&p).has(ZONE, "test-zone-3");
    }
}

#[test]
fn matching_affinities_incompatible_selectors() {
    ports!(FILE, "Topology > Pod Affinity/Anti-Affinity > should allow two nodes to be created when two pods with matching affinities have incompatible selectors");
    let s1 = ("security", "s1");
    let mk = |name: &str, zone: &str| pod(name).label(s1.0, s1.1).affinity_to(ZONE, &[s1]).node_req(ZONE, "In", &[zone]);
    let mut e = Env::new();
    e.apply(np()).apply(mk("a", "test-zone-2")).apply(mk("b", "test-zone-3"));
    let out = e.provision();
    let (a, b) = (out.scheduled("a"), out.scheduled("b"));
    a.has(ZONE, "test-zone-2");
    b.has(ZONE, "test-zone-3");
    assert_ne!(a.name, b.name);
}

#[test]
fn preferred_affinity_violated() {
    ports!(FILE, "Topology > Pod Affinity/Anti-Affinity > should allow violation of preferred pod affinity");
    let mut e = Env::new();
    e.apply(np()).apply_all(spread("p", 10, &[tsc(HOSTNAME, 1, "DoNotSchedule")])).apply(pod("aff").preferred_affinity_to(50, HOSTNAME, &[SEC]));
    e.provision().scheduled("aff");
}

#[test]
fn preferred_anti_affinity_violated() {
    ports!(FILE, "Topology > Pod Affinity/Anti-Affinity > should allow violation of preferred pod anti-affinity");
    let aff = pods("aff", 10, |p| p.preferred_anti_affinity_to(50, ZONE, &[L]));
    let mut e = Env::new();
    e.apply(np()).apply_all(spread("p", 3, &[tsc(ZONE, 1, "DoNotSchedule")])).apply_all(aff.clone());
    let out = e.provision();
    for p in names(&aff) {
        out.scheduled(&p);
    }
}

#[test]
fn anti_affinity_hostname() {
    ports!(FILE, "Topology > Pod Affinity/Anti-Affinity > should separate nodes using simple pod anti-affinity on hostname");
    let mut e = Env::new();
    e.apply(np());
    for i in 0..10 {
        let (a, b) = (format!("aff1-{i}"), format!("aff2-{i}"));
        e.apply(pod(&b).anti_affinity_to(HOSTNAME, &[SEC])).apply(aff_pod(&a));
        let out = e.provision();
        assert_ne!(out.scheduled(&a).name, out.scheduled(&b).name);
        e.launch(&out);
    }
}

fn zone_pinned(name: &str, zone: &str) -> Pod {
    pod(name).cpu("2").node_selector(ZONE, zone)
}

#[test]
fn anti_affinity_zone() {
    ports!(FILE, "Topology > Pod Affinity/Anti-Affinity > should not violate pod anti-affinity on zone");
    let mut e = Env::new();
    e.apply(np())
        .apply(zone_pinned("z1", "test-zone-1").label(SEC.0, SEC.1))
        .apply(zone_pinned("z2", "test-zone-2").label(SEC.0, SEC.1))
        .apply(zone_pinned("z3", "test-zone-3").label(SEC.0, SEC.1))
        .apply(pod("aff").anti_affinity_to(ZONE, &[SEC]));
    let out = e.provision();
    for p in ["z1", "z2", "z3"] {
        out.scheduled(p);
    }
    out.not_scheduled("aff");
}

#[test]
fn anti_affinity_zone_other_first() {
    ports!(FILE, "Topology > Pod Affinity/Anti-Affinity > should not violate pod anti-affinity on zone (other schedules first)");
    let mut e = Env::new();
    e.apply(np()).apply(aff_pod("p").cpu("2")).apply(pod("aff").anti_affinity_to(ZONE, &[SEC]));
    let out = e.provision();
    out.scheduled("p");
    out.not_scheduled("aff");
}

#[test]
fn anti_affinity_arch() {
    ports!(FILE, "Topology > Pod Affinity/Anti-Affinity > should not violate pod anti-affinity (arch)");
    let mut e = Env::new();
    e.apply(np())
        .apply(arch_spread(pod("aff1")).cpu("2").node_selector(ARCH, "arm64"))
        .apply(arch_spread(pod("aff2")).cpu("1").anti_affinity_to(ARCH, &[SEC]));
    let out = e.provision();
    assert_ne!(out.scheduled("aff1").label(ARCH), out.scheduled("aff2").label(ARCH));
}

/// Three 2-cpu pods, one pinned to each zone, with (`required`) or preferring anti-affinity to
/// `security=s2`.
fn inverse_zone_pods(required: bool) -> Vec<Pod> {
    ["test-zone-1", "test-zone-2", "test-zone-3"]
        .iter()
        .enumerate()
        .map(|(i, z)| {
            let p = zone_pinned(&format!("z{}", i + 1), z);
            if required { p.anti_affinity_to(ZONE, &[SEC]) } else { p.preferred_anti_affinity_to(10, ZONE, &[SEC]) }
        })
        .collect()
}

#[test]
fn preferred_anti_affinity_inverse() {
    ports!(FILE, "Topology > Pod Affinity/Anti-Affinity > should violate preferred pod anti-affinity on zone (inverse)");
    let mut e = Env::new();
    e.apply(np()).apply_all(inverse_zone_pods(false)).apply(aff_pod("aff"));
    let out = e.provision();
    for p in ["z1", "z2", "z3", "aff"] {
        out.scheduled(p);
    }
}

#[test]
fn anti_affinity_inverse() {
    ports!(FILE, "Topology > Pod Affinity/Anti-Affinity > should not violate pod anti-affinity on zone (inverse)");
    let mut e = Env::new();
    e.apply(np()).apply_all(inverse_zone_pods(true)).apply(aff_pod("aff"));
    let out = e.provision();
    for p in ["z1", "z2", "z3"] {
        out.scheduled(p);
    }
    out.not_scheduled("aff");
}

#[test]
fn anti_affinity_schrodinger() {
    ports!(FILE, "Topology > Pod Affinity/Anti-Affinity > should not violate pod anti-affinity on zone (Schrödinger)");
    let mut e = Env::new();
    e.apply(np()).apply(pod("anywhere").cpu("2").anti_affinity_to(ZONE, &[SEC])).apply(aff_pod("aff"));
    let out = e.provision();
    let zone1 = out.scheduled("anywhere").label(ZONE).unwrap().to_string();
    // the pod with anti-affinity could be in any zone until its node exists
    out.not_scheduled("aff");
    e.launch(&out);
    let out = e.provision();
    assert_ne!(out.scheduled("aff").label(ZONE).unwrap(), zone1);
}

#[test]
fn anti_affinity_inverse_existing_nodes() {
    ports!(FILE, "Topology > Pod Affinity/Anti-Affinity > should not violate pod anti-affinity on zone (inverse w/existing nodes)");
    let mut e = Env::new();
    e.apply(np());
    round(&mut e, inverse_zone_pods(true));
    e.apply(aff_pod("aff"));
    e.provision().not_scheduled("aff");
}

#[test]
fn preferred_anti_affinity_inverse_existing_nodes() {
    ports!(FILE, "Topology > Pod Affinity/Anti-Affinity > should violate preferred pod anti-affinity on zone (inverse w/existing nodes)");
    let mut e = Env::new();
    e.apply(np());
    round(&mut e, inverse_zone_pods(false));
    e.apply(aff_pod("aff"));
    e.provision().scheduled("aff");
}

#[test]
fn affinity_preference_conflicting_with_required() {
    ports!(FILE, "Topology > Pod Affinity/Anti-Affinity > should allow violation of a pod affinity preference with a conflicting required constraint");
    let mut e = Env::new();
    let aff = spread_with("aff", 3, &[tsc(HOSTNAME, 1, "DoNotSchedule")], |p| p.preferred_affinity_to(50, HOSTNAME, &[SEC]));
    e.apply(np()).apply_all(aff.clone()).apply(aff_pod("target"));
    let out = e.provision();
    for p in names(&aff).iter().chain(["target".to_string()].iter()) {
        out.scheduled(p);
    }
    assert_eq!(out.skew_all(Some(&[L]), HOSTNAME), [1, 1, 1]);
}

#[test]
fn anti_affinity_zone_topology() {
    ports!(FILE, "Topology > Pod Affinity/Anti-Affinity > should support pod anti-affinity with a zone topology");
    // each batch can commit only one pod: its NodeClaim could be in any zone until launched
    let mut e = Env::new();
    e.apply(np());
    for (round_no, want) in [vec![1], vec![1, 1], vec![1, 1, 1], vec![1, 1, 1]].into_iter().enumerate() {
        let ps = pods(&format!("r{round_no}"), 3, |p| p.label(SEC.0, SEC.1).anti_affinity_to(ZONE, &[SEC]));
        let out = round(&mut e, ps.clone());
        assert_eq!(out.skew_all(None, ZONE), want, "round {round_no}");
        // the pods left unscheduled are deleted (ExpectDeleteAllUnscheduledPods)
        for p in names(&ps) {
            if out.node(&p).is_none() {
                e.delete("Pod", &p);
            }
        }
    }
}

#[test]
fn affinity_to_absent_pod() {
    ports!(FILE, "Topology > Pod Affinity/Anti-Affinity > should not schedule pods with affinity to a non-existent pod");
    let ps = pods("p", 10, |p| p.affinity_to(ZONE, &[SEC]));
    let mut e = Env::new();
    e.apply(np()).apply_all(ps.clone());
    let out = e.provision();
    for p in names(&ps) {
        out.not_scheduled(&p);
    }
}

#[test]
fn affinity_zone_unconstrained_target() {
    ports!(FILE, "Topology > Pod Affinity/Anti-Affinity > should support pod affinity with zone topology (unconstrained target)");
    let ps = pods("p", 10, |p| p.affinity_to(ZONE, &[SEC]));
    let mut e = Env::new();
    e.apply(np()).apply_all(ps.clone()).apply(aff_pod("target"));
    let out = e.provision();
    // the target's zone is not decided until its node launches
    for p in names(&ps) {
        out.not_scheduled(&p);
    }
    assert_eq!(out.skew_all(None, ZONE), [1]);
    e.launch(&out);
    let out = e.provision();
    for p in names(&ps) {
        out.scheduled(&p);
    }
    assert_eq!(out.skew_all(None, ZONE), [11]);
}

#[test]
fn affinity_zone_constrained_target() {
    ports!(FILE, "Topology > Pod Affinity/Anti-Affinity > should support pod affinity with zone topology (constrained target)");
    let mut e = Env::new();
    e.apply(np()).apply_all(pods("p", 10, |p| p.affinity_to(ZONE, &[SEC]))).apply(aff_pod("target").node_req(ZONE, "In", &["test-zone-1"]));
    assert_eq!(e.provision().skew_all(None, ZONE), [11]);
}

#[test]
fn multiple_dependent_affinities() {
    ports!(FILE, "Topology > Pod Affinity/Anti-Affinity > should handle multiple dependent affinities");
    for i in 0..50 {
        fn tier(t: &str) -> [(&str, &str); 2] {
            [("type", t), ("spread", "spread")]
        }
        let mut e = Env::new();
        e.apply(np())
            .apply(pod(&format!("db-{i}")).label("type", "db").label("spread", "spread"))
            .apply(pod(&format!("web-{i}")).label("type", "web").label("spread", "spread").affinity_to(HOSTNAME, &tier("db")))
            .apply(pod(&format!("cache-{i}")).label("type", "cache").label("spread", "spread").affinity_to(HOSTNAME, &tier("web")))
            .apply(pod(&format!("ui-{i}")).label("type", "ui").label("spread", "spread").affinity_to(HOSTNAME, &tier("cache")));
        let out = e.provision();
        for t in ["db", "web", "cache", "ui"] {
            out.scheduled(&format!("{t}-{i}"));
        }
    }
}

#[test]
fn unsatisfiable_dependencies() {
    ports!(FILE, "Topology > Pod Affinity/Anti-Affinity > should fail to schedule pods with unsatisfiable dependencies");
    let mut e = Env::new();
    e.apply(np()).apply(pod("db").label("type", "db").label("spread", "spread").affinity_to(HOSTNAME, &[("type", "web"), ("spread", "spread")]));
    e.provision().not_scheduled("db");
}

/// Ten spread pods, a target in another namespace, and a pod with hostname affinity to it whose
/// term is `term`.
fn namespaced_affinity(target_ns: &str, term: Value) -> Outcome {
    let mut e = Env::new();
    e.apply(np())
        .apply_all(spread("p", 10, &[tsc(HOSTNAME, 1, "DoNotSchedule")]))
        .apply(aff_pod("target").ns(target_ns))
        .apply(pod("aff").pod_affinity_term("podAffinity", None, term));
    e.provision()
}

#[test]
fn affinity_namespace_no_match() {
    ports!(FILE, "Topology > Pod Affinity/Anti-Affinity > should filter pod affinity topologies by namespace, no matching pods");
    let out = namespaced_affinity("other-ns-no-match", json!({"topologyKey": HOSTNAME, "labelSelector": labels_sel(&[SEC])}));
    out.scheduled("other-ns-no-match/target");
    out.not_scheduled("aff");
}

#[test]
fn affinity_namespace_list() {
    ports!(FILE, "Topology > Pod Affinity/Anti-Affinity > should filter pod affinity topologies by namespace, matching pods namespace list");
    let out = namespaced_affinity("other-ns-list", json!({"topologyKey": HOSTNAME, "labelSelector": labels_sel(&[SEC]), "namespaces": ["other-ns-list"]}));
    assert_eq!(out.scheduled("other-ns-list/target").name, out.scheduled("aff").name);
}

#[test]
fn affinity_empty_namespace_selector() {
    ports!(FILE, "Topology > Pod Affinity/Anti-Affinity > should filter pod affinity topologies by namespace, empty namespace selector");
    // an empty namespace selector selects every namespace
    let out = namespaced_affinity("empty-ns-selector", json!({"topologyKey": HOSTNAME, "labelSelector": labels_sel(&[SEC]), "namespaceSelector": {}}));
    assert_eq!(out.scheduled("empty-ns-selector/target").name, out.scheduled("aff").name);
}

// ---------------------------------------------------------------- taints

#[test]
fn taints_on_nodes() {
    ports!(FILE, "Taints > should taint nodes with NodePool taints");
    let mut e = Env::new();
    e.apply(np().taint("test", "bar", "NoSchedule")).apply(pod("p").toleration(json!({"effect": "NoSchedule", "operator": "Exists"})));
    let out = e.provision();
    assert_eq!(out.scheduled("p").claim.unwrap().taints, ["test=bar:NoSchedule"]);
}

#[test]
fn taints_tolerated() {
    ports!(FILE, "Taints > should schedule pods that tolerate NodePool constraints");
    let mut e = Env::new();
    e.apply(np().taint("test-key", "test-value", "NoSchedule"))
        .apply(pod("exists").toleration(json!({"key": "test-key", "operator": "Exists", "effect": "NoSchedule"})))
        .apply(pod("equal").toleration(json!({"key": "test-key", "value": "test-value", "operator": "Equal", "effect": "NoSchedule"})))
        .apply(pod("none"))
        .apply(pod("wrong-key").toleration(json!({"key": "invalid", "operator": "Exists"})))
        .apply(pod("wrong-value").toleration(json!({"key": "test-key", "operator": "Equal", "effect": "NoSchedule"})));
    let out = e.provision();
    out.scheduled("exists");
    out.scheduled("equal");
    for p in ["none", "wrong-key", "wrong-value"] {
        out.not_scheduled(p);
    }
}

#[test]
fn taints_startup_only() {
    ports!(FILE, "Taints > should provision nodes with taints and schedule pods if the taint is only a startup taint");
    let mut e = Env::new();
    e.apply(np().startup_taint("ignore-me", "nothing-to-see-here", "NoSchedule")).apply(pod("p"));
    e.provision().scheduled("p");
}

#[test]
fn taints_none_for_exists_toleration() {
    ports!(FILE, "Taints > should not generate taints for OpExists");
    let mut e = Env::new();
    e.apply(np()).apply(pod("p").toleration(json!({"key": "test-key", "operator": "Exists", "effect": "NoExecute"})));
    assert!(e.provision().scheduled("p").claim.unwrap().taints.is_empty());
}
