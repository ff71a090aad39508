//! The config as written in TOML: every section and key, nothing resolved. Unknown keys are
//! rejected (`deny_unknown_fields`), so a typo is an error rather than a silent default.
//! What describes the *city* is kept apart from *behaviour* (how residents decide) and
//! *policy* (scenario levers), so another city is another `[city]` section.

use serde::{Deserialize, Serialize};

use super::series::Series;

#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    pub run: RunConfig,
    pub city: CityConfig,
    pub demography: DemographyConfig,
    pub labour: LabourConfig,
    pub migration: MigrationConfig,
    pub housing: HousingConfig,
    pub economy: EconomyConfig,
    pub policy: PolicyConfig,
}

#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RunConfig {
    pub name: String,
    pub start_year: i32,
    pub end_year: i32,
    /// The first year a lever (a number or a ramp given for a series key) changes its series.
    pub lever_start_year: i32,
    pub seed: u64,
}

/// Six employment sectors, in output order.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct PerSector {
    pub coal: f64,
    pub other_resource: f64,
    pub manufacturing: f64,
    pub high_tech: f64,
    pub services: f64,
    pub public: f64,
}

impl PerSector {
    pub fn as_array(&self) -> [f64; 6] {
        [
            self.coal,
            self.other_resource,
            self.manufacturing,
            self.high_tech,
            self.services,
            self.public,
        ]
    }
}

pub const SECTOR_NAMES: [&str; 6] = [
    "coal",
    "other_resource",
    "manufacturing",
    "high_tech",
    "services",
    "public",
];

/// Written in a config by its `SECTOR_NAMES` name (`high_tech`); checkpoints store the index.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[repr(u8)]
pub enum Sector {
    Coal,
    OtherResource,
    Manufacturing,
    HighTech,
    Services,
    Public,
}

impl Sector {
    pub const ALL: [Sector; 6] = [
        Sector::Coal,
        Sector::OtherResource,
        Sector::Manufacturing,
        Sector::HighTech,
        Sector::Services,
        Sector::Public,
    ];

    pub fn name(self) -> &'static str {
        SECTOR_NAMES[self as usize]
    }
}

#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct CityConfig {
    pub population: f64,
    pub age_band_shares: Vec<f64>,
    /// Men per 100 women, all ages, in the start year.
    pub sex_ratio: f64,
    /// Residents per household in the start year.
    pub household_size: f64,
    /// Fall in the male share per year of age above `male_share_decline_age`.
    pub male_share_decline: f64,
    pub male_share_decline_age: u8,
    pub couple_share: f64,
    pub young_adult_at_home_share: f64,
    /// A dependant lives with a head this many years older, at least and at most.
    pub parent_age_gap_min: u8,
    pub parent_age_gap_max: u8,
    pub owner_share: f64,
    pub initial_vacancy_rate: f64,
    pub estates: u32,
    pub shanty_estate_share: f64,
    pub estate_quality_sd: f64,
    pub mean_floor_area_m2: f64,
    pub floor_area_sd_m2: f64,
    /// Bounds of a start-year dwelling's floor area, m2 (`max` also bounds new homes).
    pub min_floor_area_m2: f64,
    pub max_floor_area_m2: f64,
    /// Shanty dwellings' floor area as a multiple of the city's draw.
    pub shanty_floor_area_factor: f64,
    /// Build years of the worst and the best estate standing at the start.
    pub oldest_estate_year: i32,
    pub newest_estate_year: i32,
    pub price_per_m2: f64,
    pub rent_per_m2: f64,
    pub initial_saleability: f64,
    pub savings_years_of_income: f64,
    pub labour_force_participation: f64,
    pub initial_unemployment_rate: f64,
    pub initial_jobs: PerSector,
    pub wages: PerSector,
    pub wage_sd_log: f64,
    pub unemployment_benefit: f64,
    pub pension: f64,
    pub climate_tolerance_mean: f64,
    pub climate_tolerance_sd: f64,
    pub attachment_mean: f64,
    pub attachment_sd: f64,
    pub coal: CoalConfig,
    pub climate: ClimateConfig,
    pub services: ServicesConfig,
}

#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct CoalConfig {
    pub mines: u32,
    pub reserve_mt: f64,
    pub capacity_mt: f64,
    pub reserve_spread: f64,
    pub max_extraction_share: f64,
    pub closure_reserve_mt: f64,
    pub capacity: Series,
}

#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ClimateConfig {
    pub mean_temp_c: f64,
    pub winter_low_c: f64,
    pub destination_winter_low_c: f64,
    pub winter_severity: Series,
}

#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ServicesConfig {
    pub doctors_per_1000: f64,
    pub destination_doctors_per_1000: f64,
    pub school_quality: f64,
    pub amenity_index: f64,
}

#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct DemographyConfig {
    pub makeham_c: f64,
    pub gompertz_a_male: f64,
    pub gompertz_a_female: f64,
    pub gompertz_b: f64,
    pub mortality_improvement: f64,
    /// The calendar year the Gompertz levels describe; `mortality_improvement` applies to
    /// each year after it (and, negated, before it).
    pub mortality_reference_year: i32,
    pub infant_mortality: f64,
    pub total_fertility: f64,
    pub fertility_age_shares: Vec<f64>,
    pub boys_per_girl: f64,
    pub leave_home_min_age: u8,
    pub leave_home_rate: f64,
    pub pairing_share: f64,
}

