//! The cluster state the algorithms take: NodePools with their resolved instance types, existing
//! nodes, pods (pending and bound), DaemonSets and PDBs. Building it is the only place where
//! NodePools meet catalogs.

use crate::catalog::{Catalog, InstanceType, overlay};
use crate::error::{Error, Location, Result};
use crate::labels::{self, Sym};
use crate::model::{CapacityReservation, Namespace, Node, NodeClass, NodeOverlay, NodePool, Pod, PodDisruptionBudget, Shared};
use crate::requirements::{Requirement, Requirements};
use std::collections::BTreeMap;
use std::sync::{Arc, LazyLock, Mutex, OnceLock};

/// The trait impls of a list read like a slice ([`BoxList`], [`GapList`]), written once: each
/// list has `new`, `len`, `iter` and `iter_mut` (with its own `Iter` and `IterMut`) and `into_vec`.
macro_rules! slice_like_impls {
    ($list:ident) => {
        impl<T> Default for $list<T> {
            fn default() -> $list<T> {
                $list::new()
            }
        }

        impl<T: std::fmt::Debug> std::fmt::Debug for $list<T> {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.debug_list().entries(self.iter()).finish()
            }
        }

        impl<T> From<$list<T>> for Vec<T> {
            fn from(list: $list<T>) -> Vec<T> {
                list.into_vec()
            }
        }

        impl<'a, T: Clone + 'a> Extend<&'a T> for $list<T> {
            fn extend<I: IntoIterator<Item = &'a T>>(&mut self, items: I) {
                self.extend(items.into_iter().cloned());
            }
        }

        impl<'a, T> IntoIterator for &'a $list<T> {
            type Item = &'a T;
            type IntoIter = Iter<'a, T>;

            fn into_iter(self) -> Iter<'a, T> {
                self.iter()
            }
        }

        impl<'a, T> IntoIterator for &'a mut $list<T> {
            type Item = &'a mut T;
            type IntoIter = IterMut<'a, T>;

            fn into_iter(self) -> IterMut<'a, T> {
                self.iter_mut()
            }
        }

        impl<T: PartialEq> PartialEq<[T]> for $list<T> {
            fn eq(&self, other: &[T]) -> bool {
                self.len() == other.len() && self.iter().eq(other)
            }
        }

        impl<T: PartialEq> PartialEq<Vec<T>> for $list<T> {
            fn eq(&self, other: &Vec<T>) -> bool {
                *self == **other
            }
        }

        impl<T: serde::Serialize> serde::Serialize for $list<T> {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.collect_seq(self.iter())
            }
        }
    };
}
use slice_like_impls;

pub mod box_list;
pub mod gap_list;

/// Seeded changes the list tests (`gap_list.rs`, `box_list.rs`) share.
#[cfg(test)]
mod seeded_changes {
    use rand::RngExt;
    use rand::rngs::Xoshiro256PlusPlus;

    /// Pushes one to four new numbers (from `next` on) through `push`.
    pub(super) fn push_some(rng: &mut Xoshiro256PlusPlus, next: &mut u64, mut push: impl FnMut(u64)) {
        for _ in 0..rng.random_range(1..5) {
            push(*next);
            *next += 1;
        }
    }

    /// One to `most` positions below `len` (not 0), ascending, each once.
    pub(super) fn positions(rng: &mut Xoshiro256PlusPlus, len: usize, most: usize) -> Vec<usize> {
        let mut at: Vec<usize> = (0..rng.random_range(1..=len.min(most))).map(|_| rng.random_range(0..len)).collect();
        at.sort_unstable();
        at.dedup();
        at
    }
}
mod node_list;
pub use box_list::{BoxList, TakenOut};
pub use gap_list::GapList;
pub use node_list::NodeList;

/// The pods of a [`ClusterState`], in the state's order, read like a slice of [`Pod`]s, in a
/// [`GapList`]: removing pods (those that go with a deleted node) leaves gaps, closed now and then,
/// rather than moving every later pod.
pub type PodList = GapList<Pod>;

/// An instance type with its requirements (§1.3: every label as `In`/`DoesNotExist`, zone and
/// capacity type from its available offerings), built the first time something reads them.
#[derive(Debug, Clone)]
pub struct TypeInfo {
    pub it: Arc<InstanceType>,
    pub requirements: TypeRequirements,
}

impl TypeInfo {
    pub fn new(it: Arc<InstanceType>) -> TypeInfo {
        Self::built_by(it, &Arc::default())
    }

    /// [`TypeInfo::new`] of each type, in order. The types of a catalog share their label keys (an
    /// AWS type has the same 24 as every other): how labels and the offerings' requirements merge
    /// is worked out for the first type of a key layout and reused while the keys stay the same
    /// (the builder is shared by the types of one call).
    pub fn all(types: impl IntoIterator<Item = Arc<InstanceType>>) -> Vec<TypeInfo> {
        let builder = Arc::default();
        types.into_iter().map(|it| Self::built_by(it, &builder)).collect()
    }

    fn built_by(it: Arc<InstanceType>, builder: &Arc<Mutex<TypeInfoBuilder>>) -> TypeInfo {
        TypeInfo { requirements: TypeRequirements { it: Arc::clone(&it), builder: Arc::clone(builder), built: OnceLock::new() }, it }
    }

    /// `self.requirements.intersects_ok(reqs)`, answered from the type's labels when every key of
    /// `reqs` the type has is one of its labels (held once) and no offerings' requirement: a
    /// NodePool's template requirements are checked against every type of its catalog, and
    /// building ~30 requirements per type for that was most of a small run's start-up.
    pub fn meets(&self, reqs: &Requirements) -> bool {
        if let Some(built) = self.requirements.built.get() {
            return built.intersects_ok(reqs);
        }
        let mut unknown = false;
        let ok = reqs.iter().all(|(k, n)| match label_on(&self.it, k) {
            OnKey::Absent => true,
            OnKey::Label(v) => label_requirement(v).agrees_with(n),
            OnKey::Other => {
                unknown = true;
                false
            }
        });
        let meets = if unknown { self.requirements.intersects_ok(reqs) } else { ok };
        debug_assert_eq!(meets, self.requirements.intersects_ok(reqs), "{}: {reqs}", self.it.name);
        meets
    }
}

/// A type's [`Requirements`], built on first use (by the builder its [`TypeInfo::all`] call
/// shares) and kept: a run reads the requirements of the types its pods and NodePools actually
/// narrow down, and a small run reads few. Reads as the built [`Requirements`].
#[derive(Clone)]
pub struct TypeRequirements {
    it: Arc<InstanceType>,
    builder: Arc<Mutex<TypeInfoBuilder>>,
    built: OnceLock<Requirements>,
}

