//! Shrinking a NodeClaim's instance-type options (`nodeclaim.go: filterInstanceTypesByRequirements`,
//! `fits`, `compatible`; design §3.8), and explaining why nothing was left.

use super::daemons::DaemonGroup;
use super::fit_bounds::FitBounds;
use super::host_ports;
use crate::catalog::Offering;
use crate::labels::{self, Sym};
use crate::model::HostPort;
use crate::quantity::format_cpu_milli;
use crate::requirements::{Requirement, Requirements};
use crate::resources::{Resources, format_amount};
use crate::state::TypeInfo;
use std::collections::BTreeSet;

/// `reqs.IsCompatible(offering.requirements, AllowUndefinedWellKnownLabels)`: the offering's zone,
/// zone id and capacity type must be allowed; a reserved offering carries its reservation's id,
/// type and interruptibility, which must be allowed too, and any other offering carries
/// `DoesNotExist` for those three labels, which only negative requirements accept.
pub fn offering_compatible(reqs: &Requirements, of: &Offering) -> bool {
    OfferingReqs::new(reqs).compatible(of)
}

/// The requirements [`offering_compatible`] reads, looked up once for many offerings.
#[derive(Debug, Clone, Copy)]
pub struct OfferingReqs<'a> {
    zone: Option<&'a Requirement>,
    capacity_type: Option<&'a Requirement>,
    zone_id: Option<&'a Requirement>,
    reservation_id: Option<&'a Requirement>,
    reservation_type: Option<&'a Requirement>,
    interruptible: Option<&'a Requirement>,
    /// Whether a non-reserved offering's `DoesNotExist` reservation labels are accepted.
    unreserved_ok: bool,
}

impl<'a> OfferingReqs<'a> {
    pub fn new(reqs: &'a Requirements) -> OfferingReqs<'a> {
        let reservation_id = reqs.get(*labels::RESERVATION_ID);
        let reservation_type = reqs.get(*labels::RESERVATION_TYPE);
        let interruptible = reqs.get(*labels::RESERVATION_INTERRUPTIBLE);
        OfferingReqs {
            zone: reqs.get(*labels::ZONE),
            capacity_type: reqs.get(*labels::CAPACITY_TYPE),
            zone_id: reqs.get(*labels::ZONE_ID),
            reservation_id,
            reservation_type,
            interruptible,
            unreserved_ok: [reservation_id, reservation_type, interruptible].iter().all(|r| r.is_none_or(|r| r.is_negative_op())),
        }
    }

    /// Same as [`offering_compatible`] over the requirements this was built from.
    #[inline]
    pub fn compatible(&self, of: &Offering) -> bool {
        let allows = |r: Option<&Requirement>, v: Sym| r.is_none_or(|r| r.has(v));
        allows(self.zone, of.zone)
            && allows(self.capacity_type, of.capacity_type)
            && of.zone_id.is_none_or(|id| allows(self.zone_id, id))
            && match &of.reservation {
                None => self.unreserved_ok,
                Some(res) => {
                    allows(self.reservation_id, res.id)
                        && self.reservation_type.is_none_or(|r| r.has(Sym::new(res.reservation_type.as_str())))
                        && self.interruptible.is_none_or(|r| r.has(Sym::new(if res.interruptible { "true" } else { "false" })))
                }
            }
    }
}

/// `fits`: whether `need` fits the type's allocatable, and whether it has an available offering
/// compatible with `reqs` (only the first compatible offering matters).
pub fn fits(it: &TypeInfo, need: &Resources, reqs: &Requirements) -> (bool, bool) {
    fits_with(it, need, &OfferingReqs::new(reqs))
}

/// [`fits`] with the offering requirements looked up already.
#[inline]
pub fn fits_with(it: &TypeInfo, need: &Resources, reqs: &OfferingReqs) -> (bool, bool) {
    if it.it.offerings.iter().any(|of| of.available && reqs.compatible(of)) {
        (need.fits(&it.it.allocatable), true)
    } else {
        (false, false)
    }
}

/// What a failed filter saw, to explain it.
#[derive(Debug, Default, Clone)]
pub struct FilterFlags {
    pub requirements_met: bool,
    pub fits: bool,
    pub has_offering: bool,
    pub min_values_missing: Option<String>,
    pub port_conflict: Option<HostPort>,
}

/// Instance types that the filter can tell apart only by name: same requirements except
/// `node.kubernetes.io/instance-type`, same offerings as far as compatibility goes (zone, zone id,
/// capacity type, availability). The filter decides requirement and offering compatibility once per
/// class (Karpenter's fake catalog is one class of 400 types; AWS types are mostly their own class).
#[derive(Debug, Clone, Default)]
pub struct TypeClasses {
    pub class_of: Vec<u32>,
    /// A representative type per class.
    pub reps: Vec<u32>,
    /// Per type, its key layout: types of one layout hold the same requirement keys in the same
    /// order (AWS types share one or two layouts).
    pub layout_of: Vec<u32>,
    /// How many layouts there are.
    pub layouts: usize,
    /// A type of each layout (its first).
    pub layout_reps: Vec<u32>,
    /// The capacity reservations of the types' reserved offerings (available or not), each with the
    /// least capacity any offering reports; cached with the classes so that a cluster view does not
    /// scan every offering for them ([`super::reservations::ReservationManager::new`]).
    pub reserved: Vec<(Sym, i64)>,
    /// The (zone, capacity type) pairs of the types' available offerings, when there are at most
    /// 64 (else empty, and [`TypeClasses::offering_mask`] always defers to the scan).
    offer_pairs: Vec<(Sym, Sym)>,
    /// Per type: bit `i` set when it has an available offering of pair `offer_pairs[i]`.
    offered: Vec<u64>,
}

impl TypeClasses {
    /// The classes of a shared list of types, computed once per list and cached while the list is
    /// alive (a weak reference pins its address, so a cached entry can never match another list).
    pub fn shared(types: &std::sync::Arc<Vec<TypeInfo>>) -> std::sync::Arc<TypeClasses> {
        use std::sync::{Arc, Mutex, Weak};
        type Cache = Mutex<Vec<(Weak<Vec<TypeInfo>>, Arc<TypeClasses>)>>;
        static CACHE: Cache = Mutex::new(Vec::new());
        let mut cache = CACHE.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((_, c)) = cache.iter().find(|(w, _)| std::ptr::eq(w.as_ptr(), Arc::as_ptr(types))) {
            return Arc::clone(c);
        }
        cache.retain(|(w, _)| w.strong_count() > 0);
        let c = Arc::new(TypeClasses::new(types));
        cache.push((Arc::downgrade(types), Arc::clone(&c)));
        c
    }

