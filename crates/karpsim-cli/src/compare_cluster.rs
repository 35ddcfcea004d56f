//! `karpsim compare -f INPUTS`: variants of a cluster side by side, each provisioned (and with
//! `--until-stable` consolidated until stable) from the same inputs (`whatif::compare_clusters`).

use crate::Report;
use crate::args::CompareArgs;
use crate::provision_cmd::HOURS_PER_MONTH;
use crate::table::{Table, usd};
use crate::ui::{Ui, Unit};
use crate::units::OutputSpec;
use karpsim::Result;
use karpsim::sim::whatif::Variant;
use karpsim::whatif::{ClusterRow, ClusterRun, Setup, cluster_launch_warnings, compare_clusters, run_warnings};
use std::collections::BTreeMap;

/// `--output json` of a cluster comparison (stable keys).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct ClusterCompareJson {
    pub inputs: Vec<String>,
    pub catalog: String,
    pub run: ClusterRun,
    pub variants: Vec<VariantChanges>,
    /// One row per variant, in variant order (the base first).
    pub rows: Vec<ClusterRow>,
    pub warnings: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct VariantChanges {
    pub name: String,
    pub changes: BTreeMap<String, String>,
}

pub fn execute(args: &CompareArgs, variants: &[Variant], output: OutputSpec, ui: &Ui) -> Result<Report> {
    args.rounds.only_until_stable(args.until_stable)?;
    let source = args.catalog.source()?;
    let state = args.catalog.load_state(&args.files, &source, args.work.limits())?;
    let catalog = state
        .pool_types
        .values()
        .next()
        .map(|p| p.catalog_name.clone())
        .unwrap_or_else(|| args.catalog.catalog.clone().unwrap_or_else(|| crate::catalog_opts::DEFAULT_CATALOG.into()));
    let mut warnings = state.warnings.clone();
    let run = if args.until_stable { ClusterRun::Consolidate } else { ClusterRun::Provision };
    let mut setup = Setup::new(state, source);
    setup.disruption.max_rounds = args.rounds.max_rounds();
    let opts = args.scheduler.provisioning();
    let rows = compare_clusters(&setup, &opts, variants, run, &ui.progress("compare", Unit::Runs))?;
    warnings.extend(cluster_launch_warnings(&setup, &opts, variants)?);
    // what each variant's run warned (a round cap that cut until-stable short, pods pending for a
    // phantom topology domain...), after what its NodePools cannot launch (said above already)
    let runs = rows.iter().map(|r| (r.variant.as_str(), &r.warnings[..]));
    let lines = run_warnings::grouped("variant", runs, &warnings);
    warnings.extend(lines);
    let doc = ClusterCompareJson {
        inputs: args.files.iter().map(|f| f.display().to_string()).collect(),
        catalog,
        run,
        variants: variants.iter().map(|v| VariantChanges { name: v.name.clone(), changes: v.changes.iter().cloned().collect() }).collect(),
        rows,
        warnings,
    };
    let csv: Vec<ClusterRow> = doc.rows.iter().map(|r| ClusterRow { warnings: Vec::new(), ..r.clone() }).collect();
    let report = crate::compare_cmd::report(&doc, &csv, render_table(&doc), &doc.warnings, output);
    crate::release(doc);
    crate::release(setup);
    report
}

pub fn render_table(doc: &ClusterCompareJson) -> String {
    let settle = doc.run == ClusterRun::Consolidate;
    let mut columns = vec![
        ("VARIANT", false),
        ("$/H", true),
        ("VS BASE", true),
        ("$/MONTH", true),
        ("NODES", true),
        ("NEW NODES", true),
        ("PENDING PODS", true),
        ("CPU UTIL %", true),
        ("MEM UTIL %", true),
    ];
    if settle {
        columns.extend([("DISRUPTIONS", true), ("SAVED $/H", true)]);
    }
    // the capacity reservations' own cost, part of $/H, when the cluster has any
    let reservations = doc.rows.iter().any(|r| r.reservation_cost_per_hour > 0.0);
    if reservations {
        columns.push(("RESERVATIONS $/H", true));
    }
    let mut t = Table::new(&columns);
    let base = doc.rows.first().map(|r| r.cost_per_hour).unwrap_or(0.0);
    for r in &doc.rows {
        let vs = if base > 0.0 { format!("{:+.1}%", (r.cost_per_hour / base - 1.0) * 100.0) } else { "-".into() };
        let mut cells = vec![
            r.variant.clone(),
            usd(r.cost_per_hour),
            vs,
            format!("{:.2}", r.cost_per_hour * HOURS_PER_MONTH),
            r.nodes.to_string(),
            r.new_nodes.to_string(),
            r.pods_pending.to_string(),
            format!("{:.1}", r.cpu_utilization * 100.0),
            format!("{:.1}", r.memory_utilization * 100.0),
        ];
        if settle {
            cells.extend([r.disruptions.to_string(), usd(r.consolidation_savings_per_hour)]);
        }
        if reservations {
            cells.push(usd(r.reservation_cost_per_hour));
        }
        t.row(cells);
    }
    let what = if settle { "provisioned, then consolidated until stable" } else { "provisioned" };
    format!("cluster {} ({what}; catalog {})\n{}", doc.inputs.join(", "), doc.catalog, t.render())
}
