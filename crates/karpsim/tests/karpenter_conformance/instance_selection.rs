//! `pkg/controllers/provisioning/scheduling/instance_selection_test.go`: the cheapest instance type
//! that meets every constraint, every option of the NodeClaim valid, and minValues.

use crate::harness::*;


const FILE: &str = "provisioning/scheduling/instance_selection_test.go";

/// The suite's NodePool (spot and on-demand, both arches) over the assorted catalog.
fn env() -> Env {
    Env::assorted()
}

fn pool() -> NodePool {
    nodepool("default").req(CT, "In", &[SPOT, OD]).req(ARCH, "In", &["arm64", "amd64"])
}

fn min_price(types: &[Ty]) -> f64 {
    types.iter().flat_map(|t| t.all_offerings()).map(|o| o.price).fold(f64::INFINITY, f64::min)
}

/// Every option of the NodeClaim carries label `k=v` (`ExpectInstancesWithLabel`).
#[track_caller]
fn options_have_label(e: &Env, p: &Placed, k: &str, v: &str) {
    for o in p.options() {
        let t = e.types.iter().find(|t| &t.name == o).unwrap();
        assert_eq!(t.labels.get(k).map(String::as_str), Some(v), "{o}");
    }
}

/// Every option of the NodeClaim has an offering of this capacity type in this zone (`ExpectInstancesWithOffering`).
#[track_caller]
fn options_offer(e: &Env, p: &Placed, ct: &str, zone: &str) {
    for o in p.options() {
        let t = e.types.iter().find(|t| &t.name == o).unwrap();
        assert!(t.all_offerings().iter().any(|x| x.ct == ct && x.zone == zone), "{o}");
    }
}

/// One pod under `pool`, scheduled at the cheapest price; returns the env and the result.
fn cheapest(pool: NodePool, pod: Pod) -> (Env, Outcome) {
    let mut e = env();
    e.apply(pool).apply(pod);
    let out = e.provision();
    let price = out.scheduled("p").price();
    assert_eq!(price, min_price(&e.types));
    (e, out)
}

#[test]
fn cheapest_instance() {
    ports!(FILE, "Instance Type Selection > should schedule on one of the cheapest instances");
    cheapest(pool(), pod("p"));
}

#[test]
fn cheapest_pod_arch_amd64() {
    ports!(FILE, "Instance Type Selection > should schedule on one of the cheapest instances (pod arch = amd64)");
    let (e, out) = cheapest(pool(), pod("p").node_req(ARCH, "In", &["amd64"]));
    options_have_label(&e, &out.scheduled("p"), ARCH, "amd64");
}

#[test]
fn cheapest_pod_arch_arm64() {
    ports!(FILE, "Instance Type Selection > should schedule on one of the cheapest instances (pod arch = arm64)");
    let (e, out) = cheapest(pool(), pod("p").node_req(ARCH, "In", &["arm64"]));
    options_have_label(&e, &out.scheduled("p"), ARCH, "arm64");
}

#[test]
fn cheapest_pool_arch_amd64() {
    ports!(FILE, "Instance Type Selection > should schedule on one of the cheapest instances (prov arch = amd64)");
    let (e, out) = cheapest(nodepool("default").req(ARCH, "In", &["amd64"]), pod("p"));
    options_have_label(&e, &out.scheduled("p"), ARCH, "amd64");
}

#[test]
fn cheapest_pool_arch_arm64() {
    ports!(FILE, "Instance Type Selection > should schedule on one of the cheapest instances (prov arch = arm64)");
    let (e, out) = cheapest(nodepool("default").req(ARCH, "In", &["arm64"]), pod("p"));
    options_have_label(&e, &out.scheduled("p"), ARCH, "arm64");
}

#[test]
fn cheapest_pool_os_windows() {
    ports!(FILE, "Instance Type Selection > should schedule on one of the cheapest instances (prov os = windows)");
    let (e, out) = cheapest(nodepool("default").req(OS, "In", &["windows"]), pod("p"));
    options_have_label(&e, &out.scheduled("p"), OS, "windows");
}

#[test]
fn cheapest_pod_os_windows() {
    ports!(FILE, "Instance Type Selection > should schedule on one of the cheapest instances (pod os = windows)");
    let (e, out) = cheapest(pool(), pod("p").node_req(OS, "In", &["windows"]));
    options_have_label(&e, &out.scheduled("p"), OS, "windows");
}

