//! Capacity reservations: the scheduler's pessimistic holds and deferrals, later batches, the AWS
//! provider's reserved offerings, launch choice, labels and expiry. Each test names the Karpenter
//! v1.14.1 test it follows (core `pkg/controllers/provisioning/scheduling/suite_test.go`
//! "Reserved Instance Types" unless another file is named).

mod common;

use common::*;
use karpsim::catalog::{CatalogSource, PriceSource, parse_custom_catalog};
use karpsim::io::{Inputs, parse_reservation_option};
use karpsim::scheduling::{NodeClaimResult, ProvisionOptions, ProvisionResult, provision};
use karpsim::state::ClusterState;
use std::sync::Arc;

/// Karpenter's suite: large (6 cpu), medium (3) and small (2); medium and small each have one
/// reserved instance in test-zone-1 (`r-<name>`), priced `PriceFromResources / 100_000`.
fn reserved_catalog(extra: &[(&str, &str, i64)]) -> String {
    let mut v: serde_json::Value = serde_json::from_str(&catalog(&[
        it("large-instance-type", 6, 6, 10),
        it("medium-instance-type", 3, 3, 10),
        it("small-instance-type", 2, 2, 10),
    ]))
    .unwrap();
    let mut reserve = |name: &str, id: &str, count: i64| {
        let t = v["instance_types"].as_array_mut().unwrap().iter_mut().find(|t| t["name"] == name).unwrap();
        let price = t["offerings"][0]["price"].as_f64().unwrap() / 100_000.0;
        t["offerings"].as_array_mut().unwrap().push(serde_json::json!({
            "zone": "test-zone-1", "capacity_type": "reserved", "price": price, "reservation_id": id, "count": count
        }));
    };
    reserve("medium-instance-type", "cr-medium", 1);
    reserve("small-instance-type", "cr-small", 1);
    for (name, id, count) in extra {
        reserve(name, id, *count);
    }
    v.to_string()
}

const ALL_CT: &str = "{key: karpenter.sh/capacity-type, operator: In, values: [spot, on-demand, reserved]}";

fn run_state(s: &ClusterState) -> ProvisionResult {
    let r = provision(s, &ProvisionOptions::default());
    check_invariants(s, &r);
    r
}

fn from_inputs(catalog_json: &str, yaml: &str, reservations: &[&str]) -> ClusterState {
    let cat = CatalogSource::Custom(Arc::new(parse_custom_catalog("test-catalog", catalog_json).unwrap()));
    let mut i = Inputs::new();
    i.load_str(yaml, "test.yaml").unwrap_or_else(|e| panic!("{e}"));
    i.add_reservations(reservations.iter().map(|r| parse_reservation_option(r).unwrap())).unwrap();
    ClusterState::from_inputs(i.finish().unwrap(), &cat).unwrap()
}

fn reserved_of(nc: &NodeClaimResult) -> Option<&str> {
    assert_eq!(nc.reservation_id.is_some(), nc.capacity_type == "reserved", "{nc:?}");
    nc.reservation_id.as_deref()
}

/// Pods `p0..pN` with hostname anti-affinity among themselves (`app: test`) and extra spec lines.
fn spread_pods(n: usize, node_affinity: &str) -> String {
    (0..n)
        .map(|i| {
            pod(
                &format!("p{i}"),
                "",
                "",
                "{app: test}",
                &format!(
                    "  affinity:\n    podAntiAffinity:\n      requiredDuringSchedulingIgnoredDuringExecution:\n      - labelSelector: {{matchLabels: {{app: test}}}}\n        topologyKey: kubernetes.io/hostname\n{node_affinity}"
                ),
            )
        })
        .collect()
}

fn requires(terms: &[&str]) -> String {
    let mut s = "    nodeAffinity:\n      requiredDuringSchedulingIgnoredDuringExecution:\n        nodeSelectorTerms:\n        - matchExpressions:\n".to_string();
    for t in terms {
        s += &format!("          - {t}\n");
    }
    s
}

const SMALL: &str = "{key: node.kubernetes.io/instance-type, operator: In, values: [small-instance-type]}";

