#!/bin/bash
# Opt-in end-to-end check of `--shard auto` under a real Slurm (not part of `npm test`): `npm run test:slurm`.
#
# Submits docs/schedulers/slurm-grid.sbatch as a two-task array (--array=3-4, so the ids do not start at 0) on a
# tiny grid (2 encodings x 1 seed, 20 steps), then docs/schedulers/slurm-merge.sbatch with afterok on the array,
# waits, and checks that the merged results.json holds shards 1/2 and 2/2 and the same rows as the same grid run
# unsharded here. Exits 0 on success, 1 on a mismatch, 77 (skipped) when Slurm is not installed.
#
# Cluster: the one `sinfo` reaches (SLURM_CONF or /etc/slurm/slurm.conf). With --start-local (needs root, and
# Debian's slurm-wlm + munge: apt-get install -y --no-install-recommends slurm-wlm munge) it starts a private
# one-node cluster instead (munged, slurmctld, slurmd on ports 6917/6918, everything under a temp folder) and
# stops it on exit. Run `npm run build` first.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cli="$root/dist/cli/main.js"
[ -f "$cli" ] || { echo "slurm-array-check: $cli is missing: run npm run build" >&2; exit 1; }
if ! command -v sbatch >/dev/null; then
  echo "slurm-array-check: skipped: sbatch not found (apt-get install slurm-wlm munge)"
  exit 77
fi
work=$(mktemp -d /tmp/posenc-slurm-XXXXXX)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
}
trap cleanup EXIT

start_local_cluster() {
  local host cpus memory
  host=$(hostname)
  cpus=$(nproc)
  memory=$(($(awk '/MemTotal/ {print $2}' /proc/meminfo) / 1024 - 512))
  mkdir -p "$work/cluster/state" "$work/cluster/spool" "$work/cluster/munge"
  chown munge:munge "$work/cluster/munge" 2>/dev/null || true
  chmod 700 "$work/cluster/munge"
  munged --force --socket="$work/cluster/munge/munge.sock" --pid-file="$work/cluster/munge/munged.pid" \
    --log-file="$work/cluster/munge/munged.log" --seed-file="$work/cluster/munge/munged.seed" 2>/dev/null
  pids+=("$(cat "$work/cluster/munge/munged.pid")")
  cat >"$work/cluster/slurm.conf" <<EOF
ClusterName=posenc-check
SlurmctldHost=$host
SlurmctldPort=6917
SlurmdPort=6918
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
AuthInfo=socket=$work/cluster/munge/munge.sock
StateSaveLocation=$work/cluster/state
SlurmdSpoolDir=$work/cluster/spool
SlurmctldPidFile=$work/cluster/slurmctld.pid
SlurmdPidFile=$work/cluster/slurmd.pid
SlurmctldLogFile=$work/cluster/slurmctld.log
SlurmdLogFile=$work/cluster/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
MpiDefault=none
ReturnToService=2
NodeName=$host CPUs=$cpus RealMemory=$memory State=UNKNOWN
PartitionName=check Nodes=ALL Default=YES MaxTime=INFINITE State=UP
EOF
  export SLURM_CONF="$work/cluster/slurm.conf"
  slurmctld
  slurmd
  for _ in $(seq 30); do
    if sinfo -h -o %t 2>/dev/null | grep -q idle; then
      pids+=("$(cat "$work/cluster/slurmctld.pid")" "$(cat "$work/cluster/slurmd.pid")")
      return 0
    fi
    sleep 1
  done
  echo "slurm-array-check: the local cluster did not come up; see $work/cluster/*.log" >&2
  exit 1
}

if [ "${1:-}" = "--start-local" ]; then
  start_local_cluster
elif ! sinfo >/dev/null 2>&1; then
  echo "slurm-array-check: skipped: no Slurm cluster reachable (sinfo failed); pass --start-local as root to start one" >&2
  exit 77
fi

cat >"$work/config.yaml" <<'EOF'
name: slurm-check
task: { id: copy, params: { vocabSize: 4 } }
model: { layers: 1, dModel: 16, heads: 2 }
encodings: [{ id: nope }, { id: rope }]
train: { length: "1..4", steps: 20, batchSize: 8 }
eval: { length: "1..6", samplesPerLength: 4 }
seeds: [0]
EOF
began=$(date +%s)
export POSENC="node $cli" CONFIG="$work/config.yaml" NAME=slurm-check
array=$(sbatch --parsable --array=3-4 --chdir="$work" --output="$work/grid-%A_%a.log" "$root/docs/schedulers/slurm-grid.sbatch")
array=${array%%;*}
merge=$(sbatch --parsable --dependency=afterok:"$array" --chdir="$work" --output="$work/merge-%j.log" \
  "$root/docs/schedulers/slurm-merge.sbatch")
merge=${merge%%;*}
echo "slurm-array-check: submitted array job $array (tasks 3, 4) and merge job $merge"
for _ in $(seq 300); do
  [ -z "$(squeue -h -j "$array,$merge" 2>/dev/null)" ] && break
  sleep 1
done
echo "slurm-array-check: Slurm jobs done in $(($(date +%s) - began)) s"
merged="$work/results/slurm-check/results.json"
if [ ! -f "$merged" ]; then
  echo "slurm-array-check: FAILED: no $merged; logs:" >&2
  tail -n 5 "$work"/*.log >&2
  exit 1
fi
node "$cli" bench --config "$work/config.yaml" --parallel 1 --out "$work/whole" >/dev/null 2>&1
node -e '
const fs = require("node:fs");
const [merged, whole] = process.argv.slice(1).map((p) => JSON.parse(fs.readFileSync(p, "utf8")));
const shards = JSON.stringify(merged.shards);
const same = JSON.stringify(merged.rows) === JSON.stringify(whole.rows);
console.log(`slurm-array-check: merged shards ${shards}; ${merged.runs.length} runs; rows equal to the unsharded grid: ${same}`);
process.exit(shards === JSON.stringify([{ index: 1, count: 2 }, { index: 2, count: 2 }]) && same ? 0 : 1);
' "$merged" "$work/whole/results.json"
rm -rf "$work"
