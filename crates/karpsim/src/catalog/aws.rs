//! AWS instance types from the embedded EC2 data, derived as Karpenter's AWS provider does
//! (`pkg/providers/instancetype/types.go`), following aws-instance-model.md §3–§8.
//!
//! Integer arithmetic throughout except the three f64 steps Karpenter has, reproduced exactly: the VM
//! memory overhead `ceil`, the per-range kube-reserved CPU truncation and percentage eviction `ceil`.
//!
//! Reserved offerings come from the NodeClass's capacity reservations ([`super::reservations`]).
//! Not modelled: NodeClass `networkInterfaces` (EFA-only interfaces), discovered memory capacity
//! (§9), ICE caching and zonal shifts.

use super::aws_labels::{RegionValues, base_labels, os_labels};
use super::aws_record::AwsRecord;
use super::reservations::{TypeSite, reserved_offerings, sort_offerings};
use super::{Catalog, InstanceType, Offering, Overhead, PricePolicy, PriceSource, allocatable};
use crate::error::{Error, Location, Result};
use crate::labels::{CAPACITY_TYPE_ON_DEMAND, CAPACITY_TYPE_SPOT, Sym};
use crate::model::{AmiFamily, NodeClass};
use crate::resources::{Resources, parse_amount};
use std::borrow::Cow;
use std::collections::BTreeMap;
use std::sync::{Arc, LazyLock};

const MI: i64 = 1 << 20;
const GI: i64 = 1 << 30;

/// Karpenter operator options that change instance types (`pkg/operator/options/options.go`).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AwsOptions {
    /// `VM_MEMORY_OVERHEAD_PERCENT`: fraction of memory lost to the hypervisor (default 0.075).
    pub vm_memory_overhead_percent: f64,
    /// `RESERVED_ENIS`: ENIs pods cannot use (default 0). Lowers max pods but not the AL2/AL2023
    /// kube-reserved memory.
    pub reserved_enis: i64,
}

impl Default for AwsOptions {
    fn default() -> Self {
        AwsOptions { vm_memory_overhead_percent: 0.075, reserved_enis: 0 }
    }
}

impl AwsOptions {
    pub fn validate(&self) -> Result<()> {
        let p = self.vm_memory_overhead_percent;
        if !(p.is_finite() && (0.0..1.0).contains(&p)) {
            return Err(Error::Option {
                option: "vm_memory_overhead_percent".into(),
                message: format!("must be a fraction in [0, 1), got {p}"),
            });
        }
        if self.reserved_enis < 0 {
            return Err(Error::Option {
                option: "reserved_enis".into(),
                message: format!("must be >= 0, got {}", self.reserved_enis),
            });
        }
        Ok(())
    }
}

#[derive(Debug, Clone, serde::Deserialize)]
struct ZoneHeader {
    name: String,
    zone_id: Option<String>,
}

#[derive(Debug, serde::Deserialize)]
struct RegionFile {
    region: String,
    zones: Vec<ZoneHeader>,
    instance_types: Vec<AwsRecord>,
}

/// What does not depend on the NodeClass, computed once per region for the record at the same
/// index of [`AwsRegionData`]'s records.
#[derive(Debug)]
struct Prepared {
    /// The type's name, interned (it is also its `node.kubernetes.io/instance-type` label).
    name: Sym,
    labels: Vec<(Sym, Option<Sym>)>,
    /// Sorted and unique; shared by the types whose records share the list.
    zones: Arc<[Sym]>,
    /// Sorted and unique, on-demand and spot only; shared as `zones` is.
    capacity_types: Arc<[Sym]>,
}

/// A record's list of strings (zones, capacity types) as sorted unique symbols, made once per
/// distinct list: the generated statics store each distinct list once (`build.rs`), so records
/// that share one borrow the same place, and the result is shared by address (types share a
/// handful of zone lists and fewer capacity-type lists).
#[derive(Default)]
struct SymLists(rustc_hash::FxHashMap<(usize, usize), Arc<[Sym]>>);

