//! Scenarios and traces that used to run with a silently different meaning, exhaust memory, or be
//! refused (issue 13): each is now a right answer or an error naming the file and field.

mod sim_common;
use sim_common::*;

use karpsim::WorkLimits;
use karpsim::sim::{Scenario, SimOptions, simulate};
use std::path::Path;

fn manifests() -> String {
    pool("5m", "[{nodes: '10%'}]", "{}") + &deployment("web", "1", "")
}

fn write(dir: &Path, file: &str, body: &str) -> std::path::PathBuf {
    let text = format!("catalog: catalog.json\nmanifests: [manifests.yaml]\nstart: \"2026-11-23T00:00:00Z\"\n{body}");
    let path = dir.join(file);
    std::fs::write(&path, text).unwrap();
    path
}

#[track_caller]
fn load_err(dir: &Path, body: &str) -> String {
    match Scenario::load(&write(dir, "s.yaml", body)) {
        Ok(_) => panic!("expected an error for:\n{body}"),
        Err(e) => e.to_string(),
    }
}

const WEB: &str = "workloads:\n  - deployment: default/web\n    replicas:\n";

#[test]
fn lenient_scenario_fields_are_errors_naming_the_field() {
    let dir = scenario_dir("strict", &[("catalog.json", CATALOG), ("manifests.yaml", &manifests())]);
    let cases: &[(&str, &[&str])] = &[
        // a type error names its field (it used to print an empty one)
        (&format!("{WEB}      steps: [{{at: 1m, replicas: -1}}]\n"), &["s.yaml", "workloads[0].replicas.steps[0].replicas", "invalid value"]),
        ("seed: many\n", &["field seed"]),
        ("settings: {disruption_poll: 0s}\n", &["settings.disruption_poll", "1s"]),
        ("settings: {metrics_interval: 0s}\n", &["settings.metrics_interval"]),
        (&format!("{WEB}      diurnal: {{min: 1, max: 3, step: 0s}}\n"), &["workloads[0].replicas.diurnal.step"]),
        (&format!("{WEB}      diurnal: {{min: 1, max: 3, noise: 2}}\n"), &["workloads[0].replicas.diurnal.noise", "out of range"]),
        (&format!("{WEB}      hpa: {{load: [], target_per_replica: 10, min: 1, max: 3}}\n"), &["workloads[0].replicas.hpa.load", "at least one point"]),
        (&format!("{WEB}      hpa: {{load: [{{at: 0s, value: .nan}}], target_per_replica: 10, min: 1, max: 3}}\n"), &["s.yaml", "line 7", "non-finite"]),
        (&format!("{WEB}      steps: []\n"), &["workloads[0].replicas.steps", "at least one step"]),
        ("offering_outages: [{from: 2h, until: 1h}]\n", &["offering_outages[0].until", "ends before it starts"]),
        ("offering_outages: [{capacity_type: spotty, from: 1h, until: 2h}]\n", &["offering_outages[0].capacity_type", "spotty"]),
        ("offering_outages: [{instance_type: m99z.large, from: 1h, until: 2h}]\n", &["offering_outages[0].instance_type", "m99z.large"]),
    ];
    for (body, parts) in cases {
        assert_names(&load_err(&dir, body), parts);
    }
    std::fs::write(dir.join("missing.yaml"), "catalog: catalog.json\nmanifests: [nothere.yaml]\n").unwrap();
    let e = Scenario::load(&dir.join("missing.yaml")).unwrap_err().to_string();
    assert_names(&e, &["missing.yaml", "manifests[0]", "nothere.yaml"]);
}

#[test]
fn a_deployment_with_zero_replicas_can_be_driven() {
    let manifests = pool("5m", "[{nodes: '10%'}]", "{}") + &deployment("web", "1", "").replace("replicas: 1", "replicas: 0");
    let dir = scenario_dir("zero", &[("catalog.json", CATALOG), ("manifests.yaml", &manifests)]);
    let sc = Scenario::load(&write(&dir, "s.yaml", &format!("duration: 10m\n{WEB}      steps: [{{at: 1m, replicas: 2}}]\n"))).unwrap();
    let r = simulate(&sc, &SimOptions::default()).unwrap();
    assert_eq!(r.metrics.pod_wait_seconds.len(), 2, "both replicas were created and scheduled: {:?}", r.log);
}

