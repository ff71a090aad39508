//! `shrinkcity sweep` and `shrinkcity merge`: a full-factorial parameter sweep with
//! replicates, optionally one shard of it (for cluster array jobs), and the join of shards.
//!
//! Run ids number the plan: `run_id = point × R + replicate`, with points in nested-loop
//! order (the first `--param` varies slowest). Replicate r has the seed
//! `derive_seed(base, r)` at every point (common random numbers: points differ only by
//! their parameters). `results.csv` is written in run-id order as runs finish, through a
//! reorder buffer, so its bytes do not depend on `--threads`; a shard writes the same rows
//! for its run ids, which is why merging shards gives back the unsharded bytes.
//!
//! Stopped (the watch's stop flag, set on Ctrl-C), a sweep hands out no new run, drops the
//! runs in progress, and moves its folder to `out` with `complete: false`: `results.csv` then
//! holds the finished runs' rows, in run-id order with gaps. With `resume`, the same command
//! reads those rows back and runs only the missing run ids, writing each run's rows in its
//! place: the bytes are those of an uninterrupted sweep (or shard).

use anyhow::Context;
use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::time::Instant;

use super::batch::{
    Pools, SummarySink, default_out, derive_seed, run_batch_one, summary_fields, summary_metrics,
};
use super::options::RunOptions;
use super::resume::{self, interrupted, interrupted_early};
use super::session::Watch;
use super::{Outcome, RunSpec};
use crate::config::{UsageError, lever};
use crate::output::table::{self, Batch, Column, Format, Kind, Schema, words};
use crate::output::{FolderKind, Manifest, Staging};
use std::sync::Arc;

/// What `sweep` is given.
#[derive(Clone, Debug)]
pub struct SweepOptions {
    pub run: RunOptions,
    /// Output folder. `None`: `output/<config name>_sweep/`.
    pub out: Option<PathBuf>,
    /// Replace an existing folder at `out`.
    pub force: bool,
    /// Carry on the interrupted sweep (or shard) at `out`, made with the same config and
    /// options: run only the run ids it lacks. Nothing at `out`: start afresh.
    pub resume: bool,
    /// The swept parameters (the first varies slowest); each key at most once.
    pub params: Vec<Param>,
    /// Replicates per point (at least 1).
    pub runs: u32,
    /// `(I, N)`: run only the run ids with `run_id % N == I`.
    pub shard: Option<(usize, usize)>,
    /// The format of `plan` and `results`.
    pub format: Format,
}

/// What `merge` is given.
#[derive(Clone, Debug)]
pub struct MergeOptions {
    /// Shard folders of one sweep, in any order (at least one).
    pub dirs: Vec<PathBuf>,
    /// Folder for the merged sweep.
    pub out: PathBuf,
    /// Replace an existing folder at `out`.
    pub force: bool,
}

/// A finished sweep (or shard, or merged sweep) folder.
#[derive(Clone, Debug)]
pub struct SweepOutcome {
    pub dir: PathBuf,
    /// Runs this folder holds (a shard: its own), and runs in the whole plan.
    pub runs: usize,
    pub plan_runs: usize,
    /// Runs carried over from an interrupted folder by `resume`.
    pub reused: usize,
    pub wall_time_s: f64,
}

/// One swept parameter: a dotted config key and its values, as text for `--set`.
#[derive(Clone, Debug, PartialEq)]
pub struct Param {
    pub key: String,
    pub values: Vec<String>,
}

/// Parse `KEY=v1,v2,...` (commas inside brackets or quotes do not split) or
/// `KEY=lo:hi:steps`, where the range may also be one value or year of a lever
/// (`0:40000:5@2035`: ramps reaching 0, 10000, ... in 2035; see `config::lever`).
pub fn parse_param(s: &str) -> Result<Param, String> {
    let (key, spec) = s
        .split_once('=')
        .ok_or_else(|| format!("`{s}`: expected KEY=v1,v2,... or KEY=lo:hi:steps"))?;
    let key = key.trim().to_string();
    if key.is_empty() {
        return Err(format!("`{s}`: the key is empty"));
    }
    let values = match lever::split_range(spec)? {
        Some((before, range, after)) => range_spec(range)?
            .ok_or_else(|| {
                format!("`{range}`: a range is lo:hi:steps with numbers lo and hi, e.g. 0:40000:5")
            })?
            .into_iter()
            .map(|v| format!("{before}{v}{after}"))
            .collect(),
        None => split_list(spec)
            .into_iter()
            .map(|v| {
                if v.is_empty() {
                    Err(format!("`{s}`: an empty value in the list"))
                } else {
                    Ok(v)
                }
            })
            .collect::<Result<_, _>>()?,
    };
    Ok(Param { key, values })
}

