//! What a year looks like from outside: the summary row, the age structure and the
//! emigration drivers, measured from the world at the end of each year and scaled from
//! agents to people. Flows are scaled through cumulative totals so that
//! `population[y] = population[y-1] + births + immigrants - deaths - emigrants` holds exactly
//! at any `--scale`.

use bevy_ecs::prelude::*;
use bevy_ecs::utils::Parallel;
use serde::{Deserialize, Serialize};

use crate::engine::Clock;
use crate::engine::par::par_parts;
use crate::model::economy::Economy;
use crate::model::household::Households;
use crate::model::housing::{DwellingId, DwellingState, HousingMarket, HousingStock, home_value};
use crate::model::labour::{CoalSector, LabourMarket};
use crate::model::migration::{ByDriver, EMIGRANT_AGE_BANDS};
use crate::model::resident::{AgentId, Person, Sex, Status, Work};
use crate::model::tally::Tally;

/// Residents counted by age and sex, status and sector, with employed incomes summed in whole
/// fen so that the parallel pass gives the same total however it is split.
#[derive(Clone, Copy)]
struct PeopleCount {
    ages: [[u64; 2]; 121],
    employed: u64,
    unemployed: u64,
    income_fen: i64,
    sector_jobs: [u64; 6],
}

impl Default for PeopleCount {
    fn default() -> Self {
        PeopleCount {
            ages: [[0; 2]; 121],
            employed: 0,
            unemployed: 0,
            income_fen: 0,
            sector_jobs: [0; 6],
        }
    }
}

impl PeopleCount {
    fn add(&mut self, p: &Person, w: &Work) {
        self.ages[usize::from(p.age).min(120)][p.sex as usize] += 1;
        let Work { job, income } = w;
        match job.status {
            Status::Employed => {
                self.employed += 1;
                self.income_fen += (f64::from(income.yuan) * 100.0).round() as i64;
                if let Some(s) = job.sector {
                    self.sector_jobs[s as usize] += 1;
                }
            }
            Status::Unemployed => self.unemployed += 1,
            _ => {}
        }
    }

    fn merge(&mut self, o: &PeopleCount) {
        for (a, b) in self.ages.iter_mut().zip(&o.ages) {
            a[0] += b[0];
            a[1] += b[1];
        }
        self.employed += o.employed;
        self.unemployed += o.unemployed;
        self.income_fen += o.income_fen;
        for (a, b) in self.sector_jobs.iter_mut().zip(&o.sector_jobs) {
            *a += b;
        }
    }
}

/// One row of `summary.csv`; counts in people, money in yuan.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct SummaryRow {
    pub year: i32,
    pub population: i64,
    pub households: i64,
    pub births: i64,
    pub deaths: i64,
    pub immigrants: i64,
    pub emigrants: i64,
    pub share_65plus: f64,
    pub median_age: f64,
    pub labour_force: i64,
    pub employed: i64,
    pub unemployed: i64,
    pub unemployment_rate: f64,
    pub coal_jobs: i64,
    pub jobs_created: i64,
    pub jobs_lost: i64,
    pub new_job_seekers: i64,
    pub coal_output_mt: f64,
    pub coal_reserve_share_of_peak: f64,
    pub price_per_m2: f64,
    pub mean_home_value: f64,
    pub transactions: i64,
    pub dwellings: i64,
    pub vacant_dwellings: i64,
    pub vacancy_rate: f64,
    pub estates_below_40pct_occupancy: i64,
    pub retail_sales_index: f64,
    pub mean_income: f64,
    pub jobs_other_resource: i64,
    pub jobs_manufacturing: i64,
    pub jobs_high_tech: i64,
    pub jobs_services: i64,
    pub jobs_public: i64,
    pub resource_share_of_secondary: f64,
    pub high_tech_share_of_secondary: f64,
    pub home_value_100m2: f64,
    pub listings: i64,
    pub completions: i64,
    pub demolitions: i64,
    pub job_vacancies: i64,
    pub buyers: i64,
    pub open_mines: i64,
    pub children_0_14: i64,
    pub share_0_14: f64,
    pub rent_per_m2: f64,
    pub rental_vacancy: f64,
    pub investor_purchases: i64,
    pub abandoned: i64,
}

