//! `shrinkcity report`: a finished run, an ensemble, or several folders side by side, drawn
//! as charts in one self-contained HTML page (inline CSS and SVG, no script, no network),
//! with a table of key figures and the article's targets. `data.rs` reads the folders,
//! `charts.rs` decides what to draw, `svg.rs` draws it; this file writes the page.

pub mod charts;
pub mod data;
pub mod svg;

use anyhow::Context;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use crate::calibration::Targets;
use crate::calibration::targets::{How, ReportRow, Target, report};
use charts::FOLDER_COLORS;
use data::{Folder, Point};
use svg::thousands;

/// What `report` is given.
#[derive(Clone, Debug)]
pub struct ReportOptions {
    /// A run folder, an ensemble folder, or several folders to compare (at least one).
    pub dirs: Vec<PathBuf>,
    /// The page to write. `None`: `dirs[0]/report.html`.
    pub out: Option<PathBuf>,
}

/// Draw the folders as one page; returns the page's path.
pub fn draw(opts: &ReportOptions) -> anyhow::Result<PathBuf> {
    write_report(&opts.dirs, opts.out.as_deref())
}

/// Draw `dirs` into `out` (default `dirs[0]/report.html`); returns the page's path.
pub fn write_report(dirs: &[PathBuf], out: Option<&Path>) -> anyhow::Result<PathBuf> {
    let first = dirs.first().context("report needs at least one folder")?;
    let folders = data::load_all(dirs)?;
    let targets = Targets::load(None)?;
    let html = page(&folders, &targets)?;
    let path = out.map_or_else(|| first.join("report.html"), Path::to_path_buf);
    crate::output::write_atomically(&path, html.as_bytes())?;
    Ok(path)
}

/// The whole page.
pub fn page(folders: &[Folder], targets: &Targets) -> anyhow::Result<String> {
    let (figures, missing) = charts::figures(folders, targets);
    let mut html = String::new();
    let title = match folders {
        [one] if one.is_ensemble() => format!("Ensemble {}", one.label),
        [one] => format!("Run {}", one.label),
        many => format!("Comparison of {} folders", many.len()),
    };
    write!(
        html,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>shrinkcity: {}</title>\n<style>{CSS}</style>\n</head>\n<body>\n<main>\n",
        esc(&title)
    )?;
    html += &header(folders, &title);
    html += "<nav><a href=\"#key-figures\">Key figures</a><a href=\"#targets\">The article's figures</a>";
    for f in &figures {
        write!(html, "<a href=\"#{}\">{}</a>", f.id, esc(&f.title))?;
    }
    html += "</nav>\n";
    html += &key_figures(folders);
    html += &targets_table(folders, targets);
    for f in &figures {
        let svg = svg::figure_svg(f)?;
        let svg = svg.replacen(
            "<svg ",
            &format!(
                "<svg class=\"chart\" id=\"chart-{}\" role=\"img\" aria-label=\"{}\" ",
                f.id,
                esc(&f.title)
            ),
            1,
        );
        write!(
            html,
            "<section class=\"figure\" id=\"{}\">\n<h2>{}</h2>\n<p class=\"caption\">{}</p>\n{svg}</section>\n",
            f.id,
            esc(&f.title),
            esc(&f.caption)
        )?;
    }
    if !missing.is_empty() {
        html += "<section id=\"not-drawn\"><h2>Not drawn</h2><p class=\"caption\">These charts need \
                 files the folders do not have (an ensemble keeps only each run's summary.csv):</p><ul>";
        for m in &missing {
            write!(html, "<li>{}</li>", esc(m))?;
        }
        html += "</ul></section>\n";
    }
    write!(
        html,
        "<footer>Drawn by <code>shrinkcity report</code> {} from {}. The article's figures \
         are the built-in <code>config/targets.toml</code>; every column is described in \
         docs/DATA.md.</footer>\n</main>\n</body>\n</html>\n",
        env!("CARGO_PKG_VERSION"),
        folders
            .iter()
            .map(|f| format!("<code>{}</code>", esc(&f.dir.display().to_string())))
            .collect::<Vec<_>>()
            .join(", ")
    )?;
    Ok(html)
}

