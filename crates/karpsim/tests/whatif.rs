//! What-if changes on clusters (`karpsim::whatif`): every value checked against what it can mean,
//! typos refused with the valid values and the closest one, the changes applied to NodePools,
//! NodeClasses and prices, and cluster comparisons (provision, then consolidation).

use karpsim::catalog::CatalogSource;
use karpsim::disruption::{DisruptionOptions, until_stable};
use karpsim::io::Inputs;
use karpsim::progress::Progress;
use karpsim::scheduling::{ProvisionOptions, provision};
use karpsim::state::ClusterState;
use karpsim::whatif::{ClusterRun, Setup, Variant, apply, compare_clusters, parse_vary};
use std::path::Path;

fn load(path: &str) -> Setup {
    let mut inputs = Inputs::new();
    inputs.load_path(&Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").join(path)).unwrap();
    let source = CatalogSource::default_aws();
    Setup::new(ClusterState::from_inputs(inputs.finish().unwrap(), &source).unwrap(), source)
}

fn boutique() -> Setup {
    load("examples/online-boutique")
}

fn snapshot() -> Setup {
    load("examples/eks-snapshot/cluster.json")
}

fn changes(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
}

fn apply_err(setup: &Setup, pairs: &[(&str, &str)]) -> String {
    match apply(setup.clone(), &changes(pairs)) {
        Ok(_) => panic!("{pairs:?} was accepted"),
        Err(e) => e.to_string(),
    }
}

fn applied(setup: &Setup, pairs: &[(&str, &str)]) -> Setup {
    let (s, rest) = apply(setup.clone(), &changes(pairs)).unwrap_or_else(|e| panic!("{pairs:?}: {e}"));
    assert!(rest.is_empty(), "{rest:?}");
    s
}

#[test]
fn typos_are_errors_that_list_the_valid_values_and_suggest_the_closest() {
    let b = boutique();
    let e = apply_err(&b, &[("arch", "arm")]);
    assert!(e.contains("arch=arm") && e.contains("did you mean \"arm64\"") && e.contains("valid: amd64, arm64"), "{e}");
    let e = apply_err(&b, &[("capacity_types", "spotty")]);
    assert!(e.contains("did you mean \"spot\"") && e.contains("on-demand, spot"), "{e}");
    let e = apply_err(&b, &[("instance_families", "M7I")]);
    assert!(e.contains("did you mean \"m7i\"") && e.contains("m7g,"), "{e}");
    let e = apply_err(&b, &[("instance_families", "m7i+m99z")]);
    assert!(e.contains("\"m99z\"") && !e.contains("did you mean") && e.contains("c7i"), "{e}");
    let e = apply_err(&b, &[("instance_categories", "q")]);
    assert!(e.contains("instance category \"q\"") && e.contains("valid: "), "{e}");
    let e = apply_err(&b, &[("instance_sizes", "xlarg")]);
    assert!(e.contains("did you mean \"xlarge\""), "{e}");
    let e = apply_err(&b, &[("nodepools", "defualt"), ("arch", "arm64")]);
    assert!(e.contains("NodePool \"defualt\"") && e.contains("did you mean \"default\""), "{e}");
    let e = apply_err(&b, &[("capasity_types", "spot")]);
    assert!(e.contains("did you mean \"capacity_types\""), "{e}");
    let e = apply_err(&b, &[("price", "m5.larg:spot=0.01")]);
    assert!(e.contains("did you mean \"m5.large\""), "{e}");
    let e = apply_err(&b, &[("price", "m5.large=0.01")]);
    assert!(e.contains("NAME:CAPACITY=PRICE"), "{e}");
    let e = apply_err(&b, &[("consolidation_policy", "WhenEmpyt")]);
    assert!(e.contains("did you mean \"WhenEmpty\""), "{e}");
    let e = apply_err(&b, &[("capacity_types", "")]);
    assert!(e.contains("empty value"), "{e}");
    let e = apply_err(&b, &[("capacity_types", "spot+")]);
    assert!(e.contains("empty value"), "{e}");
    assert!(parse_vary("capasity_types=spot").unwrap_err().to_string().contains("did you mean \"capacity_types\""));
}

#[test]
fn valid_values_change_what_the_nodepools_launch() {
    let b = boutique();
    let base = provision(&b.state, &ProvisionOptions::default());
    let arm = applied(&b, &[("arch", "arm64")]);
    let r = provision(&arm.state, &ProvisionOptions::default());
    assert!(r.unschedulable.is_empty());
    assert!(r.nodeclaims.iter().all(|nc| nc.requirements.iter().any(|q| q == "kubernetes.io/arch In [arm64]")), "{r:?}");
    assert_ne!(r.nodeclaims[0].instance_type, base.nodeclaims[0].instance_type);
    let od = provision(&applied(&b, &[("capacity_types", "on-demand")]).state, &ProvisionOptions::default());
    assert!(od.nodeclaims.iter().all(|nc| nc.capacity_type == "on-demand"));
    assert!(od.cost_per_hour > base.cost_per_hour);
    // the base is not changed by applying a variant to a copy
    assert_eq!(provision(&b.state, &ProvisionOptions::default()), base);
}

#[test]
fn nodepools_limits_a_variant_to_the_pools_it_names() {
    let s = snapshot();
    let names: Vec<String> = s.state.nodepools.iter().map(|p| p.name.to_string()).collect();
    assert_eq!(names, ["default", "batch"]);
    let v = applied(&s, &[("capacity_types", "spot"), ("nodepools", "default")]);
    let reqs = |setup: &Setup, pool: &str| {
        setup
            .state
            .nodepools
            .iter()
            .find(|p| p.name.as_str() == pool)
            .unwrap()
            .requirements
            .iter()
            .filter(|r| r.key.as_str() == "karpenter.sh/capacity-type")
            .map(|r| r.values.clone())
            .collect::<Vec<_>>()
    };
    assert_eq!(reqs(&v, "default"), vec![vec!["spot".to_string()]]);
    assert_eq!(reqs(&v, "batch"), reqs(&s, "batch"), "batch is not named, so unchanged");
    let all = applied(&s, &[("capacity_types", "spot")]);
    assert_eq!(reqs(&all, "batch"), vec![vec!["spot".to_string()]]);
}

#[test]
fn price_changes_reprice_new_and_existing_nodes() {
    let b = boutique();
    let base = provision(&b.state, &ProvisionOptions::default());
    let it = base.nodeclaims[0].instance_type.clone();
    let cheap = applied(&b, &[("price", &format!("{it}:spot=0.001"))]);
    let r = provision(&cheap.state, &ProvisionOptions::default());
    assert_eq!(r.cost_per_hour, 0.001, "{r:?}");

    let s = snapshot();
    let before: f64 = s.state.nodes.iter().filter_map(|n| n.price).sum();
    let plan = applied(&s, &[("on_demand_multiplier", "0.5")]);
    let after: f64 = plan.state.nodes.iter().filter_map(|n| n.price).sum();
    let on_demand: f64 =
        s.state.nodes.iter().filter(|n| n.capacity_type.is_none_or(|c| c.as_str() == "on-demand")).filter_map(|n| n.price).sum();
    assert!((before - after - on_demand / 2.0).abs() < 1e-9, "before {before}, after {after}, on-demand {on_demand}");
}

#[test]
fn settings_that_cannot_apply_are_errors() {
    let custom = r#"{"instance_types": [{"name": "a", "capacity": {"cpu": "4", "memory": "8Gi", "pods": 20},
        "labels": {"kubernetes.io/arch": "amd64"}, "offerings": [{"zone": "z", "capacity_type": "on-demand", "price": 1.0}]}]}"#;
    let catalog = CatalogSource::Custom(std::sync::Arc::new(karpsim::catalog::parse_custom_catalog("lab.json", custom).unwrap()));
    let mut inputs = Inputs::new();
    inputs
        .load_str(
            "apiVersion: karpenter.sh/v1\nkind: NodePool\nmetadata: {name: lab}\nspec: {template: {spec: {requirements: []}}}\n",
            "pool.yaml",
        )
        .unwrap();
    let lab = Setup::new(ClusterState::from_inputs(inputs.finish().unwrap(), &catalog).unwrap(), catalog);
    assert!(apply_err(&lab, &[("max_pods", "58")]).contains("custom catalog"));
    assert!(apply_err(&lab, &[("on_demand_multiplier", "0.7")]).contains("aws:REGION"));
    let e = apply_err(&lab, &[("instance_families", "m5")]);
    assert!(e.contains("valid: none"), "a catalog without family labels: {e}");
    assert!(apply_err(&lab, &[("capacity_types", "spot")]).contains("valid: on-demand"));

    let mut empty = Inputs::new();
    empty.load_str("apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec: {containers: [{name: c}]}\n", "pod.yaml").unwrap();
    let source = CatalogSource::default_aws();
    let no_pools = Setup::new(ClusterState::from_inputs(empty.finish().unwrap(), &source).unwrap(), source);
    assert!(apply_err(&no_pools, &[("arch", "arm64")]).contains("no NodePool"));

    let b = boutique();
    let (_, rest) = apply(b.clone(), &changes(&[("seed", "3"), ("arch", "arm64")])).unwrap();
    assert_eq!(rest, changes(&[("seed", "3")]), "scenario keys are handed back to the caller");
    let e = compare_clusters(
        &b,
        &ProvisionOptions::default(),
        &[Variant { name: "s".into(), changes: changes(&[("seed", "3")]) }],
        ClusterRun::Provision,
        &Progress::default(),
    )
    .unwrap_err()
    .to_string();
    assert!(e.contains("scenarios only"), "{e}");
}

