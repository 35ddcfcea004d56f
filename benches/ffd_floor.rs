//! The floor: a plain resource-only first-fit-decreasing over the benchmark's pods and its 400 types,
//! next to karpsim's scheduler on the unconstrained (generic) pods of the same shape.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use karpsim::scheduling::{provision, ProvisionOptions};
use karpsim_benches::{ffd, fixtures};
use std::hint::black_box;

fn floor(c: &mut Criterion) {
    let catalog = fixtures::karpenter_catalog(400);
    let types: Vec<_> = catalog.instance_types.iter().map(|t| (**t).clone()).collect();
    let mut g = c.benchmark_group("ffd_floor");
    g.sample_size(10);
    for n in [1_000usize, 5_000, 20_000] {
        let pods = fixtures::generic_pods(n, 42);
        g.throughput(Throughput::Elements(n as u64));
        g.bench_function(format!("ffd/{n}"), |b| b.iter(|| black_box(ffd(black_box(&pods), &types))));
        let state = fixtures::karpenter_state(pods);
        let opts = ProvisionOptions::default();
        g.bench_function(format!("karpsim_generic/{n}"), |b| b.iter(|| black_box(provision(black_box(&state), &opts))));
    }
    g.finish();
}

criterion_group!(benches, floor);
criterion_main!(benches);
