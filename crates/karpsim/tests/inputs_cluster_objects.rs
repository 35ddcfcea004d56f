//! Objects real clusters hold besides workloads and nodes: Namespaces (for `namespaceSelector`),
//! NodeClaims (in-flight capacity, `state/cluster.go`, `statenode.go`), HorizontalPodAutoscalers,
//! Helm test hooks, CronJobs, and the errors bad ones get.

mod common;
use common::*;
use karpsim::io::Inputs;
use karpsim::scheduling::{ProvisionOptions, provision};

fn cat() -> String {
    catalog(&[it("c4", 4, 8, 10)])
}

// ---------------------------------------------------------------- namespaces

fn namespace(name: &str, labels: &str) -> String {
    format!("---\napiVersion: v1\nkind: Namespace\nmetadata: {{name: {name}, labels: {{{labels}}}}}\n")
}

/// A pod of `app: db` in namespace `ns`, bound to `node`.
fn db_pod(name: &str, ns: &str, node: &str) -> String {
    bound_pod(name, node, "100m", "{app: db}", "").replace("namespace: default", &format!("namespace: {ns}"))
}

/// Two initialized nodes, each running a `db` pod: `n1` one of namespace `blue` (team a), `n2` one of
/// namespace `green` (team b); and a pending pod avoiding `db` pods by hostname in the namespaces
/// its term selects.
fn anti_affinity_world(term_namespaces: &str, with_namespaces: bool) -> String {
    let node = |n: &str| {
        node(
            n,
            "karpenter.sh/nodepool: default, karpenter.sh/initialized: 'true', topology.kubernetes.io/zone: test-zone-1",
            "4",
            "8Gi",
            10,
            "",
        )
    };
    let spec = format!(
        "  affinity: {{podAntiAffinity: {{requiredDuringSchedulingIgnoredDuringExecution: [{{topologyKey: kubernetes.io/hostname, labelSelector: {{matchLabels: {{app: db}}}}{term_namespaces}}}]}}}}\n"
    );
    let mut yaml = [
        pool("default", &[]),
        node("n1"),
        node("n2"),
        db_pod("db-blue", "blue", "n1"),
        db_pod("db-green", "green", "n2"),
        pod("p", "100m", "", "", &spec),
    ]
    .concat();
    if with_namespaces {
        yaml += &namespace("blue", "team: a");
        yaml += &namespace("green", "team: b");
    }
    yaml
}

#[test]
fn namespace_selectors_select_by_the_namespaces_labels() {
    // team a = blue: the pod avoids n1 only
    let r = run(&cat(), &anti_affinity_world(", namespaceSelector: {matchLabels: {team: a}}", true));
    assert_eq!(existing_of(&r, "p").as_deref(), Some("n2"), "{r:#?}");
    // an empty selector selects every namespace: both nodes hold a db pod
    let r = run(&cat(), &anti_affinity_world(", namespaceSelector: {}", true));
    assert!(claim_of(&r, "p").is_some(), "{r:#?}");
    // listed namespaces and the selector's add up
    let r = run(&cat(), &anti_affinity_world(", namespaces: [green], namespaceSelector: {matchLabels: {team: a}}", true));
    assert!(claim_of(&r, "p").is_some(), "{r:#?}");
    // the name label is always there
    let r = run(&cat(), &anti_affinity_world(", namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: green}}", false));
    assert_eq!(existing_of(&r, "p").as_deref(), Some("n1"), "{r:#?}");
}

#[test]
fn namespaces_missing_from_the_inputs_carry_their_name_only_and_say_so() {
    let yaml = anti_affinity_world(", namespaceSelector: {matchLabels: {team: a}}", false) + &namespace("blue", "team: a");
    let i = load(&yaml).unwrap();
    let w: Vec<&String> = i.warnings.iter().filter(|w| w.contains("namespaceSelector")).collect();
    assert_eq!(w.len(), 1, "{:?}", i.warnings);
    assert_names(w[0], &["default/p", "default, green", "kubernetes.io/metadata.name"]);
    // green is taken without its team label: only blue's n1 is avoided
    assert_eq!(existing_of(&run(&cat(), &yaml), "p").as_deref(), Some("n2"));
    // a selector on names only needs no Namespace objects
    let i = load(&anti_affinity_world(", namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: green}}", false)).unwrap();
    assert!(!i.warnings.iter().any(|w| w.contains("namespaceSelector")), "{:?}", i.warnings);
}

