//! What until-stable's rounds keep from one round to the next: each node's `NodeFacts` (what a
//! candidate is made of, apart from the simulated time) and its parts of the round's scheduling
//! view (`KeptNodes`, `scheduling/cluster_view.rs`), forgotten for the nodes a command changed.
//!
//! Exact by construction: until-stable's state is its own copy, written between rounds only by
//! [`super::apply::place`], which reports every node whose record or pods it changed
//! ([`Changed`]); the facts of any other node are a function of things that did not change. Debug
//! builds (every test suite) check each round's candidates against a fresh build
//! ([`super::candidates::build`]) and each view built from kept parts against a fresh view.

use super::apply::{Changed, NodeAt, Placement, place_visiting};
use super::pod_index::PodIndex;
use super::candidates::FactsByNode;
use crate::labels::{Sym, SymSet};
use crate::model::{Pod, Timestamp};
use crate::scheduling::{BoundPods, KeptNodes, KeptPending, KeptPods};
use crate::state::ClusterState;

/// Each node's facts and view parts by name, kept across until-stable rounds.
pub struct KeptFacts {
    pub(super) nodes: FactsByNode,
    /// Taken by the round's view while it is built (`RoundCtx::view`).
    pub(super) views: std::cell::RefCell<KeptNodes>,
}

impl KeptFacts {
    /// Facts to keep for `state`'s rounds, or `None` when two nodes share a name (a name is the
    /// key; [`super::apply::place`] never makes such a pair, so a state without one keeps none).
    pub fn for_state(state: &ClusterState) -> Option<KeptFacts> {
        let mut names = SymSet::default();
        state.nodes.iter().all(|n| names.insert(n.name)).then(|| KeptFacts { nodes: FactsByNode::default(), views: Default::default() })
    }

    /// These facts indexing the nodes a quick round reads (`disruption/quick_index.rs`): for a caller
    /// that reports every change of its state to [`KeptFacts::forget`] (until-stable).
    pub(super) fn with_quick_index(mut self) -> KeptFacts {
        self.nodes = FactsByNode::with_quick_index();
        *self.views.get_mut() = KeptNodes::vouched();
        self
    }

    /// Each node's view parts, for views of the same state outside a round (the time simulator's
    /// provisioning batches), forgotten with the facts.
    pub(crate) fn views_mut(&mut self) -> &mut KeptNodes {
        self.views.get_mut()
    }

    /// The slot in the state's nodes of the node named `name`, as of the last round's view (its
    /// kept order's): until-stable's [`NodeAt`] for the commands of that round.
    pub(super) fn node_at(&self, name: Sym) -> Option<usize> {
        self.views.borrow().state_slot(name)
    }

    /// Forget what `changed` may have made stale.
    pub fn forget(&mut self, changed: &Changed) {
        let views = self.views.get_mut();
        if changed.reservations {
            self.nodes.clear();
            views.clear();
        } else {
            for n in &changed.nodes {
                self.nodes.forget(*n);
                views.forget(*n);
            }
        }
        // where the command left the nodes it gave pods, for the next quick round's look-up
        self.nodes.near(&changed.got_pods_at);
    }
}

/// What until-stable keeps of its state's pods between rounds: each node's pods and the pending
/// pods, as positions in the state's pods, patched from what [`super::apply::place`] reports
/// (`scheduling/bound_pods.rs`, `scheduling/mod.rs`). Kept with the facts: both key nodes by name.
#[derive(Debug)]
pub(super) struct KeptPodLists {
    by_node: KeptPods,
    pending: KeptPending,
    index: PodIndex,
}

impl KeptPodLists {
    pub(super) fn of(state: &ClusterState) -> KeptPodLists {
        KeptPodLists { by_node: KeptPods::of(state), pending: KeptPending::of(state), index: PodIndex::of(state) }
    }

    /// [`super::place`] on `state` (the state these lists were kept for), looking only at the pods
    /// it changes, and follow it.
    /// The nodes are found where `node_at` says ([`NodeAt`]).
    pub(super) fn place(&mut self, state: &mut ClusterState, placement: Placement, now: Timestamp, seq: &mut usize, node_at: Option<NodeAt>) -> Changed {
        let touched = self.index.touched(state, &self.by_node, self.pending.positions(), placement.binds, placement.remove);
        let changed = place_visiting(state, placement, now, seq, touched.as_deref(), node_at);
        self.patch(state, &changed);
        changed
    }

