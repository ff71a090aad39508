//! World set-up: the city on 1 January of the start year. Residents are drawn from the age
//! pyramid, grouped into couples, singles and families, given jobs up to each sector's
//! initial jobs, and housed in dwellings spread over estates of different quality.

use bevy_ecs::prelude::*;
use serde::{Deserialize, Serialize};

use crate::config::{Config, Sector};
use crate::engine::par::{join, par_collect, par_parts_mut};
use crate::engine::rng::{Stage, Streams, shuffle};
use crate::engine::{Clock, Params};
use crate::model::demography::VitalEvents;
use crate::model::economy::Economy;
use crate::model::handoff::{Arrivals, Formations, Vacated};
use crate::model::household::{Household, HouseholdTable, Households, Tenure};
use crate::model::housing::{
    Dwelling, DwellingId, DwellingState, Estate, HousingMarket, HousingStock, home_value,
};
use crate::model::labour::{CoalSector, JobSearch, LabourMarket, income_for, retirement_age};
use crate::model::migration::{Cohorts, MigrationState};
use crate::model::resident::{
    AgentId, Departed, HouseholdId, Ids, Income, Job, Member, Person, Resident, Role, Sex, Status,
    Traits, Work,
};
use crate::model::tally::Tally;

/// Key spaces of the set-up streams: one stream per person for their traits and one for
/// their labour status, one per dwelling; and one stream for each serial step (households,
/// the labour force, the housing), so that steps which do not depend on each other can run
/// at once with the same result.
const PERSON: u64 = 1 << 40;
const LABOUR: u64 = 2 << 40;
const DWELLING: u64 = 3 << 40;
const HOUSEHOLDS: u64 = 4 << 40;
const LABOUR_FORCE: u64 = 5 << 40;
const HOUSING: u64 = 6 << 40;

struct Draft {
    person: Person,
    work: Work,
    traits: Traits,
    household: u32,
}

/// Build the world for `config` at `scale` agents per person.
pub fn build_world(config: &Config, seed: u64, scale: f64) -> World {
    build_world_with_progress(config, seed, scale, &mut |_| {})
}

/// As `build_world`, reporting progress (0–1) through `progress`. People are drawn first;
/// then households are formed while jobs are handed out, and residents are spawned while
/// households are housed (`engine::par::join`: each pair at once when there is more than one thread).
pub fn build_world_with_progress(
    config: &Config,
    seed: u64,
    scale: f64,
    progress: &mut dyn FnMut(f64),
) -> World {
    let c = &config.city;
    let start = config.run.start_year;
    let setup = Streams::new(seed, start, Stage::Setup);
    let n = (c.population * scale).round().max(1.0) as usize;

    let mut people = draw_people(config, setup, n);
    progress(0.3);
    let ((homes, n_households), jobs) = join(
        || form_households(config, setup, &people),
        || hand_out_jobs(config, setup, scale, &people),
    );
    par_parts_mut(&mut people, |first, part| {
        for (j, d) in part.iter_mut().enumerate() {
            (d.person.role, d.household) = homes[first + j];
            d.work.job = jobs[first + j];
            d.work.income.yuan = income_for(config, d.work.job, d.work.income.skill, 1.0, 1.0, 0.0);
        }
    });
    drop((homes, jobs));
    progress(0.6);

    let (mut world, (stock, households)) = join(
        || spawn_residents(config, seed, scale, n_households, &people),
        || house(config, setup, scale, n_households, &people),
    );
    *world.resource_mut::<HousingStock>() = stock;
    *world.resource_mut::<Households>() = households;
    progress(1.0);
    world
}

