//! `shrinkcity compare BASE_DIR OTHER_DIR...`: per-year differences of key metrics between
//! finished run folders (`summary.csv`) and ensemble folders (`ensemble.csv`, whose mean
//! is used), as a long CSV, and a short terminal table of one year's outcomes. It reads
//! only finished folders and never runs the model.

use anyhow::Context;
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};

use super::sensitivity::significant;
use crate::config::UsageError;

/// Compared by default (`--metrics`), in this order.
pub const KEY_METRICS: [&str; 14] = [
    "population",
    "emigrants",
    "share_65plus",
    "share_0_14",
    "median_age",
    "employed",
    "unemployment_rate",
    "jobs_manufacturing",
    "jobs_high_tech",
    "mean_income",
    "price_per_m2",
    "vacancy_rate",
    "transactions",
    "retail_sales_index",
];

/// Columns of the terminal table.
const TABLE_METRICS: [&str; 6] = [
    "population",
    "share_65plus",
    "unemployment_rate",
    "price_per_m2",
    "vacancy_rate",
    "retail_sales_index",
];

/// What `compare` is given.
#[derive(Clone, Debug)]
pub struct CompareOptions {
    /// The reference: a run folder or an ensemble folder (its mean).
    pub base: PathBuf,
    /// Run or ensemble folders to compare with it (at least one).
    pub others: Vec<PathBuf>,
    /// CSV file for the per-year differences (long format).
    pub out: PathBuf,
    /// summary.csv columns, or `["all"]`. Empty: `KEY_METRICS`.
    pub metrics: Vec<String>,
    /// Year of the terminal table. `None`: the last year every folder has.
    pub year: Option<i32>,
}

/// A folder's metrics: metric → year → value.
struct Outcomes {
    label: String,
    columns: Vec<String>,
    values: BTreeMap<String, BTreeMap<i32, f64>>,
}

impl Outcomes {
    fn get(&self, metric: &str, year: i32) -> Option<f64> {
        self.values.get(metric)?.get(&year).copied()
    }

    fn years(&self) -> Vec<i32> {
        self.values
            .values()
            .next()
            .map(|m| m.keys().copied().collect())
            .unwrap_or_default()
    }
}

/// Read a run folder (summary.csv) or an ensemble folder (ensemble.csv: the mean column).
fn load(dir: &Path) -> anyhow::Result<Outcomes> {
    let number = |s: &str, path: &Path| -> anyhow::Result<f64> {
        s.parse()
            .with_context(|| format!("{}: `{s}` is not a number", path.display()))
    };
    let mut values: BTreeMap<String, BTreeMap<i32, f64>> = BTreeMap::new();
    let mut columns = Vec::new();
    let ensemble = dir.join("ensemble.csv");
    let summary = dir.join("summary.csv");
    if ensemble.is_file() {
        let mut r = csv::Reader::from_path(&ensemble)?;
        for rec in r.records() {
            let rec = rec?;
            let (year, metric, mean) = (&rec[0], &rec[1], &rec[2]);
            if !columns.iter().any(|c| c == metric) {
                columns.push(metric.to_string());
            }
            values
                .entry(metric.to_string())
                .or_default()
                .insert(number(year, &ensemble)? as i32, number(mean, &ensemble)?);
        }
    } else if summary.is_file() {
        let mut r = csv::Reader::from_path(&summary)?;
        columns = r.headers()?.iter().skip(1).map(String::from).collect();
        for rec in r.records() {
            let rec = rec?;
            let year = number(&rec[0], &summary)? as i32;
            for (c, v) in columns.iter().zip(rec.iter().skip(1)) {
                values
                    .entry(c.clone())
                    .or_default()
                    .insert(year, number(v, &summary)?);
            }
        }
    } else {
        return Err(UsageError::msg(format!(
            "{} holds neither summary.csv (a run folder) nor ensemble.csv (an ensemble folder)",
            dir.display()
        )));
    }
    Ok(Outcomes {
        label: dir.display().to_string(),
        columns,
        values,
    })
}

/// Shares and rates are compared in percentage points, everything else in percent.
fn is_share(metric: &str) -> bool {
    metric.contains("share") || metric.contains("rate")
}

