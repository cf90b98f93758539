/**
 * Right-padding of decoder batches to a few fixed lengths, and length-bucketed batches (train.bucketWindow).
 *
 * Why: the engine's allocator keeps freed blocks in exact-size free lists (src/engine/memory.ts), so every new
 * sequence length T allocates a new set of activation buffers that only batches of the same T reuse. Batches of
 * random lengths (training) and one length per evaluation batch would grow the memory with every new T, up to the
 * 4 GiB wasm32 limit on a 4-layer model. Padding every training batch to the run's longest training sequence
 * leaves one shape for the whole run.
 *
 * Randomized position ids are drawn for each row's real tokens only (TaskBatch.tokenCounts), so padding does not
 * change the ids a real token gets. Evaluation batches hold one length each and need no padding; the allocator's
 * best fit keeps their memory within the peak of the longest length.
 *
 * Why it changes nothing: in the decoder layout padding sits on the right and attention is causal, so no real
 * token attends to a pad token; pad positions are unscored (mask 0) and ignored by the loss. The batch's longest
 * sequence is almost always the range maximum anyway (batch 64 of lengths 1..20 contains a 20 with p = 0.96), so
 * padding to it costs little. The encoder layout (bidirectional) is not padded here, and its batches hold one
 * length each (sampleBatch), since every key is attended.
 */
import { segmentedBatch } from "../tasks/text/segmented.js";
import type { Task, TaskBatch, TaskLayout } from "../tasks/types.js";
import { Rng } from "../util/rng.js";
import { PosencConfigError } from "../util/validation.js";
import type { ExperimentConfig, LengthRange } from "./config.js";
import { STREAM, streamRng } from "./seeds.js";

/** `batch` right-padded with `pad` to `seqLen` tokens per row (returned as is when already that long or longer). */
export function padBatch(batch: TaskBatch, seqLen: number, pad: number): TaskBatch {
  if (batch.layout !== "decoder" || seqLen <= batch.seqLen) return batch;
  return selectRows(
    batch,
    Array.from({ length: batch.batchSize }, (_, b) => b),
    seqLen,
    pad,
  );
}

/** The longest decoder sequence of 256 sampled examples at the range's maximum length (0 for the encoder layout). */
export function trainingPadLength(task: Task, layout: TaskLayout, range: LengthRange): number {
  if (layout !== "decoder") return 0;
  return task.sample(new Rng(0x9ad), 256, range.max, layout).seqLen;
}

/*
 * Length-bucketed batches (train.bucketWindow = K > 1, decoder layout).
 *
 * Why: a batch of 64 copy examples of lengths 1..20 is padded to the longest (42 tokens) while rows average 23, so
 * 45% of the computed tokens are padding. Sorting examples by length before cutting them into batches removes most
 * of it, but only if the examples stay the ones the run would have drawn:
 *
 *   window w = steps wK .. wK+K-1:  E_w = K*B fresh examples from Rng(seed, "bucket", w), drawn exactly as K
 *                                   unbucketed batches draw theirs (i.i.d. from train.length)
 *   sort E_w by token count (ties by draw order), cut into K batches of B consecutive examples,
 *   step wK + j trains batch perm_w[j], perm_w a seeded shuffle of 0..K-1 (no short-to-long curriculum)
 *
 * So every example is trained on exactly once, and the K batches of a window hold the same multiset of examples
 * as K unbucketed batches with the same distribution; what changes is which examples share a step. Each bucketed
 * batch is padded to its own longest row rounded up to a multiple of BUCKET_PAD_MULTIPLE (at most
 * ceil(longest / 8) distinct shapes, so the allocator's free lists stay bounded).
 *
 * The loss weight: crossEntropy averages over a batch's scored tokens, so in a batch of short examples each token
 * would weigh more than in a mixed batch. The loss of step j is therefore scaled by n_j / (N_w / K) (n_j scored
 * tokens in the batch, N_w in the window): every scored token of the window then has weight K / N_w, the weight it
 * has on average in unbucketed batches. A step is a pure function of (seed, step), so resume stays bit-identical.
 */

/** Bucketed batch lengths are rounded up to a multiple of this (few distinct shapes, little padding). */
export const BUCKET_PAD_MULTIPLE = 8;

/** One training step's batch and the factor its mean loss is multiplied by (1 when not bucketed). */
export interface TrainingBatch {
  batch: TaskBatch;
  lossScale: number;
}

