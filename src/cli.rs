//! The command line: clap definitions and what each subcommand does.

use clap::{Args, Parser, Subcommand};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::IsTerminal;
use std::path::PathBuf;

use crate::config;
use crate::experiment::RunSpec;
use crate::output::Snapshots;

mod session;
pub use session::Interrupted;

/// An input error (bad flag value, bad config): exit code 2.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct UsageError(pub String);

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
    Run {
        #[command(flatten)]
        args: RunArgs,
        /// Also draw the run as charts in <run folder>/report.html (see `shrinkcity report`).
        #[arg(long)]
        report: bool,
    },
    /// Run N replicates with derived seeds in parallel; statistics across runs.
    Ensemble {
        #[command(flatten)]
        args: crate::experiment::ensemble::EnsembleArgs,
        /// Also draw the ensemble as fan charts in <folder>/report.html (see `shrinkcity report`).
        #[arg(long)]
        report: bool,
    },
    /// Run a full-factorial parameter sweep (or one shard of it) with replicates.
    Sweep(crate::experiment::sweep::SweepArgs),
    /// Join the shard folders of a sweep into one, byte-identical to an unsharded sweep.
    Merge(crate::experiment::sweep::MergeArgs),
    /// Rank parameters by their effect on outputs (Morris elementary effects).
    Sensitivity(crate::experiment::sensitivity::SensitivityArgs),
    /// Compare run or ensemble folders with a base: per-year differences and a table.
    Compare(crate::experiment::compare::CompareArgs),
    /// Finish a run stopped by Ctrl-C or SIGTERM, from the checkpoint in its folder.
    Resume(ResumeArgs),
    /// Compare a finished run (or ensemble) with the article's figures.
    Targets(crate::calibration::command::TargetsArgs),
    /// Search parameters so the model meets the article's figures.
    Calibrate(crate::calibration::command::CalibrateArgs),
    /// Draw a run, an ensemble or several folders as charts in a self-contained HTML page.
    Report(crate::report::ReportArgs),
}

#[derive(Args, Debug, Clone)]
pub struct RunArgs {
    /// Config file (TOML). Default: the built-in baseline (config/baseline.toml).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Output folder. Default: output/<config name>/.
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Random seed. Default: run.seed in the config.
    #[arg(long, value_name = "N")]
    pub seed: Option<u64>,
    /// Agents per real resident: 1 = full city, 0.1 = a quick run. Outputs are in people.
    #[arg(
        long,
        value_name = "F",
        default_value_t = 1.0,
        allow_negative_numbers = true
    )]
    pub scale: f64,
    /// First simulated year (overrides run.start_year).
    #[arg(long, value_name = "Y")]
    pub start_year: Option<i32>,
    /// Last simulated year (overrides run.end_year).
    #[arg(long, value_name = "Y")]
    pub end_year: Option<i32>,
    /// Override a config key by dotted path, e.g. --set migration.climate_weight=0 (repeatable).
    #[arg(long = "set", value_name = "KEY=VALUE")]
    pub set: Vec<String>,
    /// Agent snapshot years: all, none, or every:N (years since the start divisible by N).
    #[arg(long, value_name = "WHICH", default_value = "every:10")]
    pub snapshots: Snapshots,
    /// Worker threads for per-agent decisions. Default: all cores. Output does not depend on it.
    #[arg(long, value_name = "N")]
    pub threads: Option<usize>,
    /// Replace an existing run in the output folder.
    #[arg(long)]
    pub force: bool,
    /// No progress bar.
    #[arg(long)]
    pub quiet: bool,
    /// Save the whole state to <run folder>/checkpoint.bin every N years and after the last,
    /// so the run can be resumed or extended. (Ctrl-C always saves one.)
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    pub checkpoint_every: Option<u32>,
    /// Extend a finished run past its end year: carry on from its checkpoint.bin to
    /// --end-year, into a new folder (default: <run folder>-to-<year>) holding every year.
    #[arg(
        long,
        value_name = "FILE",
        requires = "end_year",
        conflicts_with_all = ["config", "seed", "scale", "start_year", "set", "snapshots"]
    )]
    pub from_checkpoint: Option<PathBuf>,
    /// Check the model's invariants after every year (population balance, no negative stocks,
    /// one dwelling per household); a violation stops the run. Always on in debug builds.
    #[arg(long)]
    pub check: bool,
}

