//! `karpsim.consolidate` and `karpsim.ConsolidationResult`.

use crate::convert::{frames, from_state, html, json_text, reduce_with, timestamp, to_py};
use crate::detach::run_detached;
use crate::errors::{input_error, warn_all};
use crate::inputs::PyCluster;
use crate::provision::with_warnings;
use karpsim::disruption::{CandidateOrder, DisruptionOptions, DisruptionResult, EndState, disrupt_once, until_stable};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyTuple};
use std::sync::Arc;

/// What Karpenter's disruption controller would do to a cluster: the commands (emptiness, drift,
/// multi- and single-node consolidation, expiration), the nodes it kept and why, and the cost
/// before and after. Immutable; pickles; equal when the content is. `str(result)` is the CLI's report.
#[pyclass(frozen, name = "ConsolidationResult", module = "karpsim")]
pub struct PyConsolidationResult {
    pub result: Arc<DisruptionResult>,
}

impl PyConsolidationResult {
    fn end(&self) -> PyResult<&EndState> {
        self.result
            .end_state
            .as_ref()
            .ok_or_else(|| PyValueError::new_err("this result has no end state: consolidate(..., until_stable=True) computes one"))
    }
}

/// A serialised enum's name (`multi-node`, `replace`), as in the JSON output.
fn name_of<T: serde::Serialize>(v: &T) -> String {
    match serde_json::to_value(v) {
        Ok(serde_json::Value::String(s)) => s,
        _ => String::from("?"),
    }
}

#[pymethods]
impl PyConsolidationResult {
    /// Rebuild from `to_json()` output (also how pickles load); anything else raises `KarpsimError`.
    #[staticmethod]
    fn _from_json(data: &[u8]) -> PyResult<PyConsolidationResult> {
        Ok(PyConsolidationResult { result: Arc::new(from_state(data, "consolidation result")?) })
    }

