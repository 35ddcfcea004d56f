//! Provisioning scheduler, rule by rule (design §1.6–§3.8, §9): queue order, destination order,
//! undefined-label rules, requirements and relaxation, reasons, determinism. Scenarios are inspired
//! by Karpenter's `scheduling/suite_test.go`; the tests are our own.

mod common;
use common::*;
use karpsim::scheduling::ProvisionOptions;

/// One 4-cpu type (3.9 allocatable) with room for `pods` pods.
fn one_type(pods: u32) -> String {
    catalog(&[it("c4", 4, 8, pods)])
}

// ---------- §3.3 queue order, first fit ----------

/// Karpenter's first fit (`scheduler.go: add`): each pod goes to the first node in the
/// existing-node order (here by name) with room left for it, however many full nodes come
/// before (the scan passes whole blocks of them), and a node the run treats as gone is passed.
#[test]
fn pods_go_to_the_first_node_with_room_past_hundreds_of_full_ones() {
    use karpsim::labels::Sym;
    use karpsim::scheduling::{schedule, ScheduleScope};
    let mut state = karpsim::fixtures::karpenter_cluster(300, 0, 7);
    for n in &mut state.nodes {
        n.allocatable.cpu = 100;
    }
    state.nodes[130].allocatable.cpu = 2000;
    state.nodes[200].allocatable.cpu = 4000;
    state.nodes[299].allocatable.cpu = 8000;
    let pod = karpsim::fixtures::pod;
    let pods = [pod("a", 1500, 1 << 20), pod("b", 3000, 1 << 20), pod("c", 1500, 1 << 20)];
    let placed = |removed: &[usize]| {
        let scope = ScheduleScope { removed_nodes: removed.iter().map(|&i| state.nodes[i].name).collect(), ..Default::default() };
        let sol = schedule(&state, pods.iter().collect(), &scope, &ProvisionOptions::default());
        assert!(sol.errors.is_empty() && sol.claims.is_empty(), "every pod fits an existing node");
        let named = |i: usize| Sym::new(&format!("node-{i:05}"));
        let got: Vec<(Sym, Vec<Sym>)> = sol.existing.iter().map(|(n, ps)| (*n, ps.iter().map(|&p| sol.pods[p].uid).collect())).collect();
        (got, named)
    };
    // b (the most cpu, first in the queue) takes node 200; a the first node with 1,500m left
    // (130); c then finds 130 and 200 short, and the last node has room
    let (got, named) = placed(&[]);
    let uid = Sym::new;
    assert_eq!(got, vec![(named(130), vec![uid("a")]), (named(200), vec![uid("b")]), (named(299), vec![uid("c")])]);
    // without node 130, a and c go past it
    let (got, named) = placed(&[130]);
    assert_eq!(got, vec![(named(200), vec![uid("b")]), (named(299), vec![uid("a"), uid("c")])]);
}

#[test]
fn queue_order_cpu_then_memory_then_creation_then_uid() {
    // two pods per node: the pairs show the order the pods were taken in
    let yaml = [
        pool("default", &[]),
        pod_at("a", "100m", "", "", "", "2024-01-01T00:00:03Z"),
        pod_at("b", "100m", "", "", "", "2024-01-01T00:00:01Z"),
        pod_at("c", "100m", "", "", "", "2024-01-01T00:00:02Z"),
        pod_at("d", "100m", "", "", "", "2024-01-01T00:00:01Z"), // same time as b: uid d > b
        pod_at("e", "200m", "", "", "", "2024-01-01T00:00:09Z"), // most cpu: first despite being newest
        pod_at("f", "100m", "1Gi", "", "", "2024-01-01T00:00:09Z"), // more memory than a–d
    ]
    .concat();
    let r = run(&one_type(2), &yaml);
    assert_eq!(layout(&r), [["e", "f"], ["b", "d"], ["c", "a"]]);
}

#[test]
fn in_flight_nodeclaims_fewest_pods_first_and_first_fit_not_best_fit() {
    // p1 opens claim 1; p2 does not fit beside it and opens claim 2; p3 fits both (1 pod each) and
    // takes the first; p4 then goes to claim 2, which has fewer pods, although claim 1 has room.
    let yaml = [
        pool("default", &[]),
        pod_at("p1", "2", "", "", "", "2024-01-01T00:00:01Z"),
        pod_at("p2", "2", "", "", "", "2024-01-01T00:00:02Z"),
        pod_at("p3", "500m", "", "", "", "2024-01-01T00:00:03Z"),
        pod_at("p4", "500m", "", "", "", "2024-01-01T00:00:04Z"),
    ]
    .concat();
    let r = run(&one_type(10), &yaml);
    assert_eq!(layout(&r), [["p1", "p3"], ["p2", "p4"]]);
}

