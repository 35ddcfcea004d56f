//! A quick, sound "no" before a single-node consolidation simulation (not a Karpenter rule: it
//! only skips simulations whose outcome is certain to be "no", so the decisions are Karpenter's).
//!
//! Consolidation acts on one candidate only if its pods move to other nodes (delete), or if those
//! that do not fit go to one replacement cheaper than the candidate (replace; for a spot candidate
//! without spot-to-spot, a replacement that is not spot). Free capacity only shrinks as a simulation
//! places pods, and a replacement's options are kept only when cheaper, so:
//! - when no launchable type is cheaper than the candidate, its pods must all fit the free capacity
//!   of the nodes they may move to;
//! - otherwise, the pods that fit no such node on their own must fit one cheaper type together.
//!
//! When the bound says they cannot, the simulation could only end in "no". Around a peak, when
//! every node is full, this skips nearly every simulation of a round.

use super::candidates::Candidate;
use crate::labels::{self, Sym, SymSet};
use crate::model::Pod;
use crate::requirements::Requirements;
use crate::resources::Resources;
use crate::scheduling::ClusterView;
use crate::scheduling::instance_filter::OfferingReqs;
use crate::state::TypeInfo;
use rustc_hash::FxHashMap;
use std::cell::RefCell;

/// An instance type some NodePool could launch: the least a replacement of this type could cost,
/// and its allocatable.
struct Launchable<'a> {
    /// The cheapest available offering.
    price: f64,
    /// The cheapest available offering that is not spot.
    non_spot_price: f64,
    allocatable: &'a Resources,
}

pub struct Prefilter<'a> {
    /// Free capacity of the nodes consolidated pods may move to (initialized, not being deleted,
    /// past `consolidateAfter`), most free cpu first.
    homes: Vec<(Sym, Resources)>,
    launchable: Vec<Launchable<'a>>,
    /// For each pod request seen this round, how many homes it fits. FxHash: looked up once per
    /// pod of every candidate a round prefilters (SipHash was over 1% of a 24-hour day), and
    /// never iterated, so its order reaches nothing.
    fitting_homes: RefCell<FxHashMap<Resources, usize>>,
}

/// The cheapest available offering of a type that a template with requirements `reqs` could launch
/// (spot ones only if `spot`).
fn cheapest(ti: &TypeInfo, reqs: &OfferingReqs, spot: bool) -> f64 {
    ti.it
        .offerings
        .iter()
        .filter(|o| o.available && reqs.compatible(o) && (spot || o.capacity_type.as_str() != labels::CAPACITY_TYPE_SPOT))
        .map(|o| o.price)
        .fold(f64::INFINITY, f64::min)
}

