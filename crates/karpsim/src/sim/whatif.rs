//! What-if studies over time: variants of one base scenario run in parallel (rayon) with common
//! random numbers, one comparison table; the same scenario over many seeds for confidence intervals.
//! The changes themselves are applied by [`crate::whatif::apply`], shared with cluster variants.

use super::engine::{SimOptions, SimResult, simulate};
use super::scenario::{Scenario, SpotInterruptions};
use crate::error::Result;
use crate::progress::Progress;
use crate::whatif::{Setup, bad};
use rayon::prelude::*;
use std::sync::atomic::{AtomicU64, Ordering};

pub use crate::whatif::{KEYS, Variant, mean_ci, parse_vary};

/// Apply a variant to a copy of the scenario and options: the cluster's changes through
/// [`crate::whatif::apply`], then the scenario-only keys (seed, consolidation, spot interruptions).
pub fn apply(base: &Scenario, opts: &SimOptions, v: &Variant) -> Result<(Scenario, SimOptions)> {
    let setup = Setup { state: base.base.clone(), catalog: base.catalog.clone(), disruption: opts.disruption.clone(), type_filter: None };
    let (setup, rest) = crate::whatif::apply(setup, &v.changes)?;
    // every field but the cluster (already copied into `setup`) and its catalog
    let mut sc = Scenario {
        name: base.name.clone(),
        catalog: setup.catalog,
        base: setup.state,
        start: base.start,
        duration: base.duration,
        seed: base.seed,
        settings: base.settings.clone(),
        workloads: base.workloads.clone(),
        outages: base.outages.clone(),
        limits: base.limits,
    };
    let mut o = opts.clone();
    o.disruption = setup.disruption;
    for (k, val) in &rest {
        let (k, val) = (k.as_str(), val.as_str());
        match k {
            "seed" => sc.seed = val.parse().map_err(|_| bad(k, val, "expected an integer"))?,
            "consolidation" => sc.settings.consolidation = val.parse().map_err(|_| bad(k, val, "expected true or false"))?,
            "spot_interruptions" => {
                sc.settings.spot_interruptions = match val {
                    "advisor" => SpotInterruptions::Advisor,
                    "none" => SpotInterruptions::None,
                    r => SpotInterruptions::Rate(r.parse().ok().filter(|x: &f64| (0.0..=1.0).contains(x)).ok_or_else(|| bad(k, val, "expected advisor, none or a rate in [0, 1]"))?),
                }
            }
            _ => unreachable!("crate::whatif::apply hands back scenario keys only"),
        }
    }
    sc.name = format!("{} [{}]", base.name, v.name);
    Ok((sc, o))
}

/// [`crate::whatif::variant_launch_warnings`] of each scenario variant at the start of its run, in
/// variant order.
pub fn launch_warnings(base: &Scenario, opts: &SimOptions, variants: &[Variant]) -> Result<Vec<String>> {
    let mut out = Vec::new();
    for v in variants {
        let (sc, o) = apply(base, opts, v)?;
        out.extend(crate::whatif::variant_launch_warnings(&v.name, &sc.base, &o.provisioning));
    }
    Ok(out)
}

/// One line of a comparison table.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ComparisonRow {
    pub variant: String,
    pub seed: u64,
    pub total_cost: f64,
    pub mean_cost_per_hour: f64,
    pub mean_nodes: f64,
    pub cpu_utilization: f64,
    pub memory_utilization: f64,
    pub pod_wait_p50_s: f64,
    pub pod_wait_p95_s: f64,
    pub pod_wait_p99_s: f64,
    pub disruptions: u64,
    pub interruptions: u64,
    pub evictions: u64,
    pub pending_at_end: usize,
    /// What this run warned beyond the base scenario's own warnings (pods pending at the end and
    /// why, trace rows outside the run, NodePools a variant leaves unable to launch...), set by
    /// [`compare`]; empty from [`summarize`].
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
}

pub fn summarize(variant: &str, r: &SimResult) -> ComparisonRow {
    let m = &r.metrics;
    let util = |req: &str, alloc: &str| {
        let a = m.mean(alloc);
        if a > 0.0 { m.mean(req) / a } else { 0.0 }
    };
    ComparisonRow {
        variant: variant.to_string(),
        seed: r.seed,
        total_cost: r.total_cost,
        mean_cost_per_hour: m.mean("cost_per_hour"),
        mean_nodes: m.mean("nodes"),
        cpu_utilization: util("cpu_requested", "cpu_allocatable"),
        memory_utilization: util("memory_requested_gib", "memory_allocatable_gib"),
        pod_wait_p50_s: m.wait_percentile(50.0),
        pod_wait_p95_s: m.wait_percentile(95.0),
        pod_wait_p99_s: m.wait_percentile(99.0),
        disruptions: m.disruptions.values().sum(),
        interruptions: m.interruptions,
        evictions: m.evictions,
        pending_at_end: r.pending_at_end.len(),
        warnings: Vec::new(),
    }
}

/// Run every (variant, seed) pair in parallel on the rayon pool (an empty `seeds` runs each variant
/// once with its own seed); rows come back in input order, so the table is the same on any number
/// of threads.
pub fn compare(base: &Scenario, opts: &SimOptions, variants: &[Variant], seeds: &[u64]) -> Result<Vec<ComparisonRow>> {
    compare_with_progress(base, opts, variants, seeds, &Progress::default())
}

/// [`compare`], telling `progress` `(runs done, runs)` as runs finish.
pub fn compare_with_progress(base: &Scenario, opts: &SimOptions, variants: &[Variant], seeds: &[u64], progress: &Progress) -> Result<Vec<ComparisonRow>> {
    let mut jobs = Vec::new();
    for v in variants {
        let (sc, o) = apply(base, opts, v)?;
        // no seed list: each variant runs with its own seed (which `seed=N` may have set)
        let own = [sc.seed];
        for &s in if seeds.is_empty() { &own[..] } else { seeds } {
            let mut sc = sc.clone();
            sc.seed = s;
            jobs.push((v.name.clone(), sc, o.clone()));
        }
    }
    let done = AtomicU64::new(0);
    let total = jobs.len() as u64;
    jobs.par_iter()
        .map(|(name, sc, o)| {
            let r = simulate(sc, o)?;
            let mut row = summarize(name, &r);
            row.warnings = crate::whatif::run_warnings::own(&base.base.warnings, r.warnings);
            progress.report(done.fetch_add(1, Ordering::Relaxed) + 1, Some(total));
            Ok(row)
        })
        .collect()
}
