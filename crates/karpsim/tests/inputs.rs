//! Reading Kubernetes YAML/JSON into karpsim's model: real manifests, snapshots, CRDs and bad input.

mod common;
use common::{assert_names, load, load_err};
use karpsim::catalog::CatalogSource;
use karpsim::io::Inputs;
use karpsim::labels::Sym;
use karpsim::model::{AmiFamily, ConsolidationPolicy, DisruptionReason, OwnerKind, PodPhase};
use karpsim::state::ClusterState;
use std::path::{Path, PathBuf};

fn examples() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/online-boutique")
}

#[test]
fn online_boutique_manifests() {
    let mut i = Inputs::new();
    i.load_path(&examples().join("microservices-demo.yaml")).unwrap();
    let i = i.finish().unwrap();
    assert_eq!(i.pods.len(), 12, "12 deployments with one replica each");
    let frontend = i.pods.iter().find(|p| p.name.as_str() == "frontend-0").expect("frontend-0");
    assert_eq!(frontend.namespace.as_str(), "default");
    assert_eq!((frontend.requests.cpu, frontend.requests.memory), (100, 64 << 20));
    assert_eq!(frontend.requests.pods, 0);
    assert_eq!(frontend.labels.get(&Sym::new("app")), Some(&Sym::new("frontend")));
    let owner = frontend.owner.as_ref().unwrap();
    assert_eq!((owner.kind, owner.name.as_str()), (OwnerKind::Deployment, "frontend"));
    assert_eq!(frontend.phase, PodPhase::Pending);
    assert!(i.warnings.iter().any(|w| w.contains("Service (12)") && w.contains("ServiceAccount (")), "{:?}", i.warnings);
}

#[test]
fn node_exporter_daemonset_is_one_representative_pod() {
    let mut i = Inputs::new();
    i.load_path(&examples().join("kube-prometheus-node-exporter-daemonset.yaml")).unwrap();
    let i = i.finish().unwrap();
    assert!(i.pods.is_empty());
    assert_eq!(i.daemonsets.len(), 1);
    let ds = &i.daemonsets[0];
    assert!(ds.is_daemonset_pod());
    assert_eq!((ds.requests.cpu, ds.requests.memory), (112, 200 << 20));
    assert!(ds.host_ports.iter().any(|h| h.port == 9100), "{:?}", ds.host_ports);
}

