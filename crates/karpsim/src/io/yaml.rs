//! Text -> `serde_json::Value` documents. YAML (multi-document, via serde-saphyr) or JSON.

use crate::error::{Error, Location, Result};
use serde_json::Value;

/// Parse every document of `text`. Empty documents (only comments, or `---` with nothing after it) are
/// dropped by the parser, so document numbers in errors count the non-empty documents from 1.
pub(crate) fn parse_documents(text: &str, source_name: &str) -> Result<Vec<Value>> {
    let at = || Location { file: Some(source_name.to_string()), ..Default::default() };
    // `kubectl get -o json` output: use the JSON parser, whose errors give line and column directly.
    if text.trim_start().starts_with(['{', '[']) {
        return match serde_json::from_str::<Value>(text) {
            // A top-level JSON array holds one object per element (like a YAML stream).
            Ok(Value::Array(items)) => Ok(items),
            Ok(v) => Ok(vec![v]),
            Err(e) => Err(Error::input(at(), format!("malformed JSON at line {}, column {}: {e}", e.line(), e.column()))),
        };
    }
    // YAML 1.2 booleans only: `name: n` or `value: yes` stay strings. Kubernetes' YAML reader keeps such
    // scalars as written when the field is a string; without a schema here, strings are the safe reading
    // (boolean fields accept the YAML 1.1 spellings, see `Node::bool`).
    let mut options = serde_saphyr::Options::default();
    options.strict_booleans = true;
    match serde_saphyr::from_multiple_with_options::<Value>(text, options) {
        Ok(docs) => Ok(docs.into_iter().filter(|d| !d.is_null()).collect()),
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
    fn malformed_inputs_name_line_and_column() {
        let e = parse_documents("a: 1\nb: [1, 2\nc: 3\n", "bad.yaml").unwrap_err().to_string();
        assert!(e.contains("bad.yaml") && e.contains("line"), "{e}");
        let e = parse_documents("{\"a\": }", "bad.json").unwrap_err().to_string();
        assert!(e.contains("bad.json") && e.contains("line 1, column"), "{e}");
    }
}
