//! Instance-type options, DaemonSet overhead, host ports, NodePool limits, minValues, truncation and
//! the launch decision (design §3.8, §3.10–§3.13, §4.2). Scenarios inspired by Karpenter's
//! `suite_test.go` and `instance_selection_test.go`; the tests are our own.

mod common;
use common::*;
use karpsim::scheduling::{LaunchPolicy, MinValuesPolicy, ProvisionOptions};

/// c2 (2 cpu), c4 (4 cpu), c8 (8 cpu), each with 0.1 cpu overhead, priced by size.
fn cat3() -> String {
    catalog(&[it("c2", 2, 4, 10), it("c4", 4, 8, 10), it("c8", 8, 16, 10)])
}

fn hostname_anti(app: &str) -> String {
    format!("  affinity: {{podAntiAffinity: {{requiredDuringSchedulingIgnoredDuringExecution: [{{topologyKey: kubernetes.io/hostname, labelSelector: {{matchLabels: {{app: {app}}}}}}}]}}}}\n")
}

// ---------- §3.8 options ----------

#[test]
fn options_shrink_as_pods_are_added() {
    let yaml = [pool("default", &[]), pod_at("a", "1500m", "", "", "", "2024-01-01T00:00:01Z"), pod_at("b", "1", "", "", "", "2024-01-01T00:00:02Z")].concat();
    let r = run(&cat3(), &yaml);
    assert_eq!(layout(&r), [["a", "b"]]);
    let nc = &r.nodeclaims[0];
    assert_eq!(nc.instance_type_options, ["c4", "c8"], "c2 (1.9 allocatable) cannot hold 2.5 cpu");
    assert_eq!(nc.instance_type, "c4");
    assert_eq!(nc.requests.cpu, 2500);
    assert_eq!(nc.requests.pods, 2);
    // alone, a keeps every type
    let yaml = [pool("default", &[]), pod("a", "1500m", "", "", "")].concat();
    assert_eq!(run(&cat3(), &yaml).nodeclaims[0].instance_type_options, ["c2", "c4", "c8"]);
}

#[test]
fn pods_resource_counts() {
    // two pods per type: the third pod needs a second claim
    let cat = catalog(&[it("p2", 4, 8, 2)]);
    let yaml = [pool("default", &[]), pod("a", "100m", "", "", ""), pod("b", "100m", "", "", ""), pod("c", "100m", "", "", "")].concat();
    assert_eq!(layout(&run(&cat, &yaml)), [vec!["a", "b"], vec!["c"]]);
}

// ---------- §3.11 DaemonSet overhead ----------

#[test]
fn daemonset_overhead_is_reserved_on_every_type_it_runs_on() {
    let yaml = [pool("default", &[]), daemonset("ds", "1", "0", ""), pod("p", "2500m", "", "", "")].concat();
    let r = run(&cat3(), &yaml);
    let nc = claim(&r, "p");
    assert_eq!(nc.instance_type, "c4", "2.5 + 1 cpu fits 3.9");
    assert_eq!((nc.requests.cpu, nc.requests.pods), (3500, 2), "min daemon overhead is added at the end");
    let yaml = [pool("default", &[]), daemonset("ds", "2", "0", ""), pod("p", "2500m", "", "", "")].concat();
    assert_eq!(claim(&run(&cat3(), &yaml), "p").instance_type, "c8");
}

#[test]
fn daemonset_selecting_some_types_only_burdens_those() {
    let ds = daemonset("ds", "2", "0", "      nodeSelector: {node.kubernetes.io/instance-type: c4}\n");
    let yaml = [pool("default", &[]), ds.clone(), pod("p", "2500m", "", "", "")].concat();
    let r = run(&cat3(), &yaml);
    let nc = claim(&r, "p");
    assert_eq!(nc.instance_type_options, ["c8"], "c4 would need 4.5 cpu with its DaemonSet");
    assert_eq!(nc.requests.cpu, 2500, "the c8 group has no DaemonSet");
    // a smaller pod keeps c2 and c4; the minimum overhead over the remaining groups is zero
    let yaml = [pool("default", &[]), ds, pod("p", "1500m", "", "", "")].concat();
    let nc = run(&cat3(), &yaml).nodeclaims.remove(0);
    assert_eq!(nc.instance_type_options, ["c2", "c4", "c8"]);
    assert_eq!((nc.requests.cpu, nc.requests.pods), (1500, 1));
}

