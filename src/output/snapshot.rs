//! Agent snapshots: one row per resident, sorted by agent id.

use bevy_ecs::prelude::*;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::mpsc::{Receiver, SyncSender, channel, sync_channel};
use std::sync::{Arc, OnceLock};
use std::thread::JoinHandle;

use super::table::{self, Batch, Column, Csv, Format, Kind, Schema, TableWriter, words};
use crate::config::SECTOR_NAMES;
use crate::model::resident::Status;

use crate::model::household::{Household, Households, Tenure};
use crate::model::housing::HousingMarket;
use crate::model::resident::Ids;
use crate::model::resident::Member;
use crate::model::resident::Resident;
use crate::model::resident::Traits;
use crate::model::resident::Work;
use crate::model::resident::{AgentId, Person};

/// The `sector` field of a resident without a job: a word, not an empty field, so the
/// column holds text in every row (pandas reads it without a mixed-type warning).
pub const NO_SECTOR: &str = "none";

pub const HEADER: &str = "agent_id,household_id,age,sex,role,status,sector,income,climate_tolerance,attachment,owns_home,dwelling_id,estate_id,home_value\n";

/// Rows gathered in a batch before they are written out.
const CHUNK: usize = 1 << 14;

/// Labour statuses in `Status` order (the index of each is `status as usize`).
const STATUSES: [Status; 6] = [
    Status::Child,
    Status::Student,
    Status::Employed,
    Status::Unemployed,
    Status::Inactive,
    Status::Retired,
];

/// The snapshot's columns (`HEADER`): words for sex, role, status and sector, three-decimal
/// shares for the traits, a missing dwelling and estate for a household without a home.
pub fn schema() -> &'static Arc<Schema> {
    static SCHEMA: OnceLock<Arc<Schema>> = OnceLock::new();
    SCHEMA.get_or_init(|| {
        let mut sectors: Vec<&str> = SECTOR_NAMES.to_vec();
        sectors.push(NO_SECTOR);
        let column = |name: &str| match name {
            "sex" => Column::new(name, words(&["male", "female"])),
            "role" => Column::new(name, words(&["head", "partner", "child"])),
            "status" => Column::new(name, words(&STATUSES.map(Status::name))),
            "sector" => Column::new(name, words(&sectors)),
            "climate_tolerance" | "attachment" => Column::new(name, Kind::Milli),
            "agent_id" | "household_id" | "income" | "home_value" => Column::distinct(name, false),
            "dwelling_id" => Column::distinct(name, true),
            "estate_id" => Column::nullable(name, Kind::Int),
            _ => Column::new(name, Kind::Int),
        };
        Schema::new(HEADER.trim_end().split(',').map(column).collect())
    })
}

/// Write every resident of `world` as CSV rows to `out`.
pub fn write_agents(world: &mut World, out: &mut (impl Write + Send)) -> anyhow::Result<()> {
    let mut csv = Csv::new(out, schema(), true)?;
    AgentRows::capture(world).write(&mut csv)?;
    csv.flush()
}

/// Write every resident of `world` to the file `path` in `format`.
pub fn write_agents_file(world: &mut World, path: &Path, format: Format) -> anyhow::Result<()> {
    write_file(path, &mut AgentRows::capture(world), format)
}

/// One year's residents and their homes, copied out of the world (a sequential pass over
/// each table), so the snapshot can be sorted, formatted and written on another thread while
/// the run goes on. The writer hands each back to be filled again the next year, so the copy
/// reuses memory that is already mapped.
#[derive(Default)]
pub struct AgentRows {
    /// In storage order.
    residents: Vec<Resident>,
    /// `residents` placed at their agent ids; `None` where no resident has that id.
    by_id: Vec<Option<Resident>>,
    /// Indexed by household id.
    homes: Vec<Option<Household>>,
    /// Every agent id is below this.
    next_agent: usize,
    price_per_m2: f64,
}

impl AgentRows {
    pub fn capture(world: &mut World) -> Self {
        let mut rows = AgentRows::default();
        rows.fill(world);
        rows
    }

    /// Replace the rows with the residents and homes of `world`.
    pub fn fill(&mut self, world: &mut World) {
        self.next_agent = world.resource::<Ids>().next_agent as usize;
        self.price_per_m2 = world.resource::<HousingMarket>().price_per_m2;
        self.homes.clear();
        self.homes
            .extend_from_slice(world.resource::<Households>().slots());
        let mut query = world.query::<(&AgentId, &Person, &Work, &Traits, &Member)>();
        self.residents.clear();
        self.residents.extend(
            query
                .iter(world)
                .map(|(a, p, w, t, m)| (*a, *p, *w, *t, *m)),
        );
    }

