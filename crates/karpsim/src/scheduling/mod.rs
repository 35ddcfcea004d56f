//! Karpenter's provisioning scheduler (design §2–§4): given pending pods, NodePools with their
//! instance types and existing nodes, the NodeClaims Karpenter would create, what they cost, and
//! why any pod stays pending.
//!
//! ```
//! use karpsim::scheduling::{provision, ProvisionOptions};
//! # use karpsim::state::ClusterState;
//! # fn run(state: &ClusterState) {
//! let result = provision(state, &ProvisionOptions::default());
//! for nc in &result.nodeclaims {
//!     println!("{} {} {} ${:.4}/h", nc.nodepool, nc.instance_type, nc.zone, nc.price_per_hour);
//! }
//! # }
//! ```

pub mod batches;
mod cluster_view;
mod daemons;
mod host_ports;
pub mod instance_filter;
pub mod launch;
mod options;
pub mod pod_data;
mod preferences;
mod queue;
pub mod reservations;
pub mod static_pools;
mod results;
mod scheduler;
pub mod topology;
pub mod topology_group;
pub mod volumes;

pub use options::{LaunchPolicy, MinValuesPolicy, PreferencePolicy, ProvisionOptions};
pub use results::{ExistingNodeResult, NodeClaimResult, ProvisionResult, Relaxation, Unschedulable};
pub use cluster_view::ClusterView;
pub use reservations::ReservedMode;
pub use scheduler::{cheapest_compatible, schedule, schedule_on, ScheduleScope, Solution, SolvedClaim};

use crate::labels;
use crate::model::Pod;
use crate::requirements::Requirement;
use crate::state::ClusterState;
use crate::labels::Sym;
use std::collections::HashSet;

/// Pods the provisioner schedules: not bound, not terminal or terminating, not DaemonSet or mirror
/// pods (`pkg/utils/pod/scheduling.go: IsProvisionable`). A pod bound to a node that is not in the
/// state is scheduled too (with a warning), so that no pod is silently dropped.
pub fn pending_pods<'a>(state: &'a ClusterState, warnings: &mut Vec<String>) -> Vec<&'a Pod> {
    let nodes: HashSet<Sym> = state.nodes.iter().map(|n| n.name).collect();
    let mut orphans = 0;
    let pods = state
        .pods
        .iter()
        .filter(|p| p.is_active() && !p.is_daemonset_pod() && !p.is_mirror())
        .filter(|p| match p.node_name {
            None => true,
            Some(n) if !nodes.contains(&n) => {
                orphans += 1;
                true
            }
            Some(_) => false,
        })
        .collect();
    if orphans > 0 {
        warnings.push(format!("{orphans} pod(s) are bound to nodes that are not in the input; they are scheduled as pending pods"));
    }
    pods
}

/// One provisioning run over the state's pending pods. Static NodePools first get their missing
/// NodeClaims ([`static_pools`]), which the pods may then use; pods that wait for reserved capacity
/// held by NodeClaims of the run are placed as Karpenter's next batches would place them
/// ([`batches`]); their NodeClaims say which batch created them.
pub fn provision(state: &ClusterState, opts: &ProvisionOptions) -> ProvisionResult {
    run_provision(state, opts, false).0
}

/// [`provision`], with what it launches: each NodeClaim of the result as a node (same order) and
/// where each placed pod goes, for a caller that applies the result to the state
/// ([`crate::disruption::place`]).
pub fn provision_launched(state: &ClusterState, opts: &ProvisionOptions) -> (ProvisionResult, batches::Launched) {
    run_provision(state, opts, true)
}

fn run_provision(state: &ClusterState, opts: &ProvisionOptions, launches: bool) -> (ProvisionResult, batches::Launched) {
    let mut warnings = state.warnings.clone();
    let statics = static_pools::missing_claims(state, opts, &mut warnings);
    if !statics.is_empty() {
        let first = batches::Batch::of_claims(&statics, opts);
        return batches::provision_batches(state, opts, warnings, first);
    }
    let pods = pending_pods(state, &mut warnings);
    let scope = ScheduleScope { pending: pods.iter().map(|p| p.uid).collect(), ..Default::default() };
    let sol = schedule(state, pods, &scope, opts);
    if sol.deferred.is_empty() {
        let launched = if launches { batches::Launched::of_solution(&sol, opts) } else { batches::Launched::default() };
        return (to_result(&sol, opts, warnings, 0, 1), launched);
    }
    let first = batches::Batch::of_solution(sol, opts, 0, 1);
    batches::provision_batches(state, opts, warnings, first)
}

/// The public form of a NodeClaim that launches `l`.
pub(crate) fn claim_result(c: &SolvedClaim, l: &launch::Launch, name: String, pods: Vec<String>, batch: usize) -> NodeClaimResult {
    let mut reqs = c.requirements.clone();
    reqs.remove(*labels::REGISTERED);
    reqs.remove(*labels::INITIALIZED);
    reqs.add(*labels::INSTANCE_TYPE, Requirement::is_in(c.options.iter().map(|o| o.it.name)));
    NodeClaimResult {
        name,
        nodepool: c.nodepool.to_string(),
        instance_type: l.it.it.name.to_string(),
        zone: l.offering.zone.to_string(),
        capacity_type: l.offering.capacity_type.to_string(),
        price_per_hour: l.offering.price,
        instance_type_options: c.options.iter().map(|o| o.it.name.to_string()).collect(),
        pods,
        requests: c.requests.clone(),
        allocatable: l.it.it.allocatable.clone(),
        requirements: reqs.iter().filter(|(k, _)| *k != *labels::INSTANCE_TYPE).map(|(k, r)| format!("{k} {r}")).collect(),
        reservation_id: l.offering.reservation_id().map(|r| r.to_string()),
        batch,
    }
}

/// Turn a solution into the public result: choose what each NodeClaim launches. NodeClaims are
/// numbered from `first + 1` and marked with `batch`; pods deferred by reserved capacity are listed
/// as pending with their reason.
pub fn to_result(sol: &Solution, opts: &ProvisionOptions, warnings: Vec<String>, first: usize, batch: usize) -> ProvisionResult {
    let key = |i: usize| sol.pods[i].key();
    let mut result = ProvisionResult { warnings, ..Default::default() };
    let mut unplaced: Vec<(usize, String)> = sol.errors.clone();
    unplaced.extend(sol.deferred.iter().map(|(p, e)| (*p, format!("waiting for reserved capacity: {e}"))));
    for (n, c) in sol.claims.iter().enumerate() {
        let Some(l) = launch::choose(&c.options, &c.requirements, &c.requests, opts.launch_policy) else {
            for &p in &c.pods {
                unplaced.push((p, format!("NodePool {}: no option of the NodeClaim has an available offering that holds its requests", c.nodepool)));
            }
            continue;
        };
        result.cost_per_hour += l.offering.price;
        let name = format!("{}-{}", c.nodepool, first + n + 1);
        result.nodeclaims.push(claim_result(c, &l, name, c.pods.iter().map(|&p| key(p)).collect(), batch));
    }
    result.existing_nodes = sol.existing.iter().map(|(n, pods)| ExistingNodeResult { name: n.to_string(), pods: pods.iter().map(|&p| key(p)).collect() }).collect();
    unplaced.sort_by_key(|(i, _)| *i);
    result.unschedulable = unplaced.into_iter().map(|(i, reason)| Unschedulable { pod: key(i), reason }).collect();
    result.relaxations = sol.relaxations.iter().map(|(i, r)| Relaxation { pod: key(*i), relaxed: r.clone() }).collect();
    result
}