    pub fn new(types: &[TypeInfo]) -> TypeClasses {
        use std::hash::{Hash, Hasher};
        // What decides a class: the requirements but the instance type, and per offering its zone,
        // zone id, capacity type, availability and reservation. Read from what the requirements are
        // built of, so that no type's requirements are built for it: the labels but the instance
        // type (the offerings' requirement replaces that label), and the offerings (the offerings'
        // requirements are made of them alone: `state::offering_requirements`). Types equal in
        // both have equal requirements but the instance type's.
        fn labels_but_name(t: &TypeInfo) -> impl Iterator<Item = &(Sym, Option<Sym>)> {
            let it_key = *labels::INSTANCE_TYPE;
            t.it.labels.iter().filter(move |(k, _)| *k != it_key)
        }
        /// zone, zone id, capacity type, availability, reservation (id, interruptible, type)
        type OfferingKey<'a> = (Sym, Option<Sym>, Sym, bool, Option<(Sym, bool, &'a str)>);
        fn offs(t: &TypeInfo) -> impl Iterator<Item = OfferingKey<'_>> {
            t.it.offerings.iter().map(|o| {
                let res = o.reservation.as_ref().map(|r| (r.id, r.interruptible, r.reservation_type.as_str()));
                (o.zone, o.zone_id, o.capacity_type, o.available, res)
            })
        }
        // A fingerprint of that key, streamed into a hasher (no key built per type: AWS types are
        // nearly all their own class, so each type is printed and seldom compared). Equal keys
        // need only print equal, since a hit is compared in full (`same_class`): per label its
        // key and value; per offering its zone, capacity type and availability.
        let at = |s: Sym| s.as_str().as_ptr() as u64;
        let class_print = |i: usize| {
            let mut h = labels::SymHasher::default();
            for &(k, v) in labels_but_name(&types[i]) {
                h.write_u64(at(k) ^ v.map_or(0, at).rotate_left(32));
            }
            for o in &types[i].it.offerings {
                h.write_u64(at(o.zone) ^ at(o.capacity_type).rotate_left(32) ^ u64::from(o.available));
            }
            h.finish()
        };
        let same_class = |a: usize, b: usize| labels_but_name(&types[a]).eq(labels_but_name(&types[b])) && offs(&types[a]).eq(offs(&types[b]));
        let (class_of, reps) = group_by(types.len(), class_print, same_class, false);
        // The requirements' keys are the labels' keys and the offerings' (`state::from_offerings`:
        // fixed, but for the zone id): types with the same label keys in the same order and a zone
        // id or none hold the same requirement keys in the same order.
        let keys = |i: usize| types[i].it.labels.iter().map(|(k, _)| *k);
        let zone_ids: Vec<bool> = types.iter().map(|t| crate::state::has_zone_ids(&t.it)).collect();
        let layout_print = |i: usize| {
            let mut h = labels::SymHasher::default();
            keys(i).for_each(|k| k.hash(&mut h));
            zone_ids[i].hash(&mut h);
            h.finish()
        };
        // neighbours nearly always share their layout (a catalog's types all have the same keys)
        let same_layout = |a: usize, b: usize| zone_ids[a] == zone_ids[b] && keys(a).eq(keys(b));
        let (layout_of, layout_reps) = group_by(types.len(), layout_print, same_layout, true);
        #[cfg(debug_assertions)]
        check_classes(types, &class_of, &reps, &layout_of, &layout_reps);
        let mut reserved: Vec<(Sym, i64)> = Vec::new();
        for r in types.iter().flat_map(|t| &t.it.offerings).filter_map(|o| o.reservation.as_ref()) {
            match reserved.iter_mut().find(|(id, _)| *id == r.id) {
                Some((_, c)) => *c = (*c).min(r.capacity),
                None => reserved.push((r.id, r.capacity)),
            }
        }
        let (offer_pairs, offered) = offered_pairs(types);
        TypeClasses { class_of, reps, layout_of, layouts: layout_reps.len(), layout_reps, reserved, offer_pairs, offered }
    }

    /// The pairs of [`TypeClasses::offered`] that `reqs` allows, when that decides offering
    /// compatibility: `reqs` has no zone-id and no reservation requirement, so an offering is
    /// compatible exactly when its zone and capacity type are allowed ([`OfferingReqs::compatible`]
    /// then reads nothing else: no zone-id requirement passes every zone id, and with no
    /// reservation requirement both reserved and unreserved offerings pass). `None`: scan the
    /// offerings.
    pub(crate) fn offering_mask(&self, reqs: &Requirements) -> Option<u64> {
        let others = [*labels::ZONE_ID, *labels::RESERVATION_ID, *labels::RESERVATION_TYPE, *labels::RESERVATION_INTERRUPTIBLE];
        if self.offer_pairs.is_empty() || others.iter().any(|&k| reqs.has(k)) {
            return None;
        }
        let (zone, capacity_type) = (reqs.get(*labels::ZONE), reqs.get(*labels::CAPACITY_TYPE));
        let allows = |r: Option<&Requirement>, v: Sym| r.is_none_or(|r| r.has(v));
        Some(self.offer_pairs.iter().enumerate().fold(0, |m, (i, &(z, ct))| {
            if allows(zone, z) && allows(capacity_type, ct) { m | 1 << i } else { m }
        }))
    }

    /// Whether type `t` has an available offering of a pair in `mask` (an
    /// [`TypeClasses::offering_mask`]).
    #[inline]
    pub(crate) fn offered_in(&self, t: u32, mask: u64) -> bool {
        self.offered[t as usize] & mask != 0
    }
}

