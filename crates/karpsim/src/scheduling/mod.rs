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
mod bound_pods;
mod claim_order;
mod cluster_view;
mod daemons;
mod existing_nodes;
pub mod feasibility;
mod fit_bounds;
mod host_ports;
pub mod instance_filter;
pub mod launch;
mod options;
mod pinned_domain;
mod pool_limits;
pub mod pod_data;
mod preferences;
mod price_order;
mod queue;
pub mod reservations;
pub mod static_pools;
mod template;
mod results;
mod scheduler;
pub mod unlaunchable;
pub mod topology;
pub mod topology_group;
pub mod volumes;

pub use options::{LaunchPolicy, MinValuesPolicy, PreferencePolicy, ProvisionOptions, TopologyDomains};
pub use results::{ExistingNodeResult, NodeClaimResult, ProvisionResult, Relaxation, Unschedulable};
pub use cluster_view::ClusterView;
pub(crate) use bound_pods::{bound_pods_by_node, shift_after_removal, BoundPods, KeptPods};
pub(crate) use cluster_view::KeptNodes;
pub use reservations::ReservedMode;
pub use scheduler::{cheapest_compatible, schedule, schedule_on, ScheduleScope, Solution, SolvedClaim};

use crate::labels;
use crate::model::{NotProvisionable, Pod};
use crate::state::ClusterState;
use crate::labels::{Sym, SymSet};

/// Pods the provisioner schedules: not bound, not terminal or terminating, not DaemonSet or mirror
/// pods, and marked unschedulable by kube-scheduler, neither scheduling-gated nor nominated
/// (`pkg/utils/pod/scheduling.go: IsProvisionable`). Pods read without a status (manifests) count
/// as marked. The unbound pods left out are counted in a warning. A pod bound to a node that is not
/// in the state is scheduled too (with a warning), so that no pod is silently dropped.
pub fn pending_pods<'a>(state: &'a ClusterState, warnings: &mut Vec<String>) -> Vec<&'a Pod> {
    let mut orphans = 0;
    let mut left_out = [0usize; 3];
    let pods = with_node_names(state, |nodes| {
        state
            .pods
            .iter()
            // a pod bound to a node of the state is never pending, whatever else holds: it is
            // rejected first (and uncounted, as before), before the other tests look at it
            .filter(|p| p.node_name.is_none_or(|n| !nodes.contains(&n)))
            .filter(|p| schedulable_kind(p))
            .filter(|p| {
                if p.node_name.is_some() {
                    orphans += 1;
                }
                true
            })
            .filter(|p| match p.not_provisionable() {
                None => true,
                Some(why) => {
                    left_out[why as usize] += 1;
                    false
                }
            })
            .collect()
    });
    if orphans > 0 {
        warnings.push(format!("{orphans} pod(s) are bound to nodes that are not in the input; they are scheduled as pending pods"));
    }
    let total: usize = left_out.iter().sum();
    if total > 0 {
        let parts: Vec<String> = [
            (NotProvisionable::SchedulingGated, "scheduling-gated"),
            (NotProvisionable::NotMarkedUnschedulable, "not marked Unschedulable by kube-scheduler"),
            (NotProvisionable::Nominated, "nominated for a node by kube-scheduler"),
        ]
        .iter()
        .filter(|(w, _)| left_out[*w as usize] > 0)
        .map(|(w, what)| format!("{} {what}", left_out[*w as usize]))
        .collect();
        warnings.push(format!(
            "left out {total} pending pod(s) that Karpenter does not provision (IsProvisionable): {}",
            parts.join(", ")
        ));
    }
    pods
}

/// Whether any pod is pending ([`pending_pods`] would not be empty), without listing them or
/// counting the ones left out: the time simulator asks this after most events.
pub fn has_pending_pods(state: &ClusterState) -> bool {
    with_node_names(state, |nodes| {
        state.pods.iter().any(|p| {
            p.node_name.is_none_or(|n| !nodes.contains(&n))
                && p.is_active()
                && !p.is_daemonset_pod()
                && !p.is_mirror()
                && p.not_provisionable().is_none()
        })
    })
}

/// Active, neither a DaemonSet nor a mirror pod: what [`pending_pods`] asks of a pod not bound
/// to a node of the state before it asks whether Karpenter provisions it.
fn schedulable_kind(p: &Pod) -> bool {
    p.is_active() && !p.is_daemonset_pod() && !p.is_mirror()
}

/// The state's [`pending_pods`] as positions in its pods, kept across until-stable rounds and
/// patched from what `disruption::place` reports, so that a round does not test every pod against
/// a set of every node's name (until-stable drops the rounds' warnings: the state's own were
/// reported once, so the kept list has no counts to give).
///
/// Exact because until-stable's state is written between rounds only by `place`, which reports
/// every pod whose binding it changed and the positions of the pods it removed (the list shifts
/// past them; none was pending); a pod it did not touch stays pending or not, except a pod bound to a name
/// that no node had and that a launched node now has, which is looked at again. Debug builds
/// compare every round's list with a fresh [`pending_pods`].
#[derive(Debug, Default)]
pub(crate) struct KeptPending {
    at: Vec<usize>,
    /// The names of the state's nodes, patched from the nodes `place` launched and removed (a pass
    /// over every node at every patch, to tell which names are nodes', was a twentieth of a
    /// drifted cluster's run).
    nodes: SymSet,
}