    /// Follow what `place` changed in `state`.
    pub(super) fn patch(&mut self, state: &ClusterState, changed: &Changed) {
        self.by_node.patch(state, &changed.pods, !changed.gone_pods.is_empty(), &changed.nodes);
        self.pending.patch(state, &changed.pods, &changed.launched, &changed.removed, &changed.gone_pods);
        self.index.patch(&changed.gone_pods);
    }

    /// The round's pods by node (borrowing these lists for the round) and pending pods of `state`.
    pub(super) fn round<'a>(&'a self, state: &'a ClusterState) -> (BoundPods<'a>, Vec<&'a Pod>) {
        (self.by_node.bound(state), self.pending.pods(state))
    }
}

#[cfg(test)]
mod tests {
    use super::super::apply::{place, place_visiting, Dest, NewNode, NodeAt, Placement};
    use super::super::candidates::build;
    use super::*;
    use crate::labels::Sym;
    use crate::scheduling::{bound_pods_by_node, ClusterView, KeptPods};
    use crate::model::Pod;

    use crate::fixtures::new_node_like as like;

    /// Moves every pod of node `from` to node `to`.
    fn move_all(state: &ClusterState, from: Sym, to: Sym) -> Vec<(Sym, Dest)> {
        state.pods.iter().filter(|p| p.node_name == Some(from)).map(|p| (p.uid, Dest::Existing(to))).collect()
    }

    /// `place` reports every node whose record or pods it changed (the removed node, the nodes that
    /// got pods, a node that lost pods without being removed), and facts kept across it, less
    /// what it reported, give the candidates a fresh build gives (`build` checks that itself in
    /// debug builds, the tests').
    #[test]
    fn facts_kept_across_a_command_are_those_of_a_fresh_build() {
        let mut state = crate::fixtures::karpenter_cluster(6, 3, 7);
        let n: Vec<Sym> = state.nodes.iter().map(|n| n.name).collect();
        let now = 7_200;
        let mut facts = KeptFacts::for_state(&state).expect("unique names");
        let pods = bound_pods_by_node(&state);
        let (before, _) = build(&state, &pods, now, Some(&mut facts.nodes));
        assert_eq!(before.len(), 6);
        let mut binds = move_all(&state, n[0], n[1]);
        // a pod of a node that stays (one being deleted, in a simulation) moves too
        binds.extend(move_all(&state, n[2], n[3]));
        let changed = place(&mut state, &[], &binds, &[n[0]], now, &mut 0);
        assert_eq!(changed.nodes, [n[0], n[1], n[2], n[3]].into_iter().collect::<SymSet>());
        assert!(!changed.reservations);
        facts.forget(&changed);
        let pods = bound_pods_by_node(&state);
        let (after, _) = build(&state, &pods, now, Some(&mut facts.nodes));
        let of = |name: Sym| after.iter().find(|c| c.name() == name).expect("candidate");
        assert_eq!((after.len(), of(n[1]).reschedulable.len(), of(n[2]).reschedulable.len()), (5, 6, 0));
        assert!(of(n[2]).reschedule_cost < of(n[1]).reschedule_cost);
    }

    /// The debug check catches kept facts that a change was not reported for.
    #[test]
    #[cfg(debug_assertions)]
    #[should_panic(expected = "are stale")]
    fn facts_of_a_change_not_reported_are_caught() {
        let mut state = crate::fixtures::karpenter_cluster(4, 2, 3);
        let n: Vec<Sym> = state.nodes.iter().map(|n| n.name).collect();
        let mut facts = KeptFacts::for_state(&state).expect("unique names");
        build(&state, &bound_pods_by_node(&state), 7_200, Some(&mut facts.nodes));
        let binds = move_all(&state, n[0], n[1]);
        let _forgotten = place(&mut state, &[], &binds, &[n[0]], 7_200, &mut 0);
        build(&state, &bound_pods_by_node(&state), 7_200, Some(&mut facts.nodes));
    }

