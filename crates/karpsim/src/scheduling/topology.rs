//! All topology groups of one scheduling run (`scheduling/topology.go`; design §3.9).

use super::topology_group::{DomainGroup, GroupKind, NodeFilter, TopologyGroup};
use super::bound_pods::PodList;
use crate::labels::{self, Sym, WellKnown};
use crate::model::{
    LabelSelector, LabelSelectorOperator, LabelSelectorRequirement, Namespace, NodeInclusionPolicy, Pod, PodAffinityTerm, Taint,
    UnsatisfiableAction,
};
use crate::requirements::{Requirement, Requirements};
use crate::state::TypeInfo;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::hash::{Hash, Hasher};

/// An existing node as topology sees it (its labels also as requirements), with the pods bound to
/// it (not terminal).
#[derive(Clone, Copy)]
pub struct TopoNode<'a> {
    pub name: Sym,
    pub labels: &'a BTreeMap<Sym, Sym>,
    pub requirements: &'a Requirements,
    pub taints: &'a [Taint],
    pub(crate) pods: PodList<'a, 'a>,
}

/// The existing nodes a run may use, as topology sees them, listed on first use: only a topology
/// group (a pod's spread, affinity or anti-affinity, or a bound pod's anti-affinity) reads them,
/// and most runs build none, while listing every node of the cluster for each simulation of a
/// disruption round was a fiftieth of an until-stable run over drifted nodes.
pub struct TopoNodes<'a> {
    list: std::cell::OnceCell<Vec<TopoNode<'a>>>,
    make: Box<dyn Fn() -> Vec<TopoNode<'a>> + 'a>,
}

impl<'a> TopoNodes<'a> {
    /// The nodes `make` lists, when first needed.
    pub fn lazy(make: impl Fn() -> Vec<TopoNode<'a>> + 'a) -> TopoNodes<'a> {
        TopoNodes { list: std::cell::OnceCell::new(), make: Box::new(make) }
    }

    /// These nodes.
    pub fn of(list: Vec<TopoNode<'a>>) -> TopoNodes<'a> {
        TopoNodes { list: std::cell::OnceCell::from(list), make: Box::new(Vec::new) }
    }

    fn get(&self) -> &[TopoNode<'a>] {
        self.list.get_or_init(&self.make)
    }
}

/// A NodePool as seen by the domain universe: its requirements (with template labels), its taints,
/// and each instance type's requirements (read only if a topology key is looked up).
pub struct PoolDomains<'a> {
    pub requirements: &'a Requirements,
    pub taints: &'a [Taint],
    pub types: PoolTypes<'a>,
    /// Only the types' values count (`TopologyDomains::Launchable`): the pool's own `In` values
    /// are not domains by themselves.
    pub launchable_only: bool,
}

/// The instance types whose requirements give a pool's domains, named rather than listed: a
/// simulation whose pods look no topology key up reads none of them (listing the 400 types' of a
/// pool at every disruption simulation was a fiftieth of an until-stable run over drifted nodes).
#[derive(Clone, Copy)]
pub enum PoolTypes<'a> {
    /// Every one of these types.
    All(&'a [TypeInfo]),
    /// The types at these positions, in this order.
    At(&'a [TypeInfo], &'a [u32]),
}

impl<'a> PoolTypes<'a> {
    /// No type.
    pub const NONE: PoolTypes<'static> = PoolTypes::All(&[]);

    /// Each type's requirements, in order.
    fn requirements(self) -> impl Iterator<Item = &'a crate::state::TypeRequirements> {
        let (all, at) = match self {
            PoolTypes::All(types) => (types, None),
            PoolTypes::At(types, at) => (&[][..], Some(at.iter().map(move |&o| &types[o as usize]))),
        };
        all.iter().chain(at.into_iter().flatten()).map(|ti| &ti.requirements)
    }
}

/// Why a topology constraint failed, for explanations.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TopologyError {
    pub kind: GroupKind,
    pub key: Sym,
    pub max_skew: i32,
    pub counts: String,
    pub pod_domains: String,
    pub node_domains: String,
}

