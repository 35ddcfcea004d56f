//! The provisioning scheduler (`scheduling/scheduler.go`, `nodeclaim.go`, `existingnode.go`;
//! design §3): pods in queue order, first fit on existing nodes, then in-flight NodeClaims, then a
//! new NodeClaim from the first NodePool (by weight) that can take the pod.

use super::claim_order::{ClaimOrder, Place};
use super::pinned_domain::{PinIndex, PinnedDomains};
use super::pool_limits::LimitedCapacity;
use super::cluster_view::{ClusterView, BLOCK};
use super::existing_nodes::{ExistingNode, ExistingNodes};
use super::host_ports;
use super::instance_filter::{self, FilterInput, FilterScratch};
use super::options::{MinValuesPolicy, PreferencePolicy, ProvisionOptions, TopologyDomains};
use super::pod_data::{PodData, validate_for_provisioning, validate_with};
use super::price_order::cheapest_with;
use super::preferences;
use super::queue::Queue;
use super::reservations::{ReservationManager, ReservedMode};
use super::template::Template;
use super::topology::{PoolDomains, PoolTypes, TopoNodes, Topology, with_domains};
use super::volumes;
use crate::labels::{self, Sym, SymSet};
use crate::model::{HostPort, Pod};
use crate::requirements::{Incompatibility, Requirement, Requirements};
use crate::resources::Resources;
use crate::state::{ClusterState, TypeInfo};
use crate::taints;
use rustc_hash::FxHashMap;
use std::borrow::Cow;
use std::cmp::Reverse;
use std::collections::BTreeMap;

/// What a run schedules and against which part of the cluster.
#[derive(Debug, Clone, Default)]
pub struct ScheduleScope {
    /// Nodes treated as already gone (consolidation candidates, deleting nodes).
    pub removed_nodes: SymSet,
    /// Nodes that may not receive pods moved off other nodes because their pool's `consolidateAfter`
    /// has not passed since their last pod event (`IsUnderConsolidateAfter`, §5.10).
    pub under_consolidate_after: SymSet,
    /// Pods that were pending before the run (exempt from the rule above).
    pub pending: SymSet,
    /// Stop as soon as the run would open more new NodeClaims than this: the caller only needs to
    /// know that it would ([`Solution::claims_exceeded`]; the rest of the solution is then partial).
    pub max_new_claims: Option<usize>,
    /// Strict for provisioning, Fallback for disruption simulations (§3.12).
    pub reserved_mode: ReservedMode,
}

#[derive(Debug, Clone)]
pub(crate) struct NewClaim {
    pub template: usize,
    pub hostname: Sym,
    pub requirements: Requirements,
    pub options: Vec<u32>,
    pub requests: Resources,
    pub pods: Vec<usize>,
    ports: Vec<HostPort>,
    seq: usize,
    /// The single value of the hostname requirement (`None` when it has several or none), which
    /// hostname rules look up for every open claim.
    host: Option<Sym>,
    /// The largest cpu, memory and pods allocatable among `options`: a total above any of them fits
    /// no option, whatever the DaemonSet overhead (a quick no before the full check).
    max_alloc: [i64; 3],
    /// The capacity reservations it holds (`reservedOfferings`).
    reserved: Vec<Sym>,
    /// How many of the topology's hostname groups know its hostname
    /// ([`Topology::register_hostname`]).
    registered: usize,
}

fn max_alloc(types: &[TypeInfo], options: &[u32]) -> [i64; 3] {
    options.iter().fold([i64::MIN; 3], |m, &o| {
        let a = &types[o as usize].it.allocatable;
        [m[0].max(a.cpu), m[1].max(a.memory), m[2].max(a.pods)]
    })
}

/// A NodeClaim after finalisation (§3.13), before it is turned into output.
#[derive(Debug, Clone)]
pub struct SolvedClaim<'a> {
    pub nodepool: Sym,
    /// The NodePool's taints.
    pub taints: &'a [crate::model::Taint],
    pub requirements: Requirements,
    /// Cheapest first, truncated.
    pub options: Vec<&'a TypeInfo>,
    pub requests: Resources,
    pub pods: Vec<usize>,
    /// Some minValues is lower than the NodePool's (`MinValuesPolicy=BestEffort`).
    pub min_values_relaxed: bool,
}

/// The outcome of one run.
pub struct Solution<'a> {
    pub pods: Vec<&'a Pod>,
    pub claims: Vec<SolvedClaim<'a>>,
    /// Existing nodes that received pods, with the pods.
    pub existing: Vec<(Sym, Vec<usize>)>,
    /// Pods left unplaced, with the last reason.
    pub errors: Vec<(usize, String)>,
    /// Pods deferred to the next run by a reserved-offering error (Karpenter does not report them
    /// as failures: the reservation they wait for is held by this run's NodeClaims).
    pub deferred: Vec<(usize, String)>,
    pub relaxations: Vec<(usize, Vec<String>)>,
    /// The run stopped because it needed more new NodeClaims than `ScheduleScope::max_new_claims`.
    pub claims_exceeded: bool,
    /// Pods left unplaced because a topology spread could only go to a domain (key, value) that
    /// no instance type their NodePools can launch has (see [`super::TopologyDomains`]).
    pub phantom_domains: Vec<(usize, Sym, Sym)>,
}

enum Fail {
    Quiet,
    Message(String),
    Undefined(Incompatibility),
    /// No type of the pool has the domain (key, value) a topology spread chose (`Message` says so).
    Phantom(String, Sym, Sym),
    /// `ReservedOfferingError`: not relaxed, and no lower-weight NodePool is tried.
    Reserved(String),
}

/// Why a pod could not be added: the message, and whether it is a reserved-offering error.
struct AddError {
    message: String,
    reserved: bool,
}

impl From<String> for AddError {
    fn from(message: String) -> AddError {
        AddError { message, reserved: false }
    }
}

