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
        let forgotten = facts.index.as_mut().filter(|i| i.is_complete())?.take_forgotten();
        let mut ctx = BuildCtx::new(state);
        ctx.types_by_name = std::mem::take(&mut facts.types_by_name);
        for name in forgotten {
            // a scan of the nodes for each of the few a command changed (removed ones are not found)
            if let Some(node) = state.nodes.iter().find(|n| n.name == name) {
                facts.entry(node, pods_by_node.get(&name).unwrap_or(&[]), &mut ctx);
            }
        }
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

    /// The facts, with the types by name lent to the round's [`BuildCtx`] given back (for the
    /// next rounds, and a full build of this round's candidates).
    pub(super) fn into_facts(self) -> &'k mut FactsByNode {
        self.facts.types_by_name = self.ctx.types_by_name;
        self.facts
    }

    /// Debug builds: the index is the one fresh facts of every node give.
    fn check_index(&self) {
        let state = self.ctx.state;
        let mut ctx = BuildCtx::new(state);
        let mut fresh = QuickIndex::of_every_node();
        for node in &state.nodes {
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
    use super::super::candidates::{build, same_candidate};
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

    /// The lazy candidates of the index's nodes are those of a full build: the names of the
    /// watched ones and of the drifted ones in drift's order.
    fn same_as_full(state: &ClusterState, facts: &mut FactsByNode, now: Timestamp) -> (Vec<Sym>, Vec<Sym>) {
        let pods = bound_pods_by_node(state);
        let (full, _) = build(state, &pods, now, None);
        let mut lazy = Lazy::new(state, &pods, now, facts).expect("a complete index");
        lazy.check_index();
        let watched = lazy.watched();
        let drifted: Vec<Candidate> = lazy.drifted(&[]).collect();
        for c in watched.iter().chain(&drifted) {
            let f = full.iter().find(|f| f.name() == c.name()).expect("a candidate of the full build");
            assert!(same_candidate(c, f), "lazy candidate of {} differs", c.name());
        }
        (watched.iter().map(Candidate::name).collect(), drifted.iter().map(Candidate::name).collect())
    }

    /// The index kept across commands that delete a node (its pods moving to another), replace
    /// one (a quick round's plans: drift's, a new node taking the pods), move pods off a node
    /// that stays and delete the empty node, each followed by forgetting what `place` reported,
    /// is the index of fresh facts, and the candidates built from it are the full build's: the
    /// watched ones (the empty node, the expired one), the drifted in drift's order (pods to
    /// move, age, name).
    #[test]
    fn the_index_kept_across_delete_replace_and_move_is_a_fresh_one() {
        let now = 7_200;
        let mut state = drifted_cluster(9, now);
        let n: Vec<Sym> = state.nodes.iter().map(|n| n.name).collect();
        let mut facts = KeptFacts::for_state(&state).expect("unique names").with_quick_index();
        assert!(Lazy::new(&state, &bound_pods_by_node(&state), now, &mut facts.nodes).is_none(), "no index before a full build");
        build(&state, &bound_pods_by_node(&state), now, Some(&mut facts.nodes));
        // watched by name (the expired n1, the empty n2), then drift's order: n2 (no pods to
        // move), the expired n1, the oldest, those of 600 s by name; the young nodes (n3, n7) last
        assert_eq!(same_as_full(&state, &mut facts.nodes, now), (vec![n[1], n[2]], vec![n[2], n[1], n[0], n[4], n[8], n[5], n[6], n[3], n[7]]));
        let mut seq = 0;
        let to = |state: &ClusterState, from: Sym, dest: Sym| state.pods.iter().filter(|p| p.node_name == Some(from)).map(|p| (p.uid, Dest::Existing(dest))).collect::<Vec<_>>();
        let binds = to(&state, n[0], n[5]);
        let changed = place(&mut state, &[], &binds, &[n[0]], now, &mut seq);
        facts.forget(&changed);
        same_as_full(&state, &mut facts.nodes, now);
        // a quick round: expiration deletes n1, emptiness n2 (the empty node); then drift replaces
        let mut replaced = 0;
        for _ in 0..3 {
            for p in super::super::plan_round(&state, now, &Default::default()) {
                replaced += p.new_nodes.len();
                let changed = place(&mut state, &p.new_nodes, &p.binds, &p.remove, now, &mut seq);
                facts.forget(&changed);
                let (watched, drifted) = same_as_full(&state, &mut facts.nodes, now);
                assert!(!watched.iter().chain(&drifted).any(|x| p.remove.contains(x)));
            }
        }
        assert!(replaced > 0 && !state.nodes.iter().any(|x| [n[1], n[2]].contains(&x.name)), "{replaced}");
        let binds = to(&state, n[6], n[8]);
        let changed = place(&mut state, &[], &binds, &[], now, &mut seq);
        facts.forget(&changed);
        // n6 lost its pods: empty, it is watched, and first in drift's order
        let (watched, drifted) = same_as_full(&state, &mut facts.nodes, now);
        assert_eq!((watched, drifted.first()), (vec![n[6]], Some(&n[6])));
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