    /// A view built from view parts kept across a command (less the nodes it reported) is the
    /// fresh view (`with_kept_borrowed` checks that itself in debug builds): the node that got pods has
    /// them and less room.
    #[test]
    fn view_parts_kept_across_a_command_are_those_of_a_fresh_view() {
        let mut state = crate::fixtures::karpenter_cluster(4, 2, 3);
        let n: Vec<Sym> = state.nodes.iter().map(|n| n.name).collect();
        let mut views = KeptNodes::default();
        let room = |v: &ClusterView, name: Sym| v.nodes().find(|x| x.node.name == name).map(|x| (x.pods().len(), x.room.remaining.cpu)).expect("node");
        let pods = bound_pods_by_node(&state);
        let before = room(&ClusterView::with_kept_borrowed(&state, Default::default(), &pods, Some((&mut views).into())), n[1]);
        let binds = move_all(&state, n[0], n[1]);
        let changed = place(&mut state, &[], &binds, &[n[0]], 7_200, &mut 0);
        for c in &changed.nodes {
            views.forget(*c);
        }
        let pods = bound_pods_by_node(&state);
        let after = room(&ClusterView::with_kept_borrowed(&state, Default::default(), &pods, Some((&mut views).into())), n[1]);
        assert_eq!((before.0, after.0), (2, 4));
        assert!(after.1 < before.1);
    }

    /// A view built from view parts kept across commands that delete a node (its pods moving to
    /// another), replace one (a new node taking its pods), move pods off a node that stays and
    /// remove an uninitialized node, each followed by forgetting what `place` reported, is the
    /// fresh view: the same nodes in the same order with the same rooms, pods (by address) and
    /// anti-affinity pods. Nodes initialized and not, and a pod with required anti-affinity.
    #[test]
    fn a_view_kept_across_delete_replace_and_move_is_the_fresh_view() {
        let mut state = crate::fixtures::karpenter_cluster(7, 3, 11);
        state.nodes[5].initialized = false;
        state.nodes[6].initialized = false;
        let n: Vec<Sym> = state.nodes.iter().map(|n| n.name).collect();
        let term = crate::model::PodAffinityTerm {
            label_selector: None,
            namespaces: Vec::new(),
            namespace_selector: None,
            topology_key: *crate::labels::HOSTNAME,
            match_label_keys: Vec::new(),
            mismatch_label_keys: Vec::new(),
        };
        let anti = state.pods.iter().position(|p| p.node_name == Some(n[3])).expect("a pod on node 3");
        state.pods[anti].affinity.pod_anti_affinity_required.push(term);
        let mut views = KeptNodes::default();
        let check = |state: &ClusterState, views: &mut KeptNodes| {
            let pods = bound_pods_by_node(state);
            let kept = ClusterView::with_kept_borrowed(state, Default::default(), &pods, Some(views.into()));
            kept.assert_same_nodes(&ClusterView::with_kept_borrowed(state, Default::default(), &pods, None));
            kept.nodes().map(|v| v.node.name).collect::<Vec<_>>()
        };
        check(&state, &mut views);
        let old = &state.nodes[2];
        let replacement = NewNode {
            nodepool: old.nodepool.expect("managed"),
            instance_type: old.instance_type.expect("typed"),
            zone: old.zone.expect("zoned"),
            capacity_type: old.capacity_type.expect("capacity type"),
            price: 0.1,
            labels: (*old.labels).clone(),
            allocatable: old.allocatable.clone(),
            capacity: old.capacity.clone(),
            reservation_id: None,
        };
        let to = |from: Sym, dest: Dest| state.pods.iter().filter(|p| p.node_name == Some(from)).map(|p| (p.uid, dest.clone())).collect::<Vec<_>>();
        let commands = [
            (Vec::new(), to(n[0], Dest::Existing(n[1])), vec![n[0]]),
            (vec![replacement], to(n[2], Dest::Replacement(0)), vec![n[2]]),
            (Vec::new(), to(n[3], Dest::Existing(n[5])), Vec::new()),
            (Vec::new(), Vec::new(), vec![n[6]]),
        ];
        for (i, (new_nodes, binds, remove)) in commands.into_iter().enumerate() {
            let changed = place(&mut state, &new_nodes, &binds, &remove, 7_200, &mut 0);
            for c in &changed.nodes {
                views.forget(*c);
            }
            let names = check(&state, &mut views);
            assert!(!names.iter().any(|x| remove.contains(x)), "command {i}");
        }
        // each command's nodes were patched into the kept order, not sorted again
        assert_eq!(views.sorts(), 1);
        assert_eq!(state.pods.iter().filter(|p| p.node_name == Some(n[5])).count(), 6);
    }

