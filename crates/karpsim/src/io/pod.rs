//! PodSpec -> [`Pod`]: effective requests, scheduling constraints, host ports.

use super::node_selector::parse_node_selector_term;
use super::value::{Node, parse_timestamp};
use crate::error::Result;
use crate::labels::{Sym, normalize_key};
use crate::model::{PodAnnotations, Shared};
use crate::model::{
    Affinity, HostPort, LabelSelector, LabelSelectorOperator, LabelSelectorRequirement, NodeInclusionPolicy,
    OwnerKind, OwnerRef, Pod, PodAffinityTerm, PodPhase, Taint,
    TaintEffect, Toleration, TolerationOperator, TopologySpreadConstraint, UnsatisfiableAction,
    WeightedNodeSelectorTerm, WeightedPodAffinityTerm,
};
use crate::resources::{CPU, MEMORY, Resources};
use std::collections::BTreeMap;
use std::sync::LazyLock;

/// Every `PodSpec` field of Kubernetes `core/v1` (through 1.34). Anything else is a typo.
const POD_SPEC_FIELDS: &[&str] = &[
    "activeDeadlineSeconds", "affinity", "automountServiceAccountToken", "containers", "dnsConfig", "dnsPolicy",
    "enableServiceLinks", "ephemeralContainers", "hostAliases", "hostIPC", "hostNetwork", "hostPID", "hostUsers",
    "hostname", "hostnameOverride", "imagePullSecrets", "initContainers", "nodeName", "nodeSelector", "os",
    "overhead", "preemptionPolicy", "priority", "priorityClassName", "readinessGates", "resourceClaims",
    "resources", "restartPolicy", "runtimeClassName", "schedulerName", "schedulingGates", "securityContext",
    "serviceAccount", "serviceAccountName", "setHostnameAsFQDN", "shareProcessNamespace", "subdomain",
    "terminationGracePeriodSeconds", "tolerations", "topologySpreadConstraints", "volumes", "workloadRef",
];

/// Every `Container` field of Kubernetes `core/v1` (through 1.34).
const CONTAINER_FIELDS: &[&str] = &[
    "args", "command", "env", "envFrom", "image", "imagePullPolicy", "lifecycle", "livenessProbe", "name", "ports",
    "readinessProbe", "resizePolicy", "resources", "restartPolicy", "restartPolicyRules", "securityContext",
    "startupProbe", "stdin", "stdinOnce", "terminationMessagePath", "terminationMessagePolicy", "tty",
    "volumeDevices", "volumeMounts", "workingDir",
];

/// References a pod makes to other objects, resolved in `Inputs::finish`.
#[derive(Debug, Clone, Default)]
pub(crate) struct PodRefs {
    pub priority_class: Option<String>,
    /// `spec.priority` was given explicitly (it wins over the class, as after admission).
    pub explicit_priority: bool,
    pub runtime_class: Option<String>,
    /// `spec.overhead` was given (already added; the RuntimeClass is not consulted again).
    pub overhead_given: bool,
    /// The PersistentVolumeClaims its volumes name (resolved into `Pod::volumes` once all is read).
    pub volumes: Vec<super::storage::VolumeRef>,
}

/// Identity and status of a pod, from the object itself or from its controller.
pub(crate) struct PodMeta {
    pub namespace: String,
    pub name: String,
    pub owner: Option<OwnerRef>,
    pub creation_timestamp: i64,
}

