//! One run written to a run folder, from the start (`run`) or from a checkpoint (`resume`,
//! `extend`). A stop flag (set by the caller, e.g. on Ctrl-C) stops it cleanly between two
//! years: the completed years are kept, the manifest says `complete: false`, and a
//! checkpoint lets `resume` finish the run. Signals and printing are the caller's.

use anyhow::Context;
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;
use std::time::Instant;

use super::options::{Meter, RunOptions, check_threads};
use super::{Outcome, Progress, Run, RunControl, run_years};
use crate::config::{self, Config, UsageError};
use crate::output::checkpoint::{self, Checkpoint};
use crate::output::{Format, Manifest, RunFolder, RunYears, Snapshots, SummaryRow, tables};

/// The run was stopped on request: exit code 130. The message says how to resume.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct Interrupted(pub String);

/// What `run` is given.
#[derive(Clone, Debug)]
pub struct SessionOptions {
    pub run: RunOptions,
    /// Output folder. `None`: `output/<config name>/`.
    pub out: Option<PathBuf>,
    /// Replace an existing run in the output folder.
    pub force: bool,
    /// Which years get an agent snapshot.
    pub snapshots: Snapshots,
    /// The format of every table of the run folder.
    pub format: Format,
    /// Save `checkpoint.bin` every N years and after the last.
    pub checkpoint_every: Option<u32>,
}

/// What `extend` is given: a finished run's checkpoint and a later end year.
#[derive(Clone, Debug)]
pub struct ExtendOptions {
    /// The checkpoint file (`<run folder>/checkpoint.bin`).
    pub checkpoint: PathBuf,
    pub end_year: i32,
    /// Output folder. `None`: `<run folder>-to-<end year>` beside the run folder.
    pub out: Option<PathBuf>,
    pub force: bool,
    pub threads: Option<usize>,
    pub check: bool,
    /// `None`: the interval the run was started with.
    pub checkpoint_every: Option<u32>,
}

/// What `resume` is given: the folder of an interrupted run.
#[derive(Clone, Debug)]
pub struct ResumeOptions {
    pub dir: PathBuf,
    pub threads: Option<usize>,
    pub check: bool,
}

/// What watches a run besides its options: a stop flag checked between years, where the
/// run is staged (told `Some` once the staging folder exists and `None` once it is moved or
/// removed, so that an abort can remove it), and the progress meter.
pub struct Watch<'a> {
    pub stop: &'a AtomicBool,
    pub staging: &'a dyn Fn(Option<&Path>),
    pub meter: &'a mut dyn Meter,
}

/// A run folder moved into place, complete.
#[derive(Clone, Debug)]
pub struct Finished {
    pub dir: PathBuf,
    pub wall_time_s: f64,
    /// The first and the last year of `summary.csv` (from the start year, also after a
    /// resume or an extension): the headline figures of the run.
    pub first: SummaryRow,
    pub last: SummaryRow,
}

/// A new run into a run folder.
pub fn run(opts: &SessionOptions, watch: &mut Watch) -> anyhow::Result<Finished> {
    let (loaded, spec) = opts.run.resolve()?;
    let config = &loaded.config;
    let threads = crate::engine::par::init_task_pool(opts.run.threads);
    let out = opts
        .out
        .clone()
        .unwrap_or_else(|| PathBuf::from("output").join(&loaded.stem));
    let mut folder = RunFolder::create(
        &out,
        opts.force,
        opts.snapshots,
        opts.format,
        config.run.start_year,
    )?;
    folder.label(&loaded.stem, opts.checkpoint_every);
    (watch.staging)(Some(folder.staging()));
    let started = Instant::now();
    watch.meter.start(100, "setting up");
    let meter = &mut *watch.meter;
    let run = Run::new(config, &spec, &mut |p| {
        if let Progress::Setup(f) = p {
            meter.set_position((f * 100.0) as u64)
        }
    });
    let job = Job {
        config,
        config_name: &loaded.stem,
        threads,
        checkpoint_every: opts.checkpoint_every,
        check: opts.run.check,
        resumed_from_year: None,
        format: opts.format,
        started,
    };
    job.drive(run, folder, watch)
}

