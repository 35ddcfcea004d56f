//! The pricing problem of column generation: given a value per pod of each class, the most valuable
//! set of pods one bin can hold (a bounded multi-dimensional knapsack), and a proven upper bound on
//! that value.
//!
//! Values are integers (the LP's duals in fixed point, rounded down) and sizes and capacities are the
//! exact integer resource amounts, so every bound here is exact: no floating-point error can make
//! it too low. Upper bounds come from surrogate relaxations (a non-negative integer combination of
//! the resource constraints, solved as a fractional knapsack with the last item rounded up),
//! tightened by a depth-first branch and bound.

/// One class as the knapsack sees it.
#[derive(Debug, Clone)]
pub struct Item {
    pub class: u32,
    /// Fixed-point value of one pod.
    pub value: u64,
    /// At most this many (the class's pods; fewer if fewer fit alone).
    pub max: u64,
}

/// The best pattern found and an upper bound on the best possible value.
#[derive(Debug, Clone, Default)]
pub struct Priced {
    /// `(class, count)`, counts > 0, in the order of the items given.
    pub pattern: Vec<(u32, u64)>,
    pub value: u128,
    /// No pattern of this bin is worth more (equal to `value` when the search completed).
    pub upper: u128,
}

/// How many pods of `size` fit in `cap` on their own.
pub fn copies(size: &[i64], cap: &[i64]) -> u64 {
    let mut m = u64::MAX;
    for (&s, &c) in size.iter().zip(cap) {
        if s > 0 {
            if c < s {
                return 0;
            }
            m = m.min((c / s) as u64);
        }
    }
    m
}

/// One surrogate constraint: `Σ_j lambda_j size_j ≤ Σ_j lambda_j cap_j`.
struct Surrogate {
    lambda: Vec<u128>,
    weight: Vec<u128>,
    /// Items by value per weight, best first (exact cross-multiplied comparison).
    order: Vec<usize>,
}

/// A knapsack instance for one bin.
pub struct Knapsack<'a> {
    cap: &'a [i64],
    sizes: Vec<&'a [i64]>,
    items: Vec<Item>,
    surrogates: Vec<Surrogate>,
    /// Where the searches for Lagrangian multipliers start (value per unit of each resource); the
    /// least bound of them counts.
    starts: Vec<Vec<f64>>,
}

struct Search<'k, 'a> {
    k: &'k Knapsack<'a>,
    /// Branching order (the first surrogate's).
    order: Vec<usize>,
    counts: Vec<u64>,
    limit: Vec<u64>,
    best: u128,
    best_counts: Vec<u64>,
    nodes: u64,
    node_limit: u64,
    /// The largest bound of a subtree left unexplored when the node limit stopped the search.
    open: u128,
}

