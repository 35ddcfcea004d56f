//! The discrete-event engine: simulated milliseconds, events ordered by (time, sequence number),
//! no wall clock. Karpenter's controllers are modelled as event handlers over one `ClusterState`,
//! one submodule each; this file holds the event loop and the state they share.
//!
//! - `workloads`: the pods the scenario creates and deletes (replicas, jobs, traces);
//! - `provisioner`: batching, scheduling, binding and launches;
//! - `lifecycle`: nodes initializing, being deleted and going away;
//! - `disruption`: the disruption loop, with validation and replacement-before-delete;
//! - `interruptions`: spot interruptions and offering outages;
//! - `capacity`: static NodePools and capacity reservations;
//! - `sampling`: the cost integral and the metric series;
//! - `invariants`: the checks of [`Engine::run_checked`].

mod capacity;
mod disruption;
mod interruptions;
mod invariants;
mod kept;
mod lifecycle;
mod provisioner;
mod sampling;
mod workloads;

pub use interruptions::advisor_rate_per_hour;

use super::metrics::Metrics;
use super::random::Streams;
use super::scenario::{Scenario, Workload};
use crate::disruption::{DisruptionOptions, Plan};
use crate::labels::{self, Sym, SymMap, SymSet};
use crate::scheduling::{ProvisionOptions, has_pending_pods};
use crate::state::{ClusterState, TypeInfo};
use std::cmp::Reverse;
use std::collections::{BTreeMap, BinaryHeap, HashSet};
use std::sync::Arc;

/// Options a variant may change besides the scenario itself.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct SimOptions {
    pub provisioning: ProvisionOptions,
    pub disruption: DisruptionOptions,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct LogEntry {
    /// Seconds since the start.
    pub t: f64,
    pub kind: String,
    pub message: String,
}

/// Everything a run produced.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct SimResult {
    pub scenario: String,
    pub seed: u64,
    /// The scenario's start (seconds since the epoch): time 0 of the series, the log and waits.
    pub start: crate::model::Timestamp,
    pub duration_h: f64,
    /// Nodes' prices × billed lifetimes, plus the capacity reservations' fees
    /// (`metrics.reservation_cost`, in the reserved cost rate of the series).
    pub total_cost: f64,
    pub metrics: Metrics,
    pub log: Vec<LogEntry>,
    /// Pods still pending at the end, with the scheduler's reason where it gave one.
    pub pending_at_end: Vec<(String, String)>,
    pub warnings: Vec<String>,
}

#[derive(Debug, Clone)]
enum Ev {
    Workload(usize),
    JobDone(Sym),
    Trace(usize, usize),
    BatchCheck(u64),
    /// kube-scheduler re-queues unschedulable pods (`podMaxInUnschedulablePodsDuration`, 5 min);
    /// each attempt updates the pod, which triggers Karpenter again.
    Retry,
    NodeInitialized(Sym),
    NodeGone(Sym),
    DisruptionTick,
    Validate(u64),
    SpotNotice(Sym),
    Outage(usize, bool),
    /// A capacity block is reclaimed soon, or an On-Demand Capacity Reservation ends.
    ReservationEnds(Sym),
    /// A capacity reservation's end: its fee stops.
    ReservationFeeEnds(Sym),
    Sample,
}

struct Queued {
    at: i64,
    seq: u64,
    ev: Ev,
}
impl PartialEq for Queued {
    fn eq(&self, o: &Self) -> bool {
        (self.at, self.seq) == (o.at, o.seq)
    }
}
impl Eq for Queued {}
impl PartialOrd for Queued {
    fn partial_cmp(&self, o: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(o))
    }
}
impl Ord for Queued {
    fn cmp(&self, o: &Self) -> std::cmp::Ordering {
        (self.at, self.seq).cmp(&(o.at, o.seq))
    }
}

struct NodeInfo {
    launch_seq: u64,
    price: f64,
    capacity_type: Sym,
    billed_from: f64,
    /// Deleted: no longer schedulable, billed until `NodeGone`.
    terminating: bool,
    /// Part of a disruption command waiting for its replacements.
    marked: bool,
}

struct PodInfo {
    pending_since: f64,
    job_duration: Option<f64>,
}

struct PendingCommand {
    plan: Plan,
    replacements: Vec<Sym>,
}

