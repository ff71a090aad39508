//! Demography: ageing, mortality (Gompertz–Makeham by sex with yearly improvement),
//! fertility (an age schedule scaled to a total fertility rate), young adults leaving home,
//! and households left without members (dissolved) or without a head (a new head steps up).

use bevy_ecs::prelude::*;
use bevy_ecs::utils::Parallel;
use serde::{Deserialize, Serialize};

use crate::config::DemographyConfig;
use crate::model::household::{HouseholdId, Households, Member, Role};
use crate::model::housing::{VacateReason, Vacated};
use crate::model::labour::{Income, Job, Status};
use crate::model::migration::Traits;
use crate::sim::rng::{SimRng, Stage, Streams, shuffle};
use crate::sim::{Clock, Cohorts, Ids, Params, Tally, despawn_batch, par_parts_mut};

/// A resident's stable id: never reused, and the only id that reaches output or decides order.
#[derive(
    Component, Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
pub struct AgentId(pub u64);

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[repr(u8)]
pub enum Sex {
    Male,
    Female,
}

#[derive(Component, Clone, Copy, Debug, Serialize, Deserialize)]
pub struct Person {
    pub age: u8,
    pub sex: Sex,
    pub role: Role,
}

// ---------------------------------------------------------------- rules

/// Probability of dying within the year at `age`, `years` after the start year.
pub fn death_probability(d: &DemographyConfig, age: u8, sex: Sex, years: i32) -> f64 {
    if age == 0 {
        return d.infant_mortality;
    }
    let a = match sex {
        Sex::Male => d.gompertz_a_male,
        Sex::Female => d.gompertz_a_female,
    } * (1.0 - d.mortality_improvement).powi(years);
    let hazard = d.makeham_c + a * (d.gompertz_b * f64::from(age)).exp();
    1.0 - (-hazard).exp()
}

/// Probability that a woman aged `age` gives birth this year.
pub fn birth_probability(d: &DemographyConfig, age: u8) -> f64 {
    if !(15..50).contains(&age) {
        return 0.0;
    }
    d.total_fertility * d.fertility_age_shares[usize::from((age - 15) / 5)] / 5.0
}

// ---------------------------------------------------------------- systems

/// Each resident may die (at their current age); survivors age one year.
pub fn die_and_age(
    mut commands: Commands,
    params: Res<Params>,
    clock: Res<Clock>,
    mut tally: ResMut<Tally>,
    mut residents: Query<(Entity, &AgentId, &mut Person)>,
) {
    let d = &params.demography;
    let years = clock.years_since_start();
    // One probability per age and sex this year, instead of an exp per resident.
    let table: Vec<[f64; 2]> = (0..=u8::MAX)
        .map(|a| [Sex::Male, Sex::Female].map(|s| death_probability(d, a, s, years)))
        .collect();
    let streams = Streams::new(clock.seed, clock.year, Stage::Mortality);
    let mut dead: Parallel<Vec<(AgentId, Entity)>> = Parallel::default();
    residents
        .par_iter_mut()
        .for_each(|(entity, id, mut person)| {
            let mut rng = streams.rng(id.0);
            if rng.chance(table[usize::from(person.age)][person.sex as usize]) {
                dead.borrow_local_mut().push((*id, entity));
            } else {
                person.age = person.age.saturating_add(1);
            }
        });
    let mut dead: Vec<_> = dead.drain().collect();
    dead.sort_unstable();
    let dead: Vec<_> = dead.into_iter().map(|(_, e)| e).collect();
    tally.deaths += dead.len() as u64;
    despawn_batch(&mut commands, dead);
}

