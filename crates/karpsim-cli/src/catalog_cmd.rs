//! `karpsim catalog`: what an instance catalog holds, so users can check the data the simulator uses.

use crate::Report;
use crate::args::{CatalogArgs, Output};
use crate::table::{Table, cores, gib, usd};
use karpsim::catalog::{CatalogSource, InstanceType, PriceSource};
use karpsim::io::Inputs;
use karpsim::labels::Sym;
use karpsim::model::{NodeClass, NodeSelectorRequirement};
use karpsim::requirements::Requirements;
use karpsim::state::TypeInfo;
use karpsim::{Error, Result};
use std::collections::BTreeMap;
use std::sync::Arc;

/// The JSON shape of `karpsim catalog --output json` (stable keys).
#[derive(Debug, serde::Serialize)]
pub struct CatalogJson {
    pub catalog: String,
    pub instance_types: Vec<TypeJson>,
    pub warnings: Vec<String>,
}

#[derive(Debug, serde::Serialize)]
pub struct TypeJson {
    pub name: String,
    /// Labels a node of this type carries (zone and capacity type come from the offerings).
    pub labels: BTreeMap<String, String>,
    pub capacity: BTreeMap<String, String>,
    /// kube-reserved + system-reserved + eviction threshold.
    pub overhead: BTreeMap<String, String>,
    pub allocatable: BTreeMap<String, String>,
    pub offerings: Vec<OfferingJson>,
}

#[derive(Debug, serde::Serialize)]
pub struct OfferingJson {
    pub zone: String,
    pub capacity_type: String,
    pub price: f64,
    pub available: bool,
    /// Where the price came from (`catalog`, `spot-advisor-estimate`, `us-east1-fallback`...).
    pub price_source: PriceSource,
}

pub fn execute(args: &CatalogArgs) -> Result<Report> {
    let source = args.catalog.source()?;
    let mut warnings = Vec::new();
    let nodeclass = load_nodeclass(args, &mut warnings)?;
    if let (Some(nc), CatalogSource::Custom(_)) = (&nodeclass, &source) {
        warnings.push(format!("EC2NodeClass {} ignored: a custom catalog states capacity and overhead as written", nc.name));
    }
    let catalog = source.resolve(nodeclass.as_ref())?;
    warnings.extend(catalog.warnings.iter().cloned());

    for name in &args.instance_types {
        if catalog.get(name).is_none() {
            return Err(Error::Option {
                option: "--instance-type".into(),
                message: format!("{name} is not in catalog {}", catalog.name),
            });
        }
    }
    let reqs = parse_requirements(&args.requirements)?;
    let infos: Vec<TypeInfo> = catalog.instance_types.iter().cloned().map(TypeInfo::new).collect();
    // `Intersects` only compares keys both sides define, so a requirement on a label no type carries
    // would keep everything; say so rather than let a typo pass silently.
    for (key, r) in reqs.iter() {
        if !infos.iter().any(|t| t.requirements.has(key)) {
            warnings.push(format!("no instance type in {} defines label {key}; the requirement `{key} {r}` filters nothing", catalog.name));
        }
    }
    let selected: Vec<&Arc<InstanceType>> = infos
        .iter()
        .filter(|t| args.instance_types.is_empty() || args.instance_types.iter().any(|n| n == t.it.name.as_str()))
        .filter(|t| t.requirements.intersects(&reqs).is_ok())
        .map(|t| &t.it)
        .collect();

    Ok(match args.output {
        // Programs get the warnings inside the document; nothing extra on stderr.
        Output::Json => {
            let doc = CatalogJson {
                catalog: catalog.name.clone(),
                instance_types: selected.iter().map(|it| type_json(it)).collect(),
                warnings,
            };
            Report { stdout: json(&doc)?, warnings: Vec::new() }
        }
        Output::Table => Report { stdout: render_table(&selected, catalog.instance_types.len(), &catalog.name), warnings },
    })
}

/// The EC2NodeClass whose kubelet settings apply: `--nodeclass NAME` or the first one of the `-f` inputs.
fn load_nodeclass(args: &CatalogArgs, warnings: &mut Vec<String>) -> Result<Option<NodeClass>> {
    if args.files.is_empty() {
        if args.nodeclass.is_some() {
            return Err(Error::Option { option: "--nodeclass".into(), message: "needs -f with the file that holds the EC2NodeClass".into() });
        }
        return Ok(None);
    }
    let mut inputs = Inputs::with_limits(args.work.limits());
    for f in &args.files {
        inputs.load_path(f)?;
    }
    let inputs = inputs.finish()?;
    warnings.extend(inputs.warnings);
    let given = || inputs.nodeclasses.iter().map(|c| c.name.as_str()).collect::<Vec<_>>().join(", ");
    let chosen = match &args.nodeclass {
        Some(name) => inputs.nodeclasses.iter().find(|c| c.name.as_str() == name).ok_or_else(|| Error::Option {
            option: "--nodeclass".into(),
            message: format!("no EC2NodeClass {name} in the -f inputs (given: {})", if given().is_empty() { "none".into() } else { given() }),
        })?,
        None => inputs.nodeclasses.first().ok_or_else(|| Error::Option {
            option: "-f".into(),
            message: "the inputs hold no EC2NodeClass (catalog -f is for applying an EC2NodeClass's kubelet settings)".into(),
        })?,
    };
    if args.nodeclass.is_none() && inputs.nodeclasses.len() > 1 {
        warnings.push(format!("several EC2NodeClasses given ({}); using {} (choose with --nodeclass)", given(), chosen.name));
    }
    Ok(Some(chosen.clone()))
}