impl From<&str> for AddError {
    fn from(message: &str) -> AddError {
        AddError { message: message.to_string(), reserved: false }
    }
}

struct Scheduler<'a, 't, 's> {
    opts: &'s ProvisionOptions,
    pods: Vec<&'a Pod>,
    data: Vec<PodData>,
    relaxed: Vec<Vec<String>>,
    templates: &'t [Template<'a>],
    /// Why pools that launch nothing do (appended to the reason of a pod no pool could take).
    no_launch: Option<String>,
    existing: ExistingNodes<'t, 'a>,
    /// The positions in `existing` of the nodes this run placed pods on, in the order of their
    /// first pod (the solution lists them without a pass over every node).
    placed_on: Vec<usize>,
    /// The NodeClaims opened in this run, in order of creation (their index never changes).
    claims: Vec<NewClaim>,
    /// The order in which `claims` are tried.
    order: ClaimOrder,
    /// The same claims grouped by the value they are pinned to on the keys pods' first groups ask
    /// about (`pinned_domain`).
    pins: PinIndex,
    topology: Topology<'t>,
    remaining_limits: BTreeMap<Sym, BTreeMap<String, i64>>,
    /// Per template, its types' capacities on the resources its pool limits, in the order of the
    /// pool's `remaining_limits` (computed at first use).
    limit_caps: Vec<Option<std::sync::Arc<LimitedCapacity>>>,
    tolerate_prefer_no_schedule: bool,
    next_hostname: usize,
    next_seq: usize,
    scope: &'s ScheduleScope,
    /// Buffers for trying NodeClaims, reused from pod to pod.
    buffers: ClaimBuffers,
    /// For pod requests seen in this run, the first existing node that still had room for them
    /// (looked up for every pod, never iterated: hashed with FxHash rather than SipHash).
    first_fit: FxHashMap<Resources, usize>,
    /// A pod needed one new NodeClaim more than `ScheduleScope::max_new_claims` allows.
    claims_exceeded: bool,
    /// For each hostname rule (see [`Topology::hostname_rules`]), a place in `order` before which
    /// every NodeClaim is ruled out by it. Counts only grow during a run, so a NodeClaim ruled out
    /// stays ruled out, and a claim that gains a pod only moves to a later place; only a new
    /// NodeClaim can arrive before the cursor (`commit`).
    hostname_cursors: FxHashMap<(usize, bool, i32), Place>,
    /// Per pod: the domain its last failure was waiting for, when no NodePool can launch in it.
    phantom: Vec<Option<(Sym, Sym)>>,
    /// Labels a NodeClaim may be asked for without its NodePool defining them.
    well_known: &'a crate::labels::WellKnown,
    reservations: ReservationManager,
}

/// What trying a NodeClaim writes: the options left (`NodeClaim.CanAdd`'s filtered instance types)
/// and the instance filter's working buffers, kept by the scheduler and passed in.
#[derive(Default)]
struct ClaimBuffers {
    options: Vec<u32>,
    filter: FilterScratch,
}

/// Note `at` as the first existing node with room for `requests`, copying the requests only the
/// first time they are seen (`Scheduler::first_fit`).
fn keep_first_fit(map: &mut FxHashMap<Resources, usize>, requests: &Resources, at: usize) {
    match map.get_mut(requests) {
        Some(v) => *v = at,
        None => {
            map.insert(requests.clone(), at);
        }
    }
}

/// A pod's place in the queue: cpu and memory descending, then creation time and uid.
type QueueKey = (Reverse<i64>, Reverse<i64>, crate::model::Timestamp, Sym);

/// Queue order of Karpenter v1.14.1 (`queue.go: byCPUAndMemoryDescending`): cpu desc, memory desc,
/// creation time asc, uid asc (unchanged on the main branch read, 2026-08-20).
fn queue_order(pods: &[&Pod], data: &[PodData], ids: &mut [usize]) {
    // the keys side by side rather than behind two indirections per comparison (a simulation's
    // batches sort thousands of pods each); a stable sort, as before: pods arrive in long runs
    // already in order, which it finds
    let mut keys: Vec<(QueueKey, usize)> = ids
        .iter()
        .map(|&i| ((Reverse(data[i].requests.cpu), Reverse(data[i].requests.memory), pods[i].creation_timestamp, pods[i].uid), i))
        .collect();
    keys.sort_by_key(|k| k.0);
    for (slot, k) in ids.iter_mut().zip(&keys) {
        *slot = k.1;
    }
}

/// Run the scheduler over `pods` (pending pods, and pods to move in a disruption simulation).
pub fn schedule<'a>(state: &'a ClusterState, pods: Vec<&'a Pod>, scope: &ScheduleScope, opts: &ProvisionOptions) -> Solution<'a> {
    schedule_on(&ClusterView::new(state, opts.min_values_policy), pods, scope, opts)
}

