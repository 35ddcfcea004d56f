//! Disruption candidates: which nodes may be disrupted, their price and disruption costs
//! (`disruption/types.go: NewCandidate`, `state/statenode.go: ValidateNodeDisruptable`,
//! `ValidatePodsDisruptable`, `utils/disruption/disruption.go`; design §5.2, §5.3).
//!
//! What a node and its pods give apart from the simulated time ([`NodeFacts`]) can be kept from
//! one round to the next ([`FactsByNode`], `disruption/kept.rs`); the time-dependent parts (lifetime left,
//! quiet for `consolidateAfter`, the hour before `InstanceTypeNotFound`, do-not-disrupt durations,
//! PDBs) are worked out at every round from them.

use super::drift;
use super::quick_index::{Marks, QuickIndex};
use crate::eviction::{DO_NOT_DISRUPT, evictable, eviction_cost, matching_pdb_indices, pdb_allowed, pod_do_not_disrupt};
use crate::labels::{Sym, SymMap};
use crate::model::{Node, NodePool, Pod, Timestamp};
use crate::requirements::Requirements;
use crate::scheduling::BoundPods;
use crate::state::ClusterState;
use std::borrow::Cow;
use std::sync::Arc;

/// A node that may be disrupted, with what the methods need.
#[derive(Debug, Clone)]
pub struct Candidate<'a> {
    pub node: &'a Node,
    pub pool: &'a NodePool,
    pub price: f64,
    pub capacity_type: Option<Sym>,
    pub zone: Option<Sym>,
    pub instance_type_known: bool,
    /// Pods that must move if the node goes: the node's own list of pods (the round's
    /// [`crate::scheduling::bound_pods_by_node`], which outlives the candidates) when every one of
    /// them must move, as on most nodes, and a list of its own otherwise (a list per candidate,
    /// allocated and freed at every round, was a twentieth of a drifted cluster's rounds).
    pub reschedulable: Cow<'a, [&'a Pod]>,
    pub reschedule_cost: f64,
    /// ≤ v1.13 sort key: Σ eviction cost of all pods × lifetime remaining.
    pub disruption_cost: f64,
    /// Quiet for `consolidateAfter` since the last pod event.
    pub consolidatable: bool,
    /// Why the node is drifted, if it is (shared with the kept facts: a drifted cluster's rounds
    /// hand every node's reason on, round after round).
    pub drifted: Option<Arc<str>>,
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

/// What a round derives from one node and the pods bound to it, whatever the simulated time: a
/// function of the node, its pods (in the state's order), its NodePool and the pool's instance
/// types. Kept across until-stable rounds for the nodes a command did not touch.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum NodeFacts {
    /// Not a candidate, and why.
    Kept(String),
    Candidate(CandidateFacts),
}

#[derive(Debug, Clone, PartialEq)]
pub(super) struct CandidateFacts {
    /// Its NodePool's position in the state's.
    pool_index: usize,
    /// The pool's instance type named like the node's (the first of that name), by position.
    its_type: Option<usize>,
    /// Σ eviction cost of every pod, summed in the pods' order.
    cost_sum: f64,
    /// 1 + Σ eviction cost (floored at 0) of the reschedulable pods.
    reschedule_cost: f64,
    /// A pod must move if the node goes (the candidate's reschedulable pods are not none).
    movable: bool,
    last_pod_event: Timestamp,
    /// The pod block, when it cannot depend on the time or on other nodes' pods (no PDB in the
    /// state and no pod with a do-not-disrupt annotation: then there is none); `None`: worked out
    /// at every round.
    pod_block: Option<Option<String>>,
    /// The drift verdict of a node younger than an hour (`[0]`) and older (`[1]`): the only way
    /// drift depends on the time (`InstanceTypeNotFound`); each worked out when first asked.
    drift: [Option<Option<Arc<str>>>; 2],
}

