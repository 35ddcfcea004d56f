//! What-ifs on a cluster rather than a scenario: each variant provisioned (and, if asked,
//! consolidated until stable) from the same starting state, in parallel, one comparison row each.

use super::{Setup, Variant, apply, run_warnings};
use crate::disruption::{place, until_stable_state};
use crate::error::Result;
use crate::progress::Progress;
use crate::scheduling::{ProvisionOptions, ProvisionResult, provision_launched};
use crate::state::ClusterState;
use rayon::prelude::*;
use std::sync::atomic::{AtomicU64, Ordering};

/// What to run for each cluster variant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ClusterRun {
    /// Karpenter's provisioning of the pending pods.
    #[default]
    Provision,
    /// Provisioning, its NodeClaims launched and the pods bound, then Karpenter's disruption until
    /// stable (`disruption::until_stable`): where the cluster settles.
    Consolidate,
}

/// One line of a cluster comparison: the cluster after provisioning (and consolidation).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ClusterRow {
    pub variant: String,
    /// USD per hour of every node at the end (existing nodes and new NodeClaims), plus
    /// `reservation_cost_per_hour`.
    pub cost_per_hour: f64,
    /// USD per hour of the capacity reservations themselves, used or not
    /// ([`ClusterState::reservation_fees`]): a node launched into one costs the provider's
    /// near-zero reserved price, the reservation its instances' on-demand price.
    #[serde(default)]
    pub reservation_cost_per_hour: f64,
    /// USD per hour of the NodeClaims provisioning created.
    pub new_cost_per_hour: f64,
    /// Nodes at the end.
    pub nodes: usize,
    /// NodeClaims provisioning created.
    pub new_nodes: usize,
    /// Pods left pending (provisioning could not place them, or consolidation left them).
    pub pods_pending: usize,
    /// Σ requests ÷ Σ allocatable over the nodes at the end, workload pods only (DaemonSet pods
    /// excluded, as the provisioning result does not bind them to new nodes), 0–1.
    pub cpu_utilization: f64,
    pub memory_utilization: f64,
    /// Disruption commands executed (0 when only provisioning).
    pub disruptions: usize,
    /// `cost_per_hour` before consolidation minus after (0 when only provisioning).
    pub consolidation_savings_per_hour: f64,
    /// What this variant's run warned beyond the input's own warnings ([`run_warnings::own`]): a
    /// round cap that cut until-stable short, pods left pending for a phantom topology domain...
    /// [`run_warnings::grouped`] turns the rows' warnings into the report's lines.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
}

/// Provision the state's pending pods and launch the result: each NodeClaim becomes an initialized
/// node at `now` (named `<nodepool>-karpsim-<n>`) and its pods are bound, as are pods placed on
/// existing nodes. Returns the provisioning result and the cluster after it.
pub fn provision_and_launch(state: &ClusterState, opts: &ProvisionOptions, now: i64) -> (ProvisionResult, ClusterState) {
    // static NodePools' NodeClaims and the later batches of pods deferred by reservations included
    let (result, launched) = provision_launched(state, opts);
    let mut after = state.clone();
    place(&mut after, &launched.nodes, &launched.binds, &[], now, &mut 0);
    (result, after)
}

/// Requested ÷ allocatable cpu and memory over the nodes, workload pods only.
fn utilization(state: &ClusterState) -> (f64, f64) {
    let (mut cpu, mut mem, mut cpu_alloc, mut mem_alloc) = (0i128, 0i128, 0i128, 0i128);
    for n in &state.nodes {
        cpu_alloc += i128::from(n.allocatable.cpu);
        mem_alloc += i128::from(n.allocatable.memory);
    }
    for p in state.pods.iter().filter(|p| p.node_name.is_some() && p.is_active() && !p.is_daemonset_pod() && !p.is_mirror()) {
        cpu += i128::from(p.requests.cpu);
        mem += i128::from(p.requests.memory);
    }
    let ratio = |a: i128, b: i128| if b > 0 { a as f64 / b as f64 } else { 0.0 };
    (ratio(cpu, cpu_alloc), ratio(mem, mem_alloc))
}

