//! The provisioner: pending pods open a batch window; when it closes, the pods are scheduled as
//! Karpenter's provisioner does, bound where they fit an initialized node (kube-scheduler's part),
//! and the NodeClaims it creates are launched.

use super::{Engine, Ev};
use crate::labels::{Sym, SymMap, SymSet};
use crate::model::{Pod, PodPhase};
use crate::scheduling::{ClusterView, ScheduleScope, bound_pods_by_node, pending_pods, schedule_on};
use std::sync::Arc;

impl Engine<'_> {
    /// A pending pod appeared: open or extend the batch window (`batcher.go`): it closes after
    /// `batch_idle` without new pods, or `batch_max` after it opened.
    pub(super) fn trigger_batch(&mut self) {
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

    pub(super) fn batch_check(&mut self, generation: u64) {
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

    pub(super) fn excluded_nodes(&self) -> SymSet {
        self.nodes.iter().filter(|(_, i)| i.terminating || i.marked).map(|(n, _)| *n).collect()
    }

    /// Schedule pending pods: bind those placed on initialized nodes (what kube-scheduler then does),
    /// and, when `launch`, create the NodeClaims Karpenter would.
    pub(super) fn provision(&mut self, launch_claims: bool) {
        let (binds, launches, unplaced, deferred) = {
            // the pending pods in the state's order, as the scheduler takes them
            let pods: Vec<&Pod> = pending_pods(&self.state, &mut Vec::new());
            if pods.is_empty() {
                return;
            }
            let scope = ScheduleScope { removed_nodes: self.excluded_nodes(), pending: pods.iter().map(|p| p.uid).collect(), ..Default::default() };
            // each node's parts kept from earlier batches and rounds (`engine/kept.rs`); the view
            // borrows each node's pods from this grouping, which outlives it, rather than copying them
            let grouped = bound_pods_by_node(&self.state);
            let view = ClusterView::with_kept_borrowed(&self.state, self.opts.provisioning.min_values_policy, &grouped, self.kept.views().map(Into::into));
            self.launch_warnings.extend(view.launch_warnings());
            let sol = schedule_on(&view, pods, &scope, &self.opts.provisioning);
            let initialized: SymSet = self.state.nodes.iter().filter(|n| n.initialized).map(|n| n.name).collect();
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
    pub(super) fn bind_all(&mut self, binds: Vec<(Sym, Sym)>) {
        if binds.is_empty() {
            return;
        }
        let t = self.now();
        let at = self.sc.start + t as i64;
        // looked up for every pod of the cluster: hashed as interned symbols
        let to: SymMap<Sym> = binds.into_iter().collect();
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
        let nodes: SymSet = to.values().copied().collect();
        for n in self.state.nodes.iter_mut().filter(|n| nodes.contains(&n.name)) {
            n.last_pod_event = Some(at);
        }
        self.nodes_changed(nodes);
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
    pub(super) fn launch(&mut self, n: &crate::disruption::NewNode) -> Option<Sym> {
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
        self.node_joins(name);
        self.state.nodes.push(node);
        self.version += 1;
        if let Some(id) = n.reservation_id {
            self.change_reservation(id, -1, false);
        }
        self.metrics.nodes_launched += 1;
        let mut rng = self.streams.rng("node-latency", seq);
        let ready_in = self.sc.settings.node_launch.sample(&mut rng) + self.sc.settings.node_initialize.sample(&mut rng);
        self.at(t + ready_in, Ev::NodeInitialized(name));
        self.schedule_spot_notice(n, name, seq, t);
        self.log("launch", format!("{} {} {} {} ${:.4}/h", name, n.instance_type, n.zone, n.capacity_type, n.price));
        self.sample();
        Some(name)
    }

    /// The pods pending at the end, each with why: the scheduler's reason for pods nothing could
    /// take, or what they were waiting for (a node still initializing, the provisioner's next batch).
    pub(super) fn pending_reasons(&mut self, warnings: &mut Vec<String>) -> Vec<(String, String)> {
        let pods: Vec<&Pod> = pending_pods(&self.state, warnings);
        if pods.is_empty() {
            return Vec::new();
        }
        let scope = ScheduleScope { removed_nodes: self.excluded_nodes(), pending: pods.iter().map(|p| p.uid).collect(), ..Default::default() };
        let view = ClusterView::new(&self.state, self.opts.provisioning.min_values_policy);
        self.launch_warnings.extend(view.launch_warnings());
        let sol = schedule_on(&view, pods, &scope, &self.opts.provisioning);
        let mut why: Vec<Option<String>> = vec![None; sol.pods.len()];
        for (i, e) in &sol.errors {
            why[*i] = Some(e.clone());
        }
        let initialized: SymSet = self.state.nodes.iter().filter(|n| n.initialized).map(|n| n.name).collect();
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
}