/// One row of `estates.csv`: an estate on 31 December. Counts in dwellings (real-city units,
/// apportioned so that they add up to `summary.csv`'s totals), money in yuan.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct EstateRow {
    pub estate_id: u32,
    pub quality: f32,
    pub build_year: i32,
    pub shanty: bool,
    /// Standing (not demolished): `occupied + for_sale + empty`.
    pub dwellings: i64,
    pub occupied: i64,
    pub for_sale: i64,
    /// Vacant and not listed.
    pub empty: i64,
    /// Demolished so far (cumulative).
    pub demolished: i64,
    /// Value per m² of the estate's standing dwellings (price index × quality); `None` when
    /// none stands.
    pub mean_value_per_m2: Option<f64>,
    /// Homes sold in the estate during the year.
    pub sales: i64,
}

/// A year's measurements: the summary row plus long-format tables.
#[derive(Clone, Debug, Default)]
pub struct YearRecord {
    pub summary: SummaryRow,
    /// [age band 0..18][sex], people.
    pub age_structure: Vec<[i64; 2]>,
    /// Emigrants by main reason, then by age band (`EMIGRANT_AGE_BANDS`), people; sums to
    /// `summary.emigrants`.
    pub emigrants_by_driver: ByDriver<[i64; EMIGRANT_AGE_BANDS.len()]>,
    /// Every estate, by id.
    pub estates: Vec<EstateRow>,
}

/// The housing stock's standing in one part of the dwellings (`Recorder::measure`).
struct Standing {
    dwellings: u64,
    vacant: u64,
    /// Dwellings per estate by state, indexed by `DwellingState as usize` ([occupied,
    /// for sale, vacant, demolished]).
    per_estate: Vec<[u32; 4]>,
    /// The value of each occupied home, in dwelling-id order.
    values: Vec<f64>,
}

/// One figure of the city on 1 January of the start year: what the config states and what
/// set-up built (people, not agents), side by side in `manifest.json`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StartFigure {
    pub measure: String,
    pub stated: f64,
    pub built: f64,
}

/// The start state's figures that set-up must reproduce: population, the share of each age
/// band, the sex ratio, household size, jobs by sector, the unemployment rate and the vacancy
/// rate.
pub fn start_state(world: &mut World) -> Vec<StartFigure> {
    let scale = world.resource::<Clock>().scale;
    let mut all = PeopleCount::default();
    for (p, w) in world.query::<(&Person, &Work)>().iter(world) {
        all.add(p, w);
    }
    let city = &world.resource::<crate::engine::Params>().city;
    let agents: u64 = all.ages.iter().map(|a| a[0] + a[1]).sum();
    let mut figures = vec![StartFigure {
        measure: "population".into(),
        stated: city.population,
        built: (agents as f64 / scale).round(),
    }];
    let stated_total: f64 = city.age_band_shares.iter().sum();
    let last = city.age_band_shares.len() - 1;
    let mut in_band = vec![0u64; last + 1];
    for (a, n) in all.ages.iter().enumerate() {
        in_band[(a / 5).min(last)] += n[0] + n[1];
    }
    for (b, share) in city.age_band_shares.iter().enumerate() {
        figures.push(StartFigure {
            measure: format!("share aged {}", age_band_label(b)),
            stated: share / stated_total,
            built: in_band[b] as f64 / agents.max(1) as f64,
        });
    }
    let men: u64 = all.ages.iter().map(|a| a[Sex::Male as usize]).sum();
    figures.push(StartFigure {
        measure: "sex ratio, men per 100 women".into(),
        stated: city.sex_ratio,
        built: 100.0 * men as f64 / (agents - men).max(1) as f64,
    });
    let households = world.resource::<Households>().len();
    figures.push(StartFigure {
        measure: "household size".into(),
        stated: city.household_size,
        built: agents as f64 / households.max(1) as f64,
    });
    for (s, (stated, built)) in crate::config::SECTOR_NAMES
        .iter()
        .zip(city.initial_jobs.as_array().iter().zip(all.sector_jobs))
    {
        figures.push(StartFigure {
            measure: format!("jobs, {s}"),
            stated: *stated,
            built: (built as f64 / scale).round(),
        });
    }
    figures.push(StartFigure {
        measure: "unemployment rate".into(),
        stated: city.initial_unemployment_rate,
        built: all.unemployed as f64 / (all.employed + all.unemployed).max(1) as f64,
    });
    let stock = world.resource::<HousingStock>();
    let vacant = stock
        .dwellings
        .iter()
        .filter(|d| d.state != DwellingState::Occupied)
        .count();
    figures.push(StartFigure {
        measure: "vacancy rate".into(),
        stated: city.initial_vacancy_rate,
        built: vacant as f64 / stock.dwellings.len().max(1) as f64,
    });
    figures
}

