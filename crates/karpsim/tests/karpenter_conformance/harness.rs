//! The test environment of Karpenter's suites, in karpsim's inputs: the fake cloud provider's
//! instance types as a custom catalog (`pkg/cloudprovider/fake/instancetype.go`), Karpenter's test
//! objects (`pkg/test`) as Kubernetes JSON documents, and what `ExpectScheduled` and friends look
//! at, read from karpsim's results.
//!
//! Differences from the fake provider, each harmless for the cases ported:
//! * the fake types run `darwin`, `linux` and `windows` at once (a multi-valued `kubernetes.io/os`
//!   requirement, which a catalog label cannot say); here they carry no OS label, so any OS a pod
//!   asks for is accepted and a NodeClaim narrows to one, as with the fake types;
//! * the fake provider registers `size`, `special` and `integer` as well-known labels; a custom
//!   catalog's label keys are well-known in karpsim, to the same effect.
#![allow(dead_code)]

use karpsim::catalog::{Catalog, CatalogSource, parse_custom_catalog};
use karpsim::io::Inputs;
use karpsim::scheduling::{NodeClaimResult, ProvisionOptions, ProvisionResult, provision};
use karpsim::state::ClusterState;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::sync::{Arc, OnceLock};

pub use crate::objects::*;

/// Names the Karpenter test a conformance test ports: the Go file under `pkg/controllers/` and the
/// Ginkgo path (`Describe > Context > It`) at kubernetes-sigs/karpenter v1.14.1. The suite's
/// manifest test reads these.
macro_rules! ports {
    ($file:expr, $path:literal) => {
        let _: (&str, &str) = ($file, $path);
    };
}
pub(crate) use ports;

pub const GI: f64 = 1073741824.0;

pub const ZONE: &str = "topology.kubernetes.io/zone";
pub const HOSTNAME: &str = "kubernetes.io/hostname";
pub const ARCH: &str = "kubernetes.io/arch";
pub const OS: &str = "kubernetes.io/os";
pub const CT: &str = "karpenter.sh/capacity-type";
pub const IT: &str = "node.kubernetes.io/instance-type";
pub const NODEPOOL: &str = "karpenter.sh/nodepool";
pub const SPOT: &str = "spot";
pub const OD: &str = "on-demand";
pub const VENDOR_A: &str = "fake.com/vendor-a";
pub const VENDOR_B: &str = "fake.com/vendor-b";

// ---------------------------------------------------------------- instance types

/// One offering: zone, capacity type, price, available.
#[derive(Debug, Clone)]
pub struct Off {
    pub zone: String,
    pub ct: String,
    pub price: f64,
    pub available: bool,
}

/// A fake instance type (`fake.NewInstanceType`).
#[derive(Debug, Clone)]
pub struct Ty {
    pub name: String,
    pub cpu: f64,
    pub mem_bytes: f64,
    /// Capacity as written (cpu, memory, pods and extended resources).
    pub capacity: BTreeMap<String, String>,
    pub labels: BTreeMap<String, String>,
    /// `None`: the fake defaults (spot in zones 1–2, on-demand in zones 1–3, at the resource price).
    pub offerings: Option<Vec<Off>>,
}

/// `PriceFromResources`: 0.1 per core, 0.1 per 10⁹ bytes of memory, 1.0 per GPU vendor resource.
pub fn price_from_resources(cpu: f64, mem_bytes: f64, gpus: usize) -> f64 {
    0.1 * cpu + 0.1 * mem_bytes / 1e9 + gpus as f64
}

/// `fake.NewInstanceType(name)`: 4 cpu, 4Gi, 5 pods, amd64, default offerings.
pub fn ty(name: &str) -> Ty {
    let mut t = Ty { name: name.into(), cpu: 4.0, mem_bytes: 4.0 * GI, capacity: BTreeMap::new(), labels: BTreeMap::new(), offerings: None };
    t.capacity.insert("cpu".into(), "4".into());
    t.capacity.insert("memory".into(), "4Gi".into());
    t.capacity.insert("pods".into(), "5".into());
    t.labels.insert(ARCH.into(), "amd64".into());
    t
}

