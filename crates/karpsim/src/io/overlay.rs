//! `NodeOverlay` (karpenter.sh/v1alpha1) with the CRD's validation (`karpenter.sh_nodeoverlays.yaml`:
//! the `price` and `priceAdjustment` patterns, at most one of them, no standard resources in
//! `capacity`, weight 1..10000) and the webhook's (`nodeoverlay_validation.go: RuntimeValidate`,
//! which applies `ValidateRequirement` to each requirement).

use super::value::Node;
use crate::error::{Location, Result};
use crate::labels::{self, Sym};
use crate::model::{NodeOverlay, NodeSelectorRequirement, PriceChange, PriceChangeKind};
use crate::requirements::{Operator, Requirement};
use std::collections::BTreeMap;

pub(crate) fn parse_overlay(root: &Node, name: &str, origin: &Location) -> Result<NodeOverlay> {
    let spec = root.req("spec")?;
    spec.check_fields(&["requirements", "weight", "price", "priceAdjustment", "capacity"])?;
    let reqs = spec.req("requirements")?;
    let items = reqs.arr()?;
    if items.len() > 100 {
        return Err(reqs.err("at most 100 requirements are allowed"));
    }
    let requirements = items.iter().map(parse_requirement).collect::<Result<Vec<_>>>()?;
    let weight = match spec.get("weight")? {
        Some(w) => w.i64_in(1, 10_000)? as i32,
        None => 0,
    };
    let price = match (spec.get("price")?, spec.get("priceAdjustment")?) {
        (Some(_), Some(_)) => return Err(spec.err("cannot set both 'price' and 'priceAdjustment'")),
        (Some(p), None) => Some(parse_price(&p)?),
        (None, Some(a)) => Some(parse_adjustment(&a)?),
        (None, None) => None,
    };
    let mut capacity = BTreeMap::new();
    if let Some(c) = spec.get("capacity")? {
        for (k, v) in c.entries()? {
            if matches!(k, "cpu" | "memory" | "ephemeral-storage" | "pods") {
                return Err(v.err(format!("invalid resource restricted: {k} (capacity adds extended resources only)")));
            }
            capacity.insert(k.to_string(), v.amount(k)?);
        }
    }
    Ok(NodeOverlay { name: Sym::new(name), requirements, weight, price, capacity, origin: origin.clone() })
}

/// `price`: pattern `^\d+(\.\d+)?$`, a string as the CRD types it.
fn parse_price(n: &Node) -> Result<PriceChange> {
    let s = n.str().map_err(|_| n.err("expected a string such as \"0.05\" (quote the number)"))?;
    let ok = s.split_once('.').map_or(digits(s), |(a, b)| digits(a) && digits(b));
    match (ok, s.parse::<f64>()) {
        (true, Ok(v)) if v.is_finite() => Ok(PriceChange { text: s.to_string(), kind: PriceChangeKind::Set(v) }),
        _ => Err(n.err(format!("invalid price {s:?} (a non-negative decimal such as \"0.05\")"))),
    }
}

fn digits(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
}

/// A decimal as the pattern's `\d*\.?\d+` writes it: digits, optionally a dot and more digits, or a
/// leading dot.
fn decimal(s: &str) -> bool {
    match s.split_once('.') {
        None => digits(s),
        Some((a, b)) => (a.is_empty() || digits(a)) && digits(b),
    }
}

/// `priceAdjustment`: `^(([+-]{1}(\d*\.?\d+))|(\+{1}\d*\.?\d+%)|(^(-\d{1,2}(\.\d+)?%)$)|(-100%))$`:
/// a signed amount, `+x%`, or a decrease of at most 100%.
fn parse_adjustment(n: &Node) -> Result<PriceChange> {
    let s = n.str().map_err(|_| n.err("expected a string such as \"-0.05\" or \"-20%\" (quote it)"))?;
    let bad = || {
        n.err(format!(
            "invalid priceAdjustment {s:?} (a signed amount such as \"+0.10\" or \"-0.05\", \"+15%\", or a decrease up to \"-100%\")"
        ))
    };
    let (sign, rest) = match s.as_bytes().first() {
        Some(b'+') => (1.0, &s[1..]),
        Some(b'-') => (-1.0, &s[1..]),
        _ => return Err(bad()),
    };
    let kind = match rest.strip_suffix('%') {
        Some(p) => {
            let ok = if sign > 0.0 {
                decimal(p)
            } else {
                p == "100" || p.split_once('.').map_or(digits(p) && p.len() <= 2, |(a, b)| digits(a) && a.len() <= 2 && digits(b))
            };
            if !ok {
                return Err(bad());
            }
            PriceChangeKind::Percent(sign * p.parse::<f64>().map_err(|_| bad())?)
        }
        None if decimal(rest) => PriceChangeKind::Add(sign * rest.parse::<f64>().map_err(|_| bad())?),
        None => return Err(bad()),
    };
    Ok(PriceChange { text: s.to_string(), kind })
}

