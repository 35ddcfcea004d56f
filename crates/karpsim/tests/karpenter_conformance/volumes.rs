//! The volume cases of three Go files: `provisioning/suite_test.go` (Context "Volume Topology
//! Requirements"), `provisioning/scheduling/suite_test.go` (Describe "VolumeUsage") and
//! `provisioning/scheduling/topology_test.go` (Describe "Topology with Volume Requirements").
//!
//! Karpenter's tests run against an API server, where a claim, volume or class that was not
//! created does not exist. karpsim reads inputs that hold no object at all of one of those kinds
//! as "not given" (a `kubectl get pods` dump has none): their volumes are left unmodelled, with a
//! warning. The cases about a missing object therefore give one unrelated object of its kind,
//! which says "these are the cluster's claims (volumes, classes)", as the API server does.

use crate::harness::*;
use serde_json::json;

const PROV: &str = "provisioning/suite_test.go";
const SCHED: &str = "provisioning/scheduling/suite_test.go";
const TOPO: &str = "provisioning/scheduling/topology_test.go";

/// The CSI driver of the scheduling suite's volume-limit cases.
const CSI: &str = "fake.csi.provider";
/// The in-tree EBS plugin and the CSI driver that replaces it.
const EBS_IN_TREE: &str = "kubernetes.io/aws-ebs";
const EBS_CSI: &str = "ebs.csi.aws.com";

// ---------------------------------------------------------------- provisioning/suite_test.go

/// The context's StorageClass: zones 2 and 3, waiting for its first consumer.
fn zonal_class() -> serde_json::Value {
    storage_class("sc", None, true, Some(&["test-zone-2", "test-zone-3"]))
}

/// One provisioning run of the default NodePool over these objects.
fn provision_with(objs: Vec<serde_json::Value>) -> Outcome {
    let mut e = Env::new();
    e.apply(nodepool("default")).apply_all(objs);
    e.provision()
}

#[test]
fn invalid_pvc_not_scheduled() {
    ports!(PROV, "Provisioning > Volume Topology Requirements > should not schedule if invalid pvc");
    // the cluster's claims are given (one unrelated), and none is named "invalid"
    let out = provision_with(vec![pvc("unrelated", None, None), pod("p").pvc("invalid").into()]);
    out.not_scheduled("p");
    assert!(out.reason("p").contains("PersistentVolumeClaim default/invalid is not in the inputs"), "{}", out.reason("p"));
}

#[test]
fn empty_class_bound_scheduled() {
    ports!(PROV, "Provisioning > Volume Topology Requirements > should schedule with an empty storage class if the pvc is bound");
    let out = provision_with(vec![pvc("claim", Some(""), Some("test-volume")), pv("test-volume").class("").into(), pod("p").pvc("claim").into()]);
    out.scheduled("p");
}

#[test]
fn empty_class_unbound_not_scheduled() {
    ports!(PROV, "Provisioning > Volume Topology Requirements > should not schedule with an empty storage class if the pvc is not bound");
    let out = provision_with(vec![pvc("claim", Some(""), None), pod("p").pvc("claim").into()]);
    out.not_scheduled("p");
}

#[test]
fn missing_class_bound_scheduled() {
    ports!(PROV, "Provisioning > Volume Topology Requirements > should schedule with a missing storage class if the pvc is bound");
    let out = provision_with(vec![
        pvc("claim", Some("missing-storage-class"), Some("test-volume")),
        pv("test-volume").class("missing-storage-class").into(),
        pod("p").pvc("claim").into(),
    ]);
    out.scheduled("p");
}

#[test]
fn missing_class_unbound_not_scheduled() {
    ports!(PROV, "Provisioning > Volume Topology Requirements > should not schedule with a missing storage class if the pvc is not bound");
    // the cluster's classes are given (one unrelated): the claim's class is missing
    let out =
        provision_with(vec![storage_class("unrelated", None, true, None), pvc("claim", Some("missing-storage-class"), None), pod("p").pvc("claim").into()]);
    out.not_scheduled("p");
}