impl std::ops::Deref for TypeRequirements {
    type Target = Requirements;

    #[inline]
    fn deref(&self) -> &Requirements {
        match self.built.get() {
            Some(r) => r,
            None => self.build(),
        }
    }
}

impl TypeRequirements {
    #[cold]
    fn build(&self) -> &Requirements {
        // (a poisoned builder holds only caches checked before use: its state is still sound)
        self.built.get_or_init(|| self.builder.lock().unwrap_or_else(|e| e.into_inner()).requirements(&self.it))
    }
}

impl std::fmt::Debug for TypeRequirements {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        (**self).fmt(f)
    }
}

/// What a type's requirements hold on one key, as far as its labels tell.
enum OnKey {
    /// nothing: neither a label nor an offerings' requirement has the key
    Absent,
    /// the requirement of its one label with the key (`In [v]`, `DoesNotExist` for `None`)
    Label(Option<Sym>),
    /// an offerings' requirement, or several labels with the key: only the built requirements tell
    Other,
}

fn label_on(it: &InstanceType, k: Sym) -> OnKey {
    if from_offerings(it, k) {
        return OnKey::Other;
    }
    // (a scan by pointer: labels are few, and sorted by string only by convention)
    let mut found = None;
    for &(lk, v) in &it.labels {
        if lk == k {
            if found.is_some() {
                return OnKey::Other;
            }
            found = Some(v);
        }
    }
    found.map_or(OnKey::Absent, OnKey::Label)
}

/// Whether a type's requirement on `k` comes from its offerings (replacing a label of the same
/// key): the keys [`offering_requirements`] gives the type.
pub(crate) fn from_offerings(it: &InstanceType, k: Sym) -> bool {
    // (the keys read once, not six lazily initialised statics per key and type)
    static ALWAYS: LazyLock<[Sym; 6]> = LazyLock::new(|| {
        [*labels::RESERVATION_ID, *labels::RESERVATION_INTERRUPTIBLE, *labels::RESERVATION_TYPE, *labels::CAPACITY_TYPE, *labels::INSTANCE_TYPE, *labels::ZONE]
    });
    ALWAYS.contains(&k) || (k == *labels::ZONE_ID && has_zone_ids(it))
}

/// Whether the type's offerings give it a zone-id requirement (an available offering with one).
pub(crate) fn has_zone_ids(it: &InstanceType) -> bool {
    it.offerings.iter().any(|o| o.available && o.zone_id.is_some())
}

/// Builds [`TypeInfo`]s, keeping the merge plan of the last key layout (see [`TypeInfo::all`]).
#[derive(Default)]
struct TypeInfoBuilder {
    /// The label keys and the offerings' keys the plan was made for (compared as interned
    /// pointers: ~55 string comparisons a type were a quarter of building its requirements).
    label_keys: Vec<Sym>,
    extra_keys: Vec<Sym>,
    /// `None`: the label keys are not strictly sorted (then labels are added one by one).
    plan: Option<Vec<Take>>,
    made: bool,
    /// The last values of each offerings' list (capacity types, zone ids, zones) and the
    /// requirement made of them: neighbouring types mostly share them, and sorting them by string
    /// was a third of building a type's requirements.
    lists: [Option<(Distinct, Requirement)>; 3],
}

/// A list of values without repeats, held inline (see [`distinct`]).
type Distinct = smallvec::SmallVec<[Sym; 8]>;

/// What a type's offerings require (at most seven keys), held inline: one allocation and one free
/// fewer per type.
type OfferingRequirements = smallvec::SmallVec<[(Sym, Requirement); 7]>;

/// One step of merging a type's sorted labels with the offerings' sorted requirements.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Take {
    /// the next label
    Label,
    /// the next offerings' requirement
    Extra,
    /// the next offerings' requirement, in place of the next label (same key)
    Replace,
}

impl TypeInfoBuilder {
    fn requirements(&mut self, it: &InstanceType) -> Requirements {
        let extra = offering_requirements(it, &mut self.lists);
        // (slices compared in place: through a `dyn Iterator` this was a call per key and type)
        fn same<T>(kept: &[Sym], items: &[(Sym, T)]) -> bool {
            kept.len() == items.len() && kept.iter().zip(items).all(|(k, i)| *k == i.0)
        }
        if !(self.made && same(&self.label_keys, &it.labels) && same(&self.extra_keys, &extra)) {
            self.label_keys.clear();
            self.label_keys.extend(it.labels.iter().map(|l| l.0));
            self.extra_keys.clear();
            self.extra_keys.extend(extra.iter().map(|e| e.0));
            let sorted = self.label_keys.windows(2).all(|w| w[0] < w[1]);
            self.plan = sorted.then(|| merge_plan(&self.label_keys, &self.extra_keys));
            self.made = true;
        }
        let requirements = match &self.plan {
            Some(plan) => merged_requirements(plan, &it.labels, extra),
            None => added_requirements(&it.labels, extra),
        };
        debug_assert!(requirements.iter().all(|(k, _)| from_offerings(it, k) == self.extra_keys.contains(&k)));
        requirements
    }
}

/// What the offerings say, replacing a label of the same key; in key order (the merge needs it;
/// `Requirements::from_sorted` checks it in debug builds).
fn offering_requirements(it: &InstanceType, lists: &mut [Option<(Distinct, Requirement)>; 3]) -> OfferingRequirements {
    let mut extra = OfferingRequirements::new();
    // the AWS provider's reservation labels: the type's reservations, else DoesNotExist
    // (types.go: computeRequirements)
    let reservations: Vec<&crate::catalog::OfferingReservation> = it.offerings.iter().filter_map(|o| o.reservation.as_ref()).collect();
    if reservations.is_empty() {
        for k in [*labels::RESERVATION_ID, *labels::RESERVATION_INTERRUPTIBLE, *labels::RESERVATION_TYPE] {
            extra.push((k, Requirement::does_not_exist()));
        }
    } else {
        extra.push((*labels::RESERVATION_ID, Requirement::is_in(reservations.iter().map(|x| x.id))));
        extra.push((*labels::RESERVATION_INTERRUPTIBLE, Requirement::is_in(reservations.iter().map(|x| Sym::new(if x.interruptible { "true" } else { "false" })))));
        extra.push((*labels::RESERVATION_TYPE, Requirement::is_in(reservations.iter().map(|x| Sym::new(x.reservation_type.as_str())))));
    }
    let avail = || it.offerings.iter().filter(|o| o.available);
    let [capacity_types, zone_ids, zones] = lists;
    extra.push((*labels::CAPACITY_TYPE, is_in_kept(capacity_types, distinct(avail().map(|o| o.capacity_type)))));
    extra.push((*labels::INSTANCE_TYPE, Requirement::is_in_one(it.name)));
    let ids = distinct(avail().filter_map(|o| o.zone_id));
    if !ids.is_empty() {
        extra.push((*labels::ZONE_ID, is_in_kept(zone_ids, ids)));
    }
    extra.push((*labels::ZONE, is_in_kept(zones, distinct(avail().map(|o| o.zone)))));
    extra
}

