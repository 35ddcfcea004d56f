//! Storage objects: `PersistentVolumeClaim`, `PersistentVolume`, `StorageClass`, `CSINode`, and the
//! claims a pod spec names (`spec.volumes[].persistentVolumeClaim` and generic `ephemeral` volumes).
//! What they mean for a pod is worked out in [`super::volumes`] once every object is read.

use super::node_selector::parse_node_selector_term;
use super::value::{Node as V, parse_timestamp};
use crate::error::Result;
use crate::labels::Sym;
use crate::model::{CsiNode, NodeSelectorRequirement, NodeSelectorTerm, PersistentVolume, PersistentVolumeClaim, StorageClass};
use std::collections::BTreeMap;
use std::sync::Arc;

/// Every `PersistentVolumeClaimSpec` field of core/v1 (through 1.34).
const CLAIM_SPEC_FIELDS: &[&str] = &[
    "accessModes",
    "dataSource",
    "dataSourceRef",
    "resources",
    "selector",
    "storageClassName",
    "volumeAttributesClassName",
    "volumeMode",
    "volumeName",
];

/// The CSI driver of the in-tree AWS EBS plugin (`csi-translation-lib`), the only in-tree volume
/// source whose PersistentVolumes Karpenter counts against attach limits (`volumeusage.go: driverFromVolume`).
const AWS_EBS_CSI_DRIVER: &str = "ebs.csi.aws.com";

/// What a claim to be created says about scheduling: its class and any pre-bound volume.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ClaimSpec {
    pub storage_class: Option<String>,
    pub volume_name: Option<String>,
}

/// A pod volume backed by a PersistentVolumeClaim.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct VolumeRef {
    /// The volume's name in the pod spec.
    pub volume: String,
    /// The claim's name; `None` for a generic ephemeral volume, whose claim is `<pod>-<volume>`
    /// (`utils/volume: GetPersistentVolumeClaim`).
    pub claim: Option<String>,
    /// The claim its controller creates when none of that name exists yet: an ephemeral volume's
    /// `volumeClaimTemplate` or a StatefulSet's `volumeClaimTemplates` entry.
    pub template: Option<Arc<ClaimSpec>>,
}

impl VolumeRef {
    /// The claim's name for a pod called `pod`.
    pub fn claim_name(&self, pod: &str) -> String {
        match &self.claim {
            Some(c) => c.clone(),
            None => format!("{pod}-{}", self.volume),
        }
    }
}

pub(crate) fn parse_claim_spec(spec: &V) -> Result<ClaimSpec> {
    spec.check_fields(CLAIM_SPEC_FIELDS)?;
    Ok(ClaimSpec {
        storage_class: spec.opt_str("storageClassName")?.map(str::to_string),
        volume_name: spec.opt_str("volumeName")?.filter(|s| !s.is_empty()).map(str::to_string),
    })
}

/// The claims among a pod spec's `volumes` (other volume sources do not involve scheduling).
pub(crate) fn parse_pod_volumes(spec: &V) -> Result<Vec<VolumeRef>> {
    let mut out = Vec::new();
    for v in spec.opt_arr("volumes")? {
        let name = v.req("name")?.str()?;
        if let Some(pvc) = v.get("persistentVolumeClaim")? {
            pvc.check_fields(&["claimName", "readOnly"])?;
            let claim = pvc.req("claimName")?;
            if claim.str()?.is_empty() {
                return Err(claim.err("claimName must not be empty"));
            }
            out.push(VolumeRef { volume: name.to_string(), claim: Some(claim.str()?.to_string()), template: None });
        } else if let Some(e) = v.get("ephemeral")? {
            e.check_fields(&["volumeClaimTemplate"])?;
            let t = e.req("volumeClaimTemplate")?;
            t.check_fields(&["metadata", "spec"])?;
            let template = Arc::new(parse_claim_spec(&t.req("spec")?)?);
            out.push(VolumeRef { volume: name.to_string(), claim: None, template: Some(template) });
        }
    }
    Ok(out)
}

/// A StatefulSet's `volumeClaimTemplates`: `(template name, spec)`.
pub(crate) fn parse_claim_templates(spec: &V) -> Result<Vec<(String, Arc<ClaimSpec>)>> {
    let mut out = Vec::new();
    for t in spec.opt_arr("volumeClaimTemplates")? {
        let name = t.req("metadata")?.req("name")?.str()?;
        out.push((name.to_string(), Arc::new(parse_claim_spec(&t.req("spec")?)?)));
    }
    Ok(out)
}

pub(crate) fn parse_claim(root: &V, namespace: &str, name: &str) -> Result<PersistentVolumeClaim> {
    let meta = root.req("metadata")?;
    let spec = parse_claim_spec(&root.req("spec")?)?;
    let annotations = meta.opt_string_map("annotations")?;
    let status = root.get("status")?;
    let mut phase = None;
    if let Some(p) = status.as_ref().map(|s| s.get("phase")).transpose()?.flatten() {
        let v = p.str()?;
        if !matches!(v, "Pending" | "Bound" | "Lost") {
            return Err(p.err(format!("unknown phase {v:?} (Pending, Bound or Lost)")));
        }
        phase = Some(v);
    }
    Ok(PersistentVolumeClaim {
        namespace: Sym::new(namespace),
        name: Sym::new(name),
        storage_class: spec.storage_class,
        volume_name: spec.volume_name.as_deref().map(Sym::new),
        // kube-scheduler takes a claim with a volumeName as bound only once the PV controller has
        // annotated it (volumetopology.go, AnnBindCompleted); a manifest has no status yet, and the
        // controller completes the binding once it is applied.
        bind_completed: annotations.contains_key("pv.kubernetes.io/bind-completed") || status.is_none(),
        lost: phase == Some("Lost"),
        deleting: meta.get("deletionTimestamp")?.is_some(),
    })
}

