//! What-if studies: variants of one base scenario run in parallel (rayon) with common random
//! numbers, one comparison table; the same scenario over many seeds for confidence intervals.

use super::engine::{simulate, SimOptions, SimResult};
use super::scenario::{Scenario, SpotInterruptions};
use crate::catalog::CatalogSource;
use crate::error::{Error, Result};
use crate::labels::Sym;
use crate::model::{Budget, ConsolidationPolicy, NodeSelectorRequirement};
use rayon::prelude::*;

/// A named set of changes to a base scenario, e.g. `capacity_types=spot`.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Variant {
    pub name: String,
    pub changes: Vec<(String, String)>,
}

/// The keys a variant may change, with what they do (also printed by `karpsim compare --help`).
pub const KEYS: &[(&str, &str)] = &[
    ("seed", "random seed"),
    ("capacity_types", "NodePool capacity types, e.g. spot, on-demand, spot+on-demand"),
    ("instance_families", "allowed instance families, e.g. m7i+c7i"),
    ("instance_categories", "allowed instance categories, e.g. c+m+r"),
    ("arch", "allowed architectures, e.g. amd64, arm64, amd64+arm64"),
    ("consolidation_policy", "WhenEmpty, WhenEmptyOrUnderutilized or Balanced"),
    ("consolidate_after", "a duration such as 30s, or Never"),
    ("budget", "one disruption budget for every NodePool, e.g. 10% or 2"),
    ("max_pods", "kubelet maxPods of every EC2NodeClass"),
    ("on_demand_multiplier", "scale on-demand prices, e.g. 0.72 for a savings plan"),
    ("spot_discount", "spot price = on-demand × (1 − discount)"),
    ("consolidation", "true or false"),
    ("spot_interruptions", "advisor, none, or a rate per node-hour"),
    ("spot_to_spot", "true or false (feature gate SpotToSpotConsolidation)"),
    ("reserved_count", "instances left in the capacity reservations: N for each, or ID:N (several joined with +)"),
];

fn bad(key: &str, value: &str, why: &str) -> Error {
    Error::Option { option: format!("{key}={value}"), message: why.to_string() }
}

fn set_requirement(reqs: &mut Vec<NodeSelectorRequirement>, key: &str, values: &str) {
    reqs.retain(|r| r.key.as_str() != key);
    reqs.push(NodeSelectorRequirement { key: Sym::new(key), operator: "In".into(), values: values.split('+').map(str::to_string).collect(), min_values: None });
}

/// Apply a variant to a copy of the scenario and options.
pub fn apply(base: &Scenario, opts: &SimOptions, v: &Variant) -> Result<(Scenario, SimOptions)> {
    let mut sc = base.clone();
    let mut o = opts.clone();
    let mut recatalog = false;
    for (k, val) in &v.changes {
        let (k, val) = (k.as_str(), val.as_str());
        match k {
            "seed" => sc.seed = val.parse().map_err(|_| bad(k, val, "expected an integer"))?,
            "capacity_types" | "instance_families" | "instance_categories" | "arch" => {
                let key = match k {
                    "capacity_types" => "karpenter.sh/capacity-type",
                    "instance_families" => "karpenter.k8s.aws/instance-family",
                    "instance_categories" => "karpenter.k8s.aws/instance-category",
                    _ => "kubernetes.io/arch",
                };
                for np in &mut sc.base.nodepools {
                    set_requirement(&mut np.requirements, key, val);
                }
                recatalog = true;
            }
            "consolidation_policy" => {
                let p = match val {
                    "WhenEmpty" => ConsolidationPolicy::WhenEmpty,
                    "WhenEmptyOrUnderutilized" => ConsolidationPolicy::WhenEmptyOrUnderutilized,
                    "Balanced" => ConsolidationPolicy::Balanced,
                    _ => return Err(bad(k, val, "expected WhenEmpty, WhenEmptyOrUnderutilized or Balanced")),
                };
                sc.base.nodepools.iter_mut().for_each(|np| np.disruption.consolidation_policy = p);
            }
            "consolidate_after" => {
                let d = if val == "Never" { None } else { Some(crate::io::parse_duration(val).map_err(|m| bad(k, val, &m))?) };
                sc.base.nodepools.iter_mut().for_each(|np| np.disruption.consolidate_after = d);
            }
            "budget" => {
                let ok = val.strip_suffix('%').map_or(val, |p| p).parse::<u32>().is_ok_and(|n| !val.ends_with('%') || n <= 100);
                if !ok {
                    return Err(bad(k, val, "expected a node count or a percentage up to 100%"));
                }
                sc.base.nodepools.iter_mut().for_each(|np| np.disruption.budgets = vec![Budget { nodes: val.to_string(), schedule: None, duration: None, reasons: None }]);
            }
            "max_pods" => {
                let n: i64 = val.parse().ok().filter(|n| (1..=10_000).contains(n)).ok_or_else(|| bad(k, val, "expected 1..10000"))?;
                if sc.base.nodeclasses.is_empty() {
                    return Err(bad(k, val, "the scenario has no EC2NodeClass to set maxPods on"));
                }
                sc.base.nodeclasses.iter_mut().for_each(|c| c.kubelet.max_pods = Some(n));
                recatalog = true;
            }
            "on_demand_multiplier" | "spot_discount" => {
                let x: f64 = val.parse().ok().filter(|x: &f64| x.is_finite() && *x >= 0.0).ok_or_else(|| bad(k, val, "expected a non-negative number"))?;
                match &mut sc.catalog {
                    CatalogSource::Aws { prices, .. } => {
                        if k == "spot_discount" {
                            if x >= 1.0 {
                                return Err(bad(k, val, "a discount must be below 1"));
                            }
                            prices.spot_discount = Some(x);
                        } else {
                            prices.on_demand_multiplier = x;
                        }
                    }
                    CatalogSource::Custom(_) => return Err(bad(k, val, "price changes apply to AWS catalogs only")),
                }
                recatalog = true;
            }
            "reserved_count" => {
                set_reserved_counts(&mut sc.base, val).map_err(|m| bad(k, val, &m))?;
                recatalog = true;
            }
            "consolidation" => sc.settings.consolidation = val.parse().map_err(|_| bad(k, val, "expected true or false"))?,
            "spot_to_spot" => o.disruption.spot_to_spot = val.parse().map_err(|_| bad(k, val, "expected true or false"))?,
            "spot_interruptions" => {
                sc.settings.spot_interruptions = match val {
                    "advisor" => SpotInterruptions::Advisor,
                    "none" => SpotInterruptions::None,
                    r => SpotInterruptions::Rate(r.parse().ok().filter(|x: &f64| (0.0..=1.0).contains(x)).ok_or_else(|| bad(k, val, "expected advisor, none or a rate in [0, 1]"))?),
                }
            }
            _ => return Err(bad(k, val, &format!("unknown key; known keys: {}", KEYS.iter().map(|(k, _)| *k).collect::<Vec<_>>().join(", ")))),
        }
    }
    if recatalog {
        let catalog = sc.catalog.clone();
        sc.base.rebuild_types(&catalog)?;
    }
    sc.name = format!("{} [{}]", base.name, v.name);
    Ok((sc, o))
}

