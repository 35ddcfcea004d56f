//! Which instance and offering a NodeClaim launches (design §4.2; the AWS provider's
//! `instance.go: getCapacityType`: capacity type reserved, then spot, then on-demand; reserved
//! launches filtered as `instance/filter/filter.go` does).

use super::instance_filter::OfferingReqs;
use super::options::LaunchPolicy;
use crate::catalog::Offering;
use crate::labels::{self, Sym};
use crate::model::ReservationType;
use crate::requirements::Requirements;
use crate::resources::Resources;
use crate::state::TypeInfo;

/// The launched instance: the option and offering chosen.
pub struct Launch<'a> {
    pub it: &'a TypeInfo,
    pub offering: &'a Offering,
}

fn precedence(ct: &str) -> u8 {
    match ct {
        labels::CAPACITY_TYPE_RESERVED => 0,
        labels::CAPACITY_TYPE_SPOT => 1,
        _ => 2,
    }
}

/// Choose among `options` (cheapest first) an instance whose allocatable holds `requests`, and its
/// offering. Ties go to the earlier option, then the zone name, so the choice is deterministic.
pub fn choose<'a>(options: &[&'a TypeInfo], reqs: &Requirements, requests: &Resources, policy: LaunchPolicy) -> Option<Launch<'a>> {
    let mut compat = PairMemo::new(reqs);
    let rank = |o: &Offering| match policy {
        LaunchPolicy::CapacityTypePrecedence => usize::from(precedence(o.capacity_type.as_str())),
        LaunchPolicy::Cheapest => 0,
    };
    // one pass over the candidates: the first cheapest of each rank (a strictly lower price
    // replaces it), so the first cheapest of the best rank is the one a pass over that rank alone
    // would keep (offering checks were two passes' worth, the largest part of writing the result)
    let mut best: [Option<(&'a TypeInfo, &'a Offering)>; 3] = [None; 3];
    for ti in options.iter().filter(|ti| requests.fits(&ti.it.allocatable)) {
        for o in ti.it.offerings.iter().filter(|o| o.available) {
            if !compat.compatible(o) {
                continue;
            }
            let b = &mut best[rank(o)];
            if b.is_none_or(|(_, b)| o.price < b.price) {
                *b = Some((*ti, o));
            }
        }
    }
    let best_rank = best.iter().position(Option::is_some)?;
    if policy == LaunchPolicy::CapacityTypePrecedence && best_rank == 0 {
        let offering_reqs = compat.reqs;
        let reserved: Vec<(&'a TypeInfo, &'a Offering)> = options
            .iter()
            .filter(|ti| requests.fits(&ti.it.allocatable))
            .flat_map(|ti| ti.it.offerings.iter().filter(|o| o.available && offering_reqs.compatible(o)).map(move |o| (*ti, o)))
            .filter(|(_, o)| o.reservation.is_some())
            .collect();
        return reserved_choice(&reserved).map(|(it, offering)| Launch { it, offering });
    }
    best[best_rank].map(|(it, offering)| Launch { it, offering })
}

/// How many (zone, capacity type) pairs [`PairMemo`] remembers; past them it checks in full.
const PAIRS: usize = 16;

/// [`OfferingReqs::compatible`] over one NodeClaim's offerings, remembered per (zone, capacity
/// type) where those two decide it: the requirements hold no zone-id and no reservation
/// requirement (`TypeClasses::offering_mask`'s condition), so every zone id passes and reserved and
/// unreserved offerings alike pass. A NodeClaim's options repeat a few pairs hundreds of times.
struct PairMemo<'a> {
    reqs: OfferingReqs<'a>,
    by_pair: bool,
    seen: [Option<(Sym, Sym, bool)>; PAIRS],
}

