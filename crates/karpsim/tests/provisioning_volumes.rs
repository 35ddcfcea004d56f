//! PersistentVolumeClaims in the provisioning scheduler: the zones their volumes allow
//! (`scheduling/volumetopology.go`), the claims Karpenter refuses to provision for
//! (`ValidatePersistentVolumeClaims`), StatefulSet and ephemeral claims, and per-node attach limits
//! (`pkg/scheduling/volumeusage.go`). Scenarios follow Karpenter's `provisioning/suite_test.go`
//! ("Volume Topology Requirements") and `scheduling/suite_test.go` ("VolumeUsage"); the tests are our own.

mod common;
use common::*;

fn cat() -> String {
    catalog(&[it("c4", 4, 8, 10)])
}

/// A WaitForFirstConsumer StorageClass allowing `zones` (none: no allowedTopologies).
fn storage_class(name: &str, zones: &[&str], extra: &str) -> String {
    let topo = if zones.is_empty() {
        String::new()
    } else {
        format!("allowedTopologies: [{{matchLabelExpressions: [{{key: topology.kubernetes.io/zone, values: [{}]}}]}}]\n", zones.join(", "))
    };
    format!(
        "---\napiVersion: storage.k8s.io/v1\nkind: StorageClass\nmetadata: {{name: {name}{extra}}}\nprovisioner: ebs.csi.aws.com\nvolumeBindingMode: WaitForFirstConsumer\n{topo}"
    )
}

/// An unbound claim of `class` (empty: no storageClassName).
fn pvc(name: &str, class: &str) -> String {
    let sc = if class.is_empty() { String::new() } else { format!("storageClassName: {class}, ") };
    format!(
        "---\napiVersion: v1\nkind: PersistentVolumeClaim\nmetadata: {{name: {name}, namespace: default}}\nspec: {{{sc}accessModes: [ReadWriteOnce], resources: {{requests: {{storage: 10Gi}}}}}}\nstatus: {{phase: Pending}}\n"
    )
}

/// A claim bound to `volume` (bind completed, as the PV controller leaves it).
fn bound_pvc(name: &str, class: &str, volume: &str) -> String {
    format!(
        "---\napiVersion: v1\nkind: PersistentVolumeClaim\nmetadata: {{name: {name}, namespace: default, annotations: {{pv.kubernetes.io/bind-completed: 'yes'}}}}\nspec: {{storageClassName: {class}, volumeName: {volume}, accessModes: [ReadWriteOnce]}}\nstatus: {{phase: Bound}}\n"
    )
}

/// A CSI volume whose node affinity has one term per zone group (`[["z1"], ["z2", "z3"]]`).
fn volume(name: &str, terms: &[&[&str]]) -> String {
    let terms: Vec<String> = terms
        .iter()
        .map(|zs| format!("{{matchExpressions: [{{key: topology.kubernetes.io/zone, operator: In, values: [{}]}}]}}", zs.join(", ")))
        .collect();
    format!(
        "---\napiVersion: v1\nkind: PersistentVolume\nmetadata: {{name: {name}}}\nspec:\n  capacity: {{storage: 10Gi}}\n  csi: {{driver: ebs.csi.aws.com, volumeHandle: vol-{name}}}\n  nodeAffinity: {{required: {{nodeSelectorTerms: [{}]}}}}\n",
        terms.join(", ")
    )
}

/// `spec` lines of a pod mounting these claims.
fn mounts(claims: &[&str]) -> String {
    let vols: Vec<String> =
        claims.iter().enumerate().map(|(i, c)| format!("{{name: v{i}, persistentVolumeClaim: {{claimName: {c}}}}}")).collect();
    format!("  volumes: [{}]\n", vols.join(", "))
}

/// `spec` lines of a pod requiring one of `zones`.
fn zones_required(zones: &[&str]) -> String {
    format!(
        "  affinity: {{nodeAffinity: {{requiredDuringSchedulingIgnoredDuringExecution: {{nodeSelectorTerms: [{{matchExpressions: [{{key: topology.kubernetes.io/zone, operator: In, values: [{}]}}]}}]}}}}}}\n",
        zones.join(", ")
    )
}