#[derive(Args, Debug, Clone)]
pub struct ResumeArgs {
    /// The folder of the interrupted run (it holds checkpoint.bin).
    #[arg(value_name = "DIR")]
    pub dir: PathBuf,
    /// Worker threads for per-agent decisions. Output does not depend on it.
    #[arg(long, value_name = "N")]
    pub threads: Option<usize>,
    /// Check the model's invariants after every year.
    #[arg(long)]
    pub check: bool,
    /// No progress bar.
    #[arg(long)]
    pub quiet: bool,
}

impl RunArgs {
    /// Check flag values, load the config with all overrides applied.
    pub fn resolve(&self) -> anyhow::Result<(config::Loaded, RunSpec)> {
        if !(self.scale.is_finite() && self.scale > 0.0 && self.scale <= 20.0) {
            return Err(UsageError(format!(
                "--scale {}: must be above 0 and at most 20 (1 = the full city, 0.1 = a quick run)",
                self.scale
            ))
            .into());
        }
        check_threads(self.threads)?;
        let mut sets = self.set.clone();
        if let Some(y) = self.start_year {
            sets.push(format!("run.start_year={y}"));
        }
        if let Some(y) = self.end_year {
            sets.push(format!("run.end_year={y}"));
        }
        let loaded = config::load(self.config.as_deref(), &sets)?;
        let spec = RunSpec {
            seed: self.seed.unwrap_or(loaded.config.run.seed),
            scale: self.scale,
        };
        let agents = loaded.config.city.population * self.scale;
        if agents < 100.0 {
            return Err(UsageError(format!(
                "--scale {} gives only {agents:.0} agents for a city of {}; use a larger scale",
                self.scale, loaded.config.city.population
            ))
            .into());
        }
        if agents > MAX_AGENTS {
            return Err(UsageError(format!(
                "--scale {} gives {agents:.0} agents for a city of {}; at most {MAX_AGENTS:.0} fit in memory, use a smaller scale",
                self.scale, loaded.config.city.population
            ))
            .into());
        }
        Ok((loaded, spec))
    }
}

/// About 200 bytes each: 50 million agents need some 10 GB.
const MAX_AGENTS: f64 = 5e7;

fn check_threads(threads: Option<usize>) -> Result<(), UsageError> {
    match threads {
        Some(0) => Err(UsageError("--threads 0: need at least 1 thread".into())),
        Some(n) if n > 1024 => Err(UsageError(format!(
            "--threads {n}: at most 1024 (the default uses every core)"
        ))),
        _ => Ok(()),
    }
}

/// A progress bar on stderr, hidden when quiet or when stderr is not a terminal.
pub fn progress_bar(len: u64, quiet: bool, what: &str) -> ProgressBar {
    let bar = ProgressBar::new(len);
    if quiet || !std::io::stderr().is_terminal() {
        bar.set_draw_target(ProgressDrawTarget::hidden());
    }
    bar.set_style(
        ProgressStyle::with_template(
            "{msg:>12} [{bar:40}] {pos}/{len} {elapsed_precise} eta {eta}",
        )
        .expect("valid template")
        .progress_chars("=> "),
    );
    bar.set_message(what.to_string());
    bar
}

pub fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Run { args, report } => run_command(&args, report),
        Command::Ensemble { args, report } => ensemble_command(&args, report),
        Command::Sweep(args) => crate::experiment::sweep::sweep_command(&args),
        Command::Merge(args) => crate::experiment::sweep::merge_command(&args),
        Command::Sensitivity(args) => crate::experiment::sensitivity::sensitivity_command(&args),
        Command::Compare(args) => crate::experiment::compare::compare_command(&args),
        Command::Resume(args) => {
            check_threads(args.threads)?;
            session::resume(&args).map(|_| ())
        }
        Command::Targets(args) => crate::calibration::command::targets_command(&args),
        Command::Calibrate(args) => crate::calibration::command::calibrate_command(&args),
        Command::Report(args) => crate::report::report_command(&args),
    }
}

fn run_command(args: &RunArgs, report: bool) -> anyhow::Result<()> {
    let dir = session::run(args)?;
    if report {
        let page = crate::report::write_report(&[dir], None)?;
        if !args.quiet {
            eprintln!("wrote {}", page.display());
        }
    }
    Ok(())
}

/// `ensemble`, then its report if asked: the folder is where `ensemble` wrote it.
fn ensemble_command(
    args: &crate::experiment::ensemble::EnsembleArgs,
    report: bool,
) -> anyhow::Result<()> {
    crate::experiment::ensemble::ensemble_command(args)?;
    if report {
        let (loaded, _) = args.run.resolve()?;
        let dir = crate::experiment::batch::default_out(&args.run.out, &loaded, "ensemble");
        let page = crate::report::write_report(&[dir], None)?;
        if !args.run.quiet {
            eprintln!("wrote {}", page.display());
        }
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
