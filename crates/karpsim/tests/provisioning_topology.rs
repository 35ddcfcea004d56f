//! Topology spread, pod affinity and anti-affinity in the provisioning scheduler (design §3.9, §9.7).
//! Scenarios are inspired by Karpenter's `scheduling/topology_test.go`; the tests are our own.

mod common;
use common::*;
use karpsim::scheduling::{ProvisionOptions, TopologyDomains};

fn cat() -> String {
    catalog(&[it("c4", 4, 8, 10)])
}

const ZONE: &str = "topology.kubernetes.io/zone";
const HOST: &str = "kubernetes.io/hostname";

fn spread(key: &str, skew: u32, when: &str, app: &str, extra: &str) -> String {
    format!("  topologySpreadConstraints: [{{maxSkew: {skew}, topologyKey: {key}, whenUnsatisfiable: {when}, labelSelector: {{matchLabels: {{app: {app}}}}}{extra}}}]\n")
}

fn pods(prefix: &str, n: usize, cpu: &str, labels: &str, spec: &str) -> String {
    (0..n).map(|i| pod(&format!("{prefix}{i}"), cpu, "", labels, spec)).collect()
}

/// Zone of every NodeClaim that holds one of the pods with this prefix, sorted.
fn zones(r: &karpsim::scheduling::ProvisionResult, prefix: &str) -> Vec<String> {
    let mut z: Vec<String> = r
        .nodeclaims
        .iter()
        .flat_map(|n| n.pods.iter().filter(|p| p.starts_with(&format!("default/{prefix}"))).map(|_| n.zone.clone()))
        .collect();
    z.sort();
    z
}

fn node_in(name: &str, zone: &str, extra_labels: &str) -> String {
    node(name, &format!("karpenter.sh/nodepool: default, karpenter.sh/initialized: 'true', {ZONE}: {zone}{extra_labels}"), "8", "16Gi", 20, "")
}

// ---------- spread ----------

#[test]
fn zone_spread_max_skew_one_balances_and_pins_each_claim() {
    let yaml = [pool("default", &[ANY_CT]), pods("s", 6, "1", "{app: s}", &spread(ZONE, 1, "DoNotSchedule", "s", ""))].concat();
    let r = run(&cat(), &yaml);
    assert_eq!(zones(&r, "s"), ["test-zone-1", "test-zone-1", "test-zone-2", "test-zone-2", "test-zone-3", "test-zone-3"]);
    for nc in &r.nodeclaims {
        assert_eq!(req(nc, ZONE), Some(format!("In [{}]", nc.zone).as_str()), "each claim is pinned to one zone");
    }
    // the fake types offer no spot in zone 3
    let z3: Vec<_> = r.nodeclaims.iter().filter(|n| n.zone == "test-zone-3").map(|n| n.capacity_type.as_str()).collect();
    assert_eq!(z3, ["on-demand"]);
    assert!(r.nodeclaims.iter().filter(|n| n.zone != "test-zone-3").all(|n| n.capacity_type == "spot"));
}

#[test]
fn zone_spread_counts_existing_pods() {
    let yaml = [
        pool("default", &[ANY_CT]),
        node_in("old", "test-zone-1", ""),
        bound_pod("e0", "old", "100m", "{app: s}", ""),
        bound_pod("e1", "old", "100m", "{app: s}", ""),
        pods("s", 3, "1", "{app: s}", &spread(ZONE, 1, "DoNotSchedule", "s", "")),
    ]
    .concat();
    let r = run(&cat(), &yaml);
    // counts start z1=2: the new pods avoid zone 1 (including the existing node there)
    assert!(r.existing_nodes.is_empty(), "{:?}", r.existing_nodes);
    assert_eq!(zones(&r, "s"), ["test-zone-2", "test-zone-2", "test-zone-3"]);
}

