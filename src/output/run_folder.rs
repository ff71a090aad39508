//! The run folder: CSVs written year by year into a staging folder beside the target, then
//! moved into place when the run completes.

use anyhow::{Context, bail};
use bevy_ecs::world::World;
use serde::Serialize;
use std::fs::{self, File};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use super::record::{age_band_label, sex_label};
use super::{Sink, YearRecord, snapshot};
use crate::config::Config;
use crate::sim::{DRIVERS, EMIGRANT_AGE_BANDS};

/// Which years get an agent snapshot.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Snapshots {
    All,
    None,
    Every(u32),
}

impl Snapshots {
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

#[derive(Clone, Debug, Serialize)]
pub struct Manifest {
    pub shrinkcity_version: String,
    pub config_name: String,
    pub seed: u64,
    pub scale: f64,
    pub start_year: i32,
    pub end_year: i32,
    pub threads: usize,
    pub command_line: Vec<String>,
    pub initial_population: i64,
    pub wall_time_s: f64,
    pub complete: bool,
}

pub struct RunFolder {
    target: PathBuf,
    staging: PathBuf,
    snapshots: Snapshots,
    start_year: i32,
    summary: csv::Writer<BufWriter<File>>,
    ages: BufWriter<File>,
    drivers: BufWriter<File>,
}

fn create(path: &Path) -> anyhow::Result<BufWriter<File>> {
    Ok(BufWriter::new(File::create(path).with_context(|| {
        format!("cannot create {}", path.display())
    })?))
}

impl RunFolder {
    /// Prepare to write into `target`; refuses an existing run there unless `force`.
    pub fn create(
        target: &Path,
        force: bool,
        snapshots: Snapshots,
        start_year: i32,
    ) -> anyhow::Result<Self> {
        if target.exists() && !force {
            bail!(
                "{} already holds a run; pass --force to replace it, or choose another folder with --out",
                target.display()
            );
        }
        let parent = target
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        fs::create_dir_all(parent)
            .with_context(|| format!("cannot create output folder {}", parent.display()))?;
        let name = target
            .file_name()
            .map_or("run".into(), |n| n.to_string_lossy().into_owned());
        let staging = parent.join(format!(".{name}.partial-{}", std::process::id()));
        if staging.exists() {
            fs::remove_dir_all(&staging).ok();
        }
        fs::create_dir_all(staging.join("agents"))
            .with_context(|| format!("cannot write to output folder {}", parent.display()))?;
        let summary = csv::Writer::from_writer(create(&staging.join("summary.csv"))?);
        let mut ages = create(&staging.join("age_structure.csv"))?;
        writeln!(ages, "year,age_band,sex,count")?;
        let mut drivers = create(&staging.join("emigration_drivers.csv"))?;
        writeln!(drivers, "year,driver,age_band,emigrants")?;
        Ok(RunFolder {
            target: target.to_path_buf(),
            staging,
            snapshots,
            start_year,
            summary,
            ages,
            drivers,
        })
    }

    /// Write the resolved config and manifest, then move the run into place.
    pub fn finish(mut self, config: &Config, manifest: &Manifest) -> anyhow::Result<PathBuf> {
        self.summary.flush()?;
        self.ages.flush()?;
        self.drivers.flush()?;
        fs::write(
            self.staging.join("config.toml"),
            crate::config::to_toml(config),
        )?;
        fs::write(
            self.staging.join("manifest.json"),
            serde_json::to_string_pretty(manifest)? + "\n",
        )?;
        if self.target.exists() {
            let old = self.staging.with_extension("old");
            fs::rename(&self.target, &old)
                .with_context(|| format!("cannot replace {}", self.target.display()))?;
            fs::remove_dir_all(&old).ok();
        }
        fs::rename(&self.staging, &self.target).with_context(|| {
            format!("cannot move the finished run to {}", self.target.display())
        })?;
        Ok(self.target.clone())
    }

    /// Remove the staging folder of an abandoned run.
    pub fn abandon(self) {
        fs::remove_dir_all(&self.staging).ok();
    }
}

impl Sink for RunFolder {
    fn year(&mut self, r: &YearRecord, world: &mut World) -> anyhow::Result<()> {
        let y = r.summary.year;
        self.summary.serialize(&r.summary)?;
        for (band, counts) in r.age_structure.iter().enumerate() {
            for (sex, n) in counts.iter().enumerate() {
                writeln!(
                    self.ages,
                    "{y},{},{},{n}",
                    age_band_label(band),
                    sex_label(sex)
                )?;
            }
        }
        for (d, bands) in r.emigrants_by_driver.iter().enumerate() {
            for (b, n) in bands.iter().enumerate() {
                writeln!(
                    self.drivers,
                    "{y},{},{},{n}",
                    DRIVERS[d], EMIGRANT_AGE_BANDS[b]
                )?;
            }
        }
        if self.snapshots.includes(y, self.start_year) {
            let path = self.staging.join("agents").join(format!("agents_{y}.csv"));
            let mut out = create(&path)?;
            snapshot::write_agents(world, &mut out)?;
            out.flush()?;
        }
        Ok(())
    }
}
