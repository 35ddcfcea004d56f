//! One solve of a benchmark workload, for profilers and memory: prints the time, the result's size
//! and the peak resident memory (`VmHWM` of /proc/self/status).
//!
//! `cargo run --release -p karpsim-benches --example shape -- diverse 20000`
//! (`diverse N`, `generic N`, `preferences N [ignore]`, `boutique N`, `scenario PATH`)

use karpsim::scheduling::{provision, PreferencePolicy, ProvisionOptions};
use karpsim_benches::{fixtures, online_boutique};
use std::time::Instant;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let kind = args.first().map(String::as_str).unwrap_or("diverse");
    let n: usize = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(1000);
    let policy = if args.get(2).map(String::as_str) == Some("ignore") { PreferencePolicy::Ignore } else { PreferencePolicy::Respect };
    if kind == "scenario" {
        let path = args.get(1).expect("scenario path");
        let sc = karpsim::sim::Scenario::load(std::path::Path::new(path)).expect("scenario loads");
        let t = Instant::now();
        let r = karpsim::sim::simulate(&sc, &karpsim::sim::SimOptions::default()).expect("the scenario runs");
        println!("{path}: {:.3} s, total cost ${:.2}, {} pending at end, peak RSS {} MiB", t.elapsed().as_secs_f64(), r.total_cost, r.pending_at_end.len(), peak_mib());
        return;
    }
    let state = match kind {
        "diverse" => fixtures::karpenter_state(fixtures::diverse_pods(n, 42)),
        "generic" => fixtures::karpenter_state(fixtures::generic_pods(n, 42)),
        "preferences" => fixtures::karpenter_state(fixtures::preference_pods(n, 42)),
        "boutique" => online_boutique(n),
        other => panic!("unknown workload {other}"),
    };
    let opts = ProvisionOptions { preference_policy: policy, ..ProvisionOptions::default() };
    let t = Instant::now();
    let r = provision(&state, &opts);
    let secs = t.elapsed().as_secs_f64();
    println!(
        "{kind} {n}: {secs:.3} s ({:.0} pods/s), {} nodeclaims, {} unschedulable, ${:.2}/h, peak RSS {} MiB",
        n as f64 / secs,
        r.nodeclaims.len(),
        r.unschedulable.len(),
        r.cost_per_hour,
        peak_mib()
    );
}

fn peak_mib() -> u64 {
    let kib = std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| s.lines().find(|l| l.starts_with("VmHWM")).and_then(|l| l.split_whitespace().nth(1)?.parse::<u64>().ok()));
    kib.unwrap_or(0) / 1024
}