/// An invalid pod is left pending, then a valid pod in the next run is scheduled.
fn invalid_then_valid(objs: Vec<serde_json::Value>) {
    let mut e = Env::new();
    e.apply(nodepool("default")).apply_all(objs);
    e.provision().not_scheduled("invalid");
    e.apply(pod("valid"));
    let out = e.provision();
    out.not_scheduled("invalid");
    out.scheduled("valid");
}

#[test]
fn invalid_pvc_does_not_block_others() {
    ports!(PROV, "Provisioning > Volume Topology Requirements > should schedule valid pods when a pod with an invalid pvc is encountered (pvc)");
    invalid_then_valid(vec![pvc("unrelated", None, None), pod("invalid").pvc("invalid").into()]);
}

#[test]
fn invalid_class_does_not_block_others() {
    ports!(PROV, "Provisioning > Volume Topology Requirements > should schedule valid pods when a pod with an invalid pvc is encountered (storage class)");
    invalid_then_valid(vec![
        storage_class("unrelated", None, true, None),
        pvc("claim", Some("invalid-storage-class"), None),
        pod("invalid").pvc("claim").into(),
    ]);
}

#[test]
fn invalid_volume_name_does_not_block_others() {
    ports!(PROV, "Provisioning > Volume Topology Requirements > should schedule valid pods when a pod with an invalid pvc is encountered (volume name)");
    invalid_then_valid(vec![pv("unrelated").into(), pvc("claim", None, Some("invalid-volume-name")), pod("invalid").pvc("claim").into()]);
}

#[test]
fn class_zones_when_volume_absent() {
    ports!(PROV, "Provisioning > Volume Topology Requirements > should schedule to storage class zones if volume does not exist");
    let p = pod("p").pvc("claim").node_req(ZONE, "In", &["test-zone-1", "test-zone-3"]);
    let out = provision_with(vec![zonal_class(), pvc("claim", Some("sc"), None), p.into()]);
    out.scheduled("p").has(ZONE, "test-zone-3");
}

#[test]
fn class_zones_when_volume_absent_ephemeral() {
    ports!(PROV, "Provisioning > Volume Topology Requirements > should schedule to storage class zones if volume does not exist (ephemeral volume)");
    let p = pod("p").ephemeral("data", Some("sc")).node_req(ZONE, "In", &["test-zone-1", "test-zone-3"]);
    let out = provision_with(vec![zonal_class(), pvc("p-data", Some("sc"), None), p.into()]);
    out.scheduled("p").has(ZONE, "test-zone-3");
}

#[test]
fn class_zones_incompatible() {
    ports!(PROV, "Provisioning > Volume Topology Requirements > should not schedule if storage class zones are incompatible");
    let p = pod("p").pvc("claim").node_req(ZONE, "In", &["test-zone-1"]);
    provision_with(vec![zonal_class(), pvc("claim", Some("sc"), None), p.into()]).not_scheduled("p");
}

#[test]
fn class_zones_incompatible_ephemeral() {
    ports!(PROV, "Provisioning > Volume Topology Requirements > should not schedule if storage class zones are incompatible (ephemeral volume)");
    let p = pod("p").ephemeral("data", Some("sc")).node_req(ZONE, "In", &["test-zone-1"]);
    provision_with(vec![zonal_class(), pvc("p-data", Some("sc"), None), p.into()]).not_scheduled("p");
}

#[test]
fn volume_zones_when_bound() {
    ports!(PROV, "Provisioning > Volume Topology Requirements > should schedule to volume zones if volume already bound");
    let out = provision_with(vec![zonal_class(), pv("vol").zones(&["test-zone-3"]).into(), pvc("claim", Some("sc"), Some("vol")), pod("p").pvc("claim").into()]);
    out.scheduled("p").has(ZONE, "test-zone-3");
}

#[test]
fn volume_zones_when_bound_ephemeral() {
    ports!(PROV, "Provisioning > Volume Topology Requirements > should schedule to volume zones if volume already bound (ephemeral volume)");
    let out = provision_with(vec![
        zonal_class(),
        pv("vol").zones(&["test-zone-3"]).into(),
        pvc("p-data", Some("sc"), Some("vol")),
        pod("p").ephemeral("data", Some("sc")).into(),
    ]);
    out.scheduled("p").has(ZONE, "test-zone-3");
}