/// `lo:hi:steps` → the `steps` values lo + i·(hi − lo)/(steps − 1), shown with 12
/// significant digits (so 0.1 is `0.1`, not `0.09999999999999999`); `None` if `spec` is
/// not of that form.
fn range_spec(spec: &str) -> Result<Option<Vec<String>>, String> {
    let parts: Vec<&str> = spec.split(':').map(str::trim).collect();
    let [lo, hi, steps] = parts[..] else {
        return Ok(None);
    };
    let (Ok(lo), Ok(hi)) = (lo.parse::<f64>(), hi.parse::<f64>()) else {
        return Ok(None);
    };
    let steps: usize = steps
        .parse()
        .ok()
        .filter(|&n| n >= 1)
        .ok_or_else(|| format!("`{spec}`: steps must be a whole number ≥ 1"))?;
    if !(lo.is_finite() && hi.is_finite()) {
        return Err(format!("`{spec}`: lo and hi must be finite numbers"));
    }
    Ok(Some(
        (0..steps)
            .map(|i| {
                let x = if steps == 1 {
                    lo
                } else {
                    lo + i as f64 * (hi - lo) / (steps - 1) as f64
                };
                tidy(x)
            })
            .collect(),
    ))
}

/// A number with 12 significant digits, as short as Rust prints it.
pub fn tidy(x: f64) -> String {
    let rounded: f64 = format!("{x:.11e}")
        .parse()
        .expect("a formatted float parses");
    rounded.to_string()
}

/// Split at commas outside brackets and quotes.
fn split_list(spec: &str) -> Vec<String> {
    let (mut out, mut cur, mut depth, mut quote) = (Vec::new(), String::new(), 0i32, None);
    for c in spec.chars() {
        match (c, quote) {
            ('"' | '\'', None) => quote = Some(c),
            (q, Some(open)) if q == open => quote = None,
            ('[' | '{', None) => depth += 1,
            (']' | '}', None) => depth -= 1,
            (',', None) if depth == 0 => {
                out.push(cur.trim().to_string());
                cur.clear();
                continue;
            }
            _ => {}
        }
        cur.push(c);
    }
    out.push(cur.trim().to_string());
    out
}

pub fn parse_shard(s: &str) -> Result<(usize, usize), String> {
    let bad = || format!("`{s}`: expected I/N with 0 ≤ I < N, e.g. --shard 0/4");
    let (i, n) = s.split_once('/').ok_or_else(bad)?;
    let (i, n): (usize, usize) = (
        i.trim().parse().map_err(|_| bad())?,
        n.trim().parse().map_err(|_| bad())?,
    );
    if n == 0 || i >= n {
        return Err(bad());
    }
    Ok((i, n))
}

/// The full-factorial plan.
pub struct Plan {
    pub params: Vec<Param>,
    pub replicates: usize,
    pub base_seed: u64,
}

impl Plan {
    pub fn points(&self) -> usize {
        self.params.iter().map(|p| p.values.len()).product()
    }

    pub fn runs(&self) -> usize {
        self.points() * self.replicates
    }

    pub fn seed(&self, run_id: usize) -> u64 {
        derive_seed(self.base_seed, (run_id % self.replicates) as u64)
    }

    /// Index of each parameter's value at `point` (the last parameter varies fastest).
    pub fn indices(&self, point: usize) -> Vec<usize> {
        let mut rest = point;
        let mut idx = vec![0; self.params.len()];
        for (k, p) in self.params.iter().enumerate().rev() {
            idx[k] = rest % p.values.len();
            rest /= p.values.len();
        }
        idx
    }

    /// Parameter values of a run.
    pub fn values(&self, run_id: usize) -> Vec<&str> {
        let point = run_id / self.replicates;
        self.indices(point)
            .into_iter()
            .zip(&self.params)
            .map(|(i, p)| p.values[i].as_str())
            .collect()
    }
}

