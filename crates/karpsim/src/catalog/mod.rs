//! Instance-type catalogs: what each instance type offers (capacity, overhead, allocatable, labels) and
//! where and at what price it can be launched (offerings).
//!
//! The types here are provider-neutral, like Karpenter core's `cloudprovider.InstanceType`
//! (`pkg/cloudprovider/types.go`). [`aws`] derives them from the embedded EC2 data following
//! `aws-instance-model.md`; [`custom`] reads a user-written catalog; [`CatalogSource`] picks one.

// The crate-wide `Error` is large (its `Location`); boxing it is a decision for error.rs, not here.

pub mod aws;
mod aws_labels;
mod aws_record;
pub mod custom;
mod embedded;
pub mod overlay;
mod prices;
pub mod reservations;

pub use aws::{AwsOptions, AwsRegionData, aws_catalog};
pub use custom::parse_custom_catalog;
pub use embedded::{CatalogSource, aws_region_data, aws_regions};
pub use prices::{CapacityPrices, PricePolicy};

use crate::labels::{CAPACITY_TYPE_ON_DEMAND, CAPACITY_TYPE_RESERVED, CAPACITY_TYPE_SPOT, Sym};
use crate::model::ReservationType;
use crate::resources::Resources;
use std::collections::BTreeSet;
use std::sync::Arc;

/// One instance type as the scheduler sees it.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct InstanceType {
    pub name: Sym,
    /// Single-valued label requirements of the type, sorted by key: `Some(v)` = `In [v]`, `None` =
    /// `DoesNotExist` (value unknown, e.g. no GPU => `instance-gpu-name` DNE). Zone, zone-id and
    /// capacity-type are not here: they come from [`InstanceType::offerings`].
    pub labels: Vec<(Sym, Option<Sym>)>,
    pub capacity: Resources,
    pub overhead: Overhead,
    /// `capacity − overhead.total()`, only for resources present in `capacity` (core
    /// `computeAllocatable`). Not floored at zero.
    pub allocatable: Resources,
    /// Sorted by `(zone, capacity_type)`.
    pub offerings: Vec<Offering>,
    /// AWS Spot Instance Advisor interruption bucket, where known.
    pub spot_interruption: Option<SpotInterruption>,
    /// AWS Spot Instance Advisor savings (spot vs on-demand, percent), where known.
    pub spot_savings_percent: Option<i64>,
    /// Why the NodeClass cannot launch this type at all (its offerings are then unavailable), e.g.
    /// `a1 instance types cannot run AL2023` (`compatibility.go`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub incompatible: Option<String>,
    /// NodeOverlays that added or replaced extended resources in `capacity`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub capacity_overlays: Vec<Sym>,
}

/// Karpenter's `InstanceTypeOverhead`: what the kubelet keeps back from capacity.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Overhead {
    pub kube_reserved: Resources,
    pub system_reserved: Resources,
    pub eviction_threshold: Resources,
}

impl Overhead {
    /// Sum of the three parts (`InstanceTypeOverhead.Total()`).
    pub fn total(&self) -> Resources {
        self.kube_reserved.add(&self.system_reserved).add(&self.eviction_threshold)
    }
}

/// Where an instance type can be launched: one zone and capacity type, with its hourly price.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Offering {
    pub zone: Sym,
    pub zone_id: Option<Sym>,
    /// `on-demand`, `spot` or `reserved` (`labels::CAPACITY_TYPE_*`).
    pub capacity_type: Sym,
    /// USD per hour.
    pub price: f64,
    pub available: bool,
    pub price_source: PriceSource,
    /// The capacity reservation of a `reserved` offering.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reservation: Option<OfferingReservation>,
    /// The NodeOverlay that set the price (`price_source` is then [`PriceSource::Overlay`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub overlay: Option<Sym>,
}

/// What a `reserved` offering launches into: one capacity reservation and how many instances it can
/// still launch (`Offering.ReservationCapacity`).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct OfferingReservation {
    pub id: Sym,
    pub reservation_type: ReservationType,
    pub interruptible: bool,
    pub capacity: i64,
    /// The NodeClass could launch into it if it had instances left: the type is compatible, the
    /// zone is one of the type's, it is not an expiring capacity block. The offering is available
    /// when this holds and `capacity > 0`.
    pub launchable: bool,
}

