//! `--format parquet` writes what `--format csv` writes: every table of a run (agent
//! snapshots too), an ensemble, a sweep and a sensitivity analysis, read back from both
//! files and compared cell by cell (numbers as numbers, words as text, empty fields as nulls).

use arrow_array::types::Int32Type;
use arrow_array::{
    Array, DictionaryArray, Float32Array, Float64Array, Int64Array, RecordBatch, StringArray,
};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use std::path::Path;

use crate::util::shrinkcity;

/// Every cell of a Parquet file as the CSV field it stands for (`None`: missing), with its
/// header; numbers are compared by value, so each cell keeps its type.
#[derive(Debug, PartialEq)]
enum Cell {
    Int(i64),
    Float(f64),
    Text(String),
    Missing,
}

fn parquet_rows(path: &Path) -> (Vec<String>, Vec<Vec<Cell>>) {
    let file = std::fs::File::open(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let builder = ParquetRecordBatchReaderBuilder::try_new(file).unwrap();
    let header = builder
        .schema()
        .fields()
        .iter()
        .map(|f| f.name().clone())
        .collect();
    let mut rows = Vec::new();
    for batch in builder.build().unwrap() {
        let batch: RecordBatch = batch.unwrap();
        for r in 0..batch.num_rows() {
            rows.push(
                batch
                    .columns()
                    .iter()
                    .map(|a| {
                        if a.is_null(r) {
                            return Cell::Missing;
                        }
                        let any = a.as_any();
                        if let Some(x) = any.downcast_ref::<Int64Array>() {
                            Cell::Int(x.value(r))
                        } else if let Some(x) = any.downcast_ref::<Float64Array>() {
                            Cell::Float(x.value(r))
                        } else if let Some(x) = any.downcast_ref::<Float32Array>() {
                            Cell::Float(f64::from(x.value(r)))
                        } else if let Some(x) = any.downcast_ref::<StringArray>() {
                            Cell::Text(x.value(r).into())
                        } else if let Some(x) = any.downcast_ref::<DictionaryArray<Int32Type>>() {
                            let words = x.values().as_any().downcast_ref::<StringArray>().unwrap();
                            Cell::Text(words.value(x.keys().value(r) as usize).into())
                        } else {
                            panic!(
                                "{}: unexpected column type {:?}",
                                path.display(),
                                a.data_type()
                            )
                        }
                    })
                    .collect(),
            );
        }
    }
    (header, rows)
}

/// The CSV field `text` read as the parquet cell's type.
fn as_cell(text: &str, like: &Cell) -> Cell {
    if text.is_empty() {
        return Cell::Missing;
    }
    match like {
        Cell::Int(_) => Cell::Int(text.parse().unwrap_or_else(|_| panic!("int: {text}"))),
        Cell::Float(v) => {
            let f: f64 = text.parse().unwrap_or_else(|_| panic!("float: {text}"));
            // An f32 column (an estate's quality) prints as the f32 does.
            let f32_value = text.parse::<f32>().map(f64::from);
            match f32_value {
                Ok(g) if f != *v && g == *v => Cell::Float(g),
                _ => Cell::Float(f),
            }
        }
        _ => Cell::Text(text.into()),
    }
}

/// Both files of table `stem` in the two folders hold the same header and cells.
fn same_table(csv_dir: &Path, parquet_dir: &Path, stem: &str) -> usize {
    let (header, rows) = parquet_rows(&parquet_dir.join(format!("{stem}.parquet")));
    let csv_path = csv_dir.join(format!("{stem}.csv"));
    let mut reader = csv::Reader::from_path(&csv_path).unwrap();
    let csv_header: Vec<String> = reader.headers().unwrap().iter().map(String::from).collect();
    assert_eq!(header, csv_header, "{stem}: headers differ");
    let records: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), records.len(), "{stem}: row counts differ");
    for (i, (row, rec)) in rows.iter().zip(&records).enumerate() {
        for ((cell, field), name) in row.iter().zip(rec.iter()).zip(&header) {
            let like = if *cell == Cell::Missing {
                &Cell::Text(String::new())
            } else {
                cell
            };
            assert_eq!(
                &as_cell(field, like),
                cell,
                "{stem} row {i} column {name}: CSV {field:?}"
            );
        }
    }
    rows.len()
}

/// Every table file under `dir` (all but `manifest.json`, `config.toml` and a checkpoint),
/// relative to it.
fn tables_under(dir: &Path) -> Vec<String> {
    let mut found = Vec::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(d) = todo.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let path = e.unwrap().path();
            if path.is_dir() {
                todo.push(path);
                continue;
            }
            let name = path.file_name().unwrap().to_str().unwrap();
            if !matches!(name, "manifest.json" | "config.toml" | "checkpoint.bin") {
                let rel = path.strip_prefix(dir).unwrap();
                found.push(rel.display().to_string());
            }
        }
    }
    found.sort();
    found
}

