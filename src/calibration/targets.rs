//! Targets: the article's figures, read from `config/targets.toml`, and how a run (or several
//! seeds of it) compares to them.

use anyhow::{Context, bail};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::Path;

use crate::output::record::cohort_retention;
use crate::output::{SummaryRow, YearRecord};

/// The built-in targets, so `shrinkcity targets` works from any folder.
pub const TARGETS_TOML: &str = include_str!("../../config/targets.toml");

#[derive(Clone, Copy, Debug, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum How {
    At,
    Max,
    Change,
    Difference,
    /// Of the people aged `ages` in `from`, the share at those ages plus `to - from` in `to`
    /// (a cohort's retention, from the run's age structure; `metric` is `age_structure`).
    Cohort,
}

#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Target {
    pub name: String,
    pub metric: String,
    pub how: How,
    pub year: Option<i32>,
    pub years: Option<[i32; 2]>,
    pub from: Option<i32>,
    pub to: Option<i32>,
    /// First and last age of a cohort (`how = "cohort"`), whole 5-year bands.
    pub ages: Option<[u32; 2]>,
    pub target: Option<f64>,
    pub low: f64,
    pub high: f64,
    #[serde(default)]
    pub one_sided: bool,
    pub weight: Option<f64>,
    pub source: String,
}

/// A parameter `calibrate` may move, with its bounds.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Parameter {
    pub key: String,
    pub low: f64,
    pub high: f64,
}

#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Targets {
    pub target: Vec<Target>,
    #[serde(default)]
    pub parameter: Vec<Parameter>,
}

impl Target {
    pub fn goal(&self) -> f64 {
        self.target.unwrap_or((self.low + self.high) / 2.0)
    }

    /// Half the band: the unit of error in the loss.
    pub fn scale(&self) -> f64 {
        ((self.high - self.low) / 2.0).max(1e-12)
    }

    pub fn within(&self, v: f64) -> bool {
        v >= self.low && v <= self.high
    }

    /// This target's term in the loss: squared error in units of half the band; one-sided
    /// targets cost only outside the band.
    pub fn loss(&self, v: f64) -> f64 {
        let e = if self.one_sided {
            if self.within(v) {
                0.0
            } else {
                (v - v.clamp(self.low, self.high)) / self.scale()
            }
        } else {
            (v - self.goal()) / self.scale()
        };
        self.weight.unwrap_or(1.0) * e * e
    }

    /// The year the report shows for this target.
    pub fn year_label(&self) -> String {
        match self.how {
            How::At => self.year.map_or(String::new(), |y| y.to_string()),
            How::Max => self.years.map_or("all".into(), |[a, b]| format!("{a}-{b}")),
            How::Change | How::Difference | How::Cohort => {
                format!("{}-{}", self.from.unwrap_or(0), self.to.unwrap_or(0))
            }
        }
    }

    /// The simulated value in a run, or `None` when the run lacks the years or metric.
    pub fn measure(&self, run: &Run) -> Option<f64> {
        if self.how == How::Cohort {
            let people =
                |year: i32, band: usize| run.0.get(&age_band_metric(band))?.get(&year).copied();
            return cohort_retention(people, self.ages?, self.from?, self.to?);
        }
        let col = run.0.get(&self.metric)?;
        match self.how {
            How::At => col.get(&self.year?).copied(),
            How::Max => col
                .iter()
                .filter(|(y, _)| self.years.is_none_or(|[a, b]| (a..=b).contains(*y)))
                .map(|(_, v)| *v)
                .reduce(f64::max),
            How::Change => {
                let (a, b) = (col.get(&self.from?)?, col.get(&self.to?)?);
                (*a != 0.0).then(|| b / a - 1.0)
            }
            How::Difference => Some(col.get(&self.from?)? - col.get(&self.to?)?),
            How::Cohort => unreachable!("measured above"),
        }
    }

    fn check(&self) -> anyhow::Result<()> {
        let ok = match self.how {
            How::At => self.year.is_some(),
            How::Max => true,
            How::Change | How::Difference => self.from.is_some() && self.to.is_some(),
            How::Cohort => {
                self.from.is_some()
                    && self.to.is_some()
                    && self
                        .ages
                        .is_some_and(|[a, b]| a % 5 == 0 && b % 5 == 4 && a < b)
            }
        };
        if !ok {
            bail!(
                "target `{}`: how = {:?} needs {}",
                self.name,
                self.how,
                match self.how {
                    How::At => "`year`",
                    How::Cohort =>
                        "`from`, `to` and `ages` = [first, last] of whole 5-year bands (e.g. [10, 19])",
                    _ => "`from` and `to`",
                }
            );
        }
        if self
            .low
            .partial_cmp(&self.high)
            .is_none_or(|o| o == std::cmp::Ordering::Greater)
        {
            bail!(
                "target `{}`: low ({}) must not exceed high ({})",
                self.name,
                self.low,
                self.high
            );
        }
        Ok(())
    }
}

