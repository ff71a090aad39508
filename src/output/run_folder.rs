//! The run folder: tables (CSV or Parquet) written year by year into a staging folder beside
//! the target, then moved into place when the run completes.

use anyhow::{Context, bail};
use bevy_ecs::world::World;
use serde::{Deserialize, Serialize};
use std::fs::{self, File};
use std::io::{BufWriter, Read};
use std::path::{Path, PathBuf};

use super::checkpoint::{self, Checkpoint};
use super::record::Recorder;
use super::staging::{FolderKind, Manifest, Staging};
use super::table::{self, Batch, Csv, Format, TableWriter};
use super::{Sink, YearRecord, snapshot, tables};
use crate::config::Config;

/// Which years get an agent snapshot.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Snapshots {
    All,
    None,
    Every(u32),
}

impl Snapshots {
    /// As `--snapshots` takes it: `all`, `none` or `every:N`.
    pub fn label(self) -> String {
        match self {
            Snapshots::All => "all".into(),
            Snapshots::None => "none".into(),
            Snapshots::Every(n) => format!("every:{n}"),
        }
    }

    pub fn includes(self, year: i32, start: i32) -> bool {
        match self {
            Snapshots::All => true,
            Snapshots::None => false,
            Snapshots::Every(n) => (year - start) % n as i32 == 0,
        }
    }
}

impl std::str::FromStr for Snapshots {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "all" => Ok(Snapshots::All),
            "none" => Ok(Snapshots::None),
            _ => s
                .strip_prefix("every:")
                .and_then(|n| n.parse::<u32>().ok())
                .filter(|&n| n > 0)
                .map(Snapshots::Every)
                .ok_or_else(|| format!("`{s}`: expected all, none or every:N with N ≥ 1")),
        }
    }
}

pub struct RunFolder {
    staging: Staging,
    snapshots: Snapshots,
    format: Format,
    start_year: i32,
    /// The yearly tables, in `tables::STEMS` order, and a batch for each.
    tables: Vec<Box<dyn TableWriter>>,
    batches: [Batch; 4],
    /// Written into checkpoints, so `resume` needs nothing but the folder.
    config_name: String,
    checkpoint_every: Option<u32>,
    last_year: Option<i32>,
    checkpoint_year: Option<i32>,
    snapshot_writer: snapshot::SnapshotWriter,
}

fn append(path: &Path) -> anyhow::Result<BufWriter<File>> {
    let f = fs::OpenOptions::new()
        .append(true)
        .open(path)
        .with_context(|| format!("cannot open {}", path.display()))?;
    Ok(BufWriter::new(f))
}

fn batches() -> [Batch; 4] {
    tables::schemas().map(Batch::new)
}

impl RunFolder {
    /// Prepare to write into `target`; refuses an existing run there unless `force`.
    pub fn create(
        target: &Path,
        force: bool,
        snapshots: Snapshots,
        format: Format,
        start_year: i32,
    ) -> anyhow::Result<Self> {
        let staging = Staging::create(target, force, FolderKind::Run)?;
        let dir = staging.path();
        fs::create_dir_all(dir.join("agents"))
            .with_context(|| format!("cannot write to {}", dir.display()))?;
        let mut writers = Vec::new();
        for (stem, schema) in tables::STEMS.iter().zip(tables::schemas()) {
            writers.push(table::create(&dir.join(format.file(stem)), format, schema)?);
        }
        Ok(RunFolder {
            staging,
            snapshots,
            format,
            start_year,
            tables: writers,
            batches: batches(),
            config_name: String::new(),
            checkpoint_every: None,
            last_year: None,
            checkpoint_year: None,
            snapshot_writer: Default::default(),
        })
    }

    /// Carry on the run in `source` from `checkpoint` into `target` (which may be `source`):
    /// stage a copy of its tables cut back to the checkpoint's year and its snapshots up to
    /// that year. `source` is left untouched until `finish` moves the staging folder in.
    pub fn resume(
        source: &Path,
        target: &Path,
        force: bool,
        checkpoint: &super::checkpoint::Checkpoint,
    ) -> anyhow::Result<Self> {
        // The checkpoint names the tables with their extension: the run's format.
        let format = checkpoint
            .tables
            .first()
            .and_then(|(name, _)| Format::of(name))
            .unwrap_or_default();
        let names = tables::STEMS.map(|stem| format.file(stem));
        let staging = Staging::create(target, force || target == source, FolderKind::Run)?;
        let dir = staging.path().to_path_buf();
        fs::create_dir_all(dir.join("agents"))
            .with_context(|| format!("cannot write to {}", dir.display()))?;
        for name in &names {
            anyhow::ensure!(
                checkpoint.tables.iter().any(|(t, _)| t == name),
                "the checkpoint does not name {name}: it was written by an older shrinkcity; rerun from the start"
            );
        }
        let mut writers = Vec::new();
        for name in &names {
            let len = checkpoint
                .tables
                .iter()
                .find(|(t, _)| t == name)
                .map(|(_, len)| *len)
                .expect("checked above");
            let from = source.join(name);
            let to = dir.join(name);
            let schema = tables::schemas()[writers.len()];
            if format == Format::Parquet {
                // `len` counts rows: a Parquet file cannot be cut, so its first rows are copied.
                writers.push(table::copy_parquet_rows(&from, &to, len, schema)?);
                continue;
            }
            // `len` counts bytes: the CSV is copied up to there and appended to.
            let have = fs::metadata(&from)
                .with_context(|| format!("cannot read {}", from.display()))?
                .len();
            if have < len {
                bail!(
                    "{} has {have} bytes but the checkpoint for {} expects at least {len}: the folder was changed",
                    from.display(),
                    checkpoint.year
                );
            }
            let mut r = File::open(&from)?.take(len);
            let mut w = File::create(&to)?;
            std::io::copy(&mut r, &mut w)
                .with_context(|| format!("cannot copy {}", from.display()))?;
            w.sync_all()?;
            writers.push(Box::new(Csv::new(append(&to)?, schema, false)?));
        }
        for (name, _) in &checkpoint.tables {
            anyhow::ensure!(
                names.contains(name),
                "the checkpoint names an unknown table {name}"
            );
        }
        let start = checkpoint.world.clock.start_year;
        for year in start..=checkpoint.year {
            if !checkpoint.snapshots.includes(year, start) {
                continue;
            }
            let name = format!("agents/{}", format.file(&format!("agents_{year}")));
            fs::copy(source.join(&name), dir.join(&name))
                .with_context(|| format!("cannot copy {}", source.join(&name).display()))?;
        }
        Ok(RunFolder {
            staging,
            snapshots: checkpoint.snapshots,
            format,
            start_year: start,
            tables: writers,
            batches: batches(),
            config_name: checkpoint.config_name.clone(),
            checkpoint_every: checkpoint.checkpoint_every,
            last_year: Some(checkpoint.year),
            checkpoint_year: None,
            snapshot_writer: Default::default(),
        })
    }

