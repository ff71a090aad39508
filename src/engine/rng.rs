//! Every random number in the model comes from here: small counter-based streams keyed by
//! (seed, year, stage, key). A per-agent draw depends only on those four values, never on
//! which thread ran it or in what order, which is what makes runs byte-identical whatever
//! `--threads` is.

use rand::TryRng;
use std::convert::Infallible;

/// The stages of a year that draw random numbers; each gets its own streams.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u64)]
pub enum Stage {
    Setup = 1,
    Mortality,
    Fertility,
    LeaveHome,
    Pairing,
    Labour,
    Matching,
    HouseholdMigration,
    YoungMigration,
    Immigration,
    Housing,
    Upgrade,
    Demolition,
    Construction,
}

/// SplitMix64 finaliser: a strong 64-bit mixer.
#[inline]
pub fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// The streams of one (seed, year, stage), hashed once: a pass over a million residents
/// makes each resident's stream with one mix instead of four.
#[derive(Clone, Copy, Debug)]
pub struct Streams(u64);

impl Streams {
    #[inline]
    pub fn new(seed: u64, year: i32, stage: Stage) -> Self {
        let h = mix(seed ^ 0x5EED_0000_0000_0000);
        let h = mix(h ^ (year as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15));
        Streams(mix(h ^ (stage as u64).wrapping_mul(0xD1B5_4A32_D192_ED03)))
    }

    /// The stream for `key` (an agent, household or dwelling id, or 0 for the stage).
    #[inline]
    pub fn rng(self, key: u64) -> SimRng {
        SimRng {
            state: mix(self.0 ^ key.wrapping_mul(0xA24B_AED4_963E_E407)),
        }
    }
}

/// A SplitMix64 generator: 8 bytes of state, cheap to create per agent per stage.
#[derive(Clone, Debug)]
pub struct SimRng {
    state: u64,
}

impl SimRng {
    /// The stream for one (seed, year, stage, key); `key` is an agent, household or dwelling
    /// id, or 0 for a stage-wide stream.
    #[inline]
    pub fn new(seed: u64, year: i32, stage: Stage, key: u64) -> Self {
        Streams::new(seed, year, stage).rng(key)
    }

    #[inline]
    pub fn next_raw(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        mix(self.state)
    }

    /// Uniform in [0, 1).
    #[inline]
    pub fn uniform(&mut self) -> f64 {
        (self.next_raw() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// True with probability `p` (clamped to [0, 1]).
    #[inline]
    pub fn chance(&mut self, p: f64) -> bool {
        self.uniform() < p
    }

    /// Uniform integer in [0, n); `n` must be positive.
    #[inline]
    pub fn below(&mut self, n: usize) -> usize {
        ((self.next_raw() as u128 * n as u128) >> 64) as usize
    }
}

impl TryRng for SimRng {
    type Error = Infallible;

    fn try_next_u32(&mut self) -> Result<u32, Infallible> {
        Ok((self.next_raw() >> 32) as u32)
    }

    fn try_next_u64(&mut self) -> Result<u64, Infallible> {
        Ok(self.next_raw())
    }

    fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Infallible> {
        for chunk in dst.chunks_mut(8) {
            let bytes = self.next_raw().to_le_bytes();
            chunk.copy_from_slice(&bytes[..chunk.len()]);
        }
        Ok(())
    }
}

/// Fisher–Yates shuffle driven by a `SimRng` (order-dependent steps shuffle sorted input).
pub fn shuffle<T>(items: &mut [T], rng: &mut SimRng) {
    for i in (1..items.len()).rev() {
        let j = rng.below(i + 1);
        items.swap(i, j);
    }
}

/// A Poisson draw (Knuth for small means, a rounded normal approximation above 30).
pub fn poisson(mean: f64, rng: &mut SimRng) -> u64 {
    if mean <= 0.0 {
        return 0;
    }
    if mean > 30.0 {
        let d = rand_distr::Normal::new(mean, mean.sqrt()).expect("positive sd");
        let x: f64 = rand::RngExt::sample(rng, d);
        return x.round().max(0.0) as u64;
    }
    let limit = (-mean).exp();
    let mut k = 0;
    let mut p = rng.uniform();
    while p > limit {
        k += 1;
        p *= rng.uniform();
    }
    k
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn streams_are_keyed_by_every_component() {
        let base = SimRng::new(1, 2020, Stage::Mortality, 7).next_raw();
        assert_ne!(base, SimRng::new(2, 2020, Stage::Mortality, 7).next_raw());
        assert_ne!(base, SimRng::new(1, 2021, Stage::Mortality, 7).next_raw());
        assert_ne!(base, SimRng::new(1, 2020, Stage::Fertility, 7).next_raw());
        assert_ne!(base, SimRng::new(1, 2020, Stage::Mortality, 8).next_raw());
        assert_eq!(base, SimRng::new(1, 2020, Stage::Mortality, 7).next_raw());
    }

    #[test]
    fn uniform_draws_have_the_right_mean() {
        let mut rng = SimRng::new(3, 2015, Stage::Setup, 0);
        let n = 100_000;
        let mean = (0..n).map(|_| rng.uniform()).sum::<f64>() / n as f64;
        assert!((mean - 0.5).abs() < 0.01, "mean {mean}");
    }

    #[test]
    fn poisson_mean_matches_for_small_and_large_means() {
        let mut rng = SimRng::new(3, 2015, Stage::Setup, 1);
        for mean in [2.5, 80.0] {
            let n = 20_000;
            let m = (0..n).map(|_| poisson(mean, &mut rng)).sum::<u64>() as f64 / n as f64;
            assert!((m - mean).abs() < mean * 0.03, "{m} vs {mean}");
        }
    }
}