/// A bound local-path volume whose node affinity names a host that does not exist; `ephemeral`:
/// the pod's claim is an ephemeral volume's.
fn local_path_volume(v: Pv, ephemeral: bool) {
    let class = storage_class("local-path", Some("kubernetes.io/no-provisioner"), false, None);
    let v = v.terms(vec![vec![expr(HOSTNAME, "In", &["some-random-host"])]]);
    let (claim, p) = if ephemeral { ("p-data", pod("p").ephemeral("data", Some("local-path"))) } else { ("claim", pod("p").pvc("claim")) };
    let out = provision_with(vec![class, v.into(), pvc(claim, Some("local-path"), Some("vol")), p.into()]);
    // the hostname is dropped: a pod moving to a new node cannot keep its old host
    out.scheduled("p");
}

#[test]
fn local_volume_ignores_hostname() {
    ports!(PROV, "Provisioning > Volume Topology Requirements > should ignore hostname affinity scheduling when using local path volumes > when using local volumes");
    local_path_volume(pv("vol").local(), false);
}

#[test]
fn host_path_volume_ignores_hostname() {
    ports!(PROV, "Provisioning > Volume Topology Requirements > should ignore hostname affinity scheduling when using local path volumes > when using hostpath volumes");
    local_path_volume(pv("vol").host_path(), false);
}

#[test]
fn local_volume_ignores_hostname_ephemeral() {
    ports!(
        PROV,
        "Provisioning > Volume Topology Requirements > should ignore hostname affinity scheduling when using local path volumes (ephemeral volume) > when using local volumes"
    );
    local_path_volume(pv("vol").local(), true);
}

#[test]
fn host_path_volume_ignores_hostname_ephemeral() {
    ports!(
        PROV,
        "Provisioning > Volume Topology Requirements > should ignore hostname affinity scheduling when using local path volumes (ephemeral volume) > when using hostpath volumes"
    );
    local_path_volume(pv("vol").host_path(), true);
}

#[test]
fn csi_volume_keeps_hostname() {
    ports!(PROV, "Provisioning > Volume Topology Requirements > should not ignore hostname affinity when using non-local path volumes");
    let v = pv("vol").terms(vec![vec![expr(HOSTNAME, "In", &["some-random-host"])]]);
    provision_with(vec![zonal_class(), v.into(), pvc("claim", Some("sc"), Some("vol")), pod("p").pvc("claim").into()]).not_scheduled("p");
}

#[test]
fn volume_zones_incompatible() {
    ports!(PROV, "Provisioning > Volume Topology Requirements > should not schedule if volume zones are incompatible");
    let p = pod("p").pvc("claim").node_req(ZONE, "In", &["test-zone-1"]);
    provision_with(vec![zonal_class(), pv("vol").zones(&["test-zone-3"]).into(), pvc("claim", Some("sc"), Some("vol")), p.into()]).not_scheduled("p");
}

#[test]
fn volume_zones_incompatible_ephemeral() {
    ports!(PROV, "Provisioning > Volume Topology Requirements > should not schedule if volume zones are incompatible (ephemeral volume)");
    let p = pod("p").ephemeral("data", Some("sc")).node_req(ZONE, "In", &["test-zone-1"]);
    provision_with(vec![zonal_class(), pv("vol").zones(&["test-zone-3"]).into(), pvc("p-data", Some("sc"), Some("vol")), p.into()]).not_scheduled("p");
}

#[test]
fn volume_zone_not_relaxed_away() {
    ports!(PROV, "Provisioning > Volume Topology Requirements > should not relax an added volume topology zone node-selector away");
    // the first term cannot be met and is relaxed away; the volume's zone must hold for the second
    let p = pod("p").pvc("claim").node_terms(vec![vec![expr("example.com/label", "In", &["unsupported"])], vec![expr(CT, "In", &[OD])]]);
    let out = provision_with(vec![zonal_class(), pv("vol").zones(&["test-zone-3"]).into(), pvc("claim", Some("sc"), Some("vol")), p.into()]);
    out.scheduled("p").has(ZONE, "test-zone-3");
}

