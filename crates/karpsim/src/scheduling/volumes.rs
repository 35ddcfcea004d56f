//! Pod volumes in the scheduler: the topology alternatives a pod's claims allow
//! (`scheduling/volumetopology.go`), tried in order on each node (`existingnode.go`, `nodeclaim.go:
//! tryVolumeAlternative`), and the per-driver attach limits of existing nodes (`pkg/scheduling/volumeusage.go`).

use crate::labels::{self, Sym};
use crate::model::{NodeSelectorRequirement, NodeSelectorTerm, Pod, PodVolumes};
use crate::requirements::Requirements;
use std::collections::{BTreeMap, BTreeSet};

/// A pod's volume topology alternatives as requirements (empty: its volumes constrain nothing).
pub(crate) fn alternatives(pod: &Pod) -> Result<Vec<Requirements>, String> {
    let Some(v) = &pod.volumes else { return Ok(Vec::new()) };
    v.topology.iter().map(|t| Requirements::from_node_selector(&t.match_expressions).map_err(|e| format!("volume topology: {e}"))).collect()
}

/// The pod's volumes once it runs on a node in `zone`, when its first placement binds a claim
/// there (`PodVolumes::binds_in_zone`): the alternatives the node met, each pinned to the zone.
/// `None` when nothing changes.
pub fn bound_in_zone(pod: &Pod, node_labels: &BTreeMap<Sym, Sym>, zone: Sym) -> Option<PodVolumes> {
    let v = pod.volumes.as_ref().filter(|v| v.binds_in_zone)?;
    let node = Requirements::from_labels(node_labels.iter());
    let pin = NodeSelectorRequirement { key: *labels::ZONE, operator: "In".into(), values: vec![zone.to_string()], min_values: None };
    let mut topology: Vec<NodeSelectorTerm> = v
        .topology
        .iter()
        .filter(|t| Requirements::from_node_selector(&t.match_expressions).is_ok_and(|r| node.compatible(&r, None).is_ok()))
        .cloned()
        .collect();
    if topology.is_empty() {
        topology.push(NodeSelectorTerm::default());
    }
    for t in &mut topology {
        t.match_expressions.push(pin.clone());
    }
    Some(PodVolumes { topology, binds_in_zone: false, ..(**v).clone() })
}

/// A pod's `(driver, claim)` attachments.
pub(crate) fn attachments(pod: &Pod) -> &[(Sym, Sym)] {
    pod.volumes.as_ref().map_or(&[], |v| &v.attachments)
}

/// The claims attached on an existing node, by CSI driver (`VolumeUsage`). Kept only for nodes whose
/// CSINode sets limits: new NodeClaims have none, and Karpenter checks limits on existing nodes only.
#[derive(Debug, Clone, Default)]
pub(crate) struct VolumeUsage {
    by_driver: BTreeMap<Sym, BTreeSet<Sym>>,
}

impl VolumeUsage {
    pub fn add(&mut self, attachments: &[(Sym, Sym)]) {
        for (d, c) in attachments {
            self.by_driver.entry(*d).or_default().insert(*c);
        }
    }

    /// `ExceedsLimits`: whether the claims already attached, those `placed` in this run and the
    /// pod's would exceed a driver's limit. A claim shared by several pods counts once; like
    /// Karpenter, a node already over a limit takes no pod at all.
    pub fn exceeds(&self, limits: &BTreeMap<Sym, u32>, placed: &[(Sym, Sym)], pod: &[(Sym, Sym)]) -> bool {
        limits.iter().any(|(driver, &limit)| {
            let attached = self.by_driver.get(driver);
            let mut new: Vec<Sym> = placed
                .iter()
                .chain(pod)
                .filter(|(d, c)| d == driver && !attached.is_some_and(|a| a.contains(c)))
                .map(|(_, c)| *c)
                .collect();
            new.sort_unstable();
            new.dedup();
            attached.map_or(0, BTreeSet::len) + new.len() > limit as usize
        })
    }
}