/// Scales counts from agents to people, carrying cumulative flows between years (state, so
/// it is part of a checkpoint).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Recorder {
    inv_scale: f64,
    /// Raw cumulative births, deaths, immigrants, emigrants.
    cum_raw: [u64; 4],
    cum_scaled: [i64; 4],
    population: i64,
    base_retail: Option<f64>,
    pub initial_population: i64,
    /// The start state as stated and as built (`start_state`).
    pub start_state: Vec<StartFigure>,
}

impl Recorder {
    pub fn new(world: &mut World) -> Self {
        let scale = world.resource::<Clock>().scale;
        let agents = world
            .query_filtered::<(), With<AgentId>>()
            .iter(world)
            .count();
        let population = (agents as f64 / scale).round() as i64;
        Recorder {
            inv_scale: 1.0 / scale,
            cum_raw: [0; 4],
            cum_scaled: [0; 4],
            population,
            base_retail: None,
            initial_population: population,
            start_state: start_state(world),
        }
    }

    fn people(&self, agents: u64) -> i64 {
        (agents as f64 * self.inv_scale).round() as i64
    }

    pub fn measure(&mut self, world: &mut World) -> YearRecord {
        let tally = world.resource::<Tally>().clone();
        let flows = [
            tally.births,
            tally.deaths,
            tally.immigrants,
            tally.emigrants,
        ];
        let mut scaled_flows = [0i64; 4];
        for i in 0..4 {
            self.cum_raw[i] += flows[i];
            let cum = self.people(self.cum_raw[i]);
            scaled_flows[i] = cum - self.cum_scaled[i];
            self.cum_scaled[i] = cum;
        }
        let [births, deaths, immigrants, emigrants] = scaled_flows;
        self.population += births + immigrants - deaths - emigrants;

        let mut parts: Parallel<PeopleCount> = Parallel::default();
        // Not `contiguous_par_iter`: bevy 0.20.1 debug-asserts that a batch's component slice
        // is as long as the whole table's entity list, so it panics in debug builds.
        world
            .query::<(&Person, &Work)>()
            .par_iter(world)
            .for_each_init(|| parts.borrow_local_mut(), |count, (p, w)| count.add(p, w));
        let mut all = PeopleCount::default();
        for part in parts.iter_mut() {
            all.merge(part);
        }
        let PeopleCount {
            ages,
            employed,
            unemployed,
            sector_jobs,
            ..
        } = all;
        let income_sum = all.income_fen as f64 / 100.0;
        let agents: u64 = ages.iter().map(|a| a[0] + a[1]).sum();
        let old: u64 = ages[65..].iter().map(|a| a[0] + a[1]).sum();
        let young: u64 = ages[..15].iter().map(|a| a[0] + a[1]).sum();
        let median_age = {
            let half = agents as f64 / 2.0;
            let mut acc = 0.0;
            let mut m = 0.0;
            for (a, n) in ages.iter().enumerate() {
                let n = (n[0] + n[1]) as f64;
                if acc + n >= half && n > 0.0 {
                    m = a as f64 + (half - acc) / n;
                    break;
                }
                acc += n;
            }
            m
        };
        let mut band_raw = vec![[0u64; 2]; 18];
        for (a, n) in ages.iter().enumerate() {
            let b = (a / 5).min(17);
            band_raw[b][0] += n[0];
            band_raw[b][1] += n[1];
        }
        let flat: Vec<u64> = band_raw.iter().flat_map(|b| [b[0], b[1]]).collect();
        let flat_scaled = apportion(&flat, self.population);
        let age_structure = flat_scaled.chunks(2).map(|c| [c[0], c[1]]).collect();
        let drivers_flat: Vec<u64> = tally
            .emigrants_by_driver
            .0
            .iter()
            .flatten()
            .copied()
            .collect();
        let mut drivers_scaled = apportion(&drivers_flat, emigrants).into_iter();
        let emigrants_by_driver = tally
            .emigrants_by_driver
            .map(|bands| bands.map(|_| drivers_scaled.next().expect("one per band")));

        let households = world.resource::<Households>().len() as u64;
        let stock = world.resource::<HousingStock>();
        let market = world.resource::<HousingMarket>();
        let price = market.price_per_m2;
        // Counted split across threads by dwelling id; the values of occupied homes come back
        // in id order and are summed in that order, so nothing depends on the split.
        let parts = par_parts(&stock.dwellings, |first, part| {
            let mut stand = Standing {
                dwellings: 0,
                vacant: 0,
                per_estate: vec![[0u32; 4]; stock.estates.len()],
                values: Vec::new(),
            };
            for (j, d) in part.iter().enumerate() {
                stand.per_estate[d.estate as usize][d.state as usize] += 1;
                if d.state == DwellingState::Demolished {
                    continue;
                }
                stand.dwellings += 1;
                if d.state == DwellingState::Occupied {
                    stand
                        .values
                        .push(stock.value(DwellingId((first + j) as u32), price));
                } else {
                    stand.vacant += 1;
                }
            }
            stand
        });
        let dwellings: u64 = parts.iter().map(|p| p.dwellings).sum();
        let vacant: u64 = parts.iter().map(|p| p.vacant).sum();
        let value_sum: f64 = parts.iter().flat_map(|p| &p.values).sum();
        let mut per_estate = vec![[0u32; 4]; stock.estates.len()];
        for p in &parts {
            for (all, part) in per_estate.iter_mut().zip(&p.per_estate) {
                for (a, b) in all.iter_mut().zip(part) {
                    *a += b;
                }
            }
        }
        let standing = |e: &[u32; 4]| e[0] + e[1] + e[2];
        let low_estates = per_estate
            .iter()
            .filter(|e| standing(e) > 0 && f64::from(e[0]) < 0.4 * f64::from(standing(e)))
            .count();
        let occupied = dwellings - vacant;
        let estates = self.estate_rows(stock, &per_estate, &tally.sales_by_estate, price);

        let coal = world.resource::<CoalSector>();
        let economy = world.resource::<Economy>();
        let base = *self.base_retail.get_or_insert(economy.retail_sales);
        let secondary: u64 = sector_jobs[..4].iter().sum();
        let share = |n: u64, d: u64| if d == 0 { 0.0 } else { n as f64 / d as f64 };
        let summary = SummaryRow {
            year: world.resource::<Clock>().year,
            population: self.population,
            households: self.people(households),
            births,
            deaths,
            immigrants,
            emigrants,
            share_65plus: share(old, agents),
            median_age,
            labour_force: self.people(employed + unemployed),
            employed: self.people(employed),
            unemployed: self.people(unemployed),
            unemployment_rate: share(unemployed, employed + unemployed),
            coal_jobs: self.people(sector_jobs[0]),
            jobs_created: self.people(tally.jobs_created),
            jobs_lost: self.people(tally.jobs_lost),
            new_job_seekers: self.people(tally.new_job_seekers),
            coal_output_mt: coal.output_mt,
            coal_reserve_share_of_peak: coal.reserve_mt() / coal.reserve_at_peak_mt.max(1e-9),
            price_per_m2: price,
            mean_home_value: if occupied > 0 {
                value_sum / occupied as f64
            } else {
                0.0
            },
            transactions: self.people(tally.transactions),
            dwellings: self.people(dwellings),
            vacant_dwellings: self.people(vacant),
            vacancy_rate: share(vacant, dwellings),
            estates_below_40pct_occupancy: low_estates as i64,
            retail_sales_index: economy.index(base),
            mean_income: if employed > 0 {
                income_sum / employed as f64
            } else {
                0.0
            },
            jobs_other_resource: self.people(sector_jobs[1]),
            jobs_manufacturing: self.people(sector_jobs[2]),
            jobs_high_tech: self.people(sector_jobs[3]),
            jobs_services: self.people(sector_jobs[4]),
            jobs_public: self.people(sector_jobs[5]),
            resource_share_of_secondary: share(sector_jobs[0] + sector_jobs[1], secondary),
            high_tech_share_of_secondary: share(sector_jobs[3], secondary),
            home_value_100m2: 100.0 * price,
            listings: self.people(tally.listings),
            completions: self.people(tally.completed),
            demolitions: self.people(tally.demolished),
            job_vacancies: self.people(world.resource::<LabourMarket>().vacancies),
            buyers: self.people(tally.buyers),
            open_mines: coal.open_mines() as i64,
            children_0_14: self.people(young),
            share_0_14: share(young, agents),
            rent_per_m2: market.rent_per_m2,
            rental_vacancy: market.rental_vacancy,
            investor_purchases: self.people(tally.investor_purchases),
            abandoned: self.people(tally.abandoned),
        };
        YearRecord {
            summary,
            age_structure,
            emigrants_by_driver,
            estates,
        }
    }