// ---------------------------------------------------------------- provisioning/scheduling/suite_test.go

/// The scheduling suite's NodePool without limits, over the VolumeUsage context's one type
/// (1024 cpu, 1024 pods).
fn usage_env() -> Env {
    let mut e = Env::with_types(vec![ty("instance-type").cpu(1024).pods(1024)]);
    e.apply(nodepool("default").req(CT, "In", &[SPOT, OD, "reserved"]).set(&["spec", "limits"], json!({})));
    e
}

/// Launch a node for `first` (a pod, with its storage objects already applied), then give that
/// node a CSINode with these limits: the node's name.
fn node_with_limits(e: &mut Env, first: Pod, limits: &[(&str, i32)]) -> String {
    e.apply(first.clone());
    let out = e.provision();
    out.scheduled(&first.name());
    let node = e.launch(&out).remove(0);
    e.apply(csi_node(&node, limits));
    node
}

#[test]
fn volume_limits_need_a_second_node() {
    ports!(SCHED, "Scheduling > VolumeUsage > should launch multiple nodes if required due to volume limits");
    let mut e = usage_env();
    e.apply(storage_class("my-storage-class", Some(CSI), true, Some(&["test-zone-1"])));
    let node = node_with_limits(&mut e, pod("initial"), &[(CSI, 10)]);
    for i in 0..6 {
        e.apply(pvc(&format!("my-claim-a-{i}"), Some("my-storage-class"), None));
        e.apply(pvc(&format!("my-claim-b-{i}"), Some("my-storage-class"), None));
        e.apply(pod(&format!("p-{i}")).pvc(&format!("my-claim-a-{i}")).pvc(&format!("my-claim-b-{i}")));
    }
    let out = e.provision();
    // two claims a pod: the in-flight node takes five pods (10 volumes), the sixth needs a new node
    let on_node = (0..6).filter(|i| out.scheduled(&format!("p-{i}")).name == node).count();
    assert_eq!(on_node, 5);
    assert_eq!(out.claims(), 1);
}

#[test]
fn shared_claim_counts_once() {
    ports!(SCHED, "Scheduling > VolumeUsage > should launch a single node if all pods use the same PVC");
    let mut e = usage_env();
    e.apply(storage_class("my-storage-class", Some(CSI), false, Some(&["test-zone-1"])));
    e.apply(pv("my-volume").zones(&["test-zone-1"]));
    e.apply(pvc("my-claim", Some("my-storage-class"), Some("my-volume")));
    let node = node_with_limits(&mut e, pod("initial"), &[(CSI, 10)]);
    e.apply_all(pods("p", 100, |p| p.pvc("my-claim")));
    let out = e.provision();
    assert_eq!(out.claims(), 0);
    assert!((0..100).all(|i| out.scheduled(&format!("p-{i}")).name == node));
}

#[test]
fn nfs_volumes() {
    ports!(SCHED, "Scheduling > VolumeUsage > should not fail for NFS volumes");
    let mut e = usage_env();
    let node = node_with_limits(&mut e, pod("initial"), &[]);
    e.apply(pv("my-volume").class("nfs").zones(&["test-zone-1"]).source("nfs", json!({"server": "fake.server", "path": "/some/path"})));
    e.apply(pvc("my-claim", Some(""), Some("my-volume")));
    // each pod names the claim twice
    e.apply_all(pods("p", 5, |p| p.pvc("my-claim").pvc("my-claim")));
    let out = e.provision();
    assert_eq!(out.claims(), 0);
    assert!((0..5).all(|i| out.scheduled(&format!("p-{i}")).name == node));
}

/// Two pods, each with its own claim, kept in different zones by anti-affinity: the zones they get.
fn two_zones_apart(e: &mut Env, claim: impl Fn(usize) -> String) -> (String, String) {
    for i in 0..2 {
        e.apply(pod(&format!("pod-{i}")).label("app", "multi-zone-app").pvc(&claim(i)).anti_affinity_to(ZONE, &[("app", "multi-zone-app")]));
    }
    let out = e.provision();
    let z = |p: &str| out.scheduled(p).label(ZONE).unwrap().to_string();
    (z("pod-0"), z("pod-1"))
}