    /// The debug check catches view parts kept for a node whose pods changed.
    #[test]
    #[cfg(debug_assertions)]
    #[should_panic(expected = "kept view parts")]
    fn view_parts_of_a_change_not_reported_are_caught() {
        let mut state = crate::fixtures::karpenter_cluster(4, 2, 3);
        let n: Vec<Sym> = state.nodes.iter().map(|n| n.name).collect();
        let mut views = KeptNodes::default();
        let pods = bound_pods_by_node(&state);
        ClusterView::with_kept_borrowed(&state, Default::default(), &pods, Some((&mut views).into()));
        let binds = move_all(&state, n[0], n[1]);
        let _forgotten = place(&mut state, &[], &binds, &[n[0]], 7_200, &mut 0);
        let pods = bound_pods_by_node(&state);
        ClusterView::with_kept_borrowed(&state, Default::default(), &pods, Some((&mut views).into()));
    }

    /// The pods by node and the pending pods kept across commands, patched from what `place`
    /// reports, are each time those of a fresh build (by address): a node replaced by a new one
    /// (its pods moved there; a pod bound to the new node's name before it existed, pending until
    /// then, is pending no longer), pods of a node that stays moved and a node deleted with no room
    /// for its pods (they become pending), a node deleted with a DaemonSet pod that goes with it
    /// (positions shift).
    #[test]
    fn pod_lists_kept_across_commands_are_a_fresh_build() {
        let mut state = crate::fixtures::karpenter_cluster(6, 3, 7);
        let n: Vec<Sym> = state.nodes.iter().map(|n| n.name).collect();
        let ds = state.pods.iter().position(|p| p.node_name == Some(n[4])).expect("a pod on node 4");
        state.pods[ds].owner = Some(crate::model::OwnerRef { kind: crate::model::OwnerKind::DaemonSet, name: Sym::new("logs") });
        let launched = Sym::new("default-karpsim-1");
        let orphan = state.pods.iter().position(|p| p.node_name == Some(n[5])).expect("a pod on node 5");
        state.pods[orphan].node_name = Some(launched);
        let mut kept = KeptPodLists::of(&state);
        let ptrs = |pods: &[&Pod]| pods.iter().map(|p| std::ptr::from_ref::<Pod>(p)).collect::<Vec<_>>();
        let same = |kept: &KeptPodLists, state: &ClusterState, names: &[Sym]| {
            let ((a, pending), b) = (kept.round(state), bound_pods_by_node(state));
            for name in names {
                assert_eq!(ptrs(a.get(name).unwrap_or(&[])), ptrs(b.get(name).unwrap_or(&[])), "node {name}");
            }
            assert_eq!(ptrs(&pending), ptrs(&crate::scheduling::pending_pods(state, &mut Vec::new())));
            pending.len()
        };
        let orphans_pending = same(&kept, &state, &n);
        let new = like(&state.nodes[0]);
        let binds: Vec<(Sym, Dest)> = move_all(&state, n[0], n[0]).into_iter().map(|(uid, _)| (uid, Dest::Replacement(0))).collect();
        let mut seq = 0;
        let replaced = place(&mut state, &[new], &binds, &[n[0]], 7_200, &mut seq);
        assert!(replaced.gone_pods.is_empty());
        assert_eq!(state.nodes.last().map(|n| n.name), Some(launched));
        kept.patch(&state, &replaced);
        assert_eq!(same(&kept, &state, &[n[0], launched]), orphans_pending - 1);
        let binds = move_all(&state, n[2], n[3]);
        let moved = place(&mut state, &[], &binds, &[n[1]], 7_200, &mut seq);
        assert_eq!(moved.pods.len(), 6);
        kept.patch(&state, &moved);
        assert_eq!(same(&kept, &state, &n), orphans_pending - 1 + 3);
        let binds = move_all(&state, n[4], n[5]);
        let deleted = place(&mut state, &[], &binds, &[n[4]], 7_200, &mut seq);
        assert!(!deleted.gone_pods.is_empty());
        kept.patch(&state, &deleted);
        same(&kept, &state, &[&n[..], &[launched]].concat());
        assert_eq!(kept.round(&state).0.get(&n[5]).map(<[_]>::len), Some(4));
    }

