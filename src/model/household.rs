//! Households: the unit that owns or rents a dwelling and decides to emigrate together.
//! Residents point at their household through `Member`; households point at their dwelling.

use bevy_ecs::prelude::*;
use serde::{Deserialize, Serialize};

use super::demography::Person;
use super::housing::DwellingId;
use super::labour::{Income, Job, Status};
use super::migration::Traits;
use crate::sim::{HouseholdTable, Ids, par_parts_mut};

#[derive(
    Component, Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
pub struct HouseholdId(pub u32);

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[repr(u8)]
pub enum Tenure {
    Owner,
    Renter,
}

#[derive(Component, Clone, Copy, Debug, Serialize, Deserialize)]
pub struct Household {
    pub dwelling: DwellingId,
    pub tenure: Tenure,
    /// Liquid savings, yuan (grows with cash compensation; spent on a purchase).
    pub savings_yuan: f32,
    /// The home's floor area, estate and the estate's quality, copied from the housing stock
    /// on moving in (none ever changes), so a pass over households values each home without
    /// a lookup into the stock at a random place (`HousingStock::household` sets them).
    pub floor_area_m2: f32,
    pub estate: u32,
    pub quality: f32,
}

impl Household {
    /// What the home is worth at `price_per_m2` (the same as `HousingStock::value`).
    pub fn home_value(&self, price_per_m2: f64) -> f64 {
        super::housing::home_value(self.floor_area_m2, self.quality, price_per_m2)
    }
}

/// Which household a resident lives in.
#[derive(Component, Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Member(pub HouseholdId);

/// A resident's place in the household: the head decides for it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[repr(u8)]
pub enum Role {
    Head,
    Partner,
    /// Living with parents, whatever the age.
    Child,
}

/// Per-household figures gathered from its members once per step; indexed by household id.
#[derive(Clone, Copy, Debug, Default)]
pub struct HouseholdSummary {
    pub members: u16,
    pub heads: u16,
    pub adults: u16,
    pub labour_force: u16,
    pub unemployed: u16,
    pub earners: u16,
    pub children: u16,
    pub elderly: u16,
    pub income_yuan: f32,
    pub head_age: u8,
    pub head_tolerance: f32,
    pub head_attachment: f32,
}

impl HouseholdSummary {
    pub fn is_empty(&self) -> bool {
        self.members == 0
    }
}

/// Add one resident to its household's figures.
fn count_member(s: &mut HouseholdSummary, p: &Person, j: &Job, inc: &Income, t: &Traits) {
    s.members += 1;
    if p.age >= 18 {
        s.adults += 1;
    } else {
        s.children += 1;
    }
    if p.age >= 65 {
        s.elderly += 1;
    }
    match j.status {
        Status::Employed => {
            s.labour_force += 1;
            s.earners += 1;
        }
        Status::Unemployed => {
            s.labour_force += 1;
            s.unemployed += 1;
        }
        _ => {}
    }
    s.income_yuan += inc.yuan;
    if p.role == Role::Head {
        s.heads += 1;
        s.head_age = p.age;
        s.head_tolerance = t.climate_tolerance;
        s.head_attachment = t.attachment;
    }
}

/// Gather this year's per-household figures from all residents, over the residents' columns
/// in storage order (deterministic), into the table kept from last year (no allocation once
/// it has grown). Per-thread tables merged afterwards were measured slower: allocating and
/// merging 470,000-entry tables costs more than the pass.
pub fn gather_households(
    ids: Res<Ids>,
    mut table: ResMut<HouseholdTable>,
    residents: Query<(&Person, &Job, &Income, &Traits, &Member)>,
) {
    let table = &mut table.0;
    table.clear();
    table.resize(ids.next_household as usize, HouseholdSummary::default());
    // Each thread takes a range of household ids and scans all residents for its own: the
    // scans are sequential, the scattered writes are split, and every household is still
    // summed in storage order, so the result does not depend on the thread count.
    par_parts_mut(table, |first, part| {
        for (p, j, inc, t, m) in residents
            .contiguous_iter()
            .expect("residents are stored in tables")
        {
            for i in 0..p.len() {
                if let Some(s) = (m[i].0.0 as usize)
                    .checked_sub(first)
                    .and_then(|h| part.get_mut(h))
                {
                    count_member(s, &p[i], &j[i], &inc[i], &t[i]);
                }
            }
        }
    });
}
