//! [`GapList`]: a list read like a slice whose removals leave gaps, closed in one pass now and
//! then, so that removing an item moves none of the later items. The state's pods are one
//! ([`super::PodList`]).

use std::iter::FusedIterator;

/// Items in order, read like a slice of `T` (`iter`, `len`, `get`, indexing, `&list` in a `for`
/// loop); serialized as a sequence of items, as `Vec<T>` is.
///
/// The items lie side by side in order in one vector, as a `Vec<T>`'s do, so a pass over them
/// reads memory in order: the simulator passes over every pod many times a simulated minute, and
/// pods kept one per allocation (boxes) made its day 8-11% slower.
///
/// [`GapList::remove_at`] leaves the removed items where they are, as gaps: until-stable removes
/// the pods of a deleted node at nearly every round, and moving every later pod (248 bytes each)
/// made a run over `n` pods move `n²/2` pods' bytes. The gaps' slots are kept in a sorted list;
/// a removal inserts its slots there (at its end when removals move forward through the list, as
/// a drift run's do), and a position's slot is found by a binary search over it. The gaps are
/// closed (their items dropped, the others moved down) once they outnumber half the items, so each
/// removal pays for about two item moves, or before anything that rewrites the list as a whole
/// (`retain`, a sort). Passing over the items skips the gaps by slot number, without reading them.
///
/// The order is exactly a `Vec<T>`'s given the same changes: outputs and Karpenter's orders
/// depend on it.
pub struct GapList<T> {
    /// The items in order, and among them the removed ones not yet dropped (the gaps).
    items: Vec<T>,
    /// The slots (indices in `items`) of the gaps, increasing.
    gaps: Vec<usize>,
    /// Which slot layout the items are in ([`GapList::layout`]).
    layout: Layout,
}

/// Names the slots a [`GapList`]'s items are in: two reads of one list's layout are equal while
/// no item has changed slot (pushes and removals keep every slot; closing the gaps, `retain`, a
/// sort and `clear` give a new layout, and each list, a clone included, has its own). Lets a
/// reader keep slots across changes ([`GapList::slot_of`], [`GapList::at_slot`]) and know when
/// they went stale.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Layout(u64);

impl Layout {
    /// A layout no list has had (only compared for equality: nothing an output depends on).
    fn fresh() -> Layout {
        static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        Layout(NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed))
    }
}

super::slice_like_impls!(GapList);

impl<T> GapList<T> {
    pub fn new() -> GapList<T> {
        GapList::from(Vec::new())
    }

    pub fn with_capacity(capacity: usize) -> GapList<T> {
        GapList::from(Vec::with_capacity(capacity))
    }

    #[inline]
    pub fn len(&self) -> usize {
        self.items.len() - self.gaps.len()
    }

