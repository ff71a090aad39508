//! Agent snapshots: one row per resident, sorted by agent id.

use bevy_ecs::prelude::*;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::mpsc::{Receiver, SyncSender, channel, sync_channel};
use std::sync::{Arc, Mutex, OnceLock};
use std::thread::JoinHandle;

use arrow_array::types::Int32Type;
use arrow_array::{
    ArrayRef, DictionaryArray, Float64Array, Int32Array, Int64Array, RecordBatch, StringArray,
};
use arrow_buffer::NullBuffer;
use arrow_schema::SchemaRef;

use super::table::{
    self, Column, Format, Kind, Parquet, ROW_GROUP_ROWS, Schema, TableWriter, words,
};
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
/// shares for the traits, a missing dwelling and estate for a household without a home. In
/// Parquet, the columns zstd barely shrinks are stored uncompressed (`Column::dense`; measured
/// on a full-scale year: `climate_tolerance`, `attachment`, `dwelling_id`, `estate_id` and
/// `home_value` 1–4% smaller compressed, over half of the file's bytes).
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
            "climate_tolerance" | "attachment" => Column::new(name, Kind::Milli).dense(),
            "agent_id" | "household_id" | "income" => Column::distinct(name, false),
            "home_value" => Column::distinct(name, false).dense(),
            "dwelling_id" => Column::distinct(name, true).dense(),
            "estate_id" => Column::nullable(name, Kind::Int).dense(),
            _ => Column::new(name, Kind::Int),
        };
        Schema::new(HEADER.trim_end().split(',').map(column).collect())
    })
}

/// Write every resident of `world` as CSV rows to `out`.
pub fn write_agents(world: &mut World, out: &mut (impl Write + Send)) -> anyhow::Result<()> {
    AgentRows::capture(world).write_csv(out)?;
    Ok(())
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
    /// `residents` in agent-id order.
    by_id: Vec<Resident>,
    /// Bit `id % 64` of word `id / 64` is set if a resident has agent id `id`.
    present: Vec<u64>,
    /// Residents with an id below `64 × i`, for each word `i` of `present`.
    below: Vec<u32>,
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

    /// Each row's cells, in agent-id order.
    fn cells(&mut self) -> impl Iterator<Item = Cells> + '_ {
        // Agent ids are unique and below `next_agent`: mark them in a bit set, count the ids
        // below each word of it, and copy each resident straight to its place, the number of
        // ids below its own (a counting sort, two passes). The placing writes are scattered
        // but independent of one another, so many are in flight at once; reading straight
        // from storage order through an index would wait on one random read per row.
        self.present.clear();
        self.present.resize(self.next_agent.div_ceil(64), 0);
        for r in &self.residents {
            let id = r.0.0 as usize;
            self.present[id / 64] |= 1 << (id % 64);
        }
        self.below.clear();
        let mut n = 0;
        for word in &self.present {
            self.below.push(n);
            n += word.count_ones();
        }
        assert_eq!(
            n as usize,
            self.residents.len(),
            "two residents share an agent id"
        );
        // Every place is written once: the copy only sizes the vector.
        self.by_id.clone_from(&self.residents);
        for r in &self.residents {
            let id = r.0.0 as usize;
            let earlier = self.present[id / 64] & ((1 << (id % 64)) - 1);
            self.by_id[(self.below[id / 64] + earlier.count_ones()) as usize] = *r;
        }
        let (homes, price) = (&self.homes, self.price_per_m2);
        self.by_id.iter().map(move |r| Cells::of(r, homes, price))
    }

    /// The rows as CSV text (`HEADER` first), in agent-id order.
    pub fn write_csv(&mut self, out: &mut impl Write) -> std::io::Result<()> {
        let words = word_lists();
        let mut text = Vec::with_capacity(1 << 17);
        text.extend_from_slice(HEADER.as_bytes());
        for c in self.cells() {
            c.csv(&mut text, &words);
            if text.len() >= 1 << 16 {
                out.write_all(&text)?;
                text.clear();
            }
        }
        out.write_all(&text)?;
        out.flush()
    }

    /// The rows as a Parquet file of `schema()` (row groups of `ROW_GROUP_ROWS` rows), in
    /// agent-id order.
    pub fn write_parquet<W: Write + Send>(&mut self, out: W) -> anyhow::Result<()> {
        let mut parquet = Parquet::new(out, schema())?;
        let arrow = schema().arrow();
        // One dictionary per word column for the whole file: the writer recognises it and
        // looks each word up once, not once a row.
        let dictionaries = word_lists()
            .map(|list| -> ArrayRef { Arc::new(StringArray::from_iter_values(list.iter())) });
        let mut columns = Columns::with_capacity(ROW_GROUP_ROWS);
        for c in self.cells() {
            columns.push(&c);
            if columns.agent_id.len() == ROW_GROUP_ROWS {
                let full = std::mem::replace(&mut columns, Columns::with_capacity(ROW_GROUP_ROWS));
                parquet.write_arrow(&full.into_arrow(&arrow, &dictionaries)?)?;
            }
        }
        if !columns.agent_id.is_empty() {
            parquet.write_arrow(&columns.into_arrow(&arrow, &dictionaries)?)?;
        }
        Box::new(parquet).finish()
    }
}

