//! What happens to a pod when its node goes, as Karpenter decides it (`pkg/utils/pod/scheduling.go`,
//! `pkg/utils/pdb/pdb.go`, `pkg/utils/disruption/disruption.go`; design §1.8, §5.2, §5.3): eviction
//! costs, `karpenter.sh/do-not-disrupt`, PodDisruptionBudgets. Shared by the provisioner (pods of
//! nodes being deleted) and the disruption logic.

use crate::labels::Sym;
use crate::model::{IntOrPercent, Pod, PodDisruptionBudget, Taint, TaintEffect, Timestamp};

pub const DO_NOT_DISRUPT: &str = crate::model::DO_NOT_DISRUPT_ANNOTATION;

/// `EvictionCost`: clamp(1 + deletion-cost/2^27 + priority/2^25, -10, 10).
pub fn eviction_cost(p: &Pod) -> f64 {
    let mut c = 1.0;
    if let Some(v) = p.annotations.deletion_cost().and_then(|v| v.parse::<f64>().ok()) {
        c += v / 2f64.powi(27);
    }
    c += f64::from(p.priority) / 2f64.powi(25);
    c.clamp(-10.0, 10.0)
}

/// `do-not-disrupt` on a pod: "true", or a Go duration not yet elapsed since the pod started.
pub fn pod_do_not_disrupt(p: &Pod, now: Timestamp) -> bool {
    match p.annotations.do_not_disrupt() {
        Some("true") => true,
        Some(d) => match crate::io::parse_duration(d).ok() {
            Some(secs) if secs > 0 => p.start_time.is_none_or(|s| now - s < secs),
            _ => false,
        },
        None => false,
    }
}

/// Evictable (`pkg/utils/pod/scheduling.go: IsEvictable`, §1.8): active, not tolerating the
/// `karpenter.sh/disrupted:NoSchedule` taint (such pods are not evicted when the node drains), not
/// a mirror pod, no do-not-disrupt. PDBs apply to these, DaemonSet pods included.
pub fn evictable(p: &Pod, now: Timestamp) -> bool {
    p.is_active() && !tolerates_disrupted_taint(p) && !p.is_mirror() && !pod_do_not_disrupt(p, now)
}

/// `ToleratesDisruptedNoScheduleTaint`: the pod tolerates `karpenter.sh/disrupted:NoSchedule`.
fn tolerates_disrupted_taint(p: &Pod) -> bool {
    if p.tolerations.is_empty() {
        return false;
    }
    // interned once: every candidate's every pod is asked each disruption round
    static TAINT: std::sync::LazyLock<Taint> = std::sync::LazyLock::new(|| Taint {
        key: Sym::new("karpenter.sh/disrupted"),
        value: Sym::new(""),
        effect: TaintEffect::NoSchedule,
    });
    p.tolerations.iter().any(|t| crate::taints::tolerates(t, &TAINT))
}

/// Disruptions each PDB allows now, computed as the disruption controller does from the pods it
/// selects: healthy (Ready) pods minus the pods that must stay healthy. The expected count is the
/// number of selected pods (controllers' scale is not modelled).
pub fn pdb_allowed<'a>(pdb: &PodDisruptionBudget, pods: impl IntoIterator<Item = &'a Pod>) -> i64 {
    let Some(sel) = &pdb.selector else { return i64::MAX };
    let selected: Vec<&Pod> = pods.into_iter().filter(|p| p.namespace == pdb.namespace && p.is_active() && sel.matches(&p.labels)).collect();
    let expected = selected.len() as i64;
    let healthy = selected.iter().filter(|p| p.ready).count() as i64;
    let scaled = |v: IntOrPercent| match v {
        IntOrPercent::Int(n) => n,
        IntOrPercent::Percent(pct) => (pct * expected + 99) / 100,
    };
    let desired = match (pdb.min_available, pdb.max_unavailable) {
        (Some(m), _) => scaled(m),
        (None, Some(u)) => (expected - scaled(u)).max(0),
        (None, None) => return i64::MAX,
    };
    (healthy - desired).max(0)
}

