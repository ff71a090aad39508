//! The pages of a sweep folder (`plan.csv`, `results.csv`: each outcome against each swept
//! parameter, with the spread across replicates) and of a sensitivity folder
//! (`sensitivity.csv`, `design.csv`: a μ*–σ plot per outcome and a ranked table with
//! bootstrap confidence intervals for μ*). The bootstrap draws from a fixed seed, so a page
//! is the same bytes every time.

use anyhow::Context;
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;

use super::charts::{Figure, Panel, SERIES_COLORS, Xy, XyPoint, XySeries};
use super::data::Point;
use super::svg::thousands;
use super::{esc, figure_html, head};
use crate::config::lever;
use crate::experiment::batch::DesignRng;
use crate::experiment::sensitivity::significant;
use crate::experiment::stats::{quantile, summarise};

/// The kind of experiment folder `dir` is, if it is one `report` draws on its own.
pub fn kind(dir: &Path) -> Option<&'static str> {
    if dir.join("plan.csv").is_file() && dir.join("results.csv").is_file() {
        Some("sweep")
    } else if dir.join("sensitivity.csv").is_file() && dir.join("design.csv").is_file() {
        Some("sensitivity")
    } else {
        None
    }
}

/// The page, its figures, and the line naming its folder and seeds for standalone charts.
pub fn page(dir: &Path, kind: &str) -> anyhow::Result<(String, Vec<Figure>, String)> {
    let meta = Manifest::read(dir);
    let about = format!(
        "{} {} ({}, base seed {}, scale {})",
        meta.name,
        kind,
        meta.runs
            .map_or("runs unknown".into(), |n| format!("{n} runs")),
        meta.base_seed.map_or("unknown".into(), |s| s.to_string()),
        meta.scale.map_or("unknown".into(), |s| s.to_string())
    );
    let (title, intro, figures, table) = match kind {
        "sweep" => sweep(dir)?,
        _ => sensitivity(dir)?,
    };
    let mut html = head(&title);
    write!(
        html,
        "<header>\n<h1>{}</h1>\n<p class=\"sub\">{} · folder <code>{}</code></p>\n\
         <p class=\"summary\" id=\"summary\">{}</p>\n{}</header>\n<nav>",
        esc(&title),
        esc(&about),
        esc(&dir.display().to_string()),
        esc(&intro),
        NOTE
    )?;
    for f in &figures {
        write!(html, "<a href=\"#{}\">{}</a>", f.id, esc(&f.title))?;
    }
    html += "<a href=\"#table\">Table</a></nav>\n";
    html += &table;
    for f in &figures {
        html += &figure_html(f)?;
    }
    write!(
        html,
        "<footer>Drawn by <code>shrinkcity report</code> {} from <code>{}</code>.</footer>\n\
         </main>\n</body>\n</html>\n",
        env!("CARGO_PKG_VERSION"),
        esc(&dir.display().to_string())
    )?;
    Ok((html, figures, about))
}

const NOTE: &str = "<p class=\"note\" id=\"uncertainty\"><b>What the bands cover.</b> Bands and \
     intervals here show how outcomes vary across replicate seeds (and, on a sweep, across the \
     other swept parameters), or how sure the ranking is given the trajectories drawn. They do \
     <b>not</b> cover the parameters left fixed or <b>structural uncertainty</b> (the \
     mechanisms the model has and those it leaves out).</p>\n";

struct Manifest {
    name: String,
    runs: Option<u64>,
    base_seed: Option<u64>,
    scale: Option<f64>,
}

impl Manifest {
    fn read(dir: &Path) -> Manifest {
        let json: serde_json::Value = std::fs::read_to_string(dir.join("manifest.json"))
            .ok()
            .and_then(|t| serde_json::from_str(&t).ok())
            .unwrap_or_default();
        Manifest {
            name: json["config_name"].as_str().unwrap_or("config").to_string(),
            runs: json["runs"].as_u64(),
            base_seed: json["base_seed"].as_u64(),
            scale: json["scale"].as_f64(),
        }
    }
}

/// The outcomes a sweep page draws: (column, title, unit, factor).
const SWEEP_OUTCOMES: [(&str, &str, &str, f64); 4] = [
    ("population", "Population", "people", 1.0),
    (
        "unemployment_rate",
        "Unemployment rate",
        "% of the labour force",
        100.0,
    ),
    ("price_per_m2", "Price per m²", "yuan per m²", 1.0),
    ("emigrants", "Emigrants in the year", "people per year", 1.0),
];

