//! `shrinkcity ensemble`: N replicates of one config, with seeds derived from the base seed,
//! run in parallel. Writes each run's `runs/<i>/summary.csv` as it finishes and, at the
//! end, `ensemble.csv`: mean, sd and quantiles across runs for every year and metric.
//! Only the summary numbers (years × metrics × runs) are kept, never a run's agents.

use anyhow::Context;
use std::fs;
use std::path::PathBuf;
use std::time::Instant;

use super::RunSpec;
use super::batch::{
    Pools, SummarySink, default_out, derive_seed, run_batch_one, summary_metrics, summary_values,
    write_summary,
};
use super::options::{Meter, RunOptions};
use super::stats::summarise;
use crate::output::{FolderKind, Manifest, Snapshots, Staging};

/// What `ensemble` is given.
#[derive(Clone, Debug)]
pub struct EnsembleOptions {
    pub run: RunOptions,
    /// Output folder. `None`: `output/<config name>_ensemble/`.
    pub out: Option<PathBuf>,
    /// Replace an existing folder at `out`.
    pub force: bool,
    /// Number of replicates (at least 1).
    pub runs: u32,
    /// Agent snapshot years of every run (`runs/<i>/agents/`).
    pub snapshots: Snapshots,
}

/// A finished ensemble folder.
#[derive(Clone, Debug)]
pub struct EnsembleOutcome {
    pub dir: PathBuf,
    pub runs: usize,
    pub wall_time_s: f64,
}

/// Run the ensemble and write its folder.
pub fn ensemble(opts: &EnsembleOptions, meter: &mut dyn Meter) -> anyhow::Result<EnsembleOutcome> {
    let (loaded, spec) = opts.run.resolve()?;
    let config = &loaded.config;
    let n = opts.runs as usize;
    let seeds: Vec<u64> = (0..n as u64).map(|i| derive_seed(spec.seed, i)).collect();
    let (start, end) = (config.run.start_year, config.run.end_year);
    let n_years = (end - start + 1) as usize;
    let metrics = summary_metrics();

    let out = default_out(&opts.out, &loaded, "ensemble");
    let staging = Staging::create(&out, opts.force, FolderKind::Experiment)?;
    let runs_dir = staging.path().join("runs");
    let pools = Pools::new(opts.run.threads, n)?;
    meter.start(n as u64, "runs");
    let started = Instant::now();

    // values[year][metric][run]: the statistics need every run's value, nothing more.
    let mut values = vec![vec![vec![0.0; n]; metrics.len()]; n_years];
    let result = pools.run_ordered(
        n,
        |i| {
            let dir = runs_dir.join(i.to_string());
            fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
            let mut sink = SummarySink::with_snapshots(&dir, opts.snapshots, start);
            let spec = RunSpec {
                seed: seeds[i],
                scale: spec.scale,
            };
            run_batch_one(config, &spec, &mut sink, opts.run.check)?;
            write_summary(&dir.join("summary.csv"), &sink.rows)?;
            Ok(sink.rows)
        },
        |i, rows| {
            for (y, row) in rows.iter().enumerate() {
                for (m, v) in summary_values(row).into_iter().enumerate() {
                    values[y][m][i] = v;
                }
            }
            Ok(())
        },
        meter,
    );
    meter.finish();
    result?;

    let path = staging.path().join("ensemble.csv");
    let mut w = csv::Writer::from_path(&path)
        .with_context(|| format!("cannot create {}", path.display()))?;
    w.write_record(["year", "metric", "mean", "sd", "p05", "p50", "p95"])?;
    for (y, per_metric) in values.iter().enumerate() {
        let year = (start + y as i32).to_string();
        for (metric, v) in metrics.iter().zip(per_metric) {
            let s = summarise(v);
            let stats = [s.mean, s.sd, s.p05, s.p50, s.p95].map(|x| x.to_string());
            w.write_record(
                [year.as_str(), metric.as_str()]
                    .into_iter()
                    .chain(stats.iter().map(String::as_str)),
            )?;
        }
    }
    w.flush()?;

    let mut manifest = Manifest::experiment("ensemble", &loaded, spec.seed, spec.scale);
    manifest.runs = Some(n);
    manifest.threads = pools.across;
    manifest.threads_per_run = Some(pools.within);
    manifest.seeds = Some(seeds);
    manifest.wall_time_s = started.elapsed().as_secs_f64();
    let dir = staging
        .finish(config, &manifest)
        .context("writing the ensemble folder")?;
    Ok(EnsembleOutcome {
        dir,
        runs: n,
        wall_time_s: manifest.wall_time_s,
    })
}
