//! `HorizontalPodAutoscaler` (autoscaling/v1 and v2): the replica bounds it keeps a Deployment,
//! StatefulSet or ReplicaSet within. karpsim does not know the metrics an HPA follows, so a controller
//! it scales runs as many replicas as the HPA would keep from what the manifests say.

use super::controllers::Controller;
use super::value::Node as V;
use crate::error::Result;

/// The largest replica count the API accepts (as for controllers); the work limit bounds the pods.
const MAX: i64 = super::controllers::MAX_REPLICAS;

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Hpa {
    pub namespace: String,
    pub name: String,
    /// `spec.scaleTargetRef`
    pub target_kind: String,
    pub target_name: String,
    /// `spec.minReplicas` (default 1) and `spec.maxReplicas`.
    pub min: i64,
    pub max: i64,
}

pub(crate) fn parse_hpa(root: &V, namespace: &str, name: &str) -> Result<Hpa> {
    let spec = root.req("spec")?;
    spec.check_fields(&["scaleTargetRef", "minReplicas", "maxReplicas", "metrics", "behavior", "targetCPUUtilizationPercentage"])?;
    let target = spec.req("scaleTargetRef")?;
    target.check_fields(&["apiVersion", "kind", "name"])?;
    // minReplicas 0 needs the HPAScaleToZero feature gate; accepted for clusters that enable it
    let min = spec.get("minReplicas")?.map(|n| n.i64_in(0, MAX)).transpose()?.unwrap_or(1);
    let max_node = spec.req("maxReplicas")?;
    let max = max_node.i64_in(1, MAX)?;
    if max < min {
        return Err(max_node.err(format!("maxReplicas {max} is below minReplicas {min}")));
    }
    Ok(Hpa {
        namespace: namespace.to_string(),
        name: name.to_string(),
        target_kind: target.req("kind")?.str()?.to_string(),
        target_name: target.req("name")?.str()?.to_string(),
        min,
        max,
    })
}

impl Hpa {
    /// The replicas the HPA keeps its target at, from `spec.replicas` as written (`None`: not set).
    /// Without a count the manifests cannot say what the metrics ask for: the HPA's minimum. A count
    /// outside the bounds is brought within them at the HPA's next sync; a target scaled to zero is
    /// left alone (the HPA controller disables scaling then).
    pub fn replicas(&self, written: Option<i64>) -> i64 {
        match written {
            None => self.min,
            Some(0) => 0,
            Some(r) => r.clamp(self.min, self.max),
        }
    }
}

/// The controllers whose pod count an HPA changes, with the new count; warns about what the
/// manifests cannot say. Controllers `represented` by their pods in the inputs keep them.
pub(crate) fn rescale(hpas: &[Hpa], controllers: &[&Controller], represented: &[bool], warnings: &mut Vec<String>) -> Vec<(usize, i64)> {
    let mut out = Vec::new();
    let mut scaled_by: Vec<Option<&Hpa>> = vec![None; controllers.len()];
    for h in hpas {
        let hpa = format!("HorizontalPodAutoscaler {}/{}", h.namespace, h.name);
        let target = controllers.iter().position(|c| {
            c.kind == h.target_kind
                && c.namespace == h.namespace
                && c.name == h.target_name
                && matches!(c.kind.as_str(), "Deployment" | "StatefulSet" | "ReplicaSet")
        });
        let Some(i) = target else {
            warnings.push(format!("{hpa} scales {} {}/{}, which is not in the inputs", h.target_kind, h.namespace, h.target_name));
            continue;
        };
        if represented[i] {
            continue; // the pods the HPA keeps are in the inputs
        }
        let c = controllers[i];
        let (kind, ns, name) = (&c.kind, &c.namespace, &c.name);
        if let Some(first) = scaled_by[i] {
            warnings.push(format!(
                "{hpa} and HorizontalPodAutoscaler {}/{} both scale {kind} {ns}/{name}; the first applies",
                first.namespace, first.name
            ));
            continue;
        }
        scaled_by[i] = Some(h);
        let n = h.replicas(c.replicas);
        match c.replicas {
            None => warnings.push(format!(
                "{kind} {ns}/{name} has no spec.replicas and {hpa} scales it: it runs minReplicas ({n}); its current replicas are not known from manifests"
            )),
            Some(r) if r != n => warnings.push(format!("{hpa} keeps {kind} {ns}/{name} within {}..{} replicas: {r} -> {n}", h.min, h.max)),
            Some(_) => {}
        }
        if n != c.count {
            out.push((i, n));
        }
    }
    out
}
