//! One topology group: pods matching a selector counted by topology domain
//! (`scheduling/topologygroup.go`, `topologynodefilter.go`, `topologydomaingroup.go`; design §3.9).

use crate::labels::{self, Sym, SymMap, WellKnown};
use crate::model::{LabelSelector, Pod, Taint, Toleration};
use crate::requirements::{Requirement, Requirements};
use crate::taints;
use std::collections::{BTreeMap, BTreeSet};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum GroupKind {
    Spread,
    Affinity,
    AntiAffinity,
}

impl std::fmt::Display for GroupKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            GroupKind::Spread => "topology spread",
            GroupKind::Affinity => "pod affinity",
            GroupKind::AntiAffinity => "pod anti-affinity",
        })
    }
}

/// Which nodes take part in a spread constraint (`TopologyNodeFilter`). Affinity groups have none.
#[derive(Debug, Clone)]
pub struct NodeFilter {
    /// OR-ed: nodeSelector ∩ each required node-affinity term (or just the nodeSelector).
    pub requirements: Vec<Requirements>,
    pub taints_honor: bool,
    pub affinity_honor: bool,
    pub tolerations: Vec<Toleration>,
}

impl NodeFilter {
    pub fn matches(&self, node_taints: &[Taint], node_reqs: &Requirements, undefined: Option<&WellKnown>) -> bool {
        let affinity_ok = !self.affinity_honor
            || self.requirements.is_empty()
            || self.requirements.iter().any(|r| node_reqs.compatible(r, undefined).is_ok());
        let taints_ok = !self.taints_honor || taints::first_untolerated(node_taints, &self.tolerations).is_none();
        affinity_ok && taints_ok
    }
    pub fn signature(&self) -> String {
        let reqs: Vec<String> = self.requirements.iter().map(|r| r.to_string()).collect();
        format!("{reqs:?}|{}|{}|{:?}", self.taints_honor, self.affinity_honor, self.tolerations)
    }
}

/// Domains of a topology key that NodePools can create, each with the taint sets under which it can
/// be created (`TopologyDomainGroup`). An empty taint set means "always reachable".
#[derive(Debug, Clone, Default)]
pub struct DomainGroup {
    pub domains: BTreeMap<Sym, Vec<Vec<Taint>>>,
}

impl DomainGroup {
    pub fn insert(&mut self, domain: Sym, taints: &[Taint]) {
        match self.domains.get_mut(&domain) {
            None => {
                self.domains.insert(domain, vec![taints.to_vec()]);
            }
            Some(sets) => {
                if taints.is_empty() {
                    *sets = vec![Vec::new()];
                } else if !sets[0].is_empty() {
                    sets.push(taints.to_vec());
                }
            }
        }
    }

    /// Domains a pod can reach: all of them when taints are ignored, else those creatable under a
    /// taint set the pod tolerates (`ForEachDomain`).
    pub fn reachable<'a>(&'a self, tolerations: &'a [Toleration], ignore_taints: bool) -> impl Iterator<Item = Sym> + 'a {
        self.domains.iter().filter_map(move |(d, sets)| {
            (ignore_taints || sets.iter().any(|ts| taints::first_untolerated(ts, tolerations).is_none())).then_some(*d)
        })
    }
}

#[derive(Debug, Clone)]
pub struct TopologyGroup {
    pub kind: GroupKind,
    pub key: Sym,
    pub namespaces: BTreeSet<Sym>,
    /// `None` selects nothing (a missing or unparsable selector).
    pub selector: Option<LabelSelector>,
    pub max_skew: i32,
    pub min_domains: Option<i32>,
    pub filter: Option<NodeFilter>,
    pub domains: BTreeMap<Sym, i32>,
    pub empty: BTreeSet<Sym>,
    /// Looked up, never iterated (FxHash: the scheduler asks it per group for every pod).
    pub owners: rustc_hash::FxHashSet<usize>,
    /// `domains` again, hashed by interned pointer, for point look-ups (kept in step by the methods
    /// below; `domains` keeps the name order that tie-breaks follow).
    pub(crate) lookup: SymMap<i32>,
}

