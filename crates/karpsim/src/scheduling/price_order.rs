//! The cheapest options of a NodeClaim at finalisation, without pricing and sorting every claim's
//! options again (`nodeclaim.go: FinalizeScheduling` and `instancetype.go: OrderByPrice` /
//! `Truncate`; design §3.13).
//!
//! Karpenter orders a claim's instance types by the price of their cheapest available offering
//! compatible with the claim's requirements, and keeps the first `maxInstanceTypes`. The price of
//! a type depends only on the type and on the requirements its offerings are checked against (zone,
//! zone id, capacity type and the reservation labels: [`OfferingReqs`]), and karpsim breaks price
//! ties by name, unique within a NodePool's catalog, so the order is total. Sorting every type of
//! the template once per distinct set of offering requirements, and keeping the first
//! `maxInstanceTypes` of that order that are among a claim's options, gives exactly the list that
//! sorting the claim's own options gives: a total order restricted to a subset is the subset's
//! order. Thousands of claims share a handful of such sets (zones × capacity types), and a run with
//! a single claim (most disruption simulations) is not worse off: an order is built only when a set
//! comes up a second time. The orders are kept with a template's parts (its catalog and options),
//! so the runs of a time simulation or of disruption rounds share them.

use super::instance_filter::{OfferingReqs, offering_keys};
use crate::requirements::Requirements;
use crate::state::TypeInfo;

/// The price Karpenter orders options by: the cheapest available offering compatible with the
/// requirements (+∞ when there is none).
pub(crate) fn cheapest_with(ti: &TypeInfo, reqs: &OfferingReqs) -> f64 {
    ti.it.offerings.iter().filter(|o| o.available && reqs.compatible(o)).map(|o| o.price).fold(f64::INFINITY, f64::min)
}

/// Cheapest first, ties by name (a total order within one catalog).
fn by_price(types: &[TypeInfo], a: &(u32, f64), b: &(u32, f64)) -> std::cmp::Ordering {
    a.1.total_cmp(&b.1).then(types[a.0 as usize].it.name.cmp(&types[b.0 as usize].it.name))
}

struct Entry {
    /// The offering requirements of the claims this entry is for (only the six keys).
    reqs: Requirements,
    /// Claims seen with them so far.
    uses: usize,
    /// Every type of the template's catalog, cheapest first (built at the second use).
    sorted: Vec<u32>,
}

/// Per set of offering requirements, every type of one template's catalog cheapest first.
#[derive(Default)]
pub(crate) struct PriceOrders {
    entries: Vec<Entry>,
    /// Scratch: which types are among the claim's options.
    member: Vec<bool>,
}

impl PriceOrders {
    /// Sets kept at most; past it they are forgotten (a handful is usual).
    const MAX_ENTRIES: usize = 256;

    /// The `keep` cheapest of `options` (indices into `types`, the catalog these orders are for:
    /// always the same one) under requirements `reqs`, cheapest first.
    pub(crate) fn cheapest(&mut self, types: &[TypeInfo], options: &[u32], reqs: &Requirements, keep: usize) -> Vec<u32> {
        let keys = offering_keys();
        let found = self.entries.iter().position(|e| keys.iter().all(|&k| e.reqs.get(k) == reqs.get(k)));
        let e = match found {
            Some(e) => e,
            None => {
                let mut own = Requirements::new();
                for k in keys {
                    if let Some(r) = reqs.get(k) {
                        own.set(k, r.clone());
                    }
                }
                if self.entries.len() >= Self::MAX_ENTRIES {
                    self.entries.clear();
                }
                self.entries.push(Entry { reqs: own, uses: 0, sorted: Vec::new() });
                self.entries.len() - 1
            }
        };
        let entry = &mut self.entries[e];
        entry.uses += 1;
        if entry.uses == 1 {
            return cheapest_direct(types, options, reqs, keep);
        }
        if entry.sorted.is_empty() {
            let offering_reqs = OfferingReqs::new(&entry.reqs);
            let mut all: Vec<(u32, f64)> =
                (0..types.len() as u32).map(|o| (o, cheapest_with(&types[o as usize], &offering_reqs))).collect();
            all.sort_unstable_by(|a, b| by_price(types, a, b));
            entry.sorted = all.into_iter().map(|(o, _)| o).collect();
        }
        self.member.resize(types.len(), false);
        for &o in options {
            self.member[o as usize] = true;
        }
        let kept: Vec<u32> = entry.sorted.iter().copied().filter(|&o| self.member[o as usize]).take(keep).collect();
        for &o in options {
            self.member[o as usize] = false;
        }
        kept
    }
}

