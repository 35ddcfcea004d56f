//! What each pod's PersistentVolumeClaims mean for scheduling, worked out once every object is read:
//! the zones (or other topology) its volumes allow (`volumetopology.go: GetRequirements`), the CSI
//! drivers that attach them (`volumeusage.go: GetVolumes`), and whether Karpenter would provision the
//! pod at all (`volumetopology.go: ValidatePersistentVolumeClaims`).

use super::pod::PodRefs;
use super::storage::{ClaimSpec, VolumeRef};
use crate::labels::{self, Sym};
use crate::model::{NodeSelectorTerm, PersistentVolume, PersistentVolumeClaim, Pod, PodVolumes, StorageClass};
use crate::requirements::Requirements;
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

/// The CSI drivers that replace in-tree volume plugins (`csi-translation-lib`), so that a StorageClass
/// naming an in-tree provisioner counts against the CSI driver's attach limit (`volumeusage.go: driverFromSC`).
fn csi_driver_of(provisioner: &str) -> &str {
    match provisioner {
        "kubernetes.io/aws-ebs" => "ebs.csi.aws.com",
        "kubernetes.io/gce-pd" => "pd.csi.storage.gke.io",
        "kubernetes.io/azure-disk" => "disk.csi.azure.com",
        "kubernetes.io/azure-file" => "file.csi.azure.com",
        "kubernetes.io/cinder" => "cinder.csi.openstack.org",
        "kubernetes.io/vsphere-volume" => "csi.vsphere.vmware.com",
        "kubernetes.io/portworx-volume" => "pxd.portworx.com",
        other => other,
    }
}

/// CSI drivers of zonal block storage: an unbound claim of a `WaitForFirstConsumer` class gets its
/// volume in the zone of the pod's first node. (File and local drivers make regional or node-local
/// volumes, which Karpenter's volume topology does not pin to a zone.)
const ZONAL_DRIVERS: &[&str] = &["ebs.csi.aws.com", "pd.csi.storage.gke.io", "disk.csi.azure.com", "cinder.csi.openstack.org"];

/// The storage objects of the inputs, indexed.
pub(crate) struct Storage<'a> {
    claims: HashMap<(Sym, Sym), &'a PersistentVolumeClaim>,
    volumes: HashMap<Sym, &'a PersistentVolume>,
    classes: HashMap<Sym, &'a StorageClass>,
    /// The default StorageClass: the newest of those annotated default, ties by name
    /// (`GetDefaultClass` in Kubernetes' storage helpers).
    default_class: Option<Sym>,
}

/// What resolving every pod's claims noticed, for the warnings.
#[derive(Default)]
struct Notes {
    /// Pods whose claims could not be looked up because the inputs hold no object of that kind.
    unmodelled: BTreeMap<&'static str, usize>,
    /// Objects named by claims but missing while others of the kind are given: `(kind, name)` → pods.
    missing: BTreeMap<(&'static str, String), usize>,
    /// Pods left out of provisioning because of their claims.
    unprovisionable: usize,
}

impl<'a> Storage<'a> {
    pub fn new(
        claims: &'a [PersistentVolumeClaim],
        volumes: &'a [PersistentVolume],
        classes: &'a [StorageClass],
        warnings: &mut Vec<String>,
    ) -> Storage<'a> {
        let defaults: Vec<&StorageClass> = classes.iter().filter(|c| c.default).collect();
        let default_class =
            defaults.iter().max_by(|a, b| a.creation_timestamp.cmp(&b.creation_timestamp).then(b.name.cmp(&a.name))).map(|c| c.name);
        if defaults.len() > 1
            && let Some(d) = default_class
        {
            let names: Vec<&str> = defaults.iter().map(|c| c.name.as_str()).collect();
            warnings.push(format!(
                "{} StorageClasses are marked default ({}); claims without a class get the newest, {d}",
                defaults.len(),
                names.join(", ")
            ));
        }
        Storage {
            claims: claims.iter().map(|c| ((c.namespace, c.name), c)).collect(),
            volumes: volumes.iter().map(|v| (v.name, v)).collect(),
            classes: classes.iter().map(|c| (c.name, c)).collect(),
            default_class,
        }
    }

    /// The claim's class after the DefaultStorageClass admission controller: an unset class becomes
    /// the default one, if any.
    fn class_of(&self, storage_class: &Option<String>) -> Option<String> {
        match storage_class {
            Some(c) => Some(c.clone()),
            None => self.default_class.map(|d| d.to_string()),
        }
    }
}

