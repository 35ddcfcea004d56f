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

/// Pods the provisioner ignores (`provisioner.go: Validate` → `v1.ValidateRequirement`): returns why.
pub fn validate_for_provisioning(pod: &Pod) -> Option<String> {
    let check = |key: Sym, op: &str, r#where: &str| -> Option<String> {
        if labels::is_restricted(key.as_str()) {
            return Some(format!("{where} uses the restricted label {key}; Karpenter ignores such pods"));
        }
        if key == *labels::NODEPOOL && op == "DoesNotExist" {
            return Some(format!("{where} requires {key} DoesNotExist; Karpenter ignores such pods"));
        }
        None
    };
    for k in pod.node_selector.keys() {
        if let Some(e) = check(*k, "In", "nodeSelector") {
            return Some(e);
        }
    }
    for (i, t) in pod.affinity.node_required.iter().enumerate() {
        for e in &t.match_expressions {
            if let Some(m) = check(e.key, &e.operator, &format!("required node affinity term {i}")) {
                return Some(m);
            }
        }
    }
    for t in &pod.affinity.node_preferred {
        for e in &t.term.match_expressions {
            if let Some(m) = check(e.key, &e.operator, "preferred node affinity") {
                return Some(m);
            }
        }
    }
    None
}