/// The word lists of the `sex`, `role`, `status` and `sector` columns (`schema()`'s).
fn word_lists() -> [&'static [String]; 4] {
    [3, 4, 5, 6].map(|i| match &schema().columns[i].kind {
        Kind::Word(list) => &list[..],
        other => unreachable!("column {i} of the snapshot holds words, not {other:?}"),
    })
}

/// One resident's row: what each column of `schema()` holds, in both formats.
struct Cells {
    agent_id: u64,
    household_id: u32,
    age: u8,
    /// Indices in `word_lists()`.
    words: [u8; 4],
    income: i64,
    /// Thousandths.
    climate_tolerance: u16,
    attachment: u16,
    /// Owner, dwelling id, estate id and home value; none for a household without a home.
    home: Option<(bool, u32, u32, i64)>,
}

impl Cells {
    #[inline]
    fn of(
        (id, p, Work { job, income }, traits, member): &Resident,
        homes: &[Option<Household>],
        price: f64,
    ) -> Cells {
        let home = homes.get(member.0.0 as usize).copied().flatten().map(|h| {
            let owns = h.tenure == Tenure::Owner;
            let value = if owns { h.home_value(price) } else { 0.0 };
            (owns, h.dwelling.0, h.estate, value.round() as i64)
        });
        Cells {
            agent_id: id.0,
            household_id: member.0.0,
            age: p.age,
            words: [
                p.sex as u8,
                p.role as u8,
                job.status as u8,
                job.sector.map_or(SECTOR_NAMES.len(), |s| s as usize) as u8,
            ],
            income: f64::from(income.yuan).round() as i64,
            climate_tolerance: table::thousandths(traits.climate_tolerance),
            attachment: table::thousandths(traits.attachment),
            home,
        }
    }

    /// The row as a line of CSV, as `table::Csv` writes a row of `schema()`.
    #[inline]
    fn csv(&self, text: &mut Vec<u8>, words: &[&[String]; 4]) {
        let mut int = itoa::Buffer::new();
        text.extend_from_slice(int.format(self.agent_id).as_bytes());
        text.push(b',');
        text.extend_from_slice(int.format(self.household_id).as_bytes());
        text.push(b',');
        text.extend_from_slice(int.format(self.age).as_bytes());
        for (list, &w) in words.iter().zip(&self.words) {
            text.push(b',');
            text.extend_from_slice(list[usize::from(w)].as_bytes());
        }
        text.push(b',');
        text.extend_from_slice(int.format(self.income).as_bytes());
        text.push(b',');
        table::csv_milli(text, self.climate_tolerance);
        text.push(b',');
        table::csv_milli(text, self.attachment);
        match self.home {
            Some((owns, dwelling, estate, value)) => {
                text.extend_from_slice(if owns { b",1," } else { b",0," });
                text.extend_from_slice(int.format(dwelling).as_bytes());
                text.push(b',');
                text.extend_from_slice(int.format(estate).as_bytes());
                text.push(b',');
                text.extend_from_slice(int.format(value).as_bytes());
            }
            None => text.extend_from_slice(b",0,,,0"),
        }
        text.push(b'\n');
    }
}

