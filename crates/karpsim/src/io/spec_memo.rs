//! Bare Pods of one file often repeat a handful of specs (a dump of a cluster's pods: every replica of
//! a Deployment carries its template's spec). Reading a spec (requests, affinity, spreads,
//! tolerations...) is most of the cost of reading a pod, so a spec equal to one already read in the
//! same file takes that reading's parts (sharing them, as a controller's replicas share their
//! template's) instead of being read again.
//!
//! Reading a spec is a function of the spec alone ([`parse_spec`]): equal specs read to equal parts,
//! and a spec that fails to read is never remembered (it stops the load with its own error), so the
//! pods and errors are those of reading every spec.

use super::pod::{SpecParts, parse_spec};
use super::tree::Tree;
use super::value::Node;
use crate::error::Result;
use std::collections::HashMap;
use crate::labels::StrHasher;
use std::hash::{Hash, Hasher};

/// At most this many distinct specs are remembered per file (a file of all-different specs gains
/// nothing and should not hold a second copy of each).
const MAX_SPECS: usize = 4096;

/// The specs read so far in one file, by a hash of their tree, with what they read to.
#[derive(Default)]
pub(crate) struct SpecMemo<'t> {
    seen: HashMap<u64, Vec<(&'t Tree<'t>, SpecParts)>>,
    held: usize,
}

impl<'t> SpecMemo<'t> {
    /// The parts of `spec`: those of an equal spec read before, or read now.
    pub fn parts(&mut self, spec: &Node<'t>) -> Result<SpecParts> {
        // the hash only picks the bucket (equality decides), and no order depends on it; the
        // interner's word-at-a-time hasher costs a fraction of SipHash over a tree's many small writes
        let mut h = StrHasher::default();
        spec.v.hash(&mut h);
        let bucket = self.seen.entry(h.finish()).or_default();
        if let Some((_, parts)) = bucket.iter().find(|(t, _)| *t == spec.v) {
            return Ok(parts.clone());
        }
        let parts = parse_spec(spec)?;
        if self.held < MAX_SPECS {
            self.held += 1;
            bucket.push((spec.v, parts.clone()));
        }
        Ok(parts)
    }
}
