//! Label requirements of an AWS instance type (`types.go: computeRequirements`, labels of
//! `pkg/apis/v1/labels.go`), aws-instance-model.md §7, Karpenter v1.14.1 set.
//!
//! Not represented: `karpenter.k8s.aws/instance-tenancy` (`In [default, dedicated]` has two values and
//! [`super::InstanceType::labels`] holds single-valued requirements only; leaving the key out lets any
//! tenancy value match, which differs from Karpenter only for pods requiring the label to be absent),
//! and `nitro-sandbox` (unreleased after v1.14.1). The capacity-reservation labels come from the
//! reserved offerings (`crate::state::TypeInfo`).

use super::aws_record::AwsRecord;
use crate::labels::{self, Sym};
use crate::model::AmiFamily;
use rustc_hash::FxHashMap;
use std::borrow::Cow;
use std::sync::{LazyLock, OnceLock};

/// The `karpenter.k8s.aws/instance-*` label keys, interned once (not once per instance type).
macro_rules! aws_keys {
    ($($name:ident = $suffix:literal;)*) => {
        $( static $name: LazyLock<Sym> = LazyLock::new(|| Sym::new(concat!("karpenter.k8s.aws/", $suffix))); )*
    };
}

aws_keys! {
    ACCELERATOR_COUNT = "instance-accelerator-count";
    ACCELERATOR_MANUFACTURER = "instance-accelerator-manufacturer";
    ACCELERATOR_NAME = "instance-accelerator-name";
    CAPABILITY_FLEX = "instance-capability-flex";
    CATEGORY = "instance-category";
    CPU = "instance-cpu";
    CPU_MANUFACTURER = "instance-cpu-manufacturer";
    CPU_SUSTAINED_CLOCK_SPEED_MHZ = "instance-cpu-sustained-clock-speed-mhz";
    EBS_BANDWIDTH = "instance-ebs-bandwidth";
    ENCRYPTION_IN_TRANSIT_SUPPORTED = "instance-encryption-in-transit-supported";
    FAMILY = "instance-family";
    GENERATION = "instance-generation";
    GPU_COUNT = "instance-gpu-count";
    GPU_MANUFACTURER = "instance-gpu-manufacturer";
    GPU_MEMORY = "instance-gpu-memory";
    GPU_NAME = "instance-gpu-name";
    HYPERVISOR = "instance-hypervisor";
    LOCAL_NVME = "instance-local-nvme";
    MEMORY = "instance-memory";
    NETWORK_BANDWIDTH = "instance-network-bandwidth";
    SIZE = "instance-size";
}

/// `lower-kebab`: lowercase, spaces to dashes (`"RTX PRO Server 6000"` → `rtx-pro-server-6000`).
fn lower_kebab(s: &str) -> String {
    s.to_lowercase().replace(' ', "-")
}

fn some(v: impl AsRef<str>) -> Option<Sym> {
    Some(Sym::new(v.as_ref()))
}

/// The label values met while preparing one region, each formatted and interned once: ~1,345
/// types share a few hundred CPU counts, memory sizes, bandwidths, families and zones, and
/// formatting and interning ~40,000 values one by one was a seventh of a 1-pod run's start-up.
/// Only how a value is found changes, not the value: a [`Sym`] is its string.
#[derive(Default)]
pub(crate) struct RegionValues {
    numbers: FxHashMap<i64, Sym>,
    strings: FxHashMap<String, Sym>,
    /// Strings of the generated statics, keyed by address and length: each distinct string is
    /// stored once there (`build.rs`), so a value is found without hashing its bytes.
    statics: FxHashMap<(usize, usize), Sym>,
    /// Keyed by the value as written; holds its [`lower_kebab`] form.
    kebab: FxHashMap<String, Sym>,
    /// `false` and `true` (every type has two flags: looking their strings up by hash was a
    /// sixth of preparing a type's labels).
    flags: [Option<Sym>; 2],
}

