//! `karpsim.Scenario`, `karpsim.simulate`, `karpsim.SimResult` and the rayon side of
//! `karpsim.compare` (the executor side lives in `python/karpsim/sweep.py`).

use crate::convert::from_value;
use crate::detach::run_detached;
use crate::disrupt::json_to_string;
use crate::errors::{KarpsimError, input_error};
use karpsim::sim::whatif::{self, ComparisonRow, Variant};
use karpsim::WorkLimits;
use karpsim::sim::{Scenario, SimOptions, SimResult, simulate as core_simulate};
use numpy::{IntoPyArray, PyArray1};
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyDict, PyList, PyString, PyTuple};
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Where a scenario came from, so that it can be re-loaded when unpickled.
#[derive(Clone, serde::Serialize, serde::Deserialize)]
enum Source {
    Path(PathBuf),
    Text { text: String, base_dir: PathBuf },
}

/// A scenario for the time-based simulator: the cluster at the start, workloads, settings and seed.
/// Immutable: `with_changes`, `vary`, `with_seed` and `with_duration` return new scenarios.
/// Pickles by its source (path, or text and base directory) plus the changes applied.
#[pyclass(frozen, name = "Scenario", module = "karpsim")]
pub struct PyScenario {
    pub sc: Arc<Scenario>,
    pub opts: SimOptions,
    source: Source,
    variants: Vec<Variant>,
    seed: Option<u64>,
    duration: Option<f64>,
}

/// `48h`, `30m`, `2d`, `90s`, `1h30m`, or a number of hours.
pub fn parse_duration(field: &str, v: &Bound<'_, PyAny>) -> PyResult<f64> {
    let secs = if let Ok(s) = v.cast::<PyString>() {
        let s = s.to_str()?.trim().to_string();
        let bad = || {
            input_error(
                field,
                format!(
                    "{s:?}: expected a duration such as 48h, 90m, 2d, 1h30m or a number of hours"
                ),
            )
        };
        if let Ok(h) = s.parse::<f64>() {
            h * 3600.0
        } else {
            let mut total = 0.0;
            let mut num = String::new();
            for ch in s.chars() {
                if ch.is_ascii_digit() || ch == '.' {
                    num.push(ch);
                } else {
                    let unit = match ch {
                        'd' => 86_400.0,
                        'h' => 3_600.0,
                        'm' => 60.0,
                        's' => 1.0,
                        _ => return Err(bad()),
                    };
                    let n: f64 = num.parse().map_err(|_| bad())?;
                    total += n * unit;
                    num.clear();
                }
            }
            if !num.is_empty() {
                return Err(bad());
            }
            total
        }
    } else {
        let h: f64 = v.extract().map_err(|_| {
            input_error(
                field,
                "expected a duration string (48h) or a number of hours",
            )
        })?;
        h * 3600.0
    };
    if !(secs.is_finite() && secs > 0.0 && secs <= 400.0 * 86_400.0) {
        return Err(input_error(field, "must be between 1s and 400 days"));
    }
    Ok(secs)
}

/// A change's value as the what-if key expects it: bools as true/false, lists joined with `+`.
fn change_value(v: &Bound<'_, PyAny>) -> PyResult<String> {
    if let Ok(b) = v.cast::<PyBool>() {
        return Ok(if b.is_true() { "true" } else { "false" }.to_string());
    }
    if let Ok(s) = v.cast::<PyString>() {
        return Ok(s.to_str()?.to_string());
    }
    if v.cast::<PyList>().is_ok() || v.cast::<PyTuple>().is_ok() {
        let parts = v
            .try_iter()?
            .map(|x| change_value(&x?))
            .collect::<PyResult<Vec<_>>>()?;
        return Ok(parts.join("+"));
    }
    Ok(v.str()?.to_str()?.to_string())
}

/// Changes from a mapping (`{"capacity_types": "spot"}`) or a sequence of `(key, value)` pairs.
pub fn changes_from(obj: &Bound<'_, PyAny>) -> PyResult<Vec<(String, String)>> {
    let pairs: Vec<Bound<'_, PyAny>> = if let Ok(d) = obj.cast::<PyDict>() {
        d.items().iter().collect()
    } else {
        obj.try_iter()?.collect::<PyResult<_>>()?
    };
    pairs
        .iter()
        .map(|p| {
            let (k, v): (String, Bound<'_, PyAny>) = p
                .extract()
                .map_err(|_| input_error("changes", "expected a dict or (key, value) pairs"))?;
            Ok((k, change_value(&v)?))
        })
        .collect()
}

