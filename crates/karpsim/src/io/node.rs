//! Cluster objects from a snapshot or manifests: `Node`, `PodDisruptionBudget`, `PriorityClass`,
//! `RuntimeClass`.

use super::pod::{condition_is, parse_label_selector, parse_taint};
use super::value::{Node as V, parse_timestamp};
use crate::error::Result;
use crate::labels::{CAPACITY_TYPE, INSTANCE_TYPE, Sym, ZONE};
use crate::model::{IntOrPercent, Node, PodDisruptionBudget};
use crate::resources::Resources;
use std::collections::BTreeMap;

pub(crate) fn parse_node(root: &V, name: &str) -> Result<Node> {
    let meta = root.req("metadata")?;
    let labels = meta.opt_sym_label_map("labels")?;
    let label = |k: &str| labels.get(&Sym::new(k)).copied();
    let (mut capacity, mut allocatable, mut ready) = (Resources::new(), None, false);
    let mut resources_reported = false;
    let mut observed: Option<i64> = None;
    if let Some(st) = root.get("status")? {
        if let Some(c) = st.get("capacity")? {
            capacity = c.resources()?;
            resources_reported = true;
        }
        allocatable = st.get("allocatable")?.map(|a| a.resources()).transpose()?;
        resources_reported |= allocatable.is_some();
        ready = condition_is(&st, "Ready", "True")?;
        // the kubelet's latest heartbeat tells when the snapshot was taken
        for c in st.opt_arr("conditions")? {
            for key in ["lastHeartbeatTime", "lastTransitionTime"] {
                if let Some(t) = c.get(key)? {
                    let t = super::value::parse_timestamp(&t)?;
                    observed = Some(observed.map_or(t, |o: i64| o.max(t)));
                }
            }
        }
    }
    let (taints, provider_id) = match root.get("spec")? {
        Some(s) => (
            s.opt_arr("taints")?.iter().map(parse_taint).collect::<Result<_>>()?,
            s.opt_str("providerID")?.filter(|p| !p.is_empty()).map(str::to_string),
        ),
        None => (Vec::new(), None),
    };
    let nodepool = label("karpenter.sh/nodepool");
    // Karpenter marks its nodes initialized with a label once Ready and startup taints are gone;
    // a node Karpenter does not manage is as good as initialized once Ready.
    let initialized = match label("karpenter.sh/initialized") {
        Some(v) => v.as_str() == "true",
        None => nodepool.is_none() && ready,
    };
    Ok(Node {
        name: Sym::new(name),
        annotations: meta.opt_string_map("annotations")?,
        taints,
        allocatable: allocatable.unwrap_or_else(|| capacity.clone()),
        capacity,
        resources_reported,
        has_nodeclaim: false,
        nodepool,
        instance_type: label(INSTANCE_TYPE.as_str()),
        zone: label(ZONE.as_str()),
        capacity_type: label(CAPACITY_TYPE.as_str()),
        creation_timestamp: meta.get("creationTimestamp")?.map(|n| parse_timestamp(&n)).transpose()?.unwrap_or(0),
        initialized,
        ready,
        deletion_timestamp: meta.get("deletionTimestamp")?.map(|n| parse_timestamp(&n)).transpose()?,
        last_pod_event: None,
        observed,
        price: None,
        labels: labels.into(),
        provider_id,
        volume_limits: BTreeMap::new(),
    })
}

/// Set a node's labels and the fields read from them (NodePool, instance type, zone, capacity type).
pub(crate) fn set_labels(n: &mut Node, labels: BTreeMap<Sym, Sym>) {
    let label = |k: &str| labels.get(&Sym::new(k)).copied();
    n.nodepool = label("karpenter.sh/nodepool");
    n.instance_type = label(INSTANCE_TYPE.as_str());
    n.zone = label(ZONE.as_str());
    n.capacity_type = label(CAPACITY_TYPE.as_str());
    n.labels = labels.into();
}

fn int_or_percent(n: &V) -> Result<IntOrPercent> {
    match n.v {
        super::tree::Tree::Str(s) => match s.strip_suffix('%').map(str::parse::<i64>) {
            Some(Ok(p)) if (0..=100).contains(&p) => Ok(IntOrPercent::Percent(p)),
            None => match s.parse::<i64>() {
                Ok(i) if i >= 0 => Ok(IntOrPercent::Int(i)),
                _ => Err(n.err(format!("invalid value {s:?} (an integer or a percentage like \"50%\")"))),
            },
            _ => Err(n.err(format!("invalid percentage {s:?}"))),
        },
        _ => Ok(IntOrPercent::Int(n.i64_in(0, i64::from(i32::MAX))?)),
    }
}

pub(crate) fn parse_pdb(root: &V, namespace: &str, name: &str) -> Result<PodDisruptionBudget> {
    let spec = root.req("spec")?;
    spec.check_fields(&["selector", "minAvailable", "maxUnavailable", "unhealthyPodEvictionPolicy"])?;
    let min_available = spec.get("minAvailable")?.map(|n| int_or_percent(&n)).transpose()?;
    let max_unavailable = spec.get("maxUnavailable")?.map(|n| int_or_percent(&n)).transpose()?;
    if min_available.is_some() && max_unavailable.is_some() {
        return Err(spec.err("minAvailable and maxUnavailable cannot both be set"));
    }
    let unhealthy_always_allow = match spec.get("unhealthyPodEvictionPolicy")? {
        None => false,
        Some(p) => match p.str()? {
            "AlwaysAllow" => true,
            "IfHealthyBudget" => false,
            other => return Err(p.err(format!("unknown policy {other:?} (IfHealthyBudget or AlwaysAllow)"))),
        },
    };
    Ok(PodDisruptionBudget {
        namespace: Sym::new(namespace),
        name: Sym::new(name),
        selector: spec.get("selector")?.map(|s| parse_label_selector(&s)).transpose()?,
        min_available,
        max_unavailable,
        unhealthy_always_allow,
    })
}

/// `PriorityClass`: `(value, globalDefault)`. Values above 1e9 are reserved for system classes.
pub(crate) fn parse_priority_class(root: &V) -> Result<(i32, bool)> {
    let value = root.req("value")?.i64_in(i64::from(i32::MIN), 2_000_001_000)? as i32;
    Ok((value, root.opt_bool("globalDefault")?.unwrap_or(false)))
}

/// `RuntimeClass` `overhead.podFixed` (node.k8s.io/v1).
pub(crate) fn parse_runtime_class(root: &V) -> Result<Resources> {
    match root.get("overhead")? {
        Some(o) => match o.get("podFixed")? {
            Some(p) => p.resources(),
            None => Ok(Resources::new()),
        },
        None => Ok(Resources::new()),
    }
}
