//! How much work the bound's search may do, shared by column generation ([`super::colgen`]) and
//! the packing that rounds its result ([`super::packing`]).

use std::time::Instant;

/// How long the search for the bound may go on.
#[derive(Debug, Clone, Copy)]
pub struct Effort {
    /// Column-generation iterations.
    pub max_iterations: usize,
    /// Branch-and-bound nodes per knapsack.
    pub knapsack_nodes: u64,
    /// New patterns added per iteration, at most.
    pub columns_per_iteration: usize,
    /// Wall-clock limit (the only non-deterministic stop; reported when it fires).
    pub deadline: Option<Instant>,
}

impl Default for Effort {
    fn default() -> Self {
        Effort { max_iterations: 400, knapsack_nodes: 2_000, columns_per_iteration: 40, deadline: None }
    }
}
