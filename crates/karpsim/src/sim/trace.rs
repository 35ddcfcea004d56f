//! Recorded workloads: karpsim's pod event CSV, and the Alibaba cluster-trace-gpu-v2023 pod list.
//!
//! Event CSV (`docs/scenarios.md`): one row per event, header
//! `timestamp,action,namespace,name,owner,cpu,memory,gpu,labels,node_selector,tolerations`;
//! `timestamp` in seconds from the start of the run (or RFC 3339, taken relative to the start), `action` `create` or `delete`,
//! `cpu`/`memory` Kubernetes quantities, `labels`/`node_selector` as `k=v;k=v`, `tolerations` as
//! `key=value:Effect;key:Effect`. Only `timestamp`, `action`, `name`, `cpu` and `memory` are required.
//! [`super::trace_convert`] writes this format from a `kubectl get pods -o json` dump.

use crate::error::{Error, Location, Result};
use crate::labels::Sym;
use crate::model::{OwnerKind, OwnerRef, Pod, TaintEffect, Toleration, TolerationOperator};
use crate::resources::{parse_amount, Resources};
use std::path::Path;

/// A pod created or deleted at a time (seconds from the start), from a trace.
#[derive(Debug, Clone)]
pub struct TraceEvent {
    pub at: f64,
    pub create: bool,
    pub pod: Pod,
}

/// An error in data row `row` (1-based, after the header; 0 is the header itself).
fn err(path: &Path, row: usize, field: &str, message: impl Into<String>) -> Error {
    let object = if row == 0 { "header".to_string() } else { format!("row {row} (line {})", row + 1) };
    let field = (!field.is_empty()).then(|| field.to_string());
    Error::input(Location { file: Some(path.display().to_string()), kind: Some("trace".into()), object: Some(object), field, ..Default::default() }, message)
}

/// `k=v;k=v` pairs (labels, node selector), each key and value checked as Kubernetes checks labels.
fn pairs(path: &Path, row: usize, field: &str, s: &str) -> Result<Vec<(String, String)>> {
    let mut out = Vec::new();
    for kv in s.split(';').filter(|x| !x.trim().is_empty()) {
        let Some((k, v)) = kv.split_once('=') else {
            return Err(err(path, row, field, format!("{kv:?} is not key=value")));
        };
        let (k, v) = (k.trim(), v.trim());
        crate::names::label_key(k).map_err(|m| err(path, row, field, format!("{k:?} {m}")))?;
        crate::names::label_value(v).map_err(|m| err(path, row, field, format!("{v:?} (for {k}) {m}")))?;
        out.push((k.to_string(), v.to_string()));
    }
    Ok(out)
}

/// A timestamp cell: seconds from the start, or RFC 3339 relative to `start`. Must be a finite number
/// within a century of the start (anything else is a broken cell, not a time a run can reach).
fn timestamp(path: &Path, row: usize, ts: &str, start: i64) -> Result<f64> {
    const CENTURY: f64 = 100.0 * 365.25 * 86_400.0;
    let at = match ts.parse::<f64>() {
        Ok(v) => v,
        Err(_) => match crate::io::parse_rfc3339(ts) {
            Some(t) => (t - start) as f64,
            None => return Err(err(path, row, "timestamp", format!("invalid timestamp {ts:?} (seconds from the start, or RFC 3339)"))),
        },
    };
    if !at.is_finite() || at.abs() > CENTURY {
        return Err(err(path, row, "timestamp", format!("timestamp {ts:?} is not within a century of the start")));
    }
    Ok(at)
}

/// The most pods a trace holds at once (creations minus deletions, in time order): what it adds to
/// a simulation's peak.
pub fn peak_alive(events: &[TraceEvent]) -> usize {
    let (mut alive, mut peak) = (0usize, 0usize);
    for e in events {
        if e.create {
            alive += 1;
            peak = peak.max(alive);
        } else {
            alive = alive.saturating_sub(1);
        }
    }
    peak
}

