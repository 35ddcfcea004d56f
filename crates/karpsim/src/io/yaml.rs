//! Text -> documents: `serde_json::Value`s, or for the loader JSON as borrowing `Tree`s. YAML
//! (multi-document, via serde-saphyr) or JSON.

use crate::error::{Error, Location, Result};
use super::tree::{OwnedTree, Tree};
use serde_json::Value;

/// Parse every document of `text`. Empty documents (only comments, or `---` with nothing after it) are
/// dropped by the parser, so document numbers in errors count the non-empty documents from 1.
///
/// Text that looks like JSON (`{` or `[` first) is tried as JSON first, for the JSON parser's speed on
/// `kubectl get -o json` output; a `.json` file stops there. Anything else the JSON parser does not
/// take is read as YAML: JSON is a subset of YAML, and a `.yaml` file of flow-style documents
/// separated by `---` starts with `{` too.
pub(crate) fn parse_documents(text: &str, source_name: &str) -> Result<Vec<Value>> {
    match json_first::<Value>(text, source_name)? {
        // A top-level JSON array holds one object per element (like a YAML stream).
        Some(Value::Array(items)) => Ok(items),
        Some(v) => Ok(vec![v]),
        None => parse_yaml::<Value>(text, source_name, Value::is_null),
    }
}

/// The documents of `text` for the loader, as [`Tree`]s (no `Value` built): JSON text's borrow it,
/// YAML's own their strings (the YAML parser lends none that outlive it). Same rules as
/// [`parse_documents`].
pub(crate) fn parse_trees<'t>(text: &'t str, source_name: &str) -> Result<Vec<Tree<'t>>> {
    match json_first::<Tree<'t>>(text, source_name)? {
        Some(Tree::Array(items)) => Ok(items),
        Some(t) => Ok(vec![t]),
        None => {
            let docs = parse_yaml::<OwnedTree>(text, source_name, |d| matches!(d.0, Tree::Null))?;
            Ok(docs.into_iter().map(|d| d.0).collect())
        }
    }
}

/// `text` parsed as JSON when it looks like JSON (`None`: read it as YAML); an error for a `.json`
/// file that looks like JSON and is not.
fn json_first<'t, T: serde::Deserialize<'t>>(text: &'t str, source_name: &str) -> Result<Option<T>> {
    // a `.json` file that looks like JSON is JSON: YAML would read some broken JSON (`{"a": }`) as
    // something else
    let looks_json = text.trim_start().starts_with(['{', '[']);
    if !looks_json {
        return Ok(None);
    }
    match serde_json::from_str::<T>(text) {
        Ok(doc) => Ok(Some(doc)),
        Err(e) if source_name.ends_with(".json") => {
            let message = format!("malformed JSON at line {}, column {}: {e}", e.line(), e.column());
            Err(Error::input(Location { file: Some(source_name.to_string()), ..Default::default() }, message))
        }
        Err(_) => Ok(None),
    }
}

/// The YAML documents of `text`, less the empty ones (`is_empty`: a document that reads as null).
fn parse_yaml<T: serde::de::DeserializeOwned>(text: &str, source_name: &str, is_empty: impl Fn(&T) -> bool) -> Result<Vec<T>> {
    let at = || Location { file: Some(source_name.to_string()), ..Default::default() };
    // YAML 1.2 booleans only: `name: n` or `value: yes` stay strings. Kubernetes' YAML reader keeps such
    // scalars as written when the field is a string; without a schema here, strings are the safe reading
    // (boolean fields accept the YAML 1.1 spellings, see `Node::bool`).
    let mut options = serde_saphyr::Options::default();
    options.strict_booleans = true;
    options.budget = Some(budget_for(text));
    match serde_saphyr::from_multiple_with_options::<T>(text, options) {
        Ok(docs) => Ok(docs.into_iter().filter(|d| !is_empty(d)).collect()),
        Err(e) => {
            let mut message = format!("malformed YAML: {e}");
            if let Some(loc) = e.location() {
                let lc = format!("line {}, column {}", loc.line(), loc.column());
                let lc_plain = format!("line {} column {}", loc.line(), loc.column());
                if !message.contains(&lc) && !message.contains(&lc_plain) {
                    message = format!("malformed YAML at {lc}: {e}");
                }
            }
            Err(Error::input(at(), message))
        }
    }
}

