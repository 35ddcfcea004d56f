//! A view's nodes: listed when the view is built (a view of a state seen once), or the order
//! kept across the views of one state ([`KeptNodes`]), borrowed for the view's life. Either way a
//! run reads each node as a [`NodeView`], made when asked: a kept order is not copied into every
//! view (an until-stable round over a drifted cluster changes two nodes of thousands, and listing
//! every node for each round's view was a fifth of such a run).

use super::room::NodeRoom;
use super::kept::KeptNodes;
use crate::model::{Node, Pod};
use crate::scheduling::bound_pods::{BoundPods, PodList};
use crate::scheduling::topology::TopoNode;
use crate::scheduling::volumes::VolumeUsage;
use crate::state::ClusterState;
use std::cell::{Ref, RefCell};

/// A node that can receive pods (not being deleted), as every run starts from it.
#[derive(Clone, Copy)]
pub(crate) struct NodeView<'s, 'a> {
    pub node: &'a Node,
    pub room: &'s NodeRoom,
    pods: PodsOf<'s, 'a>,
    /// The claims its pods attach, when its CSINode limits them (`None`: no limits).
    pub volumes: Option<&'s VolumeUsage>,
}

/// Where a [`NodeView`] finds its pods.
#[derive(Clone, Copy)]
enum PodsOf<'s, 'a> {
    /// Looked up by the node's name when read, in a grouping that outlives the view: most of a
    /// disruption round reads no node's pods.
    Bound(&'s BoundPods<'a>),
    /// Its own list.
    Refs(&'s [&'a Pod]),
}

impl<'s, 'a> NodeView<'s, 'a> {
    /// The pods bound to it (not terminal), in the state's order.
    pub(crate) fn pods(&self) -> PodList<'s, 'a> {
        match self.pods {
            PodsOf::Bound(b) => b.list(&self.node.name),
            PodsOf::Refs(r) => PodList::Refs(r),
        }
    }

    /// The node as topology sees it.
    pub fn topo(&self) -> TopoNode<'s> {
        TopoNode {
            name: self.node.name,
            labels: &self.node.labels,
            requirements: self.room.label_requirements.as_deref().unwrap_or(&self.room.requirements),
            taints: &self.node.taints,
            pods: self.pods(),
        }
    }
}

/// A node listed for one view, with what the view worked out for it.
pub(super) struct Listed<'a> {
    pub(super) node: &'a Node,
    pub(super) room: NodeRoom,
    pub(super) pods: ListedPods<'a>,
    pub(super) volumes: Option<VolumeUsage>,
}

/// Where a listed node's pods are.
pub(super) enum ListedPods<'a> {
    /// In a grouping that outlives the view, by the node's name.
    Bound(&'a BoundPods<'a>),
    /// A copy (the caller's grouping is temporary), or none (the node is not the first of its name).
    Copied(Vec<&'a Pod>),
}

impl<'a> ListedPods<'a> {
    /// The pods of the node named `name` (the one these were found for).
    pub(super) fn list(&self, name: &crate::labels::Sym) -> PodList<'_, 'a> {
        match self {
            ListedPods::Bound(b) => b.list(name),
            ListedPods::Copied(pods) => PodList::Refs(pods),
        }
    }
}

/// How a view reaches the order kept for its state: in the disruption round's cell, or lent by
/// its owner (the time simulator's provisioning batches).
pub(crate) enum KeptAccess<'a> {
    Cell(&'a RefCell<KeptNodes>),
    Lent(&'a mut KeptNodes),
}

impl<'a> From<&'a RefCell<KeptNodes>> for KeptAccess<'a> {
    fn from(cell: &'a RefCell<KeptNodes>) -> Self {
        KeptAccess::Cell(cell)
    }
}

impl<'a> From<&'a mut KeptNodes> for KeptAccess<'a> {
    fn from(kept: &'a mut KeptNodes) -> Self {
        KeptAccess::Lent(kept)
    }
}