/// The two folders hold the same tables, each in its own format: `.csv` in `csv`,
/// `.parquet` in `pq`, and nothing else.
fn every_table_follows_the_format(csv: &Path, pq: &Path) {
    let (c, p) = (tables_under(csv), tables_under(pq));
    assert!(!c.is_empty());
    assert!(c.iter().all(|f| f.ends_with(".csv")), "{c:?}");
    assert!(p.iter().all(|f| f.ends_with(".parquet")), "{p:?}");
    let stems = |files: &[String], ext: &str| -> Vec<String> {
        files
            .iter()
            .map(|f| f.strip_suffix(ext).unwrap().to_string())
            .collect()
    };
    assert_eq!(stems(&c, ".csv"), stems(&p, ".parquet"));
}

fn both(dir: &Path, name: &str, args: &[&str]) -> (std::path::PathBuf, std::path::PathBuf) {
    let out = |f: &str| dir.join(format!("{name}_{f}"));
    for f in ["csv", "parquet"] {
        shrinkcity()
            .args(args)
            .args(["--quiet", "--format", f, "--out"])
            .arg(out(f))
            .assert()
            .success();
    }
    (out("csv"), out("parquet"))
}

#[test]
fn parquet_tables_of_a_run_hold_what_its_csv_tables_hold() {
    let dir = tempfile::tempdir().unwrap();
    let (csv, pq) = both(
        dir.path(),
        "run",
        &[
            "run",
            "--scale",
            "0.01",
            "--end-year",
            "2019",
            "--snapshots",
            "all",
        ],
    );
    for stem in ["summary", "age_structure", "emigration_drivers", "estates"] {
        assert!(same_table(&csv, &pq, stem) > 0, "{stem} is empty");
    }
    for year in 2015..=2019 {
        let rows = same_table(&csv, &pq, &format!("agents/agents_{year}"));
        assert!(rows > 5000, "{year}: {rows} agents");
    }
    let manifest = std::fs::read_to_string(pq.join("manifest.json")).unwrap();
    assert!(manifest.contains("\"format\": \"parquet\""), "{manifest}");
    every_table_follows_the_format(&csv, &pq);
}

#[test]
fn parquet_tables_of_experiments_hold_what_their_csv_tables_hold() {
    let dir = tempfile::tempdir().unwrap();
    let small = ["--scale", "0.005", "--end-year", "2018"];
    let (csv, pq) = both(
        dir.path(),
        "ens",
        &[
            &["ensemble", "--runs", "2", "--snapshots", "every:3"][..],
            &small,
        ]
        .concat(),
    );
    same_table(&csv, &pq, "ensemble");
    same_table(&csv.join("runs/1"), &pq.join("runs/1"), "summary");
    // Each run's age structure and emigrants by driver too (regression: they were CSV).
    assert_eq!(
        same_table(&csv.join("runs/0"), &pq.join("runs/0"), "age_structure"),
        4 * 18 * 2
    );
    assert!(
        same_table(
            &csv.join("runs/1"),
            &pq.join("runs/1"),
            "emigration_drivers"
        ) > 0
    );
    every_table_follows_the_format(&csv, &pq);
    same_table(
        &csv.join("runs/1"),
        &pq.join("runs/1"),
        "agents/agents_2018",
    );
    let param = "--param=policy.high_tech_jobs=0,5000";
    let (csv, pq) = both(
        dir.path(),
        "sweep",
        &[
            &["sweep", param, "--param=migration.climate_weight=0.5:1:2"][..],
            &small,
        ]
        .concat(),
    );
    same_table(&csv, &pq, "plan");
    assert_eq!(same_table(&csv, &pq, "results"), 4 * 4 * 47);
    every_table_follows_the_format(&csv, &pq);
    let (csv, pq) = both(
        dir.path(),
        "sens",
        &[
            &["sensitivity", "--param=migration.climate_weight=0:1"][..],
            &[
                "--param=labour.local_wage_growth=0.01:0.05",
                "--trajectories",
                "2",
            ],
            &small,
        ]
        .concat(),
    );
    same_table(&csv, &pq, "sensitivity");
    same_table(&csv, &pq, "design");
    same_table(&csv, &pq, "plan");
    same_table(&csv, &pq, "runs");
    every_table_follows_the_format(&csv, &pq);
}