/// `reserved_count=N` (every reservation) or `ID:N+ID:N` on the scenario's capacity reservations.
fn set_reserved_counts(state: &mut crate::state::ClusterState, val: &str) -> std::result::Result<(), String> {
    let count = |s: &str| s.parse::<i64>().ok().filter(|n| *n >= 0).ok_or_else(|| format!("{s:?} is not a count >= 0"));
    let (all, each): (Option<i64>, Vec<(&str, i64)>) = if val.contains(':') {
        let pairs = val.split('+').map(|p| p.split_once(':').ok_or_else(|| format!("expected ID:N, got {p:?}")).and_then(|(id, n)| Ok((id, count(n)?))));
        (None, pairs.collect::<std::result::Result<_, _>>()?)
    } else {
        (Some(count(val)?), Vec::new())
    };
    let reservations = state.nodeclasses.iter_mut().flat_map(|c| c.capacity_reservations.iter_mut()).chain(state.default_reservations.iter_mut());
    let mut seen = std::collections::BTreeSet::new();
    for r in reservations {
        seen.insert(r.id.as_str());
        if let Some(n) = all.or_else(|| each.iter().find(|(id, _)| *id == r.id.as_str()).map(|(_, n)| *n)) {
            r.count = Some(n);
        }
    }
    if seen.is_empty() {
        return Err("the scenario has no capacity reservation (give them under `reservations:`)".into());
    }
    if let Some((id, _)) = each.iter().find(|(id, _)| !seen.contains(id)) {
        return Err(format!("no capacity reservation {id} in the scenario (it has: {})", seen.into_iter().collect::<Vec<_>>().join(", ")));
    }
    Ok(())
}

/// Parse `KEY=V1,V2,...` into one variant per value (list values join with `+`).
pub fn parse_vary(spec: &str) -> Result<Vec<Variant>> {
    let (k, vals) = spec.split_once('=').ok_or_else(|| Error::Option { option: spec.into(), message: "expected KEY=V1,V2,...".into() })?;
    if !KEYS.iter().any(|(key, _)| *key == k) {
        return Err(bad(k, vals, &format!("unknown key; known keys: {}", KEYS.iter().map(|(k, _)| *k).collect::<Vec<_>>().join(", "))));
    }
    Ok(vals.split(',').filter(|v| !v.is_empty()).map(|v| Variant { name: format!("{k}={v}"), changes: vec![(k.to_string(), v.to_string())] }).collect())
}

/// One line of a comparison table.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
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
    }
}

/// Run every (variant, seed) pair in parallel on the rayon pool (an empty `seeds` runs each variant
/// once with its own seed); rows come back in input order, so
/// the table is the same on any number of threads.
pub fn compare(base: &Scenario, opts: &SimOptions, variants: &[Variant], seeds: &[u64]) -> Result<Vec<ComparisonRow>> {
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
    Ok(jobs.par_iter().map(|(name, sc, o)| summarize(name, &simulate(sc, o))).collect())
}

/// Mean and 95% confidence half-width (normal approximation) of a column over rows.
pub fn mean_ci(values: &[f64]) -> (f64, f64) {
    let n = values.len() as f64;
    if n == 0.0 {
        return (0.0, 0.0);
    }
    let mean = values.iter().sum::<f64>() / n;
    if n < 2.0 {
        return (mean, 0.0);
    }
    let var = values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1.0);
    (mean, 1.96 * (var / n).sqrt())
}
