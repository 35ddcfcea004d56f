//! Disruption candidates: which nodes may be disrupted, their price and disruption costs
//! (`disruption/types.go: NewCandidate`, `state/statenode.go: ValidateNodeDisruptable`,
//! `ValidatePodsDisruptable`, `utils/disruption/disruption.go`; design §5.2, §5.3).

use super::drift;
use crate::eviction::{DO_NOT_DISRUPT, evictable, eviction_cost, matching_pdb_indices, pdb_allowed, pod_do_not_disrupt};
use crate::labels::{Sym, SymMap};
use crate::model::{Node, NodePool, Pod, Timestamp};
use crate::state::{ClusterState, TypeInfo};

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
    // one candidate per node at most: sized once, not grown (a candidate is large)
    let mut out = Vec::with_capacity(state.nodes.len());
    let mut kept = Vec::new();
    let none = Vec::new();
    let (mut costs, mut reschedulable_costs): (Vec<f64>, Vec<f64>) = (Vec::new(), Vec::new());
    let pool_reqs: Vec<Option<std::sync::Arc<crate::requirements::Requirements>>> = state.nodepools.iter().map(drift::pool_requirements).collect();
    // each PDB's allowed disruptions, worked out the first time a pod it selects asks: it counts
    // the pods the PDB selects among all of the state's, which do not change while candidates are
    // built (once per pod was quadratic in the pods a PDB covers)
    let mut pdb_allows: Vec<Option<i64>> = vec![None; state.pdbs.len()];
    // each pool's types by name (the first of a name, as a scan finds it), built once per pool
    // rather than scanning the catalog for every node
    let mut types_by_name: SymMap<SymMap<&TypeInfo>> = SymMap::default();
    for node in &state.nodes {
        let Some(pool_name) = node.nodepool else {
            // `NewCandidate`: "node isn't managed by karpenter" (no NodeClaim, or no NodePool label)
            let why = if node.labels.contains_key(&*crate::labels::NODEPOOL) { "no NodeClaim in the inputs" } else { "no karpenter.sh/nodepool label" };
            kept.push((node.name, format!("not managed by Karpenter ({why})")));
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
            let mut matched = matching_pdb_indices(p, &state.pdbs);
            let first = matched.next();
            if matched.next().is_some() {
                pod_block = Some(format!("pod {} is selected by more than one PodDisruptionBudget", p.key()));
                break;
            }
            if let Some((i, b)) = first.map(|i| (i, &state.pdbs[i]))
                && *pdb_allows[i].get_or_insert_with(|| pdb_allowed(b, &state.pods)) == 0
                && (!b.unhealthy_always_allow || p.ready)
            {
                pod_block = Some(format!("PodDisruptionBudget {}/{} allows no disruption of pod {}", b.namespace, b.name, p.key()));
                break;
            }
        }
        // each pod's eviction cost once (both sums below read it), the sums in the same order
        costs.clear();
        costs.extend(pods.iter().map(|p| eviction_cost(p)));
        let mut reschedulable: Vec<&Pod> = Vec::with_capacity(pods.len());
        reschedulable_costs.clear();
        for (p, c) in pods.iter().zip(&costs) {
            if p.is_reschedulable() {
                reschedulable.push(*p);
                reschedulable_costs.push(c.max(0.0));
            }
        }
        let reschedule_cost = 1.0 + reschedulable_costs.iter().copied().sum::<f64>();
        let lifetime = match pool.expire_after {
            Some(e) if e > 0 => ((e - (now - node.creation_timestamp)) as f64 / e as f64).clamp(0.0, 1.0),
            _ => 1.0,
        };
        let disruption_cost = costs.iter().copied().sum::<f64>() * lifetime;
        let consolidatable = match pool.disruption.consolidate_after {
            None => false,
            Some(after) => now - last_pod_event(node, pods) >= after,
        };
        let by_name = types_by_name.entry(pool_name).or_insert_with(|| {
            let mut m = SymMap::default();
            for ti in types.map(|t| t.types.as_slice()).unwrap_or(&[]) {
                m.entry(ti.it.name).or_insert(ti);
            }
            m
        });
        let its_type = node.instance_type.and_then(|t| by_name.get(&t).copied());
        let instance_type_known = its_type.is_some();
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
            drifted: drift::drifted(node, pool, pool_reqs[pool_index].as_ref(), its_type, now),
            pod_block,
        });
    }
    (out, kept)
}
