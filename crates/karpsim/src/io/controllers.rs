//! Workload controllers -> pods. karpsim does not run controllers: a Deployment, ReplicaSet,
//! StatefulSet or Job becomes the pods it would create, and a DaemonSet one representative pod.

use super::pod::{PodMeta, PodRefs, build_pod, owner_from_refs, parse_spec, synthetic_uid};
use super::storage::{ClaimSpec, VolumeRef, parse_claim_templates};
use super::value::Node;
use crate::error::Result;
use crate::labels::Sym;
use crate::model::{OwnerKind, OwnerRef, Pod};
use std::sync::Arc;

/// The largest replica count the Kubernetes API accepts (`int32`); how many pods a run may hold is
/// the work limit's to say ([`crate::WorkLimits`]).
pub(crate) const MAX_REPLICAS: i64 = i32::MAX as i64;

/// A controller object, parsed once; its pods differ only in name, uid and per-replica claims.
#[derive(Debug, Clone)]
pub(crate) struct Controller {
    pub kind: String,
    pub namespace: String,
    pub name: String,
    /// `spec.replicas` as written (`None`: not set; the API then defaults it to 1). Jobs and
    /// DaemonSets have none.
    pub replicas: Option<i64>,
    /// How many pods it runs as written.
    pub count: i64,
    /// Its controller (`metadata.ownerReferences`), e.g. a ReplicaSet's Deployment.
    pub owner: Option<OwnerRef>,
    proto: Pod,
    refs: PodRefs,
    /// A StatefulSet's `volumeClaimTemplates`: `(template name, spec)`.
    claim_templates: Vec<(String, Arc<ClaimSpec>)>,
}

impl Controller {
    /// `kind` is Deployment, ReplicaSet, StatefulSet, Job or DaemonSet.
    pub fn parse(kind: &str, root: &Node, namespace: &str, name: &str, created: i64) -> Result<Controller> {
        let spec = root.req("spec")?;
        let mut replicas = None;
        let count = match kind {
            // batch/v1 Job: `parallelism` pods run at once (default 1), never more than `completions`.
            "Job" => {
                let parallelism = spec.get("parallelism")?.map(|n| n.i64_in(0, MAX_REPLICAS)).transpose()?.unwrap_or(1);
                let completions = spec.get("completions")?.map(|n| n.i64_in(0, MAX_REPLICAS)).transpose()?;
                completions.map_or(parallelism, |c| parallelism.min(c))
            }
            "DaemonSet" => 1,
            // apps/v1: `replicas` defaults to 1.
            _ => {
                replicas = spec.get("replicas")?.map(|n| n.i64_in(0, MAX_REPLICAS)).transpose()?;
                replicas.unwrap_or(1)
            }
        };
        let claim_templates = if kind == "StatefulSet" { parse_claim_templates(&spec)? } else { Vec::new() };
        let template = spec.req("template")?;
        let owner_kind = match kind {
            "Deployment" => OwnerKind::Deployment,
            "ReplicaSet" => OwnerKind::ReplicaSet,
            "StatefulSet" => OwnerKind::StatefulSet,
            "Job" => OwnerKind::Job,
            _ => OwnerKind::DaemonSet,
        };
        let meta = PodMeta {
            namespace: namespace.to_string(),
            name: if kind == "DaemonSet" { name.to_string() } else { format!("{name}-0") },
            owner: Some(OwnerRef { kind: owner_kind, name: Sym::new(name) }),
            creation_timestamp: created,
        };
        // parse the template once
        let (proto, refs) = build_pod(template.get("metadata")?.as_ref(), &template.req("spec")?, None, meta, parse_spec)?;
        Ok(Controller {
            kind: kind.to_string(),
            namespace: namespace.to_string(),
            name: name.to_string(),
            replicas,
            count,
            owner: owner_from_refs(&root.req("metadata")?)?,
            proto,
            refs,
            claim_templates,
        })
    }

    /// The field that sets how many pods it runs (named when that is too many).
    pub fn count_field(&self) -> &'static str {
        match self.kind.as_str() {
            "Job" => "spec.parallelism",
            "DaemonSet" => "spec",
            _ => "spec.replicas",
        }
    }

    /// Its first `count` pods, named `<owner>-<index>` from 0 (a DaemonSet's one pod is named after it),
    /// made one at a time: a million replicas are not held twice.
    pub fn pods(&self, count: i64) -> impl Iterator<Item = (Pod, PodRefs)> + '_ {
        (0..count).map(move |i| {
            let mut p = self.proto.clone();
            if i > 0 {
                let pod_name = format!("{}-{i}", self.name);
                p.uid = Sym::new(&synthetic_uid(&self.namespace, &pod_name));
                p.name = Sym::new(&pod_name);
            }
            (p, self.replica_refs(i))
        })
    }

    /// A replica's references: a StatefulSet gives each replica its own claim per template,
    /// `<template>-<statefulset>-<ordinal>`, in place of a template volume of the same name
    /// (the StatefulSet controller's `updateStorage`).
    fn replica_refs(&self, ordinal: i64) -> PodRefs {
        let mut r = self.refs.clone();
        for (t, spec) in &self.claim_templates {
            let v = VolumeRef { volume: t.clone(), claim: Some(format!("{t}-{}-{ordinal}", self.name)), template: Some(Arc::clone(spec)) };
            match r.volumes.iter_mut().find(|x| x.volume == *t) {
                Some(x) => *x = v,
                None => r.volumes.push(v),
            }
        }
        r
    }
}
