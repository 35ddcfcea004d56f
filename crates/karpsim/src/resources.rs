//! Resource lists and their arithmetic, exact integers.
//!
//! CPU is held in millicores; every other resource (memory and ephemeral-storage in bytes, pods,
//! extended resources such as `nvidia.com/gpu`) in whole units, rounded up on parsing as the
//! Kubernetes scheduler does (`MilliValue()` for cpu, `Value()` for the rest). A resource absent from a
//! list counts as zero (Karpenter's `Fits`, `pkg/utils/resources/resources.go`).
//!
//! Sums of user inputs (a pod's containers, overheads, the pods bound to a node) are built with
//! [`Resources::checked_add`], so that a sum past the integer range is an error naming the field.
//! The arithmetic the algorithms do afterwards (`add`, `sub`, ...) saturates at the `i64` range: a
//! total too large for any node stays too large (and a remainder too small stays too small) instead
//! of wrapping around to a value that would fit.

use crate::error::{Error, Location, Result};
use crate::labels::Sym;
use crate::quantity::{Bytes, CpuMilli, Quantity};
use std::collections::BTreeMap;

pub const CPU: &str = "cpu";
pub const MEMORY: &str = "memory";
pub const EPHEMERAL_STORAGE: &str = "ephemeral-storage";
pub const PODS: &str = "pods";

/// A list of resource amounts. The four core resources are fields; others are kept sorted by name.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct Resources {
    /// millicores
    pub cpu: i64,
    /// bytes
    pub memory: i64,
    /// bytes
    pub ephemeral_storage: i64,
    pub pods: i64,
    extended: Vec<(Sym, i64)>,
}

/// Parse one quantity for a named resource into the integer unit this crate uses for it. Errors
/// echo the quantity as written.
pub fn parse_amount(name: &str, value: &str) -> Result<i64> {
    let q = Quantity::parse(value)?;
    let v = if name == CPU { q.to_milli() } else { q.to_units() };
    v.map_err(|_| Error::Quantity { value: value.to_string(), reason: format!("out of range (at most {} of {name})", max_amount_text(name)) })
}

/// Format an integer amount of a named resource as a Kubernetes quantity string.
pub fn format_amount(name: &str, v: i64) -> String {
    Amount { name, v }.to_string()
}

/// [`format_amount`] as a `Display` (and serialised as that string), to write a quantity without a
/// `String` of its own.
#[derive(Debug, Clone, Copy)]
pub struct Amount<'a> {
    pub name: &'a str,
    pub v: i64,
}

impl std::fmt::Display for Amount<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.name {
            CPU => std::fmt::Display::fmt(&CpuMilli(self.v), f),
            MEMORY | EPHEMERAL_STORAGE => std::fmt::Display::fmt(&Bytes(self.v), f),
            n if n.starts_with("hugepages-") => std::fmt::Display::fmt(&Bytes(self.v), f),
            _ => write!(f, "{}", self.v),
        }
    }
}

impl serde::Serialize for Amount<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// The largest amount of a resource karpsim holds, for error messages.
pub fn max_amount_text(name: &str) -> &'static str {
    match name {
        CPU => "9.2e15 cores",
        MEMORY | EPHEMERAL_STORAGE => "8Ei",
        n if n.starts_with("hugepages-") => "8Ei",
        _ => "9.2e18",
    }
}

impl Resources {
    pub fn new() -> Self {
        Self::default()
    }

