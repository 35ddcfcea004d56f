//! `NodePool` (karpenter.sh/v1) with the CRD defaults and the CRD/webhook validation Karpenter applies
//! (`pkg/apis/v1/nodepool.go`, `nodepool_validation.go`, CEL rules of `karpenter.sh_nodepools.yaml`).

use super::pod::{parse_taint, sym_map};
use super::value::{Node, duration_or_never, parse_duration};
use crate::error::Result;
use crate::labels::{Sym, normalize_key};
use crate::model::{Budget, ConsolidationPolicy, DisruptionReason, NodePool, NodeSelectorRequirement};
use crate::resources::{Limits, parse_amount};

pub(crate) fn parse_nodepool(root: &Node, name: &str) -> Result<NodePool> {
    let mut np = NodePool::new(name);
    np.deleting = root.req("metadata")?.get("deletionTimestamp")?.is_some();
    let spec = root.req("spec")?;
    spec.check_fields(&["template", "disruption", "limits", "weight", "replicas"])?;
    let template = spec.req("template")?;
    template.check_fields(&["metadata", "spec"])?;
    if let Some(m) = template.get("metadata")? {
        m.check_fields(&["labels", "annotations"])?;
        let labels = m.opt_label_map("labels")?;
        if let Some(l) = m.get("labels")? {
            for k in labels.keys() {
                restricted_key(k).map_err(|e| l.child_err(k, e))?;
            }
        }
        np.labels = sym_map(labels);
        np.annotations = m.opt_string_map("annotations")?;
    }
    let ts = template.req("spec")?;
    ts.check_fields(&["requirements", "taints", "startupTaints", "nodeClassRef", "expireAfter", "terminationGracePeriod"])?;
    let reqs = ts.opt_arr("requirements")?;
    if reqs.len() > 100 {
        return Err(ts.req("requirements")?.err("at most 100 requirements are allowed"));
    }
    np.requirements = reqs.iter().map(parse_requirement).collect::<Result<_>>()?;
    np.taints = ts.opt_arr("taints")?.iter().map(parse_taint).collect::<Result<_>>()?;
    np.startup_taints = ts.opt_arr("startupTaints")?.iter().map(parse_taint).collect::<Result<_>>()?;
    if let Some(r) = ts.get("nodeClassRef")? {
        r.check_fields(&["group", "kind", "name"])?;
        np.node_class = Some(Sym::new(r.req("name")?.str()?));
    }
    if let Some(e) = ts.get("expireAfter")? {
        np.expire_after = duration_or_never(&e)?;
    }
    if let Some(t) = ts.get("terminationGracePeriod")? {
        let s = t.str()?;
        np.termination_grace_period = Some(parse_duration(s).map_err(|m| t.err(m))?);
    }
    if let Some(l) = spec.get("limits")? {
        let mut limits = Limits::default();
        for (k, n) in l.entries()? {
            // `parse_amount` puts cpu in millicores, everything else (including `nodes`) in units.
            let s = n.quantity_str()?;
            let v = parse_amount(k, &s).map_err(|e| e.at(crate::error::Location::field(n.path())))?;
            if v < 0 {
                return Err(n.err(format!("negative quantity {s:?}")));
            }
            limits.0.insert(k.to_string(), v);
        }
        np.limits = limits;
    }
    if let Some(w) = spec.get("weight")? {
        np.weight = w.i64_in(1, 100)? as i32;
    }
    if let Some(r) = spec.get("replicas")? {
        np.replicas = Some(r.i64_in(0, super::controllers::MAX_REPLICAS)?);
        // CEL rules of `pkg/apis/v1/nodepool.go` for static NodePools
        if let Some(l) = spec.get("limits")?
            && l.entries()?.iter().any(|(k, _)| *k != "nodes")
        {
            return Err(l.err("only 'limits.nodes' is supported on static NodePools"));
        }
        if let Some(w) = spec.get("weight")? {
            return Err(w.err("'weight' is not supported on static NodePools"));
        }
    }
    if let Some(d) = spec.get("disruption")? {
        d.check_fields(&["consolidationPolicy", "consolidateAfter", "budgets"])?;
        if let Some(p) = d.get("consolidationPolicy")? {
            np.disruption.consolidation_policy = match p.str()? {
                "WhenEmpty" => ConsolidationPolicy::WhenEmpty,
                "WhenEmptyOrUnderutilized" => ConsolidationPolicy::WhenEmptyOrUnderutilized,
                "Balanced" => ConsolidationPolicy::Balanced,
                other => {
                    return Err(p.err(format!("unknown consolidationPolicy {other:?} (WhenEmpty, WhenEmptyOrUnderutilized, Balanced)")));
                }
            };
        }
        if let Some(c) = d.get("consolidateAfter")? {
            np.disruption.consolidate_after = duration_or_never(&c)?;
        }
        if let Some(b) = d.get("budgets")? {
            let items = b.arr()?;
            if items.len() > 50 {
                return Err(b.err("at most 50 budgets are allowed"));
            }
            np.disruption.budgets = items.iter().map(parse_budget).collect::<Result<_>>()?;
        }
    }
    Ok(np)
}

