//! The instance-type catalog through the public API: Karpenter's generated docs as an oracle, the
//! hand-worked kubelet cases of aws-instance-model.md, prices and custom catalogs.

use karpsim::catalog::{CatalogSource, InstanceType, PricePolicy, PriceSource, parse_custom_catalog};
use karpsim::labels::Sym;
use karpsim::model::{AmiFamily, BlockDeviceMapping, NodeClass};
use karpsim::resources::{Resources, format_amount, parse_amount};
use std::collections::BTreeMap;
use std::sync::Arc;

const MI: i64 = 1 << 20;
const GI: i64 = 1 << 30;

fn us_east_1(nc: Option<&NodeClass>) -> Arc<karpsim::catalog::Catalog> {
    CatalogSource::default_aws().resolve(nc).expect("us-east-1 resolves")
}

fn get<'a>(c: &'a karpsim::catalog::Catalog, name: &str) -> &'a InstanceType {
    c.get(name).unwrap_or_else(|| panic!("{name} missing"))
}

#[derive(serde::Deserialize)]
struct Golden {
    instance_types: Vec<GoldenType>,
}
#[derive(serde::Deserialize)]
struct GoldenType {
    name: String,
    labels: BTreeMap<String, String>,
    allocatable: BTreeMap<String, String>,
}

/// For every type in both the catalog and Karpenter v1.14's generated docs: allocatable resources
/// equal exactly, labels agree except the data drift documented in aws-instance-model.md §0.
#[test]
fn us_east_1_matches_karpenter_generated_docs() {
    let golden: Golden = serde_json::from_str(include_str!("data/karpenter-v1.14-docs-instance-types.json")).unwrap();
    let catalog = us_east_1(None);
    let (mut compared, mut clock_drift, mut bandwidth_drift, mut pod_eni_drift) = (0, 0, 0, 0);
    let mut failures = Vec::new();
    for g in &golden.instance_types {
        let Some(it) = catalog.get(&g.name) else { continue };
        compared += 1;
        for res in [
            "cpu",
            "memory",
            "ephemeral-storage",
            "pods",
            "nvidia.com/gpu",
            "amd.com/gpu",
            "vpc.amazonaws.com/efa",
            "aws.amazon.com/neuron",
            "aws.amazon.com/neuroncore",
            "vpc.amazonaws.com/pod-eni",
        ] {
            let want = g.allocatable.get(res).map_or(0, |v| parse_amount(res, v).unwrap());
            let got = it.allocatable.get(res);
            if want != got {
                if res == "vpc.amazonaws.com/pod-eni" {
                    pod_eni_drift += 1;
                } else {
                    failures.push(format!(
                        "{} {res}: want {} got {}",
                        g.name,
                        format_amount(res, want),
                        format_amount(res, got)
                    ));
                }
            }
        }
        let ours: BTreeMap<&str, Option<&str>> =
            it.labels.iter().map(|(k, v)| (k.as_str(), v.map(|s| s.as_str()))).collect();
        for (k, want) in &g.labels {
            match ours.get(k.as_str()) {
                Some(Some(got)) if got == want => {}
                Some(Some(_))
                    if k == "karpenter.k8s.aws/instance-cpu-sustained-clock-speed-mhz" && is_graviton5(&g.name) =>
                {
                    clock_drift += 1
                }
                Some(Some(_)) if k == "karpenter.k8s.aws/instance-network-bandwidth" && g.name.starts_with("g7") => {
                    bandwidth_drift += 1
                }
                got => failures.push(format!("{} label {k}: want {want:?} got {got:?}", g.name)),
            }
        }
        for (k, v) in &ours {
            if v.is_some() && !g.labels.contains_key(*k) && *k != "topology.kubernetes.io/region" {
                failures.push(format!("{} label {k}={v:?} not in the docs", g.name));
            }
        }
    }
    assert!(failures.is_empty(), "{} mismatches:\n{}", failures.len(), failures.join("\n"));
    assert_eq!(compared, 1345);
    assert!(clock_drift <= 44, "{clock_drift} clock-speed differences");
    assert!(bandwidth_drift <= 3, "{bandwidth_drift} network-bandwidth differences");
    assert!(pod_eni_drift <= 56, "{pod_eni_drift} pod-eni differences");
}

