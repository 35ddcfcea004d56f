//! Catalog options shared by the commands: which catalog, and price changes (a savings plan, your
//! own spot figures) made without editing any file.

use clap::Args;
use karpsim::catalog::CatalogSource;
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
