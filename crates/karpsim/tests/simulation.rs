//! The time-based simulator: invariants over long randomized runs, timing behaviour, determinism,
//! what-if comparisons, and a replay of the Alibaba GPU trace on the embedded AWS catalog.

use karpsim::sim::whatif::{self, Variant};
use karpsim::sim::{simulate, Engine, Scenario, SimOptions};
use std::path::{Path, PathBuf};

mod sim_common;
use sim_common::*;

fn scenario(dir: &Path, body: &str) -> Scenario {
    let text = format!("catalog: catalog.json\nmanifests: [manifests.yaml]\nstart: \"2026-11-23T00:00:00Z\"\n{body}");
    std::fs::write(dir.join("scenario.yaml"), &text).unwrap();
    Scenario::load(&dir.join("scenario.yaml")).unwrap()
}

/// Constant latencies make timings exact.
const EXACT: &str = "settings:\n  node_launch: 30s\n  node_initialize: 10s\n  node_termination: 30s\n  pod_startup: 0s\n  spot_interruptions: none\n  metrics_interval: 1m\n";

#[test]
fn a_pod_waits_for_the_batch_window_and_the_node_launch() {
    let manifests = pool("5m", "[{nodes: '10%'}]", "{}") + &deployment("web", "1", "");
    let dir = scenario_dir("timing", &[("catalog.json", CATALOG), ("manifests.yaml", &manifests)]);
    let sc = scenario(&dir, &format!("duration: 10m\n{EXACT}workloads:\n  - deployment: default/web\n    replicas:\n      steps: [{{at: 1m, replicas: 1}}]\n"));
    let r = Engine::new(&sc, SimOptions::default()).run_checked().unwrap();
    // created at 60 s; the batch closes after 1 s idle; launch 30 s + initialize 10 s
    assert_eq!(r.metrics.pod_wait_seconds, vec![41.0]);
    let launch = r.log.iter().find(|l| l.kind == "launch").unwrap();
    assert_eq!(launch.t, 61.0);
    // billed from launch to the end: 0.10 $/h × (600 − 61) s
    assert!((r.total_cost - 0.10 * 539.0 / 3600.0).abs() < 1e-9, "{}", r.total_cost);
}

#[test]
fn pods_arriving_together_share_one_batch_until_the_idle_or_max_window_closes() {
    let manifests = pool("5m", "[{nodes: '10%'}]", "{}") + &deployment("web", "500m", "");
    let dir = scenario_dir("batch", &[("catalog.json", CATALOG), ("manifests.yaml", &manifests)]);
    let settings = EXACT.replace("settings:\n", "settings:\n  batch_idle: 2s\n  batch_max: 10s\n");
    // one pod a second from 60 s to 65 s: each extends the 2 s idle window, which closes at 67 s
    let steps: Vec<String> = (1..=6).map(|i| format!("{{at: {}s, replicas: {i}}}", 59 + i)).collect();
    let sc = scenario(&dir, &format!("duration: 5m\n{settings}workloads:\n  - deployment: default/web\n    replicas:\n      steps: [{}]\n", steps.join(", ")));
    let r = Engine::new(&sc, SimOptions::default()).run_checked().unwrap();
    let launches: Vec<f64> = r.log.iter().filter(|l| l.kind == "launch").map(|l| l.t).collect();
    assert_eq!(launches, vec![67.0], "one node for all six pods when the idle window closed: {:?}", r.log);
    // one pod a second for 15 s: the 10 s maximum closes the first batch at 70 s
    let steps: Vec<String> = (1..=15).map(|i| format!("{{at: {}s, replicas: {i}}}", 59 + i)).collect();
    let sc = scenario(&dir, &format!("duration: 5m\n{settings}workloads:\n  - deployment: default/web\n    replicas:\n      steps: [{}]\n", steps.join(", ")));
    let r = Engine::new(&sc, SimOptions::default()).run_checked().unwrap();
    let first = r.log.iter().find(|l| l.kind == "launch").unwrap();
    assert_eq!(first.t, 70.0, "{:?}", r.log);
}

