//! [`KeptNodes`]: what the views of one state keep from one to the next (until-stable's rounds,
//! the time simulator's batches and rounds): every node in Karpenter's existing-node order, with
//! the room its view derived, brought up to date with the state from the names the owner reports.
//!
//! A view's nodes are the state's active nodes sorted by (initialized, name)
//! (`sortExistingNodes`). Sorting every node again, and looking each one's kept room up by name,
//! at every round of a drifted cluster (where each round changes two nodes of thousands) was most
//! of the view. Here the order is patched for the reported names (binary search, a removal or an
//! insertion in one chunk of a [`Chunked`] order) and checked against the state in one pass of
//! comparisons before every view: any mismatch (a writer that reorders the state's nodes, or
//! removes one without reporting it) sorts the order again, so the view's order is always the
//! state's sorted order. Each entry holds its node's slot in the state's nodes
//! (`state::BoxList::slot_of`), which a removal from the state leaves as it is (the positions
//! after it move down, and shifting every entry's position at every removal was a pass over the
//! order a round); a new layout of the state's nodes (their gaps closed) sorts the order again.

use super::chunked::Chunked;
use super::room::NodeRoom;
use super::room_blocks::{self, Block, Free, UNKNOWN};
use crate::labels::{Sym, SymMap, SymSet};
use crate::model::Node;
use crate::state::gap_list::Layout;
use crate::state::ClusterState;
use std::cmp::Ordering;
use std::sync::Arc;

/// Each node's [`NodeRoom`], kept across the views of one state ([`super::ClusterView::with_kept_borrowed`]),
/// with every node of the state in the views' order. The owner tells this which nodes changed
/// ([`KeptNodes::forget`]); nodes with volume limits keep no room (their attachments are worked
/// out each time). A view built from these borrows the order for its nodes rather than listing
/// them: building a view costs what changed since the last one, not a pass over every node.
#[derive(Default)]
pub(crate) struct KeptNodes {
    /// Every node of the state (being deleted or not), initialized first, then by name, with the
    /// four free amounts of its room ([`UNKNOWN`] without a kept room) side by side in each chunk:
    /// the chunks are the room blocks of a view whose entries are all active (at 10,000 nodes,
    /// reading the amounts through the rooms was an eighth of a drifted until-stable run).
    order: Chunked<KeptNode>,
    /// Names forgotten since `order` last followed the state.
    changed: Vec<Sym>,
    /// More names were forgotten than a patch takes: their rooms are gone, and the order is
    /// sorted again before the next view.
    unsorted: bool,
    /// How many times `order` was sorted from the state (tests: a patch that fell back).
    sorts: usize,
    /// How many entries of `order` are being deleted (not a view's nodes).
    inactive: usize,
    /// The nodes whose room is not kept (their CSINode limits volumes): worked out for every view.
    unkept: SymSet,
    /// The nodes whose kept room has a pod with required anti-affinity (a view lists their pods).
    anti: SymSet,
    /// The layout of the state's nodes, and how many slots they had, when the order last followed
    /// them (its slots are of that layout; the slots from that count on hold the nodes launched
    /// since).
    layout: Option<Layout>,
    slots: usize,
    /// The owner reports every write to the state's nodes (until-stable, whose only writer is
    /// `disruption/apply.rs: place`): release builds then take the patched order as it is, rather
    /// than compare every entry with the state before every view (debug builds still do, and a
    /// write that was not reported fails them).
    vouched: bool,
}

/// One node of the state in [`KeptNodes::order`]: its sort key and its room (where it is in the
/// state is kept beside it, in its chunk).
struct KeptNode {
    initialized: bool,
    name: Sym,
    /// Not being deleted (only those are a view's nodes).
    active: bool,
    room: Option<Arc<NodeRoom>>,
}

impl KeptNode {
    fn of(node: &Node, room: Option<Arc<NodeRoom>>) -> KeptNode {
        KeptNode { initialized: node.initialized, name: node.name, active: node.deletion_timestamp.is_none(), room }
    }