// ---------------------------------------------------------------- NodeClaims

/// A NodeClaim of NodePool `default` for a `c4` in zone 1; `status` is its status body.
fn nodeclaim(name: &str, meta_extra: &str, status: &str) -> String {
    format!(
        "---\napiVersion: karpenter.sh/v1\nkind: NodeClaim\nmetadata:\n  name: {name}\n  creationTimestamp: '2024-01-01T00:00:00Z'\n  labels: {{karpenter.sh/nodepool: default, node.kubernetes.io/instance-type: c4, topology.kubernetes.io/zone: test-zone-1, karpenter.sh/capacity-type: on-demand}}\n{meta_extra}spec:\n  nodeClassRef: {{group: karpenter.k8s.aws, kind: EC2NodeClass, name: default}}\n  requirements: [{{key: karpenter.sh/nodepool, operator: In, values: [default]}}]\nstatus:\n{status}"
    )
}

const LAUNCHED: &str = "  providerID: aws:///test-zone-1/i-0abc\n  capacity: {cpu: '4', memory: 8Gi, pods: '10'}\n  allocatable: {cpu: 3900m, memory: 7Gi, pods: '10'}\n  conditions: [{type: Launched, status: 'True', lastTransitionTime: '2024-01-01T00:00:30Z'}]\n";

#[test]
fn an_in_flight_nodeclaim_takes_pods_before_a_new_one_opens() {
    let yaml = [pool("default", &[]), nodeclaim("default-abc12", "", LAUNCHED), pod("p", "1", "", "", "")].concat();
    let r = run(&cat(), &yaml);
    assert!(r.nodeclaims.is_empty(), "{r:#?}");
    assert_eq!(existing_of(&r, "p").as_deref(), Some("default-abc12"));
    // more than it holds: the rest opens a new NodeClaim
    let yaml =
        [pool("default", &[]), nodeclaim("default-abc12", "", LAUNCHED), pod("p", "3", "", "", ""), pod("q", "3", "", "", "")].concat();
    let r = run(&cat(), &yaml);
    assert_eq!(r.nodeclaims.len(), 1);
    assert_eq!(r.existing_nodes.len(), 1);
}

#[test]
fn a_deleting_nodeclaim_is_not_a_target() {
    let yaml = [pool("default", &[]), nodeclaim("default-abc12", "", LAUNCHED), pod("p", "1", "", "", "")].concat();
    assert_eq!(run(&cat(), &yaml).existing_nodes.len(), 1, "the same NodeClaim not deleting takes the pod");
    let deleting = "  deletionTimestamp: '2024-01-01T00:01:00Z'\n  finalizers: [karpenter.sh/termination]\n";
    let yaml = [pool("default", &[]), nodeclaim("default-abc12", deleting, LAUNCHED), pod("p", "1", "", "", "")].concat();
    let r = run(&cat(), &yaml);
    assert!(r.existing_nodes.is_empty());
    assert_eq!(r.nodeclaims.len(), 1);
    // nor is one whose instance is terminating
    let terminating = LAUNCHED.replace("conditions: [", "conditions: [{type: InstanceTerminating, status: 'True'}, ");
    let yaml = [pool("default", &[]), nodeclaim("default-abc12", "", &terminating), pod("p", "1", "", "", "")].concat();
    assert!(run(&cat(), &yaml).existing_nodes.is_empty());
}

#[test]
fn initialized_nodes_come_before_in_flight_ones() {
    let zz = node(
        "zz-node",
        "karpenter.sh/nodepool: default, karpenter.sh/initialized: 'true', topology.kubernetes.io/zone: test-zone-1",
        "4",
        "8Gi",
        10,
        "",
    );
    let yaml =
        [pool("default", &[]), nodeclaim("aa-claim", "", LAUNCHED), zz, pod("p", "1", "", "", ""), pod("q", "3500m", "", "", "")].concat();
    let r = run(&cat(), &yaml);
    // q is placed first (queue order: cpu descending) on the initialized node; p no longer fits there
    assert_eq!(existing_of(&r, "q").as_deref(), Some("zz-node"));
    assert_eq!(existing_of(&r, "p").as_deref(), Some("aa-claim"), "{r:#?}");
    assert!(r.nodeclaims.is_empty());
}

