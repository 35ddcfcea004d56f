//! `karpsim consolidate`: what Karpenter's disruption controller would do to a cluster, one round or
//! until stable.

use crate::Report;
use crate::args::{CandidateOrderArg, ConsolidateArgs, Output};
use crate::json_out::json;
use crate::provision_cmd::HOURS_PER_MONTH;
use crate::table::{Table, usd};
use karpsim::Result;
use crate::ui::{Ui, Unit};
use karpsim::disruption::{CandidateOrder, Command, DisruptionOptions, DisruptionResult, disrupt_once, until_stable_with_progress};
use std::collections::BTreeMap;

/// Pod moves listed one by one up to this many per command; beyond, counted by destination.
const MAX_LISTED_MOVES: usize = 10;

pub fn options(args: &ConsolidateArgs) -> Result<DisruptionOptions> {
    args.rounds.only_until_stable(args.until_stable)?;
    Ok(DisruptionOptions {
        now: args.now.as_deref().map(|s| crate::units::parse_rfc3339("--now", s)).transpose()?,
        candidate_order: match args.candidate_order {
            CandidateOrderArg::SavingsRatio => CandidateOrder::SavingsRatio,
            CandidateOrderArg::DisruptionCost => CandidateOrder::DisruptionCost,
        },
        spot_to_spot: args.spot_to_spot,
        max_rounds: args.rounds.max_rounds(),
        ..DisruptionOptions::default()
    })
}

pub fn execute(args: &ConsolidateArgs, ui: &Ui) -> Result<Report> {
    let source = args.catalog.source()?;
    let opts = options(args)?;
    let state = args.catalog.load_state(&args.files, &source, args.work.limits())?;
    let result = if args.until_stable {
        until_stable_with_progress(&state, &opts, &ui.progress("consolidate", Unit::Rounds)).0
    } else {
        disrupt_once(&state, &opts)
    };
    let report = match args.output {
        Output::Json => Report { stdout: json(&result)?, warnings: Vec::new() },
        Output::Table => Report { stdout: render_table(&result), warnings: result.warnings.clone() },
    };
    crate::release(result);
    crate::release(state);
    Ok(report)
}

/// `2026-11-20T12:00:00Z` from Unix seconds (UTC).
pub fn rfc3339(t: i64) -> String {
    karpsim::io::format_rfc3339(t)
}

fn command_block(i: usize, c: &Command) -> String {
    let mut out = format!("command {}: {} {}\n", i + 1, name(&c.method), name(&c.action));
    out.push_str(&format!("  nodes:    {}\n", c.nodes.join(", ")));
    if c.replacements.is_empty() {
        out.push_str("  replace:  none (delete)\n");
    } else {
        let mut t = Table::new(&[
            ("  REPLACEMENT", false),
            ("NODEPOOL", false),
            ("INSTANCE TYPE", false),
            ("ZONE", false),
            ("CAPACITY", false),
            ("$/H", true),
            ("OPTIONS", true),
        ]);
        for (j, r) in c.replacements.iter().enumerate() {
            t.row(vec![
                format!("  replacement-{j}"),
                r.nodepool.clone(),
                r.instance_type.clone(),
                r.zone.clone(),
                r.capacity_type.clone(),
                usd(r.price_per_hour),
                r.instance_type_options.len().to_string(),
            ]);
        }
        out.push_str(&t.render());
    }
    out.push_str(&format!(
        "  price:    ${}/h -> ${}/h, saves ${}/h\n",
        usd(c.price_before),
        usd(c.price_after),
        usd(c.savings_per_hour)
    ));
    out.push_str(&format!("  reason:   {}\n", c.reason));
    if c.pods.is_empty() {
        out.push_str("  pods:     none to move\n");
    } else if c.pods.len() <= MAX_LISTED_MOVES {
        out.push_str(&format!("  pods:     {} to move\n", c.pods.len()));
        let w = c.pods.iter().map(|m| m.pod.chars().count()).max().unwrap_or(0);
        for m in &c.pods {
            out.push_str(&format!("    {:w$} -> {}\n", m.pod, m.to));
        }
    } else {
        let mut by_dest: BTreeMap<&str, usize> = BTreeMap::new();
        for m in &c.pods {
            *by_dest.entry(m.to.as_str()).or_default() += 1;
        }
        let dests: Vec<String> = by_dest.iter().map(|(d, n)| format!("{n} -> {d}")).collect();
        out.push_str(&format!("  pods:     {} to move ({})\n", c.pods.len(), dests.join(", ")));
    }
    out
}

