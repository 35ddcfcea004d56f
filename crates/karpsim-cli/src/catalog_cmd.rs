//! `karpsim catalog`: what an instance catalog holds, so users can check the data the simulator uses.

use crate::Report;
use crate::args::{CatalogArgs, Output};
use crate::json_out::json;
use crate::table::{Table, cores, gib, usd};
use karpsim::catalog::{CatalogSource, InstanceType, Offering, PriceSource, overlay};
use karpsim::io::Inputs;
use karpsim::labels::Sym;
use karpsim::model::{NodeClass, NodeOverlay, NodePool, NodeSelectorRequirement};
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
    /// NodeOverlays that added extended resources to `capacity`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub capacity_overlays: Vec<String>,
}

#[derive(Debug, serde::Serialize)]
pub struct OfferingJson {
    pub zone: String,
    pub capacity_type: String,
    pub price: f64,
    pub available: bool,
    /// Where the price came from (`catalog`, `spot-advisor-estimate`, `us-east1-fallback`, `overlay`...).
    pub price_source: PriceSource,
    /// The NodeOverlay that set the price.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub overlay: Option<String>,
    /// A reserved offering's capacity reservation, its type and the instances it can still launch.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reservation_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reservation_type: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reservation_count: Option<i64>,
}

pub fn execute(args: &CatalogArgs) -> Result<Report> {
    let source = args.catalog.source()?;
    let mut warnings = Vec::new();
    let ctx = load_context(args, &mut warnings)?;
    if let (Some(nc), CatalogSource::Custom(_)) = (&ctx.nodeclass, &source)
        && !nc.name.as_str().is_empty()
    {
        warnings.push(format!("EC2NodeClass {} ignored but for its capacity reservations: a custom catalog states capacity and overhead as written", nc.name));
    }
    let catalog = source.resolve(ctx.nodeclass.as_ref())?;
    warnings.extend(catalog.warnings.iter().cloned());
    let types = if ctx.overlays.is_empty() {
        catalog.instance_types.clone()
    } else {
        let pool = ctx.nodepool.clone().unwrap_or_else(|| NodePool::new(""));
        let plan = overlay::plan(&[(&pool, catalog.instance_types.as_slice())], &ctx.overlays)?;
        warnings.extend(plan.warnings.iter().cloned());
        if ctx.nodepool.is_none() && ctx.overlays.iter().any(|o| o.requirements.iter().any(|r| r.key.as_str() == "karpenter.sh/nodepool")) {
            warnings.push("overlays that select a karpenter.sh/nodepool apply only with --nodepool NAME".to_string());
        }
        overlay::apply(&catalog.instance_types, &plan.pools[0], &plan)?
    };

    for name in &args.instance_types {
        if catalog.get(name).is_none() {
            return Err(Error::Option {
                option: "--instance-type".into(),
                message: format!("{name} is not in catalog {}", catalog.name),
            });
        }
    }
    let reqs = parse_requirements(&args.requirements)?;
    let infos: Vec<TypeInfo> = types.iter().cloned().map(TypeInfo::new).collect();
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

/// What the `-f` inputs and reservation options say about the catalog to list.
struct Context {
    /// The EC2NodeClass whose settings and reservations apply (karpsim's default one, nameless,
    /// when only reservations are given).
    nodeclass: Option<NodeClass>,
    overlays: Vec<NodeOverlay>,
    /// `--nodepool`: overlays are matched in its context (its name and template labels).
    nodepool: Option<NodePool>,
}

/// Load the `-f` inputs and reservations: `--nodeclass NAME`, else the `--nodepool`'s NodeClass, else
/// the first one.
fn load_context(args: &CatalogArgs, warnings: &mut Vec<String>) -> Result<Context> {
    let specs = args.catalog.reservation_specs()?;
    if args.files.is_empty() {
        if args.nodeclass.is_some() || args.nodepool.is_some() {
            return Err(Error::Option { option: "--nodeclass/--nodepool".into(), message: "needs -f with the file that holds it".into() });
        }
        if specs.is_empty() {
            return Ok(Context { nodeclass: None, overlays: Vec::new(), nodepool: None });
        }
    }
    let mut inputs = Inputs::with_limits(args.work.limits());
    for f in &args.files {
        inputs.load_path(f)?;
    }
    inputs.add_reservations(specs)?;
    let inputs = inputs.finish()?;
    warnings.extend(inputs.warnings);
    let nodepool = match &args.nodepool {
        Some(name) => Some(inputs.nodepools.iter().find(|p| p.name.as_str() == name).cloned().ok_or_else(|| Error::Option {
            option: "--nodepool".into(),
            message: format!("no NodePool {name} in the -f inputs"),
        })?),
        None => None,
    };
    let given = || inputs.nodeclasses.iter().map(|c| c.name.as_str()).collect::<Vec<_>>().join(", ");
    let wanted = args.nodeclass.as_deref().or_else(|| nodepool.as_ref().and_then(|p| p.node_class).map(|c| c.as_str()));
    let nodeclass = match wanted {
        Some(name) => Some(inputs.nodeclasses.iter().find(|c| c.name.as_str() == name).cloned().ok_or_else(|| Error::Option {
            option: "--nodeclass".into(),
            message: format!("no EC2NodeClass {name} in the -f inputs (given: {})", if given().is_empty() { "none".into() } else { given() }),
        })?),
        None => {
            if inputs.nodeclasses.len() > 1 {
                warnings.push(format!("several EC2NodeClasses given ({}); using {} (choose with --nodeclass)", given(), inputs.nodeclasses[0].name));
            }
            inputs.nodeclasses.first().cloned()
        }
    };
    let nodeclass = nodeclass.or_else(|| {
        (!inputs.default_reservations.is_empty()).then(|| NodeClass { capacity_reservations: inputs.default_reservations.clone(), ..NodeClass::default() })
    });
    Ok(Context { nodeclass, overlays: inputs.overlays, nodepool })
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
                overlay: o.overlay.map(|x| x.to_string()),
                reservation_id: o.reservation.as_ref().map(|r| r.id.to_string()),
                reservation_type: o.reservation.as_ref().map(|r| r.reservation_type.as_str().to_string()),
                reservation_count: o.reservation.as_ref().map(|r| r.capacity),
            })
            .collect(),
        capacity_overlays: it.capacity_overlays.iter().map(|x| x.to_string()).collect(),
    }
}

