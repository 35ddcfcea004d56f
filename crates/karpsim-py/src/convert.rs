//! Python values to and from Rust: JSON documents (dicts go through the standard `json` module,
//! exactly what the core's `load_value` expects), pickled states, and the natural argument forms the
//! API accepts (catalog strings, datetimes, durations, paths).

use crate::errors::{KarpsimError, input_error};
use karpsim::model::NodeSelectorRequirement;
use karpsim::requirements::Requirements;
use pyo3::exceptions::{PyFileNotFoundError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{IntoPyDict, PyBytes, PyDelta, PyDeltaAccess, PyString, PyTuple};
use serde_json::Value;
use std::path::{Path, PathBuf};

/// A Python object made of dicts, lists, str, numbers, bools and None, as a JSON value.
pub fn to_value(obj: &Bound<'_, PyAny>, what: &str) -> PyResult<Value> {
    let py = obj.py();
    let text = py.import("json")?.call_method1("dumps", (obj,)).map_err(|e| input_error(what, format!("not JSON-serialisable: {e}")))?;
    let text = text.cast::<PyString>()?.to_str()?.to_owned();
    serde_json::from_str(&text).map_err(|e| input_error(what, e.to_string()))
}

/// A serialisable value as a Python object (via JSON and `json.loads`).
pub fn to_py<'py>(py: Python<'py>, v: &impl serde::Serialize) -> PyResult<Bound<'py, PyAny>> {
    let text = serde_json::to_string(v).map_err(|e| KarpsimError::new_err(e.to_string()))?;
    py.import("json")?.call_method1("loads", (text,))
}

/// The widest `indent` `to_json` accepts: anything wider is a mistake, and a huge one would try to
/// allocate the whole machine.
const MAX_INDENT: usize = 16;

/// A serialisable value as JSON text, compact or indented by `indent` spaces (0..=16).
pub fn json_text(v: &impl serde::Serialize, indent: Option<usize>) -> PyResult<String> {
    let ser_err = |e: serde_json::Error| KarpsimError::new_err(e.to_string());
    match indent {
        None => serde_json::to_string(v).map_err(ser_err),
        Some(n) if n > MAX_INDENT => Err(PyValueError::new_err(format!("indent: {n} is too wide (0 to {MAX_INDENT} spaces)"))),
        Some(n) => {
            let indent = " ".repeat(n);
            let mut out = Vec::new();
            let fmt = serde_json::ser::PrettyFormatter::with_indent(indent.as_bytes());
            let mut ser = serde_json::Serializer::with_formatter(&mut out, fmt);
            serde::Serialize::serialize(v, &mut ser).map_err(ser_err)?;
            String::from_utf8(out).map_err(|e| KarpsimError::new_err(e.to_string()))
        }
    }
}

/// A pickled or saved state (`to_json()` output) as the core type it must be: anything else, a
/// document of another shape or a tampered pickle, is a `KarpsimError` naming what was expected.
pub fn from_state<T: serde::de::DeserializeOwned>(data: &[u8], what: &str) -> PyResult<T> {
    serde_json::from_slice(data).map_err(|e| KarpsimError::new_err(format!("not a {what}: {e}")))
}

/// `__reduce__` for a class rebuilt from bytes: `(cls.<ctor>, (bytes,))`. Every pickled karpsim
/// object is its JSON state, so pickles survive across processes (Dask workers) and versions of
/// the same wheel.
pub fn reduce_with<'py, T: pyo3::PyTypeInfo>(py: Python<'py>, ctor: &str, state: &str) -> PyResult<Bound<'py, PyTuple>> {
    let ctor = py.get_type::<T>().getattr(ctor)?;
    let args = PyTuple::new(py, [PyBytes::new(py, state.as_bytes())])?;
    PyTuple::new(py, [ctor, args.into_any()])
}

/// Call a helper of `karpsim._frames` (pandas, imported only when a table is asked for).
pub fn frames<'py>(py: Python<'py>, helper: &str, args: impl pyo3::call::PyCallArgs<'py>) -> PyResult<Bound<'py, PyAny>> {
    py.import("karpsim._frames")?.call_method1(helper, args)
}