pub struct Engine<'s> {
    sc: &'s Scenario,
    opts: SimOptions,
    streams: Streams,
    state: ClusterState,
    pristine_types: BTreeMap<Sym, Arc<Vec<TypeInfo>>>,
    now_ms: i64,
    queue: BinaryHeap<Reverse<Queued>>,
    seq: u64,
    // keyed by interned name, hashed by address (`SymMap`): looked up per node at every sample and
    // per pod at every bind and deletion, and iterated only where order cannot matter (into sets, `any`,
    // or sorted first)
    nodes: SymMap<NodeInfo>,
    pods: SymMap<PodInfo>,
    replica_pods: Vec<Vec<Sym>>,
    workload_ticks: Vec<u64>,
    name_counter: u64,
    launch_counter: u64,
    batch_open: bool,
    batch_first: f64,
    batch_last: f64,
    batch_gen: u64,
    version: u64,
    fruitless: Option<(u64, f64, f64)>,
    validating: Option<(u64, Plan)>,
    in_progress: Option<PendingCommand>,
    cmd_counter: u64,
    active_outages: std::collections::BTreeSet<usize>,
    retry_scheduled: bool,
    /// Pods deleted by workloads (for the invariant check).
    deleted: SymSet,
    cost_rate: [f64; 3],
    /// Capacity reservations billed as such: id -> (USD per hour, billed since).
    fees: BTreeMap<Sym, (f64, f64)>,
    cumulative: f64,
    last_cost_t: f64,
    metrics: Metrics,
    log: Vec<LogEntry>,
    /// What provisioning said about NodePools that launch nothing, once each.
    launch_warnings: std::collections::BTreeSet<String>,
    /// Set when a workload would take the run past the work limit: the run stops there.
    over_limit: Option<crate::Error>,
    /// Pods the workloads created so far.
    created: usize,
    /// Told (simulated seconds, duration) as the run advances.
    progress: crate::progress::Progress,
    /// Each node's facts and view parts, kept across rounds and batches (`engine/kept.rs`).
    kept: kept::Kept,
}

/// Why a run did not produce a result.
enum Failure {
    /// An invariant check failed (only when checking).
    Invariant(String),
    /// The run would exceed the work limit.
    Limit(crate::Error),
}

fn ct_index(ct: Sym) -> usize {
    match ct.as_str() {
        labels::CAPACITY_TYPE_SPOT => 1,
        labels::CAPACITY_TYPE_RESERVED => 2,
        _ => 0,
    }
}


impl<'s> Engine<'s> {
    pub fn new(sc: &'s Scenario, opts: SimOptions) -> Engine<'s> {
        let mut state = sc.base.clone();
        // the simulation plays kube-scheduler itself: what a snapshot's kube-scheduler had not yet
        // decided about an unbound pod is decided here (scheduling gates stay)
        for p in state.pods.iter_mut().filter(|p| p.node_name.is_none()) {
            p.marked_unschedulable = None;
            p.nominated_node = None;
        }
        let pristine_types = state.pool_types.iter().map(|(k, v)| (*k, Arc::clone(&v.types))).collect();
        let kept = kept::Kept::for_state(&state);
        let mut e = Engine {
            sc,
            opts,
            streams: Streams::new(sc.seed),
            state,
            pristine_types,
            now_ms: 0,
            queue: BinaryHeap::new(),
            seq: 0,
            nodes: SymMap::default(),
            pods: SymMap::default(),
            replica_pods: vec![Vec::new(); sc.workloads.len()],
            workload_ticks: vec![0; sc.workloads.len()],
            name_counter: 0,
            launch_counter: 0,
            batch_open: false,
            batch_first: 0.0,
            batch_last: 0.0,
            batch_gen: 0,
            version: 0,
            fruitless: None,
            validating: None,
            in_progress: None,
            cmd_counter: 0,
            active_outages: Default::default(),
            retry_scheduled: false,
            deleted: SymSet::default(),
            cost_rate: [0.0; 3],
            fees: BTreeMap::new(),
            cumulative: 0.0,
            last_cost_t: 0.0,
            metrics: Metrics::default(),
            log: Vec::new(),
            launch_warnings: Default::default(),
            over_limit: None,
            created: 0,
            progress: crate::progress::Progress::default(),
            kept,
        };
        // nodes present at the start are billed from t = 0
        for n in e.state.nodes.clone() {
            let ct = n.capacity_type.unwrap_or_else(|| Sym::new(labels::CAPACITY_TYPE_ON_DEMAND));
            e.track_node(&n, ct, n.price.unwrap_or(0.0));
        }
        for p in &e.state.pods {
            if p.node_name.is_none() {
                e.pods.insert(p.uid, PodInfo { pending_since: 0.0, job_duration: None });
            }
        }
        e
    }

    fn now(&self) -> f64 {
        self.now_ms as f64 / 1000.0
    }
    fn abs_now(&self) -> i64 {
        self.sc.start + self.now_ms / 1000
    }

    fn at(&mut self, secs: f64, ev: Ev) {
        self.seq += 1;
        let at = (secs * 1000.0).round() as i64;
        self.queue.push(Reverse(Queued { at: at.max(self.now_ms), seq: self.seq, ev }));
    }

    fn log(&mut self, kind: &str, message: String) {
        self.log.push(LogEntry { t: self.now(), kind: kind.into(), message });
    }

    /// Report the run's advance to `progress` as `(simulated seconds, duration in seconds)`, about
    /// 200 times over a run.
    pub fn with_progress(mut self, progress: crate::progress::Progress) -> Engine<'s> {
        self.progress = progress;
        self
    }