impl SymLists {
    // the Cow itself, not a slice: only a borrowed (static) list may be keyed by its address; an
    // owned one's address can be reused once it is freed
    #[allow(clippy::ptr_arg)]
    fn get(&mut self, list: &Cow<'static, [Cow<'static, str>]>, keep: impl Fn(&str) -> bool, values: &mut RegionValues) -> Arc<[Sym]> {
        let make = |values: &mut RegionValues| -> Arc<[Sym]> {
            let mut syms: Vec<Sym> = list.iter().filter(|v| keep(v)).map(|v| values.text(v)).collect();
            syms.sort();
            syms.dedup();
            syms.into()
        };
        match list {
            Cow::Borrowed(b) => {
                let at = (b.as_ptr() as usize, b.len());
                if let Some(l) = self.0.get(&at) {
                    return Arc::clone(l);
                }
                let l = make(values);
                self.0.insert(at, Arc::clone(&l));
                l
            }
            Cow::Owned(_) => make(values),
        }
    }
}

/// A regional catalog, shared by every resolution.
#[derive(Debug)]
pub struct AwsRegionData {
    region: Sym,
    zone_ids: BTreeMap<Sym, Sym>,
    /// Sorted by name. Read from the statics generated at build time (their strings and lists
    /// borrowed) or parsed from JSON.
    records: Cow<'static, [AwsRecord]>,
    /// One per record, in the same order.
    types: Vec<Prepared>,
}

impl AwsRegionData {
    /// Parse a `karpsim.aws-instance-catalog/v1` file (`name` is used in error messages).
    pub fn parse(name: &str, json: &str) -> Result<AwsRegionData> {
        let file: RegionFile =
            serde_json::from_str(json).map_err(|e| Error::catalog(name, format!("malformed catalog: {e}")))?;
        let zones = file.zones.iter().map(|z| (z.name.as_str(), z.zone_id.as_deref()));
        Ok(Self::new(&file.region, zones, Cow::Owned(file.instance_types)))
    }

    /// A region's data from its zones (`(name, zone id)`) and records.
    pub(crate) fn new<'z>(
        region: &str,
        zones: impl Iterator<Item = (&'z str, Option<&'z str>)>,
        mut records: Cow<'static, [AwsRecord]>,
    ) -> AwsRegionData {
        let region = Sym::new(region);
        let zone_ids = zones.filter_map(|(name, id)| id.map(|id| (Sym::new(name), Sym::new(id)))).collect();
        // (the generated statics are already in this order: then this is one pass, no copy)
        if !records.is_sorted_by(|a, b| a.name <= b.name) {
            records.to_mut().sort_by(|a, b| a.name.cmp(&b.name));
        }
        let mut values = RegionValues::default();
        let (mut zone_lists, mut capacity_type_lists) = (SymLists::default(), SymLists::default());
        let types: Vec<Prepared> = records
            .iter()
            .map(|rec| {
                // sorted once here; each resolution then only inserts the two OS labels
                let labels = base_labels(rec, region, &mut values);
                let it_key = *crate::labels::INSTANCE_TYPE;
                let name = labels.iter().find(|l| l.0 == it_key).and_then(|l| l.1).unwrap_or_else(|| Sym::new(&rec.name));
                let zones = zone_lists.get(&rec.zones, |_| true, &mut values);
                // Karpenter keeps SupportedUsageClasses ∩ {on-demand, spot}.
                let capacity_types =
                    capacity_type_lists.get(&rec.capacity_types, |c| c == CAPACITY_TYPE_ON_DEMAND || c == CAPACITY_TYPE_SPOT, &mut values);
                Prepared { name, labels, zones, capacity_types }
            })
            .collect();
        AwsRegionData { region, zone_ids, records, types }
    }

    pub fn region(&self) -> Sym {
        self.region
    }

    pub fn len(&self) -> usize {
        self.types.len()
    }

    pub fn is_empty(&self) -> bool {
        self.types.is_empty()
    }

    fn on_demand_price(&self, name: &str) -> Option<f64> {
        let i = self.records.binary_search_by(|r| (*r.name).cmp(name)).ok()?;
        self.records[i].on_demand_usd_per_hour
    }

    #[cfg(test)]
    pub(crate) fn zone_ids(&self) -> &BTreeMap<Sym, Sym> {
        &self.zone_ids
    }

    /// The records, in name order (for the tests that compare the embedded forms).
    #[cfg(test)]
    pub(crate) fn records(&self) -> impl Iterator<Item = &AwsRecord> {
        self.records.iter()
    }
}

