//! What the NodePools' limits leave to a run: each limit less what the run's existing nodes use
//! (`nodes` counts one a node), taken off in the view's order with saturation, as the scheduler
//! starts from (`provisioner.go`: the pool's limits less its nodes' capacity; `nodes` since v1.4).
//!
//! A run treats a few nodes as gone (a consolidation candidate), so it leaves their use out. Going
//! over every node for each of a round's simulations cost a pass per run wherever a NodePool has
//! limits; the view works out what every node uses once, and a run gives back the gone nodes' use.
//! That is the same figure whenever no use is negative and no subtraction saturated over all the
//! nodes (each partial result then lies between the limit and the full total), which the view
//! checks; otherwise every run takes the nodes off one by one, as before.

use crate::labels::Sym;
use crate::model::Node;
use std::collections::BTreeMap;

pub(crate) type Limits = BTreeMap<Sym, BTreeMap<String, i64>>;

/// What `node` uses of the limit on resource `key`.
fn use_of(node: &Node, key: &str) -> i64 {
    if key == "nodes" { 1 } else { node.capacity.get(key) }
}

/// `limits` less what `nodes` use, in order, with saturation; and whether that was exact (no use
/// negative, no subtraction saturated), so that a node's use can be given back by an addition.
pub(super) fn less<'n>(mut limits: Limits, nodes: impl Iterator<Item = &'n Node>) -> (Limits, bool) {
    let mut exact = true;
    if limits.is_empty() {
        return (limits, exact);
    }
    for n in nodes {
        if let Some(lim) = n.nodepool.and_then(|p| limits.get_mut(&p)) {
            for (k, x) in lim.iter_mut() {
                let u = use_of(n, k);
                exact &= u >= 0 && x.checked_sub(u).is_some();
                *x = x.saturating_sub(u);
            }
        }
    }
    (limits, exact)
}

/// `left` (exact, from [`less`] over every node) with the use of `gone` given back.
pub(super) fn give_back<'n>(mut left: Limits, gone: impl Iterator<Item = &'n Node>) -> Limits {
    for n in gone {
        if let Some(lim) = n.nodepool.and_then(|p| left.get_mut(&p)) {
            for (k, x) in lim.iter_mut() {
                // no overflow: the result is at most the limit
                *x += use_of(n, k);
            }
        }
    }
    left
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every node taken off, then some given back, is those others taken off one by one; a total
    /// that saturates is not exact.
    #[test]
    fn giving_back_gone_nodes_is_taking_off_only_the_others() {
        let state = crate::fixtures::karpenter_cluster(40, 0, 3);
        let limits: Limits = BTreeMap::from([(Sym::new("default"), BTreeMap::from([("cpu".to_string(), 500_000), ("nodes".to_string(), 100)]))]);
        let (all, exact) = less(limits.clone(), state.nodes.iter());
        assert!(exact);
        let gone = [3, 17, 39];
        let kept = state.nodes.iter().enumerate().filter(|(i, _)| !gone.contains(i)).map(|(_, n)| n);
        assert_eq!(give_back(all, gone.iter().map(|&i| &state.nodes[i])), less(limits, kept).0);
        let tight: Limits = BTreeMap::from([(Sym::new("default"), BTreeMap::from([("cpu".to_string(), i64::MIN + 10)]))]);
        assert!(!less(tight, state.nodes.iter()).1);
    }
}
