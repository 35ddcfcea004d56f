//! Karpenter's disruption logic over a cluster state (design §5, §6): expiration, emptiness, drift,
//! multi-node and single-node consolidation, with budgets, PDBs and do-not-disrupt.
//!
//! [`disrupt_once`] returns the command Karpenter would take next (plus forced expirations);
//! [`until_stable`] applies commands round after round until no method acts, giving the end state.
//! Both are pure functions of the state, the simulated time and the options.

mod apply;
mod budgets;
mod candidates;
mod consolidation;
pub mod cron;
mod drift;
mod kept;
mod lazy;
mod methods;
mod pod_index;
mod prefilter;
mod quick_index;
mod simulate;
mod static_capacity;
mod validation;

pub use budgets::budget_allows;
pub use crate::eviction::{eviction_cost, pdb_allowed};
pub use apply::{Changed, Dest, NewNode, Plan, place};
pub use kept::KeptFacts;
pub use methods::{disrupt_once, plan_round, plan_round_kept, until_stable, until_stable_state, until_stable_with_progress};
pub use validation::validate;

use crate::model::{DisruptionReason, Timestamp};
use crate::scheduling::{ProvisionOptions, Unschedulable};
use crate::state::ClusterState;
use std::collections::BTreeMap;

/// How many more nodes each NodePool's budgets let `reason` disrupt at `now`: what the budgets
/// allow over the pool's managed, initialized nodes, less those already disrupting (not Ready or
/// deleting) (`helpers.go: BuildDisruptionBudgetMapping`).
pub fn allowed_disruptions(state: &ClusterState, reason: DisruptionReason, now: Timestamp) -> BTreeMap<String, i64> {
    budgets::mapping(&state.nodepools, &state.nodes, reason, now, &[]).into_iter().map(|(k, v)| (k.to_string(), v)).collect()
}

/// The order candidates are tried in (§5.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub enum CandidateOrder {
    /// v1.14: price ÷ reschedule-disruption-cost, descending.
    #[default]
    SavingsRatio,
    /// v1.0–v1.13: disruption cost (eviction costs × lifetime remaining), ascending.
    DisruptionCost,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct DisruptionOptions {
    /// Simulated time (seconds since the epoch). `None`: the latest timestamp found in the input.
    pub now: Option<Timestamp>,
    pub candidate_order: CandidateOrder,
    /// Feature gate `SpotToSpotConsolidation` (off by default in Karpenter).
    pub spot_to_spot: bool,
    /// Multi-node consolidation looks at most at this many candidates (100 in Karpenter).
    pub multi_node_max_candidates: usize,
    /// Until-stable: stop after this many rounds even if methods still act (with a warning: the
    /// end state is then partial). `None`: [`default_max_rounds`] of the cluster's nodes. Karpenter
    /// has no such cap; it is karpsim's guard against rounds that never settle.
    pub max_rounds: Option<usize>,
    /// The scheduler settings used in simulations and for replacements.
    pub provisioning: ProvisionOptions,
}

impl Default for DisruptionOptions {
    fn default() -> Self {
        DisruptionOptions {
            now: None,
            candidate_order: CandidateOrder::SavingsRatio,
            spot_to_spot: false,
            multi_node_max_candidates: 100,
            max_rounds: None,
            provisioning: ProvisionOptions::default(),
        }
    }
}

impl DisruptionOptions {
    /// The rounds until-stable may run on `state`: `max_rounds`, or by default
    /// [`default_max_rounds`] of its nodes.
    pub fn round_limit(&self, state: &ClusterState) -> usize {
        self.max_rounds.unwrap_or_else(|| default_max_rounds(state.nodes.len()))
    }
}

