//! Config: read TOML (a file, or the baseline compiled into the binary), merge a scenario
//! over the config it names in `base`, apply `--set KEY=VALUE` overrides, place the levers
//! (a number or a ramp given for a series key, `lever.rs`), deserialize with unknown keys
//! rejected, then range-check. The model only ever sees a validated `Config`.

mod error;
mod keys;
pub mod lever;
mod schema;
mod series;
mod validate;

pub use error::{ConfigError, UsageError};
pub use keys::{Key, keys, leaves};
pub use schema::*;
pub use series::Series;

use std::path::{Path, PathBuf};
use toml::{Table, Value};

/// The baseline config, compiled in so `shrinkcity run` works from any folder.
pub const BASELINE_TOML: &str = include_str!("../../config/baseline.toml");

/// One source text, kept so errors can point at its lines.
#[derive(Clone, Debug)]
struct Source {
    name: String,
    text: String,
}

/// A loaded, validated config and where it came from.
#[derive(Clone, Debug)]
pub struct Loaded {
    pub config: Config,
    /// File name without extension (`baseline` when built in): the default output folder.
    pub stem: String,
}

/// Load `path` (or the built-in baseline), apply overrides, validate.
pub fn load(path: Option<&Path>, overrides: &[String]) -> Result<Loaded, ConfigError> {
    let mut sources = Vec::new();
    let (table, stem) = match path {
        None => (
            read_table(builtin_source(), &mut sources)?,
            "baseline".to_string(),
        ),
        Some(p) => {
            let table = read_file_table(p, &mut sources, 0)?;
            let stem = p
                .file_stem()
                .map_or("run".into(), |s| s.to_string_lossy().into_owned());
            (table, stem)
        }
    };
    let without_base = path.is_some() && sources.len() == 1;
    let config = from_table(table, overrides, &sources).map_err(|e| match e {
        // A file with no `base` must set every key: say so, not serde's "missing field".
        ConfigError::Invalid {
            file, key, message, ..
        } if without_base && message.starts_with("missing field `") => {
            let field = message["missing field `".len()..]
                .split('`')
                .next()
                .unwrap_or_default();
            let key = if key.is_empty() || key == "." {
                field.to_string()
            } else {
                format!("{key}.{field}")
            };
            ConfigError::MissingWithoutBase { file, key }
        }
        e => e,
    })?;
    Ok(Loaded { config, stem })
}

/// Parse a complete config from a TOML string (no `base`, no overrides): for tests.
pub fn from_str(text: &str) -> Result<Config, ConfigError> {
    let mut sources = Vec::new();
    let table = read_table(
        Source {
            name: "<string>".into(),
            text: text.into(),
        },
        &mut sources,
    )?;
    from_table(table, &[], &sources)
}

/// `config` with `--set`-style overrides applied, validated again.
pub fn with_overrides(config: &Config, overrides: &[String]) -> Result<Config, ConfigError> {
    let text = to_toml(config);
    let mut sources = Vec::new();
    let table = read_table(
        Source {
            name: "<resolved config>".into(),
            text,
        },
        &mut sources,
    )?;
    from_table(table, overrides, &sources)
}

/// The numeric value of a dotted key (`migration.intercept`); for a series key, its value in
/// `run.lever_start_year` (the level a number given for it sets).
pub fn get(config: &Config, key: &str) -> Result<f64, ConfigError> {
    let value = toml::Value::try_from(config).expect("config serializes");
    let mut node = &value;
    for part in key.split('.') {
        node = node
            .get(part)
            .ok_or_else(|| unknown_key(key.into(), None))?;
    }
    if let Some(series) = series_value(node) {
        return Ok(series.at(config.run.lever_start_year));
    }
    node.as_float()
        .or_else(|| node.as_integer().map(|i| i as f64))
        .ok_or_else(|| ConfigError::BadOverride {
            assignment: key.into(),
            message: "not a number: only numeric keys can be calibrated".into(),
        })
}