    /// Build from `(name, amount)` pairs already in this crate's units.
    pub fn from_pairs<'a>(pairs: impl IntoIterator<Item = (&'a str, i64)>) -> Self {
        let mut r = Resources::default();
        for (k, v) in pairs {
            r.set(k, v);
        }
        r
    }

    /// Parse a Kubernetes `ResourceList` (`{"cpu": "100m", "memory": "1Gi"}`). Negative values are an
    /// error naming the field.
    pub fn parse_map<'a>(map: impl IntoIterator<Item = (&'a str, &'a str)>) -> Result<Self> {
        let mut r = Resources::default();
        for (k, v) in map {
            let amount = parse_amount(k, v).map_err(|e| e.at(Location::field(k)))?;
            if amount < 0 {
                return Err(Error::input(Location::field(k), format!("negative quantity {v:?}")));
            }
            r.set(k, amount);
        }
        Ok(r)
    }

    pub fn get(&self, name: &str) -> i64 {
        match name {
            CPU => self.cpu,
            MEMORY => self.memory,
            EPHEMERAL_STORAGE => self.ephemeral_storage,
            PODS => self.pods,
            _ => {
                let s = Sym::new(name);
                self.extended.iter().find(|(k, _)| *k == s).map_or(0, |(_, v)| *v)
            }
        }
    }

    pub fn set(&mut self, name: &str, v: i64) {
        match name {
            CPU => self.cpu = v,
            MEMORY => self.memory = v,
            EPHEMERAL_STORAGE => self.ephemeral_storage = v,
            PODS => self.pods = v,
            _ => self.set_extended(Sym::new(name), v),
        }
    }

    /// [`Resources::set`] for an extended (non-core) resource already interned (the catalog sets
    /// seven per instance type).
    pub(crate) fn set_extended(&mut self, s: Sym, v: i64) {
        match self.extended.binary_search_by(|(k, _)| k.cmp(&s)) {
            Ok(i) => {
                if v == 0 {
                    self.extended.remove(i);
                } else {
                    self.extended[i].1 = v;
                }
            }
            Err(i) => {
                if v != 0 {
                    self.extended.insert(i, (s, v));
                }
            }
        }
    }

    /// Extended (non-core) resources with a non-zero amount, sorted by name.
    pub fn extended(&self) -> &[(Sym, i64)] {
        &self.extended
    }

    /// Every non-zero entry as `(name, amount)`, core resources first, then extended by name.
    pub fn iter(&self) -> impl Iterator<Item = (&'static str, i64)> + '_ {
        [(CPU, self.cpu), (MEMORY, self.memory), (EPHEMERAL_STORAGE, self.ephemeral_storage), (PODS, self.pods)]
            .into_iter()
            .chain(self.extended.iter().map(|(k, v)| (k.as_str(), *v)))
            .filter(|(_, v)| *v != 0)
    }

    fn zip_with(&self, other: &Resources, f: impl Fn(i64, i64) -> i64) -> Resources {
        let mut out = Resources {
            cpu: f(self.cpu, other.cpu),
            memory: f(self.memory, other.memory),
            ephemeral_storage: f(self.ephemeral_storage, other.ephemeral_storage),
            pods: f(self.pods, other.pods),
            extended: Vec::with_capacity(self.extended.len().max(other.extended.len())),
        };
        let (mut i, mut j) = (0, 0);
        let (a, b) = (&self.extended, &other.extended);
        while i < a.len() || j < b.len() {
            let (k, v) = if j >= b.len() || (i < a.len() && a[i].0 < b[j].0) {
                i += 1;
                (a[i - 1].0, f(a[i - 1].1, 0))
            } else if i >= a.len() || b[j].0 < a[i].0 {
                j += 1;
                (b[j - 1].0, f(0, b[j - 1].1))
            } else {
                i += 1;
                j += 1;
                (a[i - 1].0, f(a[i - 1].1, b[j - 1].1))
            };
            if v != 0 {
                out.extended.push((k, v));
            }
        }
        out
    }

    /// `self + other`, saturating at the `i64` range (see the module documentation).
    pub fn add(&self, other: &Resources) -> Resources {
        self.zip_with(other, i64::saturating_add)
    }
    /// `self - other`, saturating at the `i64` range.
    pub fn sub(&self, other: &Resources) -> Resources {
        self.zip_with(other, i64::saturating_sub)
    }

    /// `self + other` for sums of user inputs: `Err` names the first resource whose sum leaves the
    /// `i64` range.
    pub fn checked_add(&self, other: &Resources) -> std::result::Result<Resources, &'static str> {
        // an overflow needs both amounts non-zero, so the names of `self` are enough to look at
        match self.iter().find(|(k, v)| v.checked_add(other.get(k)).is_none()) {
            Some((k, _)) => Err(k),
            None => Ok(self.add(other)),
        }
    }
    pub fn max(&self, other: &Resources) -> Resources {
        self.zip_with(other, i64::max)
    }
    pub fn min(&self, other: &Resources) -> Resources {
        self.zip_with(other, i64::min)
    }
    /// `*self = self + other`, saturating.
    pub fn add_assign(&mut self, other: &Resources) {
        self.combine_in_place(other, i64::saturating_add);
    }
    /// `*self = self - other`, saturating.
    pub fn sub_assign(&mut self, other: &Resources) {
        self.combine_in_place(other, i64::saturating_sub);
    }

    /// `*self = self.zip_with(other, f)` for an `f` with `f(a, 0) == a` (saturating add and sub),
    /// without building a new list: the extended resources of `self` that `other` lacks keep their
    /// amount, so only `other`'s are looked up. A node's allocatable on AWS lists extended
    /// resources, and the cluster view subtracts every bound pod's requests from it: a new `Vec`
    /// per pod showed in a whole-day profile.
    #[inline]
    fn combine_in_place(&mut self, other: &Resources, f: impl Fn(i64, i64) -> i64) {
        self.cpu = f(self.cpu, other.cpu);
        self.memory = f(self.memory, other.memory);
        self.ephemeral_storage = f(self.ephemeral_storage, other.ephemeral_storage);
        self.pods = f(self.pods, other.pods);
        for &(k, b) in &other.extended {
            // (entries are non-zero, sorted by name and unique: `set_extended` keeps that)
            match self.extended.binary_search_by(|(x, _)| x.cmp(&k)) {
                Ok(i) => {
                    let v = f(self.extended[i].1, b);
                    if v == 0 {
                        self.extended.remove(i);
                    } else {
                        self.extended[i].1 = v;
                    }
                }
                Err(i) => {
                    let v = f(0, b);
                    if v != 0 {
                        self.extended.insert(i, (k, v));
                    }
                }
            }
        }
    }
    /// Each component floored at zero.
    pub fn floor_zero(&self) -> Resources {
        self.zip_with(&Resources::default(), |a, _| a.max(0))
    }

    #[inline]
    pub fn any_negative(&self) -> bool {
        self.cpu < 0
            || self.memory < 0
            || self.ephemeral_storage < 0
            || self.pods < 0
            || self.extended.iter().any(|(_, v)| *v < 0)
    }

    /// Karpenter's `Fits(candidate, total)`: false if any amount in `total` is negative, else every
    /// amount of `self` must be at most the same amount of `total` (absent counts as zero).
    /// Inlined, amounts compared first (both conditions are pure): the instance filter asks this of
    /// every option of a NodeClaim for every pod it tries.
    #[inline]
    pub fn fits(&self, total: &Resources) -> bool {
        self.fits_unchecked(total) && !total.any_negative()
    }

    /// `fits` without the negative-total check, for callers that know `total` is non-negative.
    #[inline]
    pub fn fits_unchecked(&self, total: &Resources) -> bool {
        if self.cpu > total.cpu
            || self.memory > total.memory
            || self.ephemeral_storage > total.ephemeral_storage
            || self.pods > total.pods
        {
            return false;
        }
        self.extended.iter().all(|(k, v)| {
            *v <= total.extended.iter().find(|(tk, _)| tk == k).map_or(0, |(_, tv)| *tv)
        })
    }

    /// The first resource of `self` that exceeds `total`, with both amounts (for explanations).
    pub fn first_excess(&self, total: &Resources) -> Option<(&'static str, i64, i64)> {
        self.iter().find_map(|(k, v)| {
            let t = total.get(k);
            (v > t).then_some((k, v, t))
        })
    }

    /// As a sorted map of Kubernetes quantity strings (for output).
    pub fn to_quantity_map(&self) -> BTreeMap<String, String> {
        self.iter().map(|(k, v)| (k.to_string(), format_amount(k, v))).collect()
    }
}