impl<'a> Knapsack<'a> {
    /// Items of value 0 or that fit zero times are dropped.
    pub fn new(cap: &'a [i64], sizes: Vec<&'a [i64]>, items: Vec<Item>) -> Knapsack<'a> {
        Knapsack::with_multipliers(cap, sizes, items, None)
    }

    /// [`Knapsack::new`] with one more surrogate: `extra` (per resource, e.g. the resource prices
    /// of the fluid relaxation, which make the surrogate bound as tight as that relaxation).
    pub fn with_multipliers(cap: &'a [i64], sizes: Vec<&'a [i64]>, items: Vec<Item>, extra: Option<&[u128]>) -> Knapsack<'a> {
        let (mut s2, mut i2) = (Vec::new(), Vec::new());
        for (s, mut it) in sizes.into_iter().zip(items) {
            it.max = it.max.min(copies(s, cap));
            if it.value > 0 && it.max > 0 {
                s2.push(s);
                i2.push(it);
            }
        }
        let mut k = Knapsack { cap, sizes: s2, items: i2, surrogates: Vec::new(), starts: Vec::new() };
        let mut sets = k.multipliers();
        if let Some(e) = extra
            && !sets.is_empty()
            && e.iter().any(|&x| x > 0)
        {
            sets.push(e.to_vec());
        }
        k.surrogates = sets.into_iter().map(|l| k.surrogate(l)).collect();
        k
    }

    /// The surrogate multipliers tried: every used resource scaled to a capacity of ~2^32 and
    /// summed (balanced), each used resource alone, and two mixes of the first two resources.
    fn multipliers(&self) -> Vec<Vec<u128>> {
        let d = self.cap.len();
        let used: Vec<usize> = (0..d).filter(|&j| self.sizes.iter().any(|s| s[j] > 0)).collect();
        if used.is_empty() {
            return Vec::new();
        }
        let norm = |j: usize| -> u128 { ((1u128 << 32) / self.cap[j].max(1) as u128).max(1) };
        let balanced: Vec<u128> = (0..d).map(|j| if used.contains(&j) { norm(j) } else { 0 }).collect();
        let mut sets = vec![balanced.clone()];
        for &j in &used {
            let mut l = vec![0u128; d];
            l[j] = 1;
            sets.push(l);
        }
        if used.len() >= 2 {
            for (a, b) in [(3u128, 1u128), (1, 3)] {
                let mut l = balanced.clone();
                l[used[0]] *= a;
                l[used[1]] *= b;
                sets.push(l);
            }
        }
        sets
    }

    fn surrogate(&self, lambda: Vec<u128>) -> Surrogate {
        let weight: Vec<u128> = self.sizes.iter().map(|s| s.iter().zip(&lambda).map(|(&x, &m)| x.max(0) as u128 * m).sum()).collect();
        let mut order: Vec<usize> = (0..self.items.len()).collect();
        order.sort_by(|&a, &b| {
            let (va, vb) = (self.items[a].value as u128, self.items[b].value as u128);
            (vb * weight[a]).cmp(&(va * weight[b])).then(a.cmp(&b))
        });
        Surrogate { lambda, weight, order }
    }

    /// Start a search for Lagrangian multipliers ([`Knapsack::lagrangian_bound`]) at `lambda`
    /// (value per unit of each resource, e.g. the fluid relaxation's resource prices, or the
    /// assignment LP's duals of this bin); with several starts, the least bound counts.
    pub fn starting_at(mut self, lambda: &[f64]) -> Self {
        self.starts.push(lambda.to_vec());
        self
    }

    /// The Lagrangian bound of the knapsack's LP relaxation: for any multipliers `λ ≥ 0`, no
    /// pattern is worth more than `λ·cap + Σ_i max_i · max(0, value_i − λ·size_i)`. The surrogate
    /// bounds use a fixed set of directions, which can be far from the best one when the values are
    /// not proportional to any resource mix (column generation's duals); here `λ` is improved by
    /// coordinate descent, each coordinate minimised exactly (the breakpoint where the slope of this
    /// convex function turns positive). The search is in floating point; the bound is then
    /// evaluated with `λ` rounded to fixed point in exact integer arithmetic, so it holds whatever
    /// `λ` the search returns.
    pub fn lagrangian_bound(&self) -> u128 {
        let d = self.cap.len();
        let n = self.items.len();
        if n == 0 {
            return 0;
        }
        let used: Vec<usize> = (0..d).filter(|&j| self.sizes.iter().any(|s| s[j] > 0)).collect();
        let zero = vec![0.0; d];
        let starts: Vec<&[f64]> = if self.starts.is_empty() { vec![&zero] } else { self.starts.iter().map(|s| s.as_slice()).collect() };
        starts.into_iter().map(|s| self.descend(&used, s)).min().unwrap_or(0)
    }

    /// Coordinate descent on the Lagrangian multipliers from `start`; the bound at the end.
    fn descend(&self, used: &[usize], start: &[f64]) -> u128 {
        let d = self.cap.len();
        let n = self.items.len();
        let mut lambda: Vec<f64> = if start.len() == d { start.iter().map(|x| if x.is_finite() { x.max(0.0) } else { 0.0 }).collect() } else { vec![0.0; d] };
        let value: Vec<f64> = self.items.iter().map(|i| i.value as f64).collect();
        let mut breaks: Vec<(f64, f64)> = Vec::with_capacity(n);
        for _sweep in 0..4 {
            for &j in used {
                // a_i: the item's value net of the other resources' prices
                breaks.clear();
                for (i, (&v, s)) in value.iter().zip(&self.sizes).enumerate() {
                    let a = v - used.iter().filter(|&&l| l != j).map(|&l| lambda[l] * s[l].max(0) as f64).sum::<f64>();
                    if a > 0.0 && s[j] > 0 {
                        breaks.push((a / s[j] as f64, self.items[i].max as f64 * s[j] as f64));
                    }
                }
                // slope of λ_j·cap_j + Σ max_i (a_i − λ_j size_ij)^+ is cap_j − Σ_{t_i > λ_j} max_i size_ij
                breaks.sort_by(|x, y| y.0.total_cmp(&x.0));
                let cap = self.cap[j].max(0) as f64;
                let mut w = 0.0;
                let mut best = 0.0;
                for &(t, wi) in &breaks {
                    w += wi;
                    if w >= cap {
                        best = t;
                        break;
                    }
                }
                lambda[j] = best;
            }
        }
        self.lagrangian_value(&lambda)
    }

    /// `λ·cap + Σ_i max_i (value_i − λ·size_i)^+` with `λ` rounded down to multiples of 2^-24,
    /// exactly, rounded up to an integer.
    fn lagrangian_value(&self, lambda: &[f64]) -> u128 {
        const SHIFT: u32 = 24;
        let fixed: Vec<i128> = lambda.iter().map(|&x| if x.is_finite() && x > 0.0 { (x * (1u64 << SHIFT) as f64).floor().min(2f64.powi(70)) as i128 } else { 0 }).collect();
        let mut total: i128 = self.cap.iter().zip(&fixed).map(|(&c, &l)| c.max(0) as i128 * l).sum();
        for (i, it) in self.items.iter().enumerate() {
            let used: i128 = self.sizes[i].iter().zip(&fixed).map(|(&s, &l)| s.max(0) as i128 * l).sum();
            let net = ((it.value as i128) << SHIFT) - used;
            if net > 0 {
                total += it.max as i128 * net;
            }
        }
        (total.max(0) as u128).div_ceil(1u128 << SHIFT)
    }

    pub fn items(&self) -> &[Item] {
        &self.items
    }

    /// Upper bound on the value the undecided items (`limit[i]` more of item `i`, 0 for decided
    /// ones) can add within `rem`: the smallest of the surrogate fractional knapsacks.
    fn bound(&self, rem: &[i64], limit: &[u64]) -> u128 {
        let mut best = u128::MAX;
        for s in &self.surrogates {
            let mut cap: u128 = rem.iter().zip(&s.lambda).map(|(&r, &m)| r.max(0) as u128 * m).sum();
            let mut v = 0u128;
            for &i in &s.order {
                let n = limit[i] as u128;
                if n == 0 {
                    continue;
                }
                let (val, w) = (self.items[i].value as u128, s.weight[i]);
                if w == 0 {
                    v += val * n;
                    continue;
                }
                let take = (cap / w).min(n);
                v += take * val;
                cap -= take * w;
                if take < n {
                    v += (val * cap).div_ceil(w);
                    break;
                }
            }
            best = best.min(v);
            if best == 0 {
                break;
            }
        }
        if best == u128::MAX { 0 } else { best }
    }

    /// Greedy fill in each surrogate's order; the best of them.
    fn greedy(&self) -> (u128, Vec<u64>) {
        let mut best = (0u128, vec![0u64; self.items.len()]);
        for s in &self.surrogates {
            let mut rem: Vec<i64> = self.cap.to_vec();
            let mut counts = vec![0u64; self.items.len()];
            let mut v = 0u128;
            for &i in &s.order {
                let n = copies(self.sizes[i], &rem).min(self.items[i].max);
                if n > 0 {
                    for (r, &x) in rem.iter_mut().zip(self.sizes[i]) {
                        *r -= x * n as i64;
                    }
                    counts[i] = n;
                    v += self.items[i].value as u128 * n as u128;
                }
            }
            if v > best.0 {
                best = (v, counts);
            }
        }
        best
    }

    /// The root upper bound (no branching).
    pub fn root_bound(&self) -> u128 {
        let limit: Vec<u64> = self.items.iter().map(|i| i.max).collect();
        self.bound(self.cap, &limit)
    }

    /// Best pattern within `node_limit` branch-and-bound nodes, and a proven upper bound.
    pub fn solve(&self, node_limit: u64) -> Priced {
        let (gv, gc) = self.greedy();
        let order = self.surrogates.first().map(|s| s.order.clone()).unwrap_or_default();
        let mut s = Search {
            k: self,
            order,
            counts: vec![0; self.items.len()],
            limit: self.items.iter().map(|i| i.max).collect(),
            best: gv,
            best_counts: gc,
            nodes: 0,
            node_limit,
            open: 0,
        };
        let mut rem = self.cap.to_vec();
        s.dfs(0, &mut rem, 0);
        let pattern = s.best_counts.iter().enumerate().filter(|(_, c)| **c > 0).map(|(i, &c)| (self.items[i].class, c)).collect();
        // a search stopped early leaves the open subtrees' surrogate bounds; the Lagrangian bound
        // of the whole knapsack may be tighter
        let upper = if s.open > s.best { s.open.min(self.lagrangian_bound()).max(s.best) } else { s.best };
        Priced { pattern, value: s.best, upper }
    }
}

