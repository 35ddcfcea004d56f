//! The disruption loop (`disruption/controller.go`; design §5.1): expiration (forceful, outside
//! budgets, its own controller since v1.0) and static pools' scale-down (also a controller of its
//! own), then Emptiness → StaticDrift → Drift → Multi-node → Single-node consolidation; the first
//! method that produces a command ends the round.

use super::apply::{self, Plan};
use super::budgets;
use super::candidates::{self, Candidate};
use super::consolidation::{self, Outcome};
use super::kept::{KeptFacts, KeptPodLists};
use super::lazy::Lazy;
use super::simulate::{RoundCtx, Simulation};
use super::static_capacity;
use super::{Action, CandidateOrder, Command, DisruptionOptions, DisruptionResult, EndState, Kept, Method, NodeSummary, PodMove, Replacement};
use crate::labels::{Sym, SymMap, SymSet};
use crate::model::{ConsolidationPolicy, DisruptionReason, Timestamp};
use crate::scheduling::{pending_pods, provision, BoundPods, SolvedClaim};
use crate::state::ClusterState;
use std::collections::BTreeMap;

fn cost(state: &ClusterState) -> f64 {
    state.nodes.iter().map(|n| n.price.unwrap_or(0.0)).sum()
}

/// The order the methods try candidates in (§5.3): savings ratio descending or disruption cost
/// ascending, then name. Candidates are built in the state's node order, and a stable sort under
/// this comparison makes the state's order the last tie-break (two nodes of one name).
fn order_cmp(order: CandidateOrder, a: &Candidate, b: &Candidate) -> std::cmp::Ordering {
    match order {
        CandidateOrder::SavingsRatio => b.savings_ratio().total_cmp(&a.savings_ratio()).then(a.name().cmp(&b.name())),
        CandidateOrder::DisruptionCost => a.disruption_cost.total_cmp(&b.disruption_cost).then(a.name().cmp(&b.name())),
    }
}

/// The candidates of `cands` (in the state's order) that `keep` keeps, in the methods' order. A
/// stable sort of a subset under the same comparison is the subsequence of the whole's stable
/// sort, so a method that reads only some candidates (the expired, the empty, the drifted) sees
/// them in the order the whole sorted list gave it, without every round sorting every node (a
/// drifted cluster's rounds sorted all of them, by name among equal ratios, for one drift command).
fn in_order<'c, 'a>(cands: &[&'c Candidate<'a>], order: CandidateOrder, keep: impl Fn(&Candidate) -> bool) -> Vec<&'c Candidate<'a>> {
    let mut out: Vec<&Candidate> = cands.iter().copied().filter(|c| keep(c)).collect();
    out.sort_by(|a, b| order_cmp(order, a, b));
    out
}

/// A drifted candidate in drift's order (`drift.go`): empty ones first, then the oldest (drift
/// time is not in a snapshot: node age stands in), then by name, then in the methods' order and
/// the list's (what the stable sorts of the sorted candidates fell back on). A total order, so
/// drift can take its candidates one by one from a heap: it mostly acts on the first.
struct DriftNext<'c, 'a> {
    c: &'c Candidate<'a>,
    at: usize,
    order: CandidateOrder,
}

impl Ord for DriftNext<'_, '_> {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        let (a, b) = (self.c, other.c);
        (!a.reschedulable.is_empty())
            .cmp(&!b.reschedulable.is_empty())
            .then(a.node.creation_timestamp.cmp(&b.node.creation_timestamp))
            .then_with(|| a.name().cmp(&b.name()))
            .then_with(|| order_cmp(self.order, a, b))
            .then(self.at.cmp(&other.at))
    }
}

impl PartialOrd for DriftNext<'_, '_> {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl PartialEq for DriftNext<'_, '_> {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other).is_eq()
    }
}

impl Eq for DriftNext<'_, '_> {}

struct Round<'a, 'o> {
    ctx: RoundCtx<'a>,
    opts: &'o DisruptionOptions,
    /// Why each node is kept, recorded only when the caller reports it (`explain`): a quick
    /// round's caller drops them, and writing a reason for every candidate of every round of a
    /// time simulation showed in its profile. Nothing decides from them.
    kept: BTreeMap<Sym, String>,
    explain: bool,
}


