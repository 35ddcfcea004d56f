//! The configuration LP (Gilmore–Gomory) by column generation, and a lower bound that is proven at
//! every iteration.
//!
//! The LP chooses how many nodes of each bin type run each pattern (how many pods of each class a
//! node holds) so that every pod is covered, at least cost. Column generation solves its dual with a
//! growing set of constraints, one per pattern (Kelley's cutting planes, warm-started by the dual
//! simplex of `microlp`), and prices new patterns with the knapsack of [`super::knapsack`].
//!
//! The bound does not depend on the LP being solved to optimality, or exactly: for any values
//! `y_c ≥ 0` per pod, and `θ ≥ V_b / p_b` for every bin type `b` (where `V_b` is an upper bound on
//! the total `y` a node of `b` can hold and `p_b` its price), every packing costs at least
//! `(Σ_c y_c n_c − Σ_e V_e) / θ` (Farley's bound, with `V_e` the free room of existing node `e`).
//! The `y` are rounded down to fixed-point integers and every `V` is an exact integer upper bound,
//! so the only floating-point steps are the final divisions, rounded outward.

use super::knapsack::{Item, Knapsack, Priced};
use super::master::Master;
use super::problem::{Bin, Problem};
// their home is where the packing shares them too; here for `optimize::colgen::{Column, Effort}`
pub use super::effort::Effort;
pub use super::problem::Column;
use microlp::{ComparisonOp, OptimizationDirection, Problem as Lp, Variable};
use std::time::Instant;

#[derive(Debug, Clone)]
pub struct Outcome {
    /// Proven lower bound on the hourly cost of the launched nodes of any packing.
    pub lower_bound: f64,
    /// The last restricted LP's value (the LP optimum is between the two).
    pub lp_value: f64,
    pub iterations: usize,
    /// The LP was solved (no improving pattern left, within the knapsack's search limit).
    pub converged: bool,
    /// The wall-clock limit stopped the search.
    pub timed_out: bool,
    pub columns: Vec<Column>,
    /// The values per pod behind the best bound.
    pub duals: Vec<f64>,
    /// Set when the LP solver failed; the bound is then the best one reached before.
    pub solver_error: Option<String>,
}

/// Proven bound from `y` (per class): exact integer knapsack bounds, outward-rounded division.
struct Evaluation {
    lower_bound: f64,
    /// Improving patterns, best ratio first.
    columns: Vec<(f64, Column)>,
}

fn to_f64_up(x: u128) -> f64 {
    let f = x as f64;
    if f as u128 >= x { f } else { f.next_up() }
}

fn to_f64_down(x: u128) -> f64 {
    let f = x as f64;
    if f as u128 <= x { f } else { f.next_down() }
}

/// `v / 2^s / price`, rounded up (infinite for a free bin that holds value).
fn ratio_up(v: u128, price: f64, factor: f64) -> f64 {
    if v == 0 {
        0.0
    } else if price <= 0.0 {
        f64::INFINITY
    } else {
        (to_f64_up(v) / price / factor).next_up()
    }
}

fn items_of(p: &Problem, bin: &Bin, y: &[u64]) -> (Vec<usize>, Vec<Item>) {
    let mut idx = Vec::with_capacity(bin.classes.len());
    let mut items = Vec::with_capacity(bin.classes.len());
    for &c in &bin.classes {
        if y[c as usize] > 0 {
            idx.push(c as usize);
            items.push(Item { class: c, value: y[c as usize], max: p.classes[c as usize].count() });
        }
    }
    (idx, items)
}

/// Branch-and-bound nodes for a knapsack of `items` items: fewer when each node costs more.
fn node_budget(effort: &Effort, items: usize) -> u64 {
    effort.knapsack_nodes.min(200_000 / items.max(1) as u64)
}

