//! `shrinkcity report` and `run --report`: every chart is well-formed SVG with its series
//! and the article's figures; the page loads in headless Chromium with every chart, no
//! console error, and a screenshot that is not blank.

use crate::util::shrinkcity;
use std::collections::{BTreeMap, HashSet};
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const RUN_CHARTS: [&str; 9] = [
    "population",
    "pyramids",
    "drivers",
    "jobs",
    "job-flows",
    "housing",
    "vacancy",
    "retail",
    "shares",
];

/// A quick run: 1% of the city, 2015-2035, no agent snapshots.
fn quick_run(out: &Path, seed: &str, extra: &[&str]) {
    shrinkcity()
        .args(["run", "--quiet", "--scale", "0.01", "--end-year", "2035"])
        .args(["--snapshots", "none", "--seed", seed, "--out"])
        .arg(out)
        .args(extra)
        .assert()
        .success();
}

/// Every `<svg class="chart" ...>` of a page: id → the SVG's text.
fn svg_charts(html: &str) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let mut rest = html;
    while let Some(start) = rest.find("<svg ") {
        let end = rest[start..].find("</svg>").expect("every <svg> is closed") + start + 6;
        let svg = &rest[start..end];
        let doc = roxmltree::Document::parse(svg)
            .unwrap_or_else(|e| panic!("a chart is not well-formed XML: {e}"));
        let root = doc.root_element();
        assert_eq!(root.tag_name().name(), "svg");
        assert_eq!(root.attribute("class"), Some("chart"));
        let id = root.attribute("id").expect("each chart has an id");
        let id = id.strip_prefix("chart-").expect("ids are chart-<name>");
        out.insert(id.to_string(), svg.to_string());
        rest = &rest[end..];
    }
    out
}

/// The text of every `<text>` element of an SVG.
fn texts(svg: &str) -> Vec<String> {
    let doc = roxmltree::Document::parse(svg).unwrap();
    doc.descendants()
        .filter(|n| n.has_tag_name("text"))
        .map(|n| n.text().unwrap_or("").trim().to_string())
        .collect()
}

fn assert_series(charts: &BTreeMap<String, String>, id: &str, names: &[&str]) {
    let svg = charts.get(id).unwrap_or_else(|| panic!("no chart `{id}`"));
    let texts = texts(svg);
    for name in names {
        assert!(
            texts.iter().any(|t| t == name),
            "chart `{id}` lacks `{name}`; its texts: {texts:?}"
        );
    }
}

