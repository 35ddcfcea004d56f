//! A pod list dump -> karpsim's pod event CSV (`karpsim trace from-pods`, `docs/scenarios.md`).
//!
//! The dump (`kubectl get pods -A -o json`: a `List` or `PodList` of Pods, or a single Pod; JSON or
//! YAML) is read by [`crate::io::Inputs`], so a pod's requests are the effective requests that reader
//! computes (containers, init containers and sidecars as the scheduler adds them, plus `spec.overhead`).
//! Each recorded pod becomes a `create` row at its `metadata.creationTimestamp` and, when it stopped,
//! a `delete` row: at the earlier of its containers' latest `finishedAt` and its `deletionTimestamp` for
//! a Succeeded or Failed pod, else at its `deletionTimestamp` (pods without one get no `delete` row).
//! DaemonSet pods and mirror (static) pods are skipped and counted: DaemonSets come from manifests.
//! Timestamps are written in RFC 3339, which [`super::trace::read_events`] takes relative to the
//! scenario's `start`.
//!
//! ```
//! use karpsim::sim::trace_convert::{events_csv, events_from_pods, pod_dump_from_str};
//! let dump = pod_dump_from_str(r#"{"apiVersion": "v1", "kind": "List", "items": [{
//!   "apiVersion": "v1", "kind": "Pod",
//!   "metadata": {"name": "web-1", "namespace": "shop", "creationTimestamp": "2026-11-20T10:00:00Z",
//!                "ownerReferences": [{"kind": "ReplicaSet", "name": "web-5c9d", "controller": true}]},
//!   "spec": {"containers": [{"name": "app", "resources": {"requests": {"cpu": "250m", "memory": "256Mi"}}}]},
//!   "status": {"phase": "Running"}}]}"#, "pods.json").unwrap();
//! let events = events_from_pods(&dump.pods, &dump.source).unwrap();
//! assert_eq!(events_csv(&events.rows).unwrap(), "timestamp,action,namespace,name,owner,cpu,memory,gpu,labels,node_selector,tolerations\n\
//!     2026-11-20T10:00:00Z,create,shop,web-1,ReplicaSet/web-5c9d,250m,256Mi,,,,\n");
//! ```

use crate::error::{Error, Location, Result};
use crate::io::{Inputs, format_rfc3339};
use crate::labels::Sym;
use crate::model::{Affinity, OwnerKind, Pod, Timestamp, Toleration, TolerationOperator};
use crate::resources::{CPU, MEMORY, PODS, format_amount};
use crate::work::WorkLimits;
use std::collections::BTreeMap;
use std::path::Path;

/// The header of the event CSV, in the order the converter writes it.
pub const EVENT_COLUMNS: [&str; 11] =
    ["timestamp", "action", "namespace", "name", "owner", "cpu", "memory", "gpu", "labels", "node_selector", "tolerations"];

/// The resource of the `gpu` column.
const GPU: &str = "nvidia.com/gpu";

/// The Pod objects of a dump.
#[derive(Debug, Clone, Default)]
pub struct PodDump {
    pub pods: Vec<Pod>,
    /// The file (or `stdin`) the pods came from, for errors.
    pub source: String,
    /// The reader's warnings, and what the dump held besides Pod objects (ignored).
    pub notes: Vec<String>,
}

/// Read a dump from a file (or every `*.json`/`*.yaml` under a directory).
pub fn read_pod_dump(path: &Path) -> Result<PodDump> {
    read_pod_dump_with(path, WorkLimits::default())
}

/// [`read_pod_dump`] under given work limits.
pub fn read_pod_dump_with(path: &Path, limits: WorkLimits) -> Result<PodDump> {
    let mut inputs = Inputs::with_limits(limits);
    inputs.load_path(path)?;
    finish_dump(inputs, &path.display().to_string())
}

/// Read a dump from text (JSON or YAML); `source` names it in errors.
pub fn pod_dump_from_str(text: &str, source: &str) -> Result<PodDump> {
    pod_dump_from_str_with(text, source, WorkLimits::default())
}

/// [`pod_dump_from_str`] under given work limits.
pub fn pod_dump_from_str_with(text: &str, source: &str, limits: WorkLimits) -> Result<PodDump> {
    let mut inputs = Inputs::with_limits(limits);
    inputs.load_str(text, source)?;
    finish_dump(inputs, source)
}

