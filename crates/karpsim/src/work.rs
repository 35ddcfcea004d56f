//! Bounds on the work one run takes on, checked before anything is allocated for it.
//!
//! Inputs can ask for more than a process can hold: a Deployment of 10^9 replicas, five of
//! 1,000,000, a scenario whose diurnal maximum is 10^9. Each would grow memory until the process
//! (or the Python interpreter hosting it) is killed. karpsim counts the pods an input asks for as it
//! reads it, and the pods a simulation may hold at once, against [`WorkLimits::max_pods`], and refuses
//! with an error that names the object and field, the limit, and how to raise it.

use crate::error::{Error, Location};

/// The default of [`WorkLimits::max_pods`]: well above the largest clusters Kubernetes supports
/// (150,000 pods), and about 2 GB of memory for the pods themselves.
pub const DEFAULT_MAX_PODS: usize = 1_000_000;

/// How many pods a simulation may create over its whole run, per pod of [`WorkLimits::max_pods`]:
/// each created pod keeps its name and its wait time until the end of the run.
pub const CREATED_PER_MAX_POD: usize = 10;

/// How many metric samples a simulation may take (each holds every series and breakdown).
pub const MAX_SAMPLES: f64 = 2_000_000.0;

/// Bounds on the work of one run. The CLI sets them with `--pod-limit`, Python with `pod_limit=`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct WorkLimits {
    /// Pods across all inputs (controllers expanded to their replicas), and pods a simulation holds
    /// at once (its peak).
    pub max_pods: usize,
}

impl Default for WorkLimits {
    fn default() -> Self {
        WorkLimits { max_pods: DEFAULT_MAX_PODS }
    }
}

impl WorkLimits {
    pub fn new(max_pods: usize) -> WorkLimits {
        WorkLimits { max_pods }
    }

    /// The most pods a simulation may create over its run ([`CREATED_PER_MAX_POD`] × `max_pods`).
    pub fn max_created(&self) -> usize {
        self.max_pods.saturating_mul(CREATED_PER_MAX_POD)
    }

    /// Whether `have` pods plus `more` stay within the limit.
    pub fn allows(&self, have: usize, more: usize) -> bool {
        have.checked_add(more).is_some_and(|n| n <= self.max_pods)
    }

    /// The error for a request of `more` pods on top of `have`, at `at`; `what` says what asks for them.
    pub fn exceeded(&self, at: Location, what: &str, have: usize, more: usize) -> Error {
        let total = have.saturating_add(more);
        Error::input(
            at,
            format!(
                "{what} would bring the run to {total} pods, over karpsim's work limit of {} pods; \
                 raise it if the machine can hold them (--pod-limit N, pod_limit=N in Python, WorkLimits::max_pods in Rust)",
                self.max_pods
            ),
        )
    }
}
