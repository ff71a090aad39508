//! Where a run's time goes, per system and per domain: builds the world, then runs every year
//! one system at a time (each in a schedule of its own, in the year's order) and prints the
//! wall time of each over all years, then each domain's total.
//! Usage: `cargo run --release --example system_profile -- [SCALE=1] [THREADS]`.

use std::time::{Duration, Instant};

use bevy_ecs::prelude::*;
use bevy_ecs::schedule::SingleThreadedExecutor;
use shrinkcity::config;
use shrinkcity::engine::Clock;
use shrinkcity::engine::par::init_task_pool;
use shrinkcity::experiment::{RunSpec, world};
use shrinkcity::model::tally::Tally;
use shrinkcity::model::{demography, economy, household, housing, labour, migration};
use shrinkcity::output::record::Recorder;

fn one<M>(s: impl IntoScheduleConfigs<bevy_ecs::system::ScheduleSystem, M>) -> Schedule {
    let mut schedule = Schedule::default();
    schedule.set_executor(SingleThreadedExecutor::new());
    schedule.add_systems(s);
    schedule
}

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
    println!("{:<24} {:8.1} ms", "setup", t.elapsed().as_secs_f64() * 1e3);
    let mut recorder = Recorder::new(&mut w);
    let mut systems: Vec<(&str, &str, Schedule)> = vec![
        (
            "begin",
            "begin",
            one(|world: &mut World| {
                world.clear_trackers();
                *world.resource_mut::<Tally>() = Tally::default();
            }),
        ),
        ("demography", "die_and_age", one(demography::die_and_age)),
        ("demography", "give_birth", one(demography::give_birth)),
        (
            "demography",
            "settle_households",
            one(demography::settle_households),
        ),
        ("demography", "leave_home", one(demography::leave_home)),
        ("labour", "index_wages", one(labour::index_wages)),
        ("labour", "extract_coal", one(labour::extract_coal)),
        (
            "labour",
            "set_labour_demand",
            one(labour::set_labour_demand),
        ),
        (
            "labour",
            "separate_and_enter",
            one(labour::separate_and_enter),
        ),
        (
            "labour",
            "match_job_seekers",
            one(labour::match_job_seekers),
        ),
        (
            "household",
            "gather_households",
            one(household::gather_households),
        ),
        ("migration", "emigrate", one(migration::emigrate)),
        (
            "migration",
            "admit_immigrants",
            one(migration::admit_immigrants),
        ),
        ("housing", "release_vacated", one(housing::release_vacated)),
        ("housing", "build_estates", one(housing::build_estates)),
        ("housing", "trade_homes", one(housing::trade_homes)),
        (
            "economy",
            "measure_retail_sales",
            one(economy::measure_retail_sales),
        ),
    ];
    let mut spent = vec![Duration::ZERO; systems.len() + 1];
    for year in cfg.run.start_year..=cfg.run.end_year {
        w.resource_mut::<Clock>().year = year;
        for (i, (_, _, s)) in systems.iter_mut().enumerate() {
            let t = Instant::now();
            s.run(&mut w);
            spent[i] += t.elapsed();
        }
        let t = Instant::now();
        std::hint::black_box(recorder.measure(&mut w));
        spent[systems.len()] += t.elapsed();
    }
    let name = |i: usize| {
        systems
            .get(i)
            .map_or(("recorder", "Recorder::measure"), |s| (s.0, s.1))
    };
    for (i, d) in spent.iter().enumerate() {
        println!("{:<24} {:8.1} ms", name(i).1, d.as_secs_f64() * 1e3);
    }
    println!();
    let mut domains: Vec<(&str, Duration)> = Vec::new();
    for (i, d) in spent.iter().enumerate() {
        match domains.iter_mut().find(|(n, _)| *n == name(i).0) {
            Some((_, total)) => *total += *d,
            None => domains.push((name(i).0, *d)),
        }
    }
    for (domain, d) in domains {
        println!("{domain:<24} {:8.1} ms", d.as_secs_f64() * 1e3);
    }
    println!(
        "{:<24} {:8.1} ms",
        "total years",
        spent.iter().sum::<Duration>().as_secs_f64() * 1e3
    );
}
