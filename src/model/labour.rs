//! Labour: coal depletion and mine closures, labour demand per sector (coal output, linked
//! industries, trends and policy, a local multiplier for services, public jobs per
//! resident), gross job flows (churn and layoffs), school leavers and graduates entering the
//! job search, retirement, matching seekers to vacancies, and incomes.

use bevy_ecs::prelude::*;
use bevy_ecs::utils::Parallel;
use serde::{Deserialize, Serialize};

use crate::config::{CityConfig, Config, LabourConfig, Sector};
use crate::engine::rng::{SimRng, Stage, Streams};
use crate::engine::{Clock, Params};
use crate::model::resident::{AgentId, Ids, Job, Person, Sex, Status, Work};
use crate::model::tally::Tally;

/// One coal mine: remaining reserve and yearly capacity.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Mine {
    pub reserve_mt: f64,
    pub capacity_mt: f64,
    pub open: bool,
}

#[derive(Resource, Clone, Debug, Serialize, Deserialize)]
pub struct CoalSector {
    pub mines: Vec<Mine>,
    pub output_mt: f64,
    pub first_output_mt: Option<f64>,
    pub peak_output_mt: f64,
    /// Total reserve at the start of the year of peak output.
    pub reserve_at_peak_mt: f64,
}

impl CoalSector {
    /// Mines with reserves spread linearly around the mean, so they close one by one.
    pub fn new(c: &crate::config::CoalConfig) -> Self {
        let n = c.mines as usize;
        let mines = (0..n)
            .map(|i| {
                let x = if n > 1 {
                    i as f64 / (n - 1) as f64 * 2.0 - 1.0
                } else {
                    0.0
                };
                Mine {
                    reserve_mt: c.reserve_mt / n as f64 * (1.0 + c.reserve_spread * x),
                    capacity_mt: c.capacity_mt / n as f64,
                    open: true,
                }
            })
            .collect();
        CoalSector {
            mines,
            output_mt: 0.0,
            first_output_mt: None,
            peak_output_mt: 0.0,
            reserve_at_peak_mt: c.reserve_mt,
        }
    }

    pub fn reserve_mt(&self) -> f64 {
        self.mines.iter().map(|m| m.reserve_mt).sum()
    }

    pub fn open_mines(&self) -> usize {
        self.mines.iter().filter(|m| m.open).count()
    }
}

/// Labour demand and the year's labour-market figures, in agents.
#[derive(Resource, Clone, Debug, Default, Serialize, Deserialize)]
pub struct LabourMarket {
    /// Jobs each sector wants this year. Employers close only part of the gap to the year's
    /// target (`adjust_demand`), so last year's value is state.
    pub demand: [f64; 6],
    /// Jobs left unfilled after this year's matching.
    pub vacancies: u64,
    /// Cumulative regional wage index (1 in the start year): `local_wage_growth`, which also
    /// moves pensions and benefits and deflates prices and sales.
    pub wage_index: f64,
    /// The city's wage level relative to the regional index: the wage curve's answer to
    /// last year's local unemployment (1 in the start year). Moves pay, not pensions.
    pub wage_curve: f64,
    /// Unemployed share of the labour force after this year's matching.
    pub unemployment_rate: f64,
    /// The start year's `unemployment_rate`, against which the wage curve measures.
    pub reference_unemployment_rate: f64,
    /// Destination (southern) mean wage, yuan/yr.
    pub destination_wage: f64,
    /// This year's hires over job seekers: the chance that a year of local search found a
    /// job. Migration reads it (the unemployed leave more when it is low).
    pub job_finding_rate: f64,
}

// ---------------------------------------------------------------- rules

/// One year of extraction: each open mine produces up to its capacity (times the national
/// capacity factor) and at most `max_extraction_share` of what is left; it closes when its
/// reserve falls below the closure threshold.
pub fn extract(coal: &mut CoalSector, c: &crate::config::CoalConfig, capacity_factor: f64) {
    let reserve_before = coal.reserve_mt();
    let mut output = 0.0;
    for m in coal.mines.iter_mut().filter(|m| m.open) {
        let q = (m.capacity_mt * capacity_factor).min(m.reserve_mt * c.max_extraction_share);
        m.reserve_mt -= q;
        output += q;
        if m.reserve_mt < c.closure_reserve_mt {
            m.open = false;
        }
    }
    coal.output_mt = output;
    coal.first_output_mt.get_or_insert(output);
    if output >= coal.peak_output_mt {
        coal.peak_output_mt = output;
        coal.reserve_at_peak_mt = reserve_before;
    }
}

/// Inputs to labour demand that come from other domains or policy.
pub struct DemandDrivers {
    pub years: i32,
    pub coal_output_ratio: f64,
    pub population: f64,
    pub spending_ratio: f64,
    pub scale: f64,
    pub new_industry_jobs: f64,
    pub high_tech_jobs: f64,
    pub firm_creation_boost: f64,
    pub doctors_gain_per_1000: f64,
    /// Support jobs added with each policy doctor (`policy.support_jobs_per_doctor`).
    pub support_jobs_per_doctor: f64,
    /// Public-sector jobs before policy posts (`public_jobs`).
    pub public_jobs: f64,
}

/// Public-sector jobs the city's budget would keep this year, before policy posts:
/// `public_jobs_per_1000` per resident, where the share `public_jobs_transfer_share` paid by
/// central transfers counts the start-year population rather than today's.
pub fn public_jobs(l: &LabourConfig, population: f64, start: f64) -> f64 {
    let tau = l.public_jobs_transfer_share;
    l.public_jobs_per_1000 * ((1.0 - tau) * population + tau * start) / 1000.0
}

