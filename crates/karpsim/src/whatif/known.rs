//! The values a what-if may name, read from the instance types the cluster can launch, so that a
//! typo (`arch=arm`, `capacity_types=spotty`, `instance_families=M7I`) is an error that lists what
//! is valid instead of a variant whose NodePools launch nothing.

use super::{bad, suggest};
use crate::catalog::{Catalog, CatalogSource, InstanceType};
use crate::error::Result;
use crate::labels::Sym;
use crate::state::ClusterState;
use std::collections::BTreeSet;
use std::sync::Arc;

/// A label-valued key of a what-if: the node label it sets a requirement on, and what to call its
/// values in messages.
#[derive(Debug, Clone, Copy)]
pub(super) struct LabelKey {
    pub label: &'static str,
    pub what: &'static str,
}

/// The what-if keys that set a NodePool requirement `In [values]`.
pub(super) fn label_key(key: &str) -> Option<LabelKey> {
    let (label, what) = match key {
        "capacity_types" => ("karpenter.sh/capacity-type", "capacity type"),
        "instance_families" => ("karpenter.k8s.aws/instance-family", "instance family"),
        "instance_categories" => ("karpenter.k8s.aws/instance-category", "instance category"),
        "instance_sizes" => ("karpenter.k8s.aws/instance-size", "instance size"),
        "arch" => ("kubernetes.io/arch", "architecture"),
        _ => return None,
    };
    Some(LabelKey { label, what })
}

/// Every instance type the cluster's NodePools can choose from (each once, whatever the NodeClass),
/// and the name of the catalog they come from.
pub(super) struct Known {
    catalog: String,
    types: Vec<Arc<InstanceType>>,
}

impl Known {
    pub fn of(state: &ClusterState, catalog: &CatalogSource) -> Result<Known> {
        let mut seen = BTreeSet::new();
        let mut types = Vec::new();
        let mut names = BTreeSet::new();
        for pt in state.pool_types.values() {
            names.insert(pt.catalog_name.clone());
            for t in pt.types.iter() {
                if seen.insert(t.it.name) {
                    types.push(Arc::clone(&t.it));
                }
            }
        }
        if state.pool_types.is_empty() {
            let c: Arc<Catalog> = catalog.resolve(None)?;
            names.insert(c.name.clone());
            types = c.instance_types.clone();
        }
        Ok(Known { catalog: names.into_iter().collect::<Vec<_>>().join(", "), types })
    }

    /// The values of a label-valued key over the types (capacity types from their offerings).
    fn values(&self, key: LabelKey) -> BTreeSet<&str> {
        if key.label == "karpenter.sh/capacity-type" {
            return self.types.iter().flat_map(|t| t.offerings.iter().map(|o| o.capacity_type.as_str())).collect();
        }
        let label = Sym::new(key.label);
        self.types.iter().filter_map(|t| t.label(label).flatten()).map(|v| v.as_str()).collect()
    }

    /// Check every `+`-separated value of `key=value` against the catalog's values.
    pub fn check_label_values(&self, key: &str, lk: LabelKey, value: &str) -> Result<Vec<String>> {
        let known = self.values(lk);
        let list: Vec<&str> = known.iter().copied().collect();
        let mut out = Vec::new();
        for v in value.split('+') {
            if v.is_empty() {
                return Err(bad(key, value, "empty value (list values join with +, e.g. spot+on-demand)"));
            }
            if !known.contains(v) {
                let msg = suggest::unknown_value(lk.what, v, &list);
                return Err(bad(key, value, format!("{msg}; from the types of catalog {}", self.catalog)));
            }
            out.push(v.to_string());
        }
        Ok(out)
    }

    /// Check the name of an explicit price: an instance type (with a dot) or a family.
    pub fn check_price_target(&self, key: &str, value: &str, name: &str) -> Result<()> {
        let (what, known): (&str, BTreeSet<&str>) = if name.contains('.') {
            ("instance type", self.types.iter().map(|t| t.name.as_str()).collect())
        } else {
            let family = label_key("instance_families").map(|k| self.values(k)).unwrap_or_default();
            ("instance family", family)
        };
        if known.contains(name) {
            return Ok(());
        }
        let list: Vec<&str> = known.iter().copied().collect();
        let msg = suggest::unknown_value(what, name, &list);
        Err(bad(key, value, format!("{msg}; from the types of catalog {}", self.catalog)))
    }
}
