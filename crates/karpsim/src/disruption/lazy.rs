//! A quick round's candidates (until-stable's rounds, `quick == true`), built only for the nodes
//! the kept index says its methods may read (`disruption/quick_index.rs`), rather than for every
//! node: expiration, static pools' drift, emptiness and drift read few of the candidates (the
//! expired, the static pools', the empty, the drifted, of which drift acts on the first it may, in
//! an order that does not depend on the time). The consolidation methods read every consolidatable
//! candidate in cost order: a round that gets to them builds every candidate (`methods.rs`). Debug
//! builds check the index against fresh marks at every quick round, and the round's plans against
//! a round without anything kept.

use super::candidates::{BuildCtx, Candidate, FactsByNode, NodeFacts};
use super::quick_index::{DriftKey, QuickIndex};
use crate::labels::Sym;
use crate::model::Timestamp;
use crate::scheduling::BoundPods;

/// Up to how many nodes forgotten since the last round are compared name by name with each node
/// scanned (a few instructions per node each); more are looked up in a set (a few tens).
pub(super) const FEW_FORGOTTEN: usize = 4;

/// How many nodes down from each position noted by a command ([`QuickIndex::near`]) a round
/// looks for a forgotten node: each later removal before it shifts it down by one.
const NEAR_STEPS: usize = 8;

/// A round's budgets from each pool's node counts kept in the [`QuickIndex`] (a pass over every
/// node at every round otherwise).
pub(super) struct KeptBudgets<'a> {
    counts: crate::labels::SymMap<(i64, i64)>,
    state: &'a crate::state::ClusterState,
    now: Timestamp,
}

impl KeptBudgets<'_> {
    /// [`super::budgets::mapping`] of the round's state for `reason`; debug builds check it
    /// against one counted afresh.
    pub(super) fn mapping(&self, reason: crate::model::DisruptionReason) -> std::collections::BTreeMap<Sym, i64> {
        let state = self.state;
        let m = super::budgets::from_counts(&state.nodepools, |p| self.counts.get(&p).copied().unwrap_or((0, 0)), reason, self.now);
        if cfg!(debug_assertions) {
            assert_eq!(m, super::budgets::mapping(&state.nodepools, &state.nodes, reason, self.now, &[]), "kept budget counts are stale");
        }
        m
    }
}

/// A quick round's candidates, built on demand from the kept facts and the [`QuickIndex`].
pub(super) struct Lazy<'a, 'k> {
    ctx: BuildCtx<'a>,
    pods_by_node: &'a BoundPods<'a>,
    facts: &'k mut FactsByNode,
    now: Timestamp,
}