/// This year's jobs wanted per sector: last year's (`None` in the start year: the target)
/// moved by the share `demand_adjustment` of the gap to this year's target: employers need not
/// follow their market at once (public posts go by not being refilled; plants tied to local
/// coal switch to coal from elsewhere or close over a few years). A speed of 1 is the target
/// itself.
pub fn adjust_demand(speed: [f64; 6], last: Option<[f64; 6]>, target: [f64; 6]) -> [f64; 6] {
    match last {
        None => target,
        Some(last) => std::array::from_fn(|s| target[s] - (1.0 - speed[s]) * (target[s] - last[s])),
    }
}

/// Other resource and heavy-industry jobs, as a multiple of the start year's: the share
/// `other_resource_coal_share` tied to local coal output (with `linkage_elasticity`), the rest
/// on its own trend (plants that burn or process coal from elsewhere, other resources).
pub fn other_resource_ratio(l: &LabourConfig, coal_output_ratio: f64, years: i32) -> f64 {
    let c = l.other_resource_coal_share;
    c * coal_output_ratio.max(0.0).powf(l.linkage_elasticity)
        + (1.0 - c) * (1.0 + l.other_resource_trend).powi(years)
}

/// Jobs each sector wants this year, in agents.
pub fn labour_demand(city: &CityConfig, l: &LabourConfig, x: &DemandDrivers) -> [f64; 6] {
    let j = city.initial_jobs.as_array().map(|v| v * x.scale);
    let t = x.years;
    let coal = j[0] * x.coal_output_ratio * (1.0 - l.coal_productivity_growth).powi(t);
    let other = j[1] * other_resource_ratio(l, x.coal_output_ratio, t);
    let boost = 1.0 + x.firm_creation_boost;
    let manufacturing =
        j[2] * (1.0 + l.manufacturing_trend).powi(t) * boost + x.new_industry_jobs * x.scale;
    let high_tech = j[3] * (1.0 + l.high_tech_trend).powi(t) * boost + x.high_tech_jobs * x.scale;
    let basic0 = j[0] + j[1] + j[2] + j[3];
    let basic = coal + other + manufacturing + high_tech;
    let w = l.services_spending_weight;
    let index = (1.0 - w) * basic / basic0.max(1e-9) + w * x.spending_ratio;
    let services = j[4] * index.max(0.0).powf(l.services_multiplier) * boost;
    let public = x.public_jobs
        + (1.0 + x.support_jobs_per_doctor) * x.doctors_gain_per_1000 * x.population / 1000.0;
    [coal, other, manufacturing, high_tech, services, public]
}

/// The statutory retirement age before the 2025 reform and its total rise, for a sex and
/// sector (women in `staff_sectors`, public and high-tech jobs in the baseline, retire at
/// the staff age; other women, and women with no sector, at the workers' age).
fn retirement_rule(l: &LabourConfig, sex: Sex, sector: Option<Sector>) -> (f64, f64) {
    let workers = sector.is_none_or(|s| !l.staff_sectors.contains(&s));
    match sex {
        Sex::Male => (l.retirement_age_men, l.retirement_raise_men),
        Sex::Female if workers => (
            l.retirement_age_women_workers,
            l.retirement_raise_women_workers,
        ),
        Sex::Female => (l.retirement_age_women_staff, l.retirement_raise_women_staff),
    }
}

/// The birth dates over which the reform raises the age `base` by `raise`: from those who
/// reach `base` in `retirement_reform_year` to those who reach `base + raise`
/// `retirement_phase_in_years` later. The law of 2024 sets it by month of birth: men born
/// from January 1965 retire one month later for every four months of birth, reaching 63 for
/// those born in 1977, who retire in 2040 (women workers one month every two months).
fn reform_span(l: &LabourConfig, base: f64, raise: f64) -> (f64, f64) {
    let first = f64::from(l.retirement_reform_year) - base;
    (first, l.retirement_phase_in_years - raise)
}

/// Statutory retirement age of someone of `sex` and `sector` born at `birth` (calendar
/// time, e.g. 1971.5): the old age for birth dates before the reform's first cohort, then
/// rising linearly with the birth date to the full raise.
pub fn retirement_age(l: &LabourConfig, sex: Sex, sector: Option<Sector>, birth: f64) -> f64 {
    let (base, raise) = retirement_rule(l, sex, sector);
    let (first, span) = reform_span(l, base, raise);
    base + raise * ((birth - first) / span).clamp(0.0, 1.0)
}

/// Share of those born in calendar year `cohort` (birth dates spread evenly over the year)
/// who reach their retirement age before calendar time `t`. Retiring at `b + age(b)` is
/// later the later `b`, so the share is how far into the year the birth date lies whose
/// retirement falls at `t`.
fn retired_share(l: &LabourConfig, base: f64, raise: f64, cohort: i32, t: f64) -> f64 {
    let (first, span) = reform_span(l, base, raise);
    // The birth date b with b + age(b) = t, piece by piece: before, during, after the rise.
    let b = if t <= first + base {
        t - base
    } else if t <= first + span + base + raise {
        first + (t - first - base) / (1.0 + raise / span)
    } else {
        t - base - raise
    };
    (b - f64::from(cohort)).clamp(0.0, 1.0)
}