/// Call a helper of `karpsim._html` (notebook views).
pub fn html<'py>(py: Python<'py>, helper: &str, args: impl pyo3::call::PyCallArgs<'py>) -> PyResult<Bound<'py, PyAny>> {
    py.import("karpsim._html")?.call_method1(helper, args)
}

/// A path argument that must exist: `FileNotFoundError` (errno ENOENT, the path as filename) if not.
pub fn existing_path(obj: &Bound<'_, PyAny>, param: &str) -> PyResult<PathBuf> {
    let path: PathBuf = obj.extract().map_err(|_| {
        pyo3::exceptions::PyTypeError::new_err(format!("{param}: expected a path (str or os.PathLike), got {}", type_name(obj)))
    })?;
    check_exists(&path)?;
    Ok(path)
}

/// `FileNotFoundError` if `path` does not exist.
pub fn check_exists(path: &Path) -> PyResult<()> {
    if path.exists() {
        return Ok(());
    }
    Err(PyFileNotFoundError::new_err((2, "No such file or directory", path.display().to_string())))
}

pub fn type_name(obj: &Bound<'_, PyAny>) -> String {
    obj.get_type().name().map(|n| n.to_string()).unwrap_or_else(|_| "?".into())
}

/// A point in time as Unix seconds: an int, a `datetime` (naive means UTC) or an RFC 3339 string.
pub fn timestamp(obj: &Bound<'_, PyAny>, param: &str) -> PyResult<i64> {
    if let Ok(s) = obj.cast::<PyString>() {
        let s = s.to_str()?;
        return karpsim::io::parse_rfc3339(s.trim()).ok_or_else(|| {
            input_error(param, format!("{s:?}: expected an RFC 3339 time such as 2026-11-20T12:00:00Z, a datetime or Unix seconds"))
        });
    }
    let py = obj.py();
    let datetime = py.import("datetime")?;
    if obj.is_instance(&datetime.getattr("datetime")?)? {
        // naive datetimes are read as UTC (a snapshot's times are UTC)
        let aware = if obj.getattr("tzinfo")?.is_none() {
            obj.call_method("replace", (), Some(&[("tzinfo", datetime.getattr("timezone")?.getattr("utc")?)].into_py_dict(py)?))?
        } else {
            obj.clone()
        };
        let secs: f64 = aware.call_method0("timestamp")?.extract()?;
        return Ok(secs.floor() as i64);
    }
    if obj.is_instance_of::<pyo3::types::PyBool>() {
        return Err(input_error(param, "expected a time, got a bool"));
    }
    obj.extract::<i64>()
        .map_err(|_| input_error(param, format!("expected an RFC 3339 string, a datetime or Unix seconds, got {}", type_name(obj))))
}

/// A length of time in seconds: a `timedelta`, a string (`48h`, `90m`, `2d`, `1h30m`, `45s`) or a
/// number of hours; between 1 s and 400 days.
pub fn duration(obj: &Bound<'_, PyAny>, param: &str) -> PyResult<f64> {
    let secs = if let Ok(d) = obj.cast::<PyDelta>() {
        d.get_days() as f64 * 86_400.0 + d.get_seconds() as f64 + d.get_microseconds() as f64 / 1e6
    } else if let Ok(s) = obj.cast::<PyString>() {
        let s = s.to_str()?.trim().to_string();
        duration_text(&s).ok_or_else(|| {
            input_error(param, format!("{s:?}: expected a duration such as 48h, 90m, 2d, 1h30m, a timedelta or a number of hours"))
        })?
    } else if obj.is_instance_of::<pyo3::types::PyBool>() {
        return Err(input_error(param, "expected a duration, got a bool"));
    } else {
        let h: f64 = obj.extract().map_err(|_| {
            input_error(param, format!("expected a duration (48h, a timedelta) or a number of hours, got {}", type_name(obj)))
        })?;
        h * 3600.0
    };
    if !(secs.is_finite() && (1.0..=400.0 * 86_400.0).contains(&secs)) {
        return Err(input_error(param, "must be between 1s and 400 days"));
    }
    Ok(secs)
}