#[test]
fn no_fallback_while_compatible_reserved_offerings_are_available() {
    // "shouldn't fallback to on-demand or spot when compatible reserved offerings are available":
    // one NodeClaim holds both reservations, so each batch launches one reserved node, and only the
    // third falls back.
    let pods: String = (0..3).map(|i| pod(&format!("p{i}"), "1800m", "", "", "")).collect();
    let yaml = format!("{}{pods}", pool("default", &[ALL_CT]));
    let r = run(&reserved_catalog(&[]), &yaml);
    assert_eq!(r.nodeclaims.len(), 3, "{r:#?}");
    let got: Vec<(&str, Option<&str>, usize)> = r.nodeclaims.iter().map(|n| (n.instance_type.as_str(), reserved_of(n), n.batch)).collect();
    assert_eq!(got, vec![("small-instance-type", Some("cr-small"), 1), ("medium-instance-type", Some("cr-medium"), 2), ("small-instance-type", None, 3)]);
    assert_eq!(r.nodeclaims[0].requirements.iter().find(|x| x.starts_with("karpenter.sh/capacity-type")).unwrap(), "karpenter.sh/capacity-type In [reserved]");
    assert!(r.warnings.iter().any(|w| w.contains("waited for capacity reservations") && w.contains("3 batches")), "{:?}", r.warnings);
    // a saved result reads back as it was (the first batch is not written; Python pickles this way)
    let json = serde_json::to_string(&r).unwrap();
    assert_eq!(serde_json::from_str::<ProvisionResult>(&json).unwrap(), r);
}

#[test]
fn a_reservation_shared_by_two_nodepools_is_counted_once() {
    // "should correctly track reservations shared across nodepools"
    let np = |i: usize| requires(&[SMALL, &format!("{{key: karpenter.sh/nodepool, operator: In, values: [np-{i}]}}")]);
    let yaml = format!("{}{}{}{}", pool("np-1", &[ALL_CT]), pool("np-2", &[ALL_CT]), spread_pods(1, &np(1)), spread_pods(2, &np(2)).replacen("name: p0,", "name: px,", 1).replacen("uid: p0,", "uid: px,", 1).split("---").filter(|d| d.contains("name: p1")).map(|d| format!("---{d}")).collect::<String>());
    let r = run(&reserved_catalog(&[]), &yaml);
    assert_eq!(r.nodeclaims.len(), 2, "{r:#?}");
    assert_eq!(reserved_of(&r.nodeclaims[0]), Some("cr-small"));
    assert_eq!((reserved_of(&r.nodeclaims[1]), r.nodeclaims[1].batch, r.nodeclaims[1].instance_type.as_str()), (None, 2, "small-instance-type"));
}

#[test]
fn distinct_reservations_of_two_nodeclasses_are_used_at_once() {
    // "should correctly track reservations for multiple nodepools with distinct reservations for the
    // same instance pool": here each NodePool's EC2NodeClass selects its own reservation.
    let nodeclass = |name: &str, id: &str| {
        format!("---\napiVersion: karpenter.k8s.aws/v1\nkind: EC2NodeClass\nmetadata: {{name: {name}}}\nspec:\n  amiFamily: AL2023\n  capacityReservationSelectorTerms: [{{id: {id}}}]\n")
    };
    let np = |i: usize| requires(&[SMALL, &format!("{{key: karpenter.sh/nodepool, operator: In, values: [np-{i}]}}")]);
    let yaml = format!(
        "{}{}{}{}{}{}",
        pool("np-1", &[ALL_CT]).replace("name: default}", "name: one}"),
        pool("np-2", &[ALL_CT]).replace("name: default}", "name: two}"),
        nodeclass("one", "cr-aaa"),
        nodeclass("two", "cr-bbb"),
        spread_pods(1, &np(1)),
        spread_pods(2, &np(2)).split("---").filter(|d| d.contains("name: p1")).map(|d| format!("---{d}")).collect::<String>()
    );
    let plain = catalog(&[it("small-instance-type", 2, 2, 10)]);
    let s = from_inputs(&plain, &yaml, &[
        "id=cr-aaa,count=1,instance-type=small-instance-type,zone=test-zone-1",
        "id=cr-bbb,count=1,instance-type=small-instance-type,zone=test-zone-1",
    ]);
    let r = run_state(&s);
    let mut ids: Vec<Option<&str>> = r.nodeclaims.iter().map(reserved_of).collect();
    ids.sort();
    assert_eq!(ids, vec![Some("cr-aaa"), Some("cr-bbb")], "{r:#?}");
    assert!(r.nodeclaims.iter().all(|n| n.batch == 1));
}