/// Probability that someone of `age` in `year` (born in `year − age`) who has not retired
/// yet retires this year: of their birth cohort, the share whose retirement date falls in
/// this year among those not retired before it. Before the reform this is 1 from the
/// statutory age on and 0 below it; during the phase-in a cohort retires over two years,
/// as the law's month-by-month steps spread it, so no year holds a whole cohort back.
pub fn retirement_hazard(
    l: &LabourConfig,
    sex: Sex,
    sector: Option<Sector>,
    age: u8,
    year: i32,
) -> f64 {
    let (base, raise) = retirement_rule(l, sex, sector);
    if f64::from(age) + 1.0 < base {
        // Nobody reaches the old age, the lowest there is, before the year is out.
        return 0.0;
    }
    let cohort = year - i32::from(age);
    let before = retired_share(l, base, raise, cohort, f64::from(year));
    let by_end = retired_share(l, base, raise, cohort, f64::from(year + 1));
    if before >= 1.0 {
        1.0
    } else {
        ((by_end - before) / (1.0 - before)).clamp(0.0, 1.0)
    }
}

/// This year's `retirement_hazard`, and the statutory `retirement_age` of those born mid-year
/// `year − age`, for every sex, sector (or none) and age: worked out once a year, so that the
/// pass over residents looks them up instead of working out the rules for each resident.
struct RetirementTable {
    /// By sex and sector (`row`), then by age: (hazard, statutory age).
    rows: Vec<[(f64, f64); 256]>,
}

impl RetirementTable {
    fn new(l: &LabourConfig, year: i32) -> Self {
        let sectors = || std::iter::once(None).chain(Sector::ALL.map(Some));
        let rows = [Sex::Male, Sex::Female]
            .into_iter()
            .flat_map(|sex| sectors().map(move |sector| (sex, sector)))
            .map(|(sex, sector)| {
                std::array::from_fn(|age| {
                    let age = age as u8;
                    let birth = f64::from(year - i32::from(age)) + 0.5;
                    (
                        retirement_hazard(l, sex, sector, age, year),
                        retirement_age(l, sex, sector, birth),
                    )
                })
            })
            .collect();
        RetirementTable { rows }
    }

    /// (hazard, statutory age) of a resident of `sex` and `sector` aged `age`.
    fn get(&self, sex: Sex, sector: Option<Sector>, age: u8) -> (f64, f64) {
        let row = sex as usize * (Sector::ALL.len() + 1) + sector.map_or(0, |s| s as usize + 1);
        self.rows[row][usize::from(age)]
    }
}

/// How a resident's labour status changed this year, for the gross flows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Flow {
    None,
    /// A worker lost or left a job and now searches.
    Separated,
    /// A worker laid off within `internal_retirement_years` of the retirement age retired
    /// on the employer's allowance instead of searching: a job lost, no new seeker.
    RetiredEarly,
    /// Someone from outside the labour force (school leaver, graduate, or an inactive
    /// resident looking again) started to search.
    Entered,
}

/// One resident's labour transition in `separate_and_enter`, examined once a year in this
/// order: retirement; a separation (churn plus the sector's layoff share); a school leaver or
/// graduate entering; a seeker who found nothing last year giving up (`search_exit_rate`);
/// an inactive resident starting to search again (`reentry_rate`).
pub fn transition(
    l: &LabourConfig,
    participation: f64,
    layoff: &[f64; 6],
    job: Job,
    age: u8,
    retire: f64,
    near_retirement: bool,
    rng: &mut SimRng,
) -> (Job, Flow) {
    let searching = (Job::new(Status::Unemployed), Flow::Entered);
    let inactive = (Job::new(Status::Inactive), Flow::None);
    // A draw only where the outcome is uncertain, so the streams before the reform are
    // untouched.
    let retires = |rng: &mut SimRng| retire >= 1.0 || (retire > 0.0 && rng.chance(retire));
    match job.status {
        Status::Employed | Status::Unemployed | Status::Inactive if retires(rng) => {
            (Job::new(Status::Retired), Flow::None)
        }
        Status::Employed => {
            let s = job.sector.expect("employed has a sector") as usize;
            if rng.chance(l.churn_rate + layoff[s]) {
                if near_retirement && layoff[s] > 0.0 {
                    (Job::new(Status::Retired), Flow::RetiredEarly)
                } else {
                    (Job::new(Status::Unemployed), Flow::Separated)
                }
            } else {
                (job, Flow::None)
            }
        }
        Status::Child if age >= l.school_leaving_age => {
            if rng.chance(l.university_share) {
                (Job::new(Status::Student), Flow::None)
            } else if rng.chance(participation) {
                searching
            } else {
                inactive
            }
        }
        Status::Student if age >= l.graduation_age => {
            if rng.chance(participation) {
                searching
            } else {
                inactive
            }
        }
        Status::Unemployed if rng.chance(l.search_exit_rate) => inactive,
        Status::Inactive if rng.chance(l.reentry_rate) => searching,
        _ => (job, Flow::None),
    }
}

/// Hires from the matching function m·U^α·V^(1−α), capped by seekers and vacancies.
pub fn hires(l: &LabourConfig, seekers: f64, vacancies: f64) -> u64 {
    if seekers <= 0.0 || vacancies <= 0.0 {
        return 0;
    }
    let h = l.matching_efficiency
        * seekers.powf(l.matching_alpha)
        * vacancies.powf(1.0 - l.matching_alpha);
    h.min(seekers).min(vacancies).floor() as u64
}

/// The city's mean wage this year (start-year job mix), yuan per year: what a job seeker or a
/// newcomer can expect to earn.
pub fn local_mean_wage(c: &Config, year: i32, market: &LabourMarket) -> f64 {
    let wages = c.city.wages.as_array();
    let jobs = c.city.initial_jobs.as_array();
    let mean =
        wages.iter().zip(jobs).map(|(w, j)| w * j).sum::<f64>() / jobs.iter().sum::<f64>().max(1.0);
    mean * market.wage_index * market.wage_curve * (1.0 + c.policy.wage_premium.at(year))
}

