//! [`BoxList`]: a list read like a slice, each item in its own allocation, whose removals leave
//! gaps (a [`GapList`] of boxes), so that removing items moves neither items nor pointers. The
//! state's nodes ([`super::NodeList`]) are one, with their names kept beside (its pods are a
//! [`GapList`] of pods, which keeps them side by side).

use super::gap_list::{GapList, Layout};
use std::iter::FusedIterator;

/// Items in order, each in its own box, read like a slice of `T` (`iter`, `len`, `get`, indexing,
/// `&list` in a `for` loop); serialized as a sequence of items, as `Vec<T>` is.
///
/// The boxes are a [`GapList`]: removing an item ([`BoxList::remove_at`]) takes its box out of its
/// slot and leaves the slot as a gap, so no later item or pointer moves. Until-stable removes a
/// node at nearly every round, and moving every later node's pointer (and name) made a run over
/// `n` nodes move `n²/2` pointers (at 10,000 drifted nodes, 4% of the run). The gaps are closed
/// now and then, as the gap list does. The boxes keep `take_out` and `put_back` cheap (the time
/// simulator's disruption takes nodes out of the state and puts them back) and a node's address
/// fixed while it is in the list.
///
/// The order is exactly a `Vec<T>`'s given the same changes: outputs and Karpenter's orders
/// depend on it.
pub struct BoxList<T> {
    /// Each item's box in its slot; a removed item's slot holds `None` until the gaps close.
    items: GapList<Option<Box<T>>>,
}

super::slice_like_impls!(BoxList);

/// The item in a slot that is not a gap (a gap's `None` is never read: reads go by position, and
/// the iterators skip it).
#[inline]
fn live<T>(slot: &Option<Box<T>>) -> &T {
    slot.as_deref().expect("a removed item is never read")
}

#[inline]
fn live_mut<T>(slot: &mut Option<Box<T>>) -> &mut T {
    slot.as_deref_mut().expect("a removed item is never read")
}

impl<T> BoxList<T> {
    pub fn new() -> BoxList<T> {
        BoxList { items: GapList::new() }
    }

    pub fn with_capacity(capacity: usize) -> BoxList<T> {
        BoxList { items: GapList::with_capacity(capacity) }
    }

    #[inline]
    pub fn len(&self) -> usize {
        self.items.len()
    }