#[test]
fn several_reservations_of_one_type_are_all_used_before_falling_back() {
    // "should correctly track multiple reservations for the same instance pool": cr-small (1) and
    // cr-small-2 (2) for small; four spread pods: 2 reserved in the first batch, 1 in the second,
    // the last on spot or on-demand.
    let yaml = format!("{}{}", pool("default", &[ALL_CT]), spread_pods(4, &requires(&[SMALL])));
    let r = run(&reserved_catalog(&[("small-instance-type", "cr-small-2", 2)]), &yaml);
    let per_batch: Vec<(usize, bool)> = r.nodeclaims.iter().map(|n| (n.batch, reserved_of(n).is_some())).collect();
    assert_eq!(per_batch, vec![(1, true), (1, true), (2, true), (3, false)], "{r:#?}");
    // the launch takes the reservation with the most instances left (ReservedOfferingFilter)
    assert_eq!(reserved_of(&r.nodeclaims[0]), Some("cr-small-2"));
}

#[test]
fn a_lighter_nodepool_is_not_tried_while_a_heavier_one_has_reserved_capacity() {
    // "shouldn't fallback to a lower weight NodePool if a reserved offering is available"
    let nodeclass = |name: &str, id: &str| {
        format!("---\napiVersion: karpenter.k8s.aws/v1\nkind: EC2NodeClass\nmetadata: {{name: {name}}}\nspec:\n  amiFamily: AL2023\n  capacityReservationSelectorTerms: [{{id: {id}}}]\n")
    };
    let yaml = format!(
        "{}{}{}{}{}",
        pool_full("np-primary", 100, &[ALL_CT], "", "", "").replace("name: default}", "name: primary}"),
        pool_full("np-fallback", 50, &[ALL_CT], "", "", "").replace("name: default}", "name: fallback}"),
        nodeclass("primary", "cr-primary"),
        nodeclass("fallback", "cr-fallback"),
        spread_pods(2, &requires(&[SMALL]))
    );
    let s = from_inputs(&catalog(&[it("small-instance-type", 2, 2, 10)]), &yaml, &[
        "id=cr-primary,count=1,instance-type=small-instance-type,zone=test-zone-1",
        "id=cr-fallback,count=1,instance-type=small-instance-type,zone=test-zone-1",
    ]);
    let r = run_state(&s);
    let got: Vec<(&str, Option<&str>, usize)> = r.nodeclaims.iter().map(|n| (n.nodepool.as_str(), reserved_of(n), n.batch)).collect();
    assert_eq!(got, vec![("np-primary", Some("cr-primary"), 1), ("np-primary", None, 2)], "{r:#?}");
}

