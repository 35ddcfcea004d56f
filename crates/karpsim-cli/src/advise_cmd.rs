//! `karpsim advise`: NodePool configurations searched with karpsim's Karpenter, the best first,
//! each with the NodePool manifests that reproduce it.

use crate::Report;
use crate::scheduler_opts::SchedulerOpts;
use crate::json_out::json;
use crate::table::{Table, usd};
use crate::args::Output;
use clap::Args;
use karpsim::optimize::advise::space::Allowed;
use karpsim::optimize::advise::{AdviseOptions, AdviseResult, advise};
use karpsim::sim::Scenario;
use karpsim::{Error, Location, Result};
use std::path::{Path, PathBuf};

#[derive(Debug, Args)]
#[command(after_help = "By default the advisor only narrows what each NodePool allows (instance categories, families, \
generations, the largest size, a preferred pool tried first); --capacity-types and --architectures let it use \
capacity types or architectures the NodePools do not allow yet. --allow FILE reads the same from YAML:\n\
  {capacity_types: [spot, on-demand], architectures: [amd64, arm64], categories: true, families: true,\n\
   generations: true, sizes: true, split: true, min_families: 3}\n\n\
Example:\n  karpsim advise -f examples/bound/two-shapes.yaml -f examples/bound/nodepool-all-types.yaml \\\n    \
-f examples/online-boutique/kube-prometheus-node-exporter-daemonset.yaml")]
pub struct AdviseArgs {
    /// YAML/JSON file or directory of manifests or a snapshot (repeatable); optional with --scenario.
    #[arg(short = 'f', long = "filename", value_name = "FILE_OR_DIR")]
    pub files: Vec<PathBuf>,
    /// Evaluate every candidate over this scenario too (spot interruptions, waits and disruptions count); its manifests are the inputs when -f is not given.
    #[arg(long, value_name = "SCENARIO.yaml")]
    pub scenario: Option<PathBuf>,
    #[command(flatten)]
    pub catalog: crate::catalog_opts::CatalogOpts,
    #[command(flatten)]
    pub scheduler: SchedulerOpts,
    #[command(flatten)]
    pub rounds: crate::args::RoundsOpts,
    #[command(flatten)]
    pub work: crate::args::WorkOpts,
    /// Capacity types candidates may use, comma-separated (default: those each NodePool allows).
    #[arg(long, value_name = "LIST", value_delimiter = ',')]
    pub capacity_types: Vec<String>,
    /// Architectures candidates may use, comma-separated (default: those each NodePool allows).
    #[arg(long, value_name = "LIST", value_delimiter = ',')]
    pub architectures: Vec<String>,
    /// Keep at least N instance families in every candidate (minValues), for spot diversity.
    #[arg(long, value_name = "N")]
    pub min_families: Option<u32>,
    /// The allowed changes as YAML (overrides the flags above).
    #[arg(long, value_name = "FILE")]
    pub allow: Option<PathBuf>,
    /// Candidates evaluated at most.
    #[arg(long, value_name = "N", default_value_t = 80)]
    pub max_candidates: usize,
    /// Recommendations shown.
    #[arg(long, value_name = "N", default_value_t = 5)]
    pub top: usize,
    /// Rank by the provisioning cost instead of the cost after consolidation until stable.
    #[arg(long)]
    pub no_consolidation: bool,
    /// Time limit of the lower bound's search, in seconds.
    #[arg(long, value_name = "SECONDS")]
    pub time_limit: Option<f64>,
    /// Output: table, json, or `yaml` (the best recommendation's NodePool manifests only).
    #[arg(short = 'o', long, value_name = "FORMAT", default_value = "table")]
    pub output: String,
}

fn read_allowed(path: &Path) -> Result<Allowed> {
    let file = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|e| Error::Io { path: file.clone(), message: e.to_string() })?;
    let at = Location { file: Some(file), kind: Some("allowed changes".into()), ..Default::default() };
    let v: serde_json::Value = serde_saphyr::from_str(&text).map_err(|e| Error::input(at.clone(), format!("malformed YAML: {e}")))?;
    serde_json::from_value(v).map_err(|e| Error::input(at, e.to_string()))
}

