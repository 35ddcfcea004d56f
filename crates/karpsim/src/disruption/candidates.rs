//! Disruption candidates: which nodes may be disrupted, their price and disruption costs
//! (`disruption/types.go: NewCandidate`, `state/statenode.go: ValidateNodeDisruptable`,
//! `ValidatePodsDisruptable`, `utils/disruption/disruption.go`; design §5.2, §5.3).

use super::drift;
use crate::labels::{Sym, SymMap};
use crate::model::{IntOrPercent, Node, NodePool, Pod, PodDisruptionBudget, Taint, TaintEffect, Timestamp};
use crate::state::ClusterState;

pub const DO_NOT_DISRUPT: &str = "karpenter.sh/do-not-disrupt";
const DELETION_COST: &str = "controller.kubernetes.io/pod-deletion-cost";

/// `EvictionCost`: clamp(1 + deletion-cost/2^27 + priority/2^25, -10, 10).
pub fn eviction_cost(p: &Pod) -> f64 {
    let mut c = 1.0;
    if let Some(v) = p.annotations.get(DELETION_COST).and_then(|v| v.parse::<f64>().ok()) {
        c += v / 2f64.powi(27);
    }
    c += f64::from(p.priority) / 2f64.powi(25);
    c.clamp(-10.0, 10.0)
}

/// `do-not-disrupt` on a pod: "true", or a Go duration not yet elapsed since the pod started.
pub fn pod_do_not_disrupt(p: &Pod, now: Timestamp) -> bool {
    match p.annotations.get(DO_NOT_DISRUPT).map(String::as_str) {
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
fn evictable(p: &Pod, now: Timestamp) -> bool {
    p.is_active() && !tolerates_disrupted_taint(p) && !p.is_mirror() && !pod_do_not_disrupt(p, now)
}

/// `ToleratesDisruptedNoScheduleTaint`: the pod tolerates `karpenter.sh/disrupted:NoSchedule`.
fn tolerates_disrupted_taint(p: &Pod) -> bool {
    let taint = Taint { key: Sym::new("karpenter.sh/disrupted"), value: Sym::new(""), effect: TaintEffect::NoSchedule };
    p.tolerations.iter().any(|t| crate::taints::tolerates(t, &taint))
}

/// Disruptions each PDB allows now, computed as the disruption controller does from the pods it
/// selects: healthy (Ready) pods minus the pods that must stay healthy. The expected count is the
/// number of selected pods (controllers' scale is not modelled).
pub fn pdb_allowed(pdb: &PodDisruptionBudget, pods: &[Pod]) -> i64 {
    let Some(sel) = &pdb.selector else { return i64::MAX };
    let selected: Vec<&Pod> = pods.iter().filter(|p| p.namespace == pdb.namespace && p.is_active() && sel.matches(&p.labels)).collect();
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
    pdbs.iter().filter(|b| b.namespace == p.namespace && b.selector.as_ref().is_some_and(|s| s.matches(&p.labels))).collect()
}

/// A node that may be disrupted, with what the methods need.
#[derive(Debug, Clone)]
pub struct Candidate<'a> {
    pub node: &'a Node,
    pub pool: &'a NodePool,
    pub price: f64,
    pub capacity_type: Option<Sym>,
    pub zone: Option<Sym>,
    pub instance_type_known: bool,
    /// Pods that must move if the node goes.
    pub reschedulable: Vec<&'a Pod>,
    pub reschedule_cost: f64,
    /// ≤ v1.13 sort key: Σ eviction cost of all pods × lifetime remaining.
    pub disruption_cost: f64,
    /// Quiet for `consolidateAfter` since the last pod event.
    pub consolidatable: bool,
    /// Why the node is drifted, if it is.
    pub drifted: Option<String>,
    /// Pod-level blocks (do-not-disrupt, PDB) that only drift with a terminationGracePeriod ignores.
    pub pod_block: Option<String>,
}

impl Candidate<'_> {
    /// v1.14 `IsEmpty`: no reschedulable pod with a positive eviction cost.
    pub fn is_empty(&self) -> bool {
        self.reschedule_cost <= 1.0
    }
    pub fn savings_ratio(&self) -> f64 {
        self.price / self.reschedule_cost
    }
    pub fn name(&self) -> Sym {
        self.node.name
    }
}

