//! The proven cost bound: below every feasible packing (checked against an exact search on small
//! clusters), below the best packing found, which is below Karpenter's cost; the packing valid.

mod common;

use common::*;
use karpsim::optimize::bound::{BoundOptions, BoundResult, bound};
use rand::rngs::Xoshiro256PlusPlus;
use rand::{RngExt, SeedableRng};

/// A small random cluster and what an exact search needs to know about it.
struct Small {
    catalog: String,
    yaml: String,
    /// Per bin: price, capacity (cpu m, memory Mi, pods) after the DaemonSet, allowed pods (mask).
    bins: Vec<(f64, [i64; 3], u32)>,
    /// Per pod: cpu m, memory Mi.
    pods: Vec<[i64; 2]>,
}

fn small(seed: u64) -> Small {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
    let nt = rng.random_range(2..4);
    let mut types = Vec::new();
    let mut spec = Vec::new();
    for t in 0..nt {
        let cpu: u32 = rng.random_range(2..9);
        let mem: u32 = rng.random_range(2..17);
        let pods: u32 = rng.random_range(3..9);
        let od: f64 = (rng.random_range(5..100) as f64) / 100.0;
        let spot: f64 = (od * rng.random_range(30..100) as f64 / 100.0 * 1000.0).round() / 1000.0;
        let size = if t == 0 { "small" } else { "large" };
        types.push(it(&format!("t{t}"), cpu, mem, pods).label("size", size).offers(&[("test-zone-1", "on-demand", od), ("test-zone-1", "spot", spot), ("test-zone-2", "on-demand", od)]));
        spec.push((cpu as i64 * 1000 - 100, mem as i64 * 1024 - 10, pods as i64, od, spot, size));
    }
    let np = rng.random_range(2..7);
    let mut yaml = pool("default", &[ANY_CT, "{key: size, operator: In, values: [small, large]}"]);
    // every pod fits the smallest type on its own
    let (min_cpu, min_mem) = (spec.iter().map(|s| s.0).min().unwrap(), spec.iter().map(|s| s.1).min().unwrap());
    yaml += &daemonset("agent", "100m", "64Mi", "");
    let mut pods = Vec::new();
    // pod constraints: 0 none, 1 on-demand only, 2 size small only
    let mut kinds = Vec::new();
    for i in 0..np {
        let cpu = rng.random_range(1..((min_cpu - 200) / 100).max(2)) * 100;
        let mem = rng.random_range(1..((min_mem - 64) / 128).max(2)) * 128;
        let kind = rng.random_range(0..4u32).min(2);
        let sel = match kind {
            1 => "  nodeSelector: {karpenter.sh/capacity-type: on-demand}\n",
            2 => "  nodeSelector: {size: small}\n",
            _ => "",
        };
        yaml += &pod(&format!("p{i}"), &format!("{cpu}m"), &format!("{mem}Mi"), "", sel);
        pods.push([cpu, mem]);
        kinds.push(kind);
    }
    let mut bins = Vec::new();
    for &(cpu, mem, podcap, od, spot, size) in &spec {
        for (price, ct) in [(od, "on-demand"), (spot, "spot")] {
            let mut mask = 0u32;
            for (i, k) in kinds.iter().enumerate() {
                let ok = match k {
                    1 => ct == "on-demand",
                    2 => size == "small",
                    _ => true,
                };
                if ok {
                    mask |= 1 << i;
                }
            }
            bins.push((price, [cpu - 100, mem - 64, podcap - 1], mask));
        }
    }
    Small { catalog: catalog(&types), yaml, bins, pods }
}

