//! `karpsim.SimResult` and `_simulate` (`karpsim.simulate` adds the progress bar in Python).

use crate::convert::{duration, frames, from_state, html, json_text, reduce_with, to_py};
use crate::detach::run_detached;
use crate::errors::{input_error, warn_all};
use crate::provision::with_warnings;
use crate::scenario::PyScenario;
use karpsim::sim::whatif::{ComparisonRow, summarize};
use karpsim::sim::{Breakdown, Series, SimResult, simulate_with_progress};
use numpy::{IntoPyArray, PyArray1};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyTuple};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

/// The series as Python sees them: the core's name and the name with its unit (one unit per
/// quantity across the package: USD, cores, GiB, counts).
const SERIES: [(&str, &str); 13] = [
    ("time_h", "time_h"),
    ("cost_per_hour", "cost_usd_per_hour"),
    ("cost_per_hour_on_demand", "cost_usd_per_hour_on_demand"),
    ("cost_per_hour_spot", "cost_usd_per_hour_spot"),
    ("cost_per_hour_reserved", "cost_usd_per_hour_reserved"),
    ("cumulative_cost", "cumulative_cost_usd"),
    ("nodes", "nodes"),
    ("pods_running", "pods_running"),
    ("pods_pending", "pods_pending"),
    ("cpu_requested", "cpu_requested_cores"),
    ("cpu_allocatable", "cpu_allocatable_cores"),
    ("memory_requested_gib", "memory_requested_gib"),
    ("memory_allocatable_gib", "memory_allocatable_gib"),
];

/// What a `SimResult` holds (and pickles): the core's result and its comparison row.
#[derive(Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct SimState {
    result: SimResult,
    summary: ComparisonRow,
}

/// The result of one simulation run: summary, time series (numpy), node counts by category, pod
/// wait times and the event log. Immutable; pickles; equal when the content is. `str(result)` is
/// the CLI's report.
#[pyclass(frozen, name = "SimResult", module = "karpsim")]
pub struct PySimResult {
    state: Arc<SimState>,
}

impl PySimResult {
    pub fn new(result: SimResult) -> PySimResult {
        let summary = summarize(&result.scenario, &result);
        PySimResult { state: Arc::new(SimState { result, summary }) }
    }
    fn r(&self) -> &SimResult {
        &self.state.result
    }
}

fn breakdown<'a>(r: &'a SimResult, by: &str) -> PyResult<&'a Breakdown> {
    let m = &r.metrics;
    match by {
        "nodepool" => Ok(&m.nodes_by_nodepool),
        "instance_type" => Ok(&m.nodes_by_instance_type),
        "capacity_type" => Ok(&m.nodes_by_capacity_type),
        other => Err(input_error("by", format!("{other:?}: expected \"nodepool\", \"instance_type\" or \"capacity_type\""))),
    }
}

#[pymethods]
impl PySimResult {
    /// Rebuild from `to_json()` output (also how pickles load); anything else raises `KarpsimError`.
    #[staticmethod]
    fn _from_json(data: &[u8]) -> PyResult<PySimResult> {
        Ok(PySimResult { state: Arc::new(from_state(data, "simulation result")?) })
    }

