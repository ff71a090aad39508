//! Housing: the dwelling stock (grouped into estates), listings and buyers, matching buyers to
//! listings (better estates sell first, so vacancy concentrates in poor ones), renting, the
//! shantytown-redevelopment demolitions that turn displaced households into cash buyers,
//! new construction, and a price index that responds to buyers against listings with
//! momentum.
//!
//! The stock is a resource rather than entities: dwellings are passive, never despawned, and
//! looked up by id from households, so a dense `Vec` indexed by `DwellingId` is both the
//! simplest and the fastest store.

use bevy_ecs::prelude::*;
use bevy_ecs::utils::Parallel;
use serde::{Deserialize, Serialize};

use crate::config::HousingConfig;
use crate::engine::par::{par_parts, par_parts_mut};
use crate::engine::rng::{SimRng, Stage, Streams, shuffle};
use crate::engine::{Clock, Params};
use crate::model::handoff::{Arrivals, Formations, HomeLeaver, VacateReason, Vacated};
use crate::model::household::{Household, HouseholdTable, Households, Tenure};
use crate::model::labour::LabourMarket;
use crate::model::migration::Cohorts;
use crate::model::resident::{Departed, HouseholdId, Ids, Member, Person, Role, Status, Work};
use crate::model::tally::Tally;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct DwellingId(pub u32);

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[repr(u8)]
pub enum DwellingState {
    Occupied,
    /// Empty and on the market.
    ForSale,
    /// Empty, held by an absent owner or landlord; can be rented.
    Vacant,
    Demolished,
}

#[derive(Clone, Copy, Debug, Serialize, Deserialize)]
pub struct Dwelling {
    pub estate: u32,
    pub floor_area_m2: f32,
    pub state: DwellingState,
    /// Occupying household, if any.
    pub occupant: Option<HouseholdId>,
    pub last_sale_price: f32,
}

#[derive(Clone, Copy, Debug, Serialize, Deserialize)]
pub struct Estate {
    /// Location and build quality; multiplies the city price per m2.
    pub quality: f32,
    pub build_year: i32,
    /// Old low-rise housing targeted by shantytown redevelopment.
    pub shanty: bool,
}

#[derive(Resource, Clone, Debug, Default, Serialize, Deserialize)]
pub struct HousingStock {
    pub dwellings: Vec<Dwelling>,
    pub estates: Vec<Estate>,
}

/// What a home of `floor_area_m2` in an estate of `quality` is worth at `price_per_m2`: the
/// one valuation rule, whichever copy of the area and quality it is given.
pub fn home_value(floor_area_m2: f32, quality: f32, price_per_m2: f64) -> f64 {
    f64::from(floor_area_m2) * price_per_m2 * f64::from(quality)
}

impl HousingStock {
    pub fn value(&self, d: DwellingId, price_per_m2: f64) -> f64 {
        let dw = &self.dwellings[d.0 as usize];
        home_value(
            dw.floor_area_m2,
            self.estates[dw.estate as usize].quality,
            price_per_m2,
        )
    }

    /// A household living in `d`, carrying the home's size and quality.
    pub fn household(&self, d: DwellingId, tenure: Tenure, savings_yuan: f32) -> Household {
        let dw = &self.dwellings[d.0 as usize];
        Household {
            dwelling: d,
            tenure,
            savings_yuan,
            floor_area_m2: dw.floor_area_m2,
            estate: dw.estate,
            quality: self.estates[dw.estate as usize].quality,
        }
    }

    fn occupy(&mut self, d: DwellingId, hid: HouseholdId) {
        let dw = &mut self.dwellings[d.0 as usize];
        dw.state = DwellingState::Occupied;
        dw.occupant = Some(hid);
    }

    fn release(&mut self, d: DwellingId, state: DwellingState) {
        let dw = &mut self.dwellings[d.0 as usize];
        dw.state = state;
        dw.occupant = None;
    }
}

#[derive(Resource, Clone, Debug, Serialize, Deserialize)]
pub struct HousingMarket {
    pub price_per_m2: f64,
    /// Last year's price growth, fraction.
    pub last_growth: f64,
    /// Last year's sales / listings.
    pub saleability: f64,
}

// ---------------------------------------------------------------- rules

