//! Metrics of a run, kept as columns (one `Vec<f64>` per series) so they hand over to numpy and
//! pandas without per-row objects. `ndarray` views are available through [`Metrics::column`].

use ndarray::ArrayView1;
use std::collections::BTreeMap;

/// Time series sampled every `metrics_interval` and whenever the node set changes.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Series {
    /// Hours since the start of the run.
    pub time_h: Vec<f64>,
    pub cost_per_hour: Vec<f64>,
    pub cost_per_hour_on_demand: Vec<f64>,
    pub cost_per_hour_spot: Vec<f64>,
    pub cost_per_hour_reserved: Vec<f64>,
    pub cumulative_cost: Vec<f64>,
    pub nodes: Vec<f64>,
    pub pods_running: Vec<f64>,
    pub pods_pending: Vec<f64>,
    pub cpu_requested: Vec<f64>,
    pub cpu_allocatable: Vec<f64>,
    pub memory_requested_gib: Vec<f64>,
    pub memory_allocatable_gib: Vec<f64>,
}

impl Series {
    pub fn names() -> &'static [&'static str] {
        &[
            "time_h", "cost_per_hour", "cost_per_hour_on_demand", "cost_per_hour_spot", "cost_per_hour_reserved", "cumulative_cost",
            "nodes", "pods_running", "pods_pending", "cpu_requested", "cpu_allocatable", "memory_requested_gib", "memory_allocatable_gib",
        ]
    }
    pub fn get(&self, name: &str) -> Option<&Vec<f64>> {
        Some(match name {
            "time_h" => &self.time_h,
            "cost_per_hour" => &self.cost_per_hour,
            "cost_per_hour_on_demand" => &self.cost_per_hour_on_demand,
            "cost_per_hour_spot" => &self.cost_per_hour_spot,
            "cost_per_hour_reserved" => &self.cost_per_hour_reserved,
            "cumulative_cost" => &self.cumulative_cost,
            "nodes" => &self.nodes,
            "pods_running" => &self.pods_running,
            "pods_pending" => &self.pods_pending,
            "cpu_requested" => &self.cpu_requested,
            "cpu_allocatable" => &self.cpu_allocatable,
            "memory_requested_gib" => &self.memory_requested_gib,
            "memory_allocatable_gib" => &self.memory_allocatable_gib,
            _ => return None,
        })
    }
    pub fn len(&self) -> usize {
        self.time_h.len()
    }

    /// The times of a regular view of a run: 0, step, 2·step, … and the end (hours).
    pub fn view_times(duration_h: f64, step_h: f64) -> Vec<f64> {
        let mut times = Vec::new();
        let mut i = 0u32;
        while step_h > 0.0 && f64::from(i) * step_h < duration_h - 1e-9 {
            times.push(f64::from(i) * step_h);
            i += 1;
        }
        times.push(duration_h);
        times
    }

    /// The sample that holds at time `t` (hours): the last one at or before it, the series being a
    /// step function (samples are in time order).
    pub fn index_at(&self, t: f64) -> usize {
        self.time_h.partition_point(|x| *x <= t + 1e-9).saturating_sub(1)
    }
    pub fn is_empty(&self) -> bool {
        self.time_h.is_empty()
    }
}

/// The proven lower bound on the hourly cost of the pods a cluster runs or waits for, sampled at
/// every metrics interval when the scenario asks for it (`settings.lower_bound`).
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct LowerBoundSeries {
    pub time_h: Vec<f64>,
    pub per_hour: Vec<f64>,
}

impl LowerBoundSeries {
    /// USD over the run: each sample holds until the next one (and the last until `end_h`).
    pub fn total(&self, end_h: f64) -> f64 {
        let n = self.time_h.len();
        (0..n).map(|i| self.per_hour[i] * ((if i + 1 < n { self.time_h[i + 1] } else { end_h }) - self.time_h[i]).max(0.0)).sum()
    }
}

/// Node counts by a category (NodePool, instance type or capacity type), in long form: one entry per
/// (sample, category) with a non-zero count.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Breakdown {
    pub time_h: Vec<f64>,
    pub key: Vec<String>,
    pub count: Vec<f64>,
}

#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Metrics {
    pub series: Series,
    pub nodes_by_nodepool: Breakdown,
    pub nodes_by_instance_type: Breakdown,
    pub nodes_by_capacity_type: Breakdown,
    /// Seconds from a pod becoming pending (created, evicted or interrupted) to being bound.
    pub pod_wait_seconds: Vec<f64>,
    /// Disruption commands executed, by method.
    pub disruptions: BTreeMap<String, u64>,
    pub evictions: u64,
    pub interruptions: u64,
    pub nodes_launched: u64,
    /// Σ over nodes of price × billed lifetime (USD), kept separately from the sampled series so it
    /// can be checked against `cumulative_cost`.
    pub node_cost_total: f64,
    /// What the capacity reservations themselves are billed over the run (USD): each reservation's
    /// instances, used or not, at the type's on-demand price (after overlays), while it lasts. The
    /// nodes launched into them cost the provider's near-zero reserved price in the series.
    pub reservation_cost: f64,
    /// Empty unless the scenario's `settings.lower_bound` is on.
    #[serde(default)]
    pub lower_bound: LowerBoundSeries,
}

impl Metrics {
    pub fn column(&self, name: &str) -> Option<ArrayView1<'_, f64>> {
        self.series.get(name).map(|v| ArrayView1::from(v.as_slice()))
    }

    /// The q-th percentile (0–100) of pod wait times, nearest-rank.
    pub fn wait_percentile(&self, q: f64) -> f64 {
        let mut v = self.pod_wait_seconds.clone();
        if v.is_empty() {
            return 0.0;
        }
        v.sort_by(f64::total_cmp);
        let rank = ((q / 100.0) * v.len() as f64).ceil().max(1.0) as usize;
        v[rank.min(v.len()) - 1]
    }

    pub fn mean(&self, name: &str) -> f64 {
        // time-weighted mean over the samples (step function)
        let (Some(t), Some(v)) = (self.series.get("time_h"), self.series.get(name)) else { return 0.0 };
        if t.len() < 2 {
            return v.first().copied().unwrap_or(0.0);
        }
        let mut acc = 0.0;
        for i in 0..t.len() - 1 {
            acc += v[i] * (t[i + 1] - t[i]);
        }
        let span = t[t.len() - 1] - t[0];
        if span > 0.0 { acc / span } else { v[0] }
    }
}
