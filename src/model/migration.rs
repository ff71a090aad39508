//! Migration: each year every household (its head deciding for all members) and every young
//! adult living with parents weighs leaving in a logit random-utility model; a realisation
//! rate turns few intentions into moves. The positive term that weighs most is recorded as
//! the move's driver. A small inflow of households (newcomers drawn by cheap housing, and
//! returnees) arrives and is housed by the housing step.

use bevy_ecs::prelude::*;
use bevy_ecs::utils::Parallel;
use serde::{Deserialize, Serialize};

use crate::config::{Config, MigrationConfig, Sector};
use crate::engine::rng::{SimRng, Stage, Streams, poisson};
use crate::engine::{Clock, Params};
use crate::model::handoff::{Arrival, Arrivals, Newcomer, VacateReason, Vacated};
use crate::model::household::{HouseholdTable, Households, Tenure};
use crate::model::housing::HousingMarket;
use crate::model::labour::{LabourMarket, income_for};
use crate::model::resident::{
    AgentId, Departed, HouseholdId, Ids, Income, Job, Member, Person, Role, Sex, Status, Traits,
    Work,
};
use crate::model::tally::Tally;

/// City-wide conditions every decision this year sees.
#[derive(Clone, Copy, Debug, Default)]
pub struct Conditions {
    pub destination_wage: f64,
    pub local_mean_wage: f64,
    /// Winter harshness relative to the destination (1 = lows `coldness_scale_c` colder).
    pub coldness: f64,
    /// 0 = services as good as the destination's, 1 = none.
    pub service_gap: f64,
    pub amenity_gap: f64,
    /// Last year's sales / listings: can a home be sold?
    pub saleability: f64,
    /// Last year's price growth (fraction).
    pub price_growth: f64,
    /// This year's hires over job seekers: the chance that a year of local search found a job.
    pub job_finding: f64,
}

/// What one decider brings to the decision.
#[derive(Clone, Copy, Debug, Default)]
pub struct Decider {
    pub age: u8,
    pub unemployed_share: f64,
    /// Wage per earner; `None` when nobody in the unit earns or seeks a wage.
    pub own_wage: Option<f64>,
    pub tolerance: f64,
    pub attachment: f64,
    /// Children or elderly in the unit, or a student: services matter.
    pub needs_services: bool,
    pub owner: bool,
    /// Share of the decider's birth cohort already gone.
    pub network: f64,
    /// Share of the children's generation already gone (for deciders of `family_min_age`+).
    pub family: f64,
}

// ---------------------------------------------------------------- rules

/// The utility of leaving, and its positive terms, one per driver.
pub fn utility(m: &MigrationConfig, c: &Conditions, d: &Decider) -> (f64, ByDriver<f64>) {
    let wage_gap = d.own_wage.map_or(0.0, |w| {
        (c.destination_wage / w.max(1.0)).ln().clamp(0.0, 3.0)
    });
    let mut terms = ByDriver([0.0; Driver::ALL.len()]);
    terms[Driver::JobLoss] = m.unemployed_weight * d.unemployed_share;
    terms[Driver::Wages] = m.wage_weight * wage_gap;
    terms[Driver::Climate] = m.climate_weight * (1.0 - d.tolerance) * c.coldness;
    terms[Driver::PublicServices] =
        m.services_weight * c.service_gap * f64::from(u8::from(d.needs_services));
    terms[Driver::Amenities] =
        m.amenity_weight * c.amenity_gap * f64::from(u8::from(d.age < m.amenity_max_age));
    terms[Driver::Housing] =
        m.housing_weight * (-c.price_growth).max(0.0) * f64::from(u8::from(d.owner));
    terms[Driver::Network] = m.network_weight * d.network;
    terms[Driver::Family] = m.family_weight * d.family;
    let band = usize::from(d.age / 5).min(m.age_effects.len() - 1);
    let v = m.intercept + m.age_effects[band] + terms.0.iter().sum::<f64>()
        - m.owner_lockin_weight * f64::from(u8::from(d.owner)) * (1.0 - c.saleability)
        - m.attachment_weight * d.attachment;
    (v, terms)
}

/// The birth year of the children's generation whose departures a decider aged `age`, born
/// in `birth`, weighs in the family term: `family_generation_gap_years` later. `None` below
/// `family_min_age`, where the term is 0.
pub fn family_cohort(m: &MigrationConfig, age: u8, birth: i32) -> Option<i32> {
    (age >= m.family_min_age).then(|| birth + i32::from(m.family_generation_gap_years))
}

