//! Scenario files: Kubernetes manifests plus workloads over time and simulator settings.
//! The format is documented in `docs/scenarios.md`; an example ships in `examples/diurnal-web/`.

use super::random::Dist;
use crate::catalog::CatalogSource;
use crate::error::{Error, Location, Result};
use crate::labels::Sym;
use crate::model::{OwnerKind, Pod, Timestamp};
use crate::state::ClusterState;
use serde::Deserialize;
use std::path::{Path, PathBuf};

fn err(file: &str, field: &str, message: impl Into<String>) -> Error {
    Error::input(Location { file: Some(file.to_string()), kind: Some("Scenario".into()), field: Some(field.to_string()), ..Default::default() }, message)
}

fn secs(file: &str, field: &str, s: &str) -> Result<f64> {
    crate::io::parse_duration(s).map(|v| v as f64).map_err(|m| err(file, field, m))
}

/// A distribution as written: `"30s"` (constant), `{exponential: {mean: 20m}}`,
/// `{lognormal: {median: 40s, p95: 70s}}`, `{uniform: {min: 10s, max: 1m}}`.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum DistFile {
    Constant(String),
    Shaped(DistShape),
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "lowercase")]
pub enum DistShape {
    Constant(String),
    Exponential { mean: String },
    Lognormal { median: String, p95: String },
    Uniform { min: String, max: String },
}

