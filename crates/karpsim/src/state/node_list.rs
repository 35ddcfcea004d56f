//! [`NodeList`]: the state's nodes, in order, each in its own allocation.

use super::box_list::{self, BoxList, TakenOut};
use crate::labels::Sym;
use crate::model::Node;

/// The nodes of a [`super::ClusterState`], in the state's order (the order the inputs gave them in,
/// launched nodes appended), read like a slice of [`Node`]s.
///
/// The nodes are a [`BoxList`] (read through it: `iter`, `len`, `get`, indexing): removing one (a
/// deleted or replaced node) leaves a gap, and no later node or pointer moves. The order is the
/// state's order exactly: outputs and Karpenter's orders depend on it.
///
/// It also keeps the nodes' names by slot, in one contiguous list, while no node has been lent out
/// mutably (through which a name could change): finding a node by name ([`NodeList::position`],
/// [`NodeList::remove_named`]) is then a scan of that list, a compare a node, rather than a visit
/// of every node's record. A removal writes its node's name over with a mark equal to no name,
/// rather than move every later name; when the nodes' gaps close, the names are read again.
///
/// Serialized as a sequence of nodes, as `Vec<Node>` is.
#[derive(Clone)]
pub struct NodeList {
    nodes: BoxList<Node>,
    /// The name of the node in each slot of `nodes` ([`BoxList::slot_of`]; a gap's is [`gap`])
    /// when `names_current`; otherwise empty.
    names: Vec<Sym>,
    names_current: bool,
}

/// The name kept for a removed node's slot: equal to no node's name, whatever it is
/// ([`Sym::mark`]).
fn gap() -> Sym {
    Sym::mark()
}

impl std::ops::Deref for NodeList {
    type Target = BoxList<Node>;

    /// The nodes, read (every change goes through the list, which keeps the names).
    #[inline]
    fn deref(&self) -> &BoxList<Node> {
        &self.nodes
    }
}

impl NodeList {
    pub fn new() -> NodeList {
        NodeList { nodes: BoxList::new(), names: Vec::new(), names_current: true }
    }

    pub fn with_capacity(capacity: usize) -> NodeList {
        NodeList { nodes: BoxList::with_capacity(capacity), names: Vec::with_capacity(capacity), names_current: true }
    }