pub fn leave_probability(rate: f64, v: f64) -> f64 {
    rate / (1.0 + (-v).exp())
}

/// The yearly realisation rate of a decider whose unit has `unemployed_share` of its labour
/// force unemployed: the base rate, plus `unemployed_realisation_rate` for each unemployed
/// share times the chance that a year of local search failed (1 − `job_finding`). The
/// unemployed move more than the employed, and more the worse the local market
/// (Pissarides & Wadsworth 1989; Arntz 2005: unemployed searchers leave slack regions): no
/// job ties them, and what keeps them is the chance of a local job.
pub fn realisation_rate(
    m: &MigrationConfig,
    base: f64,
    unemployed_share: f64,
    job_finding: f64,
) -> f64 {
    base + m.unemployed_realisation_rate
        * unemployed_share.clamp(0.0, 1.0)
        * (1.0 - job_finding).clamp(0.0, 1.0)
}

/// The driver of the largest term (the first of equal ones).
pub fn main_driver(terms: &ByDriver<f64>) -> Driver {
    let mut best = Driver::ALL[0];
    for (driver, t) in terms.iter() {
        if *t > terms[best] {
            best = driver;
        }
    }
    best
}

pub fn conditions(
    c: &Config,
    year: i32,
    labour: &LabourMarket,
    housing: &HousingMarket,
) -> Conditions {
    let s = &c.city.services;
    let p = &c.policy;
    let doctors = s.doctors_per_1000 + p.doctors_per_1000_gain.at(year);
    let school = (s.school_quality + p.school_quality_gain.at(year)).min(1.0);
    let amenity = (s.amenity_index + p.amenity_gain.at(year)).min(1.0);
    let cl = &c.city.climate;
    let m = &c.migration;
    let w = m.doctors_gap_weight;
    Conditions {
        destination_wage: labour.destination_wage,
        local_mean_wage: crate::model::labour::local_mean_wage(c, year, labour),
        coldness: (cl.destination_winter_low_c - cl.winter_low_c).max(0.0) / m.coldness_scale_c
            * cl.winter_severity.at(year),
        service_gap: w * (1.0 - doctors / s.destination_doctors_per_1000).max(0.0)
            + (1.0 - w) * (1.0 - school),
        amenity_gap: 1.0 - amenity,
        saleability: housing.saleability,
        price_growth: housing.last_growth,
        job_finding: labour.job_finding_rate,
    }
}

// ---------------------------------------------------------------- systems

/// Last year's emigrant households, for returnees.
#[derive(Resource, Clone, Debug, Default, Serialize, Deserialize)]
pub struct MigrationState {
    pub last_emigrant_households: u64,
    pub this_year_emigrant_households: u64,
}

/// A resident leaving the city this year.
struct Emigrant {
    id: AgentId,
    entity: Entity,
    /// The main reason.
    driver: Driver,
    age: u8,
    /// A young adult leaving alone: the household left behind and the income taken away.
    alone_from: Option<(HouseholdId, f32)>,
}

