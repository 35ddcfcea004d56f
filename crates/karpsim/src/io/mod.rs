//! Reading the Kubernetes YAML/JSON users already have into karpsim's model.
//!
//! Each document is parsed into a `serde_json::Value`, then converted by hand with a field path so
//! that every error names the file, the document (1-based, counting non-empty documents), the object's
//! kind and `namespace/name`, and the field (`spec.template.spec.containers[1].resources.requests.cpu`).
//!
//! Controllers are expanded into the pods they would create (`<owner>-<index>`); a DaemonSet becomes
//! one representative pod in [`Inputs::daemonsets`]. Kinds the simulator does not model (Service,
//! ConfigMap, ...) are counted in one warning.
//!
//! ```
//! use karpsim::io::Inputs;
//! let mut inputs = Inputs::new();
//! inputs.load_str(r#"
//! apiVersion: apps/v1
//! kind: Deployment
//! metadata: {name: web}
//! spec:
//!   replicas: 2
//!   template:
//!     metadata: {labels: {app: web}}
//!     spec:
//!       containers:
//!       - name: app
//!         resources: {requests: {cpu: 250m, memory: 128Mi}}
//! ---
//! apiVersion: v1
//! kind: Service
//! metadata: {name: web}
//! "#, "web.yaml").unwrap();
//! let inputs = inputs.finish().unwrap();
//! assert_eq!(inputs.pods.len(), 2);
//! assert_eq!(inputs.pods[1].name.as_str(), "web-1");
//! assert_eq!(inputs.pods[0].requests.cpu, 250);
//! assert!(inputs.warnings[0].contains("Service (1)"));
//! ```

// `Error` is shared by the crate and owned by `error.rs`; boxing it is that module's decision, and
// input parsing is not a hot path.

mod controllers;
mod node;
mod nodeclass;
mod nodepool;
mod overlay;
mod pod;
mod reservations;
mod value;
mod yaml;

pub use reservations::{ReservationSpec, parse_reservation_option, parse_reservation_values, parse_reservations_file};
pub(crate) use reservations::parse_entries as parse_reservation_entries;

pub use value::{format_rfc3339, parse_duration, parse_rfc3339};
pub(crate) use value::civil_from_days;
pub(crate) use yaml::parse_documents;

use crate::error::{Error, Location, Result};
use crate::model::{CapacityReservation, Node, NodeClass, NodeOverlay, NodePool, Pod, PodDisruptionBudget};
use crate::resources::Resources;
use pod::{PodMeta, PodRefs, build_pod, owner_from_refs};
use serde_json::Value;
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use value::{Node as V, parse_timestamp};

/// Everything read from the user's inputs. Fill it with the `load_*` methods, then call
/// [`Inputs::finish`] to resolve references between objects.
#[derive(Debug, Default)]
pub struct Inputs {
    pub nodepools: Vec<NodePool>,
    pub nodeclasses: Vec<NodeClass>,
    /// Every pod: bare Pods, controller-expanded replicas, snapshot pods (bound ones have `node_name`).
    pub pods: Vec<Pod>,
    /// One representative pod per DaemonSet, built from its template (owner kind DaemonSet).
    pub daemonsets: Vec<Pod>,
    pub nodes: Vec<Node>,
    pub pdbs: Vec<PodDisruptionBudget>,
    /// `NodeOverlay` objects (karpenter.sh/v1alpha1).
    pub overlays: Vec<NodeOverlay>,
    /// The user's capacity reservations for karpsim's default NodeClass, when the inputs hold no
    /// EC2NodeClass (set by `finish`; otherwise they go to the EC2NodeClasses).
    pub default_reservations: Vec<CapacityReservation>,
    pub warnings: Vec<String>,
    // Resolved by `finish`.
    reservation_specs: Vec<ReservationSpec>,
    pod_refs: Vec<PodRefs>,
    ds_refs: Vec<PodRefs>,
    origins: Origins,
    priority_classes: BTreeMap<String, (i32, bool)>,
    runtime_classes: BTreeMap<String, Resources>,
    skipped: BTreeMap<String, usize>,
}