impl fmt::Display for TopologyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.kind {
            GroupKind::Spread => write!(
                f,
                "topology spread on {} (maxSkew {}) cannot be met: counts {}; allowed domains {}; node domains {}",
                self.key, self.max_skew, self.counts, self.pod_domains, self.node_domains
            ),
            GroupKind::Affinity => write!(
                f,
                "pod affinity on {} cannot be met: no domain holds a matching pod (counts {}; allowed {})",
                self.key, self.counts, self.pod_domains
            ),
            GroupKind::AntiAffinity => write!(
                f,
                "pod anti-affinity on {} cannot be met: every allowed domain already holds a matching pod (counts {})",
                self.key, self.counts
            ),
        }
    }
}

/// What makes two constraints one topology group (`TopologyGroup.Hash`): kind, key, namespaces,
/// selector, maxSkew and the node filter. Compared field by field; it replaced a string formatted
/// from the same fields (with `Debug`) for every constraint of every pod, which cost more than the
/// rest of building the groups. Symbols are interned, so equal fields are exactly equal strings.
#[derive(PartialEq, Eq)]
struct GroupKey {
    kind: GroupKind,
    key: Sym,
    namespaces: BTreeSet<Sym>,
    selector: Option<LabelSelector>,
    max_skew: i32,
    /// [`NodeFilter::signature`] (spread groups only)
    filter: Option<String>,
}

impl Hash for GroupKey {
    fn hash<H: Hasher>(&self, h: &mut H) {
        // the fields `Eq` compares (the model's selector types derive no `Hash`)
        (self.kind, self.key, &self.namespaces, self.max_skew, &self.filter).hash(h);
        if let Some(s) = &self.selector {
            s.match_labels.hash(h);
            for e in &s.match_expressions {
                (e.key, std::mem::discriminant(&e.operator), &e.values).hash(h);
            }
        }
    }
}

pub struct Topology<'a> {
    respect_preferences: bool,
    groups: Vec<TopologyGroup>,
    // the two group indexes and the domain universe are looked up, never iterated: FxHash and the
    // symbols' address hash rather than SipHash (a run is built for every batch and simulation)
    index: rustc_hash::FxHashMap<GroupKey, usize>,
    inverse: Vec<TopologyGroup>,
    inverse_index: rustc_hash::FxHashMap<GroupKey, usize>,
    /// The groups keyed by hostname, in order of creation: `(inverse, index)`.
    hostname_groups: Vec<(bool, usize)>,
    /// Groups owned by each batch pod.
    owned: Vec<Vec<usize>>,
    /// Failed attempts (in this run) that took a spread domain among tied ones: which of the tied
    /// domains the next pick takes (see [`Topology::retried`]).
    tie_failures: u32,
    /// Whether a spread pick since the last [`Topology::retried`] chose among tied domains.
    tied: std::cell::Cell<bool>,
    universe: labels::SymMap<DomainGroup>,
    pools: Vec<PoolDomains<'a>>,
    /// The existing nodes this run may use (their bound pods count in domains).
    nodes: TopoNodes<'a>,
    /// Labels a NodeClaim may be asked for without defining them.
    well_known: &'a WellKnown,
    /// Batch pods never count as already placed (`excludedPods`).
    excluded: labels::SymSet,
    batch_namespaces: BTreeSet<Sym>,
    /// The cluster's `Namespace` objects.
    namespace_objects: &'a [Namespace],
    /// Every namespace a `namespaceSelector` can select, built on first use.
    all_namespaces: std::cell::OnceCell<Vec<Namespace>>,
    /// Per pod shape, the groups whose selector selects it (for [`Topology::record`]).
    selecting: SelectingGroups,
}

/// Which groups select a pod, per pod shape: whether a group selects a pod depends only on the
/// pod's namespace and labels and on the group's namespaces and selector, which never change once
/// the group is built (`TopologyGroup.selects`). Groups are only ever appended, so a shape's list
/// is extended with the groups created since it was last asked for.
#[derive(Default)]
struct SelectingGroups {
    /// Fingerprint of (namespace, labels) -> indices into `shapes` with that fingerprint.
    index: rustc_hash::FxHashMap<u64, Vec<u32>>,
    shapes: Vec<Shape>,
}

struct Shape {
    namespace: Sym,
    labels: crate::model::Shared<BTreeMap<Sym, Sym>>,
    /// How many of the groups (in order of creation) `groups` has looked at.
    seen: usize,
    /// The groups among them that select the shape's pods, in order of creation.
    groups: Vec<u32>,
}

