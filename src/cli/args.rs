//! Every flag of every subcommand, and its mapping onto the library's plain options. Flags
//! several commands share live in small flattened structs; a command lists only the flags
//! it means. Values are checked once, by the library's option types (`RunOptions::resolve`
//! and friends), so a Rust caller gets the same checks and the same messages.

use clap::{Args, ValueEnum};
use std::path::PathBuf;

use shrinkcity::calibration::{CalibrateOptions, TargetsOptions};
use shrinkcity::config::UsageError;
use shrinkcity::experiment::sensitivity::{self, Range, parse_levels, parse_range};
use shrinkcity::experiment::session::{ExtendOptions, ResumeOptions, SessionOptions};
use shrinkcity::experiment::sweep::{Param, parse_param, parse_shard};
use shrinkcity::experiment::validation::ValidationOptions;
use shrinkcity::experiment::{
    self, CompareOptions, EnsembleOptions, MergeOptions, RunOptions, SensitivityOptions,
    SweepOptions,
};
use shrinkcity::output::{Format, Snapshots};
use shrinkcity::report::ReportOptions;

/// Which model every simulation command runs, and where it writes.
#[derive(Args, Debug, Clone)]
pub struct SimArgs {
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
}

/// How every simulation command runs.
#[derive(Args, Debug, Clone)]
pub struct ExecArgs {
    /// Worker threads for per-agent decisions. Default: all cores. Output does not depend on it.
    #[arg(long, value_name = "N")]
    pub threads: Option<usize>,
    /// Replace an existing run in the output folder.
    #[arg(long)]
    pub force: bool,
    /// No progress bar.
    #[arg(long)]
    pub quiet: bool,
}

/// `--format`, of the commands that write tables.
#[derive(Args, Debug, Clone)]
pub struct FormatArgs {
    /// Format of every table written: csv, or parquet (typed columns, zstd; for pandas,
    /// polars, DuckDB, R's arrow).
    #[arg(long, value_name = "FORMAT", default_value = "csv")]
    pub format: Format,
}

/// `--check`, last of the shared flags.
#[derive(Args, Debug, Clone)]
pub struct CheckArgs {
    /// Check the model's invariants after every year (population balance, no negative stocks,
    /// one dwelling per household); a violation stops the run. Always on in debug builds.
    #[arg(long)]
    pub check: bool,
}

impl SimArgs {
    /// The model options of any simulation command.
    pub fn options(&self, exec: &ExecArgs, check: &CheckArgs) -> RunOptions {
        RunOptions {
            config: self.config.clone(),
            sets: self.set.clone(),
            seed: self.seed,
            scale: self.scale,
            start_year: self.start_year,
            end_year: self.end_year,
            threads: exec.threads,
            check: check.check,
        }
    }
}

#[derive(Args, Debug, Clone)]
pub struct RunArgs {
    #[command(flatten)]
    pub sim: SimArgs,
    /// Agent snapshot years: all, none, or every:N (years since the start divisible by N).
    #[arg(long, value_name = "WHICH", default_value = "every:10")]
    pub snapshots: Snapshots,
    #[command(flatten)]
    pub format: FormatArgs,
    #[command(flatten)]
    pub exec: ExecArgs,
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
        conflicts_with_all = ["config", "seed", "scale", "start_year", "set", "snapshots", "format"]
    )]
    pub from_checkpoint: Option<PathBuf>,
    #[command(flatten)]
    pub check: CheckArgs,
    /// Also draw the run as charts in <run folder>/report.html (see `shrinkcity report`).
    #[arg(long)]
    pub report: bool,
}

/// What `run` does: a new run, or an extension of a finished one.
pub enum RunJob {
    New(SessionOptions),
    Extend(ExtendOptions),
}

