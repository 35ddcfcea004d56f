//! NodeOverlay: ordering, conflicts, price and capacity changes, and their effect on provisioning
//! and consolidation. Each test names the Karpenter v1.14.1 test it follows
//! (`pkg/controllers/nodeoverlay/suite_test.go` unless said otherwise).

mod common;

use common::*;
use karpsim::catalog::{CatalogSource, PriceSource, parse_custom_catalog};
use karpsim::io::Inputs;
use karpsim::scheduling::{ProvisionOptions, provision};
use karpsim::state::ClusterState;
use std::sync::Arc;

fn state_from(catalog_json: &str, yaml: &str) -> karpsim::Result<ClusterState> {
    let cat = CatalogSource::Custom(Arc::new(parse_custom_catalog("test-catalog", catalog_json).expect("catalog")));
    let mut i = Inputs::new();
    i.load_str(yaml, "test.yaml")?;
    ClusterState::from_inputs(i.finish()?, &cat)
}

fn overlay(name: &str, weight: i32, reqs: &[&str], body: &str) -> String {
    let mut s = format!("---\napiVersion: karpenter.sh/v1alpha1\nkind: NodeOverlay\nmetadata: {{name: {name}}}\nspec:\n");
    if weight != 0 {
        s += &format!("  weight: {weight}\n");
    }
    s += "  requirements:\n";
    for r in reqs {
        s += &format!("  - {r}\n");
    }
    s += body;
    s
}

/// The offerings' prices of a type in a pool, in offering order.
fn prices(s: &ClusterState, pool: &str, it: &str) -> Vec<f64> {
    let pt = &s.pool_types[&karpsim::labels::Sym::new(pool)];
    let t = pt.types.iter().find(|t| t.it.name.as_str() == it).expect("type");
    t.it.offerings.iter().map(|o| o.price).collect()
}

fn capacity(s: &ClusterState, pool: &str, it: &str, resource: &str) -> i64 {
    let pt = &s.pool_types[&karpsim::labels::Sym::new(pool)];
    pt.types.iter().find(|t| t.it.name.as_str() == it).expect("type").it.capacity.get(resource)
}

/// `fake.NewInstanceType("default-instance-type", WithOfferings(spot, test-zone-1, 1.020))`.
fn one_offering_catalog() -> String {
    catalog(&[it("default-instance-type", 4, 4, 5).offers(&[("test-zone-1", "spot", 1.020)])])
}

fn two_pools() -> String {
    format!("{}{}", pool("np-1", &[]), pool("np-2", &[]))
}

#[test]
fn price_overlay_applies_only_to_the_nodepool_it_selects() {
    // "should pass with conflicting pricing update overlays with mutually exclusive weights"
    for (body, want) in [("  price: \"13234.223\"\n", 13234.223), ("  priceAdjustment: \"+1000\"\n", 1001.020)] {
        let yaml = format!("{}{}", two_pools(), overlay("o", 10, &["{key: karpenter.sh/nodepool, operator: In, values: [np-1]}"], body));
        let s = state_from(&one_offering_catalog(), &yaml).unwrap();
        assert!((prices(&s, "np-1", "default-instance-type")[0] - want).abs() < 1e-9, "{body}");
        assert_eq!(prices(&s, "np-2", "default-instance-type"), vec![1.020]);
    }
}

#[test]
fn same_weight_overlays_on_the_same_offerings_conflict_and_the_later_name_wins() {
    // "should fail when requirements overlays overlap": overlay-b sorts first (same weight, name
    // descending) and applies; overlay-a then conflicts and applies nowhere.
    let cat = catalog(&[it("arm-instance-type", 16, 128, 5).label("kubernetes.io/arch", "arm64"), it("default-instance-type", 4, 4, 5)]);
    let yaml = format!(
        "{}{}{}",
        pool("np-1", &[]),
        overlay("overlay-a", 10, &["{key: kubernetes.io/arch, operator: In, values: [arm64]}"], "  price: \"1.03\"\n"),
        overlay("overlay-b", 10, &["{key: karpenter.sh/capacity-type, operator: Exists}"], "  price: \"23\"\n")
    );
    let s = state_from(&cat, &yaml).unwrap();
    assert!(prices(&s, "np-1", "arm-instance-type").iter().all(|p| *p == 23.0));
    assert!(prices(&s, "np-1", "default-instance-type").iter().all(|p| *p == 23.0));
    assert!(s.warnings.iter().any(|w| w.contains("NodeOverlay overlay-a conflicts")), "{:?}", s.warnings);
    // different weights do not conflict: the heavier one's price stays
    let yaml = yaml.replace("metadata: {name: overlay-a}\nspec:\n  weight: 10", "metadata: {name: overlay-a}\nspec:\n  weight: 20");
    let s = state_from(&cat, &yaml).unwrap();
    assert!(prices(&s, "np-1", "arm-instance-type").iter().all(|p| *p == 1.03));
    assert!(prices(&s, "np-1", "default-instance-type").iter().all(|p| *p == 23.0));
    assert!(!s.warnings.iter().any(|w| w.contains("conflicts")));
}