/// The cheapest packing, by dynamic programming over subsets of pods.
fn exact(s: &Small) -> f64 {
    let n = s.pods.len();
    let full = (1u32 << n) - 1;
    let fits = |mask: u32, b: &(f64, [i64; 3], u32)| {
        if mask & !b.2 != 0 {
            return false;
        }
        let (mut c, mut m, mut k) = (0, 0, 0);
        for i in 0..n {
            if mask & (1 << i) != 0 {
                c += s.pods[i][0];
                m += s.pods[i][1];
                k += 1;
            }
        }
        c <= b.1[0] && m <= b.1[1] && k <= b.1[2]
    };
    let single: Vec<f64> = (0..=full).map(|t| s.bins.iter().filter(|b| fits(t, b)).map(|b| b.0).fold(f64::INFINITY, f64::min)).collect();
    let mut best = vec![f64::INFINITY; (full + 1) as usize];
    best[0] = 0.0;
    for mask in 1..=full {
        let low = mask & mask.wrapping_neg();
        let mut t = mask;
        while t > 0 {
            if t & low != 0 {
                let v = single[t as usize] + best[(mask & !t) as usize];
                if v < best[mask as usize] {
                    best[mask as usize] = v;
                }
            }
            t = (t - 1) & mask;
        }
    }
    best[full as usize]
}

fn run_bound(catalog_json: &str, yaml: &str, opts: &BoundOptions) -> BoundResult {
    bound(&state(catalog_json, yaml), opts)
}

#[test]
fn bound_is_below_the_exact_optimum_and_the_packing_reaches_it_on_small_clusters() {
    let mut reached = 0;
    for seed in 0..30 {
        let s = small(seed);
        let opt = exact(&s);
        let r = run_bound(&s.catalog, &s.yaml, &BoundOptions { consolidate: false, ..BoundOptions::default() });
        assert_eq!(r.karpenter.pending, 0, "seed {seed}: {:?}", r.warnings);
        assert!(opt.is_finite(), "seed {seed}");
        assert!(r.lower_bound_per_hour <= opt + 1e-12, "seed {seed}: bound {} above the optimum {opt}", r.lower_bound_per_hour);
        assert!(r.best_packing.cost_per_hour >= opt - 1e-9, "seed {seed}: packing {} below the optimum {opt}", r.best_packing.cost_per_hour);
        assert!(r.karpenter.cost_per_hour >= opt - 1e-9, "seed {seed}");
        // an early stop keeps the bound proven
        let early = run_bound(&s.catalog, &s.yaml, &BoundOptions { max_iterations: 1, consolidate: false, ..BoundOptions::default() });
        assert!(early.lower_bound_per_hour <= opt + 1e-12, "seed {seed}: early bound {} above {opt}", early.lower_bound_per_hour);
        if (r.best_packing.cost_per_hour - opt).abs() < 1e-9 {
            reached += 1;
        }
    }
    assert!(reached >= 27, "the packing found the optimum on only {reached} of 30 small clusters");
}