#[test]
fn a_pod_waiting_for_reserved_capacity_keeps_its_preferences() {
    // "shouldn't relax preferences when a pod fails to schedule due to a reserved offering error":
    // both pods prefer np-1; the second is deferred, not relaxed onto np-2 (which sorts first by
    // name and has a free reservation), and lands on np-1 without a reservation.
    let nodeclass = |name: &str, id: &str| {
        format!("---\napiVersion: karpenter.k8s.aws/v1\nkind: EC2NodeClass\nmetadata: {{name: {name}}}\nspec:\n  amiFamily: AL2023\n  capacityReservationSelectorTerms: [{{id: {id}}}]\n")
    };
    let prefer = format!(
        "{}    nodeAffinity:\n      requiredDuringSchedulingIgnoredDuringExecution:\n        nodeSelectorTerms:\n        - matchExpressions:\n          - {SMALL}\n      preferredDuringSchedulingIgnoredDuringExecution:\n      - weight: 1\n        preference:\n          matchExpressions:\n          - {{key: karpenter.sh/nodepool, operator: In, values: [np-1]}}\n",
        ""
    );
    let yaml = format!(
        "{}{}{}{}{}",
        pool("np-1", &[ALL_CT]).replace("name: default}", "name: one}"),
        pool("np-2", &[ALL_CT]).replace("name: default}", "name: two}"),
        nodeclass("one", "cr-one"),
        nodeclass("two", "cr-two"),
        spread_pods(2, &prefer)
    );
    let s = from_inputs(&catalog(&[it("small-instance-type", 2, 2, 10)]), &yaml, &[
        "id=cr-one,count=1,instance-type=small-instance-type,zone=test-zone-1",
        "id=cr-two,count=1,instance-type=small-instance-type,zone=test-zone-1",
    ]);
    let r = run_state(&s);
    let got: Vec<(&str, Option<&str>, usize)> = r.nodeclaims.iter().map(|n| (n.nodepool.as_str(), reserved_of(n), n.batch)).collect();
    assert_eq!(got, vec![("np-1", Some("cr-one"), 1), ("np-1", None, 2)], "{r:#?}");
    assert!(r.relaxations.is_empty(), "{:?}", r.relaxations);
}

#[test]
fn pods_with_zone_affinity_share_one_reserved_node() {
    // "should handle multiple pods on reserved nodes"
    let terms = requires(&[
        SMALL,
        "{key: karpenter.sh/nodepool, operator: In, values: [np-1]}",
        "{key: karpenter.sh/capacity-type, operator: In, values: [reserved]}",
        "{key: topology.kubernetes.io/zone, operator: In, values: [test-zone-1]}",
    ]);
    let affinity = format!("  affinity:\n{terms}    podAffinity:\n      requiredDuringSchedulingIgnoredDuringExecution:\n      - labelSelector: {{matchLabels: {{app: test}}}}\n        topologyKey: topology.kubernetes.io/zone\n");
    let pods: String = (0..2).map(|i| pod(&format!("p{i}"), "", "", "{app: test}", &affinity)).collect();
    let r = run(&reserved_catalog(&[]), &format!("{}{pods}", pool("np-1", &[ALL_CT])));
    assert_eq!(r.nodeclaims.len(), 1, "{r:#?}");
    assert_eq!(r.nodeclaims[0].pods.len(), 2);
    assert_eq!(reserved_of(&r.nodeclaims[0]), Some("cr-small"));
}

#[test]
fn a_nodepool_without_reserved_capacity_type_never_uses_reservations() {
    // `karpenter.sh/capacity-type` must allow `reserved` (offering compatibility, types.go)
    let r = run(&reserved_catalog(&[]), &format!("{}{}", pool("default", &[ANY_CT]), pod("p", "1", "", "", "")));
    assert_eq!((r.nodeclaims.len(), reserved_of(&r.nodeclaims[0])), (1, None));
}

