//! The commands' JSON output: pretty-printed with two-space indentation, byte for byte what
//! `serde_json::to_string_pretty` writes, but with each line break and its indentation written as
//! one slice. The pretty printer writes the indentation one level at a time; at 5,000 pods a result
//! has ~85,000 values three or four levels deep, and those small writes were about a fifth of its
//! serialisation.

use karpsim::{Error, Result};
use serde_json::ser::Formatter;
use std::io;

/// A line break followed by the indentation of the deepest level written in one slice; deeper levels
/// (no result reaches them) are written in several.
const BREAK: &[u8; 1 + 2 * 32] = b"\n                                                                ";

/// `serde_json`'s pretty formatter with an indent of two spaces (its default), writing each line
/// break and indentation at once.
#[derive(Default)]
struct Pretty {
    depth: usize,
    /// The current array or object has a value (so its closing bracket goes on a line of its own).
    has_value: bool,
}

impl Pretty {
    fn line_break<W: ?Sized + io::Write>(&self, w: &mut W) -> io::Result<()> {
        let mut spaces = 2 * self.depth;
        let first = spaces.min(BREAK.len() - 1);
        w.write_all(&BREAK[..1 + first])?;
        spaces -= first;
        while spaces > 0 {
            let n = spaces.min(BREAK.len() - 1);
            w.write_all(&BREAK[1..1 + n])?;
            spaces -= n;
        }
        Ok(())
    }

    fn open<W: ?Sized + io::Write>(&mut self, w: &mut W, bracket: &[u8]) -> io::Result<()> {
        self.depth += 1;
        self.has_value = false;
        w.write_all(bracket)
    }

    fn close<W: ?Sized + io::Write>(&mut self, w: &mut W, bracket: &[u8]) -> io::Result<()> {
        self.depth -= 1;
        if self.has_value {
            self.line_break(w)?;
        }
        w.write_all(bracket)
    }

    fn item<W: ?Sized + io::Write>(&mut self, w: &mut W, first: bool) -> io::Result<()> {
        if !first {
            w.write_all(b",")?;
        }
        self.line_break(w)
    }
}

impl Formatter for Pretty {
    fn begin_array<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.open(w, b"[")
    }
    fn end_array<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.close(w, b"]")
    }
    fn begin_array_value<W: ?Sized + io::Write>(&mut self, w: &mut W, first: bool) -> io::Result<()> {
        self.item(w, first)
    }
    fn end_array_value<W: ?Sized + io::Write>(&mut self, _w: &mut W) -> io::Result<()> {
        self.has_value = true;
        Ok(())
    }
    fn begin_object<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.open(w, b"{")
    }
    fn end_object<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.close(w, b"}")
    }
    fn begin_object_key<W: ?Sized + io::Write>(&mut self, w: &mut W, first: bool) -> io::Result<()> {
        self.item(w, first)
    }
    fn begin_object_value<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        w.write_all(b": ")
    }
    fn end_object_value<W: ?Sized + io::Write>(&mut self, _w: &mut W) -> io::Result<()> {
        self.has_value = true;
        Ok(())
    }
}

/// `v` as pretty JSON with a final line break: a command's `-o json` output.
pub(crate) fn json<T: serde::Serialize>(v: &T) -> Result<String> {
    let mut out = Vec::with_capacity(64 * 1024);
    let mut ser = serde_json::Serializer::with_formatter(&mut out, Pretty::default());
    // Serialising plain strings and numbers cannot fail in practice; map it anyway rather than panic.
    v.serialize(&mut ser).map_err(|e| Error::Option { option: "--output json".into(), message: e.to_string() })?;
    out.push(b'\n');
    // serde_json writes only valid UTF-8 (its own `to_string` relies on that); checking costs one pass
    String::from_utf8(out).map_err(|e| Error::Option { option: "--output json".into(), message: e.to_string() })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn writes_what_serde_json_pretty_writes() {
        // every shape: empty and nested arrays and objects, escapes, numbers, and depths past the
        // one-slice indentation (`BREAK`)
        let mut deep = json!({"leaf": [1, "x"]});
        for i in 0..40 {
            deep = if i % 2 == 0 { json!([deep, {}, []]) } else { json!({"k\"\n": deep, "e": [], "o": {}}) };
        }
        let values = [
            json!(null),
            json!([]),
            json!({}),
            json!([[]]),
            json!({"a": {}}),
            json!({"nodeclaims": [{"name": "default-1", "price": 0.096, "pods": ["ns/a", "ns/b"], "taints": []}], "cost": 1e-7, "w": "tab\tuni\u{e9}"}),
            deep,
        ];
        for v in values {
            let want = serde_json::to_string_pretty(&v).unwrap() + "\n";
            assert_eq!(json(&v).unwrap(), want);
        }
    }
}