/// Resolve the claims of every pod that has some (`refs` parallel to `pods`), and push the warnings
/// (those about storage objects the inputs lack only when `report_unmodelled`).
pub(crate) fn resolve_pods(pods: &mut [Pod], refs: &[PodRefs], storage: &Storage, report_unmodelled: bool, warnings: &mut Vec<String>) {
    let mut notes = Notes::default();
    for (p, r) in pods.iter_mut().zip(refs) {
        if r.volumes.is_empty() {
            continue;
        }
        let v = resolve(p, &r.volumes, storage, &mut notes);
        if v.unprovisionable.is_some() && p.node_name.is_none() && p.is_active() {
            notes.unprovisionable += 1;
        }
        p.volumes = Some(Arc::new(v));
    }
    for (kind, n) in notes.unmodelled.iter().filter(|_| report_unmodelled) {
        warnings.push(format!(
            "{n} pod(s) use PersistentVolumeClaims whose {kind} the inputs do not hold (they hold no {kind} at all): the zones and attach limits of those volumes are not modelled (add `kubectl get pvc,pv,storageclass,csinodes -A -o json` to the inputs)"
        ));
    }
    for ((kind, name), n) in &notes.missing {
        warnings.push(format!("{kind} {name}, used by {n} pod(s), is not in the inputs"));
    }
    if notes.unprovisionable > 0 {
        warnings.push(format!(
            "{} pending pod(s) are not provisioned because of their PersistentVolumeClaims, as Karpenter would not (each one's reason says why)",
            notes.unprovisionable
        ));
    }
}

/// One claim's topology alternatives and attaching driver, or why it cannot be used.
struct Claim {
    alternatives: Vec<NodeSelectorTerm>,
    driver: Option<Sym>,
    invalid: Option<String>,
    /// Unbound, waiting for its first consumer, of a zonal driver.
    binds_in_zone: bool,
}

fn resolve(pod: &Pod, refs: &[VolumeRef], storage: &Storage, notes: &mut Notes) -> PodVolumes {
    let mut out = PodVolumes { claims: refs.len() as u32, ..Default::default() };
    // one empty alternative to start with (`GetRequirements`); `None` until a volume adds one
    let mut alternatives: Option<Vec<NodeSelectorTerm>> = None;
    for v in refs {
        let name = Sym::new(&v.claim_name(pod.name.as_str()));
        let key = Sym::new(&format!("{}/{name}", pod.namespace));
        let found = storage.claims.get(&(pod.namespace, name)).copied();
        let synthesized;
        let claim = match (found, &v.template) {
            (Some(c), _) => c,
            // the claim its controller (ephemeral volumes, StatefulSet) creates with the pod
            (None, Some(t)) => {
                synthesized = from_template(pod.namespace, name, t);
                &synthesized
            }
            (None, None) if storage.claims.is_empty() => {
                *notes.unmodelled.entry("PersistentVolumeClaim").or_default() += 1;
                continue;
            }
            (None, None) => {
                *notes.missing.entry(("PersistentVolumeClaim", key.to_string())).or_default() += 1;
                out.unprovisionable.get_or_insert_with(|| {
                    format!("PersistentVolumeClaim {key} is not in the inputs; Karpenter ignores pods whose claims it cannot find")
                });
                continue;
            }
        };
        let c = claim_requirements(claim, key, storage, notes);
        if let Some(why) = c.invalid {
            out.unprovisionable.get_or_insert(why);
        }
        if let Some(d) = c.driver {
            out.attachments.push((d, key));
        }
        // an ephemeral volume's claim goes with its pod: a pod created again gets a new one
        out.binds_in_zone |= c.binds_in_zone && v.claim.is_some();
        if !c.alternatives.is_empty() {
            alternatives = Some(match alternatives {
                None => c.alternatives,
                Some(a) => merge(&a, &c.alternatives),
            });
        }
    }
    out.topology = alternatives.unwrap_or_default();
    out
}

fn from_template(namespace: Sym, name: Sym, t: &ClaimSpec) -> PersistentVolumeClaim {
    PersistentVolumeClaim {
        namespace,
        name,
        storage_class: t.storage_class.clone(),
        volume_name: t.volume_name.as_deref().map(Sym::new),
        bind_completed: true,
        lost: false,
        deleting: false,
    }
}

