//! The cluster as a scheduling run sees it, prepared once and shared by many runs.
//!
//! Everything here depends on the cluster state only, not on the pods a run schedules or on the
//! nodes it treats as gone: NodePool templates (requirements, instance-type options, DaemonSet
//! overhead groups), each node's taints, requirements, free capacity and host ports, and the pods
//! bound to each node. A disruption round simulates one scheduling run per candidate against the
//! same state, so it builds this once and hands it to every run ([`super::schedule_on`]).

use super::bound_pods::{bound_pods_by_node, BoundPods, PodList};
use super::daemons::{self, DaemonGroup};
use super::options::MinValuesPolicy;
use super::instance_filter::{self, FilterInput};
use super::reservations::ReservationManager;
use super::template::{Template, TemplateParts, template_requirements};
use super::volumes::{self, VolumeUsage};
use crate::labels::{self, Sym, SymMap, SymSet, WellKnown};
use crate::model::{Node, NodePool, Pod, Shared, Taint, TaintEffect};
use std::collections::BTreeMap;
use crate::requirements::{Requirement, Requirements};
use crate::resources::Resources;
use crate::state::{ClusterState, TypeInfo};
use crate::taints;
use std::sync::{Arc, Mutex, Weak};

mod chunked;
mod kept;
mod limits_left;
mod nodes;
mod room;
mod room_blocks;
pub(crate) use kept::KeptNodes;
pub(crate) use room_blocks::{exceeds, Block, Free, BLOCK};
pub(crate) use room::NodeRoom;
pub(crate) use nodes::{KeptAccess, NodeView};
use nodes::{KeptView, Listed, ListedPods, ViewNodes};

pub struct ClusterView<'a> {
    pub(crate) state: &'a ClusterState,
    /// One per dynamic NodePool that can launch something, by weight desc then name desc.
    pub(crate) templates: Vec<Template<'a>>,
    /// Every dynamic NodePool with instance types, for the topology domain universe.
    pub(crate) domain_pools: Vec<DomainPool<'a>>,
    /// In Karpenter's existing-node order: initialized first, then by name (`sortExistingNodes`);
    /// read through [`ClusterView::node`] and [`ClusterView::nodes`].
    nodes: ViewNodes<'a>,
    /// Bound pods with required pod anti-affinity and the index of their node in `nodes`, in the
    /// state's pod order (their inverse groups are built in this order).
    pub(crate) anti_affinity: Vec<(&'a Pod, usize)>,
    /// Whether any NodePool has a PreferNoSchedule taint (relaxation may then add a toleration).
    pub(crate) tolerate_prefer_no_schedule: bool,
    /// The capacity reservations of the templates' instance types, as every run starts with them.
    pub(crate) reservations: ReservationManager,
    /// NodePools that launch nothing for pending pods, with the reason (by name; see
    /// [`ClusterView::unlaunchable`]).
    idle: Vec<(Sym, String)>,
    /// The free room of `nodes` by blocks, worked out when a run's first-fit scan first passes a
    /// block's worth of nodes without room ([`ClusterView::block`]), but for a kept order's.
    room_blocks: std::sync::OnceLock<room_blocks::FixedBlocks>,
    /// The NodePools' limits less what every node uses, and whether that is exact
    /// ([`ClusterView::limits_left`]), worked out on first use.
    limits_all: std::sync::OnceLock<(limits_left::Limits, bool)>,
}

/// The effective taints of a node for scheduling (`statenode.go: Taints`): a managed node that is not
/// initialized yet does not count its startup taints or the known ephemeral ones.
fn node_taints(node: &Node, pool: Option<&NodePool>) -> Vec<Taint> {
    if node.nodepool.is_none() || node.initialized {
        return node.taints.clone();
    }
    node.taints
        .iter()
        .filter(|t| {
            !taints::is_ephemeral_startup_taint(t)
                && !pool.is_some_and(|p| p.startup_taints.iter().any(|s| s.key == t.key && s.effect == t.effect))
        })
        .cloned()
        .collect()
}

/// The node's labels as requirements, with its hostname (its name when it has no hostname label).
fn node_requirements(node: &Node) -> Arc<Requirements> {
    let r = Requirements::of_node_labels(&node.labels);
    if node.labels.contains_key(&*labels::HOSTNAME) {
        return r;
    }
    let mut r = (*r).clone();
    r.set(*labels::HOSTNAME, Requirement::is_in([node.name]));
    Arc::new(r)
}