#[test]
fn in_flight_capacity_counts_against_nodepool_limits() {
    // the in-flight c4 uses the pool's 4 cpu: nothing more can launch
    let limited = pool_full("default", 0, &[], "", "{cpu: '4'}", "");
    let yaml = [limited, nodeclaim("default-abc12", "", LAUNCHED), pod("big", "3900m", "", "", ""), pod("more", "3", "", "", "")].concat();
    let r = run(&cat(), &yaml);
    assert_eq!(existing_of(&r, "big").as_deref(), Some("default-abc12"));
    assert!(unschedulable(&r, "more").contains("limits"), "{r:#?}");
}

#[test]
fn a_nodeclaim_and_its_node_are_one_node() {
    let node_obj = "---\napiVersion: v1\nkind: Node\nmetadata:\n  name: ip-10-0-1-1.ec2.internal\n  labels: {karpenter.sh/nodepool: default, karpenter.sh/registered: 'true', karpenter.sh/initialized: 'true', node.kubernetes.io/instance-type: c4, topology.kubernetes.io/zone: test-zone-1, karpenter.sh/capacity-type: on-demand}\nspec: {providerID: 'aws:///test-zone-1/i-0abc'}\nstatus:\n  capacity: {cpu: '4', memory: 8Gi, pods: '10'}\n  allocatable: {cpu: 3900m, memory: 7Gi, pods: '10'}\n  conditions: [{type: Ready, status: 'True'}]\n";
    let status = format!("{LAUNCHED}  nodeName: ip-10-0-1-1.ec2.internal\n  lastPodEventTime: '2024-01-01T05:00:00Z'\n");
    let i = load(&[pool("default", &[]), node_obj.to_string(), nodeclaim("default-abc12", "", &status)].concat()).unwrap();
    assert_eq!(i.nodes.len(), 1, "{:?}", i.nodes);
    let n = &i.nodes[0];
    assert_eq!(n.name.as_str(), "ip-10-0-1-1.ec2.internal");
    assert!(n.initialized);
    assert_eq!(n.last_pod_event, Some(karpsim::io::parse_rfc3339("2024-01-01T05:00:00Z").unwrap()), "the NodeClaim's lastPodEventTime");
    assert!(!i.warnings.iter().any(|w| w.contains("NodeClaim")), "{:?}", i.warnings);
    // the NodeClaim alone (its Node not in the inputs) stands for that node
    let i = load(&[pool("default", &[]), nodeclaim("default-abc12", "", &status.replace("type: Launched", "type: Initialized"))].concat())
        .unwrap();
    assert_eq!(i.nodes[0].name.as_str(), "ip-10-0-1-1.ec2.internal");
    assert!(i.nodes[0].initialized);
    assert!(i.warnings.iter().any(|w| w.contains("name a Node that is not in the inputs")), "{:?}", i.warnings);
}

#[test]
fn a_nodeclaim_that_has_not_launched_offers_nothing_yet() {
    let pending = "  conditions: [{type: Launched, status: Unknown}]\n";
    let yaml = [pool("default", &[]), nodeclaim("default-new", "", pending), pod("p", "1", "", "", "")].concat();
    let i = load(&yaml).unwrap();
    assert!(i.warnings.iter().any(|w| w.contains("have not launched yet") && w.contains("default-new")), "{:?}", i.warnings);
    let r = run(&cat(), &yaml);
    assert_eq!(r.nodeclaims.len(), 1, "the pod opens a NodeClaim of its own");
}

