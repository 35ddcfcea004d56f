use crate::labels::Sym;
use std::collections::BTreeMap;

/// A Kubernetes `LabelSelector` (`matchLabels` and `matchExpressions`).
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct LabelSelector {
    pub match_labels: BTreeMap<Sym, Sym>,
    pub match_expressions: Vec<LabelSelectorRequirement>,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct LabelSelectorRequirement {
    pub key: Sym,
    pub operator: LabelSelectorOperator,
    pub values: Vec<Sym>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum LabelSelectorOperator {
    In,
    NotIn,
    Exists,
    DoesNotExist,
}

impl LabelSelector {
    /// Whether the selector selects a set of labels. An empty selector selects everything, as in
    /// Kubernetes (a *missing* selector, which selects nothing, is an `Option::None` at the use site).
    pub fn matches(&self, labels: &BTreeMap<Sym, Sym>) -> bool {
        self.match_labels.iter().all(|(k, v)| labels.get(k) == Some(v))
            && self.match_expressions.iter().all(|e| {
                let got = labels.get(&e.key);
                match e.operator {
                    LabelSelectorOperator::In => got.is_some_and(|v| e.values.contains(v)),
                    LabelSelectorOperator::NotIn => got.is_none_or(|v| !e.values.contains(v)),
                    LabelSelectorOperator::Exists => got.is_some(),
                    LabelSelectorOperator::DoesNotExist => got.is_none(),
                }
            })
    }
}

/// One node-selector term: its `matchExpressions` are AND-ed.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct NodeSelectorTerm {
    pub match_expressions: Vec<NodeSelectorRequirement>,
    /// The term has `matchFields` (the DaemonSet controller's pin to a node name): not modelled,
    /// and a pending pod with it in a required term is one Karpenter does not provision.
    #[serde(default)]
    pub match_fields: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct WeightedNodeSelectorTerm {
    pub weight: i32,
    pub term: NodeSelectorTerm,
}

/// `{key, operator, values, minValues}` as written in node selectors and NodePool requirements.
/// The operator is kept as written (`In`, `NotIn`, `Exists`, `DoesNotExist`, `Gt`, `Lt`, `Gte`, `Lte`);
/// [`crate::requirements`] validates and interprets it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct NodeSelectorRequirement {
    pub key: Sym,
    pub operator: String,
    pub values: Vec<String>,
    pub min_values: Option<u32>,
}
