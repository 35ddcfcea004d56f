//! Scenario files: Kubernetes manifests plus workloads over time and simulator settings.
//! The format is documented in `docs/scenarios.md`; an example ships in `examples/diurnal-web/`.

use super::random::Dist;
use super::trace::TraceEvent;
use crate::catalog::CatalogSource;
use crate::error::{Error, Location, Result};
use crate::labels::Sym;
use crate::model::{OwnerKind, Pod, Timestamp};
use crate::state::{ClusterState, PodList};
use crate::work::WorkLimits;
use serde::Deserialize;
use std::path::{Path, PathBuf};

fn err(file: &str, field: &str, message: impl Into<String>) -> Error {
    let field = (!field.is_empty()).then(|| field.to_string());
    Error::input(Location { file: Some(file.to_string()), kind: Some("Scenario".into()), field, ..Default::default() }, message)
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
    /// Compute the proven cost lower bound at every metrics interval (`crate::optimize`).
    pub lower_bound: Option<bool>,
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
    /// The proven lower bound on the hourly cost of the pods running or pending, at every metrics
    /// interval (off by default: each sample solves a bound).
    pub lower_bound: bool,
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
            lower_bound: false,
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
    /// The work limit the scenario was read under; the simulation holds at most this many pods.
    pub limits: WorkLimits,
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
        Scenario::load_with(path, WorkLimits::default())
    }

    /// [`Scenario::load`] under given work limits (pods in the manifests, pods at the peak of the run).
    pub fn load_with(path: &Path, limits: WorkLimits) -> Result<Scenario> {
        let text = std::fs::read_to_string(path).map_err(|e| Error::Io { path: path.display().to_string(), message: e.to_string() })?;
        Scenario::from_str_with(&text, path, limits)
    }

    pub fn from_str(text: &str, path: &Path) -> Result<Scenario> {
        Scenario::from_str_with(text, path, WorkLimits::default())
    }

    /// [`Scenario::from_str`] under given work limits.
    pub fn from_str_with(text: &str, path: &Path, limits: WorkLimits) -> Result<Scenario> {
        let file = path.display().to_string();
        let docs = crate::io::parse_documents(text, &file)?;
        if docs.len() > 1 {
            return Err(err(&file, "", format!("a scenario is one document; this file has {}", docs.len())));
        }
        let doc = docs.into_iter().next().ok_or_else(|| err(&file, "", "empty scenario file"))?;
        // the path of a field serde rejects (`workloads[0].replicas.steps[1].replicas`)
        let sf: ScenarioFile = serde_path_to_error::deserialize(doc).map_err(|e| {
            let field = e.path().to_string();
            err(&file, if field == "." { "" } else { &field }, e.into_inner().to_string())
        })?;
        let dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
        Scenario::compile(sf, &file, &dir, limits)
    }

    fn compile(sf: ScenarioFile, file: &str, dir: &Path, limits: WorkLimits) -> Result<Scenario> {
        let catalog = match &sf.catalog {
            Some(c) if c.starts_with("aws:") => CatalogSource::parse(c)?,
            Some(c) => CatalogSource::parse(&dir.join(c).display().to_string())?,
            None => CatalogSource::default_aws(),
        };
        let mut inputs = crate::io::Inputs::with_limits(limits);
        for (i, m) in sf.manifests.iter().enumerate() {
            let path = dir.join(m);
            // a missing manifest names the scenario field that points at it
            if let Err(e) = std::fs::metadata(&path) {
                return Err(err(file, &format!("manifests[{i}]"), format!("{}: {e}", path.display())));
            }
            inputs.load_path(&path)?;
        }
        let at = |i: usize, f: &str| Location { file: Some(file.to_string()), kind: Some("Scenario".into()), field: Some(format!("reservations[{i}]{f}")), ..Default::default() };
        inputs.add_reservations(crate::io::parse_reservation_entries(sf.reservations.clone(), &at, file)?)?;
        let mut inputs = inputs.finish()?;
        let templates = std::mem::take(&mut inputs.templates);
        let mut base = ClusterState::from_inputs(inputs, &catalog)?;
        let start = match &sf.start {
            Some(s) => crate::io::parse_rfc3339(s).ok_or_else(|| err(file, "start", format!("invalid timestamp {s:?} (RFC 3339, e.g. 2026-11-20T00:00:00Z)")))?,
            None => 1_767_225_600, // 2026-01-01T00:00:00Z
        };
        let duration = match &sf.duration {
            Some(d) => secs(file, "duration", d)?,
            None => 86_400.0,
        };
        if duration <= 0.0 || duration > 400.0 * 86_400.0 {
            return Err(err(file, "duration", "must be between 1s and 400 days"));
        }
        let settings = compile_settings(&sf.settings, file)?;
        let run_duration = duration;

        let mut workloads = Vec::new();
        let mut claimed: Vec<(String, Vec<OwnerKind>)> = Vec::new();
        // pods the scenario may hold at once, as far as it can be told before the run
        let mut peak = 0usize;
        for (i, w) in sf.workloads.iter().enumerate() {
            let field = format!("workloads[{i}]");
            let name = w.name.clone().or_else(|| w.deployment.clone()).or_else(|| w.job.clone()).unwrap_or_else(|| format!("workload-{i}"));
            let kinds_set = [w.deployment.is_some(), w.job.is_some(), w.trace.is_some()].iter().filter(|b| **b).count();
            if kinds_set != 1 {
                return Err(err(file, &field, "a workload needs exactly one of deployment, job or trace"));
            }
            let (workload, pods) = if let Some(d) = &w.deployment {
                let kinds = vec![OwnerKind::Deployment, OwnerKind::StatefulSet, OwnerKind::ReplicaSet];
                let template = find_template(&templates, &base.pods, d, &kinds)
                    .ok_or_else(|| err(file, &format!("{field}.deployment"), format!("no Deployment or StatefulSet {d} in the manifests")))?;
                let f = |rest: &str| format!("{field}.replicas{rest}");
                let schedule = compile_replicas(w.replicas.as_ref(), file, &f)?;
                claimed.push((d.clone(), kinds));
                let max = schedule.max_replicas() as usize;
                (Workload::Replicas { name, template, schedule }, (max, f("")))
            } else if let Some(j) = &w.job {
                let kinds = vec![OwnerKind::Job];
                let template =
                    find_template(&templates, &base.pods, j, &kinds).ok_or_else(|| err(file, &format!("{field}.job"), format!("no Job {j} in the manifests")))?;
                let arrivals = match &w.arrivals {
                    None => return Err(err(file, &format!("{field}.arrivals"), "a job workload needs arrivals (poisson, at or daily)")),
                    Some(ArrivalsFile::Poisson { per_hour }) if *per_hour > 0.0 && *per_hour < 1e6 => Arrivals::Poisson { per_hour: *per_hour },
                    Some(ArrivalsFile::Poisson { .. }) => return Err(err(file, &format!("{field}.arrivals.poisson.per_hour"), "must be positive and below 1e6")),
                    Some(ArrivalsFile::At(ts)) => Arrivals::At(
                        ts.iter().enumerate().map(|(k, t)| secs(file, &format!("{field}.arrivals.at[{k}]"), t)).collect::<Result<_>>()?,
                    ),
                    Some(ArrivalsFile::Daily(ts)) => Arrivals::Daily(
                        ts.iter().enumerate().map(|(k, t)| time_of_day(file, &format!("{field}.arrivals.daily[{k}]"), t)).collect::<Result<_>>()?,
                    ),
                };
                let duration = match &w.duration {
                    Some(d) => d.compile(file, &format!("{field}.duration"))?,
                    None => return Err(err(file, &format!("{field}.duration"), "a job workload needs a duration")),
                };
                let parallelism = w.parallelism.unwrap_or(1);
                if !(1..=10_000).contains(&parallelism) {
                    return Err(err(file, &format!("{field}.parallelism"), format!("{parallelism} is out of range [1, 10000]")));
                }
                if let Arrivals::Poisson { per_hour } = arrivals {
                    // about this many pods over the run: refused now rather than after hours of it
                    let expected = per_hour * run_duration / 3600.0 * f64::from(parallelism);
                    if expected > limits.max_created() as f64 {
                        return Err(err(
                            file,
                            &format!("{field}.arrivals.poisson.per_hour"),
                            format!(
                                "about {expected:.0} pods would be created over the run, over karpsim's limit of {} ({} × the work limit of {} pods); raise it with --pod-limit N (pod_limit=N in Python)",
                                limits.max_created(),
                                crate::work::CREATED_PER_MAX_POD,
                                limits.max_pods
                            ),
                        ));
                    }
                }
                claimed.push((j.clone(), kinds));
                (Workload::Jobs { name, template, arrivals, duration, parallelism }, (parallelism as usize, format!("{field}.parallelism")))
            } else if let Some(t) = &w.trace {
                let p: PathBuf = dir.join(&t.path);
                let events = match t.format.as_str() {
                    "events" => super::trace::read_events(&p, t.limit, start)?,
                    "alibaba" => super::trace::read_alibaba(&p, t.limit)?,
                    other => return Err(err(file, &format!("{field}.trace.format"), format!("unknown trace format {other:?} (expected events or alibaba)"))),
                };
                let most = super::trace::peak_alive(&events);
                (Workload::Trace { name, events }, (most, format!("{field}.trace")))
            } else {
                return Err(err(file, &field, "a workload needs exactly one of deployment, job or trace"));
            };
            let (pods, at) = pods;
            if !limits.allows(peak, pods) {
                let at = Location { file: Some(file.to_string()), kind: Some("Scenario".into()), field: Some(at), ..Default::default() };
                return Err(limits.exceeded(at, &format!("this workload's {pods} pods at its peak, with the workloads before it,"), peak, pods));
            }
            peak += pods;
            workloads.push(workload);
        }
        // pods of workloads driven over time are created by the simulator, not at the start
        base.pods.retain(|p| !claimed.iter().any(|(n, k)| owner_matches(p, n, k)));
        if !limits.allows(peak, base.pods.len()) {
            let at = Location { file: Some(file.to_string()), kind: Some("Scenario".into()), field: Some("workloads".into()), ..Default::default() };
            return Err(limits.exceeded(at, &format!("the workloads' peak ({peak} pods) and the {} pods of the manifests", base.pods.len()), peak, base.pods.len()));
        }
        let outages = compile_outages(&sf.offering_outages, &base, file)?;
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
            limits,
        })
    }
}

