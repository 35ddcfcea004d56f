//! The one helper for crossing into the core: release the GIL, catch panics, convert errors.

use crate::errors::{InternalError, to_py};
use pyo3::prelude::*;
use std::panic::{AssertUnwindSafe, catch_unwind};

/// Run `f` without the GIL. A core error becomes its Python exception, a panic an `InternalError`.
/// Extract every Python input into owned Rust values before calling this.
pub fn run_detached<T: Send>(
    py: Python<'_>,
    f: impl FnOnce() -> karpsim::Result<T> + Send,
) -> PyResult<T> {
    match py.detach(|| catch_unwind(AssertUnwindSafe(f))) {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(e)) => Err(to_py(e)),
        Err(panic) => {
            let what = panic
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown panic".to_string());
            Err(InternalError::new_err(format!(
                "internal error (a bug in karpsim, please report it): {what}"
            )))
        }
    }
}
