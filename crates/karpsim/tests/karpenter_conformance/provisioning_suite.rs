//! `pkg/controllers/provisioning/suite_test.go`: the provisioner end to end: deleting and static
//! NodePools, node selectors and affinities it accepts, resource limits, DaemonSet overhead, the
//! NodeClaims it asks for, preferential fallback, several NodePools and minValues. Assertions on
//! controller metrics that some cases also make are not checked (karpsim has none).

use crate::harness::*;
use karpsim::scheduling::{MinValuesPolicy, PreferencePolicy};
use serde_json::{Value, json};

const FILE: &str = "provisioning/suite_test.go";

fn np() -> NodePool {
    nodepool("default")
}

/// The default catalog with an OS on each type: `linux`, and `arm` for `arm-instance-type` (the
/// fake types list several; the cases here ask for one of them).
fn types_with_os(arm: &str) -> Vec<Ty> {
    default_types().into_iter().map(|t| if t.name == "arm-instance-type" { t.os(arm) } else { t.os("linux") }).collect()
}

/// Capacity (cores, GiB) of the type a pod went to.
#[track_caller]
fn capacity(e: &Env, out: &Outcome, pod: &str) -> (f64, f64) {
    let it = out.scheduled(pod).instance_type().to_string();
    let t = e.types.iter().find(|t| t.name == it).unwrap_or_else(|| panic!("no type {it}"));
    (t.cpu, t.mem_bytes / GI)
}

fn requests(cpu: &str, mem: &str) -> Value {
    json!({"requests": {"cpu": cpu, "memory": mem}})
}

// ---------------------------------------------------------------- provisioning

#[test]
fn provision_nodes() {
    ports!(FILE, "Provisioning > should provision nodes");
    let mut e = Env::new();
    e.apply(np()).apply(pod("p"));
    let out = e.provision();
    out.scheduled("p");
    assert_eq!(out.claims(), 1);
}

#[test]
fn provision_nodes_for_many_pods() {
    ports!(FILE, "Provisioning > Should provision nodes for multiple pods");
    let mut e = Env::new();
    let ps = pods("p", 100, |p| p);
    e.apply(np()).apply_all(ps.clone());
    let out = e.provision();
    for p in &ps {
        out.scheduled(&p.name());
    }
    assert!(out.claims() > 0);
}

#[test]
fn deleting_nodepool_ignored() {
    ports!(FILE, "Provisioning > should ignore NodePools that are deleting");
    let mut e = Env::new();
    e.apply(np().set(&["metadata", "deletionTimestamp"], json!("2024-01-01T00:00:00Z"))).apply(pod("p"));
    let out = e.provision();
    out.not_scheduled("p");
    assert_eq!(out.claims(), 0);
}

#[test]
fn no_valid_nodepools() {
    ports!(FILE, "Provisioning > should mark pod as unschedulable if there are no valid nodepools");
    let mut e = Env::new();
    e.apply(np().set(&["metadata", "deletionTimestamp"], json!("2024-01-01T00:00:00Z"))).apply(pod("p"));
    let out = e.provision();
    out.not_scheduled("p");
    // the pod is reported pending, and the user told why
    assert!(out.reason("p").contains("NodePool default is being deleted"), "{}", out.reason("p"));
    assert!(out.r.warnings.iter().any(|w| w.contains("NodePool default is being deleted")), "{:?}", out.r.warnings);
}

/// Pods each pinned by one constraint the provisioner supports, then pods whose constraint no
/// NodePool or type can meet.
fn supported_constraints(constrain: impl Fn(Pod, &str, &str) -> Pod) {
    let ok = [(NODEPOOL, "default"), (ZONE, "test-zone-1"), (IT, "default-instance-type"), (ARCH, "arm64"), (OS, "linux")];
    let bad =
        [(NODEPOOL, "unknown"), (ZONE, "unknown"), (IT, "unknown"), (ARCH, "unknown"), (OS, "unknown"), (CT, "unknown"), ("foo", "bar")];
    let mut e = Env::with_types(types_with_os("linux"));
    e.apply(np());
    for (i, (k, v)) in ok.iter().enumerate() {
        e.apply(constrain(pod(&format!("ok-{i}")), k, v));
    }
    let out = e.provision();
    for i in 0..ok.len() {
        out.scheduled(&format!("ok-{i}"));
    }
    let mut e = Env::with_types(types_with_os("linux"));
    e.apply(np());
    for (i, (k, v)) in bad.iter().enumerate() {
        e.apply(constrain(pod(&format!("bad-{i}")), k, v));
    }
    let out = e.provision();
    for i in 0..bad.len() {
        out.not_scheduled(&format!("bad-{i}"));
    }
}

#[test]
fn supported_node_selectors() {
    ports!(FILE, "Provisioning > should provision nodes for pods with supported node selectors");
    supported_constraints(|p, k, v| p.node_selector(k, v));
}

#[test]
fn supported_node_affinities() {
    ports!(FILE, "Provisioning > should provision nodes for pods with supported node affinities");
    supported_constraints(|p, k, v| p.node_req(k, "In", &[v]));
}

#[test]
fn accelerators() {
    ports!(FILE, "Provisioning > should provision nodes for accelerators");
    let mut e = Env::new();
    e.apply(np()).apply(pod("a").limit(VENDOR_A, "1")).apply(pod("b").limit(VENDOR_B, "1"));
    let out = e.provision();
    assert_eq!(out.scheduled("a").instance_type(), "gpu-vendor-instance-type");
    assert_eq!(out.scheduled("b").instance_type(), "gpu-vendor-b-instance-type");
}

#[test]
fn max_pods_gives_several_nodes() {
    ports!(FILE, "Provisioning > should provision multiple nodes when maxPods is set");
    let mut e = Env::new();
    e.apply(np().req(IT, "In", &["single-pod-instance-type"])).apply_all(pods("p", 3, |p| p));
    let out = e.provision();
    assert_eq!(out.claims(), 3);
    assert_eq!(out.nodes_of(&names(&pods("p", 3, |p| p))).len(), 3);
}

