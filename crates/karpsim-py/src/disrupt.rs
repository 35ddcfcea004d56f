//! `karpsim.consolidate` and `karpsim.ConsolidationResult`.

use crate::convert::from_value;
use crate::detach::run_detached;
use crate::errors::{KarpsimError, input_error};
use crate::inputs::PyCluster;
use karpsim::disruption::{CandidateOrder, DisruptionOptions, disrupt_once, until_stable};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyTuple};
use serde_json::Value;
use std::sync::Arc;

/// What Karpenter's disruption controller would do to a cluster: the commands (emptiness, drift,
/// multi- and single-node consolidation, expiration), the nodes it kept and why, and the cost
/// before and after. Immutable; pickles.
#[pyclass(frozen, name = "ConsolidationResult", module = "karpsim")]
pub struct PyConsolidationResult {
    json: Arc<Value>,
}

pub(crate) fn json_to_string(v: &Value, indent: Option<usize>) -> PyResult<String> {
    match indent {
        None => Ok(v.to_string()),
        Some(n) => {
            let indent = " ".repeat(n);
            let mut out = Vec::new();
            let fmt = serde_json::ser::PrettyFormatter::with_indent(indent.as_bytes());
            let mut ser = serde_json::Serializer::with_formatter(&mut out, fmt);
            serde::Serialize::serialize(v, &mut ser)
                .map_err(|e| KarpsimError::new_err(e.to_string()))?;
            String::from_utf8(out).map_err(|e| KarpsimError::new_err(e.to_string()))
        }
    }
}

fn items<'a>(v: &'a Value, key: &str) -> &'a [Value] {
    v.get(key)
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or(&[])
}

fn num(v: &Value, key: &str) -> f64 {
    v.get(key).and_then(Value::as_f64).unwrap_or(f64::NAN)
}

fn text(v: &Value, key: &str) -> String {
    v.get(key)
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string()
}

#[pymethods]
impl PyConsolidationResult {
    /// Rebuild from `to_json()` output (used by pickling).
    #[staticmethod]
    fn _from_json(data: &[u8]) -> PyResult<PyConsolidationResult> {
        let json = crate::convert::result_state(data, "consolidation result", |v| v.get("commands").is_some())?;
        Ok(PyConsolidationResult { json })
    }