/// Whether a dotted key holds a series (`policy.high_tech_jobs`), where a number or a ramp is
/// a lever.
pub fn is_series(config: &Config, key: &str) -> bool {
    let value = toml::Value::try_from(config).expect("config serializes");
    key.split('.')
        .try_fold(&value, |v, part| v.get(part))
        .and_then(series_value)
        .is_some()
}

fn series_value(node: &Value) -> Option<Series> {
    match node {
        Value::Array(a) if !a.is_empty() && a.iter().all(Value::is_array) => {
            node.clone().try_into().ok()
        }
        _ => None,
    }
}

/// The built-in baseline, validated.
pub fn baseline() -> Config {
    from_str(BASELINE_TOML).expect("the built-in baseline is valid")
}

fn builtin_source() -> Source {
    Source {
        name: "config/baseline.toml (built in)".into(),
        text: BASELINE_TOML.into(),
    }
}

fn from_table(
    mut table: Table,
    overrides: &[String],
    sources: &[Source],
) -> Result<Config, ConfigError> {
    for o in overrides {
        overrides_apply(&mut table, o)?;
    }
    let file = sources.last().map_or(String::new(), |s| s.name.clone());
    let placed = lever::resolve(&mut table);
    // Where a key's value came from: the last `--set` that gave it, else its file and line.
    let origin = |key: &str| {
        let set_here = |o: &&String| {
            o.split_once('=').is_some_and(|(k, _)| {
                let k = k.trim();
                key == k
                    || key.starts_with(&format!("{k}."))
                    || key.starts_with(&format!("{k}["))
                    // A check on a whole section blames a --set inside it.
                    || k.starts_with(&format!("{key}."))
            })
        };
        match overrides.iter().rev().find(set_here) {
            Some(o) => (format!("--set {}", one_line(o)), None),
            None => locate(sources, key).unwrap_or((file.clone(), None)),
        }
    };
    placed.map_err(|u| {
        let (file, line) = origin(&u.key);
        ConfigError::Invalid {
            file,
            key: u.key,
            line,
            message: u.message,
        }
    })?;
    let config: Config = serde_path_to_error::deserialize(Value::Table(table)).map_err(|e| {
        let key = e.path().to_string();
        let (file, line) = origin(&key);
        let now = renamed(&key).map_or(String::new(), |new| {
            format!("; it was replaced by `{new}` (`shrinkcity keys {new}` says what it means)")
        });
        ConfigError::Invalid {
            file,
            line,
            // serde adds "\nin `key`", which the error already names: keep one line.
            message: e
                .into_inner()
                .to_string()
                .lines()
                .filter(|l| !l.starts_with("in `"))
                .collect::<Vec<_>>()
                .join("; ")
                + &now,
            key,
        }
    })?;
    validate::validate(&config).map_err(|v| {
        let (file, line) = origin(&v.key);
        ConfigError::OutOfRange {
            file,
            key: v.key,
            line,
            value: v.value,
            accepted: v.accepted,
        }
    })?;
    Ok(config)
}

