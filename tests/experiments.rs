use crate::util::{SCALE, shrinkcity};
use predicates::prelude::*;
use shrinkcity::config;
use shrinkcity::experiment::stats::summarise;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Tiny runs: 10,000 agents, 2015-2016 unless a test needs more.
const TINY: [&str; 5] = ["--quiet", "--scale", "0.01", "--end-year", "2016"];

fn scenario_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("config/scenarios")
}

/// Every leaf of a TOML value as `dotted.key -> value`.
fn flatten(prefix: &str, value: &toml::Value, out: &mut BTreeMap<String, toml::Value>) {
    match value {
        toml::Value::Table(t) => {
            for (k, v) in t {
                let key = if prefix.is_empty() {
                    k.clone()
                } else {
                    format!("{prefix}.{k}")
                };
                flatten(&key, v, out);
            }
        }
        v => {
            out.insert(prefix.to_string(), v.clone());
        }
    }
}

fn leaves(value: &toml::Value) -> BTreeMap<String, toml::Value> {
    let mut out = BTreeMap::new();
    flatten("", value, &mut out);
    out
}

#[test]
fn every_scenario_loads_and_differs_from_the_baseline_only_where_it_says() {
    let baseline = leaves(&toml::Value::try_from(config::baseline()).unwrap());
    for name in [
        "diversification",
        "urban_quality",
        "digital",
        "public_services",
        "business_environment",
        "combined",
    ] {
        let path = scenario_dir().join(format!("{name}.toml"));
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.starts_with('#'), "{name}: opens with its hypothesis");
        assert!(text.contains("Hypothesis:"), "{name}: states a hypothesis");
        let own: toml::Table = text.parse().unwrap();
        assert_eq!(own.get("base").and_then(|b| b.as_str()), Some("baseline"));
        let mut declared = leaves(&toml::Value::Table(own));
        declared.remove("base");

        let loaded = config::load(Some(&path), &[]).unwrap();
        let resolved = leaves(&toml::Value::try_from(&loaded.config).unwrap());
        assert_eq!(
            resolved.keys().collect::<Vec<_>>(),
            baseline.keys().collect::<Vec<_>>()
        );
        let changed: Vec<&String> = resolved
            .iter()
            .filter(|(k, v)| baseline[*k] != **v)
            .map(|(k, _)| k)
            .collect();
        assert_eq!(
            changed,
            declared.keys().collect::<Vec<_>>(),
            "{name}: the keys that differ from the baseline are exactly the keys it sets"
        );
        assert_eq!(loaded.config.run.name, name);
        for key in declared.keys().filter(|k| *k != "run.name") {
            assert!(key.starts_with("policy."), "{name} sets {key}: not a lever");
        }
    }
}

#[test]
fn ensemble_statistics_are_right_on_known_inputs() {
    // numpy: np.mean, np.std(ddof=1), np.percentile(x, [5, 50, 95]) (linear).
    let s = summarise(&[5.0, 1.0, 4.0, 2.0, 3.0]);
    assert_eq!(s.n, 5);
    assert_eq!(s.mean, 3.0);
    assert!((s.sd - 2.5f64.sqrt()).abs() < 1e-12);
    assert!((s.p05 - 1.2).abs() < 1e-12);
    assert_eq!(s.p50, 3.0);
    assert!((s.p95 - 4.8).abs() < 1e-12);

    let even = summarise(&[10.0, 0.0]);
    assert_eq!((even.mean, even.p50), (5.0, 5.0));
    assert!((even.p05 - 0.5).abs() < 1e-12 && (even.p95 - 9.5).abs() < 1e-12);
    assert!((even.sd - 50f64.sqrt()).abs() < 1e-12);

    let one = summarise(&[7.0]);
    assert_eq!(
        (one.mean, one.sd, one.p05, one.p50, one.p95),
        (7.0, 0.0, 7.0, 7.0, 7.0)
    );
}

/// Column `name` of a CSV file's records.
fn column(path: &Path, name: &str) -> Vec<String> {
    let mut r = csv::Reader::from_path(path).unwrap();
    let i = r.headers().unwrap().iter().position(|h| h == name).unwrap();
    r.records().map(|rec| rec.unwrap()[i].to_string()).collect()
}