#[test]
fn deleting_node_not_used() {
    ports!(FILE, "Provisioning > should schedule all pods on one inflight node when node is in deleting state");
    let mut e = Env::new();
    e.apply(np());
    e.apply(node("old").label(NODEPOOL, "default").label(IT, "default-instance-type").deleting("2024-01-01T00:00:00Z"));
    e.apply_all(pods("bound", 3, |p| p.on("old")));
    e.apply(pod("a")).apply(pod("b"));
    let out = e.provision();
    // one new node holds the two pending pods and the three of the deleting node
    assert_eq!(out.claims(), 1, "{:#?}", out.r);
    for p in ["a", "b", "bound-0", "bound-1", "bound-2"] {
        assert_ne!(out.scheduled(p).name, "old");
    }
}

// ---------------------------------------------------------------- requests of sidecars and pod-level resources

/// `AddInstanceResources`: a linux type named for its size with one spot offering in zone 1 at
/// the resource price.
fn sized(cpu: u32, mem: u32) -> Ty {
    let t = ty(&format!("example-{cpu}")).cpu(cpu).mem_gi(mem).arch("arch").os("linux");
    let p = t.price();
    t.offers_at(&[("test-zone-1", SPOT, p)])
}

/// The default types with three more (10/4Gi, 11/5Gi, 12/6Gi): the pod should need the middle one.
fn sized_env(p: Pod) -> (Env, Outcome) {
    let mut types = default_types();
    types.extend([sized(10, 4), sized(11, 5), sized(12, 6)]);
    let mut e = Env::with_types(types);
    e.apply(np()).apply(p);
    let out = e.provision();
    (e, out)
}

fn init(cpu: &str, mem: &str) -> Value {
    requests(cpu, mem)
}

fn sidecar(p: Pod, cpu: &str, mem: &str) -> Pod {
    let p = p.init_container(requests(cpu, mem));
    let n = p.0["spec"]["initContainers"].as_array().unwrap().len() - 1;
    p.set(&["spec", "initContainers", &n.to_string(), "restartPolicy"], json!("Always"))
}

#[test]
fn sidecar_after_init_container() {
    ports!(
        FILE,
        "Provisioning > should schedule based on the max resource requests of containers and initContainers with sidecar containers when initcontainer comes first"
    );
    let p = sidecar(pod("p").cpu("6").mem("2Gi").init_container(init("10", "4Gi")), "4.9", "2.9Gi");
    let (e, out) = sized_env(p);
    assert_eq!(capacity(&e, &out, "p"), (11.0, 5.0));
}

#[test]
fn sidecar_first_small_init() {
    ports!(
        FILE,
        "Provisioning > should schedule based on the max resource requests of containers and initContainers with sidecar containers when sidecar container comes first and init container resources are smaller than container resources"
    );
    let p = sidecar(pod("p").cpu("6").mem("2Gi"), "4.9", "2.9Gi").init_container(init("5", "1Gi"));
    let (e, out) = sized_env(p);
    assert_eq!(capacity(&e, &out, "p"), (11.0, 5.0));
}

#[test]
fn sidecar_first_big_init() {
    ports!(
        FILE,
        "Provisioning > should schedule based on the max resource requests of containers and initContainers with sidecar containers when sidecar container comes first and init container resources are bigger than container resources"
    );
    let p = sidecar(pod("p").cpu("5").mem("1Gi"), "4.9", "2.9Gi").init_container(init("6", "2Gi"));
    let (e, out) = sized_env(p);
    assert_eq!(capacity(&e, &out, "p"), (11.0, 5.0));
}

#[test]
fn pod_level_resources() {
    ports!(FILE, "Provisioning > should schedule based on the pod level resources requests");
    let p = sidecar(pod("p").cpu("5").mem("1Gi").init_container(init("6", "2Gi")), "4", "2Gi")
        .set(&["spec", "resources"], json!({"requests": {"cpu": "9.9", "memory": "3.9Gi"}, "limits": {"cpu": "10", "memory": "4Gi"}}));
    let (e, out) = sized_env(p);
    assert_eq!(capacity(&e, &out, "p"), (10.0, 4.0));
}

// ---------------------------------------------------------------- resource limits

fn limited(l: Value) -> NodePool {
    np().limits(l)
}

#[test]
fn limits_exceeded() {
    ports!(FILE, "Provisioning > Resource Limits > should not schedule when limits are exceeded");
    let mut e = Env::new();
    e.apply(limited(json!({"cpu": "20"})));
    // a NodeClaim of the pool already holds 100 cpu
    e.apply(managed_node("big", "default", "default-instance-type", "test-zone-1", SPOT).resources(json!({"cpu": "100"})));
    e.apply(pod("p"));
    e.provision().not_scheduled("p");
}

#[test]
fn limits_met() {
    ports!(FILE, "Provisioning > Resource Limits > should schedule if limits would be met");
    let mut e = Env::new();
    e.apply(limited(json!({"cpu": "2"}))).apply(pod("p").cpu("1.75"));
    e.provision().scheduled("p");
}

fn anti_affine(name: &str) -> Pod {
    pod(name).label("app", "foo").anti_affinity_to(HOSTNAME, &[("app", "foo")]).cpu("1.5")
}

#[test]
fn limits_partially_met() {
    ports!(FILE, "Provisioning > Resource Limits > should partially schedule if limits would be exceeded");
    let mut e = Env::new();
    e.apply(limited(json!({"cpu": "3"}))).apply(anti_affine("a")).apply(anti_affine("b"));
    let out = e.provision();
    assert_eq!([out.node("a").is_some(), out.node("b").is_some()].iter().filter(|s| **s).count(), 1, "{:#?}", out.r);
}

#[test]
fn limits_would_be_exceeded() {
    ports!(FILE, "Provisioning > Resource Limits > should not schedule if limits would be exceeded");
    let mut e = Env::new();
    e.apply(limited(json!({"cpu": "2"}))).apply(pod("p").cpu("2.1"));
    e.provision().not_scheduled("p");
}

#[test]
fn limits_would_be_exceeded_gpu() {
    ports!(FILE, "Provisioning > Resource Limits > should not schedule if limits would be exceeded (GPU)");
    let mut e = Env::new();
    // the only type with the GPU has 5 pods of capacity, above the limit of 1
    e.apply(limited(json!({"pods": "1"}))).apply(pod("p").limit(VENDOR_A, "1"));
    e.provision().not_scheduled("p");
}