impl TopologyGroup {
    pub fn selects(&self, pod: &Pod) -> bool {
        self.namespaces.contains(&pod.namespace) && self.selector.as_ref().is_some_and(|s| s.matches(&pod.labels))
    }

    /// Whether a pod placed on a node with these taints and requirements counts toward the group.
    pub fn counts(&self, pod: &Pod, node_taints: &[Taint], node_reqs: &Requirements, undefined: Option<&WellKnown>) -> bool {
        self.selects(pod) && self.filter.as_ref().is_none_or(|f| f.matches(node_taints, node_reqs, undefined))
    }

    pub fn register(&mut self, domain: Sym) {
        if !self.lookup.contains_key(&domain) {
            self.domains.insert(domain, 0);
            self.lookup.insert(domain, 0);
            self.empty.insert(domain);
        }
    }

    pub fn unregister(&mut self, domain: Sym) {
        self.domains.remove(&domain);
        self.lookup.remove(&domain);
        self.empty.remove(&domain);
    }

    pub fn record(&mut self, domain: Sym) {
        *self.domains.entry(domain).or_insert(0) += 1;
        *self.lookup.entry(domain).or_insert(0) += 1;
        self.empty.remove(&domain);
    }

    /// Remove one count (used when a simulation takes a pod away).
    pub fn unrecord(&mut self, domain: Sym) {
        if let Some(c) = self.domains.get_mut(&domain) {
            *c -= 1;
            if *c <= 0 {
                *c = 0;
                self.empty.insert(domain);
            }
            self.lookup.insert(domain, *c);
        }
    }

    /// Pods counted in domain `d` (0 when unknown).
    #[inline]
    pub fn count(&self, d: Sym) -> i32 {
        self.lookup.get(&d).copied().unwrap_or(0)
    }

    /// The domains the pod may take (`TopologyGroup.Get`), an empty result meaning unsatisfiable,
    /// and whether a spread chose among tied domains. `tie_offset` picks which tied spread domain
    /// (in name order, wrapping around).
    pub fn next_domain(&self, pod: &Pod, pod_domains: &Requirement, node_domains: &Requirement, tie_offset: u32) -> (Requirement, bool) {
        match self.kind {
            GroupKind::Spread => self.next_spread(pod, pod_domains, node_domains, tie_offset),
            GroupKind::Affinity => (self.next_affinity(pod, pod_domains, node_domains), false),
            GroupKind::AntiAffinity => (self.next_anti_affinity(pod_domains, node_domains), false),
        }
    }

    fn is_hostname(&self) -> bool {
        self.key == *labels::HOSTNAME
    }

    /// Global minimum for skew (`domainMinCount`): 0 for hostname (a new node can always be made),
    /// else the minimum over domains the pod allows, 0 if fewer than `minDomains` such domains.
    fn min_count(&self, pod_domains: &Requirement) -> i32 {
        if self.is_hostname() {
            return 0;
        }
        let mut min = i32::MAX;
        let mut n = 0;
        for (d, c) in &self.domains {
            if pod_domains.has(*d) {
                n += 1;
                min = min.min(*c);
            }
        }
        if self.min_domains.is_some_and(|m| n < m) {
            min = 0;
        }
        min
    }

    fn next_spread(&self, pod: &Pod, pod_domains: &Requirement, node_domains: &Requirement, tie_offset: u32) -> (Requirement, bool) {
        let self_selecting = self.selects(pod);
        let bump = i32::from(self_selecting);
        if self.is_hostname() && node_domains.values().len() == 1 {
            let h = node_domains.values()[0];
            let r = if self.count(h) + bump <= self.max_skew { Requirement::is_in([h]) } else { Requirement::does_not_exist() };
            return (r, false);
        }
        let min = self.min_count(pod_domains);
        // the candidate domains with their counts (+1 when the pod counts itself), in name order
        let visit = |f: &mut dyn FnMut(Sym, i32)| {
            if node_domains.operator() == crate::requirements::Operator::In {
                for d in node_domains.values() {
                    if let Some(c) = self.lookup.get(d) {
                        f(*d, c + bump);
                    }
                }
            } else {
                for (d, c) in &self.domains {
                    if node_domains.has(*d) {
                        f(*d, c + bump);
                    }
                }
            }
        };
        // the lowest count among valid domains, and how many domains share it
        let mut best: Option<i32> = None;
        let mut ties = 0u32;
        visit(&mut |_, c| {
            if c - min > self.max_skew {
                return;
            }
            match best {
                Some(b) if c > b => {}
                Some(b) if c == b => ties += 1,
                _ => {
                    best = Some(c);
                    ties = 1;
                }
            }
        });
        // ties: Karpenter takes whichever map entry comes first (random at every evaluation); we
        // take the first by name, shifted by `tie_offset` (Topology::retried)
        let Some(b) = best else { return (Requirement::does_not_exist(), false) };
        let mut k = tie_offset % ties;
        let mut chosen = None;
        visit(&mut |d, c| {
            if c == b && chosen.is_none() {
                if k == 0 {
                    chosen = Some(d);
                } else {
                    k -= 1;
                }
            }
        });
        (chosen.map_or_else(Requirement::does_not_exist, |d| Requirement::is_in([d])), ties > 1)
    }