/// `In values`, taken from `kept` when it was made of the same values (in the same order).
fn is_in_kept(kept: &mut Option<(Distinct, Requirement)>, values: Distinct) -> Requirement {
    match kept {
        Some((v, r)) if *v == values => r.clone(),
        _ => {
            let r = Requirement::is_in(values.iter().copied());
            *kept = Some((values, r.clone()));
            r
        }
    }
}

/// The values in first-seen order without repeats (compared as interned pointers: sorting the
/// repeats as strings was most of the cost of a type's zone and capacity-type requirements). Held
/// inline, so that the requirement's own list is allocated once at its exact size.
fn distinct(values: impl Iterator<Item = Sym>) -> Distinct {
    let mut out = Distinct::new();
    for v in values {
        if !out.contains(&v) {
            out.push(v);
        }
    }
    out
}

fn label_requirement(v: Option<Sym>) -> Requirement {
    match v {
        Some(v) => Requirement::is_in_one(v),
        None => Requirement::does_not_exist(),
    }
}

/// A type's requirements: its labels added, then `extra` set (replacing a label of the same key).
fn added_requirements(labels: &[(Sym, Option<Sym>)], extra: impl IntoIterator<Item = (Sym, Requirement)>) -> Requirements {
    let mut r = Requirements::new();
    for &(k, v) in labels {
        r.add(k, label_requirement(v));
    }
    for (k, req) in extra {
        r.set(k, req);
    }
    r
}

/// How label keys and the offerings' keys, each sorted and unique, merge into one sorted list
/// where an offerings' key replaces the label of the same key.
fn merge_plan(labels: &[Sym], extra: &[Sym]) -> Vec<Take> {
    let mut plan = Vec::with_capacity(labels.len() + extra.len());
    let mut extra = extra.iter().peekable();
    for k in labels {
        while extra.next_if(|e| *e < k).is_some() {
            plan.push(Take::Extra);
        }
        plan.push(if extra.next_if(|e| *e == k).is_some() { Take::Replace } else { Take::Label });
    }
    plan.extend(extra.map(|_| Take::Extra));
    plan
}

/// [`added_requirements`] for labels and `extra` each sorted with unique keys (as catalogs give
/// them): the two lists merged into place by their [`merge_plan`], without a search or an
/// insertion per key.
fn merged_requirements(plan: &[Take], labels: &[(Sym, Option<Sym>)], extra: impl IntoIterator<Item = (Sym, Requirement)>) -> Requirements {
    let mut items = Vec::with_capacity(plan.len());
    let (mut labels, mut extra) = (labels.iter(), extra.into_iter());
    for take in plan {
        match take {
            Take::Label => items.extend(labels.next().map(|&(k, v)| (k, label_requirement(v)))),
            Take::Extra => items.extend(extra.next()),
            Take::Replace => {
                labels.next();
                items.extend(extra.next());
            }
        }
    }
    Requirements::from_sorted(items)
}

/// The instance types one NodePool can launch.
#[derive(Debug, Clone)]
pub struct PoolTypes {
    pub catalog_name: String,
    pub types: Arc<Vec<TypeInfo>>,
}

/// Everything the provisioning scheduler and the disruption logic read.
#[derive(Debug, Clone)]
pub struct ClusterState {
    pub nodepools: Vec<NodePool>,
    pub nodeclasses: Vec<NodeClass>,
    /// Instance types per NodePool name (NodePools that are not ready have none).
    pub pool_types: BTreeMap<Sym, PoolTypes>,
    /// NodePools that are not Ready, with why (a missing EC2NodeClass): they launch nothing.
    pub unready_nodepools: BTreeMap<Sym, String>,
    /// Label keys a NodeClaim may be asked for without its NodePool defining them: Karpenter's
    /// well-known labels and the label keys of the catalogs' instance types.
    pub well_known: Arc<labels::WellKnown>,
    /// The nodes, in order ([`NodeList`]: removing one moves no other).
    pub nodes: NodeList,
    /// The pods, in order ([`PodList`]: removing one moves no other).
    pub pods: PodList,
    /// One representative pod per DaemonSet.
    pub daemonsets: Vec<Pod>,
    pub pdbs: Vec<PodDisruptionBudget>,
    /// `Namespace` objects with their labels, for `namespaceSelector` (namespaces that hold pods but
    /// are not here carry only their name label).
    pub namespaces: Vec<Namespace>,
    pub warnings: Vec<String>,
    /// NodeOverlays, already applied to `pool_types` ([`ClusterState::apply_overlays`]).
    pub overlays: Vec<NodeOverlay>,
    /// Capacity reservations of NodePools without an EC2NodeClass (karpsim's default NodeClass):
    /// the user's reservations when the inputs hold no EC2NodeClass.
    pub default_reservations: Vec<CapacityReservation>,
}

impl ClusterState {
    /// Assemble a state, resolving each NodePool's instance types with `resolve(nodeclass)`
    /// (the NodeClass the pool references, `None` when the input has no NodeClasses at all).
    pub fn new(
        nodepools: Vec<NodePool>,
        nodeclasses: Vec<NodeClass>,
        nodes: Vec<Node>,
        pods: Vec<Pod>,
        daemonsets: Vec<Pod>,
        pdbs: Vec<PodDisruptionBudget>,
        resolve: impl FnMut(Option<&NodeClass>) -> Result<Arc<Catalog>>,
    ) -> Result<ClusterState> {
        let Resolved { pool_types, unready_nodepools, well_known, mut warnings } = resolve_pool_types(&nodepools, &nodeclasses, resolve)?;
        if nodepools.iter().any(|p| p.replicas.is_some()) {
            // said once with the cluster, so provision, consolidate, simulate and compare all show it
            warnings.push(STATIC_GATE_WARNING.to_string());
        }
        Ok(ClusterState {
            nodepools,
            nodeclasses,
            pool_types,
            unready_nodepools,
            well_known,
            nodes: nodes.into(),
            pods: pods.into(),
            daemonsets,
            pdbs,
            namespaces: Vec::new(),
            warnings,
            overlays: Vec::new(),
            default_reservations: Vec::new(),
        })
    }