    /// Run to the end of the scenario. Fails only when a workload would take the run past the
    /// scenario's work limit ([`Scenario::limits`]), before the pods are created.
    pub fn run(self) -> crate::Result<SimResult> {
        match self.run_inner(false) {
            Ok(r) => Ok(r),
            Err(Failure::Limit(e)) => Err(e),
            // not reachable without checking; reported rather than trusted
            Err(Failure::Invariant(m)) => Err(crate::Error::Option { option: "simulation".into(), message: m }),
        }
    }

    /// Run and check the simulator's invariants after every event: no pod duplicated, every pod the
    /// workloads created and did not delete still present (bound or pending), no node holding more
    /// than its allocatable, NodePool cpu/memory limits never exceeded, and at the end the cost
    /// integral equal to Σ price × billed lifetime. For tests; slower.
    pub fn run_checked(self) -> Result<SimResult, String> {
        self.run_inner(true).map_err(|f| match f {
            Failure::Invariant(m) => m,
            Failure::Limit(e) => e.to_string(),
        })
    }

    fn run_inner(mut self, checked: bool) -> Result<SimResult, Failure> {
        let end = self.sc.duration;
        // the samples are kept to the end (a duration may be overridden after loading)
        let samples = end / self.sc.settings.metrics_interval;
        if samples > crate::work::MAX_SAMPLES {
            let at = crate::Location { kind: Some("Scenario".into()), field: Some("settings.metrics_interval".into()), ..Default::default() };
            let message = format!(
                "{:.0} s over a {:.0} s run is {samples:.0} samples, more than the {} a run keeps; use a longer interval",
                self.sc.settings.metrics_interval,
                end,
                crate::work::MAX_SAMPLES
            );
            return Err(Failure::Limit(crate::Error::input(at, message)));
        }
        for (w, wl) in self.sc.workloads.iter().enumerate() {
            match wl {
                Workload::Trace { events, .. } => {
                    for (i, ev) in events.iter().enumerate() {
                        if ev.at <= end {
                            self.at(ev.at, Ev::Trace(w, i));
                        }
                    }
                }
                _ => self.at(0.0, Ev::Workload(w)),
            }
        }
        for (i, o) in self.sc.outages.iter().enumerate() {
            self.at(o.from, Ev::Outage(i, true));
            self.at(o.until, Ev::Outage(i, false));
        }
        // Karpenter's nodes still launching at the start (in-flight NodeClaims of a snapshot) finish
        // initializing after the usual initialization latency
        let launching: Vec<Sym> =
            self.state.nodes.iter().filter(|n| n.nodepool.is_some() && !n.initialized && n.deletion_timestamp.is_none()).map(|n| n.name).collect();
        for (i, name) in launching.into_iter().enumerate() {
            let mut rng = self.streams.rng("initial-node-latency", i as u64);
            let ready_in = self.sc.settings.node_initialize.sample(&mut rng);
            self.at(ready_in, Ev::NodeInitialized(name));
        }
        // static NodePools count those in-flight nodes among their replicas
        self.schedule_reservation_ends();
        self.start_reservation_fees();
        self.static_provision();
        self.at(0.0, Ev::Sample);
        self.at(self.sc.settings.disruption_poll, Ev::DisruptionTick);
        if self.pods.values().any(|_| true) {
            self.trigger_batch();
        }
        let end_ms = (end * 1000.0) as i64;
        let mut alive: HashSet<Sym> = self.state.pods.iter().map(|p| p.uid).collect();
        let report_every = (end_ms / 200).max(1);
        let mut next_report = 0;
        while let Some(Reverse(q)) = self.queue.pop() {
            if q.at > end_ms {
                break;
            }
            self.now_ms = q.at;
            if q.at >= next_report && self.progress.is_active() {
                self.progress.report((q.at / 1000) as u64, Some((end_ms / 1000) as u64));
                next_report = q.at + report_every;
            }
            if checked {
                // what the workloads mean to exist after this event: the ones before it, plus
                // creations, minus deletions (tracked through the version-bumping paths)
                let before: HashSet<Sym> = self.state.pods.iter().map(|p| p.uid).collect();
                let deleting = match &q.ev {
                    Ev::JobDone(u) => Some(*u),
                    _ => None,
                };
                self.handle(q.ev);
                let after: HashSet<Sym> = self.state.pods.iter().map(|p| p.uid).collect();
                for u in after.difference(&before) {
                    alive.insert(*u);
                }
                for u in before.difference(&after) {
                    // a pod may only disappear by a workload deleting it or with its DaemonSet node
                    let ds = self.sc.base.pods.iter().any(|p| p.uid == *u && (p.is_daemonset_pod() || p.is_mirror()));
                    if Some(*u) != deleting && !self.deleted.contains(u) && !ds {
                        return Err(Failure::Invariant(format!("t={}: pod {u} disappeared", self.now())));
                    }
                    alive.remove(u);
                }
                self.check(&alive).map_err(Failure::Invariant)?;
            } else {
                self.handle(q.ev);
            }
            if let Some(e) = self.over_limit.take() {
                return Err(Failure::Limit(e));
            }
        }
        self.now_ms = end_ms;
        self.accrue();
        self.sample();
        self.end_reservation_fees(None);
        // close the books: every node still alive is billed to the end
        // in name order: a float sum must not depend on a hash map's iteration order
        let mut names: Vec<Sym> = self.nodes.keys().copied().collect();
        names.sort();
        for n in names {
            let info = &self.nodes[&n];
            self.metrics.node_cost_total += info.price * (self.now() - info.billed_from) / 3600.0;
        }
        if checked && (self.metrics.node_cost_total - self.cumulative).abs() > 1e-6 * self.cumulative.max(1.0) {
            return Err(Failure::Invariant(format!(
                "cost integral {} differs from Σ price × lifetime {}",
                self.cumulative, self.metrics.node_cost_total
            )));
        }
        let mut warnings = self.state.warnings.clone();
        warnings.extend(self.trace_warnings(end));
        let pending_at_end = self.pending_reasons(&mut warnings);
        warnings.extend(std::mem::take(&mut self.launch_warnings));
        self.progress.report((end_ms / 1000) as u64, Some((end_ms / 1000) as u64));
        Ok(SimResult {
            scenario: self.sc.name.clone(),
            seed: self.sc.seed,
            start: self.sc.start,
            duration_h: end / 3600.0,
            total_cost: self.cumulative,
            metrics: self.metrics,
            log: self.log,
            pending_at_end,
            warnings,
        })
    }

