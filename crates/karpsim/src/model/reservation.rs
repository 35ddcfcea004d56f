use super::Timestamp;
use crate::labels::Sym;
use std::collections::BTreeMap;

/// An EC2 capacity reservation an EC2NodeClass can launch into (the AWS provider's
/// `EC2NodeClass.status.capacityReservations[]`, `pkg/apis/v1/ec2nodeclass_status.go`), with the
/// number of instances it can still launch, which only the user can tell karpsim.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct CapacityReservation {
    /// `cr-…`
    pub id: Sym,
    pub instance_type: Sym,
    pub zone: Sym,
    pub reservation_type: ReservationType,
    pub interruptible: bool,
    /// When the reservation ends (capacity blocks always have one).
    pub end_time: Option<Timestamp>,
    /// `state: expiring`: a capacity block within EC2's reclaim window; no longer launchable.
    pub expiring: bool,
    pub owner_id: Option<String>,
    /// `open` or `targeted`.
    pub instance_match_criteria: Option<String>,
    /// Tags, for `capacityReservationSelectorTerms[].tags` (the user's form only; a NodeClass status
    /// does not list them).
    pub tags: BTreeMap<String, String>,
    /// Instances the reservation can still launch (EC2's `AvailableInstanceCount`); `None` when no
    /// one said, which karpsim treats as 0 with a warning.
    pub count: Option<i64>,
}

/// `capacityReservationType` (`default` = an On-Demand Capacity Reservation, or a Capacity Block).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ReservationType {
    Default,
    CapacityBlock,
}

impl ReservationType {
    pub fn parse(s: &str) -> Option<ReservationType> {
        match s {
            "default" => Some(ReservationType::Default),
            "capacity-block" => Some(ReservationType::CapacityBlock),
            _ => None,
        }
    }
    pub fn as_str(self) -> &'static str {
        match self {
            ReservationType::Default => "default",
            ReservationType::CapacityBlock => "capacity-block",
        }
    }
}

/// EC2 reclaims a capacity block's instances this long before its end; the AWS provider marks the
/// reservation `expiring` and deletes its NodeClaims then (`ec2nodeclass_status.go:
/// CapacityReservationFromEC2`, `controllers/capacityreservation/expiration`).
pub const CAPACITY_BLOCK_RECLAIM_SECONDS: i64 = 40 * 60;

impl CapacityReservation {
    /// When the AWS provider stops launching into the reservation and deletes its nodes: 40 minutes
    /// before a capacity block ends; never for other reservations (they turn on-demand at their end).
    pub fn reclaimed_at(&self) -> Option<Timestamp> {
        match (self.reservation_type, self.end_time) {
            (ReservationType::CapacityBlock, Some(end)) => Some(end - CAPACITY_BLOCK_RECLAIM_SECONDS),
            _ => None,
        }
    }

    /// Whether it is expiring at `now` (from its status, or from its end time).
    pub fn expiring_at(&self, now: Timestamp) -> bool {
        self.expiring || self.reclaimed_at().is_some_and(|t| now >= t)
    }
}

/// One `EC2NodeClass.spec.capacityReservationSelectorTerms[]` entry: an `id`, or `tags` with an
/// optional `ownerID`, optionally restricted by `instanceMatchCriteria`.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ReservationSelectorTerm {
    pub id: Option<String>,
    pub tags: BTreeMap<String, String>,
    pub owner_id: Option<String>,
    pub instance_match_criteria: Option<String>,
}

impl ReservationSelectorTerm {
    /// Whether the term selects a reservation (`capacityreservation/types.go:
    /// QueriesFromSelectorTerms`: an `id` is one query, `tags`/`instanceMatchCriteria` (with the
    /// optional `ownerID`) another, and either matching selects; a tag value `*` matches any value).
    pub fn selects(&self, r: &CapacityReservation) -> bool {
        if self.id.as_deref().is_some_and(|id| r.id.as_str() == id) {
            return true;
        }
        if self.tags.is_empty() && self.instance_match_criteria.is_none() {
            return false;
        }
        self.tags.iter().all(|(k, v)| r.tags.get(k).is_some_and(|have| v == "*" || have == v))
            && self.owner_id.as_ref().is_none_or(|o| r.owner_id.as_ref() == Some(o))
            && self.instance_match_criteria.as_ref().is_none_or(|m| r.instance_match_criteria.as_ref() == Some(m))
    }
}
