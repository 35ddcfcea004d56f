//! The `karpsim` command inside Python (`python -m karpsim`, `karpsim.__main__.main()`): the CLI
//! crate's `run`, called from `karpsim.__main__`. The `karpsim` executable pip installs is the binary
//! itself (the `karpsim-cli` wheel), not these.

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

/// [`cli`] for a process that ends with the command (`python -m karpsim`, which calls `os._exit`
/// with the code right after). The process is the karpsim command then, as
/// the `karpsim` binary is, and runs as the binary does: its heap set up for the command
/// (`karpsim_cli::huge_heap`: grown in large steps, huge pages) and the command's cluster state and
/// result left to the process's exit instead of freed. Never for a long-lived interpreter: the
/// memory would stay taken and the host's allocator settings changed.
#[pyfunction]
pub fn _cli_then_exit(py: Python<'_>, argv: Vec<String>) -> i32 {
    karpsim_cli::huge_heap::switch_on();
    karpsim_cli::skip_freeing_at_exit();
    cli(py, argv)
}