/// People from the age pyramid, each with their own traits and skill, all children for now.
fn draw_people(config: &Config, setup: Streams, n: usize) -> Vec<Draft> {
    let c = &config.city;
    let bands = &c.age_band_shares;
    let total: f64 = bands.iter().sum();
    let young_men = young_male_share(
        bands,
        c.sex_ratio,
        c.male_share_decline,
        c.male_share_decline_age,
    );
    par_collect(n, |i| {
        let mut rng = setup.rng(PERSON | i as u64);
        let mut u = rng.uniform() * total;
        let mut band = bands.len() - 1;
        for (i, s) in bands.iter().enumerate() {
            if u < *s {
                band = i;
                break;
            }
            u -= s;
        }
        let age = (band * 5 + rng.below(band_width(band, bands.len()))) as u8;
        // Women outlive men: the male share falls with age after `male_share_decline_age`.
        let male = young_men
            - c.male_share_decline * f64::from(age.saturating_sub(c.male_share_decline_age));
        let sex = if rng.chance(male) {
            Sex::Male
        } else {
            Sex::Female
        };
        Draft {
            person: Person {
                age,
                sex,
                role: Role::Child,
            },
            work: Work {
                job: Job::new(Status::Child),
                income: Income::newborn(&mut rng, c.wage_sd_log),
            },
            traits: Traits::draw(&mut rng, c),
            household: u32::MAX,
        }
    })
}

/// Years in age band `band` of `n` five-year bands (the last is 15 years wide: 85-99).
fn band_width(band: usize, n: usize) -> usize {
    if band == n - 1 { 15 } else { 5 }
}

/// The men's share up to `decline_age` that gives `sex_ratio` men per 100 women over the whole
/// pyramid (`bands`: shares of five-year bands), the share falling `decline` a year of age
/// above `decline_age` (women outlive men).
fn young_male_share(bands: &[f64], sex_ratio: f64, decline: f64, decline_age: u8) -> f64 {
    let total: f64 = bands.iter().sum();
    // The mean over residents of max(0, age - decline_age), ages even within their band.
    let years_above: f64 = bands
        .iter()
        .enumerate()
        .map(|(b, share)| {
            let width = band_width(b, bands.len());
            let above: usize = (b * 5..b * 5 + width)
                .map(|a| a.saturating_sub(usize::from(decline_age)))
                .sum();
            share / total * above as f64 / width as f64
        })
        .sum();
    sex_ratio / (100.0 + sex_ratio) + decline * years_above
}

/// The probability that two independent adults of a band (a man and a woman) form a couple
/// for `n` residents to live in `n / household_size` households: each couple makes one
/// household fewer than the `independent` adults would alone, `pairs` the most couples the
/// bands allow. Outside 0-1 when the stated size cannot be reached with these adults (too many
/// living with parents, or too few of one sex): the built size, in `manifest.json`, then
/// differs from the stated one.
fn couple_share_for(n: usize, household_size: f64, independent: usize, pairs: usize) -> f64 {
    let couples = independent as f64 - n as f64 / household_size;
    couples / pairs.max(1) as f64
}