#[test]
fn daemonset_that_does_not_tolerate_the_pool_taint_adds_nothing() {
    let taint = "      taints: [{key: dedicated, value: x, effect: NoSchedule}]\n";
    let tol = "  tolerations: [{key: dedicated, operator: Exists}]\n";
    let yaml = [pool_full("default", 0, &[], "", "", taint), daemonset("ds", "1", "0", ""), pod("p", "3500m", "", "", tol)].concat();
    assert_eq!(claim(&run(&cat3(), &yaml), "p").instance_type, "c4");
    let ds_tol = "      tolerations: [{key: dedicated, operator: Exists}]\n";
    let yaml = [pool_full("default", 0, &[], "", "", taint), daemonset("ds", "1", "0", ds_tol), pod("p", "3500m", "", "", tol)].concat();
    assert_eq!(claim(&run(&cat3(), &yaml), "p").instance_type, "c8");
}

#[test]
fn existing_node_reserves_room_for_daemonsets_not_yet_running() {
    let n = node("old", "karpenter.sh/nodepool: default, karpenter.sh/initialized: 'true'", "4", "8Gi", 10, "");
    // 4 cpu node, DaemonSet of 1 cpu not yet there: a 3.5 cpu pod does not fit
    let yaml = [pool("default", &[]), n.clone(), daemonset("ds", "1", "0", ""), pod("p", "3500m", "", "", "")].concat();
    assert_eq!(existing_of(&run(&cat3(), &yaml), "p"), None);
    let yaml = [pool("default", &[]), n, daemonset("ds", "1", "0", ""), pod("p", "3", "", "", "")].concat();
    assert_eq!(existing_of(&run(&cat3(), &yaml), "p").as_deref(), Some("old"));
}

// ---------- §3.10 host ports ----------

fn host_port(port: u16) -> String {
    format!("    ports: [{{containerPort: {port}, hostPort: {port}}}]\n")
}

/// A pod whose container declares a host port (inserted into the container).
fn port_pod(name: &str, port: u16) -> String {
    pod(name, "100m", "", "", "").replace("    resources: {requests: {cpu: 100m}}\n", &format!("    resources: {{requests: {{cpu: 100m}}}}\n{}", host_port(port)))
}

#[test]
fn host_ports_conflict_between_pods_and_with_daemonsets() {
    let yaml = [pool("default", &[]), port_pod("a", 9000), port_pod("b", 9000), port_pod("c", 9001)].concat();
    let r = run(&cat3(), &yaml);
    assert_eq!(layout(&r), [vec!["a", "c"], vec!["b"]]);
    let ds = daemonset("ds", "10m", "0", "").replace("        resources: {requests: {cpu: 10m, memory: 0}}\n", "        resources: {requests: {cpu: 10m, memory: 0}}\n        ports: [{containerPort: 9000, hostPort: 9000}]\n");
    assert!(ds.contains("hostPort"));
    let yaml = [pool("default", &[]), ds, port_pod("a", 9000), port_pod("c", 9001)].concat();
    let r = run(&cat3(), &yaml);
    assert!(unschedulable(&r, "a").contains("9000"), "{:?}", r.unschedulable);
    assert!(claim_of(&r, "c").is_some());
}

// ---------- §3.8 NodePool limits ----------

#[test]
fn limits_compare_capacity_not_allocatable() {
    let cat = catalog(&[it("c4", 4, 8, 10)]);
    let yaml = [pool_full("default", 0, &[], "", "{cpu: 3950m}", ""), pod("p", "1", "", "", "")].concat();
    let r = run(&cat, &yaml);
    assert!(unschedulable(&r, "p").contains("limits"), "{:?}", r.unschedulable);
    let yaml = [pool_full("default", 0, &[], "", "{cpu: 4}", ""), pod("p", "1", "", "", "")].concat();
    assert!(claim_of(&run(&cat, &yaml), "p").is_some());
}

