//! Bare Pods of one file often repeat a handful of specs (a dump of a cluster's pods: every replica of
//! a Deployment carries its template's spec). Reading a spec (requests, affinity, spreads,
//! tolerations...) is most of the cost of reading a pod, so a spec equal to one already read in the
//! same file takes that reading's parts (sharing them, as a controller's replicas share their
//! template's) instead of being read again. Specs are compared without their `nodeName`: a snapshot's
//! pods are bound, each replica's spec naming its own node, and comparing whole specs made every
//! node's replicas of a template a spec of their own (past the memo's room at a few thousand nodes,
//! every pod was read again).
//!
//! Reading a spec is a function of the spec alone ([`parse_spec`]), and `nodeName` decides only the
//! node it binds to ([`spec_node_name`], read for each pod): specs equal but for it read to equal
//! parts but for that. A spec that fails to read is never remembered (it stops the load with its own
//! error), so the pods and errors are those of reading every spec.

use super::pod::{SpecParts, parse_spec, spec_node_name};
use super::tree::Tree;
use super::value::Node;
use crate::error::Result;
use std::collections::HashMap;
use crate::labels::StrHasher;
use std::hash::{Hash, Hasher};

/// At most this many distinct specs are remembered per file (a file of all-different specs gains
/// nothing and should not hold a second copy of each).
const MAX_SPECS: usize = 4096;

/// The key left out of the comparison of specs.
const NODE_NAME: &str = "nodeName";

/// The specs read so far in one file, by a hash of their tree (without `nodeName`), with what they
/// read to.
#[derive(Default)]
pub(crate) struct SpecMemo<'t> {
    seen: HashMap<u64, Vec<(&'t Tree<'t>, SpecParts)>>,
    held: usize,
}

/// A spec's entries but its `nodeName` (none for a spec that is not a mapping: it fails to read).
fn without_node_name<'a, 't>(spec: &'a Tree<'t>) -> impl Iterator<Item = &'a (std::borrow::Cow<'t, str>, Tree<'t>)> + Clone {
    let entries = match spec {
        Tree::Object(entries) => &entries[..],
        _ => &[],
    };
    entries.iter().filter(|(k, _)| k != NODE_NAME)
}

impl<'t> SpecMemo<'t> {
    /// The parts of `spec`: those of a spec equal but for `nodeName` read before (with this one's
    /// node), or read now.
    pub fn parts(&mut self, spec: &Node<'t>) -> Result<SpecParts> {
        if !matches!(spec.v, Tree::Object(_)) {
            return parse_spec(spec);
        }
        // the hash only picks the bucket (equality decides), and no order depends on it; the
        // interner's word-at-a-time hasher costs a fraction of SipHash over a tree's many small writes
        let mut h = StrHasher::default();
        for entry in without_node_name(spec.v) {
            entry.hash(&mut h);
        }
        let bucket = self.seen.entry(h.finish()).or_default();
        if let Some((_, parts)) = bucket.iter().find(|(t, _)| without_node_name(t).eq(without_node_name(spec.v))) {
            return Ok(parts.clone().with_node_name(spec_node_name(spec)?));
        }
        let parts = parse_spec(spec)?;
        if self.held < MAX_SPECS {
            self.held += 1;
            bucket.push((spec.v, parts.clone()));
        }
        Ok(parts)
    }
}