    /// Apply NodeOverlays to the pools' instance types (which must be the ones their NodeClasses
    /// resolve to, as [`ClusterState::new`] leaves them) and keep them for later rebuilds.
    pub fn apply_overlays(&mut self, overlays: Vec<NodeOverlay>) -> Result<()> {
        self.overlays = overlays;
        if self.overlays.is_empty() {
            return Ok(());
        }
        let names: Vec<Sym> = self.nodepools.iter().map(|p| p.name).filter(|n| self.pool_types.contains_key(n)).collect();
        let bases: Vec<Arc<Vec<TypeInfo>>> = names.iter().map(|n| Arc::clone(&self.pool_types[n].types)).collect();
        let its: Vec<Vec<Arc<InstanceType>>> = bases.iter().map(|b| b.iter().map(|t| Arc::clone(&t.it)).collect()).collect();
        let pools: Vec<(&NodePool, &[Arc<InstanceType>])> = names
            .iter()
            .zip(&its)
            .filter_map(|(n, t)| self.nodepools.iter().find(|p| p.name == *n).map(|p| (p, t.as_slice())))
            .collect();
        let plan = overlay::plan(&pools, &self.overlays)?;
        // pools of one NodeClass that the overlays change alike share their types (and the caches
        // keyed by them)
        type Built<'a> = (*const Vec<TypeInfo>, &'a overlay::PoolUpdates, Arc<Vec<TypeInfo>>);
        let mut built: Vec<Built> = Vec::new();
        for (i, name) in names.iter().enumerate() {
            let updates = &plan.pools[i];
            if updates.is_empty() && plan.unpriced_fill.is_empty() {
                continue;
            }
            let base = Arc::as_ptr(&bases[i]);
            let types = match built.iter().find(|(b, u, _)| *b == base && *u == updates) {
                Some((_, _, t)) => Arc::clone(t),
                None => {
                    let applied = overlay::apply(&its[i], updates, &plan)?;
                    let t = Arc::new(TypeInfo::all(applied));
                    built.push((base, updates, Arc::clone(&t)));
                    t
                }
            };
            if let Some(pt) = self.pool_types.get_mut(name) {
                pt.types = types;
            }
        }
        for w in plan.warnings {
            if !self.warnings.contains(&w) {
                self.warnings.push(w);
            }
        }
        Ok(())
    }

    /// Resolve every NodePool's instance types again from `catalog` (after a change of NodeClass
    /// settings, their capacity reservations, prices or the overlays, as a what-if variant makes),
    /// apply the overlays again and re-price the existing nodes. Warnings already present are kept;
    /// new ones (a price source that changed, say) are added once.
    pub fn recatalog(&mut self, catalog: &crate::catalog::CatalogSource) -> Result<()> {
        let default_nc = NodeClass { capacity_reservations: self.default_reservations.clone(), ..NodeClass::default() };
        let Resolved { pool_types, unready_nodepools, well_known, mut warnings } =
            resolve_pool_types(&self.nodepools, &self.nodeclasses, |nc| catalog.resolve(Some(nc.unwrap_or(&default_nc))))?;
        (self.pool_types, self.unready_nodepools, self.well_known) = (pool_types, unready_nodepools, well_known);
        let overlays = std::mem::take(&mut self.overlays);
        self.apply_overlays(overlays)?;
        warnings.extend(self.price_nodes(catalog)?);
        for w in warnings {
            if !self.warnings.contains(&w) {
                self.warnings.push(w);
            }
        }
        Ok(())
    }

    /// The latest timestamp in the input (node heartbeats included): the moment a snapshot was
    /// taken, as far as it tells.
    pub fn snapshot_time(&self) -> crate::model::Timestamp {
        let nodes = self.nodes.iter().flat_map(|n| [Some(n.creation_timestamp), n.last_pod_event, n.observed]).flatten();
        let pods = self.pods.iter().flat_map(|p| [Some(p.creation_timestamp), p.start_time]).flatten();
        nodes.chain(pods).max().unwrap_or(0)
    }

    /// Keep only the instance types compatible with `reqs` in every NodePool (a catalog narrowed by
    /// node-selector requirements, e.g. Python's `Catalog.filter`).
    pub fn retain_types(&mut self, reqs: &Requirements) {
        for pt in self.pool_types.values_mut() {
            let kept: Vec<TypeInfo> = pt.types.iter().filter(|t| t.requirements.intersects(reqs).is_ok()).cloned().collect();
            pt.types = Arc::new(kept);
        }
    }

    /// Change a capacity reservation wherever it appears: its NodeClasses' count (or their `expiring`
    /// state), and every pool's reserved offering of it, whose availability follows
    /// ([`update_reservation`]). `delta` is the change in instances left (−1 for a launch into it,
    /// `availabilityCache.MarkLaunched`; +1 when one of its instances ends, `MarkTerminated`).
    pub fn change_reservation(&mut self, id: Sym, delta: i64, expiring: bool) {
        let classes = self.nodeclasses.iter_mut().flat_map(|c| c.capacity_reservations.iter_mut());
        for r in classes.chain(self.default_reservations.iter_mut()).filter(|r| r.id == id) {
            r.count = Some((r.count.unwrap_or(0) + delta).max(0));
            r.expiring |= expiring;
        }
        let mut done: Vec<(*const Vec<TypeInfo>, Arc<Vec<TypeInfo>>)> = Vec::new();
        for pt in self.pool_types.values_mut() {
            let old = Arc::as_ptr(&pt.types);
            if let Some((_, t)) = done.iter().find(|(p, _)| *p == old) {
                pt.types = Arc::clone(t);
            } else if let Some(t) = update_reservation(&pt.types, id, delta, expiring) {
                done.push((old, Arc::clone(&t)));
                pt.types = t;
            }
        }
    }

    /// Every capacity reservation of the NodeClasses and karpsim's default one, once each (by id).
    pub fn reservations(&self) -> BTreeMap<Sym, &CapacityReservation> {
        let classes = self.nodeclasses.iter().flat_map(|c| c.capacity_reservations.iter());
        classes.chain(self.default_reservations.iter()).map(|r| (r.id, r)).collect()
    }

    /// What the capacity reservations themselves cost per hour, used or not: each reservation's
    /// instances (those it can still launch and the nodes in it) at its type's on-demand price in
    /// its zone as the NodePools' types have it (after NodeOverlays: AWS applies Savings Plans to
    /// reservations too), as AWS bills an On-Demand Capacity Reservation (a capacity block, paid
    /// upfront, is approximated the same way). Returns `(id, USD per hour)` for each reservation with instances,
    /// and a warning for each whose on-demand price the NodePools' types do not have (not counted).
    pub fn reservation_fees(&self) -> (Vec<(Sym, f64)>, Vec<String>) {
        let on_demand = Sym::new(labels::CAPACITY_TYPE_ON_DEMAND);
        let (mut fees, mut warnings) = (Vec::new(), Vec::new());
        for r in self.reservations().into_values() {
            let in_use = self.nodes.iter().filter(|n| n.labels.get(&*labels::RESERVATION_ID) == Some(&r.id)).count() as f64;
            let instances = r.count.unwrap_or(0).max(0) as f64 + in_use;
            let price = self
                .pool_types
                .values()
                .flat_map(|pt| pt.types.iter())
                .find(|t| t.it.name == r.instance_type)
                .and_then(|t| t.it.offerings.iter().find(|o| o.zone == r.zone && o.capacity_type == on_demand))
                .map(|o| o.price);
            match price {
                None => warnings.push(format!("capacity reservation {}: no on-demand price for {} in {}; its fee is not counted", r.id, r.instance_type, r.zone)),
                Some(p) if instances > 0.0 => fees.push((r.id, instances * p)),
                Some(_) => {}
            }
        }
        (fees, warnings)
    }

    /// A capacity reservation of the NodeClasses (or of karpsim's default one), by id.
    pub fn reservation(&self, id: Sym) -> Option<&CapacityReservation> {
        let classes = self.nodeclasses.iter().flat_map(|c| c.capacity_reservations.iter());
        classes.chain(self.default_reservations.iter()).find(|r| r.id == id)
    }

    /// Give each existing node its hourly price: the catalog offering of its instance type, zone and
    /// capacity type (`OfferingPrice`, §1.4), and its capacity and allocatable when the input did not
    /// state them. Returns a warning for nodes of types the catalog does not have, and one for
    /// reserved nodes whose reservation is not in the inputs.
    fn price_nodes(&mut self, catalog: &crate::catalog::CatalogSource) -> Result<Vec<String>> {
        let mut default_types: Option<Arc<Catalog>> = None;
        let mut unknown = BTreeMap::<Sym, usize>::new();
        let mut unreserved = 0;
        // each pool's types by name (the first of a name, as a scan finds it), and the default
        // catalog's: made once, where cloning every type of the node's pool for each node to scan
        // them grew with nodes × types
        let mut pools_by_name: labels::SymMap<labels::SymMap<usize>> = labels::SymMap::default();
        let mut default_by_name: Option<labels::SymMap<usize>> = None;
        for n in &mut self.nodes {
            let Some(it_name) = n.instance_type else { continue };
            let found: Option<&InstanceType> = match n.nodepool.and_then(|p| self.pool_types.get(&p).map(|pt| (p, pt))) {
                Some((p, pt)) => {
                    let by_name = pools_by_name.entry(p).or_insert_with(|| first_position_by_name(pt.types.iter().map(|t| t.it.name)));
                    by_name.get(&it_name).map(|&i| &*pt.types[i].it)
                }
                None => {
                    if default_types.is_none() {
                        default_types = Some(catalog.resolve(None)?);
                    }
                    let types: &[Arc<InstanceType>] = default_types.as_ref().map(|c| c.instance_types.as_slice()).unwrap_or_default();
                    let by_name = default_by_name.get_or_insert_with(|| first_position_by_name(types.iter().map(|t| t.name)));
                    by_name.get(&it_name).map(|&i| &*types[i])
                }
            };
            match found {
                Some(it) => {
                    // `statenode.go: Allocatable/Capacity`: an initialized (or unmanaged) node's own
                    // status as reported, even all zero; a managed node not initialized yet takes the
                    // NodeClaim's figure for every resource it reports as zero (done when its NodeClaim
                    // is in the inputs, else the catalog's stands in for it). A Node without status (a
                    // manifest) stands for its catalog type.
                    if !n.resources_reported {
                        n.allocatable = it.allocatable.clone();
                        n.capacity = it.capacity.clone();
                    } else if n.nodepool.is_some() && !n.initialized && !n.has_nodeclaim {
                        fill_zeros(&mut n.allocatable, &it.allocatable);
                        fill_zeros(&mut n.capacity, &it.capacity);
                    }
                    // nodes outside Karpenter carry no karpenter.sh/capacity-type: EKS managed node
                    // groups say it in their own label; anything else is priced as on-demand
                    let ct = n.capacity_type.unwrap_or_else(|| match n.labels.get(&Sym::new("eks.amazonaws.com/capacityType")).map(|s| s.as_str()) {
                        Some("SPOT") => Sym::new(labels::CAPACITY_TYPE_SPOT),
                        _ => Sym::new(labels::CAPACITY_TYPE_ON_DEMAND),
                    });
                    // OfferingPrice: the first offering of the node's zone and capacity type
                    n.price = it.offerings.iter().find(|o| Some(o.zone) == n.zone && o.capacity_type == ct).map(|o| o.price);
                    if n.price.is_none() && ct.as_str() == labels::CAPACITY_TYPE_RESERVED {
                        unreserved += 1;
                    }
                }
                None => *unknown.entry(it_name).or_default() += 1,
            }
        }
        let mut warnings = Vec::new();
        if !unknown.is_empty() {
            let list: Vec<String> = unknown.iter().map(|(k, v)| format!("{k} ({v})")).collect();
            warnings.push(format!("nodes of instance types not in the catalog have no price: {}", list.join(", ")));
        }
        if unreserved > 0 {
            warnings.push(format!(
                "{unreserved} reserved node(s) have no reserved offering in their zone (their capacity reservation is not in the inputs); priced at $0, as Karpenter's OfferingPrice does"
            ));
        }
        Ok(warnings)
    }

    pub fn node(&self, name: Sym) -> Option<&Node> {
        self.nodes.iter().find(|n| n.name == name)
    }
}

