//! What a resident is: its components and ids, the bundle they make (`Resident`), the ids
//! handed out to newcomers, and the rows of residents who left, which newcomers take over.
//! They are declared here, not in the domain that mostly writes them, so that every domain
//! reads the same resident: demography ages `Person`, labour writes `Work`, housing moves
//! residents between households (`Member`, `Person::role`), and `Traits` are drawn once.

use bevy_ecs::prelude::*;
use serde::{Deserialize, Serialize};

use crate::config::{CityConfig, Sector};
use crate::engine::rng::SimRng;
use crate::engine::rows::rewrite_rows;

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

/// A household's stable id, never reused.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct HouseholdId(pub u32);

/// Which household a resident lives in.
#[derive(Component, Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Member(pub HouseholdId);

/// A resident's place in the household: the head decides for it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[repr(u8)]
pub enum Role {
    Head,
    Partner,
    /// Living with parents, whatever the age.
    Child,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[repr(u8)]
pub enum Status {
    Child,
    Student,
    Employed,
    Unemployed,
    Inactive,
    Retired,
}

impl Status {
    pub fn name(self) -> &'static str {
        match self {
            Status::Child => "child",
            Status::Student => "student",
            Status::Employed => "employed",
            Status::Unemployed => "unemployed",
            Status::Inactive => "inactive",
            Status::Retired => "retired",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Job {
    pub status: Status,
    pub sector: Option<Sector>,
}

impl Job {
    pub fn new(status: Status) -> Self {
        Job {
            status,
            sector: None,
        }
    }
    pub fn employed(sector: Sector) -> Self {
        Job {
            status: Status::Employed,
            sector: Some(sector),
        }
    }
}

/// Annual income and the individual wage factor (skill) that scales a sector's wage.
#[derive(Clone, Copy, Debug, Serialize, Deserialize)]
pub struct Income {
    pub yuan: f32,
    pub skill: f32,
}

impl Income {
    /// A lognormal skill factor with mean 1.
    pub fn newborn(rng: &mut SimRng, sd_log: f64) -> Self {
        let z: f64 = rand::RngExt::sample(rng, rand_distr::StandardNormal);
        Income {
            yuan: 0.0,
            skill: (z * sd_log - sd_log * sd_log / 2.0).exp() as f32,
        }
    }
}

/// A resident's job and income: one component, as the two are mostly read and written
/// together (one column instead of two: each despawn, spawn or row written over moves one
/// fewer column, and a pay rise writes one change tick instead of two).
#[derive(Component, Clone, Copy, Debug, Serialize, Deserialize)]
pub struct Work {
    pub job: Job,
    pub income: Income,
}

/// Personal dispositions, drawn once.
#[derive(Component, Clone, Copy, Debug, Serialize, Deserialize)]
pub struct Traits {
    /// 0 = cannot bear the cold, 1 = indifferent to it.
    pub climate_tolerance: f32,
    /// Attachment to the city (family graves, friends, habit), 0–1.
    pub attachment: f32,
}

impl Traits {
    pub fn draw(rng: &mut SimRng, c: &CityConfig) -> Self {
        let mut normal = |mean: f64, sd: f64| {
            let z: f64 = rand::RngExt::sample(&mut *rng, rand_distr::StandardNormal);
            (mean + sd * z).clamp(0.0, 1.0) as f32
        };
        Traits {
            climate_tolerance: normal(c.climate_tolerance_mean, c.climate_tolerance_sd),
            attachment: normal(c.attachment_mean, c.attachment_sd),
        }
    }
}

/// One resident's components, in the order `capture_world` and `restore_world` use. A new
/// resident component is added here and where residents are made (set-up, births, arrivals).
pub type Resident = (AgentId, Person, Work, Traits, Member);

/// Residents who left the city this step (died, or emigrated) whose rows wait for the step's
/// newcomers: a newcomer written over a departed resident's row costs a few writes, where a
/// despawn and a spawn each cost bevy bookkeeping and cache misses (docs/PERFORMANCE.md).
/// Until then the departed are still entities with their old components, so only
/// systems that do not query residents may run in between (code that must tell them apart asks
/// `has_left`). Placing moves survivors' rows to other entities, so no `Entity` is held across
/// a placement: `AgentId` is who a resident is. `place_newcomers` empties it.
#[derive(Resource, Clone, Debug, Default)]
pub struct Departed {
    /// Sorted by agent id.
    rows: Vec<(AgentId, Entity)>,
}

impl Departed {
    /// Note residents who left; `left` must be sorted by agent id.
    pub fn leave(&mut self, left: Vec<(AgentId, Entity)>) {
        debug_assert!(left.windows(2).all(|w| w[0].0 < w[1].0));
        debug_assert!(
            self.rows.is_empty(),
            "a step's departures were never placed"
        );
        self.rows = left;
    }

    pub fn has_left(&self, id: AgentId) -> bool {
        self.rows.binary_search_by_key(&id, |r| r.0).is_ok()
    }

    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// The newcomers take the departed residents' rows in agent-id order (each component
    /// written over); the rows left over are closed as bevy's despawns, in agent-id order,
    /// would close them (so the table keeps the same order, and iteration order and sums stay
    /// the same), and newcomers left over are spawned. Applied with the calling system's other
    /// commands, after which nobody departed is left in the world.
    pub fn place_newcomers(&mut self, commands: &mut Commands, newcomers: Vec<Resident>) {
        let rows: Vec<Entity> = std::mem::take(&mut self.rows)
            .into_iter()
            .map(|r| r.1)
            .collect();
        commands.queue(move |world: &mut World| {
            let mut newcomers = newcomers;
            let extra = newcomers.split_off(rows.len().min(newcomers.len()));
            rewrite_rows(world, &rows, &newcomers);
            world.spawn_batch(extra);
        });
    }
}

/// Ids are never reused; new agents and households take the next one.
#[derive(Resource, Clone, Debug, Default, Serialize, Deserialize)]
pub struct Ids {
    pub next_agent: u64,
    pub next_household: u32,
}

impl Ids {
    pub fn agent(&mut self) -> AgentId {
        self.next_agent += 1;
        AgentId(self.next_agent - 1)
    }
    pub fn household(&mut self) -> HouseholdId {
        self.next_household += 1;
        HouseholdId(self.next_household - 1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::rng;

    fn resident(id: u64) -> Resident {
        use crate::model::resident::Sex;
        use crate::model::resident::{HouseholdId, Role};
        use crate::model::resident::{Income, Job, Status};
        (
            AgentId(id),
            Person {
                age: (id % 90) as u8,
                sex: Sex::Female,
                role: Role::Head,
            },
            Work {
                job: Job::new(Status::Inactive),
                income: Income {
                    yuan: id as f32,
                    skill: 1.0,
                },
            },
            Traits {
                climate_tolerance: 0.5,
                attachment: 0.5,
            },
            Member(HouseholdId(id as u32)),
        )
    }

    /// After `place_newcomers` the world holds exactly the residents who stayed and the
    /// newcomers, each with all of its own components, in the table order that writing the
    /// newcomers over the departed and despawning the rest (in id order) gives, whether the
    /// newcomers are fewer than the departed (the rest removed) or more (the rest spawned); the
    /// departed are reported as left until then.
    #[test]
    fn newcomers_take_the_departed_rows_and_nobody_departed_is_left() {
        let storage_order = |world: &mut World| -> Vec<u64> {
            world.query::<&AgentId>().iter(world).map(|a| a.0).collect()
        };
        for newcomers in [0usize, 100, 400, 700] {
            let mut world = World::new();
            let mut reference = World::new();
            let entities: Vec<Entity> = (0..1000).map(|i| world.spawn(resident(i)).id()).collect();
            let same: Vec<Entity> = (0..1000)
                .map(|i| reference.spawn(resident(i)).id())
                .collect();
            // About half leave, scattered, including rows at the end of the table.
            let gone: Vec<u64> = (0..1000u64)
                .filter(|&i| rng::mix(i).is_multiple_of(2) || i >= 990)
                .collect();
            let left: Vec<(AgentId, Entity)> = gone
                .iter()
                .map(|&i| (AgentId(i), entities[i as usize]))
                .collect();
            let mut departed = Departed::default();
            departed.leave(left);
            let stays = (0..1000)
                .find(|i| !gone.contains(i))
                .expect("someone stays");
            assert!(departed.has_left(AgentId(999)) && !departed.has_left(AgentId(stays)));
            let arriving: Vec<Resident> =
                (0..newcomers as u64).map(|i| resident(5000 + i)).collect();
            // The reference: newcomers written over the first departed, the others despawned.
            let mut arrivals = arriving.clone().into_iter();
            for &i in &gone {
                let e = same[i as usize];
                match arrivals.next() {
                    Some(n) => {
                        reference.entity_mut(e).insert(n);
                    }
                    None => {
                        reference.despawn(e);
                    }
                }
            }
            reference.spawn_batch(arrivals);
            let mut schedule = Schedule::default();
            schedule.add_systems(move |mut commands: Commands| {
                departed.place_newcomers(&mut commands, arriving.clone());
                assert!(departed.is_empty());
            });
            schedule.run(&mut world);
            assert_eq!(
                storage_order(&mut world),
                storage_order(&mut reference),
                "{newcomers} newcomers"
            );
            let mut found: Vec<Resident> = world
                .query::<(&AgentId, &Person, &Work, &Traits, &Member)>()
                .iter(&world)
                .map(|(a, p, w, t, m)| (*a, *p, *w, *t, *m))
                .collect();
            found.sort_by_key(|r| r.0);
            let expected: Vec<u64> = (0..1000)
                .filter(|i| !gone.contains(i))
                .chain(5000..5000 + newcomers as u64)
                .collect();
            assert_eq!(found.iter().map(|r| r.0.0).collect::<Vec<_>>(), expected);
            for r in &found {
                let want = resident(r.0.0);
                assert_eq!(
                    (r.1.age, r.2.income.yuan, r.4),
                    (want.1.age, want.2.income.yuan, want.4),
                    "resident {}",
                    r.0.0
                );
            }
        }
    }
}