#[test]
fn pv_with_two_zones() {
    ports!(SCHED, "Scheduling > VolumeUsage > should schedule pods using a PV with multiple zones");
    let mut e = Env::new();
    e.apply(nodepool("default").req(CT, "In", &[SPOT, OD, "reserved"]));
    for i in 0..2 {
        // two terms: zone 1 or zone 2
        e.apply(pv(&format!("multi-zone-pv-{i}")).terms(vec![vec![expr(ZONE, "In", &["test-zone-1"])], vec![expr(ZONE, "In", &["test-zone-2"])]]));
        e.apply(pvc(&format!("multi-zone-pvc-{i}"), None, Some(&format!("multi-zone-pv-{i}"))));
    }
    let (a, b) = two_zones_apart(&mut e, |i| format!("multi-zone-pvc-{i}"));
    assert!(["test-zone-1", "test-zone-2"].contains(&a.as_str()) && ["test-zone-1", "test-zone-2"].contains(&b.as_str()), "{a} {b}");
    assert_ne!(a, b);
}

/// A local or hostPath volume on one host or in a zone that does not exist.
fn hostname_or_zone(v: Pv) {
    let mut e = Env::new();
    e.apply(nodepool("default").req(CT, "In", &[SPOT, OD, "reserved"]));
    e.apply(v.terms(vec![vec![expr(HOSTNAME, "In", &["existing-host"])], vec![expr(ZONE, "In", &["invalid-zone"])]]));
    e.apply(pvc("hostname-or-zone-pvc", None, Some("hostname-or-zone-pv")));
    e.apply(pod("hostname-or-zone-pod").pvc("hostname-or-zone-pvc"));
    // the hostname term, its hostname dropped, leaves an alternative without constraints
    e.provision().scheduled("hostname-or-zone-pod");
}

#[test]
fn unconstrained_alternative_local() {
    ports!(SCHED, "Scheduling > VolumeUsage > should preserve unconstrained PV alternatives after ignoring hostname affinity > for local volumes");
    hostname_or_zone(pv("hostname-or-zone-pv").local());
}

#[test]
fn unconstrained_alternative_host_path() {
    ports!(SCHED, "Scheduling > VolumeUsage > should preserve unconstrained PV alternatives after ignoring hostname affinity > for hostpath volumes");
    hostname_or_zone(pv("hostname-or-zone-pv").host_path());
}

#[test]
fn class_with_two_zone_terms() {
    ports!(SCHED, "Scheduling > VolumeUsage > should schedule pods using a StorageClass with multiple zones in AllowedTopologies");
    let mut e = Env::new();
    e.apply(nodepool("default").req(CT, "In", &[SPOT, OD, "reserved"]));
    e.apply(storage_class_terms("multi-zone-sc", &[&[(ZONE, &["test-zone-1"])], &[(ZONE, &["test-zone-2"])]]));
    for i in 0..2 {
        e.apply(pvc(&format!("multi-zone-pvc-{i}"), Some("multi-zone-sc"), None));
    }
    let (a, b) = two_zones_apart(&mut e, |i| format!("multi-zone-pvc-{i}"));
    assert!(["test-zone-1", "test-zone-2"].contains(&a.as_str()) && ["test-zone-1", "test-zone-2"].contains(&b.as_str()), "{a} {b}");
    assert_ne!(a, b);
}

#[test]
fn multi_volume_alternatives_pruned() {
    ports!(SCHED, "Scheduling > VolumeUsage > should schedule pods when a valid multi-volume topology alternative remains after pruning disjoint branches");
    let mut e = Env::with_types(instance_types(5));
    e.apply(nodepool("default").req(CT, "In", &[SPOT, OD, "reserved"]));
    e.apply(storage_class_terms("pruned-overlap-a", &[&[("special", &["required"])], &[("special", &["optional"])]]));
    e.apply(storage_class_terms(
        "pruned-overlap-b",
        &[&[(ZONE, &["test-zone-1"]), ("special", &["optional"])], &[(ZONE, &["test-zone-2"]), ("special", &["required"])]],
    ));
    e.apply(pvc("pruned-overlap-pvc-a", Some("pruned-overlap-a"), None));
    e.apply(pvc("pruned-overlap-pvc-b", Some("pruned-overlap-b"), None));
    e.apply(pod("pruned-overlap-pod").pvc("pruned-overlap-pvc-a").pvc("pruned-overlap-pvc-b"));
    // of the two alternatives left, no type is `special: required`; `optional` in zone 1 is
    let out = e.provision();
    let n = out.scheduled("pruned-overlap-pod");
    n.has(ZONE, "test-zone-1");
    n.has("special", "optional");
}

