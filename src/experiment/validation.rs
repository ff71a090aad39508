//! Stress cases for the model's "what if?" answers (docs/VALIDATION.md): the baseline run
//! past the article's years, two cases pushed to an extreme (nobody leaves; nothing is
//! built), and every scenario against the baseline, each over the same (paired) seeds. The
//! checks state what the literature expects of a credible answer; the effects of the
//! scenarios have no bounds and are reported for a reader to judge.

use anyhow::Context;
use std::path::{Path, PathBuf};

use super::batch::Pools;
use super::options::Meter;
use super::{RunSpec, run_to_memory};
use crate::config;
use crate::output::{SummaryRow, YearRecord};

/// What `validate` runs.
#[derive(Clone, Debug)]
pub struct ValidationOptions {
    /// Agents per resident.
    pub scale: f64,
    /// The seeds every case runs with (paired: the same seeds in every case).
    pub seeds: Vec<u64>,
    /// Worker threads (runs go in parallel). Default: all cores.
    pub threads: Option<usize>,
    /// Folder of scenario files compared with the baseline.
    pub scenarios: PathBuf,
    /// `KEY=VALUE` overrides applied to every case (before the case's own).
    pub sets: Vec<String>,
}

/// One run setting: overrides of the baseline, or a scenario file.
#[derive(Clone, Debug)]
struct Case {
    name: String,
    file: Option<PathBuf>,
    sets: Vec<String>,
}

/// One check of one case: a measure per seed and whether every seed meets the bound.
#[derive(Clone, Debug)]
pub struct Check {
    pub case: String,
    pub what: String,
    pub bound: String,
    /// The measure, one per seed.
    pub values: Vec<f64>,
    pub holds: bool,
}

/// A scenario's effect on one outcome in one year: scenario minus baseline, per seed.
#[derive(Clone, Debug)]
pub struct Effect {
    pub scenario: String,
    pub outcome: &'static str,
    pub year: i32,
    pub deltas: Vec<f64>,
}

#[derive(Clone, Debug)]
pub struct ValidationReport {
    pub scale: f64,
    pub seeds: Vec<u64>,
    pub checks: Vec<Check>,
    pub effects: Vec<Effect>,
}

const BASELINE: &str = "baseline";
const NOBODY_LEAVES: &str = "nobody leaves (migration.intercept=-10)";
const NO_CONSTRUCTION: &str =
    "no construction (housing.completions=[[2015,0]], housing.construction_rate=0)";