/// Income for a status and sector, yuan per year.
pub fn income_for(
    c: &Config,
    job: Job,
    skill: f32,
    wage_index: f64,
    wage_curve: f64,
    premium: f64,
) -> f32 {
    let city = &c.city;
    let v = match (job.status, job.sector) {
        (Status::Employed, Some(s)) => {
            city.wages.as_array()[s as usize] * f64::from(skill) * (1.0 + premium) * wage_curve
        }
        (Status::Unemployed, _) => city.unemployment_benefit,
        (Status::Retired, _) => city.pension,
        _ => 0.0,
    };
    (v * wage_index) as f32
}

// ---------------------------------------------------------------- systems

/// Wages and destination wages move on their exogenous trends.
/// The wage curve (Blanchflower & Oswald 1994): the local wage level relative to the
/// region's moves with the local unemployment rate against its reference, with an
/// elasticity of about −0.1. Rates are floored at 0.5% so a near-empty dole does not send
/// pay to infinity.
pub fn wage_curve(elasticity: f64, rate: f64, reference: f64) -> f64 {
    const FLOOR: f64 = 0.005;
    (rate.max(FLOOR) / reference.max(FLOOR)).powf(elasticity)
}

pub fn index_wages(params: Res<Params>, clock: Res<Clock>, mut market: ResMut<LabourMarket>) {
    if clock.year > clock.start_year {
        market.wage_curve = wage_curve(
            params.labour.wage_curve_elasticity,
            market.unemployment_rate,
            market.reference_unemployment_rate,
        );
        market.wage_index *= 1.0 + params.labour.local_wage_growth.at(clock.year);
        market.destination_wage *= 1.0 + params.migration.destination_wage_growth.at(clock.year);
    }
}

pub fn extract_coal(params: Res<Params>, clock: Res<Clock>, mut coal: ResMut<CoalSector>) {
    let c = &params.city.coal;
    extract(&mut coal, c, c.capacity.at(clock.year));
}

pub fn set_labour_demand(
    params: Res<Params>,
    clock: Res<Clock>,
    coal: Res<CoalSector>,
    economy: Res<crate::model::economy::Economy>,
    mut market: ResMut<LabourMarket>,
    residents: Query<(), With<AgentId>>,
) {
    let p = &params.policy;
    let y = clock.year;
    let population = residents.iter().count() as f64;
    let drivers = DemandDrivers {
        years: clock.years_since_start(),
        coal_output_ratio: coal.output_mt
            / coal.first_output_mt.unwrap_or(coal.output_mt).max(1e-9),
        population,
        spending_ratio: economy.spending_ratio(),
        scale: clock.scale,
        new_industry_jobs: p.new_industry_jobs.at(y),
        high_tech_jobs: p.high_tech_jobs.at(y),
        firm_creation_boost: p.firm_creation_boost.at(y),
        doctors_gain_per_1000: p.doctors_per_1000_gain.at(y),
        support_jobs_per_doctor: p.support_jobs_per_doctor,
        public_jobs: public_jobs(
            &params.labour,
            population,
            (params.city.population * clock.scale).round(),
        ),
    };
    let target = labour_demand(&params.city, &params.labour, &drivers);
    // Jobs wanted carry over from last year (none in the first year: at the target).
    market.demand = adjust_demand(
        params.labour.demand_adjustment.as_array(),
        (y > clock.start_year).then_some(market.demand),
        target,
    );
}

/// A job seeker: random priority and id (to break ties).
type Seeker = (u64, AgentId);

/// Scratch, within a year: what `separate_and_enter` leaves for `match_job_seekers`, so
/// matching needs no pass over residents. Emptied by the matching.
#[derive(Resource, Default, Debug)]
pub struct JobSearch {
    /// Workers per sector after separations and retirement.
    pub employed: [u64; 6],
    /// Everyone unemployed after the transitions, with their matching priority.
    pub seekers: Vec<Seeker>,
    /// The matching's hires by `AgentId`; kept empty between years (only its memory is kept).
    hired: Vec<Option<Sector>>,
}

impl JobSearch {
    pub fn is_empty(&self) -> bool {
        self.seekers.is_empty() && self.hired.is_empty() && self.employed == [0; 6]
    }
}