#[test]
fn hostname_spread_one_pod_per_claim() {
    let yaml = [pool("default", &[]), pods("h", 3, "100m", "{app: h}", &spread(HOST, 1, "DoNotSchedule", "h", ""))].concat();
    let r = run(&cat(), &yaml);
    assert_eq!(r.nodeclaims.len(), 3);
    let yaml = [pool("default", &[]), pods("h", 4, "100m", "{app: h}", &spread(HOST, 2, "DoNotSchedule", "h", ""))].concat();
    assert_eq!(run(&cat(), &yaml).nodeclaims.len(), 2, "maxSkew 2 allows two per host");
}

#[test]
fn capacity_type_spread() {
    let key = "karpenter.sh/capacity-type";
    let yaml = [pool("default", &[ANY_CT]), pods("c", 4, "1", "{app: c}", &spread(key, 1, "DoNotSchedule", "c", ""))].concat();
    let r = run(&cat(), &yaml);
    let mut cts: Vec<&str> = r.nodeclaims.iter().flat_map(|n| n.pods.iter().map(|_| n.capacity_type.as_str())).collect();
    cts.sort();
    assert_eq!(cts, ["on-demand", "on-demand", "spot", "spot"]);
}

#[test]
fn min_domains_above_the_domain_count_keeps_the_global_minimum_at_zero() {
    let with = spread(ZONE, 1, "DoNotSchedule", "m", ", minDomains: 5");
    let yaml = [pool("default", &[ANY_CT]), pods("m", 4, "1", "{app: m}", &with)].concat();
    let r = run(&cat(), &yaml);
    assert_eq!(zones(&r, "m"), ["test-zone-1", "test-zone-2", "test-zone-3"]);
    assert!(unschedulable(&r, "m3").contains("topology spread"), "{:?}", r.unschedulable);
    // without minDomains the fourth pod fits
    let yaml = [pool("default", &[ANY_CT]), pods("m", 4, "1", "{app: m}", &spread(ZONE, 1, "DoNotSchedule", "m", ""))].concat();
    assert!(run(&cat(), &yaml).unschedulable.is_empty());
}

#[test]
fn unknown_topology_key_do_not_schedule_fails_schedule_anyway_relaxes() {
    let yaml = [
        pool("default", &[]),
        pod("hard", "1", "", "{app: u}", &spread("example.com/rack", 1, "DoNotSchedule", "u", "")),
        pod("soft", "1", "", "{app: u}", &spread("example.com/rack", 1, "ScheduleAnyway", "u", "")),
        pod("plain", "1", "", "", ""),
    ]
    .concat();
    let r = run(&cat(), &yaml);
    assert!(unschedulable(&r, "hard").contains("example.com/rack"));
    assert!(claim_of(&r, "soft").is_some());
    assert!(claim_of(&r, "plain").is_some());
    assert_eq!(r.relaxations.len(), 1);
    assert_eq!(r.relaxations[0].pod, "default/soft");
}

#[test]
fn custom_label_spread_uses_pool_values() {
    let yaml = [pool("default", &["{key: example.com/rack, operator: In, values: [r1, r2]}"]), pods("k", 4, "1", "{app: k}", &spread("example.com/rack", 1, "DoNotSchedule", "k", ""))].concat();
    let r = run(&cat(), &yaml);
    let mut racks: Vec<&str> = r.nodeclaims.iter().flat_map(|n| n.pods.iter().map(|_| req(n, "example.com/rack").unwrap())).collect();
    racks.sort();
    assert_eq!(racks, ["In [r1]", "In [r1]", "In [r2]", "In [r2]"]);
}