/// Build a pod from `metadata` (possibly a template's) and `spec`. `status` is given for snapshot pods.
/// `read_spec` reads the spec: [`parse_spec`], or a file's `SpecMemo` (which reads each distinct
/// spec once).
pub(crate) fn build_pod<'t>(
    meta_node: Option<&Node>,
    spec: &Node<'t>,
    status: Option<&Node>,
    id: PodMeta,
    read_spec: impl FnOnce(&Node<'t>) -> Result<SpecParts>,
) -> Result<(Pod, PodRefs)> {
    let mut labels = BTreeMap::new();
    let mut annotations = BTreeMap::new();
    let mut uid = None;
    let mut deletion_timestamp = None;
    if let Some(m) = meta_node {
        labels = m.opt_sym_label_map("labels")?;
        annotations = m.opt_string_map("annotations")?;
        uid = m.opt_str("uid")?.map(str::to_string);
        deletion_timestamp = m.get("deletionTimestamp")?.map(|n| parse_timestamp(&n)).transpose()?;
    }
    let SpecParts {
        requests,
        host_ports,
        refs,
        priority,
        node_selector,
        affinity,
        tolerations,
        topology_spread,
        node_name,
        scheduling_gated,
        resource_claims,
    } = read_spec(spec)?;
    let mut marked_unschedulable = None;
    let mut nominated_node = None;
    let mut phase = PodPhase::Pending;
    let mut ready = true;
    let mut start_time = None;
    let mut finished_at = None;
    if let Some(st) = status {
        if let Some(p) = st.get("phase")? {
            phase = match p.str()? {
                "Pending" => PodPhase::Pending,
                "Running" => PodPhase::Running,
                "Succeeded" => PodPhase::Succeeded,
                "Failed" => PodPhase::Failed,
                "Unknown" => PodPhase::Unknown,
                other => return Err(p.err(format!("unknown pod phase {other:?}"))),
            };
        }
        start_time = st.get("startTime")?.map(|n| parse_timestamp(&n)).transpose()?;
        ready = !condition_is(st, "Ready", "False")?;
        // `FailedToSchedule`: the PodScheduled condition with reason Unschedulable
        let mut unschedulable = false;
        for c in st.opt_arr("conditions")? {
            if c.opt_str("type")? == Some("PodScheduled") && c.opt_str("reason")? == Some("Unschedulable") {
                unschedulable = true;
            }
        }
        marked_unschedulable = Some(unschedulable);
        nominated_node = st.opt_str("nominatedNodeName")?.filter(|s| !s.is_empty()).map(Sym::new);
        for cs in st.opt_arr("containerStatuses")? {
            let terminated = match cs.get("state")? {
                Some(state) => state.get("terminated")?,
                None => None,
            };
            if let Some(at) = terminated.map(|t| t.get("finishedAt")).transpose()?.flatten() {
                let at = parse_timestamp(&at)?;
                finished_at = Some(finished_at.map_or(at, |f: i64| f.max(at)));
            }
        }
    }

    let uid = uid.unwrap_or_else(|| synthetic_uid(&id.namespace, &id.name));
    let pod = Pod {
        namespace: Sym::new(&id.namespace),
        name: Sym::new(&id.name),
        uid: Sym::new(&uid),
        labels: share(labels, &NO_LABELS),
        annotations: share(PodAnnotations::from(annotations), &NO_ANNOTATIONS),
        owner: id.owner,
        node_name,
        requests,
        node_selector,
        affinity,
        tolerations,
        topology_spread,
        host_ports,
        priority,
        creation_timestamp: id.creation_timestamp,
        deletion_timestamp,
        start_time,
        finished_at,
        phase,
        ready,
        scheduling_gated,
        marked_unschedulable,
        nominated_node,
        resource_claims,
        volumes: None,
    };
    Ok((pod, refs))
}

/// What a pod takes from its `spec`: a function of the spec alone (no metadata, status or name), so
/// that equal specs can share one reading (`io::spec_memo`).
#[derive(Clone)]
pub(crate) struct SpecParts {
    requests: Resources,
    host_ports: Shared<Vec<HostPort>>,
    refs: PodRefs,
    priority: i32,
    node_selector: Shared<BTreeMap<Sym, Sym>>,
    affinity: Shared<Affinity>,
    tolerations: Shared<Vec<Toleration>>,
    topology_spread: Shared<Vec<TopologySpreadConstraint>>,
    node_name: Option<Sym>,
    scheduling_gated: bool,
    resource_claims: bool,
}

/// The node a `PodSpec` binds its pod to (`nodeName`; empty is none).
pub(super) fn spec_node_name(spec: &Node) -> Result<Option<Sym>> {
    Ok(spec.opt_str("nodeName")?.filter(|s| !s.is_empty()).map(Sym::new))
}

impl SpecParts {
    /// These parts for a spec equal to theirs but for its `nodeName`, `node_name` (the only part
    /// `nodeName` decides).
    pub(super) fn with_node_name(mut self, node_name: Option<Sym>) -> SpecParts {
        self.node_name = node_name;
        self
    }
}