impl serde::Serialize for Resources {
    /// The same map as [`Resources::to_quantity_map`] (sorted by name), written without building it:
    /// every NodeClaim of a result serialises two of these.
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        let mut entries: Vec<(&str, i64)> = Vec::with_capacity(4 + self.extended.len());
        entries.extend(self.iter());
        // names are unique, so the unstable sort's order is the only one
        entries.sort_unstable_by_key(|(k, _)| *k);
        s.collect_map(entries.into_iter().map(|(name, v)| (name, Amount { name, v })))
    }
}
impl<'de> serde::Deserialize<'de> for Resources {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Resources, D::Error> {
        let m = BTreeMap::<String, QuantityValue>::deserialize(d)?;
        let mut r = Resources::default();
        for (k, v) in &m {
            let amount = parse_amount(k, &v.0).map_err(serde::de::Error::custom)?;
            r.set(k, amount);
        }
        Ok(r)
    }
}

/// A quantity given either as a string (`"100m"`) or as a number (`2`, `0.5`), as Kubernetes accepts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QuantityValue(pub String);

impl<'de> serde::Deserialize<'de> for QuantityValue {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<QuantityValue, D::Error> {
        struct V;
        impl serde::de::Visitor<'_> for V {
            type Value = QuantityValue;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a quantity (string or number)")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> std::result::Result<QuantityValue, E> {
                Ok(QuantityValue(v.to_string()))
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> std::result::Result<QuantityValue, E> {
                Ok(QuantityValue(v.to_string()))
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> std::result::Result<QuantityValue, E> {
                Ok(QuantityValue(v.to_string()))
            }
            fn visit_f64<E: serde::de::Error>(self, v: f64) -> std::result::Result<QuantityValue, E> {
                if !v.is_finite() {
                    return Err(E::custom("quantity must be finite"));
                }
                Ok(QuantityValue(format!("{v}")))
            }
        }
        d.deserialize_any(V)
    }
}
impl serde::Serialize for QuantityValue {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

/// NodePool limits: unlike [`Resources`], presence matters (only listed resources are limited).
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Limits(pub BTreeMap<String, i64>);

impl Limits {
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
    /// `Limits.ExceededBy(usage)` (`pkg/apis/v1/nodepool.go`): some listed resource strictly exceeded.
    pub fn exceeded_by(&self, usage: &Resources) -> Option<String> {
        self.0.iter().find(|(k, v)| usage.get(k) > **v).map(|(k, _)| k.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(pairs: &[(&str, &str)]) -> Resources {
        Resources::parse_map(pairs.iter().copied()).unwrap()
    }

    #[test]
    fn arithmetic_and_fits() {
        let a = r(&[("cpu", "1"), ("memory", "1Gi"), ("nvidia.com/gpu", "1")]);
        let b = r(&[("cpu", "500m"), ("memory", "512Mi")]);
        let s = a.add(&b);
        assert_eq!(s.cpu, 1500);
        assert_eq!(s.get("nvidia.com/gpu"), 1);
        assert_eq!(a.sub(&b).memory, 512 << 20);
        assert!(b.fits(&a));
        assert!(!a.fits(&b), "a gpu request does not fit where no gpu is listed");
        let zero_gpu = Resources::from_pairs([("example.com/thing", 0)]);
        assert!(zero_gpu.fits(&b), "a zero request of an unknown resource fits");
        let neg = b.sub(&a);
        assert!(!Resources::new().fits(&neg), "a negative total never fits");
        assert_eq!(a.max(&r(&[("cpu", "2")])).cpu, 2000);
        assert_eq!(a.first_excess(&b), Some(("cpu", 1000, 500)));
    }

    #[test]
    fn sums_saturate_instead_of_wrapping() {
        let huge = Resources::from_pairs([("memory", i64::MAX - 10), ("example.com/x", i64::MAX)]);
        let s = huge.add(&huge);
        assert_eq!((s.memory, s.get("example.com/x")), (i64::MAX, i64::MAX));
        assert!(!s.fits(&r(&[("memory", "1Ei"), ("example.com/x", "1")])), "a saturated total still does not fit");
        assert_eq!(Resources::new().sub(&huge).memory, -(i64::MAX - 10));
        assert_eq!(Resources::from_pairs([("cpu", i64::MIN + 1)]).sub(&huge.max(&r(&[("cpu", "1")]))).cpu, i64::MIN);
        assert_eq!(huge.checked_add(&r(&[("memory", "1Ki")])), Err("memory"));
        assert_eq!(huge.checked_add(&r(&[("example.com/x", "1")])), Err("example.com/x"));
        assert_eq!(huge.checked_add(&r(&[("cpu", "1")])).unwrap().cpu, 1000);
    }

    #[test]
    fn in_place_sums_equal_the_new_lists() {
        // extended resources on either side, on both, cancelling to zero, saturating
        let lists = [
            Resources::new(),
            r(&[("cpu", "1"), ("memory", "1Gi")]),
            Resources::from_pairs([("cpu", 250), ("example.com/a", 2), ("vpc.amazonaws.com/pod-eni", 9)]),
            Resources::from_pairs([("example.com/a", 2), ("nvidia.com/gpu", 1), ("pods", 3)]),
            Resources::from_pairs([("example.com/b", i64::MAX), ("memory", i64::MIN + 1)]),
            Resources::from_pairs([("example.com/b", -5), ("example.com/a", -2), ("zz.io/x", 7)]),
        ];
        for a in &lists {
            for b in &lists {
                let (mut s, mut d) = (a.clone(), a.clone());
                s.add_assign(b);
                d.sub_assign(b);
                assert_eq!(s, a.add(b), "{a:?} + {b:?}");
                assert_eq!(d, a.sub(b), "{a:?} - {b:?}");
                assert!(d.extended().windows(2).all(|w| w[0].0 < w[1].0) && d.extended().iter().all(|(_, v)| *v != 0));
            }
        }
    }

    #[test]
    fn negative_amounts_are_rejected_with_the_field() {
        let e = Resources::parse_map([("memory", "-1Gi")]).unwrap_err();
        assert!(e.to_string().contains("memory"), "{e}");
        let e = Resources::parse_map([("cpu", "lots")]).unwrap_err();
        assert!(e.to_string().contains("cpu"), "{e}");
    }

    #[test]
    fn quantities_deserialize_from_strings_and_numbers() {
        let r: Resources = serde_json::from_str(r#"{"cpu": 2, "memory": "2Gi", "pods": "5"}"#).unwrap();
        assert_eq!((r.cpu, r.memory, r.pods), (2000, 2 << 30, 5));
        let r: Resources = serde_json::from_str(r#"{"cpu": 0.5}"#).unwrap();
        assert_eq!(r.cpu, 500);
    }
}
