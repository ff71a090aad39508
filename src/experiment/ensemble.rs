//! `shrinkcity ensemble`: N replicates of one config, with seeds derived from the base seed,
//! run in parallel. Writes each run's `runs/<i>/summary.csv` as it finishes and, at the
//! end, `ensemble.csv`: mean, sd and quantiles across runs for every year and metric.
//! Each run also keeps its `age_structure` and `emigration_drivers` (as a run folder writes
//! them, in `--format`), so the report draws their means; never a run's agents (unless asked).
//!
//! Stopped (the watch's stop flag, set on Ctrl-C), it hands out no new run, drops the runs in
//! progress at their next year, and moves the finished runs' folders to `out` with
//! `complete: false` in the manifest and no `ensemble.csv`. With `resume`, the same command
//! reads those runs back from `runs/<i>/summary.csv` and runs only the others: the folder it
//! writes is the one an uninterrupted ensemble writes (the manifest's timing aside).

use anyhow::Context;
use std::fs;
use std::path::{Path, PathBuf};
use std::time::Instant;

use super::batch::{
    Pools, SummarySink, default_out, derive_seed, run_batch_one, summary_metrics, summary_values,
    write_summary,
};
use super::options::RunOptions;
use super::resume::{self, interrupted, interrupted_early, link_or_copy};
use super::session::Watch;
use super::stats::summarise;
use super::{Outcome, RunSpec};
use crate::output::table::{self, Batch, Column, Format, Kind, Schema, words};
use crate::output::{FolderKind, Manifest, Snapshots, Staging};

/// What `ensemble` is given.
#[derive(Clone, Debug)]
pub struct EnsembleOptions {
    pub run: RunOptions,
    /// Output folder. `None`: `output/<config name>_ensemble/`.
    pub out: Option<PathBuf>,
    /// Replace an existing folder at `out`.
    pub force: bool,
    /// Carry on the interrupted ensemble at `out` (made with the same config and options):
    /// run only the runs it lacks. Nothing at `out`: start afresh.
    pub resume: bool,
    /// Number of replicates (at least 1).
    pub runs: u32,
    /// Agent snapshot years of every run (`runs/<i>/agents/`).
    pub snapshots: Snapshots,
    /// The format of every table: each run's summary and snapshots, and `ensemble`.
    pub format: Format,
}

/// A finished ensemble folder.
#[derive(Clone, Debug)]
pub struct EnsembleOutcome {
    pub dir: PathBuf,
    /// Runs the folder holds.
    pub runs: usize,
    /// Of those, runs carried over from an interrupted folder by `resume`.
    pub reused: usize,
    pub wall_time_s: f64,
}

