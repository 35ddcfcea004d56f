//! Provisioning over several batches, when NodeClaims must launch before pods can be placed:
//!
//! * static NodePools' missing NodeClaims are created first (by their own controller), and the
//!   pending pods are then scheduled against them as in-flight nodes;
//! * pods one batch deferred because the capacity reservation they could use was held by its other
//!   NodeClaims (`ReservedOfferingError`, §3.12) go into the next batch: Karpenter launches the
//!   batch's NodeClaims (each launch takes one instance from its reservation,
//!   `availabilityCache.MarkLaunched`) and schedules the deferred pods against them and the
//!   reservations' new counts, so they get the instances the batch held but did not use, or, once a
//!   reservation is used up (its offering unavailable), spot or on-demand capacity.
//!
//! karpsim runs batches until no pod is deferred.

use super::{
    ClusterView, ExistingNodeResult, ProvisionOptions, ProvisionResult, Solution, SolvedClaim, batch_pods, claim_result, launch,
    schedule_on, to_result,
};
use crate::disruption::{Dest, NewNode, Replacement};
use crate::labels::Sym;
use crate::resources::Resources;
use crate::state::ClusterState;
use std::collections::BTreeMap;

/// More batches than this with pods still deferred means no progress; they are reported pending.
const MAX_BATCHES: usize = 64;

/// One batch, owning what the next one needs.
pub(super) struct Batch {
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
    /// Static NodeClaims: the pods' first batch comes after them.
    prelude: bool,
}

impl Batch {
    /// A scheduling batch's solution, its NodeClaims numbered from `first + 1`.
    pub(super) fn of_solution(sol: Solution, opts: &ProvisionOptions, first: usize, n: usize) -> Batch {
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
        Batch { result, launches, existing, claim_pods, opened: sol.claims.len(), deferred: sol.deferred.len(), prelude: false }
    }

    /// NodeClaims created without pods (static NodePools).
    pub(super) fn of_claims(claims: &[SolvedClaim], opts: &ProvisionOptions) -> Batch {
        let mut result = ProvisionResult::default();
        let mut launches = Vec::new();
        let mut numbers: BTreeMap<Sym, usize> = BTreeMap::new();
        for c in claims {
            let (Some(l), Some(r)) =
                (launch::choose(&c.options, &c.requirements, &c.requests, opts.launch_policy), Replacement::launch(c, opts.launch_policy))
            else {
                continue;
            };
            let n = numbers.entry(c.nodepool).or_default();
            *n += 1;
            result.cost_per_hour += l.offering.price;
            result.nodeclaims.push(claim_result(c, &l, format!("{}-{n}", c.nodepool), Vec::new(), 1));
            launches.push(NewNode::from_claim(c, &r));
        }
        let claim_pods = vec![Vec::new(); launches.len()];
        Batch { result, launches, existing: Vec::new(), claim_pods, opened: claims.len(), deferred: 0, prelude: true }
    }
}

/// What a provisioning run launches: each NodeClaim of its result as a node (in the result's
/// order), and where each placed pod goes (a node of `nodes` or an existing node).
#[derive(Debug, Clone, Default)]
pub struct Launched {
    pub nodes: Vec<NewNode>,
    pub binds: Vec<(Sym, Dest)>,
}

impl Launched {
    /// One batch's solution launched: the claims `to_result` launches, and their pods.
    pub(super) fn of_solution(sol: &Solution, opts: &ProvisionOptions) -> Launched {
        let mut out = Launched::default();
        for c in &sol.claims {
            // the same launch decision as `to_result`: a claim nothing can launch leaves its pods pending
            let Some(r) = Replacement::launch(c, opts.launch_policy) else { continue };
            out.binds.extend(c.pods.iter().map(|&p| (sol.pods[p].uid, Dest::Replacement(out.nodes.len()))));
            out.nodes.push(NewNode::from_claim(c, &r));
        }
        for (node, ps) in &sol.existing {
            out.binds.extend(ps.iter().map(|&p| (sol.pods[p].uid, Dest::Existing(*node))));
        }
        out
    }
}

/// Batches from `first` until no pod is deferred.
pub(super) fn provision_batches(state: &ClusterState, opts: &ProvisionOptions, warnings: Vec<String>, first: Batch) -> (ProvisionResult, Launched) {
    let mut out = ProvisionResult { warnings, ..Default::default() };
    let mut launched = Launched::default();
    let mut current: Option<ClusterState> = None;
    let mut b = first;
    let mut n = 1;
    let mut waited = 0;
    // NodeClaim name -> its index in `out.nodeclaims`, to credit pods a later batch puts on it
    let mut claims: BTreeMap<String, usize> = BTreeMap::new();
    let mut numbered = 0;
    loop {
        numbered += b.opened;
        if !b.prelude && n == 1 {
            waited = b.deferred;
        }
        for ((nc, node), pods) in b.result.nodeclaims.iter().zip(&b.launches).zip(&b.claim_pods) {
            claims.insert(nc.name.clone(), out.nodeclaims.len());
            out.nodeclaims.push(nc.clone());
            launched.binds.extend(pods.iter().map(|u| (*u, Dest::Replacement(launched.nodes.len()))));
            launched.nodes.push(node.clone());
        }
        out.cost_per_hour += b.result.cost_per_hour;
        out.relaxations.extend(b.result.relaxations.iter().cloned());
        for (node, pods) in &b.existing {
            let keys: Vec<String> =
                b.result.existing_nodes.iter().find(|e| e.name == node.as_str()).map(|e| e.pods.clone()).unwrap_or_default();
            match claims.get(node.as_str()) {
                Some(&i) => {
                    launched.binds.extend(pods.iter().map(|(u, _)| (*u, Dest::Replacement(i))));
                    out.nodeclaims[i].pods.extend(keys);
                    for (_, r) in pods {
                        out.nodeclaims[i].requests.add_assign(r);
                    }
                }
                None => {
                    launched.binds.extend(pods.iter().map(|(u, _)| (*u, Dest::Existing(*node))));
                    match out.existing_nodes.iter_mut().find(|e| e.name == node.as_str()) {
                        Some(e) => e.pods.extend(keys),
                        None => out.existing_nodes.push(ExistingNodeResult { name: node.to_string(), pods: keys }),
                    }
                }
            }
        }
        if !b.prelude && (b.deferred == 0 || n >= MAX_BATCHES) {
            out.unschedulable = b.result.unschedulable;
            break;
        }
        let cur = current.get_or_insert_with(|| state.clone());
        launch_batch(cur, &b);
        let mut w = Vec::new();
        let (pods, scope) = batch_pods(cur, &mut w);
        let view = ClusterView::new(cur, opts.min_values_policy);
        if b.prelude {
            // the first batch of pods (after the static NodeClaims): what it leaves out, and the
            // pools that launch nothing, as a run without static pools reports them
            out.warnings.append(&mut w);
            if !scope.pending.is_empty() {
                out.warnings.extend(view.launch_warnings());
            }
        }
        let sol = schedule_on(&view, pods, &scope, opts);
        if !b.prelude {
            n += 1;
        }
        b = Batch::of_solution(sol, opts, numbered, n);
    }
    if waited > 0 {
        out.warnings.push(format!(
            "{waited} pod(s) waited for capacity reservations held by other NodeClaims of their batch; Karpenter places them in its next batch, once those NodeClaims have launched ({n} batches here)"
        ));
    }
    (out, launched)
}

/// The batch's NodeClaims become in-flight nodes with their pods, its placements on existing nodes
/// bind, and every launch into a reservation takes one of its instances.
fn launch_batch(state: &mut ClusterState, b: &Batch) {
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
