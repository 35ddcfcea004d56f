//! The cheapest packing found: the patterns of column generation chosen by an integer program (or
//! the LP rounded down), the rest packed greedily, each node then moved to the cheapest bin that
//! holds it, and every node checked with the scheduler's feasibility rules
//! ([`crate::scheduling::feasibility`]).

use super::effort::Effort;
use super::knapsack::{Item, Knapsack};
use super::problem::{Column, Origin, Problem};
use crate::scheduling::ClusterView;
use crate::scheduling::feasibility::{check_existing_node, check_new_node};
use microlp::{ComparisonOp, OptimizationDirection, Problem as Lp, SolveOptions};
use std::time::Instant;

/// One node of a packing: a bin (launchable or existing) and the pods on it (problem pod indices).
#[derive(Debug, Clone, PartialEq)]
pub struct PackedNode {
    pub fixed: bool,
    pub bin: usize,
    pub pods: Vec<usize>,
}

/// Node counts per column, and the pods left over.
struct Cover {
    counts: Vec<u64>,
}

fn lp_cover(p: &Problem, columns: &[Column], integer: bool, hint: Option<&[u64]>, effort: &Effort) -> Option<Cover> {
    let mut lp = Lp::new(OptimizationDirection::Minimize);
    let mut vars = Vec::with_capacity(columns.len());
    for c in columns {
        let price = if c.fixed { p.fixed[c.bin].price } else { p.bins[c.bin].price };
        let ub = c.pattern.iter().map(|&(k, n)| p.classes[k as usize].count().div_ceil(n)).max().unwrap_or(0);
        let ub = if c.fixed { 1 } else { ub.min(i32::MAX as u64) };
        vars.push(if integer { lp.add_integer_var(price, (0, ub as i32)) } else { lp.add_var(price, (0.0, ub as f64)) });
    }
    let mut rows: Vec<Vec<(microlp::Variable, f64)>> = vec![Vec::new(); p.classes.len()];
    let mut per_fixed: Vec<Vec<(microlp::Variable, f64)>> = vec![Vec::new(); p.fixed.len()];
    let mut per_reservation: Vec<Vec<(microlp::Variable, f64)>> = vec![Vec::new(); p.reservations.len()];
    for (c, v) in columns.iter().zip(&vars) {
        for &(k, n) in &c.pattern {
            rows[k as usize].push((*v, n as f64));
        }
        if c.fixed {
            per_fixed[c.bin].push((*v, 1.0));
        } else if let Some(r) = p.bins[c.bin].reservation {
            per_reservation[r as usize].push((*v, 1.0));
        }
    }
    for (k, row) in rows.into_iter().enumerate() {
        if row.is_empty() {
            return None;
        }
        lp.add_constraint(row, ComparisonOp::Ge, p.classes[k].count() as f64);
    }
    for row in per_fixed.into_iter().filter(|r| r.len() > 1) {
        lp.add_constraint(row, ComparisonOp::Le, 1.0);
    }
    for (r, row) in per_reservation.into_iter().enumerate().filter(|(_, r)| !r.is_empty()) {
        lp.add_constraint(row, ComparisonOp::Le, p.reservations[r].count as f64);
    }
    let mut options = SolveOptions::default();
    options.node_limit = Some(300);
    options.time_limit = effort.deadline.map(|d| d.saturating_duration_since(Instant::now()));
    options.warm_start = hint.map(|h| vars.iter().zip(h).map(|(v, &n)| (*v, n as f64)).collect());
    let sol = lp.solve_with(options).ok()?.into_solution().ok()?;
    Some(Cover { counts: vars.iter().map(|&v| if integer { sol.var_value(v).round().max(0.0) as u64 } else { sol.var_value(v).max(0.0).floor() as u64 }).collect() })
}

/// Pods per class still uncovered by `counts` of `columns`.
fn residual(p: &Problem, columns: &[Column], counts: &[u64]) -> Vec<u64> {
    let mut r: Vec<u64> = p.classes.iter().map(|c| c.count()).collect();
    for (c, &x) in columns.iter().zip(counts) {
        for &(k, n) in &c.pattern {
            r[k as usize] = r[k as usize].saturating_sub(n * x);
        }
    }
    r
}

/// Nodes each capacity reservation can still take in a packing.
pub(crate) struct Supply(Vec<u64>);

impl Supply {
    pub(crate) fn of(p: &Problem) -> Supply {
        Supply(p.reservations.iter().map(|r| r.count).collect())
    }

    /// Nodes of launchable bin `bin` that can still be added (unlimited outside reservations).
    fn left(&self, p: &Problem, bin: usize) -> u64 {
        p.bins[bin].reservation.map_or(u64::MAX, |r| self.0[r as usize])
    }

    fn take(&mut self, p: &Problem, bin: usize, n: u64) {
        if let Some(r) = p.bins[bin].reservation {
            self.0[r as usize] -= n;
        }
    }

