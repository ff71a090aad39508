//! Output: what a run hands to the outside world. `Sink` receives each finished year; the
//! run-folder sink writes a run folder (summary, age structure, emigration drivers, estates,
//! agent snapshots, resolved config, manifest), its tables in CSV or Parquet through one
//! `table::TableWriter` (`tables.rs` and `snapshot.rs` say their columns once), into a
//! staging folder that replaces the target
//! only when the run is complete, so a crash never leaves a half-written run. A run folder
//! can also hold `checkpoint.bin`, the whole state after a year, to resume from. Every
//! output folder (a run's, an experiment's) is written through one `Staging` folder and
//! described by one `Manifest` (`staging.rs`).

pub mod checkpoint;
pub mod record;
mod run_folder;
pub mod snapshot;
pub mod staging;
pub mod table;
pub mod tables;

pub use record::{EstateRow, Recorder, SummaryRow, YearRecord};
pub use run_folder::{RunFolder, Snapshots};
pub use staging::{FolderKind, Manifest, RunYears, Staging, write_atomically};
pub use table::Format;
pub use tables::ESTATES_HEADER;

use bevy_ecs::world::World;

/// Receives each simulated year, in order.
pub trait Sink {
    fn year(&mut self, record: &YearRecord, world: &mut World) -> anyhow::Result<()>;

    /// Save the whole state after the last year handed to `year` (a run folder writes
    /// `checkpoint.bin`); sinks that cannot resume ignore it.
    fn checkpoint(&mut self, _world: &mut World, _recorder: &Recorder) -> anyhow::Result<()> {
        Ok(())
    }
}

/// Keeps the records in memory (experiments, tests).
#[derive(Default)]
pub struct MemorySink {
    pub records: Vec<YearRecord>,
}

impl Sink for MemorySink {
    fn year(&mut self, record: &YearRecord, _world: &mut World) -> anyhow::Result<()> {
        self.records.push(record.clone());
        Ok(())
    }
}