impl<'a> Round<'a, '_> {
    fn keep(&mut self, node: Sym, reason: impl Into<String>) {
        if self.explain {
            self.kept.entry(node).or_insert_with(|| reason.into());
        }
    }

    /// Build the command and the plan that applies it from a simulation.
    fn plan(&self, method: Method, cands: &[&Candidate<'a>], sim: &Simulation<'a>, claims: &[SolvedClaim<'a>], reason: String) -> Option<Plan> {
        let policy = self.opts.provisioning.launch_policy;
        let mut replacements = Vec::new();
        for c in claims {
            replacements.push(Replacement::launch(c, policy)?);
        }
        let moving: SymSet = cands.iter().flat_map(|c| c.reschedulable.iter().map(|p| p.uid)).collect();
        let mut pods = Vec::new();
        let mut binds: Vec<(Sym, apply::Dest)> = Vec::new();
        for (node, ps) in &sim.sol.existing {
            for &p in ps {
                binds.push((sim.sol.pods[p].uid, apply::Dest::Existing(*node)));
            }
        }
        for (i, c) in claims.iter().enumerate() {
            for &p in &c.pods {
                binds.push((sim.sol.pods[p].uid, apply::Dest::Replacement(i)));
            }
        }
        // each uid's first pod of the simulation, and the uids bound: looked up once per pod (a
        // search of every pod or bind for each one was quadratic in a command's pods, which
        // multi-node consolidation makes large)
        let mut first_of: SymMap<usize> = SymMap::default();
        for (i, p) in sim.sol.pods.iter().enumerate() {
            first_of.entry(p.uid).or_insert(i);
        }
        let bound: SymSet = binds.iter().map(|(u, _)| *u).collect();
        for (uid, d) in &binds {
            if moving.contains(uid) {
                let p = first_of.get(uid).map(|&i| sim.sol.pods[i].key()).unwrap_or_default();
                let to = match d {
                    apply::Dest::Existing(n) => n.to_string(),
                    apply::Dest::Replacement(i) => format!("replacement-{i}"),
                };
                pods.push(PodMove { pod: p, to });
            }
        }
        for c in cands {
            for p in c.reschedulable.iter() {
                if !bound.contains(&p.uid) {
                    pods.push(PodMove { pod: p.key(), to: "pending".into() });
                }
            }
        }
        pods.sort_by(|a, b| a.pod.cmp(&b.pod));
        let price_before: f64 = cands.iter().map(|c| c.price).fold(0.0, |a, b| a + b);
        let command = Command::new(method, cands.iter().map(|c| c.name().to_string()).collect(), replacements, pods, price_before, reason);
        let new_nodes = claims.iter().zip(&command.replacements).map(|(c, r)| apply::NewNode::from_claim(c, r)).collect();
        Some(Plan { command, remove: cands.iter().map(|c| c.name()).collect(), new_nodes, binds })
    }

    fn expiration(&mut self, cands: &[&Candidate<'a>]) -> Vec<Plan> {
        // the candidates due, then those in the methods' order (the plans' order)
        let mut due: Vec<(&Candidate<'a>, String)> = Vec::new();
        for &c in cands {
            let age = self.ctx.now - c.node.creation_timestamp;
            let expired = c.pool.expire_after.filter(|e| age >= *e);
            // a capacity block's nodes go 40 minutes before it ends (AWS provider
            // `controllers/capacityreservation/expiration`), like an expiration
            let reclaimed = c
                .node
                .labels
                .get(&*crate::labels::RESERVATION_ID)
                .and_then(|id| self.ctx.state.reservation(*id))
                .filter(|r| r.expiring_at(self.ctx.now));
            let reason = match (reclaimed, expired) {
                (Some(r), _) => format!(
                    "capacity block {} ends at {}: EC2 reclaims its instances, and the AWS provider deletes their nodes 40 minutes before",
                    r.id,
                    r.end_time.map_or_else(|| "its end".to_string(), crate::io::format_rfc3339)
                ),
                (None, Some(e)) => format!("expired: age {}h ≥ expireAfter {}h of NodePool {}", age / 3600, e / 3600, c.pool.name),
                (None, None) => continue,
            };
            due.push((c, reason));
        }
        due.sort_by(|a, b| order_cmp(self.opts.candidate_order, a.0, b.0));
        let mut plans = Vec::new();
        for (c, reason) in due {
            // forceful: no budgets, no PDB/do-not-disrupt filter, no price rule (expiration controller)
            let sim = self.ctx.simulate(&[c], false);
            if let Some(mut p) = self.plan(Method::Expiration, &[c], &sim, &sim.sol.claims, reason) {
                // Karpenter deletes an expired NodeClaim without pre-spinning a replacement
                // (`nodeclaim/expiration/controller.go`): the action is a delete; `replacements`
                // are what provisioning then launches for the evicted pods.
                p.command.action = Action::Delete;
                plans.push(p);
            }
        }
        plans
    }

    fn emptiness(&mut self, cands: &[&Candidate<'a>]) -> Vec<Plan> {
        // worked out (over every node) only once an empty candidate asks: most rounds have none
        let mut budget = None;
        let mut chosen: Vec<&Candidate<'a>> = Vec::new();
        for c in in_order(cands, self.opts.candidate_order, is_empty_candidate) {
            if let Some(b) = &c.pod_block {
                self.keep(c.name(), b.clone());
                continue;
            }
            if !c.consolidatable {
                self.keep(c.name(), format!("empty, but not consolidatable yet (consolidateAfter {}s not elapsed since the last pod event)", c.pool.disruption.consolidate_after.unwrap_or(0)));
                continue;
            }
            let budget = budget.get_or_insert_with(|| budgets::mapping(&self.ctx.state.nodepools, &self.ctx.state.nodes, DisruptionReason::Empty, self.ctx.now, &[]));
            if !budgets::take(budget, c.pool.name) {
                self.keep(c.name(), format!("empty, but the disruption budget of NodePool {} for reason Empty is used up", c.pool.name));
                continue;
            }
            chosen.push(c);
        }
        if chosen.is_empty() {
            return Vec::new();
        }
        let sim = self.ctx.simulate(&chosen, false);
        let n = chosen.len();
        self.plan(Method::Emptiness, &chosen, &sim, &[], format!("{n} empty node(s): no reschedulable pods"))
            .into_iter()
            .collect()
    }

    fn drift(&mut self, cands: &[&Candidate<'a>]) -> Vec<Plan> {
        let order = self.opts.candidate_order;
        let mut drifted: std::collections::BinaryHeap<std::cmp::Reverse<DriftNext>> = cands
            .iter()
            .copied()
            .enumerate()
            .filter(|(_, c)| is_drift_candidate(c))
            .filter(|(_, c)| match drift_pod_block(c) {
                Some(b) => {
                    self.keep(c.name(), format!("drifted, but {b}"));
                    false
                }
                None => true,
            })
            .map(|(at, c)| std::cmp::Reverse(DriftNext { c, at, order }))
            .collect();
        let (state, now) = (self.ctx.state, self.ctx.now);
        let budget = || budgets::mapping(&state.nodepools, &state.nodes, DisruptionReason::Drifted, now, &[]);
        self.drift_first(std::iter::from_fn(|| drifted.pop().map(|std::cmp::Reverse(d)| d.c)), budget)
    }

    /// Drift's command on the first of `drifted` (drift's candidates, in drift's order) it may
    /// act on: within the Drifted budget, every pod rescheduled.
    /// `budget`: the Drifted budgets' [`budgets::mapping`], worked out when a candidate first asks.
    fn drift_first<C: std::borrow::Borrow<Candidate<'a>>>(&mut self, drifted: impl Iterator<Item = C>, budget: impl FnOnce() -> BTreeMap<Sym, i64>) -> Vec<Plan> {
        let budget = std::cell::LazyCell::new(budget);
        for c in drifted {
            let c = c.borrow();
            if budget.get(&c.pool.name).copied().unwrap_or(0) <= 0 {
                self.keep(c.name(), format!("drifted, but the disruption budget of NodePool {} for reason Drifted is used up", c.pool.name));
                continue;
            }
            let sim = self.ctx.simulate(&[c], false);
            if let Some((pod, why)) = sim.failed_moves.first() {
                self.keep(c.name(), format!("drifted, but pod {pod} could not be rescheduled: {why}"));
                continue;
            }
            let reason = c.drifted.as_deref().unwrap_or_default().to_string();
            let claims = sim.sol.claims.clone();
            if let Some(p) = self.plan(Method::Drift, &[c], &sim, &claims, reason) {
                return vec![p];
            }
        }
        Vec::new()
    }

    /// Forced expirations, then static pools' surplus (each its own controller, outside budgets),
    /// and the nodes they remove.
    fn forced(&mut self, cands: &[&Candidate<'a>]) -> (Vec<Plan>, Vec<Sym>) {
        let mut plans = self.expiration(cands);
        // static pools' surplus goes outright, like expiration (its own controller)
        let expired: Vec<Sym> = plans.iter().flat_map(|p| p.remove.clone()).collect();
        plans.extend(static_capacity::scale_down(&self.ctx).into_iter().filter(|p| p.remove.iter().all(|n| !expired.contains(n))));
        let expired: Vec<Sym> = plans.iter().flat_map(|p| p.remove.clone()).collect();
        (plans, expired)
    }

    /// Static pools' drift over the live candidates (in the state's order or the methods').
    fn static_drift(&mut self, live: &[&Candidate<'a>]) -> Vec<Plan> {
        let Round { ctx, kept, explain, opts } = self;
        let drifted = in_order(live, opts.candidate_order, |c| c.pool.replicas.is_some() && c.drifted.is_some());
        static_capacity::static_drift(ctx, &drifted, opts, &mut |n, why| {
            if *explain {
                kept.entry(n).or_insert(why);
            }
        })
    }

    /// Multi-node, then single-node consolidation over the live candidates in the methods' order,
    /// and the name of the method tried last.
    fn consolidation(&mut self, live: &[&Candidate<'a>]) -> (Vec<Plan>, &'static str) {
        let eligible = self.consolidatable(live);
        let acted = self.multi_node(live, &eligible, live);
        if !acted.is_empty() {
            return (acted, "multi-node consolidation");
        }
        (self.single_node(live, &eligible, live), "single-node consolidation")
    }

    /// Candidates consolidation may act on (`consolidation.go: ShouldDisrupt`), recording why others are kept.
    fn consolidatable(&mut self, cands: &[&Candidate<'a>]) -> Vec<usize> {
        let mut out = Vec::new();
        for (i, c) in cands.iter().enumerate() {
            match consolidation_block(c) {
                Some(w) if self.explain => self.keep(c.name(), w.to_string()),
                Some(_) => {}
                None => out.push(i),
            }
        }
        out
    }

    fn multi_node(&mut self, cands: &[&Candidate<'a>], eligible: &[usize], all: &[&Candidate<'a>]) -> Vec<Plan> {
        let mut budget = budgets::mapping(&self.ctx.state.nodepools, &self.ctx.state.nodes, DisruptionReason::Underutilized, self.ctx.now, &[]);
        let mut list: Vec<&Candidate<'a>> = Vec::new();
        for &i in eligible {
            let c = cands[i];
            if !budgets::take(&mut budget, c.pool.name) {
                self.keep(c.name(), format!("the disruption budget of NodePool {} for reason Underutilized is used up", c.pool.name));
                continue;
            }
            list.push(c);
        }
        if list.len() < 2 {
            return Vec::new();
        }
        let max = self.opts.multi_node_max_candidates.max(1);
        let (mut lo, mut hi) = (1usize, if list.len() <= max { list.len() - 1 } else { max });
        let mut best: Option<Plan> = None;
        while lo <= hi {
            let mid = (lo + hi) / 2;
            let prefix = &list[..=mid];
            let plan = match consolidation::compute(&self.ctx, prefix, self.opts) {
                Outcome::Delete(sim) => self.plan(Method::MultiNode, prefix, &sim, &[], format!("{} nodes' pods fit on the rest of the cluster", prefix.len())),
                Outcome::Replace(sim, mut r) => {
                    // never "delete 2× type X, launch 1× type X": drop options priced at or above a
                    // candidate of the same type (multinodeconsolidation.go: filterOutSameInstanceType)
                    let same: Vec<f64> = prefix.iter().filter(|c| r.options.iter().any(|o| Some(o.it.name) == c.node.instance_type)).map(|c| c.price).collect();
                    if let Some(max_price) = same.into_iter().reduce(f64::min) {
                        let reqs = r.requirements.clone();
                        r.options.retain(|o| consolidation::worst_launch_price(o, &reqs) < max_price);
                    }
                    // ... and what is left must still meet the NodePool's minValues
                    // (`RemoveInstanceTypeOptionsByPriceAndMinValues`)
                    if r.options.is_empty() || !consolidation::min_values_ok(&r, self.ctx.state.pool_types.get(&r.nodepool).map(|p| p.types.as_slice()).unwrap_or(&[])) {
                        None
                    } else {
                        let reason = format!("{} nodes replaced by one cheaper node", prefix.len());
                        self.plan(Method::MultiNode, prefix, &sim, std::slice::from_ref(&r), reason)
                    }
                }
                Outcome::No(_) => None,
            };
            let ok = plan.as_ref().is_some_and(|p| consolidation::balanced_approves(&self.ctx, all, prefix, p.command.savings_per_hour));
            if ok {
                best = plan;
                lo = mid + 1;
            } else {
                if mid == 0 {
                    break;
                }
                hi = mid - 1;
            }
        }
        best.into_iter().collect()
    }

    fn single_node(&mut self, cands: &[&Candidate<'a>], eligible: &[usize], all: &[&Candidate<'a>]) -> Vec<Plan> {
        let budget = budgets::mapping(&self.ctx.state.nodepools, &self.ctx.state.nodes, DisruptionReason::Underutilized, self.ctx.now, &[]);
        // round-robin over NodePools (by name), each pool's candidates in sort order
        let mut by_pool: BTreeMap<Sym, Vec<usize>> = BTreeMap::new();
        for &i in eligible {
            by_pool.entry(cands[i].pool.name).or_default().push(i);
        }
        let mut order = Vec::new();
        let longest = by_pool.values().map(Vec::len).max().unwrap_or(0);
        for k in 0..longest {
            for v in by_pool.values() {
                if let Some(&i) = v.get(k) {
                    order.push(i);
                }
            }
        }
        for i in order {
            let c = cands[i];
            if budget.get(&c.pool.name).copied().unwrap_or(0) <= 0 {
                self.keep(c.name(), format!("the disruption budget of NodePool {} for reason Underutilized is used up", c.pool.name));
                continue;
            }
            if c.pool.disruption.consolidation_policy == ConsolidationPolicy::Balanced && !consolidation::balanced_approves(&self.ctx, all, &[c], c.price) {
                self.keep(c.name(), "Balanced policy: even deleting it would not save enough for the disruption".to_string());
                continue;
            }
            if let Some(why) = self.ctx.prefilter().and_then(|f| f.cannot_consolidate(&self.ctx, c, self.opts.spot_to_spot)) {
                self.keep(c.name(), why);
                continue;
            }
            let plan = match consolidation::compute(&self.ctx, &[c], self.opts) {
                Outcome::Delete(sim) => self.plan(Method::SingleNode, &[c], &sim, &[], "its pods fit on other nodes".into()),
                Outcome::Replace(sim, r) => self.plan(Method::SingleNode, &[c], &sim, std::slice::from_ref(&r), "replaced by a cheaper node".into()),
                Outcome::No(why) => {
                    self.keep(c.name(), why);
                    None
                }
            };
            let Some(plan) = plan else { continue };
            if !consolidation::balanced_approves(&self.ctx, all, &[c], plan.command.savings_per_hour) {
                self.keep(c.name(), "Balanced policy: savings too small for the disruption".to_string());
                continue;
            }
            return vec![plan];
        }
        Vec::new()
    }
}

/// Why consolidation may not act on a candidate (`consolidation.go: ShouldDisrupt`), if it may not.
/// The sentence is written only when it is reported ([`Block`]'s `Display`): a time simulation's
/// rounds ask this of every candidate and drop the reasons.
pub(super) fn consolidation_block<'c>(c: &'c Candidate) -> Option<Block<'c>> {
    if c.pool.replicas.is_some() {
        Some(Block::StaticPool)
    } else if c.pool.disruption.consolidate_after.is_none() {
        Some(Block::Never(c.pool.name))
    } else if c.is_empty() {
        Some(Block::Empty)
    } else if c.pool.disruption.consolidation_policy == ConsolidationPolicy::WhenEmpty {
        Some(Block::WhenEmpty(c.pool.name))
    } else if !c.instance_type_known || c.zone.is_none() || c.capacity_type.is_none() {
        Some(Block::Unknown)
    } else if !c.consolidatable {
        Some(Block::NotYet(c.pool.disruption.consolidate_after.unwrap_or(0)))
    } else {
        c.pod_block.as_deref().map(Block::Pods)
    }
}

/// A reason from [`consolidation_block`].
pub(super) enum Block<'c> {
    StaticPool,
    Never(Sym),
    Empty,
    WhenEmpty(Sym),
    Unknown,
    NotYet(i64),
    Pods(&'c str),
}

impl std::fmt::Display for Block<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Block::StaticPool => f.write_str("static NodePool"),
            Block::Never(pool) => write!(f, "NodePool {pool} has consolidateAfter: Never"),
            Block::Empty => f.write_str("empty node: left to emptiness"),
            Block::WhenEmpty(pool) => write!(f, "NodePool {pool} consolidates only empty nodes (WhenEmpty)"),
            Block::Unknown => f.write_str("instance type, zone or capacity type of the node is unknown"),
            Block::NotYet(after) => write!(f, "not consolidatable yet: consolidateAfter {after}s has not elapsed since the last pod event"),
            Block::Pods(why) => f.write_str(why),
        }
    }
}

/// Whether emptiness may act on a candidate (`emptiness.go: ShouldDisrupt`): empty, in a dynamic
/// pool with a `consolidateAfter`, quiet for that long, and not blocked by its pods.
pub(super) fn emptiness_may_act(c: &Candidate) -> bool {
    is_empty_candidate(c) && c.pod_block.is_none() && c.consolidatable
}

fn is_empty_candidate(c: &Candidate) -> bool {
    c.is_empty() && c.pool.disruption.consolidate_after.is_some() && c.pool.replicas.is_none()
}

/// A drifted node of a dynamic pool: drift's (static pools' go to static drift).
fn is_drift_candidate(c: &Candidate) -> bool {
    c.drifted.is_some() && c.pool.replicas.is_none()
}

/// The pod block that keeps a drifted candidate: eventual disruption ignores pod blocks when the
/// NodeClaim has a terminationGracePeriod.
fn drift_pod_block<'c>(c: &'c Candidate) -> Option<&'c String> {
    c.pod_block.as_ref().filter(|_| c.pool.termination_grace_period.is_none())
}

/// The facts of one round over `pods_by_node` ([`crate::scheduling::bound_pods_by_node`] of
/// `state`, which the caller owns: the round's view and candidates borrow each node's pods from
/// it). `quick`: allow [`super::prefilter::Prefilter`] (built on first use) to skip single-node
/// simulations that are certain to fail (their candidates are then kept with a less specific
/// reason). `pending`: the pods pending before the round ([`pending_pods`], or kept by
/// until-stable). `kept_views`: the view takes the nodes' parts kept from earlier rounds
/// (`disruption/kept.rs`).
pub(super) fn round_ctx<'a>(
    state: &'a ClusterState,
    pods_by_node: &'a BoundPods<'a>,
    now: Timestamp,
    opts: &DisruptionOptions,
    pending: Vec<&'a crate::model::Pod>,
    quick: bool,
    kept_views: Option<&'a std::cell::RefCell<crate::scheduling::KeptNodes>>,
) -> RoundCtx<'a> {
    RoundCtx {
        state,
        now,
        pending,
        quick,
        prefilter: std::cell::OnceCell::new(),
        settling: std::cell::OnceCell::new(),
        arriving_leaving: std::cell::OnceCell::new(),
        pods_by_node,
        provisioning: opts.provisioning.clone(),
        view: std::cell::OnceCell::new(),
        kept_views,
    }
}