#[test]
fn a_peak_over_the_work_limit_is_refused_before_the_run() {
    let dir = scenario_dir("peak", &[("catalog.json", CATALOG), ("manifests.yaml", &manifests())]);
    for replicas in ["steps: [{at: 1m, replicas: 1000000000}]", "diurnal: {min: 1, max: 1000000000}"] {
        let e = load_err(&dir, &format!("{WEB}      {replicas}\n"));
        assert_names(&e, &["s.yaml", "workloads[0].replicas", "work limit of 1000000 pods", "--pod-limit"]);
    }
    // raised, the same scenario loads
    let path = write(&dir, "s.yaml", &format!("{WEB}      steps: [{{at: 1m, replicas: 1500000}}]\n"));
    assert!(Scenario::load(&path).is_err());
    assert!(Scenario::load_with(&path, WorkLimits::new(2_000_000)).is_ok());
}

#[test]
fn jobs_past_the_work_limit_stop_the_run_with_an_error() {
    let manifests = manifests() + "---\napiVersion: batch/v1\nkind: Job\nmetadata: {name: etl, namespace: default}\nspec:\n  template:\n    spec:\n      containers: [{name: c, resources: {requests: {cpu: '100m'}}}]\n";
    let dir = scenario_dir("jobs", &[("catalog.json", CATALOG), ("manifests.yaml", &manifests)]);
    let body = "duration: 2h\nworkloads:\n  - job: default/etl\n    arrivals: {poisson: {per_hour: 30}}\n    parallelism: 10\n    duration: 10h\n";
    let sc = Scenario::load_with(&write(&dir, "s.yaml", body), WorkLimits::new(100)).unwrap();
    let e = simulate(&sc, &SimOptions::default()).unwrap_err().to_string();
    assert_names(&e, &["workloads[0]", "work limit of 100 pods"]);
}

#[test]
fn pods_pending_at_the_end_say_why() {
    // a 64-cpu pod fits no type of the catalog; the pool's requirement excludes nothing
    let manifests = manifests() + &deployment("huge", "64", "");
    let dir = scenario_dir("pending", &[("catalog.json", CATALOG), ("manifests.yaml", &manifests)]);
    let sc = Scenario::load(&write(&dir, "s.yaml", "duration: 10m\n")).unwrap();
    let r = simulate(&sc, &SimOptions::default()).unwrap();
    let (pod, why) = r.pending_at_end.iter().find(|(p, _)| p.starts_with("default/huge")).expect("the huge pod stays pending");
    assert!(why.contains("64 cpu") && why.contains("largest is large"), "{pod}: {why}");

    // a pool that can launch nothing: a warning on the result, and the reason of every pending pod
    let arm = pool("5m", "[{nodes: '10%'}]", "{}").replace("values: [on-demand]}", "values: [on-demand]}\n        - {key: kubernetes.io/arch, operator: In, values: [arm64]}")
        + &deployment("web", "1", "");
    let dir = scenario_dir("idle", &[("catalog.json", CATALOG), ("manifests.yaml", &arm)]);
    let sc = Scenario::load(&write(&dir, "s.yaml", "duration: 10m\n")).unwrap();
    let r = simulate(&sc, &SimOptions::default()).unwrap();
    let expected = "NodePool default can launch nothing: it requires kubernetes.io/arch In [arm64], and the catalog has kubernetes.io/arch amd64";
    assert!(r.warnings.iter().any(|w| w == expected), "{:?}", r.warnings);
    assert_eq!(r.pending_at_end.len(), 1);
    assert!(r.pending_at_end[0].1.contains(expected), "{:?}", r.pending_at_end);
}