#[test]
fn first_fit_keeps_the_first_pool_that_fits_even_if_another_is_cheaper() {
    // pool "b" sorts first by name desc; its only type is expensive; "a" has a cheap one
    let cat = catalog(&[it("cheap", 4, 8, 10).label("family", "a").price(0.1), it("dear", 4, 8, 10).label("family", "b").price(9.0)]);
    let yaml = [
        pool_full("a", 0, &["{key: family, operator: In, values: [a]}"], "", "", ""),
        pool_full("b", 0, &["{key: family, operator: In, values: [b]}"], "", "", ""),
        pod("p", "1", "", "", ""),
    ]
    .concat();
    let r = run(&cat, &yaml);
    assert_eq!(claim(&r, "p").nodepool, "b");
    assert_eq!(claim(&r, "p").instance_type, "dear");
}

// ---------- §3.6 destinations ----------

const MANAGED: &str = "karpenter.sh/nodepool: default, karpenter.sh/initialized: 'true', topology.kubernetes.io/zone: test-zone-1";

#[test]
fn existing_nodes_initialized_first_then_by_name_then_new_claims() {
    let yaml = [
        pool("default", &[]),
        node("node-a", "karpenter.sh/nodepool: default, karpenter.sh/initialized: 'false'", "4", "8Gi", 1, ""),
        node("node-c", MANAGED, "4", "8Gi", 1, ""),
        node("node-b", MANAGED, "4", "8Gi", 1, ""),
        pod_at("p1", "1", "", "", "", "2024-01-01T00:00:01Z"),
        pod_at("p2", "1", "", "", "", "2024-01-01T00:00:02Z"),
        pod_at("p3", "1", "", "", "", "2024-01-01T00:00:03Z"),
        pod_at("p4", "1", "", "", "", "2024-01-01T00:00:04Z"),
    ]
    .concat();
    let r = run(&one_type(10), &yaml);
    assert_eq!(existing_of(&r, "p1").as_deref(), Some("node-b"));
    assert_eq!(existing_of(&r, "p2").as_deref(), Some("node-c"));
    assert_eq!(existing_of(&r, "p3").as_deref(), Some("node-a"));
    assert_eq!(layout(&r), [["p4"]]);
}

#[test]
fn existing_node_taints_and_resources_are_respected() {
    let yaml = [
        pool("default", &[]),
        node("tainted", MANAGED, "8", "8Gi", 10, "taints: [{key: dedicated, value: x, effect: NoSchedule}]"),
        node("small", MANAGED, "900m", "8Gi", 10, ""),
        pod_at("big", "2", "", "", "", "2024-01-01T00:00:01Z"),
        pod_at("tol", "1", "", "", "  tolerations: [{key: dedicated, operator: Exists}]\n", "2024-01-01T00:00:02Z"),
        pod_at("little", "500m", "", "", "", "2024-01-01T00:00:03Z"),
    ]
    .concat();
    let r = run(&one_type(10), &yaml);
    assert_eq!(existing_of(&r, "big"), None, "2 cpu fits neither the untainted node nor the tainted one");
    assert_eq!(existing_of(&r, "tol").as_deref(), Some("tainted"));
    assert_eq!(existing_of(&r, "little").as_deref(), Some("small"));
    assert_eq!(layout(&r), [["big"]]);
}

#[test]
fn nodepools_by_weight_desc_then_name_desc() {
    let yaml = [pool_full("a", 0, &[], "", "", ""), pool_full("c", 0, &[], "", "", ""), pool_full("b", 0, &[], "", "", ""), pod("p", "1", "", "", "")].concat();
    assert_eq!(claim(&run(&one_type(10), &yaml), "p").nodepool, "c");
    let yaml = [pool_full("a", 10, &[], "", "", ""), pool_full("c", 0, &[], "", "", ""), pod("p", "1", "", "", "")].concat();
    assert_eq!(claim(&run(&one_type(10), &yaml), "p").nodepool, "a");
}

#[test]
fn untolerated_pool_taint_skips_the_pool_startup_taints_do_not() {
    let taint = "      taints: [{key: gpu, value: 'true', effect: NoSchedule}]\n";
    let startup = "      startupTaints: [{key: init, value: 'true', effect: NoSchedule}]\n";
    let yaml = [
        pool_full("tainted", 10, &[], "", "", taint),
        pool_full("startup", 5, &[], "", "", startup),
        pod("plain", "1", "", "", ""),
        // bigger, so it is placed first (otherwise it would join plain's in-flight NodeClaim)
        pod("tolerant", "2", "", "", "  tolerations: [{key: gpu, operator: Equal, value: 'true', effect: NoSchedule}]\n"),
    ]
    .concat();
    let r = run(&one_type(10), &yaml);
    assert_eq!(claim(&r, "plain").nodepool, "startup");
    assert_eq!(claim(&r, "tolerant").nodepool, "tainted");

    // no pool tolerated: the reason names the taint
    let yaml = [pool_full("tainted", 10, &[], "", "", taint), pod("plain", "1", "", "", "")].concat();
    let r = run(&one_type(10), &yaml);
    let why = unschedulable(&r, "plain");
    assert!(why.contains("tainted") && why.contains("gpu"), "{why}");
}