/// Each person's role and household id: couples and singles among independent adults, then
/// dependants. Returns them with the number of households.
fn form_households(config: &Config, setup: Streams, people: &[Draft]) -> (Vec<(Role, u32)>, u32) {
    let c = &config.city;
    let mut rng = setup.rng(HOUSEHOLDS);
    let mut homes = vec![(Role::Child, u32::MAX); people.len()];
    let mut heads: Vec<usize> = Vec::new();
    // Each 18-29-year-old's draw for living with parents, in the order set-up always drew them.
    let draws: Vec<f64> = people
        .iter()
        .map(|d| {
            if (18..30).contains(&d.person.age) {
                rng.uniform()
            } else {
                1.0
            }
        })
        .collect();
    let classify = |at_home_share: f64| {
        let mut dependants = Vec::new();
        let mut by_band: Vec<(Vec<usize>, Vec<usize>)> = vec![(Vec::new(), Vec::new()); 20];
        for (i, d) in people.iter().enumerate() {
            let a = d.person.age;
            if a < 18 || (a < 30 && draws[i] < at_home_share) {
                dependants.push(i);
            } else {
                let slot = &mut by_band[usize::from(a / 5).min(19)];
                if d.person.sex == Sex::Male {
                    slot.0.push(i)
                } else {
                    slot.1.push(i)
                }
            }
        }
        let independent: usize = by_band.iter().map(|(m, w)| m.len() + w.len()).sum();
        let pairs: usize = by_band.iter().map(|(m, w)| m.len().min(w.len())).sum();
        let couples = couple_share_for(people.len(), c.household_size, independent, pairs);
        (dependants, by_band, couples)
    };
    // The stated household size: couples first; when even every possible couple leaves too
    // many households, more young adults live with their parents (the least share that
    // reaches the size, by bisection: the draws are fixed, so fewer households with each step).
    let (mut dependants, mut by_band, mut couple_share) = classify(c.young_adult_at_home_share);
    if couple_share > 1.0 {
        let (mut lo, mut hi) = (c.young_adult_at_home_share, 1.0);
        for _ in 0..30 {
            let mid = 0.5 * (lo + hi);
            if classify(mid).2 > 1.0 {
                lo = mid
            } else {
                hi = mid
            }
        }
        (dependants, by_band, couple_share) = classify(hi);
    }
    let mut n_households = 0u32;
    for (men, women) in &mut by_band {
        shuffle(men, &mut rng);
        shuffle(women, &mut rng);
        let mut singles = Vec::new();
        while !men.is_empty() && !women.is_empty() {
            let (m, w) = (
                men.pop().expect("non-empty"),
                women.pop().expect("non-empty"),
            );
            if !rng.chance(couple_share) {
                singles.extend([m, w]);
                continue;
            }
            homes[m] = (Role::Head, n_households);
            homes[w] = (Role::Partner, n_households);
            heads.push(m);
            n_households += 1;
        }
        for &s in singles.iter().chain(men.iter()).chain(women.iter()) {
            homes[s] = (Role::Head, n_households);
            heads.push(s);
            n_households += 1;
        }
    }
    // Dependants join a household whose head is `parent_age_gap_min`–`_max` years older
    // (nearest such age).
    let mut by_head_age: Vec<Vec<u32>> = vec![Vec::new(); 121];
    for &h in &heads {
        by_head_age[usize::from(people[h].person.age)].push(homes[h].1);
    }
    let gaps = usize::from(c.parent_age_gap_max - c.parent_age_gap_min) + 1;
    for i in dependants {
        let want =
            usize::from(people[i].person.age) + usize::from(c.parent_age_gap_min) + rng.below(gaps);
        let found = (0..60).find_map(|k| {
            [want + k, want.saturating_sub(k)]
                .into_iter()
                .find(|&a| a < by_head_age.len() && !by_head_age[a].is_empty())
        });
        homes[i] = match found {
            Some(a) => {
                let list = &by_head_age[a];
                (Role::Child, list[rng.below(list.len())])
            }
            None => {
                n_households += 1;
                (Role::Head, n_households - 1)
            }
        };
    }
    (homes, n_households)
}

/// Each person's job: students and retirees, then the labour force filled up to each sector's
/// initial jobs, in random order.
fn hand_out_jobs(config: &Config, setup: Streams, scale: f64, people: &[Draft]) -> Vec<Job> {
    let (c, l) = (&config.city, &config.labour);
    let start = config.run.start_year;
    let mut jobs = par_collect(people.len(), |i| {
        let (a, sex) = (people[i].person.age, people[i].person.sex);
        if a < l.school_leaving_age {
            return Job::new(Status::Child);
        }
        let mut rng = setup.rng(LABOUR | i as u64);
        Job::new(
            if f64::from(a) >= retirement_age(l, sex, None, f64::from(start - i32::from(a))) {
                Status::Retired
            } else if a < l.graduation_age && rng.chance(l.university_share) {
                Status::Student
            } else if rng.chance(c.labour_force_participation) {
                Status::Unemployed
            } else {
                Status::Inactive
            },
        )
    });
    // Everyone unemployed so far is in the labour force (no one has a job yet). When they are
    // too few for the stated jobs and unemployment, working-age residents drawn as inactive
    // join them, in an order of their own, so the city starts with the jobs the config states.
    let mut labour_force: Vec<usize> = (0..people.len())
        .filter(|&i| jobs[i].status == Status::Unemployed)
        .collect();
    shuffle(&mut labour_force, &mut setup.rng(LABOUR_FORCE));
    let mut reserve: Vec<usize> = (0..people.len())
        .filter(|&i| jobs[i].status == Status::Inactive)
        .collect();
    shuffle(&mut reserve, &mut setup.rng(LABOUR_FORCE | 1));
    labour_force.extend(reserve);
    let mut next = labour_force.iter().copied();
    let mut employed = 0usize;
    'fill: for (s, n_jobs) in Sector::ALL.iter().zip(c.initial_jobs.as_array()) {
        for _ in 0..(n_jobs * scale).round() as usize {
            let Some(i) = next.by_ref().find(|&i| {
                let p = &people[i].person;
                let birth = f64::from(start - i32::from(p.age));
                f64::from(p.age) < retirement_age(l, p.sex, Some(*s), birth)
            }) else {
                break 'fill;
            };
            jobs[i] = Job::employed(*s);
            employed += 1;
        }
    }
    // Of those left without a job, as many search as the stated unemployment rate says; the
    // rest are outside the labour force (inactive), so the city starts with the unemployment
    // the config states rather than whatever the jobs leave over.
    let u = c.initial_unemployment_rate;
    let mut searching = (employed as f64 * u / (1.0 - u)).round() as usize;
    for &i in &labour_force {
        if jobs[i].status == Status::Employed {
            continue;
        }
        jobs[i] = Job::new(if searching > 0 {
            searching -= 1;
            Status::Unemployed
        } else {
            Status::Inactive
        });
    }
    jobs
}

