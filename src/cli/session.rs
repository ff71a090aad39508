//! One run written to a folder, from the start or from a checkpoint (`resume`,
//! `run --from-checkpoint`), with Ctrl-C and SIGTERM stopping it cleanly between two years:
//! the completed years are kept, the manifest says `complete: false`, and a checkpoint lets
//! `shrinkcity resume` finish the run. A second signal aborts at once and leaves nothing.

use anyhow::Context;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Instant;

use super::{ResumeArgs, RunArgs, UsageError, progress_bar};
use crate::config::{self, Config};
use crate::experiment::{Outcome, Progress, Run, RunControl, run_years};
use crate::output::checkpoint::{self, Checkpoint};
use crate::output::{Manifest, RunFolder};

/// The run was stopped by Ctrl-C or SIGTERM: exit code 130. The message says how to resume.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct Interrupted(pub String);

static STOP: AtomicBool = AtomicBool::new(false);
static SIGNALS: AtomicUsize = AtomicUsize::new(0);
/// The staging folder a second signal removes before exiting.
static STAGING: Mutex<Option<PathBuf>> = Mutex::new(None);

fn install_signal_handler() -> anyhow::Result<()> {
    static INSTALLED: std::sync::OnceLock<Result<(), String>> = std::sync::OnceLock::new();
    INSTALLED
        .get_or_init(|| {
            ctrlc::set_handler(|| {
                if SIGNALS.fetch_add(1, Ordering::SeqCst) == 0 {
                    STOP.store(true, Ordering::SeqCst);
                    eprintln!(
                        "\nstopping after the year in progress (press Ctrl-C again to abort without saving)"
                    );
                } else {
                    let staging = STAGING.lock().ok().and_then(|s| s.clone());
                    if let Some(dir) = staging {
                        std::fs::remove_dir_all(&dir).ok();
                    }
                    eprintln!("aborted: nothing written");
                    std::process::exit(130);
                }
            })
            .map_err(|e| e.to_string())
        })
        .clone()
        .map_err(|e| anyhow::anyhow!("cannot watch for Ctrl-C: {e}"))
}

fn set_staging(dir: Option<&Path>) {
    if let Ok(mut s) = STAGING.lock() {
        *s = dir.map(Path::to_path_buf);
    }
}

/// `shrinkcity run`: a new run, or with `--from-checkpoint` an extension of a finished one.
pub fn run(args: &RunArgs) -> anyhow::Result<PathBuf> {
    if let Some(file) = &args.from_checkpoint {
        return extend(args, file);
    }
    let (loaded, spec) = args.resolve()?;
    let config = &loaded.config;
    let threads = crate::engine::par::init_task_pool(args.threads);
    let out = args
        .out
        .clone()
        .unwrap_or_else(|| PathBuf::from("output").join(&loaded.stem));
    // Watch for signals before anything is written: one during set-up stops the run before
    // its first year, and the staging folder is removed.
    install_signal_handler()?;
    let mut folder = RunFolder::create(&out, args.force, args.snapshots, config.run.start_year)?;
    folder.label(&loaded.stem, args.checkpoint_every);
    set_staging(Some(folder.staging()));
    let started = Instant::now();
    let bar = progress_bar(
        100 + (config.run.end_year - config.run.start_year + 1) as u64,
        args.quiet,
        "setting up",
    );
    let run = Run::new(config, &spec, &mut |p| {
        if let Progress::Setup(f) = p {
            bar.set_position((f * 100.0) as u64)
        }
    });
    let job = Job {
        config,
        config_name: &loaded.stem,
        threads,
        checkpoint_every: args.checkpoint_every,
        check: args.check,
        quiet: args.quiet,
        resumed_from_year: None,
        started,
    };
    job.drive(run, folder, bar)
}

/// `shrinkcity resume DIR`: finish an interrupted run from `DIR/checkpoint.bin`.
pub fn resume(args: &ResumeArgs) -> anyhow::Result<PathBuf> {
    let dir = &args.dir;
    let file = dir.join(checkpoint::FILE_NAME);
    if !file.is_file() && complete(dir) {
        return Err(UsageError(format!(
            "{} holds a complete run: nothing to resume",
            dir.display()
        ))
        .into());
    }
    let c = read_checkpoint(&file)?;
    let end = c.world.config.run.end_year;
    if c.year >= end {
        return Err(UsageError(format!(
            "{} holds a complete run (to {end}); to go further: shrinkcity run --from-checkpoint {} --end-year YEAR",
            dir.display(),
            dir.join(checkpoint::FILE_NAME).display()
        ))
        .into());
    }
    let threads = crate::engine::par::init_task_pool(args.threads);
    carry_on(c, dir, dir, false, threads, args.check, args.quiet, None)
}