/// Debug builds: the classes and layouts read from labels and offerings group what the built
/// requirements would (every type's requirements but the instance type's equal its class
/// representative's, its requirement keys its layout representative's).
#[cfg(debug_assertions)]
fn check_classes(types: &[TypeInfo], class_of: &[u32], reps: &[u32], layout_of: &[u32], layout_reps: &[u32]) {
    let it_key = *labels::INSTANCE_TYPE;
    let but_name = |t: &TypeInfo| t.requirements.iter().filter(|(k, _)| *k != it_key).map(|(k, r)| (k, r.clone())).collect::<Vec<_>>();
    let keys = |t: &TypeInfo| t.requirements.iter().map(|(k, _)| k).collect::<Vec<_>>();
    for (i, t) in types.iter().enumerate() {
        let (rep, layout_rep) = (&types[reps[class_of[i] as usize] as usize], &types[layout_reps[layout_of[i] as usize] as usize]);
        assert_eq!(but_name(t), but_name(rep), "{} is not of the class of {}", t.it.name, rep.it.name);
        assert_eq!(keys(t), keys(layout_rep), "{} is not of the layout of {}", t.it.name, layout_rep.it.name);
    }
}

/// The (zone, capacity type) pairs of the types' available offerings, in order of first
/// appearance, and per type the mask of the pairs it offers; nothing when there are more than 64.
fn offered_pairs(types: &[TypeInfo]) -> (Vec<(Sym, Sym)>, Vec<u64>) {
    let mut pairs: Vec<(Sym, Sym)> = Vec::new();
    let mut offered = Vec::with_capacity(types.len());
    // the pair after the last one found is tried first: types list their offerings in the same
    // (zone, capacity type) order, so that nearly always hits without a scan of the pairs
    let mut next = 0;
    for t in types {
        let mut mask = 0u64;
        for o in t.it.offerings.iter().filter(|o| o.available) {
            let pair = (o.zone, o.capacity_type);
            let i = match pairs.get(next).filter(|&&p| p == pair).map(|_| next).or_else(|| pairs.iter().position(|&p| p == pair)) {
                Some(i) => i,
                None if pairs.len() == 64 => return (Vec::new(), Vec::new()),
                None => {
                    pairs.push((o.zone, o.capacity_type));
                    pairs.len() - 1
                }
            };
            mask |= 1 << i;
            next = i + 1;
        }
        offered.push(mask);
    }
    (pairs, offered)
}

/// Items `0..n` grouped by a key: `print` fingerprints an item's key, `same` compares two items'
/// keys in full (so equal fingerprints of different keys stay apart). Returns each item's group,
/// numbered in order of first appearance, and each group's first item. `neighbours`: first try
/// the group of the item before (no fingerprint needed when it is the same), for keys that
/// neighbours mostly share.
fn group_by(n: usize, print: impl Fn(usize) -> u64, same: impl Fn(usize, usize) -> bool, neighbours: bool) -> (Vec<u32>, Vec<u32>) {
    use std::collections::hash_map::Entry;
    // fingerprint -> its first group; `next_same[g]`: the next group with g's fingerprint
    // (sized for one group per item, as AWS types nearly are: growing it rehashed it ten times)
    let mut first: std::collections::HashMap<u64, u32, std::hash::BuildHasherDefault<labels::SymHasher>> =
        std::collections::HashMap::with_capacity_and_hasher(if neighbours { 0 } else { n }, Default::default());
    let mut next_same: Vec<u32> = Vec::new();
    let (mut group_of, mut reps) = (Vec::with_capacity(n), Vec::<u32>::new());
    for i in 0..n {
        if neighbours
            && let Some(&g) = group_of.last()
            && same(reps[g as usize] as usize, i)
        {
            group_of.push(g);
            continue;
        }
        let new_group = reps.len() as u32;
        let found = match first.entry(print(i)) {
            Entry::Vacant(e) => {
                e.insert(new_group);
                None
            }
            Entry::Occupied(e) => {
                let mut g = *e.get();
                loop {
                    if same(reps[g as usize] as usize, i) {
                        break Some(g);
                    }
                    if next_same[g as usize] == u32::MAX {
                        next_same[g as usize] = new_group;
                        break None;
                    }
                    g = next_same[g as usize];
                }
            }
        };
        group_of.push(found.unwrap_or_else(|| {
            reps.push(i as u32);
            next_same.push(u32::MAX);
            new_group
        }));
    }
    (group_of, reps)
}

/// Where some requirement keys sit in the types' requirements, per key layout (found once per
/// layout: [`TypeClasses::layout_of`]). AWS types share their layout, so looking a key up per
/// type (a scan of ~40 keys) becomes an index.
#[derive(Debug, Default)]
struct KeyPlaces {
    keys: Vec<Sym>,
    /// Per layout: the start of its places in `places`, or `u32::MAX` while not looked up.
    start: Vec<u32>,
    /// Per looked-up layout and key: the key's index, or `ABSENT`.
    places: Vec<u32>,
}

const ABSENT: u32 = u32::MAX;