impl SelectingGroups {
    /// The groups of `all` that select `pod`, in order of creation.
    fn of(&mut self, pod: &Pod, all: &[TopologyGroup]) -> &[u32] {
        let mut h = labels::SymHasher::default();
        (pod.namespace, &*pod.labels).hash(&mut h);
        let candidates = self.index.entry(h.finish()).or_default();
        let found = candidates.iter().copied().find(|&i| {
            let s = &self.shapes[i as usize];
            s.namespace == pod.namespace && (crate::model::Shared::ptr_eq(&s.labels, &pod.labels) || *s.labels == *pod.labels)
        });
        let i = match found {
            Some(i) => i as usize,
            None => {
                candidates.push(self.shapes.len() as u32);
                self.shapes.push(Shape { namespace: pod.namespace, labels: pod.labels.clone(), seen: 0, groups: Vec::new() });
                self.shapes.len() - 1
            }
        };
        let shape = &mut self.shapes[i];
        for (gi, g) in all.iter().enumerate().skip(shape.seen) {
            if g.selects(pod) {
                shape.groups.push(gi as u32);
            }
        }
        shape.seen = all.len();
        &shape.groups
    }
}

fn merge_label_keys(selector: Option<&LabelSelector>, pod: &Pod, match_keys: &[Sym], mismatch_keys: &[Sym]) -> Option<LabelSelector> {
    let mut s = selector.cloned()?;
    for k in match_keys {
        if let Some(v) = pod.labels.get(k) {
            s.match_expressions.push(LabelSelectorRequirement { key: *k, operator: LabelSelectorOperator::In, values: vec![*v] });
        }
    }
    for k in mismatch_keys {
        if let Some(v) = pod.labels.get(k) {
            s.match_expressions.push(LabelSelectorRequirement { key: *k, operator: LabelSelectorOperator::NotIn, values: vec![*v] });
        }
    }
    Some(s)
}