/// The serialised name of a method or action (`multi-node`, `replace`), as in the JSON output.
fn name<T: serde::Serialize>(v: &T) -> String {
    match serde_json::to_value(v) {
        Ok(serde_json::Value::String(s)) => s,
        _ => String::from("?"),
    }
}

/// The result for people: commands, kept nodes, costs, and for until-stable the end state.
/// Warnings are not included (the caller prints them to stderr).
pub fn render_table(r: &DisruptionResult) -> String {
    let mut out = String::new();
    let mode = if r.end_state.is_some() { format!("until stable, {} round(s)", r.rounds) } else { "one round".to_string() };
    out.push_str(&format!("disruption at {} ({mode})\n\n", rfc3339(r.now)));
    if r.commands.is_empty() {
        out.push_str("no disruption command: no method acts\n");
    }
    for (i, c) in r.commands.iter().enumerate() {
        out.push_str(&command_block(i, c));
        out.push('\n');
    }
    if !r.kept.is_empty() {
        out.push_str(&format!("kept nodes ({}):\n", r.kept.len()));
        let mut t = Table::new(&[("  NODE", false), ("REASON", false)]);
        for k in &r.kept {
            t.row(vec![format!("  {}", k.node), k.reason.clone()]);
        }
        out.push_str(&t.render());
        out.push('\n');
    }
    let savings = r.cost_per_hour_before - r.cost_per_hour_after;
    out.push_str(&format!(
        "cost: ${}/h before, ${}/h after; saves ${}/h, ${:.2}/month ({HOURS_PER_MONTH} h)\n",
        usd(r.cost_per_hour_before),
        usd(r.cost_per_hour_after),
        usd(savings),
        savings * HOURS_PER_MONTH
    ));
    if let Some(end) = &r.end_state {
        out.push_str(&format!("\nend state: {} node(s)\n", end.nodes.len()));
        let mut t = Table::new(&[
            ("  NODE", false),
            ("NODEPOOL", false),
            ("INSTANCE TYPE", false),
            ("ZONE", false),
            ("CAPACITY", false),
            ("$/H", true),
            ("PODS", true),
        ]);
        let dash = |o: &Option<String>| o.clone().unwrap_or_else(|| "-".into());
        for n in &end.nodes {
            t.row(vec![
                format!("  {}", n.name),
                dash(&n.nodepool),
                dash(&n.instance_type),
                dash(&n.zone),
                dash(&n.capacity_type),
                usd(n.price_per_hour),
                n.pods.to_string(),
            ]);
        }
        out.push_str(&t.render());
        if end.pending.is_empty() {
            out.push_str("no pending pods\n");
        } else {
            out.push_str(&format!("\npending pods ({}):\n", end.pending.len()));
            let mut t = Table::new(&[("  POD", false), ("REASON", false)]);
            for u in &end.pending {
                t.row(vec![format!("  {}", u.pod), u.reason.clone()]);
            }
            out.push_str(&t.render());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::rfc3339;

    #[test]
    fn formats_utc_times() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(1_767_225_600), "2026-01-01T00:00:00Z");
        assert_eq!(rfc3339(1_709_208_000 + 3661), "2024-02-29T13:01:01Z");
    }
}
