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

/// Work out `blocks` again for blocks `changed` (an inclusive range of block numbers; its end
/// past the last block when entries were added or removed), for `items` in the view's order (all
/// of them) whose free amounts `free` gives.
pub(super) fn refresh<T>(blocks: &mut Vec<Free>, items: &[T], free: impl Fn(&T) -> Free, changed: (usize, usize)) {
    let count = items.len().div_ceil(BLOCK);
    let (lo, hi) = (changed.0.min(count), changed.1.min(count.saturating_sub(1)));
    if blocks.len() != count || changed.1 >= count {
        blocks.truncate(lo);
        blocks.resize(count, [i64::MIN; 4]);
    }
    for (b, chunk) in blocks[lo..].iter_mut().zip(items[lo * BLOCK..].chunks(BLOCK)).take((hi + 1).saturating_sub(lo)) {
        let mut m = [i64::MIN; 4];
        for f in chunk.iter().map(&free) {
            m = [m[0].max(f[0]), m[1].max(f[1]), m[2].max(f[2]), m[3].max(f[3])];
        }
        *b = m;
    }
}

/// Whether no node of the block starting at `at` (a multiple of [`BLOCK`]) had room for
/// `requests` when the blocks were worked out.
pub(crate) fn rules_out(blocks: &[Free], at: usize, requests: &Resources) -> bool {
    exceeds(requests, &blocks[at / BLOCK])
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

    fn blocks(rooms: &[Resources]) -> Vec<Free> {
        let mut b = Vec::new();
        refresh(&mut b, rooms, free_of, (0, usize::MAX));
        b
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
            let any_fits = rooms[at..(at + BLOCK).min(rooms.len())].iter().any(|r| pod.fits(r));
            assert!(!any_fits || !rules_out(&b, at, &pod), "block at {at} holds a node that fits");
        }
        assert!(rules_out(&b, 0, &pod));
        assert!(!rules_out(&b, BLOCK, &pod), "an upper bound per dimension: block 1 is visited");
        assert!(!rules_out(&b, 2 * BLOCK, &pod));
        assert!(!rules_out(&b, 0, &free(100, 1 << 20, 0)), "a pod that fits the first node");
    }

    /// Blocks worked out again from a block on, after the nodes from there changed (one removed,
    /// two added; some moved within two blocks; the last ones removed), are the blocks worked out
    /// from the first.
    #[test]
    fn blocks_refreshed_from_a_block_on_are_the_blocks_worked_out_afresh() {
        let mut rooms: Vec<Resources> = (0..BLOCK * 3).map(|i| free(i as i64, 1 << 20, 3)).collect();
        let mut b = blocks(&rooms);
        rooms.remove(BLOCK + 1);
        rooms.push(free(1, 1, 1));
        rooms.push(free(7, 7, 7));
        refresh(&mut b, &rooms, free_of, (1, usize::MAX));
        assert_eq!(b, blocks(&rooms));
        // entries of blocks 1 and 2 moved within them (a rotation): those blocks only
        rooms[BLOCK + 5..2 * BLOCK + 9].rotate_left(1);
        rooms[BLOCK + 5].cpu = 9999;
        refresh(&mut b, &rooms, free_of, (1, 2));
        assert_eq!(b, blocks(&rooms));
        rooms.truncate(BLOCK + 2);
        refresh(&mut b, &rooms, free_of, (1, usize::MAX));
        assert_eq!(b, blocks(&rooms));
    }
}