/// A row group of a snapshot by column, as its Arrow arrays take them.
struct Columns {
    agent_id: Vec<i64>,
    household_id: Vec<i64>,
    age: Vec<i64>,
    words: [Vec<i32>; 4],
    income: Vec<i64>,
    climate_tolerance: Vec<f64>,
    attachment: Vec<f64>,
    owns_home: Vec<i64>,
    dwelling_id: Vec<i64>,
    estate_id: Vec<i64>,
    /// Whether the household has a home (`dwelling_id` and `estate_id` are present).
    housed: Vec<bool>,
    home_value: Vec<i64>,
}

impl Columns {
    fn with_capacity(n: usize) -> Columns {
        Columns {
            agent_id: Vec::with_capacity(n),
            household_id: Vec::with_capacity(n),
            age: Vec::with_capacity(n),
            words: std::array::from_fn(|_| Vec::with_capacity(n)),
            income: Vec::with_capacity(n),
            climate_tolerance: Vec::with_capacity(n),
            attachment: Vec::with_capacity(n),
            owns_home: Vec::with_capacity(n),
            dwelling_id: Vec::with_capacity(n),
            estate_id: Vec::with_capacity(n),
            housed: Vec::with_capacity(n),
            home_value: Vec::with_capacity(n),
        }
    }

    #[inline]
    fn push(&mut self, c: &Cells) {
        self.agent_id.push(c.agent_id as i64);
        self.household_id.push(c.household_id.into());
        self.age.push(c.age.into());
        for (column, &w) in self.words.iter_mut().zip(&c.words) {
            column.push(w.into());
        }
        self.income.push(c.income);
        // The double the CSV's three decimals parse to (as `table::Batch` stores a `Milli`).
        self.climate_tolerance
            .push(f64::from(c.climate_tolerance) / 1000.0);
        self.attachment.push(f64::from(c.attachment) / 1000.0);
        let (owns, dwelling, estate, value) = c.home.unwrap_or_default();
        self.owns_home.push(owns.into());
        self.dwelling_id.push(dwelling.into());
        self.estate_id.push(estate.into());
        self.housed.push(c.home.is_some());
        self.home_value.push(value);
    }

    /// The columns as an Arrow batch of `schema` (`schema().arrow()`), the word columns
    /// indexing `dictionaries`.
    fn into_arrow(
        self,
        schema: &SchemaRef,
        dictionaries: &[ArrayRef; 4],
    ) -> anyhow::Result<RecordBatch> {
        let int = |v: Vec<i64>| -> ArrayRef { Arc::new(Int64Array::new(v.into(), None)) };
        let housed = NullBuffer::from(self.housed);
        let [sex, role, status, sector] = self.words;
        let mut words = [sex, role, status, sector]
            .into_iter()
            .zip(dictionaries)
            .map(|(keys, values)| -> anyhow::Result<ArrayRef> {
                let keys = Int32Array::new(keys.into(), None);
                Ok(Arc::new(DictionaryArray::<Int32Type>::try_new(
                    keys,
                    values.clone(),
                )?))
            });
        let mut word = || words.next().expect("four word columns");
        let arrays: Vec<ArrayRef> = vec![
            int(self.agent_id),
            int(self.household_id),
            int(self.age),
            word()?,
            word()?,
            word()?,
            word()?,
            int(self.income),
            Arc::new(Float64Array::new(self.climate_tolerance.into(), None)),
            Arc::new(Float64Array::new(self.attachment.into(), None)),
            int(self.owns_home),
            Arc::new(Int64Array::new(
                self.dwelling_id.into(),
                Some(housed.clone()),
            )),
            Arc::new(Int64Array::new(self.estate_id.into(), Some(housed))),
            int(self.home_value),
        ];
        Ok(RecordBatch::try_new(schema.clone(), arrays)?)
    }
}

