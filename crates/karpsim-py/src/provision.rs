//! `karpsim.provision` and `karpsim.ProvisionResult`.

use crate::convert::from_value;
use crate::detach::run_detached;
use crate::errors::{KarpsimError, input_error};
use crate::inputs::PyCluster;
use karpsim::scheduling::{
    LaunchPolicy, MinValuesPolicy, PreferencePolicy, ProvisionOptions, provision as core_provision,
};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyTuple};
use serde_json::Value;
use std::sync::Arc;

/// What Karpenter would launch for the cluster's pending pods. Immutable; pickles.
///
/// Held as the core's JSON result (the CLI's stable output format), so that it round-trips exactly.
#[pyclass(frozen, name = "ProvisionResult", module = "karpsim")]
pub struct PyProvisionResult {
    json: Arc<Value>,
}

fn items<'a>(v: &'a Value, key: &str) -> &'a [Value] {
    v.get(key)
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or(&[])
}

fn text(v: &Value, key: &str) -> String {
    v.get(key)
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string()
}

/// An amount of a resource from a quantity map (`{"cpu": "1930m"}`), in karpsim's units (millicores, bytes).
fn amount(v: &Value, map: &str, resource: &str) -> i64 {
    v.get(map)
        .and_then(|m| m.get(resource))
        .and_then(Value::as_str)
        .and_then(|q| karpsim::resources::parse_amount(resource, q).ok())
        .unwrap_or(0)
}

impl PyProvisionResult {
    fn cost(&self) -> f64 {
        self.json
            .get("cost_per_hour")
            .and_then(Value::as_f64)
            .unwrap_or(0.0)
    }
    fn placed(&self) -> usize {
        items(&self.json, "nodeclaims")
            .iter()
            .chain(items(&self.json, "existing_nodes"))
            .map(|n| items(n, "pods").len())
            .sum()
    }
    fn list<'py>(&self, py: Python<'py>, key: &str) -> PyResult<Bound<'py, PyAny>> {
        from_value(py, self.json.get(key).unwrap_or(&Value::Array(Vec::new())))
    }
}

#[pymethods]
impl PyProvisionResult {
    /// Rebuild from `to_json()` output (used by pickling).
    #[staticmethod]
    fn _from_json(data: &[u8]) -> PyResult<PyProvisionResult> {
        let json = crate::convert::result_state(data, "provision result", |v| v.get("nodeclaims").is_some())?;
        Ok(PyProvisionResult { json })
    }

