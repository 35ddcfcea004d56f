//! The disruption controller's loop: a round every poll interval (skipped while nothing changed),
//! forceful methods executed at once, consolidation validated after a delay, and candidates deleted
//! only once their replacements are initialized.

use super::{Engine, Ev, PendingCommand};
use crate::disruption::{DisruptionOptions, Method, Plan, plan_round, plan_round_kept, validate};
use crate::labels::SymSet;
use crate::state::ClusterState;

impl Engine<'_> {
    pub(super) fn disruption_opts(&self) -> DisruptionOptions {
        let mut d = self.opts.disruption.clone();
        d.provisioning = self.opts.provisioning.clone();
        d
    }

    /// Run `f` on the state without nodes that are going away (their instances are still billed,
    /// but Karpenter no longer counts them).
    /// The terminating nodes are moved out and back in their places, not cloned: cloning every
    /// node at every round was a twentieth of a 24-hour run.
    pub(super) fn without_terminating<T>(&mut self, f: impl FnOnce(&ClusterState, crate::model::Timestamp, &DisruptionOptions) -> T) -> T {
        let gone: SymSet = self.nodes.iter().filter(|(_, i)| i.terminating).map(|(n, _)| *n).collect();
        let opts = self.disruption_opts();
        if !self.state.nodes.iter().any(|n| gone.contains(&n.name)) {
            return f(&self.state, self.abs_now(), &opts);
        }
        // the terminating ones with their positions; the rest keep their order
        let out_of_view = self.state.nodes.take_out(|n| gone.contains(&n.name));
        let out = f(&self.state, self.abs_now(), &opts);
        self.state.nodes.put_back(out_of_view);
        out
    }

    /// The disruption controller's round, over the facts kept from earlier rounds and batches
    /// (`engine/kept.rs`; the terminating nodes it does not see keep theirs for later).
    pub(super) fn plan(&mut self) -> Vec<Plan> {
        // taken out while the round borrows the state, and put back
        let mut kept = std::mem::take(&mut self.kept);
        let plans = self.without_terminating(|state, now, opts| match kept.facts() {
            Some(facts) => plan_round_kept(state, now, opts, facts),
            None => plan_round(state, now, opts),
        });
        self.kept = kept;
        plans
    }

    pub(super) fn disruption_tick(&mut self) {
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
    pub(super) fn next_transition(&self) -> f64 {
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
    pub(super) fn validate(&mut self, id: u64) {
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

    pub(super) fn execute(&mut self, plan: Plan) {
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
    pub(super) fn check_replacements(&mut self) {
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
}

impl crate::disruption::Command {
    fn method_name(&self) -> String {
        serde_json::to_value(self.method).ok().and_then(|v| v.as_str().map(String::from)).unwrap_or_default()
    }
}
