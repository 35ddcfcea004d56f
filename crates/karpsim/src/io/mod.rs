//! Reading the Kubernetes YAML/JSON users already have into karpsim's model.
//!
//! Each document is parsed into a tree (`io::tree::Tree`, which borrows the text's strings), then
//! converted by hand, so that every error names the file, the document (1-based, counting non-empty
//! documents), the object's kind and `namespace/name`, and the field
//! (`spec.template.spec.containers[1].resources.requests.cpu`, worked out only when an error is made).
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
mod hpa;
mod namespace;
mod node;
mod node_selector;
mod nodeclaim;
mod nodeclass;
mod nodepool;
mod overlay;
mod ownership;
mod pod;
mod reservations;
mod spec_memo;
mod storage;
mod tree;
mod value;
mod volumes;
mod yaml;

pub use reservations::{ReservationSpec, parse_reservation_option, parse_reservation_values, parse_reservations_file};
pub(crate) use reservations::parse_entries as parse_reservation_entries;

pub use value::{format_rfc3339, parse_duration, parse_rfc3339};
pub(crate) use ownership::deployment_of;
pub(crate) use value::civil_from_days;
pub(crate) use yaml::parse_documents;

use crate::error::{Error, Location, Result};
use crate::model::{
    CapacityReservation, CsiNode, Namespace, Node, NodeClaim, NodeClass, NodeOverlay, NodePool, PersistentVolume, PersistentVolumeClaim,
    Pod, PodDisruptionBudget, StorageClass,
};
use crate::resources::Resources;
use crate::work::WorkLimits;
use controllers::Controller;
use hpa::Hpa;
use pod::{PodMeta, PodRefs, build_pod, owner_from_refs};
use spec_memo::SpecMemo;
use serde_json::Value;
use std::borrow::Borrow;
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use tree::Tree;
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
    /// Existing nodes; after [`Inputs::finish`] also the NodeClaims without a Node (in-flight).
    pub nodes: Vec<Node>,
    pub pdbs: Vec<PodDisruptionBudget>,
    /// `NodeOverlay` objects (karpenter.sh/v1alpha1).
    pub overlays: Vec<NodeOverlay>,
    /// The user's capacity reservations for karpsim's default NodeClass, when the inputs hold no
    /// EC2NodeClass (set by `finish`; otherwise they go to the EC2NodeClasses).
    pub default_reservations: Vec<CapacityReservation>,
    /// After [`Inputs::finish`], one pod per Deployment, ReplicaSet, StatefulSet and Job, built from
    /// its template (the first replica, `<owner>-0`), whatever its replica count: what a scenario
    /// scales over time (a Deployment with `replicas: 0` has a template and no pods).
    pub templates: Vec<Pod>,
    /// NodeClaims as read; [`Inputs::finish`] merges each into its Node in `nodes`.
    pub nodeclaims: Vec<NodeClaim>,
    pub namespaces: Vec<Namespace>,
    pub volume_claims: Vec<PersistentVolumeClaim>,
    pub volumes: Vec<PersistentVolume>,
    pub storage_classes: Vec<StorageClass>,
    /// Per-node volume attach limits; [`Inputs::finish`] puts each on its Node.
    pub csi_nodes: Vec<CsiNode>,
    pub warnings: Vec<String>,
    limits: WorkLimits,
    // Resolved by `finish`.
    reservation_specs: Vec<ReservationSpec>,
    pod_refs: Vec<PodRefs>,
    ds_refs: Vec<PodRefs>,
    origins: Origins,
    priority_classes: BTreeMap<String, (i32, bool)>,
    runtime_classes: BTreeMap<String, Resources>,
    skipped: BTreeMap<String, usize>,
    /// Helm test hooks left out, by kind.
    helm_tests: BTreeMap<String, usize>,
    /// Controllers with the span of their pods in `pods` and where they were read, for
    /// HorizontalPodAutoscalers to rescale.
    controllers: Vec<(Controller, std::ops::Range<usize>, Location)>,
    hpas: Vec<Hpa>,
    /// Only the Pod objects are wanted ([`Inputs::retain_pod_objects`]): the storage objects a
    /// recorded dump lacks are not worth a warning.
    pods_only: bool,
}

