//! A scenario's effect: its outcome minus the baseline's (the first folder of a comparison),
//! year by year. Two ensembles run on common seeds are paired seed by seed, so the band of
//! the difference shows how much the effect varies with the seed, not how far two clouds of
//! runs overlap; otherwise the effect is the difference of the means across runs.

use std::collections::BTreeMap;

use super::data::{Folder, Point};
use crate::experiment::stats::summarise;

/// How a difference was taken.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Pairing {
    /// Two single runs: one difference per year.
    Runs,
    /// Two ensembles sharing this many seeds: the mean of the paired differences, with their
    /// 5-95% range.
    Paired(usize),
    /// No common seeds: the difference of the means across runs, without a band.
    Means,
}

/// The effect on one metric, year by year: `mid` the difference, `low`/`high` its 5-95%
/// range when paired. `base` and `scenario` are the levels it was taken from (means over
/// the paired runs when paired), so `scenario - base == mid`.
#[derive(Clone, Debug)]
pub struct Difference {
    pub pairing: Pairing,
    pub points: BTreeMap<i32, Point>,
    pub base: BTreeMap<i32, f64>,
    pub scenario: BTreeMap<i32, f64>,
}

impl Difference {
    /// The effect in `year` relative to the baseline's level (`None` where that is 0).
    pub fn relative(&self, year: i32) -> Option<f64> {
        let b = *self.base.get(&year)?;
        let d = self.points.get(&year)?.mid;
        (b != 0.0).then(|| d / b)
    }
}

/// The runs of `f` by seed, for the seeds it knows.
fn by_seed(f: &Folder) -> BTreeMap<u64, usize> {
    f.run_seeds
        .iter()
        .enumerate()
        .filter_map(|(i, s)| Some(((*s)?, i)))
        .collect()
}

fn value(f: &Folder, run: usize, metric: &str, year: i32) -> Option<f64> {
    f.runs.get(run)?.0.get(metric)?.get(&year).copied()
}

/// `scenario - base` for `metric` (times `factor`) in every year both folders have.
pub fn difference(
    base: &Folder,
    scenario: &Folder,
    metric: &str,
    factor: f64,
) -> Option<Difference> {
    let years: Vec<i32> = base.series(metric)?.keys().copied().collect();
    scenario.series(metric)?;
    let (a, b) = (by_seed(base), by_seed(scenario));
    let common: Vec<(usize, usize)> = a
        .iter()
        .filter_map(|(s, &i)| Some((i, *b.get(s)?)))
        .collect();
    let single = !base.is_ensemble() && !scenario.is_ensemble();
    let pairing = if single {
        Pairing::Runs
    } else if common.len() >= 2 {
        Pairing::Paired(common.len())
    } else {
        Pairing::Means
    };
    let mut d = Difference {
        pairing,
        points: BTreeMap::new(),
        base: BTreeMap::new(),
        scenario: BTreeMap::new(),
    };
    for y in years {
        match pairing {
            Pairing::Paired(_) => {
                let pairs: Vec<(f64, f64)> = common
                    .iter()
                    .filter_map(|&(i, j)| {
                        Some((value(base, i, metric, y)?, value(scenario, j, metric, y)?))
                    })
                    .collect();
                if pairs.is_empty() {
                    continue;
                }
                let n = pairs.len() as f64;
                let mb = pairs.iter().map(|p| p.0).sum::<f64>() / n * factor;
                let ms = pairs.iter().map(|p| p.1).sum::<f64>() / n * factor;
                let diffs: Vec<f64> = pairs.iter().map(|(x, z)| (z - x) * factor).collect();
                let s = summarise(&diffs);
                d.base.insert(y, mb);
                d.scenario.insert(y, ms);
                d.points.insert(
                    y,
                    Point {
                        mid: ms - mb,
                        low: s.p05,
                        high: s.p95,
                    },
                );
            }
            _ => {
                let (Some(x), Some(z)) = (base.mean(metric, y), scenario.mean(metric, y)) else {
                    continue;
                };
                d.base.insert(y, x * factor);
                d.scenario.insert(y, z * factor);
                d.points.insert(y, Point::exact(z * factor - x * factor));
            }
        }
    }
    (!d.points.is_empty()).then_some(d)
}

