//! Drawing a `Figure` as an SVG string with plotters' SVG backend. Text is written as
//! `<text>` elements for the browser to set, so no font file is read (plotters is built
//! without `ttf`, and its layout uses a width estimate). Ticks are chosen here, not by
//! plotters, so every axis gets round numbers in one unit (1.2M, 750k, 25%).

use anyhow::anyhow;
use plotters::coord::Shift;
use plotters::coord::ranged1d::{DefaultFormatting, KeyPointHint, Ranged};
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use std::ops::Range;

use super::charts::{Figure, Lines, MarkerKind, Panel, Pyramid, Stacked, Xy};

/// Width of every figure in SVG pixels; the page scales it to the column width.
pub const WIDTH: u32 = 1100;
const FONT: &str = "sans-serif";
const INK: RGBColor = RGBColor(0x22, 0x22, 0x22);
const MUTED: RGBColor = RGBColor(0x77, 0x77, 0x77);
const GRID: RGBColor = RGBColor(0xE4, 0xE4, 0xE4);

type Area<'a> = DrawingArea<SVGBackend<'a>, Shift>;
type Result<T> = anyhow::Result<T>;

fn err<E: std::error::Error + Send + Sync>(e: DrawingAreaErrorKind<E>) -> anyhow::Error {
    anyhow!("drawing a chart: {e}")
}

/// A linear axis whose grid lines and labels sit exactly on `ticks`.
#[derive(Clone)]
struct Axis {
    range: Range<f64>,
    ticks: Vec<f64>,
}

impl Axis {
    fn new(range: Range<f64>, ticks: Vec<f64>) -> Self {
        Axis { range, ticks }
    }
}

impl Ranged for Axis {
    type ValueType = f64;
    type FormatOption = DefaultFormatting;

    fn map(&self, v: &f64, limit: (i32, i32)) -> i32 {
        let span = self.range.end - self.range.start;
        let t = if span > 0.0 {
            (v - self.range.start) / span
        } else {
            0.5
        };
        limit.0 + (f64::from(limit.1 - limit.0) * t).round() as i32
    }

    fn key_points<H: KeyPointHint>(&self, hint: H) -> Vec<f64> {
        if hint.weight().allow_light_points() {
            Vec::new()
        } else {
            self.ticks.clone()
        }
    }

    fn range(&self) -> Range<f64> {
        self.range.clone()
    }
}

/// A text style of `px` CSS pixels (plotters writes `size / 1.24` as the SVG font size).
fn font(px: f64) -> TextStyle<'static> {
    (FONT, px * 1.24).into_font().color(&INK)
}

/// The figure as a standalone `<svg>` element.
pub fn figure_svg(fig: &Figure) -> Result<String> {
    let columns = fig.columns.max(1);
    let rows = fig.panels.len().div_ceil(columns).max(1);
    let height = fig.panel_height * rows as u32;
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (WIDTH, height)).into_drawing_area();
        root.fill(&WHITE).map_err(err)?;
        let cells = root.split_evenly((rows, columns));
        for (panel, cell) in fig.panels.iter().zip(&cells) {
            match panel {
                Panel::Lines(p) => draw_lines(cell, p)?,
                Panel::Xy(p) => draw_xy(cell, p)?,
                Panel::Stacked(p) => draw_stacked(cell, p)?,
                Panel::Pyramid(p) => draw_pyramid(cell, p)?,
            }
        }
        root.present().map_err(err)?;
    }
    Ok(svg)
}

/// `&`, `<`, `>` and `"` as XML entities.
fn xml(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// The figure as a file of its own, to travel without the page: its title, a line naming
/// the scenario and seeds, the figure, and a source line at the foot.
pub fn standalone_svg(fig: &Figure, about: &str, source: &str) -> Result<String> {
    let inner = figure_svg(fig)?;
    let inner_height = {
        let columns = fig.columns.max(1);
        fig.panel_height * fig.panels.len().div_ceil(columns).max(1) as u32
    };
    let (top, foot) = (64, 34);
    let height = inner_height + top + foot;
    let inner = inner.replacen("<svg ", &format!("<svg x=\"0\" y=\"{top}\" "), 1);
    Ok(format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\
         <svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{WIDTH}\" height=\"{height}\" \
         viewBox=\"0 0 {WIDTH} {height}\" font-family=\"{FONT}\">\n\
         <title>{t}</title>\n<desc>{about}. {source}</desc>\n\
         <rect width=\"{WIDTH}\" height=\"{height}\" fill=\"#ffffff\"/>\n\
         <text x=\"16\" y=\"28\" font-size=\"21\" font-weight=\"bold\" fill=\"#222222\">{t}</text>\n\
         <text x=\"16\" y=\"52\" font-size=\"14\" fill=\"#555555\">{about}</text>\n\
         {inner}\n\
         <text x=\"16\" y=\"{sy}\" font-size=\"12\" fill=\"#555555\">{source}</text>\n</svg>\n",
        t = xml(&fig.title),
        about = xml(about),
        source = xml(source),
        sy = height - 12,
    ))
}

