//! Exogenous time series: piecewise-linear points `[[year, value], ...]` in calendar years,
//! constant after the last point. Validation requires the first point at or before
//! `run.start_year`, so a series says what it is in every simulated year. Only drivers
//! (geology, wages, climate, construction, policy) are series; no model output ever is.

use serde::de::{Deserializer, SeqAccess, Visitor};
use serde::{Deserialize, Serialize};
use std::fmt;

#[derive(Clone, Debug, Serialize, PartialEq)]
#[serde(transparent)]
pub struct Series(pub Vec<(i32, f64)>);

/// As `Vec<(i32, f64)>`, with an error that says what else a series key takes: a number or a
/// ramp reaches here only when there was no series for it to change (a file without `base`).
impl<'de> Deserialize<'de> for Series {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Points;
        impl<'de> Visitor<'de> for Points {
            type Value = Series;

            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str(
                    "a series [[year, value], ...]; a number or a ramp (30000, 0@2026..30000@2030) \
                     changes a series from run.lever_start_year and needs one to change: start the \
                     file with `base = \"baseline\"`, or write the whole series",
                )
            }

            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Series, A::Error> {
                let mut points = Vec::with_capacity(seq.size_hint().unwrap_or(0));
                while let Some(point) = seq.next_element::<(i32, f64)>()? {
                    points.push(point);
                }
                Ok(Series(points))
            }
        }
        deserializer.deserialize_seq(Points)
    }
}

impl Series {
    /// The value in `year`, interpolating linearly between points.
    pub fn at(&self, year: i32) -> f64 {
        let pts = &self.0;
        match pts.iter().position(|&(y, _)| y >= year) {
            None => pts.last().map_or(0.0, |p| p.1),
            Some(0) => pts[0].1,
            Some(i) => {
                let (y0, v0) = pts[i - 1];
                let (y1, v1) = pts[i];
                v0 + (v1 - v0) * f64::from(year - y0) / f64::from(y1 - y0)
            }
        }
    }

    /// Years strictly increasing and at least one point; returns a reason otherwise.
    pub fn check(&self) -> Result<(), String> {
        if self.0.is_empty() {
            return Err("needs at least one [year, value] point".into());
        }
        if let Some(w) = self.0.windows(2).find(|w| w[1].0 <= w[0].0) {
            return Err(format!(
                "years must increase, but {} follows {}",
                w[1].0, w[0].0
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interpolates_between_points_and_holds_at_the_ends() {
        let s = Series(vec![(2015, 10.0), (2019, 0.0)]);
        assert_eq!(s.at(2010), 10.0);
        assert_eq!(s.at(2017), 5.0);
        assert_eq!(s.at(2030), 0.0);
    }

    #[test]
    fn rejects_years_out_of_order() {
        assert!(Series(vec![(2020, 1.0), (2019, 2.0)]).check().is_err());
        assert!(Series(vec![]).check().is_err());
    }
}