/// The 9th-generation Graviton families (c9g, m9g and their `d` variants) whose clock speed AWS
/// changed from 2.8 to 3.3 GHz between the docs and the data dumps.
fn is_graviton5(name: &str) -> bool {
    name.split('.').next().is_some_and(|f| f.get(1..3) == Some("9g"))
}

/// (type, capacity memory Mi, kube-reserved cpu m / memory Mi, allocatable cpu m / memory Mi / pods)
#[test]
fn worked_examples_of_the_design_doc() {
    let c = us_east_1(None);
    for (name, cap_mem, kr_cpu, kr_mem, cpu, mem, pods) in [
        ("t3.micro", 947, 70, 299, 1930, 548, 4),
        ("m5.large", 7577, 70, 574, 1930, 6903, 29),
        ("c6g.xlarge", 7518, 80, 893, 3920, 6525, 58),
        ("m5.metal", 363724, 310, 8362, 95690, 355262, 737),
        ("p5.48xlarge", 1939865, 550, 1355, 191450, 1938410, 100),
    ] {
        let it = get(&c, name);
        assert_eq!(it.capacity.memory, cap_mem * MI, "{name}");
        assert_eq!((it.overhead.kube_reserved.cpu, it.overhead.kube_reserved.memory), (kr_cpu, kr_mem * MI), "{name}");
        let a = &it.allocatable;
        assert_eq!((a.cpu, a.memory, a.ephemeral_storage, a.pods), (cpu, mem * MI, 17 * GI, pods), "{name}");
    }
    let p5 = get(&c, "p5.48xlarge");
    assert_eq!(p5.allocatable.get("nvidia.com/gpu"), 8);
    assert_eq!(p5.allocatable.get("vpc.amazonaws.com/efa"), 32);
    assert_eq!(p5.allocatable.get("vpc.amazonaws.com/pod-eni"), 120);
}

fn nc(f: impl FnOnce(&mut NodeClass)) -> NodeClass {
    let mut n = NodeClass::default();
    f(&mut n);
    n
}

#[test]
fn max_pods_changes_pods_but_not_al2023_memory_reserve() {
    let c = us_east_1(Some(&nc(|n| n.kubelet.max_pods = Some(110))));
    let it = get(&c, "m5.large");
    assert_eq!(it.capacity.pods, 110);
    assert_eq!(it.overhead.kube_reserved.memory, 574 * MI, "still 11×29+255");
}

#[test]
fn pods_per_core_caps_pods_except_on_bottlerocket() {
    let c = us_east_1(Some(&nc(|n| n.kubelet.pods_per_core = Some(4))));
    assert_eq!(get(&c, "m5.large").capacity.pods, 8);
    assert_eq!(get(&c, "m5.metal").capacity.pods, 384);
    let c = us_east_1(Some(&nc(|n| {
        n.kubelet.pods_per_core = Some(4);
        n.ami_family = AmiFamily::Bottlerocket;
    })));
    assert_eq!(get(&c, "m5.large").capacity.pods, 29, "Bottlerocket ignores podsPerCore");
}

#[test]
fn bottlerocket_memory_reserve_follows_the_resolved_pods() {
    let c = us_east_1(Some(&nc(|n| {
        n.ami_family = AmiFamily::Bottlerocket;
        n.kubelet.max_pods = Some(110);
    })));
    let it = get(&c, "m5.large");
    assert_eq!(it.overhead.kube_reserved.memory, (11 * 110 + 255) * MI);
}

#[test]
fn windows_has_110_pods_50gi_and_no_arm64() {
    let c = us_east_1(Some(&nc(|n| n.ami_family = AmiFamily::Windows2022)));
    let it = get(&c, "m5.large");
    assert_eq!(it.capacity.pods, 110);
    assert_eq!(it.capacity.ephemeral_storage, 50 * GI);
    assert_eq!(it.overhead.kube_reserved.memory, (11 * 110 + 255) * MI);
    assert_eq!(it.capacity.get("vpc.amazonaws.com/PrivateIPv4Address"), 9);
    assert_eq!(it.label(Sym::new("kubernetes.io/os")), Some(Some(Sym::new("windows"))));
    assert_eq!(it.label(Sym::new("node.kubernetes.io/windows-build")), Some(Some(Sym::new("10.0.20348"))));
    let arm = get(&c, "c6g.xlarge");
    assert!(!arm.has_available_offering());
    let linux = us_east_1(None);
    assert_eq!(get(&linux, "m5.large").label(Sym::new("node.kubernetes.io/windows-build")), Some(None));
}