impl Ty {
    pub fn cpu(mut self, cores: u32) -> Ty {
        self.cpu = f64::from(cores);
        self.capacity.insert("cpu".into(), cores.to_string());
        self
    }
    pub fn mem_gi(mut self, gi: u32) -> Ty {
        self.mem_bytes = f64::from(gi) * GI;
        self.capacity.insert("memory".into(), format!("{gi}Gi"));
        self
    }
    pub fn pods(mut self, n: u32) -> Ty {
        self.capacity.insert("pods".into(), n.to_string());
        self
    }
    pub fn resource(mut self, k: &str, v: &str) -> Ty {
        self.capacity.insert(k.into(), v.into());
        self
    }
    pub fn arch(self, a: &str) -> Ty {
        self.label(ARCH, a)
    }
    pub fn os(self, o: &str) -> Ty {
        self.label(OS, o)
    }
    pub fn label(mut self, k: &str, v: &str) -> Ty {
        self.labels.insert(k.into(), v.into());
        self
    }
    /// Offerings at the resource price.
    pub fn offers(mut self, o: &[(&str, &str)]) -> Ty {
        let p = self.price();
        self.offerings = Some(o.iter().map(|(z, c)| Off { zone: z.to_string(), ct: c.to_string(), price: p, available: true }).collect());
        self
    }
    /// Offerings with their prices.
    pub fn offers_at(mut self, o: &[(&str, &str, f64)]) -> Ty {
        self.offerings = Some(o.iter().map(|(z, c, p)| Off { zone: z.to_string(), ct: c.to_string(), price: *p, available: true }).collect());
        self
    }
    pub fn unavailable(mut self, zone: &str, ct: &str) -> Ty {
        let mut offs = self.all_offerings();
        for o in &mut offs {
            if o.zone == zone && o.ct == ct {
                o.available = false;
            }
        }
        self.offerings = Some(offs);
        self
    }
    /// The fake price of the type's resources.
    pub fn price(&self) -> f64 {
        let gpus = [VENDOR_A, VENDOR_B].iter().filter(|k| self.capacity.contains_key(**k)).count();
        price_from_resources(self.cpu, self.mem_bytes, gpus)
    }
    pub fn all_offerings(&self) -> Vec<Off> {
        self.offerings.clone().unwrap_or_else(|| {
            let p = self.price();
            [("test-zone-1", SPOT), ("test-zone-2", SPOT), ("test-zone-1", OD), ("test-zone-2", OD), ("test-zone-3", OD)]
                .iter()
                .map(|(z, c)| Off { zone: z.to_string(), ct: c.to_string(), price: p, available: true })
                .collect()
        })
    }

    fn to_json(&self) -> Value {
        let mut labels = self.labels.clone();
        // size/special/integer (`NewInstanceType`): large and optional above 4 cpu and 8Gi
        let large = self.cpu > 4.0 && self.mem_bytes > 8.0 * GI;
        labels.entry("size".into()).or_insert_with(|| if large { "large" } else { "small" }.into());
        if large {
            labels.entry("special".into()).or_insert_with(|| "optional".into());
        }
        labels.entry("integer".into()).or_insert_with(|| format!("{}", self.cpu as i64));
        json!({
            "name": self.name,
            "capacity": self.capacity,
            "overhead": {"cpu": "100m", "memory": "10Mi"},
            "labels": labels,
            "offerings": self.all_offerings().iter().map(|o| json!({"zone": o.zone, "capacity_type": o.ct, "price": o.price, "available": o.available})).collect::<Vec<_>>(),
        })
    }
}