    #[inline]
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    #[inline]
    pub fn iter(&self) -> Iter<'_, T> {
        Iter { slots: self.items.slot_items().iter(), left: self.items.len() }
    }

    #[inline]
    pub fn iter_mut(&mut self) -> IterMut<'_, T> {
        let left = self.items.len();
        IterMut { slots: self.items.slot_items_mut().iter_mut(), left }
    }

    #[inline]
    pub fn get(&self, at: usize) -> Option<&T> {
        self.items.get(at).map(live)
    }

    #[inline]
    pub fn get_mut(&mut self, at: usize) -> Option<&mut T> {
        self.items.get_mut(at).map(live_mut)
    }

    pub fn first(&self) -> Option<&T> {
        self.get(0)
    }

    pub fn last(&self) -> Option<&T> {
        self.items.last().map(live)
    }

    pub fn last_mut(&mut self) -> Option<&mut T> {
        let at = self.len().checked_sub(1)?;
        self.get_mut(at)
    }

    /// The slot the item at position `at` is in, while [`BoxList::layout`] stays the same
    /// ([`GapList::slot_of`]).
    #[inline]
    pub fn slot_of(&self, at: usize) -> usize {
        self.items.slot_of(at)
    }

    /// The position of the item in `slot` (not a gap).
    #[inline]
    pub fn position_of_slot(&self, slot: usize) -> usize {
        self.items.position_of_slot(slot)
    }

    /// How many slots there are (items and gaps).
    #[inline]
    pub fn slots(&self) -> usize {
        self.items.slot_items().len()
    }

    /// The slot layout the items are in now ([`GapList::layout`]).
    #[inline]
    pub fn layout(&self) -> Layout {
        self.items.layout()
    }

    /// The item in `slot` (from [`BoxList::slot_of`] under the current layout); `None` for a gap
    /// or a slot past the last.
    #[inline]
    pub fn get_slot(&self, slot: usize) -> Option<&T> {
        self.items.slot_items().get(slot).and_then(Option::as_deref)
    }

    /// The item in `slot`, which holds one.
    ///
    /// # Panics
    /// When `slot` is a gap or past the last.
    #[inline]
    pub fn at_slot(&self, slot: usize) -> &T {
        live(&self.items.slot_items()[slot])
    }

    /// The item in each slot, `None` for a gap, in slot order.
    pub fn by_slot(&self) -> impl Iterator<Item = Option<&T>> {
        self.items.slot_items().iter().map(Option::as_deref)
    }

    /// Appends `item` at the end of the order.
    pub fn push(&mut self, item: T) {
        self.items.push(Some(Box::new(item)));
    }

    /// Inserts `item` at position `at` (the gaps are closed first).
    ///
    /// # Panics
    /// When `at > len`.
    pub fn insert(&mut self, at: usize, item: T) {
        self.items.insert(at, Some(Box::new(item)));
    }

    /// Removes and returns the item at `at`, leaving a gap.
    ///
    /// # Panics
    /// When `at` is out of bounds.
    pub fn remove(&mut self, at: usize) -> T {
        let mut removed = self.remove_at(&[at]);
        removed.pop().expect("one item removed")
    }

    /// Removes the items at the positions `at` (ascending, each once) and returns them in order.
    /// Each leaves a gap: no other item, and no other item's pointer, moves.
    ///
    /// # Panics
    /// When a position is out of bounds.
    pub fn remove_at(&mut self, at: &[usize]) -> Vec<T> {
        self.remove_boxes(at).into_iter().map(|item| *item).collect()
    }

    /// [`BoxList::remove_at`], returning the boxes.
    fn remove_boxes(&mut self, at: &[usize]) -> Vec<Box<T>> {
        debug_assert!(at.windows(2).all(|w| w[0] < w[1]), "positions not ascending: {at:?}");
        if let Some(&last) = at.last() {
            assert!(last < self.len(), "position {last} out of bounds ({})", self.len());
        }
        let removed: Vec<Box<T>> = at
            .iter()
            .map(|&a| {
                let slot = self.items.slot_of(a);
                self.items.slot_items_mut()[slot].take().expect("a position's slot holds an item")
            })
            .collect();
        self.items.remove_at(at);
        removed
    }

    /// Keeps the items `keep` is true of, in order (each item visited once, in order).
    pub fn retain(&mut self, mut keep: impl FnMut(&T) -> bool) {
        self.items.retain(|b| keep(live(b)));
    }

    /// [`BoxList::retain`], with the items mutable.
    pub fn retain_mut(&mut self, mut keep: impl FnMut(&mut T) -> bool) {
        self.items.retain_mut(|b| keep(live_mut(b)));
    }

    /// Takes out the items `out` is true of, keeping the others in their order; [`BoxList::put_back`]
    /// puts them back where they were (the items themselves are not moved or copied). Each leaves
    /// a gap, as a removal does, so the others keep their slots.
    pub fn take_out(&mut self, mut out: impl FnMut(&T) -> bool) -> TakenOut<T> {
        let at: Vec<usize> = self.iter().enumerate().filter(|(_, item)| out(item)).map(|(at, _)| at).collect();
        let slots: Vec<usize> = at.iter().map(|&a| self.items.slot_of(a)).collect();
        let layout = self.layout();
        let items = self.remove_boxes(&at);
        // (the gaps closed: the slots are gone, the positions remain)
        let layout = (self.layout() == layout).then_some(layout);
        TakenOut { items: at.into_iter().zip(slots).zip(items).map(|((at, slot), item)| (at, slot, item)).collect(), layout }
    }

    /// Puts back the items [`BoxList::take_out`] took out of this list, at their positions then
    /// (the list must hold the same other items in the same order by now): back in their slots
    /// while the layout is the one they left (no slot changes), inserted at their positions
    /// otherwise.
    pub fn put_back(&mut self, taken: TakenOut<T>) {
        if taken.layout == Some(self.layout()) {
            for (_, slot, item) in taken.items {
                self.items.restore(slot, Some(item));
            }
        } else {
            for (at, _, item) in taken.items {
                self.items.insert(at, Some(item));
            }
        }
    }

    /// Swaps the items at `a` and `b`.
    ///
    /// # Panics
    /// When either is out of bounds.
    pub fn swap(&mut self, a: usize, b: usize) {
        self.items.swap(a, b);
    }

    /// Keeps the first `len` items.
    pub fn truncate(&mut self, len: usize) {
        self.items.truncate(len);
    }

    pub fn clear(&mut self) {
        self.items.clear();
    }

    /// Sorts the items with `compare`, keeping the order of equal ones (a stable sort).
    pub fn sort_by(&mut self, mut compare: impl FnMut(&T, &T) -> std::cmp::Ordering) {
        self.items.sort_by(|a, b| compare(live(a), live(b)));
    }

    /// Sorts the items by `key`, keeping the order of equal ones (a stable sort).
    pub fn sort_by_key<K: Ord>(&mut self, mut key: impl FnMut(&T) -> K) {
        self.items.sort_by_key(|b| key(live(b)));
    }

    /// Whether an item equal to `item` is in the list.
    pub fn contains(&self, item: &T) -> bool
    where
        T: PartialEq,
    {
        self.iter().any(|i| i == item)
    }

    /// The items, copied, in order.
    pub fn to_vec(&self) -> Vec<T>
    where
        T: Clone,
    {
        self.iter().cloned().collect()
    }

    /// The items, in order.
    pub fn into_vec(self) -> Vec<T> {
        self.into_iter().collect()
    }
}

