//! Taints and tolerations, with Kubernetes' matching rules (`ToleratesTaint`) and Karpenter's use of
//! them (`pkg/scheduling/taints.go`: every taint, PreferNoSchedule included, must be tolerated; §2.8).

use crate::labels::Sym;
use crate::model::{Taint, TaintEffect, Toleration, TolerationOperator};

/// Whether one toleration tolerates one taint.
pub fn tolerates(t: &Toleration, taint: &Taint) -> bool {
    if t.effect.is_some_and(|e| e != taint.effect) {
        return false;
    }
    match t.key {
        // An empty key with Exists matches every taint (validation forbids it with Equal).
        None => t.operator == TolerationOperator::Exists,
        Some(k) if k != taint.key => false,
        Some(_) => match t.operator {
            TolerationOperator::Exists => true,
            TolerationOperator::Equal => t.value.as_deref().unwrap_or("") == taint.value.as_str(),
            TolerationOperator::Gt | TolerationOperator::Lt => {
                let (Some(tv), Ok(taint_v)) = (t.value.as_deref().and_then(|v| v.parse::<i64>().ok()), taint.value.as_str().parse::<i64>())
                else {
                    return false;
                };
                if t.operator == TolerationOperator::Gt { taint_v > tv } else { taint_v < tv }
            }
        },
    }
}

/// The first taint of `taints` that no toleration tolerates (Karpenter's `ToleratesPod`).
pub fn first_untolerated<'a>(taints: &'a [Taint], tolerations: &[Toleration]) -> Option<&'a Taint> {
    taints.iter().find(|taint| !tolerations.iter().any(|t| tolerates(t, taint)))
}

/// The blanket toleration relaxation adds for PreferNoSchedule taints (§3.5 step 6).
pub fn prefer_no_schedule_toleration() -> Toleration {
    Toleration { key: None, operator: TolerationOperator::Exists, value: None, effect: Some(TaintEffect::PreferNoSchedule), toleration_seconds: None }
}

/// Taints Karpenter ignores on a managed node that is not yet initialized (`statenode.go: Taints`).
pub fn is_ephemeral_startup_taint(taint: &Taint) -> bool {
    let k = taint.key.as_str();
    (k == "node.kubernetes.io/not-ready" && matches!(taint.effect, TaintEffect::NoSchedule | TaintEffect::NoExecute))
        || (k == "node.kubernetes.io/unreachable" && taint.effect == TaintEffect::NoSchedule)
        || (k == "node.cloudprovider.kubernetes.io/uninitialized" && taint.value == Sym::new("true") && taint.effect == TaintEffect::NoSchedule)
        || (k == "karpenter.sh/unregistered" && taint.effect == TaintEffect::NoExecute)
        || k.starts_with("readiness.k8s.io/")
}

impl std::fmt::Display for Taint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.value.as_str().is_empty() {
            write!(f, "{}:{:?}", self.key, self.effect)
        } else {
            write!(f, "{}={}:{:?}", self.key, self.value, self.effect)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn taint(k: &str, v: &str, e: TaintEffect) -> Taint {
        Taint { key: Sym::new(k), value: Sym::new(v), effect: e }
    }
    fn tol(k: Option<&str>, op: TolerationOperator, v: Option<&str>, e: Option<TaintEffect>) -> Toleration {
        Toleration { key: k.map(Sym::new), operator: op, value: v.map(String::from), effect: e, toleration_seconds: None }
    }

    #[test]
    fn matching_rules() {
        use TaintEffect::*;
        use TolerationOperator::*;
        let t = taint("dedicated", "gpu", NoSchedule);
        assert!(tolerates(&tol(Some("dedicated"), Equal, Some("gpu"), Some(NoSchedule)), &t));
        assert!(tolerates(&tol(Some("dedicated"), Equal, Some("gpu"), None), &t), "no effect tolerates all effects");
        assert!(!tolerates(&tol(Some("dedicated"), Equal, Some("cpu"), None), &t));
        assert!(!tolerates(&tol(Some("dedicated"), Equal, Some("gpu"), Some(NoExecute)), &t));
        assert!(tolerates(&tol(Some("dedicated"), Exists, None, None), &t));
        assert!(tolerates(&tol(None, Exists, None, None), &t), "empty key + Exists tolerates everything");
        assert!(!tolerates(&tol(Some("other"), Exists, None, None), &t));
        let n = taint("level", "5", NoSchedule);
        assert!(tolerates(&tol(Some("level"), Gt, Some("3"), None), &n));
        assert!(!tolerates(&tol(Some("level"), Lt, Some("3"), None), &n));
    }

    #[test]
    fn prefer_no_schedule_is_hard_until_relaxed() {
        let taints = vec![taint("spot", "", TaintEffect::PreferNoSchedule)];
        assert!(first_untolerated(&taints, &[]).is_some());
        assert!(first_untolerated(&taints, &[prefer_no_schedule_toleration()]).is_none());
    }
}
