//! The discrete-event engine: simulated milliseconds, events ordered by (time, sequence number),
//! no wall clock. Karpenter's controllers are modelled as event handlers over one `ClusterState`:
//! the provisioner (batching, scheduling, launches), node lifecycle, the disruption loop (with
//! validation and replacement-before-delete), expiration, spot interruption handling.

mod capacity;

use super::metrics::Metrics;
use super::random::{Dist, Streams};
use super::scenario::{Arrivals, ReplicaSchedule, Scenario, SpotInterruptions, Workload};
use crate::disruption::{DisruptionOptions, Method, Plan, plan_round, validate};
use crate::labels::{self, Sym};
use crate::model::{Node, Pod, PodPhase};
use crate::scheduling::{ClusterView, ProvisionOptions, ScheduleScope, pending_pods, schedule_on};
use crate::state::{ClusterState, TypeInfo};
use std::cmp::Reverse;
use std::collections::{BTreeMap, BinaryHeap, HashMap, HashSet};
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
    nodes: HashMap<Sym, NodeInfo>,
    pods: HashMap<Sym, PodInfo>,
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
    deleted: HashSet<Sym>,
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

/// Spot interruption rate per hour from a Spot Advisor bucket: the bucket's frequency of
/// interruption is read as the probability that an instance is interrupted within a month (30
/// days); we take the bucket's midpoint (<5% → 2.5%, 5–10% → 7.5%, …, >20% → 25%) and convert it to
/// the rate of an exponential clock, λ = −ln(1 − p) / 720 h. Types without advisor data get 10%.
pub fn advisor_rate_per_hour(bucket_index: Option<i64>) -> f64 {
    let p = match bucket_index {
        Some(0) => 0.025,
        Some(1) => 0.075,
        Some(2) => 0.125,
        Some(3) => 0.175,
        Some(_) => 0.25,
        None => 0.10,
    };
    -(1.0f64 - p).ln() / 720.0
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
        let mut e = Engine {
            sc,
            opts,
            streams: Streams::new(sc.seed),
            state,
            pristine_types,
            now_ms: 0,
            queue: BinaryHeap::new(),
            seq: 0,
            nodes: HashMap::new(),
            pods: HashMap::new(),
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
            deleted: HashSet::new(),
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

    fn accrue(&mut self) {
        let t = self.now();
        let dt_h = (t - self.last_cost_t) / 3600.0;
        self.cumulative += self.cost_rate.iter().sum::<f64>() * dt_h;
        self.last_cost_t = t;
    }

    /// Start billing a node; returns its launch number (the index of its random streams).
    fn track_node(&mut self, n: &Node, ct: Sym, price: f64) -> u64 {
        self.accrue();
        self.cost_rate[ct_index(ct)] += price;
        self.launch_counter += 1;
        self.nodes.insert(
            n.name,
            NodeInfo {
                launch_seq: self.launch_counter,
                price,
                capacity_type: ct,
                billed_from: self.now(),
                terminating: false,
                marked: false,
            },
        );
        self.launch_counter
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

    fn check(&self, alive: &HashSet<Sym>) -> Result<(), String> {
        let mut seen = HashSet::new();
        for p in &self.state.pods {
            if !seen.insert(p.uid) {
                return Err(format!("t={}: pod {} duplicated", self.now(), p.key()));
            }
        }
        if let Some(lost) = alive.iter().find(|u| !seen.contains(*u)) {
            return Err(format!("t={}: pod {lost} lost", self.now()));
        }
        let mut used: HashMap<Sym, crate::resources::Resources> = HashMap::new();
        for p in self.state.pods.iter().filter(|p| !p.is_terminal()) {
            if let Some(n) = p.node_name {
                let mut r = p.requests.clone();
                r.pods = 1;
                used.entry(n).or_default().add_assign(&r);
            }
        }
        for n in &self.state.nodes {
            if let Some(u) = used.get(&n.name)
                && let Some((k, a, b)) = u.first_excess(&n.allocatable)
            {
                return Err(format!("t={}: node {} holds {a} {k}, allocatable {b}", self.now(), n.name));
            }
        }
        if let Some(orphan) = used.keys().find(|n| !self.state.nodes.iter().any(|x| x.name == **n)) {
            return Err(format!("t={}: pods bound to missing node {orphan}", self.now()));
        }
        for pool in &self.state.nodepools {
            for (k, lim) in &pool.limits.0 {
                if k == "nodes" {
                    continue; // Karpenter's own quirk lets a run overshoot the node count (§3.8)
                }
                let usage: i64 = self.state.nodes.iter().filter(|n| n.nodepool == Some(pool.name)).map(|n| n.capacity.get(k)).fold(0i64, i64::saturating_add);
                if usage > *lim {
                    return Err(format!("t={}: NodePool {} uses {usage} {k}, limit {lim}", self.now(), pool.name));
                }
            }
        }
        Ok(())
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

    /// Trace rows the run does not replay as written (`docs/scenarios.md`: rows after the end are
    /// ignored, rows before the start happen at t = 0), counted per workload.
    fn trace_warnings(&self, end: f64) -> Vec<String> {
        let mut out = Vec::new();
        for (i, w) in self.sc.workloads.iter().enumerate() {
            let Workload::Trace { name, events } = w else { continue };
            let after = events.iter().filter(|e| e.at > end).count();
            let before = events.iter().filter(|e| e.at < 0.0).count();
            if after > 0 {
                out.push(format!("workloads[{i}].trace ({name}): {after} of {} row(s) are after the end of the run and were not replayed", events.len()));
            }
            if before > 0 {
                out.push(format!("workloads[{i}].trace ({name}): {before} row(s) are before the start and happened at t = 0"));
            }
        }
        out
    }

    /// The pods pending at the end, each with why: the scheduler's reason for pods nothing could
    /// take, or what they were waiting for (a node still initializing, the provisioner's next batch).
    fn pending_reasons(&mut self, warnings: &mut Vec<String>) -> Vec<(String, String)> {
        let pending: HashSet<Sym> = pending_pods(&self.state, warnings).iter().map(|p| p.uid).collect();
        if pending.is_empty() {
            return Vec::new();
        }
        let scope = ScheduleScope { removed_nodes: self.excluded_nodes(), pending: pending.clone(), ..Default::default() };
        let pods: Vec<&Pod> = self.state.pods.iter().filter(|p| pending.contains(&p.uid)).collect();
        let view = ClusterView::new(&self.state, self.opts.provisioning.min_values_policy);
        self.launch_warnings.extend(view.launch_warnings());
        let sol = schedule_on(&view, pods, &scope, &self.opts.provisioning);
        let mut why: Vec<Option<String>> = vec![None; sol.pods.len()];
        for (i, e) in &sol.errors {
            why[*i] = Some(e.clone());
        }
        let initialized: HashSet<Sym> = self.state.nodes.iter().filter(|n| n.initialized).map(|n| n.name).collect();
        for (node, ps) in &sol.existing {
            let w = if initialized.contains(node) {
                format!("fits node {node}; the provisioner's batch had not closed at the end of the run")
            } else {
                format!("waiting for node {node} to finish initializing")
            };
            for &p in ps {
                why[p] = Some(w.clone());
            }
        }
        for c in &sol.claims {
            for &p in &c.pods {
                why[p] = Some(format!("would get a new node from NodePool {} in the provisioner's next batch", c.nodepool));
            }
        }
        let mut out: Vec<(String, String)> = sol
            .pods
            .iter()
            .zip(why)
            .map(|(p, w)| (p.key(), w.unwrap_or_else(|| "pending at the end of the run".to_string())))
            .collect();
        out.sort();
        out
    }

    /// Stop the run with an error when `more` new pods would take it past the work limit.
    fn over_limit(&mut self, w: usize, more: usize) -> bool {
        let limits = self.sc.limits;
        let at = crate::Location { kind: Some("Scenario".into()), field: Some(format!("workloads[{w}]")), ..Default::default() };
        let what = format!("workload {} at t = {:.0} s asks for {more} more pods; that", self.sc.workloads[w].name(), self.now());
        if !limits.allows(self.state.pods.len(), more) {
            self.over_limit = Some(limits.exceeded(at, &what, self.state.pods.len(), more));
            return true;
        }
        // every created pod keeps its name and wait time to the end: the run's total is bounded too
        if self.created.saturating_add(more) > limits.max_created() {
            let message = format!(
                "{what} would make {} pods created over the run, over karpsim's limit of {} ({} × the work limit of {} pods); \
                 shorten the run or raise the work limit (--pod-limit N, pod_limit=N in Python, WorkLimits::max_pods in Rust)",
                self.created.saturating_add(more),
                limits.max_created(),
                crate::work::CREATED_PER_MAX_POD,
                limits.max_pods
            );
            self.over_limit = Some(crate::Error::input(at, message));
            return true;
        }
        self.created += more;
        false
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
                if !pending_pods(&self.state, &mut Vec::new()).is_empty() {
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

    // ---- workloads -------------------------------------------------------------------------

    fn target_replicas(&self, w: usize, schedule: &ReplicaSchedule) -> (u32, Option<f64>) {
        let t = self.now();
        match schedule {
            ReplicaSchedule::Steps(steps) => {
                let current = steps.iter().rfind(|(at, _)| *at <= t).map_or(0, |(_, r)| *r);
                let next = steps.iter().map(|(at, _)| *at).find(|at| *at > t);
                (current, next)
            }
            ReplicaSchedule::Diurnal { min, max, peak, noise, step, weekend_factor } => {
                let abs = self.sc.start as f64 + t;
                let tod = abs.rem_euclid(86_400.0);
                let weekday = ((abs / 86_400.0).floor() as i64 + 4).rem_euclid(7); // 0 = Sunday
                let shape = 0.5 + 0.5 * (2.0 * std::f64::consts::PI * (tod - peak) / 86_400.0).cos();
                let mut level = f64::from(*min) + f64::from(max - min) * shape;
                if weekday == 0 || weekday == 6 {
                    level *= weekend_factor;
                }
                if *noise > 0.0 {
                    let mut rng = self.streams.rng("diurnal-noise", ((w as u64) << 32) | self.workload_ticks[w]);
                    level *= 1.0 + noise * super::random::normal(&mut rng);
                }
                ((level.round().max(f64::from(*min)).min(f64::from(*max))) as u32, Some(t + step))
            }
            ReplicaSchedule::Hpa { load, target_per_replica, min, max, step } => {
                let v = interpolate(load, t);
                let r = (v / target_per_replica).ceil().max(f64::from(*min)).min(f64::from(*max)) as u32;
                (r, Some(t + step))
            }
        }
    }

    fn workload(&mut self, w: usize) {
        let sc = self.sc;
        match &sc.workloads[w] {
            Workload::Replicas { template, schedule, name } => {
                let (target, next) = self.target_replicas(w, schedule);
                self.workload_ticks[w] += 1;
                let current = self.replica_pods[w].len() as u32;
                if target > current && self.over_limit(w, (target - current) as usize) {
                    return;
                }
                if target > current {
                    for _ in current..target {
                        let uid = self.create_pod(template);
                        self.replica_pods[w].push(uid);
                    }
                    self.log("scale", format!("{name}: {current} → {target} replicas"));
                    self.trigger_batch();
                } else if target < current {
                    // a ReplicaSet removes unscheduled pods first, then the newest
                    let bound: HashSet<Sym> = self.state.pods.iter().filter(|p| p.node_name.is_some()).map(|p| p.uid).collect();
                    let mut order: Vec<(bool, usize, Sym)> =
                        self.replica_pods[w].iter().enumerate().map(|(i, u)| (bound.contains(u), i, *u)).collect();
                    order.sort_by(|a, b| a.0.cmp(&b.0).then(b.1.cmp(&a.1)));
                    let remove: HashSet<Sym> = order.iter().take((current - target) as usize).map(|x| x.2).collect();
                    self.delete_pods(&remove);
                    self.replica_pods[w].retain(|u| !remove.contains(u));
                    self.log("scale", format!("{name}: {current} → {target} replicas"));
                }
                if let Some(n) = next {
                    self.at(n, Ev::Workload(w));
                }
            }
            Workload::Jobs { template, arrivals, duration, parallelism, name } => {
                let k = self.workload_ticks[w];
                self.workload_ticks[w] += 1;
                // the first call only schedules the first arrival
                if k > 0 || matches!(arrivals, Arrivals::At(a) if a.first() == Some(&0.0)) {
                    if self.over_limit(w, *parallelism as usize) {
                        return;
                    }
                    for i in 0..*parallelism {
                        let uid = self.create_pod(template);
                        let mut rng = self.streams.rng("job-duration", ((w as u64) << 40) | (k << 16) | u64::from(i));
                        let d = duration.sample(&mut rng).max(1.0);
                        if let Some(p) = self.pods.get_mut(&uid) {
                            p.job_duration = Some(d);
                        }
                    }
                    self.log("job", format!("{name}: {parallelism} pod(s) arrive"));
                    self.trigger_batch();
                }
                let t = self.now();
                let next = match arrivals {
                    Arrivals::Poisson { per_hour } => {
                        let mut rng = self.streams.rng("job-arrival", ((w as u64) << 32) | k);
                        Some(t + Dist::Exponential { mean: 3600.0 / per_hour }.sample(&mut rng))
                    }
                    Arrivals::At(list) => list.iter().copied().find(|a| *a > t || (k == 0 && *a > 0.0)),
                    Arrivals::Daily(times) => {
                        let abs = sc.start as f64 + t;
                        let day0 = (abs / 86_400.0).floor() * 86_400.0;
                        (0..3)
                            .flat_map(|d| times.iter().map(move |tod| day0 + f64::from(d) * 86_400.0 + tod))
                            .map(|a| a - sc.start as f64)
                            .filter(|a| *a > t)
                            .reduce(f64::min)
                    }
                };
                if let Some(n) = next {
                    self.at(n, Ev::Workload(w));
                }
            }
            Workload::Trace { .. } => {}
        }
    }

    fn trace(&mut self, w: usize, i: usize) {
        let Workload::Trace { events, .. } = &self.sc.workloads[w] else { return };
        let ev = &events[i];
        if ev.create {
            if self.over_limit(w, 1) {
                return;
            }
            let mut p = ev.pod.clone();
            p.creation_timestamp = self.abs_now();
            self.version += 1;
            self.pods.insert(p.uid, PodInfo { pending_since: self.now(), job_duration: None });
            self.state.pods.push(p);
            self.trigger_batch();
        } else {
            self.delete_pod(ev.pod.uid);
        }
    }

    fn create_pod(&mut self, template: &Pod) -> Sym {
        self.name_counter += 1;
        let base = template.owner.as_ref().map_or(template.name, |o| o.name);
        let name = Sym::new(&format!("{base}-{}", self.name_counter));
        let mut p = template.clone();
        p.name = name;
        p.uid = Sym::new(&format!("{}/{}", p.namespace, name));
        p.node_name = None;
        p.phase = PodPhase::Pending;
        p.creation_timestamp = self.abs_now();
        p.start_time = None;
        p.finished_at = None;
        p.deletion_timestamp = None;
        // a new pod has no status yet: what a snapshot template said about kube-scheduler's view of
        // its own pod (not marked unschedulable yet, nominated) does not carry over
        p.marked_unschedulable = None;
        p.nominated_node = None;
        self.pods.insert(p.uid, PodInfo { pending_since: self.now(), job_duration: None });
        self.version += 1;
        let uid = p.uid;
        self.state.pods.push(p);
        uid
    }

    fn delete_pod(&mut self, uid: Sym) -> bool {
        self.delete_pods(&HashSet::from([uid])) > 0
    }

    /// Delete pods (workload scale-down, job completion, trace deletions); returns how many existed.
    fn delete_pods(&mut self, uids: &HashSet<Sym>) -> usize {
        let t = self.sc.start + self.now() as i64;
        // a pod leaving a node is a pod event for it (NodeClaim status.lastPodEventTime)
        let nodes: HashSet<Sym> = self.state.pods.iter().filter(|p| uids.contains(&p.uid)).filter_map(|p| p.node_name).collect();
        for n in self.state.nodes.iter_mut().filter(|n| nodes.contains(&n.name)) {
            n.last_pod_event = Some(t);
        }
        let before = self.state.pods.len();
        self.state.pods.retain(|p| !uids.contains(&p.uid));
        for u in uids {
            self.pods.remove(u);
            self.deleted.insert(*u);
        }
        let removed = before - self.state.pods.len();
        if removed > 0 {
            self.version += 1;
        }
        removed
    }

    // ---- provisioning ----------------------------------------------------------------------

    /// A pending pod appeared: open or extend the batch window (`batcher.go`): it closes after
    /// `batch_idle` without new pods, or `batch_max` after it opened.
    fn trigger_batch(&mut self) {
        let t = self.now();
        if !self.batch_open {
            self.batch_open = true;
            self.batch_first = t;
            let max = t + self.sc.settings.batch_max;
            self.at(max, Ev::BatchCheck(self.batch_gen));
        }
        self.batch_last = t;
        let idle = t + self.sc.settings.batch_idle;
        self.at(idle, Ev::BatchCheck(self.batch_gen));
    }

    fn batch_check(&mut self, generation: u64) {
        if !self.batch_open || generation != self.batch_gen {
            return;
        }
        let t = self.now();
        let s = &self.sc.settings;
        if t + 1e-9 >= self.batch_last + s.batch_idle || t + 1e-9 >= self.batch_first + s.batch_max {
            self.batch_open = false;
            self.batch_gen += 1;
            self.provision(true);
        }
    }

    fn excluded_nodes(&self) -> HashSet<Sym> {
        self.nodes.iter().filter(|(_, i)| i.terminating || i.marked).map(|(n, _)| *n).collect()
    }

    /// Schedule pending pods: bind those placed on initialized nodes (what kube-scheduler then does),
    /// and, when `launch`, create the NodeClaims Karpenter would.
    fn provision(&mut self, launch_claims: bool) {
        let mut w = Vec::new();
        let pending: HashSet<Sym> = pending_pods(&self.state, &mut w).iter().map(|p| p.uid).collect();
        if pending.is_empty() {
            return;
        }
        let scope =
            ScheduleScope { removed_nodes: self.excluded_nodes(), pending: pending.clone(), ..Default::default() };
        let (binds, launches, unplaced, deferred) = {
            let pods: Vec<&Pod> = self.state.pods.iter().filter(|p| pending.contains(&p.uid)).collect();
            let view = ClusterView::new(&self.state, self.opts.provisioning.min_values_policy);
            self.launch_warnings.extend(view.launch_warnings());
            let sol = schedule_on(&view, pods, &scope, &self.opts.provisioning);
            let initialized: HashSet<Sym> = self.state.nodes.iter().filter(|n| n.initialized).map(|n| n.name).collect();
            let mut binds = Vec::new();
            for (node, ps) in &sol.existing {
                if initialized.contains(node) {
                    binds.extend(ps.iter().map(|&p| (sol.pods[p].uid, *node)));
                }
            }
            let mut launches = Vec::new();
            for c in &sol.claims {
                if let Some(r) = crate::disruption::Replacement::launch(c, self.opts.provisioning.launch_policy) {
                    launches.push(crate::disruption::NewNode::from_claim(c, &r));
                }
            }
            (binds, launches, !sol.errors.is_empty(), !sol.deferred.is_empty())
        };
        self.bind_all(binds);
        if launch_claims {
            for n in launches {
                self.launch(&n);
            }
        }
        // pods waiting for a reservation held by this batch's NodeClaims go into the next batch,
        // which sees what those NodeClaims took from it
        if deferred && launch_claims {
            self.trigger_batch();
        }
        if unplaced && !self.retry_scheduled {
            self.retry_scheduled = true;
            let t = self.now() + 300.0;
            self.at(t, Ev::Retry);
        }
    }

    /// kube-scheduler binds pods to nodes: they run, the nodes get a pod event, jobs start their clock.
    fn bind_all(&mut self, binds: Vec<(Sym, Sym)>) {
        if binds.is_empty() {
            return;
        }
        let t = self.now();
        let at = self.sc.start + t as i64;
        let to: HashMap<Sym, Sym> = binds.into_iter().collect();
        let mut done: Vec<Sym> = Vec::with_capacity(to.len());
        let nodes = &self.state.nodes;
        for p in self.state.pods.iter_mut() {
            if let Some(node) = to.get(&p.uid) {
                // a claim waiting for its first consumer gets its volume in this node's zone
                if p.volumes.as_ref().is_some_and(|v| v.binds_in_zone)
                    && let Some(n) = nodes.iter().find(|n| n.name == *node)
                    && let Some(zone) = n.zone
                    && let Some(v) = crate::scheduling::volumes::bound_in_zone(p, &n.labels, zone)
                {
                    p.volumes = Some(Arc::new(v));
                }
                p.node_name = Some(*node);
                p.phase = PodPhase::Running;
                p.start_time = Some(at);
                done.push(p.uid);
            }
        }
        let nodes: HashSet<Sym> = to.values().copied().collect();
        for n in self.state.nodes.iter_mut().filter(|n| nodes.contains(&n.name)) {
            n.last_pod_event = Some(at);
        }
        self.version += 1;
        for uid in done {
            let Some(info) = self.pods.get(&uid) else { continue };
            self.metrics.pod_wait_seconds.push(t - info.pending_since);
            if let Some(d) = info.job_duration {
                let mut rng = self.streams.rng("pod-startup", u64::from(uid.as_str().len() as u32) ^ (self.version << 8));
                let startup = self.sc.settings.pod_startup.sample(&mut rng);
                self.at(t + startup + d, Ev::JobDone(uid));
            }
        }
    }

    /// Create a node for a NodeClaim: billed now, initialized after launch + initialization latency.
    /// `Create` refuses when the pool's usage already exceeds a limit (`provisioner.go`).
    fn launch(&mut self, n: &crate::disruption::NewNode) -> Option<Sym> {
        if let Some(pool) = self.state.nodepools.iter().find(|p| p.name == n.nodepool)
            && !pool.limits.is_empty()
        {
            let mut usage = crate::resources::Resources::new();
            let mut count = 0;
            for x in self.state.nodes.iter().filter(|x| x.nodepool == Some(n.nodepool)) {
                usage.add_assign(&x.capacity);
                count += 1;
            }
            usage.set("nodes", count);
            if let Some(k) = pool.limits.exceeded_by(&usage) {
                self.log("launch-refused", format!("NodePool {} limit {k} exceeded; not launching {}", n.nodepool, n.instance_type));
                return None;
            }
        }
        let seq = self.launch_counter + 1;
        let name = Sym::new(&format!("{}-{:05}", n.nodepool, seq));
        let t = self.now();
        let taints = self.state.nodepools.iter().find(|p| p.name == n.nodepool).map(|p| p.taints.clone()).unwrap_or_default();
        let node = n.to_node(name, self.sc.start + t as i64, taints, false);
        self.track_node(&node, n.capacity_type, n.price);
        self.state.nodes.push(node);
        self.version += 1;
        if let Some(id) = n.reservation_id {
            self.change_reservation(id, -1, false);
        }
        self.metrics.nodes_launched += 1;
        let mut rng = self.streams.rng("node-latency", seq);
        let ready_in = self.sc.settings.node_launch.sample(&mut rng) + self.sc.settings.node_initialize.sample(&mut rng);
        self.at(t + ready_in, Ev::NodeInitialized(name));
        if n.capacity_type.as_str() == labels::CAPACITY_TYPE_SPOT {
            let rate = match &self.sc.settings.spot_interruptions {
                SpotInterruptions::None => 0.0,
                SpotInterruptions::Rate(r) => *r,
                SpotInterruptions::Advisor => {
                    let bucket = self
                        .pristine_types
                        .get(&n.nodepool)
                        .and_then(|ts| ts.iter().find(|x| x.it.name == n.instance_type))
                        .and_then(|x| x.it.spot_interruption.as_ref())
                        .map(|b| b.index);
                    advisor_rate_per_hour(bucket)
                }
            };
            if rate > 0.0 {
                let u = self.streams.uniform("spot-interruption", seq);
                let hours = -(1.0 - u).ln() / rate;
                let when = t + hours * 3600.0;
                if when < self.sc.duration {
                    self.at(when, Ev::SpotNotice(name));
                }
            }
        }
        self.log("launch", format!("{} {} {} {} ${:.4}/h", name, n.instance_type, n.zone, n.capacity_type, n.price));
        self.sample();
        Some(name)
    }

    fn node_initialized(&mut self, name: Sym) {
        let t = self.sc.start + self.now() as i64;
        let Some(n) = self.state.nodes.iter_mut().find(|n| n.name == name) else { return };
        n.initialized = true;
        n.ready = true;
        n.labels.insert(*labels::INITIALIZED, Sym::new("true"));
        n.last_pod_event.get_or_insert(t);
        self.version += 1;
        self.log("ready", format!("{name} initialized"));
        // kube-scheduler binds pending pods to the new capacity right away
        self.provision(false);
        self.check_replacements();
        if !pending_pods(&self.state, &mut Vec::new()).is_empty() {
            self.trigger_batch();
        }
    }

    /// Delete a node: pods that must move become pending, the instance is billed until it is gone
    /// (after the termination latency, or at `gone_at` when the cloud reclaims it).
    fn delete_node(&mut self, name: Sym, why: &str) {
        self.delete_node_until(name, why, None);
    }

    fn delete_node_until(&mut self, name: Sym, why: &str, gone_at: Option<f64>) {
        let Some(info) = self.nodes.get_mut(&name) else { return };
        if info.terminating {
            return;
        }
        info.terminating = true;
        let t = self.now();
        let start = self.sc.start;
        let mut evicted = 0;
        self.state.pods.retain(|p| !(p.node_name == Some(name) && (p.is_daemonset_pod() || p.is_mirror())));
        for p in self.state.pods.iter_mut().filter(|p| p.node_name == Some(name)) {
            p.node_name = None;
            p.phase = PodPhase::Pending;
            evicted += 1;
            if let Some(i) = self.pods.get_mut(&p.uid) {
                i.pending_since = t;
            } else {
                self.pods.insert(p.uid, PodInfo { pending_since: t, job_duration: None });
            }
        }
        if let Some(n) = self.state.nodes.iter_mut().find(|n| n.name == name) {
            n.deletion_timestamp = Some(start + t as i64);
        }
        // a static pool's NodeClaim being deleted is replaced at once (`static/provisioning` watches
        // NodeClaim deletions)
        if self.state.nodes.iter().any(|n| n.name == name && n.nodepool.is_some_and(|p| self.state.nodepools.iter().any(|x| x.name == p && x.replicas.is_some()))) {
            self.static_provision();
        }
        self.metrics.evictions += evicted;
        self.version += 1;
        let seq = self.nodes[&name].launch_seq;
        let mut rng = self.streams.rng("node-termination", seq);
        let gone = gone_at.unwrap_or_else(|| t + self.sc.settings.node_termination.sample(&mut rng));
        self.at(gone, Ev::NodeGone(name));
        self.log("delete", format!("{name}: {why}; {evicted} pod(s) evicted"));
        if evicted > 0 {
            self.trigger_batch();
        }
    }

    fn node_gone(&mut self, name: Sym) {
        if !self.nodes.contains_key(&name) {
            return;
        }
        if let Some(id) = self.node_reservation(name) {
            self.change_reservation(id, 1, false);
        }
        self.accrue();
        if let Some(info) = self.nodes.remove(&name) {
            self.cost_rate[ct_index(info.capacity_type)] -= info.price;
            self.metrics.node_cost_total += info.price * (self.now() - info.billed_from) / 3600.0;
        }
        self.state.nodes.retain(|n| n.name != name);
        self.state.pods.retain(|p| p.node_name != Some(name));
        self.version += 1;
        self.log("gone", format!("{name} terminated; billing stops"));
        self.sample();
    }

    fn spot_notice(&mut self, name: Sym) {
        if self.nodes.get(&name).is_none_or(|i| i.terminating) {
            return;
        }
        // Karpenter's interruption controller deletes the NodeClaim on the notice; the instance is
        // reclaimed two minutes later
        self.metrics.interruptions += 1;
        self.log("interruption", format!("{name}: spot interruption notice; the instance is reclaimed in 2 minutes"));
        let reclaimed = self.now() + 120.0;
        self.delete_node_until(name, "spot interruption notice", Some(reclaimed));
    }

    /// An outage starts or ends: offerings are unavailable while any outage covering them is active
    /// (like an insufficient-capacity error that lasts).
    fn outage(&mut self, i: usize, start: bool) {
        if start {
            self.active_outages.insert(i);
        } else {
            self.active_outages.remove(&i);
        }
        let active: Vec<&super::scenario::Outage> = self.active_outages.iter().map(|&k| &self.sc.outages[k]).collect();
        let mut unavailable = 0;
        for (pool, types) in &self.pristine_types {
            let mut v: Vec<TypeInfo> = (**types).clone();
            for ti in &mut v {
                let covers = |o: &super::scenario::Outage| o.instance_type.is_none_or(|t| t == ti.it.name);
                if !active.iter().any(|o| covers(o)) {
                    continue;
                }
                let mut it = (*ti.it).clone();
                for of in &mut it.offerings {
                    let hit = active
                        .iter()
                        .filter(|o| covers(o))
                        .any(|o| o.zone.is_none_or(|z| z == of.zone) && o.capacity_type.is_none_or(|c| c == of.capacity_type));
                    if hit && of.available {
                        of.available = false;
                        unavailable += 1;
                    }
                }
                *ti = TypeInfo::new(Arc::new(it));
            }
            if let Some(pt) = self.state.pool_types.get_mut(pool) {
                pt.types = Arc::new(v);
            }
        }
        self.version += 1;
        self.log("outage", format!("outage {i} {}; {unavailable} offering(s) unavailable now", if start { "starts" } else { "ends" }));
    }

    // ---- disruption ------------------------------------------------------------------------

    fn disruption_opts(&self) -> DisruptionOptions {
        let mut d = self.opts.disruption.clone();
        d.provisioning = self.opts.provisioning.clone();
        d
    }

    /// Run `f` on the state without nodes that are going away (their instances are still billed,
    /// but Karpenter no longer counts them).
    fn without_terminating<T>(&mut self, f: impl FnOnce(&ClusterState, crate::model::Timestamp, &DisruptionOptions) -> T) -> T {
        let gone: HashSet<Sym> = self.nodes.iter().filter(|(_, i)| i.terminating).map(|(n, _)| *n).collect();
        let all = std::mem::take(&mut self.state.nodes);
        self.state.nodes = all.iter().filter(|n| !gone.contains(&n.name)).cloned().collect();
        let out = f(&self.state, self.abs_now(), &self.disruption_opts());
        self.state.nodes = all;
        out
    }

    /// The disruption controller's round.
    fn plan(&mut self) -> Vec<Plan> {
        self.without_terminating(plan_round)
    }

    fn disruption_tick(&mut self) {
        // the static provisioning controller requeues itself (every minute in Karpenter)
        self.static_provision();
        if self.validating.is_some() || self.in_progress.is_some() {
            return;
        }
        // "consolidated" marker (`state/cluster.go`): nothing to do until the cluster changes, a
        // node's Consolidatable condition or expiry flips (a NodeClaim update in Karpenter), or
        // 5 minutes pass
        if let Some((v, at, wake)) = self.fruitless
            && v == self.version
            && self.now() - at < 300.0
            && self.now() < wake
        {
            return;
        }
        let plans = self.plan();
        if plans.is_empty() {
            self.fruitless = Some((self.version, self.now(), self.next_transition()));
            return;
        }
        for p in plans {
            // one replacement command at a time (the orchestration queue's one command per
            // candidate set); the next static drift is found again by the next round
            if self.in_progress.is_some() && p.command.action == crate::disruption::Action::Replace {
                continue;
            }
            match p.command.method {
                // forceful, or eventual without validation (`staticdrift.go`, `drift.go`)
                Method::Expiration | Method::StaticScaleDown | Method::Drift | Method::StaticDrift => self.execute(p),
                _ if !self.sc.settings.consolidation => {}
                _ => {
                    self.cmd_counter += 1;
                    let id = self.cmd_counter;
                    let t = self.now() + self.sc.settings.validation_delay;
                    self.log(
                        "disruption",
                        format!(
                            "{:?} {:?} {} pending validation: {}",
                            p.command.method,
                            p.command.action,
                            p.command.nodes.join(","),
                            p.command.reason
                        ),
                    );
                    self.validating = Some((id, p));
                    self.at(t, Ev::Validate(id));
                }
            }
        }
    }

    /// The next time (seconds from the start) a node becomes consolidatable or expires.
    fn next_transition(&self) -> f64 {
        let now_abs = self.abs_now();
        let mut next = f64::INFINITY;
        for n in &self.state.nodes {
            let Some(pool) = n.nodepool.and_then(|p| self.state.nodepools.iter().find(|x| x.name == p)) else { continue };
            let mut consider = |at: i64| {
                if at > now_abs {
                    next = next.min((at - self.sc.start) as f64);
                }
            };
            if let Some(after) = pool.disruption.consolidate_after {
                consider(n.last_pod_event.unwrap_or(n.creation_timestamp) + after);
            }
            if let Some(e) = pool.expire_after {
                consider(n.creation_timestamp + e);
            }
        }
        next
    }

    /// After the validation delay, the command must still hold (`validation.go`, see
    /// [`crate::disruption::validate`]).
    fn validate(&mut self, id: u64) {
        let Some((vid, plan)) = self.validating.take() else { return };
        if vid != id {
            self.validating = Some((vid, plan));
            return;
        }
        match self.without_terminating(|state, now, opts| validate(state, now, opts, &plan)) {
            Ok(p) => self.execute(p),
            Err(why) => self.log("disruption", format!("{} abandoned: {why}", plan.command.nodes.join(","))),
        }
    }

    fn execute(&mut self, plan: Plan) {
        let method = format!("{:?}", plan.command.method);
        *self
            .metrics
            .disruptions
            .entry(serde_json::to_value(plan.command.method).ok().and_then(|v| v.as_str().map(String::from)).unwrap_or(method))
            .or_default() += 1;
        self.log(
            "disruption",
            format!(
                "{:?} {:?} {} → {} (${:.4}/h → ${:.4}/h): {}",
                plan.command.method,
                plan.command.action,
                plan.command.nodes.join(","),
                plan.command.replacements.iter().map(|r| r.instance_type.clone()).collect::<Vec<_>>().join(","),
                plan.command.price_before,
                plan.command.price_after,
                plan.command.reason
            ),
        );
        if matches!(plan.command.method, Method::Expiration | Method::StaticScaleDown) {
            let why = if plan.command.method == Method::Expiration { "expired" } else { "static NodePool above its replicas" };
            for n in &plan.remove {
                self.delete_node(*n, why);
            }
            return;
        }
        for n in &plan.remove {
            if let Some(i) = self.nodes.get_mut(n) {
                i.marked = true;
            }
        }
        let mut replacements = Vec::new();
        for nn in &plan.new_nodes {
            if let Some(name) = self.launch(nn) {
                replacements.push(name);
            }
        }
        if replacements.len() != plan.new_nodes.len() {
            // a replacement could not be created: the command fails and nothing is deleted
            for n in &plan.remove {
                if let Some(i) = self.nodes.get_mut(n) {
                    i.marked = false;
                }
            }
            return;
        }
        self.in_progress = Some(PendingCommand { plan, replacements });
        self.check_replacements();
    }

    /// Delete the candidates once every replacement is initialized (`queue.go`).
    fn check_replacements(&mut self) {
        let ready = match &self.in_progress {
            Some(c) => {
                c.replacements.iter().all(|r| self.state.nodes.iter().any(|n| n.name == *r && n.initialized) || !self.nodes.contains_key(r))
            }
            None => return,
        };
        if ready {
            let Some(c) = self.in_progress.take() else { return };
            for n in &c.plan.remove {
                self.delete_node(*n, &format!("{} consolidation", c.plan.command.method_name()));
            }
        }
    }

    // ---- metrics ---------------------------------------------------------------------------

    fn sample(&mut self) {
        self.accrue();
        let t = self.now() / 3600.0;
        let s = &mut self.metrics.series;
        s.time_h.push(t);
        s.cost_per_hour.push(self.cost_rate.iter().sum());
        s.cost_per_hour_on_demand.push(self.cost_rate[0]);
        s.cost_per_hour_spot.push(self.cost_rate[1]);
        s.cost_per_hour_reserved.push(self.cost_rate[2]);
        s.cumulative_cost.push(self.cumulative);
        s.nodes.push(self.nodes.len() as f64);
        let (mut running, mut pending, mut cpu_r, mut mem_r) = (0.0, 0.0, 0.0, 0.0);
        for p in self.state.pods.iter().filter(|p| p.is_active()) {
            if p.node_name.is_some() {
                running += 1.0;
                cpu_r += p.requests.cpu as f64 / 1000.0;
                mem_r += p.requests.memory as f64 / f64::from(1u32 << 30);
            } else if !p.is_daemonset_pod() {
                pending += 1.0;
            }
        }
        let (mut cpu_a, mut mem_a) = (0.0, 0.0);
        let mut by_pool: BTreeMap<String, f64> = BTreeMap::new();
        let mut by_type: BTreeMap<String, f64> = BTreeMap::new();
        let mut by_ct: BTreeMap<String, f64> = BTreeMap::new();
        // a node count is the nodes billed now: launched (initializing or ready) and terminating
        // ones until their instance is gone, as `series.nodes`; allocatable counts only the nodes
        // that can hold pods
        for n in &self.state.nodes {
            if !self.nodes.get(&n.name).is_some_and(|i| i.terminating) {
                cpu_a += n.allocatable.cpu as f64 / 1000.0;
                mem_a += n.allocatable.memory as f64 / f64::from(1u32 << 30);
            }
            *by_pool.entry(n.nodepool.map_or("(unmanaged)".into(), |p| p.to_string())).or_default() += 1.0;
            *by_type.entry(n.instance_type.map_or("(unknown)".into(), |p| p.to_string())).or_default() += 1.0;
            *by_ct.entry(n.capacity_type.map_or("on-demand".into(), |p| p.to_string())).or_default() += 1.0;
        }
        s.pods_running.push(running);
        s.pods_pending.push(pending);
        s.cpu_requested.push(cpu_r);
        s.cpu_allocatable.push(cpu_a);
        s.memory_requested_gib.push(mem_r);
        s.memory_allocatable_gib.push(mem_a);
        for (b, m) in [
            (&mut self.metrics.nodes_by_nodepool, by_pool),
            (&mut self.metrics.nodes_by_instance_type, by_type),
            (&mut self.metrics.nodes_by_capacity_type, by_ct),
        ] {
            for (k, c) in m {
                b.time_h.push(t);
                b.key.push(k);
                b.count.push(c);
            }
        }
    }
}

impl crate::disruption::Command {
    fn method_name(&self) -> String {
        serde_json::to_value(self.method).ok().and_then(|v| v.as_str().map(String::from)).unwrap_or_default()
    }
}


fn interpolate(points: &[(f64, f64)], t: f64) -> f64 {
    match points.iter().position(|(at, _)| *at > t) {
        None => points.last().map_or(0.0, |p| p.1),
        Some(0) => points[0].1,
        Some(i) => {
            let (a, b) = (points[i - 1], points[i]);
            a.1 + (b.1 - a.1) * (t - a.0) / (b.0 - a.0)
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
