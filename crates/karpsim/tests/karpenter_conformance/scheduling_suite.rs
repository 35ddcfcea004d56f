//! `pkg/controllers/provisioning/scheduling/suite_test.go`: custom and well-known constraints,
//! preferential fallback, instance-type compatibility, bin-packing, in-flight and existing nodes,
//! deleting nodes, requirement filtering. (The Go file repeats its constraint cases in a second
//! context; each repeat is its own test here, running the same scenario.)

use crate::harness::*;
use serde_json::json;

const FILE: &str = "provisioning/scheduling/suite_test.go";

/// The suite's NodePool: capacity types spot, on-demand and reserved.
fn np() -> NodePool {
    nodepool("default").req(CT, "In", &[SPOT, OD, "reserved"])
}

/// One pod under one NodePool on the default catalog.
fn run1(pool: NodePool, p: Pod) -> Outcome {
    let mut e = Env::new();
    e.apply(pool).apply(p);
    e.provision()
}

const K: &str = "test-key";

// ---------------------------------------------------------------- NodePool with labels

#[test]
fn labels_unconstrained_pod() {
    ports!(FILE, "Scheduling > Custom Constraints > NodePool with Labels > should schedule unconstrained pods that don't have matching node selectors");
    run1(np().label(K, "test-value"), pod("p")).scheduled("p").has(K, "test-value");
}

#[test]
fn labels_conflicting_selector() {
    ports!(FILE, "Scheduling > Custom Constraints > NodePool with Labels > should not schedule pods that have conflicting node selectors");
    run1(np().label(K, "test-value"), pod("p").node_selector(K, "different-value")).not_scheduled("p");
}

#[test]
fn labels_selector_on_undefined_key() {
    ports!(FILE, "Scheduling > Custom Constraints > NodePool with Labels > should not schedule pods that have node selectors with undefined key");
    run1(np(), pod("p").node_selector(K, "test-value")).not_scheduled("p");
}

#[test]
fn labels_matching_requirements() {
    ports!(FILE, "Scheduling > Custom Constraints > NodePool with Labels > should schedule pods that have matching requirements");
    run1(np().label(K, "test-value"), pod("p").node_req(K, "In", &["test-value", "another-value"])).scheduled("p").has(K, "test-value");
}

#[test]
fn labels_conflicting_requirements() {
    ports!(FILE, "Scheduling > Custom Constraints > NodePool with Labels > should not schedule pods that have conflicting requirements");
    run1(np().label(K, "test-value"), pod("p").node_req(K, "In", &["another-value"])).not_scheduled("p");
}

// ---------------------------------------------------------------- well-known labels (two contexts)

fn wk_nodepool_constraints() {
    run1(np().req(ZONE, "In", &["test-zone-2"]), pod("p")).scheduled("p").has(ZONE, "test-zone-2");
}
#[test]
fn wk_nodepool_constraints_1() {
    ports!(FILE, "Scheduling > Custom Constraints > Well Known Labels > should use NodePool constraints");
    wk_nodepool_constraints();
}
#[test]
fn wk_nodepool_constraints_2() {
    ports!(FILE, "Scheduling > Custom Constraints > Well Known Labels > should use NodePool constraints #2");
    wk_nodepool_constraints();
}

fn wk_node_selectors() {
    run1(np().req(ZONE, "In", &["test-zone-1", "test-zone-2"]), pod("p").node_selector(ZONE, "test-zone-2")).scheduled("p").has(ZONE, "test-zone-2");
}
#[test]
fn wk_node_selectors_1() {
    ports!(FILE, "Scheduling > Custom Constraints > Well Known Labels > should use node selectors");
    wk_node_selectors();
}
#[test]
fn wk_node_selectors_2() {
    ports!(FILE, "Scheduling > Custom Constraints > Well Known Labels > should use node selectors #2");
    wk_node_selectors();
}

fn wk_hostname_selector() {
    run1(np(), pod("p").node_selector(HOSTNAME, "red-node")).not_scheduled("p");
}
#[test]
fn wk_hostname_selector_1() {
    ports!(FILE, "Scheduling > Custom Constraints > Well Known Labels > should not schedule nodes with a hostname selector");
    wk_hostname_selector();
}
#[test]
fn wk_hostname_selector_2() {
    ports!(FILE, "Scheduling > Custom Constraints > Well Known Labels > should not schedule nodes with a hostname selector #2");
    wk_hostname_selector();
}

fn wk_unknown_selector() {
    run1(np().req(ZONE, "In", &["test-zone-1"]), pod("p").node_selector(ZONE, "unknown")).not_scheduled("p");
}
#[test]
fn wk_unknown_selector_1() {
    ports!(FILE, "Scheduling > Custom Constraints > Well Known Labels > should not schedule the pod if nodeselector unknown");
    wk_unknown_selector();
}
#[test]
fn wk_unknown_selector_2() {
    ports!(FILE, "Scheduling > Custom Constraints > Well Known Labels > should not schedule the pod if nodeselector unknown #2");
    wk_unknown_selector();
}

fn wk_selector_outside_pool() {
    run1(np().req(ZONE, "In", &["test-zone-1"]), pod("p").node_selector(ZONE, "test-zone-2")).not_scheduled("p");
}
#[test]
fn wk_selector_outside_pool_1() {
    ports!(FILE, "Scheduling > Custom Constraints > Well Known Labels > should not schedule if node selector outside of NodePool constraints");
    wk_selector_outside_pool();
}
#[test]
fn wk_selector_outside_pool_2() {
    ports!(FILE, "Scheduling > Custom Constraints > Well Known Labels > should not schedule if node selector outside of NodePool constraints #2");
    wk_selector_outside_pool();
}

fn wk_op_in() {
    run1(np(), pod("p").node_req(ZONE, "In", &["test-zone-3"])).scheduled("p").has(ZONE, "test-zone-3");
}
#[test]
fn wk_op_in_1() {
    ports!(FILE, "Scheduling > Custom Constraints > Well Known Labels > should schedule compatible requirements with Operator=In");
    wk_op_in();
}
#[test]
fn wk_op_in_2() {
    ports!(FILE, "Scheduling > Custom Constraints > Well Known Labels > should schedule compatible requirements with Operator=In #2");
    wk_op_in();
}

/// A NodePool bound on the fake `integer` label (the type's cpu count): the node's value.
fn wk_bound(op: &str, v: &str, want: &str) {
    run1(np().req("integer", op, &[v]), pod("p")).scheduled("p").has("integer", want);
}
#[test]
fn wk_op_gt_1() {
    ports!(FILE, "Scheduling > Custom Constraints > Well Known Labels > should schedule compatible requirements with Operator=Gt");
    wk_bound("Gt", "8", "16");
}
#[test]
fn wk_op_gt_2() {
    ports!(FILE, "Scheduling > Custom Constraints > Well Known Labels > should schedule compatible requirements with Operator=Gt #2");
    wk_bound("Gt", "8", "16");
}
#[test]
fn wk_op_lt_1() {
    ports!(FILE, "Scheduling > Custom Constraints > Well Known Labels > should schedule compatible requirements with Operator=Lt");
    wk_bound("Lt", "8", "2");
}
#[test]
fn wk_op_lt_2() {
    ports!(FILE, "Scheduling > Custom Constraints > Well Known Labels > should schedule compatible requirements with Operator=Lt #2");
    wk_bound("Lt", "8", "2");
}
#[test]
fn wk_op_gte() {
    ports!(FILE, "Scheduling > Custom Constraints > Well Known Labels > should schedule compatible requirements with Operator=Gte");
    wk_bound("Gte", "16", "16");
}
#[test]
fn wk_op_lte() {
    ports!(FILE, "Scheduling > Custom Constraints > Well Known Labels > should schedule compatible requirements with Operator=Lte");
    wk_bound("Lte", "2", "2");
}

fn wk_incompatible_in() {
    run1(np(), pod("p").node_req(ZONE, "In", &["unknown"])).not_scheduled("p");
}
#[test]
fn wk_incompatible_in_1() {
    ports!(FILE, "Scheduling > Custom Constraints > Well Known Labels > should not schedule incompatible preferences and requirements with Operator=In");
    wk_incompatible_in();
}
#[test]
fn wk_incompatible_in_2() {
    ports!(FILE, "Scheduling > Custom Constraints > Well Known Labels > should not schedule incompatible preferences and requirements with Operator=In #2");
    wk_incompatible_in();
}

fn wk_op_not_in() {
    run1(np(), pod("p").node_req(ZONE, "NotIn", &["test-zone-1", "test-zone-2", "unknown"])).scheduled("p").has(ZONE, "test-zone-3");
}
#[test]
fn wk_op_not_in_1() {
    ports!(FILE, "Scheduling > Custom Constraints > Well Known Labels > should schedule compatible requirements with Operator=NotIn");
    wk_op_not_in();
}
#[test]
fn wk_op_not_in_2() {
    ports!(FILE, "Scheduling > Custom Constraints > Well Known Labels > should schedule compatible requirements with Operator=NotIn #2");
    wk_op_not_in();
}

fn wk_incompatible_not_in() {
    run1(np(), pod("p").node_req(ZONE, "NotIn", &["test-zone-1", "test-zone-2", "test-zone-3", "unknown"])).not_scheduled("p");
}
#[test]
fn wk_incompatible_not_in_1() {
    ports!(FILE, "Scheduling > Custom Constraints > Well Known Labels > should not schedule incompatible preferences and requirements with Operator=NotIn");
    wk_incompatible_not_in();
}
#[test]
fn wk_incompatible_not_in_2() {
    ports!(FILE, "Scheduling > Custom Constraints > Well Known Labels > should not schedule incompatible preferences and requirements with Operator=NotIn #2");
    wk_incompatible_not_in();
}