/// Next year's price: buyers against listings, plus momentum from last year's growth,
/// within a yearly band.
pub fn next_price(
    h: &HousingConfig,
    price: f64,
    buyers: f64,
    listings: f64,
    last_growth: f64,
) -> f64 {
    let pressure = if buyers + listings > 0.0 {
        (buyers - listings) / (buyers + listings)
    } else {
        0.0
    };
    let g = (h.price_response * pressure + h.price_momentum * last_growth)
        .clamp(-h.max_price_change, h.max_price_change);
    price * (1.0 + g)
}

/// How keen households are to buy, relative to flat prices at start-year affordability:
/// falling prices make buyers wait (`expectation_sensitivity` × last year's growth), homes
/// cheap relative to wages draw them (`relative_price` = price / wage index / start price,
/// to the power −`value_sensitivity`). The two offset each other before the bounds apply,
/// so deep cheapness can bring back buyers who expect further falls, and no boom multiplies
/// the usual number of buyers by more than `keenness_max`.
pub fn buyer_keenness(h: &HousingConfig, last_growth: f64, relative_price: f64) -> f64 {
    ((h.expectation_sensitivity * last_growth).exp()
        * relative_price.max(1e-9).powf(-h.value_sensitivity))
    .clamp(h.keenness_min, h.keenness_max)
}

/// How willing an owner is to put a home on the market, 0-1: 1 unless selling now would
/// realise a loss on what the home last cost (`reference`, 0 if unknown), then
/// (value / reference)^loss_aversion. Sellers facing a nominal loss hold on (Genesove & Mayer
/// 2001), so at low prices fewer homes come on the market.
pub fn seller_willingness(h: &HousingConfig, value: f64, reference: f64) -> f64 {
    if reference <= 0.0 || value >= reference {
        1.0
    } else {
        (value / reference).max(0.0).powf(h.loss_aversion)
    }
}

/// Who is looking for a home this year.
#[derive(Clone, Copy, Debug)]
enum MoverKind {
    /// An existing household: displaced by demolition (must move) or buying up.
    Existing {
        hid: HouseholdId,
        must_move: bool,
    },
    Formation(usize),
    Arrival(usize),
}

#[derive(Clone, Copy, Debug)]
struct Mover {
    key: (u8, u64),
    kind: MoverKind,
    budget_yuan: f64,
    wants_to_buy: bool,
}

/// Listings grouped by estate, estates in descending quality; buyers walk it from the top.
struct ListingBook {
    order: Vec<u32>,
    by_estate: Vec<Vec<DwellingId>>,
    /// Floor area and quality of the listing on top of each estate in `order` (same
    /// positions), so a buyer's walk reads one short array instead of a dwelling per estate.
    top: Vec<(f32, f32)>,
}

/// The dwellings a year's trading starts from, each list in id order: occupied homes in
/// shanty estates (demolition candidates), empty homes, and listings.
struct Openings {
    shanties: Vec<DwellingId>,
    vacant: Vec<DwellingId>,
    for_sale: Vec<DwellingId>,
}

impl Openings {
    /// One pass over the stock, split across threads by dwelling id, finds all three lists at
    /// once (each in id order).
    fn find(stock: &HousingStock) -> Self {
        let parts = par_parts(&stock.dwellings, |first, part| {
            let mut found = Openings {
                shanties: Vec::new(),
                vacant: Vec::new(),
                for_sale: Vec::new(),
            };
            for (j, d) in part.iter().enumerate() {
                let id = DwellingId((first + j) as u32);
                match d.state {
                    DwellingState::Occupied if stock.estates[d.estate as usize].shanty => {
                        found.shanties.push(id)
                    }
                    DwellingState::Vacant => found.vacant.push(id),
                    DwellingState::ForSale => found.for_sale.push(id),
                    _ => {}
                }
            }
            found
        });
        let join = |list: fn(&Openings) -> &Vec<DwellingId>| {
            parts.iter().flat_map(list).copied().collect()
        };
        Openings {
            shanties: join(|o| &o.shanties),
            vacant: join(|o| &o.vacant),
            for_sale: join(|o| &o.for_sale),
        }
    }
}