/// What a legend entry shows before its label.
enum Swatch {
    Line(RGBColor),
    /// A median line on its 5-95% band.
    Fan(RGBColor),
    Fill(RGBColor),
    /// A point of the article with its tolerance.
    Target,
    /// A range the article puts the maximum in.
    Span,
}

struct Entry {
    label: String,
    swatch: Swatch,
}

const LEGEND_TOP: i32 = 36;
const LEGEND_ROW: i32 = 20;

/// Draw the panel's title and legend at its top; returns the area left for the plot.
fn header<'a>(cell: &Area<'a>, title: &str, entries: &[Entry]) -> Result<Area<'a>> {
    let (width, _) = cell.dim_in_pixel();
    let x0 = 16;
    let (mut x, mut row) = (x0, 0);
    let mut placed = Vec::new();
    for e in entries {
        // A generous estimate of the label's width at 13 px.
        let w = 30 + (e.label.chars().count() as f64 * 13.0 * 0.56).ceil() as i32;
        if x > x0 && x + w > width as i32 - 12 {
            row += 1;
            x = x0;
        }
        placed.push((x, LEGEND_TOP + row * LEGEND_ROW + 8));
        x += w + 18;
    }
    let legend_rows = if entries.is_empty() { 0 } else { row + 1 };
    let height = LEGEND_TOP + legend_rows * LEGEND_ROW + 6;
    let (top, rest) = cell.split_vertically(height);
    let bold = (FONT, 15.5 * 1.24)
        .into_font()
        .style(FontStyle::Bold)
        .color(&INK)
        .pos(Pos::new(HPos::Left, VPos::Top));
    top.draw(&Text::new(title.to_string(), (x0, 12), bold))
        .map_err(err)?;
    let label_style = font(13.0).pos(Pos::new(HPos::Left, VPos::Center));
    for (e, &(x, y)) in entries.iter().zip(&placed) {
        draw_swatch(&top, &e.swatch, x, y)?;
        top.draw(&Text::new(
            e.label.clone(),
            (x + 30, y),
            label_style.clone(),
        ))
        .map_err(err)?;
    }
    Ok(rest)
}

fn draw_swatch(area: &Area, swatch: &Swatch, x: i32, y: i32) -> Result<()> {
    let line = |c: &RGBColor| PathElement::new(vec![(x, y), (x + 24, y)], c.stroke_width(3));
    match swatch {
        Swatch::Line(c) => area.draw(&line(c)).map_err(err)?,
        Swatch::Fan(c) => {
            area.draw(&Rectangle::new(
                [(x, y - 7), (x + 24, y + 7)],
                c.mix(0.2).filled(),
            ))
            .map_err(err)?;
            area.draw(&line(c)).map_err(err)?;
        }
        Swatch::Fill(c) => area
            .draw(&Rectangle::new(
                [(x + 5, y - 7), (x + 19, y + 7)],
                c.filled(),
            ))
            .map_err(err)?,
        Swatch::Target => {
            let c = x + 12;
            area.draw(&PathElement::new(
                vec![(c, y - 8), (c, y + 8)],
                INK.stroke_width(2),
            ))
            .map_err(err)?;
            for yy in [y - 8, y + 8] {
                area.draw(&PathElement::new(
                    vec![(c - 4, yy), (c + 4, yy)],
                    INK.stroke_width(2),
                ))
                .map_err(err)?;
            }
            area.draw(&diamond(c, y, 6, &INK)).map_err(err)?;
        }
        Swatch::Span => {
            area.draw(&Rectangle::new(
                [(x, y - 7), (x + 24, y + 7)],
                INK.mix(0.08).filled(),
            ))
            .map_err(err)?;
            area.draw(&Rectangle::new(
                [(x, y - 7), (x + 24, y + 7)],
                INK.mix(0.45).stroke_width(1),
            ))
            .map_err(err)?;
            area.draw(&PathElement::new(
                vec![(x, y), (x + 24, y)],
                INK.stroke_width(2),
            ))
            .map_err(err)?;
        }
    }
    Ok(())
}