#[test]
fn consolidation_waits_for_consolidate_after_validation_and_the_replacement() {
    let manifests = pool("5m", "[{nodes: '100%'}]", "{}") + &deployment("web", "1500m", "");
    let dir = scenario_dir("consolidate", &[("catalog.json", CATALOG), ("manifests.yaml", &manifests)]);
    // two 1.5-cpu pods first-fit onto one large node; at 20 min one goes and a small would do
    let sc = scenario(&dir, &format!("duration: 1h\n{EXACT}workloads:\n  - deployment: default/web\n    replicas:\n      steps: [{{at: 0s, replicas: 2}}, {{at: 20m, replicas: 1}}]\n"));
    let r = Engine::new(&sc, SimOptions::default()).run_checked().unwrap();
    let at = |kind: &str, text: &str| r.log.iter().find(|l| l.kind == kind && l.message.contains(text)).map(|l| l.t).unwrap_or_else(|| panic!("no {kind} {text}: {:?}", r.log));
    // the pod left at 1200 s (a pod event); consolidateAfter 5 m later the disruption loop (10 s
    // polls) proposes the replacement, validates it 15 s later, launches it, and deletes the old
    // node only once the replacement is initialized (30 s launch + 10 s initialize)
    let proposed = at("disruption", "pending validation");
    assert_eq!(proposed, 1500.0);
    assert_eq!(at("disruption", "→ small"), proposed + 15.0);
    assert_eq!(at("launch", "default-00002 small"), proposed + 15.0);
    assert_eq!(at("delete", "default-00001"), proposed + 15.0 + 40.0);
    assert_eq!(r.metrics.disruptions.get("single-node"), Some(&1));
}

#[test]
fn a_budget_schedule_blocks_disruption_in_its_window() {
    // no disruption from 00:00 for 8 h
    let manifests = pool("1m", "[{nodes: '0', schedule: '0 0 * * *', duration: 8h}, {nodes: '100%'}]", "{}") + &deployment("web", "1500m", "");
    let dir = scenario_dir("budget", &[("catalog.json", CATALOG), ("manifests.yaml", &manifests)]);
    let sc = scenario(&dir, &format!("duration: 10h\n{EXACT}workloads:\n  - deployment: default/web\n    replicas:\n      steps: [{{at: 0s, replicas: 2}}, {{at: 1h, replicas: 1}}]\n"));
    let r = Engine::new(&sc, SimOptions::default()).run_checked().unwrap();
    let proposed = r.log.iter().find(|l| l.kind == "disruption").unwrap_or_else(|| panic!("disruption once the window closes: {:?}", r.log));
    assert!(proposed.t >= 8.0 * 3600.0, "proposed at {} s, inside the blocked window: {:?}", proposed.t, r.log);
    // a budget window closing is not a cluster change, so Karpenter's "consolidated" marker holds
    // until its forced 5-minute refresh (state/cluster.go)
    assert!(proposed.t <= 8.0 * 3600.0 + 300.0 + 10.0, "proposed at {} s: {:?}", proposed.t, r.log);
}

fn random_scenario(seed: u64) -> (PathBuf, Scenario) {
    let manifests = pool("2m", "[{nodes: '50%'}]", "{cpu: '64'}")
        + &deployment("web", "700m", "")
        + &deployment("api", "300m", "      topologySpreadConstraints:\n        - {maxSkew: 1, topologyKey: topology.kubernetes.io/zone, whenUnsatisfiable: DoNotSchedule, labelSelector: {matchLabels: {app: api}}}\n")
        + &deployment("cache", "1", "      affinity:\n        podAntiAffinity:\n          requiredDuringSchedulingIgnoredDuringExecution:\n            - {topologyKey: kubernetes.io/hostname, labelSelector: {matchLabels: {app: cache}}}\n")
        + r#"---
apiVersion: batch/v1
kind: Job
metadata: {name: etl, namespace: default}
spec:
  template:
    spec:
      containers: [{name: c, image: x, resources: {requests: {cpu: "3", memory: 4Gi}}}]
"#;
    let dir = scenario_dir(&format!("random-{seed}"), &[("catalog.json", CATALOG), ("manifests.yaml", &manifests)]);
    let body = format!(
        "duration: 12h\nseed: {seed}\nsettings:\n  spot_interruptions: 0.02\n  metrics_interval: 10m\nworkloads:\n  - deployment: default/web\n    replicas:\n      diurnal: {{min: 2, max: 14, peak: '06:00', noise: 0.3, step: 10m}}\n  - deployment: default/api\n    replicas:\n      hpa: {{load: [{{at: 0h, value: 100}}, {{at: 6h, value: 900}}, {{at: 12h, value: 50}}], target_per_replica: 100, min: 1, max: 12, step: 5m}}\n  - deployment: default/cache\n    replicas:\n      steps: [{{at: 0h, replicas: 2}}, {{at: 3h, replicas: 5}}, {{at: 9h, replicas: 1}}]\n  - job: default/etl\n    arrivals: {{poisson: {{per_hour: 3}}}}\n    duration: {{exponential: {{mean: 20m}}}}\n    parallelism: 2\n"
    );
    let sc = scenario(&dir, &body);
    (dir, sc)
}