/// The pricing knapsack of `bin` for values `y` (fixed point); `starts` are where its Lagrangian
/// multipliers start (the fluid relaxation's resource prices, the assignment LP's prices of this
/// bin; in the same fixed point).
fn knapsack<'a>(p: &'a Problem, bin: &'a Bin, y: &[u64], lambda: Option<&[u128]>, starts: [Option<&[f64]>; 2]) -> Knapsack<'a> {
    let (idx, items) = items_of(p, bin, y);
    let mut k = Knapsack::with_multipliers(&bin.capacity, idx.iter().map(|&c| p.classes[c].size.as_slice()).collect(), items, lambda);
    for s in starts.into_iter().flatten() {
        k = k.starting_at(s);
    }
    k
}

/// Prices per unit of each resource from the fluid relaxation (pods divisible, every pod on any
/// bin): `max Σ_j D_j π_j` subject to `Σ_j cap_bj π_j ≤ p_b` for every bin. `y_c = π · size_c` is
/// then a value per pod no bin can beat, and `π` the surrogate that proves it.
pub fn resource_prices(p: &Problem) -> Option<Vec<f64>> {
    let d = p.dims.names.len();
    if p.bins.is_empty() || p.classes.is_empty() {
        return None;
    }
    let demand: Vec<f64> = (0..d).map(|j| p.classes.iter().map(|c| c.size[j] as f64 * c.count() as f64).sum()).collect();
    let scale: Vec<f64> = (0..d).map(|j| p.bins.iter().map(|b| b.capacity[j] as f64).fold(1.0, f64::max)).collect();
    let mut lp = Lp::new(OptimizationDirection::Maximize);
    let vars: Vec<Variable> = (0..d).map(|j| lp.add_var(demand[j] / scale[j], (0.0, f64::INFINITY))).collect();
    for b in &p.bins {
        let row: Vec<(Variable, f64)> = (0..d).filter(|&j| b.capacity[j] > 0).map(|j| (vars[j], b.capacity[j] as f64 / scale[j])).collect();
        lp.add_constraint(row, ComparisonOp::Le, b.price);
    }
    let sol = lp.solve().ok()?.into_solution().ok()?;
    Some((0..d).map(|j| sol.var_value(vars[j]).max(0.0) / scale[j]).collect())
}

/// `π` as integer surrogate multipliers (any non-negative integers are valid).
fn multipliers(p: &Problem, pi: &[f64]) -> Vec<u128> {
    let d = pi.len();
    let top = (0..d).map(|j| pi[j] * p.bins.iter().map(|b| b.capacity[j] as f64).fold(0.0, f64::max)).fold(0.0, f64::max);
    if top <= 0.0 || !top.is_finite() {
        return vec![0; d];
    }
    let k = 2f64.powi(58) / top;
    pi.iter().map(|&x| (x * k).floor().max(0.0) as u128).collect()
}

/// The fixed-point scale: values per pod become integers below 2^40.
fn scale(y: &[f64]) -> i32 {
    let max = y.iter().copied().fold(0.0f64, f64::max);
    if max <= 0.0 || !max.is_finite() {
        return 0;
    }
    (40 - max.log2().ceil() as i32).clamp(-60, 80)
}