/// Where each object came from, parallel to the output vectors, to name duplicates in errors. The
/// replicas of a controller share one location.
#[derive(Debug, Default)]
struct Origins {
    pods: Vec<Arc<Location>>,
    daemonsets: Vec<Arc<Location>>,
    nodepools: Vec<Location>,
    nodeclasses: Vec<Location>,
    nodes: Vec<Location>,
    pdbs: Vec<Location>,
    overlays: Vec<Location>,
    nodeclaims: Vec<Location>,
    namespaces: Vec<Location>,
    volume_claims: Vec<Location>,
    volumes: Vec<Location>,
    storage_classes: Vec<Location>,
    csi_nodes: Vec<Location>,
    hpas: Vec<Location>,
}

/// Kinds whose objects live in a namespace (the object is named `namespace/name`).
fn namespaced(kind: &str) -> bool {
    matches!(
        kind,
        "Pod" | "Deployment" | "ReplicaSet" | "StatefulSet" | "Job" | "CronJob" | "DaemonSet" | "PodDisruptionBudget"
            | "PersistentVolumeClaim" | "HorizontalPodAutoscaler"
    )
}

impl Inputs {
    pub fn new() -> Self {
        Self::default()
    }

    /// Inputs that refuse more pods than `limits` allow (the default is [`WorkLimits::default`]).
    pub fn with_limits(limits: WorkLimits) -> Self {
        Inputs { limits, ..Self::default() }
    }

    /// Where a NodePool, EC2NodeClass or Node of these inputs was read (file and document), to
    /// complete errors found after reading (e.g. when a NodePool meets the catalog).
    pub fn origin(&self, kind: &str, name: &str) -> Option<&Location> {
        let (list, names): (&[Location], Vec<&str>) = match kind {
            "NodePool" => (&self.origins.nodepools, self.nodepools.iter().map(|n| n.name.as_str()).collect()),
            "EC2NodeClass" => (&self.origins.nodeclasses, self.nodeclasses.iter().map(|n| n.name.as_str()).collect()),
            "Node" => (&self.origins.nodes, self.nodes.iter().map(|n| n.name.as_str()).collect()),
            _ => return None,
        };
        names.iter().position(|n| *n == name).and_then(|i| list.get(i))
    }

    /// The work limits the inputs are read under.
    pub fn limits(&self) -> WorkLimits {
        self.limits
    }

