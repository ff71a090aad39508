//! Households: the unit that owns or rents a dwelling and decides to emigrate together.
//! Residents point at their household through `Member`; households point at their dwelling.

use bevy_ecs::prelude::*;
use serde::{Deserialize, Serialize};

use super::housing::DwellingId;

#[derive(
    Component, Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
pub struct HouseholdId(pub u32);

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[repr(u8)]
pub enum Tenure {
    Owner,
    Renter,
}

#[derive(Component, Clone, Copy, Debug, Serialize, Deserialize)]
pub struct Household {
    pub dwelling: DwellingId,
    pub tenure: Tenure,
    /// Liquid savings, yuan (grows with cash compensation; spent on a purchase).
    pub savings_yuan: f32,
}

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

/// Per-household figures gathered from its members once per step; indexed by household id.
#[derive(Clone, Copy, Debug, Default)]
pub struct HouseholdSummary {
    pub members: u16,
    pub heads: u16,
    pub adults: u16,
    pub labour_force: u16,
    pub unemployed: u16,
    pub earners: u16,
    pub children: u16,
    pub elderly: u16,
    pub income_yuan: f32,
    pub head_age: u8,
    pub head_tolerance: f32,
    pub head_attachment: f32,
}

impl HouseholdSummary {
    pub fn is_empty(&self) -> bool {
        self.members == 0
    }
}