    fn __reduce__<'py>(slf: &Bound<'py, Self>) -> PyResult<Bound<'py, PyTuple>> {
        crate::convert::reduce_with::<PyConsolidationResult>(slf.py(), "_from_json", &slf.get().json.to_string())
    }

    /// The disruption commands, in order, as dicts: method (`emptiness`, `drift`, `multi-node`,
    /// `single-node`, `expiration`), action (`delete`/`replace`), nodes, replacements, pods (moves),
    /// price_before, price_after, savings_per_hour, reason.
    #[getter]
    fn commands<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        from_value(py, self.json.get("commands").unwrap_or(&Value::Null))
    }

    /// Nodes looked at and kept, as dicts `{"node": ..., "reason": ...}`.
    #[getter]
    fn kept<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        from_value(py, self.json.get("kept").unwrap_or(&Value::Null))
    }

    /// Cost of the cluster's nodes before disruption, USD per hour.
    #[getter]
    fn cost_per_hour_before(&self) -> f64 {
        num(&self.json, "cost_per_hour_before")
    }

    /// Cost after the commands, USD per hour.
    #[getter]
    fn cost_per_hour_after(&self) -> f64 {
        num(&self.json, "cost_per_hour_after")
    }

    /// `cost_per_hour_before - cost_per_hour_after`.
    #[getter]
    fn savings_per_hour(&self) -> f64 {
        self.cost_per_hour_before() - self.cost_per_hour_after()
    }

    /// Rounds run (1 for a single round).
    #[getter]
    fn rounds(&self) -> u64 {
        self.json.get("rounds").and_then(Value::as_u64).unwrap_or(0)
    }

    /// The simulated time of the first round (seconds since the epoch).
    #[getter]
    fn now(&self) -> i64 {
        self.json.get("now").and_then(Value::as_i64).unwrap_or(0)
    }

    /// With `until_stable=True`: the nodes and pending pods at the end, as a dict
    /// `{"nodes": [...], "pending": [...]}`; otherwise None.
    #[getter]
    fn end_state<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        from_value(py, self.json.get("end_state").unwrap_or(&Value::Null))
    }

    /// Warnings from loading and disruption, one line each.
    #[getter]
    fn warnings(&self) -> Vec<String> {
        items(&self.json, "warnings")
            .iter()
            .filter_map(|w| w.as_str().map(str::to_string))
            .collect()
    }

    /// The result as JSON text.
    #[pyo3(signature = (indent=None))]
    fn to_json(&self, indent: Option<usize>) -> PyResult<String> {
        json_to_string(&self.json, indent)
    }

    /// The result as plain Python objects (dicts and lists).
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        from_value(py, &self.json)
    }

    /// Columns of the commands table (see `to_pandas`).
    fn _command_columns<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let cs = items(&self.json, "commands");
        let s = |k: &str| cs.iter().map(|c| text(c, k)).collect::<Vec<_>>();
        let f = |k: &str| cs.iter().map(|c| num(c, k)).collect::<Vec<_>>();
        let joined = |k: &str, field: Option<&str>| {
            cs.iter()
                .map(|c| {
                    items(c, k)
                        .iter()
                        .map(|x| match field {
                            Some(f) => text(x, f),
                            None => x.as_str().unwrap_or_default().to_string(),
                        })
                        .collect::<Vec<_>>()
                        .join(", ")
                })
                .collect::<Vec<_>>()
        };
        let d = PyDict::new(py);
        d.set_item("method", s("method"))?;
        d.set_item("action", s("action"))?;
        d.set_item("nodes", joined("nodes", None))?;
        d.set_item(
            "node_count",
            cs.iter()
                .map(|c| items(c, "nodes").len())
                .collect::<Vec<_>>(),
        )?;
        d.set_item(
            "replacements",
            joined("replacements", Some("instance_type")),
        )?;
        d.set_item(
            "pods_moved",
            cs.iter()
                .map(|c| items(c, "pods").len())
                .collect::<Vec<_>>(),
        )?;
        d.set_item("price_before", f("price_before"))?;
        d.set_item("price_after", f("price_after"))?;
        d.set_item("savings_per_hour", f("savings_per_hour"))?;
        d.set_item("reason", s("reason"))?;
        Ok(d)
    }

    /// A pandas DataFrame, one row per command: method, action, nodes (comma-separated),
    /// node_count, replacements (instance types), pods_moved, price_before, price_after,
    /// savings_per_hour, reason.
    fn to_pandas<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let cols = self._command_columns(py)?;
        py.import("karpsim._frames")?
            .call_method1("commands_frame", (cols,))
    }

    /// A pandas DataFrame of the nodes kept, indexed by node, with the reason.
    fn kept_frame<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let kept = items(&self.json, "kept");
        let d = PyDict::new(py);
        d.set_item(
            "node",
            kept.iter().map(|k| text(k, "node")).collect::<Vec<_>>(),
        )?;
        d.set_item(
            "reason",
            kept.iter().map(|k| text(k, "reason")).collect::<Vec<_>>(),
        )?;
        py.import("karpsim._frames")?
            .call_method1("kept_frame", (d,))
    }

    fn _repr_html_<'py>(slf: &Bound<'py, Self>) -> PyResult<Bound<'py, PyAny>> {
        slf.py()
            .import("karpsim._frames")?
            .call_method1("consolidation_html", (slf,))
    }

    fn __repr__(&self) -> String {
        format!(
            "<karpsim.ConsolidationResult commands={} rounds={} cost_per_hour {:.4} -> {:.4} (saves {:.4}/h)>",
            items(&self.json, "commands").len(),
            self.rounds(),
            self.cost_per_hour_before(),
            self.cost_per_hour_after(),
            self.savings_per_hour()
        )
    }
}

/// What Karpenter's disruption controller would do next to the cluster (releases the GIL).
///
/// One round by default (forced expirations plus the first method that acts); with
/// `until_stable=True`, rounds are applied until no method acts and `end_state` is set.
/// `now` is the simulated time in seconds since the epoch (default: the latest timestamp in the
/// input); `candidate_order` is `"savings-ratio"` (Karpenter v1.14) or `"disruption-cost"` (v1.0–v1.13).
#[pyfunction]
#[pyo3(signature = (cluster, *, until_stable=false, now=None, spot_to_spot=false, candidate_order="savings-ratio"))]
pub fn consolidate(
    py: Python<'_>,
    cluster: PyRef<'_, PyCluster>,
    until_stable: bool,
    now: Option<i64>,
    spot_to_spot: bool,
    candidate_order: &str,
) -> PyResult<PyConsolidationResult> {
    let order = match candidate_order {
        "savings-ratio" => CandidateOrder::SavingsRatio,
        "disruption-cost" => CandidateOrder::DisruptionCost,
        other => {
            return Err(input_error(
                "candidate_order",
                format!("{other:?}: expected \"savings-ratio\" or \"disruption-cost\""),
            ));
        }
    };
    let opts = DisruptionOptions {
        now,
        candidate_order: order,
        spot_to_spot,
        ..Default::default()
    };
    let state = Arc::clone(&cluster.state);
    let stable = until_stable;
    let json = run_detached(py, move || {
        let result = if stable {
            self::until_stable(&state, &opts)
        } else {
            disrupt_once(&state, &opts)
        };
        serde_json::to_value(&result).map_err(|e| karpsim::Error::Io {
            path: "<result>".into(),
            message: e.to_string(),
        })
    })?;
    Ok(PyConsolidationResult {
        json: Arc::new(json),
    })
}