/// Run the sweep (or one shard of it) and write its folder. Stopped by `watch.stop`, it keeps
/// the finished runs at `out` and returns `Interrupted`.
pub fn sweep(opts: &SweepOptions, watch: &mut Watch) -> anyhow::Result<SweepOutcome> {
    let mut keys: Vec<&str> = opts.params.iter().map(|p| p.key.as_str()).collect();
    keys.sort_unstable();
    if let Some(w) = keys.windows(2).find(|w| w[0] == w[1]) {
        return Err(UsageError::msg(format!(
            "--param {} is given twice; list all its values in one --param",
            w[0]
        )));
    }
    let (loaded, spec) = opts.run.resolve()?;
    let plan = Plan {
        params: opts.params.clone(),
        replicates: opts.runs as usize,
        base_seed: spec.seed,
    };
    let sets = |run_id: usize| -> Vec<String> {
        plan.params
            .iter()
            .zip(plan.values(run_id))
            .map(|(p, v)| format!("{}={v}", p.key))
            .collect()
    };
    let (shard_i, shard_n) = opts.shard.unwrap_or((0, 1));
    let mine: Vec<usize> = (0..plan.runs())
        .filter(|id| id % shard_n == shard_i)
        .collect();
    // Check every point this shard runs before running any, so a bad value fails at once.
    for &id in mine.iter().filter(|&&id| id % plan.replicates == 0) {
        opts.run
            .resolve_with(&sets(id))
            .with_context(|| format!("at sweep point {}", sets(id).join(" ")))?;
    }

    let out = default_out(&opts.out, &loaded, "sweep");
    let mut manifest = Manifest::experiment("sweep", &loaded, spec.seed, spec.scale);
    manifest.runs = Some(mine.len());
    manifest.shard = opts.shard.map(|(i, n)| format!("{i}/{n}"));
    manifest.format = (opts.format == Format::Parquet).then(|| "parquet".into());
    let format = opts.format;
    let plan_name = format.file("plan");
    let plan_file = plan_bytes(&plan, format)?;
    let previous = resume::previous(
        &out,
        opts.resume,
        opts.force,
        &manifest,
        &loaded.config,
        &[(&plan_name, &plan_file)],
    )?;
    if let Some(p) = &previous
        && p.manifest.complete
    {
        return Ok(SweepOutcome {
            dir: out,
            runs: mine.len(),
            plan_runs: plan.runs(),
            reused: mine.len(),
            wall_time_s: 0.0,
        });
    }
    let metrics = summary_metrics();
    let keys: Vec<&str> = plan.params.iter().map(|p| p.key.as_str()).collect();
    let schema = results_schema(&keys, &metrics);
    // The finished runs' rows of an interrupted sweep, by run id, as written.
    let mut old: BTreeMap<usize, Batch> = match &previous {
        Some(p) => read_results(&p.dir.join(format.file("results")), format, &schema)?,
        None => BTreeMap::new(),
    };
    let reused = old.len();
    let todo: Vec<usize> = mine
        .iter()
        .copied()
        .filter(|id| !old.contains_key(id))
        .collect();

    let staging = Staging::create(
        &out,
        opts.force || previous.is_some(),
        FolderKind::Experiment,
    )?;
    (watch.staging)(Some(staging.path()));
    fs::write(staging.path().join(&plan_name), &plan_file)
        .with_context(|| format!("cannot write {}", staging.path().display()))?;
    let results_path = staging.path().join(format.file("results"));
    let mut results = table::create(&results_path, format, &schema)?;

    let pools = Pools::new(opts.run.threads, todo.len().max(1))?;
    let stop = watch.stop;
    let meter = &mut *watch.meter;
    meter.start(todo.len() as u64, "runs");
    let started = Instant::now();
    let mut finished = reused;
    let result = pools.run_ordered(
        todo.len(),
        |k| {
            let id = todo[k];
            let (loaded, _) = opts.run.resolve_with(&sets(id))?;
            let mut sink = SummarySink::new();
            let spec = RunSpec {
                seed: plan.seed(id),
                scale: spec.scale,
            };
            let outcome =
                run_batch_one(&loaded.config, &spec, &mut sink, opts.run.check, Some(stop))?;
            Ok((outcome == Outcome::Complete).then_some(sink.rows))
        },
        |k, rows| {
            let id = todo[k];
            // The carried-over runs before this one go first: the file stays in run-id order.
            while let Some(entry) = old.first_entry()
                && *entry.key() < id
            {
                results.write(&entry.remove())?;
            }
            let Some(rows) = rows else { return Ok(()) };
            let mut batch = Batch::new(&schema);
            for row in &rows {
                let fields = summary_fields(row);
                let year: i64 = fields[0].parse()?;
                for (metric, value) in fields.iter().skip(1).enumerate() {
                    batch.int(id as i64).int(plan.seed(id) as i64);
                    for v in plan.values(id) {
                        batch.text(v);
                    }
                    batch.int(year).word(metric);
                    metric_value(&mut batch, value)?;
                }
            }
            results.write(&batch)?;
            results.flush()?;
            finished += 1;
            Ok(())
        },
        meter,
    );
    meter.finish();
    let result = result.and_then(|()| {
        for batch in old.into_values() {
            results.write(&batch)?;
        }
        results.finish()
    });
    if let Err(e) = result {
        (watch.staging)(None);
        return Err(e);
    }

    manifest.threads = pools.across;
    manifest.threads_per_run = Some(pools.within);
    manifest.wall_time_s = started.elapsed().as_secs_f64();
    if finished < mine.len() {
        (watch.staging)(None);
        if finished == 0 {
            return Err(interrupted_early(previous.as_ref()));
        }
        manifest.complete = false;
        manifest.runs_done = Some(finished);
        let dir = staging
            .finish(&loaded.config, &manifest)
            .context("writing the sweep folder")?;
        return Err(interrupted(finished, mine.len(), &dir));
    }
    let dir = staging.finish(&loaded.config, &manifest);
    (watch.staging)(None);
    let dir = dir.context("writing the sweep folder")?;
    Ok(SweepOutcome {
        dir,
        runs: mine.len(),
        plan_runs: plan.runs(),
        reused,
        wall_time_s: manifest.wall_time_s,
    })
}