/// One round: forced expirations, then the first disruption method that acts. `facts`: what
/// earlier rounds over the same state kept ([`KeptFacts`]); `pods`: the state's pods by node and
/// pending pods kept from earlier rounds (until-stable, which drops the rounds' warnings: the
/// state's own were reported once), or `None` to find them (and warn about them).
fn one_round(
    state: &ClusterState,
    now: Timestamp,
    opts: &DisruptionOptions,
    warnings: &mut Vec<String>,
    quick: bool,
    facts: Option<&mut KeptFacts>,
    pods: Option<&mut KeptPodLists>,
) -> (Vec<Plan>, Vec<Kept>) {
    let (facts, views) = match facts {
        Some(k) => (Some(&mut k.nodes), Some(&k.views)),
        None => (None, None),
    };
    let (pods_by_node, pending) = match pods.as_deref() {
        Some(k) => k.round(state),
        None => (crate::scheduling::bound_pods_by_node(state), pending_pods(state, warnings)),
    };
    let ctx = round_ctx(state, &pods_by_node, now, opts, pending, quick, views);
    let mut facts = facts;
    let mut r = Round { ctx, opts, kept: BTreeMap::new(), explain: !quick };
    let lazy = if quick { facts.as_deref_mut().and_then(|f| Lazy::new(state, r.ctx.pods_by_node, now, f)) } else { None };
    if let Some(lazy) = lazy {
        if lazy.none_arriving_or_leaving() {
            // the kept index holds no node being deleted or not initialized: no pass to find them
            // (debug builds check that a pass finds none)
            debug_assert!(super::simulate::ArrivingLeaving::of(state).is_empty(), "the kept index misses a node being deleted or not initialized");
            let _ = r.ctx.arriving_leaving.set(Default::default());
        }
        let plans = quick_round(&mut r, lazy);
        if cfg!(debug_assertions) {
            // debug builds (the tests) check every lazy round against a round that keeps nothing
            let full = one_round(state, now, opts, &mut Vec::new(), true, None, None).0;
            assert_eq!(format!("{plans:?}"), format!("{full:?}"), "a quick round over the kept index plans otherwise than a full one");
        }
        // a quick round's caller drops the kept nodes (it reports them from an explained round)
        return (plans, Vec::new());
    }
    let (cands, kept) = candidates::build(state, r.ctx.pods_by_node, now, facts);
    r.kept = kept.into_iter().collect();
    let order = opts.candidate_order;
    // in the state's order: each method sorts what it reads ([`in_order`]); explanations read
    // every candidate in the methods' order (the first reason given a name is kept)
    let mut live: Vec<&Candidate> = cands.iter().collect();
    if !quick {
        live.sort_by(|a, b| order_cmp(order, a, b));
    }
    let (mut plans, expired) = r.forced(&live);
    live.retain(|c| !expired.contains(&c.name()));
    let mut acted = r.emptiness(&live);
    let mut method = "emptiness";
    if acted.is_empty() {
        acted = r.static_drift(&live);
        method = "static drift";
    }
    if acted.is_empty() {
        acted = r.drift(&live);
        method = "drift";
    }
    if acted.is_empty() {
        if quick {
            live.sort_by(|a, b| order_cmp(order, a, b));
        }
        (acted, method) = r.consolidation(&live);
    }
    let any_acted = !acted.is_empty();
    plans.extend(acted);
    let acted_on: Vec<Sym> = plans.iter().flat_map(|p| p.remove.clone()).collect();
    let explain = r.explain;
    for c in live.iter().filter(|_| explain) {
        if acted_on.contains(&c.name()) {
            continue;
        }
        // rules that hold whatever the method: blocked pods, drift not yet acted on
        if let Some(b) = &c.pod_block {
            r.keep(c.name(), b.clone());
        } else if any_acted {
            r.keep(c.name(), format!("not evaluated: {method} acted first this round (one method acts per round)"));
        } else {
            r.keep(c.name(), "no disruption method finds a saving");
        }
    }
    let kept = r.kept.into_iter().filter(|(n, _)| !acted_on.contains(n)).map(|(n, reason)| Kept { node: n.to_string(), reason }).collect();
    (plans, kept)
}

