//! The `karpsim` console script: the CLI crate's `run`, called from `karpsim.__main__:main`.

use pyo3::prelude::*;
use std::panic::{AssertUnwindSafe, catch_unwind};

/// Run the `karpsim` command line (`argv[0]` is the program name) and return its exit code.
/// Output goes to the process's stdout and stderr. Releases the GIL.
#[pyfunction]
pub fn cli(py: Python<'_>, argv: Vec<String>) -> i32 {
    py.detach(|| {
        catch_unwind(AssertUnwindSafe(|| karpsim_cli::run_code(argv)))
            .map(i32::from)
            .unwrap_or(101)
    })
}