#[test]
fn kube_and_system_reserved_overrides() {
    let c = us_east_1(Some(&nc(|n| {
        n.kubelet.kube_reserved = Some(Resources::from_pairs([("cpu", 500)]));
        n.kubelet.system_reserved = Some(Resources::from_pairs([("memory", 100 * MI), ("pid", 1000)]));
    })));
    let it = get(&c, "m5.large");
    assert_eq!(it.overhead.kube_reserved.cpu, 500);
    assert_eq!(it.overhead.kube_reserved.memory, 574 * MI, "other keys keep their default");
    assert_eq!(it.allocatable.cpu, 1500);
    assert_eq!(it.allocatable.memory, (6903 - 100) * MI);
    assert_eq!(it.allocatable.get("pid"), 0, "pid is not a capacity resource");
}

#[test]
fn eviction_hard_percent_and_quantity() {
    let c = us_east_1(Some(&nc(|n| {
        n.kubelet.eviction_hard.insert("memory.available".into(), "5%".into());
        n.kubelet.eviction_soft.insert("memory.available".into(), "50%".into());
    })));
    let it = get(&c, "m5.large");
    let want = ((7577 * MI) as f64 / 100.0 * 5.0).ceil() as i64;
    assert_eq!(it.overhead.eviction_threshold.memory, want, "evictionSoft ignored");
    let c = us_east_1(Some(&nc(|n| {
        n.kubelet.eviction_hard.insert("memory.available".into(), "500Mi".into());
        n.kubelet.eviction_hard.insert("nodefs.available".into(), "1Gi".into());
    })));
    let it = get(&c, "m5.large");
    assert_eq!(it.allocatable.memory, (6903 + 100 - 500) * MI);
    assert_eq!(it.allocatable.ephemeral_storage, 18 * GI);
    let bad = nc(|n| {
        n.kubelet.eviction_hard.insert("memory.available".into(), "many".into());
    });
    let e = CatalogSource::default_aws().resolve(Some(&bad)).unwrap_err();
    assert!(e.to_string().contains("evictionHard.memory.available"), "{e}");
}

#[test]
fn ephemeral_storage_rules() {
    // RAID0 instance store: decimal GB; types without instance store keep the EBS volume.
    let c = us_east_1(Some(&nc(|n| n.instance_store_raid0 = true)));
    let p5 = get(&c, "p5.48xlarge");
    assert_eq!(p5.capacity.ephemeral_storage, 30400 * 1_000_000_000);
    assert_eq!(p5.overhead.eviction_threshold.ephemeral_storage, 3040 * 1_000_000_000);
    assert_eq!(get(&c, "m5.large").capacity.ephemeral_storage, 20 * GI);
    // A root volume mapping wins; else the family's device; other devices are ignored.
    let bdm = |dev: &str, root: bool, gi: i64| BlockDeviceMapping {
        device_name: Some(dev.to_string()),
        root_volume: root,
        volume_size: Some(gi * GI),
    };
    let c = us_east_1(Some(&nc(|n| {
        n.block_device_mappings = vec![bdm("/dev/xvdz", false, 7), bdm("/dev/xvdq", true, 100)]
    })));
    assert_eq!(get(&c, "m5.large").capacity.ephemeral_storage, 100 * GI);
    let c = us_east_1(Some(&nc(|n| n.block_device_mappings = vec![bdm("/dev/xvda", false, 80)])));
    assert_eq!(get(&c, "m5.large").capacity.ephemeral_storage, 80 * GI);
    let c = us_east_1(Some(&nc(|n| n.block_device_mappings = vec![bdm("/dev/xvdz", false, 80)])));
    assert_eq!(get(&c, "m5.large").capacity.ephemeral_storage, 20 * GI);
    let c = us_east_1(Some(&nc(|n| {
        n.ami_family = AmiFamily::Custom;
        n.block_device_mappings = vec![bdm("/dev/xvda", false, 30), bdm("/dev/xvdz", false, 60)];
    })));
    assert_eq!(get(&c, "m5.large").capacity.ephemeral_storage, 60 * GI, "Custom: last mapping");
    let c = us_east_1(Some(&nc(|n| {
        n.ami_family = AmiFamily::Bottlerocket;
        n.block_device_mappings = vec![bdm("/dev/xvda", false, 4), bdm("/dev/xvdb", false, 40)];
    })));
    assert_eq!(get(&c, "m5.large").capacity.ephemeral_storage, 40 * GI, "Bottlerocket: /dev/xvdb");
}