/// The housing stock and the households in it: estates of different quality (the worst are
/// shanty areas), dwellings spread over them, households placed at random.
fn house(
    config: &Config,
    setup: Streams,
    scale: f64,
    n_households: u32,
    people: &[Draft],
) -> (HousingStock, Households) {
    let c = &config.city;
    let mut rng = setup.rng(HOUSING);
    let mut household_income = vec![0f64; n_households as usize];
    for d in people {
        household_income[d.household as usize] += f64::from(d.work.income.yuan);
    }
    let n_dwellings = (f64::from(n_households) / (1.0 - c.initial_vacancy_rate)).ceil() as usize;
    let n_estates = (f64::from(c.estates) * (scale * 10.0).min(1.0))
        .round()
        .max(1.0) as usize;
    let mut qualities: Vec<f32> = (0..n_estates)
        .map(|_| {
            let z: f64 = rand::RngExt::sample(&mut rng, rand_distr::StandardNormal);
            (c.estate_quality_sd * z - c.estate_quality_sd * c.estate_quality_sd / 2.0).exp() as f32
        })
        .collect();
    qualities.sort_by(f32::total_cmp);
    let n_shanty = (c.shanty_estate_share * n_estates as f64).round() as usize;
    // Build years spread evenly by quality over oldest..=newest.
    let years = (c.newest_estate_year - c.oldest_estate_year + 1) as usize;
    let estates: Vec<Estate> = qualities
        .iter()
        .enumerate()
        .map(|(i, &q)| Estate {
            quality: q,
            build_year: c.oldest_estate_year + (i * years / n_estates.max(1)) as i32,
            shanty: i < n_shanty,
        })
        .collect();
    let mut dwellings = par_collect(n_dwellings, |i| {
        let mut rng = setup.rng(DWELLING | i as u64);
        let e = rng.below(n_estates);
        let z: f64 = rand::RngExt::sample(&mut rng, rand_distr::StandardNormal);
        let shrink = if estates[e].shanty {
            c.shanty_floor_area_factor
        } else {
            1.0
        };
        Dwelling::new(
            e as u32,
            ((c.mean_floor_area_m2 + c.floor_area_sd_m2 * z) * shrink)
                .clamp(c.min_floor_area_m2, c.max_floor_area_m2) as f32,
            DwellingState::Vacant,
        )
    });
    let mut order: Vec<usize> = (0..n_dwellings).collect();
    shuffle(&mut order, &mut rng);
    let mut households = Households::default();
    for h in 0..n_households {
        let d = order[h as usize];
        dwellings[d].state = DwellingState::Occupied;
        dwellings[d].occupant = Some(HouseholdId(h));
        let value = home_value(
            dwellings[d].floor_area_m2,
            estates[dwellings[d].estate as usize].quality,
            c.price_per_m2,
        );
        dwellings[d].last_sale_price = value as f32;
        let tenure = if rng.chance(c.owner_share) {
            Tenure::Owner
        } else {
            Tenure::Renter
        };
        dwellings[d].to_let = tenure == Tenure::Renter;
        households.insert(
            HouseholdId(h),
            Household {
                dwelling: DwellingId(d as u32),
                tenure,
                savings_yuan: (c.savings_years_of_income * household_income[h as usize]) as f32,
                floor_area_m2: dwellings[d].floor_area_m2,
                estate: dwellings[d].estate,
                quality: estates[dwellings[d].estate as usize].quality,
            },
        );
    }
    (HousingStock { dwellings, estates }, households)
}

