//! What a report reads: a finished run folder (`summary.csv`, `age_structure.csv`,
//! `emigration_drivers.csv`, `manifest.json`) or an ensemble folder (`ensemble.csv` with
//! `runs/<i>/summary.csv`), as one `Folder`. It never runs the model.

use anyhow::Context;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::calibration::Run;
use crate::config::UsageError;

/// One year of one metric: a run's value (`low == mid == high`), or an ensemble's median
/// with its 5th and 95th percentiles.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Point {
    pub mid: f64,
    pub low: f64,
    pub high: f64,
}

/// Men and women in one five-year age band.
#[derive(Clone, Debug, PartialEq)]
pub struct Band {
    pub label: String,
    pub male: f64,
    pub female: f64,
}

#[derive(Clone, Debug, Default)]
pub struct Meta {
    pub config_name: Option<String>,
    /// The run's seed, or an ensemble's base seed.
    pub seed: Option<u64>,
    pub scale: Option<f64>,
    pub version: Option<String>,
    /// Replicates in an ensemble; `None` for a single run.
    pub runs: Option<usize>,
}

/// A finished run or ensemble folder, read for drawing.
#[derive(Clone, Debug)]
pub struct Folder {
    pub dir: PathBuf,
    /// Short name for legends and tables: the folder name (or the path when two folders of
    /// a comparison share a name).
    pub label: String,
    pub meta: Meta,
    /// metric → year → value (run) or median and 5-95% band (ensemble).
    pub values: BTreeMap<String, BTreeMap<i32, Point>>,
    /// Every run's summary, for measuring the article's targets (mean across runs).
    pub runs: Vec<Run>,
    /// year → age bands from youngest to oldest (runs only).
    pub ages: BTreeMap<i32, Vec<Band>>,
    /// year → (driver, emigrants summed over age bands), drivers in file order (runs only).
    pub drivers: BTreeMap<i32, Vec<(String, f64)>>,
}

impl Folder {
    pub fn is_ensemble(&self) -> bool {
        self.meta.runs.is_some()
    }

    pub fn series(&self, metric: &str) -> Option<&BTreeMap<i32, Point>> {
        self.values.get(metric).filter(|s| !s.is_empty())
    }

    pub fn get(&self, metric: &str, year: i32) -> Option<Point> {
        self.values.get(metric)?.get(&year).copied()
    }

    pub fn years(&self) -> Option<(i32, i32)> {
        let s = self
            .values
            .get("population")
            .or(self.values.values().next())?;
        Some((*s.keys().next()?, *s.keys().next_back()?))
    }

    /// Read `dir`: `ensemble.csv` makes it an ensemble, otherwise `summary.csv` a run.
    pub fn load(dir: &Path) -> anyhow::Result<Folder> {
        let ensemble = dir.join("ensemble.csv");
        let summary = dir.join("summary.csv");
        let mut meta = read_manifest(&dir.join("manifest.json"));
        let (values, runs) = if ensemble.is_file() {
            let values = read_ensemble(&ensemble)?;
            let mut runs = read_runs(dir)?;
            if runs.is_empty() {
                // Without the runs, the targets are measured on the mean.
                runs.push(read_ensemble_means(&ensemble)?);
            }
            meta.runs = Some(meta.runs.unwrap_or(runs.len()));
            (values, runs)
        } else if summary.is_file() {
            let run = Run::from_csv(&summary)?;
            meta.runs = None;
            let values = run
                .0
                .iter()
                .map(|(metric, years)| {
                    let points = years
                        .iter()
                        .map(|(&y, &v)| {
                            (
                                y,
                                Point {
                                    mid: v,
                                    low: v,
                                    high: v,
                                },
                            )
                        })
                        .collect();
                    (metric.clone(), points)
                })
                .collect();
            (values, vec![run])
        } else {
            return Err(UsageError(format!(
                "{} holds neither summary.csv (a run folder) nor ensemble.csv (an ensemble \
                 folder); pass finished run or ensemble folders",
                dir.display()
            ))
            .into());
        };
        let ages_path = dir.join("age_structure.csv");
        let drivers_path = dir.join("emigration_drivers.csv");
        Ok(Folder {
            dir: dir.to_path_buf(),
            label: dir
                .file_name()
                .map_or(dir.display().to_string(), |n| n.to_string_lossy().into()),
            meta,
            values,
            runs,
            ages: if ages_path.is_file() {
                read_ages(&ages_path)?
            } else {
                BTreeMap::new()
            },
            drivers: if drivers_path.is_file() {
                read_drivers(&drivers_path)?
            } else {
                BTreeMap::new()
            },
        })
    }
}

/// Read every folder, and make their labels unique (folder names, or paths if two clash).
pub fn load_all(dirs: &[PathBuf]) -> anyhow::Result<Vec<Folder>> {
    let mut folders = dirs
        .iter()
        .map(|d| Folder::load(d))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let clash = folders
        .iter()
        .any(|f| folders.iter().filter(|g| g.label == f.label).count() > 1);
    if clash {
        for f in &mut folders {
            f.label = f.dir.display().to_string();
        }
    }
    Ok(folders)
}

fn number(s: &str, path: &Path) -> anyhow::Result<f64> {
    s.trim()
        .parse()
        .with_context(|| format!("{}: `{s}` is not a number", path.display()))
}

/// The fields a report shows from a run's or an ensemble's `manifest.json`. A missing or
/// unreadable manifest leaves them empty: the charts do not need it.
fn read_manifest(path: &Path) -> Meta {
    let Some(json) = std::fs::read_to_string(path)
        .ok()
        .and_then(|t| serde_json::from_str::<serde_json::Value>(&t).ok())
    else {
        return Meta::default();
    };
    Meta {
        config_name: json["config_name"].as_str().map(String::from),
        seed: json["seed"].as_u64().or(json["base_seed"].as_u64()),
        scale: json["scale"].as_f64(),
        version: json["shrinkcity_version"].as_str().map(String::from),
        runs: json["runs"].as_u64().map(|n| n as usize),
    }
}

