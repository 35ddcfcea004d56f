//! The existing nodes as one scheduling run sees them (`existingnode.go`): the view's nodes in
//! Karpenter's order, those the run treats as gone, and what the run has placed on the few it
//! touches.
//!
//! A disruption round's simulations move the pods of one or two nodes and a provisioning batch
//! places its pods on a few nodes, against a view of every node of the cluster. So nothing here is
//! made per node of the view: the nodes gone and the nodes touched are bits, and a node gets an
//! entry ([`Touched`]) only when the run asks whether a pod may go there or places one there.
//! First fit (`scheduler.go: add` tries the existing nodes in order) steps over blocks of nodes
//! none of which has room for the pod's requests, from the largest free capacity of each block,
//! worked out the first time a scan of the run reaches it: an until-stable run over a drifted
//! cluster packs the nodes at the front of the order full, and each run's pods used to test every
//! one of them again.

use super::cluster_view::NodeView;
use super::volumes;
use crate::labels::Sym;
use crate::model::{HostPort, Node, Pod};
use crate::requirements::Requirements;
use crate::resources::Resources;
use rustc_hash::FxHashMap;
use std::cell::Cell;

/// What one run has placed on an existing node.
struct Placed {
    /// The view's free capacity less this run's pods.
    remaining: Resources,
    /// The view's requirements tightened by the pods placed in this run (`None`: not tightened).
    requirements: Option<Requirements>,
    /// Host ports of the pods placed in this run.
    ports: Vec<HostPort>,
    /// Volume claims attached by the pods placed in this run.
    volumes: Vec<(Sym, Sym)>,
    pods: Vec<usize>,
}

/// A node the run has asked about or placed pods on.
#[derive(Default)]
struct Touched {
    /// What this run has placed on it (`None`: nothing yet).
    placed: Option<Placed>,
    /// Whether [`Existing::requirements`] are compatible with themselves, once asked (see
    /// [`Existing::self_compatible`]); emptied whenever they change.
    self_compatible: Cell<Option<bool>>,
}

/// One bit per node of the view.
struct Bits(Vec<u64>);

impl Bits {
    fn new(len: usize) -> Bits {
        Bits(vec![0; len.div_ceil(64)])
    }

    fn get(&self, i: usize) -> bool {
        self.0[i / 64] & (1 << (i % 64)) != 0
    }

    fn set(&mut self, i: usize) {
        self.0[i / 64] |= 1 << (i % 64);
    }
}

/// Nodes per block of the first-fit scan: a block costs one comparison to step over, and working
/// out its largest free capacity costs what testing its nodes one by one did.
const BLOCK: usize = 32;
const _: () = assert!(64 % BLOCK == 0);

/// The largest free cpu, memory, ephemeral storage and pod slots among a block's nodes (`i64::MIN`
/// for none). An upper bound of each node's free capacity is all the scan needs, so nodes gone or
/// with a negative amount (which `fits` refuses anyway) count too: a block is worked out with four
/// comparisons per node, no test.
type BlockRoom = [i64; 4];

fn merge_room(m: &mut BlockRoom, r: &Resources) {
    *m = [m[0].max(r.cpu), m[1].max(r.memory), m[2].max(r.ephemeral_storage), m[3].max(r.pods)];
}

/// Whether some node of a block with this room may fit `requests`: `false` only when one of the
/// four amounts exceeds the block's largest, which every node's `fits` then refuses.
fn may_fit(requests: &Resources, m: &BlockRoom) -> bool {
    requests.cpu <= m[0] && requests.memory <= m[1] && requests.ephemeral_storage <= m[2] && requests.pods <= m[3]
}

/// The existing nodes during one run.
pub(super) struct ExistingNodes<'v, 'a> {
    views: &'v [NodeView<'a>],
    gone: Bits,
    /// Set for the nodes that have an entry in `touched`.
    has_entry: Bits,
    touched: FxHashMap<usize, Touched>,
    /// Per block of [`BLOCK`] nodes, its [`BlockRoom`] once a scan has reached it (empty until then).
    blocks: Vec<Option<BlockRoom>>,
}

/// An existing node as the run sees it: the view's node and what the run has placed there.
#[derive(Clone, Copy)]
pub(super) struct Existing<'e, 'v, 'a> {
    pub view: &'v NodeView<'a>,
    touched: Option<&'e Touched>,
}