const ALL_ZONES_UNKNOWN: &[&str] = &["test-zone-1", "test-zone-2", "test-zone-3", "unknown"];

fn wk_pref_in() {
    let p = pod("p").node_req(ZONE, "In", ALL_ZONES_UNKNOWN).node_pref(1, vec![expr(ZONE, "In", &["test-zone-2", "unknown"])]);
    run1(np(), p).scheduled("p").has(ZONE, "test-zone-2");
}
#[test]
fn wk_pref_in_1() {
    ports!(FILE, "Scheduling > Custom Constraints > Well Known Labels > should schedule compatible preferences and requirements with Operator=In");
    wk_pref_in();
}
#[test]
fn wk_pref_in_2() {
    ports!(FILE, "Scheduling > Custom Constraints > Well Known Labels > should schedule compatible preferences and requirements with Operator=In #2");
    wk_pref_in();
}

fn wk_pref_in_incompatible() {
    let p = pod("p").node_req(ZONE, "In", ALL_ZONES_UNKNOWN).node_pref(1, vec![expr(ZONE, "In", &["unknown"])]);
    run1(np(), p).scheduled("p");
}
#[test]
fn wk_pref_in_incompatible_1() {
    ports!(FILE, "Scheduling > Custom Constraints > Well Known Labels > should schedule incompatible preferences and requirements with Operator=In");
    wk_pref_in_incompatible();
}
#[test]
fn wk_pref_in_incompatible_2() {
    ports!(FILE, "Scheduling > Custom Constraints > Well Known Labels > should schedule incompatible preferences and requirements with Operator=In #2");
    wk_pref_in_incompatible();
}

fn wk_pref_not_in() {
    let p = pod("p").node_req(ZONE, "In", ALL_ZONES_UNKNOWN).node_pref(1, vec![expr(ZONE, "NotIn", &["test-zone-1", "test-zone-3"])]);
    run1(np(), p).scheduled("p").has(ZONE, "test-zone-2");
}
#[test]
fn wk_pref_not_in_1() {
    ports!(FILE, "Scheduling > Custom Constraints > Well Known Labels > should schedule compatible preferences and requirements with Operator=NotIn");
    wk_pref_not_in();
}
#[test]
fn wk_pref_not_in_2() {
    ports!(FILE, "Scheduling > Custom Constraints > Well Known Labels > should schedule compatible preferences and requirements with Operator=NotIn #2");
    wk_pref_not_in();
}

fn wk_pref_not_in_incompatible() {
    let p = pod("p").node_req(ZONE, "In", ALL_ZONES_UNKNOWN).node_pref(1, vec![expr(ZONE, "NotIn", &["test-zone-1", "test-zone-2", "test-zone-3"])]);
    run1(np(), p).scheduled("p");
}
#[test]
fn wk_pref_not_in_incompatible_1() {
    ports!(FILE, "Scheduling > Custom Constraints > Well Known Labels > should schedule incompatible preferences and requirements with Operator=NotIn");
    wk_pref_not_in_incompatible();
}
#[test]
fn wk_pref_not_in_incompatible_2() {
    ports!(FILE, "Scheduling > Custom Constraints > Well Known Labels > should schedule incompatible preferences and requirements with Operator=NotIn #2");
    wk_pref_not_in_incompatible();
}

fn wk_selector_pref_req() {
    let zones = &["test-zone-1", "test-zone-2", "test-zone-3"];
    let p = pod("p").node_selector(ZONE, "test-zone-3").node_req(ZONE, "In", zones).node_pref(1, vec![expr(ZONE, "In", zones)]);
    run1(np(), p).scheduled("p").has(ZONE, "test-zone-3");
}
#[test]
fn wk_selector_pref_req_1() {
    ports!(FILE, "Scheduling > Custom Constraints > Well Known Labels > should schedule compatible node selectors, preferences and requirements");
    wk_selector_pref_req();
}
#[test]
fn wk_selector_pref_req_2() {
    ports!(FILE, "Scheduling > Custom Constraints > Well Known Labels > should schedule compatible node selectors, preferences and requirements #2");
    wk_selector_pref_req();
}

fn wk_multidimensional() {
    let p = pod("p")
        .node_selector(ZONE, "test-zone-3")
        .node_selector(IT, "arm-instance-type")
        .node_req(ZONE, "In", &["test-zone-1", "test-zone-3"])
        .node_req(IT, "In", &["default-instance-type", "arm-instance-type"])
        .node_pref(1, vec![expr(ZONE, "NotIn", &["unknown"]), expr(IT, "NotIn", &["unknown"])]);
    let out = run1(np(), p);
    let n = out.scheduled("p");
    n.has(ZONE, "test-zone-3");
    n.has(IT, "arm-instance-type");
}
#[test]
fn wk_multidimensional_1() {
    ports!(FILE, "Scheduling > Custom Constraints > Well Known Labels > should combine multidimensional node selectors, preferences and requirements");
    wk_multidimensional();
}
#[test]
fn wk_multidimensional_2() {
    ports!(FILE, "Scheduling > Custom Constraints > Well Known Labels > should combine multidimensional node selectors, preferences and requirements #2");
    wk_multidimensional();
}

// ---------------------------------------------------------------- constraints validation

/// Pods requiring a restricted label (`kubernetes.io/hostname`) or any label of the restricted
/// domain (`karpenter.sh`) are ignored by the provisioner.
fn cv_restricted(keys: &[&str]) {
    for k in keys {
        let out = run1(np(), pod("p").node_req(k, "In", &["test"]));
        out.not_scheduled("p");
        assert!(out.reason("p").contains("restricted"), "{}", out.reason("p"));
    }
}
#[test]
fn cv_restricted_labels_1() {
    ports!(FILE, "Scheduling > Custom Constraints > Constraints Validation > should not schedule pods that have node selectors with restricted labels");
    cv_restricted(&[HOSTNAME]);
}
#[test]
fn cv_restricted_labels_2() {
    ports!(FILE, "Scheduling > Custom Constraints > Constraints Validation > should not schedule pods that have node selectors with restricted labels #2");
    cv_restricted(&[HOSTNAME]);
}
#[test]
fn cv_restricted_domains_1() {
    ports!(FILE, "Scheduling > Custom Constraints > Constraints Validation > should not schedule pods that have node selectors with restricted domains");
    cv_restricted(&["karpenter.sh/test"]);
}
#[test]
fn cv_restricted_domains_2() {
    ports!(FILE, "Scheduling > Custom Constraints > Constraints Validation > should not schedule pods that have node selectors with restricted domains #2");
    cv_restricted(&["karpenter.sh/test"]);
}

/// NodePool requirements on labels of the Kubernetes domains become node labels.
fn cv_kubernetes_domains(prefix: &str) {
    let keys: Vec<String> = ["kubernetes.io", "k8s.io"].iter().map(|d| format!("{prefix}{d}/test")).collect();
    let mut pool = np();
    for k in &keys {
        pool = pool.req(k, "In", &["test-value"]);
    }
    let out = run1(pool, pod("p"));
    let n = out.scheduled("p");
    for k in &keys {
        n.has(k, "test-value");
    }
}
#[test]
fn cv_kubernetes_domains_1() {
    ports!(FILE, "Scheduling > Custom Constraints > Constraints Validation > should schedule pods that have node selectors with label in the kubernetes domains");
    cv_kubernetes_domains("");
}
#[test]
fn cv_kubernetes_domains_2() {
    ports!(FILE, "Scheduling > Custom Constraints > Constraints Validation > should schedule pods that have node selectors with label in kubernetes domains");
    cv_kubernetes_domains("");
}
#[test]
fn cv_kubernetes_subdomains_1() {
    ports!(FILE, "Scheduling > Custom Constraints > Constraints Validation > should schedule pods that have node selectors with label in subdomain from kubernetes domains");
    cv_kubernetes_domains("subdomain.");
}
#[test]
fn cv_kubernetes_subdomains_2() {
    ports!(FILE, "Scheduling > Custom Constraints > Constraints Validation > should schedule pods that have node selectors with label in subdomain from kubernetes domains #2");
    cv_kubernetes_domains("subdomain.");
}

fn cv_well_known() {
    let mut e = Env::new();
    e.apply(np());
    let selectors = [(ZONE, "test-zone-1"), (IT, "default-instance-type"), (ARCH, "arm64"), (OS, "linux"), (CT, "spot")];
    for (i, (k, v)) in selectors.iter().enumerate() {
        e.apply(pod(&format!("p{i}")).node_selector(k, v));
    }
    let out = e.provision();
    for i in 0..selectors.len() {
        out.scheduled(&format!("p{i}"));
    }
}
#[test]
fn cv_well_known_1() {
    ports!(FILE, "Scheduling > Custom Constraints > Constraints Validation > should schedule pods that have node selectors with label in wellknown label list");
    cv_well_known();
}
#[test]
fn cv_well_known_2() {
    ports!(FILE, "Scheduling > Custom Constraints > Constraints Validation > should schedule pods that have node selectors with label in wellknown label list #2");
    cv_well_known();
}

// ---------------------------------------------------------------- scheduling logic

#[test]
fn sl_nodepool_not_ready() {
    ports!(FILE, "Scheduling > Custom Constraints > Scheduling Logic > should not schedule pods with nodePool which is not ready ");
    // a NodePool is not Ready when its node class is missing (the only way inputs can say it)
    let mut e = Env::new();
    e.apply(nodeclass("other")).apply(np()).apply(pod("p"));
    let out = e.provision();
    out.not_scheduled("p");
}