impl OfferingReservation {
    /// Whether its offering is available.
    pub fn available(&self) -> bool {
        self.launchable && self.capacity > 0
    }
}

impl Offering {
    /// The reservation id of a reserved offering.
    pub fn reservation_id(&self) -> Option<Sym> {
        self.reservation.as_ref().map(|r| r.id)
    }
}

/// Where an offering's price came from, so that a study can state its price assumptions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum PriceSource {
    /// The catalog's own price (on-demand table, or a custom catalog's price).
    Catalog,
    /// The AWS spot price feed (regional, Linux).
    SpotFeed,
    /// `on_demand × (1 − spot_savings_percent/100)` from the Spot Instance Advisor.
    SpotAdvisorEstimate,
    /// Karpenter's cold-start rule: spot price = on-demand price (`pricing.go`).
    SpotColdStartOnDemand,
    /// The region has no on-demand price; the us-east-1 price is used (`pricing.go Reset()`).
    UsEast1Fallback,
    /// A price given by the user ([`PricePolicy`]).
    Override,
    /// No price anywhere: the offering is unavailable and its price is 0.
    Unpriced,
    /// A capacity reservation: the on-demand price ÷ 10,000,000 (the AWS provider's
    /// `reserved_capacity_resolver.go`: free, but ordered like on-demand), or as the catalog wrote it.
    Reservation,
    /// A NodeOverlay's `price` or `priceAdjustment` (the offering's `overlay` names it).
    Overlay,
}

/// AWS Spot Instance Advisor interruption bucket (`spot_interruption_bucket` of the data).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct SpotInterruption {
    pub index: i64,
    /// Borrowed in the embedded catalogs' statics (generated at build time), owned when read.
    pub label: std::borrow::Cow<'static, str>,
    pub max_percent: i64,
}

/// A resolved catalog: every instance type a NodePool may choose from.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Catalog {
    /// `aws:<region>` or the custom catalog's file name.
    pub name: String,
    pub region: Option<Sym>,
    /// Sorted by name.
    pub instance_types: Vec<Arc<InstanceType>>,
    /// Assumptions and data gaps worth telling the user (one line each, summarised).
    pub warnings: Vec<String>,
}

impl InstanceType {
    /// The requirement on `key`: `None` if the type has none, `Some(None)` = DoesNotExist,
    /// `Some(Some(v))` = In [v].
    pub fn label(&self, key: Sym) -> Option<Option<Sym>> {
        self.labels.binary_search_by(|(k, _)| k.cmp(&key)).ok().map(|i| self.labels[i].1)
    }

    /// Zones with at least one available offering, sorted, without repeats.
    pub fn zones(&self) -> impl Iterator<Item = Sym> + '_ {
        let mut last: Option<Sym> = None;
        self.offerings.iter().filter(|o| o.available).filter_map(move |o| {
            if last == Some(o.zone) {
                None
            } else {
                last = Some(o.zone);
                Some(o.zone)
            }
        })
    }

    /// Capacity types with at least one available offering, sorted, without repeats.
    pub fn capacity_types(&self) -> Vec<Sym> {
        let set: BTreeSet<Sym> = self.offerings.iter().filter(|o| o.available).map(|o| o.capacity_type).collect();
        set.into_iter().collect()
    }

    /// The cheapest available offering (the first in offering order on a tie).
    pub fn cheapest_available(&self) -> Option<&Offering> {
        self.offerings.iter().filter(|o| o.available).fold(None, |best: Option<&Offering>, o| match best {
            Some(b) if b.price.total_cmp(&o.price).is_le() => Some(b),
            _ => Some(o),
        })
    }

    /// Whether any offering is available.
    pub fn has_available_offering(&self) -> bool {
        self.offerings.iter().any(|o| o.available)
    }
}

impl Catalog {
    /// The instance type called `name`, if the catalog has it.
    pub fn get(&self, name: &str) -> Option<&Arc<InstanceType>> {
        self.instance_types.binary_search_by(|t| t.name.as_str().cmp(name)).ok().map(|i| &self.instance_types[i])
    }