/// Where a view's nodes take their pods from: the same lists either way, in the state's order.
#[derive(Clone, Copy)]
enum PodsByNode<'m, 'a> {
    /// A grouping that may go before the view does: each node's list is copied.
    Copied(&'m BoundPods<'a>),
    /// A grouping that outlives the view: each node looks its list up there when read.
    Borrowed(&'a BoundPods<'a>),
}

impl<'a> PodsByNode<'_, 'a> {
    fn of(self, node: Sym) -> ListedPods<'a> {
        match self {
            PodsByNode::Copied(m) => ListedPods::Copied(m.list(&node).iter().collect()),
            PodsByNode::Borrowed(m) => ListedPods::Bound(m),
        }
    }
}

/// What a view derives from one node alone, whatever pods are bound to it: its effective taints,
/// its labels as requirements (with and without the hostname), and the DaemonSets that would run
/// on it ([`daemons::NodeDaemons`]).
#[derive(Clone, Debug, PartialEq)]
struct NodeParts {
    taints: Vec<Taint>,
    requirements: Arc<Requirements>,
    label_requirements: Option<Arc<Requirements>>,
    daemon_requests: Resources,
}

/// What [`NodeParts`] are computed from, besides the DaemonSets (the name is the cache's key).
struct NodeInputs {
    /// A clone of the node's shared labels: checked by address first ([`crate::state::same_labels`]).
    labels: Shared<BTreeMap<Sym, Sym>>,
    taints: Vec<Taint>,
    managed: bool,
    initialized: bool,
    startup_taints: Vec<Taint>,
}

impl NodeInputs {
    fn of(node: &Node, pool: Option<&NodePool>) -> NodeInputs {
        NodeInputs {
            labels: node.labels.clone(),
            taints: node.taints.clone(),
            managed: node.nodepool.is_some(),
            initialized: node.initialized,
            startup_taints: pool.map(|p| p.startup_taints.clone()).unwrap_or_default(),
        }
    }

    fn describe(&self, node: &Node, pool: Option<&NodePool>) -> bool {
        self.initialized == node.initialized
            && self.managed == node.nodepool.is_some()
            && crate::state::same_labels(&self.labels, &node.labels)
            && self.taints == node.taints
            && self.startup_taints.as_slice() == pool.map_or(&[][..], |p| p.startup_taints.as_slice())
    }
}

fn node_parts(node: &Node, pool: Option<&NodePool>, daemons: &daemons::NodeDaemons) -> NodeParts {
    let taints = node_taints(node, pool);
    let requirements = node_requirements(node);
    let label_requirements = (!node.labels.contains_key(&*labels::HOSTNAME)).then(|| Requirements::of_node_labels(&node.labels));
    let daemon_requests = daemons.requests(&taints, &requirements);
    NodeParts { taints, requirements, label_requirements, daemon_requests }
}

/// Each node's [`NodeParts`] by name, kept from one view to the next on this thread while the
/// DaemonSets stay the same. A time simulation builds a view at every provisioning batch and
/// disruption round over the same few hundred nodes, whose labels and taints seldom change;
/// deriving these for every node each time was a sixth of a 24-hour run. An entry is used only
/// when everything it was computed from is equal, so a view is the same with or without it.
#[derive(Default)]
struct NodePartsCache {
    daemonsets: Vec<Pod>,
    by_name: SymMap<(NodeInputs, NodeParts)>,
}

impl NodePartsCache {
    const MAX_ENTRIES: usize = 1 << 16;

    fn with<T>(daemonsets: &[Pod], f: impl FnOnce(&mut NodePartsCache) -> T) -> T {
        thread_local! {
            static CACHE: std::cell::RefCell<NodePartsCache> = std::cell::RefCell::new(NodePartsCache::default());
        }
        CACHE.with(|c| {
            let mut cache = c.borrow_mut();
            if cache.daemonsets != daemonsets || cache.by_name.len() >= Self::MAX_ENTRIES {
                cache.by_name.clear();
                cache.daemonsets = daemonsets.to_vec();
            }
            f(&mut cache)
        })
    }

    fn get(&mut self, node: &Node, pool: Option<&NodePool>, daemons: &daemons::NodeDaemons) -> NodeParts {
        if let Some((inputs, parts)) = self.by_name.get(&node.name)
            && inputs.describe(node, pool)
        {
            // debug builds (the tests) check every kept entry against a fresh derivation
            debug_assert_eq!(*parts, node_parts(node, pool, daemons), "kept view parts of node {} are stale", node.name);
            return parts.clone();
        }
        let parts = node_parts(node, pool, daemons);
        self.by_name.insert(node.name, (NodeInputs::of(node, pool), parts.clone()));
        parts
    }
}

