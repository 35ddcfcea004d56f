//! The cluster state the algorithms take: NodePools with their resolved instance types, existing
//! nodes, pods (pending and bound), DaemonSets and PDBs. Building it is the only place where
//! NodePools meet catalogs.

use crate::catalog::{Catalog, InstanceType};
use crate::error::{Error, Location, Result};
use crate::labels::{self, Sym};
use crate::model::{Namespace, Node, NodeClass, NodePool, Pod, PodDisruptionBudget};
use crate::requirements::{Requirement, Requirements};
use std::collections::BTreeMap;
use std::sync::Arc;

/// An instance type with its requirements precomputed (§1.3: every label as `In`/`DoesNotExist`,
/// zone and capacity type from its available offerings).
#[derive(Debug, Clone)]
pub struct TypeInfo {
    pub it: Arc<InstanceType>,
    pub requirements: Requirements,
}

impl TypeInfo {
    pub fn new(it: Arc<InstanceType>) -> TypeInfo {
        let mut r = Requirements::new();
        for (k, v) in &it.labels {
            r.add(*k, match v {
                Some(v) => Requirement::is_in([*v]),
                None => Requirement::does_not_exist(),
            });
        }
        r.set(*labels::INSTANCE_TYPE, Requirement::is_in([it.name]));
        let avail = || it.offerings.iter().filter(|o| o.available);
        r.set(*labels::ZONE, Requirement::is_in(avail().map(|o| o.zone)));
        r.set(*labels::CAPACITY_TYPE, Requirement::is_in(avail().map(|o| o.capacity_type)));
        let ids: Vec<Sym> = avail().filter_map(|o| o.zone_id).collect();
        if !ids.is_empty() {
            r.set(*labels::ZONE_ID, Requirement::is_in(ids));
        }
        TypeInfo { it, requirements: r }
    }
}

/// The instance types one NodePool can launch.
#[derive(Debug, Clone)]
pub struct PoolTypes {
    pub catalog_name: String,
    pub types: Arc<Vec<TypeInfo>>,
}

/// Everything the provisioning scheduler and the disruption logic read.
#[derive(Debug, Clone)]
pub struct ClusterState {
    pub nodepools: Vec<NodePool>,
    pub nodeclasses: Vec<NodeClass>,
    /// Instance types per NodePool name.
    pub pool_types: BTreeMap<Sym, PoolTypes>,
    pub nodes: Vec<Node>,
    pub pods: Vec<Pod>,
    /// One representative pod per DaemonSet.
    pub daemonsets: Vec<Pod>,
    pub pdbs: Vec<PodDisruptionBudget>,
    /// `Namespace` objects with their labels, for `namespaceSelector` (namespaces that hold pods but
    /// are not here carry only their name label).
    pub namespaces: Vec<Namespace>,
    pub warnings: Vec<String>,
    /// NodePools that launch nothing whatever the pods, and why (one sentence naming the pool), for
    /// causes decided when the state is built. The scheduler adds the pools whose requirements allow
    /// no instance type ([`crate::scheduling::ClusterView::unlaunchable`]); both reach the result as
    /// a warning and every pending pod's reason.
    pub unlaunchable: BTreeMap<Sym, String>,
}

impl ClusterState {
    /// Assemble a state, resolving each NodePool's instance types with `resolve(nodeclass)`
    /// (the NodeClass the pool references, `None` when the input has no NodeClasses at all).
    pub fn new(
        nodepools: Vec<NodePool>,
        nodeclasses: Vec<NodeClass>,
        nodes: Vec<Node>,
        pods: Vec<Pod>,
        daemonsets: Vec<Pod>,
        pdbs: Vec<PodDisruptionBudget>,
        resolve: impl FnMut(Option<&NodeClass>) -> Result<Arc<Catalog>>,
    ) -> Result<ClusterState> {
        let (pool_types, warnings) = resolve_pool_types(&nodepools, &nodeclasses, resolve)?;
        Ok(ClusterState {
            nodepools,
            nodeclasses,
            pool_types,
            nodes,
            pods,
            daemonsets,
            pdbs,
            namespaces: Vec::new(),
            warnings,
            unlaunchable: BTreeMap::new(),
        })
    }

    /// Resolve every NodePool's instance types again from `catalog` (after a change of NodeClass
    /// settings or prices) and re-price the existing nodes. Warnings already present are kept; new
    /// ones (a price source that changed, say) are added once.
    pub fn recatalog(&mut self, catalog: &crate::catalog::CatalogSource) -> Result<()> {
        let (pool_types, warnings) = resolve_pool_types(&self.nodepools, &self.nodeclasses, |nc| catalog.resolve(nc))?;
        self.pool_types = pool_types;
        let mut warnings = warnings;
        warnings.extend(self.price_nodes(catalog)?);
        for w in warnings {
            if !self.warnings.contains(&w) {
                self.warnings.push(w);
            }
        }
        Ok(())
    }