/// Retirement, separations (churn plus layoffs where a sector has more workers than it
/// wants), entry of school leavers and graduates into the job search, and the flows between
/// searching and inactivity (a seeker who found nothing last year gives up; an inactive
/// resident of working age starts to look again). The same pass pays this year's incomes for
/// the new status (hires are paid in `match_job_seekers`) and collects the job seekers.
pub fn separate_and_enter(
    params: Res<Params>,
    clock: Res<Clock>,
    market: Res<LabourMarket>,
    mut tally: ResMut<Tally>,
    mut search: ResMut<JobSearch>,
    mut residents: Query<(&AgentId, &Person, &mut Work)>,
) {
    let l = &params.labour;
    // Workers per sector, counted in parallel (integer counts: the same for any split).
    let mut parts: Parallel<[u64; 6]> = Parallel::default();
    residents.par_iter().for_each_init(
        || parts.borrow_local_mut(),
        |employed, (_, _, w)| {
            if let Some(s) = w.job.sector {
                employed[s as usize] += 1;
            }
        },
    );
    let employed = sum_counts(parts.iter_mut().map(|p| *p));
    let demand = market.demand;
    let layoff: [f64; 6] = std::array::from_fn(|s| {
        if employed[s] == 0 {
            0.0
        } else {
            ((employed[s] as f64 - demand[s]) / employed[s] as f64).max(0.0)
        }
    });
    let participation = params.city.labour_force_participation;
    let internal_years = l.internal_retirement_years.as_array();
    let retirement = RetirementTable::new(l, clock.year);
    let premium = params.policy.wage_premium.at(clock.year);
    let (wage_index, wage_curve) = (market.wage_index, market.wage_curve);
    let c = &params.0;
    let streams = Streams::new(clock.seed, clock.year, Stage::Labour);
    let matching = Streams::new(clock.seed, clock.year, Stage::Matching);
    #[derive(Default)]
    struct Part {
        separated: u64,
        retired_early: u64,
        entered: u64,
        employed: [u64; 6],
        seekers: Vec<Seeker>,
    }
    let mut parts: Parallel<Part> = Parallel::default();
    // (Not `contiguous_par_iter`: see `Recorder::measure`.)
    residents.par_iter_mut().for_each_init(
        || parts.borrow_local_mut(),
        |part, (id, person, mut work)| {
            let mut rng = streams.rng(id.0);
            let Work { job, income } = *work;
            let (hazard, statutory) = retirement.get(person.sex, job.sector, person.age);
            // Only the employed, the unemployed and the inactive retire.
            let retire = match job.status {
                Status::Employed | Status::Unemployed | Status::Inactive => hazard,
                _ => 0.0,
            };
            let near_retirement = job.sector.is_some_and(|s| {
                let years = internal_years[s as usize];
                years > 0.0
                    && layoff[s as usize] > 0.0
                    && f64::from(person.age) + years >= statutory
            });
            let (next, flow) = transition(
                l,
                participation,
                &layoff,
                job,
                person.age,
                retire,
                near_retirement,
                &mut rng,
            );
            match flow {
                Flow::Separated => part.separated += 1,
                Flow::RetiredEarly => part.retired_early += 1,
                Flow::Entered => part.entered += 1,
                Flow::None => {}
            }
            match (next.status, next.sector) {
                (Status::Employed, Some(s)) => part.employed[s as usize] += 1,
                (Status::Unemployed, _) => part.seekers.push((matching.rng(id.0).next_raw(), *id)),
                _ => {}
            }
            let pay = income_for(c, next, income.skill, wage_index, wage_curve, premium);
            if next != job || pay != income.yuan {
                work.job = next;
                work.income.yuan = pay;
            }
        },
    );
    let (mut separated, mut retired_early, mut entered) = (0, 0, 0);
    let mut employed = [0u64; 6];
    let mut seekers = std::mem::take(&mut search.seekers);
    seekers.clear();
    for part in parts.iter_mut() {
        separated += part.separated;
        retired_early += part.retired_early;
        entered += part.entered;
        for (total, n) in employed.iter_mut().zip(part.employed) {
            *total += n;
        }
        seekers.append(&mut part.seekers);
    }
    search.employed = employed;
    search.seekers = seekers;
    tally.jobs_lost += separated + retired_early;
    tally.new_job_seekers += separated + entered;
}

fn sum_counts(parts: impl Iterator<Item = [u64; 6]>) -> [u64; 6] {
    parts.fold([0; 6], |mut total, part| {
        for (t, n) in total.iter_mut().zip(part) {
            *t += n;
        }
        total
    })
}