/// The first node holds a pod whose ephemeral claim counts against `limits`; a second pod with
/// such a claim must go to a new node. `class`: the claims' class (`None`: the default one).
fn ephemeral_over_limit(e: &mut Env, class: Option<&str>, limits: &[(&str, i32)]) {
    e.apply(pvc("initial-tmp-ephemeral", class, None));
    let first = pod("initial").ephemeral("tmp-ephemeral", class);
    let node = node_with_limits(e, first, limits);
    e.apply(pvc("p-tmp-ephemeral", class, None));
    e.apply(pod("p").ephemeral("tmp-ephemeral", class));
    let out = e.provision();
    assert_ne!(out.scheduled("p").name, node);
}

#[test]
fn ephemeral_named_class() {
    ports!(SCHED, "Scheduling > VolumeUsage > should launch nodes for pods with ephemeral volume using the specified storage class name");
    let mut e = usage_env();
    e.apply(storage_class("my-storage-class", Some(CSI), true, Some(&["test-zone-1"])));
    // a default class with no limit that must not be used
    e.apply(default_class(storage_class("default-storage-class", Some("other-provider"), true, Some(&["test-zone-1"])), "2024-01-01T00:00:00Z"));
    ephemeral_over_limit(&mut e, Some("my-storage-class"), &[(CSI, 1), ("other-provider", 10)]);
}

#[test]
fn ephemeral_default_class() {
    ports!(SCHED, "Scheduling > VolumeUsage > should launch nodes for pods with ephemeral volume using a default storage class");
    let mut e = usage_env();
    e.apply(default_class(storage_class("default-storage-class", Some(CSI), true, Some(&["test-zone-1"])), "2024-01-01T00:00:00Z"));
    ephemeral_over_limit(&mut e, None, &[(CSI, 1)]);
}

#[test]
fn ephemeral_newest_default_class() {
    ports!(SCHED, "Scheduling > VolumeUsage > should launch nodes for pods with ephemeral volume using the newest storage class");
    let mut e = usage_env();
    e.apply(default_class(storage_class("default-storage-class", Some("other-provider"), true, Some(&["test-zone-1"])), "2024-01-01T00:00:00Z"));
    e.apply(default_class(storage_class("newer-default-storage-class", Some(CSI), true, Some(&["test-zone-1"])), "2024-01-01T00:00:02Z"));
    ephemeral_over_limit(&mut e, None, &[(CSI, 1), ("other-provider", 10)]);
}

#[test]
fn immediate_class_unbound_not_launched() {
    ports!(SCHED, "Scheduling > VolumeUsage > should not launch nodes for pod with unbound volume for volumeBindingMode immediate");
    let mut e = usage_env();
    e.apply(storage_class("default-storage-class", Some("other-provider"), false, Some(&["test-zone-1"])));
    e.apply(pvc("tmp-ephemeral", Some("default-storage-class"), None)).apply(pod("p").pvc("tmp-ephemeral"));
    let out = e.provision();
    out.not_scheduled("p");
    assert!(out.reason("p").contains("binds Immediately"), "{}", out.reason("p"));
}

#[test]
fn deleting_claim_not_launched() {
    ports!(SCHED, "Scheduling > VolumeUsage > should not launch nodes for pod with deleting persistentVolumeClaim");
    let mut e = usage_env();
    e.apply(storage_class("default-storage-class", Some("other-provider"), true, Some(&["test-zone-1"])));
    let mut claim = pvc("tmp-ephemeral", Some("default-storage-class"), None);
    claim["metadata"]["deletionTimestamp"] = json!("2026-01-01T00:00:00Z");
    e.apply(claim).apply(pod("p").pvc("tmp-ephemeral"));
    let out = e.provision();
    out.not_scheduled("p");
    assert_eq!(out.claims(), 0);
}

