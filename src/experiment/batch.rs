//! Running many simulations: seeds derived from a base seed, the split of `--threads`
//! between runs and within a run, an ordered parallel map that hands results on in run
//! order as they finish, and a light sink that keeps only the summary. What each experiment
//! computes lives in its own file; its folder is an `output::Staging`.

use anyhow::Context;
use bevy_ecs::world::World;
use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc;

use super::options::Meter;
use super::{Outcome, Run, RunControl, RunSpec, run_years};
use crate::config::{self, Config};
use crate::engine::rng::mix;
use crate::output::table::{Batch, Format};
use crate::output::{Sink, Snapshots, SummaryRow, YearRecord, snapshot, tables};

/// SplitMix64's increment (the golden ratio in 64 bits).
const GOLDEN: u64 = 0x9E37_79B9_7F4A_7C15;

/// Derived seeds stay below 2^53, so that every one is an integer a double holds exactly:
/// R's `read.csv`, JSON readers and spreadsheets read it back unrounded, and the printed
/// seed repeats its run.
pub const SEED_LIMIT: u64 = 1 << 53;

/// The seed of replicate `index` (0-based): the (index + 1)-th output of a SplitMix64
/// generator seeded with `base`, shifted right by 11 bits, i.e.
/// `mix(base + (index + 1) · 0x9E3779B97F4A7C15) >> 11` with the standard SplitMix64
/// finaliser. The shift keeps the top 53 bits, so the seed is below 2^53 (`SEED_LIMIT`).
/// Replicates get unrelated streams, and the seeds can be recomputed anywhere from the
/// base seed.
pub fn derive_seed(base: u64, index: u64) -> u64 {
    mix(base.wrapping_add(index.wrapping_add(1).wrapping_mul(GOLDEN))) >> 11
}

/// A SplitMix64 stream for experiment designs (Morris trajectories), salted so that it
/// never repeats the run seeds derived from the same base seed.
pub struct DesignRng(u64);

impl DesignRng {
    pub fn new(seed: u64) -> Self {
        DesignRng(mix(seed ^ 0x4D4F_5252_4953_0000))
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(GOLDEN);
        mix(self.0)
    }

    /// Uniform integer in [0, n), n > 0.
    pub fn below(&mut self, n: usize) -> usize {
        ((u128::from(self.next_u64()) * n as u128) >> 64) as usize
    }
}

/// Worker threads for a batch of runs. Runs go in parallel on a rayon pool of `across`
/// threads; each run's own `par_iter`s use bevy's global `ComputeTaskPool`, which gets the
/// remaining `within` threads. With at least as many runs as threads that pool has one
/// thread and bevy runs every `par_iter` inline on the calling rayon worker, so `--threads N`
/// means N busy cores, not N × N. The split never changes the output.
pub struct Pools {
    pool: rayon::ThreadPool,
    pub across: usize,
    pub within: usize,
}

impl Pools {
    /// `threads` (default: all cores) for `runs` runs. The bevy pool is global and sized
    /// once per process: if something already created it, its size stands.
    pub fn new(threads: Option<usize>, runs: usize) -> anyhow::Result<Pools> {
        let threads =
            threads.unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
        let across = threads.min(runs).max(1);
        let within = crate::engine::par::init_task_pool(Some((threads / across).max(1)));
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(across)
            .thread_name(|i| format!("shrinkcity-run-{i}"))
            .build()
            .context("cannot start the worker threads")?;
        Ok(Pools {
            pool,
            across,
            within,
        })
    }