/// [`schedule`] against a view prepared once for many runs over the same state.
pub fn schedule_on<'a>(view: &ClusterView<'a>, pods: Vec<&'a Pod>, scope: &ScheduleScope, opts: &ProvisionOptions) -> Solution<'a> {
    let state = view.state;
    let respect = opts.preference_policy == PreferencePolicy::Respect;
    let mut errors: Vec<(usize, String)> = Vec::new();
    let mut data = Vec::with_capacity(pods.len());
    let mut valid = Vec::with_capacity(pods.len());
    for (i, p) in pods.iter().enumerate() {
        let d = PodData::new(p, respect);
        // with preferences respected, the data's requirements are what validation reads (data that
        // failed, on requirements or volumes, leaves validation to compute them)
        let invalid = match (&d, respect) {
            (Ok(d), true) => validate_with(p, Some(&d.requirements)),
            _ => validate_for_provisioning(p),
        }
        .or_else(|| d.as_ref().err().cloned())
            // the claim checks of `Provisioner.Validate` apply to pending pods only; pods that move
            // keep the volumes they run with
            .or_else(|| if scope.pending.contains(&p.uid) { volume_invalid(p) } else { None });
        data.push(d.unwrap_or_else(|_| PodData {
            requests: p.requests.clone(),
            requirements: Requirements::new(),
            strict: Requirements::new(),
            volumes: Vec::new(),
        }));
        match invalid {
            Some(e) => errors.push((i, e)),
            None => valid.push(i),
        }
    }

    // existing nodes (nodes.Active()) in the view's order, those this run treats as gone found by
    // name (a few) rather than every node looked up
    let gone = view.positions_of(&scope.removed_nodes);
    debug_assert!(
        view.nodes().enumerate().all(|(i, v)| gone.binary_search(&i).is_ok() == scope.removed_nodes.contains(&v.node.name)),
        "nodes found gone by position, not by name"
    );
    let existing = ExistingNodes::new(view, &gone);
    let remaining_limits = view.limits_left(&gone);
    let pool_domains: Vec<PoolDomains> = view
        .domain_pools
        .iter()
        .map(|d| PoolDomains {
            requirements: &d.requirements,
            taints: &d.pool.taints,
            types: match opts.topology_domains {
                TopologyDomains::Karpenter => PoolTypes::All(d.types),
                TopologyDomains::Launchable => match d.template {
                    Some(t) => PoolTypes::At(d.types, view.templates[t].options()),
                    None => PoolTypes::NONE,
                },
            },
            launchable_only: opts.topology_domains == TopologyDomains::Launchable,
        })
        .collect();
    // the bound pods' nodes as positions in the topology's list (the view's nodes less those gone)
    let anti: Vec<(&Pod, usize)> =
        view.anti_affinity.iter().filter(|(_, n)| gone.binary_search(n).is_err()).map(|&(p, n)| (p, n - gone.partition_point(|&g| g < n))).collect();
    // `existing`'s nodes less those gone, in its order
    let topo_nodes = TopoNodes::lazy(move || {
        view.nodes().enumerate().filter(|(i, _)| gone.binary_search(i).is_err()).map(|(_, v)| v.topo()).collect()
    });
    let topology = Topology::new(respect, &state.well_known, pool_domains, topo_nodes, &anti, &pods, &state.namespaces);

    let n = pods.len();
    let mut s = Scheduler {
        opts,
        pods,
        data,
        relaxed: vec![Vec::new(); n],
        templates: &view.templates,
        no_launch: view.no_launch_reason(),
        existing,
        placed_on: Vec::new(),
        claims: Vec::new(),
        order: ClaimOrder::default(),
        pins: PinIndex::default(),
        topology,
        remaining_limits,
        limit_caps: vec![None; view.templates.len()],
        tolerate_prefer_no_schedule: view.tolerate_prefer_no_schedule,
        next_hostname: 0,
        next_seq: 0,
        scope,
        buffers: ClaimBuffers::default(),
        first_fit: FxHashMap::default(),
        claims_exceeded: false,
        hostname_cursors: FxHashMap::default(),
        phantom: vec![None; n],
        well_known: &state.well_known,
        reservations: view.reservations.clone(),
    };
    let mut last_error: Vec<Option<AddError>> = (0..n).map(|_| None).collect();
    queue_order(&s.pods, &s.data, &mut valid);
    let mut queue = Queue::new(valid, n);
    while let Some(id) = queue.pop() {
        if s.claims_exceeded {
            break;
        }
        match s.try_schedule(id) {
            Ok(()) => {
                last_error[id] = None;
                s.topology.placed();
            }
            Err(e) => {
                last_error[id] = Some(e);
                // re-register the ORIGINAL (unrelaxed) pod and retry it later
                let p = s.pods[id];
                s.topology.update(id, p);
                s.topology.retried(id);
                if let Ok(d) = PodData::new(p, respect) {
                    s.data[id] = d;
                }
                s.relaxed[id].clear();
                queue.push(id);
            }
        }
    }
    let mut deferred = Vec::new();
    let mut phantom_domains = Vec::new();
    for (id, e) in last_error.into_iter().enumerate() {
        match e {
            Some(e) if e.reserved => deferred.push((id, e.message)),
            Some(e) => {
                errors.push((id, e.message));
                if let Some((k, v)) = s.phantom[id] {
                    phantom_domains.push((id, k, v));
                }
            }
            None => {}
        }
    }
    let mut sol = s.finish(errors);
    sol.phantom_domains = phantom_domains;
    sol.errors.sort_by_key(|(i, _)| *i);
    sol.deferred = deferred;
    sol
}

impl<'a, 't, 's> Scheduler<'a, 't, 's> {
    fn try_schedule(&mut self, id: usize) -> Result<(), AddError> {
        let original: &'a Pod = self.pods[id];
        let mut working: Option<Pod> = None;
        let respect = self.opts.preference_policy == PreferencePolicy::Respect;
        loop {
            let err = match self.add(id, working.as_ref().unwrap_or(original)) {
                Ok(()) => return Ok(()),
                Err(_) if self.claims_exceeded => return Err("needs one new NodeClaim too many".into()),
                // the reservation may be released later in this run, or be used up by the next:
                // the pod waits with its preferences intact (scheduler.go: trySchedule)
                Err(e) if e.reserved => return Err(e),
                Err(e) => e,
            };
            let w = working.get_or_insert_with(|| original.clone());
            let Some(step) = preferences::relax(w, self.tolerate_prefer_no_schedule) else { return Err(err) };
            self.relaxed[id].push(step);
            self.topology.update(id, w);
            if let Ok(d) = PodData::new(w, respect) {
                self.data[id] = d;
            }
        }
    }

