use super::{Taint, Timestamp};
use crate::labels::Sym;
use crate::resources::Resources;
use std::collections::BTreeMap;

/// A `NodeClaim` (karpenter.sh/v1) from a snapshot: Karpenter's record of a node it launched or is
/// launching. [`crate::io::Inputs::finish`] merges each one into its `Node`, or makes it an in-flight
/// node when it has none yet.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct NodeClaim {
    pub name: Sym,
    /// The `karpenter.sh/nodepool` label.
    pub nodepool: Sym,
    pub labels: BTreeMap<Sym, Sym>,
    pub annotations: BTreeMap<String, String>,
    pub taints: Vec<Taint>,
    pub startup_taints: Vec<Taint>,
    /// `status.capacity` and `status.allocatable`: written when the instance is launched.
    pub capacity: Resources,
    pub allocatable: Resources,
    pub provider_id: Option<String>,
    /// `status.nodeName`: the Node it registered as.
    pub node_name: Option<Sym>,
    pub creation_timestamp: Timestamp,
    pub deletion_timestamp: Option<Timestamp>,
    /// Conditions `Launched`, `Registered`, `Initialized` and `InstanceTerminating` are True.
    pub launched: bool,
    pub registered: bool,
    pub initialized: bool,
    pub instance_terminating: bool,
    /// `status.lastPodEventTime`.
    pub last_pod_event: Option<Timestamp>,
    /// The latest condition transition: when the snapshot saw it last.
    pub observed: Option<Timestamp>,
}