impl ListingBook {
    /// The book of `listings` (in id order).
    fn new(stock: &HousingStock, listings: &[DwellingId], rng: &mut SimRng) -> Self {
        let mut by_estate = vec![Vec::new(); stock.estates.len()];
        for &d in listings {
            by_estate[stock.dwellings[d.0 as usize].estate as usize].push(d);
        }
        for l in &mut by_estate {
            shuffle(l, rng);
        }
        let mut order: Vec<u32> = (0..stock.estates.len() as u32)
            .filter(|&e| !by_estate[e as usize].is_empty())
            .collect();
        order.sort_by(|a, b| {
            stock.estates[*b as usize]
                .quality
                .total_cmp(&stock.estates[*a as usize].quality)
                .then(a.cmp(b))
        });
        let mut book = ListingBook {
            top: Vec::with_capacity(order.len()),
            order,
            by_estate,
        };
        for pos in 0..book.order.len() {
            let top = book.top_of(stock, pos);
            book.top.push(top);
        }
        book
    }

    fn top_of(&self, stock: &HousingStock, pos: usize) -> (f32, f32) {
        let e = self.order[pos] as usize;
        let d = *self.by_estate[e]
            .last()
            .expect("estates in the book have listings");
        let dw = &stock.dwellings[d.0 as usize];
        (dw.floor_area_m2, stock.estates[dw.estate as usize].quality)
    }

    fn len(&self) -> usize {
        self.by_estate.iter().map(Vec::len).sum()
    }

    /// The buyer walks estates from the best, taking an affordable one with probability
    /// `preference` at each; if none is taken, the last affordable one seen.
    fn buy(
        &mut self,
        stock: &HousingStock,
        price: f64,
        budget: f64,
        preference: f64,
        rng: &mut SimRng,
    ) -> Option<DwellingId> {
        let mut fallback = None;
        let mut chosen = None;
        for (pos, &(area, quality)) in self.top.iter().enumerate() {
            if home_value(area, quality, price) <= budget {
                fallback = Some(pos);
                if rng.chance(preference) {
                    chosen = Some(pos);
                    break;
                }
            }
        }
        let pos = chosen.or(fallback)?;
        Some(self.take(stock, pos))
    }

    /// A listing from the worst estate, for a renter when nothing else is empty.
    fn take_worst(&mut self, stock: &HousingStock) -> Option<DwellingId> {
        let pos = self.order.len().checked_sub(1)?;
        Some(self.take(stock, pos))
    }

    /// Take the top listing of the estate at `pos` in the walk.
    fn take(&mut self, stock: &HousingStock, pos: usize) -> DwellingId {
        let e = self.order[pos] as usize;
        let d = self.by_estate[e]
            .pop()
            .expect("estates in the book have listings");
        if self.by_estate[e].is_empty() {
            self.order.remove(pos);
            self.top.remove(pos);
        } else {
            self.top[pos] = self.top_of(stock, pos);
        }
        d
    }
}

// ---------------------------------------------------------------- systems

/// Dwellings left behind are listed (sold by emigrants or heirs) or kept empty; unsold
/// listings are withdrawn and empty homes relisted, each with a yearly probability. Owners
/// who would sell at a loss list less (`seller_willingness`).
pub fn release_vacated(
    params: Res<Params>,
    clock: Res<Clock>,
    market: Res<HousingMarket>,
    mut stock: ResMut<HousingStock>,
    mut vacated: ResMut<Vacated>,
) {
    let h = &params.housing;
    let price = market.price_per_m2;
    let willingness = |d: &Dwelling, estates: &[Estate]| {
        let value = home_value(d.floor_area_m2, estates[d.estate as usize].quality, price);
        seller_willingness(h, value, f64::from(d.last_sale_price))
    };
    let HousingStock { dwellings, estates } = &mut *stock;
    let streams = Streams::new(clock.seed, clock.year, Stage::Housing);
    // Each dwelling draws from its own stream, so the pass splits across threads freely.
    par_parts_mut(dwellings, |first, part| {
        for (j, d) in part.iter_mut().enumerate() {
            let switch = match d.state {
                DwellingState::ForSale => h.withdrawal_rate,
                DwellingState::Vacant => h.relist_rate * willingness(d, estates),
                _ => continue,
            };
            let i = (first + j) as u64;
            if streams.rng(i | 1 << 40).chance(switch) {
                d.state = if d.state == DwellingState::ForSale {
                    DwellingState::Vacant
                } else {
                    DwellingState::ForSale
                };
            }
        }
    });
    let mut list = std::mem::take(&mut vacated.0);
    list.sort_unstable_by_key(|v| v.0);
    for (d, tenure, reason) in list {
        let sell = match (tenure, reason) {
            (Tenure::Renter, _) => 0.0,
            (Tenure::Owner, VacateReason::Emigrated) => h.emigrant_sell_share,
            (Tenure::Owner, VacateReason::Dissolved) => h.heir_sell_share,
        } * willingness(&stock.dwellings[d.0 as usize], &stock.estates);
        let listed =
            SimRng::new(clock.seed, clock.year, Stage::Housing, u64::from(d.0)).chance(sell);
        stock.release(
            d,
            if listed {
                DwellingState::ForSale
            } else {
                DwellingState::Vacant
            },
        );
    }
}

