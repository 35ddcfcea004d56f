//! `karpsim trace from-pods`: a `kubectl get pods -A -o json` dump as the pod event CSV that a scenario's
//! `trace: {format: events}` replays (`karpsim::sim::trace_convert`).

use crate::Report;
use crate::args::{FromPodsArgs, TraceArgs, TraceCommand};
use karpsim::io::format_rfc3339;
use karpsim::sim::trace_convert::{events_csv, events_from_pods, pod_dump_from_str_with, read_pod_dump_with};
use karpsim::{Error, Result};
use std::io::Read;

pub fn execute(args: &TraceArgs) -> Result<Report> {
    match &args.command {
        TraceCommand::FromPods(a) => from_pods(a),
    }
}

/// The CSV on stdout, or written to `--output` with a one-line summary on stdout; what was skipped or
/// ignored goes to stderr as warnings.
pub fn from_pods(args: &FromPodsArgs) -> Result<Report> {
    let dump = if args.dump.as_os_str() == "-" {
        let mut text = String::new();
        std::io::stdin().read_to_string(&mut text).map_err(|e| Error::Io { path: "stdin".into(), message: e.to_string() })?;
        pod_dump_from_str_with(&text, "stdin", args.work.limits())?
    } else {
        read_pod_dump_with(&args.dump, args.work.limits())?
    };
    let conv = events_from_pods(&dump.pods, &dump.source)?;
    let csv = events_csv(&conv.rows)?;
    let mut warnings = dump.notes.clone();
    warnings.extend(conv.notes());
    let stdout = match &args.output {
        None => csv,
        Some(path) => {
            std::fs::write(path, csv).map_err(|e| Error::Io { path: path.display().to_string(), message: e.to_string() })?;
            let span = match (conv.rows.first(), conv.rows.last()) {
                (Some(a), Some(b)) => format!(", {} to {}", format_rfc3339(a.at), format_rfc3339(b.at)),
                _ => String::new(),
            };
            format!(
                "wrote {} events ({} create, {} delete{span}) for {} of {} pods to {}\n",
                conv.rows.len(),
                conv.creates(),
                conv.deletes(),
                conv.pods,
                dump.pods.len(),
                path.display()
            )
        }
    };
    Ok(Report { stdout, warnings })
}
