//! User price assumptions layered over the catalog's prices, so that a study can model a savings plan,
//! a spot discount or negotiated prices without editing data files.

use crate::error::{Error, Result};
use std::collections::BTreeMap;

/// How to adjust catalog prices. `Default` changes nothing.
///
/// Order of application for one type: list on-demand price → spot price (feed, advisor estimate,
/// `spot_discount` or cold start) → multipliers → explicit overrides (by type, else by family), which
/// are final.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PricePolicy {
    /// Multiplies every on-demand price (e.g. 0.72 for a savings plan). Spot estimates still derive
    /// from the list price.
    pub on_demand_multiplier: f64,
    /// Multiplies every spot price after it is determined.
    pub spot_multiplier: f64,
    /// A fixed spot discount fraction in [0, 1]: where the data has no spot feed price, spot =
    /// on-demand list price × (1 − discount), replacing the advisor estimate and the cold-start rule
    /// (price source [`super::PriceSource::Override`]).
    pub spot_discount: Option<f64>,
    /// Explicit prices for named instance types (`m5.large`).
    pub by_type: BTreeMap<String, CapacityPrices>,
    /// Explicit prices for whole families (`m5`); a `by_type` entry wins.
    pub by_family: BTreeMap<String, CapacityPrices>,
}

/// Explicit hourly prices per capacity type; absent = keep the derived price. An explicit price also
/// makes an otherwise unpriced offering available (as a NodeOverlay price would).
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CapacityPrices {
    pub on_demand: Option<f64>,
    pub spot: Option<f64>,
}

impl Default for PricePolicy {
    fn default() -> Self {
        PricePolicy {
            on_demand_multiplier: 1.0,
            spot_multiplier: 1.0,
            spot_discount: None,
            by_type: BTreeMap::new(),
            by_family: BTreeMap::new(),
        }
    }
}

fn bad(option: &str, message: String) -> Error {
    Error::Option { option: option.to_string(), message }
}

fn check_non_negative(option: &str, v: f64) -> Result<()> {
    if v.is_finite() && v >= 0.0 { Ok(()) } else { Err(bad(option, format!("must be a finite number >= 0, got {v}"))) }
}

impl PricePolicy {
    /// Reject negative, infinite or NaN multipliers and prices, and discounts outside [0, 1].
    pub fn validate(&self) -> Result<()> {
        check_non_negative("prices.on_demand_multiplier", self.on_demand_multiplier)?;
        check_non_negative("prices.spot_multiplier", self.spot_multiplier)?;
        if let Some(d) = self.spot_discount
            && !(d.is_finite() && (0.0..=1.0).contains(&d))
        {
            return Err(bad("prices.spot_discount", format!("must be a fraction in [0, 1], got {d}")));
        }
        for (kind, map) in [("by_type", &self.by_type), ("by_family", &self.by_family)] {
            for (name, p) in map {
                if name.is_empty() {
                    return Err(bad(&format!("prices.{kind}"), "empty instance type or family name".into()));
                }
                if let Some(v) = p.on_demand {
                    check_non_negative(&format!("prices.{kind}.{name}.on_demand"), v)?;
                }
                if let Some(v) = p.spot {
                    check_non_negative(&format!("prices.{kind}.{name}.spot"), v)?;
                }
            }
        }
        Ok(())
    }

    /// Set an explicit price from `NAME:CAPACITY` (`m5.large:spot`, `m7g:on-demand`): a name
    /// with a dot is an instance type, otherwise a family. The one parser of this form, for the
    /// CLI's `--price`, the `price` what-if key and Python's `{"m5.large:spot": 0.04}`.
    pub fn set_price(&mut self, target: &str, usd: f64) -> Result<()> {
        let (name, ct) = target
            .split_once(':')
            .filter(|(n, _)| !n.is_empty())
            .ok_or_else(|| bad("price", format!("expected NAME:CAPACITY (m5.large:spot, m7g:on-demand), got {target:?}")))?;
        check_non_negative(&format!("price {target}"), usd)?;
        let map = if name.contains('.') { &mut self.by_type } else { &mut self.by_family };
        let entry = map.entry(name.to_string()).or_default();
        match ct {
            "on-demand" => entry.on_demand = Some(usd),
            "spot" => entry.spot = Some(usd),
            other => return Err(bad("price", format!("capacity type must be on-demand or spot, got {other:?} in {target:?}"))),
        }
        Ok(())
    }

