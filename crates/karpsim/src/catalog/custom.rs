//! User-written catalogs (JSON or YAML), for studies that are not about AWS or that need invented
//! instance types:
//!
//! ```yaml
//! region: lab-1                                     # optional: Catalog::region
//! instance_types:
//!   - name: small
//!     capacity: {cpu: "2", memory: 2Gi, pods: 5}
//!     overhead: {cpu: 100m, memory: 10Mi}          # optional, zero by default
//!     labels: {kubernetes.io/arch: amd64, size: small}
//!     offerings:
//!       - {zone: zone-1, capacity_type: spot, price: 0.41}   # available defaults to true
//!       - {zone: zone-1, capacity_type: on-demand, price: 0.60, available: false, zone_id: z1-id}
//! ```
//!
//! Quantities may be strings or numbers; label values strings, numbers or booleans. Capacity types are
//! `on-demand`, `spot` or `reserved`; a reserved offering names its capacity reservation and the
//! instances it can still launch (`reservation_id`, `count`, optional `reservation_type` default or
//! capacity-block, `interruptible`). Unknown fields, negative quantities, overhead above capacity,
//! negative or non-finite prices, empty or duplicate names, a type without offerings, duplicate
//! (zone, capacity type) offerings, zone/capacity-type given as labels and a catalog without any
//! available offering are errors naming the type and field.
//!
//! Capacity and overhead are taken as written (no NodeClass adjustment); the overhead is reported as
//! kube-reserved. Every label is an `In [value]` requirement; `node.kubernetes.io/instance-type` is
//! added from the name. Like a cloud provider's, the catalog's label keys are well-known: a pod may
//! select on them whether or not its NodePool mentions them, and a type without a label another type
//! has is `DoesNotExist` for it.

use super::{Catalog, InstanceType, Offering, OfferingReservation, Overhead, PriceSource, allocatable, capacity_type_sym};
use crate::model::ReservationType;
use crate::error::{Error, Result};
use crate::labels::{self, Sym};
use crate::resources::{QuantityValue, Resources, parse_amount};
use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct CustomFile<'a> {
    #[serde(default)]
    region: Option<String>,
    #[serde(borrow)]
    instance_types: Vec<CustomType<'a>>,
}

#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct CustomType<'a> {
    /// Names, zones and capacity types are borrowed from the text where they can be (a JSON string
    /// without escapes): one allocation and one free fewer for each of them.
    #[serde(borrow)]
    name: Cow<'a, str>,
    capacity: BTreeMap<String, QuantityValue>,
    #[serde(default)]
    overhead: BTreeMap<String, QuantityValue>,
    #[serde(default)]
    labels: BTreeMap<String, LabelValue>,
    #[serde(default)]
    #[serde(borrow)]
    offerings: Vec<CustomOffering<'a>>,
}

#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct CustomOffering<'a> {
    #[serde(borrow)]
    zone: Cow<'a, str>,
    #[serde(default)]
    zone_id: Option<String>,
    #[serde(borrow)]
    capacity_type: Cow<'a, str>,
    price: f64,
    #[serde(default = "yes")]
    available: bool,
    /// Reserved offerings: the capacity reservation, and how many instances it can still launch.
    #[serde(default)]
    reservation_id: Option<String>,
    #[serde(default)]
    count: Option<i64>,
    /// `default` (an On-Demand Capacity Reservation, the default) or `capacity-block`.
    #[serde(default)]
    reservation_type: Option<String>,
    #[serde(default)]
    interruptible: Option<bool>,
}

fn yes() -> bool {
    true
}

/// A label value written as a string, number or boolean (YAML `gen: 5` and `gpu: true` are common).
#[derive(Debug)]
struct LabelValue(String);

impl<'de> serde::Deserialize<'de> for LabelValue {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<LabelValue, D::Error> {
        struct V;
        impl serde::de::Visitor<'_> for V {
            type Value = LabelValue;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a label value (string, number or boolean)")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> std::result::Result<LabelValue, E> {
                Ok(LabelValue(v.to_string()))
            }
            fn visit_bool<E: serde::de::Error>(self, v: bool) -> std::result::Result<LabelValue, E> {
                Ok(LabelValue(v.to_string()))
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> std::result::Result<LabelValue, E> {
                Ok(LabelValue(v.to_string()))
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> std::result::Result<LabelValue, E> {
                Ok(LabelValue(v.to_string()))
            }
            fn visit_f64<E: serde::de::Error>(self, v: f64) -> std::result::Result<LabelValue, E> {
                Ok(LabelValue(format!("{v}")))
            }
        }
        d.deserialize_any(V)
    }
}