impl DistFile {
    fn compile(&self, file: &str, field: &str) -> Result<Dist> {
        Ok(match self {
            DistFile::Constant(s) | DistFile::Shaped(DistShape::Constant(s)) => Dist::Constant(secs(file, field, s)?),
            DistFile::Shaped(DistShape::Exponential { mean }) => Dist::Exponential { mean: secs(file, field, mean)? },
            DistFile::Shaped(DistShape::Lognormal { median, p95 }) => {
                let (m, p) = (secs(file, field, median)?, secs(file, field, p95)?);
                if p < m {
                    return Err(err(file, field, "p95 must not be below the median"));
                }
                Dist::LogNormal { median: m, p95: p }
            }
            DistFile::Shaped(DistShape::Uniform { min, max }) => {
                let (a, b) = (secs(file, field, min)?, secs(file, field, max)?);
                if b < a {
                    return Err(err(file, field, "max must not be below min"));
                }
                Dist::Uniform { min: a, max: b }
            }
        })
    }
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SettingsFile {
    pub batch_idle: Option<String>,
    pub batch_max: Option<String>,
    pub node_launch: Option<DistFile>,
    pub node_initialize: Option<DistFile>,
    pub node_termination: Option<DistFile>,
    pub pod_startup: Option<DistFile>,
    pub disruption_poll: Option<String>,
    pub validation_delay: Option<String>,
    pub consolidation: Option<bool>,
    /// `advisor` (default), `none`, or a fixed rate per node-hour like `0.001`.
    pub spot_interruptions: Option<serde_json::Value>,
    pub metrics_interval: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StepFile {
    pub at: String,
    pub replicas: u32,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PointFile {
    pub at: String,
    pub value: f64,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "lowercase")]
pub enum ReplicasFile {
    Steps(Vec<StepFile>),
    Diurnal { min: u32, max: u32, peak: Option<String>, noise: Option<f64>, step: Option<String>, weekend_factor: Option<f64> },
    Hpa { load: Vec<PointFile>, target_per_replica: f64, min: u32, max: u32, step: Option<String> },
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "lowercase")]
pub enum ArrivalsFile {
    Poisson { per_hour: f64 },
    At(Vec<String>),
    /// Every day at these times of day (`"02:00"`), e.g. nightly batch.
    Daily(Vec<String>),
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TraceFile {
    /// `events` (karpsim's pod event CSV) or `alibaba` (cluster-trace-gpu-v2023 pod list).
    pub format: String,
    pub path: String,
    /// Only the first N rows (for quick runs).
    pub limit: Option<usize>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WorkloadFile {
    pub name: Option<String>,
    /// `namespace/name` of a Deployment or StatefulSet in the manifests.
    pub deployment: Option<String>,
    pub replicas: Option<ReplicasFile>,
    /// `namespace/name` of a Job in the manifests, used as a template.
    pub job: Option<String>,
    pub arrivals: Option<ArrivalsFile>,
    pub duration: Option<DistFile>,
    pub parallelism: Option<u32>,
    pub trace: Option<TraceFile>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OutageFile {
    pub instance_type: Option<String>,
    pub zone: Option<String>,
    pub capacity_type: Option<String>,
    pub from: String,
    pub until: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScenarioFile {
    pub name: Option<String>,
    pub catalog: Option<String>,
    #[serde(default)]
    pub manifests: Vec<String>,
    pub start: Option<String>,
    pub duration: Option<String>,
    pub seed: Option<u64>,
    #[serde(default)]
    pub settings: SettingsFile,
    #[serde(default)]
    pub workloads: Vec<WorkloadFile>,
    #[serde(default)]
    pub offering_outages: Vec<OutageFile>,
    /// Capacity reservations and their counts (the form of `--reservations FILE`).
    #[serde(default)]
    pub reservations: Vec<serde_json::Value>,
}

/// Karpenter's timing and the simulator's other settings, in seconds.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Settings {
    /// `BATCH_IDLE_DURATION` (1 s) and `BATCH_MAX_DURATION` (10 s), `operator/options/options.go`.
    pub batch_idle: f64,
    pub batch_max: f64,
    /// CreateFleet to a registered Node. Default lognormal median 35 s, p95 60 s: an assumption in
    /// line with the roughly one minute to a Ready node commonly reported for EKS on AL2023.
    pub node_launch: Dist,
    /// Registered to Initialized (Ready, CNI up, startup taints gone). Default median 10 s, p95 20 s.
    pub node_initialize: Dist,
    /// Drain and instance termination after a node is deleted; it is billed until then. Default 30 s.
    pub node_termination: Dist,
    /// Bind to Running (image pull, start). Default 5 s.
    pub pod_startup: Dist,
    /// The disruption controller's polling period (10 s, `disruption/controller.go`).
    pub disruption_poll: f64,
    /// Consolidation commands are re-validated after 15 s (`consolidation.go`).
    pub validation_delay: f64,
    pub consolidation: bool,
    pub spot_interruptions: SpotInterruptions,
    pub metrics_interval: f64,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub enum SpotInterruptions {
    None,
    /// From the Spot Advisor bucket of each type (see `sim::interruption`).
    Advisor,
    /// A fixed rate per node-hour.
    Rate(f64),
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            batch_idle: 1.0,
            batch_max: 10.0,
            node_launch: Dist::LogNormal { median: 35.0, p95: 60.0 },
            node_initialize: Dist::LogNormal { median: 10.0, p95: 20.0 },
            node_termination: Dist::Constant(30.0),
            pod_startup: Dist::Constant(5.0),
            disruption_poll: 10.0,
            validation_delay: 15.0,
            consolidation: true,
            spot_interruptions: SpotInterruptions::Advisor,
            metrics_interval: 300.0,
        }
    }
}

#[derive(Debug, Clone)]
pub enum ReplicaSchedule {
    Steps(Vec<(f64, u32)>),
    Diurnal { min: u32, max: u32, peak: f64, noise: f64, step: f64, weekend_factor: f64 },
    Hpa { load: Vec<(f64, f64)>, target_per_replica: f64, min: u32, max: u32, step: f64 },
}

#[derive(Debug, Clone)]
pub enum Arrivals {
    Poisson { per_hour: f64 },
    At(Vec<f64>),
    Daily(Vec<f64>),
}

/// A pod created or deleted at a time (seconds from the start), from a trace.
#[derive(Debug, Clone)]
pub struct TraceEvent {
    pub at: f64,
    pub create: bool,
    pub pod: Pod,
}

#[derive(Debug, Clone)]
pub enum Workload {
    Replicas { name: String, template: Pod, schedule: ReplicaSchedule },
    Jobs { name: String, template: Pod, arrivals: Arrivals, duration: Dist, parallelism: u32 },
    Trace { name: String, events: Vec<TraceEvent> },
}

impl Workload {
    pub fn name(&self) -> &str {
        match self {
            Workload::Replicas { name, .. } | Workload::Jobs { name, .. } | Workload::Trace { name, .. } => name,
        }
    }
}

#[derive(Debug, Clone)]
pub struct Outage {
    pub instance_type: Option<Sym>,
    pub zone: Option<Sym>,
    pub capacity_type: Option<Sym>,
    pub from: f64,
    pub until: f64,
}

/// A scenario ready to run: the cluster at the start, workloads, settings, seed.
#[derive(Debug, Clone)]
pub struct Scenario {
    pub name: String,
    pub catalog: CatalogSource,
    /// Nodes, NodePools, DaemonSets and the pods that exist for the whole run.
    pub base: ClusterState,
    pub start: Timestamp,
    pub duration: f64,
    pub seed: u64,
    pub settings: Settings,
    pub workloads: Vec<Workload>,
    pub outages: Vec<Outage>,
}

/// Whether `p` belongs to the controller `ns_name` of one of `kinds`; a Deployment's pods from a
/// snapshot are owned by its ReplicaSet.
fn owner_matches(p: &Pod, ns_name: &str, kinds: &[OwnerKind]) -> bool {
    let (ns, name) = ns_name.split_once('/').unwrap_or(("default", ns_name));
    p.namespace.as_str() == ns
        && (p.owner.as_ref().is_some_and(|o| kinds.contains(&o.kind) && o.name.as_str() == name)
            || (kinds.contains(&OwnerKind::Deployment) && crate::io::deployment_of(p).is_some_and(|d| d.as_str() == name)))
}

fn time_of_day(file: &str, field: &str, s: &str) -> Result<f64> {
    let (h, m) = s.split_once(':').ok_or_else(|| err(file, field, format!("expected HH:MM, got {s:?}")))?;
    let (h, m): (u32, u32) = (h.parse().map_err(|_| err(file, field, "bad hour"))?, m.parse().map_err(|_| err(file, field, "bad minute"))?);
    if h > 23 || m > 59 {
        return Err(err(file, field, format!("time of day out of range: {s:?}")));
    }
    Ok(f64::from(h * 3600 + m * 60))
}

impl Scenario {
    /// Load a scenario file; manifest and trace paths are relative to it.
    pub fn load(path: &Path) -> Result<Scenario> {
        let text = std::fs::read_to_string(path).map_err(|e| Error::Io { path: path.display().to_string(), message: e.to_string() })?;
        Scenario::from_str(&text, path)
    }

    pub fn from_str(text: &str, path: &Path) -> Result<Scenario> {
        let file = path.display().to_string();
        let docs = crate::io::parse_documents(text, &file)?;
        let doc = docs.into_iter().next().ok_or_else(|| err(&file, "", "empty scenario file"))?;
        let sf: ScenarioFile = serde_json::from_value(doc).map_err(|e| err(&file, "", e.to_string()))?;
        let dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
        Scenario::compile(sf, &file, &dir)
    }

    fn compile(sf: ScenarioFile, file: &str, dir: &Path) -> Result<Scenario> {
        let catalog = match &sf.catalog {
            Some(c) if c.starts_with("aws:") => CatalogSource::parse(c)?,
            Some(c) => CatalogSource::parse(&dir.join(c).display().to_string())?,
            None => CatalogSource::default_aws(),
        };
        let mut inputs = crate::io::Inputs::new();
        for m in &sf.manifests {
            inputs.load_path(&dir.join(m))?;
        }
        let at = |i: usize, f: &str| Location { file: Some(file.to_string()), kind: Some("Scenario".into()), field: Some(format!("reservations[{i}]{f}")), ..Default::default() };
        inputs.add_reservations(crate::io::parse_reservation_entries(sf.reservations.clone(), &at, file)?)?;
        let inputs = inputs.finish()?;
        let mut base = ClusterState::from_inputs(inputs, &catalog)?;
        let start = match &sf.start {
            Some(s) => crate::io::parse_rfc3339(s).ok_or_else(|| err(file, "start", format!("invalid timestamp {s:?}")))?,
            None => 1_767_225_600, // 2026-01-01T00:00:00Z
        };
        let duration = match &sf.duration {
            Some(d) => secs(file, "duration", d)?,
            None => 86_400.0,
        };
        if duration <= 0.0 || duration > 400.0 * 86_400.0 {
            return Err(err(file, "duration", "must be between 1s and 400 days"));
        }
        let mut settings = Settings::default();
        let s = &sf.settings;
        let get = |v: &Option<String>, f: &str, d: f64| -> Result<f64> { v.as_ref().map_or(Ok(d), |x| secs(file, &format!("settings.{f}"), x)) };
        settings.batch_idle = get(&s.batch_idle, "batch_idle", settings.batch_idle)?;
        settings.batch_max = get(&s.batch_max, "batch_max", settings.batch_max)?;
        settings.disruption_poll = get(&s.disruption_poll, "disruption_poll", settings.disruption_poll)?.max(1.0);
        settings.validation_delay = get(&s.validation_delay, "validation_delay", settings.validation_delay)?;
        settings.metrics_interval = get(&s.metrics_interval, "metrics_interval", settings.metrics_interval)?.max(1.0);
        for (v, f, target) in [
            (&s.node_launch, "node_launch", &mut settings.node_launch),
            (&s.node_initialize, "node_initialize", &mut settings.node_initialize),
            (&s.node_termination, "node_termination", &mut settings.node_termination),
            (&s.pod_startup, "pod_startup", &mut settings.pod_startup),
        ] {
            if let Some(d) = v {
                *target = d.compile(file, &format!("settings.{f}"))?;
            }
        }
        if let Some(c) = s.consolidation {
            settings.consolidation = c;
        }
        if let Some(v) = &s.spot_interruptions {
            settings.spot_interruptions = match v {
                serde_json::Value::String(x) if x == "advisor" => SpotInterruptions::Advisor,
                serde_json::Value::String(x) if x == "none" => SpotInterruptions::None,
                serde_json::Value::Bool(false) => SpotInterruptions::None,
                serde_json::Value::Number(n) if n.as_f64().is_some_and(|r| (0.0..=1.0).contains(&r)) => SpotInterruptions::Rate(n.as_f64().unwrap_or(0.0)),
                other => return Err(err(file, "settings.spot_interruptions", format!("expected advisor, none or a rate per node-hour in [0, 1], got {other}"))),
            };
        }

        let mut workloads = Vec::new();
        let mut claimed: Vec<(String, Vec<OwnerKind>)> = Vec::new();
        for (i, w) in sf.workloads.iter().enumerate() {
            let field = format!("workloads[{i}]");
            let name = w.name.clone().or_else(|| w.deployment.clone()).or_else(|| w.job.clone()).unwrap_or_else(|| format!("workload-{i}"));
            let kinds_set = [w.deployment.is_some(), w.job.is_some(), w.trace.is_some()].iter().filter(|b| **b).count();
            if kinds_set != 1 {
                return Err(err(file, &field, "a workload needs exactly one of deployment, job or trace"));
            }
            if let Some(d) = &w.deployment {
                let kinds = vec![OwnerKind::Deployment, OwnerKind::StatefulSet, OwnerKind::ReplicaSet];
                let template = base.pods.iter().find(|p| owner_matches(p, d, &kinds)).cloned().ok_or_else(|| err(file, &format!("{field}.deployment"), format!("no Deployment or StatefulSet {d} in the manifests")))?;
                let schedule = match &w.replicas {
                    None => return Err(err(file, &format!("{field}.replicas"), "a deployment workload needs replicas (steps, diurnal or hpa)")),
                    Some(ReplicasFile::Steps(steps)) => {
                        let mut v = Vec::new();
                        for (j, st) in steps.iter().enumerate() {
                            v.push((secs(file, &format!("{field}.replicas.steps[{j}].at"), &st.at)?, st.replicas));
                        }
                        v.sort_by(|a, b| a.0.total_cmp(&b.0));
                        ReplicaSchedule::Steps(v)
                    }
                    Some(ReplicasFile::Diurnal { min, max, peak, noise, step, weekend_factor }) => {
                        if min > max {
                            return Err(err(file, &format!("{field}.replicas.diurnal"), "min must not exceed max"));
                        }
                        ReplicaSchedule::Diurnal {
                            min: *min,
                            max: *max,
                            peak: peak.as_deref().map_or(Ok(14.0 * 3600.0), |p| time_of_day(file, &format!("{field}.replicas.diurnal.peak"), p))?,
                            noise: noise.unwrap_or(0.0).clamp(0.0, 1.0),
                            step: step.as_deref().map_or(Ok(300.0), |x| secs(file, &format!("{field}.replicas.diurnal.step"), x))?.max(1.0),
                            weekend_factor: weekend_factor.unwrap_or(1.0).clamp(0.0, 10.0),
                        }
                    }
                    Some(ReplicasFile::Hpa { load, target_per_replica, min, max, step }) => {
                        if *target_per_replica <= 0.0 || min > max {
                            return Err(err(file, &format!("{field}.replicas.hpa"), "target_per_replica must be positive and min ≤ max"));
                        }
                        let mut pts = Vec::new();
                        for (j, p) in load.iter().enumerate() {
                            pts.push((secs(file, &format!("{field}.replicas.hpa.load[{j}].at"), &p.at)?, p.value));
                        }
                        pts.sort_by(|a, b| a.0.total_cmp(&b.0));
                        ReplicaSchedule::Hpa { load: pts, target_per_replica: *target_per_replica, min: *min, max: *max, step: step.as_deref().map_or(Ok(60.0), |x| secs(file, &format!("{field}.replicas.hpa.step"), x))?.max(1.0) }
                    }
                };
                claimed.push((d.clone(), kinds));
                workloads.push(Workload::Replicas { name, template, schedule });
            } else if let Some(j) = &w.job {
                let kinds = vec![OwnerKind::Job];
                let template = base.pods.iter().find(|p| owner_matches(p, j, &kinds)).cloned().ok_or_else(|| err(file, &format!("{field}.job"), format!("no Job {j} in the manifests")))?;
                let arrivals = match &w.arrivals {
                    None => return Err(err(file, &format!("{field}.arrivals"), "a job workload needs arrivals (poisson, at or daily)")),
                    Some(ArrivalsFile::Poisson { per_hour }) if *per_hour > 0.0 && *per_hour < 1e6 => Arrivals::Poisson { per_hour: *per_hour },
                    Some(ArrivalsFile::Poisson { .. }) => return Err(err(file, &format!("{field}.arrivals.poisson.per_hour"), "must be positive and below 1e6")),
                    Some(ArrivalsFile::At(ts)) => Arrivals::At(ts.iter().map(|t| secs(file, &format!("{field}.arrivals.at"), t)).collect::<Result<_>>()?),
                    Some(ArrivalsFile::Daily(ts)) => Arrivals::Daily(ts.iter().map(|t| time_of_day(file, &format!("{field}.arrivals.daily"), t)).collect::<Result<_>>()?),
                };
                let duration = match &w.duration {
                    Some(d) => d.compile(file, &format!("{field}.duration"))?,
                    None => return Err(err(file, &format!("{field}.duration"), "a job workload needs a duration")),
                };
                claimed.push((j.clone(), kinds));
                workloads.push(Workload::Jobs { name, template, arrivals, duration, parallelism: w.parallelism.unwrap_or(1).clamp(1, 10_000) });
            } else if let Some(t) = &w.trace {
                let p: PathBuf = dir.join(&t.path);
                let events = match t.format.as_str() {
                    "events" => super::trace::read_events(&p, t.limit, start)?,
                    "alibaba" => super::trace::read_alibaba(&p, t.limit)?,
                    other => return Err(err(file, &format!("{field}.trace.format"), format!("unknown trace format {other:?} (expected events or alibaba)"))),
                };
                workloads.push(Workload::Trace { name, events });
            }
        }
        // pods of workloads driven over time are created by the simulator, not at the start
        base.pods.retain(|p| !claimed.iter().any(|(n, k)| owner_matches(p, n, k)));
        let mut outages = Vec::new();
        for (i, o) in sf.offering_outages.iter().enumerate() {
            let f = format!("offering_outages[{i}]");
            outages.push(Outage {
                instance_type: o.instance_type.as_deref().map(Sym::new),
                zone: o.zone.as_deref().map(Sym::new),
                capacity_type: o.capacity_type.as_deref().map(Sym::new),
                from: secs(file, &format!("{f}.from"), &o.from)?,
                until: secs(file, &format!("{f}.until"), &o.until)?,
            });
        }
        Ok(Scenario {
            name: sf.name.unwrap_or_else(|| "scenario".into()),
            catalog,
            base,
            start,
            duration,
            seed: sf.seed.unwrap_or(0),
            settings,
            workloads,
            outages,
        })
    }
}