impl RunArgs {
    pub fn job(&self) -> Result<RunJob, UsageError> {
        if self.report && self.format.format == Format::Parquet {
            return Err(UsageError(
                "--report draws from CSV tables: leave out --format parquet, or draw the Parquet tables yourself (examples/python/)".into(),
            ));
        }
        if let Some(file) = &self.from_checkpoint {
            let end_year = self
                .sim
                .end_year
                .ok_or_else(|| UsageError("--from-checkpoint needs --end-year".into()))?;
            return Ok(RunJob::Extend(ExtendOptions {
                checkpoint: file.clone(),
                end_year,
                out: self.sim.out.clone(),
                force: self.exec.force,
                threads: self.exec.threads,
                check: self.check.check,
                checkpoint_every: self.checkpoint_every,
            }));
        }
        Ok(RunJob::New(SessionOptions {
            run: self.sim.options(&self.exec, &self.check),
            out: self.sim.out.clone(),
            force: self.exec.force,
            snapshots: self.snapshots,
            format: self.format.format,
            checkpoint_every: self.checkpoint_every,
        }))
    }
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

impl ResumeArgs {
    pub fn options(&self) -> ResumeOptions {
        ResumeOptions {
            dir: self.dir.clone(),
            threads: self.threads,
            check: self.check,
        }
    }
}

const BATCH_THREADS: &str = "Worker threads: runs go in parallel, one thread each. Default: all cores. Output does not depend on it";

#[derive(Args, Debug, Clone)]
#[command(
    mut_arg("out", |a| a.help("Output folder. Default: output/<config name>_ensemble/")),
    mut_arg("seed", |a| a.help("Base seed; run i gets the (i+1)-th SplitMix64 output from it. Default: run.seed in the config")),
    mut_arg("threads", |a| a.help(BATCH_THREADS)),
)]
pub struct EnsembleArgs {
    #[command(flatten)]
    pub sim: SimArgs,
    /// Agent snapshot years per run (runs/<i>/agents/): all, none, or every:N
    #[arg(long, value_name = "WHICH", default_value = "none")]
    pub snapshots: Snapshots,
    #[command(flatten)]
    pub format: FormatArgs,
    #[command(flatten)]
    pub exec: ExecArgs,
    #[command(flatten)]
    pub check: CheckArgs,
    /// Number of replicates.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    pub runs: u32,
    /// Also draw the ensemble as fan charts in <folder>/report.html (see `shrinkcity report`).
    #[arg(long)]
    pub report: bool,
    /// Carry on the interrupted ensemble in the output folder (Ctrl-C keeps its finished runs):
    /// run only the runs it lacks. Refused if the folder was made with another config or other
    /// options; with no folder there, a new ensemble starts.
    #[arg(long, conflicts_with = "force")]
    pub resume: bool,
}

impl EnsembleArgs {
    pub fn options(&self) -> Result<EnsembleOptions, UsageError> {
        if self.report && self.format.format == Format::Parquet {
            return Err(UsageError(
                "--report draws from CSV tables: leave out --format parquet, or draw the Parquet tables yourself (examples/python/)".into(),
            ));
        }
        Ok(EnsembleOptions {
            run: self.sim.options(&self.exec, &self.check),
            out: self.sim.out.clone(),
            force: self.exec.force,
            resume: self.resume,
            runs: self.runs,
            snapshots: self.snapshots,
            format: self.format.format,
        })
    }
}

