/**
 * Right-padding of decoder batches to a few fixed lengths.
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
import type { Task, TaskBatch, TaskLayout } from "../tasks/types.js";
import { Rng } from "../util/rng.js";
import type { LengthRange } from "./config.js";

/** `batch` right-padded with `pad` to `seqLen` tokens per row (returned as is when already that long or longer). */
export function padBatch(batch: TaskBatch, seqLen: number, pad: number): TaskBatch {
  if (batch.layout !== "decoder" || seqLen <= batch.seqLen) return batch;
  const { batchSize: B, seqLen: T } = batch;
  const inputs = new Int32Array(B * seqLen).fill(pad);
  const targets = new Int32Array(B * seqLen).fill(pad);
  const mask = new Uint8Array(B * seqLen);
  const positionIds = batch.positionIds ? new Float64Array(B * seqLen) : undefined;
  for (let b = 0; b < B; b++) {
    inputs.set(batch.inputs.subarray(b * T, (b + 1) * T), b * seqLen);
    targets.set(batch.targets.subarray(b * T, (b + 1) * T), b * seqLen);
    mask.set(batch.mask.subarray(b * T, (b + 1) * T), b * seqLen);
    positionIds?.set((batch.positionIds as Float64Array).subarray(b * T, (b + 1) * T), b * seqLen);
  }
  const padded: TaskBatch = { ...batch, inputs, targets, mask, seqLen };
  if (positionIds) padded.positionIds = positionIds;
  return padded;
}

/** The longest decoder sequence of 256 sampled examples at the range's maximum length (0 for the encoder layout). */
export function trainingPadLength(task: Task, layout: TaskLayout, range: LengthRange): number {
  if (layout !== "decoder") return 0;
  return task.sample(new Rng(0x9ad), 256, range.max, layout).seqLen;
}
