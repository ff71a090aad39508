//! Running the model: `Run` (a world between two years) and `run_years`, which steps it and
//! hands each year to a sink; every command is built on them, one world per run. Each
//! command is a function of plain options (its own options struct in its own file;
//! `options.rs` holds `RunOptions`, shared by all, with its checks, and the `Meter`) that
//! reports progress to a `Meter` and returns what it wrote: `session` (one run into a run
//! folder, resumed or extended from a checkpoint), `ensemble`, `sweep` (+ `merge`),
//! `sensitivity`, `compare`. No flag parsing, no terminal: that is the CLI's.

pub mod batch;
pub mod compare;
pub mod ensemble;
pub mod options;
pub mod resume;
pub mod sensitivity;
pub mod session;
pub mod stats;
pub mod sweep;
pub mod validation;

pub use compare::{CompareOptions, compare};
pub use ensemble::{EnsembleOptions, EnsembleOutcome, ensemble};
pub use options::{Meter, RunOptions, Silent};
pub use sensitivity::{SensitivityOptions, SensitivityOutcome, sensitivity};
pub use session::{ExtendOptions, Finished, Interrupted, ResumeOptions, SessionOptions, Watch};
pub use sweep::{MergeOptions, SweepOptions, SweepOutcome, merge, sweep};

use bevy_ecs::world::World;
use std::sync::atomic::{AtomicBool, Ordering};

use crate::config::Config;
use crate::engine::Clock;
use crate::output::{Recorder, Sink, YearRecord};
use crate::sim;

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
    let mut run = Run::new(config, spec, progress);
    run_years(
        &mut run,
        config.run.end_year,
        sink,
        progress,
        &RunControl::default(),
    )?;
    Ok(run.recorder.initial_population)
}

/// A world between two years, with the recorder that has measured its years so far.
pub struct Run {
    pub world: World,
    pub recorder: Recorder,
    /// The next year to simulate.
    pub next_year: i32,
}

impl Run {
    /// A new world on 1 January of the start year.
    pub fn new(config: &Config, spec: &RunSpec, progress: &mut dyn FnMut(Progress)) -> Self {
        crate::engine::par::init_task_pool(None);
        let mut world =
            sim::world::build_world_with_progress(config, spec.seed, spec.scale, &mut |f| {
                progress(Progress::Setup(f))
            });
        let recorder = Recorder::new(&mut world);
        Run {
            world,
            recorder,
            next_year: config.run.start_year,
        }
    }

    /// Carry on from a checkpoint taken after `year`.
    pub fn restore(state: sim::world::WorldState, recorder: Recorder, year: i32) -> Self {
        crate::engine::par::init_task_pool(None);
        Run {
            world: sim::world::restore_world(state),
            recorder,
            next_year: year + 1,
        }
    }
}

/// What a long run does besides stepping: stop when asked, check invariants, save state.
#[derive(Clone, Copy, Debug)]
pub struct RunControl<'a> {
    /// Checked between years: once set (by a signal handler), the run stops after the year
    /// in progress, saving a checkpoint.
    pub stop: Option<&'a AtomicBool>,
    /// Check `sim::invariants` after every year (always on in debug builds).
    pub check: bool,
    /// Save a checkpoint every N years since the start, and after the last year.
    pub checkpoint_every: Option<u32>,
}

// Not derivable in debug builds, where `check` defaults to true (clippy only sees release).
#[allow(clippy::derivable_impls)]
impl Default for RunControl<'_> {
    fn default() -> Self {
        RunControl {
            stop: None,
            check: cfg!(debug_assertions),
            checkpoint_every: None,
        }
    }
}

/// How `run_years` ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Every year up to the end year was run.
    Complete,
    /// Stopped on request after `last_year` (checkpointed), or before any year of this call
    /// finished (`None`: nothing new to keep).
    Stopped { last_year: Option<i32> },
}

/// Step `run` from its next year to `end_year`, handing each year to `sink` and asking it for
/// checkpoints as `control` says.
pub fn run_years(
    run: &mut Run,
    end_year: i32,
    sink: &mut dyn Sink,
    progress: &mut dyn FnMut(Progress),
    control: &RunControl,
) -> anyhow::Result<Outcome> {
    let start = run.world.resource::<Clock>().start_year;
    let first = run.next_year;
    let stop_requested = || control.stop.is_some_and(|s| s.load(Ordering::SeqCst));
    let mut invariants = control
        .check
        .then(|| sim::invariants::Invariants::new(&mut run.world));
    let mut schedule = sim::schedule::year_schedule();
    let mut saved = None;
    for year in first..=end_year {
        if stop_requested() {
            if year == first {
                return Ok(Outcome::Stopped { last_year: None });
            }
            if saved != Some(year - 1) {
                sink.checkpoint(&mut run.world, &run.recorder)?;
            }
            return Ok(Outcome::Stopped {
                last_year: Some(year - 1),
            });
        }
        run.world.resource_mut::<Clock>().year = year;
        schedule.run(&mut run.world);
        if let Some(inv) = &mut invariants {
            inv.check(&mut run.world)?;
        }
        let record = run.recorder.measure(&mut run.world);
        sink.year(&record, &mut run.world)?;
        run.next_year = year + 1;
        progress(Progress::Year(year));
        if let Some(n) = control.checkpoint_every
            && ((year - start + 1) % n.max(1) as i32 == 0 || year == end_year)
        {
            sink.checkpoint(&mut run.world, &run.recorder)?;
            saved = Some(year);
        }
    }
    Ok(Outcome::Complete)
}

/// Run and keep every year's record in memory.
pub fn run_to_memory(config: &Config, spec: &RunSpec) -> (i64, Vec<YearRecord>) {
    let mut sink = crate::output::MemorySink::default();
    let initial = run_one(config, spec, &mut sink, &mut |_| {}).expect("a memory sink cannot fail");
    (initial, sink.records)
}

/// Build a world without running it (tests, benches).
pub fn world(config: &Config, spec: &RunSpec) -> World {
    crate::engine::par::init_task_pool(None);
    sim::world::build_world(config, spec.seed, spec.scale)
}
