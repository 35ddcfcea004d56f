//! The pods bound to each node, grouped once for a round, a view or a batch.

use crate::labels::{Sym, SymMap, SymSet};
use crate::model::Pod;
use crate::state::gap_list::Layout;
use crate::state::{ClusterState, PodList as StatePods};

/// The pods bound to each node name (not terminal), in the state's order ([`bound_pods_by_node`]).
#[derive(Debug, Default)]
pub(crate) struct BoundPods<'a> {
    lists: Lists<'a>,
}

/// Where a [`BoundPods`] holds each node's pods.
#[derive(Debug)]
enum Lists<'a> {
    /// Every node's pods in one list of references, a range of it per node, found by each node
    /// name's slot (a grouping built for one round or view).
    Refs { slot: SymMap<usize>, pods: Vec<&'a Pod>, ranges: Vec<std::ops::Range<usize>> },
    /// Each node's pods as positions in the state's pods, kept by a [`KeptPods`] across rounds and
    /// turned into references only for the nodes a caller of [`BoundPods::get`] reads (turning
    /// every node's into references at every round was a tenth of a drifted cluster's run; a
    /// round reads the pods of the few nodes its commands touch, and a view reads every node's
    /// through [`BoundPods::list`], which needs no references).
    Kept { kept: &'a KeptPods, state: &'a StatePods, refs: Box<[ReadOne<'a>; READS_ONE_BY_ONE]>, reads: std::cell::Cell<usize>, all: std::cell::OnceCell<Grouped<'a>> },
}

/// One node's pods turned into references when first read: its slot, and the list.
type ReadOne<'a> = std::cell::OnceCell<(usize, Box<[&'a Pod]>)>;

/// Every node's pods in one list of references, a range of it per slot.
#[derive(Debug)]
struct Grouped<'a> {
    pods: Vec<&'a Pod>,
    ranges: Vec<std::ops::Range<usize>>,
}

/// How many nodes' kept pods [`BoundPods::get`] turns into references one by one before it turns
/// every node's at once: a drift round reads a few nodes' pods, a consolidation round every
/// node's (one list for all is then cheaper than a list per node).
const READS_ONE_BY_ONE: usize = 64;

impl Default for Lists<'_> {
    fn default() -> Self {
        Lists::Refs { slot: SymMap::default(), pods: Vec::new(), ranges: Vec::new() }
    }
}

impl<'a> BoundPods<'a> {
    /// The pods bound to `node`, or `None` when none is (or an empty list, from a [`KeptPods`]
    /// that keeps the name of a node whose pods all left: every caller reads both as no pods).
    pub(crate) fn get(&self, node: &Sym) -> Option<&[&'a Pod]> {
        Some(match &self.lists {
            Lists::Refs { slot, pods, ranges } => &pods[ranges[*slot.get(node)?].clone()],
            Lists::Kept { kept, state, refs, reads, all } => {
                let &s = kept.list_of.get(node)?;
                if let Some(g) = all.get() {
                    return Some(&g.pods[g.ranges[s].clone()]);
                }
                // the nodes read one by one so far, in the order they were read (a few: a scan)
                let read = reads.get();
                if let Some((_, r)) = refs[..read].iter().find_map(|c| c.get().filter(|(slot, _)| *slot == s)) {
                    return Some(r);
                }
                if read < READS_ONE_BY_ONE {
                    reads.set(read + 1);
                    return Some(&refs[read].get_or_init(|| (s, kept.lists[s].iter().map(|&slot| state.at_slot(slot)).collect())).1);
                }
                let g = all.get_or_init(|| {
                    let mut pods: Vec<&Pod> = Vec::with_capacity(kept.lists.iter().map(Vec::len).sum());
                    let mut ranges = Vec::with_capacity(kept.lists.len());
                    for s in 0..kept.lists.len() {
                        let at = pods.len();
                        pods.extend(kept.lists[s].iter().map(|&slot| state.at_slot(slot)));
                        ranges.push(at..pods.len());
                    }
                    Grouped { pods, ranges }
                });
                &g.pods[g.ranges[s].clone()]
            }
        })
    }

    /// The pods bound to `node` (empty when none is) without turning kept positions into
    /// references: for readers that visit every node's pods once (a view, topology).
    pub(crate) fn list(&self, node: &Sym) -> PodList<'_, 'a> {
        match &self.lists {
            Lists::Refs { slot, pods, ranges } => PodList::Refs(slot.get(node).map_or(&[], |&s| &pods[ranges[s].clone()])),
            Lists::Kept { kept, state, .. } => PodList::At(kept.slots_of(*node), state),
        }
    }