#[test]
fn cheapest_pool_os_windows_again() {
    ports!(FILE, "Instance Type Selection > should schedule on one of the cheapest instances (prov os = windows) #2");
    let (e, out) = cheapest(nodepool("default").req(OS, "In", &["windows"]), pod("p"));
    options_have_label(&e, &out.scheduled("p"), OS, "windows");
}

#[test]
fn cheapest_pod_os_linux() {
    ports!(FILE, "Instance Type Selection > should schedule on one of the cheapest instances (pod os = linux)");
    let (e, out) = cheapest(pool(), pod("p").node_req(OS, "In", &["linux"]));
    options_have_label(&e, &out.scheduled("p"), OS, "linux");
}

#[test]
fn cheapest_pod_os_linux_again() {
    ports!(FILE, "Instance Type Selection > should schedule on one of the cheapest instances (pod os = linux) #2");
    let (e, out) = cheapest(pool(), pod("p").node_req(OS, "In", &["linux"]));
    options_have_label(&e, &out.scheduled("p"), OS, "linux");
}

#[test]
fn cheapest_pool_zone_2() {
    ports!(FILE, "Instance Type Selection > should schedule on one of the cheapest instances (prov zone = test-zone-2)");
    let (_, out) = cheapest(nodepool("default").req(ZONE, "In", &["test-zone-2"]), pod("p"));
    for o in out.scheduled("p").options() {
        assert!(o.contains("test-zone-2"), "{o}");
    }
}

#[test]
fn cheapest_pod_zone_2() {
    ports!(FILE, "Instance Type Selection > should schedule on one of the cheapest instances (pod zone = test-zone-2)");
    let (_, out) = cheapest(pool(), pod("p").node_req(ZONE, "In", &["test-zone-2"]));
    for o in out.scheduled("p").options() {
        assert!(o.contains("test-zone-2"), "{o}");
    }
}

#[test]
fn cheapest_pool_spot() {
    ports!(FILE, "Instance Type Selection > should schedule on one of the cheapest instances (prov ct = spot)");
    let (_, out) = cheapest(nodepool("default").req(CT, "In", &[SPOT]), pod("p"));
    for o in out.scheduled("p").options() {
        assert!(o.ends_with("-spot"), "{o}");
    }
}

#[test]
fn cheapest_pod_spot() {
    ports!(FILE, "Instance Type Selection > should schedule on one of the cheapest instances (pod ct = spot)");
    let (_, out) = cheapest(pool(), pod("p").node_req(CT, "In", &[SPOT]));
    for o in out.scheduled("p").options() {
        assert!(o.ends_with("-spot"), "{o}");
    }
}

#[test]
fn cheapest_pool_on_demand_zone_1() {
    ports!(FILE, "Instance Type Selection > should schedule on one of the cheapest instances (prov ct = ondemand, prov zone = test-zone-1)");
    let (e, out) = cheapest(nodepool("default").req(CT, "In", &[OD]).req(ZONE, "In", &["test-zone-1"]), pod("p"));
    options_offer(&e, &out.scheduled("p"), OD, "test-zone-1");
}

#[test]
fn cheapest_pod_spot_zone_1() {
    ports!(FILE, "Instance Type Selection > should schedule on one of the cheapest instances (pod ct = spot, pod zone = test-zone-1)");
    let (e, out) = cheapest(pool(), pod("p").node_req(CT, "In", &[SPOT]).node_req(ZONE, "In", &["test-zone-1"]));
    options_offer(&e, &out.scheduled("p"), SPOT, "test-zone-1");
}

#[test]
fn cheapest_pool_spot_pod_zone_2() {
    ports!(FILE, "Instance Type Selection > should schedule on one of the cheapest instances (prov ct = spot, pod zone = test-zone-2)");
    let (e, out) = cheapest(nodepool("default").req(CT, "In", &[SPOT]), pod("p").node_req(ZONE, "In", &["test-zone-2"]));
    options_offer(&e, &out.scheduled("p"), SPOT, "test-zone-2");
}

#[test]
fn cheapest_pool_on_demand_zone_1_arm64_windows() {
    ports!(FILE, "Instance Type Selection > should schedule on one of the cheapest instances (prov ct = ondemand/test-zone-1/arm64/windows)");
    let pool = nodepool("default").req(ARCH, "In", &["arm64"]).req(OS, "In", &["windows"]).req(CT, "In", &[OD]).req(ZONE, "In", &["test-zone-1"]);
    let (e, out) = cheapest(pool, pod("p"));
    let n = out.scheduled("p");
    options_offer(&e, &n, OD, "test-zone-1");
    options_have_label(&e, &n, OS, "windows");
    options_have_label(&e, &n, ARCH, "arm64");
}

