//! Workload controllers -> pods. karpsim does not run controllers: a Deployment, ReplicaSet,
//! StatefulSet or Job becomes the pods it would create, and a DaemonSet one representative pod.

use super::pod::{PodMeta, PodRefs, build_pod, synthetic_uid};
use super::value::Node;
use crate::error::Result;
use crate::labels::Sym;
use crate::model::{OwnerKind, OwnerRef, Pod};

/// The largest replica count the Kubernetes API accepts (`int32`); how many pods a run may hold is
/// the work limit's to say ([`crate::WorkLimits`]).
pub(crate) const MAX_REPLICAS: i64 = i32::MAX as i64;

/// A controller's pod template and how many pods it asks for.
pub(crate) struct Template {
    pub pod: Pod,
    pub refs: PodRefs,
    pub count: usize,
    /// The field that sets `count` (for errors).
    pub count_field: &'static str,
}

/// Read a controller object's pod template (named `<owner>-0`, or the DaemonSet's name) and replica
/// count. `kind` is Deployment, ReplicaSet, StatefulSet, Job or DaemonSet (one pod).
pub(crate) fn template(kind: &str, root: &Node, namespace: &str, name: &str, created: i64) -> Result<Template> {
    let spec = root.req("spec")?;
    let (count, count_field) = match kind {
        // batch/v1 Job: `parallelism` pods run at once (default 1), never more than `completions`.
        "Job" => {
            let parallelism = spec.get("parallelism")?.map(|n| n.i64_in(0, MAX_REPLICAS)).transpose()?.unwrap_or(1);
            let completions = spec.get("completions")?.map(|n| n.i64_in(0, MAX_REPLICAS)).transpose()?;
            (completions.map_or(parallelism, |c| parallelism.min(c)), "spec.parallelism")
        }
        "DaemonSet" => (1, "spec"),
        // apps/v1: `replicas` defaults to 1.
        _ => (spec.get("replicas")?.map(|n| n.i64_in(0, MAX_REPLICAS)).transpose()?.unwrap_or(1), "spec.replicas"),
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
    let id = PodMeta {
        namespace: namespace.to_string(),
        name: if kind == "DaemonSet" { name.to_string() } else { format!("{name}-0") },
        owner: Some(OwnerRef { kind: owner_kind, name: Sym::new(name) }),
        creation_timestamp: created,
    };
    let (pod, refs) = build_pod(tmeta.as_ref(), &tspec, None, id)?;
    Ok(Template { pod, refs, count: count as usize, count_field })
}

/// The `count` pods a controller creates from its template, named `<owner>-<index>` (index from 0);
/// they differ only in name and uid. The caller has checked `count` against the work limit.
pub(crate) fn replicas(t: &Template, namespace: &str, name: &str) -> Vec<(Pod, PodRefs)> {
    let mut out = Vec::with_capacity(t.count);
    for i in 0..t.count {
        let mut p = t.pod.clone();
        if i > 0 {
            let pod_name = format!("{name}-{i}");
            p.uid = Sym::new(&synthetic_uid(namespace, &pod_name));
            p.name = Sym::new(&pod_name);
        }
        out.push((p, t.refs.clone()));
    }
    out
}