#[test]
fn run_report_draws_every_chart_with_its_series_and_the_articles_figures() {
    let dir = tempfile::tempdir().unwrap();
    let run = dir.path().join("run");
    quick_run(&run, "7", &["--report"]);
    let html =
        fs::read_to_string(run.join("report.html")).expect("run --report writes report.html");
    let charts = svg_charts(&html);
    assert_eq!(
        charts.keys().map(String::as_str).collect::<HashSet<_>>(),
        HashSet::from(RUN_CHARTS)
    );
    let article = "article's figure and tolerance";
    assert_series(
        &charts,
        "population",
        &[
            "Population",
            "population",
            "births",
            "deaths",
            "emigrants",
            "immigrants",
            article,
            "year",
            "people",
            "people per year",
        ],
    );
    assert_series(
        &charts,
        "pyramids",
        &["2015", "2025", "2035", "men", "women", "85+"],
    );
    assert_series(
        &charts,
        "drivers",
        &[
            "job loss",
            "wage gap",
            "cold climate",
            "public services",
            "amenities",
            "housing",
            "network",
            "family",
        ],
    );
    assert_series(
        &charts,
        "jobs",
        &[
            "coal",
            "other resource",
            "manufacturing",
            "high-tech",
            "services",
            "public",
            "unemployment rate",
            "% of the labour force",
            "article's range for the peak",
        ],
    );
    assert_series(
        &charts,
        "job-flows",
        &["jobs created", "new job seekers", article],
    );
    assert_series(
        &charts,
        "housing",
        &[
            "price per m²",
            "transactions",
            "yuan per m²",
            article,
            "article's range for the peak",
        ],
    );
    assert_series(
        &charts,
        "vacancy",
        &["vacancy rate", "estates under 40% occupied", article],
    );
    assert_series(
        &charts,
        "retail",
        &["retail sales index", "mean income", article],
    );
    assert_series(&charts, "shares", &["aged 65+", "aged 0-14", article]);

    // The page: config and seed, key figures for 2015, 2025 and 2035, the targets table.
    assert!(html.contains("config <b>baseline</b>") && html.contains("seed 7"));
    for needle in [
        "<th>2015</th>",
        "<th>2025</th>",
        "<th>2035</th>",
        "of 17 within tolerance",
    ] {
        assert!(html.contains(needle), "the page lacks `{needle}`");
    }
    assert!(html.contains("population 2025") && html.contains("price peak 2019-2021"));
    // Self-contained: no script, no external resource.
    for banned in ["<script", "http://", "https://", "<link", "src="] {
        let outside_svg_ns = html.replace("xmlns=\"http://www.w3.org/2000/svg\"", "");
        assert!(
            !outside_svg_ns.contains(banned),
            "the page contains `{banned}`"
        );
    }

    // `report` on the same folder writes the same page (and --out elsewhere).
    let again = dir.path().join("again.html");
    shrinkcity()
        .args(["report"])
        .arg(&run)
        .arg("--out")
        .arg(&again)
        .assert()
        .success();
    assert_eq!(fs::read_to_string(&again).unwrap(), html);

    check_in_chromium(&run.join("report.html"), RUN_CHARTS.len(), dir.path());
}

#[test]
fn ensembles_get_fan_charts_and_comparisons_one_line_per_folder() {
    let dir = tempfile::tempdir().unwrap();
    let a = dir.path().join("seed1");
    quick_run(&a, "1", &[]);
    let cold_free = dir.path().join("no_cold");
    quick_run(&cold_free, "1", &["--set", "migration.climate_weight=0"]);
    let ens = dir.path().join("ens");
    shrinkcity()
        .args([
            "ensemble", "--runs", "2", "--quiet", "--scale", "0.01", "--seed", "1",
        ])
        .args(["--end-year", "2035", "--report", "--out"])
        .arg(&ens)
        .assert()
        .success();
    let html = fs::read_to_string(ens.join("report.html")).expect("ensemble --report");
    let charts = svg_charts(&html);
    // An ensemble keeps each run's age structure and drivers: their means are drawn, with
    // the 5-95% range across runs.
    assert_eq!(charts.len(), RUN_CHARTS.len());
    assert!(!html.contains("id=\"not-drawn\""));
    assert_series(
        &charts,
        "pyramids",
        &["men (mean)", "women (mean)", "5-95% of runs"],
    );
    assert_series(
        &charts,
        "drivers",
        &["job loss", "wage gap", "cold climate"],
    );
    assert!(html.contains("Lines are the mean across 2 runs, bands the 5-95% range"));
    // The page says what its bands cover and what they do not.
    assert!(html.contains("id=\"uncertainty\"") && html.contains("seed noise"));
    assert!(html.contains("parameter uncertainty") && html.contains("structural uncertainty"));
    assert!(html.contains("id=\"summary\"") && html.contains("the population falls from"));
    assert_series(
        &charts,
        "population",
        &["population", "births", "emigrants"],
    );
    assert_series(&charts, "jobs", &["coal", "services", "unemployment rate"]);
    // The 5-95% band is a translucent polygon under each median line.
    let bands = charts["population"].matches("<polygon").count();
    assert!(
        bands >= 5,
        "expected a band per series, found {bands} polygons"
    );
    assert!(html.contains("2 runs") && html.contains("base seed 1"));
    assert!(
        html.contains(" ± "),
        "targets of an ensemble show mean ± sd"
    );
    // The ensemble page as a browser shows it: every chart, no console error, not blank.
    check_in_chromium(&ens.join("report.html"), RUN_CHARTS.len(), dir.path());

    let page = dir.path().join("comparison.html");
    shrinkcity()
        .arg("report")
        .args([&a, &cold_free, &ens])
        .arg("--out")
        .arg(&page)
        .assert()
        .success();
    let html = fs::read_to_string(&page).unwrap();
    let charts = svg_charts(&html);
    assert!(html.contains("Comparison of 3 folders"));
    assert_eq!(
        charts.len(),
        RUN_CHARTS.len() + 1,
        "every chart, and the effects against the first folder"
    );
    assert_series(
        &charts,
        "effects",
        &[
            "Population: difference from seed1",
            "Unemployment rate: difference from seed1",
            "no_cold",
            "percentage points",
        ],
    );
    let folders = ["seed1", "no_cold", "ens (median, 5-95%)"];
    for id in [
        "population",
        "jobs",
        "housing",
        "vacancy",
        "retail",
        "job-flows",
    ] {
        assert_series(&charts, id, &folders);
    }
    // Several metrics on one panel become one panel per metric.
    assert_series(
        &charts,
        "population",
        &["Births", "Deaths", "Emigrants", "Immigrants"],
    );
    assert_series(
        &charts,
        "jobs",
        &["Coal jobs", "Services jobs", "Unemployment rate"],
    );
    assert_series(&charts, "pyramids", &["seed1", "no_cold"]);
    assert_series(
        &charts,
        "drivers",
        &["Emigrants by reason: seed1", "Emigrants by reason: no_cold"],
    );

    check_in_chromium(&page, RUN_CHARTS.len() + 1, dir.path());
}

