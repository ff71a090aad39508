//! The paragraph at the top of a page, written from the numbers it shows: how population,
//! prices and unemployment move, the main reasons people leave, and how far each scenario
//! moves the outcomes. Nothing in it is typed by hand but the sentence frames.

use super::charts::driver_label;
use super::data::Folder;
use super::effects::{OUTCOMES, difference};
use super::svg::thousands;

/// `value` as a signed percentage of `base`.
fn pct(value: f64, base: f64) -> String {
    if base == 0.0 {
        return "–".into();
    }
    let p = (value - base) / base * 100.0;
    format!("{}{:.1}%", if p < 0.0 { "−" } else { "+" }, p.abs())
}

fn rises(a: f64, b: f64) -> &'static str {
    if b > a * 1.005 {
        "rises"
    } else if b < a * 0.995 {
        "falls"
    } else {
        "stays about level"
    }
}

/// The middle value of a folder's metric (a run's value, an ensemble's median).
fn at(f: &Folder, metric: &str, year: i32) -> Option<f64> {
    Some(f.get(metric, year)?.mid)
}

/// The year and value of a series' highest point in `years`.
fn peak(f: &Folder, metric: &str, years: (i32, i32)) -> Option<(i32, f64)> {
    f.series(metric)?
        .range(years.0..=years.1)
        .fold(None, |best: Option<(i32, f64)>, (&y, p)| match best {
            Some((_, v)) if v >= p.mid => best,
            _ => Some((y, p.mid)),
        })
}

/// How one folder's outcomes move from its first year to its last.
pub fn trajectory(f: &Folder) -> Option<String> {
    let (a, b) = f.years()?;
    let mut s = String::new();
    let what = if f.is_ensemble() {
        " (medians across runs)"
    } else {
        ""
    };
    if let (Some(p0), Some(p1)) = (at(f, "population", a), at(f, "population", b)) {
        s += &format!(
            "From {a} to {b}{what} the population {} from {} to {} ({}).",
            rises(p0, p1),
            thousands(p0, 0),
            thousands(p1, 0),
            pct(p1, p0)
        );
    }
    if let (Some(x0), Some(x1)) = (at(f, "price_per_m2", a), at(f, "price_per_m2", b)) {
        s += &format!(
            " The price of housing {} from {} to {} yuan per m² ({})",
            rises(x0, x1),
            thousands(x0, 0),
            thousands(x1, 0),
            pct(x1, x0)
        );
        match peak(f, "price_per_m2", (a, b)) {
            Some((y, v)) if y != a && y != b => {
                s += &format!(", after a peak of {} in {y}.", thousands(v, 0));
            }
            _ => s += ".",
        }
    }
    if let (Some(u0), Some(u1)) = (at(f, "unemployment_rate", a), at(f, "unemployment_rate", b)) {
        s += &format!(
            " Unemployment {} from {:.1}% to {:.1}%",
            rises(u0, u1),
            u0 * 100.0,
            u1 * 100.0
        );
        match peak(f, "unemployment_rate", (a, b)) {
            Some((y, v)) if y != a && y != b && v > u0.max(u1) * 1.05 => {
                s += &format!(" (highest in {y}, {:.1}%).", v * 100.0);
            }
            _ => s += ".",
        }
    }
    if let Some(r) = reasons(f) {
        s += " ";
        s += &r;
    }
    (!s.is_empty()).then_some(s)
}

/// The main reasons people leave, as shares of all emigrants over the years drawn.
fn reasons(f: &Folder) -> Option<String> {
    let mut totals: Vec<(String, f64)> = Vec::new();
    for row in f.drivers.values() {
        for (d, p) in row {
            match totals.iter_mut().find(|(x, _)| x == d) {
                Some((_, t)) => *t += p.mid,
                None => totals.push((d.clone(), p.mid)),
            }
        }
    }
    let all: f64 = totals.iter().map(|(_, t)| t).sum();
    if all <= 0.0 {
        return None;
    }
    totals.sort_by(|a, b| b.1.total_cmp(&a.1));
    let top: Vec<String> = totals
        .iter()
        .take(3)
        .filter(|(_, t)| *t > 0.0)
        .map(|(d, t)| format!("{} ({:.0}%)", driver_label(d), t / all * 100.0))
        .collect();
    let list = match top.as_slice() {
        [] => return None,
        [one] => one.clone(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    };
    Some(format!(
        "The main reasons people leave are {list} of all emigrants{}.",
        if f.structure_runs > 1 {
            " (mean across runs)"
        } else {
            ""
        }
    ))
}

/// The page's opening paragraph.
pub fn paragraph(folders: &[Folder]) -> String {
    let Some((base, others)) = folders.split_first() else {
        return String::new();
    };
    let mut s = String::new();
    if !others.is_empty() {
        s += &format!("In {}: ", base.label);
    }
    s += &trajectory(base).unwrap_or_default();
    if others.is_empty() {
        return s;
    }
    let Some((_, end)) = super::charts::common_years(folders) else {
        return s;
    };
    let year = if (..=end).contains(&2035) && base.get("population", 2035).is_some() {
        2035
    } else {
        end
    };
    // (label, effect on population as a share, the sentence)
    let mut moves: Vec<(String, f64, String)> = Vec::new();
    for f in others {
        let mut parts = Vec::new();
        let mut pop_share = 0.0;
        for o in &OUTCOMES {
            let Some(d) = difference(base, f, o.column, o.factor) else {
                continue;
            };
            let Some(p) = d.points.get(&year) else {
                continue;
            };
            let rel = d.relative(year).unwrap_or(0.0);
            if o.column == "population" {
                pop_share = rel;
            }
            let sign = if p.mid < 0.0 { "−" } else { "+" };
            let text = match o.column {
                "population" => format!(
                    "the population by {sign}{} ({sign}{:.1}%)",
                    thousands(p.mid.abs(), 0),
                    rel.abs() * 100.0
                ),
                "unemployment_rate" => {
                    format!("unemployment by {sign}{:.2} points", p.mid.abs())
                }
                "price_per_m2" => format!("the price by {sign}{:.1}%", rel.abs() * 100.0),
                "emigrants" => format!(
                    "emigrants in the year by {sign}{}",
                    thousands(p.mid.abs(), 0)
                ),
                _ => continue,
            };
            parts.push(text);
        }
        if parts.is_empty() {
            continue;
        }
        let list = match parts.as_slice() {
            [one] => one.clone(),
            [init @ .., last] => format!("{} and {last}", init.join(", ")),
            [] => unreachable!(),
        };
        moves.push((
            f.label.clone(),
            pop_share,
            format!("{} changes {list}", f.label),
        ));
    }
    if moves.is_empty() {
        return s;
    }
    s += &format!(
        " Against {} in {year}, {}.",
        base.label,
        moves
            .iter()
            .map(|m| m.2.clone())
            .collect::<Vec<_>>()
            .join("; ")
    );
    if moves.len() > 1 {
        let most = moves
            .iter()
            .max_by(|a, b| a.1.abs().total_cmp(&b.1.abs()))
            .expect("moves is not empty");
        s += &format!(
            " {} moves the population most ({}{:.1}%).",
            most.0,
            if most.1 < 0.0 { "−" } else { "+" },
            most.1.abs() * 100.0
        );
    }
    s
}