#[test]
fn limits_across_rounds() {
    ports!(FILE, "Provisioning > Resource Limits > should not schedule to a nodepool after a scheduling round if limits would be exceeded");
    let mut e = Env::new();
    e.apply(limited(json!({"cpu": "2"}))).apply(pod("a").cpu("1.75"));
    let out = e.provision();
    out.scheduled("a");
    e.launch(&out);
    e.apply(pod("b").cpu("1.75"));
    e.provision().not_scheduled("b");
}

#[test]
fn node_limit_across_rounds() {
    ports!(FILE, "Provisioning > Resource Limits > should not schedule if limits would be exceeded (node)");
    let mut e = Env::new();
    e.apply(limited(json!({"nodes": "2"})));
    for (i, name) in ["a", "b", "c"].iter().enumerate() {
        e.apply(anti_affine(name));
        let out = e.provision();
        if i < 2 {
            out.scheduled(name);
            e.launch(&out);
        } else {
            out.not_scheduled(name);
        }
    }
}

// ---------------------------------------------------------------- DaemonSets

/// One pod of 1 cpu and 1Gi under `pool` with these DaemonSets: the capacity of the type it gets.
fn with_daemonsets(pool: NodePool, dss: Vec<Value>, p: Pod) -> (f64, f64) {
    let mut e = Env::new();
    e.apply(pool).apply_all(dss).apply(p);
    let out = e.provision();
    capacity(&e, &out, "p")
}

fn ds(name: &str, template: Pod) -> Value {
    daemonset(name, template)
}

fn ds_pod() -> Pod {
    pod("ds").cpu("2").mem("2Gi")
}

fn small_pod() -> Pod {
    pod("p").cpu("1").mem("1Gi")
}

#[test]
fn daemonsets_counted() {
    ports!(FILE, "Provisioning > Daemonsets > should account for daemonsets");
    assert_eq!(with_daemonsets(np(), vec![ds("d", ds_pod())], small_pod()), (4.0, 4.0));
}

#[test]
fn daemonset_host_ports() {
    ports!(FILE, "Provisioning > Daemonsets > should account for daemonset hostports");
    let mut e = Env::new();
    e.apply(np()).apply(ds("d", ds_pod().host_port(8080))).apply(small_pod().host_port(8080));
    let out = e.provision();
    out.not_scheduled("p");
    assert_eq!(out.claims(), 0);
}

#[test]
fn daemonsets_counted_with_startup_taint() {
    ports!(FILE, "Provisioning > Daemonsets > should account for daemonsets (with startup taint)");
    let pool = np().startup_taint("foo.com/taint", "", "NoSchedule");
    assert_eq!(with_daemonsets(pool, vec![ds("d", ds_pod())], small_pod()), (4.0, 4.0));
}

#[test]
fn daemonset_overhead_too_large() {
    ports!(FILE, "Provisioning > Daemonsets > should not schedule if daemonset overhead is too large");
    let mut e = Env::new();
    e.apply(np()).apply(ds("d", pod("ds").cpu("10000").mem("10000Gi"))).apply(pod("p"));
    e.provision().not_scheduled("p");
}

/// A pending pod the DaemonSet `d` owns, created after the DaemonSet.
fn owned_by_ds(p: Pod) -> Pod {
    p.owner("DaemonSet", "d").created("2024-01-01T00:00:00Z")
}

#[test]
fn daemonset_pod_over_template() {
    ports!(FILE, "Provisioning > Daemonsets > should account for overhead using daemonset pod spec instead of daemonset spec");
    let mut e = Env::new();
    // the template asks for 4 cpu and 4Gi, the pod it runs (a LimitRange, a vertical autoscaler)
    // for 2 and 2Gi
    e.apply(np()).apply(ds("d", pod("ds").cpu("4").mem("4Gi")));
    e.apply(owned_by_ds(pod("d-abcde").cpu("2").mem("2Gi")));
    e.apply(small_pod().node_selector(NODEPOOL, "default"));
    let out = e.provision();
    assert_eq!(capacity(&e, &out, "p"), (4.0, 4.0));
}

#[test]
fn daemonset_limits_as_requests() {
    ports!(
        FILE,
        "Provisioning > Daemonsets > should not schedule if resource requests are not defined and limits (requests) are too large"
    );
    let mut e = Env::new();
    let d = pod("ds")
        .set(&["spec", "containers", "0", "resources"], json!({"limits": {"cpu": "10000", "memory": "10000Gi"}, "requests": {"cpu": "1"}}));
    e.apply(np()).apply(ds("d", d)).apply(pod("p"));
    e.provision().not_scheduled("p");
}

#[test]
fn daemonset_max_of_init_and_containers() {
    ports!(FILE, "Provisioning > Daemonsets > should schedule based on the max resource requests of containers and initContainers");
    let d = pod("ds")
        .set(&["spec", "containers", "0", "resources"], json!({"limits": {"cpu": "10000", "memory": "1Gi"}, "requests": {"cpu": "1"}}))
        .init_container(json!({"limits": {"cpu": "10000", "memory": "3Gi"}, "requests": {"cpu": "3"}}));
    assert_eq!(with_daemonsets(np(), vec![ds("d", d)], pod("p")), (4.0, 4.0));
}

#[test]
fn daemonset_combined_too_large() {
    ports!(FILE, "Provisioning > Daemonsets > should not schedule if combined max resources are too large for any node");
    let mut e = Env::new();
    let d = pod("ds")
        .set(&["spec", "containers", "0", "resources"], json!({"limits": {"cpu": "10000", "memory": "1Gi"}, "requests": {"cpu": "1"}}))
        .init_container(json!({"limits": {"cpu": "10000", "memory": "10000Gi"}, "requests": {"cpu": "1"}}));
    e.apply(np()).apply(ds("d", d)).apply(pod("p"));
    e.provision().not_scheduled("p");
}

#[test]
fn daemonset_init_too_large() {
    ports!(FILE, "Provisioning > Daemonsets > should not schedule if initContainer resources are too large");
    let mut e = Env::new();
    e.apply(np()).apply(ds("d", pod("ds").init_container(requests("10000", "10000Gi")))).apply(pod("p"));
    e.provision().not_scheduled("p");
}