/// Read a `PodSpec`.
pub(crate) fn parse_spec(spec: &Node) -> Result<SpecParts> {
    spec.check_fields(POD_SPEC_FIELDS)?;
    let host_network = spec.opt_bool("hostNetwork")?.unwrap_or(false);
    let containers = spec.opt_arr("containers")?;
    if containers.is_empty() {
        return Err(spec.child_err("containers", "a pod needs at least one container"));
    }
    let init_containers = spec.opt_arr("initContainers")?;
    let (mut requests, host_ports) = container_requests(&containers, &init_containers, host_network)?;

    // Pod-level resources (KEP-2837): when set, they replace the aggregated container requests for the
    // resources they list; a pod-level limit without a request defaults the request, as for containers.
    if let Some(r) = spec.get("resources")? {
        r.check_fields(&["limits", "requests", "claims"])?;
        let pod_level = requests_with_limit_default(&r)?;
        for (name, v) in pod_level.iter() {
            if name != CPU && name != MEMORY && !name.starts_with("hugepages-") {
                return Err(r.err(format!("pod-level resources support only cpu, memory and hugepages-*, not {name:?}")));
            }
            requests.set(name, v);
        }
    }
    let mut refs = PodRefs {
        priority_class: spec.opt_str("priorityClassName")?.filter(|s| !s.is_empty()).map(str::to_string),
        runtime_class: spec.opt_str("runtimeClassName")?.filter(|s| !s.is_empty()).map(str::to_string),
        volumes: super::storage::parse_pod_volumes(spec)?,
        ..Default::default()
    };
    // `spec.overhead` is normally written by the RuntimeClass admission controller; a snapshot carries it.
    if let Some(o) = spec.get("overhead")? {
        requests = checked_sum(&requests, &o.resources()?, &o, "the overhead added to the containers' requests")?;
        refs.overhead_given = true;
    }
    let priority = match spec.get("priority")? {
        Some(p) => {
            refs.explicit_priority = true;
            p.i64_in(i64::from(i32::MIN), i64::from(i32::MAX))? as i32
        }
        None => 0,
    };

    let mut node_selector = BTreeMap::new();
    if let Some(n) = spec.get("nodeSelector")? {
        n.each_label(|k, v| {
            node_selector.insert(Sym::new(normalize_key(k)), Sym::new(v));
        })?;
    }
    let affinity = match spec.get("affinity")? {
        Some(a) => parse_affinity(&a)?,
        None => Affinity::default(),
    };
    let tolerations = spec.opt_arr("tolerations")?.iter().map(parse_toleration).collect::<Result<_>>()?;
    let topology_spread = spec.opt_arr("topologySpreadConstraints")?.iter().map(parse_spread).collect::<Result<_>>()?;
    let node_name = spec_node_name(spec)?;

    let scheduling_gated = !spec.opt_arr("schedulingGates")?.is_empty();
    let mut resource_claims = !spec.opt_arr("resourceClaims")?.is_empty();
    for c in containers.iter().chain(&init_containers) {
        if let Some(r) = c.get("resources")? {
            resource_claims |= !r.opt_arr("claims")?.is_empty();
        }
    }
    Ok(SpecParts {
        requests,
        host_ports: share(host_ports, &NO_HOST_PORTS),
        refs,
        priority,
        node_selector: share(node_selector, &NO_LABELS),
        affinity: share(affinity, &NO_AFFINITY),
        tolerations: share(tolerations, &NO_TOLERATIONS),
        topology_spread: share(topology_spread, &NO_SPREAD),
        node_name,
        scheduling_gated,
        resource_claims,
    })
}

// Most pods have no affinity, tolerations, host ports...: every empty part of every pod is one shared
// value, not an allocation per pod (bare Pods are not replicas of one template).
static NO_LABELS: LazyLock<Shared<BTreeMap<Sym, Sym>>> = LazyLock::new(Shared::default);
static NO_ANNOTATIONS: LazyLock<Shared<PodAnnotations>> = LazyLock::new(Shared::default);
static NO_AFFINITY: LazyLock<Shared<Affinity>> = LazyLock::new(Shared::default);
static NO_TOLERATIONS: LazyLock<Shared<Vec<Toleration>>> = LazyLock::new(Shared::default);
static NO_SPREAD: LazyLock<Shared<Vec<TopologySpreadConstraint>>> = LazyLock::new(Shared::default);
static NO_HOST_PORTS: LazyLock<Shared<Vec<HostPort>>> = LazyLock::new(Shared::default);

fn share<T: Default + PartialEq>(value: T, empty: &LazyLock<Shared<T>>) -> Shared<T> {
    if value == T::default() { Shared::clone(empty) } else { Shared::new(value) }
}

/// Whether `status.conditions` has `type` with `status`.
pub(crate) fn condition_is(status: &Node, kind: &str, value: &str) -> Result<bool> {
    for c in status.opt_arr("conditions")? {
        if c.opt_str("type")? == Some(kind) {
            return Ok(c.opt_str("status")? == Some(value));
        }
    }
    Ok(false)
}