    fn handle(&mut self, ev: Ev) {
        match ev {
            Ev::Workload(w) => self.workload(w),
            Ev::JobDone(uid) => {
                if self.delete_pod(uid) {
                    self.trigger_batch();
                }
            }
            Ev::Trace(w, i) => self.trace(w, i),
            Ev::BatchCheck(generation) => self.batch_check(generation),
            Ev::Retry => {
                self.retry_scheduled = false;
                if has_pending_pods(&self.state) {
                    self.trigger_batch();
                }
            }
            Ev::NodeInitialized(n) => self.node_initialized(n),
            Ev::NodeGone(n) => self.node_gone(n),
            Ev::DisruptionTick => {
                self.disruption_tick();
                let next = self.now() + self.sc.settings.disruption_poll;
                self.at(next, Ev::DisruptionTick);
            }
            Ev::Validate(id) => self.validate(id),
            Ev::SpotNotice(n) => self.spot_notice(n),
            Ev::Outage(i, start) => self.outage(i, start),
            Ev::ReservationEnds(id) => self.reservation_ends(id),
            Ev::ReservationFeeEnds(id) => self.end_reservation_fees(Some(id)),
            Ev::Sample => {
                self.sample();
                if self.sc.settings.lower_bound {
                    // the cheapest cluster for the pods of this moment, proven (a few iterations
                    // past the fluid relaxation: a sample must stay cheap)
                    let lb = crate::optimize::lower_bound_now(&self.state, 20);
                    self.metrics.lower_bound.time_h.push(self.now() / 3600.0);
                    self.metrics.lower_bound.per_hour.push(lb);
                }
                let next = self.now() + self.sc.settings.metrics_interval;
                self.at(next, Ev::Sample);
            }
        }
    }
}

/// Run a scenario with options.
pub fn simulate(sc: &Scenario, opts: &SimOptions) -> crate::Result<SimResult> {
    Engine::new(sc, opts.clone()).run()
}

/// [`simulate`], telling `progress` `(simulated seconds, duration in seconds)` as the run advances.
pub fn simulate_with_progress(sc: &Scenario, opts: &SimOptions, progress: &crate::progress::Progress) -> crate::Result<SimResult> {
    Engine::new(sc, opts.clone()).with_progress(progress.clone()).run()
}