/// Write the per-year differences to `opts.out`; returns the terminal table.
pub fn compare(opts: &CompareOptions) -> anyhow::Result<String> {
    let mut folders = vec![load(&opts.base)?];
    for d in &opts.others {
        folders.push(load(d)?);
    }
    // Short labels (the folder names) unless two folders share a name.
    let names: Vec<String> = [&opts.base]
        .into_iter()
        .chain(&opts.others)
        .map(|d| {
            d.file_name()
                .map_or(d.display().to_string(), |n| n.to_string_lossy().into())
        })
        .collect();
    let unique = names
        .iter()
        .all(|n| names.iter().filter(|m| *m == n).count() == 1);
    if unique {
        for (f, n) in folders.iter_mut().zip(names) {
            f.label = n;
        }
    }

    let metrics: Vec<String> = match opts.metrics.as_slice() {
        [] => KEY_METRICS.iter().map(|m| m.to_string()).collect(),
        [all] if all == "all" => folders[0].columns.clone(),
        list => list.iter().map(|m| m.trim().to_string()).collect(),
    };
    for f in &folders {
        if let Some(m) = metrics.iter().find(|m| !f.values.contains_key(*m)) {
            return Err(UsageError::msg(format!(
                "{}: no metric `{m}` (see docs/DATA.md for the summary.csv columns)",
                f.label
            )));
        }
    }
    let years: Vec<i32> = folders[0]
        .years()
        .into_iter()
        .filter(|y| folders.iter().all(|f| f.years().contains(y)))
        .collect();
    let Some(&last) = years.last() else {
        return Err(UsageError::msg(
            "the folders have no simulated year in common",
        ));
    };
    let year = opts.year.unwrap_or(last);
    if !years.contains(&year) {
        return Err(UsageError::msg(format!(
            "--year {year}: not a year every folder has ({}-{last})",
            years[0]
        )));
    }

    write_differences(&opts.out, &folders, &metrics, &years)?;
    Ok(format_table(&folders, year))
}

/// `comparison.csv`: folder, year, metric, base, value, difference, relative_difference.
fn write_differences(
    path: &Path,
    folders: &[Outcomes],
    metrics: &[String],
    years: &[i32],
) -> anyhow::Result<()> {
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        fs::create_dir_all(parent)
            .with_context(|| format!("cannot create folder {}", parent.display()))?;
    }
    let partial = PathBuf::from(format!("{}.partial-{}", path.display(), std::process::id()));
    let mut w = csv::Writer::from_path(&partial)
        .with_context(|| format!("cannot create {}", partial.display()))?;
    w.write_record([
        "folder",
        "year",
        "metric",
        "base",
        "value",
        "difference",
        "relative_difference",
    ])?;
    let base = &folders[0];
    for other in &folders[1..] {
        for &y in years {
            for m in metrics {
                let (b, v) = (base.get(m, y), other.get(m, y));
                let (Some(b), Some(v)) = (b, v) else { continue };
                let relative = if b == 0.0 {
                    String::new()
                } else {
                    ((v - b) / b.abs()).to_string()
                };
                w.write_record([
                    other.label.clone(),
                    y.to_string(),
                    m.clone(),
                    b.to_string(),
                    v.to_string(),
                    (v - b).to_string(),
                    relative,
                ])?;
            }
        }
    }
    w.flush()?;
    drop(w);
    fs::rename(&partial, path).with_context(|| format!("cannot write {}", path.display()))?;
    Ok(())
}

fn format_table(folders: &[Outcomes], year: i32) -> String {
    let columns: Vec<&str> = TABLE_METRICS
        .iter()
        .copied()
        .filter(|m| folders.iter().all(|f| f.values.contains_key(*m)))
        .collect();
    let base = &folders[0];
    let cells: Vec<Vec<String>> = folders
        .iter()
        .enumerate()
        .map(|(i, f)| {
            columns
                .iter()
                .map(|m| {
                    let v = f.get(m, year).unwrap_or(f64::NAN);
                    let shown = if is_share(m) {
                        format!("{v:.3}")
                    } else if v.abs() >= 100.0 {
                        format!("{v:.0}")
                    } else {
                        significant(v)
                    };
                    if i == 0 {
                        return shown;
                    }
                    let b = base.get(m, year).unwrap_or(f64::NAN);
                    if is_share(m) {
                        format!("{shown} ({:+.1} pp)", 100.0 * (v - b))
                    } else if b != 0.0 {
                        format!("{shown} ({:+.1}%)", 100.0 * (v - b) / b.abs())
                    } else {
                        shown
                    }
                })
                .collect()
        })
        .collect();
    let label_w = folders
        .iter()
        .map(|f| f.label.len())
        .max()
        .unwrap_or(0)
        .max(4);
    let widths: Vec<usize> = columns
        .iter()
        .enumerate()
        .map(|(c, m)| {
            cells
                .iter()
                .map(|r| r[c].chars().count())
                .max()
                .unwrap_or(0)
                .max(m.len())
        })
        .collect();
    let mut line = format!("{:<label_w$}", year.to_string());
    for (m, w) in columns.iter().zip(&widths) {
        line += &format!("  {m:>w$}");
    }
    let mut table = line + "\n";
    for (f, row) in folders.iter().zip(&cells) {
        let mut line = format!("{:<label_w$}", f.label);
        for (cell, w) in row.iter().zip(&widths) {
            line += &format!("  {cell:>w$}");
        }
        table += &line;
        table += "\n";
    }
    writeln!(
        table,
        "(differences from {}: % for levels, percentage points for shares and rates)",
        base.label
    )
    .expect("writing to a String cannot fail");
    table
}