// ---------- §2.4 / §9.1 undefined labels ----------

#[test]
fn custom_label_in_or_exists_undefined_on_pool_is_unschedulable() {
    let yaml = [
        pool("default", &[]),
        pod("sel", "1", "", "", "  nodeSelector: {team: blue}\n"),
        pod("exists", "1", "", "", "  affinity: {nodeAffinity: {requiredDuringSchedulingIgnoredDuringExecution: {nodeSelectorTerms: [{matchExpressions: [{key: team, operator: Exists}]}]}}}\n"),
        pod("notin", "1", "", "", "  affinity: {nodeAffinity: {requiredDuringSchedulingIgnoredDuringExecution: {nodeSelectorTerms: [{matchExpressions: [{key: team, operator: NotIn, values: [red]}]}]}}}\n"),
        pod("dne", "1", "", "", "  affinity: {nodeAffinity: {requiredDuringSchedulingIgnoredDuringExecution: {nodeSelectorTerms: [{matchExpressions: [{key: team, operator: DoesNotExist}]}]}}}\n"),
    ]
    .concat();
    let r = run(&one_type(10), &yaml);
    let why = unschedulable(&r, "sel");
    assert!(why.contains("requires label team") && why.contains("which no NodePool defines"), "{why}");
    assert!(unschedulable(&r, "exists").contains("team"));
    assert!(claim_of(&r, "notin").is_some());
    assert!(claim_of(&r, "dne").is_some());
}

/// A custom catalog is karpsim's cloud provider, and a provider's instance-type labels are
/// well-known (Karpenter's AWS provider registers `karpenter.k8s.aws/instance-*`, its fake
/// provider `size`): a pod may select on them without its NodePool mentioning them, and a type
/// that lacks a label other types carry does not match a selector on it.
#[test]
fn custom_catalog_labels_are_well_known() {
    let cat = catalog(&[it("c4", 4, 8, 10).label("size", "small"), it("c8", 8, 16, 10).label("size", "large").label("gpu", "true")]);
    let yaml = [
        pool("default", &[]),
        pod("large", "1", "", "", "  nodeSelector: {size: large}\n"),
        pod("gpu", "1", "", "", "  affinity: {nodeAffinity: {requiredDuringSchedulingIgnoredDuringExecution: {nodeSelectorTerms: [{matchExpressions: [{key: gpu, operator: Exists}]}]}}}\n"),
        pod("nogpu", "1", "", "", "  affinity: {nodeAffinity: {requiredDuringSchedulingIgnoredDuringExecution: {nodeSelectorTerms: [{matchExpressions: [{key: gpu, operator: DoesNotExist}]}]}}}\n"),
    ]
    .concat();
    let r = run(&cat, &yaml);
    assert_eq!(claim(&r, "large").instance_type_options, ["c8"], "{r:#?}");
    assert_eq!(claim(&r, "gpu").instance_type_options, ["c8"]);
    // c4 has no gpu label: it is DoesNotExist there, so only c4 fits a pod that wants none
    assert_eq!(claim(&r, "nogpu").instance_type_options, ["c4"]);
}

#[test]
fn template_labels_are_in_requirements() {
    let yaml = [
        pool_full("default", 0, &[], "{team: blue}", "", ""),
        pod("blue", "1", "", "", "  nodeSelector: {team: blue}\n"),
        pod("red", "1", "", "", "  nodeSelector: {team: red}\n"),
        pod("notblue", "1", "", "", "  affinity: {nodeAffinity: {requiredDuringSchedulingIgnoredDuringExecution: {nodeSelectorTerms: [{matchExpressions: [{key: team, operator: NotIn, values: [blue]}]}]}}}\n"),
    ]
    .concat();
    let r = run(&one_type(10), &yaml);
    assert_eq!(req(claim(&r, "blue"), "team"), Some("In [blue]"));
    assert!(unschedulable(&r, "red").contains("team"));
    assert!(unschedulable(&r, "notblue").contains("team"));
}