#[test]
fn in_flight_nodeclaims_are_not_disruption_candidates() {
    let mut i = Inputs::new();
    i.load_str(&[pool("default", &[]), nodeclaim("default-abc12", "", LAUNCHED)].concat(), "c.yaml").unwrap();
    let catalog =
        karpsim::catalog::CatalogSource::Custom(std::sync::Arc::new(karpsim::catalog::parse_custom_catalog("t", &cat()).unwrap()));
    let state = karpsim::state::ClusterState::from_inputs(i.finish().unwrap(), &catalog).unwrap();
    let opts = karpsim::disruption::DisruptionOptions {
        now: Some(karpsim::io::parse_rfc3339("2024-01-02T00:00:00Z").unwrap()),
        ..Default::default()
    };
    let r = karpsim::disruption::disrupt_once(&state, &opts);
    assert!(r.commands.is_empty(), "{r:#?}");
    assert!(r.kept.iter().any(|k| k.node == "default-abc12" && k.reason.contains("not initialized")), "{r:#?}");
}

// ---------------------------------------------------------------- HPAs, Helm test hooks, CronJobs

fn deployment(name: &str, replicas: &str) -> String {
    format!(
        "---\napiVersion: apps/v1\nkind: Deployment\nmetadata: {{name: {name}, namespace: default}}\nspec:\n{replicas}  selector: {{matchLabels: {{app: {name}}}}}\n  template:\n    metadata: {{labels: {{app: {name}}}}}\n    spec: {{containers: [{{name: c, image: x, resources: {{requests: {{cpu: 100m}}}}}}]}}\n"
    )
}

fn hpa(name: &str, kind: &str, target: &str, min: &str, max: u32) -> String {
    format!(
        "---\napiVersion: autoscaling/v2\nkind: HorizontalPodAutoscaler\nmetadata: {{name: {name}, namespace: default}}\nspec:\n  scaleTargetRef: {{apiVersion: apps/v1, kind: {kind}, name: {target}}}\n{min}  maxReplicas: {max}\n  metrics: [{{type: Resource, resource: {{name: cpu, target: {{type: Utilization, averageUtilization: 70}}}}}}]\n"
    )
}

fn pods_of(i: &Inputs, owner: &str) -> Vec<String> {
    i.pods.iter().filter(|p| p.owner.as_ref().is_some_and(|o| o.name.as_str() == owner)).map(|p| p.name.to_string()).collect()
}

#[test]
fn an_hpa_sets_the_replicas_the_manifests_leave_open() {
    // no spec.replicas: minReplicas, with a warning; the HPA may come first in the inputs
    let i = load(&[hpa("web", "Deployment", "web", "  minReplicas: 3\n", 10), deployment("web", "")].concat()).unwrap();
    assert_eq!(pods_of(&i, "web"), ["web-0", "web-1", "web-2"]);
    assert!(
        i.warnings.iter().any(|w| w.contains("Deployment default/web has no spec.replicas") && w.contains("minReplicas (3)")),
        "{:?}",
        i.warnings
    );
    // minReplicas defaults to 1
    assert_eq!(pods_of(&load(&[deployment("web", ""), hpa("web", "Deployment", "web", "", 10)].concat()).unwrap(), "web").len(), 1);
    // written replicas outside the bounds are brought within them; zero stays zero
    let i = load(&[deployment("web", "  replicas: 40\n"), hpa("web", "Deployment", "web", "  minReplicas: 2\n", 5)].concat()).unwrap();
    assert_eq!(pods_of(&i, "web").len(), 5);
    assert!(i.warnings.iter().any(|w| w.contains("40 -> 5")), "{:?}", i.warnings);
    let i = load(&[deployment("web", "  replicas: 0\n"), hpa("web", "Deployment", "web", "  minReplicas: 2\n", 5)].concat()).unwrap();
    assert!(pods_of(&i, "web").is_empty());
    // within the bounds: as written, silently
    let i = load(&[deployment("web", "  replicas: 4\n"), hpa("web", "Deployment", "web", "  minReplicas: 2\n", 5)].concat()).unwrap();
    assert_eq!(pods_of(&i, "web").len(), 4);
    assert!(!i.warnings.iter().any(|w| w.contains("HorizontalPodAutoscaler")), "{:?}", i.warnings);
    // pods around the scaled Deployment keep their order
    let i = load(
        &[
            pod("first", "1", "", "", ""),
            deployment("web", ""),
            pod("last", "1", "", "", ""),
            hpa("web", "Deployment", "web", "  minReplicas: 2\n", 5),
        ]
        .concat(),
    )
    .unwrap();
    let names: Vec<&str> = i.pods.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(names, ["first", "web-0", "web-1", "last"]);
    // a target the inputs lack is reported
    let i = load(&hpa("api", "Deployment", "api", "", 3)).unwrap();
    assert!(i.warnings.iter().any(|w| w.contains("scales Deployment default/api, which is not in the inputs")), "{:?}", i.warnings);
}