/// Where each object came from, parallel to the output vectors, to name duplicates in errors.
#[derive(Debug, Default)]
struct Origins {
    pods: Vec<Location>,
    daemonsets: Vec<Location>,
    nodepools: Vec<Location>,
    nodeclasses: Vec<Location>,
    nodes: Vec<Location>,
    pdbs: Vec<Location>,
    overlays: Vec<Location>,
}

/// Kinds whose objects live in a namespace (the object is named `namespace/name`).
fn namespaced(kind: &str) -> bool {
    matches!(
        kind,
        "Pod" | "Deployment" | "ReplicaSet" | "StatefulSet" | "Job" | "CronJob" | "DaemonSet" | "PodDisruptionBudget"
    )
}

impl Inputs {
    pub fn new() -> Self {
        Self::default()
    }

    /// Load YAML (one or more documents) or JSON text. `source_name` names it in errors.
    pub fn load_str(&mut self, text: &str, source_name: &str) -> Result<()> {
        for (i, doc) in yaml::parse_documents(text, source_name)?.iter().enumerate() {
            self.load_document(doc, source_name, i + 1, None, None)?;
        }
        Ok(())
    }

    /// Load a file, or every `*.yaml`/`*.yml`/`*.json` under a directory (recursively, in path order so
    /// that results do not depend on the file system).
    pub fn load_path(&mut self, path: &Path) -> Result<()> {
        let io_err = |p: &Path, e: std::io::Error| Error::Io { path: p.display().to_string(), message: e.to_string() };
        let meta = std::fs::metadata(path).map_err(|e| io_err(path, e))?;
        let mut files = Vec::new();
        if meta.is_dir() {
            collect_files(path, &mut files).map_err(|(p, e)| io_err(&p, e))?;
            files.sort();
            if files.is_empty() {
                self.warnings.push(format!("{}: no *.yaml, *.yml or *.json file in this directory", path.display()));
            }
        } else {
            files.push(path.to_path_buf());
        }
        for f in files {
            let text = std::fs::read_to_string(&f).map_err(|e| io_err(&f, e))?;
            self.load_str(&text, &f.display().to_string())?;
        }
        Ok(())
    }

    /// Load one already-parsed document (a Kubernetes object or a `List`), e.g. a Python dict.
    pub fn load_value(&mut self, value: Value, source_name: &str) -> Result<()> {
        self.load_document(&value, source_name, 1, None, None)
    }

    /// One document or `List` item. `field` is the item path (`items[3]`) inside a list, and
    /// `implied_kind` the item kind of a typed list (`PodList` items may omit `kind`).
    fn load_document(&mut self, doc: &Value, file: &str, document: usize, field: Option<String>, implied_kind: Option<&str>) -> Result<()> {
        let mut at = Location { file: Some(file.to_string()), document: Some(document), field, ..Default::default() };
        let Some(obj) = doc.as_object() else {
            return Err(Error::input(at, format!("expected a Kubernetes object (a mapping), got {}", value::describe(doc))));
        };
        let kind = match (obj.get("kind"), implied_kind) {
            (Some(Value::String(k)), _) => k.clone(),
            (None, Some(k)) => k.to_string(),
            (Some(other), _) => return Err(Error::input(at, format!("kind must be a string, got {}", value::describe(other)))),
            (None, None) => return Err(Error::input(at, "not a Kubernetes object: no `kind`")),
        };
        at.kind = Some(kind.clone());
        if implied_kind.is_none() && !matches!(obj.get("apiVersion"), Some(Value::String(_))) {
            return Err(Error::input(at, "not a Kubernetes object: no `apiVersion`"));
        }
        let root = V::root(doc);
        if kind == "List" || (kind.ends_with("List") && kind.len() > 4) {
            let item_kind = kind.strip_suffix("List").filter(|k| !k.is_empty());
            let items = root.opt_arr("items").map_err(|e| e.at(at.clone()))?;
            for (i, _) in items.iter().enumerate() {
                let path = match &at.field {
                    Some(f) => format!("{f}.items[{i}]"),
                    None => format!("items[{i}]"),
                };
                self.load_document(&obj["items"][i], file, document, Some(path), item_kind)?;
            }
            return Ok(());
        }
        if !MODELLED.contains(&kind.as_str()) {
            *self.skipped.entry(kind).or_default() += 1;
            return Ok(());
        }
        // Errors found below carry the field; add where the object is.
        let ns_name = (|| -> Result<(String, String, V)> {
            let meta = root.req("metadata")?;
            let name = meta.req("name")?;
            let n = name.str()?;
            if n.is_empty() {
                return Err(name.err("name must not be empty"));
            }
            let ns = meta.opt_str("namespace")?.filter(|s| !s.is_empty()).unwrap_or("default");
            Ok((ns.to_string(), n.to_string(), meta))
        })();
        let (namespace, name, meta) = ns_name.map_err(|e| e.at(at.clone()))?;
        at.object = Some(if namespaced(&kind) { format!("{namespace}/{name}") } else { name.clone() });
        self.load_object(&kind, &root, &meta, &namespace, &name, &at).map_err(|e| e.at(at))
    }

