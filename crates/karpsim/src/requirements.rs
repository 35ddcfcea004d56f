//! Karpenter's requirement algebra (`pkg/scheduling/requirement.go`, `requirements.go`; design §2).
//!
//! A [`Requirement`] is a (possibly complemented) set of label values with optional integer bounds;
//! [`Requirements`] maps label keys to requirements. The undefined-label rules of §2.4 live in
//! [`Requirements::compatible`].

use crate::error::{Error, Location, Result};
use crate::labels::{self, Sym};
use crate::model::NodeSelectorRequirement;
use smallvec::SmallVec;
use std::collections::BTreeMap;
use std::fmt;

/// A requirement's values. One value (an instance type's label, a pinned zone) or none (`Exists`,
/// `DoesNotExist`) is the common case: held inline, so building a catalog's ~30 requirements per
/// type allocates nothing for them (a `Vec` per requirement was a third of the start-up's cost).
/// Two fit in the same 24 bytes now that a [`Sym`] is one pointer (a type's capacity types,
/// `In [on-demand, spot]`).
type Values = SmallVec<[Sym; 2]>;

/// Operators accepted in node selectors and NodePool requirements.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Operator {
    In,
    NotIn,
    Exists,
    DoesNotExist,
    Gt,
    Lt,
    Gte,
    Lte,
}

impl Operator {
    pub fn parse(s: &str) -> Option<Operator> {
        Some(match s {
            "In" => Operator::In,
            "NotIn" => Operator::NotIn,
            "Exists" => Operator::Exists,
            "DoesNotExist" => Operator::DoesNotExist,
            "Gt" => Operator::Gt,
            "Lt" => Operator::Lt,
            "Gte" => Operator::Gte,
            "Lte" => Operator::Lte,
            _ => return None,
        })
    }
}

/// One requirement: `allowed(v) = (complement ? v ∉ values : v ∈ values) && within_bounds(v)` (§2.1).
///
/// Bounds are held inclusive, as Karpenter holds them (`Gt 5` is `Gte 6`), but a bound keeps the
/// operator the user wrote for display: explanations, drift reasons and NodeClaim requirements
/// read `Gt 5`, as written. (Karpenter's own NodeClaim spec shows the canonical `Gte 6`.) The
/// written form takes no part in equality or hashing.
#[derive(Debug, Clone)]
pub struct Requirement {
    complement: bool,
    /// Sorted by string, unique.
    values: Values,
    /// Bounds and minValues, `None` when there are neither: out of line because nearly every
    /// requirement has none (an instance type's ~30, a node's labels), and inline they were more
    /// than half of its size.
    bounds: Option<Box<Bounds>>,
}

/// A requirement's integer bounds (inclusive) and minValues; never all `None` (that is no
/// [`Bounds`] at all: see [`Bounds::boxed`]).
#[derive(Debug, Clone, Copy, Default)]
struct Bounds {
    gte: Option<i64>,
    lte: Option<i64>,
    min_values: Option<u32>,
    written: Written,
}

impl Bounds {
    /// `None` when there is neither a bound nor minValues (so that a requirement without them has
    /// one form only; the written form means nothing without a bound).
    fn boxed(self) -> Option<Box<Bounds>> {
        (self.gte.is_some() || self.lte.is_some() || self.min_values.is_some()).then(|| Box::new(self))
    }
}

/// How a requirement's bounds were written: `Gt`/`Lt` (exclusive) rather than `Gte`/`Lte`.
#[derive(Debug, Clone, Copy, Default)]
struct Written {
    gt: bool,
    lt: bool,
}

impl PartialEq for Requirement {
    fn eq(&self, o: &Requirement) -> bool {
        (self.complement, &self.values, self.gte(), self.lte(), self.min_values()) == (o.complement, &o.values, o.gte(), o.lte(), o.min_values())
    }
}

impl Eq for Requirement {}

impl std::hash::Hash for Requirement {
    fn hash<H: std::hash::Hasher>(&self, h: &mut H) {
        (self.complement, &self.values, self.gte(), self.lte(), self.min_values()).hash(h);
    }
}

/// The values sorted by string, without repeats.
fn sorted_unique(values: impl IntoIterator<Item = Sym>) -> Values {
    let values = values.into_iter();
    let mut v = if values.size_hint().1.is_some_and(|n| n <= Values::new().inline_size()) {
        // as many values as fit inline (the `[v]` of most callers): collected there
        values.collect()
    } else {
        // a `Vec` given keeps its buffer (collected in place), and is sorted there
        Values::from_vec(values.collect())
    };
    if v.len() > 1 {
        v.sort();
        v.dedup();
    }
    v
}

impl Requirement {
    /// `In values`.
    pub fn is_in(values: impl IntoIterator<Item = Sym>) -> Requirement {
        Requirement { complement: false, values: sorted_unique(values), bounds: None }
    }
    /// `In [value]`, built in place: an instance type has ~25 of these, one per label.
    pub fn is_in_one(value: Sym) -> Requirement {
        Requirement { values: smallvec::smallvec![value], ..Requirement::does_not_exist() }
    }
    /// `NotIn values`.
    pub fn not_in(values: impl IntoIterator<Item = Sym>) -> Requirement {
        Requirement { complement: true, values: sorted_unique(values), bounds: None }
    }
    pub fn exists() -> Requirement {
        Requirement { complement: true, values: Values::new(), bounds: None }
    }
    pub fn does_not_exist() -> Requirement {
        Requirement { complement: false, values: Values::new(), bounds: None }
    }

