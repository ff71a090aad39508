//! This year's flows, written by every domain and read by the recorder.

use bevy_ecs::prelude::*;

use crate::model::migration::{ByDriver, EMIGRANT_AGE_BANDS};

/// This year's flows, in agents; reset at the start of every year.
#[derive(Resource, Clone, Debug, Default)]
pub struct Tally {
    pub births: u64,
    pub deaths: u64,
    pub immigrants: u64,
    pub emigrants: u64,
    /// Emigrants by main reason, then by age band (`EMIGRANT_AGE_BANDS`).
    pub emigrants_by_driver: ByDriver<[u64; EMIGRANT_AGE_BANDS.len()]>,
    pub jobs_created: u64,
    pub jobs_lost: u64,
    pub new_job_seekers: u64,
    pub transactions: u64,
    pub listings: u64,
    pub buyers: u64,
    pub demolished: u64,
    /// Long-empty homes in poor estates abandoned (demolished) this year.
    pub abandoned: u64,
    /// Homes bought by buy-to-let investors (also in `transactions`).
    pub investor_purchases: u64,
    pub completed: u64,
    /// Sales (`transactions`) by the estate of the home sold, indexed by estate; shorter than
    /// the estate list when the last estates sold nothing.
    pub sales_by_estate: Vec<u64>,
}

impl Tally {
    /// Count a sale of a home in `estate` (the per-estate split of `transactions`).
    pub fn count_sale(&mut self, estate: u32) {
        let e = estate as usize;
        if self.sales_by_estate.len() <= e {
            self.sales_by_estate.resize(e + 1, 0);
        }
        self.sales_by_estate[e] += 1;
    }
}
