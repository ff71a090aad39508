//! Runtime invariants, checked on the world at the end of a year (`--check`, and always in
//! debug builds): the agent population balances its flows, no stock is negative or NaN, every
//! household lives in exactly one dwelling that names it and has exactly one head, and no
//! dwelling holds two households. Pure checks: they read the world and return the first violation.

use bevy_ecs::prelude::*;

use crate::engine::Clock;
use crate::model::economy::Economy;
use crate::model::household::{Household, Households};
use crate::model::housing::{DwellingState, HousingMarket, HousingStock};
use crate::model::labour::{CoalSector, LabourMarket};
use crate::model::resident::Ids;
use crate::model::resident::Person;
use crate::model::resident::Work;
use crate::model::resident::{HouseholdId, Member, Role};
use crate::model::tally::Tally;

/// The first invariant a year broke.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("invariant violated in {year}: {invariant}: {detail}")]
pub struct Violation {
    pub year: i32,
    pub invariant: &'static str,
    pub detail: String,
}

/// Checks a world year after year; remembers the agent count for the population balance.
#[derive(Clone, Debug)]
pub struct Invariants {
    agents: u64,
}

impl Invariants {
    /// Start from the world as it is now (before its next year).
    pub fn new(world: &mut World) -> Self {
        Invariants {
            agents: count_agents(world),
        }
    }

    /// Check the world after a year has run (before the next year resets the tally).
    pub fn check(&mut self, world: &mut World) -> Result<(), Violation> {
        let year = world.resource::<Clock>().year;
        let fail = |invariant: &'static str, detail: String| Violation {
            year,
            invariant,
            detail,
        };

        // Population balance, in agents.
        let t = world.resource::<Tally>();
        let expected = (self.agents + t.births + t.immigrants).checked_sub(t.deaths + t.emigrants);
        let agents = count_agents(world);
        if expected != Some(agents) {
            let t = world.resource::<Tally>();
            return Err(fail(
                "population balance",
                format!(
                    "{} agents + {} births + {} immigrants - {} deaths - {} emigrants != {agents} agents",
                    self.agents, t.births, t.immigrants, t.deaths, t.emigrants
                ),
            ));
        }
        self.agents = agents;

        // No negative (or NaN) stocks.
        let market = world.resource::<HousingMarket>();
        if !(sound(market.price_per_m2) && market.price_per_m2 > 0.0) {
            return Err(fail(
                "no negative stocks",
                format!("price per m2 is {}", market.price_per_m2),
            ));
        }
        let coal = world.resource::<CoalSector>();
        if let Some((i, m)) = coal
            .mines
            .iter()
            .enumerate()
            .find(|(_, m)| !sound(m.reserve_mt + 1e-9))
        {
            return Err(fail(
                "no negative stocks",
                format!("mine {i} has a reserve of {} Mt", m.reserve_mt),
            ));
        }
        let labour = world.resource::<LabourMarket>();
        if let Some(d) = labour.demand.iter().find(|d| !sound(**d)) {
            return Err(fail(
                "no negative stocks",
                format!("labour demand {d} in {:?}", labour.demand),
            ));
        }
        let sales = world.resource::<Economy>().retail_sales;
        if !sound(sales) {
            return Err(fail(
                "no negative stocks",
                format!("retail sales are {sales}"),
            ));
        }
        if let Some(i) = world
            .query::<&Work>()
            .iter(world)
            .map(|w| w.income)
            .find(|i| !sound(f64::from(i.yuan)))
        {
            return Err(fail(
                "no negative stocks",
                format!("a resident's income is {} yuan", i.yuan),
            ));
        }

