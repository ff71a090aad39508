//! The order of one year, written once: demography, labour, migration, housing, economy.

use bevy_ecs::prelude::*;
use bevy_ecs::schedule::SingleThreadedExecutor;

use crate::model;
use crate::sim::Tally;

#[derive(SystemSet, Debug, Clone, PartialEq, Eq, Hash)]
pub enum YearSet {
    Begin,
    Demography,
    Labour,
    Migration,
    Housing,
    Economy,
}

fn begin_year(mut tally: ResMut<Tally>) {
    *tally = Tally::default();
}

/// The schedule for one year. Systems run one after another (each may use all threads
/// inside through `par_iter`); Commands are applied between them.
pub fn year_schedule() -> Schedule {
    let mut schedule = Schedule::default();
    schedule.set_executor(SingleThreadedExecutor::new());
    schedule.configure_sets(
        (
            YearSet::Begin,
            YearSet::Demography,
            YearSet::Labour,
            YearSet::Migration,
            YearSet::Housing,
            YearSet::Economy,
        )
            .chain(),
    );
    schedule.add_systems(begin_year.in_set(YearSet::Begin));
    model::demography::add_systems(&mut schedule);
    model::labour::add_systems(&mut schedule);
    model::migration::add_systems(&mut schedule);
    model::housing::add_systems(&mut schedule);
    model::economy::add_systems(&mut schedule);
    schedule
}