/// The `data-value` of the effects table's cell for `metric` in `year` of `scenario`.
fn effect_cell(html: &str, metric: &str, year: i32, scenario: &str) -> f64 {
    let key = format!(
        "data-metric=\"{metric}\" data-year=\"{year}\" data-scenario=\"{scenario}\" data-value=\""
    );
    let at = html
        .find(&key)
        .unwrap_or_else(|| panic!("no effect cell `{key}`"))
        + key.len();
    html[at..at + html[at..].find('"').unwrap()]
        .parse()
        .unwrap()
}

/// summary.csv's `metric` column by year.
fn column(dir: &Path, metric: &str) -> BTreeMap<i32, f64> {
    let mut r = csv::Reader::from_path(dir.join("summary.csv")).unwrap();
    let h = r.headers().unwrap().clone();
    let c = h.iter().position(|x| x == metric).unwrap();
    r.records()
        .map(|rec| {
            let rec = rec.unwrap();
            (rec[0].parse().unwrap(), rec[c].parse().unwrap())
        })
        .collect()
}

#[test]
fn a_comparison_shows_each_scenarios_effect_as_scenario_minus_baseline() {
    let dir = tempfile::tempdir().unwrap();
    let base = dir.path().join("base");
    quick_run(&base, "4", &[]);
    let digital = dir.path().join("dig");
    quick_run(
        &digital,
        "4",
        &["--config", "config/scenarios/digital.toml"],
    );
    let page = dir.path().join("cmp.html");
    shrinkcity()
        .arg("report")
        .args([&base, &digital])
        .arg("--out")
        .arg(&page)
        .assert()
        .success();
    let html = fs::read_to_string(&page).unwrap();
    // Legends and tables name the scenario from its config, with its hypothesis.
    assert!(
        html.contains("<b>digital</b>") && html.contains("Hypothesis:</b> the digital economy")
    );
    let charts = svg_charts(&html);
    assert_series(
        &charts,
        "effects",
        &["digital", "Price per m²: difference from baseline"],
    );
    let (b, d) = (column(&base, "population"), column(&digital, "population"));
    let (bu, du) = (
        column(&base, "unemployment_rate"),
        column(&digital, "unemployment_rate"),
    );
    for year in [2030, 2035] {
        assert_eq!(
            effect_cell(&html, "population", year, "digital"),
            d[&year] - b[&year]
        );
        let du_cell = effect_cell(&html, "unemployment_rate", year, "digital");
        assert!((du_cell - (du[&year] - bu[&year])).abs() < 1e-12);
    }
    assert!(
        d[&2035] != b[&2035],
        "the scenario moves the population by 2035"
    );
    // The summary says how far the scenario moves the outcomes.
    assert!(html.contains("Against baseline in 2035, digital changes the population by"));
    // Key figures: 2015 is the same in both folders, so it is one cell, not two rows.
    assert!(
        html.contains("class=\"nowrap\" rowspan=\"2\">"),
        "identical years are merged"
    );

    // Every chart also travels as a standalone SVG with its title, seeds and source.
    let charts_dir = dir.path().join("charts");
    let mut n = 0;
    for e in fs::read_dir(&charts_dir).unwrap() {
        let text = fs::read_to_string(e.unwrap().path()).unwrap();
        let doc = roxmltree::Document::parse(&text).expect("a standalone chart is well-formed");
        let all: Vec<&str> = doc.descendants().filter_map(|n| n.text()).collect();
        let all = all.join(" ");
        assert!(
            all.contains("seed 4") && all.contains("Source: shrinkcity"),
            "{all}"
        );
        n += 1;
    }
    assert_eq!(n, RUN_CHARTS.len() + 1);
    assert!(charts_dir.join("cmp-effects.svg").is_file());
}

