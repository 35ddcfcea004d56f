//! `karpsim.bound` and `karpsim.advise` (native side): the options come as JSON from
//! `python/karpsim/optimize.py`, the results go back as JSON documents (the CLI's `--output json`).

use crate::detach::run_detached;
use crate::errors::input_error;
use crate::inputs::PyCluster;
use crate::provision::{provision_options, with_warnings};
use crate::scenario::PyScenario;
use karpsim::optimize::{AdviseOptions, BoundOptions, advise, bound};
use pyo3::prelude::*;
use std::sync::Arc;

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
#[pyfunction]
#[pyo3(signature = (cluster, options_json, scenario=None, *, max_instance_types=60, ignore_preferences=false, launch="capacity-type-precedence", min_values="strict", count_new_nodes_against_limits=false, topology_domains="karpenter"))]
#[allow(clippy::too_many_arguments)] // `provision`'s keyword arguments
pub fn _advise(
    py: Python<'_>,
    cluster: PyRef<'_, PyCluster>,
    options_json: &str,
    scenario: Option<PyRef<'_, PyScenario>>,
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
    run_detached(py, move || {
        let r = advise(&state, &opts, sc.as_deref())?;
        Ok((to_json(&r)?, with_warnings(karpsim_cli::advise_cmd::render_table(&r), &r.warnings)))
    })
}
