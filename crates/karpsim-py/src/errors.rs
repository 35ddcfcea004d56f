//! The exception hierarchy and the one conversion from the core's error.

use pyo3::create_exception;
use pyo3::exceptions::{PyException, PyUserWarning};
use pyo3::prelude::*;

create_exception!(
    karpsim,
    KarpsimError,
    PyException,
    "Base class of every error karpsim raises."
);
create_exception!(
    karpsim,
    InputError,
    KarpsimError,
    "Bad input (manifests, options). Attributes: file, document, kind, object, field (each may be None)."
);
create_exception!(
    karpsim,
    CatalogError,
    KarpsimError,
    "A catalog that cannot be loaded or used (e.g. an unknown region)."
);
create_exception!(
    karpsim,
    InternalError,
    KarpsimError,
    "A bug in karpsim (a panic inside the Rust core). Please report it."
);

create_exception!(
    karpsim,
    KarpsimWarning,
    PyUserWarning,
    "What karpsim noticed while making a result (skipped kinds, missing prices, pods bound to unknown nodes...). Filter it like any warning: warnings.filterwarnings(\"ignore\", category=karpsim.KarpsimWarning)."
);

/// Emit each of a result's warnings as a `KarpsimWarning` (the caller's line, as `warnings.warn`
/// with stacklevel 1 from Python code does); errors if a filter turns warnings into errors.
pub fn warn_all(py: Python<'_>, warnings: &[String]) -> PyResult<()> {
    let category = py.get_type::<KarpsimWarning>();
    let mut seen = std::collections::HashSet::new();
    for w in warnings.iter().filter(|w| seen.insert(w.as_str())) {
        let text = std::ffi::CString::new(w.replace('\0', " ")).map_err(|e| KarpsimError::new_err(e.to_string()))?;
        PyErr::warn(py, &category, &text, 1)?;
    }
    Ok(())
}

/// Attach the location fields of an input error as attributes of the exception.
fn with_location(err: PyErr, at: &karpsim::Location) -> PyErr {
    Python::attach(|py| {
        let value = err.value(py);
        let set = || -> PyResult<()> {
            value.setattr("file", at.file.as_deref())?;
            value.setattr("document", at.document)?;
            value.setattr("kind", at.kind.as_deref())?;
            value.setattr("object", at.object.as_deref())?;
            value.setattr("field", at.field.as_deref())
        };
        match set() {
            Ok(()) => err.clone_ref(py),
            Err(e) => e,
        }
    })
}

/// The one mapping from the core's error to a Python exception.
pub fn to_py(e: karpsim::Error) -> PyErr {
    let message = e.to_string();
    match e {
        karpsim::Error::Input { ref at, .. } => with_location(InputError::new_err(message), at),
        karpsim::Error::Quantity { .. } => {
            with_location(InputError::new_err(message), &karpsim::Location::default())
        }
        karpsim::Error::Option { option, .. } => with_location(
            InputError::new_err(message),
            &karpsim::Location::field(option),
        ),
        karpsim::Error::Catalog { .. } => CatalogError::new_err(message),
        karpsim::Error::Io { .. } => KarpsimError::new_err(message),
        _ => KarpsimError::new_err(message),
    }
}

/// The work limit from a `pod_limit=` argument (`None`: karpsim's default).
pub fn work_limits(pod_limit: Option<usize>) -> PyResult<karpsim::WorkLimits> {
    match pod_limit {
        None => Ok(karpsim::WorkLimits::default()),
        Some(0) => Err(input_error("pod_limit", "must be at least 1")),
        Some(n) => Ok(karpsim::WorkLimits::new(n)),
    }
}

/// An input error raised by the binding itself (argument validation), with a field name.
pub fn input_error(field: &str, message: impl Into<String>) -> PyErr {
    to_py(karpsim::Error::input(
        karpsim::Location::field(field),
        message,
    ))
}
