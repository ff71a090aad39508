#!/usr/bin/env bash
# Whole-process benchmarks (issue 5): wall time (median of N runs), agent-years per second
# and peak RSS, with --snapshots none unless stated. Usage: scripts/bench.sh [N=5]
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-5}
cargo build --release --quiet
bin=target/release/shrinkcity
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

# run_case LABEL REPEATS AGENT_YEARS ARGS... -> prints one table row
run_case() {
  local label=$1 reps=$2 agent_years=$3; shift 3
  local walls=() rss=0
  for _ in $(seq "$reps"); do
    /usr/bin/time -f "%e %M" -o "$out/time" "$bin" "$@" --quiet --force --out "$out/run" >/dev/null
    read -r wall kb < "$out/time"
    walls+=("$wall")
    (( kb > rss )) && rss=$kb
  done
  local median
  median=$(printf '%s\n' "${walls[@]}" | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
  awk -v l="$label" -v w="$median" -v ay="$agent_years" -v r="$rss" \
    'BEGIN { printf "| %-44s | %8.2f | %14.0f | %8.0f |\n", l, w, ay / w, r / 1024 }'
}

echo "| case | wall s | agent-years/s | peak RSS MB |"
echo "|---|---|---|---|"
run_case "full scale, 2015-2035, --threads 2" "$n" 21000000 run --snapshots none --threads 2
run_case "full scale, 2015-2035, --threads 1" "$n" 21000000 run --snapshots none --threads 1
run_case "full scale, all 21 agent snapshots" "$n" 21000000 run --snapshots all --threads 2
run_case "100k residents (--scale 0.1)" "$n" 2100000 run --scale 0.1 --snapshots none
run_case "ensemble of 20 runs at --scale 0.1" "$n" 42000000 ensemble --runs 20 --scale 0.1
run_case "ensemble of 60 runs at --scale 0.1" 1 126000000 ensemble --runs 60 --scale 0.1
if [ "${BENCH_10M:-1}" = 1 ]; then
  run_case "10M residents (--scale 10)" 1 210000000 run --scale 10 --snapshots none
fi