/// `v` holds a value per class, then one per capacity reservation (what a node launched into it
/// is worth beyond its price, as the reservation's count is limited): with `w_r` for reservation
/// `r` of count `R_r`, every packing has `Σ_k (y·a_k − w_r(k)) x_k ≥ Σ y n − Σ w_r R_r`, so the
/// reservation's bins count `V_b − w_r` against `θ`, and `Σ w_r R_r` comes off the numerator.
fn evaluate(p: &Problem, v: &[f64], prices: Prices, effort: &Effort, want_columns: bool) -> Evaluation {
    let s = scale(v);
    let factor = 2f64.powi(s);
    let lambda = prices.multipliers;
    let start: Option<Vec<f64>> = prices.per_unit.map(|pi| pi.iter().map(|x| x * factor).collect());
    let start = start.as_deref();
    // per bin (launchable, then existing), the assignment LP's prices in the same fixed point
    let per_bin: Vec<Vec<f64>> = prices.per_bin.map(|l| l.iter().map(|v| v.iter().map(|x| x * factor).collect()).collect()).unwrap_or_default();
    let starts = |k: usize| [start, per_bin.get(k).map(|v| v.as_slice())];
    let fixed_point = |x: f64| if x > 0.0 && x.is_finite() { (x * factor).floor() as u64 } else { 0 };
    let (y, w) = v.split_at(p.classes.len());
    let yi: Vec<u64> = y.iter().map(|&x| fixed_point(x)).collect();
    let wi: Vec<u128> = w.iter().map(|&x| fixed_point(x) as u128).collect();
    let bin_w = |bin: &Bin| bin.reservation.map_or(0, |r| wi[r as usize]);
    let total: u128 = p.classes.iter().zip(&yi).map(|(c, &v)| v as u128 * c.count() as u128).sum();
    let mut columns: Vec<(f64, Column)> = Vec::new();
    // existing nodes, each solved: free room adds to what the launched nodes need not hold; a kept
    // Karpenter node counts like a launched one
    let mut free: u128 = 0;
    let mut theta = 0.0f64;
    for (e, bin) in p.fixed.iter().enumerate() {
        let k = knapsack(p, bin, &yi, lambda, starts(p.bins.len() + e));
        let pr = k.solve(node_budget(effort, k.items().len()));
        if bin.price > 0.0 {
            theta = theta.max(ratio_up(pr.upper, bin.price, factor));
        } else {
            free += pr.upper;
        }
        if want_columns && pr.value > 0 {
            let r = if bin.price > 0.0 { to_f64_down(pr.value) / factor / bin.price } else { f64::INFINITY };
            if r > 1.0 + 1e-9 {
                columns.push((r, Column { fixed: true, bin: e, pattern: pr.pattern }));
            }
        }
    }
    // launchable bins outside reservations, lazily: by root bound per dollar, refined until no
    // root bound exceeds θ
    let mut order: Vec<(f64, usize)> = p
        .bins
        .iter()
        .enumerate()
        .filter(|(_, bin)| bin.reservation.is_none())
        .map(|(b, bin)| (ratio_up(knapsack(p, bin, &yi, lambda, starts(b)).root_bound(), bin.price, factor), b))
        .collect();
    order.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
    for (solved, &(root_ratio, b)) in order.iter().enumerate() {
        let needed = root_ratio > theta;
        let for_columns = want_columns && root_ratio > 1.0 && solved < effort.columns_per_iteration * 2;
        if !needed && !for_columns {
            break;
        }
        let bin = &p.bins[b];
        let k = knapsack(p, bin, &yi, lambda, starts(b));
        let pr: Priced = k.solve(node_budget(effort, k.items().len()));
        theta = theta.max(ratio_up(pr.upper, bin.price, factor));
        let value_ratio = to_f64_down(pr.value) / factor / bin.price;
        if want_columns && value_ratio > 1.0 + 1e-9 {
            columns.push((value_ratio, Column { fixed: false, bin: b, pattern: pr.pattern }));
        }
    }
    // reserved bins, each solved: patterns priced with the master's `w`
    let mut reserved_upper: Vec<(usize, u128)> = Vec::new();
    for (b, bin) in p.bins.iter().enumerate().filter(|(_, bin)| bin.reservation.is_some()) {
        let k = knapsack(p, bin, &yi, lambda, starts(b));
        let pr: Priced = k.solve(node_budget(effort, k.items().len()));
        let value_ratio = to_f64_down(pr.value.saturating_sub(bin_w(bin))) / factor / bin.price;
        if want_columns && value_ratio > 1.0 + 1e-9 {
            columns.push((value_ratio, Column { fixed: false, bin: b, pattern: pr.pattern }));
        }
        reserved_upper.push((b, pr.upper));
    }
    // the bound, with the master's `w` and with the least `w` that keeps every reserved bin's ratio
    // within the others' θ (reserved prices are tiny, so the master's `w`, accurate to its
    // tolerance, can leave a reserved bin's `V − w` far above `θ p`); both are valid, the best counts
    let farley = |w: &[u128]| {
        let mut th = theta;
        for &(b, upper) in &reserved_upper {
            let bin = &p.bins[b];
            th = th.max(ratio_up(upper.saturating_sub(w[bin.reservation.unwrap_or(0) as usize]), bin.price, factor));
        }
        let reserved: u128 = p.reservations.iter().zip(w).map(|(r, &x)| x.saturating_mul(r.count as u128)).fold(0u128, u128::saturating_add);
        if total <= free.saturating_add(reserved) || th <= 0.0 { 0.0 } else { (to_f64_down(total - free - reserved) / factor / th).next_down().max(0.0) }
    };
    let mut lower_bound = farley(&wi);
    if !reserved_upper.is_empty() && theta > 0.0 {
        let mut least = vec![0u128; p.reservations.len()];
        for &(b, upper) in &reserved_upper {
            let bin = &p.bins[b];
            // θ p in fixed point, rounded down: `V − w` then stays within θ p up to the ratio's rounding
            let allowed = (theta * bin.price * factor).floor();
            let allowed = if allowed.is_finite() && allowed > 0.0 { allowed as u128 } else { 0 };
            let r = bin.reservation.unwrap_or(0) as usize;
            least[r] = least[r].max(upper.saturating_sub(allowed));
        }
        lower_bound = lower_bound.max(farley(&least));
    }
    columns.sort_by(|a, b| b.0.total_cmp(&a.0));
    columns.truncate(effort.columns_per_iteration);
    Evaluation { lower_bound, columns }
}