#[derive(Args, Debug, Clone)]
#[command(
    mut_arg("out", |a| a.help("Output folder. Default: output/<config name>_sweep/")),
    mut_arg("seed", |a| a.help("Base seed; replicate r runs with the (r+1)-th SplitMix64 output from it, at every point. Default: run.seed in the config")),
    mut_arg("threads", |a| a.help(BATCH_THREADS)),
)]
pub struct SweepArgs {
    #[command(flatten)]
    pub sim: SimArgs,
    #[command(flatten)]
    pub format: FormatArgs,
    #[command(flatten)]
    pub exec: ExecArgs,
    #[command(flatten)]
    pub check: CheckArgs,
    /// A config key and its values: KEY=v1,v2,... or KEY=lo:hi:steps (lo + i·(hi−lo)/(steps−1)).
    /// Repeatable: the sweep runs every combination. Each value is what --set takes: for a
    /// series key (a policy lever) a number is a level from run.lever_start_year (2026), and
    /// the range may be one value or year of a ramp (0:40000:5@2035).
    #[arg(long = "param", value_name = "KEY=VALUES", required = true, value_parser = parse_param)]
    pub params: Vec<Param>,
    /// Replicates per point.
    #[arg(long, value_name = "R", default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..))]
    pub runs: u32,
    /// Run only the run ids with run_id % N == I (0 ≤ I < N): one task of a cluster array job.
    /// Join the shard folders with `shrinkcity merge`.
    #[arg(long, value_name = "I/N", value_parser = parse_shard)]
    pub shard: Option<(usize, usize)>,
    /// Carry on the interrupted sweep (or shard) in the output folder (Ctrl-C keeps its finished runs):
    /// run only the runs it lacks. Refused if the folder was made with another config or other
    /// options; with no folder there, a new sweep (or shard) starts.
    #[arg(long, conflicts_with = "force")]
    pub resume: bool,
}

impl SweepArgs {
    pub fn options(&self) -> SweepOptions {
        SweepOptions {
            run: self.sim.options(&self.exec, &self.check),
            out: self.sim.out.clone(),
            force: self.exec.force,
            resume: self.resume,
            params: self.params.clone(),
            runs: self.runs,
            shard: self.shard,
            format: self.format.format,
        }
    }
}

#[derive(Args, Debug, Clone)]
pub struct MergeArgs {
    /// Shard folders of one sweep (each written with `sweep --shard I/N`), in any order.
    #[arg(value_name = "DIR", required = true)]
    pub dirs: Vec<PathBuf>,
    /// Folder for the merged sweep.
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// Replace an existing folder at --out.
    #[arg(long)]
    pub force: bool,
}

impl MergeArgs {
    pub fn options(&self) -> MergeOptions {
        MergeOptions {
            dirs: self.dirs.clone(),
            out: self.out.clone(),
            force: self.force,
        }
    }
}

