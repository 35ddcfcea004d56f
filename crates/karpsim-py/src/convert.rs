//! Python values to and from JSON: dicts go through the standard `json` module (robust, and exactly
//! what the core's `load_value` expects).

use crate::errors::input_error;
use karpsim::model::NodeSelectorRequirement;
use karpsim::requirements::Requirements;
use pyo3::prelude::*;
use pyo3::types::PyString;
use serde_json::Value;

/// A Python object made of dicts, lists, str, numbers, bools and None, as a JSON value.
pub fn to_value(obj: &Bound<'_, PyAny>, what: &str) -> PyResult<Value> {
    let py = obj.py();
    let text = py
        .import("json")?
        .call_method1("dumps", (obj,))
        .map_err(|e| input_error(what, format!("not JSON-serialisable: {e}")))?;
    let text = text.cast::<PyString>()?.to_str()?.to_owned();
    serde_json::from_str(&text).map_err(|e| input_error(what, e.to_string()))
}

/// A JSON value as a Python object (via `json.loads`).
pub fn from_value<'py>(py: Python<'py>, v: &Value) -> PyResult<Bound<'py, PyAny>> {
    py.import("json")?.call_method1("loads", (v.to_string(),))
}

/// Node-selector requirements `[{"key", "operator", "values", "minValues"}]` from JSON.
pub fn node_selector(v: &Value) -> PyResult<(Vec<NodeSelectorRequirement>, Requirements)> {
    let items = v.as_array().ok_or_else(|| {
        input_error(
            "requirements",
            "expected a list of {key, operator, values} dicts",
        )
    })?;
    let mut out = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        let at = |f: &str| format!("requirements[{i}]{f}");
        let obj = item
            .as_object()
            .ok_or_else(|| input_error(&at(""), "expected a dict with key, operator, values"))?;
        for k in obj.keys() {
            if !matches!(
                k.as_str(),
                "key" | "operator" | "values" | "minValues" | "min_values"
            ) {
                return Err(input_error(
                    &at(&format!(".{k}")),
                    "unknown field (expected key, operator, values, minValues)",
                ));
            }
        }
        let key = obj
            .get("key")
            .and_then(Value::as_str)
            .ok_or_else(|| input_error(&at(".key"), "missing or not a string"))?;
        let operator = obj
            .get("operator")
            .and_then(Value::as_str)
            .ok_or_else(|| input_error(&at(".operator"), "missing or not a string"))?;
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
        let min_values =
            match obj.get("minValues").or_else(|| obj.get("min_values")) {
                None | Some(Value::Null) => None,
                Some(m) => Some(m.as_u64().and_then(|m| u32::try_from(m).ok()).ok_or_else(
                    || input_error(&at(".minValues"), "expected a non-negative integer"),
                )?),
            };
        out.push(NodeSelectorRequirement {
            key: karpsim::labels::Sym::new(key),
            operator: operator.to_string(),
            values,
            min_values,
        });
    }
    let reqs = Requirements::from_node_selector(&out)
        .map_err(|e| crate::errors::to_py(e.at(karpsim::Location::field("requirements"))))?;
    Ok((out, reqs))
}

/// `__reduce__` for a class rebuilt from bytes: `(cls.<ctor>, (bytes,))`. Every pickled karpsim
/// object is its JSON state, so pickles survive across processes (Dask workers) and versions of
/// the same wheel.
pub fn reduce_with<'py, T: pyo3::PyTypeInfo>(py: Python<'py>, ctor: &str, state: &str) -> PyResult<Bound<'py, pyo3::types::PyTuple>> {
    let ctor = py.get_type::<T>().getattr(ctor)?;
    let args = pyo3::types::PyTuple::new(py, [pyo3::types::PyBytes::new(py, state.as_bytes())])?;
    pyo3::types::PyTuple::new(py, [ctor, args.into_any()])
}

/// Parse a pickled result's JSON state, checking it is the kind of result expected (`what`, e.g.
/// "provision result") by a predicate on the document.
pub fn result_state(data: &[u8], what: &str, is_kind: impl Fn(&Value) -> bool) -> PyResult<std::sync::Arc<Value>> {
    let v: Value = serde_json::from_slice(data).map_err(|e| crate::errors::KarpsimError::new_err(format!("not a {what}: {e}")))?;
    if !is_kind(&v) {
        return Err(crate::errors::KarpsimError::new_err(format!("not a {what}")));
    }
    Ok(std::sync::Arc::new(v))
}
