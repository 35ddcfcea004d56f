//! Catalog options shared by the commands: which catalog, price changes (a savings plan, your own
//! spot figures) made without editing any file, and capacity reservations with their counts.

use clap::Args;
use karpsim::catalog::CatalogSource;
use karpsim::io::{Inputs, ReservationSpec, parse_reservation_option, parse_reservations_file};
use karpsim::state::ClusterState;
use std::path::PathBuf;
use karpsim::{Error, Result};

#[derive(Debug, Clone, Args)]
pub struct CatalogOpts {
    /// Catalog: aws:REGION (embedded: us-east-1, us-west-2, eu-west-1) or a custom JSON/YAML file [default: aws:us-east-1].
    #[arg(long, value_name = "aws:REGION|PATH")]
    pub catalog: Option<String>,
    /// Multiply every on-demand price, e.g. 0.72 for a savings plan (AWS catalogs).
    #[arg(long, value_name = "X")]
    pub on_demand_multiplier: Option<f64>,
    /// Multiply every spot price (AWS catalogs).
    #[arg(long, value_name = "X")]
    pub spot_multiplier: Option<f64>,
    /// Spot price = on-demand list price × (1 − X), instead of the Spot Advisor estimate (AWS catalogs).
    #[arg(long, value_name = "X")]
    pub spot_discount: Option<f64>,
    /// An explicit price: TYPE_OR_FAMILY:CAPACITY_TYPE=USD_PER_HOUR, e.g. m5.large:spot=0.04 or m7g:on-demand=0.07 (repeatable).
    #[arg(long = "price", value_name = "NAME:CAPACITY=PRICE")]
    pub prices: Vec<String>,
    /// Fraction of memory Karpenter assumes the hypervisor takes (VM_MEMORY_OVERHEAD_PERCENT, default 0.075).
    #[arg(long, value_name = "FRACTION")]
    pub vm_memory_overhead_percent: Option<f64>,
    /// A capacity reservation and the instances it can still launch: id=cr-…,count=N, plus
    /// instance-type=…,zone=…[,type=default|capacity-block,end=RFC3339,interruptible=true] when no
    /// EC2NodeClass status describes it (repeatable).
    #[arg(long = "reservation", value_name = "id=cr-…,count=N,…")]
    pub reservations: Vec<String>,
    /// A YAML/JSON file of capacity reservations: `reservations: [{id, count, instance_type, zone, type, end}]`.
    #[arg(long = "reservations", value_name = "FILE")]
    pub reservations_file: Option<std::path::PathBuf>,
}

fn bad(option: &str, message: impl Into<String>) -> Error {
    Error::Option { option: option.to_string(), message: message.into() }
}

/// The catalog when `--catalog` is not given.
pub const DEFAULT_CATALOG: &str = "aws:us-east-1";

impl CatalogOpts {
    /// Whether any catalog option was given (a scenario names its own catalog, so `compare` with a
    /// scenario refuses them).
    pub fn is_set(&self) -> bool {
        self.catalog.is_some() || self.changes_prices()
    }

    /// Whether `--reservation` or `--reservations` was given.
    pub fn has_reservations(&self) -> bool {
        !self.reservations.is_empty() || self.reservations_file.is_some()
    }

    /// The capacity reservations of `--reservation` and `--reservations FILE`.
    pub fn reservation_specs(&self) -> Result<Vec<ReservationSpec>> {
        let mut out = Vec::new();
        if let Some(path) = &self.reservations_file {
            let text = std::fs::read_to_string(path).map_err(|e| Error::Io { path: path.display().to_string(), message: e.to_string() })?;
            out.extend(parse_reservations_file(&path.display().to_string(), &text)?);
        }
        for r in &self.reservations {
            out.push(parse_reservation_option(r)?);
        }
        Ok(out)
    }

    /// The cluster `files` describe, with these options' reservations, on `source` (parsed by the
    /// caller first, so a typo in --catalog does not wait for the inputs to load).
    pub fn load_state(&self, files: &[PathBuf], source: &CatalogSource, limits: karpsim::WorkLimits) -> Result<ClusterState> {
        let mut inputs = Inputs::with_limits(limits);
        for f in files {
            inputs.load_path(f)?;
        }
        inputs.add_reservations(self.reservation_specs()?)?;
        ClusterState::from_inputs(inputs.finish()?, source)
    }

    fn changes_prices(&self) -> bool {
        self.on_demand_multiplier.is_some() || self.spot_multiplier.is_some() || self.spot_discount.is_some() || !self.prices.is_empty() || self.vm_memory_overhead_percent.is_some()
    }

    /// The catalog with the requested changes, validated.
    pub fn source(&self) -> Result<CatalogSource> {
        let mut source = CatalogSource::parse(self.catalog.as_deref().unwrap_or(DEFAULT_CATALOG))?;
        if !self.changes_prices() {
            return Ok(source);
        }
        let CatalogSource::Aws { options, prices, .. } = &mut source else {
            return Err(bad("--catalog", "price and memory-overhead options apply to aws:REGION catalogs; write prices into a custom catalog instead"));
        };
        if let Some(x) = self.on_demand_multiplier {
            prices.on_demand_multiplier = x;
        }
        if let Some(x) = self.spot_multiplier {
            prices.spot_multiplier = x;
        }
        prices.spot_discount = self.spot_discount.or(prices.spot_discount);
        for p in &self.prices {
            prices.set_price_assignment(p).map_err(|e| match e {
                Error::Option { message, .. } => bad("--price", message),
                other => other,
            })?;
        }
        if let Some(x) = self.vm_memory_overhead_percent {
            options.vm_memory_overhead_percent = x;
        }
        prices.validate()?;
        options.validate()?;
        Ok(source)
    }
}
