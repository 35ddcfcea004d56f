//! `Namespace` objects: their labels are what `namespaceSelector` in pod (anti-)affinity terms
//! selects (Karpenter lists the namespaces matching the selector, `topology.go: buildNamespaceList`).

use super::pod::sym_map;
use super::value::Node as V;
use crate::error::Result;
use crate::labels::Sym;
use crate::model::{NAMESPACE_NAME_LABEL, Namespace, Pod};
use std::collections::BTreeSet;

pub(crate) fn parse_namespace(root: &V, name: &str) -> Result<Namespace> {
    let mut labels = sym_map(root.req("metadata")?.opt_string_map("labels")?);
    // the API server sets this label on every namespace (NamespaceDefaultLabelName)
    labels.insert(Sym::new(NAMESPACE_NAME_LABEL), Sym::new(name));
    Ok(Namespace { name: Sym::new(name), labels })
}

/// Every namespace selector of a pod's affinity terms that looks at more than the namespace's name.
fn label_selectors(p: &Pod) -> impl Iterator<Item = &crate::model::LabelSelector> {
    let a = &p.affinity;
    a.pod_affinity_required
        .iter()
        .chain(a.pod_anti_affinity_required.iter())
        .chain(a.pod_affinity_preferred.iter().map(|w| &w.term))
        .chain(a.pod_anti_affinity_preferred.iter().map(|w| &w.term))
        .filter_map(|t| t.namespace_selector.as_ref())
        .filter(|s| {
            let name = Sym::new(NAMESPACE_NAME_LABEL);
            s.match_labels.keys().any(|k| *k != name) || s.match_expressions.iter().any(|e| e.key != name)
        })
}

/// A warning when a `namespaceSelector` that looks at labels other than the namespace's name is
/// evaluated against namespaces the inputs do not describe: such namespaces exist in the cluster (they
/// hold pods), so they are taken as the API server would show a namespace without labels of its own.
pub(crate) fn unknown_namespace_warning(namespaces: &[Namespace], pods: &[Pod], daemonsets: &[Pod]) -> Option<String> {
    let with_selector: Vec<&Pod> = pods.iter().chain(daemonsets).filter(|p| label_selectors(p).next().is_some()).collect();
    if with_selector.is_empty() {
        return None;
    }
    let known: BTreeSet<Sym> = namespaces.iter().map(|n| n.name).collect();
    let missing: BTreeSet<Sym> = pods.iter().chain(daemonsets).map(|p| p.namespace).filter(|n| !known.contains(n)).collect();
    if missing.is_empty() {
        return None;
    }
    let by_pod: BTreeSet<String> = with_selector.iter().map(|p| p.key()).collect();
    let first = by_pod.first().cloned().unwrap_or_default();
    let names: Vec<&str> = missing.iter().map(|s| s.as_str()).collect();
    Some(format!(
        "namespaceSelector of {} pod(s) (first: {first}) selects on namespace labels, but namespace(s) {} are not in the inputs; they are taken to carry only the {NAMESPACE_NAME_LABEL} label (add `kubectl get namespaces -o json` to the inputs)",
        by_pod.len(),
        names.join(", ")
    ))
}