        // Households and dwellings.
        let n_households = world.resource::<Ids>().next_household as usize;
        let mut exists = vec![false; n_households];
        let homes: Vec<(HouseholdId, Household)> = world
            .resource::<Households>()
            .iter()
            .map(|(id, h)| (id, *h))
            .collect();
        let stock = world.resource::<HousingStock>();
        let mut home_of = vec![None; stock.dwellings.len()];
        for (id, hh) in &homes {
            if !sound(f64::from(hh.savings_yuan)) {
                return Err(fail(
                    "no negative stocks",
                    format!("household {} has savings of {} yuan", id.0, hh.savings_yuan),
                ));
            }
            match exists.get_mut(id.0 as usize) {
                Some(seen) if !*seen => *seen = true,
                _ => {
                    return Err(fail(
                        "unique household ids",
                        format!("household {} twice, or beyond the next id", id.0),
                    ));
                }
            }
            let i = hh.dwelling.0 as usize;
            let Some(d) = stock.dwellings.get(i) else {
                return Err(fail(
                    "each household in one dwelling",
                    format!(
                        "household {} lives in dwelling {i}, which does not exist",
                        id.0
                    ),
                ));
            };
            if d.state != DwellingState::Occupied || d.occupant != Some(*id) {
                return Err(fail(
                    "each household in one dwelling",
                    format!(
                        "household {} lives in dwelling {i}, which is {:?} with occupant {:?}",
                        id.0,
                        d.state,
                        d.occupant.map(|o| o.0)
                    ),
                ));
            }
            if hh.floor_area_m2 != d.floor_area_m2
                || hh.estate != d.estate
                || hh.quality != stock.estates[d.estate as usize].quality
            {
                return Err(fail(
                    "each household in one dwelling",
                    format!(
                        "household {} carries a home of {} m2 in estate {} of quality {}, but \
                         dwelling {i} has {} m2 in estate {} of quality {}",
                        id.0,
                        hh.floor_area_m2,
                        hh.estate,
                        hh.quality,
                        d.floor_area_m2,
                        d.estate,
                        stock.estates[d.estate as usize].quality
                    ),
                ));
            }
            if let Some(other) = home_of[i].replace(id.0) {
                return Err(fail(
                    "no dwelling double-occupied",
                    format!("dwelling {i} holds households {other} and {}", id.0),
                ));
            }
        }
        if let Some((i, d)) = stock.dwellings.iter().enumerate().find(|(i, d)| {
            (d.state == DwellingState::Occupied) != home_of[*i].is_some()
                || (d.occupant.is_some() && d.state != DwellingState::Occupied)
        }) {
            return Err(fail(
                "each household in one dwelling",
                format!(
                    "dwelling {i} is {:?} with occupant {:?}, but no household lives there",
                    d.state,
                    d.occupant.map(|o| o.0)
                ),
            ));
        }
        let mut heads = vec![0u32; n_households];
        for (p, m) in world.query::<(&Person, &Member)>().iter(world) {
            let i = m.0.0 as usize;
            if !exists.get(i).copied().unwrap_or(false) {
                return Err(fail(
                    "each resident in a household",
                    format!("a resident belongs to household {}, which is gone", m.0.0),
                ));
            }
            heads[i] += u32::from(p.role == Role::Head);
        }
        if let Some((id, _)) = homes.iter().find(|(id, _)| heads[id.0 as usize] != 1) {
            return Err(fail(
                "one head per household",
                format!("household {} has {} heads", id.0, heads[id.0 as usize]),
            ));
        }
        Ok(())
    }
}

/// Finite and not negative (NaN fails).
fn sound(x: f64) -> bool {
    x.is_finite() && x >= 0.0
}

fn count_agents(world: &mut World) -> u64 {
    world
        .query_filtered::<(), With<crate::model::resident::AgentId>>()
        .iter(world)
        .count() as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    fn small_world() -> World {
        crate::engine::par::init_task_pool(None);
        crate::sim::world::build_world(&crate::config::baseline(), 1, 0.002)
    }

    #[test]
    fn a_fresh_world_passes() {
        let mut w = small_world();
        let mut inv = Invariants::new(&mut w);
        inv.check(&mut w).unwrap();
    }

    fn first_household(w: &mut World) -> Mut<'_, Household> {
        let id = w.resource::<Households>().iter().next().unwrap().0;
        w.resource_mut::<Households>()
            .map_unchanged(|h| h.get_mut(id).unwrap())
    }

    #[test]
    fn a_household_that_carries_the_wrong_home_size_is_named() {
        let mut w = small_world();
        let mut inv = Invariants::new(&mut w);
        first_household(&mut w).floor_area_m2 += 10.0;
        let e = inv.check(&mut w).unwrap_err();
        assert_eq!(e.invariant, "each household in one dwelling", "{e}");
        assert!(e.to_string().contains("m2"), "{e}");
    }

    #[test]
    fn a_household_moved_into_another_households_home_is_named() {
        let mut w = small_world();
        let mut inv = Invariants::new(&mut w);
        let other = w.resource::<Households>().iter().nth(1).unwrap().1.dwelling;
        first_household(&mut w).dwelling = other;
        let e = inv.check(&mut w).unwrap_err();
        assert_eq!(e.invariant, "each household in one dwelling", "{e}");
        assert_eq!(e.year, 2015);
    }

    #[test]
    fn a_resident_who_vanishes_breaks_the_population_balance() {
        let mut w = small_world();
        let mut inv = Invariants::new(&mut w);
        let e = w
            .query_filtered::<Entity, With<crate::model::resident::AgentId>>()
            .iter(&w)
            .next()
            .unwrap();
        w.despawn(e);
        let v = inv.check(&mut w).unwrap_err();
        assert_eq!(v.invariant, "population balance", "{v}");
        assert!(v.to_string().contains("2015"), "{v}");
    }

    #[test]
    fn a_negative_price_or_savings_is_caught() {
        let mut w = small_world();
        let mut inv = Invariants::new(&mut w);
        w.resource_mut::<HousingMarket>().price_per_m2 = -1.0;
        assert_eq!(
            inv.check(&mut w).unwrap_err().invariant,
            "no negative stocks"
        );
        w.resource_mut::<HousingMarket>().price_per_m2 = 5000.0;
        first_household(&mut w).savings_yuan = f32::NAN;
        assert_eq!(
            inv.check(&mut w).unwrap_err().invariant,
            "no negative stocks"
        );
    }

    #[test]
    fn an_occupied_dwelling_without_a_household_is_caught() {
        let mut w = small_world();
        let mut inv = Invariants::new(&mut w);
        let mut stock = w.resource_mut::<HousingStock>();
        let i = stock
            .dwellings
            .iter()
            .position(|d| d.state == DwellingState::Vacant)
            .unwrap();
        stock.dwellings[i].state = DwellingState::Occupied;
        assert_eq!(
            inv.check(&mut w).unwrap_err().invariant,
            "each household in one dwelling"
        );
    }
}