pub fn emigrate(
    params: Res<Params>,
    clock: Res<Clock>,
    ids: Res<Ids>,
    labour: Res<LabourMarket>,
    housing: Res<HousingMarket>,
    mut tally: ResMut<Tally>,
    mut cohorts: ResMut<Cohorts>,
    mut state: ResMut<MigrationState>,
    mut vacated: ResMut<Vacated>,
    mut household_table: ResMut<HouseholdTable>,
    mut households: ResMut<Households>,
    mut departed: ResMut<Departed>,
    residents: Query<(Entity, &AgentId, &Person, &Work, &Traits, &Member)>,
) {
    let m = &params.migration;
    let year = clock.year;
    let cond = conditions(&params, year, &labour, &housing);
    let table = &household_table.0;
    let cohorts_ro = &*cohorts;

    let household_streams = Streams::new(clock.seed, year, Stage::HouseholdMigration);
    let top = realisation_rate(m, m.realisation_rate, 1.0, cond.job_finding);
    let young_top = realisation_rate(m, m.young_realisation_rate, 1.0, cond.job_finding);
    let young_streams = Streams::new(clock.seed, year, Stage::YoungMigration);
    // Households: the head decides for everyone.
    let mut leaving: Parallel<Vec<(HouseholdId, Driver)>> = Parallel::default();
    households.par_for_each(|hid, hh| {
        // The draw comes first: a move needs it below `leave_probability`, which never
        // exceeds the realisation rate (at most `top`), so most households are settled
        // without the utility.
        let draw = household_streams.rng(u64::from(hid.0)).uniform();
        if draw >= top {
            return;
        }
        let s = &table[hid.0 as usize];
        if s.heads == 0 {
            return;
        }
        let unemployed_share = f64::from(s.unemployed) / f64::from(s.labour_force.max(1));
        let rate = realisation_rate(m, m.realisation_rate, unemployed_share, cond.job_finding);
        if draw >= rate {
            return;
        }
        let own_wage = if s.earners > 0 {
            Some(f64::from(s.income_yuan) / f64::from(s.earners))
        } else if s.labour_force > 0 {
            Some(cond.local_mean_wage)
        } else {
            None
        };
        let birth = year - i32::from(s.head_age);
        let d = Decider {
            age: s.head_age,
            unemployed_share,
            own_wage,
            tolerance: f64::from(s.head_tolerance),
            attachment: f64::from(s.head_attachment),
            needs_services: s.children > 0 || s.elderly > 0,
            owner: hh.tenure == Tenure::Owner,
            network: cohorts_ro.left_share(birth),
            family: family_cohort(m, s.head_age, birth).map_or(0.0, |c| cohorts_ro.left_share(c)),
        };
        let (v, terms) = utility(m, &cond, &d);
        if draw < leave_probability(rate, v) {
            leaving.borrow_local_mut().push((hid, main_driver(&terms)));
        }
    });
    let mut leaving: Vec<_> = leaving.drain().collect();
    leaving.sort_unstable_by_key(|l| l.0);
    let mut household_driver: Vec<Option<Driver>> = vec![None; ids.next_household as usize];
    for &(hid, driver) in &leaving {
        household_driver[hid.0 as usize] = Some(driver);
        let hh = households.remove(hid).expect("found above");
        vacated
            .0
            .push((hh.dwelling, hh.tenure, VacateReason::Emigrated));
    }

    // Everyone leaving, in one pass: members of leaving households go with them; young adults
    // living with their parents decide alone (and take their income out of the household).
    let mut gone: Parallel<Vec<Emigrant>> = Parallel::default();
    residents
        .par_iter()
        .for_each(|(entity, id, p, work, traits, member)| {
            let Work { job, income } = work;
            if let Some(household) = household_driver[member.0.0 as usize] {
                gone.borrow_local_mut().push(Emigrant {
                    id: *id,
                    entity,
                    driver: household,
                    age: p.age,
                    alone_from: None,
                });
                return;
            }
            if p.role != Role::Child || p.age < m.young_min_age || p.age > m.young_max_age {
                return;
            }
            let draw = young_streams.rng(id.0).uniform();
            if draw >= young_top {
                return;
            }
            let unemployed_share = f64::from(u8::from(job.status == Status::Unemployed));
            let rate = realisation_rate(
                m,
                m.young_realisation_rate,
                unemployed_share,
                cond.job_finding,
            );
            if draw >= rate {
                return;
            }
            let birth = year - i32::from(p.age);
            let d = Decider {
                age: p.age,
                unemployed_share,
                own_wage: match job.status {
                    Status::Employed => Some(f64::from(income.yuan)),
                    Status::Unemployed | Status::Student => Some(cond.local_mean_wage),
                    _ => None,
                },
                tolerance: f64::from(traits.climate_tolerance),
                attachment: f64::from(traits.attachment),
                needs_services: job.status == Status::Student,
                owner: false,
                network: cohorts_ro.left_share(birth),
                family: 0.0,
            };
            let (v, terms) = utility(m, &cond, &d);
            if draw < leave_probability(rate, v) {
                gone.borrow_local_mut().push(Emigrant {
                    id: *id,
                    entity,
                    driver: main_driver(&terms),
                    age: p.age,
                    alone_from: Some((member.0, income.yuan)),
                });
            }
        });
    let mut gone: Vec<Emigrant> = gone.drain().collect();
    gone.sort_unstable_by_key(|g| g.id);
    for g in &gone {
        tally.emigrants_by_driver[g.driver][emigrant_age_band(g.age)] += 1;
        cohorts.add_emigrant(year - i32::from(g.age));
        if let Some((from, income)) = g.alone_from {
            household_table.move_member(Some(from), None, income);
        }
    }
    tally.emigrants += gone.len() as u64;
    // Emigrants keep their rows until `trade_homes` places the year's arrivals.
    departed.leave(gone.iter().map(|g| (g.id, g.entity)).collect());
    for (hid, ..) in &leaving {
        *household_table.entry(*hid) = Default::default();
    }
    state.last_emigrant_households = state.this_year_emigrant_households;
    state.this_year_emigrant_households = leaving.len() as u64;
}

