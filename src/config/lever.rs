//! Levers: a number or a ramp given for a series key (`--set`, `sweep --param`,
//! `sensitivity --param`, `calibrate`, a scenario file). One rule everywhere: a lever changes
//! the series from `run.lever_start_year` on and keeps its values before that year.
//!
//! - `30000`: that level from the lever start year (a step).
//! - `30000@2030`: a straight line from the series' value in the year before the lever start
//!   year to 30000 in 2030, held after. With the start year 2026 this is the scenario files'
//!   `[[2025, ...], [2030, 30000]]`.
//! - `0@2026..30000@2030..20000@2035`: points joined by straight lines, the first joined to the
//!   year before the start year; the first point may leave out its year (`0..30000@2030`: 0 in
//!   the start year).
//! - `[[year, value], ...]` is not a lever: it replaces the whole series.
//!
//! A lever needs the series it changes, and the start year may be set after it (a later
//! `--set run.lever_start_year=2030` moves a scenario file's levers too), so the loader keeps
//! a lever pending beside the series it replaces (`assign`) and places every pending lever
//! once the table is complete (`resolve`).

use toml::{Table, Value};

use super::series::Series;

/// How to write a lever, for error messages and `shrinkcity keys`.
pub fn forms(start: Option<i32>) -> String {
    let (from, before) = match start {
        Some(s) => (
            format!("run.lever_start_year ({s})"),
            format!("the {} value", s - 1),
        ),
        None => (
            "run.lever_start_year".into(),
            "the value in the year before".into(),
        ),
    };
    format!(
        "a number (that level from {from} on), a ramp of VALUE@YEAR points joined by `..` \
         (0@2026..30000@2030; 30000@2030 rises from {before}), or the whole series as \
         [[year, value], ...]"
    )
}

/// A number or a ramp, as written; points are (year, value), the year left out only on the
/// first point (it is then the lever start year).
#[derive(Clone, Debug, PartialEq)]
pub struct Lever {
    points: Vec<(Option<i32>, f64)>,
}

impl Lever {
    /// A number (an integer or a float) or a string that reads as a lever; `None` for any
    /// other value (an array replaces a series; a table or boolean is no lever).
    pub fn from_value(value: &Value) -> Option<Result<Lever, String>> {
        match value {
            Value::Integer(i) => Some(Ok(Lever {
                points: vec![(None, *i as f64)],
            })),
            Value::Float(x) => Some(Ok(Lever {
                points: vec![(None, *x)],
            })),
            Value::String(s) => Some(Lever::parse(s)),
            _ => None,
        }
    }

    /// `VALUE[@YEAR]` points joined by `..`. The error says what is wrong, not how to write
    /// a lever: the caller adds `forms`.
    pub fn parse(text: &str) -> Result<Lever, String> {
        let bad = |why: String| format!("`{text}` is not a lever: {why}");
        let mut points = Vec::new();
        for (i, point) in text.split("..").enumerate() {
            let point = point.trim();
            let (value, year) = match point.split_once('@') {
                Some((v, y)) => (v.trim(), Some(y.trim())),
                None => (point, None),
            };
            if year.is_some_and(|y| y.contains('@')) {
                return Err(bad(format!(
                    "`{point}` has two `@`; join points with `..` (0@2026..30000@2030)"
                )));
            }
            let value = number(value).ok_or_else(|| bad(format!("`{value}` is not a number")))?;
            let year = match year {
                Some(y) => Some(
                    y.parse::<i32>()
                        .map_err(|_| bad(format!("`{y}` after `@` is not a year")))?,
                ),
                None if i == 0 => None,
                None => {
                    return Err(bad(format!(
                        "`{point}` has no year; every point after the first is VALUE@YEAR"
                    )));
                }
            };
            points.push((year, value));
        }
        Ok(Lever { points })
    }

