//! Validating a command after its wait (`disruption/validation.go`; design §5.11): the command
//! Karpenter executes is the one it decided, provided its candidates are still candidates and,
//! for consolidation, a fresh simulation of those candidates still supports it.

use super::apply::Plan;
use super::budgets;
use super::candidates::{self, Candidate};
use super::methods::{consolidation_block, emptiness_may_act, round_ctx};
use super::{DisruptionOptions, Method};
use crate::model::{DisruptionReason, Timestamp};
use crate::state::ClusterState;

/// Re-check `plan` at `now`. Returns the plan to execute or why it is abandoned.
///
/// - Emptiness (`EmptinessValidator`): the candidates that are still empty candidates, within the
///   Empty budget, go ahead; the command fails only if none is left.
/// - Consolidation (`ConsolidationValidator`): every candidate must still be a consolidation
///   candidate within the Underutilized budget, and a new simulation of exactly those candidates
///   must place every pod that has to move, with no new NodeClaim for a delete, and for a replace
///   one NodeClaim whose options include all of the command's (`instanceTypesAreSubset`).
/// - Other methods are not validated (expiration and drift act at once).
pub fn validate(state: &ClusterState, now: Timestamp, opts: &DisruptionOptions, plan: &Plan) -> Result<Plan, String> {
    let pods_by_node = crate::scheduling::bound_pods_by_node(state);
    let ctx = round_ctx(state, &pods_by_node, now, opts, crate::scheduling::pending_pods(state, &mut Vec::new()), false, None);
    let (cands, _) = candidates::build(state, ctx.pods_by_node, now, None);
    let current = |name| cands.iter().find(|c| c.name() == name);
    match plan.command.method {
        Method::Emptiness => {
            let mut budget = budgets::mapping(&state.nodepools, &state.nodes, DisruptionReason::Empty, now, &[]);
            let valid: Vec<&Candidate> = plan
                .remove
                .iter()
                .filter_map(|n| current(*n))
                .filter(|c| emptiness_may_act(c))
                .filter(|c| budgets::take(&mut budget, c.pool.name))
                .collect();
            if valid.is_empty() {
                return Err(format!("{} candidate(s) are no longer empty and disruptable", plan.remove.len()));
            }
            Ok(restrict(plan, &valid))
        }
        Method::MultiNode | Method::SingleNode => {
            let valid: Vec<&Candidate> =
                plan.remove.iter().filter_map(|n| current(*n)).filter(|c| consolidation_block(c).is_none()).collect();
            if valid.len() != plan.remove.len() {
                return Err(format!("{} candidate(s) are no longer valid", plan.remove.len() - valid.len()));
            }
            let mut budget = budgets::mapping(&state.nodepools, &state.nodes, DisruptionReason::Underutilized, now, &[]);
            if !valid.iter().all(|c| budgets::take(&mut budget, c.pool.name)) {
                return Err("a candidate can no longer be disrupted without violating budgets".into());
            }
            let sim = ctx.simulate(&valid, true);
            if let Some((pod, why)) = sim.failed_moves.first() {
                return Err(format!("pod {pod} could no longer be rescheduled: {why}"));
            }
            let expected = &plan.command.replacements;
            let still = match (sim.sol.claims.as_slice(), expected.as_slice()) {
                ([], []) => true,
                ([claim], [r]) => r.instance_type_options.iter().all(|t| claim.options.iter().any(|o| o.it.name.as_str() == t)),
                _ => false,
            };
            if !still {
                return Err("scheduling simulation produced new results".into());
            }
            Ok(plan.clone())
        }
        _ => Ok(plan.clone()),
    }
}

/// The plan for a subset of its candidates (emptiness: a delete with no pods to move).
fn restrict(plan: &Plan, valid: &[&Candidate]) -> Plan {
    if valid.len() == plan.remove.len() {
        return plan.clone();
    }
    let mut p = plan.clone();
    p.remove = valid.iter().map(|c| c.name()).collect();
    p.command.nodes = valid.iter().map(|c| c.name().to_string()).collect();
    p.command.price_before = valid.iter().map(|c| c.price).sum();
    p.command.savings_per_hour = p.command.price_before - p.command.price_after;
    p.command.reason = format!("{} empty node(s): no reschedulable pods", valid.len());
    p
}