/// Keep the Pod objects; count everything else as ignored. A dump without any Pod is an error.
fn finish_dump(mut inputs: Inputs, source: &str) -> Result<PodDump> {
    let replicas = inputs.retain_pod_objects();
    // counted before `finish`, which merges NodeClaims into the nodes
    let others = [
        ("DaemonSet", inputs.daemonsets.len()),
        ("Node", inputs.nodes.len()),
        ("NodeClaim", inputs.nodeclaims.len()),
        ("NodePool", inputs.nodepools.len()),
        ("EC2NodeClass", inputs.nodeclasses.len()),
        ("PodDisruptionBudget", inputs.pdbs.len()),
        ("Namespace", inputs.namespaces.len()),
        ("PersistentVolumeClaim", inputs.volume_claims.len()),
        ("PersistentVolume", inputs.volumes.len()),
        ("StorageClass", inputs.storage_classes.len()),
        ("CSINode", inputs.csi_nodes.len()),
    ];
    let inputs = inputs.finish()?;
    let mut notes = inputs.warnings;
    let mut ignored: Vec<String> = others
    .iter()
    .filter(|(_, n)| *n > 0)
    .map(|(kind, n)| format!("{kind} ({n})"))
    .collect();
    if replicas > 0 {
        ignored.push(format!("Deployment/ReplicaSet/StatefulSet/Job objects (templates of {replicas} pod(s))"));
    }
    if !ignored.is_empty() {
        notes.push(format!("ignored objects that are not Pods: {} (a trace records Pod objects only)", ignored.join(", ")));
    }
    if inputs.pods.is_empty() {
        let at = Location { file: Some(source.to_string()), ..Default::default() };
        return Err(Error::input(at, "no Pod objects to convert (expected the output of `kubectl get pods -A -o json`)"));
    }
    Ok(PodDump { pods: inputs.pods, source: source.to_string(), notes })
}

/// One row of the event CSV: `pod` is created (`create`) or deleted at `at` (Unix seconds).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct EventRow<'p> {
    pub at: Timestamp,
    pub create: bool,
    pub pod: &'p Pod,
}

/// Pods of the dump that are not part of a replayed workload, by reason.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Skipped {
    /// Owned by a DaemonSet.
    pub daemonset: usize,
    /// Mirror (static) pods: owned by a Node or annotated `kubernetes.io/config.mirror`.
    pub mirror: usize,
    /// Succeeded or Failed without a container `finishedAt` or a `deletionTimestamp` (e.g. rejected by
    /// the kubelet before any container started): no time to delete them at.
    pub no_finish_time: usize,
}

/// The rows of a dump's pods, and what the CSV leaves out.
#[derive(Debug, Clone, Default)]
pub struct Conversion<'p> {
    /// Sorted by time, then `create` before `delete`, then namespace and name.
    pub rows: Vec<EventRow<'p>>,
    /// Pods written (each has a `create` row).
    pub pods: usize,
    pub skipped: Skipped,
    /// Resources requested by written pods that the CSV has no column for, with how many pods request each.
    pub unwritten_resources: BTreeMap<String, usize>,
    /// Written pods with affinity, topology spread constraints, host ports or PersistentVolumeClaims,
    /// which the CSV does not carry.
    pub unwritten_constraints: usize,
}

impl Conversion<'_> {
    pub fn creates(&self) -> usize {
        self.rows.iter().filter(|r| r.create).count()
    }
    pub fn deletes(&self) -> usize {
        self.rows.len() - self.creates()
    }

    /// What was skipped or left out, one sentence each (for stderr).
    pub fn notes(&self) -> Vec<String> {
        let mut out = Vec::new();
        let s = &self.skipped;
        if s.daemonset > 0 {
            out.push(format!("skipped {} DaemonSet pod(s): DaemonSets come from the manifests, not from a trace", s.daemonset));
        }
        if s.mirror > 0 {
            out.push(format!("skipped {} mirror (static) pod(s): the kubelet runs them, not the scheduler", s.mirror));
        }
        if s.no_finish_time > 0 {
            out.push(format!(
                "skipped {} Succeeded/Failed pod(s) with neither a container finishedAt nor a deletionTimestamp (they never ran)",
                s.no_finish_time
            ));
        }
        if !self.unwritten_resources.is_empty() {
            let list: Vec<String> = self.unwritten_resources.iter().map(|(r, n)| format!("{r} ({n} pod(s))")).collect();
            out.push(format!("the event CSV has no column for these requests, which are not written: {}", list.join(", ")));
        }
        if self.unwritten_constraints > 0 {
            out.push(format!(
                "{} pod(s) have affinity, topology spread constraints, host ports or PersistentVolumeClaims, which the event CSV does not carry",
                self.unwritten_constraints
            ));
        }
        out
    }
}