/// Open a CSV table whose header must name `required` columns; `hint` says what the file should be.
fn table(path: &Path, required: &[&str], hint: &str) -> Result<(csv::Reader<std::fs::File>, csv::StringRecord)> {
    let mut rdr = csv::ReaderBuilder::new()
        .flexible(false)
        .trim(csv::Trim::All)
        .from_path(path)
        .map_err(|e| Error::Io { path: path.display().to_string(), message: e.to_string() })?;
    let headers = rdr.headers().map_err(|e| err(path, 0, "", e.to_string()))?.clone();
    if let Some(missing) = required.iter().find(|r| !headers.iter().any(|h| h == **r)) {
        return Err(err(path, 0, missing, format!("missing column {missing:?}{hint}")));
    }
    Ok((rdr, headers))
}

/// The table's rows numbered from 1, at most `limit` of them.
fn rows<'r>(path: &'r Path, rdr: &'r mut csv::Reader<std::fs::File>, limit: Option<usize>) -> impl Iterator<Item = Result<(usize, csv::StringRecord)>> + 'r {
    rdr.records().take(limit.unwrap_or(usize::MAX)).enumerate().map(move |(i, r)| r.map(|r| (i + 1, r)).map_err(|e| err(path, i + 1, "", e.to_string())))
}

pub fn read_events(path: &Path, limit: Option<usize>, start: i64) -> Result<Vec<TraceEvent>> {
    let (mut rdr, headers) = table(path, &["timestamp", "action", "name", "cpu", "memory"], "")?;
    let col = |name: &str| headers.iter().position(|h| h == name);
    let mut out = Vec::new();
    for row in rows(path, &mut rdr, limit) {
        let (row, rec) = row?;
        let get = |name: &str| col(name).and_then(|c| rec.get(c)).unwrap_or("");
        let at = timestamp(path, row, get("timestamp"), start)?;
        let create = match get("action") {
            "create" => true,
            "delete" => false,
            other => return Err(err(path, row, "action", format!("expected create or delete, got {other:?}"))),
        };
        let ns = if get("namespace").is_empty() { "default" } else { get("namespace") };
        crate::names::namespace(ns).map_err(|m| err(path, row, "namespace", format!("{ns:?} {m}")))?;
        let name = get("name");
        if name.is_empty() {
            return Err(err(path, row, "name", "empty pod name"));
        }
        crate::names::object_name(name).map_err(|m| err(path, row, "name", format!("{name:?} {m}")))?;
        let mut requests = Resources::new();
        for (field, res) in [("cpu", "cpu"), ("memory", "memory"), ("gpu", "nvidia.com/gpu")] {
            let v = get(field);
            if v.is_empty() {
                continue;
            }
            let amount = parse_amount(res, v).map_err(|e| err(path, row, field, e.to_string()))?;
            if amount < 0 {
                return Err(err(path, row, field, format!("negative quantity {v:?}")));
            }
            requests.set(res, amount);
        }
        let owner = get("owner");
        let mut pod = Pod::new(ns, name, requests);
        if !owner.is_empty() {
            pod.owner = Some(OwnerRef { kind: OwnerKind::Other, name: Sym::new(owner) });
        }
        pod.labels = pairs(path, row, "labels", get("labels"))?.into_iter().map(|(k, v)| (Sym::new(&k), Sym::new(&v))).collect();
        pod.node_selector = pairs(path, row, "node_selector", get("node_selector"))?
            .into_iter()
            .map(|(k, v)| (Sym::new(crate::labels::normalize_key(&k)), Sym::new(&v)))
            .collect();
        for t in get("tolerations").split(';').filter(|x| !x.trim().is_empty()) {
            let (kv, effect) = t.rsplit_once(':').unwrap_or((t, ""));
            let effect = match effect {
                "" => None,
                "NoSchedule" => Some(TaintEffect::NoSchedule),
                "PreferNoSchedule" => Some(TaintEffect::PreferNoSchedule),
                "NoExecute" => Some(TaintEffect::NoExecute),
                other => return Err(err(path, row, "tolerations", format!("unknown taint effect {other:?}"))),
            };
            let (key, value) = match kv.split_once('=') {
                Some((k, v)) => (k, Some(v.to_string())),
                None => (kv, None),
            };
            if !key.is_empty() {
                crate::names::label_key(key).map_err(|m| err(path, row, "tolerations", format!("{key:?} {m}")))?;
            }
            if key.is_empty() && value.is_some() {
                return Err(err(path, row, "tolerations", format!("{t:?}: a toleration without key cannot have a value")));
            }
            pod.tolerations.push(Toleration {
                key: (!key.is_empty()).then(|| Sym::new(key)),
                operator: if value.is_some() { TolerationOperator::Equal } else { TolerationOperator::Exists },
                value,
                effect,
                toleration_seconds: None,
            });
        }
        out.push(TraceEvent { at, create, pod });
    }
    out.sort_by(|a, b| a.at.total_cmp(&b.at));
    Ok(out)
}

