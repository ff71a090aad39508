//! The engine's ground floor, which knows no domain: the run's read-only parameters and
//! clock, the seeded random streams, the parallel helpers, and writing table rows in place.
//! No I/O here.

pub mod par;
pub mod rng;
pub mod rows;

use bevy_ecs::prelude::*;
use serde::{Deserialize, Serialize};
use std::ops::Deref;

use crate::config::Config;

/// The validated config, read-only during a run.
#[derive(Resource, Clone, Debug)]
pub struct Params(pub Config);

impl Deref for Params {
    type Target = Config;
    fn deref(&self) -> &Config {
        &self.0
    }
}

/// Where the run is in time, and what it stands for.
#[derive(Resource, Clone, Copy, Debug, Serialize, Deserialize)]
pub struct Clock {
    pub year: i32,
    pub start_year: i32,
    pub seed: u64,
    /// Agents per real person (`--scale`).
    pub scale: f64,
}

impl Clock {
    pub fn years_since_start(&self) -> i32 {
        self.year - self.start_year
    }
}
