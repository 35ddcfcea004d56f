//! What the scheduler caches per pod (`scheduler.go: updateCachedPodData`; design §2.5).

use crate::labels::{self, Sym};
use crate::model::{NodeSelectorTerm, Pod};
use crate::requirements::Requirements;
use crate::resources::Resources;

/// Requests (with `pods: 1`), requirements (with the heaviest preferred node-affinity term treated as
/// required unless preferences are ignored) and strict requirements (without it; used for topology
/// so that preferences never narrow topology domains).
#[derive(Debug, Clone)]
pub struct PodData {
    pub requests: Resources,
    pub requirements: Requirements,
    pub strict: Requirements,
    /// The volume topology alternatives (`PodData.VolumeRequirements`): added to a node's
    /// requirements only, never to the pod's (empty: none).
    pub volumes: Vec<Requirements>,
}

fn term_requirements(term: &NodeSelectorTerm) -> Result<Requirements, String> {
    Requirements::from_node_selector(&term.match_expressions).map_err(|e| e.to_string())
}

/// `newPodRequirements` (§2.5): nodeSelector ∩ heaviest preferred term (if `include_preferences`) ∩
/// the FIRST required term. Other required terms are reached only by relaxation.
pub fn pod_requirements(pod: &Pod, include_preferences: bool) -> Result<Requirements, String> {
    let mut r = Requirements::from_labels(pod.node_selector.iter());
    if include_preferences && !pod.affinity.node_preferred.is_empty() {
        // sort by weight descending, stable (preferences.go sorts in place the same way)
        let heaviest = pod.affinity.node_preferred.iter().enumerate().max_by(|(ia, a), (ib, b)| a.weight.cmp(&b.weight).then(ib.cmp(ia)));
        if let Some((_, t)) = heaviest {
            r.add_all(&term_requirements(&t.term)?);
        }
    }
    if let Some(first) = pod.affinity.node_required.first() {
        r.add_all(&term_requirements(first)?);
    }
    Ok(r)
}

impl PodData {
    pub fn new(pod: &Pod, respect_preferences: bool) -> Result<PodData, String> {
        let requirements = pod_requirements(pod, respect_preferences)?;
        let strict = if respect_preferences && !pod.affinity.node_preferred.is_empty() {
            pod_requirements(pod, false)?
        } else {
            requirements.clone()
        };
        let mut requests = pod.requests.clone();
        requests.pods = 1; // RequestsForPods: every pod counts one against `pods`
        let volumes = super::volumes::alternatives(pod)?;
        Ok(PodData { requests, requirements, strict, volumes })
    }
}

/// Pods the provisioner ignores (`provisioner.go: Validate` → `v1.ValidateRequirement`), or does not
/// try to place (Dynamic Resource Allocation claims): returns why.
pub fn validate_for_provisioning(pod: &Pod) -> Option<String> {
    validate_with(pod, pod_requirements(pod, true).as_ref().ok())
}

/// [`validate_for_provisioning`] with the pod's `pod_requirements(pod, true)` already computed
/// (`None` when they do not parse): the scheduler has them in the pod's data when it respects
/// preferences, and computing them a second time for every pod of every run showed in a profile.
pub(crate) fn validate_with(pod: &Pod, with_preferences: Option<&Requirements>) -> Option<String> {
    // scheduler.go: add returns a DRAError for such pods while IGNORE_DRA_REQUESTS is true (the
    // default): they stay pending
    if pod.resource_claims {
        return Some(
            "the pod has Dynamic Resource Allocation claims, which Karpenter does not provision for (IGNORE_DRA_REQUESTS=true, its default)"
                .into(),
        );
    }
    // provisioner.go: Validate = validateKarpenterManagedLabelCanExist, validateNodeSelector and
    // validateAffinity (required terms only; preferences are not validated), each requirement
    // through `v1.ValidateRequirement`
    let check = |key: Sym, op: &str, values: &[String], r#where: &str| -> Option<String> {
        if labels::is_restricted(key.as_str()) {
            return Some(format!("{where} uses the restricted label {key}; Karpenter ignores such pods"));
        }
        // validateWellKnownValues: an `In` on a key with well-known values needs one of them
        if key == *labels::CAPACITY_TYPE && op == "In" && !values.iter().any(|v| labels::CAPACITY_TYPES.contains(&v.as_str())) {
            return Some(format!(
                "{where} asks for {key} In [{}], none of the known values ({}); Karpenter ignores such pods",
                values.join(", "),
                labels::CAPACITY_TYPES.join(", ")
            ));
        }
        None
    };
    for (k, v) in &pod.node_selector {
        if let Some(e) = check(*k, "In", &[v.to_string()], "nodeSelector") {
            return Some(e);
        }
    }
    for (i, t) in pod.affinity.node_required.iter().enumerate() {
        if t.match_fields {
            return Some(format!("required node affinity term {i} has matchFields, which Karpenter does not support; it ignores such pods"));
        }
        for e in &t.match_expressions {
            if let Some(m) = check(e.key, &e.operator, &e.values, &format!("required node affinity term {i}")) {
                return Some(m);
            }
        }
    }
    // validateKarpenterManagedLabelCanExist reads NewPodRequirements: the node selector, the
    // heaviest preferred term and the first required term together
    if let Some(r) = with_preferences
        && r.get(*labels::NODEPOOL).is_some_and(|r| r.operator() == crate::requirements::Operator::DoesNotExist)
    {
        return Some(format!("the pod requires {} DoesNotExist (not to run on a Karpenter node); Karpenter ignores such pods", *labels::NODEPOOL));
    }
    None
}