fn read_csv(path: &Path) -> anyhow::Result<(Vec<String>, Vec<Vec<String>>)> {
    let mut r =
        csv::Reader::from_path(path).with_context(|| format!("cannot read {}", path.display()))?;
    let header = r.headers()?.iter().map(String::from).collect();
    let rows = r
        .records()
        .map(|rec| Ok(rec?.iter().map(String::from).collect()))
        .collect::<anyhow::Result<_>>()
        .with_context(|| format!("reading {}", path.display()))?;
    Ok((header, rows))
}

fn num(s: &str) -> f64 {
    s.trim().parse().unwrap_or(f64::NAN)
}

/// A sweep: per outcome, one panel per parameter, its value across, the outcome in the last
/// year up (mean across replicates and the other parameters' values, band 5-95%).
fn sweep(dir: &Path) -> anyhow::Result<(String, String, Vec<Figure>, String)> {
    let (plan_header, _) = read_csv(&dir.join("plan.csv"))?;
    let params: Vec<String> = plan_header.iter().skip(2).cloned().collect();
    let (header, rows) = read_csv(&dir.join("results.csv"))?;
    let col = |name: &str| {
        header
            .iter()
            .position(|h| h == name)
            .with_context(|| format!("results.csv has no `{name}` column"))
    };
    let (year_c, metric_c, value_c) = (col("year")?, col("metric")?, col("value")?);
    let param_c: Vec<usize> = params
        .iter()
        .map(|p| col(p))
        .collect::<anyhow::Result<_>>()?;
    let end = rows
        .iter()
        .map(|r| num(&r[year_c]) as i32)
        .max()
        .context("results.csv holds no rows")?;
    let runs = rows
        .iter()
        .map(|r| r[0].as_str())
        .collect::<std::collections::BTreeSet<_>>()
        .len();
    let mut figures = Vec::new();
    let mut table = format!(
        "<section id=\"table\">\n<h2>Outcomes in {end} by parameter value</h2>\n<p class=\"caption\">\
         Mean across replicates (and the other parameters' values), with the 5-95% range in \
         brackets. {runs} runs.</p>\n<div class=\"wide\"><table>\n<thead>\n<tr><th>parameter</th><th>value</th>"
    );
    for (_, title, _, _) in SWEEP_OUTCOMES {
        write!(table, "<th>{title}</th>")?;
    }
    table += "</tr>\n</thead>\n<tbody>\n";
    // spread[outcome][param] = value → Point
    let mut spread: Vec<Vec<BTreeMap<String, Point>>> = Vec::new();
    for (metric, _, _, factor) in SWEEP_OUTCOMES {
        let mut per_param = Vec::new();
        for &pc in &param_c {
            let mut by_value: BTreeMap<String, Vec<f64>> = BTreeMap::new();
            for r in rows
                .iter()
                .filter(|r| r[metric_c] == metric && num(&r[year_c]) as i32 == end)
            {
                by_value
                    .entry(r[pc].clone())
                    .or_default()
                    .push(num(&r[value_c]) * factor);
            }
            per_param.push(
                by_value
                    .into_iter()
                    .map(|(v, ys)| {
                        let s = summarise(&ys);
                        (
                            v,
                            Point {
                                mid: s.mean,
                                low: s.p05,
                                high: s.p95,
                            },
                        )
                    })
                    .collect(),
            );
        }
        spread.push(per_param);
    }
    // Each parameter's axis: its values, or for levers (`10000@2035`) the number that varies.
    let axes: Vec<BTreeMap<String, f64>> = (0..params.len())
        .map(|k| {
            let values: Vec<&str> = spread[0][k].keys().map(String::as_str).collect();
            let xs = lever::varying_numbers(&values)
                .unwrap_or_else(|| values.iter().map(|v| num(v)).collect());
            values.iter().map(|v| v.to_string()).zip(xs).collect()
        })
        .collect();
    let x_of = |k: usize, v: &str| axes[k].get(v).copied().unwrap_or(f64::NAN);
    let sorted_values = |k: usize| -> Vec<String> {
        let mut v: Vec<String> = spread[0][k].keys().cloned().collect();
        v.sort_by(|a, b| x_of(k, a).total_cmp(&x_of(k, b)));
        v
    };
    for (k, p) in params.iter().enumerate() {
        for v in sorted_values(k) {
            write!(
                table,
                "<tr><td><code>{}</code></td><td>{}</td>",
                esc(p),
                esc(&v)
            )?;
            for (o, (_, _, _, factor)) in SWEEP_OUTCOMES.iter().enumerate() {
                let cell = spread[o][k].get(&v).map_or("–".into(), |pt| {
                    let f = |x: f64| {
                        if *factor == 100.0 {
                            format!("{x:.1}%")
                        } else {
                            thousands(x, 0)
                        }
                    };
                    format!(
                        "{} <span class=\"range\">({}–{})</span>",
                        f(pt.mid),
                        f(pt.low),
                        f(pt.high)
                    )
                });
                write!(table, "<td class=\"nowrap\">{cell}</td>")?;
            }
            table += "</tr>\n";
        }
    }
    table += "</tbody>\n</table></div>\n</section>\n";
    let mut moves: Vec<(String, f64)> = Vec::new();
    for (o, (metric, title, unit, factor)) in SWEEP_OUTCOMES.iter().enumerate() {
        let panels: Vec<Panel> = params
            .iter()
            .enumerate()
            .map(|(k, p)| {
                let points: Vec<XyPoint> = sorted_values(k)
                    .iter()
                    .filter_map(|v| {
                        Some(XyPoint {
                            x: x_of(k, v),
                            y: *spread[o][k].get(v)?,
                            x_range: None,
                            name: String::new(),
                        })
                    })
                    .collect();
                if *metric == "population"
                    && let (Some(a), Some(b)) = (points.first(), points.last())
                {
                    moves.push((p.clone(), (b.y.mid - a.y.mid) / a.y.mid));
                }
                Panel::Xy(Xy {
                    title: format!("{title} in {end} against {p}"),
                    x_label: p.clone(),
                    y_label: (*unit).into(),
                    percent: *factor == 100.0,
                    series: vec![XySeries {
                        label: "mean, 5-95% across replicates".into(),
                        color: SERIES_COLORS[o % SERIES_COLORS.len()],
                        points,
                        band: true,
                    }],
                    scatter: false,
                })
            })
            .collect();
        let columns = if panels.len() == 1 { 1 } else { 2 };
        figures.push(Figure {
            id: format!("sweep-{metric}"),
            title: format!("{title} in {end}"),
            caption: format!(
                "The outcome in {end} at each swept value: the line joins the means across \
                 replicates (with several parameters, also across the others' values), the band \
                 is their 5-95% range."
            ),
            columns,
            panel_height: if columns == 1 { 420 } else { 360 },
            panels,
        });
    }
    let mut intro = format!(
        "A sweep of {} over {runs} runs.",
        params
            .iter()
            .enumerate()
            .map(|(k, p)| {
                let v = sorted_values(k);
                format!(
                    "{p} ({} values, {} to {})",
                    v.len(),
                    v.first().map_or("", String::as_str),
                    v.last().map_or("", String::as_str)
                )
            })
            .collect::<Vec<_>>()
            .join(" and ")
    );
    for (p, m) in &moves {
        write!(
            intro,
            " From the lowest to the highest {p}, the population in {end} changes by {}{:.1}%.",
            if *m < 0.0 { "−" } else { "+" },
            m.abs() * 100.0
        )?;
    }
    if let Some((p, _)) = moves.iter().max_by(|a, b| a.1.abs().total_cmp(&b.1.abs()))
        && moves.len() > 1
    {
        write!(intro, " {p} moves the population most over its range.")?;
    }
    Ok((format!("Sweep {}", folder_name(dir)), intro, figures, table))
}

