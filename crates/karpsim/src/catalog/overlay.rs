//! NodeOverlays layered over each NodePool's instance types, as Karpenter's `nodeoverlay` controller
//! and instance-type store do (`pkg/controllers/nodeoverlay/controller.go`, `store.go`, v1.14.1):
//!
//! * overlays are taken in `OrderByWeight` order: weight descending, then name descending
//!   (`pkg/apis/v1alpha1/nodeoverlay.go`);
//! * an overlay selects, per NodePool, the instance types whose requirements, with the pool's name
//!   and template labels, are compatible with its requirements, and of those the offerings its
//!   requirements allow, available or not (`getOverlaidOfferings`);
//! * per offering the first (heaviest) price overlay wins; per extended resource the first capacity
//!   overlay wins, lighter ones add only resources not yet set (`updateInstanceTypeOffering`,
//!   `updateInstanceTypeCapacity`);
//! * an overlay that touches an offering (price) or a resource (capacity) already set by an overlay
//!   of the same weight conflicts: it is not applied anywhere (`isOfferingUpdateConflicting`,
//!   `isCapacityUpdateConflicting`; its status says `Conflict`);
//! * a price is `price`, or the old price plus `priceAdjustment` (`AdjustedPrice`); capacity entries
//!   are merged into the type's capacity (`ApplyCapacityOverlay`), which changes its allocatable.
//!
//! The AWS provider also makes offerings of a type without any price available when a valid overlay
//! with a `price` and a single `node.kubernetes.io/instance-type In` requirement names the type
//! (`offering/offering.go: GetOverlayPrice`).
//!
//! One deliberate difference: where `AdjustedPrice` would go below zero Karpenter uses 0 (the type
//! becomes free); karpsim refuses the overlay with an error naming it, since that is almost always a
//! mistake (`price: "0"` says "free" on purpose).

use super::{InstanceType, Offering, PriceSource, allocatable};
use crate::error::{Error, Location, Result};
use crate::labels::{self, Sym};
use crate::model::{NodeOverlay, NodePool, PriceChangeKind};
use crate::requirements::{Requirement, Requirements};
use crate::scheduling::instance_filter::OfferingReqs;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

/// Which overlay set an offering's price, and the lightest weight that touched it since.
#[derive(Debug, Clone, PartialEq)]
struct PriceUpdate {
    overlay: usize,
    lowest_weight: i32,
}

#[derive(Debug, Clone, PartialEq)]
struct CapacityUpdate {
    /// resource -> the overlay whose amount it takes
    resources: BTreeMap<String, usize>,
    /// The resources of the last (lightest) overlay applied, and its weight.
    lowest_resources: BTreeSet<String>,
    lowest_weight: i32,
}

/// What the overlays do to one instance type of one pool.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TypeUpdate {
    /// Offering key (zone, capacity type, reservation) -> price update.
    price: BTreeMap<OfferingKey, PriceUpdate>,
    capacity: Option<CapacityUpdate>,
}

/// The overlays' effect on each pool: type index -> update (types with no update are absent).
pub type PoolUpdates = BTreeMap<usize, TypeUpdate>;

/// The outcome of [`plan`]: updates per pool, in the order the pools were given, and warnings.
pub struct OverlayPlan {
    pub pools: Vec<PoolUpdates>,
    /// Overlays in the order they were given, for [`apply`].
    pub overlays: Vec<NodeOverlay>,
    /// Instance-type name -> price of a valid `price` overlay naming it alone (`GetOverlayPrice`).
    pub unpriced_fill: BTreeMap<Sym, f64>,
    pub warnings: Vec<String>,
}

/// An offering as the overlay store keys it: zone, capacity type, reservation id.
type OfferingKey = (Sym, Sym, Option<Sym>);

fn key(o: &Offering) -> OfferingKey {
    (o.zone, o.capacity_type, o.reservation_id())
}

