//! Carrying out a command on a cluster state (`disruption/queue.go`, §5.12): launch the
//! replacements, move the pods the simulation placed, delete the candidates.

use super::Command;
use crate::labels::{self, Sym, SymMap, SymSet};
use crate::model::{Node, PodPhase, Timestamp};
use crate::scheduling::SolvedClaim;
use crate::state::ClusterState;
use std::collections::BTreeMap;

#[derive(Debug, Clone)]
pub enum Dest {
    Existing(Sym),
    Replacement(usize),
}

/// What a replacement node will look like once launched.
#[derive(Debug, Clone)]
pub struct NewNode {
    pub nodepool: Sym,
    pub instance_type: Sym,
    pub zone: Sym,
    pub capacity_type: Sym,
    pub price: f64,
    pub labels: BTreeMap<Sym, Sym>,
    pub allocatable: crate::resources::Resources,
    pub capacity: crate::resources::Resources,
    /// The capacity reservation it launches into.
    pub reservation_id: Option<Sym>,
}

impl NewNode {
    pub fn from_claim(c: &SolvedClaim, r: &super::Replacement) -> NewNode {
        let ti = c.options.iter().find(|o| o.it.name.as_str() == r.instance_type).copied().unwrap_or(c.options[0]);
        let mut labels: BTreeMap<Sym, Sym> = c.requirements.single_valued_labels();
        for (k, v) in &ti.it.labels {
            if let Some(v) = v {
                labels.insert(*k, *v);
            }
        }
        labels.insert(*labels::ZONE, Sym::new(&r.zone));
        labels.insert(*labels::CAPACITY_TYPE, Sym::new(&r.capacity_type));
        labels.insert(*labels::NODEPOOL, c.nodepool);
        labels.remove(&*labels::REGISTERED);
        labels.remove(&*labels::INITIALIZED);
        // the offering's reservation labels (instance.go: NewInstanceFromFleet with
        // WithCapacityReservationDetails), and none on other capacity
        for k in [*labels::RESERVATION_ID, *labels::RESERVATION_TYPE, *labels::RESERVATION_INTERRUPTIBLE] {
            labels.remove(&k);
        }
        let reservation = r.reservation_id.as_deref().and_then(|id| {
            ti.it.offerings.iter().filter_map(|o| o.reservation.as_ref()).find(|x| x.id.as_str() == id)
        });
        if let Some(x) = reservation {
            labels.insert(*labels::RESERVATION_ID, x.id);
            labels.insert(*labels::RESERVATION_TYPE, Sym::new(x.reservation_type.as_str()));
            labels.insert(*labels::RESERVATION_INTERRUPTIBLE, Sym::new(if x.interruptible { "true" } else { "false" }));
        }
        NewNode {
            nodepool: c.nodepool,
            instance_type: ti.it.name,
            zone: Sym::new(&r.zone),
            capacity_type: Sym::new(&r.capacity_type),
            price: r.price_per_hour,
            labels,
            allocatable: ti.it.allocatable.clone(),
            capacity: ti.it.capacity.clone(),
            reservation_id: reservation.map(|x| x.id),
        }
    }
}

impl NewNode {
    /// The Node this NodeClaim becomes, named `name` and created at `now`; `initialized` nodes are
    /// Ready and count `now` as their last pod event.
    pub fn to_node(&self, name: Sym, now: Timestamp, taints: Vec<crate::model::Taint>, initialized: bool) -> Node {
        let mut labels = self.labels.clone();
        labels.insert(*labels::HOSTNAME, name);
        Node {
            name,
            labels: labels.into(),
            annotations: BTreeMap::new(),
            taints,
            capacity: self.capacity.clone(),
            allocatable: self.allocatable.clone(),
            resources_reported: true,
            has_nodeclaim: false,
            nodepool: Some(self.nodepool),
            instance_type: Some(self.instance_type),
            zone: Some(self.zone),
            capacity_type: Some(self.capacity_type),
            creation_timestamp: now,
            initialized,
            ready: initialized,
            deletion_timestamp: None,
            last_pod_event: initialized.then_some(now),
            observed: None,
            price: Some(self.price),
            provider_id: None,
            volume_limits: BTreeMap::new(),
        }
    }
}

