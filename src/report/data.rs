//! What a report reads: a finished run folder (`summary.csv`, `age_structure.csv`,
//! `emigration_drivers.csv`, `manifest.json`) or an ensemble folder (`ensemble.csv` with
//! `runs/<i>/summary.csv`), as one `Folder`. It never runs the model.

use anyhow::Context;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::calibration::Run;
use crate::config::UsageError;
use crate::experiment::stats::summarise;

/// One year of one metric: a run's value (`low == mid == high`), or an ensemble's median
/// with its 5th and 95th percentiles.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Point {
    pub mid: f64,
    pub low: f64,
    pub high: f64,
}

/// Men and women in one five-year age band: a run's counts, or an ensemble's means with
/// the 5-95% range across runs (equal to the count for a run).
#[derive(Clone, Debug, PartialEq)]
pub struct Band {
    pub label: String,
    pub male: f64,
    pub female: f64,
    pub male_range: (f64, f64),
    pub female_range: (f64, f64),
}

#[derive(Clone, Debug, Default)]
pub struct Meta {
    pub config_name: Option<String>,
    /// `run.name` of the folder's `config.toml`: the scenario's name.
    pub run_name: Option<String>,
    /// The first paragraph of the scenario file that starts `# Hypothesis:`, if found.
    pub hypothesis: Option<String>,
    /// Every run's seed, in run order (a run: its seed; an ensemble: `seeds`).
    pub seeds: Vec<u64>,
    /// The `--config` file of the command line that made the folder.
    pub config_path: Option<String>,
    /// `ensemble`, `sweep`, `sensitivity`, ... (experiment folders).
    pub command: Option<String>,
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
    /// The seed of each of `runs` where known (an ensemble's `runs/<i>` has `seeds[i]`):
    /// two ensembles are paired on the seeds they share.
    pub run_seeds: Vec<Option<u64>>,
    /// year → age bands from youngest to oldest: a run's counts, or an ensemble's mean
    /// across the runs that kept `age_structure.csv`.
    pub ages: BTreeMap<i32, Vec<Band>>,
    /// year → (driver, emigrants summed over age bands), drivers in file order: a run's
    /// counts, or an ensemble's mean with its 5-95% range across runs.
    pub drivers: BTreeMap<i32, Vec<(String, Point)>>,
    /// Runs whose age structure and drivers are drawn (1 for a run).
    pub structure_runs: usize,
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
        meta.run_name = read_run_name(&dir.join("config.toml"));
        meta.hypothesis = hypothesis(dir, &meta);
        let mut structure = Vec::new();
        let (values, runs, run_seeds) = if ensemble.is_file() {
            let values = read_ensemble(&ensemble)?;
            let indexed = read_runs(dir)?;
            let run_seeds = indexed
                .iter()
                .map(|(i, _)| meta.seeds.get(*i).copied())
                .collect();
            for (i, _) in &indexed {
                structure.push(dir.join("runs").join(i.to_string()));
            }
            let mut runs: Vec<Run> = indexed.into_iter().map(|(_, r)| r).collect();
            let run_seeds = if runs.is_empty() {
                // Without the runs, the targets are measured on the mean.
                runs.push(read_ensemble_means(&ensemble)?);
                vec![None]
            } else {
                run_seeds
            };
            meta.runs = Some(meta.runs.unwrap_or(runs.len()));
            (values, runs, run_seeds)
        } else if summary.is_file() {
            let run = Run::from_csv(&summary)?;
            meta.runs = None;
            let values = run
                .0
                .iter()
                .map(|(metric, years)| {
                    let points = years.iter().map(|(&y, &v)| (y, Point::exact(v))).collect();
                    (metric.clone(), points)
                })
                .collect();
            structure.push(dir.to_path_buf());
            let seed = meta.seeds.first().copied();
            (values, vec![run], vec![seed])
        } else {
            return Err(UsageError(format!(
                "{} holds neither summary.csv (a run folder) nor ensemble.csv (an ensemble \
                 folder); pass finished run or ensemble folders (or a sweep or sensitivity \
                 folder on its own)",
                dir.display()
            ))
            .into());
        };
        let (ages, drivers, structure_runs) = read_structure(&structure)?;
        let label = meta.run_name.clone().unwrap_or_else(|| folder_name(dir));
        Ok(Folder {
            dir: dir.to_path_buf(),
            label,
            meta,
            values,
            runs,
            run_seeds,
            ages,
            drivers,
            structure_runs,
        })
    }

    /// The mean across runs of `metric` in `year` (a run: its value).
    pub fn mean(&self, metric: &str, year: i32) -> Option<f64> {
        let v: Vec<f64> = self
            .runs
            .iter()
            .filter_map(|r| r.0.get(metric)?.get(&year).copied())
            .collect();
        (!v.is_empty()).then(|| v.iter().sum::<f64>() / v.len() as f64)
    }
}

