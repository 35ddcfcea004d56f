//! [`BoxList`]: a list read like a slice, each item in its own allocation, so that removing items
//! moves pointers rather than items. The state's nodes ([`super::NodeList`]) are one, with their
//! names kept beside (its pods are a [`super::GapList`], which keeps them side by side).

use std::iter::FusedIterator;

/// Items in order, each in its own box, read like a slice of `T` (`iter`, `len`, `get`, indexing,
/// `&list` in a `for` loop); serialized as a sequence of items, as `Vec<T>` is.
///
/// Removing an item (or several: [`BoxList::remove_at`]) moves the later items' pointers (8 bytes
/// each), not the items: until-stable removes nodes at nearly every round, and moving
/// every later item (a few hundred bytes each) made a run over `n` items move `n²/2` items' bytes.
/// The order is exactly a `Vec<T>`'s given the same changes: outputs and Karpenter's orders
/// depend on it.
#[derive(PartialEq, Eq)]
pub struct BoxList<T> {
    // (boxed on purpose: removing an item moves the later boxes' pointers, not the items)
    #[allow(clippy::vec_box)]
    items: Vec<Box<T>>,
}

super::slice_like_impls!(BoxList);

impl<T> BoxList<T> {
    pub const fn new() -> BoxList<T> {
        BoxList { items: Vec::new() }
    }

    pub fn with_capacity(capacity: usize) -> BoxList<T> {
        BoxList { items: Vec::with_capacity(capacity) }
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
        Iter(self.items.iter())
    }

    #[inline]
    pub fn iter_mut(&mut self) -> IterMut<'_, T> {
        IterMut(self.items.iter_mut())
    }

    #[inline]
    pub fn get(&self, at: usize) -> Option<&T> {
        self.items.get(at).map(|b| &**b)
    }

    #[inline]
    pub fn get_mut(&mut self, at: usize) -> Option<&mut T> {
        self.items.get_mut(at).map(|b| &mut **b)
    }

    pub fn first(&self) -> Option<&T> {
        self.get(0)
    }

    pub fn last(&self) -> Option<&T> {
        self.items.last().map(|b| &**b)
    }

    pub fn last_mut(&mut self) -> Option<&mut T> {
        self.items.last_mut().map(|b| &mut **b)
    }

    /// Appends `item` at the end of the order.
    pub fn push(&mut self, item: T) {
        self.items.push(Box::new(item));
    }

    /// Inserts `item` at position `at`, shifting the later items' pointers up by one.
    ///
    /// # Panics
    /// When `at > len`.
    pub fn insert(&mut self, at: usize, item: T) {
        self.items.insert(at, Box::new(item));
    }

    /// Removes and returns the item at `at`, shifting the later items' pointers down by one.
    ///
    /// # Panics
    /// When `at` is out of bounds.
    pub fn remove(&mut self, at: usize) -> T {
        *self.items.remove(at)
    }

    /// Removes the items at the positions `at` (ascending, each once) and returns them in order,
    /// moving each later pointer once (what a `retain` keeping the others leaves, without a visit
    /// of the items before the first position).
    ///
    /// # Panics
    /// When a position is out of bounds.
    pub fn remove_at(&mut self, at: &[usize]) -> Vec<T> {
        remove_sorted(&mut self.items, at).into_iter().map(|b| *b).collect()
    }

    /// Keeps the items `keep` is true of, in order (each item visited once, in order).
    pub fn retain(&mut self, mut keep: impl FnMut(&T) -> bool) {
        self.items.retain(|b| keep(b));
    }

    /// [`BoxList::retain`], with the items mutable.
    pub fn retain_mut(&mut self, mut keep: impl FnMut(&mut T) -> bool) {
        self.items.retain_mut(|b| keep(b));
    }

    /// Takes out the items `out` is true of, keeping the others in their order; [`BoxList::put_back`]
    /// puts them back where they were (the items themselves are not moved or copied).
    pub fn take_out(&mut self, mut out: impl FnMut(&T) -> bool) -> TakenOut<T> {
        let mut taken = Vec::new();
        let len = self.items.len();
        let all = std::mem::replace(&mut self.items, Vec::with_capacity(len));
        for (at, item) in all.into_iter().enumerate() {
            if out(&item) {
                taken.push((at, item));
            } else {
                self.items.push(item);
            }
        }
        TakenOut(taken)
    }

    /// Puts back the items [`BoxList::take_out`] took out of this list, at their positions then
    /// (the list must hold the same other items in the same order by now).
    pub fn put_back(&mut self, taken: TakenOut<T>) {
        for (at, item) in taken.0 {
            self.items.insert(at, item);
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
        self.items.sort_by(|a, b| compare(a, b));
    }

    /// Sorts the items by `key`, keeping the order of equal ones (a stable sort).
    pub fn sort_by_key<K: Ord>(&mut self, mut key: impl FnMut(&T) -> K) {
        self.items.sort_by_key(|b| key(b));
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
        self.items.into_iter().map(|b| *b).collect()
    }
}

