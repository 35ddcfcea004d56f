//! What the run measures as it goes: the cost integral (accrued at every change of the cost rate)
//! and the metric series sampled at every interval and at every launch and termination.

use super::Engine;
use crate::labels::SymMap;

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
        // nodes counted per interned name (hashed by address), then put in the order of the names'
        // text: a sample is taken at every launch, and string-keyed maps per node showed in a profile
        let mut by_pool: SymMap<f64> = SymMap::default();
        let mut by_type: SymMap<f64> = SymMap::default();
        let mut by_ct: SymMap<f64> = SymMap::default();
        let (mut unmanaged, mut unknown, mut on_demand) = (0.0, 0.0, 0.0);
        // a node count is the nodes billed now: launched (initializing or ready) and terminating
        // ones until their instance is gone, as `series.nodes`; allocatable counts only the nodes
        // that can hold pods
        for n in &self.state.nodes {
            if !self.nodes.get(&n.name).is_some_and(|i| i.terminating) {
                cpu_a += n.allocatable.cpu as f64 / 1000.0;
                mem_a += n.allocatable.memory as f64 / f64::from(1u32 << 30);
            }
            match n.nodepool {
                Some(p) => *by_pool.entry(p).or_default() += 1.0,
                None => unmanaged += 1.0,
            }
            match n.instance_type {
                Some(t) => *by_type.entry(t).or_default() += 1.0,
                None => unknown += 1.0,
            }
            match n.capacity_type {
                Some(c) => *by_ct.entry(c).or_default() += 1.0,
                None => on_demand += 1.0,
            }
        }
        let by_pool = by_text(by_pool, "(unmanaged)", unmanaged);
        let by_type = by_text(by_type, "(unknown)", unknown);
        let by_ct = by_text(by_ct, "on-demand", on_demand);
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

/// Counts per name in the order of the names' text, with `missing` counted under `default` (nodes
/// without the name): what a map keyed by the text gives, a name equal to `default` included.
/// The counts are whole numbers, so merging them in any order gives the same sums.
fn by_text(counts: SymMap<f64>, default: &'static str, missing: f64) -> Vec<(&'static str, f64)> {
    let mut out: Vec<(&'static str, f64)> = counts.into_iter().map(|(k, c)| (k.as_str(), c)).collect();
    if missing > 0.0 {
        out.push((default, missing));
    }
    out.sort_by(|a, b| a.0.cmp(b.0));
    // interned names are unique, but one may spell the default
    out.dedup_by(|later, kept| {
        let same = later.0 == kept.0;
        if same {
            kept.1 += later.1;
        }
        same
    });
    out
}