fn pod_at(source: &str, p: &Pod, field: &str) -> Location {
    Location {
        file: Some(source.to_string()),
        kind: Some("Pod".into()),
        object: Some(p.key()),
        field: Some(field.to_string()),
        ..Default::default()
    }
}

/// The event rows of recorded pods. `source` names the dump in errors. A pod without a creation time
/// (the reader leaves 0 when `metadata.creationTimestamp` is missing: a manifest, not a dump) or with a
/// toleration the CSV cannot express is an error; skipped pods are counted in [`Conversion::skipped`].
pub fn events_from_pods<'p>(pods: &'p [Pod], source: &str) -> Result<Conversion<'p>> {
    let mut c = Conversion::default();
    for p in pods {
        if p.is_mirror() {
            c.skipped.mirror += 1;
            continue;
        }
        if p.is_daemonset_pod() {
            c.skipped.daemonset += 1;
            continue;
        }
        if p.creation_timestamp == 0 {
            return Err(Error::input(
                pod_at(source, p, "metadata.creationTimestamp"),
                "missing: a recorded pod needs its creation time (is this a manifest rather than `kubectl get pods -o json` output?)",
            ));
        }
        for (i, t) in p.tolerations.iter().enumerate() {
            toleration(t).map_err(|m| Error::input(pod_at(source, p, &format!("spec.tolerations[{i}]")), m))?;
        }
        for (field, map) in [("metadata.labels", &p.labels), ("spec.nodeSelector", &p.node_selector)] {
            pairs(map).map_err(|m| Error::input(pod_at(source, p, field), m))?;
        }
        let stop = if p.is_terminal() {
            match (p.finished_at, p.deletion_timestamp) {
                (None, None) => {
                    c.skipped.no_finish_time += 1;
                    continue;
                }
                (f, d) => f.into_iter().chain(d).min(),
            }
        } else {
            p.deletion_timestamp
        };
        c.rows.push(EventRow { at: p.creation_timestamp, create: true, pod: p });
        if let Some(at) = stop {
            // Clocks of kubelets and the API server differ: a stop is never before the creation.
            c.rows.push(EventRow { at: at.max(p.creation_timestamp), create: false, pod: p });
        }
        c.pods += 1;
        for (name, _) in p.requests.iter().filter(|(n, _)| ![CPU, MEMORY, GPU, PODS].contains(n)) {
            *c.unwritten_resources.entry(name.to_string()).or_default() += 1;
        }
        if *p.affinity != Affinity::default() || !p.topology_spread.is_empty() || !p.host_ports.is_empty() || p.volumes.is_some() {
            c.unwritten_constraints += 1;
        }
    }
    c.rows.sort_by(|a, b| {
        (a.at, !a.create, a.pod.namespace.as_str(), a.pod.name.as_str()).cmp(&(
            b.at,
            !b.create,
            b.pod.namespace.as_str(),
            b.pod.name.as_str(),
        ))
    });
    Ok(c)
}

/// The `owner` column: the owner reference as `Kind/name` (the controller one, as the reader picks it);
/// just the name for kinds karpsim does not model (their kind is not kept). The CSV reader keeps the whole
/// string as the owner's name.
pub fn owner_column(p: &Pod) -> String {
    let Some(o) = &p.owner else { return String::new() };
    let kind = match o.kind {
        OwnerKind::ReplicaSet => "ReplicaSet",
        OwnerKind::Deployment => "Deployment",
        OwnerKind::StatefulSet => "StatefulSet",
        OwnerKind::DaemonSet => "DaemonSet",
        OwnerKind::Job => "Job",
        OwnerKind::Node => "Node",
        OwnerKind::Other => return o.name.to_string(),
    };
    format!("{kind}/{}", o.name)
}

/// `k=v;k=v`, refusing keys and values that would not read back.
fn pairs(map: &BTreeMap<Sym, Sym>) -> std::result::Result<String, String> {
    let mut out = Vec::with_capacity(map.len());
    for (k, v) in map {
        let (k, v) = (k.as_str(), v.as_str());
        if k.is_empty() || k.contains(['=', ';']) || v.contains(';') || k.trim() != k || v.trim() != v {
            return Err(format!("{k}={v} cannot be written as `k=v;k=v`"));
        }
        out.push(format!("{k}={v}"));
    }
    Ok(out.join(";"))
}

