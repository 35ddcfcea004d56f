//! The disruption suites' environment (`pkg/controllers/disruption/suite_test.go`): the fake
//! provider's assorted catalog, NodeClaims with their Nodes as Karpenter-managed Nodes, and one
//! disruption decision (`ExpectSingletonReconciled(disruptionController)` and the queue) read from
//! karpsim's [`disrupt_once`].
//!
//! Karpenter's tests set NodeClaim status conditions that karpsim derives instead, so the cases
//! set what the condition follows from: `Consolidatable` is `consolidateAfter` elapsed since the
//! node's last pod event (nodes here are an hour old), `Drifted` is a NodePool template the node
//! no longer matches (a template label it lacks).
#![allow(dead_code)]

use crate::harness::*;
use karpsim::disruption::{Action, Command, DisruptionOptions, DisruptionResult, Method, disrupt_once, until_stable};
use serde_json::{Value, json};
use std::collections::BTreeSet;

/// When the nodes of a case were created.
pub const T0: i64 = 1_704_067_200; // 2024-01-01T00:00:00Z
/// When disruption runs: an hour later.
pub const NOW: i64 = T0 + 3600;

/// RFC 3339 UTC of a Unix time.
pub fn ts(secs: i64) -> String {
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    // civil date from days since 1970-01-01 (Howard Hinnant's algorithm)
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z", rem / 3600, rem % 3600 / 60, rem % 60)
}

/// One of the assorted types by name.
#[track_caller]
pub fn assorted_type(name: &str) -> Ty {
    assorted().0.iter().find(|t| t.name == name).cloned().unwrap_or_else(|| panic!("no assorted type {name}"))
}

/// The cheapest and dearest on-demand and spot types of the assorted catalog (ties in price go to
/// amd64, linux, zone 1).
pub fn least_od() -> Ty {
    assorted_type("1-cpu-1-mem-amd64-linux-test-zone-1-on-demand")
}
pub fn most_od() -> Ty {
    assorted_type("64-cpu-128-mem-amd64-linux-test-zone-1-on-demand")
}
pub fn least_spot() -> Ty {
    assorted_type("1-cpu-1-mem-amd64-linux-test-zone-1-spot")
}
pub fn most_spot() -> Ty {
    assorted_type("64-cpu-128-mem-amd64-linux-test-zone-1-spot")
}

/// A NodePool with a consolidation policy and `consolidateAfter: 0s` (budgets: the CRD's 10%).
pub fn dpool(name: &str, policy: &str) -> NodePool {
    nodepool(name).set(&["spec", "disruption"], json!({"consolidationPolicy": policy, "consolidateAfter": "0s"}))
}

impl NodePool {
    pub fn budgets(self, budgets: Value) -> NodePool {
        self.set(&["spec", "disruption", "budgets"], budgets)
    }
    pub fn consolidate_after(self, d: &str) -> NodePool {
        self.set(&["spec", "disruption", "consolidateAfter"], json!(d))
    }
    pub fn expire_after(self, d: &str) -> NodePool {
        self.set(&["spec", "template", "spec", "expireAfter"], json!(d))
    }
    pub fn termination_grace_period(self, d: &str) -> NodePool {
        self.set(&["spec", "template", "spec", "terminationGracePeriod"], json!(d))
    }
}

/// `test.NodeClaimAndNode` of `pool` launched as `t` (its first offering), initialized and Ready,
/// created at [`T0`], with `status.allocatable` = `alloc` when given.
pub fn claim_node(name: &str, pool: &str, t: &Ty, alloc: Option<Value>) -> Node {
    let o = &t.all_offerings()[0];
    let n = managed_node(name, pool, &t.name, &o.zone, &o.ct).created(&ts(T0));
    match alloc {
        Some(a) => n.resources(a),
        None => n,
    }
}

/// The node with its NodeClaim object (`test.NodeClaimAndNode`): same labels, joined by provider
/// ID, launched, registered and initialized; `conditions` adds status conditions (`{type, status}`).
pub fn with_claim(n: Node, conditions: &[(&str, &str)]) -> (Node, Value) {
    let name = n.0["metadata"]["name"].as_str().unwrap().to_string();
    let provider_id = format!("fake:///{name}");
    let mut node = n;
    node.0["spec"]["providerID"] = json!(provider_id);
    let mut conds: Vec<Value> = ["Launched", "Registered", "Initialized"].iter().map(|t| json!({"type": t, "status": "True"})).collect();
    conds.extend(conditions.iter().map(|(t, s)| json!({"type": t, "status": s})));
    let mut claim = json!({
        "apiVersion": "karpenter.sh/v1", "kind": "NodeClaim",
        "metadata": {"name": name, "labels": node.0["metadata"]["labels"].clone()},
        "spec": {"nodeClassRef": {"group": "karpenter.k8s.aws", "kind": "EC2NodeClass", "name": "default"}},
        "status": {"providerID": provider_id, "nodeName": name, "conditions": conds},
    });
    for (from, to) in [(&["metadata", "creationTimestamp"], &["metadata", "creationTimestamp"]), (&["status", "allocatable"], &["status", "allocatable"])] {
        let v = &node.0[from[0]][from[1]];
        if !v.is_null() {
            set_path(&mut claim, to, v.clone());
        }
    }
    (node, claim)
}