#[test]
fn well_known_labels_may_be_undefined_on_nodeclaims_but_not_on_existing_nodes() {
    // the node has no zone label; a pod selecting a zone must get a new NodeClaim in that zone
    let yaml = [
        pool("default", &[]),
        node("nozone", "karpenter.sh/nodepool: default, karpenter.sh/initialized: 'true', team: blue", "8", "16Gi", 10, ""),
        pod("zonal", "1", "", "", "  nodeSelector: {topology.kubernetes.io/zone: test-zone-3}\n"),
        pod("teamed", "1", "", "", "  nodeSelector: {team: blue}\n"),
    ]
    .concat();
    let r = run(&one_type(10), &yaml);
    assert_eq!(existing_of(&r, "zonal"), None);
    let nc = claim(&r, "zonal");
    assert_eq!(nc.zone, "test-zone-3");
    assert_eq!(nc.capacity_type, "on-demand", "the fake types have no spot in zone 3");
    // a custom label the node carries is fine on the node even though no pool defines it
    assert_eq!(existing_of(&r, "teamed").as_deref(), Some("nozone"));
}

#[test]
fn zone_in_bogus_and_exists_does_not_widen() {
    let yaml = [
        pool("default", &[]),
        pod("p", "1", "", "", "  affinity: {nodeAffinity: {requiredDuringSchedulingIgnoredDuringExecution: {nodeSelectorTerms: [{matchExpressions: [{key: topology.kubernetes.io/zone, operator: In, values: [bogus]}, {key: topology.kubernetes.io/zone, operator: Exists}]}]}}}\n"),
    ]
    .concat();
    let r = run(&one_type(10), &yaml);
    let why = unschedulable(&r, "p");
    assert!(why.contains("topology.kubernetes.io/zone"), "{why}");
}

// ---------- §2.5 / §3.5 requirements and relaxation ----------

fn required_terms(terms: &[&str]) -> String {
    let t: Vec<String> = terms.iter().map(|z| format!("{{matchExpressions: [{{key: topology.kubernetes.io/zone, operator: In, values: [{z}]}}]}}")).collect();
    format!("  affinity: {{nodeAffinity: {{requiredDuringSchedulingIgnoredDuringExecution: {{nodeSelectorTerms: [{}]}}}}}}\n", t.join(", "))
}

#[test]
fn only_the_first_required_term_then_the_next_by_relaxation() {
    let yaml = [pool("default", &[]), pod("first", "1", "", "", &required_terms(&["test-zone-3", "test-zone-1"]))].concat();
    let r = run(&one_type(10), &yaml);
    assert_eq!(zone_of(&r, "first"), "test-zone-3");
    assert!(r.relaxations.is_empty());

    let yaml = [pool("default", &[]), pod("second", "1", "", "", &required_terms(&["bogus", "test-zone-2"]))].concat();
    let r = run(&one_type(10), &yaml);
    assert_eq!(zone_of(&r, "second"), "test-zone-2");
    assert_eq!(r.relaxations.len(), 1);
    assert_eq!(r.relaxations[0].relaxed, ["removed the first required node-affinity term"]);

    // the last term is never dropped
    let yaml = [pool("default", &[]), pod("none", "1", "", "", &required_terms(&["bogus", "also-bogus"]))].concat();
    let r = run(&one_type(10), &yaml);
    assert!(unschedulable(&r, "none").contains("zone"));
}

fn preferred_zones(prefs: &[(u32, &str)]) -> String {
    let t: Vec<String> = prefs
        .iter()
        .map(|(w, z)| format!("{{weight: {w}, preference: {{matchExpressions: [{{key: topology.kubernetes.io/zone, operator: In, values: [{z}]}}]}}}}"))
        .collect();
    format!("  affinity: {{nodeAffinity: {{preferredDuringSchedulingIgnoredDuringExecution: [{}]}}}}\n", t.join(", "))
}

#[test]
fn heaviest_preferred_node_affinity_is_treated_as_required() {
    let yaml = [pool("default", &[]), pod("p", "1", "", "", &preferred_zones(&[(1, "test-zone-2"), (50, "test-zone-3"), (10, "test-zone-1")]))].concat();
    assert_eq!(zone_of(&run(&one_type(10), &yaml), "p"), "test-zone-3");
    // heaviest impossible: relaxed, the next heaviest applies
    let yaml = [pool("default", &[]), pod("p", "1", "", "", &preferred_zones(&[(1, "test-zone-2"), (50, "bogus"), (10, "test-zone-1")]))].concat();
    let r = run(&one_type(10), &yaml);
    assert_eq!(zone_of(&r, "p"), "test-zone-1");
    assert_eq!(r.relaxations[0].relaxed, ["removed preferred node affinity (weight 50)"]);
}

