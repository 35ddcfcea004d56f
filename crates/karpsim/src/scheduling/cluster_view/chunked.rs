//! [`Chunked`]: a sequence kept in chunks of about [`BLOCK`] items, each chunk holding its items'
//! free amounts side by side and the largest of each (the chunk is a room block,
//! [`super::room_blocks`]), and each item's slot in the state's nodes.
//!
//! Why chunks: the order kept across until-stable's views (`kept.rs`) changes by a node or two a
//! round, anywhere in the order (a drift round over a cluster removes the first node of the
//! order). In one vector, each such change moved every later entry, and changed every later block
//! of fixed positions, whose largest free amounts were then worked out again: two passes over most
//! of the order at every round, which made a drifted run grow with the nodes squared. In chunks, a
//! removal or an insertion moves the items of one chunk and works out that chunk's largest amounts
//! again; only the chunks' first positions (one number a chunk) shift.

use super::room_blocks::{largest, Block, Free, BLOCK};
use std::cell::Cell;
use std::cmp::Ordering;

/// Items in order, in chunks of 1 to `2 * BLOCK` items (of `BLOCK` when made from a list), read by
/// position as one sequence.
pub(super) struct Chunked<T> {
    chunks: Vec<Chunk<T>>,
    /// The position of each chunk's first item (ascending: no chunk is empty).
    starts: Vec<usize>,
    len: usize,
    /// The chunk [`Chunked::locate`] found last: a run reads nodes in order, so the next position
    /// is mostly in it or the next, found without a search.
    last: Cell<usize>,
}

struct Chunk<T> {
    items: Vec<T>,
    /// Each item's free amounts.
    free: Vec<Free>,
    /// Each item's slot in the state's nodes (`state::BoxList::slot_of`: it stays while the
    /// nodes keep their layout, whatever is removed).
    at: Vec<u32>,
    /// The largest of each of `free`'s amounts, when not `stale`.
    max: Free,
    /// `free` changed since `max` was worked out ([`Chunked::refresh`]).
    stale: bool,
}

impl<T> Chunk<T> {
    fn new(items: Vec<T>, free: Vec<Free>, at: Vec<u32>) -> Chunk<T> {
        Chunk { items, free, at, max: [i64::MIN; 4], stale: true }
    }
}

impl<T> Default for Chunked<T> {
    fn default() -> Self {
        Chunked { chunks: Vec::new(), starts: Vec::new(), len: 0, last: Cell::new(0) }
    }
}

impl<T> Chunked<T> {
    /// `items` in their order, with their free amounts and slots, in chunks of [`BLOCK`].
    pub(super) fn new(items: impl IntoIterator<Item = (T, Free, u32)>) -> Chunked<T> {
        let mut out = Chunked::default();
        let mut items = items.into_iter().peekable();
        while items.peek().is_some() {
            let mut chunk = Chunk::new(Vec::with_capacity(BLOCK), Vec::with_capacity(BLOCK), Vec::with_capacity(BLOCK));
            for (item, free, at) in items.by_ref().take(BLOCK) {
                chunk.items.push(item);
                chunk.free.push(free);
                chunk.at.push(at);
            }
            out.chunks.push(chunk);
        }
        out.restart(0);
        out
    }

    pub(super) fn len(&self) -> usize {
        self.len
    }

    pub(super) fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The chunk holding position `i` (below `len`), and `i`'s place in it.
    #[inline]
    fn locate(&self, i: usize) -> (usize, usize) {
        debug_assert!(i < self.len, "position {i} of {}", self.len);
        let holds = |c: usize| self.starts.get(c).is_some_and(|&s| s <= i) && self.starts.get(c + 1).is_none_or(|&next| i < next);
        let last = self.last.get();
        let c = if holds(last) {
            last
        } else if holds(last + 1) {
            last + 1
        } else {
            self.starts.partition_point(|&s| s <= i) - 1
        };
        self.last.set(c);
        (c, i - self.starts[c])
    }

    #[inline]
    pub(super) fn get(&self, i: usize) -> &T {
        let (c, j) = self.locate(i);
        &self.chunks[c].items[j]
    }

    /// The item at `i`, to change (but for its free amounts: [`Chunked::set_free`]).
    pub(super) fn get_mut(&mut self, i: usize) -> &mut T {
        let (c, j) = self.locate(i);
        &mut self.chunks[c].items[j]
    }

    /// The slot in the state's nodes of the item at `i`.
    #[inline]
    pub(super) fn at(&self, i: usize) -> u32 {
        let (c, j) = self.locate(i);
        self.chunks[c].at[j]
    }