#[test]
fn long_randomized_runs_keep_every_invariant() {
    for seed in [1, 2, 3] {
        let (_dir, mut sc) = random_scenario(seed);
        // spot allowed so interruptions happen
        for np in &mut sc.base.nodepools {
            np.requirements.clear();
        }
        let r = Engine::new(&sc, SimOptions::default()).run_checked().unwrap_or_else(|e| panic!("seed {seed}: {e}"));
        assert!(r.metrics.nodes_launched > 2, "seed {seed}: the workload needs nodes");
        assert!(r.total_cost > 0.0);
        assert!((r.metrics.node_cost_total - r.total_cost).abs() < 1e-6);
        assert!(r.metrics.disruptions.values().sum::<u64>() > 0, "seed {seed}: consolidation acted: {:?}", r.metrics.disruptions);
    }
}

#[test]
fn runs_are_deterministic_and_seeds_matter() {
    let (_d, sc) = random_scenario(7);
    let a = serde_json::to_string(&simulate(&sc, &SimOptions::default()).unwrap()).unwrap();
    let b = serde_json::to_string(&simulate(&sc, &SimOptions::default()).unwrap()).unwrap();
    assert_eq!(a, b);
    let mut other = sc.clone();
    other.seed = 8;
    assert_ne!(a, serde_json::to_string(&simulate(&other, &SimOptions::default()).unwrap()).unwrap());
}

#[test]
fn comparisons_are_the_same_on_any_thread_count_and_use_common_random_numbers() {
    let (_d, sc) = random_scenario(11);
    let variants = whatif::parse_vary("capacity_types=on-demand,spot+on-demand").unwrap();
    let one = rayon::ThreadPoolBuilder::new().num_threads(1).build().unwrap().install(|| whatif::compare(&sc, &SimOptions::default(), &variants, &[11, 12]).unwrap());
    let two = rayon::ThreadPoolBuilder::new().num_threads(2).build().unwrap().install(|| whatif::compare(&sc, &SimOptions::default(), &variants, &[11, 12]).unwrap());
    assert_eq!(one, two);
    assert_eq!(one.iter().map(|r| (r.variant.as_str(), r.seed)).collect::<Vec<_>>(), vec![
        ("capacity_types=on-demand", 11),
        ("capacity_types=on-demand", 12),
        ("capacity_types=spot+on-demand", 11),
        ("capacity_types=spot+on-demand", 12)
    ]);
    // spot is cheaper here, and the on-demand-only variant is never interrupted
    assert!(one[2].total_cost < one[0].total_cost, "{one:?}");
    assert_eq!(one[0].interruptions, 0);
    let (mean, half) = whatif::mean_ci(&[one[0].total_cost, one[1].total_cost]);
    assert!(mean > 0.0 && half >= 0.0);
}