    /// Run `work(0..n)` in parallel and hand each result to `consume` in index order, as
    /// soon as it and every earlier one are done. Indices are taken in order, so at most
    /// about `across` results wait in the reorder buffer: memory does not grow with `n`.
    /// The first error (from `work` or `consume`) stops new runs and is returned.
    pub fn run_ordered<T: Send>(
        &self,
        n: usize,
        work: impl Fn(usize) -> anyhow::Result<T> + Sync,
        mut consume: impl FnMut(usize, T) -> anyhow::Result<()>,
        meter: &mut dyn Meter,
    ) -> anyhow::Result<()> {
        let next = AtomicUsize::new(0);
        let stop = AtomicBool::new(false);
        let (tx, rx) = mpsc::channel::<(usize, anyhow::Result<T>)>();
        let mut outcome = Ok(());
        self.pool.in_place_scope(|s| {
            for _ in 0..self.across {
                let tx = tx.clone();
                let (next, stop, work) = (&next, &stop, &work);
                s.spawn(move |_| {
                    while !stop.load(Ordering::Relaxed) {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        if i >= n || tx.send((i, work(i))).is_err() {
                            break;
                        }
                    }
                });
            }
            drop(tx);
            let mut pending = BTreeMap::new();
            let mut due = 0;
            'receive: for (i, result) in rx {
                meter.inc(1);
                match result {
                    Ok(v) => pending.insert(i, v),
                    Err(e) => {
                        outcome = Err(e);
                        break;
                    }
                };
                while let Some(v) = pending.remove(&due) {
                    if let Err(e) = consume(due, v) {
                        outcome = Err(e);
                        break 'receive;
                    }
                    due += 1;
                }
            }
            // Leaving the loop drops the receiver: busy workers finish their run, fail to
            // send and stop.
            stop.store(true, Ordering::Relaxed);
        });
        outcome
    }
}

/// One run of a batch, without a progress bar: `Run::new` and `run_years`, with invariants
/// checked after every year if `check` (always in debug builds). A `stop` flag set during the
/// run stops it between two years (`Outcome::Stopped`): an experiment drops such a run and
/// keeps only the finished ones.
pub fn run_batch_one(
    config: &Config,
    spec: &RunSpec,
    sink: &mut dyn Sink,
    check: bool,
    stop: Option<&AtomicBool>,
) -> anyhow::Result<Outcome> {
    let mut progress = |_| {};
    if stop.is_some_and(|s| s.load(Ordering::Relaxed)) {
        return Ok(Outcome::Stopped { last_year: None });
    }
    let mut run = Run::new(config, spec, &mut progress);
    let control = RunControl {
        check: check || cfg!(debug_assertions),
        stop,
        ..RunControl::default()
    };
    run_years(&mut run, config.run.end_year, sink, &mut progress, &control)
}

/// A light sink: keeps the summary rows, and if asked the age structure and the emigrants
/// by driver (the rows of a run folder's `age_structure` and `emigration_drivers`), and
/// writes agent snapshots if asked.
pub struct SummarySink {
    pub rows: Vec<SummaryRow>,
    /// The rows of `age_structure` and `emigration_drivers`, when kept.
    pub structure: Option<[Batch; 2]>,
    snapshots: Option<(PathBuf, Snapshots, i32, Format)>,
}

impl SummarySink {
    pub fn new() -> Self {
        SummarySink {
            rows: Vec::new(),
            structure: None,
            snapshots: None,
        }
    }

    /// Also keep the age structure and the emigrants by driver, as a run folder writes them.
    pub fn keeping_structure(mut self) -> Self {
        self.structure = Some([
            Batch::new(tables::ages_schema()),
            Batch::new(tables::drivers_schema()),
        ]);
        self
    }

    /// Write the kept age structure and drivers into `dir` in `format`, as a run folder
    /// writes them (nothing if not kept).
    pub fn write_structure(&self, dir: &Path, format: Format) -> anyhow::Result<()> {
        if let Some([ages, drivers]) = &self.structure {
            for (stem, schema, batch) in [
                ("age_structure", tables::ages_schema(), ages),
                ("emigration_drivers", tables::drivers_schema(), drivers),
            ] {
                tables::write_table(&dir.join(format.file(stem)), format, schema, batch)?;
            }
        }
        Ok(())
    }