    /// The item at `i` and its slot in the state's nodes.
    #[inline]
    pub(super) fn get_and_at(&self, i: usize) -> (&T, u32) {
        let (c, j) = self.locate(i);
        (&self.chunks[c].items[j], self.chunks[c].at[j])
    }


    pub(super) fn set_free(&mut self, i: usize, free: Free) {
        let (c, j) = self.locate(i);
        let chunk = &mut self.chunks[c];
        chunk.free[j] = free;
        chunk.stale = true;
    }

    /// The items in order.
    pub(super) fn iter(&self) -> impl Iterator<Item = &T> + '_ {
        self.chunks.iter().flat_map(|c| &c.items)
    }

    /// The items in order, with their slots in the state's nodes.
    pub(super) fn iter_at(&self) -> impl Iterator<Item = (&T, u32)> + '_ {
        self.chunks.iter().flat_map(|c| c.items.iter().zip(c.at.iter().copied()))
    }

    /// The items in order, taken out.
    pub(super) fn into_items(self) -> impl Iterator<Item = T> {
        self.chunks.into_iter().flat_map(|c| c.items)
    }

    /// The free amounts of the items in order.
    pub(super) fn free_amounts(&self) -> impl Iterator<Item = Free> + '_ {
        self.chunks.iter().flat_map(|c| c.free.iter().copied())
    }

    /// [`slice::binary_search_by`] over the items in order (`compare` says how an item stands to
    /// the one sought).
    pub(super) fn binary_search_by(&self, mut compare: impl FnMut(&T) -> Ordering) -> Result<usize, usize> {
        // the first chunk whose last item is not below the one sought holds it, if any does
        let c = self.chunks.partition_point(|ch| ch.items.last().is_some_and(|last| compare(last) == Ordering::Less));
        match self.chunks.get(c) {
            None => Err(self.len),
            Some(ch) => match ch.items.binary_search_by(compare) {
                Ok(j) => Ok(self.starts[c] + j),
                Err(j) => Err(self.starts[c] + j),
            },
        }
    }

    /// Removes and returns the item at `i`: its chunk's later items move, no other chunk's.
    pub(super) fn remove(&mut self, i: usize) -> T {
        let (c, j) = self.locate(i);
        let chunk = &mut self.chunks[c];
        let item = chunk.items.remove(j);
        chunk.free.remove(j);
        chunk.at.remove(j);
        chunk.stale = true;
        let left = chunk.items.len();
        if left == 0 {
            self.chunks.remove(c);
            self.starts.remove(c);
        } else if self.chunks.get(c + 1).is_some_and(|next| left + next.items.len() <= BLOCK) {
            // a small chunk takes in the next when both fit one chunk of the size made from a
            // list: removals do not leave a long trail of small chunks for a scan to step through
            let next = self.chunks.remove(c + 1);
            self.starts.remove(c + 1);
            let chunk = &mut self.chunks[c];
            chunk.items.extend(next.items);
            chunk.free.extend(next.free);
            chunk.at.extend(next.at);
        }
        self.restart(c);
        item
    }

    /// Inserts `item` with its free amounts and slot at `i` (at most `len`): its chunk's later
    /// items move, and a chunk grown to twice [`BLOCK`] splits in two.
    pub(super) fn insert(&mut self, i: usize, item: T, free: Free, at: u32) {
        assert!(i <= self.len, "insertion at {i} of {}", self.len);
        if self.chunks.is_empty() {
            self.chunks.push(Chunk::new(vec![item], vec![free], vec![at]));
            self.restart(0);
            return;
        }
        let (c, j) = if i == self.len { (self.chunks.len() - 1, self.chunks[self.chunks.len() - 1].items.len()) } else { self.locate(i) };
        let chunk = &mut self.chunks[c];
        chunk.items.insert(j, item);
        chunk.free.insert(j, free);
        chunk.at.insert(j, at);
        chunk.stale = true;
        self.len += 1;
        if chunk.items.len() >= 2 * BLOCK {
            let items = chunk.items.split_off(BLOCK);
            let free = chunk.free.split_off(BLOCK);
            let at = chunk.at.split_off(BLOCK);
            self.chunks.insert(c + 1, Chunk::new(items, free, at));
            self.starts.insert(c + 1, 0);
        }
        self.restart(c);
    }

    /// The chunks' first positions from chunk `c` on, after the chunks before it.
    fn restart(&mut self, c: usize) {
        self.starts.truncate(c);
        let mut at = self.starts.last().map_or(0, |&s| s + self.chunks[c - 1].items.len());
        for chunk in &self.chunks[c..] {
            self.starts.push(at);
            at += chunk.items.len();
        }
        self.len = at;
    }

    /// Works out the largest free amounts of the chunks whose amounts changed.
    pub(super) fn refresh(&mut self) {
        for chunk in self.chunks.iter_mut().filter(|c| c.stale) {
            chunk.max = largest(&chunk.free);
            chunk.stale = false;
        }
        if cfg!(debug_assertions) {
            self.check();
        }
    }

    /// The chunk holding position `i`, as a room block (worked out by [`Chunked::refresh`]).
    pub(super) fn block(&self, i: usize) -> Block<'_> {
        let (c, _) = self.locate(i);
        self.number(c).expect("a chunk holds every position")
    }

    /// The chunk numbered `c` as a room block, if there is one.
    pub(super) fn number(&self, c: usize) -> Option<Block<'_>> {
        let chunk = self.chunks.get(c)?;
        debug_assert!(!chunk.stale, "a room block read before it was worked out");
        Some(Block { number: c, start: self.starts[c], max: &chunk.max, free: &chunk.free })
    }

    /// The chunks are what the operations promise (debug builds, after every refresh).
    fn check(&self) {
        let mut at = 0;
        for (chunk, &start) in self.chunks.iter().zip(&self.starts) {
            assert!(!chunk.items.is_empty() && chunk.items.len() < 2 * BLOCK, "a chunk of {} items", chunk.items.len());
            assert_eq!((chunk.items.len(), chunk.items.len()), (chunk.free.len(), chunk.at.len()));
            assert_eq!(start, at, "a chunk's first position");
            assert!(chunk.stale || chunk.max == largest(&chunk.free), "a chunk's largest free amounts are stale");
            at += chunk.items.len();
        }
        assert_eq!((self.chunks.len(), at), (self.starts.len(), self.len));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn free(x: i64) -> Free {
        [x, x * 2, 7, x % 5]
    }

    /// Removals and insertions at the front, the back and anywhere (chunks split, emptied, merged),
    /// and free amounts set leave the same items, free amounts, slots, searches and blocks as one
    /// vector given the same changes.
    #[test]
    fn a_chunked_sequence_is_the_vector_given_the_same_changes() {
        // (an item, its free amounts, its slot)
        let mut model: Vec<(u32, Free, u32)> = (0..300u32).map(|x| (x * 10, free(i64::from(x)), x)).collect();
        let mut c = Chunked::new(model.iter().copied());
        let mut rng = 12345u64;
        let mut next = |n: usize| {
            rng = rng.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            (rng >> 33) as usize % n.max(1)
        };
        for step in 0..3000 {
            match step % 7 {
                // a drift round: the first item goes
                0 if !model.is_empty() => {
                    assert_eq!(c.remove(0), model.remove(0).0);
                }
                1 | 2 if !model.is_empty() => {
                    let i = next(model.len());
                    assert_eq!(c.remove(i), model.remove(i).0);
                }
                3 => {
                    // many insertions in one place split its chunk again and again
                    let key = 1_000_001 + step as u32;
                    let i = model.partition_point(|e| e.0 < key);
                    assert_eq!(c.binary_search_by(|x| x.cmp(&key)), Err(i));
                    model.insert(i, (key, free(step as i64), step as u32));
                    c.insert(i, key, free(step as i64), step as u32);
                }
                _ => {
                    let key = next(4_000_000) as u32 | 1;
                    let i = model.partition_point(|e| e.0 < key);
                    if model.get(i).is_some_and(|e| e.0 == key) {
                        continue;
                    }
                    model.insert(i, (key, free(key as i64), key % 1000));
                    c.insert(i, key, free(key as i64), key % 1000);
                }
            }
            if step % 97 == 0 && !model.is_empty() {
                let i = next(model.len());
                model[i].1 = free(-(step as i64));
                c.set_free(i, free(-(step as i64)));
            }
            c.refresh();
            assert_eq!(c.len(), model.len());
            assert!(c.iter_at().map(|(&x, at)| (x, at)).eq(model.iter().map(|e| (e.0, e.2))), "items at step {step}");
            assert!(c.free_amounts().eq(model.iter().map(|e| e.1)), "free amounts at step {step}");
            if model.is_empty() {
                continue;
            }
            let i = next(model.len());
            assert_eq!(c.get_and_at(i), (&model[i].0, model[i].2));
            assert_eq!(c.at(i), model[i].2);
            assert_eq!(c.binary_search_by(|x| x.cmp(&model[i].0)), Ok(i));
            let b = c.block(i);
            assert!((b.start..b.end()).contains(&i));
            // the next block starts where this one ends
            assert_eq!(c.number(b.number + 1).map_or(c.len(), |n| n.start), b.end());
            assert!(b.free.iter().copied().eq(model[b.start..b.end()].iter().map(|e| e.1)));
            assert_eq!(*b.max, largest(b.free));
        }
        assert!(c.chunks.len() > 1, "the run left more than one chunk");
    }
}