#[test]
fn sweep_and_sensitivity_folders_get_pages_of_their_own() {
    let dir = tempfile::tempdir().unwrap();
    let sweep = dir.path().join("sweep");
    shrinkcity()
        .args(["sweep", "--quiet", "--scale", "0.01", "--end-year", "2030"])
        .args([
            "--param",
            "migration.climate_weight=0:1:3",
            "--runs",
            "2",
            "--out",
        ])
        .arg(&sweep)
        .assert()
        .success();
    shrinkcity().arg("report").arg(&sweep).assert().success();
    let html = fs::read_to_string(sweep.join("report.html")).unwrap();
    let charts = svg_charts(&html);
    assert_series(
        &charts,
        "sweep-population",
        &[
            "Population in 2030 against migration.climate_weight",
            "mean, 5-95% across replicates",
        ],
    );
    assert!(charts.len() == 4 && html.contains("id=\"summary\""));
    check_in_chromium(&sweep.join("report.html"), 4, dir.path());

    let sens = dir.path().join("sens");
    shrinkcity()
        .args([
            "sensitivity",
            "--quiet",
            "--scale",
            "0.01",
            "--end-year",
            "2030",
        ])
        .args(["--param", "migration.climate_weight=0:1"])
        .args(["--param", "labour.local_wage_growth=0.01:0.05"])
        .args(["--param", "housing.ask_heat=0.1:0.2"])
        .args([
            "--trajectories",
            "3",
            "--output",
            "population_2030",
            "--out",
        ])
        .arg(&sens)
        .assert()
        .success();
    shrinkcity().arg("report").arg(&sens).assert().success();
    let html = fs::read_to_string(sens.join("report.html")).unwrap();
    let first = fs::read_to_string(sens.join("report.html")).unwrap();
    shrinkcity().arg("report").arg(&sens).assert().success();
    assert_eq!(
        fs::read_to_string(sens.join("report.html")).unwrap(),
        first,
        "the bootstrap draws from a fixed seed"
    );
    let charts = svg_charts(&html);
    assert_series(
        &charts,
        "morris-population-2030",
        &["migration.climate_weight", "σ"],
    );
    // The ranking is by μ*, largest first.
    let key = "data-output=\"population_2030\" data-value=\"";
    let mu: Vec<f64> = html
        .match_indices(key)
        .map(|(at, _)| {
            let rest = &html[at + key.len()..];
            rest[..rest.find('"').unwrap()].parse().unwrap()
        })
        .collect();
    assert_eq!(mu.len(), 3);
    assert!(mu.windows(2).all(|w| w[0] >= w[1]), "{mu:?}");
    assert!(html.contains("95% interval of μ*"));
    check_in_chromium(&sens.join("report.html"), 1, dir.path());
}