impl<T: PartialEq> PartialEq for BoxList<T> {
    fn eq(&self, other: &BoxList<T>) -> bool {
        self.len() == other.len() && self.iter().eq(other.iter())
    }
}

impl<T: Eq> Eq for BoxList<T> {}

impl<T> std::ops::Index<usize> for BoxList<T> {
    type Output = T;

    #[inline]
    fn index(&self, at: usize) -> &T {
        live(&self.items[at])
    }
}

impl<T> std::ops::IndexMut<usize> for BoxList<T> {
    #[inline]
    fn index_mut(&mut self, at: usize) -> &mut T {
        live_mut(&mut self.items[at])
    }
}

/// How many items [`BoxList`]'s clone and `From<Vec>` handle at a time.
const BLOCK: usize = 1 << 14;

impl<T: Clone> Clone for BoxList<T> {
    /// Clones a block of items at a time, then boxes the block's clones one after another, so
    /// that the boxes lie side by side as the items of a `Vec` do (each item cloned straight into
    /// its box put the boxes between the items' own allocations: until-stable clones its state,
    /// and its passes over every record ran slower, as measured when the pods were boxed). A
    /// clone has no gaps.
    fn clone(&self) -> BoxList<T> {
        let mut items = Vec::with_capacity(self.len());
        let mut block: Vec<T> = Vec::with_capacity(BLOCK.min(self.len()));
        let mut from = self.iter();
        loop {
            block.extend(from.by_ref().take(BLOCK).cloned());
            if block.is_empty() {
                break;
            }
            items.extend(block.drain(..).map(|item| Some(Box::new(item))));
        }
        BoxList { items: GapList::from(items) }
    }
}