    /// Keep only the instance types compatible with `reqs` in every NodePool (a catalog narrowed by
    /// node-selector requirements, e.g. Python's `Catalog.filter`).
    pub fn retain_types(&mut self, reqs: &Requirements) {
        for pt in self.pool_types.values_mut() {
            let kept: Vec<TypeInfo> = pt.types.iter().filter(|t| t.requirements.intersects(reqs).is_ok()).cloned().collect();
            pt.types = Arc::new(kept);
        }
    }

    /// Give each existing node its hourly price: the catalog offering of its instance type, zone and
    /// capacity type (`OfferingPrice`, §1.4), and its capacity and allocatable when the input did not
    /// state them. Returns a warning for nodes of types the catalog does not have.
    fn price_nodes(&mut self, catalog: &crate::catalog::CatalogSource) -> Result<Vec<String>> {
        let mut default_types: Option<Arc<Catalog>> = None;
        let mut unknown = BTreeMap::<Sym, usize>::new();
        for n in &mut self.nodes {
            let Some(it_name) = n.instance_type else { continue };
            let types = match n.nodepool.and_then(|p| self.pool_types.get(&p)) {
                Some(pt) => pt.types.iter().map(|t| Arc::clone(&t.it)).collect::<Vec<_>>(),
                None => {
                    if default_types.is_none() {
                        default_types = Some(catalog.resolve(None)?);
                    }
                    default_types.as_ref().map(|c| c.instance_types.clone()).unwrap_or_default()
                }
            };
            match types.iter().find(|t| t.name == it_name) {
                Some(it) => {
                    if n.allocatable.iter().next().is_none() {
                        n.allocatable = it.allocatable.clone();
                        n.capacity = it.capacity.clone();
                    }
                    // nodes outside Karpenter carry no karpenter.sh/capacity-type: EKS managed node
                    // groups say it in their own label; anything else is priced as on-demand
                    let ct = n.capacity_type.unwrap_or_else(|| match n.labels.get(&Sym::new("eks.amazonaws.com/capacityType")).map(|s| s.as_str()) {
                        Some("SPOT") => Sym::new(labels::CAPACITY_TYPE_SPOT),
                        _ => Sym::new(labels::CAPACITY_TYPE_ON_DEMAND),
                    });
                    n.price = it.offerings.iter().find(|o| Some(o.zone) == n.zone && o.capacity_type == ct).map(|o| o.price);
                }
                None => *unknown.entry(it_name).or_default() += 1,
            }
        }
        if unknown.is_empty() {
            return Ok(Vec::new());
        }
        let list: Vec<String> = unknown.iter().map(|(k, v)| format!("{k} ({v})")).collect();
        Ok(vec![format!("nodes of instance types not in the catalog have no price: {}", list.join(", "))])
    }

    pub fn node(&self, name: Sym) -> Option<&Node> {
        self.nodes.iter().find(|n| n.name == name)
    }
}

impl ClusterState {
    /// Build the state from loaded inputs and a catalog. Existing nodes get their hourly price from
    /// the catalog offering of their instance type, zone and capacity type (`OfferingPrice`, §1.4).
    pub fn from_inputs(inputs: crate::io::Inputs, catalog: &crate::catalog::CatalogSource) -> Result<ClusterState> {
        // an error about a NodePool names the file and document it was read from
        let pool_origins: BTreeMap<String, Location> =
            inputs.nodepools.iter().filter_map(|p| inputs.origin("NodePool", p.name.as_str()).map(|o| (p.name.to_string(), o.clone()))).collect();
        let locate = |e: Error| match e {
            Error::Input { at, message } if at.kind.as_deref() == Some("NodePool") => {
                let origin = at.object.as_ref().and_then(|o| pool_origins.get(o));
                let at = match origin {
                    Some(o) => Location { file: o.file.clone(), document: o.document, ..*at },
                    None => *at,
                };
                Error::input(at, message)
            }
            other => other,
        };
        let crate::io::Inputs { nodepools, nodeclasses, pods, daemonsets, nodes, pdbs, namespaces, warnings, .. } = inputs;
        let daemonsets = with_daemonsets_from_pods(daemonsets, &pods);
        let mut state =
            ClusterState::new(nodepools, nodeclasses, nodes, pods, daemonsets, pdbs, |nc| catalog.resolve(nc)).map_err(locate)?;
        check_sums(&state.nodes, &state.pods, &state.daemonsets)?;
        let unpriced = state.price_nodes(catalog)?;
        let mut all_warnings = warnings;
        all_warnings.append(&mut state.warnings);
        all_warnings.extend(unpriced);
        state.warnings = all_warnings;
        state.namespaces = namespaces;
        Ok(state)
    }
}