#[test]
fn parquet_shards_of_a_sweep_merge_into_the_unsharded_sweeps_files() {
    let dir = tempfile::tempdir().unwrap();
    let sweep = |out: &Path, format: &str, extra: &[&str]| {
        shrinkcity()
            .args(["sweep", "--quiet", "--scale", "0.005", "--end-year", "2017"])
            .args(["--param", "migration.climate_weight=0.5:1:3", "--runs", "2"])
            .args(["--threads", "1", "--format", format])
            .args(extra)
            .arg("--out")
            .arg(out)
            .assert()
            .success();
    };
    let whole = dir.path().join("whole");
    sweep(&whole, "parquet", &[]);
    let shards: Vec<_> = (0..3).map(|i| dir.path().join(format!("s{i}"))).collect();
    for (i, s) in shards.iter().enumerate() {
        sweep(s, "parquet", &["--shard", &format!("{i}/3")]);
    }
    let merged = dir.path().join("merged");
    shrinkcity()
        .arg("merge")
        .args([&shards[1], &shards[2], &shards[0]])
        .arg("--out")
        .arg(&merged)
        .assert()
        .success();
    for f in ["plan.parquet", "results.parquet", "config.toml"] {
        assert!(
            std::fs::read(whole.join(f)).unwrap() == std::fs::read(merged.join(f)).unwrap(),
            "{f} differs from the unsharded sweep's"
        );
    }
    assert_eq!(
        parquet_rows(&merged.join("results.parquet")).1.len(),
        6 * 3 * 47
    );
    assert_eq!(tables_under(&merged), ["plan.parquet", "results.parquet"]);
    let manifest = std::fs::read_to_string(merged.join("manifest.json")).unwrap();
    assert!(manifest.contains("\"format\": \"parquet\""), "{manifest}");

    // A missing shard is named, a shard given twice too, and nothing is written.
    let refused = |dirs: &[&Path], message: &str| {
        let out = dir.path().join("refused");
        shrinkcity()
            .arg("merge")
            .args(dirs)
            .arg("--out")
            .arg(&out)
            .assert()
            .code(2)
            .stderr(predicates::str::contains(message));
        assert!(!out.exists());
    };
    refused(&[&shards[0], &shards[2]], "run 1 is in none of the folders");
    refused(
        &[&shards[0], &shards[1], &shards[2], &shards[1]],
        "is in more than one folder",
    );
    // Shards of one sweep in two formats.
    let csv_shard = dir.path().join("csv1");
    sweep(&csv_shard, "csv", &["--shard", "1/3"]);
    refused(
        &[&shards[0], &csv_shard, &shards[2]],
        "merge shards written with one --format",
    );
}

#[test]
fn an_interrupted_parquet_ensemble_resumes_to_the_folder_an_uninterrupted_one_writes() {
    // Resume reads finished runs' summary.parquet back: the statistics come out the same.
    let dir = tempfile::tempdir().unwrap();
    let args = |out: &Path| {
        let mut cmd = shrinkcity();
        cmd.args(["ensemble", "--quiet", "--format", "parquet", "--runs", "3"])
            .args(["--scale", "0.005", "--end-year", "2017", "--out"])
            .arg(out);
        cmd
    };
    let whole = dir.path().join("whole");
    args(&whole).assert().success();
    let part = dir.path().join("part");
    args(&part).assert().success();
    // As an interrupted ensemble leaves it: one run missing, no ensemble table.
    std::fs::remove_dir_all(part.join("runs/2")).unwrap();
    std::fs::remove_file(part.join("ensemble.parquet")).unwrap();
    let manifest = std::fs::read_to_string(part.join("manifest.json")).unwrap();
    std::fs::write(
        part.join("manifest.json"),
        manifest.replace("\"complete\": true", "\"complete\": false"),
    )
    .unwrap();
    args(&part).arg("--resume").assert().success();
    assert_eq!(
        std::fs::read(whole.join("ensemble.parquet")).unwrap(),
        std::fs::read(part.join("ensemble.parquet")).unwrap()
    );
}

#[test]
fn a_bad_format_is_a_usage_error() {
    shrinkcity()
        .args(["run", "--format", "xlsx"])
        .assert()
        .code(2)
        .stderr(predicates::str::contains("expected csv or parquet"));
    shrinkcity()
        .args(["run", "--format", "parquet", "--report", "--scale", "0.01"])
        .assert()
        .code(2)
        .stderr(predicates::str::contains("--report draws from CSV"));
}

#[test]
fn a_parquet_run_extended_from_its_checkpoint_holds_what_a_straight_run_holds() {
    // Parquet files cannot be cut back: the extension copies the rows up to the checkpoint.
    let dir = tempfile::tempdir().unwrap();
    let run = |end: &str, out: &Path, extra: &[&str]| {
        shrinkcity()
            .args(["run", "--quiet", "--format", "parquet", "--scale", "0.005"])
            .args(["--snapshots", "all", "--end-year", end])
            .args(extra)
            .arg("--out")
            .arg(out)
            .assert()
            .success();
    };
    let straight = dir.path().join("straight");
    run("2019", &straight, &[]);
    let short = dir.path().join("short");
    run("2017", &short, &["--checkpoint-every", "1"]);
    let extended = dir.path().join("extended");
    shrinkcity()
        .args(["run", "--quiet", "--end-year", "2019", "--from-checkpoint"])
        .arg(short.join("checkpoint.bin"))
        .arg("--out")
        .arg(&extended)
        .assert()
        .success();
    for stem in [
        "summary",
        "age_structure",
        "emigration_drivers",
        "estates",
        "agents/agents_2016",
        "agents/agents_2019",
    ] {
        let file = format!("{stem}.parquet");
        assert_eq!(
            parquet_rows(&straight.join(&file)),
            parquet_rows(&extended.join(&file)),
            "{stem}"
        );
    }
}
