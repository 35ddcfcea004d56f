//! What-if variants from Python values, and the Rust side of `karpsim.compare`/`karpsim.sweep` (the
//! executor side lives in `python/karpsim/_whatif.py`): scenario variants over seeds, and cluster
//! variants provisioned (and consolidated).

use crate::convert::{duration, go_duration, to_py, type_name};
use crate::detach::run_detached;
use crate::errors::input_error;
use crate::inputs::PyCluster;
use crate::provision::provision_options;
use crate::scenario::PyScenario;
use karpsim::progress::Progress;
use karpsim::sim::whatif::{self, Variant};
use karpsim::whatif::{ClusterRun, compare_clusters};
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyDelta, PyDict, PyList, PyString, PyTuple};
use std::sync::Arc;

/// A change's value as the what-if key expects it: bools as true/false, lists joined with `+`, a
/// `timedelta` as a Go duration, a dict of prices (`{"m5.large:spot": 0.04}`) as
/// `m5.large:spot=0.04+...`, numbers as written.
fn change_value(key: &str, v: &Bound<'_, PyAny>) -> PyResult<String> {
    if let Ok(b) = v.cast::<PyBool>() {
        return Ok(if b.is_true() { "true" } else { "false" }.to_string());
    }
    if let Ok(s) = v.cast::<PyString>() {
        return Ok(s.to_str()?.to_string());
    }
    if v.cast::<PyDelta>().is_ok() {
        return Ok(go_duration(duration(v, key)?));
    }
    if let Ok(d) = v.cast::<PyDict>() {
        let mut parts = Vec::new();
        for (name, price) in d.iter() {
            let name: String =
                name.extract().map_err(|_| input_error(key, "price keys are NAME:CAPACITY strings, e.g. \"m5.large:spot\""))?;
            let usd: f64 = price.extract().map_err(|_| {
                input_error(&format!("{key}.{name}"), format!("expected a price in USD per hour, got {}", type_name(&price)))
            })?;
            parts.push(format!("{name}={usd}"));
        }
        return Ok(parts.join("+"));
    }
    if v.cast::<PyList>().is_ok() || v.cast::<PyTuple>().is_ok() {
        let parts = v.try_iter()?.map(|x| change_value(key, &x?)).collect::<PyResult<Vec<_>>>()?;
        return Ok(parts.join("+"));
    }
    if v.is_none() {
        return Err(input_error(key, "None is not a value (leave the key out to keep the input's setting)"));
    }
    Ok(v.str()?.to_str()?.to_string())
}

/// Changes from a mapping (`{"capacity_types": "spot"}`) or a sequence of `(key, value)` pairs.
pub fn changes_from(obj: &Bound<'_, PyAny>) -> PyResult<Vec<(String, String)>> {
    let pairs: Vec<Bound<'_, PyAny>> = if let Ok(d) = obj.cast::<PyDict>() {
        d.items().iter().collect()
    } else {
        obj.try_iter().map_err(|_| input_error("changes", "expected a dict or (key, value) pairs"))?.collect::<PyResult<_>>()?
    };
    pairs
        .iter()
        .map(|p| {
            let (k, v): (String, Bound<'_, PyAny>) =
                p.extract().map_err(|_| input_error("changes", "expected a dict or (key, value) pairs"))?;
            let value = change_value(&k, &v)?;
            Ok((k, value))
        })
        .collect()
}

/// A variant from `with_changes(**changes)`: named after its changes.
pub fn variant_from_kwargs(changes: Option<&Bound<'_, PyDict>>) -> PyResult<Variant> {
    let changes = match changes {
        Some(d) => changes_from(d.as_any())?,
        None => Vec::new(),
    };
    Ok(Variant { name: default_name(&changes), changes })
}

/// A variant from `vary(changes, name=...)`: a dict or `(key, value)` pairs, named `key=value,...`
/// unless a name is given.
pub fn variant_from(changes: &Bound<'_, PyAny>, name: Option<String>) -> PyResult<Variant> {
    let changes = changes_from(changes)?;
    let name = name.unwrap_or_else(|| default_name(&changes));
    Ok(Variant { name, changes })
}

/// `key=value,key=value` (the name of an unnamed variant).
pub fn default_name(changes: &[(String, String)]) -> String {
    changes.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join(",")
}

fn variants_of(variants: Vec<(String, Vec<(String, String)>)>) -> Vec<Variant> {
    variants.into_iter().map(|(name, changes)| Variant { name, changes }).collect()
}

/// Run (variant, seed) pairs of a scenario on the rayon pool in one call (releases the GIL).
/// `variants` is a list of `(name, [(key, value), ...])`. Returns one summary dict per pair,
/// variants outer, seeds inner, in input order.
#[pyfunction]
pub fn _compare<'py>(
    py: Python<'py>,
    base: PyRef<'_, PyScenario>,
    variants: Vec<(String, Vec<(String, String)>)>,
    seeds: Vec<u64>,
) -> PyResult<Bound<'py, PyAny>> {
    let sc = Arc::clone(&base.sc);
    let opts = base.opts.clone();
    let variants = variants_of(variants);
    let rows = run_detached(py, move || whatif::compare(&sc, &opts, &variants, &seeds))?;
    to_py(py, &rows)
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
    let rows = run_detached(py, move || whatif::compare(&sc, &opts, &[Variant { name, changes }], &[seed]))?;
    to_py(py, &rows[0])
}