    fn __reduce__<'py>(slf: &Bound<'py, Self>) -> PyResult<Bound<'py, PyTuple>> {
        reduce_with::<PyConsolidationResult>(slf.py(), "_from_json", &json_text(&*slf.get().result, None)?)
    }

    fn __eq__(&self, other: &Bound<'_, PyAny>) -> bool {
        other.cast::<PyConsolidationResult>().is_ok_and(|o| *o.get().result == *self.result)
    }

    /// The disruption commands, in order, as dicts: method (`emptiness`, `drift`, `multi-node`,
    /// `single-node`, `expiration`), action (`delete`/`replace`), nodes, replacements, pods (moves),
    /// price_before, price_after, savings_per_hour (USD per hour), reason.
    #[getter]
    fn commands<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_py(py, &self.result.commands)
    }

    /// Nodes looked at and kept, as dicts `{"node": ..., "reason": ...}` (`kept_frame()` as a table).
    #[getter]
    fn kept<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_py(py, &self.result.kept)
    }

    /// Cost of the cluster's nodes before disruption, USD per hour.
    #[getter]
    fn cost_per_hour_before(&self) -> f64 {
        self.result.cost_per_hour_before
    }

    /// Cost after the commands, USD per hour.
    #[getter]
    fn cost_per_hour_after(&self) -> f64 {
        self.result.cost_per_hour_after
    }

    /// `cost_per_hour_before - cost_per_hour_after`, USD per hour.
    #[getter]
    fn savings_per_hour(&self) -> f64 {
        self.result.cost_per_hour_before - self.result.cost_per_hour_after
    }

    /// Rounds run (1 for a single round).
    #[getter]
    fn rounds(&self) -> usize {
        self.result.rounds
    }

    /// The simulated time of the first round (seconds since the epoch).
    #[getter]
    fn now(&self) -> i64 {
        self.result.now
    }

    /// With `until_stable=True`: the nodes and pending pods at the end, as a dict
    /// `{"nodes": [...], "pending": [...]}`; otherwise None (`end_state_frame()` as a table).
    #[getter]
    fn end_state<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_py(py, &self.result.end_state)
    }

    /// Warnings from loading and disruption, one line each (also emitted as `KarpsimWarning`).
    #[getter]
    fn warnings(&self) -> Vec<String> {
        self.result.warnings.clone()
    }

    /// The result as JSON text (`karpsim consolidate --output json`); `indent`: 0 to 16 spaces.
    #[pyo3(signature = (indent=None))]
    fn to_json(&self, indent: Option<usize>) -> PyResult<String> {
        json_text(&*self.result, indent)
    }

    /// The result as plain Python objects (dicts and lists).
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_py(py, &*self.result)
    }

    /// Columns of the commands table (see `to_pandas`).
    fn _command_columns<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let cs = &self.result.commands;
        let d = PyDict::new(py);
        d.set_item("command", (1..=cs.len()).collect::<Vec<_>>())?;
        d.set_item("method", cs.iter().map(|c| name_of(&c.method)).collect::<Vec<_>>())?;
        d.set_item("action", cs.iter().map(|c| name_of(&c.action)).collect::<Vec<_>>())?;
        d.set_item("nodes", cs.iter().map(|c| c.nodes.clone()).collect::<Vec<_>>())?;
        d.set_item(
            "replacements",
            cs.iter().map(|c| c.replacements.iter().map(|r| r.instance_type.clone()).collect::<Vec<_>>()).collect::<Vec<_>>(),
        )?;
        d.set_item("pods_moved", cs.iter().map(|c| c.pods.len()).collect::<Vec<_>>())?;
        d.set_item("price_before_usd_per_hour", cs.iter().map(|c| c.price_before).collect::<Vec<_>>())?;
        d.set_item("price_after_usd_per_hour", cs.iter().map(|c| c.price_after).collect::<Vec<_>>())?;
        d.set_item("savings_usd_per_hour", cs.iter().map(|c| c.savings_per_hour).collect::<Vec<_>>())?;
        d.set_item("reason", cs.iter().map(|c| c.reason.as_str()).collect::<Vec<_>>())?;
        Ok(d)
    }

    /// The commands as a pandas DataFrame indexed by `command` (1, 2, ... as the CLI numbers them):
    /// method, action, nodes (a list), replacements (a list of instance types), pods_moved,
    /// price_before_usd_per_hour, price_after_usd_per_hour, savings_usd_per_hour, reason.
    fn to_pandas<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        frames(py, "indexed", (self._command_columns(py)?, "command"))
    }

    /// One row per pod move, indexed by (`command`, `pod`): `to` is an existing node, `replacement-N`
    /// (the command's N-th replacement) or `pending`.
    fn moves_frame<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let (mut command, mut pod, mut to) = (Vec::new(), Vec::new(), Vec::new());
        for (i, c) in self.result.commands.iter().enumerate() {
            for m in &c.pods {
                command.push(i + 1);
                pod.push(m.pod.as_str());
                to.push(m.to.as_str());
            }
        }
        let d = PyDict::new(py);
        d.set_item("command", command)?;
        d.set_item("pod", pod)?;
        d.set_item("to", to)?;
        frames(py, "indexed", (d, vec!["command", "pod"]))
    }

    /// The nodes disruption looked at and kept, indexed by `node`, with the reason.
    fn kept_frame<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let kept = &self.result.kept;
        let d = PyDict::new(py);
        d.set_item("node", kept.iter().map(|k| k.node.as_str()).collect::<Vec<_>>())?;
        d.set_item("reason", kept.iter().map(|k| k.reason.as_str()).collect::<Vec<_>>())?;
        frames(py, "indexed", (d, "node"))
    }

    /// With `until_stable=True`: the nodes at the end, indexed by `node`: nodepool, instance_type,
    /// zone, capacity_type (None for nodes Karpenter does not manage), price_usd_per_hour, pods.
    /// Raises `ValueError` for a one-round result.
    fn end_state_frame<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let nodes = &self.end()?.nodes;
        let d = PyDict::new(py);
        d.set_item("node", nodes.iter().map(|n| n.name.as_str()).collect::<Vec<_>>())?;
        d.set_item("nodepool", nodes.iter().map(|n| n.nodepool.as_deref()).collect::<Vec<_>>())?;
        d.set_item("instance_type", nodes.iter().map(|n| n.instance_type.as_deref()).collect::<Vec<_>>())?;
        d.set_item("zone", nodes.iter().map(|n| n.zone.as_deref()).collect::<Vec<_>>())?;
        d.set_item("capacity_type", nodes.iter().map(|n| n.capacity_type.as_deref()).collect::<Vec<_>>())?;
        d.set_item("price_usd_per_hour", nodes.iter().map(|n| n.price_per_hour).collect::<Vec<_>>())?;
        d.set_item("pods", nodes.iter().map(|n| n.pods).collect::<Vec<_>>())?;
        frames(py, "indexed", (d, "node"))
    }

    /// With `until_stable=True`: the pods pending at the end, indexed by `pod`, with the reason.
    /// Raises `ValueError` for a one-round result.
    fn pending_frame<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let pending = &self.end()?.pending;
        let d = PyDict::new(py);
        d.set_item("pod", pending.iter().map(|u| u.pod.as_str()).collect::<Vec<_>>())?;
        d.set_item("reason", pending.iter().map(|u| u.reason.as_str()).collect::<Vec<_>>())?;
        frames(py, "indexed", (d, "pod"))
    }

    /// `to_pandas()` as a polars DataFrame (the index becomes the first column); needs polars.
    fn to_polars<'py>(slf: &Bound<'py, Self>) -> PyResult<Bound<'py, PyAny>> {
        frames(slf.py(), "to_polars", (slf.call_method0("to_pandas")?,))
    }

    fn _repr_html_<'py>(slf: &Bound<'py, Self>) -> PyResult<Bound<'py, PyAny>> {
        html(slf.py(), "consolidation_html", (slf,))
    }

    /// The CLI's report: commands, kept nodes, costs, the end state, then the warnings.
    fn __str__(&self) -> String {
        with_warnings(karpsim_cli::consolidate_cmd::render_table(&self.result), &self.result.warnings)
    }

    fn __repr__(&self) -> String {
        let r = &self.result;
        format!(
            "<karpsim.ConsolidationResult commands={} rounds={} cost_per_hour {:.4} -> {:.4} (saves {:.4}/h) warnings={}>",
            r.commands.len(),
            r.rounds,
            r.cost_per_hour_before,
            r.cost_per_hour_after,
            r.cost_per_hour_before - r.cost_per_hour_after,
            r.warnings.len()
        )
    }
}