/// A time limit in seconds for `karpsim.bound`/`advise`: a `timedelta` or a string (`90s`, `2m`) as
/// `duration` takes them, or a number of seconds (as the CLI's `--time-limit SECONDS`).
#[pyfunction]
pub fn _seconds(value: &Bound<'_, PyAny>, param: &str) -> PyResult<f64> {
    if value.is_instance_of::<PyString>() || value.is_instance_of::<PyDelta>() || value.is_instance_of::<pyo3::types::PyBool>() {
        return duration(value, param);
    }
    let secs: f64 = value.extract().map_err(|_| input_error(param, format!("expected seconds, a timedelta or a duration such as 90s, got {}", type_name(value))))?;
    if !(secs.is_finite() && secs > 0.0) {
        return Err(input_error(param, format!("{secs} is not a positive number of seconds")));
    }
    Ok(secs)
}

/// `48h`, `90m`, `2d`, `1h30m`, `45s`, or a bare number of hours, in seconds.
fn duration_text(s: &str) -> Option<f64> {
    if let Ok(h) = s.parse::<f64>() {
        return Some(h * 3600.0);
    }
    let mut total = 0.0;
    let mut num = String::new();
    for ch in s.chars() {
        if ch.is_ascii_digit() || ch == '.' {
            num.push(ch);
            continue;
        }
        let unit = match ch {
            'd' => 86_400.0,
            'h' => 3_600.0,
            'm' => 60.0,
            's' => 1.0,
            _ => return None,
        };
        total += num.parse::<f64>().ok()? * unit;
        num.clear();
    }
    num.is_empty().then_some(total)
}

/// A duration as Go writes it (`5400s`), for what-if keys that take Go durations.
pub fn go_duration(secs: f64) -> String {
    if secs.fract() == 0.0 { format!("{}s", secs as i64) } else { format!("{}ms", (secs * 1000.0).round() as i64) }
}

/// Node-selector requirements `[{"key", "operator", "values", "minValues"}]` from JSON.
pub fn node_selector(v: &Value) -> PyResult<(Vec<NodeSelectorRequirement>, Requirements)> {
    let items = v.as_array().ok_or_else(|| input_error("requirements", "expected a list of {key, operator, values} dicts"))?;
    let mut out = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        let at = |f: &str| format!("requirements[{i}]{f}");
        let obj = item.as_object().ok_or_else(|| input_error(&at(""), "expected a dict with key, operator, values"))?;
        for k in obj.keys() {
            if !matches!(k.as_str(), "key" | "operator" | "values" | "minValues" | "min_values") {
                return Err(input_error(&at(&format!(".{k}")), "unknown field (expected key, operator, values, minValues)"));
            }
        }
        let key = obj.get("key").and_then(Value::as_str).ok_or_else(|| input_error(&at(".key"), "missing or not a string"))?;
        let operator =
            obj.get("operator").and_then(Value::as_str).ok_or_else(|| input_error(&at(".operator"), "missing or not a string"))?;
        let values = match obj.get("values") {
            None | Some(Value::Null) => Vec::new(),
            Some(Value::Array(vs)) => vs
                .iter()
                .map(|x| match x {
                    Value::String(s) => Ok(s.clone()),
                    Value::Number(n) => Ok(n.to_string()),
                    Value::Bool(b) => Ok(b.to_string()),
                    _ => Err(input_error(&at(".values"), "values must be strings")),
                })
                .collect::<PyResult<_>>()?,
            Some(_) => return Err(input_error(&at(".values"), "expected a list of strings")),
        };
        let min_values = match obj.get("minValues").or_else(|| obj.get("min_values")) {
            None | Some(Value::Null) => None,
            Some(m) => Some(
                m.as_u64()
                    .and_then(|m| u32::try_from(m).ok())
                    .ok_or_else(|| input_error(&at(".minValues"), "expected a non-negative integer"))?,
            ),
        };
        out.push(NodeSelectorRequirement { key: karpsim::labels::Sym::new(key), operator: operator.to_string(), values, min_values });
    }
    let reqs = Requirements::from_node_selector(&out).map_err(|e| crate::errors::to_py(e.at(karpsim::Location::field("requirements"))))?;
    Ok((out, reqs))
}
