//! The cost bound and the advisor (issue 15): time to a proven lower bound for Online Boutique
//! replicated to 1,000, 10,000 and 100,000 pods on the full embedded us-east-1 catalog; the whole
//! `bound` (Karpenter's run, the bound and the best packing, no consolidation) at 1,000 and 10,000;
//! an advisor search of 20 candidates.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use karpsim::io::Inputs;
use karpsim::optimize::{AdviseOptions, BoundOptions, advise, bound, lower_bound_now};
use karpsim::state::ClusterState;
use karpsim_benches::{online_boutique, repo_root};
use std::hint::black_box;

fn bound_bench(c: &mut Criterion) {
    let mut g = c.benchmark_group("bound");
    g.sample_size(10);
    for n in [1_000usize, 10_000, 100_000] {
        let state = online_boutique(n);
        assert!(lower_bound_now(&state, 400) > 0.0);
        g.throughput(Throughput::Elements(n as u64));
        g.bench_function(format!("lower_bound/{n}"), |b| b.iter(|| black_box(lower_bound_now(black_box(&state), 400))));
        if n <= 10_000 {
            let opts = BoundOptions { consolidate: false, ..BoundOptions::default() };
            g.bench_function(format!("bound_and_packing/{n}"), |b| b.iter(|| black_box(bound(black_box(&state), &opts))));
        }
    }
    g.finish();
}

fn two_shapes() -> ClusterState {
    let mut inputs = Inputs::new();
    for f in ["examples/bound/two-shapes.yaml", "examples/bound/nodepool-all-types.yaml", "examples/online-boutique/kube-prometheus-node-exporter-daemonset.yaml"] {
        inputs.load_path(&repo_root().join(f)).expect("example loads");
    }
    ClusterState::from_inputs(inputs.finish().expect("valid"), &karpsim::catalog::CatalogSource::default_aws()).expect("state")
}

fn advise_bench(c: &mut Criterion) {
    let mut g = c.benchmark_group("advise");
    g.sample_size(10);
    let state = two_shapes();
    let opts = AdviseOptions { max_candidates: 20, ..AdviseOptions::default() };
    g.bench_function("two_shapes_all_types/20_candidates", |b| b.iter(|| black_box(advise(black_box(&state), &opts, None))));
    g.finish();
}

criterion_group!(benches, bound_bench, advise_bench);
criterion_main!(benches);
