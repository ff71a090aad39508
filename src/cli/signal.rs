//! Ctrl-C and SIGTERM during a run: the first sets the stop flag the library checks between
//! two years (it keeps the years done and a checkpoint); a second aborts at once, removing
//! the staging folder the library said it writes into, and leaves nothing.

use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

/// Set by the first signal.
pub static STOP: AtomicBool = AtomicBool::new(false);
static SIGNALS: AtomicUsize = AtomicUsize::new(0);
/// The staging folder a second signal removes before exiting.
static STAGING: Mutex<Option<PathBuf>> = Mutex::new(None);

/// Watch for signals (once per process).
pub fn install() -> anyhow::Result<()> {
    static INSTALLED: std::sync::OnceLock<Result<(), String>> = std::sync::OnceLock::new();
    INSTALLED
        .get_or_init(|| {
            ctrlc::set_handler(|| {
                if SIGNALS.fetch_add(1, Ordering::SeqCst) == 0 {
                    STOP.store(true, Ordering::SeqCst);
                    eprintln!(
                        "\nstopping after the year in progress (press Ctrl-C again to abort without saving)"
                    );
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
