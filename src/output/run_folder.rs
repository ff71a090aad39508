//! The run folder: CSVs written year by year into a staging folder beside the target, then
//! moved into place when the run completes.

use anyhow::{Context, bail};
use bevy_ecs::world::World;
use serde::{Deserialize, Serialize};
use std::fs::{self, File};
use std::io::{BufWriter, Read, Write};
use std::path::{Path, PathBuf};

use super::checkpoint::{self, Checkpoint};
use super::record::{EstateRow, Recorder, age_band_label, band_fields, sex_label};
use super::staging::{FolderKind, Manifest, Staging};
use super::{Sink, YearRecord, snapshot};
use crate::config::Config;
use crate::model::migration::EMIGRANT_AGE_BANDS;

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

/// The long-format tables, which resume cuts back to a checkpoint's year.
const TABLES: [&str; 4] = [
    "summary.csv",
    "age_structure.csv",
    "emigration_drivers.csv",
    "estates.csv",
];

/// The header of `estates.csv` (docs/DATA.md).
pub const ESTATES_HEADER: &str = "year,estate_id,quality,build_year,shanty,dwellings,occupied,for_sale,empty,demolished,mean_value_per_m2,sales";

pub struct RunFolder {
    staging: Staging,
    snapshots: Snapshots,
    start_year: i32,
    summary: csv::Writer<BufWriter<File>>,
    ages: BufWriter<File>,
    drivers: BufWriter<File>,
    estates: BufWriter<File>,
    /// Written into checkpoints, so `resume` needs nothing but the folder.
    config_name: String,
    checkpoint_every: Option<u32>,
    last_year: Option<i32>,
    checkpoint_year: Option<i32>,
    snapshot_writer: snapshot::SnapshotWriter,
}

fn create(path: &Path) -> anyhow::Result<BufWriter<File>> {
    Ok(BufWriter::new(File::create(path).with_context(|| {
        format!("cannot create {}", path.display())
    })?))
}

fn append(path: &Path) -> anyhow::Result<BufWriter<File>> {
    let f = fs::OpenOptions::new()
        .append(true)
        .open(path)
        .with_context(|| format!("cannot open {}", path.display()))?;
    Ok(BufWriter::new(f))
}

