//! Plain data: the Kubernetes and Karpenter objects karpsim reasons about, already validated and in
//! exact units. [`crate::io`] builds them from YAML/JSON; the algorithms only read them.

mod namespace;
mod node;
mod nodeclaim;
mod nodeclass;
mod nodepool;
mod overlay;
mod pdb;
mod reservation;
mod pod;
mod selector;
mod shared;
mod storage;

pub use namespace::{NAMESPACE_NAME_LABEL, Namespace};
pub use node::Node;
pub use nodeclaim::NodeClaim;
pub use nodeclass::{AmiFamily, BlockDeviceMapping, KubeletConfig, NodeClass};
pub use nodepool::{Budget, ConsolidationPolicy, Disruption, NodePool, DisruptionReason};
pub use overlay::{NodeOverlay, PriceChange, PriceChangeKind};
pub use reservation::{CapacityReservation, ReservationSelectorTerm, ReservationType, CAPACITY_BLOCK_RECLAIM_SECONDS};
pub use pdb::{IntOrPercent, PodDisruptionBudget};
pub use pod::{
    Affinity, HostPort, OwnerKind, OwnerRef, Pod, PodAffinityTerm, PodAnnotations, DO_NOT_DISRUPT_ANNOTATION, DELETION_COST_ANNOTATION,
    NotProvisionable, PodPhase, Taint, TaintEffect, Toleration, TolerationOperator, TopologySpreadConstraint, UnsatisfiableAction,
    WeightedPodAffinityTerm, NodeInclusionPolicy,
};
pub use selector::{LabelSelector, LabelSelectorOperator, LabelSelectorRequirement, NodeSelectorRequirement, NodeSelectorTerm, WeightedNodeSelectorTerm};
pub use shared::Shared;
pub use storage::{CsiNode, PersistentVolume, PersistentVolumeClaim, PodVolumes, StorageClass};

/// Seconds since the Unix epoch (timestamps in inputs have one-second resolution, like Kubernetes').
pub type Timestamp = i64;
/// A duration in seconds; `None` where Kubernetes/Karpenter says "Never".
pub type Seconds = i64;