/// The fluid relaxation's resource prices, as given to the pricing knapsacks: integer surrogate
/// multipliers and per-unit values (where the Lagrangian multipliers start); and per bin the
/// assignment LP's resource prices (where they start too).
#[derive(Clone, Copy)]
struct Prices<'a> {
    multipliers: Option<&'a [u128]>,
    per_unit: Option<&'a [f64]>,
    per_bin: Option<&'a [Vec<f64>]>,
}

/// Initial patterns: per class, as many of its pods as fit on the bin that holds them cheapest per
/// pod, so that every value per pod starts bounded by a real price.
fn initial_columns(p: &Problem) -> Vec<Column> {
    let mut out = Vec::new();
    for (c, class) in p.classes.iter().enumerate() {
        let mut best: Option<(f64, usize, u64)> = None;
        for (b, bin) in p.bins.iter().enumerate() {
            if bin.classes.binary_search(&(c as u32)).is_err() {
                continue;
            }
            let n = super::knapsack::copies(&class.size, &bin.capacity).min(class.count());
            if n == 0 {
                continue;
            }
            let per = bin.price / n as f64;
            if best.is_none_or(|(x, _, _)| per < x) {
                best = Some((per, b, n));
            }
        }
        if let Some((_, b, n)) = best {
            out.push(Column { fixed: false, bin: b, pattern: vec![(c as u32, n)] });
        }
    }
    out
}

