//! The `karpsim` command end to end: through `parse` + `execute` (output as strings) and, for exit
//! codes and stderr, through the built binary.

mod common;
use common::*;

use serde_json::Value;






fn strings(v: &Value) -> Vec<String> {
    v.as_array().expect("array").iter().map(|s| s.as_str().expect("string").to_string()).collect()
}

#[test]
fn provision_online_boutique_places_or_explains_every_pod() {
    let dir = repo("examples/online-boutique");
    let out = run_json(&["provision", "-f", &dir, "--output", "json"]);
    let claims = out["nodeclaims"].as_array().expect("nodeclaims");
    assert!(!claims.is_empty());
    for key in ["nodeclaims", "existing_nodes", "unschedulable", "cost_per_hour", "relaxations", "warnings"] {
        assert!(out.get(key).is_some(), "missing key {key}");
    }
    let mut seen: Vec<String> = claims.iter().flat_map(|c| strings(&c["pods"])).collect();
    seen.extend(out["existing_nodes"].as_array().unwrap().iter().flat_map(|n| strings(&n["pods"])));
    seen.extend(out["unschedulable"].as_array().unwrap().iter().map(|u| u["pod"].as_str().unwrap().to_string()));
    seen.sort();

    // The same inputs through the core: every pending pod appears exactly once.
    let mut inputs = karpsim::io::Inputs::new();
    inputs.load_path(std::path::Path::new(&dir)).unwrap();
    let mut expected: Vec<String> = inputs.finish().unwrap().pods.iter().map(|p| p.key()).collect();
    expected.sort();
    assert_eq!(seen, expected);
    assert_eq!(expected.len(), 12, "Online Boutique has 12 single-replica Deployments");

    let c = &claims[0];
    for key in ["name", "nodepool", "instance_type", "zone", "capacity_type", "price_per_hour", "instance_type_options", "pods", "requests", "allocatable", "requirements"] {
        assert!(c.get(key).is_some(), "nodeclaim lacks {key}");
    }
    assert!(c["allocatable"]["cpu"].is_string(), "quantities are Kubernetes strings");
    let total: f64 = claims.iter().map(|c| c["price_per_hour"].as_f64().unwrap()).sum();
    assert!((out["cost_per_hour"].as_f64().unwrap() - total).abs() < 1e-9);
}

#[test]
fn provision_table_has_rows_totals_and_pending_reasons() {
    let r = run_ok(&["provision", "-f", &data("lab-cluster.yaml"), "--catalog", &data("lab-catalog.yaml")]);
    let lines: Vec<&str> = r.stdout.lines().collect();
    assert!(lines[0].starts_with("NODECLAIM  NODEPOOL  INSTANCE TYPE"), "{}", r.stdout);
    assert!(lines[1].starts_with("lab-1      lab       large"), "{}", r.stdout);
    assert!(lines[1].contains("4.50/7.80"), "cpu requested/allocatable: {}", lines[1]);
    assert!(r.stdout.contains("total: 1 new node(s) for 3 pod(s), $0.4000/h, $292.00/month (730 h)"), "{}", r.stdout);
    assert!(r.stdout.contains("pending pods (1):"), "{}", r.stdout);
    assert!(r.stdout.contains("lab/giant") && r.stdout.contains("64 cpu"), "{}", r.stdout);
}

#[test]
fn provision_options_change_the_result() {
    let dir = repo("examples/online-boutique");
    let out = run_json(&["provision", "-f", &dir, "-o", "json", "--max-instance-types", "3", "--launch", "cheapest"]);
    for c in out["nodeclaims"].as_array().unwrap() {
        assert!(c["instance_type_options"].as_array().unwrap().len() <= 3);
    }
    let default = run_json(&["provision", "-f", &dir, "-o", "json"]);
    assert!(out["cost_per_hour"].as_f64().unwrap() <= default["cost_per_hour"].as_f64().unwrap() + 1e-9);
}