    /// The series `base` with this lever from `start` on: `base` up to `start − 1`, then
    /// straight lines through the lever's points, held after the last.
    pub fn apply(&self, base: &Series, start: i32) -> Result<Series, String> {
        let mut points: Vec<(i32, f64)> = Vec::with_capacity(self.points.len());
        for &(year, value) in &self.points {
            let year = year.unwrap_or(start);
            if year < start {
                return Err(format!(
                    "the lever's point {}@{year} is before run.lever_start_year ({start}), the \
                     first year a lever changes; give years from {start} on, set \
                     run.lever_start_year={year}, or write the whole series as [[year, value], ...]",
                    value
                ));
            }
            if let Some(&(last, _)) = points.last()
                && year <= last
            {
                return Err(format!(
                    "the lever's years must increase, but {year} follows {last}"
                ));
            }
            if !value.is_finite() {
                return Err(format!("the lever's value {value} is not a finite number"));
            }
            points.push((year, value));
        }
        let before = start - 1;
        let mut out: Vec<(i32, f64)> = base
            .0
            .iter()
            .copied()
            .filter(|&(y, _)| y < before)
            .collect();
        out.push((before, base.at(before)));
        out.extend(points);
        Ok(Series(out))
    }
}

/// Where a lever's text varies in an experiment: the one value or year that is a range
/// (`lo:hi:steps` for `sweep`, `lo:hi` for `sensitivity`), as (text before, the range, text
/// after). `0:40000:5` is all range; `0:40000:5@2035` sweeps the level a ramp reaches in
/// 2035; `0@2026..30000@2028:2034:4` the year it is reached. `None`: nothing varies (a list of
/// values). Two ranges in one lever are refused: sweep one part at a time.
pub fn split_range(spec: &str) -> Result<Option<(&str, &str, &str)>, String> {
    let mut parts = Vec::new();
    let (bytes, mut start, mut i) = (spec.as_bytes(), 0, 0);
    while i < bytes.len() {
        let sep = if bytes[i] == b'@' {
            1
        } else if bytes[i..].starts_with(b"..") {
            2
        } else {
            0
        };
        if sep == 0 {
            i += 1;
            continue;
        }
        parts.push(start..i);
        i += sep;
        start = i;
    }
    parts.push(start..bytes.len());
    let mut ranges = parts.into_iter().filter(|r| spec[r.clone()].contains(':'));
    let Some(range) = ranges.next() else {
        return Ok(None);
    };
    if ranges.next().is_some() {
        return Err(format!(
            "`{spec}`: only one value or year of a lever can be a range; to vary more, list whole levers (0@2030,10000@2035)"
        ));
    }
    Ok(Some((
        &spec[..range.start],
        &spec[range.clone()],
        &spec[range.end..],
    )))
}

/// The numbers that differ between the levers of one swept key, for a chart's axis: the
/// values themselves when they are numbers, else the one value or year in which they differ
/// (`0@2035`, `10000@2035`: 0, 10000). `None` when they differ in more than one place.
pub fn varying_numbers(values: &[&str]) -> Option<Vec<f64>> {
    if let Some(all) = values
        .iter()
        .map(|v| number(v))
        .collect::<Option<Vec<f64>>>()
    {
        return Some(all);
    }
    let parts: Vec<Vec<&str>> = values
        .iter()
        .map(|v| {
            v.split("..")
                .flat_map(|p| p.split('@'))
                .map(str::trim)
                .collect()
        })
        .collect();
    let len = parts.first()?.len();
    if parts.iter().any(|p| p.len() != len) {
        return None;
    }
    let mut differing = (0..len).filter(|&i| parts.iter().any(|p| p[i] != parts[0][i]));
    let i = differing.next().unwrap_or(0);
    if differing.next().is_some() {
        return None;
    }
    parts.iter().map(|p| number(p[i])).collect()
}

/// A number as TOML writes one, with `_` between digits allowed (`30_000`).
fn number(text: &str) -> Option<f64> {
    let text = text.replace('_', "");
    if text.is_empty() {
        return None;
    }
    text.parse::<f64>().ok().filter(|x| x.is_finite())
}

