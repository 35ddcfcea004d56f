//! NodePool manifests (karpenter.sh/v1) written back from the model, complete enough to apply: the
//! reader ([`crate::io`]) turns them into the same NodePool.

use crate::model::{ConsolidationPolicy, DisruptionReason, NodePool, Taint};
use crate::resources::format_amount;
use serde_json::{Map, Value, json};

/// A duration as Karpenter writes it (`720h`, `30m`, `15s`), or `Never`.
pub fn duration(d: Option<i64>) -> String {
    match d {
        None => "Never".into(),
        Some(s) if s != 0 && s % 3600 == 0 => format!("{}h", s / 3600),
        Some(s) if s != 0 && s % 60 == 0 => format!("{}m", s / 60),
        Some(s) => format!("{s}s"),
    }
}

fn taints(t: &[Taint]) -> Value {
    Value::Array(
        t.iter()
            .map(|t| {
                let mut m = Map::new();
                m.insert("key".into(), json!(t.key.as_str()));
                if !t.value.as_str().is_empty() {
                    m.insert("value".into(), json!(t.value.as_str()));
                }
                m.insert("effect".into(), json!(format!("{:?}", t.effect)));
                Value::Object(m)
            })
            .collect(),
    )
}

/// The NodePool as a manifest (a JSON value; [`to_yaml`] writes it).
pub fn nodepool_value(np: &NodePool) -> Value {
    let mut tspec = Map::new();
    if let Some(c) = np.node_class {
        tspec.insert("nodeClassRef".into(), json!({"group": "karpenter.k8s.aws", "kind": "EC2NodeClass", "name": c.as_str()}));
    }
    let reqs: Vec<Value> = np
        .requirements
        .iter()
        .map(|r| {
            let mut m = Map::new();
            m.insert("key".into(), json!(r.key.as_str()));
            m.insert("operator".into(), json!(r.operator));
            if !r.values.is_empty() {
                m.insert("values".into(), json!(r.values));
            }
            if let Some(v) = r.min_values {
                m.insert("minValues".into(), json!(v));
            }
            Value::Object(m)
        })
        .collect();
    tspec.insert("requirements".into(), Value::Array(reqs));
    if !np.taints.is_empty() {
        tspec.insert("taints".into(), taints(&np.taints));
    }
    if !np.startup_taints.is_empty() {
        tspec.insert("startupTaints".into(), taints(&np.startup_taints));
    }
    tspec.insert("expireAfter".into(), json!(duration(np.expire_after)));
    if let Some(t) = np.termination_grace_period {
        tspec.insert("terminationGracePeriod".into(), json!(duration(Some(t))));
    }
    let mut template = Map::new();
    let mut meta = Map::new();
    if !np.labels.is_empty() {
        meta.insert("labels".into(), json!(np.labels.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect::<std::collections::BTreeMap<_, _>>()));
    }
    if !np.annotations.is_empty() {
        meta.insert("annotations".into(), json!(np.annotations));
    }
    if !meta.is_empty() {
        template.insert("metadata".into(), Value::Object(meta));
    }
    template.insert("spec".into(), Value::Object(tspec));
    let budgets: Vec<Value> = np
        .disruption
        .budgets
        .iter()
        .map(|b| {
            let mut m = Map::new();
            m.insert("nodes".into(), json!(b.nodes));
            if let Some(s) = &b.schedule {
                m.insert("schedule".into(), json!(s));
            }
            if let Some(d) = b.duration {
                m.insert("duration".into(), json!(duration(Some(d))));
            }
            if let Some(r) = &b.reasons {
                let names: Vec<&str> = r
                    .iter()
                    .map(|x| match x {
                        DisruptionReason::Underutilized => "Underutilized",
                        DisruptionReason::Empty => "Empty",
                        DisruptionReason::Drifted => "Drifted",
                    })
                    .collect();
                m.insert("reasons".into(), json!(names));
            }
            Value::Object(m)
        })
        .collect();
    let policy = match np.disruption.consolidation_policy {
        ConsolidationPolicy::WhenEmpty => "WhenEmpty",
        ConsolidationPolicy::WhenEmptyOrUnderutilized => "WhenEmptyOrUnderutilized",
        ConsolidationPolicy::Balanced => "Balanced",
    };
    let mut spec = Map::new();
    spec.insert("template".into(), Value::Object(template));
    spec.insert(
        "disruption".into(),
        json!({"consolidationPolicy": policy, "consolidateAfter": duration(np.disruption.consolidate_after), "budgets": budgets}),
    );
    if !np.limits.is_empty() {
        spec.insert("limits".into(), Value::Object(np.limits.0.iter().map(|(k, v)| (k.clone(), json!(format_amount(k, *v)))).collect()));
    }
    if np.weight != 0 {
        spec.insert("weight".into(), json!(np.weight));
    }
    if let Some(r) = np.replicas {
        spec.insert("replicas".into(), json!(r));
    }
    json!({"apiVersion": "karpenter.sh/v1", "kind": "NodePool", "metadata": {"name": np.name.as_str()}, "spec": spec})
}

/// NodePools as one multi-document YAML text.
pub fn to_yaml(pools: &[NodePool]) -> String {
    let docs: Vec<String> = pools.iter().map(|p| serde_saphyr::to_string(&nodepool_value(p)).unwrap_or_else(|e| format!("# {e}\n"))).collect();
    docs.join("---\n")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::io::Inputs;

    #[test]
    fn manifests_read_back_as_the_same_nodepools() {
        let text = r#"
apiVersion: karpenter.sh/v1
kind: NodePool
metadata: {name: general}
spec:
  weight: 10
  limits: {cpu: "1000", memory: 4000Gi, nodes: "50"}
  template:
    metadata:
      labels: {team: web}
      annotations: {example.com/owner: platform}
    spec:
      nodeClassRef: {group: karpenter.k8s.aws, kind: EC2NodeClass, name: default}
      expireAfter: 168h
      terminationGracePeriod: 30m
      taints: [{key: dedicated, value: web, effect: NoSchedule}, {key: flag, effect: PreferNoSchedule}]
      startupTaints: [{key: init, effect: NoExecute}]
      requirements:
      - {key: karpenter.k8s.aws/instance-family, operator: In, values: [m7g, r7g, c7g], minValues: 2}
      - {key: karpenter.k8s.aws/instance-cpu, operator: Lte, values: ["64"]}
      - {key: karpenter.sh/capacity-type, operator: In, values: [spot]}
      - {key: example.com/gpu, operator: DoesNotExist}
  disruption:
    consolidationPolicy: WhenEmpty
    consolidateAfter: 90s
    budgets:
    - {nodes: "10%"}
    - {nodes: "0", schedule: "0 9 * * mon-fri", duration: 8h, reasons: [Underutilized, Drifted]}
"#;
        let mut a = Inputs::new();
        a.load_str(text, "in.yaml").unwrap();
        let pools = a.finish().unwrap().nodepools;
        let yaml = to_yaml(&pools);
        let mut b = Inputs::new();
        b.load_str(&yaml, "out.yaml").unwrap_or_else(|e| panic!("{e}\n{yaml}"));
        assert_eq!(b.finish().unwrap().nodepools, pools, "{yaml}");
        assert_eq!(duration(None), "Never");
        assert_eq!(duration(Some(0)), "0s");
    }
}
