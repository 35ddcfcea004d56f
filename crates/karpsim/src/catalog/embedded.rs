//! The AWS catalogs compiled into the library (`data/aws-<region>-instance-types.json`, attribution in
//! `data/README.md` and `data/NOTICE`) and [`CatalogSource`], the one way the rest of karpsim names a
//! catalog.
//!
//! Each region's file is parsed once, on first use, and shared; resolved catalogs are not cached
//! (they depend on the NodeClass, and resolving the full us-east-1 catalog takes milliseconds).

use super::aws::{AwsOptions, AwsRegionData, aws_catalog};
use super::custom::parse_custom_catalog;
use super::{Catalog, PricePolicy};
use crate::error::{Error, Result};
use crate::model::NodeClass;
use std::sync::{Arc, LazyLock};

type Parsed = LazyLock<Result<Arc<AwsRegionData>>>;

macro_rules! region {
    ($region:literal) => {
        LazyLock::new(|| {
            AwsRegionData::parse(
                concat!("aws:", $region),
                include_str!(concat!("../../data/aws-", $region, "-instance-types.json")),
            )
            .map(Arc::new)
        })
    };
}

static US_EAST_1: Parsed = region!("us-east-1");
static US_WEST_2: Parsed = region!("us-west-2");
static EU_WEST_1: Parsed = region!("eu-west-1");

const REGIONS: [&str; 3] = ["eu-west-1", "us-east-1", "us-west-2"];

/// The regions with an embedded catalog, sorted.
pub fn aws_regions() -> &'static [&'static str] {
    &REGIONS
}

/// The parsed embedded data of a region (parsed on first use, then shared), for [`super::aws_catalog`].
pub fn aws_region_data(region: &str) -> Result<Arc<AwsRegionData>> {
    let cell = match region {
        "us-east-1" => &US_EAST_1,
        "us-west-2" => &US_WEST_2,
        "eu-west-1" => &EU_WEST_1,
        _ => return Err(unknown_region(region)),
    };
    cell.as_ref().map(Arc::clone).map_err(Clone::clone)
}

fn unknown_region(region: &str) -> Error {
    Error::catalog(format!("aws:{region}"), format!("unknown region; known regions: {}", REGIONS.join(", ")))
}

/// Which catalog to use.
#[derive(Debug, Clone, PartialEq)]
pub enum CatalogSource {
    /// An embedded AWS region, derived per NodeClass.
    Aws { region: String, options: AwsOptions, prices: PricePolicy },
    /// A user-written catalog, used as is.
    Custom(Arc<Catalog>),
}

impl CatalogSource {
    /// `aws:<region>` (see [`aws_regions`]) or the path of a custom JSON/YAML catalog file, which is
    /// read here.
    pub fn parse(spec: &str) -> Result<CatalogSource> {
        let spec = spec.trim();
        if let Some(region) = spec.strip_prefix("aws:") {
            if !REGIONS.contains(&region) {
                return Err(unknown_region(region));
            }
            return Ok(CatalogSource::Aws {
                region: region.to_string(),
                options: AwsOptions::default(),
                prices: PricePolicy::default(),
            });
        }
        let text = std::fs::read_to_string(spec).map_err(|e| Error::Io {
            path: spec.to_string(),
            message: format!("cannot read catalog file ({e}); a catalog is aws:<region> or a file path"),
        })?;
        Ok(CatalogSource::Custom(Arc::new(parse_custom_catalog(spec, &text)?)))
    }

    /// `aws:us-east-1` with Karpenter's default options and catalog prices.
    pub fn default_aws() -> CatalogSource {
        CatalogSource::Aws {
            region: "us-east-1".to_string(),
            options: AwsOptions::default(),
            prices: PricePolicy::default(),
        }
    }

    /// The catalog for a NodeClass (`None` = an AL2023 NodeClass with default settings). A custom
    /// catalog already states capacity and overhead, so only the NodeClass's capacity reservations
    /// apply to it (as reserved offerings).
    pub fn resolve(&self, nodeclass: Option<&NodeClass>) -> Result<Arc<Catalog>> {
        match self {
            CatalogSource::Custom(c) => match nodeclass.filter(|nc| !nc.capacity_reservations.is_empty()) {
                Some(nc) => Ok(Arc::new(super::reservations::inject(c, &nc.capacity_reservations))),
                None => Ok(Arc::clone(c)),
            },
            CatalogSource::Aws { region, options, prices } => {
                let data = aws_region_data(region)?;
                let fallback = if region == "us-east-1" { None } else { Some(aws_region_data("us-east-1")?) };
                let default_nc;
                let nc = match nodeclass {
                    Some(nc) => nc,
                    None => {
                        default_nc = NodeClass::default();
                        &default_nc
                    }
                };
                aws_catalog(&data, fallback.as_deref(), nc, options, prices).map(Arc::new)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_embedded_region_parses() {
        for r in aws_regions() {
            let d = aws_region_data(r).unwrap();
            assert!(d.len() > 1000, "{r}");
            assert_eq!(d.region().as_str(), *r);
        }
    }

    #[test]
    fn unknown_region_names_the_known_ones() {
        let e = CatalogSource::parse("aws:mars-north-1").unwrap_err();
        let msg = e.to_string();
        assert!(msg.contains("mars-north-1") && msg.contains("us-east-1") && msg.contains("eu-west-1"), "{msg}");
        assert!(matches!(CatalogSource::parse("/nonexistent/catalog.yaml"), Err(Error::Io { .. })));
    }
}