/// A quick round's methods over the candidates [`Lazy`] builds from the kept index: those of the
/// nodes that expiration, static drift and emptiness may act on, then drift's in its order as it
/// asks; the consolidation methods, which read every candidate, over a full build.
fn quick_round<'a>(r: &mut Round<'a, '_>, mut lazy: Lazy<'a, '_>) -> Vec<Plan> {
    let watched = lazy.watched();
    let read: Vec<&Candidate> = watched.iter().collect();
    let (mut plans, expired) = r.forced(&read);
    let read: Vec<&Candidate> = read.into_iter().filter(|c| !expired.contains(&c.name())).collect();
    let mut acted = r.emptiness(&read);
    if acted.is_empty() {
        acted = r.static_drift(&read);
    }
    if acted.is_empty() {
        let budgets = lazy.budgets();
        acted = r.drift_first(lazy.drifted(&expired).filter(|c| is_drift_candidate(c) && drift_pod_block(c).is_none()), || budgets.mapping(DisruptionReason::Drifted));
    }
    let facts = lazy.into_facts();
    if acted.is_empty() {
        let (state, now) = (r.ctx.state, r.ctx.now);
        let (cands, _) = candidates::build(state, r.ctx.pods_by_node, now, Some(facts));
        let mut live: Vec<&Candidate> = cands.iter().filter(|c| !expired.contains(&c.name())).collect();
        live.sort_by(|a, b| order_cmp(r.opts.candidate_order, a, b));
        acted = r.consolidation(&live).0;
    }
    plans.extend(acted);
    plans
}

