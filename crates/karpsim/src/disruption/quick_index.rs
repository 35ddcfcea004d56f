//! Where a quick round (until-stable's, `quick == true`) may need a candidate, kept across rounds
//! with the nodes' facts ([`super::candidates::FactsByNode`]): each candidate node's [`Marks`], and
//! the nodes by them (`disruption/lazy.rs` builds the round's candidates from them).
//!
//! Marks come from a node's facts and record alone, whatever the time: they are added with its
//! facts and forgotten with them (for the nodes a command changed,
//! [`super::kept::KeptFacts::forget`]); the nodes forgotten are marked again before the next
//! quick round reads the index, if still in the state.

use crate::labels::{Sym, SymMap, SymSet};
use crate::model::{Node, Timestamp};
use std::collections::BTreeSet;

/// Where a quick round may need a candidate of a node, whatever the time.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct Marks {
    /// Drifted (now, or once an hour old) in a dynamic pool: drift's key, (pods to move, created);
    /// the name ends it (`methods.rs: DriftNext`, whose other tie-breaks never count between nodes
    /// of distinct names).
    pub(super) drift: Option<(bool, Timestamp)>,
    /// When its pool's `expireAfter` is reached.
    pub(super) expires_at: Option<Timestamp>,
    /// Read at every quick round: empty in a pool that consolidates (emptiness), in a static pool
    /// (static drift), or in a capacity reservation (which may end).
    pub(super) watched: bool,
}

/// The candidate nodes by [`Marks`], by name.
#[derive(Debug, Default, PartialEq)]
pub(super) struct QuickIndex {
    marks: SymMap<Marks>,
    drift: BTreeSet<DriftKey>,
    expiry: BTreeSet<(Timestamp, Sym)>,
    watched: BTreeSet<Sym>,
    /// Nodes forgotten since they were marked: marked again, if still in the state, before a
    /// quick round reads the index.
    forgotten: Vec<Sym>,
    /// Where commands since then left nodes they gave pods, in the state's nodes ([`QuickIndex::near`]).
    near: Vec<usize>,
    /// Every node of the state had its facts made since the index was (re)started: the index and
    /// `forgotten` say where every candidate is.
    complete: bool,
    /// Each node the budgets count (managed, initialized): its pool and whether it is disrupting.
    counted: SymMap<(Sym, bool)>,
    /// Each pool's (nodes counted, of them disrupting): [`super::budgets::mapping`]'s counts.
    per_pool: SymMap<(i64, i64)>,
    /// The nodes being deleted or not initialized yet (any node): when there are none, a round
    /// needs no pass over the nodes to list them (`RoundCtx::deleting`, `RoundCtx::uninitialized`).
    arriving_leaving: SymSet,
}

impl QuickIndex {
    pub(super) fn add(&mut self, node: Sym, m: Marks) {
        if let Some((movable, created)) = m.drift {
            self.drift.insert((movable, created, node));
        }
        if let Some(at) = m.expires_at {
            self.expiry.insert((at, node));
        }
        if m.watched {
            self.watched.insert(node);
        }
        self.marks.insert(node, m);
    }

    /// Count `node` in its pool's budgets, as [`super::budgets::mapping`] does (any node, a
    /// candidate or not), and among the nodes being deleted or not initialized when it is one.
    pub(super) fn count(&mut self, node: &Node) {
        if node.deletion_timestamp.is_some() || !node.initialized {
            self.arriving_leaving.insert(node.name);
        }
        let Some(pool) = node.nodepool.filter(|_| node.initialized) else { return };
        let disrupting = super::budgets::disrupting(node);
        self.counted.insert(node.name, (pool, disrupting));
        let c = self.per_pool.entry(pool).or_default();
        c.0 += 1;
        c.1 += i64::from(disrupting);
    }

    /// Each pool's counts of nodes and of those disrupting.
    pub(super) fn pool_counts(&self) -> SymMap<(i64, i64)> {
        self.per_pool.clone()
    }

    /// No node of the state is being deleted or not initialized (for a complete index whose
    /// forgotten nodes were marked again).
    pub(super) fn none_arriving_or_leaving(&self) -> bool {
        self.arriving_leaving.is_empty()
    }

    pub(super) fn forget(&mut self, node: Sym) {
        self.arriving_leaving.remove(&node);
        if let Some((pool, disrupting)) = self.counted.remove(&node)
            && let Some(c) = self.per_pool.get_mut(&pool)
        {
            c.0 -= 1;
            c.1 -= i64::from(disrupting);
            // as a fresh count has no entry for a pool without nodes
            if c.0 == 0 {
                self.per_pool.remove(&pool);
            }
        }
        if let Some(m) = self.marks.remove(&node) {
            if let Some((movable, created)) = m.drift {
                self.drift.remove(&(movable, created, node));
            }
            if let Some(at) = m.expires_at {
                self.expiry.remove(&(at, node));
            }
            self.watched.remove(&node);
        }
        self.forgotten.push(node);
    }

    /// Every node of the state has been given its facts (a full build).
    pub(super) fn complete(&mut self) {
        self.complete = true;
        self.forgotten.clear();
        self.near.clear();
    }

    /// Note where a command left the nodes it gave pods (`Changed::got_pods_at`), forgotten with
    /// its other changes: the next quick round looks there first.
    pub(super) fn near(&mut self, positions: &[usize]) {
        self.near.extend_from_slice(positions);
    }

    pub(super) fn is_complete(&self) -> bool {
        self.complete
    }

    /// An index of every node, to add each one's marks to (a fresh one, to compare with).
    pub(super) fn of_every_node() -> QuickIndex {
        QuickIndex { complete: true, ..QuickIndex::default() }
    }

    /// The nodes forgotten since the last call, to mark again if still in the state, and the
    /// positions noted since where some of them may be ([`QuickIndex::near`]).
    pub(super) fn take_forgotten(&mut self) -> (Vec<Sym>, Vec<usize>) {
        (std::mem::take(&mut self.forgotten), std::mem::take(&mut self.near))
    }

    /// The nodes read at every round and those whose pool's `expireAfter` is reached at `now`,
    /// in name order.
    pub(super) fn watched_or_expired(&self, now: Timestamp) -> Vec<Sym> {
        let mut names: Vec<Sym> = self.watched.iter().copied().collect();
        names.extend(self.expiry.iter().take_while(|(at, _)| *at <= now).map(|(_, n)| *n));
        names.sort_unstable();
        names.dedup();
        names
    }

    /// The first node in drift's order after `after` (from the first with `None`), with its key.
    pub(super) fn next_drifted(&self, after: Option<DriftKey>) -> Option<DriftKey> {
        match after {
            None => self.drift.iter().next().copied(),
            Some(k) => self.drift.range((std::ops::Bound::Excluded(k), std::ops::Bound::Unbounded)).next().copied(),
        }
    }
}

/// A node's place in drift's order: (pods to move, created, name).
pub(super) type DriftKey = (bool, Timestamp, Sym);