/// Parse a custom catalog; `name` (usually the file path) names it in errors and in [`Catalog::name`].
/// Text starting with `{` is read as JSON, anything else as YAML.
pub fn parse_custom_catalog(name: &str, text: &str) -> Result<Catalog> {
    let fail = |message: String| Error::catalog(name, message);
    let file: CustomFile = if text.trim_start().starts_with('{') {
        serde_json::from_str(text).map_err(|e| fail(format!("malformed JSON catalog: {e}")))?
    } else {
        serde_saphyr::from_str(text).map_err(|e| fail(format!("malformed YAML catalog: {e}")))?
    };
    // (each type's parsed form is dropped once built, as the loop goes; its name kept, borrowed
    // from the text where it could be)
    let mut seen: BTreeSet<Cow<str>> = BTreeSet::new();
    let mut instance_types = Vec::with_capacity(file.instance_types.len());
    for (i, t) in file.instance_types.into_iter().enumerate() {
        if t.name.trim().is_empty() {
            return Err(fail(format!("instance_types[{i}]: field name: empty instance type name")));
        }
        if !seen.insert(t.name.clone()) {
            return Err(fail(format!("instance type {:?}: duplicate name", t.name)));
        }
        let it = build_type(&t).map_err(|m| fail(format!("instance type {:?}: {m}", t.name)))?;
        instance_types.push(it);
    }
    // A provider defines every label it uses on every type, `DoesNotExist` where a type lacks it
    // (`cloudprovider/types.go`: instance types define all well-known labels): a selector on a
    // label then never matches a type without it.
    let keys: BTreeSet<Sym> = instance_types.iter().flat_map(|t| t.labels.iter().map(|(k, _)| *k)).collect();
    for t in &mut instance_types {
        if t.labels.len() < keys.len() {
            let mut labels: BTreeMap<Sym, Option<Sym>> = keys.iter().map(|k| (*k, None)).collect();
            labels.extend(t.labels.iter().copied());
            t.labels = labels.into_iter().collect();
        }
    }
    let mut instance_types: Vec<Arc<InstanceType>> = instance_types.into_iter().map(Arc::new).collect();
    instance_types.sort_by_key(|a| a.name);
    let catalog = Catalog {
        name: name.to_string(),
        region: file.region.as_deref().map(Sym::new),
        instance_types,
        warnings: Vec::new(),
    };
    catalog.ensure_some_offering_available()?;
    Ok(catalog)
}

fn quantities(field: &str, map: &BTreeMap<String, QuantityValue>) -> std::result::Result<Resources, String> {
    let mut r = Resources::new();
    for (k, v) in map {
        let amount = parse_amount(k, &v.0).map_err(|e| format!("field {field}.{k}: {e}"))?;
        if amount < 0 {
            return Err(format!("field {field}.{k}: negative quantity {:?}", v.0));
        }
        r.set(k, amount);
    }
    Ok(r)
}