/// The columns of `results`: run id, seed, the swept values (as given), year, metric and its
/// value.
fn results_schema<S: AsRef<str>>(keys: &[S], metrics: &[String]) -> Arc<Schema> {
    let mut columns = vec![
        Column::new("run_id", Kind::Int),
        Column::new("seed", Kind::Int),
    ];
    columns.extend(keys.iter().map(|k| Column::new(k.as_ref(), Kind::Text)));
    columns.push(Column::new("year", Kind::Int));
    columns.push(Column::new("metric", words(metrics)));
    columns.push(Column::new("value", Kind::Number));
    Schema::new(columns)
}

/// A metric's value from its `summary.csv` text: an integer stays one (so the CSV text is
/// the same), anything else is a float.
fn metric_value(batch: &mut Batch, value: &str) -> anyhow::Result<()> {
    match value.parse::<i64>() {
        Ok(i) => batch.int(i),
        Err(_) => batch.float(value.parse()?),
    };
    Ok(())
}

/// The rows of an interrupted sweep's `results`, grouped by run id (refused unless its
/// columns are `schema`'s).
fn read_results(
    path: &Path,
    format: Format,
    schema: &Arc<Schema>,
) -> anyhow::Result<BTreeMap<usize, Batch>> {
    let mut out: BTreeMap<usize, Batch> = BTreeMap::new();
    let other = || {
        UsageError::msg(format!(
            "cannot resume: {} has other columns than this sweep writes",
            path.display()
        ))
    };
    if format == Format::Parquet {
        let all = table::read_batch(path, schema).map_err(|_| other())?;
        return Ok(by_run(&all, schema));
    }
    let mut r =
        csv::Reader::from_path(path).with_context(|| format!("cannot read {}", path.display()))?;
    let names = schema.columns.iter().map(|c| c.name.as_str());
    if r.headers()?.iter().ne(names) {
        return Err(other());
    }
    let Kind::Word(metrics) = &schema.columns[schema.columns.len() - 2].kind else {
        unreachable!("the metric column holds words")
    };
    let params = schema.columns.len() - 5;
    for rec in r.records() {
        let rec = rec.with_context(|| format!("cannot read {}", path.display()))?;
        let number = |i: usize| -> anyhow::Result<i64> {
            rec[i]
                .parse()
                .with_context(|| format!("{}: not a number: {}", path.display(), &rec[i]))
        };
        let id = number(0)?;
        let batch = out.entry(id as usize).or_insert_with(|| Batch::new(schema));
        batch.int(id).int(number(1)?);
        for i in 0..params {
            batch.text(&rec[2 + i]);
        }
        let metric = metrics
            .iter()
            .position(|m| *m == rec[3 + params])
            .ok_or_else(other)?;
        batch.int(number(2 + params)?).word(metric);
        metric_value(batch, &rec[4 + params])?;
    }
    Ok(out)
}