#[test]
fn limits_subtract_the_largest_option_pessimistically() {
    // limit 10 cpu: a's claim could become a c8, so only 2 cpu remain: b gets a c2, c nothing
    let spec = hostname_anti("x");
    let yaml = [
        pool_full("default", 0, &[], "", "{cpu: 10}", ""),
        pod_at("a", "1", "", "{app: x}", &spec, "2024-01-01T00:00:01Z"),
        pod_at("b", "1", "", "{app: x}", &spec, "2024-01-01T00:00:02Z"),
        pod_at("c", "1", "", "{app: x}", &spec, "2024-01-01T00:00:03Z"),
    ]
    .concat();
    let r = run(&cat3(), &yaml);
    assert_eq!(claim(&r, "a").instance_type_options, ["c2", "c4", "c8"]);
    assert_eq!(claim(&r, "b").instance_type_options, ["c2"]);
    assert!(unschedulable(&r, "c").contains("limits"), "{:?}", r.unschedulable);
}

#[test]
fn existing_nodes_consume_limits() {
    let full = node("old", "karpenter.sh/nodepool: default, karpenter.sh/initialized: 'true'", "8", "16Gi", 0, "");
    let yaml = [pool_full("default", 0, &[], "", "{cpu: 10}", ""), full.clone(), pod("p", "3", "", "", "")].concat();
    let why = run(&cat3(), &yaml).unschedulable.remove(0).reason;
    assert!(why.contains("2 of 3 instance types excluded by NodePool limits; remaining: cpu 2"), "{why}");
    // a node of another pool does not count
    let other = full.replace("nodepool: default", "nodepool: other");
    let yaml = [pool_full("default", 0, &[], "", "{cpu: 10}", ""), other, pod("p", "3", "", "", "")].concat();
    assert_eq!(claim(&run(&cat3(), &yaml), "p").instance_type, "c4");
}

#[test]
fn nodes_limit_quirk_and_the_counting_option() {
    let spec = hostname_anti("x");
    let three = |lim: &str| [pool_full("default", 0, &[], "", lim, ""), pods3(&spec)].concat();
    // Karpenter does not decrement `nodes` within a run: all three claims open under nodes: 1
    let r = run(&cat3(), &three("{nodes: 1}"));
    assert_eq!(r.nodeclaims.len(), 3);
    // the option counts new NodeClaims
    let opts = ProvisionOptions { count_new_nodes_against_limits: true, ..Default::default() };
    let r = run_with(&cat3(), &three("{nodes: 2}"), &opts);
    assert_eq!(r.nodeclaims.len(), 2);
    assert!(unschedulable(&r, "x2").contains("node limit"), "{:?}", r.unschedulable);
    // an existing node of the pool exhausts nodes: 1
    let n = node("old", "karpenter.sh/nodepool: default, karpenter.sh/initialized: 'true'", "8", "16Gi", 0, "");
    let yaml = [pool_full("default", 0, &[], "", "{nodes: 1}", ""), n, pod("p", "1", "", "", "")].concat();
    assert!(unschedulable(&run(&cat3(), &yaml), "p").contains("node limit"));
}

fn pods3(spec: &str) -> String {
    (0..3).map(|i| pod(&format!("x{i}"), "1", "", "{app: x}", spec)).collect()
}

#[test]
fn a_pool_out_of_limits_falls_through_to_the_next() {
    let yaml = [pool_full("first", 50, &[], "", "{cpu: 1}", ""), pool_full("second", 0, &[], "", "", ""), pod("p", "1", "", "", "")].concat();
    assert_eq!(claim(&run(&cat3(), &yaml), "p").nodepool, "second");
}

// ---------- §2.7 minValues and §3.13 truncation ----------

const MIN2: &str = "{key: node.kubernetes.io/instance-type, operator: Exists, minValues: 2}";