/// A deterministic uid for objects that have none (manifests), so runs are reproducible.
pub(crate) fn synthetic_uid(namespace: &str, name: &str) -> String {
    // FNV-1a 64, twice with different offsets, formatted like a UUID.
    let h = |seed: u64| {
        let mut x = seed;
        for b in namespace.bytes().chain([b'/']).chain(name.bytes()) {
            x ^= u64::from(b);
            x = x.wrapping_mul(0x0100_0000_01b3);
        }
        x
    };
    let (a, b) = (h(0xcbf2_9ce4_8422_2325), h(0x84222325_cbf29ce4));
    format!("{:08x}-{:04x}-{:04x}-{:04x}-{:012x}", a >> 32, (a >> 16) & 0xffff, a & 0xffff, b >> 48, b & 0xffff_ffff_ffff)
}

pub(crate) fn sym_map(m: BTreeMap<String, String>) -> BTreeMap<Sym, Sym> {
    m.into_iter().map(|(k, v)| (Sym::new(&k), Sym::new(&v))).collect()
}

/// A container's (or the pod's) `resources`: requests, with each limit standing in for a missing request
/// (Kubernetes API defaulting, `SetDefaults_ResourceRequirements`).
fn requests_with_limit_default(r: &Node) -> Result<Resources> {
    let mut req = match r.get("requests")? {
        Some(n) => n.resources()?,
        None => Resources::new(),
    };
    if let Some(l) = r.get("limits")? {
        let requested: Vec<String> = match r.get("requests")? {
            Some(n) => n.entries()?.into_iter().map(|(k, _)| k.to_string()).collect(),
            None => Vec::new(),
        };
        for (k, n) in l.entries()? {
            let v = n.amount(k)?;
            if !requested.iter().any(|q| q == k) {
                req.set(k, v);
            }
        }
    }
    Ok(req)
}

fn container_resources(c: &Node) -> Result<Resources> {
    c.check_fields(CONTAINER_FIELDS)?;
    c.req("name")?.str()?;
    match c.get("resources")? {
        Some(r) => {
            r.check_fields(&["limits", "requests", "claims"])?;
            requests_with_limit_default(&r)
        }
        None => Ok(Resources::new()),
    }
}

/// `a + b` for a sum of the user's requests; an amount past karpsim's integer range is an error at `at`.
pub(crate) fn checked_sum(a: &Resources, b: &Resources, at: &Node, what: &str) -> Result<Resources> {
    a.checked_add(b).map_err(|k| at.err(format!("{what} add up to more {k} than karpsim can hold (at most {})", crate::resources::max_amount_text(k))))
}

/// Effective pod requests as `component-helpers/resource.PodRequests` computes them:
/// `max(Σ containers + Σ sidecars, max_i(init_i + Σ sidecars started before i))`, where a sidecar is an
/// init container with `restartPolicy: Always` (KEP-753). Also collects host ports of `containers`.
fn container_requests(containers: &[Node], init: &[Node], host_network: bool) -> Result<(Resources, Vec<HostPort>)> {
    let mut sum = Resources::new();
    let mut host_ports = Vec::new();
    for c in containers {
        sum = checked_sum(&sum, &container_resources(c)?, c, "the requests of this container and the ones before it")?;
        if let Some(rp) = c.get("restartPolicy")? {
            return Err(rp.err("restartPolicy is only allowed on init containers"));
        }
        for p in c.opt_arr("ports")? {
            p.check_fields(&["containerPort", "hostPort", "hostIP", "name", "protocol"])?;
            let container_port = p.req("containerPort")?.i64_in(1, 65535)? as i32;
            // With hostNetwork the API defaults hostPort to containerPort.
            let host_port = match p.get("hostPort")? {
                Some(h) => h.i64_in(0, 65535)? as i32,
                None if host_network => container_port,
                None => 0,
            };
            if host_port > 0 {
                let protocol = p.opt_str("protocol")?.unwrap_or("TCP");
                if !matches!(protocol, "TCP" | "UDP" | "SCTP") {
                    return Err(p.req("protocol")?.err(format!("unknown protocol {protocol:?} (TCP, UDP or SCTP)")));
                }
                host_ports.push(HostPort {
                    ip: p.opt_str("hostIP")?.unwrap_or("").to_string(),
                    port: host_port,
                    protocol: protocol.to_string(),
                });
            }
        }
    }
    let mut sidecars = Resources::new();
    let mut init_max = Resources::new();
    for c in init {
        let r = container_resources(c)?;
        let restartable = match c.get("restartPolicy")? {
            None => false,
            Some(p) => match p.str()? {
                "Always" => true,
                other => return Err(p.err(format!("init container restartPolicy must be Always, not {other:?}"))),
            },
        };
        if restartable {
            sum = checked_sum(&sum, &r, c, "the requests of the containers and this sidecar")?;
            sidecars = checked_sum(&sidecars, &r, c, "the requests of this sidecar and the ones before it")?;
            init_max = init_max.max(&sidecars);
        } else {
            init_max = init_max.max(&checked_sum(&r, &sidecars, c, "the requests of this init container and the sidecars before it")?);
        }
    }
    Ok((sum.max(&init_max), host_ports))
}