/// A NodePool requirement (`NodeSelectorRequirementWithMinValues`).
fn parse_requirement(n: &Node) -> Result<NodeSelectorRequirement> {
    n.check_fields(&["key", "operator", "values", "minValues"])?;
    let key_node = n.req("key")?;
    let key = key_node.label_key()?;
    restricted_key(key).map_err(|e| key_node.err(e))?;
    let op_node = n.req("operator")?;
    let operator = op_node.str()?;
    let values = n.opt_strs("values")?;
    match operator {
        "In" if values.is_empty() => return Err(n.err("operator In needs at least one value")),
        "Gt" | "Lt" | "Gte" | "Lte" => {
            if values.len() != 1 || values[0].parse::<u64>().is_err() {
                return Err(n.err(format!("operator {operator} needs exactly one non-negative integer value")));
            }
        }
        "In" | "NotIn" | "Exists" | "DoesNotExist" => {}
        other => {
            return Err(op_node.err(format!("unknown operator {other:?} (In, NotIn, Exists, DoesNotExist, Gt, Lt, Gte, Lte)")));
        }
    }
    if matches!(operator, "In" | "NotIn") {
        n.opt_label_values("values")?;
    }
    let min_values = match n.get("minValues")? {
        None => None,
        Some(m) => {
            let v = m.i64_in(1, 50)?;
            if operator == "In" && (values.len() as i64) < v {
                return Err(m.err(format!("minValues {v} is more than the {} values given", values.len())));
            }
            Some(v as u32)
        }
    };
    // Karpenter rewrites deprecated label keys in requirements (`NormalizedLabels`).
    Ok(NodeSelectorRequirement { key: Sym::new(normalize_key(key)), operator: operator.to_string(), values, min_values })
}

/// The NodePool CRD's rules on requirement keys and template label keys: the `karpenter.sh` domain is
/// Karpenter's own (only `karpenter.sh/capacity-type` may be set), and `kubernetes.io/hostname` is
/// set per node.
fn restricted_key(key: &str) -> std::result::Result<(), String> {
    let domain = key.split_once('/').map_or("", |(d, _)| d);
    if key == "kubernetes.io/hostname" {
        return Err(format!("label {key:?} is restricted (each node has its own)"));
    }
    if domain.ends_with("karpenter.sh") && key != "karpenter.sh/capacity-type" {
        return Err(format!("label domain \"karpenter.sh\" is restricted ({key:?}; only karpenter.sh/capacity-type may be required)"));
    }
    Ok(())
}

/// `nodes` must match `^((100|[0-9]{1,2})%|[0-9]+)$` (CRD pattern).
fn valid_budget_nodes(s: &str) -> bool {
    let digits = |t: &str| !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit());
    match s.strip_suffix('%') {
        Some(p) => p == "100" || (digits(p) && p.len() <= 2),
        None => digits(s),
    }
}

/// `duration` must match `^((([0-9]+(h|m))|([0-9]+h[0-9]+m))(0s)?)$` (CRD pattern).
fn valid_budget_duration(s: &str) -> bool {
    let s = s.strip_suffix("0s").unwrap_or(s);
    let digits = |t: &str| !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit());
    match s.split_once('h') {
        Some((h, "")) => digits(h),
        Some((h, m)) => digits(h) && m.strip_suffix('m').is_some_and(digits),
        None => s.strip_suffix('m').is_some_and(digits),
    }
}

