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

/// bevy records every despawned entity's components for `RemovedComponents` readers and
/// frees the records only in `World::clear_trackers` (which bevy_app calls each frame). Nothing
/// here reads them, so each year drops them: kept, they grew by six entries per departed
/// resident for the whole run (~1.2 million departures at full scale).
fn forget_removals(world: &mut World) {
    world.clear_trackers();
}

impl YearSet {
    /// The domains in the order they run.
    pub const DOMAINS: [YearSet; 5] = [
        YearSet::Demography,
        YearSet::Labour,
        YearSet::Migration,
        YearSet::Housing,
        YearSet::Economy,
    ];

    fn add_systems(&self, schedule: &mut Schedule) {
        match self {
            YearSet::Begin => {
                schedule.add_systems((forget_removals, begin_year).chain().in_set(YearSet::Begin));
            }
            YearSet::Demography => model::demography::add_systems(schedule),
            YearSet::Labour => model::labour::add_systems(schedule),
            YearSet::Migration => model::migration::add_systems(schedule),
            YearSet::Housing => model::housing::add_systems(schedule),
            YearSet::Economy => model::economy::add_systems(schedule),
        }
    }
}

/// The schedule for one year. Systems run one after another (each may use all threads
/// inside through `par_iter`); Commands are applied between them.
pub fn year_schedule() -> Schedule {
    let mut sets = vec![YearSet::Begin];
    sets.extend(YearSet::DOMAINS);
    schedule_for(&sets)
}

/// A schedule with only some of the year's sets, in the year's order (benchmarks time one
/// domain at a time with it).
pub fn schedule_for(sets: &[YearSet]) -> Schedule {
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
    for set in sets {
        set.add_systems(&mut schedule);
    }
    schedule
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::experiment::{RunSpec, world};
    use crate::sim::Clock;

    /// Records of removed components kept by bevy, summed over component types.
    fn removal_records(w: &World) -> usize {
        w.removed_components().iter().map(|(_, m)| m.len()).sum()
    }

    #[test]
    fn removal_records_do_not_pile_up_across_years() {
        let cfg = crate::config::baseline();
        let mut w = world(
            &cfg,
            &RunSpec {
                seed: 1,
                scale: 0.01,
            },
        );
        let mut schedule = year_schedule();
        let mut per_year = Vec::new();
        for year in cfg.run.start_year..cfg.run.start_year + 6 {
            w.resource_mut::<Clock>().year = year;
            schedule.run(&mut w);
            per_year.push(removal_records(&w));
        }
        // Residents leave every year (households are a resource); bevy keeps the records of at most the
        // last two years, so the count stays near two years' worth instead of growing.
        assert!(per_year[0] > 0, "{per_year:?}");
        assert!(per_year[5] < 3 * per_year[0], "{per_year:?}");
    }
}
