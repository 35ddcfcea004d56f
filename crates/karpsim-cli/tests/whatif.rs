//! `karpsim compare` with variants checked against the catalog, for scenarios and (with -f) for
//! clusters.

mod common;
use common::*;

#[test]
fn compare_a_cluster_provisions_each_variant() {
    let dir = repo("examples/online-boutique");
    let r = run_ok(&["compare", "-f", &dir, "--vary", "arch=amd64,arm64"]);
    let lines: Vec<&str> = r.stdout.lines().collect();
    assert!(lines[0].starts_with("cluster ") && lines[0].contains("provisioned"), "{}", r.stdout);
    assert!(lines[1].starts_with("VARIANT") && lines[1].contains("$/H") && lines[1].contains("PENDING PODS"), "{}", r.stdout);
    assert!(lines[2].starts_with("base ") && lines[3].starts_with("arch=amd64 ") && lines[4].starts_with("arch=arm64 "), "{}", r.stdout);
    assert!(!r.warnings.is_empty(), "the inputs' warnings are reported");

    let out = run_json(&["compare", "-f", &dir, "--vary", "arch=amd64,arm64", "-o", "json"]);
    assert_eq!(out["run"], "provision");
    let rows = out["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 3);
    let provision = run_json(&["provision", "-f", &dir, "-o", "json"]);
    assert_eq!(rows[0]["cost_per_hour"], provision["cost_per_hour"], "the base row is `karpsim provision`");
    assert_eq!(rows[1]["cost_per_hour"], provision["cost_per_hour"], "the example already allows amd64 only");
    assert_ne!(rows[2]["cost_per_hour"], provision["cost_per_hour"]);
    assert_eq!(out["variants"][2]["changes"]["arch"], "arm64");
}

#[test]
fn compare_a_cluster_until_stable_settles_it() {
    let snapshot = repo("examples/eks-snapshot/cluster.json");
    let out = run_json(&[
        "compare",
        "-f",
        &snapshot,
        "--until-stable",
        "--vary",
        "nodepools=default",
        "--vary",
        "capacity_types=on-demand",
        "-o",
        "json",
    ]);
    assert_eq!(out["run"], "consolidate");
    let consolidate = run_json(&["consolidate", "-f", &snapshot, "--until-stable", "-o", "json"]);
    let base = &out["rows"][0];
    assert_eq!(base["cost_per_hour"], consolidate["cost_per_hour_after"]);
    assert_eq!(base["disruptions"].as_u64().unwrap() as usize, consolidate["commands"].as_array().unwrap().len());
    let table =
        run_ok(&["compare", "-f", &snapshot, "--until-stable", "--vary", "nodepools=default", "--vary", "capacity_types=on-demand"]).stdout;
    assert!(table.contains("DISRUPTIONS") && table.contains("nodepools=default capacity_types=on-demand"), "{table}");
}

#[test]
fn compare_a_cluster_provisions_with_provisions_options() {
    // spot made dear: Karpenter's capacity-type order still launches spot, `--launch cheapest` on-demand
    let dir = repo("examples/online-boutique");
    let dear = ["-f", &dir, "--spot-multiplier", "10"];
    let with = |cmd: &str, extra: &[&str]| -> Vec<String> {
        [cmd].iter().chain(&dear).chain(extra).chain(&["-o", "json"]).map(|s| s.to_string()).collect()
    };
    let json = |args: Vec<String>| run_json(&args.iter().map(String::as_str).collect::<Vec<_>>());
    let cheapest = json(with("provision", &["--launch", "cheapest"]));
    let precedence = json(with("provision", &[]));
    assert_ne!(cheapest["cost_per_hour"], precedence["cost_per_hour"]);
    let compared = json(with("compare", &["--launch", "cheapest", "--vary", "arch=arm64"]));
    let rows = compared["rows"].as_array().unwrap();
    assert_eq!(rows[0]["cost_per_hour"], cheapest["cost_per_hour"], "the base row is `provision --launch cheapest`");
    assert_eq!(rows.len(), 2, "base and arch=arm64");
    let default = json(with("compare", &[]));
    assert_eq!(default["rows"][0]["cost_per_hour"], precedence["cost_per_hour"]);
    let settled = json(with("compare", &["--launch", "cheapest", "--until-stable"]));
    assert_eq!(settled["rows"][0]["new_cost_per_hour"], cheapest["cost_per_hour"]);
}

#[test]
fn typos_in_variants_exit_2_with_the_valid_values() {
    let scenario = repo("examples/diurnal-web/scenario.yaml");
    let boutique = repo("examples/online-boutique");
    for (args, needles) in [
        (vec!["compare", &scenario, "--vary", "arch=arm"], vec!["arch=arm", "did you mean \"arm64\"", "amd64, arm64"]),
        (vec!["compare", &scenario, "--vary", "capacity_types=spotty"], vec!["did you mean \"spot\""]),
        (vec!["compare", "-f", &boutique, "--vary", "x=1"], vec!["unknown key \"x\""]),
        (vec!["compare", "-f", &boutique, "--vary", "instance_families=M7I"], vec!["did you mean \"m7i\""]),
        (vec!["compare", "-f", &boutique, "--vary", "nodepools=defualt", "--vary", "arch=arm64"], vec!["did you mean \"default\""]),
        (vec!["compare", "-f", &boutique, "--vary", "seed=1,2"], vec!["scenarios only"]),
        (vec!["compare", &scenario, "--catalog", "aws:us-west-2"], vec!["--catalog", "names its own catalog"]),
        (vec!["compare", &scenario, "--launch", "cheapest"], vec!["--launch", "applies to cluster comparisons (-f)"]),
        (vec!["compare", &scenario, "--max-instance-types", "5"], vec!["--max-instance-types"]),
        (vec!["compare", "-f", &boutique, "--seeds", "3"], vec!["--seeds"]),
    ] {
        let out = binary(&args);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        for n in needles {
            assert!(err.contains(n), "{args:?}: {n} missing from {err}");
        }
        assert!(out.stdout.is_empty(), "{args:?}");
    }
}