fn sl_in_undefined() {
    run1(np(), pod("p").node_req(K, "In", &["test-value"])).not_scheduled("p");
}
#[test]
fn sl_in_undefined_1() {
    ports!(FILE, "Scheduling > Custom Constraints > Scheduling Logic > should not schedule pods that have node selectors with In operator and undefined key");
    sl_in_undefined();
}
#[test]
fn sl_in_undefined_2() {
    ports!(FILE, "Scheduling > Custom Constraints > Scheduling Logic > should not schedule pods that have node selectors with In operator and undefined key #2");
    sl_in_undefined();
}

fn sl_not_in_undefined() {
    let out = run1(np(), pod("p").node_req(K, "NotIn", &["test-value"]));
    assert_ne!(out.scheduled("p").label(K), Some("test-value"));
}
#[test]
fn sl_not_in_undefined_1() {
    ports!(FILE, "Scheduling > Custom Constraints > Scheduling Logic > should schedule pods that have node selectors with NotIn operator and undefined key");
    sl_not_in_undefined();
}
#[test]
fn sl_not_in_undefined_2() {
    ports!(FILE, "Scheduling > Custom Constraints > Scheduling Logic > should schedule pods that have node selectors with NotIn operator and undefined key #2");
    sl_not_in_undefined();
}

fn sl_exists_undefined() {
    run1(np(), pod("p").node_req(K, "Exists", &[])).not_scheduled("p");
}
#[test]
fn sl_exists_undefined_1() {
    ports!(FILE, "Scheduling > Custom Constraints > Scheduling Logic > should not schedule pods that have node selectors with Exists operator and undefined key");
    sl_exists_undefined();
}
#[test]
fn sl_exists_undefined_2() {
    ports!(FILE, "Scheduling > Custom Constraints > Scheduling Logic > should not schedule pods that have node selectors with Exists operator and undefined key #2");
    sl_exists_undefined();
}

fn sl_dne_undefined() {
    let out = run1(np(), pod("p").node_req(K, "DoesNotExist", &[]));
    assert_eq!(out.scheduled("p").label(K), None);
}
#[test]
fn sl_dne_undefined_1() {
    ports!(FILE, "Scheduling > Custom Constraints > Scheduling Logic > should schedule pods that with DoesNotExists operator and undefined key");
    sl_dne_undefined();
}
#[test]
fn sl_dne_undefined_2() {
    ports!(FILE, "Scheduling > Custom Constraints > Scheduling Logic > should schedule pods that with DoesNotExists operator and undefined key #2");
    sl_dne_undefined();
}

fn key_pool() -> NodePool {
    np().req(K, "In", &["test-value"])
}

fn sl_unconstrained() {
    run1(key_pool(), pod("p")).scheduled("p").has(K, "test-value");
}
#[test]
fn sl_unconstrained_1() {
    ports!(FILE, "Scheduling > Custom Constraints > Scheduling Logic > should schedule unconstrained pods that don't have matching node selectors");
    sl_unconstrained();
}
#[test]
fn sl_unconstrained_2() {
    ports!(FILE, "Scheduling > Custom Constraints > Scheduling Logic > should schedule unconstrained pods that don't have matching node selectors #2");
    sl_unconstrained();
}

fn sl_matching_in() {
    run1(key_pool(), pod("p").node_req(K, "In", &["test-value"])).scheduled("p").has(K, "test-value");
}
#[test]
fn sl_matching_in_1() {
    ports!(FILE, "Scheduling > Custom Constraints > Scheduling Logic > should schedule pods that have node selectors with matching value and In operator");
    sl_matching_in();
}
#[test]
fn sl_matching_in_2() {
    ports!(FILE, "Scheduling > Custom Constraints > Scheduling Logic > should schedule pods that have node selectors with matching value and In operator #2");
    sl_matching_in();
}

fn sl_matching_not_in() {
    run1(key_pool(), pod("p").node_req(K, "NotIn", &["test-value"])).not_scheduled("p");
}
#[test]
fn sl_matching_not_in_1() {
    ports!(FILE, "Scheduling > Custom Constraints > Scheduling Logic > should not schedule pods that have node selectors with matching value and NotIn operator");
    sl_matching_not_in();
}
#[test]
fn sl_matching_not_in_2() {
    ports!(FILE, "Scheduling > Custom Constraints > Scheduling Logic > should not schedule pods that have node selectors with matching value and NotIn operator #2");
    sl_matching_not_in();
}

fn sl_exists_defined() {
    run1(key_pool(), pod("p").node_req(K, "Exists", &[])).scheduled("p");
}
#[test]
fn sl_exists_defined_1() {
    ports!(FILE, "Scheduling > Custom Constraints > Scheduling Logic > should schedule the pod with Exists operator and defined key");
    sl_exists_defined();
}
#[test]
fn sl_exists_defined_2() {
    ports!(FILE, "Scheduling > Custom Constraints > Scheduling Logic > should schedule the pod with Exists operator and defined key #2");
    sl_exists_defined();
}

fn sl_dne_defined() {
    run1(key_pool(), pod("p").node_req(K, "DoesNotExist", &[])).not_scheduled("p");
}
#[test]
fn sl_dne_defined_1() {
    ports!(FILE, "Scheduling > Custom Constraints > Scheduling Logic > should not schedule the pod with DoesNotExists operator and defined key");
    sl_dne_defined();
}
#[test]
fn sl_dne_defined_2() {
    ports!(FILE, "Scheduling > Custom Constraints > Scheduling Logic > should not schedule the pod with DoesNotExists operator and defined key #2");
    sl_dne_defined();
}

fn sl_different_in() {
    run1(key_pool(), pod("p").node_req(K, "In", &["another-value"])).not_scheduled("p");
}
#[test]
fn sl_different_in_1() {
    ports!(FILE, "Scheduling > Custom Constraints > Scheduling Logic > should not schedule pods that have node selectors with different value and In operator");
    sl_different_in();
}
#[test]
fn sl_different_in_2() {
    ports!(FILE, "Scheduling > Custom Constraints > Scheduling Logic > should not schedule pods that have node selectors with different value and In operator #2");
    sl_different_in();
}

fn sl_different_not_in() {
    run1(key_pool(), pod("p").node_req(K, "NotIn", &["another-value"])).scheduled("p").has(K, "test-value");
}
#[test]
fn sl_different_not_in_1() {
    ports!(FILE, "Scheduling > Custom Constraints > Scheduling Logic > should schedule pods that have node selectors with different value and NotIn operator");
    sl_different_not_in();
}
#[test]
fn sl_different_not_in_2() {
    ports!(FILE, "Scheduling > Custom Constraints > Scheduling Logic > should schedule pods that have node selectors with different value and NotIn operator #2");
    sl_different_not_in();
}

fn two_value_pool() -> NodePool {
    np().req(K, "In", &["test-value", "another-value"])
}

fn sl_compatible_same_node() {
    let mut e = Env::new();
    e.apply(two_value_pool()).apply(pod("a").node_req(K, "In", &["test-value"])).apply(pod("b").node_req(K, "NotIn", &["another-value"]));
    let out = e.provision();
    let (a, b) = (out.scheduled("a"), out.scheduled("b"));
    a.has(K, "test-value");
    b.has(K, "test-value");
    assert_eq!(a.name, b.name);
}
#[test]
fn sl_compatible_same_node_1() {
    ports!(FILE, "Scheduling > Custom Constraints > Scheduling Logic > should schedule compatible pods to the same node");
    sl_compatible_same_node();
}
#[test]
fn sl_compatible_same_node_2() {
    ports!(FILE, "Scheduling > Custom Constraints > Scheduling Logic > should schedule compatible pods to the same node #2");
    sl_compatible_same_node();
}

fn sl_incompatible_different_nodes() {
    let mut e = Env::new();
    e.apply(two_value_pool()).apply(pod("a").node_req(K, "In", &["test-value"])).apply(pod("b").node_req(K, "In", &["another-value"]));
    let out = e.provision();
    let (a, b) = (out.scheduled("a"), out.scheduled("b"));
    a.has(K, "test-value");
    b.has(K, "another-value");
    assert_ne!(a.name, b.name);
}
#[test]
fn sl_incompatible_different_nodes_1() {
    ports!(FILE, "Scheduling > Custom Constraints > Scheduling Logic > should schedule incompatible pods to the different node");
    sl_incompatible_different_nodes();
}
#[test]
fn sl_incompatible_different_nodes_2() {
    ports!(FILE, "Scheduling > Custom Constraints > Scheduling Logic > should schedule incompatible pods to the different node #2");
    sl_incompatible_different_nodes();
}

fn sl_exists_does_not_widen() {
    run1(np(), pod("p").node_req(ZONE, "In", &["non-existent-zone"]).node_req(ZONE, "Exists", &[])).not_scheduled("p");
}
#[test]
fn sl_exists_does_not_widen_1() {
    ports!(FILE, "Scheduling > Custom Constraints > Scheduling Logic > Exists operator should not overwrite the existing value");
    sl_exists_does_not_widen();
}
#[test]
fn sl_exists_does_not_widen_2() {
    ports!(FILE, "Scheduling > Custom Constraints > Scheduling Logic > Exists operator should not overwrite the existing value #2");
    sl_exists_does_not_widen();
}

#[allow(dead_code)]
fn _json() -> serde_json::Value {
    json!(null)
}