    fn add(&mut self, id: usize, pod: &Pod) -> Result<(), AddError> {
        // 1. existing nodes, in order, for every pod (`scheduler.go: add`). Free capacity only
        // shrinks during a run, so the nodes before the first that had room for these requests
        // last time still have none: start there. Nodes after it that had room but refused the pod
        // (taints, topology) are tried again: topology counts change as the batch is placed.
        let moved = !self.scope.pending.contains(&pod.uid);
        let requests = &self.data[id].requests;
        let start = self.first_fit.get(requests).copied().unwrap_or(0);
        let mut first_fit = None;
        let len = self.existing.len();
        let mut i = start;
        let mut next = (i < len).then(|| self.existing.block(i));
        while let Some(block) = next {
            next = self.existing.next_block(&block);
            // once a scan has passed a block's worth of nodes, it passes whole room blocks in which
            // no node had room for the requests when the view was built: the same first fit,
            // without a test per full node
            if i == block.start && i - start >= BLOCK && block.rules_out(requests) {
                i = block.end();
                continue;
            }
            while i < block.end() {
                let at = i;
                i += 1;
                if !self.existing.fits(at, requests, block.free_at(at)) {
                    continue;
                }
                first_fit.get_or_insert(at);
                // asked only of the nodes with room, not of every node when the run is set up
                if moved && self.scope.under_consolidate_after.contains(&self.existing.node(at).name) {
                    continue;
                }
                self.existing.entry(at);
                if let Ok(reqs) = self.existing_can_add(at, id, pod) {
                    keep_first_fit(&mut self.first_fit, requests, first_fit.unwrap_or(at));
                    let e = self.existing.entry(at);
                    if e.placed.is_none() {
                        self.placed_on.push(at);
                    }
                    e.place(id, pod, &self.data[id].requests, reqs);
                    self.topology.record(id, pod, &e.view.room.taints, e.requirements(), false);
                    return Ok(());
                }
            }
        }
        keep_first_fit(&mut self.first_fit, requests, first_fit.unwrap_or(len));
        // 2. NodeClaims opened in this run, fewest pods first (kept sorted; ties by creation order)
        // Hostname spread/anti-affinity rules that would reject a claim, checked before anything
        // else (exact: the same conditions `Topology::domains_to_add` applies, when the pod adds no
        // hostname requirement of its own, so the claim's single hostname is the node's domain).
        let rules = if self.claims.is_empty() || self.data[id].requirements.has(*labels::HOSTNAME) {
            Vec::new()
        } else {
            self.topology.hostname_rules(id, pod)
        };
        // the claims before the furthest cursor are ruled out: the scan starts after them, so a pod
        // that needs a node of its own does not walk every open NodeClaim
        let start = self.skip_ruled_out(&rules);
        // claims pinned to a zone the pod's first group refuses are not visited: one verdict per
        // zone, and the scan merges the other zones' claims back into claim order (`pinned_domain`)
        let pinned = if self.claims.is_empty() { None } else { PinnedDomains::new(&self.topology, id, &self.data[id]) };
        if let Some(p) = &pinned
            && !self.pins.has(p.key())
        {
            let claims = &self.claims;
            self.pins.add_key(p.key(), self.order.from(Place::FIRST).map(|(place, i)| (place, i, &claims[i].requirements)));
        }
        let (all, merged) = match &pinned {
            None => (Some(self.order.from(start)), None),
            Some(p) => (None, Some(self.pins.scan(p.key(), start, |v| p.refuses(&self.topology, pod, &self.data[id], v)))),
        };
        let mut bufs = std::mem::take(&mut self.buffers);
        let mut fit = None;
        for (_, i) in all.into_iter().flatten().chain(merged.into_iter().flatten()) {
            let c = &self.claims[i];
            if !rules.is_empty() && c.host.is_some_and(|h| self.topology.hostname_blocked(&rules, h)) {
                continue;
            }
            if let Ok(r) = self.claim_can_add(c, id, pod, &mut bufs, false) {
                fit = Some((i, r));
                break;
            }
        }
        if let Some((i, (reqs, reserve))) = fit {
            self.commit(i, id, pod, reqs, &bufs.options, reserve);
            self.buffers = bufs;
            return Ok(());
        }
        self.buffers = bufs;
        // 3. a new NodeClaim from the first NodePool (by weight) that can take the pod
        if self.templates.is_empty() {
            return Err(match &self.no_launch {
                // which requirement filtered out the last instance types, pool by pool
                Some(why) => format!("no NodePool can launch any instance type: {why}"),
                // every pool is not ready or being deleted: `provision` adds which would admit it
                None => "no NodePool can launch any instance type".to_string(),
            }
            .into());
        }
        let mut fails: Vec<(Sym, Fail)> = Vec::new();
        for ti in 0..self.templates.len() {
            let templates = self.templates;
            let t = &templates[ti];
            let pool = t.pool.name;
            let mut options = t.options().to_vec();
            let mut limited: Option<String> = None;
            if let Some(rem) = self.remaining_limits.get(&pool) {
                if rem.get("nodes").is_some_and(|v| *v == 0) {
                    fails.push((pool, Fail::Message(format!("NodePool {pool} has reached its node limit"))));
                    continue;
                }
                let caps: &LimitedCapacity = self.limit_caps[ti].get_or_insert_with(|| {
                    let resources: Vec<&str> = rem.keys().map(String::as_str).collect();
                    t.limited_capacity(&resources)
                });
                if !caps.all_within(rem.values()) {
                    let remaining: Vec<i64> = rem.values().copied().collect();
                    options.retain(|&o| caps.within(o, &remaining));
                }
                if options.is_empty() {
                    let lim: Vec<String> = rem.iter().map(|(k, v)| format!("{k} {}", crate::resources::format_amount(k, *v))).collect();
                    fails.push((
                        pool,
                        Fail::Message(format!("NodePool {pool} limits leave room for no instance type (remaining: {})", lim.join(", "))),
                    ));
                    continue;
                }
                if options.len() < t.options().len() {
                    let lim: Vec<String> = rem.iter().map(|(k, v)| format!("{k} {}", crate::resources::format_amount(k, *v))).collect();
                    limited = Some(format!(
                        " ({} of {} instance types excluded by NodePool limits; remaining: {})",
                        t.options().len() - options.len(),
                        t.options().len(),
                        lim.join(", ")
                    ));
                }
            }
            self.next_hostname += 1;
            let hostname = Sym::new(&format!("hostname-placeholder-{:04}", self.next_hostname));
            let mut requirements = t.requirements.clone();
            requirements.add(*labels::HOSTNAME, Requirement::is_in([hostname]));
            let max_alloc = max_alloc(t.types, &options);
            let claim = NewClaim {
                template: ti,
                hostname,
                requirements,
                options,
                requests: Resources::new(),
                pods: Vec::new(),
                ports: Vec::new(),
                seq: self.next_seq,
                host: Some(hostname),
                max_alloc,
                reserved: Vec::new(),
                registered: 0,
            };
            // the options are kept by the new NodeClaim: a fresh vector for them
            let mut bufs = ClaimBuffers { options: Vec::new(), filter: std::mem::take(&mut self.buffers.filter) };
            let added = self.claim_can_add(&claim, id, pod, &mut bufs, true);
            self.buffers.filter = bufs.filter;
            let out = bufs.options;
            match added {
                Ok(_) if self.scope.max_new_claims.is_some_and(|m| self.claims.len() >= m) => {
                    // the run would open one NodeClaim too many: the caller only needs to know that
                    self.claims_exceeded = true;
                    return Err(String::new().into());
                }
                Ok((reqs, reserve)) => {
                    self.next_seq += 1;
                    self.claims.push(claim);
                    let i = self.claims.len() - 1;
                    self.commit(i, id, pod, reqs, &out, reserve);
                    // pessimistic limits: assume the biggest option launches (subtractMax); the
                    // capacities come from the template's limited-capacity table, built above
                    // whenever the pool has limits
                    if let Some(rem) = self.remaining_limits.get_mut(&pool)
                        && let Some(caps) = &self.limit_caps[ti]
                    {
                        for (r, (k, v)) in rem.iter_mut().enumerate() {
                            if k == "nodes" {
                                if self.opts.count_new_nodes_against_limits {
                                    *v -= 1;
                                }
                                continue;
                            }
                            *v = v.saturating_sub(caps.largest_among(&out, r).unwrap_or(0));
                        }
                    }
                    return Ok(());
                }
                // a pool with reserved capacity this pod could use blocks every lighter pool
                Err(Fail::Reserved(m)) => return Err(AddError { message: format!("NodePool {pool}: {m}"), reserved: true }),
                Err(Fail::Message(m)) if limited.is_some() => fails.push((pool, Fail::Message(m + limited.as_deref().unwrap_or_default()))),
                Err(f) => fails.push((pool, f)),
            }
        }
        self.phantom[id] = fails.iter().find_map(|(_, f)| if let Fail::Phantom(_, k, v) = f { Some((*k, *v)) } else { None });
        let mut why = render_failures(&fails, pod);
        if let Some(idle) = &self.no_launch {
            why.push_str("; ");
            why.push_str(idle);
        }
        Err(why.into())
    }