/// The template pod of the controller `ns_name` (a name alone means namespace `default`): from the
/// controller's manifest when the inputs hold it, else one of its pods in a snapshot (a Deployment's
/// pods are owned by its ReplicaSet).
fn find_template(templates: &[Pod], pods: &PodList, ns_name: &str, kinds: &[OwnerKind]) -> Option<Pod> {
    templates.iter().chain(pods).find(|p| owner_matches(p, ns_name, kinds)).cloned()
}

impl ReplicaSchedule {
    /// The most replicas the schedule ever asks for.
    pub fn max_replicas(&self) -> u32 {
        match self {
            ReplicaSchedule::Steps(steps) => steps.iter().map(|s| s.1).max().unwrap_or(0),
            ReplicaSchedule::Diurnal { max, .. } | ReplicaSchedule::Hpa { max, .. } => *max,
        }
    }
}

/// An interval setting: a duration of at least one second.
fn interval(file: &str, field: &str, s: &str) -> Result<f64> {
    let v = secs(file, field, s)?;
    if v < 1.0 {
        return Err(err(file, field, format!("{s:?} is shorter than the 1s the simulator steps by")));
    }
    Ok(v)
}

fn compile_settings(s: &SettingsFile, file: &str) -> Result<Settings> {
    let mut settings = Settings::default();
    let f = |name: &str| format!("settings.{name}");
    if let Some(v) = &s.batch_idle {
        settings.batch_idle = secs(file, &f("batch_idle"), v)?;
    }
    if let Some(v) = &s.batch_max {
        settings.batch_max = interval(file, &f("batch_max"), v)?;
    }
    if let Some(v) = &s.disruption_poll {
        settings.disruption_poll = interval(file, &f("disruption_poll"), v)?;
    }
    if let Some(v) = &s.validation_delay {
        settings.validation_delay = secs(file, &f("validation_delay"), v)?;
    }
    if let Some(v) = &s.metrics_interval {
        settings.metrics_interval = interval(file, &f("metrics_interval"), v)?;
    }
    for (v, name, target) in [
        (&s.node_launch, "node_launch", &mut settings.node_launch),
        (&s.node_initialize, "node_initialize", &mut settings.node_initialize),
        (&s.node_termination, "node_termination", &mut settings.node_termination),
        (&s.pod_startup, "pod_startup", &mut settings.pod_startup),
    ] {
        if let Some(d) = v {
            *target = d.compile(file, &f(name))?;
        }
    }
    if let Some(b) = s.lower_bound {
        settings.lower_bound = b;
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
            other => return Err(err(file, &f("spot_interruptions"), format!("expected advisor, none or a rate per node-hour in [0, 1], got {other}"))),
        };
    }
    Ok(settings)
}

