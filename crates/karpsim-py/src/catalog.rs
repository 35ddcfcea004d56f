//! `karpsim.Catalog`: an instance-type catalog (an embedded AWS region or a custom file), immutable.

use crate::convert::{existing_path, frames, html, node_selector, to_py as value_to_py, to_value};
use crate::detach::run_detached;
use crate::errors::{CatalogError, input_error, to_py};
use karpsim::catalog::{
    AwsOptions, CapacityPrices, Catalog, CatalogSource, InstanceType, PricePolicy, parse_custom_catalog,
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
    /// Rebuild a catalog from its state (see `state`).
    pub(crate) fn from_state_value(py: Python<'_>, v: &Value) -> PyResult<PyCatalog> {
        let bad = |e: String| CatalogError::new_err(format!("cannot restore catalog: {e}"));
        let filter = match v.get("filter") {
            None | Some(Value::Null) => None,
            Some(f) => Some((f.clone(), node_selector(f)?.1)),
        };
        let source = if let Some(a) = v.get("aws") {
            CatalogSource::Aws {
                region: a["region"].as_str().ok_or_else(|| bad("region".into()))?.to_string(),
                options: serde_json::from_value(a["options"].clone()).map_err(|e| bad(e.to_string()))?,
                prices: serde_json::from_value(a["prices"].clone()).map_err(|e| bad(e.to_string()))?,
            }
        } else if let Some(c) = v.get("custom") {
            CatalogSource::Custom(Arc::new(serde_json::from_value(c.clone()).map_err(|e| bad(e.to_string()))?))
        } else {
            return Err(bad("neither aws nor custom".into()));
        };
        PyCatalog::build(py, source, filter)
    }

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

    /// The requirements of `filter`, for `Cluster`, which derives per-NodeClass types itself.
    pub fn type_filter(&self) -> Option<Requirements> {
        self.filter.as_ref().map(|(_, r)| r.clone())
    }

    /// JSON of everything needed to rebuild this catalog (the pickle state).
    pub(crate) fn state(&self) -> PyResult<Value> {
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
        // {"m5.large": {"on_demand": 0.08, "spot": 0.03}, "c5": {...}} or the CLI's form
        // {"m5.large:spot": 0.03, "m7g:on-demand": 0.07}: a name with a dot is a type, otherwise a family
        let v = to_value(prices, "prices")?;
        let obj = v.as_object().ok_or_else(|| {
            input_error("prices", "expected a dict {\"m5.large:spot\": 0.04} or {type or family: {\"on_demand\": ..., \"spot\": ...}}")
        })?;
        for (name, entry) in obj {
            let field = format!("prices.{name}");
            if name.contains(':') {
                let usd = entry.as_f64().ok_or_else(|| input_error(&field, format!("expected a price in USD per hour, got {entry}")))?;
                p.set_price(name, usd).map_err(|e| input_error(&field, e.to_string()))?;
                continue;
            }
            let cp: CapacityPrices = serde_json::from_value(entry.clone())
                .map_err(|e| input_error(&field, format!("{e} (expected {{\"on_demand\": float, \"spot\": float}}, or a key NAME:CAPACITY such as \"m5.large:spot\")")))?;
            let map = if name.contains('.') { &mut p.by_type } else { &mut p.by_family };
            let slot = map.entry(name.clone()).or_default();
            slot.on_demand = cp.on_demand.or(slot.on_demand);
            slot.spot = cp.spot.or(slot.spot);
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
        let inline = path_or_text.extract::<String>().ok().filter(|s| s.trim_start().starts_with('{') || s.contains('\n'));
        let (name, text) = match inline {
            Some(text) => ("<string>".to_string(), text),
            None => {
                let path = existing_path(path_or_text, "path_or_text")?;
                let name = path.display().to_string();
                let text = std::fs::read_to_string(&path).map_err(|e| to_py(karpsim::Error::Io { path: name.clone(), message: e.to_string() }))?;
                (name, text)
            }
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
        let v: Value = serde_json::from_slice(state).map_err(|e| CatalogError::new_err(format!("cannot restore catalog: {e}")))?;
        PyCatalog::from_state_value(py, &v)
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
        const GIB: f64 = 1024.0 * 1024.0 * 1024.0;
        let types = &self.resolved.instance_types;
        let label = |it: &InstanceType, key: &str| it.label(Sym::new(key)).flatten().map(|s| s.to_string());
        let cheapest = |it: &InstanceType, ct: &str| {
            it.offerings.iter().filter(|o| o.available && o.capacity_type.as_str() == ct).map(|o| o.price).fold(f64::NAN, f64::min)
        };
        let col = |f: &dyn Fn(&InstanceType) -> f64| types.iter().map(|t| f(t)).collect::<Vec<f64>>();
        let d = PyDict::new(py);
        d.set_item("name", types.iter().map(|t| t.name.as_str()).collect::<Vec<_>>())?;
        d.set_item("family", types.iter().map(|t| label(t, "karpenter.k8s.aws/instance-family")).collect::<Vec<_>>())?;
        d.set_item("arch", types.iter().map(|t| t.label(*ARCH).flatten().map(|s| s.to_string())).collect::<Vec<_>>())?;
        d.set_item("cpu_cores", col(&|t| t.capacity.cpu as f64 / 1000.0))?;
        d.set_item("memory_gib", col(&|t| t.capacity.memory as f64 / GIB))?;
        d.set_item("pods", types.iter().map(|t| t.capacity.pods).collect::<Vec<_>>())?;
        d.set_item("gpus", types.iter().map(|t| t.capacity.get("nvidia.com/gpu")).collect::<Vec<_>>())?;
        d.set_item("allocatable_cpu_cores", col(&|t| t.allocatable.cpu as f64 / 1000.0))?;
        d.set_item("allocatable_memory_gib", col(&|t| t.allocatable.memory as f64 / GIB))?;
        d.set_item("allocatable_pods", types.iter().map(|t| t.allocatable.pods).collect::<Vec<_>>())?;
        d.set_item("on_demand_price_usd_per_hour", col(&|t| cheapest(t, "on-demand")))?;
        d.set_item("spot_price_usd_per_hour", col(&|t| cheapest(t, "spot")))?;
        d.set_item("spot_savings_percent", types.iter().map(|t| t.spot_savings_percent).collect::<Vec<_>>())?;
        d.set_item("zones", types.iter().map(|t| t.zones().map(|z| z.as_str()).collect::<Vec<_>>()).collect::<Vec<_>>())?;
        d.set_item("capacity_types", types.iter().map(|t| t.capacity_types().iter().map(|c| c.as_str()).collect::<Vec<_>>()).collect::<Vec<_>>())?;
        Ok(d)
    }

    /// A pandas DataFrame indexed by instance type `name`: family, arch, cpu_cores, memory_gib,
    /// pods, gpus, allocatable_cpu_cores, allocatable_memory_gib, allocatable_pods, the cheapest
    /// available on_demand_price_usd_per_hour and spot_price_usd_per_hour (NaN if none),
    /// spot_savings_percent (the Spot Advisor's, where known), zones and capacity_types (lists).
    /// `Catalog.from_pandas` reads it back.
    fn to_pandas<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        frames(py, "catalog_frame", (self._columns(py)?,))
    }

    /// `to_pandas()` as a polars DataFrame (the index becomes the first column); needs polars.
    fn to_polars<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        frames(py, "to_polars", (self.to_pandas(py)?,))
    }

    fn _repr_html_<'py>(slf: &Bound<'py, Self>) -> PyResult<Bound<'py, PyAny>> {
        html(slf.py(), "catalog_html", (slf,))
    }

    /// The catalog as karpsim serialises it (every field of every type), as Python objects.
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        value_to_py(py, &*self.resolved)
    }
}

