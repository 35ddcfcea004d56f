use super::{LabelSelector, Shared, NodeSelectorTerm, PodVolumes, Timestamp, WeightedNodeSelectorTerm};
use crate::labels::Sym;
use crate::resources::Resources;
use std::collections::BTreeMap;

/// A pod, with its effective requests already computed as the Kubernetes scheduler does
/// (`max(Σ containers + sidecars, each init container)` plus RuntimeClass overhead; limits stand in for
/// missing requests). `requests.pods` is 0 here: Karpenter adds one pod per pod when it schedules.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
///
/// The parts a controller's replicas have alike ([`Shared`]: labels, annotations, node selector,
/// affinity, tolerations, spread constraints, host ports) are stored once for all of them; they read
/// as plain values and are copied when one pod's is changed.
pub struct Pod {
    pub namespace: Sym,
    pub name: Sym,
    /// Unique id; generated deterministically from namespace/name when the input has none.
    pub uid: Sym,
    pub labels: Shared<BTreeMap<Sym, Sym>>,
    /// Read like a map; written only through [`PodAnnotations::insert`], which keeps the mirror
    /// flag [`Pod::is_mirror`] reads in step with the map.
    pub annotations: Shared<PodAnnotations>,
    pub owner: Option<OwnerRef>,
    /// `spec.nodeName`: bound to this node.
    pub node_name: Option<Sym>,
    pub requests: Resources,
    pub node_selector: Shared<BTreeMap<Sym, Sym>>,
    pub affinity: Shared<Affinity>,
    pub tolerations: Shared<Vec<Toleration>>,
    pub topology_spread: Shared<Vec<TopologySpreadConstraint>>,
    pub host_ports: Shared<Vec<HostPort>>,
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
    /// `spec.schedulingGates` is not empty: kube-scheduler does not try the pod, so it is never
    /// marked unschedulable and Karpenter does not provision it.
    #[serde(default)]
    pub scheduling_gated: bool,
    /// For a pod read with a `status` (a snapshot): whether kube-scheduler has marked it
    /// unschedulable (condition `PodScheduled`, reason `Unschedulable`). `None` when the input gave
    /// no status (a manifest: the pod is taken as one kube-scheduler could not place).
    #[serde(default)]
    pub marked_unschedulable: Option<bool>,
    /// `status.nominatedNodeName`: kube-scheduler nominated a node for it (a preemption under way).
    #[serde(default)]
    pub nominated_node: Option<Sym>,
    /// The pod asks for Dynamic Resource Allocation claims (`spec.resourceClaims`, or `resources.claims`
    /// of a container): `HasDRARequirements`.
    #[serde(default)]
    pub resource_claims: bool,
    /// What the pod's PersistentVolumeClaims mean for scheduling (`None`: it has none). Shared by
    /// the replicas of a controller whose claims resolve alike.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub volumes: Option<std::sync::Arc<PodVolumes>>,
}

/// The annotation that makes a pod a static pod's mirror (`pkg/utils/pod: IsOwnedByNode` also
/// counts a pod owned by its Node).
const MIRROR_ANNOTATION: &str = "kubernetes.io/config.mirror";

/// `karpenter.sh/do-not-disrupt` (on pods and nodes).
pub const DO_NOT_DISRUPT_ANNOTATION: &str = "karpenter.sh/do-not-disrupt";
/// `controller.kubernetes.io/pod-deletion-cost`, read by Karpenter's `EvictionCost`.
pub const DELETION_COST_ANNOTATION: &str = "controller.kubernetes.io/pod-deletion-cost";

/// The annotations whose presence [`PodAnnotations`] keeps as a flag, bit `i` for `FLAGGED[i]`.
const FLAGGED: [&str; 3] = [MIRROR_ANNOTATION, DO_NOT_DISRUPT_ANNOTATION, DELETION_COST_ANNOTATION];

fn flag_of(key: &str) -> u8 {
    FLAGGED.iter().position(|k| *k == key).map_or(0, |i| 1 << i)
}

/// A pod's annotations, with whether they hold the annotations disruption rounds read (the
/// mirror annotation, do-not-disrupt, the deletion cost) worked out when they are written.
/// Disruption rounds ask these of every bound pod, every round; looking each up by string was a
/// twentieth of a 24-hour simulation for the mirror flag alone. The map is private and every write
/// goes through [`PodAnnotations::insert`] (or a constructor), so the flags cannot fall out of
/// step with it (keys are only ever added: there is no removal).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PodAnnotations {
    map: BTreeMap<String, String>,
    /// Bit `i`: `FLAGGED[i]` is a key of `map`.
    flags: u8,
}

impl PodAnnotations {
    pub fn insert(&mut self, key: String, value: String) -> Option<String> {
        self.flags |= flag_of(&key);
        self.map.insert(key, value)
    }
    /// Whether the mirror annotation is present.
    pub fn mirror(&self) -> bool {
        self.flags & 1 != 0
    }
    /// The value of a flagged annotation, looked up only when the flag says it is there.
    fn flagged(&self, bit: u8, key: &str) -> Option<&str> {
        if self.flags & bit == 0 {
            return None;
        }
        self.map.get(key).map(String::as_str)
    }
    /// The `karpenter.sh/do-not-disrupt` value, if any.
    pub fn do_not_disrupt(&self) -> Option<&str> {
        self.flagged(2, DO_NOT_DISRUPT_ANNOTATION)
    }
    /// The `controller.kubernetes.io/pod-deletion-cost` value, if any.
    pub fn deletion_cost(&self) -> Option<&str> {
        self.flagged(4, DELETION_COST_ANNOTATION)
    }
}