#[test]
fn node_taints_policy_honor_drops_domains_of_untolerated_pools() {
    // zone 3 only comes from a tainted pool the pods do not tolerate
    let tainted = pool_full("tainted", 0, &["{key: topology.kubernetes.io/zone, operator: In, values: [test-zone-3]}"], "", "", "      taints: [{key: t, effect: NoSchedule}]\n");
    let plain = pool_full("plain", 0, &["{key: topology.kubernetes.io/zone, operator: In, values: [test-zone-1, test-zone-2]}", ANY_CT], "", "", "");
    // Ignore (default): zone 3 counts as an empty domain the pods cannot reach, so the third pod fails
    let yaml = [tainted.clone(), plain.clone(), pods("t", 3, "1", "{app: t}", &spread(ZONE, 1, "DoNotSchedule", "t", ""))].concat();
    let r = run(&cat(), &yaml);
    assert_eq!(zones(&r, "t"), ["test-zone-1", "test-zone-2"]);
    assert!(reason(&r, "t2").is_some());
    // Honor: zone 3 is not a domain for these pods
    let yaml = [tainted, plain, pods("t", 3, "1", "{app: t}", &spread(ZONE, 1, "DoNotSchedule", "t", ", nodeTaintsPolicy: Honor"))].concat();
    let r = run(&cat(), &yaml);
    assert_eq!(zones(&r, "t"), ["test-zone-1", "test-zone-1", "test-zone-2"]);
}

#[test]
fn node_affinity_policy_decides_whether_non_matching_nodes_count() {
    // two matching pods run on a spot node in zone 1; the new pods require on-demand
    let base = || {
        [
            pool("default", &[ANY_CT]),
            node_in("spotty", "test-zone-1", ", karpenter.sh/capacity-type: spot"),
            bound_pod("e0", "spotty", "100m", "{app: a}", ""),
            bound_pod("e1", "spotty", "100m", "{app: a}", ""),
        ]
        .concat()
    };
    let od = "  nodeSelector: {karpenter.sh/capacity-type: on-demand}\n";
    let honor = format!("{od}{}", spread(ZONE, 1, "DoNotSchedule", "a", ""));
    let r = run(&cat(), &(base() + &pods("n", 3, "1", "{app: a}", &honor)));
    assert_eq!(zones(&r, "n"), ["test-zone-1", "test-zone-2", "test-zone-3"], "Honor: the spot node is not counted");
    let ignore = format!("{od}{}", spread(ZONE, 1, "DoNotSchedule", "a", ", nodeAffinityPolicy: Ignore"));
    let r = run(&cat(), &(base() + &pods("n", 3, "1", "{app: a}", &ignore)));
    assert_eq!(zones(&r, "n"), ["test-zone-2", "test-zone-2", "test-zone-3"], "Ignore: zone 1 already holds 2");
}

#[test]
fn match_label_keys_split_the_count_by_the_pod_value() {
    let mlk = spread(ZONE, 1, "DoNotSchedule", "s", ", matchLabelKeys: [version]");
    let yaml = [
        pool("default", &[ANY_CT]),
        node_in("old", "test-zone-1", ""),
        bound_pod("e0", "old", "100m", "{app: s, version: v1}", ""),
        pod("a-v1", "1", "", "{app: s, version: v1}", &mlk),
        pod("b-v2", "1", "", "{app: s, version: v2}", &mlk),
    ]
    .concat();
    let r = run(&cat(), &yaml);
    assert_eq!(zone_of(&r, "a-v1"), "test-zone-2", "v1 already has a pod in zone 1");
    assert_eq!(existing_of(&r, "b-v2").as_deref(), Some("old"), "v2 has none: zone 1 is fine");
    // without matchLabelKeys the v2 pod counts the v1 pods too
    let plain = spread(ZONE, 1, "DoNotSchedule", "s", "");
    let yaml = [
        pool("default", &[ANY_CT]),
        node_in("old", "test-zone-1", ""),
        bound_pod("e0", "old", "100m", "{app: s, version: v1}", ""),
        pod("a-v1", "1", "", "{app: s, version: v1}", &plain),
        pod("b-v2", "1", "", "{app: s, version: v2}", &plain),
    ]
    .concat();
    let r = run(&cat(), &yaml);
    assert_eq!(zone_of(&r, "b-v2"), "test-zone-3");
}