/// The allocatable most of the suites give their NodeClaims: 32 cpu, 100 pods.
pub fn alloc32() -> Option<Value> {
    Some(json!({"cpu": "32", "pods": "100"}))
}

/// A Running pod bound to `node` (`test.Pod` + `ExpectManualBinding`), created at [`T0`].
pub fn bound(name: &str, node: &str) -> Pod {
    pod(name).on(node).created(&ts(T0)).set(&["status", "startTime"], json!(ts(T0)))
}

/// Karpenter's disruption test environment over a catalog.
pub struct Dis {
    pub e: Env,
    pub opts: DisruptionOptions,
}

impl Dis {
    /// The assorted catalog (`fake.InstanceTypesAssorted`).
    pub fn new() -> Dis {
        Dis { e: Env::assorted(), opts: DisruptionOptions { now: Some(NOW), ..DisruptionOptions::default() } }
    }
    pub fn with_types(types: Vec<Ty>) -> Dis {
        Dis { e: Env::with_types(types), opts: DisruptionOptions { now: Some(NOW), ..DisruptionOptions::default() } }
    }
    pub fn apply(&mut self, v: impl Into<Value>) -> &mut Dis {
        self.e.apply(v);
        self
    }
    pub fn apply_all<T: Into<Value>>(&mut self, vs: impl IntoIterator<Item = T>) -> &mut Dis {
        self.e.apply_all(vs);
        self
    }
    /// One disruption decision.
    pub fn once(&self) -> Dout {
        Dout { r: disrupt_once(&self.e.state(), &self.opts) }
    }
    /// The command is under way, as the cluster shows it before it completes: its nodes are
    /// being deleted (draining) and its replacements launched but not initialized, carrying their
    /// NodePool's template labels and `extra`.
    pub fn begin(&mut self, c: &Command, extra: &[(&str, &str)]) {
        for n in &c.nodes {
            let obj = self.e.get("Node", n);
            *obj = Node(obj.clone()).deleting(&ts(NOW - 1)).0;
        }
        for (i, r) in c.replacements.iter().enumerate() {
            let pool = self.e.get("NodePool", &r.nodepool).clone();
            let mut n = managed_node(&format!("{}-r{i}", c.nodes[0]), &r.nodepool, &r.instance_type, &r.zone, &r.capacity_type).uninitialized();
            for (k, v) in pool["spec"]["template"]["metadata"]["labels"].as_object().into_iter().flatten() {
                n = n.label(k, v.as_str().unwrap());
            }
            for (k, v) in extra {
                n = n.label(k, v);
            }
            self.apply(n);
        }
    }
    /// Decisions, each begun, until none is taken (at most `max`): the commands.
    pub fn run_commands(&mut self, max: usize) -> Vec<Command> {
        let mut out = Vec::new();
        for _ in 0..max {
            let r = self.once().r;
            if r.commands.is_empty() {
                break;
            }
            for c in &r.commands {
                self.begin(c, &[]);
            }
            out.extend(r.commands);
        }
        out
    }
    /// Decisions round after round until no method acts.
    pub fn stable(&self) -> Dout {
        Dout { r: until_stable(&self.e.state(), &self.opts) }
    }
}

/// What disruption decided.
pub struct Dout {
    pub r: DisruptionResult,
}

impl Dout {
    /// Nodes some command disrupts.
    pub fn disrupted(&self) -> BTreeSet<String> {
        self.r.commands.iter().flat_map(|c| c.nodes.iter().cloned()).collect()
    }
    pub fn acted(&self, node: &str) -> bool {
        self.r.commands.iter().any(|c| c.nodes.iter().any(|n| n == node))
    }
    /// Why a node was kept (`None`: it was disrupted, or not looked at).
    pub fn kept(&self, node: &str) -> Option<&str> {
        self.r.kept.iter().find(|k| k.node == node).map(|k| k.reason.as_str())
    }
    /// The node is kept, for a reason that mentions `why`.
    #[track_caller]
    pub fn kept_for(&self, node: &str, why: &str) {
        let k = self.kept(node).unwrap_or_else(|| panic!("{node} not kept: {:#?}", self.r));
        assert!(k.contains(why), "{node} kept for {k:?}, not {why:?}");
    }
    /// No command.
    #[track_caller]
    pub fn none(&self) {
        assert!(self.r.commands.is_empty(), "{:#?}", self.r.commands);
    }
    /// The only command.
    #[track_caller]
    pub fn only(&self) -> &Command {
        assert_eq!(self.r.commands.len(), 1, "{:#?}", self.r);
        &self.r.commands[0]
    }
    /// The only command is `method`/`action` on these nodes (in any order).
    #[track_caller]
    pub fn only_is(&self, method: Method, action: Action, nodes: &[&str]) -> &Command {
        let c = self.only();
        assert_eq!((c.method, c.action), (method, action), "{c:#?}");
        let got: BTreeSet<&str> = c.nodes.iter().map(String::as_str).collect();
        assert_eq!(got, nodes.iter().copied().collect(), "{c:#?}");
        c
    }
}

/// `n` names `{prefix}-{i}`.
pub fn numbered(prefix: &str, n: usize) -> Vec<String> {
    (0..n).map(|i| format!("{prefix}-{i}")).collect()
}
