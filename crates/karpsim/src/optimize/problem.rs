//! The packing problem behind the cost bound: pods grouped into classes, the nodes the NodePools can
//! launch as priced bin types, and existing nodes as free bins of one copy each.
//!
//! Two pods are in one class when they request the same amounts and may run on the same bins;
//! 100,000 replicas of a dozen Deployments make a dozen classes, so the problem's size follows the
//! variety of the workload, not its scale.

use crate::labels::Sym;
use crate::model::Pod;
use crate::requirements::Requirements;
use crate::resources::Resources;
use crate::scheduling::feasibility::{requirement_alternatives, tolerates_hard};
use crate::scheduling::instance_filter::OfferingReqs;
use crate::scheduling::ClusterView;
use std::collections::{HashMap, HashSet};

/// Resources the bound accounts for: cpu, memory, ephemeral-storage, pods, then every extended
/// resource a pod requests.
#[derive(Debug, Clone)]
pub struct Dims {
    pub names: Vec<String>,
}

impl Dims {
    fn of(pods: &[&Pod]) -> Dims {
        let mut names: Vec<String> = ["cpu", "memory", "ephemeral-storage", "pods"].iter().map(|s| s.to_string()).collect();
        let mut extra: Vec<String> = pods.iter().flat_map(|p| p.requests.extended().iter().map(|(k, _)| k.to_string())).collect();
        extra.sort();
        extra.dedup();
        names.extend(extra);
        Dims { names }
    }
    pub fn vector(&self, r: &Resources) -> Vec<i64> {
        self.names.iter().map(|n| r.get(n)).collect()
    }
}

/// Pods with the same requests and the same bins.
#[derive(Debug, Clone)]
pub struct PodClass {
    /// Per dimension, `pods` = 1.
    pub size: Vec<i64>,
    /// Indices into [`Problem::pods`], in input order.
    pub pods: Vec<usize>,
}

impl PodClass {
    pub fn count(&self) -> u64 {
        self.pods.len() as u64
    }
}

/// Where a bin comes from.
#[derive(Debug, Clone, PartialEq)]
pub enum Origin {
    /// A new node: template index (into the view's templates), type index (into the template's
    /// types), and the offering's index in the type's offerings.
    Launch { template: usize, type_index: u32, offering: usize },
    /// An existing node (index into the view's nodes), one copy: free room on a node that stays
    /// (price 0), or a Karpenter node the packing may keep at its price.
    Existing { node: usize },
}

/// A kind of node a packing may use: its price, what it holds beyond its DaemonSets, which classes
/// may run on it.
#[derive(Debug, Clone)]
pub struct Bin {
    pub origin: Origin,
    pub price: f64,
    pub capacity: Vec<i64>,
    /// Sorted class indices.
    pub classes: Vec<u32>,
    /// The capacity reservation the bin launches into (index into [`Problem::reservations`]):
    /// at most its count of such nodes.
    pub reservation: Option<u32>,
}

/// A capacity reservation the NodePools can launch into: a limited supply of nodes.
#[derive(Debug, Clone, PartialEq)]
pub struct Reservation {
    pub id: Sym,
    /// Instances it still has: the least count any offering reports (as Karpenter's
    /// `NewReservationManager` takes it, `scheduling/reservationmanager.go`).
    pub count: u64,
}

/// What makes launchable bins one when they differ only by zone: template, type, capacity type,
/// price (its bits), the classes they take and the reservation they launch into.
type BinKey = (usize, u32, Sym, u64, Vec<u32>, Option<u32>);

/// The instance the bound and the best packing are computed on.
pub struct Problem<'a> {
    pub dims: Dims,
    pub pods: Vec<&'a Pod>,
    pub classes: Vec<PodClass>,
    /// Launchable bin types (any number of copies), cheapest first.
    pub bins: Vec<Bin>,
    /// Existing nodes (one copy each): free room (price 0) or kept Karpenter nodes (their price).
    pub fixed: Vec<Bin>,
    /// Pods no bin can hold at all (excluded from the bound, reported).
    pub homeless: Vec<usize>,
    /// The capacity reservations of the launchable bins, in order of first use.
    pub reservations: Vec<Reservation>,
}

/// An existing node as a bin: index into the view's nodes, its hourly price (0 when it stays in any
/// case) and the room it offers.
#[derive(Debug, Clone)]
pub struct FixedNode {
    pub node: usize,
    pub price: f64,
    pub room: Resources,
}

/// What a group of pods that share node constraints may run on: per launchable bin (before merging)
/// and per existing node.
struct Signature<'a> {
    rep: &'a Pod,
    launch: Vec<bool>,
    fixed: Vec<bool>,
}

