//! One lever syntax (issue 22, item 7): a number or a ramp given for a series key means the
//! same run whether it comes from `--set`, a scenario file or a sweep point, and it changes
//! nothing before `run.lever_start_year`.

use crate::util::shrinkcity;
use predicates::prelude::*;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Small runs that reach a few years past the lever start year (2026).
const SMALL: [&str; 5] = ["--quiet", "--scale", "0.01", "--end-year", "2029"];

fn run(out: &Path, args: &[&str]) {
    shrinkcity()
        .arg("run")
        .args(SMALL)
        .args(args)
        .arg("--out")
        .arg(out)
        .assert()
        .success();
}

fn summary(dir: &Path) -> Vec<u8> {
    std::fs::read(dir.join("summary.csv")).unwrap()
}

/// `summary.csv` as year → metric → value.
fn summary_values(dir: &Path) -> BTreeMap<(String, String), f64> {
    let mut r = csv::Reader::from_path(dir.join("summary.csv")).unwrap();
    let header: Vec<String> = r.headers().unwrap().iter().map(String::from).collect();
    let mut out = BTreeMap::new();
    for rec in r.records().map(Result::unwrap) {
        for (name, v) in header.iter().zip(rec.iter()).skip(1) {
            out.insert((rec[0].to_string(), name.clone()), v.parse().unwrap());
        }
    }
    out
}

/// A sweep's results for one run id, as year → metric → value, and its seed.
fn sweep_run(dir: &Path, run_id: &str) -> (String, BTreeMap<(String, String), f64>) {
    let mut r = csv::Reader::from_path(dir.join("results.csv")).unwrap();
    let header: Vec<String> = r.headers().unwrap().iter().map(String::from).collect();
    let col = |name: &str| header.iter().position(|h| h == name).unwrap();
    let (seed, year, metric, value) = (col("seed"), col("year"), col("metric"), col("value"));
    let mut out = BTreeMap::new();
    let mut seed_of = String::new();
    for rec in r.records().map(Result::unwrap).filter(|r| &r[0] == run_id) {
        seed_of = rec[seed].to_string();
        out.insert(
            (rec[year].to_string(), rec[metric].to_string()),
            rec[value].parse().unwrap(),
        );
    }
    (seed_of, out)
}

fn scenario(dir: &Path, name: &str, policy: &str) -> PathBuf {
    let path = dir.join(format!("{name}.toml"));
    std::fs::write(
        &path,
        format!("base = \"baseline\"\n\n[policy]\n{policy}\n"),
    )
    .unwrap();
    path
}

#[test]
fn set_of_a_lever_equals_the_scenario_file_with_the_same_lever_byte_for_byte() {
    let dir = tempfile::tempdir().unwrap();
    for (name, lever) in [("level", "30000"), ("ramp", "0@2026..30000@2028")] {
        let file = scenario(dir.path(), name, &format!("high_tech_jobs = \"{lever}\""));
        let from_file = dir.path().join(format!("{name}_file"));
        run(&from_file, &["--config", file.to_str().unwrap()]);
        let from_set = dir.path().join(format!("{name}_set"));
        run(
            &from_set,
            &["--set", &format!("policy.high_tech_jobs={lever}")],
        );
        assert!(
            summary(&from_file) == summary(&from_set),
            "{lever}: summary.csv differs"
        );
        assert_eq!(
            std::fs::read_to_string(from_file.join("config.toml")).unwrap(),
            std::fs::read_to_string(from_set.join("config.toml")).unwrap()
        );
    }
    // A level changes nothing before the lever start year, and something after it.
    let baseline = dir.path().join("baseline");
    run(&baseline, &[]);
    let (base, level) = (
        summary_values(&baseline),
        summary_values(&dir.path().join("level_set")),
    );
    let differs = |year: &str| {
        base.iter()
            .any(|((y, m), v)| y == year && level[&(y.clone(), m.clone())] != *v)
    };
    for year in 2015..2026 {
        assert!(!differs(&year.to_string()), "the lever acted in {year}");
    }
    assert!(differs("2026"), "30,000 jobs from 2026 changed nothing");
}