/// Finish an interrupted run from `DIR/checkpoint.bin`, in place.
pub fn resume(opts: &ResumeOptions, watch: &mut Watch) -> anyhow::Result<Finished> {
    check_threads(opts.threads)?;
    let dir = &opts.dir;
    let file = dir.join(checkpoint::FILE_NAME);
    if !file.is_file() && complete(dir) {
        return Err(UsageError::msg(format!(
            "{} holds a complete run: nothing to resume",
            dir.display()
        )));
    }
    let c = read_checkpoint(&file)?;
    let end = c.world.config.run.end_year;
    if c.year >= end {
        return Err(UsageError::msg(format!(
            "{} holds a complete run (to {end}); to go further: shrinkcity run --from-checkpoint {} --end-year YEAR",
            dir.display(),
            dir.join(checkpoint::FILE_NAME).display()
        )));
    }
    let threads = crate::engine::par::init_task_pool(opts.threads);
    carry_on(c, dir, dir, false, threads, opts.check, None, watch)
}

/// Carry a finished run on past its end year, into a new folder holding every year from
/// the start.
pub fn extend(opts: &ExtendOptions, watch: &mut Watch) -> anyhow::Result<Finished> {
    check_threads(opts.threads)?;
    let file = &opts.checkpoint;
    let mut c = read_checkpoint(file)?;
    let end = opts.end_year;
    if end <= c.year {
        return Err(UsageError::msg(format!(
            "--end-year {end}: {} holds the state after {}; give a later year",
            file.display(),
            c.year
        )));
    }
    c.world.config = config::with_overrides(&c.world.config, &[format!("run.end_year={end}")])?;
    let source = file
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let out = opts.out.clone().unwrap_or_else(|| {
        let name = std::fs::canonicalize(source)
            .ok()
            .and_then(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
            .unwrap_or_else(|| c.config_name.clone());
        source
            .parent()
            .unwrap_or(Path::new("."))
            .join(format!("{name}-to-{end}"))
    });
    let threads = crate::engine::par::init_task_pool(opts.threads);
    carry_on(
        c,
        source,
        &out,
        opts.force,
        threads,
        opts.check,
        opts.checkpoint_every,
        watch,
    )
}

/// The first and last rows of `dir/summary.csv` (or `.parquet`), as written.
fn first_and_last_years(dir: &Path, format: Format) -> anyhow::Result<(SummaryRow, SummaryRow)> {
    let path = dir.join(format.file("summary"));
    let mut rows = tables::read_summary(&path, format)
        .with_context(|| format!("cannot read back {}", path.display()))?;
    let last = rows.pop().context("the summary holds no year")?;
    let first = if rows.is_empty() {
        last.clone()
    } else {
        rows.swap_remove(0)
    };
    Ok((first, last))
}

/// Whether `dir`'s manifest says the run is complete.
fn complete(dir: &Path) -> bool {
    std::fs::read_to_string(dir.join("manifest.json"))
        .ok()
        .and_then(|s| serde_json::from_str::<serde_json::Value>(&s).ok())
        .is_some_and(|m| m["complete"] == true)
}

fn read_checkpoint(file: &Path) -> anyhow::Result<Checkpoint> {
    if !file.is_file() {
        let hint = if file.ends_with(checkpoint::FILE_NAME) {
            ": a run keeps one at its end only if started with --checkpoint-every \
             (a run stopped by Ctrl-C always has one)"
        } else {
            ""
        };
        return Err(UsageError::msg(format!(
            "no checkpoint at {}{hint}",
            file.display()
        )));
    }
    checkpoint::read(file).map_err(|e| UsageError::msg(format!("{e:#}")))
}

fn carry_on(
    c: Checkpoint,
    source: &Path,
    target: &Path,
    force: bool,
    threads: usize,
    check: bool,
    checkpoint_every: Option<u32>,
    watch: &mut Watch,
) -> anyhow::Result<Finished> {
    let started = Instant::now();
    let mut folder = RunFolder::resume(source, target, force, &c)?;
    let every = checkpoint_every.or(c.checkpoint_every);
    folder.label(&c.config_name, every);
    (watch.staging)(Some(folder.staging()));
    let config = c.world.config.clone();
    watch.meter.start(100, "restoring");
    let year = c.year;
    let format = folder.format();
    let run = Run::restore(c.world, c.recorder, year);
    watch.meter.set_position(100);
    let job = Job {
        config: &config,
        config_name: &c.config_name,
        threads,
        checkpoint_every: every,
        check,
        resumed_from_year: Some(year),
        format,
        started,
    };
    job.drive(run, folder, watch)
}

/// What `drive` needs to know besides the world and the folder.
struct Job<'a> {
    config: &'a Config,
    config_name: &'a str,
    threads: usize,
    checkpoint_every: Option<u32>,
    check: bool,
    resumed_from_year: Option<i32>,
    format: Format,
    started: Instant,
}

