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
//!
//! Each run's outputs go to `runs` as it finishes, in run-id order, and `plan` lists every run:
//! stopped (Ctrl-C), the folder keeps those with `complete: false`, and with `resume` the same
//! call runs only the missing runs and writes what an uninterrupted analysis writes.

use anyhow::Context;
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use super::batch::{
    DesignRng, Pools, SummarySink, default_out, derive_seed, run_batch_one, summary_metrics,
    summary_values,
};
use super::options::RunOptions;
use super::resume::{self, interrupted, interrupted_early};
use super::session::Watch;
use super::stats;
use super::sweep::tidy;
use super::{Outcome, RunSpec};
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
    /// Carry on the interrupted analysis at `out`, made with the same config and options:
    /// run only the runs it lacks. Nothing at `out`: start afresh.
    pub resume: bool,
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
    /// Runs in the design, and of those, runs carried over from an interrupted folder.
    pub runs: usize,
    pub reused: usize,
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

/// Run the Morris design and write its folder. Stopped by `watch.stop`, it keeps the finished
/// runs' outputs at `out` (`runs`, with `plan`) and returns `Interrupted`; with `resume` the
/// same call runs only the others.
pub fn sensitivity(
    opts: &SensitivityOptions,
    watch: &mut Watch,
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
    let total = design.len() * reps;
    let seed_of = |run: usize| derive_seed(spec.seed, (run % reps) as u64);

    let out = default_out(&opts.out, &loaded, "sensitivity");
    let format = opts.format;
    let mut manifest = Manifest::experiment("sensitivity", &loaded, spec.seed, spec.scale);
    manifest.format = (format == Format::Parquet).then(|| "parquet".into());
    manifest.runs = Some(total);
    let plan_name = format.file("plan");
    let plan_file = plan_bytes(opts, &design, reps, &seed_of, format)?;
    let previous = resume::previous(
        &out,
        opts.resume,
        opts.force,
        &manifest,
        &loaded.config,
        &[(&plan_name, &plan_file)],
    )?;
    let runs_schema = runs_schema(&outputs);
    // The outputs of every finished run, by run id: an interrupted folder's, then this call's.
    let mut done: BTreeMap<usize, Vec<f64>> = match &previous {
        Some(p) => read_runs(&p.dir.join(format.file("runs")), format, &runs_schema)?,
        None => BTreeMap::new(),
    };
    let reused = done.len();
    let todo: Vec<usize> = (0..total).filter(|i| !done.contains_key(i)).collect();
    if let Some(p) = &previous
        && p.manifest.complete
    {
        let ranked = rank(
            &design,
            &outputs,
            &means(&done, design.len(), reps, &outputs),
            k,
        );
        return Ok(SensitivityOutcome {
            dir: out,
            table: terminal_table(opts, &outputs, &ranked, total)?,
            runs: total,
            reused,
            wall_time_s: 0.0,
        });
    }

    let staging = Staging::create(
        &out,
        opts.force || previous.is_some(),
        FolderKind::Experiment,
    )?;
    (watch.staging)(Some(staging.path()));
    fs::write(staging.path().join(&plan_name), &plan_file)
        .with_context(|| format!("cannot write {}", staging.path().display()))?;
    let mut runs_file = table::create(
        &staging.path().join(format.file("runs")),
        format,
        &runs_schema,
    )?;
    let pools = Pools::new(opts.run.threads, todo.len().max(1))?;
    let stop = watch.stop;
    let meter = &mut *watch.meter;
    meter.start(todo.len() as u64, "runs");
    let started = Instant::now();
    // Runs below `written` are in the file: finished runs go in run-id order, the gaps of runs
    // dropped on a stop left out.
    let mut written = 0;
    let mut write_up_to = |id: usize,
                           done: &BTreeMap<usize, Vec<f64>>,
                           file: &mut Box<dyn table::TableWriter>|
     -> anyhow::Result<()> {
        let mut batch = Batch::new(&runs_schema);
        for (&i, values) in done.range(written..id) {
            batch.int(i as i64);
            for &v in values {
                batch.float(v);
            }
        }
        written = written.max(id);
        file.write(&batch)?;
        file.flush()
    };
    let result = pools.run_ordered(
        todo.len(),
        |t| {
            let i = todo[t];
            let (loaded, _) = opts.run.resolve_with(&sets(i / reps))?;
            let mut sink = SummarySink::new();
            let spec = RunSpec {
                seed: seed_of(i),
                scale: spec.scale,
            };
            let outcome =
                run_batch_one(&loaded.config, &spec, &mut sink, opts.run.check, Some(stop))?;
            Ok((outcome == Outcome::Complete).then(|| {
                outputs
                    .iter()
                    .map(|o| summary_values(&sink.rows[o.year_index])[o.metric])
                    .collect::<Vec<f64>>()
            }))
        },
        |t, values| {
            let i = todo[t];
            if let Some(values) = values {
                done.insert(i, values);
                write_up_to(i + 1, &done, &mut runs_file)?;
            }
            Ok(())
        },
        meter,
    );
    meter.finish();
    let result = result.and_then(|()| {
        write_up_to(total, &done, &mut runs_file)?;
        runs_file.finish()
    });
    if let Err(e) = result {
        (watch.staging)(None);
        return Err(e);
    }
    manifest.threads = pools.across;
    manifest.threads_per_run = Some(pools.within);
    manifest.wall_time_s = started.elapsed().as_secs_f64();
    if done.len() < total {
        (watch.staging)(None);
        if done.len() == reused {
            return Err(interrupted_early(previous.as_ref()));
        }
        manifest.complete = false;
        manifest.runs_done = Some(done.len());
        let dir = staging
            .finish(&loaded.config, &manifest)
            .context("writing the sensitivity folder")?;
        return Err(interrupted(done.len(), total, &dir));
    }

    let y = means(&done, design.len(), reps, &outputs);
    let ranked = rank(&design, &outputs, &y, k);
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
    let dir = staging.finish(&loaded.config, &manifest);
    (watch.staging)(None);
    let dir = dir.context("writing the sensitivity folder")?;
    Ok(SensitivityOutcome {
        dir,
        table: terminal_table(opts, &outputs, &ranked, total)?,
        runs: total,
        reused,
        wall_time_s: manifest.wall_time_s,
    })
}