impl<'a> Topology<'a> {
    /// `NewTopology`: domain universe from the pools, inverse anti-affinity of pods already bound
    /// (`anti_affinity`: such pods with the index of their node in `nodes`, in a stable order), then
    /// every batch pod's own groups. `namespaces` are the cluster's Namespace objects.
    pub fn new(
        respect_preferences: bool,
        well_known: &'a WellKnown,
        pools: Vec<PoolDomains<'a>>,
        nodes: TopoNodes<'a>,
        anti_affinity: &[(&'a Pod, usize)],
        batch: &[&Pod],
        namespaces: &'a [Namespace],
    ) -> Topology<'a> {
        let mut t = Topology {
            respect_preferences,
            groups: Vec::new(),
            index: Default::default(),
            inverse: Vec::new(),
            inverse_index: Default::default(),
            hostname_groups: Vec::new(),
            owned: vec![Vec::new(); batch.len()],
            tie_failures: 0,
            tied: std::cell::Cell::new(false),
            universe: Default::default(),
            pools,
            nodes,
            well_known,
            excluded: batch.iter().map(|p| p.uid).collect(),
            batch_namespaces: batch.iter().map(|p| p.namespace).collect(),
            namespace_objects: namespaces,
            all_namespaces: std::cell::OnceCell::new(),
            selecting: SelectingGroups::default(),
        };
        // inverse anti-affinity of pods already running (owner ids after the batch's)
        for (i, &(pod, node)) in anti_affinity.iter().enumerate() {
            if t.excluded.contains(&pod.uid) || !pod.is_active() {
                continue;
            }
            let labels = t.nodes.get()[node].labels;
            t.add_inverse(batch.len() + i, pod, Some(labels));
        }
        for (i, p) in batch.iter().enumerate() {
            t.update(i, p);
        }
        t
    }

    fn domains_for(&mut self, key: Sym) -> &DomainGroup {
        if !self.universe.contains_key(&key) {
            let mut g = DomainGroup::default();
            for pool in &self.pools {
                let pool_req = pool.requirements.get(key);
                for tr in pool.types.requirements() {
                    let r = match (pool_req, tr.get(key)) {
                        (Some(a), Some(b)) => Some(a.intersect(b)),
                        (Some(a), None) => Some(a.clone()),
                        (None, Some(b)) => Some(b.clone()),
                        (None, None) => None,
                    };
                    // raw values: for complements these are the excluded values (an upstream quirk, §3.9.1)
                    for v in r.iter().flat_map(|r| r.values().to_vec()) {
                        g.insert(v, pool.taints);
                    }
                }
                if let Some(r) = pool_req
                    && r.operator() == crate::requirements::Operator::In
                    && !pool.launchable_only
                {
                    for v in r.values() {
                        g.insert(*v, pool.taints);
                    }
                }
            }
            self.universe.insert(key, g);
        }
        &self.universe[&key]
    }

    /// The namespaces a term's pods are counted in (`buildNamespaceList`): the pod's own when the
    /// term names none, else the listed ones and those whose labels the `namespaceSelector` selects.
    fn namespaces_for(&self, pod: &Pod, term: &PodAffinityTerm) -> BTreeSet<Sym> {
        if term.namespaces.is_empty() && term.namespace_selector.is_none() {
            return BTreeSet::from([pod.namespace]);
        }
        let mut out: BTreeSet<Sym> = term.namespaces.iter().copied().collect();
        if let Some(sel) = &term.namespace_selector {
            for ns in self.all_namespaces() {
                if sel.matches(&ns.labels) {
                    out.insert(ns.name);
                }
            }
        }
        out
    }

    /// What listing the cluster's namespaces returns: the Namespace objects, and every namespace
    /// that holds a pod of this run or of a node, which exists in the cluster even when the inputs do
    /// not describe it (it then carries only its name label, as the API server sets it).
    fn all_namespaces(&self) -> &[Namespace] {
        self.all_namespaces.get_or_init(|| {
            let mut out: Vec<Namespace> = self.namespace_objects.to_vec();
            let mut known: BTreeSet<Sym> = self.batch_namespaces.clone();
            known.extend(self.nodes.get().iter().flat_map(|n| n.pods.iter().map(|p| p.namespace)));
            for ns in known {
                if !out.iter().any(|n| n.name == ns) {
                    out.push(Namespace::named(ns));
                }
            }
            out
        })
    }

    /// A new group for `k` (`NewTopologyGroup`), its domains those of the key that the pod's
    /// tolerations reach (all of them when the filter ignores taints); not yet counted.
    fn build_group(&mut self, k: &GroupKey, pod: &Pod, min_domains: Option<i32>, filter: Option<NodeFilter>) -> TopologyGroup {
        let ignore_taints = filter.as_ref().is_some_and(|f| !f.taints_honor);
        let domains: Vec<Sym> = self.domains_for(k.key).reachable(&pod.tolerations, ignore_taints).collect();
        TopologyGroup {
            kind: k.kind,
            key: k.key,
            namespaces: k.namespaces.clone(),
            selector: k.selector.clone(),
            max_skew: k.max_skew,
            min_domains,
            filter,
            domains: domains.iter().map(|d| (*d, 0)).collect(),
            lookup: domains.iter().map(|d| (*d, 0)).collect(),
            empty: domains.into_iter().collect(),
            owners: Default::default(),
        }
    }

    /// The group of `k` among the batch pods' groups, built and counted if it is new, now owned by
    /// pod `id` (a group is built only for a key not seen before: most pods share their groups).
    fn own_group(&mut self, id: usize, k: GroupKey, pod: &Pod, min_domains: Option<i32>, filter: Option<NodeFilter>) {
        let idx = match self.index.get(&k) {
            Some(i) => *i,
            None => {
                let mut g = self.build_group(&k, pod, min_domains, filter);
                self.count_domains(&mut g);
                if g.key == *labels::HOSTNAME {
                    self.hostname_groups.push((false, self.groups.len()));
                }
                self.groups.push(g);
                self.index.insert(k, self.groups.len() - 1);
                self.groups.len() - 1
            }
        };
        self.groups[idx].owners.insert(id);
        if !self.owned[id].contains(&idx) {
            self.owned[id].push(idx);
        }
    }

    /// Count pods already in the cluster (`countDomains`).
    fn count_domains(&self, g: &mut TopologyGroup) {
        for n in self.nodes.get() {
            if g.filter.as_ref().is_some_and(|f| !f.matches(n.taints, n.requirements, None)) {
                continue;
            }
            if let Some(d) = n.labels.get(&g.key) {
                g.register(*d);
            }
        }
        for n in self.nodes.get() {
            let domain = match n.labels.get(&g.key) {
                Some(d) => *d,
                None if g.key == *labels::HOSTNAME => n.name,
                None => continue,
            };
            if g.filter.as_ref().is_some_and(|f| !f.matches(n.taints, n.requirements, None)) {
                continue;
            }
            for p in n.pods.iter() {
                if p.is_active() && !self.excluded.contains(&p.uid) && g.selects(p) {
                    g.record(domain);
                }
            }
        }
    }

    fn add_inverse(&mut self, owner: usize, pod: &Pod, node_labels: Option<&BTreeMap<Sym, Sym>>) {
        for term in &pod.affinity.pod_anti_affinity_required {
            let namespaces = self.namespaces_for(pod, term);
            let selector = merge_label_keys(term.label_selector.as_ref(), pod, &term.match_label_keys, &term.mismatch_label_keys);
            let k = GroupKey { kind: GroupKind::AntiAffinity, key: term.topology_key, namespaces, selector, max_skew: i32::MAX, filter: None };
            let idx = match self.inverse_index.get(&k) {
                Some(i) => *i,
                None => {
                    let g = self.build_group(&k, pod, None, None);
                    if g.key == *labels::HOSTNAME {
                        self.hostname_groups.push((true, self.inverse.len()));
                    }
                    self.inverse.push(g);
                    self.inverse_index.insert(k, self.inverse.len() - 1);
                    self.inverse.len() - 1
                }
            };
            let g = &mut self.inverse[idx];
            if let Some(d) = node_labels.and_then(|l| l.get(&g.key)) {
                g.record(*d);
            }
            g.owners.insert(owner);
        }
    }

    /// A batch pod failed and goes back to the queue. Karpenter breaks ties between equally good
    /// spread domains by Go map order, random at every evaluation, so after a failure in one tied
    /// domain another pod (or the same one, later) may well take another. We take the first tied
    /// domain by name, and after each failed attempt that chose among ties, the next one: the same
    /// choices on every run, and no spread stuck forever on a domain where nothing can launch while
    /// a tied one could.
    pub fn retried(&mut self, _id: usize) {
        if self.tied.replace(false) {
            self.tie_failures = self.tie_failures.wrapping_add(1);
        }
    }

    /// A pod was placed: forget the ties its attempt saw.
    pub fn placed(&mut self) {
        self.tied.set(false);
    }

    /// `Topology.Update`: (re)build the groups a batch pod owns from its current constraints.
    pub fn update(&mut self, id: usize, pod: &Pod) {
        for gi in std::mem::take(&mut self.owned[id]) {
            self.groups[gi].owners.remove(&id);
        }
        let has_anti = !pod.affinity.pod_anti_affinity_required.is_empty()
            || (self.respect_preferences && !pod.affinity.pod_anti_affinity_preferred.is_empty());
        if has_anti && !self.inverse.iter().any(|g| g.owners.contains(&id)) {
            self.add_inverse(id, pod, None);
        }
        for c in &pod.topology_spread {
            if !self.respect_preferences && c.when_unsatisfiable != UnsatisfiableAction::DoNotSchedule {
                continue;
            }
            let selector = merge_label_keys(c.label_selector.as_ref(), pod, &c.match_label_keys, &[]);
            let filter = self.node_filter(
                pod,
                c.node_taints_policy == NodeInclusionPolicy::Honor,
                c.node_affinity_policy == NodeInclusionPolicy::Honor,
            );
            let k = GroupKey {
                kind: GroupKind::Spread,
                key: c.topology_key,
                namespaces: BTreeSet::from([pod.namespace]),
                selector,
                max_skew: c.max_skew,
                filter: Some(filter.signature()),
            };
            self.own_group(id, k, pod, c.min_domains, Some(filter));
        }
        let a = &pod.affinity;
        let mut terms: Vec<(GroupKind, &PodAffinityTerm)> = a.pod_affinity_required.iter().map(|t| (GroupKind::Affinity, t)).collect();
        if self.respect_preferences {
            terms.extend(a.pod_affinity_preferred.iter().map(|t| (GroupKind::Affinity, &t.term)));
        }
        terms.extend(a.pod_anti_affinity_required.iter().map(|t| (GroupKind::AntiAffinity, t)));
        if self.respect_preferences {
            terms.extend(a.pod_anti_affinity_preferred.iter().map(|t| (GroupKind::AntiAffinity, &t.term)));
        }
        for (kind, term) in terms {
            let namespaces = self.namespaces_for(pod, term);
            let selector = merge_label_keys(term.label_selector.as_ref(), pod, &term.match_label_keys, &term.mismatch_label_keys);
            let k = GroupKey { kind, key: term.topology_key, namespaces, selector, max_skew: i32::MAX, filter: None };
            self.own_group(id, k, pod, None, None);
        }
    }

    fn node_filter(&self, pod: &Pod, taints_honor: bool, affinity_honor: bool) -> NodeFilter {
        let selector = Requirements::from_labels(pod.node_selector.iter());
        let requirements = if pod.affinity.node_required.is_empty() {
            vec![selector]
        } else {
            pod.affinity
                .node_required
                .iter()
                .map(|t| {
                    let mut r = selector.clone();
                    if let Ok(tr) = Requirements::from_node_selector(&t.match_expressions) {
                        r.add_all(&tr);
                    }
                    r
                })
                .collect()
        };
        NodeFilter { requirements, taints_honor, affinity_honor, tolerations: pod.tolerations.to_vec() }
    }

    /// `AddRequirements`: the domain requirements every matching group imposes on a node with
    /// `node_reqs`, intersected into a copy of `node_reqs`.
    pub fn add_requirements(
        &self,
        id: usize,
        pod: &Pod,
        taints: &[Taint],
        strict: &Requirements,
        node_reqs: &Requirements,
        allow_undefined: bool,
    ) -> Result<Requirements, TopologyError> {
        let adds = self.domains_to_add(id, pod, taints, strict, node_reqs, allow_undefined, true).map_err(|e| e.expect("explained"))?;
        Ok(with_domains(node_reqs, adds))
    }

    /// The domain requirements [`Topology::add_requirements`] adds to `node_reqs`, each computed from
    /// `node_reqs` alone (none: the node's requirements stay as they are, and need no copy). A
    /// failure is described only when `explain` (the description formats every domain count, which
    /// callers that only need a yes/no must not pay for).
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn domains_to_add(
        &self,
        id: usize,
        pod: &Pod,
        taints: &[Taint],
        strict: &Requirements,
        node_reqs: &Requirements,
        allow_undefined: bool,
        explain: bool,
    ) -> Result<Vec<(Sym, Requirement)>, Option<TopologyError>> {
        let mut adds: Vec<(Sym, Requirement)> = Vec::new();
        let owned = self.owned[id].iter().map(|i| &self.groups[*i]);
        let undefined = allow_undefined.then_some(self.well_known);
        let inverse = self.inverse.iter().filter(|g| g.counts(pod, taints, node_reqs, undefined));
        let exists = Requirement::exists();
        for g in owned.chain(inverse) {
            let pod_domains = strict.get(g.key).unwrap_or(&exists);
            let node_domains = node_reqs.get(g.key).unwrap_or(&exists);
            let (d, tied) = g.next_domain(pod, pod_domains, node_domains, self.tie_failures);
            if tied {
                self.tied.set(true);
            }
            if d.is_empty() {
                if !explain {
                    return Err(None);
                }
                return Err(Some(TopologyError {
                    kind: g.kind,
                    key: g.key,
                    max_skew: g.max_skew,
                    counts: g.describe_counts(),
                    pod_domains: pod_domains.to_string(),
                    node_domains: node_domains.to_string(),
                }));
            }
            adds.push((g.key, d));
        }
        Ok(adds)
    }

    /// The first group [`Topology::domains_to_add`] evaluates for batch pod `id` (its first own
    /// group, before any inverse one), with the group's key.
    pub(crate) fn first_group(&self, id: usize) -> Option<(usize, Sym)> {
        self.owned[id].first().map(|&gi| (gi, self.groups[gi].key))
    }

    /// Whether group `gi` refuses a node whose requirement on the group's key is `node_domains`,
    /// as [`Topology::domains_to_add`] asks it (no answer when the group would have chosen among
    /// tied domains: that choice has a side effect, the tie flag, which only the real evaluation may
    /// have).
    pub(crate) fn group_refuses(&self, gi: usize, pod: &Pod, strict: &Requirements, node_domains: &Requirement) -> Option<bool> {
        let g = &self.groups[gi];
        let exists = Requirement::exists();
        let (d, tied) = g.next_domain(pod, strict.get(g.key).unwrap_or(&exists), node_domains, self.tie_failures);
        (!tied).then(|| d.is_empty())
    }

    /// The hostname rules [`Topology::domains_to_add`] would apply to `pod` on a node whose hostname
    /// requirement has exactly one value `h`: `(group, inverse, limit)`, failing when the group's
    /// count in `h` exceeds `limit` (spread: `maxSkew − self-selecting`; anti-affinity: 0). Valid
    /// until the next `record` or `update`; lets a caller rule out a NodeClaim before any
    /// requirement work (the same conditions, checked first).
    pub(crate) fn hostname_rules(&self, id: usize, pod: &Pod) -> Vec<(usize, bool, i32)> {
        let mut out = Vec::new();
        let host = *labels::HOSTNAME;
        for &gi in &self.owned[id] {
            let g = &self.groups[gi];
            if g.key != host {
                continue;
            }
            match g.kind {
                GroupKind::Spread => out.push((gi, false, g.max_skew - i32::from(g.selects(pod)))),
                GroupKind::AntiAffinity => out.push((gi, false, 0)),
                GroupKind::Affinity => {}
            }
        }
        for (gi, g) in self.inverse.iter().enumerate() {
            // inverse groups carry no node filter: they count the pod wherever it selects it
            if g.key == host && g.kind == GroupKind::AntiAffinity && g.filter.is_none() && g.selects(pod) {
                out.push((gi, true, 0));
            }
        }
        out
    }

    /// Whether one of `rules` (from [`Topology::hostname_rules`]) rules out hostname `h`.
    #[inline]
    pub(crate) fn hostname_blocked(&self, rules: &[(usize, bool, i32)], h: Sym) -> bool {
        rules.iter().any(|&(gi, inverse, limit)| {
            let g = if inverse { &self.inverse[gi] } else { &self.groups[gi] };
            g.count(h) > limit
        })
    }

    /// `Topology.Record`: count a placed pod in every group that counts it.
    pub fn record(&mut self, id: usize, pod: &Pod, taints: &[Taint], reqs: &Requirements, allow_undefined: bool) {
        let undefined = allow_undefined.then_some(self.well_known);
        // `g.counts(pod, ...)` for every group, asking the node filter only of the groups that
        // select the pod (looked up per pod shape, not per group and pod)
        for &gi in self.selecting.of(pod, &self.groups) {
            let g = &mut self.groups[gi as usize];
            if g.filter.as_ref().is_some_and(|f| !f.matches(taints, reqs, undefined)) {
                continue;
            }
            let Some(r) = reqs.get(g.key) else { continue };
            if g.kind == GroupKind::AntiAffinity {
                // an uncollapsed domain blocks every value it might still take
                for v in r.values().to_vec() {
                    g.record(v);
                }
            } else if let Some(v) = r.single() {
                g.record(v);
            }
        }
        for g in &mut self.inverse {
            if g.owners.contains(&id)
                && let Some(r) = reqs.get(g.key)
            {
                for v in r.values().to_vec() {
                    g.record(v);
                }
            }
        }
    }

    /// `Topology.Register(hostname, domain)`: make every hostname group aware of a NodeClaim's
    /// hostname, each time the claim takes a pod. `seen` is how many of the hostname groups (in
    /// order of creation) the claim registered with last time; those still have the hostname
    /// (registering is idempotent, groups are only ever added and never forget a domain), so only
    /// the groups created since, at a relaxation or for a new pod's constraints, need it.
    pub(crate) fn register_hostname(&mut self, domain: Sym, seen: &mut usize) {
        for &(inverse, gi) in &self.hostname_groups[*seen..] {
            let g = if inverse { &mut self.inverse[gi] } else { &mut self.groups[gi] };
            g.register(domain);
        }
        *seen = self.hostname_groups.len();
    }
}

/// `node_reqs` tightened by the domains of [`Topology::domains_to_add`].
pub(crate) fn with_domains(node_reqs: &Requirements, adds: Vec<(Sym, Requirement)>) -> Requirements {
    let mut out = node_reqs.clone();
    for (k, d) in adds {
        out.add(k, d);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::TopologySpreadConstraint;
    use crate::resources::Resources;

    fn s(v: &str) -> Sym {
        Sym::new(v)
    }

    /// A pod labelled `app=<app>` in `namespace`, spreading over zones with `max_skew` against the
    /// pods labelled `app=<selects>`.
    fn pod(namespace: &str, name: &str, app: &str, selects: &str, max_skew: i32) -> Pod {
        let mut p = Pod::new(namespace, name, Resources::new());
        *p.labels = BTreeMap::from([(s("app"), s(app))]);
        *p.topology_spread = vec![TopologySpreadConstraint {
            max_skew,
            topology_key: *labels::ZONE,
            when_unsatisfiable: UnsatisfiableAction::DoNotSchedule,
            label_selector: Some(LabelSelector { match_labels: BTreeMap::from([(s("app"), s(selects))]), match_expressions: Vec::new() }),
            min_domains: None,
            node_affinity_policy: NodeInclusionPolicy::Honor,
            node_taints_policy: NodeInclusionPolicy::Ignore,
            match_label_keys: Vec::new(),
        }];
        p
    }

    /// `record` counts a placed pod in exactly the groups that count it (`TopologyGroup::counts`,
    /// asked of every group), for pods of several shapes recorded in turn, including groups built
    /// after pods of the same shape were already recorded (a pod's constraints rebuilt by `update`).
    #[test]
    fn record_counts_a_pod_in_every_group_that_counts_it() {
        let mut pool_reqs = Requirements::default();
        pool_reqs.add(*labels::ZONE, Requirement::is_in([s("a"), s("b"), s("c")]));
        let well_known = WellKnown::default();
        let pools = vec![PoolDomains { requirements: &pool_reqs, taints: &[], types: PoolTypes::NONE, launchable_only: false }];
        let pods = [
            pod("default", "web-0", "web", "web", 1),
            pod("default", "api-0", "api", "api", 1),
            pod("other", "web-1", "web", "web", 1),
            pod("default", "web-2", "web", "web", 1),
            // the same shape as web-0, labels shared or not
            pod("default", "web-3", "web", "web", 1),
        ];
        let batch: Vec<&Pod> = pods.iter().collect();
        let mut topology = Topology::new(true, &well_known, pools, TopoNodes::of(Vec::new()), &[], &batch, &[]);
        // per group, the counts `counts` would give: (group, zone) -> pods
        let mut expected: BTreeMap<(usize, Sym), i32> = BTreeMap::new();
        let mut record = |topology: &mut Topology, id: usize, p: &Pod, z: &str| {
            let mut reqs = Requirements::default();
            reqs.add(*labels::ZONE, Requirement::is_in([s(z)]));
            for (gi, g) in topology.groups.iter().enumerate() {
                if g.counts(p, &[], &reqs, Some(&well_known)) {
                    *expected.entry((gi, s(z))).or_default() += 1;
                }
            }
            topology.record(id, p, &[], &reqs, true);
            for (gi, g) in topology.groups.iter().enumerate() {
                for d in ["a", "b", "c"] {
                    assert_eq!(g.count(s(d)), expected.get(&(gi, s(d))).copied().unwrap_or(0), "group {gi}, zone {d}, after {}", p.name);
                }
            }
        };
        record(&mut topology, 0, &pods[0], "a");
        record(&mut topology, 1, &pods[1], "b");
        record(&mut topology, 2, &pods[2], "a");
        // web-3's constraints change: a group built now, after web pods were recorded
        let groups_before = topology.groups.len();
        let relaxed = pod("default", "web-3", "web", "web", 2);
        topology.update(4, &relaxed);
        assert_eq!(topology.groups.len(), groups_before + 1);
        record(&mut topology, 3, &pods[3], "c");
        record(&mut topology, 4, &relaxed, "c");
        record(&mut topology, 1, &pods[1], "a");
        // the default web group counted web-0, web-2 and web-3, the api group api-0 twice, the
        // other namespace's web group web-1, the new group web-2 and web-3
        assert_eq!(expected.values().sum::<i32>(), 3 + 2 + 1 + 2);
    }
}
