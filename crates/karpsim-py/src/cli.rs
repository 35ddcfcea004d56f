//! The `karpsim` console script: the CLI crate's `run`, called from `karpsim.__main__`.

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

/// [`cli`] for a process that ends with the command (the console script, `python -m karpsim`,
/// which call `os._exit` with the code right after): the command leaves its cluster state and result
/// to the process's exit instead of freeing them, as the `karpsim` binary does. Never for a
/// long-lived interpreter: the memory would stay taken.
#[pyfunction]
pub fn _cli_then_exit(py: Python<'_>, argv: Vec<String>) -> i32 {
    karpsim_cli::skip_freeing_at_exit();
    cli(py, argv)
}