fn default_name(changes: &[(String, String)]) -> String {
    changes
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join(",")
}

fn load_source(source: &Source, limits: WorkLimits) -> karpsim::Result<Scenario> {
    match source {
        Source::Path(p) => Scenario::load_with(p, limits),
        Source::Text { text, base_dir } => Scenario::from_str_with(text, &base_dir.join("<string>"), limits),
    }
}

fn absolute(p: &Path) -> PathBuf {
    std::path::absolute(p).unwrap_or_else(|_| p.to_path_buf())
}

impl PyScenario {
    /// Build from a source and the changes to re-apply (the one constructor, also for unpickling).
    fn build(
        py: Python<'_>,
        source: Source,
        variants: Vec<Variant>,
        seed: Option<u64>,
        duration: Option<f64>,
        limits: WorkLimits,
    ) -> PyResult<PyScenario> {
        let src = source.clone();
        let vs = variants.clone();
        let (sc, opts) = run_detached(py, move || {
            let mut sc = load_source(&src, limits)?;
            let mut opts = SimOptions::default();
            for v in &vs {
                (sc, opts) = whatif::apply(&sc, &opts, v)?;
            }
            Ok((sc, opts))
        })?;
        Ok(PyScenario::finish(
            sc, opts, source, variants, seed, duration,
        ))
    }

    fn finish(
        mut sc: Scenario,
        opts: SimOptions,
        source: Source,
        variants: Vec<Variant>,
        seed: Option<u64>,
        duration: Option<f64>,
    ) -> PyScenario {
        if let Some(s) = seed {
            sc.seed = s;
        }
        if let Some(d) = duration {
            sc.duration = d;
        }
        PyScenario {
            sc: Arc::new(sc),
            opts,
            source,
            variants,
            seed,
            duration,
        }
    }

    fn derive(
        &self,
        sc: Scenario,
        opts: SimOptions,
        variants: Vec<Variant>,
        seed: Option<u64>,
        duration: Option<f64>,
    ) -> PyScenario {
        PyScenario::finish(sc, opts, self.source.clone(), variants, seed, duration)
    }

    fn with_variant(&self, py: Python<'_>, v: Variant) -> PyResult<PyScenario> {
        let base = Arc::clone(&self.sc);
        let opts = self.opts.clone();
        let vv = v.clone();
        let (sc, opts) = run_detached(py, move || whatif::apply(&base, &opts, &vv))?;
        let mut variants = self.variants.clone();
        // A seed change is remembered as the seed (so that it survives a later with_seed).
        let seed = v
            .changes
            .iter()
            .rev()
            .find(|(k, _)| k == "seed")
            .and_then(|(_, s)| s.parse().ok())
            .or(self.seed);
        variants.push(v);
        Ok(self.derive(sc, opts, variants, seed, self.duration))
    }
}

#[pymethods]
impl PyScenario {
    /// Load a scenario file (YAML); manifest and trace paths are relative to it. `max_pods`
    /// bounds the pods of the manifests and the pods a run may hold at once (default 1,000,000):
    /// more is an `InputError` naming the workload.
    #[staticmethod]
    #[pyo3(signature = (path, *, max_pods=None))]
    fn load(py: Python<'_>, path: PathBuf, max_pods: Option<usize>) -> PyResult<PyScenario> {
        let limits = crate::errors::work_limits(max_pods)?;
        PyScenario::build(py, Source::Path(absolute(&path)), Vec::new(), None, None, limits)
    }

    /// A scenario from YAML text; manifest and trace paths are relative to `base_dir`; `max_pods`
    /// as in `load`.
    #[staticmethod]
    #[pyo3(signature = (text, base_dir=PathBuf::from("."), *, max_pods=None))]
    fn from_yaml(py: Python<'_>, text: String, base_dir: PathBuf, max_pods: Option<usize>) -> PyResult<PyScenario> {
        let limits = crate::errors::work_limits(max_pods)?;
        PyScenario::build(
            py,
            Source::Text {
                text,
                base_dir: absolute(&base_dir),
            },
            Vec::new(),
            None,
            None,
            limits,
        )
    }