    /// The rows, in agent-id order, to `out`.
    pub fn write(&mut self, out: &mut dyn TableWriter) -> anyhow::Result<()> {
        // Agent ids are unique and below `next_agent`: place each resident at its id (a
        // counting sort, one pass) and format them in that order. The placing writes are
        // scattered but independent of one another, so many are in flight at once; formatting
        // straight from storage order through an index would wait on one random read per row.
        self.by_id.clear();
        self.by_id.resize(self.next_agent, None);
        for r in &self.residents {
            self.by_id[r.0.0 as usize] = Some(*r);
        }
        let mut batch = Batch::new(schema());
        for residents in self.by_id.chunks(CHUNK) {
            batch.clear();
            for r in residents.iter().flatten() {
                row(&mut batch, r, &self.homes, self.price_per_m2);
            }
            out.write(&batch)?;
        }
        Ok(())
    }
}

/// Writes snapshot files on a thread of its own, so the run goes on to the next year while
/// the previous year's rows are sorted, formatted and written. At most one year waits while
/// another is written.
#[derive(Default)]
pub struct SnapshotWriter {
    queue: Option<SyncSender<Job>>,
    /// Rows already written, handed back to be filled again.
    spare: Option<Receiver<AgentRows>>,
    thread: Option<JoinHandle<anyhow::Result<()>>>,
}

/// A snapshot for the writer's thread: where, what, in which format.
type Job = (PathBuf, AgentRows, Format);

impl SnapshotWriter {
    /// Rows to fill for the next snapshot: one the writer has finished with, if any.
    pub fn rows(&mut self) -> AgentRows {
        self.spare
            .as_ref()
            .and_then(|r| r.try_recv().ok())
            .unwrap_or_default()
    }

    /// Queue `rows` to be written to `path` in `format`; fails if an earlier file could not
    /// be written.
    pub fn send(&mut self, path: PathBuf, rows: AgentRows, format: Format) -> anyhow::Result<()> {
        if self.queue.is_none() {
            let (tx, rx) = sync_channel::<Job>(0);
            let (back, spare) = channel::<AgentRows>();
            self.queue = Some(tx);
            self.spare = Some(spare);
            self.thread = Some(std::thread::spawn(move || {
                for (path, mut rows, format) in rx {
                    write_file(&path, &mut rows, format)?;
                    // The run may have finished and stopped taking rows back.
                    back.send(rows).ok();
                }
                Ok(())
            }));
        }
        let queue = self.queue.as_ref().expect("just started");
        if queue.send((path, rows, format)).is_err() {
            // The thread stopped on an error: report it.
            return self.wait();
        }
        Ok(())
    }

    /// Wait until every queued file is written; the first error if one was not.
    pub fn wait(&mut self) -> anyhow::Result<()> {
        self.queue = None;
        match self.thread.take() {
            Some(t) => t
                .join()
                .map_err(|_| anyhow::anyhow!("the snapshot writer panicked"))?,
            None => Ok(()),
        }
    }
}

fn write_file(path: &Path, rows: &mut AgentRows, format: Format) -> anyhow::Result<()> {
    let cannot = |e: anyhow::Error| anyhow::anyhow!("cannot write {}: {e:#}", path.display());
    let file = || std::fs::File::create(path).map_err(|e| cannot(e.into()));
    if format == Format::Parquet {
        // Compressed a column at a time, a tenth of the CSV's size: the page cache is fine.
        let out = std::io::BufWriter::with_capacity(1 << 20, file()?);
        let mut parquet = table::writer(out, format, schema())?;
        rows.write(&mut *parquet).map_err(cannot)?;
        return parquet.finish().map_err(cannot);
    }
    #[cfg(target_os = "linux")]
    match direct::write(path, |out| {
        let mut csv = Csv::new(out, schema(), true)?;
        rows.write(&mut csv)
            .and_then(|()| csv.flush())
            .map_err(std::io::Error::other)
    }) {
        // A file system that does not take direct I/O (tmpfs before Linux 6.6, some network
        // file systems) refuses it with EINVAL, at open or at the first write: write through the page cache.
        Err(e) if e.raw_os_error() == Some(libc::EINVAL) => {}
        done => return done.map_err(|e| cannot(e.into())),
    }
    let mut csv = Csv::new(
        std::io::BufWriter::with_capacity(1 << 20, file()?),
        schema(),
        true,
    )
    .map_err(|e| cannot(e.into()))?;
    rows.write(&mut csv).map_err(cannot)?;
    csv.flush().map_err(cannot)
}