/// A catalog argument as users hold it: a `Catalog`, `"aws:REGION"`, the path of a custom catalog
/// file, or None (`aws:us-east-1`).
pub fn catalog_arg(py: Python<'_>, obj: Option<&Bound<'_, PyAny>>) -> PyResult<Py<PyCatalog>> {
    let Some(obj) = obj.filter(|o| !o.is_none()) else {
        return Py::new(py, PyCatalog::build(py, CatalogSource::default_aws(), None)?);
    };
    if let Ok(c) = obj.cast::<PyCatalog>() {
        return Ok(c.clone().unbind());
    }
    if let Ok(s) = obj.extract::<String>()
        && let Some(region) = s.trim().strip_prefix("aws:")
    {
        karpsim::catalog::aws_region_data(region).map_err(to_py)?;
        let source = CatalogSource::Aws { region: region.to_string(), options: AwsOptions::default(), prices: PricePolicy::default() };
        return Py::new(py, PyCatalog::build(py, source, None)?);
    }
    if obj.extract::<std::path::PathBuf>().is_ok() {
        return Py::new(py, PyCatalog::from_json(py, obj)?);
    }
    Err(pyo3::exceptions::PyTypeError::new_err(format!(
        "catalog: expected a karpsim.Catalog, \"aws:REGION\" or a catalog file path, got {}",
        crate::convert::type_name(obj)
    )))
}