fn weight(n: &Node) -> Result<i32> {
    Ok(n.req("weight")?.i64_in(1, 100)? as i32)
}

pub(crate) fn parse_label_selector(n: &Node) -> Result<LabelSelector> {
    n.check_fields(&["matchLabels", "matchExpressions"])?;
    let match_labels = n.opt_sym_label_map("matchLabels")?;
    let mut match_expressions = Vec::new();
    for e in n.opt_arr("matchExpressions")? {
        e.check_fields(&["key", "operator", "values"])?;
        let op_node = e.req("operator")?;
        let operator = match op_node.str()? {
            "In" => LabelSelectorOperator::In,
            "NotIn" => LabelSelectorOperator::NotIn,
            "Exists" => LabelSelectorOperator::Exists,
            "DoesNotExist" => LabelSelectorOperator::DoesNotExist,
            other => return Err(op_node.err(format!("unknown operator {other:?} (In, NotIn, Exists, DoesNotExist)"))),
        };
        let values: Vec<Sym> = e.opt_label_values("values")?.into_iter().map(Sym::new).collect();
        let needs_values = matches!(operator, LabelSelectorOperator::In | LabelSelectorOperator::NotIn);
        if needs_values == values.is_empty() {
            let what = if needs_values { "needs at least one value" } else { "takes no values" };
            return Err(e.err(format!("operator {} {what}", op_node.str()?)));
        }
        match_expressions.push(LabelSelectorRequirement { key: Sym::new(e.req("key")?.label_key()?), operator, values });
    }
    Ok(LabelSelector { match_labels, match_expressions })
}

fn parse_pod_affinity_term(n: &Node) -> Result<PodAffinityTerm> {
    n.check_fields(&["labelSelector", "namespaces", "namespaceSelector", "topologyKey", "matchLabelKeys", "mismatchLabelKeys"])?;
    let topology_key = n.req("topologyKey")?.str()?;
    if topology_key.is_empty() {
        return Err(n.req("topologyKey")?.err("topologyKey must not be empty"));
    }
    n.req("topologyKey")?.label_key()?;
    let syms = |k: &str| -> Result<Vec<Sym>> {
        let names = if k == "namespaces" { n.opt_strs(k)? } else { n.opt_label_keys(k)? };
        Ok(names.iter().map(|s| Sym::new(s)).collect())
    };
    Ok(PodAffinityTerm {
        label_selector: n.get("labelSelector")?.map(|s| parse_label_selector(&s)).transpose()?,
        namespaces: syms("namespaces")?,
        namespace_selector: n.get("namespaceSelector")?.map(|s| parse_label_selector(&s)).transpose()?,
        topology_key: Sym::new(topology_key),
        match_label_keys: syms("matchLabelKeys")?,
        mismatch_label_keys: syms("mismatchLabelKeys")?,
    })
}

const REQUIRED: &str = "requiredDuringSchedulingIgnoredDuringExecution";
const PREFERRED: &str = "preferredDuringSchedulingIgnoredDuringExecution";

fn parse_pod_affinity(n: &Node) -> Result<(Vec<PodAffinityTerm>, Vec<WeightedPodAffinityTerm>)> {
    n.check_fields(&[REQUIRED, PREFERRED])?;
    let required = n.opt_arr(REQUIRED)?.iter().map(parse_pod_affinity_term).collect::<Result<_>>()?;
    let mut preferred = Vec::new();
    for w in n.opt_arr(PREFERRED)? {
        w.check_fields(&["weight", "podAffinityTerm"])?;
        preferred.push(WeightedPodAffinityTerm { weight: weight(&w)?, term: parse_pod_affinity_term(&w.req("podAffinityTerm")?)? });
    }
    Ok((required, preferred))
}

