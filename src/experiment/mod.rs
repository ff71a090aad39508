//! Experiments are loops over `run_one`: one world per run, records handed to a sink.

pub mod batch;
pub mod compare;
pub mod ensemble;
pub mod sensitivity;
pub mod stats;
pub mod sweep;

use bevy_ecs::world::World;

use crate::config::Config;
use crate::output::{Recorder, Sink, YearRecord};
use crate::sim::{self, Clock};

/// What one run needs besides the config.
#[derive(Clone, Debug)]
pub struct RunSpec {
    pub seed: u64,
    pub scale: f64,
}

/// Progress events for a progress bar.
pub enum Progress {
    Setup(f64),
    Year(i32),
}

/// Build the world and step it from the start to the end year, handing each year to `sink`.
/// Returns the initial population (people).
pub fn run_one(
    config: &Config,
    spec: &RunSpec,
    sink: &mut dyn Sink,
    progress: &mut dyn FnMut(Progress),
) -> anyhow::Result<i64> {
    sim::init_task_pool(None);
    let mut world =
        sim::world::build_world_with_progress(config, spec.seed, spec.scale, &mut |f| {
            progress(Progress::Setup(f))
        });
    let mut recorder = Recorder::new(&mut world);
    let mut schedule = sim::schedule::year_schedule();
    for year in config.run.start_year..=config.run.end_year {
        world.resource_mut::<Clock>().year = year;
        schedule.run(&mut world);
        let record = recorder.measure(&mut world);
        sink.year(&record, &mut world)?;
        progress(Progress::Year(year));
    }
    Ok(recorder.initial_population)
}

/// Run and keep every year's record in memory.
pub fn run_to_memory(config: &Config, spec: &RunSpec) -> (i64, Vec<YearRecord>) {
    let mut sink = crate::output::MemorySink::default();
    let initial = run_one(config, spec, &mut sink, &mut |_| {}).expect("a memory sink cannot fail");
    (initial, sink.records)
}

/// Build a world without running it (tests, benches).
pub fn world(config: &Config, spec: &RunSpec) -> World {
    sim::init_task_pool(None);
    sim::world::build_world(config, spec.seed, spec.scale)
}
