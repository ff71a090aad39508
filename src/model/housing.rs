//! Housing: the dwelling stock (grouped into estates), listings with asking prices set from
//! comparable sales and cut while unsold, buyers choosing between renting and buying, investors
//! buying to let, matching buyers to listings (better estates sell first, so vacancy
//! concentrates in poor ones), rents that follow the rental vacancy, the shantytown-redevelopment
//! demolitions that turn displaced households into cash buyers, construction that responds to
//! price against cost, abandonment, and a price index of what homes actually sold for.
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
    /// Asking price while for sale, yuan (0 otherwise).
    pub ask: f32,
    /// Held by a landlord to let (occupied by renters, or empty and to let).
    pub to_let: bool,
    /// Whole years the home has stood empty.
    pub empty_years: u8,
}

impl Dwelling {
    /// A dwelling of `floor_area_m2` in `estate`, empty and not on the market.
    pub fn new(estate: u32, floor_area_m2: f32, state: DwellingState) -> Self {
        Dwelling {
            estate,
            floor_area_m2,
            state,
            occupant: None,
            last_sale_price: 0.0,
            ask: 0.0,
            to_let: false,
            empty_years: 0,
        }
    }
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

    fn occupy(&mut self, d: DwellingId, hid: HouseholdId, tenure: Tenure) {
        let dw = &mut self.dwellings[d.0 as usize];
        dw.state = DwellingState::Occupied;
        dw.occupant = Some(hid);
        dw.ask = 0.0;
        dw.empty_years = 0;
        dw.to_let = tenure == Tenure::Renter;
    }

    /// Homes not demolished.
    pub fn standing(&self) -> usize {
        self.dwellings
            .iter()
            .filter(|d| d.state != DwellingState::Demolished)
            .count()
    }

    fn release(&mut self, d: DwellingId, state: DwellingState) {
        let dw = &mut self.dwellings[d.0 as usize];
        dw.state = state;
        dw.occupant = None;
    }
}

#[derive(Resource, Clone, Debug, Serialize, Deserialize)]
pub struct HousingMarket {
    /// The price index: this year's sale prices over the sold homes' floor area × quality,
    /// yuan per quality-m² (last year's when nothing sold).
    pub price_per_m2: f64,
    /// Last year's price growth, fraction.
    pub last_growth: f64,
    /// Last year's share of listings sold (`market_ratio` of sales and listings).
    pub saleability: f64,
    /// Bidders per listing as sellers read the market: an average of past years'
    /// `market_ratio` of bidders and listings (`learn`).
    pub heat: f64,
    /// The price growth buyers expect: an average of past years' growth (`learn`).
    pub trend: f64,
    /// Yearly rent per quality-m², yuan.
    pub rent_per_m2: f64,
    /// Last year's share of homes to let that stood empty after the year's lettings.
    pub rental_vacancy: f64,
}

impl HousingMarket {
    /// The price against wages, relative to the start year (1 then): what makes homes cheap or
    /// dear for buyers from incomes here and in the surrounding counties.
    pub fn price_against_wages(&self, wage_index: f64, start_price_per_m2: f64) -> f64 {
        self.price_per_m2 / wage_index / start_price_per_m2
    }
}

// ---------------------------------------------------------------- rules

/// A ratio of two yearly counts as sellers and developers read it, (a + 1) / (b + 1), so that
/// a year with none of either still gives a finite, informative estimate (Laplace's rule of
/// succession): sales over listings (saleability), bidders over listings (heat).
pub fn market_ratio(a: u64, b: u64) -> f64 {
    (a as f64 + 1.0) / (b as f64 + 1.0)
}

/// The asking price of a new listing: the comparable price (`comparable`: the sales index ×
/// size × quality) times exp(`ask_markup` + `ask_heat` × ln(heat)), where `heat` is bidders
/// (buyers who could afford a listing) per listing as sellers have learnt it over past years. Sellers ask more over
/// comparable sales when many buyers compete for few homes and less when homes sit unsold
/// (Baptista et al. 2016: the markup falls with the time on market). An owner who would sell
/// below what the home last cost (`reference`, 0 if unknown) asks more again, by
/// `loss_aversion` × the log of the loss (Genesove & Mayer 2001: 0.25-0.35), so homes facing a
/// loss sell later.
pub fn asking_price(h: &HousingConfig, comparable: f64, heat: f64, reference: f64) -> f64 {
    let loss = if reference > comparable {
        (reference / comparable).ln()
    } else {
        0.0
    };
    comparable * (h.ask_markup + h.ask_heat * heat.ln() + h.loss_aversion * loss).exp()
}

/// How much more readily an owner lists a home they do not live in when it is worth more than
/// it last cost (`reference`, 0 if unknown): (`value` / `reference`)^`gain_listing` for a gain,
/// 1 otherwise. It multiplies the market timing of the listing hazard (`listing_probability`), so
/// owners realise gains readily (the disposition effect: Shefrin & Statman 1985; Odean 1998);
/// owners facing a loss ask more instead (`asking_price`).
pub fn gain_timing(h: &HousingConfig, value: f64, reference: f64) -> f64 {
    if reference > 0.0 && value > reference {
        (value / reference).powf(h.gain_listing)
    } else {
        1.0
    }
}

/// What sellers and buyers carry from year to year: last year's reading `was`, updated with
/// this year's `now` in proportion 1 − `market_memory` (adaptive expectations, Nerlove 1958:
/// people learn from several past years, not only the last one).
pub fn learn(h: &HousingConfig, was: f64, now: f64) -> f64 {
    h.market_memory * was + (1.0 - h.market_memory) * now
}

/// The yearly return of owning over renting, per yuan of price: the rent saved (`rent` per
/// quality-m² over `price` per quality-m²) less the user cost of owning (mortgage rate and
/// holding costs) plus the price growth buyers expect: a share `expectation_weight` of the city's
/// recent trend (`trend`; adaptive expectations) and a share `national_expectation_weight` of last
/// year's national growth (`national_price_growth`, an exogenous series). Positive when buying is
/// the better deal.
pub fn owning_gain(h: &HousingConfig, year: i32, price: f64, rent: f64, trend: f64) -> f64 {
    let expected = h.expectation_weight * trend
        + h.national_expectation_weight * h.national_price_growth.at(year - 1);
    rent / price - h.mortgage_rate.at(year) - h.holding_cost + expected
}

