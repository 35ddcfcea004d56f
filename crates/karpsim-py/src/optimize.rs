//! `karpsim.bound` and `karpsim.advise` (native side): the options come as JSON from
//! `python/karpsim/optimize.py`, the results go back as JSON documents (the CLI's `--output json`).

use crate::detach::run_detached;
use crate::errors::input_error;
use crate::inputs::PyCluster;
use crate::provision::{provision_options, with_warnings};
use crate::scenario::PyScenario;
use karpsim::optimize::{AdviseOptions, BoundOptions, Job, JobResult, advise, advise_with, bound, evaluate_job};
use pyo3::prelude::*;
use std::sync::{Arc, Mutex};

fn options<T: serde::de::DeserializeOwned>(json: &str, what: &str) -> PyResult<T> {
    serde_json::from_str(json).map_err(|e| input_error(what, e.to_string()))
}

fn to_json<T: serde::Serialize>(v: &T) -> karpsim::Result<String> {
    serde_json::to_string(v).map_err(|e| karpsim::Error::Io { path: "<result>".into(), message: e.to_string() })
}

/// The bound of `cluster` as a JSON document and the CLI's report (warnings last, as `str(result)`
/// prints it); `options_json` is `BoundOptions` as JSON, whose provisioning settings come from the
/// keyword arguments `provision` takes (one builder for both).
#[pyfunction]
#[pyo3(signature = (cluster, options_json, *, max_instance_types=60, ignore_preferences=false, launch="capacity-type-precedence", min_values="strict", count_new_nodes_against_limits=false, topology_domains="karpenter"))]
#[allow(clippy::too_many_arguments)] // `provision`'s keyword arguments
pub fn _bound(
    py: Python<'_>,
    cluster: PyRef<'_, PyCluster>,
    options_json: &str,
    max_instance_types: usize,
    ignore_preferences: bool,
    launch: &str,
    min_values: &str,
    count_new_nodes_against_limits: bool,
    topology_domains: &str,
) -> PyResult<(String, String)> {
    let mut opts: BoundOptions = options(options_json, "options")?;
    opts.provisioning = provision_options(max_instance_types, ignore_preferences, launch, min_values, count_new_nodes_against_limits, topology_domains)?;
    let state = Arc::clone(&cluster.state);
    run_detached(py, move || {
        let r = bound(&state, &opts);
        Ok((to_json(&r)?, with_warnings(karpsim_cli::bound_cmd::render_table(&r), &r.warnings)))
    })
}

/// The advisor's result as a JSON document and the CLI's report (as `_bound`); `options_json` is
/// `AdviseOptions` as JSON, with the provisioning settings from `provision`'s keyword arguments.
/// With `evaluate` (a callable taking a round's jobs as JSON documents and returning
/// `_advise_job`'s result for each, in order), the candidates run wherever it sends them (an
/// executor) instead of the rayon pool; the ranking and the result are the same.
#[pyfunction]
#[pyo3(signature = (cluster, options_json, scenario=None, *, evaluate=None, max_instance_types=60, ignore_preferences=false, launch="capacity-type-precedence", min_values="strict", count_new_nodes_against_limits=false, topology_domains="karpenter"))]
#[allow(clippy::too_many_arguments)] // `provision`'s keyword arguments
pub fn _advise(
    py: Python<'_>,
    cluster: PyRef<'_, PyCluster>,
    options_json: &str,
    scenario: Option<PyRef<'_, PyScenario>>,
    evaluate: Option<Py<PyAny>>,
    max_instance_types: usize,
    ignore_preferences: bool,
    launch: &str,
    min_values: &str,
    count_new_nodes_against_limits: bool,
    topology_domains: &str,
) -> PyResult<(String, String)> {
    let mut opts: AdviseOptions = options(options_json, "options")?;
    opts.provisioning = provision_options(max_instance_types, ignore_preferences, launch, min_values, count_new_nodes_against_limits, topology_domains)?;
    let state = Arc::clone(&cluster.state);
    let sc = scenario.map(|s| Arc::clone(&s.sc));
    // the executor's own exception (a worker's error, an interrupt) is raised as it is
    let raised: Mutex<Option<PyErr>> = Mutex::new(None);
    let out = run_detached(py, || {
        let r = match &evaluate {
            None => advise(&state, &opts, sc.as_deref())?,
            Some(f) => advise_with(&state, &opts, sc.as_deref(), |jobs| {
                Python::attach(|py| round(py, f, jobs)).map_err(|e| {
                    let message = e.to_string();
                    *raised.lock().unwrap_or_else(|p| p.into_inner()) = Some(e);
                    karpsim::Error::Option { option: "executor".into(), message }
                })
            })?,
        };
        Ok((to_json(&r)?, with_warnings(karpsim_cli::advise_cmd::render_table(&r), &r.warnings)))
    });
    match raised.into_inner().unwrap_or_else(|p| p.into_inner()) {
        Some(e) => Err(e),
        None => out,
    }
}

/// One round of candidates through the Python callable: jobs out as JSON, results back as JSON.
fn round(py: Python<'_>, f: &Py<PyAny>, jobs: &[Job]) -> PyResult<Vec<JobResult>> {
    let docs = jobs.iter().map(|j| serde_json::to_string(j).map_err(|e| input_error("job", e.to_string()))).collect::<PyResult<Vec<String>>>()?;
    let back: Vec<String> = f.call1(py, (docs,))?.extract(py)?;
    back.iter().map(|d| options::<JobResult>(d, "advise job result")).collect()
}

/// One candidate of `_advise`'s rounds (a job as JSON), evaluated on `cluster` with the same
/// options and keywords; the result as JSON (what `evaluate` returns to `_advise`).
#[pyfunction]
#[pyo3(signature = (cluster, options_json, scenario, job_json, *, max_instance_types=60, ignore_preferences=false, launch="capacity-type-precedence", min_values="strict", count_new_nodes_against_limits=false, topology_domains="karpenter"))]
#[allow(clippy::too_many_arguments)] // `provision`'s keyword arguments
pub fn _advise_job(
    py: Python<'_>,
    cluster: PyRef<'_, PyCluster>,
    options_json: &str,
    scenario: Option<PyRef<'_, PyScenario>>,
    job_json: &str,
    max_instance_types: usize,
    ignore_preferences: bool,
    launch: &str,
    min_values: &str,
    count_new_nodes_against_limits: bool,
    topology_domains: &str,
) -> PyResult<String> {
    let mut opts: AdviseOptions = options(options_json, "options")?;
    opts.provisioning = provision_options(max_instance_types, ignore_preferences, launch, min_values, count_new_nodes_against_limits, topology_domains)?;
    let job: Job = options(job_json, "job")?;
    let state = Arc::clone(&cluster.state);
    let sc = scenario.map(|s| Arc::clone(&s.sc));
    run_detached(py, move || to_json(&evaluate_job(&state, &job, &opts, sc.as_deref())?))
}