impl Point {
    pub fn exact(v: f64) -> Point {
        Point {
            mid: v,
            low: v,
            high: v,
        }
    }
}

fn folder_name(dir: &Path) -> String {
    dir.file_name()
        .map_or(dir.display().to_string(), |n| n.to_string_lossy().into())
}

/// `run.name` of a folder's resolved `config.toml`.
fn read_run_name(path: &Path) -> Option<String> {
    let table: toml::Table = std::fs::read_to_string(path).ok()?.parse().ok()?;
    Some(table.get("run")?.get("name")?.as_str()?.to_string())
}

/// The repository's scenario files, for the hypothesis of a folder whose `--config` path is
/// not at hand (the report run elsewhere).
const SCENARIOS: [(&str, &str); 6] = [
    (
        "business_environment",
        include_str!("../../config/scenarios/business_environment.toml"),
    ),
    (
        "combined",
        include_str!("../../config/scenarios/combined.toml"),
    ),
    (
        "digital",
        include_str!("../../config/scenarios/digital.toml"),
    ),
    (
        "diversification",
        include_str!("../../config/scenarios/diversification.toml"),
    ),
    (
        "public_services",
        include_str!("../../config/scenarios/public_services.toml"),
    ),
    (
        "urban_quality",
        include_str!("../../config/scenarios/urban_quality.toml"),
    ),
];

/// The scenario's hypothesis: the `# Hypothesis:` comment of the `--config` file the
/// manifest's command line names (if it still exists), else of the built-in scenario of
/// the same name.
fn hypothesis(dir: &Path, meta: &Meta) -> Option<String> {
    let from_file = meta.config_path.as_ref().and_then(|p| {
        let p = Path::new(p);
        [p.to_path_buf(), dir.join(p)]
            .into_iter()
            .find_map(|c| std::fs::read_to_string(c).ok())
    });
    if let Some(h) = from_file.as_deref().and_then(hypothesis_in) {
        return Some(h);
    }
    let name = meta.config_name.as_deref()?;
    SCENARIOS
        .iter()
        .find(|(n, _)| *n == name)
        .and_then(|(_, text)| hypothesis_in(text))
}

/// The comment paragraph that begins `# Hypothesis:`, joined into one line.
pub fn hypothesis_in(text: &str) -> Option<String> {
    let mut lines = text
        .lines()
        .skip_while(|l| !l.trim_start().starts_with("# Hypothesis:"));
    let first = lines
        .next()?
        .trim_start()
        .trim_start_matches("# Hypothesis:");
    let mut out = first.trim().to_string();
    for l in lines {
        let Some(rest) = l.trim_start().strip_prefix('#') else {
            break;
        };
        if rest.trim().is_empty() {
            break;
        }
        out.push(' ');
        out += rest.trim();
    }
    Some(out)
}