/// An outcome the effects are shown for.
pub struct Outcome {
    pub column: &'static str,
    pub title: &'static str,
    /// Unit of the difference.
    pub unit: &'static str,
    pub factor: f64,
}

/// The outcomes of the difference charts and the effects table, in order.
pub const OUTCOMES: [Outcome; 4] = [
    Outcome {
        column: "population",
        title: "Population",
        unit: "people",
        factor: 1.0,
    },
    Outcome {
        column: "unemployment_rate",
        title: "Unemployment rate",
        unit: "percentage points",
        factor: 100.0,
    },
    Outcome {
        column: "price_per_m2",
        title: "Price per m²",
        unit: "yuan per m²",
        factor: 1.0,
    },
    Outcome {
        column: "emigrants",
        title: "Emigrants in the year",
        unit: "people per year",
        factor: 1.0,
    },
];

#[cfg(test)]
mod tests {
    use super::*;
    use crate::calibration::Run;
    use crate::report::data::Meta;

    fn folder(seeds: &[u64], pop: &[[f64; 2]]) -> Folder {
        let runs: Vec<Run> = pop
            .iter()
            .map(|v| {
                let mut r = Run::default();
                r.0.insert(
                    "population".into(),
                    BTreeMap::from([(2030, v[0]), (2035, v[1])]),
                );
                r
            })
            .collect();
        let mut values = BTreeMap::new();
        values.insert(
            "population".to_string(),
            BTreeMap::from([(2030, Point::exact(0.0)), (2035, Point::exact(0.0))]),
        );
        Folder {
            dir: "x".into(),
            label: "x".into(),
            meta: Meta {
                runs: (seeds.len() > 1).then_some(seeds.len()),
                ..Meta::default()
            },
            values,
            run_seeds: seeds.iter().map(|s| Some(*s)).collect(),
            runs,
            ages: BTreeMap::new(),
            drivers: BTreeMap::new(),
            structure_runs: 0,
        }
    }

    #[test]
    fn ensembles_on_common_seeds_are_paired_seed_by_seed() {
        // Seeds 1, 2, 3 in the base; 3, 1, 9 in the scenario: pairs on 1 and 3.
        let base = folder(&[1, 2, 3], &[[100.0, 90.0], [500.0, 400.0], [120.0, 110.0]]);
        let scen = folder(&[3, 1, 9], &[[130.0, 125.0], [104.0, 95.0], [999.0, 999.0]]);
        let d = difference(&base, &scen, "population", 1.0).unwrap();
        assert_eq!(d.pairing, Pairing::Paired(2));
        // 2035: differences 95 - 90 = 5 and 125 - 110 = 15.
        let p = d.points[&2035];
        assert_eq!(p.mid, 10.0);
        assert!(p.low >= 5.0 && p.high <= 15.0 && p.low < p.high);
        assert_eq!(d.scenario[&2035] - d.base[&2035], p.mid);
        assert_eq!(d.relative(2035), Some(10.0 / 100.0));
    }

    #[test]
    fn single_runs_differ_year_by_year_and_unpaired_ensembles_by_their_means() {
        let base = folder(&[1], &[[100.0, 90.0]]);
        let scen = folder(&[1], &[[103.0, 99.0]]);
        let d = difference(&base, &scen, "population", 1.0).unwrap();
        assert_eq!(d.pairing, Pairing::Runs);
        assert_eq!(d.points[&2035], Point::exact(9.0));
        let a = folder(&[1, 2], &[[100.0, 90.0], [110.0, 100.0]]);
        let b = folder(&[5, 6], &[[100.0, 100.0], [110.0, 110.0]]);
        let d = difference(&a, &b, "population", 100.0).unwrap();
        assert_eq!(d.pairing, Pairing::Means);
        assert_eq!(d.points[&2035], Point::exact(1000.0));
    }
}
