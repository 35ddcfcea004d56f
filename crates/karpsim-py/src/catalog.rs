//! `karpsim.Catalog`: an instance-type catalog (an embedded AWS region or a custom file), immutable.

use crate::convert::{from_value, node_selector, to_value};
use crate::detach::run_detached;
use crate::errors::{CatalogError, input_error, to_py};
use karpsim::catalog::{
    AwsOptions, CapacityPrices, Catalog, CatalogSource, PricePolicy, parse_custom_catalog,
};
use karpsim::labels::{ARCH, Sym};
use karpsim::requirements::Requirements;
use karpsim::state::TypeInfo;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyTuple};
use serde_json::{Value, json};
use std::sync::Arc;

/// An instance-type catalog. Immutable: `filter` and `with_prices` return new catalogs.
#[pyclass(frozen, name = "Catalog", module = "karpsim")]
pub struct PyCatalog {
    /// What the catalog was built from (an AWS source is re-derived per NodeClass by `Cluster`).
    pub source: CatalogSource,
    /// Node-selector requirements the types must satisfy, as given (JSON) and parsed.
    pub filter: Option<(Value, Requirements)>,
    /// The types for a default NodeClass, after the filter.
    pub resolved: Arc<Catalog>,
}

fn apply_filter(catalog: Arc<Catalog>, filter: &Option<(Value, Requirements)>) -> Arc<Catalog> {
    let Some((_, reqs)) = filter else {
        return catalog;
    };
    let mut c = (*catalog).clone();
    c.instance_types.retain(|it| {
        TypeInfo::new(Arc::clone(it))
            .requirements
            .intersects(reqs)
            .is_ok()
    });
    Arc::new(c)
}

impl PyCatalog {
    fn build(
        py: Python<'_>,
        source: CatalogSource,
        filter: Option<(Value, Requirements)>,
    ) -> PyResult<PyCatalog> {
        let src = source.clone();
        let base = run_detached(py, move || src.resolve(None))?;
        Ok(PyCatalog {
            resolved: apply_filter(base, &filter),
            source,
            filter,
        })
    }

    /// Whether the types pass the filter (for `Cluster`, which derives per-NodeClass types itself).
    pub fn keeps(&self, ti: &TypeInfo) -> bool {
        self.filter
            .as_ref()
            .is_none_or(|(_, r)| ti.requirements.intersects(r).is_ok())
    }

    /// JSON of everything needed to rebuild this catalog (the pickle state).
    fn state(&self) -> PyResult<Value> {
        let filter = self
            .filter
            .as_ref()
            .map(|(v, _)| v.clone())
            .unwrap_or(Value::Null);
        let ser =
            |e: serde_json::Error| CatalogError::new_err(format!("cannot serialise catalog: {e}"));
        Ok(match &self.source {
            CatalogSource::Aws {
                region,
                options,
                prices,
            } => json!({
                "aws": {"region": region, "options": serde_json::to_value(options).map_err(ser)?,
                        "prices": serde_json::to_value(prices).map_err(ser)?},
                "filter": filter,
            }),
            CatalogSource::Custom(c) => {
                json!({"custom": serde_json::to_value(&**c).map_err(ser)?, "filter": filter})
            }
        })
    }
}

fn price_policy(
    on_demand_multiplier: f64,
    spot_multiplier: f64,
    spot_discount: Option<f64>,
    prices: Option<&Bound<'_, PyAny>>,
) -> PyResult<PricePolicy> {
    let mut p = PricePolicy {
        on_demand_multiplier,
        spot_multiplier,
        spot_discount,
        ..Default::default()
    };
    if let Some(prices) = prices.filter(|p| !p.is_none()) {
        // {"m5.large": {"on_demand": 0.08, "spot": 0.03}, "c5": {...}}: a name with a dot is a type,
        // otherwise a family.
        let v = to_value(prices, "prices")?;
        let obj = v.as_object().ok_or_else(|| {
            input_error(
                "prices",
                "expected a dict {type or family: {on_demand, spot}}",
            )
        })?;
        for (name, entry) in obj {
            let cp: CapacityPrices = serde_json::from_value(entry.clone()).map_err(|e| {
                input_error(
                    &format!("prices.{name}"),
                    format!("{e} (expected {{\"on_demand\": float, \"spot\": float}})"),
                )
            })?;
            if name.contains('.') {
                p.by_type.insert(name.clone(), cp)
            } else {
                p.by_family.insert(name.clone(), cp)
            };
        }
    }
    p.validate().map_err(to_py)?;
    Ok(p)
}

