use super::{CapacityReservation, ReservationSelectorTerm};
use crate::labels::Sym;
use crate::resources::Resources;
use std::collections::BTreeMap;

/// The parts of an `EC2NodeClass` (karpenter.k8s.aws/v1) that change what an instance type offers.
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize)]
pub struct NodeClass {
    pub name: Sym,
    pub ami_family: AmiFamily,
    pub kubelet: KubeletConfig,
    pub block_device_mappings: Vec<BlockDeviceMapping>,
    /// `instanceStorePolicy: RAID0`
    pub instance_store_raid0: bool,
    /// Zones the NodeClass's subnets cover; `None` = every zone of the region.
    pub zones: Option<Vec<Sym>>,
    /// `spec.capacityReservationSelectorTerms`.
    pub capacity_reservation_terms: Vec<ReservationSelectorTerm>,
    /// The reservations it launches into: its `status.capacityReservations`, or the user's
    /// reservations its selector terms select, with the counts the user gave
    /// ([`crate::io::Inputs::add_reservations`]).
    pub capacity_reservations: Vec<CapacityReservation>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, serde::Serialize, serde::Deserialize)]
pub enum AmiFamily {
    #[default]
    AL2023,
    AL2,
    Bottlerocket,
    Windows2019,
    Windows2022,
    Windows2025,
    Custom,
}

/// Kubelet settings of an EC2NodeClass that change allocatable (`spec.kubelet`). Absent = default.
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize)]
pub struct KubeletConfig {
    pub max_pods: Option<i64>,
    pub pods_per_core: Option<i64>,
    pub kube_reserved: Option<Resources>,
    pub system_reserved: Option<Resources>,
    /// Signal -> value as written (`"100Mi"` or `"5%"`).
    pub eviction_hard: BTreeMap<String, String>,
    pub eviction_soft: BTreeMap<String, String>,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct BlockDeviceMapping {
    pub device_name: Option<String>,
    pub root_volume: bool,
    /// bytes
    pub volume_size: Option<i64>,
}

impl AmiFamily {
    pub fn parse(s: &str) -> Option<AmiFamily> {
        Some(match s {
            "AL2023" => AmiFamily::AL2023,
            "AL2" => AmiFamily::AL2,
            "Bottlerocket" => AmiFamily::Bottlerocket,
            "Windows2019" => AmiFamily::Windows2019,
            "Windows2022" => AmiFamily::Windows2022,
            "Windows2025" => AmiFamily::Windows2025,
            "Custom" => AmiFamily::Custom,
            _ => return None,
        })
    }
    pub fn is_windows(self) -> bool {
        matches!(self, AmiFamily::Windows2019 | AmiFamily::Windows2022 | AmiFamily::Windows2025)
    }
}