/// The position of the first of each name in `names` (what a scan for a name finds first).
pub(crate) fn first_position_by_name(names: impl IntoIterator<Item = Sym>) -> labels::SymMap<usize> {
    let mut m = labels::SymMap::default();
    for (i, name) in names.into_iter().enumerate() {
        m.entry(name).or_insert(i);
    }
    m
}

/// Static NodePools are Karpenter's StaticCapacity feature gate, off by default (v1.14.1
/// `pkg/operator/options/options.go`); karpsim holds them whenever given.
const STATIC_GATE_WARNING: &str = "static NodePools (spec.replicas) are held at their count; Karpenter does so only with its StaticCapacity feature gate (alpha, off by default: FEATURE_GATES=StaticCapacity=true)";

impl ClusterState {
    /// Build the state from loaded inputs and a catalog: NodePools without an EC2NodeClass get
    /// karpsim's default one with the user's capacity reservations, the NodeOverlays are applied, and
    /// existing nodes get their hourly price from the catalog offering of their instance type, zone
    /// and capacity type (`OfferingPrice`, §1.4).
    pub fn from_inputs(inputs: crate::io::Inputs, catalog: &crate::catalog::CatalogSource) -> Result<ClusterState> {
        // an error about a NodePool names the file and document it was read from
        let pool_origins: BTreeMap<String, Location> =
            inputs.nodepools.iter().filter_map(|p| inputs.origin("NodePool", p.name.as_str()).map(|o| (p.name.to_string(), o.clone()))).collect();
        let locate = |e: Error| match e {
            Error::Input { at, message } if at.kind.as_deref() == Some("NodePool") => {
                let origin = at.object.as_ref().and_then(|o| pool_origins.get(o));
                let at = match origin {
                    Some(o) => Location { file: o.file.clone(), document: o.document, ..*at },
                    None => *at,
                };
                Error::input(at, message)
            }
            other => other,
        };
        let crate::io::Inputs { nodepools, nodeclasses, pods, daemonsets, nodes, pdbs, namespaces, warnings, overlays, default_reservations, .. } = inputs;
        let daemonsets = with_daemonsets_from_pods(daemonsets, &pods);
        let default_nc = NodeClass { capacity_reservations: default_reservations.clone(), ..NodeClass::default() };
        let mut state =
            ClusterState::new(nodepools, nodeclasses, nodes, pods, daemonsets, pdbs, |nc| catalog.resolve(Some(nc.unwrap_or(&default_nc))))
                .map_err(locate)?;
        check_sums(&state.nodes, &state.pods, &state.daemonsets)?;
        state.default_reservations = default_reservations;
        state.apply_overlays(overlays)?;
        let unpriced = state.price_nodes(catalog)?;
        let mut all_warnings = warnings;
        all_warnings.append(&mut state.warnings);
        all_warnings.extend(unpriced);
        // `nodeclaim/podevents`: a node's last pod event is when a pod (not a DaemonSet's) was
        // bound to it, went terminal or began terminating; consolidateAfter runs from it
        let mut events: BTreeMap<Sym, crate::model::Timestamp> = BTreeMap::new();
        for p in state.pods.iter().filter(|p| !p.is_daemonset_pod()) {
            let Some(node) = p.node_name else { continue };
            let finished = p.finished_at.filter(|_| p.is_terminal());
            let t = [Some(p.start_time.unwrap_or(p.creation_timestamp)), finished, p.deletion_timestamp].into_iter().flatten().max();
            if let Some(t) = t {
                let e = events.entry(node).or_insert(t);
                *e = (*e).max(t);
            }
        }
        for n in &mut state.nodes {
            if n.last_pod_event.is_none()
                && let Some(&t) = events.get(&n.name)
            {
                n.last_pod_event = Some(t.max(n.creation_timestamp));
            }
        }
        state.warnings = all_warnings;
        state.namespaces = namespaces;
        Ok(state)
    }
}