impl From<BTreeMap<String, String>> for PodAnnotations {
    fn from(map: BTreeMap<String, String>) -> Self {
        let flags = FLAGGED.iter().enumerate().filter(|(_, k)| map.contains_key(**k)).fold(0, |f, (i, _)| f | 1 << i);
        PodAnnotations { map, flags }
    }
}

impl std::ops::Deref for PodAnnotations {
    type Target = BTreeMap<String, String>;
    fn deref(&self) -> &Self::Target {
        &self.map
    }
}

impl PartialEq<BTreeMap<String, String>> for Shared<PodAnnotations> {
    fn eq(&self, other: &BTreeMap<String, String>) -> bool {
        self.map == *other
    }
}

impl serde::Serialize for PodAnnotations {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.map.serialize(s)
    }
}

impl<'de> serde::Deserialize<'de> for PodAnnotations {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        BTreeMap::deserialize(d).map(PodAnnotations::from)
    }
}

/// Why an unbound pod is not one Karpenter provisions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum NotProvisionable {
    /// `spec.schedulingGates` is set.
    SchedulingGated,
    /// A snapshot pod kube-scheduler has not marked `Unschedulable` (not tried yet, or it may still
    /// place it).
    NotMarkedUnschedulable,
    /// `status.nominatedNodeName` is set: waiting for a preemption.
    Nominated,
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
            labels: Shared::default(),
            annotations: Shared::default(),
            owner: None,
            node_name: None,
            requests,
            node_selector: Shared::default(),
            affinity: Shared::default(),
            tolerations: Shared::default(),
            topology_spread: Shared::default(),
            host_ports: Shared::default(),
            priority: 0,
            creation_timestamp: 0,
            deletion_timestamp: None,
            start_time: None,
            finished_at: None,
            phase: PodPhase::Pending,
            ready: true,
            scheduling_gated: false,
            marked_unschedulable: None,
            nominated_node: None,
            resource_claims: false,
            volumes: None,
        }
    }

    /// `namespace/name`. Built by hand rather than with `format!`: results write one per pod.
    pub fn key(&self) -> String {
        let (ns, name) = (self.namespace.as_str(), self.name.as_str());
        let mut key = String::with_capacity(ns.len() + 1 + name.len());
        key.push_str(ns);
        key.push('/');
        key.push_str(name);
        key
    }
    pub fn is_daemonset_pod(&self) -> bool {
        self.owner.as_ref().is_some_and(|o| o.kind == OwnerKind::DaemonSet)
    }
    pub fn is_mirror(&self) -> bool {
        self.owner.as_ref().is_some_and(|o| o.kind == OwnerKind::Node) || self.annotations.mirror()
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
    /// Why Karpenter would not provision this unbound, active pod (`pkg/utils/pod/scheduling.go:
    /// IsProvisionable`: kube-scheduler must have marked it `Unschedulable`, and not nominated a
    /// node for it), or `None` when it would.
    pub fn not_provisionable(&self) -> Option<NotProvisionable> {
        if self.scheduling_gated {
            Some(NotProvisionable::SchedulingGated)
        } else if self.nominated_node.is_some() {
            Some(NotProvisionable::Nominated)
        } else if self.marked_unschedulable == Some(false) {
            Some(NotProvisionable::NotMarkedUnschedulable)
        } else {
            None
        }
    }
    /// Reschedulable (`pkg/utils/pod/scheduling.go`): must move when its node goes.
    pub fn is_reschedulable(&self) -> bool {
        let sts = self.owner.as_ref().is_some_and(|o| o.kind == OwnerKind::StatefulSet);
        (self.is_active() || (sts && self.is_terminating() && !self.is_terminal()))
            && !self.is_daemonset_pod()
            && !self.is_mirror()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A pod is a mirror pod however its annotation arrived: read with it, or written later (the
    /// flag `is_mirror` reads is kept by the one write path), and a shared annotation map edited
    /// for one pod leaves its sibling as it was.
    #[test]
    fn a_mirror_annotation_makes_a_mirror_pod_however_it_is_written() {
        let read = PodAnnotations::from(BTreeMap::from([(MIRROR_ANNOTATION.to_string(), "x".to_string())]));
        assert!(read.mirror());
        let mut plain = Pod::new("kube-system", "etcd", Resources::new());
        let sibling = plain.clone();
        assert!(!plain.is_mirror() && plain.is_reschedulable());
        plain.annotations.insert("example.com/other".into(), "y".into());
        assert!(!plain.is_mirror());
        plain.annotations.insert(MIRROR_ANNOTATION.into(), "x".into());
        assert!(plain.is_mirror() && !plain.is_reschedulable());
        assert!(!sibling.is_mirror());
        let round_trip: PodAnnotations = serde_json::from_str(&serde_json::to_string(&*plain.annotations).unwrap()).unwrap();
        assert!(round_trip.mirror());
        for (i, key) in FLAGGED.iter().enumerate() {
            assert_eq!(flag_of(key), 1 << i, "{key}: the accessors' bits follow FLAGGED");
        }
        assert_eq!(plain.annotations, BTreeMap::from([
            ("example.com/other".to_string(), "y".to_string()),
            (MIRROR_ANNOTATION.to_string(), "x".to_string()),
        ]));
    }
}
