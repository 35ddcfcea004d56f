//! `NodeClaim` objects of a snapshot (`kubectl get nodeclaims -o json`), and how they join the nodes:
//! Karpenter's cluster state pairs each NodeClaim with its Node by provider ID (`state/cluster.go`),
//! and a NodeClaim that has no Node yet is in-flight capacity (`state/statenode.go`).

use super::node::set_labels;
use super::pod::{parse_taint, sym_map};
use super::value::{Node as V, parse_timestamp};
use crate::error::Result;
use crate::labels::{self, Sym};
use crate::model::{Node, NodeClaim};
use crate::resources::Resources;
use std::collections::BTreeMap;

const SPEC_FIELDS: &[&str] =
    &["taints", "startupTaints", "requirements", "resources", "nodeClassRef", "expireAfter", "terminationGracePeriod"];

pub(crate) fn parse_nodeclaim(root: &V, name: &str) -> Result<NodeClaim> {
    let meta = root.req("metadata")?;
    let labels = sym_map(meta.opt_string_map("labels")?);
    let Some(nodepool) = labels.get(&*labels::NODEPOOL).copied() else {
        let at = meta.get("labels")?.unwrap_or(meta);
        return Err(at.err(format!(
            "a NodeClaim needs the {} label (Karpenter sets it on every NodeClaim it creates; it names the NodePool whose limits and disruption settings apply)",
            *labels::NODEPOOL
        )));
    };
    let (mut taints, mut startup_taints) = (Vec::new(), Vec::new());
    if let Some(spec) = root.get("spec")? {
        spec.check_fields(SPEC_FIELDS)?;
        taints = spec.opt_arr("taints")?.iter().map(parse_taint).collect::<Result<_>>()?;
        startup_taints = spec.opt_arr("startupTaints")?.iter().map(parse_taint).collect::<Result<_>>()?;
    }
    let ts = |n: Option<V>| n.map(|n| parse_timestamp(&n)).transpose();
    let mut claim = NodeClaim {
        name: Sym::new(name),
        nodepool,
        labels,
        annotations: meta.opt_string_map("annotations")?,
        taints,
        startup_taints,
        capacity: Resources::new(),
        allocatable: Resources::new(),
        provider_id: None,
        node_name: None,
        creation_timestamp: ts(meta.get("creationTimestamp")?)?.unwrap_or(0),
        deletion_timestamp: ts(meta.get("deletionTimestamp")?)?,
        launched: false,
        registered: false,
        initialized: false,
        instance_terminating: false,
        last_pod_event: None,
        observed: None,
    };
    if let Some(st) = root.get("status")? {
        if let Some(c) = st.get("capacity")? {
            claim.capacity = c.resources()?;
        }
        if let Some(a) = st.get("allocatable")? {
            claim.allocatable = a.resources()?;
        }
        claim.provider_id = st.opt_str("providerID")?.filter(|s| !s.is_empty()).map(str::to_string);
        claim.node_name = st.opt_str("nodeName")?.filter(|s| !s.is_empty()).map(Sym::new);
        claim.last_pod_event = ts(st.get("lastPodEventTime")?)?;
        for c in st.opt_arr("conditions")? {
            let is_true = c.opt_str("status")? == Some("True");
            match c.opt_str("type")? {
                Some("Launched") => claim.launched = is_true,
                Some("Registered") => claim.registered = is_true,
                Some("Initialized") => claim.initialized = is_true,
                Some("InstanceTerminating") => claim.instance_terminating = is_true,
                _ => {}
            }
            if let Some(t) = c.get("lastTransitionTime")? {
                let t = parse_timestamp(&t)?;
                claim.observed = Some(claim.observed.map_or(t, |o: i64| o.max(t)));
            }
        }
    }
    Ok(claim)
}

/// Whether Karpenter's cluster state takes the NodeClaim as deleting (`StateNode.Deleted`): it has a
/// deletion timestamp or its instance is terminating. (A Node's own deletion timestamp does not
/// count while its NodeClaim exists.)
fn deletion(claim: &NodeClaim, node: Option<&Node>) -> Option<i64> {
    claim
        .deletion_timestamp
        .or_else(|| claim.instance_terminating.then(|| node.and_then(|n| n.deletion_timestamp).unwrap_or(claim.creation_timestamp)))
}

