//! Where until-stable's commands find the pods they change without a pass over every pod of the
//! state. A round's command moves the pods of one or a few nodes, and `place` looked at every pod
//! of the cluster for them (a seventh of a drifted cluster's run).
//!
//! The pods a command changes are those bound to a removed node (the living ones are in the kept
//! pods by node, [`KeptPods`]; the finished ones are listed here) and those a bind names, which
//! are almost always among the former or the pending pods (a simulation moves the pods of the
//! nodes it removes and places pending ones). A bind found in neither, or a state where two pods
//! share a uid, makes `place` look at every pod as before.
//!
//! Exact because until-stable's state is written between rounds only by `place`, which never adds
//! a pod, keeps every position unless it removes pods (it reports which: the lists here shift),
//! and changes no uid and no pod's phase to a finished one. Debug builds check every command's
//! positions against a pass over every pod.

use crate::labels::{Sym, SymSet};
use crate::scheduling::{shift_after_removal, KeptPods};
use crate::state::ClusterState;

#[derive(Debug, Default)]
pub(super) struct PodIndex {
    /// Two pods of the state share a uid: a bind may name both, wherever they are.
    repeated_uids: bool,
    /// Finished pods bound to a node name, ascending: they go with a deleted node.
    finished_bound: Vec<usize>,
}

impl PodIndex {
    pub(super) fn of(state: &ClusterState) -> PodIndex {
        let mut uids = SymSet::with_capacity_and_hasher(state.pods.len(), Default::default());
        let repeated_uids = !state.pods.iter().all(|p| uids.insert(p.uid));
        let finished_bound = state.pods.iter().enumerate().filter(|(_, p)| p.node_name.is_some() && p.is_terminal()).map(|(i, _)| i).collect();
        PodIndex { repeated_uids, finished_bound }
    }

    /// Follow a `place` that removed the pods at `gone` (positions before, ascending).
    pub(super) fn patch(&mut self, gone: &[usize]) {
        shift_after_removal(&mut self.finished_bound, gone);
    }

    /// The positions, ascending, of the pods a `place` of `binds` and `remove` on `state` changes,
    /// found among the pods bound to the removed nodes (the living ones from `by_node`) and the
    /// pending ones (`pending`), both kept for the same state; `None` when some bind is not found
    /// there (then every pod is looked at).
    pub(super) fn touched(&self, state: &ClusterState, by_node: &KeptPods, pending: &[usize], binds: &[(Sym, super::Dest)], remove: &[Sym]) -> Option<Vec<usize>> {
        if self.repeated_uids {
            return None;
        }
        let mut at: Vec<usize> = Vec::new();
        for n in remove {
            at.extend(by_node.positions_of(state, *n));
        }
        if !remove.is_empty() {
            at.extend(self.finished_bound.iter().copied().filter(|&i| state.pods[i].node_name.is_some_and(|n| remove.contains(&n))));
        }
        if !binds.is_empty() {
            let named: SymSet = binds.iter().map(|(uid, _)| *uid).collect();
            // uids are unique: each bind names one pod, found once
            let found = at.iter().filter(|&&i| named.contains(&state.pods[i].uid)).count();
            let pending_named: Vec<usize> = pending.iter().copied().filter(|&i| named.contains(&state.pods[i].uid)).collect();
            if found + pending_named.len() < named.len() {
                return None;
            }
            at.extend(pending_named);
        }
        at.sort_unstable();
        at.dedup();
        if cfg!(debug_assertions) {
            // debug builds (the tests) check the positions against a pass over every pod
            let all: Vec<usize> = state
                .pods
                .iter()
                .enumerate()
                .filter(|(_, p)| p.node_name.is_some_and(|n| remove.contains(&n)) || binds.iter().any(|(u, _)| *u == p.uid))
                .map(|(i, _)| i)
                .collect();
            assert_eq!(at, all, "the pod index's positions are stale");
        }
        Some(at)
    }
}