pub(crate) fn parse_volume(root: &V, name: &str) -> Result<PersistentVolume> {
    let spec = root.req("spec")?;
    let mut node_affinity = Vec::new();
    if let Some(na) = spec.get("nodeAffinity")? {
        na.check_fields(&["required"])?;
        // core/v1 validation (validateVolumeNodeAffinity): `required` with at least one term
        let required = na.req("required")?;
        required.check_fields(&["nodeSelectorTerms"])?;
        let terms = required.opt_arr("nodeSelectorTerms")?;
        if terms.is_empty() {
            return Err(required.err("nodeSelectorTerms must have at least one term"));
        }
        node_affinity = terms.iter().map(parse_node_selector_term).collect::<Result<_>>()?;
    }
    let driver = match (spec.get("csi")?, spec.get("awsElasticBlockStore")?) {
        (Some(csi), _) => {
            let d = csi.req("driver")?;
            if d.str()?.is_empty() {
                return Err(d.err("driver must not be empty"));
            }
            Some(Sym::new(d.str()?))
        }
        (None, Some(_)) => Some(Sym::new(AWS_EBS_CSI_DRIVER)),
        (None, None) => None,
    };
    Ok(PersistentVolume {
        name: Sym::new(name),
        node_affinity,
        driver,
        local: spec.get("local")?.is_some() || spec.get("hostPath")?.is_some(),
        deleting: root.req("metadata")?.get("deletionTimestamp")?.is_some(),
    })
}

pub(crate) fn parse_storage_class(root: &V, name: &str) -> Result<StorageClass> {
    let meta = root.req("metadata")?;
    let provisioner = root.req("provisioner")?;
    if provisioner.str()?.is_empty() {
        return Err(provisioner.err("provisioner must not be empty"));
    }
    let wait_for_first_consumer = match root.get("volumeBindingMode")? {
        None => false, // the API's default is Immediate
        Some(m) => match m.str()? {
            "Immediate" => false,
            "WaitForFirstConsumer" => true,
            other => return Err(m.err(format!("unknown volumeBindingMode {other:?} (Immediate or WaitForFirstConsumer)"))),
        },
    };
    let mut allowed_topologies = Vec::new();
    for term in root.opt_arr("allowedTopologies")? {
        term.check_fields(&["matchLabelExpressions"])?;
        let exprs = term.opt_arr("matchLabelExpressions")?;
        if exprs.is_empty() {
            return Err(term.err("a topology term needs at least one matchLabelExpressions entry"));
        }
        let mut match_expressions = Vec::new();
        for e in exprs {
            e.check_fields(&["key", "values"])?;
            let values = e.opt_strs("values")?;
            if values.is_empty() {
                return Err(e.err("values must have at least one value"));
            }
            // each expression is an In requirement (volumetopology.go: getStorageClassRequirements)
            match_expressions.push(NodeSelectorRequirement {
                key: Sym::new(crate::labels::normalize_key(e.req("key")?.str()?)),
                operator: "In".to_string(),
                values,
                min_values: None,
            });
        }
        allowed_topologies.push(NodeSelectorTerm { match_expressions, match_fields: false });
    }
    let annotations = meta.opt_string_map("annotations")?;
    let default = ["storageclass.kubernetes.io/is-default-class", "storageclass.beta.kubernetes.io/is-default-class"]
        .iter()
        .any(|k| annotations.get(*k).is_some_and(|v| v == "true"));
    Ok(StorageClass {
        name: Sym::new(name),
        provisioner: Sym::new(provisioner.str()?),
        wait_for_first_consumer,
        allowed_topologies,
        default,
        creation_timestamp: meta.get("creationTimestamp")?.map(|n| parse_timestamp(&n)).transpose()?.unwrap_or(0),
    })
}

pub(crate) fn parse_csi_node(root: &V, name: &str) -> Result<CsiNode> {
    let mut limits = BTreeMap::new();
    if let Some(spec) = root.get("spec")? {
        for d in spec.opt_arr("drivers")? {
            d.check_fields(&["name", "nodeID", "topologyKeys", "allocatable"])?;
            let driver = d.req("name")?.str()?;
            // a driver without allocatable has no limit; one with allocatable but no count gets a
            // limit of 0, as Karpenter reads it (cluster.go: populateVolumeLimits, lo.FromPtr)
            if let Some(a) = d.get("allocatable")? {
                a.check_fields(&["count"])?;
                let count = a.get("count")?.map(|c| c.i64_in(0, i64::from(i32::MAX))).transpose()?.unwrap_or(0);
                limits.insert(Sym::new(driver), count as u32);
            }
        }
    }
    Ok(CsiNode { name: Sym::new(name), limits })
}
