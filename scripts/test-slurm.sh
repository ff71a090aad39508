#!/usr/bin/env bash
# Slurm for real: starts a one-node Slurm cluster on this machine (Debian's slurmctld, slurmd
# and munge), submits examples/slurm/sweep.sbatch as an array job with a dependent merge job,
# as that file's header shows, and checks that the merged plan.csv, results.csv and
# config.toml are byte for byte those of the same sweep run unsharded on one machine.
#
#   scripts/test-slurm.sh        # as root; installs the Debian packages if they are missing
#
# Environment:
#   SHRINKCITY          the binary (default target/debug/shrinkcity, built if absent)
#   SLURM_TEST_PORT     slurmctld's port; slurmd takes the next one (default 16817, away
#                       from a real cluster's 6817/6818)
#   SLURM_TEST_TIMEOUT  seconds to wait for the jobs (default 600)
#
# No systemd here: the daemons run as children of this script, configured by a slurm.conf
# and a munge key generated in a temporary folder; they are stopped and the folder removed
# on exit, whatever happens. When a daemon cannot start, the script says so and prints the
# end of its log: it fails, it never skips.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
start=$SECONDS

# A small sweep: 3 x 2 points x 2 replicates = 12 runs at scale 0.05 (~0.4 s each with the
# target/debug binary `cargo test` builds, at opt-level 1; ~3 s with `cargo build`'s, at 0),
# in 5 shards so that they differ in size (3, 3, 2, 2, 2 runs).
shards=5
sweep_args="--param migration.intercept=-2.2:-1.2:3 --param policy.high_tech_jobs=0,20000"
sweep_args+=" --runs 2 --scale 0.05 --seed 20150101"
port=${SLURM_TEST_PORT:-16817}
timeout=${SLURM_TEST_TIMEOUT:-600}
# Our cluster's settings only: none inherited from a surrounding Slurm job or from a
# user's defaults for another cluster (SBATCH_PARTITION, SLURM_CONF, ...).
while read -r var; do unset "$var"; done < <(compgen -e | grep -E '^(SLURM|SBATCH|SQUEUE|SINFO)_')

say() { echo "test-slurm: $*"; }

# die WHY [LOG...]: the reason, then the last lines of each log named, then exit 1.
die() {
  echo "test-slurm: FAILED: $1" >&2
  shift
  for log in "$@"; do
    if [ -s "$log" ]; then
      echo "---- last lines of $log" >&2
      tail -n 25 "$log" >&2
    fi
  done
  exit 1
}

[ "$(id -u)" = 0 ] ||
  die "must run as root: slurmd starts the jobs as their user, which needs root"

# ---- the binary: the one `cargo test` or `cargo build` leaves in target/debug by default.
shrinkcity=${SHRINKCITY:-target/debug/shrinkcity}
if [ ! -x "$shrinkcity" ] && [ -z "${SHRINKCITY:-}" ]; then
  say "building $shrinkcity"
  cargo build
fi
[ -x "$shrinkcity" ] || die "no executable shrinkcity at $shrinkcity"
# The jobs run in another folder: they need an absolute path.
shrinkcity=$(realpath "$shrinkcity")

