//! `EC2NodeClass` (karpenter.k8s.aws/v1): only the fields that change what an instance type offers
//! (aws-instance-model.md §1.4), with its capacity reservations (`spec.capacityReservationSelectorTerms`
//! and, in a snapshot, `status.capacityReservations`). Other spec fields (subnets, role, tags, ...)
//! are accepted unread; the `kubelet` block is strict because a typo there silently changes
//! allocatable.

use super::value::{Node, parse_timestamp};
use crate::error::Result;
use crate::labels::Sym;
use crate::model::{AmiFamily, BlockDeviceMapping, CapacityReservation, KubeletConfig, NodeClass, ReservationSelectorTerm, ReservationType};
use crate::resources::Resources;
use std::collections::BTreeMap;

const KUBELET_FIELDS: &[&str] = &[
    "maxPods", "podsPerCore", "kubeReserved", "systemReserved", "evictionHard", "evictionSoft",
    "evictionSoftGracePeriod", "evictionMaxPodGracePeriod", "imageGCHighThresholdPercent",
    "imageGCLowThresholdPercent", "cpuCFSQuota", "clusterDNS",
];
const RESERVED_KEYS: &[&str] = &["cpu", "memory", "ephemeral-storage", "pid"];
const EVICTION_KEYS: &[&str] =
    &["memory.available", "nodefs.available", "nodefs.inodesFree", "imagefs.available", "imagefs.inodesFree", "pid.available"];

/// Returns the node class and, when the AMI family had to be assumed, a warning.
pub(crate) fn parse_nodeclass(root: &Node, name: &str) -> Result<(NodeClass, Option<String>)> {
    let spec = root.req("spec")?;
    let mut nc = NodeClass { name: Sym::new(name), ..Default::default() };
    let mut warning = None;
    nc.ami_family = match spec.get("amiFamily")? {
        Some(f) => {
            let s = f.str()?;
            AmiFamily::parse(s).ok_or_else(|| {
                f.err(format!("unknown amiFamily {s:?} (AL2, AL2023, Bottlerocket, Windows2019, Windows2022, Windows2025, Custom)"))
            })?
        }
        None => match alias_family(&spec)? {
            Some(f) => f,
            None => {
                warning = Some(format!("EC2NodeClass {name}: no amiFamily and no amiSelectorTerms alias; assuming AL2023"));
                AmiFamily::AL2023
            }
        },
    };
    if let Some(k) = spec.get("kubelet")? {
        nc.kubelet = parse_kubelet(&k)?;
    }
    for b in spec.opt_arr("blockDeviceMappings")? {
        let volume_size = match b.get("ebs")? {
            Some(ebs) => ebs.get("volumeSize")?.map(|v| v.amount("storage")).transpose()?,
            None => None,
        };
        nc.block_device_mappings.push(BlockDeviceMapping {
            device_name: b.opt_str("deviceName")?.map(str::to_string),
            root_volume: b.opt_bool("rootVolume")?.unwrap_or(false),
            volume_size,
        });
    }
    if let Some(p) = spec.get("instanceStorePolicy")? {
        nc.instance_store_raid0 = match p.str()? {
            "RAID0" => true,
            other => return Err(p.err(format!("unknown instanceStorePolicy {other:?} (RAID0)"))),
        };
    }
    if let Some(terms) = spec.get("capacityReservationSelectorTerms")? {
        let items = terms.arr()?;
        if items.len() > 30 {
            return Err(terms.err("at most 30 capacity reservation selector terms are allowed"));
        }
        nc.capacity_reservation_terms = items.iter().map(parse_reservation_term).collect::<Result<_>>()?;
    }
    if let Some(status) = root.get("status")? {
        nc.capacity_reservations = status.opt_arr("capacityReservations")?.iter().map(parse_status_reservation).collect::<Result<_>>()?;
    }
    Ok((nc, warning))
}

/// `^cr-[0-9a-z]+$`
pub(crate) fn valid_reservation_id(s: &str) -> bool {
    s.strip_prefix("cr-").is_some_and(|r| !r.is_empty() && r.bytes().all(|b| b.is_ascii_digit() || b.is_ascii_lowercase()))
}

fn valid_owner(s: &str) -> bool {
    s.len() == 12 && s.bytes().all(|b| b.is_ascii_digit())
}

fn match_criteria(n: &Node) -> Result<String> {
    match n.str()? {
        c @ ("open" | "targeted") => Ok(c.to_string()),
        other => Err(n.err(format!("unknown instanceMatchCriteria {other:?} (open, targeted)"))),
    }
}

/// One `capacityReservationSelectorTerms` entry, with the CRD's rules: at least one of `tags`, `id`,
/// `instanceMatchCriteria`; `id` alone.
fn parse_reservation_term(n: &Node) -> Result<ReservationSelectorTerm> {
    n.check_fields(&["tags", "id", "ownerID", "instanceMatchCriteria"])?;
    let mut t = ReservationSelectorTerm::default();
    if let Some(id) = n.get("id")? {
        let s = id.str()?;
        if !valid_reservation_id(s) {
            return Err(id.err(format!("invalid capacity reservation id {s:?} (cr- followed by lowercase letters and digits)")));
        }
        t.id = Some(s.to_string());
    }
    t.tags = n.opt_string_map("tags")?;
    if t.tags.iter().any(|(k, v)| k.is_empty() || v.is_empty()) {
        return Err(n.req("tags")?.err("empty tag keys or values aren't supported"));
    }
    if let Some(o) = n.get("ownerID")? {
        let s = o.str()?;
        if !valid_owner(s) {
            return Err(o.err(format!("invalid ownerID {s:?} (a 12-digit AWS account id)")));
        }
        t.owner_id = Some(s.to_string());
    }
    if let Some(m) = n.get("instanceMatchCriteria")? {
        t.instance_match_criteria = Some(match_criteria(&m)?);
    }
    if t.id.is_none() && t.tags.is_empty() && t.instance_match_criteria.is_none() {
        return Err(n.err("expected at least one, got none, ['tags', 'id', 'instanceMatchCriteria']"));
    }
    if t.id.is_some() && (!t.tags.is_empty() || t.owner_id.is_some() || t.instance_match_criteria.is_some()) {
        return Err(n.err("'id' is mutually exclusive, cannot be set along with other fields in a capacity reservation selector term"));
    }
    Ok(t)
}