fn read_file_table(
    path: &Path,
    sources: &mut Vec<Source>,
    depth: u32,
) -> Result<Table, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|e| ConfigError::Unreadable {
        path: path.to_path_buf(),
        reason: e.to_string(),
    })?;
    let source = Source {
        name: path.display().to_string(),
        text,
    };
    let mut table = read_table(source, sources)?;
    // A scenario names the config it modifies; its own keys win.
    if let Some(base) = table.remove("base") {
        let Value::String(base) = base else {
            return Err(ConfigError::Invalid {
                file: path.display().to_string(),
                key: "base".into(),
                line: None,
                message:
                    "`base` must be a file path string, or \"baseline\" for the built-in baseline"
                        .into(),
            });
        };
        if depth > 8 {
            return Err(ConfigError::Invalid {
                file: path.display().to_string(),
                key: "base".into(),
                line: None,
                message: "`base` chain deeper than 8 files (a cycle?)".into(),
            });
        }
        let mut base_table = if base == "baseline" {
            read_table(builtin_source(), sources)?
        } else {
            let base_path: PathBuf = path.parent().unwrap_or(Path::new(".")).join(&base);
            read_file_table(&base_path, sources, depth + 1).map_err(|e| match e {
                // The `base` line is the mistake, not `--config`: name it and its file.
                ConfigError::Unreadable {
                    path: tried,
                    reason,
                } if tried == base_path => ConfigError::BadBase {
                    file: path.display().to_string(),
                    line: sources
                        .iter()
                        .find(|s| s.name == path.display().to_string())
                        .and_then(|s| locate(std::slice::from_ref(s), "base"))
                        .and_then(|(_, line)| line),
                    base: base.clone(),
                    tried,
                    reason,
                },
                e => e,
            })?
        };
        merge(&mut base_table, table);
        // Keep the scenario file last so its lines are searched first.
        let own = sources.remove(
            sources
                .iter()
                .position(|s| s.name == path.display().to_string())
                .unwrap_or(0),
        );
        sources.push(own);
        return Ok(base_table);
    }
    Ok(table)
}

fn read_table(source: Source, sources: &mut Vec<Source>) -> Result<Table, ConfigError> {
    let table = source
        .text
        .parse::<Table>()
        .map_err(|e| ConfigError::Parse {
            file: source.name.clone(),
            message: one_line_parse_error(&source.text, &e),
        })?;
    sources.push(source);
    Ok(table)
}

/// "line L, column C: what is wrong", on one line (toml's own message draws the line).
fn one_line_parse_error(text: &str, e: &toml::de::Error) -> String {
    let what = e
        .message()
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join("; ");
    match e.span() {
        Some(span) => {
            let start = (0..=span.start.min(text.len()))
                .rev()
                .find(|&i| text.is_char_boundary(i))
                .unwrap_or(0);
            let before = &text[..start];
            let line = before.matches('\n').count() + 1;
            let column = before.len() - before.rfind('\n').map_or(0, |i| i + 1) + 1;
            format!("line {line}, column {column}: {what}")
        }
        None => what,
    }
}

/// `s` with control characters escaped (`\n`), so an error that echoes a `--set` stays on
/// one line.
fn one_line(s: &str) -> String {
    s.chars()
        .flat_map(|c| {
            let escaped: Vec<char> = if c.is_control() {
                c.escape_default().collect()
            } else {
                vec![c]
            };
            escaped
        })
        .collect()
}

/// Deep merge: tables merge key by key; any other value in `over` replaces the base's, a
/// number or ramp given for a series as a lever over it (`lever::assign`).
fn merge(base: &mut Table, over: Table) {
    for (k, v) in over {
        let v = match (base.get_mut(&k), v) {
            (Some(Value::Table(b)), Value::Table(o)) if !lever::is_pending(b) => {
                merge(b, o);
                continue;
            }
            (current, v) => lever::assign(current.as_deref(), v),
        };
        base.insert(k, v);
    }
}

/// Find the file and line that define a dotted key (`housing.ask_cut`), searching
/// the most specific source first.
fn locate(sources: &[Source], key: &str) -> Option<(String, Option<usize>)> {
    let parts: Vec<&str> = key.split('.').filter(|p| !p.is_empty()).collect();
    let (leaf, sections) = parts.split_last()?;
    let section = sections.join(".");
    for s in sources.iter().rev() {
        let mut current = String::new();
        for (i, line) in s.text.lines().enumerate() {
            let t = line.trim();
            if let Some(h) = t.strip_prefix('[').and_then(|h| h.strip_suffix(']')) {
                current = h.trim().to_string();
                continue;
            }
            let Some((k, _)) = t.split_once('=') else {
                continue;
            };
            if current == section && k.trim() == *leaf {
                return Some((s.name.clone(), Some(i + 1)));
            }
        }
    }
    None
}