/// Removes the entries of `v` at the positions `at` (ascending, each once) and returns them in
/// order. The removed entries gather in a block that each stretch of kept entries is rotated past
/// (the stretch moves down by the block's length, the block up), so every later entry moves once
/// and those before the first position not at all.
///
/// # Panics
/// When a position is out of bounds.
pub(super) fn remove_sorted<E>(v: &mut Vec<E>, at: &[usize]) -> Vec<E> {
    debug_assert!(at.windows(2).all(|w| w[0] < w[1]), "positions not ascending: {at:?}");
    match at {
        [] => Vec::new(),
        &[one] => vec![v.remove(one)],
        _ => {
            let len = v.len();
            assert!(at.last().is_some_and(|&last| last < len), "a position out of bounds");
            // before stretch `i`: the `i + 1` entries removed so far sit just below its start
            for (i, &g) in at.iter().enumerate() {
                let end = at.get(i + 1).copied().unwrap_or(len);
                v[g - i..end].rotate_left(i + 1);
            }
            v.split_off(len - at.len())
        }
    }
}

impl<T> std::ops::Index<usize> for BoxList<T> {
    type Output = T;

    #[inline]
    fn index(&self, at: usize) -> &T {
        &self.items[at]
    }
}

impl<T> std::ops::IndexMut<usize> for BoxList<T> {
    #[inline]
    fn index_mut(&mut self, at: usize) -> &mut T {
        &mut self.items[at]
    }
}

/// How many items [`BoxList`]'s clone and `From<Vec>` handle at a time.
const BLOCK: usize = 1 << 14;

impl<T: Clone> Clone for BoxList<T> {
    /// Clones a block of items at a time, then boxes the block's clones one after another, so
    /// that the boxes lie side by side as the items of a `Vec` do (each item cloned straight into
    /// its box put the boxes between the items' own allocations: until-stable clones its state,
    /// and its passes over every record ran slower, as measured when the pods were boxed).
    fn clone(&self) -> BoxList<T> {
        let mut items = Vec::with_capacity(self.items.len());
        let mut block: Vec<T> = Vec::with_capacity(BLOCK.min(self.items.len()));
        for chunk in self.items.chunks(BLOCK) {
            block.extend(chunk.iter().map(|b| T::clone(b)));
            items.extend(block.drain(..).map(Box::new));
        }
        BoxList { items }
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
        let mut blocks: Vec<Vec<Box<T>>> = Vec::with_capacity(len.div_ceil(BLOCK));
        while !items.is_empty() {
            let from = items.len().saturating_sub(BLOCK);
            blocks.push(items.drain(from..).map(Box::new).collect());
            // (the allocator shrinks a block in place: nothing is copied)
            items.shrink_to_fit();
        }
        let mut boxed = Vec::with_capacity(len);
        for block in blocks.into_iter().rev() {
            boxed.extend(block);
        }
        BoxList { items: boxed }
    }
}

impl<T> FromIterator<T> for BoxList<T> {
    fn from_iter<I: IntoIterator<Item = T>>(items: I) -> BoxList<T> {
        BoxList { items: items.into_iter().map(Box::new).collect() }
    }
}