    /// Its room's free amounts ([`UNKNOWN`] without a kept room: its block is never passed).
    fn free(&self) -> Free {
        self.room.as_ref().map_or(UNKNOWN, |r| room_blocks::free_of(&r.remaining))
    }

    /// The views' order: initialized first, then by name.
    fn cmp_key(&self, initialized: bool, name: Sym) -> Ordering {
        initialized.cmp(&self.initialized).then_with(|| self.name.cmp(&name))
    }

    /// Whether this still describes `node` (its key, whether it is being deleted).
    fn describes(&self, node: &Node) -> bool {
        self.name == node.name && self.initialized == node.initialized && self.active == node.deletion_timestamp.is_none()
    }
}

/// How many reported names a patch takes (beyond them, sorting again costs about as much).
const MAX_PATCHED: usize = 64;

impl KeptNodes {
    /// An order for an owner that reports every write to its state's nodes ([`KeptNodes::vouched`]).
    pub(crate) fn vouched() -> KeptNodes {
        KeptNodes { vouched: true, ..KeptNodes::default() }
    }

    /// Forget `node`: its record or its pods changed (or it was launched, or it is gone).
    pub(crate) fn forget(&mut self, node: Sym) {
        if !self.unsorted {
            self.changed.push(node);
            if self.changed.len() <= MAX_PATCHED {
                return;
            }
            // too many to patch (a simulation whose views are seldom built reports every change
            // in between): forget their rooms now rather than keep every name until the next view
            self.unsorted = true;
            for name in std::mem::take(&mut self.changed) {
                self.forget_room(name);
            }
        } else {
            self.forget_room(node);
        }
    }

    /// Drop the room of the node named `name` (the order holds each name once).
    fn forget_room(&mut self, name: Sym) {
        if let Some(i) = self.position(name) {
            self.order.get_mut(i).room = None;
            self.order.set_free(i, UNKNOWN);
        }
    }

    /// How many times the order was sorted from the state rather than patched.
    #[cfg(test)]
    pub(crate) fn sorts(&self) -> usize {
        self.sorts
    }

    pub(crate) fn clear(&mut self) {
        self.order = Chunked::default();
        self.changed.clear();
        self.unsorted = false;
        self.inactive = 0;
        self.unkept.clear();
        self.anti.clear();
        self.layout = None;
    }

    /// Bring the order up to date with `state` for a view, and say which of its active entries
    /// have no kept room (positions in the order, ascending): the view works those out, and keeps
    /// them with [`KeptNodes::keep`].
    pub(super) fn prepare(&mut self, state: &ClusterState) -> Vec<usize> {
        let same_layout = self.layout == Some(state.nodes.layout());
        let patched = !self.order.is_empty() && !self.unsorted && same_layout && self.patch(state);
        let follows = patched && self.order.len() == state.nodes.len();
        // one pass of comparisons: the order is the state's, whatever wrote the state (an owner
        // that reports every write is trusted in release builds, and checked in debug builds)
        let checked = follows && (self.vouched && !cfg!(debug_assertions) || self.order.iter_at().all(|(e, slot)| state.nodes.get_slot(slot as usize).is_some_and(|n| e.describes(n))));
        debug_assert!(!(follows && self.vouched) || checked, "the state's nodes changed without a report: the kept view order does not follow them");
        let missing = if checked {
            let mut missing: Vec<usize> = self.changed.iter().chain(&self.unkept).filter_map(|&name| self.position(name)).collect();
            missing.retain(|&i| {
                let e = self.order.get(i);
                e.active && e.room.is_none()
            });
            missing.sort_unstable();
            missing.dedup();
            missing
        } else {
            self.sort(state);
            self.order.iter().enumerate().filter(|(_, e)| e.active && e.room.is_none()).map(|(i, _)| i).collect()
        };
        // the names kept in the sets are still nodes with such a room (a few look-ups: the sets
        // hold the nodes with volume limits, and those with anti-affinity pods)
        let order = &self.order;
        let found = |name: &Sym| Self::find(order, *name).map(|i| order.get(i));
        self.unkept.retain(|n| found(n).is_some_and(|e| e.room.is_none()));
        self.anti.retain(|n| found(n).is_some_and(|e| e.room.as_ref().is_some_and(|r| r.anti_affinity)));
        self.changed.clear();
        self.unsorted = false;
        self.layout = Some(state.nodes.layout());
        self.slots = state.nodes.slots();
        missing
    }