    /// The names with a list (some may be empty).
    fn names(&self) -> impl Iterator<Item = &Sym> {
        match &self.lists {
            Lists::Refs { slot, .. } => slot.keys(),
            Lists::Kept { kept, .. } => kept.list_of.keys(),
        }
    }

    /// Debug builds: `self` and `fresh` give every name the same pods, by address.
    fn assert_same(&self, fresh: &BoundPods) {
        for name in self.names().chain(fresh.names()) {
            let (a, b) = (self.list(name), fresh.list(name));
            assert!(
                a.len() == b.len() && a.iter().zip(b.iter()).all(|(x, y)| std::ptr::eq(x, y)),
                "kept pods of node {name} are stale: {} kept, {} bound",
                a.len(),
                b.len()
            );
        }
    }
}

/// One node's pods from a [`BoundPods`]: references, or slots in the state's pods.
#[derive(Clone, Copy, Debug)]
pub(crate) enum PodList<'s, 'a> {
    Refs(&'s [&'a Pod]),
    At(&'s [usize], &'a StatePods),
}

impl<'s, 'a> PodList<'s, 'a> {
    pub(crate) fn len(self) -> usize {
        match self {
            PodList::Refs(r) => r.len(),
            PodList::At(at, _) => at.len(),
        }
    }

    /// The pods, in the state's order.
    pub(crate) fn iter(self) -> impl ExactSizeIterator<Item = &'a Pod> + Clone + 's {
        let (refs, at, state): (&'s [&'a Pod], &'s [usize], Option<&'a StatePods>) = match self {
            PodList::Refs(r) => (r, &[], None),
            PodList::At(at, state) => (&[], at, Some(state)),
        };
        PodIter { refs: refs.iter(), at: at.iter(), state }
    }
}

/// [`PodList::iter`]: one of the two parts is empty.
#[derive(Clone)]
struct PodIter<'s, 'a> {
    refs: std::slice::Iter<'s, &'a Pod>,
    at: std::slice::Iter<'s, usize>,
    /// (`None` with no slots)
    state: Option<&'a StatePods>,
}

impl<'a> Iterator for PodIter<'_, 'a> {
    type Item = &'a Pod;

    fn next(&mut self) -> Option<&'a Pod> {
        match self.refs.next() {
            Some(p) => Some(p),
            None => {
                let state = self.state?;
                self.at.next().map(|&slot| state.at_slot(slot))
            }
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let n = self.refs.len() + self.at.len();
        (n, Some(n))
    }
}

impl ExactSizeIterator for PodIter<'_, '_> {}

/// Each node's pods as slots in the state's pods ([`crate::state::GapList::slot_of`]), kept
/// across until-stable rounds and patched from what [`crate::disruption::place`] reports, so that
/// a round's [`BoundPods`] reads each node's pods straight from their slots (no hash look-up, no
/// grouping of runs, no translation).
///
/// Exact because until-stable's state is its own copy written between rounds only by `place`,
/// which reports every pod whose binding it changed (with its position and the node it left) and
/// the nodes whose pods changed. A pod keeps its slot while the state's pods keep their layout:
/// `place` moves no pod, and the pods it removes become gaps ([`crate::state::GapList::is_gap`]),
/// so no list is rewritten for a removal (that was a pass over every kept list every few hundred
/// removals: 3% of a drifted cluster's run at 10,000 nodes). When the layout changes (the gaps
/// closed) the lists are built again, once for about as many removals as there are pods. Debug
/// builds compare every round's grouping with a fresh [`bound_pods_by_node`].
#[derive(Debug)]
pub(crate) struct KeptPods {
    /// Each node name's index in `lists`. A name whose last pod leaves keeps its empty list
    /// (removing it left a tombstone in the map, and every look-up of a long drifted run probed
    /// through more of them).
    list_of: SymMap<usize>,
    /// Each node's pods' slots, ascending (the state's order).
    lists: Vec<Vec<usize>>,
    /// The layout of the state's pods the slots are in.
    layout: Layout,
}

impl KeptPods {
    /// The grouping of `state`'s pods (bound, not terminal) by node.
    pub(crate) fn of(state: &ClusterState) -> KeptPods {
        let mut kept = KeptPods { list_of: SymMap::default(), lists: Vec::new(), layout: state.pods.layout() };
        for slot in state.pods.slots() {
            kept.bind(state, slot);
        }
        kept
    }