impl<T> From<Vec<T>> for BoxList<T> {
    /// Boxes the items a block at a time from the end, giving the vector's memory back as it
    /// empties: boxing every item while the vector still held them all needed their memory twice
    /// at once (measured when the pods were boxed: a million pods peaked at 1,152 MiB against
    /// 907 MiB unboxed).
    fn from(mut items: Vec<T>) -> BoxList<T> {
        let len = items.len();
        if len <= BLOCK {
            return items.into_iter().collect();
        }
        let mut blocks: Vec<Vec<Option<Box<T>>>> = Vec::with_capacity(len.div_ceil(BLOCK));
        while !items.is_empty() {
            let from = items.len().saturating_sub(BLOCK);
            blocks.push(items.drain(from..).map(|item| Some(Box::new(item))).collect());
            // (the allocator shrinks a block in place: nothing is copied)
            items.shrink_to_fit();
        }
        let mut boxed = Vec::with_capacity(len);
        for block in blocks.into_iter().rev() {
            boxed.extend(block);
        }
        BoxList { items: GapList::from(boxed) }
    }
}

impl<T> FromIterator<T> for BoxList<T> {
    fn from_iter<I: IntoIterator<Item = T>>(items: I) -> BoxList<T> {
        BoxList { items: items.into_iter().map(|item| Some(Box::new(item))).collect() }
    }
}

impl<T> Extend<T> for BoxList<T> {
    fn extend<I: IntoIterator<Item = T>>(&mut self, items: I) {
        for item in items {
            self.push(item);
        }
    }
}

impl<T> IntoIterator for BoxList<T> {
    type Item = T;
    type IntoIter = IntoIter<T>;

    fn into_iter(self) -> IntoIter<T> {
        IntoIter(self.items.into_vec().into_iter())
    }
}

impl<'de, T: serde::Deserialize<'de>> serde::Deserialize<'de> for BoxList<T> {
    /// Boxes each item as it is read (no list of unboxed items first: every item's memory twice).
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<BoxList<T>, D::Error> {
        struct Items<T>(std::marker::PhantomData<T>);
        impl<'de, T: serde::Deserialize<'de>> serde::de::Visitor<'de> for Items<T> {
            type Value = BoxList<T>;

            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a sequence")
            }

            fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<BoxList<T>, A::Error> {
                // (a size hint is capped: it comes from the input)
                let mut list = BoxList::with_capacity(seq.size_hint().unwrap_or(0).min(4096));
                while let Some(item) = seq.next_element()? {
                    list.push(item);
                }
                Ok(list)
            }
        }
        d.deserialize_seq(Items(std::marker::PhantomData))
    }
}

/// Items [`BoxList::take_out`] took out of a list, with their positions in it (ascending) and
/// their slots, valid under `layout` (`None`: the list's gaps closed as they were taken out).
#[derive(Debug)]
pub struct TakenOut<T> {
    pub(super) items: Vec<(usize, usize, Box<T>)>,
    pub(super) layout: Option<Layout>,
}

impl<T> TakenOut<T> {
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }
}

impl<T> Default for TakenOut<T> {
    fn default() -> TakenOut<T> {
        TakenOut { items: Vec::new(), layout: None }
    }
}

