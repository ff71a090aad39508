//! The command line (floor 7, the top): clap definitions (`args.rs`), what each subcommand
//! prints around the library call it makes, progress bars (`progress.rs`), signals
//! (`signal.rs`) and exit codes. The only place that knows clap, indicatif or ctrlc; the
//! library below sees plain options, a `Meter` and a stop flag.

mod args;
mod progress;
mod signal;

use clap::{Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;

use args::{
    CalibrateArgs, CompareArgs, EnsembleArgs, MergeArgs, ReportArgs, ResumeArgs, RunArgs, RunJob,
    SensitivityArgs, SweepArgs, TargetsArgs, ValidateArgs,
};
use progress::Bar;
use shrinkcity::config::{ConfigError, UsageError};
use shrinkcity::experiment::{self, Finished, Interrupted, Watch, session};
use shrinkcity::{calibration, report};

#[derive(Parser, Debug)]
#[command(
    name = "shrinkcity",
    version,
    about = "Agent-based model of a shrinking coal city in Northeast China",
    long_about = "Agent-based model of a shrinking coal city in Northeast China.\n\n\
        Residents, households and dwellings step year by year (2015-2035 by default) through \
        demography, labour, migration, housing and the local economy. Population, prices, \
        vacancy, unemployment and age structure emerge from the agents' decisions.\n\n\
        Start with `shrinkcity run` (the calibrated baseline, written to output/baseline/)."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Run one simulation and write its CSVs to a run folder.
    Run(RunArgs),
    /// Run N replicates with derived seeds in parallel; statistics across runs.
    Ensemble(EnsembleArgs),
    /// Run a full-factorial parameter sweep (or one shard of it) with replicates.
    Sweep(SweepArgs),
    /// Join the shard folders of a sweep into one, byte-identical to an unsharded sweep.
    Merge(MergeArgs),
    /// Rank parameters by their effect on outputs (Morris elementary effects).
    Sensitivity(SensitivityArgs),
    /// Compare run or ensemble folders with a base: per-year differences and a table.
    Compare(CompareArgs),
    /// Finish a run stopped by Ctrl-C or SIGTERM, from the checkpoint in its folder.
    Resume(ResumeArgs),
    /// Compare a finished run (or ensemble) with the article's figures.
    Targets(TargetsArgs),
    /// Search parameters so the model meets the article's figures.
    Calibrate(CalibrateArgs),
    /// Draw a run, an ensemble or several folders as charts in a self-contained HTML page.
    Report(ReportArgs),
    /// Run the stress cases of docs/VALIDATION.md (baseline, nobody leaves, nothing built,
    /// every scenario) over paired seeds and print which checks hold.
    Validate(ValidateArgs),
}

/// Run the command; the error (if any) is printed and mapped to an exit code: 0 ok, 1
/// failure, 2 usage or config error, 130 interrupted.
pub fn main(cli: Cli) -> ExitCode {
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) if e.is::<Interrupted>() => {
            eprintln!("{e}");
            ExitCode::from(130)
        }
        Err(e) => {
            eprintln!("error: {e:#}");
            if e.is::<ConfigError>() || e.is::<UsageError>() {
                ExitCode::from(2)
            } else {
                ExitCode::FAILURE
            }
        }
    }
}

fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Run(args) => run_command(&args),
        Command::Ensemble(args) => {
            let quiet = args.exec.quiet;
            let done = experiment::ensemble(&args.options(), &mut Bar::new(quiet))?;
            if !quiet {
                eprintln!(
                    "wrote {} ({} runs, {:.1} s)",
                    done.dir.display(),
                    done.runs,
                    done.wall_time_s
                );
            }
            if args.report {
                write_report(done.dir, quiet)?;
            }
            Ok(())
        }
        Command::Sweep(args) => {
            let quiet = args.exec.quiet;
            let done = experiment::sweep(&args.options(), &mut Bar::new(quiet))?;
            if !quiet {
                eprintln!(
                    "wrote {} ({} of {} runs, {:.1} s)",
                    done.dir.display(),
                    done.runs,
                    done.plan_runs,
                    done.wall_time_s
                );
            }
            Ok(())
        }
        Command::Merge(args) => {
            let done = experiment::merge(&args.options())?;
            eprintln!(
                "wrote {} ({} runs from {} folders)",
                done.dir.display(),
                done.runs,
                args.dirs.len()
            );
            Ok(())
        }
        Command::Validate(args) => {
            let opts = args.options()?;
            let report = experiment::validation::validate(&opts, &mut Bar::new(args.quiet))?;
            let table = report.markdown();
            print!("{table}");
            if let Some(out) = &args.out {
                shrinkcity::output::write_atomically(out, table.as_bytes())?;
                eprintln!("wrote {}", out.display());
            }
            Ok(())
        }
        Command::Sensitivity(args) => {
            let quiet = args.exec.quiet;
            let done = experiment::sensitivity(&args.options(), &mut Bar::new(quiet))?;
            print!("{}", done.table);
            if !quiet {
                eprintln!("\nwrote {} ({:.1} s)", done.dir.display(), done.wall_time_s);
            }
            Ok(())
        }
        Command::Compare(args) => {
            let table = experiment::compare(&args.options())?;
            print!("{table}");
            eprintln!("wrote {}", args.out.display());
            Ok(())
        }
        Command::Resume(args) => {
            let done = watched(args.quiet, |watch| session::resume(&args.options(), watch))?;
            wrote_run(&done, args.quiet);
            Ok(())
        }
        Command::Targets(args) => {
            let done = calibration::targets(&args.options())?;
            print!("{}", done.table);
            eprintln!("wrote {}", done.path.display());
            Ok(())
        }
        Command::Calibrate(args) => {
            let done = calibration::calibrate(&args.options(), &mut Bar::new(args.quiet))?;
            print!("{}", done.summary);
            eprintln!("wrote {}", done.dir.display());
            Ok(())
        }
        Command::Report(args) => {
            let page = report::draw(&args.options())?;
            eprintln!("wrote {}", page.display());
            Ok(())
        }
    }
}

/// `run`: a new run or an extension, then its report if asked.
fn run_command(args: &RunArgs) -> anyhow::Result<()> {
    let quiet = args.exec.quiet;
    let done = match args.job()? {
        RunJob::New(opts) => watched(quiet, |watch| session::run(&opts, watch))?,
        RunJob::Extend(opts) => watched(quiet, |watch| session::extend(&opts, watch))?,
    };
    wrote_run(&done, quiet);
    if args.report {
        write_report(done.dir, quiet)?;
    }
    Ok(())
}

/// Run a session with signals watched and a progress bar.
fn watched(
    quiet: bool,
    session: impl FnOnce(&mut Watch) -> anyhow::Result<Finished>,
) -> anyhow::Result<Finished> {
    // Watch for signals before anything is written: one during set-up stops the run before
    // its first year, and the staging folder is removed.
    signal::install()?;
    let mut bar = Bar::new(quiet);
    let mut watch = Watch {
        stop: &signal::STOP,
        staging: &signal::set_staging,
        meter: &mut bar,
    };
    session(&mut watch)
}

fn wrote_run(done: &Finished, quiet: bool) {
    if !quiet {
        eprintln!("wrote {} ({:.1} s)", done.dir.display(), done.wall_time_s);
    }
}

/// `--report`: the page of a folder just written.
fn write_report(dir: PathBuf, quiet: bool) -> anyhow::Result<()> {
    let page = report::write_report(&[dir], None)?;
    if !quiet {
        eprintln!("wrote {}", page.display());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn cli_definition_is_consistent() {
        Cli::command().debug_assert();
    }
}
