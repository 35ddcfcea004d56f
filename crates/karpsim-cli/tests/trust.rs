//! The command never reports success for output it lost, and refuses what would exhaust the machine.

mod common;
use common::*;

use std::process::{Command, Stdio};

#[test]
fn a_full_disk_is_an_error() {
    let full = std::fs::OpenOptions::new().write(true).open("/dev/full").expect("/dev/full exists on Linux");
    let out = Command::new(env!("CARGO_BIN_EXE_karpsim"))
        .args(["catalog", "-t", "m5.large", "--output", "json"])
        .stdout(full)
        .output()
        .expect("karpsim runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("error: writing the output"), "{stderr}");
}

#[test]
fn a_closed_pipe_ends_quietly_and_not_as_success() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_karpsim"))
        .args(["catalog", "--output", "json"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("karpsim runs");
    // the reader goes away before reading anything (`| head -0`)
    drop(child.stdout.take());
    let out = child.wait_with_output().expect("karpsim ends");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(141), "{stderr}");
    assert!(!stderr.contains("error"), "{stderr}");
}

#[test]
fn the_work_limit_is_an_option() {
    let deployment = "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\nspec:\n  replicas: 1000000000\n  template: {spec: {containers: [{name: a}]}}\n";
    let f = temp_file("big.yaml", deployment);
    let out = binary(&["provision", "-f", &f]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("Deployment default/web, field spec.replicas") && stderr.contains("--pod-limit"), "{stderr}");

    let f = temp_file("twenty.yaml", &deployment.replace("1000000000", "20"));
    let out = binary(&["provision", "-f", &f, "--pod-limit", "10", "--output", "json"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("20 replicas would bring the run to 20 pods, over karpsim's work limit of 10 pods"), "{stderr}");
    let out = binary(&["provision", "-f", &f, "--pod-limit", "20", "--output", "json"]);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
}

#[test]
fn bound_and_advise_take_the_work_limit() {
    let pods = "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\nspec:\n  replicas: 20\n  template: {spec: {containers: [{name: a, resources: {requests: {cpu: 100m}}}]}}\n";
    let f = temp_file("bound-twenty.yaml", pods);
    let pool = repo("examples/bound/nodepool-cmr-on-demand.yaml");
    for cmd in ["bound", "advise"] {
        let out = binary(&[cmd, "-f", &f, "-f", &pool, "--pod-limit", "10", "--output", "json"]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{cmd}: {stderr}");
        assert!(stderr.contains("over karpsim's work limit of 10 pods"), "{cmd}: {stderr}");
    }
    let out = binary(&["bound", "-f", &f, "-f", &pool, "--pod-limit", "20", "--max-iterations", "2", "--no-consolidation", "--output", "json"]);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
}

#[test]
fn a_variant_that_empties_a_pool_says_so() {
    let scenario = repo("examples/diurnal-web/scenario.yaml");
    // m5 is generation 5; the example's NodePools require generation 6 and newer
    let out = run_json(&["compare", &scenario, "--vary", "instance_families=m5", "--duration", "10m", "--output", "json"]);
    let warnings: Vec<&str> = out["warnings"].as_array().unwrap().iter().filter_map(|w| w.as_str()).collect();
    assert!(
        warnings.iter().any(|w| w.starts_with("variant instance_families=m5: NodePool default can launch nothing: it requires karpenter.k8s.aws/instance-family In [m5]")),
        "{warnings:?}"
    );
    assert!(!warnings.iter().any(|w| w.starts_with("variant base:")), "{warnings:?}");

    // the same for a cluster's variants (`compare -f`)
    let boutique = repo("examples/online-boutique");
    let out = run_json(&["compare", "-f", &boutique, "--vary", "instance_families=m5", "--output", "json"]);
    let warnings: Vec<&str> = out["warnings"].as_array().unwrap().iter().filter_map(|w| w.as_str()).collect();
    assert!(
        warnings.iter().any(|w| w.starts_with("variant instance_families=m5: NodePool default can launch nothing: it requires karpenter.k8s.aws/instance-family In [m5]")),
        "{warnings:?}"
    );
}