impl Search<'_, '_> {
    /// Explore the subtree deciding `order[depth..]`; false when the node limit stopped it (the
    /// bounds of what was left are then in `open`).
    fn dfs(&mut self, depth: usize, rem: &mut Vec<i64>, value: u128) -> bool {
        if depth == self.order.len() {
            if value > self.best {
                self.best = value;
                self.best_counts = self.counts.clone();
            }
            return true;
        }
        let i = self.order[depth];
        let most = copies(self.k.sizes[i], rem).min(self.limit[i]);
        let saved = self.limit[i];
        let mut n = most as i64;
        while n >= 0 {
            let c = n as u64;
            // the subtree where item i takes c: fixed counts so far, undecided items after it
            self.limit[i] = 0;
            for (r, &x) in rem.iter_mut().zip(self.k.sizes[i]) {
                *r -= x * c as i64;
            }
            let v = value + self.k.items[i].value as u128 * c as u128;
            let ub = v + self.k.bound(rem, &self.limit);
            let mut done = true;
            if ub > self.best {
                self.nodes += 1;
                if self.nodes > self.node_limit {
                    self.open = self.open.max(ub);
                    done = false;
                } else {
                    self.counts[i] = c;
                    done = self.dfs(depth + 1, rem, v);
                    self.counts[i] = 0;
                }
            }
            for (r, &x) in rem.iter_mut().zip(self.k.sizes[i]) {
                *r += x * c as i64;
            }
            if !done {
                // the choices c-1..0 of item i are still open: one bound covers them all
                if c > 0 {
                    self.limit[i] = c - 1;
                    let ub = value + self.k.bound(rem, &self.limit);
                    self.open = self.open.max(ub);
                }
                self.limit[i] = saved;
                return false;
            }
            n -= 1;
        }
        self.limit[i] = saved;
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every pattern by brute force.
    fn brute(cap: &[i64], sizes: &[Vec<i64>], items: &[Item]) -> u128 {
        fn go(i: usize, rem: &mut Vec<i64>, sizes: &[Vec<i64>], items: &[Item], v: u128, best: &mut u128) {
            if i == items.len() {
                *best = (*best).max(v);
                return;
            }
            for c in 0..=items[i].max {
                if rem.iter().zip(&sizes[i]).any(|(r, s)| *r < s * c as i64) {
                    break;
                }
                for (r, s) in rem.iter_mut().zip(&sizes[i]) {
                    *r -= s * c as i64;
                }
                go(i + 1, rem, sizes, items, v + items[i].value as u128 * c as u128, best);
                for (r, s) in rem.iter_mut().zip(&sizes[i]) {
                    *r += s * c as i64;
                }
            }
        }
        let mut best = 0;
        go(0, &mut cap.to_vec(), sizes, items, 0, &mut best);
        best
    }

    #[test]
    fn branch_and_bound_is_exact_and_bounds_hold_when_stopped_early() {
        use rand::{RngExt, SeedableRng};
        let mut rng = rand::rngs::Xoshiro256PlusPlus::seed_from_u64(7);
        for _ in 0..300 {
            let d = 3;
            let cap: Vec<i64> = (0..d).map(|_| rng.random_range(5..60)).collect();
            let n = rng.random_range(1..6);
            let sizes: Vec<Vec<i64>> = (0..n).map(|_| (0..d).map(|_| rng.random_range(0..20)).collect()).collect();
            let items: Vec<Item> = (0..n).map(|i| Item { class: i as u32, value: rng.random_range(0..1000), max: rng.random_range(1..6) }).collect();
            let exact = brute(&cap, &sizes, &items);
            let k = Knapsack::new(&cap, sizes.iter().map(|s| s.as_slice()).collect(), items.clone());
            assert!(k.root_bound() >= exact, "root bound {} below the optimum {exact}", k.root_bound());
            let full = k.solve(u64::MAX);
            assert_eq!(full.value, exact);
            assert_eq!(full.upper, exact);
            for limit in [0, 1, 3] {
                let p = k.solve(limit);
                assert!(p.value <= exact && p.upper >= exact, "limit {limit}: value {} upper {} exact {exact}", p.value, p.upper);
                // the pattern is what it claims
                let v: u128 = p.pattern.iter().map(|&(c, n)| items[c as usize].value as u128 * n as u128).sum();
                assert_eq!(v, p.value);
                for j in 0..d {
                    let used: i64 = p.pattern.iter().map(|&(c, n)| sizes[c as usize][j] * n as i64).sum();
                    assert!(used <= cap[j]);
                }
            }
        }
    }

    /// Many small items whose values follow no single resource mix (column generation's duals on
    /// a random workload): the branch and bound cannot finish, and the surrogate bounds alone were
    /// more than twice the best pattern's value; the Lagrangian bound stays within a few percent.
    #[test]
    fn stopped_search_on_many_small_items_keeps_a_tight_upper_bound() {
        use rand::{RngExt, SeedableRng};
        let mut rng = rand::rngs::Xoshiro256PlusPlus::seed_from_u64(15);
        let cap = vec![64_000i64, 256 << 10, 234];
        let sizes: Vec<Vec<i64>> = (0..400).map(|_| vec![rng.random_range(1..80) * 100, rng.random_range(1..256) * 128, 1]).collect();
        let items: Vec<Item> = (0..400).map(|i| Item { class: i as u32, value: rng.random_range(1..1_000_000), max: 1 }).collect();
        let k = Knapsack::new(&cap, sizes.iter().map(|s| s.as_slice()).collect(), items);
        let p = k.solve(2_000);
        assert!(p.upper >= p.value);
        assert!((p.upper as f64) < p.value as f64 * 1.05, "value {} upper {}", p.value, p.upper);
    }
}
