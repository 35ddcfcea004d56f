//! Progress of long computations (a simulation, a comparison, consolidation until stable), for the
//! faces that show it: the CLI on a terminal, Python's progress bars. The core only counts.

use std::fmt;
use std::sync::Arc;

type Callback = dyn Fn(u64, Option<u64>) + Send + Sync;

/// Told `(done, total)` as a computation advances, in the computation's own unit (runs, simulated
/// seconds, rounds; `total` is `None` when unknown). Called from worker threads, possibly often:
/// the callback should be cheap and must not block. The default reports nowhere.
#[derive(Clone, Default)]
pub struct Progress(Option<Arc<Callback>>);

impl Progress {
    pub fn new(f: impl Fn(u64, Option<u64>) + Send + Sync + 'static) -> Progress {
        Progress(Some(Arc::new(f)))
    }

    /// Report that `done` of `total` units are done.
    pub fn report(&self, done: u64, total: Option<u64>) {
        if let Some(f) = &self.0 {
            f(done, total);
        }
    }

    /// Whether anyone listens (so that callers can skip work done only to report).
    pub fn is_active(&self) -> bool {
        self.0.is_some()
    }
}

impl fmt::Debug for Progress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(if self.is_active() { "Progress(active)" } else { "Progress(none)" })
    }
}
