//! The `targets` and `calibrate` subcommands.

use anyhow::{Context, bail};
use clap::Args;
use std::io::Write;
use std::path::{Path, PathBuf};

use super::targets::{Run, format_report, report, write_report};
use super::{Calibration, Targets};
use crate::cli::{UsageError, progress_bar};
use crate::config;

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
    /// Output folder for calibrated.toml, calibration_report.csv and history.csv.
    #[arg(long, value_name = "DIR", default_value = "output/calibration")]
    pub out: PathBuf,
    /// Override a config key before calibrating (repeatable).
    #[arg(long = "set", value_name = "KEY=VALUE")]
    pub set: Vec<String>,
    /// Replace an existing calibration in the output folder.
    #[arg(long)]
    pub force: bool,
    /// No progress bar.
    #[arg(long)]
    pub quiet: bool,
}

/// Runs found in a run folder or an ensemble folder.
fn load_runs(dir: &Path) -> anyhow::Result<Vec<Run>> {
    let single = dir.join("summary.csv");
    if single.is_file() {
        return Ok(vec![Run::from_csv(&single)?]);
    }
    let runs_dir = dir.join("runs");
    let mut paths: Vec<PathBuf> = std::fs::read_dir(&runs_dir)
        .with_context(|| {
            format!(
                "{} holds neither summary.csv nor runs/: is it a finished run folder?",
                dir.display()
            )
        })?
        .filter_map(|e| e.ok().map(|e| e.path().join("summary.csv")))
        .filter(|p| p.is_file())
        .collect();
    paths.sort();
    if paths.is_empty() {
        bail!("{} has no runs/*/summary.csv", dir.display());
    }
    paths.iter().map(|p| Run::from_csv(p)).collect()
}

pub fn targets_command(args: &TargetsArgs) -> anyhow::Result<()> {
    let targets = Targets::load(args.targets.as_deref())?;
    let runs = load_runs(&args.run_dir)?;
    let rows = report(&targets, &runs);
    print!("{}", format_report(&rows));
    let path = args.run_dir.join("targets_report.csv");
    write_report(&path, &rows)?;
    eprintln!("wrote {}", path.display());
    Ok(())
}

pub fn calibrate_command(args: &CalibrateArgs) -> anyhow::Result<()> {
    if !(args.scale.is_finite() && args.scale > 0.0 && args.scale <= 20.0) {
        return Err(UsageError(format!(
            "--scale {}: must be above 0 and at most 20",
            args.scale
        ))
        .into());
    }
    if args.seeds == 0 || args.budget == 0 {
        return Err(UsageError("--seeds and --budget must be at least 1".into()).into());
    }
    if args.out.exists() && !args.force {
        bail!(
            "{} already exists; pass --force to replace it, or choose --out",
            args.out.display()
        );
    }
    let loaded = config::load(args.config.as_deref(), &args.set)?;
    let targets = Targets::load(args.targets.as_deref())?;
    let params = if args.params.is_empty() {
        targets.parameter.clone()
    } else {
        args.params
            .iter()
            .map(|k| {
                targets.parameter.iter().find(|p| p.key == *k).cloned().ok_or_else(|| {
                    UsageError(format!("--params {k}: no bounds for it; add a [[parameter]] with key, low and high to the targets file"))
                })
            })
            .collect::<Result<Vec<_>, _>>()?
    };
    let base_seed = loaded.config.run.seed;
    let cal = Calibration {
        base: loaded.config,
        targets,
        params,
        budget: args.budget,
        seeds: (0..args.seeds as u64)
            .map(|i| crate::engine::rng::mix(base_seed ^ i))
            .collect(),
        scale: args.scale,
    };
    std::fs::create_dir_all(&args.out)
        .with_context(|| format!("cannot create {}", args.out.display()))?;
    let history_path = args.out.join("history.csv");
    let mut history = std::io::BufWriter::new(std::fs::File::create(&history_path)?);
    write!(history, "evaluation,loss")?;
    for p in &cal.params {
        write!(history, ",{}", p.key)?;
    }
    writeln!(history)?;
    let bar = progress_bar(args.budget as u64, args.quiet, "calibrating");
    let mut best = f64::INFINITY;
    let mut write_error = None;
    let outcome = cal.run(&mut |e| {
        best = best.min(e.loss);
        bar.inc(1);
        bar.set_message(format!("best {best:.3}"));
        let line = std::iter::once(e.loss)
            .chain(e.values.iter().copied())
            .map(|v| v.to_string())
            .collect::<Vec<_>>()
            .join(",");
        if let Err(err) = writeln!(history, "{},{line}", e.index).and_then(|_| history.flush()) {
            write_error.get_or_insert(err);
        }
    })?;
    bar.finish_and_clear();
    if let Some(e) = write_error {
        return Err(e).context("writing history.csv");
    }
    std::fs::write(
        args.out.join("calibrated.toml"),
        config::to_toml(&outcome.config),
    )?;
    let runs = cal.runs(&outcome.config);
    let rows = report(&cal.targets, &runs);
    write_report(&args.out.join("calibration_report.csv"), &rows)?;
    println!(
        "best loss {:.4} after {} evaluations",
        outcome.best.loss,
        outcome.history.len()
    );
    for (p, v) in cal.params.iter().zip(&outcome.best.values) {
        println!("  {} = {v:.4}   (bounds {} .. {})", p.key, p.low, p.high);
    }
    print!("{}", format_report(&rows));
    eprintln!("wrote {}", args.out.display());
    Ok(())
}
