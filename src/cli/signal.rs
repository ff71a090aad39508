//! Ctrl-C and SIGTERM during a run: the first sets the stop flag the library checks between
//! two years (it keeps the years done and a checkpoint); a second aborts at once, removing
//! the staging folder the library said it writes into, and leaves nothing. What the first
//! stops after (the year in progress, or the runs in progress of an experiment) is said by
//! `install`'s caller.

use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

/// Set by the first signal.
pub static STOP: AtomicBool = AtomicBool::new(false);
static SIGNALS: AtomicUsize = AtomicUsize::new(0);
/// The staging folder a second signal removes before exiting.
static STAGING: Mutex<Option<PathBuf>> = Mutex::new(None);

/// What the first signal says it stops after.
static STOPPING: Mutex<&str> = Mutex::new("after the year in progress");

/// Watch for signals (once per process); the first says it is stopping `what` ("after the
/// year in progress").
pub fn install(what: &'static str) -> anyhow::Result<()> {
    if let Ok(mut s) = STOPPING.lock() {
        *s = what;
    }
    static INSTALLED: std::sync::OnceLock<Result<(), String>> = std::sync::OnceLock::new();
    INSTALLED
        .get_or_init(|| {
            ctrlc::set_handler(|| {
                if SIGNALS.fetch_add(1, Ordering::SeqCst) == 0 {
                    STOP.store(true, Ordering::SeqCst);
                    let what = STOPPING.lock().map_or("after the year in progress", |s| *s);
                    eprintln!("\nstopping {what} (press Ctrl-C again to abort without saving)");
                } else {
                    let staging = STAGING.lock().ok().and_then(|s| s.clone());
                    if let Some(dir) = staging {
                        std::fs::remove_dir_all(&dir).ok();
                    }
                    eprintln!("aborted: nothing written");
                    std::process::exit(130);
                }
            })
            .map_err(|e| e.to_string())
        })
        .clone()
        .map_err(|e| anyhow::anyhow!("cannot watch for Ctrl-C: {e}"))
}

/// Where the run is staged now (`None`: nothing to remove).
pub fn set_staging(dir: Option<&Path>) {
    if let Ok(mut s) = STAGING.lock() {
        *s = dir.map(Path::to_path_buf);
    }
}

/// A test hook: with `SHRINKCITY_TEST_STOP_AFTER_RUNS=N` in the environment, an experiment
/// stops as on Ctrl-C once N runs have finished (a signal cannot be timed that exactly).
pub fn stop_after_runs() -> Option<u64> {
    std::env::var("SHRINKCITY_TEST_STOP_AFTER_RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
}