#[test]
fn daemonset_without_requests() {
    ports!(FILE, "Provisioning > Daemonsets > should be able to schedule pods if resource requests and limits are not defined");
    let mut e = Env::new();
    e.apply(np()).apply(ds("d", pod("ds"))).apply(pod("p"));
    e.provision().scheduled("p");
}

#[test]
fn daemonset_not_tolerating_pool_taint() {
    ports!(FILE, "Provisioning > Daemonsets > should ignore daemonsets without matching tolerations");
    let pool = np().taint("foo", "bar", "NoSchedule");
    let p = small_pod().toleration(json!({"operator": "Exists"}));
    assert_eq!(with_daemonsets(pool, vec![ds("d", ds_pod())], p), (2.0, 2.0));
}

#[test]
fn daemonset_selector_matching_nothing() {
    ports!(FILE, "Provisioning > Daemonsets > should ignore daemonsets with an invalid selector");
    assert_eq!(with_daemonsets(np(), vec![ds("d", ds_pod().node_selector("node", "invalid"))], small_pod()), (2.0, 2.0));
}

#[test]
fn daemonset_for_no_type() {
    ports!(FILE, "Provisioning > Daemonsets > should ignore daemonsets when no instance types meet the daemonset requirements");
    let d = ds_pod().node_req(IT, "In", &["non-existent-instance-type"]);
    assert_eq!(with_daemonsets(np(), vec![ds("d", d)], small_pod()), (2.0, 2.0));
}

#[test]
fn daemonset_selecting_pool_label() {
    ports!(FILE, "Provisioning > Daemonsets > should account for daemonsets with a custom label nodeSelector that matches the nodepool");
    let pool = np().label("purpose", "monitoring");
    assert_eq!(with_daemonsets(pool, vec![ds("d", ds_pod().node_selector("purpose", "monitoring"))], small_pod()), (4.0, 4.0));
}

#[test]
fn daemonsets_by_type() {
    ports!(FILE, "Provisioning > Daemonsets > should filter out daemonsets based on instance type requirements");
    let small = pod("ds").node_req("size", "In", &["small"]).cpu("1");
    let large = pod("ds").node_req("size", "In", &["large"]).cpu("10");
    assert_eq!(with_daemonsets(np(), vec![ds("s", small), ds("l", large)], small_pod()), (4.0, 4.0));
}

#[test]
fn daemonset_not_in_undefined_key() {
    ports!(FILE, "Provisioning > Daemonsets > should account daemonsets with NotIn operator and unspecified key");
    let d = ds_pod().node_req("foo", "NotIn", &["bar"]);
    assert_eq!(with_daemonsets(np(), vec![ds("d", d)], small_pod().node_req(ZONE, "In", &["test-zone-2"])), (4.0, 4.0));
}

#[test]
fn daemonset_pod_node_pin_replaced() {
    ports!(FILE, "Provisioning > Daemonsets > should remove daemonset node hostname affinity when considering daemonset schedulability");
    let mut e = Env::new();
    e.apply(np().label("foo", "bar"));
    e.apply(ds("d", pod("ds").node_req("foo", "In", &["bar"]).cpu("4").mem("4Gi")));
    // the DaemonSet's pod: pinned to a node, and smaller than the template
    e.apply(owned_by_ds(pod("d-abcde").node_req("metadata.name", "In", &["node-name"]).cpu("2").mem("2Gi")));
    e.apply(small_pod().node_selector("foo", "bar"));
    let out = e.provision();
    assert_eq!(capacity(&e, &out, "p"), (4.0, 4.0));
}

#[test]
fn daemonset_second_affinity_term() {
    ports!(FILE, "Provisioning > Daemonsets > should consider a daemonset schedulable with multiple node affinity terms");
    let d = ds_pod().node_terms(vec![vec![expr("foo", "In", &["voo"])], vec![expr("foo", "In", &["bar"])]]);
    assert_eq!(with_daemonsets(np().label("foo", "bar"), vec![ds("d", d)], small_pod()), (4.0, 4.0));
}

#[test]
fn daemonset_preference_ignored() {
    ports!(FILE, "Provisioning > Daemonsets > should consider a daemonset schedulable with an incompatible node affinity preference");
    let d = ds_pod().node_pref(1, vec![expr("node", "In", &["invalid"])]);
    assert_eq!(with_daemonsets(np(), vec![ds("d", d)], small_pod()), (4.0, 4.0));
}

#[test]
fn daemonset_prefer_no_schedule_taint() {
    ports!(FILE, "Provisioning > Daemonsets > should consider a daemonset schedulable with a PreferNoSchedule taint");
    let pool = np().taint("test", "", "PreferNoSchedule");
    assert_eq!(with_daemonsets(pool, vec![ds("d", ds_pod())], small_pod()), (4.0, 4.0));
}

#[test]
fn daemonset_host_port_on_other_types() {
    ports!(
        FILE,
        "Provisioning > Daemonsets > should not account for daemonset hostports when daemonset would not schedule on selected node"
    );
    let mut e = Env::new();
    e.apply(np());
    e.apply(ds("large", pod("ds").cpu("4").mem("4Gi").node_req("size", "In", &["large"]).host_port(8080)));
    e.apply(ds("small", ds_pod().node_req("size", "In", &["small"]).host_port(8081)));
    e.apply(small_pod().node_req("size", "In", &["small"]).host_port(8080));
    let out = e.provision();
    out.scheduled("p").has("size", "small");
    assert_eq!(capacity(&e, &out, "p"), (4.0, 4.0));
}

// ---------------------------------------------------------------- labels and taints

#[test]
fn nodeclaim_labels() {
    ports!(FILE, "Provisioning > Labels > should label nodes");
    let pool = np().label("test-key-1", "test-value-1").reqs(vec![
        expr("test-key-2", "In", &["test-value-2"]),
        expr("test-key-3", "NotIn", &["test-value-3"]),
        expr("test-key-4", "Lt", &["4"]),
        expr("test-key-5", "Gt", &["5"]),
        expr("test-key-6", "Exists", &[]),
        expr("test-key-7", "DoesNotExist", &[]),
    ]);
    let out = run(pool, pod("p"));
    let n = out.scheduled("p");
    n.has(NODEPOOL, "default");
    n.has("test-key-1", "test-value-1");
    n.has("test-key-2", "test-value-2");
    // the rest are requirements the node's labels will meet
    assert_eq!(n.requirement("test-key-3"), Some("NotIn [test-value-3]"));
    assert_eq!(n.requirement("test-key-4"), Some("Lt 4"));
    assert_eq!(n.requirement("test-key-5"), Some("Gt 5"));
    assert_eq!(n.requirement("test-key-6"), Some("Exists"));
    assert_eq!(n.requirement("test-key-7"), Some("DoesNotExist"));
}