/// The totals the algorithms build from the inputs must stay within the integer range: the requests
/// of the pods bound to each node, and of all DaemonSets together (a node's DaemonSet overhead is a
/// part of that). Each pod's own requests were checked when it was read.
fn check_sums(nodes: &[Node], pods: &[Pod], daemonsets: &[Pod]) -> Result<()> {
    let too_much = |kind: &str, object: String, what: String, k: &str| {
        let at = Location { kind: Some(kind.into()), object: Some(object), ..Default::default() };
        Error::input(at, format!("{what} add up to more {k} than karpsim can hold (at most {})", crate::resources::max_amount_text(k)))
    };
    let mut ds_total = crate::resources::Resources::new();
    for d in daemonsets {
        ds_total = ds_total.checked_add(&d.requests).map_err(|k| {
            let name = d.owner.as_ref().map_or(d.name, |o| o.name);
            too_much("DaemonSet", format!("{}/{name}", d.namespace), "the requests of this DaemonSet and the ones before it".into(), k)
        })?;
    }
    let index: BTreeMap<Sym, usize> = nodes.iter().enumerate().map(|(i, n)| (n.name, i)).collect();
    let mut used = vec![crate::resources::Resources::new(); nodes.len()];
    for p in pods.iter().filter(|p| !p.is_terminal()) {
        let Some(&i) = p.node_name.and_then(|n| index.get(&n)) else { continue };
        used[i] = used[i]
            .checked_add(&p.requests)
            .map_err(|k| too_much("Node", nodes[i].name.to_string(), format!("the requests of the pods bound to it (up to pod {})", p.key()), k))?;
    }
    Ok(())
}

/// The instance types of each NodePool, resolved once per NodeClass with `resolve`, and the
/// catalogs' warnings (each once).
fn resolve_pool_types(
    nodepools: &[NodePool],
    nodeclasses: &[NodeClass],
    mut resolve: impl FnMut(Option<&NodeClass>) -> Result<Arc<Catalog>>,
) -> Result<(BTreeMap<Sym, PoolTypes>, Vec<String>)> {
    let mut warnings = Vec::new();
    let mut cache: BTreeMap<Option<Sym>, PoolTypes> = BTreeMap::new();
    let mut pool_types = BTreeMap::new();
    for np in nodepools {
        let class = match np.node_class {
            Some(name) if !nodeclasses.is_empty() => Some(nodeclasses.iter().find(|c| c.name == name).ok_or_else(|| {
                Error::input(
                    Location { kind: Some("NodePool".into()), object: Some(np.name.to_string()), field: Some("spec.template.spec.nodeClassRef.name".into()), ..Default::default() },
                    format!("references EC2NodeClass {name}, which is not in the input (given: {})", nodeclasses.iter().map(|c| c.name.as_str()).collect::<Vec<_>>().join(", ")),
                )
            })?),
            _ => None,
        };
        let key = class.map(|c| c.name);
        let types = match cache.get(&key) {
            Some(t) => t.clone(),
            None => {
                let catalog = resolve(class)?;
                for w in &catalog.warnings {
                    if !warnings.contains(w) {
                        warnings.push(w.clone());
                    }
                }
                let t = PoolTypes {
                    catalog_name: catalog.name.clone(),
                    types: Arc::new(catalog.instance_types.iter().cloned().map(TypeInfo::new).collect()),
                };
                cache.insert(key, t.clone());
                t
            }
        };
        pool_types.insert(np.name, types);
    }
    Ok((pool_types, warnings))
}

/// DaemonSets known only through their pods (a `kubectl get pods` snapshot): Karpenter takes the
/// newest existing pod of each DaemonSet as its representative (`provisioner.go: getDaemonSetPods`).
fn with_daemonsets_from_pods(mut daemonsets: Vec<crate::model::Pod>, pods: &[crate::model::Pod]) -> Vec<crate::model::Pod> {
    let known = |ds: &[crate::model::Pod], ns: Sym, owner: Sym| ds.iter().any(|d| d.namespace == ns && d.owner.as_ref().is_some_and(|o| o.name == owner));
    let mut newest: BTreeMap<(Sym, Sym), &crate::model::Pod> = BTreeMap::new();
    for p in pods.iter().filter(|p| p.is_daemonset_pod()) {
        let Some(owner) = p.owner.as_ref().map(|o| o.name) else { continue };
        if known(&daemonsets, p.namespace, owner) {
            continue;
        }
        let e = newest.entry((p.namespace, owner)).or_insert(p);
        if (p.creation_timestamp, p.name) > (e.creation_timestamp, e.name) {
            *e = p;
        }
    }
    for p in newest.into_values() {
        let mut rep = p.clone();
        rep.node_name = None;
        daemonsets.push(rep);
    }
    daemonsets
}