#[test]
fn reserved_aws_offerings_follow_the_nodeclass_status_and_the_user_counts() {
    // AWS provider `offering/reserved_capacity_resolver.go` (price = on-demand ÷ 10,000,000, available
    // while the reservation has instances and is in one of the type's zones), and
    // `pkg/controllers/nodeclass/capacityreservation_test.go` "should resolve capacity reservations by tags".
    let yaml = "apiVersion: karpenter.k8s.aws/v1\nkind: EC2NodeClass\nmetadata: {name: default}\nspec:\n  amiFamily: AL2023\n  capacityReservationSelectorTerms: [{tags: {team: ml}}]\nstatus:\n  capacityReservations:\n  - {id: cr-status, instanceType: m5.large, availabilityZone: us-east-1b, instanceMatchCriteria: targeted, ownerID: '012345678901', reservationType: default}\n---\napiVersion: karpenter.sh/v1\nkind: NodePool\nmetadata: {name: default}\nspec:\n  template:\n    spec:\n      nodeClassRef: {group: karpenter.k8s.aws, kind: EC2NodeClass, name: default}\n      requirements: [{key: karpenter.sh/capacity-type, operator: In, values: [reserved, on-demand]}]\n";
    let load = |reservations: &[&str]| {
        let mut i = Inputs::new();
        i.load_str(yaml, "t.yaml").unwrap();
        i.add_reservations(reservations.iter().map(|r| parse_reservation_option(r).unwrap())).unwrap();
        ClusterState::from_inputs(i.finish().unwrap(), &CatalogSource::default_aws()).unwrap()
    };
    let reserved = |s: &ClusterState, it: &str| {
        let t = s.pool_types[&karpsim::labels::Sym::new("default")].types.iter().find(|t| t.it.name.as_str() == it).unwrap().clone();
        t.it.offerings.iter().filter(|o| o.reservation.is_some()).cloned().collect::<Vec<_>>()
    };
    // the status names the reservation, but nothing says how many instances it has: 0, and a warning
    let s = load(&[]);
    let o = &reserved(&s, "m5.large")[0];
    assert!(!o.available && o.price_source == PriceSource::Reservation);
    assert!((o.price - 0.096 / 10_000_000.0).abs() < 1e-15, "{}", o.price);
    assert!(s.warnings.iter().any(|w| w.contains("cr-status") && w.contains("no count")), "{:?}", s.warnings);
    // a count; and a reservation selected by tag that the status does not list yet
    let s = load(&["id=cr-status,count=3", "id=cr-tagged,count=2,instance-type=c5.large,zone=us-east-1a"]);
    assert!(reserved(&s, "m5.large")[0].available);
    assert!(s.warnings.iter().any(|w| w.contains("cr-tagged") && w.contains("selected by no")), "not selected without the tag: {:?}", s.warnings);
    let mut i = Inputs::new();
    i.load_str(yaml, "t.yaml").unwrap();
    let mut spec = parse_reservation_option("id=cr-tagged,count=2,instance-type=c5.large,zone=us-east-1a").unwrap();
    spec.tags.insert("team".into(), "ml".into());
    i.add_reservations([spec]).unwrap();
    let s = ClusterState::from_inputs(i.finish().unwrap(), &CatalogSource::default_aws()).unwrap();
    assert!(!s.warnings.iter().any(|w| w.contains("selected by no")), "{:?}", s.warnings);
    let c5 = reserved(&s, "c5.large");
    assert_eq!((c5.len(), c5[0].available, c5[0].reservation.as_ref().unwrap().capacity), (1, true, 2));
    // a reservation in a zone the type is not offered in is unavailable
    let s = load(&["id=cr-status,count=3", "id=cr-nowhere,count=2,instance-type=c5.large,zone=us-east-1e"]);
    let o = reserved(&s, "c5.large");
    assert!(o.iter().all(|o| !o.available), "{o:?}");
}

#[test]
fn a_reserved_launch_carries_the_reservation_labels() {
    // AWS provider `instance.go: NewInstanceFromFleet` with `WithCapacityReservationDetails`:
    // capacity-reservation-id and -type labels on the node (here, what a consolidation replacement
    // or the simulator launches); `getCapacityType`: reserved first.
    let yaml = format!("{}{}", pool("default", &[ALL_CT]), pod("p", "1", "", "", ""));
    let s = from_inputs(&catalog(&[it("small-instance-type", 2, 2, 10)]), &yaml, &["id=cr-abc,count=1,instance-type=small-instance-type,zone=test-zone-2,type=capacity-block,end=2030-01-01T00:00:00Z"]);
    let view = karpsim::scheduling::ClusterView::new(&s, ProvisionOptions::default().min_values_policy);
    let pods: Vec<&karpsim::model::Pod> = s.pods.iter().collect();
    let scope = karpsim::scheduling::ScheduleScope { pending: pods.iter().map(|p| p.uid).collect(), ..Default::default() };
    let sol = karpsim::scheduling::schedule_on(&view, pods, &scope, &ProvisionOptions::default());
    let r = karpsim::disruption::Replacement::launch(&sol.claims[0], Default::default()).unwrap();
    assert_eq!((r.capacity_type.as_str(), r.zone.as_str(), r.reservation_id.as_deref()), ("reserved", "test-zone-2", Some("cr-abc")));
    let node = karpsim::disruption::NewNode::from_claim(&sol.claims[0], &r);
    let label = |k: &str| node.labels.get(&karpsim::labels::Sym::new(k)).map(|v| v.as_str());
    assert_eq!(label("karpenter.k8s.aws/capacity-reservation-id"), Some("cr-abc"));
    assert_eq!(label("karpenter.k8s.aws/capacity-reservation-type"), Some("capacity-block"));
    assert_eq!(label("karpenter.sh/capacity-type"), Some("reserved"));
}

