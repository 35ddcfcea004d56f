//! Karpenter's scheduling benchmark shape (design §7): 400 fake instance types, one NodePool, the
//! five-fifths diverse pods at 1..20,000, the 4,000-pod preference case (respect and ignore), and
//! pods that each need their own node (hostname anti-affinity, 1,000 and 10,000).
//! Only the solve is timed (`provision()` over a prebuilt state).

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use karpsim::scheduling::{provision, PreferencePolicy, ProvisionOptions};
use karpsim_benches::fixtures;
use std::hint::black_box;

const SIZES: [usize; 9] = [1, 50, 100, 500, 1_000, 2_000, 5_000, 10_000, 20_000];

fn diverse(c: &mut Criterion) {
    let mut g = c.benchmark_group("karpenter_shape");
    g.sample_size(10);
    for n in SIZES {
        let state = fixtures::karpenter_state(fixtures::diverse_pods(n, 42));
        let opts = ProvisionOptions::default();
        let r = provision(&state, &opts);
        assert!(r.unschedulable.is_empty(), "{n}: {:?}", r.unschedulable.first());
        g.throughput(Throughput::Elements(n as u64));
        g.bench_function(format!("diverse/{n}"), |b| b.iter(|| black_box(provision(black_box(&state), &opts))));
    }
    for (label, policy) in [("respect", PreferencePolicy::Respect), ("ignore", PreferencePolicy::Ignore)] {
        let state = fixtures::karpenter_state(fixtures::preference_pods(4_000, 42));
        let opts = ProvisionOptions { preference_policy: policy, ..ProvisionOptions::default() };
        g.throughput(Throughput::Elements(4_000));
        g.bench_function(format!("preferences_{label}/4000"), |b| {
            b.iter(|| black_box(provision(black_box(&state), &opts)))
        });
    }
    // issue 16: pods that each need a node of their own (required hostname anti-affinity to each other)
    for n in [1_000usize, 10_000] {
        let state = fixtures::karpenter_state(fixtures::anti_affinity_pods(n, 42));
        let opts = ProvisionOptions::default();
        g.throughput(Throughput::Elements(n as u64));
        g.bench_function(format!("hostname_anti_affinity/{n}"), |b| b.iter(|| black_box(provision(black_box(&state), &opts))));
    }
    g.finish();
}

criterion_group!(benches, diverse);
criterion_main!(benches);