#[test]
fn cluster_comparisons_match_single_runs_on_any_thread_count() {
    let b = boutique();
    let mut variants = vec![Variant { name: "base".into(), changes: vec![] }];
    variants.extend(parse_vary("arch=amd64,arm64,amd64+arm64").unwrap());
    let opts = ProvisionOptions::default();
    let run = |n| {
        rayon::ThreadPoolBuilder::new()
            .num_threads(n)
            .build()
            .unwrap()
            .install(|| compare_clusters(&b, &opts, &variants, ClusterRun::Provision, &Progress::default()).unwrap())
    };
    let one = run(1);
    assert_eq!(one, run(2));
    assert_eq!(one.iter().map(|r| r.variant.as_str()).collect::<Vec<_>>(), ["base", "arch=amd64", "arch=arm64", "arch=amd64+arm64"]);
    let plain = provision(&b.state, &opts);
    assert_eq!(one[0].new_cost_per_hour, plain.cost_per_hour);
    assert_eq!(one[0].cost_per_hour, plain.cost_per_hour, "no existing nodes: the new ones are the whole cost");
    assert_eq!(one[0].new_nodes, plain.nodeclaims.len());
    assert_eq!(one[0].pods_pending, 0);
    assert!(one[0].cpu_utilization > 0.0 && one[0].cpu_utilization <= 1.0);
    let arm = provision(&applied(&b, &[("arch", "arm64")]).state, &opts);
    assert_eq!(one[2].cost_per_hour, arm.cost_per_hour);
}

