//! Committed capacity over simulated time: static NodePools held at their replicas, and capacity
//! reservations as the AWS provider keeps them.
//!
//! Static NodePools: the static provisioning controller launches what a pool lacks at the start,
//! whenever one of its NodeClaims starts being deleted, and on its periodic requeue
//! (`static/provisioning/controller.go`).
//!
//! Reservations:
//!
//! * a launch into a reservation takes one of its instances and an instance that is gone gives it
//!   back (`capacityreservation/types.go: availabilityCache.MarkLaunched`, `MarkTerminated`); a
//!   reservation with none left has an unavailable offering, so provisioning falls back;
//! * 40 minutes before a capacity block ends it is `expiring`: no more launches, and its nodes are
//!   deleted (`controllers/capacityreservation/expiration`);
//! * when an On-Demand Capacity Reservation ends its instances keep running as on-demand ones: their
//!   nodes are relabelled `on-demand` and billed at the on-demand price
//!   (`controllers/capacityreservation/capacitytype`).

use super::{Engine, Ev, ct_index};
use crate::labels::{self, Sym};
use crate::model::ReservationType;
use crate::state::update_reservation;

impl Engine<'_> {
    /// Start billing the reservations themselves ([`crate::state::ClusterState::reservation_fees`])
    /// as a reserved cost rate, until they end (`Ev::ReservationFeeEnds`) or the run does. The nodes
    /// launched into them add only the provider's near-zero reserved price.
    pub(super) fn start_reservation_fees(&mut self) {
        let (fees, warnings) = self.state.reservation_fees();
        self.state.warnings.extend(warnings);
        for (id, rate) in fees {
            self.accrue();
            self.cost_rate[ct_index(Sym::new(labels::CAPACITY_TYPE_RESERVED))] += rate;
            self.fees.insert(id, (rate, self.now()));
            if let Some(end) = self.state.reservation(id).and_then(|r| r.end_time) {
                self.at(((end - self.sc.start) as f64).max(0.0), Ev::ReservationFeeEnds(id));
            }
        }
    }

    /// A reservation's fee stops (its end, or the end of the run with `id = None` for all).
    pub(super) fn end_reservation_fees(&mut self, id: Option<Sym>) {
        let ids: Vec<Sym> = self.fees.keys().copied().filter(|k| id.is_none_or(|i| i == *k)).collect();
        for k in ids {
            let Some((rate, from)) = self.fees.remove(&k) else { continue };
            self.accrue();
            self.cost_rate[ct_index(Sym::new(labels::CAPACITY_TYPE_RESERVED))] -= rate;
            let cost = rate * (self.now() - from) / 3600.0;
            self.metrics.node_cost_total += cost;
            self.metrics.reservation_cost += cost;
        }
    }

    /// Queue each reservation's end within the run.
    pub(super) fn schedule_reservation_ends(&mut self) {
        let ends: Vec<(Sym, Option<i64>)> = self
            .state
            .reservations()
            .into_values()
            .map(|r| {
                (r.id, match r.reservation_type {
                    ReservationType::CapacityBlock => r.reclaimed_at(),
                    ReservationType::Default => r.end_time,
                })
            })
            .collect();
        for (id, at) in ends {
            if let Some(at) = at {
                let t = (at - self.sc.start) as f64;
                if t <= self.sc.duration {
                    self.at(t.max(0.0), Ev::ReservationEnds(id));
                }
            }
        }
    }

    /// A reservation gains (`delta` +1) or loses (−1) an instance, or stops launching (`ended`):
    /// in the state and in the offerings outages are applied over.
    pub(super) fn change_reservation(&mut self, id: Sym, delta: i64, ended: bool) {
        self.state.change_reservation(id, delta, ended);
        self.types_changed();
        for types in self.pristine_types.values_mut() {
            if let Some(t) = update_reservation(types, id, delta, ended) {
                *types = t;
            }
        }
        self.version += 1;
    }

    /// The reservation a node was launched into, from its label.
    pub(super) fn node_reservation(&self, name: Sym) -> Option<Sym> {
        self.state.nodes.iter().find(|n| n.name == name).and_then(|n| n.labels.get(&*labels::RESERVATION_ID).copied())
    }

    pub(super) fn reservation_ends(&mut self, id: Sym) {
        let Some(kind) = self.state.reservation(id).map(|r| r.reservation_type) else { return };
        self.change_reservation(id, 0, true);
        let nodes: Vec<Sym> = self
            .state
            .nodes
            .iter()
            .filter(|n| n.labels.get(&*labels::RESERVATION_ID) == Some(&id) && n.deletion_timestamp.is_none())
            .map(|n| n.name)
            .collect();
        match kind {
            ReservationType::CapacityBlock => {
                self.log(
                    "reservation",
                    format!("capacity block {id} is reclaimed in 40 minutes: no more launches, {} node(s) deleted", nodes.len()),
                );
                for n in nodes {
                    self.delete_node(n, &format!("capacity block {id} expiring"));
                }
            }
            ReservationType::Default => {
                self.log("reservation", format!("capacity reservation {id} ends: {} node(s) now on-demand", nodes.len()));
                for n in nodes {
                    self.demote(n);
                }
            }
        }
    }

    /// A reserved node whose reservation ended: on-demand from now on, at its on-demand price.
    fn demote(&mut self, name: Sym) {
        let on_demand = Sym::new(labels::CAPACITY_TYPE_ON_DEMAND);
        let Some(node) = self.state.nodes.iter_mut().find(|n| n.name == name) else { return };
        node.capacity_type = Some(on_demand);
        node.labels.insert(*labels::CAPACITY_TYPE, on_demand);
        for k in [*labels::RESERVATION_ID, *labels::RESERVATION_TYPE, *labels::RESERVATION_INTERRUPTIBLE] {
            node.labels.remove(&k);
        }
        let (pool, it, zone) = (node.nodepool, node.instance_type, node.zone);
        let price = pool
            .and_then(|p| self.pristine_types.get(&p))
            .and_then(|ts| ts.iter().find(|t| Some(t.it.name) == it))
            .and_then(|t| t.it.offerings.iter().find(|o| Some(o.zone) == zone && o.capacity_type == on_demand))
            .map_or(0.0, |o| o.price);
        node.price = Some(price);
        self.node_changed(name);
        self.accrue();
        if let Some(info) = self.nodes.get_mut(&name) {
            self.cost_rate[ct_index(info.capacity_type)] -= info.price;
            self.metrics.node_cost_total += info.price * (self.now_ms as f64 / 1000.0 - info.billed_from) / 3600.0;
            info.capacity_type = on_demand;
            info.price = price;
            info.billed_from = self.now_ms as f64 / 1000.0;
            self.cost_rate[ct_index(on_demand)] += price;
        }
        self.version += 1;
    }

    /// Launch what static NodePools lack (`static/provisioning/controller.go: Reconcile`).
    pub(super) fn static_provision(&mut self) {
        if !self.state.nodepools.iter().any(|p| p.replicas.is_some()) {
            return;
        }
        let policy = self.opts.provisioning.launch_policy;
        let nodes: Vec<crate::disruption::NewNode> =
            crate::scheduling::static_pools::missing_claims(&self.state, &self.opts.provisioning, &mut Vec::new())
                .iter()
                .filter_map(|c| crate::disruption::Replacement::launch(c, policy).map(|r| crate::disruption::NewNode::from_claim(c, &r)))
                .collect();
        for n in nodes {
            if self.launch(&n).is_some() {
                self.log("static", format!("static NodePool {}: launched {} to keep its replicas", n.nodepool, n.instance_type));
            }
        }
    }
}