impl<'a, 'k> Lazy<'a, 'k> {
    /// The lazy candidates of `state`, or `None` when the facts keep no complete index (the round
    /// then builds every candidate). Gives the nodes forgotten since the last round their facts.
    pub(super) fn new(state: &'a crate::state::ClusterState, pods_by_node: &'a BoundPods<'a>, now: Timestamp, facts: &'k mut FactsByNode) -> Option<Self> {
        let (forgotten, near) = facts.index.as_mut().filter(|i| i.is_complete())?.take_forgotten();
        let mut ctx = BuildCtx::new(state);
        ctx.types_by_name = std::mem::take(&mut facts.types_by_name);
        // Every node of the state has facts but the forgotten ones still in it (a complete index:
        // every node got facts, and a node loses them only when forgotten, as a removed one is),
        // so their number is known before looking, and the looking stops at the last of them.
        // First where the commands left the nodes they gave pods (a few steps down from each
        // position noted: a later command's removal before one shifts it), then from the state's
        // end, where a command's launched nodes are. A scan of every node's name for each name
        // forgotten was O(nodes) per round (a removed one is never found).
        let mut missing = state.nodes.len().saturating_sub(facts.by_node.len());
        let many = (forgotten.len() > FEW_FORGOTTEN).then(|| forgotten.iter().copied().collect::<crate::labels::SymSet>());
        let mut give_facts = |node: &'a crate::model::Node, missing: &mut usize| {
            // a comparison with each of a few names, a set look-up for more
            let named = match &many {
                Some(set) => set.contains(&node.name),
                None => forgotten.contains(&node.name),
            };
            if named && !facts.by_node.contains_key(&node.name) {
                facts.entry(node, pods_by_node.get(&node.name).unwrap_or(&[]), &mut ctx);
                *missing -= 1;
            }
        };
        for &at in near.iter().rev() {
            let below = (at + 1).min(state.nodes.len());
            // by position: a few nodes read where they are (skipping from the end of an iterator
            // over nodes with gaps steps over every node after them)
            for node in (below.saturating_sub(NEAR_STEPS)..below).rev().map(|at| &state.nodes[at]) {
                if missing == 0 {
                    break;
                }
                give_facts(node, &mut missing);
            }
        }
        for node in state.nodes.iter().rev() {
            if missing == 0 {
                break;
            }
            give_facts(node, &mut missing);
        }
        debug_assert_eq!(facts.by_node.len(), state.nodes.len(), "a node of the state has no kept facts");
        let lazy = Lazy { ctx, pods_by_node, facts, now };
        if cfg!(debug_assertions) {
            lazy.check_index();
        }
        Some(lazy)
    }

    /// The candidate of node `name` at the round's time, if it is one.
    fn candidate(&mut self, name: Sym) -> Option<Candidate<'a>> {
        let state = self.ctx.state;
        let node = state.nodes.iter().find(|n| n.name == name)?;
        let pods: &'a [&'a crate::model::Pod] = self.pods_by_node.get(&name).unwrap_or(&[]);
        match self.facts.by_node.get_mut(&name)? {
            NodeFacts::Candidate(f) => Some(self.ctx.candidate(node, pods, f, self.now)),
            NodeFacts::Kept(_) => None,
        }
    }

    /// The candidates expiration, static drift and emptiness may act on (a superset: each method
    /// picks its own from them, as from every candidate), in name order: those watched at every
    /// round and those whose pool's `expireAfter` has been reached.
    pub(super) fn watched(&mut self) -> Vec<Candidate<'a>> {
        let names = self.facts.index.as_ref().map(|i| i.watched_or_expired(self.now)).unwrap_or_default();
        names.into_iter().filter_map(|n| self.candidate(n)).collect()
    }

    /// The candidates drift may read, in drift's order, but those of `skip` (nodes already acted
    /// on): built one at a time, as drift asks (it mostly takes the first).
    pub(super) fn drifted<'s>(&'s mut self, skip: &'s [Sym]) -> impl Iterator<Item = Candidate<'a>> + 's {
        let mut after: Option<DriftKey> = None;
        std::iter::from_fn(move || {
            loop {
                let key = self.facts.index.as_ref()?.next_drifted(after)?;
                after = Some(key);
                if skip.contains(&key.2) {
                    continue;
                }
                if let Some(c) = self.candidate(key.2) {
                    return Some(c);
                }
            }
        })
    }

    /// No node of the state is being deleted or not initialized, as the kept index says.
    pub(super) fn none_arriving_or_leaving(&self) -> bool {
        self.facts.index.as_ref().is_some_and(QuickIndex::none_arriving_or_leaving)
    }

    /// The round's budgets from the kept counts.
    pub(super) fn budgets(&self) -> KeptBudgets<'a> {
        KeptBudgets { counts: self.facts.index.as_ref().map(QuickIndex::pool_counts).unwrap_or_default(), state: self.ctx.state, now: self.now }
    }

    /// The facts, with the types by name lent to the round's [`BuildCtx`] given back (for the
    /// next rounds, and a full build of this round's candidates).
    pub(super) fn into_facts(self) -> &'k mut FactsByNode {
        self.facts.types_by_name = self.ctx.types_by_name;
        self.facts
    }

    /// Debug builds: the index is the one fresh facts of every node give.
    pub(super) fn check_index(&self) {
        let state = self.ctx.state;
        let mut ctx = BuildCtx::new(state);
        let mut fresh = QuickIndex::of_every_node();
        for node in &state.nodes {
            fresh.count(node);
            if let NodeFacts::Candidate(mut f) = ctx.facts(node, self.pods_by_node.get(&node.name).unwrap_or(&[])) {
                fresh.add(node.name, ctx.marks(node, &mut f));
            }
        }
        assert!(self.facts.index.as_ref() == Some(&fresh), "the kept quick index is stale");
    }
}

#[cfg(test)]
pub(super) mod tests {
    use super::super::apply::{place, Dest};
    use super::super::candidates::build;
    use super::super::kept::KeptFacts;
    use super::*;
    use crate::model::{OwnerKind, OwnerRef};
    use crate::scheduling::bound_pods_by_node;
    use crate::state::ClusterState;

    /// A cluster whose every node drifted (a template label the nodes lack), but one recent node
    /// (younger than an hour), with an empty node (its pods DaemonSet ones), an expired one and a
    /// few of one creation time (drift's order falls back on names).
    pub(in super::super) fn drifted_cluster(nodes: usize, now: Timestamp) -> ClusterState {
        let mut state = crate::fixtures::karpenter_cluster(nodes, 3, 11);
        state.nodepools[0].labels.insert(Sym::new("tier"), Sym::new("v2"));
        for (i, n) in state.nodes.iter_mut().enumerate() {
            n.creation_timestamp = [0, 600, 600, now - 60][i % 4];
        }
        state.nodes[1].creation_timestamp = now - 721 * 3600;
        let empty = state.nodes[2].name;
        for p in state.pods.iter_mut().filter(|p| p.node_name == Some(empty)) {
            p.owner = Some(OwnerRef { kind: OwnerKind::DaemonSet, name: Sym::new("logs") });
        }
        state
    }

    /// The debug check catches an index kept across a change that was not reported (a node
    /// left empty by a move).
    #[test]
    #[cfg(debug_assertions)]
    #[should_panic(expected = "kept quick index is stale")]
    fn an_index_of_a_change_not_reported_is_caught() {
        let now = 7_200;
        let mut state = drifted_cluster(6, now);
        let (from, to) = (state.nodes[0].name, state.nodes[1].name);
        let mut facts = KeptFacts::for_state(&state).expect("unique names").with_quick_index();
        build(&state, &bound_pods_by_node(&state), now, Some(&mut facts.nodes));
        let binds: Vec<(Sym, Dest)> = state.pods.iter().filter(|p| p.node_name == Some(from)).map(|p| (p.uid, Dest::Existing(to))).collect();
        let _unreported = place(&mut state, &[], &binds, &[], now, &mut 0);
        let pods = bound_pods_by_node(&state);
        let _ = Lazy::new(&state, &pods, now, &mut facts.nodes);
    }
}
