//! The property tests' run settings: a bounded, seeded run by default (what CI runs), and a longer
//! one on demand: `make properties` (`PROPTEST_CASES=2000 PROPTEST_RNG_SEED=<random>`, release build).
#![allow(dead_code)]

use proptest::test_runner::{Config, RngSeed};

/// The seed of the default run: the same cases on every machine and every run.
pub const SEED: u64 = 20_261_126;

/// `cases` cases from [`SEED`], unless `PROPTEST_CASES` / `PROPTEST_RNG_SEED` say otherwise.
pub fn config(cases: u32) -> Config {
    let mut c = Config::default(); // reads PROPTEST_CASES and PROPTEST_RNG_SEED
    if std::env::var_os("PROPTEST_CASES").is_none() {
        c.cases = cases;
    }
    if std::env::var_os("PROPTEST_RNG_SEED").is_none() {
        c.rng_seed = RngSeed::Fixed(SEED);
    }
    // failures print their minimal case; nothing is written into the source tree
    c.failure_persistence = None;
    c
}
