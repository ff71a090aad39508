//! Households: the unit that owns or rents a dwelling and decides to emigrate together.
//! Residents point at their household through `Member`; households point at their dwelling.

use bevy_ecs::prelude::*;
use serde::{Deserialize, Serialize};

use crate::engine::par::{par_parts, par_parts_mut};
use crate::model::housing::DwellingId;
use crate::model::resident::{HouseholdId, Ids, Member, Person, Role, Status, Traits, Work};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[repr(u8)]
pub enum Tenure {
    Owner,
    Renter,
}

#[derive(Clone, Copy, Debug, Serialize, Deserialize)]
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

/// Every household, indexed by its id; a slot is `None` once the household has dissolved or
/// left. Households are a resource, not entities (as dwellings are): they are always reached
/// by id, from a resident's `Member` or a dwelling's occupant, so a list serves better than
/// entities, and a household that goes costs clearing a slot instead of a despawn. Passes
/// over households run in id order.
#[derive(Resource, Clone, Debug, Default)]
pub struct Households {
    slots: Vec<Option<Household>>,
    /// How many slots hold a household, kept by `insert` and `remove` so that `len` does not
    /// scan the slots (it is asked several times a year).
    live: usize,
}

impl Households {
    pub fn get(&self, id: HouseholdId) -> Option<&Household> {
        self.slots.get(id.0 as usize)?.as_ref()
    }

    pub fn get_mut(&mut self, id: HouseholdId) -> Option<&mut Household> {
        self.slots.get_mut(id.0 as usize)?.as_mut()
    }

    /// Add a household (ids are never reused, so the slot is empty).
    pub fn insert(&mut self, id: HouseholdId, household: Household) {
        let i = id.0 as usize;
        if self.slots.len() <= i {
            self.slots.resize(i + 1, None);
        }
        let before = self.slots[i].replace(household);
        debug_assert!(before.is_none(), "household {i} inserted twice");
        self.live += usize::from(before.is_none());
    }

    /// The household leaves the city or dissolves.
    pub fn remove(&mut self, id: HouseholdId) -> Option<Household> {
        let gone = self.slots.get_mut(id.0 as usize)?.take();
        self.live -= usize::from(gone.is_some());
        gone
    }

    /// How many households there are.
    pub fn len(&self) -> usize {
        self.live
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Every household with its id, in id order.
    pub fn iter(&self) -> impl Iterator<Item = (HouseholdId, &Household)> {
        self.slots
            .iter()
            .enumerate()
            .filter_map(|(i, h)| Some((HouseholdId(i as u32), h.as_ref()?)))
    }

    /// Every slot, indexed by household id.
    pub fn slots(&self) -> &[Option<Household>] {
        &self.slots
    }

    /// Run `f` on every household, split across the compute threads by id range (so in no
    /// particular order overall: collect and sort what it finds).
    pub fn par_for_each(&self, f: impl Fn(HouseholdId, &Household) + Send + Sync) {
        par_parts(&self.slots, |first, part| {
            for (j, h) in part.iter().enumerate() {
                if let Some(h) = h {
                    f(HouseholdId((first + j) as u32), h);
                }
            }
        });
    }
}

impl FromIterator<(HouseholdId, Household)> for Households {
    fn from_iter<I: IntoIterator<Item = (HouseholdId, Household)>>(iter: I) -> Self {
        let mut all = Households::default();
        for (id, h) in iter {
            all.insert(id, h);
        }
        all
    }
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

/// This year's per-household figures, gathered once when migration starts (indexed by
/// household id). Migration and housing keep `members` and `income_yuan` current as people
/// leave, move out and arrive; the economy reads incomes from it. The other fields describe
/// households as they were when gathered.
#[derive(Resource, Clone, Debug, Default)]
pub struct HouseholdTable(pub Vec<HouseholdSummary>);

impl HouseholdTable {
    /// The entry for `id`, growing the table for new households.
    pub fn entry(&mut self, id: HouseholdId) -> &mut HouseholdSummary {
        let i = id.0 as usize;
        if self.0.len() <= i {
            self.0.resize(i + 1, HouseholdSummary::default());
        }
        &mut self.0[i]
    }