    /// Whether a pod whose requests fit node `i` may go there (taints, volume limits, host ports,
    /// requirements, then each volume topology alternative with topology), with the node's
    /// requirements tightened by the pod's (`existingnode.go: CanAdd`; `None`: they stay as they are).
    fn existing_can_add(&self, i: usize, id: usize, pod: &Pod) -> Result<Option<Requirements>, ()> {
        let e = self.existing.get(i);
        let d = &self.data[id];
        // the caller has checked that the requests fit the node's remaining capacity
        if taints::first_untolerated(&e.view.room.taints, &pod.tolerations).is_some()
            || e.view.volumes.as_ref().is_some_and(|u| u.exceeds(&e.view.node.volume_limits, e.volumes(), volumes::attachments(pod)))
            || host_ports::first_conflict(&pod.host_ports, &e.view.room.ports).is_some()
            || host_ports::first_conflict(&pod.host_ports, e.ports()).is_some()
            || e.requirements().compatible(&d.requirements, None).is_err()
        {
            return Err(());
        }
        // most pods add no requirement of their own: the node's are then used as they are, not copied
        let base = if d.requirements.is_empty() {
            Cow::Borrowed(e.requirements())
        } else {
            let mut b = e.requirements().clone();
            b.add_all(&d.requirements);
            Cow::Owned(b)
        };
        if d.volumes.is_empty() {
            return self.existing_with_topology(e, id, pod, base);
        }
        // the first volume alternative that works (`tryVolumeAlternative`)
        for alt in &d.volumes {
            if base.compatible(alt, None).is_err() {
                continue;
            }
            let mut reqs = base.clone().into_owned();
            reqs.add_all(alt);
            if let Ok(r) = self.existing_with_topology(e, id, pod, Cow::Owned(reqs)) {
                return Ok(r);
            }
        }
        Err(())
    }

    /// An existing node's requirements tightened by the topology groups that apply to the pod
    /// (`None`: `base` is the node's own and nothing tightens it).
    fn existing_with_topology(&self, e: &ExistingNode, id: usize, pod: &Pod, base: Cow<Requirements>) -> Result<Option<Requirements>, ()> {
        let adds = self.topology.domains_to_add(id, pod, &e.view.room.taints, &self.data[id].strict, &base, false, false).map_err(|_| ())?;
        if adds.is_empty() {
            // the tightened requirements are `base` itself: when that is the node's own, its
            // verdict is kept on the node
            let ok = match &base {
                Cow::Borrowed(r) if std::ptr::eq(*r, e.requirements()) => e.self_compatible(),
                _ => base.compatible(&base, None).is_ok(),
            };
            if !ok {
                return Err(());
            }
            return Ok(match base {
                Cow::Borrowed(_) => None,
                Cow::Owned(r) => Some(r),
            });
        }
        let topo = with_domains(&base, adds);
        base.compatible(&topo, None).map_err(|_| ())?;
        Ok(Some(topo))
    }