    /// Build from an operator and its values, validating as Karpenter's webhook/CEL rules do
    /// (`pkg/apis/v1/nodeclaim_validation.go`): `In` needs ≥1 value; `Gt/Lt/Gte/Lte` exactly one
    /// non-negative integer; `Exists`/`DoesNotExist` no values.
    pub fn new(op: Operator, values: &[String], min_values: Option<u32>) -> std::result::Result<Requirement, String> {
        let syms = || values.iter().map(|v| Sym::new(v));
        let bound = || -> std::result::Result<i64, String> {
            if values.len() != 1 {
                return Err(format!("operator {op:?} needs exactly one value, got {}", values.len()));
            }
            let n: i64 = values[0].parse().map_err(|_| format!("operator {op:?} needs an integer, got {:?}", values[0]))?;
            if n < 0 {
                return Err(format!("operator {op:?} needs a non-negative integer, got {n}"));
            }
            Ok(n)
        };
        let mut r = match op {
            Operator::In => {
                if values.is_empty() {
                    return Err("operator In needs at least one value".into());
                }
                Requirement::is_in(syms())
            }
            Operator::NotIn => Requirement::not_in(syms()),
            Operator::Exists | Operator::DoesNotExist => {
                if !values.is_empty() {
                    return Err(format!("operator {op:?} takes no values"));
                }
                if op == Operator::Exists { Requirement::exists() } else { Requirement::does_not_exist() }
            }
            Operator::Gt => {
                let n = bound()?;
                // Gt MaxInt can match nothing (requirement.go)
                if n == i64::MAX {
                    Requirement::does_not_exist()
                } else {
                    Requirement::exists().with_bounds(Bounds { gte: Some(n + 1), written: Written { gt: true, lt: false }, ..Bounds::default() })
                }
            }
            Operator::Lt => {
                let n = bound()?;
                if n == 0 {
                    Requirement::does_not_exist()
                } else {
                    Requirement::exists().with_bounds(Bounds { lte: Some(n - 1), written: Written { gt: false, lt: true }, ..Bounds::default() })
                }
            }
            Operator::Gte => Requirement::exists().with_bounds(Bounds { gte: Some(bound()?), ..Bounds::default() }),
            Operator::Lte => Requirement::exists().with_bounds(Bounds { lte: Some(bound()?), ..Bounds::default() }),
        };
        if let Some(m) = min_values {
            if !(1..=50).contains(&m) {
                return Err(format!("minValues must be between 1 and 50, got {m}"));
            }
            if op == Operator::In && (values.len() as u32) < m {
                return Err(format!("minValues {m} is more than the {} values given", values.len()));
            }
            r = r.with_min_values(Some(m));
        }
        Ok(r)
    }

    pub fn with_min_values(self, m: Option<u32>) -> Requirement {
        let b = self.extra();
        self.with_bounds(Bounds { min_values: m, ..b })
    }

    /// This requirement with `b` as its bounds and minValues.
    fn with_bounds(mut self, b: Bounds) -> Requirement {
        self.bounds = b.boxed();
        self
    }

    /// The bounds and minValues (all `None` when there are none).
    #[inline]
    fn extra(&self) -> Bounds {
        self.bounds.as_deref().copied().unwrap_or_default()
    }
    #[inline]
    fn gte(&self) -> Option<i64> {
        self.bounds.as_ref().and_then(|b| b.gte)
    }
    #[inline]
    fn lte(&self) -> Option<i64> {
        self.bounds.as_ref().and_then(|b| b.lte)
    }
    /// Whether the requirement has no integer bound.
    #[inline]
    fn unbounded(&self) -> bool {
        self.bounds.as_ref().is_none_or(|b| b.gte.is_none() && b.lte.is_none())
    }

    /// The operator this requirement reports (§2.1): a pure bound reports `Exists`.
    pub fn operator(&self) -> Operator {
        match (self.complement, self.values.is_empty()) {
            (true, true) => Operator::Exists,
            (true, false) => Operator::NotIn,
            (false, true) => Operator::DoesNotExist,
            (false, false) => Operator::In,
        }
    }
    pub fn is_complement(&self) -> bool {
        self.complement
    }
    pub fn values(&self) -> &[Sym] {
        &self.values
    }
    pub fn min_values(&self) -> Option<u32> {
        self.bounds.as_ref().and_then(|b| b.min_values)
    }
    pub fn bounds(&self) -> (Option<i64>, Option<i64>) {
        (self.gte(), self.lte())
    }
    pub(crate) fn is_negative_op(&self) -> bool {
        matches!(self.operator(), Operator::NotIn | Operator::DoesNotExist)
    }
    /// Number of allowed values (`len(r)`): for complements, "very many".
    pub fn len(&self) -> usize {
        if self.complement { usize::MAX - self.values.len() } else { self.values.len() }
    }
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn within_bounds(&self, v: Sym) -> bool {
        within(v, self.gte(), self.lte())
    }

    /// Whether value `v` is allowed.
    #[inline]
    pub fn has(&self, v: Sym) -> bool {
        // symbols are interned: a short list is searched by pointer, a long one by string order
        let member = if self.values.len() <= 16 { self.values.contains(&v) } else { self.values.binary_search(&v).is_ok() };
        (if self.complement { !member } else { member }) && self.within_bounds(v)
    }

    /// The single allowed value, if the requirement is an `In` with exactly one value.
    pub fn single(&self) -> Option<Sym> {
        (!self.complement && self.values.len() == 1).then(|| self.values[0])
    }