fn same_constraints(a: &Pod, b: &Pod) -> bool {
    a.node_selector == b.node_selector && a.affinity.node_required == b.affinity.node_required && a.tolerations == b.tolerations
}

impl<'a> Problem<'a> {
    /// Build the problem for `pods` on the view's templates, with existing nodes as bins of one copy.
    pub fn new(view: &ClusterView<'a>, pods: Vec<&'a Pod>, fixed_nodes: &[FixedNode]) -> Problem<'a> {
        let dims = Dims::of(&pods);
        // every launchable (template, type, offering), with its capacity after DaemonSets
        struct Raw {
            origin: Origin,
            price: f64,
            capacity: Vec<i64>,
        }
        let mut raw: Vec<Raw> = Vec::new();
        for (ti, t) in view.templates.iter().enumerate() {
            let offering_reqs = OfferingReqs::new(&t.requirements);
            for &o in t.options() {
                let it = &t.types[o as usize];
                let overhead = &t.groups()[t.group_of()[o as usize] as usize].overhead;
                let capacity: Vec<i64> = dims.vector(&it.it.allocatable.sub(overhead));
                if capacity.iter().any(|&c| c < 0) {
                    continue;
                }
                for (oi, of) in it.it.offerings.iter().enumerate() {
                    if of.available && offering_reqs.compatible(of) {
                        raw.push(Raw { origin: Origin::Launch { template: ti, type_index: o, offering: oi }, price: of.price, capacity: capacity.clone() });
                    }
                }
            }
        }
        let fixed_caps: Vec<Vec<i64>> = fixed_nodes.iter().map(|f| dims.vector(&f.room)).collect();

        // constraint signatures: which bins each group of alike pods may use
        let mut sigs: Vec<Signature> = Vec::new();
        let mut buckets: HashMap<(usize, usize, usize), Vec<usize>> = HashMap::new();
        let mut sig_of = Vec::with_capacity(pods.len());
        for p in &pods {
            let key = (p.node_selector.len(), p.affinity.node_required.len(), p.tolerations.len());
            let bucket = buckets.entry(key).or_default();
            let found = bucket.iter().copied().find(|&s| same_constraints(sigs[s].rep, p));
            let s = match found {
                Some(s) => s,
                None => {
                    let s = sigs.len();
                    sigs.push(signature(view, p, &raw.iter().map(|r| &r.origin).collect::<Vec<_>>(), fixed_nodes));
                    bucket.push(s);
                    s
                }
            };
            sig_of.push(s);
        }

        // merge signatures that allow the same bins, then classes by (requests, signature)
        let mut sig_group: Vec<usize> = Vec::with_capacity(sigs.len());
        let mut groups: Vec<usize> = Vec::new();
        for s in 0..sigs.len() {
            let g = groups.iter().position(|&r| sigs[r].launch == sigs[s].launch && sigs[r].fixed == sigs[s].fixed);
            sig_group.push(match g {
                Some(g) => g,
                None => {
                    groups.push(s);
                    groups.len() - 1
                }
            });
        }
        let mut classes: Vec<PodClass> = Vec::new();
        let mut class_group: Vec<usize> = Vec::new();
        let mut index: HashMap<(Vec<i64>, usize), usize> = HashMap::new();
        let mut homeless = Vec::new();
        for (i, p) in pods.iter().enumerate() {
            let g = sig_group[sig_of[i]];
            let rep = &sigs[groups[g]];
            let mut req = p.requests.clone();
            req.pods = 1;
            let size = dims.vector(&req);
            let fits = |cap: &[i64]| size.iter().zip(cap).all(|(s, c)| s <= c);
            let anywhere = raw.iter().zip(&rep.launch).any(|(r, ok)| *ok && fits(&r.capacity))
                || fixed_caps.iter().zip(&rep.fixed).any(|(c, ok)| *ok && fits(c));
            if !anywhere {
                homeless.push(i);
                continue;
            }
            let c = *index.entry((size.clone(), g)).or_insert_with(|| {
                classes.push(PodClass { size, pods: Vec::new() });
                class_group.push(g);
                classes.len() - 1
            });
            classes[c].pods.push(i);
        }