    /// The kept pods by node, pending pods and pod index equal a fresh build after every command,
    /// with pods removed at scattered positions: every node has a DaemonSet pod (it goes with its
    /// node) and the nodes' pods are interleaved in the state's order, so a command's removed pods
    /// lie among other nodes' pods. Commands: two nodes deleted at once (their pods moved to a node
    /// that stays), a node replaced (its pods to the new node), pods moved between nodes that
    /// stay, the node holding every moved pod deleted (its pods pending), the last node deleted.
    #[test]
    fn pod_lists_kept_across_scattered_removals_are_a_fresh_build() {
        let mut state = crate::fixtures::karpenter_cluster(8, 3, 11);
        let n: Vec<Sym> = state.nodes.iter().map(|n| n.name).collect();
        // interleave: every node's first pods, then their second ones, then their third ones
        state.pods.sort_by_key(|p| state_rank(p, &n));
        for (i, name) in n.iter().enumerate() {
            let at = state.pods.iter().position(|p| p.node_name == Some(*name)).expect("a pod on the node");
            state.pods[at].owner = Some(crate::model::OwnerRef { kind: crate::model::OwnerKind::DaemonSet, name: Sym::new(&format!("logs-{i}")) });
        }
        let mut kept = KeptPodLists::of(&state);
        let ptrs = |pods: &[&Pod]| pods.iter().map(|p| std::ptr::from_ref::<Pod>(p)).collect::<Vec<_>>();
        let check = |kept: &KeptPodLists, state: &ClusterState, step: &str| {
            let ((a, pending), b) = (kept.round(state), bound_pods_by_node(state));
            let all: Vec<Sym> = state.nodes.iter().map(|n| n.name).chain(n.iter().copied()).collect();
            for name in &all {
                assert_eq!(ptrs(a.get(name).unwrap_or(&[])), ptrs(b.get(name).unwrap_or(&[])), "{step}: node {name}");
            }
            assert_eq!(ptrs(&pending), ptrs(&crate::scheduling::pending_pods(state, &mut Vec::new())), "{step}");
            let fresh = KeptPodLists::of(state);
            assert_eq!(kept.index.touched(state, &kept.by_node, kept.pending.positions(), &[], &all), fresh.index.touched(state, &fresh.by_node, fresh.pending.positions(), &[], &all), "{step}");
        };
        check(&kept, &state, "built");
        let mut seq = 0;
        let pods_before = state.pods.len();
        let binds = [move_all(&state, n[1], n[2]), move_all(&state, n[5], n[2])].concat();
        let two = kept.place(&mut state, Placement { new_nodes: &[], binds: &binds, remove: &[n[1], n[5]] }, 7_200, &mut seq, None);
        assert_eq!(two.gone_pods.len(), 2);
        assert_eq!(state.pods.len(), pods_before - 2);
        check(&kept, &state, "two nodes deleted");
        let new = like(&state.nodes[0]);
        let binds: Vec<(Sym, Dest)> = move_all(&state, n[0], n[0]).into_iter().map(|(uid, _)| (uid, Dest::Replacement(0))).collect();
        let replaced = kept.place(&mut state, Placement { new_nodes: &[new], binds: &binds, remove: &[n[0]] }, 7_200, &mut seq, None);
        assert_eq!(replaced.gone_pods.len(), 1);
        check(&kept, &state, "replaced");
        let binds = move_all(&state, n[3], n[4]);
        let moved = kept.place(&mut state, Placement { new_nodes: &[], binds: &binds, remove: &[] }, 7_200, &mut seq, None);
        assert!(moved.gone_pods.is_empty() && !moved.pods.is_empty());
        check(&kept, &state, "moved");
        let deleted = kept.place(&mut state, Placement { new_nodes: &[], binds: &[], remove: &[n[2]] }, 7_200, &mut seq, None);
        assert_eq!(deleted.gone_pods.len(), 1);
        check(&kept, &state, "deleted, pods pending");
        let last = kept.place(&mut state, Placement { new_nodes: &[], binds: &[], remove: &[n[7]] }, 7_200, &mut seq, None);
        assert_eq!(last.gone_pods.len(), 1);
        check(&kept, &state, "last deleted");
        assert!(!kept.round(&state).1.is_empty());
    }

    /// A pod's rank in an interleaved order: its index among its node's pods, then its node's.
    fn state_rank(p: &Pod, nodes: &[Sym]) -> (usize, usize) {
        let node = nodes.iter().position(|n| Some(*n) == p.node_name).unwrap_or(nodes.len());
        let within = p.name.as_str().rsplit('-').next().and_then(|s| s.parse().ok()).unwrap_or(0);
        (within, node)
    }

    /// The debug check catches pods by node kept across a move that was not reported.
    #[test]
    #[cfg(debug_assertions)]
    #[should_panic(expected = "are stale")]
    fn pods_by_node_of_a_move_not_reported_are_caught() {
        let mut state = crate::fixtures::karpenter_cluster(4, 2, 3);
        let n: Vec<Sym> = state.nodes.iter().map(|n| n.name).collect();
        let kept = KeptPods::of(&state);
        let binds = move_all(&state, n[0], n[1]);
        let _unreported = place(&mut state, &[], &binds, &[], 7_200, &mut 0);
        kept.bound(&state);
    }

