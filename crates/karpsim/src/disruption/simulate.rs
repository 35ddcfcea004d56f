//! `SimulateScheduling` (`disruption/helpers.go`; design §5.10): reschedule the candidates' pods,
//! together with pending pods, onto the cluster without the candidates.

use super::candidates::{last_pod_event, Candidate};
use super::prefilter::{CannotMove, Prefilter};
use crate::labels::{Sym, SymSet};
use crate::model::{Pod, Timestamp};
use crate::scheduling::{schedule_on, BoundPods, ClusterView, ProvisionOptions, ScheduleScope, Solution};
use crate::state::ClusterState;
use std::collections::HashSet;

/// Per-round facts every simulation shares.
pub struct RoundCtx<'a> {
    pub state: &'a ClusterState,
    pub now: Timestamp,
    /// The pods bound to each node ([`crate::scheduling::bound_pods_by_node`]), owned by the
    /// round's caller so that the round's view borrows each node's list rather than copying it.
    pub pods_by_node: &'a BoundPods<'a>,
    /// Pods that were pending before this round.
    pub pending: Vec<&'a Pod>,
    pub provisioning: ProvisionOptions,
    /// The state prepared for scheduling, shared by every simulation of the round; built on first
    /// use ([`RoundCtx::view`]): most of a time simulation's rounds simulate nothing (no candidate
    /// is consolidatable yet), and building it was a seventh of a 24-hour run.
    pub(super) view: std::cell::OnceCell<ClusterView<'a>>,
    /// Nodes under `consolidateAfter` ([`RoundCtx::settling`]), found on first use: only
    /// consolidation's simulations and the prefilter read them, so a drift round never does.
    pub(super) settling: std::cell::OnceCell<SymSet>,
    /// Nodes being deleted and nodes not initialized yet ([`RoundCtx::deleting`],
    /// [`RoundCtx::uninitialized`]), found on first use, or set beforehand by a quick round whose
    /// kept index says there are none (`disruption/lazy.rs`).
    pub(super) arriving_leaving: std::cell::OnceCell<ArrivingLeaving>,
    /// The caller needs no explanations: single-node simulations certain to fail are skipped
    /// ([`RoundCtx::prefilter`]) and consolidation simulations stop at a second new NodeClaim.
    pub quick: bool,
    /// The quick "no" before a single-node simulation, built on first use: most rounds end before
    /// single-node consolidation (an until-stable run over drifted nodes never reaches it).
    pub(super) prefilter: std::cell::OnceCell<Prefilter<'a>>,
    /// Each node's view parts kept from earlier rounds of until-stable (`disruption/kept.rs`).
    pub(super) kept_views: Option<&'a std::cell::RefCell<crate::scheduling::KeptNodes>>,
}

/// The nodes of a round's state on their way out or in.
#[derive(Debug, Default)]
pub(super) struct ArrivingLeaving {
    /// Nodes being deleted (their pods must move too), in the state's order.
    deleting: Vec<Sym>,
    /// Nodes not initialized yet.
    uninitialized: HashSet<Sym>,
}

impl ArrivingLeaving {
    /// Those of `state`, in one pass over its nodes.
    pub(super) fn of(state: &ClusterState) -> ArrivingLeaving {
        let mut out = ArrivingLeaving::default();
        for n in &state.nodes {
            if n.deletion_timestamp.is_some() {
                out.deleting.push(n.name);
            }
            if !n.initialized {
                out.uninitialized.insert(n.name);
            }
        }
        out
    }

    pub(super) fn is_empty(&self) -> bool {
        self.deleting.is_empty() && self.uninitialized.is_empty()
    }
}

impl<'a> Prefilter<'a> {
    /// Why consolidating `c` alone cannot act, if that is certain without simulating it (the pods
    /// it would move this round, through [`Prefilter::cannot_move`]). Here rather than in
    /// `prefilter.rs` so that the prefilter does not depend on the round that holds it.
    pub fn cannot_consolidate(&self, ctx: &RoundCtx<'a>, c: &Candidate<'a>, spot_to_spot: bool) -> Option<CannotMove<'a>> {
        self.cannot_move(ctx.movable(c.name()).collect(), c, spot_to_spot)
    }
}

pub struct Simulation<'a> {
    pub sol: Solution<'a>,
    /// Pods that had to move (not already pending) and could not be placed, with the reason.
    pub failed_moves: Vec<(String, String)>,
}

