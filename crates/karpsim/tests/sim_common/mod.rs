//! Scenario fixtures shared by the simulator's integration tests: a small custom catalog, a NodePool
//! and Deployments, written into a scratch directory.
#![allow(dead_code)]

use std::path::PathBuf;

/// A scratch directory holding a scenario and its manifests.
pub fn scenario_dir(name: &str, files: &[(&str, &str)]) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("karpsim-sim-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    for (f, text) in files {
        std::fs::write(dir.join(f), text).unwrap();
    }
    dir
}

pub const CATALOG: &str = r#"{"instance_types": [
  {"name": "small", "capacity": {"cpu": "2", "memory": "8Gi", "pods": "20"}, "overhead": {"cpu": "100m", "memory": "100Mi"},
   "labels": {"kubernetes.io/arch": "amd64", "kubernetes.io/os": "linux"},
   "offerings": [{"zone": "z1", "capacity_type": "on-demand", "price": 0.10}, {"zone": "z2", "capacity_type": "on-demand", "price": 0.10},
                 {"zone": "z1", "capacity_type": "spot", "price": 0.04}, {"zone": "z2", "capacity_type": "spot", "price": 0.04}]},
  {"name": "large", "capacity": {"cpu": "8", "memory": "32Gi", "pods": "60"}, "overhead": {"cpu": "100m", "memory": "100Mi"},
   "labels": {"kubernetes.io/arch": "amd64", "kubernetes.io/os": "linux"},
   "offerings": [{"zone": "z1", "capacity_type": "on-demand", "price": 0.40}, {"zone": "z2", "capacity_type": "on-demand", "price": 0.40},
                 {"zone": "z1", "capacity_type": "spot", "price": 0.16}, {"zone": "z2", "capacity_type": "spot", "price": 0.16}]}]}"#;

pub fn pool(consolidate_after: &str, budgets: &str, limits: &str) -> String {
    format!(
        r#"apiVersion: karpenter.sh/v1
kind: NodePool
metadata: {{name: default}}
spec:
  template:
    spec:
      requirements:
        - {{key: karpenter.sh/capacity-type, operator: In, values: [on-demand]}}
  limits: {limits}
  disruption:
    consolidationPolicy: WhenEmptyOrUnderutilized
    consolidateAfter: {consolidate_after}
    budgets: {budgets}
"#
    )
}

pub fn deployment(name: &str, cpu: &str, extra: &str) -> String {
    format!(
        r#"---
apiVersion: apps/v1
kind: Deployment
metadata: {{name: {name}, namespace: default}}
spec:
  replicas: 1
  template:
    metadata: {{labels: {{app: {name}}}}}
    spec:
{extra}      containers:
        - name: c
          image: x
          resources: {{requests: {{cpu: "{cpu}", memory: 512Mi}}}}
"#
    )
}


/// Every part is in the error message.
#[track_caller]
pub fn assert_names(e: &str, parts: &[&str]) {
    for p in parts {
        assert!(e.contains(p), "{p:?} missing from: {e}");
    }
}