/// Run every case with every seed and measure the checks and the scenarios' effects.
pub fn validate(
    opts: &ValidationOptions,
    meter: &mut dyn Meter,
) -> anyhow::Result<ValidationReport> {
    let mut cases = vec![
        Case {
            name: BASELINE.into(),
            file: None,
            sets: vec![],
        },
        Case {
            name: NOBODY_LEAVES.into(),
            file: None,
            sets: vec!["migration.intercept=-10".into()],
        },
        Case {
            name: NO_CONSTRUCTION.into(),
            file: None,
            sets: vec![
                "housing.completions=[[2015,0]]".into(),
                "housing.construction_rate=0".into(),
            ],
        },
    ];
    for file in scenario_files(&opts.scenarios)? {
        let name = file
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or("scenario")
            .to_string();
        cases.push(Case {
            name,
            file: Some(file),
            sets: vec![],
        });
    }
    let configs = cases
        .iter()
        .map(|c| {
            let sets: Vec<String> = opts.sets.iter().chain(&c.sets).cloned().collect();
            Ok(config::load(c.file.as_deref(), &sets)?.config)
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    let n_seeds = opts.seeds.len();
    let runs = cases.len() * n_seeds;
    let pools = Pools::new(opts.threads, runs)?;
    meter.start(runs as u64, "validate");
    let mut records: Vec<Vec<Vec<YearRecord>>> = vec![Vec::new(); cases.len()];
    let result = pools.run_ordered(
        runs,
        |i| {
            let spec = RunSpec {
                seed: opts.seeds[i % n_seeds],
                scale: opts.scale,
            };
            Ok(run_to_memory(&configs[i / n_seeds], &spec).1)
        },
        |i, r| {
            records[i / n_seeds].push(r);
            Ok(())
        },
        meter,
    );
    meter.finish();
    result?;
    let rows = |case: usize| -> Vec<Vec<SummaryRow>> {
        records[case]
            .iter()
            .map(|run| run.iter().map(|r| r.summary.clone()).collect())
            .collect()
    };
    let (base, free, unbuilt) = (rows(0), rows(1), rows(2));
    let mut checks = Vec::new();
    let mut check =
        |case: &str, what: &str, bound: &str, values: Vec<f64>, ok: &dyn Fn(f64) -> bool| {
            let holds = values.iter().all(|&v| ok(v));
            checks.push(Check {
                case: case.into(),
                what: what.into(),
                bound: bound.into(),
                values,
                holds,
            });
        };
    let each = |runs: &[Vec<SummaryRow>], f: &dyn Fn(&[SummaryRow]) -> f64| -> Vec<f64> {
        runs.iter().map(|r| f(r)).collect()
    };
    check(
        BASELINE,
        "lowest unemployment rate, any year, %",
        "≥ 3",
        each(&base, &|r| {
            extreme(r, |s| s.unemployment_rate * 100.0, f64::min)
        }),
        &|v| v >= 3.0,
    );
    check(
        BASELINE,
        "highest unemployment rate, any year, %",
        "≤ 15",
        each(&base, &|r| {
            extreme(r, |s| s.unemployment_rate * 100.0, f64::max)
        }),
        &|v| v <= 15.0,
    );
    check(
        BASELINE,
        "largest year-to-year change in unemployment, points",
        "≤ 3",
        each(&base, &|r| largest_step(r, |s| s.unemployment_rate * 100.0)),
        &|v| v <= 3.0,
    );
    check(
        BASELINE,
        "largest yearly price change, ± %",
        "≤ 15",
        each(&base, &|r| largest_growth(r, |s| s.price_per_m2) * 100.0),
        &|v| v <= 15.0,
    );
    let ages = |case: usize| -> Vec<&Vec<YearRecord>> { records[case].iter().collect() };
    check(
        BASELINE,
        "share of those aged 10-19 in 2015 still there at 20-29 in 2025, %",
        "50-65",
        ages(0)
            .iter()
            .map(|r| cohort_retention(r, [10, 19], 2015, 2025).map_or(f64::NAN, |k| k * 100.0))
            .collect(),
        &|v| (50.0..=65.0).contains(&v),
    );
    check(
        BASELINE,
        "yearly loss of those aged 30-44 in 2015 (at 40-54 in 2025), % a year",
        "1.5-3.5",
        ages(0)
            .iter()
            .map(|r| {
                cohort_retention(r, [30, 44], 2015, 2025)
                    .map_or(f64::NAN, |kept| (1.0 - kept.powf(0.1)) * 100.0)
            })
            .collect(),
        &|v| (1.5..=3.5).contains(&v),
    );
    check(
        NOBODY_LEAVES,
        "population 2025",
        "> 900,000",
        each(&free, &|r| at(r, 2025, |s| s.population as f64)),
        &|v| v > 900_000.0,
    );
    check(
        NOBODY_LEAVES,
        "highest price of a 72 m² home over mean income × 2.2, any year",
        "≤ 15",
        each(&free, &|r| {
            extreme(
                r,
                |s| 72.0 * s.price_per_m2 / (s.mean_income * 2.2).max(1.0),
                f64::max,
            )
        }),
        &|v| v <= 15.0,
    );
    check(
        NO_CONSTRUCTION,
        "vacancy 2025 minus the baseline's, points",
        "< 0",
        paired(
            &unbuilt,
            &base,
            |r| at(r, 2025, |s| s.vacancy_rate * 100.0),
            |a, b| a - b,
        ),
        &|v| v < 0.0,
    );
    check(
        NO_CONSTRUCTION,
        "price 2025 over the baseline's",
        "≤ 1.4",
        paired(
            &unbuilt,
            &base,
            |r| at(r, 2025, |s| s.price_per_m2),
            |a, b| a / b,
        ),
        &|v| v <= 1.4,
    );
    let mut effects = Vec::new();
    for (c, case) in cases.iter().enumerate().skip(3) {
        let scenario = rows(c);
        for year in [2030, 2035] {
            for (outcome, f) in OUTCOMES {
                effects.push(Effect {
                    scenario: case.name.clone(),
                    outcome,
                    year,
                    deltas: paired(&scenario, &base, |r| at(r, year, f), |a, b| a - b),
                });
            }
        }
    }
    Ok(ValidationReport {
        scale: opts.scale,
        seeds: opts.seeds.clone(),
        checks,
        effects,
    })
}

/// A measure of one year of a run.
type Measure = fn(&SummaryRow) -> f64;

/// The outcomes a scenario's effects are reported on.
const OUTCOMES: [(&str, Measure); 4] = [
    ("population", |s| s.population as f64),
    ("unemployment, points", |s| s.unemployment_rate * 100.0),
    ("price, yuan/m²", |s| s.price_per_m2),
    ("emigrants", |s| s.emigrants as f64),
];

/// The `.toml` files of `dir`, in name order.
fn scenario_files(dir: &Path) -> anyhow::Result<Vec<PathBuf>> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .with_context(|| format!("cannot read the scenario folder {}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    files.sort();
    Ok(files)
}

/// The value of `f` in `year` (NaN if the run has no such year).
fn at(rows: &[SummaryRow], year: i32, f: impl Fn(&SummaryRow) -> f64) -> f64 {
    rows.iter().find(|r| r.year == year).map_or(f64::NAN, f)
}

/// The smallest or largest value of `f` over the years (`pick` = `f64::min` or `f64::max`).
fn extreme(rows: &[SummaryRow], f: impl Fn(&SummaryRow) -> f64, pick: fn(f64, f64) -> f64) -> f64 {
    rows.iter().map(f).reduce(pick).unwrap_or(f64::NAN)
}

/// The largest absolute change of `f` from one year to the next.
fn largest_step(rows: &[SummaryRow], f: impl Fn(&SummaryRow) -> f64) -> f64 {
    rows.windows(2)
        .map(|w| (f(&w[1]) - f(&w[0])).abs())
        .fold(0.0, f64::max)
}

/// The largest absolute relative change of `f` from one year to the next.
fn largest_growth(rows: &[SummaryRow], f: impl Fn(&SummaryRow) -> f64) -> f64 {
    rows.windows(2)
        .map(|w| (f(&w[1]) / f(&w[0]) - 1.0).abs())
        .fold(0.0, f64::max)
}

/// Of the people aged `ages` in `from`, the share at the same ages plus `to - from` in `to`
/// (`output::record::cohort_retention` over a run's yearly age structure).
fn cohort_retention(records: &[YearRecord], ages: [u32; 2], from: i32, to: i32) -> Option<f64> {
    let people = |year: i32, band: usize| -> Option<f64> {
        let r = records.iter().find(|r| r.summary.year == year)?;
        Some(r.age_structure.get(band).map_or(0, |s| s[0] + s[1]) as f64)
    };
    crate::output::record::cohort_retention(people, ages, from, to)
}

/// `combine(f(a), f(b))` for each pair of runs with the same seed.
fn paired(
    a: &[Vec<SummaryRow>],
    b: &[Vec<SummaryRow>],
    f: impl Fn(&[SummaryRow]) -> f64,
    combine: fn(f64, f64) -> f64,
) -> Vec<f64> {
    a.iter().zip(b).map(|(x, y)| combine(f(x), f(y))).collect()
}

impl ValidationReport {
    /// The checks and the effects as Markdown tables.
    pub fn markdown(&self) -> String {
        let seeds: Vec<String> = self.seeds.iter().map(u64::to_string).collect();
        let mut s = format!(
            "Seeds {} at `--scale {}`; one value per seed.\n\n| case | check | bound | measured | holds |\n|---|---|---|---|---|\n",
            seeds.join(", "),
            self.scale
        );
        let holds = self.checks.iter().filter(|c| c.holds).count();
        for c in &self.checks {
            let values: Vec<String> = c.values.iter().map(|v| number(*v)).collect();
            s += &format!(
                "| {} | {} | {} | {} | {} |\n",
                c.case,
                c.what,
                c.bound,
                values.join(", "),
                if c.holds { "yes" } else { "**no**" }
            );
        }
        s += &format!("\n{holds} of {} checks hold.\n", self.checks.len());
        if !self.effects.is_empty() {
            s += "\nEffects of each scenario against the baseline (scenario − baseline, paired seeds): mean, and the range over seeds.\n\n| scenario | outcome | year | mean | range |\n|---|---|---|---|---|\n";
            for e in &self.effects {
                let n = e.deltas.len().max(1) as f64;
                let mean = e.deltas.iter().sum::<f64>() / n;
                let lo = e.deltas.iter().copied().fold(f64::INFINITY, f64::min);
                let hi = e.deltas.iter().copied().fold(f64::NEG_INFINITY, f64::max);
                s += &format!(
                    "| {} | {} | {} | {} | {} .. {} |\n",
                    e.scenario,
                    e.outcome,
                    e.year,
                    number(mean),
                    number(lo),
                    number(hi)
                );
            }
        }
        s
    }

    /// Whether every check holds.
    pub fn all_hold(&self) -> bool {
        self.checks.iter().all(|c| c.holds)
    }
}

/// A number as a reader wants it: shares as percentages with one decimal place, other
/// numbers with up to three significant decimals, large ones whole.
fn number(v: f64) -> String {
    if !v.is_finite() {
        "n/a".into()
    } else if v.abs() >= 1000.0 {
        format!("{v:.0}")
    } else if v.abs() >= 10.0 {
        format!("{v:.1}")
    } else {
        format!("{v:.3}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(year: i32, unemployment: f64, price: f64) -> SummaryRow {
        SummaryRow {
            year,
            unemployment_rate: unemployment,
            price_per_m2: price,
            ..SummaryRow::default()
        }
    }

    #[test]
    fn yearly_steps_and_extremes_are_measured_between_consecutive_years() {
        let rows = [
            row(2015, 0.08, 100.0),
            row(2016, 0.12, 90.0),
            row(2017, 0.11, 99.0),
        ];
        assert!((largest_step(&rows, |s| s.unemployment_rate * 100.0) - 4.0).abs() < 1e-9);
        assert!((largest_growth(&rows, |s| s.price_per_m2) - 0.1).abs() < 1e-9);
        assert_eq!(extreme(&rows, |s| s.unemployment_rate, f64::max), 0.12);
        assert_eq!(extreme(&rows, |s| s.unemployment_rate, f64::min), 0.08);
        assert_eq!(at(&rows, 2016, |s| s.price_per_m2), 90.0);
        assert!(at(&rows, 2030, |s| s.price_per_m2).is_nan());
    }

    #[test]
    fn cohort_retention_follows_a_cohort_ten_years_on() {
        let record = |year: i32, bands: &[(usize, i64)]| {
            let mut age_structure = vec![[0i64; 2]; 18];
            for &(b, n) in bands {
                age_structure[b] = [n, n];
            }
            YearRecord {
                summary: row(year, 0.1, 1.0),
                age_structure,
                ..YearRecord::default()
            }
        };
        // 10-19 in 2015: bands 2 and 3, 400 people; at 20-29 in 2025 (bands 4, 5): 220.
        let records = [
            record(2015, &[(2, 100), (3, 100), (4, 999)]),
            record(2025, &[(4, 60), (5, 50), (2, 999)]),
        ];
        let kept = cohort_retention(&records, [10, 19], 2015, 2025).unwrap();
        assert!((kept - 0.55).abs() < 1e-12, "{kept}");
        assert!(cohort_retention(&records, [10, 19], 2015, 2035).is_none());
        assert!(
            cohort_retention(&records, [10, 17], 2015, 2025).is_none(),
            "ages must be whole 5-year bands"
        );
    }
}
