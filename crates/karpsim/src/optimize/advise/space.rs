//! The advisor's search space: NodePool changes a user may allow (capacity types, architectures,
//! instance categories, families, generations, the largest size, a preferred pool with a weight
//! beside the original), and the candidates built from them.

use crate::labels::Sym;
use crate::model::{NodePool, NodeSelectorRequirement};
use crate::state::ClusterState;
use std::collections::BTreeSet;

pub const CAPACITY_TYPE: &str = "karpenter.sh/capacity-type";
pub const ARCH: &str = "kubernetes.io/arch";
pub const CATEGORY: &str = "karpenter.k8s.aws/instance-category";
pub const FAMILY: &str = "karpenter.k8s.aws/instance-family";
pub const GENERATION: &str = "karpenter.k8s.aws/instance-generation";
pub const CPU: &str = "karpenter.k8s.aws/instance-cpu";

/// What the advisor may change. By default it only narrows what each NodePool allows (so every
/// candidate launches a subset of the original's nodes); capacity types and architectures widen
/// only when listed here.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Allowed {
    /// Capacity types candidates may use (`None`: those each NodePool allows).
    pub capacity_types: Option<Vec<String>>,
    /// Architectures candidates may use (`None`: those each NodePool allows).
    pub architectures: Option<Vec<String>>,
    pub categories: bool,
    pub families: bool,
    pub generations: bool,
    /// A largest size (`instance-cpu` below a limit).
    pub sizes: bool,
    /// A preferred NodePool (weight 100) beside the original, which stays as the fallback.
    pub split: bool,
    /// Keep at least this many instance families in every candidate (`minValues` on the family
    /// requirement), for users who want diversity for spot capacity.
    pub min_families: Option<u32>,
}

impl Default for Allowed {
    fn default() -> Self {
        Allowed { capacity_types: None, architectures: None, categories: true, families: true, generations: true, sizes: true, split: true, min_families: None }
    }
}

/// A requirement a candidate sets on a NodePool (replacing the pool's own on the same key, after
/// checking that it narrows it).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Change {
    pub key: &'static str,
    pub operator: &'static str,
    pub values: Vec<String>,
}

impl Change {
    pub fn label(&self) -> String {
        format!("{} {} [{}]", self.key, self.operator, self.values.join(", "))
    }
}

/// A candidate configuration: its NodePools, each with the name of the original it derives from.
#[derive(Debug, Clone)]
pub struct Candidate {
    pub name: String,
    pub changes: Vec<String>,
    pub pools: Vec<(NodePool, Sym)>,
}

fn values_of<'a>(np: &'a NodePool, key: &str) -> Option<(&'a str, &'a [String])> {
    np.requirements.iter().find(|r| r.key.as_str() == key).map(|r| (r.operator.as_str(), r.values.as_slice()))
}

/// Apply `change` to `np`; `None` when it would allow nothing or widen the pool where that is not
/// allowed.
pub fn apply(np: &NodePool, change: &Change, allowed: &Allowed) -> Option<NodePool> {
    let mut out = np.clone();
    let widen_ok = match change.key {
        CAPACITY_TYPE => allowed.capacity_types.is_some(),
        ARCH => allowed.architectures.is_some(),
        _ => false,
    };
    let mut values = change.values.clone();
    let mut min_values = None;
    if let Some((op, existing)) = values_of(np, change.key) {
        min_values = np.requirements.iter().find(|r| r.key.as_str() == change.key).and_then(|r| r.min_values);
        match (op, change.operator) {
            ("In", "In") if !widen_ok => values.retain(|v| existing.contains(v)),
            ("NotIn", "In") => values.retain(|v| !existing.contains(v)),
            ("Gt", "Gt") | ("Gte", "Gt") => {
                let (a, b) = (existing.first()?.parse::<i64>().ok()?, values.first()?.parse::<i64>().ok()?);
                let lo = if op == "Gte" { a - 1 } else { a };
                if b <= lo {
                    return None;
                }
            }
            ("Lt", "Lt") | ("Lte", "Lt") => {
                let (a, b) = (existing.first()?.parse::<i64>().ok()?, values.first()?.parse::<i64>().ok()?);
                let hi = if op == "Lte" { a + 1 } else { a };
                if b >= hi {
                    return None;
                }
            }
            _ => {}
        }
    }
    if values.is_empty() || min_values.is_some_and(|m| (values.len() as u32) < m && change.operator == "In") {
        return None;
    }
    out.set_requirement(NodeSelectorRequirement { key: Sym::new(change.key), operator: change.operator.into(), values, min_values });
    if let (Some(m), FAMILY) = (allowed.min_families, change.key) {
        let r = out.requirements.last_mut()?;
        if (r.values.len() as u32) < m {
            return None;
        }
        r.min_values = Some(m.max(r.min_values.unwrap_or(0)));
    }
    Some(out)
}

/// What the pools' instance types offer along each axis, to choose candidate values from.
pub struct Catalogue {
    pub categories: BTreeSet<String>,
    pub generations: BTreeSet<i64>,
    pub max_cpu: i64,
}

pub fn catalogue(state: &ClusterState, pools: &[&NodePool]) -> Catalogue {
    let mut c = Catalogue { categories: BTreeSet::new(), generations: BTreeSet::new(), max_cpu: 0 };
    let (cat, gen_key, cpu) = (Sym::new(CATEGORY), Sym::new(GENERATION), Sym::new(CPU));
    for p in pools {
        let Some(pt) = state.pool_types.get(&p.name) else { continue };
        let Ok(reqs) = crate::requirements::Requirements::from_node_selector(&p.requirements) else { continue };
        for t in pt.types.iter().filter(|t| t.requirements.intersects_ok(&reqs)) {
            if let Some(Some(v)) = t.it.label(cat) {
                c.categories.insert(v.to_string());
            }
            if let Some(Some(v)) = t.it.label(gen_key)
                && let Ok(g) = v.as_str().parse()
            {
                c.generations.insert(g);
            }
            if let Some(Some(v)) = t.it.label(cpu) {
                c.max_cpu = c.max_cpu.max(v.as_str().parse().unwrap_or(0));
            }
        }
    }
    c
}

/// Non-empty subsets of `items`, in a fixed order (by size, then lexicographic).
pub fn subsets(items: &[String]) -> Vec<Vec<String>> {
    let n = items.len().min(4);
    let mut out: Vec<Vec<String>> = (1u32..(1 << n)).map(|m| (0..n).filter(|i| m & (1 << i) != 0).map(|i| items[i].clone()).collect()).collect();
    out.sort_by(|a, b| a.len().cmp(&b.len()).then(a.cmp(b)));
    out
}
