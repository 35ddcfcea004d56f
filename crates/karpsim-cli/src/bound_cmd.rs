//! `karpsim bound`: Karpenter's cost, the cost after consolidation, a proven lower bound and the
//! cheapest packing found for the inputs' pods.

use crate::Report;
use crate::args::Output;
use crate::scheduler_opts::SchedulerOpts;
use crate::json_out::json;
use crate::table::{Table, usd};
use clap::Args;
use karpsim::optimize::bound::{BoundOptions, BoundResult, bound_with_progress};
use karpsim::{Error, Result};
use std::collections::BTreeMap;
use std::io::{IsTerminal, Write};
use std::path::PathBuf;

#[derive(Debug, Args)]
#[command(after_help = "The lower bound is proven: no set of nodes the NodePools can launch holds these pods for less, \
under the constraints listed as included (topology spread, pod affinity, host ports, limits and minValues are relaxed, \
which can only lower it). It stays proven when the search stops early (time limit, iterations).\n\n\
Example:\n  karpsim bound -f examples/bound/two-shapes.yaml -f examples/bound/nodepool-all-types.yaml \\\n    \
-f examples/online-boutique/kube-prometheus-node-exporter-daemonset.yaml")]
pub struct BoundArgs {
    /// YAML/JSON file or directory of manifests or a snapshot: NodePools, EC2NodeClasses, workloads, Nodes (repeatable).
    #[arg(short = 'f', long = "filename", value_name = "FILE_OR_DIR", required = true)]
    pub files: Vec<PathBuf>,
    #[command(flatten)]
    pub catalog: crate::catalog_opts::CatalogOpts,
    #[command(flatten)]
    pub scheduler: SchedulerOpts,
    #[command(flatten)]
    pub rounds: crate::args::RoundsOpts,
    #[command(flatten)]
    pub work: crate::args::WorkOpts,
    /// Stop the search after this many seconds (the bound stays proven; results then depend on the machine's speed).
    #[arg(long, value_name = "SECONDS")]
    pub time_limit: Option<f64>,
    /// Column-generation iterations at most (a deterministic limit on the search).
    #[arg(long, value_name = "N", default_value_t = 400)]
    pub max_iterations: usize,
    /// Skip consolidation of Karpenter's result (faster).
    #[arg(long)]
    pub no_consolidation: bool,
    /// Output format.
    #[arg(short = 'o', long, value_enum, default_value_t = Output::Table)]
    pub output: Output,
}

pub fn execute(args: &BoundArgs) -> Result<Report> {
    let source = args.catalog.source()?;
    if let Some(t) = args.time_limit
        && !(t.is_finite() && t > 0.0)
    {
        return Err(Error::Option { option: "--time-limit".into(), message: format!("{t} is not a positive number of seconds") });
    }
    let state = args.catalog.load_state(&args.files, &source, args.work.limits())?;
    let opts = BoundOptions {
        provisioning: args.scheduler.provisioning(),
        consolidate: !args.no_consolidation,
        max_iterations: args.max_iterations.max(1),
        time_limit_seconds: args.time_limit,
        disruption: karpsim::disruption::DisruptionOptions { max_rounds: args.rounds.max_rounds(), ..Default::default() },
    };
    let tty = std::io::stderr().is_terminal();
    let mut progress = |i: usize, lb: f64, lp: f64| {
        if tty && i.is_multiple_of(5) {
            let _ = write!(std::io::stderr().lock(), "\rbound: iteration {i}, lower bound ${lb:.4}/h, LP ${lp:.4}/h   ");
        }
    };
    let result = bound_with_progress(&state, &opts, &mut progress);
    if tty {
        let _ = write!(std::io::stderr().lock(), "\r{:70}\r", "");
    }
    let report = match args.output {
        Output::Json => Report { stdout: json(&result)?, warnings: Vec::new() },
        Output::Table => Report { stdout: render_table(&result), warnings: result.warnings.clone() },
    };
    crate::release(result);
    crate::release(state);
    Ok(report)
}

