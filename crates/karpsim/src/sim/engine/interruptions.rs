//! Capacity taken away from the cluster: spot interruption notices (drawn per spot node from a rate
//! or the Spot Advisor's buckets) and outages that make offerings unavailable for a while.

use super::{Engine, Ev};
use crate::labels::{self, Sym};
use crate::sim::scenario::{Outage, SpotInterruptions};
use crate::state::TypeInfo;
use std::sync::Arc;

impl Engine<'_> {
    /// A spot node launched at `t` (its launch number `seq`) gets its interruption notice at a time
    /// drawn from the scenario's interruption rate, if that falls within the run.
    pub(super) fn schedule_spot_notice(&mut self, n: &crate::disruption::NewNode, name: Sym, seq: u64, t: f64) {
        if n.capacity_type.as_str() != labels::CAPACITY_TYPE_SPOT {
            return;
        }
        let rate = match &self.sc.settings.spot_interruptions {
            SpotInterruptions::None => 0.0,
            SpotInterruptions::Rate(r) => *r,
            SpotInterruptions::Advisor => {
                let bucket = self
                    .pristine_types
                    .get(&n.nodepool)
                    .and_then(|ts| ts.iter().find(|x| x.it.name == n.instance_type))
                    .and_then(|x| x.it.spot_interruption.as_ref())
                    .map(|b| b.index);
                advisor_rate_per_hour(bucket)
            }
        };
        if rate > 0.0 {
            let u = self.streams.uniform("spot-interruption", seq);
            let hours = -(1.0 - u).ln() / rate;
            let when = t + hours * 3600.0;
            if when < self.sc.duration {
                self.at(when, Ev::SpotNotice(name));
            }
        }
    }

    pub(super) fn spot_notice(&mut self, name: Sym) {
        if self.nodes.get(&name).is_none_or(|i| i.terminating) {
            return;
        }
        // Karpenter's interruption controller deletes the NodeClaim on the notice; the instance is
        // reclaimed two minutes later
        self.metrics.interruptions += 1;
        self.log("interruption", format!("{name}: spot interruption notice; the instance is reclaimed in 2 minutes"));
        let reclaimed = self.now() + 120.0;
        self.delete_node_until(name, "spot interruption notice", Some(reclaimed));
    }

    /// An outage starts or ends: offerings are unavailable while any outage covering them is active
    /// (like an insufficient-capacity error that lasts).
    pub(super) fn outage(&mut self, i: usize, start: bool) {
        if start {
            self.active_outages.insert(i);
        } else {
            self.active_outages.remove(&i);
        }
        let active: Vec<&Outage> = self.active_outages.iter().map(|&k| &self.sc.outages[k]).collect();
        let mut unavailable = 0;
        for (pool, types) in &self.pristine_types {
            let mut v: Vec<TypeInfo> = (**types).clone();
            for ti in &mut v {
                let covers = |o: &Outage| o.instance_type.is_none_or(|t| t == ti.it.name);
                if !active.iter().any(|o| covers(o)) {
                    continue;
                }
                let mut it = (*ti.it).clone();
                for of in &mut it.offerings {
                    let hit = active
                        .iter()
                        .filter(|o| covers(o))
                        .any(|o| o.zone.is_none_or(|z| z == of.zone) && o.capacity_type.is_none_or(|c| c == of.capacity_type));
                    if hit && of.available {
                        of.available = false;
                        unavailable += 1;
                    }
                }
                *ti = TypeInfo::new(Arc::new(it));
            }
            if let Some(pt) = self.state.pool_types.get_mut(pool) {
                pt.types = Arc::new(v);
            }
        }
        self.types_changed();
        self.version += 1;
        self.log("outage", format!("outage {i} {}; {unavailable} offering(s) unavailable now", if start { "starts" } else { "ends" }));
    }
}

/// Spot interruption rate per hour from a Spot Advisor bucket: the bucket's frequency of
/// interruption is read as the probability that an instance is interrupted within a month (30
/// days); we take the bucket's midpoint (<5% → 2.5%, 5–10% → 7.5%, …, >20% → 25%) and convert it to
/// the rate of an exponential clock, λ = −ln(1 − p) / 720 h. Types without advisor data get 10%.
pub fn advisor_rate_per_hour(bucket_index: Option<i64>) -> f64 {
    let p = match bucket_index {
        Some(0) => 0.025,
        Some(1) => 0.075,
        Some(2) => 0.125,
        Some(3) => 0.175,
        Some(_) => 0.25,
        None => 0.10,
    };
    -(1.0f64 - p).ln() / 720.0
}
