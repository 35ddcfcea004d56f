//! `karpsim.Cluster`: Kubernetes inputs plus a catalog, i.e. the core's `ClusterState`, and its
//! what-if variants (`with_changes`).

use crate::catalog::{PyCatalog, catalog_arg};
use crate::convert::{existing_path, html, json_text, reduce_with, to_value};
use crate::detach::run_detached;
use crate::errors::{input_error, work_limits};
use crate::whatif::{variant_from, variant_from_kwargs};
use karpsim::disruption::DisruptionOptions;
use karpsim::WorkLimits;
use karpsim::io::{Inputs, ReservationSpec, parse_reservation_values, parse_reservations_file};
use karpsim::state::ClusterState;
use karpsim::whatif::{Setup, Variant};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyTuple};
use std::path::PathBuf;
use std::sync::Arc;

/// A cluster to simulate: NodePools, NodeClasses, workloads, nodes and PDBs, with the instance types
/// each NodePool can launch. Immutable: `with_changes` and `vary` return new clusters. Pickles by
/// its source (files are read again where it is unpickled), reservations, catalog and changes.
#[pyclass(frozen, name = "Cluster", module = "karpsim")]
pub struct PyCluster {
    pub state: Arc<ClusterState>,
    /// The settings of `karpsim.consolidate` a variant may change (`spot_to_spot`).
    pub disruption: DisruptionOptions,
    catalog: Py<PyCatalog>,
    source: Arc<Source>,
    reservations: Arc<Reservations>,
    variants: Vec<Variant>,
    /// The work limit the inputs were read under (kept when pickled).
    limits: WorkLimits,
}

/// What the loader reads, kept so that a cluster can be rebuilt when unpickled.
#[derive(Debug, serde::Serialize, serde::Deserialize)]
enum Source {
    Paths(Vec<PathBuf>),
    Text { text: String, name: String },
    Values(Vec<serde_json::Value>),
}

/// The items of an iterable parameter as JSON values (`param[i]` in errors).
fn values_of(obj: &Bound<'_, PyAny>, param: &str, expected: &str) -> PyResult<Vec<serde_json::Value>> {
    obj.try_iter()
        .map_err(|_| input_error(param, expected))?
        .enumerate()
        .map(|(i, o)| to_value(&o?, &format!("{param}[{i}]")))
        .collect()
}

/// `reservations=` as given: the path of a reservations file (read again where a cluster is
/// unpickled) or its entries as dicts.
#[derive(Debug, Default, serde::Serialize, serde::Deserialize)]
enum Reservations {
    #[default]
    None,
    File(PathBuf),
    Values(Vec<serde_json::Value>),
}

impl Reservations {
    /// `reservations=`: a list of dicts (the form of a reservations file's entries) or a path,
    /// converted while the GIL is held.
    fn from_arg(reservations: Option<&Bound<'_, PyAny>>) -> PyResult<Reservations> {
        let Some(r) = reservations.filter(|r| !r.is_none()) else {
            return Ok(Reservations::None);
        };
        if r.is_instance_of::<pyo3::types::PyString>() || r.hasattr("__fspath__")? {
            let path = existing_path(r, "reservations")?;
            return Ok(Reservations::File(std::path::absolute(&path).unwrap_or(path)));
        }
        Ok(Reservations::Values(values_of(r, "reservations", "expected a list of dicts or the path of a reservations file")?))
    }

    fn specs(&self) -> karpsim::Result<Vec<ReservationSpec>> {
        match self {
            Reservations::None => Ok(Vec::new()),
            Reservations::File(path) => {
                let text = std::fs::read_to_string(path).map_err(|e| karpsim::Error::Io { path: path.display().to_string(), message: e.to_string() })?;
                parse_reservations_file(&path.display().to_string(), &text)
            }
            Reservations::Values(items) => parse_reservation_values(items.clone(), "reservations"),
        }
    }
}

/// Apply a variant to a cluster (the core's `whatif::apply`, which keeps the catalog's filter).
/// Scenario-only keys (seed, consolidation, spot_interruptions) are errors here.
fn apply_variant(
    state: ClusterState,
    disruption: DisruptionOptions,
    catalog: &PyCatalog,
    v: &Variant,
) -> karpsim::Result<(ClusterState, DisruptionOptions)> {
    let setup = Setup { state, catalog: catalog.source.clone(), disruption, type_filter: catalog.type_filter() };
    let (setup, rest) = karpsim::whatif::apply(setup, &v.changes)?;
    if let Some((k, val)) = rest.first() {
        return Err(karpsim::Error::Option {
            option: format!("{k}={val}"),
            message: "applies to scenarios only (karpsim.Scenario.with_changes), not to a cluster".into(),
        });
    }
    Ok((setup.state, setup.disruption))
}

