//! The command line (floor 7, the top): clap definitions (`args.rs`), what each subcommand
//! prints around the library call it makes, progress bars (`progress.rs`), signals
//! (`signal.rs`) and exit codes. The only place that knows clap, indicatif or ctrlc; the
//! library below sees plain options, a `Meter` and a stop flag.

mod args;
mod progress;
mod signal;

use clap::error::{ContextKind, ContextValue, ErrorKind};
use clap::{CommandFactory, Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;

use args::{
    CalibrateArgs, CompareArgs, EnsembleArgs, KeysArgs, MergeArgs, ReportArgs, ResumeArgs, RunArgs,
    RunJob, SensitivityArgs, SweepArgs, TargetsArgs, ValidateArgs,
};
use progress::Bar;
use shrinkcity::config::{ConfigError, UsageError};
use shrinkcity::experiment::{self, Finished, Interrupted, Watch, session};
use shrinkcity::{calibration, report};

#[derive(Parser, Debug)]
#[command(
    name = "shrinkcity",
    version,
    about = "Agent-based model of a shrinking coal city in Northeast China",
    long_about = "Agent-based model of a shrinking coal city in Northeast China.\n\n\
        Residents, households and dwellings step year by year (2015-2035 by default) through \
        demography, labour, migration, housing and the local economy. Population, prices, \
        vacancy, unemployment and age structure emerge from the agents' decisions.\n\n\
        Start with `shrinkcity run` (the calibrated baseline, written to output/baseline/)."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Run one simulation and write its CSVs to a run folder.
    Run(RunArgs),
    /// Run N replicates with derived seeds in parallel; statistics across runs.
    Ensemble(EnsembleArgs),
    /// Run a full-factorial parameter sweep (or one shard of it) with replicates.
    Sweep(SweepArgs),
    /// Join the shard folders of a sweep into one, byte-identical to an unsharded sweep.
    Merge(MergeArgs),
    /// Rank parameters by their effect on outputs (Morris elementary effects).
    Sensitivity(SensitivityArgs),
    /// Compare run or ensemble folders with a base: per-year differences and a table.
    Compare(CompareArgs),
    /// Finish a run stopped by Ctrl-C or SIGTERM, from the checkpoint in its folder.
    Resume(ResumeArgs),
    /// Compare a finished run (or ensemble) with the article's figures.
    Targets(TargetsArgs),
    /// Search parameters so the model meets the article's figures.
    Calibrate(CalibrateArgs),
    /// Draw a run, an ensemble or several folders as charts in a self-contained HTML page.
    Report(ReportArgs),
    /// Run the stress cases of docs/VALIDATION.md (baseline, nobody leaves, nothing built,
    /// every scenario) over paired seeds and print which checks hold.
    Validate(ValidateArgs),
    /// List the config keys (as `--set KEY=VALUE` and scenario files name them): type,
    /// accepted values, unit, meaning and baseline value.
    Keys(KeysArgs),
}

/// Parse the command line, exiting (code 2) with clap's message on a mistake.
///
/// clap suggests a subcommand only when its Jaro similarity passes 0.7, which misses a
/// swapped pair of letters in a short name (`rnu` scores 0.56 against `run`). A name one
/// edit away (a swap counting as one edit) gets the same "tip: a similar subcommand exists".
pub fn parse() -> Cli {
    Cli::try_parse().unwrap_or_else(|mut e| {
        if e.kind() == ErrorKind::InvalidSubcommand
            && e.get(ContextKind::SuggestedSubcommand).is_none()
            && let Some(ContextValue::String(typed)) = e.get(ContextKind::InvalidSubcommand)
        {
            let near = similar_subcommands(typed);
            if !near.is_empty() {
                e.insert(
                    ContextKind::SuggestedSubcommand,
                    ContextValue::Strings(near),
                );
            }
        }
        e.exit()
    })
}

/// Subcommands one edit (insert, delete, replace or swap two neighbours) from `typed`.
fn similar_subcommands(typed: &str) -> Vec<String> {
    Cli::command()
        .get_subcommands()
        .map(|c| c.get_name().to_string())
        .filter(|name| edits(typed, name) <= 1)
        .collect()
}

/// Optimal string alignment distance: Levenshtein with adjacent swaps as one edit.
fn edits(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let mut d = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for (i, row) in d.iter_mut().enumerate() {
        row[0] = i;
    }
    for (j, cell) in d[0].iter_mut().enumerate() {
        *cell = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut best = (d[i - 1][j] + 1)
                .min(d[i][j - 1] + 1)
                .min(d[i - 1][j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                best = best.min(d[i - 2][j - 2] + 1);
            }
            d[i][j] = best;
        }
    }
    d[a.len()][b.len()]
}

/// Run the command; the error (if any) is printed and mapped to an exit code: 0 ok, 1
/// failure, 2 usage or config error, 130 interrupted.
pub fn main(cli: Cli) -> ExitCode {
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) if e.is::<Interrupted>() => {
            eprintln!("{e}");
            ExitCode::from(130)
        }
        Err(e) => {
            eprintln!("error: {e:#}");
            if e.is::<ConfigError>() || e.is::<UsageError>() {
                ExitCode::from(2)
            } else {
                ExitCode::FAILURE
            }
        }
    }
}

fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Run(args) => run_command(&args),
        Command::Ensemble(args) => {
            let quiet = args.exec.quiet;
            let opts = args.options()?;
            let done = watched_runs(quiet, KEEP_RUNS, |watch| experiment::ensemble(&opts, watch))?;
            if !quiet {
                let runs = format!("{} runs", done.runs);
                say_batch(&done.dir, &runs, done.runs, done.reused, done.wall_time_s);
            }
            if args.report {
                write_report(done.dir, quiet)?;
            }
            Ok(())
        }
        Command::Sweep(args) => {
            let quiet = args.exec.quiet;
            let done = watched_runs(quiet, KEEP_RUNS, |watch| {
                experiment::sweep(&args.options(), watch)
            })?;
            if !quiet {
                let runs = format!("{} of {} runs", done.runs, done.plan_runs);
                say_batch(&done.dir, &runs, done.runs, done.reused, done.wall_time_s);
            }
            Ok(())
        }
        Command::Merge(args) => {
            let done = experiment::merge(&args.options())?;
            eprintln!(
                "wrote {} ({} runs from {} folders)",
                done.dir.display(),
                done.runs,
                args.dirs.len()
            );
            Ok(())
        }
        Command::Validate(args) => {
            let opts = args.options()?;
            let report = experiment::validation::validate(&opts, &mut Bar::new(args.quiet))?;
            let table = report.markdown();
            print!("{table}");
            if let Some(out) = &args.out {
                shrinkcity::output::write_atomically(out, table.as_bytes())?;
                eprintln!("wrote {}", out.display());
            }
            Ok(())
        }
        Command::Sensitivity(args) => {
            let quiet = args.exec.quiet;
            let done = watched_runs(quiet, KEEP_RUNS, |watch| {
                experiment::sensitivity(&args.options(), watch)
            })?;
            print!("{}", done.table);
            if !quiet {
                eprintln!();
                let runs = format!("{} runs", done.runs);
                say_batch(&done.dir, &runs, done.runs, done.reused, done.wall_time_s);
            }
            Ok(())
        }
        Command::Compare(args) => {
            let table = experiment::compare(&args.options())?;
            print!("{table}");
            eprintln!("wrote {}", args.out.display());
            Ok(())
        }
        Command::Resume(args) => {
            let done = watched(args.quiet, |watch| session::resume(&args.options(), watch))?;
            wrote_run(&done, args.quiet);
            Ok(())
        }
        Command::Targets(args) => {
            let done = calibration::targets(&args.options())?;
            print!("{}", done.table);
            eprintln!("wrote {}", done.path.display());
            Ok(())
        }
        Command::Calibrate(args) => {
            let done = watched_runs(
                args.quiet,
                "after the evaluation in progress, keeping the finished ones",
                |watch| calibration::calibrate(&args.options(), watch),
            )?;
            print!("{}", done.summary);
            if done.reused > 0 {
                eprintln!(
                    "wrote {} ({} of {} evaluations replayed from the interrupted history)",
                    done.dir.display(),
                    done.reused,
                    args.budget
                );
            } else {
                eprintln!("wrote {}", done.dir.display());
            }
            Ok(())
        }
        Command::Keys(args) => print_keys(&args),
        Command::Report(args) => {
            let page = report::draw(&args.options())?;
            eprintln!("wrote {}", page.display());
            Ok(())
        }
    }
}

/// `run`: a new run or an extension, then its report if asked.
fn run_command(args: &RunArgs) -> anyhow::Result<()> {
    let quiet = args.exec.quiet;
    let done = match args.job()? {
        RunJob::New(opts) => watched(quiet, |watch| session::run(&opts, watch))?,
        RunJob::Extend(opts) => watched(quiet, |watch| session::extend(&opts, watch))?,
    };
    wrote_run(&done, quiet);
    if args.report {
        write_report(done.dir, quiet)?;
    }
    Ok(())
}

/// Run a session with signals watched and a progress bar.
fn watched(
    quiet: bool,
    session: impl FnOnce(&mut Watch) -> anyhow::Result<Finished>,
) -> anyhow::Result<Finished> {
    // Watch for signals before anything is written: one during set-up stops the run before
    // its first year, and the staging folder is removed.
    signal::install("after the year in progress")?;
    let mut bar = Bar::new(quiet);
    let mut watch = Watch {
        stop: &signal::STOP,
        staging: &signal::set_staging,
        meter: &mut bar,
    };
    session(&mut watch)
}

/// What the first signal stops an experiment after.
const KEEP_RUNS: &str = "and keeping the finished runs (runs in progress are dropped)";

/// Run an experiment (`ensemble`, `sweep`, `sensitivity`, `calibrate`) with signals watched and a progress bar: the first
/// signal stops it keeping the finished runs.
fn watched_runs<T>(
    quiet: bool,
    stopping: &'static str,
    experiment: impl FnOnce(&mut Watch) -> anyhow::Result<T>,
) -> anyhow::Result<T> {
    signal::install(stopping)?;
    let mut bar = Bar::new(quiet);
    let mut meter = StopAfter {
        inner: &mut bar,
        left: signal::stop_after_runs(),
    };
    let mut watch = Watch {
        stop: &signal::STOP,
        staging: &signal::set_staging,
        meter: &mut meter,
    };
    experiment(&mut watch)
}