#[test]
fn the_heavier_capacity_overlay_wins() {
    // "should apply higher weight overlay when multiple overlays match the same instance type"
    let req = "{key: node.kubernetes.io/instance-type, operator: In, values: [default-instance-type]}";
    let yaml = format!(
        "{}{}{}",
        pool("np-1", &[]),
        overlay("overlay-a", 10, &[req], "  capacity: {smarter-devices/fuse: \"5\"}\n"),
        overlay("overlay-b", 20, &[req], "  capacity: {smarter-devices/fuse: \"99\"}\n")
    );
    let s = state_from(&one_offering_catalog(), &yaml).unwrap();
    assert_eq!(capacity(&s, "np-1", "default-instance-type", "smarter-devices/fuse"), 99);
    let t = &s.pool_types[&karpsim::labels::Sym::new("np-1")].types[0];
    assert_eq!(t.it.allocatable.get("smarter-devices/fuse"), 99, "allocatable follows capacity");
}

#[test]
fn a_conflicting_capacity_overlay_is_not_applied_to_any_type() {
    // "should that there is not a partial application for instance types"
    let cat = catalog(&[
        it("default-instance-type", 4, 4, 5),
        it("small-instance-type", 2, 2, 5),
        it("gpu-vendor-instance-type", 4, 4, 5),
        it("gpu-vendor-b-instance-type", 4, 4, 5),
    ]);
    let yaml = format!(
        "{}{}{}",
        pool("np-1", &[]),
        overlay(
            "overlay-a",
            10,
            &[
                "{key: node.kubernetes.io/instance-type, operator: In, values: [default-instance-type, small-instance-type, gpu-vendor-b-instance-type]}"
            ],
            "  capacity: {smarter-devices/buz: \"54\"}\n"
        ),
        overlay(
            "overlay-b",
            10,
            &["{key: node.kubernetes.io/instance-type, operator: In, values: [small-instance-type, gpu-vendor-instance-type]}"],
            "  capacity: {smarter-devices/buz: \"21\"}\n"
        )
    );
    let s = state_from(&cat, &yaml).unwrap();
    let buz = |t: &str| capacity(&s, "np-1", t, "smarter-devices/buz");
    assert_eq!((buz("default-instance-type"), buz("gpu-vendor-b-instance-type")), (0, 0));
    assert_eq!((buz("small-instance-type"), buz("gpu-vendor-instance-type")), (21, 21));
}

#[test]
fn price_and_capacity_overlays_of_one_type_combine() {
    // "should apply pricing and capacity adjustment from two overlays on the same instance type"
    let req = "{key: node.kubernetes.io/instance-type, operator: In, values: [default-instance-type]}";
    let yaml = format!(
        "{}{}{}",
        pool("np-1", &[]),
        overlay("price", 10, &[req], "  priceAdjustment: \"+1000.0\"\n"),
        overlay("capacity", 10, &[req], "  capacity: {smarter-devices/fuse: \"1\"}\n")
    );
    let s = state_from(&one_offering_catalog(), &yaml).unwrap();
    assert!((prices(&s, "np-1", "default-instance-type")[0] - 1001.020).abs() < 1e-9);
    assert_eq!(capacity(&s, "np-1", "default-instance-type", "smarter-devices/fuse"), 1);
}

