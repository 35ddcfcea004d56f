//! `karpsim bound` and `karpsim advise` end to end: the costs in order, the manifests reproduce the
//! cost they claim, the JSON keys users read.

mod common;
use common::*;

use serde_json::Value;

const DAEMONSET: &str = "examples/online-boutique/kube-prometheus-node-exporter-daemonset.yaml";

fn f64_of(v: &Value) -> f64 {
    v.as_f64().unwrap_or_else(|| panic!("not a number: {v}"))
}

#[test]
fn bound_orders_karpenter_consolidation_packing_and_the_bound() {
    let (w, np, ds) = (repo("examples/bound/two-shapes.yaml"), repo("examples/bound/nodepool-cmr-on-demand.yaml"), repo(DAEMONSET));
    let out = run_json(&["bound", "-f", &w, "-f", &np, "-f", &ds, "--output", "json"]);
    for key in ["scope", "pods", "karpenter", "after_consolidation", "lower_bound_per_hour", "best_packing", "gap", "constraints", "solver", "warnings"] {
        assert!(out.get(key).is_some(), "missing key {key}");
    }
    let lb = f64_of(&out["lower_bound_per_hour"]);
    let best = f64_of(&out["best_packing"]["cost_per_hour"]);
    let karpenter = f64_of(&out["karpenter"]["cost_per_hour"]);
    let consolidated = f64_of(&out["after_consolidation"]["cost_per_hour"]);
    assert!(lb > 0.0 && lb <= best && best <= karpenter && lb <= consolidated, "{lb} {best} {karpenter} {consolidated}");
    assert_eq!(out["pods"], 400);
    let nodes = out["best_packing"]["nodes"].as_array().unwrap();
    assert_eq!(nodes.iter().map(|n| n["pods"].as_array().unwrap().len()).sum::<usize>(), 400);
    assert!(nodes.iter().all(|n| n["capacity_type"] == "on-demand"), "the NodePool allows on-demand only");
    let table = run_ok(&["bound", "-f", &w, "-f", &np, "-f", &ds]).stdout;
    assert!(table.contains("lower bound (proven)") && table.contains("relaxed:"), "{table}");
}

#[test]
fn bound_rejects_a_bad_time_limit() {
    let err = karpsim_cli::execute(&karpsim_cli::parse(["karpsim", "bound", "-f", &repo("examples/bound/two-shapes.yaml"), "--time-limit=0"]).unwrap()).unwrap_err();
    assert!(err.to_string().contains("--time-limit"), "{err}");
}

#[test]
fn advise_manifests_reproduce_their_cost_and_beat_the_baseline() {
    let (w, np, ds) = (repo("examples/bound/two-shapes.yaml"), repo("examples/bound/nodepool-all-types.yaml"), repo(DAEMONSET));
    let out = run_json(&["advise", "-f", &w, "-f", &np, "-f", &ds, "--max-candidates", "30", "--output", "json"]);
    let best = &out["recommendations"][0];
    let lb = f64_of(&out["lower_bound_per_hour"]);
    assert_eq!(best["pending"], 0);
    assert!(f64_of(&best["cost_per_hour"]) < f64_of(&out["baseline"]["cost_per_hour"]));
    assert!(f64_of(&best["after_consolidation_cost_per_hour"]) <= 1.25 * lb, "goal: within 1.25x of the bound: {best}");
    // the manifests with the same pods give the same provisioning cost
    let dir = std::env::temp_dir().join(format!("karpsim-advise-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let nodeclass = std::fs::read_to_string(&np).unwrap().split("---").nth(1).unwrap().to_string();
    std::fs::write(dir.join("nodepools.yaml"), best["nodepools_yaml"].as_str().unwrap().to_string() + "---\n" + &nodeclass).unwrap();
    let again = run_json(&["provision", "-f", &w, "-f", &ds, "-f", dir.join("nodepools.yaml").to_str().unwrap(), "--output", "json"]);
    assert!((f64_of(&again["cost_per_hour"]) - f64_of(&best["cost_per_hour"])).abs() < 1e-9, "{again}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn advise_says_which_candidates_a_round_cap_cut_short() {
    let snapshot = repo("examples/eks-snapshot/cluster.json");
    let out = run_json(&["advise", "-f", &snapshot, "--max-rounds", "1", "--max-candidates", "3", "--output", "json"]);
    let warnings: Vec<&str> = out["warnings"].as_array().unwrap().iter().map(|w| w.as_str().unwrap()).collect();
    assert!(warnings.iter().any(|w| w.starts_with("candidates baseline, ") && w.contains(": stopped after 1 rounds (max_rounds)")), "{warnings:?}");
    let baseline: Vec<&str> = out["baseline"]["warnings"].as_array().unwrap().iter().map(|w| w.as_str().unwrap()).collect();
    assert!(baseline.iter().any(|w| w.starts_with("stopped after 1 rounds")), "{baseline:?}");
    let settled = run_json(&["advise", "-f", &snapshot, "--max-candidates", "3", "--output", "json"]);
    assert!(!settled["warnings"].as_array().unwrap().iter().any(|w| w.as_str().unwrap().contains("max_rounds")), "{settled}");
    assert!(settled["baseline"].get("warnings").is_none(), "{}", settled["baseline"]);
}