/// One requirement (`key`, `operator`, `values`; no `minValues` here), validated like a NodePool's.
fn parse_requirement(n: &Node) -> Result<NodeSelectorRequirement> {
    n.check_fields(&["key", "operator", "values"])?;
    let key_node = n.req("key")?;
    let key = labels::normalize_key(key_node.str()?).to_string();
    if labels::is_restricted(&key) && key != "karpenter.sh/nodepool" {
        return Err(key_node.err(format!("label {key:?} is restricted")));
    }
    let op_node = n.req("operator")?;
    let operator = op_node.str()?;
    let op = Operator::parse(operator)
        .ok_or_else(|| op_node.err(format!("unknown operator {operator:?} (In, NotIn, Exists, DoesNotExist, Gt, Lt, Gte, Lte)")))?;
    let values = n.opt_strs("values")?;
    if op == Operator::NotIn && values.is_empty() {
        return Err(n.err("requirements with operator 'NotIn' must have a value defined"));
    }
    Requirement::new(op, &values, None).map_err(|m| n.err(format!("key {key}: {m}")))?;
    if key == labels::CAPACITY_TYPE.as_str()
        && op == Operator::In
        && !values
            .iter()
            .any(|v| matches!(v.as_str(), labels::CAPACITY_TYPE_ON_DEMAND | labels::CAPACITY_TYPE_SPOT | labels::CAPACITY_TYPE_RESERVED))
    {
        return Err(n.err(format!("key {key} has no valid value among {values:?} (on-demand, spot, reserved)")));
    }
    Ok(NodeSelectorRequirement { key: Sym::new(&key), operator: operator.to_string(), values, min_values: None })
}

#[cfg(test)]
mod tests {
    use super::super::tree::Tree;
    use super::*;
    use serde_json::json;

    fn adj(s: &str) -> std::result::Result<PriceChangeKind, String> {
        let v = json!(s);
        parse_adjustment(&Node::root(&Tree::from(&v))).map(|p| p.kind).map_err(|e| e.to_string())
    }

    #[test]
    fn price_adjustments_follow_the_crd_pattern() {
        assert_eq!(adj("+0.10"), Ok(PriceChangeKind::Add(0.10)));
        assert_eq!(adj("-0.05"), Ok(PriceChangeKind::Add(-0.05)));
        assert_eq!(adj("-.5"), Ok(PriceChangeKind::Add(-0.5)));
        assert_eq!(adj("-20%"), Ok(PriceChangeKind::Percent(-20.0)));
        assert_eq!(adj("-12.5%"), Ok(PriceChangeKind::Percent(-12.5)));
        assert_eq!(adj("+150%"), Ok(PriceChangeKind::Percent(150.0)));
        assert_eq!(adj("-100%"), Ok(PriceChangeKind::Percent(-100.0)));
        for bad in ["10%", "0.1", "-150%", "-100.0%", "+-1", "+", "+1.", "cheap", "+1e3", "-5 %"] {
            assert!(adj(bad).is_err(), "{bad}");
        }
        let v = json!("0.05");
        assert_eq!(parse_price(&Node::root(&Tree::from(&v))).unwrap().kind, PriceChangeKind::Set(0.05));
        for bad in [json!("-1"), json!(".5"), json!("1e3"), json!(0.05), json!("+1")] {
            assert!(parse_price(&Node::root(&Tree::from(&bad))).is_err(), "{bad}");
        }
    }
}