fn parse_affinity(a: &Node) -> Result<Affinity> {
    a.check_fields(&["nodeAffinity", "podAffinity", "podAntiAffinity"])?;
    let mut out = Affinity::default();
    if let Some(na) = a.get("nodeAffinity")? {
        na.check_fields(&[REQUIRED, PREFERRED])?;
        if let Some(r) = na.get(REQUIRED)? {
            r.check_fields(&["nodeSelectorTerms"])?;
            out.node_required = r.opt_arr("nodeSelectorTerms")?.iter().map(parse_node_selector_term).collect::<Result<_>>()?;
            if out.node_required.is_empty() {
                return Err(r.err("nodeSelectorTerms must have at least one term"));
            }
        }
        for w in na.opt_arr(PREFERRED)? {
            w.check_fields(&["weight", "preference"])?;
            out.node_preferred.push(WeightedNodeSelectorTerm { weight: weight(&w)?, term: parse_node_selector_term(&w.req("preference")?)? });
        }
    }
    if let Some(pa) = a.get("podAffinity")? {
        (out.pod_affinity_required, out.pod_affinity_preferred) = parse_pod_affinity(&pa)?;
    }
    if let Some(pa) = a.get("podAntiAffinity")? {
        (out.pod_anti_affinity_required, out.pod_anti_affinity_preferred) = parse_pod_affinity(&pa)?;
    }
    Ok(out)
}

pub(crate) fn parse_effect(n: &Node) -> Result<TaintEffect> {
    Ok(match n.str()? {
        "NoSchedule" => TaintEffect::NoSchedule,
        "PreferNoSchedule" => TaintEffect::PreferNoSchedule,
        "NoExecute" => TaintEffect::NoExecute,
        other => return Err(n.err(format!("unknown taint effect {other:?} (NoSchedule, PreferNoSchedule, NoExecute)"))),
    })
}

/// A `Taint` (Node `spec.taints`, NodePool `taints`/`startupTaints`).
pub(crate) fn parse_taint(n: &Node) -> Result<Taint> {
    n.check_fields(&["key", "value", "effect", "timeAdded"])?;
    let key = n.req("key")?.str()?;
    if key.is_empty() {
        return Err(n.req("key")?.err("taint key must not be empty"));
    }
    // core/v1 `validateTaints`: the key is a label key, the value a label value
    n.req("key")?.label_key()?;
    let value = match n.get("value")? {
        Some(v) => {
            let s = v.str()?;
            crate::names::label_value(s).map_err(|m| v.err(format!("{s:?} {m}")))?;
            s
        }
        None => "",
    };
    Ok(Taint { key: Sym::new(key), value: Sym::new(value), effect: parse_effect(&n.req("effect")?)? })
}

fn parse_toleration(n: &Node) -> Result<Toleration> {
    n.check_fields(&["key", "operator", "value", "effect", "tolerationSeconds"])?;
    // core/v1 `validateTolerations`: a key is a label key, an Equal value a label value
    let key = match n.get("key")? {
        Some(k) if !k.str()?.is_empty() => Some(Sym::new(k.label_key()?)),
        _ => None,
    };
    let operator = match n.get("operator")? {
        None => TolerationOperator::Equal,
        Some(o) => match o.str()? {
            "Equal" | "" => TolerationOperator::Equal,
            "Exists" => TolerationOperator::Exists,
            "Gt" => TolerationOperator::Gt,
            "Lt" => TolerationOperator::Lt,
            other => return Err(o.err(format!("unknown toleration operator {other:?} (Equal, Exists, Gt, Lt)"))),
        },
    };
    let value = n.opt_str("value")?.filter(|v| !v.is_empty()).map(str::to_string);
    // core/v1 `validateTolerations`: an empty key needs Exists; Exists takes no value; Gt/Lt need an integer.
    if key.is_none() && operator != TolerationOperator::Exists {
        return Err(n.err("a toleration without key must use operator Exists"));
    }
    match operator {
        TolerationOperator::Exists if value.is_some() => return Err(n.err("operator Exists takes no value")),
        TolerationOperator::Gt | TolerationOperator::Lt if value.as_deref().and_then(|v| v.parse::<i64>().ok()).is_none() => {
            return Err(n.err("operators Gt and Lt need an integer value"));
        }
        _ => {}
    }
    let effect = match n.get("effect")? {
        Some(e) if e.str()?.is_empty() => None,
        Some(e) => Some(parse_effect(&e)?),
        None => None,
    };
    let toleration_seconds = n.opt_i64("tolerationSeconds")?;
    Ok(Toleration { key, operator, value, effect, toleration_seconds })
}

fn inclusion_policy(n: &Node, key: &str, default: NodeInclusionPolicy) -> Result<NodeInclusionPolicy> {
    Ok(match n.get(key)? {
        None => default,
        Some(p) => match p.str()? {
            "Honor" => NodeInclusionPolicy::Honor,
            "Ignore" => NodeInclusionPolicy::Ignore,
            other => return Err(p.err(format!("unknown policy {other:?} (Honor or Ignore)"))),
        },
    })
}

