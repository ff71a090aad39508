//! Config errors. Each names the file, the key and (where it can be found) the line, and
//! says what would be accepted. The CLI maps all of them to exit code 2.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read config {path}: {reason} (check the path given to --config)")]
    Unreadable { path: PathBuf, reason: String },

    #[error("{file}: not valid TOML: {message}")]
    Parse { file: String, message: String },

    #[error("{file}{}: `{key}`: {message}", line_suffix(*line))]
    Invalid {
        file: String,
        key: String,
        line: Option<usize>,
        message: String,
    },

    #[error("{file}{}: `{key}` = {value} is out of range; accepted: {accepted}", line_suffix(*line))]
    OutOfRange {
        file: String,
        key: String,
        line: Option<usize>,
        value: String,
        accepted: String,
    },

    #[error("--set {key}: no such config key{}; {}", suggestion.as_ref().map_or(String::new(), |s| format!(" (did you mean `{s}`?)")), keys_hint(pattern.as_deref()))]
    UnknownKey {
        key: String,
        suggestion: Option<String>,
        /// A word of the key that other keys contain, for `shrinkcity keys PATTERN`.
        pattern: Option<String>,
    },

    #[error(
        "{file}: `{key}` is missing; a scenario usually starts with `base = \"baseline\"` to take every key it does not set from the baseline (`shrinkcity keys` lists every key)"
    )]
    MissingWithoutBase { file: String, key: String },

    #[error("{file}{}: `base = {base:?}`: cannot read {tried}: {reason}; write `base = \"baseline\"` for the built-in baseline, or a path relative to the folder of {file}", line_suffix(*line))]
    BadBase {
        file: String,
        line: Option<usize>,
        base: String,
        tried: PathBuf,
        reason: String,
    },

    #[error("--set {assignment}: {message}")]
    BadOverride { assignment: String, message: String },
}

fn keys_hint(pattern: Option<&str>) -> String {
    match pattern {
        Some(p) => format!(
            "`shrinkcity keys {p}` lists the keys with `{p}` in their name (`shrinkcity keys`: all)"
        ),
        None => "`shrinkcity keys PATTERN` lists the keys with PATTERN in their name".into(),
    }
}

fn line_suffix(line: Option<usize>) -> String {
    line.map_or(String::new(), |l| format!(", line {l}"))
}

/// An input error that is not about the config file: a flag value out of range, a folder
/// that is not what the command needs, a bad output name. Library floors return it so the
/// caller can tell the user's mistake from a failure; the CLI maps it to exit code 2.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct UsageError(pub String);

impl UsageError {
    /// A usage error as an `anyhow::Error`, for functions that return `anyhow::Result`.
    pub fn msg(message: impl Into<String>) -> anyhow::Error {
        UsageError(message.into()).into()
    }
}