impl Targets {
    pub fn parse(text: &str, origin: &str) -> anyhow::Result<Self> {
        let t: Targets =
            toml::from_str(text).with_context(|| format!("reading targets {origin}"))?;
        for target in &t.target {
            target.check().with_context(|| format!("in {origin}"))?;
        }
        Ok(t)
    }

    /// A targets file, or the built-in one.
    pub fn load(path: Option<&Path>) -> anyhow::Result<Self> {
        match path {
            None => Self::parse(TARGETS_TOML, "config/targets.toml (built in)"),
            Some(p) => {
                let text = std::fs::read_to_string(p)
                    .with_context(|| format!("cannot read targets file {}", p.display()))?;
                Self::parse(&text, &p.display().to_string())
            }
        }
    }

    /// Total loss of the mean over seeds of each target's value.
    pub fn loss(&self, runs: &[Run]) -> f64 {
        self.target
            .iter()
            .map(|t| {
                let vals: Vec<f64> = runs.iter().filter_map(|r| t.measure(r)).collect();
                if vals.is_empty() {
                    1e6
                } else {
                    t.loss(mean(&vals))
                }
            })
            .sum()
    }
}

/// One run's summary as metric -> year -> value.
#[derive(Clone, Debug, Default)]
pub struct Run(pub BTreeMap<String, BTreeMap<i32, f64>>);

impl Run {
    /// A run's yearly records: the summary's columns and the age structure (`age_band_metric`).
    pub fn from_records(records: &[YearRecord]) -> Self {
        let mut run = Run::from_rows(records.iter().map(|r| &r.summary));
        for r in records {
            for (band, count) in r.age_structure.iter().enumerate() {
                run.0
                    .entry(age_band_metric(band))
                    .or_default()
                    .insert(r.summary.year, (count[0] + count[1]) as f64);
            }
        }
        run
    }

    pub fn from_rows<'a>(rows: impl IntoIterator<Item = &'a SummaryRow>) -> Self {
        let mut run = Run::default();
        for row in rows {
            let serde_json::Value::Object(map) = serde_json::to_value(row).expect("row serializes")
            else {
                continue;
            };
            for (k, v) in map {
                if let Some(x) = v.as_f64() {
                    run.0.entry(k).or_default().insert(row.year, x);
                }
            }
        }
        run
    }

    /// Read a run folder's summary.csv.
    pub fn from_csv(path: &Path) -> anyhow::Result<Self> {
        let mut reader = csv::Reader::from_path(path)
            .with_context(|| format!("cannot read {}", path.display()))?;
        let headers = reader.headers()?.clone();
        let year_col = headers
            .iter()
            .position(|h| h == "year")
            .context("summary.csv has no `year` column")?;
        let mut run = Run::default();
        for rec in reader.records() {
            let rec = rec?;
            let year: i32 = rec[year_col].parse().context("bad year in summary.csv")?;
            for (h, v) in headers.iter().zip(rec.iter()) {
                if let Ok(x) = v.parse::<f64>() {
                    run.0.entry(h.to_string()).or_default().insert(year, x);
                }
            }
        }
        let ages = path.with_file_name("age_structure.csv");
        if ages.is_file() {
            run.read_age_structure(&ages)?;
        }
        Ok(run)
    }

    /// Add a run folder's `age_structure.csv` (year, age_from, count by sex) as
    /// `age_band_metric` columns.
    fn read_age_structure(&mut self, path: &Path) -> anyhow::Result<()> {
        #[derive(Deserialize)]
        struct Row {
            year: i32,
            age_from: usize,
            count: f64,
        }
        let mut reader = csv::Reader::from_path(path)
            .with_context(|| format!("cannot read {}", path.display()))?;
        for row in reader.deserialize::<Row>() {
            let row = row.with_context(|| format!("bad row in {}", path.display()))?;
            *self
                .0
                .entry(age_band_metric(row.age_from / 5))
                .or_default()
                .entry(row.year)
                .or_default() += row.count;
        }
        Ok(())
    }
}

/// The metric name under which a `Run` holds the people of 5-year age band `band` (0 = 0-4),
/// both sexes.
pub fn age_band_metric(band: usize) -> String {
    format!("age_band_{band}")
}

pub fn mean(v: &[f64]) -> f64 {
    v.iter().sum::<f64>() / v.len().max(1) as f64
}

pub fn sd(v: &[f64]) -> f64 {
    if v.len() < 2 {
        return 0.0;
    }
    let m = mean(v);
    (v.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (v.len() - 1) as f64).sqrt()
}

/// One line of a target report.
#[derive(Clone, Debug, Serialize)]
pub struct ReportRow {
    pub metric: String,
    pub year: String,
    pub target: f64,
    pub low: f64,
    pub high: f64,
    pub simulated_mean: f64,
    pub simulated_sd: f64,
    pub error: f64,
    pub within_tolerance: bool,
    pub name: String,
    pub source: String,
}

