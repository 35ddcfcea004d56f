//! `karpsim compare`: variants of one scenario side by side, run in parallel (`whatif::compare`, on
//! rayon), over one seed or several (then with 95% confidence intervals).

use crate::Report;
use crate::args::CompareArgs;
use crate::json_out::json;
use crate::simulate_cmd;
use crate::table::Table;
use crate::units::{OutputSpec, parse_output};
use crate::ui::{Ui, Unit};
use karpsim::progress::Progress;
use karpsim::whatif::run_warnings;
use karpsim::sim::whatif::{ComparisonRow, Variant, compare, compare_with_progress, mean_ci, parse_vary};
use karpsim::sim::{Scenario, SimOptions};
use karpsim::{Error, Location, Result};
use std::collections::BTreeMap;
use std::path::Path;

pub(crate) fn opt_err(option: &str, message: impl Into<String>) -> Error {
    Error::Option { option: option.to_string(), message: message.into() }
}

/// The variants to run: the unmodified base first, then the cartesian product of the `--vary`
/// flags, then the variants of the sweep file.
pub fn variants(vary: &[String], sweep: Option<&Path>) -> Result<Vec<Variant>> {
    let mut out = vec![Variant { name: "base".into(), changes: Vec::new() }];
    if !vary.is_empty() {
        let mut product = vec![Variant { name: String::new(), changes: Vec::new() }];
        for spec in vary {
            let values = parse_vary(spec)?;
            if values.is_empty() {
                return Err(opt_err("--vary", format!("{spec:?} lists no values (expected KEY=V1,V2,...)")));
            }
            product = product
                .iter()
                .flat_map(|p| {
                    values.iter().map(move |v| Variant {
                        name: if p.name.is_empty() { v.name.clone() } else { format!("{} {}", p.name, v.name) },
                        changes: p.changes.iter().chain(&v.changes).cloned().collect(),
                    })
                })
                .collect();
        }
        out.extend(product);
    }
    if let Some(path) = sweep {
        out.extend(read_sweep(path)?);
    }
    Ok(out)
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct SweepEntry {
    name: String,
    #[serde(default)]
    changes: BTreeMap<String, serde_json::Value>,
}

/// A sweep file: a YAML (or JSON) list of `{name, changes: {key: value}}`. A list value joins with `+`.
pub fn read_sweep(path: &Path) -> Result<Vec<Variant>> {
    let file = path.display().to_string();
    let at = |field: String| Location { file: Some(file.clone()), kind: Some("sweep".into()), field: Some(field), ..Default::default() };
    let text = std::fs::read_to_string(path).map_err(|e| Error::Io { path: file.clone(), message: e.to_string() })?;
    let doc: serde_json::Value =
        serde_saphyr::from_str(&text).map_err(|e| Error::input(at(String::new()), format!("malformed YAML: {e}")))?;
    let entries: Vec<SweepEntry> = serde_json::from_value(doc)
        .map_err(|e| Error::input(at(String::new()), format!("expected a list of {{name: ..., changes: {{key: value, ...}}}}: {e}")))?;
    let mut out = Vec::new();
    for (i, e) in entries.into_iter().enumerate() {
        if e.name.trim().is_empty() {
            return Err(Error::input(at(format!("[{i}].name")), "a variant needs a name"));
        }
        let mut changes = Vec::new();
        for (k, v) in e.changes {
            let value = match &v {
                serde_json::Value::String(s) => s.clone(),
                serde_json::Value::Number(n) => n.to_string(),
                serde_json::Value::Bool(b) => b.to_string(),
                serde_json::Value::Array(items) if items.iter().all(|x| x.is_string()) => {
                    items.iter().filter_map(|x| x.as_str()).collect::<Vec<_>>().join("+")
                }
                other => {
                    return Err(Error::input(at(format!("[{i}].changes.{k}")), format!("expected a string, number, boolean or list of strings, got {other}")));
                }
            };
            changes.push((k, value));
        }
        out.push(Variant { name: e.name, changes });
    }
    Ok(out)
}

/// The seed a variant fixes with the `seed` key, if any.
fn fixed_seed(v: &Variant) -> Result<Option<u64>> {
    match v.changes.iter().rev().find(|(k, _)| k == "seed") {
        None => Ok(None),
        Some((_, s)) => s.parse().map(Some).map_err(|_| opt_err(&format!("seed={s}"), "expected an integer")),
    }
}

/// Every (variant, seed) row, variant-major, in the order of `variants`. `whatif::compare` sets each
/// run's seed from the seed list, so a variant that fixes `seed` runs alone with that seed.
pub fn run(sc: &Scenario, variants: &[Variant], seeds: &[u64], progress: &Progress) -> Result<Vec<Vec<ComparisonRow>>> {
    let opts = SimOptions::default();
    let mut fixed = Vec::with_capacity(variants.len());
    for v in variants {
        let s = fixed_seed(v)?;
        if s.is_some() && seeds.len() > 1 {
            return Err(opt_err("--seeds", format!("variant {} fixes the seed; the seed key cannot be combined with --seeds N > 1", v.name)));
        }
        fixed.push(s);
    }
    // Everything that runs with the common seed list goes to one parallel call.
    let common: Vec<Variant> = variants.iter().zip(&fixed).filter(|(_, s)| s.is_none()).map(|(v, _)| v.clone()).collect();
    let mut common_rows = compare_with_progress(sc, &opts, &common, seeds, progress)?.into_iter();
    let mut out = Vec::with_capacity(variants.len());
    for (v, s) in variants.iter().zip(&fixed) {
        out.push(match s {
            Some(seed) => compare(sc, &opts, std::slice::from_ref(v), &[*seed])?,
            None => common_rows.by_ref().take(seeds.len()).collect(),
        });
    }
    Ok(out)
}

/// Mean and 95% confidence half-width of a column.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct Estimate {
    pub mean: f64,
    pub ci95: f64,
}