/// The key under which a pending lever's table holds what it needs.
const PENDING: &str = "\u{1}pending lever";

/// The value a key holds after `value` is given for it, when it held `current`. A number or
/// a string given for a series (or for a lever still pending) is a pending lever over that
/// series; anything else is `value` itself.
pub fn assign(current: Option<&Value>, value: Value) -> Value {
    let series = match current {
        Some(Value::Array(a)) if !a.is_empty() && a.iter().all(Value::is_array) => {
            Value::Array(a.clone())
        }
        Some(Value::Table(t)) if is_pending(t) => t[PENDING]["series"].clone(),
        _ => return value,
    };
    if !matches!(
        value,
        Value::Integer(_) | Value::Float(_) | Value::String(_)
    ) {
        return value;
    }
    let mut inner = Table::new();
    inner.insert("series".into(), series);
    inner.insert("lever".into(), value);
    let mut t = Table::new();
    t.insert(PENDING.into(), Value::Table(inner));
    Value::Table(t)
}

/// Whether a table is a pending lever rather than a config section.
pub fn is_pending(t: &Table) -> bool {
    t.contains_key(PENDING)
}

/// A lever that could not be placed: its dotted key and why.
pub struct Unplaced {
    pub key: String,
    pub message: String,
}

/// Place every pending lever of `table` with its `run.lever_start_year`.
pub fn resolve(table: &mut Table) -> Result<(), Unplaced> {
    let mut pending = Vec::new();
    find_pending(table, "", &mut pending);
    let Some(first) = pending.first() else {
        return Ok(());
    };
    let start = table
        .get("run")
        .and_then(|r| r.get("lever_start_year"))
        .and_then(Value::as_integer)
        .and_then(|y| i32::try_from(y).ok())
        .filter(|y| (1900..=2300).contains(y))
        .ok_or_else(|| Unplaced {
            key: "run.lever_start_year".into(),
            message: format!(
                "the lever given for `{first}` needs `lever_start_year` under [run], a year from 1900 to 2300 such as 2026"
            ),
        })?;
    for key in pending {
        let unplaced = |message: String| Unplaced {
            key: key.clone(),
            message,
        };
        let (parent, leaf) = key.rsplit_once('.').unwrap_or(("", &key));
        let parent = table_at(table, parent);
        let Some(Value::Table(slot)) = parent.remove(leaf) else {
            unreachable!("found above")
        };
        let Some(Value::Table(mut slot)) = slot.into_iter().next().map(|(_, v)| v) else {
            unreachable!("a pending lever holds one table")
        };
        let (Some(series), Some(lever)) = (slot.remove("series"), slot.remove("lever")) else {
            unreachable!("a pending lever holds its series and its lever")
        };
        let base: Series = series
            .try_into()
            .map_err(|e| unplaced(format!("the series it changes does not read: {e}")))?;
        let lever = Lever::from_value(&lever)
            .expect("only numbers and strings are kept pending")
            .map_err(|why| unplaced(format!("{why}; write {}", forms(Some(start)))))?;
        let placed = lever.apply(&base, start).map_err(unplaced)?;
        parent.insert(
            leaf.into(),
            Value::try_from(&placed).expect("a series serializes"),
        );
    }
    Ok(())
}

/// The table at a dotted path of tables (`""`: `table` itself).
fn table_at<'a>(table: &'a mut Table, path: &str) -> &'a mut Table {
    if path.is_empty() {
        return table;
    }
    path.split('.')
        .fold(table, |t, part| match t.get_mut(part) {
            Some(Value::Table(inner)) => inner,
            _ => unreachable!("a pending lever's sections are tables"),
        })
}

