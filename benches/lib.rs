//! Shared setup for karpsim's criterion benches (issue 7): the workloads, and the plain
//! first-fit-decreasing floor. Everything here is setup; the benches time only the solve.

use karpsim::catalog::{CatalogSource, InstanceType};
use karpsim::io::Inputs;
use karpsim::labels::Sym;
use karpsim::model::Pod;
use karpsim::state::ClusterState;
use std::path::{Path, PathBuf};

pub use karpsim::fixtures;

/// The repository root (benches run with the package directory as working directory).
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("benches/ sits in the repository").to_path_buf()
}

/// Online Boutique (12 Deployments + node-exporter DaemonSet) replicated to `n` pending pods against
/// the full embedded us-east-1 catalog, NodePool from `examples/online-boutique/nodepool.yaml`
/// without its cpu limit.
pub fn online_boutique(n: usize) -> ClusterState {
    let mut inputs = Inputs::new();
    inputs.load_path(&repo_root().join("examples/online-boutique")).expect("example loads");
    let mut inputs = inputs.finish().expect("example is valid");
    for p in &mut inputs.nodepools {
        p.limits.0.clear();
    }
    let base: Vec<Pod> = inputs.pods.iter().filter(|p| p.node_name.is_none() && !p.is_daemonset_pod()).cloned().collect();
    assert!(!base.is_empty());
    let mut pods = Vec::with_capacity(n);
    for i in 0..n {
        let mut p = base[i % base.len()].clone();
        let name = Sym::new(&format!("{}-r{i:05}", p.name));
        p.name = name;
        p.uid = name;
        pods.push(p);
    }
    inputs.pods = pods;
    ClusterState::from_inputs(inputs, &CatalogSource::default_aws()).expect("state builds")
}

/// A bin of the first-fit-decreasing floor.
struct Bin {
    cpu: i64,
    memory: i64,
    pods: i64,
}

/// The floor: plain resource-only first-fit-decreasing. Pods sorted by cpu then memory descending;
/// each goes to the first open bin with room (cpu, memory, pod count against allocatable); when none
/// has room, open the cheapest type (first available offering's lowest price) that holds it.
/// Returns (bins opened, total hourly price).
pub fn ffd(pods: &[Pod], types: &[InstanceType]) -> (usize, f64) {
    let mut by_price: Vec<(f64, &InstanceType)> = types
        .iter()
        .map(|t| (t.offerings.iter().filter(|o| o.available).map(|o| o.price).fold(f64::INFINITY, f64::min), t))
        .filter(|(p, _)| p.is_finite())
        .collect();
    by_price.sort_by(|a, b| a.0.total_cmp(&b.0));
    let mut order: Vec<(i64, i64)> = pods.iter().map(|p| (p.requests.cpu, p.requests.memory)).collect();
    order.sort_by(|a, b| b.cmp(a));
    let mut bins: Vec<Bin> = Vec::new();
    let mut cost = 0.0;
    for (cpu, mem) in order {
        if let Some(b) = bins.iter_mut().find(|b| b.cpu >= cpu && b.memory >= mem && b.pods >= 1) {
            b.cpu -= cpu;
            b.memory -= mem;
            b.pods -= 1;
            continue;
        }
        if let Some((price, t)) = by_price.iter().find(|(_, t)| t.allocatable.cpu >= cpu && t.allocatable.memory >= mem && t.allocatable.pods >= 1) {
            cost += price;
            bins.push(Bin { cpu: t.allocatable.cpu - cpu, memory: t.allocatable.memory - mem, pods: t.allocatable.pods - 1 });
        }
    }
    (bins.len(), cost)
}