/// The types with one reservation's count changed by `delta` (floored at zero) and, if `expiring`,
/// made unlaunchable; `None` when no type has the reservation. Types without it keep their `Arc`.
pub fn update_reservation(types: &Arc<Vec<TypeInfo>>, id: Sym, delta: i64, expiring: bool) -> Option<Arc<Vec<TypeInfo>>> {
    let has = |t: &TypeInfo| t.it.offerings.iter().any(|o| o.reservation_id() == Some(id));
    if !types.iter().any(has) {
        return None;
    }
    let out = types
        .iter()
        .map(|t| {
            if !has(t) {
                return t.clone();
            }
            let mut it = (*t.it).clone();
            for o in it.offerings.iter_mut() {
                if let Some(r) = o.reservation.as_mut().filter(|r| r.id == id) {
                    r.capacity = (r.capacity + delta).max(0);
                    r.launchable &= !expiring;
                    o.available = r.available();
                }
            }
            TypeInfo::new(Arc::new(it))
        })
        .collect();
    Some(Arc::new(out))
}

/// The totals the algorithms build from the inputs must stay within the integer range: the requests
/// of the pods bound to each node, and of all DaemonSets together (a node's DaemonSet overhead is a
/// part of that). Each pod's own requests were checked when it was read.
fn check_sums(nodes: &NodeList, pods: &PodList, daemonsets: &[Pod]) -> Result<()> {
    let too_much = |kind: &str, object: String, what: String, k: &str| {
        let at = Location { kind: Some(kind.into()), object: Some(object), ..Default::default() };
        Error::input(at, format!("{what} add up to more {k} than karpsim can hold (at most {})", crate::resources::max_amount_text(k)))
    };
    let mut ds_total = crate::resources::Resources::new();
    for d in daemonsets {
        ds_total = ds_total.checked_add(&d.requests).map_err(|k| {
            let name = d.owner.as_ref().map_or(d.name, |o| o.name);
            too_much("DaemonSet", format!("{}/{name}", d.namespace), "the requests of this DaemonSet and the ones before it".into(), k)
        })?;
    }
    let index: BTreeMap<Sym, usize> = nodes.iter().enumerate().map(|(i, n)| (n.name, i)).collect();
    let mut used = vec![crate::resources::Resources::new(); nodes.len()];
    for p in pods.iter().filter(|p| !p.is_terminal()) {
        let Some(&i) = p.node_name.and_then(|n| index.get(&n)) else { continue };
        used[i] = used[i]
            .checked_add(&p.requests)
            .map_err(|k| too_much("Node", nodes[i].name.to_string(), format!("the requests of the pods bound to it (up to pod {})", p.key()), k))?;
    }
    Ok(())
}

/// What resolving the NodePools' instance types gives.
struct Resolved {
    pool_types: BTreeMap<Sym, PoolTypes>,
    unready_nodepools: BTreeMap<Sym, String>,
    well_known: Arc<labels::WellKnown>,
    warnings: Vec<String>,
}