    /// The estate table from the agents' dwellings by estate and state: standing dwellings
    /// apportioned (largest remainder) to the city's scaled total, demolished ones to the scaled total
    /// demolished, sales to the scaled transactions, so each column adds up to its total.
    fn estate_rows(
        &self,
        stock: &HousingStock,
        per_estate: &[[u32; 4]],
        sales: &[u64],
        price: f64,
    ) -> Vec<EstateRow> {
        let n = per_estate.len();
        // The standing total is split between the states first, then each state's share
        // between the estates, so every state's column sums to its own apportioned total.
        let column =
            |k: usize| -> Vec<u64> { per_estate.iter().map(|e| u64::from(e[k])).collect() };
        let totals: Vec<u64> = (0..3).map(|k| column(k).iter().sum()).collect();
        let state_totals = apportion(&totals, self.people(totals.iter().sum()));
        let by_state: Vec<Vec<i64>> = (0..3)
            .map(|k| apportion(&column(k), state_totals[k]))
            .collect();
        let gone: Vec<u64> = per_estate.iter().map(|e| u64::from(e[3])).collect();
        let demolished = apportion(&gone, self.people(gone.iter().sum()));
        let sold: Vec<u64> = (0..n).map(|e| sales.get(e).copied().unwrap_or(0)).collect();
        let sold_scaled = apportion(&sold, self.people(sold.iter().sum()));
        (0..n)
            .map(|e| {
                let est = &stock.estates[e];
                let [occupied, for_sale, empty] = [0, 1, 2].map(|k| by_state[k][e]);
                let stands = per_estate[e][..3].iter().any(|&c| c > 0);
                EstateRow {
                    estate_id: e as u32,
                    quality: est.quality,
                    build_year: est.build_year,
                    shanty: est.shanty,
                    dwellings: occupied + for_sale + empty,
                    occupied,
                    for_sale,
                    empty,
                    demolished: demolished[e],
                    mean_value_per_m2: stands.then(|| home_value(1.0, est.quality, price)),
                    sales: sold_scaled[e],
                }
            })
            .collect()
    }
}