    /// `Requirement.Intersection` (§2.2).
    pub fn intersect(&self, other: &Requirement) -> Requirement {
        let complement = self.complement && other.complement;
        let (a, b) = (self.extra(), other.extra());
        let gte = max_opt(a.gte, b.gte);
        let lte = min_opt(a.lte, b.lte);
        let min_values = max_opt(a.min_values, b.min_values);
        if let (Some(g), Some(l)) = (gte, lte)
            && g > l
        {
            return Requirement::does_not_exist().with_min_values(min_values);
        }
        let mut values: Values = match (self.complement, other.complement) {
            (true, true) => sorted_unique(self.values.iter().chain(&other.values).copied()),
            (true, false) => other.values.iter().filter(|v| self.values.binary_search(v).is_err()).copied().collect(),
            (false, true) => self.values.iter().filter(|v| other.values.binary_search(v).is_err()).copied().collect(),
            (false, false) => self.values.iter().filter(|v| other.values.binary_search(v).is_ok()).copied().collect(),
        };
        values.retain(|v| within(*v, gte, lte));
        let (gte, lte) = if complement { (gte, lte) } else { (None, None) };
        // each bound keeps the written form of the side it came from
        let written = Written {
            gt: if a.gte == gte { a.written.gt } else { b.written.gt },
            lt: if a.lte == lte { a.written.lt } else { b.written.lt },
        };
        Requirement { complement, values, bounds: Bounds { gte, lte, min_values, written }.boxed() }
    }

    /// The per-key rule of `Requirements.Intersects` (Karpenter's `requirements.go`): the two
    /// requirements of one key agree when their intersection allows a value, or when both are
    /// negative (`NotIn`/`DoesNotExist`), which a node without the label satisfies.
    pub fn agrees_with(&self, other: &Requirement) -> bool {
        self.has_intersection(other) || (self.is_negative_op() && other.is_negative_op())
    }

    /// `HasIntersection`: whether the intersection allows any value, without building it.
    pub fn has_intersection(&self, other: &Requirement) -> bool {
        // two `In`s of one value each, without bounds (a node's label against a copy of it, or a
        // pinned zone): they intersect exactly when the values are the same symbol
        if let ([a], [b]) = (self.values.as_slice(), other.values.as_slice())
            && !self.complement
            && !other.complement
            && self.unbounded()
            && other.unbounded()
        {
            return a == b;
        }
        // one side an `In` of one value, neither side bounded (a pinned zone against a type's
        // zones, a type's name against a list of names): the other side allows that value or not
        let unbounded = self.unbounded() && other.unbounded();
        if unbounded {
            let allows = |r: &Requirement, v: &Sym| {
                let member = if r.values.len() <= 16 { r.values.contains(v) } else { r.values.binary_search(v).is_ok() };
                member != r.complement
            };
            if let [v] = other.values.as_slice()
                && !other.complement
            {
                return allows(self, v);
            }
            if let [v] = self.values.as_slice()
                && !self.complement
            {
                return allows(other, v);
            }
        }
        let gte = max_opt(self.gte(), other.gte());
        let lte = min_opt(self.lte(), other.lte());
        if let (Some(g), Some(l)) = (gte, lte)
            && g > l
        {
            return false;
        }
        // interned symbols: membership by pointer for short lists, by string order for long ones
        let member = |set: &[Sym], v: &Sym| if set.len() <= 16 { set.contains(v) } else { set.binary_search(v).is_ok() };
        match (self.complement, other.complement) {
            (true, true) => true,
            (true, false) => other.values.iter().any(|v| !member(&self.values, v) && within(*v, gte, lte)),
            (false, true) => self.values.iter().any(|v| !member(&other.values, v) && within(*v, gte, lte)),
            (false, false) => {
                let (small, large) =
                    if self.values.len() <= other.values.len() { (&self.values, &other.values) } else { (&other.values, &self.values) };
                small.iter().any(|v| member(large, v) && within(*v, gte, lte))
            }
        }
    }

    /// A deterministic stand-in for `Requirement.Any()` (§2.6, which is random in Karpenter): the
    /// smallest value by string for `In`; for complements the lower bound (or 0) if allowed, else
    /// the first integer allowed above it.
    pub fn any(&self) -> Option<Sym> {
        if !self.complement {
            return self.values.first().copied();
        }
        let mut n = self.gte().unwrap_or(0);
        loop {
            if self.lte().is_some_and(|l| n > l) {
                return None;
            }
            let s = Sym::new(&n.to_string());
            if self.has(s) {
                return Some(s);
            }
            n += 1;
        }
    }
}

fn within(v: Sym, gte: Option<i64>, lte: Option<i64>) -> bool {
    if gte.is_none() && lte.is_none() {
        return true;
    }
    match v.as_str().parse::<i64>() {
        Ok(n) => gte.is_none_or(|g| n >= g) && lte.is_none_or(|l| n <= l),
        Err(_) => false,
    }
}
fn max_opt<T: Ord>(a: Option<T>, b: Option<T>) -> Option<T> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.max(b)),
        (a, b) => a.or(b),
    }
}
fn min_opt<T: Ord>(a: Option<T>, b: Option<T>) -> Option<T> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

impl fmt::Display for Requirement {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // the values written one by one (no joined copy: results print every NodeClaim's requirements)
        let vals = |f: &mut fmt::Formatter<'_>, op: &str| {
            write!(f, "{op} [")?;
            for (i, v) in self.values.iter().enumerate() {
                if i > 0 {
                    f.write_str(", ")?;
                }
                f.write_str(v.as_str())?;
            }
            f.write_str("]")
        };
        match self.operator() {
            Operator::In => vals(f, "In")?,
            Operator::NotIn => vals(f, "NotIn")?,
            Operator::DoesNotExist => write!(f, "DoesNotExist")?,
            _ => {
                if self.unbounded() {
                    write!(f, "Exists")?
                }
            }
        }
        let b = self.extra();
        if let Some(g) = b.gte {
            let sep = if self.values.is_empty() { "" } else { " " };
            if b.written.gt { write!(f, "{sep}Gt {}", g - 1)? } else { write!(f, "{sep}Gte {g}")? }
        }
        if let Some(l) = b.lte {
            let sep = if b.gte.is_none() && self.values.is_empty() { "" } else { " " };
            if b.written.lt { write!(f, "{sep}Lt {}", l + 1)? } else { write!(f, "{sep}Lte {l}")? }
        }
        Ok(())
    }
}