impl RunFolder {
    /// Prepare to write into `target`; refuses an existing run there unless `force`.
    pub fn create(
        target: &Path,
        force: bool,
        snapshots: Snapshots,
        start_year: i32,
    ) -> anyhow::Result<Self> {
        let staging = Staging::create(target, force, FolderKind::Run)?;
        let dir = staging.path();
        fs::create_dir_all(dir.join("agents"))
            .with_context(|| format!("cannot write to {}", dir.display()))?;
        let summary = csv::Writer::from_writer(create(&dir.join(TABLES[0]))?);
        let mut ages = create(&dir.join(TABLES[1]))?;
        writeln!(ages, "year,age_band,age_from,age_to,sex,count")?;
        let mut drivers = create(&dir.join(TABLES[2]))?;
        writeln!(drivers, "year,driver,age_band,age_from,age_to,emigrants")?;
        let mut estates = create(&dir.join(TABLES[3]))?;
        writeln!(estates, "{ESTATES_HEADER}")?;
        Ok(RunFolder {
            staging,
            snapshots,
            start_year,
            summary,
            ages,
            drivers,
            estates,
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
        let staging = Staging::create(target, force || target == source, FolderKind::Run)?;
        let dir = staging.path().to_path_buf();
        fs::create_dir_all(dir.join("agents"))
            .with_context(|| format!("cannot write to {}", dir.display()))?;
        {
            for name in TABLES {
                anyhow::ensure!(
                    checkpoint.tables.iter().any(|(t, _)| t == name),
                    "the checkpoint does not name {name}: it was written by an older shrinkcity; rerun from the start"
                );
            }
            for (name, len) in &checkpoint.tables {
                anyhow::ensure!(
                    TABLES.contains(&name.as_str()),
                    "the checkpoint names an unknown table {name}"
                );
                let from = source.join(name);
                let have = fs::metadata(&from)
                    .with_context(|| format!("cannot read {}", from.display()))?
                    .len();
                if have < *len {
                    bail!(
                        "{} has {have} bytes but the checkpoint for {} expects at least {len}: the folder was changed",
                        from.display(),
                        checkpoint.year
                    );
                }
                let to = dir.join(name);
                let mut r = File::open(&from)?.take(*len);
                let mut w = File::create(&to)?;
                std::io::copy(&mut r, &mut w)
                    .with_context(|| format!("cannot copy {}", from.display()))?;
                w.sync_all()?;
            }
            let start = checkpoint.world.clock.start_year;
            for year in start..=checkpoint.year {
                if !checkpoint.snapshots.includes(year, start) {
                    continue;
                }
                let name = format!("agents/agents_{year}.csv");
                fs::copy(source.join(&name), dir.join(&name))
                    .with_context(|| format!("cannot copy {}", source.join(&name).display()))?;
            }
            let summary = csv::WriterBuilder::new()
                .has_headers(false)
                .from_writer(append(&dir.join(TABLES[0]))?);
            Ok(RunFolder {
                staging,
                snapshots: checkpoint.snapshots,
                start_year: start,
                summary,
                ages: append(&dir.join(TABLES[1]))?,
                drivers: append(&dir.join(TABLES[2]))?,
                estates: append(&dir.join(TABLES[3]))?,
                config_name: checkpoint.config_name.clone(),
                checkpoint_every: checkpoint.checkpoint_every,
                last_year: Some(checkpoint.year),
                checkpoint_year: None,
                snapshot_writer: Default::default(),
            })
        }
    }

    /// Name the config and the checkpoint interval, for the checkpoints this folder writes.
    pub fn label(&mut self, config_name: &str, checkpoint_every: Option<u32>) {
        self.config_name = config_name.into();
        self.checkpoint_every = checkpoint_every;
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
        self.flush_tables()?;
        self.staging.finish(config, manifest)
    }

    /// Push every buffered row of the tables, and every queued snapshot, to disk.
    fn flush_tables(&mut self) -> anyhow::Result<()> {
        self.snapshot_writer.wait()?;
        let cannot =
            |name: &str| format!("cannot write {}", self.staging.path().join(name).display());
        self.summary.flush().with_context(|| cannot(TABLES[0]))?;
        self.ages.flush().with_context(|| cannot(TABLES[1]))?;
        self.drivers.flush().with_context(|| cannot(TABLES[2]))?;
        self.estates.flush().with_context(|| cannot(TABLES[3]))?;
        Ok(())
    }

    /// Remove the staging folder of an abandoned run.
    pub fn abandon(mut self) {
        self.snapshot_writer.wait().ok();
        drop(self.staging);
    }
}

/// A year's rows of `estates.csv`: `shanty` as 0/1, an empty `mean_value_per_m2` for an
/// estate with no standing dwelling.
pub fn write_estates(out: &mut impl Write, year: i32, rows: &[EstateRow]) -> std::io::Result<()> {
    for e in rows {
        write!(
            out,
            "{year},{},{},{},{},{},{},{},{},{},",
            e.estate_id,
            e.quality,
            e.build_year,
            u8::from(e.shanty),
            e.dwellings,
            e.occupied,
            e.for_sale,
            e.empty,
            e.demolished
        )?;
        if let Some(v) = e.mean_value_per_m2 {
            write!(out, "{v}")?;
        }
        writeln!(out, ",{}", e.sales)?;
    }
    Ok(())
}

impl Sink for RunFolder {
    fn year(&mut self, r: &YearRecord, world: &mut World) -> anyhow::Result<()> {
        let y = r.summary.year;
        let cannot =
            |name: &str| format!("cannot write {}", self.staging.path().join(name).display());
        self.summary
            .serialize(&r.summary)
            .with_context(|| cannot(TABLES[0]))?;
        let ages = &mut self.ages;
        (|| -> std::io::Result<()> {
            for (band, counts) in r.age_structure.iter().enumerate() {
                let label = age_band_label(band);
                let bounds = band_fields(&label);
                for (sex, n) in counts.iter().enumerate() {
                    writeln!(ages, "{y},{label},{bounds},{},{n}", sex_label(sex))?;
                }
            }
            Ok(())
        })()
        .with_context(|| cannot(TABLES[1]))?;
        let drivers = &mut self.drivers;
        (|| -> std::io::Result<()> {
            let bounds = EMIGRANT_AGE_BANDS.map(band_fields);
            for (driver, bands) in r.emigrants_by_driver.iter() {
                for ((band, b), n) in EMIGRANT_AGE_BANDS.iter().zip(&bounds).zip(bands) {
                    writeln!(drivers, "{y},{},{band},{b},{n}", driver.name())?;
                }
            }
            Ok(())
        })()
        .with_context(|| cannot(TABLES[2]))?;
        write_estates(&mut self.estates, y, &r.estates).with_context(|| cannot(TABLES[3]))?;
        if self.snapshots.includes(y, self.start_year) {
            let path = self.staging.path().join(format!("agents/agents_{y}.csv"));
            let mut rows = self.snapshot_writer.rows();
            rows.fill(world);
            self.snapshot_writer.send(path, rows)?;
        }
        self.last_year = Some(y);
        Ok(())
    }

    fn checkpoint(&mut self, world: &mut World, recorder: &Recorder) -> anyhow::Result<()> {
        let year = self
            .last_year
            .context("a checkpoint before the first year")?;
        self.flush_tables()?;
        let mut tables = Vec::new();
        for name in TABLES {
            tables.push((
                name.to_string(),
                fs::metadata(self.staging.path().join(name))?.len(),
            ));
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
