//! A provisioning run carried out: the NodeClaims Karpenter would create become nodes and the pods
//! are bound where the scheduler put them, so that consolidation can run on the result.

use crate::disruption::{NewNode, Replacement};
use crate::labels::Sym;
use crate::model::{PodPhase, Timestamp};
use crate::scheduling::{ProvisionOptions, ProvisionResult, ScheduleScope, pending_pods, schedule, to_result};
use crate::state::ClusterState;
use std::collections::{BTreeMap, HashSet};

/// Provision the state's pending pods and return the result with the state after launch: one
/// initialized node per NodeClaim (named as in the result, created at `now`), pods bound.
pub fn provision_and_launch(state: &ClusterState, opts: &ProvisionOptions, now: Timestamp) -> (ProvisionResult, ClusterState) {
    let mut warnings = state.warnings.clone();
    let pods = pending_pods(state, &mut warnings);
    let scope = ScheduleScope { pending: pods.iter().map(|p| p.uid).collect(), ..Default::default() };
    let sol = schedule(state, pods, &scope, opts);
    let result = to_result(&sol, opts, warnings);
    let mut taken: HashSet<Sym> = state.nodes.iter().map(|n| n.name).collect();
    let mut new_nodes = Vec::new();
    let mut binds: BTreeMap<Sym, Sym> = BTreeMap::new();
    for (i, c) in sol.claims.iter().enumerate() {
        let Some(r) = Replacement::launch(c, opts.launch_policy) else { continue };
        let mut name = Sym::new(&format!("{}-{}", c.nodepool, i + 1));
        while !taken.insert(name) {
            name = Sym::new(&format!("{name}-new"));
        }
        let taints = state.nodepools.iter().find(|p| p.name == c.nodepool).map(|p| p.taints.clone()).unwrap_or_default();
        new_nodes.push(NewNode::from_claim(c, &r).to_node(name, now, taints, true));
        for &p in &c.pods {
            binds.insert(sol.pods[p].uid, name);
        }
    }
    for (node, ps) in &sol.existing {
        for &p in ps {
            binds.insert(sol.pods[p].uid, *node);
        }
    }
    let mut next = state.clone();
    next.nodes.extend(new_nodes);
    for p in &mut next.pods {
        if let Some(n) = binds.get(&p.uid) {
            p.node_name = Some(*n);
            p.phase = PodPhase::Running;
            p.start_time = Some(now);
        }
    }
    let touched: HashSet<Sym> = binds.values().copied().collect();
    for n in &mut next.nodes {
        if touched.contains(&n.name) {
            n.last_pod_event = Some(now);
        }
    }
    (result, next)
}