    /// The slot in the state's nodes of the node named `name` when the order last followed them
    /// (the last view's).
    pub(crate) fn state_slot(&self, name: Sym) -> Option<usize> {
        self.position(name).map(|i| self.order.at(i) as usize)
    }

    /// The slot in the state's nodes of the node at `i` of the order.
    pub(super) fn slot(&self, i: usize) -> usize {
        self.order.at(i) as usize
    }

    /// The slot in the state's nodes of the node at `i` of the order, and its kept room.
    pub(super) fn slot_and_room(&self, i: usize) -> (usize, Option<&NodeRoom>) {
        let (e, slot) = self.order.get_and_at(i);
        (slot as usize, e.room.as_deref())
    }

    /// Keep `room` for the entry at `i` of the order (worked out for a view from its node and
    /// pods), or note that its node keeps none (`None`: volume limits).
    pub(super) fn keep(&mut self, i: usize, room: Option<NodeRoom>) {
        let e = self.order.get_mut(i);
        let free = match room {
            Some(room) => {
                if room.anti_affinity {
                    self.anti.insert(e.name);
                }
                let free = room_blocks::free_of(&room.remaining);
                e.room = Some(Arc::new(room));
                free
            }
            None => {
                self.unkept.insert(e.name);
                UNKNOWN
            }
        };
        self.order.set_free(i, free);
    }

    /// Work out the blocks of the entries changed since the last view (after its rooms are kept).
    pub(super) fn refresh_blocks(&mut self) {
        self.order.refresh();
        if cfg!(debug_assertions) {
            // the free amounts side by side are the rooms' (`refresh` checked the chunks' largest)
            assert!(self.order.free_amounts().eq(self.order.iter().map(KeptNode::free)), "kept free amounts are stale");
        }
    }

