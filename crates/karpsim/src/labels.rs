//! Interned label keys and values, and Karpenter's well-known labels.
//!
//! A [`Sym`] is an interned string: equality and hashing are a pointer comparison, ordering is by the
//! string itself (so every sorted collection of symbols iterates in the same order on every run and
//! thread count, whatever order the strings were interned in). Interned strings live for the process.

use std::collections::HashSet;
use std::fmt;
use std::hash::{BuildHasherDefault, Hash, Hasher};
use std::sync::{LazyLock, RwLock};

/// An interned string (label key, label value, resource name, zone...): one pointer, to the
/// interned `&str` (8 bytes rather than a 16-byte `&str`: a type's ~30 requirements, its labels
/// and its offerings each hold several, and halving them halves what is built, moved and zeroed
/// at start-up for every type of a catalog).
#[derive(Clone, Copy)]
pub struct Sym(&'static &'static str);

/// Every interned string, and where the next one's handle goes.
struct Interner {
    set: HashSet<Interned, BuildHasherDefault<StrHasher>>,
    /// Handles not used yet: the rest of the last block taken (blocks of [`HANDLES_PER_BLOCK`] live
    /// for the process, so a handle never moves).
    free: &'static mut [&'static str],
}

/// How many handles one block holds (one allocation per this many new strings).
const HANDLES_PER_BLOCK: usize = 512;

/// An entry of the interner: a handle, hashed and compared by its string (so that a `&str` finds
/// it).
#[derive(Clone, Copy)]
struct Interned(&'static &'static str);

impl std::borrow::Borrow<str> for Interned {
    fn borrow(&self) -> &str {
        self.0
    }
}
impl PartialEq for Interned {
    fn eq(&self, other: &Self) -> bool {
        *self.0 == *other.0
    }
}
impl Eq for Interned {}
impl Hash for Interned {
    fn hash<H: Hasher>(&self, state: &mut H) {
        (*self.0).hash(state);
    }
}

/// Every interned string. Hashed word by word (std's default SipHash, built against hash flooding,
/// made interning the largest single cost of reading a catalog or a big manifest).
static INTERNER: LazyLock<RwLock<Interner>> =
    LazyLock::new(|| RwLock::new(Interner { set: HashSet::default(), free: &mut [] }));

/// The interner's hasher (and `io::spec_memo`'s): eight bytes per multiply (the mixing of rustc's
/// FxHasher). Only membership depends on it, never an order.
#[derive(Default)]
pub(crate) struct StrHasher(u64);

impl Hasher for StrHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        const K: u64 = 0xf135_7aea_2e62_a9c5;
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            let w = u64::from_le_bytes(c.try_into().expect("eight bytes"));
            self.0 = (self.0 ^ w).wrapping_mul(K).rotate_left(26);
        }
        let mut tail = [0u8; 8];
        tail[..chunks.remainder().len()].copy_from_slice(chunks.remainder());
        self.0 = (self.0 ^ u64::from_le_bytes(tail) ^ bytes.len() as u64).wrapping_mul(K).rotate_left(26);
    }
}

impl Sym {
    pub fn new(s: &str) -> Sym {
        Sym::intern(s, || Box::leak(s.to_owned().into_boxed_str()))
    }

    /// [`Sym::new`] for a string that lives as long as the process (the catalog statics generated
    /// by `build.rs`): a new string is interned as it is, without a copy.
    pub fn from_static(s: &'static str) -> Sym {
        Sym::intern(s, || s)
    }

