//! What the run measures as it goes: the cost integral (accrued at every change of the cost rate)
//! and the metric series sampled at every interval and at every launch and termination.

use super::Engine;
use crate::labels::Sym;
use std::collections::BTreeMap;

impl Engine<'_> {
    pub(super) fn accrue(&mut self) {
        let t = self.now();
        let dt_h = (t - self.last_cost_t) / 3600.0;
        self.cumulative += self.cost_rate.iter().sum::<f64>() * dt_h;
        self.last_cost_t = t;
    }

    pub(super) fn sample(&mut self) {
        self.accrue();
        let t = self.now() / 3600.0;
        let s = &mut self.metrics.series;
        s.time_h.push(t);
        s.cost_per_hour.push(self.cost_rate.iter().sum());
        s.cost_per_hour_on_demand.push(self.cost_rate[0]);
        s.cost_per_hour_spot.push(self.cost_rate[1]);
        s.cost_per_hour_reserved.push(self.cost_rate[2]);
        s.cumulative_cost.push(self.cumulative);
        s.nodes.push(self.nodes.len() as f64);
        let (mut running, mut pending, mut cpu_r, mut mem_r) = (0.0, 0.0, 0.0, 0.0);
        for p in self.state.pods.iter().filter(|p| p.is_active()) {
            if p.node_name.is_some() {
                running += 1.0;
                cpu_r += p.requests.cpu as f64 / 1000.0;
                mem_r += p.requests.memory as f64 / f64::from(1u32 << 30);
            } else if !p.is_daemonset_pod() {
                pending += 1.0;
            }
        }
        let (mut cpu_a, mut mem_a) = (0.0, 0.0);
        // counted by name as interned strings (the same string order as owned ones): a sample is
        // taken at every launch, and three new strings per node each time showed in a profile
        let mut by_pool: BTreeMap<&str, f64> = BTreeMap::new();
        let mut by_type: BTreeMap<&str, f64> = BTreeMap::new();
        let mut by_ct: BTreeMap<&str, f64> = BTreeMap::new();
        // a node count is the nodes billed now: launched (initializing or ready) and terminating
        // ones until their instance is gone, as `series.nodes`; allocatable counts only the nodes
        // that can hold pods
        for n in &self.state.nodes {
            if !self.nodes.get(&n.name).is_some_and(|i| i.terminating) {
                cpu_a += n.allocatable.cpu as f64 / 1000.0;
                mem_a += n.allocatable.memory as f64 / f64::from(1u32 << 30);
            }
            *by_pool.entry(n.nodepool.map_or("(unmanaged)", Sym::as_str)).or_default() += 1.0;
            *by_type.entry(n.instance_type.map_or("(unknown)", Sym::as_str)).or_default() += 1.0;
            *by_ct.entry(n.capacity_type.map_or("on-demand", Sym::as_str)).or_default() += 1.0;
        }
        s.pods_running.push(running);
        s.pods_pending.push(pending);
        s.cpu_requested.push(cpu_r);
        s.cpu_allocatable.push(cpu_a);
        s.memory_requested_gib.push(mem_r);
        s.memory_allocatable_gib.push(mem_a);
        for (b, m) in [
            (&mut self.metrics.nodes_by_nodepool, by_pool),
            (&mut self.metrics.nodes_by_instance_type, by_type),
            (&mut self.metrics.nodes_by_capacity_type, by_ct),
        ] {
            for (k, c) in m {
                b.time_h.push(t);
                b.key.push(k.to_string());
                b.count.push(c);
            }
        }
    }
}