/// The requirements an overlay is matched against: the type's labels, and the zones, capacity types
/// and reservations of all its offerings (the provider's instance-type requirements, which do not
/// depend on availability).
fn type_requirements(it: &InstanceType) -> Requirements {
    let mut r = Requirements::new();
    for (k, v) in &it.labels {
        r.add(
            *k,
            match v {
                Some(v) => Requirement::is_in([*v]),
                None => Requirement::does_not_exist(),
            },
        );
    }
    r.set(*labels::INSTANCE_TYPE, Requirement::is_in([it.name]));
    r.set(*labels::ZONE, Requirement::is_in(it.offerings.iter().map(|o| o.zone)));
    r.set(*labels::CAPACITY_TYPE, Requirement::is_in(it.offerings.iter().map(|o| o.capacity_type)));
    let ids: Vec<Sym> = it.offerings.iter().filter_map(|o| o.zone_id).collect();
    if !ids.is_empty() {
        r.set(*labels::ZONE_ID, Requirement::is_in(ids));
    }
    let reserved: Vec<&super::OfferingReservation> = it.offerings.iter().filter_map(|o| o.reservation.as_ref()).collect();
    if reserved.is_empty() {
        for k in [*labels::RESERVATION_ID, *labels::RESERVATION_TYPE, *labels::RESERVATION_INTERRUPTIBLE] {
            r.set(k, Requirement::does_not_exist());
        }
    } else {
        r.set(*labels::RESERVATION_ID, Requirement::is_in(reserved.iter().map(|x| x.id)));
        r.set(*labels::RESERVATION_TYPE, Requirement::is_in(reserved.iter().map(|x| Sym::new(x.reservation_type.as_str()))));
        r.set(*labels::RESERVATION_INTERRUPTIBLE, Requirement::is_in(reserved.iter().map(|x| Sym::new(&x.interruptible.to_string()))));
    }
    r
}

/// `OrderByWeight`: weight descending, then name descending.
fn order(overlays: &[NodeOverlay]) -> Vec<usize> {
    let mut idx: Vec<usize> = (0..overlays.len()).collect();
    idx.sort_by(|&a, &b| overlays[b].weight.cmp(&overlays[a].weight).then(overlays[b].name.cmp(&overlays[a].name)));
    idx
}

fn overlay_error(o: &NodeOverlay, field: &str, message: String) -> Error {
    let at = Location { kind: Some("NodeOverlay".into()), object: Some(o.name.to_string()), field: Some(field.into()), ..o.origin.clone() };
    Error::input(at, message)
}

/// Work out what the overlays do to every pool's types, with conflicts, without building anything.
/// `pools` pairs each NodePool with the instance types its NodeClass resolves to.
pub fn plan(pools: &[(&NodePool, &[Arc<InstanceType>])], overlays: &[NodeOverlay]) -> Result<OverlayPlan> {
    let mut compiled = Vec::with_capacity(overlays.len());
    for o in overlays {
        let r = Requirements::from_node_selector(&o.requirements).map_err(|e| {
            e.at(Location::field("spec.requirements")).at(Location {
                kind: Some("NodeOverlay".into()),
                object: Some(o.name.to_string()),
                ..o.origin.clone()
            })
        })?;
        compiled.push(r);
    }
    // per pool: the pool's name and template labels, then each type's requirements with them
    let matched: Vec<Vec<Requirements>> = pools
        .iter()
        .map(|(pool, types)| {
            let mut base = Requirements::from_labels(pool.labels.iter());
            base.add(*labels::NODEPOOL, Requirement::is_in([pool.name]));
            types
                .iter()
                .map(|it| {
                    let mut r = type_requirements(it);
                    r.add_all(&base);
                    r
                })
                .collect()
        })
        .collect();
    let mut store: Vec<PoolUpdates> = vec![PoolUpdates::new(); pools.len()];
    let mut warnings = Vec::new();
    let mut conflicting: BTreeSet<usize> = BTreeSet::new();
    for i in order(overlays) {
        let o = &overlays[i];
        let reqs = &compiled[i];
        let offering_reqs = OfferingReqs::new(reqs);
        // the offerings it selects, per pool and type
        let mut hits: Vec<(usize, usize, Vec<OfferingKey>)> = Vec::new();
        for (p, (_, types)) in pools.iter().enumerate() {
            for (t, it) in types.iter().enumerate() {
                if matched[p][t].compatible(reqs, None).is_err() {
                    continue;
                }
                let offs: Vec<_> = it.offerings.iter().filter(|of| offering_reqs.compatible(of)).map(key).collect();
                if !offs.is_empty() {
                    hits.push((p, t, offs));
                }
            }
        }
        // validate everywhere before storing anything (the controller's two passes)
        let conflict = hits.iter().find_map(|(p, t, offs)| {
            let u = store[*p].get(t)?;
            let price = o.price.is_some() && offs.iter().any(|k| u.price.get(k).is_some_and(|x| x.lowest_weight == o.weight));
            let capacity = u
                .capacity
                .as_ref()
                .is_some_and(|c| c.lowest_weight == o.weight && o.capacity.keys().any(|r| c.lowest_resources.contains(r)));
            (price || capacity).then(|| (pools[*p].0.name, pools[*p].1[*t].name))
        });
        if let Some((pool, it)) = conflict {
            conflicting.insert(i);
            warnings.push(format!(
                "NodeOverlay {} conflicts with another overlay of the same weight {} on instance type {it} of NodePool {pool}; Karpenter marks it ValidationSucceeded=False (Conflict) and applies it nowhere",
                o.name, o.weight
            ));
            continue;
        }
        let resources: BTreeSet<String> = o.capacity.keys().cloned().collect();
        for (p, t, offs) in hits {
            let u = store[p].entry(t).or_default();
            if o.price.is_some() {
                for k in offs {
                    u.price
                        .entry(k)
                        .and_modify(|x| x.lowest_weight = o.weight)
                        .or_insert(PriceUpdate { overlay: i, lowest_weight: o.weight });
                }
            }
            if !resources.is_empty() {
                let c = u.capacity.get_or_insert_with(|| CapacityUpdate {
                    resources: BTreeMap::new(),
                    lowest_resources: BTreeSet::new(),
                    lowest_weight: o.weight,
                });
                for r in &resources {
                    c.resources.entry(r.clone()).or_insert(i);
                }
                c.lowest_resources = resources.clone();
                c.lowest_weight = o.weight;
            }
        }
    }
    // GetOverlayPrice: the API's list order (by name), later entries overwriting earlier ones
    let mut by_name: Vec<usize> = (0..overlays.len()).filter(|i| !conflicting.contains(i)).collect();
    by_name.sort_by_key(|&i| overlays[i].name);
    let mut unpriced_fill = BTreeMap::new();
    for i in by_name {
        let o = &overlays[i];
        let Some(PriceChangeKind::Set(price)) = o.price.as_ref().map(|p| p.kind) else { continue };
        if let [r] = o.requirements.as_slice()
            && r.key == *labels::INSTANCE_TYPE
            && r.operator == "In"
        {
            for v in &r.values {
                unpriced_fill.insert(Sym::new(v), price);
            }
        }
    }
    if !overlays.is_empty() {
        warnings.push(format!(
            "{} NodeOverlay(s) applied; Karpenter applies NodeOverlays only with its NodeOverlay feature gate (alpha, off by default: FEATURE_GATES=NodeOverlay=true)",
            overlays.len() - conflicting.len()
        ));
    }
    for (i, o) in overlays.iter().enumerate() {
        if conflicting.contains(&i) {
            continue;
        }
        if !store.iter().any(|p| {
            p.values().any(|u| {
                u.price.values().any(|x| x.overlay == i) || u.capacity.as_ref().is_some_and(|c| c.resources.values().any(|&x| x == i))
            })
        }) {
            warnings.push(format!("NodeOverlay {} selects no offering of any NodePool's instance types; it changes nothing", o.name));
        }
    }
    Ok(OverlayPlan { pools: store, overlays: overlays.to_vec(), unpriced_fill, warnings })
}

