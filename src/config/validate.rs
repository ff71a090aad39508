//! Range and cross-field checks. Each check names its dotted key and the accepted range.

use std::collections::BTreeMap;

use super::schema::*;
use super::series::Series;

pub struct Violation {
    pub key: String,
    pub value: String,
    pub accepted: String,
}

#[derive(Default)]
struct Checker {
    first: Option<Violation>,
    /// `run.start_year`: every series must say what it is by then.
    start_year: i32,
    /// When set, each key's accepted values as the checks state them, first check wins.
    record: Option<BTreeMap<String, String>>,
}

impl Checker {
    fn accept(&mut self, key: &str, accepted: impl FnOnce() -> String) {
        if let Some(r) = &mut self.record {
            r.entry(key.to_string()).or_insert_with(accepted);
        }
    }

    fn fail(&mut self, key: &str, value: String, accepted: String) {
        if self.first.is_none() {
            self.first = Some(Violation {
                key: key.into(),
                value,
                accepted,
            });
        }
    }

    fn range(&mut self, key: &str, v: f64, lo: f64, hi: f64) {
        self.accept(key, || format!("a number from {lo} to {hi}"));
        if !(v.is_finite() && v >= lo && v <= hi) {
            self.fail(key, v.to_string(), format!("a number from {lo} to {hi}"));
        }
    }

    fn int(&mut self, key: &str, v: i64, lo: i64, hi: i64) {
        self.accept(key, || format!("an integer from {lo} to {hi}"));
        if v < lo || v > hi {
            self.fail(key, v.to_string(), format!("an integer from {lo} to {hi}"));
        }
    }

    fn series(&mut self, key: &str, s: &Series, lo: f64, hi: f64) {
        self.accept(key, || {
            format!("[[year, value], ...] with years from 1900 to 2300 in order, values from {lo} to {hi}")
        });
        if let Err(reason) = s.check() {
            self.fail(key, format!("{:?}", s.0), reason);
            return;
        }
        if let Some(&(first, _)) = s.0.first().filter(|p| p.0 > self.start_year) {
            self.fail(
                key,
                format!("{:?}", s.0),
                format!(
                    "a series that says what it is in run.start_year ({start}): its first point is \
                     {first}, so the years {start}-{} would take the {first} value. Add a point \
                     [{start}, value] for the city as it was then, or start the run in {first} \
                     (docs/CITIES.md)",
                    first - 1,
                    start = self.start_year,
                ),
            );
        }
        for &(year, v) in &s.0 {
            self.int(key, i64::from(year), 1900, 2300);
            self.range(key, v, lo, hi);
        }
    }

    fn shares(&mut self, key: &str, v: &[f64], len: usize) {
        self.accept(key, || format!("{len} shares from 0 to 1 summing to 1"));
        if v.len() != len {
            self.fail(
                key,
                format!("{} values", v.len()),
                format!("exactly {len} values"),
            );
            return;
        }
        for &x in v {
            self.range(key, x, 0.0, 1.0);
        }
        let sum: f64 = v.iter().sum();
        if (sum - 1.0).abs() > 0.01 {
            self.fail(
                key,
                format!("shares summing to {sum:.4}"),
                "shares summing to 1 (±0.01)".into(),
            );
        }
    }

    /// A list of distinct sectors (serde has already refused a name not in `SECTOR_NAMES`).
    fn sector_list(&mut self, key: &str, v: &[Sector]) {
        let names = || {
            format!(
                "a list of distinct sector names from {}",
                crate::config::SECTOR_NAMES.join(", ")
            )
        };
        self.accept(key, names);
        for (i, s) in v.iter().enumerate() {
            if v[..i].contains(s) {
                self.fail(key, format!("{} twice", s.name()), names());
            }
        }
    }

    fn sectors(&mut self, key: &str, s: &PerSector, lo: f64, hi: f64) {
        for (name, v) in crate::config::SECTOR_NAMES.iter().zip(s.as_array()) {
            self.range(&format!("{key}.{name}"), v, lo, hi);
        }
    }
}

/// Number of 5-year age bands (0-4 ... 80-84, 85+).
pub const AGE_BANDS: usize = 18;
/// Fertility bands 15-19 ... 45-49.
pub const FERTILITY_BANDS: usize = 7;

pub fn validate(c: &Config) -> Result<(), Violation> {
    let mut k = Checker::default();
    check(c, &mut k);
    k.first.map_or(Ok(()), Err)
}

