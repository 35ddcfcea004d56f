//! Seeded randomness. Every random quantity comes from a named stream, seeded from the scenario seed,
//! the stream's name and an index (a workload, a node's launch number...). So two variants of a
//! scenario draw the same numbers for the same things (common random numbers), and results do not
//! depend on the order events are processed in or on thread count.

use rand::rngs::Xoshiro256PlusPlus;
use rand::{RngExt, SeedableRng};

/// FNV-1a: a fixed, portable hash for stream names.
fn fnv(s: &str) -> u64 {
    s.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3))
}

/// SplitMix64 finaliser to spread seeds.
fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

#[derive(Debug, Clone, Copy)]
pub struct Streams {
    seed: u64,
}

impl Streams {
    pub fn new(seed: u64) -> Streams {
        Streams { seed }
    }
    /// A generator for stream `name`, item `index`.
    pub fn rng(&self, name: &str, index: u64) -> Xoshiro256PlusPlus {
        Xoshiro256PlusPlus::seed_from_u64(mix(self.seed ^ mix(fnv(name)) ^ mix(index.wrapping_add(0x9e37_79b9_7f4a_7c15))))
    }
    /// One uniform draw in [0, 1) for stream `name`, item `index`.
    pub fn uniform(&self, name: &str, index: u64) -> f64 {
        self.rng(name, index).random::<f64>()
    }
}

/// Standard normal from two uniforms (Box–Muller), so sampling needs no extra crate.
pub fn normal(rng: &mut Xoshiro256PlusPlus) -> f64 {
    let u1: f64 = rng.random::<f64>().max(f64::MIN_POSITIVE);
    let u2: f64 = rng.random();
    (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos()
}

/// A distribution of durations or values (seconds for durations).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub enum Dist {
    Constant(f64),
    Exponential { mean: f64 },
    /// Given by its median and 95th percentile (easier to read off measurements than μ and σ).
    LogNormal { median: f64, p95: f64 },
    Uniform { min: f64, max: f64 },
}

impl Dist {
    pub fn sample(&self, rng: &mut Xoshiro256PlusPlus) -> f64 {
        match *self {
            Dist::Constant(v) => v,
            Dist::Exponential { mean } => -mean * (1.0 - rng.random::<f64>()).ln(),
            Dist::LogNormal { median, p95 } => {
                let sigma = if p95 > median && median > 0.0 { (p95 / median).ln() / 1.644_853_626_951_472_2 } else { 0.0 };
                median * (sigma * normal(rng)).exp()
            }
            Dist::Uniform { min, max } => min + (max - min) * rng.random::<f64>(),
        }
    }
    pub fn mean(&self) -> f64 {
        match *self {
            Dist::Constant(v) => v,
            Dist::Exponential { mean } => mean,
            Dist::LogNormal { median, p95 } => {
                let sigma = if p95 > median && median > 0.0 { (p95 / median).ln() / 1.644_853_626_951_472_2 } else { 0.0 };
                median * (sigma * sigma / 2.0).exp()
            }
            Dist::Uniform { min, max } => (min + max) / 2.0,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn streams_are_reproducible_and_independent() {
        let s = Streams::new(7);
        assert_eq!(s.uniform("launch", 3), s.uniform("launch", 3));
        assert_ne!(s.uniform("launch", 3), s.uniform("launch", 4));
        assert_ne!(s.uniform("launch", 3), s.uniform("interrupt", 3));
        assert_ne!(Streams::new(8).uniform("launch", 3), s.uniform("launch", 3));
    }

    #[test]
    fn distributions_have_their_stated_shape() {
        let s = Streams::new(1);
        let mut rng = s.rng("t", 0);
        let n = 20_000;
        let mut v: Vec<f64> = (0..n).map(|_| Dist::LogNormal { median: 40.0, p95: 70.0 }.sample(&mut rng)).collect();
        v.sort_by(f64::total_cmp);
        let (med, p95) = (v[n / 2], v[n * 95 / 100]);
        assert!((med - 40.0).abs() < 1.5, "median {med}");
        assert!((p95 - 70.0).abs() < 4.0, "p95 {p95}");
        let mean: f64 = (0..n).map(|_| Dist::Exponential { mean: 10.0 }.sample(&mut rng)).sum::<f64>() / n as f64;
        assert!((mean - 10.0).abs() < 0.4, "mean {mean}");
    }
}