#[derive(Args, Debug, Clone)]
#[command(
    mut_arg("out", |a| a.help("Output folder. Default: output/<config name>_sensitivity/")),
    mut_arg("seed", |a| a.help("Base seed: of the trajectories, and of every run (replicate r uses the (r+1)-th SplitMix64 output from it). Default: run.seed in the config")),
    mut_arg("threads", |a| a.help(BATCH_THREADS)),
)]
pub struct SensitivityArgs {
    #[command(flatten)]
    pub sim: SimArgs,
    #[command(flatten)]
    pub format: FormatArgs,
    #[command(flatten)]
    pub exec: ExecArgs,
    #[command(flatten)]
    pub check: CheckArgs,
    /// Screening method.
    #[arg(long, value_enum, default_value_t = Method::Morris)]
    pub method: Method,
    /// A numeric config key and its range, KEY=lo:hi (repeatable). For a series key (a policy
    /// lever) a value is a level from run.lever_start_year (2026), and the range may be one
    /// value or year of a ramp (0:20000@2035).
    #[arg(long = "param", value_name = "KEY=LO:HI", required = true, value_parser = parse_range)]
    pub params: Vec<Range>,
    /// Trajectories r. Runs: r × (parameters + 1) × --runs.
    #[arg(long, value_name = "R", default_value_t = 10, value_parser = clap::value_parser!(u32).range(1..))]
    pub trajectories: u32,
    /// Grid levels p (even, ≥ 2); each step moves a parameter by p/(2(p−1)) of its range.
    #[arg(long, value_name = "P", default_value_t = 4, value_parser = parse_levels)]
    pub levels: usize,
    /// An output, METRIC_YEAR: a summary.csv column and a year, e.g. vacancy_rate_2030
    /// (repeatable). Default: population, price_per_m2 and share_65plus in the end year.
    #[arg(long = "output", value_name = "METRIC_YEAR")]
    pub outputs: Vec<String>,
    /// Replicates per design point, with the same seeds at every point; outputs are their mean.
    #[arg(long, value_name = "N", default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..))]
    pub runs: u32,
    /// Carry on the interrupted analysis in the output folder (Ctrl-C keeps its finished runs):
    /// run only the runs it lacks. Refused if the folder was made with another config or other
    /// options; with no folder there, a new analysis starts.
    #[arg(long, conflicts_with = "force")]
    pub resume: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Method {
    /// Morris elementary effects (mu*, mu, sigma).
    Morris,
}

impl SensitivityArgs {
    pub fn options(&self) -> SensitivityOptions {
        SensitivityOptions {
            run: self.sim.options(&self.exec, &self.check),
            out: self.sim.out.clone(),
            force: self.exec.force,
            resume: self.resume,
            method: match self.method {
                Method::Morris => sensitivity::Method::Morris,
            },
            params: self.params.clone(),
            trajectories: self.trajectories,
            levels: self.levels,
            outputs: self.outputs.clone(),
            runs: self.runs,
            format: self.format.format,
        }
    }
}

#[derive(Args, Debug, Clone)]
pub struct CompareArgs {
    /// The reference: a run folder (summary.csv) or an ensemble folder (ensemble.csv, its mean).
    #[arg(value_name = "BASE_DIR")]
    pub base: PathBuf,
    /// Run or ensemble folders to compare with it.
    #[arg(value_name = "OTHER_DIR", required = true)]
    pub others: Vec<PathBuf>,
    /// CSV file for the per-year differences (long format).
    #[arg(long, value_name = "FILE", default_value = "output/comparison.csv")]
    pub out: PathBuf,
    /// Metrics to compare: summary.csv columns, comma-separated, or `all`. Default: 14 key
    /// metrics (population, ageing, jobs, incomes, housing, retail).
    #[arg(long, value_name = "M,M,...", value_delimiter = ',')]
    pub metrics: Vec<String>,
    /// Year shown in the terminal table. Default: the last year every folder has.
    #[arg(long, value_name = "Y")]
    pub year: Option<i32>,
}

impl CompareArgs {
    pub fn options(&self) -> CompareOptions {
        CompareOptions {
            base: self.base.clone(),
            others: self.others.clone(),
            out: self.out.clone(),
            metrics: self.metrics.clone(),
            year: self.year,
        }
    }
}

#[derive(Args, Debug, Clone)]
pub struct KeysArgs {
    /// Show only the keys whose dotted name contains this (case-insensitive), e.g.
    /// `labour.retire` or `growth`.
    #[arg(value_name = "PATTERN")]
    pub pattern: Option<String>,
}

#[derive(Args, Debug, Clone)]
pub struct TargetsArgs {
    /// A finished run folder (with summary.csv), or an ensemble folder (runs/*/summary.csv:
    /// the report shows the mean and sd across runs).
    #[arg(value_name = "RUN_DIR")]
    pub run_dir: PathBuf,
    /// Targets file. Default: the built-in config/targets.toml (the article's figures).
    #[arg(long, value_name = "FILE")]
    pub targets: Option<PathBuf>,
}

impl TargetsArgs {
    pub fn options(&self) -> TargetsOptions {
        TargetsOptions {
            run_dir: self.run_dir.clone(),
            targets: self.targets.clone(),
        }
    }
}

#[derive(Args, Debug, Clone)]
pub struct CalibrateArgs {
    /// Config to start from. Default: the built-in baseline.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Targets file with [[target]]s and the [[parameter]] bounds. Default: built in.
    #[arg(long, value_name = "FILE")]
    pub targets: Option<PathBuf>,
    /// Parameters to search, comma-separated dotted keys (default: every [[parameter]] in the
    /// targets file). Each needs bounds in the targets file.
    #[arg(long, value_name = "KEY,KEY,...", value_delimiter = ',')]
    pub params: Vec<String>,
    /// Number of candidate evaluations (each runs every seed).
    #[arg(long, value_name = "N", default_value_t = 200)]
    pub budget: usize,
    /// Seeds per candidate (the same seeds for every candidate).
    #[arg(long, value_name = "K", default_value_t = 4)]
    pub seeds: usize,
    /// Agents per resident for candidate runs.
    #[arg(long, value_name = "F", default_value_t = 0.1)]
    pub scale: f64,
    /// Output folder for calibrated.toml, calibration_report.csv, history.csv, and the
    /// config.toml, targets.toml and manifest.json a --resume checks.
    #[arg(long, value_name = "DIR", default_value = "output/calibration")]
    pub out: PathBuf,
    /// Override a config key before calibrating (repeatable).
    #[arg(long = "set", value_name = "KEY=VALUE")]
    pub set: Vec<String>,
    /// Replace an existing calibration in the output folder.
    #[arg(long)]
    pub force: bool,
    /// Carry on the interrupted calibration in the output folder (Ctrl-C keeps its history):
    /// replay the evaluations it holds and run only the rest. Refused if it was made with
    /// another config or other options; with no folder there, a new calibration starts.
    #[arg(long, conflicts_with = "force")]
    pub resume: bool,
    /// No progress bar.
    #[arg(long)]
    pub quiet: bool,
}

impl CalibrateArgs {
    pub fn options(&self) -> CalibrateOptions {
        CalibrateOptions {
            config: self.config.clone(),
            targets: self.targets.clone(),
            params: self.params.clone(),
            budget: self.budget,
            seeds: self.seeds,
            scale: self.scale,
            out: self.out.clone(),
            sets: self.set.clone(),
            force: self.force,
            resume: self.resume,
        }
    }
}

#[derive(Args, Debug, Clone)]
pub struct ReportArgs {
    /// A run folder (summary.csv), an ensemble folder (ensemble.csv), or several folders to
    /// compare (one line per folder on the same axes).
    #[arg(value_name = "DIR", required = true)]
    pub dirs: Vec<PathBuf>,
    /// The page to write. Default: DIR/report.html (the first DIR's for a comparison).
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
}

impl ReportArgs {
    pub fn options(&self) -> ReportOptions {
        ReportOptions {
            dirs: self.dirs.clone(),
            out: self.out.clone(),
        }
    }
}

/// `shrinkcity validate`: the stress cases of docs/VALIDATION.md.
#[derive(Args, Debug, Clone)]
pub struct ValidateArgs {
    /// Agents per real resident for every run.
    #[arg(long, value_name = "F", default_value_t = 0.1)]
    pub scale: f64,
    /// The seeds every case runs with, comma-separated (paired across cases).
    #[arg(
        long,
        value_name = "N,N,...",
        value_delimiter = ',',
        default_value = "1,2,3"
    )]
    pub seeds: Vec<u64>,
    /// Folder of scenario files compared with the baseline.
    #[arg(long, value_name = "DIR", default_value = "config/scenarios")]
    pub scenarios: PathBuf,
    /// Override a config key in every case, e.g. --set labour.wage_curve_elasticity=0
    /// (repeatable): the stress cases of an alternative model.
    #[arg(long = "set", value_name = "KEY=VALUE")]
    pub set: Vec<String>,
    /// Also write the tables (Markdown) to this file.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// Worker threads: runs go in parallel. Default: all cores. Output does not depend on it.
    #[arg(long, value_name = "N")]
    pub threads: Option<usize>,
    /// No progress bar.
    #[arg(long)]
    pub quiet: bool,
}

impl ValidateArgs {
    pub fn options(&self) -> anyhow::Result<ValidationOptions> {
        experiment::options::check_scale(self.scale)?;
        experiment::options::check_threads(self.threads)?;
        Ok(ValidationOptions {
            scale: self.scale,
            seeds: self.seeds.clone(),
            threads: self.threads,
            scenarios: self.scenarios.clone(),
            sets: self.set.clone(),
        })
    }
}