impl<'a> PairMemo<'a> {
    fn new(reqs: &'a Requirements) -> PairMemo<'a> {
        let others = [*labels::ZONE_ID, *labels::RESERVATION_ID, *labels::RESERVATION_TYPE, *labels::RESERVATION_INTERRUPTIBLE];
        PairMemo { reqs: OfferingReqs::new(reqs), by_pair: !others.iter().any(|&k| reqs.has(k)), seen: [None; PAIRS] }
    }

    /// Same as `OfferingReqs::compatible(o)`.
    #[inline]
    fn compatible(&mut self, o: &Offering) -> bool {
        if !self.by_pair {
            return self.reqs.compatible(o);
        }
        for slot in &mut self.seen {
            match *slot {
                Some((z, c, ok)) if z == o.zone && c == o.capacity_type => return ok,
                Some(_) => {}
                None => {
                    let ok = self.reqs.compatible(o);
                    *slot = Some((o.zone, o.capacity_type, ok));
                    return ok;
                }
            }
        }
        self.reqs.compatible(o)
    }
}

/// The AWS provider's reserved launch (`instance/filter/filter.go`): the cheapest partition of
/// reservations by type (ties: ODCR, then capacity block, then interruptible ODCR;
/// `CapacityReservationTypeFilter`), in each zone of a type the reservation with the most
/// instances left (`ReservedOfferingFilter`), then the cheapest offering (a capacity block is the
/// single cheapest one, `CapacityBlockFilter`).
fn reserved_choice<'a>(cands: &[(&'a TypeInfo, &'a Offering)]) -> Option<(&'a TypeInfo, &'a Offering)> {
    let part = |o: &Offering| o.reservation.as_ref().map(|r| (r.reservation_type, r.interruptible));
    let priority = |p: Option<(ReservationType, bool)>| match p {
        Some((ReservationType::Default, false)) => 0,
        Some((ReservationType::CapacityBlock, false)) => 1,
        Some((ReservationType::Default, true)) => 2,
        _ => 3,
    };
    let chosen = cands
        .iter()
        .map(|(_, o)| (o.price, priority(part(o)), part(o)))
        .min_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)))?
        .2;
    let in_part: Vec<&(&'a TypeInfo, &'a Offering)> = cands.iter().filter(|(_, o)| part(o) == chosen).collect();
    let left = |o: &Offering| o.reservation.as_ref().map_or(0, |r| r.capacity);
    let mut best: Option<(&'a TypeInfo, &'a Offering)> = None;
    for &&(ti, o) in &in_part {
        let outdone = in_part.iter().any(|(t2, o2)| std::ptr::eq(*t2, ti) && o2.zone == o.zone && left(o2) > left(o));
        if !outdone && best.is_none_or(|(_, b)| o.price < b.price) {
            best = Some((ti, o));
        }
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::custom::parse_custom_catalog;
    use crate::model::NodeSelectorRequirement;

    /// The memo answers as checking each offering in full, for requirements it remembers pairs for,
    /// requirements it must not (zone id, reservations), and more pairs than it has room for; and
    /// `choose` picks the same launch as a plain pass over every candidate.
    #[test]
    fn pair_memo_and_choose_agree_with_the_plain_checks() {
        let offering = |z: usize, c: &str, i: usize| {
            let mut o = serde_json::json!({
                "zone": format!("z{z}"), "zone_id": format!("id{z}{}", i % 2), "capacity_type": c,
                "price": 1.0 + ((i * 7 + z * 3) % 11) as f64 / 10.0, "available": (i + z) % 5 != 0,
            });
            if c == "reserved" {
                o["reservation_id"] = serde_json::json!(format!("cr-{z}-{}", i % 3));
                o["count"] = serde_json::json!(2);
            }
            o
        };
        // 20 zones × 3 capacity types: more pairs than the memo holds; zone ids and reservations that
        // differ between types of one (zone, capacity type)
        let items: Vec<serde_json::Value> = (0..24)
            .map(|i| {
                let offerings: Vec<_> = (0..20)
                    .filter(|z| (z + i) % 3 != 0)
                    .flat_map(|z| [offering(z, "spot", i), offering(z, "on-demand", i), offering(z, "reserved", i)])
                    .filter(|o| o["capacity_type"] != "reserved" || i % 4 != 0)
                    .collect();
                serde_json::json!({"name": format!("t-{i:02}"), "capacity": {"cpu": format!("{}", 1 + i % 6), "memory": "8Gi", "pods": "10"}, "offerings": offerings})
            })
            .collect();
        let custom = parse_custom_catalog("memo", &serde_json::json!({ "instance_types": items }).to_string()).unwrap();
        let types: Vec<TypeInfo> = custom.instance_types.iter().map(|it| TypeInfo::new(std::sync::Arc::clone(it))).collect();
        let options: Vec<&TypeInfo> = types.iter().collect();
        // as a NodePool's or a pod's node-selector terms would give them
        let req = |terms: &[(&str, &str, &[&str])]| {
            let terms: Vec<NodeSelectorRequirement> = terms
                .iter()
                .map(|(key, operator, values)| NodeSelectorRequirement {
                    key: Sym::new(key),
                    operator: operator.to_string(),
                    values: values.iter().map(|v| v.to_string()).collect(),
                    min_values: None,
                })
                .collect();
            Requirements::from_node_selector(&terms).unwrap()
        };
        let (zone, ct) = ("topology.kubernetes.io/zone", "karpenter.sh/capacity-type");
        let all = [
            req(&[]),
            req(&[(zone, "In", &["z1", "z7", "z19"])]),
            req(&[(zone, "NotIn", &["z2", "z3"]), (ct, "In", &["spot", "reserved"])]),
            req(&[(ct, "In", &["on-demand"])]),
            req(&[(ct, "DoesNotExist", &[])]),
            req(&[("topology.k8s.aws/zone-id", "In", &["id10", "id111", "id91"])]),
            req(&[("karpenter.k8s.aws/capacity-reservation-id", "In", &["cr-1-1", "cr-10-0", "cr-9-2"])]),
            req(&[("karpenter.k8s.aws/capacity-reservation-id", "DoesNotExist", &[]), (zone, "In", &["z5", "z6"])]),
        ];
        let mut compatible = 0;
        for reqs in &all {
            let plain = OfferingReqs::new(reqs);
            let mut memo = PairMemo::new(reqs);
            for o in types.iter().flat_map(|t| &t.it.offerings) {
                assert_eq!(memo.compatible(o), plain.compatible(o), "{} {} against {reqs}", o.zone.as_str(), o.capacity_type.as_str());
                compatible += usize::from(plain.compatible(o));
            }
            for milli_cpu in [500, 2_500, 5_500] {
                let requests = Resources::from_pairs([("cpu", milli_cpu)]);
                for policy in [LaunchPolicy::CapacityTypePrecedence, LaunchPolicy::Cheapest] {
                    let got = choose(&options, reqs, &requests, policy).map(|l| (l.it.it.name.as_str(), std::ptr::from_ref(l.offering)));
                    assert_eq!(got, plain_choose(&options, reqs, &requests, policy), "{reqs} {milli_cpu}m cpu {policy:?}");
                }
            }
        }
        assert!(compatible > 0, "the requirements admit some offerings");
    }

    /// `choose` as a plain pass per rank over every candidate, each offering checked in full.
    fn plain_choose<'a>(
        options: &[&'a TypeInfo], reqs: &Requirements, requests: &Resources, policy: LaunchPolicy,
    ) -> Option<(&'a str, *const Offering)> {
        let offering_reqs = OfferingReqs::new(reqs);
        let candidates: Vec<(&'a TypeInfo, &'a Offering)> = options
            .iter()
            .filter(|ti| requests.fits(&ti.it.allocatable))
            .flat_map(|ti| ti.it.offerings.iter().filter(|o| o.available && offering_reqs.compatible(o)).map(move |o| (*ti, o)))
            .collect();
        let rank = |o: &Offering| match policy {
            LaunchPolicy::CapacityTypePrecedence => precedence(o.capacity_type.as_str()),
            LaunchPolicy::Cheapest => 0,
        };
        let best_rank = candidates.iter().map(|(_, o)| rank(o)).min()?;
        if policy == LaunchPolicy::CapacityTypePrecedence && best_rank == 0 {
            let reserved: Vec<_> = candidates.iter().copied().filter(|(_, o)| o.reservation.is_some()).collect();
            return reserved_choice(&reserved).map(|(t, o)| (t.it.name.as_str(), std::ptr::from_ref(o)));
        }
        let mut best: Option<(&'a TypeInfo, &'a Offering)> = None;
        for &(t, o) in candidates.iter().filter(|(_, o)| rank(o) == best_rank) {
            if best.is_none_or(|(_, b)| o.price < b.price) {
                best = Some((t, o));
            }
        }
        best.map(|(t, o)| (t.it.name.as_str(), std::ptr::from_ref(o)))
    }
}
