//! `karpsim.Cluster`: Kubernetes inputs plus a catalog, i.e. the core's `ClusterState`.

use crate::catalog::PyCatalog;
use crate::convert::to_value;
use crate::errors::to_py;
use crate::detach::run_detached;
use karpsim::catalog::CatalogSource;
use karpsim::io::{Inputs, ReservationSpec, parse_reservation_values, parse_reservations_file};
use karpsim::state::{ClusterState, PoolTypes};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyTuple};
use std::path::PathBuf;
use std::sync::Arc;

/// A cluster to simulate: NodePools, NodeClasses, workloads, nodes and PDBs, with the instance types
/// each NodePool can launch. Immutable.
#[pyclass(frozen, name = "Cluster", module = "karpsim")]
pub struct PyCluster {
    pub state: Arc<ClusterState>,
    catalog_name: String,
}

/// What the loader reads, extracted from Python before the GIL is released.
enum Source {
    Paths(Vec<PathBuf>),
    Text(String, String),
    Values(Vec<serde_json::Value>),
}

/// `reservations=`: a list of dicts (the form of a reservations file's entries) or the path of a
/// reservations file, read before the GIL is released.
fn reservation_specs(reservations: Option<&Bound<'_, PyAny>>) -> PyResult<Vec<ReservationSpec>> {
    let Some(r) = reservations.filter(|r| !r.is_none()) else {
        return Ok(Vec::new());
    };
    if let Ok(path) = r.extract::<PathBuf>() {
        let text = std::fs::read_to_string(&path).map_err(|e| {
            to_py(karpsim::Error::Io {
                path: path.display().to_string(),
                message: e.to_string(),
            })
        })?;
        return parse_reservations_file(&path.display().to_string(), &text).map_err(to_py);
    }
    let items = r
        .try_iter()?
        .enumerate()
        .map(|(i, o)| to_value(&o?, &format!("reservations[{i}]")))
        .collect::<PyResult<Vec<_>>>()?;
    parse_reservation_values(items, "reservations").map_err(to_py)
}

fn build(
    py: Python<'_>,
    source: Source,
    catalog: Option<PyRef<'_, PyCatalog>>,
    reservations: Option<&Bound<'_, PyAny>>,
) -> PyResult<PyCluster> {
    let catalog_source = catalog
        .as_ref()
        .map(|c| c.source.clone())
        .unwrap_or_else(CatalogSource::default_aws);
    let specs = reservation_specs(reservations)?;
    let state = run_detached(py, move || {
        let mut inputs = Inputs::new();
        inputs.add_reservations(specs)?;
        match source {
            Source::Paths(paths) => {
                for p in &paths {
                    inputs.load_path(p)?;
                }
            }
            Source::Text(text, name) => inputs.load_str(&text, &name)?,
            Source::Values(values) => {
                for (i, v) in values.into_iter().enumerate() {
                    inputs.load_value(v, &format!("objects[{i}]"))?;
                }
            }
        }
        ClusterState::from_inputs(inputs.finish()?, &catalog_source)
    })?;
    let mut state = state;
    // A filtered catalog: the per-NodeClass types are derived as usual, then filtered the same way.
    if let Some(c) = catalog.as_ref().filter(|c| c.filter.is_some()) {
        for pt in state.pool_types.values_mut() {
            let kept = pt.types.iter().filter(|t| c.keeps(t)).cloned().collect();
            *pt = PoolTypes {
                catalog_name: pt.catalog_name.clone(),
                types: Arc::new(kept),
            };
        }
    }
    let catalog_name = catalog
        .map(|c| c.resolved.name.clone())
        .unwrap_or_else(|| "aws:us-east-1".to_string());
    Ok(PyCluster {
        state: Arc::new(state),
        catalog_name,
    })
}