/// What [`place`] changed in a state.
#[derive(Debug, Default)]
pub struct Changed {
    /// Nodes launched, deleted, given pods or left by pods (their record or their pods changed).
    pub nodes: SymSet,
    /// A capacity reservation's count changed: every NodePool's instance types may be new.
    pub reservations: bool,
    /// Every pod whose binding changed (moved, or made pending): its position in the state's pods
    /// after the change, and the node it was bound to before (what until-stable's pods by node
    /// patch, `scheduling/bound_pods.rs`).
    pub pods: Vec<(usize, Option<Sym>)>,
    /// The positions, ascending, of the pods removed from the state (those of deleted nodes that
    /// go with them): later positions shifted down by the removed ones before them (what
    /// until-stable's kept positions shift by).
    pub gone_pods: Vec<usize>,
    /// The nodes launched, and the nodes removed (the names of `remove` that were nodes'): which
    /// names are nodes' now, for until-stable's pending pods (`scheduling/mod.rs`).
    pub launched: Vec<Sym>,
    pub removed: Vec<Sym>,
    /// The positions in the state's nodes, after the command, of the nodes that got pods (noted
    /// by the pass that sets their pod event): where until-stable's next round finds them again
    /// (`disruption/lazy.rs`), later commands' removals shifting them down by a few at most.
    pub got_pods_at: Vec<usize>,
}

#[derive(Debug, Clone)]
pub struct Plan {
    pub command: Command,
    pub remove: Vec<Sym>,
    pub new_nodes: Vec<NewNode>,
    pub binds: Vec<(Sym, Dest)>,
}

impl Plan {
    /// What carrying it out does to a state.
    pub(super) fn placement(&self) -> Placement<'_> {
        Placement { new_nodes: &self.new_nodes, binds: &self.binds, remove: &self.remove }
    }
}

/// What a command does to a state ([`place`]'s arguments): the nodes it launches, where it binds
/// pods, the nodes it removes.
#[derive(Clone, Copy)]
pub(super) struct Placement<'p> {
    pub new_nodes: &'p [NewNode],
    pub binds: &'p [(Sym, Dest)],
    pub remove: &'p [Sym],
}

/// Carry out `plan` on `state`; returns what it changed.
pub fn apply(state: &mut ClusterState, plan: &Plan, now: Timestamp, seq: &mut usize) -> Changed {
    place(state, &plan.new_nodes, &plan.binds, &plan.remove, now, seq)
}

/// Launch `new_nodes` (initialized at `now`, named `<nodepool>-karpsim-<seq>`), bind pods to their
/// destinations, and delete the `remove` nodes (their other reschedulable pods become pending).
/// Capacity reservations' counts follow the launches into them and the deletions of their nodes.
/// Also how a provisioning result is launched into a state (`whatif::cluster`). Returns every node
/// whose record or pods it changed (what until-stable's kept facts forget, `disruption/kept.rs`).
pub fn place(state: &mut ClusterState, new_nodes: &[NewNode], binds: &[(Sym, Dest)], remove: &[Sym], now: Timestamp, seq: &mut usize) -> Changed {
    place_visiting(state, Placement { new_nodes, binds, remove }, now, seq, None, None)
}

/// The slot in the state's nodes (`state::BoxList::slot_of`) where a caller believes a node is, by
/// name (until-stable: its kept view order's, current as of the round's view; a removal leaves
/// the other nodes in their slots). Each answer is checked against the node's name before it is
/// used, and a wrong or missing one falls back to a scan of the names; the caller's state has
/// unique names (until-stable keeps nothing otherwise).
pub(super) type NodeAt<'h> = &'h dyn Fn(Sym) -> Option<usize>;