    fn __reduce__<'py>(slf: &Bound<'py, Self>) -> PyResult<Bound<'py, PyTuple>> {
        crate::convert::reduce_with::<PyProvisionResult>(slf.py(), "_from_json", &slf.get().json.to_string())
    }

    /// The NodeClaims Karpenter would create, as dicts (name, nodepool, instance_type, zone,
    /// capacity_type, price_per_hour, instance_type_options, pods, requests, allocatable, requirements,
    /// and `reservation_id` for a reserved one, `batch` when a later provisioning batch created it).
    #[getter]
    fn nodeclaims<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        self.list(py, "nodeclaims")
    }

    /// Pods that stay pending, as dicts `{"pod": "namespace/name", "reason": ...}`.
    #[getter]
    fn unschedulable<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        self.list(py, "unschedulable")
    }

    /// Pods placed on nodes that already exist, as dicts `{"name": node, "pods": [...]}`.
    #[getter]
    fn existing_nodes<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        self.list(py, "existing_nodes")
    }

    /// Soft constraints dropped to place a pod, as dicts `{"pod": ..., "relaxed": [...]}`.
    #[getter]
    fn relaxations<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        self.list(py, "relaxations")
    }

    /// Total price of the new NodeClaims, USD per hour.
    #[getter]
    fn cost_per_hour(&self) -> f64 {
        self.cost()
    }

    /// Warnings from loading and scheduling, one line each.
    #[getter]
    fn warnings(&self) -> Vec<String> {
        items(&self.json, "warnings")
            .iter()
            .filter_map(|w| w.as_str().map(str::to_string))
            .collect()
    }

    /// The result as JSON text (the same document as `karpsim provision --output json`).
    #[pyo3(signature = (indent=None))]
    fn to_json(&self, indent: Option<usize>) -> PyResult<String> {
        match indent {
            None => Ok(self.json.to_string()),
            Some(n) => {
                let indent = " ".repeat(n);
                let mut out = Vec::new();
                let fmt = serde_json::ser::PrettyFormatter::with_indent(indent.as_bytes());
                let mut ser = serde_json::Serializer::with_formatter(&mut out, fmt);
                serde::Serialize::serialize(&*self.json, &mut ser)
                    .map_err(|e| KarpsimError::new_err(e.to_string()))?;
                String::from_utf8(out).map_err(|e| KarpsimError::new_err(e.to_string()))
            }
        }
    }

    /// The result as plain Python objects (dicts and lists).
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        from_value(py, &self.json)
    }

    /// Columns of the nodes table, one entry per NodeClaim (see `to_pandas`).
    fn _node_columns<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let ncs = items(&self.json, "nodeclaims");
        let s = |k: &str| ncs.iter().map(|n| text(n, k)).collect::<Vec<_>>();
        let cores = |m: &str| {
            ncs.iter()
                .map(|n| amount(n, m, "cpu") as f64 / 1000.0)
                .collect::<Vec<_>>()
        };
        let units = |m: &str, r: &str| ncs.iter().map(|n| amount(n, m, r)).collect::<Vec<_>>();
        let d = PyDict::new(py);
        d.set_item("name", s("name"))?;
        d.set_item("nodepool", s("nodepool"))?;
        d.set_item("instance_type", s("instance_type"))?;
        d.set_item("zone", s("zone"))?;
        d.set_item("capacity_type", s("capacity_type"))?;

        d.set_item(
            "price_per_hour",
            ncs.iter()
                .map(|n| {
                    n.get("price_per_hour")
                        .and_then(Value::as_f64)
                        .unwrap_or(f64::NAN)
                })
                .collect::<Vec<_>>(),
        )?;
        d.set_item(
            "pods",
            ncs.iter()
                .map(|n| items(n, "pods").len())
                .collect::<Vec<_>>(),
        )?;
        d.set_item("cpu_requested", cores("requests"))?;
        d.set_item("cpu_allocatable", cores("allocatable"))?;
        d.set_item("memory_requested", units("requests", "memory"))?;
        d.set_item("memory_allocatable", units("allocatable", "memory"))?;
        d.set_item("pods_allocatable", units("allocatable", "pods"))?;
        d.set_item(
            "instance_type_options",
            ncs.iter()
                .map(|n| items(n, "instance_type_options").len())
                .collect::<Vec<_>>(),
        )?;
        Ok(d)
    }

    /// Columns of the pods table, one entry per pod the run considered (see `pods_frame`).
    fn _pod_columns<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let (mut pod, mut node, mut status, mut reason) =
            (Vec::new(), Vec::new(), Vec::new(), Vec::new());
        for (key, st) in [("nodeclaims", "nodeclaim"), ("existing_nodes", "existing")] {
            for n in items(&self.json, key) {
                for p in items(n, "pods") {
                    pod.push(p.as_str().unwrap_or_default().to_string());
                    node.push(Some(text(n, "name")));
                    status.push(st);
                    reason.push(None::<String>);
                }
            }
        }
        for u in items(&self.json, "unschedulable") {
            pod.push(text(u, "pod"));
            node.push(None);
            status.push("unschedulable");
            reason.push(Some(text(u, "reason")));
        }
        let d = PyDict::new(py);
        d.set_item("pod", pod)?;
        d.set_item("node", node)?;
        d.set_item("status", status)?;
        d.set_item("reason", reason)?;
        Ok(d)
    }

    /// A pandas DataFrame, one row per NodeClaim: nodepool, instance type, zone, capacity type,
    /// price per hour, pod count, cpu (cores) and memory (bytes) requested and allocatable.
    fn to_pandas<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let cols = self._node_columns(py)?;
        py.import("karpsim._frames")?
            .call_method1("nodes_frame", (cols,))
    }

    /// A pandas DataFrame, one row per pod: pod, node (None if pending), status
    /// (`nodeclaim`, `existing` or `unschedulable`) and reason.
    fn pods_frame<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let cols = self._pod_columns(py)?;
        py.import("karpsim._frames")?
            .call_method1("pods_frame", (cols,))
    }

    fn _repr_html_<'py>(slf: &Bound<'py, Self>) -> PyResult<Bound<'py, PyAny>> {
        slf.py()
            .import("karpsim._frames")?
            .call_method1("result_html", (slf,))
    }

    fn __repr__(&self) -> String {
        format!(
            "<karpsim.ProvisionResult nodeclaims={} cost_per_hour={:.4} pods_placed={} unschedulable={}>",
            items(&self.json, "nodeclaims").len(),
            self.cost(),
            self.placed(),
            items(&self.json, "unschedulable").len()
        )
    }
}

/// Run Karpenter's provisioning over the cluster's pending pods (releases the GIL).
///
/// `launch` is `"capacity-type-precedence"` (the AWS provider: reserved, then spot, then on-demand)
/// or `"cheapest"`; `min_values` is `"strict"` or `"best-effort"`.
#[pyfunction]
#[pyo3(signature = (cluster, *, max_instance_types=60, ignore_preferences=false, launch="capacity-type-precedence", min_values="strict", count_new_nodes_against_limits=false))]
pub fn provision(
    py: Python<'_>,
    cluster: PyRef<'_, PyCluster>,
    max_instance_types: usize,
    ignore_preferences: bool,
    launch: &str,
    min_values: &str,
    count_new_nodes_against_limits: bool,
) -> PyResult<PyProvisionResult> {
    let launch_policy = match launch {
        "capacity-type-precedence" => LaunchPolicy::CapacityTypePrecedence,
        "cheapest" => LaunchPolicy::Cheapest,
        other => {
            return Err(input_error(
                "launch",
                format!("{other:?}: expected \"capacity-type-precedence\" or \"cheapest\""),
            ));
        }
    };
    let min_values_policy = match min_values {
        "strict" => MinValuesPolicy::Strict,
        "best-effort" => MinValuesPolicy::BestEffort,
        other => {
            return Err(input_error(
                "min_values",
                format!("{other:?}: expected \"strict\" or \"best-effort\""),
            ));
        }
    };
    if max_instance_types == 0 {
        return Err(input_error("max_instance_types", "must be at least 1"));
    }
    let opts = ProvisionOptions {
        max_instance_types,
        preference_policy: if ignore_preferences {
            PreferencePolicy::Ignore
        } else {
            PreferencePolicy::Respect
        },
        min_values_policy,
        launch_policy,
        count_new_nodes_against_limits,
    };
    let state = Arc::clone(&cluster.state);
    let json = run_detached(py, move || {
        let result = core_provision(&state, &opts);
        serde_json::to_value(&result).map_err(|e| karpsim::Error::Io {
            path: "<result>".into(),
            message: e.to_string(),
        })
    })?;
    Ok(PyProvisionResult {
        json: Arc::new(json),
    })
}
