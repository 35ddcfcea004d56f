//! Static NodePools in the disruption round (Karpenter v1.14.1):
//!
//! * `StaticDrift` (`disruption/staticdrift.go`), after Emptiness: per static pool, while its
//!   active NodeClaims do not exceed `replicas`, replace up to `min(Drifted budget, #drifted)`
//!   drifted nodes (within `limits.nodes`, `ReserveNodeCount`), each by a fresh NodeClaim of the
//!   pool's template; no scheduling simulation, no validation. Its candidates are of the eventual
//!   class: pods blocked by PDBs or do-not-disrupt keep the node unless it has a
//!   terminationGracePeriod.
//! * scale-down (`static/deprovisioning/controller.go`), a controller of its own that deletes
//!   NodeClaims outright (like expiration): when a static pool has more active NodeClaims than
//!   `replicas`, the surplus goes, empty nodes first (no pods but DaemonSet ones without
//!   do-not-disrupt), then the ones cheapest to reschedule (Σ eviction cost × lifetime remaining),
//!   nodes with do-not-disrupt pods last.

use super::apply::{NewNode, Plan};
use super::budgets;
use super::candidates::Candidate;
use super::simulate::RoundCtx;
use super::{Command, DisruptionOptions, Method, PodMove, Replacement};
use crate::eviction::{eviction_cost, pod_do_not_disrupt};
use crate::labels::Sym;
use crate::model::{DisruptionReason, NodePool};
use crate::scheduling::static_pools::{node_counts, reserve_node_count, template_claim};
use std::collections::BTreeMap;

/// The command replacing (or, with no replacement, deleting) `nodes` of a static pool: their pods
/// become pending (the provisioner and kube-scheduler place them, on the replacement if it fits).
fn static_plan(ctx: &RoundCtx, method: Method, nodes: &[(Sym, f64)], replacement: Option<(Replacement, NewNode)>, reason: String) -> Plan {
    let mut pods: Vec<PodMove> = nodes
        .iter()
        .flat_map(|(n, _)| ctx.pods_by_node.get(n).into_iter().flatten().filter(|p| p.is_reschedulable()))
        .map(|p| PodMove { pod: p.key(), to: "pending".into() })
        .collect();
    pods.sort_by(|a, b| a.pod.cmp(&b.pod));
    let price_before: f64 = nodes.iter().map(|(_, p)| p).sum();
    let (replacements, new_nodes) = replacement.map_or((Vec::new(), Vec::new()), |(r, n)| (vec![r], vec![n]));
    let command = Command::new(method, nodes.iter().map(|(n, _)| n.to_string()).collect(), replacements, pods, price_before, reason);
    Plan { command, remove: nodes.iter().map(|(n, _)| *n).collect(), new_nodes, binds: Vec::new() }
}

