//! Open NodeClaims a pod's first topology group refuses because of the one domain they are pinned
//! to, ruled out with one look-up per domain instead of a topology evaluation per claim.
//!
//! `scheduler.go: add` tries the open NodeClaims in order and takes the first that can add the pod
//! (`NodeClaim.CanAdd`). A zonal-spread or zonal-affinity pod is refused by every claim pinned to a
//! zone its group does not allow; once a few thousand claims are open, each such pod walked
//! hundreds of them, each evaluated in full. Skipping a claim that would certainly be refused
//! changes no decision: the first claim that fits stays the first.
//!
//! Why the verdict depends only on the pinned value, within one scan (one attempt of one pod):
//! - `Topology::domains_to_add` evaluates the pod's own groups first, in order, and stops at the
//!   first refusal: the first own group is evaluated for every claim that reaches topology, before
//!   anything else, and its refusal refuses the claim (`topology.go: AddRequirements`);
//! - it is asked with the pod's strict requirements (fixed for the attempt) and the node's
//!   requirement on the group's key; the claim's own when the pod adds none on that key and has no
//!   volume alternatives (which could add one), the only cases this module handles;
//! - nothing a group counts changes during the scan (pods are recorded only when one is placed,
//!   which ends the scan), nor does the tie offset;
//! - for an `In` requirement with one value and no bounds, `TopologyGroup::next_domain` reads only
//!   that value (minValues does not enter it), and a spread over one candidate domain has no tie,
//!   so evaluating it has no side effect (a tied answer is not used, see `Topology::group_refuses`).
//!
//! Claims that are not single-valued on the key, pods that add a requirement on it or carry volume
//! alternatives, hostname groups (every claim has its own hostname) and pods whose first group is
//! an inverse one are evaluated as before. Each preference-relaxation round builds its own.
//!
//! The skipped claims are not even visited: [`PinIndex`] keeps the open NodeClaims grouped by the
//! value they are pinned to on a key, each group in the claims' order, and a scan merges the groups
//! whose value the pod's group does not refuse (with the claims pinned to no single value). The
//! merge yields exactly the claims of the full order that the per-claim verdict would keep, in the
//! same order, so the first claim that fits is the same; a zonal pod no longer walks every claim
//! pinned to a refused zone (which made the time per pod grow with the claims open).

use super::claim_order::Place;
use super::pod_data::PodData;
use super::topology::Topology;
use crate::labels::{self, Sym};
use crate::model::Pod;
use crate::requirements::{Requirement, Requirements};
use std::collections::BTreeMap;
use std::collections::btree_map;
use std::iter::Peekable;

pub(crate) struct PinnedDomains {
    group: usize,
    key: Sym,
}

impl PinnedDomains {
    /// For one scan of the open NodeClaims by batch pod `id` (`None`: the skip would not be exact).
    pub(crate) fn new(topology: &Topology, id: usize, data: &PodData) -> Option<PinnedDomains> {
        let (group, key) = topology.first_group(id)?;
        if key == *labels::HOSTNAME || !data.volumes.is_empty() || data.requirements.has(key) {
            return None;
        }
        Some(PinnedDomains { group, key })
    }

    /// The key the pod's first group is about.
    pub(crate) fn key(&self) -> Sym {
        self.key
    }

    /// Whether every NodeClaim pinned to `value` (see [`pinned_value`]) is certainly refused by the
    /// pod's first group. Asked with `In [value]`: `next_domain` reads only the operator and the
    /// values of the node's requirement, which a pinned claim's requirement shares with it.
    pub(crate) fn refuses(&self, topology: &Topology, pod: &Pod, data: &PodData, value: Sym) -> bool {
        topology.group_refuses(self.group, pod, &data.strict, &Requirement::is_in([value])) == Some(true)
    }
}

/// The one value a NodeClaim with requirements `claim` is pinned to on `key`: an `In` with one
/// value and no bounds (`None` for anything else, which the verdicts do not cover).
pub(crate) fn pinned_value(claim: &Requirements, key: Sym) -> Option<Sym> {
    let r = claim.get(key)?;
    if r.bounds() != (None, None) {
        return None;
    }
    r.single()
}

