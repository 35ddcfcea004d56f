//! The scenario's workloads as controllers would run them: replica counts over time (steps, a
//! diurnal curve, an HPA over a load), jobs that arrive and finish, traces replayed row by row;
//! each bounded by the run's work limit.

use super::{Engine, Ev, PodInfo};
use crate::labels::{Sym, SymSet};
use crate::model::{Pod, PodPhase};
use crate::sim::random::Dist;
use crate::sim::scenario::{Arrivals, ReplicaSchedule, Workload};

impl Engine<'_> {
    /// Stop the run with an error when `more` new pods would take it past the work limit.
    pub(super) fn over_limit(&mut self, w: usize, more: usize) -> bool {
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

    pub(super) fn target_replicas(&self, w: usize, schedule: &ReplicaSchedule) -> (u32, Option<f64>) {
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
                    level *= 1.0 + noise * crate::sim::random::normal(&mut rng);
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

    pub(super) fn workload(&mut self, w: usize) {
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
                    // a ReplicaSet removes unscheduled pods first, then the newest. Which of this
                    // workload's pods are bound: its own pods looked up while walking the cluster's
                    // (hashing every bound pod of the cluster at each scale-down step was 4% of
                    // a 24-hour run)
                    let mine: SymSet = self.replica_pods[w].iter().copied().collect();
                    let bound: SymSet = self.state.pods.iter().filter(|p| p.node_name.is_some() && mine.contains(&p.uid)).map(|p| p.uid).collect();
                    let mut order: Vec<(bool, usize, Sym)> =
                        self.replica_pods[w].iter().enumerate().map(|(i, u)| (bound.contains(u), i, *u)).collect();
                    order.sort_by(|a, b| a.0.cmp(&b.0).then(b.1.cmp(&a.1)));
                    let remove: SymSet = order.iter().take((current - target) as usize).map(|x| x.2).collect();
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

    pub(super) fn trace(&mut self, w: usize, i: usize) {
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
            if let Some(node) = p.node_name {
                self.node_changed(node);
            }
            self.state.pods.push(p);
            self.trigger_batch();
        } else {
            self.delete_pod(ev.pod.uid);
        }
    }

    pub(super) fn create_pod(&mut self, template: &Pod) -> Sym {
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

    pub(super) fn delete_pod(&mut self, uid: Sym) -> bool {
        self.delete_pods(&SymSet::from_iter([uid])) > 0
    }

    /// Delete pods (workload scale-down, job completion, trace deletions); returns how many existed.
    pub(super) fn delete_pods(&mut self, uids: &SymSet) -> usize {
        let t = self.sc.start + self.now() as i64;
        // a pod leaving a node is a pod event for it (NodeClaim status.lastPodEventTime)
        let nodes: SymSet = self.state.pods.iter().filter(|p| uids.contains(&p.uid)).filter_map(|p| p.node_name).collect();
        for n in self.state.nodes.iter_mut().filter(|n| nodes.contains(&n.name)) {
            n.last_pod_event = Some(t);
        }
        self.nodes_changed(nodes);
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

    /// Trace rows the run does not replay as written (`docs/scenarios.md`: rows after the end are
    /// ignored, rows before the start happen at t = 0), counted per workload.
    pub(super) fn trace_warnings(&self, end: f64) -> Vec<String> {
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