/// How many households arrive: a base rate, more when housing is cheap relative to incomes
/// (buyers from surrounding counties), plus a share of last year's leavers returning, plus
/// workers drawn by the jobs the city's own seekers did not fill this year.
pub fn expected_arrivals(
    m: &MigrationConfig,
    households: f64,
    affordability_gain: f64,
    last_emigrant_households: f64,
    vacancies: f64,
) -> f64 {
    households / 1000.0
        * m.immigrant_households_per_1000
        * (1.0 + m.cheap_housing_pull * affordability_gain.max(0.0))
        + m.return_rate * last_emigrant_households
        + m.arrivals_per_vacancy * vacancies
}

pub fn admit_immigrants(
    params: Res<Params>,
    clock: Res<Clock>,
    state: Res<MigrationState>,
    housing: Res<HousingMarket>,
    labour: Res<LabourMarket>,
    mut arrivals: ResMut<Arrivals>,
    households: Res<Households>,
) {
    let m = &params.migration;
    let c = &params.city;
    let relative_price = housing.price_against_wages(labour.wage_index, c.price_per_m2);
    let mean = expected_arrivals(
        m,
        households.len() as f64,
        1.0 - relative_price,
        state.last_emigrant_households as f64,
        labour.vacancies as f64,
    );
    let hiring = Hiring {
        share: m.arrival_employed_share,
        demand: labour.demand,
        config: &params.0,
        wage_index: labour.wage_index,
        wage_curve: labour.wage_curve,
        premium: params.policy.wage_premium.at(clock.year),
    };
    let gap = c.parent_age_gap_min;
    let mut rng = SimRng::new(clock.seed, clock.year, Stage::Immigration, 0);
    let n = poisson(mean, &mut rng);
    arrivals.0 = (0..n)
        .map(|_| {
            let ages = usize::from(m.arrival_max_age - m.arrival_min_age) + 1;
            let head_age = m.arrival_min_age + rng.below(ages) as u8;
            let head_sex = if rng.chance(0.5) {
                Sex::Male
            } else {
                Sex::Female
            };
            let mut members = vec![newcomer(&mut rng, &hiring, head_age, head_sex, Role::Head)];
            if rng.chance(c.couple_share) {
                let sex = if head_sex == Sex::Male {
                    Sex::Female
                } else {
                    Sex::Male
                };
                let age = head_age.saturating_sub(2) + rng.below(5) as u8;
                members.push(newcomer(&mut rng, &hiring, age, sex, Role::Partner));
            }
            if head_age < 45 && head_age > gap && rng.chance(m.arrival_child_probability) {
                let age = rng.below(usize::from(head_age - gap).min(17)) as u8;
                let sex = if rng.chance(0.5) {
                    Sex::Male
                } else {
                    Sex::Female
                };
                members.push(newcomer(&mut rng, &hiring, age, sex, Role::Child));
            }
            let savings = (c.savings_years_of_income * c.wages.services * labour.wage_index) as f32;
            Arrival {
                members,
                savings_yuan: savings,
            }
        })
        .collect();
}

/// What an arriving adult who comes with a job needs: the chance of one
/// (`arrival_employed_share`), the sectors' demand to draw it from, and this year's pay.
struct Hiring<'a> {
    share: f64,
    demand: [f64; 6],
    config: &'a Config,
    wage_index: f64,
    wage_curve: f64,
    premium: f64,
}

/// The sector of an arriving adult's job, drawn in proportion to this year's labour demand
/// from a uniform draw `u` in [0, 1); `None` when no sector wants anyone.
pub fn arrival_sector(demand: &[f64; 6], u: f64) -> Option<Sector> {
    let total: f64 = demand.iter().map(|d| d.max(0.0)).sum();
    if total <= 0.0 {
        return None;
    }
    let mut left = u * total;
    let last = demand.iter().rposition(|&d| d > 0.0)?;
    for (s, &d) in demand.iter().enumerate().take(last) {
        left -= d.max(0.0);
        if left < 0.0 {
            return Some(Sector::ALL[s]);
        }
    }
    Some(Sector::ALL[last])
}

