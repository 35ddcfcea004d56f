//! `karpsim.provision` and `karpsim.ProvisionResult`.

use crate::convert::{frames, from_state, html, json_text, reduce_with, to_py};
use crate::detach::run_detached;
use crate::errors::{input_error, warn_all};
use crate::inputs::PyCluster;
use karpsim::scheduling::{
    LaunchPolicy, MinValuesPolicy, PreferencePolicy, ProvisionOptions, ProvisionResult, TopologyDomains, provision as core_provision,
};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyTuple};
use std::sync::Arc;

/// What Karpenter would launch for the cluster's pending pods. Immutable; pickles; results compare
/// equal when their content is equal. `str(result)` is the CLI's report.
#[pyclass(frozen, name = "ProvisionResult", module = "karpsim")]
pub struct PyProvisionResult {
    pub result: Arc<ProvisionResult>,
}

const GIB: f64 = 1024.0 * 1024.0 * 1024.0;

/// Rows of the pods table for the pods placed on one node: (pod, node, status, no reason).
fn placed<'a>(status: &'static str, node: &'a str, pods: &'a [String]) -> impl Iterator<Item = PodRow<'a>> + 'a {
    pods.iter().map(move |p| (p.as_str(), Some(node), status, None))
}

/// (pod, node, status, reason).
type PodRow<'a> = (&'a str, Option<&'a str>, &'static str, Option<&'a str>);

impl PyProvisionResult {
    fn placed(&self) -> usize {
        let r = &self.result;
        r.nodeclaims.iter().map(|n| n.pods.len()).chain(r.existing_nodes.iter().map(|n| n.pods.len())).sum()
    }
}

#[pymethods]
impl PyProvisionResult {
    /// Rebuild from `to_json()` output (also how pickles load); anything else raises `KarpsimError`.
    #[staticmethod]
    fn _from_json(data: &[u8]) -> PyResult<PyProvisionResult> {
        Ok(PyProvisionResult { result: Arc::new(from_state(data, "provision result")?) })
    }

