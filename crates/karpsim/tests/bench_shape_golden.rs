//! The scheduler's placements on Karpenter's benchmark shape are pinned: `tests/data/bench_shape_golden.json`
//! holds a hash of the `provision()` JSON produced by the plain (unoptimised) scheduler for several
//! sizes, and every speed change must reproduce it exactly. Regenerate only for an intended change of
//! decisions: `KARPSIM_BLESS=1 cargo test -p karpsim --test bench_shape_golden`.

mod golden;

use golden::fnv;
use karpsim::fixtures;
use karpsim::scheduling::{provision, PreferencePolicy, ProvisionOptions};
use std::collections::BTreeMap;

fn run(name: &str, pods: Vec<karpsim::model::Pod>, policy: PreferencePolicy) -> (String, serde_json::Value) {
    let n = pods.len();
    let state = fixtures::karpenter_state(pods);
    let opts = ProvisionOptions { preference_policy: policy, ..ProvisionOptions::default() };
    let result = provision(&state, &opts);
    let json = serde_json::to_string(&result).expect("serialisable");
    let summary = serde_json::json!({
        "pods": n,
        "nodeclaims": result.nodeclaims.len(),
        "unschedulable": result.unschedulable.len(),
        "cost_per_hour": format!("{:.6}", result.cost_per_hour),
        "json_fnv64": fnv(json.as_bytes()),
    });
    (name.to_string(), summary)
}

#[test]
fn karpenter_shape_placements_match_the_golden_record() {
    let mut got = BTreeMap::new();
    for n in [50usize, 200, 500] {
        let (k, v) = run(&format!("diverse-{n}"), fixtures::diverse_pods(n, 42), PreferencePolicy::Respect);
        got.insert(k, v);
    }
    for (label, policy) in [("respect", PreferencePolicy::Respect), ("ignore", PreferencePolicy::Ignore)] {
        let (k, v) = run(&format!("preferences-200-{label}"), fixtures::preference_pods(200, 42), policy);
        got.insert(k, v);
    }
    let (k, v) = run("generic-500", fixtures::generic_pods(500, 42), PreferencePolicy::Respect);
    got.insert(k, v);
    golden::check("bench_shape_golden.json", got);
}