impl Job<'_> {
    /// Step `run` to the end year into `folder`, then move the folder into place: complete,
    /// or (after a stop) with the years done so far and a checkpoint to resume from.
    fn drive(
        &self,
        mut run: Run,
        mut folder: RunFolder,
        watch: &mut Watch,
    ) -> anyhow::Result<Finished> {
        let config = self.config;
        let first = run.next_year;
        let control = RunControl {
            stop: Some(watch.stop),
            check: self.check || cfg!(debug_assertions),
            checkpoint_every: self.checkpoint_every,
        };
        // The years are a piece of work of their own: on one bar with the set-up, whose 100
        // steps pass in a moment, the bar's rate was set-up's and its ETA read 0 s.
        let years = (config.run.end_year - first + 1).max(0) as u64;
        watch.meter.start(years, &first.to_string());
        let meter = &mut *watch.meter;
        let result = run_years(
            &mut run,
            config.run.end_year,
            &mut folder,
            &mut |p| {
                if let Progress::Year(y) = p {
                    meter.set_message(&y.to_string());
                    meter.set_position((y - first + 1) as u64);
                }
            },
            &control,
        );
        watch.meter.finish();
        let outcome = match result {
            Ok(o) => o,
            Err(e) => {
                (watch.staging)(None);
                folder.abandon();
                return Err(e);
            }
        };
        if outcome == (Outcome::Stopped { last_year: None }) {
            (watch.staging)(None);
            folder.abandon();
            return Err(Interrupted(
                "interrupted before the first year finished: nothing written or changed".into(),
            )
            .into());
        }
        let (last_year, checkpoint_year) = folder.years_written();
        let clock = *run.world.resource::<crate::engine::Clock>();
        let manifest = Manifest {
            shrinkcity_version: env!("CARGO_PKG_VERSION").into(),
            command: None,
            config_name: self.config_name.into(),
            seed: Some(clock.seed),
            base_seed: None,
            scale: clock.scale,
            start_year: clock.start_year,
            end_year: config.run.end_year,
            runs: None,
            threads: self.threads,
            threads_per_run: None,
            seeds: None,
            shard: None,
            snapshots: None,
            format: (self.format == Format::Parquet).then(|| "parquet".into()),
            merged_from: None,
            command_line: std::env::args().collect(),
            initial_population: Some(run.recorder.initial_population),
            start_state: Some(run.recorder.start_state.clone()),
            wall_time_s: self.started.elapsed().as_secs_f64(),
            complete: outcome == Outcome::Complete,
            runs_done: None,
            years: Some(RunYears {
                last_year: last_year.unwrap_or(clock.start_year - 1),
                checkpoint_year,
                resumed_from_year: self.resumed_from_year,
            }),
        };
        let dir = folder
            .finish(config, &manifest)
            .context("writing the run folder")?;
        (watch.staging)(None);
        if let Outcome::Stopped {
            last_year: Some(year),
        } = outcome
        {
            return Err(Interrupted(format!(
                "interrupted: years {}–{year} of {}–{} saved in {}; finish with: shrinkcity resume {}",
                manifest.start_year,
                manifest.start_year,
                manifest.end_year,
                dir.display(),
                dir.display()
            ))
            .into());
        }
        let (first, last) = first_and_last_years(&dir, self.format)?;
        Ok(Finished {
            dir,
            wall_time_s: manifest.wall_time_s,
            first,
            last,
        })
    }
}
