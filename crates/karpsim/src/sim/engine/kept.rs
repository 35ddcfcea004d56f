//! What the disruption rounds and provisioning batches keep from one to the next: each node's
//! candidate facts and view parts ([`KeptFacts`], as until-stable keeps them), forgotten for the
//! nodes the engine changed in between.
//!
//! Every write of the engine to a node record or to the pods bound to a node goes through
//! [`Engine::node_changed`] (or [`Engine::nodes_changed`]); a write that may change the NodePools'
//! instance types (a capacity reservation's count, an outage) goes through
//! [`Engine::types_changed`], which forgets everything. What is kept is a function of the node,
//! its pods, its pool and the pool's types only (`disruption/kept.rs`), so a round or batch over
//! kept parts is the one over fresh ones; debug builds (every test suite) compare each of them
//! with a fresh build.

use super::Engine;
use crate::disruption::{Changed, KeptFacts};
use crate::labels::Sym;
use crate::scheduling::KeptNodes;

/// The kept facts and the changes not yet told to them.
#[derive(Default)]
pub(super) struct Kept {
    /// `None` when two nodes share a name (a name is the key): nothing is kept from then on.
    facts: Option<KeptFacts>,
    changed: Changed,
}

impl Kept {
    pub(super) fn for_state(state: &crate::state::ClusterState) -> Kept {
        Kept { facts: KeptFacts::for_state(state), changed: Changed::default() }
    }

    /// The facts, less what changed since they were last used.
    pub(super) fn facts(&mut self) -> Option<&mut KeptFacts> {
        let facts = self.facts.as_mut()?;
        if self.changed.reservations || !self.changed.nodes.is_empty() {
            facts.forget(&std::mem::take(&mut self.changed));
        }
        Some(facts)
    }

    /// Each node's view parts, less what changed since they were last used.
    pub(super) fn views(&mut self) -> Option<&mut KeptNodes> {
        self.facts().map(KeptFacts::views_mut)
    }
}

impl Engine<'_> {
    /// `node`'s record or the pods bound to it changed (or it was launched, or it is gone).
    pub(super) fn node_changed(&mut self, node: Sym) {
        self.kept.changed.nodes.insert(node);
    }

    /// [`Engine::node_changed`] for each of `nodes`.
    pub(super) fn nodes_changed(&mut self, nodes: impl IntoIterator<Item = Sym>) {
        self.kept.changed.nodes.extend(nodes);
    }

    /// The NodePools' instance types may be new (their offerings or reservations changed): what
    /// was kept about every node may depend on them.
    pub(super) fn types_changed(&mut self) {
        self.kept.changed.reservations = true;
    }

    /// A node named `name` joins the state: if one of that name is there already, names stop
    /// being keys, and nothing is kept from then on.
    pub(super) fn node_joins(&mut self, name: Sym) {
        if self.state.nodes.iter().any(|n| n.name == name) {
            self.kept.facts = None;
        }
        self.node_changed(name);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::{Scenario, SimOptions};

    fn example(path: &str, hours: f64) -> Scenario {
        let mut sc = Scenario::load(&std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples").join(path)).expect("example loads");
        sc.duration = hours * 3600.0;
        sc
    }

    /// A run keeping facts across rounds and batches is the run keeping none, event for event
    /// (debug builds also compare each round's candidates and each view with a fresh build): the
    /// diurnal shop scales up and down, consolidates and loses spot nodes; the committed-capacity
    /// example launches into and out of capacity reservations (which forget everything).
    #[test]
    fn a_run_keeping_facts_is_the_run_keeping_none() {
        for (path, hours) in [("diurnal-web/scenario.yaml", 6.0), ("committed-capacity/scenario.yaml", 6.0)] {
            let sc = example(path, hours);
            let keeping = Engine::new(&sc, SimOptions::default());
            assert!(keeping.kept.facts.is_some(), "{path}: node names are unique");
            let keeping = keeping.run_checked().expect("runs");
            let mut fresh = Engine::new(&sc, SimOptions::default());
            fresh.kept = Kept::default();
            let fresh = fresh.run_checked().expect("runs");
            assert!(keeping.metrics.nodes_launched > 0 && !keeping.metrics.disruptions.is_empty(), "{path}: nodes come and go");
            assert_eq!(keeping, fresh, "{path}");
        }
    }

    /// A launch whose name a node already has turns keeping off (a name is the key).
    #[test]
    fn a_second_node_of_one_name_stops_keeping() {
        let sc = example("diurnal-web/scenario.yaml", 1.0);
        let mut e = Engine::new(&sc, SimOptions::default());
        let mut node = crate::fixtures::karpenter_cluster(1, 0, 1).nodes.remove(0);
        e.node_joins(node.name);
        assert!(e.kept.facts().is_some());
        e.state.nodes.push(node.clone());
        node.labels = Default::default();
        e.node_joins(node.name);
        assert!(e.kept.facts().is_none());
    }
}