impl KeyPlaces {
    /// Forget every place, for `layouts` layouts and the keys now in `self.keys`.
    fn reset(&mut self, layouts: usize) {
        self.start.clear();
        self.start.resize(layouts, u32::MAX);
        self.places.clear();
    }

    /// The places of the keys in the requirements of the types of `layout`, found in those of
    /// the layout's representative. (Inline, and the look-up apart: this runs for every class
    /// the filter decides.)
    #[inline]
    fn of(&mut self, layout: u32, types: &[TypeInfo], classes: &TypeClasses) -> &[u32] {
        let at = match self.start[layout as usize] {
            u32::MAX => self.look_up(layout, types, classes),
            at => at,
        } as usize;
        &self.places[at..at + self.keys.len()]
    }

    #[inline(never)]
    fn look_up(&mut self, layout: u32, types: &[TypeInfo], classes: &TypeClasses) -> u32 {
        let at = self.places.len() as u32;
        self.start[layout as usize] = at;
        let reqs = &*types[classes.layout_reps[layout as usize] as usize].requirements;
        self.places.extend(self.keys.iter().map(|&k| reqs.index_of(k).map_or(ABSENT, |i| i as u32)));
        at
    }
}

/// The general filter path's working buffers, held by a caller that filters many times (the
/// scheduler, once per NodeClaim it tries) and passed in as the output is, so that a call
/// allocates nothing once they have grown to the template's size.
#[derive(Debug, Default)]
pub(crate) struct FilterScratch {
    /// Per DaemonSet group: the total plus its overhead, `None` when its host ports conflict.
    needs: Vec<Option<Resources>>,
    /// Per class: 0 = not yet decided, else 1 | compatible-but-name << 1 | has-offering << 2.
    memo: Vec<u8>,
    /// The incoming requirements to check by key places: each key's index in the requirements.
    checks: Vec<u32>,
    places: KeyPlaces,
}

pub struct FilterInput<'a> {
    pub types: &'a [TypeInfo],
    /// When given, requirement and offering compatibility are decided once per class.
    pub classes: Option<&'a TypeClasses>,
    pub options: &'a [u32],
    pub groups: &'a [DaemonGroup],
    pub group_of: &'a [u32],
    pub reqs: &'a Requirements,
    pub total: &'a Resources,
    pub pod_ports: &'a [HostPort],
    pub claim_ports: &'a [HostPort],
    /// Every option is known to meet `reqs` and to have an available offering compatible with them
    /// (a NodeClaim's options, filtered by these same requirements when its last pod was added):
    /// only resources, ports and minValues are left to check.
    pub prefiltered: bool,
}

/// [`filter_known`] with nothing changed, no host ports on the pod and bounds for the total: a
/// NodeClaim's options against its own requirements, only `total` having grown, so only the
/// resource fit (and minValues over what is left) is decided again, without any set-up.
fn refit(input: &FilterInput, bounds: &FitBounds, core: &[i64; 4], out: &mut Vec<u32>) -> FilterFlags {
    for &t in input.options {
        if bounds.decide(t, core).unwrap_or_else(|| fits_in_full(input, input.total, t)) {
            out.push(t);
        }
    }
    // as the general path sets them: no port conflict, and every option meets the requirements
    // and has an offering (it did when the claim last took a pod)
    let mut flags = FilterFlags {
        requirements_met: !input.options.is_empty(),
        fits: !out.is_empty(),
        has_offering: !input.options.is_empty(),
        ..FilterFlags::default()
    };
    check_min_values(input, &mut flags, out);
    flags
}

/// Whether `total` plus type `t`'s DaemonSet overhead fits its allocatable (`resources.Fits`).
fn fits_in_full(input: &FilterInput, total: &Resources, t: u32) -> bool {
    total.add(&input.groups[input.group_of[t as usize] as usize].overhead).fits(&input.types[t as usize].it.allocatable)
}

/// Whether type `t` fits `need` (the total plus its DaemonSet group's overhead): by the fit bounds
/// for the total's core amounts when they decide, else by `resources.Fits`.
#[inline(always)]
fn fits_type(input: &FilterInput, bounded: Option<(&FitBounds, &[i64; 4])>, t: u32, need: &Resources) -> bool {
    match bounded.and_then(|(b, core)| b.decide(t, core)) {
        Some(fit) => fit,
        None => need.fits(&input.types[t as usize].it.allocatable),
    }
}

/// Clear `out` when what is left of it cannot meet the requirements' minValues, saying why.
fn check_min_values(input: &FilterInput, flags: &mut FilterFlags, out: &mut Vec<u32>) {
    if input.reqs.has_min_values()
        && !out.is_empty()
        && let Err(missing) = satisfies_min_values(input.types, out, input.reqs)
    {
        flags.min_values_missing = Some(missing);
        out.clear();
    }
}

/// Keep the options that meet the requirements, fit `total` plus their daemon group's overhead and
/// have a compatible available offering; then check minValues over what is left.
pub fn filter(input: &FilterInput, out: &mut Vec<u32>) -> FilterFlags {
    filter_known(input, input.prefiltered.then_some(&[]), None, &mut FilterScratch::default(), out)
}

/// The labels whose requirements decide offering compatibility (the ones [`OfferingReqs`] reads).
pub(crate) fn offering_keys() -> [Sym; 6] {
    [
        *labels::ZONE,
        *labels::CAPACITY_TYPE,
        *labels::ZONE_ID,
        *labels::RESERVATION_ID,
        *labels::RESERVATION_TYPE,
        *labels::RESERVATION_INTERRUPTIBLE,
    ]
}