#[test]
fn relaxation_order() {
    // every soft constraint is unsatisfiable, so each is dropped in Karpenter's order:
    // preferred pod affinity, preferred anti-affinity (none here), preferred node affinity,
    // ScheduleAnyway spread
    let spec = "  affinity:\n    nodeAffinity: {preferredDuringSchedulingIgnoredDuringExecution: [{weight: 5, preference: {matchExpressions: [{key: topology.kubernetes.io/zone, operator: In, values: [bogus]}]}}]}\n    podAffinity: {preferredDuringSchedulingIgnoredDuringExecution: [{weight: 1, podAffinityTerm: {topologyKey: kubernetes.io/hostname, labelSelector: {matchLabels: {app: nobody}}}}]}\n  topologySpreadConstraints: [{maxSkew: 1, topologyKey: example.com/rack, whenUnsatisfiable: ScheduleAnyway, labelSelector: {matchLabels: {app: p}}}]\n";
    let yaml = [pool("default", &[]), pod("p", "1", "", "{app: p}", spec)].concat();
    let r = run(&one_type(10), &yaml);
    assert!(claim_of(&r, "p").is_some());
    assert_eq!(
        r.relaxations[0].relaxed,
        [
            "removed preferred pod affinity on kubernetes.io/hostname (weight 1)",
            "removed preferred node affinity (weight 5)",
            "removed ScheduleAnyway topology spread on example.com/rack",
        ]
    );
}

#[test]
fn prefer_no_schedule_is_hard_until_relaxed_and_only_relaxed_if_a_pool_has_one() {
    let soft = "      taints: [{key: soft, effect: PreferNoSchedule}]\n";
    // a tainted pool of higher weight is passed over for an untainted one without relaxing
    let yaml = [pool_full("soft", 10, &[], "", "", soft), pool_full("plain", 0, &[], "", "", ""), pod("p", "1", "", "", "")].concat();
    let r = run(&one_type(10), &yaml);
    assert_eq!(claim(&r, "p").nodepool, "plain");
    assert!(r.relaxations.is_empty());
    // only the tainted pool: the pod gets a PreferNoSchedule toleration as the last step
    let yaml = [pool_full("soft", 10, &[], "", "", soft), pod("p", "1", "", "", "")].concat();
    let r = run(&one_type(10), &yaml);
    assert_eq!(claim(&r, "p").nodepool, "soft");
    assert_eq!(r.relaxations[0].relaxed, ["added a toleration for PreferNoSchedule taints"]);
}

#[test]
fn failed_pod_is_retried_unrelaxed() {
    // "a" (bigger, so first) needs hostname affinity to "b", which is not placed yet: it fails,
    // relaxation drops its zone preference, still fails, and it is re-queued. On the retry its
    // preference is back and pins b's NodeClaim to test-zone-2.
    let a = "  affinity:\n    podAffinity: {requiredDuringSchedulingIgnoredDuringExecution: [{topologyKey: kubernetes.io/hostname, labelSelector: {matchLabels: {app: b}}}]}\n    nodeAffinity: {preferredDuringSchedulingIgnoredDuringExecution: [{weight: 1, preference: {matchExpressions: [{key: topology.kubernetes.io/zone, operator: In, values: [test-zone-2]}]}}]}\n";
    let yaml = [pool("default", &[]), pod("a", "2", "", "{app: a}", a), pod("b", "1", "", "{app: b}", "")].concat();
    let r = run(&one_type(10), &yaml);
    assert_eq!(layout(&r), [["b", "a"]]);
    assert_eq!(claim(&r, "a").zone, "test-zone-2");
    assert!(r.relaxations.is_empty(), "{:?}", r.relaxations);
}

// ---------- reasons and determinism ----------

#[test]
fn too_big_pod_names_the_resource_and_the_largest_type() {
    let yaml = [pool("default", &[]), pod("huge", "512", "", "", "")].concat();
    let r = run(&default_catalog(), &yaml);
    let why = unschedulable(&r, "huge");
    assert!(why.contains("no instance type in NodePool default has 512 cpu allocatable"), "{why}");
    assert!(why.contains("largest is arm-instance-type with 15900m"), "{why}");
}

#[test]
fn every_pod_placed_or_explained_and_runs_are_deterministic() {
    let mut yaml = vec![pool_full("a", 0, &[ANY_CT], "", "", ""), pool_full("b", 5, &["{key: kubernetes.io/arch, operator: In, values: [arm64]}"], "", "", "")];
    for i in 0..12 {
        let cpu = ["100m", "1", "3", "600"][i % 4];
        let spec = if i % 3 == 0 { "  topologySpreadConstraints: [{maxSkew: 1, topologyKey: topology.kubernetes.io/zone, whenUnsatisfiable: DoNotSchedule, labelSelector: {matchLabels: {app: s}}}]\n" } else { "" };
        yaml.push(pod(&format!("p{i:02}"), cpu, "", "{app: s}", spec));
    }
    let yaml = yaml.concat();
    let cat = default_catalog();
    let a = serde_json::to_string(&run(&cat, &yaml)).unwrap();
    let b = serde_json::to_string(&run(&cat, &yaml)).unwrap();
    assert_eq!(a, b);
    let r = run(&cat, &yaml);
    assert_eq!(r.unschedulable.len(), 3, "the three 600-cpu pods: {:?}", r.unschedulable);
}