fn diamond(x: i32, y: i32, r: i32, color: &RGBColor) -> Polygon<(i32, i32)> {
    Polygon::new(
        vec![(x, y - r), (x + r, y), (x, y + r), (x - r, y)],
        color.filled(),
    )
}

/// Round tick values from `low` to at least `high`, about `count` of them.
pub fn nice_ticks(low: f64, high: f64, count: usize) -> Vec<f64> {
    let high = if high > low { high } else { low + 1.0 };
    let raw = (high - low) / count.max(1) as f64;
    let magnitude = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 2.5, 5.0, 10.0]
        .iter()
        .map(|m| m * magnitude)
        .find(|s| *s >= raw * 0.999)
        .unwrap_or(10.0 * magnitude);
    let first = (low / step).floor();
    let last = (high / step - 1e-9).ceil();
    (0..=(last - first) as usize)
        .map(|i| (first + i as f64) * step)
        .collect()
}

/// Decimals needed to write multiples of `step` exactly (at most 3).
fn decimals(step: f64) -> usize {
    (0..=3)
        .find(|&d| {
            let x = step * 10f64.powi(d as i32);
            (x - x.round()).abs() < 1e-6 * x.abs().max(1.0)
        })
        .unwrap_or(3)
}

/// `1234567.8` → `1,234,568` (with `decimals` places).
pub fn thousands(v: f64, decimals: usize) -> String {
    let s = format!("{:.*}", decimals, v.abs());
    let (int, frac) = s.split_once('.').map_or((s.as_str(), ""), |(i, f)| (i, f));
    let mut out = String::new();
    for (i, ch) in int.chars().enumerate() {
        if i > 0 && (int.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(ch);
    }
    if !frac.is_empty() {
        out.push('.');
        out.push_str(frac);
    }
    if v < 0.0 && s.chars().any(|c| c.is_ascii_digit() && c != '0') {
        out.insert(0, '-');
    }
    out
}

/// Tick labels of one axis: `0, 250k, 500k, 750k, 1M, 1.25M` on large axes, `9,000` or
/// `2.5` on smaller ones, `25%` on shares.
fn tick_formatter(ticks: &[f64], percent: bool) -> impl Fn(&f64) -> String + use<> {
    let step = if ticks.len() > 1 {
        ticks[1] - ticks[0]
    } else {
        1.0
    };
    let max = ticks.iter().fold(0.0f64, |m, t| m.max(t.abs()));
    let d = decimals(step);
    move |v: &f64| {
        if v.abs() < step * 1e-6 {
            return if percent { "0%".into() } else { "0".into() };
        }
        if percent {
            format!("{}%", thousands(*v, d))
        } else if max >= 1e5 {
            compact(*v)
        } else {
            thousands(*v, d)
        }
    }
}

/// A bound as a marker's note shows it: `25%` on a share axis, else compact.
fn short(v: f64, percent: bool) -> String {
    if percent {
        format!("{}%", compact(v))
    } else {
        compact(v)
    }
}

/// `1250000` → `1.25M`, `750000` → `750k`, `2500` → `2.5k`.
pub fn compact(v: f64) -> String {
    let trim = |s: String| {
        if s.contains('.') {
            s.trim_end_matches('0').trim_end_matches('.').to_string()
        } else {
            s
        }
    };
    if v.abs() >= 1e6 {
        trim(format!("{:.2}", v / 1e6)) + "M"
    } else if v.abs() >= 1e3 {
        trim(format!("{:.1}", v / 1e3)) + "k"
    } else {
        trim(format!("{v:.1}"))
    }
}

/// Every 1, 2, 5 or 10 years, on round years.
fn year_ticks((first, last): (i32, i32)) -> Vec<f64> {
    let span = last - first;
    let step = match span {
        s if s > 30 => 10,
        s if s > 12 => 5,
        s if s > 6 => 2,
        _ => 1,
    };
    let start = first.div_euclid(step) * step;
    (0..)
        .map(|i| start + i * step)
        .take_while(|y| *y <= last)
        .filter(|y| *y >= first)
        .map(f64::from)
        .collect()
}

/// The plot area's chart: years across, `y_ticks` up the side, grid and axis labels.
fn year_chart<'a, 'b>(
    plot: &'b Area<'a>,
    years: (i32, i32),
    y_ticks: Vec<f64>,
    y_label: &str,
    percent: bool,
) -> Result<ChartContext<'b, SVGBackend<'a>, Cartesian2d<Axis, Axis>>> {
    let x_range = (years.0 as f64 - 0.6)..(years.1 as f64 + 0.6);
    let y_range = y_ticks[0]..y_ticks[y_ticks.len() - 1];
    let y_fmt = tick_formatter(&y_ticks, percent);
    let mut chart = ChartBuilder::on(plot)
        .margin_left(10)
        .margin_right(22)
        .margin_top(6)
        .margin_bottom(8)
        .x_label_area_size(44)
        .y_label_area_size(84)
        .build_cartesian_2d(
            Axis::new(x_range, year_ticks(years)),
            Axis::new(y_range, y_ticks),
        )
        .map_err(err)?;
    chart
        .configure_mesh()
        .x_desc("year")
        .y_desc(y_label)
        .x_label_formatter(&|x| format!("{x:.0}"))
        .y_label_formatter(&y_fmt)
        .label_style(font(12.5).color(&MUTED))
        .axis_desc_style(font(13.0))
        .bold_line_style(GRID.stroke_width(1))
        .light_line_style(TRANSPARENT)
        .axis_style(MUTED.stroke_width(1))
        .draw()
        .map_err(err)?;
    Ok(chart)
}

fn draw_lines(cell: &Area, p: &Lines) -> Result<()> {
    let mut entries: Vec<Entry> = p
        .series
        .iter()
        .map(|s| Entry {
            label: s.label.clone(),
            swatch: if s.band {
                Swatch::Fan(s.color)
            } else {
                Swatch::Line(s.color)
            },
        })
        .collect();
    if p.targets
        .iter()
        .any(|m| matches!(m.kind, MarkerKind::At { .. }))
    {
        entries.push(Entry {
            label: "article's figure and tolerance".into(),
            swatch: Swatch::Target,
        });
    }
    if p.targets
        .iter()
        .any(|m| matches!(m.kind, MarkerKind::Span { .. }))
    {
        entries.push(Entry {
            label: "article's range for the peak".into(),
            swatch: Swatch::Span,
        });
    }
    let plot = header(cell, &p.title, &entries)?;

    let highs = p.series.iter().flat_map(|s| {
        s.points
            .iter()
            .map(move |(_, pt)| if s.band { pt.high.max(pt.mid) } else { pt.mid })
    });
    let lows = p.series.iter().flat_map(|s| {
        s.points
            .iter()
            .map(move |(_, pt)| if s.band { pt.low.min(pt.mid) } else { pt.mid })
    });
    // A fitted axis spans the data (and the article's figures); otherwise it starts at 0.
    let (data_min, data_max) = if p.fit {
        (
            lows.fold(f64::INFINITY, f64::min),
            highs.fold(f64::NEG_INFINITY, f64::max),
        )
    } else {
        (lows.fold(0.0f64, f64::min), highs.fold(0.0f64, f64::max))
    };
    let (data_min, data_max) = if data_min.is_finite() {
        (data_min, data_max)
    } else {
        (0.0, 1.0)
    };
    let reach = p.targets.iter().map(|m| m.value).fold(data_max, f64::max);
    let data_min = p.targets.iter().map(|m| m.value).fold(data_min, f64::min);
    // Tolerance bands extend the axis unless they are one-sided and open-ended.
    let band_max = p
        .targets
        .iter()
        .map(|m| m.high)
        .filter(|h| *h <= reach + (reach - data_min).abs() * 0.35)
        .fold(reach, f64::max);
    // Room above and below a fitted line, so it does not run along the frame.
    let pad = if p.fit {
        (band_max - data_min)
            .abs()
            .max(band_max.abs() * 1e-3)
            .max(1e-9)
            * 0.06
    } else {
        0.0
    };
    let (data_min, band_max) = (data_min - pad, band_max + pad);
    let y_ticks = nice_ticks(data_min, band_max, 5);
    let (y_lo, y_hi) = (y_ticks[0], y_ticks[y_ticks.len() - 1]);
    let mut chart = year_chart(&plot, p.years, y_ticks, &p.y_label, p.percent)?;
    let clamp = |v: f64| v.clamp(y_lo, y_hi);
    if y_lo < 0.0 && y_hi > 0.0 {
        // No effect: the zero line of a difference.
        let x = (p.years.0 as f64 - 0.6, p.years.1 as f64 + 0.6);
        chart
            .draw_series(std::iter::once(PathElement::new(
                vec![(x.0, 0.0), (x.1, 0.0)],
                MUTED.stroke_width(1),
            )))
            .map_err(err)?;
    }

    for s in p.series.iter().filter(|s| s.band) {
        let upper = s.points.iter().map(|(y, pt)| (*y as f64, clamp(pt.high)));
        let lower = s
            .points
            .iter()
            .rev()
            .map(|(y, pt)| (*y as f64, clamp(pt.low)));
        chart
            .draw_series(std::iter::once(Polygon::new(
                upper.chain(lower).collect::<Vec<_>>(),
                s.color.mix(0.18).filled(),
            )))
            .map_err(err)?;
    }
    for m in &p.targets {
        if let MarkerKind::Span { from, to } = m.kind {
            let (x0, x1) = (from as f64 - 0.4, to as f64 + 0.4);
            let rect = [(x0, clamp(m.low)), (x1, clamp(m.high))];
            let ink = m.color.unwrap_or(INK);
            chart
                .draw_series([
                    Rectangle::new(rect, ink.mix(0.08).filled()),
                    Rectangle::new(rect, ink.mix(0.5).stroke_width(1)),
                ])
                .map_err(err)?;
            chart
                .draw_series(std::iter::once(PathElement::new(
                    vec![(x0, clamp(m.value)), (x1, clamp(m.value))],
                    ink.stroke_width(2),
                )))
                .map_err(err)?;
        }
    }
    for s in &p.series {
        let points: Vec<(f64, f64)> = s
            .points
            .iter()
            .map(|(y, pt)| (*y as f64, clamp(pt.mid)))
            .collect();
        chart
            .draw_series(LineSeries::new(points.clone(), s.color.stroke_width(3)))
            .map_err(err)?;
        if points.len() < 3 {
            chart
                .draw_series(points.iter().map(|&c| Circle::new(c, 4, s.color.filled())))
                .map_err(err)?;
        }
    }
    for m in &p.targets {
        if let MarkerKind::At { year, offset } = m.kind {
            let x = year as f64 + offset;
            let (lo, hi) = (clamp(m.low), clamp(m.high));
            chart
                .draw_series(std::iter::once(PathElement::new(
                    vec![(x, lo), (x, hi)],
                    INK.stroke_width(2),
                )))
                .map_err(err)?;
            // A tolerance that runs off the axis (a one-sided target) ends in an arrow drawn
            // inside the plot, with the bound it stands for written beside it.
            for (y, bound, clipped, up) in [
                (lo, m.low, m.low < y_lo, -1),
                (hi, m.high, m.high > y_hi, 1),
            ] {
                let at = EmptyElement::at((x, y));
                if clipped {
                    let arrow = vec![(-6, 10 * up), (6, 10 * up), (0, 0)];
                    let note = Text::new(
                        format!("to {}", short(bound, p.percent)),
                        (8, 6 * up),
                        font(11.5)
                            .color(&MUTED)
                            .pos(Pos::new(HPos::Left, VPos::Center)),
                    );
                    chart
                        .draw_series(std::iter::once(
                            at + Polygon::new(arrow, INK.filled()) + note,
                        ))
                        .map_err(err)?;
                } else {
                    let cap = PathElement::new(vec![(-5, 0), (5, 0)], INK.stroke_width(2));
                    chart.draw_series(std::iter::once(at + cap)).map_err(err)?;
                }
            }
            chart
                .draw_series(std::iter::once(
                    EmptyElement::at((x, clamp(m.value)))
                        + diamond(0, 0, 9, &WHITE)
                        + diamond(0, 0, 7, &INK)
                        + diamond(0, 0, 5, &m.color.unwrap_or(INK)),
                ))
                .map_err(err)?;
        }
    }
    // Each figure's name beside it: left of a marker in the last years, else right; two
    // figures of the same year (dodged apart) one above the other.
    let last = p.years.1 as f64;
    for m in &p.targets {
        let (x, y, dodge) = match m.kind {
            MarkerKind::At { year, offset } => (year as f64 + offset, clamp(m.value), offset),
            MarkerKind::Span { from, .. } => (from as f64 - 0.4, clamp(m.high), 0.0),
        };
        let left = x > last - (last - p.years.0 as f64) * 0.2;
        let dy = if dodge > 0.0 { 14 } else { -14 };
        let (dx, h) = if left {
            (-12, HPos::Right)
        } else {
            (12, HPos::Left)
        };
        let label = Text::new(
            m.label.clone(),
            (dx, dy),
            font(11.5).color(&INK).pos(Pos::new(h, VPos::Center)),
        );
        chart
            .draw_series(std::iter::once(EmptyElement::at((x, y)) + label))
            .map_err(err)?;
    }
    Ok(())
}

fn draw_xy(cell: &Area, p: &Xy) -> Result<()> {
    let entries: Vec<Entry> = p
        .series
        .iter()
        .map(|s| Entry {
            label: s.label.clone(),
            swatch: if s.band && !p.scatter {
                Swatch::Fan(s.color)
            } else {
                Swatch::Line(s.color)
            },
        })
        .collect();
    let plot = header(cell, &p.title, &entries)?;
    let points = || p.series.iter().flat_map(|s| s.points.iter());
    let (mut x_lo, mut x_hi, mut y_lo, mut y_hi) = (
        f64::INFINITY,
        f64::NEG_INFINITY,
        f64::INFINITY,
        f64::NEG_INFINITY,
    );
    for pt in points() {
        let (a, b) = pt.x_range.unwrap_or((pt.x, pt.x));
        x_lo = x_lo.min(a.min(pt.x));
        x_hi = x_hi.max(b.max(pt.x));
        y_lo = y_lo.min(pt.y.low.min(pt.y.mid));
        y_hi = y_hi.max(pt.y.high.max(pt.y.mid));
    }
    if !x_lo.is_finite() {
        (x_lo, x_hi, y_lo, y_hi) = (0.0, 1.0, 0.0, 1.0);
    }
    if p.scatter {
        (x_lo, y_lo) = (x_lo.min(0.0), y_lo.min(0.0));
        // Room for the names right of the points.
        x_hi += (x_hi - x_lo) * 0.25;
    }
    let y_pad = (y_hi - y_lo).abs().max(y_hi.abs() * 1e-3).max(1e-9) * 0.06;
    let y_ticks = nice_ticks(y_lo - if p.scatter { 0.0 } else { y_pad }, y_hi + y_pad, 5);
    let x_ticks = nice_ticks(x_lo, x_hi, 6);
    let (ylo, yhi) = (y_ticks[0], y_ticks[y_ticks.len() - 1]);
    let (xlo, xhi) = (x_ticks[0], x_ticks[x_ticks.len() - 1]);
    let x_fmt = tick_formatter(&x_ticks, false);
    let y_fmt = tick_formatter(&y_ticks, p.percent);
    let mut chart = ChartBuilder::on(&plot)
        .margin_left(10)
        .margin_right(22)
        .margin_top(6)
        .margin_bottom(8)
        .x_label_area_size(44)
        .y_label_area_size(84)
        .build_cartesian_2d(
            Axis::new(xlo..xhi, x_ticks.clone()),
            Axis::new(ylo..yhi, y_ticks.clone()),
        )
        .map_err(err)?;
    chart
        .configure_mesh()
        .x_desc(p.x_label.as_str())
        .y_desc(p.y_label.as_str())
        .x_label_formatter(&x_fmt)
        .y_label_formatter(&y_fmt)
        .label_style(font(12.5).color(&MUTED))
        .axis_desc_style(font(13.0))
        .bold_line_style(GRID.stroke_width(1))
        .light_line_style(TRANSPARENT)
        .axis_style(MUTED.stroke_width(1))
        .draw()
        .map_err(err)?;
    let clamp = |v: f64| v.clamp(ylo, yhi);
    for s in &p.series {
        if p.scatter {
            for pt in &s.points {
                if let Some((a, b)) = pt.x_range {
                    let whisker = PathElement::new(
                        vec![(a.max(xlo), clamp(pt.y.mid)), (b.min(xhi), clamp(pt.y.mid))],
                        s.color.stroke_width(2),
                    );
                    chart.draw_series(std::iter::once(whisker)).map_err(err)?;
                }
                chart
                    .draw_series(std::iter::once(
                        EmptyElement::at((pt.x, clamp(pt.y.mid)))
                            + Circle::new((0, 0), 6, s.color.filled())
                            + Text::new(
                                pt.name.clone(),
                                (10, -10),
                                font(12.0)
                                    .color(&INK)
                                    .pos(Pos::new(HPos::Left, VPos::Center)),
                            ),
                    ))
                    .map_err(err)?;
            }
            continue;
        }
        if s.band {
            let upper = s.points.iter().map(|pt| (pt.x, clamp(pt.y.high)));
            let lower = s.points.iter().rev().map(|pt| (pt.x, clamp(pt.y.low)));
            chart
                .draw_series(std::iter::once(Polygon::new(
                    upper.chain(lower).collect::<Vec<_>>(),
                    s.color.mix(0.18).filled(),
                )))
                .map_err(err)?;
        }
        let line: Vec<(f64, f64)> = s.points.iter().map(|pt| (pt.x, clamp(pt.y.mid))).collect();
        chart
            .draw_series(LineSeries::new(line.clone(), s.color.stroke_width(3)))
            .map_err(err)?;
        chart
            .draw_series(line.iter().map(|&c| Circle::new(c, 4, s.color.filled())))
            .map_err(err)?;
    }
    Ok(())
}

fn draw_stacked(cell: &Area, p: &Stacked) -> Result<()> {
    let entries: Vec<Entry> = p
        .layers
        .iter()
        .map(|(label, color, _)| Entry {
            label: label.clone(),
            swatch: Swatch::Fill(*color),
        })
        .collect();
    let plot = header(cell, &p.title, &entries)?;
    let y_ticks = nice_ticks(0.0, p.y_max, 5);
    let mut chart = year_chart(&plot, p.years, y_ticks, &p.y_label, false)?;
    let mut base: std::collections::BTreeMap<i32, f64> = Default::default();
    for (_, color, values) in &p.layers {
        let bars: Vec<Rectangle<(f64, f64)>> = values
            .iter()
            .filter(|(_, v)| **v > 0.0)
            .map(|(&y, &v)| {
                let b = base.entry(y).or_insert(0.0);
                let rect = Rectangle::new(
                    [(y as f64 - 0.38, *b), (y as f64 + 0.38, *b + v)],
                    color.filled(),
                );
                *b += v;
                rect
            })
            .collect();
        chart.draw_series(bars).map_err(err)?;
    }
    Ok(())
}

fn draw_pyramid(cell: &Area, p: &Pyramid) -> Result<()> {
    let entries: Vec<Entry> = match p.shapes.as_slice() {
        [one] if one.filled => {
            let mut e = vec![
                Entry {
                    label: if one.ranges.is_some() {
                        "men (mean)".into()
                    } else {
                        "men".into()
                    },
                    swatch: Swatch::Fill(one.male_color),
                },
                Entry {
                    label: if one.ranges.is_some() {
                        "women (mean)".into()
                    } else {
                        "women".into()
                    },
                    swatch: Swatch::Fill(one.female_color),
                },
            ];
            if one.ranges.is_some() {
                e.push(Entry {
                    label: "5-95% of runs".into(),
                    swatch: Swatch::Line(INK),
                });
            }
            e
        }
        shapes => shapes
            .iter()
            .map(|s| Entry {
                label: s.label.clone(),
                swatch: Swatch::Line(s.male_color),
            })
            .collect(),
    };
    let plot = header(cell, &p.title, &entries)?;
    let half = nice_ticks(0.0, p.x_max, 2);
    let x_max = half[half.len() - 1];
    let x_ticks: Vec<f64> = half
        .iter()
        .rev()
        .map(|t| -t)
        .chain(half.iter().copied().skip(1))
        .collect();
    let x_fmt = tick_formatter(&half, false);
    let n = p.bands.len();
    let y_ticks: Vec<f64> = (0..n).map(|i| i as f64).collect();
    let bands = p.bands.clone();
    let y_fmt = move |y: &f64| {
        bands
            .get(y.round().max(0.0) as usize)
            .cloned()
            .unwrap_or_default()
    };
    let mut chart = ChartBuilder::on(&plot)
        .margin_left(6)
        .margin_right(20)
        .margin_top(18)
        .margin_bottom(8)
        .x_label_area_size(44)
        .y_label_area_size(48)
        .build_cartesian_2d(
            Axis::new(-x_max..x_max, x_ticks),
            Axis::new(-0.5..n as f64 - 0.5, y_ticks),
        )
        .map_err(err)?;
    chart
        .configure_mesh()
        .x_desc("people (men left, women right)")
        .x_label_formatter(&|x| x_fmt(&x.abs()))
        .y_label_formatter(&y_fmt)
        .label_style(font(11.5).color(&MUTED))
        .axis_desc_style(font(13.0))
        .bold_line_style(GRID.stroke_width(1))
        .light_line_style(TRANSPARENT)
        .disable_y_mesh()
        .axis_style(MUTED.stroke_width(1))
        .draw()
        .map_err(err)?;
    for s in &p.shapes {
        if s.filled {
            let bars = s.male.iter().enumerate().flat_map(|(i, m)| {
                let y = i as f64;
                let f = s.female[i];
                [
                    Rectangle::new([(-m, y - 0.42), (0.0, y + 0.42)], s.male_color.filled()),
                    Rectangle::new([(0.0, y - 0.42), (f, y + 0.42)], s.female_color.filled()),
                ]
            });
            chart.draw_series(bars).map_err(err)?;
            if let Some(ranges) = &s.ranges {
                // An ensemble's 5-95% range across runs, as a whisker on each bar.
                let whiskers = ranges.iter().enumerate().flat_map(|(i, (m, f))| {
                    let y = i as f64;
                    [(-m.0, -m.1), (f.0, f.1)]
                        .map(|(a, b)| PathElement::new(vec![(a, y), (b, y)], INK.stroke_width(2)))
                });
                chart.draw_series(whiskers).map_err(err)?;
            }
        } else {
            for (values, sign, color) in [
                (&s.male, -1.0, s.male_color),
                (&s.female, 1.0, s.female_color),
            ] {
                chart
                    .draw_series(std::iter::once(PathElement::new(
                        stairs(values, sign),
                        color.stroke_width(2),
                    )))
                    .map_err(err)?;
            }
        }
    }
    chart
        .draw_series(std::iter::once(PathElement::new(
            vec![(0.0, -0.5), (0.0, n as f64 - 0.5)],
            MUTED.stroke_width(1),
        )))
        .map_err(err)?;
    let side = |text: &str, x: f64, h: HPos| {
        Text::new(
            text.to_string(),
            (x, n as f64 - 0.5),
            font(12.0).color(&MUTED).pos(Pos::new(h, VPos::Bottom)),
        )
    };
    if !p.shapes.iter().all(|s| s.filled) {
        chart
            .draw_series([
                side("men", -x_max * 0.97, HPos::Left),
                side("women", x_max * 0.97, HPos::Right),
            ])
            .map_err(err)?;
    }
    Ok(())
}

/// The outline of one side of a pyramid: out to each band's count and back to the axis.
fn stairs(values: &[f64], sign: f64) -> Vec<(f64, f64)> {
    let mut points = vec![(0.0, -0.5)];
    for (i, v) in values.iter().enumerate() {
        points.push((sign * v, i as f64 - 0.5));
        points.push((sign * v, i as f64 + 0.5));
    }
    points.push((0.0, values.len() as f64 - 0.5));
    points
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticks_are_round_and_cover_the_range() {
        assert_eq!(
            nice_ticks(0.0, 970_000.0, 5),
            [0.0, 200_000.0, 400_000.0, 600_000.0, 800_000.0, 1_000_000.0]
        );
        assert_eq!(
            nice_ticks(0.0, 0.0, 5),
            [0.0, 0.2, 0.4, 0.6000000000000001, 0.8, 1.0]
        );
        let t = nice_ticks(0.0, 11_500.0, 5);
        assert_eq!(t.first(), Some(&0.0));
        assert!(*t.last().unwrap() >= 11_500.0);
    }

    #[test]
    fn tick_labels_share_one_unit() {
        let f = tick_formatter(&[0.0, 250_000.0, 500_000.0, 750_000.0, 1_000_000.0], false);
        assert_eq!(f(&250_000.0), "250k");
        assert_eq!(f(&1_000_000.0), "1M");
        assert_eq!(f(&1_250_000.0), "1.25M");
        let f = tick_formatter(&[0.0, 200_000.0, 400_000.0], false);
        assert_eq!(f(&200_000.0), "200k");
        let f = tick_formatter(&[0.0, 2_500.0, 5_000.0], false);
        assert_eq!(f(&2_500.0), "2,500");
        let f = tick_formatter(&[0.0, 2.5, 5.0], true);
        assert_eq!(f(&2.5), "2.5%");
        assert_eq!(f(&0.0), "0%");
    }

    #[test]
    fn thousands_separators() {
        assert_eq!(thousands(1_234_567.8, 0), "1,234,568");
        assert_eq!(thousands(-950.0, 0), "-950");
        assert_eq!(thousands(12.345, 2), "12.35");
    }

    #[test]
    fn year_ticks_fall_on_round_years() {
        assert_eq!(
            year_ticks((2015, 2035)),
            [2015.0, 2020.0, 2025.0, 2030.0, 2035.0]
        );
        assert_eq!(
            year_ticks((2015, 2020)),
            [2015.0, 2016.0, 2017.0, 2018.0, 2019.0, 2020.0]
        );
    }
}