/// Apply one `--set KEY=VALUE`: the key must already exist (every key is in the config),
/// and the value is parsed as TOML (a bare word falls back to a string). A number or a
/// ramp for a series key is a lever, placed once every override is in (`lever::resolve`).
fn overrides_apply(table: &mut Table, assignment: &str) -> Result<(), ConfigError> {
    let Some((key, raw)) = assignment.split_once('=') else {
        return Err(ConfigError::BadOverride {
            assignment: one_line(assignment),
            message: "expected KEY=VALUE, e.g. --set migration.climate_weight=0".into(),
        });
    };
    let key = key.trim();
    let value = parse_value(raw.trim());
    let parts: Vec<&str> = key.split('.').collect();
    let mut node = &mut *table;
    for (i, part) in parts.iter().enumerate() {
        let known: Vec<String> = node.keys().cloned().collect();
        let Some(entry) = node.get_mut(*part) else {
            let prefix = parts[..i].join(".");
            let candidates: Vec<String> = known
                .iter()
                .map(|k| {
                    if prefix.is_empty() {
                        k.clone()
                    } else {
                        format!("{prefix}.{k}")
                    }
                })
                .collect();
            let suggestion = renamed(key)
                .map(str::to_string)
                .or_else(|| closest(key, &candidates));
            return Err(unknown_key(one_line(key), suggestion));
        };
        if i + 1 == parts.len() {
            if matches!(entry, Value::Table(t) if !lever::is_pending(t)) {
                return Err(ConfigError::BadOverride {
                    assignment: one_line(assignment),
                    message: format!("`{key}` is a section; set one of its keys"),
                });
            }
            *entry = lever::assign(Some(entry), value);
            return Ok(());
        }
        match entry {
            Value::Table(t) if !lever::is_pending(t) => node = t,
            _ => {
                return Err(unknown_key(one_line(key), Some(parts[..=i].join("."))));
            }
        }
    }
    Ok(())
}

/// `key` is not a config key: suggest the closest and a `shrinkcity keys` pattern, the
/// key's last word if other keys contain it (`digital.growth`: `growth`), else the section
/// of the suggestion.
fn unknown_key(key: String, suggestion: Option<String>) -> ConfigError {
    let words = key
        .rsplit('.')
        .chain(suggestion.iter().flat_map(|s| s.split('.')));
    let pattern = words
        .filter(|w| w.len() >= 3)
        .find(|w| !keys(Some(w)).is_empty())
        .map(str::to_string);
    ConfigError::UnknownKey {
        key,
        suggestion,
        pattern,
    }
}

fn parse_value(raw: &str) -> Value {
    format!("v = {raw}")
        .parse::<Table>()
        .ok()
        .and_then(|mut t| t.remove("v"))
        .unwrap_or_else(|| Value::String(raw.into()))
}

/// Keys that are gone, with the key that now holds what they set, so that an old config is
/// told where its value went.
const RENAMED: &[(&str, &str)] = &[
    (
        "labour.public_jobs_adjustment",
        "labour.demand_adjustment.public",
    ),
    ("city.male_share", "city.sex_ratio"),
];

fn renamed(key: &str) -> Option<&'static str> {
    RENAMED
        .iter()
        .find(|(old, _)| *old == key)
        .map(|(_, new)| *new)
}

/// The candidate with the smallest edit distance, if it is close enough to be a typo.
fn closest(key: &str, candidates: &[String]) -> Option<String> {
    candidates
        .iter()
        .map(|c| (levenshtein(key, c), c))
        .min()
        .filter(|(d, _)| *d <= key.len() / 2 + 2)
        .map(|(_, c)| c.clone())
}