#[test]
fn a_bound_volume_pins_the_pod_to_its_zone() {
    let yaml = [
        pool("default", &[]),
        storage_class("gp3", &["test-zone-2", "test-zone-3"], ""),
        volume("pv-1", &[&["test-zone-3"]]),
        bound_pvc("data", "gp3", "pv-1"),
        pod("p", "1", "", "", &mounts(&["data"])),
    ]
    .concat();
    let r = run(&cat(), &yaml);
    let nc = claim(&r, "p");
    assert_eq!(nc.zone, "test-zone-3");
    assert_eq!(req(nc, "topology.kubernetes.io/zone"), Some("In [test-zone-3]"), "the volume's zone is a NodeClaim requirement");
}

#[test]
fn an_unbound_wait_for_first_consumer_claim_follows_the_class_topologies() {
    let yaml = [
        pool("default", &[]),
        storage_class("gp3", &["test-zone-2", "test-zone-3"], ""),
        pvc("data", "gp3"),
        pod("p", "1", "", "", &format!("{}{}", mounts(&["data"]), zones_required(&["test-zone-1", "test-zone-3"]))),
    ]
    .concat();
    assert_eq!(run(&cat(), &yaml).nodeclaims[0].zone, "test-zone-3");
    // no zone satisfies both the pod and its volume
    let yaml = [
        pool("default", &[]),
        storage_class("gp3", &["test-zone-2", "test-zone-3"], ""),
        pvc("data", "gp3"),
        pod("p", "1", "", "", &format!("{}{}", mounts(&["data"]), zones_required(&["test-zone-1"]))),
    ]
    .concat();
    let r = run(&cat(), &yaml);
    assert!(r.nodeclaims.is_empty());
    let why = unschedulable(&r, "p");
    assert!(why.contains("volume topology") && why.contains("test-zone-2, test-zone-3"), "{why}");
}

#[test]
fn volume_topology_is_not_relaxed_away_with_the_pods_node_affinity_terms() {
    // the pod's first term is unsatisfiable and relaxed away; the volume's zone stays
    let spec = format!(
        "{}  affinity: {{nodeAffinity: {{requiredDuringSchedulingIgnoredDuringExecution: {{nodeSelectorTerms: [{{matchExpressions: [{{key: example.com/label, operator: In, values: [unsupported]}}]}}, {{matchExpressions: [{{key: karpenter.sh/capacity-type, operator: In, values: [on-demand]}}]}}]}}}}}}\n",
        mounts(&["data"])
    );
    let yaml = [
        pool("default", &[ANY_CT]),
        storage_class("gp3", &[], ""),
        volume("pv-1", &[&["test-zone-3"]]),
        bound_pvc("data", "gp3", "pv-1"),
        pod("p", "1", "", "", &spec),
    ]
    .concat();
    let r = run(&cat(), &yaml);
    assert_eq!(claim(&r, "p").zone, "test-zone-3");
    assert_eq!(claim(&r, "p").capacity_type, "on-demand");
}