#[test]
fn bad_variants_and_scenarios_are_errors() {
    let (dir, sc) = random_scenario(5);
    assert!(whatif::parse_vary("colour=blue").unwrap_err().to_string().contains("unknown key"));
    let v = Variant { name: "x".into(), changes: vec![("budget".into(), "150%".into())] };
    assert!(whatif::apply(&sc, &SimOptions::default(), &v).is_err());
    std::fs::write(dir.join("bad.yaml"), "manifests: [manifests.yaml]\nduration: soon\n").unwrap();
    let e = Scenario::load(&dir.join("bad.yaml")).unwrap_err().to_string();
    assert!(e.contains("duration") && e.contains("bad.yaml"), "{e}");
    std::fs::write(dir.join("bad2.yaml"), "manifests: [manifests.yaml]\nworkloads:\n  - deployment: default/nope\n    replicas: {steps: []}\n").unwrap();
    let e = Scenario::load(&dir.join("bad2.yaml")).unwrap_err().to_string();
    assert!(e.contains("default/nope"), "{e}");
    std::fs::write(dir.join("bad3.yaml"), "manifests: [manifests.yaml]\nsettings: {batch_idel: 1s}\n").unwrap();
    assert!(Scenario::load(&dir.join("bad3.yaml")).unwrap_err().to_string().contains("batch_idel"));
}

#[test]
fn the_alibaba_gpu_trace_replays_on_the_aws_catalog() {
    let trace = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/alibaba-openb-2023/openb_pod_list_default.csv");
    assert!(trace.exists(), "the Alibaba trace is read from ../shared/data (not shipped): {}", trace.display());
    let pools = r#"apiVersion: karpenter.sh/v1
kind: NodePool
metadata: {name: cpu}
spec:
  weight: 10
  template:
    spec:
      requirements:
        - {key: karpenter.k8s.aws/instance-category, operator: In, values: [c, m, r]}
        - {key: karpenter.sh/capacity-type, operator: In, values: [on-demand]}
---
apiVersion: karpenter.sh/v1
kind: NodePool
metadata: {name: gpu}
spec:
  template:
    spec:
      requirements:
        - {key: karpenter.k8s.aws/instance-gpu-manufacturer, operator: In, values: [nvidia]}
        - {key: karpenter.sh/capacity-type, operator: In, values: [on-demand]}
"#;
    let dir = scenario_dir("alibaba", &[("pools.yaml", pools)]);
    let body = format!(
        "catalog: aws:us-east-1\nmanifests: [pools.yaml]\nduration: 240h\nsettings:\n  spot_interruptions: none\n  metrics_interval: 6h\nworkloads:\n  - trace: {{format: alibaba, path: {}, limit: 120}}\n",
        trace.display()
    );
    std::fs::write(dir.join("scenario.yaml"), body).unwrap();
    let sc = Scenario::load(&dir.join("scenario.yaml")).unwrap();
    let r = Engine::new(&sc, SimOptions::default()).run_checked().unwrap();
    // GPU pods ran on NVIDIA instances, CPU-only pods on c/m/r
    let types = &r.metrics.nodes_by_instance_type.key;
    assert!(types.iter().any(|t| t.starts_with('g') || t.starts_with('p')), "GPU instances launched: {types:?}");
    assert!(r.metrics.nodes_by_nodepool.key.iter().any(|k| k == "gpu"));
    assert!(r.total_cost > 0.0);
    let util = r.metrics.mean("cpu_requested") / r.metrics.mean("cpu_allocatable");
    assert!(util > 0.0 && util <= 1.0, "cpu utilisation {util}");
}

#[test]
fn a_spot_interruption_evicts_at_the_notice_and_the_instance_goes_two_minutes_later() {
    let spot_pool = pool("5m", "[{nodes: '10%'}]", "{}").replace("values: [on-demand]", "values: [spot]");
    let manifests = spot_pool + &deployment("web", "1", "");
    let dir = scenario_dir("spot", &[("catalog.json", CATALOG), ("manifests.yaml", &manifests)]);
    let settings = EXACT.replace("spot_interruptions: none", "spot_interruptions: 0.5");
    let sc = scenario(&dir, &format!("duration: 6h\n{settings}workloads:\n  - deployment: default/web\n    replicas:\n      steps: [{{at: 0s, replicas: 1}}]\n"));
    let r = Engine::new(&sc, SimOptions::default()).run_checked().unwrap();
    assert!(r.metrics.interruptions > 0, "{:?}", r.log);
    for notice in r.log.iter().filter(|l| l.kind == "delete" && l.message.contains("spot interruption")) {
        let node = notice.message.split(':').next().unwrap();
        let gone = r.log.iter().find(|l| l.kind == "gone" && l.message.starts_with(node)).unwrap_or_else(|| panic!("{node} never gone: {:?}", r.log));
        assert_eq!(gone.t - notice.t, 120.0, "{node}");
    }
    // the pod is rescheduled on a replacement each time, and the run ends with it running
    assert!(r.pending_at_end.is_empty());
    assert!(r.metrics.nodes_launched > r.metrics.interruptions);
}