/// A node's room as the pods bound to it and its DaemonSets leave it, from its [`NodeParts`], and
/// the claims its pods attach when its CSINode limits them.
fn node_room(node: &Node, pods: PodList, parts: NodeParts) -> (NodeRoom, Option<VolumeUsage>) {
    let NodeParts { taints, requirements, label_requirements, daemon_requests } = parts;
    let mut remaining = node.allocatable.clone();
    let mut ports = Vec::new();
    let mut volumes = (!node.volume_limits.is_empty()).then(VolumeUsage::default);
    let mut ds_used = Resources::new();
    let mut anti_affinity = false;
    for p in pods.iter() {
        // each bound pod takes its requests and one pod slot; a pod's own `requests.pods` is 0
        // (`model/pod.rs`), so subtracting the requests and then the slot is the same saturating
        // arithmetic as subtracting a copy with `pods = 1`, without the copy
        if p.requests.pods == 0 && !p.is_daemonset_pod() {
            remaining.sub_assign(&p.requests);
            remaining.pods = remaining.pods.saturating_sub(1);
        } else {
            let mut r = p.requests.clone();
            r.pods = 1;
            remaining.sub_assign(&r);
            if p.is_daemonset_pod() {
                ds_used.add_assign(&r);
            }
        }
        ports.extend(p.host_ports.iter().cloned());
        if let Some(u) = &mut volumes {
            u.add(volumes::attachments(p));
        }
        anti_affinity |= !p.affinity.pod_anti_affinity_required.is_empty();
    }
    // DaemonSets that would run on the node but have no pod there yet still claim their share
    remaining.sub_assign(&daemon_requests.sub(&ds_used).floor_zero());
    (NodeRoom { taints, requirements, label_requirements, ports, remaining, anti_affinity }, volumes)
}

/// Bound pods with required pod anti-affinity, each with the view position of its node.
type AntiAffinity<'a> = Vec<(&'a Pod, usize)>;

/// The pods of `pods` with required pod anti-affinity, each with `at`.
fn anti_affinity_pods<'s, 'a>(pods: PodList<'s, 'a>, at: usize) -> impl Iterator<Item = (&'a Pod, usize)> + 's {
    pods.iter().filter(|p| !p.affinity.pod_anti_affinity_required.is_empty()).map(move |p| (p, at))
}

/// The pool of node `n`, if it has one in `state`.
fn pool_of<'a>(state: &'a ClusterState, n: &Node) -> Option<&'a NodePool> {
    n.nodepool.and_then(|p| state.nodepools.iter().find(|x| x.name == p))
}

/// nodes.Active() listed for one view: every node not being deleted, in Karpenter's order, each
/// with its room worked out.
fn listed_nodes<'a>(state: &'a ClusterState, pods_by_node: PodsByNode<'_, 'a>, node_daemons: &daemons::NodeDaemons) -> (ViewNodes<'a>, AntiAffinity<'a>) {
    // each with whether it is the first of its name in the state's order (a pod bound to a name
    // goes to that node)
    let mut active: Vec<(&'a Node, bool)> = Vec::with_capacity(state.nodes.len());
    let mut named = SymSet::default();
    for n in state.nodes.iter().filter(|n| n.deletion_timestamp.is_none()) {
        active.push((n, named.insert(n.name)));
    }
    // initialized first, then by name (sortExistingNodes, stable)
    active.sort_by(|(a, _), (b, _)| b.initialized.cmp(&a.initialized).then(a.name.cmp(&b.name)));
    let mut nodes: Vec<Listed<'a>> = Vec::with_capacity(active.len());
    let mut anti_affinity = Vec::new();
    NodePartsCache::with(&state.daemonsets, |cache| {
        for (n, first) in active {
            let pods = if first { pods_by_node.of(n.name) } else { ListedPods::Copied(Vec::new()) };
            let (room, volumes) = node_room(n, pods.list(&n.name), cache.get(n, pool_of(state, n), node_daemons));
            if room.anti_affinity {
                anti_affinity.extend(anti_affinity_pods(pods.list(&n.name), nodes.len()));
            }
            nodes.push(Listed { node: n, room, pods, volumes });
        }
    });
    (ViewNodes::Listed(nodes), anti_affinity)
}

/// Work out the rooms `missing` (positions in the kept order `k`) and keep them, but for nodes with
/// volume limits: their rooms go to `extra`, worked out for every view.
fn keep_missing<'a>(
    state: &'a ClusterState,
    pods: &'a BoundPods<'a>,
    k: &mut KeptNodes,
    missing: Vec<usize>,
    node_daemons: &daemons::NodeDaemons,
    extra: &mut Vec<(usize, NodeRoom, Option<VolumeUsage>)>,
) {
    NodePartsCache::with(&state.daemonsets, |cache| {
        for i in missing {
            let n = state.nodes.at_slot(k.slot(i));
            let (room, volumes) = node_room(n, pods.list(&n.name), cache.get(n, pool_of(state, n), node_daemons));
            if volumes.is_none() {
                k.keep(i, Some(room));
            } else {
                // with volume limits: worked out for every view
                k.keep(i, None);
                extra.push((i, room, volumes));
            }
        }
    });
}

