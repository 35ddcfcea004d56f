//! Path-tracking accessors over a parsed document ([`Tree`]).
//!
//! Every document is parsed into a [`Tree`] first and then converted by hand, so that each error can
//! name the exact field (`spec.template.spec.containers[1].resources.requests.cpu`). A [`Node`] is a
//! value with the root of its object; the field path is worked out only when an error is made (by
//! finding the value under the root), never on the way down: building a path string for every field
//! read cost more than the reading. Errors hold the path as `Location::field`, and the loader adds
//! file, document, kind and object around it.

use super::tree::{Tree, find};
use crate::error::{Error, Location, Result};
use crate::labels::Sym;
use crate::resources::{Resources, parse_amount};
use std::borrow::Cow;
use std::collections::BTreeMap;

/// A value of a parsed object, with that object's root (to name the value's field path in errors).
#[derive(Clone, Copy)]
pub(crate) struct Node<'a> {
    pub v: &'a Tree<'a>,
    root: &'a Tree<'a>,
}

/// A mapping's entries, sorted by key.
type Entries<'a> = [(Cow<'a, str>, Tree<'a>)];

pub(crate) fn describe(v: &Tree) -> String {
    match v {
        Tree::Null => "null".into(),
        Tree::Bool(b) => format!("boolean {b}"),
        Tree::Number(n) => format!("number {n}"),
        Tree::Str(s) => format!("string {s:?}"),
        Tree::Array(_) => "a list".into(),
        Tree::Object(_) => "a mapping".into(),
    }
}

/// One step of a field path.
enum Step<'t> {
    Key(&'t str),
    Index(usize),
}

/// The steps from `from` down to the value at `target`'s address, if it lies under `from`.
fn steps_to<'t>(from: &'t Tree<'t>, target: *const Tree<'t>, out: &mut Vec<Step<'t>>) -> bool {
    if std::ptr::eq(from, target) {
        return true;
    }
    match from {
        Tree::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                out.push(Step::Index(i));
                if steps_to(item, target, out) {
                    return true;
                }
                out.pop();
            }
        }
        Tree::Object(entries) => {
            for (k, v) in entries {
                out.push(Step::Key(k));
                if steps_to(v, target, out) {
                    return true;
                }
                out.pop();
            }
        }
        _ => {}
    }
    false
}

impl<'a> Node<'a> {
    pub fn root(v: &'a Tree<'a>) -> Self {
        Node { v, root: v }
    }

