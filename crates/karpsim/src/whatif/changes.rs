//! Applying a variant's changes to a cluster: NodePool requirements and disruption settings,
//! NodeClass kubelet settings, catalog prices and disruption options. The one home of this logic,
//! for scenario variants (`sim::whatif::apply`) and cluster variants ([`super::compare_clusters`],
//! Python's `Cluster.with_changes`).

use super::known::{Known, label_key};
use super::{SCENARIO_KEYS, bad, suggest, unknown_key};
use crate::catalog::CatalogSource;
use crate::disruption::DisruptionOptions;
use crate::error::{Error, Result};
use crate::labels::Sym;
use crate::model::{Budget, ConsolidationPolicy, NodeSelectorRequirement};
use crate::requirements::Requirements;
use crate::state::ClusterState;

/// A cluster as a variant sees it: its state, the catalog its NodePools' instance types come from
/// (re-resolved when NodeClass settings or prices change), and the disruption options.
#[derive(Debug, Clone)]
pub struct Setup {
    pub state: ClusterState,
    pub catalog: CatalogSource,
    pub disruption: DisruptionOptions,
    /// Requirements the catalog's types must meet (a narrowed catalog, Python's `Catalog.filter`),
    /// applied again whenever the types are re-resolved.
    pub type_filter: Option<Requirements>,
}

impl Setup {
    /// A cluster with Karpenter's default disruption options and the whole catalog.
    pub fn new(state: ClusterState, catalog: CatalogSource) -> Setup {
        Setup { state, catalog, disruption: DisruptionOptions::default(), type_filter: None }
    }
}

const POLICIES: [&str; 3] = ["WhenEmpty", "WhenEmptyOrUnderutilized", "Balanced"];

fn parse_bool(key: &str, value: &str) -> Result<bool> {
    match value {
        "true" => Ok(true),
        "false" => Ok(false),
        _ => Err(bad(key, value, "expected true or false")),
    }
}

fn parse_number(key: &str, value: &str) -> Result<f64> {
    value.parse().ok().filter(|x: &f64| x.is_finite() && *x >= 0.0).ok_or_else(|| bad(key, value, "expected a non-negative number"))
}

/// `reserved_count=N` (every capacity reservation) or `ID:N+ID:N` on the cluster's reservations:
/// its EC2NodeClasses' and, without one, karpsim's default NodeClass's (`--reservation`, a
/// scenario's `reservations:`).
fn set_reserved_counts(state: &mut ClusterState, key: &str, value: &str) -> Result<()> {
    let count = |s: &str| s.parse::<i64>().ok().filter(|n| *n >= 0).ok_or_else(|| bad(key, value, format!("{s:?} is not a count >= 0")));
    let (all, each): (Option<i64>, Vec<(&str, i64)>) = if value.contains(':') {
        let pairs = value.split('+').map(|p| p.split_once(':').ok_or_else(|| bad(key, value, format!("expected ID:N, got {p:?}"))).and_then(|(id, n)| Ok((id, count(n)?))));
        (None, pairs.collect::<Result<_>>()?)
    } else {
        (Some(count(value)?), Vec::new())
    };
    let classes = state.nodeclasses.iter_mut().flat_map(|c| c.capacity_reservations.iter_mut());
    let mut ids: Vec<&str> = Vec::new();
    for r in classes.chain(state.default_reservations.iter_mut()) {
        if !ids.contains(&r.id.as_str()) {
            ids.push(r.id.as_str());
        }
        if let Some(n) = all.or_else(|| each.iter().find(|(id, _)| *id == r.id.as_str()).map(|(_, n)| *n)) {
            r.count = Some(n);
        }
    }
    if ids.is_empty() {
        return Err(bad(key, value, "the cluster has no capacity reservation (give them with --reservation, a reservations file or a scenario's `reservations:`)"));
    }
    if let Some((id, _)) = each.iter().find(|(id, _)| !ids.contains(id)) {
        return Err(bad(key, value, suggest::unknown_value("capacity reservation", id, &ids)));
    }
    Ok(())
}

/// Which NodePools the variant's NodePool changes apply to: those named by `nodepools=a+b`, else all.
fn scope(state: &ClusterState, changes: &[(String, String)]) -> Result<Vec<bool>> {
    let Some((_, value)) = changes.iter().rev().find(|(k, _)| k == "nodepools") else {
        return Ok(vec![true; state.nodepools.len()]);
    };
    let names: Vec<&str> = state.nodepools.iter().map(|p| p.name.as_str()).collect();
    let mut selected = vec![false; names.len()];
    for name in value.split('+') {
        match names.iter().position(|n| *n == name) {
            Some(i) => selected[i] = true,
            None => return Err(bad("nodepools", value, suggest::unknown_value("NodePool", name, &names))),
        }
    }
    Ok(selected)
}