/// Join each NodeClaim to its Node (same provider ID, else the Node its status names), or add it
/// as a node of its own: in-flight capacity when it has not registered yet.
pub(crate) fn merge_into_nodes(nodes: &mut Vec<Node>, claims: &[NodeClaim], warnings: &mut Vec<String>) {
    if claims.is_empty() {
        return;
    }
    let mut paired = vec![false; nodes.len()];
    let mut missing_nodes: Vec<String> = Vec::new();
    let mut not_launched: Vec<String> = Vec::new();
    let mut added = Vec::new();
    for claim in claims {
        let by_id =
            claim.provider_id.as_ref().and_then(|id| (0..nodes.len()).find(|&i| !paired[i] && nodes[i].provider_id.as_ref() == Some(id)));
        let found = by_id.or_else(|| claim.node_name.and_then(|n| (0..nodes.len()).find(|&i| !paired[i] && nodes[i].name == n)));
        match found {
            Some(i) => {
                paired[i] = true;
                join(&mut nodes[i], claim);
            }
            None => {
                if let Some(n) = claim.node_name {
                    missing_nodes.push(format!("{} ({n})", claim.name));
                } else if claim.allocatable.iter().next().is_none() {
                    not_launched.push(claim.name.to_string());
                }
                added.push(in_flight(claim));
            }
        }
    }
    // `StateNode.Managed`: a node is Karpenter's only with its NodeClaim. One that carries the
    // NodePool label without a NodeClaim is still capacity pods can use, but it is never a
    // disruption candidate ("node isn't managed by karpenter") and counts in no NodePool's budget
    let mut unpaired: Vec<Sym> = Vec::new();
    for (n, _) in nodes.iter_mut().zip(&paired).filter(|(n, p)| !**p && n.nodepool.is_some()) {
        n.nodepool = None;
        unpaired.push(n.name);
    }
    if !unpaired.is_empty() {
        warnings.push(format!(
            "{} node(s) carry the {} label but no NodeClaim in the inputs matches them (first: {}); as in Karpenter, they are not managed: pods can use them, disruption never takes them and NodePool budgets and limits do not count them",
            unpaired.len(),
            *labels::NODEPOOL,
            unpaired[0]
        ));
    }
    if !missing_nodes.is_empty() {
        warnings.push(format!(
            "{} NodeClaim(s) name a Node that is not in the inputs: {}; each is taken as that node, with the NodeClaim's labels, capacity and conditions",
            missing_nodes.len(),
            missing_nodes.join(", ")
        ));
    }
    if !not_launched.is_empty() {
        warnings.push(format!(
            "{} NodeClaim(s) have not launched yet (no status.allocatable): {}; as in Karpenter's cluster state, they offer no capacity until they do",
            not_launched.len(),
            not_launched.join(", ")
        ));
    }
    nodes.extend(added);
}

/// A Node and its NodeClaim as one state node (`StateNode` with both).
fn join(n: &mut Node, claim: &NodeClaim) {
    // a managed Node is registered and initialized by Karpenter's labels on it (`Registered`, `Initialized`)
    let registered = n.labels.get(&*labels::REGISTERED).is_some_and(|v| v.as_str() == "true");
    n.initialized = n.labels.get(&*labels::INITIALIZED).is_some_and(|v| v.as_str() == "true");
    if !registered {
        // until registration Karpenter reads the NodeClaim's labels and taints (`Labels`, `Taints`)
        set_labels(n, claim.labels.clone());
        n.taints = claim.taints.clone();
    }
    if !n.initialized {
        // zero quantities of an uninitialized Node come from the NodeClaim (`Capacity`, `Allocatable`)
        for (k, v) in claim.capacity.iter() {
            if n.capacity.get(k) == 0 {
                n.capacity.set(k, v);
            }
        }
        for (k, v) in claim.allocatable.iter() {
            if n.allocatable.get(k) == 0 {
                n.allocatable.set(k, v);
            }
        }
    }
    n.has_nodeclaim = true;
    n.deletion_timestamp = deletion(claim, Some(n));
    n.last_pod_event = claim.last_pod_event.or(n.last_pod_event);
    n.observed = n.observed.max(claim.observed);
}

/// A NodeClaim without a Node in the inputs. One that has not registered is in-flight: not
/// initialized, with the capacity written at launch. One whose status names a Node missing from the
/// inputs is taken as that node.
fn in_flight(claim: &NodeClaim) -> Node {
    let mut n = Node {
        name: claim.node_name.unwrap_or(claim.name),
        labels: Default::default(),
        annotations: claim.annotations.clone(),
        taints: claim.taints.clone(),
        capacity: claim.capacity.clone(),
        allocatable: claim.allocatable.clone(),
        // what Karpenter's cluster state reads for a NodeClaim without a Node: its status, empty
        // before launch (`StateNode.Allocatable`)
        resources_reported: true,
        has_nodeclaim: true,
        nodepool: None,
        instance_type: None,
        zone: None,
        capacity_type: None,
        creation_timestamp: claim.creation_timestamp,
        initialized: claim.node_name.is_some() && claim.initialized,
        ready: claim.node_name.is_some() && claim.initialized,
        deletion_timestamp: deletion(claim, None),
        last_pod_event: claim.last_pod_event,
        observed: claim.observed,
        price: None,
        provider_id: claim.provider_id.clone(),
        volume_limits: BTreeMap::new(),
    };
    set_labels(&mut n, claim.labels.clone());
    n
}
