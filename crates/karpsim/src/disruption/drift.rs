//! Drift detection (`pkg/controllers/nodeclaim/disruption/drift.go`; design §5.6).
//!
//! Karpenter compares a hash of the NodePool template with the one stamped on each NodeClaim. A
//! snapshot carries no such hash that karpsim could recompute, so the template is compared field by
//! field with what the node shows: labels, taints and node class (what the hash covers and a node
//! reveals), requirements (`RequirementsDrifted`), and the instance type still being offered
//! (`InstanceTypeNotFound`, after one hour of age).

use crate::labels::{self, Sym, SymMap};
use crate::model::{Node, NodePool, Shared, Timestamp};
use std::collections::BTreeMap;
use crate::requirements::{Incompatibility, Requirements};
use crate::model::NodeSelectorRequirement;
use crate::state::TypeInfo;
use std::sync::Arc;

/// Why the node is drifted from its NodePool, or `None`. `pool_reqs` are the pool's requirements
/// (`None` when they do not parse); `its_type` is the pool's instance type named like the node's
/// (the first of that name), if any.
pub fn drifted(node: &Node, pool: &NodePool, pool_reqs: Option<&Arc<Requirements>>, its_type: Option<&TypeInfo>, now: Timestamp) -> Option<String> {
    if let Some(pool_reqs) = pool_reqs
        && let Err(i) = requirements_verdict(node, pool_reqs)
    {
        return Some(format!("RequirementsDrifted: NodePool {} {i}", pool.name));
    }
    for (k, v) in &pool.labels {
        if node.labels.get(k) != Some(v) {
            return Some(format!("NodePoolDrifted: template label {k}={v} is not on the node"));
        }
    }
    for t in &pool.taints {
        if !node.taints.iter().any(|n| n.key == t.key && n.value == t.value && n.effect == t.effect) {
            return Some(format!("NodePoolDrifted: template taint {t} is not on the node"));
        }
    }
    if let (Some(class), Some(on_node)) = (pool.node_class, node.labels.get(&*labels::EC2_NODECLASS))
        && class != *on_node
    {
        return Some(format!("NodePoolDrifted: NodePool uses EC2NodeClass {class}, node was launched from {on_node}"));
    }
    // InstanceTypeNotFound is only checked for NodeClaims older than an hour (drift.go)
    if now - node.creation_timestamp >= 3600
        && let Some(it) = node.instance_type
    {
        let offered = its_type.is_some_and(|t| {
            t.it.offerings.iter().any(|o| {
                Some(o.zone) == node.zone
                    && (Some(o.capacity_type) == node.capacity_type
                            // a reserved node may be relabelled on-demand
                            || node.capacity_type == Some(Sym::new(labels::CAPACITY_TYPE_RESERVED)))
            })
        });
        if !offered {
            return Some(format!(
                "InstanceTypeNotFound: {it} is no longer offered by NodePool {} in its zone and capacity type",
                pool.name
            ));
        }
    }
    None
}

/// A NodePool's requirements for the drift check (`None` when they do not parse), shared across
/// rounds while the pool's requirements stay the same: the verdicts of [`requirements_verdict`]
/// are then checked by pointer, not by comparing every requirement of every node's entry at every
/// round (a tenth of a 24-hour run). Kept per pool name on this thread, compared with the pool's
/// requirements as written, so a changed pool gets a new value.
pub fn pool_requirements(pool: &NodePool) -> Option<Arc<Requirements>> {
    type Entry = (Vec<NodeSelectorRequirement>, Option<Arc<Requirements>>);
    const MAX_ENTRIES: usize = 1 << 10;
    thread_local! {
        static PARSED: std::cell::RefCell<SymMap<Entry>> = std::cell::RefCell::new(SymMap::default());
    }
    PARSED.with(|p| {
        let mut parsed = p.borrow_mut();
        if let Some((written, reqs)) = parsed.get(&pool.name)
            && *written == pool.requirements
        {
            return reqs.clone();
        }
        let reqs = Requirements::from_node_selector(&pool.requirements).ok().map(Arc::new);
        if parsed.len() >= MAX_ENTRIES {
            parsed.clear();
        }
        parsed.insert(pool.name, (pool.requirements.clone(), reqs.clone()));
        reqs
    })
}

/// `RequirementsDrifted`'s check: the node's labels against its pool's requirements. Every
/// disruption round checks every node, and a time simulation runs thousands of rounds over nodes
/// whose labels do not change; the verdict is kept per node name (on this thread) with the labels
/// and requirements it was computed from, and reused only when both are equal (the requirements
/// first by pointer: [`pool_requirements`] hands the same value round after round).
fn requirements_verdict(node: &Node, pool_reqs: &Arc<Requirements>) -> Result<(), Incompatibility> {
    type Entry = (Shared<BTreeMap<Sym, Sym>>, Arc<Requirements>, Result<(), Incompatibility>);
    const MAX_ENTRIES: usize = 1 << 16;
    thread_local! {
        static VERDICTS: std::cell::RefCell<SymMap<Entry>> = std::cell::RefCell::new(SymMap::default());
    }
    VERDICTS.with(|v| {
        let mut verdicts = v.borrow_mut();
        if let Some((labels, reqs, verdict)) = verdicts.get(&node.name)
            && (Arc::ptr_eq(reqs, pool_reqs) || **reqs == **pool_reqs)
            && crate::state::same_labels(labels, &node.labels)
        {
            // debug builds (the tests) check every kept verdict against a fresh one
            debug_assert_eq!(*verdict, Requirements::of_node_labels(&node.labels).compatible(pool_reqs, None), "kept drift verdict of node {} is stale", node.name);
            return verdict.clone();
        }
        let verdict = Requirements::of_node_labels(&node.labels).compatible(pool_reqs, None);
        if verdicts.len() >= MAX_ENTRIES {
            verdicts.clear();
        }
        verdicts.insert(node.name, (node.labels.clone(), Arc::clone(pool_reqs), verdict.clone()));
        verdict
    })
}