/// The probability of choosing to buy (rather than rent or stay): a logit whose odds are
/// `base`'s when owning and renting cost the same (`gain` = 0) at the start year's price
/// relative to wages (`relative_price` = 1), multiplied by exp(`tenure_sensitivity` × `gain`)
/// and by `relative_price`^(−`price_elasticity`): dearer homes relative to incomes mean fewer
/// buyers (the price elasticity of housing demand).
pub fn buy_probability(h: &HousingConfig, base: f64, gain: f64, relative_price: f64) -> f64 {
    if base >= 1.0 {
        return 1.0;
    }
    let odds = base / (1.0 - base)
        * (h.tenure_sensitivity * gain - h.price_elasticity * relative_price.ln()).exp();
    odds / (1.0 + odds)
}

/// Next year's rent per quality-m²: landlords raise rents when few homes to let stand empty
/// and cut them when many do, by `rent_response` per unit of rental vacancy away from its
/// natural rate (in logs, so a rent never turns negative).
pub fn next_rent(h: &HousingConfig, rent: f64, rental_vacancy: f64) -> f64 {
    rent * (h.rent_response * (h.natural_rental_vacancy - rental_vacancy)).exp()
}

/// The rental vacancy the rent responds to: the homes to let standing empty after the year's
/// lettings (`let_empty`, of `rental_homes` to let), plus the empty homes of absent owners left
/// (`held`) at the share `held_let_share` of them their owners would let. Renters take those
/// when no home to let is left, so they are rental supply too: a rent that sees only the homes
/// already let can rise while a fifth of the city stands empty.
pub fn rental_vacancy_of(h: &HousingConfig, let_empty: u64, rental_homes: u64, held: u64) -> f64 {
    let latent = h.held_let_share * held as f64;
    let homes = rental_homes as f64 + latent;
    if homes > 0.0 {
        (let_empty as f64 + latent) / homes
    } else {
        0.0
    }
}

/// Homes started this year: developers build when a new home would sell for more than it
/// costs, expected revenue being the price × the new estates' quality × the chance of a sale
/// (saleability); `construction_rate` homes per standing home per unit of margin. When the
/// margin is negative nothing is built: housing is durable, so a shrinking city keeps its
/// stock and its prices fall below construction cost (Glaeser & Gyourko 2005).
pub fn housing_starts(
    h: &HousingConfig,
    year: i32,
    standing: f64,
    price: f64,
    saleability: f64,
) -> f64 {
    let margin = price * h.new_estate_quality * saleability / h.construction_cost.at(year) - 1.0;
    h.construction_rate * standing * margin.max(0.0)
}

/// How much more readily owners time a sale when buyers compete: heat^`listing_heat` multiplies
/// their yearly hazard of listing (and divides that of withdrawing a listing), so listings rise in
/// booms and fall in busts (Ngai & Sheedy 2020).
pub fn market_timing(h: &HousingConfig, heat: f64) -> f64 {
    heat.powf(h.listing_heat)
}

/// The arbitrage that ties prices to rents from above: the share of owners of homes they do not
/// live in (held empty or let) who sell this year because the home yields less than its price
/// would earn on deposit. A home held or let is an investment: investors buy when a listing yields
/// more than they need, and owners sell when their home yields less (Baptista et al. 2016: a
/// buy-to-let investor keeps a home with a logistic probability in its yield; Poterba 1984: holding
/// pays when the rent covers the forgone interest). What owners need is spread across them as
/// investors' needs are (log-sd `investor_yield_sd`) around the deposit rate (`deposit_rate`), as a
/// log-logistic with that spread: 1 / (1 + (yield / deposit rate)^(π / (√3 × sd))), a half when the
/// home yields the deposit rate. `gross_yield` is this year's rent over last year's price per
/// quality-m², the same for every home.
pub fn yield_sellers(h: &HousingConfig, year: i32, gross_yield: f64) -> f64 {
    let shape = std::f64::consts::PI / (3f64.sqrt() * h.investor_yield_sd);
    1.0 / (1.0 + (gross_yield / h.deposit_rate.at(year)).powf(shape))
}

/// This year's probability that the owner of a home they do not live in puts it on the market:
/// a yearly hazard of `rate` scaled by the market timing (`timing`: 1 − (1 − rate)^timing), or,
/// independently, because it yields too little (a share `sellers`, `yield_sellers`).
pub fn listing_probability(rate: f64, timing: f64, sellers: f64) -> f64 {
    1.0 - (1.0 - rate).powf(timing) * (1.0 - sellers)
}

/// This year's probability that an unsold listing is withdrawn (kept empty): a yearly hazard of
/// `rate` scaled by 1 / `timing`, for owners who do not sell on the yield (1 − `sellers`).
pub fn withdrawal_probability(rate: f64, timing: f64, sellers: f64) -> f64 {
    (1.0 - (1.0 - rate).powf(1.0 / timing)) * (1.0 - sellers)
}

/// The gross rental yield of buying a home of `area_quality` (floor area × quality) to let at
/// `ask`.
pub fn rental_yield_of(rent_per_m2: f64, area_quality: f32, ask: f32) -> f64 {
    rent_per_m2 * f64::from(area_quality) / f64::from(ask)
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
    /// A buy-to-let investor (local or from the surrounding counties): buys the best-yielding
    /// of the listings it views if it yields what this investor needs, and lets it.
    Investor,
}

#[derive(Clone, Copy, Debug)]
struct Mover {
    key: (u8, u64),
    kind: MoverKind,
    budget_yuan: f64,
    wants_to_buy: bool,
    /// Floor area × quality of the home an owner trades up from: only a bigger or better home
    /// is worth the move (0 for everyone else).
    better_than: f32,
}

/// The year's listings as buyers find them: every listing when the book opened, cheapest
/// first, and which are sold. A buyer views `housing.viewings` listings drawn at random from
/// those within the budget (the listings an online search with a price filter returns) and
/// takes the most home among those still for sale. What a buyer sees depends on the shares of
/// listings at each ask, not on how many there are, so a run at `--scale 0.1` trades as the
/// full city does.
struct ListingBook {
    /// Cheapest first; ties by dwelling id.
    listings: Vec<Listing>,
    sold: Vec<bool>,
    /// Every listing before it is sold (the cheapest left is at or after it).
    cheapest: usize,
    rent_per_m2: f64,
}

/// A listing as the book holds it: what buyers compare, copied from its dwelling when the book
/// opens (nothing changes a listing while the book is open), so that viewing one reads no
/// dwelling.
#[derive(Clone, Copy, Debug)]
struct Listing {
    ask: f32,
    /// Floor area × quality.
    area_quality: f32,
    id: DwellingId,
}