/// Defines a [`BoxList`]'s iterator over its items: a pass over the slots that skips the gaps
/// (an empty slot: one test of a pointer already read), from either end, knowing how many items
/// are left.
macro_rules! slot_iterator {
    ($(#[$doc:meta])* $name:ident, $slots:ty, $item:ty, $live:expr) => {
        $(#[$doc])*
        pub struct $name<'a, T> {
            slots: $slots,
            /// How many items (not gaps) `slots` still holds.
            left: usize,
        }

        impl<'a, T> Iterator for $name<'a, T> {
            type Item = $item;

            #[inline]
            fn next(&mut self) -> Option<$item> {
                let item = self.slots.find_map($live)?;
                self.left -= 1;
                Some(item)
            }

            #[inline]
            fn size_hint(&self) -> (usize, Option<usize>) {
                (self.left, Some(self.left))
            }

            #[inline]
            fn count(self) -> usize {
                self.left
            }

            /// Over no gaps (the list has none), a step over `n` slots; otherwise item by item.
            #[inline]
            fn nth(&mut self, n: usize) -> Option<$item> {
                if self.slots.len() == self.left {
                    let item = self.slots.nth(n).map(|slot| $live(slot).expect("no gaps"));
                    self.left = self.slots.len();
                    return item;
                }
                for _ in 0..n {
                    self.next()?;
                }
                self.next()
            }

            #[inline]
            fn last(mut self) -> Option<$item> {
                self.next_back()
            }
        }

        impl<T> DoubleEndedIterator for $name<'_, T> {
            #[inline]
            fn next_back(&mut self) -> Option<Self::Item> {
                let item = self.slots.by_ref().rev().find_map($live)?;
                self.left -= 1;
                Some(item)
            }

            /// [`Iterator::nth`] from the end.
            #[inline]
            fn nth_back(&mut self, n: usize) -> Option<Self::Item> {
                if self.slots.len() == self.left {
                    let item = self.slots.nth_back(n).map(|slot| $live(slot).expect("no gaps"));
                    self.left = self.slots.len();
                    return item;
                }
                for _ in 0..n {
                    self.next_back()?;
                }
                self.next_back()
            }
        }

        impl<T> ExactSizeIterator for $name<'_, T> {}

        impl<T> FusedIterator for $name<'_, T> {}
    };
}

slot_iterator!(
    /// The items of a [`BoxList`], in order, by reference.
    Iter,
    std::slice::Iter<'a, Option<Box<T>>>,
    &'a T,
    Option::as_deref
);

impl<T> Clone for Iter<'_, T> {
    fn clone(&self) -> Self {
        Iter { slots: self.slots.clone(), left: self.left }
    }
}

slot_iterator!(
    /// The items of a [`BoxList`], in order, mutable.
    IterMut,
    std::slice::IterMut<'a, Option<Box<T>>>,
    &'a mut T,
    Option::as_deref_mut
);

/// The items of a [`BoxList`], in order, owned (the gaps closed: every slot holds an item).
pub struct IntoIter<T>(std::vec::IntoIter<Option<Box<T>>>);

impl<T> Iterator for IntoIter<T> {
    type Item = T;

    fn next(&mut self) -> Option<T> {
        self.0.next().map(|b| *b.expect("no gaps once closed"))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.0.size_hint()
    }
}

impl<T> DoubleEndedIterator for IntoIter<T> {
    fn next_back(&mut self) -> Option<T> {
        self.0.next_back().map(|b| *b.expect("no gaps once closed"))
    }
}

impl<T> ExactSizeIterator for IntoIter<T> {}