#[test]
fn an_ensemble_writes_each_run_and_statistics_of_them_whatever_the_thread_count() {
    let dir = tempfile::tempdir().unwrap();
    for threads in ["1", "2"] {
        shrinkcity()
            .args(["ensemble", "--runs", "3", "--threads", threads])
            .args(TINY)
            .arg("--out")
            .arg(dir.path().join(threads))
            .assert()
            .success();
    }
    let ens = dir.path().join("2");
    assert_eq!(
        std::fs::read(ens.join("ensemble.csv")).unwrap(),
        std::fs::read(dir.path().join("1/ensemble.csv")).unwrap()
    );
    assert!(
        !ens.join("runs/0/agents").exists(),
        "no snapshots by default"
    );

    // Run 1 is repeatable with `run` and the seed from the manifest.
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(ens.join("manifest.json")).unwrap()).unwrap();
    let seed = manifest["seeds"][1].as_u64().unwrap();
    // Every derived seed is below 2^53, so a double (R, JSON readers, spreadsheets) holds it
    // exactly and the printed seed repeats its run.
    for s in manifest["seeds"].as_array().unwrap() {
        let s = s.as_u64().unwrap();
        assert!(s < 1 << 53, "seed {s} is not below 2^53");
        assert_eq!(s as f64 as u64, s);
    }
    let single = dir.path().join("single");
    shrinkcity()
        .args(["run", "--snapshots", "none", "--seed", &seed.to_string()])
        .args(TINY)
        .arg("--out")
        .arg(&single)
        .assert()
        .success();
    assert_eq!(
        std::fs::read(single.join("summary.csv")).unwrap(),
        std::fs::read(ens.join("runs/1/summary.csv")).unwrap()
    );

    // The ensemble's mean and median of 2016's population are those of the three runs.
    let mut pops: Vec<f64> = (0..3)
        .map(|i| {
            let p = column(&ens.join(format!("runs/{i}/summary.csv")), "population");
            p[1].parse().unwrap()
        })
        .collect();
    pops.sort_by(f64::total_cmp);
    let mut r = csv::Reader::from_path(ens.join("ensemble.csv")).unwrap();
    let row = r
        .records()
        .map(|r| r.unwrap())
        .find(|r| &r[0] == "2016" && &r[1] == "population")
        .unwrap();
    let mean: f64 = row[2].parse().unwrap();
    let p50: f64 = row[5].parse().unwrap();
    assert!((mean - pops.iter().sum::<f64>() / 3.0).abs() < 1e-6);
    assert_eq!(p50, pops[1]);
    assert_ne!(pops[0], pops[2], "replicates have different seeds");
}

const SWEEP: [&str; 6] = [
    "--param",
    "migration.intercept=-2:-1:2",
    "--param",
    "labour.churn_rate=0.1,0.2",
    "--runs",
    "2",
];

fn sweep(out: &Path, extra: &[&str]) {
    shrinkcity()
        .arg("sweep")
        .args(TINY)
        .args(SWEEP)
        .args(extra)
        .arg("--out")
        .arg(out)
        .assert()
        .success();
}

fn assert_same_sweep(a: &Path, b: &Path) {
    for f in ["plan.csv", "results.csv", "config.toml"] {
        let (x, y) = (
            std::fs::read(a.join(f)).unwrap(),
            std::fs::read(b.join(f)).unwrap(),
        );
        assert!(
            x == y,
            "{f} differs between {} and {}",
            a.display(),
            b.display()
        );
    }
}

#[test]
fn sharded_then_merged_sweeps_equal_the_unsharded_sweep_byte_for_byte() {
    let dir = tempfile::tempdir().unwrap();
    let full = dir.path().join("full");
    sweep(&full, &["--threads", "2"]);
    assert_eq!(column(&full.join("plan.csv"), "run_id").len(), 8);
    let one_thread = dir.path().join("one_thread");
    sweep(&one_thread, &["--threads", "1"]);
    assert_same_sweep(&full, &one_thread);

    let shards: Vec<PathBuf> = (0..3).map(|i| dir.path().join(format!("s{i}"))).collect();
    for (i, s) in shards.iter().enumerate() {
        sweep(s, &["--threads", "1", "--shard", &format!("{i}/3")]);
    }
    let merged = dir.path().join("merged");
    shrinkcity()
        .arg("merge")
        .args([&shards[2], &shards[0], &shards[1]])
        .arg("--out")
        .arg(&merged)
        .assert()
        .success();
    assert_same_sweep(&full, &merged);

    // A missing shard is named, and nothing is written.
    shrinkcity()
        .arg("merge")
        .args([&shards[0], &shards[2]])
        .arg("--out")
        .arg(dir.path().join("incomplete"))
        .assert()
        .code(2)
        .stderr(predicate::str::contains("run 1 is in none of the folders"));
    assert!(!dir.path().join("incomplete").exists());
}