#[test]
fn directory_loading_is_sorted_and_deterministic() {
    let dir = std::env::temp_dir().join(format!("karpsim-inputs-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("b")).unwrap();
    let pod = |n: &str| format!("apiVersion: v1\nkind: Pod\nmetadata: {{name: {n}}}\nspec: {{containers: [{{name: c}}]}}\n");
    std::fs::write(dir.join("z.yaml"), pod("z")).unwrap();
    std::fs::write(dir.join("b/m.yml"), pod("m")).unwrap();
    std::fs::write(dir.join("a.json"), r#"{"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "a"}, "spec": {"containers": [{"name": "c"}]}}"#).unwrap();
    std::fs::write(dir.join("notes.txt"), "not yaml: [").unwrap();
    let names = || {
        let mut i = Inputs::new();
        i.load_path(&dir).unwrap();
        i.finish().unwrap().pods.iter().map(|p| p.name.to_string()).collect::<Vec<_>>()
    };
    assert_eq!(names(), ["a", "m", "z"]);
    assert_eq!(names(), names());
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_directory_without_manifests_warns() {
    let dir = std::env::temp_dir().join(format!("karpsim-inputs-empty-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("README.md"), "no manifests here").unwrap();
    let mut i = Inputs::new();
    i.load_path(&dir).unwrap();
    let warnings = i.finish().unwrap().warnings;
    assert!(warnings.iter().any(|w| w.contains(&dir.display().to_string()) && w.contains("no *.yaml")), "{warnings:?}");
    std::fs::remove_dir_all(&dir).unwrap();
}

const SPEC: &str = "spec: {containers: [{name: c, resources: {requests: {cpu: 1}}}]}";

#[test]
fn controller_expansion() {
    let text = format!(
        "apiVersion: apps/v1\nkind: StatefulSet\nmetadata: {{name: db, namespace: data, creationTimestamp: '2024-01-01T00:00:00Z'}}\nspec:\n  replicas: 3\n  template:\n    metadata: {{labels: {{app: db}}}}\n    {SPEC}\n\
---\napiVersion: apps/v1\nkind: ReplicaSet\nmetadata: {{name: rs}}\nspec:\n  template:\n    {SPEC}\n\
---\napiVersion: batch/v1\nkind: Job\nmetadata: {{name: j}}\nspec:\n  parallelism: 4\n  completions: 2\n  template:\n    {SPEC}\n\
---\napiVersion: batch/v1\nkind: Job\nmetadata: {{name: k}}\nspec:\n  template:\n    {SPEC}\n\
---\napiVersion: apps/v1\nkind: Deployment\nmetadata: {{name: zero}}\nspec:\n  replicas: 0\n  template:\n    {SPEC}\n"
    );
    let i = load(&text).unwrap();
    let names: Vec<String> = i.pods.iter().map(|p| p.key()).collect();
    assert_eq!(names, ["data/db-0", "data/db-1", "data/db-2", "default/rs-0", "default/j-0", "default/j-1", "default/k-0"]);
    assert!(i.pods[..3].iter().all(|p| p.labels.get(&Sym::new("app")) == Some(&Sym::new("db"))));
    assert!(i.pods[..3].iter().all(|p| p.creation_timestamp == 1_704_067_200));
    assert_eq!(i.pods[0].owner.as_ref().unwrap().kind, OwnerKind::StatefulSet);
    assert_eq!(i.pods[4].owner.as_ref().unwrap().kind, OwnerKind::Job);
    assert_ne!(i.pods[0].uid, i.pods[1].uid);
}

#[test]
fn priority_and_runtime_classes_are_resolved_in_any_order() {
    let text = "\
apiVersion: v1
kind: Pod
metadata: {name: a}
spec:
  priorityClassName: high
  runtimeClassName: kata
  containers: [{name: c, resources: {requests: {cpu: 1, memory: 1Gi}}}]
---
apiVersion: v1
kind: Pod
metadata: {name: b}
spec: {containers: [{name: c}]}
---
apiVersion: v1
kind: Pod
metadata: {name: c}
spec: {priorityClassName: nope, containers: [{name: c}]}
---
apiVersion: scheduling.k8s.io/v1
kind: PriorityClass
metadata: {name: high}
value: 1000
---
apiVersion: scheduling.k8s.io/v1
kind: PriorityClass
metadata: {name: default}
value: 7
globalDefault: true
---
apiVersion: node.k8s.io/v1
kind: RuntimeClass
metadata: {name: kata}
handler: kata
overhead: {podFixed: {cpu: 250m, memory: 160Mi}}
";
    let i = load(text).unwrap();
    assert_eq!(i.pods[0].priority, 1000);
    assert_eq!((i.pods[0].requests.cpu, i.pods[0].requests.memory), (1250, (1 << 30) + (160 << 20)));
    assert_eq!(i.pods[1].priority, 7, "globalDefault class");
    assert_eq!(i.pods[2].priority, 0);
    assert!(i.warnings.iter().any(|w| w.contains("\"nope\"")), "{:?}", i.warnings);
}

const NODEPOOL: &str = "\
apiVersion: karpenter.sh/v1
kind: NodePool
metadata: {name: default}
spec:
  template:
    spec:
      nodeClassRef: {group: karpenter.k8s.aws, kind: EC2NodeClass, name: default}
      requirements:
      - {key: karpenter.sh/capacity-type, operator: In, values: [spot, on-demand]}
";

#[test]
fn nodepool_defaults_and_full_form() {
    let i = load(NODEPOOL).unwrap();
    let np = &i.nodepools[0];
    assert_eq!(np.expire_after, Some(720 * 3600));
    assert_eq!(np.disruption.consolidation_policy, ConsolidationPolicy::WhenEmptyOrUnderutilized);
    assert_eq!(np.disruption.consolidate_after, Some(0));
    assert_eq!(np.disruption.budgets.len(), 1);
    assert_eq!(np.disruption.budgets[0].nodes, "10%");
    assert_eq!(np.weight, 0);
    assert_eq!(np.node_class, Some(Sym::new("default")));

    let full = "\
apiVersion: karpenter.sh/v1
kind: NodePool
metadata: {name: gpu}
spec:
  weight: 50
  limits: {cpu: '1000', memory: 1000Gi, nodes: '10', nvidia.com/gpu: 8}
  template:
    metadata: {labels: {team: ml}}
    spec:
      nodeClassRef: {group: karpenter.k8s.aws, kind: EC2NodeClass, name: gpu}
      expireAfter: Never
      terminationGracePeriod: 1h30m
      taints: [{key: nvidia.com/gpu, effect: NoSchedule}]
      startupTaints: [{key: init, value: 'true', effect: NoExecute}]
      requirements:
      - {key: karpenter.k8s.aws/instance-family, operator: In, values: [p4d, p5, g6], minValues: 2}
      - {key: karpenter.k8s.aws/instance-cpu, operator: Gte, values: ['8']}
  disruption:
    consolidationPolicy: WhenEmpty
    consolidateAfter: 5m
    budgets:
    - nodes: '0'
      schedule: '0 9 * * mon-fri'
      duration: 8h
      reasons: [Drifted, Underutilized]
    - nodes: 20%
";
    let i = load(full).unwrap();
    let np = &i.nodepools[0];
    assert_eq!(np.weight, 50);
    assert_eq!(np.limits.0["cpu"], 1_000_000);
    assert_eq!(np.limits.0["nodes"], 10);
    assert_eq!(np.limits.0["nvidia.com/gpu"], 8);
    assert_eq!(np.expire_after, None);
    assert_eq!(np.termination_grace_period, Some(5400));
    assert_eq!(np.requirements[0].min_values, Some(2));
    assert_eq!(np.taints[0].value.as_str(), "");
    assert_eq!(np.disruption.consolidation_policy, ConsolidationPolicy::WhenEmpty);
    assert_eq!(np.disruption.consolidate_after, Some(300));
    assert_eq!(np.disruption.budgets[0].duration, Some(8 * 3600));
    assert_eq!(np.disruption.budgets[0].reasons, Some(vec![DisruptionReason::Drifted, DisruptionReason::Underutilized]));
    assert_eq!(np.labels.get(&Sym::new("team")), Some(&Sym::new("ml")));
}

#[test]
fn nodepool_validation_errors() {
    let cases: &[(&str, &str, &str)] = &[
        ("      - {key: k, operator: In, values: []}\n", "spec.template.spec.requirements[1]", "at least one value"),
        ("      - {key: k, operator: Gt, values: ['1', '2']}\n", "requirements[1]", "exactly one non-negative integer"),
        ("      - {key: k, operator: Lt, values: ['-3']}\n", "requirements[1]", "non-negative"),
        ("      - {key: k, operator: Like, values: [a]}\n", "requirements[1].operator", "unknown operator"),
        ("      - {key: k, operator: In, values: [a], minValues: 2}\n", "requirements[1].minValues", "more than"),
        ("      - {key: k, operator: Exists, minValues: 0}\n", "requirements[1].minValues", "out of range"),
        ("      - {key: k, operatr: In, values: [a]}\n", "requirements[1].operatr", "unknown field"),
        ("      expireAfter: 30d\n", "spec.template.spec.expireAfter", "invalid duration"),
        ("  weight: 0\n", "spec.weight", "out of range"),
        ("  weight: 101\n", "spec.weight", "out of range"),
        ("  weight: '5'\n", "spec.weight", "expected an integer"),
        ("  limits: {cpu: -1}\n", "spec.limits.cpu", "negative"),
        ("  limits: {memory: lots}\n", "spec.limits.memory", "invalid quantity"),
        ("  disruption: {consolidationPolicy: Always}\n", "spec.disruption.consolidationPolicy", "unknown consolidationPolicy"),
        ("  disruption: {consolidateAfter: soon}\n", "spec.disruption.consolidateAfter", "invalid duration"),
        ("  disruption: {budgets: [{nodes: 110%}]}\n", "spec.disruption.budgets[0].nodes", "invalid budget"),
        ("  disruption: {budgets: [{nodes: '1', schedule: '@daily'}]}\n", "spec.disruption.budgets[0]", "together"),
        ("  disruption: {budgets: [{nodes: '1', reasons: [Expired]}]}\n", "budgets[0].reasons[0]", "unknown disruption reason"),
        ("  disruption: {consolidationPolicy: WhenEmpty, consolidateAfterr: 1m}\n", "spec.disruption.consolidateAfterr", "unknown field"),
        ("  replica: 3\n", "spec.replica", "unknown field"),
    ];
    for (extra, field, msg) in cases {
        // Extras indented 6 spaces belong to requirements (the last key of NODEPOOL); 2 spaces to spec.
        let text = if extra.starts_with("      -") {
            format!("{NODEPOOL}{extra}")
        } else if extra.starts_with("      ") {
            NODEPOOL.replace("      requirements:", &format!("{}      requirements:", extra))
        } else {
            NODEPOOL.replace("spec:\n  template:", &format!("spec:\n{extra}  template:"))
        };
        let e = load_err(&text);
        assert_names(&e, &["test.yaml", "document 1", "NodePool default", field, msg]);
    }
}

#[test]
fn ec2nodeclass_kubelet() {
    let text = "\
apiVersion: karpenter.k8s.aws/v1
kind: EC2NodeClass
metadata: {name: default}
spec:
  role: KarpenterNodeRole
  subnetSelectorTerms: [{tags: {karpenter.sh/discovery: demo}}]
  amiSelectorTerms: [{alias: bottlerocket@latest}]
  instanceStorePolicy: RAID0
  blockDeviceMappings:
  - {deviceName: /dev/xvdb, rootVolume: false, ebs: {volumeSize: 100Gi, volumeType: gp3}}
  kubelet:
    maxPods: 110
    podsPerCore: 4
    kubeReserved: {cpu: 200m, memory: 1Gi, pid: '1000'}
    systemReserved: {ephemeral-storage: 1Gi}
    evictionHard: {memory.available: 5%, nodefs.available: 10%}
    evictionSoft: {memory.available: 500Mi}
";
    let i = load(text).unwrap();
    let nc = &i.nodeclasses[0];
    assert_eq!(nc.ami_family, AmiFamily::Bottlerocket);
    assert!(nc.instance_store_raid0);
    assert_eq!(nc.block_device_mappings[0].volume_size, Some(100 << 30));
    assert_eq!(nc.kubelet.max_pods, Some(110));
    assert_eq!(nc.kubelet.pods_per_core, Some(4));
    let kr = nc.kubelet.kube_reserved.as_ref().unwrap();
    assert_eq!((kr.cpu, kr.memory, kr.get("pid")), (200, 1 << 30, 0));
    assert_eq!(nc.kubelet.eviction_hard["memory.available"], "5%");
    assert_eq!(nc.kubelet.eviction_soft["memory.available"], "500Mi");

    for (bad, field, msg) in [
        ("    maxPod: 110\n", "spec.kubelet.maxPod", "unknown field"),
        ("    kubeReserved: {gpu: '1'}\n", "spec.kubelet.kubeReserved.gpu", "unknown field"),
        ("    evictionHard: {memory.free: 5%}\n", "spec.kubelet.evictionHard.memory.free", "unknown field"),
        ("    evictionHard: {memory.available: 150%}\n", "spec.kubelet.evictionHard.memory.available", "invalid percentage"),
        ("    maxPods: -1\n", "spec.kubelet.maxPods", "out of range"),
        ("    systemReserved: {memory: -1Gi}\n", "spec.kubelet.systemReserved.memory", "negative"),
    ] {
        let t = format!("apiVersion: karpenter.k8s.aws/v1\nkind: EC2NodeClass\nmetadata: {{name: nc}}\nspec:\n  amiFamily: AL2023\n  kubelet:\n{bad}");
        assert_names(&load_err(&t), &["document 1", "EC2NodeClass nc", field, msg]);
    }
    let t = "apiVersion: karpenter.k8s.aws/v1\nkind: EC2NodeClass\nmetadata: {name: nc}\nspec: {amiFamily: Ubuntu}\n";
    assert_names(&load_err(t), &["spec.amiFamily", "unknown amiFamily"]);
}

#[test]
fn kubectl_json_snapshot_with_bound_pods_and_nodes() {
    let json = r#"{
  "apiVersion": "v1", "kind": "List",
  "items": [
    {"apiVersion": "v1", "kind": "Node",
     "metadata": {"name": "ip-10-0-1-1", "creationTimestamp": "2024-05-01T00:00:00Z",
       "labels": {"karpenter.sh/nodepool": "default", "karpenter.sh/initialized": "true",
                  "node.kubernetes.io/instance-type": "m5.large", "topology.kubernetes.io/zone": "us-east-1a",
                  "karpenter.sh/capacity-type": "spot"}},
     "spec": {"taints": [{"key": "dedicated", "value": "x", "effect": "NoSchedule"}]},
     "status": {"capacity": {"cpu": "2", "memory": "8Gi", "pods": "29"},
                "allocatable": {"cpu": "1930m", "memory": "7Gi", "pods": "29"},
                "conditions": [{"type": "Ready", "status": "True"}]}},
    {"apiVersion": "v1", "kind": "PodList",
     "items": [
       {"metadata": {"name": "web-abc", "namespace": "shop", "uid": "u-1",
                     "ownerReferences": [{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "web-5f7", "controller": true, "uid": "x"}]},
        "spec": {"nodeName": "ip-10-0-1-1", "containers": [{"name": "c", "resources": {"requests": {"cpu": "500m"}}}]},
        "status": {"phase": "Running", "startTime": "2024-05-01T00:01:00Z",
                   "conditions": [{"type": "Ready", "status": "False"}]}},
       {"metadata": {"name": "old", "namespace": "shop", "deletionTimestamp": "2024-05-01T00:02:00Z"},
        "spec": {"nodeName": "ip-10-0-1-1", "containers": [{"name": "c"}]},
        "status": {"phase": "Succeeded"}}
     ]},
    {"apiVersion": "policy/v1", "kind": "PodDisruptionBudget",
     "metadata": {"name": "web", "namespace": "shop"},
     "spec": {"maxUnavailable": "25%", "selector": {"matchLabels": {"app": "web"}}}}
  ]}"#;
    let mut i = Inputs::new();
    i.load_str(json, "snapshot.json").unwrap();
    let i = i.finish().unwrap();
    let n = &i.nodes[0];
    assert!(n.ready && n.initialized);
    assert_eq!(n.nodepool, Some(Sym::new("default")));
    assert_eq!(n.instance_type, Some(Sym::new("m5.large")));
    assert_eq!(n.zone, Some(Sym::new("us-east-1a")));
    assert_eq!(n.capacity_type, Some(Sym::new("spot")));
    assert_eq!((n.allocatable.cpu, n.capacity.cpu), (1930, 2000));
    assert_eq!(n.creation_timestamp, 1_714_521_600);
    let web = &i.pods[0];
    assert_eq!(web.key(), "shop/web-abc");
    assert_eq!(web.uid.as_str(), "u-1");
    assert_eq!(web.node_name, Some(Sym::new("ip-10-0-1-1")));
    assert_eq!(web.phase, PodPhase::Running);
    assert!(!web.ready);
    assert_eq!(web.start_time, Some(1_714_521_660));
    assert_eq!(web.owner.as_ref().unwrap().kind, OwnerKind::ReplicaSet);
    assert!(i.pods[1].is_terminating() && i.pods[1].is_terminal());
    assert_eq!(i.pdbs[0].max_unavailable, Some(karpsim::model::IntOrPercent::Percent(25)));
}

#[test]
fn bad_input_names_file_document_object_and_field() {
    let pod = |spec: &str| format!("apiVersion: v1\nkind: Pod\nmetadata: {{name: p, namespace: ns}}\nspec:\n{spec}");
    let cases: Vec<(String, Vec<&str>)> = vec![
        ("a: [1, 2\nb: }".into(), vec!["test.yaml", "malformed YAML", "line"]),
        ("just a string".into(), vec!["test.yaml", "document 1", "mapping"]),
        ("apiVersion: v1\nmetadata: {name: x}".into(), vec!["document 1", "no `kind`"]),
        ("kind: Pod\nmetadata: {name: x}".into(), vec!["document 1", "no `apiVersion`"]),
        ("apiVersion: v1\nkind: Pod\nmetadata: {}\nspec: {}".into(), vec!["document 1", "Pod", "metadata.name", "missing"]),
        (
            format!("apiVersion: v1\nkind: Service\nmetadata: {{name: s}}\n---\n{}", pod("  containers: [{name: c, resources: {requests: {cpu: -100m}}}]\n")),
            vec!["document 2", "Pod ns/p", "spec.containers[0].resources.requests.cpu", "negative"],
        ),
        (pod("  containers: [{name: c, resources: {requests: {memory: [1]}}}]\n"), vec!["Pod ns/p", "requests.memory", "expected a quantity"]),
        (pod("  containers: [{name: c, resources: {requets: {}}}]\n"), vec!["spec.containers[0].resources.requets", "unknown field"]),
        (pod("  containers: [{name: c}]\n  nodeSelecter: {a: b}\n"), vec!["spec.nodeSelecter", "unknown field", "did you mean \"nodeSelector\""]),
        (pod("  containers: [{name: c}]\n  priority: high\n"), vec!["spec.priority", "expected an integer"]),
        (pod("  containers: [{name: c}]\n  tolerations: [{key: a, operator: Exists, value: b}]\n"), vec!["spec.tolerations[0]", "no value"]),
        (pod("  containers: [{name: c}]\n  topologySpreadConstraints: [{maxSkew: 0, topologyKey: zone, whenUnsatisfiable: DoNotSchedule}]\n"), vec!["spec.topologySpreadConstraints[0].maxSkew", "out of range"]),
        (pod("  containers: [{name: c}]\n  affinity: {podAffinity: {requiredDuringSchedulingIgnoredDuringExecution: [{labelSelector: {matchLabels: {a: b}}}]}}\n"), vec!["podAffinity.requiredDuringSchedulingIgnoredDuringExecution[0].topologyKey", "missing"]),
        (pod("  containers: [{name: c}]\n  affinity: {nodeAfinity: {}}\n"), vec!["spec.affinity.nodeAfinity", "unknown field"]),
        (
            "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d}\nspec:\n  replicas: -1\n  template: {spec: {containers: [{name: c}]}}\n".into(),
            vec!["Deployment default/d", "spec.replicas", "out of range"],
        ),
        (
            "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d}\nspec:\n  replicas: 2000000\n  template: {spec: {containers: [{name: c}]}}\n".into(),
            vec!["spec.replicas", "work limit of 1000000 pods", "--pod-limit"],
        ),
        (
            // a HorizontalPodAutoscaler's minimum is held to the work limit too, before its pods are made
            "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d}\nspec:\n  template: {spec: {containers: [{name: c}]}}\n---\n\
             apiVersion: autoscaling/v2\nkind: HorizontalPodAutoscaler\nmetadata: {name: h}\n\
             spec: {scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: d}, minReplicas: 2000000, maxReplicas: 2000000}\n"
                .into(),
            vec!["test.yaml", "document 1", "Deployment default/d", "spec.replicas", "2000000 replicas (as its HorizontalPodAutoscaler keeps it)", "work limit of 1000000 pods"],
        ),
        (
            "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d}\nspec:\n  replicas: 3000000000\n  template: {spec: {containers: [{name: c}]}}\n".into(),
            vec!["spec.replicas", "out of range [0, 2147483647]"],
        ),
        (
            "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d}\nspec:\n  template: {spec: {containers: [{name: c, resources: {limits: {cpu: 1e30}}}]}}\n".into(),
            vec!["spec.template.spec.containers[0].resources.limits.cpu"],
        ),
        (
            "apiVersion: v1\nkind: List\nitems:\n- {apiVersion: v1, kind: Node, metadata: {name: n}, status: {capacity: {cpu: x}}}\n".into(),
            vec!["document 1", "Node n", "items[0].status.capacity.cpu", "invalid quantity"],
        ),
        (
            format!("{}---\n{}", pod("  containers: [{name: c}]\n"), pod("  containers: [{name: c, resources: {requests: {cpu: 1}}}]\n")),
            vec!["document 2", "Pod ns/p", "duplicate name ns/p", "document 1"],
        ),
    ];
    for (text, parts) in cases {
        let e = load_err(&text);
        assert_names(&e, &parts);
    }
}

#[test]
fn identical_repeats_are_kept_once() {
    let p = "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec: {containers: [{name: c}]}\n";
    let i = load(&format!("{p}---\n{p}")).unwrap();
    assert_eq!(i.pods.len(), 1);
    assert!(i.warnings.iter().any(|w| w.contains("identical")), "{:?}", i.warnings);
}

#[test]
fn load_value_reads_a_parsed_document() {
    let v = serde_json::json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"},
                               "spec": {"containers": [{"name": "c", "resources": {"limits": {"memory": "1Gi"}}}]}});
    let mut i = Inputs::new();
    i.load_value(v, "python").unwrap();
    let i = i.finish().unwrap();
    assert_eq!(i.pods[0].requests.memory, 1 << 30, "limit stands in for the missing request");
}

// ---------- issue 13: inputs that were silently wrong, crashed or were refused ----------

fn big_pod(containers: &str) -> String {
    format!("apiVersion: v1\nkind: Pod\nmetadata: {{name: big}}\nspec:\n  containers:\n{containers}")
}

#[test]
fn container_sums_past_the_integer_range_are_errors() {
    let two = "  - {name: a, resources: {requests: {memory: 5Ei}}}\n  - {name: b, resources: {requests: {memory: 5Ei}}}\n";
    let e = load_err(&big_pod(two));
    assert_names(&e, &["test.yaml", "document 1", "Pod default/big", "spec.containers[1]", "memory", "8Ei"]);

    let sidecars = "  - {name: a, resources: {requests: {cpu: '1'}}}\n  initContainers:\n  - {name: s, restartPolicy: Always, resources: {requests: {nvidia.com/gpu: '9e18'}}}\n  - {name: t, restartPolicy: Always, resources: {requests: {nvidia.com/gpu: '9e18'}}}\n";
    let e = load_err(&big_pod(sidecars));
    assert_names(&e, &["Pod default/big", "spec.initContainers[1]", "nvidia.com/gpu"]);

    let overhead = "  - {name: a, resources: {requests: {memory: 7Ei}}}\n  overhead: {memory: 2Ei}\n";
    let e = load_err(&big_pod(overhead));
    assert_names(&e, &["Pod default/big", "spec.overhead", "memory"]);
}

#[test]
fn runtime_class_overhead_past_the_range_names_the_pod() {
    let text = "apiVersion: node.k8s.io/v1\nkind: RuntimeClass\nmetadata: {name: kata}\nhandler: kata\noverhead: {podFixed: {memory: 4Ei}}\n---\n".to_string()
        + &big_pod("  - {name: a, resources: {requests: {memory: 5Ei}}}\n  runtimeClassName: kata\n");
    let e = load_err(&text);
    assert_names(&e, &["document 2", "Pod default/big", "spec.runtimeClassName", "RuntimeClass kata", "memory"]);
}

#[test]
fn pods_bound_to_a_node_past_the_range_are_an_error() {
    let mut text = String::from(
        "apiVersion: v1\nkind: Node\nmetadata: {name: n1, labels: {node.kubernetes.io/instance-type: m5.large}}\nstatus: {allocatable: {cpu: '2', memory: 8Gi, pods: '29'}}\n",
    );
    for i in 0..3 {
        text.push_str(&format!(
            "---\napiVersion: v1\nkind: Pod\nmetadata: {{name: p{i}}}\nspec:\n  nodeName: n1\n  containers: [{{name: a, resources: {{requests: {{memory: 4Ei}}}}}}]\n"
        ));
    }
    let inputs = load(&text).unwrap();
    let e = ClusterState::from_inputs(inputs, &CatalogSource::default_aws()).unwrap_err().to_string();
    assert_names(&e, &["Node n1", "default/p", "memory"]);
}

#[test]
fn quantities_are_echoed_as_written() {
    let e = load_err(&big_pod("  - {name: a, resources: {requests: {cpu: 1E}}}\n"));
    assert_names(&e, &["\"1E\"", "out of range", "cpu"]);
    assert!(!e.contains("1e18"), "{e}");
}

#[test]
fn labels_and_names_follow_kubernetes_rules() {
    let pod_with = |spec: &str| format!("apiVersion: v1\nkind: Pod\nmetadata: {{name: p}}\nspec:\n  containers: [{{name: a}}]\n{spec}");
    let cases: Vec<(String, Vec<&str>)> = vec![
        (pod_with("  nodeSelector: {kubernetes.io/arch: arm 64}\n"), vec!["spec.nodeSelector.kubernetes.io/arch", "\"arm 64\"", "label value"]),
        (pod_with("  nodeSelector: {Kubernetes.io/arch: arm64}\n"), vec!["spec.nodeSelector.Kubernetes.io/arch", "label key"]),
        (
            pod_with("  affinity: {nodeAffinity: {requiredDuringSchedulingIgnoredDuringExecution: {nodeSelectorTerms: [{matchExpressions: [{key: 'bad key', operator: Exists}]}]}}}\n"),
            vec!["matchExpressions[0].key", "label key"],
        ),
        (
            pod_with("  topologySpreadConstraints: [{maxSkew: 1, topologyKey: 'zone!', whenUnsatisfiable: DoNotSchedule, labelSelector: {matchLabels: {app: 'a b'}}}]\n"),
            vec!["topologySpreadConstraints[0].topologyKey", "label key"],
        ),
        (pod_with("  tolerations: [{key: 'x y', operator: Exists}]\n"), vec!["tolerations[0].key", "label key"]),
        ("apiVersion: v1\nkind: Pod\nmetadata: {name: Web_1}\nspec: {containers: [{name: a}]}\n".into(), vec!["metadata.name", "\"Web_1\"", "not a valid name"]),
        ("apiVersion: v1\nkind: Pod\nmetadata: {name: p, namespace: Team.A}\nspec: {containers: [{name: a}]}\n".into(), vec!["metadata.namespace", "namespace"]),
        (
            "apiVersion: v1\nkind: Pod\nmetadata: {name: p, labels: {app: '-web'}}\nspec: {containers: [{name: a}]}\n".into(),
            vec!["metadata.labels.app", "label value"],
        ),
        (
            "apiVersion: karpenter.sh/v1\nkind: NodePool\nmetadata: {name: np}\nspec:\n  template:\n    spec:\n      requirements: [{key: karpenter.sh/nodepool, operator: In, values: [x]}]\n".into(),
            vec!["NodePool np", "requirements[0].key", "restricted"],
        ),
        (
            "apiVersion: karpenter.sh/v1\nkind: NodePool\nmetadata: {name: np}\nspec:\n  template:\n    metadata: {labels: {kubernetes.io/hostname: x}}\n    spec: {}\n".into(),
            vec!["spec.template.metadata.labels.kubernetes.io/hostname", "restricted"],
        ),
        (
            "apiVersion: karpenter.sh/v1\nkind: NodePool\nmetadata: {name: np}\nspec:\n  template:\n    spec:\n      requirements: [{key: kubernetes.io/arch, operator: In, values: [arm 64]}]\n".into(),
            vec!["requirements[0].values[0]", "label value"],
        ),
        (
            "apiVersion: v1\nkind: Node\nmetadata: {name: n1}\nspec: {taints: [{key: gpu, value: 'yes please', effect: NoSchedule}]}\n".into(),
            vec!["Node n1", "spec.taints[0].value", "label value"],
        ),
    ];
    for (text, parts) in cases {
        let e = load_err(&text);
        assert_names(&e, &parts);
    }
}

#[test]
fn a_missing_node_class_names_the_nodepool_file_and_document() {
    let text = "apiVersion: karpenter.k8s.aws/v1\nkind: EC2NodeClass\nmetadata: {name: other}\nspec: {amiSelectorTerms: [{alias: al2023@latest}], role: r}\n---\n\
apiVersion: karpenter.sh/v1\nkind: NodePool\nmetadata: {name: default}\nspec:\n  template:\n    spec:\n      nodeClassRef: {group: karpenter.k8s.aws, kind: EC2NodeClass, name: default}\n";
    let inputs = load(text).unwrap();
    match ClusterState::from_inputs(inputs, &CatalogSource::default_aws()) {
        // (a NodePool whose node class is missing may launch nothing instead, with a warning)
        Ok(state) => assert!(state.warnings.iter().any(|w| w.contains("default")), "{:?}", state.warnings),
        Err(e) => assert_names(&e.to_string(), &["test.yaml", "document 2", "NodePool default", "nodeClassRef"]),
    }
}

/// A million replicas fit in memory because they hold their template's parts once; a pod changed
/// afterwards (a scenario, a test) gets its own copy and leaves the others alone.
#[test]
fn replicas_share_their_template_and_copy_on_write() {
    use karpsim::model::Shared;
    let yaml = "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\nspec:\n  replicas: 3\n  template:\n    metadata: {labels: {app: web}}\n    spec:\n      tolerations: [{key: k, operator: Exists}]\n      containers: [{name: c, resources: {requests: {cpu: 100m}}}]\n";
    let mut inputs = Inputs::new();
    inputs.load_str(yaml, "web.yaml").unwrap();
    let mut pods = inputs.finish().unwrap().pods;
    assert_eq!(pods.len(), 3);
    assert!(Shared::ptr_eq(&pods[0].labels, &pods[2].labels));
    assert!(Shared::ptr_eq(&pods[0].tolerations, &pods[1].tolerations));
    assert!(Shared::ptr_eq(&pods[0].affinity, &pods[1].affinity));
    pods[1].labels.insert(Sym::new("extra"), Sym::new("yes"));
    assert_eq!((pods[0].labels.len(), pods[1].labels.len(), pods[2].labels.len()), (1, 2, 1));
    assert!(Shared::ptr_eq(&pods[0].labels, &pods[2].labels));
}

/// Bare Pods with equal specs (a dump of a Deployment's replicas) are read once per spec and share
/// the parts, as replicas do; each pod still equals the pod read on its own (its metadata and status
/// are its own), and key order does not make specs different.
#[test]
fn bare_pods_with_equal_specs_share_one_reading() {
    use karpsim::model::Shared;
    let spec = "{tolerations: [{key: k, operator: Exists}], containers: [{name: c, resources: {requests: {cpu: 100m}}}]}";
    let reordered = "{containers: [{resources: {requests: {cpu: 100m}}, name: c}], tolerations: [{operator: Exists, key: k}]}";
    let other = "{tolerations: [{key: k, operator: Exists}], containers: [{name: c, resources: {requests: {cpu: 200m}}}]}";
    let docs = [
        format!("apiVersion: v1\nkind: Pod\nmetadata: {{name: a, labels: {{app: a}}}}\nspec: {spec}\n"),
        format!("apiVersion: v1\nkind: Pod\nmetadata: {{name: b, namespace: other}}\nspec: {reordered}\nstatus: {{phase: Running}}\n"),
        format!("apiVersion: v1\nkind: Pod\nmetadata: {{name: c}}\nspec: {other}\n"),
        format!("apiVersion: v1\nkind: Pod\nmetadata: {{name: d, uid: u-d}}\nspec: {spec}\n"),
    ];
    let mut inputs = Inputs::new();
    inputs.load_str(&docs.join("---\n"), "dump.yaml").unwrap();
    let pods = inputs.finish().unwrap().pods;
    assert_eq!(pods.len(), 4);
    for (pod, doc) in pods.iter().zip(&docs) {
        let mut alone = Inputs::new();
        alone.load_str(doc, "dump.yaml").unwrap();
        assert_eq!(*pod, alone.finish().unwrap().pods[0]);
    }
    assert!(Shared::ptr_eq(&pods[0].tolerations, &pods[1].tolerations));
    assert!(Shared::ptr_eq(&pods[0].tolerations, &pods[3].tolerations));
    assert!(!Shared::ptr_eq(&pods[0].tolerations, &pods[2].tolerations));
    assert_eq!((pods[0].requests.cpu, pods[2].requests.cpu), (100, 200));
}

/// Bound pods whose specs differ only in `nodeName` (a snapshot: each replica names its own node)
/// share one reading of the rest, and each keeps its own node (or none, or an empty name read as
/// none); each pod equals the pod read on its own. A `nodeName` that is not a string is still
/// refused, naming the field, after an equal spec was read.
#[test]
fn bound_pods_share_one_reading_of_their_specs_but_not_their_nodes() {
    use karpsim::model::Shared;
    let spec = |node: &str| format!("{{{node}tolerations: [{{key: k, operator: Exists}}], containers: [{{name: c, resources: {{requests: {{cpu: 100m}}}}}}]}}");
    let docs: Vec<String> = ["nodeName: node-a, ", "nodeName: node-b, ", "", "nodeName: '', "]
        .iter()
        .enumerate()
        .map(|(i, node)| format!("apiVersion: v1\nkind: Pod\nmetadata: {{name: p{i}}}\nspec: {}\nstatus: {{phase: Running}}\n", spec(node)))
        .collect();
    let mut inputs = Inputs::new();
    inputs.load_str(&docs.join("---\n"), "snapshot.yaml").unwrap();
    let pods = inputs.finish().unwrap().pods;
    let nodes: Vec<Option<&str>> = pods.iter().map(|p| p.node_name.map(|n| n.as_str())).collect();
    assert_eq!(nodes, [Some("node-a"), Some("node-b"), None, None]);
    for (pod, doc) in pods.iter().zip(&docs) {
        let mut alone = Inputs::new();
        alone.load_str(doc, "snapshot.yaml").unwrap();
        assert_eq!(*pod, alone.finish().unwrap().pods[0]);
    }
    assert!(pods.iter().all(|p| Shared::ptr_eq(&p.tolerations, &pods[0].tolerations)));
    let bad = format!("{}---\napiVersion: v1\nkind: Pod\nmetadata: {{name: bad}}\nspec: {}\n", docs[0], spec("nodeName: [x], "));
    let err = Inputs::new().load_str(&bad, "snapshot.yaml").unwrap_err().to_string();
    assert!(err.contains("nodeName"), "{err}");
}
