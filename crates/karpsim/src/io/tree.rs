//! One parsed document as the loader reads it: a JSON-shaped tree whose strings borrow the input text.
//!
//! `serde_json::Value` owns a `String` for every key and string and a `BTreeMap` per mapping; at
//! thousands of pods building and dropping those trees cost about as much as the model built from
//! them. A [`Tree`] borrows every string the parser hands over unescaped (nearly all of them), and
//! holds a mapping as one vector of entries sorted by key: one allocation per mapping, lookups by
//! binary search, and the same key order (hence the same "first unknown field") as the `BTreeMap`.
//!
//! JSON text is read straight into a `Tree` that borrows it; YAML (serde-saphyr, which wants a
//! `DeserializeOwned` type) straight into an [`OwnedTree`]; already-parsed values (Python dicts) arrive
//! as `serde_json::Value` and are viewed through [`Tree::from`], which borrows their strings.

use serde::de::{Deserialize, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Number, Value};
use std::borrow::Cow;
use std::fmt;

#[derive(Debug, Clone, PartialEq, Hash)]
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
        TreeVisitor::<Borrow>::new().deserialize(d)
    }
}

/// A tree that owns its strings, for parsers that need `DeserializeOwned` (serde-saphyr's
/// multi-document reader): YAML is read straight into a tree, not into a `serde_json::Value` first.
pub(crate) struct OwnedTree(pub Tree<'static>);

impl<'de> Deserialize<'de> for OwnedTree {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        TreeVisitor::<Own>::new().deserialize(d).map(OwnedTree)
    }
}

/// What the visitor does with a string the parser lends from the text: keep the borrow (JSON read
/// from a `&str`), or copy it (a tree that must outlive the parser's input).
trait Lend<'de, 'a> {
    fn keep(s: &'de str) -> Cow<'a, str>;
}

struct Borrow;
impl<'de: 'a, 'a> Lend<'de, 'a> for Borrow {
    fn keep(s: &'de str) -> Cow<'a, str> {
        Cow::Borrowed(s)
    }
}

struct Own;
impl<'de, 'a> Lend<'de, 'a> for Own {
    fn keep(s: &'de str) -> Cow<'a, str> {
        Cow::Owned(s.to_string())
    }
}

/// Reads any value into a tree; also the seed of each nested value, so the whole tree follows one
/// `Lend` rule.
struct TreeVisitor<'a, L>(std::marker::PhantomData<(&'a (), L)>);

impl<'a, L> TreeVisitor<'a, L> {
    fn new() -> Self {
        TreeVisitor(std::marker::PhantomData)
    }
}

impl<'de, 'a, L: Lend<'de, 'a>> DeserializeSeed<'de> for TreeVisitor<'a, L> {
    type Value = Tree<'a>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Tree<'a>, D::Error> {
        d.deserialize_any(self)
    }
}

// Every value becomes what `serde_json::Value`'s own visitor makes of it (the same methods, numbers
// as the same `Number`, a float that is not finite as null, a key read with `deserialize_str`), so a
// document reads the same whichever way it arrives and errors print values the same way.
impl<'de, 'a, L: Lend<'de, 'a>> Visitor<'de> for TreeVisitor<'a, L> {
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
    fn visit_i128<E: serde::de::Error>(self, n: i128) -> Result<Tree<'a>, E> {
        Number::deserialize(serde::de::value::I128Deserializer::new(n)).map(Tree::Number)
    }
    fn visit_u64<E>(self, n: u64) -> Result<Tree<'a>, E> {
        Ok(Tree::Number(n.into()))
    }
    fn visit_u128<E: serde::de::Error>(self, n: u128) -> Result<Tree<'a>, E> {
        Number::deserialize(serde::de::value::U128Deserializer::new(n)).map(Tree::Number)
    }
    fn visit_f64<E>(self, n: f64) -> Result<Tree<'a>, E> {
        Ok(Number::from_f64(n).map_or(Tree::Null, Tree::Number))
    }
    fn visit_borrowed_str<E>(self, s: &'de str) -> Result<Tree<'a>, E> {
        Ok(Tree::Str(L::keep(s)))
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
        self.deserialize(d)
    }
    fn visit_unit<E>(self) -> Result<Tree<'a>, E> {
        Ok(Tree::Null)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Tree<'a>, A::Error> {
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(4096));
        while let Some(item) = seq.next_element_seed(TreeVisitor::<L>::new())? {
            items.push(item);
        }
        Ok(Tree::Array(items))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Tree<'a>, A::Error> {
        let mut entries = Vec::with_capacity(map.size_hint().unwrap_or(0).min(4096));
        while let Some(key) = map.next_key_seed(KeyVisitor::<L>(std::marker::PhantomData))? {
            entries.push((key, map.next_value_seed(TreeVisitor::<L>::new())?));
        }
        Ok(Tree::object(entries))
    }
}

/// A mapping key, kept by the same `Lend` rule as the values.
struct KeyVisitor<'a, L>(std::marker::PhantomData<(&'a (), L)>);

impl<'de, 'a, L: Lend<'de, 'a>> DeserializeSeed<'de> for KeyVisitor<'a, L> {
    type Value = Cow<'a, str>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Cow<'a, str>, D::Error> {
        d.deserialize_str(self)
    }
}

impl<'de, 'a, L: Lend<'de, 'a>> Visitor<'de> for KeyVisitor<'a, L> {
    type Value = Cow<'a, str>;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a string key")
    }
    fn visit_borrowed_str<E>(self, s: &'de str) -> Result<Cow<'a, str>, E> {
        Ok(L::keep(s))
    }
    fn visit_str<E>(self, s: &str) -> Result<Cow<'a, str>, E> {
        Ok(Cow::Owned(s.to_string()))
    }
    fn visit_string<E>(self, s: String) -> Result<Cow<'a, str>, E> {
        Ok(Cow::Owned(s))
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