#[test]
fn offering_level_requirements_and_hugepages() {
    // "should update price offerings instance types from multiple overlays with different weights":
    // capacity by zone, and hugepages taken out of allocatable memory (`computeAllocatable`).
    let cat = catalog(&[
        it("zone-one", 4, 4, 5).offers(&[("test-zone-1", "spot", 1.020)]),
        it("zone-two", 4, 4, 5).offers(&[("test-zone-2", "on-demand", 2.020)]),
    ]);
    let yaml = format!(
        "{}{}{}",
        pool("np-1", &[]),
        overlay(
            "a",
            20,
            &["{key: topology.kubernetes.io/zone, operator: In, values: [test-zone-2]}"],
            "  capacity: {smarter-devices/fuse: \"1\"}\n"
        ),
        overlay(
            "b",
            10,
            &["{key: topology.kubernetes.io/zone, operator: In, values: [test-zone-2, test-zone-4]}"],
            "  capacity: {hugepages-1Gi: 2Gi}\n"
        )
    );
    let s = state_from(&cat, &yaml).unwrap();
    assert_eq!(capacity(&s, "np-1", "zone-two", "smarter-devices/fuse"), 1);
    assert_eq!(capacity(&s, "np-1", "zone-two", "hugepages-1Gi"), 2 << 30);
    assert_eq!(capacity(&s, "np-1", "zone-one", "smarter-devices/fuse"), 0);
    let t = s.pool_types[&karpsim::labels::Sym::new("np-1")].types.iter().find(|t| t.it.name.as_str() == "zone-two").unwrap().clone();
    assert_eq!(t.it.allocatable.memory, t.it.capacity.memory - (10 << 20) - (2 << 30));
    assert_eq!(prices(&s, "np-1", "zone-two"), vec![2.020]);
}

#[test]
fn a_cheaper_overlaid_type_is_what_provisioning_launches() {
    // Price overlays change `OrderByPrice` and the launch (nodeclaimtemplate.go, `IsPricingOverlayApplied`):
    // the cheapest type by its overlaid price wins.
    let cat = catalog(&[it("a-type", 4, 4, 5).price(1.0), it("b-type", 4, 4, 5).price(2.0)]);
    let base = format!("{}{}", pool("np-1", &[ANY_CT]), pod("p", "1", "", "", ""));
    let r = provision(&state_from(&cat, &base).unwrap(), &ProvisionOptions::default());
    assert_eq!(r.nodeclaims[0].instance_type, "a-type");
    let yaml = format!(
        "{base}{}",
        overlay("deal", 0, &["{key: node.kubernetes.io/instance-type, operator: In, values: [b-type]}"], "  priceAdjustment: \"-75%\"\n")
    );
    let s = state_from(&cat, &yaml).unwrap();
    let r = provision(&s, &ProvisionOptions::default());
    assert_eq!(r.nodeclaims[0].instance_type, "b-type");
    assert!((r.nodeclaims[0].price_per_hour - 0.5).abs() < 1e-9);
    assert!(r.warnings.iter().any(|w| w.contains("NodeOverlay feature gate")), "{:?}", r.warnings);
    let t = s.pool_types[&karpsim::labels::Sym::new("np-1")].types.iter().find(|t| t.it.name.as_str() == "b-type").unwrap().clone();
    assert!(t.it.offerings.iter().all(|o| o.price_source == PriceSource::Overlay && o.overlay.map(|x| x.as_str()) == Some("deal")));
}

#[test]
fn an_overlaid_price_decides_consolidation() {
    // Consolidation compares the candidate's `OfferingPrice` and the replacement's `WorstLaunchPrice`,
    // both from the overlaid instance types (`cloudprovider/overlay` decorates GetInstanceTypes).
    let cat = catalog(&[it("big", 8, 8, 10).price(2.0), it("small", 2, 2, 10).price(0.5)]);
    let yaml = format!(
        "{}{}{}",
        pool("np-1", &[ANY_CT]),
        node("n1", "karpenter.sh/nodepool: np-1, node.kubernetes.io/instance-type: big, topology.kubernetes.io/zone: test-zone-1, karpenter.sh/capacity-type: on-demand, karpenter.sh/initialized: 'true'", "8", "8Gi", 10, "")
            .replace("metadata: {name: n1,", "metadata: {name: n1, creationTimestamp: '2024-01-01T00:00:00Z',"),
        bound_pod("p", "n1", "500m", "", "")
    );
    let once = |yaml: &str| {
        let s = state_from(&cat, yaml).unwrap();
        karpsim::disruption::disrupt_once(&s, &karpsim::disruption::DisruptionOptions { now: Some(1_704_070_800), ..Default::default() })
    };
    let r = once(&yaml);
    assert_eq!(r.commands.len(), 1, "{r:#?}");
    assert_eq!(r.commands[0].method, karpsim::disruption::Method::SingleNode);
    assert_eq!(r.commands[0].replacements[0].instance_type, "small");
    // an overlay that makes `small` cost more than `big` leaves nothing cheaper to move to
    let r = once(&format!(
        "{yaml}{}",
        overlay("dear", 0, &["{key: node.kubernetes.io/instance-type, operator: In, values: [small]}"], "  price: \"3\"\n")
    ));
    assert!(r.commands.is_empty(), "{r:#?}");
}