/// The rows of a batch of `results`, grouped by run id (in the order they come).
fn by_run(all: &Batch, schema: &Arc<Schema>) -> BTreeMap<usize, Batch> {
    let mut out: BTreeMap<usize, Batch> = BTreeMap::new();
    for r in 0..all.len() {
        let id = all.int_at(0, r) as usize;
        out.entry(id)
            .or_insert_with(|| Batch::new(schema))
            .push_row(all, r);
    }
    out
}

/// `plan`: every run of the sweep (whatever the shard), with its seed and values.
fn plan_bytes(plan: &Plan, format: Format) -> anyhow::Result<Vec<u8>> {
    let mut columns = vec![
        Column::new("run_id", Kind::Int),
        Column::new("seed", Kind::Int),
    ];
    columns.extend(plan.params.iter().map(|p| Column::new(&p.key, Kind::Text)));
    let schema = Schema::new(columns);
    let mut batch = Batch::new(&schema);
    for id in 0..plan.runs() {
        batch.int(id as i64).int(plan.seed(id) as i64);
        for v in plan.values(id) {
            batch.text(v);
        }
    }
    let mut bytes = Vec::new();
    let mut w = table::writer(&mut bytes, format, &schema)?;
    w.write(&batch)?;
    w.finish()?;
    Ok(bytes)
}

/// Join the shard folders of one sweep into `opts.out`, byte-identical to the unsharded sweep,
/// in the format the shards were written in (all in one).
pub fn merge(opts: &MergeOptions) -> anyhow::Result<SweepOutcome> {
    let read = |dir: &Path, file: &str| -> anyhow::Result<Vec<u8>> {
        fs::read(dir.join(file)).map_err(|e| {
            UsageError::msg(format!(
                "{}: cannot read {file} ({e}); is it a finished `shrinkcity sweep` folder?",
                dir.display()
            ))
        })
    };
    let first = &opts.dirs[0];
    let format_of = |dir: &Path| {
        if dir.join("plan.parquet").is_file() {
            Format::Parquet
        } else {
            Format::Csv
        }
    };
    let format = format_of(first);
    let plan_name = format.file("plan");
    let results_name = format.file("results");
    let plan = read(first, &plan_name)?;
    let config = read(first, "config.toml")?;
    let mut manifests = Vec::new();
    for dir in &opts.dirs {
        if format_of(dir) != format {
            return Err(UsageError::msg(format!(
                "{} holds {} tables and {} {}: merge shards written with one --format",
                first.display(),
                format.extension(),
                dir.display(),
                format_of(dir).extension()
            )));
        }
        if read(dir, &plan_name)? != plan || read(dir, "config.toml")? != config {
            return Err(UsageError::msg(format!(
                "{} and {} are not shards of the same sweep ({plan_name} or config.toml differ)",
                first.display(),
                dir.display()
            )));
        }
        let m: Manifest = serde_json::from_slice(&read(dir, "manifest.json")?)
            .with_context(|| format!("{}: manifest.json is not a sweep manifest", dir.display()))?;
        if m.command.as_deref() != Some("sweep") {
            return Err(UsageError::msg(format!(
                "{} holds a `{}`, not a sweep",
                dir.display(),
                m.command.as_deref().unwrap_or("run")
            )));
        }
        manifests.push(m);
    }

    let staging = Staging::create(&opts.out, opts.force, FolderKind::Experiment)?;
    fs::write(staging.path().join(&plan_name), &plan)?;
    fs::write(staging.path().join("config.toml"), &config)?;
    let results = staging.path().join(&results_name);
    let total = match format {
        Format::Csv => {
            let total = csv::Reader::from_reader(&plan[..]).byte_records().count();
            merge_csv(&opts.dirs, &results, total)?;
            total
        }
        Format::Parquet => merge_parquet(&opts.dirs, &results)?,
    };

    let mut manifest = manifests[0].clone();
    manifest.runs = Some(total);
    manifest.shard = None;
    manifest.merged_from = Some(opts.dirs.iter().map(|d| d.display().to_string()).collect());
    manifest.command_line = std::env::args().collect();
    manifest.wall_time_s = manifests.iter().map(|m| m.wall_time_s).sum();
    let dir = staging.finish_with_config_text(&manifest)?;
    Ok(SweepOutcome {
        dir,
        runs: total,
        plan_runs: total,
        reused: 0,
        wall_time_s: manifest.wall_time_s,
    })
}

