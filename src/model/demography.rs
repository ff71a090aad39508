//! Demography: ageing, mortality (Gompertz–Makeham by sex with yearly improvement),
//! fertility (an age schedule scaled to a total fertility rate), young adults leaving home,
//! and households left without members (dissolved) or without a head (a new head steps up).

use bevy_ecs::prelude::*;
use bevy_ecs::utils::Parallel;

use crate::config::DemographyConfig;
use crate::engine::rng::{SimRng, Stage, Streams, shuffle};
use crate::engine::{Clock, Params};
use crate::model::handoff::{Formations, HomeLeaver, VacateReason, Vacated};
use crate::model::household::Households;
use crate::model::migration::Cohorts;
use crate::model::resident::{
    AgentId, Departed, HouseholdId, Ids, Income, Job, Member, Person, Role, Sex, Status, Traits,
    Work,
};
use crate::model::tally::Tally;

// ---------------------------------------------------------------- rules

/// Probability of dying within the calendar `year` at `age`: the Gompertz level falls by
/// `mortality_improvement` a year after `mortality_reference_year` (and is higher before it).
pub fn death_probability(d: &DemographyConfig, age: u8, sex: Sex, year: i32) -> f64 {
    if age == 0 {
        return d.infant_mortality;
    }
    let a = match sex {
        Sex::Male => d.gompertz_a_male,
        Sex::Female => d.gompertz_a_female,
    } * (1.0 - d.mortality_improvement).powi(year - d.mortality_reference_year);
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

/// What `die_and_age` drew for the systems after it, so that the year's demography makes
/// one pass over the residents: the households that lost a member, the women who give birth
/// and the young adults who mean to leave home. Emptied before the year's demography ends.
#[derive(Resource, Clone, Debug, Default)]
pub struct VitalEvents {
    /// Households that lost a member to death this year (sorted, each once).
    pub bereaved: Vec<HouseholdId>,
    /// Mothers of this year's newborns, sorted by id.
    pub mothers: Vec<(AgentId, Member)>,
    /// Adult children who drew a move out of the parental home, sorted by id.
    pub leavers: Vec<HomeLeaver>,
}

impl VitalEvents {
    pub fn is_empty(&self) -> bool {
        self.bereaved.is_empty() && self.mothers.is_empty() && self.leavers.is_empty()
    }
}

/// A survivor's events this year, after ageing: a birth (women of childbearing age) and a
/// move out of the parental home (adult children not in education). Each has its own stream,
/// so drawing them in the mortality pass gives the numbers separate passes would.
struct Draws {
    fertility: Streams,
    leave_home: Streams,
}

/// Each resident may die (at their current age); survivors age one year, and in the same
/// pass may give birth or decide to leave home (`VitalEvents`; `give_birth` and `leave_home`
/// act on them).
pub fn die_and_age(
    params: Res<Params>,
    clock: Res<Clock>,
    mut tally: ResMut<Tally>,
    mut events: ResMut<VitalEvents>,
    mut departed: ResMut<Departed>,
    mut residents: Query<(Entity, &AgentId, &mut Person, &Member, &Work)>,
) {
    let d = &params.demography;
    // One probability per age and sex this year, instead of an exp per resident.
    let table: Vec<[f64; 2]> = (0..=u8::MAX)
        .map(|a| [Sex::Male, Sex::Female].map(|s| death_probability(d, a, s, clock.year)))
        .collect();
    let fertility: Vec<f64> = (0..=u8::MAX).map(|a| birth_probability(d, a)).collect();
    let streams = Streams::new(clock.seed, clock.year, Stage::Mortality);
    let draws = Draws {
        fertility: Streams::new(clock.seed, clock.year, Stage::Fertility),
        leave_home: Streams::new(clock.seed, clock.year, Stage::LeaveHome),
    };
    #[derive(Default)]
    struct Found {
        dead: Vec<(AgentId, Entity, HouseholdId)>,
        mothers: Vec<(AgentId, Member)>,
        leavers: Vec<HomeLeaver>,
    }
    let mut found: Parallel<Found> = Parallel::default();
    residents.par_iter_mut().for_each_init(
        || found.borrow_local_mut(),
        |found, (entity, id, mut person, member, work)| {
            if streams
                .rng(id.0)
                .chance(table[usize::from(person.age)][person.sex as usize])
            {
                found.dead.push((*id, entity, member.0));
                return;
            }
            person.age = person.age.saturating_add(1);
            let p = fertility[usize::from(person.age)];
            if person.sex == Sex::Female && p > 0.0 && draws.fertility.rng(id.0).chance(p) {
                found.mothers.push((*id, *member));
            }
            if person.role == Role::Child
                && person.age >= d.leave_home_min_age
                && work.job.status != Status::Student
                && draws.leave_home.rng(id.0).chance(d.leave_home_rate)
            {
                found.leavers.push(HomeLeaver {
                    id: *id,
                    entity: Entity::PLACEHOLDER,
                    sex: person.sex,
                    income_yuan: work.income.yuan,
                });
            }
        },
    );
    let mut dead = Vec::new();
    for f in found.iter_mut() {
        dead.append(&mut f.dead);
        events.mothers.append(&mut f.mothers);
        events.leavers.append(&mut f.leavers);
    }
    dead.sort_unstable_by_key(|d| d.0);
    events.mothers.sort_unstable_by_key(|m| m.0);
    events.leavers.sort_unstable_by_key(|l| l.id);
    events.bereaved = dead.iter().map(|d| d.2).collect();
    events.bereaved.sort_unstable();
    events.bereaved.dedup();
    tally.deaths += dead.len() as u64;
    // The dead keep their rows until `give_birth` places the newborns.
    departed.leave(dead.into_iter().map(|d| (d.0, d.1)).collect());
}

/// This year's mothers (drawn by `die_and_age`) give birth; the newborn joins the mother's
/// household (taking the row of one of the year's dead, while there are any).
pub fn give_birth(
    mut commands: Commands,
    params: Res<Params>,
    clock: Res<Clock>,
    mut ids: ResMut<Ids>,
    mut tally: ResMut<Tally>,
    mut cohorts: ResMut<Cohorts>,
    mut events: ResMut<VitalEvents>,
    mut departed: ResMut<Departed>,
) {
    let d = &params.demography;
    let births = std::mem::take(&mut events.mothers);
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
                Work {
                    job: Job::new(Status::Child),
                    income: Income::newborn(&mut rng, c.wage_sd_log),
                },
                Traits::draw(&mut rng, c),
                member,
            )
        })
        .collect();
    departed.place_newcomers(&mut commands, newborns);
}