    /// Fail if no instance type can be launched anywhere: nothing could ever be provisioned.
    pub(crate) fn ensure_some_offering_available(&self) -> crate::Result<()> {
        if self.instance_types.iter().any(|t| t.has_available_offering()) {
            Ok(())
        } else {
            Err(crate::Error::catalog(&self.name, "no instance type has an available offering"))
        }
    }
}

/// The capacity-type symbol for a name, if it is one Karpenter knows.
pub fn capacity_type_sym(s: &str) -> Option<Sym> {
    matches!(s, CAPACITY_TYPE_ON_DEMAND | CAPACITY_TYPE_SPOT | CAPACITY_TYPE_RESERVED).then(|| Sym::new(s))
}

/// `capacity − overhead` over the resources present in `capacity` (core `computeAllocatable`:
/// `resources.Subtract` iterates its left operand, so e.g. a `pid` reservation has no effect), and
/// memory less any `hugepages-*` capacity, floored at zero.
pub(crate) fn allocatable(capacity: &Resources, overhead: &Overhead) -> Resources {
    let total = overhead.total();
    let mut out = capacity.clone();
    out.cpu -= total.cpu;
    out.memory -= total.memory;
    out.ephemeral_storage -= total.ephemeral_storage;
    out.pods -= total.pods;
    for &(k, v) in capacity.extended() {
        // by symbol: extended resources are never core ones
        let reserved = total.extended().iter().find(|e| e.0 == k).map_or(0, |e| e.1);
        out.set_extended(k, v - reserved);
    }
    // hugepages are carved out of memory (`computeAllocatable`); only overlays add them here
    for (k, v) in capacity.extended() {
        if k.as_str().starts_with("hugepages-") {
            out.memory = (out.memory - v).max(0);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn offering(zone: &str, ct: &str, price: f64, available: bool) -> Offering {
        Offering {
            zone: Sym::new(zone),
            zone_id: None,
            capacity_type: Sym::new(ct),
            price,
            available,
            price_source: PriceSource::Catalog,
            reservation: None,
            overlay: None,
        }
    }

    #[test]
    fn accessors_skip_unavailable_offerings() {
        let it = InstanceType {
            name: Sym::new("x"),
            labels: vec![(Sym::new("a"), Some(Sym::new("1"))), (Sym::new("b"), None)],
            capacity: Resources::default(),
            overhead: Overhead::default(),
            allocatable: Resources::default(),
            offerings: vec![
                offering("z1", "on-demand", 1.0, true),
                offering("z1", "spot", 0.2, false),
                offering("z2", "on-demand", 1.0, true),
                offering("z2", "spot", 0.3, true),
                offering("z3", "spot", 0.1, false),
            ],
            spot_interruption: None,
            spot_savings_percent: None,
            incompatible: None,
            capacity_overlays: Vec::new(),
        };
        assert_eq!(it.label(Sym::new("a")), Some(Some(Sym::new("1"))));
        assert_eq!(it.label(Sym::new("b")), Some(None));
        assert_eq!(it.label(Sym::new("c")), None);
        assert_eq!(it.zones().collect::<Vec<_>>(), vec![Sym::new("z1"), Sym::new("z2")]);
        assert_eq!(it.capacity_types(), vec![Sym::new("on-demand"), Sym::new("spot")]);
        let c = it.cheapest_available().unwrap();
        assert_eq!((c.zone.as_str(), c.price), ("z2", 0.3));
    }

    #[test]
    fn allocatable_ignores_overhead_keys_absent_from_capacity() {
        let capacity = Resources::from_pairs([("cpu", 2000), ("nvidia.com/gpu", 1)]);
        let overhead = Overhead {
            kube_reserved: Resources::from_pairs([("cpu", 100), ("pid", 1000)]),
            system_reserved: Resources::from_pairs([("cpu", 50)]),
            eviction_threshold: Resources::default(),
        };
        let a = allocatable(&capacity, &overhead);
        assert_eq!(a.cpu, 1850);
        assert_eq!(a.get("nvidia.com/gpu"), 1);
        assert_eq!(a.get("pid"), 0);
    }
}