    fn child(&self, v: &'a Tree<'a>) -> Node<'a> {
        Node { v, root: self.root }
    }

    /// The field path of this value from the root of its object (`spec.containers[1].name`); empty
    /// at the root. Only errors need it, so it is found on demand.
    pub fn path(&self) -> String {
        let mut steps = Vec::new();
        // Every value of a tree has its own address, so the search finds exactly this one.
        steps_to(self.root, self.v, &mut steps);
        let mut s = String::new();
        for step in steps {
            match step {
                Step::Key(k) => {
                    if !s.is_empty() {
                        s.push('.');
                    }
                    s.push_str(k);
                }
                Step::Index(i) => s.push_str(&format!("[{i}]")),
            }
        }
        s
    }

    fn error_at(path: String, message: impl Into<String>) -> Error {
        Error::input(Location { field: (!path.is_empty()).then_some(path), ..Default::default() }, message)
    }

    pub fn err(&self, message: impl Into<String>) -> Error {
        Self::error_at(self.path(), message)
    }

    /// The field path of a child key, present or not (for errors about it).
    pub fn child_path(&self, key: &str) -> String {
        let mut s = self.path();
        if !s.is_empty() {
            s.push('.');
        }
        s.push_str(key);
        s
    }

    /// An error about the child `key` of this mapping (which may be missing).
    pub fn child_err(&self, key: &str, message: impl Into<String>) -> Error {
        Self::error_at(self.child_path(key), message)
    }

    pub fn obj(&self) -> Result<&'a Entries<'a>> {
        match self.v {
            Tree::Object(entries) => Ok(entries),
            other => Err(self.err(format!("expected a mapping, got {}", describe(other)))),
        }
    }

    /// A present, non-null child. Explicit `null` counts as absent, as in Kubernetes' JSON decoding.
    pub fn get(&self, key: &str) -> Result<Option<Node<'a>>> {
        Ok(match find(self.obj()?, key) {
            None | Some(Tree::Null) => None,
            Some(v) => Some(self.child(v)),
        })
    }

    pub fn req(&self, key: &str) -> Result<Node<'a>> {
        self.get(key)?.ok_or_else(|| self.child_err(key, "required field is missing"))
    }

    /// Reject keys outside `allowed`: users' typos must not be silently dropped.
    pub fn check_fields(&self, allowed: &[&str]) -> Result<()> {
        for (key, _) in self.obj()? {
            let key = key.as_ref();
            if !allowed.contains(&key) {
                let hint = match closest(key, allowed) {
                    Some(c) => format!("did you mean {c:?}?"),
                    None if allowed.len() <= 12 => format!("known fields: {}", allowed.join(", ")),
                    None => "not a field Kubernetes defines here".to_string(),
                };
                return Err(self.child_err(key, format!("unknown field {key:?} ({hint})")));
            }
        }
        Ok(())
    }

    pub fn str(&self) -> Result<&'a str> {
        match self.v {
            Tree::Str(s) => Ok(s),
            other => Err(self.err(format!("expected a string, got {}", describe(other)))),
        }
    }

    pub fn i64(&self) -> Result<i64> {
        match self.v {
            Tree::Number(n) => n.as_i64(),
            _ => None,
        }
        .ok_or_else(|| self.err(format!("expected an integer, got {}", describe(self.v))))
    }

    /// An integer within `[lo, hi]`.
    pub fn i64_in(&self, lo: i64, hi: i64) -> Result<i64> {
        let n = self.i64()?;
        if n < lo || n > hi {
            return Err(self.err(format!("{n} is out of range [{lo}, {hi}]")));
        }
        Ok(n)
    }

    /// A boolean; the YAML 1.1 spellings Kubernetes' YAML reader accepts (`yes`, `on`, ...) count too.
    pub fn bool(&self) -> Result<bool> {
        match self.v {
            Tree::Bool(b) => Ok(*b),
            Tree::Str(s) if matches!(s.as_ref(), "y" | "Y" | "yes" | "Yes" | "YES" | "on" | "On" | "ON") => Ok(true),
            Tree::Str(s) if matches!(s.as_ref(), "n" | "N" | "no" | "No" | "NO" | "off" | "Off" | "OFF") => Ok(false),
            other => Err(self.err(format!("expected true or false, got {}", describe(other)))),
        }
    }

    pub fn arr(&self) -> Result<Vec<Node<'a>>> {
        match self.v {
            Tree::Array(items) => Ok(items.iter().map(|v| self.child(v)).collect()),
            other => Err(self.err(format!("expected a list, got {}", describe(other)))),
        }
    }

    /// `(key, child)` pairs of a mapping, in key order (serde_json's map is sorted).
    pub fn entries(&self) -> Result<Vec<(&'a str, Node<'a>)>> {
        Ok(self.obj()?.iter().map(|(k, v)| (k.as_ref(), self.child(v))).collect())
    }

    pub fn opt_str(&self, key: &str) -> Result<Option<&'a str>> {
        self.get(key)?.map(|n| n.str()).transpose()
    }
    pub fn opt_i64(&self, key: &str) -> Result<Option<i64>> {
        self.get(key)?.map(|n| n.i64()).transpose()
    }
    pub fn opt_bool(&self, key: &str) -> Result<Option<bool>> {
        self.get(key)?.map(|n| n.bool()).transpose()
    }
    pub fn opt_arr(&self, key: &str) -> Result<Vec<Node<'a>>> {
        Ok(match self.get(key)? {
            Some(n) => n.arr()?,
            None => Vec::new(),
        })
    }
    /// A list of strings (absent = empty).
    pub fn opt_strs(&self, key: &str) -> Result<Vec<String>> {
        self.opt_arr(key)?.iter().map(|n| n.str().map(str::to_string)).collect()
    }

    /// A `map[string]string` (labels, annotations, nodeSelector). Values must be strings, as the
    /// Kubernetes API requires (an unquoted `true` in YAML is a boolean and is rejected there too).
    pub fn string_map(&self) -> Result<BTreeMap<String, String>> {
        self.entries()?.into_iter().map(|(k, n)| Ok((k.to_string(), n.str()?.to_string()))).collect()
    }
    pub fn opt_string_map(&self, key: &str) -> Result<BTreeMap<String, String>> {
        Ok(match self.get(key)? {
            Some(n) => n.string_map()?,
            None => BTreeMap::new(),
        })
    }

    /// A label map (`metadata.labels`, `nodeSelector`, `matchLabels`): a string map whose keys and
    /// values pass Kubernetes' label validation ([`crate::names`]).
    pub fn label_map(&self) -> Result<BTreeMap<String, String>> {
        let mut out = BTreeMap::new();
        self.each_label(|k, v| {
            out.insert(k.to_string(), v.to_string());
        })?;
        Ok(out)
    }
    pub fn opt_label_map(&self, key: &str) -> Result<BTreeMap<String, String>> {
        Ok(match self.get(key)? {
            Some(n) => n.label_map()?,
            None => BTreeMap::new(),
        })
    }

    /// A label map interned as it is read (no `String` map in between); absent = empty.
    pub fn opt_sym_label_map(&self, key: &str) -> Result<BTreeMap<Sym, Sym>> {
        let mut out = BTreeMap::new();
        if let Some(n) = self.get(key)? {
            n.each_label(|k, v| {
                out.insert(Sym::new(k), Sym::new(v));
            })?;
        }
        Ok(out)
    }

    /// Each `(key, value)` of a label map, in key order, validated as [`Node::label_map`] says.
    pub fn each_label(&self, mut f: impl FnMut(&'a str, &'a str)) -> Result<()> {
        for (k, v) in self.obj()? {
            let (k, n) = (k.as_ref(), self.child(v));
            crate::names::label_key(k).map_err(|m| n.err(format!("{k:?} {m}")))?;
            let v = n.str()?;
            crate::names::label_value(v).map_err(|m| n.err(format!("{v:?} {m}")))?;
            f(k, v);
        }
        Ok(())
    }

    /// A string that must be a label key (a selector's or taint's `key`, a `topologyKey`).
    pub fn label_key(&self) -> Result<&'a str> {
        let k = self.str()?;
        crate::names::label_key(k).map_err(|m| self.err(format!("{k:?} {m}")))?;
        Ok(k)
    }

    /// A list of strings that must each be a label value (selector values); absent = empty.
    pub fn opt_label_values(&self, key: &str) -> Result<Vec<&'a str>> {
        self.opt_arr(key)?
            .iter()
            .map(|n| {
                let v = n.str()?;
                crate::names::label_value(v).map_err(|m| n.err(format!("{v:?} {m}")))?;
                Ok(v)
            })
            .collect()
    }

    /// A list of label keys (`matchLabelKeys`); absent = empty.
    pub fn opt_label_keys(&self, key: &str) -> Result<Vec<String>> {
        self.opt_arr(key)?.iter().map(|n| n.label_key().map(str::to_string)).collect()
    }

    /// A quantity given as a string (`"100m"`) or a number (`2`, `0.5`), as Kubernetes accepts.
    pub fn quantity_str(&self) -> Result<Cow<'a, str>> {
        match self.v {
            Tree::Str(s) => Ok(Cow::Borrowed(s)),
            Tree::Number(n) => Ok(Cow::Owned(n.to_string())),
            other => Err(self.err(format!("expected a quantity, got {}", describe(other)))),
        }
    }

    /// One quantity of a named resource in this crate's units; negative amounts are errors.
    pub fn amount(&self, resource: &str) -> Result<i64> {
        let s = self.quantity_str()?;
        let v = parse_amount(resource, &s).map_err(|e| e.at(Location::field(self.path())))?;
        if v < 0 {
            return Err(self.err(format!("negative quantity {s:?}")));
        }
        Ok(v)
    }

    /// A Kubernetes `ResourceList`.
    pub fn resources(&self) -> Result<Resources> {
        let mut r = Resources::new();
        for (k, n) in self.entries()? {
            r.set(k, n.amount(k)?);
        }
        Ok(r)
    }
}