#[test]
fn bound_packing_and_karpenter_are_ordered_on_random_clusters() {
    let types: Vec<It> = (0..8)
        .map(|i| {
            let cpu = [2, 4, 8, 16, 2, 4, 8, 16][i];
            let mem = cpu * if i < 4 { 2 } else { 8 };
            let od = 0.05 * cpu as f64 * if i < 4 { 1.0 } else { 1.4 };
            it(&format!("type-{i}"), cpu, mem, 30).label("family", if i < 4 { "c" } else { "r" }).offers(&[
                ("test-zone-1", "on-demand", od),
                ("test-zone-2", "on-demand", od),
                ("test-zone-1", "spot", od * 0.4),
            ])
        })
        .collect();
    let cat = catalog(&types);
    for seed in 0..8u64 {
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(1000 + seed);
        let mut yaml = pool("default", &[ANY_CT, "{key: family, operator: In, values: [c, r]}"]);
        yaml += &pool_full("tainted", 10, &["{key: family, operator: In, values: [r]}"], "", "", "      taints: [{key: team, value: data, effect: NoSchedule}]\n");
        yaml += &daemonset("agent", "150m", "100Mi", "");
        for i in 0..rng.random_range(10..60) {
            let cpu = rng.random_range(1..40) * 100;
            let mem = rng.random_range(1..64) * 128;
            let spec = match rng.random_range(0..5) {
                0 => "  tolerations: [{key: team, operator: Equal, value: data, effect: NoSchedule}]\n",
                1 => "  nodeSelector: {topology.kubernetes.io/zone: test-zone-2}\n",
                2 => "  nodeSelector: {family: c}\n",
                _ => "",
            };
            yaml += &pod(&format!("p{i}"), &format!("{cpu}m"), &format!("{mem}Mi"), "", spec);
        }
        let st = state(&cat, &yaml);
        let r = bound(&st, &BoundOptions::default());
        let lb = r.lower_bound_per_hour;
        let best = r.best_packing.cost_per_hour;
        assert!(lb > 0.0, "seed {seed}");
        assert!(lb <= best + 1e-9 && best <= r.karpenter.cost_per_hour + 1e-9, "seed {seed}: {lb} <= {best} <= {}", r.karpenter.cost_per_hour);
        if let Some(a) = &r.after_consolidation {
            assert!(lb <= a.cost_per_hour + 1e-9, "seed {seed}");
        }
        // every pod Karpenter placed is in the packing once, and every node holds its pods
        let mut placed: Vec<String> = r.best_packing.nodes.iter().flat_map(|n| n.pods.clone()).collect();
        placed.sort();
        let pending: Vec<String> = karpsim::scheduling::provision(&st, &Default::default()).unschedulable.into_iter().map(|u| u.pod).collect();
        assert_eq!(pending.len(), r.karpenter.pending, "seed {seed}");
        let mut want: Vec<String> = st.pods.iter().map(|p| p.key()).filter(|k| !pending.contains(k)).collect();
        want.sort();
        assert_eq!(placed, want, "seed {seed}");
        for n in &r.best_packing.nodes {
            let t = types.iter().position(|t| t.name == n.instance_type).expect("a catalog type");
            let (cpu, mem) = (t_cpu(&types[t]), t_mem(&types[t]));
            // the DaemonSet does not tolerate the tainted pool's taint
            let ds = if n.nodepool == "tainted" { (0, 0) } else { (150, 100 << 20) };
            let used_cpu: i64 = n.pods.iter().map(|p| st.pods.iter().find(|q| q.key() == *p).unwrap().requests.cpu).sum::<i64>() + ds.0;
            let used_mem: i64 = n.pods.iter().map(|p| st.pods.iter().find(|q| q.key() == *p).unwrap().requests.memory).sum::<i64>() + ds.1;
            assert!(used_cpu <= cpu && used_mem <= mem, "seed {seed}: node {n:?} over capacity");
            if n.nodepool == "tainted" {
                for p in &n.pods {
                    let pod = st.pods.iter().find(|q| q.key() == *p).unwrap();
                    assert!(!pod.tolerations.is_empty(), "seed {seed}: {p} on a tainted node without toleration");
                }
            }
        }
        assert!(r.constraints.relaxed.iter().any(|c| c.contains("topology spread")));
    }
}

fn t_cpu(t: &It) -> i64 {
    t.cpu.parse::<i64>().unwrap() * 1000 - 100
}
fn t_mem(t: &It) -> i64 {
    t.memory.trim_end_matches("Gi").parse::<i64>().unwrap() * (1 << 30) - (10 << 20)
}

#[test]
fn free_room_on_existing_nodes_costs_nothing() {
    let cat = catalog(&[it("small", 2, 4, 10), it("large", 8, 16, 30)]);
    let mut yaml = pool("default", &[ANY_CT]);
    yaml += &node("spare", "kubernetes.io/arch: amd64", "8", "16Gi", 30, "");
    yaml += &pod("a", "1", "1Gi", "", "");
    yaml += &pod("b", "1", "1Gi", "", "");
    let r = run_bound(&cat, &yaml, &BoundOptions::default());
    assert_eq!(r.karpenter.cost_per_hour, 0.0, "Karpenter uses the existing node");
    assert_eq!(r.lower_bound_per_hour, 0.0);
    assert_eq!(r.best_packing.cost_per_hour, 0.0);
    assert!(r.best_packing.nodes.iter().all(|n| n.existing.as_deref() == Some("spare")));
    // a pod too big for the spare room needs a launched node: the bound sees it
    yaml += &pod("big", "7", "8Gi", "", "");
    let r = run_bound(&cat, &yaml, &BoundOptions::default());
    assert!(r.lower_bound_per_hour > 0.0);
    assert!(r.lower_bound_per_hour <= r.best_packing.cost_per_hour + 1e-12);
}