/// The command(s) Karpenter would take next: forced expirations plus the first disruption method
/// that acts. The state is not changed.
pub fn disrupt_once(state: &ClusterState, opts: &DisruptionOptions) -> DisruptionResult {
    let now = opts.now.unwrap_or_else(|| state.snapshot_time());
    let mut warnings = state.warnings.clone();
    let before = cost(state);
    let (plans, kept) = one_round(state, now, opts, &mut warnings, false, None, None);
    let savings: f64 = plans.iter().map(|p| p.command.savings_per_hour).sum();
    DisruptionResult {
        commands: plans.into_iter().map(|p| p.command).collect(),
        kept,
        cost_per_hour_before: before,
        cost_per_hour_after: before - savings,
        rounds: 1,
        now,
        end_state: None,
        warnings,
    }
}

/// Apply rounds until no method acts (or `max_rounds`), advancing simulated time between rounds by
/// the longest `consolidateAfter` (at least the 15 s validation delay), so nodes touched in one round
/// can be considered again in the next. Returns every command, the end state and total savings.
pub fn until_stable(state: &ClusterState, opts: &DisruptionOptions) -> DisruptionResult {
    until_stable_state(state, opts).0
}

/// [`until_stable`], also returning the final cluster state (nodes with their allocatable, pods
/// with their bindings), for callers that check or continue from the end state.
pub fn until_stable_state(state: &ClusterState, opts: &DisruptionOptions) -> (DisruptionResult, ClusterState) {
    until_stable_with_progress(state, opts, &crate::progress::Progress::default())
}