#[test]
fn min_values_strict_and_best_effort() {
    let yaml = [pool("default", &[MIN2]), pod("ok", "3", "", "", "")].concat();
    assert_eq!(claim(&run(&cat3(), &yaml), "ok").instance_type_options, ["c4", "c8"]);
    let yaml = [pool("default", &[MIN2]), pod("big", "5", "", "", "")].concat();
    let r = run(&cat3(), &yaml);
    assert!(unschedulable(&r, "big").contains("minValues"), "{:?}", r.unschedulable);
    let opts = ProvisionOptions { min_values_policy: MinValuesPolicy::BestEffort, ..Default::default() };
    let r = run_with(&cat3(), &yaml, &opts);
    assert_eq!(claim(&r, "big").instance_type_options, ["c8"]);
}

#[test]
fn truncation_keeps_the_cheapest_and_rechecks_min_values() {
    let yaml = [pool("default", &[]), pod("p", "1", "", "", "")].concat();
    let opts = ProvisionOptions { max_instance_types: 2, ..Default::default() };
    assert_eq!(claim(&run_with(&cat3(), &yaml, &opts), "p").instance_type_options, ["c2", "c4"]);
    // cheapest by price, not by size
    let cat = catalog(&[it("c2", 2, 4, 10).price(5.0), it("c4", 4, 8, 10), it("c8", 8, 16, 10)]);
    assert_eq!(claim(&run_with(&cat, &yaml, &opts), "p").instance_type_options, ["c4", "c8"]);
    // minValues 2 cannot survive truncation to 1
    let yaml = [pool("default", &[MIN2]), pod("p", "1", "", "", "")].concat();
    let opts = ProvisionOptions { max_instance_types: 1, ..Default::default() };
    let r = run_with(&cat3(), &yaml, &opts);
    assert!(r.nodeclaims.is_empty());
    assert!(unschedulable(&r, "p").contains("minValues"), "{:?}", r.unschedulable);
}

// ---------- §4.2 launch decision ----------

fn priced(spot: f64, od: f64) -> It {
    it("c4", 4, 8, 10).offers(&[("test-zone-1", "spot", spot), ("test-zone-2", "spot", spot), ("test-zone-1", "on-demand", od), ("test-zone-2", "on-demand", od)])
}

#[test]
fn spot_is_preferred_when_allowed_even_if_dearer() {
    let cat = catalog(&[priced(0.5, 0.3)]);
    let yaml = [pool("default", &[ANY_CT]), pod("p", "1", "", "", "")].concat();
    let nc = run(&cat, &yaml).nodeclaims.remove(0);
    assert_eq!((nc.capacity_type.as_str(), nc.price_per_hour), ("spot", 0.5));
    let cheapest = ProvisionOptions { launch_policy: LaunchPolicy::Cheapest, ..Default::default() };
    let nc = run_with(&cat, &yaml, &cheapest).nodeclaims.remove(0);
    assert_eq!((nc.capacity_type.as_str(), nc.price_per_hour), ("on-demand", 0.3));
}

#[test]
fn on_demand_when_spot_is_not_allowed_or_not_available() {
    let yaml = [pool("default", &["{key: karpenter.sh/capacity-type, operator: In, values: [on-demand]}"]), pod("p", "1", "", "", "")].concat();
    assert_eq!(run(&catalog(&[priced(0.1, 0.3)]), &yaml).nodeclaims[0].capacity_type, "on-demand");
    let cat = catalog(&[priced(0.1, 0.3).unavailable("test-zone-1", "spot").unavailable("test-zone-2", "spot")]);
    let yaml = [pool("default", &[ANY_CT]), pod("p", "1", "", "", "")].concat();
    let nc = run(&cat, &yaml).nodeclaims.remove(0);
    assert_eq!((nc.capacity_type.as_str(), nc.price_per_hour), ("on-demand", 0.3));
}

