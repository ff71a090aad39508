"""Driving the shrinkcity binary from Python: the helpers the examples share.

The binary is $SHRINKCITY, or target/release/shrinkcity of this repository
(`cargo build --release`). Every run writes a folder; `run` returns its path.
"""

import os
import subprocess
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BINARY = os.environ.get("SHRINKCITY", str(ROOT / "target" / "release" / "shrinkcity"))


def run(out, *args, scale=0.01, end_year=2025, seed=1, fmt="parquet", snapshots="none", sets=()):
    """`shrinkcity run` into `out` (replaced if there); returns `out` as a Path.

    `sets` are config overrides, `KEY=VALUE` (see `shrinkcity keys`). A time-series key
    such as `policy.high_tech_jobs` takes a list of [year, value] pairs.
    """
    cmd = [
        BINARY, "run", "--quiet", "--force", "--out", str(out),
        "--scale", str(scale), "--end-year", str(end_year), "--seed", str(seed),
        "--format", fmt, "--snapshots", snapshots, "--threads", "1",
    ]
    for s in sets:
        cmd += ["--set", s]
    subprocess.run(cmd + list(args), check=True)
    return Path(out)


def scratch(name):
    """A fresh folder for an example's runs (under $TMPDIR)."""
    return Path(tempfile.mkdtemp(prefix=f"shrinkcity-{name}-"))