    /// Load YAML (one or more documents) or JSON text. `source_name` names it in errors.
    pub fn load_str(&mut self, text: &str, source_name: &str) -> Result<()> {
        let docs = yaml::parse_trees(text, source_name)?;
        let mut memo = SpecMemo::default();
        for (i, doc) in docs.iter().enumerate() {
            self.load_document(doc, source_name, i + 1, None, None, &mut memo)?;
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
        let doc = Tree::from(&value);
        self.load_document(&doc, source_name, 1, None, None, &mut SpecMemo::default())
    }

    /// One document or `List` item. `field` is the item path (`items[3]`) inside a list, and
    /// `implied_kind` the item kind of a typed list (`PodList` items may omit `kind`).
    fn load_document<'t>(
        &mut self,
        doc: &'t Tree<'t>,
        file: &str,
        document: usize,
        field: Option<String>,
        implied_kind: Option<&str>,
        memo: &mut SpecMemo<'t>,
    ) -> Result<()> {
        let mut at = Location { file: Some(file.to_string()), document: Some(document), field, ..Default::default() };
        let Tree::Object(obj) = doc else {
            return Err(Error::input(at, format!("expected a Kubernetes object (a mapping), got {}", value::describe(doc))));
        };
        let kind = match (tree::find(obj, "kind"), implied_kind) {
            (Some(Tree::Str(k)), _) => k.to_string(),
            (None, Some(k)) => k.to_string(),
            (Some(other), _) => return Err(Error::input(at, format!("kind must be a string, got {}", value::describe(other)))),
            (None, None) => return Err(Error::input(at, "not a Kubernetes object: no `kind`")),
        };
        at.kind = Some(kind.clone());
        if implied_kind.is_none() && !matches!(tree::find(obj, "apiVersion"), Some(Tree::Str(_))) {
            return Err(Error::input(at, "not a Kubernetes object: no `apiVersion`"));
        }
        let root = V::root(doc);
        if kind == "List" || (kind.ends_with("List") && kind.len() > 4) {
            let item_kind = kind.strip_suffix("List").filter(|k| !k.is_empty());
            let items = root.opt_arr("items").map_err(|e| e.at(at.clone()))?;
            for (i, item) in items.iter().enumerate() {
                let path = match &at.field {
                    Some(f) => format!("{f}.items[{i}]"),
                    None => format!("items[{i}]"),
                };
                self.load_document(item.v, file, document, Some(path), item_kind, memo)?;
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
            // the API server's `NameIsDNSSubdomain` and namespace (DNS label) rules
            crate::names::object_name(n).map_err(|m| name.err(format!("{n:?} {m}")))?;
            let ns = meta.opt_str("namespace")?.filter(|s| !s.is_empty()).unwrap_or("default");
            if namespaced(&kind) {
                crate::names::namespace(ns).map_err(|m| meta.req("namespace").map_or_else(|e| e, |n| n.err(format!("{ns:?} {m}"))))?;
            }
            Ok((ns.to_string(), n.to_string(), meta))
        })();
        let (namespace, name, meta) = ns_name.map_err(|e| e.at(at.clone()))?;
        at.object = Some(if namespaced(&kind) { format!("{namespace}/{name}") } else { name.clone() });
        if helm_test_hook(&meta).map_err(|e| e.at(at.clone()))? {
            *self.helm_tests.entry(kind).or_default() += 1;
            return Ok(());
        }
        // shared, not copied, by the object's pods (a Deployment's replicas, a Pod's own origin)
        let at = Arc::new(at);
        self.load_object(&kind, &root, &meta, &namespace, &name, &at, memo).map_err(|e| e.at(Location::clone(&at)))
    }