#[test]
fn cheapest_type_and_zone_within_the_capacity_type() {
    let a = it("a", 4, 8, 10).offers(&[("test-zone-1", "spot", 0.5), ("test-zone-2", "spot", 0.45), ("test-zone-1", "on-demand", 0.1)]);
    let b = it("b", 4, 8, 10).offers(&[("test-zone-1", "spot", 0.48), ("test-zone-3", "on-demand", 0.2)]);
    let yaml = [pool("default", &[ANY_CT]), pod("p", "1", "", "", "")].concat();
    let nc = run(&catalog(&[a, b]), &yaml).nodeclaims.remove(0);
    assert_eq!((nc.instance_type.as_str(), nc.zone.as_str(), nc.capacity_type.as_str()), ("a", "test-zone-2", "spot"));
    assert_eq!(nc.instance_type_options, ["a", "b"], "ordered by cheapest compatible offering (0.1 < 0.2)");
}


#[test]
fn daemonsets_count_on_existing_nodes_with_prefer_no_schedule_taints() {
    // Karpenter adds a PreferNoSchedule toleration to the DaemonSet pods while building the
    // overhead groups (scheduler.go: isDaemonPodCompatible mutates the shared pod), and the same
    // pods are then checked against existing nodes: the DaemonSet is expected there too.
    let n = node("old", "karpenter.sh/nodepool: default, karpenter.sh/initialized: 'true'", "4", "8Gi", 10, "taints: [{key: soft, effect: PreferNoSchedule}]");
    let tol = "  tolerations: [{key: soft, operator: Exists}]\n";
    let yaml = [pool("default", &[]), n.clone(), daemonset("ds", "1", "0", ""), pod("p", "3500m", "", "", tol)].concat();
    assert_eq!(existing_of(&run(&cat3(), &yaml), "p"), None, "3.5 cpu + 1 cpu DaemonSet exceed the 4 cpu node");
    let yaml = [pool("default", &[]), n, daemonset("ds", "1", "0", ""), pod("p", "3", "", "", tol)].concat();
    assert_eq!(existing_of(&run(&cat3(), &yaml), "p").as_deref(), Some("old"));
}

#[test]
fn best_effort_min_values_relax_only_when_opening_a_claim() {
    // Karpenter relaxes minValues (BestEffort) only in the template loop; in-flight NodeClaims are
    // checked strictly (scheduler.go: CanAdd(..., relaxMinValues=false) for newNodeClaims)
    let best = ProvisionOptions { min_values_policy: MinValuesPolicy::BestEffort, ..Default::default() };
    let yaml = [
        pool("default", &[MIN2]),
        pod("a", "1500m", "", "", ""),
        pod("b", "100m", "", "", "  nodeSelector: {node.kubernetes.io/instance-type: c8}\n"),
    ]
    .concat();
    let r = run_with(&cat3(), &yaml, &best);
    assert_eq!(layout(&r), [["a"], ["b"]], "b would leave a's claim with one type: it opens its own");
    assert_eq!(claim(&r, "a").instance_type_options, ["c2", "c4", "c8"]);
    assert_eq!(claim(&r, "b").instance_type_options, ["c8"]);
    // a relaxed claim keeps minValues at what it achieved: 3 relaxed to 2 (c4, c8) by a, and b
    // would narrow it to c8 alone
    let min3 = "{key: node.kubernetes.io/instance-type, operator: Exists, minValues: 3}";
    let yaml = [pool("default", &[min3]), pod("a", "3", "", "", ""), pod("b", "100m", "", "", "  nodeSelector: {node.kubernetes.io/instance-type: c8}\n")].concat();
    let r = run_with(&cat3(), &yaml, &best);
    assert_eq!(layout(&r), [["a"], ["b"]]);
    assert_eq!(claim(&r, "a").instance_type_options, ["c4", "c8"]);
}

