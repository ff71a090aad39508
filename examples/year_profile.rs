//! Where a run's time goes, per domain: builds the world, then runs every year one domain at
//! a time and prints the wall time of each (plus the recorder). Usage:
//! `cargo run --release --example year_profile -- [SCALE=1] [THREADS]`.

use std::time::{Duration, Instant};

use shrinkcity::config;
use shrinkcity::experiment::{RunSpec, world};
use shrinkcity::output::record::Recorder;
use shrinkcity::sim::schedule::{YearSet, schedule_for};
use shrinkcity::sim::{Clock, init_task_pool};

fn main() {
    let mut args = std::env::args().skip(1);
    let scale: f64 = args
        .next()
        .map_or(1.0, |s| s.parse().expect("SCALE is a number"));
    let threads = args.next().map(|s| s.parse().expect("THREADS is a number"));
    init_task_pool(threads);
    let cfg = config::baseline();
    let t = Instant::now();
    let mut w = world(&cfg, &RunSpec { seed: 1, scale });
    println!("setup {:8.1} ms", t.elapsed().as_secs_f64() * 1e3);
    let mut recorder = Recorder::new(&mut w);
    let mut sets = vec![YearSet::Begin];
    sets.extend(YearSet::DOMAINS);
    let mut schedules: Vec<_> = sets
        .iter()
        .map(|s| schedule_for(std::slice::from_ref(s)))
        .collect();
    let mut spent = vec![Duration::ZERO; sets.len() + 1];
    for year in cfg.run.start_year..=cfg.run.end_year {
        w.resource_mut::<Clock>().year = year;
        for (i, s) in schedules.iter_mut().enumerate() {
            let t = Instant::now();
            s.run(&mut w);
            spent[i] += t.elapsed();
        }
        let t = Instant::now();
        std::hint::black_box(recorder.measure(&mut w));
        spent[sets.len()] += t.elapsed();
    }
    for (i, d) in spent.iter().enumerate() {
        let name = sets
            .get(i)
            .map_or("Recorder".to_string(), |s| format!("{s:?}"));
        println!("{name:<12} {:8.1} ms", d.as_secs_f64() * 1e3);
    }
    println!(
        "total years {:8.1} ms",
        spent.iter().sum::<Duration>().as_secs_f64() * 1e3
    );
}
