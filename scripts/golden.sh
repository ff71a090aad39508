#!/usr/bin/env bash
# Golden outputs for a behaviour-preserving change: runs a fixed set of commands with BIN
# (runs, an ensemble, a sweep and its shards merged, sensitivity, calibrate, targets,
# compare, report pages) in DIR and prints one sha256 line per file written, with wall
# times stripped from manifests. Take the list before and after a change and diff them:
#   cp target/release/shrinkcity /tmp/before && scripts/golden.sh /tmp/before /tmp/g0 > g0.txt
#   cargo build --release && scripts/golden.sh target/release/shrinkcity /tmp/g1 > g1.txt
#   diff g0.txt g1.txt
# Usage: scripts/golden.sh BIN DIR
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
rm -rf "$2"
mkdir -p "$2"
dir=$(cd "$2" && pwd)
# The same binary path and relative folders in every list: both reach manifests and pages.
mkdir -p /tmp/golden-bin
cp "$1" /tmp/golden-bin/shrinkcity
bin=/tmp/golden-bin/shrinkcity
cd "$dir"
q=--quiet
for seed in 1 2 3; do
  $bin run --scale 0.1 --seed "$seed" --snapshots all --checkpoint-every 10 --out "run$seed" $q
done
$bin run --scale 0.1 --seed 1 --threads 1 --out run1_t1 $q
$bin ensemble --scale 0.05 --runs 4 --seed 5 --out ens $q
sweep=(--scale 0.05 --param migration.climate_weight=0:1:3 --runs 2)
$bin sweep "${sweep[@]}" --out sweep $q
$bin sweep "${sweep[@]}" --shard 0/2 --out shard0 $q
$bin sweep "${sweep[@]}" --shard 1/2 --out shard1 $q
$bin merge shard0 shard1 --out merged > /dev/null
$bin sensitivity --scale 0.05 --param migration.climate_weight=0:1 \
  --param labour.local_wage_growth=0.01:0.05 --trajectories 2 --out sens $q
$bin calibrate --params migration.intercept,housing.ask_heat --budget 5 --seeds 2 --scale 0.05 \
  --out calib $q > calibrate.txt
$bin targets run1 > targets_run1.txt
$bin compare run1 run2 --out cmp.csv > compare.txt
$bin report run1 > /dev/null
$bin report ens > /dev/null
$bin report run1 run2 --out cmp.html > /dev/null
cd "$root"
(cd "$dir" && find . -type f | LC_ALL=C sort) | while read -r f; do
  case "$f" in
    *manifest.json) sed -E 's/"(wall_time_s|[a-z_]*seconds)": *[0-9.e+-]+/"\1": X/' "$dir/$f" | sha256sum | sed "s|-|$f|" ;;
    *) (cd "$dir" && sha256sum "$f") ;;
  esac
done