fn parse_budget(n: &Node) -> Result<Budget> {
    n.check_fields(&["nodes", "schedule", "duration", "reasons"])?;
    let nodes_node = n.req("nodes")?;
    let nodes = nodes_node.str()?;
    if !valid_budget_nodes(nodes) {
        return Err(nodes_node.err(format!("invalid budget {nodes:?} (a node count like \"5\" or a percentage 0%..100%)")));
    }
    let schedule = n.opt_str("schedule")?.map(str::to_string);
    let duration = match n.get("duration")? {
        Some(d) => {
            let text = d.str()?;
            if !valid_budget_duration(text) {
                return Err(d.err(format!("invalid budget duration {text:?} (hours and minutes, like 8h, 30m or 1h30m)")));
            }
            Some(parse_duration(text).map_err(|m| d.err(m))?)
        }
        None => None,
    };
    if schedule.is_some() != duration.is_some() {
        return Err(n.err("schedule and duration must be set together"));
    }
    if let Some(s) = &schedule {
        // Karpenter parses the schedule when it evaluates the budget (`Budget.IsActive`); one it cannot
        // parse fails every disruption decision of the pool. Refuse it here, where the field is known.
        if let Err(e) = crate::disruption::cron::Cron::parse(s) {
            return Err(n.req("schedule")?.err(format!("invalid cron schedule {s:?}: {e}")));
        }
    }
    let reasons = match n.get("reasons")? {
        None => None,
        Some(r) => {
            let mut out = Vec::new();
            for item in r.arr()? {
                out.push(match item.str()? {
                    "Underutilized" => DisruptionReason::Underutilized,
                    "Empty" => DisruptionReason::Empty,
                    "Drifted" => DisruptionReason::Drifted,
                    other => return Err(item.err(format!("unknown disruption reason {other:?} (Underutilized, Empty, Drifted)"))),
                });
            }
            Some(out)
        }
    };
    Ok(Budget { nodes: nodes.to_string(), schedule, duration, reasons })
}

#[cfg(test)]
mod tests {
    use super::super::tree::Tree;
    use super::*;
    use serde_json::json;

    #[test]
    fn budget_nodes_pattern() {
        for ok in ["0", "10", "100%", "0%", "99%", "5%", "1000"] {
            assert!(valid_budget_nodes(ok), "{ok}");
        }
        for bad in ["101%", "100 %", "%", "", "-1", "1.5", "abc", "050%x"] {
            assert!(!valid_budget_nodes(bad), "{bad}");
        }
    }

    #[test]
    fn budget_duration_pattern() {
        for ok in ["8h", "30m", "1h30m", "8h0s", "1h30m0s", "0m"] {
            assert!(valid_budget_duration(ok), "{ok}");
        }
        for bad in ["90s", "1d", "h", "1h30", "1.5h", "", "m30", "1m30m"] {
            assert!(!valid_budget_duration(bad), "{bad}");
        }
    }

    #[test]
    fn invalid_cron_schedules_name_the_field() {
        let budgets = |schedule: &str| json!({"metadata": {"name": "default"}, "spec": {"template": {"spec": {}}, "disruption": {"budgets": [
            {"nodes": "10%"}, {"nodes": "0", "schedule": schedule, "duration": "8h"}]}}});
        for bad in ["61 * * * *", "@fortnightly", "*/0 * * * *", "1-0 * * * *", "0 0 * * 8"] {
            let v = budgets(bad);
            let e = parse_nodepool(&Node::root(&Tree::from(&v)), "default").unwrap_err().to_string();
            assert!(e.contains("spec.disruption.budgets[1].schedule") && e.contains("invalid cron schedule"), "{bad}: {e}");
        }
        let v = budgets("0 9 * * mon-fri");
        assert!(parse_nodepool(&Node::root(&Tree::from(&v)), "default").is_ok());
    }

    #[test]
    fn requirement_validation() {
        let r = |v: serde_json::Value| parse_requirement(&Node::root(&Tree::from(&v)));
        assert!(r(json!({"key": "k", "operator": "In", "values": ["a", "b"], "minValues": 2})).is_ok());
        assert!(r(json!({"key": "k", "operator": "Gte", "values": ["4"]})).is_ok());
        assert!(r(json!({"key": "k", "operator": "In", "values": ["a"], "minValues": 2})).is_err());
        assert!(r(json!({"key": "k", "operator": "Exists", "minValues": 51})).is_err());
        assert!(r(json!({"key": "k", "operator": "Gt", "values": ["-1"]})).is_err());
        assert!(r(json!({"key": "k", "operator": "Equals"})).is_err());
    }
}
