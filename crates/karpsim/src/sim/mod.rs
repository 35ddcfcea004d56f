//! A discrete-event simulator of a Karpenter-managed cluster over time (issue: time-based
//! simulation): workloads that scale, nodes that take time to launch, consolidation that waits,
//! spot capacity that is interrupted, offerings that run out. Deterministic for a seed.

mod engine;
mod metrics;
pub mod random;
mod scenario;
pub mod trace;
pub mod trace_convert;
pub mod whatif;

pub use engine::{advisor_rate_per_hour, simulate, simulate_with_progress, Engine, LogEntry, SimOptions, SimResult};
pub use metrics::{Breakdown, LowerBoundSeries, Metrics, Series};
pub use scenario::{Arrivals, Outage, ReplicaSchedule, Scenario, Settings, SpotInterruptions, Workload};
pub use trace::TraceEvent;
