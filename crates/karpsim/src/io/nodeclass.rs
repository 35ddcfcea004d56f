//! `EC2NodeClass` (karpenter.k8s.aws/v1): only the fields that change what an instance type offers
//! (aws-instance-model.md §1.4). Other spec fields (subnets, role, tags, ...) are accepted unread; the
//! `kubelet` block is strict because a typo there silently changes allocatable.

use super::value::Node;
use crate::error::Result;
use crate::labels::Sym;
use crate::model::{AmiFamily, BlockDeviceMapping, KubeletConfig, NodeClass};
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
    Ok((nc, warning))
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