impl RegionValues {
    fn number(&mut self, n: i64) -> Sym {
        *self.numbers.entry(n).or_insert_with(|| Sym::new(&n.to_string()))
    }
    fn boolean(&mut self, b: bool) -> Sym {
        *self.flags[usize::from(b)].get_or_insert_with(|| Sym::new(if b { "true" } else { "false" }))
    }
    pub(crate) fn string(&mut self, s: &str) -> Sym {
        Self::memo(&mut self.strings, s, Sym::new)
    }
    /// [`RegionValues::string`] of a record's string: one that lives for the process (borrowed
    /// from the statics) is looked up by where it is, as the same place always holds the same
    /// string.
    #[allow(clippy::ptr_arg)] // the variant is what matters, as in `unique`
    pub(crate) fn text(&mut self, s: &Cow<'static, str>) -> Sym {
        match s {
            Cow::Borrowed(b) => {
                let at = (b.as_ptr() as usize, b.len());
                match self.statics.get(&at) {
                    Some(&v) => v,
                    None => {
                        let v = self.string(b);
                        self.statics.insert(at, v);
                        v
                    }
                }
            }
            Cow::Owned(o) => self.string(o),
        }
    }
    fn kebab(&mut self, s: &str) -> Sym {
        Self::memo(&mut self.kebab, s, |s| Sym::new(&lower_kebab(s)))
    }
    fn memo(map: &mut FxHashMap<String, Sym>, s: &str, make: impl FnOnce(&str) -> Sym) -> Sym {
        if let Some(&v) = map.get(s) {
            return v;
        }
        let v = make(s);
        map.insert(s.to_owned(), v);
        v
    }
}

/// A value every type has its own of (the type's name): interned without a memo, and without a
/// copy when it comes from the generated statics.
#[allow(clippy::ptr_arg)] // the variant is what matters: a borrowed string lives for the process
fn unique(s: &Cow<'static, str>) -> Sym {
    match s {
        Cow::Borrowed(b) => Sym::from_static(b),
        Cow::Owned(o) => Sym::new(o),
    }
}

/// How many labels [`base_labels`] gives every type.
const BASE_LABELS: usize = 24;

/// The labels that depend on the record and region only (everything except os and windows-build),
/// sorted by key. Computed once per region and shared by every resolution.
pub(crate) fn base_labels(rec: &AwsRecord, region: Sym, values: &mut RegionValues) -> Vec<(Sym, Option<Sym>)> {
    let out = unsorted_base_labels(rec, region, values);
    // Every type has the same keys at the same places: the order that sorts them is computed for
    // the first type and applied to all (sorting ~24 keys that share long prefixes, per type, was
    // a tenth of the start-up's instructions).
    static ORDER: OnceLock<[u8; BASE_LABELS]> = OnceLock::new();
    let order = ORDER.get_or_init(|| {
        let mut order: [u8; BASE_LABELS] = std::array::from_fn(|i| i as u8);
        order.sort_by_key(|&i| out[usize::from(i)].0);
        order
    });
    order.iter().map(|&i| out[usize::from(i)]).collect()
}

/// [`base_labels`] in the order written here (always the same keys in the same places).
fn unsorted_base_labels(rec: &AwsRecord, region: Sym, v: &mut RegionValues) -> [(Sym, Option<Sym>); BASE_LABELS] {
    let gpu = rec.gpu_name.as_deref().map(|name| {
        (
            v.kebab(name),
            rec.gpu_manufacturer.as_deref().map(|m| v.kebab(m)),
            v.number(rec.gpu_count),
            rec.gpu_memory_mib.map(|m| v.number(m)),
        )
    });
    // Accelerators: Neuron devices (Inferentia/Trainium), manufacturer always `aws`.
    let neuron = rec.neuron_device_name.as_deref().filter(|_| rec.neuron_device_count > 0);
    [
        (*labels::INSTANCE_TYPE, Some(unique(&rec.name))),
        (*labels::ARCH, Some(v.text(&rec.arch))),
        (*labels::REGION, Some(region)),
        (*CPU, Some(v.number(rec.vcpu))),
        // Raw MiB: no Graviton or VM-overhead adjustment.
        (*MEMORY, Some(v.number(rec.memory_mib))),
        (*CATEGORY, rec.category.as_ref().map(|c| v.text(c))),
        (*GENERATION, rec.generation.map(|g| v.number(g))),
        (*FAMILY, rec.family.as_ref().map(|f| v.text(f))),
        (*SIZE, rec.size.as_ref().map(|s| v.text(s))),
        // Since v1.7: `-flex` families.
        (*CAPABILITY_FLEX, Some(v.boolean(rec.family.as_deref().unwrap_or("").contains("-flex")))),
        (*LOCAL_NVME, rec.local_nvme_gb.map(|n| v.number(n))),
        (*NETWORK_BANDWIDTH, rec.network_bandwidth_mbps.map(|n| v.number(n))),
        (*EBS_BANDWIDTH, rec.ebs_bandwidth_mbps.map(|n| v.number(n))),
        (*CPU_MANUFACTURER, rec.cpu_manufacturer.as_deref().filter(|m| !m.is_empty()).map(|m| v.kebab(m))),
        // Go math.Round (half away from zero) == f64::round; a missing clock speed reads as 0.
        (*CPU_SUSTAINED_CLOCK_SPEED_MHZ, Some(v.number((rec.cpu_clock_ghz.unwrap_or(0.0) * 1000.0).round() as i64))),
        // Bare metal has an empty hypervisor, and Karpenter's label value is then empty too.
        (*HYPERVISOR, Some(v.text(&rec.hypervisor))),
        (*ENCRYPTION_IN_TRANSIT_SUPPORTED, Some(v.boolean(rec.encryption_in_transit))),
        // GPU labels only when the type lists exactly one GPU entry (the data keeps `gpu_name` then).
        (*GPU_NAME, gpu.map(|g| g.0)),
        (*GPU_MANUFACTURER, gpu.and_then(|g| g.1)),
        (*GPU_COUNT, gpu.map(|g| g.2)),
        (*GPU_MEMORY, gpu.and_then(|g| g.3)),
        (*ACCELERATOR_NAME, neuron.map(|n| v.kebab(n))),
        (*ACCELERATOR_MANUFACTURER, neuron.map(|_| v.string("aws"))),
        (*ACCELERATOR_COUNT, neuron.map(|_| v.number(rec.neuron_device_count))),
    ]
}