#[test]
fn overlapping_offering_outages_keep_offerings_away_until_the_last_one_ends() {
    let manifests = pool("5m", "[{nodes: '10%'}]", "{}") + &deployment("web", "1", "");
    let dir = scenario_dir("outage", &[("catalog.json", CATALOG), ("manifests.yaml", &manifests)]);
    let sc = scenario(&dir, &format!(
        "duration: 4h\n{EXACT}offering_outages:\n  - {{capacity_type: on-demand, from: 0s, until: 2h}}\n  - {{capacity_type: on-demand, zone: z1, from: 1h, until: 3h}}\n  - {{capacity_type: on-demand, zone: z2, from: 1h, until: 3h}}\nworkloads:\n  - deployment: default/web\n    replicas:\n      steps: [{{at: 30m, replicas: 1}}]\n"
    ));
    let r = Engine::new(&sc, SimOptions::default()).run_checked().unwrap();
    let launch = r.log.iter().find(|l| l.kind == "launch").unwrap_or_else(|| panic!("{:?}", r.log));
    // nothing can launch until the last outage ends at 3 h; the unschedulable pod is retried every
    // 5 minutes (kube-scheduler's requeue), so it launches within 5 minutes after that
    assert!(launch.t >= 3.0 * 3600.0, "launched during an outage at {}: {:?}", launch.t, r.log);
    assert!(launch.t <= 3.0 * 3600.0 + 301.0, "launched at {}: {:?}", launch.t, r.log);
    assert!(r.pending_at_end.is_empty());
}

#[test]
fn event_traces_are_read_with_times_relative_to_the_start() {
    use karpsim::sim::trace::{read_alibaba, read_events};
    let dir = scenario_dir("traces", &[
        ("events.csv", "timestamp,action,namespace,name,owner,cpu,memory,gpu,labels,node_selector,tolerations\n\
            2026-11-23T01:00:00Z,create,web,p1,web,250m,256Mi,,app=web;tier=front,kubernetes.io/arch=arm64,dedicated=web:NoSchedule;spot:PreferNoSchedule\n\
            30,create,,p2,,1,1Gi,1,,,\n\
            7200,delete,web,p1,,250m,256Mi,,,,\n"),
        ("bad-action.csv", "timestamp,action,name,cpu,memory\n0,start,p,1,1Gi\n"),
        ("no-cpu.csv", "timestamp,action,name,memory\n0,create,p,1Gi\n"),
        ("negative.csv", "timestamp,action,name,cpu,memory\n0,create,p,-1,1Gi\n"),
        ("openb.csv", "name,cpu_milli,memory_mib,num_gpu,gpu_milli,gpu_spec,qos,pod_phase,creation_time,deletion_time,scheduled_time\n\
            a,12000,16384,1,460,,LS,Running,0,100,0\n\
            b,8000,8192,2,1000,,LS,Running,10,50,10\n\
            c,500,512,0,0,,BE,Running,20,10,20\n"),
    ]);
    let start = karpsim::io::parse_rfc3339("2026-11-23T00:00:00Z").unwrap();
    let ev = read_events(&dir.join("events.csv"), None, start).unwrap();
    assert_eq!(ev.iter().map(|e| (e.at, e.create, e.pod.name.as_str())).collect::<Vec<_>>(), vec![(30.0, true, "p2"), (3600.0, true, "p1"), (7200.0, false, "p1")]);
    let p1 = &ev[1].pod;
    assert_eq!((p1.requests.cpu, p1.requests.memory), (250, 256 << 20));
    assert_eq!(p1.namespace.as_str(), "web");
    assert_eq!(p1.labels.len(), 2);
    assert_eq!(p1.node_selector.get(&karpsim::labels::Sym::new("kubernetes.io/arch")).map(|s| s.as_str()), Some("arm64"));
    assert_eq!(p1.tolerations.len(), 2);
    assert_eq!(ev[0].pod.requests.get("nvidia.com/gpu"), 1);
    assert_eq!(ev[0].pod.namespace.as_str(), "default");
    for (f, want) in [("bad-action.csv", "create or delete"), ("no-cpu.csv", "missing column \"cpu\""), ("negative.csv", "negative")] {
        let e = read_events(&dir.join(f), None, start).unwrap_err().to_string();
        assert!(e.contains(want) && e.contains(f), "{f}: {e}");
    }
    let ab = read_alibaba(&dir.join("openb.csv"), None).unwrap();
    // a: 460 milli-GPU rounds up to one GPU; b: two whole GPUs; c: deleted before created, so only created
    let gpus: Vec<(&str, bool, i64)> = ab.iter().map(|e| (e.pod.name.as_str(), e.create, e.pod.requests.get("nvidia.com/gpu"))).collect();
    assert_eq!(gpus, vec![("a", true, 1), ("b", true, 2), ("c", true, 0), ("b", false, 2), ("a", false, 1)]);
    assert_eq!(ab[0].pod.requests.memory, 16384 << 20);
    assert!(read_alibaba(&dir.join("events.csv"), None).unwrap_err().to_string().contains("Alibaba"));
}