    /// One member with `income_yuan` moves from `from` to `to` (either may be `None`).
    pub fn move_member(
        &mut self,
        from: Option<HouseholdId>,
        to: Option<HouseholdId>,
        income_yuan: f32,
    ) {
        if let Some(f) = from {
            let e = self.entry(f);
            e.members = e.members.saturating_sub(1);
            e.income_yuan -= income_yuan;
        }
        if let Some(t) = to {
            let e = self.entry(t);
            e.members += 1;
            e.income_yuan += income_yuan;
        }
    }
}

/// Add one resident to its household's figures.
fn count_member(s: &mut HouseholdSummary, p: &Person, w: &Work, t: &Traits) {
    s.members += 1;
    if p.age >= 18 {
        s.adults += 1;
    } else {
        s.children += 1;
    }
    if p.age >= 65 {
        s.elderly += 1;
    }
    match w.job.status {
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
    s.income_yuan += w.income.yuan;
    if p.role == Role::Head {
        s.heads += 1;
        s.head_age = p.age;
        s.head_tolerance = t.climate_tolerance;
        s.head_attachment = t.attachment;
    }
}

/// Gather this year's per-household figures from all residents, over the residents' columns
/// in storage order (deterministic), into the table kept from last year (no allocation once
/// it has grown). One shared table, not per-thread tables merged afterwards: allocating and
/// merging a table per thread costs more than the pass.
pub fn gather_households(
    ids: Res<Ids>,
    mut table: ResMut<HouseholdTable>,
    residents: Query<(&Person, &Work, &Traits, &Member)>,
) {
    let table = &mut table.0;
    let n = ids.next_household as usize;
    table.truncate(n);
    table.resize(n, HouseholdSummary::default());
    // Each thread takes a range of household ids, clears it (last year's figures, with no
    // serial pass over the whole table) and scans all residents
    // for its own: the scans are sequential, the scattered writes are split, and every
    // household is still summed in storage order, so the result does not depend on the
    // thread count.
    par_parts_mut(table, |first, part| {
        part.fill(HouseholdSummary::default());
        for (p, w, t, m) in residents
            .contiguous_iter()
            .expect("residents are stored in tables")
        {
            for i in 0..p.len() {
                if let Some(s) = (m[i].0.0 as usize)
                    .checked_sub(first)
                    .and_then(|h| part.get_mut(h))
                {
                    count_member(s, &p[i], &w[i], &t[i]);
                }
            }
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    fn home(dwelling: u32) -> Household {
        Household {
            dwelling: DwellingId(dwelling),
            tenure: Tenure::Owner,
            savings_yuan: 0.0,
            floor_area_m2: 80.0,
            estate: 0,
            quality: 1.0,
        }
    }

    /// Households come and go by id; passes see the live ones once each, in id order (serial)
    /// or split across threads (every one exactly once).
    #[test]
    fn households_are_found_by_id_and_visited_once() {
        crate::engine::par::init_task_pool(None);
        let mut all: Households = (0..1000).map(|i| (HouseholdId(i), home(i))).collect();
        for i in (0..1000).step_by(3) {
            assert!(all.remove(HouseholdId(i)).is_some());
        }
        assert!(all.remove(HouseholdId(0)).is_none(), "already gone");
        all.insert(HouseholdId(1500), home(1500));
        assert_eq!(all.len(), 1000 - 334 + 1);
        assert_eq!(all.get(HouseholdId(1500)).map(|h| h.dwelling.0), Some(1500));
        assert!(all.get(HouseholdId(3)).is_none());
        all.get_mut(HouseholdId(4)).unwrap().savings_yuan = 7.0;
        assert_eq!(all.get(HouseholdId(4)).unwrap().savings_yuan, 7.0);

        let ids: Vec<u32> = all.iter().map(|(id, _)| id.0).collect();
        assert_eq!(ids.len(), all.len());
        assert!(ids.windows(2).all(|w| w[0] < w[1]), "id order");
        assert!(ids.iter().all(|&i| i % 3 != 0 || i == 1500));

        let seen = std::sync::Mutex::new(Vec::new());
        all.par_for_each(|id, h| {
            assert_eq!(id.0, h.dwelling.0, "id matches its slot");
            seen.lock().unwrap().push(id.0);
        });
        let mut seen = seen.into_inner().unwrap();
        seen.sort_unstable();
        assert_eq!(seen, ids);
    }
}
