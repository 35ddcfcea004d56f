//! Static NodePools (`spec.replicas`): provisioning of missing replicas, scale-down, static drift,
//! no consolidation, and the count held over simulated time. Each test names the Karpenter v1.14.1
//! test it follows (`pkg/controllers/static/provisioning/suite_test.go`,
//! `static/deprovisioning/suite_test.go`, `disruption/staticdrift_test.go`).

mod common;

use common::*;
use karpsim::disruption::{DisruptionOptions, DisruptionResult, Method, disrupt_once, until_stable};
use karpsim::scheduling::ProvisionResult;

fn static_pool(name: &str, replicas: i64, reqs: &[&str], limits: &str, extra: &str) -> String {
    pool_full(name, 0, reqs, "{team: gpu}", limits, extra).replacen("spec:\n", &format!("spec:\n  replicas: {replicas}\n"), 1)
}

/// A ready node of pool `pool`, created 2024-01-01.
fn pool_node(name: &str, pool: &str, it: &str) -> String {
    node(
        name,
        &format!("karpenter.sh/nodepool: {pool}, node.kubernetes.io/instance-type: {it}, topology.kubernetes.io/zone: test-zone-1, karpenter.sh/capacity-type: on-demand, karpenter.sh/initialized: 'true', team: gpu"),
        "4",
        "4Gi",
        5,
        "",
    )
    .replace(&format!("metadata: {{name: {name},"), &format!("metadata: {{name: {name}, creationTimestamp: '2024-01-01T00:00:00Z',"))
}

fn cat() -> String {
    catalog(&[it("default-instance-type", 4, 4, 5), it("small-instance-type", 2, 2, 5).price(0.05), it("big-instance-type", 8, 8, 5)])
}

fn static_claims(r: &ProvisionResult, pool: &str) -> Vec<String> {
    r.nodeclaims.iter().filter(|n| n.nodepool == pool).map(|n| n.instance_type.clone()).collect()
}

#[test]
fn missing_replicas_are_launched() {
    // "should create nodeclaims when current node count is less than desired replicas"
    let r = run(&cat(), &static_pool("gpu", 3, &[ANY_CT], "", ""));
    assert_eq!(static_claims(&r, "gpu"), ["small-instance-type"; 3], "the template's cheapest type: {r:#?}");
    assert!(r.nodeclaims.iter().all(|n| n.pods.is_empty()));
    assert!(r.warnings.iter().any(|w| w.contains("StaticCapacity feature gate")), "{:?}", r.warnings);
    // "should create additional nodeclaims to reach desired replicas"
    let r = run(&cat(), &format!("{}{}", static_pool("gpu", 3, &[ANY_CT], "", ""), pool_node("n1", "gpu", "default-instance-type")));
    assert_eq!(static_claims(&r, "gpu").len(), 2);
    // "should return early if current node count exceeds desired replicas", "should handle zero replicas"
    let r = run(&cat(), &format!("{}{}", static_pool("gpu", 1, &[ANY_CT], "", ""), pool_node("n1", "gpu", "default-instance-type") + &pool_node("n2", "gpu", "default-instance-type")));
    assert!(r.nodeclaims.is_empty());
    assert!(run(&cat(), &static_pool("gpu", 0, &[ANY_CT], "", "")).nodeclaims.is_empty());
}

#[test]
fn node_limits_bound_the_replicas() {
    // "should not create additional nodeclaims when node limits are reached"
    let r = run(&cat(), &format!("{}{}", static_pool("gpu", 5, &[ANY_CT], "{nodes: 3}", ""), pool_node("n1", "gpu", "default-instance-type")));
    assert_eq!(static_claims(&r, "gpu").len(), 2);
    assert!(r.warnings.iter().any(|w| w.contains("static NodePool gpu wants 5") && w.contains("allows 2 more")), "{:?}", r.warnings);
}

#[test]
fn static_nodeclaims_follow_the_template() {
    // "should respect nodepool template specifications": requirements pick the type, template labels
    // are requirements of the NodeClaim
    let r = run(&cat(), &static_pool("gpu", 1, &["{key: node.kubernetes.io/instance-type, operator: In, values: [big-instance-type]}", ANY_CT], "", ""));
    let nc = &r.nodeclaims[0];
    assert_eq!(nc.instance_type, "big-instance-type");
    assert!(nc.requirements.iter().any(|x| x == "team In [gpu]"), "{:?}", nc.requirements);
}