fn build_type(t: &CustomType) -> std::result::Result<InstanceType, String> {
    let capacity = quantities("capacity", &t.capacity)?;
    let overhead = Overhead { kube_reserved: quantities("overhead", &t.overhead)?, ..Overhead::default() };
    let allocatable = allocatable(&capacity, &overhead);
    if allocatable.any_negative() {
        let core = [
            ("cpu", allocatable.cpu),
            ("memory", allocatable.memory),
            ("ephemeral-storage", allocatable.ephemeral_storage),
            ("pods", allocatable.pods),
        ];
        let extended = allocatable.extended().iter().map(|(k, v)| (k.as_str(), *v));
        if let Some((k, v)) = core.into_iter().chain(extended).find(|(_, v)| *v < 0) {
            return Err(format!("field overhead.{k}: overhead exceeds capacity (allocatable would be {v})"));
        }
    }
    let name = Sym::new(&t.name);
    let mut labels: BTreeMap<Sym, Option<Sym>> = BTreeMap::new();
    for (k, v) in &t.labels {
        if k.is_empty() {
            return Err("field labels: empty label key".to_string());
        }
        labels.insert(Sym::new(k), Some(Sym::new(&v.0)));
    }
    match labels.get(&*labels::INSTANCE_TYPE) {
        Some(Some(v)) if *v != name => {
            return Err(format!("field labels.{}: {v:?} differs from the name", *labels::INSTANCE_TYPE));
        }
        _ => {
            labels.insert(*labels::INSTANCE_TYPE, Some(name));
        }
    }
    for key in [*labels::ZONE, *labels::ZONE_ID, *labels::CAPACITY_TYPE] {
        if labels.contains_key(&key) {
            return Err(format!("field labels.{key}: set it per offering, not as a label"));
        }
    }
    if t.offerings.is_empty() {
        return Err("field offerings: no offerings".to_string());
    }
    let mut offerings = Vec::with_capacity(t.offerings.len());
    let mut keys = BTreeSet::new();
    for (i, o) in t.offerings.iter().enumerate() {
        // written only for an error (formatting it for every offering was a twentieth of reading
        // a catalog)
        let at = || format!("field offerings[{i}]");
        if o.zone.trim().is_empty() {
            return Err(format!("{}.zone: empty zone", at()));
        }
        let capacity_type = capacity_type_sym(&o.capacity_type).ok_or_else(|| {
            format!("{}.capacity_type: unknown capacity type {:?} (on-demand, spot or reserved)", at(), o.capacity_type)
        })?;
        if !(o.price.is_finite() && o.price >= 0.0) {
            return Err(format!("{}.price: must be a finite number >= 0, got {}", at(), o.price));
        }
        let zone = Sym::new(&o.zone);
        let reservation = reservation_of(o, capacity_type, &at)?;
        if !keys.insert((zone, capacity_type, reservation.as_ref().map(|r| r.id))) {
            return Err(format!("{}: duplicate offering for zone {zone} and capacity type {capacity_type}", at()));
        }
        offerings.push(Offering {
            zone,
            zone_id: o.zone_id.as_deref().map(Sym::new),
            capacity_type,
            price: o.price,
            // a reservation with no instances left cannot launch (`ReservationCapacity != 0`)
            available: o.available && reservation.as_ref().is_none_or(|r| r.capacity > 0),
            price_source: PriceSource::Catalog,
            reservation,
            overlay: None,
        });
    }
    super::reservations::sort_offerings(&mut offerings);
    Ok(InstanceType {
        name,
        labels: labels.into_iter().collect(),
        capacity,
        overhead,
        allocatable,
        offerings,
        spot_interruption: None,
        spot_savings_percent: None,
        incompatible: None,
        capacity_overlays: Vec::new(),
    })
}

/// A reserved offering's reservation: `reservation_id` and `count` are required there and
/// meaningless elsewhere.
fn reservation_of(o: &CustomOffering, capacity_type: Sym, at: &dyn Fn() -> String) -> std::result::Result<Option<OfferingReservation>, String> {
    let given = o.reservation_id.is_some() || o.count.is_some() || o.reservation_type.is_some() || o.interruptible.is_some();
    if capacity_type.as_str() != crate::labels::CAPACITY_TYPE_RESERVED {
        if given {
            return Err(format!("{}: reservation_id, count, reservation_type and interruptible belong to reserved offerings", at()));
        }
        return Ok(None);
    }
    let at = at();
    let id = match o.reservation_id.as_deref() {
        Some(id) if !id.trim().is_empty() => Sym::new(id),
        _ => return Err(format!("{at}.reservation_id: a reserved offering needs the id of its capacity reservation")),
    };
    let capacity = match o.count {
        Some(c) if c >= 0 => c,
        Some(c) => return Err(format!("{at}.count: must be >= 0, got {c}")),
        None => return Err(format!("{at}.count: a reserved offering needs the number of instances its reservation can still launch")),
    };
    let reservation_type = match o.reservation_type.as_deref() {
        None => ReservationType::Default,
        Some(t) => ReservationType::parse(t).ok_or_else(|| format!("{at}.reservation_type: unknown type {t:?} (default or capacity-block)"))?,
    };
    Ok(Some(OfferingReservation { id, reservation_type, interruptible: o.interruptible.unwrap_or(false), capacity, launchable: o.available }))
}
