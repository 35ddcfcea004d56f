//! Karpenter's next provisioning batches, for pods one batch deferred because the capacity
//! reservation they could use was held by its other NodeClaims (`ReservedOfferingError`, §3.12).
//!
//! Karpenter launches the batch's NodeClaims (each launch takes one instance from its reservation,
//! `availabilityCache.MarkLaunched`) and schedules the deferred pods in the next batch, against the
//! launched NodeClaims as in-flight nodes and the reservations' new counts: they get the reserved
//! instances the first batch held but did not use, or, once a reservation is used up (its offering
//! unavailable), spot or on-demand capacity. karpsim does the same until no pod is deferred.

use super::{ExistingNodeResult, ProvisionOptions, ProvisionResult, ScheduleScope, Solution, pending_pods, schedule, to_result};
use crate::disruption::{NewNode, Replacement};
use crate::labels::Sym;
use crate::resources::Resources;
use crate::state::ClusterState;
use std::collections::BTreeMap;

/// More batches than this with pods still deferred means no progress; they are reported pending.
const MAX_BATCHES: usize = 64;

/// One batch, owning what the next one needs.
struct Batch {
    result: ProvisionResult,
    /// What each NodeClaim of `result` launches (same order).
    launches: Vec<NewNode>,
    /// Pods placed on nodes that exist when the batch runs: node -> (pod uid, its requests).
    existing: Vec<(Sym, Vec<(Sym, Resources)>)>,
    /// The pods on each NodeClaim of `result`.
    claim_pods: Vec<Vec<Sym>>,
    /// NodeClaims the batch opened (launched or not): the numbering of the next batch goes on.
    opened: usize,
    deferred: usize,
}

fn batch(sol: Solution, opts: &ProvisionOptions, first: usize, n: usize) -> Batch {
    let result = to_result(&sol, opts, Vec::new(), first, n);
    let mut launches = Vec::new();
    let mut claim_pods = Vec::new();
    for c in &sol.claims {
        // the same launch as `to_result`, which skipped the claims that cannot launch
        if let Some(r) = Replacement::launch(c, opts.launch_policy) {
            launches.push(NewNode::from_claim(c, &r));
            claim_pods.push(c.pods.iter().map(|&p| sol.pods[p].uid).collect());
        }
    }
    let pod_requests = |p: usize| {
        let mut r = sol.pods[p].requests.clone();
        r.pods = 1;
        r
    };
    let existing = sol.existing.iter().map(|(n, ps)| (*n, ps.iter().map(|&p| (sol.pods[p].uid, pod_requests(p))).collect())).collect();
    Batch { result, launches, existing, claim_pods, opened: sol.claims.len(), deferred: sol.deferred.len() }
}

/// The first batch's solution, then the next batches until no pod waits for reserved capacity.
pub(super) fn provision_deferred(state: &ClusterState, opts: &ProvisionOptions, first: Solution, warnings: Vec<String>) -> ProvisionResult {
    let mut out = ProvisionResult { warnings, ..Default::default() };
    let deferred_first = first.deferred.len();
    let mut current: Option<ClusterState> = None;
    let mut b = batch(first, opts, 0, 1);
    let mut n = 1;
    // NodeClaim name -> its index in `out.nodeclaims`, to credit pods a later batch puts on it
    let mut claims: BTreeMap<String, usize> = BTreeMap::new();
    let mut numbered = 0;
    loop {
        numbered += b.opened;
        for nc in &b.result.nodeclaims {
            claims.insert(nc.name.clone(), out.nodeclaims.len());
            out.nodeclaims.push(nc.clone());
        }
        out.cost_per_hour += b.result.cost_per_hour;
        out.relaxations.extend(b.result.relaxations.iter().cloned());
        for (node, pods) in &b.existing {
            let keys: Vec<String> =
                b.result.existing_nodes.iter().find(|e| e.name == node.as_str()).map(|e| e.pods.clone()).unwrap_or_default();
            match claims.get(node.as_str()) {
                Some(&i) => {
                    out.nodeclaims[i].pods.extend(keys);
                    for (_, r) in pods {
                        out.nodeclaims[i].requests.add_assign(r);
                    }
                }
                None => match out.existing_nodes.iter_mut().find(|e| e.name == node.as_str()) {
                    Some(e) => e.pods.extend(keys),
                    None => out.existing_nodes.push(ExistingNodeResult { name: node.to_string(), pods: keys }),
                },
            }
        }
        if b.deferred == 0 || n >= MAX_BATCHES {
            out.unschedulable = b.result.unschedulable;
            break;
        }
        let cur = current.get_or_insert_with(|| state.clone());
        launch(cur, &b);
        let mut w = Vec::new();
        let pods = pending_pods(cur, &mut w);
        let scope = ScheduleScope { pending: pods.iter().map(|p| p.uid).collect(), ..Default::default() };
        let sol = schedule(cur, pods, &scope, opts);
        n += 1;
        b = batch(sol, opts, numbered, n);
    }
    out.warnings.push(format!(
        "{deferred_first} pod(s) waited for capacity reservations held by other NodeClaims of their batch; Karpenter places them in its next batch, once those NodeClaims have launched ({n} batches here)"
    ));
    out
}

/// The batch's NodeClaims become in-flight nodes with their pods, its placements on existing nodes
/// bind, and every launch into a reservation takes one of its instances.
fn launch(state: &mut ClusterState, b: &Batch) {
    let mut bind: BTreeMap<Sym, Sym> = BTreeMap::new();
    for (nc, (node, pods)) in b.result.nodeclaims.iter().zip(b.launches.iter().zip(&b.claim_pods)) {
        let name = Sym::new(&nc.name);
        let taints = state.nodepools.iter().find(|p| p.name == node.nodepool).map(|p| p.taints.clone()).unwrap_or_default();
        state.nodes.push(node.to_node(name, 0, taints, false));
        bind.extend(pods.iter().map(|u| (*u, name)));
        if let Some(id) = node.reservation_id {
            state.change_reservation(id, -1, false);
        }
    }
    for (node, pods) in &b.existing {
        bind.extend(pods.iter().map(|(u, _)| (*u, *node)));
    }
    for p in state.pods.iter_mut() {
        if let Some(n) = bind.get(&p.uid) {
            p.node_name = Some(*n);
        }
    }
}