/// `KEY OP [VALUES]` in node-selector syntax; values are comma-separated (`In m5, m6i` works too).
pub fn parse_requirements(specs: &[String]) -> Result<Requirements> {
    let mut out = Requirements::new();
    for spec in specs {
        let bad = |m: String| Error::Option { option: "--requirement".into(), message: format!("{spec:?}: {m}") };
        let mut words = spec.split_whitespace();
        let (Some(key), Some(op)) = (words.next(), words.next()) else {
            return Err(bad("expected KEY OPERATOR [VALUES], e.g. 'kubernetes.io/arch In arm64'".into()));
        };
        let values: Vec<String> = words.collect::<String>().split(',').filter(|v| !v.is_empty()).map(str::to_string).collect();
        let nsr = NodeSelectorRequirement { key: Sym::new(key), operator: op.to_string(), values, min_values: None };
        let r = Requirements::from_node_selector(&[nsr]).map_err(|e| {
            bad(match e {
                Error::Input { message, .. } => message,
                other => other.to_string(),
            })
        })?;
        out.add_all(&r);
    }
    Ok(out)
}

fn type_json(it: &InstanceType) -> TypeJson {
    TypeJson {
        name: it.name.to_string(),
        labels: it.labels.iter().filter_map(|(k, v)| v.map(|v| (k.to_string(), v.to_string()))).collect(),
        capacity: it.capacity.to_quantity_map(),
        overhead: it.overhead.total().to_quantity_map(),
        allocatable: it.allocatable.to_quantity_map(),
        offerings: it
            .offerings
            .iter()
            .map(|o| OfferingJson {
                zone: o.zone.to_string(),
                capacity_type: o.capacity_type.to_string(),
                price: o.price,
                available: o.available,
                price_source: o.price_source,
            })
            .collect(),
    }
}

/// The cheapest available offering of one capacity type.
fn cheapest(it: &InstanceType, capacity_type: &str) -> Option<f64> {
    it.offerings.iter().filter(|o| o.available && o.capacity_type.as_str() == capacity_type).map(|o| o.price).min_by(f64::total_cmp)
}

/// Rows sorted by family, then size (the catalog's name order puts m7g.12xlarge before m7g.2xlarge).
pub fn render_table(types: &[&Arc<InstanceType>], total: usize, catalog: &str) -> String {
    let mut types = types.to_vec();
    let family = |it: &InstanceType| it.name.as_str().split('.').next().unwrap_or_default();
    types.sort_by(|a, b| {
        (family(a), a.capacity.cpu, a.capacity.memory, a.name.as_str()).cmp(&(family(b), b.capacity.cpu, b.capacity.memory, b.name.as_str()))
    });
    let mut t = Table::new(&[
        ("NAME", false),
        ("VCPU", true),
        ("MEMORY GiB", true),
        ("ALLOC CPU", true),
        ("ALLOC MEM GiB", true),
        ("PODS", true),
        ("ON-DEMAND $/H", true),
        ("SPOT $/H", true),
        ("ZONES", true),
    ]);
    let price = |p: Option<f64>| p.map(usd).unwrap_or_else(|| "-".into());
    for it in &types {
        t.row(vec![
            it.name.to_string(),
            cores(it.capacity.cpu),
            gib(it.capacity.memory),
            cores(it.allocatable.cpu),
            gib(it.allocatable.memory),
            it.allocatable.pods.to_string(),
            price(cheapest(it, "on-demand")),
            price(cheapest(it, "spot")),
            it.zones().count().to_string(),
        ]);
    }
    let mut out = if t.is_empty() { String::new() } else { t.render() };
    out.push_str(&format!("{} of {total} instance types in {catalog}\n", types.len()));
    out
}

pub(crate) fn json<T: serde::Serialize>(v: &T) -> Result<String> {
    // Serialising plain strings and numbers cannot fail in practice; map it anyway rather than panic.
    serde_json::to_string_pretty(v)
        .map(|mut s| {
            s.push('\n');
            s
        })
        .map_err(|e| Error::Option { option: "--output json".into(), message: e.to_string() })
}
