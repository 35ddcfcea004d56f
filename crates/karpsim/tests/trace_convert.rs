//! `kubectl get pods -o json` dumps -> the pod event CSV, read back by the trace reader.

use karpsim::io::parse_rfc3339;
use karpsim::labels::Sym;
use karpsim::model::{TaintEffect, Toleration, TolerationOperator};
use karpsim::sim::TraceEvent;
use karpsim::sim::trace::read_events;
use karpsim::sim::trace_convert::{EVENT_COLUMNS, Skipped, events_csv, events_from_pods, pod_dump_from_str, read_pod_dump};
use std::path::{Path, PathBuf};

fn dump_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/pod-dump.json")
}

fn temp_file(name: &str, text: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("karpsim-trace-convert-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

fn sym(s: &str) -> Sym {
    Sym::new(s)
}

fn tol(key: &str, operator: TolerationOperator, value: Option<&str>, effect: TaintEffect) -> Toleration {
    Toleration { key: Some(sym(key)), operator, value: value.map(str::to_string), effect: Some(effect), toleration_seconds: None }
}

/// Convert a dump and read the CSV back as a scenario starting at `start` would.
fn round_trip(text: &str, start: &str) -> (Vec<TraceEvent>, String) {
    let dump = pod_dump_from_str(text, "dump.json").unwrap();
    let conv = events_from_pods(&dump.pods, &dump.source).unwrap();
    let csv = events_csv(&conv.rows).unwrap();
    let path = temp_file(&format!("{}.csv", start.replace(':', "-")), &csv);
    (read_events(&path, None, parse_rfc3339(start).unwrap()).unwrap(), csv)
}

#[test]
fn a_pod_dump_round_trips_through_the_event_csv() {
    let dump = read_pod_dump(&dump_path()).unwrap();
    assert_eq!(dump.pods.len(), 7);
    assert!(dump.notes.is_empty(), "{:?}", dump.notes);
    let conv = events_from_pods(&dump.pods, &dump.source).unwrap();
    assert_eq!(conv.skipped, Skipped { daemonset: 1, mirror: 1, no_finish_time: 1 });
    assert_eq!((conv.pods, conv.creates(), conv.deletes()), (4, 4, 2));
    let notes = conv.notes().join("\n");
    assert!(notes.contains("ephemeral-storage (1 pod(s))"), "{notes}");

    let csv = events_csv(&conv.rows).unwrap();
    assert!(csv.starts_with(&format!("{}\n", EVENT_COLUMNS.join(","))), "{csv}");
    // absolute timestamps, so that the scenario's start places them
    assert!(csv.contains("\n2026-11-20T09:30:00Z,create,shop,redis-cart-0,StatefulSet/redis-cart,250m,256Mi,"), "{csv}");
    let path = temp_file("dump.csv", &csv);
    let events = read_events(&path, None, parse_rfc3339("2026-11-20T09:00:00Z").unwrap()).unwrap();

    let got: Vec<(f64, bool, &str)> = events.iter().map(|e| (e.at, e.create, e.pod.name.as_str())).collect();
    assert_eq!(
        got,
        vec![
            (1800.0, true, "redis-cart-0"),
            (3600.0, true, "frontend-5c9d7f6b8d-2lq9x"),
            (7200.0, true, "report-29381720-8mkzd"),
            // Succeeded: the latest container finishedAt (11:25:30), not the earlier one
            (8730.0, false, "report-29381720-8mkzd"),
            (10800.0, true, "debug"),
            // deletionTimestamp
            (12600.0, false, "redis-cart-0"),
        ]
    );

    // init container (2 cpu) larger than the containers' sum (600m); memory is the containers' sum
    let web = &events[1].pod;
    assert_eq!((web.requests.cpu, web.requests.memory), (2000, 640 << 20));
    assert_eq!(web.namespace.as_str(), "shop");
    assert_eq!(web.owner.as_ref().map(|o| o.name.as_str()), Some("ReplicaSet/frontend-5c9d7f6b8d"), "the controller reference");
    assert_eq!(web.labels.get(&sym("app")), Some(&sym("frontend")));
    assert_eq!(web.labels.len(), 2);
    assert_eq!(web.node_selector.get(&sym("kubernetes.io/arch")), Some(&sym("arm64")));
    assert_eq!(
        web.tolerations,
        vec![
            tol("dedicated", TolerationOperator::Equal, Some("web"), TaintEffect::NoSchedule),
            tol("node.kubernetes.io/not-ready", TolerationOperator::Exists, None, TaintEffect::NoExecute),
            tol("node.kubernetes.io/unreachable", TolerationOperator::Exists, None, TaintEffect::NoExecute),
        ]
    );

    // two containers + spec.overhead; the GPU given as a limit only is the request
    let job = &events[2].pod;
    assert_eq!((job.requests.cpu, job.requests.memory), (4250, (16 << 30) + (120 << 20)));
    assert_eq!(job.requests.get("nvidia.com/gpu"), 1);
    assert_eq!(job.owner.as_ref().map(|o| o.name.as_str()), Some("Job/report-29381720"));
    assert_eq!(job.tolerations, vec![tol("nvidia.com/gpu", TolerationOperator::Exists, None, TaintEffect::NoSchedule)]);
    assert_eq!(job.node_selector.get(&sym("karpenter.sh/capacity-type")), Some(&sym("on-demand")));

    // no owner; tolerates everything; ephemeral-storage has no column
    let debug = &events[4].pod;
    assert!(debug.owner.is_none());
    assert_eq!(debug.requests.ephemeral_storage, 0);
    assert_eq!(debug.tolerations.len(), 1);
    assert!(debug.tolerations[0].key.is_none() && debug.tolerations[0].operator == TolerationOperator::Exists);
    assert!(debug.tolerations[0].effect.is_none());

    // every written pod reads back with the dump's requests, labels, node selector and tolerations
    for e in events.iter().filter(|e| e.create) {
        let orig = dump.pods.iter().find(|p| p.key() == e.pod.key()).unwrap();
        let mut requests = orig.requests.clone();
        requests.ephemeral_storage = 0;
        assert_eq!(e.pod.requests, requests, "{}", orig.key());
        assert_eq!((&e.pod.labels, &e.pod.node_selector), (&orig.labels, &orig.node_selector), "{}", orig.key());
        let tolerations: Vec<Toleration> = orig.tolerations.iter().map(|t| Toleration { toleration_seconds: None, ..t.clone() }).collect();
        assert_eq!(e.pod.tolerations, tolerations, "{}", orig.key());
    }
}

#[test]
fn pod_lists_single_pods_and_yaml_are_read() {
    let pod = |name: &str, created: &str| {
        format!(
            "{{\"metadata\": {{\"name\": \"{name}\", \"namespace\": \"a\", \"creationTimestamp\": \"{created}\"}}, \
             \"spec\": {{\"containers\": [{{\"name\": \"c\", \"resources\": {{\"requests\": {{\"cpu\": \"1\", \"memory\": \"1Gi\"}}}}}}]}}}}"
        )
    };
    // a PodList's items may omit kind and apiVersion
    let list = format!(
        "{{\"apiVersion\": \"v1\", \"kind\": \"PodList\", \"items\": [{}, {}]}}",
        pod("p2", "2026-01-01T00:10:00Z"),
        pod("p1", "2026-01-01T00:05:00Z")
    );
    let (events, _) = round_trip(&list, "2026-01-01T00:00:00Z");
    assert_eq!(events.iter().map(|e| (e.at, e.pod.name.as_str())).collect::<Vec<_>>(), vec![(300.0, "p1"), (600.0, "p2")]);

    let yaml = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: solo\n  namespace: b\n  creationTimestamp: \"2026-01-01T01:00:00Z\"\n\
                spec:\n  containers:\n  - name: c\n    resources: {requests: {cpu: 1500m, memory: 3Gi}}\nstatus:\n  phase: Failed\n  \
                containerStatuses:\n  - name: c\n    state: {terminated: {exitCode: 1, finishedAt: \"2026-01-01T01:00:45Z\"}}\n";
    let (events, csv) = round_trip(yaml, "2026-01-01T01:00:00Z");
    assert_eq!(events.iter().map(|e| (e.at, e.create)).collect::<Vec<_>>(), vec![(0.0, true), (45.0, false)], "{csv}");
    assert_eq!(events[0].pod.requests.cpu, 1500);
    assert_eq!(events[0].pod.namespace.as_str(), "b");
}

#[test]
fn objects_other_than_pods_are_ignored_and_reported() {
    // `kubectl get all,nodes -A -o json`: a Deployment must not turn into made-up replica pods
    let text = r#"{"apiVersion": "v1", "kind": "List", "items": [
      {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web", "namespace": "a", "creationTimestamp": "2026-01-01T00:00:00Z"},
       "spec": {"replicas": 3, "template": {"spec": {"containers": [{"name": "c"}]}}}},
      {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web", "namespace": "a"}},
      {"apiVersion": "v1", "kind": "Node", "metadata": {"name": "n1", "labels": {"node.kubernetes.io/instance-type": "m5.large"}},
       "status": {"capacity": {"cpu": "2", "memory": "8Gi", "pods": "29"}}},
      {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "web-1", "namespace": "a", "creationTimestamp": "2026-01-01T00:01:00Z",
        "ownerReferences": [{"kind": "ReplicaSet", "name": "web-7f", "controller": true}]},
       "spec": {"containers": [{"name": "c", "resources": {"requests": {"cpu": "1"}}}]}}
    ]}"#;
    let dump = pod_dump_from_str(text, "all.json").unwrap();
    assert_eq!(dump.pods.iter().map(|p| p.key()).collect::<Vec<_>>(), vec!["a/web-1"]);
    let notes = dump.notes.join("\n");
    assert!(notes.contains("Node (1)") && notes.contains("templates of 3 pod(s)"), "{notes}");
    assert!(notes.contains("Service (1)"), "{notes}");

    let e = pod_dump_from_str(r#"{"apiVersion": "v1", "kind": "List", "items": []}"#, "empty.json").unwrap_err().to_string();
    assert!(e.contains("empty.json") && e.contains("no Pod objects"), "{e}");
}

#[test]
fn a_manifest_pod_without_creation_time_is_an_error_naming_it() {
    let text = "apiVersion: v1\nkind: Pod\nmetadata: {name: web, namespace: shop}\nspec:\n  containers: [{name: c}]\n";
    let dump = pod_dump_from_str(text, "pod.yaml").unwrap();
    let e = events_from_pods(&dump.pods, &dump.source).unwrap_err();
    assert!(matches!(e, karpsim::Error::Input { .. }), "{e:?}");
    let e = e.to_string();
    assert!(e.contains("pod.yaml") && e.contains("Pod shop/web") && e.contains("metadata.creationTimestamp"), "{e}");
    // a bad finishedAt is the reader's error, with its field
    let text = "apiVersion: v1\nkind: Pod\nmetadata: {name: web, creationTimestamp: \"2026-01-01T00:00:00Z\"}\nspec:\n  containers: [{name: c}]\n\
                status:\n  phase: Succeeded\n  containerStatuses: [{name: c, state: {terminated: {finishedAt: yesterday}}}]\n";
    let e = pod_dump_from_str(text, "pod.yaml").unwrap_err().to_string();
    assert!(e.contains("containerStatuses[0].state.terminated.finishedAt") && e.contains("yesterday"), "{e}");
}