fn newcomer(rng: &mut SimRng, hiring: &Hiring, age: u8, sex: Sex, role: Role) -> Newcomer {
    let c = &hiring.config.city;
    let status = if age < 18 {
        Status::Child
    } else {
        Status::Unemployed
    };
    let mut work = Work {
        job: Job::new(status),
        income: Income::newborn(rng, c.wage_sd_log),
    };
    let traits = Traits::draw(rng, c);
    // Drawn last and only when some arrive employed, so the streams of a config where none
    // do (the baseline) are untouched.
    if status == Status::Unemployed
        && hiring.share > 0.0
        && rng.chance(hiring.share)
        && let Some(sector) = arrival_sector(&hiring.demand, rng.uniform())
    {
        work.job = Job::employed(sector);
        work.income.yuan = income_for(
            hiring.config,
            work.job,
            work.income.skill,
            hiring.wage_index,
            hiring.wage_curve,
            hiring.premium,
        );
    }
    Newcomer {
        person: Person { age, sex, role },
        work,
        traits,
    }
}

/// Why an emigrant left: the positive term of the utility of leaving that weighs most.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[repr(u8)]
pub enum Driver {
    JobLoss,
    Wages,
    Climate,
    PublicServices,
    Amenities,
    Housing,
    Network,
    Family,
}

impl Driver {
    /// Every driver, in output order.
    pub const ALL: [Driver; 8] = [
        Driver::JobLoss,
        Driver::Wages,
        Driver::Climate,
        Driver::PublicServices,
        Driver::Amenities,
        Driver::Housing,
        Driver::Network,
        Driver::Family,
    ];

    /// The name in `emigration_drivers.csv`.
    pub fn name(self) -> &'static str {
        match self {
            Driver::JobLoss => "job_loss",
            Driver::Wages => "wages",
            Driver::Climate => "climate",
            Driver::PublicServices => "public_services",
            Driver::Amenities => "amenities",
            Driver::Housing => "housing",
            Driver::Network => "network",
            Driver::Family => "family",
        }
    }
}

/// One value per driver, indexed by `Driver`.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct ByDriver<T>(pub [T; Driver::ALL.len()]);

impl<T> ByDriver<T> {
    /// Each driver with its value, in `Driver::ALL` order.
    pub fn iter(&self) -> impl Iterator<Item = (Driver, &T)> {
        Driver::ALL.into_iter().zip(&self.0)
    }

    pub fn map<U>(self, f: impl FnMut(T) -> U) -> ByDriver<U> {
        ByDriver(self.0.map(f))
    }
}

impl<T> std::ops::Index<Driver> for ByDriver<T> {
    type Output = T;
    fn index(&self, d: Driver) -> &T {
        &self.0[d as usize]
    }
}

impl<T> std::ops::IndexMut<Driver> for ByDriver<T> {
    fn index_mut(&mut self, d: Driver) -> &mut T {
        &mut self.0[d as usize]
    }
}

/// Age groups for emigrants.
pub const EMIGRANT_AGE_BANDS: [&str; 5] = ["0-17", "18-29", "30-44", "45-64", "65+"];

pub fn emigrant_age_band(age: u8) -> usize {
    match age {
        0..=17 => 0,
        18..=29 => 1,
        30..=44 => 2,
        45..=64 => 3,
        _ => 4,
    }
}

/// Cumulative emigrants per 5-year birth cohort and the cohort's size when first seen: the
/// "network" each resident has among those who already left.
#[derive(Resource, Clone, Debug, Default, Serialize, Deserialize)]
pub struct Cohorts {
    pub emigrated: Vec<f64>,
    pub size: Vec<f64>,
}

impl Cohorts {
    pub const FIRST_BIRTH_YEAR: i32 = 1900;

    pub fn index(birth_year: i32) -> usize {
        ((birth_year - Self::FIRST_BIRTH_YEAR).max(0) / 5) as usize
    }

    /// Share of a birth cohort who have left the city so far.
    pub fn left_share(&self, birth_year: i32) -> f64 {
        let i = Self::index(birth_year);
        match (self.emigrated.get(i), self.size.get(i)) {
            (Some(&e), Some(&s)) if s > 0.0 => (e / s).min(1.0),
            _ => 0.0,
        }
    }

    fn slot(&mut self, birth_year: i32) -> usize {
        let i = Self::index(birth_year);
        if self.size.len() <= i {
            self.size.resize(i + 1, 0.0);
            self.emigrated.resize(i + 1, 0.0);
        }
        i
    }

