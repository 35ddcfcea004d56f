//! Disruption on generated clusters of the benchmark catalog: one round (`disrupt_once`) and a bounded
//! until-stable run (`until_stable`, at most 3 rounds) on 1,000 and 5,000 nodes with 4 bound pods each;
//! until stable without a limit on 250 and 1,000 nodes, and with every node drifted on 250, 1,000
//! and 2,000 nodes, and on 1,000 and 2,000 nodes with two DaemonSet pods a node (issue 16).

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use karpsim::disruption::{disrupt_once, until_stable, DisruptionOptions};
use karpsim::labels::Sym;
use karpsim::model::{OwnerKind, OwnerRef, Pod, PodPhase};
use karpsim_benches::fixtures;
use std::hint::black_box;

fn consolidation(c: &mut Criterion) {
    let mut g = c.benchmark_group("consolidation");
    g.sample_size(10);
    for nodes in [1_000usize, 5_000] {
        let state = fixtures::karpenter_cluster(nodes, 4, 42);
        let opts = DisruptionOptions { now: Some(3_600), max_rounds: Some(3), ..DisruptionOptions::default() };
        g.throughput(Throughput::Elements(nodes as u64));
        g.bench_function(format!("one_round/{nodes}"), |b| b.iter(|| black_box(disrupt_once(black_box(&state), &opts))));
        g.bench_function(format!("until_stable_3_rounds/{nodes}"), |b| b.iter(|| black_box(until_stable(black_box(&state), &opts))));
    }
    // issue 16: until stable without a round limit, and with every node drifted (one node a round)
    let unbounded = DisruptionOptions { now: Some(3_600), ..DisruptionOptions::default() };
    for nodes in [250usize, 1_000] {
        let state = fixtures::karpenter_cluster(nodes, 4, 42);
        g.throughput(Throughput::Elements(nodes as u64));
        g.bench_function(format!("until_stable/{nodes}"), |b| b.iter(|| black_box(until_stable(black_box(&state), &unbounded))));
        let mut drifted = state.clone();
        drifted.nodepools[0].labels.insert(Sym::new("tier"), Sym::new("v2"));
        g.bench_function(format!("until_stable_drifted/{nodes}"), |b| b.iter(|| black_box(until_stable(black_box(&drifted), &unbounded))));
    }
    // how the drifted case grows: 2,000 nodes take about 2,000 rounds (one drifted node a round,
    // within the default round limit) of a twice larger cluster than 1,000 nodes do
    let mut drifted = fixtures::karpenter_cluster(2_000, 4, 42);
    drifted.nodepools[0].labels.insert(Sym::new("tier"), Sym::new("v2"));
    g.throughput(Throughput::Elements(2_000));
    g.bench_function("until_stable_drifted/2000", |b| b.iter(|| black_box(until_stable(black_box(&drifted), &unbounded))));
    // with two DaemonSet pods on every node, as a real cluster has: each round's deleted node takes
    // its DaemonSet pods out of the state (the pods' `GapList` leaves gaps rather than moving every
    // later pod)
    for nodes in [1_000usize, 2_000] {
        let mut drifted = fixtures::karpenter_cluster(nodes, 4, 42);
        drifted.nodepools[0].labels.insert(Sym::new("tier"), Sym::new("v2"));
        with_daemonset_pods(&mut drifted, 2);
        g.throughput(Throughput::Elements(nodes as u64));
        g.bench_function(format!("until_stable_drifted_daemonsets/{nodes}"), |b| b.iter(|| black_box(until_stable(black_box(&drifted), &unbounded))));
    }
    g.finish();
}

/// Puts `per_node` running DaemonSet pods (50m, 64 MiB each) on every node of `state`, after the
/// node's other pods in the state's order (as a snapshot listing pods node by node has them).
fn with_daemonset_pods(state: &mut karpsim::state::ClusterState, per_node: usize) {
    let pods: Vec<Pod> = std::mem::take(&mut state.pods).into_vec();
    let mut with: Vec<Pod> = Vec::with_capacity(pods.len() + per_node * state.nodes.len());
    let mut pods = pods.into_iter().peekable();
    for node in state.nodes.iter().map(|n| n.name) {
        while let Some(p) = pods.next_if(|p| p.node_name == Some(node)) {
            with.push(p);
        }
        for k in 0..per_node {
            let mut p = fixtures::pod(&format!("ds-{k}-{node}"), 50, 64 << 20);
            p.node_name = Some(node);
            p.phase = PodPhase::Running;
            p.start_time = Some(0);
            p.owner = Some(OwnerRef { kind: OwnerKind::DaemonSet, name: Sym::new(&format!("ds-{k}")) });
            with.push(p);
        }
    }
    with.extend(pods);
    state.pods = with.into();
}

criterion_group!(benches, consolidation);
criterion_main!(benches);