/// Merge the shards' `results.csv` into `to`: a k-way merge of their lines by run id, each
/// line copied as it is.
fn merge_csv(dirs: &[PathBuf], to: &Path, total: usize) -> anyhow::Result<()> {
    let first = &dirs[0];
    let mut readers = Vec::new();
    for dir in dirs {
        let path = dir.join("results.csv");
        let r = csv::Reader::from_path(&path)
            .with_context(|| format!("cannot read {}", path.display()))?;
        readers.push((dir, r));
    }
    let header = readers[0].1.byte_headers()?.clone();
    for (dir, r) in &mut readers {
        if *r.byte_headers()? != header {
            return Err(UsageError::msg(format!(
                "{}: results.csv has another header than {}",
                dir.display(),
                first.display()
            )));
        }
    }
    let mut out = csv::Writer::from_path(to)?;
    out.write_byte_record(&header)?;

    // K-way merge by run id: each shard's rows are in run-id order.
    let run_id = |r: &csv::ByteRecord| -> anyhow::Result<usize> {
        std::str::from_utf8(&r[0])
            .ok()
            .and_then(|s| s.parse().ok())
            .context("results.csv: run_id is not a number")
    };
    let mut heads: Vec<Option<csv::ByteRecord>> = Vec::new();
    for (_, r) in &mut readers {
        heads.push(r.byte_records().next().transpose()?);
    }
    let mut expected = 0;
    loop {
        let mut best: Option<(usize, usize)> = None;
        for (k, head) in heads.iter().enumerate() {
            if let Some(rec) = head {
                let id = run_id(rec)?;
                if best.is_none_or(|(b, _)| id < b) {
                    best = Some((id, k));
                }
            }
        }
        let Some((id, k)) = best else { break };
        if id < expected {
            return Err(UsageError::msg(format!(
                "run {id} is in more than one folder (or out of order in {}): merge each shard once",
                readers[k].0.display()
            )));
        }
        if id > expected {
            return Err(missing(expected, id, total));
        }
        while let Some(rec) = heads[k].take() {
            if run_id(&rec)? != id {
                heads[k] = Some(rec);
                break;
            }
            out.write_byte_record(&rec)?;
            heads[k] = readers[k].1.byte_records().next().transpose()?;
        }
        expected += 1;
    }
    if expected != total {
        return Err(missing(expected, total, total));
    }
    out.flush()?;
    Ok(())
}

/// Merge the shards' `results.parquet` into `to`, a run's rows at a time in run-id order, as
/// the unsharded sweep writes them; the number of runs in the plan.
fn merge_parquet(dirs: &[PathBuf], to: &Path) -> anyhow::Result<usize> {
    // The results' columns follow from the plan's (run id, seed, the swept keys).
    let plan = dirs[0].join("plan.parquet");
    let batches = table::read_parquet(&plan)?;
    let total: usize = batches.iter().map(|b| b.num_rows()).sum();
    let keys: Vec<String> = match batches.first() {
        Some(b) => b.schema().fields()[2..]
            .iter()
            .map(|f| f.name().clone())
            .collect(),
        None => Vec::new(),
    };
    let schema = results_schema(&keys, &summary_metrics());
    let mut runs: BTreeMap<usize, Batch> = BTreeMap::new();
    for dir in dirs {
        let path = dir.join("results.parquet");
        let all = table::read_batch(&path, &schema).map_err(|e| {
            UsageError::msg(format!(
                "{}: not the results of this sweep's plan ({e:#})",
                path.display()
            ))
        })?;
        for (id, rows) in by_run(&all, &schema) {
            if runs.insert(id, rows).is_some() {
                return Err(UsageError::msg(format!(
                    "run {id} is in more than one folder ({} is one): merge each shard once",
                    dir.display()
                )));
            }
        }
    }
    if let Some((expected, &id)) = runs.keys().enumerate().find(|&(i, &id)| i != id) {
        return Err(missing(expected, id.min(total), total));
    }
    if runs.len() != total {
        return Err(missing(runs.len(), total, total));
    }
    let mut out = table::create(to, Format::Parquet, &schema)?;
    for rows in runs.values() {
        out.write(rows)?;
    }
    out.finish()?;
    Ok(total)
}

fn missing(from: usize, to: usize, total: usize) -> anyhow::Error {
    let which = if to - from == 1 {
        format!("run {from} is")
    } else {
        format!("runs {from} to {} are", to - 1)
    };
    UsageError::msg(format!(
        "{which} in none of the folders (the plan has {total} runs): is a shard missing or unfinished?"
    ))
}