fn find_pending(table: &Table, prefix: &str, out: &mut Vec<String>) {
    for (k, v) in table {
        let path = if prefix.is_empty() {
            k.clone()
        } else {
            format!("{prefix}.{k}")
        };
        if let Value::Table(t) = v {
            if is_pending(t) {
                out.push(path);
            } else {
                find_pending(t, &path, out);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lever(text: &str) -> Lever {
        Lever::parse(text).unwrap()
    }

    fn baseline_like() -> Series {
        Series(vec![(2015, 30.0), (2018, 30.0), (2019, 0.0)])
    }

    #[test]
    fn a_number_is_a_level_from_the_start_year_and_the_series_before_it_is_kept() {
        let base = Series(vec![(2015, 10.0), (2035, 30.0)]);
        let s = lever("100").apply(&base, 2026).unwrap();
        for year in 2010..2026 {
            assert_eq!(s.at(year), base.at(year), "{year}");
        }
        for year in 2026..2050 {
            assert_eq!(s.at(year), 100.0, "{year}");
        }
    }

    #[test]
    fn a_number_given_as_toml_is_the_same_lever_as_its_text() {
        let from_int = Lever::from_value(&Value::Integer(30000)).unwrap().unwrap();
        let from_float = Lever::from_value(&Value::Float(30000.0)).unwrap().unwrap();
        assert_eq!(from_int, lever("30000"));
        assert_eq!(from_float, lever("30_000"));
        assert!(Lever::from_value(&Value::Boolean(true)).is_none());
    }

    #[test]
    fn one_point_with_a_year_is_a_ramp_from_the_year_before_the_start() {
        // The scenario files' [[2025, 0], [2035, 15000]], year by year.
        let scenario = Series(vec![(2025, 0.0), (2035, 15000.0)]);
        let s = lever("15000@2035")
            .apply(&Series(vec![(2015, 0.0)]), 2026)
            .unwrap();
        for year in 2010..2045 {
            assert_eq!(s.at(year).to_bits(), scenario.at(year).to_bits(), "{year}");
        }
        assert_eq!(s.at(2026), 1500.0);
    }

    #[test]
    fn a_ramp_joins_its_points_and_holds_the_last() {
        let s = lever("0@2026..30000@2030..20000@2035")
            .apply(&baseline_like(), 2026)
            .unwrap();
        assert_eq!(s.at(2016), 30.0);
        assert_eq!(s.at(2025), 0.0);
        assert_eq!(s.at(2026), 0.0);
        assert_eq!(s.at(2028), 15000.0);
        assert_eq!(s.at(2030), 30000.0);
        assert_eq!(s.at(2035), 20000.0);
        assert_eq!(s.at(2040), 20000.0);
        // The first point may leave out its year: the start year.
        assert_eq!(
            lever("0..30000@2030").apply(&baseline_like(), 2026),
            lever("0@2026..30000@2030").apply(&baseline_like(), 2026)
        );
    }

    #[test]
    fn the_start_year_moves_every_lever_and_before_the_run_a_level_holds_throughout() {
        let base = Series(vec![(2015, 0.01), (2025, 0.03)]);
        let late = lever("0.05").apply(&base, 2030).unwrap();
        assert_eq!(late.at(2029), 0.03);
        assert_eq!(late.at(2030), 0.05);
        let whole = lever("0.05").apply(&base, 2015).unwrap();
        for year in 2015..2036 {
            assert_eq!(whole.at(year), 0.05, "{year}");
        }
    }

    #[test]
    fn bad_levers_say_what_is_wrong_and_how_to_write_one() {
        for (text, says) in [
            ("abc", "`abc` is not a number"),
            ("", "`` is not a number"),
            ("0@2026-3@2030", "join points with `..`"),
            ("0@twenty", "`twenty` after `@` is not a year"),
            ("0@2026..30000", "every point after the first is VALUE@YEAR"),
            ("1e400", "is not a number"),
        ] {
            let e = Lever::parse(text).unwrap_err();
            assert!(e.contains(says), "{text}: {e}");
        }
        let base = Series(vec![(2015, 0.0)]);
        let early = lever("5@2020").apply(&base, 2026).unwrap_err();
        assert!(
            early.contains("before run.lever_start_year (2026)")
                && early.contains("set run.lever_start_year=2020"),
            "{early}"
        );
        let backwards = lever("0@2030..5@2028").apply(&base, 2026).unwrap_err();
        assert!(backwards.contains("2028 follows 2030"), "{backwards}");
        let forms = forms(Some(2026));
        assert!(forms.contains("0@2026..30000@2030") && forms.contains("[[year, value], ...]"));
    }

    #[test]
    fn a_lever_given_for_a_series_waits_for_the_start_year_and_other_values_replace() {
        let series: Value = "v = [[2015, 1.0]]".parse::<Table>().unwrap()["v"].clone();
        let pending = assign(Some(&series), Value::Integer(5));
        let Value::Table(t) = &pending else {
            panic!("{pending:?}")
        };
        assert!(is_pending(t));
        // A second lever over a pending one changes the same series.
        let again = assign(Some(&pending), Value::String("7@2030".into()));
        let Value::Table(t2) = &again else { panic!() };
        assert_eq!(t2[PENDING]["series"], series);
        // A list of numbers is no series; a whole series replaces a pending lever.
        let list = Value::Array(vec![Value::Float(0.5), Value::Float(0.5)]);
        assert_eq!(assign(Some(&list), Value::Integer(1)), Value::Integer(1));
        assert_eq!(assign(Some(&pending), series.clone()), series);

        let mut table: Table = "[run]\nlever_start_year = 2030\n[policy]\n"
            .parse()
            .unwrap();
        table["policy"]
            .as_table_mut()
            .unwrap()
            .insert("x".into(), again);
        resolve(&mut table).map_err(|u| u.message).unwrap();
        // A start year out of range is named, not overflowed.
        let mut far: Table = "[run]\nlever_start_year = -2147483648\n[policy]\n"
            .parse()
            .unwrap();
        far["policy"]
            .as_table_mut()
            .unwrap()
            .insert("x".into(), assign(Some(&series), Value::Integer(1)));
        let e = resolve(&mut far).map_err(|u| u.key).expect_err("refused");
        assert_eq!(e, "run.lever_start_year");
        let placed: Series = table["policy"]["x"].clone().try_into().unwrap();
        assert_eq!(placed, Series(vec![(2015, 1.0), (2029, 1.0), (2030, 7.0)]));
    }

    #[test]
    fn a_range_is_found_in_one_value_or_year_of_a_lever() {
        assert_eq!(
            split_range("0:40000:5").unwrap(),
            Some(("", "0:40000:5", ""))
        );
        assert_eq!(
            split_range("0:40000:5@2035").unwrap(),
            Some(("", "0:40000:5", "@2035"))
        );
        assert_eq!(
            split_range("0@2026..30000@2028:2034:4").unwrap(),
            Some(("0@2026..30000@", "2028:2034:4", ""))
        );
        assert_eq!(
            split_range("-2.2:-1.2").unwrap(),
            Some(("", "-2.2:-1.2", ""))
        );
        assert_eq!(split_range("0.1,0.2").unwrap(), None);
        assert_eq!(split_range("5000@2030,10000@2035").unwrap(), None);
        assert!(split_range("0:1:2@2030:2035:2").is_err());
    }

    #[test]
    fn the_varying_number_of_swept_levers_is_their_axis() {
        assert_eq!(varying_numbers(&["0", "1e4"]), Some(vec![0.0, 10000.0]));
        assert_eq!(
            varying_numbers(&["0@2035", "10000@2035"]),
            Some(vec![0.0, 10000.0])
        );
        assert_eq!(
            varying_numbers(&["0@2026..5@2030", "0@2026..5@2034"]),
            Some(vec![2030.0, 2034.0])
        );
        assert_eq!(varying_numbers(&["0@2030", "5@2035"]), None);
    }
}
