//! `karpsim consolidate`, `simulate` and `compare` end to end: through `parse` + `execute` and, for
//! exit codes and stderr, through the built binary. Scenarios are small so debug builds stay fast.

mod common;
use common::*;

use karpsim::model::OwnerKind;
use serde_json::Value;
use std::path::PathBuf;






fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("karpsim-cli-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

const SNAPSHOT: &str = "examples/eks-snapshot/cluster.json";

#[test]
fn consolidate_one_round_json_starts_with_emptiness() {
    let out = run_json(&["consolidate", "-f", &repo(SNAPSHOT), "--output", "json"]);
    for key in ["commands", "kept", "cost_per_hour_before", "cost_per_hour_after", "rounds", "now", "warnings"] {
        assert!(out.get(key).is_some(), "missing key {key}");
    }
    assert!(out.get("end_state").is_none(), "one round has no end state");
    let c = &out["commands"][0];
    assert_eq!(c["method"], "emptiness");
    assert_eq!(c["action"], "delete");
    assert_eq!(c["nodes"], serde_json::json!(["ip-10-0-5-50.ec2.internal"]));
    for key in ["replacements", "pods", "price_before", "price_after", "savings_per_hour", "reason"] {
        assert!(c.get(key).is_some(), "command lacks {key}");
    }
    let kept = out["kept"].as_array().unwrap();
    assert!(kept.iter().any(|k| k["node"] == "ip-10-0-1-10.ec2.internal" && k["reason"].as_str().unwrap().contains("not managed")), "{kept:?}");
}

#[test]
fn consolidate_until_stable_saves_and_keeps_every_pod() {
    let path = repo(SNAPSHOT);
    let out = run_json(&["consolidate", "-f", &path, "--until-stable", "-o", "json"]);
    let (before, after) = (out["cost_per_hour_before"].as_f64().unwrap(), out["cost_per_hour_after"].as_f64().unwrap());
    assert!(after < before, "{after} < {before}");
    let commands = out["commands"].as_array().unwrap();
    assert!(commands.len() > 1);
    let savings: f64 = commands.iter().map(|c| c["savings_per_hour"].as_f64().unwrap()).sum();
    assert!((before - after - savings).abs() < 1e-6, "savings add up: {before} - {after} vs {savings}");

    let end = &out["end_state"];
    let nodes: Vec<&str> = end["nodes"].as_array().unwrap().iter().map(|n| n["name"].as_str().unwrap()).collect();
    let on_nodes: u64 = end["nodes"].as_array().unwrap().iter().map(|n| n["pods"].as_u64().unwrap()).sum();
    let pending = end["pending"].as_array().unwrap().len() as u64;

    // Every pod of the input is on a node of the end state or pending; DaemonSet pods leave with
    // their node, and finished pods do not count.
    let mut inputs = karpsim::io::Inputs::new();
    inputs.load_path(std::path::Path::new(&path)).unwrap();
    let inputs = inputs.finish().unwrap();
    let expected = inputs
        .pods
        .iter()
        .filter(|p| !p.is_terminal())
        .filter(|p| {
            let ds = p.owner.as_ref().is_some_and(|o| o.kind == OwnerKind::DaemonSet);
            !ds || p.node_name.is_some_and(|n| nodes.contains(&n.as_str()))
        })
        .count() as u64;
    assert_eq!(on_nodes + pending, expected, "end state holds {on_nodes} + {pending} pending");
}

#[test]
fn consolidate_table_has_commands_kept_costs_and_end_state() {
    let r = run_ok(&["consolidate", "-f", &repo(SNAPSHOT), "--until-stable"]);
    let s = &r.stdout;
    assert!(s.contains("command 1: emptiness delete\n  nodes:    ip-10-0-5-50.ec2.internal\n"), "{s}");
    assert!(s.contains("  reason:   "), "{s}");
    assert!(s.contains("kept nodes ("), "{s}");
    assert!(s.contains("ip-10-0-1-10.ec2.internal  not managed by Karpenter"), "{s}");
    assert!(s.contains("cost: $1.2957/h before, $"), "{s}");
    assert!(s.contains("/month (730 h)"), "{s}");
    assert!(s.contains("end state: ") && s.contains("  NODE  ") && s.contains("PODS"), "{s}");
    assert!(!s.contains("warning:"), "warnings go to stderr");

    let one = run_ok(&["consolidate", "-f", &repo(SNAPSHOT)]);
    assert!(one.stdout.contains("(one round)") && !one.stdout.contains("end state"), "{}", one.stdout);
}

#[test]
fn consolidate_options() {
    let path = repo(SNAPSHOT);
    let out = run_json(&["consolidate", "-f", &path, "-o", "json", "--now", "2026-11-20T12:00:00Z", "--candidate-order", "disruption-cost", "--spot-to-spot"]);
    assert_eq!(out["now"], 1_795_176_000);
    let out = binary(&["consolidate", "-f", &path, "--now", "tomorrow"]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.starts_with("error: option --now: invalid timestamp"), "{err}");
}

#[test]
fn simulate_json_cost_adds_up() {
    let out = run_json(&["simulate", &data("sim-small.yaml"), "--output", "json"]);
    for key in ["scenario", "seed", "duration_h", "total_cost", "metrics", "log", "pending_at_end", "warnings"] {
        assert!(out.get(key).is_some(), "missing key {key}");
    }
    assert_eq!(out["scenario"], "sim-small");
    assert_eq!(out["seed"], 7);
    assert_eq!(out["duration_h"], 2.0);
    let m = &out["metrics"];
    let cumulative = m["series"]["cumulative_cost"].as_array().unwrap();
    let last = cumulative.last().unwrap().as_f64().unwrap();
    let node_cost = m["node_cost_total"].as_f64().unwrap();
    assert!(last > 0.0);
    assert!((last - node_cost).abs() < 1e-6, "cumulative {last} vs node cost {node_cost}");
    assert!(m["nodes_launched"].as_u64().unwrap() > 0);

    // --duration and --seed override the scenario's.
    let short = run_json(&["simulate", &data("sim-small.yaml"), "--duration", "30m", "--seed", "3", "-o", "json"]);
    assert_eq!(short["duration_h"], 0.5);
    assert_eq!(short["seed"], 3);
}

#[test]
fn simulate_table_summary_and_hourly_view() {
    let r = run_ok(&["simulate", &data("sim-small.yaml")]);
    let s = &r.stdout;
    assert!(s.starts_with("scenario sim-small (seed 7, 2 h simulated)\n"), "{s}");
    for line in ["  total cost      $", "  mean nodes      ", "  utilisation     cpu ", "  pod wait        p50 ", "  disruptions     ", "  interruptions   ", "  evictions       ", "  nodes launched  ", "  pending at end  "] {
        assert!(s.contains(line), "missing {line:?}: {s}");
    }
    assert!(s.contains("hourly:\nHOUR  "), "{s}");
    let hours: Vec<&str> = s.lines().skip_while(|l| !l.starts_with("HOUR")).skip(1).map(|l| l.split_whitespace().next().unwrap()).collect();
    assert_eq!(hours, ["0", "1", "2"], "{s}");
}

#[test]
fn simulate_csv_writes_the_tables() {
    let dir = temp_dir("sim-csv");
    let d = dir.display().to_string();
    let r = run_ok(&["simulate", &data("sim-small.yaml"), "--output", "csv", &d]);
    assert!(r.stdout.contains("wrote series.csv"), "{}", r.stdout);
    let header = |f: &str| std::fs::read_to_string(dir.join(f)).unwrap_or_else(|e| panic!("{f}: {e}")).lines().next().unwrap_or_default().to_string();
    assert!(header("series.csv").starts_with("time_h,cost_per_hour,cost_per_hour_on_demand,cost_per_hour_spot,cost_per_hour_reserved,cumulative_cost,nodes,"));
    for f in ["nodes_by_nodepool.csv", "nodes_by_instance_type.csv", "nodes_by_capacity_type.csv"] {
        assert_eq!(header(f), "time_h,key,count", "{f}");
    }
    assert_eq!(header("events.csv"), "t,kind,message");
    let series = std::fs::read_to_string(dir.join("series.csv")).unwrap();
    assert!(series.lines().count() > 10, "sampled every 5 minutes over 2 h");
    let summary: Value = serde_json::from_str(&std::fs::read_to_string(dir.join("summary.json")).unwrap()).unwrap();
    for key in ["total_cost", "mean_nodes", "cpu_utilization", "pod_wait_p95_s", "disruptions", "pods_pending_at_end"] {
        assert!(summary.get(key).is_some(), "summary lacks {key}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn compare_rows_in_order_base_first() {
    let out = run_json(&["compare", &data("sim-small.yaml"), "--vary", "capacity_types=spot,on-demand", "-o", "json"]);
    let names: Vec<&str> = out["variants"].as_array().unwrap().iter().map(|v| v["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["base", "capacity_types=spot", "capacity_types=on-demand"]);
    let rows = out["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 3);
    assert_eq!(rows[0]["variant"], "base");
    assert!(rows.iter().all(|r| r["seed"] == 7), "one seed: the scenario's");
    let spot = rows[1]["total_cost"].as_f64().unwrap();
    let od = rows[2]["total_cost"].as_f64().unwrap();
    assert!(spot < od, "spot {spot} < on-demand {od}");

    let r = run_ok(&["compare", &data("sim-small.yaml"), "--vary", "capacity_types=spot,on-demand"]);
    let lines: Vec<&str> = r.stdout.lines().collect();
    assert!(lines[1].starts_with("VARIANT") && lines[1].contains("TOTAL $"), "{}", r.stdout);
    assert!(lines[2].starts_with("base ") && lines[3].starts_with("capacity_types=spot ") && lines[4].starts_with("capacity_types=on-demand "), "{}", r.stdout);
}

#[test]
fn compare_product_seeds_and_sweep() {
    let dir = temp_dir("sweep");
    std::fs::create_dir_all(&dir).unwrap();
    let sweep = dir.join("sweep.yaml");
    std::fs::write(&sweep, "- name: no-consolidation\n  changes: {consolidation: false}\n- name: spot-only\n  changes: {capacity_types: [spot]}\n").unwrap();
    let sweep = sweep.display().to_string();
    let csv = dir.join("rows.csv").display().to_string();
    let out = run_json(&[
        "compare", &data("sim-small.yaml"), "--duration", "30m", "--seeds", "2",
        "--vary", "capacity_types=spot,on-demand", "--vary", "consolidation=true,false", "--sweep", &sweep, "-o", "json",
    ]);
    let names: Vec<&str> = out["variants"].as_array().unwrap().iter().map(|v| v["name"].as_str().unwrap()).collect();
    assert_eq!(
        names,
        [
            "base",
            "capacity_types=spot consolidation=true",
            "capacity_types=spot consolidation=false",
            "capacity_types=on-demand consolidation=true",
            "capacity_types=on-demand consolidation=false",
            "no-consolidation",
            "spot-only",
        ]
    );
    assert_eq!(out["seeds"], serde_json::json!([0, 1]));
    assert_eq!(out["rows"].as_array().unwrap().len(), 14);
    let v = &out["variants"][6];
    assert_eq!(v["changes"]["capacity_types"], "spot");
    assert_eq!(v["runs"], 2);
    assert!(v["total_cost"]["ci95"].as_f64().unwrap() >= 0.0);

    let r = run_ok(&["compare", &data("sim-small.yaml"), "--duration", "30m", "--seeds", "2", "--vary", "consolidation=false", "-o", "csv", &csv]);
    assert!(r.stdout.contains(" ± "), "several seeds show intervals: {}", r.stdout);
    let text = std::fs::read_to_string(&csv).unwrap();
    assert!(text.starts_with("variant,seed,total_cost,"), "{text}");
    assert_eq!(text.lines().count(), 5, "header + 2 variants × 2 seeds");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn compare_help_lists_the_keys() {
    let out = binary(&["compare", "--help"]);
    assert_eq!(out.status.code(), Some(0));
    let help = String::from_utf8_lossy(&out.stdout);
    for (k, _) in karpsim::sim::whatif::KEYS {
        assert!(help.contains(k), "{k} missing from {help}");
    }
    assert!(help.contains("cartesian product"), "{help}");
}

#[test]
fn bad_inputs_exit_2_without_panicking() {
    let scenario = data("sim-small.yaml");
    let bad_scenario = data("bad-quantity.yaml");
    for (args, needle) in [
        (&["simulate", "/nonexistent/scenario.yaml"][..], "/nonexistent/scenario.yaml"),
        (&["simulate", &bad_scenario][..], "bad-quantity.yaml"),
        (&["simulate", &scenario, "--duration", "2d"][..], "--duration"),
        (&["simulate", &scenario, "--output", "csv"][..], "--output"),
        (&["compare", &scenario, "--vary", "bogus=1,2"][..], "unknown key"),
        (&["compare", &scenario, "--vary", "max_pods=lots"][..], "max_pods=lots"),
        (&["compare", &scenario, "--vary", "capacity_types"][..], "KEY=V1,V2"),
        (&["compare", &scenario, "--sweep", "/nonexistent/sweep.yaml"][..], "/nonexistent/sweep.yaml"),
        (&["compare", &scenario, "--seeds", "3", "--vary", "seed=1,2"][..], "--seeds"),
        (&["consolidate", "-f", "/nonexistent/cluster.json"][..], "/nonexistent/cluster.json"),
    ] {
        let out = binary(args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.starts_with("error: ") && err.contains(needle), "{args:?}: {err}");
        assert!(!err.contains("panicked"), "{args:?}: {err}");
        assert!(out.stdout.is_empty(), "{args:?}");
    }
}

#[test]
fn a_trace_converted_from_a_pod_dump_replays_from_the_scenario_start() {
    let dir = temp_dir("trace-replay");
    std::fs::create_dir_all(&dir).unwrap();
    // a long-running pod created at 09:10, and a job pod from 09:40 that finished at 10:10
    let dump = r#"{"apiVersion": "v1", "kind": "List", "items": [
      {"apiVersion": "v1", "kind": "Pod",
       "metadata": {"name": "api-7d-x1", "namespace": "lab", "creationTimestamp": "2026-11-20T09:10:00Z",
                    "ownerReferences": [{"kind": "ReplicaSet", "name": "api-7d", "controller": true}]},
       "spec": {"containers": [{"name": "c", "resources": {"requests": {"cpu": "1", "memory": "1Gi"}}}]},
       "status": {"phase": "Running"}},
      {"apiVersion": "v1", "kind": "Pod",
       "metadata": {"name": "etl-1-abcde", "namespace": "lab", "creationTimestamp": "2026-11-20T09:40:00Z",
                    "ownerReferences": [{"kind": "Job", "name": "etl-1", "controller": true}]},
       "spec": {"restartPolicy": "Never", "containers": [{"name": "c", "resources": {"requests": {"cpu": "1500m", "memory": "2Gi"}}}]},
       "status": {"phase": "Succeeded", "containerStatuses": [{"name": "c", "state": {"terminated": {"exitCode": 0, "finishedAt": "2026-11-20T10:10:00Z"}}}]}}
    ]}"#;
    std::fs::write(dir.join("pods.json"), dump).unwrap();
    let csv = dir.join("trace.csv").display().to_string();
    run_ok(&["trace", "from-pods", &dir.join("pods.json").display().to_string(), "-o", &csv]);
    std::fs::write(
        dir.join("nodepool.yaml"),
        "apiVersion: karpenter.sh/v1\nkind: NodePool\nmetadata: {name: lab}\nspec:\n  template:\n    spec:\n      \
         nodeClassRef: {group: karpenter.k8s.aws, kind: EC2NodeClass, name: default}\n",
    )
    .unwrap();
    let scenario = format!(
        "name: replay\ncatalog: {}\nmanifests: [nodepool.yaml]\nstart: \"2026-11-20T09:00:00Z\"\nduration: 2h\n\
         settings: {{metrics_interval: 5m}}\nworkloads:\n  - trace: {{format: events, path: trace.csv}}\n",
        data("lab-catalog.yaml")
    );
    std::fs::write(dir.join("scenario.yaml"), scenario).unwrap();
    let out = run_json(&["simulate", &dir.join("scenario.yaml").display().to_string(), "-o", "json"]);

    // nothing exists before the first pod is created, 10 minutes after the start
    let launch = out["log"].as_array().unwrap().iter().find(|l| l["kind"] == "launch").expect("a node launches");
    let t = launch["t"].as_f64().unwrap();
    assert!((600.0..900.0).contains(&t), "first launch at {t}: {launch}");
    assert_eq!(out["metrics"]["pod_wait_seconds"].as_array().unwrap().len(), 2, "both pods were scheduled");
    let running: Vec<f64> = out["metrics"]["series"]["pods_running"].as_array().unwrap().iter().map(|v| v.as_f64().unwrap()).collect();
    assert_eq!(running[0], 0.0);
    assert_eq!(running.iter().copied().fold(0.0, f64::max), 2.0, "{running:?}");
    assert_eq!(running.last().copied(), Some(1.0), "the job pod is deleted at 10:10: {running:?}");
    assert!(out["pending_at_end"].as_array().unwrap().is_empty());
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn max_rounds_caps_until_stable_with_a_warning_on_stderr() {
    let snapshot = repo(SNAPSHOT);
    let out = run_json(&["consolidate", "-f", &snapshot, "--until-stable", "--max-rounds", "1", "-o", "json"]);
    assert_eq!(out["rounds"], 1);
    let warnings: Vec<&str> = out["warnings"].as_array().unwrap().iter().map(|w| w.as_str().unwrap()).collect();
    assert!(warnings.iter().any(|w| w.starts_with("stopped after 1 rounds (max_rounds) while methods still acted")), "{warnings:?}");
    let settled = run_json(&["consolidate", "-f", &snapshot, "--until-stable", "-o", "json"]);
    assert!(settled["rounds"].as_u64().unwrap() > 1, "the snapshot needs more than one round");
    assert!(!settled["warnings"].as_array().unwrap().iter().any(|w| w.as_str().unwrap().contains("max_rounds")), "{settled}");

    let table = binary(&["consolidate", "-f", &snapshot, "--until-stable", "--max-rounds", "1"]);
    assert!(table.status.success());
    let stderr = String::from_utf8_lossy(&table.stderr);
    assert!(stderr.contains("stopped after 1 rounds (max_rounds)") && stderr.contains("--max-rounds"), "{stderr}");

    for args in [&["consolidate", "-f", &snapshot, "--max-rounds", "5"][..], &["consolidate", "-f", &snapshot, "--until-stable", "--max-rounds", "0"]] {
        let refused = binary(args);
        assert_eq!(refused.status.code(), Some(2), "{args:?}");
        assert!(String::from_utf8_lossy(&refused.stderr).contains("--max-rounds"), "{args:?}");
    }
}

#[test]
fn compare_until_stable_says_which_variants_a_round_cap_cut_short() {
    let snapshot = repo(SNAPSHOT);
    let args = ["compare", "-f", &snapshot, "--until-stable", "--max-rounds", "1", "--vary", "capacity_types=on-demand"];
    let out = run_json(&[&args[..], &["-o", "json"]].concat());
    let cut = "variants base, capacity_types=on-demand: stopped after 1 rounds (max_rounds)";
    let warnings: Vec<&str> = out["warnings"].as_array().unwrap().iter().map(|w| w.as_str().unwrap()).collect();
    assert!(warnings.iter().any(|w| w.starts_with(cut)), "{warnings:?}");
    for row in out["rows"].as_array().unwrap() {
        let own: Vec<&str> = row["warnings"].as_array().unwrap_or_else(|| panic!("no warnings in {row}")).iter().map(|w| w.as_str().unwrap()).collect();
        assert!(own.iter().any(|w| w.starts_with("stopped after 1 rounds")), "{row}");
    }
    let table = binary(&args);
    assert!(table.status.success());
    assert!(String::from_utf8_lossy(&table.stderr).contains(cut), "{}", String::from_utf8_lossy(&table.stderr));
    // a run that settles has nothing of its own to say
    let settled = run_json(&["compare", "-f", &snapshot, "--until-stable", "-o", "json"]);
    assert!(settled["rows"].as_array().unwrap().iter().all(|r| r.get("warnings").is_none()), "{settled}");
    assert!(!settled["warnings"].as_array().unwrap().iter().any(|w| w.as_str().unwrap().contains("max_rounds")), "{settled}");
}