    fn load_object(&mut self, kind: &str, root: &V, meta: &V, namespace: &str, name: &str, at: &Location) -> Result<()> {
        let created = meta.get("creationTimestamp")?.map(|n| parse_timestamp(&n)).transpose()?.unwrap_or(0);
        match kind {
            "Pod" => {
                let id = PodMeta {
                    namespace: namespace.to_string(),
                    name: name.to_string(),
                    owner: owner_from_refs(meta)?,
                    creation_timestamp: created,
                };
                let (p, r) = build_pod(Some(meta), &root.req("spec")?, root.get("status")?.as_ref(), id)?;
                self.push_pod(p, r, at);
            }
            "Deployment" | "ReplicaSet" | "StatefulSet" | "Job" => {
                for (p, r) in controllers::expand(kind, root, namespace, name, created)? {
                    self.push_pod(p, r, at);
                }
            }
            "DaemonSet" => {
                for (p, r) in controllers::expand(kind, root, namespace, name, created)? {
                    self.daemonsets.push(p);
                    self.ds_refs.push(r);
                    self.origins.daemonsets.push(at.clone());
                }
            }
            "NodePool" => {
                self.nodepools.push(nodepool::parse_nodepool(root, name)?);
                self.origins.nodepools.push(at.clone());
            }
            "EC2NodeClass" => {
                let (nc, warning) = nodeclass::parse_nodeclass(root, name)?;
                self.nodeclasses.push(nc);
                self.warnings.extend(warning);
                self.origins.nodeclasses.push(at.clone());
            }
            "Node" => {
                self.nodes.push(node::parse_node(root, name)?);
                self.origins.nodes.push(at.clone());
            }
            "PodDisruptionBudget" => {
                self.pdbs.push(node::parse_pdb(root, namespace, name)?);
                self.origins.pdbs.push(at.clone());
            }
            "NodeOverlay" => {
                self.overlays.push(overlay::parse_overlay(root, name, at)?);
                self.origins.overlays.push(at.clone());
            }
            "PriorityClass" => {
                self.priority_classes.insert(name.to_string(), node::parse_priority_class(root)?);
            }
            "RuntimeClass" => {
                self.runtime_classes.insert(name.to_string(), node::parse_runtime_class(root)?);
            }
            _ => unreachable!("kind filtered by MODELLED"),
        }
        Ok(())
    }

    /// Capacity reservations the user gives (`--reservation`, a reservations file): counts for the
    /// reservations of EC2NodeClass statuses, or whole reservations. Resolved by [`Inputs::finish`].
    pub fn add_reservations(&mut self, specs: impl IntoIterator<Item = ReservationSpec>) -> Result<()> {
        for s in specs {
            if let Some(prev) = self.reservation_specs.iter().find(|p| p.id == s.id) {
                return Err(Error::Option { option: "--reservation".into(), message: format!("reservation {} given twice ({} and {})", s.id, prev.source, s.source) });
            }
            self.reservation_specs.push(s);
        }
        Ok(())
    }