/// A world with every resource (the housing stock and the households empty, for `house` to
/// fill) and the residents, numbered and stored household by household, so that the passes
/// that gather members into their households read and write memory in order.
fn spawn_residents(
    config: &Config,
    seed: u64,
    scale: f64,
    n_households: u32,
    people: &[Draft],
) -> World {
    let c = &config.city;
    let start = config.run.start_year;
    let n = people.len();
    let mut world = World::new();
    let mut cohorts = Cohorts::default();
    let mut start_of = vec![0usize; n_households as usize + 1];
    for d in people {
        start_of[d.household as usize + 1] += 1;
    }
    for h in 0..n_households as usize {
        start_of[h + 1] += start_of[h];
    }
    let mut by_household = vec![0u32; n];
    for (i, d) in people.iter().enumerate() {
        let slot = &mut start_of[d.household as usize];
        by_household[*slot] = i as u32;
        *slot += 1;
    }
    for d in people {
        cohorts.add_member(start - i32::from(d.person.age));
    }
    world.insert_resource(Params(config.clone()));
    world.insert_resource(Clock {
        year: start,
        start_year: start,
        seed,
        scale,
    });
    world.insert_resource(Ids {
        next_agent: n as u64,
        next_household: n_households,
    });
    world.insert_resource(cohorts);
    world.insert_resource(Tally::default());
    world.insert_resource(CoalSector::new(&c.coal));
    world.insert_resource(LabourMarket {
        wage_index: 1.0,
        wage_curve: 1.0,
        destination_wage: config.migration.destination_wage,
        ..Default::default()
    });
    world.insert_resource(HousingStock::default());
    world.insert_resource(HousingMarket {
        price_per_m2: c.price_per_m2,
        last_growth: 0.0,
        saleability: c.initial_saleability,
        heat: 1.0,
        trend: 0.0,
        rent_per_m2: c.rent_per_m2,
        rental_vacancy: config.housing.natural_rental_vacancy,
    });
    world.insert_resource(Vacated::default());
    world.insert_resource(Formations::default());
    world.insert_resource(VitalEvents::default());
    world.insert_resource(JobSearch::default());
    world.insert_resource(Arrivals::default());
    world.insert_resource(Departed::default());
    world.insert_resource(MigrationState::default());
    world.insert_resource(Economy::default());
    world.insert_resource(HouseholdTable::default());
    world.insert_resource(Households::default());
    // Resources are entities with sparse-set storage indexed by entity: inserted first, they
    // take the lowest indices, so their indices stay small (inserted after the residents, each
    // would need an index as long as the resident count).
    // The residents are gathered in a pass of their own before spawning, so many cache misses
    // are in flight at once (gathering inside the spawn loop waits on each in turn).
    let residents: Vec<Resident> = par_collect(n, |i| {
        let d = &people[by_household[i] as usize];
        (
            AgentId(i as u64),
            d.person,
            d.work,
            d.traits,
            Member(HouseholdId(d.household)),
        )
    });
    drop(by_household);
    world.spawn_batch(residents);
    world
}