/// The default catalog of the fake provider (`GetInstanceTypes` with no override).
pub fn default_types() -> Vec<Ty> {
    vec![
        ty("default-instance-type"),
        ty("small-instance-type").cpu(2).mem_gi(2),
        ty("gpu-vendor-instance-type").resource(VENDOR_A, "2"),
        ty("gpu-vendor-b-instance-type").resource(VENDOR_B, "2"),
        ty("arm-instance-type").arch("arm64").cpu(16).mem_gi(128),
        ty("single-pod-instance-type").pods(1),
    ]
}

/// `fake.InstanceTypes(n)`: `fake-it-i` with i+1 cpu, 2(i+1) Gi, 10(i+1) pods.
pub fn instance_types(n: u32) -> Vec<Ty> {
    (0..n).map(|i| ty(&format!("fake-it-{i}")).cpu(i + 1).mem_gi(2 * (i + 1)).pods(10 * (i + 1))).collect()
}

/// `fake.InstanceTypesAssorted()`: cpu × memory × zone × capacity type × os × arch, one offering each.
pub fn assorted_types() -> Vec<Ty> {
    assorted().0.clone()
}

/// The assorted types and their parsed catalog, built once per test process.
pub fn assorted() -> &'static (Vec<Ty>, Arc<Catalog>) {
    static ASSORTED: OnceLock<(Vec<Ty>, Arc<Catalog>)> = OnceLock::new();
    ASSORTED.get_or_init(|| {
        let types = build_assorted();
        let catalog = Arc::new(parse_custom_catalog("fake", &catalog_json(&types)).unwrap_or_else(|e| panic!("{e}")));
        (types, catalog)
    })
}

fn build_assorted() -> Vec<Ty> {
    let mut out = Vec::new();
    for cpu in [1u32, 2, 4, 8, 16, 32, 64] {
        for mem in [1u32, 2, 4, 8, 16, 32, 64, 128] {
            for zone in ["test-zone-1", "test-zone-2", "test-zone-3"] {
                for ct in [SPOT, OD] {
                    for os in ["linux", "windows"] {
                        for arch in ["amd64", "arm64"] {
                            let t = ty(&format!("{cpu}-cpu-{mem}-mem-{arch}-{os}-{zone}-{ct}")).cpu(cpu).mem_gi(mem).arch(arch).os(os);
                            out.push(t.clone().offers(&[(zone, ct)]));
                        }
                    }
                }
            }
        }
    }
    out
}

pub fn catalog_json(types: &[Ty]) -> String {
    json!({"instance_types": types.iter().map(Ty::to_json).collect::<Vec<_>>()}).to_string()
}

// ---------------------------------------------------------------- environment

/// Karpenter's test environment: a catalog, the objects applied, the scheduler options (the test
/// harness's `MaxInstanceTypes = 60` is karpsim's default).
pub struct Env {
    pub types: Vec<Ty>,
    pub objs: Vec<Value>,
    pub opts: ProvisionOptions,
    /// `types` as a catalog, parsed on first use (`types` are not changed after that).
    catalog: OnceLock<Arc<Catalog>>,
}