    fn push_pod(&mut self, p: Pod, r: PodRefs, at: &Location) {
        self.pods.push(p);
        self.pod_refs.push(r);
        self.origins.pods.push(at.clone());
    }

    /// Keep only the pods read from `Pod` objects, dropping the replicas expanded from controllers
    /// (Deployment, ReplicaSet, StatefulSet, Job); returns how many were dropped. For recorded dumps,
    /// where a controller's made-up replicas are not pods that ran. Call before [`Inputs::finish`].
    pub fn retain_pod_objects(&mut self) -> usize {
        let keep: Vec<bool> = self.origins.pods.iter().map(|o| o.kind.as_deref() == Some("Pod")).collect();
        let mut it = keep.iter();
        self.pods.retain(|_| *it.next().unwrap_or(&true));
        let mut it = keep.iter();
        self.pod_refs.retain(|_| *it.next().unwrap_or(&true));
        self.origins.pods.retain(|o| o.kind.as_deref() == Some("Pod"));
        keep.iter().filter(|k| !**k).count()
    }

    /// Resolve references between objects and validate the whole:
    /// * priority: `spec.priority` if given, else the `priorityClassName`'s value (a missing class is a
    ///   warning and priority 0), else the `globalDefault` PriorityClass (Kubernetes `Priority` admission);
    /// * RuntimeClass `overhead.podFixed` is added to the requests of pods naming it (unless the pod
    ///   already carries `spec.overhead`), as the RuntimeClass admission controller does;
    /// * objects repeated identically are kept once (with a warning); two different objects with the same
    ///   name are an error.
    pub fn finish(mut self) -> Result<Inputs> {
        let default_priority = self
            .priority_classes
            .iter()
            .filter(|(_, (_, global))| *global)
            .map(|(_, (v, _))| *v)
            .max();
        let mut warnings = std::mem::take(&mut self.warnings);
        for (pods, refs) in [(&mut self.pods, &self.pod_refs), (&mut self.daemonsets, &self.ds_refs)] {
            let mut missing_pc: BTreeMap<&str, usize> = BTreeMap::new();
            let mut missing_rc: BTreeMap<&str, usize> = BTreeMap::new();
            for (p, r) in pods.iter_mut().zip(refs) {
                if !r.explicit_priority {
                    p.priority = match &r.priority_class {
                        Some(c) => match self.priority_classes.get(c) {
                            Some((v, _)) => *v,
                            None => {
                                *missing_pc.entry(c).or_default() += 1;
                                0
                            }
                        },
                        None => default_priority.unwrap_or(0),
                    };
                }
                if let (false, Some(rc)) = (r.overhead_given, &r.runtime_class) {
                    match self.runtime_classes.get(rc) {
                        Some(o) => p.requests.add_assign(o),
                        None => *missing_rc.entry(rc).or_default() += 1,
                    }
                }
            }
            for (c, n) in missing_pc {
                warnings.push(format!("PriorityClass {c:?} is not in the inputs; its {n} pod(s) get priority 0"));
            }
            for (c, n) in missing_rc {
                warnings.push(format!("RuntimeClass {c:?} is not in the inputs; its {n} pod(s) get no overhead"));
            }
        }
        dedupe(&mut self.pods, &mut self.origins.pods, |p| p.key(), &mut warnings)?;
        dedupe(&mut self.daemonsets, &mut self.origins.daemonsets, |p| p.key(), &mut warnings)?;
        dedupe(&mut self.nodepools, &mut self.origins.nodepools, |n| n.name.to_string(), &mut warnings)?;
        dedupe(&mut self.nodeclasses, &mut self.origins.nodeclasses, |n| n.name.to_string(), &mut warnings)?;
        dedupe(&mut self.nodes, &mut self.origins.nodes, |n| n.name.to_string(), &mut warnings)?;
        dedupe(&mut self.pdbs, &mut self.origins.pdbs, |p| format!("{}/{}", p.namespace, p.name), &mut warnings)?;
        dedupe(&mut self.overlays, &mut self.origins.overlays, |o| o.name.to_string(), &mut warnings)?;
        let default_reservations = reservations::resolve(&mut self.nodeclasses, &self.reservation_specs, &mut warnings)?;

        if !self.nodeclasses.is_empty() {
            for np in &self.nodepools {
                if let Some(nc) = np.node_class.filter(|nc| !self.nodeclasses.iter().any(|c| c.name == *nc)) {
                    warnings.push(format!("NodePool {} refers to EC2NodeClass {nc}, which is not in the inputs", np.name));
                }
            }
        }
        if !self.skipped.is_empty() {
            let total: usize = self.skipped.values().sum();
            let kinds: Vec<String> = self.skipped.iter().map(|(k, n)| format!("{k} ({n})")).collect();
            warnings.push(format!("skipped {total} objects of kinds the simulator does not model: {}", kinds.join(", ")));
        }
        Ok(Inputs {
            nodepools: self.nodepools,
            nodeclasses: self.nodeclasses,
            pods: self.pods,
            daemonsets: self.daemonsets,
            nodes: self.nodes,
            pdbs: self.pdbs,
            overlays: self.overlays,
            default_reservations,
            warnings,
            ..Default::default()
        })
    }
}