impl<'e, 'v: 'e, 'a> Existing<'e, 'v, 'a> {
    fn placed(self) -> Option<&'e Placed> {
        self.touched.and_then(|t| t.placed.as_ref())
    }

    pub fn remaining(self) -> &'e Resources {
        self.placed().map_or(&self.view.room.remaining, |p| &p.remaining)
    }

    pub fn requirements(self) -> &'e Requirements {
        self.placed().and_then(|p| p.requirements.as_ref()).unwrap_or(&self.view.room.requirements)
    }

    pub fn ports(self) -> &'e [HostPort] {
        self.placed().map_or(&[], |p| &p.ports)
    }

    pub fn volumes(self) -> &'e [(Sym, Sym)] {
        self.placed().map_or(&[], |p| &p.volumes)
    }

    /// `requirements().compatible(requirements())`: Karpenter's `nodeRequirements.Compatible(
    /// topologyRequirements)` when topology adds nothing to a pod without requirements of its own
    /// (`existingnode.go: CanAdd`), asked of the same node for every such pod that fits it. The
    /// answer depends on the requirements alone, so a node with an entry keeps it until they change
    /// (a walk over every label of the node each time was a fifth of a simulation's cold start).
    pub fn self_compatible(self) -> bool {
        let fresh = || self.requirements().compatible(self.requirements(), None).is_ok();
        let Some(t) = self.touched else { return fresh() };
        match t.self_compatible.get() {
            Some(ok) => {
                debug_assert_eq!(ok, fresh(), "kept self-compatibility of node {} is stale", self.view.node.name);
                ok
            }
            None => {
                let ok = fresh();
                t.self_compatible.set(Some(ok));
                ok
            }
        }
    }
}