    #[inline]
    pub fn iter_mut(&mut self) -> box_list::IterMut<'_, Node> {
        self.lend_mut();
        self.nodes.iter_mut()
    }

    #[inline]
    pub fn get_mut(&mut self, at: usize) -> Option<&mut Node> {
        self.lend_mut();
        self.nodes.get_mut(at)
    }

    pub fn last_mut(&mut self) -> Option<&mut Node> {
        self.lend_mut();
        self.nodes.last_mut()
    }

    /// Changes the node at `at` with `change` (which may rename it), keeping the names current.
    ///
    /// # Panics
    /// When `at` is out of bounds.
    pub fn update<R>(&mut self, at: usize, change: impl FnOnce(&mut Node) -> R) -> R {
        let node = &mut self.nodes[at];
        let out = change(node);
        let name = node.name;
        if self.names_current {
            let slot = self.nodes.slot_of(at);
            self.names[slot] = name;
        }
        out
    }

    /// The position of the first node named `name`.
    pub fn position(&self, name: Sym) -> Option<usize> {
        if self.names_current {
            matches(&self.names, name).next().map(|slot| self.nodes.position_of_slot(slot))
        } else {
            self.iter().position(|n| n.name == name)
        }
    }

    /// Whether a node is named `name`.
    pub fn contains_name(&self, name: Sym) -> bool {
        self.position(name).is_some()
    }

    /// The positions, ascending, of the nodes named one of `names` (meant for a few names: the
    /// kept names are scanned once for each).
    pub fn positions_of(&self, names: &[Sym]) -> Vec<usize> {
        let mut at: Vec<usize> = if self.names_current {
            names.iter().flat_map(|&name| matches(&self.names, name)).map(|slot| self.nodes.position_of_slot(slot)).collect()
        } else {
            (0..self.nodes.len()).filter(|&at| names.contains(&self.nodes[at].name)).collect()
        };
        // (a name given twice matched twice)
        at.sort_unstable();
        at.dedup();
        at
    }

    /// The positions, ascending, of the nodes whose name `named` is true of (one call a node).
    pub fn positions_named(&self, mut named: impl FnMut(Sym) -> bool) -> Vec<usize> {
        if self.names_current {
            // a position is its slot less the gaps before it
            let (gap, mut gaps) = (gap(), 0);
            let mut at = Vec::new();
            for (slot, &n) in self.names.iter().enumerate() {
                if n == gap {
                    gaps += 1;
                } else if named(n) {
                    at.push(slot - gaps);
                }
            }
            at
        } else {
            self.nodes.iter().enumerate().filter(|(_, n)| named(n.name)).map(|(at, _)| at).collect()
        }
    }

    /// Removes every node named in `names` (a few names) and returns them in their order: what
    /// `retain(|n| !names.contains(&n.name))` removes, leaving the same list.
    pub fn remove_named(&mut self, names: &[Sym]) -> Vec<Node> {
        self.make_names_current();
        let at = self.positions_of(names);
        self.remove_at(&at)
    }

    /// Removes the nodes at the positions `at` (ascending, each once) and returns them in order.
    ///
    /// # Panics
    /// When a position is out of bounds.
    pub fn remove_at(&mut self, at: &[usize]) -> Vec<Node> {
        let layout = self.nodes.layout();
        let slots: Vec<usize> = if self.names_current { at.iter().map(|&a| self.nodes.slot_of(a)).collect() } else { Vec::new() };
        let removed = self.nodes.remove_at(at);
        if self.names_current {
            if self.nodes.layout() == layout {
                let gap = gap();
                for slot in slots {
                    self.names[slot] = gap;
                }
            } else {
                // the gaps closed: the slots are new
                self.names_from_nodes();
            }
        }
        removed
    }

    /// Appends `node` at the end of the order.
    pub fn push(&mut self, node: Node) {
        if self.names_current {
            self.names.push(node.name);
        }
        self.nodes.push(node);
    }

    /// Inserts `node` at position `at`, shifting the later nodes' pointers up by one.
    ///
    /// # Panics
    /// When `at > len`.
    pub fn insert(&mut self, at: usize, node: Node) {
        self.nodes.insert(at, node);
        if self.names_current {
            self.names_from_nodes();
        }
    }

    /// Removes and returns the node at `at`, leaving a gap.
    ///
    /// # Panics
    /// When `at` is out of bounds.
    pub fn remove(&mut self, at: usize) -> Node {
        self.remove_at(&[at]).pop().expect("one node removed")
    }

    /// Keeps the nodes `keep` is true of, in order (each node visited once, in order).
    pub fn retain(&mut self, keep: impl FnMut(&Node) -> bool) {
        self.nodes.retain(keep);
        self.names_from_nodes();
    }

    /// [`NodeList::retain`], with the nodes mutable.
    pub fn retain_mut(&mut self, keep: impl FnMut(&mut Node) -> bool) {
        self.nodes.retain_mut(keep);
        self.names_from_nodes();
    }

    /// Takes out the nodes `out` is true of, keeping the others in their order; [`NodeList::put_back`]
    /// puts them back where they were (the nodes themselves are not moved or copied).
    pub fn take_out(&mut self, out: impl FnMut(&Node) -> bool) -> TakenOut<Node> {
        let taken = self.nodes.take_out(out);
        if self.names_current {
            if taken.layout.is_some() {
                let gap = gap();
                for &(_, slot, _) in &taken.items {
                    self.names[slot] = gap;
                }
            } else {
                self.names_from_nodes();
            }
        }
        taken
    }

    /// Puts back the nodes [`NodeList::take_out`] took out of this list, at their positions then
    /// (the list must hold the same other nodes in the same order by now).
    pub fn put_back(&mut self, taken: TakenOut<Node>) {
        let in_slots = taken.layout == Some(self.nodes.layout());
        if in_slots && self.names_current {
            for (_, slot, node) in &taken.items {
                self.names[*slot] = node.name;
            }
        }
        self.nodes.put_back(taken);
        if !in_slots && self.names_current {
            self.names_from_nodes();
        }
    }

    /// Swaps the nodes at `a` and `b`.
    ///
    /// # Panics
    /// When either is out of bounds.
    pub fn swap(&mut self, a: usize, b: usize) {
        let (sa, sb) = (self.nodes.slot_of(a), self.nodes.slot_of(b));
        self.nodes.swap(a, b);
        if self.names_current {
            self.names.swap(sa, sb);
        }
    }

    /// Keeps the first `len` nodes.
    pub fn truncate(&mut self, len: usize) {
        self.nodes.truncate(len);
        if self.names_current {
            self.names_from_nodes();
        }
    }

    pub fn clear(&mut self) {
        self.nodes.clear();
        self.names.clear();
        self.names_current = true;
    }

    /// Sorts the nodes with `compare`, keeping the order of equal ones (a stable sort).
    pub fn sort_by(&mut self, compare: impl FnMut(&Node, &Node) -> std::cmp::Ordering) {
        self.nodes.sort_by(compare);
        self.names_from_nodes();
    }

    /// Sorts the nodes by `key`, keeping the order of equal ones (a stable sort).
    pub fn sort_by_key<K: Ord>(&mut self, key: impl FnMut(&Node) -> K) {
        self.nodes.sort_by_key(key);
        self.names_from_nodes();
    }

    /// The nodes, in order.
    pub fn into_vec(self) -> Vec<Node> {
        self.nodes.into_vec()
    }

    /// The names kept, in order (the gaps' left out), when current (for tests that compare them
    /// with the nodes').
    #[cfg(test)]
    pub(crate) fn kept_names(&self) -> Option<Vec<Sym>> {
        self.names_current.then(|| self.names.iter().copied().filter(|&n| n != gap()).collect())
    }

    /// A node is lent out mutably: its name may change, so the names are no longer known.
    #[inline]
    fn lend_mut(&mut self) {
        if self.names_current {
            self.names_current = false;
            self.names.clear();
        }
    }

    /// Makes the names current (a visit of every node when they are not).
    fn make_names_current(&mut self) {
        if !self.names_current {
            self.names_from_nodes();
        }
        debug_assert!(self.names.iter().filter(|&&n| n != gap()).eq(self.nodes.iter().map(|n| &n.name)), "the kept names are not the nodes'");
    }

    /// Reads the names of the nodes (after a pass that visited every node anyway).
    fn names_from_nodes(&mut self) {
        let gap = gap();
        self.names.clear();
        self.names.extend(self.nodes.by_slot().map(|n| n.map_or(gap, |n| n.name)));
        self.names_current = true;
    }
}