impl Env {
    /// The fake provider's default catalog.
    pub fn new() -> Env {
        Env::with_types(default_types())
    }
    pub fn with_types(types: Vec<Ty>) -> Env {
        Env { types, objs: Vec::new(), opts: ProvisionOptions::default(), catalog: OnceLock::new() }
    }
    /// The assorted catalog, parsed once per test process.
    pub fn assorted() -> Env {
        let (types, catalog) = assorted();
        Env { types: types.clone(), objs: Vec::new(), opts: ProvisionOptions::default(), catalog: OnceLock::from(Arc::clone(catalog)) }
    }
    /// `ExpectApplied`.
    pub fn apply(&mut self, v: impl Into<Value>) -> &mut Env {
        self.objs.push(v.into());
        self
    }
    pub fn apply_all<T: Into<Value>>(&mut self, vs: impl IntoIterator<Item = T>) -> &mut Env {
        for v in vs {
            self.objs.push(v.into());
        }
        self
    }
    /// The object of this kind and name (panics when absent).
    #[track_caller]
    pub fn get(&mut self, kind: &str, name: &str) -> &mut Value {
        self.objs.iter_mut().find(|o| o["kind"] == kind && o["metadata"]["name"] == name).unwrap_or_else(|| panic!("no {kind} {name}"))
    }
    /// `ExpectDeleted`: remove the object of this kind and name.
    pub fn delete(&mut self, kind: &str, name: &str) -> &mut Env {
        self.objs.retain(|o| !(o["kind"] == kind && o["metadata"]["name"] == name));
        self
    }
    /// The cluster after `ExpectProvisioned` and the state controllers caught up: every NodeClaim
    /// of `out` is an in-flight node (registered, not initialized; the fake provider's
    /// `NodeClaimLinkedNode`: its NodeClaim's labels, taints and startup taints, and the
    /// `karpenter.sh/unregistered` taint) holding its pods. Returns the nodes' names, in NodeClaim
    /// order (`{nodeclaim}-{round}`, so that later rounds' NodeClaims do not clash).
    pub fn launch(&mut self, out: &Outcome) -> Vec<String> {
        let round = self.objs.iter().filter(|o| o["kind"] == "Node").count();
        let mut names = Vec::new();
        for c in &out.r.nodeclaims {
            let name = format!("{}-n{}", c.name, round + names.len());
            let placed = out.node(&c.pods[0]).unwrap();
            let pool = self.objs.iter().find(|o| o["kind"] == "NodePool" && o["metadata"]["name"] == c.nodepool.as_str()).cloned().unwrap();
            let mut n = node(&name).label("karpenter.sh/registered", "true").label("karpenter.sh/initialized", "false");
            for (k, v) in &placed.labels {
                n = n.label(k, v);
            }
            let spec = &pool["spec"]["template"]["spec"];
            for field in ["taints", "startupTaints"] {
                for t in spec[field].as_array().into_iter().flatten() {
                    n = n.taint(t["key"].as_str().unwrap(), t["value"].as_str().unwrap_or(""), t["effect"].as_str().unwrap());
                }
            }
            n = n.taint("karpenter.sh/unregistered", "", "NoExecute");
            self.objs.push(n.0);
            for p in &c.pods {
                let pod_name = p.split_once('/').map_or(p.as_str(), |(_, n)| n).to_string();
                let obj = self.get("Pod", &pod_name);
                *obj = Pod(obj.clone()).on(&name).0;
            }
            names.push(name);
        }
        names
    }
    /// The objects read as karpsim reads inputs.
    fn inputs(&self) -> karpsim::Result<Inputs> {
        let mut inputs = Inputs::new();
        inputs.load_value(json!({"apiVersion": "v1", "kind": "List", "items": self.objs}), "test")?;
        inputs.finish()
    }
    /// The error reading the objects gives (objects the API server would refuse).
    pub fn input_error(&self) -> String {
        self.inputs().err().unwrap_or_else(|| panic!("expected an input error")).to_string()
    }
    pub fn state(&self) -> ClusterState {
        let inputs = self.inputs().unwrap_or_else(|e| panic!("{e}"));
        let catalog =
            self.catalog.get_or_init(|| Arc::new(parse_custom_catalog("fake", &catalog_json(&self.types)).unwrap_or_else(|e| panic!("{e}"))));
        ClusterState::from_inputs(inputs, &CatalogSource::Custom(Arc::clone(catalog))).unwrap_or_else(|e| panic!("{e}"))
    }
    /// `ExpectProvisioned`: one provisioning run over the pending pods.
    pub fn provision(&self) -> Outcome {
        let state = self.state();
        let r = provision(&state, &self.opts);
        Outcome { r, state }
    }
    /// One provisioning run over `base` (a state of this environment, built once) with these pods
    /// added: for cases that run many times against the same cluster.
    pub fn provision_with(&self, base: &ClusterState, pods: &[Pod]) -> Outcome {
        let mut inputs = Inputs::new();
        let list = json!({"apiVersion": "v1", "kind": "List", "items": pods.iter().map(|p| p.0.clone()).collect::<Vec<_>>()});
        inputs.load_value(list, "pods").unwrap_or_else(|e| panic!("{e}"));
        let mut state = base.clone();
        state.pods.extend(inputs.finish().unwrap_or_else(|e| panic!("{e}")).pods);
        let r = provision(&state, &self.opts);
        Outcome { r, state }
    }
}