/// Everything a world carries from one year into the next: the config, the resources that
/// hold state across years, every resident in the order a query visits them now, and every
/// household. Respawning residents in that order gives the same table rows, so later
/// iteration order (and with it float sums over queries and which row a despawn moves) stays
/// the same.
/// `Tally`, `Vacated`, `VitalEvents`, `JobSearch`, `Formations`, `Arrivals`, `Departed` and `HouseholdTable` are scratch: reset,
/// emptied or regathered within a year, so they are not kept.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct WorldState {
    pub config: Config,
    pub clock: Clock,
    pub ids: Ids,
    pub cohorts: Cohorts,
    pub coal: CoalSector,
    pub labour: LabourMarket,
    pub stock: HousingStock,
    pub market: HousingMarket,
    pub migration: MigrationState,
    pub economy: Economy,
    pub residents: Vec<Resident>,
    pub households: Vec<(HouseholdId, Household)>,
}

/// The state of `world` between two years. Fails if a scratch resource is not empty, which
/// would mean something carries across years that a checkpoint would lose.
pub fn capture_world(world: &mut World) -> Result<WorldState, String> {
    if !world.resource::<Vacated>().0.is_empty()
        || !world.resource::<Formations>().0.is_empty()
        || !world.resource::<VitalEvents>().is_empty()
        || !world.resource::<JobSearch>().is_empty()
        || !world.resource::<Arrivals>().0.is_empty()
        || !world.resource::<Departed>().is_empty()
    {
        return Err(
            "vacated dwellings, vital events, job seekers, formations, arrivals or departed residents left over at the end of a year".into(),
        );
    }
    let residents = world
        .query::<(&AgentId, &Person, &Work, &Traits, &Member)>()
        .iter(world)
        .map(|(a, p, w, t, m)| (*a, *p, *w, *t, *m))
        .collect();
    let households = world
        .resource::<Households>()
        .iter()
        .map(|(id, h)| (id, *h))
        .collect();
    Ok(WorldState {
        config: world.resource::<Params>().0.clone(),
        clock: *world.resource::<Clock>(),
        ids: world.resource::<Ids>().clone(),
        cohorts: world.resource::<Cohorts>().clone(),
        coal: world.resource::<CoalSector>().clone(),
        labour: world.resource::<LabourMarket>().clone(),
        stock: world.resource::<HousingStock>().clone(),
        market: world.resource::<HousingMarket>().clone(),
        migration: world.resource::<MigrationState>().clone(),
        economy: world.resource::<Economy>().clone(),
        residents,
        households,
    })
}

/// A world from a captured state: resources first, then residents, in the order
/// `build_world` creates them.
pub fn restore_world(state: WorldState) -> World {
    let mut world = World::new();
    world.insert_resource(Params(state.config));
    world.insert_resource(state.clock);
    world.insert_resource(state.ids);
    world.insert_resource(state.cohorts);
    world.insert_resource(Tally::default());
    world.insert_resource(state.coal);
    world.insert_resource(state.labour);
    world.insert_resource(state.stock);
    world.insert_resource(state.market);
    world.insert_resource(Vacated::default());
    world.insert_resource(Formations::default());
    world.insert_resource(VitalEvents::default());
    world.insert_resource(JobSearch::default());
    world.insert_resource(Arrivals::default());
    world.insert_resource(Departed::default());
    world.insert_resource(state.migration);
    world.insert_resource(state.economy);
    world.insert_resource(HouseholdTable::default());
    world.insert_resource(state.households.into_iter().collect::<Households>());
    world.spawn_batch(state.residents);
    world
}

#[cfg(test)]
mod tests {
    use super::*;

    fn world(set: impl Fn(&mut Config)) -> World {
        crate::engine::par::init_task_pool(None);
        let mut c = crate::config::baseline();
        set(&mut c);
        build_world(&c, 11, 0.002)
    }