    /// The chunk of the order holding the entry at `i`, as a room block: a view's, when every
    /// entry is active (its positions are then the order's).
    pub(super) fn block(&self, i: usize) -> Block<'_> {
        self.order.block(i)
    }

    /// The block after `block` (one of the order's), if there is one.
    pub(super) fn next_block(&self, block: &Block) -> Option<Block<'_>> {
        self.order.number(block.number + 1)
    }

    /// How many entries a view has (the active ones).
    pub(super) fn active_len(&self) -> usize {
        self.order.len() - self.inactive
    }

    /// The positions in the order of the active entries, when some are not (a view's position is
    /// then not the order's); `None` when every entry is active.
    pub(super) fn active_positions(&self) -> Option<Vec<u32>> {
        (self.inactive > 0).then(|| self.order.iter().zip(0u32..).filter(|(e, _)| e.active).map(|(_, i)| i).collect())
    }

    /// The positions in the order of the active entries whose kept room has a pod with required
    /// anti-affinity, ascending.
    pub(super) fn anti_affinity(&self) -> Vec<usize> {
        let mut out: Vec<usize> = self.anti.iter().filter_map(|&name| self.position(name)).filter(|&i| self.order.get(i).active).collect();
        out.sort_unstable();
        out
    }

    /// Sort every node of `state` again, keeping the rooms of the names not forgotten.
    fn sort(&mut self, state: &ClusterState) {
        self.sorts += 1;
        let changed: SymSet = self.changed.iter().copied().collect();
        let mut rooms: SymMap<Arc<NodeRoom>> = std::mem::take(&mut self.order)
            .into_items()
            .filter(|e| !changed.contains(&e.name))
            .filter_map(|e| Some((e.name, e.room?)))
            .collect();
        let mut order: Vec<(KeptNode, u32)> = state.nodes.by_slot().zip(0..).filter_map(|(n, slot)| Some((KeptNode::of(n?, rooms.remove(&n?.name)), slot))).collect();
        order.sort_by(|(a, _), (b, _)| a.cmp_key(b.initialized, b.name));
        self.inactive = order.iter().filter(|(e, _)| !e.active).count();
        self.order = Chunked::new(order.into_iter().map(|(e, at)| {
            let free = e.free();
            (e, free, at)
        }));
        self.unkept.clear();
        self.anti = self.order.iter().filter(|e| e.room.as_ref().is_some_and(|r| r.anti_affinity)).map(|e| e.name).collect();
    }

    /// Where the node named `name` is in `order`, searched in each half (its `initialized` may
    /// have changed since).
    pub(super) fn position(&self, name: Sym) -> Option<usize> {
        Self::find(&self.order, name)
    }

    fn find(order: &Chunked<KeptNode>, name: Sym) -> Option<usize> {
        [true, false].into_iter().find_map(|initialized| order.binary_search_by(|e| e.cmp_key(initialized, name)).ok())
    }

    /// Follow what changed in `state` since the last view, from the names forgotten: their nodes
    /// leave the order and go back in from the state. Assumes (and [`KeptNodes::nodes`] then
    /// checks) the disruption commands' way of writing the nodes (`disruption/apply.rs: place`):
    /// removed ones leave the others in their slots, launched ones go in new slots at the end,
    /// every such node is reported. `false`: the order cannot be patched (a name would be there
    /// twice).
    fn patch(&mut self, state: &ClusterState) -> bool {
        if self.changed.is_empty() {
            return true;
        }
        // the reported nodes the order holds, by their slot in the state's nodes
        let mut left: Vec<(usize, Sym)> = self.changed.iter().filter_map(|&name| Some((self.order.at(self.position(name)?) as usize, name))).collect();
        left.sort_unstable_by_key(|(slot, _)| *slot);
        left.dedup();
        // a reported node still in the state is in its slot (a removal leaves the others in theirs)
        let now: Vec<Option<usize>> = left.iter().map(|&(slot, name)| state.nodes.get_slot(slot).is_some_and(|n| n.name == name).then_some(slot)).collect();
        // the nodes launched since are in the slots after those the order last saw
        let mut launched = (self.slots..state.nodes.slots()).filter(|&slot| state.nodes.get_slot(slot).is_some());
        // a node that stayed takes its own entry back, and a launched one the entry of one that
        // went
        for ((_, name), now) in left.into_iter().zip(now) {
            let Some(from) = self.position(name) else { return false };
            match now.or_else(|| launched.next()) {
                Some(slot) => {
                    if !self.replace(from, state.nodes.at_slot(slot), slot) {
                        return false;
                    }
                }
                None => {
                    let gone = self.order.remove(from);
                    self.inactive -= usize::from(!gone.active);
                }
            }
        }
        launched.all(|slot| self.insert(state.nodes.at_slot(slot), slot))
    }

    /// Put `node` (in slot `at` of the state's nodes) in its place in the order; `false` when its
    /// name is there.
    fn insert(&mut self, node: &Node, at: usize) -> bool {
        match self.order.binary_search_by(|e| e.cmp_key(node.initialized, node.name)) {
            Ok(_) => false,
            Err(i) => {
                let e = KeptNode::of(node, None);
                self.inactive += usize::from(!e.active);
                self.order.insert(i, e, UNKNOWN, at as u32);
                true
            }
        }
    }

    /// Put `node` (in slot `at` of the state's nodes) in its place in the order without the entry
    /// at `from`; `false` when another entry has its name.
    fn replace(&mut self, from: usize, node: &Node, at: usize) -> bool {
        let to = match self.order.binary_search_by(|e| e.cmp_key(node.initialized, node.name)) {
            Ok(i) if i == from => from,
            Ok(_) => return false,
            Err(i) if i > from => i - 1,
            Err(i) => i,
        };
        let e = KeptNode::of(node, None);
        let old = self.order.remove(from);
        self.inactive = self.inactive + usize::from(!e.active) - usize::from(!old.active);
        self.order.insert(to, e, UNKNOWN, at as u32);
        true
    }
}