/// Until-stable's default cap on rounds for a cluster of `nodes` nodes: `2 × nodes + 1,000`.
///
/// A round that acts applies at least one command and every command disrupts at least one node, so
/// a cluster that settles needs at most one round per node it ever disrupts. Drift disrupts one
/// node per round (`drift.go`: the first candidate whose pods schedule), so n drifted nodes take
/// about n rounds; each node of the input is disrupted at most once, and the replacement it may
/// get can be consolidated once more (2 per node). The 1,000 on top (the former fixed cap) leaves
/// room for chains of ever-cheaper replacements on small clusters. A cap that still cuts a run
/// short warns (`stopped after N rounds (max_rounds) ...`).
pub fn default_max_rounds(nodes: usize) -> usize {
    nodes.saturating_mul(2).saturating_add(1_000)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Method {
    Expiration,
    Emptiness,
    /// Drifted nodes of static NodePools, replaced by their template (`staticdrift.go`).
    StaticDrift,
    Drift,
    MultiNode,
    SingleNode,
    /// A static NodePool's surplus above `replicas` (`static/deprovisioning`).
    StaticScaleDown,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Action {
    Delete,
    Replace,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Replacement {
    pub nodepool: String,
    pub instance_type: String,
    pub zone: String,
    pub capacity_type: String,
    pub price_per_hour: f64,
    pub instance_type_options: Vec<String>,
    /// The capacity reservation it launches into.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reservation_id: Option<String>,
}

impl Replacement {
    /// What a NodeClaim launches (the launch decision, §4.2), or `None` when no option holds its
    /// requests with an available offering.
    pub fn launch(c: &crate::scheduling::SolvedClaim, policy: crate::scheduling::LaunchPolicy) -> Option<Replacement> {
        let l = crate::scheduling::launch::choose(&c.options, &c.requirements, &c.requests, policy)?;
        Some(Replacement {
            nodepool: c.nodepool.to_string(),
            instance_type: l.it.it.name.to_string(),
            zone: l.offering.zone.to_string(),
            capacity_type: l.offering.capacity_type.to_string(),
            price_per_hour: l.offering.price,
            instance_type_options: c.options.iter().map(|o| o.it.name.to_string()).collect(),
            reservation_id: l.offering.reservation_id().map(|r| r.to_string()),
        })
    }
}

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct PodMove {
    pub pod: String,
    /// An existing node's name, or `replacement-N` (index into `replacements`), or `pending`.
    pub to: String,
}

/// One disruption decision and why.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Command {
    pub method: Method,
    pub action: Action,
    pub nodes: Vec<String>,
    pub replacements: Vec<Replacement>,
    pub pods: Vec<PodMove>,
    pub price_before: f64,
    pub price_after: f64,
    pub savings_per_hour: f64,
    pub reason: String,
}

impl Command {
    /// A command on `nodes` (priced `price_before` together): replace them with `replacements`, or
    /// delete them when there are none.
    pub(crate) fn new(method: Method, nodes: Vec<String>, replacements: Vec<Replacement>, pods: Vec<PodMove>, price_before: f64, reason: String) -> Command {
        let price_after: f64 = replacements.iter().map(|r| r.price_per_hour).fold(0.0, |a, b| a + b);
        Command {
            method,
            action: if replacements.is_empty() { Action::Delete } else { Action::Replace },
            nodes,
            replacements,
            pods,
            price_before,
            price_after,
            savings_per_hour: price_before - price_after,
            reason,
        }
    }
}

/// A node that was looked at and kept, with the rule that kept it.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Kept {
    pub node: String,
    pub reason: String,
}

/// A node of the end state.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct NodeSummary {
    pub name: String,
    pub nodepool: Option<String>,
    pub instance_type: Option<String>,
    pub zone: Option<String>,
    pub capacity_type: Option<String>,
    pub price_per_hour: f64,
    pub pods: usize,
}

#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct EndState {
    pub nodes: Vec<NodeSummary>,
    pub pending: Vec<Unschedulable>,
}

/// What disruption would do: one round, or every round until stable (then `end_state` is set).
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct DisruptionResult {
    pub commands: Vec<Command>,
    pub kept: Vec<Kept>,
    pub cost_per_hour_before: f64,
    pub cost_per_hour_after: f64,
    pub rounds: usize,
    /// The simulated time the first round ran at.
    pub now: Timestamp,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub end_state: Option<EndState>,
    pub warnings: Vec<String>,
}