/// Each node's [`NodeFacts`] by name (until-stable keeps them from round to round), and, when
/// asked for ([`FactsByNode::with_quick_index`]), the [`QuickIndex`] of the nodes a quick round
/// reads, kept with them.
#[derive(Default)]
pub(super) struct FactsByNode {
    pub(super) by_node: SymMap<NodeFacts>,
    pub(super) index: Option<QuickIndex>,
    /// [`BuildCtx`]'s types by name, kept with the facts: a function of the pools' instance types,
    /// which the facts' positions in them already assume unchanged until [`FactsByNode::clear`]
    /// (a quick round makes the facts of a few nodes, and mapping a pool's 400 types for them
    /// was most of its cost).
    pub(super) types_by_name: SymMap<SymMap<usize>>,
}

impl FactsByNode {
    /// Facts that also index the nodes a quick round reads (until-stable's: every change of its
    /// state is reported to [`FactsByNode::forget`], so the index can say which nodes to look at).
    pub(super) fn with_quick_index() -> FactsByNode {
        FactsByNode { index: Some(QuickIndex::default()), ..FactsByNode::default() }
    }

    /// The facts of `node`, made (and indexed) when not kept.
    pub(super) fn entry(&mut self, node: &Node, pods: &[&Pod], ctx: &mut BuildCtx) -> &mut NodeFacts {
        match self.by_node.entry(node.name) {
            std::collections::hash_map::Entry::Occupied(o) => o.into_mut(),
            std::collections::hash_map::Entry::Vacant(v) => {
                let mut facts = ctx.facts(node, pods);
                if let Some(index) = &mut self.index {
                    index.count(node);
                    if let NodeFacts::Candidate(f) = &mut facts {
                        index.add(node.name, ctx.marks(node, f));
                    }
                }
                v.insert(facts)
            }
        }
    }

    /// Forget `node`: its record or its pods changed.
    pub(super) fn forget(&mut self, node: Sym) {
        self.by_node.remove(&node);
        if let Some(index) = &mut self.index {
            index.forget(node);
        }
    }

    /// Note where a command left the nodes it gave pods, for the index ([`QuickIndex::near`]).
    pub(super) fn near(&mut self, positions: &[usize]) {
        if let Some(index) = &mut self.index {
            index.near(positions);
        }
    }

    pub(super) fn clear(&mut self) {
        self.by_node.clear();
        self.types_by_name.clear();
        if let Some(index) = &mut self.index {
            *index = QuickIndex::default();
        }
    }
}

/// What [`build`] works out at most once per build, whatever the nodes.
pub(super) struct BuildCtx<'a> {
    pool_reqs: Vec<Option<Arc<Requirements>>>,
    /// Each PDB's allowed disruptions, worked out the first time a pod it selects asks: it counts
    /// the pods the PDB selects among all of the state's, which do not change while candidates are
    /// built (once per pod was quadratic in the pods a PDB covers).
    pdb_allows: Vec<Option<i64>>,
    /// Each pool's types by name (the first of a name, as a scan finds it, by position), built once
    /// per pool rather than scanning the catalog for every node.
    pub(super) types_by_name: SymMap<SymMap<usize>>,
    pub(super) state: &'a ClusterState,
}

