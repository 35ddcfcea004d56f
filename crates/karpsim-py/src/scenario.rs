//! `karpsim.Scenario`: a scenario for the time-based simulator and its what-if variants.

use crate::convert::{duration, html, json_text, reduce_with};
use crate::detach::run_detached;
use crate::errors::KarpsimError;
use crate::whatif::{variant_from, variant_from_kwargs};
use karpsim::sim::whatif::{self, Variant};
use karpsim::WorkLimits;
use karpsim::sim::{Scenario, SimOptions};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyTuple};
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
        Ok(PyScenario::finish(sc, opts, source, variants, seed, duration))
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
        PyScenario { sc: Arc::new(sc), opts, source, variants, seed, duration }
    }

    fn derive(&self, sc: Scenario, opts: SimOptions, variants: Vec<Variant>, seed: Option<u64>, duration: Option<f64>) -> PyScenario {
        PyScenario::finish(sc, opts, self.source.clone(), variants, seed, duration)
    }

    fn with_variant(&self, py: Python<'_>, v: Variant) -> PyResult<PyScenario> {
        let base = Arc::clone(&self.sc);
        let opts = self.opts.clone();
        let vv = v.clone();
        let (sc, opts) = run_detached(py, move || whatif::apply(&base, &opts, &vv))?;
        let mut variants = self.variants.clone();
        // A seed change is remembered as the seed (so that it survives a later with_seed).
        let seed = v.changes.iter().rev().find(|(k, _)| k == "seed").and_then(|(_, s)| s.parse().ok()).or(self.seed);
        variants.push(v);
        Ok(self.derive(sc, opts, variants, seed, self.duration))
    }
}

#[pymethods]
impl PyScenario {
    /// Load a scenario file (YAML); manifest and trace paths are relative to it. `pod_limit`
    /// bounds the pods of the manifests and the pods a run may hold at once (default 1,000,000):
    /// more is an `InputError` naming the workload.
    #[staticmethod]
    #[pyo3(signature = (path, *, pod_limit=None))]
    fn load(py: Python<'_>, path: &Bound<'_, PyAny>, pod_limit: Option<usize>) -> PyResult<PyScenario> {
        let limits = crate::errors::work_limits(pod_limit)?;
        let path = crate::convert::existing_path(path, "path")?;
        PyScenario::build(py, Source::Path(absolute(&path)), Vec::new(), None, None, limits)
    }

    /// A scenario from YAML text; manifest and trace paths are relative to `base_dir`; `pod_limit`
    /// as in `load`.
    #[staticmethod]
    #[pyo3(signature = (text, base_dir=PathBuf::from("."), *, pod_limit=None))]
    fn from_yaml(py: Python<'_>, text: String, base_dir: PathBuf, pod_limit: Option<usize>) -> PyResult<PyScenario> {
        let limits = crate::errors::work_limits(pod_limit)?;
        PyScenario::build(py, Source::Text { text, base_dir: absolute(&base_dir) }, Vec::new(), None, None, limits)
    }

    /// Rebuild from `__reduce__`'s state (a JSON document).
    #[staticmethod]
    fn _from_state(py: Python<'_>, state: &[u8]) -> PyResult<PyScenario> {
        let v: Value = serde_json::from_slice(state).map_err(|e| KarpsimError::new_err(format!("not a scenario state: {e}")))?;
        let source: Source =
            serde_json::from_value(v["source"].clone()).map_err(|e| KarpsimError::new_err(format!("not a scenario state: {e}")))?;
        let variants: Vec<Variant> =
            serde_json::from_value(v["variants"].clone()).map_err(|e| KarpsimError::new_err(format!("not a scenario state: {e}")))?;
        let limits = v["pod_limit"].as_u64().map_or_else(WorkLimits::default, |n| WorkLimits::new(n as usize));
        PyScenario::build(py, source, variants, v["seed"].as_u64(), v["duration"].as_f64(), limits)
    }

    fn __reduce__<'py>(slf: &Bound<'py, Self>) -> PyResult<Bound<'py, PyTuple>> {
        let py = slf.py();
        let me = slf.get();
        let state = json!({
            "source": serde_json::to_value(&me.source).map_err(|e| KarpsimError::new_err(e.to_string()))?,
            "variants": serde_json::to_value(&me.variants).map_err(|e| KarpsimError::new_err(e.to_string()))?,
            "seed": me.seed,
            "duration": me.duration,
            "pod_limit": me.sc.limits.max_pods,
        });
        reduce_with::<PyScenario>(py, "_from_state", &json_text(&state, None)?)
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
        self.variants.iter().flat_map(|v| v.changes.iter().cloned()).collect()
    }

    /// NodePool names at the start.
    #[getter]
    fn nodepools(&self) -> Vec<String> {
        self.sc.base.nodepools.iter().map(|p| p.name.to_string()).collect()
    }

    /// Workload names.
    #[getter]
    fn workloads(&self) -> Vec<String> {
        self.sc.workloads.iter().map(|w| w.name().to_string()).collect()
    }

    /// A new scenario with what-if changes applied, e.g.
    /// `with_changes(capacity_types="spot", max_pods=58, arch=["amd64", "arm64"])`.
    /// Keys are those of `karpsim.vary_keys()`; lists are joined with `+`, bools become true/false.
    #[pyo3(signature = (**changes))]
    fn with_changes(&self, py: Python<'_>, changes: Option<&Bound<'_, PyDict>>) -> PyResult<PyScenario> {
        self.with_variant(py, variant_from_kwargs(changes)?)
    }

    /// Like `with_changes`, with the changes as a dict (or `(key, value)` pairs) and an optional
    /// variant name (default `key=value,...`).
    #[pyo3(signature = (changes, *, name=None))]
    fn vary(&self, py: Python<'_>, changes: &Bound<'_, PyAny>, name: Option<String>) -> PyResult<PyScenario> {
        self.with_variant(py, variant_from(changes, name)?)
    }

    /// A new scenario with another random seed.
    fn with_seed(&self, seed: u64) -> PyScenario {
        self.derive((*self.sc).clone(), self.opts.clone(), self.variants.clone(), Some(seed), self.duration)
    }

    /// A new scenario with another duration (`"48h"`, `"90m"`, `"2d"`, a `timedelta` or a number of hours).
    fn with_duration(&self, duration: &Bound<'_, PyAny>) -> PyResult<PyScenario> {
        let d = self::duration(duration, "duration")?;
        Ok(self.derive((*self.sc).clone(), self.opts.clone(), self.variants.clone(), self.seed, Some(d)))
    }

    /// When the scenario starts (time 0 of its results), a timezone-aware UTC `datetime`.
    #[getter]
    fn start<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let dt = py.import("datetime")?;
        let utc = dt.getattr("timezone")?.getattr("utc")?;
        dt.getattr("datetime")?.call_method1("fromtimestamp", (self.sc.start, utc))
    }

    /// What loading noticed (skipped kinds, missing prices...), one line each.
    #[getter]
    fn warnings(&self) -> Vec<String> {
        self.sc.base.warnings.clone()
    }

    fn _repr_html_<'py>(slf: &Bound<'py, Self>) -> PyResult<Bound<'py, PyAny>> {
        html(slf.py(), "scenario_html", (slf,))
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