/// Run column generation within `effort`; `progress` is called after every iteration with
/// (iteration, lower bound, LP value).
pub fn solve(p: &Problem, effort: &Effort, mut progress: impl FnMut(usize, f64, f64)) -> Outcome {
    let mut columns = initial_columns(p);
    let mut out = Outcome {
        lower_bound: 0.0,
        lp_value: f64::INFINITY,
        iterations: 0,
        converged: false,
        timed_out: false,
        columns: Vec::new(),
        duals: vec![0.0; p.classes.len()],
        solver_error: None,
    };
    if p.classes.is_empty() {
        out.converged = true;
        out.lp_value = 0.0;
        return out;
    }
    let pi = resource_prices(p);
    let lambda = pi.as_ref().map(|pi| multipliers(p, pi));
    // the assignment LP's duals: values per pod where the column generation stalls, and per-bin
    // resource prices that make their Farley bound as good as that LP's value
    let compact = super::compact::solve(p, effort.deadline);
    let prices = Prices { multipliers: lambda.as_deref(), per_unit: pi.as_deref(), per_bin: compact.as_ref().map(|c| c.prices.as_slice()) };
    let y_fluid: Option<Vec<f64>> = pi.as_ref().map(|pi| p.classes.iter().map(|c| c.size.iter().zip(pi).map(|(&s, &x)| s as f64 * x).sum()).collect());
    // the fluid values with no value on reservations (the bound then takes them as unlimited)
    let v_fluid: Option<Vec<f64>> = y_fluid.as_ref().map(|y| y.iter().copied().chain(p.reservations.iter().map(|_| 0.0)).collect());
    if let Some(y) = &y_fluid {
        // the patterns of a greedy packing valued by the fluid relaxation: the master starts near a
        // good packing, so its duals mean something from the first iteration
        let rest: Vec<u64> = p.classes.iter().map(|c| c.count()).collect();
        for c in super::packing::greedy(p, y, rest, &mut vec![false; p.fixed.len()], &mut super::packing::Supply::of(p)) {
            if !columns.contains(&c) {
                columns.push(c);
            }
        }
    }
    let mut master = Master::new(p, &columns);
    if let Err(e) = master.solve(p) {
        out.solver_error = Some(e);
        out.columns = columns;
        return out;
    }
    // stabilised duals (Wentges smoothing): price a mix of the best-bound duals and the LP's
    let mut center: Option<Vec<f64>> = None;
    if let Some(y) = &v_fluid {
        // start from the fluid relaxation's values per pod
        consider(&mut out, &mut center, evaluate(p, y, prices, effort, false), y, &columns);
    }
    if let Some(c) = &compact {
        let fresh = consider(&mut out, &mut center, evaluate(p, &c.values, prices, effort, true), &c.values, &columns);
        if !fresh.is_empty() {
            let added = master.add(p, &fresh);
            columns.extend(fresh);
            if let Err(e) = added {
                out.solver_error = Some(e);
                out.columns = columns;
                return out;
            }
        }
    }
    loop {
        let (y_lp, z) = master.values();
        out.lp_value = z;
        out.iterations += 1;
        let y = match &center {
            Some(c) => c.iter().zip(&y_lp).map(|(a, b)| 0.5 * a + 0.5 * b).collect::<Vec<f64>>(),
            None => y_lp.clone(),
        };
        let mut new = consider(&mut out, &mut center, evaluate(p, &y, prices, effort, true), &y, &columns);
        new.retain(|c| master.cuts(p, c));
        if new.is_empty() && y != y_lp {
            // nothing that cuts the LP's point at the smoothed one (mispricing): price the LP's duals
            new = consider(&mut out, &mut center, evaluate(p, &y_lp, prices, effort, true), &y_lp, &columns);
            new.retain(|c| master.cuts(p, c));
        }
        progress(out.iterations, out.lower_bound, out.lp_value);
        if new.is_empty() || out.lower_bound >= z * (1.0 - 1e-9) {
            out.converged = true;
            break;
        }
        if out.iterations >= effort.max_iterations {
            break;
        }
        if effort.deadline.is_some_and(|d| Instant::now() >= d) {
            out.timed_out = true;
            break;
        }
        if let Err(e) = master.add(p, &new) {
            out.solver_error = Some(e);
            columns.extend(new);
            break;
        }
        columns.extend(new);
    }
    out.columns = columns;
    out
}

/// Keep the bound if it is the best so far (and move the stability center there); the patterns not
/// already in the master.
fn consider(out: &mut Outcome, center: &mut Option<Vec<f64>>, ev: Evaluation, y: &[f64], columns: &[Column]) -> Vec<Column> {
    if ev.lower_bound > out.lower_bound {
        out.lower_bound = ev.lower_bound;
        // the values per pod (the reservations' values follow them)
        out.duals = y[..out.duals.len()].to_vec();
        *center = Some(y.to_vec());
    }
    ev.columns.into_iter().map(|(_, c)| c).filter(|c| !columns.contains(c)).collect()
}

/// [`evaluate`]'s proven bound for given values per pod (for tests and callers with their own `y`).
pub fn farley_bound(p: &Problem, y: &[f64], effort: &Effort) -> f64 {
    let v: Vec<f64> = y.iter().copied().chain(p.reservations.iter().map(|_| 0.0)).collect();
    evaluate(p, &v, Prices { multipliers: None, per_unit: None, per_bin: None }, effort, false).lower_bound
}