    /// Also write `dir/agents/agents_YYYY.csv` (or `.parquet`) for the years `which` selects.
    pub fn with_snapshots(dir: &Path, which: Snapshots, start_year: i32, format: Format) -> Self {
        SummarySink {
            rows: Vec::new(),
            structure: None,
            snapshots: (which != Snapshots::None)
                .then(|| (dir.join("agents"), which, start_year, format)),
        }
    }
}

impl Default for SummarySink {
    fn default() -> Self {
        Self::new()
    }
}

impl Sink for SummarySink {
    fn year(&mut self, record: &YearRecord, world: &mut World) -> anyhow::Result<()> {
        let year = record.summary.year;
        self.rows.push(record.summary.clone());
        if let Some([ages, drivers]) = &mut self.structure {
            tables::age_rows(ages, record);
            tables::driver_rows(drivers, record);
        }
        if let Some((dir, which, start, format)) = &self.snapshots
            && which.includes(year, *start)
        {
            fs::create_dir_all(dir)?;
            let path = dir.join(format.file(&format!("agents_{year}")));
            snapshot::write_agents_file(world, &path, *format)?;
        }
        Ok(())
    }
}

/// Write rows as `dir/summary.csv` (or `.parquet`), byte for byte what `shrinkcity run` writes.
pub fn write_summary(dir: &Path, rows: &[SummaryRow], format: Format) -> anyhow::Result<()> {
    let mut batch = Batch::new(tables::summary_schema());
    for r in rows {
        tables::summary_row(&mut batch, r);
    }
    let path = dir.join(format.file("summary"));
    tables::write_table(&path, format, tables::summary_schema(), &batch)
}

/// The numeric columns of `summary.csv` (every column but `year`), in file order.
pub fn summary_metrics() -> Vec<String> {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.serialize(SummaryRow::default())
        .expect("a summary row serializes");
    let bytes = w.into_inner().expect("writing to memory cannot fail");
    let mut r = csv::Reader::from_reader(&bytes[..]);
    let header = r.headers().expect("csv written above").clone();
    header.iter().skip(1).map(String::from).collect()
}

/// A summary row as the text of its `summary.csv` fields, `year` first.
pub fn summary_fields(row: &SummaryRow) -> csv::StringRecord {
    let mut w = csv::WriterBuilder::new()
        .has_headers(false)
        .from_writer(Vec::new());
    w.serialize(row).expect("a summary row serializes");
    let bytes = w.into_inner().expect("writing to memory cannot fail");
    csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(&bytes[..])
        .records()
        .next()
        .expect("one record")
        .expect("csv written above")
}

/// The numeric values of a summary row, in `summary_metrics` order.
pub fn summary_values(row: &SummaryRow) -> Vec<f64> {
    summary_fields(row)
        .iter()
        .skip(1)
        .map(|f| f.parse().expect("summary fields are numbers"))
        .collect()
}

/// The default output folder of an experiment: `output/<config name>_<what>`.
pub fn default_out(out: &Option<PathBuf>, loaded: &config::Loaded, what: &str) -> PathBuf {
    out.clone()
        .unwrap_or_else(|| PathBuf::from("output").join(format!("{}_{what}", loaded.stem)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn derived_seeds_are_below_2_pow_53_distinct_and_repeatable() {
        let mut seen = std::collections::BTreeSet::new();
        for base in [0, 1, 7, 20150101, u64::MAX >> 1, u64::MAX] {
            for i in 0..200 {
                let s = derive_seed(base, i);
                assert!(s < SEED_LIMIT, "derive_seed({base}, {i}) = {s}");
                assert_eq!(s as f64 as u64, s, "a double holds {s} exactly");
                assert_eq!(s, derive_seed(base, i));
                seen.insert(s);
            }
        }
        assert_eq!(seen.len(), 6 * 200, "seeds are distinct");
    }
}