    fn any_compatible_pod_domain(&self, pod_domains: &Requirement) -> bool {
        self.domains.iter().any(|(d, c)| *c > 0 && pod_domains.has(*d))
    }

    fn next_affinity(&self, pod: &Pod, pod_domains: &Requirement, node_domains: &Requirement) -> Requirement {
        let may_bootstrap =
            || self.selects(pod) && (self.domains.len() == self.empty.len() || !self.any_compatible_pod_domain(pod_domains));
        if self.is_hostname() && node_domains.values().len() == 1 {
            let h = node_domains.values()[0];
            if !pod_domains.has(h) {
                return Requirement::does_not_exist();
            }
            if self.count(h) > 0 || may_bootstrap() {
                return Requirement::is_in([h]);
            }
            return Requirement::does_not_exist();
        }
        let mut options: Vec<Sym> = if node_domains.operator() == crate::requirements::Operator::In {
            node_domains.values().iter().filter(|d| pod_domains.has(**d) && self.count(**d) > 0 && self.lookup.contains_key(*d)).copied().collect()
        } else {
            self.domains.iter().filter(|(d, c)| **c > 0 && pod_domains.has(**d) && node_domains.has(**d)).map(|(d, _)| *d).collect()
        };
        if !options.is_empty() {
            return Requirement::is_in(options);
        }
        if may_bootstrap() {
            // bootstrap a self-affine group: one domain of pod ∩ node domains, and one of the pod's
            // (Karpenter picks arbitrary map entries; we pick the first by name)
            let both = pod_domains.intersect(node_domains);
            if let Some(d) = self.domains.keys().find(|d| both.has(**d)) {
                options.push(*d);
            }
            if let Some(d) = self.domains.keys().find(|d| pod_domains.has(**d)) {
                options.push(*d);
            }
        }
        if options.is_empty() { Requirement::does_not_exist() } else { Requirement::is_in(options) }
    }

    fn next_anti_affinity(&self, pod_domains: &Requirement, node_domains: &Requirement) -> Requirement {
        if self.is_hostname() && node_domains.values().len() == 1 {
            let h = node_domains.values()[0];
            return if self.count(h) == 0 { Requirement::is_in([h]) } else { Requirement::does_not_exist() };
        }
        if self.empty.is_empty() {
            return Requirement::does_not_exist();
        }
        let options: Vec<Sym> = if node_domains.operator() == crate::requirements::Operator::In && node_domains.values().len() < self.empty.len() {
            node_domains.values().iter().filter(|d| self.empty.contains(*d) && pod_domains.has(**d)).copied().collect()
        } else {
            self.empty.iter().filter(|d| node_domains.has(**d) && pod_domains.has(**d)).copied().collect()
        };
        if options.is_empty() { Requirement::does_not_exist() } else { Requirement::is_in(options) }
    }

    /// A short description of the counts, for explanations.
    pub fn describe_counts(&self) -> String {
        let shown: Vec<String> = self.domains.iter().take(8).map(|(d, c)| format!("{d}={c}")).collect();
        let more = self.domains.len().saturating_sub(8);
        if more > 0 { format!("{} and {more} more", shown.join(", ")) } else { shown.join(", ") }
    }
}
