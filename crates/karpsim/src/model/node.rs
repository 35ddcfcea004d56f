use super::{Shared, Taint, Timestamp};
use crate::labels::Sym;
use crate::resources::Resources;
use std::collections::BTreeMap;

/// An existing node (a `Node` object, or a NodeClaim that is still launching).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Node {
    pub name: Sym,
    /// Shared between the clones of a node (the simulator and disruption rounds clone the state):
    /// a cache keyed on a node's labels keeps a clone and sees by address that they did not
    /// change (writing copies them first, [`Shared`]), comparing them only when the address differs.
    pub labels: Shared<BTreeMap<Sym, Sym>>,
    pub annotations: BTreeMap<String, String>,
    pub taints: Vec<Taint>,
    pub capacity: Resources,
    pub allocatable: Resources,
    /// The input gave the node's `status.capacity` or `status.allocatable` (a snapshot). A Node
    /// without them (a manifest) stands for its catalog type's figures.
    #[serde(default)]
    pub resources_reported: bool,
    /// A NodeClaim in the inputs is this node's (joined to it, or in flight without a Node): its
    /// status, not the catalog, stands in for the figures an uninitialized node lacks.
    #[serde(default)]
    pub has_nodeclaim: bool,
    /// Karpenter-managed: carries `karpenter.sh/nodepool`.
    pub nodepool: Option<Sym>,
    pub instance_type: Option<Sym>,
    pub zone: Option<Sym>,
    pub capacity_type: Option<Sym>,
    pub creation_timestamp: Timestamp,
    /// Registered and initialized (Ready, startup taints gone).
    pub initialized: bool,
    pub ready: bool,
    pub deletion_timestamp: Option<Timestamp>,
    /// Time of the last pod bind/unbind (NodeClaim `status.lastPodEventTime`), if known.
    pub last_pod_event: Option<Timestamp>,
    /// The latest time the input saw the node (its conditions' heartbeats): when a snapshot was taken.
    pub observed: Option<Timestamp>,
    /// Price per hour, when known from the catalog.
    pub price: Option<f64>,
    /// `spec.providerID` (how Karpenter pairs a Node with its NodeClaim).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provider_id: Option<String>,
    /// Volumes each CSI driver can attach here, from the node's `CSINode` (`volumeusage.go`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub volume_limits: BTreeMap<Sym, u32>,
}