/// Why two requirement sets are incompatible (§2.4), for explanations.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Incompatibility {
    /// The incoming side positively requires a label the existing side does not define.
    Undefined { key: Sym, incoming: String },
    /// Both define the key and no value satisfies both.
    NoIntersection { key: Sym, existing: String, incoming: String },
}

impl Incompatibility {
    pub fn key(&self) -> Sym {
        match self {
            Incompatibility::Undefined { key, .. } | Incompatibility::NoIntersection { key, .. } => *key,
        }
    }
}

impl fmt::Display for Incompatibility {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Incompatibility::Undefined { key, incoming } => {
                write!(f, "requires {key} {incoming}, a label with no known values")
            }
            Incompatibility::NoIntersection { key, existing, incoming } => {
                write!(f, "requires {key} {incoming} but only {existing} is possible")
            }
        }
    }
}

/// A set of requirements keyed by label key (kept sorted by key).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Requirements {
    items: Vec<(Sym, Requirement)>,
}

impl Requirements {
    pub fn new() -> Self {
        Self::default()
    }

    /// From node-selector requirements (NodePool `requirements`, a node-affinity term). Keys are
    /// normalised (`NormalizedLabels`); repeated keys intersect.
    pub fn from_node_selector(reqs: &[NodeSelectorRequirement]) -> Result<Requirements> {
        let mut out = Requirements::new();
        for (i, r) in reqs.iter().enumerate() {
            let at = || Location::field(format!("[{i}]"));
            let op = Operator::parse(&r.operator)
                .ok_or_else(|| Error::input(at(), format!("unknown operator {:?} for key {}", r.operator, r.key)))?;
            let req = Requirement::new(op, &r.values, r.min_values).map_err(|m| Error::input(at(), format!("key {}: {m}", r.key)))?;
            out.add(labels::normalize_sym(r.key), req);
        }
        Ok(out)
    }

