//! DaemonSet overhead (`scheduler.go: buildDaemonOverheadGroups`, `isDaemonPodCompatible`; design §3.11).

use super::pod_data::pod_requirements;
use crate::labels::WellKnown;
use crate::model::{HostPort, Pod, Taint, Toleration};
use crate::requirements::Requirements;
use crate::resources::Resources;
use crate::state::TypeInfo;
use crate::taints;

/// Instance types of a template that host the same set of DaemonSets share one group.
#[derive(Debug, Clone)]
pub struct DaemonGroup {
    pub overhead: Resources,
    pub host_ports: Vec<HostPort>,
}

fn requests_of(ds: &Pod) -> Resources {
    let mut r = ds.requests.clone();
    r.pods = 1;
    r
}

/// Whether a DaemonSet would run on a node of this template and type. DaemonSet pods tolerate
/// PreferNoSchedule implicitly here; OR-ed required node-affinity terms are tried one by one.
pub fn compatible_with_template(ds: &Pod, template_reqs: &Requirements, template_taints: &[Taint], it: &TypeInfo, well_known: &WellKnown) -> bool {
    // a DaemonSet with DRA claims does not count while IGNORE_DRA_REQUESTS is true
    // (`scheduler.go: buildDaemonOverheadGroups`, `shouldSkipDaemonPod`)
    if ds.resource_claims {
        return false;
    }
    let mut tolerations = ds.tolerations.clone();
    tolerations.push(taints::prefer_no_schedule_toleration());
    if taints::first_untolerated(template_taints, &tolerations).is_some() {
        return false;
    }
    let mut pod = ds.clone();
    loop {
        if let Ok(s) = pod_requirements(&pod, false)
            && template_reqs.compatible(&s, Some(well_known)).is_ok()
            && it.requirements.intersects(&s).is_ok()
        {
            return true;
        }
        if pod.affinity.node_required.len() >= 2 {
            pod.affinity.node_required.remove(0);
        } else {
            return false;
        }
    }
}

/// Whether a DaemonSet runs on an existing node (`isDaemonPodCompatibleWithNode`): its taints tolerated
/// and its strict requirements compatible with the node's labels, with no allowance for undefined labels.
/// The PreferNoSchedule toleration is implicit here too: in Karpenter v1.14.1 `isDaemonPodCompatible`
/// (run first, from `buildDaemonOverheadGroups`) appends it to the shared DaemonSet pod, and
/// `calculateExistingNodeClaims` then checks that same mutated pod against existing nodes.
/// Prepared for that check against many nodes: tolerations and strict requirements built once.
struct NodeDaemon {
    /// `None`: it runs on no node (DRA claims, or requirements that do not parse).
    check: Option<(Vec<Toleration>, Requirements)>,
    requests: Resources,
}

impl NodeDaemon {
    fn new(ds: &Pod) -> NodeDaemon {
        let check = (!ds.resource_claims).then(|| pod_requirements(ds, false).ok()).flatten().map(|reqs| {
            let mut tolerations = ds.tolerations.to_vec();
            tolerations.push(taints::prefer_no_schedule_toleration());
            (tolerations, reqs)
        });
        NodeDaemon { check, requests: requests_of(ds) }
    }

    /// Whether it runs on a node with these taints and labels (the rule above).
    fn runs_on(&self, node_taints: &[Taint], node_reqs: &Requirements) -> bool {
        self.check.as_ref().is_some_and(|(tolerations, reqs)| {
            taints::first_untolerated(node_taints, tolerations).is_none() && node_reqs.compatible(reqs, None).is_ok()
        })
    }
}

/// Group a template's instance types by the DaemonSets they would run. Returns the groups and, for
/// each type index, its group index.
pub fn build_groups(
    daemonsets: &[&Pod],
    template_reqs: &Requirements,
    template_taints: &[Taint],
    types: &[TypeInfo],
    options: &[u32],
    well_known: &WellKnown,
) -> (Vec<DaemonGroup>, Vec<u32>) {
    let mut groups: Vec<(Vec<usize>, DaemonGroup)> = Vec::new();
    let mut group_of = vec![u32::MAX; types.len()];
    for &t in options {
        let set: Vec<usize> = (0..daemonsets.len())
            .filter(|&i| compatible_with_template(daemonsets[i], template_reqs, template_taints, &types[t as usize], well_known))
            .collect();
        let gi = match groups.iter().position(|(k, _)| *k == set) {
            Some(i) => i,
            None => {
                let mut overhead = Resources::new();
                let mut host_ports = Vec::new();
                for &i in &set {
                    overhead.add_assign(&requests_of(daemonsets[i]));
                    host_ports.extend(daemonsets[i].host_ports.iter().cloned());
                }
                groups.push((set, DaemonGroup { overhead, host_ports }));
                groups.len() - 1
            }
        };
        group_of[t as usize] = gi as u32;
    }
    (groups.into_iter().map(|(_, g)| g).collect(), group_of)
}

/// The DaemonSets as existing nodes see them, each prepared once: a cluster view asks for every
/// node of the cluster, at every provisioning batch and disruption round.
pub struct NodeDaemons(Vec<NodeDaemon>);

impl NodeDaemons {
    /// Each DaemonSet's tolerations and requirements, built once.
    pub fn new(daemonsets: &[&Pod]) -> NodeDaemons {
        NodeDaemons(daemonsets.iter().map(|ds| NodeDaemon::new(ds)).collect())
    }

    /// Sum of requests of the DaemonSets that would run on a node with these taints and labels.
    pub fn requests(&self, node_taints: &[Taint], node_reqs: &Requirements) -> Resources {
        let mut r = Resources::new();
        for d in self.0.iter().filter(|d| d.runs_on(node_taints, node_reqs)) {
            r.add_assign(&d.requests);
        }
        r
    }
}