fn aws_with(options: karpsim::catalog::AwsOptions, prices: PricePolicy) -> CatalogSource {
    CatalogSource::Aws { region: "us-east-1".into(), options, prices }
}

#[test]
fn reserved_enis_and_vm_overhead_options() {
    let opts = karpsim::catalog::AwsOptions { reserved_enis: 1, ..Default::default() };
    let c = aws_with(opts, PricePolicy::default()).resolve(None).unwrap();
    let it = get(&c, "m5.large");
    assert_eq!(it.capacity.pods, 2 * 9 + 2);
    assert_eq!(it.overhead.kube_reserved.memory, 574 * MI, "memory reserve ignores RESERVED_ENIS");
    let opts = karpsim::catalog::AwsOptions { vm_memory_overhead_percent: 0.0, ..Default::default() };
    let c = aws_with(opts, PricePolicy::default()).resolve(None).unwrap();
    assert_eq!(get(&c, "m5.large").capacity.memory, 8192 * MI);
    assert_eq!(get(&c, "c6g.xlarge").capacity.memory, 8128 * MI, "Graviton still loses 64 MiB");
    let bad = karpsim::catalog::AwsOptions { vm_memory_overhead_percent: -0.5, ..Default::default() };
    assert!(aws_with(bad, PricePolicy::default()).resolve(None).is_err());
}

fn offering<'a>(it: &'a InstanceType, zone: &str, ct: &str) -> &'a karpsim::catalog::Offering {
    it.offerings
        .iter()
        .find(|o| o.zone.as_str() == zone && o.capacity_type.as_str() == ct)
        .unwrap_or_else(|| panic!("{} has no {zone}/{ct} offering", it.name))
}

#[test]
fn default_prices_and_offerings() {
    let c = us_east_1(None);
    let it = get(&c, "m5.large");
    let od = offering(it, "us-east-1a", "on-demand");
    assert_eq!((od.price, od.price_source, od.available), (0.096, PriceSource::Catalog, true));
    assert_eq!(od.zone_id, Some(Sym::new("use1-az2")));
    let spot = offering(it, "us-east-1a", "spot");
    assert_eq!(spot.price_source, PriceSource::SpotAdvisorEstimate);
    assert!((spot.price - 0.096 * (1.0 - 0.66)).abs() < 1e-12, "{}", spot.price);
    assert_eq!(it.spot_savings_percent, Some(66));
    assert!(it.spot_interruption.is_some());
    let cheapest = it.cheapest_available().unwrap();
    assert_eq!(cheapest.capacity_type.as_str(), "spot");
    let mut sorted = it.offerings.clone();
    sorted.sort_by_key(|a| (a.zone, a.capacity_type));
    assert_eq!(sorted, it.offerings);
    assert!(c.warnings.iter().any(|w| w.contains("cold-start")), "{:?}", c.warnings);
    // a1 cannot run AL2023 (compatibility.go).
    assert!(!get(&c, "a1.large").has_available_offering());
    let names: Vec<&str> = c.instance_types.iter().map(|t| t.name.as_str()).collect();
    assert!(names.windows(2).all(|w| w[0] < w[1]), "sorted by name");
}

#[test]
fn nodeclass_zones_restrict_offerings() {
    let n = nc(|n| n.zones = Some(vec![Sym::new("us-east-1b")]));
    let c = us_east_1(Some(&n));
    let it = get(&c, "m5.large");
    assert_eq!(it.zones().collect::<Vec<_>>(), vec![Sym::new("us-east-1b")]);
    assert_eq!(it.capacity_types(), vec![Sym::new("on-demand"), Sym::new("spot")]);
    let none = nc(|n| n.zones = Some(vec![Sym::new("us-east-1z")]));
    assert!(CatalogSource::default_aws().resolve(Some(&none)).is_err(), "no offering at all is an error");
}