    /// The positions of the pods bound to `node` (not terminal), ascending.
    pub(crate) fn positions_of<'a>(&'a self, state: &'a ClusterState, node: Sym) -> impl Iterator<Item = usize> + 'a {
        self.slots_of(node).iter().map(|&slot| state.pods.position_of_slot(slot))
    }

    /// The slots of the pods bound to `node`, ascending.
    fn slots_of(&self, node: Sym) -> &[usize] {
        self.list_of.get(&node).map_or(&[], |&s| &self.lists[s])
    }

    /// Add the pod in `slot` to its node's list, when it is bound and not terminal.
    fn bind(&mut self, state: &ClusterState, slot: usize) {
        let p = state.pods.at_slot(slot);
        let Some(n) = p.node_name.filter(|_| !p.is_terminal()) else { return };
        let lists = &mut self.lists;
        let s = *self.list_of.entry(n).or_insert_with(|| {
            lists.push(Vec::new());
            lists.len() - 1
        });
        let list = &mut self.lists[s];
        // in the state's order: slots ascend (`of` appends; a patch inserts in place)
        if let Err(k) = list.binary_search(&slot) {
            list.insert(k, slot);
        }
    }

    /// Patch the grouping after a `place` on `state` that removed pods (`removed`: each was bound
    /// to one of `nodes`, the nodes it reported) and changed the binding of the pods at `pods`
    /// (position after `place`, the node each was bound to before).
    pub(crate) fn patch(&mut self, state: &ClusterState, pods: &[(usize, Option<Sym>)], removed: bool, nodes: &SymSet) {
        if self.layout != state.pods.layout() {
            // the gaps closed (or something rewrote the pods): every slot may have changed
            *self = KeptPods::of(state);
            return;
        }
        if removed {
            // a pod that goes was bound to a node of the command (`remove`, which `nodes` holds)
            for n in nodes {
                if let Some(&s) = self.list_of.get(n) {
                    self.lists[s].retain(|&slot| !state.pods.is_gap(slot));
                }
            }
        }
        for &(at, from) in pods {
            let slot = state.pods.slot_of(at);
            if let Some(f) = from
                && let Some(&s) = self.list_of.get(&f)
            {
                let list = &mut self.lists[s];
                if let Ok(k) = list.binary_search(&slot) {
                    list.remove(k);
                }
            }
            self.bind(state, slot);
        }
    }

    /// The round's [`BoundPods`] of `state` (the state this grouping was kept for), borrowing
    /// this grouping for the round (copying it was a block as large as the pods at every round).
    pub(crate) fn bound<'a>(&'a self, state: &'a ClusterState) -> BoundPods<'a> {
        assert!(self.layout == state.pods.layout(), "kept pods of another layout of the state's pods");
        let refs = Box::new(std::array::from_fn(|_| std::cell::OnceCell::new()));
        let bound = BoundPods { lists: Lists::Kept { kept: self, state: &state.pods, refs, reads: std::cell::Cell::new(0), all: std::cell::OnceCell::new() } };
        if cfg!(debug_assertions) {
            bound.assert_same(&bound_pods_by_node(state));
        }
        bound
    }
}

/// Positions kept across the removal of the items at `gone` (ascending) from the list they point
/// into: each of `at` (ascending) less the removed ones before it, those removed dropped. A walk
/// over both lists, for short lists (the pending pods, the finished ones: [`KeptPods`] does not
/// rewrite its lists at every removal).
pub(crate) fn shift_after_removal(at: &mut Vec<usize>, gone: &[usize]) {
    let mut before = 0;
    at.retain_mut(|p| {
        while gone.get(before).is_some_and(|g| g < p) {
            before += 1;
        }
        if gone.get(before) == Some(p) {
            return false;
        }
        *p -= before;
        true
    });
}