/// The open NodeClaims grouped, per indexed key, by the value they are pinned to, each group in
/// claim order (the same [`Place`]s as the scheduler's `ClaimOrder`). A key is indexed the first
/// time a pod's first group asks for it, and kept up to date as claims move.
#[derive(Debug, Default)]
pub(crate) struct PinIndex {
    keys: Vec<KeyPins>,
}

#[derive(Debug)]
struct KeyPins {
    key: Sym,
    /// The value the claims of a group are pinned to (`None`: not pinned to one value), and the
    /// group's claims by place.
    groups: Vec<(Option<Sym>, BTreeMap<Place, usize>)>,
    /// Each claim's group.
    group_of: Vec<usize>,
}

impl KeyPins {
    fn insert(&mut self, claim: usize, place: Place, reqs: &Requirements) {
        let value = pinned_value(reqs, self.key);
        let g = match self.groups.iter().position(|(v, _)| *v == value) {
            Some(g) => g,
            None => {
                self.groups.push((value, BTreeMap::new()));
                self.groups.len() - 1
            }
        };
        if self.group_of.len() <= claim {
            self.group_of.resize(claim + 1, usize::MAX);
        }
        self.group_of[claim] = g;
        self.groups[g].1.insert(place, claim);
    }
}

impl PinIndex {
    pub(crate) fn has(&self, key: Sym) -> bool {
        self.keys.iter().any(|k| k.key == key)
    }

    /// Index `key` over the open claims: `(place, claim, requirements)` of each.
    pub(crate) fn add_key<'r>(&mut self, key: Sym, claims: impl Iterator<Item = (Place, usize, &'r Requirements)>) {
        let mut pins = KeyPins { key, groups: Vec::new(), group_of: Vec::new() };
        for (place, claim, reqs) in claims {
            pins.insert(claim, place, reqs);
        }
        self.keys.push(pins);
    }

    /// Claim `claim` moved from `old` (`None`: it is new) to `place`, with requirements `reqs`.
    pub(crate) fn moved(&mut self, claim: usize, old: Option<Place>, place: Place, reqs: &Requirements) {
        for k in &mut self.keys {
            if let Some(old) = old {
                let g = k.group_of[claim];
                k.groups[g].1.remove(&old);
            }
            k.insert(claim, place, reqs);
        }
    }

    /// The claims at `start` and after it, in order, except those pinned on `key` (indexed) to a
    /// value `refused` says no to (asked once per value).
    pub(crate) fn scan(&self, key: Sym, start: Place, mut refused: impl FnMut(Sym) -> bool) -> Merged<'_> {
        let heads = self
            .keys
            .iter()
            .find(|k| k.key == key)
            .into_iter()
            .flat_map(|k| k.groups.iter())
            .filter(|(v, claims)| !claims.is_empty() && !v.is_some_and(&mut refused))
            .map(|(_, claims)| claims.range(start..).peekable())
            .collect();
        Merged { heads }
    }
}

/// Several groups of claims merged back into claim order.
pub(crate) struct Merged<'a> {
    heads: Vec<Peekable<btree_map::Range<'a, Place, usize>>>,
}