impl<'a> KeptAccess<'a> {
    /// Bring the order up to date (`update`), then borrow it for the view's life.
    pub(super) fn update(self, update: impl FnOnce(&mut KeptNodes)) -> KeptOrder<'a> {
        match self {
            KeptAccess::Cell(cell) => {
                update(&mut cell.borrow_mut());
                KeptOrder::Cell(cell.borrow())
            }
            KeptAccess::Lent(kept) => {
                update(kept);
                KeptOrder::Lent(kept)
            }
        }
    }
}

/// The kept order, borrowed for a view's life.
pub(super) enum KeptOrder<'a> {
    Cell(Ref<'a, KeptNodes>),
    Lent(&'a KeptNodes),
}

impl std::ops::Deref for KeptOrder<'_> {
    type Target = KeptNodes;

    fn deref(&self) -> &KeptNodes {
        match self {
            KeptOrder::Cell(r) => r,
            KeptOrder::Lent(k) => k,
        }
    }
}

/// A view's nodes, in Karpenter's existing-node order: initialized first, then by name
/// (`sortExistingNodes`).
pub(super) enum ViewNodes<'a> {
    Listed(Vec<Listed<'a>>),
    Kept(KeptView<'a>),
}

/// A view's nodes from a kept order.
pub(super) struct KeptView<'a> {
    pub(super) order: KeptOrder<'a>,
    pub(super) state: &'a ClusterState,
    pub(super) pods: &'a BoundPods<'a>,
    /// The positions in the order of the view's nodes, when some entries are not active.
    pub(super) active: Option<Vec<u32>>,
    /// The rooms worked out for this view only (nodes with volume limits), by position in the
    /// order, ascending.
    pub(super) extra: Vec<(usize, NodeRoom, Option<VolumeUsage>)>,
}

impl<'a> ViewNodes<'a> {
    pub(super) fn len(&self) -> usize {
        match self {
            ViewNodes::Listed(list) => list.len(),
            ViewNodes::Kept(k) => k.order.active_len(),
        }
    }

    /// The node at `i` of the view's order.
    pub(super) fn get(&self, i: usize) -> NodeView<'_, 'a> {
        match self {
            ViewNodes::Listed(list) => {
                let l = &list[i];
                let pods = match &l.pods {
                    ListedPods::Bound(b) => PodsOf::Bound(b),
                    ListedPods::Copied(pods) => PodsOf::Refs(pods),
                };
                NodeView { node: l.node, room: &l.room, pods, volumes: l.volumes.as_ref() }
            }
            ViewNodes::Kept(k) => {
                let (slot, room, volumes) = k.room_at(i);
                NodeView { node: k.state.nodes.at_slot(slot), room, pods: PodsOf::Bound(k.pods), volumes }
            }
        }
    }

    /// The node at `i` of the view's order, without the rest of its view.
    pub(super) fn node(&self, i: usize) -> &'a Node {
        match self {
            ViewNodes::Listed(list) => list[i].node,
            ViewNodes::Kept(k) => k.state.nodes.at_slot(k.order.slot(k.order_at(i))),
        }
    }

    /// The room of the node at `i` of the view's order, without the rest of its view (a run's
    /// first-fit scan reads only the room of most nodes it passes).
    pub(super) fn room(&self, i: usize) -> &NodeRoom {
        match self {
            ViewNodes::Listed(list) => &list[i].room,
            ViewNodes::Kept(k) => k.room_at(i).1,
        }
    }
}

impl KeptView<'_> {
    /// The position in the order of the node at `i` of the view's order.
    fn order_at(&self, i: usize) -> usize {
        self.active.as_ref().map_or(i, |a| a[i] as usize)
    }

    /// The slot in the state's nodes of the node at `i` of the view's order, its room and its
    /// volumes.
    fn room_at(&self, i: usize) -> (usize, &NodeRoom, Option<&VolumeUsage>) {
        let at = self.order_at(i);
        let (slot, room) = self.order.slot_and_room(at);
        match room {
            Some(room) => (slot, room, None),
            None => {
                // every active entry without a kept room had one worked out for this view
                // (`ClusterView::build`'s kept branch), so the search finds it
                let e = &self.extra[self.extra.binary_search_by_key(&at, |e| e.0).expect("a room worked out for the view")];
                (slot, &e.1, e.2.as_ref())
            }
        }
    }
}