#[test]
fn claims_karpenter_does_not_provision_for() {
    let base = [pool("default", &[]), storage_class("gp3", &["test-zone-1"], "")].concat();
    let immediate = "---\napiVersion: storage.k8s.io/v1\nkind: StorageClass\nmetadata: {name: io2}\nprovisioner: ebs.csi.aws.com\n";
    let cases: Vec<(String, &str)> = vec![
        // a claim that is not in the inputs (while others are)
        (pvc("other", "gp3"), "PersistentVolumeClaim default/data is not in the inputs"),
        // unbound, of a class the inputs do not have
        (pvc("data", "missing"), "StorageClass missing of unbound claim default/data is not in the inputs"),
        // unbound with an empty class
        (pvc("data", "\"\""), "unbound and names no StorageClass"),
        // unbound, of a class that binds immediately (the API's default mode)
        (format!("{immediate}{}", pvc("data", "io2")), "binds Immediately"),
        // bound to a volume that does not exist (while others do)
        (
            format!("{}{}", volume("pv-2", &[&["test-zone-1"]]), bound_pvc("data", "gp3", "pv-1")),
            "PersistentVolume pv-1 of claim default/data is not in the inputs",
        ),
        // being deleted
        (
            pvc("data", "gp3").replace("namespace: default}", "namespace: default, deletionTimestamp: '2024-01-02T00:00:00Z'}"),
            "is being deleted",
        ),
        // Lost
        (pvc("data", "gp3").replace("phase: Pending", "phase: Lost"), "is Lost"),
        // a snapshot claim naming a volume before the PV controller completed the binding
        (
            bound_pvc("data", "gp3", "pv-1").replace("annotations: {pv.kubernetes.io/bind-completed: 'yes'}", "annotations: {}")
                + &volume("pv-1", &[&["test-zone-1"]]),
            "not bound yet",
        ),
    ];
    for (objects, why) in cases {
        let yaml = [base.as_str(), &objects, &pod("p", "1", "", "", &mounts(&["data"])), &pod("ok", "1", "", "", "")].concat();
        let r = run(&cat(), &yaml);
        let reason = unschedulable(&r, "p");
        assert!(reason.contains(why) && reason.contains("Karpenter does not provision the pod"), "{why:?} not in {reason:?}");
        assert!(claim_of(&r, "ok").is_some(), "other pods still schedule ({why})");
    }
}

#[test]
fn a_bound_claim_needs_no_storage_class() {
    // bound claims schedule whatever their class says: empty, or one the inputs lack
    for class in ["\"\"", "missing"] {
        let yaml = [
            pool("default", &[]),
            storage_class("gp3", &[], ""),
            volume("pv-1", &[&["test-zone-2"]]),
            bound_pvc("data", class, "pv-1"),
            pod("p", "1", "", "", &mounts(&["data"])),
        ]
        .concat();
        assert_eq!(claim(&run(&cat(), &yaml), "p").zone, "test-zone-2", "class {class}");
    }
}

#[test]
fn ephemeral_volumes_use_their_template_or_the_existing_claim() {
    let eph = |class: &str| {
        let sc = if class.is_empty() { String::new() } else { format!("storageClassName: {class}, ") };
        format!(
            "  volumes: [{{name: scratch, ephemeral: {{volumeClaimTemplate: {{spec: {{{sc}accessModes: [ReadWriteOnce], resources: {{requests: {{storage: 1Gi}}}}}}}}}}}}]\n"
        )
    };
    // the claim <pod>-<volume> does not exist yet: its template's class decides
    let yaml = [pool("default", &[]), storage_class("gp3", &["test-zone-2"], ""), pod("p", "1", "", "", &eph("gp3"))].concat();
    assert_eq!(claim(&run(&cat(), &yaml), "p").zone, "test-zone-2");
    // it exists and is bound: its volume decides
    let yaml = [
        pool("default", &[]),
        storage_class("gp3", &["test-zone-2"], ""),
        volume("pv-9", &[&["test-zone-3"]]),
        bound_pvc("p-scratch", "gp3", "pv-9"),
        pod("p", "1", "", "", &eph("gp3")),
    ]
    .concat();
    assert_eq!(claim(&run(&cat(), &yaml), "p").zone, "test-zone-3");
    // no class in the template: the default StorageClass, the newest when several are marked
    let default =
        |created: &str| format!(", annotations: {{storageclass.kubernetes.io/is-default-class: 'true'}}, creationTimestamp: '{created}'");
    let yaml = [
        pool("default", &[]),
        storage_class("old-default", &["test-zone-1"], &default("2023-01-01T00:00:00Z")),
        storage_class("new-default", &["test-zone-3"], &default("2024-01-01T00:00:00Z")),
        storage_class("other", &["test-zone-2"], ""),
        pod("p", "1", "", "", &eph("")),
    ]
    .concat();
    let i = load(&yaml).unwrap();
    assert!(i.warnings.iter().any(|w| w.contains("2 StorageClasses are marked default") && w.contains("new-default")), "{:?}", i.warnings);
    assert_eq!(claim(&run(&cat(), &yaml), "p").zone, "test-zone-3");
}