#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct LabourConfig {
    pub coal_productivity_growth: f64,
    pub linkage_elasticity: f64,
    pub other_resource_coal_share: f64,
    pub other_resource_trend: f64,
    pub manufacturing_trend: f64,
    pub high_tech_trend: f64,
    pub services_multiplier: f64,
    pub services_spending_weight: f64,
    pub public_jobs_per_1000: f64,
    pub public_jobs_transfer_share: f64,
    pub churn_rate: f64,
    pub search_exit_rate: f64,
    pub reentry_rate: f64,
    pub matching_efficiency: f64,
    pub matching_alpha: f64,
    pub school_leaving_age: u8,
    pub university_share: f64,
    pub graduation_age: u8,
    pub retirement_age_men: f64,
    pub retirement_age_women_workers: f64,
    pub retirement_age_women_staff: f64,
    /// Sectors whose women retire at the staff age (the others at the workers' age).
    pub staff_sectors: Vec<Sector>,
    pub retirement_reform_year: i32,
    pub retirement_phase_in_years: f64,
    pub wage_curve_elasticity: f64,
    pub internal_retirement_years: PerSector,
    pub demand_adjustment: PerSector,
    pub retirement_raise_men: f64,
    pub retirement_raise_women_workers: f64,
    pub retirement_raise_women_staff: f64,
    pub local_wage_growth: Series,
}

#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct MigrationConfig {
    pub realisation_rate: f64,
    pub young_realisation_rate: f64,
    pub unemployed_realisation_rate: f64,
    pub intercept: f64,
    pub unemployed_weight: f64,
    pub wage_weight: f64,
    pub age_effects: Vec<f64>,
    pub climate_weight: f64,
    /// Winter lows this many degrees C colder than the destination's make a coldness of 1.
    pub coldness_scale_c: f64,
    pub services_weight: f64,
    /// Weight of the doctors' gap in the service gap; school quality weighs 1 − this.
    pub doctors_gap_weight: f64,
    pub amenity_weight: f64,
    pub amenity_max_age: u8,
    pub network_weight: f64,
    pub family_weight: f64,
    /// The family term reads the cohort born this many years after the decider...
    pub family_generation_gap_years: u8,
    /// ... for deciders of at least this age.
    pub family_min_age: u8,
    pub housing_weight: f64,
    pub owner_lockin_weight: f64,
    pub attachment_weight: f64,
    pub young_min_age: u8,
    pub young_max_age: u8,
    pub destination_wage: f64,
    pub destination_wage_growth: Series,
    pub immigrant_households_per_1000: f64,
    pub cheap_housing_pull: f64,
    pub return_rate: f64,
    pub arrivals_per_vacancy: f64,
    /// Ages of arriving household heads, inclusive.
    pub arrival_min_age: u8,
    pub arrival_max_age: u8,
    /// Probability that an arriving household whose head is under 45 brings a child.
    pub arrival_child_probability: f64,
    /// Share of arriving adults who come with a job (the others search).
    pub arrival_employed_share: f64,
}

#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct HousingConfig {
    pub ask_markup: f64,
    pub ask_heat: f64,
    pub ask_cut: f64,
    pub mortgage_rate: Series,
    pub holding_cost: f64,
    pub expectation_weight: f64,
    pub national_expectation_weight: f64,
    pub national_price_growth: Series,
    pub market_memory: f64,
    pub tenure_sensitivity: f64,
    pub price_elasticity: f64,
    pub displaced_buy_share: f64,
    pub rent_response: f64,
    pub natural_rental_vacancy: f64,
    pub held_let_share: f64,
    pub investors_per_1000: f64,
    pub investor_yield: f64,
    pub investor_yield_sd: f64,
    pub down_payment_share: f64,
    pub emigrant_sell_share: f64,
    pub heir_sell_share: f64,
    pub withdrawal_rate: f64,
    pub relist_rate: f64,
    pub listing_heat: f64,
    pub deposit_rate: Series,
    pub loss_aversion: f64,
    pub gain_listing: f64,
    pub upgrade_rate: f64,
    pub upgrade_buy_share: f64,
    pub trade_up_step: f64,
    pub selling_cost: f64,
    pub new_household_buy_share: f64,
    pub immigrant_buy_share: f64,
    pub price_to_income_limit: f64,
    pub viewings: u32,
    pub completions: Series,
    pub construction_cost: Series,
    pub construction_rate: f64,
    pub new_estate_size: u32,
    pub new_estate_quality: f64,
    /// Smallest floor area of a new home, m2 (the largest is `city.max_floor_area_m2`).
    pub new_estate_min_floor_area_m2: f64,
    pub abandon_after_years: u32,
    pub abandon_max_quality: f64,
    pub abandon_rate: f64,
}

#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct EconomyConfig {
    pub base_consumption: f64,
    pub income_propensity: f64,
    pub wealth_propensity: f64,
}

#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct PolicyConfig {
    pub shantytown_demolitions_per_1000: Series,
    pub compensation_multiple: f64,
    pub new_industry_jobs: Series,
    pub high_tech_jobs: Series,
    pub firm_creation_boost: Series,
    pub amenity_gain: Series,
    pub doctors_per_1000_gain: Series,
    /// Support jobs (nurses, technicians) added with each policy doctor.
    pub support_jobs_per_doctor: f64,
    pub school_quality_gain: Series,
    pub wage_premium: Series,
}
