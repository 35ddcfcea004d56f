//! Which instance and offering a NodeClaim launches (design §4.2; the AWS provider's
//! `instance.go: getCapacityType`: capacity type reserved, then spot, then on-demand; reserved
//! launches filtered as `instance/filter/filter.go` does).

use super::instance_filter::OfferingReqs;
use super::options::LaunchPolicy;
use crate::catalog::Offering;
use crate::labels;
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
    let offering_reqs = OfferingReqs::new(reqs);
    let candidates = || {
        options.iter().filter(|ti| requests.fits(&ti.it.allocatable)).flat_map(|ti| {
            ti.it.offerings.iter().filter(|o| o.available && offering_reqs.compatible(o)).map(move |o| (*ti, o))
        })
    };
    let rank = |o: &Offering| match policy {
        LaunchPolicy::CapacityTypePrecedence => usize::from(precedence(o.capacity_type.as_str())),
        LaunchPolicy::Cheapest => 0,
    };
    // one pass over the candidates: the first cheapest of each rank (a strictly lower price
    // replaces it), so the first cheapest of the best rank is the one a pass over that rank alone
    // would keep (offering checks were two passes' worth, the largest part of writing the result)
    let mut best: [Option<(&'a TypeInfo, &'a Offering)>; 3] = [None; 3];
    for (ti, o) in candidates() {
        let b = &mut best[rank(o)];
        if b.is_none_or(|(_, b)| o.price < b.price) {
            *b = Some((ti, o));
        }
    }
    let best_rank = best.iter().position(Option::is_some)?;
    if policy == LaunchPolicy::CapacityTypePrecedence && best_rank == 0 {
        let reserved: Vec<(&'a TypeInfo, &'a Offering)> = candidates().filter(|(_, o)| o.reservation.is_some()).collect();
        return reserved_choice(&reserved).map(|(it, offering)| Launch { it, offering });
    }
    best[best_rank].map(|(it, offering)| Launch { it, offering })
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