/// One `status.capacityReservations` entry (`ec2nodeclass_status.go: CapacityReservation`). Its
/// count of available instances is not part of the status: the user gives it.
fn parse_status_reservation(n: &Node) -> Result<CapacityReservation> {
    n.check_fields(&["availabilityZone", "endTime", "id", "instanceMatchCriteria", "instanceType", "ownerID", "reservationType", "interruptible", "state"])?;
    let id_node = n.req("id")?;
    let id = id_node.str()?;
    if !valid_reservation_id(id) {
        return Err(id_node.err(format!("invalid capacity reservation id {id:?}")));
    }
    let reservation_type = match n.get("reservationType")? {
        None => ReservationType::Default,
        Some(t) => {
            let s = t.str()?;
            ReservationType::parse(s).ok_or_else(|| t.err(format!("unknown reservationType {s:?} (default, capacity-block)")))?
        }
    };
    let expiring = match n.get("state")? {
        None => false,
        Some(st) => match st.str()? {
            "active" => false,
            "expiring" => true,
            other => return Err(st.err(format!("unknown state {other:?} (active, expiring)"))),
        },
    };
    Ok(CapacityReservation {
        id: Sym::new(id),
        instance_type: Sym::new(n.req("instanceType")?.str()?),
        zone: Sym::new(n.req("availabilityZone")?.str()?),
        reservation_type,
        interruptible: n.opt_bool("interruptible")?.unwrap_or(false),
        end_time: n.get("endTime")?.map(|t| parse_timestamp(&t)).transpose()?,
        expiring,
        owner_id: n.opt_str("ownerID")?.map(str::to_string),
        instance_match_criteria: n.get("instanceMatchCriteria")?.map(|m| match_criteria(&m)).transpose()?,
        tags: BTreeMap::new(),
        count: None,
    })
}

/// `amiSelectorTerms: [{alias: al2023@latest}]` names the family (`<family>@<version>`).
fn alias_family(spec: &Node) -> Result<Option<AmiFamily>> {
    for t in spec.opt_arr("amiSelectorTerms")? {
        if let Some(a) = t.get("alias")? {
            let s = a.str()?;
            let family = s.split('@').next().unwrap_or("");
            return Ok(Some(match family {
                "al2023" => AmiFamily::AL2023,
                "al2" => AmiFamily::AL2,
                "bottlerocket" => AmiFamily::Bottlerocket,
                "windows2019" => AmiFamily::Windows2019,
                "windows2022" => AmiFamily::Windows2022,
                "windows2025" => AmiFamily::Windows2025,
                _ => return Err(a.err(format!("unknown AMI alias {s:?} (al2023@…, al2@…, bottlerocket@…, windows2019/2022/2025@…)"))),
            }));
        }
    }
    Ok(None)
}

fn parse_kubelet(k: &Node) -> Result<KubeletConfig> {
    k.check_fields(KUBELET_FIELDS)?;
    let mut out = KubeletConfig {
        max_pods: k.get("maxPods")?.map(|n| n.i64_in(0, 1_000_000)).transpose()?,
        pods_per_core: k.get("podsPerCore")?.map(|n| n.i64_in(0, 1_000_000)).transpose()?,
        ..Default::default()
    };
    out.kube_reserved = k.get("kubeReserved")?.map(|n| reserved(&n)).transpose()?;
    out.system_reserved = k.get("systemReserved")?.map(|n| reserved(&n)).transpose()?;
    out.eviction_hard = k.get("evictionHard")?.map(|n| eviction(&n)).transpose()?.unwrap_or_default();
    out.eviction_soft = k.get("evictionSoft")?.map(|n| eviction(&n)).transpose()?.unwrap_or_default();
    Ok(out)
}

/// kube/systemReserved: `cpu`, `memory`, `ephemeral-storage`, `pid`. `pid` is validated but not kept:
/// it is not a schedulable resource and does not change allocatable.
fn reserved(n: &Node) -> Result<Resources> {
    n.check_fields(RESERVED_KEYS)?;
    let mut r = Resources::new();
    for (k, v) in n.entries()? {
        let amount = v.amount(k)?;
        if k != "pid" {
            r.set(k, amount);
        }
    }
    Ok(r)
}

/// Eviction thresholds: a quantity (`"100Mi"`) or a percentage (`"5%"`), kept as written.
fn eviction(n: &Node) -> Result<BTreeMap<String, String>> {
    n.check_fields(EVICTION_KEYS)?;
    let mut out = BTreeMap::new();
    for (k, v) in n.entries()? {
        let s = v.str()?;
        match s.strip_suffix('%') {
            Some(p) => {
                let ok = p.parse::<f64>().is_ok_and(|x| (0.0..=100.0).contains(&x));
                if !ok {
                    return Err(v.err(format!("invalid percentage {s:?}")));
                }
            }
            None => {
                v.amount(if k.starts_with("memory") || k.contains("fs.available") { "memory" } else { "pods" })?;
            }
        }
        out.insert(k.to_string(), s.to_string());
    }
    Ok(out)
}