/// `ensemble.csv` (`year,metric,mean,sd,p05,p50,p95`): the median and the 5-95% band.
fn read_ensemble(path: &Path) -> anyhow::Result<BTreeMap<String, BTreeMap<i32, Point>>> {
    let mut values: BTreeMap<String, BTreeMap<i32, Point>> = BTreeMap::new();
    let mut reader =
        csv::Reader::from_path(path).with_context(|| format!("cannot read {}", path.display()))?;
    let headers = reader.headers()?.clone();
    let col = |name: &str| {
        headers
            .iter()
            .position(|h| h == name)
            .with_context(|| format!("{} has no `{name}` column", path.display()))
    };
    let (year, metric, p05, p50, p95) = (
        col("year")?,
        col("metric")?,
        col("p05")?,
        col("p50")?,
        col("p95")?,
    );
    for rec in reader.records() {
        let rec = rec.with_context(|| format!("reading {}", path.display()))?;
        values.entry(rec[metric].to_string()).or_default().insert(
            number(&rec[year], path)? as i32,
            Point {
                mid: number(&rec[p50], path)?,
                low: number(&rec[p05], path)?,
                high: number(&rec[p95], path)?,
            },
        );
    }
    Ok(values)
}

/// The `mean` column of `ensemble.csv` as one run.
fn read_ensemble_means(path: &Path) -> anyhow::Result<Run> {
    let mut run = Run::default();
    let mut reader = csv::Reader::from_path(path)?;
    for rec in reader.records() {
        let rec = rec?;
        run.0
            .entry(rec[1].to_string())
            .or_default()
            .insert(number(&rec[0], path)? as i32, number(&rec[2], path)?);
    }
    Ok(run)
}

/// `runs/<i>/summary.csv` of an ensemble, in run order.
fn read_runs(dir: &Path) -> anyhow::Result<Vec<Run>> {
    let Ok(entries) = std::fs::read_dir(dir.join("runs")) else {
        return Ok(Vec::new());
    };
    let mut paths: Vec<(u64, PathBuf)> = entries
        .filter_map(|e| {
            let e = e.ok()?;
            let i = e.file_name().to_str()?.parse().ok()?;
            Some((i, e.path().join("summary.csv")))
        })
        .filter(|(_, p)| p.is_file())
        .collect();
    paths.sort();
    paths.iter().map(|(_, p)| Run::from_csv(p)).collect()
}

/// The positions of `names` in the header of `reader`'s file, so a table is read by its
/// column names (folders written before `age_from`/`age_to` read as well).
fn columns<const N: usize>(
    reader: &mut csv::Reader<std::fs::File>,
    names: [&str; N],
    path: &Path,
) -> anyhow::Result<[usize; N]> {
    let header = reader
        .headers()
        .with_context(|| format!("reading {}", path.display()))?
        .clone();
    let mut at = [0; N];
    for (i, name) in names.iter().enumerate() {
        at[i] = header
            .iter()
            .position(|h| h == *name)
            .with_context(|| format!("{} has no column {name}", path.display()))?;
    }
    Ok(at)
}

/// `age_structure.csv` (`year,age_band,age_from,age_to,sex,count`).
fn read_ages(path: &Path) -> anyhow::Result<BTreeMap<i32, Vec<Band>>> {
    let mut ages: BTreeMap<i32, Vec<Band>> = BTreeMap::new();
    let mut reader =
        csv::Reader::from_path(path).with_context(|| format!("cannot read {}", path.display()))?;
    let [y, b, x, c] = columns(&mut reader, ["year", "age_band", "sex", "count"], path)?;
    for rec in reader.records() {
        let rec = rec.with_context(|| format!("reading {}", path.display()))?;
        let (year, label, sex, count) = (
            number(&rec[y], path)? as i32,
            &rec[b],
            &rec[x],
            number(&rec[c], path)?,
        );
        let bands = ages.entry(year).or_default();
        let i = match bands.iter().position(|b| b.label == label) {
            Some(i) => i,
            None => {
                bands.push(Band {
                    label: label.to_string(),
                    male: 0.0,
                    female: 0.0,
                });
                bands.len() - 1
            }
        };
        match sex {
            "male" => bands[i].male += count,
            _ => bands[i].female += count,
        }
    }
    Ok(ages)
}

/// `emigration_drivers.csv` (`year,driver,age_band,age_from,age_to,emigrants`), summed over
/// age bands.
fn read_drivers(path: &Path) -> anyhow::Result<BTreeMap<i32, Vec<(String, f64)>>> {
    let mut drivers: BTreeMap<i32, Vec<(String, f64)>> = BTreeMap::new();
    let mut reader =
        csv::Reader::from_path(path).with_context(|| format!("cannot read {}", path.display()))?;
    let [y, d, e] = columns(&mut reader, ["year", "driver", "emigrants"], path)?;
    for rec in reader.records() {
        let rec = rec.with_context(|| format!("reading {}", path.display()))?;
        let (year, driver, n) = (
            number(&rec[y], path)? as i32,
            &rec[d],
            number(&rec[e], path)?,
        );
        let row = drivers.entry(year).or_default();
        match row.iter_mut().find(|(d, _)| d == driver) {
            Some((_, total)) => *total += n,
            None => row.push((driver.to_string(), n)),
        }
    }
    Ok(drivers)
}
