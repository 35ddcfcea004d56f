//! 24-hour time simulations: `examples/diurnal-web/scenario.yaml`, and, with
//! `KARPSIM_BENCH_LARGE_SIM=1` (about 5 minutes), issue 5's large scenario
//! `benches/scenarios/large-diurnal.yaml` (about 10,000 pods on about 600 nodes at the peak): one
//! 24 h run, and a sweep of 16 variants of its first 3 hours on one and on two threads.

use criterion::{criterion_group, criterion_main, Criterion};
use karpsim::sim::whatif::{compare, parse_vary, Variant};
use karpsim::sim::{simulate, Scenario, SimOptions};
use karpsim_benches::repo_root;
use std::hint::black_box;

const LARGE: &str = "benches/scenarios/large-diurnal.yaml";

fn timesim(c: &mut Criterion) {
    let mut g = c.benchmark_group("timesim");
    g.sample_size(10);
    let large = std::env::var_os("KARPSIM_BENCH_LARGE_SIM").is_some();
    let mut cases = vec![("diurnal_web_24h", "examples/diurnal-web/scenario.yaml")];
    if large {
        cases.push(("large_diurnal_24h", LARGE));
    }
    for (name, path) in cases {
        let sc = Scenario::load(&repo_root().join(path)).expect("scenario loads");
        let opts = SimOptions::default();
        g.bench_function(name, |b| b.iter(|| black_box(simulate(black_box(&sc), &opts))));
    }
    if large {
        // 15 variants and the base: capacity types × consolidateAfter
        let mut sc = Scenario::load(&repo_root().join(LARGE)).expect("scenario loads");
        sc.duration = 3.0 * 3600.0;
        let mut variants = vec![Variant { name: "base".into(), changes: Vec::new() }];
        for ct in ["spot", "on-demand", "spot+on-demand"] {
            for after in ["30s", "1m", "5m", "15m", "Never"] {
                let mut v = parse_vary(&format!("capacity_types={ct}")).expect("variant").remove(0);
                v.changes.extend(parse_vary(&format!("consolidate_after={after}")).expect("variant").remove(0).changes);
                v.name = format!("{ct} {after}");
                variants.push(v);
            }
        }
        assert_eq!(variants.len(), 16);
        let opts = SimOptions::default();
        for threads in [1, 2] {
            let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().expect("thread pool");
            g.bench_function(format!("large_diurnal_sweep16_3h/threads_{threads}"), |b| {
                b.iter(|| pool.install(|| black_box(compare(&sc, &opts, &variants, &[]).expect("variants apply"))))
            });
        }
    }
    g.finish();
}

criterion_group!(benches, timesim);
criterion_main!(benches);