fn estimate(rows: &[ComparisonRow], f: impl Fn(&ComparisonRow) -> f64) -> Estimate {
    let (mean, ci95) = mean_ci(&rows.iter().map(f).collect::<Vec<_>>());
    Estimate { mean, ci95 }
}

/// One variant over its runs (`--output json`).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct VariantSummary {
    pub name: String,
    pub changes: BTreeMap<String, String>,
    pub runs: usize,
    pub total_cost: Estimate,
    pub mean_cost_per_hour: Estimate,
    pub mean_nodes: Estimate,
    pub cpu_utilization: Estimate,
    pub memory_utilization: Estimate,
    pub pod_wait_p95_s: Estimate,
    pub disruptions: Estimate,
    pub interruptions: Estimate,
    pub pending_at_end: Estimate,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct CompareJson {
    pub scenario: String,
    pub duration_h: f64,
    pub seeds: Vec<u64>,
    pub variants: Vec<VariantSummary>,
    /// One row per variant and seed, variant-major.
    pub rows: Vec<ComparisonRow>,
    pub warnings: Vec<String>,
}

fn summarize_variant(v: &Variant, rows: &[ComparisonRow]) -> VariantSummary {
    VariantSummary {
        name: v.name.clone(),
        changes: v.changes.iter().cloned().collect(),
        runs: rows.len(),
        total_cost: estimate(rows, |r| r.total_cost),
        mean_cost_per_hour: estimate(rows, |r| r.mean_cost_per_hour),
        mean_nodes: estimate(rows, |r| r.mean_nodes),
        cpu_utilization: estimate(rows, |r| r.cpu_utilization),
        memory_utilization: estimate(rows, |r| r.memory_utilization),
        pod_wait_p95_s: estimate(rows, |r| r.pod_wait_p95_s),
        disruptions: estimate(rows, |r| r.disruptions as f64),
        interruptions: estimate(rows, |r| r.interruptions as f64),
        pending_at_end: estimate(rows, |r| r.pending_at_end as f64),
    }
}

pub fn execute(args: &CompareArgs, ui: &Ui) -> Result<Report> {
    let output = parse_output(&args.output, "FILE")?;
    let variants = variants(&args.vary, args.sweep.as_deref())?;
    let Some(scenario) = &args.scenario else {
        return crate::compare_cluster::execute(args, &variants, output, ui);
    };
    if args.catalog.is_set() {
        return Err(opt_err("--catalog", "a scenario names its own catalog; change prices with variant keys (on_demand_multiplier, price...) or compare a cluster with -f"));
    }
    if let Some(flag) = args.scheduler.first_set() {
        return Err(opt_err(flag, "applies to cluster comparisons (-f), as for `provision`; a scenario is simulated with Karpenter's default scheduler settings"));
    }
    if args.catalog.has_reservations() {
        return Err(opt_err("--reservation", "a scenario names its own capacity reservations (`reservations:`); change their counts with the reserved_count key or compare a cluster with -f"));
    }
    let sc = simulate_cmd::load(scenario, args.duration.as_deref(), None, args.work.limits())?;
    let seeds: Vec<u64> = if args.seeds == 1 { vec![sc.seed] } else { (0..args.seeds).collect() };
    let rows = run(&sc, &variants, &seeds, &ui.progress("compare", Unit::Runs))?;
    let summaries: Vec<VariantSummary> = variants.iter().zip(&rows).map(|(v, r)| summarize_variant(v, r)).collect();
    let mut warnings = sc.base.warnings.clone();
    warnings.extend(karpsim::sim::whatif::launch_warnings(&sc, &SimOptions::default(), &variants)?);
    // what each run warned, after what the variants' NodePools cannot launch (said above already)
    // (per variant: a message several seeds gave is said once; the JSON rows keep each seed's)
    let runs = rows.iter().flatten().map(|r| (r.variant.as_str(), &r.warnings[..]));
    let lines = run_warnings::grouped("variant", runs, &warnings);
    warnings.extend(lines);
    let doc = CompareJson {
        scenario: sc.name.clone(),
        duration_h: sc.duration / 3600.0,
        seeds: seeds.clone(),
        variants: summaries,
        rows: rows.into_iter().flatten().collect(),
        warnings,
    };
    let csv: Vec<ComparisonRow> = doc.rows.iter().map(|r| ComparisonRow { warnings: Vec::new(), ..r.clone() }).collect();
    let report = report(&doc, &csv, render_table(&doc), &doc.warnings, output);
    crate::release(doc);
    crate::release(sc);
    report
}