#[test]
fn an_hpa_scaled_statefulset_gets_a_claim_per_replica() {
    let sts = "---\napiVersion: apps/v1\nkind: StatefulSet\nmetadata: {name: db, namespace: default}\nspec:\n  selector: {matchLabels: {app: db}}\n  template:\n    metadata: {labels: {app: db}}\n    spec: {containers: [{name: db, image: db}]}\n  volumeClaimTemplates:\n  - metadata: {name: data}\n    spec: {storageClassName: gp3, accessModes: [ReadWriteOnce], resources: {requests: {storage: 1Gi}}}\n---\napiVersion: storage.k8s.io/v1\nkind: StorageClass\nmetadata: {name: gp3}\nprovisioner: ebs.csi.aws.com\nvolumeBindingMode: WaitForFirstConsumer\n";
    let i = load(&[sts.to_string(), hpa("db", "StatefulSet", "db", "  minReplicas: 2\n", 4)].concat()).unwrap();
    assert_eq!(pods_of(&i, "db"), ["db-0", "db-1"]);
    let claims: Vec<&str> = i.pods.iter().flat_map(|p| p.volumes.as_ref().unwrap().attachments.iter().map(|(_, c)| c.as_str())).collect();
    assert_eq!(claims, ["default/data-db-0", "default/data-db-1"]);
}

#[test]
fn helm_test_hooks_are_skipped_and_counted() {
    let hook = |name: &str, value: &str| {
        pod(name, "1", "", "", "").replace("creationTimestamp:", &format!("annotations: {{helm.sh/hook: '{value}'}}, creationTimestamp:"))
    };
    let job = "---\napiVersion: batch/v1\nkind: Job\nmetadata: {name: migrate, namespace: default, annotations: {helm.sh/hook: pre-install}}\nspec:\n  template:\n    spec: {restartPolicy: Never, containers: [{name: c, image: x}]}\n";
    let yaml =
        [hook("t1", "test"), hook("t2", "test-success"), hook("t3", "pre-install,test"), job.to_string(), pod("app", "1", "", "", "")]
            .concat();
    let i = load(&yaml).unwrap();
    let names: Vec<&str> = i.pods.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(names, ["migrate-0", "app"], "other hooks stay");
    assert!(i.warnings.iter().any(|w| w.contains("skipped 3 Helm test hook(s)") && w.contains("Pod (3)")), "{:?}", i.warnings);
}

#[test]
fn cronjobs_stay_skipped_with_their_count() {
    let cron = "---\napiVersion: batch/v1\nkind: CronJob\nmetadata: {name: nightly, namespace: default}\nspec:\n  schedule: '0 2 * * *'\n  jobTemplate: {spec: {template: {spec: {containers: [{name: c, image: x}]}}}}\n";
    let i = load(&[cron, cron.replace("nightly", "hourly").as_str()].concat()).unwrap();
    assert!(i.pods.is_empty());
    assert!(i.warnings.iter().any(|w| w.contains("CronJob (2)")), "{:?}", i.warnings);
}

// ---------------------------------------------------------------- bad input