#[test]
fn local_volumes_drop_their_hostname_but_others_keep_it() {
    let pv = |local: bool| {
        let source = if local { "local: {path: /mnt/disk}" } else { "csi: {driver: ebs.csi.aws.com, volumeHandle: v}" };
        format!(
            "---\napiVersion: v1\nkind: PersistentVolume\nmetadata: {{name: pv-1}}\nspec:\n  {source}\n  nodeAffinity: {{required: {{nodeSelectorTerms: [{{matchExpressions: [{{key: kubernetes.io/hostname, operator: In, values: [gone-node]}}]}}]}}}}\n"
        )
    };
    let yaml = [
        pool("default", &[]),
        storage_class("local", &[], ""),
        pv(true),
        bound_pvc("data", "local", "pv-1"),
        pod("p", "1", "", "", &mounts(&["data"])),
    ]
    .concat();
    assert!(claim_of(&run(&cat(), &yaml), "p").is_some(), "a local volume's hostname is not followed to a new node");
    let yaml = [
        pool("default", &[]),
        storage_class("local", &[], ""),
        pv(false),
        bound_pvc("data", "local", "pv-1"),
        pod("p", "1", "", "", &mounts(&["data"])),
    ]
    .concat();
    let r = run(&cat(), &yaml);
    assert!(reason(&r, "p").is_some(), "a CSI volume pinned to a missing host cannot be reached: {r:#?}");
}

#[test]
fn several_volumes_keep_the_alternatives_that_agree() {
    // pv-a: zone 1 or zone 2 (two terms); pv-b: zone 2. Only zone 2 satisfies both.
    let yaml = [
        pool("default", &[]),
        storage_class("gp3", &[], ""),
        volume("pv-a", &[&["test-zone-1"], &["test-zone-2"]]),
        volume("pv-b", &[&["test-zone-2"]]),
        bound_pvc("a", "gp3", "pv-a"),
        bound_pvc("b", "gp3", "pv-b"),
        pod("p", "1", "", "", &mounts(&["a", "b"])),
    ]
    .concat();
    assert_eq!(claim(&run(&cat(), &yaml), "p").zone, "test-zone-2");
    // one volume with two zones: the first alternative that works wins
    let yaml = [
        pool("default", &[]),
        storage_class("gp3", &[], ""),
        volume("pv-a", &[&["test-zone-3"], &["test-zone-1"]]),
        bound_pvc("a", "gp3", "pv-a"),
        pod("p", "1", "", "", &mounts(&["a"])),
    ]
    .concat();
    assert_eq!(claim(&run(&cat(), &yaml), "p").zone, "test-zone-3");
}

#[test]
fn statefulset_replicas_get_their_own_claims() {
    // replicas 0 and 1 have bound claims (a snapshot); replica 2's claim does not exist yet and is
    // created from the template, of a class that allows zone 3 only
    let sts = "---\napiVersion: apps/v1\nkind: StatefulSet\nmetadata: {name: db, namespace: default}\nspec:\n  replicas: 3\n  selector: {matchLabels: {app: db}}\n  template:\n    metadata: {labels: {app: db}}\n    spec:\n      containers: [{name: db, image: db, resources: {requests: {cpu: '1'}}}]\n  volumeClaimTemplates:\n  - metadata: {name: data}\n    spec: {storageClassName: zone3, accessModes: [ReadWriteOnce], resources: {requests: {storage: 10Gi}}}\n";
    let yaml = [
        pool("default", &[]),
        storage_class("zone3", &["test-zone-3"], ""),
        volume("pv-0", &[&["test-zone-1"]]),
        volume("pv-1", &[&["test-zone-2"]]),
        bound_pvc("data-db-0", "zone3", "pv-0"),
        bound_pvc("data-db-1", "zone3", "pv-1"),
        sts.to_string(),
    ]
    .concat();
    let r = run(&cat(), &yaml);
    assert_eq!(
        (zone_of(&r, "db-0"), zone_of(&r, "db-1"), zone_of(&r, "db-2")),
        ("test-zone-1".into(), "test-zone-2".into(), "test-zone-3".into())
    );
}

