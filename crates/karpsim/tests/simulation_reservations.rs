//! Capacity reservations over simulated time: instances taken by launches and given back, capacity
//! blocks reclaimed, On-Demand Capacity Reservations ending, and a sweep over reserved counts. Each
//! test names the Karpenter (AWS provider v1.14.1) test it follows.

use karpsim::sim::whatif::{self, Variant};
use karpsim::sim::{Scenario, SimOptions, simulate};

const CATALOG: &str = r#"{"instance_types": [
  {"name": "small", "capacity": {"cpu": "2", "memory": "8Gi", "pods": "20"}, "overhead": {"cpu": "100m", "memory": "100Mi"},
   "labels": {"kubernetes.io/arch": "amd64", "kubernetes.io/os": "linux"},
   "offerings": [{"zone": "z1", "capacity_type": "on-demand", "price": 0.10}, {"zone": "z2", "capacity_type": "on-demand", "price": 0.10}]}]}"#;

const MANIFESTS: &str = r#"apiVersion: karpenter.sh/v1
kind: NodePool
metadata: {name: default}
spec:
  template:
    spec:
      requirements:
        - {key: karpenter.sh/capacity-type, operator: In, values: [reserved, on-demand]}
  disruption: {consolidationPolicy: WhenEmptyOrUnderutilized, consolidateAfter: 30s}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: default}
spec:
  replicas: 1
  template:
    metadata: {labels: {app: web}}
    spec:
      containers: [{name: c, image: x, resources: {requests: {cpu: 1500m, memory: 512Mi}}}]
"#;

const EXACT: &str = "settings:\n  node_launch: 30s\n  node_initialize: 10s\n  node_termination: 30s\n  pod_startup: 0s\n  spot_interruptions: none\n  metrics_interval: 1m\n";

