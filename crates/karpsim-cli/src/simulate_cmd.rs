//! `karpsim simulate`: one scenario over simulated time, summarised, as JSON, or as CSV files.

use crate::Report;
use crate::args::SimulateArgs;
use crate::json_out::json;
use crate::provision_cmd::HOURS_PER_MONTH;
use crate::table::{Table, usd};
use crate::units::{OutputSpec, parse_duration, parse_output};
use karpsim::sim::whatif::summarize;
use crate::ui::{Ui, Unit};
use karpsim::sim::{Breakdown, Scenario, SimOptions, SimResult, simulate_with_progress};
use karpsim::{Error, Result};
use std::collections::BTreeMap;
use std::path::Path;

/// The longest run the scenario loader accepts (`sim/scenario.rs`), checked for `--duration` too.
const MAX_DURATION_S: f64 = 400.0 * 86_400.0;

/// The hourly view shows at most about this many rows; longer runs use a coarser step.
const MAX_VIEW_ROWS: f64 = 48.0;

/// `--duration` in seconds, within the scenario loader's limits.
pub fn duration(s: &str) -> Result<f64> {
    let d = parse_duration("--duration", s)?;
    if d > MAX_DURATION_S {
        return Err(Error::Option { option: "--duration".into(), message: format!("{s} is longer than 400 days") });
    }
    Ok(d)
}

/// Load a scenario and apply the command line's overrides.
pub fn load(path: &Path, duration_arg: Option<&str>, seed: Option<u64>, limits: karpsim::WorkLimits) -> Result<Scenario> {
    // Check the options before the (slower) scenario load.
    let d = duration_arg.map(duration).transpose()?;
    let mut sc = Scenario::load_with(path, limits)?;
    if let Some(d) = d {
        sc.duration = d;
    }
    if let Some(s) = seed {
        sc.seed = s;
    }
    Ok(sc)
}

/// The headline numbers of a run (`summary.json`, and the table's first block).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Summary {
    pub scenario: String,
    pub seed: u64,
    pub duration_h: f64,
    /// USD over the run (node prices × billed lifetimes, plus capacity reservations' fees).
    pub total_cost: f64,
    /// The capacity reservations' part of `total_cost`.
    pub reservation_cost: f64,
    /// Time-weighted means over the samples.
    pub mean_cost_per_hour: f64,
    pub mean_nodes: f64,
    /// Mean requested ÷ mean allocatable.
    pub cpu_utilization: f64,
    pub memory_utilization: f64,
    /// Time from pending to bound, over every pod that was scheduled.
    pub pods_scheduled: usize,
    pub pod_wait_p50_s: f64,
    pub pod_wait_p95_s: f64,
    pub pod_wait_p99_s: f64,
    /// Disruption commands executed, by method.
    pub disruptions: BTreeMap<String, u64>,
    pub interruptions: u64,
    pub evictions: u64,
    pub nodes_launched: u64,
    pub pods_pending_at_end: usize,
    /// USD over the run of the proven lower bound (when the run sampled it): what the cheapest
    /// cluster for the same pods, moment by moment, would have cost at least.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lower_bound_total: Option<f64>,
    pub warnings: Vec<String>,
}

pub fn summary(r: &SimResult) -> Summary {
    let row = summarize(&r.scenario, r);
    Summary {
        scenario: r.scenario.clone(),
        seed: r.seed,
        duration_h: r.duration_h,
        total_cost: r.total_cost,
        reservation_cost: r.metrics.reservation_cost,
        mean_cost_per_hour: row.mean_cost_per_hour,
        mean_nodes: row.mean_nodes,
        cpu_utilization: row.cpu_utilization,
        memory_utilization: row.memory_utilization,
        pods_scheduled: r.metrics.pod_wait_seconds.len(),
        pod_wait_p50_s: row.pod_wait_p50_s,
        pod_wait_p95_s: row.pod_wait_p95_s,
        pod_wait_p99_s: row.pod_wait_p99_s,
        disruptions: r.metrics.disruptions.clone(),
        interruptions: r.metrics.interruptions,
        evictions: r.metrics.evictions,
        nodes_launched: r.metrics.nodes_launched,
        pods_pending_at_end: r.pending_at_end.len(),
        lower_bound_total: (!r.metrics.lower_bound.time_h.is_empty()).then(|| r.metrics.lower_bound.total(r.duration_h)),
        warnings: r.warnings.clone(),
    }
}

