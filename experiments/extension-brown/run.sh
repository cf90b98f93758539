#!/bin/sh
# Context extension on the Brown Corpus (issue 9, reproductions 1, 2, 3 and 5, segmented fine-tuning and Giraffe), one command from the repository root
# after `npm ci`:   nice -n 5 sh experiments/extension-brown/run.sh
# Resumable: a finished step (its output file exists) is skipped, training resumes from its checkpoints.
# CPU seconds of every step (user + system, wall) are appended to experiments/extension-brown/times.txt.
set -eu
DIR=experiments/extension-brown
POSENC=${POSENC:-"node dist/cli/main.js"}
TARGET=512        # 8x the trained 64: LongRoPE's search, and every method's factor
CONTEXTS=32,64,128,256,512,1024
CHARS=16384       # test characters scored at every context
FT_TARGET=256     # reproduction 2: fine-tune at 4x
FT_STEPS="25 50 100 200"
SEG_STEPS="50 200"   # segmented fine-tunes: two lengths (time)
ABF_STEPS="25 100"   # entropy-aware ABF against ABF, fine-tuned

timed() { # timed NAME command...: runs it, appends "NAME user sys wall" to times.txt
  name=$1
  shift
  if [ -x /usr/bin/time ]; then
    /usr/bin/time -a -o "$DIR/times.txt" -f "$name %U %S %e" "$@"
  else
    "$@"
  fi
}

# 1. Train 3 seeds of RoPE and of ALiBi at context 64 (one job at a time).
timed train $POSENC bench --config "$DIR/config.yaml" --out "$DIR/grid" --parallel 1 --resume

# 2. LongRoPE's search, once, on seed 0 and the validation split (100 candidates, bpc at the target).
[ -f "$DIR/longrope-factors.json" ] || timed longrope-search $POSENC eval --checkpoint "$DIR/grid/runs/rope-s0" \
  --bpc --target $TARGET --longrope-search "$DIR/longrope-factors.json" --search-evaluations 100 --max-chars 8192

# 3. Training-free, on the test split: every method on each RoPE seed, ALiBi as trained.
for s in 0 1 2; do
  out="$DIR/eval/rope-s$s"
  [ -f "$out/extension.json" ] || timed "eval-rope-s$s" $POSENC eval --checkpoint "$DIR/grid/runs/rope-s$s" --bpc \
    --split test --contexts $CONTEXTS --max-chars $CHARS --target $TARGET \
    --extend rope,pi,ntk,dynamic,yarn,llama3,longrope,abf,eabf --longrope-factors "$DIR/longrope-factors.json" \
    --report "$out"
  out="$DIR/eval/alibi-s$s"
  [ -f "$out/extension.json" ] || timed "eval-alibi-s$s" $POSENC eval --checkpoint "$DIR/grid/runs/alibi-s$s" --bpc \
    --split test --contexts $CONTEXTS --max-chars $CHARS --target $TARGET --extend rope --report "$out"
done

# 3b. Giraffe's power (k = 0.5) and truncated (at the trained 64) bases, training-free, on each RoPE seed: they have
#     no Hugging Face block; the same target so that the report puts them beside the others.
for s in 0 1 2; do
  out="$DIR/eval/rope-s$s-giraffe"
  [ -f "$out/extension.json" ] || timed "eval-giraffe-s$s" $POSENC eval --checkpoint "$DIR/grid/runs/rope-s$s" --bpc \
    --split test --contexts $CONTEXTS --max-chars $CHARS --target $TARGET --extend giraffe-power,giraffe-truncated \
    --report "$out"
done

# 4. Reproduction 2: fine-tune each RoPE seed K steps at 4x with PI, YaRN and unscaled RoPE.
for s in 0 1 2; do
  for k in $FT_STEPS; do
    out="$DIR/finetune/rope-s$s-k$k"
    [ -f "$out/extension.json" ] || timed "finetune-s$s-k$k" $POSENC eval --checkpoint "$DIR/grid/runs/rope-s$s" \
      --bpc --split test --contexts 64,128,256 --max-chars $CHARS --target $FT_TARGET --extend rope,pi,yarn \
      --finetune-steps "$k" --report "$out"
  done
done

# 4b. Segmented fine-tune (arXiv:2310.14633): the same steps and tokens per step, on rows of the trained 64, each 4
#     segments of a stretch of 256 characters keeping their positions; unscaled RoPE and PI.
for s in 0 1 2; do
  for k in $SEG_STEPS; do
    out="$DIR/finetune/rope-s$s-k$k-segments"
    [ -f "$out/extension.json" ] || timed "segments-s$s-k$k" $POSENC eval --checkpoint "$DIR/grid/runs/rope-s$s" \
      --bpc --split test --contexts 64,128,256 --max-chars $CHARS --target $FT_TARGET --extend rope,pi \
      --finetune-steps "$k" --finetune-segments 4 --report "$out"
  done
done

# 4c. Entropy-aware ABF against ABF after a short fine-tune at 4x (arXiv:2401.07004's setting: a fine-tune of few
#     samples), each RoPE seed, 25 and 100 steps.
for s in 0 1 2; do
  for k in $ABF_STEPS; do
    out="$DIR/finetune/rope-s$s-k$k-abf"
    [ -f "$out/extension.json" ] || timed "abf-s$s-k$k" $POSENC eval --checkpoint "$DIR/grid/runs/rope-s$s" \
      --bpc --split test --contexts 64,128,256 --max-chars $CHARS --target $FT_TARGET --extend abf,eabf \
      --finetune-steps "$k" --report "$out"
  done
done

# 4d. Giraffe (arXiv:2308.10882). (i) Their protocol: fine-tune each basis 100 steps at the trained 64, then read
#     up to 16x; PI with factor 4 fine-tuned the same way is their "linear scale 4", unscaled RoPE the control.
#     (ii) Our reproduction 2's protocol: fine-tuned 100 steps at 256, beside PI and YaRN.
for s in 0 1 2; do
  out="$DIR/finetune-giraffe/rope-s$s-k100-at64"
  [ -f "$out/extension.json" ] || timed "giraffe-at64-s$s" $POSENC eval --checkpoint "$DIR/grid/runs/rope-s$s" \
    --bpc --split test --contexts $CONTEXTS --max-chars $CHARS --target $FT_TARGET \
    --extend rope,pi,giraffe-power,giraffe-truncated --finetune-steps 100 --finetune-length 64 --report "$out"
  out="$DIR/finetune/rope-s$s-k100-giraffe"
  [ -f "$out/extension.json" ] || timed "giraffe-s$s-k100" $POSENC eval --checkpoint "$DIR/grid/runs/rope-s$s" \
    --bpc --split test --contexts 64,128,256 --max-chars $CHARS --target $FT_TARGET \
    --extend giraffe-power,giraffe-truncated --finetune-steps 100 --report "$out"
done

# 5. The reports over seeds.
$POSENC report extension --force --out "$DIR" --title "Brown, trained at 64, read training-free (3 seeds)" \
  "$DIR"/eval/*/extension.json
$POSENC report extension --force --out "$DIR/finetune" \
  --title "Brown, trained at 64, fine-tuned at 256 (3 seeds)" "$DIR"/finetune/*/extension.json
$POSENC report extension --force --out "$DIR/finetune-giraffe" \
  --title "Brown, trained at 64, fine-tuned 100 steps at 64 with Giraffe's bases, read longer (3 seeds)" \
  "$DIR"/finetune-giraffe/*/extension.json