impl<'v, 'a> ExistingNodes<'v, 'a> {
    /// The view's nodes, those at the positions `gone` (ascending) treated as gone.
    pub fn new(views: &'v [NodeView<'a>], gone: &[usize]) -> Self {
        let mut bits = Bits::new(views.len());
        for &i in gone {
            bits.set(i);
        }
        ExistingNodes { views, gone: bits, has_entry: Bits::new(views.len()), touched: FxHashMap::default(), blocks: Vec::new() }
    }

    pub fn len(&self) -> usize {
        self.views.len()
    }

    pub fn is_gone(&self, i: usize) -> bool {
        self.gone.get(i)
    }

    /// The nodes the run does not treat as gone, in order.
    pub fn active(&self) -> impl Iterator<Item = &'a Node> + '_ {
        self.views.iter().enumerate().filter(|(i, _)| !self.is_gone(*i)).map(|(_, v)| v.node)
    }

    pub fn get(&self, i: usize) -> Existing<'_, 'v, 'a> {
        let touched = if self.has_entry.get(i) { self.touched.get(&i) } else { None };
        Existing { view: &self.views[i], touched }
    }

    fn remaining(&self, i: usize) -> &Resources {
        if self.has_entry.get(i) { self.get(i).remaining() } else { &self.views[i].room.remaining }
    }

    /// The first node from position `from` on that the run does not treat as gone and whose free
    /// capacity fits `requests` (`Fits`), as a walk over every node would find it: a block is
    /// stepped over only when no node of it can fit them.
    pub fn first_with_room(&mut self, requests: &Resources, from: usize) -> Option<usize> {
        let mut i = from;
        let found = loop {
            if i >= self.views.len() {
                break None;
            }
            if i.is_multiple_of(BLOCK) && !may_fit(requests, &self.block_room(i / BLOCK)) {
                i += BLOCK;
                continue;
            }
            if self.fits(requests, i) {
                break Some(i);
            }
            i += 1;
        };
        // debug builds (the tests) check every scan against the walk over every node
        debug_assert_eq!(found, (from..self.views.len()).find(|&i| self.fits(requests, i)), "first-fit blocks are stale");
        found
    }

    fn fits(&self, requests: &Resources, i: usize) -> bool {
        !self.is_gone(i) && requests.fits(self.remaining(i))
    }

    /// Block `b`'s [`BlockRoom`], worked out now if no scan has reached it yet.
    fn block_room(&mut self, b: usize) -> BlockRoom {
        if self.blocks.is_empty() {
            self.blocks = vec![None; self.views.len().div_ceil(BLOCK)];
        }
        if let Some(m) = self.blocks[b] {
            return m;
        }
        let (lo, hi) = (b * BLOCK, ((b + 1) * BLOCK).min(self.views.len()));
        let mut m = [i64::MIN; 4];
        // a block lies in one word of the bits (64 is a multiple of BLOCK): a block without entries,
        // as most are, reads the view's free capacity of each node
        let entries = (self.has_entry.0[lo / 64] >> (lo % 64)) & (u64::MAX >> (64 - BLOCK));
        for (i, v) in (lo..hi).zip(&self.views[lo..hi]) {
            let r = if entries != 0 { self.remaining(i) } else { &v.room.remaining };
            merge_room(&mut m, r);
        }
        self.blocks[b] = Some(m);
        m
    }

    /// Give node `i` an entry, where its self-compatibility is kept from pod to pod.
    pub fn touch(&mut self, i: usize) {
        if !self.has_entry.get(i) {
            self.has_entry.set(i);
            self.touched.insert(i, Touched::default());
        }
    }

    /// Place pod `id` on node `i`: its requests, host ports and volume claims, and the requirements
    /// it tightened (`None`: they stay as they are). Whether it is the node's first pod of the run.
    pub fn place(&mut self, i: usize, id: usize, pod: &Pod, requests: &Resources, reqs: Option<Requirements>) -> bool {
        let view = &self.views[i];
        self.has_entry.set(i);
        let t = self.touched.entry(i).or_default();
        let first = t.placed.is_none();
        let p = t.placed.get_or_insert_with(|| Placed {
            remaining: view.room.remaining.clone(),
            requirements: None,
            ports: Vec::new(),
            volumes: Vec::new(),
            pods: Vec::new(),
        });
        p.remaining.sub_assign(requests);
        p.ports.extend(pod.host_ports.iter().cloned());
        p.volumes.extend_from_slice(volumes::attachments(pod));
        p.pods.push(id);
        if let Some(reqs) = reqs {
            p.requirements = Some(reqs);
            t.self_compatible.set(None);
        }
        // the block's largest free capacity stays an upper bound of its nodes' (requests only
        // lower a node's, but a merge costs nothing and assumes nothing)
        if let Some(Some(m)) = self.blocks.get_mut(i / BLOCK) {
            merge_room(m, &p.remaining);
        }
        first
    }

    /// The node's name and the pods the run placed on it (`None`: none).
    pub fn take_pods(&mut self, i: usize) -> Option<(Sym, Vec<usize>)> {
        let pods = self.touched.get_mut(&i)?.placed.take()?.pods;
        Some((self.views[i].node.name, pods))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scheduling::{ClusterView, MinValuesPolicy};

    /// Requests from nothing to more than any node has, on each amount the blocks keep.
    fn requests() -> Vec<Resources> {
        let mut out = Vec::new();
        for cpu in [0, 100, 900, 2_500, 7_000, 15_000, 40_000] {
            for gib in [0, 1, 6, 30] {
                let mut r = Resources::new();
                r.cpu = cpu;
                r.memory = gib << 30;
                r.pods = 1;
                out.push(r);
            }
        }
        out
    }

    fn walk(e: &ExistingNodes, requests: &Resources, from: usize) -> Option<usize> {
        (from..e.len()).find(|&i| !e.is_gone(i) && requests.fits(e.get(i).remaining()))
    }

    /// The scan that steps over blocks finds the node the walk over every node finds, for any
    /// requests and any start, with nodes gone and as pods are placed (which lowers the free
    /// capacity of blocks already worked out, and of blocks not yet reached).
    #[test]
    fn first_with_room_is_the_first_node_a_walk_finds() {
        let state = crate::fixtures::karpenter_cluster(150, 4, 7);
        let view = ClusterView::new(&state, MinValuesPolicy::default());
        assert_eq!(view.nodes.len(), 150);
        let gone = [0, 3, 40, 63, 64, 149];
        let mut e = ExistingNodes::new(&view.nodes, &gone);
        let pod = &state.pods[0];
        let check = |e: &mut ExistingNodes| {
            for r in requests() {
                for from in [0, 1, 5, 31, 32, 33, 100, 149, 150] {
                    let expected = walk(e, &r, from);
                    assert_eq!(e.first_with_room(&r, from), expected, "requests {r:?} from {from}");
                }
            }
        };
        check(&mut e);
        // fill nodes in blocks worked out and not, the first pod of each found by the scan
        let mut placed = Vec::new();
        for (round, r) in requests().iter().rev().cycle().take(400).enumerate() {
            let Some(i) = e.first_with_room(r, (round * 7) % 150) else { continue };
            let first = e.place(i, placed.len(), pod, r, None);
            assert_eq!(first, !placed.contains(&i));
            placed.push(i);
            if round % 50 == 0 {
                check(&mut e);
            }
        }
        assert!(placed.len() > 100, "only {} pods placed", placed.len());
        check(&mut e);
        for i in 0..e.len() {
            let on_it = placed.iter().filter(|&&p| p == i).count();
            assert_eq!(e.take_pods(i).map_or(0, |(_, p)| p.len()), on_it);
            assert!(!e.is_gone(i) || on_it == 0);
        }
    }
}