    pub fn add_member(&mut self, birth_year: i32) {
        let i = self.slot(birth_year);
        self.size[i] += 1.0;
    }

    pub fn add_emigrant(&mut self, birth_year: i32) {
        let i = self.slot(birth_year);
        self.emigrated[i] += 1.0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each driver's weight moves its own term and no other: a driver added to `Driver`
    /// without a term in `utility` (or with another's) fails here.
    #[test]
    fn every_driver_has_its_own_term() {
        let base = crate::config::baseline().migration;
        let c = Conditions {
            destination_wage: 90_000.0,
            local_mean_wage: 50_000.0,
            coldness: 1.0,
            service_gap: 0.5,
            amenity_gap: 0.5,
            saleability: 0.5,
            price_growth: -0.1,
            job_finding: 0.5,
        };
        let d = Decider {
            age: 20,
            unemployed_share: 1.0,
            own_wage: Some(40_000.0),
            tolerance: 0.2,
            attachment: 0.5,
            needs_services: true,
            owner: true,
            network: 0.3,
            family: 0.3,
        };
        fn weight(m: &mut MigrationConfig, driver: Driver) -> &mut f64 {
            match driver {
                Driver::JobLoss => &mut m.unemployed_weight,
                Driver::Wages => &mut m.wage_weight,
                Driver::Climate => &mut m.climate_weight,
                Driver::PublicServices => &mut m.services_weight,
                Driver::Amenities => &mut m.amenity_weight,
                Driver::Housing => &mut m.housing_weight,
                Driver::Network => &mut m.network_weight,
                Driver::Family => &mut m.family_weight,
            }
        }
        for driver in Driver::ALL {
            let mut m = base.clone();
            for other in Driver::ALL {
                *weight(&mut m, other) = 0.0;
            }
            *weight(&mut m, driver) = 1.0;
            let (_, terms) = utility(&m, &c, &d);
            for (other, t) in terms.iter() {
                assert_eq!(
                    *t > 0.0,
                    other == driver,
                    "{}: {other:?} = {t}",
                    driver.name()
                );
            }
        }
    }

    fn conditions() -> Conditions {
        Conditions {
            destination_wage: 100_000.0,
            local_mean_wage: 60_000.0,
            coldness: 1.0,
            service_gap: 0.4,
            amenity_gap: 0.5,
            saleability: 0.5,
            price_growth: -0.05,
            job_finding: 0.5,
        }
    }

    #[test]
    fn an_unemployed_young_cold_averse_renter_leaves_more_often_than_an_employed_old_owner() {
        let m = crate::config::baseline().migration;
        let c = conditions();
        let young = Decider {
            age: 23,
            unemployed_share: 1.0,
            own_wage: Some(60_000.0),
            tolerance: 0.1,
            attachment: 0.2,
            needs_services: false,
            owner: false,
            network: 0.3,
            family: 0.0,
        };
        let old = Decider {
            age: 58,
            unemployed_share: 0.0,
            own_wage: Some(90_000.0),
            tolerance: 0.9,
            attachment: 0.8,
            owner: true,
            network: 0.05,
            ..young
        };
        let p_young = leave_probability(m.realisation_rate, utility(&m, &c, &young).0);
        let p_old = leave_probability(m.realisation_rate, utility(&m, &c, &old).0);
        assert!(p_young > 3.0 * p_old, "{p_young} vs {p_old}");
    }

    #[test]
    fn the_main_driver_is_the_largest_term() {
        assert_eq!(
            main_driver(&ByDriver([0.1, 0.5, 0.2, 0.0, 0.0, 0.0, 0.4, 0.0])),
            Driver::Wages
        );
        assert_eq!(
            main_driver(&ByDriver([0.0, 0.0, 0.9, 0.0, 0.0, 0.0, 0.4, 0.0])).name(),
            "climate"
        );
    }

    #[test]
    fn unsaleable_homes_lock_owners_in() {
        let m = crate::config::baseline().migration;
        let owner = Decider {
            age: 40,
            owner: true,
            own_wage: Some(60_000.0),
            ..Default::default()
        };
        let mut liquid = conditions();
        liquid.saleability = 1.0;
        let mut frozen = conditions();
        frozen.saleability = 0.0;
        assert!(utility(&m, &frozen, &owner).0 < utility(&m, &liquid, &owner).0);
    }

    /// The unemployed realise more of their intentions than the employed, and more the less
    /// local search finds: the rate is the base rate when nobody is unemployed or every seeker
    /// finds a job, and rises with the unemployed share and with failed search.
    #[test]
    fn the_unemployed_leave_more_where_local_search_fails() {
        let mut m = crate::config::baseline().migration;
        m.unemployed_realisation_rate = 0.4;
        let r = |share: f64, finding: f64| realisation_rate(&m, 0.1, share, finding);
        assert_eq!(r(0.0, 0.2), 0.1);
        assert_eq!(r(1.0, 1.0), 0.1);
        assert!((r(1.0, 0.0) - 0.5).abs() < 1e-12);
        assert!((r(0.5, 0.5) - 0.2).abs() < 1e-12);
        assert!(r(1.0, 0.2) > r(1.0, 0.6), "worse search, more moves");
        assert!(r(1.0, 0.4) > r(0.5, 0.4), "more unemployed, more moves");
        // Off: every unit keeps the base rate.
        m.unemployed_realisation_rate = 0.0;
        assert_eq!(realisation_rate(&m, 0.1, 1.0, 0.0), 0.1);
        // Never above 1 within the validated range.
        m.unemployed_realisation_rate = 0.9;
        assert!(realisation_rate(&m, 0.1, 2.0, -1.0) <= 1.0);
    }

    /// Jobs the city's seekers left unfilled draw workers from outside: each vacancy adds
    /// `arrivals_per_vacancy` expected households, and none adds nothing.
    #[test]
    fn unfilled_vacancies_draw_arrivals() {
        let mut m = crate::config::baseline().migration;
        m.arrivals_per_vacancy = 0.3;
        let none = expected_arrivals(&m, 10_000.0, 0.0, 100.0, 0.0);
        let some = expected_arrivals(&m, 10_000.0, 0.0, 100.0, 1_000.0);
        assert!((some - none - 300.0).abs() < 1e-9, "{some} {none}");
        m.arrivals_per_vacancy = 0.0;
        assert_eq!(expected_arrivals(&m, 10_000.0, 0.0, 100.0, 1_000.0), none);
    }

    fn market() -> HousingMarket {
        HousingMarket {
            price_per_m2: 1.0,
            last_growth: 0.0,
            saleability: 0.5,
            heat: 1.0,
            trend: 0.0,
            rent_per_m2: 1.0,
            rental_vacancy: 0.1,
        }
    }

    /// The family term reads the cohort `family_generation_gap_years` younger, for deciders
    /// of `family_min_age` and over: another gap reads another cohort's departures.
    #[test]
    fn the_family_term_reads_the_cohort_one_generation_younger() {
        let mut m = crate::config::baseline().migration;
        assert_eq!(family_cohort(&m, 60, 1955), Some(1983));
        assert_eq!(family_cohort(&m, 55, 1960), Some(1988));
        assert_eq!(family_cohort(&m, 54, 1961), None);
        let mut cohorts = Cohorts::default();
        for birth in 1980..1990 {
            cohorts.add_member(birth);
        }
        // Half of the 1980-84 cohort gone, none of the 1985-89 one.
        for birth in 1980..1985 {
            cohorts.add_emigrant(birth);
        }
        let family =
            |m: &MigrationConfig| family_cohort(m, 60, 1955).map_or(0.0, |c| cohorts.left_share(c));
        assert_eq!(family(&m), 1.0);
        m.family_generation_gap_years = 31;
        assert_eq!(family(&m), 0.0);
        m.family_min_age = 65;
        assert_eq!(family_cohort(&m, 60, 1955), None);
        m.family_min_age = 45;
        assert_eq!(family_cohort(&m, 50, 1965), Some(1996));
    }

    /// Coldness is the gap in winter lows over `coldness_scale_c`; the service gap weighs the
    /// doctors' gap by `doctors_gap_weight` and the schools' by the rest.
    #[test]
    fn coldness_and_the_service_gap_follow_their_scale_and_weights() {
        let mut c = crate::config::baseline();
        let (labour, housing) = (LabourMarket::default(), market());
        let at = |c: &Config| super::conditions(c, 2020, &labour, &housing);
        // The baseline: lows 30 C colder than the destination's.
        assert_eq!(at(&c).coldness, 1.0);
        c.migration.coldness_scale_c = 15.0;
        assert_eq!(at(&c).coldness, 2.0);
        let s = c.city.services.clone();
        let doctors = 1.0 - s.doctors_per_1000 / s.destination_doctors_per_1000;
        let school = 1.0 - s.school_quality;
        let gap = |c: &Config| at(c).service_gap;
        assert!((gap(&c) - 0.5 * (doctors + school)).abs() < 1e-12);
        c.migration.doctors_gap_weight = 1.0;
        assert!((gap(&c) - doctors).abs() < 1e-12);
        c.migration.doctors_gap_weight = 0.0;
        assert!((gap(&c) - school).abs() < 1e-12);
        c.migration.doctors_gap_weight = 0.8;
        assert!((gap(&c) - (0.8 * doctors + 0.2 * school)).abs() < 1e-12);
    }

    #[test]
    fn an_arriving_job_is_drawn_in_proportion_to_demand() {
        let demand = [1.0, 0.0, 0.0, 0.0, -5.0, 3.0];
        assert_eq!(arrival_sector(&demand, 0.0), Some(Sector::Coal));
        assert_eq!(arrival_sector(&demand, 0.2499), Some(Sector::Coal));
        assert_eq!(arrival_sector(&demand, 0.25), Some(Sector::Public));
        assert_eq!(arrival_sector(&demand, 0.999_999), Some(Sector::Public));
        assert_eq!(arrival_sector(&[0.0; 6], 0.5), None);
        let only = [0.0, 2.0, 0.0, 0.0, 0.0, 0.0];
        assert_eq!(arrival_sector(&only, 0.7), Some(Sector::OtherResource));
    }

    /// Arriving heads' ages, children and jobs follow the arrival keys.
    #[test]
    fn arrivals_follow_their_ages_child_probability_and_employed_share() {
        let arrive = |set: &dyn Fn(&mut Config)| {
            let mut c = crate::config::baseline();
            c.migration.immigrant_households_per_1000 = 0.0;
            c.migration.arrivals_per_vacancy = 1.0;
            set(&mut c);
            let mut world = World::new();
            world.insert_resource(Params(c));
            world.insert_resource(Clock {
                year: 2020,
                start_year: 2015,
                seed: 7,
                scale: 0.01,
            });
            world.insert_resource(MigrationState::default());
            world.insert_resource(market());
            world.insert_resource(LabourMarket {
                vacancies: 300,
                wage_index: 1.0,
                wage_curve: 1.0,
                demand: [0.0, 0.0, 0.0, 10.0, 0.0, 0.0],
                ..Default::default()
            });
            world.insert_resource(Arrivals::default());
            world.insert_resource(Households::default());
            let mut schedule = Schedule::default();
            schedule.add_systems(admit_immigrants);
            schedule.run(&mut world);
            world.remove_resource::<Arrivals>().unwrap().0
        };
        let heads =
            |a: &[Arrival]| -> Vec<u8> { a.iter().map(|a| a.members[0].person.age).collect() };
        let children = |a: &[Arrival]| {
            a.iter()
                .flat_map(|a| &a.members)
                .filter(|n| n.person.role == Role::Child)
                .count()
        };
        let base = arrive(&|_| {});
        assert!(base.len() > 200, "{}", base.len());
        assert!(heads(&base).iter().all(|a| (25..=54).contains(a)));
        assert!(children(&base) > 0);
        let adults = base
            .iter()
            .flat_map(|a| &a.members)
            .filter(|n| n.person.age >= 18);
        assert!(
            adults
                .clone()
                .all(|n| n.work.job.status == Status::Unemployed)
        );

        let older = arrive(&|c| {
            c.migration.arrival_min_age = 40;
            c.migration.arrival_max_age = 42;
            c.migration.arrival_child_probability = 1.0;
        });
        assert!(heads(&older).iter().all(|a| (40..=42).contains(a)));
        assert_eq!(
            children(&older),
            older.len(),
            "every household brings a child"
        );
        let none = arrive(&|c| c.migration.arrival_child_probability = 0.0);
        assert_eq!(children(&none), 0);

        let employed = arrive(&|c| c.migration.arrival_employed_share = 1.0);
        for n in employed.iter().flat_map(|a| &a.members) {
            if n.person.age >= 18 {
                assert_eq!(n.work.job, Job::employed(Sector::HighTech));
                assert!(n.work.income.yuan > 0.0);
            } else {
                assert_eq!(n.work.job.status, Status::Child);
            }
        }
        // As many households as when all arrive searching (the count is drawn first).
        assert_eq!(employed.len(), base.len());
    }
}