/// A comparison's report: the JSON document, the table, or the table and the rows written to CSV
/// (`csv_rows`: the rows without their warnings, which a CSV cell cannot hold as a list; they are
/// on stderr with the table). Shared by scenario and cluster comparisons.
pub(crate) fn report<T: serde::Serialize, R: serde::Serialize>(doc: &T, csv_rows: &[R], table: String, warnings: &[String], output: OutputSpec) -> Result<Report> {
    Ok(match output {
        OutputSpec::Json => Report { stdout: json(doc)?, warnings: Vec::new() },
        OutputSpec::Table => Report { stdout: table, warnings: warnings.to_vec() },
        OutputSpec::Csv(file) => {
            write_csv(csv_rows, &file)?;
            let stdout = format!("{table}wrote {} row(s) to {}\n", csv_rows.len(), file.display());
            Report { stdout, warnings: warnings.to_vec() }
        }
    })
}

/// `12.30` or `12.30 ± 0.45` when there are several runs.
fn fmt(e: Estimate, runs: usize, scale: f64, decimals: usize) -> String {
    if runs > 1 { format!("{:.decimals$} ± {:.decimals$}", e.mean * scale, e.ci95 * scale) } else { format!("{:.decimals$}", e.mean * scale) }
}

pub fn render_table(doc: &CompareJson) -> String {
    let mut t = Table::new(&[
        ("VARIANT", false),
        ("TOTAL $", true),
        ("VS BASE", true),
        ("MEAN NODES", true),
        ("CPU UTIL %", true),
        ("MEM UTIL %", true),
        ("P95 WAIT s", true),
        ("DISRUPTIONS", true),
        ("INTERRUPTIONS", true),
        ("PENDING END", true),
    ]);
    let base = doc.variants.first().map(|v| v.total_cost.mean).unwrap_or(0.0);
    for v in &doc.variants {
        let n = v.runs;
        let vs = if base > 0.0 { format!("{:+.1}%", (v.total_cost.mean / base - 1.0) * 100.0) } else { "-".into() };
        t.row(vec![
            v.name.clone(),
            fmt(v.total_cost, n, 1.0, 2),
            vs,
            fmt(v.mean_nodes, n, 1.0, 2),
            fmt(v.cpu_utilization, n, 100.0, 1),
            fmt(v.memory_utilization, n, 100.0, 1),
            fmt(v.pod_wait_p95_s, n, 1.0, 1),
            format!("{:.1}", v.disruptions.mean),
            format!("{:.1}", v.interruptions.mean),
            format!("{:.1}", v.pending_at_end.mean),
        ]);
    }
    let runs = if doc.seeds.len() == 1 {
        format!("seed {}", doc.seeds[0])
    } else {
        format!("seeds 0..{}, mean ± 95% CI (normal approximation)", doc.seeds.len() - 1)
    };
    format!("scenario {} ({} h simulated, {runs})\n{}", doc.scenario, doc.duration_h, t.render())
}

fn write_csv<T: serde::Serialize>(rows: &[T], path: &Path) -> Result<()> {
    let io = |e: csv::Error| Error::Io { path: path.display().to_string(), message: e.to_string() };
    let mut w = csv::Writer::from_path(path).map_err(io)?;
    for r in rows {
        w.serialize(r).map_err(io)?;
    }
    w.flush().map_err(|e| Error::Io { path: path.display().to_string(), message: e.to_string() })
}