/// The node's last pod event: the latest start/creation of a non-DaemonSet pod on it, or the node's
/// own creation (standing in for the Initialized transition).
pub fn last_pod_event(node: &Node, pods: &[&Pod]) -> Timestamp {
    node.last_pod_event.unwrap_or_else(|| {
        pods.iter()
            .filter(|p| !p.is_daemonset_pod())
            .map(|p| p.start_time.unwrap_or(p.creation_timestamp))
            .fold(node.creation_timestamp, i64::max)
    })
}

/// Every managed node, as a candidate or with the reason it cannot be one.
pub fn build<'a>(
    state: &'a ClusterState,
    pods_by_node: &SymMap<Vec<&'a Pod>>,
    now: Timestamp,
) -> (Vec<Candidate<'a>>, Vec<(Sym, String)>) {
    let mut out = Vec::new();
    let mut kept = Vec::new();
    let none = Vec::new();
    let pool_reqs: Vec<Option<crate::requirements::Requirements>> =
        state.nodepools.iter().map(|p| crate::requirements::Requirements::from_node_selector(&p.requirements).ok()).collect();
    for node in &state.nodes {
        let Some(pool_name) = node.nodepool else {
            kept.push((node.name, "not managed by Karpenter (no karpenter.sh/nodepool label)".to_string()));
            continue;
        };
        if !node.initialized {
            kept.push((node.name, "not initialized".into()));
            continue;
        }
        if node.deletion_timestamp.is_some() {
            kept.push((node.name, "already being deleted".into()));
            continue;
        }
        if node.annotations.get(DO_NOT_DISRUPT).is_some_and(|v| v == "true") {
            kept.push((node.name, "node has karpenter.sh/do-not-disrupt=true".into()));
            continue;
        }
        let Some((pool_index, pool)) = state.nodepools.iter().enumerate().find(|(_, p)| p.name == pool_name) else {
            kept.push((node.name, format!("NodePool {pool_name} not found")));
            continue;
        };
        if let Some(why) = state.unready_nodepools.get(&pool_name) {
            kept.push((node.name, format!("NodePool {pool_name} is not ready: {why}")));
            continue;
        }
        let types = state.pool_types.get(&pool_name);
        if types.is_none_or(|t| t.types.is_empty()) {
            kept.push((node.name, format!("NodePool {pool_name} has no instance types")));
            continue;
        }
        let pods = pods_by_node.get(&node.name).unwrap_or(&none);
        let mut pod_block = None;
        for p in pods {
            if p.is_active() && pod_do_not_disrupt(p, now) {
                pod_block = Some(format!("pod {} has karpenter.sh/do-not-disrupt", p.key()));
                break;
            }
            // `pdb.Limits.CanEvictPods` over every pod of the node: DaemonSet pods are not exempt
            if !evictable(p, now) {
                continue;
            }
            let matched = matching_pdbs(p, &state.pdbs);
            if matched.len() > 1 {
                pod_block = Some(format!("pod {} is selected by more than one PodDisruptionBudget", p.key()));
                break;
            }
            if let Some(b) = matched.first()
                && pdb_allowed(b, &state.pods) == 0
                && (!b.unhealthy_always_allow || p.ready)
            {
                pod_block = Some(format!("PodDisruptionBudget {}/{} allows no disruption of pod {}", b.namespace, b.name, p.key()));
                break;
            }
        }
        let reschedulable: Vec<&Pod> = pods.iter().copied().filter(|p| p.is_reschedulable()).collect();
        let reschedule_cost = 1.0 + reschedulable.iter().map(|p| eviction_cost(p).max(0.0)).sum::<f64>();
        let lifetime = match pool.expire_after {
            Some(e) if e > 0 => ((e - (now - node.creation_timestamp)) as f64 / e as f64).clamp(0.0, 1.0),
            _ => 1.0,
        };
        let disruption_cost = pods.iter().map(|p| eviction_cost(p)).sum::<f64>() * lifetime;
        let consolidatable = match pool.disruption.consolidate_after {
            None => false,
            Some(after) => now - last_pod_event(node, pods) >= after,
        };
        let instance_type_known = node.instance_type.is_some_and(|t| types.is_some_and(|pt| pt.types.iter().any(|x| x.it.name == t)));
        out.push(Candidate {
            node,
            pool,
            price: node.price.unwrap_or(0.0),
            capacity_type: node.capacity_type,
            zone: node.zone,
            instance_type_known,
            reschedulable,
            reschedule_cost,
            disruption_cost,
            consolidatable,
            drifted: drift::drifted(node, pool, pool_reqs[pool_index].as_ref(), types.map(|t| t.types.as_slice()).unwrap_or(&[]), now),
            pod_block,
        });
    }
    (out, kept)
}