/// Run the ensemble and write its folder. Stopped by `watch.stop`, it keeps the finished runs
/// at `out` and returns `Interrupted`.
pub fn ensemble(opts: &EnsembleOptions, watch: &mut Watch) -> anyhow::Result<EnsembleOutcome> {
    let (loaded, spec) = opts.run.resolve()?;
    let config = &loaded.config;
    let n = opts.runs as usize;
    let seeds: Vec<u64> = (0..n as u64).map(|i| derive_seed(spec.seed, i)).collect();
    let (start, end) = (config.run.start_year, config.run.end_year);
    let n_years = (end - start + 1) as usize;
    let metrics = summary_metrics();

    let out = default_out(&opts.out, &loaded, "ensemble");
    let mut manifest = Manifest::experiment("ensemble", &loaded, spec.seed, spec.scale);
    manifest.runs = Some(n);
    manifest.snapshots = Some(opts.snapshots.label());
    manifest.format = (opts.format == Format::Parquet).then(|| "parquet".into());
    let previous = resume::previous(&out, opts.resume, opts.force, &manifest, config, &[])?;
    if let Some(p) = &previous
        && p.manifest.complete
    {
        return Ok(EnsembleOutcome {
            dir: out,
            runs: n,
            reused: n,
            wall_time_s: 0.0,
        });
    }
    let staging = Staging::create(
        &out,
        opts.force || previous.is_some(),
        FolderKind::Experiment,
    )?;
    (watch.staging)(Some(staging.path()));
    let runs_dir = staging.path().join("runs");
    let started = Instant::now();

    // values[year][metric][run]: the statistics need every run's value, nothing more.
    let mut values = vec![vec![vec![0.0; n]; metrics.len()]; n_years];
    let mut done = vec![false; n];
    if let Some(p) = &previous {
        for (i, done) in done.iter_mut().enumerate() {
            let old = p.dir.join("runs").join(i.to_string());
            let summary = old.join(opts.format.file("summary"));
            if !summary.is_file() {
                continue;
            }
            let rows = read_values(&summary, opts.format, n_years, metrics.len())?;
            for (y, row) in rows.into_iter().enumerate() {
                for (m, v) in row.into_iter().enumerate() {
                    values[y][m][i] = v;
                }
            }
            link_or_copy(&old, &runs_dir.join(i.to_string()))?;
            *done = true;
        }
    }
    let reused = done.iter().filter(|&&d| d).count();
    let todo: Vec<usize> = (0..n).filter(|&i| !done[i]).collect();

    let pools = Pools::new(opts.run.threads, todo.len().max(1))?;
    let stop = watch.stop;
    let meter = &mut *watch.meter;
    meter.start(todo.len() as u64, "runs");
    let result = pools.run_ordered(
        todo.len(),
        |k| {
            let i = todo[k];
            let dir = runs_dir.join(i.to_string());
            fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
            let mut sink = SummarySink::with_snapshots(&dir, opts.snapshots, start, opts.format)
                .keeping_structure();
            let spec = RunSpec {
                seed: seeds[i],
                scale: spec.scale,
            };
            if run_batch_one(config, &spec, &mut sink, opts.run.check, Some(stop))?
                != Outcome::Complete
            {
                // Dropped: a resumed ensemble runs it again from its start.
                fs::remove_dir_all(&dir).ok();
                return Ok(None);
            }
            write_summary(&dir, &sink.rows, opts.format)?;
            sink.write_structure(&dir, opts.format)?;
            Ok(Some(sink.rows))
        },
        |k, rows| {
            let Some(rows) = rows else { return Ok(()) };
            let i = todo[k];
            for (y, row) in rows.iter().enumerate() {
                for (m, v) in summary_values(row).into_iter().enumerate() {
                    values[y][m][i] = v;
                }
            }
            done[i] = true;
            Ok(())
        },
        meter,
    );
    meter.finish();
    if let Err(e) = result {
        (watch.staging)(None);
        return Err(e);
    }

    manifest.threads = pools.across;
    manifest.threads_per_run = Some(pools.within);
    manifest.seeds = Some(seeds);
    let finished = done.iter().filter(|&&d| d).count();
    if finished < n {
        (watch.staging)(None);
        if finished == 0 {
            return Err(interrupted_early(previous.as_ref()));
        }
        manifest.complete = false;
        manifest.runs_done = Some(finished);
        manifest.wall_time_s = started.elapsed().as_secs_f64();
        let dir = staging
            .finish(config, &manifest)
            .context("writing the ensemble folder")?;
        return Err(interrupted(finished, n, &dir));
    }

    let path = staging.path().join(opts.format.file("ensemble"));
    let mut columns = vec![
        Column::new("year", Kind::Int),
        Column::new("metric", words(&metrics)),
    ];
    for stat in ["mean", "sd", "p05", "p50", "p95"] {
        columns.push(Column::new(stat, Kind::Float));
    }
    let schema = Schema::new(columns);
    let mut batch = Batch::new(&schema);
    for (y, per_metric) in values.iter().enumerate() {
        for (m, v) in per_metric.iter().enumerate() {
            let s = summarise(v);
            batch.int(i64::from(start) + y as i64).word(m);
            for x in [s.mean, s.sd, s.p05, s.p50, s.p95] {
                batch.float(x);
            }
        }
    }
    let mut w = table::create(&path, opts.format, &schema)?;
    w.write(&batch)
        .and_then(|()| w.finish())
        .with_context(|| format!("cannot write {}", path.display()))?;

    manifest.wall_time_s = started.elapsed().as_secs_f64();
    let dir = staging.finish(config, &manifest);
    (watch.staging)(None);
    let dir = dir.context("writing the ensemble folder")?;
    Ok(EnsembleOutcome {
        dir,
        runs: n,
        reused,
        wall_time_s: manifest.wall_time_s,
    })
}

/// A finished run's `summary.csv` (or `.parquet`) read back as `summary_values` gives them:
/// the values are parsed from the same text (or stored as the same doubles), so the
/// statistics come out bit for bit as they did.
fn read_values(
    path: &Path,
    format: Format,
    years: usize,
    metrics: usize,
) -> anyhow::Result<Vec<Vec<f64>>> {
    let bad = || format!("{} is not a finished run's summary", path.display());
    if format == Format::Parquet {
        let rows: Vec<Vec<f64>> = table::read_numbers(path)
            .with_context(bad)?
            .into_iter()
            .map(|row| row[1..].to_vec())
            .collect();
        if rows.len() != years || rows.iter().any(|r| r.len() != metrics) {
            anyhow::bail!(bad());
        }
        return Ok(rows);
    }
    let mut r = csv::Reader::from_path(path).with_context(bad)?;
    let rows: Vec<Vec<f64>> = r
        .records()
        .map(|rec| -> anyhow::Result<Vec<f64>> {
            let rec = rec?;
            Ok(rec
                .iter()
                .skip(1)
                .map(str::parse)
                .collect::<Result<_, _>>()?)
        })
        .collect::<anyhow::Result<_>>()
        .with_context(bad)?;
    if rows.len() != years || rows.iter().any(|r| r.len() != metrics) {
        anyhow::bail!(bad());
    }
    Ok(rows)
}