#[test]
fn the_cheapest_reservation_type_launches_and_ties_prefer_odcrs() {
    // AWS provider `pkg/providers/instance/filter/filter_test.go` "CapacityReservationTypeFilter":
    // the cheapest partition wins; at equal price an On-Demand Capacity Reservation before a
    // capacity block.
    let yaml = format!("{}{}", pool("default", &[ALL_CT]), pod("p", "1", "", "", ""));
    let cat = catalog(&[it("small-instance-type", 2, 2, 10), it("other-instance-type", 2, 2, 10)]);
    let s = from_inputs(&cat, &yaml, &[
        "id=cr-block,count=1,instance-type=small-instance-type,zone=test-zone-1,type=capacity-block,end=2030-01-01T00:00:00Z",
        "id=cr-odcr,count=1,instance-type=other-instance-type,zone=test-zone-1",
    ]);
    let r = run_state(&s);
    assert_eq!(reserved_of(&r.nodeclaims[0]), Some("cr-odcr"), "{r:#?}");
}

#[test]
fn nodes_of_an_expiring_capacity_block_are_deleted_and_others_kept() {
    // AWS provider `pkg/controllers/capacityreservation/expiration/suite_test.go`: "should delete
    // nodeclaims associated with expiring capacity-block reservations" and "should not delete
    // nodeclaims associated with standard capacity reservations within the capacity block
    // expiration window".
    let node = |name: &str, id: &str| {
        node(
            name,
            &format!("karpenter.sh/nodepool: default, node.kubernetes.io/instance-type: small-instance-type, topology.kubernetes.io/zone: test-zone-1, karpenter.sh/capacity-type: reserved, karpenter.k8s.aws/capacity-reservation-id: {id}, karpenter.sh/initialized: 'true'"),
            "2",
            "2Gi",
            10,
            "",
        )
        .replace(&format!("metadata: {{name: {name},"), &format!("metadata: {{name: {name}, creationTimestamp: '2026-11-23T00:00:00Z',"))
    };
    let yaml = format!("{}{}{}", pool("default", &[ALL_CT]), node("block-node", "cr-block"), node("odcr-node", "cr-odcr"));
    let s = from_inputs(&catalog(&[it("small-instance-type", 2, 2, 10)]), &yaml, &[
        "id=cr-block,count=0,instance-type=small-instance-type,zone=test-zone-1,type=capacity-block,end=2026-11-23T02:00:00Z",
        "id=cr-odcr,count=0,instance-type=small-instance-type,zone=test-zone-1,end=2026-11-23T02:00:00Z",
    ]);
    let at = |t: &str| {
        let opts = karpsim::disruption::DisruptionOptions { now: karpsim::io::parse_rfc3339(t), ..Default::default() };
        karpsim::disruption::disrupt_once(&s, &opts)
    };
    let expiring = |r: &karpsim::disruption::DisruptionResult| -> Vec<String> {
        r.commands.iter().filter(|c| c.method == karpsim::disruption::Method::Expiration).flat_map(|c| c.nodes.clone()).collect()
    };
    // before the 40-minute window: nothing; inside it: the capacity block's node only
    assert!(expiring(&at("2026-11-23T01:19:00Z")).is_empty());
    let r = at("2026-11-23T01:20:00Z");
    assert_eq!(expiring(&r), vec!["block-node".to_string()], "{r:#?}");
    assert!(r.commands[0].reason.contains("capacity block cr-block ends at 2026-11-23T02:00:00Z"), "{}", r.commands[0].reason);
}

