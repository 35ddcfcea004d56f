//! The existing nodes of one scheduling run, in the view's order (`existingnode.go`): what the
//! run has placed on each, made for a node when the run first looks further than its free room.
//!
//! A disruption round's simulations and the time simulator's batches run against every node of the
//! cluster and place pods on a few of them; most nodes a run's first-fit scan passes it reads only
//! the free room of, from the view. Making an entry for every node at every run (and a view of it)
//! was a third of an until-stable run over a drifted cluster, whose rounds each simulate one node's
//! pods against thousands.

use super::cluster_view::{exceeds, Block, ClusterView, Free, NodeView};
use super::volumes;
use crate::labels::Sym;
use crate::model::{HostPort, Node, Pod};
use crate::requirements::Requirements;
use crate::resources::Resources;
use rustc_hash::FxHashMap;

/// An existing node during one run: its prepared view, and what this run has placed on it. Without
/// anything to free until the run places a pod there.
pub(super) struct ExistingNode<'v, 'a> {
    pub(super) view: NodeView<'v, 'a>,
    /// What this run has placed on it (`None`: nothing yet).
    pub(super) placed: Option<Box<Placed>>,
    /// Whether [`ExistingNode::requirements`] are compatible with themselves, once asked (see
    /// [`ExistingNode::self_compatible`]); emptied whenever they change.
    self_compatible: std::cell::Cell<Option<bool>>,
    /// The run treats it as gone (a candidate, a node being deleted): no pod goes there.
    gone: bool,
}

/// What one run has placed on an existing node.
pub(super) struct Placed {
    /// The view's free capacity less this run's pods.
    remaining: Resources,
    /// The view's requirements tightened by the pods placed in this run (`None`: not tightened).
    requirements: Option<Requirements>,
    /// Host ports of the pods placed in this run.
    ports: Vec<HostPort>,
    /// Volume claims attached by the pods placed in this run.
    volumes: Vec<(Sym, Sym)>,
    pub(super) pods: Vec<usize>,
}

impl ExistingNode<'_, '_> {
    pub(super) fn remaining(&self) -> &Resources {
        self.placed.as_ref().map_or(&self.view.room.remaining, |p| &p.remaining)
    }

    pub(super) fn requirements(&self) -> &Requirements {
        self.placed.as_ref().and_then(|p| p.requirements.as_ref()).unwrap_or(&self.view.room.requirements)
    }

    pub(super) fn ports(&self) -> &[HostPort] {
        self.placed.as_ref().map_or(&[], |p| &p.ports)
    }

    pub(super) fn volumes(&self) -> &[(Sym, Sym)] {
        self.placed.as_ref().map_or(&[], |p| &p.volumes)
    }

    /// `requirements().compatible(requirements())`: Karpenter's `nodeRequirements.Compatible(
    /// topologyRequirements)` when topology adds nothing to a pod without requirements of its own
    /// (`existingnode.go: CanAdd`), asked of the same node for every such pod that fits it. The
    /// answer depends on the requirements alone, so it is kept until they change (a walk over
    /// every label of the node each time was a fifth of a simulation's cold start).
    pub(super) fn self_compatible(&self) -> bool {
        let fresh = || self.requirements().compatible(self.requirements(), None).is_ok();
        match self.self_compatible.get() {
            Some(ok) => {
                debug_assert_eq!(ok, fresh(), "kept self-compatibility of node {} is stale", self.view.node.name);
                ok
            }
            None => {
                let ok = fresh();
                self.self_compatible.set(Some(ok));
                ok
            }
        }
    }

    /// Place pod `id` here: its requests, host ports and volume claims, and the requirements it
    /// tightened (`None`: they stay as they are).
    pub(super) fn place(&mut self, id: usize, pod: &Pod, requests: &Resources, reqs: Option<Requirements>) {
        let view = self.view;
        let p = self.placed.get_or_insert_with(|| {
            Box::new(Placed { remaining: view.room.remaining.clone(), requirements: None, ports: Vec::new(), volumes: Vec::new(), pods: Vec::new() })
        });
        p.remaining.sub_assign(requests);
        p.ports.extend(pod.host_ports.iter().cloned());
        p.volumes.extend_from_slice(volumes::attachments(pod));
        p.pods.push(id);
        if let Some(reqs) = reqs {
            p.requirements = Some(reqs);
            self.self_compatible.set(None);
        }
    }
}