/// nodes.Active() as the order kept for `state` holds them: brought up to date, the rooms it
/// lacks worked out (and kept, but for nodes with volume limits), then borrowed for the view's
/// life. A state whose views keep parts has unique names: every node is the first of its name.
fn kept_nodes<'a>(state: &'a ClusterState, pods: &'a BoundPods<'a>, kept: KeptAccess<'a>, node_daemons: &daemons::NodeDaemons) -> (ViewNodes<'a>, AntiAffinity<'a>) {
    let mut extra = Vec::new();
    let order = kept.update(|k| {
        let missing = k.prepare(state);
        if !missing.is_empty() {
            keep_missing(state, pods, k, missing, node_daemons, &mut extra);
        }
        k.refresh_blocks();
    });
    let active = order.active_positions();
    // the view position of the entry at `i` of the order (an active one)
    let view_at = |i: usize| match &active {
        None => Some(i),
        Some(a) => a.binary_search(&(i as u32)).ok(),
    };
    let mut anti_affinity = Vec::new();
    let with_anti = order.anti_affinity().into_iter().chain(extra.iter().filter(|e| e.1.anti_affinity).map(|e| e.0));
    for i in with_anti {
        if let Some(at) = view_at(i) {
            anti_affinity.extend(anti_affinity_pods(pods.list(&state.nodes.at_slot(order.slot(i)).name), at));
        }
    }
    (ViewNodes::Kept(KeptView { order, state, pods, active, extra }), anti_affinity)
}

/// A NodePool as the topology domain universe sees it (`topology.go: buildDomainGroups` takes every
/// NodePool the provisioner resolved instance types for, whether or not its requirements leave it
/// any to launch).
pub(crate) struct DomainPool<'a> {
    pub pool: &'a NodePool,
    /// The pool's requirements with its template labels.
    pub requirements: Requirements,
    /// Every instance type of its node class.
    pub types: &'a [TypeInfo],
    /// Its template in [`ClusterView::templates`], when it can launch something.
    pub template: Option<usize>,
}

/// Pool requirements with template labels, as the topology domain universe sees them.
fn pool_domain_requirements(pool: &NodePool) -> Requirements {
    let mut r = Requirements::from_node_selector(&pool.requirements).unwrap_or_default();
    r.add_all(&Requirements::from_labels(pool.labels.iter()));
    r
}

/// `relax_min_values`: Karpenter's `MinValuesPolicy=BestEffort` keeps the types a NodePool allows even
/// when they cannot reach its minValues (`scheduler.go: NewScheduler` filters with `relaxMinValues`).
fn template_parts(
    pool: &NodePool,
    types: &[TypeInfo],
    requirements: &Requirements,
    taints: &[Taint],
    daemonsets: &[&Pod],
    relax_min_values: bool,
    well_known: &WellKnown,
) -> TemplateParts {
    let all: Vec<u32> = (0..types.len() as u32).collect();
    let no_groups = [DaemonGroup { overhead: Resources::new(), host_ports: Vec::new() }];
    let zeros = vec![0u32; types.len()];
    let mut options = Vec::new();
    let filter_reqs = if relax_min_values { requirements.without_min_values() } else { requirements.clone() };
    instance_filter::filter(
        &FilterInput {
            types,
            classes: None,
            options: &all,
            groups: &no_groups,
            group_of: &zeros,
            reqs: &filter_reqs,
            total: &Resources::new(),
            pod_ports: &[],
            claim_ports: &[],
            prefiltered: false,
        },
        &mut options,
    );
    let (groups, group_of) = if options.is_empty() {
        (Vec::new(), Vec::new())
    } else {
        daemons::build_groups(daemonsets, requirements, taints, types, &options, well_known)
    };
    // explained with the requirements the filter used (minValues relaxed under BestEffort)
    let unlaunchable = options.is_empty().then(|| super::unlaunchable::explain(pool, &filter_reqs, types));
    TemplateParts { options, groups, group_of, unlaunchable, fit_bounds: Default::default(), limit_caps: Default::default(), price_orders: Default::default() }
}

