use crate::util::{shrinkcity, small_run};
use predicates::prelude::*;

#[test]
fn run_writes_every_output_for_every_year() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("run");
    small_run(["--out"]).arg(&out).assert().success();
    let summary = std::fs::read_to_string(out.join("summary.csv")).unwrap();
    let mut lines = summary.lines();
    let header = lines.next().unwrap();
    for col in [
        "year",
        "population",
        "households",
        "births",
        "deaths",
        "immigrants",
        "emigrants",
        "share_65plus",
        "median_age",
        "labour_force",
        "employed",
        "unemployed",
        "unemployment_rate",
        "coal_jobs",
        "jobs_created",
        "jobs_lost",
        "new_job_seekers",
        "coal_output_mt",
        "coal_reserve_share_of_peak",
        "price_per_m2",
        "mean_home_value",
        "transactions",
        "dwellings",
        "vacant_dwellings",
        "vacancy_rate",
        "estates_below_40pct_occupancy",
        "retail_sales_index",
        "mean_income",
    ] {
        assert!(
            header.split(',').any(|h| h == col),
            "summary.csv lacks {col}"
        );
    }
    let years: Vec<&str> = lines.map(|l| l.split(',').next().unwrap()).collect();
    assert_eq!(years.first(), Some(&"2015"));
    assert_eq!(years.last(), Some(&"2035"));
    assert_eq!(years.len(), 21);
    for f in [
        "age_structure.csv",
        "emigration_drivers.csv",
        "config.toml",
        "manifest.json",
    ] {
        assert!(out.join(f).is_file(), "{f} missing");
    }
    for y in [2015, 2025, 2035] {
        assert!(out.join(format!("agents/agents_{y}.csv")).is_file());
    }
    assert!(!out.join("agents/agents_2020.csv").exists());
    let manifest: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("manifest.json")).unwrap()).unwrap();
    assert_eq!(manifest["complete"], true);
    assert!(manifest["initial_population"].as_i64().unwrap() > 900_000);
}

#[test]
fn the_written_config_repeats_the_run_exactly() {
    let dir = tempfile::tempdir().unwrap();
    let a = dir.path().join("a");
    let b = dir.path().join("b");
    small_run([
        "--seed",
        "11",
        "--set",
        "migration.climate_weight=0.5",
        "--out",
    ])
    .arg(&a)
    .assert()
    .success();
    small_run(["--seed", "11", "--config"])
        .arg(a.join("config.toml"))
        .arg("--out")
        .arg(&b)
        .assert()
        .success();
    assert_eq!(
        std::fs::read(a.join("summary.csv")).unwrap(),
        std::fs::read(b.join("summary.csv")).unwrap()
    );
}

#[test]
fn a_bad_set_key_exits_2_suggests_the_key_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("run");
    small_run(["--set", "migration.climate_wieght=0", "--out"])
        .arg(&out)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("migration.climate_weight"));
    assert!(!out.exists());
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        0,
        "nothing written"
    );
}

#[test]
fn a_bad_value_in_a_config_file_names_file_key_line_and_range() {
    let dir = tempfile::tempdir().unwrap();
    let text = shrinkcity::config::BASELINE_TOML
        .replace("total_fertility = 0.7", "total_fertility = -1.0");
    let path = dir.path().join("bad.toml");
    std::fs::write(&path, text).unwrap();
    small_run(["--config"])
        .arg(&path)
        .arg("--out")
        .arg(dir.path().join("run"))
        .assert()
        .code(2)
        .stderr(
            predicate::str::contains("bad.toml")
                .and(predicate::str::contains("demography.total_fertility"))
                .and(predicate::str::contains("line"))
                .and(predicate::str::contains("from 0 to 8")),
        );
    assert!(!dir.path().join("run").exists());
}

#[test]
fn an_unknown_key_in_a_config_file_is_rejected() {
    let dir = tempfile::tempdir().unwrap();
    let text =
        shrinkcity::config::BASELINE_TOML.replace("[economy]\n", "[economy]\nwealth_efect = 0.1\n");
    let path = dir.path().join("typo.toml");
    std::fs::write(&path, text).unwrap();
    small_run(["--config"])
        .arg(&path)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("wealth_efect"));
}

#[test]
fn bad_flags_exit_2_with_a_clear_message() {
    for (args, needle) in [
        (vec!["--scale", "0"], "--scale"),
        (vec!["--scale=-1"], "--scale"),
        (vec!["--threads", "0"], "--threads"),
        (
            vec!["--start-year", "2030", "--end-year", "2020"],
            "run.end_year",
        ),
        (vec!["--snapshots", "sometimes"], "every:N"),
    ] {
        shrinkcity()
            .arg("run")
            .arg("--quiet")
            .args(&args)
            .assert()
            .code(2)
            .stderr(predicate::str::contains(needle));
    }
}

#[test]
fn an_existing_run_is_kept_without_force() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("run");
    std::fs::create_dir(&out).unwrap();
    std::fs::write(out.join("summary.csv"), "precious").unwrap();
    small_run(["--out"])
        .arg(&out)
        .assert()
        .code(1)
        .stderr(predicate::str::contains("--force"));
    assert_eq!(
        std::fs::read_to_string(out.join("summary.csv")).unwrap(),
        "precious"
    );
    small_run(["--force", "--out"]).arg(&out).assert().success();
    assert_ne!(
        std::fs::read_to_string(out.join("summary.csv")).unwrap(),
        "precious"
    );
}

#[test]
fn help_explains_the_run_options() {
    shrinkcity()
        .args(["run", "--help"])
        .assert()
        .success()
        .stdout(predicate::str::contains("--scale").and(predicate::str::contains("--set")));
}