#[test]
fn nil_selector_never_blocks() {
    let nil = format!("  topologySpreadConstraints: [{{maxSkew: 1, topologyKey: {ZONE}, whenUnsatisfiable: DoNotSchedule}}]\n");
    let yaml = [pool("default", &[ANY_CT]), pods("n", 2, "1", "{app: n}", &nil)].concat();
    let r = run(&cat(), &yaml);
    assert_eq!(layout(&r), [["n0", "n1"]]);
    let yaml = [pool("default", &[ANY_CT]), pods("n", 2, "1", "{app: n}", &spread(ZONE, 1, "DoNotSchedule", "n", ""))].concat();
    assert_eq!(run(&cat(), &yaml).nodeclaims.len(), 2);
}

// ---------- pod affinity ----------

fn affinity(kind: &str, key: &str, app: &str) -> String {
    format!("  affinity: {{{kind}: {{requiredDuringSchedulingIgnoredDuringExecution: [{{topologyKey: {key}, labelSelector: {{matchLabels: {{app: {app}}}}}}}]}}}}\n")
}

fn preferred(kind: &str, key: &str, app: &str) -> String {
    format!("  affinity: {{{kind}: {{preferredDuringSchedulingIgnoredDuringExecution: [{{weight: 10, podAffinityTerm: {{topologyKey: {key}, labelSelector: {{matchLabels: {{app: {app}}}}}}}}}]}}}}\n")
}

#[test]
fn zone_affinity_follows_a_target_scheduled_later_in_the_batch() {
    let yaml = [
        pool("default", &[]),
        pod("follower", "3", "", "{app: f}", &affinity("podAffinity", ZONE, "t")),
        pod("target", "2", "", "{app: t}", "  nodeSelector: {topology.kubernetes.io/zone: test-zone-2}\n"),
    ]
    .concat();
    let r = run(&cat(), &yaml);
    assert_eq!(zone_of(&r, "target"), "test-zone-2");
    assert_eq!(zone_of(&r, "follower"), "test-zone-2");
    assert_eq!(r.nodeclaims.len(), 2, "3 + 2 cpu do not fit one type");
}

#[test]
fn affinity_to_an_absent_target_is_unschedulable() {
    let yaml = [pool("default", &[]), pod("lonely", "1", "", "{app: l}", &affinity("podAffinity", ZONE, "nobody"))].concat();
    let r = run(&cat(), &yaml);
    assert!(unschedulable(&r, "lonely").contains("pod affinity"), "{:?}", r.unschedulable);
}

#[test]
fn self_affinity_bootstraps_one_domain() {
    let yaml = [pool("default", &[]), pods("z", 3, "3", "{app: z}", &affinity("podAffinity", ZONE, "z"))].concat();
    let r = run(&cat(), &yaml);
    assert_eq!(r.nodeclaims.len(), 3);
    let z = zones(&r, "z");
    assert!(z.iter().all(|x| *x == z[0]), "{z:?}");
    let yaml = [pool("default", &[]), pods("h", 3, "1", "{app: h}", &affinity("podAffinity", HOST, "h"))].concat();
    assert_eq!(layout(&run(&cat(), &yaml)), [["h0", "h1", "h2"]]);
}

#[test]
fn affinity_to_an_existing_pod() {
    let yaml = [
        pool("default", &[]),
        node_in("old", "test-zone-3", ""),
        bound_pod("db", "old", "7", "{app: db}", ""),
        pod("app", "2", "", "{app: x}", &affinity("podAffinity", ZONE, "db")),
    ]
    .concat();
    let r = run(&cat(), &yaml);
    assert_eq!(zone_of(&r, "app"), "test-zone-3", "the node is full, a new claim in the target's zone");
}

// ---------- pod anti-affinity ----------

