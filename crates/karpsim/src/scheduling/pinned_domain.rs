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

use super::pod_data::PodData;
use super::topology::Topology;
use crate::labels::{self, Sym};
use crate::model::Pod;
use crate::requirements::Requirements;

pub(crate) struct PinnedDomains {
    group: usize,
    key: Sym,
    /// The group's verdict (`true`: refused) per pinned value met so far in this scan.
    verdicts: Vec<(Sym, bool)>,
}

impl PinnedDomains {
    /// For one scan of the open NodeClaims by batch pod `id` (`None`: the skip would not be exact).
    pub(crate) fn new(topology: &Topology, id: usize, data: &PodData) -> Option<PinnedDomains> {
        let (group, key) = topology.first_group(id)?;
        if key == *labels::HOSTNAME || !data.volumes.is_empty() || data.requirements.has(key) {
            return None;
        }
        Some(PinnedDomains { group, key, verdicts: Vec::new() })
    }

    /// Whether a NodeClaim with requirements `claim` is certainly refused by the pod's first group.
    pub(crate) fn rules_out(&mut self, topology: &Topology, pod: &Pod, data: &PodData, claim: &Requirements) -> bool {
        let Some(r) = claim.get(self.key) else { return false };
        let Some(v) = r.single() else { return false };
        if r.bounds() != (None, None) {
            return false;
        }
        if let Some(&(_, refused)) = self.verdicts.iter().find(|(d, _)| *d == v) {
            return refused;
        }
        match topology.group_refuses(self.group, pod, &data.strict, r) {
            Some(refused) => {
                self.verdicts.push((v, refused));
                refused
            }
            None => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::labels::WellKnown;
    use crate::model::{Affinity, LabelSelector, NodeInclusionPolicy, PodAffinityTerm, TopologySpreadConstraint, UnsatisfiableAction};
    use crate::requirements::Requirement;
    use crate::resources::Resources;
    use crate::scheduling::topology::PoolDomains;
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
    /// requirement set, `rules_out` must imply the refusal `domains_to_add` gives, and it must rule
    /// out exactly the single-zone claims whose zone the group refuses.
    fn check(make: fn(&str) -> Pod, placed: &[&str], expect_refused: &[&str]) {
        let pool_reqs = reqs(&[zone(&["a", "b", "c"])]);
        let well_known = WellKnown::default();
        let pools = vec![PoolDomains { requirements: &pool_reqs, taints: &[], type_requirements: Vec::new(), launchable_only: false }];
        let pods: Vec<Pod> = (0..=placed.len()).map(|i| make(&format!("p{i}"))).collect();
        let batch: Vec<&Pod> = pods.iter().collect();
        let mut topology = Topology::new(true, &well_known, pools, Vec::new(), &[], &batch, &[]);
        for (i, z) in placed.iter().enumerate() {
            topology.record(i + 1, &pods[i + 1], &[], &reqs(&[zone(&[z])]), true);
        }
        let data = PodData::new(&pods[0], true).unwrap();
        let mut pinned = PinnedDomains::new(&topology, 0, &data).expect("a zonal first group");
        let arch = (s("kubernetes.io/arch"), Requirement::is_in([s("amd64")]));
        let claims = [
            reqs(&[zone(&["a"])]),
            reqs(&[zone(&["b"]), arch.clone()]),
            reqs(&[zone(&["c"])]),
            reqs(&[zone(&["a", "b"])]),
            reqs(&[(*labels::ZONE, Requirement::not_in([s("c")]))]),
            reqs(&[arch]),
            // asked twice: the second answer comes from the verdict of the first
            reqs(&[zone(&["a"])]),
        ];
        for claim in &claims {
            let ruled_out = pinned.rules_out(&topology, &pods[0], &data, claim);
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
        let pools = || vec![PoolDomains { requirements: &pool_reqs, taints: &[], type_requirements: Vec::new(), launchable_only: false }];
        let mut own_zone = zonal_spread("z");
        *own_zone.node_selector = BTreeMap::from([(*labels::ZONE, s("a"))]);
        let mut by_host = zonal_spread("h");
        by_host.topology_spread[0].topology_key = *labels::HOSTNAME;
        let plain = Pod::new("default", "plain", Resources::new());
        for pod in [&own_zone, &by_host, &plain] {
            let topology = Topology::new(true, &well_known, pools(), Vec::new(), &[], &[pod], &[]);
            let data = PodData::new(pod, true).unwrap();
            assert!(PinnedDomains::new(&topology, 0, &data).is_none(), "{}", pod.name);
        }
    }
}