/// A toleration as `key=value:Effect` (Equal), `key:Effect` (Exists), without `:Effect` for any effect;
/// `:` alone tolerates everything. `tolerationSeconds` is not written.
fn toleration(t: &Toleration) -> std::result::Result<String, String> {
    let key = t.key.map_or("", |k| k.as_str());
    let mut s = match t.operator {
        TolerationOperator::Exists => key.to_string(),
        TolerationOperator::Equal => {
            let value = t.value.as_deref().unwrap_or("");
            if value.contains([':', ';']) {
                return Err(format!("toleration value {value:?} cannot be written to the event CSV"));
            }
            format!("{key}={value}")
        }
        op @ (TolerationOperator::Gt | TolerationOperator::Lt) => {
            return Err(format!("the event CSV has no toleration operator {op:?} (only Equal and Exists)"));
        }
    };
    if let Some(e) = t.effect {
        s.push_str(&format!(":{e:?}"));
    } else if s.is_empty() {
        // An empty entry is skipped by the reader; `:` reads back as an empty key with Exists.
        s.push(':');
    }
    Ok(s)
}

/// The rows as the event CSV (header included), quantities as Kubernetes writes them (`250m`, `1Gi`).
/// `delete` rows name the pod only.
pub fn events_csv(rows: &[EventRow]) -> Result<String> {
    let csv_err = |e: &dyn std::fmt::Display| Error::Io { path: "event CSV".into(), message: e.to_string() };
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(EVENT_COLUMNS).map_err(|e| csv_err(&e))?;
    for r in rows {
        let p = r.pod;
        let at = |field: &str| pod_at("event CSV", p, field);
        let mut rec = vec![
            format_rfc3339(r.at),
            if r.create { "create" } else { "delete" }.to_string(),
            p.namespace.to_string(),
            p.name.to_string(),
            owner_column(p),
        ];
        if r.create {
            let gpu = p.requests.get(GPU);
            let tolerations: Vec<String> = p
                .tolerations
                .iter()
                .enumerate()
                .map(|(i, t)| toleration(t).map_err(|m| Error::input(at(&format!("spec.tolerations[{i}]")), m)))
                .collect::<Result<_>>()?;
            rec.extend([
                format_amount(CPU, p.requests.cpu),
                format_amount(MEMORY, p.requests.memory),
                if gpu > 0 { gpu.to_string() } else { String::new() },
                pairs(&p.labels).map_err(|m| Error::input(at("metadata.labels"), m))?,
                pairs(&p.node_selector).map_err(|m| Error::input(at("spec.nodeSelector"), m))?,
                tolerations.join(";"),
            ]);
        } else {
            rec.extend(std::iter::repeat_n(String::new(), EVENT_COLUMNS.len() - rec.len()));
        }
        w.write_record(&rec).map_err(|e| csv_err(&e))?;
    }
    let bytes = w.into_inner().map_err(|e| csv_err(&e))?;
    String::from_utf8(bytes).map_err(|e| csv_err(&e))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{OwnerRef, PodPhase, TaintEffect};
    use crate::resources::Resources;

    fn pod(name: &str, created: Timestamp) -> Pod {
        let mut p = Pod::new("ns", name, Resources::from_pairs([(CPU, 500), (MEMORY, 1 << 30)]));
        p.creation_timestamp = created;
        p
    }

    fn tol(key: Option<&str>, operator: TolerationOperator, value: Option<&str>, effect: Option<TaintEffect>) -> Toleration {
        Toleration { key: key.map(Sym::new), operator, value: value.map(str::to_string), effect, toleration_seconds: None }
    }

    #[test]
    fn tolerations_are_written_as_the_reader_expects() {
        use TaintEffect::*;
        use TolerationOperator::*;
        let cases = [
            (tol(Some("dedicated"), Equal, Some("gpu"), Some(NoSchedule)), "dedicated=gpu:NoSchedule"),
            (tol(Some("dedicated"), Equal, None, None), "dedicated="),
            (tol(Some("spot"), Exists, None, Some(PreferNoSchedule)), "spot:PreferNoSchedule"),
            (tol(Some("spot"), Exists, None, None), "spot"),
            (tol(None, Exists, None, Some(NoExecute)), ":NoExecute"),
            (tol(None, Exists, None, None), ":"),
        ];
        for (t, want) in cases {
            assert_eq!(toleration(&t).unwrap(), want);
        }
        let e = toleration(&tol(Some("level"), Gt, Some("3"), None)).unwrap_err();
        assert!(e.contains("Gt"), "{e}");
    }

    #[test]
    fn stop_times_and_order() {
        let running = pod("b-running", 100);
        let mut terminating = pod("c-terminating", 50);
        terminating.deletion_timestamp = Some(400);
        terminating.phase = PodPhase::Running;
        let mut done = pod("a-done", 100);
        done.phase = PodPhase::Succeeded;
        done.finished_at = Some(300);
        done.deletion_timestamp = Some(900); // garbage-collected later: the pod stopped at 300
        let mut skewed = pod("d-skewed", 200);
        skewed.phase = PodPhase::Failed;
        skewed.finished_at = Some(190);
        let mut never_ran = pod("e-rejected", 10);
        never_ran.phase = PodPhase::Failed;
        let mut ds = pod("ds", 10);
        ds.owner = Some(OwnerRef { kind: OwnerKind::DaemonSet, name: Sym::new("agent") });
        let mut mirror = pod("etcd", 10);
        mirror.annotations.insert("kubernetes.io/config.mirror".into(), "x".into());
        let pods = [running, terminating, done, skewed, never_ran, ds, mirror];
        let c = events_from_pods(&pods, "dump.json").unwrap();
        let got: Vec<(Timestamp, bool, &str)> = c.rows.iter().map(|r| (r.at, r.create, r.pod.name.as_str())).collect();
        assert_eq!(
            got,
            vec![
                (50, true, "c-terminating"),
                (100, true, "a-done"),
                (100, true, "b-running"),
                (200, true, "d-skewed"),
                (200, false, "d-skewed"),
                (300, false, "a-done"),
                (400, false, "c-terminating"),
            ]
        );
        assert_eq!(c.skipped, Skipped { daemonset: 1, mirror: 1, no_finish_time: 1 });
        assert_eq!((c.pods, c.creates(), c.deletes()), (4, 4, 3));
        let notes = c.notes().join("\n");
        assert!(notes.contains("1 DaemonSet pod") && notes.contains("1 mirror") && notes.contains("1 Succeeded/Failed"), "{notes}");
    }

    #[test]
    fn missing_creation_time_and_unwritable_values_are_errors() {
        let e = events_from_pods(&[pod("p", 0)], "dump.json").unwrap_err().to_string();
        assert!(e.contains("dump.json") && e.contains("Pod ns/p") && e.contains("metadata.creationTimestamp"), "{e}");
        let mut p = pod("p", 10);
        p.tolerations.push(tol(Some("k"), TolerationOperator::Equal, Some("v"), None));
        p.tolerations.push(tol(Some("level"), TolerationOperator::Lt, Some("3"), None));
        let e = events_from_pods(&[p], "dump.json").unwrap_err().to_string();
        assert!(e.contains("spec.tolerations[1]") && e.contains("Lt"), "{e}");
        let mut p = pod("p", 10);
        p.labels.insert(Sym::new("a"), Sym::new("x;y"));
        let e = events_from_pods(&[p], "dump.json").unwrap_err().to_string();
        assert!(e.contains("metadata.labels"), "{e}");
    }

    #[test]
    fn csv_rows() {
        let mut p = pod("web-1", 1_700_000_000);
        p.requests.set(GPU, 2);
        p.requests.set("ephemeral-storage", 1 << 30);
        p.owner = Some(OwnerRef { kind: OwnerKind::ReplicaSet, name: Sym::new("web-5c9d") });
        p.labels.insert(Sym::new("app"), Sym::new("web"));
        p.labels.insert(Sym::new("tier"), Sym::new(""));
        p.node_selector.insert(Sym::new("kubernetes.io/arch"), Sym::new("arm64"));
        p.tolerations.push(tol(Some("gpu"), TolerationOperator::Exists, None, Some(TaintEffect::NoSchedule)));
        p.phase = PodPhase::Running;
        p.deletion_timestamp = Some(1_700_000_060);
        let mut other = pod("x", 1_700_000_000);
        other.owner = Some(OwnerRef { kind: OwnerKind::Other, name: Sym::new("train") });
        let pods = [p, other];
        let c = events_from_pods(&pods, "dump.json").unwrap();
        assert_eq!(c.unwritten_resources, BTreeMap::from([("ephemeral-storage".to_string(), 1)]));
        let csv = events_csv(&c.rows).unwrap();
        let lines: Vec<&str> = csv.lines().collect();
        assert_eq!(lines[0], EVENT_COLUMNS.join(","));
        assert_eq!(
            lines[1],
            "2023-11-14T22:13:20Z,create,ns,web-1,ReplicaSet/web-5c9d,500m,1Gi,2,app=web;tier=,kubernetes.io/arch=arm64,gpu:NoSchedule"
        );
        assert_eq!(lines[2], "2023-11-14T22:13:20Z,create,ns,x,train,500m,1Gi,,,,");
        assert_eq!(lines[3], "2023-11-14T22:14:20Z,delete,ns,web-1,ReplicaSet/web-5c9d,,,,,,");
        assert_eq!(lines.len(), 4);
    }
}