#[test]
fn bad_objects_of_the_new_kinds_name_file_object_and_field() {
    let e = load_err(
        "apiVersion: v1\nkind: PersistentVolume\nmetadata: {name: pv-1}\nspec:\n  csi: {driver: ebs.csi.aws.com, volumeHandle: v}\n  nodeAffinity: {required: {nodeSelectorTerms: []}}\n",
    );
    assert_names(&e, &["test.yaml", "document 1", "PersistentVolume pv-1", "spec.nodeAffinity.required", "at least one term"]);
    let e = load_err("apiVersion: v1\nkind: PersistentVolume\nmetadata: {name: pv-1}\nspec:\n  nodeAffinity: {}\n");
    assert_names(&e, &["PersistentVolume pv-1", "spec.nodeAffinity.required", "required field is missing"]);
    let e = load_err(
        "apiVersion: v1\nkind: PersistentVolume\nmetadata: {name: pv-1}\nspec:\n  nodeAffinity: {required: {nodeSelectorTerms: [{matchExpressions: [{key: topology.kubernetes.io/zone, operator: Within, values: [a]}]}]}}\n",
    );
    assert_names(&e, &["spec.nodeAffinity.required.nodeSelectorTerms[0].matchExpressions[0].operator", "Within"]);
    let e = load_err("apiVersion: v1\nkind: PersistentVolumeClaim\nmetadata: {name: data, namespace: shop}\nspec: {storageClass: gp3}\n");
    assert_names(&e, &["PersistentVolumeClaim shop/data", "spec.storageClass", "storageClassName"]);
    let e = load_err(
        "apiVersion: storage.k8s.io/v1\nkind: StorageClass\nmetadata: {name: gp3}\nprovisioner: ebs.csi.aws.com\nvolumeBindingMode: Lazy\n",
    );
    assert_names(&e, &["StorageClass gp3", "field volumeBindingMode", "WaitForFirstConsumer"]);
    let e = load_err("apiVersion: storage.k8s.io/v1\nkind: StorageClass\nmetadata: {name: gp3}\n");
    assert_names(&e, &["StorageClass gp3", "field provisioner", "missing"]);
    let e = load_err(
        "apiVersion: storage.k8s.io/v1\nkind: CSINode\nmetadata: {name: n1}\nspec:\n  drivers: [{name: ebs.csi.aws.com, nodeID: i-1, allocatable: {count: -1}}]\n",
    );
    assert_names(&e, &["CSINode n1", "spec.drivers[0].allocatable.count", "out of range"]);
    let e = load_err("apiVersion: karpenter.sh/v1\nkind: NodeClaim\nmetadata: {name: default-x, labels: {app: x}}\nspec: {}\n");
    assert_names(&e, &["NodeClaim default-x", "metadata.labels", "karpenter.sh/nodepool"]);
    let e = load_err(&hpa("web", "Deployment", "web", "  minReplicas: 5\n", 2));
    assert_names(&e, &["HorizontalPodAutoscaler default/web", "spec.maxReplicas", "below minReplicas"]);
    let e = load_err(&pod("p", "1", "", "", "  volumes: [{name: v, persistentVolumeClaim: {claimName: ''}}]\n"));
    assert_names(&e, &["Pod default/p", "spec.volumes[0].persistentVolumeClaim.claimName", "must not be empty"]);
}

#[test]
fn the_default_options_leave_no_pod_behind() {
    // every kind together: each pending pod is placed or has a reason (common::check_invariants)
    let yaml = [
        pool("default", &[]),
        namespace("default", "team: a"),
        nodeclaim("default-abc12", "", LAUNCHED),
        deployment("web", ""),
        hpa("web", "Deployment", "web", "  minReplicas: 3\n", 5),
        pod("p", "1", "", "", "  volumes: [{name: v, persistentVolumeClaim: {claimName: missing}}]\n"),
    ]
    .concat();
    let s = state(&cat(), &yaml);
    let r = provision(&s, &ProvisionOptions::default());
    check_invariants(&s, &r);
    assert_eq!(r.existing_nodes.iter().map(|n| n.pods.len()).sum::<usize>() + r.nodeclaims.iter().map(|n| n.pods.len()).sum::<usize>(), 4);
}

// ---------------------------------------------------------------- controllers and their pods together