/// Adult children leave home with a yearly probability (drawn by `die_and_age`; those who
/// have since become the head of their household stay); leavers of the same year pair at
/// random (a man with a woman) with probability `pairing_share`.
pub fn leave_home(
    params: Res<Params>,
    clock: Res<Clock>,
    ids: Res<Ids>,
    mut formations: ResMut<Formations>,
    mut events: ResMut<VitalEvents>,
    residents: Query<(Entity, &AgentId, &Person)>,
) {
    let d = &params.demography;
    let mut leavers = std::mem::take(&mut events.leavers);
    // Each leaver's row, found by id in one pass (placing the newborns moved rows), if they
    // still live with their parents.
    let mut wanted = vec![false; ids.next_agent as usize];
    for l in &leavers {
        wanted[l.id.0 as usize] = true;
    }
    let mut found: Parallel<Vec<(AgentId, Entity)>> = Parallel::default();
    residents.par_iter().for_each(|(entity, id, p)| {
        if wanted[id.0 as usize] && p.role == Role::Child {
            found.borrow_local_mut().push((*id, entity));
        }
    });
    let mut found: Vec<_> = found.drain().collect();
    found.sort_unstable_by_key(|f| f.0);
    let mut found = found.into_iter().peekable();
    leavers.retain_mut(|l| {
        while found.next_if(|f| f.0 < l.id).is_some() {}
        found
            .next_if(|f| f.0 == l.id)
            .map(|f| l.entity = f.1)
            .is_some()
    });
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

/// Households that lost a member this year are settled: those with no members left are
/// dissolved (their dwelling is vacated: heirs sell or keep it empty); those whose head died
/// get a new head (the partner, else the oldest member). Only a death empties a household or
/// leaves it without a head (households emigrate whole, and only adult children leave
/// alone), so only the bereaved households are looked at.
pub fn settle_households(
    mut vacated: ResMut<Vacated>,
    mut households: ResMut<Households>,
    mut events: ResMut<VitalEvents>,
    mut residents: Query<(Entity, &AgentId, &mut Person, &Member)>,
) {
    let bereaved = std::mem::take(&mut events.bereaved);
    let Some(last) = bereaved.last() else {
        return;
    };
    let mut is_bereaved = vec![false; last.0 as usize + 1];
    for h in &bereaved {
        is_bereaved[h.0 as usize] = true;
    }
    // The members left in bereaved households, from a parallel pass: (household, is the
    // head, successor rank).
    let mut left: Parallel<Vec<(HouseholdId, bool, Successor)>> = Parallel::default();
    residents
        .as_readonly()
        .par_iter()
        .for_each(|(entity, id, person, member)| {
            if is_bereaved.get(member.0.0 as usize) == Some(&true) {
                let rank = if person.role == Role::Partner { 0 } else { 1 };
                left.borrow_local_mut().push((
                    member.0,
                    person.role == Role::Head,
                    (rank, u8::MAX - person.age, *id, entity),
                ));
            }
        });
    let mut left: Vec<_> = left.drain().collect();
    // By household, each household's head first, then its candidates best first.
    left.sort_unstable_by_key(|&(h, head, successor)| (h, !head, successor));
    let mut members = left.iter().peekable();
    for hid in bereaved {
        match members.next_if(|m| m.0 == hid) {
            None => {
                if let Some(hh) = households.remove(hid) {
                    vacated
                        .0
                        .push((hh.dwelling, hh.tenure, VacateReason::Dissolved));
                }
            }
            Some(&(_, has_head, (.., entity))) => {
                if !has_head && let Ok((_, _, mut person, _)) = residents.get_mut(entity) {
                    person.role = Role::Head;
                }
            }
        }
        while members.next_if(|m| m.0 == hid).is_some() {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_ninety_year_old_dies_far_more_often_than_a_thirty_year_old() {
        let d = crate::config::baseline().demography;
        let old = death_probability(&d, 90, Sex::Male, 2015);
        let young = death_probability(&d, 30, Sex::Male, 2015);
        assert!(old > 20.0 * young, "{old} vs {young}");
        assert!((0.05..0.4).contains(&old), "{old}");
    }

    #[test]
    fn women_outlive_men_and_mortality_improves() {
        let d = crate::config::baseline().demography;
        let p = |sex, year| death_probability(&d, 70, sex, year);
        assert!(p(Sex::Female, 2015) < p(Sex::Male, 2015));
        assert!(p(Sex::Male, 2035) < p(Sex::Male, 2015));
    }

    /// Mortality follows the calendar, not the run: a city described in 2010 meets 2010's
    /// higher mortality, and the levels hold in the reference year whatever it is.
    #[test]
    fn mortality_is_keyed_to_the_calendar_year_of_its_levels() {
        let mut d = crate::config::baseline().demography;
        d.makeham_c = 0.0;
        let hazard =
            |d: &DemographyConfig, year| -(1.0 - death_probability(d, 70, Sex::Male, year)).ln();
        let level = d.gompertz_a_male * (d.gompertz_b * 70.0).exp();
        assert!((hazard(&d, d.mortality_reference_year) - level).abs() < 1e-12);
        let before = hazard(&d, 2010) / hazard(&d, 2015);
        assert!(
            (before - (1.0 - d.mortality_improvement).powi(-5)).abs() < 1e-9,
            "{before}"
        );
        d.mortality_reference_year = 2010;
        assert!((hazard(&d, 2010) - level).abs() < 1e-12);
    }

    #[test]
    fn fertility_schedule_sums_to_the_total_fertility_rate() {
        let d = crate::config::baseline().demography;
        let tfr: f64 = (0..=100).map(|a| birth_probability(&d, a)).sum();
        assert!((tfr - d.total_fertility).abs() < 1e-9, "{tfr}");
    }
}
