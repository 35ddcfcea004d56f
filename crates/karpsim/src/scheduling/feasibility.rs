//! Whether a set of pods may share one node, checked with the scheduler's own rules: the checks of
//! `NodeClaim.CanAdd` (taints, requirement compatibility, instance-type and offering filtering with
//! the DaemonSet overhead of the type's group, `nodeclaim.go`) and of `ExistingNode.CanAdd`
//! (taints, node labels, remaining capacity, `existingnode.go`), without topology, host ports or
//! minValues. The cost lower bound (`crate::optimize`) relaxes those three; a packing it proposes
//! is valid under every other rule when these checks pass.

use super::cluster_view::ClusterView;
use super::instance_filter::{self, FilterInput};
use super::pod_data::pod_requirements;
use crate::catalog::Offering;
use crate::labels;
use crate::model::{Pod, TaintEffect, Taint};
use crate::requirements::{Requirement, Requirements};
use crate::resources::Resources;
use crate::taints;

/// The taints a pod must tolerate: all but PreferNoSchedule, which Karpenter's preference relaxation
/// tolerates (`preferences.go: toleratePreferNoScheduleTaints`) and kube-scheduler only scores.
pub fn hard_taints(t: &[Taint]) -> impl Iterator<Item = &Taint> {
    t.iter().filter(|t| t.effect != TaintEffect::PreferNoSchedule)
}

/// Whether the pod tolerates every hard taint of `t`.
pub fn tolerates_hard(t: &[Taint], pod: &Pod) -> bool {
    hard_taints(t).all(|taint| pod.tolerations.iter().any(|tol| taints::tolerates(tol, taint)))
}

/// The pod's node requirements, one set per required node-affinity term (Kubernetes ORs the terms;
/// Karpenter starts with the first and reaches the others by relaxation, `preferences.go`), each with
/// the nodeSelector. Preferred terms are left out: they are preferences.
pub fn requirement_alternatives(pod: &Pod) -> Vec<Requirements> {
    let mut p = pod.clone();
    p.affinity.node_preferred.clear();
    let mut out = Vec::new();
    loop {
        if let Ok(r) = pod_requirements(&p, false) {
            out.push(r);
        }
        if p.affinity.node_required.len() >= 2 {
            p.affinity.node_required.remove(0);
        } else {
            return out;
        }
    }
}

/// The pods a new node of template `template` (an index into the view's templates), instance type
/// `type_index` (into the template's types), launched in `offering`, can hold together.
pub fn check_new_node(view: &ClusterView, template: usize, type_index: u32, offering: &Offering, pods: &[&Pod]) -> Result<(), String> {
    let t = &view.templates[template];
    let it = &t.types[type_index as usize];
    let pool = t.pool.name;
    if !t.options().contains(&type_index) {
        return Err(format!("NodePool {pool} cannot launch {}", it.it.name));
    }
    let mut reqs = t.requirements.without_min_values();
    reqs.add(*labels::ZONE, Requirement::is_in([offering.zone]));
    reqs.add(*labels::CAPACITY_TYPE, Requirement::is_in([offering.capacity_type]));
    let mut total = Resources::new();
    for p in pods {
        if !tolerates_hard(&t.pool.taints, p) {
            return Err(format!("pod {}/{} does not tolerate the taints of NodePool {pool}", p.namespace, p.name));
        }
        let Some(r) = requirement_alternatives(p).into_iter().find(|r| {
            reqs.compatible(r, Some(&view.state.well_known)).is_ok() && {
                let mut m = reqs.clone();
                m.add_all(r);
                it.requirements.intersects_ok(&m) && instance_filter::offering_compatible(&m, offering)
            }
        }) else {
            return Err(format!("pod {}/{} cannot run on {} {} {} of NodePool {pool} with the other pods", p.namespace, p.name, it.it.name, offering.zone, offering.capacity_type));
        };
        reqs.add_all(&r);
        let mut q = p.requests.clone();
        q.pods = 1;
        total.add_assign(&q);
    }
    let mut out = Vec::new();
    instance_filter::filter(
        &FilterInput {
            types: t.types,
            classes: None,
            options: &[type_index],
            groups: t.groups(),
            group_of: t.group_of(),
            reqs: &reqs,
            total: &total,
            pod_ports: &[],
            claim_ports: &[],
            prefiltered: false,
        },
        &mut out,
    );
    if out.is_empty() || !offering.available {
        return Err(format!("{} {} {} of NodePool {pool} cannot hold {} pod(s) with its DaemonSet overhead", it.it.name, offering.zone, offering.capacity_type, pods.len()));
    }
    Ok(())
}

/// The pods that existing node `node` (an index into the view's nodes) can take on top of what it runs.
pub fn check_existing_node(view: &ClusterView, node: usize, pods: &[&Pod]) -> Result<(), String> {
    let v = view.node(node);
    let mut reqs = (*v.room.requirements).clone();
    let mut total = Resources::new();
    for p in pods {
        if !tolerates_hard(&v.room.taints, p) {
            return Err(format!("pod {}/{} does not tolerate the taints of node {}", p.namespace, p.name, v.node.name));
        }
        let Some(r) = requirement_alternatives(p).into_iter().find(|r| reqs.compatible(r, None).is_ok()) else {
            return Err(format!("pod {}/{} cannot run on node {}", p.namespace, p.name, v.node.name));
        };
        reqs.add_all(&r);
        let mut q = p.requests.clone();
        q.pods = 1;
        total.add_assign(&q);
    }
    if !total.fits(&v.room.remaining) {
        return Err(format!("node {} has no room for {} more pod(s)", v.node.name, pods.len()));
    }
    Ok(())
}
