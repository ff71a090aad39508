//! `shrinkcity sensitivity --method morris`: Morris elementary effects (Morris 1991, with
//! the mu* of Campolongo et al. 2007) of chosen parameters on chosen outputs.
//!
//! Each parameter's range [lo, hi] is mapped to [0, 1] and cut into p levels j/(p − 1). A
//! trajectory starts at a random grid point and moves one parameter at a time, in random
//! order, by Δ = p / (2(p − 1)) up or down; the elementary effect of that parameter is the
//! change in the output divided by Δ, i.e. output units per full range (hi − lo). Over r
//! trajectories, mu* = mean |EE| (importance), mu = mean EE (direction) and sigma = the
//! sample sd of EE (non-linearity or interactions). Every run uses the same seeds (common
//! random numbers), so a parameter the model never reads has EE = 0 exactly, and the whole
//! result is determined by the base seed.

use anyhow::Context;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::Instant;

use super::RunSpec;
use super::batch::{
    DesignRng, Pools, SummarySink, default_out, derive_seed, run_batch_one, summary_metrics,
    summary_values,
};
use super::options::{Meter, RunOptions};
use super::stats;
use super::sweep::tidy;
use crate::config::{UsageError, lever};
use crate::output::table::{self, Batch, Column, Format, Kind, Schema, words};
use crate::output::{FolderKind, Manifest, Staging};

/// What `sensitivity` is given.
#[derive(Clone, Debug)]
pub struct SensitivityOptions {
    pub run: RunOptions,
    /// Output folder. `None`: `output/<config name>_sensitivity/`.
    pub out: Option<PathBuf>,
    /// Replace an existing folder at `out`.
    pub force: bool,
    pub method: Method,
    /// The parameters and their ranges.
    pub params: Vec<Range>,
    /// Trajectories r (at least 1).
    pub trajectories: u32,
    /// Grid levels p (even, at least 2).
    pub levels: usize,
    /// Outputs as METRIC_YEAR. Empty: population, price_per_m2 and share_65plus in the end year.
    pub outputs: Vec<String>,
    /// Replicates per design point (at least 1).
    pub runs: u32,
    /// The format of `sensitivity` and `design`.
    pub format: Format,
}

/// The screening method.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Method {
    /// Morris elementary effects (mu*, mu, sigma).
    Morris,
}

/// A finished sensitivity folder, and the ranking as a table for the terminal.
#[derive(Clone, Debug)]
pub struct SensitivityOutcome {
    pub dir: PathBuf,
    pub table: String,
    pub wall_time_s: f64,
}

/// A parameter and its range, which may be one value or year of a lever: `before` and
/// `after` hold the rest of it (`policy.high_tech_jobs=0:40000@2035`: `after` is `@2035`).
#[derive(Clone, Debug, PartialEq)]
pub struct Range {
    pub key: String,
    pub lo: f64,
    pub hi: f64,
    pub before: String,
    pub after: String,
}

impl Range {
    /// The parameter value at unit coordinate `u`, with 12 significant digits.
    pub fn at(&self, u: f64) -> String {
        tidy(self.lo + u * (self.hi - self.lo))
    }

    /// `KEY=VALUE` for `--set` at unit coordinate `u`.
    pub fn assignment(&self, u: f64) -> String {
        format!("{}={}{}{}", self.key, self.before, self.at(u), self.after)
    }
}

pub fn parse_range(s: &str) -> Result<Range, String> {
    let bad = || {
        format!(
            "`{s}`: expected KEY=lo:hi with numbers lo ≠ hi, e.g. migration.intercept=-2.5:-1, or a lever with one lo:hi in it, e.g. policy.high_tech_jobs=0:40000@2035"
        )
    };
    let (key, spec) = s.split_once('=').ok_or_else(bad)?;
    let (before, range, after) = lever::split_range(spec)?.ok_or_else(bad)?;
    let (lo, hi) = range.split_once(':').ok_or_else(bad)?;
    let (lo, hi): (f64, f64) = (
        lo.trim().parse().map_err(|_| bad())?,
        hi.trim().parse().map_err(|_| bad())?,
    );
    if key.trim().is_empty() || !lo.is_finite() || !hi.is_finite() || lo == hi {
        return Err(bad());
    }
    Ok(Range {
        key: key.trim().into(),
        lo,
        hi,
        before: before.into(),
        after: after.into(),
    })
}