    /// Estates are dated from `oldest_estate_year` (worst) up to `newest_estate_year`; start-year
    /// homes lie within the floor-area bounds, and shanty homes are shrunk by their factor.
    #[test]
    fn the_start_stock_follows_its_build_years_and_floor_area_keys() {
        let stock = |w: &World| w.resource::<HousingStock>().clone();
        let base = stock(&world(|_| {}));
        let years: Vec<i32> = base.estates.iter().map(|e| e.build_year).collect();
        assert_eq!(years.first(), Some(&1960));
        assert!(years.iter().all(|y| (1960..=2014).contains(y)));
        assert!(years.windows(2).all(|w| w[0] <= w[1]), "by quality");
        let dated = stock(&world(|c| {
            c.city.oldest_estate_year = 1990;
            c.city.newest_estate_year = 1999;
        }));
        // Six estates at this scale: 1990 + i × 10 / 6.
        let years: Vec<i32> = dated.estates.iter().map(|e| e.build_year).collect();
        assert_eq!(years, [1990, 1991, 1993, 1995, 1996, 1998]);

        let areas = |s: &HousingStock, shanty: bool| -> Vec<f32> {
            s.dwellings
                .iter()
                .filter(|d| s.estates[d.estate as usize].shanty == shanty)
                .map(|d| d.floor_area_m2)
                .collect()
        };
        let mean = |v: &[f32]| v.iter().sum::<f32>() / v.len() as f32;
        let ratio = mean(&areas(&base, true)) / mean(&areas(&base, false));
        assert!((0.6..0.8).contains(&ratio), "{ratio}");
        let bounded = stock(&world(|c| {
            c.city.min_floor_area_m2 = 60.0;
            c.city.max_floor_area_m2 = 80.0;
            c.city.shanty_floor_area_factor = 1.0;
        }));
        let all: Vec<f32> = bounded.dwellings.iter().map(|d| d.floor_area_m2).collect();
        assert!(all.iter().all(|a| (60.0..=80.0).contains(a)));
        assert!(all.contains(&60.0) && all.contains(&80.0));
    }

    /// The male share falls by `male_share_decline` a year above `male_share_decline_age`,
    /// and dependants live with heads `parent_age_gap_min`–`_max` years older.
    #[test]
    fn residents_follow_the_male_share_decline_and_the_parent_age_gap() {
        let people = |w: &mut World| -> Vec<(Person, HouseholdId)> {
            w.query::<(&Person, &Member)>()
                .iter(w)
                .map(|(p, m)| (*p, m.0))
                .collect()
        };
        let men_over_40 = |p: &[(Person, HouseholdId)]| {
            p.iter()
                .filter(|(p, _)| p.age > 40 && p.sex == Sex::Male)
                .count()
        };
        let base = people(&mut world(|_| {}));
        assert!(men_over_40(&base) > 100);
        let steep = people(&mut world(|c| {
            c.city.male_share_decline = 0.01;
            c.city.male_share_decline_age = 40;
        }));
        let share_of_men = |p: &[(Person, HouseholdId)], ages: std::ops::Range<u8>| {
            let band: Vec<_> = p.iter().filter(|(p, _)| ages.contains(&p.age)).collect();
            band.iter().filter(|(p, _)| p.sex == Sex::Male).count() as f64 / band.len() as f64
        };
        // 0.01 a year from 40: about 0.35 fewer men at 70-84 than under 40 ...
        let fall = share_of_men(&steep, 20..40) - share_of_men(&steep, 70..85);
        assert!((0.25..0.45).contains(&fall), "{fall}");
        // ... while the city as a whole keeps the stated sex ratio.
        let men = steep.iter().filter(|(p, _)| p.sex == Sex::Male).count() as f64;
        let ratio = 100.0 * men / (steep.len() as f64 - men);
        let stated = crate::config::baseline().city.sex_ratio;
        assert!((ratio - stated).abs() < 3.0, "{ratio} vs {stated}");

        let mean_gap = |gap: u8| {
            let p = people(&mut world(|c| {
                c.city.parent_age_gap_min = gap;
                c.city.parent_age_gap_max = gap;
            }));
            let head_age: std::collections::HashMap<HouseholdId, u8> = p
                .iter()
                .filter(|(p, _)| p.role == Role::Head)
                .map(|(p, h)| (*h, p.age))
                .collect();
            let gaps: Vec<f64> = p
                .iter()
                .filter(|(p, _)| p.role == Role::Child && p.age < 18)
                .map(|(p, h)| f64::from(head_age[h]) - f64::from(p.age))
                .collect();
            gaps.iter().sum::<f64>() / gaps.len() as f64
        };
        let (young, old) = (mean_gap(24), mean_gap(36));
        assert!((young - 24.0).abs() < 2.0, "{young}");
        assert!((old - 36.0).abs() < 2.0, "{old}");
    }
}
