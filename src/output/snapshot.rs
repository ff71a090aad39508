//! Agent snapshots: one row per resident, sorted by agent id.

use bevy_ecs::prelude::*;
use std::io::Write;

use crate::model::demography::{AgentId, Person, Sex};
use crate::model::household::{Household, HouseholdId, Member, Role, Tenure};
use crate::model::housing::{HousingMarket, HousingStock};
use crate::model::labour::{Income, Job};
use crate::model::migration::Traits;

pub const HEADER: &str = "agent_id,household_id,age,sex,role,status,sector,income,climate_tolerance,attachment,owns_home,dwelling_id,estate_id,home_value\n";

/// Write every resident of `world` as CSV rows to `out`.
pub fn write_agents(world: &mut World, out: &mut impl Write) -> std::io::Result<()> {
    let mut homes: Vec<Option<Household>> = Vec::new();
    for (id, hh) in world.query::<(&HouseholdId, &Household)>().iter(world) {
        let i = id.0 as usize;
        if homes.len() <= i {
            homes.resize(i + 1, None);
        }
        homes[i] = Some(*hh);
    }
    let mut rows: Vec<(AgentId, Person, Job, Income, Traits, Member)> = world
        .query::<(&AgentId, &Person, &Job, &Income, &Traits, &Member)>()
        .iter(world)
        .map(|(a, p, j, i, t, m)| (*a, *p, *j, *i, *t, *m))
        .collect();
    rows.sort_unstable_by_key(|r| r.0);
    let stock = world.resource::<HousingStock>();
    let price = world.resource::<HousingMarket>().price_per_m2;
    out.write_all(HEADER.as_bytes())?;
    for (id, p, job, income, traits, member) in rows {
        let hh = homes.get(member.0.0 as usize).copied().flatten();
        let sex = if p.sex == Sex::Male { "male" } else { "female" };
        let role = match p.role {
            Role::Head => "head",
            Role::Partner => "partner",
            Role::Child => "child",
        };
        let sector = job.sector.map_or("", |s| s.name());
        write!(
            out,
            "{},{},{},{},{},{},{},{:.0},{:.3},{:.3},",
            id.0,
            member.0.0,
            p.age,
            sex,
            role,
            job.status.name(),
            sector,
            income.yuan,
            traits.climate_tolerance,
            traits.attachment
        )?;
        match hh {
            Some(h) => {
                let owns = h.tenure == Tenure::Owner;
                let estate = stock.dwellings[h.dwelling.0 as usize].estate;
                let value = if owns {
                    stock.value(h.dwelling, price)
                } else {
                    0.0
                };
                writeln!(
                    out,
                    "{},{},{},{:.0}",
                    u8::from(owns),
                    h.dwelling.0,
                    estate,
                    value
                )?;
            }
            None => writeln!(out, "0,,,0")?,
        }
    }
    Ok(())
}