pub fn parse_levels(s: &str) -> Result<usize, String> {
    s.parse::<usize>()
        .ok()
        .filter(|&p| p >= 2 && p % 2 == 0)
        .ok_or_else(|| format!("`{s}`: levels must be an even whole number ≥ 2 (4 is usual)"))
}

/// r trajectories of k + 1 points each in the unit cube on a p-level grid: point
/// t·(k + 1) + s of trajectory t differs from the one before it in exactly one coordinate,
/// by ±p/(2(p − 1)).
pub fn morris_design(k: usize, r: usize, p: usize, rng: &mut DesignRng) -> Vec<Vec<f64>> {
    let jump = p / 2;
    let level = |j: usize| j as f64 / (p - 1) as f64;
    let mut points = Vec::with_capacity(r * (k + 1));
    for _ in 0..r {
        // Each coordinate starts low (and steps up) or high (and steps down).
        let starts: Vec<(usize, bool)> = (0..k)
            .map(|_| (rng.below(p - jump), rng.below(2) == 0))
            .collect();
        let mut x: Vec<f64> = starts
            .iter()
            .map(|&(j, up)| level(if up { j } else { j + jump }))
            .collect();
        let mut order: Vec<usize> = (0..k).collect();
        for i in (1..k).rev() {
            order.swap(i, rng.below(i + 1));
        }
        points.push(x.clone());
        for &i in &order {
            let (j, up) = starts[i];
            x[i] = level(if up { j + jump } else { j });
            points.push(x.clone());
        }
    }
    points
}

/// Elementary effects [parameter][trajectory] of one output `y` (one value per design point).
pub fn elementary_effects(design: &[Vec<f64>], y: &[f64], k: usize) -> Vec<Vec<f64>> {
    let mut effects = vec![Vec::new(); k];
    for (traj, ys) in design.chunks(k + 1).zip(y.chunks(k + 1)) {
        for s in 1..=k {
            let i = (0..k)
                .find(|&i| traj[s][i] != traj[s - 1][i])
                .expect("each step of a trajectory moves one parameter");
            effects[i].push((ys[s] - ys[s - 1]) / (traj[s][i] - traj[s - 1][i]));
        }
    }
    effects
}

/// mu*, mu and sigma of one parameter's elementary effects.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Effect {
    pub mu_star: f64,
    pub mu: f64,
    pub sigma: f64,
}

pub fn summarise_effects(ee: &[f64]) -> Effect {
    let abs: Vec<f64> = ee.iter().map(|e| e.abs()).collect();
    Effect {
        mu_star: stats::mean(&abs),
        mu: stats::mean(ee),
        sigma: stats::sd(ee),
    }
}

/// An output: a summary.csv column in a year.
struct Output {
    name: String,
    metric: usize,
    year_index: usize,
}

fn parse_outputs(opts: &SensitivityOptions, start: i32, end: i32) -> anyhow::Result<Vec<Output>> {
    let metrics = summary_metrics();
    let names: Vec<String> = if opts.outputs.is_empty() {
        ["population", "price_per_m2", "share_65plus"]
            .iter()
            .map(|m| format!("{m}_{end}"))
            .collect()
    } else {
        opts.outputs.clone()
    };
    names
        .into_iter()
        .map(|name| {
            let parsed = name
                .rsplit_once('_')
                .and_then(|(m, y)| Some((m, y.parse::<i32>().ok()?)));
            let Some((metric, year)) = parsed else {
                return Err(UsageError::msg(format!(
                    "--output {name}: expected METRIC_YEAR, e.g. population_{end}"
                )));
            };
            let Some(m) = metrics.iter().position(|c| c == metric) else {
                return Err(UsageError::msg(format!(
                    "--output {name}: `{metric}` is not a summary.csv column (see docs/DATA.md)"
                )));
            };
            if !(start..=end).contains(&year) {
                return Err(UsageError::msg(format!(
                    "--output {name}: {year} is outside the simulated years {start}-{end}"
                )));
            }
            Ok(Output {
                name,
                metric: m,
                year_index: (year - start) as usize,
            })
        })
        .collect()
}