/// The allowed name closest to a typo (edit distance at most 2, or a case-only difference).
fn closest<'s>(key: &str, allowed: &[&'s str]) -> Option<&'s str> {
    let dist = |a: &str, b: &str| -> usize {
        let b: Vec<char> = b.chars().collect();
        let mut prev: Vec<usize> = (0..=b.len()).collect();
        for (i, ca) in a.chars().enumerate() {
            let mut cur = vec![i + 1];
            for (j, cb) in b.iter().enumerate() {
                cur.push((prev[j] + usize::from(ca != *cb)).min(prev[j + 1] + 1).min(cur[j] + 1));
            }
            prev = cur;
        }
        prev[b.len()]
    };
    allowed
        .iter()
        .map(|a| (if a.eq_ignore_ascii_case(key) { 0 } else { dist(key, a) }, *a))
        .filter(|(d, _)| *d <= 2)
        .min()
        .map(|(_, a)| a)
}

/// Go `time.ParseDuration` (`"1h30m"`, `"90s"`, `"1.5h"`, `"300ms"`), truncated to whole seconds.
/// Negative durations are rejected: no field karpsim reads accepts one.
pub fn parse_duration(s: &str) -> std::result::Result<i64, String> {
    let bad = || format!("invalid duration {s:?} (expected a Go duration such as \"90s\", \"1h30m\" or \"720h\")");
    let mut rest = s.strip_prefix('+').unwrap_or(s);
    if rest.starts_with('-') {
        return Err(format!("negative duration {s:?}"));
    }
    if rest == "0" {
        return Ok(0);
    }
    if rest.is_empty() {
        return Err(bad());
    }
    let mut nanos: i128 = 0;
    while !rest.is_empty() {
        let num_len = rest.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(rest.len());
        let num = &rest[..num_len];
        if num.is_empty() || num == "." || num.matches('.').count() > 1 {
            return Err(bad());
        }
        rest = &rest[num_len..];
        let unit_len = rest.find(|c: char| c.is_ascii_digit() || c == '.').unwrap_or(rest.len());
        let unit: i128 = match &rest[..unit_len] {
            "ns" => 1,
            "us" | "µs" | "μs" => 1_000,
            "ms" => 1_000_000,
            "s" => 1_000_000_000,
            "m" => 60_000_000_000,
            "h" => 3_600_000_000_000,
            _ => return Err(bad()),
        };
        rest = &rest[unit_len..];
        let (int, frac) = num.split_once('.').unwrap_or((num, ""));
        if int.len() + frac.len() > 20 {
            return Err(bad());
        }
        let int_v: i128 = if int.is_empty() { 0 } else { int.parse().map_err(|_| bad())? };
        let mut part = int_v * unit;
        let mut scale = unit;
        for d in frac.bytes() {
            scale /= 10;
            part += i128::from(d - b'0') * scale;
        }
        nanos += part;
        if nanos > i128::from(i64::MAX) * 1_000_000_000 {
            return Err(format!("duration {s:?} is too large"));
        }
    }
    i64::try_from(nanos / 1_000_000_000).map_err(|_| bad())
}