/// `shrinkcity run --from-checkpoint FILE --end-year Y`: carry a run on past its end year,
/// into a new folder holding every year from the start.
fn extend(args: &RunArgs, file: &Path) -> anyhow::Result<PathBuf> {
    let mut c = read_checkpoint(file)?;
    let end = args
        .end_year
        .context("--from-checkpoint needs --end-year")?;
    if end <= c.year {
        return Err(UsageError(format!(
            "--end-year {end}: {} holds the state after {}; give a later year",
            file.display(),
            c.year
        ))
        .into());
    }
    c.world.config = config::with_overrides(&c.world.config, &[format!("run.end_year={end}")])?;
    let source = file
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let out = args.out.clone().unwrap_or_else(|| {
        let name = std::fs::canonicalize(source)
            .ok()
            .and_then(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
            .unwrap_or_else(|| c.config_name.clone());
        source
            .parent()
            .unwrap_or(Path::new("."))
            .join(format!("{name}-to-{end}"))
    });
    let threads = crate::engine::par::init_task_pool(args.threads);
    carry_on(
        c,
        source,
        &out,
        args.force,
        threads,
        args.check,
        args.quiet,
        args.checkpoint_every,
    )
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
        return Err(UsageError(format!("no checkpoint at {}{hint}", file.display())).into());
    }
    checkpoint::read(file).map_err(|e| UsageError(format!("{e:#}")).into())
}

fn carry_on(
    c: Checkpoint,
    source: &Path,
    target: &Path,
    force: bool,
    threads: usize,
    check: bool,
    quiet: bool,
    checkpoint_every: Option<u32>,
) -> anyhow::Result<PathBuf> {
    let started = Instant::now();
    install_signal_handler()?;
    let mut folder = RunFolder::resume(source, target, force, &c)?;
    let every = checkpoint_every.or(c.checkpoint_every);
    folder.label(&c.config_name, every);
    set_staging(Some(folder.staging()));
    let config = c.world.config.clone();
    let bar = progress_bar(
        100 + (config.run.end_year - c.year) as u64,
        quiet,
        "restoring",
    );
    let year = c.year;
    let run = Run::restore(c.world, c.recorder, year);
    bar.set_position(100);
    let job = Job {
        config: &config,
        config_name: &c.config_name,
        threads,
        checkpoint_every: every,
        check,
        quiet,
        resumed_from_year: Some(year),
        started,
    };
    job.drive(run, folder, bar)
}

/// What `drive` needs to know besides the world and the folder.
struct Job<'a> {
    config: &'a Config,
    config_name: &'a str,
    threads: usize,
    checkpoint_every: Option<u32>,
    check: bool,
    quiet: bool,
    resumed_from_year: Option<i32>,
    started: Instant,
}

impl Job<'_> {
    /// Step `run` to the end year into `folder`, then move the folder into place: complete,
    /// or (after a signal) with the years done so far and a checkpoint to resume from.
    fn drive(
        &self,
        mut run: Run,
        mut folder: RunFolder,
        bar: indicatif::ProgressBar,
    ) -> anyhow::Result<PathBuf> {
        let config = self.config;
        let first = run.next_year;
        let control = RunControl {
            stop: Some(&STOP),
            check: self.check || cfg!(debug_assertions),
            checkpoint_every: self.checkpoint_every,
        };
        let result = run_years(
            &mut run,
            config.run.end_year,
            &mut folder,
            &mut |p| {
                if let Progress::Year(y) = p {
                    bar.set_message(y.to_string());
                    bar.set_position(100 + (y - first + 1) as u64);
                }
            },
            &control,
        );
        bar.finish_and_clear();
        let outcome = match result {
            Ok(o) => o,
            Err(e) => {
                set_staging(None);
                folder.abandon();
                return Err(e);
            }
        };
        if outcome == (Outcome::Stopped { last_year: None }) {
            set_staging(None);
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
            config_name: self.config_name.into(),
            seed: clock.seed,
            scale: clock.scale,
            start_year: clock.start_year,
            end_year: config.run.end_year,
            threads: self.threads,
            command_line: std::env::args().collect(),
            initial_population: run.recorder.initial_population,
            wall_time_s: self.started.elapsed().as_secs_f64(),
            complete: outcome == Outcome::Complete,
            last_year: last_year.unwrap_or(clock.start_year - 1),
            checkpoint_year,
            resumed_from_year: self.resumed_from_year,
        };
        let dir = folder
            .finish(config, &manifest)
            .context("writing the run folder")?;
        set_staging(None);
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
        if !self.quiet {
            eprintln!("wrote {} ({:.1} s)", dir.display(), manifest.wall_time_s);
        }
        Ok(dir)
    }
}
