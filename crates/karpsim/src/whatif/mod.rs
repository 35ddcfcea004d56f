//! What-if changes: the keys a variant may change (`capacity_types=spot`, `max_pods=58`,
//! `on_demand_multiplier=0.72`...), validated against what they can mean in the cluster at hand, and
//! applied to NodePools, NodeClasses, catalog prices and disruption options in one place. Scenario
//! variants (`sim::whatif`) and cluster variants ([`cluster`]) both go through [`apply`].

mod changes;
pub mod cluster;
mod known;
pub mod run_warnings;
pub mod suggest;

pub use changes::{Setup, apply};
pub use cluster::{ClusterRow, ClusterRun, cluster_launch_warnings, compare_clusters};

use crate::error::{Error, Result};

/// A named set of changes, e.g. `capacity_types=spot`; values of list keys join with `+`.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Variant {
    pub name: String,
    pub changes: Vec<(String, String)>,
}

/// The keys a variant may change, with what they do (also printed by `karpsim compare --help`).
pub const KEYS: &[(&str, &str)] = &[
    ("nodepools", "apply this variant's NodePool changes to these NodePools only, e.g. default+batch (default: all)"),
    ("capacity_types", "NodePool capacity types, e.g. spot, on-demand, spot+on-demand"),
    ("instance_families", "allowed instance families, e.g. m7i+c7i"),
    ("instance_categories", "allowed instance categories, e.g. c+m+r"),
    ("instance_sizes", "allowed instance sizes, e.g. large+xlarge"),
    ("arch", "allowed architectures, e.g. amd64, arm64, amd64+arm64"),
    ("consolidation_policy", "WhenEmpty, WhenEmptyOrUnderutilized or Balanced"),
    ("consolidate_after", "a duration such as 30s, or Never"),
    ("budget", "one disruption budget for the NodePools, e.g. 10% or 2"),
    ("max_pods", "kubelet maxPods of every EC2NodeClass"),
    ("on_demand_multiplier", "scale on-demand prices, e.g. 0.72 for a savings plan"),
    ("spot_multiplier", "scale spot prices"),
    ("spot_discount", "spot price = on-demand × (1 − discount)"),
    ("price", "explicit prices NAME:CAPACITY=USD, e.g. m5.large:spot=0.04+m7g:on-demand=0.07"),
    ("spot_to_spot", "true or false (feature gate SpotToSpotConsolidation)"),
    ("reserved_count", "instances left in the capacity reservations: N for each, or ID:N (several joined with +)"),
    ("seed", "random seed (scenarios only)"),
    ("consolidation", "true or false (scenarios only)"),
    ("spot_interruptions", "advisor, none, or a rate per node-hour (scenarios only)"),
];

/// Keys that only mean something for a simulation over time; [`apply`] hands them back.
pub const SCENARIO_KEYS: &[&str] = &["seed", "consolidation", "spot_interruptions"];

/// The error for a bad value of a key: `option KEY=VALUE: message`.
pub(crate) fn bad(key: &str, value: &str, why: impl Into<String>) -> Error {
    Error::Option { option: format!("{key}={value}"), message: why.into() }
}

/// The error for an unknown key, suggesting the closest known one.
pub(crate) fn unknown_key(key: &str, value: &str) -> Error {
    let names: Vec<&str> = KEYS.iter().map(|(k, _)| *k).collect();
    bad(key, value, suggest::unknown_value("key", key, &names))
}

/// Parse `KEY=V1,V2,...` into one variant per value (list values join with `+`), named `KEY=V`.
pub fn parse_vary(spec: &str) -> Result<Vec<Variant>> {
    let (k, vals) = spec.split_once('=').ok_or_else(|| Error::Option { option: spec.into(), message: "expected KEY=V1,V2,...".into() })?;
    if !KEYS.iter().any(|(key, _)| *key == k) {
        return Err(unknown_key(k, vals));
    }
    Ok(vals
        .split(',')
        .filter(|v| !v.is_empty())
        .map(|v| Variant { name: format!("{k}={v}"), changes: vec![(k.to_string(), v.to_string())] })
        .collect())
}

/// What a variant's NodePools cannot launch, each warning prefixed `variant NAME: ` (the reasons
/// come from [`crate::scheduling::ClusterView::launch_warnings`]): a variant that empties a pool
/// leaves its pods pending, and its lower cost is no saving.
pub fn variant_launch_warnings(variant: &str, state: &crate::state::ClusterState, opts: &crate::scheduling::ProvisionOptions) -> Vec<String> {
    let view = crate::scheduling::ClusterView::new(state, opts.min_values_policy);
    view.launch_warnings().into_iter().map(|w| format!("variant {variant}: {w}")).collect()
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