    /// Set an explicit price from `NAME:CAPACITY=USD_PER_HOUR` (see [`PricePolicy::set_price`]).
    pub fn set_price_assignment(&mut self, spec: &str) -> Result<()> {
        let form = || bad("price", format!("expected NAME:CAPACITY=PRICE (m5.large:spot=0.04, m7g:on-demand=0.07), got {spec:?}"));
        let (target, price) = spec.split_once('=').filter(|(t, _)| t.contains(':')).ok_or_else(form)?;
        let usd: f64 = price.trim().parse().map_err(|_| bad("price", format!("{price:?} is not a number (in {spec:?})")))?;
        self.set_price(target.trim(), usd)
    }

    /// The explicit prices for a type: its own entry, else its family's.
    pub fn explicit(&self, type_name: &str, family: &str) -> Option<&CapacityPrices> {
        self.by_type.get(type_name).or_else(|| self.by_family.get(family))
    }

    /// True when the policy changes nothing.
    pub fn is_default(&self) -> bool {
        *self == PricePolicy::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validation_names_the_bad_option() {
        assert!(PricePolicy::default().validate().is_ok());
        let p = PricePolicy { on_demand_multiplier: -0.1, ..Default::default() };
        assert!(p.validate().unwrap_err().to_string().contains("on_demand_multiplier"));
        let p = PricePolicy { spot_multiplier: f64::NAN, ..Default::default() };
        assert!(p.validate().unwrap_err().to_string().contains("spot_multiplier"));
        let p = PricePolicy { spot_discount: Some(1.5), ..Default::default() };
        assert!(p.validate().unwrap_err().to_string().contains("spot_discount"));
        let mut p = PricePolicy::default();
        p.by_type.insert("m5.large".into(), CapacityPrices { on_demand: Some(-1.0), spot: None });
        assert!(p.validate().unwrap_err().to_string().contains("m5.large.on_demand"));
        let mut p = PricePolicy::default();
        p.by_family.insert("m5".into(), CapacityPrices { on_demand: None, spot: Some(f64::INFINITY) });
        assert!(p.validate().unwrap_err().to_string().contains("by_family.m5.spot"));
    }

    #[test]
    fn price_assignments_name_a_type_or_a_family() {
        let mut p = PricePolicy::default();
        p.set_price_assignment("m5.large:spot=0.04").unwrap();
        p.set_price_assignment("m7g:on-demand=0.07").unwrap();
        p.set_price("m5.large:on-demand", 0.09).unwrap();
        assert_eq!(p.by_type["m5.large"], CapacityPrices { on_demand: Some(0.09), spot: Some(0.04) });
        assert_eq!(p.by_family["m7g"].on_demand, Some(0.07));
        for bad in ["m5.large=0.04", "m5.large:reserved=1", ":spot=1", "m5:spot=cheap", "m5:spot=-1"] {
            assert!(p.set_price_assignment(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn type_entry_wins_over_family() {
        let mut p = PricePolicy::default();
        p.by_family.insert("m5".into(), CapacityPrices { on_demand: Some(1.0), spot: None });
        p.by_type.insert("m5.large".into(), CapacityPrices { on_demand: Some(2.0), spot: None });
        assert_eq!(p.explicit("m5.large", "m5").and_then(|c| c.on_demand), Some(2.0));
        assert_eq!(p.explicit("m5.xlarge", "m5").and_then(|c| c.on_demand), Some(1.0));
        assert!(p.explicit("c5.large", "c5").is_none());
    }
}