/// Where a pod went: a new NodeClaim (what the fake provider would launch) or an existing node.
#[derive(Debug, Clone)]
pub struct Placed<'a> {
    pub name: String,
    /// The node's labels: for a NodeClaim, its single-valued requirements, the launched type's
    /// labels, zone and capacity type (the fake provider's node labels).
    pub labels: BTreeMap<String, String>,
    pub claim: Option<&'a NodeClaimResult>,
}

impl Placed<'_> {
    pub fn label(&self, k: &str) -> Option<&str> {
        self.labels.get(k).map(String::as_str)
    }
    #[track_caller]
    pub fn has(&self, k: &str, v: &str) {
        assert_eq!(self.label(k), Some(v), "{} labels {:?}", self.name, self.labels);
    }
    pub fn instance_type(&self) -> &str {
        self.label(IT).unwrap_or("")
    }
    pub fn price(&self) -> f64 {
        self.claim.map(|c| c.price_per_hour).unwrap_or(0.0)
    }
    /// The NodeClaim's instance-type options (a new NodeClaim only).
    #[track_caller]
    pub fn options(&self) -> &[String] {
        &self.claim.expect("a new NodeClaim").instance_type_options
    }
    /// A NodeClaim requirement line for `key` (`In [a, b]`).
    pub fn requirement(&self, key: &str) -> Option<&str> {
        self.claim?.requirements.iter().find_map(|r| r.strip_prefix(key).and_then(|s| s.strip_prefix(' ')))
    }
}

pub struct Outcome {
    pub r: ProvisionResult,
    pub state: ClusterState,
}

/// `key In [v]` lines of a NodeClaim's requirements, as labels.
fn single_valued(lines: &[String]) -> BTreeMap<String, String> {
    lines
        .iter()
        .filter_map(|l| {
            let (k, rest) = l.split_once(' ')?;
            let v = rest.strip_prefix("In [")?.strip_suffix(']')?;
            (!v.contains(", ")).then(|| (k.to_string(), v.to_string()))
        })
        .collect()
}