/// Check a scenario variant's changes without running it (raises `InputError` on an unknown key or
/// value); returns the warnings for NodePools the variant leaves able to launch nothing.
#[pyfunction]
#[pyo3(signature = (base, changes, name=String::new()))]
pub fn _check_changes(py: Python<'_>, base: PyRef<'_, PyScenario>, changes: Vec<(String, String)>, name: String) -> PyResult<Vec<String>> {
    let sc = Arc::clone(&base.sc);
    let opts = base.opts.clone();
    run_detached(py, move || whatif::launch_warnings(&sc, &opts, &[Variant { name, changes }]))
}

fn cluster_run(run: &str) -> PyResult<ClusterRun> {
    match run {
        "provision" => Ok(ClusterRun::Provision),
        "consolidate" => Ok(ClusterRun::Consolidate),
        other => Err(input_error(
            "run",
            format!("{other:?}: expected \"provision\" or \"consolidate\" (provision, then consolidate until stable)"),
        )),
    }
}

/// Run cluster variants on the rayon pool in one call (releases the GIL): each provisioned, and
/// with `run="consolidate"` consolidated until stable (`max_rounds` as `consolidate`'s). One row
/// dict per variant, in input order, with the variant's own `warnings` when it has any. The other
/// keyword arguments are `provision`'s, checked by the same builder.
#[pyfunction]
#[pyo3(signature = (base, variants, run="provision", *, max_rounds=None, max_instance_types=60, ignore_preferences=false, launch="capacity-type-precedence", min_values="strict", count_new_nodes_against_limits=false, topology_domains="karpenter"))]
#[allow(clippy::too_many_arguments)] // `provision`'s keyword arguments
pub fn _compare_clusters<'py>(
    py: Python<'py>,
    base: PyRef<'_, PyCluster>,
    variants: Vec<(String, Vec<(String, String)>)>,
    run: &str,
    max_rounds: Option<i64>,
    max_instance_types: usize,
    ignore_preferences: bool,
    launch: &str,
    min_values: &str,
    count_new_nodes_against_limits: bool,
    topology_domains: &str,
) -> PyResult<Bound<'py, PyAny>> {
    let run = cluster_run(run)?;
    let max_rounds = crate::disrupt::max_rounds_arg(max_rounds, run == ClusterRun::Consolidate, "run=\"consolidate\"")?;
    let opts = provision_options(max_instance_types, ignore_preferences, launch, min_values, count_new_nodes_against_limits, topology_domains)?;
    let mut setup = base.setup(py);
    if max_rounds.is_some() {
        setup.disruption.max_rounds = max_rounds;
    }
    let variants = variants_of(variants);
    let rows = run_detached(py, move || compare_clusters(&setup, &opts, &variants, run, &Progress::default()))?;
    to_py(py, &rows)
}

/// Check a cluster variant's changes without running it; returns the warnings for NodePools the
/// variant leaves able to launch nothing under these provisioning options (`provision`'s keywords).
#[pyfunction]
#[pyo3(signature = (base, changes, name=String::new(), *, max_instance_types=60, ignore_preferences=false, launch="capacity-type-precedence", min_values="strict", count_new_nodes_against_limits=false, topology_domains="karpenter"))]
#[allow(clippy::too_many_arguments)] // `provision`'s keyword arguments
pub fn _check_cluster_changes(
    py: Python<'_>,
    base: PyRef<'_, PyCluster>,
    changes: Vec<(String, String)>,
    name: String,
    max_instance_types: usize,
    ignore_preferences: bool,
    launch: &str,
    min_values: &str,
    count_new_nodes_against_limits: bool,
    topology_domains: &str,
) -> PyResult<Vec<String>> {
    let opts = provision_options(max_instance_types, ignore_preferences, launch, min_values, count_new_nodes_against_limits, topology_domains)?;
    let setup = base.setup(py);
    let v = Variant { name, changes };
    run_detached(py, move || compare_clusters_check(setup, &opts, &v))
}

fn compare_clusters_check(setup: karpsim::whatif::Setup, opts: &karpsim::scheduling::ProvisionOptions, v: &Variant) -> karpsim::Result<Vec<String>> {
    let (setup, rest) = karpsim::whatif::apply(setup, &v.changes)?;
    match rest.first() {
        None => Ok(karpsim::whatif::variant_launch_warnings(&v.name, &setup.state, opts)),
        Some((k, val)) => {
            Err(karpsim::Error::Option { option: format!("{k}={val}"), message: "applies to scenarios only, not to a cluster".into() })
        }
    }
}

/// The report lines of runs' own warnings (`karpsim::whatif::run_warnings::grouped`): one line per
/// message naming the runs that gave it, skipping what `said` holds for a run already.
#[pyfunction]
pub fn _grouped_warnings(kind: &str, runs: Vec<(String, Vec<String>)>, said: Vec<String>) -> Vec<String> {
    karpsim::whatif::run_warnings::grouped(kind, runs.iter().map(|(n, w)| (n.as_str(), &w[..])), &said)
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