impl KeptPending {
    pub(crate) fn of(state: &ClusterState) -> KeptPending {
        // each pending pod's position: they are references into `state.pods`, in its order
        let mut pending = pending_pods(state, &mut Vec::new()).into_iter().peekable();
        let at: Vec<usize> =
            state.pods.iter().enumerate().filter(|&(_, p)| pending.next_if(|q| std::ptr::eq(*q, p)).is_some()).map(|(i, _)| i).collect();
        debug_assert!(pending.next().is_none(), "pending pods not of the state");
        debug_assert!(at.iter().all(|&i| state.pods.get(i).is_some()));
        KeptPending { at, nodes: state.nodes.iter().map(|n| n.name).collect() }
    }

    /// The pending pods of `state` (the state this list was kept for), in the state's order.
    pub(crate) fn pods<'a>(&self, state: &'a ClusterState) -> Vec<&'a Pod> {
        let pods: Vec<&Pod> = self.at.iter().map(|&i| &state.pods[i]).collect();
        if cfg!(debug_assertions) {
            let fresh = pending_pods(state, &mut Vec::new());
            assert!(
                pods.len() == fresh.len() && pods.iter().zip(&fresh).all(|(a, b)| std::ptr::eq(*a, *b)),
                "kept pending pods are stale: {} kept, {} fresh",
                pods.len(),
                fresh.len()
            );
        }
        pods
    }

    /// The positions of the pending pods, ascending.
    pub(crate) fn positions(&self) -> &[usize] {
        &self.at
    }

    /// Patch the list after a `place` on `state` that changed the binding of the pods at `pods`
    /// (positions after `place`), launched the nodes `launched`, removed the nodes `removed` and
    /// removed the pods at `gone` (positions before, ascending: none of them pending).
    pub(crate) fn patch(&mut self, state: &ClusterState, pods: &[(usize, Option<Sym>)], launched: &[Sym], removed: &[Sym], gone: &[usize]) {
        for n in removed {
            self.nodes.remove(n);
        }
        self.nodes.extend(launched.iter().copied());
        if cfg!(debug_assertions) {
            let fresh: SymSet = state.nodes.iter().map(|n| n.name).collect();
            assert!(self.nodes == fresh, "the kept node names of the pending pods are stale");
        }
        shift_after_removal(&mut self.at, gone);
        // the pods to look at again: those `place` changed, and those bound to a name a launched
        // node now has
        let mut again: Vec<usize> = pods.iter().map(|(at, _)| *at).collect();
        if !launched.is_empty() {
            again.extend(self.at.iter().copied().filter(|&i| state.pods[i].node_name.is_some_and(|n| launched.contains(&n))));
        }
        again.sort_unstable();
        again.dedup();
        for i in again {
            let p = &state.pods[i];
            let on_node = p.node_name.is_some_and(|n| self.nodes.contains(&n));
            let pending = !on_node && schedulable_kind(p) && p.not_provisionable().is_none();
            match (self.at.binary_search(&i), pending) {
                (Ok(k), false) => {
                    self.at.remove(k);
                }
                (Err(k), true) => self.at.insert(k, i),
                _ => {}
            }
        }
    }
}

/// Run `f` with the names of the state's nodes, in a set kept on this thread and refilled per
/// call: the simulator lists pending pods after most events and at every disruption round, and
/// allocating this set each time showed in a whole-day profile.
fn with_node_names<T>(state: &ClusterState, f: impl FnOnce(&SymSet) -> T) -> T {
    thread_local! {
        static NAMES: std::cell::RefCell<SymSet> = std::cell::RefCell::new(SymSet::default());
    }
    NAMES.with(|cell| {
        // (re-entry cannot happen: `f` only reads the state; a fresh set keeps it correct anyway)
        let Ok(mut names) = cell.try_borrow_mut() else {
            return f(&state.nodes.iter().map(|n| n.name).collect());
        };
        names.clear();
        names.extend(state.nodes.iter().map(|n| n.name));
        f(&names)
    })
}

/// Pods of nodes being deleted that will be evicted: Karpenter provisions for them with the
/// pending pods (`provisioner.go: Schedule`, `CurrentlyReschedulablePods`), so that their new homes
/// are on the way before their nodes go. `do-not-disrupt` durations run to the snapshot's time.
pub fn deleting_node_pods(state: &ClusterState) -> Vec<&Pod> {
    let deleting: SymSet = state.nodes.iter().filter(|n| n.deletion_timestamp.is_some()).map(|n| n.name).collect();
    if deleting.is_empty() {
        return Vec::new();
    }
    let now = state.snapshot_time();
    state
        .pods
        .iter()
        .filter(|p| p.node_name.is_some_and(|n| deleting.contains(&n)) && crate::eviction::currently_reschedulable(p, &state.pdbs, now))
        .collect()
}

