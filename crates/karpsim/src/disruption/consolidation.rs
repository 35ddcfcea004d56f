//! `computeConsolidation` (`disruption/consolidation.go`; design §5.7): delete, or replace with
//! exactly one cheaper NodeClaim, or nothing. Plus the Balanced policy's scoring (§6.1).

use super::candidates::Candidate;
use super::simulate::{RoundCtx, Simulation};
use super::DisruptionOptions;
use crate::labels::{self, Sym};
use crate::model::ConsolidationPolicy;
use crate::requirements::Requirement;
use crate::scheduling::instance_filter::{offering_compatible, satisfies_min_values};
use crate::scheduling::{cheapest_compatible, SolvedClaim};
use crate::state::TypeInfo;

/// Spot-to-spot consolidation needs this many cheaper options (`MinInstanceTypesForSpotToSpotConsolidation`).
pub const SPOT_TO_SPOT_MIN_TYPES: usize = 15;

/// The outcome of trying to consolidate a set of candidates.
pub enum Outcome<'a> {
    Delete(Simulation<'a>),
    /// The simulation, and the single replacement with its filtered options and requirements.
    Replace(Simulation<'a>, SolvedClaim<'a>),
    /// Why not.
    No(String),
}

/// `WorstLaunchPrice` (§1.4): among available offerings compatible with the requirements, the first
/// capacity type (reserved, spot, on-demand) that has any, and the highest price among them.
pub fn worst_launch_price(ti: &TypeInfo, reqs: &crate::requirements::Requirements) -> f64 {
    for ct in [labels::CAPACITY_TYPE_RESERVED, labels::CAPACITY_TYPE_SPOT, labels::CAPACITY_TYPE_ON_DEMAND] {
        let prices: Vec<f64> = ti.it.offerings.iter().filter(|o| o.available && o.capacity_type.as_str() == ct && offering_compatible(reqs, o)).map(|o| o.price).collect();
        if !prices.is_empty() {
            return prices.into_iter().fold(f64::NEG_INFINITY, f64::max);
        }
    }
    f64::INFINITY
}

fn allows(reqs: &crate::requirements::Requirements, ct: &str) -> bool {
    reqs.get(*labels::CAPACITY_TYPE).is_none_or(|r| r.has(Sym::new(ct)))
}

fn type_index(types: &[TypeInfo], ti: &TypeInfo) -> u32 {
    types.iter().position(|x| std::ptr::eq(x, ti)).unwrap_or(0) as u32
}

pub(crate) fn min_values_ok(c: &SolvedClaim, types: &[TypeInfo]) -> bool {
    let idx: Vec<u32> = c.options.iter().map(|t| type_index(types, t)).collect();
    satisfies_min_values(types, &idx, &c.requirements).is_ok()
}

