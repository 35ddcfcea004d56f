//! Which instance and offering a NodeClaim launches (design §4.2; the AWS provider's
//! `instance.go`: capacity type reserved, then spot, then on-demand).

use super::instance_filter::OfferingReqs;
use super::options::LaunchPolicy;
use crate::catalog::Offering;
use crate::labels;
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
        LaunchPolicy::CapacityTypePrecedence => precedence(o.capacity_type.as_str()),
        LaunchPolicy::Cheapest => 0,
    };
    let best_rank = candidates().map(|(_, o)| rank(o)).min()?;
    let mut best: Option<(&'a TypeInfo, &'a Offering)> = None;
    for (ti, o) in candidates().filter(|(_, o)| rank(o) == best_rank) {
        if best.is_none_or(|(_, b)| o.price < b.price) {
            best = Some((ti, o));
        }
    }
    best.map(|(it, offering)| Launch { it, offering })
}