#[test]
fn an_in_flight_nodeclaim_of_the_inputs_initializes_and_takes_the_pending_pod() {
    // a NodeClaim launched just before the start, with no Node yet: the pending pod waits for it
    // instead of a new launch
    let claim = r#"---
apiVersion: karpenter.sh/v1
kind: NodeClaim
metadata:
  name: default-inflight
  creationTimestamp: '2026-11-22T23:59:30Z'
  labels: {karpenter.sh/nodepool: default, node.kubernetes.io/instance-type: small, topology.kubernetes.io/zone: z1, karpenter.sh/capacity-type: on-demand}
spec: {}
status:
  providerID: fake:///z1/i-1
  capacity: {cpu: '2', memory: 8Gi, pods: '20'}
  allocatable: {cpu: 1900m, memory: 7900Mi, pods: '20'}
  conditions: [{type: Launched, status: 'True'}]
---
apiVersion: v1
kind: Pod
metadata: {name: waiting, namespace: default}
spec:
  containers: [{name: c, image: x, resources: {requests: {cpu: '1', memory: 512Mi}}}]
"#;
    let manifests = pool("5m", "[{nodes: '10%'}]", "{}") + claim;
    let dir = scenario_dir("inflight", &[("catalog.json", CATALOG), ("manifests.yaml", &manifests)]);
    let sc = scenario(&dir, &format!("duration: 5m\n{EXACT}"));
    let r = Engine::new(&sc, SimOptions::default()).run_checked().unwrap();
    assert!(!r.log.iter().any(|l| l.kind == "launch"), "{:?}", r.log);
    let ready = r.log.iter().find(|l| l.kind == "ready").unwrap_or_else(|| panic!("{:?}", r.log));
    assert_eq!((ready.t, ready.message.as_str()), (10.0, "default-inflight initialized"));
    assert_eq!(r.metrics.pod_wait_seconds, vec![10.0]);
    assert!((r.total_cost - 0.10 * 300.0 / 3600.0).abs() < 1e-9, "billed from the start: {}", r.total_cost);
}

