#!/bin/sh
# Passkey retrieval in Brown Corpus filler (issue 9 part 3) and reproduction 4, "Base of RoPE bounds context length"
# (arXiv:2405.14591), one command from the repository root after `npm ci`:
#   nice -n 5 sh experiments/passkey-brown/run.sh      (PARALLEL=2 for two jobs side by side on a free machine)
# Resumable: a finished step (its output file exists) is skipped, training resumes from its checkpoints.
# CPU seconds of every step (user + system, wall) are appended to experiments/passkey-brown/times.txt.
set -eu
DIR=experiments/passkey-brown
POSENC=${POSENC:-"node dist/cli/main.js"}
CONTEXTS=128,192,256,384,512   # trained at 256; 384 and 512 are longer
DEPTHS=0,0.25,0.5,0.75,1       # needle depth: 0 = first in the filler (farthest from the question), 1 = last
PER_CELL=20                    # passkey examples per cell and checkpoint (validation split)
CHARS=16384                    # validation characters scored for bpc at every context

timed() { # timed NAME command...: runs it, appends "NAME user sys wall" to times.txt
  name=$1
  shift
  if [ -x /usr/bin/time ]; then
    /usr/bin/time -a -o "$DIR/times.txt" -f "$name %U %S %e" "$@"
  else
    "$@"
  fi
}

# 1. Train 3 seeds of every encoding of config.yaml at context 256 (one job at a time).
timed train $POSENC bench --config "$DIR/config.yaml" --out "$DIR/grid" --parallel "${PARALLEL:-1}" --resume

# 2. Every checkpoint: passkey grid (context x depth) and bits per character against context, validation split.
mkdir -p "$DIR/eval"
for run in "$DIR"/grid/runs/*-s[0-9]*; do
  job=$(basename "$run")
  out="$DIR/eval/$job.passkey.json"
  if [ ! -f "$out" ]; then
    timed "passkey-$job" $POSENC eval --checkpoint "$run" --passkey --contexts $CONTEXTS --depths $DEPTHS \
      --per-cell $PER_CELL --json > "$out.tmp"
    mv "$out.tmp" "$out"
  fi
  out="$DIR/eval/bpc-$job"
  [ -f "$out/extension.json" ] || timed "bpc-$job" $POSENC eval --checkpoint "$run" --bpc --split validation \
    --contexts $CONTEXTS --max-chars $CHARS --extend rope --target 512 --report "$out"
done

# 2b. The bases that did not learn retrieval in 1500 steps (50, 150), trained 3000 steps (long.yaml), evaluated the same.
timed train-long $POSENC bench --config "$DIR/long.yaml" --out "$DIR/long" --parallel "${PARALLEL:-1}" --resume
mkdir -p "$DIR/long/eval"
for run in "$DIR"/long/runs/*-s[0-9]*; do
  job=$(basename "$run")
  out="$DIR/long/eval/$job.passkey.json"
  if [ ! -f "$out" ]; then
    timed "passkey-long-$job" $POSENC eval --checkpoint "$run" --passkey --contexts $CONTEXTS --depths $DEPTHS \
      --per-cell $PER_CELL --json > "$out.tmp"
    mv "$out.tmp" "$out"
  fi
  out="$DIR/long/eval/bpc-$job"
  [ -f "$out/extension.json" ] || timed "bpc-long-$job" $POSENC eval --checkpoint "$run" --bpc --split validation \
    --contexts $CONTEXTS --max-chars $CHARS --extend rope --target 512 --report "$out"
done

# 3. The reports over seeds: passkey heatmaps per encoding, bpc against context.
$POSENC report passkey --force --out "$DIR" --title "Passkey in Brown filler, trained at 256 (3 seeds)" \
  "$DIR"/eval/*.passkey.json
$POSENC report extension --force --out "$DIR/bpc" --title "Brown validation bpc, trained at 256 (3 seeds)" \
  "$DIR"/eval/bpc-*/extension.json
$POSENC report passkey --force --out "$DIR/long" --title "Passkey, bases 50 and 150 trained 3000 steps (3 seeds)" \
  "$DIR"/long/eval/*.passkey.json
$POSENC report extension --force --out "$DIR/long/bpc" --title "Brown validation bpc, 3000 steps (3 seeds)" \
  "$DIR"/long/eval/bpc-*/extension.json