#[pymethods]
impl PyCatalog {
    /// The embedded AWS catalog of a region, as Karpenter's AWS provider derives it.
    ///
    /// `prices` maps an instance type (`"m5.large"`) or family (`"m5"`) to explicit hourly prices
    /// `{"on_demand": float, "spot": float}`; multipliers model e.g. a savings plan.
    #[staticmethod]
    #[pyo3(signature = (region="us-east-1", *, vm_memory_overhead_percent=0.075, on_demand_multiplier=1.0, spot_multiplier=1.0, spot_discount=None, prices=None))]
    fn aws(
        py: Python<'_>,
        region: &str,
        vm_memory_overhead_percent: f64,
        on_demand_multiplier: f64,
        spot_multiplier: f64,
        spot_discount: Option<f64>,
        prices: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<PyCatalog> {
        let prices = price_policy(on_demand_multiplier, spot_multiplier, spot_discount, prices)?;
        let options = AwsOptions {
            vm_memory_overhead_percent,
            ..Default::default()
        };
        options.validate().map_err(to_py)?;
        let region = region.strip_prefix("aws:").unwrap_or(region);
        karpsim::catalog::aws_region_data(region).map_err(to_py)?;
        PyCatalog::build(
            py,
            CatalogSource::Aws {
                region: region.to_string(),
                options,
                prices,
            },
            None,
        )
    }

    /// A custom catalog (JSON or YAML, karpsim's custom catalog format) from a file path or the text itself.
    #[staticmethod]
    fn from_json(py: Python<'_>, path_or_text: &Bound<'_, PyAny>) -> PyResult<PyCatalog> {
        let (name, text) = if let Ok(s) = path_or_text.extract::<String>() {
            if s.trim_start().starts_with('{') || s.contains('\n') {
                ("<string>".to_string(), s)
            } else {
                let text = std::fs::read_to_string(&s).map_err(|e| {
                    to_py(karpsim::Error::Io {
                        path: s.clone(),
                        message: e.to_string(),
                    })
                })?;
                (s, text)
            }
        } else {
            let p: std::path::PathBuf = path_or_text.extract()?;
            let name = p.display().to_string();
            let text = std::fs::read_to_string(&p).map_err(|e| {
                to_py(karpsim::Error::Io {
                    path: name.clone(),
                    message: e.to_string(),
                })
            })?;
            (name, text)
        };
        let catalog = run_detached(py, move || parse_custom_catalog(&name, &text))?;
        PyCatalog::build(py, CatalogSource::Custom(Arc::new(catalog)), None)
    }

    /// A custom catalog from a pandas DataFrame, one row per instance type. Columns: `name` (or the
    /// index), `cpu` (cores), `memory` (bytes, or a quantity string such as `"8Gi"`), optional `pods`,
    /// `gpus`, `on_demand_price` (or `price`) and `spot_price` (USD/hour; NaN or missing means no
    /// offering of that capacity type), `zones` (comma-separated or a list; default `zone-a`),
    /// `arch` (default `amd64`), `family`, `overhead_cpu`/`overhead_memory` (or
    /// `allocatable_cpu`/`allocatable_memory`, giving the overhead as the difference), and any
    /// `label:<key>` column as a node label. `Catalog.aws().to_pandas()` round-trips.
    #[staticmethod]
    #[pyo3(signature = (df, *, name="<pandas>", region=None))]
    fn from_pandas(
        py: Python<'_>,
        df: &Bound<'_, PyAny>,
        name: &str,
        region: Option<&str>,
    ) -> PyResult<PyCatalog> {
        let text: String = py
            .import("karpsim._frames")?
            .call_method1("catalog_json_from_pandas", (df, region))
            .map_err(|e| input_error("df", e.value(py).to_string()))?
            .extract()?;
        let name = name.to_string();
        let catalog = run_detached(py, move || parse_custom_catalog(&name, &text))?;
        PyCatalog::build(py, CatalogSource::Custom(Arc::new(catalog)), None)
    }

    /// Rebuild a catalog from `__reduce__`'s state (JSON bytes).
    #[staticmethod]
    fn _from_state(py: Python<'_>, state: &[u8]) -> PyResult<PyCatalog> {
        let bad = |e: String| CatalogError::new_err(format!("cannot restore catalog: {e}"));
        let v: Value = serde_json::from_slice(state).map_err(|e| bad(e.to_string()))?;
        let filter = match v.get("filter") {
            None | Some(Value::Null) => None,
            Some(f) => Some((f.clone(), node_selector(f)?.1)),
        };
        let source = if let Some(a) = v.get("aws") {
            CatalogSource::Aws {
                region: a["region"]
                    .as_str()
                    .ok_or_else(|| bad("region".into()))?
                    .to_string(),
                options: serde_json::from_value(a["options"].clone())
                    .map_err(|e| bad(e.to_string()))?,
                prices: serde_json::from_value(a["prices"].clone())
                    .map_err(|e| bad(e.to_string()))?,
            }
        } else if let Some(c) = v.get("custom") {
            CatalogSource::Custom(Arc::new(
                serde_json::from_value(c.clone()).map_err(|e| bad(e.to_string()))?,
            ))
        } else {
            return Err(bad("neither aws nor custom".into()));
        };
        PyCatalog::build(py, source, filter)
    }

    fn __reduce__<'py>(slf: &Bound<'py, Self>) -> PyResult<Bound<'py, PyTuple>> {
        crate::convert::reduce_with::<PyCatalog>(slf.py(), "_from_state", &slf.get().state()?.to_string())
    }

    /// `aws:<region>` or the custom catalog's file name.
    #[getter]
    fn name(&self) -> String {
        self.resolved.name.clone()
    }

    /// The region, if the catalog has one.
    #[getter]
    fn region(&self) -> Option<String> {
        self.resolved.region.map(|r| r.to_string())
    }

    /// Assumptions and data gaps worth knowing (one line each).
    #[getter]
    fn warnings(&self) -> Vec<String> {
        self.resolved.warnings.clone()
    }

    fn __len__(&self) -> usize {
        self.resolved.instance_types.len()
    }

    fn __contains__(&self, name: &str) -> bool {
        self.resolved.get(name).is_some()
    }

    fn __repr__(&self) -> String {
        let filtered = if self.filter.is_some() {
            ", filtered"
        } else {
            ""
        };
        format!(
            "<karpsim.Catalog {} ({} instance types{filtered})>",
            self.resolved.name,
            self.resolved.instance_types.len()
        )
    }

    /// Instance-type names, sorted.
    fn instance_types(&self) -> Vec<String> {
        self.resolved
            .instance_types
            .iter()
            .map(|t| t.name.to_string())
            .collect()
    }

    /// A new catalog with only the types compatible with node-selector requirements
    /// `[{"key": ..., "operator": "In", "values": [...]}]` (as in a NodePool). Filters accumulate.
    fn filter(&self, py: Python<'_>, requirements: &Bound<'_, PyAny>) -> PyResult<PyCatalog> {
        let v = to_value(requirements, "requirements")?;
        node_selector(&v)?;
        let combined = match &self.filter {
            Some((Value::Array(old), _)) => Value::Array(
                old.iter()
                    .chain(v.as_array().into_iter().flatten())
                    .cloned()
                    .collect(),
            ),
            _ => v,
        };
        let reqs = node_selector(&combined)?.1;
        PyCatalog::build(py, self.source.clone(), Some((combined, reqs)))
    }

    /// A new AWS catalog with other price assumptions (same arguments as `Catalog.aws`; they replace
    /// the current ones). Custom catalogs state their own prices and raise `CatalogError`.
    #[pyo3(signature = (*, on_demand_multiplier=1.0, spot_multiplier=1.0, spot_discount=None, prices=None))]
    fn with_prices(
        &self,
        py: Python<'_>,
        on_demand_multiplier: f64,
        spot_multiplier: f64,
        spot_discount: Option<f64>,
        prices: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<PyCatalog> {
        let CatalogSource::Aws {
            region, options, ..
        } = &self.source
        else {
            return Err(CatalogError::new_err(format!(
                "catalog {}: with_prices applies to AWS catalogs; a custom catalog states its prices in its file",
                self.resolved.name
            )));
        };
        let prices = price_policy(on_demand_multiplier, spot_multiplier, spot_discount, prices)?;
        let source = CatalogSource::Aws {
            region: region.clone(),
            options: options.clone(),
            prices,
        };
        PyCatalog::build(py, source, self.filter.clone())
    }

    /// One column per field, one entry per instance type (`to_pandas` builds the DataFrame).
    fn _columns<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let types = &self.resolved.instance_types;
        let n = types.len();
        let label = |it: &karpsim::catalog::InstanceType, key: &str| {
            it.label(Sym::new(key)).flatten().map(|s| s.to_string())
        };
        let cheapest = |it: &karpsim::catalog::InstanceType, ct: &str| {
            it.offerings
                .iter()
                .filter(|o| o.available && o.capacity_type.as_str() == ct)
                .map(|o| o.price)
                .fold(f64::NAN, f64::min)
        };
        let mut name = Vec::with_capacity(n);
        let (mut family, mut arch, mut zones, mut cts) =
            (Vec::new(), Vec::new(), Vec::new(), Vec::new());
        let (mut cpu, mut memory, mut pods, mut gpus) =
            (Vec::new(), Vec::new(), Vec::new(), Vec::new());
        let (mut acpu, mut amem, mut apods) = (Vec::new(), Vec::new(), Vec::new());
        let (mut od, mut spot, mut savings) = (Vec::new(), Vec::new(), Vec::new());
        for it in types {
            name.push(it.name.to_string());
            family.push(label(it, "karpenter.k8s.aws/instance-family"));
            arch.push(it.label(*ARCH).flatten().map(|s| s.to_string()));
            zones.push(it.zones().map(|z| z.as_str()).collect::<Vec<_>>().join(","));
            cts.push(
                it.capacity_types()
                    .iter()
                    .map(|c| c.as_str())
                    .collect::<Vec<_>>()
                    .join(","),
            );
            cpu.push(it.capacity.cpu as f64 / 1000.0);
            memory.push(it.capacity.memory);
            pods.push(it.capacity.pods);
            gpus.push(it.capacity.get("nvidia.com/gpu"));
            acpu.push(it.allocatable.cpu as f64 / 1000.0);
            amem.push(it.allocatable.memory);
            apods.push(it.allocatable.pods);
            od.push(cheapest(it, "on-demand"));
            spot.push(cheapest(it, "spot"));
            savings.push(it.spot_savings_percent);
        }
        let d = PyDict::new(py);
        d.set_item("name", name)?;
        d.set_item("family", family)?;
        d.set_item("arch", arch)?;
        d.set_item("cpu", cpu)?;
        d.set_item("memory", memory)?;
        d.set_item("pods", pods)?;
        d.set_item("gpus", gpus)?;
        d.set_item("allocatable_cpu", acpu)?;
        d.set_item("allocatable_memory", amem)?;
        d.set_item("allocatable_pods", apods)?;
        d.set_item("on_demand_price", od)?;
        d.set_item("spot_price", spot)?;
        d.set_item("spot_savings_percent", savings)?;
        d.set_item("zones", zones)?;
        d.set_item("capacity_types", cts)?;
        Ok(d)
    }

    /// A pandas DataFrame, one row per instance type: cpu in cores, memory in bytes, the cheapest
    /// available on-demand and spot price per hour (NaN if none), zones, arch, family...
    fn to_pandas<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let cols = self._columns(py)?;
        py.import("karpsim._frames")?
            .call_method1("catalog_frame", (cols,))
    }

    /// The catalog as karpsim serialises it (every field of every type), as Python objects.
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let v = serde_json::to_value(&*self.resolved)
            .map_err(|e| CatalogError::new_err(e.to_string()))?;
        from_value(py, &v)
    }
}
