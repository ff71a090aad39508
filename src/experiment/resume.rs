//! `--resume` for `ensemble`, `sweep` and `sensitivity`: reading back the folder an
//! interrupted experiment left at its `--out` (`complete: false` in its manifest), refusing it
//! when it was made with another config or other options, and carrying its finished runs into
//! the new staging folder. What a finished run is, and how its results are read back, is each
//! command's.

use std::fs;
use std::path::{Path, PathBuf};

use anyhow::Context;

use super::session::Interrupted;
use crate::config::{self, Config, UsageError};
use crate::output::Manifest;

/// An experiment folder found at `--out` by `--resume`.
pub struct Previous {
    pub dir: PathBuf,
    pub manifest: Manifest,
}

/// The folder at `out`, if `resume` and it exists, once checked to be a folder of the same
/// command, made with the same resolved config, the same options (`expected`: the manifest
/// this command would write) and the same `files` (name and bytes, e.g. a sweep's plan).
/// Without `resume` (and `force`), an interrupted folder at `out` is refused with a hint.
pub fn previous(
    out: &Path,
    resume: bool,
    force: bool,
    expected: &Manifest,
    config: &Config,
    files: &[(&str, &[u8])],
) -> anyhow::Result<Option<Previous>> {
    let command = expected.command.as_deref().unwrap_or("run");
    if !resume {
        let interrupted = fs::read(out.join("manifest.json"))
            .ok()
            .and_then(|b| serde_json::from_slice::<Manifest>(&b).ok())
            .is_some_and(|m| !m.complete && m.command.as_deref() == Some(command));
        if interrupted && !force {
            return Err(UsageError::msg(format!(
                "{} holds an interrupted {command}: add --resume to run only its missing runs, add --force to start again, or choose another --out",
                out.display()
            )));
        }
        return Ok(None);
    }
    if !out.exists() {
        return Ok(None);
    }
    let manifest: Manifest = fs::read(out.join("manifest.json"))
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .ok_or_else(|| {
            UsageError::msg(format!(
                "cannot resume {}: it holds no readable manifest.json; choose another --out or add --force (without --resume) to replace it",
                out.display()
            ))
        })?;
    let held = manifest.command.as_deref().unwrap_or("run");
    if held != command {
        return Err(UsageError::msg(format!(
            "cannot resume {}: it holds a `{held}`, not a `{command}`",
            out.display()
        )));
    }
    let mut differences = Vec::new();
    let mut differ = |what: &str, there: String, here: String| {
        if there != here {
            differences.push(format!("{what}: {there} there, {here} here"));
        }
    };
    let show = |x: &Option<String>| x.clone().unwrap_or_else(|| "none".into());
    differ(
        "--seed",
        format!("{:?}", manifest.base_seed.unwrap_or_default()),
        format!("{:?}", expected.base_seed.unwrap_or_default()),
    );
    differ(
        "--scale",
        manifest.scale.to_string(),
        expected.scale.to_string(),
    );
    differ("--shard", show(&manifest.shard), show(&expected.shard));
    differ(
        "--snapshots",
        show(&manifest.snapshots),
        show(&expected.snapshots),
    );
    let format = |m: &Manifest| m.format.clone().unwrap_or_else(|| "csv".into());
    differ("--format", format(&manifest), format(expected));
    differ(
        "runs",
        manifest.runs.unwrap_or_default().to_string(),
        expected.runs.unwrap_or_default().to_string(),
    );
    for (name, bytes) in files {
        let old = fs::read(out.join(name)).unwrap_or_default();
        if old != *bytes {
            differences.push(format!("{name} differs"));
        }
    }
    let old_config = fs::read_to_string(out.join("config.toml")).unwrap_or_default();
    differences.extend(config_differences(&old_config, &config::to_toml(config)));
    if !differences.is_empty() {
        return Err(UsageError::msg(format!(
            "cannot resume {}: it was made with other options ({}); repeat the command it was made with (its manifest.json has the command line), or add --force without --resume to start again",
            out.display(),
            differences.join("; ")
        )));
    }
    Ok(Some(Previous {
        dir: out.to_path_buf(),
        manifest,
    }))
}

/// The dotted keys whose values differ between two `config.toml` texts, as
/// `config KEY: OLD there, NEW here` (at most five, then how many more).
fn config_differences(old: &str, new: &str) -> Vec<String> {
    let leaves = |text: &str| -> std::collections::BTreeMap<String, String> {
        let Ok(table) = text.parse::<toml::Table>() else {
            return Default::default();
        };
        let mut paths = Vec::new();
        config::leaves(&table, "", &mut paths);
        paths.into_iter().map(|(k, v)| (k, v.to_string())).collect()
    };
    let (a, b) = (leaves(old), leaves(new));
    if a.is_empty() {
        return vec!["config.toml is missing or unreadable".into()];
    }
    let keys: std::collections::BTreeSet<&String> = a.keys().chain(b.keys()).collect();
    let none = "(absent)".to_string();
    let mut out: Vec<String> = keys
        .into_iter()
        .filter(|k| a.get(*k) != b.get(*k))
        .map(|k| {
            format!(
                "config {k}: {} there, {} here",
                a.get(k).unwrap_or(&none),
                b.get(k).unwrap_or(&none)
            )
        })
        .collect();
    if out.len() > 5 {
        let more = out.len() - 5;
        out.truncate(5);
        out.push(format!("and {more} more config keys"));
    }
    out
}

/// Put `from` (a file or a folder, recursively) at `to` by hard links, or by copies where a
/// link is refused: the interrupted folder stays whole until the new one replaces it.
pub fn link_or_copy(from: &Path, to: &Path) -> anyhow::Result<()> {
    if from.is_dir() {
        fs::create_dir_all(to).with_context(|| format!("cannot create {}", to.display()))?;
        for e in fs::read_dir(from).with_context(|| format!("cannot read {}", from.display()))? {
            let e = e?;
            link_or_copy(&e.path(), &to.join(e.file_name()))?;
        }
        return Ok(());
    }
    if fs::hard_link(from, to).is_err() {
        fs::copy(from, to)
            .with_context(|| format!("cannot copy {} to {}", from.display(), to.display()))?;
    }
    Ok(())
}

/// The error (exit code 130) of an experiment stopped with `done` of `total` runs kept in
/// `dir`.
pub fn interrupted(done: usize, total: usize, dir: &Path) -> anyhow::Error {
    Interrupted(format!(
        "interrupted: {done} of {total} runs finished and kept in {} (manifest.json: complete false); to run the other {}, repeat the command with --resume",
        dir.display(),
        total - done
    ))
    .into()
}

/// The error of an experiment stopped before any run (or any new run) finished.
pub fn interrupted_early(previous: Option<&Previous>) -> anyhow::Error {
    Interrupted(match previous {
        None => "interrupted before the first run finished: nothing written".into(),
        Some(p) => format!(
            "interrupted before another run finished: {} unchanged",
            p.dir.display()
        ),
    })
    .into()
}
