use shrinkcity::calibration::targets::{How, Target, report};
use shrinkcity::calibration::{Calibration, Parameter, Run, Targets};
use shrinkcity::config;
use shrinkcity::experiment::batch::derive_seed;
use shrinkcity::experiment::{RunSpec, run_to_memory};

fn run(config: &config::Config, seed: u64, scale: f64) -> Run {
    Run::from_records(&run_to_memory(config, &RunSpec { seed, scale }).1)
}

/// Every target is met by the mean of the runs `shrinkcity ensemble --runs 5 --scale 0.1` makes
/// (the baseline's seed, replicates 0-4), to 2025: the check of docs/MODEL.md (Calibration).
#[test]
fn the_baseline_meets_every_target() {
    let targets = Targets::load(None).unwrap();
    let c = config::with_overrides(&config::baseline(), &["run.end_year=2025".into()]).unwrap();
    let runs: Vec<Run> = (0..5)
        .map(|i| run(&c, derive_seed(c.run.seed, i), 0.1))
        .collect();
    let rows = report(&targets, &runs);
    let missed: Vec<_> = rows
        .iter()
        .filter(|r| !r.within_tolerance)
        .map(|r| {
            format!(
                "{}: {} not in {}..{}",
                r.name, r.simulated_mean, r.low, r.high
            )
        })
        .collect();
    assert!(missed.is_empty(), "targets missed: {missed:#?}");
}

fn at(name: &str, metric: &str, year: i32, value: f64) -> Target {
    Target {
        name: name.into(),
        metric: metric.into(),
        how: How::At,
        year: Some(year),
        years: None,
        from: None,
        to: None,
        ages: None,
        target: Some(value),
        low: value * 0.97,
        high: value * 1.03,
        one_sided: false,
        weight: None,
        source: "generated from a known truth".into(),
    }
}

/// Targets generated from the baseline with two parameters moved by ±30% are recovered by
/// calibrating from the baseline, each within 10% of the truth.
#[test]
fn calibrate_recovers_a_known_truth() {
    let base = config::with_overrides(&config::baseline(), &["run.end_year=2021".into()]).unwrap();
    let truth = [0.7 * 1.3, 0.1 * 0.7];
    let keys = ["demography.total_fertility", "migration.realisation_rate"];
    let truth_config = config::with_overrides(
        &base,
        &[
            format!("{}={}", keys[0], truth[0]),
            format!("{}={}", keys[1], truth[1]),
        ],
    )
    .unwrap();
    let seeds = vec![11, 12];
    let scale = 0.02;
    let truth_runs: Vec<Run> = seeds
        .iter()
        .map(|&s| run(&truth_config, s, scale))
        .collect();
    let mean_of = |metric: &str, year: i32| {
        truth_runs.iter().map(|r| r.0[metric][&year]).sum::<f64>() / truth_runs.len() as f64
    };
    let mut target = Vec::new();
    for year in [2017, 2019, 2021] {
        target.push(at("births", "births", year, mean_of("births", year)));
        target.push(at(
            "emigrants",
            "emigrants",
            year,
            mean_of("emigrants", year),
        ));
    }
    let cal = Calibration {
        base,
        targets: Targets {
            target,
            parameter: Vec::new(),
        },
        params: vec![
            Parameter {
                key: keys[0].into(),
                low: 0.3,
                high: 1.5,
            },
            Parameter {
                key: keys[1].into(),
                low: 0.02,
                high: 0.3,
            },
        ],
        budget: 60,
        seeds,
        scale,
    };
    let outcome = cal.run(&mut |_| {}).unwrap();
    for ((key, found), want) in keys.iter().zip(&outcome.best.values).zip(truth) {
        assert!(
            (found - want).abs() <= 0.1 * want,
            "{key}: found {found}, truth {want}"
        );
    }
    assert!(outcome.history.len() <= 60);
}