/// Women of childbearing age may give birth; the newborn joins the mother's household.
pub fn give_birth(
    mut commands: Commands,
    params: Res<Params>,
    clock: Res<Clock>,
    mut ids: ResMut<Ids>,
    mut tally: ResMut<Tally>,
    mut cohorts: ResMut<Cohorts>,
    mothers: Query<(&AgentId, &Person, &Member)>,
) {
    let d = &params.demography;
    let streams = Streams::new(clock.seed, clock.year, Stage::Fertility);
    let mut births: Parallel<Vec<(AgentId, Member)>> = Parallel::default();
    mothers.par_iter().for_each(|(id, person, member)| {
        if person.sex == Sex::Female {
            let p = birth_probability(d, person.age);
            if p > 0.0 && streams.rng(id.0).chance(p) {
                births.borrow_local_mut().push((*id, *member));
            }
        }
    });
    let mut births: Vec<_> = births.drain().collect();
    births.sort_unstable_by_key(|b| b.0);
    tally.births += births.len() as u64;
    let boy = d.boys_per_girl / (1.0 + d.boys_per_girl);
    let c = &params.city;
    let newborns: Vec<_> = births
        .into_iter()
        .map(|(mother, member)| {
            let id = ids.agent();
            let mut rng = SimRng::new(
                clock.seed,
                clock.year,
                Stage::Fertility,
                mother.0 ^ (1 << 63),
            );
            let sex = if rng.chance(boy) {
                Sex::Male
            } else {
                Sex::Female
            };
            cohorts.add_member(clock.year);
            (
                id,
                Person {
                    age: 0,
                    sex,
                    role: Role::Child,
                },
                Job::new(Status::Child),
                Income::newborn(&mut rng, c.wage_sd_log),
                Traits::draw(&mut rng, c),
                member,
            )
        })
        .collect();
    commands.spawn_batch(newborns);
}

/// A young adult leaving the parental home: they form a household (alone or paired with
/// another leaver) if the housing step finds them a dwelling.
#[derive(Clone, Debug)]
pub struct HomeLeaver {
    pub id: AgentId,
    pub entity: Entity,
    pub sex: Sex,
    pub income_yuan: f32,
}

/// New households waiting for a dwelling: one or two leavers each.
#[derive(Resource, Clone, Debug, Default)]
pub struct Formations(pub Vec<Vec<HomeLeaver>>);

/// Adult children leave home with a yearly probability; leavers of the same year pair at
/// random (a man with a woman) with probability `pairing_share`.
pub fn leave_home(
    params: Res<Params>,
    clock: Res<Clock>,
    mut formations: ResMut<Formations>,
    residents: Query<(Entity, &AgentId, &Person, &Job, &Income)>,
) {
    let d = &params.demography;
    let streams = Streams::new(clock.seed, clock.year, Stage::LeaveHome);
    let mut leavers: Parallel<Vec<HomeLeaver>> = Parallel::default();
    residents
        .par_iter()
        .for_each(|(entity, id, person, job, income)| {
            if person.role == Role::Child
                && person.age >= d.leave_home_min_age
                && job.status != Status::Student
                && streams.rng(id.0).chance(d.leave_home_rate)
            {
                leavers.borrow_local_mut().push(HomeLeaver {
                    id: *id,
                    entity,
                    sex: person.sex,
                    income_yuan: income.yuan,
                });
            }
        });
    let mut leavers: Vec<_> = leavers.drain().collect();
    leavers.sort_unstable_by_key(|l| l.id);
    let mut rng = SimRng::new(clock.seed, clock.year, Stage::Pairing, 0);
    shuffle(&mut leavers, &mut rng);
    let (mut men, mut women): (Vec<_>, Vec<_>) =
        leavers.into_iter().partition(|l| l.sex == Sex::Male);
    let mut groups = Vec::new();
    let mut singles = Vec::new();
    while !men.is_empty() && !women.is_empty() {
        let (m, w) = (
            men.pop().expect("non-empty"),
            women.pop().expect("non-empty"),
        );
        if rng.chance(d.pairing_share) {
            groups.push(vec![m, w]);
        } else {
            singles.extend([m, w]);
        }
    }
    groups.extend(singles.into_iter().chain(men).chain(women).map(|l| vec![l]));
    groups.sort_unstable_by_key(|g| g[0].id);
    formations.0 = groups;
}

/// A candidate to head a household: partners first (0), then the oldest (`u8::MAX - age`).
type Successor = (u8, u8, AgentId, Entity);