// ---------------------------------------------------------------- preferential fallback

#[test]
fn pf_required_final_term_not_relaxed() {
    ports!(FILE, "Scheduling > Preferential Fallback > Required > should not relax the final term");
    let pool = np().req(ZONE, "In", &["test-zone-1"]).req(IT, "In", &["default-instance-type"]);
    run1(pool, pod("p").node_terms(vec![vec![expr(ZONE, "In", &["invalid"])]])).not_scheduled("p");
}

#[test]
fn pf_required_relax_multiple_terms() {
    ports!(FILE, "Scheduling > Preferential Fallback > Required > should relax multiple terms");
    let terms = ["invalid", "invalid", "test-zone-1", "test-zone-2"].iter().map(|z| vec![expr(ZONE, "In", &[z])]).collect();
    run1(np(), pod("p").node_terms(terms)).scheduled("p").has(ZONE, "test-zone-1");
}

#[test]
fn pf_preferred_relax_all() {
    ports!(FILE, "Scheduling > Preferential Fallback > Preferred > should relax all terms");
    let p = pod("p").node_pref(1, vec![expr(ZONE, "In", &["invalid"])]).node_pref(1, vec![expr(IT, "In", &["invalid"])]);
    run1(np(), p).scheduled("p");
}

#[test]
fn pf_preferred_lighter_weights() {
    ports!(FILE, "Scheduling > Preferential Fallback > Preferred > should relax to use lighter weights");
    let p = pod("p")
        .node_pref(100, vec![expr(IT, "In", &["test-zone-3"])])
        .node_pref(50, vec![expr(ZONE, "In", &["test-zone-2"])])
        .node_pref(1, vec![expr(ZONE, "In", &["test-zone-1"])]);
    run1(np().req(ZONE, "In", &["test-zone-1", "test-zone-2"]), p).scheduled("p").has(ZONE, "test-zone-2");
}

#[test]
fn pf_preference_conflicts_with_requirement() {
    ports!(FILE, "Scheduling > Preferential Fallback > Preferred > should schedule even if preference is conflicting with requirement");
    let p = pod("p").node_pref(1, vec![expr(ZONE, "NotIn", &["test-zone-3"])]).node_terms(vec![vec![expr(ZONE, "In", &["test-zone-3"])]]);
    run1(np(), p).scheduled("p").has(ZONE, "test-zone-3");
}

#[test]
fn pf_conflicting_preferences() {
    ports!(FILE, "Scheduling > Preferential Fallback > Preferred > should schedule even if preference requirements are conflicting");
    let p = pod("p").node_pref(1, vec![expr(ZONE, "In", &["invalid"]), expr(ZONE, "NotIn", &["invalid"])]);
    run1(np(), p).scheduled("p");
}

// ---------------------------------------------------------------- instance type compatibility

#[test]
fn itc_more_than_any_type() {
    ports!(FILE, "Scheduling > Instance Type Compatibility > should not schedule if requesting more resources than any instance type has");
    run1(np(), pod("p").cpu("512")).not_scheduled("p");
}

/// Two pods that cannot share a node: two distinct nodes.
fn two_nodes(pool: NodePool, a: Pod, b: Pod) {
    let mut e = Env::new();
    e.apply(pool).apply(a).apply(b);
    let out = e.provision();
    assert_ne!(out.scheduled("a").name, out.scheduled("b").name);
}

fn both_arches() -> NodePool {
    np().reqs(vec![expr(ARCH, "In", &["arm64", "amd64"])])
}

#[test]
fn itc_different_archs() {
    ports!(FILE, "Scheduling > Instance Type Compatibility > should launch pods with different archs on different instances");
    two_nodes(both_arches(), pod("a").node_selector(ARCH, "amd64"), pod("b").node_selector(ARCH, "arm64"));
}

#[test]
fn itc_type_excluded_by_pool_arch() {
    ports!(FILE, "Scheduling > Instance Type Compatibility > should exclude instance types that are not supported by the pod constraints (node affinity/instance type)");
    run1(np().reqs(vec![expr(ARCH, "In", &["amd64"])]), pod("p").node_req(IT, "In", &["arm-instance-type"])).not_scheduled("p");
}

#[test]
fn itc_os_only_on_excluded_arch() {
    ports!(FILE, "Scheduling > Instance Type Compatibility > should exclude instance types that are not supported by the pod constraints (node affinity/operating system)");
    // the only type running ios is the arm one, which the NodePool's amd64 requirement excludes
    // (the fake types' OS sets written as one OS per type)
    let types = default_types().into_iter().map(|t| if t.name == "arm-instance-type" { t.os("ios") } else { t.os("linux") }).collect();
    let mut e = Env::with_types(types);
    e.apply(np().reqs(vec![expr(ARCH, "In", &["amd64"])])).apply(pod("p").node_req(OS, "In", &["ios"]));
    e.provision().not_scheduled("p");
}

#[test]
fn itc_cpu_only_on_excluded_arch() {
    ports!(FILE, "Scheduling > Instance Type Compatibility > should exclude instance types that are not supported by the provider constraints (arch)");
    run1(np().reqs(vec![expr(ARCH, "In", &["amd64"])]), pod("p").limit("cpu", "14")).not_scheduled("p");
}

#[test]
fn itc_different_os() {
    ports!(FILE, "Scheduling > Instance Type Compatibility > should launch pods with different operating systems on different instances");
    two_nodes(both_arches(), pod("a").node_selector(OS, "linux"), pod("b").node_selector(OS, "windows"));
}

#[test]
fn itc_different_instance_types() {
    ports!(FILE, "Scheduling > Instance Type Compatibility > should launch pods with different instance type node selectors on different instances");
    // the first selects with the beta label, which Karpenter normalises
    two_nodes(both_arches(), pod("a").node_selector("beta.kubernetes.io/instance-type", "small-instance-type"), pod("b").node_selector(IT, "default-instance-type"));
}

#[test]
fn itc_different_zones() {
    ports!(FILE, "Scheduling > Instance Type Compatibility > should launch pods with different zone selectors on different instances");
    two_nodes(both_arches(), pod("a").node_selector(ZONE, "test-zone-1"), pod("b").node_selector(ZONE, "test-zone-2"));
}

const GPU1: &str = "karpenter.sh/super-great-gpu";
const GPU2: &str = "karpenter.sh/even-better-gpu";

/// `fake.InstanceTypes(5)` with 25 of one GPU on the first and of another on the second.
fn gpu_types() -> Vec<Ty> {
    let mut t = instance_types(5);
    t[0] = t[0].clone().resource(GPU1, "25");
    t[1] = t[1].clone().resource(GPU2, "25");
    t
}

#[test]
fn itc_resources_on_different_types() {
    ports!(FILE, "Scheduling > Instance Type Compatibility > should launch pods with resources that aren't on any single instance type on different instances");
    let mut e = Env::with_types(gpu_types());
    e.apply(np()).apply(pod("a").limit(GPU1, "1")).apply(pod("b").limit(GPU2, "1"));
    let out = e.provision();
    assert_ne!(out.scheduled("a").name, out.scheduled("b").name);
}

#[test]
fn itc_resources_on_no_single_type() {
    ports!(FILE, "Scheduling > Instance Type Compatibility > should fail to schedule a pod with resources requests that aren't on a single instance type");
    let mut e = Env::with_types(gpu_types());
    e.apply(np()).apply(pod("p").limit(GPU1, "1").limit(GPU2, "1"));
    e.provision().not_scheduled("p");
}

#[test]
fn psl_filter_by_labels() {
    ports!(FILE, "Scheduling > Instance Type Compatibility > Provider Specific Labels > should filter instance types that match labels");
    let mut e = Env::with_types(instance_types(5));
    e.apply(np()).apply(pod("a").node_selector("size", "large")).apply(pod("b").node_selector("size", "small"));
    let out = e.provision();
    out.scheduled("a").has(IT, "fake-it-4");
    out.scheduled("b").has(IT, "fake-it-0");
}

#[test]
fn psl_incompatible_labels() {
    ports!(FILE, "Scheduling > Instance Type Compatibility > Provider Specific Labels > should not schedule with incompatible labels");
    let mut e = Env::with_types(instance_types(5));
    e.apply(np())
        .apply(pod("a").node_selector("size", "large").node_selector(IT, "fake-it-0"))
        .apply(pod("b").node_selector("size", "small").node_selector(IT, "fake-it-4"));
    let out = e.provision();
    out.not_scheduled("a");
    out.not_scheduled("b");
}

#[test]
fn psl_optional_labels() {
    ports!(FILE, "Scheduling > Instance Type Compatibility > Provider Specific Labels > should schedule optional labels");
    let mut e = Env::with_types(instance_types(5));
    e.apply(np()).apply(pod("p").node_req("special", "Exists", &[]));
    let out = e.provision();
    let n = out.scheduled("p");
    assert!(n.label("special").is_some());
    n.has(IT, "fake-it-4");
}

#[test]
fn psl_optional_labels_disallowed() {
    ports!(FILE, "Scheduling > Instance Type Compatibility > Provider Specific Labels > should schedule without optional labels if disallowed");
    let mut e = Env::with_types(instance_types(5));
    e.apply(nodepool("default")).apply(pod("p").node_req("special", "DoesNotExist", &[]));
    assert_eq!(e.provision().scheduled("p").label("special"), None);
}

// ---------------------------------------------------------------- binpacking

#[test]
fn bp_small_pod_smallest_instance() {
    ports!(FILE, "Scheduling > Binpacking > should schedule a small pod on the smallest instance");
    run1(np(), pod("p").mem("100M")).scheduled("p").has(IT, "small-instance-type");
}