pub fn compute<'a>(ctx: &RoundCtx<'a>, candidates: &[&Candidate<'a>], opts: &DisruptionOptions) -> Outcome<'a> {
    let sim = ctx.simulate(candidates, true);
    if sim.sol.claims_exceeded {
        return Outcome::No("removing it would need more than one new node".into());
    }
    if let Some((pod, why)) = sim.failed_moves.first() {
        return Outcome::No(format!("pod {pod} could not be rescheduled: {why}"));
    }
    match sim.sol.claims.len() {
        0 => return Outcome::Delete(sim),
        1 => {}
        n => return Outcome::No(format!("removing it would need {n} new nodes")),
    }
    let src_price: f64 = candidates.iter().map(|c| c.price).sum();
    let mut r = sim.sol.claims[0].clone();
    let types: &[TypeInfo] = ctx.state.pool_types.get(&r.nodepool).map(|p| p.types.as_slice()).unwrap_or(&[]);
    // OrderByPrice by the replacement's requirements
    r.options.sort_by(|a, b| cheapest_compatible(a, &r.requirements).total_cmp(&cheapest_compatible(b, &r.requirements)).then(a.it.name.cmp(&b.it.name)));
    let all_spot = candidates.iter().all(|c| c.capacity_type.is_some_and(|ct| ct.as_str() == labels::CAPACITY_TYPE_SPOT));
    if all_spot && allows(&r.requirements, labels::CAPACITY_TYPE_SPOT) {
        return spot_to_spot(sim, r, candidates.len(), src_price, types, opts);
    }
    r.options.retain(|o| worst_launch_price(o, &r.requirements) < src_price);
    if r.requirements.has_min_values() && !min_values_ok(&r, types) {
        return Outcome::No("a cheaper replacement cannot meet the NodePool's minValues".into());
    }
    if r.options.is_empty() {
        return Outcome::No(format!("no cheaper replacement: every option costs at least the current ${src_price:.4}/h"));
    }
    // never fall back to a pricier on-demand launch: the price filter assumed spot
    if allows(&r.requirements, labels::CAPACITY_TYPE_SPOT) && allows(&r.requirements, labels::CAPACITY_TYPE_ON_DEMAND) {
        r.requirements.add(*labels::CAPACITY_TYPE, Requirement::is_in([Sym::new(labels::CAPACITY_TYPE_SPOT)]));
    }
    Outcome::Replace(sim, r)
}

fn spot_to_spot<'a>(sim: Simulation<'a>, mut r: SolvedClaim<'a>, n_candidates: usize, src_price: f64, types: &[TypeInfo], opts: &DisruptionOptions) -> Outcome<'a> {
    if !opts.spot_to_spot {
        return Outcome::No("spot-to-spot consolidation is disabled (feature gate SpotToSpotConsolidation)".into());
    }
    r.requirements.add(*labels::CAPACITY_TYPE, Requirement::is_in([Sym::new(labels::CAPACITY_TYPE_SPOT)]));
    let reqs = r.requirements.clone();
    r.options.retain(|o| o.it.offerings.iter().any(|of| of.available && offering_compatible(&reqs, of)));
    r.options.retain(|o| worst_launch_price(o, &reqs) < src_price);
    if r.requirements.has_min_values() && !min_values_ok(&r, types) {
        return Outcome::No("a cheaper spot replacement cannot meet the NodePool's minValues".into());
    }
    if r.options.is_empty() {
        return Outcome::No(format!("no cheaper spot replacement than the current ${src_price:.4}/h"));
    }
    if n_candidates > 1 {
        return Outcome::Replace(sim, r);
    }
    if r.options.len() < SPOT_TO_SPOT_MIN_TYPES {
        return Outcome::No(format!("only {} cheaper spot options; spot-to-spot needs {SPOT_TO_SPOT_MIN_TYPES}", r.options.len()));
    }
    // keep the 15 cheapest (more if minValues needs them)
    let mut keep = SPOT_TO_SPOT_MIN_TYPES;
    if r.requirements.has_min_values() {
        while keep < r.options.len() {
            let head = SolvedClaim { options: r.options[..keep].to_vec(), ..r.clone() };
            if min_values_ok(&head, types) {
                break;
            }
            keep += 1;
        }
    }
    r.options.truncate(keep);
    Outcome::Replace(sim, r)
}

/// Balanced policy (§6.1): approve a move only if, for every Balanced pool it touches, the share of
/// the pool's cost it saves is at least half the share of the pool's disruption it causes.
pub fn balanced_approves(ctx: &RoundCtx, all: &[&Candidate], cands: &[&Candidate], savings: f64) -> bool {
    let src_total: f64 = cands.iter().map(|c| c.price).sum();
    let mut pools: Vec<Sym> = cands.iter().map(|c| c.pool.name).collect();
    pools.sort();
    pools.dedup();
    for pool in pools {
        let Some(np) = ctx.state.nodepools.iter().find(|p| p.name == pool) else { continue };
        if np.disruption.consolidation_policy != ConsolidationPolicy::Balanced {
            continue;
        }
        if savings <= 0.0 {
            return false;
        }
        let in_pool: Vec<&&Candidate> = cands.iter().filter(|c| c.pool.name == pool).collect();
        let pool_src: f64 = in_pool.iter().map(|c| c.price).sum();
        let share = if pools_count(cands) > 1 && src_total > 0.0 { savings * pool_src / src_total } else { savings };
        let pool_cost: f64 = ctx.state.nodes.iter().filter(|n| n.nodepool == Some(pool)).map(|n| n.price.unwrap_or(0.0)).sum();
        let pool_disruption: f64 = ctx
            .state
            .nodes
            .iter()
            .filter(|n| n.nodepool == Some(pool))
            .map(|n| match all.iter().find(|c| c.name() == n.name) {
                Some(c) => c.reschedule_cost,
                None => {
                    1.0 + ctx.pods_by_node.get(&n.name).into_iter().flatten().filter(|p| !p.is_daemonset_pod()).map(|p| crate::eviction::eviction_cost(p).max(0.0)).sum::<f64>()
                }
            })
            .sum();
        let disruption: f64 = in_pool.iter().map(|c| c.reschedule_cost).sum();
        if pool_cost <= 0.0 || pool_disruption <= 0.0 {
            return false;
        }
        let frac = disruption / pool_disruption;
        let score = if frac == 0.0 { f64::INFINITY } else { (share / pool_cost) / frac };
        if score < 0.5 {
            return false;
        }
    }
    true
}

fn pools_count(cands: &[&Candidate]) -> usize {
    let mut p: Vec<Sym> = cands.iter().map(|c| c.pool.name).collect();
    p.sort();
    p.dedup();
    p.len()
}