#[cfg(test)]
mod tests {
    use super::super::ClusterView;
    use super::*;
    use crate::scheduling::bound_pods_by_node;

    /// The view built from `kept` is the fresh view (`with_kept_borrowed` checks that itself in debug
    /// builds; here in every build): the same nodes in the same order, with the same rooms.
    fn same_as_fresh(state: &ClusterState, kept: &mut KeptNodes) {
        let pods = bound_pods_by_node(state);
        let view = ClusterView::with_kept_borrowed(state, Default::default(), &pods, Some(kept.into()));
        view.assert_same_nodes(&ClusterView::with_kept_borrowed(state, Default::default(), &pods, None));
    }

    /// Nodes initialized (to the other half of the order) and not, marked deleting (they leave the
    /// view, not the order), removed (the later ones move up), launched (at the end), several at
    /// once, each reported: the order is patched, never sorted again, and gives the fresh view.
    #[test]
    fn an_order_patched_from_the_names_reported_is_the_sorted_order() {
        let mut state = crate::fixtures::karpenter_cluster(12, 2, 5);
        state.nodes[3].initialized = false;
        let mut kept = KeptNodes::default();
        same_as_fresh(&state, &mut kept);
        let mut seq = 0;
        let mut launch = |state: &mut ClusterState, kept: &mut KeptNodes, initialized: bool| {
            seq += 1;
            let mut node = state.nodes[0].clone();
            node.name = Sym::new(&format!("a-launched-{seq}"));
            node.initialized = initialized;
            kept.forget(node.name);
            state.nodes.push(node);
        };
        let remove = |state: &mut ClusterState, kept: &mut KeptNodes, at: usize| kept.forget(state.nodes.remove(at).name);
        state.nodes[3].initialized = true;
        kept.forget(state.nodes[3].name);
        state.nodes[7].initialized = false;
        kept.forget(state.nodes[7].name);
        same_as_fresh(&state, &mut kept);
        state.nodes[5].deletion_timestamp = Some(0);
        kept.forget(state.nodes[5].name);
        remove(&mut state, &mut kept, 0);
        launch(&mut state, &mut kept, true);
        same_as_fresh(&state, &mut kept);
        remove(&mut state, &mut kept, 9);
        remove(&mut state, &mut kept, 2);
        launch(&mut state, &mut kept, false);
        // a name reported twice, and one that is no node's
        kept.forget(state.nodes[1].name);
        kept.forget(state.nodes[1].name);
        kept.forget(Sym::new("no-such-node"));
        same_as_fresh(&state, &mut kept);
        remove(&mut state, &mut kept, 4);
        launch(&mut state, &mut kept, true);
        launch(&mut state, &mut kept, true);
        same_as_fresh(&state, &mut kept);
        let last = state.nodes.len() - 1;
        remove(&mut state, &mut kept, last);
        same_as_fresh(&state, &mut kept);
        assert_eq!(kept.sorts(), 1);
        assert_eq!(kept.order.len(), state.nodes.len());
    }

