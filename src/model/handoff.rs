//! Typed hand-offs between domains within a year: what one step leaves for a later one.
//! Each is emptied by the step that consumes it.

use bevy_ecs::prelude::*;

use crate::model::household::Tenure;
use crate::model::housing::DwellingId;
use crate::model::resident::{AgentId, Person, Sex, Traits, Work};

/// Why a dwelling was left.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum VacateReason {
    Dissolved,
    Emigrated,
}

/// Dwellings left this year by dissolved or emigrating households.
#[derive(Resource, Clone, Debug, Default)]
pub struct Vacated(pub Vec<(DwellingId, Tenure, VacateReason)>);

/// A young adult leaving the parental home: they form a household (alone or paired with
/// another leaver) if the housing step finds them a dwelling.
#[derive(Clone, Debug)]
pub struct HomeLeaver {
    pub id: AgentId,
    /// The leaver's row, found by `leave_home` (rows move when the year's newborns are placed,
    /// so `die_and_age` cannot know it); valid until the year's arrivals are placed.
    pub entity: Entity,
    pub sex: Sex,
    pub income_yuan: f32,
}

/// New households waiting for a dwelling: one or two leavers each.
#[derive(Resource, Clone, Debug, Default)]
pub struct Formations(pub Vec<Vec<HomeLeaver>>);

/// One arriving resident, before it is housed and spawned.
#[derive(Clone, Debug)]
pub struct Newcomer {
    pub person: Person,
    pub work: Work,
    pub traits: Traits,
}

/// A household arriving from outside, with its members and savings.
#[derive(Clone, Debug)]
pub struct Arrival {
    pub members: Vec<Newcomer>,
    pub savings_yuan: f32,
}

#[derive(Resource, Clone, Debug, Default)]
pub struct Arrivals(pub Vec<Arrival>);