        // launchable bins, merged when they differ only by zone (same template, type, capacity
        // type, price and classes), then without those another bin beats on every count
        let mut bins: Vec<Bin> = Vec::new();
        let mut reservations: Vec<Reservation> = Vec::new();
        let mut seen: HashSet<BinKey> = HashSet::new();
        for (ri, r) in raw.iter().enumerate() {
            let fits = |size: &[i64]| size.iter().zip(&r.capacity).all(|(s, c)| s <= c);
            let cls: Vec<u32> =
                (0..classes.len()).filter(|&c| sigs[groups[class_group[c]]].launch[ri] && fits(&classes[c].size)).map(|c| c as u32).collect();
            if cls.is_empty() {
                continue;
            }
            let Origin::Launch { template, type_index, offering } = r.origin else { continue };
            let of = &view.templates[template].types[type_index as usize].it.offerings[offering];
            // each reservation is a supply of its own: bins merge across zones only within one
            let reservation = of.reservation.as_ref().map(|res| {
                let count = res.capacity.max(0) as u64;
                match reservations.iter().position(|x| x.id == res.id) {
                    Some(k) => {
                        reservations[k].count = reservations[k].count.min(count);
                        k as u32
                    }
                    None => {
                        reservations.push(Reservation { id: res.id, count });
                        (reservations.len() - 1) as u32
                    }
                }
            });
            if !seen.insert((template, type_index, of.capacity_type, r.price.to_bits(), cls.clone(), reservation)) {
                continue;
            }
            bins.push(Bin { origin: r.origin.clone(), price: r.price, capacity: r.capacity.clone(), classes: cls, reservation });
        }
        let bins = undominated(bins);
        let fixed: Vec<Bin> = fixed_nodes
            .iter()
            .enumerate()
            .filter_map(|(k, n)| {
                let fits = |size: &[i64]| size.iter().zip(&fixed_caps[k]).all(|(s, c)| s <= c);
                let cls: Vec<u32> =
                    (0..classes.len()).filter(|&c| sigs[groups[class_group[c]]].fixed[k] && fits(&classes[c].size)).map(|c| c as u32).collect();
                (!cls.is_empty()).then(|| Bin { origin: Origin::Existing { node: n.node }, price: n.price, capacity: fixed_caps[k].clone(), classes: cls, reservation: None })
            })
            .collect();
        Problem { dims, pods, classes, bins, fixed, homeless, reservations }
    }

    /// Pods the problem places (all but the homeless).
    pub fn total_pods(&self) -> usize {
        self.classes.iter().map(|c| c.pods.len()).sum()
    }
}

fn signature<'a>(view: &ClusterView, p: &'a Pod, launch: &[&Origin], fixed_nodes: &[FixedNode]) -> Signature<'a> {
    let alternatives = requirement_alternatives(p);
    // per template: the alternatives it accepts, merged with its requirements
    let merged: Vec<Vec<Requirements>> = view
        .templates
        .iter()
        .map(|t| {
            if !tolerates_hard(&t.pool.taints, p) {
                return Vec::new();
            }
            alternatives
                .iter()
                .filter(|r| t.requirements.compatible(r, Some(&view.state.well_known)).is_ok())
                .map(|r| {
                    let mut m = t.requirements.clone();
                    m.add_all(r);
                    m
                })
                .collect()
        })
        .collect();
    let launch = launch
        .iter()
        .map(|o| {
            let Origin::Launch { template, type_index, offering } = **o else { return false };
            let t = &view.templates[template];
            let it = &t.types[type_index as usize];
            let of = &it.it.offerings[offering];
            merged[template].iter().any(|m| it.requirements.intersects_ok(m) && OfferingReqs::new(m).compatible(of))
        })
        .collect();
    let fixed = fixed_nodes
        .iter()
        .map(|f| {
            let v = view.node(f.node);
            tolerates_hard(&v.room.taints, p) && alternatives.iter().any(|r| v.room.requirements.compatible(r, None).is_ok())
        })
        .collect();
    Signature { rep: p, launch, fixed }
}

/// Drop bins that another bin beats or equals on price, every capacity and the classes it takes
/// (ties keep the earlier bin). The bound and the packing never need a dominated bin. A bin of a
/// capacity reservation only beats bins of the same reservation: its supply is limited.
fn undominated(mut bins: Vec<Bin>) -> Vec<Bin> {
    bins.sort_by(|a, b| a.price.total_cmp(&b.price));
    let mut keep: Vec<Bin> = Vec::new();
    'outer: for b in bins {
        for k in &keep {
            if (k.reservation.is_none() || k.reservation == b.reservation)
                && k.price <= b.price && k.capacity.iter().zip(&b.capacity).all(|(x, y)| x >= y) && is_superset(&k.classes, &b.classes) {
                continue 'outer;
            }
        }
        keep.push(b);
    }
    keep
}

fn is_superset(a: &[u32], b: &[u32]) -> bool {
    let mut i = 0;
    for &x in b {
        while i < a.len() && a[i] < x {
            i += 1;
        }
        if i == a.len() || a[i] != x {
            return false;
        }
    }
    true
}

/// A pattern on a bin: `fixed` bins are existing nodes ([`Problem::fixed`]), others launchable bins.
#[derive(Debug, Clone, PartialEq)]
pub struct Column {
    pub fixed: bool,
    pub bin: usize,
    pub pattern: Vec<(u32, u64)>,
}