/// New estates from the completions pipeline come on the market.
pub fn build_estates(
    params: Res<Params>,
    clock: Res<Clock>,
    mut stock: ResMut<HousingStock>,
    mut tally: ResMut<Tally>,
) {
    let h = &params.housing;
    let mut rng = SimRng::new(clock.seed, clock.year, Stage::Construction, 0);
    let n = (h.completions.at(clock.year) * clock.scale + rng.uniform()).floor() as u32;
    if n == 0 {
        return;
    }
    let mean = params.city.mean_floor_area_m2;
    let sd = params.city.floor_area_sd_m2;
    let mut left = n;
    while left > 0 {
        let size = left.min(((f64::from(h.new_estate_size) * clock.scale).ceil() as u32).max(1));
        let estate = stock.estates.len() as u32;
        stock.estates.push(Estate {
            quality: h.new_estate_quality as f32,
            build_year: clock.year,
            shanty: false,
        });
        for _ in 0..size {
            let z: f64 = rand::RngExt::sample(&mut rng, rand_distr::StandardNormal);
            stock.dwellings.push(Dwelling {
                estate,
                floor_area_m2: (mean + sd * z).clamp(30.0, 250.0) as f32,
                state: DwellingState::ForSale,
                occupant: None,
                last_sale_price: 0.0,
            });
        }
        left -= size;
    }
    tally.completed += u64::from(n);
}