/// The instance types of each NodePool, resolved once per NodeClass with `resolve`; the pools that
/// are not ready (a missing EC2NodeClass), the label keys that are well-known, and the catalogs'
/// warnings (each once).
fn resolve_pool_types(
    nodepools: &[NodePool],
    nodeclasses: &[NodeClass],
    mut resolve: impl FnMut(Option<&NodeClass>) -> Result<Arc<Catalog>>,
) -> Result<Resolved> {
    let mut warnings = Vec::new();
    let mut cache: BTreeMap<Option<Sym>, PoolTypes> = BTreeMap::new();
    let mut pool_types = BTreeMap::new();
    let mut unready_nodepools = BTreeMap::new();
    for np in nodepools {
        if np.deleting {
            warnings.push(format!("NodePool {} is being deleted (metadata.deletionTimestamp): it launches nothing", np.name));
        }
        let class = match np.node_class {
            Some(name) if !nodeclasses.is_empty() => match nodeclasses.iter().find(|c| c.name == name) {
                Some(c) => Some(c),
                None => {
                    // NodeClassReady=False makes the NodePool not Ready: the provisioner skips it
                    // (`provisioner.go: NewScheduler`), and the AWS provider resolves no instance
                    // types for it (`cloudprovider.go: GetInstanceTypes`, NotFound -> none)
                    let given: Vec<&str> = nodeclasses.iter().map(|c| c.name.as_str()).collect();
                    let why = format!("its EC2NodeClass {name} is not in the inputs (given: {})", given.join(", "));
                    warnings.push(format!("NodePool {} is not ready: {why}; it launches nothing", np.name));
                    unready_nodepools.insert(np.name, why);
                    continue;
                }
            },
            _ => None,
        };
        let key = class.map(|c| c.name);
        let types = match cache.get(&key) {
            Some(t) => t.clone(),
            None => {
                let catalog = resolve(class)?;
                for w in &catalog.warnings {
                    if !warnings.contains(w) {
                        warnings.push(w.clone());
                    }
                }
                let t = PoolTypes {
                    catalog_name: catalog.name.clone(),
                    types: Arc::new(TypeInfo::all(catalog.instance_types.iter().cloned())),
                };
                cache.insert(key, t.clone());
                t
            }
        };
        pool_types.insert(np.name, types);
    }
    // (a type with the label keys of the type before it adds none: AWS types share all 24 keys)
    let same_keys = |a: &[(Sym, Option<Sym>)], b: &[(Sym, Option<Sym>)]| a.iter().map(|l| l.0).eq(b.iter().map(|l| l.0));
    let well_known = Arc::new(labels::WellKnown::with_catalog_keys(cache.values().flat_map(|pt| {
        let types = pt.types.iter().enumerate();
        types
            .filter(|&(i, t)| i == 0 || !same_keys(&pt.types[i - 1].it.labels, &t.it.labels))
            .flat_map(|(_, t)| t.it.labels.iter().map(|(k, _)| *k))
    })));
    Ok(Resolved { pool_types, unready_nodepools, well_known, warnings })
}

/// Every resource of `reported` that is zero (or absent) takes the value `fallback` has for it.
fn fill_zeros(reported: &mut crate::resources::Resources, fallback: &crate::resources::Resources) {
    for (name, v) in fallback.iter() {
        if reported.get(name) == 0 {
            reported.set(name, v);
        }
    }
}

/// The daemon overhead as Karpenter reads it: a DaemonSet's newest pod in the inputs stands in for
/// its template (`state/cluster.go: UpdateDaemonSet` keeps the newest controlled pod), with the
/// template's required node affinity, which the DaemonSet controller replaces by a pin to the
/// pod's node (`provisioner.go: getDaemonSetPods`); a pod resized by a LimitRange or an
/// autoscaler counts as it runs. DaemonSets known only through their pods (a `kubectl get pods`
/// snapshot) are represented by their newest pod too. Ties in creation time go to the greater name.
fn with_daemonsets_from_pods(mut daemonsets: Vec<crate::model::Pod>, pods: &[crate::model::Pod]) -> Vec<crate::model::Pod> {
    let mut newest: BTreeMap<(Sym, Sym), &crate::model::Pod> = BTreeMap::new();
    for p in pods.iter().filter(|p| p.is_daemonset_pod()) {
        let Some(owner) = p.owner.as_ref().map(|o| o.name) else { continue };
        let e = newest.entry((p.namespace, owner)).or_insert(p);
        if (p.creation_timestamp, p.name) > (e.creation_timestamp, e.name) {
            *e = p;
        }
    }
    for ds in &mut daemonsets {
        let Some(p) = ds.owner.as_ref().and_then(|o| newest.remove(&(ds.namespace, o.name))) else { continue };
        let template_required = std::mem::take(&mut ds.affinity.node_required);
        let (namespace, name, uid, owner) = (ds.namespace, ds.name, ds.uid, ds.owner.clone());
        *ds = p.clone();
        (ds.namespace, ds.name, ds.uid, ds.owner) = (namespace, name, uid, owner);
        ds.node_name = None;
        if !template_required.is_empty() {
            ds.affinity.node_required = template_required;
        }
    }
    for p in newest.into_values() {
        let mut rep = p.clone();
        rep.node_name = None;
        daemonsets.push(rep);
    }
    daemonsets
}