#[test]
fn hostname_and_zone_self_anti_affinity() {
    let yaml = [pool("default", &[]), pods("h", 3, "100m", "{app: h}", &affinity("podAntiAffinity", HOST, "h"))].concat();
    assert_eq!(run(&cat(), &yaml).nodeclaims.len(), 3);
    // late committal: the first pod's claim may land in any of the three zones, so it blocks all
    // of them and only one pod schedules per batch (Karpenter "should support pod anti-affinity with
    // a zone topology")
    let yaml = [pool("default", &[ANY_CT]), pods("z", 4, "100m", "{app: z}", &affinity("podAntiAffinity", ZONE, "z"))].concat();
    let r = run(&cat(), &yaml);
    assert_eq!(layout(&r), [["z0"]]);
    assert_eq!(req(&r.nodeclaims[0], ZONE), Some("In [test-zone-1, test-zone-2, test-zone-3]"));
    assert!(unschedulable(&r, "z3").contains("anti-affinity"), "{:?}", r.unschedulable);
    // pinned by their own selectors, three zones can each take one
    let yaml: String = [pool("default", &[ANY_CT])]
        .into_iter()
        .chain((1..=3).map(|i| pod(&format!("p{i}"), "100m", "", "{app: z}", &format!("{}  nodeSelector: {{topology.kubernetes.io/zone: test-zone-{i}}}\n", affinity("podAntiAffinity", ZONE, "z")))))
        .collect();
    let r = run(&cat(), &yaml);
    assert_eq!(zones(&r, "p"), ["test-zone-1", "test-zone-2", "test-zone-3"]);
}

#[test]
fn preferred_anti_affinity_is_relaxed_when_it_cannot_be_met() {
    let yaml = [pool("default", &[ANY_CT]), pods("z", 3, "100m", "{app: z}", &preferred("podAntiAffinity", ZONE, "z"))].concat();
    let r = run(&cat(), &yaml);
    assert!(r.unschedulable.is_empty());
    let relaxed: Vec<&str> = r.relaxations.iter().map(|x| x.pod.as_str()).collect();
    assert_eq!(relaxed, ["default/z1", "default/z2"], "z0 blocks every zone; the others drop the preference");
    assert_eq!(r.relaxations[0].relaxed, ["removed preferred pod anti-affinity on topology.kubernetes.io/zone (weight 10)"]);
    // after relaxing, they join z0's in-flight claim
    assert_eq!(layout(&r), [["z0", "z1", "z2"]]);
}

#[test]
fn inverse_anti_affinity_of_an_existing_pod_keeps_selected_pods_out_of_its_zone() {
    let yaml = [
        pool("default", &[ANY_CT]),
        node_in("old", "test-zone-1", ""),
        bound_pod("guard", "old", "100m", "{app: g}", &affinity("podAntiAffinity", ZONE, "web")),
        pod("web", "1", "", "{app: web}", ""),
        pod("other", "1", "", "{app: other}", ""),
    ]
    .concat();
    let r = run(&cat(), &yaml);
    assert_eq!(existing_of(&r, "other").as_deref(), Some("old"));
    assert_eq!(existing_of(&r, "web"), None);
    let nc = claim(&r, "web");
    assert_eq!(req(nc, ZONE), Some("In [test-zone-2, test-zone-3]"));
    assert_eq!(nc.zone, "test-zone-2");
}

#[test]
fn anti_affinity_blocks_every_zone_of_an_unpinned_claim() {
    // "web" schedules first (more cpu) on a claim not pinned to a zone; the anti-affine pod must
    // then treat all of web's possible zones as taken
    let yaml = [pool("default", &[]), pod("web", "2", "", "{app: web}", ""), pod("anti", "100m", "", "{app: a}", &affinity("podAntiAffinity", ZONE, "web"))].concat();
    let r = run(&cat(), &yaml);
    assert!(claim_of(&r, "web").is_some());
    assert!(unschedulable(&r, "anti").contains("anti-affinity"), "{:?}", r.unschedulable);
    // pinned to a zone, web only blocks that zone
    let yaml = [
        pool("default", &[]),
        pod("web", "2", "", "{app: web}", "  nodeSelector: {topology.kubernetes.io/zone: test-zone-1}\n"),
        pod("anti", "100m", "", "{app: a}", &affinity("podAntiAffinity", ZONE, "web")),
    ]
    .concat();
    let r = run(&cat(), &yaml);
    assert_eq!(zone_of(&r, "anti"), "test-zone-2");
}

