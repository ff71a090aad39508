//! `targets` and `calibrate` as library calls: plain options in, what they wrote (and the
//! tables to show) out.

use anyhow::{Context, bail};
use std::io::Write;
use std::path::{Path, PathBuf};

use super::targets::{Run, format_report, report, write_report};
use super::{Calibration, Targets};
use crate::config::{self, UsageError};
use crate::experiment::Meter;
use crate::experiment::options::{check_agents, check_scale};

/// What `targets` is given.
#[derive(Clone, Debug)]
pub struct TargetsOptions {
    /// A finished run folder, or an ensemble folder (`runs/*/summary.csv`).
    pub run_dir: PathBuf,
    /// Targets file. `None`: the built-in `config/targets.toml`.
    pub targets: Option<PathBuf>,
}

/// What `calibrate` is given.
#[derive(Clone, Debug)]
pub struct CalibrateOptions {
    /// Config to start from. `None`: the built-in baseline.
    pub config: Option<PathBuf>,
    /// Targets file with the `[[parameter]]` bounds. `None`: built in.
    pub targets: Option<PathBuf>,
    /// Parameters to search. Empty: every `[[parameter]]` in the targets file.
    pub params: Vec<String>,
    /// Candidate evaluations (at least the number of parameters + 1).
    pub budget: usize,
    /// Seeds per candidate (at least 1).
    pub seeds: usize,
    /// Agents per resident for candidate runs.
    pub scale: f64,
    /// Output folder for calibrated.toml, calibration_report.csv and history.csv.
    pub out: PathBuf,
    /// `KEY=VALUE` overrides applied before calibrating.
    pub sets: Vec<String>,
    /// Replace an existing calibration in `out`.
    pub force: bool,
}

/// The targets report: the table for the terminal and the CSV it wrote.
#[derive(Clone, Debug)]
pub struct TargetsOutcome {
    pub table: String,
    pub path: PathBuf,
}

/// A finished calibration: a summary for the terminal (best loss, values, targets table).
#[derive(Clone, Debug)]
pub struct CalibrateOutcome {
    pub summary: String,
    pub dir: PathBuf,
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

/// Compare a run (or an ensemble) with the targets; writes `targets_report.csv` into it.
pub fn targets(opts: &TargetsOptions) -> anyhow::Result<TargetsOutcome> {
    let targets = Targets::load(opts.targets.as_deref())?;
    let runs = load_runs(&opts.run_dir)?;
    let rows = report(&targets, &runs);
    let path = opts.run_dir.join("targets_report.csv");
    write_report(&path, &rows)?;
    Ok(TargetsOutcome {
        table: format_report(&rows),
        path,
    })
}

/// Search the parameters; writes `history.csv` as it goes, then `calibrated.toml` and
/// `calibration_report.csv`.
pub fn calibrate(
    opts: &CalibrateOptions,
    meter: &mut dyn Meter,
) -> anyhow::Result<CalibrateOutcome> {
    check_scale(opts.scale)?;
    if opts.seeds == 0 || opts.budget == 0 {
        return Err(UsageError::msg("--seeds and --budget must be at least 1"));
    }
    if opts.out.exists() && !opts.force {
        return Err(UsageError::msg(format!(
            "{} already exists: add --force to replace it, or choose another --out",
            opts.out.display()
        )));
    }
    let loaded = config::load(opts.config.as_deref(), &opts.sets)?;
    check_agents(&loaded, opts.scale)?;
    let targets = Targets::load(opts.targets.as_deref())?;
    let params = if opts.params.is_empty() {
        targets.parameter.clone()
    } else {
        opts.params
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
        budget: opts.budget,
        seeds: (0..opts.seeds as u64)
            .map(|i| crate::engine::rng::mix(base_seed ^ i))
            .collect(),
        scale: opts.scale,
    };
    if !cal.params.is_empty() {
        cal.check_budget()?;
        cal.check_levers()?;
    }
    std::fs::create_dir_all(&opts.out)
        .with_context(|| format!("cannot create {}", opts.out.display()))?;
    let history_path = opts.out.join("history.csv");
    let mut history = std::io::BufWriter::new(std::fs::File::create(&history_path)?);
    write!(history, "evaluation,loss")?;
    for p in &cal.params {
        write!(history, ",{}", p.key)?;
    }
    writeln!(history)?;
    meter.start(opts.budget as u64, "calibrating");
    let mut best = f64::INFINITY;
    let mut write_error = None;
    let outcome = cal.run(&mut |e| {
        best = best.min(e.loss);
        meter.inc(1);
        meter.set_message(&format!("best {best:.3}"));
        let line = std::iter::once(e.loss)
            .chain(e.values.iter().copied())
            .map(|v| v.to_string())
            .collect::<Vec<_>>()
            .join(",");
        if let Err(err) = writeln!(history, "{},{line}", e.index).and_then(|_| history.flush()) {
            write_error.get_or_insert(err);
        }
    });
    meter.finish();
    let outcome = outcome?;
    if let Some(e) = write_error {
        return Err(e).context("writing history.csv");
    }
    std::fs::write(
        opts.out.join("calibrated.toml"),
        config::to_toml(&outcome.config),
    )?;
    let runs = cal.runs(&outcome.config);
    let rows = report(&cal.targets, &runs);
    write_report(&opts.out.join("calibration_report.csv"), &rows)?;
    let mut summary = format!(
        "best loss {:.4} after {} evaluations\n",
        outcome.best.loss,
        outcome.history.len()
    );
    for (p, v) in cal.params.iter().zip(&outcome.best.values) {
        summary += &format!("  {} = {v:.4}   (bounds {} .. {})\n", p.key, p.low, p.high);
    }
    summary += &format_report(&rows);
    Ok(CalibrateOutcome {
        summary,
        dir: opts.out.clone(),
    })
}