#[test]
fn a_statefulset_pod_stays_in_the_zone_where_its_volume_was_created() {
    // small is cheaper in z2; the first node (large, same price everywhere) lands in z1
    let catalog = CATALOG.replace(
        r#"[{"zone": "z1", "capacity_type": "on-demand", "price": 0.10}, {"zone": "z2", "capacity_type": "on-demand", "price": 0.10},"#,
        r#"[{"zone": "z1", "capacity_type": "on-demand", "price": 0.12}, {"zone": "z2", "capacity_type": "on-demand", "price": 0.10},"#,
    );
    let class = "---\napiVersion: storage.k8s.io/v1\nkind: StorageClass\nmetadata: {name: gp3}\nprovisioner: ebs.csi.aws.com\nvolumeBindingMode: WaitForFirstConsumer\n";
    let sts = r#"---
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: db, namespace: default}
spec:
  template:
    metadata: {labels: {app: db}}
    spec:
      containers: [{name: c, image: x, resources: {requests: {cpu: "1500m", memory: 512Mi}}}]
  volumeClaimTemplates:
  - metadata: {name: data}
    spec: {storageClassName: gp3, accessModes: [ReadWriteOnce]}
"#;
    let run = |with_class: bool| {
        let manifests = pool("5m", "[{nodes: '100%'}]", "{}") + sts + if with_class { class } else { "" };
        let dir = scenario_dir(&format!("sts-{with_class}"), &[("catalog.json", &catalog), ("manifests.yaml", &manifests)]);
        let sc = scenario(&dir, &format!("duration: 1h\n{EXACT}workloads:\n  - deployment: default/db\n    replicas:\n      steps: [{{at: 0s, replicas: 2}}, {{at: 20m, replicas: 1}}]\n"));
        Engine::new(&sc, SimOptions::default()).run_checked().unwrap().log
    };
    let launches = |log: &[karpsim::sim::LogEntry]| log.iter().filter(|l| l.kind == "launch").map(|l| l.message.clone()).collect::<Vec<_>>();
    // the two replicas start on a large node in z1; when one goes, the other moves to a small node:
    // in z1, where its EBS volume now is
    let log = run(true);
    let l = launches(&log);
    assert!(l[0].contains("large z1"), "{l:?}");
    assert!(l[1].contains("small z1"), "{l:?}");
    // without the StorageClass nothing is known of the volume: the cheaper zone wins
    let log = run(false);
    let l = launches(&log);
    assert!(l[1].contains("small z2"), "{l:?}");
}

#[test]
fn a_workload_can_name_a_deployment_known_from_its_snapshot_pods() {
    // `kubectl get deploy,pods`: the Deployment is not expanded (its pod stands for it), and the
    // workload takes that pod, owned by ReplicaSet web-5c9d7f6b8d, as its template
    let pod = r#"---
apiVersion: v1
kind: Pod
metadata:
  name: web-5c9d7f6b8d-aaaaa
  namespace: default
  creationTimestamp: '2026-11-22T00:00:00Z'
  labels: {app: web, pod-template-hash: 5c9d7f6b8d}
  ownerReferences: [{apiVersion: apps/v1, kind: ReplicaSet, name: web-5c9d7f6b8d, uid: rs-1, controller: true}]
spec:
  containers: [{name: c, image: x, resources: {requests: {cpu: "1", memory: 512Mi}}}]
status: {phase: Pending}
"#;
    // with the Deployment's manifest, and with its pods alone (`kubectl get pods`)
    for (dir, with_deployment) in [("snapshot-deployment", true), ("snapshot-pods-only", false)] {
        let deploy = if with_deployment { deployment("web", "1", "") } else { String::new() };
        let manifests = pool("5m", "[{nodes: '10%'}]", "{}") + &deploy + pod;
        let dir = scenario_dir(dir, &[("catalog.json", CATALOG), ("manifests.yaml", &manifests)]);
        let sc = scenario(&dir, &format!("duration: 10m\n{EXACT}workloads:\n  - deployment: default/web\n    replicas:\n      steps: [{{at: 1m, replicas: 3}}]\n"));
        assert!(sc.base.pods.is_empty(), "the workload's pods are made over time: {:?}", sc.base.pods.iter().map(|p| p.key()).collect::<Vec<_>>());
        let r = Engine::new(&sc, SimOptions::default()).run_checked().unwrap();
        assert_eq!(r.metrics.pod_wait_seconds.len(), 3);
    }
}