    /// The debug check catches a pending list kept across pods made pending without a report.
    #[test]
    #[cfg(debug_assertions)]
    #[should_panic(expected = "kept pending pods are stale")]
    fn pending_pods_made_pending_without_a_report_are_caught() {
        let mut state = crate::fixtures::karpenter_cluster(4, 2, 3);
        let n0 = state.nodes[0].name;
        let kept = crate::scheduling::KeptPending::of(&state);
        let _unreported = place(&mut state, &[], &[], &[n0], 7_200, &mut 0);
        kept.pods(&state);
    }

    /// `KeptPodLists::place`, which looks only at the pods its index names, changes a state as
    /// `place` does and reports the same, command after command (the index's debug check compares
    /// its positions with a pass over every pod): a node replaced, pods of a node that stays moved
    /// while a node is deleted (its pods made pending), a node deleted with a DaemonSet pod and a
    /// finished pod that go with it (positions shift), pending pods placed, a bind of no pod.
    /// Once with unique uids, once with a uid two pods share (every pod looked at).
    #[test]
    fn placing_through_the_kept_lists_is_place() {
        for twins in [false, true] {
            let mut state = crate::fixtures::karpenter_cluster(6, 3, 7);
            let n: Vec<Sym> = state.nodes.iter().map(|n| n.name).collect();
            let on = |state: &ClusterState, node: Sym| state.pods.iter().position(|p| p.node_name == Some(node)).expect("a pod on the node");
            let ds = on(&state, n[4]);
            state.pods[ds].owner = Some(crate::model::OwnerRef { kind: crate::model::OwnerKind::DaemonSet, name: Sym::new("logs") });
            let done = state.pods.iter().enumerate().filter(|(_, p)| p.node_name == Some(n[4])).map(|(i, _)| i).last().expect("pods on node 4");
            state.pods[done].phase = crate::model::PodPhase::Succeeded;
            if twins {
                let twin = on(&state, n[5]);
                state.pods[twin].uid = state.pods[on(&state, n[3])].uid;
            }
            let new = like(&state.nodes[0]);
            let to_new: Vec<(Sym, Dest)> = move_all(&state, n[0], n[0]).into_iter().map(|(uid, _)| (uid, Dest::Replacement(0))).collect();
            let nowhere = vec![(Sym::new("no-such-pod"), Dest::Existing(n[2]))];
            let commands = [
                (vec![new], to_new, vec![n[0]]),
                (Vec::new(), move_all(&state, n[2], n[3]), vec![n[1]]),
                (Vec::new(), move_all(&state, n[4], n[5]), vec![n[4]]),
                (Vec::new(), move_all(&state, n[1], n[2]), Vec::new()),
                (Vec::new(), move_all(&state, n[3], n[2]), Vec::new()),
                (Vec::new(), nowhere, Vec::new()),
            ];
            let mut plain = state.clone();
            let mut kept = KeptPodLists::of(&state);
            let (mut seq, mut plain_seq) = (0, 0);
            let pods = |s: &ClusterState| s.pods.iter().map(|p| (p.uid, p.node_name, p.phase, p.start_time)).collect::<Vec<_>>();
            let names = |s: &ClusterState| s.nodes.iter().map(|n| (n.name, n.last_pod_event)).collect::<Vec<_>>();
            for (i, (new_nodes, binds, remove)) in commands.into_iter().enumerate() {
                let a = kept.place(&mut state, Placement { new_nodes: &new_nodes, binds: &binds, remove: &remove }, 7_200, &mut seq, None);
                let b = place(&mut plain, &new_nodes, &binds, &remove, 7_200, &mut plain_seq);
                let report = |c: &Changed| (c.nodes.clone(), c.pods.clone(), c.gone_pods.clone(), c.launched.clone(), c.removed.clone());
                assert_eq!(report(&a), report(&b), "command {i}");
                assert_eq!(pods(&state), pods(&plain), "command {i}");
                assert_eq!(names(&state), names(&plain), "command {i}");
                assert_eq!(a.gone_pods.len(), if i == 2 { 2 } else { 0 }, "command {i}");
            }
            // node 2: its three pods went to node 3 and came back, with node 1's three
            assert_eq!(state.pods.iter().filter(|p| p.node_name == Some(n[2])).count(), 6 + usize::from(twins));
            let (bound, pending) = kept.round(&state);
            assert_eq!(bound.get(&n[2]).map(<[_]>::len), Some(6 + usize::from(twins)));
            assert!(pending.is_empty());
        }
    }