/// [`place`], looking only at the pods at `touched_pods` (ascending positions, from until-stable's
/// [`super::pod_index::PodIndex`]: every pod bound to a removed node or named by a bind) rather than
/// at every pod of the state (`None`: at every pod), and finding the nodes it removes or gives pods
/// where `node_at` says they are ([`NodeAt`]) rather than by a scan of every node's name.
pub(super) fn place_visiting(
    state: &mut ClusterState,
    placement: Placement,
    now: Timestamp,
    seq: &mut usize,
    touched_pods: Option<&[usize]>,
    node_at: Option<NodeAt>,
) -> Changed {
    let Placement { new_nodes, binds, remove } = placement;
    let mut changed = Changed { nodes: remove.iter().copied().collect(), ..Changed::default() };
    let mut names = Vec::new();
    for n in new_nodes {
        let name = loop {
            *seq += 1;
            let text = format!("{}-karpsim-{}", n.nodepool, seq);
            // a name nothing interned yet is no node's (each node's name is a `Sym`): no scan of
            // every node's name at every launch (until-stable launches a node a drifted round)
            match Sym::existing(&text) {
                None => break Sym::new(&text),
                Some(candidate) if !state.nodes.contains_name(candidate) => break candidate,
                Some(_) => {}
            }
        };
        let taints = state.nodepools.iter().find(|p| p.name == n.nodepool).map(|p| p.taints.clone()).unwrap_or_default();
        state.nodes.push(n.to_node(name, now, taints, true));
        names.push(name);
        changed.launched.push(name);
        changed.nodes.insert(name);
        // a launch takes one instance of its reservation (availabilityCache.MarkLaunched)
        if let Some(id) = n.reservation_id {
            state.change_reservation(id, -1, false);
            changed.reservations = true;
        }
    }
    // the removed nodes leave the state (in its order; no pod is read or written until they
    // have), and a deleted node gives its instance back (MarkTerminated)
    if !remove.is_empty() {
        // where the removed nodes are, when `node_at` finds them all
        let nodes = match node_at.and_then(|f| at_of(&state.nodes, remove, state.nodes.len(), f)) {
            Some(at) => state.nodes.remove_at(&at),
            None => state.nodes.remove_named(remove),
        };
        for n in nodes {
            changed.removed.push(n.name);
            if let Some(&id) = n.labels.get(&*labels::RESERVATION_ID) {
                state.change_reservation(id, 1, false);
                changed.reservations = true;
            }
        }
    }
    // looked up for the pods the filter lets through: by interned symbol, not string order
    let dest_of: SymMap<Sym> = binds
        .iter()
        .map(|(uid, d)| {
            (*uid, match d {
                Dest::Existing(n) => *n,
                Dest::Replacement(i) => names[*i],
            })
        })
        .collect();
    let bound = SymFilter::of(binds.iter().map(|(uid, _)| *uid));
    // pods on removed nodes: DaemonSet, mirror and finished pods go with the node; the rest move or
    // become pending. One pass over the pods: those that go are only noted (a pod that goes is
    // neither moved nor made pending, as when they went first) and removed after it, when there
    // are any (they are left as gaps, and no later pod moves: `GapList`)
    let mut gone: Vec<usize> = Vec::new();
    let mut touched = SymSet::default();
    let mut visit = |at: usize, p: &mut crate::model::Pod| {
        let on_removed = p.node_name.is_some_and(|n| remove.contains(&n));
        if on_removed && (p.is_daemonset_pod() || p.is_mirror() || !p.is_reschedulable()) {
            gone.push(at);
        } else if bound.may_hold(p.uid) && let Some(d) = dest_of.get(&p.uid) {
            changed.pods.push((at, p.node_name));
            // the node it leaves changes too (a pod of a node being deleted moves without it)
            if let Some(from) = p.node_name {
                changed.nodes.insert(from);
            }
            p.node_name = Some(*d);
            p.phase = PodPhase::Running;
            p.start_time = Some(now);
            touched.insert(*d);
        } else if on_removed {
            changed.pods.push((at, p.node_name));
            p.node_name = None;
            p.phase = PodPhase::Pending;
        }
    };
    // in the state's order either way: `touched` ascends
    match touched_pods {
        Some(positions) => {
            for &at in positions {
                visit(at, &mut state.pods[at]);
            }
        }
        None => {
            for (at, p) in state.pods.iter_mut().enumerate() {
                visit(at, p);
            }
        }
    }
    if !gone.is_empty() {
        state.pods.remove_at(&gone);
        // the positions reported are those after the removal
        let mut before = 0;
        for (at, _) in &mut changed.pods {
            while gone.get(before).is_some_and(|g| g < at) {
                before += 1;
            }
            *at -= before;
        }
        changed.gone_pods = gone;
    }
    changed.got_pods_at = got_pods_at(&state.nodes, &touched, &names, &changed.removed, node_at);
    for &at in &changed.got_pods_at {
        state.nodes.update(at, |n| n.last_pod_event = Some(now));
    }
    changed.nodes.extend(touched);
    changed
}

