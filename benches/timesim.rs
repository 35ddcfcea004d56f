//! 24-hour time simulations: `examples/diurnal-web/scenario.yaml`, and `benches/scenarios/large-diurnal.yaml`
//! (about 10,000 pods at peak on about 500 nodes; only with `KARPSIM_BENCH_LARGE_SIM=1`, it takes minutes).

use criterion::{criterion_group, criterion_main, Criterion};
use karpsim::sim::{simulate, Scenario, SimOptions};
use karpsim_benches::repo_root;
use std::hint::black_box;

fn timesim(c: &mut Criterion) {
    let mut g = c.benchmark_group("timesim");
    g.sample_size(10);
    let mut cases = vec![("diurnal_web_24h", "examples/diurnal-web/scenario.yaml")];
    // the large scenario runs for minutes per iteration today (see docs/benchmarks.md): opt in
    if std::env::var_os("KARPSIM_BENCH_LARGE_SIM").is_some() {
        cases.push(("large_diurnal_24h", "benches/scenarios/large-diurnal.yaml"));
    }
    for (name, path) in cases {
        let sc = Scenario::load(&repo_root().join(path)).expect("scenario loads");
        let opts = SimOptions::default();
        g.bench_function(name, |b| b.iter(|| black_box(simulate(black_box(&sc), &opts))));
    }
    g.finish();
}

criterion_group!(benches, timesim);
criterion_main!(benches);