/// A cached [`TemplateParts`] and what it was computed from.
struct CachedParts {
    types: Weak<Vec<TypeInfo>>,
    requirements: Requirements,
    relax_min_values: bool,
    well_known: WellKnown,
    taints: Vec<Taint>,
    daemonsets: Vec<Pod>,
    parts: Arc<TemplateParts>,
}

/// [`template_parts`], computed once per catalog, pool template and DaemonSet list while the catalog
/// is alive. A time simulation builds a view at every disruption round and provisioning batch,
/// always from the same pools; filtering a whole catalog each time dominated its cost. (A weak
/// reference pins the catalog's address, so an entry can never match another catalog; catalogs
/// are immutable behind their `Arc`, an offering outage makes a new one.)
fn cached_parts(
    pool: &NodePool,
    types: &Arc<Vec<TypeInfo>>,
    requirements: &Requirements,
    taints: &[Taint],
    daemonsets: &[&Pod],
    relax_min_values: bool,
    well_known: &WellKnown,
) -> Arc<TemplateParts> {
    const MAX_ENTRIES: usize = 256;
    static CACHE: Mutex<Vec<CachedParts>> = Mutex::new(Vec::new());
    let same = |c: &CachedParts| {
        std::ptr::eq(c.types.as_ptr(), Arc::as_ptr(types))
            && c.requirements == *requirements
            && c.relax_min_values == relax_min_values
            && c.well_known == *well_known
            && c.taints == taints
            && c.daemonsets.len() == daemonsets.len()
            && c.daemonsets.iter().zip(daemonsets).all(|(a, b)| a == *b)
    };
    if let Some(c) = CACHE.lock().unwrap_or_else(|e| e.into_inner()).iter().find(|c| same(c)) {
        return Arc::clone(&c.parts);
    }
    // (the requirements hold the pool's name, so a cached explanation names the right pool)
    let parts = Arc::new(template_parts(pool, types, requirements, taints, daemonsets, relax_min_values, well_known));
    let mut cache = CACHE.lock().unwrap_or_else(|e| e.into_inner());
    cache.retain(|c| c.types.strong_count() > 0);
    if cache.len() >= MAX_ENTRIES {
        cache.remove(0);
    }
    cache.push(CachedParts {
        types: Arc::downgrade(types),
        requirements: requirements.clone(),
        relax_min_values,
        well_known: well_known.clone(),
        taints: taints.to_vec(),
        daemonsets: daemonsets.iter().map(|p| (*p).clone()).collect(),
        parts: Arc::clone(&parts),
    });
    parts
}

/// Why a static pool launches no node for a pending pod: the static provisioning controller keeps
/// its `spec.replicas` NodeClaims (which pending pods may use), and the dynamic provisioner skips it
/// (`provisioner.go: NewScheduler`).
fn static_idle(pool: &NodePool) -> String {
    let replicas = pool.replicas.unwrap_or(0);
    format!("NodePool {} is static (spec.replicas {replicas}): it keeps {replicas} node(s) and launches none for pending pods", pool.name)
}

/// The templates of the pools that can launch something, and the others with the reason. Pools that
/// are not ready or being deleted are left out of both: the state warns about them, and a pending
/// pod's reason names those that would admit it (`provision`'s note).
fn templates<'a>(state: &'a ClusterState, daemonsets: &[&Pod], relax_min_values: bool) -> (Vec<Template<'a>>, Vec<(Sym, String)>) {
    let mut idle: Vec<(Sym, String)> = Vec::new();
    // NodePools: dynamic pools not being deleted, by weight desc then name desc (utils/nodepool OrderByWeight)
    let mut pools: Vec<&NodePool> = Vec::new();
    for p in state.nodepools.iter().filter(|p| !p.deleting) {
        if p.replicas.is_some() {
            idle.push((p.name, static_idle(p)));
        } else {
            pools.push(p);
        }
    }
    pools.sort_by(|a, b| b.weight.cmp(&a.weight).then(b.name.cmp(&a.name)));
    let mut out = Vec::new();
    for pool in pools {
        // a pool without types is not ready (its EC2NodeClass is missing), reported with the state
        let Some(pt) = state.pool_types.get(&pool.name) else { continue };
        // a pool whose requirements do not parse was reported when the state was validated
        let Ok(requirements) = template_requirements(pool) else { continue };
        let parts = cached_parts(pool, &pt.types, &requirements, &pool.taints, daemonsets, relax_min_values, &state.well_known);
        if let Some(why) = &parts.unlaunchable {
            // "NoCompatibleInstanceTypes": the pool cannot launch anything
            idle.push((pool.name, why.clone()));
            continue;
        }
        let classes = instance_filter::TypeClasses::shared(&pt.types);
        let has_reserved = !classes.reserved.is_empty();
        out.push(Template { pool, requirements, types: &pt.types, classes, parts, has_reserved });
    }
    idle.sort_by_key(|(name, _)| *name);
    (out, idle)
}