/// Snapshot files written with `O_DIRECT`, from the process's memory to the disk without a
/// copy in the page cache. Snapshots are large and nothing reads them back while the run
/// goes on; through the page cache each of their pages is memory the kernel has to find, zero
/// and copy into (on a VM whose host reclaims free guest memory, each first touch also faults
/// in the host; docs/PERFORMANCE.md has the measured rates). Direct I/O needs the buffer, each write's length and the file
/// offset aligned to the device's block: the text goes through aligned buffers written in
/// whole blocks; the last block is padded with zeros and the file cut back to its length.
/// A direct write returns only when the data is on the device, so the writes run on a thread
/// of their own while the next buffer is filled (two buffers take turns).
#[cfg(target_os = "linux")]
mod direct {
    use std::fs::{File, OpenOptions};
    use std::io::{self, Write};
    use std::os::unix::fs::OpenOptionsExt;
    use std::path::Path;
    use std::sync::mpsc::{Receiver, SyncSender, channel, sync_channel};

    /// Alignment for buffers, lengths and offsets: 4 KiB covers 512-byte and 4K-sector disks.
    const BLOCK: usize = 4096;
    /// Bytes written per call: a multiple of `BLOCK`.
    const CAPACITY: usize = 4 << 20;

    /// An aligned window of `CAPACITY` bytes.
    struct Buffer {
        /// Over-allocated by one block so an aligned window fits in it.
        memory: Vec<u8>,
        /// Where the aligned window starts in `memory`.
        start: usize,
    }

    impl Buffer {
        fn new() -> Self {
            let memory = vec![0u8; CAPACITY + BLOCK];
            let start = memory.as_ptr().align_offset(BLOCK);
            Buffer { memory, start }
        }

        fn window(&mut self) -> &mut [u8] {
            &mut self.memory[self.start..self.start + CAPACITY]
        }

        fn filled(&self, len: usize) -> &[u8] {
            &self.memory[self.start..self.start + len]
        }
    }

    /// Create `path` and write what `fill` writes into it.
    pub fn write(path: &Path, fill: impl FnOnce(&mut Direct) -> io::Result<()>) -> io::Result<()> {
        let mut file = OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .custom_flags(libc::O_DIRECT)
            .open(path)?;
        // Full buffers (and how many of their bytes to write) one way, empty ones back.
        let (full, to_write) = sync_channel::<(Buffer, usize)>(1);
        let (give_back, empty) = channel::<Buffer>();
        give_back.send(Buffer::new()).expect("receiver alive");
        std::thread::scope(|scope| {
            let writer = scope.spawn(move || -> io::Result<File> {
                for (buffer, len) in to_write {
                    file.write_all(buffer.filled(len))?;
                    // `fill` may have stopped taking buffers back.
                    give_back.send(buffer).ok();
                }
                Ok(file)
            });
            let mut out = Direct {
                full: Some(full),
                empty,
                current: Buffer::new(),
                len: 0,
                length: 0,
            };
            let filled = fill(&mut out).and_then(|()| out.send_last());
            // Hang up, so the writer stops after what was sent, and wait for it: its error
            // (EINVAL from a file system without direct I/O, a full disk) is the one to report.
            drop(out);
            let written = writer.join().expect("the direct-I/O writer panicked");
            match (written, filled) {
                (Err(e), _) | (Ok(_), Err(e)) => Err(e),
                (Ok(file), Ok(length)) => file.set_len(length),
            }
        })
    }

    pub struct Direct {
        full: Option<SyncSender<(Buffer, usize)>>,
        empty: Receiver<Buffer>,
        /// The buffer being filled.
        current: Buffer,
        /// Bytes in `current`.
        len: usize,
        /// Bytes handed to the writer so far, padding excluded.
        length: u64,
    }

    impl Direct {
        /// Hand `current` with `len` bytes to the writer and take an empty buffer.
        fn send(&mut self, len: usize) -> io::Result<()> {
            let stopped = || io::Error::other("the direct-I/O writer stopped");
            let next = self.empty.recv().map_err(|_| stopped())?;
            let full = std::mem::replace(&mut self.current, next);
            self.full
                .as_ref()
                .ok_or_else(stopped)?
                .send((full, len))
                .map_err(|_| stopped())
        }

        /// Hand over what is left, padded to a whole block; the file's length.
        fn send_last(&mut self) -> io::Result<u64> {
            let len = self.len;
            let padded = len.div_ceil(BLOCK) * BLOCK;
            self.current.window()[len..padded].fill(0);
            self.send(padded)?;
            self.full = None;
            Ok(self.length + len as u64)
        }
    }

