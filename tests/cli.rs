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
        "estates.csv",
        "config.toml",
        "manifest.json",
    ] {
        assert!(out.join(f).is_file(), "{f} missing");
    }
    for y in [2015, 2025, 2035] {
        assert!(out.join(format!("agents/agents_{y}.csv")).is_file());
    }
    assert!(!out.join("agents/agents_2020.csv").exists());
    tidy_tables(&out);
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
        .code(2)
        .stderr(predicate::str::contains("add --force to replace it"));
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

/// Issue item 6: `shrinkcity rnu` got no "did you mean"; clap's similarity misses a swap.
#[test]
fn a_mistyped_subcommand_gets_a_tip_naming_the_right_one() {
    for typo in ["rnu", "rn", "esnemble", "kyes"] {
        let out = shrinkcity().arg(typo).output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{typo}: {stderr}");
        assert!(
            stderr.contains("tip: a similar subcommand exists"),
            "{typo}: {stderr}"
        );
    }
    shrinkcity()
        .arg("rnu")
        .assert()
        .code(2)
        .stderr(predicate::str::contains("'run'"));
}

/// Every key of the baseline, walked here from the TOML itself, is listed by `keys`.
#[test]
fn keys_lists_every_key_of_the_baseline_with_its_type_range_and_meaning() {
    fn walk(table: &toml::Table, prefix: &str, out: &mut Vec<String>) {
        for (k, v) in table {
            let path = if prefix.is_empty() {
                k.clone()
            } else {
                format!("{prefix}.{k}")
            };
            match v {
                toml::Value::Table(t) => walk(t, &path, out),
                _ => out.push(path),
            }
        }
    }
    let mut paths = Vec::new();
    walk(
        &shrinkcity::config::BASELINE_TOML.parse().unwrap(),
        "",
        &mut paths,
    );
    let out = shrinkcity().arg("keys").output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    let stdout = String::from_utf8(out.stdout).unwrap();
    let listed: Vec<&str> = stdout
        .lines()
        .filter(|l| !l.starts_with(' '))
        .filter_map(|l| l.split(" = ").next())
        .collect();
    for p in &paths {
        assert!(listed.contains(&p.as_str()), "`keys` lacks {p}");
    }
    assert_eq!(listed.len(), paths.len(), "{listed:?}");
    // A number key: its type, the range its check accepts, and the unit and meaning from
    // its comment.
    let price = stdout
        .split("\ncity.price_per_m2 = ")
        .nth(1)
        .expect("city.price_per_m2 listed");
    let mut lines = price.lines().skip(1);
    let kind = lines.next().unwrap();
    assert!(
        kind.starts_with("    number; accepts a number from") && kind.ends_with("; unit: yuan/m2"),
        "{kind}"
    );
    assert!(lines.next().unwrap().contains("city mean price"), "{price}");
    assert!(stdout.contains("series [[year, value], ...]"), "{stdout}");
}