impl<T> Extend<T> for BoxList<T> {
    fn extend<I: IntoIterator<Item = T>>(&mut self, items: I) {
        self.items.extend(items.into_iter().map(Box::new));
    }
}

impl<T> IntoIterator for BoxList<T> {
    type Item = T;
    type IntoIter = IntoIter<T>;

    fn into_iter(self) -> IntoIter<T> {
        IntoIter(self.items.into_iter())
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

/// Items [`BoxList::take_out`] took out of a list, with their positions in it (ascending).
#[derive(Debug)]
pub struct TakenOut<T>(pub(super) Vec<(usize, Box<T>)>);

impl<T> TakenOut<T> {
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl<T> Default for TakenOut<T> {
    fn default() -> TakenOut<T> {
        TakenOut(Vec::new())
    }
}

/// The items of a [`BoxList`], in order, by reference.
pub struct Iter<'a, T>(std::slice::Iter<'a, Box<T>>);

impl<T> Clone for Iter<'_, T> {
    fn clone(&self) -> Self {
        Iter(self.0.clone())
    }
}

impl<'a, T> Iterator for Iter<'a, T> {
    type Item = &'a T;

    #[inline]
    fn next(&mut self) -> Option<&'a T> {
        self.0.next().map(|b| &**b)
    }

    #[inline]
    fn size_hint(&self) -> (usize, Option<usize>) {
        self.0.size_hint()
    }

    #[inline]
    fn nth(&mut self, n: usize) -> Option<&'a T> {
        self.0.nth(n).map(|b| &**b)
    }

    #[inline]
    fn count(self) -> usize {
        self.0.len()
    }

    #[inline]
    fn last(mut self) -> Option<&'a T> {
        self.next_back()
    }
}

impl<T> DoubleEndedIterator for Iter<'_, T> {
    #[inline]
    fn next_back(&mut self) -> Option<Self::Item> {
        self.0.next_back().map(|b| &**b)
    }

    #[inline]
    fn nth_back(&mut self, n: usize) -> Option<Self::Item> {
        self.0.nth_back(n).map(|b| &**b)
    }
}

impl<T> ExactSizeIterator for Iter<'_, T> {}

impl<T> FusedIterator for Iter<'_, T> {}

/// The items of a [`BoxList`], in order, mutable.
pub struct IterMut<'a, T>(std::slice::IterMut<'a, Box<T>>);

impl<'a, T> Iterator for IterMut<'a, T> {
    type Item = &'a mut T;

    #[inline]
    fn next(&mut self) -> Option<&'a mut T> {
        self.0.next().map(|b| &mut **b)
    }

    #[inline]
    fn size_hint(&self) -> (usize, Option<usize>) {
        self.0.size_hint()
    }

    #[inline]
    fn nth(&mut self, n: usize) -> Option<&'a mut T> {
        self.0.nth(n).map(|b| &mut **b)
    }
}

impl<T> DoubleEndedIterator for IterMut<'_, T> {
    #[inline]
    fn next_back(&mut self) -> Option<Self::Item> {
        self.0.next_back().map(|b| &mut **b)
    }
}

impl<T> ExactSizeIterator for IterMut<'_, T> {}

impl<T> FusedIterator for IterMut<'_, T> {}

/// The items of a [`BoxList`], in order, owned.
pub struct IntoIter<T>(std::vec::IntoIter<Box<T>>);

impl<T> Iterator for IntoIter<T> {
    type Item = T;

    fn next(&mut self) -> Option<T> {
        self.0.next().map(|b| *b)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.0.size_hint()
    }
}

impl<T> DoubleEndedIterator for IntoIter<T> {
    fn next_back(&mut self) -> Option<T> {
        self.0.next_back().map(|b| *b)
    }
}

impl<T> ExactSizeIterator for IntoIter<T> {}

impl<T> FusedIterator for IntoIter<T> {}

#[cfg(test)]
mod tests {
    use super::*;

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