fn run(pool: NodePool, p: Pod) -> Outcome {
    let mut e = Env::new();
    e.apply(pool).apply(p);
    e.provision()
}

#[test]
fn labels_in_kubernetes_domains() {
    ports!(FILE, "Provisioning > Labels > should label nodes with labels in the kubernetes domains");
    for domain in ["kubernetes.io", "k8s.io"] {
        let key = format!("{domain}/test");
        let out = run(np().label(&key, "test-value"), pod("p").node_req(&key, "In", &["test-value"]));
        out.scheduled("p").has(&key, "test-value");
    }
}

#[test]
fn labels_in_kubernetes_subdomains() {
    ports!(FILE, "Provisioning > Labels > should label nodes with labels in the subdomain from kubernetes domains");
    for domain in ["kubernetes.io", "k8s.io"] {
        let key = format!("subdomain.{domain}/test");
        let out = run(np().label(&key, "test-value"), pod("p").node_req(&key, "In", &["test-value"]));
        out.scheduled("p").has(&key, "test-value");
    }
}

#[test]
fn well_known_not_in_is_no_label() {
    ports!(FILE, "Provisioning > Labels > should not label nodes with well-known labels from requirements");
    let pool = np().reqs(vec![expr("foo", "In", &["bar"]), expr("node.kubernetes.io/windows-build", "NotIn", &["test-value"])]);
    let out = run(pool, pod("p"));
    let n = out.scheduled("p");
    n.has("foo", "bar");
    assert_ne!(n.label("node.kubernetes.io/windows-build"), Some("test-value"));
}