impl<'a> Prefilter<'a> {
    pub fn new(view: &ClusterView<'a>, deleting: &[Sym], settling: &SymSet) -> Prefilter<'a> {
        let mut homes: Vec<(Sym, Resources)> = view
            .nodes()
            .filter(|v| v.node.initialized && !deleting.contains(&v.node.name) && !settling.contains(&v.node.name))
            .map(|v| (v.node.name, v.room.remaining.clone()))
            .collect();
        homes.sort_by_key(|h| std::cmp::Reverse(h.1.cpu));
        // the offering requirements of each template, looked up once for its types
        let mut last: Option<(*const Requirements, OfferingReqs)> = None;
        let launchable = view
            .launchable_types()
            .map(|(reqs, ti)| {
                let reqs = match last {
                    Some((p, r)) if std::ptr::eq(p, reqs) => r,
                    _ => last.insert((reqs, OfferingReqs::new(reqs))).1,
                };
                Launchable { price: cheapest(ti, &reqs, true), non_spot_price: cheapest(ti, &reqs, false), allocatable: &ti.it.allocatable }
            })
            .filter(|l| l.price.is_finite())
            .collect();
        Prefilter { homes, launchable, fitting_homes: RefCell::default() }
    }

    /// The homes with at least `cpu` free (a prefix of `homes`).
    fn with_cpu(&self, cpu: i64) -> &[(Sym, Resources)] {
        &self.homes[..self.homes.partition_point(|(_, f)| f.cpu >= cpu)]
    }

    /// The free capacity of `node` if it is a home.
    fn own(&self, node: Sym) -> Option<&Resources> {
        self.homes.iter().find(|(n, _)| *n == node).map(|(_, f)| f)
    }

    /// Whether `need` fits the free capacity of a home other than the one whose free capacity is `own`.
    fn fits_elsewhere(&self, need: &Resources, own: Option<&Resources>) -> bool {
        let count = *self
            .fitting_homes
            .borrow_mut()
            .entry(need.clone())
            .or_insert_with(|| self.with_cpu(need.cpu).iter().filter(|(_, f)| need.fits(f)).count());
        count > usize::from(own.is_some_and(|f| need.fits(f)))
    }

    /// Whether `pods` could all be placed on homes other than `except`, as far as a quick bound
    /// tells: each fits some home on its own, and the most pods each home could take (its smallest
    /// pods first, by cpu, memory and pod count) add up to at least their number. `false` is
    /// certain; `true` only means "maybe".
    fn may_all_fit(&self, pods: &[Resources], except: Sym) -> bool {
        let own = self.own(except);
        if pods.iter().any(|p| !self.fits_elsewhere(p, own)) {
            return false;
        }
        let mut cpu: Vec<i64> = pods.iter().map(|p| p.cpu).collect();
        let mut mem: Vec<i64> = pods.iter().map(|p| p.memory).collect();
        cpu.sort_unstable();
        mem.sort_unstable();
        // prefix sums: how many of the smallest requests fit an amount
        for v in [&mut cpu, &mut mem] {
            for i in 1..v.len() {
                v[i] += v[i - 1];
            }
        }
        let mut room = 0usize;
        for (n, f) in self.with_cpu(cpu.first().copied().unwrap_or(0)) {
            if *n == except || f.any_negative() {
                continue;
            }
            let by_cpu = cpu.partition_point(|&s| s <= f.cpu);
            let by_mem = mem.partition_point(|&s| s <= f.memory);
            room += by_cpu.min(by_mem).min(usize::try_from(f.pods).unwrap_or(0));
            if room >= pods.len() {
                return true;
            }
        }
        pods.is_empty()
    }

    /// Why consolidating `c` alone cannot act, if that is certain without simulating it: `pods`
    /// are the pods it would move (the round's [`super::simulate`] gives them, in
    /// `Prefilter::cannot_consolidate`).
    pub fn cannot_move<'p>(&self, pods: Vec<&'p Pod>, c: &Candidate<'a>, spot_to_spot: bool) -> Option<CannotMove<'p>> {
        let needs: Vec<Resources> = pods
            .iter()
            .map(|p| {
                let mut need = p.requests.clone();
                need.pods = 1; // as the scheduler counts it (RequestsForPods)
                need
            })
            .collect();
        let spot = c.capacity_type.is_some_and(|ct| ct.as_str() == labels::CAPACITY_TYPE_SPOT);
        let floor = |l: &Launchable| if spot && !spot_to_spot { l.non_spot_price } else { l.price };
        let cheaper: Vec<&Resources> = self.launchable.iter().filter(|l| floor(l) < c.price).map(|l| l.allocatable).collect();
        if cheaper.is_empty() {
            if self.may_all_fit(&needs, c.name()) {
                return None;
            }
            return Some(CannotMove::NoRoomNoCheaperType { price: c.price });
        }
        let own = self.own(c.name());
        let mut homeless = Resources::new();
        let mut first: Option<&Pod> = None;
        for (p, need) in pods.iter().zip(&needs) {
            if !self.fits_elsewhere(need, own) {
                homeless.add_assign(need);
                first.get_or_insert(p);
            }
        }
        let first = first?;
        if cheaper.iter().any(|alloc| homeless.fits(alloc)) {
            return None;
        }
        Some(CannotMove::NoCheaperTypeHolds { first, price: c.price })
    }
}

/// Why a candidate's pods certainly cannot move ([`Prefilter::cannot_move`]), turned into its
/// sentence only when a caller keeps it: the simulator's rounds, which use the prefilter, give no
/// explanations, and formatting the node's price for every candidate of every round they drop was
/// a twentieth of a 24-hour day.
#[derive(Debug, Clone, Copy)]
pub enum CannotMove<'p> {
    /// No launchable type is cheaper than the node (`price`), and its pods do not fit the others.
    NoRoomNoCheaperType { price: f64 },
    /// `first` (and maybe others) fits no other node, and no type cheaper than `price` holds them.
    NoCheaperTypeHolds { first: &'p Pod, price: f64 },
}

impl From<CannotMove<'_>> for String {
    fn from(why: CannotMove<'_>) -> String {
        match why {
            CannotMove::NoRoomNoCheaperType { price } => {
                format!("its pods do not fit on the other nodes, and no instance type is cheaper than the node's ${price:.4}/h")
            }
            CannotMove::NoCheaperTypeHolds { first, price } => format!(
                "pod {} fits on no other node, and no instance type cheaper than the node's ${price:.4}/h holds the pods that fit nowhere else",
                first.key()
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn res(cpu: i64, mem: i64, pods: i64) -> Resources {
        let mut r = Resources::new();
        r.cpu = cpu;
        r.memory = mem;
        r.pods = pods;
        r
    }

    fn prefilter(homes: &[(&str, Resources)]) -> Prefilter<'static> {
        let mut homes: Vec<(Sym, Resources)> = homes.iter().map(|(n, r)| (Sym::new(n), r.clone())).collect();
        homes.sort_by_key(|h| std::cmp::Reverse(h.1.cpu));
        Prefilter { homes, launchable: Vec::new(), fitting_homes: RefCell::default() }
    }

    #[test]
    fn pods_that_fit_one_by_one_but_not_together_are_a_certain_no() {
        // two homes with room for one 100m pod each: three such pods cannot all move
        let p = prefilter(&[("a", res(150, 1 << 30, 10)), ("b", res(120, 1 << 30, 10)), ("self", res(2000, 1 << 32, 20))]);
        let pod = res(100, 1 << 20, 1);
        assert!(p.may_all_fit(&[pod.clone(), pod.clone()], Sym::new("self")));
        assert!(!p.may_all_fit(&[pod.clone(), pod.clone(), pod.clone()], Sym::new("self")));
        // the candidate's own free room never counts
        assert!(!p.fits_elsewhere(&res(1000, 1, 1), p.own(Sym::new("self"))));
        assert!(p.fits_elsewhere(&res(1000, 1, 1), p.own(Sym::new("a"))));
    }

    #[test]
    fn pod_count_and_memory_limit_a_home() {
        let p = prefilter(&[("a", res(4000, 1 << 30, 1)), ("b", res(4000, 300 << 20, 10))]);
        let pod = res(100, 200 << 20, 1);
        // a takes one pod (pods 1), b one (memory): two fit, three do not
        assert!(p.may_all_fit(&[pod.clone(), pod.clone()], Sym::new("x")));
        assert!(!p.may_all_fit(&[pod.clone(), pod.clone(), pod.clone()], Sym::new("x")));
    }

    /// The reasons read as they did when they were formatted at once.
    #[test]
    fn a_reason_is_its_sentence() {
        let pod = crate::fixtures::pod("web-1", 100, 1 << 20);
        assert_eq!(
            String::from(CannotMove::NoRoomNoCheaperType { price: 0.1 }),
            "its pods do not fit on the other nodes, and no instance type is cheaper than the node's $0.1000/h"
        );
        assert_eq!(
            String::from(CannotMove::NoCheaperTypeHolds { first: &pod, price: 0.04567 }),
            format!("pod {} fits on no other node, and no instance type cheaper than the node's $0.0457/h holds the pods that fit nowhere else", pod.key())
        );
    }

    #[test]
    fn an_overcommitted_home_takes_nothing() {
        let p = prefilter(&[("a", res(4000, -1, 10))]);
        assert!(!p.may_all_fit(&[res(1, 1, 1)], Sym::new("x")));
        assert!(p.may_all_fit(&[], Sym::new("x")));
    }
}
