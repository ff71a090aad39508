//! Every config key, for `shrinkcity keys`: derived from the built-in baseline, never
//! listed by hand. The paths and types come from the baseline's TOML table, what each key
//! accepts from the checks in `validate.rs` run over the baseline, and the meaning, unit and
//! source from the baseline's comment for the key ("meaning, unit (source)").

use toml::{Table, Value};

use super::{BASELINE_TOML, baseline, lever, validate};

/// One config key as `shrinkcity keys` shows it.
#[derive(Clone, Debug, PartialEq)]
pub struct Key {
    /// Dotted path, as `--set` takes it: `labour.retirement_age_men`.
    pub path: String,
    /// `number`, `integer`, `string`, `series [[year, value], ...]`, `list of N numbers` or
    /// `list of names`.
    pub kind: String,
    /// What the checks accept (`a number from 40 to 80`); `None` when nothing is checked.
    pub accepted: Option<String>,
    /// The unit, when the comment ends its meaning with one (`yuan/yr`, `Mt`, `per year`).
    pub unit: Option<String>,
    /// What the key means, from its comment in config/baseline.toml.
    pub meaning: String,
    /// Where the value comes from (the comment's trailing parentheses), if given.
    pub source: Option<String>,
    /// The baseline's value, as TOML.
    pub baseline: String,
    /// For a series key, how to set it: a number, a ramp or the whole series (`lever.rs`).
    pub set: Option<String>,
}

/// Every key of the config, in the baseline's order, whose path contains `pattern`
/// (case-insensitive; `None` or empty: all).
pub fn keys(pattern: Option<&str>) -> Vec<Key> {
    // The baseline as the schema reads it, so `population = 1000000` is a number (f64).
    let config = baseline();
    let Ok(Value::Table(table)) = Value::try_from(&config) else {
        unreachable!("a config serializes to a table")
    };
    let accepted = validate::accepted(&config);
    let comments = comments(BASELINE_TOML);
    let mut paths = Vec::new();
    leaves(&table, "", &mut paths);
    // File order (the table's is alphabetical): where each key's comment was found.
    paths.sort_by_key(|(path, _)| {
        comments
            .iter()
            .position(|(k, _)| k == path)
            .unwrap_or(usize::MAX)
    });
    let pattern = pattern.unwrap_or("").to_lowercase();
    paths
        .into_iter()
        .filter(|(path, _)| path.to_lowercase().contains(&pattern))
        .map(|(path, value)| {
            let comment = comments
                .iter()
                .find(|(k, _)| *k == path)
                .map_or("", |(_, c)| c.as_str());
            let (meaning, unit, source) = split_comment(comment);
            let set = is_series(value).then(|| lever::forms(Some(config.run.lever_start_year)));
            Key {
                set,
                kind: kind(value),
                accepted: accepted.get(&path).cloned(),
                unit,
                meaning,
                source,
                baseline: value.to_string(),
                path,
            }
        })
        .collect()
}

/// The dotted path of every value that is not a table, in table order.
pub fn leaves<'a>(table: &'a Table, prefix: &str, out: &mut Vec<(String, &'a Value)>) {
    for (k, v) in table {
        let path = if prefix.is_empty() {
            k.clone()
        } else {
            format!("{prefix}.{k}")
        };
        match v {
            Value::Table(t) => leaves(t, &path, out),
            v => out.push((path, v)),
        }
    }
}

fn is_series(v: &Value) -> bool {
    matches!(v, Value::Array(a) if !a.is_empty() && a.iter().all(Value::is_array))
}

fn kind(v: &Value) -> String {
    match v {
        Value::Float(_) => "number".into(),
        Value::Integer(_) => "integer".into(),
        Value::String(_) => "string".into(),
        Value::Boolean(_) => "true or false".into(),
        v if is_series(v) => "series [[year, value], ...]".into(),
        Value::Array(a) if a.iter().all(Value::is_str) => "list of names".into(),
        Value::Array(a) => format!("list of {} numbers", a.len()),
        _ => "value".into(),
    }
}

/// Each key's comment: on its own line after the value, else the comment lines just above
/// it, else the comment on its section's header (`[city.wages]  # mean wage by sector...`).
fn comments(text: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut section = String::new();
    let mut section_comment = String::new();
    let mut above: Vec<&str> = Vec::new();
    for line in text.lines() {
        let t = line.trim();
        if let Some(c) = t.strip_prefix('#') {
            above.push(c.trim());
            continue;
        }
        if t.is_empty() {
            above.clear();
            continue;
        }
        let (code, comment) = split_code(t);
        if let Some(h) = code.strip_prefix('[').and_then(|h| h.strip_suffix(']')) {
            section = h.trim().to_string();
            section_comment = comment.unwrap_or("").to_string();
            above.clear();
            continue;
        }
        let Some((k, _)) = code.split_once('=') else {
            // The continuation of a value spread over several lines.
            continue;
        };
        let comment = match comment {
            Some(c) if !c.is_empty() => c.to_string(),
            _ if !above.is_empty() => above.join(" "),
            _ => section_comment.clone(),
        };
        let key = k.trim();
        let path = if section.is_empty() {
            key.to_string()
        } else {
            format!("{section}.{key}")
        };
        out.push((path, comment));
        above.clear();
    }
    out
}

/// A line's code and its trailing comment (a `#` outside a string).
fn split_code(line: &str) -> (&str, Option<&str>) {
    let mut in_string = false;
    for (i, c) in line.char_indices() {
        match c {
            '"' => in_string = !in_string,
            '#' if !in_string => return (line[..i].trim(), Some(line[i + 1..].trim())),
            _ => {}
        }
    }
    (line.trim(), None)
}

