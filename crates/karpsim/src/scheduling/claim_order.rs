//! The order in which the scheduler tries the NodeClaims it has opened in a run.
//!
//! `scheduler.go: add` sorts the NodeClaims by pod count before each pod with `sort.Slice`, an
//! insertion sort (stable) up to 12 NodeClaims, which karpsim keeps at every size: a claim that
//! gained a pod moves back past the claims that now have fewer pods, and lands at the front of the
//! claims with its new count; a new NodeClaim (one pod) moves ahead of those with more and lands
//! behind the other one-pod claims. (Above 12 NodeClaims Go's pdqsort may reorder ties.)
//!
//! Moving a claim one place at a time costs a step per claim it passes, and tens of thousands of
//! one-pod claims (a hostname anti-affinity per pod) made every placement walk them. The same order
//! is a sort key: pod count, then within a count the order of arrival (first arrived first for
//! one-pod claims, last arrived first for the others), so a move is a removal and an insertion in a
//! sorted map, and the claims themselves never move.

use std::collections::BTreeMap;

/// A claim's place in the order; comparable across moves (a claim only ever moves to a larger key).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) struct Place {
    pods: usize,
    arrival: u64,
}

impl Place {
    /// Before every claim.
    pub const FIRST: Place = Place { pods: 0, arrival: 0 };
    /// After every claim.
    pub const END: Place = Place { pods: usize::MAX, arrival: u64::MAX };
}

#[derive(Debug, Default)]
pub(crate) struct ClaimOrder {
    /// Place → claim (its index in the scheduler's `claims`, which never changes).
    order: BTreeMap<Place, usize>,
    /// Claim → its place.
    places: Vec<Place>,
    arrivals: u64,
}

impl ClaimOrder {
    /// Put claim `claim` (opened with one pod, or already placed and now holding `pods` pods) in
    /// its place, and return that place.
    pub fn placed(&mut self, claim: usize, pods: usize) -> Place {
        self.arrivals += 1;
        // one-pod claims keep their order of creation; a claim with a new count goes ahead of those
        // that reached that count before it
        let arrival = if pods <= 1 { self.arrivals } else { u64::MAX - self.arrivals };
        let place = Place { pods, arrival };
        if claim < self.places.len() {
            self.order.remove(&self.places[claim]);
            self.places[claim] = place;
        } else {
            debug_assert_eq!(claim, self.places.len(), "claims are added one at a time");
            self.places.push(place);
        }
        self.order.insert(place, claim);
        place
    }

    /// Where claim `claim` is now (`None`: not placed yet).
    pub fn place(&self, claim: usize) -> Option<Place> {
        self.places.get(claim).copied()
    }

    /// The claims at `from` and after it, in order, with their places.
    pub fn from(&self, from: Place) -> impl Iterator<Item = (Place, usize)> + '_ {
        self.order.range(from..).map(|(p, c)| (*p, *c))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The order by moving one place at a time, as the insertion sort does.
    fn insertion(counts: &mut Vec<(usize, usize)>, claim: usize) {
        let mut j = match counts.iter().position(|(c, _)| *c == claim) {
            Some(i) => {
                counts[i].1 += 1;
                i
            }
            None => {
                counts.push((claim, 1));
                counts.len() - 1
            }
        };
        while j + 1 < counts.len() && counts[j + 1].1 < counts[j].1 {
            counts.swap(j, j + 1);
            j += 1;
        }
        while j > 0 && counts[j].1 < counts[j - 1].1 {
            counts.swap(j, j - 1);
            j -= 1;
        }
    }

    #[test]
    fn same_order_as_moving_one_place_at_a_time() {
        // a fixed pseudo-random sequence of "open a claim" and "add a pod to claim k"
        let mut seed = 12345u64;
        let mut next = move || {
            seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            (seed >> 33) as usize
        };
        let mut reference: Vec<(usize, usize)> = Vec::new();
        let mut order = ClaimOrder::default();
        let mut pods: Vec<usize> = Vec::new();
        for _ in 0..3000 {
            let claim = if pods.is_empty() || next() % 4 == 0 { pods.len() } else { next() % pods.len() };
            if claim == pods.len() {
                pods.push(0);
            }
            pods[claim] += 1;
            insertion(&mut reference, claim);
            order.placed(claim, pods[claim]);
            let ours: Vec<usize> = order.from(Place::FIRST).map(|(_, c)| c).collect();
            let theirs: Vec<usize> = reference.iter().map(|(c, _)| *c).collect();
            assert_eq!(ours, theirs);
        }
    }
}