/// Fill vacancies from the pool of job seekers that `separate_and_enter` collected: the number
/// of hires comes from the matching function; who is hired is decided by per-seeker random
/// priority, sectors in proportion to their vacancies. Hires are paid their sector's wage.
pub fn match_job_seekers(
    params: Res<Params>,
    clock: Res<Clock>,
    mut market: ResMut<LabourMarket>,
    mut tally: ResMut<Tally>,
    mut search: ResMut<JobSearch>,
    ids: Res<Ids>,
    mut residents: Query<(&AgentId, &mut Work)>,
) {
    let employed = std::mem::take(&mut search.employed);
    let mut seekers = std::mem::take(&mut search.seekers);
    let mut vacancies: [u64; 6] =
        std::array::from_fn(|s| (market.demand[s].round() as u64).saturating_sub(employed[s]));
    let total_v: u64 = vacancies.iter().sum();
    let unemployed = seekers.len();
    let h = hires(&params.labour, unemployed as f64, total_v as f64) as usize;
    // Only the first `h` in priority order are hired, so only they need sorting.
    if h < seekers.len() {
        seekers.select_nth_unstable(h);
        seekers.truncate(h);
    }
    crate::engine::par::par_sort(&mut seekers);
    // Sectors are drawn in priority order; the hires are marked by `AgentId` and applied in one
    // parallel pass over the residents, which reads memory in order where a lookup by entity
    // would wait on a cache miss per hire.
    let mut rng = SimRng::new(clock.seed, clock.year, Stage::Matching, 0);
    let mut remaining = total_v;
    let mut hired = std::mem::take(&mut search.hired);
    hired.resize(ids.next_agent as usize, None);
    for &(_, id) in seekers.iter().take(h) {
        let mut pick = rng.below(remaining as usize) as u64;
        let s = vacancies
            .iter()
            .position(|&v| {
                if pick < v {
                    true
                } else {
                    pick -= v;
                    false
                }
            })
            .expect("a vacancy remains");
        vacancies[s] -= 1;
        remaining -= 1;
        hired[id.0 as usize] = Some(Sector::ALL[s]);
    }
    let premium = params.policy.wage_premium.at(clock.year);
    let (wage_index, wage_curve) = (market.wage_index, market.wage_curve);
    let c = &params.0;
    if h > 0 {
        residents.par_iter_mut().for_each(|(id, mut work)| {
            if let Some(sector) = hired[id.0 as usize] {
                let job = Job::employed(sector);
                work.income.yuan =
                    income_for(c, job, work.income.skill, wage_index, wage_curve, premium);
                work.job = job;
            }
        });
    }
    hired.clear();
    search.hired = hired;
    seekers.clear();
    search.seekers = seekers;
    tally.jobs_created += h as u64;
    market.vacancies = remaining;
    market.job_finding_rate = h as f64 / unemployed.max(1) as f64;
    let labour_force = employed.iter().sum::<u64>() as usize + unemployed;
    market.unemployment_rate = (unemployed - h) as f64 / labour_force.max(1) as f64;
    if clock.year == clock.start_year {
        market.reference_unemployment_rate = market.unemployment_rate;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mines_close_as_reserves_run_out_and_output_falls() {
        let c = crate::config::baseline().city.coal;
        let mut coal = CoalSector::new(&c);
        extract(&mut coal, &c, 1.0);
        let first = coal.output_mt;
        for _ in 0..30 {
            extract(&mut coal, &c, 1.0);
        }
        assert!(coal.open_mines() < c.mines as usize);
        assert!(
            coal.output_mt < first * 0.5,
            "{} vs {first}",
            coal.output_mt
        );
    }

    #[test]
    fn lower_coal_output_means_fewer_coal_jobs() {
        let c = crate::config::baseline();
        let mut x = DemandDrivers {
            years: 0,
            coal_output_ratio: 1.0,
            population: 1000.0,
            spending_ratio: 1.0,
            scale: 0.01,
            new_industry_jobs: 0.0,
            high_tech_jobs: 0.0,
            firm_creation_boost: 0.0,
            doctors_gain_per_1000: 0.0,
            support_jobs_per_doctor: 1.0,
            public_jobs: 55.0,
        };
        let full = labour_demand(&c.city, &c.labour, &x);
        x.coal_output_ratio = 0.4;
        let closed = labour_demand(&c.city, &c.labour, &x);
        assert!(closed[0] < full[0] * 0.5);
        assert!(closed[1] < full[1]);
        assert!(closed[4] < full[4], "services follow basic jobs");
    }

    /// Each policy doctor is a public job and brings `support_jobs_per_doctor` more.
    #[test]
    fn policy_doctors_add_their_support_jobs_to_public_demand() {
        let c = crate::config::baseline();
        let public = |gain: f64, support: f64| {
            let x = DemandDrivers {
                years: 0,
                coal_output_ratio: 1.0,
                population: 10_000.0,
                spending_ratio: 1.0,
                scale: 0.01,
                new_industry_jobs: 0.0,
                high_tech_jobs: 0.0,
                firm_creation_boost: 0.0,
                doctors_gain_per_1000: gain,
                support_jobs_per_doctor: support,
                public_jobs: 550.0,
            };
            labour_demand(&c.city, &c.labour, &x)[5]
        };
        // One doctor per 1,000 of 10,000 residents: 10 doctors.
        assert_eq!(public(0.0, 1.0), 550.0);
        assert_eq!(public(1.0, 1.0), 570.0);
        assert_eq!(public(1.0, 0.0), 560.0);
        assert_eq!(public(1.0, 2.5), 585.0);
    }

    #[test]
    fn pay_falls_as_local_unemployment_rises_along_the_wage_curve() {
        assert_eq!(wage_curve(-0.1, 0.08, 0.08), 1.0);
        assert_eq!(wage_curve(0.0, 0.25, 0.08), 1.0);
        let high = wage_curve(-0.1, 0.20, 0.08);
        let low = wage_curve(-0.1, 0.04, 0.08);
        // Unemployment 2.5 times the reference: pay ~9% lower; half of it: ~7% higher.
        assert!((high - 2.5f64.powf(-0.1)).abs() < 1e-12, "{high}");
        assert!(high < 1.0 && low > 1.0);
        assert!(wage_curve(-0.1, 0.0, 0.08).is_finite());
    }

    #[test]
    fn retirement_age_rises_with_the_birth_date_as_the_law_sets_it() {
        let l = crate::config::baseline().labour;
        let men = |birth: f64| retirement_age(&l, Sex::Male, Some(Sector::Coal), birth);
        // Men born before 1965 keep 60; those born from 1977 retire at 63, in 2040.
        assert_eq!(men(1960.0), 60.0);
        assert_eq!(men(1965.0), 60.0);
        assert!((men(1971.0) - 61.5).abs() < 1e-9);
        assert_eq!(men(1977.0), 63.0);
        assert_eq!(men(1990.0), 63.0);
        // Women workers: 50 -> 55 for births 1975 -> 1985 (one month per two months).
        let women = retirement_age(&l, Sex::Female, None, 1980.0);
        assert!((women - 52.5).abs() < 1e-9);
        // Staff women: 55 -> 58.
        let staff = retirement_age(&l, Sex::Female, Some(Sector::Public), 1982.0);
        assert_eq!(staff, 58.0);
    }

    /// The yearly table looks up what the rules give for every sex, sector and age.
    #[test]
    fn the_retirement_table_holds_what_the_rules_give() {
        let mut l = crate::config::baseline().labour;
        l.staff_sectors = vec![Sector::Public, Sector::Services];
        for year in [2015, 2030, 2045] {
            let table = RetirementTable::new(&l, year);
            for sex in [Sex::Male, Sex::Female] {
                for sector in std::iter::once(None).chain(Sector::ALL.map(Some)) {
                    for age in 0..=u8::MAX {
                        let birth = f64::from(year - i32::from(age)) + 0.5;
                        assert_eq!(
                            table.get(sex, sector, age),
                            (
                                retirement_hazard(&l, sex, sector, age, year),
                                retirement_age(&l, sex, sector, birth)
                            ),
                            "{year} {sex:?} {sector:?} {age}"
                        );
                    }
                }
            }
        }
    }

    /// Which sectors' women retire at the staff age is `labour.staff_sectors`: a city whose
    /// staff are only public employees retires high-tech women at the workers' age.
    #[test]
    fn women_retire_at_the_staff_age_only_in_the_staff_sectors() {
        let mut l = crate::config::baseline().labour;
        let woman = |l: &LabourConfig, sector| retirement_age(l, Sex::Female, Some(sector), 1960.0);
        assert_eq!(woman(&l, Sector::HighTech), 55.0);
        assert_eq!(woman(&l, Sector::Public), 55.0);
        assert_eq!(woman(&l, Sector::Services), 50.0);
        l.staff_sectors = vec![Sector::Public, Sector::Services];
        assert_eq!(woman(&l, Sector::HighTech), 50.0);
        assert_eq!(woman(&l, Sector::Services), 55.0);
        // Men and women with no sector are not affected.
        assert_eq!(retirement_age(&l, Sex::Female, None, 1960.0), 50.0);
        assert_eq!(
            retirement_age(&l, Sex::Male, Some(Sector::HighTech), 1960.0),
            60.0
        );
        assert_eq!(
            retirement_hazard(&l, Sex::Female, Some(Sector::HighTech), 52, 2012),
            1.0
        );
    }

    /// Before the reform a cohort retires at once at the statutory age; during the phase-in
    /// it retires over two years, and in every year some of the cohort reaching the age
    /// retires: no year holds a whole cohort back.
    #[test]
    fn retirement_spreads_a_cohort_over_two_years_during_the_phase_in() {
        let l = crate::config::baseline().labour;
        let hazard = |age: u8, year: i32| retirement_hazard(&l, Sex::Male, None, age, year);
        assert_eq!(hazard(59, 2020), 0.0);
        assert_eq!(hazard(60, 2020), 1.0);
        assert_eq!(hazard(61, 2020), 1.0, "anyone past the age retires");
        for year in 2025..2040 {
            // The share of each birth cohort retired by the end of each age.
            let cohort = |age: u8| year - i32::from(age);
            let mut left = 1.0;
            let mut retired_at = Vec::new();
            for age in 59..=64u8 {
                let h = retirement_hazard(&l, Sex::Male, None, age, cohort(60) + i32::from(age));
                retired_at.push(left * h);
                left *= 1.0 - h;
            }
            assert!(left.abs() < 1e-9, "{year}: {retired_at:?}");
            let years = retired_at.iter().filter(|r| **r > 1e-9).count();
            assert!(years <= 2, "{year}: {retired_at:?}");
            // Someone of age 60..=63 retires in every year of the phase-in.
            let retiring: f64 = (60..=63u8).map(|a| hazard(a, year)).sum();
            assert!(retiring > 0.5, "{year}: {retiring}");
        }
        assert_eq!(hazard(62, 2045), 0.0);
        assert_eq!(hazard(63, 2045), 1.0);
    }

    #[test]
    fn seekers_give_up_and_the_inactive_search_again_at_their_rates() {
        let mut l = crate::config::baseline().labour;
        l.search_exit_rate = 0.3;
        l.reentry_rate = 0.1;
        let none = [0.0; 6];
        let (mut gave_up, mut entered) = (0, 0);
        for key in 0..20_000 {
            let mut rng = SimRng::new(7, 2024, Stage::Labour, key);
            let (j, f) = transition(
                &l,
                0.8,
                &none,
                Job::new(Status::Unemployed),
                40,
                0.0,
                false,
                &mut rng,
            );
            if j.status == Status::Inactive {
                assert_eq!(f, Flow::None);
                gave_up += 1;
            }
            let (j, f) = transition(
                &l,
                0.8,
                &none,
                Job::new(Status::Inactive),
                40,
                0.0,
                false,
                &mut rng,
            );
            if j.status == Status::Unemployed {
                assert_eq!(f, Flow::Entered, "a re-entrant is a new job seeker");
                entered += 1;
            }
        }
        assert!((5_600..6_400).contains(&gave_up), "{gave_up}");
        assert!((1_800..2_200).contains(&entered), "{entered}");
        // Past the retirement age nobody searches again: they retire.
        let mut rng = SimRng::new(7, 2024, Stage::Labour, 1);
        let (j, _) = transition(
            &l,
            0.8,
            &none,
            Job::new(Status::Inactive),
            61,
            1.0,
            false,
            &mut rng,
        );
        assert_eq!(j.status, Status::Retired);
    }

    /// A worker near retirement whom a shrinking sector lets go retires on the allowance; one
    /// who quits while the sector is not shedding jobs searches like anyone else.
    #[test]
    fn layoffs_near_retirement_become_internal_retirements() {
        let mut l = crate::config::baseline().labour;
        l.churn_rate = 0.5;
        let mut layoff = [0.0; 6];
        let job = Job::employed(Sector::Coal);
        let (mut early, mut searching) = (0, 0);
        for key in 0..2_000 {
            let mut rng = SimRng::new(7, 2024, Stage::Labour, key);
            layoff[Sector::Coal as usize] = 0.3;
            match transition(&l, 0.8, &layoff, job, 57, 0.0, true, &mut rng) {
                (j, Flow::RetiredEarly) => {
                    assert_eq!(j.status, Status::Retired);
                    early += 1;
                }
                (_, Flow::Separated) => panic!("a layoff near retirement searched"),
                _ => {}
            }
            let mut rng = SimRng::new(7, 2024, Stage::Labour, key);
            layoff[Sector::Coal as usize] = 0.0;
            match transition(&l, 0.8, &layoff, job, 57, 0.0, true, &mut rng) {
                (_, Flow::RetiredEarly) => panic!("a quit without layoffs retired"),
                (j, Flow::Separated) => {
                    assert_eq!(j.status, Status::Unemployed);
                    searching += 1;
                }
                _ => {}
            }
        }
        assert!((1_500..1_700).contains(&early), "{early}");
        assert!((900..1_100).contains(&searching), "{searching}");
    }

    #[test]
    fn a_sector_above_its_demand_lays_off_its_excess_share() {
        let mut l = crate::config::baseline().labour;
        l.churn_rate = 0.0;
        let mut layoff = [0.0; 6];
        layoff[Sector::Coal as usize] = 0.25;
        let mut separated = [0; 2];
        for key in 0..20_000 {
            for (i, s) in [Sector::Coal, Sector::Services].into_iter().enumerate() {
                let mut rng = SimRng::new(7, 2024, Stage::Labour, key);
                let (_, f) =
                    transition(&l, 0.8, &layoff, Job::employed(s), 40, 0.0, false, &mut rng);
                separated[i] += u32::from(f == Flow::Separated);
            }
        }
        assert!((4_700..5_300).contains(&separated[0]), "{separated:?}");
        assert_eq!(separated[1], 0);
    }

    #[test]
    fn hires_never_exceed_seekers_or_vacancies() {
        let l = crate::config::baseline().labour;
        for (u, v) in [(10.0, 1000.0), (1000.0, 10.0), (0.0, 5.0), (300.0, 300.0)] {
            let h = hires(&l, u, v) as f64;
            assert!(h <= u && h <= v, "{h} {u} {v}");
        }
    }

    /// Only `other_resource_coal_share` of the other resource jobs follows local coal: when
    /// the last mine closes the rest remain, on their own trend.
    #[test]
    fn other_resource_jobs_outlive_the_last_mine_by_their_untied_share() {
        let mut l = crate::config::baseline().labour;
        l.other_resource_coal_share = 0.4;
        l.other_resource_trend = 0.0;
        assert!((other_resource_ratio(&l, 1.0, 0) - 1.0).abs() < 1e-12);
        assert!((other_resource_ratio(&l, 0.0, 10) - 0.6).abs() < 1e-12);
        l.other_resource_trend = -0.02;
        let later = other_resource_ratio(&l, 0.0, 10);
        assert!((later - 0.6 * 0.98f64.powi(10)).abs() < 1e-12, "{later}");
        // All tied: they vanish with coal, as before.
        l.other_resource_coal_share = 1.0;
        assert_eq!(other_resource_ratio(&l, 0.0, 10), 0.0);
        assert!(other_resource_ratio(&l, 0.5, 3) > 0.5, "elasticity below 1");
    }

    /// Public jobs are a ratio to residents; the share paid by central transfers counts the
    /// start population.
    #[test]
    fn public_jobs_follow_population_and_transfers() {
        let mut l = crate::config::baseline().labour;
        l.public_jobs_per_1000 = 50.0;
        l.public_jobs_transfer_share = 0.5;
        assert_eq!(public_jobs(&l, 10_000.0, 10_000.0), 500.0);
        // Population halves: 50/1000 × (0.5 × 5,000 + 0.5 × 10,000) = 375.
        assert!((public_jobs(&l, 5_000.0, 10_000.0) - 375.0).abs() < 1e-9);
        // No transfers: the plain ratio.
        l.public_jobs_transfer_share = 0.0;
        assert_eq!(public_jobs(&l, 5_000.0, 10_000.0), 250.0);
    }

    /// Jobs wanted start at the target, then close each sector's share of the gap a year: a
    /// speed of 1 follows the target exactly, a lower one approaches it geometrically, and a
    /// target that stops moving is reached only gradually (no one-year jump in layoffs).
    #[test]
    fn employers_close_their_share_of_the_gap_to_the_jobs_they_want() {
        let speed = [1.0, 0.5, 1.0, 1.0, 0.25, 0.2];
        let start = [100.0, 200.0, 300.0, 400.0, 500.0, 600.0];
        assert_eq!(adjust_demand(speed, None, start), start);
        let target = [50.0, 100.0, 0.3, 200.0, 300.0, 400.0];
        let first = adjust_demand(speed, Some(start), target);
        assert_eq!(first[0], 50.0);
        assert_eq!(first[2], 0.3, "a speed of 1 is the target to the last bit");
        assert!((first[1] - 150.0).abs() < 1e-9, "{first:?}");
        assert!((first[4] - 450.0).abs() < 1e-9, "{first:?}");
        assert!((first[5] - 560.0).abs() < 1e-9, "{first:?}");
        let mut jobs = first;
        let mut cuts = Vec::new();
        for _ in 0..80 {
            let next = adjust_demand(speed, Some(jobs), target);
            cuts.push(jobs[4] - next[4]);
            jobs = next;
        }
        assert!(
            cuts.windows(2).all(|w| w[1] < w[0]),
            "cuts taper off: {cuts:?}"
        );
        for s in 0..6 {
            assert!((jobs[s] - target[s]).abs() < 1e-3, "{jobs:?}");
        }
    }

    /// With efficiency below 1, hires fall short of the vacancies when seekers are few
    /// relative to them (vacancies stay open), and fill nearly all of them in a slack market.
    #[test]
    fn matching_binds_in_a_tight_market_and_not_in_a_slack_one() {
        let mut l = crate::config::baseline().labour;
        l.matching_efficiency = 0.7;
        l.matching_alpha = 0.5;
        assert_eq!(hires(&l, 1000.0, 1000.0), 700);
        assert_eq!(hires(&l, 4000.0, 1000.0), 1000);
        let tight = hires(&l, 500.0, 1000.0);
        assert!(tight < 500, "{tight}");
    }
}
