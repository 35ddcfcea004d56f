use super::LabelSelector;
use crate::labels::Sym;

/// A `PodDisruptionBudget` (policy/v1).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct PodDisruptionBudget {
    pub namespace: Sym,
    pub name: Sym,
    /// `None` = a missing selector (selects nothing); an empty selector selects every pod of the namespace.
    pub selector: Option<LabelSelector>,
    pub min_available: Option<IntOrPercent>,
    pub max_unavailable: Option<IntOrPercent>,
    /// `unhealthyPodEvictionPolicy: AlwaysAllow`
    pub unhealthy_always_allow: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub enum IntOrPercent {
    Int(i64),
    Percent(i64),
}