    /// Rebuild from `__reduce__`'s state (a JSON document).
    #[staticmethod]
    fn _from_state(py: Python<'_>, state: &[u8]) -> PyResult<PyScenario> {
        let v: Value = serde_json::from_slice(state)
            .map_err(|e| KarpsimError::new_err(format!("not a scenario state: {e}")))?;
        let source: Source = serde_json::from_value(v["source"].clone())
            .map_err(|e| KarpsimError::new_err(format!("not a scenario state: {e}")))?;
        let variants: Vec<Variant> = serde_json::from_value(v["variants"].clone())
            .map_err(|e| KarpsimError::new_err(format!("not a scenario state: {e}")))?;
        PyScenario::build(
            py,
            source,
            variants,
            v["seed"].as_u64(),
            v["duration"].as_f64(),
            v["max_pods"].as_u64().map_or_else(WorkLimits::default, |n| WorkLimits::new(n as usize)),
        )
    }

    fn __reduce__<'py>(slf: &Bound<'py, Self>) -> PyResult<Bound<'py, PyTuple>> {
        let py = slf.py();
        let me = slf.get();
        let state = json!({
            "source": serde_json::to_value(&me.source).map_err(|e| KarpsimError::new_err(e.to_string()))?,
            "variants": serde_json::to_value(&me.variants).map_err(|e| KarpsimError::new_err(e.to_string()))?,
            "seed": me.seed,
            "duration": me.duration,
            "max_pods": me.sc.limits.max_pods,
        });
        crate::convert::reduce_with::<PyScenario>(py, "_from_state", &state.to_string())
    }

    /// The scenario's name (with the names of the variants applied, in brackets).
    #[getter]
    fn name(&self) -> String {
        self.sc.name.clone()
    }

    /// The random seed.
    #[getter]
    fn seed(&self) -> u64 {
        self.sc.seed
    }

    /// The simulated duration in hours.
    #[getter]
    fn duration_hours(&self) -> f64 {
        self.sc.duration / 3600.0
    }

    /// The changes applied so far, as `(key, value)` pairs in order.
    #[getter]
    fn changes(&self) -> Vec<(String, String)> {
        self.variants
            .iter()
            .flat_map(|v| v.changes.iter().cloned())
            .collect()
    }

    /// NodePool names at the start.
    #[getter]
    fn nodepools(&self) -> Vec<String> {
        self.sc
            .base
            .nodepools
            .iter()
            .map(|p| p.name.to_string())
            .collect()
    }

    /// Workload names.
    #[getter]
    fn workloads(&self) -> Vec<String> {
        self.sc
            .workloads
            .iter()
            .map(|w| w.name().to_string())
            .collect()
    }

    /// A new scenario with what-if changes applied, e.g.
    /// `with_changes(capacity_types="spot", max_pods=58, arch=["amd64", "arm64"])`.
    /// Keys are those of `karpsim.vary_keys()`; lists are joined with `+`, bools become true/false.
    #[pyo3(signature = (**changes))]
    fn with_changes(
        &self,
        py: Python<'_>,
        changes: Option<&Bound<'_, PyDict>>,
    ) -> PyResult<PyScenario> {
        let changes = match changes {
            Some(d) => changes_from(d.as_any())?,
            None => Vec::new(),
        };
        let name = default_name(&changes);
        self.with_variant(py, Variant { name, changes })
    }

    /// Like `with_changes`, with the changes as a dict (or `(key, value)` pairs) and an optional
    /// variant name (default `key=value,...`).
    #[pyo3(signature = (changes, *, name=None))]
    fn vary(
        &self,
        py: Python<'_>,
        changes: &Bound<'_, PyAny>,
        name: Option<String>,
    ) -> PyResult<PyScenario> {
        let changes = changes_from(changes)?;
        let name = name.unwrap_or_else(|| default_name(&changes));
        self.with_variant(py, Variant { name, changes })
    }

    /// A new scenario with another random seed.
    fn with_seed(&self, seed: u64) -> PyScenario {
        self.derive(
            (*self.sc).clone(),
            self.opts.clone(),
            self.variants.clone(),
            Some(seed),
            self.duration,
        )
    }

    /// A new scenario with another duration (`"48h"`, `"90m"`, `"2d"` or a number of hours).
    fn with_duration(&self, duration: &Bound<'_, PyAny>) -> PyResult<PyScenario> {
        let d = parse_duration("duration", duration)?;
        Ok(self.derive(
            (*self.sc).clone(),
            self.opts.clone(),
            self.variants.clone(),
            self.seed,
            Some(d),
        ))
    }

    fn __repr__(&self) -> String {
        format!(
            "<karpsim.Scenario name={:?} seed={} duration_hours={} nodepools=[{}] workloads={}>",
            self.sc.name,
            self.sc.seed,
            self.sc.duration / 3600.0,
            self.nodepools().join(", "),
            self.sc.workloads.len()
        )
    }
}

