//! Disruption budgets per NodePool and reason (`nodepool.go: GetAllowedDisruptionsByReason`,
//! `disruption/helpers.go: BuildDisruptionBudgetMapping`; design §1.1, §5.4).

use super::cron::Cron;
use crate::labels::{Sym, SymMap};
use crate::model::{DisruptionReason, Node, NodePool, Timestamp};
use std::collections::BTreeMap;

/// Nodes one budget allows to disrupt now (`Budget.GetAllowedDisruptions`): unlimited when its
/// schedule is not active; percentages round up; a misconfigured budget allows nothing.
pub fn budget_allows(b: &crate::model::Budget, now: Timestamp, num_nodes: i64) -> i64 {
    if let (Some(s), Some(d)) = (&b.schedule, b.duration) {
        match Cron::parse(s) {
            Ok(c) if !c.active(now, d) => return i64::from(i32::MAX),
            Ok(_) => {}
            Err(_) => return 0, // fail closed (MustGetAllowedDisruptions)
        }
    }
    match b.nodes.strip_suffix('%') {
        Some(p) => match p.parse::<i64>() {
            Ok(p) => (p * num_nodes + 99) / 100,
            Err(_) => 0,
        },
        None => b.nodes.parse().unwrap_or(0),
    }
}

/// The minimum over the pool's budgets that apply to `reason`.
pub fn allowed(pool: &NodePool, reason: DisruptionReason, now: Timestamp, num_nodes: i64) -> i64 {
    pool.disruption
        .budgets
        .iter()
        .filter(|b| b.reasons.as_ref().is_none_or(|r| r.contains(&reason)))
        .map(|b| budget_allows(b, now, num_nodes))
        .min()
        .unwrap_or(i64::from(i32::MAX))
}

/// Remaining disruptions per pool for a reason: allowed minus nodes already disrupting (not Ready or
/// deleting), counting only managed, initialized nodes.
pub fn mapping<'a>(pools: &[NodePool], nodes: impl IntoIterator<Item = &'a Node>, reason: DisruptionReason, now: Timestamp, also_disrupting: &[Sym]) -> BTreeMap<Sym, i64> {
    // (nodes, disrupting) per pool name, counted in a list with a slot per name: a pool's nodes
    // come in runs (a snapshot lists them together, launches append), so the slot of the last
    // node's pool is tried first and the map is asked once per run (every round of until-stable
    // counts every node, and a sorted map's look-up per node compared names as strings)
    let mut counts: Vec<(i64, i64)> = Vec::with_capacity(pools.len());
    let mut slot: SymMap<usize> = SymMap::default();
    let mut last: Option<(Sym, usize)> = None;
    for n in nodes {
        let Some(p) = n.nodepool else { continue };
        if !n.initialized {
            continue;
        }
        let s = match last {
            Some((name, s)) if name == p => s,
            _ => {
                let s = *slot.entry(p).or_insert_with(|| {
                    counts.push((0, 0));
                    counts.len() - 1
                });
                last = Some((p, s));
                s
            }
        };
        counts[s].0 += 1;
        if disrupting(n) || also_disrupting.contains(&n.name) {
            counts[s].1 += 1;
        }
    }
    from_counts(pools, |p| slot.get(&p).map_or((0, 0), |&s| counts[s]), reason, now)
}

/// Whether a node counts as disrupting already (not Ready, or deleting).
pub(super) fn disrupting(n: &Node) -> bool {
    !n.ready || n.deletion_timestamp.is_some()
}

/// [`mapping`] from each pool's counts of managed, initialized nodes and of those disrupting.
pub(super) fn from_counts(pools: &[NodePool], counts: impl Fn(Sym) -> (i64, i64), reason: DisruptionReason, now: Timestamp) -> BTreeMap<Sym, i64> {
    pools
        .iter()
        .map(|p| {
            let (num, disrupting) = counts(p.name);
            let a = allowed(p, reason, now, num);
            (p.name, (a - disrupting).max(0))
        })
        .collect()
}

/// Take one disruption of `pool` from a [`mapping`]: false (and nothing taken) when none is left.
pub fn take(mapping: &mut BTreeMap<Sym, i64>, pool: Sym) -> bool {
    let b = mapping.entry(pool).or_insert(0);
    if *b <= 0 {
        return false;
    }
    *b -= 1;
    true
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Budget;

    /// Each pool's remaining disruptions count its own initialized nodes and those of them
    /// disrupting, however the pools' nodes interleave; nodes of no pool, of a pool not in the
    /// list or not initialized count nowhere.
    #[test]
    fn mapping_counts_each_pools_nodes_in_any_order() {
        let mut state = crate::fixtures::karpenter_cluster(12, 1, 5);
        let mut pools = vec![state.nodepools[0].clone(), state.nodepools[0].clone()];
        pools[1].name = Sym::new("other");
        for p in &mut pools {
            p.disruption.budgets = vec![Budget { nodes: "50%".into(), schedule: None, duration: None, reasons: None }];
        }
        let pool_of = [0, 0, 1, 0, 1, 1, 0, 2, 3, 1, 0, 0];
        for (n, &p) in state.nodes.iter_mut().zip(&pool_of) {
            n.nodepool = match p {
                0 => Some(pools[0].name),
                1 => Some(pools[1].name),
                2 => Some(Sym::new("unlisted")),
                _ => None,
            };
        }
        state.nodes[1].ready = false;
        state.nodes[4].deletion_timestamp = Some(0);
        state.nodes[10].initialized = false;
        let also = [state.nodes[5].name, state.nodes[11].name];
        let m = mapping(&pools, &state.nodes, DisruptionReason::Drifted, 0, &also);
        // pool 0: 5 initialized nodes (50% rounds up to 3), 2 disrupting; pool 1: 4 nodes (2), 2 disrupting
        assert_eq!(m, BTreeMap::from([(pools[0].name, 1), (pools[1].name, 0)]));
    }
}
