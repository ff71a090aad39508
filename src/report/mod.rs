//! `shrinkcity report`: a finished run, an ensemble, or several folders side by side, drawn
//! as charts in one self-contained HTML page (inline CSS and SVG, no script, no network),
//! with a table of key figures and the article's targets. `data.rs` reads the folders,
//! `charts.rs` decides what to draw, `svg.rs` draws it; this file writes the page.

pub mod charts;
pub mod data;
pub mod effects;
pub mod experiments;
pub mod summary;
pub mod svg;

use anyhow::Context;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use crate::calibration::Targets;
use crate::calibration::targets::{How, ReportRow, Target, report};
use charts::FOLDER_COLORS;
use data::{Folder, Point};
use effects::{Difference, OUTCOMES, Outcome, difference};
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
    let path = out.map_or_else(|| first.join("report.html"), Path::to_path_buf);
    if let Some(kind) = experiments::kind(first) {
        if dirs.len() > 1 {
            return Err(crate::config::UsageError(format!(
                "{} is a {kind} folder: report draws it on its own; pass it alone",
                first.display()
            ))
            .into());
        }
        let (html, figures, about) = experiments::page(first, kind)?;
        crate::output::write_atomically(&path, html.as_bytes())?;
        write_charts(&path, &figures, &about)?;
        return Ok(path);
    }
    let folders = data::load_all(dirs)?;
    let targets = Targets::load(None)?;
    let html = page(&folders, &targets)?;
    crate::output::write_atomically(&path, html.as_bytes())?;
    let (figures, _) = charts::figures(&folders, &targets);
    write_charts(&path, &figures, &about(&folders))?;
    Ok(path)
}

/// Which folders and seeds a chart comes from, in a line.
fn about(folders: &[Folder]) -> String {
    folders
        .iter()
        .map(|f| {
            let seeds = match (f.meta.runs, f.meta.seed) {
                (Some(n), Some(s)) => format!("{n} runs, base seed {s}"),
                (Some(n), None) => format!("{n} runs"),
                (None, Some(s)) => format!("seed {s}"),
                (None, None) => "seed unknown".into(),
            };
            let scale = f
                .meta
                .scale
                .map_or(String::new(), |s| format!(", scale {s}"));
            format!("{} ({seeds}{scale})", f.label)
        })
        .collect::<Vec<_>>()
        .join(" vs ")
}

/// Every figure also as `charts/<id>.svg` beside the page, with its title, scenario, seeds
/// and source.
fn write_charts(page: &Path, figures: &[charts::Figure], about: &str) -> anyhow::Result<()> {
    let dir = page
        .parent()
        .map_or_else(|| PathBuf::from("charts"), |p| p.join("charts"));
    std::fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let source = format!(
        "Source: shrinkcity {} agent-based model of a shrinking coal city (simulated, not \
         observed); drawn by `shrinkcity report`.",
        env!("CARGO_PKG_VERSION")
    );
    let stem = page
        .file_stem()
        .map_or("report".into(), |s| s.to_string_lossy().to_string());
    for f in figures {
        let svg = svg::standalone_svg(f, about, &source)?;
        // Pages other than report.html name their charts after themselves.
        let name = if stem == "report" {
            format!("{}.svg", f.id)
        } else {
            format!("{stem}-{}.svg", f.id)
        };
        crate::output::write_atomically(&dir.join(name), svg.as_bytes())?;
    }
    Ok(())
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
    html += "<nav>";
    if folders.len() > 1 {
        html += "<a href=\"#effects-table\">Effects in numbers</a>";
    }
    html +=
        "<a href=\"#key-figures\">Key figures</a><a href=\"#targets\">The article's figures</a>";
    for f in &figures {
        write!(html, "<a href=\"#{}\">{}</a>", f.id, esc(&f.title))?;
    }
    html += "</nav>\n";
    if folders.len() > 1 {
        html += &effects_table(folders);
    }
    html += &key_figures(folders);
    html += &targets_table(folders, targets);
    for f in &figures {
        html += &figure_html(f)?;
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

/// A figure's section of the page: title, caption and the SVG.
fn figure_html(f: &charts::Figure) -> anyhow::Result<String> {
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
    Ok(format!(
        "<section class=\"figure\" id=\"{}\">\n<h2>{}</h2>\n<p class=\"caption\">{}</p>\n{svg}</section>\n",
        f.id,
        esc(&f.title),
        esc(&f.caption)
    ))
}

/// The page's head, up to the opened `<main>`.
fn head(title: &str) -> String {
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>shrinkcity: {}</title>\n<style>{CSS}</style>\n</head>\n<body>\n<main>\n",
        esc(title)
    )
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
p.hypothesis { margin: 6px 0 0; font-size: 14px; }
p.note { margin: 10px 0 0; padding: 8px 12px; background: #fff8e1; border-left: 4px solid #e69f00;
  font-size: 14px; }
p.summary { font-size: 16px; margin: 12px 0 0; max-width: 70em; }
table.effects td.delta { font-weight: 600; }
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
            if let Some(hyp) = &one.meta.hypothesis {
                h += &format!(
                    "<p class=\"hypothesis\"><b>Hypothesis:</b> {}</p>\n",
                    esc(hyp)
                );
            }
            if one.is_ensemble() {
                h += "<p class=\"sub\">Lines are medians across runs, bands the 5-95% range; \
                      the article's figures are compared with the mean across runs.</p>\n";
            }
        }
        many => {
            h += &format!(
                "<p class=\"sub\">Each scenario against <b>{}</b> (the first folder): their \
                 differences first, then every outcome on shared axes fitted to the data. \
                 Ensembles are drawn as their median with the 5-95% band.</p>\n\
                 <table class=\"folders\">\n<tbody>\n",
                esc(&many[0].label)
            );
            for (i, f) in many.iter().enumerate() {
                let hyp = f.meta.hypothesis.as_ref().map_or(String::new(), |t| {
                    format!("<span class=\"small\"><b>Hypothesis:</b> {}</span>", esc(t))
                });
                h += &format!(
                    "<tr><td>{}<b>{}</b>{}</td><td style=\"text-align:left\">{}{hyp}</td></tr>\n",
                    swatch(i),
                    esc(&f.label),
                    if i == 0 {
                        " <span class=\"small\">baseline of the comparison</span>"
                    } else {
                        ""
                    },
                    describe(f)
                );
            }
            h += "</tbody>\n</table>\n";
        }
    }
    let text = summary::paragraph(folders);
    if !text.is_empty() {
        h += &format!("<p class=\"summary\" id=\"summary\">{}</p>\n", esc(&text));
    }
    if folders.iter().any(Folder::is_ensemble) {
        h += &uncertainty_note(folders);
    }
    h + "</header>\n"
}