/// A scenario in a scratch directory: the catalog, the manifests and `body` (after `start`).
fn scenario(name: &str, body: &str) -> Scenario {
    let dir = std::env::temp_dir().join(format!("karpsim-simres-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("catalog.json"), CATALOG).unwrap();
    std::fs::write(dir.join("manifests.yaml"), MANIFESTS).unwrap();
    let text = format!("catalog: catalog.json\nmanifests: [manifests.yaml]\nstart: \"2026-11-23T00:00:00Z\"\n{EXACT}{body}");
    std::fs::write(dir.join("scenario.yaml"), &text).unwrap();
    Scenario::load(&dir.join("scenario.yaml")).unwrap_or_else(|e| panic!("{e}"))
}

fn launches(r: &karpsim::sim::SimResult) -> Vec<String> {
    // "<name> <type> <zone> <capacity type> $<price>/h"
    r.log.iter().filter(|l| l.kind == "launch").map(|l| l.message.split_whitespace().nth(3).unwrap_or_default().to_string()).collect()
}

#[test]
fn launches_take_instances_from_a_reservation_and_terminations_give_them_back() {
    // `pkg/cloudprovider/suite_test.go` "should mark capacity reservations as launched" / "as
    // terminated": two pods, one reserved instance: the second pod waits one batch and gets
    // on-demand; once both nodes are gone the reservation is whole again.
    let sc = scenario(
        "counts",
        "duration: 2h\nreservations:\n  - {id: cr-0aaa, count: 1, instance_type: small, zone: z1}\nworkloads:\n  - deployment: default/web\n    replicas:\n      steps: [{at: 1m, replicas: 2}, {at: 30m, replicas: 0}, {at: 60m, replicas: 1}]\n",
    );
    let r = checked(&sc);
    assert_eq!(launches(&r), ["reserved", "on-demand", "reserved"], "{:#?}", r.log);
    assert!(r.pending_at_end.is_empty());
}

#[test]
fn a_capacity_block_is_reclaimed_forty_minutes_before_it_ends() {
    // `pkg/controllers/capacityreservation/expiration/suite_test.go` "should delete nodeclaims
    // associated with expiring capacity-block reservations", and `nodeclass/capacityreservation_test.go`
    // "should mark capacity blocks as expiring 40 minutes prior to their endDate".
    let sc = scenario(
        "block",
        "duration: 3h\nreservations:\n  - {id: cr-0bbb, count: 1, instance_type: small, zone: z1, type: capacity-block, end: \"2026-11-23T02:00:00Z\"}\nworkloads:\n  - deployment: default/web\n    replicas:\n      steps: [{at: 1m, replicas: 1}]\n",
    );
    let r = checked(&sc);
    assert_eq!(launches(&r), ["reserved", "on-demand"], "{:#?}", r.log);
    let deleted = r.log.iter().find(|l| l.kind == "delete").expect("the reserved node is deleted");
    assert_eq!(deleted.t, 80.0 * 60.0, "{deleted:?}");
    assert!(deleted.message.contains("capacity block cr-0bbb expiring"), "{deleted:?}");
}

#[test]
fn a_default_reservation_that_ends_leaves_its_nodes_on_demand() {
    // `pkg/controllers/capacityreservation/capacitytype/suite_test.go` "should demote nodeclaims and
    // nodes from reserved to on-demand": the node stays, and is billed on-demand from the end.
    let sc = scenario(
        "odcr",
        "duration: 3h\nreservations:\n  - {id: cr-0ccc, count: 1, instance_type: small, zone: z1, end: \"2026-11-23T02:00:00Z\"}\nworkloads:\n  - deployment: default/web\n    replicas:\n      steps: [{at: 1m, replicas: 1}]\n",
    );
    let r = checked(&sc);
    assert_eq!(launches(&r), ["reserved"]);
    let s = &r.metrics.series;
    let at = |h: f64| s.time_h.iter().position(|t| (*t - h).abs() < 1e-9).unwrap();
    assert!(s.cost_per_hour_reserved[at(1.0)] > 0.0 && s.cost_per_hour_on_demand[at(1.0)] == 0.0);
    assert!((s.cost_per_hour_on_demand[at(2.5)] - 0.10).abs() < 1e-12 && s.cost_per_hour_reserved[at(2.5)] == 0.0);
    assert!(r.log.iter().any(|l| l.message.contains("cr-0ccc ends: 1 node(s) now on-demand")));
}

#[test]
fn a_sweep_over_reserved_counts_prices_the_reservations_themselves() {
    // How many reservations to buy: each reserved instance is billed at the on-demand price whether
    // used or not, while the nodes launched into it cost the provider's near-zero reserved price.
    let sc = scenario(
        "sweep",
        "duration: 2h\nreservations:\n  - {id: cr-0ddd, count: 0, instance_type: small, zone: z1}\nworkloads:\n  - deployment: default/web\n    replicas:\n      steps: [{at: 1m, replicas: 3}]\n",
    );
    let variants: Vec<Variant> = whatif::parse_vary("reserved_count=0,3,6").unwrap();
    let rows = whatif::compare(&sc, &SimOptions::default(), &variants, &[]).unwrap();
    let cost: Vec<f64> = rows.iter().map(|r| r.total_cost).collect();
    // three used reservations cost what three on-demand nodes cost (billed from the start, not the launch)
    assert!((cost[1] - cost[0]).abs() < 0.05 * cost[0], "{cost:?}");
    // three more, unused, add 3 × $0.10/h × 2 h
    assert!((cost[2] - cost[1] - 0.6).abs() < 1e-9, "{cost:?}");
    let r = simulate(&whatif::apply(&sc, &SimOptions::default(), &variants[2]).unwrap().0, &SimOptions::default()).unwrap();
    assert!((r.metrics.reservation_cost - 6.0 * 0.10 * 2.0).abs() < 1e-9, "{}", r.metrics.reservation_cost);
    let e = whatif::apply(&sc, &SimOptions::default(), &Variant { name: "x".into(), changes: vec![("reserved_count".into(), "cr-0zzz:2".into())] }).unwrap_err();
    assert!(e.to_string().contains("cr-0ddd"), "{e}");
    // the scenario's own count (0): no reserved launch, no fee
    let r = simulate(&sc, &SimOptions::default()).unwrap();
    assert!(r.log.iter().all(|l| !l.message.contains("reserved")) && r.metrics.reservation_cost == 0.0);
}

/// Run with the simulator's invariant checks (no lost pods, costs add up).
fn checked(sc: &Scenario) -> karpsim::sim::SimResult {
    karpsim::sim::Engine::new(sc, SimOptions::default()).run_checked().unwrap_or_else(|e| panic!("{e}"))
}