#[test]
fn restricted_labels_make_the_pod_ignored_with_a_reason() {
    let yaml = [pool("default", &[]), pod("p", "1", "", "", "  nodeSelector: {karpenter.sh/custom: x}\n")].concat();
    let r = run_with(&one_type(10), &yaml, &ProvisionOptions::default());
    assert!(unschedulable(&r, "p").contains("restricted"));
}

#[test]
fn a_pool_that_can_launch_nothing_is_named_in_a_warning_and_in_each_reason() {
    let cat = catalog(&[it("x86", 4, 8, 10).label("kubernetes.io/arch", "amd64"), it("graviton", 4, 8, 10).label("kubernetes.io/arch", "arm64")]);
    let expected = "NodePool default can launch nothing: it requires kubernetes.io/arch In [arm], and the catalog has kubernetes.io/arch amd64, arm64";
    let yaml = [pool("default", &["{key: kubernetes.io/arch, operator: In, values: [arm]}"]), pod("p", "1", "", "", "")].concat();
    let r = run(&cat, &yaml);
    assert!(r.warnings.iter().any(|w| w == expected), "{:?}", r.warnings);
    assert!(unschedulable(&r, "p").contains(expected), "{}", unschedulable(&r, "p"));

    // beside a pool that tried: both causes are in the reason
    let yaml = [
        pool("default", &["{key: kubernetes.io/arch, operator: In, values: [arm]}"]),
        pool("small", &[]),
        pod("p", "64", "", "", ""),
    ]
    .concat();
    let why = run(&cat, &yaml).unschedulable[0].reason.clone();
    assert!(why.contains("no instance type in NodePool small has 64 cpu") && why.contains(expected), "{why}");

    // narrowed by an earlier requirement: the count of what was left is given
    let yaml = [
        pool("default", &["{key: kubernetes.io/arch, operator: In, values: [amd64]}", "{key: node.kubernetes.io/instance-type, operator: In, values: [graviton]}"]),
        pod("p", "1", "", "", ""),
    ]
    .concat();
    let why = unschedulable(&run(&cat, &yaml), "p").to_string();
    assert!(why.contains("requires node.kubernetes.io/instance-type In [graviton], and the 1 instance types its other requirements allow have node.kubernetes.io/instance-type x86"), "{why}");

    // no NodePool at all
    let r = run(&cat, &pod("p", "1", "", "", ""));
    assert!(r.warnings.iter().any(|w| w.contains("no NodePool in the inputs")), "{:?}", r.warnings);
    assert!(unschedulable(&r, "p").contains("no NodePool in the inputs"));
}

/// `provisioner.go: Validate` as Karpenter applies it: the node selector and required node-affinity
/// terms are checked (a `karpenter.sh/initialized` selector, an unknown capacity type, `matchFields`
/// make the pod ignored); preferred terms are not (a preference on a hostname is relaxed away).
#[test]
fn pods_are_validated_as_karpenter_does() {
    let pods = [
        pod("initialized", "1", "", "", "  nodeSelector: {karpenter.sh/initialized: 'true'}\n"),
        pod("ct", "1", "", "", "  nodeSelector: {karpenter.sh/capacity-type: cheap}\n"),
        pod("fields", "1", "", "", "  affinity: {nodeAffinity: {requiredDuringSchedulingIgnoredDuringExecution: {nodeSelectorTerms: [{matchFields: [{key: metadata.name, operator: In, values: [n1]}]}]}}}\n"),
        pod("preferred", "1", "", "", "  affinity: {nodeAffinity: {preferredDuringSchedulingIgnoredDuringExecution: [{weight: 1, preference: {matchExpressions: [{key: kubernetes.io/hostname, operator: In, values: [n1]}]}}]}}\n"),
    ];
    let yaml = [vec![pool("default", &[])], pods.to_vec()].concat().concat();
    let r = run_with(&one_type(10), &yaml, &ProvisionOptions::default());
    assert!(unschedulable(&r, "initialized").contains("restricted label karpenter.sh/initialized"), "{r:#?}");
    assert!(unschedulable(&r, "ct").contains("none of the known values"), "{r:#?}");
    assert!(unschedulable(&r, "fields").contains("matchFields"), "{r:#?}");
    assert!(claim(&r, "preferred").pods.contains(&"default/preferred".to_string()));
}

// ---------- existing nodes' own capacity (statenode.go: Allocatable) ----------