# ---- the packages: Debian's Slurm 22.05 and munge, installed when a command is missing.
need=()
command -v slurmctld >/dev/null || need+=(slurmctld)
command -v slurmd >/dev/null || need+=(slurmd)
command -v sbatch >/dev/null || need+=(slurm-client)
command -v munged >/dev/null || need+=(munge)
if [ ${#need[@]} -gt 0 ]; then
  command -v apt-get >/dev/null || die "missing ${need[*]} and no apt-get to install them"
  say "installing ${need[*]}"
  # Without systemd, a package's postinst would start Debian's own munged and slurmd
  # through their init scripts; a policy-rc.d that answers 101 forbids that (Docker's
  # Debian images ship one). Ours lives only as long as the installation.
  policy=
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    policy=/usr/sbin/policy-rc.d
    printf '#!/bin/sh\nexit 101\n' > "$policy"
    chmod 755 "$policy"
  fi
  ok=1
  { apt-get update -qq &&
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" \
      >/dev/null; } || ok=0
  [ -z "$policy" ] || rm -f "$policy"
  [ "$ok" = 1 ] || die "apt-get could not install ${need[*]}"
  say "installed in $((SECONDS - start)) s"
fi

# ---- a temporary folder for everything: config, key, sockets, state, logs, outputs.
# munged wants its socket's folders searchable by all (any user may ask it for a
# credential) and none of them writable by group or others.
tmp=$(mktemp -d -t test-slurm.XXXXXX)
chmod 755 "$tmp"
mkdir -m 755 "$tmp/munge" "$tmp/state" "$tmp/spool" "$tmp/logs" "$tmp/work"
pids=()   # the daemons this script started, stopped by cleanup

cleanup() {
  local status=$?
  # Cancel what is still queued or running first: slurmstepd (which runs a job) outlives
  # slurmd and would keep a shrinkcity running after we leave.
  if [ -n "${SLURM_CONF:-}" ] && scontrol ping >/dev/null 2>&1; then
    scancel --quiet --user=root 2>/dev/null || true
    for _ in $(seq 20); do
      [ -z "$(squeue -h -o %i 2>/dev/null)" ] && break
      sleep 0.5
    done
  fi
  local pid
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$tmp"
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# ---- munge: the authentication every Slurm message carries; a fresh key, our own socket.
mungekey --create --keyfile="$tmp/munge/munge.key" 2>/dev/null ||
  { dd if=/dev/urandom of="$tmp/munge/munge.key" bs=1024 count=1 status=none &&
    chmod 600 "$tmp/munge/munge.key"; }
socket=$tmp/munge/munge.socket
munged --foreground --key-file="$tmp/munge/munge.key" --socket="$socket" \
  --pid-file="$tmp/munge/munged.pid" --seed-file="$tmp/munge/munged.seed" \
  >"$tmp/logs/munged.log" 2>&1 &
pids+=("$!")
for _ in $(seq 50); do
  [ -S "$socket" ] && break
  kill -0 "${pids[-1]}" 2>/dev/null || break
  sleep 0.1
done
munge --socket="$socket" --no-input 2>/dev/null | unmunge --socket="$socket" >/dev/null 2>&1 ||
  die "munged did not start (or cannot encode and decode a credential)" \
    "$tmp/logs/munged.log"

# ---- slurm.conf: one node, this machine, every process as root, nothing outside $tmp.
# The node is this host's short name (slurmctld knows itself as SlurmctldHost by it), at
# 127.0.0.1 so that nothing depends on how the name resolves. CPUs from nproc; RealMemory
# from /proc/meminfo (what `free` reads), less 10%: a node whose slurmd finds less memory
# than slurm.conf declares is drained. No cgroups (proctrack/linuxproc, task/none) and no
# accounting database; memory is not a consumable resource (CR_Core).
host=$(hostname -s)
cpus=$(nproc)
mem=$(awk '/^MemTotal:/ { print int($2 / 1024 * 0.9) }' /proc/meminfo)
export SLURM_CONF=$tmp/slurm.conf   # read by the daemons and by sbatch, squeue, scontrol
cat > "$SLURM_CONF" <<EOF
ClusterName=shrinkcity-test
SlurmctldHost=$host(127.0.0.1)
SlurmctldPort=$port
SlurmdPort=$((port + 1))
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$socket
StateSaveLocation=$tmp/state
SlurmdSpoolDir=$tmp/spool
SlurmctldPidFile=$tmp/slurmctld.pid
SlurmdPidFile=$tmp/slurmd.pid
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
SchedulerType=sched/builtin
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
MpiDefault=none
ReturnToService=2
# A job whose dependency can never be met (the array failed) is cancelled, not left pending.
DependencyParameters=kill_invalid_depend
NodeName=$host NodeAddr=127.0.0.1 CPUs=$cpus RealMemory=$mem State=UNKNOWN
PartitionName=test Nodes=$host Default=YES MaxTime=INFINITE State=UP
EOF

# ---- the daemons, in the foreground (-D) as background children of this script. In the
# foreground every daemon logs to its stderr, which goes to $tmp/logs/NAME.log.
slurmctld -D -f "$SLURM_CONF" >"$tmp/logs/slurmctld.log" 2>&1 &
pids+=("$!")
ctld=$!
up=0
for _ in $(seq 100); do
  kill -0 "$ctld" 2>/dev/null || break
  if scontrol ping 2>/dev/null | grep -q UP; then up=1; break; fi
  sleep 0.2
done
[ "$up" = 1 ] || die "slurmctld did not start" "$tmp/logs/slurmctld.log"

slurmd -D -f "$SLURM_CONF" -N "$host" >"$tmp/logs/slurmd.log" 2>&1 &
pids+=("$!")
slurmd_pid=$!
state=
for _ in $(seq 150); do
  kill -0 "$slurmd_pid" 2>/dev/null || break
  state=$(sinfo -h -n "$host" -o %T 2>/dev/null || true)
  case $state in idle | inval | drain*) break ;; esac   # up, or refused for good
  sleep 0.2
done
[ "$state" = idle ] ||
  die "slurmd did not bring node $host up (state: ${state:-none}; $(sinfo -h -R -o %E 2>/dev/null))" \
    "$tmp/logs/slurmd.log" "$tmp/logs/slurmctld.log"
say "cluster up: node $host, $cpus CPUs, ${mem} MB ($((SECONDS - start)) s)"

# ---- the jobs, as sweep.sbatch's header shows, with its settings from the environment
# (sbatch passes the environment on). On the command line: the array sized to SHARDS, the
# logs and working folder in $tmp, and one CPU per task so that the shards run side by side
# on any machine (the file asks for 2; the results do not depend on the thread count).
export SHRINKCITY=$shrinkcity SHARDS=$shards OUT=$tmp/sweep SWEEP_ARGS=$sweep_args
jid=$(sbatch --parsable --array=0-$((shards - 1)) --cpus-per-task=1 --chdir="$tmp/work" \
  --output="$tmp/logs/%A_%a.log" examples/slurm/sweep.sbatch)
jid=${jid%%;*}
# Single quotes: the merge job's shell expands $SHRINKCITY, $OUT and the glob when it runs.
# shellcheck disable=SC2016
mid=$(sbatch --parsable --dependency=afterok:"$jid" --chdir="$tmp/work" \
  --output="$tmp/logs/merge_%j.log" \
  --wrap '"$SHRINKCITY" merge "$OUT"/shard_* --out "$OUT"/merged')
mid=${mid%%;*}
say "submitted array job $jid ($shards tasks) and merge job $mid"

# Meanwhile, the same sweep unsharded, on this machine, for the comparison.
read -ra args <<< "$sweep_args"
"$shrinkcity" sweep "${args[@]}" --quiet --out "$tmp/single"

# Wait until neither job is queued or running (squeue lists neither once both are done).
waited=0
while [ -n "$(squeue -h -j "$jid,$mid" -o %i 2>/dev/null)" ]; do
  [ "$waited" -lt "$timeout" ] ||
    die "jobs still queued or running after $timeout s: $(squeue -h -o '%i %T %r' | xargs)" \
      "$tmp/logs/slurmctld.log" "$tmp/logs/slurmd.log"
  sleep 1
  waited=$((waited + 1))
done

# Every array task and the merge job must have COMPLETED (exit 0); slurmctld keeps finished
# jobs for MinJobAge (300 s), long enough to ask.
done_tasks=$(scontrol -o show job "$jid" 2>/dev/null | grep -c 'JobState=COMPLETED' || true)
merge_state=$(scontrol -o show job "$mid" 2>/dev/null | grep -o 'JobState=[A-Z_]*' || true)
if [ "$done_tasks" != "$shards" ] || [ "$merge_state" != JobState=COMPLETED ]; then
  why="$done_tasks of $shards array tasks COMPLETED; merge job ${merge_state:-JobState unknown}"
  die "the jobs did not all complete: $why" \
    "$tmp"/logs/[0-9]*.log "$tmp"/logs/merge_*.log "$tmp/logs/slurmd.log" \
    "$tmp/logs/slurmctld.log"
fi

# ---- the check: the merged folder is the unsharded sweep, byte for byte.
for file in plan.csv results.csv config.toml; do
  cmp "$tmp/single/$file" "$tmp/sweep/merged/$file" ||
    die "merged $file differs from the unsharded sweep's"
done
rows=$(($(wc -l < "$tmp/sweep/merged/results.csv") - 1))
say "OK: $shards shards merged = unsharded sweep (plan.csv, results.csv: $rows rows," \
  "config.toml) in $((SECONDS - start)) s"