pub fn trade_homes(
    mut commands: Commands,
    params: Res<Params>,
    clock: Res<Clock>,
    (mut ids, mut tally, mut cohorts): (ResMut<Ids>, ResMut<Tally>, ResMut<Cohorts>),
    (mut stock, mut market): (ResMut<HousingStock>, ResMut<HousingMarket>),
    (mut formations, mut arrivals): (ResMut<Formations>, ResMut<Arrivals>),
    labour: Res<LabourMarket>,
    mut table: ResMut<HouseholdTable>,
    mut households: ResMut<Households>,
    mut departed: ResMut<Departed>,
    mut residents: Query<(&mut Person, &Work, &mut Member)>,
) {
    let h = &params.housing;
    let year = clock.year;
    let price = market.price_per_m2;
    let relative_price = price / labour.wage_index / params.city.price_per_m2;
    let keen = buyer_keenness(h, market.last_growth, relative_price);
    // Leavers who emigrated since they decided to move out no longer form a household (they
    // are still entities until the arrivals take their rows).
    let formations: Vec<Vec<HomeLeaver>> = std::mem::take(&mut formations.0)
        .into_iter()
        .map(|g| {
            g.into_iter()
                .filter(|l| !departed.has_left(l.id))
                .collect::<Vec<_>>()
        })
        .filter(|g| !g.is_empty())
        .collect();
    let arrivals = std::mem::take(&mut arrivals.0);
    let mean_wage = crate::model::labour::local_mean_wage(&params, year, &labour);

    // Shantytown redevelopment: occupied dwellings in shanty estates are demolished; their
    // households receive cash compensation and must find a new home.
    let mut rng = SimRng::new(clock.seed, year, Stage::Demolition, 0);
    let n_households = households.len() as f64;
    let n_demolish = (params.policy.shantytown_demolitions_per_1000.at(year) * n_households
        / 1000.0
        + rng.uniform())
    .floor() as usize;
    // Demolition turns occupied homes into demolished ones, so the empty homes and the
    // listings found now are still those of when the book opens.
    let Openings {
        mut shanties,
        mut vacant,
        for_sale,
    } = Openings::find(&stock);
    // Cash compensation by household id (a lookup per household below: a hash map cost more
    // than the rest of the pass).
    let mut compensation: Vec<Option<f64>> = Vec::new();
    if n_demolish > 0 {
        compensation.resize(ids.next_household as usize, None);
        shuffle(&mut shanties, &mut rng);
        for d in shanties.into_iter().take(n_demolish) {
            let hid = stock.dwellings[d.0 as usize].occupant.expect("occupied");
            compensation[hid.0 as usize] =
                Some(params.policy.compensation_multiple * stock.value(d, price));
            stock.release(d, DwellingState::Demolished);
            tally.demolished += 1;
        }
    }

    // Movers.
    let upgrade_streams = Streams::new(clock.seed, year, Stage::Upgrade);
    let mut upgraders: Parallel<Vec<Mover>> = Parallel::default();
    households.par_for_each(|hid, hh| {
        let budget = || {
            let income = f64::from(table.0[hid.0 as usize].income_yuan);
            h.price_to_income_limit * income + f64::from(hh.savings_yuan)
        };
        if let Some(c) = compensation.get(hid.0 as usize).copied().flatten() {
            upgraders.borrow_local_mut().push(Mover {
                key: (0, u64::from(hid.0)),
                kind: MoverKind::Existing {
                    hid,
                    must_move: true,
                },
                budget_yuan: budget() + c,
                wants_to_buy: true,
            });
        } else if upgrade_streams
            .rng(u64::from(hid.0))
            .chance(h.upgrade_rate * keen)
            && table.0[hid.0 as usize].members > 0
        {
            let equity = if hh.tenure == Tenure::Owner {
                hh.home_value(price)
            } else {
                0.0
            };
            upgraders.borrow_local_mut().push(Mover {
                key: (1, u64::from(hid.0)),
                kind: MoverKind::Existing {
                    hid,
                    must_move: false,
                },
                budget_yuan: budget() + equity,
                wants_to_buy: true,
            });
        }
    });
    let mut movers: Vec<Mover> = upgraders.drain().collect();
    for (i, f) in formations.iter().enumerate() {
        let income: f64 = f.iter().map(|l| f64::from(l.income_yuan)).sum();
        let mut r = SimRng::new(clock.seed, year, Stage::Housing, f[0].id.0 | 1 << 50);
        movers.push(Mover {
            key: (2, f[0].id.0),
            kind: MoverKind::Formation(i),
            budget_yuan: h.price_to_income_limit * income,
            wants_to_buy: r.chance(h.new_household_buy_share * keen),
        });
    }
    for (i, a) in arrivals.iter().enumerate() {
        let adults = a.members.iter().filter(|m| m.person.age >= 18).count() as f64;
        let mut r = SimRng::new(clock.seed, year, Stage::Housing, i as u64 | 1 << 51);
        movers.push(Mover {
            key: (3, i as u64),
            kind: MoverKind::Arrival(i),
            budget_yuan: h.price_to_income_limit * mean_wage * adults + f64::from(a.savings_yuan),
            wants_to_buy: r.chance(h.immigrant_buy_share * keen),
        });
    }
    movers.sort_unstable_by_key(|m| m.key);
    let mut rng = SimRng::new(clock.seed, year, Stage::Housing, 0);
    shuffle(&mut movers, &mut rng);

    // Match.
    let mut book = ListingBook::new(&stock, &for_sale, &mut rng);
    let listings = book.len();
    let mut placed: Vec<(Mover, DwellingId, Tenure)> = Vec::new();
    let mut buyers = 0u64;
    let mut sales = 0u64;
    for m in movers {
        let must_move = !matches!(
            m.kind,
            MoverKind::Existing {
                must_move: false,
                ..
            }
        );
        if m.wants_to_buy {
            buyers += 1;
            if let Some(d) = book.buy(&stock, price, m.budget_yuan, h.quality_preference, &mut rng)
            {
                sales += 1;
                placed.push((m, d, Tenure::Owner));
                continue;
            }
        }
        if must_move {
            let d = if vacant.is_empty() {
                book.take_worst(&stock)
            } else {
                Some(vacant.swap_remove(rng.below(vacant.len())))
            };
            if let Some(d) = d {
                placed.push((m, d, Tenure::Renter));
            }
        }
    }

    // Apply moves.
    let mut existing: Vec<(HouseholdId, DwellingId, Tenure, f64)> = Vec::new();
    // Every arriving resident, collected for one `place_newcomers`: they take the rows of the
    // year's departed.
    let mut newcomers = Vec::new();
    for (m, d, tenure) in placed {
        let value = stock.value(d, price);
        if tenure == Tenure::Owner {
            stock.dwellings[d.0 as usize].last_sale_price = value as f32;
            tally.count_sale(stock.dwellings[d.0 as usize].estate);
        }
        match m.kind {
            MoverKind::Existing { hid, .. } => {
                stock.occupy(d, hid);
                existing.push((hid, d, tenure, value));
            }
            MoverKind::Formation(i) => {
                let hid = ids.household();
                stock.occupy(d, hid);
                households.insert(hid, stock.household(d, tenure, 0.0));
                for (k, leaver) in formations[i].iter().enumerate() {
                    if let Ok((mut p, work, mut member)) = residents.get_mut(leaver.entity) {
                        p.role = if k == 0 { Role::Head } else { Role::Partner };
                        table.move_member(Some(member.0), Some(hid), work.income.yuan);
                        member.0 = hid;
                    }
                }
            }
            MoverKind::Arrival(i) => {
                let hid = ids.household();
                stock.occupy(d, hid);
                let a = &arrivals[i];
                let savings = if tenure == Tenure::Owner {
                    0.0
                } else {
                    a.savings_yuan
                };
                households.insert(hid, stock.household(d, tenure, savings));
                tally.immigrants += a.members.len() as u64;
                // Arriving adults look for work here: they enter the local job search.
                tally.new_job_seekers += a
                    .members
                    .iter()
                    .filter(|n| n.work.job.status == Status::Unemployed)
                    .count() as u64;
                for n in &a.members {
                    table.move_member(None, Some(hid), n.work.income.yuan);
                }
                newcomers.extend(a.members.iter().map(|n| {
                    cohorts.add_member(year - i32::from(n.person.age));
                    (ids.agent(), n.person, n.work, n.traits, Member(hid))
                }));
            }
        }
    }
    departed.place_newcomers(&mut commands, newcomers);
    for (hid, d, tenure, value) in existing {
        if let Some(hh) = households.get_mut(hid) {
            let old = hh.dwelling;
            if stock.dwellings[old.0 as usize].occupant == Some(hid) {
                // An owner who bought up lists the old home; a renter just leaves it.
                let state = if hh.tenure == Tenure::Owner {
                    DwellingState::ForSale
                } else {
                    DwellingState::Vacant
                };
                stock.release(old, state);
            }
            let savings = if tenure == Tenure::Owner {
                (f64::from(hh.savings_yuan) - h.down_payment_share * value).max(0.0) as f32
            } else {
                hh.savings_yuan
            };
            *hh = stock.household(d, tenure, savings);
        }
    }

    tally.listings += listings as u64;
    tally.buyers += buyers;
    tally.transactions += sales;
    let new_price = next_price(h, price, buyers as f64, listings as f64, market.last_growth);
    market.last_growth = new_price / price - 1.0;
    market.price_per_m2 = new_price;
    market.saleability = if listings > 0 {
        sales as f64 / listings as f64
    } else {
        1.0
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn excess_listings_lower_the_price_and_excess_buyers_raise_it() {
        let h = crate::config::baseline().housing;
        assert!(next_price(&h, 8000.0, 100.0, 300.0, 0.0) < 8000.0);
        assert!(next_price(&h, 8000.0, 300.0, 100.0, 0.0) > 8000.0);
        assert_eq!(next_price(&h, 8000.0, 0.0, 0.0, 0.0), 8000.0);
    }

    #[test]
    fn price_change_stays_within_the_band() {
        let h = crate::config::baseline().housing;
        let p = next_price(&h, 8000.0, 0.0, 1e6, -0.5);
        assert!(p >= 8000.0 * (1.0 - h.max_price_change) - 1e-9);
    }

    #[test]
    fn cheap_homes_bring_back_buyers_who_expect_falls_within_bounds() {
        let h = crate::config::baseline().housing;
        let falling = buyer_keenness(&h, -0.1, 1.0);
        assert!(falling < 1.0);
        assert!(
            buyer_keenness(&h, -0.1, 0.3) > falling,
            "cheapness offsets expected falls"
        );
        assert_eq!(buyer_keenness(&h, 0.0, 1.0), 1.0);
        assert_eq!(buyer_keenness(&h, 0.5, 0.01), 3.0);
        assert_eq!(buyer_keenness(&h, -1.0, 1.0), 0.2);
    }

    #[test]
    fn owners_facing_a_loss_list_less_and_deeper_losses_less_still() {
        let h = crate::config::baseline().housing;
        assert_eq!(seller_willingness(&h, 900_000.0, 600_000.0), 1.0);
        assert_eq!(
            seller_willingness(&h, 500_000.0, 0.0),
            1.0,
            "no reference: no loss"
        );
        let small = seller_willingness(&h, 540_000.0, 600_000.0);
        let deep = seller_willingness(&h, 300_000.0, 600_000.0);
        assert!(deep < small && small < 1.0, "{deep} {small}");
        assert!(deep > 0.0);
    }

    #[test]
    fn buyers_take_the_best_affordable_estate_first() {
        let mut stock = HousingStock::default();
        for q in [0.6f32, 1.4] {
            stock.estates.push(Estate {
                quality: q,
                build_year: 2000,
                shanty: false,
            });
        }
        for e in [0u32, 1] {
            stock.dwellings.push(Dwelling {
                estate: e,
                floor_area_m2: 100.0,
                state: DwellingState::ForSale,
                occupant: None,
                last_sale_price: 0.0,
            });
        }
        crate::engine::par::init_task_pool(None);
        let mut rng = SimRng::new(1, 2020, Stage::Housing, 0);
        let mut book = ListingBook::new(&stock, &Openings::find(&stock).for_sale, &mut rng);
        // Rich buyer with full preference: the 1.4-quality estate.
        assert_eq!(
            book.buy(&stock, 1000.0, 1e9, 1.0, &mut rng),
            Some(DwellingId(1))
        );
        // A buyer who cannot afford anything gets nothing.
        assert_eq!(book.buy(&stock, 1000.0, 10.0, 1.0, &mut rng), None);
    }

    /// The one split pass finds what a scan per list finds, each list in id order.
    #[test]
    fn openings_are_found_once_each_in_id_order() {
        crate::engine::par::init_task_pool(None);
        let mut stock = HousingStock::default();
        for shanty in [true, false] {
            stock.estates.push(Estate {
                quality: 1.0,
                build_year: 1970,
                shanty,
            });
        }
        let states = [
            DwellingState::Occupied,
            DwellingState::Vacant,
            DwellingState::ForSale,
            DwellingState::Demolished,
        ];
        for i in 0..10_007u32 {
            stock.dwellings.push(Dwelling {
                estate: i % 3 % 2,
                floor_area_m2: 80.0,
                state: states[(i * 7 % 11 % 4) as usize],
                occupant: None,
                last_sale_price: 0.0,
            });
        }
        let scan = |keep: &dyn Fn(&Dwelling) -> bool| -> Vec<DwellingId> {
            (0..stock.dwellings.len())
                .filter(|&i| keep(&stock.dwellings[i]))
                .map(|i| DwellingId(i as u32))
                .collect()
        };
        let found = Openings::find(&stock);
        assert_eq!(
            found.shanties,
            scan(&|d| d.state == DwellingState::Occupied && d.estate == 0)
        );
        assert_eq!(found.vacant, scan(&|d| d.state == DwellingState::Vacant));
        assert_eq!(found.for_sale, scan(&|d| d.state == DwellingState::ForSale));
        assert!(
            !found.shanties.is_empty() && !found.vacant.is_empty() && !found.for_sale.is_empty()
        );
    }
}
