use crate::util::small_run;
use shrinkcity::config;
use shrinkcity::experiment::{RunSpec, run_to_memory};

#[test]
fn the_same_seed_gives_the_same_run_and_another_seed_a_different_one() {
    let c = config::baseline();
    let a = run_to_memory(
        &c,
        &RunSpec {
            seed: 3,
            scale: 0.01,
        },
    );
    let b = run_to_memory(
        &c,
        &RunSpec {
            seed: 3,
            scale: 0.01,
        },
    );
    let other = run_to_memory(
        &c,
        &RunSpec {
            seed: 4,
            scale: 0.01,
        },
    );
    let rows = |r: &(i64, Vec<shrinkcity::output::YearRecord>)| {
        r.1.iter().map(|y| y.summary.clone()).collect::<Vec<_>>()
    };
    assert_eq!(rows(&a), rows(&b));
    assert_ne!(rows(&a), rows(&other));
}

#[test]
fn one_and_two_threads_write_identical_files() {
    let dir = tempfile::tempdir().unwrap();
    for threads in ["1", "2"] {
        small_run(["--snapshots", "every:5", "--threads", threads, "--out"])
            .arg(dir.path().join(threads))
            .assert()
            .success();
    }
    let mut files = vec![
        "summary.csv".to_string(),
        "age_structure.csv".into(),
        "emigration_drivers.csv".into(),
        "config.toml".into(),
    ];
    for y in [2015, 2020, 2025, 2030, 2035] {
        files.push(format!("agents/agents_{y}.csv"));
    }
    for f in files {
        let a = std::fs::read(dir.path().join("1").join(&f)).unwrap();
        let b = std::fs::read(dir.path().join("2").join(&f)).unwrap();
        assert!(a == b, "{f} differs between --threads 1 and --threads 2");
    }
}
