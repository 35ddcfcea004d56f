//! Reserved offerings: one per capacity reservation a NodeClass launches into, as the AWS provider
//! builds them (`pkg/providers/instancetype/offering/reserved_capacity_resolver.go`), for the AWS
//! catalogs and for custom ones alike.

use super::{Catalog, InstanceType, Offering, OfferingReservation, PriceSource};
use crate::labels::{CAPACITY_TYPE_ON_DEMAND, CAPACITY_TYPE_RESERVED, Sym};
use crate::model::CapacityReservation;
use std::sync::Arc;

/// The AWS provider prices a reservation at the on-demand price divided by this: free, yet ordered
/// like on-demand for consolidation (`reserved_capacity_resolver.go`).
pub const RESERVED_PRICE_DIVISOR: f64 = 10_000_000.0;

/// What a type offers that its reserved offerings depend on.
pub(crate) struct TypeSite<'a> {
    pub name: Sym,
    /// The zones the type is offered in for this NodeClass (available or not).
    pub zones: &'a [Sym],
    pub zone_id: &'a dyn Fn(Sym) -> Option<Sym>,
    /// The on-demand list price (`None`: unpriced, the reserved price is then 0).
    pub on_demand_price: Option<f64>,
    /// The NodeClass can launch the type (`compatibility.IsCompatibleWithNodeClass`).
    pub launchable: bool,
}

/// The reserved offerings of one type: one per reservation for it. Available while the NodeClass can
/// launch the type, the reservation still holds instances (`ReservationCapacity != 0`), its zone is
/// one of the type's, and it is not an expiring capacity block.
pub(crate) fn reserved_offerings(site: &TypeSite, reservations: &[CapacityReservation]) -> Vec<Offering> {
    reservations
        .iter()
        .filter(|r| r.instance_type == site.name)
        .map(|r| {
            let reservation = OfferingReservation {
                id: r.id,
                reservation_type: r.reservation_type,
                interruptible: r.interruptible,
                capacity: r.count.unwrap_or(0).max(0),
                launchable: site.launchable && site.zones.contains(&r.zone) && !r.expiring,
            };
            Offering {
                zone: r.zone,
                zone_id: (site.zone_id)(r.zone),
                capacity_type: Sym::new(CAPACITY_TYPE_RESERVED),
                price: site.on_demand_price.map_or(0.0, |p| p / RESERVED_PRICE_DIVISOR),
                available: reservation.available(),
                price_source: PriceSource::Reservation,
                reservation: Some(reservation),
                overlay: None,
            }
        })
        .collect()
}

/// Sort offerings by zone, capacity type, then reservation (several reservations may share a zone).
pub(crate) fn sort_offerings(offerings: &mut [Offering]) {
    offerings.sort_by_key(|o| (o.zone, o.capacity_type, o.reservation_id()));
}

/// Warnings about reservations the catalog cannot use: an unknown instance type, no count, a zone
/// the type is not offered in.
pub(crate) fn warnings(catalog: &Catalog, reservations: &[CapacityReservation]) -> Vec<String> {
    let mut out = Vec::new();
    for r in reservations {
        match catalog.get(r.instance_type.as_str()) {
            None => out.push(format!(
                "capacity reservation {} is for instance type {}, which catalog {} does not have; it is ignored",
                r.id, r.instance_type, catalog.name
            )),
            Some(it) if !it.offerings.iter().any(|o| o.zone == r.zone && o.reservation.is_none()) => out.push(format!(
                "capacity reservation {} is in zone {}, where {} is not offered for its EC2NodeClass; its offering is unavailable",
                r.id, r.zone, r.instance_type
            )),
            Some(_) => {}
        }
        if r.count.is_none() {
            out.push(format!(
                "capacity reservation {} ({} in {}) has no count of available instances; karpsim treats it as 0 (give one with --reservation id={},count=N or a reservations file)",
                r.id, r.instance_type, r.zone, r.id
            ));
        }
    }
    out
}

/// A custom catalog with the reserved offerings of `reservations` added (its on-demand offerings
/// give the price to divide; a type whose offerings are all unavailable cannot launch into them).
pub(crate) fn inject(catalog: &Catalog, reservations: &[CapacityReservation]) -> Catalog {
    let mut out = catalog.clone();
    out.warnings.extend(warnings(catalog, reservations));
    for it in &mut out.instance_types {
        if !reservations.iter().any(|r| r.instance_type == it.name) {
            continue;
        }
        let mut t: InstanceType = (**it).clone();
        let zones: Vec<Sym> = zones_of(&t);
        let on_demand_price =
            t.offerings.iter().filter(|o| o.capacity_type.as_str() == CAPACITY_TYPE_ON_DEMAND).map(|o| o.price).reduce(f64::min);
        let ids: Vec<(Sym, Option<Sym>)> = t.offerings.iter().map(|o| (o.zone, o.zone_id)).collect();
        let zone_id = |z: Sym| ids.iter().find(|(zz, _)| *zz == z).and_then(|(_, id)| *id);
        let site = TypeSite {
            name: t.name,
            zones: &zones,
            zone_id: &zone_id,
            on_demand_price,
            launchable: t.incompatible.is_none() && t.offerings.iter().any(|o| o.available),
        };
        let extra = reserved_offerings(&site, reservations);
        t.offerings.extend(extra);
        sort_offerings(&mut t.offerings);
        *it = Arc::new(t);
    }
    out
}

fn zones_of(t: &InstanceType) -> Vec<Sym> {
    let mut z: Vec<Sym> = t.offerings.iter().filter(|o| o.reservation.is_none()).map(|o| o.zone).collect();
    z.sort();
    z.dedup();
    z
}