#[test]
fn bp_small_pod_smallest_possible() {
    ports!(FILE, "Scheduling > Binpacking > should schedule a small pod on the smallest possible instance type");
    run1(np(), pod("p").mem("2000M")).scheduled("p").has(IT, "small-instance-type");
}

#[test]
fn bp_runtime_class() {
    ports!(FILE, "Scheduling > Binpacking > should take pod runtime class into consideration");
    let mut e = Env::new();
    e.apply(np())
        .apply(json!({"apiVersion": "node.k8s.io/v1", "kind": "RuntimeClass", "metadata": {"name": "my-runtime-class"}, "handler": "default", "overhead": {"podFixed": {"cpu": "2"}}}))
        .apply(pod("p").cpu("1").set(&["spec", "runtimeClassName"], json!("my-runtime-class")));
    // 1 cpu plus 2 of overhead does not fit the small type
    e.provision().scheduled("p").has(IT, "default-instance-type");
}

#[test]
fn bp_many_small_pods() {
    ports!(FILE, "Scheduling > Binpacking > should schedule multiple small pods on the smallest possible instance type");
    let mut e = Env::new();
    let ps = pods("p", 5, |p| p.mem("10M"));
    e.apply(np()).apply_all(ps.clone());
    let out = e.provision();
    assert_eq!(out.nodes_of(&names(&ps)).len(), 1);
    for p in names(&ps) {
        out.scheduled(&p).has(IT, "small-instance-type");
    }
}

#[test]
fn bp_new_nodes_at_capacity() {
    ports!(FILE, "Scheduling > Binpacking > should create new nodes when a node is at capacity");
    let mut e = Env::new();
    let ps = pods("p", 40, |p| p.node_selector(ARCH, "amd64").mem("1.8G"));
    e.apply(np()).apply_all(ps.clone());
    let out = e.provision();
    assert_eq!(out.nodes_of(&names(&ps)).len(), 20);
    for p in names(&ps) {
        out.scheduled(&p).has(IT, "default-instance-type");
    }
}

#[test]
fn bp_small_and_large_together() {
    ports!(FILE, "Scheduling > Binpacking > should pack small and large pods together");
    let mut e = Env::new();
    let mut ps = pods("large", 40, |p| p.node_selector(ARCH, "amd64").mem("1.8G"));
    ps.extend(pods("small", 20, |p| p.node_selector(ARCH, "amd64").mem("400M")));
    e.apply(np()).apply_all(ps.clone());
    let out = e.provision();
    assert_eq!(out.nodes_of(&names(&ps)).len(), 20);
    for p in names(&ps) {
        out.scheduled(&p).has(IT, "default-instance-type");
    }
}

#[test]
fn bp_tightly() {
    ports!(FILE, "Scheduling > Binpacking > should pack nodes tightly");
    let mut e = Env::with_types(instance_types(5));
    e.apply(np()).apply(pod("a").cpu("4.5")).apply(pod("b").cpu("1"));
    let out = e.provision();
    let (a, b) = (out.scheduled("a"), out.scheduled("b"));
    assert_ne!(a.name, b.name);
    assert_ne!(a.instance_type(), b.instance_type());
}

#[test]
fn bp_zero_quantity() {
    ports!(FILE, "Scheduling > Binpacking > should handle zero-quantity resource requests");
    run1(np(), pod("p").request("foo.com/weird-resources", "0").limit("foo.com/weird-resources", "0")).scheduled("p");
}

#[test]
fn bp_exceeds_every_type() {
    ports!(FILE, "Scheduling > Binpacking > should not schedule pods that exceed every instance type's capacity");
    run1(np(), pod("p").mem("2Ti")).not_scheduled("p");
}

#[test]
fn bp_pod_limit_per_node() {
    ports!(FILE, "Scheduling > Binpacking > should create new nodes when a node is at capacity due to pod limits per node");
    let mut e = Env::new();
    let ps = pods("p", 25, |p| p.node_selector(ARCH, "amd64").mem("1m").cpu("1m"));
    e.apply(np()).apply_all(ps.clone());
    let out = e.provision();
    assert_eq!(out.nodes_of(&names(&ps)).len(), 5);
    for p in names(&ps) {
        out.scheduled(&p).has(IT, "small-instance-type");
    }
}

#[test]
fn bp_init_containers() {
    ports!(FILE, "Scheduling > Binpacking > should take into account initContainer resource requests when binpacking");
    let p = pod("p").mem("1Gi").cpu("1").init_container(json!({"requests": {"memory": "1Gi", "cpu": "2"}}));
    run1(np(), p).scheduled("p").has(IT, "default-instance-type");
}

#[test]
fn bp_init_containers_too_big() {
    ports!(FILE, "Scheduling > Binpacking > should not schedule pods when initContainer resource requests are greater than available instance types");
    let p = pod("p").mem("1Gi").cpu("1").init_container(json!({"requests": {"memory": "1Ti", "cpu": "2"}}));
    run1(np(), p).not_scheduled("p");
}

#[test]
fn bp_valid_types_regardless_of_price() {
    ports!(FILE, "Scheduling > Binpacking > should select for valid instance types, regardless of price");
    let types = vec![
        ty("medium").cpu(2).mem_gi(2).offers_at(&[("test-zone-1a", OD, 3.0)]),
        ty("small").cpu(1).mem_gi(1).offers_at(&[("test-zone-1a", OD, 2.0)]),
        ty("large").cpu(4).mem_gi(4).offers_at(&[("test-zone-1a", OD, 1.0)]),
    ];
    let mut e = Env::with_types(types);
    e.apply(np()).apply(pod("p").limit("cpu", "1m").limit("memory", "1Mi"));
    let out = e.provision();
    let n = out.scheduled("p");
    n.has(IT, "large");
    let mut opts = n.options().to_vec();
    opts.sort();
    assert_eq!(opts, ["large", "medium", "small"]);
}

// ---------------------------------------------------------------- in-flight nodes
// A NodeClaim launched by an earlier provisioning run is an in-flight node: a Node registered
// but not initialized (`Env::launch`).

/// Provision `first`, launch what it created, then provision `second` against that.
fn two_rounds(pool: NodePool, first: Vec<Pod>, second: Vec<Pod>) -> (Env, Vec<String>, Outcome) {
    let mut e = Env::new();
    e.apply(pool).apply_all(first);
    let out = e.provision();
    let nodes = e.launch(&out);
    e.apply_all(second);
    let out = e.provision();
    (e, nodes, out)
}

#[test]
fn ifn_no_second_node() {
    ports!(FILE, "Scheduling > In-Flight Nodes > should not launch a second node if there is an in-flight node that can support the pod");
    let (_, nodes, out) = two_rounds(np(), vec![pod("a").limit("cpu", "10m")], vec![pod("b").limit("cpu", "10m")]);
    assert_eq!(out.scheduled("b").name, nodes[0]);
}

#[test]
fn ifn_no_second_node_selectors() {
    ports!(FILE, "Scheduling > In-Flight Nodes > should not launch a second node if there is an in-flight node that can support the pod (node selectors)");
    let p = |name: &str, zones: &[&str]| pod(name).limit("cpu", "10m").node_req(ZONE, "In", zones);
    let (mut e, nodes, out) = two_rounds(np(), vec![p("a", &["test-zone-2"])], vec![p("b", &["test-zone-1", "test-zone-2"])]);
    assert_eq!(out.scheduled("b").name, nodes[0]);
    // a pod wanting zones 1 or 3 needs another node
    let node = out.scheduled("b").name.clone();
    let obj = e.get("Pod", "b");
    *obj = Pod(obj.clone()).on(&node).0;
    e.apply(p("c", &["test-zone-1", "test-zone-3"]));
    assert_ne!(e.provision().scheduled("c").name, nodes[0]);
}

#[test]
fn ifn_pod_does_not_fit() {
    ports!(FILE, "Scheduling > In-Flight Nodes > should launch a second node if a pod won't fit on the existingNodes node");
    let (_, nodes, out) = two_rounds(np(), vec![pod("a").limit("cpu", "1001m")], vec![pod("b").limit("cpu", "1")]);
    assert_ne!(out.scheduled("b").name, nodes[0]);
}

#[test]
fn ifn_pod_incompatible() {
    ports!(FILE, "Scheduling > In-Flight Nodes > should launch a second node if a pod isn't compatible with the existingNodes node (node selector)");
    let (_, nodes, out) = two_rounds(np(), vec![pod("a").limit("cpu", "10m")], vec![pod("b").node_selector(ARCH, "arm64")]);
    assert_ne!(out.scheduled("b").name, nodes[0]);
}

#[test]
fn ifn_terminating() {
    ports!(FILE, "Scheduling > In-Flight Nodes > should launch a second node if an in-flight node is terminating");
    let mut e = Env::new();
    e.apply(np()).apply(pod("a").limit("cpu", "10m"));
    let out = e.provision();
    let nodes = e.launch(&out);
    e.get("Node", &nodes[0])["metadata"]["deletionTimestamp"] = json!("2026-01-01T00:00:00Z");
    e.apply(pod("b").limit("cpu", "10m"));
    assert_ne!(e.provision().scheduled("b").name, nodes[0]);
}

fn spread_pods(prefix: &str, n: usize, key: &str) -> Vec<Pod> {
    pods(prefix, n, |p| p.label("foo", "bar").spread(key, 1, &[("foo", "bar")]))
}