    /// `NodeClaim.CanAdd`: the tightened requirements, with the remaining options written to `out`.
    /// `explain` and `relax_min_values` are both true when opening a NodeClaim from a template.
    fn claim_can_add(
        &self,
        c: &NewClaim,
        id: usize,
        pod: &Pod,
        bufs: &mut ClaimBuffers,
        explain: bool,
    ) -> Result<(Requirements, Vec<Sym>), Fail> {
        let t = &self.templates[c.template];
        let d = &self.data[id];
        if !explain {
            // quick no: the pod cannot fit any remaining option (overheads only add to the total)
            let (r, m) = (&d.requests, &c.max_alloc);
            if c.requests.cpu.saturating_add(r.cpu) > m[0]
                || c.requests.memory.saturating_add(r.memory) > m[1]
                || c.requests.pods.saturating_add(r.pods) > m[2]
            {
                return Err(Fail::Quiet);
            }
        }
        let pool = t.pool.name;
        if let Some(taint) = taints::first_untolerated(&t.pool.taints, &pod.tolerations) {
            return Err(if explain {
                Fail::Message(format!("NodePool {pool} has taint {taint}, which the pod does not tolerate"))
            } else {
                Fail::Quiet
            });
        }
        let well_known = Some(self.well_known);
        if let Err(inc) = c.requirements.compatible(&d.requirements, well_known) {
            return Err(if !explain {
                Fail::Quiet
            } else if matches!(inc, Incompatibility::Undefined { .. }) {
                Fail::Undefined(inc)
            } else {
                Fail::Message(format!("NodePool {pool}: pod {inc}"))
            });
        }
        // the claim's requirements tightened by the pod's (no copy when the pod adds none)
        let merged;
        let base = if d.requirements.is_empty() {
            &c.requirements
        } else {
            let mut b = c.requirements.clone();
            b.add_all(&d.requirements);
            merged = b;
            &merged
        };
        if d.volumes.is_empty() {
            return self.claim_try(c, id, pod, base, bufs, explain);
        }
        // the first volume alternative that works (`tryVolumeAlternative`)
        let mut last = Fail::Quiet;
        for alt in &d.volumes {
            if let Err(inc) = base.compatible(alt, well_known) {
                if explain {
                    last = Fail::Message(format!("NodePool {pool}: volume topology {inc}"));
                }
                continue;
            }
            let mut reqs = base.clone();
            reqs.add_all(alt);
            match self.claim_try(c, id, pod, &reqs, bufs, explain) {
                Ok(r) => return Ok(r),
                Err(f) => last = f,
            }
        }
        Err(last)
    }

    /// The rest of `NodeClaim.CanAdd` for one set of node requirements: topology, then the
    /// instance types that still fit and the reservations they would hold.
    fn claim_try(
        &self,
        c: &NewClaim,
        id: usize,
        pod: &Pod,
        base: &Requirements,
        bufs: &mut ClaimBuffers,
        explain: bool,
    ) -> Result<(Requirements, Vec<Sym>), Fail> {
        let ClaimBuffers { options: out, filter: scratch } = bufs;
        let relax_min_values = explain;
        let t = &self.templates[c.template];
        let d = &self.data[id];
        let pool = t.pool.name;
        // copied only when topology tightens them, or when the pod is placed
        let reqs = match self.topology.domains_to_add(id, pod, &t.pool.taints, &d.strict, base, true, explain) {
            Ok(adds) if adds.is_empty() => Cow::Borrowed(base),
            Ok(adds) => Cow::Owned(with_domains(base, adds)),
            Err(Some(e)) => return Err(Fail::Message(format!("NodePool {pool}: {e}"))),
            Err(None) => return Err(Fail::Quiet),
        };
        if let Err(inc) = base.compatible(&reqs, Some(self.well_known)) {
            return Err(if explain { Fail::Message(format!("NodePool {pool}: topology {inc}")) } else { Fail::Quiet });
        }
        let total = c.requests.add(&d.requests);
        let input = FilterInput {
            types: t.types,
            classes: Some(&t.classes),
            options: &c.options,
            groups: t.groups(),
            group_of: t.group_of(),
            reqs: &reqs,
            total: &total,
            pod_ports: &pod.host_ports,
            claim_ports: &c.ports,
            prefiltered: false,
        };
        // an open claim's options were filtered by its requirements: only the keys the pod and
        // topology changed need checking again (none: only the resource fit is left)
        let mut keys = [Sym::default(); 8];
        let changed = if explain {
            None
        } else if std::ptr::eq(&*reqs, &c.requirements) {
            Some(&keys[..0])
        } else {
            changed_keys(&c.requirements, &reqs, &mut keys).map(|n| &keys[..n])
        };
        let flags = instance_filter::filter_known(&input, changed, Some(t.fit_bounds()), scratch, out);
        if out.is_empty() {
            // BestEffort: keep what fits and lower each unmet minValues to the count achieved
            // (nodeclaim.go: CanAdd). Karpenter passes relaxMinValues only when opening a NodeClaim
            // from a template; in-flight NodeClaims are always checked strictly (scheduler.go).
            if relax_min_values && flags.min_values_missing.is_some() && self.opts.min_values_policy == MinValuesPolicy::BestEffort {
                let strictless = FilterInput { reqs: &reqs.without_min_values(), ..input };
                instance_filter::filter(&strictless, out);
                if !out.is_empty() {
                    let reqs = lower_min_values(t.types, out, &reqs);
                    let reserve = self.to_reserve(c, out, &reqs)?;
                    return Ok((reqs, reserve));
                }
            }
            if !explain {
                return Err(Fail::Quiet);
            }
            let message = instance_filter::explain(pool, &input, &flags);
            return Err(match self.phantom_domain(t, base, &reqs) {
                Some((k, v)) => Fail::Phantom(message + &phantom_note(k, v), k, v),
                None => Fail::Message(message),
            });
        }
        let reserve = self.to_reserve(c, out, &reqs)?;
        Ok((reqs.into_owned(), reserve))
    }

