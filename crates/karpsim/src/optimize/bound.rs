//! `karpsim bound`: how far Karpenter's result is from the cheapest possible cluster.
//!
//! For the pods Karpenter places, it reports Karpenter's cost, the cost after consolidation until
//! stable, a proven lower bound on the cost of any set of nodes the NodePools could launch that
//! holds those pods, and the cheapest such packing found.

use super::colgen::{self, Effort};
use crate::whatif::cluster::provision_and_launch;
use super::packing::{self, PackedNode};
use super::problem::{FixedNode, Origin, Problem};
use crate::disruption::{DisruptionOptions, until_stable_state};
use crate::labels::Sym;
use crate::model::{Node, Pod};
use crate::scheduling::{ClusterView, ProvisionOptions};
use crate::state::ClusterState;
use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

/// Constraints a packing must meet for the bound to hold (and that the best packing meets).
pub const INCLUDED: &[&str] = &[
    "instance types and offerings each NodePool allows (its requirements, available offerings)",
    "pod nodeSelector and required node affinity (any one of its terms)",
    "NoSchedule and NoExecute taints against pod tolerations",
    "DaemonSet overhead on every node (the DaemonSets that run on its instance type)",
    "allocatable cpu, memory, ephemeral-storage, pods and extended resources",
    "free room of existing nodes without a NodePool, which stay",
    "static NodePools' nodes, at their price in every packing, their room free",
    "capacity reservations' instance counts (at most that many nodes launched into each)",
];

/// Constraints the bound leaves out: dropping them can only lower it.
pub const RELAXED: &[&str] = &[
    "topology spread constraints",
    "pod affinity and anti-affinity",
    "host ports",
    "PreferNoSchedule taints and preferred node affinity (preferences)",
    "NodePool limits",
    "minValues",
    "Karpenter's launch choice: a node may use the cheapest offering of its type (spot or on-demand)",
    "PDBs, do-not-disrupt and disruption budgets: pods on Karpenter nodes may all move",
];

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct BoundOptions {
    /// The scheduler settings of Karpenter's run and of consolidation.
    pub provisioning: ProvisionOptions,
    /// Consolidation settings (its `provisioning` is replaced by the one above).
    pub disruption: DisruptionOptions,
    /// Run consolidation until stable on Karpenter's result (`after_consolidation`).
    pub consolidate: bool,
    /// Column-generation iterations (deterministic effort).
    pub max_iterations: usize,
    /// Wall-clock limit in seconds for the bound and packing search; when it fires the result
    /// depends on the machine's speed (a warning says so).
    pub time_limit_seconds: Option<f64>,
}

impl Default for BoundOptions {
    fn default() -> Self {
        BoundOptions {
            provisioning: ProvisionOptions::default(),
            disruption: DisruptionOptions::default(),
            consolidate: true,
            max_iterations: Effort::default().max_iterations,
            time_limit_seconds: None,
        }
    }
}

/// A cost and the nodes behind it.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct CostSummary {
    pub cost_per_hour: f64,
    /// Karpenter-managed nodes (existing and new).
    pub nodes: usize,
    /// Pods left pending.
    pub pending: usize,
}

