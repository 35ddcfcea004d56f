//! Controllers whose pods are in the inputs. A snapshot such as `kubectl get deploy,rs,pods -o json`
//! holds a Deployment, its ReplicaSets and their pods: the pods are what runs, and expanding the
//! controllers' templates as well would count every replica two or three times.

use super::controllers::Controller;
use crate::labels::Sym;
use crate::model::{OwnerKind, Pod};
use std::collections::BTreeSet;

/// The label the Deployment controller puts on a ReplicaSet's pods; the ReplicaSet is named
/// `<deployment>-<hash>` (`pkg/controller/deployment/sync.go`).
const POD_TEMPLATE_HASH: &str = "pod-template-hash";

/// The kind of a pod's owner, as the controllers' kinds are named.
fn kind_of(k: OwnerKind) -> &'static str {
    match k {
        OwnerKind::Deployment => "Deployment",
        OwnerKind::ReplicaSet => "ReplicaSet",
        OwnerKind::StatefulSet => "StatefulSet",
        OwnerKind::Job => "Job",
        OwnerKind::DaemonSet => "DaemonSet",
        OwnerKind::Node => "Node",
        OwnerKind::Other => "",
    }
}

/// The Deployment whose ReplicaSet owns `p`, from the ReplicaSet's name and the pod's
/// `pod-template-hash` label.
pub(crate) fn deployment_of(p: &Pod) -> Option<Sym> {
    let o = p.owner.as_ref().filter(|o| o.kind == OwnerKind::ReplicaSet)?;
    let hash = p.labels.get(&Sym::new(POD_TEMPLATE_HASH))?;
    o.name.as_str().strip_suffix(hash.as_str()).and_then(|d| d.strip_suffix('-')).filter(|d| !d.is_empty()).map(Sym::new)
}

/// For each controller, whether something else in the inputs stands for its pods: Pod objects it
/// owns (for a Deployment, through its ReplicaSets), or, for a ReplicaSet, its Deployment. Pushes
/// one warning naming them.
pub(crate) fn represented(controllers: &[&Controller], pod_objects: &[&Pod], warnings: &mut Vec<String>) -> Vec<bool> {
    // (namespace, kind, name) of every owner of a Pod object, Deployments found through the
    // ReplicaSet name and the pod-template-hash label
    let mut owners: BTreeSet<(Sym, &str, Sym)> = BTreeSet::new();
    for p in pod_objects {
        let Some(o) = &p.owner else { continue };
        owners.insert((p.namespace, kind_of(o.kind), o.name));
        if let Some(d) = deployment_of(p) {
            owners.insert((p.namespace, "Deployment", d));
        }
    }
    let mut out: Vec<bool> =
        controllers.iter().map(|c| owners.contains(&(Sym::new(&c.namespace), c.kind.as_str(), Sym::new(&c.name)))).collect();
    // a ReplicaSet owned by a Deployment of the inputs: the Deployment stands for it, and a
    // Deployment whose ReplicaSet's pods are here is represented by them
    for (i, c) in controllers.iter().enumerate() {
        let Some(o) = c.owner.as_ref().filter(|o| c.kind == "ReplicaSet" && o.kind == OwnerKind::Deployment) else { continue };
        if let Some(d) = controllers.iter().position(|d| d.kind == "Deployment" && d.namespace == c.namespace && d.name == o.name.as_str())
        {
            if out[i] {
                out[d] = true;
            }
            out[i] = true;
        }
    }
    let names: Vec<String> =
        controllers.iter().zip(&out).filter(|(_, r)| **r).map(|(c, _)| format!("{} {}/{}", c.kind, c.namespace, c.name)).collect();
    if !names.is_empty() {
        let shown: Vec<&str> = names.iter().take(5).map(String::as_str).collect();
        let more = if names.len() > 5 { format!(" and {} more", names.len() - 5) } else { String::new() };
        warnings.push(format!(
            "{} controller(s) are not expanded from their templates because their pods (or their Deployment) are in the inputs: {}{more}",
            names.len(),
            shown.join(", ")
        ));
    }
    out
}