    fn __reduce__<'py>(slf: &Bound<'py, Self>) -> PyResult<Bound<'py, PyTuple>> {
        reduce_with::<PySimResult>(slf.py(), "_from_json", &json_text(&*slf.get().state, None)?)
    }

    fn __eq__(&self, other: &Bound<'_, PyAny>) -> bool {
        other.cast::<PySimResult>().is_ok_and(|o| *o.get().state == *self.state)
    }

    /// The scenario's name.
    #[getter]
    fn scenario(&self) -> String {
        self.r().scenario.clone()
    }

    /// The seed the run used.
    #[getter]
    fn seed(&self) -> u64 {
        self.r().seed
    }

    /// When the run starts (time 0 of the series), a timezone-aware UTC `datetime`.
    #[getter]
    fn start<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let dt = py.import("datetime")?;
        let utc = dt.getattr("timezone")?.getattr("utc")?;
        dt.getattr("datetime")?.call_method1("fromtimestamp", (self.r().start, utc))
    }

    /// The start as Unix seconds.
    #[getter]
    fn _start_seconds(&self) -> i64 {
        self.r().start
    }

    /// The simulated duration in hours.
    #[getter]
    fn duration_hours(&self) -> f64 {
        self.r().duration_h
    }

    /// Total node cost over the run, USD.
    #[getter]
    fn total_cost(&self) -> f64 {
        self.r().total_cost
    }

    /// Σ over nodes of price × billed lifetime (USD); equals the last `cumulative_cost_usd`.
    #[getter]
    fn node_cost_total(&self) -> f64 {
        self.r().metrics.node_cost_total
    }

    /// Disruption commands executed, by method.
    #[getter]
    fn disruptions(&self) -> std::collections::BTreeMap<String, u64> {
        self.r().metrics.disruptions.clone()
    }

    /// Pods still pending at the end, as `(pod, reason)` pairs.
    #[getter]
    fn pending_at_end(&self) -> Vec<(String, String)> {
        self.r().pending_at_end.clone()
    }

    /// Warnings from loading and the run, one line each (also emitted as `KarpsimWarning`).
    #[getter]
    fn warnings(&self) -> Vec<String> {
        self.r().warnings.clone()
    }

    /// The comparison-table row of this run (the same columns as `karpsim.compare`, in the core's
    /// names: total_cost in USD, means time-weighted, utilisation 0-1, waits in seconds).
    fn summary<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_py(py, &self.state.summary)
    }

    /// The time series as numpy float64 arrays of equal length, one entry per sample (taken every
    /// `metrics_interval` and whenever the node set changes, so not evenly spaced): time_h (hours
    /// since the start), cost_usd_per_hour (and _on_demand, _spot, _reserved), cumulative_cost_usd,
    /// nodes (billed nodes, terminating ones included), pods_running, pods_pending,
    /// cpu_requested_cores, cpu_allocatable_cores, memory_requested_gib, memory_allocatable_gib.
    fn series<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let s = &self.r().metrics.series;
        let d = PyDict::new(py);
        for (core, name) in SERIES {
            let col = s.get(core).cloned().unwrap_or_default();
            d.set_item(name, col.into_pyarray(py))?;
        }
        Ok(d)
    }

    /// Node counts by `"nodepool"`, `"instance_type"` or `"capacity_type"`, in long form:
    /// `{"time_h": ndarray, "key": list[str], "count": ndarray}`.
    fn _breakdown<'py>(&self, py: Python<'py>, by: &str) -> PyResult<Bound<'py, PyDict>> {
        let b = breakdown(self.r(), by)?;
        let d = PyDict::new(py);
        d.set_item("time_h", b.time_h.clone().into_pyarray(py))?;
        d.set_item("key", &b.key)?;
        d.set_item("count", b.count.clone().into_pyarray(py))?;
        Ok(d)
    }

    /// The series at whole hours (`step_h`), as the CLI's hourly table: the sample holding at each
    /// time (the series are step functions).
    #[pyo3(signature = (step_h=1.0))]
    fn _hourly_columns<'py>(&self, py: Python<'py>, step_h: f64) -> PyResult<Bound<'py, PyDict>> {
        if !(step_h.is_finite() && step_h > 0.0) {
            return Err(input_error("step_h", "must be a positive number of hours"));
        }
        let s = &self.r().metrics.series;
        let times = Series::view_times(self.r().duration_h, step_h);
        let idx: Vec<usize> = if s.is_empty() { Vec::new() } else { times.iter().map(|t| s.index_at(*t)).collect() };
        let d = PyDict::new(py);
        d.set_item("time_h", if s.is_empty() { Vec::new() } else { times }.into_pyarray(py))?;
        for (core, name) in SERIES.iter().skip(1) {
            let col = s.get(core).map(|c| idx.iter().map(|&i| c[i]).collect::<Vec<f64>>()).unwrap_or_default();
            d.set_item(*name, col.into_pyarray(py))?;
        }
        Ok(d)
    }

    /// Seconds from a pod becoming pending to being bound, one entry per pod binding (numpy float64).
    fn pod_wait_seconds<'py>(&self, py: Python<'py>) -> Bound<'py, PyArray1<f64>> {
        self.r().metrics.pod_wait_seconds.clone().into_pyarray(py)
    }

    /// The event log as columns `{"time_h": ndarray, "kind": list[str], "message": list[str]}`.
    fn _log_columns<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let log = &self.r().log;
        let d = PyDict::new(py);
        d.set_item("time_h", log.iter().map(|e| e.t / 3600.0).collect::<Vec<_>>().into_pyarray(py))?;
        d.set_item("kind", log.iter().map(|e| e.kind.as_str()).collect::<Vec<_>>())?;
        d.set_item("message", log.iter().map(|e| e.message.as_str()).collect::<Vec<_>>())?;
        Ok(d)
    }

    /// The time series as a pandas DataFrame (columns as `series()`). `index`: `"datetime"` (a UTC
    /// `DatetimeIndex` from the scenario's start, so `df.resample("1h")` works), `"timedelta"` (time
    /// since the start) or `"hours"` (float hours). Samples are irregular: `df.mean()` weighs each
    /// sample alike, while the summary's means weigh each by how long it held (time-weighted).
    #[pyo3(signature = (index="datetime"))]
    fn to_pandas<'py>(slf: &Bound<'py, Self>, index: &str) -> PyResult<Bound<'py, PyAny>> {
        frames(slf.py(), "series_frame", (slf, index))
    }

    /// Node counts over time by `"nodepool"`, `"instance_type"` or `"capacity_type"`: pivoted (one
    /// column per key, zeros filled) or, with `pivot=False`, long form; `index` as in `to_pandas`.
    #[pyo3(signature = (by="instance_type", *, pivot=true, index="datetime"))]
    fn nodes_frame<'py>(slf: &Bound<'py, Self>, by: &str, pivot: bool, index: &str) -> PyResult<Bound<'py, PyAny>> {
        breakdown(slf.get().r(), by)?;
        frames(slf.py(), "breakdown_frame", (slf, by, pivot, index))
    }

    /// The event log (launches, disruptions, interruptions, batch jobs...): kind and message,
    /// indexed by time (`index` as in `to_pandas`).
    #[pyo3(signature = (index="datetime"))]
    fn events_frame<'py>(slf: &Bound<'py, Self>, index: &str) -> PyResult<Bound<'py, PyAny>> {
        frames(slf.py(), "events_frame", (slf, index))
    }

    /// The CLI's hourly table: the series at every whole hour (the sample holding then), indexed
    /// by time (`index` as in `to_pandas`).
    #[pyo3(signature = (index="datetime"))]
    fn hourly_frame<'py>(slf: &Bound<'py, Self>, index: &str) -> PyResult<Bound<'py, PyAny>> {
        frames(slf.py(), "hourly_frame", (slf, index))
    }

    /// `to_pandas()` as a polars DataFrame (the time index becomes a `time` column); needs polars.
    fn to_polars<'py>(slf: &Bound<'py, Self>) -> PyResult<Bound<'py, PyAny>> {
        frames(slf.py(), "to_polars", (slf.call_method0("to_pandas")?,))
    }

    /// An xarray Dataset over `time`: the series, and node counts by instance type, capacity type
    /// and NodePool as 2-D variables (`nodes_by_instance_type[time, instance_type]`); needs xarray.
    fn to_xarray<'py>(slf: &Bound<'py, Self>) -> PyResult<Bound<'py, PyAny>> {
        frames(slf.py(), "sim_xarray", (slf,))
    }

    /// The result as JSON text: `{"result": <the core's result>, "summary": <summary row>}`;
    /// `indent`: 0 to 16 spaces.
    #[pyo3(signature = (indent=None))]
    fn to_json(&self, indent: Option<usize>) -> PyResult<String> {
        json_text(&*self.state, indent)
    }

    fn _repr_html_<'py>(slf: &Bound<'py, Self>) -> PyResult<Bound<'py, PyAny>> {
        html(slf.py(), "sim_html", (slf,))
    }

    /// The CLI's report: the summary block and the hourly table, then the warnings.
    fn __str__(&self) -> String {
        let r = self.r();
        let report = karpsim_cli::simulate_cmd::render_summary(&karpsim_cli::simulate_cmd::summary(r))
            + "\n"
            + &karpsim_cli::simulate_cmd::render_hourly(r);
        with_warnings(report, &r.warnings)
    }

    fn __repr__(&self) -> String {
        let s = &self.state.summary;
        format!(
            "<karpsim.SimResult scenario={:?} seed={} hours={} total_cost={:.2} mean_nodes={:.1} pod_wait_p95_s={:.0} warnings={}>",
            self.r().scenario,
            self.r().seed,
            self.r().duration_h,
            self.r().total_cost,
            s.mean_nodes,
            s.pod_wait_p95_s,
            self.r().warnings.len()
        )
    }
}