/// A duration field that may say `"Never"`: `None` = Never.
pub(crate) fn duration_or_never(n: &Node) -> Result<Option<i64>> {
    let s = n.str()?;
    if s == "Never" {
        return Ok(None);
    }
    parse_duration(s).map(Some).map_err(|m| n.err(m))
}

/// An RFC 3339 timestamp (`2024-05-01T12:00:00Z`, fractional seconds and offsets allowed) as Unix seconds.
pub(crate) fn parse_timestamp(n: &Node) -> Result<i64> {
    let s = n.str()?;
    parse_rfc3339(s).ok_or_else(|| n.err(format!("invalid timestamp {s:?} (expected RFC 3339, e.g. 2024-05-01T12:00:00Z)")))
}

pub fn parse_rfc3339(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    if b.len() < 20 || b[4] != b'-' || b[7] != b'-' || !matches!(b[10], b'T' | b't' | b' ') || b[13] != b':' || b[16] != b':' {
        return None;
    }
    let num = |r: std::ops::Range<usize>| -> Option<i64> {
        let t = s.get(r)?;
        if t.bytes().all(|c| c.is_ascii_digit()) { t.parse().ok() } else { None }
    };
    let (y, mo, d, h, mi, sec) = (num(0..4)?, num(5..7)?, num(8..10)?, num(11..13)?, num(14..16)?, num(17..19)?);
    if !(1..=12).contains(&mo) || !(1..=31).contains(&d) || h > 23 || mi > 59 || sec > 60 {
        return None;
    }
    let mut i = 19;
    if b.get(i) == Some(&b'.') {
        i += 1;
        let start = i;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        if i == start {
            return None;
        }
    }
    let offset = match s.get(i..)? {
        "Z" | "z" => 0,
        tz if tz.len() == 6 && (tz.starts_with('+') || tz.starts_with('-')) && tz.as_bytes()[3] == b':' => {
            let oh = num(i + 1..i + 3)?;
            let om = num(i + 4..i + 6)?;
            let o = oh * 3600 + om * 60;
            if tz.starts_with('-') { -o } else { o }
        }
        _ => return None,
    };
    Some(days_from_civil(y, mo, d) * 86_400 + h * 3600 + mi * 60 + sec - offset)
}