/// What an ensemble's bands cover, and what they do not.
fn uncertainty_note(folders: &[Folder]) -> String {
    let runs: Vec<String> = folders
        .iter()
        .filter_map(|f| f.meta.runs.map(|n| n.to_string()))
        .collect();
    format!(
        "<p class=\"note\" id=\"uncertainty\"><b>What the bands cover.</b> An ensemble's \
         bands are <b>seed noise</b> only: how far runs of the same model with the same \
         parameters ({} runs, each with its own seed) differ by chance. They do <b>not</b> \
         cover <b>parameter uncertainty</b> (the calibrated and assumed values could be \
         otherwise: a <code>sweep</code> or <code>sensitivity</code> folder shows how much \
         they matter) or <b>structural uncertainty</b> (the mechanisms the model has, and \
         those it leaves out). The real range of outcomes is wider than any band here.</p>\n",
        runs.join(" and ")
    )
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
    if compare {
        h += " A folder whose figures are all the first folder's is not repeated; a year in \
               which the folders agree shows one value.";
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
        let cells: Vec<Vec<String>> = folders
            .iter()
            .map(|f| {
                years
                    .iter()
                    .map(|y| match f.get(metric, *y) {
                        Some(Point { mid, low, high }) if f.is_ensemble() => format!(
                            "{} <span class=\"range\">({}–{})</span>",
                            fmt(mid, how),
                            fmt(low, how),
                            fmt(high, how)
                        ),
                        Some(p) => fmt(p.mid, how),
                        None => "–".into(),
                    })
                    .collect()
            })
            .collect();
        // A folder whose row repeats the first one's is left out; a year in which every
        // row shown agrees is one cell across them.
        let shown: Vec<usize> = (0..folders.len())
            .filter(|&i| i == 0 || cells[i] != cells[0])
            .collect();
        for (r, &i) in shown.iter().enumerate() {
            h += if r == 0 {
                "<tr class=\"first\">"
            } else {
                "<tr>"
            };
            if r == 0 {
                h += &format!("<td rowspan=\"{}\">{label}</td>", shown.len());
            }
            if compare {
                let name = if shown.len() == 1 {
                    "every folder".to_string()
                } else {
                    format!("{}{}", swatch(i), esc(&folders[i].label))
                };
                h += &format!("<td class=\"folder\">{name}</td>");
            }
            for (k, cell) in cells[i].iter().enumerate() {
                let same = shown.iter().all(|&j| cells[j][k] == cells[shown[0]][k]);
                if same && r > 0 {
                    continue;
                }
                let span = if same && shown.len() > 1 {
                    format!(" rowspan=\"{}\"", shown.len())
                } else {
                    String::new()
                };
                let class = if cell == "–" { "na" } else { "nowrap" };
                h += &format!("<td class=\"{class}\"{span}>{cell}</td>");
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
    } else if t.how == How::Cohort || t.metric.contains("share") || t.metric.contains("rate") {
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
        How::Cohort => "share of a cohort still there, ten years older",
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

/// The years of the effects table: 2030 and 2035 where every folder has them, else the last
/// common year.
fn effect_years(folders: &[Folder]) -> Vec<i32> {
    let Some((a, b)) = charts::common_years(folders).filter(|(a, b)| a <= b) else {
        return Vec::new();
    };
    let years: Vec<i32> = [2030, 2035]
        .into_iter()
        .filter(|y| (a..=b).contains(y))
        .collect();
    if years.is_empty() { vec![b] } else { years }
}

/// A level of an effects outcome (already × its factor).
fn fmt_level(o: &Outcome, v: f64) -> String {
    if o.factor == 100.0 {
        format!("{v:.1}%")
    } else {
        thousands(v, 0)
    }
}

/// A difference of an effects outcome, signed.
fn fmt_delta(o: &Outcome, d: f64) -> String {
    let s = if o.factor == 100.0 {
        format!("{:.2} pt", d.abs())
    } else {
        thousands(d.abs(), 0)
    };
    let zero = s.chars().all(|c| !c.is_ascii_digit() || c == '0');
    if zero {
        s
    } else if d < 0.0 {
        format!("−{s}")
    } else {
        format!("+{s}")
    }
}

/// Each scenario's effect on the headline outcomes in 2030 and 2035: the baseline's level,
/// the scenario's, their difference (with the 5-95% range of paired differences) and the
/// difference as a share of the baseline's level.
fn effects_table(folders: &[Folder]) -> String {
    let years = effect_years(folders);
    let (base, others) = folders.split_first().expect("a comparison has folders");
    let mut h = format!(
        "<section id=\"effects-table\">\n<h2>Effects in numbers</h2>\n<p class=\"caption\">Each \
         scenario against <b>{}</b>: Δ is the scenario minus the baseline, % is Δ as a share \
         of the baseline's level. Ensembles on common seeds are paired run by run (their \
         levels are means over the paired runs, the range in brackets the 5-95% of the \
         paired differences); otherwise means across runs.</p>\n<div class=\"wide\"><table \
         class=\"effects\">\n<thead>\n<tr><th rowspan=\"2\"></th><th rowspan=\"2\">scenario</th>",
        esc(&base.label)
    );
    for y in &years {
        h += &format!("<th colspan=\"4\" style=\"text-align:center\">{y}</th>");
    }
    h += "</tr>\n<tr>";
    for _ in &years {
        h += "<th>baseline</th><th>scenario</th><th>Δ <span class=\"small\">5-95% if paired</span></th><th>%</th>";
    }
    h += "</tr>\n</thead>\n<tbody>\n";
    for o in &OUTCOMES {
        let rows: Vec<(usize, &Folder, Difference)> = others
            .iter()
            .enumerate()
            .filter_map(|(k, f)| Some((k + 1, f, difference(base, f, o.column, o.factor)?)))
            .collect();
        for (r, (i, f, d)) in rows.iter().enumerate() {
            h += "<tr>";
            if r == 0 {
                h += &format!(
                    "<td rowspan=\"{}\">{}<span class=\"small\">Δ in {}</span></td>",
                    rows.len(),
                    o.title,
                    o.unit
                );
            }
            h += &format!(
                "<td class=\"folder\" style=\"text-align:left\">{}{}</td>",
                swatch(*i),
                esc(&f.label)
            );
            for y in &years {
                let (Some(b), Some(s), Some(p)) =
                    (d.base.get(y), d.scenario.get(y), d.points.get(y))
                else {
                    h += "<td class=\"na\" colspan=\"4\">–</td>";
                    continue;
                };
                let range = if p.low < p.high {
                    format!(
                        "<span class=\"small\">{} to {}</span>",
                        fmt_delta(o, p.low),
                        fmt_delta(o, p.high)
                    )
                } else {
                    String::new()
                };
                let pct = d
                    .relative(*y)
                    .map_or("–".into(), |r| format!("{:+.1}%", r * 100.0));
                h += &format!(
                    "<td>{}</td><td>{}</td><td class=\"delta nowrap\" data-metric=\"{}\" \
                     data-year=\"{y}\" data-scenario=\"{}\" data-value=\"{}\">{}{range}</td>\
                     <td class=\"nowrap\">{pct}</td>",
                    fmt_level(o, *b),
                    fmt_level(o, *s),
                    o.column,
                    esc(&f.label),
                    p.mid / o.factor,
                    fmt_delta(o, p.mid)
                );
            }
            h += "</tr>\n";
        }
    }
    h + "</tbody>\n</table></div>\n</section>\n"
}