    impl Write for Direct {
        fn write(&mut self, data: &[u8]) -> io::Result<usize> {
            let len = self.len;
            let n = data.len().min(CAPACITY - len);
            self.current.window()[len..len + n].copy_from_slice(&data[..n]);
            self.len += n;
            if self.len == CAPACITY {
                self.send(CAPACITY)?;
                self.length += CAPACITY as u64;
                self.len = 0;
            }
            Ok(n)
        }

        /// Only whole blocks can be written: the rest waits for the last buffer.
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }
}

/// One resident's row.
fn row(
    batch: &mut Batch,
    (id, p, Work { job, income }, traits, member): &Resident,
    homes: &[Option<Household>],
    price: f64,
) {
    batch
        .int(id.0 as i64)
        .int(member.0.0 as i64)
        .int(p.age.into())
        .word(p.sex as usize)
        .word(p.role as usize)
        .word(job.status as usize)
        .word(job.sector.map_or(SECTOR_NAMES.len(), |s| s as usize))
        .int(f64::from(income.yuan).round() as i64)
        .milli(traits.climate_tolerance)
        .milli(traits.attachment);
    match homes.get(member.0.0 as usize).copied().flatten() {
        Some(h) => {
            let owns = h.tenure == Tenure::Owner;
            let value = if owns { h.home_value(price) } else { 0.0 };
            batch
                .int(owns.into())
                .int(h.dwelling.0.into())
                .int(h.estate.into())
                .int(value.round() as i64);
        }
        None => {
            batch.int(0).null().null().int(0);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_are_every_resident_once_in_agent_id_order_after_years_of_churn() {
        let cfg = crate::config::baseline();
        let scale = 0.005;
        crate::engine::par::init_task_pool(None);
        let mut w = crate::sim::world::build_world(&cfg, 3, scale);
        let mut schedule = crate::sim::schedule::year_schedule();
        for year in cfg.run.start_year..cfg.run.start_year + 3 {
            w.resource_mut::<crate::engine::Clock>().year = year;
            schedule.run(&mut w);
        }
        let residents = w.query::<&AgentId>().iter(&w).count();
        let mut text = Vec::new();
        write_agents(&mut w, &mut text).unwrap();
        let text = String::from_utf8(text).unwrap();
        let ids: Vec<u64> = text
            .lines()
            .skip(1)
            .map(|l| l.split(',').next().unwrap().parse().unwrap())
            .collect();
        assert_eq!(ids.len(), residents);
        assert!(ids.windows(2).all(|p| p[0] < p[1]), "ids out of order");
        // Every row names a sector, `none` for residents without a job.
        let col = HEADER
            .trim_end()
            .split(',')
            .position(|c| c == "sector")
            .unwrap();
        let mut nones = 0;
        for l in text.lines().skip(1) {
            let f: Vec<&str> = l.split(',').collect();
            let employed = f[5] == "employed";
            assert!(!f[col].is_empty(), "empty sector: {l}");
            assert_eq!(f[col] == NO_SECTOR, !employed, "{l}");
            nones += usize::from(!employed);
        }
        assert!(nones > 0);
        // Births and arrivals after the start have ids above the first residents'.
        let first = (cfg.city.population * scale).round() as u64;
        assert!(
            ids.iter().any(|&id| id >= first),
            "no resident born or arrived"
        );
    }

    #[test]
    fn snapshot_files_hold_exactly_the_rows_text() {
        crate::engine::par::init_task_pool(None);
        let mut w = crate::sim::world::build_world(&crate::config::baseline(), 1, 0.07);
        let mut rows = AgentRows::capture(&mut w);
        let mut text = Vec::new();
        let mut csv = Csv::new(&mut text, schema(), true).unwrap();
        rows.write(&mut csv).unwrap();
        csv.flush().unwrap();
        drop(csv);
        // Bigger than the direct writer's buffer, and not a whole number of blocks.
        assert!(
            text.len() > 4 << 20 && text.len() % 4096 != 0,
            "{}",
            text.len()
        );
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("agents.csv");
        write_file(&path, &mut rows, Format::Csv).unwrap();
        assert!(
            std::fs::read(&path).unwrap() == text,
            "file differs from the rows' text"
        );
        // A shorter file over a longer one leaves nothing of the longer.
        let mut small = AgentRows::default();
        write_file(&path, &mut small, Format::Csv).unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), HEADER.as_bytes());
        // Another file system (older kernels refuse direct I/O on tmpfs: the page-cache path).
        let shm = std::path::Path::new("/dev/shm");
        if shm.is_dir() {
            let dir = tempfile::tempdir_in(shm).unwrap();
            let path = dir.path().join("agents.csv");
            write_file(&path, &mut rows, Format::Csv).unwrap();
            assert!(std::fs::read(&path).unwrap() == text, "tmpfs file differs");
        }
    }
}