pub fn report(targets: &Targets, runs: &[Run]) -> Vec<ReportRow> {
    targets
        .target
        .iter()
        .map(|t| {
            let vals: Vec<f64> = runs.iter().filter_map(|r| t.measure(r)).collect();
            let m = if vals.is_empty() {
                f64::NAN
            } else {
                mean(&vals)
            };
            ReportRow {
                metric: t.metric.clone(),
                year: t.year_label(),
                target: t.goal(),
                low: t.low,
                high: t.high,
                simulated_mean: m,
                simulated_sd: sd(&vals),
                error: m - t.goal(),
                within_tolerance: t.within(m),
                name: t.name.clone(),
                source: t.source.clone(),
            }
        })
        .collect()
}

/// A fixed-width table of the report for the terminal.
pub fn format_report(rows: &[ReportRow]) -> String {
    // The name column fits the longest name, so every row stays aligned.
    let width = rows
        .iter()
        .map(|r| r.name.chars().count())
        .fold(42, usize::max);
    let mut out = format!(
        "{:<width$} {:>9} {:>12} {:>25} {:>12} {:>4}\n",
        "target", "year", "article", "tolerance", "simulated", "ok"
    );
    for r in rows {
        out += &format!(
            "{:<width$} {:>9} {:>12} {:>25} {:>12} {:>4}\n",
            r.name,
            r.year,
            fmt_num(r.target),
            format!("{} .. {}", fmt_num(r.low), fmt_num(r.high)),
            fmt_num(r.simulated_mean),
            if r.within_tolerance { "yes" } else { "NO" }
        );
    }
    let met = rows.iter().filter(|r| r.within_tolerance).count();
    out += &format!("{met} of {} targets within tolerance\n", rows.len());
    out
}

fn fmt_num(v: f64) -> String {
    if v.abs() >= 100.0 {
        format!("{v:.0}")
    } else {
        format!("{v:.3}")
    }
}

pub fn write_report(path: &Path, rows: &[ReportRow]) -> anyhow::Result<()> {
    let mut w =
        csv::Writer::from_path(path).with_context(|| format!("cannot write {}", path.display()))?;
    for r in rows {
        w.serialize(r)?;
    }
    w.flush()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(col: &str, points: &[(i32, f64)]) -> Run {
        let mut r = Run::default();
        r.0.insert(col.into(), points.iter().copied().collect());
        r
    }

    #[test]
    fn the_built_in_targets_parse() {
        let t = Targets::load(None).unwrap();
        assert!(t.target.len() >= 15);
        assert!(!t.parameter.is_empty());
    }

    #[test]
    fn each_way_of_reading_a_metric() {
        let r = run(
            "p",
            &[(2019, 10.0), (2020, 12.0), (2021, 11.0), (2025, 6.0)],
        );
        let mut t = Targets::load(None).unwrap().target[0].clone();
        t.metric = "p".into();
        t.how = How::At;
        t.year = Some(2025);
        assert_eq!(t.measure(&r), Some(6.0));
        t.how = How::Max;
        t.years = Some([2019, 2021]);
        assert_eq!(t.measure(&r), Some(12.0));
        t.how = How::Change;
        t.from = Some(2020);
        t.to = Some(2025);
        assert_eq!(t.measure(&r), Some(-0.5));
        t.how = How::Difference;
        assert_eq!(t.measure(&r), Some(6.0));
        t.year = Some(1990);
        t.how = How::At;
        assert_eq!(t.measure(&r), None);
    }

    #[test]
    fn a_cohort_target_reads_the_age_structure() {
        let record = |year: i32, counts: &[(usize, i64)]| {
            let mut age_structure = vec![[0i64; 2]; 18];
            for &(band, n) in counts {
                age_structure[band] = [n, n];
            }
            YearRecord {
                summary: SummaryRow {
                    year,
                    ..SummaryRow::default()
                },
                age_structure,
                ..YearRecord::default()
            }
        };
        let r = Run::from_records(&[
            record(2015, &[(6, 50), (7, 50), (8, 50)]),
            record(2025, &[(8, 40), (9, 40), (10, 40)]),
        ]);
        let mut t = Targets::load(None)
            .unwrap()
            .target
            .into_iter()
            .find(|t| t.how == How::Cohort)
            .expect("the built-in targets follow a cohort");
        t.ages = Some([30, 44]);
        assert_eq!(t.measure(&r), Some(0.8));
        t.ages = Some([30, 40]);
        assert!(t.check().is_err(), "ages must be whole 5-year bands");
    }

    #[test]
    fn one_sided_targets_cost_only_outside_the_band() {
        let mut t = Targets::load(None).unwrap().target[0].clone();
        t.low = 0.0;
        t.high = 0.2;
        t.target = Some(0.18);
        t.one_sided = true;
        assert_eq!(t.loss(0.05), 0.0);
        assert!(t.loss(0.3) > 0.0);
        t.one_sided = false;
        assert!(t.loss(0.05) > 0.0);
    }
}