    fn __reduce__<'py>(slf: &Bound<'py, Self>) -> PyResult<Bound<'py, PyTuple>> {
        reduce_with::<PyProvisionResult>(slf.py(), "_from_json", &json_text(&*slf.get().result, None)?)
    }

    fn __eq__(&self, other: &Bound<'_, PyAny>) -> bool {
        other.cast::<PyProvisionResult>().is_ok_and(|o| *o.get().result == *self.result)
    }

    /// The NodeClaims Karpenter would create, as dicts (name, nodepool, instance_type, zone,
    /// capacity_type, price_per_hour in USD, instance_type_options, pods, requests, allocatable
    /// as Kubernetes quantities, requirements, taints, min_values_relaxed, and `reservation_id`
    /// for a reserved one, `batch` when a later provisioning batch created it).
    #[getter]
    fn nodeclaims<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_py(py, &self.result.nodeclaims)
    }

    /// Pods that stay pending, as dicts `{"pod": "namespace/name", "reason": ...}`.
    #[getter]
    fn unschedulable<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_py(py, &self.result.unschedulable)
    }

    /// Pods placed on nodes that already exist, as dicts `{"name": node, "pods": [...]}`.
    #[getter]
    fn existing_nodes<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_py(py, &self.result.existing_nodes)
    }

    /// Soft constraints dropped to place a pod, as dicts `{"pod": ..., "relaxed": [...]}`.
    #[getter]
    fn relaxations<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_py(py, &self.result.relaxations)
    }

    /// Total price of the new NodeClaims, USD per hour.
    #[getter]
    fn cost_per_hour(&self) -> f64 {
        self.result.cost_per_hour
    }

    /// Warnings from loading and scheduling, one line each (also emitted as `KarpsimWarning`).
    #[getter]
    fn warnings(&self) -> Vec<String> {
        self.result.warnings.clone()
    }

    /// The result as JSON text (the same document as `karpsim provision --output json`); `indent`
    /// pretty-prints with 0 to 16 spaces.
    #[pyo3(signature = (indent=None))]
    fn to_json(&self, indent: Option<usize>) -> PyResult<String> {
        json_text(&*self.result, indent)
    }

    /// The result as plain Python objects (dicts and lists).
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_py(py, &*self.result)
    }

    /// Columns of the NodeClaims table (see `to_pandas`).
    fn _node_columns<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let ncs = &self.result.nodeclaims;
        let col = |f: &dyn Fn(&karpsim::scheduling::NodeClaimResult) -> f64| ncs.iter().map(f).collect::<Vec<f64>>();
        let d = PyDict::new(py);
        d.set_item("nodeclaim", ncs.iter().map(|n| n.name.as_str()).collect::<Vec<_>>())?;
        d.set_item("nodepool", ncs.iter().map(|n| n.nodepool.as_str()).collect::<Vec<_>>())?;
        d.set_item("instance_type", ncs.iter().map(|n| n.instance_type.as_str()).collect::<Vec<_>>())?;
        d.set_item("zone", ncs.iter().map(|n| n.zone.as_str()).collect::<Vec<_>>())?;
        d.set_item("capacity_type", ncs.iter().map(|n| n.capacity_type.as_str()).collect::<Vec<_>>())?;
        d.set_item("price_usd_per_hour", col(&|n| n.price_per_hour))?;
        d.set_item("pods", ncs.iter().map(|n| n.pods.len()).collect::<Vec<_>>())?;
        d.set_item("cpu_requested_cores", col(&|n| n.requests.cpu as f64 / 1000.0))?;
        d.set_item("cpu_allocatable_cores", col(&|n| n.allocatable.cpu as f64 / 1000.0))?;
        d.set_item("memory_requested_gib", col(&|n| n.requests.memory as f64 / GIB))?;
        d.set_item("memory_allocatable_gib", col(&|n| n.allocatable.memory as f64 / GIB))?;
        d.set_item("pods_allocatable", ncs.iter().map(|n| n.allocatable.pods).collect::<Vec<_>>())?;
        d.set_item("instance_type_options", ncs.iter().map(|n| n.instance_type_options.clone()).collect::<Vec<_>>())?;
        Ok(d)
    }

    /// Columns of the pods table, one entry per pod the run considered (see `pods_frame`).
    fn _pod_columns<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let r = &self.result;
        // (pod, node, status, reason), in the order the CLI lists them
        let rows: Vec<PodRow<'_>> = r
            .nodeclaims
            .iter()
            .flat_map(|n| placed("nodeclaim", &n.name, &n.pods))
            .chain(r.existing_nodes.iter().flat_map(|n| placed("existing", &n.name, &n.pods)))
            .chain(r.unschedulable.iter().map(|u| (u.pod.as_str(), None, "unschedulable", Some(u.reason.as_str()))))
            .collect();
        let pod: Vec<&str> = rows.iter().map(|r| r.0).collect();
        let node: Vec<Option<&str>> = rows.iter().map(|r| r.1).collect();
        let status: Vec<&str> = rows.iter().map(|r| r.2).collect();
        let reason: Vec<Option<&str>> = rows.iter().map(|r| r.3).collect();
        let d = PyDict::new(py);
        d.set_item("pod", pod)?;
        d.set_item("node", node)?;
        d.set_item("status", status)?;
        d.set_item("reason", reason)?;
        Ok(d)
    }

    /// The NodeClaims as a pandas DataFrame indexed by `nodeclaim`: nodepool, instance_type, zone,
    /// capacity_type, price_usd_per_hour, pods, cpu_requested_cores, cpu_allocatable_cores,
    /// memory_requested_gib, memory_allocatable_gib, pods_allocatable, instance_type_options (a list).
    fn to_pandas<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        frames(py, "indexed", (self._node_columns(py)?, "nodeclaim"))
    }

    /// One row per pod the run considered, indexed by `pod` (`namespace/name`): node (None if
    /// pending), status (`nodeclaim`, `existing` or `unschedulable`) and reason.
    fn pods_frame<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        frames(py, "indexed", (self._pod_columns(py)?, "pod"))
    }

    /// `to_pandas()` as a polars DataFrame (the index becomes the first column); needs polars.
    fn to_polars<'py>(slf: &Bound<'py, Self>) -> PyResult<Bound<'py, PyAny>> {
        frames(slf.py(), "to_polars", (slf.call_method0("to_pandas")?,))
    }

    fn _repr_html_<'py>(slf: &Bound<'py, Self>) -> PyResult<Bound<'py, PyAny>> {
        html(slf.py(), "provision_html", (slf,))
    }

    /// The CLI's report: the NodeClaims, totals, pending pods with reasons, then the warnings.
    fn __str__(&self) -> String {
        with_warnings(karpsim_cli::provision_cmd::render_table(&self.result), &self.result.warnings)
    }

    fn __repr__(&self) -> String {
        format!(
            "<karpsim.ProvisionResult nodeclaims={} cost_per_hour={:.4} pods_placed={} unschedulable={} warnings={}>",
            self.result.nodeclaims.len(),
            self.result.cost_per_hour,
            self.placed(),
            self.result.unschedulable.len(),
            self.result.warnings.len()
        )
    }
}