    #[allow(clippy::too_many_arguments)] // the object's parts, found by `load_document`, and the file's memo
    fn load_object<'t>(
        &mut self,
        kind: &str,
        root: &V<'t>,
        meta: &V,
        namespace: &str,
        name: &str,
        at: &Arc<Location>,
        memo: &mut SpecMemo<'t>,
    ) -> Result<()> {
        let created = meta.get("creationTimestamp")?.map(|n| parse_timestamp(&n)).transpose()?.unwrap_or(0);
        match kind {
            "Pod" => {
                let id = PodMeta {
                    namespace: namespace.to_string(),
                    name: name.to_string(),
                    owner: owner_from_refs(meta)?,
                    creation_timestamp: created,
                };
                let (p, r) = build_pod(Some(meta), &root.req("spec")?, root.get("status")?.as_ref(), id, |spec| memo.parts(spec))?;
                if !self.limits.allows(self.pods.len(), 1) {
                    return Err(self.limits.exceeded(Location { field: None, ..Location::clone(at) }, "this pod", self.pods.len(), 1));
                }
                self.push_pod(p, r, at);
            }
            "Deployment" | "ReplicaSet" | "StatefulSet" | "Job" => {
                let c = Controller::parse(kind, root, namespace, name, created)?;
                // checked before a single replica is allocated
                let count = usize::try_from(c.count).unwrap_or(0);
                if !self.limits.allows(self.pods.len(), count) {
                    let at = Location { field: Some(c.count_field().into()), ..Location::clone(at) };
                    return Err(self.limits.exceeded(at, &format!("{count} replicas"), self.pods.len(), count));
                }
                let first = self.pods.len();
                // exactly: a doubling vector holds both copies while it moves (a million replicas)
                self.reserve_pods(count);
                for (p, r) in c.pods(c.count) {
                    self.push_pod(p, r, at);
                }
                self.controllers.push((c, first..self.pods.len(), Location::clone(at)));
            }
            "DaemonSet" => {
                let c = Controller::parse(kind, root, namespace, name, created)?;
                for (p, r) in c.pods(1) {
                    self.daemonsets.push(p);
                    self.ds_refs.push(r);
                    self.origins.daemonsets.push(Arc::clone(at));
                }
            }
            "NodePool" => {
                self.nodepools.push(nodepool::parse_nodepool(root, name)?);
                self.origins.nodepools.push(Location::clone(at));
            }
            "EC2NodeClass" => {
                let (nc, warning) = nodeclass::parse_nodeclass(root, name)?;
                self.nodeclasses.push(nc);
                self.warnings.extend(warning);
                self.origins.nodeclasses.push(Location::clone(at));
            }
            "Node" => {
                self.nodes.push(node::parse_node(root, name)?);
                self.origins.nodes.push(Location::clone(at));
            }
            "PodDisruptionBudget" => {
                self.pdbs.push(node::parse_pdb(root, namespace, name)?);
                self.origins.pdbs.push(Location::clone(at));
            }
            "NodeOverlay" => {
                self.overlays.push(overlay::parse_overlay(root, name, at)?);
                self.origins.overlays.push(Location::clone(at));
            }
            "PriorityClass" => {
                self.priority_classes.insert(name.to_string(), node::parse_priority_class(root)?);
            }
            "RuntimeClass" => {
                self.runtime_classes.insert(name.to_string(), node::parse_runtime_class(root)?);
            }
            "NodeClaim" => {
                self.nodeclaims.push(nodeclaim::parse_nodeclaim(root, name)?);
                self.origins.nodeclaims.push(Location::clone(at));
            }
            "Namespace" => {
                self.namespaces.push(namespace::parse_namespace(root, name)?);
                self.origins.namespaces.push(Location::clone(at));
            }
            "PersistentVolumeClaim" => {
                self.volume_claims.push(storage::parse_claim(root, namespace, name)?);
                self.origins.volume_claims.push(Location::clone(at));
            }
            "PersistentVolume" => {
                self.volumes.push(storage::parse_volume(root, name)?);
                self.origins.volumes.push(Location::clone(at));
            }
            "StorageClass" => {
                self.storage_classes.push(storage::parse_storage_class(root, name)?);
                self.origins.storage_classes.push(Location::clone(at));
            }
            "CSINode" => {
                self.csi_nodes.push(storage::parse_csi_node(root, name)?);
                self.origins.csi_nodes.push(Location::clone(at));
            }
            "HorizontalPodAutoscaler" => {
                self.hpas.push(hpa::parse_hpa(root, namespace, name)?);
                self.origins.hpas.push(Location::clone(at));
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

    fn push_pod(&mut self, p: Pod, r: PodRefs, at: &Arc<Location>) {
        self.pods.push(p);
        self.pod_refs.push(r);
        self.origins.pods.push(Arc::clone(at));
    }

    fn reserve_pods(&mut self, n: usize) {
        self.pods.reserve_exact(n);
        self.pod_refs.reserve_exact(n);
        self.origins.pods.reserve_exact(n);
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
        // their pods are gone: nothing left for an HPA to rescale
        self.controllers.clear();
        self.pods_only = true;
        keep.iter().filter(|k| !**k).count()
    }

    /// Resolve references between objects and validate the whole:
    /// * priority: `spec.priority` if given, else the `priorityClassName`'s value (a missing class is a
    ///   warning and priority 0), else the `globalDefault` PriorityClass (Kubernetes `Priority` admission);
    /// * RuntimeClass `overhead.podFixed` is added to the requests of pods naming it (unless the pod
    ///   already carries `spec.overhead`), as the RuntimeClass admission controller does;
    /// * a Deployment, StatefulSet or ReplicaSet that a HorizontalPodAutoscaler scales runs the
    ///   replicas the HPA keeps (`minReplicas` when `spec.replicas` is not written);
    /// * each pod's PersistentVolumeClaims are resolved through PersistentVolumes and StorageClasses
    ///   into [`Pod::volumes`]; NodeClaims join their Nodes (or become in-flight nodes) and CSINodes
    ///   give their nodes volume attach limits;
    /// * objects repeated identically are kept once (with a warning); two different objects with the same
    ///   name are an error.
    pub fn finish(mut self) -> Result<Inputs> {
        let mut warnings = std::mem::take(&mut self.warnings);
        dedupe(&mut self.hpas, &mut self.origins.hpas, |h| format!("{}/{}", h.namespace, h.name), &mut warnings)?;
        self.rescale_controllers(&mut warnings)?;
        // one template pod per controller whatever its count, resolved like pods
        let (mut template_refs, mut template_origins) = (Vec::new(), Vec::new());
        for (c, _, at) in &self.controllers {
            for (p, r) in c.pods(1) {
                self.templates.push(p);
                template_refs.push(r);
                template_origins.push(Arc::new(at.clone()));
            }
        }
        let default_priority = self
            .priority_classes
            .iter()
            .filter(|(_, (_, global))| *global)
            .map(|(_, (v, _))| *v)
            .max();
        // (templates are warned about through their replicas only)
        for (pods, refs, origins, warn) in [
            (&mut self.pods, &self.pod_refs, &self.origins.pods, true),
            (&mut self.daemonsets, &self.ds_refs, &self.origins.daemonsets, true),
            (&mut self.templates, &template_refs, &template_origins, false),
        ] {
            let mut missing_pc: BTreeMap<&str, usize> = BTreeMap::new();
            let mut missing_rc: BTreeMap<&str, usize> = BTreeMap::new();
            for ((p, r), origin) in pods.iter_mut().zip(refs).zip(origins) {
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
                        Some(o) => {
                            p.requests = p.requests.checked_add(o).map_err(|k| {
                                let field = if origin.kind.as_deref() == Some("Pod") { "spec.runtimeClassName" } else { "spec.template.spec.runtimeClassName" };
                                let at = Location { field: Some(field.into()), ..Location::clone(origin) };
                                let max = crate::resources::max_amount_text(k);
                                Error::input(at, format!("RuntimeClass {rc} overhead and the pod's requests add up to more {k} than karpsim can hold (at most {max})"))
                            })?;
                        }
                        None => *missing_rc.entry(rc).or_default() += 1,
                    }
                }
            }
            if !warn {
                continue;
            }
            for (c, n) in missing_pc {
                warnings.push(format!("PriorityClass {c:?} is not in the inputs; its {n} pod(s) get priority 0"));
            }
            for (c, n) in missing_rc {
                warnings.push(format!("RuntimeClass {c:?} is not in the inputs; its {n} pod(s) get no overhead"));
            }
        }
        dedupe(&mut self.volume_claims, &mut self.origins.volume_claims, |c| format!("{}/{}", c.namespace, c.name), &mut warnings)?;
        dedupe(&mut self.volumes, &mut self.origins.volumes, |v| v.name.to_string(), &mut warnings)?;
        dedupe(&mut self.storage_classes, &mut self.origins.storage_classes, |c| c.name.to_string(), &mut warnings)?;
        let storage = volumes::Storage::new(&self.volume_claims, &self.volumes, &self.storage_classes, &mut warnings);
        volumes::resolve_pods(&mut self.pods, &self.pod_refs, &storage, !self.pods_only, &mut warnings);
        volumes::resolve_pods(&mut self.templates, &template_refs, &storage, false, &mut Vec::new());
        dedupe(&mut self.pods, &mut self.origins.pods, |p| PodKey(p.namespace, p.name), &mut warnings)?;
        dedupe(&mut self.daemonsets, &mut self.origins.daemonsets, |p| PodKey(p.namespace, p.name), &mut warnings)?;
        dedupe(&mut self.nodepools, &mut self.origins.nodepools, |n| n.name.to_string(), &mut warnings)?;
        dedupe(&mut self.nodeclasses, &mut self.origins.nodeclasses, |n| n.name.to_string(), &mut warnings)?;
        dedupe(&mut self.nodes, &mut self.origins.nodes, |n| n.name.to_string(), &mut warnings)?;
        dedupe(&mut self.pdbs, &mut self.origins.pdbs, |p| format!("{}/{}", p.namespace, p.name), &mut warnings)?;
        dedupe(&mut self.overlays, &mut self.origins.overlays, |o| o.name.to_string(), &mut warnings)?;
        let default_reservations = reservations::resolve(&mut self.nodeclasses, &self.reservation_specs, &mut warnings)?;
        dedupe(&mut self.nodeclaims, &mut self.origins.nodeclaims, |c| c.name.to_string(), &mut warnings)?;
        dedupe(&mut self.namespaces, &mut self.origins.namespaces, |n| n.name.to_string(), &mut warnings)?;
        dedupe(&mut self.csi_nodes, &mut self.origins.csi_nodes, |c| c.name.to_string(), &mut warnings)?;
        nodeclaim::merge_into_nodes(&mut self.nodes, &self.nodeclaims, &mut warnings);
        for c in &self.csi_nodes {
            if let Some(n) = self.nodes.iter_mut().find(|n| n.name == c.name) {
                n.volume_limits = c.limits.clone();
            }
        }
        warnings.extend(namespace::unknown_namespace_warning(&self.namespaces, &self.pods, &self.daemonsets));

        // a NodePool whose EC2NodeClass is missing is reported (not ready) when the state is built

        if !self.helm_tests.is_empty() {
            let total: usize = self.helm_tests.values().sum();
            let kinds: Vec<String> = self.helm_tests.iter().map(|(k, n)| format!("{k} ({n})")).collect();
            warnings.push(format!("skipped {total} Helm test hook(s) (helm.sh/hook: test), which run only under `helm test`: {}", kinds.join(", ")));
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
            templates: self.templates,
            nodeclaims: self.nodeclaims,
            namespaces: self.namespaces,
            volume_claims: self.volume_claims,
            volumes: self.volumes,
            storage_classes: self.storage_classes,
            csi_nodes: self.csi_nodes,
            warnings,
            limits: self.limits,
            origins: Origins { nodepools: self.origins.nodepools, nodeclasses: self.origins.nodeclasses, nodes: self.origins.nodes, ..Default::default() },
            ..Default::default()
        })
    }

    /// Controllers whose pods are in the inputs stand down (their pods are what runs); every other
    /// one a HorizontalPodAutoscaler scales runs the replicas the HPA keeps. Their pods are rebuilt
    /// in place, so pods keep their input order.
    fn rescale_controllers(&mut self, warnings: &mut Vec<String>) -> Result<()> {
        if self.controllers.is_empty() && self.hpas.is_empty() {
            return Ok(());
        }
        let pod_objects: Vec<&Pod> =
            self.pods.iter().zip(&self.origins.pods).filter(|(_, o)| o.kind.as_deref() == Some("Pod")).map(|(p, _)| p).collect();
        let controllers: Vec<&Controller> = self.controllers.iter().map(|(c, _, _)| c).collect();
        let represented = ownership::represented(&controllers, &pod_objects, warnings);
        let mut changes: Vec<(usize, i64)> = represented.iter().enumerate().filter(|(_, r)| **r).map(|(i, _)| (i, 0)).collect();
        changes.extend(hpa::rescale(&self.hpas, &controllers, &represented, warnings));
        if changes.is_empty() {
            return Ok(());
        }
        // an HPA's replicas are held to the work limit too, before they are made
        let mut total = self.pods.len();
        for &(i, n) in &changes {
            let (c, range, at) = &self.controllers[i];
            let n = usize::try_from(n).unwrap_or(0);
            let rest = total - range.len();
            if !self.limits.allows(rest, n) {
                let at = Location { field: Some(c.count_field().into()), ..at.clone() };
                return Err(self.limits.exceeded(at, &format!("{n} replicas (as its HorizontalPodAutoscaler keeps it)"), rest, n));
            }
            total = rest + n;
        }
        let (pods, refs, origins) =
            (std::mem::take(&mut self.pods), std::mem::take(&mut self.pod_refs), std::mem::take(&mut self.origins.pods));
        self.reserve_pods(total);
        let mut old = pods.into_iter().zip(refs).zip(origins).enumerate().peekable();
        for (ci, (c, range, at)) in self.controllers.iter_mut().enumerate() {
            // the pods before this controller's, as they were
            while let Some((_, ((p, r), o))) = old.next_if(|(i, _)| *i < range.start) {
                self.pods.push(p);
                self.pod_refs.push(r);
                self.origins.pods.push(o);
            }
            let start = self.pods.len();
            match changes.iter().find(|(i, _)| *i == ci) {
                Some(&(_, n)) => {
                    while old.next_if(|(i, _)| *i < range.end).is_some() {}
                    let origin = Arc::new(at.clone());
                    for (p, r) in c.pods(n) {
                        self.pods.push(p);
                        self.pod_refs.push(r);
                        self.origins.pods.push(Arc::clone(&origin));
                    }
                    c.count = n;
                }
                None => {
                    while let Some((_, ((p, r), o))) = old.next_if(|(i, _)| *i < range.end) {
                        self.pods.push(p);
                        self.pod_refs.push(r);
                        self.origins.pods.push(o);
                    }
                }
            }
            *range = start..self.pods.len();
        }
        for (_, ((p, r), o)) in old {
            self.pods.push(p);
            self.pod_refs.push(r);
            self.origins.pods.push(o);
        }
        Ok(())
    }
}