/// Apply `changes` in order to a copy of the cluster. Scenario-only keys ([`SCENARIO_KEYS`]) are
/// handed back, in order, for the caller; any other unknown key or invalid value is an error that
/// names the key and value and, for values the catalog decides (architectures, capacity types,
/// families, categories, sizes, instance types, NodePool names), lists the valid ones.
pub fn apply(mut setup: Setup, changes: &[(String, String)]) -> Result<(Setup, Vec<(String, String)>)> {
    let selected = scope(&setup.state, changes)?;
    let mut known: Option<Known> = None;
    let mut rest = Vec::new();
    let mut recatalog = false;
    for (k, v) in changes {
        let (k, v) = (k.as_str(), v.as_str());
        if v.is_empty() {
            return Err(bad(k, v, "empty value"));
        }
        let pool_change = label_key(k).is_some() || matches!(k, "consolidation_policy" | "consolidate_after" | "budget");
        if pool_change && setup.state.nodepools.is_empty() {
            return Err(bad(k, v, "the cluster has no NodePool to change"));
        }
        if (label_key(k).is_some() || k == "price") && known.is_none() {
            known = Some(Known::of(&setup.state, &setup.catalog)?);
        }
        let pools = setup.state.nodepools.iter_mut().zip(&selected).filter(|(_, s)| **s).map(|(p, _)| p);
        if let Some(lk) = label_key(k) {
            let values = known.as_ref().map(|kn| kn.check_label_values(k, lk, v)).transpose()?.unwrap_or_default();
            for np in pools {
                np.set_requirement(NodeSelectorRequirement {
                    key: Sym::new(lk.label),
                    operator: "In".into(),
                    values: values.clone(),
                    min_values: None,
                });
            }
            continue;
        }
        match k {
            "nodepools" => {}
            "consolidation_policy" => {
                let p = match v {
                    "WhenEmpty" => ConsolidationPolicy::WhenEmpty,
                    "WhenEmptyOrUnderutilized" => ConsolidationPolicy::WhenEmptyOrUnderutilized,
                    "Balanced" => ConsolidationPolicy::Balanced,
                    _ => return Err(bad(k, v, suggest::unknown_value("consolidation policy", v, &POLICIES))),
                };
                pools.for_each(|np| np.disruption.consolidation_policy = p);
            }
            "consolidate_after" => {
                let d = if v == "Never" { None } else { Some(crate::io::parse_duration(v).map_err(|m| bad(k, v, m))?) };
                pools.for_each(|np| np.disruption.consolidate_after = d);
            }
            "budget" => {
                let ok = v.strip_suffix('%').unwrap_or(v).parse::<u32>().is_ok_and(|n| !v.ends_with('%') || n <= 100);
                if !ok {
                    return Err(bad(k, v, "expected a node count or a percentage up to 100%"));
                }
                pools.for_each(|np| {
                    np.disruption.budgets = vec![Budget { nodes: v.to_string(), schedule: None, duration: None, reasons: None }]
                });
            }
            "max_pods" => {
                let n: i64 = v.parse().ok().filter(|n| (1..=10_000).contains(n)).ok_or_else(|| bad(k, v, "expected 1..10000"))?;
                if matches!(setup.catalog, CatalogSource::Custom(_)) {
                    return Err(bad(k, v, "a custom catalog states each type's pod capacity; maxPods applies to aws:REGION catalogs"));
                }
                // the NodeClasses of the selected NodePools (every NodeClass when all are selected)
                let classes: Vec<Sym> = pools.filter_map(|np| np.node_class).collect();
                let all = selected.iter().all(|s| *s);
                let mut changed = 0;
                for c in setup.state.nodeclasses.iter_mut().filter(|c| all || classes.contains(&c.name)) {
                    c.kubelet.max_pods = Some(n);
                    changed += 1;
                }
                if changed == 0 {
                    return Err(bad(k, v, "the cluster has no EC2NodeClass to set maxPods on"));
                }
                recatalog = true;
            }
            "on_demand_multiplier" | "spot_multiplier" | "spot_discount" | "price" => {
                let CatalogSource::Aws { prices, .. } = &mut setup.catalog else {
                    return Err(bad(k, v, "price changes apply to aws:REGION catalogs; write prices into a custom catalog instead"));
                };
                match k {
                    "on_demand_multiplier" => prices.on_demand_multiplier = parse_number(k, v)?,
                    "spot_multiplier" => prices.spot_multiplier = parse_number(k, v)?,
                    "spot_discount" => {
                        let x = parse_number(k, v)?;
                        if x >= 1.0 {
                            return Err(bad(k, v, "a discount must be below 1"));
                        }
                        prices.spot_discount = Some(x);
                    }
                    _ => {
                        for assignment in v.split('+') {
                            prices.set_price_assignment(assignment).map_err(|e| match e {
                                Error::Option { message, .. } => bad(k, v, message),
                                other => other,
                            })?;
                            // the form is checked: NAME:CAPACITY=PRICE
                            let name = assignment.split(':').next().unwrap_or_default();
                            if let Some(kn) = &known {
                                kn.check_price_target(k, v, name)?;
                            }
                        }
                    }
                }
                recatalog = true;
            }
            "spot_to_spot" => setup.disruption.spot_to_spot = parse_bool(k, v)?,
            "reserved_count" => {
                set_reserved_counts(&mut setup.state, k, v)?;
                recatalog = true;
            }
            _ if SCENARIO_KEYS.contains(&k) => rest.push((k.to_string(), v.to_string())),
            _ => return Err(unknown_key(k, v)),
        }
    }
    if recatalog {
        if let CatalogSource::Aws { prices, .. } = &setup.catalog {
            prices.validate()?;
        }
        setup.state.recatalog(&setup.catalog)?;
        if let Some(f) = &setup.type_filter {
            setup.state.retain_types(f);
        }
    }
    Ok((setup, rest))
}