#[test]
fn regions_without_prices_fall_back_to_us_east_1() {
    let c = CatalogSource::parse("aws:us-west-2").unwrap().resolve(None).unwrap();
    assert_eq!(c.region, Some(Sym::new("us-west-2")));
    let od = offering(get(&c, "m5.large"), "us-west-2a", "on-demand");
    assert_eq!((od.price, od.price_source), (0.096, PriceSource::UsEast1Fallback));
    assert!(c.warnings.iter().any(|w| w.contains("us-east-1 price")), "{:?}", c.warnings);
    let c = CatalogSource::parse("aws:eu-west-1").unwrap().resolve(None).unwrap();
    assert!(c.instance_types.iter().any(|t| t.has_available_offering()));
}

#[test]
fn price_policy_overrides() {
    let mut prices = PricePolicy { on_demand_multiplier: 0.72, spot_discount: Some(0.5), ..Default::default() };
    prices.by_family.insert("c5".into(), karpsim::catalog::CapacityPrices { on_demand: Some(1.0), spot: None });
    prices
        .by_type
        .insert("c5.large".into(), karpsim::catalog::CapacityPrices { on_demand: Some(2.0), spot: Some(0.01) });
    let c = aws_with(Default::default(), prices).resolve(None).unwrap();
    let m5 = get(&c, "m5.large");
    let od = offering(m5, "us-east-1a", "on-demand");
    assert!((od.price - 0.096 * 0.72).abs() < 1e-12);
    let spot = offering(m5, "us-east-1a", "spot");
    assert_eq!(spot.price_source, PriceSource::Override);
    assert!((spot.price - 0.048).abs() < 1e-12, "spot from the list price, not the savings-plan price");
    let c5 = get(&c, "c5.large");
    assert_eq!(offering(c5, "us-east-1a", "on-demand").price, 2.0);
    assert_eq!(offering(c5, "us-east-1a", "spot").price, 0.01);
    assert_eq!(offering(get(&c, "c5.xlarge"), "us-east-1a", "on-demand").price, 1.0);

    let bad = PricePolicy { spot_multiplier: -1.0, ..Default::default() };
    let e = aws_with(Default::default(), bad).resolve(None).unwrap_err();
    assert!(matches!(e, karpsim::Error::Option { .. }), "{e}");
    let mut bad = PricePolicy::default();
    bad.by_type.insert("m5.large".into(), karpsim::catalog::CapacityPrices { on_demand: Some(f64::NAN), spot: None });
    assert!(aws_with(Default::default(), bad).resolve(None).is_err());
}

#[test]
fn resolving_us_east_1_is_fast_enough_to_do_per_nodeclass() {
    let _ = us_east_1(None);
    let start = std::time::Instant::now();
    for _ in 0..3 {
        let _ = us_east_1(None);
    }
    assert!(start.elapsed().as_secs_f64() < 3.0, "{:?} for 3 resolutions (debug build)", start.elapsed());
}

const CUSTOM_JSON: &str = r#"{"instance_types": [
  {"name": "small", "capacity": {"cpu": "2", "memory": "2Gi", "pods": "5"},
   "overhead": {"cpu": "100m", "memory": "10Mi"},
   "labels": {"kubernetes.io/arch": "amd64", "kubernetes.io/os": "linux", "size": "small"},
   "offerings": [{"zone": "zone-1", "capacity_type": "spot", "price": 0.41, "available": true},
                 {"zone": "zone-1", "capacity_type": "on-demand", "price": 0.60}]}]}"#;

#[test]
fn custom_catalog_json() {
    let c = karpsim::catalog::parse_custom_catalog("custom.json", CUSTOM_JSON).unwrap();
    assert_eq!(c.name, "custom.json");
    let it = get(&c, "small");
    assert_eq!((it.capacity.cpu, it.capacity.memory, it.capacity.pods), (2000, 2 * GI, 5));
    assert_eq!(it.overhead.kube_reserved.cpu, 100);
    assert_eq!((it.allocatable.cpu, it.allocatable.memory), (1900, 2 * GI - 10 * MI));
    assert_eq!(it.label(Sym::new("size")), Some(Some(Sym::new("small"))));
    assert_eq!(it.label(Sym::new("node.kubernetes.io/instance-type")), Some(Some(Sym::new("small"))));
    assert_eq!(it.offerings.len(), 2);
    assert_eq!(it.offerings[0].capacity_type.as_str(), "on-demand", "sorted by (zone, capacity type)");
    assert!(it.offerings.iter().all(|o| o.available && o.price_source == PriceSource::Catalog));
    assert_eq!(it.cheapest_available().unwrap().price, 0.41);
}

