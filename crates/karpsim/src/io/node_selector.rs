//! Node selector terms as pods' node affinity and PersistentVolumes' node affinity write them.

use super::value::Node;
use crate::error::Result;
use crate::labels::{Sym, normalize_key};
use crate::model::{NodeSelectorRequirement, NodeSelectorTerm};

fn parse_node_selector_requirement(n: &Node) -> Result<NodeSelectorRequirement> {
    n.check_fields(&["key", "operator", "values"])?;
    // core/v1 validation (`ValidateNodeSelectorRequirement`): the key is a label key, and (for new
    // pods) the values of a required node affinity are label values.
    let key = n.req("key")?.label_key()?;
    let op_node = n.req("operator")?;
    let operator = op_node.str()?;
    let values = n.opt_strs("values")?;
    match operator {
        "In" | "NotIn" if values.is_empty() => return Err(n.err(format!("operator {operator} needs at least one value"))),
        "Exists" | "DoesNotExist" if !values.is_empty() => {
            return Err(n.err(format!("operator {operator} takes no values")));
        }
        "Gt" | "Lt" if values.len() != 1 || values[0].parse::<i64>().is_err() => {
            return Err(n.err(format!("operator {operator} needs exactly one integer value")));
        }
        "In" | "NotIn" | "Exists" | "DoesNotExist" | "Gt" | "Lt" => {}
        other => {
            return Err(op_node.err(format!("unknown operator {other:?} (In, NotIn, Exists, DoesNotExist, Gt, Lt)")));
        }
    }
    if matches!(operator, "In" | "NotIn") {
        n.opt_label_values("values")?;
    }
    Ok(NodeSelectorRequirement { key: Sym::new(normalize_key(key)), operator: operator.to_string(), values, min_values: None })
}

pub(crate) fn parse_node_selector_term(n: &Node) -> Result<NodeSelectorTerm> {
    // `matchFields` (only `metadata.name`) is what the DaemonSet controller writes into the pods it
    // creates; such pods are already bound, so the field is accepted and not modelled.
    n.check_fields(&["matchExpressions", "matchFields"])?;
    let match_expressions = n.opt_arr("matchExpressions")?.iter().map(parse_node_selector_requirement).collect::<Result<_>>()?;
    Ok(NodeSelectorTerm { match_expressions, match_fields: n.get("matchFields")?.is_some() })
}