fn folder_name(dir: &Path) -> String {
    dir.file_name()
        .map_or(dir.display().to_string(), |n| n.to_string_lossy().into())
}

/// Resamples of the bootstrap, and its seed: fixed, so the intervals repeat.
const BOOTSTRAP: usize = 2000;
const BOOTSTRAP_SEED: u64 = 20_150_101;

/// One parameter's row for one output.
#[derive(Clone, Debug)]
pub struct Ranked {
    pub parameter: String,
    pub mu_star: f64,
    pub mu: f64,
    pub sigma: f64,
    /// 95% bootstrap interval of μ* over the trajectories' elementary effects.
    pub ci: (f64, f64),
}

/// The 95% percentile bootstrap interval of mean |EE|, resampling the trajectories.
pub fn bootstrap_mu_star(effects: &[f64], rng: &mut DesignRng) -> (f64, f64) {
    let n = effects.len();
    if n == 0 {
        return (f64::NAN, f64::NAN);
    }
    let mut means: Vec<f64> = (0..BOOTSTRAP)
        .map(|_| (0..n).map(|_| effects[rng.below(n)].abs()).sum::<f64>() / n as f64)
        .collect();
    means.sort_by(f64::total_cmp);
    (quantile(&means, 0.025), quantile(&means, 0.975))
}

