#!/usr/bin/env bash
# Whole-process benchmarks (issue 5): wall time (median of N runs), agent-years per second
# and peak RSS, with --snapshots none unless stated. Usage: scripts/bench.sh [N=5]
# The two full-scale cases run interleaved (2 threads, 1 thread, 2 threads, ...), so their
# ratio compares runs made under the same machine conditions.
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-5}
cargo build --release --quiet
bin=target/release/shrinkcity
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

# time_run TAG ARGS... -> appends "wall rss_kb" to $out/TAG
time_run() {
  local tag=$1; shift
  /usr/bin/time -f "%e %M" -o "$out/time" "$bin" "$@" --quiet --force --out "$out/run" >/dev/null
  cat "$out/time" >> "$out/$tag"
}

# median TAG -> the median wall time of TAG's runs
median() {
  cut -d' ' -f1 "$out/$1" | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'
}

# row TAG LABEL AGENT_YEARS -> prints one table row
row() {
  local rss
  rss=$(cut -d' ' -f2 "$out/$1" | sort -g | tail -1)
  awk -v l="$2" -v w="$(median "$1")" -v ay="$3" -v r="$rss" \
    'BEGIN { printf "| %-44s | %8.2f | %14.0f | %8.0f |\n", l, w, ay / w, r / 1024 }'
}

# run_case LABEL REPEATS AGENT_YEARS ARGS... -> runs and prints one table row
run_case() {
  local label=$1 reps=$2 agent_years=$3; shift 3
  local tag
  tag=case$RANDOM
  for _ in $(seq "$reps"); do time_run "$tag" "$@"; done
  row "$tag" "$label" "$agent_years"
}

echo "| case | wall s | agent-years/s | peak RSS MB |"
echo "|---|---|---|---|"
for _ in $(seq "$n"); do
  time_run t2 run --snapshots none --threads 2
  time_run t1 run --snapshots none --threads 1
done
row t2 "full scale, 2015-2035, --threads 2" 21000000
row t1 "full scale, 2015-2035, --threads 1" 21000000
run_case "full scale, all 21 agent snapshots" "$n" 21000000 run --snapshots all --threads 2
run_case "100k residents (--scale 0.1)" "$n" 2100000 run --scale 0.1 --snapshots none
run_case "ensemble of 20 runs at --scale 0.1" "$n" 42000000 ensemble --runs 20 --scale 0.1
run_case "ensemble of 60 runs at --scale 0.1" 1 126000000 ensemble --runs 60 --scale 0.1
if [ "${BENCH_10M:-1}" = 1 ]; then
  run_case "10M residents (--scale 10)" 1 210000000 run --scale 10 --snapshots none
fi
awk -v a="$(median t1)" -v b="$(median t2)" \
  'BEGIN { printf "\n--threads 2 against --threads 1 (medians, interleaved runs): %.2fx faster\n", a / b }'