/// The `max_rounds` argument of a call that runs until stable (`applies`; else it names `with_what`,
/// what it needs): a positive count, or `None` for the default that follows the cluster.
pub(crate) fn max_rounds_arg(max_rounds: Option<i64>, applies: bool, with_what: &str) -> PyResult<Option<usize>> {
    match max_rounds {
        None => Ok(None),
        Some(_) if !applies => Err(input_error("max_rounds", format!("applies with {with_what} only"))),
        Some(n) if n < 1 => Err(input_error("max_rounds", format!("{n}: expected a positive number of rounds"))),
        Some(n) => Ok(Some(usize::try_from(n).unwrap_or(usize::MAX))),
    }
}

/// What Karpenter's disruption controller would do next to the cluster (releases the GIL). The
/// result's warnings are also emitted as `karpsim.KarpsimWarning`.
///
/// One round by default (forced expirations plus the first method that acts); with
/// `until_stable=True`, rounds are applied until no method acts and `end_state` is set.
/// `now`: the simulated time, a `datetime` (naive means UTC), an RFC 3339 string or Unix seconds
/// (default: the latest timestamp in the input). `spot_to_spot`: the SpotToSpotConsolidation
/// feature gate (default: the cluster's setting, off unless `with_changes(spot_to_spot=True)`).
/// `candidate_order` is `"savings-ratio"` (Karpenter v1.14) or `"disruption-cost"` (v1.0–v1.13).
/// `max_rounds` (with `until_stable=True`): stop after this many rounds even if methods still act,
/// with a warning that the end state is partial (default: 2 x the cluster's nodes + 1,000).
#[pyfunction]
#[pyo3(signature = (cluster, *, until_stable=false, now=None, spot_to_spot=None, candidate_order="savings-ratio", max_rounds=None))]
pub fn consolidate(
    py: Python<'_>,
    cluster: PyRef<'_, PyCluster>,
    until_stable: bool,
    now: Option<&Bound<'_, PyAny>>,
    spot_to_spot: Option<bool>,
    candidate_order: &str,
    max_rounds: Option<i64>,
) -> PyResult<PyConsolidationResult> {
    let max_rounds = max_rounds_arg(max_rounds, until_stable, "until_stable=True")?;
    let order = match candidate_order {
        "savings-ratio" => CandidateOrder::SavingsRatio,
        "disruption-cost" => CandidateOrder::DisruptionCost,
        other => return Err(input_error("candidate_order", format!("{other:?}: expected \"savings-ratio\" or \"disruption-cost\""))),
    };
    let now = now.filter(|n| !n.is_none()).map(|n| timestamp(n, "now")).transpose()?;
    let opts = DisruptionOptions {
        now,
        candidate_order: order,
        spot_to_spot: spot_to_spot.unwrap_or(cluster.disruption.spot_to_spot),
        max_rounds: max_rounds.or(cluster.disruption.max_rounds),
        ..cluster.disruption.clone()
    };
    let state = Arc::clone(&cluster.state);
    let stable = until_stable;
    let result = run_detached(py, move || Ok(if stable { self::until_stable(&state, &opts) } else { disrupt_once(&state, &opts) }))?;
    warn_all(py, &result.warnings)?;
    Ok(PyConsolidationResult { result: Arc::new(result) })
}
