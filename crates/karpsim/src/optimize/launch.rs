//! A provisioning run carried out: the NodeClaims Karpenter would create become nodes and the pods
//! are bound where the scheduler put them (`disruption::place`), so that consolidation can run on
//! the result.

use crate::disruption::{Dest, NewNode, Replacement, place};
use crate::model::Timestamp;
use crate::scheduling::{ProvisionOptions, ProvisionResult, ScheduleScope, pending_pods, schedule, to_result};
use crate::state::ClusterState;

/// Provision the state's pending pods and return the result with the state after launch: one
/// initialized node per NodeClaim (created at `now`), pods bound.
pub fn provision_and_launch(state: &ClusterState, opts: &ProvisionOptions, now: Timestamp) -> (ProvisionResult, ClusterState) {
    let mut warnings = state.warnings.clone();
    let pods = pending_pods(state, &mut warnings);
    let scope = ScheduleScope { pending: pods.iter().map(|p| p.uid).collect(), ..Default::default() };
    let sol = schedule(state, pods, &scope, opts);
    let result = to_result(&sol, opts, warnings);
    let mut new_nodes = Vec::new();
    let mut binds = Vec::new();
    for c in &sol.claims {
        let Some(r) = Replacement::launch(c, opts.launch_policy) else { continue };
        binds.extend(c.pods.iter().map(|&p| (sol.pods[p].uid, Dest::Replacement(new_nodes.len()))));
        new_nodes.push(NewNode::from_claim(c, &r));
    }
    for (node, ps) in &sol.existing {
        binds.extend(ps.iter().map(|&p| (sol.pods[p].uid, Dest::Existing(*node))));
    }
    let mut next = state.clone();
    place(&mut next, &new_nodes, &binds, &[], now, &mut 0);
    (result, next)
}
