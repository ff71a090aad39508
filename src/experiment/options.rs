//! What every simulation command is given, as plain values (the CLI maps its flags onto
//! them; a Rust caller builds them directly), and the one place they are checked: scale,
//! threads and the agent count, with the messages the user sees. Also `Meter`, the
//! progress callback long commands report to (the CLI draws it as a bar).

use std::path::PathBuf;

use super::RunSpec;
use crate::config::{self, UsageError};

/// The model to run: a config, its overrides, seed, scale and years, and how to run it.
#[derive(Clone, Debug)]
pub struct RunOptions {
    /// Config file (TOML). `None`: the built-in baseline.
    pub config: Option<PathBuf>,
    /// `KEY=VALUE` overrides by dotted path, applied in order.
    pub sets: Vec<String>,
    /// Random seed (for experiments, the base seed). `None`: `run.seed` in the config.
    pub seed: Option<u64>,
    /// Agents per real resident: 1 = the full city.
    pub scale: f64,
    /// First and last simulated year (override `run.start_year` and `run.end_year`).
    pub start_year: Option<i32>,
    pub end_year: Option<i32>,
    /// Worker threads. `None`: all cores.
    pub threads: Option<usize>,
    /// Check the model's invariants after every year (always on in debug builds).
    pub check: bool,
}

impl Default for RunOptions {
    fn default() -> Self {
        RunOptions {
            config: None,
            sets: Vec::new(),
            seed: None,
            scale: 1.0,
            start_year: None,
            end_year: None,
            threads: None,
            check: false,
        }
    }
}

impl RunOptions {
    /// Check the values, load the config with every override applied.
    pub fn resolve(&self) -> anyhow::Result<(config::Loaded, RunSpec)> {
        self.resolve_with(&[])
    }

    /// As `resolve`, with extra overrides after the others (sweep points, Morris points).
    pub fn resolve_with(&self, extra: &[String]) -> anyhow::Result<(config::Loaded, RunSpec)> {
        check_scale(self.scale)?;
        check_threads(self.threads)?;
        let mut sets = self.sets.clone();
        sets.extend(extra.iter().cloned());
        if let Some(y) = self.start_year {
            sets.push(format!("run.start_year={y}"));
        }
        if let Some(y) = self.end_year {
            sets.push(format!("run.end_year={y}"));
        }
        let loaded = config::load(self.config.as_deref(), &sets)?;
        check_agents(&loaded, self.scale)?;
        let spec = RunSpec {
            seed: self.seed.unwrap_or(loaded.config.run.seed),
            scale: self.scale,
        };
        Ok((loaded, spec))
    }
}

/// About 240 bytes each (docs/PERFORMANCE.md): 50 million agents need some 12 GB.
const MAX_AGENTS: f64 = 5e7;

/// `--scale`: above 0 and at most 20.
pub fn check_scale(scale: f64) -> Result<(), UsageError> {
    if scale.is_finite() && scale > 0.0 && scale <= 20.0 {
        return Ok(());
    }
    Err(UsageError(format!(
        "--scale {scale}: must be above 0 and at most 20 (1 = the full city, 0.1 = a quick run)"
    )))
}

/// `--threads`: 1 to 1024, or the default (every core).
pub fn check_threads(threads: Option<usize>) -> Result<(), UsageError> {
    match threads {
        Some(0) => Err(UsageError("--threads 0: need at least 1 thread".into())),
        Some(n) if n > 1024 => Err(UsageError(format!(
            "--threads {n}: at most 1024 (the default uses every core)"
        ))),
        _ => Ok(()),
    }
}

/// The city at `scale` has at least 100 agents and fits in memory.
pub fn check_agents(loaded: &config::Loaded, scale: f64) -> Result<(), UsageError> {
    let population = loaded.config.city.population;
    let agents = population * scale;
    if agents < 100.0 {
        return Err(UsageError(format!(
            "--scale {scale} gives only {agents:.0} agents for a city of {population}; use a larger scale"
        )));
    }
    if agents > MAX_AGENTS {
        return Err(UsageError(format!(
            "--scale {scale} gives {agents:.0} agents for a city of {population}; at most {MAX_AGENTS:.0} fit in memory, use a smaller scale"
        )));
    }
    Ok(())
}

/// Where a long command says how far it is. Every method does nothing by default, so
/// `Silent` (or any caller that does not care) implements none of them.
pub trait Meter: Send {
    /// New work begins: `len` steps, described by `what`.
    fn start(&mut self, _len: u64, _what: &str) {}
    /// `pos` steps are done.
    fn set_position(&mut self, _pos: u64) {}
    /// `n` more steps are done.
    fn inc(&mut self, _n: u64) {}
    /// What is happening now (a year, the best loss so far).
    fn set_message(&mut self, _message: &str) {}
    /// The work is over (done or failed).
    fn finish(&mut self) {}
}

/// A meter that shows nothing.
pub struct Silent;

impl Meter for Silent {}