#[test]
fn a_reservation_selected_but_never_described_is_reported() {
    // The AWS provider learns a reservation's instance type, zone and count from EC2
    // (`nodeclass/capacityreservation.go`); karpsim needs them from a status or the user, and says
    // when they are missing rather than silently offering nothing.
    let yaml = format!(
        "{}---\napiVersion: karpenter.k8s.aws/v1\nkind: EC2NodeClass\nmetadata: {{name: default}}\nspec:\n  amiFamily: AL2023\n  capacityReservationSelectorTerms: [{{id: cr-0unknown}}]\n",
        pool("default", &[ALL_CT])
    );
    let s = from_inputs(&catalog(&[it("small-instance-type", 2, 2, 10)]), &yaml, &[]);
    assert!(s.warnings.iter().any(|w| w.contains("EC2NodeClass default selects capacity reservation cr-0unknown") && w.contains("no count")), "{:?}", s.warnings);
}

#[test]
fn a_cluster_what_if_launches_every_batch_and_counts_the_reservations() {
    // `compare -f` and `Cluster.with_changes`: the provisioning result launched into the cluster
    // takes the batches' reserved instances (availabilityCache.MarkLaunched), so that consolidation
    // afterwards sees the reservations used up; `reserved_count` changes the counts before.
    use karpsim::whatif::{Setup, apply, cluster::provision_and_launch};
    let pods: String = (0..3).map(|i| pod(&format!("p{i}"), "1800m", "", "", "")).collect();
    let yaml = format!("{}{pods}", pool("default", &[ALL_CT]));
    let cat = catalog(&[it("large-instance-type", 6, 6, 10), it("medium-instance-type", 3, 3, 10), it("small-instance-type", 2, 2, 10)]);
    let s = from_inputs(
        &cat,
        &yaml,
        &["id=cr-medium,count=1,instance-type=medium-instance-type,zone=test-zone-1", "id=cr-small,count=1,instance-type=small-instance-type,zone=test-zone-1"],
    );
    let (r, after) = provision_and_launch(&s, &ProvisionOptions::default(), 0);
    assert_eq!(r.nodeclaims.len(), 3, "{r:#?}");
    assert_eq!(after.nodes.len(), 3);
    assert!(after.pods.iter().all(|p| p.node_name.is_some()));
    let count = |st: &ClusterState, id: &str| st.reservation(karpsim::labels::Sym::new(id)).and_then(|x| x.count);
    assert_eq!((count(&after, "cr-small"), count(&after, "cr-medium")), (Some(0), Some(0)));
    let reserved = after.nodes.iter().filter(|n| n.capacity_type.is_some_and(|c| c.as_str() == "reserved")).count();
    assert_eq!(reserved, 2);
    let source = CatalogSource::Custom(Arc::new(parse_custom_catalog("test-catalog", &cat).unwrap()));
    let none = apply(Setup::new(s.clone(), source.clone()), &[("reserved_count".into(), "0".into())]).unwrap().0;
    let r = provision(&none.state, &ProvisionOptions::default());
    assert!(r.nodeclaims.iter().all(|n| n.capacity_type != "reserved"), "{r:#?}");
    let e = apply(Setup::new(s, source), &[("reserved_count".into(), "cr-smal:2".into())]).unwrap_err().to_string();
    assert!(e.contains("did you mean \"cr-small\""), "{e}");
}

#[test]
fn a_pool_with_only_used_up_reservations_names_them() {
    // a reserved offering is unavailable once its reservation has no instance left
    // (`ReservationCapacity`, AWS provider `offering.go`): a pool that may only launch into it
    // launches nothing, and the warning says which reservation
    let cat = reserved_catalog(&[("large-instance-type", "cr-large", 0)]);
    let reserved_large = ["{key: karpenter.sh/capacity-type, operator: In, values: [reserved]}", "{key: node.kubernetes.io/instance-type, operator: In, values: [large-instance-type]}"];
    let r = run_state(&state(&cat, &format!("{}{}", pool("default", &reserved_large), pod("p", "1", "1Gi", "", ""))));
    assert!(r.nodeclaims.is_empty(), "{r:#?}");
    assert!(r.warnings.iter().any(|w| w.contains("NodePool default can launch nothing") && w.contains("cr-large have no instance left")), "{:?}", r.warnings);
    assert!(unschedulable(&r, "p").contains("cr-large"), "{r:#?}");
}