    fn give_back(&mut self, p: &Problem, bin: usize) {
        if let Some(r) = p.bins[bin].reservation {
            self.0[r as usize] += 1;
        }
    }
}

/// Cover the residual greedily: the pattern with the most value per dollar (existing nodes first,
/// each once; reserved bins while their reservation lasts), values `y` plus a small share of each
/// pod's size so that every pod counts.
pub(crate) fn greedy(p: &Problem, y: &[f64], mut rest: Vec<u64>, used_fixed: &mut [bool], supply: &mut Supply) -> Vec<Column> {
    let weight: Vec<f64> = {
        let min_price = p.bins.iter().map(|b| b.price).filter(|x| *x > 0.0).fold(f64::INFINITY, f64::min);
        let eps = if min_price.is_finite() { min_price * 1e-3 } else { 1e-3 };
        y.iter().map(|v| v.max(0.0) + eps).collect()
    };
    let max_w = weight.iter().copied().fold(0.0, f64::max);
    let factor = if max_w > 0.0 { 2f64.powi(40 - max_w.log2().ceil() as i32) } else { 1.0 };
    let wi: Vec<u64> = weight.iter().map(|w| ((w * factor).floor() as u64).max(1)).collect();
    let mut out = Vec::new();
    while rest.iter().any(|&r| r > 0) {
        let mut best: Option<(f64, Column)> = None;
        let candidates = p.fixed.iter().enumerate().map(|(i, b)| (true, i, b)).chain(p.bins.iter().enumerate().map(|(i, b)| (false, i, b)));
        for (fixed, i, bin) in candidates {
            if (fixed && used_fixed[i]) || (!fixed && supply.left(p, i) == 0) {
                continue;
            }
            let mut idx = Vec::new();
            let mut items = Vec::new();
            for &c in &bin.classes {
                if rest[c as usize] > 0 {
                    idx.push(c as usize);
                    items.push(Item { class: c, value: wi[c as usize], max: rest[c as usize] });
                }
            }
            if items.is_empty() {
                continue;
            }
            let k = Knapsack::new(&bin.capacity, idx.iter().map(|&c| p.classes[c].size.as_slice()).collect(), items);
            let pr = k.solve(0);
            if pr.value == 0 {
                continue;
            }
            let ratio = if bin.price <= 0.0 { f64::INFINITY } else { pr.value as f64 / bin.price };
            if best.as_ref().is_none_or(|(r, _)| ratio > *r) {
                best = Some((ratio, Column { fixed, bin: i, pattern: pr.pattern }));
            }
        }
        let Some((_, col)) = best else { break };
        // the same pattern as often as the rest allows (one existing node is used once)
        let times = if col.fixed { 1 } else { col.pattern.iter().map(|&(k, n)| rest[k as usize] / n).min().unwrap_or(1).max(1).min(supply.left(p, col.bin)) };
        for &(k, n) in &col.pattern {
            rest[k as usize] -= n * times;
        }
        if col.fixed {
            used_fixed[col.bin] = true;
        } else {
            supply.take(p, col.bin, times);
        }
        for _ in 0..times {
            out.push(col.clone());
        }
    }
    out
}

/// Turn patterns with counts into nodes holding concrete pods; surplus places stay empty.
fn assign(p: &Problem, columns: &[Column], counts: &[u64]) -> Vec<PackedNode> {
    let mut next: Vec<usize> = vec![0; p.classes.len()];
    let mut nodes = Vec::new();
    for (c, &x) in columns.iter().zip(counts) {
        for _ in 0..x {
            let mut pods = Vec::new();
            for &(k, n) in &c.pattern {
                let class = &p.classes[k as usize];
                let take = (n as usize).min(class.pods.len() - next[k as usize]);
                pods.extend_from_slice(&class.pods[next[k as usize]..next[k as usize] + take]);
                next[k as usize] += take;
            }
            if !pods.is_empty() {
                nodes.push(PackedNode { fixed: c.fixed, bin: c.bin, pods });
            }
        }
    }
    nodes
}

/// Move each launched node to the cheapest bin that takes all its classes and holds its load (and,
/// for a reserved bin, whose reservation has a node left).
fn downsize(p: &Problem, nodes: &mut [PackedNode], class_of: &[u32], supply: &mut Supply) {
    for n in nodes.iter_mut().filter(|n| !n.fixed) {
        let mut load = vec![0i64; p.dims.names.len()];
        let mut cls: Vec<u32> = n.pods.iter().map(|&i| class_of[i]).collect();
        cls.sort_unstable();
        cls.dedup();
        for &i in &n.pods {
            for (l, s) in load.iter_mut().zip(&p.classes[class_of[i] as usize].size) {
                *l += s;
            }
        }
        // bins are cheapest first
        if let Some(b) = p.bins.iter().enumerate().position(|(i, b)| {
            supply.left(p, i) > 0 && b.capacity.iter().zip(&load).all(|(c, l)| c >= l) && cls.iter().all(|c| b.classes.binary_search(c).is_ok())
        }) && p.bins[b].price < p.bins[n.bin].price
        {
            supply.give_back(p, n.bin);
            supply.take(p, b, 1);
            n.bin = b;
        }
    }
}