/// Writes snapshot files on threads of their own (`WRITERS`), so the run goes on to the next
/// year while earlier years' rows are sorted, encoded and written. Each file is written whole
/// by one thread, so its bytes do not depend on which thread or on `--threads`.
///
/// Writing a full-scale year takes longer than simulating one, so a single writer would hold
/// the run back and leave a core idle whenever the run waits for it, and at the end. Two write
/// two years at once; the run waits only while both are busy.
#[derive(Default)]
pub struct SnapshotWriter {
    queue: Option<SyncSender<Job>>,
    /// Rows already written, handed back to be filled again.
    spare: Option<Receiver<AgentRows>>,
    threads: Vec<JoinHandle<anyhow::Result<()>>>,
}

/// Snapshot files written at once.
const WRITERS: usize = 2;

/// A snapshot for a writer thread: where, what, in which format.
type Job = (PathBuf, AgentRows, Format);

impl SnapshotWriter {
    /// Rows to fill for the next snapshot: one a writer has finished with, if any.
    pub fn rows(&mut self) -> AgentRows {
        self.spare
            .as_ref()
            .and_then(|r| r.try_recv().ok())
            .unwrap_or_default()
    }

    /// Queue `rows` to be written to `path` in `format`; fails if an earlier file could not
    /// be written.
    pub fn send(&mut self, path: PathBuf, rows: AgentRows, format: Format) -> anyhow::Result<()> {
        if self.threads.iter().any(|t| t.is_finished()) {
            // A writer stopped on an error: report it.
            return self.wait();
        }
        if self.queue.is_none() {
            let (tx, rx) = sync_channel::<Job>(0);
            let rx = Arc::new(Mutex::new(rx));
            let (back, spare) = channel::<AgentRows>();
            self.queue = Some(tx);
            self.spare = Some(spare);
            for i in 0..WRITERS {
                let (rx, back) = (rx.clone(), back.clone());
                let thread = std::thread::Builder::new().name(format!("snapshots-{i}"));
                self.threads.push(thread.spawn(move || {
                    loop {
                        // The lock is held only while waiting for the next job.
                        let job = rx.lock().expect("a writer panicked").recv();
                        let Ok((path, mut rows, format)) = job else {
                            return Ok(());
                        };
                        write_file(&path, &mut rows, format)?;
                        // The run may have finished and stopped taking rows back.
                        back.send(rows).ok();
                    }
                })?);
            }
        }
        let queue = self.queue.as_ref().expect("just started");
        if queue.send((path, rows, format)).is_err() {
            // Every writer stopped on an error: report it.
            return self.wait();
        }
        Ok(())
    }

    /// Wait until every queued file is written; the first error if one was not.
    pub fn wait(&mut self) -> anyhow::Result<()> {
        self.queue = None;
        let mut result = Ok(());
        for t in self.threads.drain(..) {
            let done = t
                .join()
                .map_err(|_| anyhow::anyhow!("a snapshot writer panicked"))
                .and_then(|r| r);
            if result.is_ok() {
                result = done;
            }
        }
        result
    }
}