/// [`filter`] for options already filtered by requirements that `input.reqs` differs from only on
/// the keys `changed` (`Some`; every key of those requirements is in `input.reqs`): a NodeClaim's
/// options against the claim's requirements tightened by a pod. Requirement compatibility is a
/// conjunction over keys (`Requirements::intersects`), so only the changed keys need checking, and
/// offerings only when one of them is an offering label (zone, capacity type...). `None`: nothing
/// is known, as [`filter`] without `prefiltered`. `bounds`: the template's [`FitBounds`], which
/// decide most fits without building `total + overhead`. `scratch`: buffers reused across calls.
pub(crate) fn filter_known(
    input: &FilterInput,
    changed: Option<&[Sym]>,
    bounds: Option<&FitBounds>,
    scratch: &mut FilterScratch,
    out: &mut Vec<u32>,
) -> FilterFlags {
    out.clear();
    // the types' fit bounds (`FitBounds`) for this total, when it has no extended resources: most
    // options are then decided by four comparisons, the others by the full check
    let core = bounds.and(FitBounds::core(input.total));
    if let (Some(bounds), Some(core), Some([])) = (bounds, &core, changed)
        && input.pod_ports.is_empty()
    {
        return refit(input, bounds, core, out);
    }
    let bounded = bounds.zip(core.as_ref());
    let mut flags = FilterFlags::default();
    if let Some(p) = host_ports::first_conflict(input.pod_ports, input.claim_ports) {
        flags.port_conflict = Some(p.clone());
        return flags;
    }
    let FilterScratch { needs, memo, checks, places } = scratch;
    needs.clear();
    for g in input.groups {
        if host_ports::first_conflict(input.pod_ports, &g.host_ports).is_none() {
            needs.push(Some(input.total.add(&g.overhead)));
        } else {
            needs.push(None);
            if flags.port_conflict.is_none() {
                flags.port_conflict = host_ports::first_conflict(input.pod_ports, &g.host_ports).cloned();
            }
        }
    }
    let offering_reqs = OfferingReqs::new(input.reqs);
    let it_key = *labels::INSTANCE_TYPE;
    // the instance-type requirement, when it needs checking: options filtered by requirements that
    // differ only on other keys already agreed with it (a NodeClaim's `instance-type In` its
    // template's types, left alone by most pods), as `meets` leaves it unchecked too
    let it_req = input.reqs.get(it_key).filter(|_| changed.is_none_or(|keys| keys.contains(&it_key)));
    // per class: 0 = not yet decided, else 1 | compatible-but-name << 1 | has-offering << 2
    memo.clear();
    memo.resize(input.classes.map_or(0, |c| c.reps.len()), 0);
    // the keys to check (all when nothing is known), and whether offerings need a look
    let recheck_offerings = changed.is_none_or(|keys| keys.iter().any(|k| offering_keys().contains(k)));
    // offering compatibility as a mask test per type, where zone and capacity type decide it
    let offering_mask = if recheck_offerings { input.classes.and_then(|c| c.offering_mask(input.reqs)) } else { None };
    let meets = |t: &TypeInfo| match changed {
        None => t.meets(input.reqs),
        Some(keys) => t.requirements.intersects_ok_on(input.reqs, keys.iter().copied()),
    };
    // With classes, the same check as `meets` but for the instance type's key, through the key places of each
    // layout: the incoming requirements to check (all but the instance type's, or the changed
    // ones that `reqs` holds) agree with the type's requirement on each key both hold. The
    // instance type's key comes last, for the name check.
    checks.clear();
    places.keys.clear();
    match (input.classes, changed) {
        (None, _) => {}
        (Some(_), None) => {
            checks.extend((0..input.reqs.len() as u32).filter(|&i| input.reqs.key_at(i as usize) != it_key));
        }
        (Some(_), Some(keys)) => {
            checks.extend(keys.iter().filter(|&&k| k != it_key).filter_map(|&k| input.reqs.index_of(k).map(|i| i as u32)));
        }
    }
    places.keys.extend(checks.iter().map(|&i| input.reqs.key_at(i as usize)).chain([it_key]));
    places.reset(input.classes.map_or(0, |c| c.layouts));
    let checks = &*checks;
    // (a type's requirements are read only where it holds a key to check)
    let agree = |t: &TypeInfo, places: &[u32]| {
        checks.iter().zip(places).all(|(&n, &p)| p == ABSENT || t.requirements.at(p as usize).agrees_with(input.reqs.at(n as usize)))
    };
    let only_fit = changed.is_some_and(<[Sym]>::is_empty);
    // the flags in locals while the loop runs (the loop visits every option of the claim)
    let (mut requirements_met, mut fits, mut has_offering) = (false, false, false);
    for &t in input.options {
        let Some(need) = needs[input.group_of[t as usize] as usize].as_ref() else { continue };
        let (compat, fit, offering) = match input.classes {
            _ if only_fit => (true, fits_type(input, bounded, t, need), true),
            Some(classes) => {
                let c = classes.class_of[t as usize] as usize;
                let mut m = memo[c];
                if m == 0 {
                    let r = classes.reps[c];
                    let rep = &input.types[r as usize];
                    let layout = classes.layout_of[r as usize];
                    let rest = agree(rep, places.of(layout, input.types, classes));
                    let offering = !recheck_offerings
                        || match offering_mask {
                            Some(m) => classes.offered_in(r, m),
                            None => rep.it.offerings.iter().any(|of| of.available && offering_reqs.compatible(of)),
                        };
                    m = 1 | (u8::from(rest) << 1) | (u8::from(offering) << 2);
                    memo[c] = m;
                }
                let (rest, offering) = (m & 2 != 0, m & 4 != 0);
                // the name: the type's own `instance-type In [name]` against the requirement, if any
                let name_ok = it_req.is_none_or(|n| {
                    let layout = classes.layout_of[t as usize];
                    let p = *places.of(layout, input.types, classes).last().unwrap_or(&ABSENT);
                    let it = &input.types[t as usize];
                    p == ABSENT || it.requirements.at(p as usize).agrees_with(n)
                });
                (rest && name_ok, offering && fits_type(input, bounded, t, need), offering)
            }
            None => {
                let it = &input.types[t as usize];
                let compat = meets(it);
                let (fit, offering) = if recheck_offerings { fits_with(it, need, &offering_reqs) } else { (need.fits(&it.it.allocatable), true) };
                (compat, fit, offering)
            }
        };
        requirements_met |= compat;
        fits |= fit;
        has_offering |= offering;
        if compat && fit && offering {
            out.push(t);
        }
    }
    flags.requirements_met = requirements_met;
    flags.fits = fits;
    flags.has_offering = has_offering;
    check_min_values(input, &mut flags, out);
    flags
}