    /// Each label `k=v` becomes `k In [v]`.
    pub fn from_labels<'a>(labels: impl IntoIterator<Item = (&'a Sym, &'a Sym)>) -> Requirements {
        let mut items: Vec<(Sym, Requirement)> = Vec::new();
        let mut sorted = true;
        for (k, v) in labels {
            let k = labels::normalize_sym(*k);
            sorted &= items.last().is_none_or(|(last, _)| *last < k);
            items.push((k, Requirement::is_in_one(*v)));
        }
        if sorted {
            // labels of a map arrive in key order: no search or insertion needed
            return Requirements { items };
        }
        let mut out = Requirements::new();
        for (k, r) in items {
            out.add(k, r);
        }
        out
    }

    /// From requirements sorted by key with unique keys (an instance type's, merged in order).
    pub(crate) fn from_sorted(items: Vec<(Sym, Requirement)>) -> Requirements {
        debug_assert!(items.windows(2).all(|w| w[0].0 < w[1].0), "keys not sorted and unique");
        Requirements { items }
    }

    /// [`Requirements::from_labels`] of a node's labels, shared. A simulation prepares the same
    /// nodes for every provisioning batch and disruption round, and their labels seldom change;
    /// building these each time was a large part of its cost. Cached per thread by the labels'
    /// content (checked label by label on a hit), at most a few thousand label sets.
    pub fn of_node_labels(node_labels: &BTreeMap<Sym, Sym>) -> std::sync::Arc<Requirements> {
        use std::cell::RefCell;
        use std::hash::{BuildHasher, BuildHasherDefault};
        use std::sync::Arc;
        type Entry = (Box<[(Sym, Sym)]>, Arc<Requirements>);
        const MAX_ENTRIES: usize = 8192;
        thread_local! {
            static CACHE: RefCell<std::collections::HashMap<u64, Vec<Entry>>> = RefCell::new(Default::default());
        }
        let hash = BuildHasherDefault::<labels::SymHasher>::default().hash_one(node_labels);
        CACHE.with(|c| {
            let mut cache = c.borrow_mut();
            let same = |e: &&Entry| e.0.len() == node_labels.len() && e.0.iter().zip(node_labels).all(|(a, (k, v))| a.0 == *k && a.1 == *v);
            if let Some(e) = cache.get(&hash).and_then(|v| v.iter().find(same)) {
                return Arc::clone(&e.1);
            }
            if cache.len() >= MAX_ENTRIES {
                cache.clear();
            }
            let r = Arc::new(Requirements::from_labels(node_labels.iter()));
            cache.entry(hash).or_default().push((node_labels.iter().map(|(k, v)| (*k, *v)).collect(), Arc::clone(&r)));
            r
        })
    }

    /// `key` sorts after every key held: keys given in order (an instance type's sorted labels, 35
    /// of them for each of 1,345 types) append without a search.
    fn after_last(&self, key: Sym) -> bool {
        self.items.last().is_none_or(|(last, _)| *last < key)
    }

    /// Where `key` is, or where it would be inserted (sorted by key string). Keys are interned: a
    /// short set is searched by pointer first, which needs no string comparison.
    #[inline]
    fn position(&self, key: Sym) -> std::result::Result<usize, usize> {
        if self.items.len() <= 24
            && let Some(i) = self.items.iter().position(|(k, _)| *k == key)
        {
            return Ok(i);
        }
        self.items.binary_search_by(|(k, _)| k.cmp(&key))
    }

    /// `Requirements.Add`: insert, or intersect with the requirement already present.
    pub fn add(&mut self, key: Sym, req: Requirement) {
        if self.after_last(key) {
            self.items.push((key, req));
            return;
        }
        match self.position(key) {
            Ok(i) => {
                let merged = self.items[i].1.intersect(&req);
                self.items[i].1 = merged;
            }
            Err(i) => self.items.insert(i, (key, req)),
        }
    }

    /// Intersect every requirement of `other` into `self`.
    pub fn add_all(&mut self, other: &Requirements) {
        for (k, r) in &other.items {
            self.add(*k, r.clone());
        }
    }

    /// Replace (not intersect) the requirement of `key`.
    pub fn set(&mut self, key: Sym, req: Requirement) {
        if self.after_last(key) {
            self.items.push((key, req));
            return;
        }
        match self.position(key) {
            Ok(i) => self.items[i].1 = req,
            Err(i) => self.items.insert(i, (key, req)),
        }
    }

    pub fn remove(&mut self, key: Sym) {
        if let Ok(i) = self.position(key) {
            self.items.remove(i);
        }
    }

    /// Where `key` is among the requirements, for [`Requirements::at`] on any set with the same
    /// keys in the same order (the instance filter looks a key up once for many instance types).
    pub(crate) fn index_of(&self, key: Sym) -> Option<usize> {
        self.find(key)
    }

    /// The key at `i` (an [`Requirements::index_of`]).
    pub(crate) fn key_at(&self, i: usize) -> Sym {
        self.items[i].0
    }

    /// The requirement at `i` (an [`Requirements::index_of`]).
    pub(crate) fn at(&self, i: usize) -> &Requirement {
        &self.items[i].1
    }

    #[inline]
    fn find(&self, key: Sym) -> Option<usize> {
        // AWS instance types carry ~32 keys: a pointer scan beats comparing strings with long shared prefixes
        if self.items.len() <= 64 { self.items.iter().position(|(k, _)| *k == key) } else { self.position(key).ok() }
    }

    #[inline]
    pub fn get(&self, key: Sym) -> Option<&Requirement> {
        self.find(key).map(|i| &self.items[i].1)
    }
    #[inline]
    pub fn has(&self, key: Sym) -> bool {
        self.find(key).is_some()
    }
    pub fn iter(&self) -> impl Iterator<Item = (Sym, &Requirement)> {
        self.items.iter().map(|(k, r)| (*k, r))
    }
    pub fn len(&self) -> usize {
        self.items.len()
    }
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }
    pub fn has_min_values(&self) -> bool {
        self.items.iter().any(|(_, r)| r.min_values().is_some())
    }

    /// The same requirements with every minValues dropped.
    pub fn without_min_values(&self) -> Requirements {
        Requirements { items: self.items.iter().map(|(k, r)| (*k, r.clone().with_min_values(None))).collect() }
    }

    /// `Intersects` (§2.4): for keys present on both sides, the values must intersect, unless both
    /// sides are negative (`NotIn`/`DoesNotExist`).
    pub fn intersects(&self, incoming: &Requirements) -> std::result::Result<(), Incompatibility> {
        // both sorted by key: merge walk
        let (a, b) = (&self.items, &incoming.items);
        let (mut i, mut j) = (0, 0);
        while i < a.len() && j < b.len() {
            if a[i].0 == b[j].0 {
                let (e, n) = (&a[i].1, &b[j].1);
                if !e.agrees_with(n) {
                    return Err(Incompatibility::NoIntersection { key: a[i].0, existing: e.to_string(), incoming: n.to_string() });
                }
                i += 1;
                j += 1;
            } else if a[i].0 < b[j].0 {
                i += 1;
            } else {
                j += 1;
            }
        }
        Ok(())
    }

    /// `self.intersects(incoming).is_ok()`, without building the error, and with keys matched by
    /// pointer (interned) rather than by string order when both sets are small.
    pub fn intersects_ok(&self, incoming: &Requirements) -> bool {
        self.intersects_ok_except(incoming, None)
    }

    /// [`Requirements::intersects_ok`] over every key but `skip` (the check is a conjunction over keys).
    pub fn intersects_ok_except(&self, incoming: &Requirements, skip: Option<Sym>) -> bool {
        // walk the smaller set, look keys up in the larger (by pointer when short, else by order)
        if self.items.len() <= incoming.items.len() {
            self.items.iter().filter(|(k, _)| Some(*k) != skip).all(|(k, e)| incoming.get(*k).is_none_or(|n| e.agrees_with(n)))
        } else {
            incoming.items.iter().filter(|(k, _)| Some(*k) != skip).all(|(k, n)| self.get(*k).is_none_or(|e| e.agrees_with(n)))
        }
    }

    /// [`Requirements::intersects_ok`] over the keys `keys` only (the check is a conjunction over keys).
    pub fn intersects_ok_on(&self, incoming: &Requirements, keys: impl IntoIterator<Item = Sym>) -> bool {
        keys.into_iter().all(|k| match (self.get(k), incoming.get(k)) {
            (Some(e), Some(n)) => e.agrees_with(n),
            _ => true,
        })
    }

    /// `Compatible(existing=self, incoming)` (§2.4). With `undefined` (`AllowUndefinedWellKnownLabels`),
    /// positive requirements on those well-known keys that the existing side does not define are
    /// allowed (NodeClaims); with `None` (existing nodes) every positively required label must be
    /// defined.
    pub fn compatible(&self, incoming: &Requirements, undefined: Option<&labels::WellKnown>) -> std::result::Result<(), Incompatibility> {
        if std::ptr::eq(self, incoming) {
            return self.self_compatible();
        }
        // Karpenter checks every incoming key for definition first, then `Intersects`. Both sides
        // are sorted by key, so one merge walk does both: an undefined key is reported at once (the
        // first in key order, as the first pass would), a disagreement only if no undefined key
        // follows (the first in key order, as `intersects` would). Keys present on both sides (all
        // but one or two when topology narrows a node's own) match by pointer, with no look-up.
        let a = &self.items;
        let mut i = 0;
        let mut conflict = None;
        for (k, r) in &incoming.items {
            while i < a.len() && a[i].0 != *k && a[i].0 < *k {
                i += 1;
            }
            if i < a.len() && a[i].0 == *k {
                let e = &a[i].1;
                if conflict.is_none() && !e.agrees_with(r) {
                    conflict = Some(Incompatibility::NoIntersection { key: *k, existing: e.to_string(), incoming: r.to_string() });
                }
                i += 1;
            } else if !r.is_negative_op() && !undefined.is_some_and(|w| w.contains(*k)) {
                return Err(Incompatibility::Undefined { key: *k, incoming: r.to_string() });
            }
        }
        conflict.map_or(Ok(()), Err)
    }

    /// `self.compatible(self, _)`, which the scheduler asks of every existing node a pod may go to
    /// that topology does not tighten (Karpenter's `Compatible(nodeRequirements,
    /// topologyRequirements)` with the two equal). Every key is defined on both sides, so only the
    /// intersection rule can fail, key by key with each requirement against itself: the same
    /// verdict, and the same first failing key, as the general walk, without looking keys up.
    fn self_compatible(&self) -> std::result::Result<(), Incompatibility> {
        for (k, r) in &self.items {
            if !r.agrees_with(r) {
                return Err(Incompatibility::NoIntersection { key: *k, existing: r.to_string(), incoming: r.to_string() });
            }
        }
        Ok(())
    }

    /// Labels implied by single-valued `In` requirements (what a launched node would carry).
    pub fn single_valued_labels(&self) -> BTreeMap<Sym, Sym> {
        self.items.iter().filter_map(|(k, r)| r.single().map(|v| (*k, v))).collect()
    }
}

