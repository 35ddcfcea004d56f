//! [`NodeRoom`]: what a view works out for one node from the node and its pods.

use crate::model::{HostPort, Taint};
use crate::requirements::Requirements;
use crate::resources::Resources;
use std::sync::Arc;

/// What a view derives from one node and the pods bound to it: its effective taints, its labels as
/// requirements (with and without the hostname), the room its pods and DaemonSets leave, its pods'
/// host ports. Kept across the views of one state by [`super::KeptNodes`], which a view built from kept
/// parts borrows (cloning these lists for every view and freeing them with it was most of an
/// until-stable round's view over nodes no command touched).
#[derive(Debug, PartialEq)]
pub(crate) struct NodeRoom {
    /// Effective taints for scheduling.
    pub taints: Vec<Taint>,
    /// The node's labels as requirements, with its hostname.
    pub requirements: Arc<Requirements>,
    /// The node's labels as requirements when they differ from `requirements` (no hostname label).
    pub(super) label_requirements: Option<Arc<Requirements>>,
    /// Host ports used by the pods bound to it.
    pub ports: Vec<HostPort>,
    /// Allocatable minus the bound pods' requests and the DaemonSets that should run but do not yet.
    pub remaining: Resources,
    /// Whether a pod bound to it has required pod anti-affinity (the view lists those pods).
    pub(super) anti_affinity: bool,
}