/// The result of one simulation run. Holds the core's JSON result and the summary row, so it
/// pickles exactly; time series come out as numpy arrays.
#[pyclass(frozen, name = "SimResult", module = "karpsim")]
pub struct PySimResult {
    json: Arc<Value>,
}

fn to_json<T: serde::Serialize>(v: &T) -> karpsim::Result<Value> {
    serde_json::to_value(v).map_err(|e| karpsim::Error::Io {
        path: "<result>".into(),
        message: e.to_string(),
    })
}

impl PySimResult {
    pub fn from_result(r: &SimResult, row: &ComparisonRow) -> karpsim::Result<PySimResult> {
        Ok(PySimResult {
            json: Arc::new(json!({"result": to_json(r)?, "summary": to_json(row)?})),
        })
    }
    fn result(&self) -> &Value {
        &self.json["result"]
    }
    fn metrics(&self) -> &Value {
        &self.json["result"]["metrics"]
    }
}

/// A JSON array of numbers as floats (null, i.e. a non-finite value, becomes NaN).
fn floats(v: &Value) -> Vec<f64> {
    v.as_array()
        .map(|a| a.iter().map(|x| x.as_f64().unwrap_or(f64::NAN)).collect())
        .unwrap_or_default()
}

fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .map(|a| {
            a.iter()
                .map(|x| x.as_str().unwrap_or_default().to_string())
                .collect()
        })
        .unwrap_or_default()
}

#[pymethods]
impl PySimResult {
    /// Rebuild from `to_json()` output (used by pickling).
    #[staticmethod]
    fn _from_json(data: &[u8]) -> PyResult<PySimResult> {
        let json = crate::convert::result_state(data, "simulation result", |v| v.get("result").and_then(|r| r.get("metrics")).is_some())?;
        Ok(PySimResult { json })
    }

