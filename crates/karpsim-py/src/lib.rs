//! `karpsim._karpsim`: the native module of the `karpsim` Python package. A thin layer over the
//! `karpsim` crate: conversions, errors and the GIL; no domain logic.

// `karpsim::Error` is large (its `Location`); boxing it is the core's decision (`error.rs`), and the
// binding passes it straight to `errors::to_py`.

mod catalog;
mod cli;
mod convert;
mod detach;
mod disrupt;
mod errors;
mod inputs;
mod optimize;
mod provision;
mod scenario;
mod sim;
mod whatif;

use pyo3::prelude::*;

// The karpsim command's allocator (the system allocator plus one compare), off until the console
// script switches it on (`cli::_cli_then_exit`): imported as a library, the module leaves the host's
// allocator settings as they are.
#[global_allocator]
static ALLOCATOR: karpsim_cli::huge_heap::HugeHeap = karpsim_cli::huge_heap::HugeHeap;

/// karpsim's native module; use it through the `karpsim` package.
#[pymodule]
mod _karpsim {
    use super::*;

    #[pymodule_export]
    use crate::catalog::PyCatalog;
    #[pymodule_export]
    use crate::cli::{_cli_then_exit, cli};
    #[pymodule_export]
    use crate::convert::_seconds;
    #[pymodule_export]
    use crate::disrupt::{PyConsolidationResult, consolidate};
    #[pymodule_export]
    use crate::errors::{CatalogError, InputError, InternalError, KarpsimError, KarpsimWarning};
    #[pymodule_export]
    use crate::inputs::PyCluster;
    #[pymodule_export]
    use crate::optimize::{_advise, _advise_job, _bound};
    #[pymodule_export]
    use crate::provision::{PyProvisionResult, provision};
    #[pymodule_export]
    use crate::scenario::PyScenario;
    #[pymodule_export]
    use crate::sim::{_simulate, PyProgress, PySimResult};
    #[pymodule_export]
    use crate::whatif::{
        _changes, _check_changes, _check_cluster_changes, _compare, _compare_clusters, _grouped_warnings, _mean_ci,
        _parse_vary, _run_variant, vary_keys,
    };

    #[pymodule_export]
    #[allow(non_upper_case_globals)]
    const __version__: &str = env!("CARGO_PKG_VERSION");

    /// Regions with an embedded AWS catalog.
    #[pyfunction]
    fn aws_regions() -> Vec<&'static str> {
        karpsim::catalog::aws_regions().to_vec()
    }

    /// Raise `InternalError` through a deliberate panic (tests the panic guard).
    #[pyfunction]
    fn _panic(py: Python<'_>) -> PyResult<()> {
        crate::detach::run_detached(py, || -> karpsim::Result<()> {
            panic!("deliberate panic for testing")
        })
    }
}