/// One provisioning run over the state's pending pods (and the pods of nodes being deleted). Static NodePools first get their missing
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
    let (mut result, launched) = if !statics.is_empty() {
        // the pods' batch, after the static NodeClaims, adds its own warnings (`provision_batches`)
        let first = batches::Batch::of_claims(&statics, opts);
        batches::provision_batches(state, opts, warnings, first)
    } else {
        let (pods, scope) = batch_pods(state, &mut warnings);
        let view = ClusterView::new(state, opts.min_values_policy);
        if !scope.pending.is_empty() {
            warnings.extend(view.launch_warnings());
        }
        let sol = schedule_on(&view, pods, &scope, opts);
        if sol.deferred.is_empty() {
            let launched = if launches { batches::Launched::of_solution(&sol, opts) } else { batches::Launched::default() };
            (to_result(&sol, opts, warnings, 0, 1), launched)
        } else {
            let first = batches::Batch::of_solution(sol, opts, 0, 1);
            batches::provision_batches(state, opts, warnings, first)
        }
    };
    if !state.unready_nodepools.is_empty() || state.nodepools.iter().any(|np| np.deleting) {
        for u in &mut result.unschedulable {
            if let Some(pod) = state.pods.iter().find(|p| p.key() == u.pod)
                && let Some(note) = unready_note(state, pod, opts.preference_policy == PreferencePolicy::Respect)
            {
                u.reason.push_str(&note);
            }
        }
    }
    (result, launched)
}

/// What one provisioning batch schedules: the pending pods, then the pods of nodes being deleted
/// (not in the scope's pending set: they still run).
pub(crate) fn batch_pods<'a>(state: &'a ClusterState, warnings: &mut Vec<String>) -> (Vec<&'a Pod>, ScheduleScope) {
    let mut pods = pending_pods(state, warnings);
    let scope = ScheduleScope { pending: pods.iter().map(|p| p.uid).collect(), ..Default::default() };
    pods.extend(deleting_node_pods(state));
    (pods, scope)
}

/// For a pod left pending: the NodePools that are not ready or being deleted but whose
/// requirements and taints would admit it (what a user would fix first), or `None`.
fn unready_note(state: &ClusterState, pod: &Pod, respect_preferences: bool) -> Option<String> {
    let reqs = pod_data::pod_requirements(pod, respect_preferences).ok()?;
    let notes: Vec<String> = state
        .nodepools
        .iter()
        .filter_map(|np| match state.unready_nodepools.get(&np.name) {
            Some(why) => Some((np, format!("is not ready ({why})"))),
            None => np.deleting.then(|| (np, "is being deleted".to_string())),
        })
        .filter(|(np, _)| {
            crate::taints::first_untolerated(&np.taints, &pod.tolerations).is_none()
                && template::template_requirements(np).is_ok_and(|t| t.compatible(&reqs, Some(&state.well_known)).is_ok())
        })
        .map(|(np, state_of)| format!("; NodePool {} {state_of} and launches nothing", np.name))
        .collect();
    (!notes.is_empty()).then(|| notes.concat())
}

/// The public form of a NodeClaim that launches `l`.
pub(crate) fn claim_result(c: &SolvedClaim, l: &launch::Launch, name: String, pods: Vec<String>, batch: usize) -> NodeClaimResult {
    // the claim's requirements less the lifecycle labels and the instance type (listed as
    // `instance_type_options`), read in place rather than copied and edited
    let hidden = [*labels::REGISTERED, *labels::INITIALIZED, *labels::INSTANCE_TYPE];
    NodeClaimResult {
        name,
        // `String::from(sym.as_str())`, not `sym.to_string()`: the latter goes through the
        // formatting machinery, once per option of every NodeClaim
        nodepool: String::from(c.nodepool.as_str()),
        instance_type: String::from(l.it.it.name.as_str()),
        zone: String::from(l.offering.zone.as_str()),
        capacity_type: String::from(l.offering.capacity_type.as_str()),
        price_per_hour: l.offering.price,
        instance_type_options: c.options.iter().map(|o| String::from(o.it.name.as_str())).collect(),
        pods,
        requests: c.requests.clone(),
        allocatable: l.it.it.allocatable.clone(),
        requirements: c
            .requirements
            .iter()
            .filter(|(k, _)| !hidden.contains(k))
            .map(|(k, r)| match r.min_values() {
                Some(m) => format!("{k} {r} minValues {m}"),
                None => format!("{k} {r}"),
            })
            .collect(),
        taints: c.taints.iter().map(|t| t.to_string()).collect(),
        min_values_relaxed: c.min_values_relaxed,
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
    let mut phantom: std::collections::BTreeMap<(Sym, Sym), usize> = Default::default();
    for (_, k, v) in &sol.phantom_domains {
        *phantom.entry((*k, *v)).or_default() += 1;
    }
    for ((k, v), n) in phantom {
        result.warnings.push(format!(
            "{n} pod(s) stay pending for topology domain {k}={v}, which no instance type their NodePools can launch has: \
             Karpenter v1.14.1 counts it as a domain too (kubernetes-sigs/karpenter#3272); --topology-domains launchable does not"
        ));
    }
    result
}