impl<'a> RoundCtx<'a> {
    /// The state prepared for scheduling (a function of the state and the minValues policy only,
    /// so building it late gives what building it first gave), from the round's pods by node.
    pub fn view(&self) -> &ClusterView<'a> {
        self.view.get_or_init(|| ClusterView::with_kept_borrowed(self.state, self.provisioning.min_values_policy, self.pods_by_node, self.kept_views.map(Into::into)))
    }

    /// The quick "no" before a single-node simulation, when the caller needs no explanations.
    pub fn prefilter(&self) -> Option<&Prefilter<'a>> {
        self.quick.then(|| self.prefilter.get_or_init(|| Prefilter::new(self.view(), self.deleting(), self.settling())))
    }

    /// Nodes being deleted, in the state's order.
    pub fn deleting(&self) -> &[Sym] {
        &self.arriving_leaving.get_or_init(|| ArrivingLeaving::of(self.state)).deleting
    }

    /// Nodes not initialized yet.
    pub fn uninitialized(&self) -> &HashSet<Sym> {
        &self.arriving_leaving.get_or_init(|| ArrivingLeaving::of(self.state)).uninitialized
    }

    /// The round's nodes under `consolidateAfter` ([`RoundCtx::under_consolidate_after`]).
    pub fn settling(&self) -> &SymSet {
        self.settling.get_or_init(|| Self::under_consolidate_after(self.state, self.pods_by_node, self.now))
    }

    /// "Currently reschedulable" pods of a node (`IsCurrentlyReschedulable`).
    pub(crate) fn movable(&self, node: Sym) -> impl Iterator<Item = &'a Pod> + '_ {
        self.pods_by_node.get(&node).into_iter().flatten().copied().filter(move |p| crate::eviction::currently_reschedulable(p, &self.state.pdbs, self.now))
    }

    /// Nodes whose pool's consolidateAfter has not passed since their last pod event
    /// (`IsUnderConsolidateAfter`): not valid destinations for pods moved by consolidation.
    pub fn under_consolidate_after(state: &ClusterState, pods_by_node: &BoundPods, now: Timestamp) -> SymSet {
        let mut out = SymSet::default();
        for n in &state.nodes {
            let Some(pool) = n.nodepool.and_then(|p| state.nodepools.iter().find(|x| x.name == p)) else { continue };
            let Some(after) = pool.disruption.consolidate_after else { continue };
            if after == 0 || !n.initialized {
                continue;
            }
            let pods = pods_by_node.get(&n.name).unwrap_or(&[]);
            if now - last_pod_event(n, pods) < after {
                out.insert(n.name);
            }
        }
        out
    }

    /// Consolidation acts only when a simulation needs at most one new NodeClaim; without
    /// explanations to give (the simulator's rounds), a simulation can stop as soon as it needs a
    /// second. Not when a pool has minValues: finalising a NodeClaim may then drop it.
    fn claim_limit(&self, consolidation: bool) -> Option<usize> {
        let exact = consolidation && self.quick && !self.view().templates.iter().any(|t| t.requirements.has_min_values());
        exact.then_some(1)
    }

    pub fn simulate(&self, candidates: &[&Candidate<'a>], consolidation: bool) -> Simulation<'a> {
        let mut pods: Vec<&'a Pod> = self.pending.clone();
        for c in candidates {
            pods.extend(self.movable(c.name()));
        }
        let mut of_deleting: HashSet<Sym> = HashSet::new();
        for d in self.deleting() {
            for p in self.movable(*d) {
                of_deleting.insert(p.uid);
                pods.push(p);
            }
        }
        let mut removed: SymSet = candidates.iter().map(|c| c.name()).collect();
        removed.extend(self.deleting().iter().copied());
        let scope = ScheduleScope {
            removed_nodes: removed,
            under_consolidate_after: if consolidation { self.settling().clone() } else { SymSet::default() },
            pending: self.pending.iter().map(|p| p.uid).collect(),
            max_new_claims: self.claim_limit(consolidation),
            // SimulateScheduling does not pass DisableReservedCapacityFallback (helpers.go)
            reserved_mode: crate::scheduling::ReservedMode::Fallback,
        };
        let mut sol = schedule_on(self.view(), pods, &scope, &self.provisioning);
        // moving pods onto a node that is not initialized yet counts as a failure, except the
        // pods of nodes already being deleted: that node is taken to be the replacement on its
        // way (`helpers.go: SimulateScheduling`, NewUninitializedNodeError)
        let mut extra = Vec::new();
        for (node, ps) in &sol.existing {
            if self.uninitialized().contains(node) {
                for &p in ps {
                    let uid = sol.pods[p].uid;
                    if !scope.pending.contains(&uid) && !of_deleting.contains(&uid) {
                        extra.push((p, format!("would schedule against uninitialized node {node}")));
                    }
                }
            }
        }
        sol.errors.extend(extra);
        let failed_moves = sol
            .errors
            .iter()
            .filter(|(p, _)| !scope.pending.contains(&sol.pods[*p].uid))
            .map(|(p, e)| (sol.pods[*p].key(), e.clone()))
            .collect();
        Simulation { sol, failed_moves }
    }
}
