use crate::labels::Sym;
use std::collections::BTreeMap;

/// The label the API server puts on every namespace, with the namespace's name as its value.
pub const NAMESPACE_NAME_LABEL: &str = "kubernetes.io/metadata.name";

/// A `Namespace` with its labels (what `namespaceSelector` in pod affinity terms selects on).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Namespace {
    pub name: Sym,
    /// Includes `kubernetes.io/metadata.name`, which the API server always sets.
    pub labels: BTreeMap<Sym, Sym>,
}

impl Namespace {
    /// A namespace known only by name (not in the inputs): it carries the API server's name label only.
    pub fn named(name: Sym) -> Namespace {
        Namespace { name, labels: BTreeMap::from([(Sym::new(NAMESPACE_NAME_LABEL), name)]) }
    }
}
