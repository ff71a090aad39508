//! The one staging folder and the one `manifest.json` of every output folder (a run, an
//! ensemble, a sweep, a sensitivity analysis, a merged sweep). Files go into
//! `.<name>.partial-<pid>` beside the target, which `finish` renames into place, so the
//! target only ever holds a finished folder. What goes inside is the caller's business.

use anyhow::Context;
use serde::{Deserialize, Serialize};
use std::fs;
use std::path::{Path, PathBuf};

use crate::config::{self, Config, UsageError};

/// What a folder's `manifest.json` records. One type for every kind of folder: the fields a
/// kind does not have are `None` and left out, so each kind keeps its own keys in its own
/// order (a run: `seed`, `initial_population` and the `RunYears`; an experiment: `command`,
/// `base_seed`, `runs`, `threads_per_run` and what its command adds).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Manifest {
    pub shrinkcity_version: String,
    /// `ensemble`, `sweep`, `sensitivity` or `merge` (experiment folders).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub command: Option<String>,
    pub config_name: String,
    /// The run's seed (run folders).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seed: Option<u64>,
    /// The seed every run's seed is derived from (experiment folders).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base_seed: Option<u64>,
    pub scale: f64,
    pub start_year: i32,
    pub end_year: i32,
    /// Simulations this folder's command ran (experiment folders).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub runs: Option<usize>,
    /// Threads of the run; for an experiment, runs in parallel.
    pub threads: usize,
    /// Threads inside each run (experiment folders).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub threads_per_run: Option<usize>,
    /// The run seeds, in run order (ensembles).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seeds: Option<Vec<u64>>,
    /// `I/N` for one shard of a sweep.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shard: Option<String>,
    /// The agent snapshot years of every run, as `--snapshots` takes them (ensembles).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub snapshots: Option<String>,
    /// `parquet` when the folder's tables are Parquet (`--format parquet`); left out for CSV.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub format: Option<String>,
    /// The shard folders a merged sweep was joined from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub merged_from: Option<Vec<String>>,
    pub command_line: Vec<String>,
    /// People on 1 January of the start year (run folders).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub initial_population: Option<i64>,
    /// The start state as the config states it and as set-up built it (run folders).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_state: Option<Vec<crate::output::record::StartFigure>>,
    /// Wall time of this invocation (a resumed run counts only its own part).
    pub wall_time_s: f64,
    /// False for a run stopped by Ctrl-C or SIGTERM: `shrinkcity resume` finishes it (an
    /// ensemble or a sweep: the same command with `--resume`).
    pub complete: bool,
    /// In an interrupted experiment folder: the runs finished and kept so far (the same
    /// command with `--resume` runs the others).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub runs_done: Option<usize>,
    /// Which years a run folder holds (run folders).
    #[serde(flatten)]
    pub years: Option<RunYears>,
}

/// The years a run folder holds, and the checkpoints it came from or keeps.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunYears {
    /// The last year whose rows are written (`end_year` when complete).
    pub last_year: i32,
    /// The year `checkpoint.bin` holds the state after, if the folder has one.
    pub checkpoint_year: Option<i32>,
    /// For a resumed or extended run: the checkpoint year it carried on from.
    pub resumed_from_year: Option<i32>,
}

impl Manifest {
    /// An experiment folder's manifest, to be filled in as the command runs.
    pub fn experiment(command: &str, loaded: &config::Loaded, base_seed: u64, scale: f64) -> Self {
        Manifest {
            shrinkcity_version: env!("CARGO_PKG_VERSION").into(),
            command: Some(command.into()),
            config_name: loaded.stem.clone(),
            seed: None,
            base_seed: Some(base_seed),
            scale,
            start_year: loaded.config.run.start_year,
            end_year: loaded.config.run.end_year,
            runs: Some(0),
            threads: 1,
            threads_per_run: Some(1),
            seeds: None,
            shard: None,
            snapshots: None,
            format: None,
            merged_from: None,
            command_line: std::env::args().collect(),
            initial_population: None,
            start_state: None,
            wall_time_s: 0.0,
            complete: true,
            runs_done: None,
            years: None,
        }
    }

    /// Serialized as the file holds it.
    pub fn to_json(&self) -> anyhow::Result<String> {
        Ok(serde_json::to_string_pretty(self)? + "\n")
    }
}