fn cost(state: &ClusterState) -> f64 {
    state.nodes.iter().map(|n| n.price.unwrap_or(0.0)).sum()
}

/// Run one (already applied) variant. `known`: the warnings the caller reports anyway (the base
/// cluster's own); the row keeps the rest: what applying the variant and running it added.
pub fn run_cluster(name: &str, setup: &Setup, opts: &ProvisionOptions, run: ClusterRun, known: &[String]) -> ClusterRow {
    let now = setup.disruption.now.unwrap_or_else(|| setup.state.snapshot_time());
    let (prov, after) = provision_and_launch(&setup.state, opts, now);
    // a provisioning result's warnings start with its state's: the variant's (a re-resolved
    // catalog's, say) are the ones `known` does not hold
    let mut warnings = run_warnings::own(known, prov.warnings);
    let (end, disruptions, savings, pending) = match run {
        ClusterRun::Provision => (after, 0, 0.0, prov.unschedulable.len()),
        ClusterRun::Consolidate => {
            let mut dopts = setup.disruption.clone();
            dopts.now = Some(now);
            dopts.provisioning = opts.clone();
            let (r, end) = until_stable_state(&after, &dopts);
            let pending = r.end_state.as_ref().map_or(0, |e| e.pending.len());
            warnings = run_warnings::own(known, [warnings, r.warnings].concat());
            (end, r.commands.len(), r.cost_per_hour_before - r.cost_per_hour_after, pending)
        }
    };
    let (cpu_utilization, memory_utilization) = utilization(&end);
    // a fold from +0.0: an empty f64 sum is -0.0
    let fees = end.reservation_fees().0.iter().fold(0.0, |a, (_, f)| a + f);
    ClusterRow {
        variant: name.to_string(),
        cost_per_hour: cost(&end) + fees,
        reservation_cost_per_hour: fees,
        new_cost_per_hour: prov.cost_per_hour,
        nodes: end.nodes.len(),
        new_nodes: prov.nodeclaims.len(),
        pods_pending: pending,
        cpu_utilization,
        memory_utilization,
        disruptions,
        consolidation_savings_per_hour: savings,
        warnings,
    }
}

/// [`super::variant_launch_warnings`] of each cluster variant, in variant order.
pub fn cluster_launch_warnings(base: &Setup, opts: &ProvisionOptions, variants: &[Variant]) -> Result<Vec<String>> {
    let mut out = Vec::new();
    for v in variants {
        let (setup, _) = apply(base.clone(), &v.changes)?;
        out.extend(super::variant_launch_warnings(&v.name, &setup.state, opts));
    }
    Ok(out)
}

/// Apply each variant to the base cluster and run it, in parallel on the rayon pool; rows come back
/// in variant order, so the table is the same on any number of threads. Every variant is checked
/// before any runs. `progress` is told `(variants done, variants)`.
pub fn compare_clusters(
    base: &Setup,
    opts: &ProvisionOptions,
    variants: &[Variant],
    run: ClusterRun,
    progress: &Progress,
) -> Result<Vec<ClusterRow>> {
    let mut jobs = Vec::with_capacity(variants.len());
    for v in variants {
        let (setup, rest) = apply(base.clone(), &v.changes)?;
        if let Some((k, val)) = rest.first() {
            return Err(super::bad(k, val, "applies to scenarios only (simulate/compare SCENARIO.yaml), not to a cluster"));
        }
        jobs.push((v.name.as_str(), setup));
    }
    let done = AtomicU64::new(0);
    let total = jobs.len() as u64;
    Ok(jobs
        .par_iter()
        .map(|(name, setup)| {
            let row = run_cluster(name, setup, opts, run, &base.state.warnings);
            progress.report(done.fetch_add(1, Ordering::Relaxed) + 1, Some(total));
            row
        })
        .collect())
}
