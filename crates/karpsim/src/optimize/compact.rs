//! The assignment LP: a compact relaxation of the packing, solved once, directly, by the
//! interior-point method of `clarabel`, for values per pod that hold on workloads where column
//! generation stalls (hundreds of pod shapes, one pod each).
//!
//! Variables: `x_cb`, the pods of class `c` on nodes of bin type `b` (only where one such pod fits
//! on `b` whole), and `z_b`, how many nodes of `b`. Minimise `Σ_b p_b z_b` subject to
//! - every pod placed: `Σ_b x_cb ≥ n_c` (dual `y_c`),
//! - every resource `j` within the nodes' room: `Σ_c s_cj x_cb ≤ C_bj z_b` (dual `λ_bj`),
//! - no more pods of a class on `b` than its nodes hold alone: `x_cb ≤ m_cb z_b`, with `m_cb` the
//!   class's pods that fit on one node of `b` (at most `n_c`) (dual `μ_cb`),
//! - existing nodes used once (`z_e ≤ 1`) and capacity reservations' counts (`Σ z_b ≤ R_r`).
//!
//! Every packing is a feasible point (its node counts and its pods per bin type), so the LP's value
//! is a lower bound; but it is solved in floating point, so its value is not used as such. Its duals
//! are: `y` (and the reservations' `w`) go to [`super::colgen`]'s Farley bound, which is proven for
//! any `y ≥ 0`, and `λ_b` starts the pricing knapsack's Lagrangian bound on `b`. At an exact optimum
//! of this LP, `λ_b·C_b + Σ_c m_cb (y_c − λ_b·s_c)^+ ≤ p_b` for every `b` (the dual constraint of
//! `z_b`, with the best `μ`), so that Lagrangian bound keeps every bin's ratio near 1 and the Farley
//! bound near this LP's value.
//!
//! Against the fluid relaxation (one price per resource, pods divisible across any nodes) it adds
//! that a pod's resources travel together, only to bins it fits on whole, and the per-class count
//! per node; against the configuration LP it drops that a node holds a whole pattern.

use super::knapsack::copies;
use super::problem::{Bin, Problem};
use clarabel::algebra::CscMatrix;
use clarabel::solver::{DefaultSettingsBuilder, DefaultSolver, IPSolver, NonnegativeConeT, SolverStatus};
use std::time::Instant;

/// The assignment LP's duals.
#[derive(Debug, Clone)]
pub struct Duals {
    /// Per class, then per capacity reservation (`w_r ≥ 0`), as [`super::colgen`] takes them.
    pub values: Vec<f64>,
    /// Per launchable bin, then per existing node: value per unit of each resource (`λ_b`).
    pub prices: Vec<Vec<f64>>,
}

