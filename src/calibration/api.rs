//! `targets` and `calibrate` as library calls: plain options in, what they wrote (and the
//! tables to show) out.

use anyhow::{Context, bail};
use std::io::Write;
use std::path::{Path, PathBuf};

use super::calibrate::{ReplayDiffers, Stopped};
use super::targets::{Run, format_report, report, write_report};
use super::{Calibration, Evaluation, Targets};
use crate::config::{self, UsageError};
use crate::experiment::options::{check_agents, check_scale};
use crate::experiment::resume;
use crate::experiment::{Interrupted, Watch};
use crate::output::{Manifest, write_atomically};
use std::time::Instant;

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
    /// Carry on the interrupted calibration in `out`, made with the same config and options:
    /// replay its history and evaluate only what is missing. Nothing at `out`: start afresh.
    pub resume: bool,
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
    /// Evaluations replayed from an interrupted calibration's history.
    pub reused: usize,
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

/// Search the parameters; writes `config.toml`, `targets.toml` (the targets and the bounds
/// searched) and `manifest.json` first, `history.csv` as it goes, then `calibrated.toml` and
/// `calibration_report.csv`. Stopped by `watch.stop` between two evaluations, it keeps the
/// history with `complete: false` in the manifest and returns `Interrupted`; with `resume`,
/// the same call replays the history (`Calibration::run_with`) and carries the search on:
/// its files are those an uninterrupted calibration writes.
pub fn calibrate(opts: &CalibrateOptions, watch: &mut Watch) -> anyhow::Result<CalibrateOutcome> {
    check_scale(opts.scale)?;
    if opts.seeds == 0 || opts.budget == 0 {
        return Err(UsageError::msg("--seeds and --budget must be at least 1"));
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
        base: loaded.config.clone(),
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
    let out = &opts.out;
    let mut manifest = Manifest::experiment("calibrate", &loaded, base_seed, opts.scale);
    manifest.runs = Some(opts.budget);
    manifest.seeds = Some(cal.seeds.clone());
    manifest.complete = false;
    let searched = toml::to_string(&Targets {
        target: cal.targets.target.clone(),
        parameter: cal.params.clone(),
    })
    .context("writing targets.toml")?;
    let previous = resume::previous(
        out,
        opts.resume,
        opts.force,
        &manifest,
        &cal.base,
        &[("targets.toml", searched.as_bytes())],
    )?;
    if let Some(p) = &previous
        && p.manifest.seeds != manifest.seeds
    {
        let count = |m: &Manifest| m.seeds.as_ref().map_or(0, Vec::len);
        return Err(UsageError::msg(format!(
            "cannot resume {}: it was made with other options (--seeds: {} there, {} here); repeat the command it was made with (its manifest.json has the command line), or add --force without --resume to start again",
            out.display(),
            count(&p.manifest),
            count(&manifest)
        )));
    }
    if previous.is_none() && out.exists() && !opts.force {
        return Err(UsageError::msg(format!(
            "{} already exists: add --force to replace it, or choose another --out",
            out.display()
        )));
    }
    std::fs::create_dir_all(out).with_context(|| format!("cannot create {}", out.display()))?;
    let history_path = out.join("history.csv");
    let mut header = String::from("evaluation,loss");
    for p in &cal.params {
        header += &format!(",{}", p.key);
    }
    header.push('\n');
    let replay = match &previous {
        Some(_) => read_history(&history_path, &header, cal.params.len())?,
        None => {
            std::fs::write(&history_path, &header)
                .with_context(|| format!("cannot write {}", history_path.display()))?;
            Vec::new()
        }
    };
    write_atomically(
        &out.join("config.toml"),
        config::to_toml(&cal.base).as_bytes(),
    )?;
    write_atomically(&out.join("targets.toml"), searched.as_bytes())?;
    write_atomically(&out.join("manifest.json"), manifest.to_json()?.as_bytes())?;
    let mut history = std::io::BufWriter::new(
        std::fs::OpenOptions::new()
            .append(true)
            .open(&history_path)
            .with_context(|| format!("cannot write {}", history_path.display()))?,
    );
    let started = Instant::now();
    let meter = &mut *watch.meter;
    meter.start(opts.budget as u64, "calibrating");
    let mut best = f64::INFINITY;
    let mut write_error = None;
    let outcome = cal.run_with(&replay, Some(watch.stop), &mut |e| {
        best = best.min(e.loss);
        meter.inc(1);
        meter.set_message(&format!("best {best:.3}"));
        if e.index < replay.len() {
            return;
        }
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
    if let Some(e) = write_error {
        return Err(e).context("writing history.csv");
    }
    manifest.wall_time_s = started.elapsed().as_secs_f64();
    let outcome = match outcome {
        Ok(o) => o,
        Err(e) => {
            if let Some(stopped) = e.downcast_ref::<Stopped>() {
                let done = stopped.evaluations;
                manifest.runs_done = Some(done);
                write_atomically(&out.join("manifest.json"), manifest.to_json()?.as_bytes())?;
                return Err(Interrupted(format!(
                    "interrupted: {done} of {} evaluations finished and kept in {} (manifest.json: complete false); to run the other {}, repeat the command with --resume",
                    opts.budget,
                    history_path.display(),
                    opts.budget - done
                ))
                .into());
            }
            if let Some(d) = e.downcast_ref::<ReplayDiffers>() {
                return Err(UsageError::msg(format!(
                    "cannot resume {}: {d}, so its history.csv is not this calibration's; add --force without --resume to start again",
                    out.display()
                )));
            }
            return Err(e);
        }
    };
    std::fs::write(
        out.join("calibrated.toml"),
        config::to_toml(&outcome.config),
    )?;
    let runs = cal.runs(&outcome.config);
    let rows = report(&cal.targets, &runs);
    write_report(&out.join("calibration_report.csv"), &rows)?;
    manifest.complete = true;
    manifest.wall_time_s = started.elapsed().as_secs_f64();
    write_atomically(&out.join("manifest.json"), manifest.to_json()?.as_bytes())?;
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
        reused: replay.len(),
    })
}

/// The evaluations of an interrupted calibration's `history.csv`, refused unless its header is
/// `header`. A last line cut short by a kill is dropped, and the file is cut back to the
/// evaluations kept, so new lines follow them.
fn read_history(path: &Path, header: &str, params: usize) -> anyhow::Result<Vec<Evaluation>> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    let Some(body) = text.strip_prefix(header) else {
        return Err(UsageError::msg(format!(
            "cannot resume: {} has another header than this calibration writes (other --params?); add --force without --resume to start again",
            path.display()
        )));
    };
    let mut kept = Vec::new();
    let mut length = header.len();
    for line in body.split_inclusive('\n') {
        let Some(fields) = line.strip_suffix('\n') else {
            break;
        };
        let numbers: Option<Vec<f64>> = fields.split(',').map(|f| f.parse().ok()).collect();
        let Some(numbers) = numbers.filter(|n| n.len() == params + 2) else {
            break;
        };
        if numbers[0] != kept.len() as f64 {
            break;
        }
        kept.push(Evaluation {
            index: kept.len(),
            loss: numbers[1],
            values: numbers[2..].to_vec(),
        });
        length += line.len();
    }
    if length < text.len() {
        let file = std::fs::OpenOptions::new()
            .write(true)
            .open(path)
            .with_context(|| format!("cannot write {}", path.display()))?;
        file.set_len(length as u64)
            .with_context(|| format!("cannot write {}", path.display()))?;
    }
    Ok(kept)
}