/// Per-AMI-family switches (`pkg/providers/amifamily/*.go`, aws-instance-model.md §3).
struct FamilyTraits {
    eni_limited_pod_density: bool,
    pods_per_core_enabled: bool,
    eni_limited_memory_overhead: bool,
    /// The device holding ephemeral storage, and its default size.
    ephemeral_device: Option<(&'static str, i64)>,
}

fn traits(family: AmiFamily) -> FamilyTraits {
    match family {
        AmiFamily::AL2023 | AmiFamily::AL2 => FamilyTraits {
            eni_limited_pod_density: true,
            pods_per_core_enabled: true,
            eni_limited_memory_overhead: true,
            ephemeral_device: Some(("/dev/xvda", 20 * GI)),
        },
        AmiFamily::Bottlerocket => FamilyTraits {
            eni_limited_pod_density: true,
            pods_per_core_enabled: false,
            eni_limited_memory_overhead: false,
            ephemeral_device: Some(("/dev/xvdb", 20 * GI)),
        },
        AmiFamily::Windows2019 | AmiFamily::Windows2022 | AmiFamily::Windows2025 => FamilyTraits {
            eni_limited_pod_density: false,
            pods_per_core_enabled: true,
            eni_limited_memory_overhead: false,
            ephemeral_device: Some(("/dev/sda1", 50 * GI)),
        },
        AmiFamily::Custom => FamilyTraits {
            eni_limited_pod_density: true,
            pods_per_core_enabled: true,
            eni_limited_memory_overhead: true,
            ephemeral_device: None,
        },
    }
}

/// `resolver.go: DefaultEBS` volume size.
const DEFAULT_EBS: i64 = 20 * GI;

/// types.go: computeCapacity memory — arm64 loses 64 MiB (Graviton CMA), then the VM overhead guess
/// `ceil(bytes × percent / 1024 / 1024)` MiB in f64, in that order.
fn memory_capacity(rec: &AwsRecord, opts: &AwsOptions) -> i64 {
    let mut mib = rec.memory_mib;
    if rec.arch == "arm64" {
        mib -= 64;
    }
    let overhead_mib = ((mib * MI) as f64 * opts.vm_memory_overhead_percent / 1024.0 / 1024.0).ceil() as i64;
    (mib - overhead_mib) * MI
}

/// types.go: ENILimitedPods — the default network card's ENIs (not all cards), as the VPC CNI's
/// `eni-max-pods.txt` formula.
fn eni_limited_pods(rec: &AwsRecord, reserved_enis: i64) -> i64 {
    let usable = (rec.max_enis - reserved_enis).max(0);
    if usable == 0 { 0 } else { usable * (rec.ipv4_per_eni - 1) + 2 }
}

/// types.go: pods — maxPods, else ENI-limited (110 on Windows), then capped by podsPerCore.
fn pods(rec: &AwsRecord, nc: &NodeClass, t: &FamilyTraits, opts: &AwsOptions) -> i64 {
    let mut pods = match nc.kubelet.max_pods {
        Some(m) => m,
        None if t.eni_limited_pod_density => eni_limited_pods(rec, opts.reserved_enis),
        None => 110,
    };
    if let Some(ppc) = nc.kubelet.pods_per_core
        && ppc > 0
        && t.pods_per_core_enabled
    {
        pods = pods.min(ppc * rec.vcpu);
    }
    pods
}

/// types.go: ephemeralStorage — RAID0 instance store, else the NodeClass's block device mappings,
/// else the family's default device, else DefaultEBS (aws-instance-model.md §4.3).
fn ephemeral_storage(rec: &AwsRecord, nc: &NodeClass, t: &FamilyTraits) -> i64 {
    if nc.instance_store_raid0
        && let Some(gb) = rec.local_storage_gb
    {
        return gb * 1_000_000_000;
    }
    let bdms = &nc.block_device_mappings;
    if !bdms.is_empty() {
        if let Some(size) = bdms.iter().find(|b| b.root_volume).and_then(|b| b.volume_size) {
            return size;
        }
        if nc.ami_family == AmiFamily::Custom {
            // A custom AMI's layout is unknown: the last mapping is assumed to hold ephemeral storage.
            return bdms.last().and_then(|b| b.volume_size).unwrap_or(DEFAULT_EBS);
        }
        if let Some((device, _)) = t.ephemeral_device
            && let Some(size) =
                bdms.iter().find(|b| b.device_name.as_deref() == Some(device)).and_then(|b| b.volume_size)
        {
            return size;
        }
    }
    t.ephemeral_device.map_or(DEFAULT_EBS, |(_, size)| size)
}

/// types.go: kubeReservedResources CPU — per-range percentages, each truncated toward zero in f64.
fn kube_reserved_cpu(cpu_m: i64) -> i64 {
    const RANGES: [(i64, i64, f64); 4] =
        [(0, 1000, 0.06), (1000, 2000, 0.01), (2000, 4000, 0.005), (4000, 1 << 31, 0.0025)];
    RANGES
        .iter()
        .filter(|(start, _, _)| cpu_m >= *start)
        .map(|&(start, end, pct)| ((cpu_m.min(end) - start) as f64 * pct) as i64)
        .sum()
}

/// types.go: evictionThreshold signal — a percentage of capacity (`ceil`, f64; `"100%"` reads as 0%,
/// as Karpenter does) or a quantity.
fn eviction_signal(capacity: i64, value: &str, resource: &str, signal: &str) -> Result<i64> {
    let at = || Location::field(format!("kubelet.evictionHard.{signal}"));
    let v = value.trim();
    if let Some(pct) = v.strip_suffix('%') {
        let p: f64 = if v == "100%" {
            0.0
        } else {
            pct.trim().parse().map_err(|_| Error::input(at(), format!("invalid percentage {value:?}")))?
        };
        if !(p.is_finite() && (0.0..=100.0).contains(&p)) {
            return Err(Error::input(at(), format!("percentage out of range: {value:?}")));
        }
        Ok((capacity as f64 / 100.0 * p).ceil() as i64)
    } else {
        let q = parse_amount(resource, v).map_err(|e| e.at(at()))?;
        if q < 0 {
            return Err(Error::input(at(), format!("negative quantity {value:?}")));
        }
        Ok(q)
    }
}

/// kubeReserved defaults, then the user's map key by key. A user value of zero cannot be told apart
/// from an absent key in [`Resources`], so it keeps the default.
fn kube_reserved(cpu_m: i64, pods_for_memory: i64, user: Option<&Resources>) -> Resources {
    let mut r = Resources::new();
    r.cpu = kube_reserved_cpu(cpu_m);
    r.memory = (11 * pods_for_memory + 255) * MI;
    r.ephemeral_storage = GI;
    if let Some(u) = user {
        for (k, v) in u.iter() {
            r.set(k, v);
        }
    }
    r
}

fn eviction_threshold(memory: i64, storage: i64, nc: &NodeClass) -> Result<Resources> {
    let mut r = Resources::new();
    r.memory = 100 * MI;
    r.ephemeral_storage = (storage as f64 / 100.0 * 10.0).ceil() as i64;
    let hard = &nc.kubelet.eviction_hard;
    if let Some(v) = hard.get("memory.available") {
        r.memory = eviction_signal(memory, v, crate::resources::MEMORY, "memory.available")?;
    }
    if let Some(v) = hard.get("nodefs.available") {
        r.ephemeral_storage = eviction_signal(storage, v, crate::resources::EPHEMERAL_STORAGE, "nodefs.available")?;
    }
    Ok(r)
}

/// The extended resources an AWS type can have (types.go: computeCapacity), interned once rather
/// than looked up by name for every type of every resolution.
struct ExtendedResources {
    nvidia_gpu: Sym,
    amd_gpu: Sym,
    habana_gaudi: Sym,
    neuron: Sym,
    neuroncore: Sym,
    efa: Sym,
    pod_eni: Sym,
    private_ipv4: Sym,
}

static EXTENDED: LazyLock<ExtendedResources> = LazyLock::new(|| ExtendedResources {
    nvidia_gpu: Sym::new("nvidia.com/gpu"),
    amd_gpu: Sym::new("amd.com/gpu"),
    habana_gaudi: Sym::new("habana.ai/gaudi"),
    neuron: Sym::new("aws.amazon.com/neuron"),
    neuroncore: Sym::new("aws.amazon.com/neuroncore"),
    efa: Sym::new("vpc.amazonaws.com/efa"),
    pod_eni: Sym::new("vpc.amazonaws.com/pod-eni"),
    private_ipv4: Sym::new("vpc.amazonaws.com/PrivateIPv4Address"),
});

/// Capacity, overhead and allocatable of one type for a NodeClass.
fn resources_of(rec: &AwsRecord, nc: &NodeClass, opts: &AwsOptions) -> Result<(Resources, Overhead)> {
    let t = traits(nc.ami_family);
    let mut cap = Resources::new();
    cap.cpu = rec.vcpu * 1000;
    cap.memory = memory_capacity(rec, opts);
    cap.ephemeral_storage = ephemeral_storage(rec, nc, &t);
    cap.pods = pods(rec, nc, &t, opts);
    // §4.5 extended resources (zero amounts are simply absent from `Resources`).
    let gpus = |maker: &str| if rec.gpu_manufacturer.as_deref() == Some(maker) { rec.gpu_count } else { 0 };
    let ext = &*EXTENDED;
    cap.set_extended(ext.nvidia_gpu, gpus("NVIDIA"));
    cap.set_extended(ext.amd_gpu, gpus("AMD"));
    cap.set_extended(ext.habana_gaudi, gpus("Habana"));
    cap.set_extended(ext.neuron, rec.neuron_device_count);
    cap.set_extended(ext.neuroncore, rec.neuron_device_count * rec.neuron_cores_per_device.unwrap_or(0));
    cap.set_extended(ext.efa, rec.efa_max_interfaces);
    cap.set_extended(ext.pod_eni, rec.pod_eni);
    if nc.ami_family.is_windows() {
        // Karpenter reads vpclimits `IPv4PerInterface − 1`; the data's DescribeInstanceTypes
        // `ipv4_per_eni` stands in for it (the two tables agree for the primary interface).
        cap.set_extended(ext.private_ipv4, (rec.ipv4_per_eni - 1).max(0));
    }
    let pods_for_memory = if t.eni_limited_memory_overhead { eni_limited_pods(rec, 0) } else { cap.pods };
    let overhead = Overhead {
        kube_reserved: kube_reserved(cap.cpu, pods_for_memory, nc.kubelet.kube_reserved.as_ref()),
        system_reserved: nc.kubelet.system_reserved.clone().unwrap_or_default(),
        eviction_threshold: eviction_threshold(cap.memory, cap.ephemeral_storage, nc)?,
    };
    Ok((cap, overhead))
}

/// On-demand and spot prices of one type, with their sources (`None` = no price: unavailable).
struct Priced {
    on_demand: Option<(f64, PriceSource)>,
    spot: Option<(f64, PriceSource)>,
}

#[derive(Default)]
struct PriceCounts {
    us_east_1_fallback: usize,
    cold_start: usize,
    unpriced: usize,
}

fn price(rec: &AwsRecord, fallback: Option<&AwsRegionData>, policy: &PricePolicy, counts: &mut PriceCounts) -> Priced {
    // pricing.go: the region's price, else the us-east-1 static table (Reset()).
    let list = match rec.on_demand_usd_per_hour {
        Some(p) => Some((p, PriceSource::Catalog)),
        None => fallback.and_then(|f| f.on_demand_price(&rec.name)).map(|p| {
            counts.us_east_1_fallback += 1;
            (p, PriceSource::UsEast1Fallback)
        }),
    };
    let od = list.map(|(p, _)| p);
    let spot_capable = rec.capacity_types.iter().any(|c| c == CAPACITY_TYPE_SPOT);
    let mut spot = match (rec.spot_usd_per_hour, policy.spot_discount, rec.spot_savings_percent, od) {
        (Some(p), _, _, _) => Some((p, PriceSource::SpotFeed)),
        (None, Some(d), _, Some(od)) => Some((od * (1.0 - d), PriceSource::Override)),
        (None, None, Some(s), Some(od)) => Some((od * (1.0 - s as f64 / 100.0), PriceSource::SpotAdvisorEstimate)),
        (None, _, _, Some(od)) => {
            if spot_capable {
                counts.cold_start += 1;
            }
            Some((od, PriceSource::SpotColdStartOnDemand))
        }
        _ => None,
    };
    let mut on_demand = list.map(|(p, s)| (p * policy.on_demand_multiplier, s));
    if let Some((p, _)) = spot.as_mut() {
        *p *= policy.spot_multiplier;
    }
    if let Some(explicit) = policy.explicit(&rec.name, rec.family.as_deref().unwrap_or("")) {
        if let Some(p) = explicit.on_demand {
            on_demand = Some((p, PriceSource::Override));
        }
        if let Some(p) = explicit.spot {
            spot = Some((p, PriceSource::Override));
        }
    }
    if on_demand.is_none() {
        counts.unpriced += 1;
    }
    Priced { on_demand, spot }
}

/// Resolve every type of a region for a NodeClass.
///
/// `fallback` is the us-east-1 data, whose on-demand prices stand in where the region has none.
pub fn aws_catalog(
    data: &AwsRegionData,
    fallback: Option<&AwsRegionData>,
    nodeclass: &NodeClass,
    options: &AwsOptions,
    prices: &PricePolicy,
) -> Result<Catalog> {
    options.validate()?;
    prices.validate()?;
    let name = format!("aws:{}", data.region);
    let mut counts = PriceCounts::default();
    let (mut windows_arm, mut a1_al2023) = (0usize, 0usize);
    let zone_filter: Option<Vec<Sym>> = nodeclass.zones.clone();
    let os = [os_labels(nodeclass.ami_family, "amd64"), os_labels(nodeclass.ami_family, "arm64")];
    let mut instance_types = Vec::with_capacity(data.types.len());
    // each zone's id, found by pointer among the region's few zones (not a search of the
    // ordered map, comparing strings, for every offering of every type)
    let zone_ids: Vec<(Sym, Sym)> = data.zone_ids.iter().map(|(z, id)| (*z, *id)).collect();
    let zone_id = |z: Sym| zone_ids.iter().find(|(name, _)| *name == z).map(|(_, id)| *id);
    let spot = Sym::new(CAPACITY_TYPE_SPOT);
    for (rec, p) in data.records.iter().zip(&data.types) {
        let (capacity, overhead) = resources_of(rec, nodeclass, options)?;
        let allocatable = allocatable(&capacity, &overhead);
        let os_pair = &os[usize::from(rec.arch == "arm64")];
        let mut labels = Vec::with_capacity(p.labels.len() + os_pair.len());
        let mut rest = &p.labels[..];
        for &(k, v) in os_pair {
            // base labels never hold the OS keys: keys stay unique and sorted (the OS pair is
            // sorted, and each goes where the base labels before it end)
            let (before, after) = rest.split_at(rest.partition_point(|a| a.0 < k));
            labels.extend_from_slice(before);
            labels.push((k, v));
            rest = after;
        }
        labels.extend_from_slice(rest);
        debug_assert!(labels.is_sorted_by(|a, b| a.0 < b.0), "{}: labels not sorted and unique", rec.name);
        // compatibility.go: a1.* cannot boot AL2023; Windows admits amd64 only.
        let mut incompatible = None;
        if os_pair[0].1.is_none() {
            windows_arm += 1;
            incompatible = Some(format!("arm64 instance types cannot run {:?}", nodeclass.ami_family));
        }
        if nodeclass.ami_family == AmiFamily::AL2023 && rec.family.as_deref() == Some("a1") {
            a1_al2023 += 1;
            incompatible = Some("a1 instance types cannot run AL2023".to_string());
        }
        let compatible = incompatible.is_none();
        let priced = price(rec, fallback, prices, &mut counts);
        let mut offerings = Vec::with_capacity(p.zones.len() * p.capacity_types.len());
        for &zone in p.zones.iter() {
            if let Some(allowed) = &zone_filter
                && !allowed.contains(&zone)
            {
                continue;
            }
            for &ct in p.capacity_types.iter() {
                let pr = if ct == spot { priced.spot } else { priced.on_demand };
                let (price, price_source) = pr.unwrap_or((0.0, PriceSource::Unpriced));
                offerings.push(Offering {
                    zone,
                    zone_id: zone_id(zone),
                    capacity_type: ct,
                    price,
                    available: compatible && pr.is_some(),
                    price_source,
                    reservation: None,
                    overlay: None,
                });
            }
        }
        // zones and capacity types are sorted and unique: without reserved offerings the
        // offerings are already in `sort_offerings`' order
        if !nodeclass.capacity_reservations.is_empty() {
            let zones: Vec<Sym> = p.zones.iter().copied().filter(|z| zone_filter.as_ref().is_none_or(|a| a.contains(z))).collect();
            // the provider's OnDemandPrice: the list price, whatever the user's multipliers
            let list = rec.on_demand_usd_per_hour.or_else(|| fallback.and_then(|f| f.on_demand_price(&rec.name)));
            let site = TypeSite { name: p.name, zones: &zones, zone_id: &zone_id, on_demand_price: list, launchable: compatible };
            offerings.extend(reserved_offerings(&site, &nodeclass.capacity_reservations));
            sort_offerings(&mut offerings);
        }
        debug_assert!(offerings.is_sorted_by_key(|o| (o.zone, o.capacity_type, o.reservation_id())));
        instance_types.push(Arc::new(InstanceType {
            name: p.name,
            labels,
            capacity,
            overhead,
            allocatable,
            offerings,
            spot_interruption: rec.spot_interruption_bucket.clone(),
            spot_savings_percent: rec.spot_savings_percent,
            incompatible,
            capacity_overlays: Vec::new(),
        }));
    }
    let mut warnings = Vec::new();
    if counts.us_east_1_fallback > 0 {
        warnings.push(format!(
            "{} instance types have no on-demand price in {}; using the us-east-1 price as Karpenter does (pricing.go Reset())",
            counts.us_east_1_fallback, data.region
        ));
    }
    if counts.unpriced > 0 {
        warnings.push(format!(
            "{} instance types have no on-demand price anywhere; their offerings are unavailable",
            counts.unpriced
        ));
    }
    if counts.cold_start > 0 {
        warnings.push(format!(
            "{} spot-capable instance types have no spot price or advisor savings; spot price = on-demand price (Karpenter's cold-start rule)",
            counts.cold_start
        ));
    }
    if windows_arm > 0 {
        warnings
            .push(format!("{windows_arm} arm64 instance types cannot run Windows; their offerings are unavailable"));
    }
    if a1_al2023 > 0 {
        warnings.push(format!("{a1_al2023} a1 instance types cannot run AL2023; their offerings are unavailable"));
    }
    if let Some(zones) = &zone_filter {
        let unknown: Vec<&str> =
            zones.iter().filter(|z| !data.types.iter().any(|p| p.zones.contains(z))).map(|z| z.as_str()).collect();
        if !unknown.is_empty() {
            warnings.push(format!("NodeClass zones not offered in {}: {}", data.region, unknown.join(", ")));
        }
    }
    for (kind, map) in [("instance type", &prices.by_type), ("family", &prices.by_family)] {
        let unknown: Vec<&str> = map
            .keys()
            .filter(|k| {
                !data.records.iter().any(|r| {
                    if kind == "family" { r.family.as_deref() == Some(k.as_str()) } else { r.name == **k }
                })
            })
            .map(|k| k.as_str())
            .collect();
        if !unknown.is_empty() {
            warnings.push(format!("price overrides name no {kind} of {}: {}", data.region, unknown.join(", ")));
        }
    }
    let mut catalog = Catalog { name, region: Some(data.region), instance_types, warnings };
    let reservation_warnings = super::reservations::warnings(&catalog, &nodeclass.capacity_reservations);
    catalog.warnings.extend(reservation_warnings);
    catalog.ensure_some_offering_available()?;
    Ok(catalog)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kube_reserved_cpu_matches_the_documented_steps() {
        for (vcpu, want) in [(1, 60), (2, 70), (4, 80), (8, 90), (96, 310), (192, 550)] {
            assert_eq!(kube_reserved_cpu(vcpu * 1000), want, "{vcpu} vCPU");
        }
    }

    #[test]
    fn eviction_signal_forms() {
        let gi = GI;
        assert_eq!(eviction_signal(100 * gi, "5%", "memory", "memory.available").unwrap(), 5 * gi);
        assert_eq!(eviction_signal(100 * gi, "100%", "memory", "memory.available").unwrap(), 0);
        assert_eq!(eviction_signal(gi, "500Mi", "memory", "memory.available").unwrap(), 500 * MI);
        let e = eviction_signal(gi, "lots%", "memory", "memory.available").unwrap_err();
        assert!(e.to_string().contains("memory.available"), "{e}");
        assert!(eviction_signal(gi, "-1Mi", "memory", "memory.available").is_err());
        assert!(eviction_signal(gi, "150%", "memory", "memory.available").is_err());
    }

    fn record(extra: &str) -> AwsRecord {
        let base = r#""name": "x1.large", "family": "x1", "arch": "amd64", "vcpu": 2, "memory_mib": 4096,
            "hypervisor": "nitro", "max_enis": 3, "ipv4_per_eni": 10, "pod_eni": 0, "efa_max_interfaces": 0,
            "encryption_in_transit": false, "gpu_count": 0, "neuron_device_count": 0,
            "capacity_types": ["on-demand", "spot"], "zones": ["z"]"#;
        serde_json::from_str(&format!("{{{base}{extra}}}")).unwrap()
    }

    #[test]
    fn spot_price_sources_in_order_of_preference() {
        let policy = PricePolicy::default();
        let mut counts = PriceCounts::default();
        let feed = price(
            &record(r#", "on_demand_usd_per_hour": 1.0, "spot_usd_per_hour": 0.3, "spot_savings_percent": 50"#),
            None,
            &policy,
            &mut counts,
        );
        assert_eq!(feed.spot, Some((0.3, PriceSource::SpotFeed)));
        let advisor = price(
            &record(r#", "on_demand_usd_per_hour": 1.0, "spot_savings_percent": 50"#),
            None,
            &policy,
            &mut counts,
        );
        assert_eq!(advisor.spot, Some((0.5, PriceSource::SpotAdvisorEstimate)));
        let cold = price(&record(r#", "on_demand_usd_per_hour": 1.0"#), None, &policy, &mut counts);
        assert_eq!(cold.spot, Some((1.0, PriceSource::SpotColdStartOnDemand)));
        assert_eq!(counts.cold_start, 1);
        let none = price(&record(""), None, &policy, &mut counts);
        assert_eq!((none.on_demand, none.spot), (None, None));
        assert_eq!(counts.unpriced, 1);
        // An explicit price makes an unpriced type available.
        let mut policy = PricePolicy::default();
        policy.by_family.insert("x1".into(), super::super::CapacityPrices { on_demand: Some(2.0), spot: None });
        let over = price(&record(""), None, &policy, &mut counts);
        assert_eq!(over.on_demand, Some((2.0, PriceSource::Override)));
        assert_eq!(over.spot, None);
    }

    #[test]
    fn options_validation() {
        assert!(AwsOptions::default().validate().is_ok());
        assert!(AwsOptions { vm_memory_overhead_percent: f64::NAN, reserved_enis: 0 }.validate().is_err());
        assert!(AwsOptions { vm_memory_overhead_percent: 0.0, reserved_enis: -1 }.validate().is_err());
    }
}
