//! Consolidation until stable and the time simulator's event log are pinned (issue 16): every speed
//! change must keep Karpenter's decisions identical, round for round and event for event. Each case
//! records a hash of the full result's JSON (commands in order, kept nodes with their reasons, the
//! end state; the simulator's log, series, waits and pending pods) in
//! `tests/data/golden_decisions.json`. Regenerate only for an intended change of decisions:
//! `KARPSIM_BLESS=1 cargo test -p karpsim --test golden_decisions`.

mod golden;

use karpsim::catalog::CatalogSource;
use karpsim::disruption::{until_stable, DisruptionOptions, DisruptionResult};
use karpsim::fixtures;
use karpsim::io::Inputs;
use karpsim::labels::Sym;
use karpsim::sim::{simulate, Scenario, SimOptions, SimResult};
use karpsim::state::ClusterState;
use std::collections::BTreeMap;
use std::path::Path;

fn repo(path: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").join(path)
}

fn disruption_summary(r: &DisruptionResult) -> serde_json::Value {
    let json = serde_json::to_string(r).expect("serialisable");
    let end = r.end_state.as_ref().expect("until stable sets the end state");
    serde_json::json!({
        "rounds": r.rounds,
        "commands": r.commands.len(),
        "end_nodes": end.nodes.len(),
        "end_pending": end.pending.len(),
        "cost_per_hour_after": format!("{:.6}", r.cost_per_hour_after),
        "json_fnv64": golden::fnv(json.as_bytes()),
    })
}

fn sim_summary(r: &SimResult) -> serde_json::Value {
    let log = serde_json::to_string(&r.log).expect("serialisable");
    let all = serde_json::to_string(r).expect("serialisable");
    serde_json::json!({
        "events": r.log.len(),
        "nodes_launched": r.metrics.nodes_launched,
        "disruptions": r.metrics.disruptions,
        "total_cost": format!("{:.6}", r.total_cost),
        "log_fnv64": golden::fnv(log.as_bytes()),
        "json_fnv64": golden::fnv(all.as_bytes()),
    })
}

/// The benchmark cluster (`fixtures::karpenter_cluster`): nodes of the fake catalog, 4 bound pods
/// each taking 10-60% of the node; consolidation deletes and replaces over many rounds.
fn bench_cluster(nodes: usize, drifted: bool) -> ClusterState {
    let mut state = fixtures::karpenter_cluster(nodes, 4, 42);
    if drifted {
        // a template label the nodes lack: every node is drifted (NodePoolDrifted)
        state.nodepools[0].labels.insert(Sym::new("tier"), Sym::new("v2"));
    }
    state
}

#[test]
fn consolidation_until_stable_matches_the_golden_record() {
    let mut got = BTreeMap::new();
    let opts = DisruptionOptions { now: Some(3_600), ..DisruptionOptions::default() };
    for nodes in [30usize, 80] {
        got.insert(format!("bench-cluster-{nodes}"), disruption_summary(&until_stable(&bench_cluster(nodes, false), &opts)));
    }
    got.insert("bench-cluster-60-drifted".into(), disruption_summary(&until_stable(&bench_cluster(60, true), &opts)));
    let mut inputs = Inputs::new();
    inputs.load_path(&repo("examples/eks-snapshot/cluster.json")).expect("the example loads");
    let state = ClusterState::from_inputs(inputs.finish().expect("valid"), &CatalogSource::default_aws()).expect("state builds");
    got.insert("eks-snapshot".into(), disruption_summary(&until_stable(&state, &DisruptionOptions::default())));
    golden::check("golden_until_stable.json", got);
}

#[test]
fn the_simulators_event_log_matches_the_golden_record() {
    let mut got = BTreeMap::new();
    // the diurnal shop: scaling, the nightly batch at 02:00, consolidation, spot interruptions
    let mut sc = Scenario::load(&repo("examples/diurnal-web/scenario.yaml")).expect("scenario loads");
    sc.duration = 10.0 * 3600.0;
    got.insert("diurnal-web-10h".into(), sim_summary(&simulate(&sc, &SimOptions::default()).expect("the scenario simulates")));
    sc.seed = 7;
    got.insert("diurnal-web-10h-seed-7".into(), sim_summary(&simulate(&sc, &SimOptions::default()).expect("the scenario simulates")));
    golden::check("golden_simulation.json", got);
}