/// Read a sensitivity folder: per output (in file order), its parameters ranked by μ*.
pub fn ranking(dir: &Path) -> anyhow::Result<Vec<(String, Vec<Ranked>)>> {
    let (h, rows) = read_csv(&dir.join("sensitivity.csv"))?;
    let c = |name: &str| {
        h.iter()
            .position(|x| x == name)
            .with_context(|| format!("sensitivity.csv has no `{name}` column"))
    };
    let (out_c, par_c, lo_c, hi_c) = (c("output")?, c("parameter")?, c("lo")?, c("hi")?);
    let (ms_c, mu_c, sg_c) = (c("mu_star")?, c("mu")?, c("sigma")?);
    let (dh, design) = read_csv(&dir.join("design.csv"))?;
    let mut outputs: Vec<String> = Vec::new();
    let mut ranges: BTreeMap<String, (f64, f64)> = BTreeMap::new();
    for r in &rows {
        if !outputs.contains(&r[out_c]) {
            outputs.push(r[out_c].clone());
        }
        ranges.insert(r[par_c].clone(), (num(&r[lo_c]), num(&r[hi_c])));
    }
    let params: Vec<String> = dh
        .iter()
        .skip(2)
        .take(dh.len().saturating_sub(2 + outputs.len()))
        .cloned()
        .collect();
    let k = params.len();
    let unit = |i: usize, x: f64| {
        let (lo, hi) = ranges.get(&params[i]).copied().unwrap_or((0.0, 1.0));
        (x - lo) / (hi - lo)
    };
    let mut rng = DesignRng::new(BOOTSTRAP_SEED);
    let mut out = Vec::new();
    for (o, name) in outputs.iter().enumerate() {
        let y_c = 2 + k + o;
        // Elementary effects per parameter, one per trajectory.
        let mut effects: Vec<Vec<f64>> = vec![Vec::new(); k];
        for traj in design.chunks(k + 1) {
            for s in 1..traj.len() {
                let Some(i) = (0..k).find(|&i| traj[s][2 + i] != traj[s - 1][2 + i]) else {
                    continue;
                };
                let du = unit(i, num(&traj[s][2 + i])) - unit(i, num(&traj[s - 1][2 + i]));
                effects[i].push((num(&traj[s][y_c]) - num(&traj[s - 1][y_c])) / du);
            }
        }
        let mut ranked: Vec<Ranked> = rows
            .iter()
            .filter(|r| r[out_c] == *name)
            .map(|r| {
                let i = params.iter().position(|p| *p == r[par_c]);
                Ranked {
                    parameter: r[par_c].clone(),
                    mu_star: num(&r[ms_c]),
                    mu: num(&r[mu_c]),
                    sigma: num(&r[sg_c]),
                    ci: i.map_or((f64::NAN, f64::NAN), |i| {
                        bootstrap_mu_star(&effects[i], &mut rng)
                    }),
                }
            })
            .collect();
        ranked.sort_by(|a, b| b.mu_star.total_cmp(&a.mu_star));
        out.push((name.clone(), ranked));
    }
    Ok(out)
}