/// `kubernetes.io/os` and `node.kubernetes.io/windows-build` for an AMI family. Windows families admit
/// only amd64 types; for an arm64 type the OS requirement has no value (returned as `None` here, and the
/// caller makes the type's offerings unavailable).
pub(crate) fn os_labels(family: AmiFamily, arch: &str) -> [(Sym, Option<Sym>); 2] {
    let build = match family {
        AmiFamily::Windows2019 => Some("10.0.17763"),
        AmiFamily::Windows2022 => Some("10.0.20348"),
        AmiFamily::Windows2025 => Some("10.0.26100"),
        _ => None,
    };
    match build {
        Some(b) => {
            let os = (arch == "amd64").then(|| Sym::new("windows"));
            [(*labels::OS, os), (*labels::WINDOWS_BUILD, some(b))]
        }
        None => [(*labels::OS, some("linux")), (*labels::WINDOWS_BUILD, None)],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kebab_and_windows_os() {
        assert_eq!(lower_kebab("RTX PRO Server 6000"), "rtx-pro-server-6000");
        let [os, build] = os_labels(AmiFamily::Windows2022, "amd64");
        assert_eq!((os.1.unwrap().as_str(), build.1.unwrap().as_str()), ("windows", "10.0.20348"));
        assert_eq!(os_labels(AmiFamily::Windows2019, "arm64")[0].1, None);
        let [os, build] = os_labels(AmiFamily::Bottlerocket, "arm64");
        assert_eq!((os.1.unwrap().as_str(), build.1), ("linux", None));
    }

    /// The base labels come out sorted by key, with unique keys (resolving inserts the OS labels
    /// into them by binary search, and `InstanceType::labels` is documented sorted), for types with
    /// and without GPUs and accelerators.
    #[test]
    fn base_labels_are_sorted_by_key() {
        let data = crate::catalog::embedded::aws_region_data("us-east-1").unwrap();
        let region = data.region();
        let mut checked = 0;
        let values = &mut RegionValues::default();
        for rec in data.records().filter(|r| ["m5.large", "p4d.24xlarge", "inf2.xlarge", "a1.medium"].contains(&&*r.name)) {
            let labels = base_labels(rec, region, values);
            assert!(labels.windows(2).all(|w| w[0].0 < w[1].0), "{}: {labels:?}", rec.name);
            let mut sorted = unsorted_base_labels(rec, region, values).to_vec();
            sorted.sort_by_key(|l| l.0);
            assert_eq!(labels, sorted, "{}", rec.name);
            checked += 1;
        }
        assert_eq!(checked, 4);
    }

    /// A region's values are found once and shared by its types: every type of every region gets
    /// the labels it gets from a table of its own (numbers, strings and kebab-cased names kept
    /// apart: `"true"` the string and `true` the flag, `NVIDIA` and `nvidia`).
    #[test]
    fn shared_region_values_give_each_type_its_own_labels() {
        for region in crate::catalog::aws_regions() {
            let data = crate::catalog::embedded::aws_region_data(region).unwrap();
            let shared = &mut RegionValues::default();
            for rec in data.records() {
                let alone = base_labels(rec, data.region(), &mut RegionValues::default());
                assert_eq!(base_labels(rec, data.region(), shared), alone, "{region} {}", rec.name);
            }
        }
    }
}