#[test]
fn pending_pods_use_static_nodes_but_never_grow_the_pool() {
    // Static pools are left out of the provisioner's templates (`provisioner.go: NewScheduler`
    // filters `IsStatic`); its in-flight NodeClaims are existing capacity for pending pods.
    let tolerate = "  nodeSelector: {team: gpu}\n";
    let pods: String = (0..3).map(|i| pod(&format!("p{i}"), "2500m", "", "", tolerate)).collect();
    let r = run(&cat(), &format!("{}{pods}", static_pool("gpu", 2, &["{key: node.kubernetes.io/instance-type, operator: In, values: [default-instance-type]}", ANY_CT], "", "")));
    assert_eq!(r.nodeclaims.len(), 2, "{r:#?}");
    let placed: usize = r.nodeclaims.iter().map(|n| n.pods.len()).sum();
    assert_eq!(placed, 2, "one 2500m pod per 3.9-cpu node leaves one pending: {r:#?}");
    assert_eq!(r.unschedulable.len(), 1);
}

#[test]
fn static_nodepool_validation() {
    // CEL rules of `pkg/apis/v1/nodepool.go`
    let bad = |yaml: &str| {
        let mut i = karpsim::io::Inputs::new();
        i.load_str(yaml, "np.yaml").unwrap_err().to_string()
    };
    let e = bad(&static_pool("gpu", 2, &[], "{cpu: 10}", ""));
    assert!(e.contains("only 'limits.nodes' is supported on static NodePools") && e.contains("field spec.limits"), "{e}");
    let e = bad(&static_pool("gpu", 2, &[], "", "").replacen("spec:\n", "spec:\n  weight: 10\n", 1));
    assert!(e.contains("'weight' is not supported on static NodePools"), "{e}");
}

fn once(yaml: &str) -> DisruptionResult {
    disrupt_once(&state(&cat(), yaml), &DisruptionOptions { now: Some(1_704_070_800), ..Default::default() })
}

fn methods(r: &DisruptionResult) -> Vec<(Method, Vec<String>)> {
    r.commands.iter().map(|c| (c.method, c.nodes.clone())).collect()
}

#[test]
fn surplus_static_nodes_go_empty_ones_first() {
    // `static/deprovisioning`: "should terminate excess nodeclaims when current count exceeds desired
    // replicas" and "should prioritize empty nodes (with only daemonset pods) for termination"
    let yaml = format!(
        "{}{}{}{}{}{}",
        static_pool("gpu", 1, &[ANY_CT], "", ""),
        pool_node("a-busy", "gpu", "default-instance-type"),
        pool_node("b-empty", "gpu", "default-instance-type"),
        pool_node("c-busy", "gpu", "default-instance-type"),
        bound_pod("w1", "a-busy", "100m", "", ""),
        bound_pod("w2", "c-busy", "100m", "", "") + &bound_pod("w3", "c-busy", "100m", "", "")
    );
    let r = once(&yaml);
    let got = methods(&r);
    assert_eq!(got, vec![(Method::StaticScaleDown, vec!["b-empty".into()]), (Method::StaticScaleDown, vec!["a-busy".into()])], "{r:#?}");
    // replicas reached: nothing more
    let r = until_stable(&state(&cat(), &yaml), &DisruptionOptions { now: Some(1_704_070_800), ..Default::default() });
    assert_eq!(r.end_state.unwrap().nodes.len(), 1);
}

#[test]
fn static_nodes_are_not_consolidated() {
    // `emptiness.go`, `consolidation.go: ShouldDisrupt`: static pools are skipped
    let yaml = format!("{}{}", static_pool("gpu", 1, &[ANY_CT], "", ""), pool_node("n1", "gpu", "big-instance-type"));
    let r = once(&yaml);
    assert!(r.commands.is_empty(), "{r:#?}");
    assert!(r.kept.iter().any(|k| k.node == "n1" && (k.reason.contains("static") || k.reason.contains("no disruption method"))), "{:?}", r.kept);
}

fn drifted_nodes(n: usize) -> String {
    // the pool now requires big-instance-type: its default-instance-type nodes are drifted
    (0..n).map(|i| pool_node(&format!("n{i}"), "gpu", "default-instance-type")).collect()
}

const BIG: &str = "{key: node.kubernetes.io/instance-type, operator: In, values: [big-instance-type]}";

