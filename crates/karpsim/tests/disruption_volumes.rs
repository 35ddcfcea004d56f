//! Consolidation of pods with zonal volumes: a pod keeps its PersistentVolume, so the simulation
//! that decides a command places it where the volume can follow (`volumetopology.go` applies to the
//! pods of candidates too, `disruption/helpers.go: SimulateScheduling`).

#[path = "disruption_common/mod.rs"]
mod common;

use common::*;
use karpsim::disruption::{Action, Method};
use serde_json::json;

/// `pod` mounts claim `data`, bound to an EBS volume in `zone`.
fn with_zonal_volume(w: &mut World, pod: &str, zone: &str) {
    w.get("Pod", pod)["spec"]["volumes"] = json!([{"name": "data", "persistentVolumeClaim": {"claimName": "data"}}]);
    w.objs.push(json!({
        "apiVersion": "v1", "kind": "PersistentVolume", "metadata": {"name": "pv-data"},
        "spec": {"csi": {"driver": "ebs.csi.aws.com", "volumeHandle": "vol-1"},
                 "nodeAffinity": {"required": {"nodeSelectorTerms": [{"matchExpressions": [
                     {"key": "topology.kubernetes.io/zone", "operator": "In", "values": [zone]}]}]}}},
    }));
    w.objs.push(json!({
        "apiVersion": "v1", "kind": "PersistentVolumeClaim",
        "metadata": {"name": "data", "namespace": "default", "annotations": {"pv.kubernetes.io/bind-completed": "yes"}},
        "spec": {"storageClassName": "gp3", "volumeName": "pv-data"},
        "status": {"phase": "Bound"},
    }));
}

fn world() -> World {
    let mut w = World::new(std_types());
    w.pool("default", "WhenEmptyOrUnderutilized", all());
    // a-z2 comes first in Karpenter's node order and has room for the db pod
    w.node("a-z2", Some("default"), "large", "z2", "on-demand");
    w.pod("busy", Some("a-z2"), 6000);
    w.node("c-z1", Some("default"), "medium", "z1", "on-demand");
    w.pod("db", Some("c-z1"), 1000);
    w
}

#[test]
fn a_pod_with_a_zonal_volume_moves_within_its_zone() {
    // without a volume the db pod moves to a-z2 and c-z1 is deleted
    let r = world().once();
    let c = only(&r);
    assert_cmd(c, Method::SingleNode, Action::Delete, &["c-z1"]);
    // with its volume in z1 it cannot go to a-z2: c-z1 is replaced by a cheaper node in z1
    let mut w = world();
    with_zonal_volume(&mut w, "db", "z1");
    let r = w.once();
    let c = only(&r);
    assert_cmd(c, Method::SingleNode, Action::Replace, &["c-z1"]);
    assert_eq!((c.replacements[0].instance_type.as_str(), c.replacements[0].zone.as_str()), ("small", "z1"), "{c:#?}");
    // a z1 node with room takes it instead
    let mut w = world();
    with_zonal_volume(&mut w, "db", "z1");
    w.node("b-z1", Some("default"), "large", "z1", "on-demand");
    w.pod("other", Some("b-z1"), 6000);
    let r = w.once();
    let c = only(&r);
    assert_cmd(c, Method::SingleNode, Action::Delete, &["c-z1"]);
    assert_eq!(c.pods.iter().map(|p| (p.pod.as_str(), p.to.as_str())).collect::<Vec<_>>(), [("default/db", "b-z1")]);
}