/// A meter that sets the stop flag once `left` more runs have finished (the test hook of
/// `signal::stop_after_runs`), and otherwise passes everything on.
struct StopAfter<'a> {
    inner: &'a mut dyn experiment::Meter,
    left: Option<u64>,
}

impl experiment::Meter for StopAfter<'_> {
    fn start(&mut self, len: u64, what: &str) {
        self.inner.start(len, what);
    }
    fn set_position(&mut self, pos: u64) {
        self.inner.set_position(pos);
    }
    fn inc(&mut self, n: u64) {
        self.inner.inc(n);
        if let Some(left) = &mut self.left {
            *left = left.saturating_sub(n);
            if *left == 0 {
                signal::STOP.store(true, std::sync::atomic::Ordering::SeqCst);
            }
        }
    }
    fn set_message(&mut self, message: &str) {
        self.inner.set_message(message);
    }
    fn finish(&mut self) {
        self.inner.finish();
    }
}

/// `, N carried over` after a resume that reused finished runs.
/// What an ensemble or a sweep wrote: `runs` ("4 runs", "6 of 12 runs"), of which `reused`
/// came from the interrupted folder; or that a resumed folder already held every run.
fn say_batch(dir: &std::path::Path, runs: &str, total: usize, reused: usize, wall_time_s: f64) {
    if reused == total {
        eprintln!("{} already holds every run: nothing to run", dir.display());
    } else if reused == 0 {
        eprintln!("wrote {} ({runs}, {wall_time_s:.1} s)", dir.display());
    } else {
        eprintln!(
            "wrote {} ({runs}, {reused} carried over from the interrupted folder, {wall_time_s:.1} s)",
            dir.display()
        );
    }
}

/// The folder, then the headline figures of the first and last year.
fn wrote_run(done: &Finished, quiet: bool) {
    if quiet {
        return;
    }
    let (a, b) = (&done.first, &done.last);
    eprintln!("wrote {} ({:.1} s)", done.dir.display(), done.wall_time_s);
    eprintln!("{:>24} {:>12} {:>12}", "", a.year, b.year);
    eprintln!(
        "{:>24} {:>12} {:>12}",
        "population",
        thousands(a.population as f64),
        thousands(b.population as f64)
    );
    eprintln!(
        "{:>24} {:>12} {:>12}",
        "price per m2, yuan",
        thousands(a.price_per_m2),
        thousands(b.price_per_m2)
    );
    eprintln!(
        "{:>24} {:>11.1}% {:>11.1}%",
        "unemployment rate",
        100.0 * a.unemployment_rate,
        100.0 * b.unemployment_rate
    );
}

/// `1234567.8` as `1,234,568`.
fn thousands(x: f64) -> String {
    let digits = format!("{:.0}", x.abs());
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    if x < -0.5 { format!("-{out}") } else { out }
}

/// `keys [PATTERN]`: every config key the pattern matches, on stdout.
fn print_keys(args: &KeysArgs) -> anyhow::Result<()> {
    let keys = shrinkcity::config::keys(args.pattern.as_deref());
    if keys.is_empty() {
        return Err(UsageError::msg(format!(
            "no config key contains `{}`; `shrinkcity keys` lists them all",
            args.pattern.as_deref().unwrap_or_default()
        )));
    }
    let mut out = String::new();
    for k in &keys {
        out.push_str(&format!("{} = {}\n    {}", k.path, k.baseline, k.kind));
        if let Some(a) = &k.accepted {
            out.push_str(&format!("; accepts {a}"));
        }
        if let Some(u) = &k.unit {
            out.push_str(&format!("; unit: {u}"));
        }
        out.push('\n');
        if let Some(set) = &k.set {
            out.push_str(&format!("    set it to {set}\n"));
        }
        match (k.meaning.is_empty(), &k.source) {
            (false, Some(s)) => out.push_str(&format!("    {} ({s})\n", k.meaning)),
            (false, None) => out.push_str(&format!("    {}\n", k.meaning)),
            (true, Some(s)) => out.push_str(&format!("    ({s})\n")),
            (true, None) => {}
        }
    }
    print!("{out}");
    Ok(())
}

/// `--report`: the page of a folder just written.
fn write_report(dir: PathBuf, quiet: bool) -> anyhow::Result<()> {
    let page = report::write_report(&[dir], None)?;
    if !quiet {
        eprintln!("wrote {}", page.display());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cli_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn a_swapped_pair_of_letters_is_one_edit() {
        assert_eq!(edits("rnu", "run"), 1);
        assert_eq!(edits("rn", "run"), 1);
        assert_eq!(edits("ensemble", "ensemble"), 0);
        assert_eq!(similar_subcommands("rnu"), ["run"]);
        assert!(similar_subcommands("xyz").is_empty());
    }
}