/// What a buyer's viewings found: whether one of them was a home they wanted (whether or not it
/// was still for sale by their turn: a bidder), and the home they take.
#[derive(Clone, Copy, Debug, PartialEq)]
struct Viewed {
    wanted: bool,
    taken: Option<DwellingId>,
}
/// The dwellings a year's trading starts from, each list in id order: occupied homes in
/// shanty estates (demolition candidates), empty homes to let, empty homes held by absent
/// owners, and listings; and the count of homes to let.
struct Openings {
    shanties: Vec<DwellingId>,
    to_let: Vec<DwellingId>,
    held: Vec<DwellingId>,
    for_sale: Vec<DwellingId>,
    rental_homes: u64,
}

impl Openings {
    /// One pass over the stock, split across threads by dwelling id, finds all the lists at
    /// once (each in id order).
    fn find(stock: &HousingStock) -> Self {
        let parts = par_parts(&stock.dwellings, |first, part| {
            let mut found = Openings {
                shanties: Vec::new(),
                to_let: Vec::new(),
                held: Vec::new(),
                for_sale: Vec::new(),
                rental_homes: 0,
            };
            for (j, d) in part.iter().enumerate() {
                let id = DwellingId((first + j) as u32);
                match d.state {
                    DwellingState::Occupied => {
                        if stock.estates[d.estate as usize].shanty {
                            found.shanties.push(id)
                        }
                    }
                    DwellingState::Vacant if d.to_let => found.to_let.push(id),
                    DwellingState::Vacant => found.held.push(id),
                    DwellingState::ForSale => found.for_sale.push(id),
                    DwellingState::Demolished => continue,
                }
                found.rental_homes += u64::from(d.to_let);
            }
            found
        });
        let join = |list: fn(&Openings) -> &Vec<DwellingId>| {
            parts.iter().flat_map(list).copied().collect()
        };
        Openings {
            shanties: join(|o| &o.shanties),
            to_let: join(|o| &o.to_let),
            held: join(|o| &o.held),
            for_sale: join(|o| &o.for_sale),
            rental_homes: parts.iter().map(|o| o.rental_homes).sum(),
        }
    }
}

impl ListingBook {
    /// The book of `listings` (in id order), investors reading yields at `rent_per_m2`.
    fn new(stock: &HousingStock, listings: &[DwellingId], rent_per_m2: f64) -> Self {
        let mut listings: Vec<Listing> = listings
            .iter()
            .map(|&id| {
                let dw = &stock.dwellings[id.0 as usize];
                Listing {
                    ask: dw.ask,
                    area_quality: dw.floor_area_m2 * stock.estates[dw.estate as usize].quality,
                    id,
                }
            })
            .collect();
        listings.sort_unstable_by(|a, b| a.ask.total_cmp(&b.ask).then(a.id.cmp(&b.id)));
        ListingBook {
            sold: vec![false; listings.len()],
            listings,
            cheapest: 0,
            rent_per_m2,
        }
    }

    /// Listings at opening.
    fn len(&self) -> usize {
        self.listings.len()
    }

    /// Of `viewings` listings drawn at random from those asking at most `budget` when the book
    /// opened, the buyer wants those bigger or better than `better_than` (floor area × quality)
    /// and takes the biggest and best of them still for sale (the cheaper among equals): a
    /// buyer spends the budget on as much home as it buys (Gilbert, Hawksworth & Swinney 2009;
    /// Baptista et al. 2016).
    fn buy(&mut self, budget: f64, better_than: f32, viewings: u32, rng: &mut SimRng) -> Viewed {
        let within = self
            .listings
            .partition_point(|l| f64::from(l.ask) <= budget);
        self.view(within, viewings, rng, |l| {
            (l.area_quality > better_than).then_some(f64::from(l.area_quality))
        })
    }

    /// Of `viewings` listings drawn at random from all, an investor wants those whose gross
    /// yield at this year's rent is at least `required`, and takes the best-yielding of them
    /// still for sale.
    fn invest(&mut self, required: f64, viewings: u32, rng: &mut SimRng) -> Viewed {
        let rent = self.rent_per_m2;
        self.view(self.listings.len(), viewings, rng, |l| {
            let y = rental_yield_of(rent, l.area_quality, l.ask);
            (y >= required).then_some(y)
        })
    }

    /// `viewings` draws from the first `within` listings at opening; `score` is `None` for a
    /// listing not wanted, else how much it is wanted. The best wanted listing still for sale is
    /// taken (the earlier, so the cheaper, among equals).
    fn view(
        &mut self,
        within: usize,
        viewings: u32,
        rng: &mut SimRng,
        score: impl Fn(&Listing) -> Option<f64>,
    ) -> Viewed {
        let mut found = Viewed {
            wanted: false,
            taken: None,
        };
        if within == 0 {
            return found;
        }
        let mut best: Option<(f64, usize)> = None;
        for _ in 0..viewings {
            let i = rng.below(within);
            let Some(s) = score(&self.listings[i]) else {
                continue;
            };
            found.wanted = true;
            let better = best.is_none_or(|(b, j)| s > b || (s == b && i < j));
            if !self.sold[i] && better {
                best = Some((s, i));
            }
        }
        found.taken = best.map(|(_, i)| self.take(i));
        found
    }

    /// The cheapest listing still for sale, for a renter when nothing else is empty (its owner
    /// lets it).
    fn take_cheapest(&mut self) -> Option<DwellingId> {
        while self.cheapest < self.listings.len() && self.sold[self.cheapest] {
            self.cheapest += 1;
        }
        (self.cheapest < self.listings.len()).then(|| self.take(self.cheapest))
    }

    fn take(&mut self, i: usize) -> DwellingId {
        debug_assert!(!self.sold[i]);
        self.sold[i] = true;
        self.listings[i].id
    }
}

// ---------------------------------------------------------------- systems