#[test]
fn custom_catalog_yaml_through_catalog_source() {
    let yaml = "instance_types:\n  - name: big\n    capacity: {cpu: 8, memory: 32Gi, pods: 110, nvidia.com/gpu: 1}\n    labels: {gen: 5, gpu: true}\n    offerings:\n      - {zone: z-b, capacity_type: reserved, price: 0.0, reservation_id: cr-1, count: 2}\n      - {zone: z-a, capacity_type: on-demand, price: 1.5, available: false}\n  - name: aaa\n    capacity: {cpu: 1}\n    offerings: [{zone: z-a, capacity_type: spot, price: 0.1}]\n";
    let path = std::env::temp_dir().join(format!("karpsim-catalog-test-{}.yaml", std::process::id()));
    std::fs::write(&path, yaml).unwrap();
    let source = CatalogSource::parse(path.to_str().unwrap());
    let _ = std::fs::remove_file(&path);
    let source = source.unwrap();
    // The NodeClass is ignored for custom catalogs.
    let c = source.resolve(Some(&nc(|n| n.kubelet.max_pods = Some(3)))).unwrap();
    let names: Vec<&str> = c.instance_types.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(names, ["aaa", "big"]);
    let big = get(&c, "big");
    assert_eq!(big.capacity.pods, 110);
    assert_eq!(big.allocatable.get("nvidia.com/gpu"), 1);
    assert_eq!(big.label(Sym::new("gen")), Some(Some(Sym::new("5"))));
    assert_eq!(big.label(Sym::new("gpu")), Some(Some(Sym::new("true"))));
    assert_eq!(big.capacity_types(), vec![Sym::new("reserved")]);
    assert_eq!(big.zones().collect::<Vec<_>>(), vec![Sym::new("z-b")]);
    let r = big.offerings.iter().find_map(|o| o.reservation.as_ref()).unwrap();
    assert_eq!((r.id.as_str(), r.capacity), ("cr-1", 2));
}

