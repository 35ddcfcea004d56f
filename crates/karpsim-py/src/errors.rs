//! The exception hierarchy and the one conversion from the core's error.

use pyo3::create_exception;
use pyo3::exceptions::PyException;
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

/// The work limit from a `max_pods=` argument (`None`: karpsim's default).
pub fn work_limits(max_pods: Option<usize>) -> PyResult<karpsim::WorkLimits> {
    match max_pods {
        None => Ok(karpsim::WorkLimits::default()),
        Some(0) => Err(input_error("max_pods", "must be at least 1")),
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
