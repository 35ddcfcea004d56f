//! Inputs that used to give a silently wrong answer, a crash or a refusal (issue 13): every one is now
//! a right answer or an error naming file, document, object and field.

use karpsim::catalog::CatalogSource;
use karpsim::io::Inputs;
use karpsim::state::ClusterState;

fn load(text: &str) -> karpsim::Result<Inputs> {
    let mut i = Inputs::new();
    i.load_str(text, "test.yaml")?;
    i.finish()
}

#[track_caller]
fn load_err(text: &str) -> String {
    match load(text) {
        Ok(_) => panic!("expected an error for:\n{text}"),
        Err(e) => e.to_string(),
    }
}

#[track_caller]
fn assert_names(e: &str, parts: &[&str]) {
    for p in parts {
        assert!(e.contains(p), "{p:?} missing from: {e}");
    }
}

fn pod(containers: &str) -> String {
    format!("apiVersion: v1\nkind: Pod\nmetadata: {{name: big}}\nspec:\n  containers:\n{containers}")
}

#[test]
fn container_sums_past_the_integer_range_are_errors() {
    let two = "  - {name: a, resources: {requests: {memory: 5Ei}}}\n  - {name: b, resources: {requests: {memory: 5Ei}}}\n";
    let e = load_err(&pod(two));
    assert_names(&e, &["test.yaml", "document 1", "Pod default/big", "spec.containers[1]", "memory", "8Ei"]);

    let sidecars = "  - {name: a, resources: {requests: {cpu: '1'}}}\n  initContainers:\n  - {name: s, restartPolicy: Always, resources: {requests: {nvidia.com/gpu: '9e18'}}}\n  - {name: t, restartPolicy: Always, resources: {requests: {nvidia.com/gpu: '9e18'}}}\n";
    let e = load_err(&pod(sidecars));
    assert_names(&e, &["Pod default/big", "spec.initContainers[1]", "nvidia.com/gpu"]);

    let overhead = "  - {name: a, resources: {requests: {memory: 7Ei}}}\n  overhead: {memory: 2Ei}\n";
    let e = load_err(&pod(overhead));
    assert_names(&e, &["Pod default/big", "spec.overhead", "memory"]);
}

#[test]
fn runtime_class_overhead_past_the_range_names_the_pod() {
    let text = "apiVersion: node.k8s.io/v1\nkind: RuntimeClass\nmetadata: {name: kata}\nhandler: kata\noverhead: {podFixed: {memory: 4Ei}}\n---\n".to_string()
        + &pod("  - {name: a, resources: {requests: {memory: 5Ei}}}\n  runtimeClassName: kata\n");
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
    let e = load_err(&pod("  - {name: a, resources: {requests: {cpu: 1E}}}\n"));
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