/// `StaticDrift.ComputeCommands`: one Replace command per drifted node it may replace.
pub(super) fn static_drift<'a>(
    ctx: &RoundCtx<'a>,
    cands: &[&'_ Candidate<'a>],
    opts: &DisruptionOptions,
    keep: &mut dyn FnMut(Sym, String),
) -> Vec<Plan> {
    let mut by_pool: BTreeMap<Sym, (&'a NodePool, Vec<&Candidate<'a>>)> = BTreeMap::new();
    for &c in cands.iter().filter(|c| c.pool.replicas.is_some() && c.drifted.is_some()) {
        // eventual class: pod blocks only count without a terminationGracePeriod
        if let Some(b) = c.pod_block.as_ref().filter(|_| c.pool.termination_grace_period.is_none()) {
            keep(c.name(), format!("drifted, but {b}"));
            continue;
        }
        by_pool.entry(c.pool.name).or_insert_with(|| (c.pool, Vec::new())).1.push(c);
    }
    let mut plans = Vec::new();
    if by_pool.is_empty() {
        // no static pool's drifted node: no budget to work out (over every node)
        return plans;
    }
    let budget = budgets::mapping(&ctx.state.nodepools, &ctx.state.nodes, DisruptionReason::Drifted, ctx.now, &[]);
    for (name, (pool, drifted)) in by_pool {
        let allowed = budget.get(&name).copied().unwrap_or(0).max(0);
        let (active, _) = node_counts(ctx.state, name);
        let why = if allowed == 0 {
            Some(format!("drifted, but the disruption budget of NodePool {name} for reason Drifted is used up"))
        } else if active > pool.replicas.unwrap_or(0) {
            Some(format!("drifted, but static NodePool {name} is scaling down first"))
        } else {
            None
        };
        let granted = reserve_node_count(ctx.state, pool, allowed.min(drifted.len() as i64)) as usize;
        let claim = template_claim(ctx.state, pool, &opts.provisioning);
        for (i, c) in drifted.iter().enumerate() {
            let replacement = claim
                .as_ref()
                .and_then(|cl| Replacement::launch(cl, opts.provisioning.launch_policy).map(|r| (NewNode::from_claim(cl, &r), r)));
            match (&why, replacement) {
                (Some(w), _) => keep(c.name(), w.clone()),
                (None, _) if i >= granted => {
                    keep(c.name(), format!("drifted, but limits.nodes of static NodePool {name} leaves no room for its replacement"))
                }
                (None, None) => keep(c.name(), format!("drifted, but static NodePool {name} has no instance type to launch")),
                (None, Some((node, r))) => {
                    let reason = format!(
                        "{} (static NodePool {name}: replaced by a new NodeClaim of its template)",
                        c.drifted.as_deref().unwrap_or_default()
                    );
                    plans.push(static_plan(ctx, Method::StaticDrift, &[(c.name(), c.price)], Some((r, node)), reason));
                }
            }
        }
    }
    plans
}

/// `static/deprovisioning`: delete the surplus NodeClaims of static pools above their `replicas`.
pub(super) fn scale_down(ctx: &RoundCtx) -> Vec<Plan> {
    let mut plans = Vec::new();
    for pool in ctx.state.nodepools.iter().filter(|p| p.replicas.is_some()) {
        let replicas = pool.replicas.unwrap_or(0);
        let (active, _) = node_counts(ctx.state, pool.name);
        if active <= replicas {
            continue;
        }
        let lifetime = |created: i64| match pool.expire_after {
            Some(e) if e > 0 => ((e - (ctx.now - created)) as f64 / e as f64).clamp(0.0, 1.0),
            _ => 1.0,
        };
        // (empty?, has do-not-disrupt, rescheduling cost × lifetime, name)
        let mut ranked: Vec<(bool, bool, f64, Sym, f64)> = ctx
            .state
            .nodes
            .iter()
            .filter(|n| n.nodepool == Some(pool.name) && n.deletion_timestamp.is_none())
            .map(|n| {
                let pods = ctx.pods_by_node.get(&n.name).unwrap_or(&[]);
                let dnd = pods.iter().any(|p| p.is_active() && pod_do_not_disrupt(p, ctx.now));
                let empty = pods.iter().all(|p| p.is_daemonset_pod()) && !dnd;
                let cost = pods.iter().map(|p| eviction_cost(p)).sum::<f64>() * lifetime(n.creation_timestamp);
                (!empty, dnd, cost, n.name, n.price.unwrap_or(0.0))
            })
            .collect();
        ranked.sort_by(|a, b| a.0.cmp(&b.0).then(a.1.cmp(&b.1)).then(a.2.total_cmp(&b.2)).then(a.3.cmp(&b.3)));
        let surplus = (active - replicas) as usize;
        for (_, _, _, name, price) in ranked.into_iter().take(surplus) {
            let reason = format!(
                "static NodePool {} has {active} node(s) for replicas {replicas}: the surplus is deleted, empty and cheapest to reschedule first",
                pool.name
            );
            plans.push(static_plan(ctx, Method::StaticScaleDown, &[(name, price)], None, reason));
        }
    }
    plans
}