/** Rows `rows` of a decoder `batch`, in that order, right-padded with `pad` to `seqLen` tokens. */
export function selectRows(
  batch: TaskBatch,
  rows: readonly number[],
  seqLen: number,
  pad: number,
): TaskBatch {
  const T = batch.seqLen;
  const B = rows.length;
  const inputs = new Int32Array(B * seqLen).fill(pad);
  const targets = new Int32Array(B * seqLen).fill(pad);
  const mask = new Uint8Array(B * seqLen);
  const positionIds = batch.positionIds ? new Float64Array(B * seqLen) : undefined;
  const group = batch.weightedGroup ? new Uint8Array(B * seqLen) : undefined;
  const targetOrder = batch.targetOrder ? new Float64Array(B * seqLen).fill(-1) : undefined;
  const lengths = new Int32Array(B);
  const tokenCounts = new Int32Array(B);
  rows.forEach((r, b) => {
    const n = batch.tokenCounts ? batch.tokenCounts[r] : T;
    if (n > seqLen) throw new RangeError(`selectRows: row ${r} has ${n} tokens, more than ${seqLen}`);
    inputs.set(batch.inputs.subarray(r * T, r * T + n), b * seqLen);
    targets.set(batch.targets.subarray(r * T, r * T + n), b * seqLen);
    mask.set(batch.mask.subarray(r * T, r * T + n), b * seqLen);
    positionIds?.set((batch.positionIds as Float64Array).subarray(r * T, r * T + n), b * seqLen);
    group?.set((batch.weightedGroup as { mask: Uint8Array }).mask.subarray(r * T, r * T + n), b * seqLen);
    targetOrder?.set((batch.targetOrder as Float64Array).subarray(r * T, r * T + n), b * seqLen);
    lengths[b] = batch.lengths[r];
    tokenCounts[b] = n;
  });
  const out: TaskBatch = { ...batch, inputs, targets, mask, batchSize: B, seqLen, lengths, tokenCounts };
  if (positionIds) out.positionIds = positionIds;
  if (group) out.weightedGroup = { mask: group, weight: (batch.weightedGroup as { weight: number }).weight };
  if (targetOrder) out.targetOrder = targetOrder;
  return out;
}

function scoredCount(batch: TaskBatch): number {
  let n = 0;
  for (let i = 0; i < batch.mask.length; i++) n += batch.mask[i];
  return n;
}

/** The K length-sorted batches of window `w`, in training order, with their loss scales. */
export function bucketWindow(
  task: Task,
  train: Pick<ExperimentConfig["train"], "batchSize" | "length" | "bucketWindow">,
  window: number,
  seed: number,
  pad: number,
  padTo: number,
): TrainingBatch[] {
  const K = train.bucketWindow ?? 1;
  const B = train.batchSize;
  const rng = streamRng(seed, STREAM.bucket, window);
  const all = task.sample(rng, K * B, train.length, "decoder");
  const counts = all.tokenCounts as Int32Array;
  const order = Array.from({ length: K * B }, (_, i) => i).sort((a, b) => counts[a] - counts[b] || a - b);
  const batches = Array.from({ length: K }, (_, k) => {
    const rows = order.slice(k * B, (k + 1) * B);
    const longest = counts[rows[B - 1]];
    const seqLen = Math.min(
      Math.max(padTo, longest),
      Math.ceil(longest / BUCKET_PAD_MULTIPLE) * BUCKET_PAD_MULTIPLE,
    );
    return selectRows(all, rows, seqLen, pad);
  });
  const scored = batches.map(scoredCount);
  const meanScored = scored.reduce((a, b) => a + b, 0) / K;
  // Fisher-Yates with the window's rng: the order in which the window's batches are trained.
  const perm = Array.from({ length: K }, (_, i) => i);
  for (let i = K - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    [perm[i], perm[j]] = [perm[j], perm[i]];
  }
  return perm.map((k) => ({ batch: batches[k], lossScale: meanScored > 0 ? scored[k] / meanScored : 1 }));
}

/**
 * The training batch of every step: unbucketed, sampled from the step's rng (which the model then goes on using)
 * and padded to the run's longest sequence; bucketed, from the step's window (kept while steps stay inside it).
 */
export function trainingBatches(
  task: Task,
  config: Pick<ExperimentConfig, "train" | "task">,
  seed: number,
  pad: number,
): (step: number, stepRng: Rng) => TrainingBatch {
  const t = config.train;
  const layout = config.task.layout;
  const padTo = trainingPadLength(task, layout, t.length);
  const K = t.bucketWindow ?? 1;
  if (K > 1 && layout !== "decoder") {
    throw new PosencConfigError(
      "conflict",
      "train.bucketWindow",
      K,
      '1 or nothing for the encoder layout (its batches hold one length each); bucketing needs task.layout "decoder"',
    );
  }
  const segments = t.segments;
  if (segments) {
    // Segmented sequences (config.ts checked a text task and one length): every row exactly t.length.max tokens.
    const text = task.textTokens!;
    return (_step, stepRng) => ({
      batch: segmentedBatch(text, stepRng, t.batchSize, t.length.max, segments),
      lossScale: 1,
    });
  }
  if (K === 1) {
    return (_step, stepRng) => ({
      batch: padBatch(task.sample(stepRng, t.batchSize, t.length, layout), padTo, pad),
      lossScale: 1,
    });
  }
  let cached = { window: -1, batches: [] as TrainingBatch[] };
  return (step) => {
    const window = Math.floor(step / K);
    if (cached.window !== window)
      cached = { window, batches: bucketWindow(task, t, window, seed, pad, padTo) };
    return cached.batches[step - window * K];
  };
}