/// A number that must lie in `[lo, hi]` (NaN never does).
fn in_range(file: &str, field: &str, v: f64, lo: f64, hi: f64) -> Result<f64> {
    if v.is_nan() || v < lo || v > hi {
        return Err(err(file, field, format!("{v} is out of range [{lo}, {hi}]")));
    }
    Ok(v)
}

/// A deployment workload's `replicas`; `f("")` is its field, `f(".steps")` a child.
fn compile_replicas(r: Option<&ReplicasFile>, file: &str, f: &dyn Fn(&str) -> String) -> Result<ReplicaSchedule> {
    Ok(match r {
        None => return Err(err(file, &f(""), "a deployment workload needs replicas (steps, diurnal or hpa)")),
        Some(ReplicasFile::Steps(steps)) => {
            if steps.is_empty() {
                return Err(err(file, &f(".steps"), "needs at least one step"));
            }
            let mut v = Vec::new();
            for (j, st) in steps.iter().enumerate() {
                v.push((secs(file, &f(&format!(".steps[{j}].at")), &st.at)?, st.replicas));
            }
            v.sort_by(|a, b| a.0.total_cmp(&b.0));
            ReplicaSchedule::Steps(v)
        }
        Some(ReplicasFile::Diurnal { min, max, peak, noise, step, weekend_factor }) => {
            if min > max {
                return Err(err(file, &f(".diurnal"), format!("min {min} exceeds max {max}")));
            }
            ReplicaSchedule::Diurnal {
                min: *min,
                max: *max,
                peak: peak.as_deref().map_or(Ok(14.0 * 3600.0), |p| time_of_day(file, &f(".diurnal.peak"), p))?,
                noise: in_range(file, &f(".diurnal.noise"), noise.unwrap_or(0.0), 0.0, 1.0)?,
                step: step.as_deref().map_or(Ok(300.0), |x| interval(file, &f(".diurnal.step"), x))?,
                weekend_factor: in_range(file, &f(".diurnal.weekend_factor"), weekend_factor.unwrap_or(1.0), 0.0, 10.0)?,
            }
        }
        Some(ReplicasFile::Hpa { load, target_per_replica, min, max, step }) => {
            if target_per_replica.is_nan() || *target_per_replica <= 0.0 || !target_per_replica.is_finite() {
                return Err(err(file, &f(".hpa.target_per_replica"), format!("must be a positive number, got {target_per_replica}")));
            }
            if min > max {
                return Err(err(file, &f(".hpa"), format!("min {min} exceeds max {max}")));
            }
            if load.is_empty() {
                return Err(err(file, &f(".hpa.load"), "the load series needs at least one point"));
            }
            let mut pts = Vec::new();
            for (j, p) in load.iter().enumerate() {
                let value = in_range(file, &f(&format!(".hpa.load[{j}].value")), p.value, 0.0, f64::MAX)?;
                pts.push((secs(file, &f(&format!(".hpa.load[{j}].at")), &p.at)?, value));
            }
            pts.sort_by(|a, b| a.0.total_cmp(&b.0));
            let step = step.as_deref().map_or(Ok(60.0), |x| interval(file, &f(".hpa.step"), x))?;
            ReplicaSchedule::Hpa { load: pts, target_per_replica: *target_per_replica, min: *min, max: *max, step }
        }
    })
}