/// Run the Morris design and write its folder.
pub fn sensitivity(
    opts: &SensitivityOptions,
    meter: &mut dyn Meter,
) -> anyhow::Result<SensitivityOutcome> {
    let Method::Morris = opts.method;
    let (loaded, spec) = opts.run.resolve()?;
    let (start, end) = (loaded.config.run.start_year, loaded.config.run.end_year);
    let outputs = parse_outputs(opts, start, end)?;
    let params = &opts.params;
    let k = params.len();
    let r = opts.trajectories as usize;
    let reps = opts.runs as usize;
    let design = morris_design(k, r, opts.levels, &mut DesignRng::new(spec.seed));
    let sets = |point: usize| -> Vec<String> {
        params
            .iter()
            .zip(&design[point])
            .map(|(p, &u)| p.assignment(u))
            .collect()
    };
    for point in 0..design.len() {
        opts.run
            .resolve_with(&sets(point))
            .with_context(|| format!("at design point {}", sets(point).join(" ")))?;
    }

    let out = default_out(&opts.out, &loaded, "sensitivity");
    let staging = Staging::create(&out, opts.force, FolderKind::Experiment)?;
    let total = design.len() * reps;
    let pools = Pools::new(opts.run.threads, total)?;
    meter.start(total as u64, "runs");
    let started = Instant::now();
    // y[point][output]: the mean over replicates, summed in replicate order.
    let mut y = vec![vec![0.0; outputs.len()]; design.len()];
    let result = pools.run_ordered(
        total,
        |i| {
            let (loaded, _) = opts.run.resolve_with(&sets(i / reps))?;
            let mut sink = SummarySink::new();
            let spec = RunSpec {
                seed: derive_seed(spec.seed, (i % reps) as u64),
                scale: spec.scale,
            };
            run_batch_one(&loaded.config, &spec, &mut sink, opts.run.check, None)?;
            Ok(outputs
                .iter()
                .map(|o| summary_values(&sink.rows[o.year_index])[o.metric])
                .collect::<Vec<f64>>())
        },
        |i, values| {
            for (acc, v) in y[i / reps].iter_mut().zip(values) {
                *acc += v / reps as f64;
            }
            Ok(())
        },
        meter,
    );
    meter.finish();
    result?;

    // ranked[output] = [(parameter, effect)], most influential first.
    let ranked: Vec<Vec<(usize, Effect)>> = (0..outputs.len())
        .map(|o| {
            let yo: Vec<f64> = y.iter().map(|row| row[o]).collect();
            let mut effects: Vec<(usize, Effect)> = elementary_effects(&design, &yo, k)
                .iter()
                .map(|ee| summarise_effects(ee))
                .enumerate()
                .collect();
            effects.sort_by(|a, b| b.1.mu_star.total_cmp(&a.1.mu_star).then(a.0.cmp(&b.0)));
            effects
        })
        .collect();
    let format = opts.format;
    write_effects(
        &staging.path().join(format.file("sensitivity")),
        opts,
        &outputs,
        &ranked,
    )?;
    write_design(
        &staging.path().join(format.file("design")),
        opts,
        &design,
        &outputs,
        &y,
    )?;

    let mut manifest = Manifest::experiment("sensitivity", &loaded, spec.seed, spec.scale);
    manifest.format = (format == Format::Parquet).then(|| "parquet".into());
    manifest.runs = Some(total);
    manifest.threads = pools.across;
    manifest.threads_per_run = Some(pools.within);
    manifest.wall_time_s = started.elapsed().as_secs_f64();
    let dir = staging
        .finish(&loaded.config, &manifest)
        .context("writing the sensitivity folder")?;

    let mut table = String::new();
    writeln!(
        table,
        "Morris elementary effects: {k} parameters, r = {r} trajectories, p = {} levels, {total} runs.",
        opts.levels
    )?;
    writeln!(
        table,
        "mu* and sigma are in output units per full range (hi - lo) of the parameter."
    )?;
    let width = params.iter().map(|p| p.key.len()).max().unwrap_or(9).max(9);
    for (o, effects) in outputs.iter().zip(&ranked) {
        writeln!(table, "\n{}", o.name)?;
        writeln!(
            table,
            "  {:>4}  {:<width$}  {:>12}  {:>12}  {:>12}",
            "rank", "parameter", "mu*", "mu", "sigma"
        )?;
        for (rank, (i, e)) in effects.iter().enumerate() {
            writeln!(
                table,
                "  {:>4}  {:<width$}  {:>12}  {:>12}  {:>12}",
                rank + 1,
                params[*i].key,
                significant(e.mu_star),
                significant(e.mu),
                significant(e.sigma)
            )?;
        }
    }
    Ok(SensitivityOutcome {
        dir,
        table,
        wall_time_s: manifest.wall_time_s,
    })
}