#[test]
fn node_counts_agree_across_views() {
    // nodes emptied at 10 min terminate for 5 min: billed, so counted everywhere
    let dir = scenario_dir("counts", &[("catalog.json", CATALOG), ("manifests.yaml", &(pool("0s", "[{nodes: '100%'}]", "{}") + &deployment("web", "1500m", "")))]);
    let body = format!(
        "duration: 40m\nsettings:\n  node_launch: 30s\n  node_initialize: 10s\n  node_termination: 5m\n  spot_interruptions: none\n  metrics_interval: 1m\n{WEB}      steps: [{{at: 0s, replicas: 6}}, {{at: 10m, replicas: 0}}]\n"
    );
    let r = simulate(&Scenario::load(&write(&dir, "s.yaml", &body)).unwrap(), &SimOptions::default()).unwrap();
    let m = &r.metrics;
    let mut terminating_seen = false;
    for (i, (&t, &n)) in m.series.time_h.iter().zip(&m.series.nodes).enumerate() {
        for b in [&m.nodes_by_nodepool, &m.nodes_by_instance_type, &m.nodes_by_capacity_type] {
            let sum: f64 = b.time_h.iter().zip(&b.count).filter(|(bt, _)| **bt == t).map(|(_, c)| c).sum();
            // samples at the same time repeat; each view sums its last sample's rows at most once per sample
            let samples_at_t = m.series.time_h.iter().filter(|x| **x == t).count() as f64;
            let expected: f64 = m.series.time_h.iter().zip(&m.series.nodes).filter(|(x, _)| **x == t).map(|(_, c)| c).sum();
            assert_eq!(sum, expected, "sample {i} at {t} h: {n} nodes, breakdown sums to {sum} over {samples_at_t} samples");
        }
        terminating_seen |= n > 0.0 && m.series.cpu_allocatable[i] == 0.0;
    }
    assert!(terminating_seen, "the run had samples with only terminating nodes: {:?}", r.log);
}

#[test]
fn lenient_trace_rows_are_errors_naming_row_and_field() {
    let dir = scenario_dir("traces", &[("catalog.json", CATALOG), ("manifests.yaml", &manifests())]);
    let header = "timestamp,action,namespace,name,owner,cpu,memory,gpu,labels,node_selector,tolerations\n";
    let cases: &[(&str, &[&str])] = &[
        ("NaN,create,default,a,,1,1Gi,,,,\n", &["t.csv", "row 1 (line 2)", "field timestamp", "\"NaN\""]),
        ("0,create,default,a,,1,1Gi,,,,\ninf,create,default,b,,1,1Gi,,,,\n", &["row 2", "field timestamp"]),
        ("1e300,create,default,a,,1,1Gi,,,,\n", &["row 1", "century"]),
        ("0,create,default,a,,1,1Gi,,,kubernetes.io/arch,\n", &["row 1", "field node_selector", "not key=value"]),
        ("0,create,default,a,,1,1Gi,,app=web server,,\n", &["row 1", "field labels", "label value"]),
        ("0,create,default,A_1,,1,1Gi,,,,\n", &["row 1", "field name", "not a valid name"]),
    ];
    for (rows, parts) in cases {
        std::fs::write(dir.join("t.csv"), format!("{header}{rows}")).unwrap();
        assert_names(&load_err(&dir, "workloads:\n  - trace: {format: events, path: t.csv}\n"), parts);
    }
    std::fs::write(dir.join("t.csv"), "timestamp,action,name,cpu\n0,create,a,1\n").unwrap();
    let e = load_err(&dir, "workloads:\n  - trace: {format: events, path: t.csv}\n");
    assert_names(&e, &["t.csv", "header", "field memory", "missing column"]);
    assert!(!e.contains("document 0"), "{e}");

    let alibaba = "name,cpu_milli,memory_mib,num_gpu,gpu_milli,creation_time,deletion_time\n";
    for (row, field) in [("p,1000,1024,4294967296,4294967296,0,10\n", "num_gpu"), ("p,1000,9000000000000,0,0,0,10\n", "memory_mib")] {
        std::fs::write(dir.join("a.csv"), format!("{alibaba}{row}")).unwrap();
        let e = load_err(&dir, "workloads:\n  - trace: {format: alibaba, path: a.csv}\n");
        assert_names(&e, &["a.csv", "row 1", &format!("field {field}")]);
    }
}