/// Kinds karpsim reads (everything else is skipped with a count).
const MODELLED: &[&str] = &[
    "Pod", "Deployment", "ReplicaSet", "StatefulSet", "Job", "DaemonSet", "NodePool", "EC2NodeClass", "Node",
    "PodDisruptionBudget", "PriorityClass", "RuntimeClass", "NodeOverlay", "NodeClaim", "Namespace", "PersistentVolumeClaim",
    "PersistentVolume", "StorageClass", "CSINode", "HorizontalPodAutoscaler",
];

/// A Helm test hook (`helm.sh/hook: test`, or the older `test-success`/`test-failure`; the
/// annotation may list several hooks): it runs only under `helm test`, not as part of the release.
fn helm_test_hook(meta: &V) -> Result<bool> {
    let annotations = meta.opt_string_map("annotations")?;
    Ok(annotations.get("helm.sh/hook").is_some_and(|h| h.split(',').any(|x| x.trim().starts_with("test"))))
}

/// Keep the first of identical objects with the same key; different objects with the same key are an error.
/// A pod's `namespace/name` (as [`Pod::key`] prints it) without building the string: thousands of
/// pods are checked for duplicates.
#[derive(PartialEq, Eq, Hash)]
struct PodKey(crate::labels::Sym, crate::labels::Sym);

impl std::fmt::Display for PodKey {
    fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        write!(f, "{}/{}", self.0, self.1)
    }
}

fn dedupe<T: PartialEq, O: Borrow<Location>, K: std::hash::Hash + Eq + std::fmt::Display>(
    items: &mut Vec<T>,
    origins: &mut Vec<O>,
    key: impl Fn(&T) -> K,
    warnings: &mut Vec<String>,
) -> Result<()> {
    let mut first: HashMap<K, usize> = HashMap::with_capacity(items.len());
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
                let prev: &Location = origins[j].borrow();
                let where_prev = format!("{}{}", prev.file.as_deref().unwrap_or("input"), prev.document.map(|d| format!(", document {d}")).unwrap_or_default());
                let at = Location { field: None, ..origins[i].borrow().clone() };
                return Err(Error::input(at, format!("duplicate name {k}: already defined differently in {where_prev}")));
            }
        }
    }
    if dropped > 0 {
        let kind = origins.first().and_then(|o| o.borrow().kind.clone()).unwrap_or_default();
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
