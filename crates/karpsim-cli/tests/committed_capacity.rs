//! NodeOverlays, capacity reservations and static NodePools through the `karpsim` command, on
//! `examples/committed-capacity`.

mod common;
use common::*;

fn example() -> Vec<String> {
    vec![
        "-f".into(),
        repo("examples/online-boutique"),
        "-f".into(),
        repo("examples/committed-capacity/manifests"),
        "--reservations".into(),
        repo("examples/committed-capacity/reservations.yaml"),
    ]
}

#[test]
fn catalog_lists_overlaid_prices_added_capacity_and_reservations() {
    let dir = std::env::temp_dir().join(format!("karpsim-cli-overlay-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("overlays.yaml");
    std::fs::write(
        &file,
        "apiVersion: karpenter.sh/v1alpha1\nkind: NodeOverlay\nmetadata: {name: plan}\nspec:\n  requirements: [{key: karpenter.sh/capacity-type, operator: In, values: [on-demand]}]\n  price: \"0.05\"\n---\napiVersion: karpenter.sh/v1alpha1\nkind: NodeOverlay\nmetadata: {name: fpga}\nspec:\n  requirements: [{key: node.kubernetes.io/instance-type, operator: In, values: [m5.large]}]\n  capacity: {example.com/fpga: \"2\"}\n",
    )
    .unwrap();
    let f = file.display().to_string();
    let out = run_json(&[
        "catalog",
        "-f",
        &f,
        "-t",
        "m5.large",
        "--reservation",
        "id=cr-0abc,count=3,instance-type=m5.large,zone=us-east-1c",
        "--output",
        "json",
    ]);
    let t = &out["instance_types"][0];
    assert_eq!(t["capacity"]["example.com/fpga"], "2");
    assert_eq!(t["capacity_overlays"][0], "fpga");
    let offerings = t["offerings"].as_array().unwrap();
    let od = offerings.iter().find(|o| o["capacity_type"] == "on-demand").unwrap();
    assert_eq!((od["price"].as_f64(), od["price_source"].as_str(), od["overlay"].as_str()), (Some(0.05), Some("overlay"), Some("plan")));
    let reserved = offerings.iter().find(|o| o["capacity_type"] == "reserved").expect("reserved offering");
    assert_eq!(
        (reserved["reservation_id"].as_str(), reserved["reservation_count"].as_i64(), reserved["zone"].as_str()),
        (Some("cr-0abc"), Some(3), Some("us-east-1c"))
    );
    let table =
        run_ok(&["catalog", "-f", &f, "-t", "m5.large", "--reservation", "id=cr-0abc,count=3,instance-type=m5.large,zone=us-east-1c"]);
    assert!(
        table.stdout.contains("0.0500*") && table.stdout.contains("cr-0abc:us-east-1c:3") && table.stdout.contains("fpga,plan"),
        "{}",
        table.stdout
    );
    assert!(table.stdout.contains("* price set by a NodeOverlay"));
    assert!(table.warnings.iter().any(|w| w.contains("NodeOverlay feature gate")), "{:?}", table.warnings);
}

#[test]
fn provision_uses_the_reservation_the_overlay_and_the_static_pool() {
    let mut args: Vec<String> = vec!["provision".into()];
    args.extend(example());
    args.extend(["--output".into(), "json".into()]);
    let out = run_json(&args.iter().map(String::as_str).collect::<Vec<_>>());
    let claims = out["nodeclaims"].as_array().unwrap();
    let gpu: Vec<&serde_json::Value> = claims.iter().filter(|c| c["nodepool"] == "gpu").collect();
    assert_eq!(gpu.len(), 2, "the static pool's two replicas");
    // the savings plan: g5.xlarge on-demand at 72% of its list price
    assert!((gpu[0]["price_per_hour"].as_f64().unwrap() - 1.006 * 0.72).abs() < 1e-9, "{}", gpu[0]["price_per_hour"]);
    let committed: Vec<&serde_json::Value> = claims.iter().filter(|c| c["nodepool"] == "committed").collect();
    assert_eq!(committed.len(), 1);
    assert_eq!(
        (committed[0]["capacity_type"].as_str(), committed[0]["reservation_id"].as_str()),
        (Some("reserved"), Some("cr-0a1b2c3d4e5f60718"))
    );
    assert_eq!(committed[0]["pods"].as_array().unwrap().len(), 12);
}

#[test]
fn bad_reservations_and_overlays_are_errors_naming_what_is_wrong() {
    let r = binary(&["provision", "-f", &repo("examples/online-boutique"), "--reservation", "id=cr-1,count=lots"]);
    assert_eq!(r.status.code(), Some(2));
    let e = String::from_utf8_lossy(&r.stderr);
    assert!(e.contains("--reservation") && e.contains("count"), "{e}");
    let dir = std::env::temp_dir().join(format!("karpsim-cli-badoverlay-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("bad.yaml");
    std::fs::write(&file, "apiVersion: karpenter.sh/v1alpha1\nkind: NodeOverlay\nmetadata: {name: both}\nspec:\n  requirements: []\n  price: \"1\"\n  priceAdjustment: \"-10%\"\n").unwrap();
    let r = binary(&["catalog", "-f", &file.display().to_string()]);
    assert_eq!(r.status.code(), Some(2));
    let e = String::from_utf8_lossy(&r.stderr);
    assert!(e.contains("bad.yaml, document 1, NodeOverlay both, field spec") && e.contains("cannot set both"), "{e}");
}

#[test]
fn compare_help_lists_the_reserved_count_key() {
    let r = binary(&["compare", "--help"]);
    assert!(String::from_utf8_lossy(&r.stdout).contains("reserved_count"));
}

#[test]
fn compare_a_cluster_over_reserved_counts_bills_the_reservations() {
    let mut args: Vec<String> = vec!["compare".into()];
    args.extend(example());
    args.extend(["--vary".into(), "reserved_count=0,4".into(), "--output".into(), "json".into()]);
    let out = run_json(&args.iter().map(String::as_str).collect::<Vec<_>>());
    let rows = out["rows"].as_array().unwrap();
    let warned = |gate: &str| out["warnings"].as_array().unwrap().iter().any(|w| w.as_str().unwrap().contains(gate));
    assert!(warned("NodeOverlay feature gate") && warned("StaticCapacity feature gate"), "{:?}", out["warnings"]);
    let fee = |i: usize| rows[i]["reservation_cost_per_hour"].as_f64().unwrap();
    // two m7i.xlarge reserved (the base), none, four: each instance at its on-demand price, used or
    // not, less the savings plan (AWS applies Savings Plans to capacity reservations too)
    let m7i_xlarge = 0.2016 * 0.72;
    assert!((fee(0) - 2.0 * m7i_xlarge).abs() < 1e-9 && fee(1) == 0.0 && (fee(2) - 4.0 * m7i_xlarge).abs() < 1e-9, "{rows:?}");
    for r in rows {
        assert!(r["cost_per_hour"].as_f64().unwrap() >= r["reservation_cost_per_hour"].as_f64().unwrap());
    }
    // the reserved node of the base costs next to nothing, the reservation what an on-demand node would
    assert!(rows[2]["cost_per_hour"].as_f64().unwrap() > rows[1]["cost_per_hour"].as_f64().unwrap(), "{rows:?}");
    let mut args: Vec<String> = vec!["compare".into()];
    args.extend(example());
    args.extend(["--vary".into(), "reserved_count=0".into()]);
    let table = run_ok(&args.iter().map(String::as_str).collect::<Vec<_>>());
    assert!(table.stdout.contains("RESERVATIONS $/H"), "{}", table.stdout);
    let scenario = binary(&["compare", &repo("examples/committed-capacity/scenario.yaml"), "--reservation", "id=cr-1,count=1"]);
    assert_eq!(scenario.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&scenario.stderr).contains("reserved_count"));
}

#[test]
fn bound_reads_the_reservations_and_keeps_the_static_pool() {
    // `--reservations` reaches the bound's inputs (it was accepted and ignored), and the static
    // `gpu` pool's nodes are in every packing
    let mut args: Vec<String> = vec!["bound".into()];
    args.extend(example());
    args.extend(["--max-iterations".into(), "5".into(), "-o".into(), "json".into()]);
    let out = run_json(&args.iter().map(String::as_str).collect::<Vec<_>>());
    let warnings: Vec<&str> = out["warnings"].as_array().unwrap().iter().map(|w| w.as_str().unwrap()).collect();
    assert!(warnings.iter().all(|w| !w.contains("no count was given")), "{warnings:?}");
    // the reservation (count 2) is a limited supply of the bound and the packing
    let reserved = out["best_packing"]["nodes"].as_array().unwrap().iter().filter(|n| n["capacity_type"] == "reserved").count();
    assert!((1..=2).contains(&reserved), "{:#}", out["best_packing"]);
    assert!(out["constraints"]["included"].as_array().unwrap().iter().any(|c| c.as_str().unwrap().contains("capacity reservations")), "{:#}", out["constraints"]);
    let gpu = out["best_packing"]["nodes"].as_array().unwrap().iter().filter(|n| n["nodepool"] == "gpu").count();
    assert_eq!(gpu, 2, "{:#}", out["best_packing"]);
    let lb = out["lower_bound_per_hour"].as_f64().unwrap();
    assert!(lb >= 2.0 * 0.7243 - 1e-3 && lb <= out["karpenter"]["cost_per_hour"].as_f64().unwrap() + 1e-9, "{out:#}");
}

#[test]
fn advise_over_a_scenario_refuses_reservation_options() {
    let e = binary(&["advise", "--scenario", &repo("examples/committed-capacity/scenario.yaml"), "--reservation", "id=cr-0abc,count=1"]);
    assert!(!e.status.success());
    assert!(String::from_utf8_lossy(&e.stderr).contains("--reservation"), "{}", String::from_utf8_lossy(&e.stderr));
}