    /// More names reported between two views than a patch takes: the rooms of the nodes named are
    /// forgotten (one whose capacity changed gets its new room) and the order is sorted again.
    #[test]
    fn more_names_than_a_patch_takes_sort_the_order_again() {
        let mut state = crate::fixtures::karpenter_cluster(6, 2, 3);
        let mut kept = KeptNodes::default();
        same_as_fresh(&state, &mut kept);
        state.nodes[2].allocatable.cpu /= 2;
        kept.forget(state.nodes[2].name);
        for _ in 0..MAX_PATCHED {
            kept.forget(state.nodes[4].name);
        }
        // reported after the others, once the order is to be sorted
        state.nodes[5].allocatable.cpu /= 2;
        kept.forget(state.nodes[5].name);
        same_as_fresh(&state, &mut kept);
        assert_eq!(kept.sorts(), 2);
        state.nodes[1].initialized = false;
        kept.forget(state.nodes[1].name);
        same_as_fresh(&state, &mut kept);
        assert_eq!(kept.sorts(), 2);
    }

    /// A drift-like run, every change reported: a node removed at every step (its slot left a
    /// gap) and one launched every other step, past the point where the nodes' gaps close. The
    /// order follows by slot, is sorted again exactly when the nodes take a new layout, and gives
    /// the fresh view at every step.
    #[test]
    fn an_order_follows_the_nodes_by_slot_and_is_sorted_again_on_a_new_layout() {
        let mut state = crate::fixtures::karpenter_cluster(80, 1, 11);
        let mut kept = KeptNodes::vouched();
        same_as_fresh(&state, &mut kept);
        let mut layouts = 0;
        for step in 0..70 {
            let layout = state.nodes.layout();
            let at = (step * 7) % state.nodes.len();
            kept.forget(state.nodes.remove(at).name);
            if step % 2 == 0 {
                let mut node = state.nodes[0].clone();
                node.name = Sym::new(&format!("launched-{step}"));
                kept.forget(node.name);
                state.nodes.push(node);
            }
            layouts += usize::from(state.nodes.layout() != layout);
            same_as_fresh(&state, &mut kept);
            assert_eq!(kept.sorts(), 1 + layouts, "step {step}");
        }
        assert!(layouts > 0, "the nodes' gaps never closed");
    }

    /// An order whose owner vouches that it reports every write (until-stable) is not compared
    /// with the state in release builds; debug builds still compare, and a write that was not
    /// reported fails them rather than being sorted over (one that keeps the nodes' layout: a
    /// write that changes it, a swap, has the order sorted again in every build).
    #[test]
    #[cfg(debug_assertions)]
    #[should_panic(expected = "without a report")]
    fn a_vouched_order_changed_without_a_report_fails_debug_builds() {
        let mut state = crate::fixtures::karpenter_cluster(6, 2, 3);
        let mut kept = KeptNodes::vouched();
        same_as_fresh(&state, &mut kept);
        let mut launched = state.nodes[0].clone();
        launched.name = Sym::new("a-launched");
        kept.forget(launched.name);
        state.nodes.push(launched);
        same_as_fresh(&state, &mut kept);
        assert_eq!(kept.sorts(), 1, "a reported launch is patched in");
        state.nodes[1].deletion_timestamp = Some(0);
        same_as_fresh(&state, &mut kept);
    }

    /// A writer that reorders the state's nodes, or removes one without reporting it, leaves an
    /// order the check before every view refuses: it is sorted again, and the view is the fresh one.
    #[test]
    fn an_order_changed_without_a_report_is_sorted_again() {
        let mut state = crate::fixtures::karpenter_cluster(8, 2, 9);
        let mut kept = KeptNodes::default();
        same_as_fresh(&state, &mut kept);
        state.nodes.swap(1, 6);
        same_as_fresh(&state, &mut kept);
        assert_eq!(kept.sorts(), 2);
        state.nodes.remove(2);
        same_as_fresh(&state, &mut kept);
        assert_eq!(kept.sorts(), 3);
        // a node marked deleting without a report
        state.nodes[0].deletion_timestamp = Some(0);
        same_as_fresh(&state, &mut kept);
        assert_eq!(kept.sorts(), 4);
    }
}