/// The slots, ascending, of `name` in `names`: the names are compared a block at a time,
/// without a branch per name, and only a block holding it is looked through (callgrind: about 3
/// instructions a name, against 4–5 for a plain `filter` or `position`).
fn matches(names: &[Sym], name: Sym) -> impl Iterator<Item = usize> + '_ {
    const BLOCK: usize = 16;
    let holds = move |block: &&[Sym]| block.iter().filter(|&&n| n == name).count() != 0;
    names.chunks(BLOCK).enumerate().filter(move |(_, block)| holds(block)).flat_map(move |(b, block)| {
        block.iter().enumerate().filter(move |&(_, &n)| n == name).map(move |(i, _)| b * BLOCK + i)
    })
}

impl Default for NodeList {
    fn default() -> NodeList {
        NodeList::new()
    }
}

impl PartialEq for NodeList {
    fn eq(&self, other: &NodeList) -> bool {
        self.nodes == other.nodes
    }
}

impl std::fmt::Debug for NodeList {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.nodes.fmt(f)
    }
}

impl std::ops::Index<usize> for NodeList {
    type Output = Node;

    #[inline]
    fn index(&self, at: usize) -> &Node {
        &self.nodes[at]
    }
}

impl std::ops::IndexMut<usize> for NodeList {
    #[inline]
    fn index_mut(&mut self, at: usize) -> &mut Node {
        self.lend_mut();
        &mut self.nodes[at]
    }
}

impl From<Vec<Node>> for NodeList {
    fn from(nodes: Vec<Node>) -> NodeList {
        BoxList::from(nodes).into()
    }
}

impl From<BoxList<Node>> for NodeList {
    fn from(nodes: BoxList<Node>) -> NodeList {
        let mut list = NodeList { nodes, names: Vec::new(), names_current: false };
        list.names_from_nodes();
        list
    }
}