/// The cheapest available offering of one capacity type.
fn cheapest<'a>(it: &'a InstanceType, capacity_type: &str) -> Option<&'a Offering> {
    it.offerings.iter().filter(|o| o.available && o.capacity_type.as_str() == capacity_type).min_by(|a, b| a.price.total_cmp(&b.price))
}

/// The NodeOverlays that changed a type (its prices or capacity), by name.
fn overlays_of(it: &InstanceType) -> Vec<Sym> {
    let mut names: Vec<Sym> = it.offerings.iter().filter_map(|o| o.overlay).chain(it.capacity_overlays.iter().copied()).collect();
    names.sort();
    names.dedup();
    names
}

/// Rows sorted by family, then size (the catalog's name order puts m7g.12xlarge before m7g.2xlarge).
/// Columns for reservations and overlays appear when some type has them; a price a NodeOverlay set
/// is marked `*`.
pub fn render_table(types: &[&Arc<InstanceType>], total: usize, catalog: &str) -> String {
    let mut types = types.to_vec();
    let family = |it: &InstanceType| it.name.as_str().split('.').next().unwrap_or_default();
    types.sort_by(|a, b| {
        (family(a), a.capacity.cpu, a.capacity.memory, a.name.as_str()).cmp(&(family(b), b.capacity.cpu, b.capacity.memory, b.name.as_str()))
    });
    let reserved = types.iter().any(|it| it.offerings.iter().any(|o| o.reservation.is_some()));
    let overlaid = types.iter().any(|it| !overlays_of(it).is_empty());
    let mut columns = vec![
        ("NAME", false),
        ("VCPU", true),
        ("MEMORY GiB", true),
        ("ALLOC CPU", true),
        ("ALLOC MEM GiB", true),
        ("PODS", true),
        ("ON-DEMAND $/H", true),
        ("SPOT $/H", true),
        ("ZONES", true),
    ];
    if reserved {
        columns.push(("RESERVED (ID:ZONE:COUNT)", false));
    }
    if overlaid {
        columns.push(("OVERLAYS", false));
    }
    let mut t = Table::new(&columns);
    let price = |o: Option<&Offering>| match o {
        Some(o) if o.price_source == PriceSource::Overlay => format!("{}*", usd(o.price)),
        Some(o) => usd(o.price),
        None => "-".into(),
    };
    for it in &types {
        let mut row = vec![
            it.name.to_string(),
            cores(it.capacity.cpu),
            gib(it.capacity.memory),
            cores(it.allocatable.cpu),
            gib(it.allocatable.memory),
            it.allocatable.pods.to_string(),
            price(cheapest(it, "on-demand")),
            price(cheapest(it, "spot")),
            it.zones().count().to_string(),
        ];
        if reserved {
            let r: Vec<String> =
                it.offerings.iter().filter_map(|o| o.reservation.as_ref().map(|r| format!("{}:{}:{}", r.id, o.zone, r.capacity))).collect();
            row.push(if r.is_empty() { "-".into() } else { r.join(" ") });
        }
        if overlaid {
            let names: Vec<String> = overlays_of(it).iter().map(|n| n.to_string()).collect();
            row.push(if names.is_empty() { "-".into() } else { names.join(",") });
        }
        t.row(row);
    }
    let mut out = if t.is_empty() { String::new() } else { t.render() };
    out.push_str(&format!("{} of {total} instance types in {catalog}\n", types.len()));
    if types.iter().any(|it| it.offerings.iter().any(|o| o.available && o.price_source == PriceSource::Overlay)) {
        out.push_str("* price set by a NodeOverlay\n");
    }
    out
}