#[test]
fn a_sweep_point_equals_the_set_run_and_the_scenario_file_it_stands_for() {
    let dir = tempfile::tempdir().unwrap();
    let sweep = dir.path().join("sweep");
    // The digital scenario's path is 15000@2035; sweep the level it reaches in 2035.
    shrinkcity()
        .arg("sweep")
        .args(SMALL)
        .args([
            "--runs",
            "1",
            "--param",
            "policy.high_tech_jobs=0:15000:2@2035",
        ])
        .arg("--out")
        .arg(&sweep)
        .assert()
        .success();
    let plan = std::fs::read_to_string(sweep.join("plan.csv")).unwrap();
    assert!(plan.contains(",15000@2035\n"), "{plan}");
    let (seed, point) = sweep_run(&sweep, "1");

    let set = dir.path().join("set");
    run(
        &set,
        &["--seed", &seed, "--set", "policy.high_tech_jobs=15000@2035"],
    );
    assert_eq!(point, summary_values(&set), "sweep point 1 against --set");

    let digital = Path::new(env!("CARGO_MANIFEST_DIR")).join("config/scenarios/digital.toml");
    let scenario_run = dir.path().join("digital");
    run(
        &scenario_run,
        &["--seed", &seed, "--config", digital.to_str().unwrap()],
    );
    assert!(
        summary(&scenario_run) == summary(&set),
        "digital.toml differs from --set policy.high_tech_jobs=15000@2035"
    );

    // The scenario as it was written before levers: the same run.
    let explicit = scenario(
        dir.path(),
        "explicit",
        "high_tech_jobs = [[2015, 0.0], [2025, 0.0], [2035, 15000.0]]",
    );
    let explicit_run = dir.path().join("explicit_run");
    run(
        &explicit_run,
        &["--seed", &seed, "--config", explicit.to_str().unwrap()],
    );
    assert!(summary(&explicit_run) == summary(&scenario_run));

    // A plain-number sweep point is the --set level.
    let levels = dir.path().join("levels");
    shrinkcity()
        .arg("sweep")
        .args(SMALL)
        .args(["--runs", "1", "--param", "policy.high_tech_jobs=0,20000"])
        .arg("--out")
        .arg(&levels)
        .assert()
        .success();
    let (seed, point) = sweep_run(&levels, "1");
    let level = dir.path().join("level");
    run(
        &level,
        &["--seed", &seed, "--set", "policy.high_tech_jobs=20000"],
    );
    assert_eq!(point, summary_values(&level), "sweep point 1 against --set");
}

#[test]
fn sensitivity_varies_one_part_of_a_lever_and_records_its_numbers() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("sens");
    shrinkcity()
        .arg("sensitivity")
        .args(["--quiet", "--scale", "0.01", "--end-year", "2027"])
        .args(["--trajectories", "1", "--output", "population_2027"])
        .args(["--param", "policy.high_tech_jobs=0:30000@2030"])
        .arg("--out")
        .arg(&out)
        .assert()
        .success();
    let design = std::fs::read_to_string(out.join("design.csv")).unwrap();
    let values: Vec<f64> = design
        .lines()
        .skip(1)
        .map(|l| l.split(',').nth(2).unwrap().parse().unwrap())
        .collect();
    assert_eq!(values.len(), 2, "{design}");
    assert!(
        values
            .iter()
            .all(|v| [0.0, 20000.0, 10000.0, 30000.0].contains(v))
    );
}

#[test]
fn keys_shows_how_to_set_a_series_key() {
    shrinkcity()
        .args(["keys", "policy.high_tech_jobs"])
        .assert()
        .success()
        .stdout(
            predicate::str::contains(
                "set it to a number (that level from run.lever_start_year (2026) on)",
            )
            .and(predicate::str::contains("0@2026..30000@2030")),
        );
    shrinkcity()
        .args(["keys", "lever_start_year"])
        .assert()
        .success()
        .stdout(predicate::str::contains("run.lever_start_year = 2026"));
}

#[test]
fn a_bad_lever_exits_2_naming_the_key_and_the_fix() {
    let dir = tempfile::tempdir().unwrap();
    for (lever, says) in [
        ("30000@2020", "set run.lever_start_year=2020"),
        ("0@2026-30000@2030", "join points with `..`"),
        ("lots", "a ramp of VALUE@YEAR points joined by `..`"),
    ] {
        shrinkcity()
            .args(["run", "--quiet", "--scale", "0.01", "--set"])
            .arg(format!("policy.high_tech_jobs={lever}"))
            .arg("--out")
            .arg(dir.path().join("never"))
            .assert()
            .code(2)
            .stderr(
                predicate::str::contains(format!(
                    "--set policy.high_tech_jobs={lever}: `policy.high_tech_jobs`"
                ))
                .and(predicate::str::contains(says)),
            );
    }
    shrinkcity()
        .args(["sweep", "--quiet", "--scale", "0.01"])
        .args(["--param", "policy.high_tech_jobs=0:1:2@2030:2035:2"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "only one value or year of a lever",
        ));
    assert!(!dir.path().join("never").exists());
}

#[test]
fn calibrating_a_lever_that_starts_after_every_target_is_refused_with_the_fix() {
    let dir = tempfile::tempdir().unwrap();
    let targets = dir.path().join("targets.toml");
    std::fs::write(
        &targets,
        "[[target]]\nname = \"population 2025\"\nmetric = \"population\"\nhow = \"at\"\n\
         year = 2025\nlow = 727500.0\nhigh = 772500.0\nsource = \"test\"\n\n\
         [[parameter]]\nkey = \"policy.high_tech_jobs\"\nlow = 0.0\nhigh = 20000.0\n",
    )
    .unwrap();
    shrinkcity()
        .args(["calibrate", "--quiet", "--scale", "0.01", "--budget", "2", "--seeds", "1"])
        .args(["--params", "policy.high_tech_jobs", "--targets"])
        .arg(&targets)
        .arg("--out")
        .arg(dir.path().join("cal"))
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "after the last target year (2025): it cannot move the loss; add --set run.lever_start_year=2015",
        ));
    assert!(!dir.path().join("cal").exists());
}
