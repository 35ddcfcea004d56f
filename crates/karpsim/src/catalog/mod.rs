//! Instance types and offerings (interim definition; the full catalog module replaces this file).
use crate::labels::Sym;
use crate::resources::Resources;
use std::sync::Arc;

#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct Overhead {
    pub kube_reserved: Resources,
    pub system_reserved: Resources,
    pub eviction_threshold: Resources,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct SpotInterruption {
    pub index: u8,
    pub label: String,
    pub max_percent: u8,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub enum PriceSource {
    Catalog,
    SpotFeed,
    SpotAdvisorEstimate,
    SpotColdStartOnDemand,
    UsEast1Fallback,
    Override,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Offering {
    pub zone: Sym,
    pub zone_id: Option<Sym>,
    pub capacity_type: Sym,
    pub price: f64,
    pub available: bool,
    pub price_source: PriceSource,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct InstanceType {
    pub name: Sym,
    pub labels: Vec<(Sym, Option<Sym>)>,
    pub capacity: Resources,
    pub overhead: Overhead,
    pub allocatable: Resources,
    pub offerings: Vec<Offering>,
    pub spot_interruption: Option<SpotInterruption>,
    pub spot_savings_percent: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Catalog {
    pub name: String,
    pub region: Option<Sym>,
    pub instance_types: Vec<Arc<InstanceType>>,
    pub warnings: Vec<String>,
}