#[test]
fn a_sweep_sharded_through_xargs_in_parallel_equals_the_unsharded_sweep() {
    let dir = tempfile::tempdir().unwrap();
    let full = dir.path().join("full");
    sweep(&full, &[]);
    let bin = assert_cmd::cargo::cargo_bin("shrinkcity");
    let script = format!(
        "seq 0 2 | xargs -P 2 -I{{}} '{}' sweep {} {} --threads 1 --shard {{}}/3 --out '{}/shard_{{}}'",
        bin.display(),
        TINY.join(" "),
        SWEEP.join(" "),
        dir.path().display()
    );
    let status = std::process::Command::new("sh")
        .args(["-c", &script])
        .status()
        .unwrap();
    assert!(status.success(), "{script}");
    let merged = dir.path().join("merged");
    shrinkcity()
        .arg("merge")
        .args((0..3).map(|i| dir.path().join(format!("shard_{i}"))))
        .arg("--out")
        .arg(&merged)
        .assert()
        .success();
    assert_same_sweep(&full, &merged);
}

#[test]
fn a_higher_emigration_intercept_lowers_the_population_in_2035() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("sweep");
    shrinkcity()
        .args(["sweep", "--quiet", "--scale", "0.01", "--runs", "2"])
        .args(["--param", "migration.intercept=-2.5:-1:3", "--out"])
        .arg(&out)
        .assert()
        .success();
    let mut sums: BTreeMap<String, f64> = BTreeMap::new();
    let mut r = csv::Reader::from_path(out.join("results.csv")).unwrap();
    for rec in r.records().map(|r| r.unwrap()) {
        if &rec[3] == "2035" && &rec[4] == "population" {
            *sums.entry(rec[2].to_string()).or_default() += rec[5].parse::<f64>().unwrap();
        }
    }
    let by_intercept: Vec<f64> = ["-2.5", "-1.75", "-1"].iter().map(|v| sums[*v]).collect();
    assert!(
        by_intercept[0] > by_intercept[1] && by_intercept[1] > by_intercept[2],
        "population 2035 (sum of 2 replicates) by intercept: {by_intercept:?}"
    );
}

#[test]
fn morris_ranks_a_parameter_the_model_never_reads_last_with_mu_star_zero() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("morris");
    shrinkcity()
        .args(["sensitivity", "--method", "morris", "--trajectories", "3"])
        .args(["--quiet", "--scale", "0.01", "--end-year", "2020"])
        .args(["--param", "city.climate.mean_temp_c=-10:10"])
        .args(["--param", "migration.intercept=-2:-1"])
        .args(["--param", "housing.ask_heat=0.05:0.3"])
        .arg("--out")
        .arg(&out)
        .assert()
        .success()
        .stdout(predicate::str::contains("population_2020").and(predicate::str::contains("mu*")));
    let mut r = csv::Reader::from_path(out.join("sensitivity.csv")).unwrap();
    let rows: Vec<csv::StringRecord> = r.records().map(|r| r.unwrap()).collect();
    assert_eq!(rows.len(), 9, "3 outputs x 3 parameters");
    for output in ["population_2020", "price_per_m2_2020", "share_65plus_2020"] {
        let of = |p: &str| {
            rows.iter()
                .find(|r| &r[0] == output && &r[2] == p)
                .unwrap()
                .clone()
        };
        let idle = of("city.climate.mean_temp_c");
        assert_eq!(&idle[1], "3", "{output}: the idle parameter ranks last");
        assert_eq!(idle[5].parse::<f64>().unwrap(), 0.0);
        assert!(of("migration.intercept")[5].parse::<f64>().unwrap() > 0.0);
    }
    assert_eq!(column(&out.join("design.csv"), "point").len(), 12);
}

#[test]
fn compare_reads_run_and_ensemble_folders_and_writes_differences() {
    let dir = tempfile::tempdir().unwrap();
    let run = dir.path().join("run");
    shrinkcity()
        .args(["run", "--snapshots", "none"])
        .args(TINY)
        .arg("--out")
        .arg(&run)
        .assert()
        .success();
    let ens = dir.path().join("ens");
    shrinkcity()
        .args(["ensemble", "--runs", "2"])
        .args(TINY)
        .args(["--set", "migration.intercept=-1", "--out"])
        .arg(&ens)
        .assert()
        .success();
    let csv_path = dir.path().join("cmp.csv");
    shrinkcity()
        .arg("compare")
        .args([&run, &ens])
        .arg("--out")
        .arg(&csv_path)
        .assert()
        .success()
        .stdout(predicate::str::contains("2016").and(predicate::str::contains("ens")));
    let mut r = csv::Reader::from_path(&csv_path).unwrap();
    let rows: Vec<csv::StringRecord> = r.records().map(|r| r.unwrap()).collect();
    let pop16 = rows
        .iter()
        .find(|r| &r[0] == "ens" && &r[1] == "2016" && &r[2] == "population")
        .unwrap();
    let (base, value, diff): (f64, f64, f64) = (
        pop16[3].parse().unwrap(),
        pop16[4].parse().unwrap(),
        pop16[5].parse().unwrap(),
    );
    assert_eq!(diff, value - base);
    assert!(diff < 0.0, "more emigration, fewer people");
    shrinkcity()
        .args(["compare"])
        .args([&run, dir.path()])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("neither summary.csv"));
}

