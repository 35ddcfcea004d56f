//! Static NodePools (`spec.replicas`, feature gate `StaticCapacity`): Karpenter keeps that many
//! NodeClaims whatever the pods (`pkg/controllers/static/provisioning/controller.go`, v1.14.1).
//!
//! A static pool is left out of the dynamic scheduler's templates; its NodeClaims carry the pool's
//! template requirements and no instance-type list, and the cloud provider launches them as any
//! NodeClaim: the cheapest type the requirements allow, in capacity-type order, with no pods to fit
//! (`nodeclaimtemplate.go: ToNodeClaim` skips the instance types of static NodeClaims).

use super::ProvisionOptions;
use super::instance_filter::OfferingReqs;
use super::scheduler::{SolvedClaim, cheapest_compatible};
use super::template::template_requirements;
use crate::labels::{self, Sym};
use crate::model::NodePool;
use crate::resources::Resources;
use crate::state::{ClusterState, TypeInfo};

/// `limits.nodes` of a pool, if it has one.
fn node_limit(pool: &NodePool) -> Option<i64> {
    pool.limits.0.get("nodes").copied()
}

/// The pool's NodeClaims as the static controllers count them (`NodePoolState.GetNodeCount`):
/// active ones, and ones being deleted.
pub fn node_counts(state: &ClusterState, pool: Sym) -> (i64, i64) {
    let mine = state.nodes.iter().filter(|n| n.nodepool == Some(pool));
    let deleting = mine.clone().filter(|n| n.deletion_timestamp.is_some()).count() as i64;
    (mine.count() as i64 - deleting, deleting)
}

/// How many NodeClaims a static pool may add now towards `wanted` more: `limits.nodes` minus every
/// NodeClaim it has, deleting ones included (`NodePoolState.ReserveNodeCount`).
pub fn reserve_node_count(state: &ClusterState, pool: &NodePool, wanted: i64) -> i64 {
    let (active, deleting) = node_counts(state, pool.name);
    let room = node_limit(pool).map_or(i64::MAX, |l| l - active - deleting);
    wanted.min(room).max(0)
}

/// A NodeClaim of the pool's template: its requirements (without the simulation-only labels), every
/// type they allow with an available offering, cheapest first, truncated as the provider truncates
/// a launch (`Truncate` to 60), and no pods or requests.
pub fn template_claim<'a>(state: &'a ClusterState, pool: &'a NodePool, opts: &ProvisionOptions) -> Option<SolvedClaim<'a>> {
    let mut reqs = template_requirements(pool).ok()?;
    reqs.remove(*labels::REGISTERED);
    reqs.remove(*labels::INITIALIZED);
    let types: &'a [TypeInfo] = state.pool_types.get(&pool.name)?.types.as_slice();
    let offering_reqs = OfferingReqs::new(&reqs);
    let mut options: Vec<(&'a TypeInfo, f64)> = types
        .iter()
        .filter(|t| t.requirements.intersects_ok(&reqs) && t.it.offerings.iter().any(|o| o.available && offering_reqs.compatible(o)))
        .map(|t| (t, cheapest_compatible(t, &reqs)))
        .collect();
    options.sort_by(|a, b| a.1.total_cmp(&b.1).then(a.0.it.name.cmp(&b.0.it.name)));
    options.truncate(opts.max_instance_types.max(1));
    if options.is_empty() {
        return None;
    }
    Some(SolvedClaim {
        nodepool: pool.name,
        requirements: reqs,
        options: options.into_iter().map(|(t, _)| t).collect(),
        requests: Resources::new(),
        pods: Vec::new(),
        taints: &pool.taints,
        min_values_relaxed: false,
    })
}

/// The NodeClaims the static pools launch now (`static/provisioning: Reconcile`): for each, up to
/// `replicas` minus its active NodeClaims, within `limits.nodes`. With warnings for what Karpenter
/// needs and for pools that cannot reach their count.
pub fn missing_claims<'a>(state: &'a ClusterState, opts: &ProvisionOptions, warnings: &mut Vec<String>) -> Vec<SolvedClaim<'a>> {
    let mut out = Vec::new();
    for pool in state.nodepools.iter().filter(|p| p.replicas.is_some()) {
        let replicas = pool.replicas.unwrap_or(0);
        let (active, _) = node_counts(state, pool.name);
        if active >= replicas {
            continue;
        }
        let granted = reserve_node_count(state, pool, replicas - active);
        if granted < replicas - active {
            warnings.push(format!(
                "static NodePool {} wants {replicas} node(s) but limits.nodes allows {} more than its {active}",
                pool.name, granted
            ));
        }
        if granted == 0 {
            continue;
        }
        let Some(claim) = template_claim(state, pool, opts) else {
            warnings.push(format!(
                "static NodePool {}: no instance type meets its requirements with an available offering; nothing launched",
                pool.name
            ));
            continue;
        };
        for _ in 0..granted {
            out.push(claim.clone());
        }
    }
    out
}
