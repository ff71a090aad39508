//! Which charts a report draws, from which columns, and where the article's figures go.
//! A run gets lines, an ensemble fan charts (median line, 5-95% band), a comparison one
//! line per folder on shared axes (a panel of several metrics becomes one panel per
//! metric). The result is plain data (`Figure`); `svg.rs` draws it.

use plotters::style::RGBColor;
use std::collections::BTreeMap;

use super::data::{Folder, Point};
use super::effects::{OUTCOMES, Pairing, difference};
use crate::calibration::Targets;
use crate::calibration::targets::{How, Target};

/// A chart on the page: one SVG of one or more panels in a grid.
pub struct Figure {
    /// HTML id of the section, and of the SVG (`chart-<id>`).
    pub id: String,
    pub title: String,
    /// What to read in it, shown under the title.
    pub caption: String,
    pub columns: usize,
    pub panel_height: u32,
    pub panels: Vec<Panel>,
}

pub enum Panel {
    Lines(Lines),
    Xy(Xy),
    Stacked(Stacked),
    Pyramid(Pyramid),
}

/// Lines over years, with optional bands and the article's figures.
pub struct Lines {
    pub title: String,
    pub y_label: String,
    pub percent: bool,
    pub years: (i32, i32),
    pub series: Vec<Series>,
    pub targets: Vec<Marker>,
    /// Fit the value axis to the data (a comparison, a difference) rather than start it at 0.
    pub fit: bool,
}

pub struct Series {
    pub label: String,
    pub color: RGBColor,
    pub points: Vec<(i32, Point)>,
    /// Draw the 5-95% band (ensembles).
    pub band: bool,
}