/// One pool's types with its updates applied (unchanged types keep their `Arc`).
pub fn apply(types: &[Arc<InstanceType>], updates: &PoolUpdates, plan: &OverlayPlan) -> Result<Vec<Arc<InstanceType>>> {
    let mut out = Vec::with_capacity(types.len());
    for (t, it) in types.iter().enumerate() {
        let fill = plan.unpriced_fill.get(&it.name).filter(|_| it.incompatible.is_none());
        let unpriced = fill.is_some() && it.offerings.iter().any(|o| o.price_source == PriceSource::Unpriced);
        let update = updates.get(&t);
        if update.is_none() && !unpriced {
            out.push(Arc::clone(it));
            continue;
        }
        let mut n: InstanceType = (**it).clone();
        if let Some(&p) = fill {
            for of in n.offerings.iter_mut().filter(|o| o.price_source == PriceSource::Unpriced) {
                of.price = p;
                of.available = true;
                of.price_source = PriceSource::Overlay;
            }
        }
        if let Some(u) = update {
            for of in &mut n.offerings {
                let Some(pu) = u.price.get(&key(of)) else { continue };
                let o = &plan.overlays[pu.overlay];
                let Some(change) = &o.price else { continue };
                let price = change.raw(of.price);
                if !(price.is_finite() && price >= 0.0) {
                    let field = if matches!(change.kind, PriceChangeKind::Set(_)) { "spec.price" } else { "spec.priceAdjustment" };
                    return Err(overlay_error(
                        o,
                        field,
                        format!(
                            "{} takes the {} price of {} in {} from ${:.4}/h to ${price:.4}/h; Karpenter would use $0 (the type becomes free): write price: \"0\" if that is meant",
                            change.text, of.capacity_type, n.name, of.zone, of.price
                        ),
                    ));
                }
                of.price = price;
                of.price_source = PriceSource::Overlay;
                of.overlay = Some(o.name);
            }
            if let Some(c) = &u.capacity {
                for (res, &i) in &c.resources {
                    let o = &plan.overlays[i];
                    n.capacity.set(res, o.capacity.get(res).copied().unwrap_or(0));
                    if !n.capacity_overlays.contains(&o.name) {
                        n.capacity_overlays.push(o.name);
                    }
                }
                n.allocatable = allocatable(&n.capacity, &n.overhead);
            }
        }
        out.push(Arc::new(n));
    }
    Ok(out)
}
