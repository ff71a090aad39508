//! The order of one year, written once: every domain's systems placed in its set, the sets
//! chained: begin, demography, labour, migration, housing, economy.

use bevy_ecs::prelude::*;
use bevy_ecs::schedule::SingleThreadedExecutor;

use crate::model::tally::Tally;

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
/// here reads them, so each year drops them: kept, they would grow by one entry per component
/// of every despawned resident for the whole run.
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

    /// Place this set's systems, in the order they run within it.
    fn add_systems(&self, schedule: &mut Schedule) {
        use crate::model::{demography, economy, household, housing, labour, migration};
        let set = self.clone();
        match self {
            YearSet::Begin => {
                schedule.add_systems((forget_removals, begin_year).chain().in_set(set));
            }
            YearSet::Demography => {
                schedule.add_systems(
                    (
                        demography::die_and_age,
                        demography::give_birth,
                        demography::settle_households,
                        demography::leave_home,
                    )
                        .chain()
                        .in_set(set),
                );
            }
            YearSet::Labour => {
                schedule.add_systems(
                    (
                        labour::index_wages,
                        labour::extract_coal,
                        labour::set_labour_demand,
                        labour::separate_and_enter,
                        labour::match_job_seekers,
                    )
                        .chain()
                        .in_set(set),
                );
            }
            YearSet::Migration => {
                schedule.add_systems(
                    (
                        household::gather_households,
                        migration::emigrate,
                        migration::admit_immigrants,
                    )
                        .chain()
                        .in_set(set),
                );
            }
            YearSet::Housing => {
                schedule.add_systems(
                    (
                        housing::release_vacated,
                        housing::build_estates,
                        housing::trade_homes,
                    )
                        .chain()
                        .in_set(set),
                );
            }
            YearSet::Economy => {
                schedule.add_systems(economy::measure_retail_sales.in_set(set));
            }
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
    use crate::engine::Clock;
    use crate::engine::par::init_task_pool;

    /// Records of removed components kept by bevy, summed over component types.
    fn removal_records(w: &World) -> usize {
        w.removed_components().iter().map(|(_, m)| m.len()).sum()
    }

    #[test]
    fn removal_records_do_not_pile_up_across_years() {
        let cfg = crate::config::baseline();
        init_task_pool(None);
        let mut w = crate::sim::world::build_world(&cfg, 1, 0.01);
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
