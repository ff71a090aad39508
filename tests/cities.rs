//! Any coal city is a config (docs/CITIES.md): each file in `config/cities/` starts in 2010,
//! set-up builds the city its file states, and it runs to 2035 with no code of its own.

use std::path::{Path, PathBuf};

use shrinkcity::config;
use shrinkcity::experiment::{self, RunSpec};
use shrinkcity::output::record::start_state;

fn city_files() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("config/cities");
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    files.sort();
    files
}

#[test]
fn there_are_the_four_heilongjiang_coal_cities_of_2010() {
    let names: Vec<String> = city_files()
        .iter()
        .map(|p| p.file_stem().unwrap().to_string_lossy().into_owned())
        .collect();
    assert_eq!(
        names,
        [
            "hegang_2010",
            "jixi_2010",
            "qitaihe_2010",
            "shuangyashan_2010"
        ]
    );
}

/// Every stated figure of the start state is built within 1 point (shares and rates) or 1%
/// (counts, the sex ratio and household size), at a scale where sampling noise is well inside.
#[test]
fn each_city_starts_as_its_file_states() {
    for file in city_files() {
        let c = config::load(Some(&file), &[]).unwrap().config;
        assert_eq!(c.run.start_year, 2010, "{}", file.display());
        let mut world = experiment::world(
            &c,
            &RunSpec {
                seed: c.run.seed,
                scale: 0.25,
            },
        );
        let figures = start_state(&mut world);
        assert_eq!(figures.len(), 1 + 18 + 2 + 6 + 2, "{}", file.display());
        for f in figures {
            let fraction = f.measure.starts_with("share") || f.measure.ends_with("rate");
            let gap = (f.built - f.stated).abs();
            let ok = if fraction {
                gap <= 0.01
            } else {
                gap <= 0.01 * f.stated.abs()
            };
            assert!(
                ok,
                "{}: {} stated {} built {}",
                file.display(),
                f.measure,
                f.stated,
                f.built
            );
        }
    }
}

/// A city file changes what the city is, not how people behave: no behaviour section.
#[test]
fn city_files_set_no_behaviour_parameter() {
    for file in city_files() {
        let text = std::fs::read_to_string(&file).unwrap();
        let table: toml::Table = text.parse().unwrap();
        assert_eq!(
            table["base"].as_str(),
            Some("baseline"),
            "{}",
            file.display()
        );
        for section in ["demography", "economy"] {
            assert!(
                !table.contains_key(section),
                "{}: [{section}]",
                file.display()
            );
        }
        // Of the behaviour sections, only drivers and the city's own economy may be stated.
        let allowed: &[(&str, &[&str])] = &[
            ("labour", &["other_resource_coal_share"]),
            ("migration", &["destination_wage"]),
            ("housing", &["completions"]),
            ("policy", &["shantytown_demolitions_per_1000"]),
        ];
        for (section, keys) in allowed {
            if let Some(t) = table.get(*section).and_then(|v| v.as_table()) {
                for k in t.keys() {
                    assert!(
                        keys.contains(&k.as_str()),
                        "{}: {section}.{k}",
                        file.display()
                    );
                }
            }
        }
    }
}

/// Each city runs from 2010 to 2035 and loses people, as every coal city of the province did
/// in the 2010s (the size of the loss is the model's answer, checked against held-back data).
#[test]
fn each_city_runs_from_2010_to_2035() {
    for file in city_files() {
        let c = config::load(Some(&file), &[]).unwrap().config;
        let (initial, records) = experiment::run_to_memory(
            &c,
            &RunSpec {
                seed: 1,
                scale: 0.01,
            },
        );
        let years: Vec<i32> = records.iter().map(|r| r.summary.year).collect();
        assert_eq!(
            years,
            (2010..=2035).collect::<Vec<_>>(),
            "{}",
            file.display()
        );
        let last = records.last().unwrap().summary.population;
        assert!(
            last > 0 && last < initial,
            "{}: {initial} -> {last}",
            file.display()
        );
    }
}
