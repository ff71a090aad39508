//! Criterion benches: world set-up, one simulated year per domain (so a regression points at
//! its systems), agent snapshot writing, and a whole run. Sizes: 100k and 1M residents
//! (`--scale 0.1` and `1`). Whole-process timings and peak memory: `scripts/bench.sh`.

use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use std::hint::black_box;

use shrinkcity::config;
use shrinkcity::engine::Clock;
use shrinkcity::experiment::{RunSpec, run_to_memory, world};
use shrinkcity::output::snapshot::write_agents;
use shrinkcity::sim::schedule::{YearSet, schedule_for};

const SIZES: [(&str, f64); 2] = [("100k", 0.1), ("1M", 1.0)];

fn spec(scale: f64) -> RunSpec {
    RunSpec { seed: 1, scale }
}

fn setup(c: &mut Criterion) {
    let cfg = config::baseline();
    let mut g = c.benchmark_group("setup");
    g.sample_size(10);
    for (name, scale) in SIZES {
        g.bench_function(name, |b| b.iter(|| black_box(world(&cfg, &spec(scale)))));
    }
    g.finish();
}

/// One year of each domain, on a world that has just run the domains before it.
fn one_year(c: &mut Criterion) {
    let cfg = config::baseline();
    let mut g = c.benchmark_group("year");
    g.sample_size(10);
    for (name, scale) in SIZES {
        for (i, set) in YearSet::DOMAINS.iter().enumerate() {
            let mut before = vec![YearSet::Begin];
            before.extend(YearSet::DOMAINS[..i].iter().cloned());
            g.bench_function(format!("{set:?}/{name}"), |b| {
                b.iter_batched(
                    || {
                        let mut w = world(&cfg, &spec(scale));
                        w.resource_mut::<Clock>().year = cfg.run.start_year;
                        schedule_for(&before).run(&mut w);
                        (w, schedule_for(std::slice::from_ref(set)))
                    },
                    |(mut w, mut s)| {
                        s.run(&mut w);
                        w
                    },
                    BatchSize::PerIteration,
                )
            });
        }
    }
    g.finish();
}

fn snapshot(c: &mut Criterion) {
    let cfg = config::baseline();
    let mut w = world(&cfg, &spec(0.1));
    let mut g = c.benchmark_group("snapshot");
    g.sample_size(10);
    g.bench_function("agents_csv/100k", |b| {
        b.iter(|| write_agents(&mut w, &mut std::io::sink()).expect("sink never fails"))
    });
    g.finish();
}

fn full_run(c: &mut Criterion) {
    let cfg = config::baseline();
    let mut g = c.benchmark_group("run");
    g.sample_size(10);
    g.bench_function("2015-2035/100k", |b| {
        b.iter(|| black_box(run_to_memory(&cfg, &spec(0.1))))
    });
    g.finish();
}

criterion_group!(benches, setup, one_year, snapshot, full_run);
criterion_main!(benches);