#[test]
fn trace_rows_outside_the_run_are_counted_in_a_warning() {
    let dir = scenario_dir("trace-span", &[("catalog.json", CATALOG), ("manifests.yaml", &manifests())]);
    std::fs::write(dir.join("t.csv"), "timestamp,action,name,cpu,memory\n-60,create,a,100m,1Gi\n60,create,b,100m,1Gi\n7200,create,c,100m,1Gi\n").unwrap();
    let sc = Scenario::load(&write(&dir, "s.yaml", "duration: 1h\nworkloads:\n  - trace: {format: events, path: t.csv}\n")).unwrap();
    let r = simulate(&sc, &SimOptions::default()).unwrap();
    assert!(r.warnings.iter().any(|w| w.contains("workloads[0].trace") && w.contains("1 of 3 row(s) are after the end")), "{:?}", r.warnings);
    assert!(r.warnings.iter().any(|w| w.contains("1 row(s) are before the start")), "{:?}", r.warnings);

    // a comparison's rows keep what their runs warned, which the report names by variant
    let variants = [karpsim::sim::whatif::Variant { name: "base".into(), changes: vec![] }];
    let rows = karpsim::sim::whatif::compare(&sc, &SimOptions::default(), &variants, &[1, 2]).unwrap();
    for row in &rows {
        assert!(row.warnings.iter().any(|w| w.contains("1 of 3 row(s) are after the end")), "seed {}: {:?}", row.seed, row.warnings);
        assert!(sc.base.warnings.iter().all(|w| !row.warnings.contains(w)), "the input's own warnings are reported once: {:?}", row.warnings);
    }
    let lines = karpsim::whatif::run_warnings::grouped("variant", rows.iter().map(|r| (r.variant.as_str(), &r.warnings[..])), &[]);
    assert_eq!(lines.iter().filter(|l| l.contains("are after the end")).count(), 1, "once for both seeds: {lines:?}");
    assert!(lines.iter().all(|l| l.starts_with("variant base: ")), "{lines:?}");
}

#[test]
fn runs_that_would_keep_too_much_are_refused() {
    let jobs = manifests() + "---\napiVersion: batch/v1\nkind: Job\nmetadata: {name: etl, namespace: default}\nspec:\n  template:\n    spec:\n      containers: [{name: c, resources: {requests: {cpu: '100m'}}}]\n";
    let dir = scenario_dir("keep", &[("catalog.json", CATALOG), ("manifests.yaml", &jobs)]);
    // short jobs keep few pods alive, but every created pod is kept in the result to the end
    let at: Vec<String> = (1..=15).map(|m| format!("{m}m")).collect();
    let body = format!("duration: 2h\nworkloads:\n  - job: default/etl\n    arrivals: {{at: [{}]}}\n    parallelism: 10\n    duration: 1s\n", at.join(", "));
    // at most 11 pods at once (the web pod and one arrival), 150 created: over 10 × 12
    let sc = Scenario::load_with(&write(&dir, "s.yaml", &body), WorkLimits::new(12)).unwrap();
    let e = simulate(&sc, &SimOptions::default()).unwrap_err().to_string();
    assert_names(&e, &["workloads[0]", "130 pods created over the run", "limit of 120"]);
    assert!(simulate(&Scenario::load_with(&write(&dir, "s.yaml", &body), WorkLimits::new(15)).unwrap(), &SimOptions::default()).is_ok());
    // expected Poisson arrivals past the bound: refused when the scenario is loaded
    let e = load_err(&dir, "duration: 9600h\nworkloads:\n  - job: default/etl\n    arrivals: {poisson: {per_hour: 900000}}\n    parallelism: 100\n    duration: 1s\n");
    assert_names(&e, &["workloads[0].arrivals.poisson.per_hour", "created over the run"]);
    // a sample a second for 400 days would hold 34,560,000 samples
    let mut sc = Scenario::load(&write(&dir, "s.yaml", "settings: {metrics_interval: 1s}\n")).unwrap();
    sc.duration = 400.0 * 86_400.0;
    let e = simulate(&sc, &SimOptions::default()).unwrap_err().to_string();
    assert_names(&e, &["settings.metrics_interval", "samples"]);
}