#[test]
fn report_of_a_folder_without_a_run_is_a_usage_error() {
    let dir = tempfile::tempdir().unwrap();
    shrinkcity()
        .arg("report")
        .arg(dir.path())
        .assert()
        .code(2)
        .stderr(predicates::str::contains("neither summary.csv"));
}

/// Debian's `chromium`, or a clear failure: these tests must not pass without a browser.
fn chromium() -> PathBuf {
    let path = std::env::var_os("PATH").unwrap_or_default();
    for name in ["chromium", "chromium-browser", "google-chrome"] {
        for dir in std::env::split_paths(&path) {
            let candidate = dir.join(name);
            if candidate.is_file() {
                return candidate;
            }
        }
    }
    panic!(
        "headless Chromium is needed to check the report page, and none is installed: \
         run `apt-get install -y chromium` (.ci/run does this before `cargo test`)"
    );
}

/// Run headless Chromium on `page` with `args`; returns (stdout, stderr). Fails after 90 s.
fn headless(page: &Path, args: &[String], work: &Path, name: &str) -> (String, String) {
    let profile = tempfile::tempdir_in(work).unwrap();
    let (out, err) = (
        work.join(format!("{name}.out")),
        work.join(format!("{name}.err")),
    );
    let mut child = Command::new(chromium())
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--hide-scrollbars",
            "--enable-logging=stderr",
            "--v=0",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .args(args)
        .arg(format!("file://{}", page.canonicalize().unwrap().display()))
        .stdin(Stdio::null())
        .stdout(fs::File::create(&out).unwrap())
        .stderr(fs::File::create(&err).unwrap())
        .spawn()
        .expect("chromium starts");
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if started.elapsed() > Duration::from_secs(90) {
            child.kill().ok();
            child.wait().ok();
            panic!("chromium did not finish within 90 s");
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    let stderr = fs::read_to_string(&err).unwrap_or_default();
    assert!(status.success(), "chromium failed ({status}):\n{stderr}");
    (fs::read_to_string(&out).unwrap_or_default(), stderr)
}

/// The page loads with `n_charts` charts in its DOM and no console error, and its
/// screenshot is a picture, not a blank page.
fn check_in_chromium(page: &Path, n_charts: usize, work: &Path) {
    let (dom, stderr) = headless(page, &["--dump-dom".into()], work, "dom");
    assert_eq!(
        dom.matches("<svg class=\"chart\"").count(),
        n_charts,
        "charts in the loaded page"
    );
    let ids: &[&str] = if n_charts >= RUN_CHARTS.len() {
        &["chart-population", "chart-housing", "chart-jobs"]
    } else {
        &[]
    };
    for id in ids {
        assert!(
            dom.contains(&format!("id=\"{id}\"")),
            "{id} missing in the DOM"
        );
    }
    for bad in ["Uncaught", "ERROR:CONSOLE", "Failed to load resource"] {
        assert!(
            !stderr.contains(bad),
            "console error in chromium:\n{stderr}"
        );
    }

    let shot = work.join("page.png");
    headless(
        page,
        &[
            format!("--screenshot={}", shot.display()),
            "--window-size=1280,2000".into(),
        ],
        work,
        "shot",
    );
    let decoder = png::Decoder::new(std::io::BufReader::new(fs::File::open(&shot).unwrap()));
    let mut reader = decoder.read_info().expect("the screenshot is a PNG");
    let mut buf = vec![0; reader.output_buffer_size().expect("a sane PNG")];
    let info = reader.next_frame(&mut buf).unwrap();
    assert_eq!((info.width, info.height), (1280, 2000));
    let channels = info.color_type.samples();
    let pixels: Vec<&[u8]> = buf[..info.buffer_size()].chunks(channels).collect();
    let mut counts: BTreeMap<&[u8], usize> = BTreeMap::new();
    for p in &pixels {
        *counts.entry(p).or_default() += 1;
    }
    let commonest = counts.values().max().copied().unwrap_or(0);
    assert!(
        counts.len() > 200,
        "only {} distinct colours: is the page blank?",
        counts.len()
    );
    assert!(
        commonest < pixels.len() * 9 / 10,
        "one colour covers over 90% of the screenshot"
    );
}
