//! Where a run's time goes, per system: builds the world, then runs every year one system at
//! a time (each in a schedule of its own, in the year's order) and prints the wall time of
//! each over all years. Usage: `cargo run --release --example system_profile -- [SCALE=1] [THREADS]`.

use std::time::{Duration, Instant};

use bevy_ecs::prelude::*;
use bevy_ecs::schedule::SingleThreadedExecutor;
use shrinkcity::config;
use shrinkcity::experiment::{RunSpec, world};
use shrinkcity::model::{demography, economy, household, housing, labour, migration};
use shrinkcity::output::record::Recorder;
use shrinkcity::sim::{Clock, Tally, init_task_pool};

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
    let mut systems: Vec<(&str, Schedule)> = vec![
        (
            "begin",
            one(|world: &mut World| {
                world.clear_trackers();
                *world.resource_mut::<Tally>() = Tally::default();
            }),
        ),
        ("die_and_age", one(demography::die_and_age)),
        ("give_birth", one(demography::give_birth)),
        ("settle_households", one(demography::settle_households)),
        ("leave_home", one(demography::leave_home)),
        ("index_wages", one(labour::index_wages)),
        ("extract_coal", one(labour::extract_coal)),
        ("set_labour_demand", one(labour::set_labour_demand)),
        ("separate_and_enter", one(labour::separate_and_enter)),
        ("match_job_seekers", one(labour::match_job_seekers)),
        ("gather_households", one(household::gather_households)),
        ("emigrate", one(migration::emigrate)),
        ("admit_immigrants", one(migration::admit_immigrants)),
        ("release_vacated", one(housing::release_vacated)),
        ("build_estates", one(housing::build_estates)),
        ("trade_homes", one(housing::trade_homes)),
        ("measure_retail_sales", one(economy::measure_retail_sales)),
    ];
    let mut spent = vec![Duration::ZERO; systems.len() + 1];
    for year in cfg.run.start_year..=cfg.run.end_year {
        w.resource_mut::<Clock>().year = year;
        for (i, (_, s)) in systems.iter_mut().enumerate() {
            let t = Instant::now();
            s.run(&mut w);
            spent[i] += t.elapsed();
        }
        let t = Instant::now();
        std::hint::black_box(recorder.measure(&mut w));
        spent[systems.len()] += t.elapsed();
    }
    for (i, d) in spent.iter().enumerate() {
        let name = systems.get(i).map_or("Recorder::measure", |s| s.0);
        println!("{name:<24} {:8.1} ms", d.as_secs_f64() * 1e3);
    }
    println!(
        "{:<24} {:8.1} ms",
        "total years",
        spent.iter().sum::<Duration>().as_secs_f64() * 1e3
    );
}
