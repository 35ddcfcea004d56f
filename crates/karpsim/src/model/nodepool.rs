use super::{NodeSelectorRequirement, Seconds, Taint};
use crate::labels::Sym;
use crate::resources::Limits;
use std::collections::BTreeMap;

/// A Karpenter `NodePool` (karpenter.sh/v1) with the CRD defaults applied.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct NodePool {
    pub name: Sym,
    pub labels: BTreeMap<Sym, Sym>,
    pub annotations: BTreeMap<String, String>,
    pub requirements: Vec<NodeSelectorRequirement>,
    pub taints: Vec<Taint>,
    pub startup_taints: Vec<Taint>,
    /// `spec.template.spec.nodeClassRef.name`
    pub node_class: Option<Sym>,
    /// CRD default 720h; `None` = Never.
    pub expire_after: Option<Seconds>,
    pub termination_grace_period: Option<Seconds>,
    pub limits: Limits,
    /// 1..100; unset = 0.
    pub weight: i32,
    pub disruption: Disruption,
    /// Static capacity (`spec.replicas`): such pools are excluded from dynamic provisioning.
    pub replicas: Option<i64>,
    /// `metadata.deletionTimestamp` is set: the pool launches nothing new, its nodes stay.
    pub deleting: bool,
}

impl NodePool {
    /// Put `requirement` in place of the pool's requirement on the same key (what-if changes and
    /// the advisor's candidates change a NodePool this one way).
    pub fn set_requirement(&mut self, requirement: NodeSelectorRequirement) {
        self.requirements.retain(|r| r.key != requirement.key);
        self.requirements.push(requirement);
    }
}

#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Disruption {
    /// CRD default WhenEmptyOrUnderutilized.
    pub consolidation_policy: ConsolidationPolicy,
    /// CRD default 0s; `None` = Never.
    pub consolidate_after: Option<Seconds>,
    /// CRD default `[{nodes: "10%"}]`.
    pub budgets: Vec<Budget>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum ConsolidationPolicy {
    WhenEmpty,
    WhenEmptyOrUnderutilized,
    Balanced,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
pub enum DisruptionReason {
    Underutilized,
    Empty,
    Drifted,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Budget {
    /// `"N"` or `"P%"`, validated.
    pub nodes: String,
    /// Cron schedule (5 fields or `@daily`-style), with `duration`.
    pub schedule: Option<String>,
    pub duration: Option<Seconds>,
    /// `None` applies to every reason.
    pub reasons: Option<Vec<DisruptionReason>>,
}

impl Default for Disruption {
    fn default() -> Self {
        Disruption {
            consolidation_policy: ConsolidationPolicy::WhenEmptyOrUnderutilized,
            consolidate_after: Some(0),
            budgets: vec![Budget { nodes: "10%".into(), schedule: None, duration: None, reasons: None }],
        }
    }
}

impl NodePool {
    /// A pool with every CRD default, no requirements and no limits.
    pub fn new(name: &str) -> Self {
        NodePool {
            name: Sym::new(name),
            labels: BTreeMap::new(),
            annotations: BTreeMap::new(),
            requirements: Vec::new(),
            taints: Vec::new(),
            startup_taints: Vec::new(),
            node_class: None,
            expire_after: Some(720 * 3600),
            termination_grace_period: None,
            limits: Limits::default(),
            weight: 0,
            disruption: Disruption::default(),
            replicas: None,
            deleting: false,
        }
    }

    /// Whether the provisioner builds NodeClaims from this pool: it is dynamic (no `replicas`) and
    /// not being deleted (`provisioner.go: NewScheduler` filters out static and deleting pools).
    pub fn provisions(&self) -> bool {
        self.replicas.is_none() && !self.deleting
    }
}