impl<'a> ClusterView<'a> {
    /// Every instance type some template could launch, with the template's requirements (a type
    /// offered by several pools repeats).
    pub fn launchable_types(&self) -> impl Iterator<Item = (&Requirements, &'a TypeInfo)> + '_ {
        self.templates.iter().flat_map(|t| t.options().iter().map(move |&o| (&t.requirements, &t.types[o as usize])))
    }

    /// The view of `state` for runs with this minValues policy (it decides which NodePools can
    /// launch anything).
    pub fn new(state: &'a ClusterState, min_values: MinValuesPolicy) -> ClusterView<'a> {
        Self::with_pods(state, min_values, &bound_pods_by_node(state))
    }

    /// [`ClusterView::new`] with the state's [`bound_pods_by_node`] already grouped (each node's
    /// pods are copied into the view).
    pub(crate) fn with_pods(state: &'a ClusterState, min_values: MinValuesPolicy, pods_by_node: &BoundPods<'a>) -> ClusterView<'a> {
        Self::build(state, min_values, PodsByNode::Copied(pods_by_node), None)
    }

    /// The view of `state` whose nodes look their pods up in `pods_by_node` (a disruption round's
    /// grouping lives as long as the round's view), and, with `kept`, whose nodes are the order
    /// kept there for this state: each node's parts and pod sums are taken from it when there and
    /// stored there otherwise. The caller keeps `kept` for one state whose node names are unique,
    /// and forgets every node whose record or pods changed, and all of them when its DaemonSets or
    /// NodePools change; debug builds check the view against one built without it.
    pub(crate) fn with_kept_borrowed(
        state: &'a ClusterState,
        min_values: MinValuesPolicy,
        pods_by_node: &'a BoundPods<'a>,
        kept: Option<KeptAccess<'a>>,
    ) -> ClusterView<'a> {
        let view = Self::build(state, min_values, PodsByNode::Borrowed(pods_by_node), kept);
        if matches!(view.nodes, ViewNodes::Kept(_)) && cfg!(debug_assertions) {
            // debug builds (the tests) check every view built from kept parts against a fresh one
            view.assert_same_nodes(&Self::build(state, min_values, PodsByNode::Borrowed(pods_by_node), None));
        }
        view
    }