/// Kinds karpsim reads (everything else is skipped with a count).
const MODELLED: &[&str] = &[
    "Pod", "Deployment", "ReplicaSet", "StatefulSet", "Job", "DaemonSet", "NodePool", "EC2NodeClass", "Node",
    "PodDisruptionBudget", "PriorityClass", "RuntimeClass", "NodeOverlay",
];

/// Keep the first of identical objects with the same key; different objects with the same key are an error.
fn dedupe<T: PartialEq>(items: &mut Vec<T>, origins: &mut Vec<Location>, key: impl Fn(&T) -> String, warnings: &mut Vec<String>) -> Result<()> {
    let mut first: HashMap<String, usize> = HashMap::new();
    let mut keep = vec![true; items.len()];
    let mut dropped = 0;
    for i in 0..items.len() {
        let k = key(&items[i]);
        match first.get(&k) {
            None => {
                first.insert(k, i);
            }
            Some(&j) if items[j] == items[i] => {
                keep[i] = false;
                dropped += 1;
            }
            Some(&j) => {
                let prev = &origins[j];
                let where_prev = format!("{}{}", prev.file.as_deref().unwrap_or("input"), prev.document.map(|d| format!(", document {d}")).unwrap_or_default());
                let at = Location { field: None, ..origins[i].clone() };
                return Err(Error::input(at, format!("duplicate name {k}: already defined differently in {where_prev}")));
            }
        }
    }
    if dropped > 0 {
        let kind = origins.first().and_then(|o| o.kind.clone()).unwrap_or_default();
        warnings.push(format!("ignored {dropped} identical repeated object(s) (first: {kind})"));
        let mut it = keep.iter();
        items.retain(|_| *it.next().unwrap_or(&true));
        let mut it = keep.iter();
        origins.retain(|_| *it.next().unwrap_or(&true));
    }
    Ok(())
}

fn collect_files(dir: &Path, out: &mut Vec<PathBuf>) -> std::result::Result<(), (PathBuf, std::io::Error)> {
    let entries = std::fs::read_dir(dir).map_err(|e| (dir.to_path_buf(), e))?;
    for entry in entries {
        let path = entry.map_err(|e| (dir.to_path_buf(), e))?.path();
        if path.is_dir() {
            collect_files(&path, out)?;
        } else if path.extension().and_then(|e| e.to_str()).is_some_and(|e| matches!(e, "yaml" | "yml" | "json")) {
            out.push(path);
        }
    }
    Ok(())
}
