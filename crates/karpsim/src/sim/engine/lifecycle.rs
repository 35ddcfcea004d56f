//! Node lifecycle: a node is billed from its launch, becomes schedulable once initialized, and when
//! deleted evicts its pods at once but is billed until its instance is gone.

use super::{Engine, Ev, NodeInfo, PodInfo, ct_index};
use crate::labels::{self, Sym};
use crate::model::{Node, PodPhase};
use crate::scheduling::has_pending_pods;

impl Engine<'_> {
    /// Start billing a node; returns its launch number (the index of its random streams).
    pub(super) fn track_node(&mut self, n: &Node, ct: Sym, price: f64) -> u64 {
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

    pub(super) fn node_initialized(&mut self, name: Sym) {
        let t = self.sc.start + self.now() as i64;
        let Some(n) = self.state.nodes.iter_mut().find(|n| n.name == name) else { return };
        n.initialized = true;
        n.ready = true;
        n.labels.insert(*labels::INITIALIZED, Sym::new("true"));
        n.last_pod_event.get_or_insert(t);
        self.node_changed(name);
        self.version += 1;
        self.log("ready", format!("{name} initialized"));
        // kube-scheduler binds pending pods to the new capacity right away
        self.provision(false);
        self.check_replacements();
        if has_pending_pods(&self.state) {
            self.trigger_batch();
        }
    }

    /// Delete a node: pods that must move become pending, the instance is billed until it is gone
    /// (after the termination latency, or at `gone_at` when the cloud reclaims it).
    pub(super) fn delete_node(&mut self, name: Sym, why: &str) {
        self.delete_node_until(name, why, None);
    }

    pub(super) fn delete_node_until(&mut self, name: Sym, why: &str, gone_at: Option<f64>) {
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
        self.node_changed(name);
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

    pub(super) fn node_gone(&mut self, name: Sym) {
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
        // (a removal by name leaves a gap: the other nodes keep their slots, which the kept view
        // order holds)
        self.state.nodes.remove_named(&[name]);
        self.state.pods.retain(|p| p.node_name != Some(name));
        self.node_changed(name);
        self.version += 1;
        self.log("gone", format!("{name} terminated; billing stops"));
        self.sample();
    }
}