#[test]
fn keys_with_a_pattern_lists_the_matching_keys_only() {
    let out = shrinkcity()
        .args(["keys", "labour.retire"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let stdout = String::from_utf8(out.stdout).unwrap();
    let listed: Vec<&str> = stdout
        .lines()
        .filter(|l| !l.starts_with(' '))
        .filter_map(|l| l.split(" = ").next())
        .collect();
    // The retirement keys, whatever they are today: read from the baseline's [labour].
    let baseline: toml::Table = shrinkcity::config::BASELINE_TOML.parse().unwrap();
    let retirement: Vec<String> = baseline["labour"]
        .as_table()
        .unwrap()
        .keys()
        .filter(|k| k.starts_with("retire"))
        .map(|k| format!("labour.{k}"))
        .collect();
    assert!(retirement.len() >= 3, "{retirement:?}");
    for key in &retirement {
        assert!(listed.contains(&key.as_str()), "{key} missing: {stdout}");
    }
    assert!(listed.contains(&"labour.retirement_age_men"), "{stdout}");
    assert!(
        listed.iter().all(|k| k.starts_with("labour.retire")),
        "{listed:?}"
    );
    assert!(stdout.contains("accepts a number from"), "{stdout}");
    shrinkcity()
        .args(["keys", "digital"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("no config key contains `digital`"));
}

/// Issue item 6: a run ended with only `wrote DIR (4.4 s)`.
#[test]
fn a_run_ends_with_its_headline_figures_at_the_start_and_end_year() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("run");
    let o = shrinkcity()
        .args([
            "run",
            "--scale",
            crate::util::SCALE,
            "--end-year",
            "2020",
            "--out",
        ])
        .arg(&out)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0));
    let stderr = String::from_utf8(o.stderr).unwrap();
    assert!(
        stderr.contains(&format!("wrote {}", out.display())),
        "{stderr}"
    );
    let summary = std::fs::read_to_string(out.join("summary.csv")).unwrap();
    let header: Vec<&str> = summary.lines().next().unwrap().split(',').collect();
    let last: Vec<&str> = summary.lines().last().unwrap().split(',').collect();
    let col = |name: &str| last[header.iter().position(|h| *h == name).unwrap()];
    let years = stderr.lines().find(|l| l.contains("2015")).expect(&stderr);
    assert!(years.contains("2020"), "{stderr}");
    let population = stderr
        .lines()
        .find(|l| l.trim_start().starts_with("population"))
        .expect(&stderr);
    let pop: i64 = col("population").parse().unwrap();
    let with_commas = pop
        .to_string()
        .as_bytes()
        .rchunks(3)
        .rev()
        .map(|c| std::str::from_utf8(c).unwrap())
        .collect::<Vec<_>>()
        .join(",");
    assert!(population.ends_with(&with_commas), "{population} vs {pop}");
    assert!(stderr.contains("price per m2, yuan"), "{stderr}");
    let unemployment = stderr
        .lines()
        .find(|l| l.contains("unemployment rate"))
        .expect(&stderr);
    let rate: f64 = col("unemployment_rate").parse().unwrap();
    assert!(
        unemployment.ends_with(&format!("{:.1}%", 100.0 * rate)),
        "{unemployment} vs {rate}"
    );
    // --quiet prints nothing.
    small_run(["--force", "--out"])
        .arg(&out)
        .assert()
        .success()
        .stderr("");
}

/// The tidy details of a run folder: numeric `age_from`/`age_to` beside every age band
/// label (an empty `age_to` for the open band), a sector named in every snapshot row, and an
/// estate table whose rows add up to `summary.csv`.
fn tidy_tables(out: &std::path::Path) {
    let read = |f: &str| -> (csv::StringRecord, Vec<csv::StringRecord>) {
        let mut r = csv::Reader::from_path(out.join(f)).unwrap();
        let h = r.headers().unwrap().clone();
        (h, r.records().map(|r| r.unwrap()).collect())
    };
    for (file, open_band) in [
        ("age_structure.csv", "85+"),
        ("emigration_drivers.csv", "65+"),
    ] {
        let (h, rows) = read(file);
        let at = |c: &str| h.iter().position(|x| x == c).unwrap();
        let (band, from, to) = (at("age_band"), at("age_from"), at("age_to"));
        assert_eq!((from, to), (band + 1, band + 2), "{file}: {h:?}");
        for r in &rows {
            let first: u32 = r[from].parse().unwrap();
            if &r[band] == open_band {
                assert_eq!((first, &r[to]), (open_band[..2].parse().unwrap(), ""));
            } else {
                let last: u32 = r[to].parse().unwrap();
                assert_eq!(r[band].to_string(), format!("{first}-{last}"), "{file}");
            }
        }
    }
    let (h, rows) = read("agents/agents_2025.csv");
    let sector = h.iter().position(|x| x == "sector").unwrap();
    assert!(
        rows.iter().all(|r| !r[sector].is_empty()),
        "an empty sector"
    );
    assert!(rows.iter().any(|r| &r[sector] == "none"));

    let (h, rows) = read("estates.csv");
    assert_eq!(
        h.iter().collect::<Vec<_>>().join(","),
        shrinkcity::output::ESTATES_HEADER
    );
    let (sh, summary) = read("summary.csv");
    let col = |h: &csv::StringRecord, c: &str| h.iter().position(|x| x == c).unwrap();
    let int = |r: &csv::StringRecord, i: usize| -> i64 { r[i].parse().unwrap() };
    for s in &summary {
        let year = &s[0];
        let of_year: Vec<_> = rows.iter().filter(|r| &r[0] == year).collect();
        assert!(!of_year.is_empty(), "no estates in {year}");
        let total = |c: &str| of_year.iter().map(|r| int(r, col(&h, c))).sum::<i64>();
        assert_eq!(total("dwellings"), int(s, col(&sh, "dwellings")), "{year}");
        assert_eq!(total("sales"), int(s, col(&sh, "transactions")), "{year}");
        for r in &of_year {
            let n = |c: &str| int(r, col(&h, c));
            assert_eq!(n("occupied") + n("for_sale") + n("empty"), n("dwellings"));
            assert!(matches!(&r[col(&h, "shanty")], "0" | "1"));
        }
    }
}
