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
