//! `karpsim provision`: the NodeClaims Karpenter would create for the inputs' pending pods.

use crate::Report;
use crate::args::{Output, ProvisionArgs};
use crate::json_out::json;
use crate::table::{Table, cores, gib, usd};
use karpsim::Result;
use karpsim::scheduling::{ProvisionOptions, ProvisionResult, provision};

/// Hours in a month as cloud bills count them (365 × 24 / 12).
pub const HOURS_PER_MONTH: f64 = 730.0;

pub fn options(args: &ProvisionArgs) -> ProvisionOptions {
    args.scheduler.provisioning()
}

pub fn execute(args: &ProvisionArgs) -> Result<Report> {
    // Parse the catalog first: a typo in --catalog should not wait for the inputs to load.
    let source = args.catalog.source()?;
    let state = args.catalog.load_state(&args.files, &source, args.work.limits())?;
    let result = provision(&state, &options(args));
    let report = match args.output {
        // Programs get the warnings inside the document; nothing extra on stderr.
        Output::Json => Report { stdout: json(&result)?, warnings: Vec::new() },
        Output::Table => Report { stdout: render_table(&result), warnings: result.warnings.clone() },
    };
    crate::release(result);
    crate::release(state);
    Ok(report)
}

/// The result for people: NodeClaims, totals, existing nodes that got pods, pending pods with reasons.
/// Warnings are not included (the caller prints them to stderr).
pub fn render_table(r: &ProvisionResult) -> String {
    let mut out = String::new();
    if r.nodeclaims.is_empty() {
        out.push_str("no new nodes\n");
    } else {
        // columns for reservations and later batches only when some NodeClaim has them
        let reserved = r.nodeclaims.iter().any(|n| n.reservation_id.is_some());
        let batches = r.nodeclaims.iter().any(|n| n.batch > 1);
        let mut columns = vec![
            ("NODECLAIM", false),
            ("NODEPOOL", false),
            ("INSTANCE TYPE", false),
            ("ZONE", false),
            ("CAPACITY", false),
            ("$/H", true),
            ("CPU REQ/ALLOC", true),
            ("MEM GiB REQ/ALLOC", true),
            ("PODS", true),
        ];
        if reserved {
            columns.push(("RESERVATION", false));
        }
        if batches {
            columns.push(("BATCH", true));
        }
        let mut t = Table::new(&columns);
        for nc in &r.nodeclaims {
            let mut row = vec![
                nc.name.clone(),
                nc.nodepool.clone(),
                nc.instance_type.clone(),
                nc.zone.clone(),
                nc.capacity_type.clone(),
                usd(nc.price_per_hour),
                format!("{}/{}", cores(nc.requests.cpu), cores(nc.allocatable.cpu)),
                format!("{}/{}", gib(nc.requests.memory), gib(nc.allocatable.memory)),
                nc.pods.len().to_string(),
            ];
            if reserved {
                row.push(nc.reservation_id.clone().unwrap_or_else(|| "-".into()));
            }
            if batches {
                row.push(nc.batch.max(1).to_string());
            }
            t.row(row);
        }
        out.push_str(&t.render());
    }
    let placed: usize = r.nodeclaims.iter().map(|n| n.pods.len()).sum();
    out.push_str(&format!(
        "total: {} new node(s) for {placed} pod(s), ${}/h, ${:.2}/month ({HOURS_PER_MONTH} h)\n",
        r.nodeclaims.len(),
        usd(r.cost_per_hour),
        r.cost_per_hour * HOURS_PER_MONTH,
    ));

    let existing: Vec<_> = r.existing_nodes.iter().filter(|n| !n.pods.is_empty()).collect();
    if !existing.is_empty() {
        out.push_str(&format!("\nexisting nodes that got pods ({}):\n", existing.len()));
        let mut t = Table::new(&[("  NODE", false), ("PODS", true)]);
        for n in existing {
            t.row(vec![format!("  {}", n.name), n.pods.len().to_string()]);
        }
        out.push_str(&t.render());
    }
    if !r.unschedulable.is_empty() {
        out.push_str(&format!("\npending pods ({}):\n", r.unschedulable.len()));
        let mut t = Table::new(&[("  POD", false), ("REASON", false)]);
        for u in &r.unschedulable {
            t.row(vec![format!("  {}", u.pod), u.reason.clone()]);
        }
        out.push_str(&t.render());
    }
    if !r.relaxations.is_empty() {
        out.push_str(&format!("\npreferences relaxed to place {} pod(s):\n", r.relaxations.len()));
        for x in &r.relaxations {
            out.push_str(&format!("  {}: {}\n", x.pod, x.relaxed.join("; ")));
        }
    }
    out
}