#[test]
fn the_bound_is_deterministic() {
    let s = small(3);
    let a = serde_json::to_string(&run_bound(&s.catalog, &s.yaml, &BoundOptions::default())).unwrap();
    let b = serde_json::to_string(&run_bound(&s.catalog, &s.yaml, &BoundOptions::default())).unwrap();
    assert_eq!(a, b);
}

/// `pool(...)` with `spec.replicas`: a static NodePool (no limits but `limits.nodes`).
fn static_pool(name: &str, replicas: i64, reqs: &[&str]) -> String {
    pool(name, reqs).replacen("spec:\n", &format!("spec:\n  replicas: {replicas}\n"), 1)
}

#[test]
fn static_pool_nodes_are_paid_and_their_room_is_free() {
    // the static pool keeps one cheap node; the dynamic pool only launches a dear type
    let cat = catalog(&[it("cheap", 4, 8, 10).price(0.05), it("dear", 4, 8, 10).price(1.0)]);
    let only = |t: &str| format!("{{key: node.kubernetes.io/instance-type, operator: In, values: [{t}]}}");
    let mut yaml = static_pool("kept", 1, &[ANY_CT, &only("cheap")]);
    yaml += &pool("default", &[ANY_CT, &only("dear")]);
    yaml += &pod("a", "1", "1Gi", "", "");
    yaml += &pod("b", "1", "1Gi", "", "");
    let r = run_bound(&cat, &yaml, &BoundOptions::default());
    // Karpenter puts both pods on the static node: that cluster costs its price, and no cluster the
    // NodePools can make costs less (the static node is always there)
    assert!((r.karpenter.cost_per_hour - 0.05).abs() < 1e-9, "{r:#?}");
    assert!(r.lower_bound_per_hour <= r.karpenter.cost_per_hour + 1e-9, "the bound is above a cluster Karpenter makes: {r:#?}");
    assert!(r.lower_bound_per_hour >= 0.05 - 1e-9, "every cluster pays the static node: {r:#?}");
    assert!((r.best_packing.cost_per_hour - 0.05).abs() < 1e-9, "{r:#?}");
    assert!(r.best_packing.nodes.iter().any(|n| n.nodepool == "kept" && (n.price_per_hour - 0.05).abs() < 1e-9), "{r:#?}");
    assert!(r.warnings.iter().any(|w| w.contains("static NodePools' nodes")), "{:?}", r.warnings);
}

#[test]
fn reserved_instances_are_not_packed_past_their_count() {
    // one reserved instance of `m` (near-free), then on-demand; each pod needs a node of its own
    let mut v: serde_json::Value = serde_json::from_str(&catalog(&[it("m", 2, 4, 10).price(1.0)])).unwrap();
    v["instance_types"][0]["offerings"]
        .as_array_mut()
        .unwrap()
        .push(serde_json::json!({"zone": "test-zone-1", "capacity_type": "reserved", "price": 1e-7, "reservation_id": "cr-m", "count": 1}));
    let cat = v.to_string();
    let mut yaml = pool("default", &["{key: karpenter.sh/capacity-type, operator: In, values: [on-demand, reserved]}"]);
    for p in ["a", "b", "c"] {
        yaml += &pod(p, "1500m", "1Gi", "", "");
    }
    let r = run_bound(&cat, &yaml, &BoundOptions::default());
    let reserved = r.best_packing.nodes.iter().filter(|n| n.capacity_type == "reserved").count();
    assert!(reserved <= 1, "the packing launches {reserved} instances into a reservation of 1: {r:#?}");
    assert!(r.best_packing.cost_per_hour >= 2.0 - 1e-6, "{r:#?}");
    assert!(r.lower_bound_per_hour <= r.best_packing.cost_per_hour + 1e-9);
    // the reservation is one LP row: the bound knows two of the three nodes pay on-demand
    assert!(r.lower_bound_per_hour >= 2.0 - 1e-6, "the bound takes the reservation as unlimited: {r:#?}");
    assert!(r.constraints.included.iter().any(|c| c.contains("capacity reservations")), "{:?}", r.constraints);
}

