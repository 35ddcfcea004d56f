use super::{NodeSelectorTerm, Timestamp};
use crate::labels::Sym;
use std::collections::BTreeMap;

/// A `PersistentVolumeClaim`, as far as scheduling reads it (`volumetopology.go`, `volumeusage.go`).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct PersistentVolumeClaim {
    pub namespace: Sym,
    pub name: Sym,
    /// `spec.storageClassName`: `None` when not set (the default StorageClass then applies, as the
    /// DefaultStorageClass admission controller sets it), `Some("")` for "no class".
    pub storage_class: Option<String>,
    /// `spec.volumeName`: the PersistentVolume it is bound (or pre-bound) to.
    pub volume_name: Option<Sym>,
    /// The PV controller finished binding: the `pv.kubernetes.io/bind-completed` annotation, or a
    /// manifest (no `status`) that the controller will bind once applied.
    pub bind_completed: bool,
    /// `status.phase: Lost` (bound to a PersistentVolume that no longer exists).
    pub lost: bool,
    pub deleting: bool,
}

/// A `PersistentVolume`: where it can be attached and which driver attaches it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct PersistentVolume {
    pub name: Sym,
    /// `spec.nodeAffinity.required.nodeSelectorTerms` (OR-ed); empty when the volume has none.
    pub node_affinity: Vec<NodeSelectorTerm>,
    /// `spec.csi.driver`, or the CSI driver of an in-tree `awsElasticBlockStore` volume.
    pub driver: Option<Sym>,
    /// A `local` or `hostPath` volume: its hostname affinity is not followed when a pod moves.
    pub local: bool,
    pub deleting: bool,
}

/// A `StorageClass` (storage.k8s.io/v1).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct StorageClass {
    pub name: Sym,
    pub provisioner: Sym,
    /// `volumeBindingMode: WaitForFirstConsumer` (the API's default is `Immediate`).
    pub wait_for_first_consumer: bool,
    /// `allowedTopologies`: each term's `matchLabelExpressions` as `In` requirements (terms OR-ed).
    pub allowed_topologies: Vec<NodeSelectorTerm>,
    /// Annotated `storageclass.kubernetes.io/is-default-class: "true"` (or the beta annotation).
    pub default: bool,
    pub creation_timestamp: Timestamp,
}

/// A `CSINode`: per CSI driver, how many volumes its node can attach (`spec.drivers[].allocatable.count`).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct CsiNode {
    /// The node's name (a CSINode is named after its node).
    pub name: Sym,
    pub limits: BTreeMap<Sym, u32>,
}

/// What a pod's volumes mean for scheduling, resolved from its PersistentVolumeClaims and what they
/// name (`volumetopology.go`, `volumeusage.go`). Pods without claims carry none.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct PodVolumes {
    /// How many PersistentVolumeClaims the pod mounts (including ephemeral and StatefulSet ones).
    pub claims: u32,
    /// Volume topology alternatives (OR-ed), the first that fits is used; empty: no constraint.
    /// They constrain the node only, never the pod's own requirements (topology spread counts the
    /// pod by its own affinity).
    pub topology: Vec<NodeSelectorTerm>,
    /// `(CSI driver, "namespace/claim")` per claim a driver attaches, for per-node attach limits.
    pub attachments: Vec<(Sym, Sym)>,
    /// Why Karpenter would not provision the pod while it is pending
    /// (`VolumeTopology.ValidatePersistentVolumeClaims`), if it would not.
    pub unprovisionable: Option<String>,
    /// A claim of the pod is unbound, of a `WaitForFirstConsumer` class whose driver makes zonal
    /// volumes: once the pod runs, its volume exists in that node's zone, and the pod stays there.
    #[serde(default)]
    pub binds_in_zone: bool,
}