/// One claim (`getRequirements`, `ResolveDriver` and the checks of `ValidatePersistentVolumeClaims`).
fn claim_requirements(c: &PersistentVolumeClaim, key: Sym, storage: &Storage, notes: &mut Notes) -> Claim {
    let mut out = Claim { alternatives: Vec::new(), driver: None, invalid: None, binds_in_zone: false };
    // cases kube-scheduler rejects too (volumetopology.go: ValidatePersistentVolumeClaims)
    if c.deleting {
        out.invalid = Some(format!("PersistentVolumeClaim {key} is being deleted"));
    } else if c.lost {
        out.invalid = Some(format!("PersistentVolumeClaim {key} is Lost (bound to a PersistentVolume that no longer exists)"));
    }
    let class = storage.class_of(&c.storage_class);
    if let Some(volume) = c.volume_name {
        // a bound claim: the volume's own node affinity, whatever its class (getPersistentVolumeRequirements)
        let Some(pv) = storage.volumes.get(&volume) else {
            if storage.volumes.is_empty() {
                *notes.unmodelled.entry("PersistentVolume").or_default() += 1;
            } else {
                *notes.missing.entry(("PersistentVolume", volume.to_string())).or_default() += 1;
                out.invalid.get_or_insert_with(|| format!("PersistentVolume {volume} of claim {key} is not in the inputs"));
            }
            return out;
        };
        if pv.deleting {
            out.invalid.get_or_insert_with(|| format!("PersistentVolume {volume} of claim {key} is being deleted"));
        }
        if !c.bind_completed {
            // kube-scheduler takes a claim as bound only once the PV controller has completed it
            out.invalid.get_or_insert_with(|| {
                format!("PersistentVolumeClaim {key} is not bound yet (no pv.kubernetes.io/bind-completed annotation)")
            });
        }
        out.alternatives = pv_alternatives(pv);
        out.driver = pv.driver;
        return out;
    }
    // an unbound claim: its StorageClass's allowed topologies (getStorageClassRequirements)
    let class = match class.filter(|c| !c.is_empty()) {
        Some(c) => Sym::new(&c),
        None if c.storage_class.is_none() && storage.classes.is_empty() => {
            // no class set and no StorageClass given: the cluster's default is not known
            *notes.unmodelled.entry("StorageClass").or_default() += 1;
            return out;
        }
        None => {
            out.invalid.get_or_insert_with(|| {
                format!("PersistentVolumeClaim {key} is unbound and names no StorageClass (and none is the default)")
            });
            return out;
        }
    };
    let Some(sc) = storage.classes.get(&class) else {
        if storage.classes.is_empty() {
            *notes.unmodelled.entry("StorageClass").or_default() += 1;
        } else {
            *notes.missing.entry(("StorageClass", class.to_string())).or_default() += 1;
            out.invalid.get_or_insert_with(|| format!("StorageClass {class} of unbound claim {key} is not in the inputs"));
        }
        return out;
    };
    if !sc.wait_for_first_consumer {
        out.invalid.get_or_insert_with(|| {
            format!("PersistentVolumeClaim {key} is unbound and StorageClass {class} binds Immediately: Karpenter waits until the volume exists (its zone then decides the pod's)")
        });
    }
    out.alternatives = sc.allowed_topologies.clone();
    let driver = csi_driver_of(sc.provisioner.as_str());
    out.binds_in_zone = sc.wait_for_first_consumer && ZONAL_DRIVERS.contains(&driver);
    out.driver = Some(Sym::new(driver));
    out
}

/// A bound volume's alternatives: one per node-selector term with expressions. Local and hostPath
/// volumes drop their hostname expressions (a pod moving to a new node cannot keep its old
/// hostname); a term left with none becomes an unconstrained alternative.
fn pv_alternatives(pv: &PersistentVolume) -> Vec<NodeSelectorTerm> {
    let mut out = Vec::new();
    for term in &pv.node_affinity {
        let mut exprs = term.match_expressions.clone();
        if pv.local {
            exprs.retain(|e| e.key != *labels::HOSTNAME);
            if !term.match_expressions.is_empty() && exprs.is_empty() {
                out.push(NodeSelectorTerm::default());
                continue;
            }
        }
        if !exprs.is_empty() {
            out.push(NodeSelectorTerm { match_expressions: exprs, match_fields: false });
        }
    }
    out
}

/// The cross product of two volumes' alternatives, keeping the combinations whose requirements
/// intersect; when none does, every combination (`mergeVolumeRequirementAlternatives`).
fn merge(existing: &[NodeSelectorTerm], incoming: &[NodeSelectorTerm]) -> Vec<NodeSelectorTerm> {
    let reqs = |t: &NodeSelectorTerm| Requirements::from_node_selector(&t.match_expressions).unwrap_or_default();
    let incoming_reqs: Vec<Requirements> = incoming.iter().map(reqs).collect();
    let combine = |a: &NodeSelectorTerm, b: &NodeSelectorTerm| NodeSelectorTerm {
        match_expressions: a.match_expressions.iter().chain(&b.match_expressions).cloned().collect(),
        match_fields: false,
    };
    let mut out = Vec::new();
    for a in existing {
        let ra = reqs(a);
        for (b, rb) in incoming.iter().zip(&incoming_reqs) {
            if ra.intersects(rb).is_ok() {
                out.push(combine(a, b));
            }
        }
    }
    if out.is_empty() {
        for a in existing {
            for b in incoming {
                out.push(combine(a, b));
            }
        }
    }
    out
}