#[test]
fn cheapest_pool_amd64_linux_pod_spot_zone_2() {
    ports!(FILE, "Instance Type Selection > should schedule on one of the cheapest instances (prov = spot/test-zone-2, pod = amd64/linux)");
    let pool = nodepool("default").req(ARCH, "In", &["amd64"]).req(OS, "In", &["linux"]);
    let (e, out) = cheapest(pool, pod("p").node_req(CT, "In", &[SPOT]).node_req(ZONE, "In", &["test-zone-2"]));
    let n = out.scheduled("p");
    options_offer(&e, &n, SPOT, "test-zone-2");
    options_have_label(&e, &n, OS, "linux");
    options_have_label(&e, &n, ARCH, "amd64");
}

#[test]
fn cheapest_pod_spot_zone_2_amd64_linux() {
    ports!(FILE, "Instance Type Selection > should schedule on one of the cheapest instances (pod ct = spot/test-zone-2/amd64/linux)");
    let p = pod("p").node_req(ARCH, "In", &["amd64"]).node_req(OS, "In", &["linux"]).node_req(CT, "In", &[SPOT]).node_req(ZONE, "In", &["test-zone-2"]);
    let (e, out) = cheapest(pool(), p);
    let n = out.scheduled("p");
    options_offer(&e, &n, SPOT, "test-zone-2");
    options_have_label(&e, &n, OS, "linux");
    options_have_label(&e, &n, ARCH, "amd64");
}

#[test]
fn no_type_matches_pod_arch() {
    ports!(FILE, "Instance Type Selection > should not schedule if no instance type matches selector (pod arch = arm)");
    let mut e = Env::with_types(assorted_types().into_iter().filter(|t| t.labels[ARCH] == "amd64").collect());
    e.apply(pool()).apply(pod("p").node_req(ARCH, "In", &["arm64"]));
    let out = e.provision();
    out.not_scheduled("p");
    assert_eq!(out.claims(), 0);
}

/// Assorted types without arm64 ones in test-zone-2.
fn no_arm_in_zone_2() -> Vec<Ty> {
    assorted_types().into_iter().filter(|t| !(t.name.contains("test-zone-2") && t.labels[ARCH] == "arm64")).collect()
}

#[test]
fn no_type_matches_pod_arch_and_zone() {
    ports!(FILE, "Instance Type Selection > should not schedule if no instance type matches selector (pod arch = arm zone=test-zone-2)");
    let mut e = Env::with_types(no_arm_in_zone_2());
    e.apply(pool()).apply(pod("p").node_req(ARCH, "In", &["arm64"]).node_req(ZONE, "In", &["test-zone-2"]));
    let out = e.provision();
    out.not_scheduled("p");
    assert_eq!(out.claims(), 0);
}

#[test]
fn no_type_matches_pool_arch_and_pod_zone() {
    ports!(FILE, "Instance Type Selection > should not schedule if no instance type matches selector (prov arch = arm / pod zone=test-zone-2)");
    let mut e = Env::with_types(no_arm_in_zone_2());
    e.apply(nodepool("default").req(ARCH, "In", &["arm64"])).apply(pod("p").node_req(ZONE, "In", &["test-zone-2"]));
    let out = e.provision();
    out.not_scheduled("p");
    assert_eq!(out.claims(), 0);
}

#[test]
fn instance_with_enough_resources() {
    ports!(FILE, "Instance Type Selection > should schedule on an instance with enough resources");
    // three pods of each size always fit one type together; every option of the NodeClaim has
    // room for their requests plus its overhead
    let mut e = env();
    e.apply(pool());
    let base = e.state();
    for cpu in ["0.1", "1.0", "2", "2.5", "4", "8", "16"] {
        for mem in ["0.1", "1.0", "2", "4", "8", "16", "32"] {
            let ps = pods("p", 3, |p| p.cpu(cpu).mem(&format!("{mem}Gi")));
            let out = e.provision_with(&base, &ps);
            assert_eq!(out.nodes_of(&names(&ps)).len(), 1, "{cpu} cpu, {mem}Gi");
            let (cpu_m, mem_b) = ((cpu.parse::<f64>().unwrap() * 1000.0).round() * 3.0, mem.parse::<f64>().unwrap() * GI * 3.0);
            for o in out.scheduled("p-0").options() {
                let t = e.types.iter().find(|t| &t.name == o).unwrap();
                assert!(cpu_m + 100.0 < t.cpu * 1000.0 && mem_b + 10.0 * 1048576.0 < t.mem_bytes, "{o} for {cpu} cpu, {mem}Gi");
            }
        }
    }
}