fn build(py: Python<'_>, source: Source, reservations: Reservations, catalog: Py<PyCatalog>, variants: Vec<Variant>, limits: WorkLimits) -> PyResult<PyCluster> {
    let source = Arc::new(source);
    let reservations = Arc::new(reservations);
    let res = Arc::clone(&reservations);
    let cat = catalog.bind(py).get();
    let catalog_source = cat.source.clone();
    let src = Arc::clone(&source);
    let mut state = run_detached(py, move || {
        let mut inputs = Inputs::with_limits(limits);
        inputs.add_reservations(res.specs()?)?;
        match &*src {
            Source::Paths(paths) => {
                for p in paths {
                    inputs.load_path(p)?;
                }
            }
            Source::Text { text, name } => inputs.load_str(text, name)?,
            Source::Values(values) => {
                for (i, v) in values.iter().enumerate() {
                    inputs.load_value(v.clone(), &format!("objects[{i}]"))?;
                }
            }
        }
        ClusterState::from_inputs(inputs.finish()?, &catalog_source)
    })?;
    if let Some(f) = cat.type_filter() {
        state.retain_types(&f);
    }
    let mut disruption = DisruptionOptions::default();
    for v in &variants {
        (state, disruption) = run_detached(py, || apply_variant(state, disruption, cat, v))?;
    }
    Ok(PyCluster { state: Arc::new(state), disruption, catalog, source, reservations, variants, limits })
}

#[pymethods]
impl PyCluster {
    /// Load Kubernetes YAML/JSON files, or every `*.yaml`/`*.yml`/`*.json` under directories (a
    /// directory without any warns). `catalog`: a `Catalog`, `"aws:REGION"` or the path of a custom
    /// catalog file (default `aws:us-east-1`). A missing path raises `FileNotFoundError`.
    /// `reservations`: capacity reservations and the instances each can still launch, as dicts
    /// `{"id", "count", "instance_type", "zone", "type", "end", "interruptible", "tags"}` (only
    /// `id` and `count` when an EC2NodeClass status describes the reservation) or the path of a
    /// reservations file. `pod_limit` bounds the pods the inputs may hold, controllers expanded
    /// (default 1,000,000): more is an `InputError` naming the object and field.
    #[staticmethod]
    #[pyo3(signature = (*paths, catalog=None, reservations=None, pod_limit=None))]
    fn from_paths(
        py: Python<'_>,
        paths: &Bound<'_, PyTuple>,
        catalog: Option<&Bound<'_, PyAny>>,
        reservations: Option<&Bound<'_, PyAny>>,
        pod_limit: Option<usize>,
    ) -> PyResult<PyCluster> {
        let limits = work_limits(pod_limit)?;
        if paths.is_empty() {
            return Err(input_error("paths", "no file or directory given"));
        }
        let paths = paths
            .iter()
            .enumerate()
            .map(|(i, p)| existing_path(&p, &format!("paths[{i}]")).map(|p| std::path::absolute(&p).unwrap_or(p)))
            .collect::<PyResult<Vec<_>>>()?;
        build(py, Source::Paths(paths), Reservations::from_arg(reservations)?, catalog_arg(py, catalog)?, Vec::new(), limits)
    }

    /// Load Kubernetes YAML (one or more `---` documents) or JSON text. `name` names it in errors;
    /// `reservations` and `pod_limit` as for `from_paths`.
    #[staticmethod]
    #[pyo3(signature = (text, catalog=None, *, name="<string>", reservations=None, pod_limit=None))]
    fn from_yaml(
        py: Python<'_>,
        text: String,
        catalog: Option<&Bound<'_, PyAny>>,
        name: &str,
        reservations: Option<&Bound<'_, PyAny>>,
        pod_limit: Option<usize>,
    ) -> PyResult<PyCluster> {
        let limits = work_limits(pod_limit)?;
        let reservations = Reservations::from_arg(reservations)?;
        build(py, Source::Text { text, name: name.to_string() }, reservations, catalog_arg(py, catalog)?, Vec::new(), limits)
    }