pub fn execute(args: &AdviseArgs) -> Result<Report> {
    let output = match args.output.as_str() {
        "table" => Output::Table,
        "json" => Output::Json,
        "yaml" => Output::Table,
        other => return Err(Error::Option { option: "--output".into(), message: format!("{other:?}: expected table, json or yaml") }),
    };
    let source = args.catalog.source()?;
    let scenario = args.scenario.as_deref().map(|p| Scenario::load_with(p, args.work.limits())).transpose()?;
    if args.files.is_empty() && args.catalog.has_reservations() {
        // a scenario names its own (`reservations:`); nothing else would read the option
        return Err(Error::Option { option: "--reservation".into(), message: "give the inputs with -f: a scenario names its own capacity reservations (`reservations:`)".into() });
    }
    let state = if args.files.is_empty() {
        match &scenario {
            Some(sc) => sc.base.clone(),
            None => return Err(Error::Option { option: "-f".into(), message: "give the inputs with -f, or a --scenario".into() }),
        }
    } else {
        args.catalog.load_state(&args.files, &source, args.work.limits())?
    };
    let allowed = match &args.allow {
        Some(p) => read_allowed(p)?,
        None => Allowed {
            capacity_types: (!args.capacity_types.is_empty()).then(|| args.capacity_types.clone()),
            architectures: (!args.architectures.is_empty()).then(|| args.architectures.clone()),
            min_families: args.min_families,
            ..Allowed::default()
        },
    };
    let opts = AdviseOptions {
        provisioning: args.scheduler.provisioning(),
        consolidate: !args.no_consolidation,
        allowed,
        max_candidates: args.max_candidates.max(1),
        recommendations: args.top.max(1),
        time_limit_seconds: args.time_limit,
        disruption: karpsim::disruption::DisruptionOptions { max_rounds: args.rounds.max_rounds(), ..Default::default() },
        ..AdviseOptions::default()
    };
    let result = advise(&state, &opts, scenario.as_ref())?;
    if args.output == "yaml" {
        let best = result.recommendations.first().map(|r| r.nodepools_yaml.clone()).unwrap_or_default();
        return Ok(Report { stdout: best, warnings: result.warnings.clone() });
    }
    let report = match output {
        Output::Json => Report { stdout: json(&result)?, warnings: Vec::new() },
        Output::Table => Report { stdout: render_table(&result), warnings: result.warnings.clone() },
    };
    crate::release(result);
    crate::release(state);
    crate::release(scenario);
    Ok(report)
}

fn ratio(x: Option<f64>) -> String {
    x.map(|r| format!("{r:.2}x")).unwrap_or_else(|| "-".into())
}

pub fn render_table(r: &AdviseResult) -> String {
    let mut out = format!(
        "lower bound ${}/h (proven); best packing found ${}/h; {} configuration(s) tried\n",
        usd(r.lower_bound_per_hour),
        usd(r.best_packing_cost_per_hour),
        r.candidates_evaluated
    );
    let scenario = r.baseline.scenario.is_some();
    let mut cols = vec![("#", true), ("CONFIGURATION", false), ("$/H", true), ("AFTER CONSOL.", true), ("VS BOUND", true), ("NODES", true), ("PENDING", true)];
    if scenario {
        cols.extend([("SCENARIO $/H", true), ("DISRUPTIONS", true), ("P95 WAIT s", true)]);
    }
    let mut t = Table::new(&cols);
    let row = |i: String, x: &karpsim::optimize::advise::Recommendation| {
        let mut v = vec![
            i,
            x.name.clone(),
            usd(x.cost_per_hour),
            x.after_consolidation_cost_per_hour.map(usd).unwrap_or_else(|| "-".into()),
            ratio(x.vs_lower_bound),
            x.nodes.to_string(),
            x.pending.to_string(),
        ];
        if let Some(s) = &x.scenario {
            v.extend([usd(s.mean_cost_per_hour), s.disruptions.to_string(), format!("{:.1}", s.pod_wait_p95_s)]);
        }
        v
    };
    t.row(row("-".into(), &r.baseline));
    for (i, x) in r.recommendations.iter().enumerate() {
        t.row(row((i + 1).to_string(), x));
    }
    out.push_str(&t.render());
    if !r.pareto.is_empty() {
        out.push_str(&format!("pareto set (mean cost, disruptions, p95 wait): {}\n", r.pareto.join("; ")));
    }
    if let Some(best) = r.recommendations.first() {
        out.push_str(&format!("\nrecommendation 1: {}\n", best.name));
        for c in &best.changes {
            out.push_str(&format!("  {c}\n"));
        }
        out.push_str("\nNodePools (karpsim advise -o yaml prints only these):\n");
        out.push_str(&best.nodepools_yaml);
    }
    out
}