/// How far a running simulation is, shared with the Python thread that draws the progress bar.
#[pyclass(frozen, name = "_Progress", module = "karpsim")]
#[derive(Default)]
pub struct PyProgress {
    done: Arc<AtomicU64>,
    total: Arc<AtomicU64>,
}

#[pymethods]
impl PyProgress {
    #[new]
    fn py_new() -> PyProgress {
        PyProgress::default()
    }

    /// `(done, total)` in the computation's unit (simulated seconds); total 0 until known.
    fn get(&self) -> (u64, u64) {
        (self.done.load(Ordering::Relaxed), self.total.load(Ordering::Relaxed))
    }
}

impl PyProgress {
    fn progress(&self) -> karpsim::progress::Progress {
        let (done, total) = (Arc::clone(&self.done), Arc::clone(&self.total));
        karpsim::progress::Progress::new(move |d, t| {
            done.store(d, Ordering::Relaxed);
            total.store(t.unwrap_or(0), Ordering::Relaxed);
        })
    }
}

/// Run the time-based simulation of a scenario (releases the GIL). `seed` and `duration`
/// (`"48h"`, a `timedelta`, or hours) override the scenario's; `progress` is told how far it is.
/// The result's warnings are emitted as `KarpsimWarning` unless `warn=False` (a caller in another
/// thread emits them itself). For a progress bar use `karpsim.simulate`.
#[pyfunction]
#[pyo3(signature = (scenario, *, seed=None, duration=None, progress=None, warn=true))]
pub fn _simulate(
    py: Python<'_>,
    scenario: PyRef<'_, PyScenario>,
    seed: Option<u64>,
    duration: Option<&Bound<'_, PyAny>>,
    progress: Option<PyRef<'_, PyProgress>>,
    warn: bool,
) -> PyResult<PySimResult> {
    let duration = duration.filter(|d| !d.is_none()).map(|d| self::duration(d, "duration")).transpose()?;
    let base = Arc::clone(&scenario.sc);
    let opts = scenario.opts.clone();
    let progress = progress.map(|p| p.progress()).unwrap_or_default();
    let result = run_detached(py, move || {
        Ok(if seed.is_some() || duration.is_some() {
            let mut sc = (*base).clone();
            if let Some(s) = seed {
                sc.seed = s;
            }
            if let Some(d) = duration {
                sc.duration = d;
            }
            simulate_with_progress(&sc, &opts, &progress)?
        } else {
            simulate_with_progress(&base, &opts, &progress)?
        })
    })?;
    if warn {
        warn_all(py, &result.warnings)?;
    }
    Ok(PySimResult::new(result))
}
