//! `SimulateScheduling` (`disruption/helpers.go`; design §5.10): reschedule the candidates' pods,
//! together with pending pods, onto the cluster without the candidates.

use super::candidates::{last_pod_event, matching_pdbs, pdb_fully_blocks, pod_do_not_disrupt, Candidate};
use crate::labels::Sym;
use crate::model::{Pod, Timestamp};
use crate::scheduling::{schedule, ProvisionOptions, ScheduleScope, Solution};
use crate::state::ClusterState;
use std::collections::{BTreeMap, HashSet};

/// Per-round facts every simulation shares.
pub struct RoundCtx<'a> {
    pub state: &'a ClusterState,
    pub now: Timestamp,
    pub pods_by_node: BTreeMap<Sym, Vec<&'a Pod>>,
    /// Pods that were pending before this round.
    pub pending: Vec<&'a Pod>,
    /// Nodes being deleted (their pods must move too).
    pub deleting: Vec<Sym>,
    pub provisioning: ProvisionOptions,
}

pub struct Simulation<'a> {
    pub sol: Solution<'a>,
    /// Pods that had to move (not already pending) and could not be placed, with the reason.
    pub failed_moves: Vec<(String, String)>,
}

impl<'a> RoundCtx<'a> {
    /// "Currently reschedulable" pods of a node: reschedulable, not do-not-disrupt, not held by a
    /// PDB that forbids every eviction.
    fn movable(&self, node: Sym) -> impl Iterator<Item = &'a Pod> + '_ {
        self.pods_by_node.get(&node).into_iter().flatten().copied().filter(move |p| {
            p.is_reschedulable()
                && !pod_do_not_disrupt(p, self.now)
                && !matching_pdbs(p, &self.state.pdbs).iter().any(|b| pdb_fully_blocks(b))
        })
    }

    /// Nodes whose pool's consolidateAfter has not passed since their last pod event
    /// (`IsUnderConsolidateAfter`): not valid destinations for pods moved by consolidation.
    fn under_consolidate_after(&self) -> HashSet<Sym> {
        let mut out = HashSet::new();
        for n in &self.state.nodes {
            let Some(pool) = n.nodepool.and_then(|p| self.state.nodepools.iter().find(|x| x.name == p)) else { continue };
            let Some(after) = pool.disruption.consolidate_after else { continue };
            if after == 0 || !n.initialized {
                continue;
            }
            let pods = self.pods_by_node.get(&n.name).map(Vec::as_slice).unwrap_or(&[]);
            if self.now - last_pod_event(n, pods) < after {
                out.insert(n.name);
            }
        }
        out
    }

    pub fn simulate(&self, candidates: &[&Candidate<'a>], consolidation: bool) -> Simulation<'a> {
        let mut pods: Vec<&'a Pod> = self.pending.clone();
        for c in candidates {
            pods.extend(self.movable(c.name()));
        }
        for d in &self.deleting {
            pods.extend(self.movable(*d));
        }
        let mut removed: HashSet<Sym> = candidates.iter().map(|c| c.name()).collect();
        removed.extend(self.deleting.iter().copied());
        let scope = ScheduleScope {
            removed_nodes: removed,
            under_consolidate_after: if consolidation { self.under_consolidate_after() } else { HashSet::new() },
            pending: self.pending.iter().map(|p| p.uid).collect(),
        };
        let mut sol = schedule(self.state, pods, &scope, &self.provisioning);
        // moving pods onto a node that is not initialized yet counts as a failure
        let uninitialized: HashSet<Sym> = self.state.nodes.iter().filter(|n| !n.initialized).map(|n| n.name).collect();
        let mut extra = Vec::new();
        for (node, ps) in &sol.existing {
            if uninitialized.contains(node) {
                for &p in ps {
                    if !scope.pending.contains(&sol.pods[p].uid) {
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