fn write_file(path: &Path, rows: &mut AgentRows, format: Format) -> anyhow::Result<()> {
    let cannot = |e: anyhow::Error| anyhow::anyhow!("cannot write {}: {e:#}", path.display());
    let file = || std::fs::File::create(path).map_err(|e| cannot(e.into()));
    if format == Format::Parquet {
        // Compressed a column at a time, a sixth of the CSV's size: the page cache is fine.
        let out = std::io::BufWriter::with_capacity(1 << 20, file()?);
        return rows.write_parquet(out).map_err(cannot);
    }
    #[cfg(target_os = "linux")]
    match direct::write(path, |out| rows.write_csv(out)) {
        // A file system that does not take direct I/O (tmpfs before Linux 6.6, some network
        // file systems) refuses it with EINVAL, at open or at the first write: write through the page cache.
        Err(e) if e.raw_os_error() == Some(libc::EINVAL) => {}
        done => return done.map_err(|e| cannot(e.into())),
    }
    rows.write_csv(&mut std::io::BufWriter::with_capacity(1 << 20, file()?))
        .map_err(|e| cannot(e.into()))
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::output::table::{Batch, Csv};

    /// One resident's row cell by cell through the generic `table::Batch`: what the
    /// snapshot's own encoders must write in both formats.
    fn reference_row(
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

    #[test]
    fn snapshot_encoders_write_what_the_generic_table_writer_writes_in_both_formats() {
        crate::engine::par::init_task_pool(None);
        let cfg = crate::config::baseline();
        // Big enough for two row groups and a partial third.
        let mut w = crate::sim::world::build_world(&cfg, 2, 0.3);
        let mut schedule = crate::sim::schedule::year_schedule();
        w.resource_mut::<crate::engine::Clock>().year = cfg.run.start_year;
        schedule.run(&mut w);
        let mut rows = AgentRows::capture(&mut w);
        // Some residents without a home, so the nullable columns hold nulls.
        let homeless = rows.homes.iter().position(|h| h.is_some()).unwrap();
        rows.homes[homeless] = None;
        let mut sorted = rows.residents.clone();
        sorted.sort_by_key(|r| r.0);
        assert!(sorted.len() > 2 * ROW_GROUP_ROWS, "{}", sorted.len());
        let mut batch = Batch::new(schema());
        for r in &sorted {
            reference_row(&mut batch, r, &rows.homes, rows.price_per_m2);
        }

        let mut expected = Vec::new();
        let mut csv = Csv::new(&mut expected, schema(), true).unwrap();
        csv.write(&batch).unwrap();
        csv.flush().unwrap();
        drop(csv);
        let mut ours = Vec::new();
        rows.write_csv(&mut ours).unwrap();
        assert!(ours == expected, "the CSV differs from the table writer's");
        assert!(
            ours.windows(4).any(|x| x == b",,,0"),
            "no resident without a home"
        );

        let dir = tempfile::tempdir().unwrap();
        let (theirs, mine) = (dir.path().join("a.parquet"), dir.path().join("b.parquet"));
        let mut generic = table::create(&theirs, Format::Parquet, schema()).unwrap();
        generic.write(&batch).unwrap();
        generic.finish().unwrap();
        write_file(&mine, &mut rows, Format::Parquet).unwrap();
        // Row groups of the same size, so both read back in the same batches.
        let (a, b) = (
            table::read_parquet(&theirs).unwrap(),
            table::read_parquet(&mine).unwrap(),
        );
        let n: usize = a.iter().map(RecordBatch::num_rows).sum();
        assert_eq!(n, sorted.len());
        assert!(a == b, "the Parquet rows differ from the table writer's");
    }

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
    fn the_snapshot_writers_write_every_queued_file_whole_and_report_one_they_could_not() {
        crate::engine::par::init_task_pool(None);
        let mut w = crate::sim::world::build_world(&crate::config::baseline(), 1, 0.01);
        let mut text = Vec::new();
        write_agents(&mut w, &mut text).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let mut writer = SnapshotWriter::default();
        for i in 0..5 {
            let mut rows = writer.rows();
            rows.fill(&mut w);
            let path = dir.path().join(format!("{i}.csv"));
            writer.send(path, rows, Format::Csv).unwrap();
        }
        writer.wait().unwrap();
        for i in 0..5 {
            let file = std::fs::read(dir.path().join(format!("{i}.csv"))).unwrap();
            assert!(file == text, "file {i} differs");
        }
        // A file that cannot be created fails a later send or the wait, naming the file.
        let bad = dir.path().join("missing").join("agents.csv");
        writer
            .send(bad, AgentRows::capture(&mut w), Format::Csv)
            .unwrap();
        let mut failed = None;
        for i in 5..10 {
            let path = dir.path().join(format!("{i}.csv"));
            if let Err(e) = writer.send(path, AgentRows::capture(&mut w), Format::Csv) {
                failed = Some(e);
                break;
            }
        }
        let e = failed
            .or_else(|| writer.wait().err())
            .expect("no error reported");
        assert!(format!("{e:#}").contains("missing"), "{e:#}");
    }

    #[test]
    fn snapshot_files_hold_exactly_the_rows_text() {
        crate::engine::par::init_task_pool(None);
        let mut w = crate::sim::world::build_world(&crate::config::baseline(), 1, 0.07);
        let mut rows = AgentRows::capture(&mut w);
        let mut text = Vec::new();
        rows.write_csv(&mut text).unwrap();
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