/// Scale raw counts so they sum to `total` exactly (largest remainder).
pub fn apportion(raw: &[u64], total: i64) -> Vec<i64> {
    let sum: u64 = raw.iter().sum();
    if sum == 0 {
        return vec![0; raw.len()];
    }
    let exact: Vec<f64> = raw
        .iter()
        .map(|&r| r as f64 * total as f64 / sum as f64)
        .collect();
    let mut out: Vec<i64> = exact.iter().map(|x| x.floor() as i64).collect();
    let left = total - out.iter().sum::<i64>();
    let mut order: Vec<usize> = (0..raw.len()).collect();
    order.sort_by(|&a, &b| {
        (exact[b] - exact[b].floor())
            .total_cmp(&(exact[a] - exact[a].floor()))
            .then(a.cmp(&b))
    });
    for &i in order.iter().cycle().take(left.unsigned_abs() as usize) {
        out[i] += left.signum();
    }
    out
}

/// Of the people aged `ages` (first and last age of whole 5-year bands, e.g. `[10, 19]`) in
/// year `from`, the share found at the same ages plus `to - from` in year `to` (a multiple of
/// five years): a cohort's retention, which nets out deaths, leaving and arriving, as a
/// census-to-census comparison does. `people(year, band)` is the count in a 5-year band
/// (0 = 0-4). None when the ages are not whole bands, the gap is not whole bands, a year is
/// missing or nobody was there.
pub fn cohort_retention(
    people: impl Fn(i32, usize) -> Option<f64>,
    ages: [u32; 2],
    from: i32,
    to: i32,
) -> Option<f64> {
    let [first, last] = ages;
    if first % 5 != 0 || last % 5 != 4 || last < first || (to - from) % 5 != 0 || to <= from {
        return None;
    }
    let bands = (first / 5) as usize..=(last / 5) as usize;
    let shift = ((to - from) / 5) as usize;
    let count = |year: i32, shift: usize| -> Option<f64> {
        bands.clone().map(|b| people(year, b + shift)).sum()
    };
    let before = count(from, 0)?;
    let after = count(to, shift)?;
    (before > 0.0).then(|| after / before)
}