    /// `place` removes nodes by their kept names and finds the nodes it gave pods where it
    /// launched them (or by a scan of the names), and leaves what the passes over every node it
    /// replaced left: the same nodes in the same order (those of `remove` gone, by `retain`), the
    /// same removed names, pod events at the positions a pass finds, the kept names current and
    /// equal to a fresh read, command after command: a node replaced (its pods to the new node),
    /// pods of a node that stays moved while another is deleted, a launched node removed by the
    /// same command, a node renamed through `IndexMut` (the names stale) to share a name with
    /// another, then both removed, pods moved to a node launched two commands before.
    #[test]
    fn placing_by_kept_names_is_the_passes_over_every_node() {
        let mut state = crate::fixtures::karpenter_cluster(6, 3, 7);
        let n: Vec<Sym> = state.nodes.iter().map(|n| n.name).collect();
        let to = |state: &ClusterState, from: Sym, dest: Dest| -> Vec<(Sym, Dest)> {
            state.pods.iter().filter(|p| p.node_name == Some(from)).map(|p| (p.uid, dest.clone())).collect()
        };
        let mut seq = 0;
        let mut run = |state: &mut ClusterState, new_nodes: &[NewNode], binds: &[(Sym, Dest)], remove: &[Sym], now: Timestamp, step: &str| {
            let before: Vec<Sym> = state.nodes.iter().map(|n| n.name).collect();
            let changed = place(state, new_nodes, binds, remove, now, &mut seq);
            let all: Vec<Sym> = before.iter().chain(&changed.launched).copied().collect();
            let after: Vec<Sym> = state.nodes.iter().map(|n| n.name).collect();
            assert_eq!(after, all.iter().copied().filter(|x| !remove.contains(x)).collect::<Vec<_>>(), "{step}");
            assert_eq!(changed.removed, all.iter().copied().filter(|x| remove.contains(x)).collect::<Vec<_>>(), "{step}");
            let got: SymSet = changed.pods.iter().filter_map(|&(at, _)| state.pods[at].node_name).collect();
            let events: Vec<usize> = (0..state.nodes.len()).filter(|&at| got.contains(&state.nodes[at].name)).collect();
            assert_eq!(changed.got_pods_at, events, "{step}");
            assert!(events.iter().all(|&at| state.nodes[at].last_pod_event == Some(now)), "{step}");
            assert_eq!(state.nodes.kept_names().as_deref(), Some(&after[..]), "{step}");
            changed
        };
        let binds: Vec<(Sym, Dest)> = to(&state, n[0], Dest::Replacement(0));
        let new = like(&state.nodes[0]);
        let replaced = run(&mut state, &[new], &binds, &[n[0]], 7_201, "replaced");
        assert_eq!(replaced.got_pods_at, [state.nodes.len() - 1]);
        let binds = to(&state, n[2], Dest::Existing(n[3]));
        let moved = run(&mut state, &[], &binds, &[n[1]], 7_202, "moved");
        assert_eq!(moved.got_pods_at, [1]);
        let doomed = Sym::new("default-karpsim-2");
        let binds = to(&state, n[4], Dest::Replacement(0));
        let new = like(&state.nodes[0]);
        let gone = run(&mut state, &[new], &binds, &[doomed, n[4]], 7_203, "launched and removed");
        assert_eq!((gone.launched, gone.got_pods_at.len()), (vec![doomed], 0));
        state.nodes[0].name = n[5];
        assert!(state.nodes.kept_names().is_none());
        let twins = run(&mut state, &[], &[], &[n[5]], 7_204, "two of one name");
        assert_eq!(twins.removed, [n[5], n[5]]);
        let launched = replaced.launched[0];
        let binds = to(&state, n[3], Dest::Existing(launched));
        let last = run(&mut state, &[], &binds, &[], 7_205, "to a launched node");
        assert_eq!(last.got_pods_at, [state.nodes.len() - 1]);
    }