/// One of the article's figures in the panel's units.
#[derive(Clone, Debug, PartialEq)]
pub struct Marker {
    pub kind: MarkerKind,
    pub value: f64,
    pub low: f64,
    pub high: f64,
    /// The series it belongs to, in a panel of several (otherwise drawn in black).
    pub color: Option<RGBColor>,
    /// The target's name, written beside it on the chart.
    pub label: String,
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum MarkerKind {
    /// A value in a year, with its tolerance; `offset` (in years) keeps two figures of the
    /// same year apart.
    At { year: i32, offset: f64 },
    /// The range the maximum over these years should lie in.
    Span { from: i32, to: i32 },
}

/// Values against a number other than the year: an outcome against a swept parameter
/// (lines with bands), or a scatter of named points with horizontal intervals (Morris μ*–σ).
pub struct Xy {
    pub title: String,
    pub x_label: String,
    pub y_label: String,
    pub percent: bool,
    pub series: Vec<XySeries>,
    /// Named points, not joined; both axes start at 0.
    pub scatter: bool,
}

pub struct XySeries {
    pub label: String,
    pub color: RGBColor,
    pub points: Vec<XyPoint>,
    /// Draw the vertical range `y.low..y.high` as a band (lines) or whisker (scatter).
    pub band: bool,
}

#[derive(Clone, Debug)]
pub struct XyPoint {
    pub x: f64,
    pub y: Point,
    /// A horizontal interval (a confidence interval on x).
    pub x_range: Option<(f64, f64)>,
    /// Written beside the point in a scatter.
    pub name: String,
}

/// Bars stacked by year.
pub struct Stacked {
    pub title: String,
    pub y_label: String,
    pub years: (i32, i32),
    /// Bottom layer first: label, colour, value per year.
    pub layers: Vec<(String, RGBColor, BTreeMap<i32, f64>)>,
    /// The top of the axis: the same for every panel of a figure, so they compare.
    pub y_max: f64,
}

/// An age pyramid: men to the left, women to the right.
pub struct Pyramid {
    pub title: String,
    /// Youngest first.
    pub bands: Vec<String>,
    /// The same for every pyramid of a figure, so they compare.
    pub x_max: f64,
    pub shapes: Vec<Shape>,
}

/// A low-high range.
pub type Range = (f64, f64);

pub struct Shape {
    pub label: String,
    /// Filled bars (a run) or an outline (one folder of a comparison).
    pub filled: bool,
    pub male_color: RGBColor,
    pub female_color: RGBColor,
    pub male: Vec<f64>,
    pub female: Vec<f64>,
    /// An ensemble's 5-95% range across runs per band (men, women), drawn as whiskers.
    pub ranges: Option<Vec<(Range, Range)>>,
}

// Okabe & Ito's palette (2008), told apart by the common colour blindnesses and dark enough
// for print; its pale yellow is replaced by a dark ochre and grey is kept for the quiet series.
const BLUE: RGBColor = RGBColor(0x00, 0x72, 0xB2);
const ORANGE: RGBColor = RGBColor(0xE6, 0x9F, 0x00);
const RED: RGBColor = RGBColor(0xD5, 0x5E, 0x00);
const TEAL: RGBColor = RGBColor(0x56, 0xB4, 0xE9);
const GREEN: RGBColor = RGBColor(0x00, 0x9E, 0x73);
const YELLOW: RGBColor = RGBColor(0x9A, 0x7B, 0x00);
const PURPLE: RGBColor = RGBColor(0xCC, 0x79, 0xA7);
const PINK: RGBColor = RGBColor(0x88, 0x44, 0x88);
const BROWN: RGBColor = RGBColor(0x8C, 0x51, 0x0A);
const GREY: RGBColor = RGBColor(0x66, 0x66, 0x66);
const COAL: RGBColor = RGBColor(0x33, 0x33, 0x33);

/// One colour per folder of a comparison, in order.
/// Colours for series that are not folders (parameters of a sensitivity analysis).
pub const SERIES_COLORS: [RGBColor; 8] = [BLUE, RED, GREEN, ORANGE, PURPLE, TEAL, BROWN, GREY];

pub const FOLDER_COLORS: [RGBColor; 10] = [
    GREY, BLUE, RED, GREEN, ORANGE, PURPLE, TEAL, BROWN, PINK, YELLOW,
];

/// A summary.csv column as the report shows it.
struct Metric {
    column: &'static str,
    /// In legends.
    label: &'static str,
    /// As a panel title when the metric stands alone.
    title: &'static str,
    color: RGBColor,
}

const fn m(
    column: &'static str,
    label: &'static str,
    title: &'static str,
    color: RGBColor,
) -> Metric {
    Metric {
        column,
        label,
        title,
        color,
    }
}

struct PanelSpec {
    title: &'static str,
    /// `{start}` becomes the first simulated year.
    y_label: &'static str,
    percent: bool,
    metrics: &'static [Metric],
}

const fn p(
    title: &'static str,
    y_label: &'static str,
    percent: bool,
    metrics: &'static [Metric],
) -> PanelSpec {
    PanelSpec {
        title,
        y_label,
        percent,
        metrics,
    }
}

struct FigureSpec {
    id: &'static str,
    title: &'static str,
    caption: &'static str,
    panels: &'static [PanelSpec],
}

const POPULATION: FigureSpec = FigureSpec {
    id: "population",
    title: "Population and its components",
    caption: "Residents on 31 December, and the year's births, deaths and migrants.",
    panels: &[
        p(
            "Population",
            "people",
            false,
            &[m("population", "population", "Population", BLUE)],
        ),
        p(
            "Births, deaths and migration",
            "people per year",
            false,
            &[
                m("births", "births", "Births", GREEN),
                m("deaths", "deaths", "Deaths", GREY),
                m("emigrants", "emigrants", "Emigrants", RED),
                m("immigrants", "immigrants", "Immigrants", BLUE),
            ],
        ),
    ],
};

const JOBS: FigureSpec = FigureSpec {
    id: "jobs",
    title: "Jobs by sector and unemployment",
    caption: "Residents employed in each sector on 31 December, and the unemployed as a share of the labour force.",
    panels: &[
        p(
            "Jobs by sector",
            "people employed",
            false,
            &[
                m("coal_jobs", "coal", "Coal jobs", COAL),
                m(
                    "jobs_other_resource",
                    "other resource",
                    "Other resource jobs",
                    BROWN,
                ),
                m(
                    "jobs_manufacturing",
                    "manufacturing",
                    "Manufacturing jobs",
                    BLUE,
                ),
                m("jobs_high_tech", "high-tech", "High-tech jobs", PURPLE),
                m("jobs_services", "services", "Services jobs", ORANGE),
                m("jobs_public", "public", "Public-sector jobs", GREEN),
            ],
        ),
        p(
            "Unemployment rate",
            "% of the labour force",
            true,
            &[m(
                "unemployment_rate",
                "unemployment rate",
                "Unemployment rate",
                RED,
            )],
        ),
    ],
};

const JOB_FLOWS: FigureSpec = FigureSpec {
    id: "job-flows",
    title: "Jobs created and new job seekers",
    caption: "Gross hires in the year against school leavers, graduates and separated workers looking for work.",
    panels: &[p(
        "Jobs created vs new job seekers",
        "people per year",
        false,
        &[
            m("jobs_created", "jobs created", "Jobs created", GREEN),
            m("new_job_seekers", "new job seekers", "New job seekers", RED),
        ],
    )],
};

const HOUSING: FigureSpec = FigureSpec {
    id: "housing",
    title: "House prices and transactions",
    caption: "The city price index (a 100 m² home costs 100 times it) and the homes bought in the year.",
    panels: &[
        p(
            "Price per m²",
            "yuan per m²",
            false,
            &[m("price_per_m2", "price per m²", "Price per m²", BLUE)],
        ),
        p(
            "Transactions",
            "dwellings sold per year",
            false,
            &[m("transactions", "transactions", "Transactions", ORANGE)],
        ),
    ],
};

const VACANCY: FigureSpec = FigureSpec {
    id: "vacancy",
    title: "Empty homes",
    caption: "Vacant dwellings (for sale or left empty) as a share of the stock, and the estates (residential complexes) with fewer than 40% of their homes occupied.",
    panels: &[
        p(
            "Vacancy rate",
            "% of dwellings",
            true,
            &[m("vacancy_rate", "vacancy rate", "Vacancy rate", RED)],
        ),
        p(
            "Estates under 40% occupied",
            "estates",
            false,
            &[m(
                "estates_below_40pct_occupancy",
                "estates under 40% occupied",
                "Estates under 40% occupied",
                BROWN,
            )],
        ),
    ],
};

const RETAIL: FigureSpec = FigureSpec {
    id: "retail",
    title: "Retail sales and incomes",
    caption: "Nominal retail sales as an index, and the mean income of employed residents (nominal yuan).",
    panels: &[
        p(
            "Retail sales index",
            "index, {start} = 100",
            false,
            &[m(
                "retail_sales_index",
                "retail sales index",
                "Retail sales index",
                TEAL,
            )],
        ),
        p(
            "Mean income of the employed",
            "yuan per year",
            false,
            &[m("mean_income", "mean income", "Mean income", GREEN)],
        ),
    ],
};

const SHARES: FigureSpec = FigureSpec {
    id: "shares",
    title: "Ageing, coal and industry",
    caption: "Old and young residents as shares of the population; the coal left in the ground and the resource and high-tech shares of secondary-sector jobs.",
    panels: &[
        p(
            "Ageing",
            "% of residents",
            true,
            &[
                m("share_65plus", "aged 65+", "Residents aged 65+", RED),
                m("share_0_14", "aged 0-14", "Residents aged 0-14", GREEN),
            ],
        ),
        p(
            "Coal and industry",
            "%",
            true,
            &[
                m(
                    "coal_reserve_share_of_peak",
                    "coal reserve (% of peak)",
                    "Coal reserve, % of the peak",
                    COAL,
                ),
                m(
                    "resource_share_of_secondary",
                    "resource jobs (% of secondary)",
                    "Resource share of secondary jobs",
                    BROWN,
                ),
                m(
                    "high_tech_share_of_secondary",
                    "high-tech jobs (% of secondary)",
                    "High-tech share of secondary jobs",
                    PURPLE,
                ),
            ],
        ),
    ],
};

/// Targets on a column the report does not draw, shown on one it does:
/// (target metric, drawn metric, factor). A 100 m² home is worth 100 × the price per m².
const ALIASES: [(&str, &str, f64); 1] = [("home_value_100m2", "price_per_m2", 0.01)];

/// The driver names of `emigration_drivers.csv` as the legend shows them.
pub fn driver_label(driver: &str) -> String {
    match driver {
        "job_loss" => "job loss".into(),
        "wages" => "wage gap".into(),
        "climate" => "cold climate".into(),
        "public_services" => "public services".into(),
        other => other.replace('_', " "),
    }
}

const DRIVER_COLORS: [RGBColor; 8] = [RED, ORANGE, BLUE, TEAL, GREEN, YELLOW, PURPLE, BROWN];
const MALE: RGBColor = BLUE;
const FEMALE: RGBColor = RED;

/// Every figure of the report, in page order. Figures the folders have no data for are
/// left out (`missing` names them).
pub fn figures(folders: &[Folder], targets: &Targets) -> (Vec<Figure>, Vec<String>) {
    let mut out = Vec::new();
    let mut missing = Vec::new();
    let mut push = |fig: Option<Figure>, what: &str| match fig {
        Some(f) => out.push(f),
        None => missing.push(what.to_string()),
    };
    if folders.len() > 1 {
        push(effects_figure(folders), "Effects against the first folder");
    }
    push(
        lines_figure(&POPULATION, folders, targets),
        POPULATION.title,
    );
    push(
        pyramids(folders),
        "Age pyramids (age_structure.csv: not kept by this folder's runs)",
    );
    push(
        drivers(folders),
        "Why emigrants left (emigration_drivers.csv: not kept by this folder's runs)",
    );
    for spec in [&JOBS, &JOB_FLOWS, &HOUSING, &VACANCY, &RETAIL, &SHARES] {
        push(lines_figure(spec, folders, targets), spec.title);
    }
    (out, missing)
}

/// Each scenario (every folder after the first) minus the first folder, one panel per
/// outcome of `effects::OUTCOMES`, on axes fitted to the differences.
fn effects_figure(folders: &[Folder]) -> Option<Figure> {
    let (base, others) = folders.split_first()?;
    let years = common_years(folders).filter(|(a, b)| a <= b)?;
    let mut pairings = Vec::new();
    let mut panels = Vec::new();
    for o in &OUTCOMES {
        let mut series = Vec::new();
        for (k, f) in others.iter().enumerate() {
            let Some(d) = difference(base, f, o.column, o.factor) else {
                continue;
            };
            let paired = matches!(d.pairing, Pairing::Paired(_));
            if !pairings.contains(&d.pairing) {
                pairings.push(d.pairing);
            }
            series.push(Series {
                label: if paired {
                    format!("{} (mean, 5-95% of paired runs)", f.label)
                } else {
                    f.label.clone()
                },
                color: FOLDER_COLORS[(k + 1) % FOLDER_COLORS.len()],
                points: d
                    .points
                    .range(years.0..=years.1)
                    .map(|(&y, p)| (y, *p))
                    .collect(),
                band: paired,
            });
        }
        if series.is_empty() {
            continue;
        }
        panels.push(Panel::Lines(Lines {
            title: format!("{}: difference from {}", o.title, base.label),
            y_label: o.unit.into(),
            percent: false,
            years,
            series,
            targets: Vec::new(),
            fit: true,
        }));
    }
    if panels.is_empty() {
        return None;
    }
    let mut caption = format!(
        "Each scenario minus {} in the same year: 0 means no effect. Axes are fitted to the differences.",
        base.label
    );
    for p in &pairings {
        caption += match p {
            Pairing::Runs => {
                " Two single runs: one difference a year (with the same seed, the difference is the policy's alone; with different seeds it includes seed noise)."
            }
            Pairing::Paired(_) => {
                " Ensembles on common seeds are paired run by run: the line is the mean of the paired differences, the band their 5-95% range (seed noise only)."
            }
            Pairing::Means => {
                " Folders without common seeds: the difference of the means across runs, without a band."
            }
        };
    }
    Some(Figure {
        id: "effects".into(),
        title: format!("Effects: difference from {}", base.label),
        caption,
        columns: 2,
        panel_height: 380,
        panels,
    })
}

/// The years every folder covers.
pub fn common_years(folders: &[Folder]) -> Option<(i32, i32)> {
    folders.iter().try_fold((i32::MIN, i32::MAX), |(a, b), f| {
        let (s, e) = f.years()?;
        Some((a.max(s), b.min(e)))
    })
}

fn lines_figure(spec: &FigureSpec, folders: &[Folder], targets: &Targets) -> Option<Figure> {
    let years = common_years(folders).filter(|(a, b)| a <= b)?;
    let compare = folders.len() > 1;
    let mut panels = Vec::new();
    for ps in spec.panels {
        let y_label = ps.y_label.replace("{start}", &years.0.to_string());
        // A comparison gives each metric its own panel, one line per folder.
        let groups: Vec<(&str, Vec<&Metric>)> = if compare && ps.metrics.len() > 1 {
            ps.metrics.iter().map(|m| (m.title, vec![m])).collect()
        } else {
            vec![(ps.title, ps.metrics.iter().collect())]
        };
        for (title, metrics) in groups {
            let factor = if ps.percent { 100.0 } else { 1.0 };
            let mut series = Vec::new();
            for metric in &metrics {
                for (i, f) in folders.iter().enumerate() {
                    let Some(s) = f.series(metric.column) else {
                        continue;
                    };
                    let points = s
                        .range(years.0..=years.1)
                        .map(|(&y, p)| {
                            (
                                y,
                                Point {
                                    mid: p.mid * factor,
                                    low: p.low * factor,
                                    high: p.high * factor,
                                },
                            )
                        })
                        .collect();
                    let (label, color) = if compare {
                        let label = if f.is_ensemble() {
                            format!("{} (median, 5-95%)", f.label)
                        } else {
                            f.label.clone()
                        };
                        (label, FOLDER_COLORS[i % FOLDER_COLORS.len()])
                    } else {
                        (metric.label.to_string(), metric.color)
                    };
                    series.push(Series {
                        label,
                        color,
                        points,
                        band: f.is_ensemble(),
                    });
                }
            }
            if series.is_empty() {
                continue;
            }
            let several = metrics.len() > 1;
            let mut markers: Vec<Marker> = metrics
                .iter()
                .flat_map(|metric| {
                    let color = several.then_some(metric.color);
                    markers(targets, metric.column, &folders[0], years, factor)
                        .into_iter()
                        .map(move |m| Marker { color, ..m })
                })
                .collect();
            dodge(&mut markers);
            panels.push(Panel::Lines(Lines {
                title: title.to_string(),
                y_label: y_label.clone(),
                percent: ps.percent,
                years,
                series,
                targets: markers,
                fit: compare,
            }));
        }
    }
    if panels.is_empty() {
        return None;
    }
    let columns = if panels.len() == 1 { 1 } else { 2 };
    Some(Figure {
        id: spec.id.into(),
        title: spec.title.to_string(),
        caption: spec.caption.to_string(),
        columns,
        panel_height: if columns == 1 { 420 } else { 360 },
        panels,
    })
}

/// The article's figures that bear on `metric`, in the panel's units (× `factor`). A
/// relative change or a difference between two years is drawn at the later year, measured
/// from `reference`'s value in the earlier one; a maximum over all years, at the year
/// `reference` peaks.
pub fn markers(
    targets: &Targets,
    metric: &str,
    reference: &Folder,
    years: (i32, i32),
    factor: f64,
) -> Vec<Marker> {
    let inside = |y: i32| (years.0..=years.1).contains(&y);
    let mut out = Vec::new();
    for t in &targets.target {
        let alias = if t.metric == metric {
            1.0
        } else if let Some((_, _, f)) = ALIASES
            .iter()
            .find(|(from, to, _)| *from == t.metric && *to == metric)
        {
            *f
        } else {
            continue;
        };
        let level = |q: f64| q * alias * factor;
        let marker = match t.how {
            How::At => t.year.filter(|y| inside(*y)).map(|year| Marker {
                kind: MarkerKind::At { year, offset: 0.0 },
                value: level(t.goal()),
                low: level(t.low),
                high: level(t.high),
                color: None,
                label: t.name.clone(),
            }),
            How::Max => {
                let [from, to] = match t.years {
                    Some(span) => span,
                    None => {
                        let peak = peak_year(reference, metric, years);
                        [peak, peak]
                    }
                };
                (inside(from) && inside(to)).then(|| Marker {
                    kind: MarkerKind::Span { from, to },
                    value: level(t.goal()),
                    low: level(t.low),
                    high: level(t.high),
                    color: None,
                    label: t.name.clone(),
                })
            }
            How::Change | How::Difference => relative_marker(t, metric, reference, alias, factor)
                .filter(|m| matches!(m.kind, MarkerKind::At { year, .. } if inside(year))),
            // A cohort's retention is not a point on any yearly series: it is in the table.
            How::Cohort => None,
        };
        out.extend(marker);
    }
    out
}

/// The year of a series' maximum (the first, if tied).
fn peak_year(folder: &Folder, metric: &str, years: (i32, i32)) -> i32 {
    folder
        .series(metric)
        .and_then(|s| {
            s.range(years.0..=years.1)
                .fold(None, |best: Option<(i32, f64)>, (&y, p)| match best {
                    Some((_, v)) if v >= p.mid => best,
                    _ => Some((y, p.mid)),
                })
        })
        .map_or(years.0, |(y, _)| y)
}

/// Spread figures that fall in the same year a little apart, so each stays visible.
fn dodge(markers: &mut [Marker]) {
    let years: Vec<Option<i32>> = markers
        .iter()
        .map(|m| match m.kind {
            MarkerKind::At { year, .. } => Some(year),
            MarkerKind::Span { .. } => None,
        })
        .collect();
    for (i, m) in markers.iter_mut().enumerate() {
        if let MarkerKind::At { year, offset } = &mut m.kind {
            let same: Vec<usize> = (0..years.len())
                .filter(|&j| years[j] == Some(*year))
                .collect();
            if same.len() > 1 {
                let k = same.iter().position(|&j| j == i).unwrap_or(0) as f64;
                *offset = (k - (same.len() - 1) as f64 / 2.0) * 0.9;
            }
        }
    }
}

fn relative_marker(
    t: &Target,
    metric: &str,
    reference: &Folder,
    alias: f64,
    factor: f64,
) -> Option<Marker> {
    let (from, to) = (t.from?, t.to?);
    let base = reference.get(metric, from)?.mid;
    // value(to) as a function of the target's quantity.
    let level = |q: f64| match t.how {
        How::Change => base * (1.0 + q),
        _ => base - q * alias,
    } * factor;
    let (a, b) = (level(t.low), level(t.high));
    Some(Marker {
        kind: MarkerKind::At {
            year: to,
            offset: 0.0,
        },
        value: level(t.goal()),
        low: a.min(b),
        high: a.max(b),
        color: None,
        label: t.name.clone(),
    })
}

/// Age pyramids for 2015, 2025 and 2035 (or the first, middle and last year at hand).
fn pyramids(folders: &[Folder]) -> Option<Figure> {
    let with_ages: Vec<(usize, &Folder)> = folders
        .iter()
        .enumerate()
        .filter(|(_, f)| !f.ages.is_empty())
        .collect();
    let (_, first) = with_ages.first()?;
    let available: Vec<i32> = first
        .ages
        .keys()
        .copied()
        .filter(|y| with_ages.iter().all(|(_, f)| f.ages.contains_key(y)))
        .collect();
    let mut years: Vec<i32> = [2015, 2025, 2035]
        .into_iter()
        .filter(|y| available.contains(y))
        .collect();
    if years.len() < 2 && available.len() >= 2 {
        let (a, b) = (available[0], available[available.len() - 1]);
        years = vec![a, available[available.len() / 2], b];
        years.dedup();
    }
    let bands: Vec<String> = first.ages[years.first()?]
        .iter()
        .map(|b| b.label.clone())
        .collect();
    let x_max = with_ages
        .iter()
        .flat_map(|(_, f)| years.iter().flat_map(|y| &f.ages[y]))
        .map(|b| {
            b.male_range
                .1
                .max(b.female_range.1)
                .max(b.male.max(b.female))
        })
        .fold(0.0, f64::max);
    let compare = with_ages.len() > 1 || folders.len() > 1;
    let panels = years
        .iter()
        .map(|y| {
            Panel::Pyramid(Pyramid {
                title: y.to_string(),
                bands: bands.clone(),
                x_max,
                shapes: with_ages
                    .iter()
                    .map(|(i, f)| {
                        let (male_color, female_color) = if compare {
                            let c = FOLDER_COLORS[i % FOLDER_COLORS.len()];
                            (c, c)
                        } else {
                            (MALE, FEMALE)
                        };
                        Shape {
                            label: f.label.clone(),
                            filled: !compare,
                            male_color,
                            female_color,
                            male: f.ages[y].iter().map(|b| b.male).collect(),
                            female: f.ages[y].iter().map(|b| b.female).collect(),
                            ranges: (f.structure_runs > 1).then(|| {
                                f.ages[y]
                                    .iter()
                                    .map(|b| (b.male_range, b.female_range))
                                    .collect()
                            }),
                        }
                    })
                    .collect(),
            })
        })
        .collect::<Vec<_>>();
    let mut caption = String::from(
        "Residents by five-year age band on 31 December: men to the left, women to the right, on the same scale in every year.",
    );
    if let [(_, f)] = with_ages.as_slice()
        && f.structure_runs > 1
    {
        caption += &format!(
            " Bars are the mean across {} runs, whiskers the 5-95% range.",
            f.structure_runs
        );
    }
    Some(Figure {
        id: "pyramids".into(),
        title: "Age pyramids".into(),
        caption,
        columns: panels.len(),
        panel_height: 460,
        panels,
    })
}

/// Emigrants by the main reason for leaving, stacked by year: one panel per folder. An
/// ensemble on its own gets one line per reason instead: the mean across runs with its
/// 5-95% band.
fn drivers(folders: &[Folder]) -> Option<Figure> {
    let years = common_years(folders)?;
    let caption = "Each emigrant counted under the largest term of the decision that moved them (for a household, the head's decision).";
    if let [f] = folders
        && f.structure_runs > 1
    {
        let series = driver_order(f)
            .iter()
            .enumerate()
            .map(|(i, d)| Series {
                label: driver_label(d),
                color: DRIVER_COLORS[i % DRIVER_COLORS.len()],
                points: f
                    .drivers
                    .range(years.0..=years.1)
                    .map(|(&y, row)| {
                        let p = row
                            .iter()
                            .find(|(x, _)| x == d)
                            .map_or(Point::exact(0.0), |(_, p)| *p);
                        (y, p)
                    })
                    .collect(),
                band: true,
            })
            .collect();
        return Some(Figure {
            id: "drivers".into(),
            title: "Why people leave".into(),
            caption: format!(
                "{caption} Lines are the mean across {} runs, bands the 5-95% range.",
                f.structure_runs
            ),
            columns: 1,
            panel_height: 460,
            panels: vec![Panel::Lines(Lines {
                title: "Emigrants by main reason for leaving".into(),
                y_label: "emigrants per year".into(),
                percent: false,
                years,
                series,
                targets: Vec::new(),
                fit: false,
            })],
        });
    }
    let y_max = folders
        .iter()
        .flat_map(|f| f.drivers.range(years.0..=years.1))
        .map(|(_, row)| row.iter().map(|(_, n)| n.mid).sum::<f64>())
        .fold(0.0, f64::max);
    let mut panels = Vec::new();
    for f in folders.iter().filter(|f| !f.drivers.is_empty()) {
        let layers = driver_order(f)
            .iter()
            .enumerate()
            .map(|(i, d)| {
                let per_year = f
                    .drivers
                    .range(years.0..=years.1)
                    .map(|(&y, row)| {
                        let n = row.iter().find(|(x, _)| x == d).map_or(0.0, |(_, n)| n.mid);
                        (y, n)
                    })
                    .collect();
                (
                    driver_label(d),
                    DRIVER_COLORS[i % DRIVER_COLORS.len()],
                    per_year,
                )
            })
            .collect();
        panels.push(Panel::Stacked(Stacked {
            title: if folders.len() > 1 {
                format!("Emigrants by reason: {}", f.label)
            } else {
                "Emigrants by main reason for leaving".into()
            },
            y_label: "emigrants per year".into(),
            years,
            layers,
            y_max,
        }));
    }
    if panels.is_empty() {
        return None;
    }
    let columns = if panels.len() == 1 { 1 } else { 2 };
    let mean = folders.iter().any(|f| f.structure_runs > 1);
    Some(Figure {
        id: "drivers".into(),
        title: "Why people leave".into(),
        caption: if mean {
            format!("{caption} Ensembles: the mean across runs.")
        } else {
            caption.into()
        },
        columns,
        panel_height: if columns == 1 { 420 } else { 380 },
        panels,
    })
}

/// The drivers of a folder in file order.
fn driver_order(f: &Folder) -> Vec<String> {
    let mut order: Vec<String> = Vec::new();
    for row in f.drivers.values() {
        for (d, _) in row {
            if !order.contains(d) {
                order.push(d.clone());
            }
        }
    }
    order
}
