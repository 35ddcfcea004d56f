//! NodeClaim templates (`nodeclaimtemplate.go`): what a NodePool launches, its requirements and the
//! instance types they allow, shared by the prepared cluster view and the scheduler.

use super::daemons::DaemonGroup;
use super::fit_bounds::FitBounds;
use super::instance_filter;
use super::pool_limits::LimitedCapacity;
use super::price_order::PriceOrders;
use crate::labels::{self, Sym};
use crate::model::NodePool;
use crate::requirements::{Requirement, Requirements};
use crate::state::TypeInfo;

pub(crate) struct Template<'a> {
    pub pool: &'a NodePool,
    pub requirements: Requirements,
    pub types: &'a [TypeInfo],
    pub classes: std::sync::Arc<instance_filter::TypeClasses>,
    /// The types the template allows and their DaemonSet groups.
    pub parts: std::sync::Arc<TemplateParts>,
    /// Some type of the pool has a reserved offering (else reservations need no look).
    pub has_reserved: bool,
}

impl Template<'_> {
    /// The types the template's requirements allow (indices into `types`).
    pub fn options(&self) -> &[u32] {
        &self.parts.options
    }
    pub fn groups(&self) -> &[DaemonGroup] {
        &self.parts.groups
    }
    /// Each type's index in `groups`.
    pub fn group_of(&self) -> &[u32] {
        &self.parts.group_of
    }
    /// Per type, the requests that fit it with its DaemonSet overhead (computed at first use, then
    /// shared by every run over the same parts).
    pub fn fit_bounds(&self) -> &FitBounds {
        self.parts.fit_bounds.get_or_init(|| FitBounds::new(self.types, &self.parts.groups, &self.parts.group_of))
    }

    /// The options' capacities on the `resources` the pool limits (in that order), kept with the
    /// parts for the next runs when they ask about the same resources: every run whose pool has
    /// limits needs them as soon as it opens a NodeClaim, and a time simulation's runs (batches,
    /// disruption simulations) rebuilt them over the whole catalog each time.
    pub fn limited_capacity(&self, resources: &[&str]) -> std::sync::Arc<LimitedCapacity> {
        let build = || std::sync::Arc::new(LimitedCapacity::new(resources.iter().copied(), self.types, self.options()));
        let (kept_for, caps) = self.parts.limit_caps.get_or_init(|| (resources.iter().map(|r| r.to_string()).collect(), build()));
        if kept_for.iter().map(String::as_str).eq(resources.iter().copied()) {
            std::sync::Arc::clone(caps)
        } else {
            // (the same parts serve a pool whose limits name other resources: not kept)
            build()
        }
    }

    /// The price orders of the template's types, shared by every run over the same parts (see
    /// [`PriceOrders`]).
    pub fn price_orders(&self) -> std::sync::MutexGuard<'_, PriceOrders> {
        self.parts.price_orders.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// What a template derives from its pool and catalog alone: the types its requirements allow, and
/// their DaemonSet overhead groups.
pub(crate) struct TemplateParts {
    pub options: Vec<u32>,
    pub groups: Vec<DaemonGroup>,
    pub group_of: Vec<u32>,
    /// Why the pool launches nothing, when `options` is empty.
    pub unlaunchable: Option<String>,
    /// See [`Template::fit_bounds`].
    pub fit_bounds: std::sync::OnceLock<FitBounds>,
    /// See [`Template::limited_capacity`]: the limited resources it was built for, and the table.
    pub limit_caps: std::sync::OnceLock<(Vec<String>, std::sync::Arc<LimitedCapacity>)>,
    /// See [`Template::price_orders`].
    pub price_orders: std::sync::Mutex<PriceOrders>,
}

/// A template's requirements (`nodeclaimtemplate.go`): the pool's requirements and template labels,
/// its own name and node class as labels, and the simulation-only registered/initialized labels.
pub(crate) fn template_requirements(pool: &NodePool) -> Result<Requirements, String> {
    let mut r = Requirements::from_node_selector(&pool.requirements).map_err(|e| format!("NodePool {}: {e}", pool.name))?;
    r.add_all(&Requirements::from_labels(pool.labels.iter()));
    r.add(*labels::NODEPOOL, Requirement::is_in([pool.name]));
    if let Some(c) = pool.node_class {
        r.add(*labels::EC2_NODECLASS, Requirement::is_in([c]));
    }
    r.add(*labels::REGISTERED, Requirement::is_in([Sym::new("true")]));
    r.add(*labels::INITIALIZED, Requirement::is_in([Sym::new("true")]));
    Ok(r)
}