    #[inline]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    #[inline]
    pub fn iter(&self) -> Iter<'_, T> {
        Iter::new(&self.items, &self.gaps)
    }

    #[inline]
    pub fn iter_mut(&mut self) -> IterMut<'_, T> {
        IterMut::new(&mut self.items, &self.gaps)
    }

    /// The slot of the item at position `at` (`at < len`).
    #[inline]
    fn slot(&self, at: usize) -> usize {
        if self.gaps.is_empty() { at } else { at + removed_before(&self.gaps, at) }
    }

    /// The slot the item at position `at` is in: where [`GapList::at_slot`] finds it while the
    /// list's [`GapList::layout`] stays the same (`at < len`).
    #[inline]
    pub fn slot_of(&self, at: usize) -> usize {
        debug_assert!(at < self.len(), "position {at} out of bounds ({})", self.len());
        self.slot(at)
    }

    /// The item in `slot` (from [`GapList::slot_of`] under the current layout, and not removed
    /// since: [`GapList::is_gap`]).
    #[inline]
    pub fn at_slot(&self, slot: usize) -> &T {
        debug_assert!(!self.is_gap(slot), "slot {slot} is a gap");
        &self.items[slot]
    }

    /// Whether the item in `slot` was removed (it is a gap).
    pub fn is_gap(&self, slot: usize) -> bool {
        self.gaps.binary_search(&slot).is_ok()
    }

    /// The position of the item in `slot` (not a gap).
    pub fn position_of_slot(&self, slot: usize) -> usize {
        slot - self.gaps.partition_point(|&g| g < slot)
    }

    /// The slots of the items, in order.
    pub fn slots(&self) -> impl Iterator<Item = usize> + '_ {
        let mut gaps = self.gaps.iter().copied().peekable();
        (0..self.items.len()).filter(move |&slot| gaps.next_if_eq(&slot).is_none())
    }

    /// The slot layout the items are in now.
    #[inline]
    pub fn layout(&self) -> Layout {
        self.layout
    }

    #[inline]
    pub fn get(&self, at: usize) -> Option<&T> {
        (at < self.len()).then(|| &self.items[self.slot(at)])
    }

    #[inline]
    pub fn get_mut(&mut self, at: usize) -> Option<&mut T> {
        if at < self.len() {
            let slot = self.slot(at);
            Some(&mut self.items[slot])
        } else {
            None
        }
    }

    pub fn first(&self) -> Option<&T> {
        self.get(0)
    }

    pub fn last(&self) -> Option<&T> {
        self.len().checked_sub(1).and_then(|at| self.get(at))
    }

    /// Appends `item` at the end of the order.
    pub fn push(&mut self, item: T) {
        self.items.push(item);
    }

    pub fn reserve_exact(&mut self, additional: usize) {
        self.items.reserve_exact(additional);
    }

    /// Removes the items at the positions `at` (ascending, each once). They stay where they are,
    /// as gaps, until the gaps are closed: no later item moves.
    ///
    /// # Panics
    /// When a position is out of bounds.
    pub fn remove_at(&mut self, at: &[usize]) {
        debug_assert!(at.windows(2).all(|w| w[0] < w[1]), "positions not ascending: {at:?}");
        let Some(&last) = at.last() else { return };
        assert!(last < self.len(), "position {last} out of bounds ({})", self.len());
        let slots: Vec<usize> = at.iter().map(|&a| self.slot(a)).collect();
        for slot in slots {
            let i = self.gaps.partition_point(|&g| g < slot);
            self.gaps.insert(i, slot);
        }
        if self.gaps.len() > 32 && 2 * self.gaps.len() > self.len() {
            self.close_gaps();
        }
    }

    /// Puts `item` back in `slot`, a gap since a [`GapList::remove_at`] under the current layout:
    /// it is again where it was in the order, and no slot changes.
    ///
    /// # Panics
    /// When `slot` is not a gap.
    pub fn restore(&mut self, slot: usize, item: T) {
        let i = self.gaps.binary_search(&slot).unwrap_or_else(|_| panic!("slot {slot} is not a gap"));
        self.gaps.remove(i);
        self.items[slot] = item;
    }

    /// Drops the gaps' items and moves the others down over them (one pass, in order).
    fn close_gaps(&mut self) {
        if self.gaps.is_empty() {
            return;
        }
        let mut gaps = self.gaps.iter().copied().peekable();
        let mut slot = 0usize;
        self.items.retain(|_| {
            let gap = gaps.next_if_eq(&slot).is_some();
            slot += 1;
            !gap
        });
        self.gaps.clear();
        self.layout = Layout::fresh();
    }

    /// Changes the items as a whole with `change` (on the vector of items, the gaps closed first):
    /// a new layout.
    fn rewrite(&mut self, change: impl FnOnce(&mut Vec<T>)) {
        self.close_gaps();
        change(&mut self.items);
        self.layout = Layout::fresh();
    }

    /// Keeps the items `keep` is true of, in order (each item visited once, in order).
    pub fn retain(&mut self, keep: impl FnMut(&T) -> bool) {
        self.rewrite(|items| items.retain(keep));
    }

    /// [`GapList::retain`], with the items mutable.
    pub fn retain_mut(&mut self, keep: impl FnMut(&mut T) -> bool) {
        self.rewrite(|items| items.retain_mut(keep));
    }

    pub fn clear(&mut self) {
        self.items.clear();
        self.gaps.clear();
        self.layout = Layout::fresh();
    }

    /// Sorts the items by `key`, keeping the order of equal ones (a stable sort).
    pub fn sort_by_key<K: Ord>(&mut self, key: impl FnMut(&T) -> K) {
        self.rewrite(|items| items.sort_by_key(key));
    }

    /// Inserts `item` at position `at` (after closing the gaps: a new layout).
    ///
    /// # Panics
    /// When `at > len`.
    pub fn insert(&mut self, at: usize, item: T) {
        self.rewrite(|items| items.insert(at, item));
    }

    /// Swaps the items at positions `a` and `b` (each then in the other's slot: a new layout).
    ///
    /// # Panics
    /// When either is out of bounds.
    pub fn swap(&mut self, a: usize, b: usize) {
        assert!(a < self.len() && b < self.len(), "position {} out of bounds ({})", a.max(b), self.len());
        let (sa, sb) = (self.slot(a), self.slot(b));
        self.items.swap(sa, sb);
        self.layout = Layout::fresh();
    }

    /// Keeps the first `len` items.
    pub fn truncate(&mut self, len: usize) {
        self.rewrite(|items| items.truncate(len));
    }

    /// Sorts the items with `compare`, keeping the order of equal ones (a stable sort).
    pub fn sort_by(&mut self, compare: impl FnMut(&T, &T) -> std::cmp::Ordering) {
        self.rewrite(|items| items.sort_by(compare));
    }

    /// Every slot's item, the gaps' included, in slot order (for a list whose gaps' items say
    /// they are gaps: [`super::BoxList`]'s).
    pub(super) fn slot_items(&self) -> &[T] {
        &self.items
    }

    /// [`GapList::slot_items`], mutable.
    pub(super) fn slot_items_mut(&mut self) -> &mut [T] {
        &mut self.items
    }

    /// The memory the items lie in (gaps included): one vector, in order, so that an item's
    /// address follows its position.
    pub fn as_ptr_range(&self) -> std::ops::Range<*const T> {
        self.items.as_ptr_range()
    }

    /// The items, in order.
    pub fn into_vec(mut self) -> Vec<T> {
        self.close_gaps();
        self.items
    }
}