/// A CLI report followed by its warnings, each once, as the CLI prints them on stderr.
pub fn with_warnings(mut report: String, warnings: &[String]) -> String {
    for w in karpsim_cli::dedup_warnings(warnings) {
        report.push_str(&format!("warning: {w}\n"));
    }
    report
}

/// Run Karpenter's provisioning over the cluster's pending pods (releases the GIL). The result's
/// warnings are also emitted as `karpsim.KarpsimWarning`.
///
/// `launch` is `"capacity-type-precedence"` (the AWS provider: reserved, then spot, then on-demand)
/// or `"cheapest"`; `min_values` is `"strict"` or `"best-effort"`; `topology_domains` is
/// `"karpenter"` (every instance type of a NodePool's node class makes domains, as Karpenter
/// v1.14.1 does) or `"launchable"` (only types the NodePool can launch).
#[pyfunction]
#[pyo3(signature = (cluster, *, max_instance_types=60, ignore_preferences=false, launch="capacity-type-precedence", min_values="strict", count_new_nodes_against_limits=false, topology_domains="karpenter"))]
#[allow(clippy::too_many_arguments)] // one per keyword argument of the Python function
pub fn provision(
    py: Python<'_>,
    cluster: PyRef<'_, PyCluster>,
    max_instance_types: usize,
    ignore_preferences: bool,
    launch: &str,
    min_values: &str,
    count_new_nodes_against_limits: bool,
    topology_domains: &str,
) -> PyResult<PyProvisionResult> {
    let opts = provision_options(max_instance_types, ignore_preferences, launch, min_values, count_new_nodes_against_limits, topology_domains)?;
    let state = Arc::clone(&cluster.state);
    let result = run_detached(py, move || Ok(core_provision(&state, &opts)))?;
    warn_all(py, &result.warnings)?;
    Ok(PyProvisionResult { result: Arc::new(result) })
}

/// The provisioning options from `provision`'s keyword arguments, each checked by name.
pub fn provision_options(
    max_instance_types: usize,
    ignore_preferences: bool,
    launch: &str,
    min_values: &str,
    count_new_nodes_against_limits: bool,
    topology_domains: &str,
) -> PyResult<ProvisionOptions> {
    let topology_domains = match topology_domains {
        "karpenter" => TopologyDomains::Karpenter,
        "launchable" => TopologyDomains::Launchable,
        other => return Err(input_error("topology_domains", format!("{other:?}: expected \"karpenter\" or \"launchable\""))),
    };
    let launch_policy = match launch {
        "capacity-type-precedence" => LaunchPolicy::CapacityTypePrecedence,
        "cheapest" => LaunchPolicy::Cheapest,
        other => return Err(input_error("launch", format!("{other:?}: expected \"capacity-type-precedence\" or \"cheapest\""))),
    };
    let min_values_policy = match min_values {
        "strict" => MinValuesPolicy::Strict,
        "best-effort" => MinValuesPolicy::BestEffort,
        other => return Err(input_error("min_values", format!("{other:?}: expected \"strict\" or \"best-effort\""))),
    };
    if max_instance_types == 0 {
        return Err(input_error("max_instance_types", "must be at least 1"));
    }
    // options added to the core later keep their defaults
    #[allow(clippy::needless_update)]
    Ok(ProvisionOptions {
        max_instance_types,
        preference_policy: if ignore_preferences { PreferencePolicy::Ignore } else { PreferencePolicy::Respect },
        min_values_policy,
        launch_policy,
        count_new_nodes_against_limits,
        topology_domains,
        ..ProvisionOptions::default()
    })
}