/// The pods bound to each node (not terminal), in the state's order: what a view and a disruption
/// round start from.
///
/// Until-stable builds this at every round over every pod, and the time simulator at every round
/// and batch, so it is built in one list allocated once: the state's pods come in runs of one node
/// (a snapshot lists a node's pods together; a moved pod keeps its place), each node's pods are
/// counted over the runs first (one look-up per run), each node then gets its range of the list in
/// the order the nodes first appear, and the runs are copied into their nodes' ranges in the
/// state's order. (A list per node, allocated at every round, was a quarter of this; the rounds'
/// views and candidates borrow the ranges rather than copy them.)
pub(crate) fn bound_pods_by_node(state: &ClusterState) -> BoundPods<'_> {
    let mut runs: Vec<(Sym, std::ops::Range<usize>)> = Vec::with_capacity(state.nodes.len());
    for (i, p) in state.pods.iter().enumerate() {
        let Some(n) = p.node_name.filter(|_| !p.is_terminal()) else { continue };
        match runs.last_mut() {
            Some((last, r)) if *last == n && r.end == i => r.end = i + 1,
            _ => runs.push((n, i..i + 1)),
        }
    }
    let mut slot: SymMap<usize> = SymMap::with_capacity_and_hasher(state.nodes.len(), Default::default());
    // each run's node's slot, and each slot's count (then its range)
    let mut run_slot: Vec<usize> = Vec::with_capacity(runs.len());
    let mut counts: Vec<usize> = Vec::with_capacity(state.nodes.len());
    for (n, r) in &runs {
        let s = *slot.entry(*n).or_insert_with(|| {
            counts.push(0);
            counts.len() - 1
        });
        counts[s] += r.len();
        run_slot.push(s);
    }
    let mut ranges: Vec<std::ops::Range<usize>> = Vec::with_capacity(counts.len());
    let mut total = 0;
    for c in counts {
        ranges.push(total..total);
        total += c;
    }
    let Some(any) = state.pods.first() else { return BoundPods::default() };
    // every entry is overwritten below: each slot's range holds exactly its runs' pods
    let mut pods: Vec<&Pod> = vec![any; total];
    for ((_, r), s) in runs.into_iter().zip(run_slot) {
        let at = ranges[s].end;
        ranges[s].end += r.len();
        for (to, i) in pods[at..at + r.len()].iter_mut().zip(r) {
            *to = &state.pods[i];
        }
    }
    BoundPods { lists: Lists::Refs { slot, pods, ranges } }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A round's grouping over kept positions gives every node the pods a fresh grouping gives,
    /// by address, whether it turns them into references node by node (the first nodes read) or
    /// all at once (past [`READS_ONE_BY_ONE`]), and `list` agrees with `get` either way.
    #[test]
    fn kept_pods_read_node_by_node_then_all_at_once_are_the_fresh_grouping() {
        let state = crate::fixtures::karpenter_cluster(READS_ONE_BY_ONE + 20, 2, 7);
        let kept = KeptPods::of(&state);
        let (round, fresh) = (kept.bound(&state), bound_pods_by_node(&state));
        let ptrs = |pods: &[&Pod]| pods.iter().map(|p| std::ptr::from_ref::<Pod>(p)).collect::<Vec<_>>();
        // every node twice: the second read of a node read one by one is its first list
        for name in state.nodes.iter().map(|n| n.name).chain(state.nodes.iter().map(|n| n.name)) {
            let (a, b) = (round.get(&name).unwrap_or(&[]), fresh.get(&name).unwrap_or(&[]));
            assert!(!b.is_empty());
            assert_eq!(ptrs(a), ptrs(b), "node {name}");
            assert_eq!(round.list(&name).iter().map(std::ptr::from_ref::<Pod>).collect::<Vec<_>>(), ptrs(b));
        }
        let Lists::Kept { all, .. } = &round.lists else { panic!("a kept grouping") };
        assert!(all.get().is_some(), "past the first nodes, every node's pods at once");
        assert!(round.get(&Sym::new("no-such-node")).is_none());
    }

    /// Shifting positions past removed ones gives what a walk over every position gives (each
    /// less the removed ones before it, the removed dropped): lists before, after, around and
    /// among the removed positions, empty lists, nothing removed.
    #[test]
    fn shifting_past_removed_positions_is_the_walk_over_every_position() {
        let walk = |at: &[usize], gone: &[usize]| -> Vec<usize> {
            at.iter().filter(|p| !gone.contains(p)).map(|&p| p - gone.iter().filter(|&&g| g < p).count()).collect()
        };
        let lists: [&[usize]; 8] = [&[], &[0, 1, 2], &[3, 9, 20], &[5, 6, 7, 8], &[10, 11], &[21, 30, 31], &[4, 12, 13, 19, 22], &[0, 7, 14, 28]];
        let gones: [&[usize]; 7] = [&[], &[0], &[7], &[5, 6, 7], &[4, 12, 19, 22], &[9, 13, 21, 28, 31], &[31]];
        for at in lists {
            for gone in gones {
                let mut shifted = at.to_vec();
                shift_after_removal(&mut shifted, gone);
                assert_eq!(shifted, walk(at, gone), "{at:?} less {gone:?}");
            }
        }
    }

    /// Kept pods by node equal a fresh grouping after every command of a run that deletes node
    /// after node (each with a DaemonSet pod that goes with it, its other pods moved to the next
    /// node), and their slots read back as the pods' positions: while the removed pods are gaps,
    /// and across the gaps' closing (the run that removes one pod a node closes them and gives the
    /// pods a new layout, after which the lists are built again).
    #[test]
    fn kept_pods_across_removals_and_a_new_layout_are_the_fresh_grouping() {
        for (nodes, per_node) in [(12, 3), (48, 1)] {
            let mut state = crate::fixtures::karpenter_cluster(nodes, per_node, 13);
            let n: Vec<Sym> = state.nodes.iter().map(|n| n.name).collect();
            for (i, name) in n.iter().enumerate() {
                let at = state.pods.iter().enumerate().filter(|(_, p)| p.node_name == Some(*name)).map(|(i, _)| i).last().expect("a pod on the node");
                state.pods[at].owner = Some(crate::model::OwnerRef { kind: crate::model::OwnerKind::DaemonSet, name: Sym::new(&format!("ds-{i}")) });
            }
            let mut kept = KeptPods::of(&state);
            let (mut seq, mut layouts) = (0, 0);
            for w in n.windows(2) {
                let binds: Vec<(Sym, crate::disruption::Dest)> = state
                    .pods
                    .iter()
                    .filter(|p| p.node_name == Some(w[0]) && !p.is_daemonset_pod())
                    .map(|p| (p.uid, crate::disruption::Dest::Existing(w[1])))
                    .collect();
                let layout = state.pods.layout();
                let changed = crate::disruption::place(&mut state, &[], &binds, &[w[0]], 7_200, &mut seq);
                assert_eq!(changed.gone_pods.len(), 1);
                layouts += usize::from(state.pods.layout() != layout);
                kept.patch(&state, &changed.pods, true, &changed.nodes);
                let (round, fresh) = (kept.bound(&state), bound_pods_by_node(&state));
                for name in &n {
                    let expected: Vec<usize> = (0..state.pods.len()).filter(|&i| fresh.list(name).iter().any(|p| std::ptr::eq(p, &state.pods[i]))).collect();
                    assert_eq!(kept.positions_of(&state, *name).collect::<Vec<_>>(), expected, "node {name}");
                    assert_eq!(round.get(name).map_or(0, <[_]>::len), fresh.get(name).map_or(0, <[_]>::len), "node {name}");
                }
            }
            assert_eq!(kept.slots_of(n[nodes - 1]).len(), (per_node - 1) * (nodes - 1) + per_node);
            assert_eq!(layouts, usize::from(per_node == 1), "{nodes} nodes: the layouts the run went through");
        }
    }

    /// Each node's range of the one list holds the pods bound to it in the state's order, whatever
    /// the runs: pods moved between nodes (runs of one node apart, interleaved), finished pods
    /// left out, pods bound to a name that is no node's kept under that name, an empty state.
    #[test]
    fn bound_pods_are_each_nodes_pods_in_the_states_order() {
        let mut state = crate::fixtures::karpenter_cluster(4, 3, 9);
        let n: Vec<Sym> = state.nodes.iter().map(|n| n.name).collect();
        for (i, p) in state.pods.iter_mut().enumerate() {
            p.node_name = Some([n[0], n[1], n[0], n[2], n[2], n[3]][i % 6]);
        }
        state.pods[4].phase = crate::model::PodPhase::Succeeded;
        state.pods[7].node_name = Some(Sym::new("gone"));
        state.pods[8].node_name = None;
        let grouped = bound_pods_by_node(&state);
        for name in n.iter().copied().chain([Sym::new("gone"), Sym::new("none")]) {
            let expected: Vec<*const Pod> =
                state.pods.iter().filter(|p| p.node_name == Some(name) && !p.is_terminal()).map(std::ptr::from_ref).collect();
            let got: Vec<*const Pod> = grouped.get(&name).unwrap_or(&[]).iter().map(|p| std::ptr::from_ref::<Pod>(p)).collect();
            assert_eq!(got, expected, "node {name}");
            assert_eq!(grouped.get(&name).is_some(), !expected.is_empty());
        }
        state.pods.clear();
        assert!(bound_pods_by_node(&state).get(&n[0]).is_none());
    }
}
