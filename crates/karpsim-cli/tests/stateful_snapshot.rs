//! `examples/eks-stateful-snapshot`: a `kubectl get ... -o json` snapshot with NodeClaims (one still
//! launching), PersistentVolumeClaims on zonal EBS volumes, CSINodes and labelled Namespaces, through
//! every command that reads cluster inputs.

mod common;
use common::*;

use serde_json::Value;

const SNAPSHOT: &str = "examples/eks-stateful-snapshot/cluster.json";

fn pods_on(v: &Value) -> Vec<&str> {
    v["pods"].as_array().unwrap().iter().map(|p| p.as_str().unwrap()).collect()
}

#[test]
fn provision_follows_volumes_in_flight_nodeclaims_and_namespace_selectors() {
    let out = run_json(&["provision", "-f", &repo(SNAPSHOT), "-o", "json"]);
    let claims = out["nodeclaims"].as_array().unwrap();
    // postgres-2's volume is in us-east-1a, whose node is full
    assert_eq!(claims.len(), 1, "{out:#}");
    assert_eq!(claims[0]["zone"], "us-east-1a");
    assert_eq!(pods_on(&claims[0]), ["data/postgres-2"]);
    // the cart pod avoids every node running a database of the platform team, and takes the
    // NodeClaim still launching rather than a new one
    let existing = out["existing_nodes"].as_array().unwrap();
    assert_eq!(existing.len(), 1, "{out:#}");
    assert_eq!(existing[0]["name"], "default-7k2xq");
    assert_eq!(pods_on(&existing[0]), ["shop/cart-5f7d6c8b9-h4j6k"]);
    assert!(out["unschedulable"].as_array().unwrap().is_empty());
    let warnings: Vec<&str> = out["warnings"].as_array().unwrap().iter().map(|w| w.as_str().unwrap()).collect();
    assert!(
        !warnings.iter().any(|w| w.contains("NodeClaim") || w.contains("PersistentVolume") || w.contains("namespace")),
        "{warnings:#?}"
    );
}

#[test]
fn consolidation_keeps_volumes_in_their_zone_and_the_launching_nodeclaim() {
    let out = run_json(&["consolidate", "-f", &repo(SNAPSHOT), "--until-stable", "-o", "json"]);
    let kept = out["kept"].as_array().unwrap();
    assert!(kept.iter().any(|k| k["node"] == "default-7k2xq" && k["reason"].as_str().unwrap().contains("not initialized")), "{out:#}");
    // ip-10-0-2-22 is replaced by a smaller node; postgres-1 goes with it, to us-east-1b where its
    // volume is (the api pod, without a volume, goes to the node in us-east-1c)
    let mut moved = 0;
    for c in out["commands"].as_array().unwrap() {
        for m in c["pods"].as_array().unwrap() {
            let (pod, to) = (m["pod"].as_str().unwrap(), m["to"].as_str().unwrap());
            if pod == "data/postgres-1" {
                let r = to.strip_prefix("replacement-").and_then(|i| i.parse::<usize>().ok()).expect("a replacement");
                assert_eq!(c["replacements"][r]["zone"], "us-east-1b", "{c:#}");
                moved += 1;
            }
        }
    }
    assert_eq!(moved, 1, "{out:#}");
    let end: Vec<&Value> = out["end_state"]["nodes"].as_array().unwrap().iter().collect();
    assert_eq!(end.len(), 4, "{out:#}");
}

#[test]
fn the_trace_converter_reads_the_snapshot_and_says_what_the_csv_leaves_out() {
    let r = run_ok(&["trace", "from-pods", &repo(SNAPSHOT)]);
    let warnings = r.warnings.join("\n");
    for want in [
        "NodeClaim (4)",
        "PersistentVolumeClaim (4)",
        "StorageClass (1)",
        "CSINode (3)",
        "Namespace (4)",
        "PersistentVolumeClaims, which the event CSV does not carry",
    ] {
        assert!(warnings.contains(want), "{want}: {warnings}");
    }
    assert!(!warnings.contains("not modelled"), "{warnings}");
    assert!(r.stdout.contains(",create,data,postgres-2,StatefulSet/postgres,1500m,6Gi,"), "{}", r.stdout);
}