#[test]
fn consolidate_runs_settle_where_until_stable_does() {
    let s = snapshot();
    let base = vec![Variant { name: "base".into(), changes: vec![] }];
    let progress_seen = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
    let seen = std::sync::Arc::clone(&progress_seen);
    let progress = Progress::new(move |done, total| {
        assert_eq!(total, Some(1));
        seen.store(done, std::sync::atomic::Ordering::Relaxed);
    });
    let rows = compare_clusters(&s, &ProvisionOptions::default(), &base, ClusterRun::Consolidate, &progress).unwrap();
    assert_eq!(progress_seen.load(std::sync::atomic::Ordering::Relaxed), 1);
    // nothing is pending in the snapshot, so provisioning adds nothing and consolidation is
    // `karpsim consolidate --until-stable`
    let direct = until_stable(&s.state, &DisruptionOptions::default());
    assert_eq!(rows[0].new_nodes, 0);
    assert!((rows[0].cost_per_hour - direct.cost_per_hour_after).abs() < 1e-9, "{rows:?} vs {}", direct.cost_per_hour_after);
    assert_eq!(rows[0].disruptions, direct.commands.len());
    assert!((rows[0].consolidation_savings_per_hour - (direct.cost_per_hour_before - direct.cost_per_hour_after)).abs() < 1e-9);
}

#[test]
fn a_variant_whose_until_stable_run_is_cut_short_says_so_in_its_row() {
    // the snapshot needs more than one round to settle: a cap of one cuts every variant short
    let mut s = snapshot();
    s.disruption.max_rounds = Some(1);
    let variants = vec![Variant { name: "base".into(), changes: vec![] }, Variant { name: "od".into(), changes: changes(&[("capacity_types", "on-demand")]) }];
    let rows = compare_clusters(&s, &ProvisionOptions::default(), &variants, ClusterRun::Consolidate, &Progress::default()).unwrap();
    for r in &rows {
        assert!(r.warnings.iter().any(|w| w.starts_with("stopped after 1 rounds (max_rounds)")), "{}: {:?}", r.variant, r.warnings);
        // the input's own warnings are the caller's to report once, not each row's
        assert!(s.state.warnings.iter().all(|w| !r.warnings.contains(w)), "{:?}", r.warnings);
    }
    let lines = karpsim::whatif::run_warnings::grouped("variant", rows.iter().map(|r| (r.variant.as_str(), &r.warnings[..])), &[]);
    assert!(lines.iter().any(|l| l.starts_with("variants base, od: stopped after 1 rounds")), "{lines:?}");

    // settled runs have nothing of their own to say
    let settled = compare_clusters(&snapshot(), &ProvisionOptions::default(), &variants[..1], ClusterRun::Consolidate, &Progress::default()).unwrap();
    assert!(settled[0].warnings.is_empty(), "{:?}", settled[0].warnings);
}