#[test]
fn an_overlay_price_makes_an_unpriced_aws_type_launchable() {
    // AWS provider `offering/offering.go: GetOverlayPrice`: a valid overlay with a price and a single
    // instance-type requirement prices a type the pricing data does not have.
    let yaml = "apiVersion: karpenter.sh/v1\nkind: NodePool\nmetadata: {name: gpu}\nspec:\n  template:\n    spec:\n      nodeClassRef: {group: karpenter.k8s.aws, kind: EC2NodeClass, name: default}\n      requirements:\n      - {key: node.kubernetes.io/instance-type, operator: In, values: [p5e.48xlarge]}\n      - {key: karpenter.sh/capacity-type, operator: In, values: [on-demand]}\n";
    let load = |extra: &str| {
        let mut i = Inputs::new();
        i.load_str(&format!("{yaml}{extra}"), "t.yaml").unwrap();
        ClusterState::from_inputs(i.finish().unwrap(), &CatalogSource::parse("aws:us-west-2").unwrap()).unwrap()
    };
    let p5e = |s: &ClusterState| {
        s.pool_types[&karpsim::labels::Sym::new("gpu")].types.iter().find(|t| t.it.name.as_str() == "p5e.48xlarge").unwrap().clone()
    };
    let before = load("");
    assert!(p5e(&before).it.offerings.iter().all(|o| !o.available && o.price_source == PriceSource::Unpriced));
    let after = load(&overlay(
        "p5e-price",
        0,
        &["{key: node.kubernetes.io/instance-type, operator: In, values: [p5e.48xlarge]}"],
        "  price: \"44.5\"\n",
    ));
    let t = p5e(&after);
    assert!(t.it.offerings.iter().all(|o| o.available && o.price == 44.5 && o.price_source == PriceSource::Overlay));
}

#[test]
fn bad_overlays_are_errors_that_name_the_object_and_field() {
    let load =
        |yaml: &str| state_from(&one_offering_catalog(), &format!("{}{yaml}", pool("np-1", &[]))).map(|_| ()).unwrap_err().to_string();
    let req = "{key: karpenter.sh/capacity-type, operator: Exists}";
    let e = load(&overlay("both", 0, &[req], "  price: \"1\"\n  priceAdjustment: \"+1\"\n"));
    assert!(e.contains("test.yaml") && e.contains("NodeOverlay both") && e.contains("cannot set both"), "{e}");
    let e = load(&overlay("typo", 0, &[req], "  priceAdjustment: \"-20 percent\"\n"));
    assert!(e.contains("NodeOverlay typo") && e.contains("field spec.priceAdjustment"), "{e}");
    let e = load(&overlay("negative", 0, &[req], "  priceAdjustment: \"-2\"\n"));
    assert!(
        e.contains("test.yaml") && e.contains("NodeOverlay negative") && e.contains("field spec.priceAdjustment") && e.contains("$0"),
        "{e}"
    );
    let e = load(&overlay("cpu", 0, &[req], "  capacity: {cpu: \"2\"}\n"));
    assert!(e.contains("field spec.capacity.cpu"), "{e}");
    let e = load(&overlay("host", 0, &["{key: kubernetes.io/hostname, operator: In, values: [a]}"], "  price: \"1\"\n"));
    assert!(e.contains("field spec.requirements[0].key") && e.contains("restricted"), "{e}");
    let e = load(&overlay("heavy", 20_000, &[req], "  price: \"1\"\n"));
    assert!(e.contains("field spec.weight"), "{e}");
}