/// `2026-11-20T12:00:00Z` from seconds since the epoch (UTC), the inverse of [`parse_rfc3339`].
pub fn format_rfc3339(t: i64) -> String {
    let (days, secs) = (t.div_euclid(86_400), t.rem_euclid(86_400));
    let (y, m, d) = civil_from_days(days);
    format!("{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z", secs / 3600, secs % 3600 / 60, secs % 60)
}

/// (year, month 1-12, day 1-31) of a day count since 1970-01-01, proleptic Gregorian (Howard
/// Hinnant's algorithm).
pub(crate) fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_round_trip() {
        for t in [0, 1_795_651_200, 951_782_400, -86_400, 4_102_444_799] {
            assert_eq!(parse_rfc3339(&format_rfc3339(t)), Some(t), "{t}");
        }
        assert_eq!(format_rfc3339(1_795_651_200), "2026-11-26T00:00:00Z");
    }

    #[test]
    fn go_durations() {
        assert_eq!(parse_duration("720h"), Ok(720 * 3600));
        assert_eq!(parse_duration("1h30m"), Ok(5400));
        assert_eq!(parse_duration("90s"), Ok(90));
        assert_eq!(parse_duration("1.5h"), Ok(5400));
        assert_eq!(parse_duration("0s"), Ok(0));
        assert_eq!(parse_duration("0"), Ok(0));
        assert_eq!(parse_duration("1500ms"), Ok(1));
        for bad in ["", "10", "1d", "h", "1..5h", "-5m", "5 m"] {
            assert!(parse_duration(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn timestamps() {
        let v = Tree::Str("1970-01-02T00:00:01Z".into());
        assert_eq!(parse_timestamp(&Node::root(&v)).unwrap(), 86_401);
        let v = Tree::Str("2024-05-01T12:00:00.123+02:00".into());
        assert_eq!(parse_timestamp(&Node::root(&v)).unwrap(), 1_714_557_600);
        let v = Tree::Str("yesterday".into());
        assert!(parse_timestamp(&Node::root(&v)).is_err());
    }

    #[test]
    fn paths_in_errors() {
        let v = serde_json::json!({"spec": {"containers": [{"name": "a"}, {"resources": {"requests": {"cpu": "-1"}}}]}});
        let v = Tree::from(&v);
        let root = Node::root(&v);
        let c = &root.req("spec").unwrap().opt_arr("containers").unwrap()[1];
        let e = c.req("resources").unwrap().req("requests").unwrap().resources().unwrap_err().to_string();
        assert!(e.contains("spec.containers[1].resources.requests.cpu"), "{e}");
        let e = root.req("spec").unwrap().check_fields(&["x"]).unwrap_err().to_string();
        assert!(e.contains("unknown field \"containers\""), "{e}");
        // a missing child is named too, and so is the root (no field)
        let e = c.req("image").err().map(|e| e.to_string()).unwrap_or_default();
        assert!(e.contains("spec.containers[1].image"), "{e}");
        assert!(root.str().unwrap_err().to_string().contains("expected a string, got a mapping"));
    }
}