#[pymethods]
impl PyCluster {
    /// Load Kubernetes YAML/JSON files, or every `*.yaml`/`*.yml`/`*.json` under directories.
    /// `catalog` defaults to `Catalog.aws("us-east-1")`. `reservations`: capacity reservations and
    /// the instances each can still launch, as dicts `{"id", "count", "instance_type", "zone",
    /// "type", "end", "interruptible", "tags"}` (only `id` and `count` when an EC2NodeClass status
    /// describes the reservation) or the path of a reservations file.
    #[staticmethod]
    #[pyo3(signature = (*paths, catalog=None, reservations=None))]
    fn from_paths(
        py: Python<'_>,
        paths: &Bound<'_, PyTuple>,
        catalog: Option<PyRef<'_, PyCatalog>>,
        reservations: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<PyCluster> {
        let paths = paths
            .iter()
            .map(|p| p.extract::<PathBuf>())
            .collect::<PyResult<Vec<_>>>()?;
        build(py, Source::Paths(paths), catalog, reservations)
    }

    /// Load Kubernetes YAML (one or more `---` documents) or JSON text. `name` names it in errors.
    #[staticmethod]
    #[pyo3(signature = (text, catalog=None, *, name="<string>", reservations=None))]
    fn from_yaml(
        py: Python<'_>,
        text: String,
        catalog: Option<PyRef<'_, PyCatalog>>,
        name: &str,
        reservations: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<PyCluster> {
        build(py, Source::Text(text, name.to_string()), catalog, reservations)
    }

    /// Load Kubernetes objects given as dicts (e.g. the `kubernetes` client's `to_dict()`
    /// in camelCase via `ApiClient().sanitize_for_serialization`, or kr8s `.raw`); a `List` is expanded.
    #[staticmethod]
    #[pyo3(signature = (objects, catalog=None, *, reservations=None))]
    fn from_objects(
        py: Python<'_>,
        objects: &Bound<'_, PyAny>,
        catalog: Option<PyRef<'_, PyCatalog>>,
        reservations: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<PyCluster> {
        let values = objects
            .try_iter()?
            .enumerate()
            .map(|(i, o)| to_value(&o?, &format!("objects[{i}]")))
            .collect::<PyResult<Vec<_>>>()?;
        build(py, Source::Values(values), catalog, reservations)
    }

    /// NodePool names.
    #[getter]
    fn nodepools(&self) -> Vec<String> {
        self.state
            .nodepools
            .iter()
            .map(|p| p.name.to_string())
            .collect()
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

    /// Number of existing nodes.
    #[getter]
    fn node_count(&self) -> usize {
        self.state.nodes.len()
    }

    /// The catalog name (`aws:us-east-1` or a custom catalog's name).
    #[getter]
    fn catalog_name(&self) -> String {
        self.catalog_name.clone()
    }

    /// Instance types per NodePool (after NodeClass derivation and the catalog's filter).
    fn instance_types(&self, nodepool: &str) -> PyResult<Vec<String>> {
        let pt = self
            .state
            .pool_types
            .get(&karpsim::labels::Sym::new(nodepool))
            .ok_or_else(|| {
                crate::errors::input_error(
                    "nodepool",
                    format!(
                        "no NodePool {nodepool:?} (have: {})",
                        self.nodepools().join(", ")
                    ),
                )
            })?;
        Ok(pt.types.iter().map(|t| t.it.name.to_string()).collect())
    }

    /// The NodeOverlays applied to the NodePools' instance types, by name.
    #[getter]
    fn overlays(&self) -> Vec<String> {
        self.state
            .overlays
            .iter()
            .map(|o| o.name.to_string())
            .collect()
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

    fn __repr__(&self) -> String {
        format!(
            "<karpsim.Cluster nodepools=[{}] pods={} daemonsets={} nodes={} catalog={}>",
            self.nodepools().join(", "),
            self.state.pods.len(),
            self.state.daemonsets.len(),
            self.state.nodes.len(),
            self.catalog_name
        )
    }
}