/// [`until_stable_state`], telling `progress` `(rounds started, None)` as rounds run.
pub fn until_stable_with_progress(state: &ClusterState, opts: &DisruptionOptions, progress: &crate::progress::Progress) -> (DisruptionResult, ClusterState) {
    let start = opts.now.unwrap_or_else(|| state.snapshot_time());
    let mut now = start;
    let mut current = state.clone();
    let mut warnings = state.warnings.clone();
    let before = cost(state);
    let step = state.nodepools.iter().filter_map(|p| p.disruption.consolidate_after).max().unwrap_or(0).max(15) + 1;
    let mut commands = Vec::new();
    let mut kept = Vec::new();
    let mut rounds = 0;
    let mut seq = 0usize;
    let max_rounds = opts.round_limit(state);
    let mut settled = false;
    // each node's candidate facts, kept from round to round for the nodes no command changed
    // (`current` is written only by `apply`, which says what it changed)
    let mut facts = KeptFacts::for_state(&current).map(KeptFacts::with_quick_index);
    // and its pods by node and pending pods, patched from what each command moved
    let mut pods = facts.is_some().then(|| KeptPodLists::of(&current));
    while rounds < max_rounds {
        rounds += 1;
        progress.report(rounds as u64, None);
        // Rounds skip the single-node simulations that are certain to fail ([`super::prefilter`]):
        // the same commands, sooner. Only the kept nodes of the last round are reported, so that
        // round runs again in full for their explanations.
        let plans = one_round(&current, now, opts, &mut Vec::new(), true, facts.as_mut(), pods.as_mut()).0;
        if plans.is_empty() || rounds == max_rounds {
            kept = one_round(&current, now, opts, &mut Vec::new(), false, facts.as_mut(), pods.as_mut()).1;
        }
        if plans.is_empty() {
            settled = true;
            break;
        }
        for p in plans {
            // with the kept pod lists, only the pods the command changes are looked at
            let changed = match &mut pods {
                Some(k) => {
                    let node_at = facts.as_ref().map(|f| move |name| f.node_at(name));
                    k.place(&mut current, p.placement(), now, &mut seq, node_at.as_ref().map(|f| f as apply::NodeAt))
                }
                None => apply::apply(&mut current, &p, now, &mut seq),
            };
            if let Some(f) = &mut facts {
                f.forget(&changed);
            }
            commands.push(p.command);
        }
        now += step;
    }
    if !settled {
        warnings.push(format!(
            "stopped after {rounds} rounds (max_rounds) while methods still acted: the end state is partial; raise max_rounds (--max-rounds) to let it settle"
        ));
    }
    let after = cost(&current);
    let prov = provision(&current, &opts.provisioning);
    let mut pending: Vec<crate::scheduling::Unschedulable> = prov.unschedulable.clone();
    let placeable: usize = prov.nodeclaims.iter().map(|n| n.pods.len()).sum::<usize>() + prov.existing_nodes.iter().map(|n| n.pods.len()).sum::<usize>();
    if placeable > 0 {
        for nc in &prov.nodeclaims {
            for p in &nc.pods {
                pending.push(crate::scheduling::Unschedulable { pod: p.clone(), reason: format!("pending; provisioning would launch {} for it", nc.instance_type) });
            }
        }
        for e in &prov.existing_nodes {
            for p in &e.pods {
                pending.push(crate::scheduling::Unschedulable { pod: p.clone(), reason: format!("pending; fits on node {}", e.name) });
            }
        }
    }
    pending.sort_by(|a, b| a.pod.cmp(&b.pod));
    // each node's pods counted in one pass (a scan of every pod for every node was quadratic)
    let mut pods_on: SymMap<usize> = SymMap::default();
    for p in current.pods.iter().filter(|p| !p.is_terminal()) {
        if let Some(n) = p.node_name {
            *pods_on.entry(n).or_default() += 1;
        }
    }
    let nodes = current
        .nodes
        .iter()
        .map(|n| NodeSummary {
            name: n.name.to_string(),
            nodepool: n.nodepool.map(|s| s.to_string()),
            instance_type: n.instance_type.map(|s| s.to_string()),
            zone: n.zone.map(|s| s.to_string()),
            capacity_type: n.capacity_type.map(|s| s.to_string()),
            price_per_hour: n.price.unwrap_or(0.0),
            pods: pods_on.get(&n.name).copied().unwrap_or(0),
        })
        .collect();
    let result = DisruptionResult {
        commands,
        kept,
        cost_per_hour_before: before,
        cost_per_hour_after: after,
        rounds,
        now: start,
        end_state: Some(EndState { nodes, pending }),
        warnings,
    };
    (result, current)
}

/// One round at simulated time `now`, as plans the caller applies with its own timing (the time
/// simulator). The same commands as [`disrupt_once`], sooner: without its explanations, so a
/// single-node candidate whose consolidation is certain to fail is not simulated
/// ([`super::prefilter`]). Warnings are dropped: the caller has reported the state's own already.
pub fn plan_round(state: &ClusterState, now: Timestamp, opts: &DisruptionOptions) -> Vec<Plan> {
    one_round(state, now, opts, &mut Vec::new(), true, None, None).0
}

/// [`plan_round`] over facts kept from earlier rounds ([`KeptFacts`]), which it adds to: the
/// caller keeps them for one state, forgetting every node it changes between rounds.
pub fn plan_round_kept(state: &ClusterState, now: Timestamp, opts: &DisruptionOptions, kept: &mut KeptFacts) -> Vec<Plan> {
    one_round(state, now, opts, &mut Vec::new(), true, Some(kept), None).0
}

#[cfg(test)]
mod tests {
    use super::super::apply::{place, Dest};
    use super::super::candidates::{build, same_candidate, FactsByNode};
    use super::super::lazy::tests::drifted_cluster;
    use super::*;
    use crate::scheduling::bound_pods_by_node;