/// A Karpenter node with room for many pods, and its CSINode allowing `limit` EBS volumes.
fn node_with_limit(limit: u32) -> String {
    format!(
        "{}---\napiVersion: storage.k8s.io/v1\nkind: CSINode\nmetadata: {{name: big}}\nspec:\n  drivers: [{{name: ebs.csi.aws.com, nodeID: i-1, allocatable: {{count: {limit}}}}}]\n",
        node(
            "big",
            "karpenter.sh/nodepool: default, karpenter.sh/initialized: 'true', topology.kubernetes.io/zone: test-zone-1",
            "64",
            "256Gi",
            200,
            ""
        )
    )
}

#[test]
fn attach_limits_of_existing_nodes_send_pods_to_new_nodes() {
    // six pods with two fresh claims each against a limit of ten: five fit, the sixth needs a new node
    let mut yaml = [pool("default", &[]), storage_class("gp3", &["test-zone-1"], ""), node_with_limit(10)].concat();
    for i in 0..6 {
        yaml += &pvc(&format!("a-{i}"), "gp3");
        yaml += &pvc(&format!("b-{i}"), "gp3");
        yaml += &pod(&format!("p{i}"), "100m", "", "", &mounts(&[&format!("a-{i}"), &format!("b-{i}")]));
    }
    let r = run(&cat(), &yaml);
    assert_eq!(r.existing_nodes.iter().map(|n| n.pods.len()).sum::<usize>(), 5, "{r:#?}");
    assert_eq!(r.nodeclaims.len(), 1);
    assert_eq!(r.nodeclaims[0].zone, "test-zone-1");
    // a claim shared by many pods counts once
    let mut yaml = [
        pool("default", &[]),
        storage_class("gp3", &["test-zone-1"], ""),
        node_with_limit(10),
        volume("pv-1", &[&["test-zone-1"]]),
        bound_pvc("shared", "gp3", "pv-1"),
    ]
    .concat();
    for i in 0..50 {
        yaml += &pod(&format!("s{i}"), "100m", "", "", &mounts(&["shared"]));
    }
    let r = run(&cat(), &yaml);
    assert!(r.nodeclaims.is_empty(), "{r:#?}");
    // volumes already attached there count too
    let mut yaml = [
        pool("default", &[]),
        storage_class("gp3", &["test-zone-1"], ""),
        node_with_limit(2),
        volume("pv-1", &[&["test-zone-1"]]),
        volume("pv-2", &[&["test-zone-1"]]),
    ]
    .concat();
    yaml += &bound_pvc("x", "gp3", "pv-1");
    yaml += &bound_pvc("y", "gp3", "pv-2");
    yaml += &bound_pod("running", "big", "100m", "", &mounts(&["x", "y"]));
    yaml += &pvc("z", "gp3");
    yaml += &pod("p", "100m", "", "", &mounts(&["z"]));
    yaml += &pod("plain", "100m", "", "", "");
    let r = run(&cat(), &yaml);
    assert!(claim_of(&r, "p").is_some(), "the node's two attachments leave no room for a third");
    assert_eq!(existing_of(&r, "plain").as_deref(), Some("big"), "pods without volumes still go there");
}

#[test]
fn without_storage_objects_volumes_are_not_modelled_and_say_so() {
    let yaml = [pool("default", &[]), pod("p", "1", "", "", &mounts(&["data"]))].concat();
    let i = load(&yaml).unwrap();
    let v = i.pods[0].volumes.as_ref().expect("the pod's claims are counted");
    assert_eq!((v.claims, v.topology.len(), v.attachments.len(), v.unprovisionable.as_deref()), (1, 0, 0, None));
    assert!(i.warnings.iter().any(|w| w.contains("1 pod(s) use PersistentVolumeClaims") && w.contains("not modelled")), "{:?}", i.warnings);
    assert!(claim_of(&run(&cat(), &yaml), "p").is_some());
}
