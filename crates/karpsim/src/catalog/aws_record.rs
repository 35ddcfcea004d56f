//! The record of one instance type in an embedded AWS catalog file, as stored: what the catalog
//! derives instance types from ([`super::aws`]) and their labels ([`super::aws_labels`]).
//!
//! Strings are `Cow<'static, _>` so that one type serves both forms: the statics generated at build
//! time from the catalog files (`build.rs`, borrowed, nothing parsed at run time) and records parsed
//! from JSON (owned), which the tests compare with them.

use super::SpotInterruption;
use std::borrow::Cow;

type Str = Cow<'static, str>;

/// One instance type of an embedded catalog file (fields documented in `data/README.md`; the rest of
/// the record is ignored).
#[derive(Debug, Clone, PartialEq, serde::Deserialize)]
pub(crate) struct AwsRecord {
    pub name: Str,
    pub family: Option<Str>,
    pub category: Option<Str>,
    pub generation: Option<i64>,
    pub size: Option<Str>,
    pub arch: Str,
    pub vcpu: i64,
    pub memory_mib: i64,
    pub hypervisor: Str,
    pub cpu_manufacturer: Option<Str>,
    pub cpu_clock_ghz: Option<f64>,
    pub max_enis: i64,
    pub ipv4_per_eni: i64,
    pub pod_eni: i64,
    pub efa_max_interfaces: i64,
    pub network_bandwidth_mbps: Option<i64>,
    pub ebs_bandwidth_mbps: Option<i64>,
    pub encryption_in_transit: bool,
    pub gpu_count: i64,
    pub gpu_name: Option<Str>,
    pub gpu_manufacturer: Option<Str>,
    pub gpu_memory_mib: Option<i64>,
    pub neuron_device_count: i64,
    pub neuron_device_name: Option<Str>,
    pub neuron_cores_per_device: Option<i64>,
    pub local_storage_gb: Option<i64>,
    pub local_nvme_gb: Option<i64>,
    pub capacity_types: Cow<'static, [Str]>,
    pub zones: Cow<'static, [Str]>,
    pub on_demand_usd_per_hour: Option<f64>,
    pub spot_usd_per_hour: Option<f64>,
    pub spot_savings_percent: Option<i64>,
    pub spot_interruption_bucket: Option<SpotInterruption>,
}