#[test]
fn catalog_filters_by_requirement() {
    let out = run_json(&["catalog", "--requirement", "karpenter.k8s.aws/instance-family In m7g", "-o", "json"]);
    let types = out["instance_types"].as_array().unwrap();
    let names: Vec<&str> = types.iter().map(|t| t["name"].as_str().unwrap()).collect();
    assert!(names.contains(&"m7g.large") && names.iter().all(|n| n.starts_with("m7g.")), "{names:?}");
    let large = types.iter().find(|t| t["name"] == "m7g.large").unwrap();
    assert_eq!(large["labels"]["kubernetes.io/arch"], "arm64");
    assert_eq!(large["allocatable"]["pods"], "29");
    let o = &large["offerings"][0];
    for key in ["zone", "capacity_type", "price", "available"] {
        assert!(o.get(key).is_some(), "offering lacks {key}");
    }

    // Several requirements are ANDed; comma lists and numeric operators work.
    let out = run_json(&[
        "catalog",
        "-r",
        "karpenter.k8s.aws/instance-family In m5, m6i",
        "-r",
        "karpenter.k8s.aws/instance-cpu Gt 16",
        "-o",
        "json",
    ]);
    let names: Vec<&str> = out["instance_types"].as_array().unwrap().iter().map(|t| t["name"].as_str().unwrap()).collect();
    assert!(names.contains(&"m5.8xlarge") && names.contains(&"m6i.24xlarge"), "{names:?}");
    assert!(!names.contains(&"m5.4xlarge") && !names.contains(&"m5.large"), "{names:?}");
}

#[test]
fn catalog_table_and_instance_type_filter() {
    let r = run_ok(&["catalog", "-t", "m5.large", "-t", "m5.xlarge"]);
    let lines: Vec<&str> = r.stdout.lines().collect();
    assert!(lines[0].starts_with("NAME       VCPU"), "{}", r.stdout);
    assert!(lines[1].starts_with("m5.large      2"), "{}", r.stdout);
    assert!(lines[1].contains("0.0960"), "on-demand price of m5.large: {}", lines[1]);
    assert_eq!(lines.last().copied(), Some("2 of 1345 instance types in aws:us-east-1"));
}

#[test]
fn catalog_applies_nodeclass_kubelet_settings() {
    let file = temp_file(
        "nc.yaml",
        "apiVersion: karpenter.k8s.aws/v1\nkind: EC2NodeClass\nmetadata: {name: small-pods}\nspec:\n  amiSelectorTerms: [{alias: al2023@latest}]\n  kubelet: {maxPods: 20}\n",
    );
    let out = run_json(&["catalog", "-f", &file, "-t", "m5.xlarge", "-o", "json"]);
    assert_eq!(out["instance_types"][0]["allocatable"]["pods"], "20");
    let plain = run_json(&["catalog", "-t", "m5.xlarge", "-o", "json"]);
    assert_eq!(plain["instance_types"][0]["allocatable"]["pods"], "58");
}