/// Read every folder, and make their labels unique (folder names, or paths if two clash).
pub fn load_all(dirs: &[PathBuf]) -> anyhow::Result<Vec<Folder>> {
    let mut folders = dirs
        .iter()
        .map(|d| Folder::load(d))
        .collect::<anyhow::Result<Vec<_>>>()?;
    // Scenario names (`run.name`) when they tell the folders apart, else folder names, else
    // paths.
    let clash = |folders: &[Folder]| {
        folders
            .iter()
            .any(|f| folders.iter().filter(|g| g.label == f.label).count() > 1)
    };
    if clash(&folders) {
        for f in &mut folders {
            f.label = folder_name(&f.dir);
        }
    }
    if clash(&folders) {
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
    let seeds = match json["seeds"].as_array() {
        Some(a) => a.iter().filter_map(serde_json::Value::as_u64).collect(),
        None => json["seed"].as_u64().into_iter().collect(),
    };
    let args: Vec<&str> = json["command_line"]
        .as_array()
        .map(|a| a.iter().filter_map(|v| v.as_str()).collect())
        .unwrap_or_default();
    let config_path = args
        .iter()
        .position(|a| *a == "--config")
        .and_then(|i| args.get(i + 1))
        .map(|s| s.to_string())
        .or_else(|| {
            args.iter()
                .find_map(|a| a.strip_prefix("--config="))
                .map(String::from)
        });
    Meta {
        config_name: json["config_name"].as_str().map(String::from),
        run_name: None,
        hypothesis: None,
        seeds,
        config_path,
        command: json["command"].as_str().map(String::from),
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

/// `runs/<i>/summary.csv` of an ensemble with their run index, in run order.
fn read_runs(dir: &Path) -> anyhow::Result<Vec<(usize, Run)>> {
    let Ok(entries) = std::fs::read_dir(dir.join("runs")) else {
        return Ok(Vec::new());
    };
    let mut paths: Vec<(usize, PathBuf)> = entries
        .filter_map(|e| {
            let e = e.ok()?;
            let i = e.file_name().to_str()?.parse().ok()?;
            Some((i, e.path().join("summary.csv")))
        })
        .filter(|(_, p)| p.is_file())
        .collect();
    paths.sort();
    paths
        .iter()
        .map(|(i, p)| Ok((*i, Run::from_csv(p)?)))
        .collect()
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
                    male_range: (0.0, 0.0),
                    female_range: (0.0, 0.0),
                });
                bands.len() - 1
            }
        };
        match sex {
            "male" => bands[i].male += count,
            _ => bands[i].female += count,
        }
    }
    for b in ages.values_mut().flatten() {
        b.male_range = (b.male, b.male);
        b.female_range = (b.female, b.female);
    }
    Ok(ages)
}

type Ages = BTreeMap<i32, Vec<Band>>;
type Drivers = BTreeMap<i32, Vec<(String, Point)>>;

/// The age structure and the emigrants by driver of the run folders `dirs` (a run's own
/// folder, or an ensemble's `runs/<i>`): one run's counts, or for several the mean with the
/// 5-95% range across the runs that kept both tables. Returns how many runs that is.
fn read_structure(dirs: &[PathBuf]) -> anyhow::Result<(Ages, Drivers, usize)> {
    let mut all_ages = Vec::new();
    let mut all_drivers = Vec::new();
    for dir in dirs {
        let (a, d) = (
            dir.join("age_structure.csv"),
            dir.join("emigration_drivers.csv"),
        );
        if a.is_file() && d.is_file() {
            all_ages.push(read_ages(&a)?);
            all_drivers.push(read_drivers(&d)?);
        }
    }
    let n = all_ages.len();
    if n == 0 {
        return Ok((BTreeMap::new(), BTreeMap::new(), 0));
    }
    let spread = |v: &[f64]| {
        let s = summarise(v);
        Point {
            mid: s.mean,
            low: s.p05,
            high: s.p95,
        }
    };
    let mut ages = all_ages[0].clone();
    for (year, bands) in &mut ages {
        for (k, band) in bands.iter_mut().enumerate() {
            let pick = |male: bool| -> Vec<f64> {
                all_ages
                    .iter()
                    .filter_map(|a| a.get(year)?.get(k))
                    .map(|b| if male { b.male } else { b.female })
                    .collect()
            };
            let (m, f) = (spread(&pick(true)), spread(&pick(false)));
            band.male = m.mid;
            band.female = f.mid;
            band.male_range = (m.low, m.high);
            band.female_range = (f.low, f.high);
        }
    }
    let mut drivers: Drivers = BTreeMap::new();
    for (year, row) in &all_drivers[0] {
        let out = row
            .iter()
            .map(|(d, _)| {
                let v: Vec<f64> = all_drivers
                    .iter()
                    .map(|r| {
                        r.get(year)
                            .and_then(|row| row.iter().find(|(x, _)| x == d))
                            .map_or(0.0, |(_, n)| *n)
                    })
                    .collect();
                (d.clone(), spread(&v))
            })
            .collect();
        drivers.insert(*year, out);
    }
    Ok((ages, drivers, n))
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