/// What a staging folder becomes: the words its messages use.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FolderKind {
    Run,
    Experiment,
}

/// A folder under construction. Dropped unfinished (an error, an abandoned run), the staging
/// folder is removed.
pub struct Staging {
    target: PathBuf,
    staging: PathBuf,
    kind: FolderKind,
    finished: bool,
}

impl Staging {
    /// Refuses an existing target unless `replace`.
    pub fn create(target: &Path, replace: bool, kind: FolderKind) -> anyhow::Result<Staging> {
        if target.exists() && !replace {
            // The user's choice of folder, not a failure: a usage error (exit code 2).
            let held = match kind {
                FolderKind::Run => "already holds a run",
                FolderKind::Experiment => "already exists",
            };
            return Err(UsageError::msg(format!(
                "{} {held}: add --force to replace it, or choose another --out",
                target.display()
            )));
        }
        let parent = target
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        if parent.exists() && !parent.is_dir() {
            return Err(UsageError::msg(format!(
                "cannot write to {}: {} is a file, not a folder; choose another --out",
                target.display(),
                parent.display()
            )));
        }
        fs::create_dir_all(parent)
            .with_context(|| format!("cannot create output folder {}", parent.display()))?;
        let name = target.file_name().map_or(
            match kind {
                FolderKind::Run => "run".into(),
                FolderKind::Experiment => "experiment".into(),
            },
            |n| n.to_string_lossy().into_owned(),
        );
        let staging = parent.join(format!(".{name}.partial-{}", std::process::id()));
        if staging.exists() {
            fs::remove_dir_all(&staging).ok();
        }
        fs::create_dir_all(&staging)
            .with_context(|| format!("cannot write to output folder {}", parent.display()))?;
        Ok(Staging {
            target: target.to_path_buf(),
            staging,
            kind,
            finished: false,
        })
    }

    /// Where files go until `finish`.
    pub fn path(&self) -> &Path {
        &self.staging
    }

    /// Write the resolved config as `config.toml`.
    pub fn write_config(&self, config: &Config) -> anyhow::Result<()> {
        let path = self.staging.join("config.toml");
        fs::write(&path, config::to_toml(config))
            .with_context(|| format!("cannot write {}", path.display()))
    }

    /// Write the resolved config and the manifest, then move the folder into place.
    pub fn finish(self, config: &Config, manifest: &Manifest) -> anyhow::Result<PathBuf> {
        self.write_config(config)?;
        self.finish_with_config_text(manifest)
    }

    /// As `finish`, when `config.toml` is already in the staging folder.
    pub fn finish_with_config_text(mut self, manifest: &Manifest) -> anyhow::Result<PathBuf> {
        let path = self.staging.join("manifest.json");
        fs::write(&path, manifest.to_json()?)
            .with_context(|| format!("cannot write {}", path.display()))?;
        if self.target.exists() {
            let mut old = self.staging.clone().into_os_string();
            old.push(".old");
            fs::rename(&self.target, &old)
                .with_context(|| format!("cannot replace {}", self.target.display()))?;
            fs::remove_dir_all(&old).ok();
        }
        let what = match self.kind {
            FolderKind::Run => "run",
            FolderKind::Experiment => "folder",
        };
        fs::rename(&self.staging, &self.target).with_context(|| {
            format!(
                "cannot move the finished {what} to {}",
                self.target.display()
            )
        })?;
        self.finished = true;
        Ok(self.target.clone())
    }
}

impl Drop for Staging {
    fn drop(&mut self) {
        if !self.finished {
            fs::remove_dir_all(&self.staging).ok();
        }
    }
}

/// Write one file whole: into `.<name>.partial-<pid>` beside `path`, then renamed over it, so
/// a reader never sees half a file and a failed write leaves no partial file behind.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    let name = path
        .file_name()
        .map_or("file".into(), |n| n.to_string_lossy().into_owned());
    let partial = path.with_file_name(format!(".{name}.partial-{}", std::process::id()));
    std::fs::write(&partial, bytes).with_context(|| {
        std::fs::remove_file(&partial).ok();
        format!("cannot write {}", path.display())
    })?;
    std::fs::rename(&partial, path).with_context(|| {
        std::fs::remove_file(&partial).ok();
        format!("cannot write {}", path.display())
    })
}