#[test]
fn deleting_volume_not_launched() {
    ports!(SCHED, "Scheduling > VolumeUsage > should not launch nodes for pod with bound persistentVolume that is marked for deletion");
    let mut e = usage_env();
    e.apply(pv("vol").driver("other-provider").deleting()).apply(pvc("p-tmp-ephemeral", None, Some("vol")));
    e.apply(pod("p").ephemeral("tmp-ephemeral", None));
    let out = e.provision();
    out.not_scheduled("p");
    assert_eq!(out.claims(), 0);
}

#[test]
fn lost_claim_not_launched() {
    ports!(SCHED, "Scheduling > VolumeUsage > should not launch nodes for pod with Lost persistentVolumeClaim");
    let mut e = usage_env();
    e.apply(storage_class("default-storage-class", Some("other-provider"), true, Some(&["test-zone-1"])));
    let mut claim = pvc("tmp-ephemeral", Some("default-storage-class"), None);
    claim["status"]["phase"] = json!("Lost");
    e.apply(claim).apply(pod("p").pvc("tmp-ephemeral"));
    e.provision().not_scheduled("p");
}

/// A claim naming its volume, with or without the PV controller's bind-completed annotation.
fn volume_name_claim(annotated: bool) -> Outcome {
    let mut e = usage_env();
    e.apply(storage_class("default-storage-class", Some("other-provider"), true, Some(&["test-zone-1"])));
    e.apply(pv("vol").driver("other-provider"));
    let mut claim = pvc("tmp-ephemeral", Some("default-storage-class"), Some("vol"));
    if !annotated {
        claim["metadata"].as_object_mut().unwrap().remove("annotations");
    }
    e.apply(claim).apply(pod("p").pvc("tmp-ephemeral"));
    e.provision()
}

#[test]
fn volume_name_without_bind_completed() {
    ports!(SCHED, "Scheduling > VolumeUsage > should handle pods with PVCs with defined volumeName > when pv.kubernetes.io/bind-completed is missing");
    volume_name_claim(false).not_scheduled("p");
}

#[test]
fn volume_name_with_bind_completed() {
    ports!(SCHED, "Scheduling > VolumeUsage > should handle pods with PVCs with defined volumeName > when pv.kubernetes.io/bind-completed is present");
    volume_name_claim(true).scheduled("p");
}

/// An ephemeral volume whose template names `class`, a class the cluster does not have; its claim
/// bound to a volume when `bound`.
fn ephemeral_without_class(class: &str, bound: bool) -> Outcome {
    let mut e = usage_env();
    if bound {
        e.apply(pvc("p-tmp-ephemeral", Some(class), Some("test-pv"))).apply(pv("test-pv"));
    } else {
        // the cluster's classes are given (one unrelated); the claim is to be made from the template
        e.apply(storage_class("unrelated", None, true, None));
    }
    e.apply(pod("p").ephemeral("tmp-ephemeral", Some(class)));
    e.provision()
}

#[test]
fn ephemeral_bound_missing_class() {
    ports!(SCHED, "Scheduling > VolumeUsage > should launch nodes for pods with ephemeral volume without a storage class when the PVC is bound > non-existent storage class");
    let out = ephemeral_without_class("non-existent", true);
    out.scheduled("p");
    assert_eq!(out.claims(), 1);
}

#[test]
fn ephemeral_bound_empty_class() {
    ports!(
        SCHED,
        "Scheduling > VolumeUsage > should launch nodes for pods with ephemeral volume without a storage class when the PVC is bound > explicitly disabled storage class (empty string)"
    );
    let out = ephemeral_without_class("", true);
    out.scheduled("p");
    assert_eq!(out.claims(), 1);
}