    fn build(state: &'a ClusterState, min_values: MinValuesPolicy, pods_by_node: PodsByNode<'_, 'a>, kept: Option<KeptAccess<'a>>) -> ClusterView<'a> {
        let daemonsets: Vec<&Pod> = state.daemonsets.iter().collect();
        let (templates, idle) = templates(state, &daemonsets, min_values == MinValuesPolicy::BestEffort);
        let domain_pools = state
            .nodepools
            .iter()
            .filter(|p| p.provisions())
            .filter_map(|pool| {
                let pt = state.pool_types.get(&pool.name)?;
                Some(DomainPool {
                    pool,
                    requirements: pool_domain_requirements(pool),
                    types: &pt.types,
                    template: templates.iter().position(|t| t.pool.name == pool.name),
                })
            })
            .collect();
        let node_daemons = daemons::NodeDaemons::new(&daemonsets);
        let (nodes, mut anti_affinity) = match (kept, pods_by_node) {
            (Some(kept), PodsByNode::Borrowed(pods)) => kept_nodes(state, pods, kept, &node_daemons),
            _ => listed_nodes(state, pods_by_node, &node_daemons),
        };
        // back to the state's pod order (the pods are the state's, side by side in its order in
        // one vector, so their addresses follow it: `GapList`)
        debug_assert!(anti_affinity.iter().all(|(p, _)| state.pods.as_ptr_range().contains(&std::ptr::from_ref::<Pod>(p))));
        anti_affinity.sort_by_key(|(p, _)| std::ptr::from_ref::<Pod>(p));
        let tolerate_prefer_no_schedule =
            state.nodepools.iter().any(|p| p.taints.iter().any(|t| t.effect == TaintEffect::PreferNoSchedule));
        let reservations = ReservationManager::new(templates.iter().map(|t| t.classes.reserved.as_slice()));
        ClusterView {
            state,
            templates,
            domain_pools,
            nodes,
            anti_affinity,
            tolerate_prefer_no_schedule,
            reservations,
            idle,
            room_blocks: std::sync::OnceLock::new(),
            limits_all: std::sync::OnceLock::new(),
        }
    }

    /// How many nodes the view has.
    pub(crate) fn node_count(&self) -> usize {
        self.nodes.len()
    }

    /// The node at `i` of the view's order.
    pub(crate) fn node(&self, i: usize) -> NodeView<'_, 'a> {
        self.nodes.get(i)
    }

    /// The room of the node at `i` of the view's order (what [`ClusterView::node`] gives as `room`,
    /// without the rest).
    pub(crate) fn room(&self, i: usize) -> &NodeRoom {
        self.nodes.room(i)
    }

    /// The node at `i` of the view's order, without the rest of its view.
    pub(crate) fn node_record(&self, i: usize) -> &'a Node {
        self.nodes.node(i)
    }

    /// The kept order the view's nodes are, when every entry of it is active (the view's
    /// positions are then the order's).
    fn kept_all_active(&self) -> Option<&KeptNodes> {
        match &self.nodes {
            ViewNodes::Kept(k) if k.active.is_none() => Some(&k.order),
            _ => None,
        }
    }

    /// What the NodePools' limits leave to a run that treats the nodes at `gone` (positions,
    /// ascending) as gone: each limit less what the other nodes use, in the view's order.
    pub(crate) fn limits_left(&self, gone: &[usize]) -> limits_left::Limits {
        let limits = || self.state.nodepools.iter().filter(|p| !p.limits.is_empty()).map(|p| (p.name, p.limits.0.clone())).collect();
        let (all, exact) = self.limits_all.get_or_init(|| limits_left::less(limits(), (0..self.node_count()).map(|i| self.node_record(i))));
        if *exact {
            limits_left::give_back(all.clone(), gone.iter().map(|&i| self.node_record(i)))
        } else {
            limits_left::less(limits(), (0..self.node_count()).filter(|i| gone.binary_search(i).is_err()).map(|i| self.node_record(i))).0
        }
    }

    /// The room block holding the node at `i` of the view's order: its nodes' free amounts and
    /// their largest, which the view's runs (a consolidation round's simulations) share. A kept
    /// order's chunks, patched where the order changed; otherwise blocks of [`BLOCK`], worked out
    /// on first use.
    pub(crate) fn block(&self, i: usize) -> room_blocks::Block<'_> {
        match self.kept_all_active() {
            Some(kept) => kept.block(i),
            None => self.fixed_blocks().block(i),
        }
    }

    /// The room block after `block` (one of this view's), if there is one: found without a search.
    pub(crate) fn next_block(&self, block: &room_blocks::Block) -> Option<room_blocks::Block<'_>> {
        match self.kept_all_active() {
            Some(kept) => kept.next_block(block),
            None => self.fixed_blocks().number(block.number + 1),
        }
    }

    fn fixed_blocks(&self) -> &room_blocks::FixedBlocks {
        self.room_blocks.get_or_init(|| room_blocks::FixedBlocks::new((0..self.nodes.len()).map(|i| room_blocks::free_of(&self.nodes.room(i).remaining)).collect()))
    }

    /// The view's nodes, in its order.
    pub(crate) fn nodes(&self) -> impl ExactSizeIterator<Item = NodeView<'_, 'a>> + Clone + '_ {
        (0..self.nodes.len()).map(move |i| self.nodes.get(i))
    }

    /// The nodes of `self` (built from kept parts) are those of `fresh` (built without them).
    pub(crate) fn assert_same_nodes(&self, fresh: &ClusterView) {
        assert_eq!(self.node_count(), fresh.node_count(), "kept view parts give other nodes");
        for (a, b) in self.nodes().zip(fresh.nodes()) {
            let same = std::ptr::eq(a.node, b.node)
                && a.room == b.room
                && a.pods().len() == b.pods().len()
                && a.pods().iter().zip(b.pods().iter()).all(|(x, y)| std::ptr::eq(x, y))
                && a.volumes.is_some() == b.volumes.is_some();
            assert!(same, "kept view parts of node {} are stale", a.node.name);
        }
        let pairs = |v: &ClusterView| v.anti_affinity.iter().map(|(p, i)| (std::ptr::from_ref::<Pod>(p), *i)).collect::<Vec<_>>();
        assert_eq!(pairs(self), pairs(fresh), "kept view parts give other anti-affinity pods");
    }

    /// The positions of the nodes named in `names`, ascending. The nodes are in Karpenter's order
    /// (initialized first, then by name), so each name is found by a binary search in each half
    /// rather than every node looked up in `names` (a disruption round's simulations each remove a
    /// node or two from every node of the cluster).
    pub(crate) fn positions_of(&self, names: &SymSet) -> Vec<usize> {
        if let Some(kept) = self.kept_all_active() {
            // a kept order's names are unique, and its positions are the view's
            let mut out: Vec<usize> = names.iter().filter_map(|&name| kept.position(name)).collect();
            out.sort_unstable();
            return out;
        }
        // the first position in `lo..hi` where `pred` stops holding (it holds on a prefix)
        let partition = |mut lo: usize, mut hi: usize, pred: &dyn Fn(&Node) -> bool| {
            while lo < hi {
                let mid = lo + (hi - lo) / 2;
                if pred(self.nodes.node(mid)) {
                    lo = mid + 1;
                } else {
                    hi = mid;
                }
            }
            lo
        };
        let split = partition(0, self.node_count(), &|n| n.initialized);
        let mut out = Vec::new();
        for name in names {
            for (lo, hi) in [(0, split), (split, self.node_count())] {
                let from = partition(lo, hi, &|n| n.name < *name);
                let to = partition(from, hi, &|n| n.name == *name);
                out.extend(from..to);
            }
        }
        out.sort_unstable();
        out
    }

    /// The NodePools that launch nothing for pending pods, each with one sentence saying why
    /// (sorted by name). Static pools are among them: they keep their replicas and no more.
    pub fn unlaunchable(&self) -> &[(Sym, String)] {
        &self.idle
    }

    /// What the result should warn about launching: the dynamic pools that launch nothing, or that
    /// there is no NodePool at all. A static pool is not warned about: launching nothing for pending
    /// pods is what it is for (its StaticCapacity warning comes with the state); a pod it leaves
    /// pending still names it ([`ClusterView::no_launch_reason`]).
    pub fn launch_warnings(&self) -> Vec<String> {
        if self.state.nodepools.is_empty() {
            return vec!["no NodePool in the inputs: no node can be launched for pending pods".to_string()];
        }
        let is_static = |name: Sym| self.state.nodepools.iter().any(|p| p.name == name && p.replicas.is_some());
        self.idle.iter().filter(|(name, _)| !is_static(*name)).map(|(_, why)| why.clone()).collect()
    }

    /// Why a pod that no NodePool could take is pending, beyond the reasons of the pools that tried:
    /// the pools that launch nothing (or that there is no NodePool).
    pub(crate) fn no_launch_reason(&self) -> Option<String> {
        if self.state.nodepools.is_empty() {
            return Some("no NodePool in the inputs".to_string());
        }
        (!self.idle.is_empty()).then(|| self.idle.iter().map(|(_, why)| why.as_str()).collect::<Vec<_>>().join("; "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A view whose nodes look their pods up in a grouping that outlives it is the view that
    /// copies them: the same nodes with the same pods (by address) and the same room.
    #[test]
    fn a_view_borrowing_its_pods_is_the_view_copying_them() {
        let mut state = crate::fixtures::karpenter_cluster(5, 3, 9);
        // a second node of one name gets no pods (they go to the first)
        state.nodes[4].name = state.nodes[3].name;
        let pods = bound_pods_by_node(&state);
        let copied = ClusterView::with_pods(&state, MinValuesPolicy::default(), &pods);
        let borrowed = ClusterView::with_kept_borrowed(&state, MinValuesPolicy::default(), &pods, None);
        borrowed.assert_same_nodes(&copied);
        let ViewNodes::Listed(listed) = &borrowed.nodes else { panic!("a view without kept parts lists its nodes") };
        // every node looks its pods up in the grouping, but the second of a name, which has none
        let second = |l: &Listed| std::ptr::eq(l.node, &state.nodes[4]);
        assert!(listed.iter().all(|l| matches!(l.pods, ListedPods::Bound(_)) != second(l)));
        assert_eq!(borrowed.nodes().map(|v| v.pods().len()).sum::<usize>(), 12);
    }
}