/// Households with no members left are dissolved (their dwelling is vacated: heirs sell
/// or keep it empty); households whose head died get a new head (the partner, else the
/// oldest member).
pub fn settle_households(
    ids: Res<Ids>,
    mut vacated: ResMut<Vacated>,
    mut households: ResMut<Households>,
    mut residents: Query<(Entity, &AgentId, &mut Person, &Member)>,
) {
    let n = ids.next_household as usize;
    // Members per household, with the top bit set when it has a head.
    const HEAD: u32 = 1 << 31;
    let mut count = vec![0u32; n];
    // Each thread takes a range of household ids and scans all residents for its own (as in
    // `gather_households`): the scans are sequential and the scattered writes are split.
    let readonly = residents.as_readonly();
    par_parts_mut(&mut count, |first, part| {
        for (_, _, person, member) in readonly
            .contiguous_iter()
            .expect("residents are stored in tables")
        {
            for (p, m) in person.iter().zip(member) {
                if let Some(c) = (m.0.0 as usize)
                    .checked_sub(first)
                    .and_then(|h| part.get_mut(h))
                {
                    *c += 1;
                    if p.role == Role::Head {
                        *c |= HEAD;
                    }
                }
            }
        }
    });
    let empty: Vec<HouseholdId> = households
        .iter()
        .filter(|(id, _)| count[id.0 as usize] == 0)
        .map(|(id, _)| id)
        .collect();
    for id in empty {
        let hh = households.remove(id).expect("listed above");
        vacated
            .0
            .push((hh.dwelling, hh.tenure, VacateReason::Dissolved));
    }
    // Households that lost their head (rare): the partner, else the oldest member, steps up.
    let headless = |h: usize| count[h] != 0 && count[h] & HEAD == 0;
    if !(0..n).any(headless) {
        return;
    }
    // Candidates from a parallel pass; sorted, the first of each household is its successor.
    let mut candidates: Parallel<Vec<(HouseholdId, Successor)>> = Parallel::default();
    readonly
        .par_iter()
        .for_each(|(entity, id, person, member)| {
            if headless(member.0.0 as usize) {
                let rank = if person.role == Role::Partner { 0 } else { 1 };
                candidates
                    .borrow_local_mut()
                    .push((member.0, (rank, u8::MAX - person.age, *id, entity)));
            }
        });
    let mut candidates: Vec<_> = candidates.drain().collect();
    candidates.sort_unstable();
    candidates.dedup_by_key(|c| c.0);
    for (_, (.., entity)) in candidates {
        if let Ok((_, _, mut person, _)) = residents.get_mut(entity) {
            person.role = Role::Head;
        }
    }
}

pub fn add_systems(schedule: &mut Schedule) {
    use crate::sim::schedule::YearSet;
    schedule.add_systems(
        (die_and_age, give_birth, settle_households, leave_home)
            .chain()
            .in_set(YearSet::Demography),
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_ninety_year_old_dies_far_more_often_than_a_thirty_year_old() {
        let d = crate::config::baseline().demography;
        let old = death_probability(&d, 90, Sex::Male, 0);
        let young = death_probability(&d, 30, Sex::Male, 0);
        assert!(old > 20.0 * young, "{old} vs {young}");
        assert!((0.05..0.4).contains(&old), "{old}");
    }

    #[test]
    fn women_outlive_men_and_mortality_improves() {
        let d = crate::config::baseline().demography;
        assert!(
            death_probability(&d, 70, Sex::Female, 0) < death_probability(&d, 70, Sex::Male, 0)
        );
        assert!(death_probability(&d, 70, Sex::Male, 20) < death_probability(&d, 70, Sex::Male, 0));
    }

    #[test]
    fn fertility_schedule_sums_to_the_total_fertility_rate() {
        let d = crate::config::baseline().demography;
        let tfr: f64 = (0..=100).map(|a| birth_probability(&d, a)).sum();
        assert!((tfr - d.total_fertility).abs() < 1e-9, "{tfr}");
    }
}