#[test]
fn ifn_balance_zones() {
    ports!(FILE, "Scheduling > In-Flight Nodes > Topology > should balance pods across zones with in-flight nodes");
    let mut e = Env::new();
    let first = spread_pods("a", 4, ZONE);
    e.apply(np()).apply_all(first.clone());
    let out = e.provision();
    assert_eq!(out.skew(&names(&first), ZONE), [1, 1, 2]);
    let nodes = e.launch(&out);
    let second = spread_pods("b", 5, ZONE);
    e.apply_all(second.clone());
    let out = e.provision();
    let mut all = names(&first);
    all.extend(names(&second));
    // the in-flight nodes take them all
    assert_eq!(out.claims(), 0, "{:#?}", out.r);
    let mut counts = std::collections::BTreeMap::new();
    let state = &out.state;
    for p in &all {
        let node = match out.node(p) {
            Some(n) => n.name,
            None => state.pods.iter().find(|x| x.name.as_str() == p).and_then(|x| x.node_name).unwrap().to_string(),
        };
        let zone = state.nodes.iter().find(|n| n.name.as_str() == node).and_then(|n| n.zone).unwrap();
        *counts.entry(zone).or_insert(0) += 1;
    }
    assert_eq!(counts.values().copied().collect::<Vec<_>>(), [3, 3, 3]);
    assert_eq!(nodes.len(), 3);
}

#[test]
fn ifn_balance_hostnames() {
    ports!(FILE, "Scheduling > In-Flight Nodes > Topology > should balance pods across hostnames with in-flight nodes");
    let mut e = Env::new();
    let first = spread_pods("a", 4, HOSTNAME);
    e.apply(np()).apply_all(first.clone());
    let out = e.provision();
    assert_eq!(out.claims(), 4);
    e.launch(&out);
    let second = spread_pods("b", 5, HOSTNAME);
    e.apply_all(second.clone());
    let out = e.provision();
    // new nodes rather than a second pod on an in-flight one: nine nodes with one pod each
    assert_eq!(out.claims(), 5);
    assert!(out.r.nodeclaims.iter().all(|c| c.pods.len() == 1));
}

/// Round one launches a node for a pod that is then deleted; the node is changed by `edit` and a
/// second pod is provisioned: whether it goes to the node.
fn taint_case(pool: NodePool, first: Pod, edit: impl FnOnce(&mut serde_json::Value)) -> (String, Outcome) {
    let mut e = Env::new();
    e.apply(pool).apply(first);
    let out = e.provision();
    let nodes = e.launch(&out);
    e.delete("Pod", "a");
    edit(e.get("Node", &nodes[0]));
    e.apply(pod("b"));
    (nodes[0].clone(), e.provision())
}

#[test]
fn ifn_taints_cleared() {
    ports!(FILE, "Scheduling > In-Flight Nodes > Taints > should assume pod will schedule to a tainted node with no taints");
    let (n1, out) = taint_case(np(), pod("a").limit("cpu", "8"), |n| n["spec"]["taints"] = json!([]));
    assert_eq!(out.scheduled("b").name, n1);
}

#[test]
fn ifn_not_ready_no_execute_ephemeral_until_initialized() {
    ports!(FILE, "Scheduling > In-Flight Nodes > Taints > should assume pod will schedule to a node with ephemeral taint node.kubernetes.io/not-ready:NoExecute when the node is uninitialized");
    let not_ready = json!([{"key": "node.kubernetes.io/not-ready", "effect": "NoExecute"}]);
    let (n1, out) = taint_case(np(), pod("a"), |n| n["spec"]["taints"] = not_ready.clone());
    assert_eq!(out.scheduled("b").name, n1);
    // once initialized, the taint counts
    let (n1, out) = taint_case(np(), pod("a"), |n| {
        n["spec"]["taints"] = not_ready.clone();
        n["metadata"]["labels"]["karpenter.sh/initialized"] = json!("true");
    });
    assert_ne!(out.scheduled("b").name, n1);
}

#[test]
fn ifn_tainted_initialized() {
    ports!(FILE, "Scheduling > In-Flight Nodes > Taints > should not assume pod will schedule to a tainted node");
    let (n1, out) = taint_case(np(), pod("a").limit("cpu", "8"), |n| {
        n["metadata"]["labels"]["karpenter.sh/initialized"] = json!("true");
        n["spec"]["taints"].as_array_mut().unwrap().push(json!({"key": "foo.com/taint", "value": "tainted", "effect": "NoSchedule"}));
    });
    assert_ne!(out.scheduled("b").name, n1);
}

#[test]
fn ifn_custom_startup_taint() {
    ports!(FILE, "Scheduling > In-Flight Nodes > Taints > should assume pod will schedule to a tainted node with a custom startup taint");
    let pool = np().startup_taint("foo.com/taint", "tainted", "NoSchedule");
    let (n1, out) = taint_case(pool, pod("a").limit("cpu", "8"), |n| {
        // the startup taint and the unregistered taint
        assert_eq!(n["spec"]["taints"].as_array().unwrap().len(), 2);
    });
    assert_eq!(out.scheduled("b").name, n1);
}

#[test]
fn ifn_startup_taint_after_initialization() {
    ports!(FILE, "Scheduling > In-Flight Nodes > Taints > should not assume pod will schedule to a node with startup taints after initialization");
    let pool = np().startup_taint("ignore-me", "nothing-to-see-here", "NoSchedule");
    let (n1, out) = taint_case(pool, pod("a"), |n| {
        n["metadata"]["labels"]["karpenter.sh/initialized"] = json!("true");
        n["spec"]["taints"] = json!([{"key": "ignore-me", "value": "nothing-to-see-here", "effect": "NoSchedule"}]);
        n["status"]["capacity"] = json!({"pods": "10"});
    });
    assert_ne!(out.scheduled("b").name, n1);
}

fn ds(name: &str, p: Pod) -> serde_json::Value {
    daemonset(name, p)
}

/// A DaemonSet pod of `ds` bound to `node`.
fn ds_pod(name: &str, ds: &str, node: &str, p: Pod) -> Pod {
    p.owner("DaemonSet", ds).on(node).set(&["metadata", "name"], json!(name)).set(&["metadata", "uid"], json!(format!("uid-{name}")))
}

#[test]
fn ifn_daemonset_usage_tracked() {
    ports!(FILE, "Scheduling > In-Flight Nodes > Daemonsets > should track daemonset usage separately so we know how many DS resources are remaining to be scheduled");
    let mut e = Env::new();
    e.apply(np()).apply(ds("ds", pod("x").cpu("1").mem("1Gi"))).apply(pod("a").limit("cpu", "8"));
    let out = e.provision();
    let n1 = e.launch(&out)[0].clone();
    e.delete("Pod", "a");
    // its pod is bound: the DaemonSet claims nothing more, leaving 16 - 0.1 - 1 cpu
    e.apply(ds_pod("ds-pod", "ds", &n1, pod("x").cpu("1").mem("2Gi")));
    e.apply(pod("b").limit("cpu", "14.9"));
    assert_eq!(e.provision().scheduled("b").name, n1);
}

#[test]
fn ifn_unexpected_daemonset_pod() {
    ports!(FILE, "Scheduling > In-Flight Nodes > Daemonsets > should handle unexpected daemonset pods binding to the node");
    let mut e = Env::new();
    e.apply(np())
        .apply(ds("ds1", pod("x").node_selector("my-node-label", "value").cpu("1").mem("1Gi")))
        .apply(ds("ds2", pod("x").cpu("1m")))
        .apply(pod("a").limit("cpu", "8"));
    let out = e.provision();
    let n1 = e.launch(&out)[0].clone();
    // a label Karpenter did not set appears, and the DaemonSet it attracts binds a pod
    e.get("Node", &n1)["metadata"]["labels"]["my-node-label"] = json!("value");
    e.delete("Pod", "a");
    e.apply(ds_pod("ds1-pod", "ds1", &n1, pod("x").node_selector("my-node-label", "value").cpu("1").mem("2Gi")));
    e.apply(pod("b").limit("cpu", "15.5"));
    assert_ne!(e.provision().scheduled("b").name, n1);
}

#[test]
fn ifn_daemonset_affinity_on_initialized_and_registered() {
    ports!(FILE, "Scheduling > In-Flight Nodes > Daemonsets > Should properly handle DaemonSet resources with Node Affinity for `karpenter.sh/initialized` and `karpenter.sh/registered`");
    let mut e = Env::new();
    e.apply(np())
        .apply(ds("ds1", pod("x").node_req("karpenter.sh/initialized", "In", &["true"]).cpu("1")))
        .apply(ds("ds2", pod("x").node_req("karpenter.sh/registered", "In", &["true"]).cpu("1")))
        .apply(pod("a").limit("cpu", "2"));
    let out = e.provision();
    let n = out.scheduled("a");
    // both DaemonSets count: 2 + 2 cpu do not fit the 4 cpu types
    n.has(IT, "arm-instance-type");
    assert!(n.requirement("karpenter.sh/initialized").is_none() && n.requirement("karpenter.sh/registered").is_none(), "{:?}", n.claim);
}