impl From<NodeList> for Vec<Node> {
    fn from(nodes: NodeList) -> Vec<Node> {
        nodes.into_vec()
    }
}

impl FromIterator<Node> for NodeList {
    fn from_iter<I: IntoIterator<Item = Node>>(nodes: I) -> NodeList {
        BoxList::from_iter(nodes).into()
    }
}

impl Extend<Node> for NodeList {
    fn extend<I: IntoIterator<Item = Node>>(&mut self, nodes: I) {
        for node in nodes {
            self.push(node);
        }
    }
}

impl<'a> Extend<&'a Node> for NodeList {
    fn extend<I: IntoIterator<Item = &'a Node>>(&mut self, nodes: I) {
        self.extend(nodes.into_iter().cloned());
    }
}

impl<'a> IntoIterator for &'a NodeList {
    type Item = &'a Node;
    type IntoIter = box_list::Iter<'a, Node>;

    fn into_iter(self) -> box_list::Iter<'a, Node> {
        self.iter()
    }
}

impl<'a> IntoIterator for &'a mut NodeList {
    type Item = &'a mut Node;
    type IntoIter = box_list::IterMut<'a, Node>;

    fn into_iter(self) -> box_list::IterMut<'a, Node> {
        self.iter_mut()
    }
}

impl IntoIterator for NodeList {
    type Item = Node;
    type IntoIter = box_list::IntoIter<Node>;

    fn into_iter(self) -> box_list::IntoIter<Node> {
        self.nodes.into_iter()
    }
}

impl PartialEq<[Node]> for NodeList {
    fn eq(&self, other: &[Node]) -> bool {
        self.nodes == *other
    }
}

impl PartialEq<Vec<Node>> for NodeList {
    fn eq(&self, other: &Vec<Node>) -> bool {
        self.nodes == *other
    }
}

impl serde::Serialize for NodeList {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.nodes.serialize(s)
    }
}

impl<'de> serde::Deserialize<'de> for NodeList {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<NodeList, D::Error> {
        BoxList::deserialize(d).map(NodeList::from)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(list: &NodeList) -> Vec<Sym> {
        list.iter().map(|n| n.name).collect()
    }

    /// The list holds what a `Vec<Node>` given the same changes holds, in the same order, and its
    /// kept names, when current, are its nodes' (a fresh read): pushes, removals by position, by
    /// name (two nodes of one name, a name of no node) and by `retain`, inserts, swaps, a node
    /// renamed through `update` and through `IndexMut` (the names then read again when needed),
    /// nodes taken out and put back; it serializes as the `Vec` does.
    #[test]
    fn a_node_list_is_a_vec_of_nodes_and_keeps_its_names() {
        let state = crate::fixtures::karpenter_cluster(9, 1, 5);
        let mut model: Vec<Node> = state.nodes.to_vec();
        let mut list = NodeList::from(model.clone());
        let check = |list: &NodeList, model: &Vec<Node>, step: &str| {
            assert!(*list == *model, "{step}");
            assert_eq!(list.len(), model.len(), "{step}");
            if let Some(kept) = list.kept_names() {
                assert_eq!(kept, names(list), "{step}");
            }
            for n in model {
                assert_eq!(list.position(n.name), model.iter().position(|m| m.name == n.name), "{step}");
            }
        };
        check(&list, &model, "built");
        let mut twin = model[3].clone();
        twin.name = model[1].name;
        list.push(twin.clone());
        model.push(twin);
        check(&list, &model, "pushed a twin");
        let gone = [model[1].name, Sym::new("no-such-node"), model[6].name];
        let removed = list.remove_named(&gone);
        let expected: Vec<Node> = model.iter().filter(|n| gone.contains(&n.name)).cloned().collect();
        model.retain(|n| !gone.contains(&n.name));
        assert_eq!(removed, expected);
        assert_eq!(removed.len(), 3);
        check(&list, &model, "removed by name");
        assert_eq!(list.remove(2), model.remove(2));
        check(&list, &model, "removed by position");
        assert_eq!(list.remove_at(&[0, 3, 4]), [model.remove(0), model.remove(2), model.remove(2)]);
        check(&list, &model, "removed at positions");
        let renamed = Sym::new("renamed");
        list.update(1, |n| n.name = renamed);
        model[1].name = renamed;
        check(&list, &model, "renamed through update");
        assert_eq!(list.position(renamed), Some(1));
        list[0].name = Sym::new("renamed-again");
        model[0].name = Sym::new("renamed-again");
        assert!(list.kept_names().is_none());
        check(&list, &model, "renamed through IndexMut");
        assert_eq!(list.remove_named(&[renamed]).len(), 1);
        model.retain(|n| n.name != renamed);
        assert!(list.kept_names().is_some());
        check(&list, &model, "removed after a rename");
        let mut inserted = state.nodes[8].clone();
        inserted.name = Sym::new("inserted");
        list.insert(1, inserted.clone());
        model.insert(1, inserted);
        list.swap(0, 2);
        model.swap(0, 2);
        check(&list, &model, "inserted and swapped");
        let first = model[0].name;
        let taken = list.take_out(|n| n.name == first);
        assert!(!taken.is_empty());
        assert_eq!(names(&list), model[1..].iter().map(|n| n.name).collect::<Vec<_>>());
        list.put_back(taken);
        check(&list, &model, "taken out and put back");
        list.retain(|n| n.name != first);
        model.retain(|n| n.name != first);
        check(&list, &model, "retained");
        assert_eq!(serde_json::to_string(&list).expect("json"), serde_json::to_string(&model).expect("json"));
        let back: NodeList = serde_json::from_str(&serde_json::to_string(&model).expect("json")).expect("nodes");
        check(&back, &model, "read back");
        assert_eq!(list.clone().into_vec(), model);
    }