pub fn execute(args: &SimulateArgs, ui: &Ui) -> Result<Report> {
    let output = parse_output(&args.output, "DIR")?;
    let mut sc = load(&args.scenario, args.duration.as_deref(), args.seed, args.work.limits())?;
    sc.settings.lower_bound |= args.lower_bound;
    let result = simulate_with_progress(&sc, &SimOptions::default(), &ui.progress("simulate", Unit::SimSeconds))?;
    let report = match output {
        OutputSpec::Json => Report { stdout: json(&result)?, warnings: Vec::new() },
        OutputSpec::Table => Report { stdout: render_summary(&summary(&result)) + "\n" + &render_hourly(&result), warnings: result.warnings.clone() },
        OutputSpec::Csv(dir) => {
            let files = write_csv(&result, &dir)?;
            let mut stdout = render_summary(&summary(&result));
            stdout.push_str(&format!("\nwrote {} to {}\n", files.join(", "), dir.display()));
            Report { stdout, warnings: result.warnings.clone() }
        }
    };
    crate::release(result);
    crate::release(sc);
    Ok(report)
}

fn pct(x: f64) -> String {
    format!("{:.1}%", x * 100.0)
}

fn secs(x: f64) -> String {
    if x >= 100.0 { format!("{x:.0}s") } else { format!("{x:.1}s") }
}

/// The summary block for people.
pub fn render_summary(s: &Summary) -> String {
    let disruptions = if s.disruptions.is_empty() {
        "none".to_string()
    } else {
        let by: Vec<String> = s.disruptions.iter().map(|(m, n)| format!("{m} {n}")).collect();
        format!("{} ({})", s.disruptions.values().sum::<u64>(), by.join(", "))
    };
    let mut lines = vec![
        ("total cost", format!("${:.2} over {} h (${}/h mean, ${:.2}/month at that rate)", s.total_cost, s.duration_h, usd(s.mean_cost_per_hour), s.mean_cost_per_hour * HOURS_PER_MONTH)),
        ("mean nodes", format!("{:.2}", s.mean_nodes)),
        ("utilisation", format!("cpu {}, memory {} (requested ÷ allocatable, time-weighted)", pct(s.cpu_utilization), pct(s.memory_utilization))),
        ("pod wait", format!("p50 {}, p95 {}, p99 {} ({} pods scheduled)", secs(s.pod_wait_p50_s), secs(s.pod_wait_p95_s), secs(s.pod_wait_p99_s), s.pods_scheduled)),
        ("disruptions", disruptions),
        ("interruptions", s.interruptions.to_string()),
        ("evictions", s.evictions.to_string()),
        ("nodes launched", s.nodes_launched.to_string()),
        ("pending at end", s.pods_pending_at_end.to_string()),
    ];
    if s.reservation_cost > 0.0 {
        lines.insert(1, ("reservations", format!("${:.2} of it: the capacity reservations' instances at their on-demand price, used or not", s.reservation_cost)));
    }
    let mut out = format!("scenario {} (seed {}, {} h simulated)\n", s.scenario, s.seed, s.duration_h);
    for (k, v) in lines {
        out.push_str(&format!("  {k:<15} {v}\n"));
    }
    if let Some(lb) = s.lower_bound_total {
        let ratio = if lb > 0.0 { format!("; the run cost {:.2}x that", s.total_cost / lb) } else { String::new() };
        out.push_str(&format!("  {:<15} ${lb:.2} over {} h (proven at every metrics interval{ratio})\n", "lower bound", s.duration_h));
    }
    out
}

