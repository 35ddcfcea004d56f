//! Karpenter's own test cases, ported: each test names the Go file and the Ginkgo `It` (or table
//! `Entry`) it ports with `ports!`, and checks the same behaviour on karpsim's inputs, in our own
//! words and code. Cases karpsim's inputs cannot express are listed in `not_expressible.tsv` with
//! why. `manifest` checks that every case of `upstream.tsv` (Karpenter v1.14.1) is one or the other
//! and that the counts in the README and `docs/conformance.md` are the suite's.

mod balanced;
mod consolidation;
mod disruption_harness;
mod disruption_suite;
mod drift;
mod emptiness;
mod harness;
mod instance_selection;
mod manifest;
mod objects;
mod provisioning_suite;
mod scheduling_suite;
mod topology;
mod volumes;
