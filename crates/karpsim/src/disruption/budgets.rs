//! Disruption budgets per NodePool and reason (`nodepool.go: GetAllowedDisruptionsByReason`,
//! `disruption/helpers.go: BuildDisruptionBudgetMapping`; design §1.1, §5.4).

use super::cron::Cron;
use crate::labels::Sym;
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
pub fn mapping(pools: &[NodePool], nodes: &[Node], reason: DisruptionReason, now: Timestamp, also_disrupting: &[Sym]) -> BTreeMap<Sym, i64> {
    let mut num: BTreeMap<Sym, i64> = BTreeMap::new();
    let mut disrupting: BTreeMap<Sym, i64> = BTreeMap::new();
    for n in nodes {
        let Some(p) = n.nodepool else { continue };
        if !n.initialized {
            continue;
        }
        *num.entry(p).or_default() += 1;
        if !n.ready || n.deletion_timestamp.is_some() || also_disrupting.contains(&n.name) {
            *disrupting.entry(p).or_default() += 1;
        }
    }
    pools
        .iter()
        .map(|p| {
            let a = allowed(p, reason, now, num.get(&p.name).copied().unwrap_or(0));
            (p.name, (a - disrupting.get(&p.name).copied().unwrap_or(0)).max(0))
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