#[test]
fn ephemeral_unbound_missing_class() {
    ports!(
        SCHED,
        "Scheduling > VolumeUsage > should not launch nodes for pods with ephemeral volume without a storage class when the PVC is unbound > non-existent storage class"
    );
    let out = ephemeral_without_class("non-existent", false);
    out.not_scheduled("p");
    assert_eq!(out.claims(), 0);
}

#[test]
fn ephemeral_unbound_empty_class() {
    ports!(
        SCHED,
        "Scheduling > VolumeUsage > should not launch nodes for pods with ephemeral volume without a storage class when the PVC is unbound > explicitly disabled storage class (empty string)"
    );
    let out = ephemeral_without_class("", false);
    out.not_scheduled("p");
    assert_eq!(out.claims(), 0);
}

#[test]
fn migrated_in_tree_claim() {
    ports!(SCHED, "Scheduling > VolumeUsage > CSIMigration > should launch nodes for pods with non-dynamic PVC using a migrated PVC/PV");
    let mut e = usage_env();
    e.apply(default_class(storage_class("in-tree-storage-class", Some(EBS_IN_TREE), true, Some(&["test-zone-1"])), "2024-01-01T00:00:00Z"));
    e.apply(pvc("claim-1", Some("in-tree-storage-class"), None));
    // the in-tree plugin's claims count against the EBS CSI driver's limit
    let node = node_with_limits(&mut e, pod("initial").pvc("claim-1"), &[(EBS_CSI, 1)]);
    e.apply(pv("my-volume").zones(&["test-zone-1"]).source("awsElasticBlockStore", json!({"fsType": "ext4", "volumeID": "vol-1"})));
    e.apply(pvc("claim-2", Some("in-tree-storage-class"), None)).apply(pod("p").pvc("claim-2"));
    assert_ne!(e.provision().scheduled("p").name, node);
}

#[test]
fn migrated_in_tree_ephemeral() {
    ports!(SCHED, "Scheduling > VolumeUsage > CSIMigration > should launch nodes for pods with ephemeral volume using a migrated PVC/PV");
    let mut e = usage_env();
    e.apply(default_class(storage_class("in-tree-storage-class", Some(EBS_IN_TREE), true, Some(&["test-zone-1"])), "2024-01-01T00:00:00Z"));
    // the claims themselves name no class: the default (in-tree) one applies
    e.apply(pvc("initial-tmp-ephemeral", None, None));
    let node = node_with_limits(&mut e, pod("initial").ephemeral("tmp-ephemeral", Some("in-tree-storage-class")), &[(EBS_CSI, 1)]);
    e.apply(pvc("p-tmp-ephemeral", None, None)).apply(pod("p").ephemeral("tmp-ephemeral", Some("in-tree-storage-class")));
    assert_ne!(e.provision().scheduled("p").name, node);
}

// ---------------------------------------------------------------- provisioning/scheduling/topology_test.go

#[test]
fn volume_zone_does_not_skew_spread() {
    ports!(TOPO, "Topology with Volume Requirements > should schedule pod with PVC and TSC minDomains=3 when pods are spread across 3 zones");
    let tsc = json!({"topologyKey": ZONE, "whenUnsatisfiable": "DoNotSchedule", "labelSelector": labels_sel(&[("app", "test")]), "maxSkew": 1, "minDomains": 3});
    let mut e = Env::new();
    e.apply(nodepool("default").req(CT, "In", &[OD])).apply(pv("test-pv").zones(&["test-zone-1"])).apply(pvc("test-pvc", None, Some("test-pv")));
    e.apply_all(pods("p", 3, |p| p.label("app", "test").tsc(tsc.clone())));
    let out = e.provision();
    assert_eq!(out.skew_all(Some(&[("app", "test")]), ZONE), vec![1, 1, 1]);
    e.launch(&out);
    e.apply(pod("with-pvc").label("app", "test").tsc(tsc.clone()).pvc("test-pvc"));
    let out = e.provision();
    // the volume's zone places the NodeClaim; it does not change how the spread counts domains
    out.scheduled("with-pvc").has(ZONE, "test-zone-1");
    assert_eq!(out.skew_all(Some(&[("app", "test")]), ZONE), vec![1, 1, 2]);
}