/// A node of the best packing.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct PackingNode {
    /// `-` for a node without a NodePool.
    pub nodepool: String,
    pub instance_type: String,
    pub zone: String,
    pub capacity_type: String,
    pub price_per_hour: f64,
    /// The existing node's name, for nodes that exist already.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub existing: Option<String>,
    /// `namespace/name`.
    pub pods: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Packing {
    pub cost_per_hour: f64,
    /// `column-generation`, or `karpenter` / `after-consolidation` when none found was cheaper.
    pub source: String,
    pub nodes: Vec<PackingNode>,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Constraints {
    pub included: Vec<String>,
    pub relaxed: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct SolverSummary {
    pub iterations: usize,
    pub patterns: usize,
    /// The LP was solved (no improving pattern left).
    pub converged: bool,
    /// The time limit stopped the search.
    pub timed_out: bool,
    /// The restricted LP's value: the LP optimum lies between the lower bound and this.
    pub lp_value_per_hour: f64,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct BoundResult {
    /// `pending` (the pending pods) or `cluster` (also the pods on Karpenter nodes, when the inputs
    /// have some).
    pub scope: String,
    /// Pods the bound covers.
    pub pods: usize,
    pub pod_classes: usize,
    pub bin_types: usize,
    pub karpenter: CostSummary,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub after_consolidation: Option<CostSummary>,
    pub lower_bound_per_hour: f64,
    pub best_packing: Packing,
    /// `karpenter.cost_per_hour / lower_bound_per_hour` (absent when the bound is 0).
    pub gap: Option<f64>,
    pub constraints: Constraints,
    pub solver: SolverSummary,
    pub warnings: Vec<String>,
}

/// Progress of a long run: (iteration, lower bound, LP value).
pub type Progress<'p> = &'p mut dyn FnMut(usize, f64, f64);

fn managed_cost(state: &ClusterState) -> (f64, usize) {
    let managed = state.nodes.iter().filter(|n| n.nodepool.is_some() && n.deletion_timestamp.is_none());
    managed.fold((0.0, 0), |(c, k), n| (c + n.price.unwrap_or(0.0), k + 1))
}

/// The pods of a launched state that Karpenter capacity holds (bound to Karpenter nodes), by uid.
fn on_managed(state: &ClusterState) -> HashSet<Sym> {
    let managed: HashSet<Sym> = state.nodes.iter().filter(|n| n.nodepool.is_some()).map(|n| n.name).collect();
    state
        .pods
        .iter()
        .filter(|p| p.is_reschedulable() && p.node_name.is_some_and(|n| managed.contains(&n)))
        .map(|p| p.uid)
        .collect()
}

/// The packing a cluster state is (its Karpenter nodes and the pods on them).
fn packing_of(state: &ClusterState, source: &str) -> Packing {
    let mut pods: HashMap<Sym, Vec<String>> = HashMap::new();
    for p in state.pods.iter().filter(|p| p.is_reschedulable()) {
        if let Some(n) = p.node_name {
            pods.entry(n).or_default().push(p.key());
        }
    }
    let nodes: Vec<PackingNode> = state
        .nodes
        .iter()
        .filter(|n| n.nodepool.is_some() && n.deletion_timestamp.is_none())
        .map(|n| PackingNode {
            nodepool: n.nodepool.map(|s| s.to_string()).unwrap_or_else(|| "-".into()),
            instance_type: n.instance_type.map(|s| s.to_string()).unwrap_or_default(),
            zone: n.zone.map(|s| s.to_string()).unwrap_or_default(),
            capacity_type: n.capacity_type.map(|s| s.to_string()).unwrap_or_default(),
            price_per_hour: n.price.unwrap_or(0.0),
            existing: Some(n.name.to_string()),
            pods: pods.remove(&n.name).unwrap_or_default(),
        })
        .collect();
    Packing { cost_per_hour: nodes.iter().map(|n| n.price_per_hour).sum(), source: source.into(), nodes }
}

/// Whether `node` belongs to a static NodePool (`spec.replicas`): the static controllers keep it
/// whatever the pods (`static/provisioning`, `static/deprovisioning`), so every cluster the NodePools
/// can make pays for it, and its room is free to any packing.
fn is_static(state: &ClusterState, node: &Node) -> bool {
    node.deletion_timestamp.is_none() && node.nodepool.is_some_and(|p| state.nodepools.iter().any(|np| np.name == p && np.replicas.is_some()))
}

/// What the static pools' nodes cost per hour: a constant of the bound, the packing and Karpenter's
/// cost alike.
fn static_cost(state: &ClusterState) -> f64 {
    state.nodes.iter().filter(|n| is_static(state, n)).map(|n| n.price.unwrap_or(0.0)).sum()
}

/// The state before Karpenter's run with the static NodeClaims the run created as empty nodes:
/// the bound and the packing start from them, as Karpenter's pods do (`provision` creates a static
/// pool's missing replicas before scheduling).
fn with_static_nodes(state: &ClusterState, launched: &ClusterState) -> Option<ClusterState> {
    let had: HashSet<Sym> = state.nodes.iter().map(|n| n.name).collect();
    let new: Vec<Node> = launched.nodes.iter().filter(|n| !had.contains(&n.name) && is_static(launched, n)).cloned().collect();
    (!new.is_empty()).then(|| {
        let mut pre = state.clone();
        pre.nodes.extend(new);
        pre
    })
}

/// Whether the packing launches more instances into a capacity reservation than it holds (the
/// packing is then not a cluster Karpenter could make; the packing respects the counts, so this is
/// a last check).
fn over_reservations(p: &Problem, nodes: &[PackedNode], warnings: &mut Vec<String>) -> bool {
    let mut used = vec![0u64; p.reservations.len()];
    for n in nodes.iter().filter(|n| !n.fixed) {
        if let Some(r) = p.bins[n.bin].reservation {
            used[r as usize] += 1;
        }
    }
    let over: Vec<String> =
        p.reservations.iter().zip(&used).filter(|(r, n)| **n > r.count).map(|(r, n)| format!("{} ({n} of {})", r.id, r.count)).collect();
    if over.is_empty() {
        return false;
    }
    warnings.push(format!("the packing found launches more instances than capacity reservations hold ({}); it is not reported", over.join(", ")));
    true
}

/// The problem of a state: `movable` pods (by uid) to place, existing nodes without a NodePool as
/// free room, existing Karpenter nodes (when `keep_managed`) as bins the packing may keep at their
/// price.
pub(crate) fn build_problem<'a>(view: &ClusterView<'a>, movable: &HashSet<Sym>, keep_managed: bool) -> Problem<'a> {
    let state = view.state;
    let pods: Vec<&Pod> = state.pods.iter().filter(|p| movable.contains(&p.uid)).collect();
    let mut fixed = Vec::new();
    for (i, v) in view.nodes().enumerate() {
        let mut room = v.room.remaining.clone();
        if v.node.nodepool.is_some() {
            let kept = is_static(state, v.node);
            if !kept && (!keep_managed || v.node.price.is_none()) {
                continue;
            }
            // its movable pods leave: they are placed again by the packing
            for p in v.pods().iter().filter(|p| movable.contains(&p.uid)) {
                let mut r = p.requests.clone();
                r.pods = 1;
                room.add_assign(&r);
            }
            // a static pool's node is paid whatever it holds ([`static_cost`]): its room is free
            let price = if kept { 0.0 } else { v.node.price.unwrap_or(0.0) };
            fixed.push(FixedNode { node: i, price, room });
        } else {
            fixed.push(FixedNode { node: i, price: 0.0, room });
        }
    }
    Problem::new(view, pods, &fixed)
}

/// An existing node of a packing at `price` (a static pool's node at its own price).
fn existing_node(view: &ClusterView, node: usize, price: f64, pods: Vec<String>) -> PackingNode {
    let nd = view.node(node).node;
    PackingNode {
        nodepool: nd.nodepool.map(|s| s.to_string()).unwrap_or_else(|| "-".into()),
        instance_type: nd.instance_type.map(|s| s.to_string()).unwrap_or_default(),
        zone: nd.zone.map(|s| s.to_string()).unwrap_or_default(),
        capacity_type: nd.capacity_type.map(|s| s.to_string()).unwrap_or_default(),
        price_per_hour: if is_static(view.state, nd) { nd.price.unwrap_or(0.0) } else { price },
        existing: Some(nd.name.to_string()),
        pods,
    }
}

fn packing_nodes(view: &ClusterView, p: &Problem, nodes: &[PackedNode]) -> Vec<PackingNode> {
    let mut out: Vec<PackingNode> = nodes
        .iter()
        .map(|n| {
            let bin = if n.fixed { &p.fixed[n.bin] } else { &p.bins[n.bin] };
            let mut pods: Vec<String> = n.pods.iter().map(|&i| p.pods[i].key()).collect();
            pods.sort();
            match bin.origin {
                Origin::Launch { template, type_index, offering } => {
                    let t = &view.templates[template];
                    let it = &t.types[type_index as usize].it;
                    let of = &it.offerings[offering];
                    PackingNode {
                        nodepool: t.pool.name.to_string(),
                        instance_type: it.name.to_string(),
                        zone: of.zone.to_string(),
                        capacity_type: of.capacity_type.to_string(),
                        price_per_hour: of.price,
                        existing: None,
                        pods,
                    }
                }
                Origin::Existing { node } => existing_node(view, node, bin.price, pods),
            }
        })
        .collect();
    // a static pool's nodes are in every packing, used or not
    let listed: HashSet<usize> = nodes.iter().filter(|n| n.fixed).filter_map(|n| match p.fixed[n.bin].origin {
        Origin::Existing { node } => Some(node),
        Origin::Launch { .. } => None,
    }).collect();
    for (i, v) in view.nodes().enumerate() {
        if !listed.contains(&i) && is_static(view.state, v.node) {
            out.push(existing_node(view, i, 0.0, Vec::new()));
        }
    }
    // cheapest-first reading: by price descending, then type and first pod (deterministic)
    out.sort_by(|a, b| {
        b.price_per_hour.total_cmp(&a.price_per_hour).then(a.instance_type.cmp(&b.instance_type)).then(a.pods.first().cmp(&b.pods.first()))
    });
    out
}

/// Karpenter's result, consolidation's, the proven lower bound and the best packing for `state`.
pub fn bound(state: &ClusterState, opts: &BoundOptions) -> BoundResult {
    bound_with_progress(state, opts, &mut |_, _, _| {})
}

/// [`bound`], calling `progress` after every column-generation iteration.
pub fn bound_with_progress(state: &ClusterState, opts: &BoundOptions, progress: Progress) -> BoundResult {
    let start = Instant::now();
    let deadline = opts.time_limit_seconds.filter(|s| s.is_finite() && *s > 0.0).map(|s| start + Duration::from_secs_f64(s));
    let now = opts.disruption.now.unwrap_or_else(|| state.snapshot_time());
    let (prov, launched) = provision_and_launch(state, &opts.provisioning, now);
    let mut warnings = prov.warnings.clone();
    let (k_cost, k_nodes) = managed_cost(&launched);
    let karpenter = CostSummary { cost_per_hour: k_cost, nodes: k_nodes, pending: prov.unschedulable.len() };
    let mut consolidated_state = None;
    let after_consolidation = opts.consolidate.then(|| {
        let d = DisruptionOptions { now: Some(now), provisioning: opts.provisioning.clone(), ..opts.disruption.clone() };
        let (r, s) = until_stable_state(&launched, &d);
        // until-stable's own warnings follow the state's (a round cap that cut it short)
        warnings.extend(r.warnings.iter().skip(launched.warnings.len()).cloned());
        let (c, n) = managed_cost(&s);
        let pending = r.end_state.as_ref().map_or(0, |e| e.pending.len());
        consolidated_state = Some(s);
        CostSummary { cost_per_hour: c, nodes: n, pending }
    });

    // the pods the bound covers: what Karpenter placed in this run, and what Karpenter nodes hold
    let had_managed = state.nodes.iter().any(|n| n.nodepool.is_some());
    let placed: HashSet<Sym> = {
        let keys: HashSet<&str> =
            prov.nodeclaims.iter().flat_map(|n| n.pods.iter()).chain(prov.existing_nodes.iter().flat_map(|n| n.pods.iter())).map(|s| s.as_str()).collect();
        state.pods.iter().filter(|p| keys.contains(p.key().as_str())).map(|p| p.uid).collect()
    };
    let mut movable = placed;
    if had_managed {
        movable.extend(on_managed(state));
    }
    if !prov.unschedulable.is_empty() {
        warnings.push(format!("{} pod(s) Karpenter leaves pending are not in the bound or the packing", prov.unschedulable.len()));
    }
    let pre = with_static_nodes(state, &launched);
    let base = pre.as_ref().unwrap_or(state);
    let statics = static_cost(base);
    let view = ClusterView::new(base, opts.provisioning.min_values_policy);
    let problem = build_problem(&view, &movable, had_managed);
    if !problem.homeless.is_empty() {
        warnings.push(format!("{} pod(s) fit no node the NodePools can launch on their own and are left out of the bound", problem.homeless.len()));
    }
    let effort = Effort { max_iterations: opts.max_iterations.max(1), deadline, ..Effort::default() };
    let cg = colgen::solve(&problem, &effort, progress);
    if let Some(e) = &cg.solver_error {
        warnings.push(format!("the LP solver stopped early ({e}); the bound is the best proven before that"));
    }
    let (nodes, notes) = packing::best_packing(&view, &problem, &cg.columns, &cg.duals, &effort);
    if !notes.is_empty() {
        warnings.push(format!("{} pod(s) of the packing found moved to nodes of their own after the feasibility check", notes.len()));
    }
    let placed_in_packing: usize = nodes.iter().map(|n| n.pods.len()).sum();
    let over_reserved = over_reservations(&problem, &nodes, &mut warnings);
    let mut best = Packing {
        cost_per_hour: packing::cost(&problem, &nodes) + statics,
        source: "column-generation".into(),
        nodes: packing_nodes(&view, &problem, &nodes),
    };
    if placed_in_packing < problem.total_pods() || over_reserved {
        best.cost_per_hour = f64::INFINITY;
    }
    // Karpenter's own placements are packings too: report the cheapest of all
    for (cost, src, st) in [(k_cost, "karpenter", Some(&launched)), (after_consolidation.as_ref().map_or(f64::INFINITY, |a| a.cost_per_hour), "after-consolidation", consolidated_state.as_ref())] {
        if cost < best.cost_per_hour && let Some(st) = st {
            let pending_ok = if src == "karpenter" { true } else { after_consolidation.as_ref().is_some_and(|a| a.pending == 0) };
            if pending_ok {
                best = packing_of(st, src);
            }
        }
    }
    if deadline.is_some_and(|d| Instant::now() >= d) || cg.timed_out {
        warnings.push("the time limit stopped the search: the bound is proven, but a longer run may raise it or find a cheaper packing".into());
    }
    if statics > 0.0 {
        warnings.push(format!(
            "static NodePools' nodes (${statics:.4}/h) are kept whatever the pods: the bound and the packing include them at their price, and their room is free to the pods"
        ));
    }
    let lower_bound = cg.lower_bound + statics;
    BoundResult {
        scope: if had_managed { "cluster" } else { "pending" }.into(),
        pods: problem.total_pods(),
        pod_classes: problem.classes.len(),
        bin_types: problem.bins.len(),
        karpenter,
        after_consolidation,
        lower_bound_per_hour: lower_bound,
        gap: (lower_bound > 0.0).then(|| k_cost / lower_bound),
        best_packing: best,
        constraints: Constraints { included: INCLUDED.iter().map(|s| s.to_string()).collect(), relaxed: RELAXED.iter().map(|s| s.to_string()).collect() },
        solver: SolverSummary { iterations: cg.iterations, patterns: cg.columns.len(), converged: cg.converged, timed_out: cg.timed_out, lp_value_per_hour: cg.lp_value },
        warnings,
    }
}

/// The proven lower bound alone for the pods a cluster holds or waits for: pending pods and pods on
/// Karpenter nodes, placed afresh on nodes the NodePools can launch (nodes without a NodePool stay).
/// Used over time by the simulator.
pub fn lower_bound_now(state: &ClusterState, max_iterations: usize) -> f64 {
    // best-effort minValues offers a superset of the strict policy's types, so the bound holds under either
    let view = ClusterView::new(state, crate::scheduling::MinValuesPolicy::BestEffort);
    let nodes: HashSet<Sym> = state.nodes.iter().filter(|n| n.nodepool.is_none()).map(|n| n.name).collect();
    let movable: HashSet<Sym> = state
        .pods
        .iter()
        .filter(|p| p.is_active() && !p.is_daemonset_pod() && !p.is_mirror() && !p.node_name.is_some_and(|n| nodes.contains(&n)))
        .map(|p| p.uid)
        .collect();
    let problem = build_problem(&view, &movable, false);
    let effort = Effort { max_iterations: max_iterations.max(1), ..Effort::default() };
    // static pools' nodes stay whatever the pods: paid, and free room (`build_problem`)
    colgen::solve(&problem, &effort, |_, _, _| {}).lower_bound + static_cost(state)
}