/// Age band label for `age_structure.csv`.
pub fn age_band_label(band: usize) -> String {
    if band == 17 {
        "85+".into()
    } else {
        format!("{}-{}", band * 5, band * 5 + 4)
    }
}

/// The first and last age of a band label (`0-4`, `85+`): `(85, None)` for an open band.
pub fn band_bounds(label: &str) -> (u32, Option<u32>) {
    let number = |t: &str| t.parse::<u32>().expect("age band labels are numbers");
    match label.split_once('-') {
        Some((from, to)) => (number(from), Some(number(to))),
        None => (number(label.trim_end_matches('+')), None),
    }
}

pub fn sex_label(sex: usize) -> &'static str {
    if sex == Sex::Male as usize {
        "male"
    } else {
        "female"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn apportion_sums_to_the_total_and_keeps_proportions() {
        let out = apportion(&[1, 2, 3, 0], 61);
        assert_eq!(out.iter().sum::<i64>(), 61);
        assert_eq!(out[3], 0);
        assert!(out[2] > out[1] && out[1] > out[0]);
    }

    #[test]
    fn a_cohort_is_followed_into_the_bands_as_many_years_older() {
        // 10-19 (bands 2, 3) in 2015: 200 people; 20-29 (bands 4, 5) in 2025: 110.
        let people = |year: i32, band: usize| -> Option<f64> {
            match (year, band) {
                (2015, 2 | 3) => Some(100.0),
                (2025, 4) => Some(60.0),
                (2025, 5) => Some(50.0),
                (2015 | 2025, _) => Some(999.0),
                _ => None,
            }
        };
        let kept = cohort_retention(people, [10, 19], 2015, 2025).unwrap();
        assert!((kept - 0.55).abs() < 1e-12, "{kept}");
        assert_eq!(
            cohort_retention(people, [10, 19], 2015, 2030),
            None,
            "no 2030"
        );
        assert_eq!(
            cohort_retention(people, [12, 19], 2015, 2025),
            None,
            "not whole bands"
        );
        assert_eq!(
            cohort_retention(people, [10, 19], 2015, 2022),
            None,
            "not whole bands"
        );
        let nobody = |_: i32, _: usize| Some(0.0);
        assert_eq!(cohort_retention(nobody, [10, 19], 2015, 2025), None);
    }

    #[test]
    fn band_bounds_read_every_label() {
        for band in 0..18 {
            let (from, to) = band_bounds(&age_band_label(band));
            assert_eq!(from as usize, band * 5);
            assert_eq!(to, (band < 17).then_some(band as u32 * 5 + 4));
        }
        assert_eq!(band_bounds("85+"), (85, None));
        assert_eq!(band_bounds("18-29"), (18, Some(29)));
        let bands: Vec<_> = EMIGRANT_AGE_BANDS.iter().map(|b| band_bounds(b)).collect();
        assert_eq!(
            bands,
            [
                (0, Some(17)),
                (18, Some(29)),
                (30, Some(44)),
                (45, Some(64)),
                (65, None)
            ]
        );
    }
}