/// y[point][output]: the mean over replicates, summed in replicate order.
fn means(
    done: &BTreeMap<usize, Vec<f64>>,
    points: usize,
    reps: usize,
    outputs: &[Output],
) -> Vec<Vec<f64>> {
    let mut y = vec![vec![0.0; outputs.len()]; points];
    for (&i, values) in done {
        for (acc, v) in y[i / reps].iter_mut().zip(values) {
            *acc += v / reps as f64;
        }
    }
    y
}

/// ranked[output] = [(parameter, effect)], most influential first.
fn rank(
    design: &[Vec<f64>],
    outputs: &[Output],
    y: &[Vec<f64>],
    k: usize,
) -> Vec<Vec<(usize, Effect)>> {
    (0..outputs.len())
        .map(|o| {
            let yo: Vec<f64> = y.iter().map(|row| row[o]).collect();
            let mut effects: Vec<(usize, Effect)> = elementary_effects(design, &yo, k)
                .iter()
                .map(|ee| summarise_effects(ee))
                .enumerate()
                .collect();
            effects.sort_by(|a, b| b.1.mu_star.total_cmp(&a.1.mu_star).then(a.0.cmp(&b.0)));
            effects
        })
        .collect()
}

/// The ranking as the terminal shows it.
fn terminal_table(
    opts: &SensitivityOptions,
    outputs: &[Output],
    ranked: &[Vec<(usize, Effect)>],
    total: usize,
) -> anyhow::Result<String> {
    let params = &opts.params;
    let mut table = String::new();
    writeln!(
        table,
        "Morris elementary effects: {} parameters, r = {} trajectories, p = {} levels, {total} runs.",
        params.len(),
        opts.trajectories,
        opts.levels
    )?;
    writeln!(
        table,
        "mu* and sigma are in output units per full range (hi - lo) of the parameter."
    )?;
    let width = params.iter().map(|p| p.key.len()).max().unwrap_or(9).max(9);
    for (o, effects) in outputs.iter().zip(ranked) {
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
    Ok(table)
}

/// `plan`: every run of the design, with its point, trajectory, seed and each parameter's
/// value as given to `--set`. A resume is refused unless it is the same.
fn plan_bytes(
    opts: &SensitivityOptions,
    design: &[Vec<f64>],
    reps: usize,
    seed_of: &dyn Fn(usize) -> u64,
    format: Format,
) -> anyhow::Result<Vec<u8>> {
    let mut columns = vec![
        Column::new("run_id", Kind::Int),
        Column::new("point", Kind::Int),
        Column::new("trajectory", Kind::Int),
        Column::new("seed", Kind::Int),
    ];
    columns.extend(opts.params.iter().map(|p| Column::new(&p.key, Kind::Text)));
    let schema = Schema::new(columns);
    let mut batch = Batch::new(&schema);
    let k = opts.params.len();
    for run in 0..design.len() * reps {
        let point = run / reps;
        batch
            .int(run as i64)
            .int(point as i64)
            .int((point / (k + 1)) as i64)
            .int(seed_of(run) as i64);
        for (p, &u) in opts.params.iter().zip(&design[point]) {
            batch.text(&format!("{}{}{}", p.before, p.at(u), p.after));
        }
    }
    let mut bytes = Vec::new();
    let mut w = table::writer(&mut bytes, format, &schema)?;
    w.write(&batch)?;
    w.finish()?;
    Ok(bytes)
}

/// The columns of `runs`: the run id and each output of that run.
fn runs_schema(outputs: &[Output]) -> Arc<Schema> {
    let mut columns = vec![Column::new("run_id", Kind::Int)];
    columns.extend(outputs.iter().map(|o| Column::new(&o.name, Kind::Float)));
    Schema::new(columns)
}

/// The finished runs of an interrupted analysis, by run id (refused unless its columns are
/// `schema`'s).
fn read_runs(
    path: &Path,
    format: Format,
    schema: &Arc<Schema>,
) -> anyhow::Result<BTreeMap<usize, Vec<f64>>> {
    let other = || {
        UsageError::msg(format!(
            "cannot resume: {} has other columns than this analysis writes (other --output?)",
            path.display()
        ))
    };
    let rows: Vec<Vec<f64>> = if format == Format::Parquet {
        table::read_batch(path, schema).map_err(|_| other())?;
        table::read_numbers(path)?
    } else {
        let mut r = csv::Reader::from_path(path)
            .with_context(|| format!("cannot read {}", path.display()))?;
        let names = schema.columns.iter().map(|c| c.name.as_str());
        if r.headers()?.iter().ne(names) {
            return Err(other());
        }
        r.records()
            .map(|rec| -> anyhow::Result<Vec<f64>> {
                let rec = rec.with_context(|| format!("cannot read {}", path.display()))?;
                rec.iter()
                    .map(|f| {
                        f.parse::<f64>()
                            .with_context(|| format!("{}: not a number: {f}", path.display()))
                    })
                    .collect()
            })
            .collect::<anyhow::Result<_>>()?
    };
    Ok(rows
        .into_iter()
        .map(|row| (row[0] as usize, row[1..].to_vec()))
        .collect())
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
