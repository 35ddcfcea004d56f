//! `karpsim.Cluster`: Kubernetes inputs plus a catalog, i.e. the core's `ClusterState`.

use crate::catalog::PyCatalog;
use crate::convert::to_value;
use crate::detach::run_detached;
use karpsim::catalog::CatalogSource;
use karpsim::io::Inputs;
use karpsim::state::{ClusterState, PoolTypes};
use pyo3::prelude::*;
use pyo3::types::PyTuple;
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

fn build(
    py: Python<'_>,
    source: Source,
    catalog: Option<PyRef<'_, PyCatalog>>,
    max_pods: Option<usize>,
) -> PyResult<PyCluster> {
    let limits = crate::errors::work_limits(max_pods)?;
    let catalog_source = catalog
        .as_ref()
        .map(|c| c.source.clone())
        .unwrap_or_else(CatalogSource::default_aws);
    let state = run_detached(py, move || {
        let mut inputs = Inputs::with_limits(limits);
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
    /// `catalog` defaults to `Catalog.aws("us-east-1")`. `max_pods` bounds the pods the inputs may
    /// hold, controllers expanded (default 1,000,000): more is an `InputError` naming the object.
    #[staticmethod]
    #[pyo3(signature = (*paths, catalog=None, max_pods=None))]
    fn from_paths(
        py: Python<'_>,
        paths: &Bound<'_, PyTuple>,
        catalog: Option<PyRef<'_, PyCatalog>>,
        max_pods: Option<usize>,
    ) -> PyResult<PyCluster> {
        let paths = paths
            .iter()
            .map(|p| p.extract::<PathBuf>())
            .collect::<PyResult<Vec<_>>>()?;
        build(py, Source::Paths(paths), catalog, max_pods)
    }

    /// Load Kubernetes YAML (one or more `---` documents) or JSON text. `name` names it in errors;
    /// `max_pods` as in `from_paths`.
    #[staticmethod]
    #[pyo3(signature = (text, catalog=None, *, name="<string>", max_pods=None))]
    fn from_yaml(
        py: Python<'_>,
        text: String,
        catalog: Option<PyRef<'_, PyCatalog>>,
        name: &str,
        max_pods: Option<usize>,
    ) -> PyResult<PyCluster> {
        build(py, Source::Text(text, name.to_string()), catalog, max_pods)
    }

    /// Load Kubernetes objects given as dicts (e.g. the `kubernetes` client's `to_dict()`
    /// in camelCase via `ApiClient().sanitize_for_serialization`, or kr8s `.raw`); a `List` is expanded.
    #[staticmethod]
    #[pyo3(signature = (objects, catalog=None, *, max_pods=None))]
    fn from_objects(
        py: Python<'_>,
        objects: &Bound<'_, PyAny>,
        catalog: Option<PyRef<'_, PyCatalog>>,
        max_pods: Option<usize>,
    ) -> PyResult<PyCluster> {
        let values = objects
            .try_iter()?
            .enumerate()
            .map(|(i, o)| to_value(&o?, &format!("objects[{i}]")))
            .collect::<PyResult<Vec<_>>>()?;
        build(py, Source::Values(values), catalog, max_pods)
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