/// The hourly cost of a packing (nodes that stay anyway are free).
pub fn cost(p: &Problem, nodes: &[PackedNode]) -> f64 {
    nodes.iter().map(|n| if n.fixed { p.fixed[n.bin].price } else { p.bins[n.bin].price }).sum()
}

/// Check every node with the scheduler's rules; pods a node cannot hold move to nodes of their own.
/// Returns the notes of what had to move (empty when the packing was valid as built).
fn validate(view: &ClusterView, p: &Problem, nodes: &mut Vec<PackedNode>, class_of: &[u32], supply: &mut Supply) -> Vec<String> {
    let mut notes = Vec::new();
    let mut evicted: Vec<usize> = Vec::new();
    for n in nodes.iter_mut() {
        loop {
            let pods: Vec<&crate::model::Pod> = n.pods.iter().map(|&i| p.pods[i]).collect();
            let r = check(view, p, n, &pods);
            match r {
                Ok(()) => break,
                Err(e) => {
                    notes.push(e);
                    match n.pods.pop() {
                        Some(i) => evicted.push(i),
                        None => break,
                    }
                }
            }
        }
    }
    nodes.retain(|n| {
        if n.pods.is_empty() && !n.fixed {
            supply.give_back(p, n.bin);
        }
        !n.pods.is_empty()
    });
    for i in evicted {
        let c = class_of[i];
        let pod = [p.pods[i]];
        let home = p.bins.iter().enumerate().find(|(b, bin)| {
            supply.left(p, *b) > 0
                && bin.classes.binary_search(&c).is_ok()
                && check(view, p, &PackedNode { fixed: false, bin: *b, pods: vec![i] }, &pod).is_ok()
        });
        match home {
            Some((b, _)) => {
                supply.take(p, b, 1);
                nodes.push(PackedNode { fixed: false, bin: b, pods: vec![i] });
            }
            None => notes.push(format!("pod {}/{} has no node of its own in the packing", p.pods[i].namespace, p.pods[i].name)),
        }
    }
    notes
}

fn check(view: &ClusterView, p: &Problem, n: &PackedNode, pods: &[&crate::model::Pod]) -> Result<(), String> {
    let bin = if n.fixed { &p.fixed[n.bin] } else { &p.bins[n.bin] };
    match bin.origin {
        Origin::Launch { template, type_index, offering } => {
            let of = &view.templates[template].types[type_index as usize].it.offerings[offering];
            check_new_node(view, template, type_index, of, pods)
        }
        Origin::Existing { node } => check_existing_node(view, node, pods),
    }
}

/// The best packing from the generated columns and values per pod `y`.
pub fn best_packing(view: &ClusterView, p: &Problem, columns: &[Column], y: &[f64], effort: &Effort) -> (Vec<PackedNode>, Vec<String>) {
    let mut class_of = vec![u32::MAX; p.pods.len()];
    for (k, c) in p.classes.iter().enumerate() {
        for &i in &c.pods {
            class_of[i] = k as u32;
        }
    }
    // the LP rounded down, the rest greedily
    let floor = lp_cover(p, columns, false, None, effort).map(|c| c.counts).unwrap_or_else(|| vec![0; columns.len()]);
    let mut used_fixed = vec![false; p.fixed.len()];
    let mut supply = Supply::of(p);
    for (c, &x) in columns.iter().zip(&floor) {
        if c.fixed && x > 0 {
            used_fixed[c.bin] = true;
        } else if !c.fixed {
            supply.take(p, c.bin, x);
        }
    }
    let extra = greedy(p, y, residual(p, columns, &floor), &mut used_fixed, &mut supply);
    let mut all: Vec<Column> = columns.to_vec();
    let mut counts = floor.clone();
    for e in extra {
        match all.iter().position(|c| *c == e) {
            Some(i) => counts[i] += 1,
            None => {
                all.push(e);
                counts.push(1);
            }
        }
    }
    let mut nodes = assign(p, &all, &counts);
    // an integer program over the same patterns, started from that packing, when it is small enough
    if all.len() <= 3_000 && p.classes.len() <= 500
        && let Some(mip) = lp_cover(p, &all, true, Some(&counts), effort)
    {
        let m = assign(p, &all, &mip.counts);
        if m.iter().map(|n| n.pods.len()).sum::<usize>() == p.total_pods() && cost(p, &m) < cost(p, &nodes) {
            nodes = m;
        }
    }
    // what the nodes use of each reservation, as built (the integer program respects the counts)
    let mut supply = Supply::of(p);
    for n in nodes.iter().filter(|n| !n.fixed) {
        if supply.left(p, n.bin) > 0 {
            supply.take(p, n.bin, 1);
        }
    }
    downsize(p, &mut nodes, &class_of, &mut supply);
    let notes = validate(view, p, &mut nodes, &class_of, &mut supply);
    (nodes, notes)
}