/// BestEffort relaxes minValues already when the templates are built (`scheduler.go:
/// NewScheduler` filters each NodePool's types with `relaxMinValues`): a NodePool whose types can
/// never reach its minValues still launches, and, being tried first by weight, it is used before a
/// lower-weight NodePool (which Strict falls back to).
#[test]
fn best_effort_keeps_a_nodepool_whose_min_values_cannot_be_met() {
    let best = ProvisionOptions { min_values_policy: MinValuesPolicy::BestEffort, ..Default::default() };
    let two = "{key: node.kubernetes.io/instance-type, operator: In, values: [c2, c4], minValues: 2}";
    let min3 = "{key: karpenter.sh/capacity-type, operator: Exists, minValues: 3}";
    // two instance types, two capacity types: minValues 3 on either cannot be met
    let yaml = [pool_full("picky", 50, &[two, min3], "", "", ""), pool_full("fallback", 0, &[], "", "", ""), pod("p", "1", "", "", "")].concat();
    let r = run_with(&cat3(), &yaml, &best);
    let nc = claim(&r, "p");
    assert_eq!(nc.nodepool, "picky", "{r:#?}");
    assert_eq!(nc.instance_type_options, ["c2", "c4"]);
    // Strict drops the pool and falls back
    let r = run(&cat3(), &yaml);
    assert_eq!(claim(&r, "p").nodepool, "fallback");
    // with no other pool, Strict leaves the pod pending and BestEffort launches
    let yaml = [pool("picky", &[two, min3]), pod("p", "1", "", "", "")].concat();
    assert!(run(&cat3(), &yaml).nodeclaims.is_empty());
    assert_eq!(claim(&run_with(&cat3(), &yaml, &best), "p").nodepool, "picky");
}

/// NodeClaim requirements read as the NodePool was written: `Gt 5` and `Lt 16`, not `Gte 6`/`Lte 15`.
#[test]
fn nodeclaim_requirements_show_operators_as_written() {
    let cat = catalog(&[it("c4", 4, 8, 10).label("example.com/generation", "6"), it("c8", 8, 16, 10).label("example.com/generation", "7")]);
    let yaml = [
        pool("default", &["{key: example.com/generation, operator: Gt, values: ['5']}", "{key: example.com/generation, operator: Lt, values: ['16']}"]),
        pod("p", "1", "", "", ""),
    ]
    .concat();
    let r = run(&cat, &yaml);
    assert_eq!(req(claim(&r, "p"), "example.com/generation"), Some("Gt 5 Lt 16"), "{:?}", claim(&r, "p").requirements);
}

#[test]
fn an_existing_node_changed_between_runs_is_seen_as_it_is_now() {
    // what a run derives from each existing node (effective taints, labels, the DaemonSets it
    // runs) is kept from one run to the next: a node changed in between must be seen as it is now
    let n = node("old", "karpenter.sh/nodepool: default, karpenter.sh/initialized: 'true'", "4", "8Gi", 10, "taints: [{key: dedicated, value: x, effect: NoSchedule}]");
    let tol = "  tolerations: [{key: dedicated, operator: Exists}]\n";
    let yaml = [pool("default", &[]), n, daemonset("ds", "1", "0", ""), pod("p", "3500m", "", "", tol)].concat();
    let mut s = state(&cat3(), &yaml);
    let opts = ProvisionOptions::default();
    let r = karpsim::scheduling::provision(&s, &opts);
    assert_eq!(existing_of(&r, "p").as_deref(), Some("old"), "the DaemonSet does not tolerate the taint: nothing reserved for it");
    s.nodes[0].taints.clear();
    let r = karpsim::scheduling::provision(&s, &opts);
    assert_eq!(existing_of(&r, "p"), None, "untainted, the node keeps 1 cpu for the DaemonSet: 3.5 cpu no longer fits");
    // labels too: a DaemonSet selecting a label the node gains
    let n = node("old2", "karpenter.sh/nodepool: default, karpenter.sh/initialized: 'true'", "4", "8Gi", 10, "");
    let yaml = [pool("default", &[]), n, daemonset("ds", "1", "0", "      nodeSelector: {role: monitored}\n"), pod("p", "3500m", "", "", "")].concat();
    let mut s = state(&cat3(), &yaml);
    assert_eq!(existing_of(&karpsim::scheduling::provision(&s, &opts), "p").as_deref(), Some("old2"));
    s.nodes[0].labels.insert(karpsim::labels::Sym::new("role"), karpsim::labels::Sym::new("monitored"));
    assert_eq!(existing_of(&karpsim::scheduling::provision(&s, &opts), "p"), None, "labelled, the node runs the DaemonSet");
}