    /// Subsets sorted on their own ([`in_order`]) and drift's heap ([`DriftNext`]) give the
    /// order the methods read before: the subsequence of the whole list's stable sort, and drift's
    /// two stable sorts (age then name, then empty first) of that sorted list. Nodes with equal
    /// ages, equal ratios and a shared name make every tie-break count.
    #[test]
    fn subsets_and_drift_heap_follow_the_sorted_candidates() {
        let mut state = crate::fixtures::karpenter_cluster(40, 2, 11);
        for (i, n) in state.nodes.iter_mut().enumerate() {
            n.creation_timestamp = [0, 600][i % 2];
            n.price = Some([0.5, 0.25, 0.5][i % 3]);
        }
        state.nodes[7].name = state.nodes[5].name;
        state.nodes[9].name = state.nodes[5].name;
        let uid = state.pods.iter().position(|p| p.node_name.is_some()).expect("a bound pod");
        state.pods[uid].node_name = None;
        let pods = bound_pods_by_node(&state);
        let (cands, _) = candidates::build(&state, &pods, 7_200, None);
        for order in [CandidateOrder::SavingsRatio, CandidateOrder::DisruptionCost] {
            let mut sorted: Vec<&Candidate> = cands.iter().collect();
            sorted.sort_by(|a, b| order_cmp(order, a, b));
            let all: Vec<&Candidate> = cands.iter().collect();
            let pick = |c: &Candidate| c.price < 0.4;
            let expected: Vec<*const Candidate> = sorted.iter().copied().filter(|c| pick(c)).map(std::ptr::from_ref).collect();
            let got: Vec<*const Candidate> = in_order(&all, order, pick).into_iter().map(std::ptr::from_ref).collect();
            assert_eq!(got, expected);
            let mut drift_order = sorted.clone();
            drift_order.sort_by(|a, b| a.node.creation_timestamp.cmp(&b.node.creation_timestamp).then(a.name().cmp(&b.name())));
            drift_order.sort_by_key(|c| !c.reschedulable.is_empty());
            let expected: Vec<*const Candidate> = drift_order.into_iter().map(std::ptr::from_ref).collect();
            // from the state's order (quick rounds) and from the sorted order (explained rounds)
            for start in [&all, &sorted] {
                let mut heap: std::collections::BinaryHeap<std::cmp::Reverse<DriftNext>> =
                    start.iter().copied().enumerate().map(|(at, c)| std::cmp::Reverse(DriftNext { c, at, order })).collect();
                let mut got = Vec::new();
                while let Some(std::cmp::Reverse(d)) = heap.pop() {
                    got.push(std::ptr::from_ref(d.c));
                }
                assert_eq!(got, expected);
            }
        }
    }
    /// Quick rounds over the kept index ([`Lazy`]) give the plans of rounds that keep nothing,
    /// round after round of until-stable's loop over a drifted cluster with an expired node, one
    /// that expires later, one that drifts once an hour old and an empty one: commands that
    /// delete (expiration, emptiness), replace (drift) and move pods (expiration's); the last
    /// round, where no method acts, tries consolidation over a full build.
    #[test]
    fn quick_rounds_over_the_kept_index_plan_as_rounds_that_keep_nothing() {
        let mut now = 7_200;
        let mut state = drifted_cluster(11, now);
        for n in state.nodes.iter_mut().skip(9) {
            let mut labels = (*n.labels).clone();
            labels.insert(Sym::new("tier"), Sym::new("v2"));
            n.labels = labels.into();
        }
        // and, not drifted by the template: one that expires in a later round (a quick one), and
        // one of a type no longer offered that drifts once an hour old (`InstanceTypeNotFound`),
        // in a later round too
        state.nodes[9].creation_timestamp = now - 720 * 3600 + 40;
        state.nodes[10].creation_timestamp = now - 3600 + 40;
        state.nodes[10].instance_type = Some(Sym::new("fake-it-gone"));
        let opts = DisruptionOptions::default();
        let mut facts = KeptFacts::for_state(&state).expect("unique names").with_quick_index();
        let mut pods = KeptPodLists::of(&state);
        let (mut seq, mut methods) = (0, Vec::new());
        let old_type = state.nodes[10].name;
        for round in 0..40 {
            let indexed = facts.nodes.index.as_ref().is_some_and(super::super::quick_index::QuickIndex::is_complete);
            assert_eq!(indexed, round > 0, "round {round}");
            let plans = one_round(&state, now, &opts, &mut Vec::new(), true, Some(&mut facts), Some(&mut pods)).0;
            let fresh = one_round(&state, now, &opts, &mut Vec::new(), true, None, None).0;
            assert_eq!(format!("{plans:?}"), format!("{fresh:?}"), "round {round}");
            if plans.is_empty() {
                break;
            }
            for p in plans {
                methods.push(p.command.method);
                if p.remove.contains(&old_type) {
                    // drift takes it in a quick round, once an hour old
                    assert!(now >= 7_200 + 40 && p.command.method == Method::Drift, "round {round}: {:?}", p.command.method);
                }
                let changed = apply::apply(&mut state, &p, now, &mut seq);
                facts.forget(&changed);
                pods.patch(&state, &changed);
            }
            now += 16;
        }
        let count = |m: Method| methods.iter().filter(|x| **x == m).count();
        assert_eq!((count(Method::Expiration), count(Method::Emptiness), count(Method::Drift)), (2, 1, 8), "{methods:?}");
    }
    /// The lazy candidates of the index's nodes are those of a full build: the names of the
    /// watched ones and of the drifted ones in drift's order.
    fn same_as_full(state: &ClusterState, facts: &mut FactsByNode, now: Timestamp) -> (Vec<Sym>, Vec<Sym>) {
        let pods = bound_pods_by_node(state);
        let (full, _) = build(state, &pods, now, None);
        let mut lazy = Lazy::new(state, &pods, now, facts).expect("a complete index");
        lazy.check_index();
        // what the round then skips passes for: the nodes deleting or not initialized
        assert_eq!(lazy.none_arriving_or_leaving(), super::super::simulate::ArrivingLeaving::of(state).is_empty());
        let watched = lazy.watched();
        let drifted: Vec<Candidate> = lazy.drifted(&[]).collect();
        for c in watched.iter().chain(&drifted) {
            let f = full.iter().find(|f| f.name() == c.name()).expect("a candidate of the full build");
            assert!(same_candidate(c, f), "lazy candidate of {} differs", c.name());
        }
        let names = (watched.iter().map(Candidate::name).collect(), drifted.iter().map(Candidate::name).collect());
        drop((watched, drifted));
        lazy.into_facts();
        // every node of the state, and no other, has kept facts, and they give a fresh build's
        // candidates and reasons (`build` compares them with fresh ones in debug builds, the tests')
        assert_eq!(facts.by_node.len(), state.nodes.len());
        assert!(state.nodes.iter().all(|x| facts.by_node.contains_key(&x.name)), "a node without kept facts");
        build(state, &pods, now, Some(facts));
        names
    }

    /// Three quick rounds over `state`, each plan placed as until-stable places it (what it changed
    /// forgotten and the positions it gave pods noted, both by `KeptFacts::forget`), each followed
    /// by [`same_as_full`]'s checks, whose names `check` gets with the plan.
    fn quick_rounds(state: &mut ClusterState, facts: &mut KeptFacts, now: Timestamp, seq: &mut usize, mut check: impl FnMut(&Plan, (Vec<Sym>, Vec<Sym>))) {
        for _ in 0..3 {
            for p in plan_round(state, now, &DisruptionOptions::default()) {
                let changed = place(state, &p.new_nodes, &p.binds, &p.remove, now, seq);
                facts.forget(&changed);
                check(&p, same_as_full(state, &mut facts.nodes, now));
            }
        }
    }