#[test]
fn tolerated_taints() {
    ports!(FILE, "Provisioning > Taints > should schedule pods that tolerate taints");
    let mut e = Env::new();
    e.apply(np().taint("nvidia.com/gpu", "true", "NoSchedule"));
    let tolerations = [
        json!({"key": "nvidia.com/gpu", "operator": "Equal", "value": "true", "effect": "NoSchedule"}),
        json!({"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}),
        json!({"key": "nvidia.com/gpu", "operator": "Exists"}),
        json!({"operator": "Exists"}),
    ];
    for (i, t) in tolerations.iter().enumerate() {
        e.apply(pod(&format!("p{i}")).toleration(t.clone()));
    }
    let out = e.provision();
    for i in 0..tolerations.len() {
        out.scheduled(&format!("p{i}"));
    }
}

// ---------------------------------------------------------------- the NodeClaim asked for

fn sorted(v: &[String]) -> Vec<String> {
    let mut v = v.to_vec();
    v.sort();
    v
}

fn all_default_types() -> Vec<String> {
    sorted(&default_types().iter().map(|t| t.name.clone()).collect::<Vec<_>>())
}

#[test]
fn nodeclaim_requirements() {
    ports!(FILE, "Provisioning > NodeClaim Creation > should create a nodeclaim request with expected requirements");
    let out = run(np(), pod("p"));
    assert_eq!(out.claims(), 1);
    let n = out.scheduled("p");
    assert_eq!(sorted(n.options()), all_default_types());
    assert_eq!(n.requirement(NODEPOOL), Some("In [default]"));
}

#[test]
fn nodeclaim_additional_requirements() {
    ports!(FILE, "Provisioning > NodeClaim Creation > should create a nodeclaim request with additional expected requirements");
    let pool = np().req("custom-requirement-key", "In", &["value"]).req("custom-requirement-key2", "In", &["value"]);
    let out = run(pool, pod("p"));
    assert_eq!(out.claims(), 1);
    let n = out.scheduled("p");
    assert_eq!(sorted(n.options()), all_default_types());
    assert_eq!(n.requirement(NODEPOOL), Some("In [default]"));
    assert_eq!(n.requirement("custom-requirement-key"), Some("In [value]"));
    assert_eq!(n.requirement("custom-requirement-key2"), Some("In [value]"));
}

#[test]
fn nodeclaim_restricted_by_arch() {
    ports!(FILE, "Provisioning > NodeClaim Creation > should create a nodeclaim request restricting instance types on architecture");
    let out = run(np().req(ARCH, "In", &["arm64"]), pod("p"));
    let n = out.scheduled("p");
    assert_eq!(n.requirement(ARCH), Some("In [arm64]"));
    assert_eq!(n.options(), ["arm-instance-type"]);
}

#[test]
fn nodeclaim_restricted_by_os() {
    ports!(FILE, "Provisioning > NodeClaim Creation > should create a nodeclaim request restricting instance types on operating system");
    // only the arm type runs "ios" in the fake catalog
    let mut e = Env::with_types(types_with_os("ios"));
    e.apply(np().req(OS, "In", &["ios"])).apply(pod("p"));
    let out = e.provision();
    let n = out.scheduled("p");
    assert_eq!(n.requirement(OS), Some("In [ios]"));
    assert_eq!(n.options(), ["arm-instance-type"]);
}

#[test]
fn nodeclaim_restricted_by_requests() {
    ports!(
        FILE,
        "Provisioning > NodeClaim Creation > should create a nodeclaim request restricting instance types based on pod resource requests"
    );
    let out = run(np(), pod("p").request(VENDOR_A, "1").limit(VENDOR_A, "1"));
    assert_eq!(out.scheduled("p").options(), ["gpu-vendor-instance-type"]);
}

fn claim_requests(out: &Outcome, pod: &str) -> (i64, i64, i64, i64) {
    let r = &out.scheduled(pod).claim.expect("a new NodeClaim").requests;
    (r.cpu, r.memory, r.pods, r.get(VENDOR_A))
}

const MI: i64 = 1 << 20;

#[test]
fn nodeclaim_resource_requests() {
    ports!(FILE, "Provisioning > NodeClaim Creation > should create a nodeclaim with resource requests");
    let out = run(np(), pod("p").cpu("1").mem("1Mi").request(VENDOR_A, "1").limit(VENDOR_A, "1"));
    assert_eq!(out.claims(), 1);
    assert_eq!(claim_requests(&out, "p"), (1000, MI, 1, 1));
}

#[test]
fn nodeclaim_requests_with_daemon_overhead() {
    ports!(FILE, "Provisioning > NodeClaim Creation > should create a nodeclaim with resource requests with daemon overhead");
    let mut e = Env::new();
    e.apply(np()).apply(ds("d", pod("ds").cpu("1").mem("1Mi"))).apply(pod("p").cpu("1").mem("1Mi"));
    let out = e.provision();
    assert_eq!(out.claims(), 1);
    assert_eq!(claim_requests(&out, "p"), (2000, 2 * MI, 2, 0));
}

#[test]
fn daemon_overhead_counted_once() {
    ports!(
        FILE,
        "Provisioning > NodeClaim Creation > should not double-count daemon overhead when multiple pods are scheduled to the same nodeclaim"
    );
    let mut e = Env::new();
    e.apply(np()).apply(ds("d", pod("ds").cpu("1").mem("1Mi")));
    e.apply(pod("a").cpu("1").mem("1Mi")).apply(pod("b").cpu("1").mem("1Mi"));
    let out = e.provision();
    assert_eq!(out.claims(), 1);
    out.scheduled("b");
    assert_eq!(claim_requests(&out, "a"), (3000, 3 * MI, 3, 0));
}

// ---------------------------------------------------------------- preferential fallback

#[test]
fn final_required_term_kept() {
    ports!(FILE, "Provisioning > Preferential Fallback > Required > should not relax the final term");
    let out = run(np().req(ZONE, "In", &["test-zone-1"]), pod("p").node_terms(vec![vec![expr(ZONE, "In", &["invalid"])]]));
    out.not_scheduled("p");
}

#[test]
fn required_terms_relaxed() {
    ports!(FILE, "Provisioning > Preferential Fallback > Required > should relax multiple terms");
    let p = pod("p").node_terms(vec![
        vec![expr(ZONE, "In", &["invalid"])],
        vec![expr(ZONE, "In", &["invalid"])],
        vec![expr(ZONE, "In", &["test-zone-1"])],
        vec![expr(ZONE, "In", &["test-zone-2"])],
    ]);
    run(np(), p).scheduled("p").has(ZONE, "test-zone-1");
}

fn impossible_preferences(p: Pod) -> Pod {
    p.node_pref(1, vec![expr(ZONE, "In", &["invalid"])]).node_pref(1, vec![expr(IT, "In", &["invalid"])])
}

#[test]
fn preferences_all_relaxed() {
    ports!(FILE, "Provisioning > Preferential Fallback > Preferences > should relax all node affinity terms");
    run(np(), impossible_preferences(pod("p"))).scheduled("p");
}

#[test]
fn lighter_preferences_next() {
    ports!(FILE, "Provisioning > Preferential Fallback > Preferences > should relax to use lighter weights");
    let p = pod("p")
        .node_pref(100, vec![expr(IT, "In", &["test-zone-3"])])
        .node_pref(50, vec![expr(ZONE, "In", &["test-zone-2"])])
        .node_pref(1, vec![expr(ZONE, "In", &["test-zone-1"])]);
    run(np().req(ZONE, "In", &["test-zone-1", "test-zone-2"]), p).scheduled("p").has(ZONE, "test-zone-2");
}

#[test]
fn prefer_no_schedule_after_preferences() {
    ports!(
        FILE,
        "Provisioning > Preferential Fallback > Preferences > should tolerate PreferNoSchedule taint only after trying to relax Affinity terms"
    );
    let out = run(np().taint("foo", "bar", "PreferNoSchedule"), impossible_preferences(pod("p")));
    let claim = out.scheduled("p").claim.expect("a new NodeClaim");
    assert!(claim.taints.contains(&"foo=bar:PreferNoSchedule".to_string()), "{:?}", claim.taints);
}

fn unmet_node_preference_shares_node(key: &str) {
    let mut e = Env::new();
    e.apply(np());
    e.apply(pod("a").label("app", "foo").cpu("2"));
    e.apply(pod("b").label("app", "baz").cpu("1").node_pref(1, vec![expr(key, "In", &["value-1"])]));
    let out = e.provision();
    assert_eq!(out.scheduled("a").name, out.scheduled("b").name);
}

#[test]
fn unmet_zone_preference_shares_node() {
    ports!(
        FILE,
        "Provisioning > Preferential Fallback > Preferences > should ignore node preferredDuringSchedulingIgnoredDuringExecution affinity > corev1.LabelTopologyZone"
    );
    unmet_node_preference_shares_node(ZONE);
}

#[test]
fn unmet_hostname_preference_shares_node() {
    ports!(
        FILE,
        "Provisioning > Preferential Fallback > Preferences > should ignore node preferredDuringSchedulingIgnoredDuringExecution affinity > corev1.LabelHostname"
    );
    unmet_node_preference_shares_node(HOSTNAME);
}

// ---------------------------------------------------------------- PreferencePolicy=Ignore

fn ignoring() -> Env {
    let mut e = Env::new();
    e.opts.preference_policy = PreferencePolicy::Ignore;
    e.apply(np());
    e
}

/// A pod of zone 1, two of zone 2, and `p` of 1 cpu that prefers the zone-2 pods' node: with
/// preferences ignored it joins the emptier zone-1 node.
fn zone_pods_and(p: Pod) {
    let mut e = ignoring();
    e.apply(pod("z1").label("app", "foo").node_selector(ZONE, "test-zone-1").cpu("2"));
    e.apply_all(pods("z2", 2, |p| p.label("app", "bar").node_selector(ZONE, "test-zone-2").cpu("3")));
    e.apply(p);
    let out = e.provision();
    out.scheduled("z2-1");
    let here = out.scheduled("p").name;
    assert_eq!(here, out.scheduled("z1").name);
    assert_ne!(here, out.scheduled("z2-0").name);
}

#[test]
fn ignored_node_preferences() {
    ports!(FILE, "Provisioning > Preferential Fallback > Ignore Preferences > should ignore node affinity preferences");
    zone_pods_and(pod("p").label("app", "baz").cpu("1").node_pref(1, vec![expr(ZONE, "In", &["test-zone-2"])]));
}

/// Five pods with a soft constraint on `key`: with preferences ignored they share one node.
fn five_on_one_node(key: &str, soft: impl Fn(Pod, &str) -> Pod) {
    let mut e = ignoring();
    let ps = pods("p", 5, |p| soft(p.label("app", "foo"), key));
    e.apply_all(ps.clone());
    let out = e.provision();
    assert_eq!(out.nodes_of(&names(&ps)).len(), 1);
}

fn soft_spread(p: Pod, key: &str) -> Pod {
    p.tsc(json!({"topologyKey": key, "maxSkew": 1, "whenUnsatisfiable": "ScheduleAnyway", "labelSelector": labels_sel(&[("app", "foo")])}))
}

#[test]
fn ignored_spread_zone() {
    ports!(
        FILE,
        "Provisioning > Preferential Fallback > Ignore Preferences > should ignore topologySpreadConstraint preferences > corev1.LabelTopologyZone"
    );
    five_on_one_node(ZONE, soft_spread);
}

#[test]
fn ignored_spread_hostname() {
    ports!(
        FILE,
        "Provisioning > Preferential Fallback > Ignore Preferences > should ignore topologySpreadConstraint preferences > corev1.LabelTopologyZone #2"
    );
    five_on_one_node(HOSTNAME, soft_spread);
}

#[test]
fn ignored_anti_affinity_zone() {
    ports!(
        FILE,
        "Provisioning > Preferential Fallback > Ignore Preferences > should ignore pod anti-affinity preferences > corev1.LabelTopologyZone"
    );
    five_on_one_node(ZONE, |p, k| p.preferred_anti_affinity_to(1, k, &[("app", "foo")]));
}

#[test]
fn ignored_anti_affinity_hostname() {
    ports!(
        FILE,
        "Provisioning > Preferential Fallback > Ignore Preferences > should ignore pod anti-affinity preferences > corev1.LabelTopologyZone #2"
    );
    five_on_one_node(HOSTNAME, |p, k| p.preferred_anti_affinity_to(1, k, &[("app", "foo")]));
}

#[test]
fn ignored_affinity_zone() {
    ports!(
        FILE,
        "Provisioning > Preferential Fallback > Ignore Preferences > should ignore pod affinity preferences > corev1.LabelTopologyZone"
    );
    zone_pods_and(pod("p").label("app", "baz").cpu("1").preferred_affinity_to(1, ZONE, &[("app", "bar")]));
}

#[test]
fn ignored_affinity_hostname() {
    ports!(
        FILE,
        "Provisioning > Preferential Fallback > Ignore Preferences > should ignore pod affinity preferences > corev1.LabelTopologyZone #2"
    );
    zone_pods_and(pod("p").label("app", "baz").cpu("1").preferred_affinity_to(1, HOSTNAME, &[("app", "bar")]));
}

// ---------------------------------------------------------------- several NodePools

#[test]
fn selected_nodepool() {
    ports!(FILE, "Provisioning > Multiple NodePools > should schedule to an explicitly selected NodePool");
    let mut e = Env::new();
    e.apply(nodepool("a")).apply(nodepool("b")).apply(pod("p").node_selector(NODEPOOL, "a"));
    e.provision().scheduled("p").has(NODEPOOL, "a");
}

#[test]
fn nodepool_by_labels() {
    ports!(FILE, "Provisioning > Multiple NodePools > should schedule to a NodePool by labels");
    let mut e = Env::new();
    e.apply(nodepool("a").label("foo", "bar")).apply(nodepool("b")).apply(pod("p").node_selector("foo", "bar"));
    e.provision().scheduled("p").has(NODEPOOL, "a");
}

#[test]
fn prefer_no_schedule_pool_last() {
    ports!(FILE, "Provisioning > Multiple NodePools > should not match NodePool with PreferNoSchedule taint when other NodePool match");
    // the tainted pool sorts first by name
    let mut e = Env::new();
    e.apply(nodepool("z-tainted").taint("foo", "bar", "PreferNoSchedule")).apply(nodepool("a")).apply(pod("p"));
    e.provision().scheduled("p").has(NODEPOOL, "a");
}

#[test]
fn heaviest_pool_always() {
    ports!(
        FILE,
        "Provisioning > Multiple NodePools > Weighted NodePools > should schedule to the nodepool with the highest priority always"
    );
    let mut e = Env::new();
    e.apply(nodepool("a")).apply(nodepool("b").weight(20)).apply(nodepool("c").weight(100));
    e.apply_all(pods("p", 3, |p| p));
    let out = e.provision();
    for i in 0..3 {
        out.scheduled(&format!("p-{i}")).has(NODEPOOL, "c");
    }
}

#[test]
fn selected_pool_over_heavier() {
    ports!(
        FILE,
        "Provisioning > Multiple NodePools > Weighted NodePools > should schedule to explicitly selected nodepool even if other nodePools are higher priority"
    );
    let mut e = Env::new();
    e.apply(nodepool("a")).apply(nodepool("b").weight(20)).apply(nodepool("c").weight(100));
    e.apply(pod("p").node_selector(NODEPOOL, "a"));
    e.provision().scheduled("p").has(NODEPOOL, "a");
}

#[test]
fn static_pool_launches_nothing() {
    ports!(FILE, "Provisioning > StaticNodePool > should not create NodeClaims for StaticNodePool");
    let mut e = Env::new();
    e.apply(nodepool("static").replicas(2)).apply(pod("p"));
    let out = e.provision();
    // No NodeClaim is made for the pod. karpsim runs the static provisioning controller too
    // (StaticCapacity on whenever static pools are given): the pool's two replicas, nothing more.
    assert_eq!(out.claims(), 2, "{:#?}", out.r);
    assert!(out.r.nodeclaims.iter().all(|c| c.nodepool == "static"), "{:#?}", out.r);
}

#[test]
fn dynamic_pool_beside_static() {
    ports!(
        FILE,
        "Provisioning > StaticNodePool > should still provision dynamic NodeClaims when there are both Static and Dynamic NodePools"
    );
    let mut e = Env::new();
    // replicas 0: karpsim's run also launches a static pool's replicas, which the pod could use
    e.apply(nodepool("dynamic")).apply(nodepool("static").replicas(0)).apply(pod("p"));
    e.provision().scheduled("p").has(NODEPOOL, "dynamic");
}

// ---------------------------------------------------------------- minValues

/// An arm64 linux type of 4 cpu and 4Gi with spot offerings (zone, price).
fn mv_type(name: &str, offers: &[(&str, f64)]) -> Ty {
    let offers: Vec<(&str, &str, f64)> = offers.iter().map(|(z, p)| (*z, SPOT, *p)).collect();
    ty(name).arch("arm64").os("linux").offers_at(&offers)
}

/// Two types in one "zone" each: fewer than a minValues of 3 on instance types.
fn two_types() -> Vec<Ty> {
    vec![mv_type("instance-type-1", &[("test-zone-1-spot", 0.52)]), mv_type("instance-type-2", &[("test-zone-2-spot", 0.52)])]
}

/// One type offered in two zones: fewer than a minValues of 3 on zones.
fn two_zones() -> Vec<Ty> {
    vec![mv_type("instance-type-1", &[("test-zone-1", 0.52), ("test-zone-2", 0.54)])]
}

const THREE_TYPES: [&str; 3] = ["instance-type-1", "instance-type-2", "instance-type-3"];
const THREE_ZONES: [&str; 3] = ["test-zone-1", "test-zone-2", "test-zone-3"];

fn mv_env(types: Vec<Ty>, policy: MinValuesPolicy, pools: Vec<NodePool>) -> Outcome {
    let mut e = Env::with_types(types);
    e.opts.min_values_policy = policy;
    e.apply_all(pools).apply(pod("p").cpu("0.9").mem("0.9Gi"));
    e.provision()
}

fn types_min3(name: &str, weight: i32) -> NodePool {
    nodepool(name).weight(weight).req_min(IT, "In", &THREE_TYPES, 3)
}

#[test]
fn min_values_strict_types() {
    ports!(
        FILE,
        "Provisioning > MinValuesPolicy > with instance type requirements > with MinValuesPolicy set to Strict > should not schedule when minValues requirement is not met"
    );
    mv_env(two_types(), MinValuesPolicy::Strict, vec![types_min3("default", 100)]).not_scheduled("p");
}

#[track_caller]
fn relaxed_to_both_types(out: &Outcome, pool: &str) {
    let n = out.scheduled("p");
    assert_eq!(n.instance_type(), "instance-type-1");
    n.has(NODEPOOL, pool);
    let claim = n.claim.unwrap();
    assert!(claim.min_values_relaxed, "{claim:#?}");
    assert_eq!(sorted(n.options()), ["instance-type-1", "instance-type-2"]);
}

#[test]
fn min_values_best_effort_types() {
    ports!(
        FILE,
        "Provisioning > MinValuesPolicy > with instance type requirements > with MinValuesPolicy set to BestEffort > should schedule even when minValues requirement is not met"
    );
    let out = mv_env(two_types(), MinValuesPolicy::BestEffort, vec![types_min3("default", 100)]);
    relaxed_to_both_types(&out, "default");
}

#[test]
fn min_values_relaxed_before_fallback() {
    ports!(
        FILE,
        "Provisioning > MinValuesPolicy > with instance type requirements > with MinValuesPolicy set to BestEffort > should relax minValues before falling back to other nodepools"
    );
    let fallback = nodepool("fallback").weight(10).req(IT, "In", &THREE_TYPES);
    let out = mv_env(two_types(), MinValuesPolicy::BestEffort, vec![types_min3("default", 100), fallback]);
    relaxed_to_both_types(&out, "default");
}

#[test]
fn min_values_relaxed_on_heavier_pool() {
    ports!(
        FILE,
        "Provisioning > MinValuesPolicy > with instance type requirements > with MinValuesPolicy set to BestEffort > should choose nodepool with higher weight when relaxing minValues"
    );
    let out = mv_env(two_types(), MinValuesPolicy::BestEffort, vec![types_min3("default", 100), types_min3("lighter", 10)]);
    relaxed_to_both_types(&out, "default");
}

fn zones_min3() -> NodePool {
    nodepool("default").req_min(ZONE, "In", &THREE_ZONES, 3)
}

#[test]
fn min_values_strict_zones() {
    ports!(
        FILE,
        "Provisioning > MinValuesPolicy > with zone requirements > with MinValuesPolicy set to Strict > should not schedule when zone minValues requirement is not met"
    );
    mv_env(two_zones(), MinValuesPolicy::Strict, vec![zones_min3()]).not_scheduled("p");
}

#[track_caller]
fn relaxed_zones(out: &Outcome) -> &str {
    let n = out.scheduled("p");
    assert_eq!(n.instance_type(), "instance-type-1");
    assert!(["test-zone-1", "test-zone-2"].contains(&n.label(ZONE).unwrap()));
    let claim = n.claim.unwrap();
    assert!(claim.min_values_relaxed, "{claim:#?}");
    claim.requirements.iter().find(|l| l.starts_with(ZONE)).map(String::as_str).unwrap()
}

#[test]
fn min_values_best_effort_zones() {
    ports!(
        FILE,
        "Provisioning > MinValuesPolicy > with zone requirements > with MinValuesPolicy set to BestEffort > should schedule even when zone minValues requirement is not met"
    );
    let out = mv_env(two_zones(), MinValuesPolicy::BestEffort, vec![zones_min3()]);
    assert_eq!(relaxed_zones(&out), "topology.kubernetes.io/zone In [test-zone-1, test-zone-2, test-zone-3] minValues 2");
}

#[test]
fn min_values_best_effort_types_and_zones() {
    ports!(
        FILE,
        "Provisioning > MinValuesPolicy > with both instance type and zone requirements > with MinValuesPolicy set to BestEffort > should schedule when minValues requirement is not met"
    );
    let pool = nodepool("default").weight(100).req_min(IT, "In", &THREE_TYPES, 3).req_min(ZONE, "In", &THREE_ZONES, 3);
    let out = mv_env(two_zones(), MinValuesPolicy::BestEffort, vec![pool]);
    assert_eq!(relaxed_zones(&out), "topology.kubernetes.io/zone In [test-zone-1, test-zone-2, test-zone-3] minValues 2");
    assert_eq!(out.scheduled("p").options(), ["instance-type-1"]);
}