/// Whether the labels a per-node cache kept (a clone of the node's [`Shared`] labels) are equal
/// to the node's labels now: how the caches of the cluster view and of drift check an entry. The
/// same address means the same labels (a write to a shared value copies it first), so the ~30
/// labels of a node are compared only when the node was relabelled or rebuilt.
pub(crate) fn same_labels(kept: &Shared<BTreeMap<Sym, Sym>>, labels: &Shared<BTreeMap<Sym, Sym>>) -> bool {
    Shared::ptr_eq(kept, labels) || **kept == **labels
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::CatalogSource;

    /// The per-node caches' label check: a kept clone matches while nobody writes, and a node
    /// relabelled after the clone was kept (same or different content) is compared by content.
    #[test]
    fn kept_labels_match_until_the_node_is_relabelled() {
        let sym = Sym::new;
        let mut labels: Shared<BTreeMap<Sym, Sym>> = BTreeMap::from([(sym("a"), sym("1")), (sym("b"), sym("2"))]).into();
        let kept = labels.clone();
        assert!(same_labels(&kept, &labels));
        labels.insert(sym("b"), sym("3"));
        assert!(!Shared::ptr_eq(&kept, &labels) && !same_labels(&kept, &labels));
        labels.insert(sym("b"), sym("2"));
        assert!(!Shared::ptr_eq(&kept, &labels) && same_labels(&kept, &labels));
        labels.remove(&sym("a"));
        assert!(!same_labels(&kept, &labels));
    }

    /// Types built together (sharing the merge plan of a key layout) get exactly the requirements
    /// each gets built alone, whatever the order of layouts: AWS types interleaved with types whose
    /// labels have other keys, unsorted keys, no labels, reserved offerings (three more keys), and
    /// fewer offerings (other zone and capacity-type lists than the type before).
    #[test]
    fn types_built_together_equal_types_built_alone() {
        use crate::catalog::OfferingReservation;
        use crate::model::ReservationType;
        let aws = CatalogSource::default_aws().resolve(None).unwrap();
        let sym = Sym::new;
        let with_labels = |i: usize, labels: Vec<(Sym, Option<Sym>)>| {
            let mut it = (*aws.instance_types[i]).clone();
            it.labels = labels;
            Arc::new(it)
        };
        let reserved = |i: usize| {
            let mut it = (*aws.instance_types[i]).clone();
            let mut o = it.offerings[0].clone();
            o.reservation = Some(OfferingReservation {
                id: sym("cr-1"),
                reservation_type: ReservationType::Default,
                interruptible: false,
                capacity: 2,
                launchable: true,
            });
            it.offerings.push(o);
            Arc::new(it)
        };
        let mut types: Vec<Arc<InstanceType>> = Vec::new();
        for i in (0..aws.instance_types.len()).step_by(97) {
            types.push(Arc::clone(&aws.instance_types[i]));
            types.push(Arc::clone(&aws.instance_types[i + 1]));
            match i % 4 {
                0 => types.push(with_labels(i, vec![(sym("a"), Some(sym("1"))), (sym("topology.kubernetes.io/zone"), None)])),
                1 => types.push(with_labels(i, vec![(sym("zz"), None), (sym("a"), Some(sym("2")))])),
                2 => types.push(with_labels(i, vec![])),
                _ => types.push(reserved(i)),
            }
            types.push(reserved(i + 2));
            // one offering: other zones and capacity types than the types around it
            let mut one = (*aws.instance_types[i + 3]).clone();
            one.offerings.truncate(1);
            types.push(Arc::new(one));
            types.push(Arc::clone(&aws.instance_types[i + 3]));
        }
        let together = TypeInfo::all(types.iter().cloned());
        for (t, it) in together.iter().zip(&types) {
            let alone = TypeInfo::new(Arc::clone(it));
            assert_eq!(t.requirements.iter().collect::<Vec<_>>(), alone.requirements.iter().collect::<Vec<_>>(), "{}", it.name);
            assert!(Arc::ptr_eq(&t.it, it));
        }
    }

    /// A type's requirements met from its labels, unbuilt, answer as the built requirements do, for
    /// every AWS type and for labels repeated or out of order, against requirements on labels,
    /// on the offerings' keys, on the instance type and on keys no type has.
    #[test]
    fn meets_from_labels_equals_the_built_requirements() {
        let aws = CatalogSource::default_aws().resolve(None).unwrap();
        let sym = Sym::new;
        let mut types: Vec<Arc<InstanceType>> = aws.instance_types.clone();
        for (i, labels) in [
            vec![(sym("a"), Some(sym("1"))), (sym("a"), Some(sym("2")))],
            vec![(sym("zz"), None), (sym("a"), Some(sym("1"))), (*labels::ZONE, Some(sym("us-east-1a")))],
        ]
        .into_iter()
        .enumerate()
        {
            let mut it = (*aws.instance_types[i * 7]).clone();
            it.labels = labels;
            types.push(Arc::new(it));
        }
        let one = |k: Sym, r: Requirement| {
            let mut reqs = Requirements::new();
            reqs.add(k, r);
            reqs
        };
        let key = |k: &str| Sym::new(&format!("karpenter.k8s.aws/{k}"));
        let mut cases = vec![
            one(*labels::ARCH, Requirement::is_in([sym("arm64")])),
            one(key("instance-cpu"), Requirement::not_in([sym("2"), sym("4")])),
            one(key("instance-gpu-name"), Requirement::exists()),
            one(key("instance-gpu-name"), Requirement::does_not_exist()),
            one(*labels::ZONE, Requirement::is_in([sym("us-east-1b")])),
            one(*labels::CAPACITY_TYPE, Requirement::is_in([sym("spot")])),
            one(*labels::INSTANCE_TYPE, Requirement::is_in([sym("m5.large"), sym("c7g.xlarge")])),
            one(sym("a"), Requirement::is_in([sym("1")])),
            one(sym("zz"), Requirement::exists()),
            one(sym("not-a-label"), Requirement::is_in([sym("x")])),
        ];
        let mut together = one(*labels::ARCH, Requirement::is_in([sym("amd64")]));
        together.add(*labels::NODEPOOL, Requirement::is_in([sym("default")]));
        together.add(key("instance-memory"), Requirement::is_in([sym("8192"), sym("16384")]));
        cases.push(together);
        for (built, it) in TypeInfo::all(types.iter().cloned()).iter().zip(&types) {
            for reqs in &cases {
                // (a fresh type for each case: answering may build its requirements)
                let fresh = TypeInfo::new(Arc::clone(it));
                assert_eq!(fresh.meets(reqs), built.requirements.intersects_ok(reqs), "{} {reqs}", it.name);
            }
        }
    }

    /// Merging a type's sorted labels with the offerings' requirements gives exactly what adding the
    /// labels and then setting the rest gives, for every AWS type (whose labels hold the instance
    /// type, replaced) and for labels that sort before, between and after the offerings' keys.
    #[test]
    fn merged_type_requirements_equal_added_ones() {
        let aws = CatalogSource::default_aws().resolve(None).unwrap();
        let sym = Sym::new;
        let extra = || {
            vec![
                (*labels::RESERVATION_ID, Requirement::does_not_exist()),
                (*labels::INSTANCE_TYPE, Requirement::is_in([sym("x.large")])),
                (*labels::ZONE, Requirement::is_in([sym("z1"), sym("z2")])),
            ]
        };
        let custom = [
            vec![(sym("a"), Some(sym("1"))), (sym("topology.kubernetes.io/zone"), None), (sym("zz"), Some(sym("2")))],
            vec![(sym("zz"), None)],
            vec![],
        ];
        for labels in aws.instance_types.iter().map(|it| it.labels.clone()).chain(custom) {
            let added = added_requirements(&labels, extra());
            let keys = |l: &[(Sym, Option<Sym>)]| l.iter().map(|x| x.0).collect::<Vec<_>>();
            let plan = merge_plan(&keys(&labels), &extra().iter().map(|x| x.0).collect::<Vec<_>>());
            let merged = merged_requirements(&plan, &labels, extra());
            assert_eq!(merged.iter().collect::<Vec<_>>(), added.iter().collect::<Vec<_>>(), "{labels:?}");
        }
    }
}