/// How many of `removed` (the ascending positions, in a list as it was before, of items removed
/// from it since) lie before the item now at position `at`: the `j`-th (from 0), at `r`, has
/// `r - j` items kept before it, which never falls as `j` grows, so a binary search counts those
/// with at most `at`. A gap list finds a position's slot so; until-stable's kept pod lists
/// (`scheduling::bound_pods`) translate their positions so.
pub(crate) fn removed_before(removed: &[usize], at: usize) -> usize {
    let (mut lo, mut hi) = (0, removed.len());
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        if removed[mid] - mid <= at {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    lo
}

impl<T> std::ops::Index<usize> for GapList<T> {
    type Output = T;

    #[inline]
    fn index(&self, at: usize) -> &T {
        &self.items[self.slot(at)]
    }
}

impl<T> std::ops::IndexMut<usize> for GapList<T> {
    #[inline]
    fn index_mut(&mut self, at: usize) -> &mut T {
        let slot = self.slot(at);
        &mut self.items[slot]
    }
}

impl<T: Clone> Clone for GapList<T> {
    /// A clone has no gaps.
    fn clone(&self) -> GapList<T> {
        if self.gaps.is_empty() {
            GapList::from(self.items.clone())
        } else {
            self.iter().cloned().collect()
        }
    }
}

impl<T> From<Vec<T>> for GapList<T> {
    fn from(items: Vec<T>) -> GapList<T> {
        GapList { items, gaps: Vec::new(), layout: Layout::fresh() }
    }
}

impl<T> FromIterator<T> for GapList<T> {
    fn from_iter<I: IntoIterator<Item = T>>(items: I) -> GapList<T> {
        GapList::from(items.into_iter().collect::<Vec<T>>())
    }
}

impl<T> Extend<T> for GapList<T> {
    fn extend<I: IntoIterator<Item = T>>(&mut self, items: I) {
        for item in items {
            self.push(item);
        }
    }
}

impl<T> IntoIterator for GapList<T> {
    type Item = T;
    type IntoIter = std::vec::IntoIter<T>;

    fn into_iter(self) -> std::vec::IntoIter<T> {
        self.into_vec().into_iter()
    }
}

impl<T: PartialEq> PartialEq for GapList<T> {
    fn eq(&self, other: &GapList<T>) -> bool {
        self.len() == other.len() && self.iter().eq(other.iter())
    }
}

impl<T: Eq> Eq for GapList<T> {}

impl<'de, T: serde::Deserialize<'de>> serde::Deserialize<'de> for GapList<T> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<GapList<T>, D::Error> {
        Vec::<T>::deserialize(d).map(GapList::from)
    }
}