    /// The reservations the claim would hold with these options (`offeringsToReserve`).
    fn to_reserve(&self, c: &NewClaim, options: &[u32], reqs: &Requirements) -> Result<Vec<Sym>, Fail> {
        let t = &self.templates[c.template];
        if !t.has_reserved {
            return Ok(Vec::new());
        }
        self.reservations.to_reserve(c.hostname, t.types, options, reqs, &c.reserved, self.scope.reserved_mode).map_err(Fail::Reserved)
    }

    /// A domain (key, value) that topology pinned the claim to (`reqs` has it, `base` did not) and
    /// that no type the template allows has, though they define the key: it is a domain only
    /// because of types the NodePool cannot launch (`TopologyDomains::Karpenter`).
    fn phantom_domain(&self, t: &Template, base: &Requirements, reqs: &Requirements) -> Option<(Sym, Sym)> {
        if self.opts.topology_domains != TopologyDomains::Karpenter {
            return None;
        }
        reqs.iter().find_map(|(k, r)| {
            let v = r.single()?;
            if base.get(k).and_then(Requirement::single) == Some(v) {
                return None;
            }
            let defined = t.options().iter().filter_map(|&o| t.types[o as usize].requirements.get(k)).collect::<Vec<_>>();
            (!defined.is_empty() && !defined.iter().any(|tr| tr.has(v))).then_some((k, v))
        })
    }

    /// `NodeClaim.Add`, keeping claims ordered by pod count then creation order.
    fn commit(&mut self, i: usize, id: usize, pod: &Pod, reqs: Requirements, options: &[u32], reserve: Vec<Sym>) {
        let c = &mut self.claims[i];
        if !reserve.is_empty() || !c.reserved.is_empty() {
            self.reservations.commit(c.hostname, &reserve);
            c.reserved = reserve;
        }
        let taints = &self.templates[c.template].pool.taints;
        c.pods.push(id);
        // `options` is what the filter kept of the claim's options, in their order: the same number
        // is the same list, and its largest allocatable is unchanged (most pods drop no option)
        debug_assert!(options.len() != c.options.len() || options == c.options.as_slice());
        if options.len() != c.options.len() {
            // the largest allocatable can only fall when an option that held it is dropped (most
            // drops are of the smallest types): `options` is a subsequence of the claim's options
            let types = self.templates[c.template].types;
            let mut kept = options.iter().peekable();
            let held_max = c.options.iter().filter(|&&o| kept.next_if_eq(&&o).is_none()).any(|&o| {
                let a = &types[o as usize].it.allocatable;
                a.cpu == c.max_alloc[0] || a.memory == c.max_alloc[1] || a.pods == c.max_alloc[2]
            });
            c.options.clear();
            c.options.extend_from_slice(options);
            if held_max {
                c.max_alloc = max_alloc(types, options);
            }
        }
        c.requests.add_assign(&self.data[id].requests);
        c.ports.extend(pod.host_ports.iter().cloned());
        self.topology.register_hostname(c.hostname, &mut c.registered);
        self.topology.record(id, pod, taints, &reqs, true);
        c.host = reqs.get(*labels::HOSTNAME).filter(|r| r.values().len() == 1).map(|r| r.values()[0]);
        c.requirements = reqs;
        // `scheduler.go: add` sorts the NodeClaims by pod count before each pod (see `claim_order`)
        let old = self.order.place(i);
        let place = self.order.placed(i, c.pods.len());
        self.pins.moved(i, old, place, &c.requirements);
        if c.pods.len() == 1 {
            // a new NodeClaim goes ahead of every claim with more pods, perhaps before a cursor:
            // the cursor comes back to it unless the cursor's rule rules it out too (a claim that
            // gained a pod only moves later, and stays ruled out if it was)
            let host = self.claims[i].host;
            for (rule, cursor) in self.hostname_cursors.iter_mut() {
                if place < *cursor && !host.is_some_and(|h| self.topology.hostname_blocked(std::slice::from_ref(rule), h)) {
                    *cursor = place;
                }
            }
        }
    }

    /// Advance the cursor of each of `rules` past the NodeClaims it rules out, and return the
    /// furthest: every claim before it is ruled out by one of the rules (exactly the claims the scan
    /// in `add` would skip).
    fn skip_ruled_out(&mut self, rules: &[(usize, bool, i32)]) -> Place {
        let mut start = Place::FIRST;
        for rule in rules {
            let cursor = self.hostname_cursors.entry(*rule).or_insert(Place::FIRST);
            *cursor = self
                .order
                .from(*cursor)
                .find(|&(_, i)| !self.claims[i].host.is_some_and(|h| self.topology.hostname_blocked(std::slice::from_ref(rule), h)))
                .map_or(Place::END, |(p, _)| p);
            start = start.max(*cursor);
        }
        start
    }

