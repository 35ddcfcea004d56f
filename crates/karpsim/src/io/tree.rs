//! One parsed document as the loader reads it: a JSON-shaped tree whose strings borrow the input text.
//!
//! `serde_json::Value` owns a `String` for every key and string and a `BTreeMap` per mapping; at
//! thousands of pods building and dropping those trees cost about as much as the model built from
//! them. A [`Tree`] borrows every string the parser hands over unescaped (nearly all of them), and
//! holds a mapping as one vector of entries sorted by key: one allocation per mapping, lookups by
//! binary search, and the same key order (hence the same "first unknown field") as the `BTreeMap`.
//!
//! JSON text is read straight into a `Tree`; YAML (via serde-saphyr) and already-parsed values
//! (Python dicts) arrive as `serde_json::Value` and are viewed through [`Tree::from`], which borrows
//! their strings.

use serde::de::{Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Number, Value};
use std::borrow::Cow;
use std::fmt;

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Tree<'a> {
    Null,
    Bool(bool),
    Number(Number),
    Str(Cow<'a, str>),
    Array(Vec<Tree<'a>>),
    /// Entries sorted by key, each key once (the last one written wins, as in `serde_json::Map`).
    Object(Vec<(Cow<'a, str>, Tree<'a>)>),
}

impl<'a> Tree<'a> {
    /// The entries of an object read in document order, sorted by key with the last of equal keys kept.
    fn object(mut entries: Vec<(Cow<'a, str>, Tree<'a>)>) -> Self {
        // Manifests list their keys in any order; the sort is stable, so among equal keys the last
        // written stays last and `dedup_by` (which keeps the first of a run) is told to keep it.
        if !entries.is_sorted_by(|a, b| a.0 < b.0) {
            entries.sort_by(|a, b| a.0.cmp(&b.0));
            entries.dedup_by(|later, earlier| {
                let same = later.0 == earlier.0;
                if same {
                    std::mem::swap(later, earlier);
                }
                same
            });
        }
        Tree::Object(entries)
    }
}

pub(crate) fn find<'t, 'a>(entries: &'t [(Cow<'a, str>, Tree<'a>)], key: &str) -> Option<&'t Tree<'a>> {
    entries.binary_search_by(|(k, _)| k.as_ref().cmp(key)).ok().map(|i| &entries[i].1)
}

impl<'a> From<&'a Value> for Tree<'a> {
    fn from(v: &'a Value) -> Self {
        match v {
            Value::Null => Tree::Null,
            Value::Bool(b) => Tree::Bool(*b),
            Value::Number(n) => Tree::Number(n.clone()),
            Value::String(s) => Tree::Str(Cow::Borrowed(s)),
            Value::Array(items) => Tree::Array(items.iter().map(Tree::from).collect()),
            // already sorted and unique: serde_json's map is a `BTreeMap`
            Value::Object(map) => Tree::Object(map.iter().map(|(k, v)| (Cow::Borrowed(k.as_str()), Tree::from(v))).collect()),
        }
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for Tree<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(TreeVisitor(std::marker::PhantomData))
    }
}

struct TreeVisitor<'a>(std::marker::PhantomData<&'a ()>);

// Numbers become `serde_json::Number` exactly as `serde_json::Value` makes them (a float that is not
// finite becomes null there too), so errors print them the same way.
impl<'de: 'a, 'a> Visitor<'de> for TreeVisitor<'a> {
    type Value = Tree<'a>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_bool<E>(self, b: bool) -> Result<Tree<'a>, E> {
        Ok(Tree::Bool(b))
    }
    fn visit_i64<E>(self, n: i64) -> Result<Tree<'a>, E> {
        Ok(Tree::Number(n.into()))
    }
    fn visit_u64<E>(self, n: u64) -> Result<Tree<'a>, E> {
        Ok(Tree::Number(n.into()))
    }
    fn visit_f64<E>(self, n: f64) -> Result<Tree<'a>, E> {
        Ok(Number::from_f64(n).map_or(Tree::Null, Tree::Number))
    }
    fn visit_borrowed_str<E>(self, s: &'de str) -> Result<Tree<'a>, E> {
        Ok(Tree::Str(Cow::Borrowed(s)))
    }
    fn visit_str<E>(self, s: &str) -> Result<Tree<'a>, E> {
        Ok(Tree::Str(Cow::Owned(s.to_string())))
    }
    fn visit_string<E>(self, s: String) -> Result<Tree<'a>, E> {
        Ok(Tree::Str(Cow::Owned(s)))
    }
    fn visit_none<E>(self) -> Result<Tree<'a>, E> {
        Ok(Tree::Null)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Tree<'a>, D::Error> {
        Deserialize::deserialize(d)
    }
    fn visit_unit<E>(self) -> Result<Tree<'a>, E> {
        Ok(Tree::Null)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Tree<'a>, A::Error> {
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(4096));
        while let Some(item) = seq.next_element()? {
            items.push(item);
        }
        Ok(Tree::Array(items))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Tree<'a>, A::Error> {
        let mut entries = Vec::with_capacity(map.size_hint().unwrap_or(0).min(4096));
        while let Some(key) = map.next_key::<Key<'a>>()? {
            entries.push((key.0, map.next_value()?));
        }
        Ok(Tree::object(entries))
    }
}

/// A mapping key, borrowed from the text when the parser can.
struct Key<'a>(Cow<'a, str>);

impl<'de: 'a, 'a> Deserialize<'de> for Key<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct KeyVisitor<'a>(std::marker::PhantomData<&'a ()>);
        impl<'de: 'a, 'a> Visitor<'de> for KeyVisitor<'a> {
            type Value = Key<'a>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a string key")
            }
            fn visit_borrowed_str<E>(self, s: &'de str) -> Result<Key<'a>, E> {
                Ok(Key(Cow::Borrowed(s)))
            }
            fn visit_str<E>(self, s: &str) -> Result<Key<'a>, E> {
                Ok(Key(Cow::Owned(s.to_string())))
            }
            fn visit_string<E>(self, s: String) -> Result<Key<'a>, E> {
                Ok(Key(Cow::Owned(s)))
            }
        }
        d.deserialize_str(KeyVisitor(std::marker::PhantomData))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_text_reads_as_its_value_does() {
        let text = r#"{"b": [1, -2, 2.5, 18446744073709551615, true, null, "x\"y"], "a": {"z": "s", "c": {}}, "b": "last"}"#;
        let t: Tree = serde_json::from_str(text).unwrap();
        let v: Value = serde_json::from_str(text).unwrap();
        assert_eq!(t, Tree::from(&v));
        let Tree::Object(root) = &t else { panic!("{t:?}") };
        assert_eq!(find(root, "b"), Some(&Tree::Str("last".into())));
        let Some(Tree::Object(a)) = find(root, "a") else { panic!("{t:?}") };
        assert_eq!(a.iter().map(|(k, _)| k.as_ref()).collect::<Vec<_>>(), ["c", "z"]);
        // unescaped strings borrow the text
        assert!(matches!(a[1].1, Tree::Str(Cow::Borrowed("s"))));
    }
}