/// A Node of a catalog type, managed by Karpenter; `status` is its `status:` block (or empty).
fn catalog_node(name: &str, initialized: bool, status: &str) -> String {
    format!(
        "---\napiVersion: v1\nkind: Node\nmetadata: {{name: {name}, labels: {{kubernetes.io/hostname: {name}, karpenter.sh/nodepool: default, karpenter.sh/initialized: '{initialized}', node.kubernetes.io/instance-type: c4, topology.kubernetes.io/zone: test-zone-1, karpenter.sh/capacity-type: on-demand}}}}\nspec: {{}}\n{status}"
    )
}

/// An initialized node's own `status.allocatable` is what Karpenter schedules against, even when
/// it differs from the catalog's figure for its type, even when it is all zero.
#[test]
fn existing_node_uses_its_own_allocatable_even_all_zero() {
    let ready = "  conditions: [{type: Ready, status: 'True'}]\n";
    let small = format!("status:\n  capacity: {{cpu: '4', memory: 8Gi, pods: '10'}}\n  allocatable: {{cpu: 500m, memory: 1Gi, pods: '10'}}\n{ready}");
    let zero = format!("status:\n  capacity: {{cpu: '4', memory: 8Gi, pods: '10'}}\n  allocatable: {{cpu: '0', memory: '0', pods: '0'}}\n{ready}");
    let pods = pod("p", "1", "", "", "");
    // the catalog says 3.9 cpu allocatable; the node says 500m: the 1-cpu pod needs a new node
    let s = state_from_inputs(&one_type(10), &[pool("default", &[]), catalog_node("n1", true, &small), pods.clone()].concat());
    let r = karpsim::scheduling::provision(&s, &ProvisionOptions::default());
    assert!(r.existing_nodes.is_empty() && r.nodeclaims.len() == 1, "{r:#?}");
    // an explicit all-zero allocatable receives nothing either
    let s = state_from_inputs(&one_type(10), &[pool("default", &[]), catalog_node("n1", true, &zero), pods.clone()].concat());
    let r = karpsim::scheduling::provision(&s, &ProvisionOptions::default());
    assert!(r.existing_nodes.is_empty() && r.nodeclaims.len() == 1, "{r:#?}");
    // a Node without status (a manifest) stands for its catalog type
    let s = state_from_inputs(&one_type(10), &[pool("default", &[]), catalog_node("n1", true, ""), pods.clone()].concat());
    let r = karpsim::scheduling::provision(&s, &ProvisionOptions::default());
    assert_eq!(existing_of(&r, "p").as_deref(), Some("n1"), "{r:#?}");
    // a node not yet initialized reports zeros: the NodeClaim's (the catalog's) figure fills them in
    let s = state_from_inputs(&one_type(10), &[pool("default", &[]), catalog_node("n1", false, &zero), pods].concat());
    let r = karpsim::scheduling::provision(&s, &ProvisionOptions::default());
    assert_eq!(existing_of(&r, "p").as_deref(), Some("n1"), "{r:#?}");
}

// ---------- pods Karpenter provisions (pkg/utils/pod/scheduling.go: IsProvisionable) ----------

/// Karpenter provisions only pods kube-scheduler has marked `Unschedulable`: a scheduling-gated pod
/// never is, and in a snapshot an unbound pod without that condition is still kube-scheduler's to
/// place (or nominated for preemption). They are left out with a counted warning; manifests
/// without a status are pending pods as before.
#[test]
fn pods_karpenter_does_not_provision_are_left_out_with_a_warning() {
    let unschedulable = "status: {phase: Pending, conditions: [{type: PodScheduled, status: 'False', reason: Unschedulable}]}\n";
    let yaml = [
        pool("default", &[]),
        pod("manifest", "1", "", "", ""),
        pod("gated", "1", "", "", "  schedulingGates: [{name: example.com/wait}]\n"),
        format!("{}{unschedulable}", pod("snap-unschedulable", "1", "", "", "")),
        format!("{}status: {{phase: Pending}}\n", pod("snap-waiting", "1", "", "", "")),
        format!("{}status: {{phase: Pending, conditions: [{{type: PodScheduled, status: 'False', reason: SchedulingGated}}]}}\n", pod("snap-gated", "1", "", "", "  schedulingGates: [{name: example.com/wait}]\n")),
        format!("{}status: {{phase: Pending, nominatedNodeName: n9, conditions: [{{type: PodScheduled, status: 'False', reason: Unschedulable}}]}}\n", pod("snap-nominated", "1", "", "", "")),
    ]
    .concat();
    let s = state(&one_type(10), &yaml);
    let r = karpsim::scheduling::provision(&s, &ProvisionOptions::default());
    let mut placed: Vec<String> = r.nodeclaims.iter().flat_map(|n| n.pods.clone()).collect();
    placed.sort();
    assert_eq!(placed, ["default/manifest", "default/snap-unschedulable"], "{r:#?}");
    assert!(r.unschedulable.is_empty(), "{r:#?}");
    let w = r.warnings.iter().find(|w| w.contains("does not provision")).unwrap_or_else(|| panic!("{:?}", r.warnings));
    assert!(w.contains("4 pending pod(s)") && w.contains("2 scheduling-gated") && w.contains("1 not marked Unschedulable") && w.contains("1 nominated"), "{w}");
}