impl<'s> BuildCtx<'s> {
    pub(super) fn new(state: &'s ClusterState) -> BuildCtx<'s> {
        BuildCtx {
            pool_reqs: state.nodepools.iter().map(drift::pool_requirements).collect(),
            pdb_allows: vec![None; state.pdbs.len()],
            types_by_name: SymMap::default(),
            state,
        }
    }

    pub(super) fn facts(&mut self, node: &Node, pods: &[&Pod]) -> NodeFacts {
        let state = self.state;
        let Some(pool_name) = node.nodepool else {
            // `NewCandidate`: "node isn't managed by karpenter" (no NodeClaim, or no NodePool label)
            let why = if node.labels.contains_key(&*crate::labels::NODEPOOL) { "no NodeClaim in the inputs" } else { "no karpenter.sh/nodepool label" };
            return NodeFacts::Kept(format!("not managed by Karpenter ({why})"));
        };
        if !node.initialized {
            return NodeFacts::Kept("not initialized".into());
        }
        if node.deletion_timestamp.is_some() {
            return NodeFacts::Kept("already being deleted".into());
        }
        if node.annotations.get(DO_NOT_DISRUPT).is_some_and(|v| v == "true") {
            return NodeFacts::Kept("node has karpenter.sh/do-not-disrupt=true".into());
        }
        let Some(pool_index) = state.nodepools.iter().position(|p| p.name == pool_name) else {
            return NodeFacts::Kept(format!("NodePool {pool_name} not found"));
        };
        if let Some(why) = state.unready_nodepools.get(&pool_name) {
            return NodeFacts::Kept(format!("NodePool {pool_name} is not ready: {why}"));
        }
        let types = state.pool_types.get(&pool_name).map(|t| t.types.as_slice()).unwrap_or(&[]);
        if types.is_empty() {
            return NodeFacts::Kept(format!("NodePool {pool_name} has no instance types"));
        }
        // each pod's eviction cost once (both sums below read it), the sums in the same order
        let costs: Vec<f64> = pods.iter().map(|p| eviction_cost(p)).collect();
        let reschedulable_costs: Vec<f64> = pods.iter().zip(&costs).filter(|(p, _)| p.is_reschedulable()).map(|(_, c)| c.max(0.0)).collect();
        let by_name = self.types_by_name.entry(pool_name).or_insert_with(|| crate::state::first_position_by_name(types.iter().map(|ti| ti.it.name)));
        let timeless_block = state.pdbs.is_empty() && pods.iter().all(|p| p.annotations.do_not_disrupt().is_none());
        NodeFacts::Candidate(CandidateFacts {
            pool_index,
            its_type: node.instance_type.and_then(|t| by_name.get(&t).copied()),
            cost_sum: costs.iter().copied().sum::<f64>(),
            reschedule_cost: 1.0 + reschedulable_costs.iter().copied().sum::<f64>(),
            movable: pods.iter().any(|p| p.is_reschedulable()),
            last_pod_event: last_pod_event(node, pods),
            pod_block: timeless_block.then_some(None),
            drift: [None, None],
        })
    }

    /// The pods' block at `now` (`ValidatePodsDisruptable`): a do-not-disrupt pod, or a PDB that
    /// allows no disruption of an evictable pod.
    fn pod_block(&mut self, pods: &[&Pod], now: Timestamp) -> Option<String> {
        let state = self.state;
        for p in pods {
            if p.is_active() && pod_do_not_disrupt(p, now) {
                return Some(format!("pod {} has karpenter.sh/do-not-disrupt", p.key()));
            }
            // `pdb.Limits.CanEvictPods` over every pod of the node: DaemonSet pods are not exempt
            if !evictable(p, now) {
                continue;
            }
            let mut matched = matching_pdb_indices(p, &state.pdbs);
            let first = matched.next();
            if matched.next().is_some() {
                return Some(format!("pod {} is selected by more than one PodDisruptionBudget", p.key()));
            }
            if let Some((i, b)) = first.map(|i| (i, &state.pdbs[i]))
                && *self.pdb_allows[i].get_or_insert_with(|| pdb_allowed(b, &state.pods)) == 0
                && (!b.unhealthy_always_allow || p.ready)
            {
                return Some(format!("PodDisruptionBudget {}/{} allows no disruption of pod {}", b.namespace, b.name, p.key()));
            }
        }
        None
    }

    /// Drift's verdict on `node` when younger than an hour (`old == 0`) or older (`1`), at any
    /// `now` of that age (the only way drift depends on the time), worked out once.
    fn drift_verdict(&self, node: &Node, f: &mut CandidateFacts, old: usize, now: Timestamp) -> Option<Arc<str>> {
        let state = self.state;
        let pool = &state.nodepools[f.pool_index];
        f.drift[old]
            .get_or_insert_with(|| {
                let its_type = f.its_type.and_then(|i| state.pool_types.get(&pool.name).map(|t| &t.types[i]));
                drift::drifted(node, pool, self.pool_reqs[f.pool_index].as_ref(), its_type, now).map(Arc::from)
            })
            .clone()
    }

    /// Where a quick round looks for `node` ([`Marks`]). Drifted when young means drifted when old
    /// (the checks of any age come first in [`drift::drifted`], and an hour adds one), so the
    /// verdict at an hour of age says whether drift may ever read it; one of a node created less
    /// than an hour before `i64::MAX` is never asked for.
    pub(super) fn marks(&self, node: &Node, f: &mut CandidateFacts) -> Marks {
        let pool = &self.state.nodepools[f.pool_index];
        let may_drift = self.drift_verdict(node, f, 1, node.creation_timestamp.saturating_add(3600)).is_some();
        let empty = f.reschedule_cost <= 1.0 && pool.disruption.consolidate_after.is_some();
        Marks {
            drift: (may_drift && pool.replicas.is_none()).then_some((f.movable, node.creation_timestamp)),
            expires_at: pool.expire_after.map(|e| node.creation_timestamp.saturating_add(e)),
            watched: empty || pool.replicas.is_some() || node.labels.contains_key(&*crate::labels::RESERVATION_ID),
        }
    }

    /// The candidate `facts` make of `node` at `now`.
    pub(super) fn candidate(&mut self, node: &'s Node, pods: &'s [&'s Pod], f: &mut CandidateFacts, now: Timestamp) -> Candidate<'s> {
        let state = self.state;
        let pool = &state.nodepools[f.pool_index];
        let pod_block = match &f.pod_block {
            Some(b) => b.clone(),
            None => self.pod_block(pods, now),
        };
        // the same pods in the same order either way
        let reschedulable = if pods.iter().all(|p| p.is_reschedulable()) {
            Cow::Borrowed(pods)
        } else {
            let mut own: Vec<&Pod> = Vec::with_capacity(pods.len());
            own.extend(pods.iter().copied().filter(|p| p.is_reschedulable()));
            Cow::Owned(own)
        };
        let lifetime = match pool.expire_after {
            Some(e) if e > 0 => ((e - (now - node.creation_timestamp)) as f64 / e as f64).clamp(0.0, 1.0),
            _ => 1.0,
        };
        let consolidatable = match pool.disruption.consolidate_after {
            None => false,
            Some(after) => now - f.last_pod_event >= after,
        };
        // `InstanceTypeNotFound` is only checked for NodeClaims older than an hour (drift.go)
        let old = usize::from(now - node.creation_timestamp >= 3600);
        let drifted = self.drift_verdict(node, f, old, now);
        Candidate {
            node,
            pool,
            price: node.price.unwrap_or(0.0),
            capacity_type: node.capacity_type,
            zone: node.zone,
            instance_type_known: f.its_type.is_some(),
            reschedulable,
            reschedule_cost: f.reschedule_cost,
            disruption_cost: f.cost_sum * lifetime,
            consolidatable,
            drifted,
            pod_block,
        }
    }
}

/// Every managed node, as a candidate or with the reason it cannot be one. With `kept`, each
/// node's [`NodeFacts`] are taken from it when there (the caller forgets the nodes its commands
/// changed) and stored in it otherwise; debug builds check the result against a build without it.
pub(super) fn build<'a>(
    state: &'a ClusterState,
    pods_by_node: &'a BoundPods<'a>,
    now: Timestamp,
    mut kept: Option<&mut FactsByNode>,
) -> (Vec<Candidate<'a>>, Vec<(Sym, String)>) {
    // one candidate per node at most: sized once, not grown (a candidate is large)
    let mut out = Vec::with_capacity(state.nodes.len());
    let mut kept_nodes = Vec::new();
    let mut ctx = BuildCtx::new(state);
    if let Some(k) = kept.as_deref_mut() {
        ctx.types_by_name = std::mem::take(&mut k.types_by_name);
    }
    let mut fresh;
    for node in &state.nodes {
        let pods: &'a [&'a Pod] = pods_by_node.get(&node.name).unwrap_or(&[]);
        let facts = match kept.as_deref_mut() {
            Some(k) => k.entry(node, pods, &mut ctx),
            None => {
                fresh = ctx.facts(node, pods);
                &mut fresh
            }
        };
        match facts {
            NodeFacts::Kept(why) => kept_nodes.push((node.name, why.clone())),
            NodeFacts::Candidate(f) => out.push(ctx.candidate(node, pods, f, now)),
        }
    }
    if let Some(k) = kept.as_deref_mut() {
        k.types_by_name = ctx.types_by_name;
    }
    if let Some(index) = kept.as_deref_mut().and_then(|k| k.index.as_mut()) {
        // every node of the state has facts now, and marks when a candidate
        index.complete();
    }
    if kept.is_some() && cfg!(debug_assertions) {
        // debug builds (the tests) check every round's kept facts against a fresh derivation
        let (again, why) = build(state, pods_by_node, now, None);
        assert_eq!(why, kept_nodes, "kept reasons of non-candidates are stale");
        assert_eq!(again.len(), out.len(), "kept facts give other candidates");
        for (a, b) in out.iter().zip(&again) {
            assert!(same_candidate(a, b), "kept facts of node {} are stale:\n{a:?}\nfresh:\n{b:?}", a.name());
        }
    }
    (out, kept_nodes)
}

/// Two candidates of the same state are the same: the same node, pool and pods (by address), the
/// same facts (costs bit for bit).
pub(super) fn same_candidate(a: &Candidate, b: &Candidate) -> bool {
    std::ptr::eq(a.node, b.node)
        && std::ptr::eq(a.pool, b.pool)
        && a.price.to_bits() == b.price.to_bits()
        && a.capacity_type == b.capacity_type
        && a.zone == b.zone
        && a.instance_type_known == b.instance_type_known
        && a.reschedulable.len() == b.reschedulable.len()
        && a.reschedulable.iter().zip(b.reschedulable.iter()).all(|(x, y)| std::ptr::eq(*x, *y))
        && a.reschedule_cost.to_bits() == b.reschedule_cost.to_bits()
        && a.disruption_cost.to_bits() == b.disruption_cost.to_bits()
        && a.consolidatable == b.consolidatable
        && a.drifted == b.drifted
        && a.pod_block == b.pod_block
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{OwnerKind, OwnerRef};
    use crate::scheduling::bound_pods_by_node;
    use std::borrow::Cow;

    /// A candidate whose pods all must move borrows the node's list of pods; one with a pod that
    /// stays (a DaemonSet pod) has its own list; either way the reschedulable pods of the node in
    /// the state's order.
    #[test]
    fn reschedulable_pods_are_the_nodes_movable_pods_borrowed_or_copied() {
        let mut state = crate::fixtures::karpenter_cluster(3, 3, 5);
        let first = state.nodes[0].name;
        let ds = state.pods.iter().position(|p| p.node_name == Some(first)).expect("a pod on the first node");
        state.pods[ds].owner = Some(OwnerRef { kind: OwnerKind::DaemonSet, name: Sym::new("logs") });
        let pods = bound_pods_by_node(&state);
        let (cands, _) = build(&state, &pods, 7_200, None);
        assert_eq!(cands.len(), 3);
        for c in &cands {
            let expected: Vec<*const Pod> = state.pods.iter().filter(|p| p.node_name == Some(c.name()) && p.is_reschedulable()).map(std::ptr::from_ref).collect();
            let got: Vec<*const Pod> = c.reschedulable.iter().map(|p| std::ptr::from_ref::<Pod>(p)).collect();
            assert_eq!(got, expected);
            assert_eq!(matches!(c.reschedulable, Cow::Borrowed(_)), c.name() != first, "node {}", c.name());
        }
    }
}