#[test]
fn cheaper_on_demand_despite_spot_order() {
    ports!(FILE, "Instance Type Selection > should schedule on cheaper on-demand instance even when spot price ordering would place other instance types first");
    let t1 = ty("test-instance1").cpu(1).mem_gi(1).os("linux").offers_at(&[("test-zone-1a", OD, 1.0), ("test-zone-1a", SPOT, 0.2)]);
    let t2 = ty("test-instance2").cpu(1).mem_gi(1).os("linux").offers_at(&[("test-zone-1a", OD, 1.3), ("test-zone-1a", SPOT, 0.1)]);
    let mut e = Env::with_types(vec![t1, t2]);
    e.apply(nodepool("default").req(CT, "In", &[OD])).apply(pod("p"));
    e.provision().scheduled("p").has(IT, "test-instance1");
}

// ---------------------------------------------------------------- minValues

const GEN: &str = "karpenter/numerical-value";

/// An arm64 linux type with one spot offering in `test-zone-1-spot` at `price`.
fn mv_type(name: &str, cpu: u32, price: f64) -> Ty {
    ty(name).arch("arm64").os("linux").cpu(cpu).mem_gi(cpu).offers_at(&[("test-zone-1-spot", SPOT, price)])
}

/// Two 0.9 cpu / 0.9Gi pods.
fn two_pods() -> Vec<Pod> {
    pods("p", 2, |p| p.cpu("0.9").mem("0.9Gi"))
}

/// Both pods scheduled on different nodes, the first NodeClaim with at least two options.
#[track_caller]
fn two_nodes_two_options(out: &Outcome) {
    let (a, b) = (out.scheduled("p-0"), out.scheduled("p-1"));
    assert_ne!(a.name, b.name);
    let first = out.r.nodeclaims.first().expect("a NodeClaim");
    assert!(first.instance_type_options.len() >= 2, "{first:#?}");
}

#[test]
fn min_values_instance_type() {
    ports!(FILE, "Instance Type Selection > MinValues > should schedule respecting the minValues from instance-type requirements");
    let mut e = Env::with_types(vec![mv_type("instance-type-1", 1, 0.52), mv_type("instance-type-2", 4, 1.0)]);
    e.apply(nodepool("default").req_min(IT, "In", &["instance-type-1", "instance-type-2"], 2)).apply_all(two_pods());
    two_nodes_two_options(&e.provision());
}

#[test]
fn min_values_gt() {
    ports!(FILE, "Instance Type Selection > MinValues > should schedule respecting the minValues in Gt operator");
    let types = vec![
        mv_type("instance-type-1", 1, 0.52).label(GEN, "2"),
        mv_type("instance-type-2", 1, 1.0).label(GEN, "3"),
        mv_type("instance-type-3", 4, 1.2).label(GEN, "4"),
    ];
    let mut e = Env::with_types(types);
    e.apply(nodepool("default").req_min(GEN, "Gt", &["2"], 2)).apply_all(two_pods());
    two_nodes_two_options(&e.provision());
}

#[test]
fn min_values_gt_not_met() {
    ports!(FILE, "Instance Type Selection > MinValues > scheduler should fail if the minValues in Gt operator is not satisfied");
    let mut e = Env::with_types(vec![mv_type("instance-type-1", 1, 0.52).label(GEN, "2"), mv_type("instance-type-2", 4, 1.0).label(GEN, "3")]);
    e.apply(nodepool("default").req_min(GEN, "Exists", &[], 2)).apply_all(pods("p", 2, |p| p.cpu("0.9").mem("0.9Gi").node_req(GEN, "Gt", &["2"])));
    let out = e.provision();
    for p in ["p-0", "p-1"] {
        out.not_scheduled(p);
        assert!(out.reason(p).contains("minValues") && out.reason(p).contains(GEN), "{}", out.reason(p));
    }
}

#[test]
fn min_values_lt() {
    ports!(FILE, "Instance Type Selection > MinValues > should schedule respecting the minValues in Lt operator");
    let types = vec![
        mv_type("instance-type-1", 1, 0.52).label(GEN, "2"),
        mv_type("instance-type-2", 2, 1.0).label(GEN, "3"),
        mv_type("instance-type-3", 4, 1.2).label(GEN, "4"),
    ];
    let mut e = Env::with_types(types);
    e.apply(nodepool("default").req_min(GEN, "Lt", &["4"], 2)).apply_all(two_pods());
    two_nodes_two_options(&e.provision());
}