/// A sensitivity folder: a μ*–σ plot per output and the ranked table.
fn sensitivity(dir: &Path) -> anyhow::Result<(String, String, Vec<Figure>, String)> {
    let ranking = ranking(dir)?;
    let mut params: Vec<String> = Vec::new();
    for (_, r) in &ranking {
        for x in r {
            if !params.contains(&x.parameter) {
                params.push(x.parameter.clone());
            }
        }
    }
    let color = |p: &str| {
        SERIES_COLORS[params.iter().position(|x| x == p).unwrap_or(0) % SERIES_COLORS.len()]
    };
    let mut figures = Vec::new();
    let mut table = format!(
        "<section id=\"table\">\n<h2>Parameters ranked by μ*</h2>\n<p class=\"caption\">For each \
         output, the parameters from most to least influential. μ* is the mean absolute \
         elementary effect (output units per full range of the parameter), μ the mean (its \
         sign is the direction), σ the spread (non-linearity or interactions). The interval is \
         a 95% bootstrap interval of μ* over the trajectories ({BOOTSTRAP} resamples, seed \
         {BOOTSTRAP_SEED}): where two intervals overlap, the ranking of those two is not \
         settled.</p>\n<div class=\"wide\"><table class=\"ranking\">\n<thead>\n<tr><th>output</th>\
         <th>rank</th><th>parameter</th><th>μ*</th><th>95% interval of μ*</th><th>μ</th><th>σ</th></tr>\n</thead>\n<tbody>\n"
    );
    let mut intro = String::from("Morris screening.");
    for (name, ranked) in &ranking {
        for (i, r) in ranked.iter().enumerate() {
            table += "<tr>";
            if i == 0 {
                write!(
                    table,
                    "<td rowspan=\"{}\"><code>{}</code></td>",
                    ranked.len(),
                    esc(name)
                )?;
            }
            writeln!(
                table,
                "<td style=\"text-align:right\">{}</td><td><code>{}</code></td><td class=\"mu-star\" data-output=\"{}\" \
                 data-value=\"{}\">{}</td><td class=\"nowrap\">{} to {}</td><td>{}</td><td>{}</td></tr>",
                i + 1,
                esc(&r.parameter),
                esc(name),
                r.mu_star,
                significant(r.mu_star),
                significant(r.ci.0),
                significant(r.ci.1),
                significant(r.mu),
                significant(r.sigma)
            )?;
        }
        if let Some(top) = ranked.first() {
            let settled = ranked.get(1).is_none_or(|next| next.ci.1 < top.ci.0);
            write!(
                intro,
                " For {name}, {} matters most (μ* = {}, {} it{}).",
                top.parameter,
                significant(top.mu_star),
                if top.mu >= 0.0 { "raising" } else { "lowering" },
                if settled {
                    ""
                } else {
                    "; its interval overlaps the next one's, so the order of the top two is not settled"
                }
            )?;
        }
        let series = ranked
            .iter()
            .map(|r| XySeries {
                label: r.parameter.clone(),
                color: color(&r.parameter),
                points: vec![XyPoint {
                    x: r.mu_star,
                    y: Point::exact(r.sigma),
                    x_range: Some(r.ci),
                    name: r.parameter.rsplit('.').next().unwrap_or("").to_string(),
                }],
                band: false,
            })
            .collect();
        figures.push(Figure {
            id: format!(
                "morris-{}",
                name.replace(|c: char| !c.is_alphanumeric(), "-")
            ),
            title: format!("μ* and σ for {name}"),
            caption: "Each parameter at (μ*, σ): further right matters more, higher acts less \
                      linearly or through interactions. The horizontal line is the 95% \
                      bootstrap interval of μ*."
                .into(),
            columns: 1,
            panel_height: 440,
            panels: vec![Panel::Xy(Xy {
                title: format!("{name}: μ* against σ"),
                x_label: "μ* (output units per full range)".into(),
                y_label: "σ".into(),
                percent: false,
                series,
                scatter: true,
            })],
        });
    }
    table += "</tbody>\n</table></div>\n</section>\n";
    Ok((
        format!("Sensitivity {}", folder_name(dir)),
        intro,
        figures,
        table,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bootstrap_repeats_and_brackets_mu_star() {
        let ee = [1.0, -2.0, 3.0, 0.5, -1.5];
        let a = bootstrap_mu_star(&ee, &mut DesignRng::new(BOOTSTRAP_SEED));
        let b = bootstrap_mu_star(&ee, &mut DesignRng::new(BOOTSTRAP_SEED));
        assert_eq!(a, b);
        let mu_star = 8.0 / 5.0;
        assert!(a.0 < mu_star && mu_star < a.1, "{a:?}");
        assert!(a.0 >= 0.5 && a.1 <= 3.0);
    }
}