/// The existing nodes of one run, in the view's order: an [`ExistingNode`] for each node the run
/// treats as gone, looked further at than its free room, or placed pods on; the view's free room for
/// the others.
pub(super) struct ExistingNodes<'t, 'a> {
    view: &'t ClusterView<'a>,
    /// One bit per node of the view: whether it has an entry (most do not: one test, no look-up).
    made: Vec<u64>,
    /// The entries made, by the node's position.
    entries: FxHashMap<usize, ExistingNode<'t, 'a>>,
}

impl<'t, 'a> ExistingNodes<'t, 'a> {
    /// The view's nodes, those at `gone` (positions) treated as gone.
    pub(super) fn new(view: &'t ClusterView<'a>, gone: &[usize]) -> Self {
        let mut nodes = ExistingNodes {
            view,
            made: vec![0; view.node_count().div_ceil(64)],
            entries: FxHashMap::default(),
        };
        for &i in gone {
            nodes.entry(i).gone = true;
        }
        nodes
    }

    /// How many nodes the view has.
    pub(super) fn len(&self) -> usize {
        self.view.node_count()
    }

    #[inline]
    fn is_made(&self, i: usize) -> bool {
        self.made[i / 64] & (1 << (i % 64)) != 0
    }

    fn made(&self, i: usize) -> Option<&ExistingNode<'t, 'a>> {
        if !self.is_made(i) {
            return None;
        }
        self.entries.get(&i)
    }

    /// Whether `requests` fit the room this run has left on the node at `i` ([`Resources::fits`]);
    /// false when the run treats it as gone. `free` is the node's free amounts in the view (its
    /// room block's): they rule out most full nodes in a few comparisons, without a look at the
    /// room.
    #[inline]
    pub(super) fn fits(&self, i: usize, requests: &Resources, free: &Free) -> bool {
        if self.is_made(i) {
            return self.entries.get(&i).is_some_and(|e| !e.gone && requests.fits(e.remaining()));
        }
        !exceeds(requests, free) && requests.fits(&self.view.room(i).remaining)
    }

    /// The view's room block holding the node at `i`: free room only shrinks during a run, so the
    /// view's amounts bound this run's.
    pub(super) fn block(&self, i: usize) -> Block<'t> {
        self.view.block(i)
    }

    /// The view's room block after `block`, if there is one.
    pub(super) fn next_block(&self, block: &Block) -> Option<Block<'t>> {
        self.view.next_block(block)
    }

    /// The node at `i`.
    pub(super) fn node(&self, i: usize) -> &'a Node {
        self.made(i).map_or_else(|| self.view.node_record(i), |e| e.view.node)
    }

    /// The entry of the node at `i`, made now if it has none.
    pub(super) fn entry(&mut self, i: usize) -> &mut ExistingNode<'t, 'a> {
        self.made[i / 64] |= 1 << (i % 64);
        let view: &'t ClusterView<'a> = self.view;
        self.entries.entry(i).or_insert_with(|| ExistingNode { view: view.node(i), placed: None, self_compatible: std::cell::Cell::new(None), gone: false })
    }

    /// The entry of the node at `i`, made by [`ExistingNodes::entry`].
    pub(super) fn get(&self, i: usize) -> &ExistingNode<'t, 'a> {
        // callers make the entry before they read it (`Scheduler::add`)
        self.made(i).expect("an existing node's entry is made before it is read")
    }

    /// The nodes at `positions` (ascending) with the pods this run placed on each.
    pub(super) fn placed(mut self, positions: &[usize]) -> Vec<(Sym, Vec<usize>)> {
        positions
            .iter()
            .filter_map(|&i| {
                let e = self.entries.get_mut(&i)?;
                Some((e.view.node.name, e.placed.take()?.pods))
            })
            .collect()
    }
}