    /// The interned copy of `s`, storing `keep()` when there is none yet.
    fn intern(s: &str, keep: impl FnOnce() -> &'static str) -> Sym {
        if let Some(found) = INTERNER.read().unwrap_or_else(|e| e.into_inner()).set.get(s) {
            return Sym(found.0);
        }
        let mut guard = INTERNER.write().unwrap_or_else(|e| e.into_inner());
        let interner = &mut *guard;
        if let Some(found) = interner.set.get(s) {
            return Sym(found.0);
        }
        if interner.free.is_empty() {
            interner.free = Box::leak(vec![""; HANDLES_PER_BLOCK].into_boxed_slice());
        }
        let (handle, rest) = std::mem::take(&mut interner.free).split_first_mut().expect("a block is never empty");
        interner.free = rest;
        *handle = keep();
        let handle: &'static &'static str = handle;
        interner.set.insert(Interned(handle));
        Sym(handle)
    }
    /// The interned `s`, when something interned it already (nothing is interned here). A string
    /// never interned is the name of no node, label or pod: every one is a `Sym`.
    pub fn existing(s: &str) -> Option<Sym> {
        INTERNER.read().unwrap_or_else(|e| e.into_inner()).set.get(s).map(|found| Sym(found.0))
    }

    /// A symbol that equals no interned string, whatever its text: its handle is not one of the
    /// interner's (symbols compare by handle). A mark for "no name here".
    pub(crate) fn mark() -> Sym {
        static MARK: &str = "(no name)";
        Sym(&MARK)
    }

    pub fn as_str(self) -> &'static str {
        self.0
    }
}

impl Default for Sym {
    /// The empty string.
    fn default() -> Sym {
        Sym::new("")
    }
}

impl PartialEq for Sym {
    fn eq(&self, other: &Self) -> bool {
        std::ptr::eq(self.0, other.0)
    }
}
impl Eq for Sym {}
impl Hash for Sym {
    fn hash<H: Hasher>(&self, state: &mut H) {
        (std::ptr::from_ref(self.0) as usize).hash(state);
    }
}
/// A hasher for interned symbols: their hash is already a pointer, which only needs mixing.
#[derive(Default)]
pub struct SymHasher(u64);

impl Hasher for SymHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 = (self.0.rotate_left(5) ^ u64::from(*b)).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
        }
    }
    fn write_usize(&mut self, n: usize) {
        self.write_u64(n as u64);
    }
    // Integers in one step rather than byte by byte: hashing a `Requirement` (flags, bounds) for
    // the scheduler's type classes went through `write` for each of them.
    fn write_u64(&mut self, n: u64) {
        self.0 = (self.0.rotate_left(5) ^ n).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }
    fn write_u8(&mut self, n: u8) {
        self.write_u64(u64::from(n));
    }
    fn write_u32(&mut self, n: u32) {
        self.write_u64(u64::from(n));
    }
}

/// A hash map keyed by interned symbols (hashing their pointer). Iteration order is arbitrary:
/// for look-ups only.
pub type SymMap<V> = std::collections::HashMap<Sym, V, std::hash::BuildHasherDefault<SymHasher>>;
/// A hash set of interned symbols, for membership tests only.
pub type SymSet = std::collections::HashSet<Sym, std::hash::BuildHasherDefault<SymHasher>>;

impl PartialOrd for Sym {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Sym {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        if self == other { std::cmp::Ordering::Equal } else { (*self.0).cmp(*other.0) }
    }
}
impl fmt::Debug for Sym {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", self.0)
    }
}
impl fmt::Display for Sym {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0)
    }
}
impl From<&str> for Sym {
    fn from(s: &str) -> Sym {
        Sym::new(s)
    }
}
impl serde::Serialize for Sym {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.0)
    }
}
impl<'de> serde::Deserialize<'de> for Sym {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Sym, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        Ok(Sym::new(&s))
    }
}