/// A PDB that blocks every eviction outright (`maxUnavailable: 0`/`"0%"` or `minAvailable: "100%"`):
/// such pods are not even moved in simulations.
pub fn pdb_fully_blocks(pdb: &PodDisruptionBudget) -> bool {
    matches!(pdb.max_unavailable, Some(IntOrPercent::Int(0)) | Some(IntOrPercent::Percent(0)))
        || matches!(pdb.min_available, Some(IntOrPercent::Percent(100)))
}

pub fn matching_pdbs<'a>(p: &Pod, pdbs: &'a [PodDisruptionBudget]) -> Vec<&'a PodDisruptionBudget> {
    matching_pdb_indices(p, pdbs).map(|i| &pdbs[i]).collect()
}

/// The positions in `pdbs` of the PDBs that select `p`, in order.
pub fn matching_pdb_indices<'a>(p: &'a Pod, pdbs: &'a [PodDisruptionBudget]) -> impl Iterator<Item = usize> + 'a {
    pdbs.iter().enumerate().filter(|(_, b)| b.namespace == p.namespace && b.selector.as_ref().is_some_and(|s| s.matches(&p.labels))).map(|(i, _)| i)
}

/// `pdb.Limits.isFullyBlocked`: an evictable pod that more than one PDB selects (Kubernetes cannot
/// evict it), or that a PDB forbidding every eviction (`maxUnavailable: 0`/`"0%"`, `minAvailable:
/// "100%"`) selects, unless the pod is not Ready and the PDB lets unhealthy pods go.
pub fn fully_blocked(p: &Pod, pdbs: &[PodDisruptionBudget], now: Timestamp) -> bool {
    // without PDBs nothing blocks (asked for every pod of every candidate, every round)
    if pdbs.is_empty() || !evictable(p, now) {
        return false;
    }
    let matched = matching_pdbs(p, pdbs);
    matched.len() > 1 || matched.iter().any(|b| pdb_fully_blocks(b) && (!b.unhealthy_always_allow || p.ready))
}

/// `IsCurrentlyReschedulable`: a pod of a node going away that Karpenter makes room for now:
/// reschedulable, not protected by `do-not-disrupt`, not fully blocked by PDBs.
pub fn currently_reschedulable(p: &Pod, pdbs: &[PodDisruptionBudget], now: Timestamp) -> bool {
    p.is_reschedulable() && !(p.is_active() && pod_do_not_disrupt(p, now)) && !fully_blocked(p, pdbs, now)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::PodAnnotations;
    use crate::resources::Resources;
    use std::collections::BTreeMap;

    /// Disruption reads do-not-disrupt and the deletion cost from the flags kept with the map:
    /// they must agree with the map whichever way it was written.
    #[test]
    fn do_not_disrupt_and_deletion_cost_are_read_however_they_are_written() {
        let mut p = Pod::new("default", "web", Resources::new());
        assert_eq!((p.annotations.do_not_disrupt(), p.annotations.deletion_cost()), (None, None));
        assert!(!pod_do_not_disrupt(&p, 0));
        p.annotations.insert(DO_NOT_DISRUPT.into(), "true".into());
        p.annotations.insert(crate::model::DELETION_COST_ANNOTATION.into(), "134217728".into());
        assert!(pod_do_not_disrupt(&p, 0));
        assert_eq!(eviction_cost(&p), 2.0, "1 + 2^27 / 2^27");
        let read = PodAnnotations::from(BTreeMap::from([(crate::model::DELETION_COST_ANNOTATION.to_string(), "-5".to_string())]));
        assert_eq!((read.do_not_disrupt(), read.deletion_cost(), read.mirror()), (None, Some("-5"), false));
        let round_trip: PodAnnotations = serde_json::from_str(&serde_json::to_string(&*p.annotations).unwrap()).unwrap();
        assert_eq!((round_trip.do_not_disrupt(), round_trip.deletion_cost()), (Some("true"), Some("134217728")));
    }
}