#[test]
fn inverse_anti_affinity_of_batch_pods() {
    // Karpenter "should not violate pod anti-affinity on zone (inverse)": the pinned anti-affine
    // pods go first (more cpu), then "web" finds every zone blocked
    let mut yaml = vec![pool("default", &[ANY_CT])];
    for i in 1..=3 {
        yaml.push(pod(&format!("anti{i}"), "2", "", "{app: a}", &format!("{}  nodeSelector: {{topology.kubernetes.io/zone: test-zone-{i}}}\n", affinity("podAntiAffinity", ZONE, "web"))));
    }
    yaml.push(pod("web", "1", "", "{app: web}", ""));
    let r = run(&cat(), &yaml.concat());
    assert_eq!(zones(&r, "anti"), ["test-zone-1", "test-zone-2", "test-zone-3"]);
    assert!(unschedulable(&r, "web").contains("anti-affinity"), "{:?}", r.unschedulable);
    // with only zone 1 taken, web goes elsewhere ("Schrödinger": an unpinned one would block all)
    let yaml = [
        pool("default", &[ANY_CT]),
        pod("anti1", "2", "", "{app: a}", &format!("{}  nodeSelector: {{topology.kubernetes.io/zone: test-zone-1}}\n", affinity("podAntiAffinity", ZONE, "web"))),
        pod("web", "1", "", "{app: web}", ""),
    ]
    .concat();
    let r = run(&cat(), &yaml);
    assert_eq!(req(claim(&r, "web"), ZONE), Some("In [test-zone-2, test-zone-3]"));
}

/// Existing nodes are tried first for every pod (`scheduler.go: add`), and a node rejected for skew
/// is tried again once the counts have changed within the batch: with nodes in three zones holding
/// 2/1/1 matching pods, five new spread pods all fit on the existing nodes and nothing is launched.
#[test]
fn existing_node_rejected_for_skew_is_retried_after_counts_change() {
    let yaml = [
        pool("default", &[ANY_CT]),
        node_in("n1", "test-zone-1", ""),
        node_in("n2", "test-zone-2", ""),
        node_in("n3", "test-zone-3", ""),
        bound_pod("e0", "n1", "100m", "{app: s}", ""),
        bound_pod("e1", "n1", "100m", "{app: s}", ""),
        bound_pod("e2", "n2", "100m", "{app: s}", ""),
        bound_pod("e3", "n3", "100m", "{app: s}", ""),
        pods("s", 5, "1", "{app: s}", &spread(ZONE, 1, "DoNotSchedule", "s", "")),
    ]
    .concat();
    let r = run(&cat(), &yaml);
    assert!(r.nodeclaims.is_empty(), "every pod fits an existing node: {:#?}", r.nodeclaims);
    let mut per_node: Vec<(String, usize)> = r.existing_nodes.iter().map(|n| (n.name.clone(), n.pods.len())).collect();
    per_node.sort();
    // final counts 3/3/3: n1 gets one, n2 and n3 two each
    assert_eq!(per_node, [("n1".to_string(), 1), ("n2".to_string(), 2), ("n3".to_string(), 2)]);
}