macro_rules! well_known {
    ($($(#[$doc:meta])* $name:ident = $value:expr;)*) => {
        $( $(#[$doc])* pub static $name: LazyLock<Sym> = LazyLock::new(|| Sym::new($value)); )*
    };
}

well_known! {
    /// `karpenter.sh/nodepool`
    NODEPOOL = "karpenter.sh/nodepool";
    /// `topology.kubernetes.io/zone`
    ZONE = "topology.kubernetes.io/zone";
    /// `topology.kubernetes.io/region`
    REGION = "topology.kubernetes.io/region";
    /// `node.kubernetes.io/instance-type`
    INSTANCE_TYPE = "node.kubernetes.io/instance-type";
    /// `kubernetes.io/arch`
    ARCH = "kubernetes.io/arch";
    /// `kubernetes.io/os`
    OS = "kubernetes.io/os";
    /// `karpenter.sh/capacity-type`
    CAPACITY_TYPE = "karpenter.sh/capacity-type";
    /// `node.kubernetes.io/windows-build`
    WINDOWS_BUILD = "node.kubernetes.io/windows-build";
    /// `kubernetes.io/hostname`
    HOSTNAME = "kubernetes.io/hostname";
    /// `topology.k8s.aws/zone-id`
    ZONE_ID = "topology.k8s.aws/zone-id";
    /// `karpenter.k8s.aws/ec2nodeclass`: the node-class label Karpenter's AWS provider stamps on NodeClaims.
    EC2_NODECLASS = "karpenter.k8s.aws/ec2nodeclass";
    /// `karpenter.sh/registered` (simulation-only requirement on templates, §3.2)
    REGISTERED = "karpenter.sh/registered";
    /// `karpenter.sh/initialized` (simulation-only requirement on templates, §3.2)
    INITIALIZED = "karpenter.sh/initialized";
    /// `karpenter.k8s.aws/capacity-reservation-id`
    RESERVATION_ID = "karpenter.k8s.aws/capacity-reservation-id";
    /// `karpenter.k8s.aws/capacity-reservation-type` (`default` or `capacity-block`)
    RESERVATION_TYPE = "karpenter.k8s.aws/capacity-reservation-type";
    /// `karpenter.k8s.aws/capacity-reservation-interruptible`
    RESERVATION_INTERRUPTIBLE = "karpenter.k8s.aws/capacity-reservation-interruptible";
}

/// Capacity-type values (`pkg/apis/v1/labels.go`).
pub const CAPACITY_TYPE_ON_DEMAND: &str = "on-demand";
pub const CAPACITY_TYPE_SPOT: &str = "spot";
pub const CAPACITY_TYPE_RESERVED: &str = "reserved";
/// `WellKnownValuesForRequirements` of the capacity type.
pub const CAPACITY_TYPES: [&str; 3] = [CAPACITY_TYPE_ON_DEMAND, CAPACITY_TYPE_SPOT, CAPACITY_TYPE_RESERVED];

/// Karpenter's `WellKnownLabels` (core `pkg/apis/v1/labels.go`) plus the AWS provider's additions
/// (`karpenter.k8s.aws/instance-*` and friends, `pkg/apis/v1/labels.go` of the provider). Positive
/// pod requirements on these keys are allowed to be undefined on a NodePool (§2.4).
pub fn is_well_known(key: &str) -> bool {
    matches!(
        key,
        "karpenter.sh/nodepool"
            | "topology.kubernetes.io/zone"
            | "topology.kubernetes.io/region"
            | "node.kubernetes.io/instance-type"
            | "kubernetes.io/arch"
            | "kubernetes.io/os"
            | "karpenter.sh/capacity-type"
            | "node.kubernetes.io/windows-build"
            | "topology.k8s.aws/zone-id"
            | "karpenter.k8s.aws/capacity-reservation-id"
            | "karpenter.k8s.aws/capacity-reservation-type"
            | "karpenter.k8s.aws/capacity-reservation-interruptible"
            | "karpenter.k8s.aws/ec2nodeclass"
    ) || key.starts_with("karpenter.k8s.aws/instance-")
}

/// The label keys a NodeClaim may be asked for without its NodePool defining them (§2.4):
/// Karpenter's well-known labels ([`is_well_known`]) and every label key the instance types of the
/// run's catalogs carry. A cloud provider registers its instance-type labels as well-known (the AWS
/// provider its `karpenter.k8s.aws/instance-*` labels, Karpenter's fake provider `size`,
/// `special` and `integer`); a custom catalog is karpsim's provider, so its label keys are too.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WellKnown {
    catalog_keys: std::collections::BTreeSet<Sym>,
}

impl WellKnown {
    /// Karpenter's well-known labels plus `catalog_keys`.
    pub fn with_catalog_keys(catalog_keys: impl IntoIterator<Item = Sym>) -> WellKnown {
        WellKnown { catalog_keys: catalog_keys.into_iter().filter(|k| !is_well_known(k.as_str())).collect() }
    }
    #[inline]
    pub fn contains(&self, key: Sym) -> bool {
        is_well_known(key.as_str()) || (!self.catalog_keys.is_empty() && self.catalog_keys.contains(&key))
    }
}

/// Old label keys Karpenter rewrites to their current names when it builds requirements
/// (`NormalizedLabels`, `pkg/apis/v1/labels.go`), and the EBS CSI driver's zone key, which the AWS
/// provider adds to them (`karpenter-provider-aws` `pkg/operator/operator.go`): EBS volumes' node
/// affinity and StorageClass topologies name it.
pub fn normalize_key(key: &str) -> &str {
    match key {
        "topology.ebs.csi.aws.com/zone" => "topology.kubernetes.io/zone",
        "failure-domain.beta.kubernetes.io/zone" => "topology.kubernetes.io/zone",
        "failure-domain.beta.kubernetes.io/region" => "topology.kubernetes.io/region",
        "beta.kubernetes.io/arch" => "kubernetes.io/arch",
        "beta.kubernetes.io/os" => "kubernetes.io/os",
        "beta.kubernetes.io/instance-type" => "node.kubernetes.io/instance-type",
        other => other,
    }
}

/// [`normalize_key`] of an interned key, interning only when the key changes.
pub fn normalize_sym(key: Sym) -> Sym {
    let n = normalize_key(key.as_str());
    if std::ptr::eq(n, key.as_str()) { key } else { Sym::new(n) }
}

/// Keys a pod may not select on for provisioning (`v1.IsRestrictedLabel`): any `karpenter.sh` key
/// that is not well-known (`karpenter.sh/registered` and `initialized` included), and
/// `kubernetes.io/hostname`.
pub fn is_restricted(key: &str) -> bool {
    if key == "kubernetes.io/hostname" {
        return true;
    }
    let domain = key.split('/').next().unwrap_or("");
    let in_karpenter = key.contains('/') && (domain == "karpenter.sh" || domain.ends_with(".karpenter.sh"));
    in_karpenter && !is_well_known(key)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A symbol is one pointer (so are its `Option` and its requirements' value lists' entries),
    /// and interning more strings than one block of handles holds keeps every symbol its string
    /// and equal strings one symbol.
    #[test]
    fn symbols_are_one_pointer_and_stay_interned() {
        assert_eq!(std::mem::size_of::<Sym>(), 8);
        assert_eq!(std::mem::size_of::<Option<Sym>>(), 8);
        let texts: Vec<String> = (0..3 * HANDLES_PER_BLOCK).map(|i| format!("symbol-test-{i}")).collect();
        let syms: Vec<Sym> = texts.iter().map(|t| Sym::new(t)).collect();
        for (t, s) in texts.iter().zip(&syms) {
            assert_eq!(s.as_str(), t);
            assert_eq!(Sym::new(&t.clone()), *s);
        }
        let leaked: &'static str = Box::leak(texts[7].clone().into_boxed_str());
        assert_eq!(Sym::from_static(leaked), syms[7], "a static string finds the symbol already interned");
        assert!(syms.windows(2).all(|w| w[0] != w[1] && (w[0] < w[1]) == (w[0].as_str() < w[1].as_str())));
    }

    #[test]
    fn symbols_are_unique_and_ordered_by_string() {
        let a = Sym::new("zeta");
        let b = Sym::new(&String::from("zeta"));
        assert_eq!(a, b);
        let c = Sym::new("alpha");
        assert!(c < a);
        assert_eq!(a.as_str(), "zeta");
    }

    #[test]
    fn well_known_and_restricted_keys() {
        assert!(is_well_known("karpenter.k8s.aws/instance-family"));
        assert!(!is_well_known("team"));
        assert!(is_restricted("kubernetes.io/hostname"));
        assert!(is_restricted("karpenter.sh/custom"));
        assert!(!is_restricted("karpenter.sh/capacity-type"));
        assert!(!is_restricted("example.com/team"));
        assert_eq!(normalize_key("beta.kubernetes.io/arch"), "kubernetes.io/arch");
    }
}