#[test]
fn custom_reserved_offerings_need_their_reservation_and_count() {
    let offer = |o: &str| format!(r#"{{"instance_types": [{{"name": "a", "capacity": {{"cpu": 1}}, "offerings": [{o}]}}]}}"#);
    for (o, want) in [
        (r#"{"zone": "z", "capacity_type": "reserved", "price": 0, "count": 1}"#, "offerings[0].reservation_id"),
        (r#"{"zone": "z", "capacity_type": "reserved", "price": 0, "reservation_id": "cr-1"}"#, "offerings[0].count"),
        (r#"{"zone": "z", "capacity_type": "reserved", "price": 0, "reservation_id": "cr-1", "count": -1}"#, "offerings[0].count"),
        (r#"{"zone": "z", "capacity_type": "spot", "price": 0, "count": 1}"#, "belong to reserved offerings"),
    ] {
        let e = parse_custom_catalog("c.json", &offer(o)).unwrap_err().to_string();
        assert!(e.contains(want) && e.contains("instance type \"a\""), "{o}: {e}");
    }
    // a reservation with nothing left cannot launch
    let c = parse_custom_catalog("c.json", &offer(r#"{"zone": "z", "capacity_type": "reserved", "price": 0, "reservation_id": "cr-1", "count": 0}, {"zone": "z", "capacity_type": "spot", "price": 1}"#)).unwrap();
    assert_eq!(c.instance_types[0].capacity_types(), vec![Sym::new("spot")]);
}

#[test]
fn custom_catalog_errors_name_the_type_and_field() {
    let one = |body: &str| format!(r#"{{"instance_types": [{body}]}}"#);
    let ok_offer = r#""offerings": [{"zone": "z", "capacity_type": "spot", "price": 1}]"#;
    let cases: Vec<(String, &[&str])> = vec![
        (one(&format!(r#"{{"name": "a", "capacity": {{"cpu": 1}}, "colour": "red", {ok_offer}}}"#)), &["colour"]),
        (one(&format!(r#"{{"name": "a", "capacity": {{"cpu": "-1"}}, {ok_offer}}}"#)), &["\"a\"", "capacity.cpu"]),
        (one(&format!(r#"{{"name": "a", "capacity": {{"cpu": "x"}}, {ok_offer}}}"#)), &["\"a\"", "capacity.cpu"]),
        (one(&format!(r#"{{"name": "a", "capacity": {{"cpu": 1}}, "overhead": {{"memory": "-1Mi"}}, {ok_offer}}}"#)), &["overhead.memory"]),
        (one(&format!(r#"{{"name": "a", "capacity": {{"cpu": 1}}, "overhead": {{"cpu": 2}}, {ok_offer}}}"#)), &["\"a\"", "overhead.cpu", "exceeds"]),
        (one(r#"{"name": "a", "capacity": {"cpu": 1}, "offerings": [{"zone": "z", "capacity_type": "spot", "price": -1}]}"#), &["\"a\"", "offerings[0].price"]),
        (one(r#"{"name": "a", "capacity": {"cpu": 1}, "offerings": [{"zone": "z", "capacity_type": "preemptible", "price": 1}]}"#), &["\"a\"", "capacity_type", "preemptible"]),
        (one(r#"{"name": "a", "capacity": {"cpu": 1}, "offerings": []}"#), &["\"a\"", "no offerings"]),
        (one(r#"{"name": "a", "capacity": {"cpu": 1}}"#), &["\"a\"", "no offerings"]),
        (one(&format!(r#"{{"name": " ", "capacity": {{"cpu": 1}}, {ok_offer}}}"#)), &["instance_types[0]", "empty"]),
        (
            one(&format!(r#"{{"name": "a", "capacity": {{"cpu": 1}}, {ok_offer}}}, {{"name": "a", "capacity": {{"cpu": 1}}, {ok_offer}}}"#)),
            &["\"a\"", "duplicate"],
        ),
        (one(r#"{"name": "a", "capacity": {"cpu": 1}, "offerings": [{"zone": "z", "capacity_type": "spot", "price": 1, "available": false}]}"#), &["no instance type has an available offering"]),
        (one(&format!(r#"{{"name": "a", "capacity": {{"cpu": 1}}, "labels": {{"topology.kubernetes.io/zone": "z"}}, {ok_offer}}}"#)), &["topology.kubernetes.io/zone"]),
        (r#"{"instance_types": []}"#.to_string(), &["no instance type has an available offering"]),
        ("instance_types: [{name: a, capacity: {cpu: 1}, offerings: [{zone: z, capacity_type: spot, price: .nan}]}]".to_string(), &["\"a\"", "price"]),
        ("instance_types:\n  - name: a\n    capacity: {cpu: 1}\n    offerings: [{zone: z, capacity_type: spot, price: 1, extra: 2}]\n".to_string(), &["extra"]),
    ];
    for (text, needles) in cases {
        let e = karpsim::catalog::parse_custom_catalog("bad.json", &text).expect_err(&text);
        assert!(matches!(e, karpsim::Error::Catalog { .. }), "{e}");
        let msg = e.to_string();
        assert!(msg.contains("bad.json"), "{msg}");
        for n in needles {
            assert!(msg.contains(n), "{msg:?} should contain {n:?} (input {text})");
        }
    }
}

#[test]
fn catalog_sources_and_serde_round_trip() {
    assert_eq!(CatalogSource::parse(" aws:us-east-1 ").unwrap(), CatalogSource::default_aws());
    assert_eq!(karpsim::catalog::aws_regions(), ["eu-west-1", "us-east-1", "us-west-2"]);
    let c = us_east_1(None);
    let it = get(&c, "p5.48xlarge");
    let json = serde_json::to_string(it).unwrap();
    let back: InstanceType = serde_json::from_str(&json).unwrap();
    assert_eq!((&back.name, &back.labels, &back.capacity), (&it.name, &it.labels, &it.capacity));
    assert_eq!((&back.overhead, &back.allocatable), (&it.overhead, &it.allocatable));
    assert_eq!(back.offerings.len(), it.offerings.len());
    assert!(json.contains(r#""price_source":"spot-advisor-estimate""#), "{json}");
}