    /// `FinalizeScheduling` and `TruncateInstanceTypes` (§3.13).
    fn finish(self, mut errors: Vec<(usize, String)>) -> Solution<'a> {
        let mut claims: Vec<NewClaim> = self.claims;
        claims.sort_by_key(|c| c.seq);
        let mut solved = Vec::with_capacity(claims.len());
        for mut c in claims {
            let t = &self.templates[c.template];
            c.requirements.remove(*labels::HOSTNAME);
            // a NodeClaim holding reservations launches into one of them (FinalizeScheduling)
            if !c.reserved.is_empty() {
                c.requirements.set(*labels::CAPACITY_TYPE, Requirement::is_in([Sym::new(labels::CAPACITY_TYPE_RESERVED)]));
                c.requirements.add(*labels::RESERVATION_ID, Requirement::is_in(c.reserved.iter().copied()));
            }
            // add the smallest DaemonSet overhead among groups that still hold an option
            let mut min: Option<Resources> = None;
            for (gi, g) in t.groups().iter().enumerate() {
                if c.options.iter().any(|&o| t.group_of()[o as usize] as usize == gi) {
                    min = Some(match min {
                        None => g.overhead.clone(),
                        Some(m) => m.min(&g.overhead),
                    });
                }
            }
            if let Some(m) = min {
                c.requests.add_assign(&m);
            }
            let keep = self.opts.max_instance_types.max(1);
            let kept = t.price_orders().cheapest(t.types, &c.options, &c.requirements, keep);
            if self.opts.min_values_policy == MinValuesPolicy::Strict
                && let Err(m) = instance_filter::satisfies_min_values(t.types, &kept, &c.requirements)
            {
                for &p in &c.pods {
                    errors.push((
                        p,
                        format!(
                            "NodePool {} couldn't meet minValues with its {} cheapest instance types: {m}",
                            t.pool.name, self.opts.max_instance_types
                        ),
                    ));
                }
                continue;
            }
            // scheduler.go: the nodeclaim-min-values-relaxed annotation is "true" when a key's
            // minValues went below the NodePool's
            let min_values_relaxed = c.requirements.iter().any(|(k, r)| {
                matches!((t.requirements.get(k).and_then(|o| o.min_values()), r.min_values()), (Some(o), Some(u)) if u < o)
            });
            solved.push(SolvedClaim {
                nodepool: t.pool.name,
                taints: &t.pool.taints,
                min_values_relaxed,
                requirements: c.requirements,
                options: kept.iter().map(|&o| &t.types[o as usize]).collect(),
                requests: c.requests,
                pods: c.pods,
            });
        }
        // in the view's order
        let mut placed_on = self.placed_on;
        placed_on.sort_unstable();
        let existing = self.existing.placed(&placed_on);
        let relaxations = self.relaxed.into_iter().enumerate().filter(|(_, r)| !r.is_empty()).collect();
        Solution {
            pods: self.pods,
            claims: solved,
            existing,
            errors,
            deferred: Vec::new(),
            relaxations,
            claims_exceeded: self.claims_exceeded,
            phantom_domains: Vec::new(),
        }
    }
}

/// The keys on which `new` (a NodeClaim's requirements tightened by a pod) differs from `old` (the
/// claim's), written to `out`, with their number; `None` when a key of `old` is missing from `new`
/// or more than `out` can hold differ (then nothing is assumed).
fn changed_keys(old: &Requirements, new: &Requirements, out: &mut [Sym; 8]) -> Option<usize> {
    if old.iter().any(|(k, _)| !new.has(k)) {
        return None;
    }
    let mut n = 0;
    for (k, r) in new.iter() {
        if old.get(k) != Some(r) {
            *out.get_mut(n)? = k;
            n += 1;
        }
    }
    Some(n)
}

/// Why a spread domain no launchable type has is a domain at all, and what to do about it.
fn phantom_note(key: Sym, value: Sym) -> String {
    format!(
        " ({key} {value} is a topology domain only because instance types this NodePool cannot launch are offered there: \
         Karpenter v1.14.1 counts every instance type of a NodePool's node class, kubernetes-sigs/karpenter#3272; \
         --topology-domains launchable counts only the domains NodePools can launch in)"
    )
}

/// Why Karpenter would not provision a pending pod because of its claims (`ValidatePersistentVolumeClaims`).
fn volume_invalid(pod: &Pod) -> Option<String> {
    let why = pod.volumes.as_ref()?.unprovisionable.as_ref()?;
    Some(format!("{why}; Karpenter does not provision the pod"))
}

/// Lower every minValues the options do not reach to the number of distinct values they have.
fn lower_min_values(types: &[TypeInfo], options: &[u32], r: &Requirements) -> Requirements {
    let mut out = Requirements::new();
    for (k, v) in r.iter() {
        let lowered = v.min_values().map(|m| {
            let mut seen = std::collections::BTreeSet::new();
            for &t in options {
                if let Some(tr) = types[t as usize].requirements.get(k) {
                    seen.extend(tr.values().iter().copied());
                }
            }
            m.min(seen.len() as u32)
        });
        out.set(k, v.clone().with_min_values(lowered));
    }
    out
}


/// The price Karpenter orders options by: the cheapest available offering compatible with the
/// requirements (+∞ when there is none).
pub fn cheapest_compatible(ti: &TypeInfo, reqs: &Requirements) -> f64 {
    cheapest_with(ti, &instance_filter::OfferingReqs::new(reqs))
}

fn render_failures(fails: &[(Sym, Fail)], _pod: &Pod) -> String {
    // a positive requirement on a label that no NodePool defines reads best as one sentence
    let undefined: Vec<&Incompatibility> =
        fails.iter().filter_map(|(_, f)| if let Fail::Undefined(i) = f { Some(i) } else { None }).collect();
    if !undefined.is_empty()
        && undefined.len() == fails.len()
        && undefined.iter().all(|i| i.key() == undefined[0].key())
        && let Incompatibility::Undefined { key, incoming } = undefined[0]
    {
        return format!("requires label {key} {incoming}, which no NodePool defines");
    }
    let parts: Vec<String> = fails
        .iter()
        .filter_map(|(pool, f)| match f {
            Fail::Quiet => None,
            Fail::Message(m) | Fail::Reserved(m) | Fail::Phantom(m, ..) => Some(m.clone()),
            Fail::Undefined(i) => Some(format!("NodePool {pool}: pod {i}")),
        })
        .collect();
    if parts.is_empty() { "no NodePool can take the pod".into() } else { parts.join("; ") }
}