fn levenshtein(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            cur[j + 1] = (prev[j] + usize::from(ca != *cb))
                .min(prev[j + 1] + 1)
                .min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

/// The fully resolved config as TOML (written to every run folder).
pub fn to_toml(config: &Config) -> String {
    toml::to_string(config).expect("config serializes")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn baseline_loads_and_round_trips() {
        let c = baseline();
        let again = from_str(&to_toml(&c)).unwrap();
        assert_eq!(to_toml(&c), to_toml(&again));
    }

    #[test]
    fn set_overrides_a_value_by_dotted_path() {
        let l = load(None, &["migration.climate_weight=0".into()]).unwrap();
        assert_eq!(l.config.migration.climate_weight, 0.0);
    }

    #[test]
    fn set_with_unknown_key_suggests_the_closest() {
        let e = load(None, &["migration.climate_wieght=0".into()]).unwrap_err();
        let msg = e.to_string();
        assert!(msg.contains("migration.climate_weight"), "{msg}");
    }

    #[test]
    fn a_key_that_was_replaced_points_to_its_successor() {
        let e = load(None, &["labour.public_jobs_adjustment=0.2".into()]).unwrap_err();
        let msg = e.to_string();
        assert!(msg.contains("labour.demand_adjustment.public"), "{msg}");
        let text = BASELINE_TOML.replace("[labour]\n", "[labour]\npublic_jobs_adjustment = 0.2\n");
        let msg = from_str(&text).unwrap_err().to_string();
        assert!(
            msg.contains("replaced by `labour.demand_adjustment.public`"),
            "{msg}"
        );
        assert!(msg.contains("line"), "{msg}");
    }

    #[test]
    fn set_with_wrong_type_names_the_key() {
        let e = load(None, &["city.estates=\"many\"".into()]).unwrap_err();
        assert!(e.to_string().contains("city.estates"), "{e}");
    }

    #[test]
    fn unknown_key_in_file_is_rejected_with_its_line() {
        let text = BASELINE_TOML.replace("[housing]\n", "[housing]\nprice_responce = 1.0\n");
        let e = from_str(&text).unwrap_err().to_string();
        assert!(e.contains("price_responce"), "{e}");
        assert!(e.contains("line"), "{e}");
    }

    #[test]
    fn out_of_range_value_names_key_origin_and_range() {
        let e = load(None, &["migration.realisation_rate=1.5".into()])
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("migration.realisation_rate") && e.contains("from 0 to 1"),
            "{e}"
        );
        // The value came from --set, not from the baseline's line.
        assert!(e.starts_with("--set migration.realisation_rate=1.5"), "{e}");
    }

    fn scenario(text: &str) -> (tempfile::TempDir, PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("lever.toml");
        std::fs::write(&path, text).unwrap();
        (dir, path)
    }

    #[test]
    fn set_takes_a_number_for_a_series_key_as_a_level_from_the_lever_start_year() {
        // Issue 22: `--set policy.high_tech_jobs=30000` was refused ("expected a sequence").
        let c = load(None, &["policy.high_tech_jobs=30000".into()])
            .unwrap()
            .config;
        assert_eq!(c.run.lever_start_year, 2026);
        assert_eq!(c.policy.high_tech_jobs.at(2025), 0.0);
        assert_eq!(c.policy.high_tech_jobs.at(2026), 30000.0);
        assert_eq!(c.policy.high_tech_jobs.at(2035), 30000.0);
    }

    #[test]
    fn a_scenario_file_and_set_give_a_lever_the_same_meaning() {
        for lever in ["30000", "\"15000@2035\"", "\"0@2026..30000@2030\""] {
            let (_dir, path) = scenario(&format!(
                "base = \"baseline\"\n[policy]\nhigh_tech_jobs = {lever}\n"
            ));
            let from_file = load(Some(&path), &[]).unwrap().config;
            let set = format!("policy.high_tech_jobs={}", lever.trim_matches('"'));
            let from_set = load(None, &[set]).unwrap().config;
            assert_eq!(to_toml(&from_file), to_toml(&from_set), "{lever}");
        }
    }

    #[test]
    fn the_lever_start_year_moves_a_scenario_files_levers_wherever_it_is_set() {
        let (_dir, path) = scenario(
            "base = \"baseline\"\n[run]\nlever_start_year = 2030\n[policy]\nhigh_tech_jobs = 100\n",
        );
        let c = load(Some(&path), &[]).unwrap().config;
        assert_eq!(c.policy.high_tech_jobs.at(2029), 0.0);
        assert_eq!(c.policy.high_tech_jobs.at(2030), 100.0);
        // A later --set of the start year moves the file's lever too.
        let c = load(Some(&path), &["run.lever_start_year=2020".into()])
            .unwrap()
            .config;
        assert_eq!(c.policy.high_tech_jobs.at(2019), 0.0);
        assert_eq!(c.policy.high_tech_jobs.at(2020), 100.0);
    }

    #[test]
    fn the_last_value_given_for_a_series_key_wins() {
        let whole = "policy.amenity_gain=[[2015, 0.1]]".to_string();
        let level = "policy.amenity_gain=0.3".to_string();
        let c = load(None, &[level.clone(), whole.clone()]).unwrap().config;
        assert_eq!(c.policy.amenity_gain, Series(vec![(2015, 0.1)]));
        // A lever changes the series given before it, from the start year.
        let c = load(None, &[whole, level]).unwrap().config;
        assert_eq!(c.policy.amenity_gain.at(2025), 0.1);
        assert_eq!(c.policy.amenity_gain.at(2026), 0.3);
        // A resolved config holds plain series: loading it again changes nothing.
        let again = from_str(&to_toml(&c)).unwrap();
        assert_eq!(again.policy.amenity_gain, c.policy.amenity_gain);
        // with_overrides (sweep points on a resolved config) reads levers the same way.
        let over = with_overrides(&baseline(), &["policy.amenity_gain=0.3".into()]).unwrap();
        assert_eq!(over.policy.amenity_gain.at(2026), 0.3);
        assert_eq!(get(&over, "policy.amenity_gain").unwrap(), 0.3);
        assert!(is_series(&over, "policy.amenity_gain"));
        assert!(!is_series(&over, "migration.intercept"));
    }

    #[test]
    fn a_bad_lever_names_its_key_and_the_forms_a_lever_takes() {
        let e = load(None, &["policy.high_tech_jobs=30000@2020".into()])
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with("--set policy.high_tech_jobs=30000@2020: `policy.high_tech_jobs`")
                && e.contains("set run.lever_start_year=2020"),
            "{e}"
        );
        let e = load(None, &["policy.high_tech_jobs=lots".into()])
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("`lots` is not a lever") && e.contains("0@2026..30000@2030"),
            "{e}"
        );
        // Out of range after placing: the series check names the key and the --set.
        let e = load(None, &["policy.amenity_gain=2".into()])
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with("--set policy.amenity_gain=2: `policy.amenity_gain`"),
            "{e}"
        );
        // In a file: the file and the line.
        let (_dir, path) = scenario("base = \"baseline\"\n[policy]\nhigh_tech_jobs = \"1@2020\"\n");
        let e = load(Some(&path), &[]).unwrap_err().to_string();
        assert!(
            e.contains("lever.toml, line 3: `policy.high_tech_jobs`"),
            "{e}"
        );
    }

    #[test]
    fn a_lever_in_a_file_without_base_says_it_needs_a_series_to_change() {
        let text =
            BASELINE_TOML.replace("high_tech_jobs = [[2010, 0.0]]", "high_tech_jobs = 30000");
        assert_ne!(text, BASELINE_TOML);
        let e = from_str(&text).unwrap_err().to_string();
        assert!(
            e.contains("`policy.high_tech_jobs`") && e.contains("base = \"baseline\""),
            "{e}"
        );
    }
}