#[test]
fn static_drift_respects_the_drifted_budget() {
    // "should respect disruption budgets (Nodes Count) for static drift"
    let budgets = "  disruption:\n    budgets: [{nodes: '2', reasons: [Drifted]}]\n";
    let yaml = format!("{}{budgets}{}", static_pool("gpu", 5, &[BIG, ANY_CT], "", ""), drifted_nodes(5));
    let r = once(&yaml);
    let got = methods(&r);
    assert_eq!(got.len(), 2, "{r:#?}");
    assert!(got.iter().all(|(m, n)| *m == Method::StaticDrift && n.len() == 1));
    assert!(r.commands.iter().all(|c| c.replacements.len() == 1 && c.replacements[0].instance_type == "big-instance-type"));
}

#[test]
fn static_drift_needs_room_under_the_node_limit() {
    // "should not drift nodes when we cannot acquire limits" / "should drift nodes when we can
    // acquire limits"
    let all = "  disruption:\n    budgets: [{nodes: '100%'}]\n";
    let r = once(&format!("{}{all}{}", static_pool("gpu", 5, &[BIG, ANY_CT], "{nodes: 5}", ""), drifted_nodes(5)));
    assert!(r.commands.iter().all(|c| c.method != Method::StaticDrift), "{r:#?}");
    let r = once(&format!("{}{all}{}", static_pool("gpu", 5, &[BIG, ANY_CT], "{nodes: 5}", ""), drifted_nodes(2)));
    assert_eq!(r.commands.iter().filter(|c| c.method == Method::StaticDrift).count(), 2, "{r:#?}");
}

#[test]
fn a_static_pool_keeps_its_count_over_time() {
    // The static provisioning controller replaces a NodeClaim as soon as it is being deleted (it
    // watches NodeClaim deletions): with expireAfter 1h, two replicas stay two.
    let dir = std::env::temp_dir().join(format!("karpsim-static-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("catalog.json"), cat()).unwrap();
    std::fs::write(dir.join("m.yaml"), static_pool("gpu", 2, &[ANY_CT], "", "      expireAfter: 1h\n")).unwrap();
    std::fs::write(
        dir.join("s.yaml"),
        "catalog: catalog.json\nmanifests: [m.yaml]\nduration: 150m\nsettings: {node_launch: 30s, node_initialize: 10s, node_termination: 30s, spot_interruptions: none, metrics_interval: 1m}\n",
    )
    .unwrap();
    let sc = karpsim::sim::Scenario::load(&dir.join("s.yaml")).unwrap();
    let r = karpsim::sim::Engine::new(&sc, Default::default()).run_checked().unwrap();
    let launches = r.log.iter().filter(|l| l.kind == "static").count();
    assert_eq!(launches, 6, "2 at the start, 2 after each expiry at 1h and 2h: {:#?}", r.log);
    let s = &r.metrics.series;
    let after_start: Vec<f64> = s.time_h.iter().zip(&s.nodes).filter(|(t, _)| **t >= 0.1).map(|(_, n)| *n).collect();
    assert!(after_start.iter().all(|n| *n >= 2.0), "never below the replicas once launched: {after_start:?}");
    assert!(r.warnings.iter().any(|w| w.contains("StaticCapacity feature gate")), "the simulator says it too: {:?}", r.warnings);
}

#[test]
fn a_pod_only_a_static_pool_admits_says_so() {
    // `provisioner.go: NewScheduler` leaves static pools out of dynamic provisioning: a pod whose
    // node selector only the static pool's nodes meet stays pending once they are full, and says why
    let r = run(&cat(), &format!("{}{}", static_pool("gpu", 0, &[ANY_CT], "", ""), pod("p", "1", "1Gi", "", "  nodeSelector: {team: gpu}\n")));
    let why = unschedulable(&r, "p");
    assert!(why.contains("NodePool gpu is static (spec.replicas 0)") && why.contains("launches none for pending pods"), "{why}");
    // launching nothing for pending pods is what a static pool is for: no warning about it
    assert!(r.warnings.iter().all(|w| !w.contains("is static")), "{:?}", r.warnings);
}

#[test]
fn pods_left_out_are_reported_beside_static_replicas() {
    // the pods' batch after the static NodeClaims reports the pods Karpenter does not provision
    // (IsProvisionable) as a run without static pools does
    let yaml = format!("{}{}", static_pool("gpu", 1, &[ANY_CT], "", ""), pod("gated", "1", "", "", "  schedulingGates: [{name: example.com/wait}]\n"));
    let r = run(&cat(), &yaml);
    assert_eq!(static_claims(&r, "gpu").len(), 1);
    assert!(r.warnings.iter().any(|w| w.contains("left out 1 pending pod(s)") && w.contains("scheduling-gated")), "{:?}", r.warnings);
}
