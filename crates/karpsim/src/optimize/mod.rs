//! How far from optimal, and what to change: a proven lower bound on the hourly cost of the nodes
//! a cluster's pods need ([`bound`]), and a search over NodePool settings run through karpsim's
//! faithful Karpenter (`advise`).
//!
//! The bound is the configuration LP of bin packing (Gilmore–Gomory), solved by column generation
//! over pod classes and the offerings the NodePools can launch, with Farley's bound computed in
//! exact integer arithmetic at every iteration, so it holds whenever the search stops. Which
//! constraints it includes and which it relaxes is in [`bound::INCLUDED`] and [`bound::RELAXED`].

pub mod advise;
pub mod bound;
pub mod colgen;
mod compact;
mod effort;
pub mod knapsack;
mod master;
pub mod packing;
pub mod problem;

pub use bound::{BoundOptions, BoundResult, bound, bound_with_progress, lower_bound_now};
pub use advise::{AdviseOptions, AdviseResult, Job, JobResult, advise, advise_with, evaluate_job};