/// `sensitivity.csv`: one row per output and parameter, ranked by mu* within each output.
fn write_effects(
    path: &Path,
    args: &SensitivityOptions,
    outputs: &[Output],
    ranked: &[Vec<(usize, Effect)>],
) -> anyhow::Result<()> {
    let names: Vec<&str> = outputs.iter().map(|o| o.name.as_str()).collect();
    let keys: Vec<&str> = args.params.iter().map(|p| p.key.as_str()).collect();
    let mut columns = vec![
        Column::new("output", words(&names)),
        Column::new("rank", Kind::Int),
        Column::new("parameter", words(&keys)),
    ];
    for name in ["lo", "hi", "mu_star", "mu", "sigma"] {
        columns.push(Column::new(name, Kind::Float));
    }
    columns.push(Column::new("trajectories", Kind::Int));
    let schema = Schema::new(columns);
    let mut batch = Batch::new(&schema);
    for (o, effects) in ranked.iter().enumerate() {
        for (rank, (i, e)) in effects.iter().enumerate() {
            let p = &args.params[*i];
            batch.word(o).int(rank as i64 + 1).word(*i);
            for x in [p.lo, p.hi, e.mu_star, e.mu, e.sigma] {
                batch.float(x);
            }
            batch.int(args.trajectories.into());
        }
    }
    write_table(path, args.format, &schema, &batch)
}

/// `design.csv`: every design point, its parameter values and the outputs (mean over replicates).
fn write_design(
    path: &Path,
    args: &SensitivityOptions,
    design: &[Vec<f64>],
    outputs: &[Output],
    y: &[Vec<f64>],
) -> anyhow::Result<()> {
    let mut columns = vec![
        Column::new("point", Kind::Int),
        Column::new("trajectory", Kind::Int),
    ];
    columns.extend(args.params.iter().map(|p| Column::new(&p.key, Kind::Float)));
    columns.extend(outputs.iter().map(|o| Column::new(&o.name, Kind::Float)));
    let schema = Schema::new(columns);
    let mut batch = Batch::new(&schema);
    let k = args.params.len();
    for (point, (x, ys)) in design.iter().zip(y).enumerate() {
        batch.int(point as i64).int((point / (k + 1)) as i64);
        for (p, &u) in args.params.iter().zip(x) {
            // `at` gives the value with 12 significant digits, as `{}` prints it.
            batch.float(p.at(u).parse()?);
        }
        for &v in ys {
            batch.float(v);
        }
    }
    write_table(path, args.format, &schema, &batch)
}

fn write_table(
    path: &Path,
    format: Format,
    schema: &std::sync::Arc<Schema>,
    batch: &Batch,
) -> anyhow::Result<()> {
    let mut w = table::create(path, format, schema)?;
    w.write(batch)
        .and_then(|()| w.finish())
        .with_context(|| format!("cannot write {}", path.display()))
}

/// Four significant digits, without exponent, for the terminal table.
pub fn significant(x: f64) -> String {
    if x == 0.0 || !x.is_finite() {
        return format!("{x}");
    }
    let decimals = (3 - x.abs().log10().floor() as i32).max(0) as usize;
    format!("{x:.decimals$}")
}