/// `SatisfiesMinValues` (§2.7) over a set of types: the union of their values must reach each
/// requirement's minValues. Returns a description of what is missing.
pub fn satisfies_min_values(types: &[TypeInfo], options: &[u32], reqs: &Requirements) -> Result<(), String> {
    let mut missing = Vec::new();
    for (k, r) in reqs.iter() {
        let Some(m) = r.min_values() else { continue };
        let mut seen: BTreeSet<Sym> = BTreeSet::new();
        for &t in options {
            if let Some(tr) = types[t as usize].requirements.get(k) {
                seen.extend(tr.values().iter().copied());
            }
        }
        if (seen.len() as u32) < m {
            missing.push(format!("{k} needs {m} distinct values, only {} possible", seen.len()));
        }
    }
    if missing.is_empty() { Ok(()) } else { Err(missing.join("; ")) }
}

fn fmt_amount(name: &str, v: i64) -> String {
    if name == crate::resources::CPU { format_cpu_milli(v) } else { format_amount(name, v) }
}

/// A sentence a person can act on, for a filter that left nothing.
pub fn explain(pool: Sym, input: &FilterInput, flags: &FilterFlags) -> String {
    if let Some(p) = &flags.port_conflict
        && !flags.requirements_met
        && !flags.fits
    {
        return format!(
            "host port {}/{} is already used on NodeClaims of NodePool {pool} (by a DaemonSet or another pod)",
            p.port, p.protocol
        );
    }
    if let Some(m) = &flags.min_values_missing {
        return format!("NodePool {pool} cannot meet minValues: {m}");
    }
    let opts = || input.options.iter().map(|&t| &input.types[t as usize]);
    if !flags.requirements_met {
        // find the requirement key that eliminated every option
        for (k, r) in input.reqs.iter() {
            let mut single = Requirements::new();
            single.add(k, r.clone());
            if opts().all(|it| it.requirements.intersects(&single).is_err()) {
                let have: BTreeSet<Sym> = opts().filter_map(|it| it.requirements.get(k)).flat_map(|r| r.values().to_vec()).collect();
                let shown: Vec<&str> = have.iter().take(6).map(|s| s.as_str()).collect();
                let more = if have.len() > 6 { format!(" and {} more", have.len() - 6) } else { String::new() };
                return if have.is_empty() {
                    format!("no instance type in NodePool {pool} has label {k} ({k} {r} required)")
                } else {
                    format!("no instance type in NodePool {pool} has {k} {r}; available: {}{more}", shown.join(", "))
                };
            }
        }
        return format!("no instance type in NodePool {pool} meets all of {}", input.reqs);
    }
    let compatible: Vec<&TypeInfo> =
        opts().filter(|it| it.requirements.intersects(input.reqs).is_ok() && fits(it, &Resources::new(), input.reqs).1).collect();
    if compatible.is_empty() {
        let zone = input.reqs.get(*labels::ZONE).map(Requirement::to_string).unwrap_or_else(|| "any".into());
        let ct = input.reqs.get(*labels::CAPACITY_TYPE).map(Requirement::to_string).unwrap_or_else(|| "any".into());
        return format!(
            "no instance type in NodePool {pool} that meets the requirements has an available offering (zone {zone}, capacity type {ct})"
        );
    }
    // resource problem: name the resource no type can hold, and the largest type for it
    let min_overhead = input.groups.iter().map(|g| g.overhead.clone()).reduce(|a, b| a.min(&b)).unwrap_or_default();
    let need = input.total.add(&min_overhead);
    for (name, amount) in need.iter() {
        let best =
            compatible.iter().max_by(|a, b| a.it.allocatable.get(name).cmp(&b.it.allocatable.get(name)).then(b.it.name.cmp(&a.it.name)));
        if let Some(best) = best {
            let have = best.it.allocatable.get(name);
            if amount > have {
                return format!(
                    "no instance type in NodePool {pool} has {} {name} allocatable{}; largest is {} with {}",
                    fmt_amount(name, amount),
                    if min_overhead.iter().next().is_some() { " (pod plus DaemonSet overhead)" } else { "" },
                    best.it.name,
                    fmt_amount(name, have)
                );
            }
        }
    }
    let parts: Vec<String> = need.iter().map(|(k, v)| format!("{k} {}", fmt_amount(k, v))).collect();
    format!("no instance type in NodePool {pool} that meets the requirements fits {} together", parts.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::CatalogSource;
    use crate::catalog::custom::parse_custom_catalog;
    use std::sync::Arc;

    /// The classes by direct comparison: a type joins the first class whose representative has the
    /// same requirements except the instance type and the same offering keys.
    fn classes_by_comparison(types: &[TypeInfo]) -> (Vec<u32>, Vec<u32>) {
        let key = |t: &TypeInfo| {
            let reqs: Vec<(Sym, Requirement)> =
                t.requirements.iter().filter(|(k, _)| *k != *labels::INSTANCE_TYPE).map(|(k, r)| (k, r.clone())).collect();
            let offs: Vec<_> = t.it.offerings.iter().map(|o| (o.zone, o.zone_id, o.capacity_type, o.available, o.reservation_id())).collect();
            (reqs, offs)
        };
        let (mut class_of, mut reps) = (Vec::new(), Vec::<u32>::new());
        for (i, t) in types.iter().enumerate() {
            let k = key(t);
            let c = match reps.iter().position(|&r| key(&types[r as usize]) == k) {
                Some(c) => c as u32,
                None => {
                    reps.push(i as u32);
                    reps.len() as u32 - 1
                }
            };
            class_of.push(c);
        }
        (class_of, reps)
    }

    /// Types that share requirements and offerings (a custom catalog's) fall in one class, whatever
    /// lies between them; AWS types, each with its own labels, are their own classes; and one
    /// unavailable offering sets a type apart.
    #[test]
    fn classes_group_exactly_the_types_that_compare_equal() {
        let items: Vec<serde_json::Value> = (0..30)
            .map(|i| {
                let offerings: Vec<serde_json::Value> = [("z1", "spot"), ("z2", "on-demand")]
                    .iter()
                    .map(|(z, c)| serde_json::json!({"zone": z, "capacity_type": c, "price": 1.0, "available": i % 7 != 3 || *c == "spot"}))
                    .collect();
                let labels = if i % 5 == 0 { serde_json::json!({"team": "a"}) } else { serde_json::json!({}) };
                serde_json::json!({"name": format!("t-{i:02}"), "capacity": {"cpu": "2", "memory": "4Gi", "pods": "10"}, "labels": labels, "offerings": offerings})
            })
            .collect();
        let text = serde_json::json!({ "instance_types": items }).to_string();
        let custom = parse_custom_catalog("classes", &text).unwrap();
        let aws = CatalogSource::default_aws().resolve(None).unwrap();
        let mut types: Vec<TypeInfo> = Vec::new();
        for (i, it) in custom.instance_types.iter().enumerate() {
            types.push(TypeInfo::new(Arc::clone(it)));
            types.extend(aws.instance_types.iter().skip(i * 45).take(45).map(|it| TypeInfo::new(Arc::clone(it))));
        }
        let classes = TypeClasses::new(&types);
        let (class_of, reps) = classes_by_comparison(&types);
        assert_eq!(classes.class_of, class_of);
        assert_eq!(classes.reps, reps);
        // the custom types make four classes: plain, labelled, an offering unavailable, both
        let custom_classes: BTreeSet<u32> = (0..30).map(|i| class_of[i * 46]).collect();
        assert_eq!(custom_classes.len(), 4, "{custom_classes:?}");
        // one layout for the types with the same keys in the same order
        let keys = |t: &TypeInfo| t.requirements.iter().map(|(k, _)| k).collect::<Vec<_>>();
        for (i, a) in types.iter().enumerate().step_by(7) {
            for (j, b) in types.iter().enumerate().step_by(11) {
                assert_eq!(classes.layout_of[i] == classes.layout_of[j], keys(a) == keys(b), "{i} {j}");
            }
        }
    }

    /// Offering compatibility by the (zone, capacity type) mask agrees with scanning each type's
    /// offerings (unavailable and reserved ones included) whenever the mask answers, and the mask
    /// defers to the scan when a zone-id or reservation requirement is present.
    #[test]
    fn offering_mask_agrees_with_scanning_the_offerings() {
        use crate::requirements::Operator::{self, *};
        let offering = |z: &str, c: &str, available: bool| {
            let mut o = serde_json::json!({"zone": z, "capacity_type": c, "price": 1.0, "available": available});
            if c == "reserved" {
                o["reservation_id"] = serde_json::json!(format!("cr-{z}"));
                o["count"] = serde_json::json!(2);
            }
            o
        };
        let items: Vec<serde_json::Value> = (0..12)
            .map(|i| {
                let mut offerings = vec![offering("z1", "spot", i % 3 != 0), offering("z2", "on-demand", i % 4 != 1)];
                if i % 5 == 2 {
                    offerings.push(offering("z3", "reserved", true));
                }
                serde_json::json!({"name": format!("t-{i:02}"), "capacity": {"cpu": "2", "memory": "4Gi", "pods": "10"}, "offerings": offerings})
            })
            .collect();
        let custom = parse_custom_catalog("mask", &serde_json::json!({ "instance_types": items }).to_string()).unwrap();
        let aws = CatalogSource::default_aws().resolve(None).unwrap();
        let types: Vec<TypeInfo> =
            custom.instance_types.iter().chain(aws.instance_types.iter().step_by(3)).map(|it| TypeInfo::new(Arc::clone(it))).collect();
        let classes = TypeClasses::new(&types);
        let req = |pairs: &[(&str, Operator, &[&str])]| {
            let mut r = Requirements::new();
            for (k, op, v) in pairs {
                let values: Vec<String> = v.iter().map(|s| s.to_string()).collect();
                r.add(Sym::new(k), Requirement::new(*op, &values, None).unwrap());
            }
            r
        };
        let (zone, ct) = ("topology.kubernetes.io/zone", "karpenter.sh/capacity-type");
        let masked = [
            req(&[]),
            req(&[(zone, In, &["z1"])]),
            req(&[(zone, In, &["us-east-1b", "z3"])]),
            req(&[(zone, NotIn, &["z1", "us-east-1a"])]),
            req(&[(ct, In, &["spot"])]),
            req(&[(ct, In, &["reserved"])]),
            req(&[(zone, In, &["z2", "us-east-1c"]), (ct, In, &["on-demand"])]),
            req(&[(zone, Exists, &[])]),
            req(&[(ct, DoesNotExist, &[])]),
        ];
        let scanned = [
            req(&[("topology.k8s.aws/zone-id", In, &["use1-az1"])]),
            req(&[("karpenter.k8s.aws/capacity-reservation-id", In, &["cr-z3"])]),
            req(&[("karpenter.k8s.aws/capacity-reservation-id", DoesNotExist, &[])]),
        ];
        let mut agreed = 0;
        for reqs in &masked {
            let mask = classes.offering_mask(reqs).unwrap_or_else(|| panic!("no mask for {reqs}"));
            for (t, it) in types.iter().enumerate() {
                let scan = it.it.offerings.iter().any(|of| of.available && offering_compatible(reqs, of));
                assert_eq!(classes.offered_in(t as u32, mask), scan, "{} against {reqs}", it.it.name);
                agreed += usize::from(scan);
            }
        }
        assert!(agreed > 100 && agreed < masked.len() * types.len(), "{agreed}");
        for reqs in &scanned {
            assert_eq!(classes.offering_mask(reqs), None, "{reqs}");
        }
    }

    /// Deciding requirements once per class, with keys looked up once per layout, keeps exactly
    /// the options that checking each type's requirements keeps: from scratch, and for options
    /// already filtered by requirements that a pod then tightened on some keys; deciding fits by
    /// the types' fit bounds too, and refitting a claim's options to a grown total.
    #[test]
    fn classes_keep_what_checking_each_type_keeps() {
        use crate::requirements::Operator::{self, *};
        let aws = CatalogSource::default_aws().resolve(None).unwrap();
        let types: Vec<TypeInfo> = aws.instance_types.iter().map(|it| TypeInfo::new(Arc::clone(it))).collect();
        let classes = TypeClasses::new(&types);
        let daemons = Resources::from_pairs([("cpu", 500), ("memory", 1 << 30), ("pods", 2)]);
        let groups = [
            DaemonGroup { overhead: Resources::new(), host_ports: Vec::new() },
            DaemonGroup { overhead: daemons, host_ports: Vec::new() },
        ];
        let group_of: Vec<u32> = (0..types.len() as u32).map(|t| t % 2).collect();
        let bounds = FitBounds::new(&types, &groups, &group_of);
        let total = Resources::from_pairs([("cpu", 3000), ("memory", 6 << 30), ("pods", 3)]);
        // a claim that then takes a pod: more of the options no longer fit
        let grown = Resources::from_pairs([("cpu", 7500), ("memory", 30 << 30), ("pods", 9)]);
        let req = |k: &str, op: Operator, v: &[&str]| {
            let values: Vec<String> = v.iter().map(|s| s.to_string()).collect();
            let mut r = Requirements::new();
            r.add(Sym::new(k), Requirement::new(op, &values, None).unwrap());
            r
        };
        let sets = [
            Requirements::new(),
            req("topology.kubernetes.io/zone", In, &["us-east-1a"]),
            req("karpenter.sh/capacity-type", In, &["spot"]),
            req("karpenter.k8s.aws/instance-family", NotIn, &["m5", "c5"]),
            req("karpenter.k8s.aws/instance-cpu", Gt, &["16"]),
            req("node.kubernetes.io/instance-type", In, &["m5.large", "c7g.xlarge", "p4d.24xlarge"]),
            req("karpenter.k8s.aws/instance-gpu-name", Exists, &[]),
            req("team", In, &["a"]),
            // no offering mask: compatibility by scanning the offerings
            req("topology.k8s.aws/zone-id", In, &["use1-az1", "use1-az4"]),
        ];
        let scratch = std::cell::RefCell::new(FilterScratch::default());
        let filter_total = |total: &Resources, classes: Option<&TypeClasses>, options: &[u32], reqs: &Requirements, changed: Option<&[Sym]>, bounds: Option<&FitBounds>| {
            let input = FilterInput {
                types: &types,
                classes,
                options,
                groups: &groups,
                group_of: &group_of,
                reqs,
                total,
                pod_ports: &[],
                claim_ports: &[],
                prefiltered: false,
            };
            let mut out = Vec::new();
            // one scratch for every call, as the scheduler keeps it: nothing of a call leaks into the next
            let flags = filter_known(&input, changed, bounds, &mut scratch.borrow_mut(), &mut out);
            (out, flags.requirements_met, flags.fits, flags.has_offering)
        };
        let filter_with = |classes: Option<&TypeClasses>, options: &[u32], reqs: &Requirements, changed: Option<&[Sym]>| {
            let plain = filter_total(&total, classes, options, reqs, changed, None);
            // the fit bounds change nothing
            assert_eq!(filter_total(&total, classes, options, reqs, changed, Some(&bounds)), plain, "{reqs}");
            plain
        };
        let all: Vec<u32> = (0..types.len() as u32).collect();
        let (mut kept, mut dropped) = (0, 0);
        for base in &sets {
            let (options, ..) = filter_with(None, &all, base, None);
            assert_eq!(filter_with(Some(&classes), &all, base, None), filter_with(None, &all, base, None), "{base}");
            for more in &sets {
                let mut reqs = base.clone();
                reqs.add_all(more);
                let changed: Vec<Sym> = more.iter().map(|(k, _)| k).collect();
                let by_class = filter_with(Some(&classes), &options, &reqs, Some(&changed));
                assert_eq!(by_class, filter_with(None, &options, &reqs, Some(&changed)), "{reqs}");
                assert_eq!(by_class, filter_with(None, &all, &reqs, None), "{reqs}");
                kept += by_class.0.len();
                // the claim takes a pod that adds no requirement: only the fit is decided again
                let (kept_now, ..) = &by_class;
                let refit = filter_total(&grown, Some(&classes), kept_now, &reqs, Some(&[]), Some(&bounds));
                assert_eq!(refit, filter_total(&grown, Some(&classes), kept_now, &reqs, Some(&[]), None), "{reqs}");
                assert_eq!(refit.0, filter_total(&grown, None, &all, &reqs, None, None).0, "{reqs}");
                dropped += kept_now.len() - refit.0.len();
            }
        }
        assert!(kept > 1000, "{kept}");
        assert!(dropped > 100, "{dropped}");
    }
}