#[test]
fn ifn_pack_before_launching() {
    ports!(FILE, "Scheduling > In-Flight Nodes > should pack in-flight nodes before launching new nodes");
    let medium = ty("medium").resource("cpu", "4.25").pods(4);
    let mut e = Env::with_types(vec![Ty { cpu: 4.25, ..medium }]);
    e.apply(np());
    // batches of random sizes in Karpenter; a fixed sequence here
    for (n, size) in [3, 7, 1, 9, 4, 0, 8, 2, 6, 5].into_iter().enumerate() {
        let batch: Vec<Pod> = (0..size).map(|i| pod(&format!("p{n}-{i}")).limit("cpu", "1")).collect();
        e.apply_all(batch);
        let out = e.provision();
        assert!(out.r.unschedulable.is_empty(), "{:#?}", out.r);
        // pods placed on in-flight nodes are bound there
        for x in &out.r.existing_nodes {
            for p in &x.pods {
                let name = p.split_once('/').unwrap().1.to_string();
                let obj = e.get("Pod", &name);
                *obj = Pod(obj.clone()).on(&x.name).0;
            }
        }
        e.launch(&out);
    }
    let state = e.state();
    let free = state
        .nodes
        .iter()
        .filter(|node| {
            let used: i64 = state.pods.iter().filter(|p| p.node_name == Some(node.name)).map(|p| p.requests.cpu).sum();
            node.allocatable.cpu - used >= 1000
        })
        .count();
    assert!(free <= 1, "{free} nodes with a free cpu");
}

#[test]
fn ifn_no_second_node_2011() {
    ports!(FILE, "Scheduling > In-Flight Nodes > should not launch a second node if there is an in-flight node that can support the pod (#2011)");
    // the pod was not bound after the first run: it is still pending, and the in-flight node takes it
    let mut e = Env::new();
    e.apply(np()).apply(pod("a").limit("cpu", "10m"));
    let out = e.provision();
    let n1 = e.launch(&out)[0].clone();
    let obj = e.get("Pod", "a");
    *obj = pod("a").limit("cpu", "10m").0;
    let out = e.provision();
    assert_eq!(out.claims(), 0);
    assert_eq!(out.scheduled("a").name, n1);
}

#[test]
fn ifn_initialized_first() {
    ports!(FILE, "Scheduling > In-Flight Nodes > should order initialized nodes for scheduling uninitialized nodes when all other nodes are inflight");
    let mut e = Env::new();
    e.apply(np());
    for i in 0..100 {
        let n = managed_node(&format!("nc-{i:03}"), "default", "default-instance-type", "test-zone-1", SPOT);
        e.apply(if i == 57 { n } else { n.uninitialized() });
    }
    e.apply(pod("p"));
    assert_eq!(e.provision().scheduled("p").name, "nc-057");
}

#[test]
fn ifn_same_host_port() {
    ports!(FILE, "Scheduling > In-Flight Nodes > should schedule pods with the same host port to different nodes");
    let mut e = Env::new();
    e.apply(np()).apply(pod("a").host_port(8080)).apply(pod("b").host_port(8080));
    let out = e.provision();
    assert_ne!(out.scheduled("a").name, out.scheduled("b").name);
}

// ---------------------------------------------------------------- existing nodes

/// An initialized node Karpenter does not manage, with this allocatable.
fn unmanaged(name: &str, cpu: &str, mem: &str) -> Node {
    node(name).resources(json!({"cpu": cpu, "memory": mem, "pods": "110"}))
}

#[test]
fn en_unmanaged_node() {
    ports!(FILE, "Scheduling > Existing Nodes > should schedule a pod to an existing node unowned by Karpenter");
    let mut e = Env::new();
    e.apply(unmanaged("n1", "10", "10Gi")).apply(np()).apply(pod("p").cpu("10m").limit("cpu", "10m"));
    assert_eq!(e.provision().scheduled("p").name, "n1");
}

#[test]
fn en_unmanaged_node_many_pods() {
    ports!(FILE, "Scheduling > Existing Nodes > should schedule multiple pods to an existing node unowned by Karpenter");
    let mut e = Env::new();
    let ps = pods("p", 100, |p| p.cpu("10m").limit("cpu", "10m"));
    e.apply(unmanaged("n1", "10", "100Gi")).apply(np()).apply_all(ps.clone());
    let out = e.provision();
    for p in names(&ps) {
        assert_eq!(out.scheduled(&p).name, "n1");
    }
}

#[test]
fn en_initialized_first() {
    ports!(FILE, "Scheduling > Existing Nodes > should order initialized nodes for scheduling uninitialized nodes");
    let mut e = Env::new();
    e.apply(np());
    for i in 0..100 {
        let n = managed_node(&format!("n-{i:03}"), "default", "default-instance-type", "test-zone-1", SPOT);
        e.apply(if i == 42 { n } else { n.uninitialized() });
    }
    e.apply(pod("p"));
    assert_eq!(e.provision().scheduled("p").name, "n-042");
}

#[test]
fn en_incompatible_with_node_compatible_with_pool() {
    ports!(FILE, "Scheduling > Existing Nodes > should consider a pod incompatible with an existing node but compatible with NodePool");
    // the node carries no zone label: a pod requiring a zone cannot go there
    let mut e = Env::new();
    e.apply(unmanaged("n1", "10", "10Gi")).apply(pod("p").node_req(ZONE, "In", &["test-zone-1"]));
    e.provision().not_scheduled("p");
    e.apply(np());
    let out = e.provision();
    assert_ne!(out.scheduled("p").name, "n1");
}

#[test]
fn en_daemonset_not_strictly_compatible() {
    ports!(FILE, "Scheduling > Existing Nodes > Daemonsets > should not subtract daemonset overhead that is not strictly compatible with an existing node");
    // the DaemonSet wants a zone the node does not say it is in: it is not expected there
    let mut e = Env::new();
    e.apply(unmanaged("n1", "1", "1Gi"))
        .apply(np())
        .apply(daemonset("ds", pod("x").cpu("100").mem("100Gi").node_req(ZONE, "In", &["test-zone-1"])))
        .apply(pod("a").cpu("1").mem("1Gi"));
    let out = e.provision();
    assert_eq!(out.scheduled("a").name, "n1");
    // another pod would need a new node, whose DaemonSet overhead no type can hold
    let obj = e.get("Pod", "a");
    *obj = Pod(obj.clone()).on("n1").0;
    e.apply(pod("b").cpu("1").mem("1Gi"));
    e.provision().not_scheduled("b");
}

// ---------------------------------------------------------------- no pre-binding
// A pod the first run found a NodeClaim for stays pending (Karpenter does not bind it); the next
// run finds it, and any new pod, room on the in-flight node.

#[test]
fn npb_no_binding() {
    ports!(FILE, "Scheduling > No Pre-Binding > should not bind pods to nodes");
    let mut e = Env::new();
    e.apply(np()).apply(pod("a").limit("cpu", "10m"));
    let out = e.provision();
    assert_eq!(out.claims(), 1);
    let n1 = e.launch(&out)[0].clone();
    let obj = e.get("Pod", "a");
    *obj = pod("a").limit("cpu", "10m").0;
    e.apply(pod("b").limit("cpu", "10m"));
    let out = e.provision();
    assert_eq!(out.claims(), 0);
    assert_eq!(out.scheduled("b").name, n1);
}

#[test]
fn npb_extended_resources_zeroed() {
    ports!(FILE, "Scheduling > No Pre-Binding > should handle resource zeroing of extended resources by kubelet");
    let mut e = Env::new();
    let gpu_pod = |n: &str| pod(n).limit("cpu", "10m").limit(VENDOR_A, "1");
    e.apply(np()).apply(gpu_pod("a"));
    let out = e.provision();
    let n1 = e.launch(&out)[0].clone();
    let obj = e.get("Pod", "a");
    *obj = gpu_pod("a").0;
    // the kubelet reports the GPUs as zero while the node starts: the NodeClaim's figures stand
    let n = e.get("Node", &n1);
    n["status"]["capacity"] = json!({VENDOR_A: "0"});
    n["status"]["allocatable"] = json!({VENDOR_B: "0"});
    e.apply(gpu_pod("b"));
    let out = e.provision();
    assert_eq!(out.claims(), 0, "{:#?}", out.r);
}

#[test]
fn npb_self_affinity_zone() {
    ports!(FILE, "Scheduling > No Pre-Binding > should respect self pod affinity without pod binding (zone)");
    let aff = |n: &str| pod(n).label("security", "s2").affinity_to(ZONE, &[("security", "s2")]);
    let mut e = Env::new();
    e.apply(np()).apply(aff("a"));
    let out = e.provision();
    e.launch(&out);
    let obj = e.get("Pod", "a");
    *obj = aff("a").0;
    e.apply(aff("b"));
    assert_eq!(e.provision().claims(), 0);
}

// ---------------------------------------------------------------- deleting nodes
// A node marked for deletion: its pods that will be evicted are provisioned for with the pending
// pods.

/// A pod on a small node that is then marked for deletion; `edit` changes the pod, `extra` adds
/// objects. Returns the NodeClaims of the next provisioning run.
fn deleting_case(p: Pod, edit: impl FnOnce(Pod) -> Pod, extra: Vec<serde_json::Value>) -> Outcome {
    let mut e = Env::new();
    e.apply(np()).apply(p.clone());
    let out = e.provision();
    out.scheduled(&p.name()).has(IT, "small-instance-type");
    let n1 = e.launch(&out)[0].clone();
    e.get("Node", &n1)["metadata"]["labels"]["karpenter.sh/initialized"] = json!("true");
    e.get("Node", &n1)["metadata"]["deletionTimestamp"] = json!("2026-01-01T00:00:00Z");
    let obj = e.get("Pod", &p.name());
    *obj = edit(Pod(obj.clone())).0;
    e.apply_all(extra);
    e.provision()
}