    fn __reduce__<'py>(slf: &Bound<'py, Self>) -> PyResult<Bound<'py, PyTuple>> {
        crate::convert::reduce_with::<PySimResult>(slf.py(), "_from_json", &slf.get().json.to_string())
    }

    /// The scenario's name.
    #[getter]
    fn scenario(&self) -> String {
        self.result()["scenario"]
            .as_str()
            .unwrap_or_default()
            .to_string()
    }

    /// The seed the run used.
    #[getter]
    fn seed(&self) -> u64 {
        self.result()["seed"].as_u64().unwrap_or(0)
    }

    /// The simulated duration in hours.
    #[getter]
    fn duration_hours(&self) -> f64 {
        self.result()["duration_h"].as_f64().unwrap_or(f64::NAN)
    }

    /// Total node cost over the run, USD.
    #[getter]
    fn total_cost(&self) -> f64 {
        self.result()["total_cost"].as_f64().unwrap_or(f64::NAN)
    }

    /// Σ over nodes of price × billed lifetime (USD); equals the last `cumulative_cost`.
    #[getter]
    fn node_cost_total(&self) -> f64 {
        self.metrics()["node_cost_total"]
            .as_f64()
            .unwrap_or(f64::NAN)
    }

    /// Disruption commands executed, by method.
    #[getter]
    fn disruptions(&self) -> std::collections::BTreeMap<String, u64> {
        self.metrics()["disruptions"]
            .as_object()
            .map(|m| {
                m.iter()
                    .map(|(k, v)| (k.clone(), v.as_u64().unwrap_or(0)))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Pods still pending at the end, as `(pod, reason)` pairs.
    #[getter]
    fn pending_at_end(&self) -> Vec<(String, String)> {
        serde_json::from_value(self.result()["pending_at_end"].clone()).unwrap_or_default()
    }

    /// Warnings from loading and the run, one line each.
    #[getter]
    fn warnings(&self) -> Vec<String> {
        strings(&self.result()["warnings"])
    }

    /// The comparison-table row of this run (the same columns as `karpsim.compare`).
    fn summary<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        from_value(py, &self.json["summary"])
    }

    /// The time series as numpy float64 arrays of equal length: time_h (hours since the start),
    /// cost_per_hour (and by capacity type), cumulative_cost, nodes, pods_running, pods_pending,
    /// cpu_requested, cpu_allocatable (cores), memory_requested_gib, memory_allocatable_gib.
    fn series<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let s = &self.metrics()["series"];
        let d = PyDict::new(py);
        for name in karpsim::sim::Series::names() {
            d.set_item(*name, floats(&s[*name]).into_pyarray(py))?;
        }
        Ok(d)
    }

    /// Node counts by `"nodepool"`, `"instance_type"` or `"capacity_type"`, in long form:
    /// `{"time_h": ndarray, "key": list[str], "count": ndarray}`.
    fn _breakdown<'py>(&self, py: Python<'py>, kind: &str) -> PyResult<Bound<'py, PyDict>> {
        let field = match kind {
            "nodepool" => "nodes_by_nodepool",
            "instance_type" => "nodes_by_instance_type",
            "capacity_type" => "nodes_by_capacity_type",
            other => {
                return Err(input_error(
                    "kind",
                    format!(
                        "{other:?}: expected \"nodepool\", \"instance_type\" or \"capacity_type\""
                    ),
                ));
            }
        };
        let b = &self.metrics()[field];
        let d = PyDict::new(py);
        d.set_item("time_h", floats(&b["time_h"]).into_pyarray(py))?;
        d.set_item("key", strings(&b["key"]))?;
        d.set_item("count", floats(&b["count"]).into_pyarray(py))?;
        Ok(d)
    }

    /// Seconds from a pod becoming pending to being bound, one entry per pod binding (numpy float64).
    fn pod_wait_seconds<'py>(&self, py: Python<'py>) -> Bound<'py, PyArray1<f64>> {
        floats(&self.metrics()["pod_wait_seconds"]).into_pyarray(py)
    }

    /// The event log as columns `{"time_h": ndarray, "kind": list[str], "message": list[str]}`.
    fn _log_columns<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let log = self.result()["log"]
            .as_array()
            .map(Vec::as_slice)
            .unwrap_or(&[]);
        let d = PyDict::new(py);
        d.set_item(
            "time_h",
            log.iter()
                .map(|e| e["t"].as_f64().unwrap_or(f64::NAN) / 3600.0)
                .collect::<Vec<_>>()
                .into_pyarray(py),
        )?;
        d.set_item(
            "kind",
            log.iter()
                .map(|e| e["kind"].as_str().unwrap_or_default())
                .collect::<Vec<_>>(),
        )?;
        d.set_item(
            "message",
            log.iter()
                .map(|e| e["message"].as_str().unwrap_or_default())
                .collect::<Vec<_>>(),
        )?;
        Ok(d)
    }

    /// The time series as a pandas DataFrame indexed by `time_h` (hours since the start).
    fn to_pandas<'py>(slf: &Bound<'py, Self>) -> PyResult<Bound<'py, PyAny>> {
        slf.py()
            .import("karpsim._frames")?
            .call_method1("series_frame", (slf,))
    }

    /// Node counts over time by `"nodepool"`, `"instance_type"` or `"capacity_type"`: pivoted
    /// (index time_h, one column per key, zeros filled) or, with `pivot=False`, long form.
    #[pyo3(signature = (kind="instance_type", *, pivot=true))]
    fn nodes_by<'py>(
        slf: &Bound<'py, Self>,
        kind: &str,
        pivot: bool,
    ) -> PyResult<Bound<'py, PyAny>> {
        slf.py()
            .import("karpsim._frames")?
            .call_method1("breakdown_frame", (slf, kind, pivot))
    }

    /// The event log as a pandas DataFrame: time_h, kind, message.
    fn events<'py>(slf: &Bound<'py, Self>) -> PyResult<Bound<'py, PyAny>> {
        slf.py()
            .import("karpsim._frames")?
            .call_method1("events_frame", (slf,))
    }

    /// The result as JSON text: `{"result": <the core's result>, "summary": <summary row>}`.
    #[pyo3(signature = (indent=None))]
    fn to_json(&self, indent: Option<usize>) -> PyResult<String> {
        json_to_string(&self.json, indent)
    }

    fn _repr_html_<'py>(slf: &Bound<'py, Self>) -> PyResult<Bound<'py, PyAny>> {
        slf.py()
            .import("karpsim._frames")?
            .call_method1("sim_html", (slf,))
    }

    fn __repr__(&self) -> String {
        let s = &self.json["summary"];
        format!(
            "<karpsim.SimResult scenario={:?} seed={} hours={} total_cost={:.2} mean_nodes={:.1} pod_wait_p95_s={:.0}>",
            self.scenario(),
            self.seed(),
            self.duration_hours(),
            self.total_cost(),
            s["mean_nodes"].as_f64().unwrap_or(f64::NAN),
            s["pod_wait_p95_s"].as_f64().unwrap_or(f64::NAN)
        )
    }
}