impl Iterator for Merged<'_> {
    type Item = (Place, usize);

    fn next(&mut self) -> Option<(Place, usize)> {
        let (_, h) = self.heads.iter_mut().enumerate().filter_map(|(h, it)| it.peek().map(|(p, _)| (**p, h))).min()?;
        self.heads[h].next().map(|(p, c)| (*p, *c))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::labels::WellKnown;
    use crate::scheduling::topology::TopoNodes;
    use crate::model::{Affinity, LabelSelector, NodeInclusionPolicy, PodAffinityTerm, TopologySpreadConstraint, UnsatisfiableAction};
    use crate::requirements::Requirement;
    use crate::resources::Resources;
    use crate::scheduling::topology::{PoolDomains, PoolTypes};
    use std::collections::BTreeMap;

    fn s(v: &str) -> Sym {
        Sym::new(v)
    }

    fn selector() -> Option<LabelSelector> {
        Some(LabelSelector { match_labels: BTreeMap::from([(s("app"), s("web"))]), match_expressions: Vec::new() })
    }

    fn zonal_spread(name: &str) -> Pod {
        let mut p = Pod::new("default", name, Resources::new());
        *p.labels = BTreeMap::from([(s("app"), s("web"))]);
        *p.topology_spread = vec![TopologySpreadConstraint {
            max_skew: 1,
            topology_key: *labels::ZONE,
            when_unsatisfiable: UnsatisfiableAction::DoNotSchedule,
            label_selector: selector(),
            min_domains: None,
            node_affinity_policy: NodeInclusionPolicy::Honor,
            node_taints_policy: NodeInclusionPolicy::Ignore,
            match_label_keys: Vec::new(),
        }];
        p
    }

    fn zonal_affinity(name: &str) -> Pod {
        let mut p = Pod::new("default", name, Resources::new());
        *p.labels = BTreeMap::from([(s("app"), s("web"))]);
        let term = PodAffinityTerm {
            label_selector: selector(),
            namespaces: Vec::new(),
            namespace_selector: None,
            topology_key: *labels::ZONE,
            match_label_keys: Vec::new(),
            mismatch_label_keys: Vec::new(),
        };
        *p.affinity = Affinity { pod_affinity_required: vec![term], ..Affinity::default() };
        p
    }

    fn reqs(items: &[(Sym, Requirement)]) -> Requirements {
        let mut r = Requirements::default();
        for (k, v) in items {
            r.add(*k, v.clone());
        }
        r
    }

    fn zone(values: &[&str]) -> (Sym, Requirement) {
        (*labels::ZONE, Requirement::is_in(values.iter().map(|v| s(v))))
    }

    /// Batch pod 0 is asked about; pods 1.. are recorded in `placed` zones first. For every claim
    /// requirement set, a refused pinned value must imply the refusal `domains_to_add` gives, and it must rule
    /// out exactly the single-zone claims whose zone the group refuses.
    fn check(make: fn(&str) -> Pod, placed: &[&str], expect_refused: &[&str]) {
        let pool_reqs = reqs(&[zone(&["a", "b", "c"])]);
        let well_known = WellKnown::default();
        let pools = vec![PoolDomains { requirements: &pool_reqs, taints: &[], types: PoolTypes::NONE, launchable_only: false }];
        let pods: Vec<Pod> = (0..=placed.len()).map(|i| make(&format!("p{i}"))).collect();
        let batch: Vec<&Pod> = pods.iter().collect();
        let mut topology = Topology::new(true, &well_known, pools, TopoNodes::of(Vec::new()), &[], &batch, &[]);
        for (i, z) in placed.iter().enumerate() {
            topology.record(i + 1, &pods[i + 1], &[], &reqs(&[zone(&[z])]), true);
        }
        let data = PodData::new(&pods[0], true).unwrap();
        let pinned = PinnedDomains::new(&topology, 0, &data).expect("a zonal first group");
        let arch = (s("kubernetes.io/arch"), Requirement::is_in([s("amd64")]));
        let claims = [
            reqs(&[zone(&["a"])]),
            reqs(&[zone(&["b"]), arch.clone()]),
            reqs(&[zone(&["c"])]),
            reqs(&[zone(&["a", "b"])]),
            reqs(&[(*labels::ZONE, Requirement::not_in([s("c")]))]),
            reqs(&[arch]),
            // asked twice: the same answer
            reqs(&[zone(&["a"])]),
        ];
        for claim in &claims {
            let ruled_out = pinned_value(claim, pinned.key()).is_some_and(|v| pinned.refuses(&topology, &pods[0], &data, v));
            let refused = topology.domains_to_add(0, &pods[0], &[], &data.strict, claim, true, false).is_err();
            assert!(!ruled_out || refused, "{claim:?} ruled out but not refused");
            let single = claim.get(*labels::ZONE).and_then(Requirement::single);
            let expected = single.is_some_and(|z| expect_refused.contains(&z.as_str()));
            assert_eq!(ruled_out, expected, "{claim:?}");
        }
    }

    #[test]
    fn rules_out_exactly_the_zones_a_spread_refuses() {
        // counts a=2, b=1, c=0, maxSkew 1: the pod (counting itself) may go to c only
        check(zonal_spread, &["a", "a", "b"], &["a", "b"]);
    }

    #[test]
    fn rules_out_exactly_the_zones_without_an_affine_pod() {
        check(zonal_affinity, &["b"], &["a", "c"]);
    }

    #[test]
    fn declines_when_the_pod_narrows_the_key_or_the_group_is_by_hostname() {
        let well_known = WellKnown::default();
        let pool_reqs = reqs(&[zone(&["a", "b"])]);
        let pools = || vec![PoolDomains { requirements: &pool_reqs, taints: &[], types: PoolTypes::NONE, launchable_only: false }];
        let mut own_zone = zonal_spread("z");
        *own_zone.node_selector = BTreeMap::from([(*labels::ZONE, s("a"))]);
        let mut by_host = zonal_spread("h");
        by_host.topology_spread[0].topology_key = *labels::HOSTNAME;
        let plain = Pod::new("default", "plain", Resources::new());
        for pod in [&own_zone, &by_host, &plain] {
            let topology = Topology::new(true, &well_known, pools(), TopoNodes::of(Vec::new()), &[], &[pod], &[]);
            let data = PodData::new(pod, true).unwrap();
            assert!(PinnedDomains::new(&topology, 0, &data).is_none(), "{}", pod.name);
        }
    }

    /// Claims open, gain pods and get pinned (or re-pinned, as a test of the bookkeeping) in a fixed
    /// pseudo-random sequence; after each step, a scan from every place must give exactly the full
    /// order minus the claims pinned to a refused zone, in the same order.
    #[test]
    fn scan_is_the_order_without_the_refused_claims() {
        use crate::scheduling::claim_order::ClaimOrder;
        let mut seed = 987654321u64;
        let mut next = move || {
            seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            (seed >> 33) as usize
        };
        let zones = ["a", "b", "c", "5"];
        let gt_one = Requirement::new(crate::requirements::Operator::Gt, &["1".to_string()], None).unwrap();
        let pin = |k: usize| match k % 5 {
            0 => reqs(&[]),
            1 => reqs(&[zone(&["a", "b"])]),
            // one value with a bound: not pinned as far as the verdicts go
            2 => reqs(&[(*labels::ZONE, Requirement::is_in([s("5")]).intersect(&gt_one))]),
            _ => reqs(&[zone(&[zones[k % 3]])]),
        };
        let mut order = ClaimOrder::default();
        let mut index = PinIndex::default();
        let mut claims: Vec<(usize, Requirements)> = Vec::new();
        for step in 0..600 {
            if step == 50 {
                // indexed late, over the claims open by then
                index.add_key(*labels::ZONE, order.from(Place::FIRST).map(|(p, c)| (p, c, &claims[c].1)));
            }
            let claim = if claims.is_empty() || next() % 3 == 0 { claims.len() } else { next() % claims.len() };
            if claim == claims.len() {
                claims.push((0, Requirements::new()));
            }
            claims[claim].0 += 1;
            claims[claim].1 = pin(next());
            let old = order.place(claim);
            let place = order.placed(claim, claims[claim].0);
            index.moved(claim, old, place, &claims[claim].1);
            if step < 50 {
                continue;
            }
            let refused = |v: Sym| v == s(zones[step % 4]) || (step % 7 == 0 && v == s("c"));
            let starts: Vec<Place> = order.from(Place::FIRST).map(|(p, _)| p).step_by(7).chain([Place::FIRST, Place::END]).collect();
            for start in starts {
                let expected: Vec<usize> = order
                    .from(start)
                    .filter(|&(_, c)| !pinned_value(&claims[c].1, *labels::ZONE).is_some_and(refused))
                    .map(|(_, c)| c)
                    .collect();
                let got: Vec<usize> = index.scan(*labels::ZONE, start, refused).map(|(_, c)| c).collect();
                assert_eq!(got, expected, "step {step}");
            }
        }
    }
}