/// `offering_outages`: windows must end after they start, and each filter must name something the
/// catalogs have (a typo would match nothing and silently change nothing).
fn compile_outages(list: &[OutageFile], base: &ClusterState, file: &str) -> Result<Vec<Outage>> {
    let types = || base.pool_types.values().flat_map(|pt| pt.types.iter());
    let mut outages = Vec::new();
    for (i, o) in list.iter().enumerate() {
        let f = |k: &str| format!("offering_outages[{i}].{k}");
        let from = secs(file, &f("from"), &o.from)?;
        let until = secs(file, &f("until"), &o.until)?;
        if until <= from {
            return Err(err(file, &f("until"), format!("{} ends before it starts (from {})", o.until, o.from)));
        }
        if let Some(ct) = &o.capacity_type
            && !["spot", "on-demand", "reserved"].contains(&ct.as_str())
        {
            return Err(err(file, &f("capacity_type"), format!("unknown capacity type {ct:?} (spot, on-demand or reserved)")));
        }
        if !base.pool_types.is_empty() {
            if let Some(it) = &o.instance_type
                && !types().any(|t| t.it.name.as_str() == it)
            {
                return Err(err(file, &f("instance_type"), format!("no instance type {it:?} in the NodePools' catalog")));
            }
            if let Some(z) = &o.zone
                && !types().any(|t| t.it.offerings.iter().any(|of| of.zone.as_str() == z))
            {
                return Err(err(file, &f("zone"), format!("no offering in zone {z:?} in the NodePools' catalog")));
            }
        }
        outages.push(Outage {
            instance_type: o.instance_type.as_deref().map(Sym::new),
            zone: o.zone.as_deref().map(Sym::new),
            capacity_type: o.capacity_type.as_deref().map(Sym::new),
            from,
            until,
        });
    }
    Ok(outages)
}