#[test]
fn custom_catalog_path() {
    let out = run_json(&["catalog", "--catalog", &data("lab-catalog.yaml"), "-o", "json"]);
    let names: Vec<&str> = out["instance_types"].as_array().unwrap().iter().map(|t| t["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["large", "small"]);
    assert_eq!(out["instance_types"][1]["allocatable"]["cpu"], "1900m");
    let out = run_json(&["catalog", "--catalog", &data("lab-catalog.yaml"), "-r", "size In small", "-o", "json"]);
    assert_eq!(out["instance_types"].as_array().unwrap().len(), 1);
}

#[test]
fn bad_input_file_exits_2_naming_the_file() {
    let file = data("bad-quantity.yaml");
    let out = binary(&["provision", "-f", &file]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.starts_with("error: "), "{err}");
    assert!(err.contains("bad-quantity.yaml") && err.contains("Deployment default/web") && err.contains("requests.cpu"), "{err}");
    assert!(out.stdout.is_empty());
    assert!(!err.contains("panicked"), "{err}");
}

#[test]
fn missing_file_exits_2() {
    let out = binary(&["provision", "-f", "/nonexistent/karpsim-input.yaml"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("/nonexistent/karpsim-input.yaml"));
}

#[test]
fn unknown_catalog_region_exits_2_listing_the_known_ones() {
    let out = binary(&["catalog", "--catalog", "aws:mars-north-1"]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("mars-north-1") && err.contains("us-east-1") && err.contains("eu-west-1"), "{err}");
}

#[test]
fn bad_requirement_and_unknown_instance_type_are_errors() {
    for args in [
        &["catalog", "-r", "kubernetes.io/arch Foo arm64"][..],
        &["catalog", "-r", "arch"][..],
        &["catalog", "-r", "karpenter.k8s.aws/instance-cpu Gt many"][..],
        &["catalog", "-t", "m9.huge"][..],
        &["catalog", "--nodeclass", "default"][..],
    ] {
        let out = binary(args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.starts_with("error: option "), "{args:?}: {err}");
    }
}

#[test]
fn usage_errors_and_help() {
    let out = binary(&["provision"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--filename"));
    let out = binary(&["--help"]);
    assert_eq!(out.status.code(), Some(0));
    let help = String::from_utf8_lossy(&out.stdout);
    assert!(help.contains("karpsim provision -f examples/online-boutique"), "{help}");
}

#[test]
fn table_warnings_go_to_stderr() {
    let out = binary(&["provision", "-f", &repo("examples/online-boutique")]);
    assert_eq!(out.status.code(), Some(0));
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stdout.starts_with("NODECLAIM"), "{stdout}");
    assert!(!stdout.contains("warning:"));
    assert!(stderr.lines().all(|l| l.starts_with("warning: ")), "{stderr}");
    assert!(stderr.contains("skipped"), "the Services of the example are reported: {stderr}");
}

#[test]
fn warnings_are_printed_once_and_quiet_silences_them() {
    let dir = std::env::temp_dir().join(format!("karpsim-cli-empty-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let d = dir.display().to_string();
    let out = binary(&["provision", "-f", &d, "-f", &d]);
    assert_eq!(out.status.code(), Some(0));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(stderr.matches("no *.yaml").count(), 1, "the same warning twice is printed once: {stderr}");
    let quiet = binary(&["provision", "-f", &repo("examples/online-boutique"), "--quiet"]);
    assert_eq!(quiet.status.code(), Some(0));
    assert!(quiet.stderr.is_empty(), "{}", String::from_utf8_lossy(&quiet.stderr));
    assert!(String::from_utf8_lossy(&quiet.stdout).starts_with("NODECLAIM"));
    let errors_still_show = binary(&["-q", "provision", "-f", "/nonexistent/x.yaml"]);
    assert_eq!(errors_still_show.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&errors_still_show.stderr).starts_with("error: "));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn prices_change_without_editing_files() {
    let od = |extra: &[&str]| -> f64 {
        let mut args = vec!["provision", "-f", "examples/online-boutique", "--output", "json"];
        args.extend_from_slice(extra);
        let args: Vec<String> = args.iter().map(|a| if *a == "examples/online-boutique" { repo(a) } else { a.to_string() }).collect();
        let v = run_json(&args.iter().map(String::as_str).collect::<Vec<_>>());
        v["cost_per_hour"].as_f64().unwrap()
    };
    let base = od(&[]);
    // the example launches spot; a 90% spot discount makes every spot offering cheaper still
    let discounted = od(&["--spot-discount", "0.9"]);
    assert!(discounted < base, "{discounted} < {base}");
    let explicit = od(&["--price", "c6a:spot=0.001"]);
    assert!((explicit - 0.001).abs() < 1e-9, "the c6a family at 0.001 $/h wins: {explicit}");
    for (flag, value, want) in [
        ("--price", "c6a.large=1", "NAME:CAPACITY=PRICE"),
        ("--price", "c6a.large:reserved=1", "on-demand or spot"),
        ("--spot-discount", "1.5", "spot_discount"),
        ("--on-demand-multiplier", "-1", "on_demand_multiplier"),
        ("--vm-memory-overhead-percent", "2", "vm_memory_overhead_percent"),
    ] {
        let out = binary(&["provision", "-f", &repo("examples/online-boutique"), &format!("{flag}={value}")]);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{flag} {value}: {err}");
        assert!(err.contains(want), "{flag} {value}: {err}");
    }
    let out = binary(&["catalog", "--catalog", &data("lab-catalog.yaml"), "--spot-discount", "0.5"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("aws:REGION"));
}

/// A hand-written `kubectl get pods -A -o json` dump (the core's round-trip fixture).
const POD_DUMP: &str = "crates/karpsim/tests/data/pod-dump.json";

#[test]
fn trace_from_pods_writes_the_event_csv_and_reports_what_it_skips() {
    let dump = repo(POD_DUMP);
    let r = run_ok(&["trace", "from-pods", &dump]);
    let lines: Vec<&str> = r.stdout.lines().collect();
    assert_eq!(lines[0], "timestamp,action,namespace,name,owner,cpu,memory,gpu,labels,node_selector,tolerations");
    assert_eq!(lines.len(), 7, "{}", r.stdout);
    assert_eq!(
        lines[1],
        "2026-11-20T09:30:00Z,create,shop,redis-cart-0,StatefulSet/redis-cart,250m,256Mi,,app=redis-cart;statefulset.kubernetes.io/pod-name=redis-cart-0,,"
    );
    assert_eq!(lines[4], "2026-11-20T11:25:30Z,delete,batch,report-29381720-8mkzd,Job/report-29381720,,,,,,");
    assert!(!r.stdout.contains("aws-node") && !r.stdout.contains("kube-proxy") && !r.stdout.contains("q9x4c"), "{}", r.stdout);
    let warnings = r.warnings.join("\n");
    for want in [
        "skipped 1 DaemonSet pod(s)",
        "skipped 1 mirror (static) pod(s)",
        "skipped 1 Succeeded/Failed pod(s)",
        "ephemeral-storage (1 pod(s))",
    ] {
        assert!(warnings.contains(want), "{want}: {warnings}");
    }

    // -o FILE: the same CSV in the file, a summary on stdout
    let dir = std::env::temp_dir().join(format!("karpsim-cli-trace-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("trace.csv").display().to_string();
    let w = run_ok(&["trace", "from-pods", &dump, "-o", &file]);
    assert_eq!(
        w.stdout,
        format!("wrote 6 events (4 create, 2 delete, 2026-11-20T09:30:00Z to 2026-11-20T12:30:00Z) for 4 of 7 pods to {file}\n")
    );
    assert_eq!(std::fs::read_to_string(&file).unwrap(), r.stdout);
    assert_eq!(w.warnings, r.warnings);
    // what a scenario starting at 09:00 reads
    let start = karpsim::io::parse_rfc3339("2026-11-20T09:00:00Z").unwrap();
    let events = karpsim::sim::trace::read_events(std::path::Path::new(&file), None, start).unwrap();
    let times: Vec<(f64, bool)> = events.iter().map(|e| (e.at, e.create)).collect();
    assert_eq!(times, vec![(1800.0, true), (3600.0, true), (7200.0, true), (8730.0, false), (10800.0, true), (12600.0, false)]);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn trace_from_pods_reads_stdin_and_bad_dumps_exit_2() {
    use std::io::Write;
    use std::process::{Command, Stdio};
    let snapshot = std::fs::read(repo("examples/eks-snapshot/cluster.json")).unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_karpsim"))
        .args(["trace", "from-pods", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("karpsim runs");
    child.stdin.take().unwrap().write_all(&snapshot).unwrap();
    let out = child.wait_with_output().unwrap();
    let (stdout, stderr) = (String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    // 28 pods: 16 DaemonSet pods skipped, 12 created, none stopped
    assert_eq!(stdout.lines().count(), 13, "{stdout}");
    assert_eq!(stdout.lines().filter(|l| l.contains(",create,")).count(), 12, "{stdout}");
    assert!(stderr.lines().all(|l| l.starts_with("warning: ")), "{stderr}");
    assert!(stderr.contains("skipped 16 DaemonSet pod(s)") && stderr.contains("Node (8)"), "{stderr}");

    // a manifest Pod has no creation time: an error naming file, pod and field
    let out = binary(&["trace", "from-pods", &data("lab-cluster.yaml")]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.starts_with("error: ") && err.contains("lab-cluster.yaml") && err.contains("Pod lab/giant"), "{err}");
    assert!(err.contains("metadata.creationTimestamp"), "{err}");
    assert!(out.stdout.is_empty());

    let out = binary(&["trace", "from-pods", "/nonexistent/pods.json"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("/nonexistent/pods.json"));
    let out = binary(&["trace", "from-pods"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("DUMP.json"));
}
