//! Workload controllers -> pods. karpsim does not run controllers: a Deployment, ReplicaSet,
//! StatefulSet or Job becomes the pods it would create, and a DaemonSet one representative pod.

use super::pod::{PodMeta, PodRefs, build_pod, synthetic_uid};
use super::value::Node;
use crate::error::Result;
use crate::labels::Sym;
use crate::model::{OwnerKind, OwnerRef, Pod};

/// More replicas than this is taken as a mistake rather than a workload.
pub(crate) const MAX_REPLICAS: i64 = 1_000_000;

/// Expand a controller object into `(pod, refs)` pairs named `<owner>-<index>` (index from 0).
/// `kind` is Deployment, ReplicaSet, StatefulSet, Job or DaemonSet (one pod).
pub(crate) fn expand(kind: &str, root: &Node, namespace: &str, name: &str, created: i64) -> Result<Vec<(Pod, PodRefs)>> {
    let spec = root.req("spec")?;
    let count = match kind {
        // batch/v1 Job: `parallelism` pods run at once (default 1), never more than `completions`.
        "Job" => {
            let parallelism = spec.get("parallelism")?.map(|n| n.i64_in(0, MAX_REPLICAS)).transpose()?.unwrap_or(1);
            let completions = spec.get("completions")?.map(|n| n.i64_in(0, MAX_REPLICAS)).transpose()?;
            completions.map_or(parallelism, |c| parallelism.min(c))
        }
        "DaemonSet" => 1,
        // apps/v1: `replicas` defaults to 1.
        _ => spec.get("replicas")?.map(|n| n.i64_in(0, MAX_REPLICAS)).transpose()?.unwrap_or(1),
    };
    let template = spec.req("template")?;
    let tmeta = template.get("metadata")?;
    let tspec = template.req("spec")?;
    let owner_kind = match kind {
        "Deployment" => OwnerKind::Deployment,
        "ReplicaSet" => OwnerKind::ReplicaSet,
        "StatefulSet" => OwnerKind::StatefulSet,
        "Job" => OwnerKind::Job,
        _ => OwnerKind::DaemonSet,
    };
    let meta = |pod_name: String| PodMeta {
        namespace: namespace.to_string(),
        name: pod_name,
        owner: Some(OwnerRef { kind: owner_kind, name: Sym::new(name) }),
        creation_timestamp: created,
    };
    let first_name = if kind == "DaemonSet" { name.to_string() } else { format!("{name}-0") };
    // Parse the template once; replicas differ only in name and uid.
    let (proto, refs) = build_pod(tmeta.as_ref(), &tspec, None, meta(first_name))?;
    if count == 0 {
        return Ok(Vec::new());
    }
    let mut out = Vec::with_capacity(count as usize);
    out.push((proto.clone(), refs.clone()));
    for i in 1..count {
        let mut p = proto.clone();
        let pod_name = format!("{name}-{i}");
        p.uid = Sym::new(&synthetic_uid(namespace, &pod_name));
        p.name = Sym::new(&pod_name);
        out.push((p, refs.clone()));
    }
    Ok(out)
}

/// A DaemonSet's newest pod in the inputs stands in for it (with the template's required node
/// affinity, which the DaemonSet controller replaces by a pin to the pod's node): Karpenter reads
/// the daemon overhead from what the DaemonSet really runs (`state/cluster.go: UpdateDaemonSet`
/// keeps the newest controlled pod; `provisioner.go: getDaemonSetPods` falls back to the template
/// and restores its required node affinity). A pod's requests can differ from its template's (a
/// vertical autoscaler, an older revision).
pub(crate) fn daemonset_pods_stand_in(daemonsets: &mut [Pod], pods: &[Pod]) {
    for ds in daemonsets.iter_mut() {
        let Some(owner) = &ds.owner else { continue };
        let mut newest: Option<&Pod> = None;
        for p in pods {
            let controlled = p.namespace == ds.namespace && p.owner.as_ref().is_some_and(|o| o.kind == OwnerKind::DaemonSet && o.name == owner.name);
            if controlled && newest.is_none_or(|n| p.creation_timestamp > n.creation_timestamp) {
                newest = Some(p);
            }
        }
        let Some(p) = newest else { continue };
        let template_required = std::mem::take(&mut ds.affinity.node_required);
        let (namespace, name, uid, owner) = (ds.namespace, ds.name, ds.uid, ds.owner.clone());
        *ds = p.clone();
        (ds.namespace, ds.name, ds.uid, ds.owner) = (namespace, name, uid, owner);
        ds.node_name = None;
        if !template_required.is_empty() {
            ds.affinity.node_required = template_required;
        }
    }
}