/// The YAML parser's budget for `text`. serde-saphyr's defaults (1,024 documents, 250,000 nodes)
/// refuse real clusters (`kubectl get pods -A -o yaml` of a few thousand pods). A text already in
/// memory can hold at most about one document, node or event per byte it has, so those limits grow
/// with its length: parsing stays linear in the input, and what the objects expand to is bounded by
/// the work limit ([`crate::WorkLimits`]). Aliases keep serde-saphyr's limits (50,000 aliases and
/// anchors, 1,000,000 replayed events), which are what stop an alias bomb from multiplying a small text.
fn budget_for(text: &str) -> serde_saphyr::Budget {
    let n = text.len().saturating_add(1);
    let mut b = serde_saphyr::Budget::default();
    b.max_documents = b.max_documents.max(n);
    b.max_nodes = b.max_nodes.max(n);
    // every node is at most a start and an end event; documents and the stream add a few more
    b.max_events = b.max_events.max(n.saturating_mul(3));
    b.max_total_scalar_bytes = b.max_total_scalar_bytes.max(n);
    b
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn multi_document_yaml_and_json() {
        let docs = parse_documents("# c\n---\na: 1\n---\n---\nb: [x]\n", "f.yaml").unwrap();
        assert_eq!(docs.len(), 2);
        assert_eq!(docs[1]["b"][0], "x");
        let docs = parse_documents("name: n\nvalue: yes\nflag: true\n", "f.yaml").unwrap();
        assert_eq!((docs[0]["name"].as_str(), docs[0]["value"].as_str(), docs[0]["flag"].as_bool()), (Some("n"), Some("yes"), Some(true)));
        let docs = parse_documents("  {\"kind\": \"List\", \"items\": []}", "f.json").unwrap();
        assert_eq!(docs[0]["kind"], "List");
        let docs = parse_documents("[{\"kind\": \"Pod\"}, {\"kind\": \"Node\"}]", "f.json").unwrap();
        assert_eq!(docs.len(), 2);
    }

    #[test]
    fn yaml_reads_into_the_trees_its_values_make() {
        // read straight into trees, YAML gives what reading it as values and viewing them as trees
        // gives, and the same errors: numbers of every size, floats, nulls, keys that are not
        // strings, unsorted keys, empty documents dropped, duplicate keys, a non-finite float
        let texts = [
            "b: [1, -2, 2.5, 18446744073709551615, 170141183460469231731687303715884105727, ~, yes, true, 'q']\n\
             a: {z: s, 1: one, true: t, c: {}, \"e\\u00e9\": x}\n---\n# empty\n---\n- x\n- {k: v}\n",
            "b: 1\na: 2\nb: 3\n",
            "a: [.nan]\n",
            "a: [1, 2\n",
        ];
        for text in texts {
            let values = parse_documents(text, "f.yaml").map(|v| v.iter().map(Tree::from).map(|t| format!("{t:?}")).collect::<Vec<_>>());
            let trees = parse_trees(text, "f.yaml").map(|t| t.iter().map(|t| format!("{t:?}")).collect::<Vec<_>>());
            assert_eq!(trees.map_err(|e| e.to_string()), values.map_err(|e| e.to_string()), "{text}");
        }
        assert_eq!(parse_trees(texts[0], "f.yaml").unwrap().len(), 2);
    }

    #[test]
    fn flow_style_yaml_documents_are_yaml() {
        let text = "{apiVersion: v1, kind: Pod, metadata: {name: a}}\n---\n{apiVersion: v1, kind: Pod, metadata: {name: b}}\n";
        let docs = parse_documents(text, "pods.yaml").unwrap();
        assert_eq!(docs.len(), 2);
        assert_eq!(docs[1]["metadata"]["name"], "b");
        let e = parse_documents("{\"a\": 1} trailing", "bad.json").unwrap_err().to_string();
        assert!(e.contains("malformed JSON") && e.contains("bad.json"), "{e}");
        let docs = parse_documents("{\"kind\": \"Pod\"}\n---\n{\"kind\": \"Node\"}\n", "<string>").unwrap();
        assert_eq!(docs.len(), 2);
    }

    #[test]
    fn big_yaml_streams_are_read() {
        // more documents than serde-saphyr's default budget (1,024)
        let doc = "kind: Pod\nmetadata: {name: p, labels: {a: b, c: d}}\nspec: {containers: [{name: x}]}\n";
        let text = format!("{doc}---\n").repeat(1_500);
        assert_eq!(parse_documents(&text, "many.yaml").unwrap().len(), 1_500);
        // the node and event limits grow with the text (a 10,000-pod `kubectl get -o yaml` is ~40 MB)
        let b = budget_for(&"x".repeat(40 << 20));
        assert!(b.max_nodes >= 40 << 20 && b.max_events >= 80 << 20 && b.max_documents >= 40 << 20);
        assert_eq!(b.max_aliases, serde_saphyr::Budget::default().max_aliases);
    }

    #[test]
    fn alias_bombs_are_still_refused() {
        // serde-saphyr's alias heuristics stay on: many aliases of few anchors are refused
        let text = format!("a: &a [x, x, x, x]\nb: [{}]\n", vec!["*a"; 2_000].join(", "));
        assert!(parse_documents(&text, "bomb.yaml").is_err());
    }

    #[test]
    fn malformed_inputs_name_line_and_column() {
        let e = parse_documents("a: 1\nb: [1, 2\nc: 3\n", "bad.yaml").unwrap_err().to_string();
        assert!(e.contains("bad.yaml") && e.contains("line"), "{e}");
        let e = parse_documents("{\"a\": }", "bad.json").unwrap_err().to_string();
        assert!(e.contains("bad.json") && e.contains("line 1, column"), "{e}");
    }
}