impl<T> FusedIterator for IntoIter<T> {}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::rngs::Xoshiro256PlusPlus;
    use rand::{RngExt, SeedableRng};

    /// Seeded changes of every kind, on the list and on a `Vec` beside it: after each, the list
    /// reads as the vector from the front and from the back, by `nth` and `nth_back` from both ends
    /// of a part-read iterator, by indexing and by slot, whether it has gaps (removals pile them
    /// up past the point where they close) or not.
    #[test]
    fn a_box_list_is_the_vector_given_the_same_changes() {
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(33);
        let mut list: BoxList<u64> = BoxList::new();
        let mut model: Vec<u64> = Vec::new();
        let (mut next, mut most_gaps) = (0u64, 0);
        for step in 0..4_000 {
            let len = model.len();
            let shrinking = (step / 800) % 2 == 1;
            match rng.random_range(0..12) {
                0..=3 if !shrinking => super::super::seeded_changes::push_some(&mut rng, &mut next, |v| {
                    list.push(v);
                    model.push(v);
                }),
                0..=6 if len > 0 => {
                    let at = super::super::seeded_changes::positions(&mut rng, len, 4);
                    let expected: Vec<u64> = at.iter().map(|&i| model[i]).collect();
                    for &i in at.iter().rev() {
                        model.remove(i);
                    }
                    assert_eq!(list.remove_at(&at), expected, "step {step}");
                }
                7 if len > 0 && step % 7 == 0 => {
                    let (a, b) = (rng.random_range(0..len), rng.random_range(0..len));
                    list.swap(a, b);
                    model.swap(a, b);
                }
                8 if step % 11 == 0 => {
                    let at = rng.random_range(0..=len);
                    list.insert(at, next);
                    model.insert(at, next);
                    next += 1;
                }
                9 if step % 13 == 0 => {
                    let taken = list.take_out(|v| v % 5 == 0);
                    assert!(list.iter().eq(model.iter().filter(|v| *v % 5 != 0)), "step {step}: taken out");
                    list.put_back(taken);
                }
                10 => {
                    for (v, w) in list.iter_mut().zip(model.iter_mut()) {
                        *v += 1_000_000;
                        *w += 1_000_000;
                    }
                }
                11 if step % 97 == 0 => {
                    list.retain(|v| v % 3 != 0);
                    model.retain(|v| v % 3 != 0);
                }
                _ => {}
            }
            most_gaps = most_gaps.max(list.slots() - list.len());
            assert!(list == model, "step {step}");
            assert!(list.iter().rev().eq(model.iter().rev()), "step {step}: from the back");
            assert!(list.iter_mut().rev().map(|v| *v).eq(model.iter().rev().copied()), "step {step}: mutable, from the back");
            assert!((0..model.len()).all(|i| list[i] == model[i] && list.position_of_slot(list.slot_of(i)) == i), "step {step}");
            let (k, len) = (step % 5, model.len());
            let mut part = list.iter();
            let mut part_model = model.iter();
            assert_eq!((part.nth(k), part.nth_back(k)), (part_model.nth(k), part_model.nth_back(k)), "step {step}: nth");
            assert_eq!((part.len(), part.clone().count()), (part_model.len(), part_model.len()), "step {step}: {len} items");
            assert_eq!(part.last(), part_model.last(), "step {step}");
        }
        assert!(most_gaps > 32, "the gaps were never many ({most_gaps})");
        assert_eq!(list.into_vec(), model);
    }

    /// A list made from a vector holds its items in its order, whether boxed at once (a short one)
    /// or a block at a time from the end (a long one).
    #[test]
    fn a_list_from_a_vector_keeps_its_order() {
        for len in [0, 5, (1 << 14) + 1, 3 * (1 << 14) + 7] {
            let items: Vec<usize> = (0..len).collect();
            let list = BoxList::from(items.clone());
            assert_eq!(list.len(), len);
            assert!(list == items, "{len}");
        }
    }

    /// A clone holds equal items in the same order, short or past a block.
    #[test]
    fn a_clone_is_equal_item_for_item() {
        for len in [0, 3, 2 * (1 << 14) + 5] {
            let list: BoxList<String> = (0..len).map(|i| i.to_string()).collect();
            let copy = list.clone();
            assert!(copy == list && copy.len() == len, "{len}");
        }
    }

    /// Removing several positions leaves what a `retain` of the others leaves and returns the
    /// removed in order: runs of neighbours, the first and last positions, every position.
    #[test]
    fn removing_positions_is_a_retain_of_the_others() {
        let cases: [&[usize]; 7] = [&[], &[3], &[0, 1], &[2, 3, 4, 9], &[0, 5, 11], &[1, 4, 6, 7, 10], &[0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]];
        for at in cases {
            let mut list: BoxList<String> = (0..12).map(|i| format!("item-{i}")).collect();
            let removed = list.remove_at(at);
            let expected: Vec<String> = at.iter().map(|i| format!("item-{i}")).collect();
            let kept: Vec<String> = (0..12).filter(|i| !at.contains(i)).map(|i| format!("item-{i}")).collect();
            assert_eq!(removed, expected, "{at:?}");
            assert!(list == kept, "{at:?}");
        }
    }
}