/// The same list from the claim's options alone: price each, select the `keep` cheapest, sort them.
fn cheapest_direct(types: &[TypeInfo], options: &[u32], reqs: &Requirements, keep: usize) -> Vec<u32> {
    let offering_reqs = OfferingReqs::new(reqs);
    let mut priced: Vec<(u32, f64)> = options.iter().map(|&o| (o, cheapest_with(&types[o as usize], &offering_reqs))).collect();
    if priced.len() > keep {
        priced.select_nth_unstable_by(keep - 1, |a, b| by_price(types, a, b));
        priced.truncate(keep);
    }
    priced.sort_unstable_by(|a, b| by_price(types, a, b));
    priced.into_iter().map(|(o, _)| o).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::parse_custom_catalog;
    use crate::labels::{self, Sym};
    use crate::requirements::Requirement;
    use std::sync::Arc;

    /// Prices that differ by zone and capacity type (and tie across some types), so that each set of
    /// offering requirements orders the types differently.
    fn types() -> Vec<TypeInfo> {
        let mut seed = 42u64;
        let mut next = move || {
            seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            (seed >> 33) % 7
        };
        let items: Vec<serde_json::Value> = (0..80)
            .map(|i| {
                let offerings: Vec<serde_json::Value> = [("z1", "spot"), ("z2", "spot"), ("z1", "on-demand"), ("z3", "on-demand")]
                    .iter()
                    .map(|(z, c)| serde_json::json!({"zone": z, "capacity_type": c, "price": 0.5 + next() as f64}))
                    .collect();
                serde_json::json!({"name": format!("t-{i:02}"), "capacity": {"cpu": "2", "memory": "4Gi", "pods": "10"}, "offerings": offerings})
            })
            .collect();
        let text = serde_json::json!({ "instance_types": items }).to_string();
        let catalog = parse_custom_catalog("prices", &text).unwrap();
        catalog.instance_types.iter().map(|it| TypeInfo::new(Arc::clone(it))).collect()
    }

    #[test]
    fn the_cached_order_keeps_what_sorting_each_claim_keeps() {
        let types = types();
        let zone = |v: &[&str]| (*labels::ZONE, Requirement::is_in(v.iter().map(|z| Sym::new(z))));
        let ct = |v: &str| (*labels::CAPACITY_TYPE, Requirement::is_in([Sym::new(v)]));
        let host = (*labels::HOSTNAME, Requirement::is_in([Sym::new("h")]));
        let sets: Vec<Vec<(Sym, Requirement)>> = vec![
            vec![],
            vec![zone(&["z1"])],
            vec![zone(&["z2"]), ct("spot")],
            vec![zone(&["z1", "z3"]), ct("on-demand"), host.clone()],
            vec![zone(&["z3"]), ct("spot")],
            vec![host],
        ];
        // two templates over the same catalog, each with its orders
        let mut orders = [PriceOrders::default(), PriceOrders::default()];
        let mut seed = 7u64;
        let mut next = move || {
            seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            (seed >> 33) as usize
        };
        for round in 0..300 {
            let mut reqs = Requirements::new();
            for (k, r) in &sets[round % sets.len()] {
                reqs.add(*k, r.clone());
            }
            let options: Vec<u32> = (0..types.len() as u32).filter(|_| next() % 3 != 0).collect();
            let keep = 1 + next() % 70;
            let template = round % 2;
            let got = orders[template].cheapest(&types, &options, &reqs, keep);
            assert_eq!(got, cheapest_direct(&types, &options, &reqs, keep), "round {round}");
            assert_eq!(got.len(), keep.min(options.len()));
        }
        assert!(orders.iter().flat_map(|o| &o.entries).all(|e| !e.sorted.is_empty()), "every set came up more than once");
    }
}
