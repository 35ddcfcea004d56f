//! Where until-stable's commands find the pods they change without a pass over every pod of the
//! state: each pod's position by uid, and the positions of the finished pods bound to a node
//! (the pods by node, [`KeptPods`], hold the others). A round's command moves the pods of one or
//! a few nodes, and `place` looked at every pod of the cluster for them (a seventh of a drifted
//! cluster's run).
//!
//! Exact because until-stable's state is written between rounds only by `place`, which never adds
//! a pod, keeps every pod's position unless it removes pods (then this is built again), and
//! changes no pod's uid or phase other than making a bound pod pending or running. Debug builds
//! check every command's positions against a pass over every pod.

use crate::labels::{Sym, SymMap};
use crate::scheduling::KeptPods;
use crate::state::ClusterState;

#[derive(Debug, Default)]
pub(super) struct PodIndex {
    /// Each uid's first position in the state's pods.
    by_uid: SymMap<usize>,
    /// The later positions of uids that more than one pod has (a snapshot may repeat one).
    repeated: Vec<(Sym, usize)>,
    /// Finished pods bound to a node name, in any order: they go with a deleted node.
    finished_bound: Vec<usize>,
}

impl PodIndex {
    pub(super) fn of(state: &ClusterState) -> PodIndex {
        let mut index = PodIndex { by_uid: SymMap::with_capacity_and_hasher(state.pods.len(), Default::default()), ..PodIndex::default() };
        for (at, p) in state.pods.iter().enumerate() {
            if let Some(first) = index.by_uid.insert(p.uid, at) {
                // keep the first position in the map, the others aside
                index.by_uid.insert(p.uid, first);
                index.repeated.push((p.uid, at));
            }
            if p.node_name.is_some() && p.is_terminal() {
                index.finished_bound.push(at);
            }
        }
        index
    }

    /// Follow a `place` on `state` that removed pods (positions shifted): built again. Other
    /// changes keep every position, uid and finished pod where it was.
    pub(super) fn patch(&mut self, state: &ClusterState, removed_pods: bool) {
        if removed_pods {
            *self = PodIndex::of(state);
        }
    }

    /// The positions, ascending, of the pods a `place` of `binds` and `remove` on `state` looks
    /// at: those bound to a removed node (the living ones from `by_node`, kept for the same state)
    /// and those a bind names. `place` leaves every other pod as it is.
    pub(super) fn touched(&self, state: &ClusterState, by_node: &KeptPods, binds: &[(Sym, super::Dest)], remove: &[Sym]) -> Vec<usize> {
        let mut at: Vec<usize> = Vec::new();
        for n in remove {
            at.extend_from_slice(by_node.positions_of(*n));
        }
        if !remove.is_empty() {
            at.extend(self.finished_bound.iter().copied().filter(|&i| state.pods[i].node_name.is_some_and(|n| remove.contains(&n))));
        }
        for (uid, _) in binds {
            at.extend(self.by_uid.get(uid));
            if !self.repeated.is_empty() {
                at.extend(self.repeated.iter().filter(|(u, _)| u == uid).map(|(_, i)| *i));
            }
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
        at
    }
}