/// Whether the last comma-separated part of a comment reads as a unit (`yuan/m2`, `Mt`,
/// `per year`, `0-1`, `degrees C`) rather than the end of the meaning (`men`, `inclusive`).
fn is_unit(part: &str) -> bool {
    const WORDS: [&str; 9] = [
        "people",
        "households",
        "year",
        "years",
        "m2",
        "Mt",
        "yuan",
        "fraction",
        "degrees C",
    ];
    WORDS.contains(&part) || part.starts_with("per ") || part.contains('/') || is_range(part)
}

/// `0-1`, `12-60`: two numbers joined by a dash.
fn is_range(part: &str) -> bool {
    part.split_once('-')
        .is_some_and(|(a, b)| a.parse::<f64>().is_ok() && b.parse::<f64>().is_ok())
}

/// "meaning, unit (source) (source)" into its parts. The unit is the last comma-separated
/// part when it reads as one; the source, the parentheses at the end. In "meaning, unit,
/// range" the unit is the part before the range, which the accepted values already state.
fn split_comment(comment: &str) -> (String, Option<String>, Option<String>) {
    let mut rest = comment.trim();
    let mut sources = Vec::new();
    while rest.ends_with(')') {
        let mut depth = 0;
        let mut open = None;
        for (i, c) in rest.char_indices().rev() {
            match c {
                ')' => depth += 1,
                '(' => {
                    depth -= 1;
                    if depth == 0 {
                        open = Some(i);
                        break;
                    }
                }
                _ => {}
            }
        }
        let Some(open) = open else { break };
        if open == 0 {
            // The whole comment is in parentheses: it is the meaning.
            break;
        }
        sources.insert(0, rest[open + 1..rest.len() - 1].trim().to_string());
        rest = rest[..open].trim_end();
    }
    let source = (!sources.is_empty()).then(|| sources.join("; "));
    let (meaning, unit) = match rest.rsplit_once(", ") {
        Some((m, u)) if is_unit(u) => match m.rsplit_once(", ") {
            Some((m2, u2)) if is_range(u) && is_unit(u2) && !is_range(u2) => {
                (m2.to_string(), Some(u2.to_string()))
            }
            _ => (m.to_string(), Some(u.to_string())),
        },
        _ => (rest.to_string(), None),
    };
    (meaning, unit, source)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_comment_splits_into_meaning_unit_and_source() {
        let (m, u, s) = split_comment(
            "city mean price in the start year, yuan/m2 (article: \"over 10,000\") (calibrated)",
        );
        assert_eq!(m, "city mean price in the start year");
        assert_eq!(u.as_deref(), Some("yuan/m2"));
        assert_eq!(s.as_deref(), Some("article: \"over 10,000\"; calibrated"));
        let (m, u, s) = split_comment("m in hires = m U^a V^(1-a) per year (calibrated)");
        assert_eq!(m, "m in hires = m U^a V^(1-a) per year");
        assert_eq!((u, s.as_deref()), (None, Some("calibrated")));
        let (m, u, _) = split_comment("statutory retirement age, men (DOMAIN.md)");
        assert_eq!((m.as_str(), u), ("statutory retirement age, men", None));
        assert_eq!(
            split_comment("mean tolerance of cold, 0-1").1.as_deref(),
            Some("0-1")
        );
        let (m, u, s) = split_comment("youngest head of an arrival, years, 16-100 (assumption)");
        assert_eq!(m, "youngest head of an arrival");
        assert_eq!(
            (u.as_deref(), s.as_deref()),
            (Some("years"), Some("assumption"))
        );
        assert_eq!(
            split_comment("gompertz slope, per year of age")
                .1
                .as_deref(),
            Some("per year of age")
        );
    }

    #[test]
    fn every_baseline_key_has_a_type_a_comment_and_a_checked_range_or_none_needed() {
        let all = keys(None);
        assert!(all.len() > 100, "{}", all.len());
        for k in &all {
            assert!(
                !k.meaning.is_empty() || k.source.is_some(),
                "{} has no comment in config/baseline.toml",
                k.path
            );
        }
        let sector = all
            .iter()
            .find(|k| k.path == "city.wages.coal")
            .expect("sector keys are listed");
        assert!(sector.meaning.contains("mean wage by sector"), "{sector:?}");
        assert_eq!(
            sector.accepted.as_deref(),
            Some("a number from 1 to 10000000")
        );
        let shares = all
            .iter()
            .find(|k| k.path == "city.age_band_shares")
            .unwrap();
        assert!(
            shares.meaning.starts_with("Share of residents"),
            "{shares:?}"
        );
        assert_eq!(shares.kind, "list of 18 numbers");
        let staff = all
            .iter()
            .find(|k| k.path == "labour.staff_sectors")
            .unwrap();
        assert_eq!(staff.kind, "list of names");
        assert!(
            staff
                .accepted
                .as_deref()
                .is_some_and(|a| a.contains("high_tech")),
            "{staff:?}"
        );
        let population = all.iter().find(|k| k.path == "city.population").unwrap();
        assert_eq!(population.kind, "number");
        assert_eq!(population.unit.as_deref(), Some("people"));
        assert_eq!(population.set, None);
        let lever = all
            .iter()
            .find(|k| k.path == "policy.high_tech_jobs")
            .unwrap();
        let set = lever
            .set
            .as_deref()
            .expect("a series key says how to set it");
        assert!(
            set.contains("run.lever_start_year (2026)") && set.contains("0@2026..30000@2030"),
            "{set}"
        );
    }
}