/// Solve the assignment LP; `None` when there is nothing to solve, the solver fails, or the
/// deadline leaves no time. It takes at most half the time left before `deadline` (the column
/// generation gets the rest); stopped there, the last iterate's duals serve (any `y ≥ 0` gives a
/// proven bound, if a weaker one).
pub fn solve(p: &Problem, deadline: Option<Instant>) -> Option<Duals> {
    let classes = p.classes.len();
    let d = p.dims.names.len();
    let bins: Vec<&Bin> = p.bins.iter().chain(&p.fixed).collect();
    if classes == 0 || bins.is_empty() {
        return None;
    }
    let time_limit = match deadline {
        Some(t) => {
            let left = t.saturating_duration_since(Instant::now()).as_secs_f64();
            if left <= 0.0 {
                return None;
            }
            left / 2.0
        }
        None => f64::INFINITY,
    };
    // pairs (class, bin) where one pod fits whole, with m_cb; x'_cb = x_cb / n_c is the fraction of
    // the class on b, so every row is of order one
    struct Pair {
        class: usize,
        bin: usize,
        m: f64,
    }
    let mut pairs: Vec<Pair> = Vec::new();
    let mut first_pair: Vec<usize> = Vec::with_capacity(bins.len() + 1);
    for (b, bin) in bins.iter().enumerate() {
        first_pair.push(pairs.len());
        for &c in &bin.classes {
            let class = &p.classes[c as usize];
            let m = copies(&class.size, &bin.capacity).min(class.count());
            if m > 0 {
                pairs.push(Pair { class: c as usize, bin: b, m: m as f64 });
            }
        }
    }
    first_pair.push(pairs.len());
    // the resources some pod on the bin uses: one capacity row each
    let used: Vec<Vec<usize>> = (0..bins.len())
        .map(|b| (0..d).filter(|&j| bins[b].capacity[j] > 0 && pairs[first_pair[b]..first_pair[b + 1]].iter().any(|q| p.classes[q.class].size[j] > 0)).collect())
        .collect();
    let mut cap_row: Vec<usize> = Vec::with_capacity(bins.len());
    let mut rows = classes;
    for u in &used {
        cap_row.push(rows);
        rows += u.len();
    }
    let item_row = rows;
    rows += pairs.len();
    let fixed_row = rows;
    rows += p.fixed.len();
    let reserved_row = rows;
    rows += p.reservations.len();
    let vars = pairs.len() + bins.len();
    let sign_row = rows;
    rows += vars;

    let mut colptr = Vec::with_capacity(vars + 1);
    let mut rowval = Vec::new();
    let mut nzval = Vec::new();
    let mut cost = Vec::with_capacity(vars);
    colptr.push(0);
    for (k, q) in pairs.iter().enumerate() {
        let class = &p.classes[q.class];
        let n = class.count() as f64;
        let bin = bins[q.bin];
        rowval.push(q.class);
        nzval.push(-1.0);
        for (i, &j) in used[q.bin].iter().enumerate() {
            if class.size[j] > 0 {
                rowval.push(cap_row[q.bin] + i);
                nzval.push(n * class.size[j] as f64 / bin.capacity[j] as f64);
            }
        }
        rowval.extend([item_row + k, sign_row + k]);
        nzval.extend([n / q.m, -1.0]);
        cost.push(0.0);
        colptr.push(rowval.len());
    }
    for (b, bin) in bins.iter().enumerate() {
        for i in 0..used[b].len() {
            rowval.push(cap_row[b] + i);
            nzval.push(-1.0);
        }
        for k in first_pair[b]..first_pair[b + 1] {
            rowval.push(item_row + k);
            nzval.push(-1.0);
        }
        if b >= p.bins.len() {
            rowval.push(fixed_row + (b - p.bins.len()));
            nzval.push(1.0);
        } else if let Some(r) = bin.reservation {
            rowval.push(reserved_row + r as usize);
            nzval.push(1.0);
        }
        rowval.push(sign_row + pairs.len() + b);
        nzval.push(-1.0);
        cost.push(bin.price);
        colptr.push(rowval.len());
    }
    let a = CscMatrix::new(rows, vars, colptr, rowval, nzval);
    let quadratic = CscMatrix::<f64>::zeros((vars, vars));
    let mut rhs = vec![0.0; rows];
    rhs[..classes].fill(-1.0);
    rhs[fixed_row..reserved_row].fill(1.0);
    for (r, res) in p.reservations.iter().enumerate() {
        rhs[reserved_row + r] = res.count as f64;
    }
    // the duals need not be accurate (the bound is evaluated exactly from them): looser tolerances
    // than the solver's defaults (1e-8) save interior-point iterations
    let settings = DefaultSettingsBuilder::default()
        .verbose(false)
        .time_limit(time_limit)
        .tol_gap_abs(1e-6)
        .tol_gap_rel(1e-6)
        .tol_feas(1e-6)
        .build()
        .ok()?;
    let cones = [NonnegativeConeT(rows)];
    let mut solver = DefaultSolver::new(&quadratic, &cost, &a, &rhs, &cones, settings).ok()?;
    solver.solve();
    let s = &solver.solution;
    let usable = matches!(
        s.status,
        SolverStatus::Solved | SolverStatus::AlmostSolved | SolverStatus::MaxTime | SolverStatus::MaxIterations | SolverStatus::InsufficientProgress
    );
    if !usable || s.z.iter().any(|v| !v.is_finite()) {
        return None;
    }
    // back to the original rows: y_c = y'_c / n_c, λ_bj = λ'_bj / C_bj
    let nonneg = |v: f64| if v.is_finite() { v.max(0.0) } else { 0.0 };
    let values = (0..classes)
        .map(|c| nonneg(s.z[c]) / p.classes[c].count() as f64)
        .chain((0..p.reservations.len()).map(|r| nonneg(s.z[reserved_row + r])))
        .collect();
    let prices = (0..bins.len())
        .map(|b| {
            let mut l = vec![0.0; d];
            for (i, &j) in used[b].iter().enumerate() {
                l[j] = nonneg(s.z[cap_row[b] + i]) / bins[b].capacity[j] as f64;
            }
            l
        })
        .collect();
    Some(Duals { values, prices })
}