    /// Name the config and the checkpoint interval, for the checkpoints this folder writes.
    pub fn label(&mut self, config_name: &str, checkpoint_every: Option<u32>) {
        self.config_name = config_name.into();
        self.checkpoint_every = checkpoint_every;
    }

    /// The format of the folder's tables.
    pub fn format(&self) -> Format {
        self.format
    }

    /// The staging folder the run is written into until `finish`.
    pub fn staging(&self) -> &Path {
        self.staging.path()
    }

    /// The last year whose rows are written, and the year of the latest checkpoint.
    pub fn years_written(&self) -> (Option<i32>, Option<i32>) {
        (self.last_year, self.checkpoint_year)
    }

    /// Write the resolved config and manifest, then move the run into place. On failure
    /// (a full disk, say) the staging folder is removed and the target is left as it was.
    pub fn finish(mut self, config: &Config, manifest: &Manifest) -> anyhow::Result<PathBuf> {
        self.snapshot_writer.wait()?;
        for (stem, t) in tables::STEMS.iter().zip(std::mem::take(&mut self.tables)) {
            t.finish().with_context(|| self.cannot(stem))?;
        }
        self.staging.finish(config, manifest)
    }

    fn cannot(&self, stem: &str) -> String {
        format!(
            "cannot write {}",
            self.staging.path().join(self.format.file(stem)).display()
        )
    }

    /// Push every buffered row of the tables, and every queued snapshot, to disk.
    fn flush_tables(&mut self) -> anyhow::Result<()> {
        self.snapshot_writer.wait()?;
        for (stem, t) in tables::STEMS.iter().zip(&mut self.tables) {
            t.flush().with_context(|| {
                format!(
                    "cannot write {}",
                    self.staging.path().join(self.format.file(stem)).display()
                )
            })?;
        }
        Ok(())
    }

    /// Remove the staging folder of an abandoned run.
    pub fn abandon(mut self) {
        self.snapshot_writer.wait().ok();
        drop(self.staging);
    }
}

impl Sink for RunFolder {
    fn year(&mut self, r: &YearRecord, world: &mut World) -> anyhow::Result<()> {
        let y = r.summary.year;
        tables::year_rows(&mut self.batches, r);
        for (i, stem) in tables::STEMS.iter().enumerate() {
            let written = self.tables[i].write(&self.batches[i]);
            written.with_context(|| self.cannot(stem))?;
            self.batches[i].clear();
        }
        if self.snapshots.includes(y, self.start_year) {
            let name = self.format.file(&format!("agents_{y}"));
            let path = self.staging.path().join("agents").join(name);
            let mut rows = self.snapshot_writer.rows();
            rows.fill(world);
            self.snapshot_writer.send(path, rows, self.format)?;
        }
        self.last_year = Some(y);
        Ok(())
    }

    fn checkpoint(&mut self, world: &mut World, recorder: &Recorder) -> anyhow::Result<()> {
        let year = self
            .last_year
            .context("a checkpoint before the first year")?;
        self.flush_tables()?;
        // CSV: each table's length in bytes, to cut it back to; Parquet: its rows, to copy.
        let mut tables = Vec::new();
        for (stem, t) in tables::STEMS.iter().zip(&self.tables) {
            let name = self.format.file(stem);
            let len = match self.format {
                Format::Csv => fs::metadata(self.staging.path().join(&name))?.len(),
                Format::Parquet => t.rows(),
            };
            tables.push((name, len));
        }
        let state = crate::sim::world::capture_world(world)
            .map_err(|e| anyhow::anyhow!("cannot checkpoint after {year}: {e}"))?;
        let c = Checkpoint {
            version: env!("CARGO_PKG_VERSION").into(),
            year,
            config_name: self.config_name.clone(),
            snapshots: self.snapshots,
            checkpoint_every: self.checkpoint_every,
            tables,
            recorder: recorder.clone(),
            world: state,
        };
        checkpoint::write(&self.staging.path().join(checkpoint::FILE_NAME), &c)?;
        self.checkpoint_year = Some(year);
        Ok(())
    }
}
