//! Room blocks: the most free room of any node in each block of a view's node order, so that a
//! run's first-fit scan over the existing nodes passes a block with no room for a pod in one test.
//!
//! Karpenter tries existing nodes in order for every pod and takes the first that can have it
//! (`scheduler.go: add`). In a cluster whose front nodes are full (a drifted cluster being
//! replaced, one node per round), each run's first pod of every request shape tested every full
//! node before the first with room, at every round. A node's free room only shrinks during a run,
//! so a block whose largest free cpu, memory, ephemeral storage or pods, as the view has them, is
//! below the pod's cannot hold a node that fits it: skipping the block gives the same first fit.

use crate::resources::Resources;

/// Nodes per block: a skipped block saves 64 room tests, and a view of n nodes has n / 64 blocks.
pub(crate) const BLOCK: usize = 64;

/// Free cpu, memory, ephemeral storage and pods: of one node, or the largest of each among a
/// block's nodes (each taken on its own: an upper bound of what any one node has).
pub(crate) type Free = [i64; 4];

/// What a node whose room is not known counts as: room for anything (its block is never passed).
pub(super) const UNKNOWN: Free = [i64::MAX; 4];

/// The four amounts a block compares.
pub(super) fn free_of(r: &Resources) -> Free {
    [r.cpu, r.memory, r.ephemeral_storage, r.pods]
}

/// The largest of each amount among `free` (each taken on its own).
pub(super) fn largest(free: &[Free]) -> Free {
    let mut m = [i64::MIN; 4];
    for f in free {
        m = [m[0].max(f[0]), m[1].max(f[1]), m[2].max(f[2]), m[3].max(f[3])];
    }
    m
}

/// Consecutive nodes of a view's order from `start`: each one's free amounts, and their largest.
#[derive(Clone, Copy)]
pub(crate) struct Block<'v> {
    /// Its number among the view's blocks (the next block's is one more).
    pub(crate) number: usize,
    pub(crate) start: usize,
    pub(crate) max: &'v Free,
    pub(crate) free: &'v [Free],
}

impl Block<'_> {
    /// The position after its last node.
    pub(crate) fn end(&self) -> usize {
        self.start + self.free.len()
    }

    /// Whether no node of it had room for `requests` when the blocks were worked out.
    pub(crate) fn rules_out(&self, requests: &Resources) -> bool {
        exceeds(requests, self.max)
    }

    /// The free amounts of the node at `i` (a position in it).
    pub(crate) fn free_at(&self, i: usize) -> &Free {
        &self.free[i - self.start]
    }
}

/// The room blocks of a view that lists its nodes: blocks of [`BLOCK`] nodes from the first.
pub(super) struct FixedBlocks {
    free: Vec<Free>,
    max: Vec<Free>,
}

impl FixedBlocks {
    /// The blocks of nodes with free amounts `free`, in the view's order.
    pub(super) fn new(free: Vec<Free>) -> FixedBlocks {
        let max = free.chunks(BLOCK).map(largest).collect();
        FixedBlocks { free, max }
    }

    /// The block holding the node at `i`.
    pub(super) fn block(&self, i: usize) -> Block<'_> {
        self.number(i / BLOCK).expect("a position in the view")
    }

    /// The block numbered `b`, if there is one.
    pub(super) fn number(&self, b: usize) -> Option<Block<'_>> {
        let max = self.max.get(b)?;
        let start = b * BLOCK;
        Some(Block { number: b, start, max, free: &self.free[start..(start + BLOCK).min(self.free.len())] })
    }
}

/// Whether `requests` ask for more of one of the four amounts than `free` has (then they do not
/// fit: [`Resources::fits`] compares these four among others).
#[inline]
pub(crate) fn exceeds(requests: &Resources, free: &Free) -> bool {
    requests.cpu > free[0] || requests.memory > free[1] || requests.ephemeral_storage > free[2] || requests.pods > free[3]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn free(cpu: i64, memory: i64, pods: i64) -> Resources {
        Resources::from_pairs([("cpu", cpu), ("memory", memory), ("ephemeral-storage", 1 << 30), ("pods", pods)])
    }

    fn blocks(rooms: &[Resources]) -> FixedBlocks {
        FixedBlocks::new(rooms.iter().map(free_of).collect())
    }

    /// A block is ruled out exactly when every node of it lacks room in some dimension, each
    /// dimension taken on its own; a block with one node that fits is never ruled out.
    #[test]
    fn a_block_is_ruled_out_only_when_no_node_of_it_fits() {
        let mut rooms: Vec<Resources> = (0..BLOCK * 2 + 5).map(|_| free(100, 1 << 20, 0)).collect();
        // block 1: one node with cpu, another with pods, none with both
        rooms[BLOCK + 3] = free(4000, 1 << 30, 0);
        rooms[BLOCK + 9] = free(100, 1 << 20, 20);
        // block 2 (a short last block): one node that fits
        rooms[2 * BLOCK + 4] = free(4000, 1 << 30, 20);
        let b = blocks(&rooms);
        let pod = free(2000, 1 << 25, 1);
        for at in [0, BLOCK, 2 * BLOCK] {
            let block = b.block(at + 1);
            assert_eq!((block.start, block.end()), (at, (at + BLOCK).min(rooms.len())));
            let any_fits = rooms[at..block.end()].iter().any(|r| pod.fits(r));
            assert!(!any_fits || !block.rules_out(&pod), "block at {at} holds a node that fits");
            assert!(rooms[at..block.end()].iter().map(free_of).eq(block.free.iter().copied()));
        }
        assert!(b.block(0).rules_out(&pod));
        assert!(!b.block(BLOCK).rules_out(&pod), "an upper bound per dimension: block 1 is visited");
        assert!(!b.block(2 * BLOCK).rules_out(&pod));
        assert!(!b.block(0).rules_out(&free(100, 1 << 20, 0)), "a pod that fits the first node");
        // the short last block has no next one
        assert_eq!(b.number(2).map(|l| l.end()), Some(rooms.len()));
        assert!(b.number(3).is_none());
    }
}
