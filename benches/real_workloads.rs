//! Real workloads against the full embedded AWS catalog: Online Boutique replicated to 1,000 and
//! 10,000 pods, NodePool from the example without its cpu limit.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use karpsim::scheduling::{provision, ProvisionOptions};
use karpsim_benches::online_boutique;
use std::hint::black_box;

fn real(c: &mut Criterion) {
    let mut g = c.benchmark_group("real_workloads");
    g.sample_size(10);
    for n in [1_000usize, 10_000] {
        let state = online_boutique(n);
        let opts = ProvisionOptions::default();
        let r = provision(&state, &opts);
        assert!(r.unschedulable.is_empty(), "{n}: {:?}", r.unschedulable.first());
        g.throughput(Throughput::Elements(n as u64));
        g.bench_function(format!("online_boutique_aws/{n}"), |b| b.iter(|| black_box(provision(black_box(&state), &opts))));
    }
    g.finish();
}

criterion_group!(benches, real);
criterion_main!(benches);
