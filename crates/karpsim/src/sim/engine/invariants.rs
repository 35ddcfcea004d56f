//! The simulator's invariants, checked after every event by [`Engine::run_checked`].

use super::Engine;
use crate::labels::Sym;
use std::collections::{HashMap, HashSet};

impl Engine<'_> {
    pub(super) fn check(&self, alive: &HashSet<Sym>) -> Result<(), String> {
        let mut seen = HashSet::new();
        for p in &self.state.pods {
            if !seen.insert(p.uid) {
                return Err(format!("t={}: pod {} duplicated", self.now(), p.key()));
            }
        }
        if let Some(lost) = alive.iter().find(|u| !seen.contains(*u)) {
            return Err(format!("t={}: pod {lost} lost", self.now()));
        }
        let mut used: HashMap<Sym, crate::resources::Resources> = HashMap::new();
        for p in self.state.pods.iter().filter(|p| !p.is_terminal()) {
            if let Some(n) = p.node_name {
                let mut r = p.requests.clone();
                r.pods = 1;
                used.entry(n).or_default().add_assign(&r);
            }
        }
        for n in &self.state.nodes {
            if let Some(u) = used.get(&n.name)
                && let Some((k, a, b)) = u.first_excess(&n.allocatable)
            {
                return Err(format!("t={}: node {} holds {a} {k}, allocatable {b}", self.now(), n.name));
            }
        }
        if let Some(orphan) = used.keys().find(|n| !self.state.nodes.iter().any(|x| x.name == **n)) {
            return Err(format!("t={}: pods bound to missing node {orphan}", self.now()));
        }
        for pool in &self.state.nodepools {
            for (k, lim) in &pool.limits.0 {
                if k == "nodes" {
                    continue; // Karpenter's own quirk lets a run overshoot the node count (§3.8)
                }
                let usage: i64 = self.state.nodes.iter().filter(|n| n.nodepool == Some(pool.name)).map(|n| n.capacity.get(k)).fold(0i64, i64::saturating_add);
                if usage > *lim {
                    return Err(format!("t={}: NodePool {} uses {usage} {k}, limit {lim}", self.now(), pool.name));
                }
            }
        }
        Ok(())
    }
}