/// The series at whole hours (or a coarser step for long runs): the last sample at or before each time.
pub fn render_hourly(r: &SimResult) -> String {
    let s = &r.metrics.series;
    if s.is_empty() {
        return "no samples\n".to_string();
    }
    let step = (r.duration_h / MAX_VIEW_ROWS).ceil().max(1.0);
    let mut tbl = Table::new(&[("HOUR", true), ("$/H", true), ("CUMULATIVE $", true), ("NODES", true), ("PODS RUNNING", true), ("PENDING", true)]);
    for t in karpsim::sim::Series::view_times(r.duration_h, step) {
        let i = s.index_at(t);
        tbl.row(vec![
            format!("{t:.0}"),
            usd(s.cost_per_hour[i]),
            format!("{:.2}", s.cumulative_cost[i]),
            format!("{:.0}", s.nodes[i]),
            format!("{:.0}", s.pods_running[i]),
            format!("{:.0}", s.pods_pending[i]),
        ]);
    }
    let label = if step == 1.0 { "hourly".to_string() } else { format!("every {step} h") };
    format!("{label}:\n{}", tbl.render())
}

fn io_err(path: &Path, e: impl std::fmt::Display) -> Error {
    Error::Io { path: path.display().to_string(), message: e.to_string() }
}

fn breakdown_csv(b: &Breakdown, path: &Path) -> Result<()> {
    let mut w = csv::Writer::from_path(path).map_err(|e| io_err(path, e))?;
    w.write_record(["time_h", "key", "count"]).map_err(|e| io_err(path, e))?;
    for i in 0..b.time_h.len() {
        w.write_record([b.time_h[i].to_string(), b.key[i].clone(), b.count[i].to_string()]).map_err(|e| io_err(path, e))?;
    }
    w.flush().map_err(|e| io_err(path, e))
}

/// Write the run's tables into `dir` (created if missing); returns the file names.
pub fn write_csv(r: &SimResult, dir: &Path) -> Result<Vec<String>> {
    std::fs::create_dir_all(dir).map_err(|e| io_err(dir, e))?;
    let s = &r.metrics.series;
    let path = dir.join("series.csv");
    let mut w = csv::Writer::from_path(&path).map_err(|e| io_err(&path, e))?;
    let names = karpsim::sim::Series::names();
    w.write_record(names).map_err(|e| io_err(&path, e))?;
    let cols: Vec<&Vec<f64>> = names.iter().filter_map(|n| s.get(n)).collect();
    for i in 0..s.len() {
        w.write_record(cols.iter().map(|c| c[i].to_string())).map_err(|e| io_err(&path, e))?;
    }
    w.flush().map_err(|e| io_err(&path, e))?;

    let m = &r.metrics;
    for (b, name) in [(&m.nodes_by_nodepool, "nodepool"), (&m.nodes_by_instance_type, "instance_type"), (&m.nodes_by_capacity_type, "capacity_type")] {
        breakdown_csv(b, &dir.join(format!("nodes_by_{name}.csv")))?;
    }

    let path = dir.join("events.csv");
    let mut w = csv::Writer::from_path(&path).map_err(|e| io_err(&path, e))?;
    w.write_record(["t", "kind", "message"]).map_err(|e| io_err(&path, e))?;
    for e in &r.log {
        w.write_record([e.t.to_string(), e.kind.clone(), e.message.clone()]).map_err(|e| io_err(&path, e))?;
    }
    w.flush().map_err(|e| io_err(&path, e))?;

    let path = dir.join("summary.json");
    std::fs::write(&path, json(&summary(r))?).map_err(|e| io_err(&path, e))?;
    Ok(["series.csv", "nodes_by_nodepool.csv", "nodes_by_instance_type.csv", "nodes_by_capacity_type.csv", "events.csv", "summary.json"]
        .iter()
        .map(|s| s.to_string())
        .collect())
}
