//! Reserved capacity during one scheduling run (`scheduling/reservationmanager.go`,
//! `nodeclaim.go: offeringsToReserve`; design §3.12, Karpenter v1.14.1).
//!
//! Each NodeClaim pessimistically holds one instance of every reservation it might launch into (any
//! available reserved offering of its remaining instance types that its requirements allow), so that
//! the run never promises more instances than a reservation has. In `Strict` mode (provisioning), a
//! pod that could use a reservation but finds all of it held by other NodeClaims of the run is
//! deferred to the next run, not placed on spot or on-demand capacity, and not relaxed; in
//! `Fallback` mode (disruption simulations) it may fall back.

use super::instance_filter::OfferingReqs;
use crate::catalog::OfferingReservation;
use crate::labels::{Sym, SymMap};
use crate::requirements::Requirements;
use crate::state::TypeInfo;
use std::collections::BTreeMap;

/// `ReservedOfferingMode`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ReservedMode {
    /// Provisioning: never fall back from an available reservation (`ReservedOfferingModeStrict`).
    #[default]
    Strict,
    /// Disruption simulations: spot or on-demand fallback allowed (`ReservedOfferingModeFallback`).
    Fallback,
}

/// The instances each reservation still has during a run, and which NodeClaims hold them.
#[derive(Debug, Clone, Default)]
pub struct ReservationManager {
    /// Reservation id -> instances not held. The least capacity any pool's offering reports
    /// (`NewReservationManager`: pools may have read the count at different times).
    capacity: BTreeMap<Sym, i64>,
    /// NodeClaim hostname -> reservations it holds.
    held: SymMap<Vec<Sym>>,
}

impl ReservationManager {
    /// From every pool's reservations (each reserved offering of its instance types, available or
    /// not: [`super::instance_filter::TypeClasses::reserved`]).
    pub fn new<'a>(pools: impl IntoIterator<Item = &'a [(Sym, i64)]>) -> ReservationManager {
        let mut capacity: BTreeMap<Sym, i64> = BTreeMap::new();
        for reserved in pools {
            for &(id, n) in reserved {
                capacity.entry(id).and_modify(|c| *c = (*c).min(n)).or_insert(n);
            }
        }
        ReservationManager { capacity, held: SymMap::default() }
    }

    pub fn is_empty(&self) -> bool {
        self.capacity.is_empty()
    }

    /// `CanReserve` (idempotent: a reservation this NodeClaim already holds can be reserved again).
    fn can_reserve(&self, host: Sym, id: Sym) -> bool {
        self.held.get(&host).is_some_and(|h| h.contains(&id)) || self.capacity.get(&id).is_some_and(|c| *c > 0)
    }

    /// The reservations a NodeClaim would hold with these options and requirements
    /// (`offeringsToReserve`), or why it may not take the pod in `Strict` mode.
    pub fn to_reserve(
        &self,
        host: Sym,
        types: &[TypeInfo],
        options: &[u32],
        reqs: &Requirements,
        held_now: &[Sym],
        mode: ReservedMode,
    ) -> Result<Vec<Sym>, String> {
        let offering_reqs = OfferingReqs::new(reqs);
        let mut compatible = false;
        let mut out: Vec<Sym> = Vec::new();
        for &o in options {
            for of in &types[o as usize].it.offerings {
                let Some(OfferingReservation { id, .. }) = &of.reservation else { continue };
                if !of.available || !offering_reqs.compatible(of) {
                    continue;
                }
                compatible = true;
                if self.can_reserve(host, *id) && !out.contains(id) {
                    out.push(*id);
                }
            }
        }
        if mode == ReservedMode::Strict {
            if compatible && out.is_empty() {
                return Err("its compatible reserved capacity is held by other NodeClaims of this batch; deferred to the next batch".into());
            }
            if !held_now.is_empty() && out.is_empty() {
                return Err("taking it would leave the NodeClaim none of the reserved offerings it holds".into());
            }
        }
        Ok(out)
    }

    /// `Reserve` the new holds and `Release` the ones no longer wanted (`NodeClaim.Add`).
    pub fn commit(&mut self, host: Sym, now: &[Sym]) {
        let held = self.held.entry(host).or_default();
        for id in now {
            if !held.contains(id) {
                if let Some(c) = self.capacity.get_mut(id) {
                    *c -= 1;
                }
                held.push(*id);
            }
        }
        let capacity = &mut self.capacity;
        held.retain(|id| {
            let keep = now.contains(id);
            if !keep && let Some(c) = capacity.get_mut(id) {
                *c += 1;
            }
            keep
        });
    }
}
