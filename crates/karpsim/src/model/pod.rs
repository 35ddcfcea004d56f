use super::{LabelSelector, PodVolumes, Timestamp};
use crate::labels::Sym;
use crate::resources::Resources;
use std::collections::BTreeMap;

/// A pod, with its effective requests already computed as the Kubernetes scheduler does
/// (`max(Σ containers + sidecars, each init container)` plus RuntimeClass overhead; limits stand in for
/// missing requests). `requests.pods` is 0 here: Karpenter adds one pod per pod when it schedules.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Pod {
    pub namespace: Sym,
    pub name: Sym,
    /// Unique id; generated deterministically from namespace/name when the input has none.
    pub uid: Sym,
    pub labels: BTreeMap<Sym, Sym>,
    pub annotations: BTreeMap<String, String>,
    pub owner: Option<OwnerRef>,
    /// `spec.nodeName`: bound to this node.
    pub node_name: Option<Sym>,
    pub requests: Resources,
    pub node_selector: BTreeMap<Sym, Sym>,
    pub affinity: Affinity,
    pub tolerations: Vec<Toleration>,
    pub topology_spread: Vec<TopologySpreadConstraint>,
    pub host_ports: Vec<HostPort>,
    /// `spec.priority` resolved from the PriorityClass (0 by default).
    pub priority: i32,
    pub creation_timestamp: Timestamp,
    pub deletion_timestamp: Option<Timestamp>,
    pub start_time: Option<Timestamp>,
    /// When the pod's last container ended: the latest `status.containerStatuses[*].state.terminated.finishedAt`
    /// of a snapshot pod (`None` when no container has terminated). Read by the trace converter.
    #[serde(default)]
    pub finished_at: Option<Timestamp>,
    pub phase: PodPhase,
    /// Pods whose `status.conditions` say Ready=False are "unhealthy" for PDBs.
    pub ready: bool,
    /// What the pod's PersistentVolumeClaims mean for scheduling (`None`: it has none). Shared by
    /// the replicas of a controller whose claims resolve alike.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub volumes: Option<std::sync::Arc<PodVolumes>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum PodPhase {
    Pending,
    Running,
    Succeeded,
    Failed,
    Unknown,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct OwnerRef {
    pub kind: OwnerKind,
    pub name: Sym,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum OwnerKind {
    ReplicaSet,
    Deployment,
    StatefulSet,
    DaemonSet,
    Job,
    /// A static/mirror pod (owned by its Node).
    Node,
    Other,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Affinity {
    /// `requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms` (OR-ed).
    pub node_required: Vec<NodeSelectorTerm>,
    pub node_preferred: Vec<WeightedNodeSelectorTerm>,
    pub pod_affinity_required: Vec<PodAffinityTerm>,
    pub pod_affinity_preferred: Vec<WeightedPodAffinityTerm>,
    pub pod_anti_affinity_required: Vec<PodAffinityTerm>,
    pub pod_anti_affinity_preferred: Vec<WeightedPodAffinityTerm>,
}

/// One node-selector term: its `matchExpressions` are AND-ed.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct NodeSelectorTerm {
    pub match_expressions: Vec<NodeSelectorRequirement>,
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

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct PodAffinityTerm {
    /// `None` = a missing selector, which selects nothing.
    pub label_selector: Option<LabelSelector>,
    pub namespaces: Vec<Sym>,
    /// `None` = not given; `Some(empty)` selects every namespace.
    pub namespace_selector: Option<LabelSelector>,
    pub topology_key: Sym,
    pub match_label_keys: Vec<Sym>,
    pub mismatch_label_keys: Vec<Sym>,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct WeightedPodAffinityTerm {
    pub weight: i32,
    pub term: PodAffinityTerm,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct TopologySpreadConstraint {
    pub max_skew: i32,
    pub topology_key: Sym,
    pub when_unsatisfiable: UnsatisfiableAction,
    pub label_selector: Option<LabelSelector>,
    pub min_domains: Option<i32>,
    /// Default Honor.
    pub node_affinity_policy: NodeInclusionPolicy,
    /// Default Ignore.
    pub node_taints_policy: NodeInclusionPolicy,
    pub match_label_keys: Vec<Sym>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum UnsatisfiableAction {
    DoNotSchedule,
    ScheduleAnyway,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum NodeInclusionPolicy {
    Honor,
    Ignore,
}

/// A container `hostPort` (`hostIP` empty means 0.0.0.0).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct HostPort {
    pub ip: String,
    pub port: i32,
    pub protocol: String,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Taint {
    pub key: Sym,
    pub value: Sym,
    pub effect: TaintEffect,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
pub enum TaintEffect {
    NoSchedule,
    PreferNoSchedule,
    NoExecute,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Toleration {
    /// Empty key with `Exists` tolerates every taint.
    pub key: Option<Sym>,
    pub operator: TolerationOperator,
    pub value: Option<String>,
    /// `None` tolerates every effect.
    pub effect: Option<TaintEffect>,
    pub toleration_seconds: Option<i64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum TolerationOperator {
    Equal,
    Exists,
    /// Numeric comparison operators (Kubernetes 1.35 `TaintTolerationComparisonOperators`):
    /// the taint's value, parsed as an integer, must be greater / less than the toleration's.
    Gt,
    Lt,
}

impl Pod {
    /// A pending pod with these requests and nothing else: no labels, constraints or owner; its uid
    /// is `namespace/name`. For traces, generated workloads and tests.
    pub fn new(namespace: &str, name: &str, requests: Resources) -> Pod {
        Pod {
            namespace: Sym::new(namespace),
            name: Sym::new(name),
            uid: Sym::new(&format!("{namespace}/{name}")),
            labels: BTreeMap::new(),
            annotations: BTreeMap::new(),
            owner: None,
            node_name: None,
            requests,
            node_selector: BTreeMap::new(),
            affinity: Affinity::default(),
            tolerations: Vec::new(),
            topology_spread: Vec::new(),
            host_ports: Vec::new(),
            priority: 0,
            creation_timestamp: 0,
            deletion_timestamp: None,
            start_time: None,
            finished_at: None,
            phase: PodPhase::Pending,
            ready: true,
            volumes: None,
        }
    }

    pub fn key(&self) -> String {
        format!("{}/{}", self.namespace, self.name)
    }
    pub fn is_daemonset_pod(&self) -> bool {
        self.owner.as_ref().is_some_and(|o| o.kind == OwnerKind::DaemonSet)
    }
    pub fn is_mirror(&self) -> bool {
        self.owner.as_ref().is_some_and(|o| o.kind == OwnerKind::Node)
            || self.annotations.contains_key("kubernetes.io/config.mirror")
    }
    pub fn is_terminal(&self) -> bool {
        matches!(self.phase, PodPhase::Succeeded | PodPhase::Failed)
    }
    pub fn is_terminating(&self) -> bool {
        self.deletion_timestamp.is_some()
    }
    /// Active (`pkg/utils/pod/scheduling.go`): neither terminal nor terminating.
    pub fn is_active(&self) -> bool {
        !self.is_terminal() && !self.is_terminating()
    }
    /// Reschedulable (`pkg/utils/pod/scheduling.go`): must move when its node goes.
    pub fn is_reschedulable(&self) -> bool {
        let sts = self.owner.as_ref().is_some_and(|o| o.kind == OwnerKind::StatefulSet);
        (self.is_active() || (sts && self.is_terminating() && !self.is_terminal()))
            && !self.is_daemonset_pod()
            && !self.is_mirror()
    }
}
