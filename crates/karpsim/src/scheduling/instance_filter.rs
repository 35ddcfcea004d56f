//! Shrinking a NodeClaim's instance-type options (`nodeclaim.go: filterInstanceTypesByRequirements`,
//! `fits`, `compatible`; design §3.8), and explaining why nothing was left.

use super::daemons::DaemonGroup;
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
    /// The capacity reservations of the types' reserved offerings (available or not), each with the
    /// least capacity any offering reports; cached with the classes so that a cluster view does not
    /// scan every offering for them ([`super::reservations::ReservationManager::new`]).
    pub reserved: Vec<(Sym, i64)>,
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
        // zone, zone id, capacity type, available, reservation id
        type OfferingKey = (Sym, Option<Sym>, Sym, bool, Option<Sym>);
        type Key<'a> = (Vec<(Sym, &'a Requirement)>, Vec<OfferingKey>);
        let mut map: std::collections::HashMap<Key, u32, std::hash::BuildHasherDefault<labels::SymHasher>> =
            Default::default();
        let mut out = TypeClasses { class_of: Vec::with_capacity(types.len()), reps: Vec::new(), reserved: Vec::new() };
        let it_key = *labels::INSTANCE_TYPE;
        for (i, t) in types.iter().enumerate() {
            let reqs: Vec<(Sym, &Requirement)> = t.requirements.iter().filter(|(k, _)| *k != it_key).collect();
            let offs: Vec<OfferingKey> =
                t.it.offerings.iter().map(|o| (o.zone, o.zone_id, o.capacity_type, o.available, o.reservation_id())).collect();
            for r in t.it.offerings.iter().filter_map(|o| o.reservation.as_ref()) {
                match out.reserved.iter_mut().find(|(id, _)| *id == r.id) {
                    Some((_, c)) => *c = (*c).min(r.capacity),
                    None => out.reserved.push((r.id, r.capacity)),
                }
            }
            let next = map.len() as u32;
            let c = *map.entry((reqs, offs)).or_insert_with(|| {
                out.reps.push(i as u32);
                next
            });
            out.class_of.push(c);
        }
        out
    }
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

/// Keep the options that meet the requirements, fit `total` plus their daemon group's overhead and
/// have a compatible available offering; then check minValues over what is left.
pub fn filter(input: &FilterInput, out: &mut Vec<u32>) -> FilterFlags {
    filter_known(input, input.prefiltered.then_some(&[]), out)
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
/// is known, as [`filter`] without `prefiltered`.
pub fn filter_known(input: &FilterInput, changed: Option<&[Sym]>, out: &mut Vec<u32>) -> FilterFlags {
    out.clear();
    let mut flags = FilterFlags::default();
    if let Some(p) = host_ports::first_conflict(input.pod_ports, input.claim_ports) {
        flags.port_conflict = Some(p.clone());
        return flags;
    }
    let mut needs: Vec<Option<Resources>> = vec![None; input.groups.len()];
    for (gi, g) in input.groups.iter().enumerate() {
        if host_ports::first_conflict(input.pod_ports, &g.host_ports).is_none() {
            needs[gi] = Some(input.total.add(&g.overhead));
        } else if flags.port_conflict.is_none() {
            flags.port_conflict = host_ports::first_conflict(input.pod_ports, &g.host_ports).cloned();
        }
    }
    let offering_reqs = OfferingReqs::new(input.reqs);
    let it_key = *labels::INSTANCE_TYPE;
    let it_req = input.reqs.get(it_key);
    // per class: 0 = not yet decided, else 1 | compatible-but-name << 1 | has-offering << 2
    let mut memo: Vec<u8> = input.classes.map(|c| vec![0; c.reps.len()]).unwrap_or_default();
    // the keys to check (all when nothing is known), and whether offerings need a look
    let recheck_offerings = changed.is_none_or(|keys| keys.iter().any(|k| offering_keys().contains(k)));
    let meets = |r: &Requirements, skip: Option<Sym>| match changed {
        None => r.intersects_ok_except(input.reqs, skip),
        Some(keys) => r.intersects_ok_on(input.reqs, keys.iter().copied().filter(|&k| Some(k) != skip)),
    };
    for &t in input.options {
        let Some(need) = needs[input.group_of[t as usize] as usize].as_ref() else { continue };
        let it = &input.types[t as usize];
        let (compat, fit, offering) = match input.classes {
            _ if changed.is_some_and(<[Sym]>::is_empty) => (true, need.fits(&it.it.allocatable), true),
            Some(classes) => {
                let c = classes.class_of[t as usize] as usize;
                if memo[c] == 0 {
                    let rep = &input.types[classes.reps[c] as usize];
                    let rest = meets(&rep.requirements, Some(it_key));
                    let offering = !recheck_offerings || rep.it.offerings.iter().any(|of| of.available && offering_reqs.compatible(of));
                    memo[c] = 1 | (u8::from(rest) << 1) | (u8::from(offering) << 2);
                }
                let (rest, offering) = (memo[c] & 2 != 0, memo[c] & 4 != 0);
                // the name: the type's own `instance-type In [name]` against the requirement, if any
                let name_ok = match (it_req, it.requirements.get(it_key)) {
                    (Some(n), Some(e)) => e.agrees_with(n),
                    _ => true,
                };
                (rest && name_ok, offering && need.fits(&it.it.allocatable), offering)
            }
            None => {
                let compat = meets(&it.requirements, None);
                let (fit, offering) = if recheck_offerings { fits_with(it, need, &offering_reqs) } else { (need.fits(&it.it.allocatable), true) };
                (compat, fit, offering)
            }
        };
        flags.requirements_met |= compat;
        flags.fits |= fit;
        flags.has_offering |= offering;
        if compat && fit && offering {
            out.push(t);
        }
    }
    if input.reqs.has_min_values()
        && !out.is_empty()
        && let Err(missing) = satisfies_min_values(input.types, out, input.reqs)
    {
        flags.min_values_missing = Some(missing);
        out.clear();
    }
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