/// The Alibaba GPU cluster trace 2023 (`openb_pod_list_*.csv`): each pod is created at
/// `creation_time` and deleted at `deletion_time` (seconds). GPU shares (`gpu_milli` per GPU) are
/// rounded up to whole GPUs, as device plugins allocate them: `ceil(num_gpu × gpu_milli / 1000)`.
pub fn read_alibaba(path: &Path, limit: Option<usize>) -> Result<Vec<TraceEvent>> {
    let required = ["name", "cpu_milli", "memory_mib", "num_gpu", "gpu_milli", "creation_time", "deletion_time"];
    let (mut rdr, headers) = table(path, &required, " (is this an Alibaba openb pod list?)")?;
    let col = |name: &str| headers.iter().position(|h| h == name);
    let mut out = Vec::new();
    for row in rows(path, &mut rdr, limit) {
        let (row, rec) = row?;
        let num = |name: &str| -> Result<i64> {
            let v = col(name).and_then(|c| rec.get(c)).unwrap_or("");
            if v.is_empty() {
                return Ok(0);
            }
            let n: i64 = v.parse().map_err(|_| err(path, row, name, format!("expected an integer, got {v:?}")))?;
            if n < 0 { Err(err(path, row, name, format!("negative value {n}"))) } else { Ok(n) }
        };
        let name = col("name").and_then(|c| rec.get(c)).unwrap_or("").to_string();
        let (cpu, mem, gpus, milli) = (num("cpu_milli")?, num("memory_mib")?, num("num_gpu")?, num("gpu_milli")?);
        let (created, deleted) = (num("creation_time")?, num("deletion_time")?);
        let mut requests = Resources::new();
        requests.cpu = cpu;
        requests.memory = mem.checked_mul(1 << 20).ok_or_else(|| err(path, row, "memory_mib", format!("{mem} MiB is more memory than karpsim can hold (at most 8Ei)")))?;
        if gpus > 0 {
            let shares = gpus.checked_mul(milli.max(1)).ok_or_else(|| {
                err(path, row, "num_gpu", format!("{gpus} GPUs of {milli} thousandths each is more than karpsim can hold"))
            })?;
            requests.set("nvidia.com/gpu", shares / 1000 + i64::from(shares % 1000 != 0));
        }
        let mut pod = Pod::new("alibaba", &name, requests);
        if let Some(q) = col("qos").and_then(|c| rec.get(c)) {
            pod.labels.insert(Sym::new("qos"), Sym::new(q));
        }
        out.push(TraceEvent { at: created as f64, create: true, pod: pod.clone() });
        if deleted > created {
            out.push(TraceEvent { at: deleted as f64, create: false, pod });
        }
    }
    out.sort_by(|a, b| a.at.total_cmp(&b.at).then(b.create.cmp(&a.create)));
    Ok(out)
}
