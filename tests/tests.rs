//! One integration test binary (fast to link). Modules:
//! - `identities`: accounting identities and invariants of a small run, year by year.
//! - `determinism`: same seed, same bytes; 1 vs 2 threads.
//! - `cli`: the binary end to end at small scale, including bad input.
//! - `formats`: `--format parquet` holds what `--format csv` holds, read back from both.
//! - `experiments`: scenarios, ensemble, sweep (shards, merge), sensitivity and compare.
//! - `levers`: a number or a ramp for a series key is one run from `--set`, a scenario file
//!   or a sweep point, and changes nothing before `run.lever_start_year`.
//! - `report`: the HTML report of a run, an ensemble and a comparison, in headless Chromium.
//! - `calibration`: the baseline against the article's targets; calibrate recovers a known truth.
//! - `cities`: each city file in `config/cities/` starts as it states and runs 2010-2035.
//! - `robustness`: bad input, Ctrl-C and resume, checkpoints, invariants, random configs.
//! - `layering`: no module imports from a floor above its own (docs/ARCHITECTURE.md).

mod calibration;
mod cities;
mod cli;
mod determinism;
mod experiments;
mod formats;
mod identities;
mod layering;
mod levers;
mod report;
mod robustness;
mod util;
