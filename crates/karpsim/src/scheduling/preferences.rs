//! Preference relaxation (`scheduling/preferences.go`; design §3.5): each call removes exactly one
//! soft constraint, in Karpenter's fixed order, and says what it removed.

use crate::model::{Pod, UnsatisfiableAction};
use crate::taints;

/// Apply the first applicable relaxation step to `pod`; `None` when nothing is left to relax.
pub fn relax(pod: &mut Pod, tolerate_prefer_no_schedule: bool) -> Option<String> {
    let a = &mut pod.affinity;
    // 1. required node affinity: drop the first of several OR-ed terms (the last is never dropped)
    if a.node_required.len() > 1 {
        a.node_required.remove(0);
        return Some("removed the first required node-affinity term".into());
    }
    // 2. preferred pod affinity: drop the heaviest (stable sort by weight desc)
    if !a.pod_affinity_preferred.is_empty() {
        a.pod_affinity_preferred.sort_by_key(|x| std::cmp::Reverse(x.weight));
        let t = a.pod_affinity_preferred.remove(0);
        return Some(format!("removed preferred pod affinity on {} (weight {})", t.term.topology_key, t.weight));
    }
    // 3. preferred pod anti-affinity
    if !a.pod_anti_affinity_preferred.is_empty() {
        a.pod_anti_affinity_preferred.sort_by_key(|x| std::cmp::Reverse(x.weight));
        let t = a.pod_anti_affinity_preferred.remove(0);
        return Some(format!("removed preferred pod anti-affinity on {} (weight {})", t.term.topology_key, t.weight));
    }
    // 4. preferred node affinity: drop the heaviest; the next heaviest becomes the one treated as required
    if !a.node_preferred.is_empty() {
        a.node_preferred.sort_by_key(|x| std::cmp::Reverse(x.weight));
        let t = a.node_preferred.remove(0);
        return Some(format!("removed preferred node affinity (weight {})", t.weight));
    }
    // 5. the first ScheduleAnyway spread constraint, removed by swap-with-last as Karpenter does
    if let Some(i) = pod.topology_spread.iter().position(|c| c.when_unsatisfiable == UnsatisfiableAction::ScheduleAnyway) {
        let c = pod.topology_spread.swap_remove(i);
        return Some(format!("removed ScheduleAnyway topology spread on {}", c.topology_key));
    }
    // 6. tolerate PreferNoSchedule taints, only if some NodePool has one
    if tolerate_prefer_no_schedule {
        let tol = taints::prefer_no_schedule_toleration();
        let already =
            pod.tolerations.iter().any(|t| t.key.is_none() && t.operator == tol.operator && (t.effect.is_none() || t.effect == tol.effect));
        if !already {
            pod.tolerations.push(tol);
            return Some("added a toleration for PreferNoSchedule taints".into());
        }
    }
    None
}
