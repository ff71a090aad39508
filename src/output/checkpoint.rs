//! Checkpoints: the whole state of a run between two years in `checkpoint.bin`, so that an
//! interrupted run can be resumed and a finished one extended, with output byte-identical to
//! a run that never stopped. The file is a short text header (format and version, readable
//! with `head -c`) followed by postcard, written to a temporary name and renamed.
//! What the state holds is `sim::world::WorldState`; this module only writes and reads it.

use anyhow::{Context, bail};
use serde::{Deserialize, Serialize};
use std::fs;
use std::io::Write;
use std::path::Path;

use super::Snapshots;
use super::record::Recorder;
use crate::sim::world::WorldState;

/// The file name inside a run folder.
pub const FILE_NAME: &str = "checkpoint.bin";

/// First bytes of every checkpoint; the number is the layout, bumped when it changes.
const MAGIC: &[u8] = b"shrinkcity checkpoint 7\n";

/// A run between two years, and what is needed to carry it on alone.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Checkpoint {
    /// The shrinkcity version that wrote it; another version may step differently.
    pub version: String,
    /// The last year whose records are written.
    pub year: i32,
    /// The config's name (the default output folder), for the manifest.
    pub config_name: String,
    pub snapshots: Snapshots,
    /// `--checkpoint-every`, kept so a resumed run saves at the same years.
    pub checkpoint_every: Option<u32>,
    /// Length in bytes of each long-format CSV after `year`: resume cuts them back to this.
    pub tables: Vec<(String, u64)>,
    pub recorder: Recorder,
    pub world: WorldState,
}

/// Write `checkpoint` to `path` atomically: a temporary file beside it, synced, then renamed.
pub fn write(path: &Path, checkpoint: &Checkpoint) -> anyhow::Result<()> {
    let bytes = postcard::to_stdvec(checkpoint).context("encoding the checkpoint")?;
    let tmp = path.with_extension("bin.tmp");
    let result = (|| -> std::io::Result<()> {
        let mut f = fs::File::create(&tmp)?;
        f.write_all(MAGIC)?;
        f.write_all(&bytes)?;
        f.sync_all()?;
        fs::rename(&tmp, path)
    })();
    if let Err(e) = result {
        fs::remove_file(&tmp).ok();
        return Err(e).with_context(|| format!("cannot write {}", path.display()));
    }
    Ok(())
}

/// Read a checkpoint, refusing a file that is not one or that another version wrote.
pub fn read(path: &Path) -> anyhow::Result<Checkpoint> {
    let bytes = fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    let Some(body) = bytes.strip_prefix(MAGIC) else {
        bail!(
            "{} is not a shrinkcity checkpoint (or one from an incompatible version)",
            path.display()
        );
    };
    let c: Checkpoint = postcard::from_bytes(body).map_err(|e| {
        anyhow::anyhow!(
            "{} is damaged or from another shrinkcity version: {e}",
            path.display()
        )
    })?;
    let ours = env!("CARGO_PKG_VERSION");
    if c.version != ours {
        bail!(
            "{} was written by shrinkcity {}, this is {ours}: its years would not match; rerun instead",
            path.display(),
            c.version
        );
    }
    Ok(c)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn small() -> (Checkpoint, bevy_ecs::world::World) {
        crate::engine::par::init_task_pool(None);
        let mut world = crate::sim::world::build_world(&crate::config::baseline(), 3, 0.002);
        let recorder = Recorder::new(&mut world);
        let state = crate::sim::world::capture_world(&mut world).unwrap();
        let c = Checkpoint {
            version: env!("CARGO_PKG_VERSION").into(),
            year: 2014,
            config_name: "baseline".into(),
            snapshots: Snapshots::Every(10),
            checkpoint_every: Some(5),
            tables: vec![("summary.csv".into(), 10)],
            recorder,
            world: state,
        };
        (c, world)
    }

    #[test]
    fn a_checkpoint_reads_back_as_written() {
        let (c, _) = small();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(FILE_NAME);
        write(&path, &c).unwrap();
        let back = read(&path).unwrap();
        assert_eq!(
            postcard::to_stdvec(&c).unwrap(),
            postcard::to_stdvec(&back).unwrap()
        );
        assert!(!dir.path().join("checkpoint.bin.tmp").exists());
    }

    #[test]
    fn a_foreign_or_truncated_file_is_refused_with_its_name() {
        let (c, _) = small();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(FILE_NAME);
        fs::write(&path, b"hello").unwrap();
        let e = read(&path).unwrap_err().to_string();
        assert!(e.contains("not a shrinkcity checkpoint"), "{e}");
        write(&path, &c).unwrap();
        let bytes = fs::read(&path).unwrap();
        fs::write(&path, &bytes[..bytes.len() / 2]).unwrap();
        let e = read(&path).unwrap_err().to_string();
        assert!(e.contains("damaged"), "{e}");
    }
}