/// The positions, ascending, of the nodes named in `touched` (the nodes given pods), in `nodes`
/// after a command launched `launched` (pushed at its end, in order) and removed `removed`. When
/// it removed none of those it launched (they are then its last `launched.len()` nodes), a node
/// given pods that it launched is found there, and another in the slot `node_at` says; otherwise
/// the nodes' names are scanned.
fn got_pods_at(nodes: &crate::state::NodeList, touched: &SymSet, launched: &[Sym], removed: &[Sym], node_at: Option<NodeAt>) -> Vec<usize> {
    let tail = nodes.len().checked_sub(launched.len()).filter(|_| launched.iter().all(|l| !removed.contains(l)));
    let existing: Vec<Sym> = touched.iter().copied().filter(|t| !launched.contains(t)).collect();
    // the nodes given pods that were there before the command: none, or where `node_at` says
    let existing_at = tail.and_then(|tail| if existing.is_empty() { Some(Vec::new()) } else { at_of(nodes, &existing, tail, node_at?) });
    let at = match (tail, existing_at) {
        (Some(tail), Some(mut at)) => {
            at.extend(launched.iter().enumerate().filter(|(_, n)| touched.contains(*n)).map(|(i, _)| tail + i));
            at
        }
        // a few names: a scan of the kept names for each
        _ if touched.len() <= 8 => nodes.positions_of(&touched.iter().copied().collect::<Vec<_>>()),
        _ => {
            let got_pods = SymFilter::of(touched.iter().copied());
            nodes.positions_named(|n| got_pods.may_hold(n) && touched.contains(&n))
        }
    };
    debug_assert_eq!(at, nodes.positions_named(|n| touched.contains(&n)), "got pods at");
    at
}

/// The positions, ascending, of the nodes named `names` (unique names) among the first `len` of
/// `nodes`, from the slots `node_at` says they are in; `None` when one of them is not there (a
/// gap, another node, or a new layout of the nodes since).
fn at_of(nodes: &crate::state::NodeList, names: &[Sym], len: usize, node_at: NodeAt) -> Option<Vec<usize>> {
    let mut at = names
        .iter()
        .map(|&name| {
            let slot = node_at(name)?;
            (nodes.get_slot(slot)?.name == name).then_some(())?;
            let now = nodes.position_of_slot(slot);
            (now < len).then_some(now)
        })
        .collect::<Option<Vec<usize>>>()?;
    at.sort_unstable();
    at.dedup();
    Some(at)
}

/// A set of symbols as 1,024 bits, one per hash (a Bloom filter with one hash): a symbol it does
/// not hold is passed over with a shift and a test, where a hash map's look-up costs tens of
/// instructions; one it may hold is then looked up. `place` tests every pod of the state against
/// the few a command binds, and every node against the few that got pods.
struct SymFilter([u64; 16]);

impl SymFilter {
    fn of(syms: impl IntoIterator<Item = Sym>) -> SymFilter {
        let mut bits = [0u64; 16];
        for s in syms {
            let b = Self::bit(s);
            bits[b / 64] |= 1 << (b % 64);
        }
        SymFilter(bits)
    }

    /// The symbol's bit: the top ten bits of its hash (the interner's pointer, mixed by a multiply).
    fn bit(s: Sym) -> usize {
        use std::hash::BuildHasher;
        (std::hash::BuildHasherDefault::<labels::SymHasher>::default().hash_one(s) >> 54) as usize
    }

    /// False when `s` is certainly not in the set.
    fn may_hold(&self, s: Sym) -> bool {
        let b = Self::bit(s);
        self.0[b / 64] & (1 << (b % 64)) != 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A filter holds every symbol it was made of, and passes over most others.
    #[test]
    fn a_sym_filter_holds_its_symbols() {
        let held: Vec<Sym> = (0..12).map(|i| Sym::new(&format!("pod-{i}"))).collect();
        let f = SymFilter::of(held.iter().copied());
        assert!(held.iter().all(|s| f.may_hold(*s)));
        let others = (0..1000).filter(|i| f.may_hold(Sym::new(&format!("other-{i}")))).count();
        assert!(others < 100, "{others} of 1,000 others pass");
    }
}
