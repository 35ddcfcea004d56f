//! What a provisioning run returns. Serialisable; the JSON keys are the CLI's stable output.

use crate::resources::Resources;

/// A NodeClaim Karpenter would create, with the instance it would launch.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct NodeClaimResult {
    pub name: String,
    pub nodepool: String,
    pub instance_type: String,
    pub zone: String,
    pub capacity_type: String,
    pub price_per_hour: f64,
    /// The options written into the NodeClaim, cheapest first, truncated to `max_instance_types`.
    pub instance_type_options: Vec<String>,
    /// `namespace/name`, in the order they were placed.
    pub pods: Vec<String>,
    /// Σ pod requests + the smallest DaemonSet overhead of the remaining options.
    pub requests: Resources,
    pub allocatable: Resources,
    /// The NodeClaim's requirements, e.g. `topology.kubernetes.io/zone In [us-east-1a]`, with
    /// ` minValues N` where one is set.
    pub requirements: Vec<String>,
    /// A minValues was lowered to what the instance types could meet (`--min-values best-effort`;
    /// Karpenter's `karpenter.sh/nodeclaim-min-values-relaxed` annotation).
    pub min_values_relaxed: bool,
    /// The taints the node will carry: its NodePool's (startup taints, which go once the node is
    /// initialized, are not listed), e.g. `dedicated=gpu:NoSchedule`.
    pub taints: Vec<String>,
    /// The capacity reservation it launches into (capacity type `reserved`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reservation_id: Option<String>,
    /// The provisioning batch that created it: 1, or a later one for pods that waited for reserved
    /// capacity held by NodeClaims of an earlier batch.
    #[serde(skip_serializing_if = "is_first_batch", default = "first_batch")]
    pub batch: usize,
}

fn is_first_batch(b: &usize) -> bool {
    *b <= 1
}

/// A result written without `batch` (the first batch) reads back as it was.
fn first_batch() -> usize {
    1
}

/// Pods placed on a node that already exists.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ExistingNodeResult {
    pub name: String,
    pub pods: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Unschedulable {
    pub pod: String,
    pub reason: String,
}

/// A soft constraint that had to be dropped to place a pod (Karpenter's preference relaxation).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Relaxation {
    pub pod: String,
    pub relaxed: Vec<String>,
}

#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ProvisionResult {
    pub nodeclaims: Vec<NodeClaimResult>,
    pub existing_nodes: Vec<ExistingNodeResult>,
    pub unschedulable: Vec<Unschedulable>,
    /// Σ price of the NodeClaims (USD per hour).
    pub cost_per_hour: f64,
    pub relaxations: Vec<Relaxation>,
    pub warnings: Vec<String>,
}