/// The yearly pass over the stock, before trading: unsold listings are withdrawn (kept empty)
/// or cut; empty homes are relisted by their owners; homes long empty in poor estates are
/// abandoned; then the
/// dwellings left behind this year are listed (sold by emigrants or heirs) or kept empty.
/// Every new listing asks `asking_price`.
pub fn release_vacated(
    params: Res<Params>,
    clock: Res<Clock>,
    market: Res<HousingMarket>,
    mut stock: ResMut<HousingStock>,
    mut vacated: ResMut<Vacated>,
    mut tally: ResMut<Tally>,
) {
    let h = &params.housing;
    let price = market.price_per_m2;
    let comparable = |d: &Dwelling, estates: &[Estate]| {
        home_value(d.floor_area_m2, estates[d.estate as usize].quality, price)
    };
    let list = |d: &mut Dwelling, estates: &[Estate]| {
        d.state = DwellingState::ForSale;
        d.to_let = false;
        let reference = f64::from(d.last_sale_price);
        d.ask = asking_price(h, comparable(d, estates), market.heat, reference) as f32;
    };
    // Owners of homes they do not live in list them more, and withdraw listings less, when buyers
    // compete for them and when the homes yield less than a deposit.
    let timing = market_timing(h, market.heat);
    let sellers = yield_sellers(h, clock.year, market.rent_per_m2 / price);
    // Owners who would sell at a gain time their listing sooner.
    let list_chance = |rate: f64, d: &Dwelling, estates: &[Estate]| {
        let gain = gain_timing(h, comparable(d, estates), f64::from(d.last_sale_price));
        listing_probability(rate, timing * gain, sellers)
    };
    let withdraw = withdrawal_probability(h.withdrawal_rate, timing, sellers);
    let HousingStock { dwellings, estates } = &mut *stock;
    let streams = Streams::new(clock.seed, clock.year, Stage::Housing);
    let abandoned = std::sync::atomic::AtomicU64::new(0);
    // Each dwelling draws from its own stream, so the pass splits across threads freely.
    par_parts_mut(dwellings, |first, part| {
        let mut gone = 0;
        for (j, d) in part.iter_mut().enumerate() {
            if !matches!(d.state, DwellingState::ForSale | DwellingState::Vacant) {
                continue;
            }
            d.empty_years = d.empty_years.saturating_add(1);
            let mut rng = streams.rng((first + j) as u64 | 1 << 40);
            match d.state {
                DwellingState::ForSale if d.ask == 0.0 => list(d, estates),
                DwellingState::ForSale => {
                    if rng.chance(withdraw) {
                        d.state = DwellingState::Vacant;
                        d.ask = 0.0;
                    } else {
                        d.ask *= (1.0 - h.ask_cut) as f32;
                    }
                }
                _ => {
                    if u32::from(d.empty_years) >= h.abandon_after_years
                        && f64::from(estates[d.estate as usize].quality) <= h.abandon_max_quality
                        && rng.chance(h.abandon_rate)
                    {
                        d.state = DwellingState::Demolished;
                        d.to_let = false;
                        gone += 1;
                    } else if rng.chance(list_chance(h.relist_rate, d, estates)) {
                        list(d, estates);
                    }
                }
            }
        }
        abandoned.fetch_add(gone, std::sync::atomic::Ordering::Relaxed);
    });
    tally.abandoned += abandoned.into_inner();
    let mut left = std::mem::take(&mut vacated.0);
    left.sort_unstable_by_key(|v| v.0);
    for (d, tenure, reason) in left {
        let (home, estates) = (&stock.dwellings[d.0 as usize], &stock.estates);
        let sell = match (tenure, reason) {
            (Tenure::Renter, _) => 0.0,
            (Tenure::Owner, VacateReason::Emigrated) => {
                list_chance(h.emigrant_sell_share, home, estates)
            }
            (Tenure::Owner, VacateReason::Dissolved) => {
                list_chance(h.heir_sell_share, home, estates)
            }
        };
        let listed =
            SimRng::new(clock.seed, clock.year, Stage::Housing, u64::from(d.0)).chance(sell);
        stock.release(d, DwellingState::Vacant);
        if listed {
            let HousingStock { dwellings, estates } = &mut *stock;
            list(&mut dwellings[d.0 as usize], estates);
        }
    }
}