fn percent_over(x: f64, base: f64) -> String {
    if base > 0.0 { format!("{:+.1}%", (x / base - 1.0) * 100.0) } else { "-".into() }
}

/// The result for people.
pub fn render_table(r: &BoundResult) -> String {
    let mut out = String::new();
    let scope = if r.scope == "cluster" { "the pending pods and the pods on Karpenter nodes" } else { "the pending pods" };
    out.push_str(&format!("bound over {scope}: {} pod(s) in {} class(es), {} node kind(s)\n", r.pods, r.pod_classes, r.bin_types));
    let lb = r.lower_bound_per_hour;
    let mut t = Table::new(&[("", false), ("$/H", true), ("VS BOUND", true), ("NODES", true), ("PENDING", true)]);
    t.row(vec!["karpenter".into(), usd(r.karpenter.cost_per_hour), percent_over(r.karpenter.cost_per_hour, lb), r.karpenter.nodes.to_string(), r.karpenter.pending.to_string()]);
    if let Some(a) = &r.after_consolidation {
        t.row(vec!["after consolidation".into(), usd(a.cost_per_hour), percent_over(a.cost_per_hour, lb), a.nodes.to_string(), a.pending.to_string()]);
    }
    t.row(vec![
        format!("best packing found ({})", r.best_packing.source),
        usd(r.best_packing.cost_per_hour),
        percent_over(r.best_packing.cost_per_hour, lb),
        r.best_packing.nodes.len().to_string(),
        "0".into(),
    ]);
    t.row(vec!["lower bound (proven)".into(), usd(lb), String::new(), String::new(), String::new()]);
    out.push_str(&t.render());
    match r.gap {
        Some(g) => out.push_str(&format!("gap: Karpenter's cost is {g:.2}x the lower bound\n")),
        None => out.push_str("gap: - (the lower bound is 0)\n"),
    }
    if !r.solver.converged {
        out.push_str(&format!(
            "search stopped after {} iteration(s) (LP value ${}/h): a longer search may raise the bound\n",
            r.solver.iterations,
            usd(r.solver.lp_value_per_hour)
        ));
    }
    // the packing, grouped
    // (nodepool, type, capacity type, existing or new) -> (nodes, price, pods)
    type Group = BTreeMap<(String, String, String, String), (usize, f64, usize)>;
    let mut groups: Group = BTreeMap::new();
    for n in &r.best_packing.nodes {
        let key = (n.nodepool.clone(), n.instance_type.clone(), n.capacity_type.clone(), if n.existing.is_some() { "existing".into() } else { "new".into() });
        let e = groups.entry(key).or_insert((0, n.price_per_hour, 0));
        e.0 += 1;
        e.2 += n.pods.len();
    }
    if !groups.is_empty() {
        out.push_str("\nbest packing:\n");
        let mut t = Table::new(&[("  NODES", true), ("NODEPOOL", false), ("INSTANCE TYPE", false), ("CAPACITY", false), ("", false), ("$/H EACH", true), ("PODS", true)]);
        let mut rows: Vec<_> = groups.into_iter().collect();
        rows.sort_by(|a, b| (b.1.0 as f64 * b.1.1).total_cmp(&(a.1.0 as f64 * a.1.1)).then(a.0.cmp(&b.0)));
        for ((pool, it, ct, kind), (n, price, pods)) in rows {
            t.row(vec![format!("  {n}"), pool, it, ct, kind, usd(price), pods.to_string()]);
        }
        out.push_str(&t.render());
    }
    out.push_str("\nincluded: ");
    out.push_str(&r.constraints.included.join("; "));
    out.push_str("\nrelaxed:  ");
    out.push_str(&r.constraints.relaxed.join("; "));
    out.push('\n');
    out
}