impl Outcome {
    fn key(pod: &str) -> String {
        if pod.contains('/') { pod.to_string() } else { format!("default/{pod}") }
    }
    /// Where the pod went (`None`: pending).
    pub fn node(&self, pod: &str) -> Option<Placed<'_>> {
        let key = Outcome::key(pod);
        if let Some(c) = self.r.nodeclaims.iter().find(|c| c.pods.contains(&key)) {
            let mut labels = single_valued(&c.requirements);
            if let Some(it) = self.state.pool_types.values().flat_map(|pt| pt.types.iter()).find(|t| t.it.name.as_str() == c.instance_type) {
                for (k, v) in &it.it.labels {
                    if let Some(v) = v {
                        labels.insert(k.to_string(), v.to_string());
                    }
                }
            }
            labels.insert(IT.into(), c.instance_type.clone());
            labels.insert(ZONE.into(), c.zone.clone());
            labels.insert(CT.into(), c.capacity_type.clone());
            labels.insert(NODEPOOL.into(), c.nodepool.clone());
            return Some(Placed { name: c.name.clone(), labels, claim: Some(c) });
        }
        let n = self.r.existing_nodes.iter().find(|n| n.pods.contains(&key))?;
        let node = self.state.nodes.iter().find(|x| x.name.as_str() == n.name)?;
        let labels = node.labels.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        Some(Placed { name: n.name.clone(), labels, claim: None })
    }
    /// `ExpectScheduled`.
    #[track_caller]
    pub fn scheduled(&self, pod: &str) -> Placed<'_> {
        self.node(pod).unwrap_or_else(|| panic!("{pod} not scheduled: {:#?}", self.r))
    }
    /// `ExpectNotScheduled`.
    #[track_caller]
    pub fn not_scheduled(&self, pod: &str) {
        assert!(self.node(pod).is_none(), "{pod} scheduled: {:#?}", self.r);
    }
    /// Why a pod stayed pending.
    #[track_caller]
    pub fn reason(&self, pod: &str) -> &str {
        let key = Outcome::key(pod);
        self.r.unschedulable.iter().find(|u| u.pod == key).map(|u| u.reason.as_str()).unwrap_or_else(|| panic!("{pod} has no reason: {:#?}", self.r))
    }
    /// New NodeClaims launched.
    pub fn claims(&self) -> usize {
        self.r.nodeclaims.len()
    }
    /// Distinct nodes (new or existing) the pods went to.
    #[track_caller]
    pub fn nodes_of(&self, pods: &[String]) -> std::collections::BTreeSet<String> {
        pods.iter().map(|p| self.scheduled(p).name).collect()
    }
    /// For each label value, how many of `pods` went to nodes carrying it (`ExpectSkew`); pending
    /// pods are not counted.
    pub fn skew(&self, pods: &[String], key: &str) -> Vec<usize> {
        let mut counts: BTreeMap<String, usize> = BTreeMap::new();
        for p in pods {
            if let Some(n) = self.node(p)
                && let Some(v) = n.label(key)
            {
                *counts.entry(v.to_string()).or_default() += 1;
            }
        }
        let mut v: Vec<usize> = counts.into_values().collect();
        v.sort();
        v
    }
}

impl Outcome {
    /// `ExpectSkew`: the scheduled pods of namespace `default` that `sel` selects (`None`: all),
    /// bound before this run or placed by it, counted by their node's value for `key` (the node's
    /// name for hostnames), sorted. Terminal, terminating and pending pods do not count.
    pub fn skew_all(&self, sel: Option<&[(&str, &str)]>, key: &str) -> Vec<usize> {
        let mut counts: BTreeMap<String, usize> = BTreeMap::new();
        for p in self.state.pods.iter().filter(|p| p.namespace.as_str() == "default" && p.is_active()) {
            if let Some(sel) = sel
                && !sel.iter().all(|(k, v)| p.labels.iter().any(|(pk, pv)| pk.as_str() == *k && pv.as_str() == *v))
            {
                continue;
            }
            let domain = match p.node_name {
                Some(n) => {
                    let Some(node) = self.state.nodes.iter().find(|x| x.name == n) else { continue };
                    if key == HOSTNAME { Some(n.to_string()) } else { node.labels.iter().find(|(k, _)| k.as_str() == key).map(|(_, v)| v.to_string()) }
                }
                None => match self.node(&p.key()) {
                    Some(placed) if key == HOSTNAME => Some(placed.name.clone()),
                    Some(placed) => placed.label(key).map(str::to_string),
                    None => None,
                },
            };
            if let Some(d) = domain {
                *counts.entry(d).or_default() += 1;
            }
        }
        let mut v: Vec<usize> = counts.into_values().collect();
        v.sort();
        v
    }
}

/// A pending pod kube-scheduler has not marked unschedulable (no conditions): not Karpenter's.
pub fn plain_pod(name: &str) -> Pod {
    pod(name).set(&["status"], json!({"phase": "Pending"}))
}

/// Names of pods.
pub fn names(pods: &[Pod]) -> Vec<String> {
    pods.iter().map(Pod::name).collect()
}