/// A running pod of ReplicaSet `web-5c9d7f6b8d` (Deployment `web`), as `kubectl get pods` shows it.
fn web_pod(name: &str) -> String {
    format!(
        "---\napiVersion: v1\nkind: Pod\nmetadata:\n  name: {name}\n  namespace: default\n  creationTimestamp: '2024-01-01T00:00:00Z'\n  labels: {{app: web, pod-template-hash: 5c9d7f6b8d}}\n  ownerReferences: [{{apiVersion: apps/v1, kind: ReplicaSet, name: web-5c9d7f6b8d, uid: rs-1, controller: true}}]\nspec: {{containers: [{{name: c, image: x, resources: {{requests: {{cpu: 100m}}}}}}]}}\nstatus: {{phase: Pending}}\n"
    )
}

fn replicaset(replicas: u32) -> String {
    format!(
        "---\napiVersion: apps/v1\nkind: ReplicaSet\nmetadata:\n  name: web-5c9d7f6b8d\n  namespace: default\n  ownerReferences: [{{apiVersion: apps/v1, kind: Deployment, name: web, uid: d-1, controller: true}}]\nspec:\n  replicas: {replicas}\n  selector: {{matchLabels: {{app: web}}}}\n  template:\n    metadata: {{labels: {{app: web}}}}\n    spec: {{containers: [{{name: c, image: x, resources: {{requests: {{cpu: 100m}}}}}}]}}\n"
    )
}

fn names(i: &Inputs) -> Vec<&str> {
    i.pods.iter().map(|p| p.name.as_str()).collect()
}

#[test]
fn a_snapshot_with_controllers_and_their_pods_counts_each_pod_once() {
    // `kubectl get deploy,rs,pods`: the pods are what runs
    let i = load(&[deployment("web", "  replicas: 3\n"), replicaset(3), web_pod("web-5c9d7f6b8d-aaaaa"), web_pod("web-5c9d7f6b8d-bbbbb")].concat()).unwrap();
    assert_eq!(names(&i), ["web-5c9d7f6b8d-aaaaa", "web-5c9d7f6b8d-bbbbb"]);
    assert!(i.warnings.iter().any(|w| w.contains("2 controller(s) are not expanded") && w.contains("Deployment default/web") && w.contains("ReplicaSet default/web-5c9d7f6b8d")), "{:?}", i.warnings);
    // the Deployment is known from its pods' ReplicaSet name and pod-template-hash label alone
    let i = load(&[deployment("web", "  replicas: 3\n"), web_pod("web-5c9d7f6b8d-aaaaa")].concat()).unwrap();
    assert_eq!(names(&i), ["web-5c9d7f6b8d-aaaaa"]);
    // without pods, a Deployment's ReplicaSet is not counted again
    let i = load(&[deployment("web", "  replicas: 3\n"), replicaset(3)].concat()).unwrap();
    assert_eq!(names(&i), ["web-0", "web-1", "web-2"]);
    // an HPA does not rescale what the pods already show
    let i = load(&[deployment("web", ""), hpa("web", "Deployment", "web", "  minReplicas: 3\n", 5), web_pod("web-5c9d7f6b8d-aaaaa")].concat()).unwrap();
    assert_eq!(names(&i), ["web-5c9d7f6b8d-aaaaa"]);
    assert!(!i.warnings.iter().any(|w| w.contains("HorizontalPodAutoscaler")), "{:?}", i.warnings);
    // a StatefulSet's pods carry its own names: no duplicate, the Pod objects stand
    let sts = "---\napiVersion: apps/v1\nkind: StatefulSet\nmetadata: {name: db, namespace: default}\nspec:\n  replicas: 2\n  template:\n    spec: {containers: [{name: db, image: db, resources: {requests: {cpu: '1'}}}]}\n";
    let pod0 = "---\napiVersion: v1\nkind: Pod\nmetadata:\n  name: db-0\n  namespace: default\n  ownerReferences: [{apiVersion: apps/v1, kind: StatefulSet, name: db, uid: s-1, controller: true}]\nspec: {containers: [{name: db, image: db, resources: {requests: {cpu: '2'}}}]}\nstatus: {phase: Pending}\n";
    let i = load(&[sts, pod0].concat()).unwrap();
    assert_eq!(names(&i), ["db-0"]);
    assert_eq!(i.pods[0].requests.cpu, 2000, "the pod as it runs, not the template");
}
