//! The simulator's round (`plan_round`) skips single-node simulations that are certain to fail.
//! It must decide exactly what the explaining round (`disrupt_once`) decides: checked here over
//! many random clusters, tight and loose, on-demand and spot, with and without spot-to-spot.

mod disruption_common;
use disruption_common as common;

use common::{NOW, World, ZONES, all, opts, ty};
use karpsim::disruption::{DisruptionOptions, disrupt_once, plan_round};
use rand::rngs::Xoshiro256PlusPlus;
use rand::{RngExt, SeedableRng};
use serde_json::json;

fn types() -> Vec<common::Ty> {
    let mut t = common::std_types();
    // a few odd shapes and prices, so replacements are sometimes cheaper and sometimes not
    t.push(ty("r-medium", 4, 32, Some(0.26), None));
    t.push(ty("tiny", 1, 1, Some(0.055), Some(0.02)));
    t
}

/// A random cluster: nodes of random types, zones and capacity types, filled to a random level.
fn world(rng: &mut Xoshiro256PlusPlus) -> World {
    let types = types();
    let mut w = World::new(types.clone());
    let pool = w.pool("default", "WhenEmptyOrUnderutilized", all());
    let with_spot = rng.random_range(0..3u32) == 0;
    if with_spot {
        pool["spec"]["template"]["spec"]["requirements"] =
            json!([{"key": "karpenter.sh/capacity-type", "operator": "In", "values": ["on-demand", "spot"]}]);
    }
    let nodes = rng.random_range(2..18usize);
    let loose = rng.random_range(0..3u32) == 0;
    let mut pod = 0;
    for i in 0..nodes {
        let t = &types[rng.random_range(0..types.len())];
        let spot = with_spot && rng.random_range(0..2u32) == 0 && t.offers.iter().any(|o| o.1 == "spot");
        let name = format!("n{i}");
        w.node(&name, Some("default"), &t.name, ZONES[rng.random_range(0..3usize)], if spot { "spot" } else { "on-demand" });
        // percent of the node's cpu its pods request: mostly full, sometimes not
        let fill = if loose { rng.random_range(20..90u32) } else { rng.random_range(92..100u32) };
        let mut left = t.cpu * 10 * fill; // millicores
        while left >= 100 {
            let cpu = [100, 200, 250, 500, 900, 1500][rng.random_range(0..6usize)].min(left);
            w.pod(&format!("p{pod}"), Some(&name), cpu);
            pod += 1;
            left -= cpu;
        }
    }
    for _ in 0..rng.random_range(0..3u32) {
        w.pod(&format!("p{pod}"), None, [100, 700, 3000][rng.random_range(0..3usize)]);
        pod += 1;
    }
    w
}

fn commands(o: &DisruptionOptions, w: &World) -> (String, String) {
    let state = w.state();
    let explained = disrupt_once(&state, o).commands;
    let quick: Vec<_> = plan_round(&state, NOW, o).into_iter().map(|p| p.command).collect();
    (serde_json::to_string_pretty(&explained).unwrap(), serde_json::to_string_pretty(&quick).unwrap())
}

#[test]
fn the_simulators_round_decides_what_the_explaining_round_decides() {
    let mut acted = 0;
    for seed in 0..120u64 {
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
        let w = world(&mut rng);
        let mut o = opts();
        o.spot_to_spot = seed % 2 == 1;
        let (explained, quick) = commands(&o, &w);
        assert_eq!(explained, quick, "seed {seed} (spot-to-spot {})", o.spot_to_spot);
        acted += usize::from(explained != "[]");
    }
    // the comparison means something only if rounds both act and do not
    assert!((20..110).contains(&acted), "{acted} of 120 rounds acted");
}

#[test]
fn the_cheapest_node_is_still_deleted_when_its_pods_fit_elsewhere() {
    // no type is cheaper than `tiny`, so only a delete can act on n0: the quick "no" must not skip
    // it while its pod fits the room left on n1
    let mut w = World::new(types());
    w.pool("default", "WhenEmptyOrUnderutilized", all());
    w.node("n0", Some("default"), "tiny", "z1", "on-demand");
    w.pod("a", Some("n0"), 300);
    w.node("n1", Some("default"), "small", "z1", "on-demand");
    w.pod("b", Some("n1"), 1500);
    w.node("n2", Some("default"), "small", "z1", "on-demand");
    w.pod("c", Some("n2"), 1900);
    let (explained, quick) = commands(&opts(), &w);
    assert_eq!(explained, quick);
    assert!(quick.contains("\"single-node\"") && quick.contains("\"n0\"") && quick.contains("\"delete\""), "{quick}");
}