    /// `place` given where the nodes are (until-stable's kept view positions, `NodeAt`) changes
    /// the state and reports as `place` does, whether those positions are right, wrong (one off:
    /// each is checked by its name and the names scanned instead) or missing, command after
    /// command: a node replaced, pods moved to a node that stays while another is deleted, a node
    /// launched and removed by the same command, pods moved to a node launched before, two nodes
    /// removed at once.
    #[test]
    fn placing_where_the_view_says_the_nodes_are_is_place() {
        let state = crate::fixtures::karpenter_cluster(8, 3, 7);
        let n: Vec<Sym> = state.nodes.iter().map(|n| n.name).collect();
        let launched = Sym::new("default-karpsim-1");
        // what a command launches, binds and removes
        type Command = (Vec<NewNode>, Vec<(Sym, Dest)>, Vec<Sym>);
        let commands = |s: &ClusterState| -> Vec<Command> {
            let to_new = move_all(s, n[0], n[0]).into_iter().map(|(uid, _)| (uid, Dest::Replacement(0))).collect();
            vec![
                (vec![like(&s.nodes[0])], to_new, vec![n[0]]),
                (Vec::new(), move_all(s, n[2], n[3]), vec![n[1]]),
                (vec![like(&s.nodes[0])], move_all(s, n[4], n[5]), vec![Sym::new("default-karpsim-2"), n[4]]),
                (Vec::new(), move_all(s, n[5], launched), Vec::new()),
                (Vec::new(), move_all(s, n[6], n[3]).into_iter().chain(move_all(s, n[7], launched)).collect(), vec![n[6], n[7]]),
            ]
        };
        let mut plain = state.clone();
        let mut plain_seq = 0;
        let mut runs: Vec<(ClusterState, usize)> = vec![(state.clone(), 0); 3];
        let report = |c: &Changed| (c.nodes.clone(), c.pods.clone(), c.gone_pods.clone(), c.launched.clone(), c.removed.clone(), c.got_pods_at.clone());
        for i in 0..5 {
            let (new_nodes, binds, remove) = commands(&plain).swap_remove(i);
            let expected = place(&mut plain, &new_nodes, &binds, &remove, 7_200 + i as i64, &mut plain_seq);
            for (how, (s, seq)) in runs.iter_mut().enumerate() {
                let (new_nodes, binds, remove) = commands(s).swap_remove(i);
                let before: Vec<Sym> = s.nodes.iter().map(|n| n.name).collect();
                let at = move |name: Sym| before.iter().position(|&b| b == name).map(|p| p + usize::from(how == 1));
                let node_at: Option<NodeAt> = if how == 2 { None } else { Some(&at) };
                let changed = place_visiting(s, Placement { new_nodes: &new_nodes, binds: &binds, remove: &remove }, 7_200 + i as i64, seq, None, node_at);
                assert_eq!(report(&changed), report(&expected), "command {i}, positions {how}");
                assert!(s.nodes.iter().eq(plain.nodes.iter()), "command {i}, positions {how}");
                assert!(s.pods.iter().eq(plain.pods.iter()), "command {i}, positions {how}");
            }
        }
        assert_eq!(plain.nodes.len(), 4);
    }

    /// Two nodes of one name would share one entry: such a state keeps nothing.
    #[test]
    fn a_state_with_two_nodes_of_one_name_keeps_nothing() {
        let mut state = crate::fixtures::karpenter_cluster(2, 1, 3);
        assert!(KeptFacts::for_state(&state).is_some());
        state.nodes[1].name = state.nodes[0].name;
        assert!(KeptFacts::for_state(&state).is_none());
    }

    /// A launched node takes the next `<nodepool>-karpsim-<n>` no node has: past a node of the
    /// state with that name, and not past a name something interned that no node has.
    #[test]
    fn a_launched_node_takes_the_next_name_no_node_has() {
        let mut state = crate::fixtures::karpenter_cluster(3, 1, 2);
        let pool = "launch-names-pool";
        state.nodes.update(0, |n| n.name = Sym::new(&format!("{pool}-karpsim-1")));
        let _interned_only = Sym::new(&format!("{pool}-karpsim-3"));
        let new = NewNode { nodepool: Sym::new(pool), ..like(&state.nodes[1]) };
        let mut seq = 0;
        let changed = place(&mut state, &[new.clone(), new.clone(), new], &[], &[], 7_200, &mut seq);
        let names: Vec<&str> = changed.launched.iter().map(|n| n.as_str()).collect();
        assert_eq!(names, [format!("{pool}-karpsim-2"), format!("{pool}-karpsim-3"), format!("{pool}-karpsim-4")]);
        assert_eq!(seq, 4);
    }
}