#[test]
fn min_values_lt_not_met() {
    ports!(FILE, "Instance Type Selection > MinValues > scheduler should fail if the minValues in Lt operator is not satisfied");
    let mut e = Env::with_types(vec![mv_type("instance-type-1", 2, 0.52).label(GEN, "2"), mv_type("instance-type-2", 4, 1.2).label(GEN, "4")]);
    e.apply(nodepool("default").req_min(GEN, "Lt", &["4"], 2)).apply_all(two_pods());
    let out = e.provision();
    out.not_scheduled("p-0");
    out.not_scheduled("p-1");
}

fn three_types() -> Vec<Ty> {
    vec![mv_type("instance-type-1", 1, 0.52), mv_type("instance-type-2", 2, 1.0), mv_type("instance-type-3", 4, 1.2)]
}

#[test]
fn min_values_max_of_in_and_not_in() {
    ports!(FILE, "Instance Type Selection > MinValues > should schedule considering the max of the minValues of In and NotIn operators in the instance-type requirements");
    let mut e = Env::with_types(three_types());
    let pool = nodepool("default").req_min(IT, "In", &["instance-type-1", "instance-type-2", "instance-type-3"], 1).req_min(IT, "NotIn", &["instance-type-3"], 2);
    e.apply(pool).apply_all(two_pods());
    two_nodes_two_options(&e.provision());
}

#[test]
fn min_values_max_of_gt_and_lt() {
    ports!(FILE, "Instance Type Selection > MinValues > should schedule considering the max of the minValues of Gt and Lt operators.");
    let types = vec![
        mv_type("instance-type-1", 1, 0.52).label(GEN, "2"),
        mv_type("instance-type-2", 1, 1.0).label(GEN, "3"),
        mv_type("instance-type-3", 4, 1.2).label(GEN, "4"),
        mv_type("instance-type-4", 4, 1.2).label(GEN, "5"),
    ];
    let mut e = Env::with_types(types);
    e.apply(nodepool("default").req_min(GEN, "Gt", &["2"], 1).req_min(GEN, "Lt", &["5"], 2)).apply_all(two_pods());
    two_nodes_two_options(&e.provision());
}

#[test]
fn min_values_more_types_than_exist() {
    ports!(FILE, "Instance Type Selection > MinValues > schedule should fail if minimum number of InstanceTypes is not met as per the minValues in the requirement");
    let mut e = Env::new();
    e.apply(nodepool("default").req_min(IT, "Exists", &[], 11)).apply(pod("p"));
    e.provision().not_scheduled("p");
}

#[test]
fn min_values_after_truncation() {
    ports!(FILE, "Instance Type Selection > MinValues > schedule should fail if minimum number of InstanceTypes is not met as per the minValues in the requirement after truncation");
    let mut e = Env::with_types(vec![mv_type("instance-type-1", 1, 0.52), mv_type("instance-type-2", 4, 1.0)]);
    e.opts.max_instance_types = 1;
    e.apply(nodepool("default").req_min(IT, "In", &["instance-type-1", "instance-type-2"], 2)).apply_all(two_pods());
    let out = e.provision();
    out.not_scheduled("p-0");
    out.not_scheduled("p-1");
}

#[test]
fn min_values_max_of_operators_same_key() {
    ports!(FILE, "Instance Type Selection > MinValues > should schedule and pick the max of minValues of InstanceTypes if multiple operators are used for the same requirement.");
    let mut e = Env::with_types(vec![mv_type("instance-type-1", 1, 0.52), mv_type("instance-type-2", 4, 1.0)]);
    let pool = nodepool("default").req_min(IT, "Exists", &[], 1).req_min(IT, "In", &["instance-type-1", "instance-type-2"], 2);
    e.apply(pool).apply_all(two_pods());
    two_nodes_two_options(&e.provision());
}

#[test]
fn min_values_several_keys() {
    ports!(FILE, "Instance Type Selection > MinValues > should schedule and respect multiple requirement keys with minValues");
    let t2 = ty("instance-type-2").arch("amd64").os("linux").cpu(4).mem_gi(4).offers_at(&[("test-zone-1-spot", SPOT, 1.0)]);
    let mut e = Env::with_types(vec![mv_type("instance-type-1", 1, 0.52), t2]);
    let pool = nodepool("default").req_min(ARCH, "Exists", &[], 2).req_min(IT, "In", &["instance-type-1", "instance-type-2"], 1);
    e.apply(pool).apply_all(two_pods());
    two_nodes_two_options(&e.provision());
}