fn parse_spread(n: &Node) -> Result<TopologySpreadConstraint> {
    n.check_fields(&[
        "maxSkew", "topologyKey", "whenUnsatisfiable", "labelSelector", "minDomains", "nodeAffinityPolicy",
        "nodeTaintsPolicy", "matchLabelKeys",
    ])?;
    let max_skew = n.req("maxSkew")?.i64_in(1, i64::from(i32::MAX))? as i32;
    let topology_key = n.req("topologyKey")?.str()?;
    if topology_key.is_empty() {
        return Err(n.req("topologyKey")?.err("topologyKey must not be empty"));
    }
    n.req("topologyKey")?.label_key()?;
    let wu = n.req("whenUnsatisfiable")?;
    let when_unsatisfiable = match wu.str()? {
        "DoNotSchedule" => UnsatisfiableAction::DoNotSchedule,
        "ScheduleAnyway" => UnsatisfiableAction::ScheduleAnyway,
        other => return Err(wu.err(format!("unknown value {other:?} (DoNotSchedule or ScheduleAnyway)"))),
    };
    let min_domains = match n.get("minDomains")? {
        None => None,
        Some(m) => {
            if when_unsatisfiable != UnsatisfiableAction::DoNotSchedule {
                return Err(m.err("minDomains requires whenUnsatisfiable: DoNotSchedule"));
            }
            Some(m.i64_in(1, i64::from(i32::MAX))? as i32)
        }
    };
    Ok(TopologySpreadConstraint {
        max_skew,
        topology_key: Sym::new(topology_key),
        when_unsatisfiable,
        label_selector: n.get("labelSelector")?.map(|s| parse_label_selector(&s)).transpose()?,
        min_domains,
        node_affinity_policy: inclusion_policy(n, "nodeAffinityPolicy", NodeInclusionPolicy::Honor)?,
        node_taints_policy: inclusion_policy(n, "nodeTaintsPolicy", NodeInclusionPolicy::Ignore)?,
        match_label_keys: n.opt_label_keys("matchLabelKeys")?.iter().map(|s| Sym::new(s)).collect(),
    })
}

/// `metadata.ownerReferences` of a snapshot pod: the controller reference, else the first one.
pub(crate) fn owner_from_refs(meta: &Node) -> Result<Option<OwnerRef>> {
    let refs = meta.opt_arr("ownerReferences")?;
    let mut chosen = None;
    for r in &refs {
        if r.opt_bool("controller")? == Some(true) {
            chosen = Some(*r);
            break;
        }
    }
    let Some(r) = chosen.or_else(|| refs.first().cloned()) else { return Ok(None) };
    Ok(Some(OwnerRef { kind: owner_kind(r.req("kind")?.str()?), name: Sym::new(r.req("name")?.str()?) }))
}

pub(crate) fn owner_kind(kind: &str) -> OwnerKind {
    match kind {
        "ReplicaSet" => OwnerKind::ReplicaSet,
        "Deployment" => OwnerKind::Deployment,
        "StatefulSet" => OwnerKind::StatefulSet,
        "DaemonSet" => OwnerKind::DaemonSet,
        "Job" => OwnerKind::Job,
        "Node" => OwnerKind::Node,
        _ => OwnerKind::Other,
    }
}

#[cfg(test)]
mod tests {
    use super::super::tree::Tree;
    use super::*;
    use serde_json::json;

    fn requests(spec: serde_json::Value) -> Result<Resources> {
        let t = Tree::from(&spec);
        let s = Node::root(&t);
        let id = PodMeta { namespace: "default".into(), name: "p".into(), owner: None, creation_timestamp: 0 };
        build_pod(None, &s, None, id, parse_spec).map(|(p, _)| p.requests)
    }
    fn c(name: &str, cpu: &str, mem: &str) -> serde_json::Value {
        json!({"name": name, "resources": {"requests": {"cpu": cpu, "memory": mem}}})
    }

    #[test]
    fn init_container_bigger_than_the_sum() {
        let r = requests(json!({"containers": [c("a", "100m", "64Mi"), c("b", "100m", "64Mi")],
                                "initContainers": [c("i", "1", "32Mi")]})).unwrap();
        assert_eq!((r.cpu, r.memory), (1000, 128 << 20));
    }

    #[test]
    fn sidecars_add_to_containers_and_to_later_init_containers() {
        let mut sidecar = c("s", "200m", "100Mi");
        sidecar["restartPolicy"] = json!("Always");
        // init i1 (before the sidecar) = 500m; sidecar 200m; init i2 (after) = 400m + 200m = 600m;
        // containers 300m + sidecar 200m = 500m -> 600m.
        let r = requests(json!({"containers": [c("a", "300m", "1Gi")],
                                "initContainers": [c("i1", "500m", "0"), sidecar, c("i2", "400m", "0")]})).unwrap();
        assert_eq!(r.cpu, 600);
        assert_eq!(r.memory, (1 << 30) + (100 << 20));
    }