/// What each key accepts, as the checks state it when they check `c`. A bound that depends
/// on another key (`run.end_year` after `run.start_year`) is the one `c` gives.
pub fn accepted(c: &Config) -> BTreeMap<String, String> {
    let mut k = Checker {
        record: Some(BTreeMap::new()),
        ..Checker::default()
    };
    check(c, &mut k);
    k.record.unwrap_or_default()
}

fn check(c: &Config, k: &mut Checker) {
    let r = &c.run;
    k.start_year = r.start_year;
    k.int("run.start_year", i64::from(r.start_year), 1950, 2200);
    k.int("run.end_year", i64::from(r.end_year), 1950, 2300);
    if r.end_year < r.start_year {
        k.fail(
            "run.end_year",
            r.end_year.to_string(),
            format!("a year not before run.start_year ({})", r.start_year),
        );
    }
    k.int(
        "run.lever_start_year",
        i64::from(r.lever_start_year),
        1900,
        2300,
    );
    if r.name.trim().is_empty() {
        k.fail("run.name", "\"\"".into(), "a non-empty name".into());
    }

    let ci = &c.city;
    k.range("city.population", ci.population, 1000.0, 1e8);
    k.shares("city.age_band_shares", &ci.age_band_shares, AGE_BANDS);
    k.range("city.sex_ratio", ci.sex_ratio, 60.0, 160.0);
    k.range("city.household_size", ci.household_size, 1.0, 6.0);
    k.range("city.male_share_decline", ci.male_share_decline, 0.0, 0.02);
    k.int(
        "city.male_share_decline_age",
        i64::from(ci.male_share_decline_age),
        0,
        120,
    );
    k.range("city.couple_share", ci.couple_share, 0.0, 1.0);
    k.range(
        "city.young_adult_at_home_share",
        ci.young_adult_at_home_share,
        0.0,
        1.0,
    );
    k.int(
        "city.parent_age_gap_min",
        i64::from(ci.parent_age_gap_min),
        12,
        60,
    );
    k.int(
        "city.parent_age_gap_max",
        i64::from(ci.parent_age_gap_max),
        i64::from(ci.parent_age_gap_min),
        80,
    );
    k.range("city.owner_share", ci.owner_share, 0.0, 1.0);
    k.range(
        "city.initial_vacancy_rate",
        ci.initial_vacancy_rate,
        0.0,
        0.8,
    );
    k.int("city.estates", i64::from(ci.estates), 1, 100_000);
    k.range("city.shanty_estate_share", ci.shanty_estate_share, 0.0, 1.0);
    k.range("city.estate_quality_sd", ci.estate_quality_sd, 0.0, 1.0);
    k.range(
        "city.mean_floor_area_m2",
        ci.mean_floor_area_m2,
        15.0,
        400.0,
    );
    k.range("city.floor_area_sd_m2", ci.floor_area_sd_m2, 0.0, 200.0);
    k.range("city.min_floor_area_m2", ci.min_floor_area_m2, 5.0, 400.0);
    k.range(
        "city.max_floor_area_m2",
        ci.max_floor_area_m2,
        ci.min_floor_area_m2,
        2000.0,
    );
    k.range(
        "city.shanty_floor_area_factor",
        ci.shanty_floor_area_factor,
        0.1,
        2.0,
    );
    // Build years only label the estates (estates.csv); the newest may be the start year,
    // like the homes the pipeline completes in it, but no estate standing on 1 January
    // can be dated after it.
    k.int(
        "city.oldest_estate_year",
        i64::from(ci.oldest_estate_year),
        1800,
        i64::from(ci.newest_estate_year),
    );
    k.int(
        "city.newest_estate_year",
        i64::from(ci.newest_estate_year),
        1800,
        i64::from(r.start_year),
    );
    k.range("city.price_per_m2", ci.price_per_m2, 100.0, 1e6);
    k.range("city.rent_per_m2", ci.rent_per_m2, 1.0, 1e5);
    k.range(
        "city.initial_saleability",
        ci.initial_saleability,
        0.01,
        1.0,
    );
    k.range(
        "city.initial_unemployment_rate",
        ci.initial_unemployment_rate,
        0.0,
        0.5,
    );
    k.range(
        "city.savings_years_of_income",
        ci.savings_years_of_income,
        0.0,
        50.0,
    );
    k.range(
        "city.labour_force_participation",
        ci.labour_force_participation,
        0.0,
        1.0,
    );
    k.sectors("city.initial_jobs", &ci.initial_jobs, 0.0, 1e8);
    let jobs: f64 = ci.initial_jobs.as_array().iter().sum();
    if jobs > ci.population {
        k.fail(
            "city.initial_jobs",
            format!("{jobs} jobs in all"),
            format!("at most city.population ({}) jobs in all", ci.population),
        );
    }
    k.sectors("city.wages", &ci.wages, 1.0, 1e7);
    k.range("city.wage_sd_log", ci.wage_sd_log, 0.0, 2.0);
    k.range(
        "city.unemployment_benefit",
        ci.unemployment_benefit,
        0.0,
        1e7,
    );
    k.range("city.pension", ci.pension, 0.0, 1e7);
    k.range(
        "city.climate_tolerance_mean",
        ci.climate_tolerance_mean,
        0.0,
        1.0,
    );
    k.range(
        "city.climate_tolerance_sd",
        ci.climate_tolerance_sd,
        0.0,
        1.0,
    );
    k.range("city.attachment_mean", ci.attachment_mean, 0.0, 1.0);
    k.range("city.attachment_sd", ci.attachment_sd, 0.0, 1.0);
    let co = &ci.coal;
    k.int("city.coal.mines", i64::from(co.mines), 0, 10_000);
    k.range("city.coal.reserve_mt", co.reserve_mt, 0.0, 1e6);
    k.range("city.coal.capacity_mt", co.capacity_mt, 0.0, 1e4);
    k.range("city.coal.reserve_spread", co.reserve_spread, 0.0, 0.99);
    k.range(
        "city.coal.max_extraction_share",
        co.max_extraction_share,
        0.0,
        1.0,
    );
    k.range(
        "city.coal.closure_reserve_mt",
        co.closure_reserve_mt,
        0.0,
        1e4,
    );
    k.series("city.coal.capacity", &co.capacity, 0.0, 10.0);
    let cl = &ci.climate;
    k.range("city.climate.mean_temp_c", cl.mean_temp_c, -40.0, 40.0);
    k.range("city.climate.winter_low_c", cl.winter_low_c, -70.0, 30.0);
    k.range(
        "city.climate.destination_winter_low_c",
        cl.destination_winter_low_c,
        -70.0,
        30.0,
    );
    k.series(
        "city.climate.winter_severity",
        &cl.winter_severity,
        0.0,
        5.0,
    );
    let s = &ci.services;
    k.range(
        "city.services.doctors_per_1000",
        s.doctors_per_1000,
        0.0,
        50.0,
    );
    k.range(
        "city.services.destination_doctors_per_1000",
        s.destination_doctors_per_1000,
        0.01,
        50.0,
    );
    k.range("city.services.school_quality", s.school_quality, 0.0, 1.0);
    k.range("city.services.amenity_index", s.amenity_index, 0.0, 1.0);

    let d = &c.demography;
    k.range("demography.makeham_c", d.makeham_c, 0.0, 0.1);
    k.range("demography.gompertz_a_male", d.gompertz_a_male, 0.0, 0.01);
    k.range(
        "demography.gompertz_a_female",
        d.gompertz_a_female,
        0.0,
        0.01,
    );
    k.range("demography.gompertz_b", d.gompertz_b, 0.0, 0.3);
    k.range(
        "demography.mortality_improvement",
        d.mortality_improvement,
        -0.1,
        0.1,
    );
    k.int(
        "demography.mortality_reference_year",
        i64::from(d.mortality_reference_year),
        1900,
        2300,
    );
    k.range("demography.infant_mortality", d.infant_mortality, 0.0, 0.2);
    k.range("demography.total_fertility", d.total_fertility, 0.0, 8.0);
    k.shares(
        "demography.fertility_age_shares",
        &d.fertility_age_shares,
        FERTILITY_BANDS,
    );
    k.range("demography.boys_per_girl", d.boys_per_girl, 0.5, 2.0);
    k.int(
        "demography.leave_home_min_age",
        i64::from(d.leave_home_min_age),
        14,
        40,
    );
    k.range("demography.leave_home_rate", d.leave_home_rate, 0.0, 1.0);
    k.range("demography.pairing_share", d.pairing_share, 0.0, 1.0);

    let l = &c.labour;
    k.range(
        "labour.coal_productivity_growth",
        l.coal_productivity_growth,
        -0.5,
        0.5,
    );
    k.range("labour.linkage_elasticity", l.linkage_elasticity, 0.0, 3.0);
    k.range(
        "labour.other_resource_coal_share",
        l.other_resource_coal_share,
        0.0,
        1.0,
    );
    k.range(
        "labour.other_resource_trend",
        l.other_resource_trend,
        -0.5,
        0.5,
    );
    k.range(
        "labour.manufacturing_trend",
        l.manufacturing_trend,
        -0.5,
        0.5,
    );
    k.range("labour.high_tech_trend", l.high_tech_trend, -0.5, 0.5);
    k.range(
        "labour.services_multiplier",
        l.services_multiplier,
        0.0,
        5.0,
    );
    k.range(
        "labour.services_spending_weight",
        l.services_spending_weight,
        0.0,
        1.0,
    );
    k.range(
        "labour.public_jobs_per_1000",
        l.public_jobs_per_1000,
        0.0,
        500.0,
    );
    k.range(
        "labour.public_jobs_transfer_share",
        l.public_jobs_transfer_share,
        0.0,
        1.0,
    );
    k.range("labour.churn_rate", l.churn_rate, 0.0, 1.0);
    k.range("labour.search_exit_rate", l.search_exit_rate, 0.0, 1.0);
    k.range("labour.reentry_rate", l.reentry_rate, 0.0, 1.0);
    k.range(
        "labour.matching_efficiency",
        l.matching_efficiency,
        0.0,
        5.0,
    );
    k.range("labour.matching_alpha", l.matching_alpha, 0.0, 1.0);
    k.int(
        "labour.school_leaving_age",
        i64::from(l.school_leaving_age),
        14,
        25,
    );
    k.range("labour.university_share", l.university_share, 0.0, 1.0);
    k.int(
        "labour.graduation_age",
        i64::from(l.graduation_age),
        i64::from(l.school_leaving_age),
        30,
    );
    k.range(
        "labour.retirement_age_men",
        l.retirement_age_men,
        40.0,
        80.0,
    );
    k.range(
        "labour.retirement_age_women_workers",
        l.retirement_age_women_workers,
        40.0,
        80.0,
    );
    k.range(
        "labour.retirement_age_women_staff",
        l.retirement_age_women_staff,
        40.0,
        80.0,
    );
    k.sector_list("labour.staff_sectors", &l.staff_sectors);
    k.int(
        "labour.retirement_reform_year",
        i64::from(l.retirement_reform_year),
        1950,
        2300,
    );
    k.range(
        "labour.retirement_raise_men",
        l.retirement_raise_men,
        0.0,
        10.0,
    );
    k.range(
        "labour.retirement_raise_women_workers",
        l.retirement_raise_women_workers,
        0.0,
        10.0,
    );
    k.range(
        "labour.retirement_raise_women_staff",
        l.retirement_raise_women_staff,
        0.0,
        10.0,
    );
    // The rise is spread over the birth dates of `phase_in − raise` years, so the
    // phase-in must be longer than the largest rise.
    let raise = l
        .retirement_raise_men
        .max(l.retirement_raise_women_workers)
        .max(l.retirement_raise_women_staff);
    k.range(
        "labour.retirement_phase_in_years",
        l.retirement_phase_in_years,
        raise + 1.0,
        60.0,
    );
    k.sectors(
        "labour.internal_retirement_years",
        &l.internal_retirement_years,
        0.0,
        15.0,
    );
    k.sectors("labour.demand_adjustment", &l.demand_adjustment, 0.01, 1.0);
    k.range(
        "labour.wage_curve_elasticity",
        l.wage_curve_elasticity,
        -1.0,
        0.0,
    );
    k.series("labour.local_wage_growth", &l.local_wage_growth, -0.5, 0.5);

    let m = &c.migration;
    k.range("migration.realisation_rate", m.realisation_rate, 0.0, 1.0);
    k.range(
        "migration.young_realisation_rate",
        m.young_realisation_rate,
        0.0,
        1.0,
    );
    // A rate plus the unemployed's extra is a yearly probability: at most 1.
    k.range(
        "migration.unemployed_realisation_rate",
        m.unemployed_realisation_rate,
        0.0,
        1.0 - m
            .realisation_rate
            .max(m.young_realisation_rate)
            .clamp(0.0, 1.0),
    );
    k.range("migration.intercept", m.intercept, -20.0, 20.0);
    for (key, v) in [
        ("migration.unemployed_weight", m.unemployed_weight),
        ("migration.wage_weight", m.wage_weight),
        ("migration.climate_weight", m.climate_weight),
        ("migration.services_weight", m.services_weight),
        ("migration.amenity_weight", m.amenity_weight),
        ("migration.network_weight", m.network_weight),
        ("migration.family_weight", m.family_weight),
        ("migration.housing_weight", m.housing_weight),
        ("migration.owner_lockin_weight", m.owner_lockin_weight),
        ("migration.attachment_weight", m.attachment_weight),
    ] {
        k.range(key, v, 0.0, 50.0);
    }
    if m.age_effects.len() != AGE_BANDS {
        k.fail(
            "migration.age_effects",
            format!("{} values", m.age_effects.len()),
            format!("exactly {AGE_BANDS} values, one per 5-year band"),
        );
    }
    for &v in &m.age_effects {
        k.range("migration.age_effects", v, -20.0, 20.0);
    }
    k.range("migration.coldness_scale_c", m.coldness_scale_c, 1.0, 100.0);
    k.range(
        "migration.doctors_gap_weight",
        m.doctors_gap_weight,
        0.0,
        1.0,
    );
    k.int(
        "migration.family_generation_gap_years",
        i64::from(m.family_generation_gap_years),
        12,
        60,
    );
    k.int(
        "migration.family_min_age",
        i64::from(m.family_min_age),
        30,
        120,
    );
    k.int(
        "migration.amenity_max_age",
        i64::from(m.amenity_max_age),
        0,
        120,
    );
    k.int(
        "migration.young_min_age",
        i64::from(m.young_min_age),
        14,
        40,
    );
    k.int(
        "migration.young_max_age",
        i64::from(m.young_max_age),
        i64::from(m.young_min_age),
        60,
    );
    k.range("migration.destination_wage", m.destination_wage, 1.0, 1e7);
    k.series(
        "migration.destination_wage_growth",
        &m.destination_wage_growth,
        -0.5,
        0.5,
    );
    k.range(
        "migration.immigrant_households_per_1000",
        m.immigrant_households_per_1000,
        0.0,
        200.0,
    );
    k.range(
        "migration.cheap_housing_pull",
        m.cheap_housing_pull,
        0.0,
        100.0,
    );
    k.range("migration.return_rate", m.return_rate, 0.0, 1.0);
    k.range(
        "migration.arrivals_per_vacancy",
        m.arrivals_per_vacancy,
        0.0,
        10.0,
    );
    k.int(
        "migration.arrival_min_age",
        i64::from(m.arrival_min_age),
        16,
        100,
    );
    k.int(
        "migration.arrival_max_age",
        i64::from(m.arrival_max_age),
        i64::from(m.arrival_min_age),
        100,
    );
    k.range(
        "migration.arrival_child_probability",
        m.arrival_child_probability,
        0.0,
        1.0,
    );
    k.range(
        "migration.arrival_employed_share",
        m.arrival_employed_share,
        0.0,
        1.0,
    );

    let h = &c.housing;
    k.range("housing.ask_markup", h.ask_markup, -1.0, 1.0);
    k.range("housing.ask_heat", h.ask_heat, 0.0, 2.0);
    k.range("housing.ask_cut", h.ask_cut, 0.0, 0.9);
    k.series("housing.mortgage_rate", &h.mortgage_rate, 0.0, 0.3);
    k.range("housing.holding_cost", h.holding_cost, 0.0, 0.2);
    k.range("housing.expectation_weight", h.expectation_weight, 0.0, 5.0);
    k.range(
        "housing.national_expectation_weight",
        h.national_expectation_weight,
        0.0,
        5.0,
    );
    k.series(
        "housing.national_price_growth",
        &h.national_price_growth,
        -0.5,
        0.5,
    );
    k.range("housing.market_memory", h.market_memory, 0.0, 0.95);
    k.range(
        "housing.tenure_sensitivity",
        h.tenure_sensitivity,
        0.0,
        100.0,
    );
    k.range("housing.price_elasticity", h.price_elasticity, 0.0, 5.0);
    k.range(
        "housing.displaced_buy_share",
        h.displaced_buy_share,
        0.0,
        1.0,
    );
    k.range("housing.rent_response", h.rent_response, 0.0, 2.0);
    k.range(
        "housing.natural_rental_vacancy",
        h.natural_rental_vacancy,
        0.0,
        0.9,
    );
    k.range("housing.held_let_share", h.held_let_share, 0.0, 1.0);
    k.range(
        "housing.investors_per_1000",
        h.investors_per_1000,
        0.0,
        1000.0,
    );
    k.range("housing.investor_yield", h.investor_yield, 0.001, 0.5);
    k.range("housing.investor_yield_sd", h.investor_yield_sd, 0.0, 3.0);
    k.range("housing.down_payment_share", h.down_payment_share, 0.0, 1.0);
    k.range(
        "housing.emigrant_sell_share",
        h.emigrant_sell_share,
        0.0,
        1.0,
    );
    k.range("housing.heir_sell_share", h.heir_sell_share, 0.0, 1.0);
    k.range("housing.withdrawal_rate", h.withdrawal_rate, 0.0, 1.0);
    k.range("housing.relist_rate", h.relist_rate, 0.0, 1.0);
    k.range("housing.listing_heat", h.listing_heat, 0.0, 3.0);
    k.series("housing.deposit_rate", &h.deposit_rate, 0.0001, 0.3);
    k.range("housing.loss_aversion", h.loss_aversion, 0.0, 2.0);
    k.range("housing.gain_listing", h.gain_listing, 0.0, 10.0);
    k.range("housing.upgrade_rate", h.upgrade_rate, 0.0, 1.0);
    k.range("housing.upgrade_buy_share", h.upgrade_buy_share, 0.0, 1.0);
    k.range("housing.trade_up_step", h.trade_up_step, 1.0, 5.0);
    k.range("housing.selling_cost", h.selling_cost, 0.0, 0.5);
    k.range(
        "housing.new_household_buy_share",
        h.new_household_buy_share,
        0.0,
        1.0,
    );
    k.range(
        "housing.immigrant_buy_share",
        h.immigrant_buy_share,
        0.0,
        1.0,
    );
    k.range(
        "housing.price_to_income_limit",
        h.price_to_income_limit,
        0.1,
        100.0,
    );
    k.int("housing.viewings", i64::from(h.viewings), 1, 1000);
    k.series("housing.completions", &h.completions, 0.0, 1e7);
    k.int(
        "housing.new_estate_size",
        i64::from(h.new_estate_size),
        1,
        1_000_000,
    );
    k.series("housing.construction_cost", &h.construction_cost, 1.0, 1e6);
    k.range("housing.construction_rate", h.construction_rate, 0.0, 1.0);
    k.range("housing.new_estate_quality", h.new_estate_quality, 0.1, 3.0);
    k.range(
        "housing.new_estate_min_floor_area_m2",
        h.new_estate_min_floor_area_m2,
        5.0,
        ci.max_floor_area_m2,
    );
    k.int(
        "housing.abandon_after_years",
        i64::from(h.abandon_after_years),
        1,
        100,
    );
    k.range(
        "housing.abandon_max_quality",
        h.abandon_max_quality,
        0.0,
        10.0,
    );
    k.range("housing.abandon_rate", h.abandon_rate, 0.0, 1.0);

    let e = &c.economy;
    k.range("economy.base_consumption", e.base_consumption, 0.0, 1e7);
    k.range("economy.income_propensity", e.income_propensity, 0.0, 1.0);
    k.range("economy.wealth_propensity", e.wealth_propensity, 0.0, 1.0);

    let p = &c.policy;
    k.series(
        "policy.shantytown_demolitions_per_1000",
        &p.shantytown_demolitions_per_1000,
        0.0,
        200.0,
    );
    k.range(
        "policy.compensation_multiple",
        p.compensation_multiple,
        0.0,
        10.0,
    );
    k.series("policy.new_industry_jobs", &p.new_industry_jobs, 0.0, 1e7);
    k.series("policy.high_tech_jobs", &p.high_tech_jobs, 0.0, 1e7);
    k.series(
        "policy.firm_creation_boost",
        &p.firm_creation_boost,
        0.0,
        5.0,
    );
    k.series("policy.amenity_gain", &p.amenity_gain, 0.0, 1.0);
    k.series(
        "policy.doctors_per_1000_gain",
        &p.doctors_per_1000_gain,
        0.0,
        50.0,
    );
    k.range(
        "policy.support_jobs_per_doctor",
        p.support_jobs_per_doctor,
        0.0,
        10.0,
    );
    k.series(
        "policy.school_quality_gain",
        &p.school_quality_gain,
        0.0,
        1.0,
    );
    k.series("policy.wage_premium", &p.wage_premium, -0.5, 2.0);
}