#[test]
fn bad_experiment_input_exits_2_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("x");
    for (args, needle) in [
        (
            vec!["sweep", "--param", "migration.intercpt=-2,-1"],
            "migration.intercept",
        ),
        (
            vec!["sweep", "--param", "migration.intercept=-2:-1:0"],
            "steps",
        ),
        (
            vec![
                "sweep",
                "--param",
                "migration.intercept=1",
                "--shard",
                "3/3",
            ],
            "I/N",
        ),
        (vec!["ensemble", "--runs", "0"], "--runs"),
        (
            vec!["sensitivity", "--param", "migration.intercept=1:1"],
            "lo ≠ hi",
        ),
        (
            vec![
                "sensitivity",
                "--param",
                "migration.intercept=-2:-1",
                "--levels",
                "3",
            ],
            "even",
        ),
        (
            vec![
                "sensitivity",
                "--param",
                "migration.intercept=-2:-1",
                "--output",
                "people_2035",
            ],
            "not a summary.csv column",
        ),
    ] {
        shrinkcity()
            .args(&args)
            .args(TINY)
            .arg("--out")
            .arg(&out)
            .assert()
            .code(2)
            .stderr(predicate::str::contains(needle));
        assert!(!out.exists(), "{args:?} wrote {}", out.display());
    }
}

#[test]
fn run_only_flags_are_unknown_to_the_experiment_commands() {
    // `--checkpoint-every`, `--from-checkpoint` and `--report` are `run`'s; `--snapshots` is
    // `run`'s and `ensemble`'s. Other commands do not have them: clap refuses them.
    for (args, flag) in [
        (
            &["ensemble", "--runs", "2", "--checkpoint-every", "5"][..],
            "--checkpoint-every",
        ),
        (
            &[
                "ensemble",
                "--runs",
                "2",
                "--from-checkpoint",
                "x",
                "--end-year",
                "2030",
            ],
            "--from-checkpoint",
        ),
        (
            &[
                "sweep",
                "--param",
                "migration.intercept=1",
                "--snapshots",
                "all",
            ],
            "--snapshots",
        ),
        (
            &[
                "sensitivity",
                "--param",
                "migration.intercept=1:2",
                "--checkpoint-every",
                "5",
            ],
            "--checkpoint-every",
        ),
        (
            &["sweep", "--param", "migration.intercept=1", "--report"],
            "--report",
        ),
    ] {
        shrinkcity()
            .args(args)
            .assert()
            .code(2)
            .stderr(predicate::str::contains(format!(
                "unexpected argument '{flag}' found"
            )));
    }
}

/// `validate` runs every stress case and scenario, prints the tables it writes, and two
/// checks that any credible model passes hold: nobody leaving keeps the city above 900,000,
/// and building nothing leaves fewer homes empty.
#[test]
fn validate_reports_every_check_and_every_scenario_effect() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("validation.md");
    let done = shrinkcity()
        .args(["validate", "--quiet", "--scale", SCALE, "--seeds", "1,2"])
        .arg("--out")
        .arg(&out)
        .assert()
        .success();
    let printed = String::from_utf8(done.get_output().stdout.clone()).unwrap();
    assert_eq!(std::fs::read_to_string(&out).unwrap(), printed);
    let checks: Vec<&str> = printed
        .lines()
        .filter(|l| l.ends_with("| yes |") || l.ends_with("| **no** |"))
        .collect();
    assert_eq!(checks.len(), 10, "{printed}");
    for holds in [
        "| population 2025 | > 900,000 |",
        "| vacancy 2025 minus the baseline's",
    ] {
        let row = checks.iter().find(|l| l.contains(holds)).expect(holds);
        assert!(row.ends_with("| yes |"), "{row}");
    }
    let scenarios = std::fs::read_dir("config/scenarios").unwrap().count();
    let effects = printed
        .lines()
        .filter(|l| l.contains(" | 2030 | ") || l.contains(" | 2035 | "))
        .count();
    assert_eq!(effects, scenarios * 2 * 4, "{printed}");
}