/// Run the time-based simulation of a scenario (releases the GIL). `seed` and `duration`
/// (`"48h"`, or hours) override the scenario's. For a progress bar use `karpsim.simulate`.
#[pyfunction]
#[pyo3(signature = (scenario, *, seed=None, duration=None))]
pub fn _simulate(
    py: Python<'_>,
    scenario: PyRef<'_, PyScenario>,
    seed: Option<u64>,
    duration: Option<&Bound<'_, PyAny>>,
) -> PyResult<PySimResult> {
    let duration = duration
        .filter(|d| !d.is_none())
        .map(|d| parse_duration("duration", d))
        .transpose()?;
    let base = Arc::clone(&scenario.sc);
    let opts = scenario.opts.clone();
    run_detached(py, move || {
        let result = if seed.is_some() || duration.is_some() {
            let mut sc = (*base).clone();
            if let Some(s) = seed {
                sc.seed = s;
            }
            if let Some(d) = duration {
                sc.duration = d;
            }
            core_simulate(&sc, &opts)?
        } else {
            core_simulate(&base, &opts)?
        };
        let row = whatif::summarize(&result.scenario, &result);
        PySimResult::from_result(&result, &row)
    })
}

/// Run (variant, seed) pairs on the rayon pool in one call (releases the GIL). `variants` is a
/// list of `(name, [(key, value), ...])`. Returns one summary dict per pair, variants outer,
/// seeds inner, in input order.
#[pyfunction]
pub fn _compare<'py>(
    py: Python<'py>,
    base: PyRef<'_, PyScenario>,
    variants: Vec<(String, Vec<(String, String)>)>,
    seeds: Vec<u64>,
) -> PyResult<Bound<'py, PyAny>> {
    let sc = Arc::clone(&base.sc);
    let opts = base.opts.clone();
    let variants: Vec<Variant> = variants
        .into_iter()
        .map(|(name, changes)| Variant { name, changes })
        .collect();
    let rows = run_detached(py, move || {
        let rows = whatif::compare(&sc, &opts, &variants, &seeds)?;
        to_json(&rows)
    })?;
    from_value(py, &rows)
}

/// Run one (variant, seed) pair: exactly what `_compare` does for one job. Returns the summary dict.
#[pyfunction]
pub fn _run_variant<'py>(
    py: Python<'py>,
    base: PyRef<'_, PyScenario>,
    name: String,
    changes: Vec<(String, String)>,
    seed: u64,
) -> PyResult<Bound<'py, PyAny>> {
    let sc = Arc::clone(&base.sc);
    let opts = base.opts.clone();
    let row = run_detached(py, move || {
        let rows = whatif::compare(&sc, &opts, &[Variant { name, changes }], &[seed])?;
        to_json(&rows[0])
    })?;
    from_value(py, &row)
}

/// Check a variant's changes without running it (raises `InputError` on an unknown key or value).
#[pyfunction]
pub fn _check_changes(
    py: Python<'_>,
    base: PyRef<'_, PyScenario>,
    changes: Vec<(String, String)>,
) -> PyResult<()> {
    let sc = Arc::clone(&base.sc);
    let opts = base.opts.clone();
    run_detached(py, move || {
        whatif::apply(
            &sc,
            &opts,
            &Variant {
                name: String::new(),
                changes,
            },
        )
        .map(|_| ())
    })
}

/// Parse `KEY=V1,V2,...` into `(name, [(key, value)])` variants, one per value.
#[pyfunction]
#[allow(clippy::type_complexity)]
pub fn _parse_vary(spec: &str) -> PyResult<Vec<(String, Vec<(String, String)>)>> {
    let vs = whatif::parse_vary(spec).map_err(crate::errors::to_py)?;
    Ok(vs.into_iter().map(|v| (v.name, v.changes)).collect())
}

/// The keys a variant may change, with what each does.
#[pyfunction]
pub fn vary_keys() -> Vec<(&'static str, &'static str)> {
    whatif::KEYS.to_vec()
}

/// Mean and 95% confidence half-width (normal approximation) of the values.
#[pyfunction]
pub fn _mean_ci(values: Vec<f64>) -> (f64, f64) {
    whatif::mean_ci(&values)
}

/// Normalise what-if changes (a dict or `(key, value)` pairs) to `(key, value-as-string)` pairs:
/// bools as true/false, lists joined with `+`.
#[pyfunction]
pub fn _changes(changes: &Bound<'_, PyAny>) -> PyResult<Vec<(String, String)>> {
    changes_from(changes)
}