    /// The index kept across commands that delete a node (its pods moving to another), move a
    /// pod off each of three nodes that stay (six nodes changed), delete and replace nodes (a
    /// quick round's plans: expiration's, emptiness's, drift's new node taking the pods) and move
    /// every pod off a node that stays, each followed by forgetting what `place` reported,
    /// is the index of fresh facts, and the candidates built from it are the full build's: the
    /// watched ones (the empty node, the expired one), the drifted in drift's order (pods to
    /// move, age, name).
    #[test]
    fn the_index_kept_across_delete_replace_and_move_is_a_fresh_one() {
        let now = 7_200;
        let mut state = drifted_cluster(9, now);
        let n: Vec<Sym> = state.nodes.iter().map(|n| n.name).collect();
        let mut facts = KeptFacts::for_state(&state).expect("unique names").with_quick_index();
        assert!(Lazy::new(&state, &bound_pods_by_node(&state), now, &mut facts.nodes).is_none(), "no index before a full build");
        build(&state, &bound_pods_by_node(&state), now, Some(&mut facts.nodes));
        // watched by name (the expired n1, the empty n2), then drift's order: n2 (no pods to
        // move), the expired n1, the oldest, those of 600 s by name; the young nodes (n3, n7) last
        assert_eq!(same_as_full(&state, &mut facts.nodes, now), (vec![n[1], n[2]], vec![n[2], n[1], n[0], n[4], n[8], n[5], n[6], n[3], n[7]]));
        let mut seq = 0;
        let to = |state: &ClusterState, from: Sym, dest: Sym| state.pods.iter().filter(|p| p.node_name == Some(from)).map(|p| (p.uid, Dest::Existing(dest))).collect::<Vec<_>>();
        let binds = to(&state, n[0], n[5]);
        let changed = place(&mut state, &[], &binds, &[n[0]], now, &mut seq);
        facts.forget(&changed);
        same_as_full(&state, &mut facts.nodes, now);
        // pods of three nodes that stay moved to three others: more nodes forgotten than are each
        // found by a scan (one pass with a set finds them)
        let binds: Vec<(Sym, Dest)> = [(n[3], n[4]), (n[7], n[8]), (n[5], n[6])].iter().flat_map(|&(from, dest)| to(&state, from, dest).into_iter().take(1)).collect();
        let changed = place(&mut state, &[], &binds, &[], now, &mut seq);
        assert!(changed.nodes.len() > super::super::lazy::FEW_FORGOTTEN);
        facts.forget(&changed);
        same_as_full(&state, &mut facts.nodes, now);
        // a quick round: expiration deletes n1, emptiness n2 (the empty node); then drift replaces
        let mut replaced = 0;
        quick_rounds(&mut state, &mut facts, now, &mut seq, |p, (watched, drifted)| {
            replaced += p.new_nodes.len();
            assert!(!watched.iter().chain(&drifted).any(|x| p.remove.contains(x)));
        });
        assert!(replaced > 0 && !state.nodes.iter().any(|x| [n[1], n[2]].contains(&x.name)), "{replaced}");
        let binds = to(&state, n[6], n[8]);
        let changed = place(&mut state, &[], &binds, &[], now, &mut seq);
        facts.forget(&changed);
        // n6 lost its pods: empty, it is watched, and first in drift's order
        let (watched, drifted) = same_as_full(&state, &mut facts.nodes, now);
        assert_eq!((watched, drifted.first()), (vec![n[6]], Some(&n[6])));
    }

    /// The index holds the nodes being deleted and those not initialized, as a pass over the
    /// nodes finds them, across commands that move pods, delete nodes, and delete the last such
    /// ones: the round then lists them without a pass only when there are none; and
    /// the forgotten nodes are found from positions noted by commands, one shifted by a later
    /// removal (every node has fresh facts after each: `same_as_full`). And
    /// until-stable over a cluster with such nodes plans as rounds that keep nothing (the debug
    /// checks of every round).
    #[test]
    fn nodes_deleting_or_not_initialized_kept_in_the_index_are_a_pass_over_the_nodes() {
        let now = 7_200;
        let mut state = drifted_cluster(8, now);
        state.nodes[4].deletion_timestamp = Some(now - 60);
        state.nodes[6].initialized = false;
        let n: Vec<Sym> = state.nodes.iter().map(|n| n.name).collect();
        let before = state.clone();
        let mut facts = KeptFacts::for_state(&state).expect("unique names").with_quick_index();
        build(&state, &bound_pods_by_node(&state), now, Some(&mut facts.nodes));
        same_as_full(&state, &mut facts.nodes, now);
        let mut seq = 0;
        let to = |state: &ClusterState, from: Sym, dest: Sym| state.pods.iter().filter(|p| p.node_name == Some(from)).map(|p| (p.uid, Dest::Existing(dest))).collect::<Vec<_>>();
        // pods of the node being deleted moved to one not initialized
        let binds = to(&state, n[4], n[6]);
        let changed = place(&mut state, &[], &binds, &[], now, &mut seq);
        facts.forget(&changed);
        same_as_full(&state, &mut facts.nodes, now);
        // quick rounds' plans: expiration and emptiness delete nodes (drift waits: the node being
        // deleted takes the pool's budget)
        let mut deleted = 0;
        quick_rounds(&mut state, &mut facts, now, &mut seq, |p, _| deleted += p.remove.len());
        assert!(deleted > 0 && !super::super::simulate::ArrivingLeaving::of(&state).is_empty());
        // the node being deleted and the uninitialized one go, the pods moving: none left
        let binds = to(&state, n[6], n[0]);
        let changed = place(&mut state, &[], &binds, &[n[4], n[6]], now, &mut seq);
        facts.forget(&changed);
        same_as_full(&state, &mut facts.nodes, now);
        assert!(super::super::simulate::ArrivingLeaving::of(&state).is_empty());
        // two commands before a round: pods moved to the last node (its position noted), then a
        // node before it deleted (the noted position is one past it now)
        let last = state.nodes.len() - 1;
        let from = state.nodes.iter().take(last).skip(1).map(|x| x.name).find(|&x| state.pods.iter().any(|p| p.node_name == Some(x))).expect("a node with pods");
        let binds = to(&state, from, state.nodes[last].name);
        let changed = place(&mut state, &[], &binds, &[], now, &mut seq);
        assert_eq!(changed.got_pods_at, vec![last]);
        facts.forget(&changed);
        let first = state.nodes[0].name;
        let changed = place(&mut state, &[], &[], &[first], now, &mut seq);
        facts.forget(&changed);
        same_as_full(&state, &mut facts.nodes, now);
        let result = until_stable(&before, &DisruptionOptions { now: Some(now), ..DisruptionOptions::default() });
        assert!(result.rounds > 1, "{} rounds", result.rounds);
    }
}