#[test]
fn dn_active_pods() {
    ports!(FILE, "Scheduling > Deleting Nodes > should re-schedule pods from a deleting node when pods are active");
    let out = deleting_case(pod("a").mem("100M"), |p| p, vec![]);
    assert_eq!(out.claims(), 1);
    out.scheduled("a").has(IT, "small-instance-type");
}

#[test]
fn dn_terminating_pods() {
    ports!(FILE, "Scheduling > Deleting Nodes > should not re-schedule pods from a deleting node when pods are not active");
    let out = deleting_case(pod("a").mem("100M"), |p| p.deleting("2026-01-01T00:00:00Z"), vec![]);
    assert_eq!(out.claims(), 0);
}

#[test]
fn dn_daemonset_pods() {
    ports!(FILE, "Scheduling > Deleting Nodes > should not re-schedule pods from a deleting node when pods are owned by a DaemonSet");
    let mut e = Env::new();
    let n = managed_node("n1", "default", "small-instance-type", "test-zone-1a", OD).deleting("2026-01-01T00:00:00Z");
    e.apply(np()).apply(daemonset("ds", pod("x"))).apply(n).apply(pod("a").mem("100M").owner("DaemonSet", "ds").on("n1").deleting("2026-01-01T00:00:00Z"));
    assert_eq!(e.provision().claims(), 0);
}

#[test]
fn dn_terminating_replicaset_pods() {
    ports!(FILE, "Scheduling > Deleting Nodes > should not reschedule pods from a deleting node when pods are not active and they are owned by a ReplicaSet");
    let out = deleting_case(pod("a").mem("100M").owner("ReplicaSet", "rs"), |p| p.deleting("2026-01-01T00:00:00Z"), vec![]);
    assert_eq!(out.claims(), 0);
}

#[test]
fn dn_terminating_statefulset_pods() {
    ports!(FILE, "Scheduling > Deleting Nodes > should reschedule pods from a deleting node when pods are not active and they are owned by a StatefulSet");
    let out = deleting_case(pod("a").mem("100M").owner("StatefulSet", "ss"), |p| p.deleting("2026-01-01T00:00:00Z"), vec![]);
    assert_eq!(out.claims(), 1);
    out.scheduled("a").has(IT, "small-instance-type");
}

fn dn_pdb(pdbs: Vec<serde_json::Value>) {
    let out = deleting_case(pod("a").mem("100M").label("pdb-test", "value"), |p| p, pdbs);
    assert_eq!(out.claims(), 0, "{:#?}", out.r);
}

#[test]
fn dn_pdb_max_unavailable_0() {
    ports!(FILE, "Scheduling > Deleting Nodes > should not reschedule pods from a deleting node when pods are blocked due to fully blocking PDBs > 0 max unavailable");
    dn_pdb(vec![pdb("pdb", &[("pdb-test", "value")], json!({"maxUnavailable": 0}))]);
}

#[test]
fn dn_pdb_max_unavailable_0_percent() {
    ports!(FILE, "Scheduling > Deleting Nodes > should not reschedule pods from a deleting node when pods are blocked due to fully blocking PDBs > 0% max unavailable");
    dn_pdb(vec![pdb("pdb", &[("pdb-test", "value")], json!({"maxUnavailable": "0%"}))]);
}

#[test]
fn dn_pdb_min_available_100_percent() {
    ports!(FILE, "Scheduling > Deleting Nodes > should not reschedule pods from a deleting node when pods are blocked due to fully blocking PDBs > 100% min available");
    dn_pdb(vec![pdb("pdb", &[("pdb-test", "value")], json!({"minAvailable": "100%"}))]);
}

#[test]
fn dn_pdb_several() {
    ports!(FILE, "Scheduling > Deleting Nodes > should not reschedule pods from a deleting node when pods are blocked due to fully blocking PDBs > multiple PDBs on the same pod");
    dn_pdb(vec![
        pdb("pdb-1", &[("pdb-test", "value")], json!({"minAvailable": "100%"})),
        pdb("pdb-2", &[("pdb-test", "value")], json!({"minAvailable": "100%"})),
    ]);
}

// ---------------------------------------------------------------- NodePool requirements filtering

/// Karpenter says "nodepool requirements filtered out all available instance types"; karpsim names
/// the requirement that filtered out the last ones (`scheduling/unlaunchable.rs`).
#[track_caller]
fn filtered_out(out: &Outcome, p: &str) {
    out.not_scheduled(p);
    let why = out.reason(p);
    assert!(why.contains("no NodePool can launch any instance type: NodePool default can launch nothing: "), "{why}");
}

#[test]
fn nrf_no_available_types() {
    ports!(FILE, "Scheduling > NodePool requirements instance filtering > should return appropriate pod error when no available instance types exist");
    let mut e = Env::new();
    e.apply(np()).apply(pod("normal"));
    let out = e.provision();
    out.scheduled("normal");
    e.launch(&out);
    *e.get("NodePool", "default") = np().reqs(vec![expr(IT, "In", &["non-existent-instance-type"])]).0;
    e.apply(pod("test-pod-filtered").cpu("32").mem("256Gi").limit("cpu", "32").limit("memory", "256Gi"));
    filtered_out(&e.provision(), "test-pod-filtered");
}

#[test]
fn nrf_several_pods() {
    ports!(FILE, "Scheduling > NodePool requirements instance filtering > should handle multiple pods when requirements filter out all instance types");
    let mut e = Env::new();
    e.apply(np().reqs(vec![expr(ARCH, "In", &["non-existent-arch"])])).apply_all(vec![pod("pod-1"), pod("pod-2"), pod("pod-3")]);
    let out = e.provision();
    for p in ["pod-1", "pod-2", "pod-3"] {
        filtered_out(&out, p);
    }
}

#[test]
fn nrf_conflicting_requirements() {
    ports!(FILE, "Scheduling > NodePool requirements instance filtering > should handle conflicting requirements that eliminate all instance types");
    let pool = np().reqs(vec![expr(ARCH, "In", &["amd64"]), expr(ARCH, "In", &["arm64"])]);
    filtered_out(&run1(pool, pod("conflicting-requirements-pod")), "conflicting-requirements-pod");
}

#[test]
fn nrf_zones() {
    ports!(FILE, "Scheduling > NodePool requirements instance filtering > should handle zone requirements that filter out all instance types");
    let pool = np().reqs(vec![expr(ZONE, "In", &["non-existent-zone-1", "non-existent-zone-2"])]);
    filtered_out(&run1(pool, pod("zone-filtered-pod")), "zone-filtered-pod");
}

// ---------------------------------------------------------------- dynamic resource allocation
// IGNORE_DRA_REQUESTS is true by default: pods with claims are not provisioned for, DaemonSets with
// claims add no overhead.

fn dra_case(p: Pod, launches: bool) {
    let out = run1(nodepool("default"), p);
    if launches {
        assert_eq!(out.claims(), 1);
        assert!(out.r.unschedulable.is_empty());
    } else {
        assert_eq!(out.claims(), 0);
        assert!(out.reason("p").contains("Dynamic Resource Allocation"), "{}", out.reason("p"));
    }
}

fn claims(p: Pod, path: &[&str], names: &[&str]) -> Pod {
    p.set(path, json!(names.iter().map(|n| json!({"name": n})).collect::<Vec<_>>()))
}

#[test]
fn dra_container_claims() {
    ports!(FILE, "Scheduling > Dynamic Resource Allocation (DRA) > should handle DRA pods correctly > container with resource claims");
    let p = claims(pod("p").cpu("1").mem("1Gi"), &["spec", "containers", "0", "resources", "claims"], &["gpu-claim"]);
    dra_case(p, false);
}

#[test]
fn dra_init_container_claims() {
    ports!(FILE, "Scheduling > Dynamic Resource Allocation (DRA) > should handle DRA pods correctly > init container with resource claims");
    let p = pod("p").cpu("1").mem("1Gi").init_container(json!({"requests": {"cpu": "500m", "memory": "512Mi"}, "claims": [{"name": "gpu-init-claim"}]}));
    dra_case(p, false);
}

#[test]
fn dra_both_claims() {
    ports!(FILE, "Scheduling > Dynamic Resource Allocation (DRA) > should handle DRA pods correctly > pod with both container and init container resource claims");
    let p = claims(pod("p").cpu("1").mem("1Gi"), &["spec", "containers", "0", "resources", "claims"], &["gpu-claim"])
        .init_container(json!({"requests": {"cpu": "250m", "memory": "256Mi"}, "claims": [{"name": "storage-init-claim"}]}));
    dra_case(p, false);
}

#[test]
fn dra_no_claims() {
    ports!(FILE, "Scheduling > Dynamic Resource Allocation (DRA) > should handle DRA pods correctly > non-DRA pod without resource claims");
    dra_case(pod("p").cpu("1").mem("1Gi"), true);
}

#[test]
fn dra_daemonset() {
    ports!(FILE, "Scheduling > Dynamic Resource Allocation (DRA) > should handle DaemonSet pods with DRA requirements based on IgnoreDRARequests flag value");
    // With the default IGNORE_DRA_REQUESTS=true the DaemonSet's 3 cpu do not count: the 1 cpu pod
    // gets the small type. (The upstream case also runs with the flag off, which needs DRA device
    // allocation, not modelled.)
    let mut e = Env::new();
    let dra_ds = claims(pod("x").cpu("3"), &["spec", "containers", "0", "resources", "claims"], &["gpu-claim"]);
    e.apply(nodepool("default")).apply(daemonset("dra-daemon", dra_ds)).apply(pod("p").cpu("1"));
    e.provision().scheduled("p").has(IT, "small-instance-type");
}
