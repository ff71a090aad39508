//! `shrinkcity ensemble`: N replicates of one config, with seeds derived from the base seed,
//! run in parallel. Writes each run's `runs/<i>/summary.csv` as it finishes and, at the
//! end, `ensemble.csv`: mean, sd and quantiles across runs for every year and metric.
//! Only the summary numbers (years × metrics × runs) are kept, never a run's agents.

use anyhow::Context;
use clap::Args;
use std::fs;
use std::time::Instant;

use super::RunSpec;
use super::batch::{
    Manifest, Pools, Staging, SummarySink, default_out, derive_seed, refuse_run_only_options,
    run_batch_one, summary_metrics, summary_values, write_summary,
};
use super::stats::summarise;
use crate::cli::{RunArgs, progress_bar};

#[derive(Args, Debug, Clone)]
#[command(
    mut_arg("out", |a| a.help("Output folder. Default: output/<config name>_ensemble/")),
    mut_arg("seed", |a| a.help("Base seed; run i gets the (i+1)-th SplitMix64 output from it. Default: run.seed in the config")),
    mut_arg("snapshots", |a| a.default_value("none")
        .help("Agent snapshot years per run (runs/<i>/agents/): all, none, or every:N")),
    mut_arg("threads", |a| a.help("Worker threads: runs go in parallel, one thread each. Default: all cores. Output does not depend on it")),
    mut_arg("checkpoint_every", |a| a.hide(true)),
    mut_arg("from_checkpoint", |a| a.hide(true)),
)]
pub struct EnsembleArgs {
    #[command(flatten)]
    pub run: RunArgs,
    /// Number of replicates.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    pub runs: u32,
}

pub fn ensemble_command(args: &EnsembleArgs) -> anyhow::Result<()> {
    refuse_run_only_options(&args.run, true)?;
    let (loaded, spec) = args.run.resolve()?;
    let config = &loaded.config;
    let n = args.runs as usize;
    let seeds: Vec<u64> = (0..n as u64).map(|i| derive_seed(spec.seed, i)).collect();
    let (start, end) = (config.run.start_year, config.run.end_year);
    let n_years = (end - start + 1) as usize;
    let metrics = summary_metrics();

    let out = default_out(&args.run.out, &loaded, "ensemble");
    let staging = Staging::create(&out, args.run.force)?;
    let runs_dir = staging.path().join("runs");
    let pools = Pools::new(args.run.threads, n)?;
    let bar = progress_bar(n as u64, args.run.quiet, "runs");
    let started = Instant::now();

    // values[year][metric][run]: the statistics need every run's value, nothing more.
    let mut values = vec![vec![vec![0.0; n]; metrics.len()]; n_years];
    let result = pools.run_ordered(
        n,
        |i| {
            let dir = runs_dir.join(i.to_string());
            fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
            let mut sink = SummarySink::with_snapshots(&dir, args.run.snapshots, start);
            let spec = RunSpec {
                seed: seeds[i],
                scale: spec.scale,
            };
            run_batch_one(config, &spec, &mut sink, args.run.check)?;
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
        &bar,
    );
    bar.finish_and_clear();
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

    let mut manifest = Manifest::new("ensemble", &loaded, spec.seed, spec.scale);
    manifest.runs = n;
    manifest.threads = pools.across;
    manifest.threads_per_run = pools.within;
    manifest.seeds = Some(seeds);
    manifest.wall_time_s = started.elapsed().as_secs_f64();
    let dir = staging
        .finish(config, &manifest)
        .context("writing the ensemble folder")?;
    if !args.run.quiet {
        eprintln!(
            "wrote {} ({n} runs, {:.1} s)",
            dir.display(),
            manifest.wall_time_s
        );
    }
    Ok(())
}