    /// Load Kubernetes objects given as dicts (e.g. the `kubernetes` client's objects through
    /// `ApiClient().sanitize_for_serialization`, or kr8s `.raw`); a `List` is expanded.
    /// `reservations` as for `from_paths`.
    #[staticmethod]
    #[pyo3(signature = (objects, catalog=None, *, reservations=None, pod_limit=None))]
    fn from_objects(
        py: Python<'_>,
        objects: &Bound<'_, PyAny>,
        catalog: Option<&Bound<'_, PyAny>>,
        reservations: Option<&Bound<'_, PyAny>>,
        pod_limit: Option<usize>,
    ) -> PyResult<PyCluster> {
        let limits = work_limits(pod_limit)?;
        let values = values_of(objects, "objects", "expected an iterable of dicts")?;
        build(py, Source::Values(values), Reservations::from_arg(reservations)?, catalog_arg(py, catalog)?, Vec::new(), limits)
    }

    /// Rebuild from `__reduce__`'s state (a JSON document): the source is loaded again.
    #[staticmethod]
    fn _from_state(py: Python<'_>, state: &[u8]) -> PyResult<PyCluster> {
        #[derive(serde::Deserialize)]
        struct State {
            source: Source,
            #[serde(default)]
            reservations: Reservations,
            catalog: serde_json::Value,
            variants: Vec<Variant>,
            #[serde(default)]
            pod_limit: Option<usize>,
        }
        let s: State = crate::convert::from_state(state, "cluster state")?;
        let catalog = Py::new(py, PyCatalog::from_state_value(py, &s.catalog)?)?;
        build(py, s.source, s.reservations, catalog, s.variants, work_limits(s.pod_limit)?)
    }