/// New homes come on the market: the pipeline committed before the start (`completions`)
/// and what developers start this year (`housing_starts`), in new estates; each asks
/// `asking_price`.
pub fn build_estates(
    params: Res<Params>,
    clock: Res<Clock>,
    market: Res<HousingMarket>,
    mut stock: ResMut<HousingStock>,
    mut tally: ResMut<Tally>,
) {
    let h = &params.housing;
    let mut rng = SimRng::new(clock.seed, clock.year, Stage::Construction, 0);
    let starts = housing_starts(
        h,
        clock.year,
        stock.standing() as f64,
        market.price_per_m2,
        market.saleability,
    );
    let n = (h.completions.at(clock.year) * clock.scale + starts + rng.uniform()).floor() as u32;
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
            let area = (mean + sd * z).clamp(
                h.new_estate_min_floor_area_m2,
                params.city.max_floor_area_m2,
            ) as f32;
            let mut d = Dwelling::new(estate, area, DwellingState::ForSale);
            d.ask = asking_price(
                h,
                home_value(area, h.new_estate_quality as f32, market.price_per_m2),
                market.heat,
                0.0,
            ) as f32;
            stock.dwellings.push(d);
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
    let gain = owning_gain(h, year, price, market.rent_per_m2, market.trend);
    let relative_price = market.price_against_wages(labour.wage_index, params.city.price_per_m2);
    let buy = |base: f64| buy_probability(h, base, gain, relative_price);
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
        mut to_let,
        mut held,
        for_sale,
        rental_homes,
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
    // A household already here first considers moving (a yearly hazard), then chooses to buy
    // or not: the choice, not the hazard, follows the market, so a boom cannot send more
    // households looking than consider moving.
    let upgrade = h.upgrade_rate * buy(h.upgrade_buy_share);
    let displaced_buy = buy(h.displaced_buy_share);
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
                wants_to_buy: upgrade_streams.rng(u64::from(hid.0)).chance(displaced_buy),
                better_than: 0.0,
            });
        } else if upgrade_streams.rng(u64::from(hid.0)).chance(upgrade)
            && table.0[hid.0 as usize].members > 0
        {
            let (equity, better_than) = if hh.tenure == Tenure::Owner {
                (
                    (1.0 - h.selling_cost) * hh.home_value(price),
                    (h.trade_up_step as f32) * hh.floor_area_m2 * hh.quality,
                )
            } else {
                (0.0, 0.0)
            };
            upgraders.borrow_local_mut().push(Mover {
                key: (1, u64::from(hid.0)),
                kind: MoverKind::Existing {
                    hid,
                    must_move: false,
                },
                budget_yuan: budget() + equity,
                wants_to_buy: true,
                better_than,
            });
        }
    });
    let mut movers: Vec<Mover> = upgraders.drain().collect();
    let form_buy = buy(h.new_household_buy_share);
    for (i, f) in formations.iter().enumerate() {
        let income: f64 = f.iter().map(|l| f64::from(l.income_yuan)).sum();
        let mut r = SimRng::new(clock.seed, year, Stage::Housing, f[0].id.0 | 1 << 50);
        movers.push(Mover {
            key: (2, f[0].id.0),
            kind: MoverKind::Formation(i),
            budget_yuan: h.price_to_income_limit * income,
            wants_to_buy: r.chance(form_buy),
            better_than: 0.0,
        });
    }
    let arrival_buy = buy(h.immigrant_buy_share);
    for (i, a) in arrivals.iter().enumerate() {
        let adults = a.members.iter().filter(|m| m.person.age >= 18).count() as f64;
        let mut r = SimRng::new(clock.seed, year, Stage::Housing, i as u64 | 1 << 51);
        movers.push(Mover {
            key: (3, i as u64),
            kind: MoverKind::Arrival(i),
            budget_yuan: h.price_to_income_limit * mean_wage * adults + f64::from(a.savings_yuan),
            wants_to_buy: r.chance(arrival_buy),
            better_than: 0.0,
        });
    }
    let investors = (h.investors_per_1000 * n_households / 1000.0 + rng.uniform()).floor() as u64;
    movers.extend((0..investors).map(|i| Mover {
        key: (4, i),
        kind: MoverKind::Investor,
        budget_yuan: 0.0,
        wants_to_buy: true,
        better_than: 0.0,
    }));
    // Keys are unique, so any sort gives this order. A stable sort merges the long runs the
    // movers come in (each part of the households in id order, then formations, arrivals and
    // investors, each in key order) instead of sorting them from scratch.
    movers.sort_by_key(|m| m.key);
    let mut rng = SimRng::new(clock.seed, year, Stage::Housing, 0);
    shuffle(&mut movers, &mut rng);

    // Match. Buyers view listings within their budget; renters take an empty home to let,
    // else one an absent owner lets for the first time, else the cheapest listing.
    let mut book = ListingBook::new(&stock, &for_sale, market.rent_per_m2);
    let listings = book.len();
    shuffle(&mut to_let, &mut rng);
    shuffle(&mut held, &mut rng);
    let let_empty = to_let.len() as u64;
    let mut placed: Vec<(Mover, DwellingId, Tenure)> = Vec::new();
    let mut let_out: Vec<DwellingId> = Vec::new();
    // Bidders: buyers who viewed a home they wanted within their budget, or investors a home
    // yielding what they need, whether or not it was still for sale by their turn.
    let (mut buyers, mut bidders, mut lettings) = (0u64, 0u64, 0u64);
    for m in movers {
        if matches!(m.kind, MoverKind::Investor) {
            buyers += 1;
            let z: f64 = rand::RngExt::sample(&mut rng, rand_distr::StandardNormal);
            let required = h.investor_yield * (h.investor_yield_sd * z).exp();
            let viewed = book.invest(required, h.viewings, &mut rng);
            bidders += u64::from(viewed.wanted);
            let_out.extend(viewed.taken);
            continue;
        }
        let must_move = !matches!(
            m.kind,
            MoverKind::Existing {
                must_move: false,
                ..
            }
        );
        if m.wants_to_buy {
            buyers += 1;
            let viewed = book.buy(m.budget_yuan, m.better_than, h.viewings, &mut rng);
            bidders += u64::from(viewed.wanted);
            if let Some(d) = viewed.taken {
                placed.push((m, d, Tenure::Owner));
                continue;
            }
        }
        if must_move {
            let d = if let Some(d) = to_let.pop() {
                lettings += 1;
                Some(d)
            } else {
                held.pop().or_else(|| book.take_cheapest())
            };
            if let Some(d) = d {
                placed.push((m, d, Tenure::Renter));
            }
        }
    }

    // Renters placed in homes that were not to let before: their absent owners now let them.
    let renters = placed.iter().filter(|p| p.2 == Tenure::Renter).count() as u64;
    let new_rentals = renters - lettings;

    // Apply moves. The price index sums what the homes sold for and their floor area ×
    // quality.
    let (mut paid, mut sold_area_quality, mut sales) = (0.0f64, 0.0f64, 0u64);
    let mut sell = |stock: &mut HousingStock, tally: &mut Tally, d: DwellingId| -> f64 {
        let dw = &mut stock.dwellings[d.0 as usize];
        let ask = f64::from(dw.ask);
        dw.last_sale_price = dw.ask;
        let quality = stock.estates[dw.estate as usize].quality;
        paid += ask;
        sold_area_quality += f64::from(dw.floor_area_m2 * quality);
        tally.count_sale(dw.estate);
        sales += 1;
        ask
    };
    for &d in &let_out {
        sell(&mut stock, &mut tally, d);
        let dw = &mut stock.dwellings[d.0 as usize];
        dw.state = DwellingState::Vacant;
        dw.ask = 0.0;
        dw.to_let = true;
    }
    let mut existing: Vec<(HouseholdId, DwellingId, Tenure, f64)> = Vec::new();
    // Every arriving resident, collected for one `place_newcomers`: they take the rows of the
    // year's departed.
    let mut newcomers = Vec::new();
    for (m, d, tenure) in placed {
        let cost = if tenure == Tenure::Owner {
            sell(&mut stock, &mut tally, d)
        } else {
            0.0
        };
        match m.kind {
            MoverKind::Existing { hid, .. } => {
                stock.occupy(d, hid, tenure);
                existing.push((hid, d, tenure, cost));
            }
            MoverKind::Formation(i) => {
                let hid = ids.household();
                stock.occupy(d, hid, tenure);
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
                stock.occupy(d, hid, tenure);
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
            MoverKind::Investor => unreachable!("investors are not placed"),
        }
    }
    departed.place_newcomers(&mut commands, newcomers);
    // Homes left by renters moving out stay to let; owners who bought up list the old home
    // (it is priced in next year's pass).
    let mut rental_homes = rental_homes + let_out.len() as u64 + new_rentals;
    let mut let_empty = let_empty - lettings + let_out.len() as u64;
    for (hid, d, tenure, cost) in existing {
        if let Some(hh) = households.get_mut(hid) {
            let old = hh.dwelling;
            if stock.dwellings[old.0 as usize].occupant == Some(hid) {
                if hh.tenure == Tenure::Owner {
                    stock.release(old, DwellingState::ForSale);
                } else {
                    stock.release(old, DwellingState::Vacant);
                    let_empty += 1;
                }
            } else if hh.tenure == Tenure::Renter {
                // Their home was demolished: it no longer counts as a home to let.
                rental_homes = rental_homes.saturating_sub(1);
            }
            let savings = if tenure == Tenure::Owner {
                (f64::from(hh.savings_yuan) - h.down_payment_share * cost).max(0.0) as f32
            } else {
                hh.savings_yuan
            };
            *hh = stock.household(d, tenure, savings);
        }
    }

    tally.listings += listings as u64;
    tally.buyers += buyers;
    tally.transactions += sales;
    tally.investor_purchases += let_out.len() as u64;
    let rental_vacancy = rental_vacancy_of(h, let_empty, rental_homes, held.len() as u64);
    market.rental_vacancy = rental_vacancy;
    market.rent_per_m2 = next_rent(h, market.rent_per_m2, rental_vacancy);
    if sold_area_quality > 0.0 {
        let new_price = paid / sold_area_quality;
        market.last_growth = new_price / price - 1.0;
        market.price_per_m2 = new_price;
    } else {
        market.last_growth = 0.0;
    }
    market.saleability = market_ratio(sales, listings as u64);
    market.heat = learn(h, market.heat, market_ratio(bidders, listings as u64));
    market.trend = learn(h, market.trend, market.last_growth);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sellers_ask_more_when_buyers_compete_and_less_when_homes_sit() {
        let h = crate::config::baseline().housing;
        let comparable = 600_000.0;
        let hot = asking_price(&h, comparable, 3.0, 0.0);
        let even = asking_price(&h, comparable, 1.0, 0.0);
        let cold = asking_price(&h, comparable, 0.2, 0.0);
        assert!(hot > even && even > cold, "{hot} {even} {cold}");
        assert!((even / comparable - h.ask_markup.exp()).abs() < 1e-12);
        assert!(cold > 0.0);
        assert_eq!(market_ratio(0, 0), 1.0);
        assert_eq!(market_ratio(9, 19), 0.5);
    }

    #[test]
    fn readings_of_the_market_average_past_years() {
        let mut h = crate::config::baseline().housing;
        h.market_memory = 0.5;
        assert_eq!(learn(&h, 0.1, -0.1), 0.0);
        h.market_memory = 0.0;
        assert_eq!(learn(&h, 0.1, -0.1), -0.1, "no memory: last year only");
    }

    #[test]
    fn buying_gains_with_rents_and_expected_growth_and_loses_with_mortgage_rates() {
        let mut h = crate::config::baseline().housing;
        h.national_expectation_weight = 0.0;
        let base = owning_gain(&h, 2020, 8000.0, 200.0, 0.0);
        assert!(owning_gain(&h, 2020, 8000.0, 300.0, 0.0) > base);
        assert!(owning_gain(&h, 2020, 8000.0, 200.0, 0.05) > base);
        assert!(owning_gain(&h, 2020, 8000.0, 200.0, -0.05) < base);
        let mut dear = h.clone();
        dear.mortgage_rate = crate::config::Series(vec![(2015, 0.1)]);
        assert!(owning_gain(&dear, 2020, 8000.0, 200.0, 0.0) < base);
        assert!(
            (base - (200.0 / 8000.0 - h.mortgage_rate.at(2020) - h.holding_cost)).abs() < 1e-12
        );
    }

    /// Buyers read the growth they expect partly from the nation's prices of last year: with
    /// the city flat, a national fall makes buying worse by national_expectation_weight × fall.
    #[test]
    fn buyers_expect_part_of_last_years_national_growth() {
        let mut h = crate::config::baseline().housing;
        h.national_price_growth =
            crate::config::Series(vec![(2015, 0.0), (2019, 0.0), (2020, -0.1)]);
        h.expectation_weight = 0.5;
        h.national_expectation_weight = 0.0;
        let gain = |h: &HousingConfig, year, trend| owning_gain(h, year, 8000.0, 200.0, trend);
        let (plain_2020, plain_2021) = (gain(&h, 2020, 0.0), gain(&h, 2021, 0.0));
        h.national_expectation_weight = 0.4;
        let after_fall = gain(&h, 2021, 0.0);
        assert!(
            (plain_2021 - after_fall - 0.04).abs() < 1e-12,
            "{plain_2021} {after_fall}"
        );
        // The fall of 2020 is news in 2021, not in 2020.
        assert!((gain(&h, 2020, 0.0) - plain_2020).abs() < 1e-12);
        // The city's own trend adds its own share, whatever the national weight.
        let mixed = gain(&h, 2020, 0.05);
        assert!((mixed - plain_2020 - 0.5 * 0.05).abs() < 1e-12, "{mixed}");
    }

    /// An owner who would sell at a gain lists sooner, by (value / cost)^gain_listing; one facing a
    /// loss, or who never bought, lists at the market's timing alone.
    #[test]
    fn owners_facing_a_gain_list_sooner_and_others_at_the_markets_timing() {
        let mut h = crate::config::baseline().housing;
        h.gain_listing = 2.0;
        assert!((gain_timing(&h, 1_200_000.0, 1_000_000.0) - 1.44).abs() < 1e-12);
        assert_eq!(gain_timing(&h, 800_000.0, 1_000_000.0), 1.0);
        assert_eq!(gain_timing(&h, 800_000.0, 0.0), 1.0);
        // The gain raises the yearly listing probability, which stays a probability.
        let plain = listing_probability(0.12, 1.0, 0.0);
        let keen = listing_probability(0.12, gain_timing(&h, 2_000_000.0, 1_000_000.0), 0.0);
        assert!(keen > plain && keen < 1.0, "{plain} {keen}");
        h.gain_listing = 0.0;
        assert_eq!(gain_timing(&h, 2_000_000.0, 1_000_000.0), 1.0);
    }

    #[test]
    fn the_choice_to_buy_is_a_logit_around_its_base_share() {
        let h = crate::config::baseline().housing;
        assert!((buy_probability(&h, 0.4, 0.0, 1.0) - 0.4).abs() < 1e-12);
        let better = buy_probability(&h, 0.4, 0.05, 1.0);
        let worse = buy_probability(&h, 0.4, -0.05, 1.0);
        assert!(better > 0.4 && worse < 0.4 && worse > 0.0 && better < 1.0);
        assert_eq!(buy_probability(&h, 1.0, -1.0, 1.0), 1.0);
        assert_eq!(buy_probability(&h, 0.0, 1.0, 1.0), 0.0);
        // Dearer homes relative to wages: fewer buyers; cheaper: more.
        assert!(buy_probability(&h, 0.4, 0.0, 2.0) < 0.4);
        assert!(buy_probability(&h, 0.4, 0.0, 0.5) > 0.4);
    }

    #[test]
    fn absent_owners_empty_homes_count_as_homes_to_let_at_their_share() {
        let mut h = crate::config::baseline().housing;
        h.held_let_share = 0.0;
        assert_eq!(rental_vacancy_of(&h, 10, 100, 50), 0.1);
        h.held_let_share = 1.0;
        assert_eq!(rental_vacancy_of(&h, 10, 100, 50), 60.0 / 150.0);
        h.held_let_share = 0.5;
        assert_eq!(rental_vacancy_of(&h, 10, 100, 50), 35.0 / 125.0);
        assert_eq!(rental_vacancy_of(&h, 0, 0, 0), 0.0);
        // A city with many empty homes of absent owners cuts rents even when every home already
        // let is taken.
        let rent = next_rent(&h, 200.0, rental_vacancy_of(&h, 0, 100, 200));
        assert!(rent < 200.0, "{rent}");
    }

    #[test]
    fn rents_rise_when_few_homes_to_let_stand_empty_and_fall_when_many_do() {
        let h = crate::config::baseline().housing;
        assert!(next_rent(&h, 200.0, 0.0) > 200.0);
        assert!(next_rent(&h, 200.0, 0.6) < 200.0);
        assert!((next_rent(&h, 200.0, h.natural_rental_vacancy) - 200.0).abs() < 1e-9);
        assert!(next_rent(&h, 200.0, 1.0) > 0.0);
    }

    #[test]
    fn owners_list_more_and_withdraw_less_when_buyers_compete() {
        let mut h = crate::config::baseline().housing;
        h.listing_heat = 1.0;
        assert_eq!(market_timing(&h, 1.0), 1.0);
        assert!(
            (listing_probability(0.12, 1.0, 0.0) - 0.12).abs() < 1e-12,
            "the base rate"
        );
        let (hot, cold) = (
            listing_probability(0.12, market_timing(&h, 4.0), 0.0),
            listing_probability(0.12, market_timing(&h, 0.25), 0.0),
        );
        assert!(hot > 0.12 && cold < 0.12, "{hot} {cold}");
        assert!(
            listing_probability(0.12, 1e6, 0.0) <= 1.0,
            "a probability however hot"
        );
        assert!((withdrawal_probability(0.3, 1.0, 0.0) - 0.3).abs() < 1e-12);
        assert!(
            withdrawal_probability(0.3, market_timing(&h, 4.0), 0.0) < 0.3,
            "withdrawals fall as heat rises"
        );
        h.listing_heat = 0.0;
        assert_eq!(market_timing(&h, 4.0), 1.0, "no timing: the base rate");
    }

    #[test]
    fn owners_of_homes_they_do_not_live_in_sell_when_rents_yield_less_than_a_deposit() {
        let mut h = crate::config::baseline().housing;
        h.deposit_rate = crate::config::Series(vec![(2015, 0.02)]);
        h.investor_yield_sd = 0.3;
        let share = |y: f64| yield_sellers(&h, 2020, y);
        assert!(
            (share(0.02) - 0.5).abs() < 1e-12,
            "half at the deposit rate"
        );
        assert!(share(0.01) > share(0.015) && share(0.015) > 0.5 && share(0.03) < 0.5);
        assert!(share(1e-9) <= 1.0 && share(1e-9) > 0.999 && share(1.0) >= 0.0);
        // Needs spread like investors': the log-odds move by π / (√3 sd) per unit of log yield.
        let logit = |p: f64| (p / (1.0 - p)).ln();
        let slope = (logit(share(0.01)) - logit(share(0.03))) / 3f64.ln();
        assert!((slope - std::f64::consts::PI / (3f64.sqrt() * 0.3)).abs() < 1e-9);
        // More spread: fewer sell below the deposit rate.
        let narrow = share(0.01);
        h.investor_yield_sd = 0.6;
        assert!(yield_sellers(&h, 2020, 0.01) < narrow);
        // Those who sell on the yield list, and do not withdraw.
        assert!((listing_probability(0.12, 1.0, 0.5) - (1.0 - 0.88 * 0.5)).abs() < 1e-12);
        assert!((withdrawal_probability(0.3, 1.0, 0.5) - 0.15).abs() < 1e-12);
        assert_eq!(listing_probability(0.12, 1.0, 1.0), 1.0);
        assert_eq!(withdrawal_probability(0.3, 1.0, 1.0), 0.0);
    }

    #[test]
    fn developers_build_only_when_a_new_home_sells_above_its_cost() {
        let h = crate::config::baseline().housing;
        let cost = h.construction_cost.at(2030);
        let break_even = cost / h.new_estate_quality;
        assert_eq!(housing_starts(&h, 2030, 1e5, 0.9 * break_even, 1.0), 0.0);
        let some = housing_starts(&h, 2030, 1e5, 1.5 * break_even, 1.0);
        let more = housing_starts(&h, 2030, 1e5, 2.0 * break_even, 1.0);
        assert!(more > some && some > 0.0);
        assert!(housing_starts(&h, 2030, 1e5, 1.5 * break_even, 0.5) < some);
    }

    #[test]
    fn owners_facing_a_loss_ask_more_and_deeper_losses_more_still() {
        let h = crate::config::baseline().housing;
        let comparable = 500_000.0;
        let plain = asking_price(&h, comparable, 1.0, 0.0);
        assert_eq!(
            asking_price(&h, comparable, 1.0, 400_000.0),
            plain,
            "a gain: no premium"
        );
        let small = asking_price(&h, comparable, 1.0, 550_000.0);
        let deep = asking_price(&h, comparable, 1.0, 900_000.0);
        assert!(deep > small && small > plain, "{deep} {small} {plain}");
        // The premium is loss_aversion x the log loss.
        let expected = plain * (h.loss_aversion * (900_000.0f64 / comparable).ln()).exp();
        assert!((deep - expected).abs() < 1e-6 * deep);
    }

    /// Two estates of quality 0.6 and 1.4, each with two 100 m² listings asking `asks`.
    fn two_estates(asks: [[f32; 2]; 2]) -> HousingStock {
        let mut stock = HousingStock::default();
        for q in [0.6f32, 1.4] {
            stock.estates.push(Estate {
                quality: q,
                build_year: 2000,
                shanty: false,
            });
        }
        for e in [0u32, 1] {
            for ask in asks[e as usize] {
                let mut d = Dwelling::new(e, 100.0, DwellingState::ForSale);
                d.ask = ask;
                stock.dwellings.push(d);
            }
        }
        stock
    }

    #[test]
    fn buyers_take_the_most_home_they_view_within_their_budget() {
        crate::engine::par::init_task_pool(None);
        // Floor area × quality 60, 60, 140, 140 asking 250k, 300k, 800k, 900k.
        let stock = two_estates([[300_000.0, 250_000.0], [900_000.0, 800_000.0]]);
        let mut rng = SimRng::new(1, 2020, Stage::Housing, 0);
        let mut book = ListingBook::new(&stock, &Openings::find(&stock).for_sale, 200.0);
        assert_eq!(book.len(), 4);
        // With many viewings a buyer sees every listing within the budget: the better estate
        // at 850,000 (the cheaper of the two equal homes first), the bigger home at 280,000.
        let taken = |v: Viewed| v.taken;
        assert_eq!(
            taken(book.buy(850_000.0, 0.0, 200, &mut rng)),
            Some(DwellingId(3))
        );
        assert_eq!(
            taken(book.buy(1e9, 0.0, 200, &mut rng)),
            Some(DwellingId(2))
        );
        assert_eq!(
            taken(book.buy(280_000.0, 0.0, 200, &mut rng)),
            Some(DwellingId(1))
        );
        // The one home within 280,000 has gone: the buyer wanted it but finds nothing.
        let late = book.buy(280_000.0, 0.0, 200, &mut rng);
        assert_eq!(
            late,
            Viewed {
                wanted: true,
                taken: None
            }
        );
        // Nothing is within 200,000, and an owner of a home of 61 wants none of what is left.
        let none = Viewed {
            wanted: false,
            taken: None,
        };
        assert_eq!(book.buy(200_000.0, 0.0, 200, &mut rng), none);
        assert_eq!(
            book.buy(1e9, 61.0, 200, &mut rng),
            Viewed {
                wanted: true,
                taken: None
            }
        );
        assert_eq!(book.take_cheapest(), Some(DwellingId(0)));
        assert_eq!(book.take_cheapest(), None);
    }

    #[test]
    fn investors_take_the_best_yield_they_view_only_when_it_pays_what_they_need() {
        crate::engine::par::init_task_pool(None);
        // Yields at a rent of 200 a quality-m²: 4% and 4.8% in the poor estate, 3.5% and 3.1%
        // in the good one.
        let stock = two_estates([[300_000.0, 250_000.0], [800_000.0, 900_000.0]]);
        let mut rng = SimRng::new(1, 2020, Stage::Housing, 0);
        let mut book = ListingBook::new(&stock, &Openings::find(&stock).for_sale, 200.0);
        let mut invest = |required| book.invest(required, 200, &mut rng).taken;
        assert_eq!(invest(0.05), None);
        assert_eq!(invest(0.045), Some(DwellingId(1)));
        assert_eq!(invest(0.034), Some(DwellingId(0)));
        assert_eq!(invest(0.034), Some(DwellingId(2)));
        assert_eq!(invest(0.034), None);
        // One viewing sees one listing: over many investors, each listing is taken about as
        // often.
        let mut counts = [0u32; 4];
        for seed in 0..4000 {
            let mut rng = SimRng::new(seed, 2020, Stage::Housing, 0);
            let mut book = ListingBook::new(&stock, &Openings::find(&stock).for_sale, 200.0);
            let d = book
                .invest(0.0, 1, &mut rng)
                .taken
                .expect("every listing pays");
            counts[d.0 as usize] += 1;
        }
        assert!(
            counts.iter().all(|&c| (900..1100).contains(&c)),
            "{counts:?}"
        );
    }

    /// A buyer's viewings read the shares of listings at each ask, not their number: a city of
    /// ten times the listings and ten times the buyers sells at the same prices. (Taking each
    /// estate's cheapest listing makes what buyers pay fall with the listings per estate: docs/
    /// MODEL.md, calibration step 10.)
    #[test]
    fn what_buyers_pay_does_not_depend_on_the_number_of_listings() {
        crate::engine::par::init_task_pool(None);
        let mean_paid_per_area = |n: u32, seed: u64| {
            let mut rng = SimRng::new(seed, 2020, Stage::Housing, 0);
            let mut stock = HousingStock::default();
            for e in 0..30u32 {
                stock.estates.push(Estate {
                    quality: 0.5 + e as f32 / 30.0,
                    build_year: 2000,
                    shanty: false,
                });
            }
            for _ in 0..n {
                let e = rng.below(30) as u32;
                let mut d = Dwelling::new(
                    e,
                    50.0 + rng.uniform() as f32 * 70.0,
                    DwellingState::ForSale,
                );
                let per_area = 6000.0 * (0.3 * rng.uniform()).exp();
                d.ask = (per_area
                    * f64::from(d.floor_area_m2)
                    * f64::from(stock.estates[e as usize].quality)) as f32;
                stock.dwellings.push(d);
            }
            let mut book = ListingBook::new(&stock, &Openings::find(&stock).for_sale, 200.0);
            let (mut paid, mut area) = (0.0, 0.0);
            for _ in 0..n / 2 {
                let budget = 300_000.0 + 600_000.0 * rng.uniform();
                if let Some(d) = book.buy(budget, 0.0, 10, &mut rng).taken {
                    let dw = &stock.dwellings[d.0 as usize];
                    paid += f64::from(dw.ask);
                    area += f64::from(dw.floor_area_m2 * stock.estates[dw.estate as usize].quality);
                }
            }
            paid / area
        };
        let small: f64 = (0..10).map(|s| mean_paid_per_area(300, s)).sum::<f64>() / 10.0;
        let large = mean_paid_per_area(3000, 99);
        assert!((large / small - 1.0).abs() < 0.01, "{small} {large}");
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
            let mut d = Dwelling::new(i % 3 % 2, 80.0, states[(i * 7 % 11 % 4) as usize]);
            d.to_let = i % 5 == 0;
            stock.dwellings.push(d);
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
        let vacant = |d: &Dwelling| d.state == DwellingState::Vacant;
        assert_eq!(found.to_let, scan(&|d| vacant(d) && d.to_let));
        assert_eq!(found.held, scan(&|d| vacant(d) && !d.to_let));
        assert_eq!(found.for_sale, scan(&|d| d.state == DwellingState::ForSale));
        let standing_to_let = scan(&|d| d.to_let && d.state != DwellingState::Demolished);
        assert_eq!(found.rental_homes, standing_to_let.len() as u64);
        assert!(
            !found.shanties.is_empty()
                && !found.to_let.is_empty()
                && !found.held.is_empty()
                && !found.for_sale.is_empty()
        );
    }
}