/// The time simulator asks "is any pod pending?" after events ([`karpsim::scheduling::has_pending_pods`])
/// to decide whether to start a provisioning batch: its answer must be the pending list's, for pods
/// left out (gated, waiting, nominated), pods bound to a node of the state, and a pod bound to a
/// node missing from it (scheduled as pending, so a batch must start).
#[test]
fn the_pending_question_agrees_with_the_pending_list() {
    let waiting = |name: &str| format!("{}status: {{phase: Pending}}\n", pod(name, "1", "", "", ""));
    let left_out = [
        pool("default", &[]),
        pod("gated", "1", "", "", "  schedulingGates: [{name: example.com/wait}]\n"),
        waiting("snap-waiting"),
        format!("{}status: {{phase: Pending, nominatedNodeName: n9, conditions: [{{type: PodScheduled, status: 'False', reason: Unschedulable}}]}}\n", pod("snap-nominated", "1", "", "", "")),
    ]
    .concat();
    let bound = |node: &str| pod(&format!("on-{node}"), "1", "", "", &format!("  nodeName: {node}\n"));
    let cases = [
        (left_out.clone(), false),
        (format!("{left_out}{}", catalog_node("n1", true, "")), false),
        (format!("{left_out}{}{}", catalog_node("n1", true, ""), bound("n1")), false),
        (format!("{left_out}{}{}", catalog_node("n1", true, ""), bound("n2")), true),
        (format!("{left_out}{}", pod("manifest", "1", "", "", "")), true),
    ];
    for (yaml, pending) in cases {
        let s = state(&one_type(10), &yaml);
        let listed = karpsim::scheduling::pending_pods(&s, &mut Vec::new());
        assert_eq!(!listed.is_empty(), pending, "{yaml}");
        assert_eq!(karpsim::scheduling::has_pending_pods(&s), pending, "{yaml}");
    }
}

// ---------- a NodePool whose node class is missing is not ready ----------

/// On an AWS catalog, a NodePool whose `nodeClassRef` names an EC2NodeClass absent from inputs that
/// do hold other EC2NodeClasses is not Ready in Karpenter: the provisioner ignores it
/// (`provisioner.go: NewScheduler` keeps Ready NodePools only; the AWS provider resolves no
/// instance types without the node class). It launches nothing, with a warning and the pending
/// pods' reason saying so; it is not an input error.
#[test]
fn nodepool_with_a_missing_nodeclass_launches_nothing() {
    let nodeclass = "---\napiVersion: karpenter.k8s.aws/v1\nkind: EC2NodeClass\nmetadata: {name: default}\nspec: {amiFamily: AL2023}\n";
    let mut gpu_pool = pool_full("gpu", 50, &["{key: karpenter.k8s.aws/instance-family, operator: In, values: [g5]}"], "", "", "");
    gpu_pool = gpu_pool.replace("name: default}", "name: gpu-class}");
    let yaml = [
        nodeclass.to_string(),
        pool("default", &["{key: karpenter.k8s.aws/instance-family, operator: In, values: [m7i]}"]),
        gpu_pool,
        pod("web", "1", "1Gi", "", ""),
        pod("trainer", "1", "1Gi", "", "  nodeSelector: {karpenter.sh/nodepool: gpu}\n"),
    ]
    .concat();
    let mut i = karpsim::io::Inputs::new();
    i.load_str(&yaml, "test.yaml").unwrap();
    let catalog = karpsim::catalog::CatalogSource::parse("aws:us-east-1").unwrap();
    let s = karpsim::state::ClusterState::from_inputs(i.finish().unwrap(), &catalog).expect("a missing node class is not an input error");
    let r = karpsim::scheduling::provision(&s, &ProvisionOptions::default());
    // the higher-weight pool is skipped: web goes to the default pool
    assert_eq!(claim(&r, "web").nodepool, "default");
    let why = unschedulable(&r, "trainer");
    assert!(why.contains("NodePool gpu is not ready") && why.contains("EC2NodeClass gpu-class"), "{why}");
    let w = r.warnings.iter().find(|w| w.contains("NodePool gpu")).unwrap_or_else(|| panic!("{:?}", r.warnings));
    assert!(w.contains("not ready") && w.contains("gpu-class") && w.contains("launches nothing"), "{w}");
}