const CSS: &str = "
:root { --ink: #222; --muted: #666; --line: #e2e2e2; --ok: #2e7d32; --bad: #c62828; }
* { box-sizing: border-box; }
body { margin: 0; background: #f3f3f1; color: var(--ink);
  font: 15px/1.5 system-ui, -apple-system, 'Segoe UI', Roboto, 'Liberation Sans', Arial, sans-serif; }
main { max-width: 1180px; margin: 0 auto; padding: 28px 28px 40px; }
h1 { font-size: 28px; margin: 0 0 4px; }
h2 { font-size: 20px; margin: 0 0 4px; }
p.sub { color: var(--muted); margin: 0; }
nav { display: flex; flex-wrap: wrap; gap: 4px 16px; margin: 14px 0 4px; font-size: 14px; }
nav a { color: #1f5fa8; text-decoration: none; }
nav a:hover { text-decoration: underline; }
section { background: #fff; border: 1px solid var(--line); border-radius: 6px;
  padding: 18px 22px; margin: 16px 0; }
p.caption { color: var(--muted); margin: 0 0 10px; font-size: 14px; }
svg.chart { display: block; width: 100%; height: auto; }
table { border-collapse: collapse; width: 100%; font-size: 14px; font-variant-numeric: tabular-nums; }
th, td { padding: 5px 10px; border-bottom: 1px solid var(--line); text-align: right; vertical-align: top; }
th:first-child, td:first-child { text-align: left; }
thead th { border-bottom: 2px solid #bbb; font-weight: 600; white-space: nowrap; }
td.ok b, .okmark { color: var(--ok); } td.bad b, .badmark { color: var(--bad); }
td.bad { background: #fdecea; }
td.ok, td.bad, td.nowrap { white-space: nowrap; }
td:first-child { min-width: 11em; }
.wide { overflow-x: auto; }
table.figures td.folder { text-align: left; white-space: nowrap; color: var(--muted); }
table.figures tr:not(.first) td { border-top: none; }
table.figures tr.first td { border-top: 1px solid #cfcfcf; }
table.figures td { border-bottom: none; padding-top: 3px; padding-bottom: 3px; }
table.figures tbody tr:last-child td { border-bottom: 1px solid var(--line); }
.range { color: var(--muted); font-size: 12px; }
p.legend { margin: 8px 0 0; }
td.na { color: var(--muted); }
.small { display: block; color: var(--muted); font-size: 12px; font-weight: normal; }
.swatch { display: inline-block; width: 12px; height: 12px; border-radius: 2px;
  margin-right: 6px; vertical-align: -1px; }
.tally { font-weight: 600; }
footer { color: var(--muted); font-size: 13px; margin-top: 20px; }
@media print { body { background: #fff; } section { break-inside: avoid; border: none; } nav { display: none; } }
";

/// `&`, `<`, `>` and `"` as entities.
pub fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn describe(f: &Folder) -> String {
    let mut parts = Vec::new();
    match f.meta.runs {
        Some(n) => parts.push(format!("{n} runs")),
        None => parts.push("one run".into()),
    }
    if let Some(c) = &f.meta.config_name {
        parts.push(format!("config <b>{}</b>", esc(c)));
    }
    if let Some(s) = f.meta.seed {
        parts.push(if f.is_ensemble() {
            format!("base seed {s}")
        } else {
            format!("seed {s}")
        });
    }
    if let Some(s) = f.meta.scale {
        parts.push(format!("scale {s}"));
    }
    if let Some((a, b)) = f.years() {
        parts.push(format!("{a}-{b}"));
    }
    if let Some(v) = &f.meta.version {
        parts.push(format!("shrinkcity {}", esc(v)));
    }
    parts.join(" · ")
}

fn header(folders: &[Folder], title: &str) -> String {
    let mut h = format!("<header>\n<h1>{}</h1>\n", esc(title));
    match folders {
        [one] => {
            h += &format!(
                "<p class=\"sub\">{} · folder <code>{}</code></p>\n",
                describe(one),
                esc(&one.dir.display().to_string())
            );
            if one.is_ensemble() {
                h += "<p class=\"sub\">Lines are medians across runs, bands the 5-95% range; \
                      the article's figures are compared with the mean across runs.</p>\n";
            }
        }
        many => {
            h += "<p class=\"sub\">One colour per folder, on the same axes. Ensembles are drawn \
                  as their median with the 5-95% band.</p>\n<table class=\"folders\">\n<tbody>\n";
            for (i, f) in many.iter().enumerate() {
                h += &format!(
                    "<tr><td>{}<b>{}</b></td><td style=\"text-align:left\">{}</td></tr>\n",
                    swatch(i),
                    esc(&f.label),
                    describe(f)
                );
            }
            h += "</tbody>\n</table>\n";
        }
    }
    h + "</header>\n"
}

fn swatch(i: usize) -> String {
    let c = FOLDER_COLORS[i % FOLDER_COLORS.len()];
    format!(
        "<span class=\"swatch\" style=\"background:#{:02x}{:02x}{:02x}\"></span>",
        c.0, c.1, c.2
    )
}

#[derive(Clone, Copy)]
enum Fmt {
    Count,
    Percent,
    Decimal,
}

const KEY_FIGURES: [(&str, &str, Fmt); 13] = [
    ("population", "Population", Fmt::Count),
    ("share_65plus", "Residents aged 65+", Fmt::Percent),
    ("median_age", "Median age (years)", Fmt::Decimal),
    ("emigrants", "Emigrants in the year", Fmt::Count),
    ("employed", "Employed", Fmt::Count),
    ("unemployment_rate", "Unemployment rate", Fmt::Percent),
    ("coal_jobs", "Coal jobs", Fmt::Count),
    ("mean_income", "Mean income (yuan per year)", Fmt::Count),
    ("price_per_m2", "Price (yuan per m²)", Fmt::Count),
    ("transactions", "Transactions", Fmt::Count),
    ("vacancy_rate", "Vacancy rate", Fmt::Percent),
    (
        "estates_below_40pct_occupancy",
        "Estates under 40% occupied",
        Fmt::Count,
    ),
    ("retail_sales_index", "Retail sales index", Fmt::Decimal),
];

fn fmt(v: f64, how: Fmt) -> String {
    if !v.is_finite() {
        return "–".into();
    }
    match how {
        Fmt::Count => thousands(v, 0),
        Fmt::Percent => format!("{:.1}%", v * 100.0),
        Fmt::Decimal => format!("{v:.1}"),
    }
}

/// 2015, 2025 and 2035 where every folder has them; otherwise first, middle and last.
fn table_years(folders: &[Folder]) -> Vec<i32> {
    let Some((a, b)) = folders.iter().try_fold((i32::MIN, i32::MAX), |(a, b), f| {
        let (s, e) = f.years()?;
        Some((a.max(s), b.min(e)))
    }) else {
        return Vec::new();
    };
    if a > b {
        return Vec::new();
    }
    let years: Vec<i32> = [2015, 2025, 2035]
        .into_iter()
        .filter(|y| (a..=b).contains(y))
        .collect();
    if years.len() >= 2 {
        return years;
    }
    let mut years = vec![a, a + (b - a) / 2, b];
    years.dedup();
    years
}

fn key_figures(folders: &[Folder]) -> String {
    let years = table_years(folders);
    let compare = folders.len() > 1;
    let ensemble = folders.iter().any(Folder::is_ensemble);
    let mut h = String::from("<section id=\"key-figures\">\n<h2>Key figures</h2>\n");
    h += "<p class=\"caption\">On 31 December of each year (flows: during the year).";
    if ensemble {
        h += " Ensembles: the median across runs, with the 5-95% range in brackets.";
    }
    // A comparison gives each metric one row per folder, so the table keeps three columns.
    h += "</p>\n<div class=\"wide\"><table class=\"figures\">\n<thead>\n<tr><th></th>";
    if compare {
        h += "<th></th>";
    }
    for y in &years {
        h += &format!("<th>{y}</th>");
    }
    h += "</tr>\n</thead>\n<tbody>\n";
    for (metric, label, how) in KEY_FIGURES {
        if folders.iter().all(|f| f.series(metric).is_none()) {
            continue;
        }
        for (i, f) in folders.iter().enumerate() {
            h += if i == 0 {
                "<tr class=\"first\">"
            } else {
                "<tr>"
            };
            if i == 0 {
                h += &format!("<td rowspan=\"{}\">{label}</td>", folders.len());
            }
            if compare {
                h += &format!("<td class=\"folder\">{}{}</td>", swatch(i), esc(&f.label));
            }
            for y in &years {
                h += &match f.get(metric, *y) {
                    Some(Point { mid, low, high }) if f.is_ensemble() => format!(
                        "<td class=\"nowrap\">{} <span class=\"range\">({}–{})</span></td>",
                        fmt(mid, how),
                        fmt(low, how),
                        fmt(high, how)
                    ),
                    Some(p) => format!("<td>{}</td>", fmt(p.mid, how)),
                    None => "<td class=\"na\">–</td>".into(),
                };
            }
            h += "</tr>\n";
        }
    }
    h + "</tbody>\n</table></div>\n</section>\n"
}

/// A target's quantity in its own terms: a relative change or a share as a percentage.
fn fmt_target(t: &Target, v: f64) -> String {
    if !v.is_finite() {
        return "–".into();
    }
    if t.how == How::Change {
        format!("{:+.1}%", v * 100.0)
    } else if t.metric.contains("share") || t.metric.contains("rate") {
        format!("{:.1}%", v * 100.0)
    } else if v.abs() >= 100.0 || v.fract() == 0.0 {
        thousands(v, 0)
    } else {
        format!("{v:.2}")
    }
}

fn what_is_measured(t: &Target) -> &'static str {
    match t.how {
        How::At => "value in the year",
        How::Max => "highest value over the years",
        How::Change => "relative change",
        How::Difference => "first year minus last",
    }
}

fn targets_table(folders: &[Folder], targets: &Targets) -> String {
    let rows: Vec<Vec<ReportRow>> = folders.iter().map(|f| report(targets, &f.runs)).collect();
    let mut h = String::from(
        "<section id=\"targets\">\n<h2>The article's figures</h2>\n<p class=\"caption\">",
    );
    for (i, (f, r)) in folders.iter().zip(&rows).enumerate() {
        let met = r.iter().filter(|r| r.within_tolerance).count();
        if folders.len() > 1 {
            h += &swatch(i);
            h += &format!("{}: ", esc(&f.label));
        }
        h += &format!(
            "<span class=\"tally\">{met} of {} within tolerance</span>{}",
            r.len(),
            if i + 1 < folders.len() { "; " } else { ". " }
        );
    }
    if folders.iter().any(Folder::is_ensemble) {
        h += "Ensembles: the mean across runs ± its standard deviation. ";
    }
    h += "On the charts, a relative target (a change or a difference between two years) is \
          drawn at the later year, measured from the simulated value in the earlier one";
    h += if folders.len() > 1 {
        " (the first folder's).</p>\n"
    } else {
        ".</p>\n"
    };
    h += "<div class=\"wide\"><table>\n<thead>\n<tr><th>target</th><th>year</th><th>article</th>";
    for (i, f) in folders.iter().enumerate() {
        if folders.len() > 1 {
            h += &format!("<th>{}{}</th>", swatch(i), esc(&f.label));
        } else {
            h += "<th>simulated</th>";
        }
    }
    h += "</tr>\n</thead>\n<tbody>\n";
    for (k, t) in targets.target.iter().enumerate() {
        h += &format!(
            "<tr><td>{}<span class=\"small\">{} of <code>{}</code>; {}</span></td>\
             <td class=\"nowrap\">{}</td><td class=\"nowrap\">{}<span class=\"small\">{} to {}</span></td>",
            esc(&t.name),
            what_is_measured(t),
            esc(&t.metric),
            esc(&t.source),
            esc(&t.year_label()),
            fmt_target(t, t.goal()),
            fmt_target(t, t.low),
            fmt_target(t, t.high)
        );
        for (f, r) in folders.iter().zip(&rows) {
            let r = &r[k];
            let value = fmt_target(t, r.simulated_mean);
            let spread = if f.runs.len() > 1 && r.simulated_mean.is_finite() {
                format!(
                    "<span class=\"small\">± {} (sd)</span>",
                    fmt_target_sd(t, r.simulated_sd)
                )
            } else {
                String::new()
            };
            h += &if r.simulated_mean.is_nan() {
                "<td class=\"na\">not in the run</td>".to_string()
            } else if r.within_tolerance {
                format!("<td class=\"ok\">{value} <b>✓</b>{spread}</td>")
            } else {
                format!(
                    "<td class=\"bad\" title=\"outside the tolerance\">{value} <b>✗</b>{spread}</td>"
                )
            };
        }
        h += "</tr>\n";
    }
    h += "</tbody>\n</table></div>\n<p class=\"caption legend\"><b class=\"okmark\">✓</b> within the \
          article's tolerance · <b class=\"badmark\">✗</b> outside it</p>\n";
    h + "</section>\n"
}

/// A standard deviation in the target's terms (percentage points for shares and changes).
fn fmt_target_sd(t: &Target, sd: f64) -> String {
    if t.how == How::Change || t.metric.contains("share") || t.metric.contains("rate") {
        format!("{:.1}", sd * 100.0)
    } else if sd >= 100.0 {
        thousands(sd, 0)
    } else {
        format!("{sd:.2}")
    }
}