impl fmt::Display for Requirements {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let parts: Vec<String> = self.items.iter().map(|(k, r)| format!("{k} {r}")).collect();
        write!(f, "{}", parts.join(", "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(op: &str, vals: &[&str]) -> Requirement {
        let v: Vec<String> = vals.iter().map(|s| s.to_string()).collect();
        Requirement::new(Operator::parse(op).unwrap(), &v, None).unwrap()
    }
    fn set(pairs: &[(&str, Requirement)]) -> Requirements {
        let mut r = Requirements::new();
        for (k, q) in pairs {
            r.add(Sym::new(k), q.clone());
        }
        r
    }
    fn s(x: &str) -> Sym {
        Sym::new(x)
    }

    /// `HasIntersection` answers as checking every value: over requirements of one value, short
    /// and long (> 16 values, searched by order) lists, complements and bounds, every pair with
    /// at least one side that lists its allowed values is checked against the values it lists.
    #[test]
    fn has_intersection_agrees_with_checking_each_value() {
        let long: Vec<String> = (0..40).map(|i| format!("v{i:02}")).collect();
        let long: Vec<&str> = long.iter().map(String::as_str).collect();
        let reqs = [
            req("In", &["v03"]),
            req("In", &["v39"]),
            req("In", &["7"]),
            req("In", &["zz"]),
            req("In", &["v03", "v05", "zz"]),
            req("In", &long),
            req("In", &long[10..]),
            req("NotIn", &["v03"]),
            req("NotIn", &long),
            req("Exists", &[]),
            req("DoesNotExist", &[]),
            req("Gt", &["5"]),
            req("Lt", &["9"]),
            req("In", &["3", "7", "12"]),
        ];
        let mut checked = 0;
        for a in &reqs {
            for b in &reqs {
                let listed = if !a.complement { a.values() } else if !b.complement { b.values() } else { continue };
                let any = listed.iter().any(|&v| a.has(v) && b.has(v));
                assert_eq!(a.has_intersection(b), any, "{a} and {b}");
                checked += 1;
            }
        }
        assert!(checked > 100, "{checked}");
    }

    /// Up to one value lives inline (an instance type's ~25 label requirements allocate nothing);
    /// more spill to the heap; both forms answer the set algebra alike.
    #[test]
    fn one_value_is_held_inline_and_answers_as_in() {
        let one = Requirement::is_in_one(s("b"));
        assert!(!one.values.spilled() && !Requirement::exists().values.spilled() && !req("In", &["b"]).values.spilled());
        assert_eq!(one, req("In", &["b"]));
        assert_eq!((one.operator(), one.single(), one.to_string()), (Operator::In, Some(s("b")), "In [b]".to_string()));
        let many = req("In", &["c", "a", "b"]);
        assert!(many.values.spilled());
        assert_eq!(many.values(), &[s("a"), s("b"), s("c")]);
        assert_eq!(many.intersect(&one), one);
        assert_eq!(one.intersect(&req("NotIn", &["b"])).operator(), Operator::DoesNotExist);
        assert!(many.has_intersection(&one) && !one.has_intersection(&req("In", &["a", "c"])));
        let hash = |r: &Requirement| {
            use std::hash::{BuildHasher, BuildHasherDefault};
            BuildHasherDefault::<crate::labels::SymHasher>::default().hash_one(r)
        };
        assert_eq!(hash(&one), hash(&req("In", &["b"])));
    }

    #[test]
    fn a_set_checked_against_itself_gets_the_general_verdict() {
        // the same set by address takes the short path, a copy the general walk: same answers
        let empty_in = set(&[("a", req("In", &["3"])), ("b", req("Gt", &["5"])), ("b", req("In", &["3", "x"]))]);
        let cases = [
            set(&[]),
            set(&[("zone", req("In", &["z1", "z2"])), ("arch", req("NotIn", &["arm64"])), ("gone", req("DoesNotExist", &[]))]),
            set(&[("cpu", req("Gt", &["4"])), ("cpu", req("Lt", &["64"])), ("os", req("Exists", &[]))]),
            empty_in,
        ];
        for c in &cases {
            let copy = c.clone();
            assert_eq!(c.compatible(c, None), c.compatible(&copy, None), "{c}");
        }
        // an In left with no value reads as DoesNotExist (as Karpenter's `Operator()` reads it)
        assert!(cases[3].compatible(&cases[3], None).is_ok());
        assert!(cases[1].compatible(&cases[1], None).is_ok());
        // and the general walk still refuses what does not intersect
        assert!(cases[1].compatible(&set(&[("zone", req("In", &["z3"]))]), None).is_err());
    }

    /// `compatible` as Karpenter writes it: every incoming key defined (or negative, or an allowed
    /// well-known key), then `Intersects`.
    fn two_pass_compatible(e: &Requirements, n: &Requirements, w: Option<&labels::WellKnown>) -> std::result::Result<(), Incompatibility> {
        for (k, r) in n.iter() {
            if !(w.is_some_and(|w| w.contains(k)) || r.is_negative_op() || e.has(k)) {
                return Err(Incompatibility::Undefined { key: k, incoming: r.to_string() });
            }
        }
        e.intersects(n)
    }

    #[test]
    fn the_merge_walk_gives_the_two_pass_verdict() {
        // keys interleave, some on one side only (well-known and custom, positive and negative), and
        // several disagree: the verdict and the key reported must be those of the two passes
        let keys = ["a", "topology.kubernetes.io/zone", "c", "kubernetes.io/arch", "e", "karpenter.sh/capacity-type", "g"];
        let reqs = [req("In", &["1", "2"]), req("In", &["3"]), req("NotIn", &["1"]), req("Exists", &[]), req("DoesNotExist", &[]), req("Gt", &["1"])];
        let well_known = labels::WellKnown::default();
        let mut seed = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = |m: usize| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            (seed % m as u64) as usize
        };
        let (mut undefined, mut conflicts, mut ok) = (0, 0, 0);
        for _ in 0..3000 {
            let mut sides = [Requirements::new(), Requirements::new()];
            for side in &mut sides {
                for k in keys {
                    if next(3) > 0 {
                        side.add(s(k), reqs[next(reqs.len())].clone());
                    }
                }
            }
            let [e, n] = &sides;
            for w in [None, Some(&well_known)] {
                let got = e.compatible(n, w);
                assert_eq!(got, two_pass_compatible(e, n, w), "existing {e}, incoming {n}");
                match got {
                    Err(Incompatibility::Undefined { .. }) => undefined += 1,
                    Err(_) => conflicts += 1,
                    Ok(()) => ok += 1,
                }
            }
        }
        assert!(undefined > 100 && conflicts > 100 && ok > 100, "{undefined} {conflicts} {ok}");
    }

    #[test]
    fn construction_validates_operators() {
        assert!(Requirement::new(Operator::In, &[], None).is_err());
        assert!(Requirement::new(Operator::Gt, &["a".into()], None).is_err());
        assert!(Requirement::new(Operator::Gt, &["-1".into()], None).is_err());
        assert!(Requirement::new(Operator::Gt, &["1".into(), "2".into()], None).is_err());
        assert!(Requirement::new(Operator::Exists, &["x".into()], None).is_err());
        assert!(Requirement::new(Operator::In, &["a".into()], Some(2)).is_err(), "minValues above the value count");
        assert!(Requirement::new(Operator::Exists, &[], Some(51)).is_err());
        assert_eq!(req("Gt", &["4"]).operator(), Operator::Exists, "a pure bound reports Exists");
    }

    #[test]
    fn membership_and_bounds() {
        let gt = req("Gt", &["4"]);
        assert!(gt.has(s("5")) && !gt.has(s("4")) && !gt.has(s("abc")));
        let lt = req("Lt", &["4"]);
        assert!(lt.has(s("3")) && !lt.has(s("4")));
        assert!(req("Gte", &["4"]).has(s("4")) && req("Lte", &["4"]).has(s("4")));
        assert!(req("NotIn", &["a"]).has(s("b")) && !req("NotIn", &["a"]).has(s("a")));
        assert!(!req("DoesNotExist", &[]).has(s("a")));
        assert!(req("Exists", &[]).has(s("a")));
    }

    #[test]
    fn intersection_follows_section_2_2() {
        // disjoint In sets intersect to DoesNotExist
        let x = req("In", &["a", "b"]).intersect(&req("In", &["c"]));
        assert_eq!(x.operator(), Operator::DoesNotExist);
        // In ∩ NotIn
        assert_eq!(req("In", &["a", "b"]).intersect(&req("NotIn", &["a"])).values(), &[s("b")]);
        // NotIn ∪ NotIn
        assert_eq!(req("NotIn", &["a"]).intersect(&req("NotIn", &["b"])).values(), &[s("a"), s("b")]);
        // bounds filter concrete values, and concrete sets drop bounds
        let x = req("In", &["1", "5", "9"]).intersect(&req("Gt", &["2"]));
        assert_eq!(x.values(), &[s("5"), s("9")]);
        assert_eq!(x.bounds(), (None, None));
        // conflicting bounds
        assert_eq!(req("Gt", &["5"]).intersect(&req("Lt", &["3"])).operator(), Operator::DoesNotExist);
        // minValues takes the max
        let a = req("In", &["a", "b"]).with_min_values(Some(2));
        assert_eq!(a.intersect(&req("Exists", &[])).min_values(), Some(2));
        assert!(req("In", &["a", "b"]).has_intersection(&req("In", &["b", "c"])));
        // one value each (the short path): same symbol or not
        assert!(req("In", &["a"]).has_intersection(&req("In", &["a"])));
        assert!(!req("In", &["a"]).has_intersection(&req("In", &["b"])));
        assert!(!req("In", &["a"]).has_intersection(&req("NotIn", &["a"])));
        assert!(!req("Gt", &["5"]).has_intersection(&req("In", &["3"])));
        assert!(req("Exists", &[]).has_intersection(&req("NotIn", &["a"])));
    }

    #[test]
    fn undefined_label_rules_of_section_2_4() {
        let wk = labels::WellKnown::default();
        let nodeclaim = set(&[("kubernetes.io/arch", req("In", &["amd64"])), ("team", req("In", &["a"]))]);
        // custom key undefined on the node side, positive on the pod side: incompatible
        let pod = set(&[("gpu", req("In", &["true"]))]);
        assert!(matches!(nodeclaim.compatible(&pod, Some(&wk)), Err(Incompatibility::Undefined { .. })));
        let pod = set(&[("gpu", req("Exists", &[]))]);
        assert!(nodeclaim.compatible(&pod, Some(&wk)).is_err());
        // negative operators on an undefined custom key: fine
        assert!(nodeclaim.compatible(&set(&[("gpu", req("NotIn", &["true"]))]), Some(&wk)).is_ok());
        assert!(nodeclaim.compatible(&set(&[("gpu", req("DoesNotExist", &[]))]), Some(&wk)).is_ok());
        // well-known key undefined: allowed for NodeClaims, not for existing nodes
        let pod = set(&[("topology.kubernetes.io/zone", req("In", &["z1"]))]);
        assert!(nodeclaim.compatible(&pod, Some(&wk)).is_ok());
        assert!(nodeclaim.compatible(&pod, None).is_err());
        // defined key: values must intersect
        assert!(nodeclaim.compatible(&set(&[("team", req("In", &["b"]))]), Some(&wk)).is_err());
        assert!(nodeclaim.compatible(&set(&[("team", req("In", &["a", "b"]))]), Some(&wk)).is_ok());
        // both negative: compatible even without intersection
        let a = set(&[("k", req("DoesNotExist", &[]))]);
        assert!(a.compatible(&set(&[("k", req("NotIn", &["x"]))]), None).is_ok());
        // zone In [bogus] and zone Exists: Exists does not widen the In
        let mut pod = set(&[("topology.kubernetes.io/zone", req("In", &["bogus"]))]);
        pod.add(s("topology.kubernetes.io/zone"), req("Exists", &[]));
        let nc = set(&[("topology.kubernetes.io/zone", req("In", &["z1", "z2"]))]);
        assert!(nc.compatible(&pod, Some(&wk)).is_err());
    }

    #[test]
    fn node_selector_keys_are_normalised_and_merged() {
        let r = Requirements::from_node_selector(&[
            NodeSelectorRequirement {
                key: s("beta.kubernetes.io/arch"),
                operator: "In".into(),
                values: vec!["amd64".into(), "arm64".into()],
                min_values: None,
            },
            NodeSelectorRequirement { key: s("kubernetes.io/arch"), operator: "In".into(), values: vec!["arm64".into()], min_values: None },
        ])
        .unwrap();
        assert_eq!(r.get(s("kubernetes.io/arch")).unwrap().single(), Some(s("arm64")));
        let e = Requirements::from_node_selector(&[NodeSelectorRequirement {
            key: s("a"),
            operator: "Near".into(),
            values: vec![],
            min_values: None,
        }])
        .unwrap_err();
        assert!(e.to_string().contains("Near"));
    }

    #[test]
    fn bounds_display_as_written() {
        assert_eq!(req("Gt", &["5"]).to_string(), "Gt 5");
        assert_eq!(req("Gte", &["6"]).to_string(), "Gte 6");
        assert_eq!(req("Lt", &["10"]).to_string(), "Lt 10");
        assert_eq!(req("Gt", &["5"]), req("Gte", &["6"]), "the written form is for display only");
        // intersections keep the written form of the bound that wins
        assert_eq!(req("Gt", &["5"]).intersect(&req("Lt", &["10"])).to_string(), "Gt 5 Lt 10");
        assert_eq!(req("Gte", &["7"]).intersect(&req("Gt", &["5"])).to_string(), "Gte 7");
        assert_eq!(req("Exists", &[]).intersect(&req("Gt", &["5"])).to_string(), "Gt 5");
        assert_eq!(req("NotIn", &["9"]).intersect(&req("Gt", &["5"])).to_string(), "NotIn [9] Gt 5");
    }

    /// Every instance type holds ~30 requirements, built at start-up for every type of a catalog:
    /// they stay small (bounds and minValues out of line), and what went out of line still
    /// counts (equality, minValues, intersection) exactly as when it was inline.
    #[test]
    fn requirements_stay_small_and_keep_their_bounds() {
        assert!(std::mem::size_of::<Requirement>() <= 40, "{} bytes", std::mem::size_of::<Requirement>());
        let bounded = req("Gt", &["5"]).with_min_values(Some(2));
        assert_eq!((bounded.bounds(), bounded.min_values()), ((Some(6), None), Some(2)));
        assert_ne!(bounded, req("Gt", &["5"]), "minValues takes part in equality");
        assert_eq!(bounded.clone().with_min_values(None), req("Gte", &["6"]));
        // an intersection that leaves no bound and no minValues equals one that never had them
        let meet = req("Gt", &["5"]).intersect(&req("In", &["7", "3"]));
        assert_eq!((meet.bounds(), meet.min_values()), ((None, None), None));
        assert_eq!(meet, req("In", &["7"]));
        // empty bounds keep minValues
        let empty = req("Gt", &["5"]).with_min_values(Some(1)).intersect(&req("Lt", &["3"]));
        assert_eq!((empty.operator(), empty.min_values()), (Operator::DoesNotExist, Some(1)));
    }

    #[test]
    fn any_is_deterministic() {
        assert_eq!(req("In", &["b", "a"]).any(), Some(s("a")));
        assert_eq!(req("Gt", &["4"]).any(), Some(s("5")));
        assert_eq!(req("NotIn", &["0", "1"]).any(), Some(s("2")));
        assert_eq!(req("DoesNotExist", &[]).any(), None);
    }
}
