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
        let mut k = Knapsack { cap, sizes: s2, items: i2, surrogates: Vec::new() };
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
        Priced { pattern, value: s.best, upper: s.best.max(s.open) }
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
}