    /// Nodes removed a few at a time (each leaving a gap, until the gaps close) and nodes pushed,
    /// some renamed through `update`, one named with the text of the gaps' mark: after each change the kept names are the nodes', and every
    /// look-up by name (`position`, `positions_of`, `positions_named`, `contains_name`) finds what
    /// a scan of a `Vec` finds.
    #[test]
    fn names_are_found_across_gaps_and_their_closing() {
        use rand::rngs::Xoshiro256PlusPlus;
        use rand::{RngExt, SeedableRng};
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(7);
        let mut model: Vec<Node> = crate::fixtures::karpenter_cluster(120, 0, 3).nodes.to_vec();
        // a node named as the gaps' mark reads is still a node
        model[100].name = Sym::new(Sym::mark().as_str());
        let mut list = NodeList::from(model.clone());
        let (template, mut gone, mut layouts) = (model[0].clone(), Vec::new(), 0);
        for step in 0..400 {
            let layout = list.layout();
            if model.is_empty() || rng.random_range(0..4) == 0 {
                let mut node = template.clone();
                node.name = Sym::new(&format!("launched-{step}"));
                list.push(node.clone());
                model.push(node);
            } else {
                let mut at: Vec<usize> = (0..rng.random_range(1..=2)).map(|_| rng.random_range(0..model.len())).collect();
                at.sort_unstable();
                at.dedup();
                let removed = list.remove_at(&at);
                for &i in at.iter().rev() {
                    gone.push(model.remove(i).name);
                }
                assert_eq!(removed.len(), at.len());
            }
            if step % 25 == 0 && !model.is_empty() {
                let (at, name) = (step % model.len(), Sym::new(&format!("renamed-{step}")));
                list.update(at, |n| n.name = name);
                model[at].name = name;
            }
            layouts += usize::from(list.layout() != layout);
            assert_eq!(list.kept_names(), Some(model.iter().map(|n| n.name).collect()), "step {step}");
            let position = |name: Sym| model.iter().position(|n| n.name == name);
            assert!(model.iter().all(|n| list.position(n.name) == position(n.name) && list.contains_name(n.name)), "step {step}");
            assert!(gone.iter().all(|&g| list.position(g).is_none() && !list.contains_name(g)), "step {step}");
            if let [a, .., b] = &model[..] {
                assert_eq!(list.positions_of(&[b.name, a.name]), [0, model.len() - 1], "step {step}");
            }
            let odd: Vec<usize> = (0..model.len()).filter(|&i| model[i].name.as_str().len() % 2 == 1).collect();
            assert_eq!(list.positions_named(|n| n.as_str().len() % 2 == 1), odd, "step {step}");
        }
        assert!(layouts > 0, "the gaps never closed");
    }
}