/// Karpenter v1.14.1 builds the topology domain universe from every instance type of each NodePool
/// (all types of its node class, intersected per key with the NodePool's requirements,
/// `topology.go: buildDomainGroups`), so a zone only instance types the NodePool cannot launch are
/// offered in still counts (kubernetes-sigs/karpenter#3272): with maxSkew 1 the third replica can
/// only go there and stays pending, with a reason and a warning that say why.
/// `--topology-domains launchable` counts only the domains a NodePool can launch in.
#[test]
fn zone_offered_only_by_types_the_pool_cannot_launch() {
    let cat = catalog(&[
        it("a", 4, 8, 10).offers(&[("zone-1", "on-demand", 0.1), ("zone-2", "on-demand", 0.1)]),
        it("b", 4, 8, 10).offers(&[("zone-3", "on-demand", 0.1)]),
    ]);
    let only_a = "{key: node.kubernetes.io/instance-type, operator: In, values: [a]}";
    let yaml = [pool("default", &[only_a]), pods("s", 3, "1", "{app: s}", &spread(ZONE, 1, "DoNotSchedule", "s", ""))].concat();
    let r = run(&cat, &yaml);
    assert_eq!(zones(&r, "s"), ["zone-1", "zone-2"]);
    let why = unschedulable(&r, "s2");
    assert!(why.contains("zone-3") && why.contains("karpenter#3272") && why.contains("--topology-domains launchable"), "{why}");
    assert!(r.warnings.iter().any(|w| w.contains("zone-3") && w.contains("1 pod")), "{:?}", r.warnings);

    let launchable = ProvisionOptions { topology_domains: TopologyDomains::Launchable, ..Default::default() };
    let r = run_with(&cat, &yaml, &launchable);
    assert!(r.unschedulable.is_empty(), "{:?}", r.unschedulable);
    assert_eq!(zones(&r, "s"), ["zone-1", "zone-1", "zone-2"]);
}

/// The same on the embedded us-east-1 catalog: c/m/r generation > 5 types are not offered in
/// us-east-1e, older types are. A tie between minimum domains is retried on another tied domain
/// (Karpenter picks one at random on each attempt), so five zones fill before the rest wait on
/// us-east-1e.
#[test]
fn us_east_1e_counts_as_a_domain_for_a_current_generation_nodepool() {
    let np = "---\napiVersion: karpenter.sh/v1\nkind: NodePool\nmetadata: {name: default}\nspec:\n  template:\n    spec:\n      nodeClassRef: {group: karpenter.k8s.aws, kind: EC2NodeClass, name: default}\n      requirements:\n      - {key: karpenter.k8s.aws/instance-category, operator: In, values: [c, m, r]}\n      - {key: karpenter.k8s.aws/instance-generation, operator: Gt, values: ['5']}\n";
    let anti = "  affinity: {podAntiAffinity: {requiredDuringSchedulingIgnoredDuringExecution: [{topologyKey: kubernetes.io/hostname, labelSelector: {matchLabels: {app: s}}}]}}\n";
    let yaml = [np.to_string(), pods("s", 8, "500m", "{app: s}", &format!("{}{anti}", spread(ZONE, 1, "DoNotSchedule", "s", "")))].concat();
    let run_aws = |opts: &ProvisionOptions| {
        let mut i = karpsim::io::Inputs::new();
        i.load_str(&yaml, "test.yaml").unwrap();
        let catalog = karpsim::catalog::CatalogSource::parse("aws:us-east-1").unwrap();
        let s = karpsim::state::ClusterState::from_inputs(i.finish().unwrap(), &catalog).unwrap();
        karpsim::scheduling::provision(&s, opts)
    };
    let r = run_aws(&ProvisionOptions::default());
    let mut z: Vec<String> = r.nodeclaims.iter().map(|n| n.zone.clone()).collect();
    z.sort();
    assert_eq!(z, ["us-east-1a", "us-east-1b", "us-east-1c", "us-east-1d", "us-east-1f"]);
    assert_eq!(r.unschedulable.len(), 3);
    assert!(r.unschedulable.iter().all(|u| u.reason.contains("us-east-1e") && u.reason.contains("karpenter#3272")), "{:?}", r.unschedulable);
    let r = run_aws(&ProvisionOptions { topology_domains: TopologyDomains::Launchable, ..Default::default() });
    assert!(r.unschedulable.is_empty(), "{:?}", r.unschedulable);
    assert_eq!(r.nodeclaims.len(), 8);
    assert!(r.nodeclaims.iter().all(|n| n.zone != "us-east-1e"));
}