/// Defines a [`GapList`]'s iterator over its items: a slice iterator over each run of items
/// between two gaps in turn, so that an item costs what a slice's does (a gap's item is never read).
macro_rules! run_iterator {
    ($(#[$doc:meta])* $name:ident, $slice:ty, $run:ty, $item:ty, $iter:ident, $split_at:ident) => {
        $(#[$doc])*
        pub struct $name<'a, T> {
            /// The run being passed.
            run: $run,
            /// The items after it: empty, or a gap's item (at slot `base`) then the rest.
            rest: $slice,
            /// The slot of `rest`'s first item.
            base: usize,
            /// The gaps in `rest`, increasing.
            gaps: std::slice::Iter<'a, usize>,
        }

        impl<'a, T> $name<'a, T> {
            fn new(items: $slice, gaps: &'a [usize]) -> $name<'a, T> {
                let first = gaps.first().map_or(items.len(), |&g| g as usize);
                let (run, rest) = items.$split_at(first);
                $name { run: run.$iter(), rest, base: first, gaps: gaps.iter() }
            }
        }

        impl<'a, T> $name<'a, T> {
            /// The run is over: skips the gaps at its end and starts the next non-empty run
            /// (out of line: the loop over a run stays as small as a slice's).
            #[cold]
            #[inline(never)]
            fn next_after_gap(&mut self) -> Option<$item> {
                loop {
                    self.gaps.next()?;
                    let end = self.gaps.as_slice().first().map_or(self.base as usize + self.rest.len(), |&g| g as usize);
                    let (run, rest) = std::mem::take(&mut self.rest).$split_at(end - self.base as usize);
                    self.run = run[1..].$iter();
                    self.rest = rest;
                    self.base = end;
                    if let Some(item) = self.run.next() {
                        return Some(item);
                    }
                }
            }
        }

        impl<'a, T> Iterator for $name<'a, T> {
            type Item = $item;

            #[inline]
            fn next(&mut self) -> Option<$item> {
                match self.run.next() {
                    Some(item) => Some(item),
                    None => self.next_after_gap(),
                }
            }

            #[inline]
            fn size_hint(&self) -> (usize, Option<usize>) {
                let left = self.run.len() + self.rest.len() - self.gaps.len();
                (left, Some(left))
            }
        }

        impl<T> ExactSizeIterator for $name<'_, T> {}

        impl<T> FusedIterator for $name<'_, T> {}
    };
}

run_iterator!(
    /// The items of a [`GapList`], in order, by reference.
    Iter,
    &'a [T],
    std::slice::Iter<'a, T>,
    &'a T,
    iter,
    split_at
);

impl<T> Clone for Iter<'_, T> {
    fn clone(&self) -> Self {
        Iter { run: self.run.clone(), rest: self.rest, base: self.base, gaps: self.gaps.clone() }
    }
}

run_iterator!(
    /// The items of a [`GapList`], in order, mutable.
    IterMut,
    &'a mut [T],
    std::slice::IterMut<'a, T>,
    &'a mut T,
    iter_mut,
    split_at_mut
);

#[cfg(test)]
mod tests {
    use super::*;
    use rand::rngs::Xoshiro256PlusPlus;
    use rand::{RngExt, SeedableRng};

    /// Seeded changes of every kind, on the list and on a `Vec` beside it: after each, the list
    /// reads as the vector (by `iter`, a part-read iterator, indexing, `get`, `iter_mut` and a
    /// clone, with addresses increasing along it, and through its slots), whether it has gaps or
    /// not; its gaps are closed once they outnumber half the items, and a slot keeps its item
    /// while the layout stays.
    #[test]
    fn a_gap_list_is_the_vector_given_the_same_changes() {
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(16);
        let mut list: GapList<u64> = GapList::new();
        let mut model: Vec<u64> = Vec::new();
        let mut next = 0u64;
        let (mut most_gaps, mut closed_by_number, mut layouts) = (0, 0, 0);
        for step in 0..5_000 {
            let len = model.len();
            // the item (by its number, which `iter_mut` writes above) in each slot before the change
            let (layout, held): (Layout, Vec<(usize, u64)>) = (list.layout(), list.slots().map(|s| (s, list.at_slot(s) % 1_000_000)).collect());
            // every other thousand steps, no pushes: the list shrinks and its gaps pile up
            let shrinking = (step / 1_000) % 2 == 1;
            match rng.random_range(0..10) {
                0..=3 if !shrinking => super::super::seeded_changes::push_some(&mut rng, &mut next, |v| {
                    list.push(v);
                    model.push(v);
                }),
                0..=6 if len > 0 => {
                    let at = super::super::seeded_changes::positions(&mut rng, len, 5);
                    let gaps_before = list.gaps.len();
                    list.remove_at(&at);
                    closed_by_number += usize::from(gaps_before > 0 && list.gaps.is_empty());
                    for &i in at.iter().rev() {
                        model.remove(i);
                    }
                }
                7 if step % 5 == 0 => {
                    let m = rng.random_range(2..9);
                    list.retain(|v| v % m != 0);
                    model.retain(|v| v % m != 0);
                }
                8 => {
                    for (v, w) in list.iter_mut().zip(model.iter_mut()) {
                        *v += 1_000_000;
                        *w += 1_000_000;
                    }
                }
                9 if step % 50 == 0 => {
                    list.sort_by_key(|v| v % 7);
                    model.sort_by_key(|v| v % 7);
                }
                _ => {}
            }
            most_gaps = most_gaps.max(list.gaps.len());
            assert!(list.gaps.len() <= 32 || 2 * list.gaps.len() <= list.len(), "step {step}: gaps not closed");
            assert!(list == model, "step {step}: {list:?} {model:?}");
            assert_eq!(list.iter().len(), model.len(), "step {step}");
            let mut part_read = list.iter();
            let first = part_read.next();
            assert_eq!((first, part_read.len()), (model.first(), model.len().saturating_sub(1)), "step {step}");
            assert!(list.iter_mut().map(|v| *v).eq(model.iter().copied()), "step {step}");
            assert!((0..model.len()).all(|i| list[i] == model[i] && list.get(i) == Some(&model[i])), "step {step}");
            assert_eq!(list.get(model.len()), None);
            // slots: each position's, read back; and under the same layout every slot still holds
            // its item or is a gap
            assert!(list.slots().map(|s| *list.at_slot(s)).eq(model.iter().copied()), "step {step}");
            assert!(list.slots().enumerate().all(|(at, s)| list.slot_of(at) == s && list.position_of_slot(s) == at && !list.is_gap(s)), "step {step}");
            if list.layout() == layout {
                assert!(held.iter().all(|&(s, v)| list.is_gap(s) || list.at_slot(s) % 1_000_000 == v), "step {step}: a slot changed item under one layout");
            } else {
                layouts += 1;
            }
            let addresses: Vec<*const u64> = list.iter().map(std::ptr::from_ref).collect();
            assert!(addresses.windows(2).all(|w| w[0] < w[1]), "step {step}: addresses out of order");
            if step % 100 == 0 {
                let copy = list.clone();
                assert!(copy == list && copy.gaps.is_empty(), "step {step}");
            }
        }
        assert!(most_gaps > 32 && closed_by_number > 0, "the gaps were never many ({most_gaps}) or closed by number");
        assert!(layouts >= closed_by_number, "every closing of the gaps is a new layout");
        assert_eq!(list.into_vec(), model);
    }

    /// A list with gaps reads and serializes as the vector of its items; removing nothing changes
    /// nothing, and a position past the end panics.
    #[test]
    fn gaps_are_never_read() {
        let mut list: GapList<String> = (0..10).map(|i| format!("pod-{i}")).collect();
        list.remove_at(&[]);
        assert!(list.gaps.is_empty());
        list.remove_at(&[0, 4, 9]);
        let kept: Vec<String> = [1, 2, 3, 5, 6, 7, 8].iter().map(|i| format!("pod-{i}")).collect();
        assert!(list == kept);
        assert_eq!(list.len(), 7);
        assert_eq!(list.last(), Some(&"pod-8".to_string()));
        assert_eq!(serde_json::to_string(&list).unwrap(), serde_json::to_string(&kept).unwrap());
        list.push("pod-10".into());
        assert_eq!(list[7], "pod-10");
        assert!(std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| list.remove_at(&[8]))).is_err());
    }
}