    fn __reduce__<'py>(slf: &Bound<'py, Self>) -> PyResult<Bound<'py, PyTuple>> {
        let py = slf.py();
        let me = slf.get();
        let state = serde_json::json!({
            "source": &*me.source,
            "reservations": &*me.reservations,
            "catalog": me.catalog.bind(py).get().state()?,
            "variants": me.variants,
            "pod_limit": me.limits.max_pods,
        });
        reduce_with::<PyCluster>(py, "_from_state", &json_text(&state, None)?)
    }

    /// A new cluster with what-if changes applied, e.g.
    /// `with_changes(arch="arm64", capacity_types=["spot", "on-demand"], max_pods=110)`: the keys of
    /// a scenario variant (`karpsim.vary_keys()`) except the scenario-only ones. Lists join with `+`,
    /// bools become true/false, a `timedelta` a duration, `price={"m5.large:spot": 0.04}` explicit
    /// prices. Values the catalog decides (architectures, capacity types, families, categories,
    /// sizes, instance types) and NodePool names are checked: a typo raises `InputError` listing the
    /// valid values.
    #[pyo3(signature = (**changes))]
    fn with_changes(&self, py: Python<'_>, changes: Option<&Bound<'_, PyDict>>) -> PyResult<PyCluster> {
        self.with_variant(py, variant_from_kwargs(changes)?)
    }

    /// Like `with_changes`, with the changes as a dict (or `(key, value)` pairs) and an optional
    /// variant name (default `key=value,...`).
    #[pyo3(signature = (changes, *, name=None))]
    fn vary(&self, py: Python<'_>, changes: &Bound<'_, PyAny>, name: Option<String>) -> PyResult<PyCluster> {
        self.with_variant(py, variant_from(changes, name)?)
    }

    /// The changes applied so far, as `(key, value)` pairs in order.
    #[getter]
    fn changes(&self) -> Vec<(String, String)> {
        self.variants.iter().flat_map(|v| v.changes.iter().cloned()).collect()
    }

    /// NodePool names.
    #[getter]
    fn nodepools(&self) -> Vec<String> {
        self.state.nodepools.iter().map(|p| p.name.to_string()).collect()
    }

    /// Number of pods (pending and bound; DaemonSet pods are counted in `daemonset_count`).
    #[getter]
    fn pod_count(&self) -> usize {
        self.state.pods.len()
    }

    /// Number of DaemonSets (each adds its pod to every node it tolerates).
    #[getter]
    fn daemonset_count(&self) -> usize {
        self.state.daemonsets.len()
    }

    /// Number of existing nodes (NodeClaims without a Node yet, in-flight capacity, included).
    #[getter]
    fn node_count(&self) -> usize {
        self.state.nodes.len()
    }

    /// USD per hour of the existing nodes (priced from the catalog).
    #[getter]
    fn node_cost_per_hour(&self) -> f64 {
        self.state.nodes.iter().map(|n| n.price.unwrap_or(0.0)).sum()
    }

    /// The catalog name (`aws:us-east-1` or a custom catalog's name).
    #[getter]
    fn catalog_name(&self, py: Python<'_>) -> String {
        self.catalog.bind(py).get().resolved.name.clone()
    }

    /// Instance types per NodePool (after NodeClass derivation and the catalog's filter).
    fn instance_types(&self, nodepool: &str) -> PyResult<Vec<String>> {
        let pt = self.state.pool_types.get(&karpsim::labels::Sym::new(nodepool)).ok_or_else(|| {
            let names: Vec<String> = self.nodepools();
            let known: Vec<&str> = names.iter().map(String::as_str).collect();
            input_error("nodepool", karpsim::whatif::suggest::unknown_value("NodePool", nodepool, &known))
        })?;
        Ok(pt.types.iter().map(|t| t.it.name.to_string()).collect())
    }

    /// The NodeOverlays applied to the NodePools' instance types, by name.
    #[getter]
    fn overlays(&self) -> Vec<String> {
        self.state.overlays.iter().map(|o| o.name.to_string()).collect()
    }

    /// The capacity reservations the NodeClasses launch into, as dicts `{"id", "nodeclass",
    /// "instance_type", "zone", "type", "count", "end"}` (`count` None when nobody gave it;
    /// `end` in Unix seconds or None).
    #[getter]
    fn reservations<'py>(&self, py: Python<'py>) -> PyResult<Vec<Bound<'py, PyDict>>> {
        let classes = self.state.nodeclasses.iter().map(|c| (c.name.to_string(), &c.capacity_reservations));
        let default = std::iter::once((String::new(), &self.state.default_reservations));
        let mut out = Vec::new();
        for (class, rs) in classes.chain(default) {
            for r in rs {
                let d = PyDict::new(py);
                d.set_item("id", r.id.as_str())?;
                d.set_item("nodeclass", if class.is_empty() { None } else { Some(class.clone()) })?;
                d.set_item("instance_type", r.instance_type.as_str())?;
                d.set_item("zone", r.zone.as_str())?;
                d.set_item("type", r.reservation_type.as_str())?;
                d.set_item("count", r.count)?;
                d.set_item("end", r.end_time)?;
                out.push(d);
            }
        }
        Ok(out)
    }

    /// What loading noticed (skipped kinds, missing prices...), one line each.
    #[getter]
    fn warnings(&self) -> Vec<String> {
        self.state.warnings.clone()
    }

    fn _repr_html_<'py>(slf: &Bound<'py, Self>) -> PyResult<Bound<'py, PyAny>> {
        html(slf.py(), "cluster_html", (slf,))
    }

    fn __repr__(&self, py: Python<'_>) -> String {
        let changes = if self.variants.is_empty() {
            String::new()
        } else {
            format!(" changes=[{}]", self.changes().iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join(", "))
        };
        format!(
            "<karpsim.Cluster nodepools=[{}] pods={} daemonsets={} nodes={} catalog={}{changes}>",
            self.nodepools().join(", "),
            self.state.pods.len(),
            self.state.daemonsets.len(),
            self.state.nodes.len(),
            self.catalog_name(py)
        )
    }
}

impl PyCluster {
    fn with_variant(&self, py: Python<'_>, v: Variant) -> PyResult<PyCluster> {
        let catalog = self.catalog.clone_ref(py);
        let cat = catalog.bind(py).get();
        let state = (*self.state).clone();
        let disruption = self.disruption.clone();
        let (state, disruption) = run_detached(py, || apply_variant(state, disruption, cat, &v))?;
        let mut variants = self.variants.clone();
        variants.push(v);
        Ok(PyCluster {
            state: Arc::new(state),
            disruption,
            catalog,
            source: Arc::clone(&self.source),
            reservations: Arc::clone(&self.reservations),
            variants,
            limits: self.limits,
        })
    }

    /// The cluster as a what-if base: its state, catalog source and filter, disruption options.
    pub fn setup(&self, py: Python<'_>) -> Setup {
        let cat = self.catalog.bind(py).get();
        Setup {
            state: (*self.state).clone(),
            catalog: cat.source.clone(),
            disruption: self.disruption.clone(),
            type_filter: cat.type_filter(),
        }
    }
}