#[test]
fn a_reservation_shared_by_two_zones_and_pools_is_one_supply() {
    // a reservation of 2 near-free `m` nodes, offered in two zones (two offerings, one id) and to two
    // NodePools; 5 pods that each need a node: 2 reserved + 3 on-demand
    let mut v: serde_json::Value = serde_json::from_str(&catalog(&[it("m", 2, 4, 10).price(1.0)])).unwrap();
    for zone in ["test-zone-1", "test-zone-2"] {
        v["instance_types"][0]["offerings"]
            .as_array_mut()
            .unwrap()
            .push(serde_json::json!({"zone": zone, "capacity_type": "reserved", "price": 1e-7, "reservation_id": "cr-m", "count": 2}));
    }
    let cat = v.to_string();
    let ct = "{key: karpenter.sh/capacity-type, operator: In, values: [on-demand, reserved]}";
    let mut yaml = pool("a", &[ct]);
    yaml += &pool("b", &[ct]);
    for p in ["p1", "p2", "p3", "p4", "p5"] {
        yaml += &pod(p, "1500m", "1Gi", "", "");
    }
    let r = run_bound(&cat, &yaml, &BoundOptions::default());
    assert!(r.lower_bound_per_hour >= 3.0 - 1e-6, "{r:#?}");
    assert!(r.lower_bound_per_hour <= r.best_packing.cost_per_hour + 1e-9, "{r:#?}");
    assert!((r.best_packing.cost_per_hour - (3.0 + 2e-7)).abs() < 1e-6, "{r:#?}");
    assert_eq!(r.best_packing.nodes.iter().filter(|n| n.capacity_type == "reserved").count(), 2, "{r:#?}");
}

/// Pods of random shapes (cpu and memory in independent random amounts) on c (2 GiB per vCPU), m (4)
/// and r (8) families of several sizes, and a small type four times cheaper per vCPU that few of
/// them fit on. The fluid relaxation spreads every pod over the small type's cheap resources, so it
/// stays far below any packing; the assignment LP keeps a pod on the types it fits on whole, its
/// resources together, and its duals lift the proven bound to within 10% of the best packing.
#[test]
fn the_bound_holds_close_to_the_packing_on_pods_of_many_shapes() {
    let mut types = vec![it("t.small", 2, 4, 110).label("family", "t").offers(&[("test-zone-1", "on-demand", 0.02)])];
    for (family, per_cpu, price_per_cpu) in [("c", 2u32, 0.0425), ("m", 4, 0.048), ("r", 8, 0.063)] {
        for cpu in [2u32, 4, 8, 16, 32] {
            types.push(it(&format!("{family}.{cpu}"), cpu, cpu * per_cpu, 110).label("family", family).offers(&[("test-zone-1", "on-demand", price_per_cpu * cpu as f64)]));
        }
    }
    let cat = catalog(&types);
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(15);
    let mut yaml = pool("default", &[ANY_CT]);
    for i in 0..40 {
        let cpu = rng.random_range(1..80) * 100;
        let mem = rng.random_range(1..200) * 128;
        yaml += &pod(&format!("p{i}"), &format!("{cpu}m"), &format!("{mem}Mi"), "", "");
    }
    let r = run_bound(&cat, &yaml, &BoundOptions { consolidate: false, ..BoundOptions::default() });
    assert_eq!(r.karpenter.pending, 0, "{:?}", r.warnings);
    let (lb, best) = (r.lower_bound_per_hour, r.best_packing.cost_per_hour);
    assert!(lb <= best + 1e-9, "bound {lb} above the packing {best}");
    assert!(best <= 1.1 * lb, "bound {lb} more than 10% below the best packing {best}");
}
