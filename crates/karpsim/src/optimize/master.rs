//! The restricted master of the column generation, solved by an interior-point method (`clarabel`).
//!
//! The master is the configuration LP over the patterns generated so far: `min Σ p_k x_k` subject
//! to covering every class (`Σ_k a_ck x_k ≥ n_c`), each existing node used at most once, at most
//! `R_r` nodes launched into capacity reservation `r`, `x ≥ 0`.
//! Its duals are what the pricing values pods at. A simplex returns a vertex of the dual optimal
//! face, and on workloads with hundreds of pod shapes that face is huge and degenerate: successive
//! vertices jump around, the new patterns they price barely move the LP, and the column generation
//! stalls (the cutting-plane "tailing off"). An interior-point method stops near the analytic
//! center of that face instead, so the duals are central and the patterns priced at them are useful
//! (Gondzio, González-Brevis and Munari, "New developments in the primal-dual column generation
//! technique", EJOR 2013). The master is solved afresh every iteration (an interior-point method
//! has no useful warm start); its size follows the number of patterns, which the iteration limit
//! bounds.
//!
//! The duals need not be optimal, or even feasible, for the bound to be proven: [`super::colgen`]
//! evaluates Farley's bound, valid for any non-negative values per pod, in exact arithmetic.

use super::problem::Column;
use super::problem::Problem;
use clarabel::algebra::CscMatrix;
use clarabel::solver::{DefaultSettingsBuilder, DefaultSolver, IPSolver, NonnegativeConeT, SolverStatus};

pub struct Master {
    columns: Vec<Column>,
    /// Cost of leaving a pod uncovered: an upper bound on any value per pod, so the LP is feasible
    /// from the first iteration and its duals bounded.
    penalty: f64,
    /// Values per pod (one per class, then one per reservation) and per existing node's room,
    /// with the objective.
    solution: Option<(Vec<f64>, Vec<f64>, f64)>,
}

impl Master {
    pub fn new(p: &Problem, columns: &[Column]) -> Master {
        let penalty = p.bins.iter().chain(&p.fixed).map(|b| b.price).fold(1.0f64, f64::max) * 2.0;
        Master { columns: columns.to_vec(), penalty, solution: None }
    }

    /// Solve the master over the columns it holds.
    pub fn solve(&mut self, p: &Problem) -> Result<(), String> {
        let classes = p.classes.len();
        let fixed = p.fixed.len();
        let reserved = p.reservations.len();
        // variables: one artificial per class (covers one pod at `penalty`), then the columns;
        // rows: coverage (`-a·x ≤ -n`), existing nodes (`Σ x ≤ 1`), reservations (`Σ x ≤ R`),
        // then `-x ≤ 0` per variable
        let vars = classes + self.columns.len();
        let bounds = classes + fixed + reserved;
        let rows = bounds + vars;
        let mut colptr = Vec::with_capacity(vars + 1);
        let mut rowval = Vec::new();
        let mut nzval = Vec::new();
        let mut cost = Vec::with_capacity(vars);
        colptr.push(0);
        for c in 0..classes {
            rowval.extend([c, bounds + c]);
            nzval.extend([-1.0, -1.0]);
            cost.push(self.penalty);
            colptr.push(rowval.len());
        }
        for (k, col) in self.columns.iter().enumerate() {
            let mut entries: Vec<(usize, f64)> = col.pattern.iter().filter(|&&(_, n)| n > 0).map(|&(c, n)| (c as usize, -(n as f64))).collect();
            entries.sort_by_key(|&(r, _)| r);
            if col.fixed {
                entries.push((classes + col.bin, 1.0));
                cost.push(p.fixed[col.bin].price);
            } else {
                if let Some(r) = p.bins[col.bin].reservation {
                    entries.push((classes + fixed + r as usize, 1.0));
                }
                cost.push(p.bins[col.bin].price);
            }
            entries.push((bounds + classes + k, -1.0));
            for (r, v) in entries {
                rowval.push(r);
                nzval.push(v);
            }
            colptr.push(rowval.len());
        }
        let a = CscMatrix::new(rows, vars, colptr, rowval, nzval);
        let quadratic = CscMatrix::<f64>::zeros((vars, vars));
        let mut b = vec![0.0; rows];
        for (c, class) in p.classes.iter().enumerate() {
            b[c] = -(class.count() as f64);
        }
        for e in 0..fixed {
            b[classes + e] = 1.0;
        }
        for (r, res) in p.reservations.iter().enumerate() {
            b[classes + fixed + r] = res.count as f64;
        }
        let settings = DefaultSettingsBuilder::default().verbose(false).build().map_err(|e| e.to_string())?;
        let cones = [NonnegativeConeT(rows)];
        let mut solver = DefaultSolver::new(&quadratic, &cost, &a, &b, &cones, settings).map_err(|e| format!("{e:?}"))?;
        solver.solve();
        let s = &solver.solution;
        match s.status {
            SolverStatus::Solved | SolverStatus::AlmostSolved => {}
            other => return Err(format!("the interior-point master stopped: {other:?}")),
        }
        let y = s.z[..classes].iter().chain(&s.z[classes + fixed..bounds]).map(|&v| v.max(0.0)).collect();
        let u = s.z[classes..classes + fixed].iter().map(|&v| v.max(0.0)).collect();
        self.solution = Some((y, u, s.obj_val));
        Ok(())
    }

    /// Add columns and solve again.
    pub fn add(&mut self, p: &Problem, cols: &[Column]) -> Result<(), String> {
        self.columns.extend_from_slice(cols);
        self.solve(p)
    }

    /// Values per pod (per class, then per reservation) and the LP's value.
    pub fn values(&self) -> (Vec<f64>, f64) {
        let (y, _, z) = self.solution.as_ref().expect("solved");
        (y.clone(), *z)
    }

    /// Whether the column prices above its cost at the master's duals (so adding it moves the LP).
    pub fn cuts(&self, p: &Problem, c: &Column) -> bool {
        let (y, u, _) = self.solution.as_ref().expect("solved");
        let lhs: f64 = c.pattern.iter().map(|&(k, n)| n as f64 * y[k as usize]).sum();
        let rhs = if c.fixed {
            p.fixed[c.bin].price + u[c.bin]
        } else {
            p.bins[c.bin].price + p.bins[c.bin].reservation.map_or(0.0, |r| y[p.classes.len() + r as usize])
        };
        lhs > rhs * (1.0 + 1e-7) + 1e-12
    }
}