    #[test]
    fn limits_stand_in_for_missing_requests_and_pod_level_resources_replace() {
        let r = requests(json!({"containers": [{"name": "a", "resources": {"limits": {"cpu": "2", "memory": "1Gi"}, "requests": {"cpu": "1"}}}]})).unwrap();
        assert_eq!((r.cpu, r.memory), (1000, 1 << 30));
        let r = requests(json!({"resources": {"requests": {"cpu": "3"}},
                                "containers": [c("a", "1", "1Gi")]})).unwrap();
        assert_eq!((r.cpu, r.memory), (3000, 1 << 30));
        let r = requests(json!({"overhead": {"cpu": "250m"}, "containers": [c("a", "1", "1Gi")]})).unwrap();
        assert_eq!(r.cpu, 1250);
        assert_eq!(r.pods, 0);
    }

    #[test]
    fn bad_pod_specs() {
        let e = requests(json!({"containers": [c("a", "-1", "1Gi")]})).unwrap_err().to_string();
        assert!(e.contains("containers[0].resources.requests.cpu") && e.contains("negative"), "{e}");
        let e = requests(json!({"containers": [c("a", "1", "1Gi")], "nodeSelectr": {}})).unwrap_err().to_string();
        assert!(e.contains("unknown field \"nodeSelectr\""), "{e}");
        let e = requests(json!({"containers": [{"name": "a", "resourcs": {}}]})).unwrap_err().to_string();
        assert!(e.contains("containers[0].resourcs"), "{e}");
        let e = requests(json!({"containers": []})).unwrap_err().to_string();
        assert!(e.contains("at least one container"), "{e}");
        let e = requests(json!({"containers": [c("a", "1", "1")], "tolerations": [{"key": "k", "operator": "Maybe"}]}))
            .unwrap_err()
            .to_string();
        assert!(e.contains("tolerations[0].operator"), "{e}");
        let e = requests(json!({"containers": [c("a", "1", "1")],
            "affinity": {"nodeAffinity": {REQUIRED: {"nodeSelectorTerms": [{"matchExpressions": [{"key": "k", "operator": "In"}]}]}}}}))
            .unwrap_err()
            .to_string();
        assert!(e.contains("nodeSelectorTerms[0].matchExpressions[0]") && e.contains("at least one value"), "{e}");
    }

    #[test]
    fn scheduling_constraints() {
        let spec = json!({
            "hostNetwork": true,
            "containers": [{"name": "a", "ports": [{"containerPort": 9100}, {"containerPort": 53, "hostPort": 53, "protocol": "UDP"}]}],
            "nodeSelector": {"beta.kubernetes.io/arch": "arm64"},
            "tolerations": [{"operator": "Exists"}],
            "topologySpreadConstraints": [{"maxSkew": 1, "topologyKey": "topology.kubernetes.io/zone",
                "whenUnsatisfiable": "DoNotSchedule", "labelSelector": {"matchLabels": {"app": "x"}}}],
            "affinity": {"podAntiAffinity": {PREFERRED: [{"weight": 10, "podAffinityTerm": {"topologyKey": "kubernetes.io/hostname",
                "labelSelector": {"matchExpressions": [{"key": "app", "operator": "In", "values": ["x"]}]}}}]}}
        });
        let id = PodMeta { namespace: "ns".into(), name: "p".into(), owner: None, creation_timestamp: 0 };
        let (p, _) = build_pod(None, &Node::root(&Tree::from(&spec)), None, id, parse_spec).unwrap();
        assert_eq!(p.host_ports.len(), 2);
        assert_eq!((p.host_ports[0].port, p.host_ports[1].protocol.as_str()), (9100, "UDP"));
        assert_eq!(p.node_selector.get(&Sym::new("kubernetes.io/arch")), Some(&Sym::new("arm64")));
        assert_eq!(p.tolerations[0].operator, TolerationOperator::Exists);
        assert_eq!(p.topology_spread[0].node_taints_policy, NodeInclusionPolicy::Ignore);
        assert_eq!(p.topology_spread[0].node_affinity_policy, NodeInclusionPolicy::Honor);
        assert_eq!(p.affinity.pod_anti_affinity_preferred[0].weight, 10);
        assert_eq!(p.uid, Sym::new(&synthetic_uid("ns", "p")));
    }
}
