/**
 * The shared vocabulary and the batch formatter of the task suite.
 *
 * Vocabulary: task symbols get ids 0..S-1 (so a token id equals DeepMind's one-hot index of the symbol), then
 *   PAD = S, BOS = S+1, SEP = S+2, EOS = S+3, and QUERY = S+4 in the encoder layout only.
 *
 * Decoder layout (causal LM; the format of the lab issue's PyTorch calibration runs):
 *   sequence  = [BOS] input [SEP] answer [EOS]      (no SEP when the task's input ends with its own '=')
 *   inputs[t] = sequence[t], right-padded with PAD to T = the longest sequence of the batch
 *   targets[t]= sequence[t+1] (PAD past the end)
 *   mask[t]   = 1 exactly where targets[t] is an answer token or the EOS.
 *   targetOrder[t] (tasks that reorder the input) = 1 + the answer index of input symbol t - 1, else -1.
 * Teacher-forced exact match (every masked argmax right) equals greedy-decoding exact match: if every
 * teacher-forced prediction is right, greedy decoding reproduces the same prefix at every step, and conversely
 * the first greedy error is a teacher-forced error at the same position.
 *
 * Encoder layout (bidirectional; DeepMind's `make_model_with_empty_targets`, experiments/utils.py): the input
 * followed by `encoderOutputLength(n)` QUERY tokens; targets sit at the query positions: the answer, then EOS
 * for terminated tasks (their termination token), then PAD (unscored). DeepMind's loss also covers the zero
 * padding after the termination token; here the mask holds only what their `accuracy_mask` scores.
 */

import type { Rng } from "../util/rng.js";
import { checkNumber, PosencConfigError } from "../util/validation.js";
import type { LengthSpec, TaskBatch, TaskDefinition, TaskExample, TaskLayout } from "./types.js";

export interface Vocabulary {
  /** Every token's name, indexed by id. */
  readonly tokens: readonly string[];
  readonly size: number;
  readonly pad: number;
  readonly bos: number;
  readonly sep: number;
  readonly eos: number;
  /** QUERY (encoder layout only); -1 in the decoder layout. */
  readonly query: number;
  /** Token names joined by spaces, for debugging: `decode([0, 1, 6])` -> "0 1 <eos>" (2 symbols). */
  decode(ids: ArrayLike<number>): string;
}

export function buildVocabulary(symbols: readonly string[], layout: TaskLayout = "decoder"): Vocabulary {
  const s = symbols.length;
  const specials =
    layout === "encoder"
      ? ["<pad>", "<bos>", "<sep>", "<eos>", "<query>"]
      : ["<pad>", "<bos>", "<sep>", "<eos>"];
  const tokens = [...symbols, ...specials];
  return {
    tokens,
    size: tokens.length,
    pad: s,
    bos: s + 1,
    sep: s + 2,
    eos: s + 3,
    query: layout === "encoder" ? s + 4 : -1,
    decode(ids: ArrayLike<number>): string {
      const out: string[] = [];
      for (let i = 0; i < ids.length; i++) out.push(tokens[ids[i]] ?? `<unk:${ids[i]}>`);
      return out.join(" ");
    },
  };
}

/** Throws unless `length` is a valid length (or range) for the task. */
export function checkLengthSpec(
  task: TaskDefinition,
  length: LengthSpec,
  key = "length",
): { min: number; max: number } {
  const bounds = { integer: true, min: task.minLength, max: task.maxLength };
  if (typeof length === "number") {
    checkNumber(key, length, bounds);
    return { min: length, max: length };
  }
  if (typeof length !== "object" || length === null) {
    throw new PosencConfigError("invalid_type", key, length, `an integer >= ${task.minLength} or {min, max}`);
  }
  const min = checkNumber(`${key}.min`, length.min, bounds);
  const max = checkNumber(`${key}.max`, length.max, { ...bounds, min });
  return { min, max };
}

/** Draws `batchSize` examples (each length fixed or uniform in the range) from the task. */
export function sampleExamples(
  task: TaskDefinition,
  rng: Rng,
  batchSize: number,
  length: LengthSpec,
): { examples: TaskExample[]; lengths: Int32Array } {
  checkNumber("batchSize", batchSize, { integer: true, min: 1 });
  const { min, max } = checkLengthSpec(task, length);
  const examples: TaskExample[] = [];
  const lengths = new Int32Array(batchSize);
  for (let b = 0; b < batchSize; b++) {
    const n = min === max ? min : rng.intBetween(min, max);
    lengths[b] = n;
    examples.push(task.sampleExample(rng, n));
  }
  return { examples, lengths };
}

/** The decoder token sequence of one example: [BOS] input [SEP] answer [EOS]. */
export function decoderSequence(task: TaskDefinition, example: TaskExample, vocab: Vocabulary): number[] {
  const sep = task.decoderSeparator ? [vocab.sep] : [];
  return [vocab.bos, ...example.input, ...sep, ...example.output, vocab.eos];
}

/** Formats raw examples into one batch in the given layout. */
export function formatBatch(
  task: TaskDefinition,
  examples: readonly TaskExample[],
  lengths: Int32Array,
  layout: TaskLayout = "decoder",
): TaskBatch {
  if (examples.length !== lengths.length) {
    throw new RangeError(`formatBatch: ${examples.length} examples but ${lengths.length} lengths`);
  }
  const vocab = buildVocabulary(task.symbols, layout);
  const batch =
    layout === "decoder"
      ? formatDecoder(task, examples, lengths, vocab)
      : formatEncoder(task, examples, lengths, vocab);
  // The input starts after BOS in the decoder layout (symbol i at t = 1 + i), at t = 0 in the encoder layout.
  const targetOrder = targetOrderIds(examples, batch.seqLen, layout === "decoder" ? 1 : 0);
  if (targetOrder) batch.targetOrder = targetOrder;
  return batch;
}

function formatDecoder(
  task: TaskDefinition,
  examples: readonly TaskExample[],
  lengths: Int32Array,
  vocab: Vocabulary,
): TaskBatch {
  const sequences = examples.map((e) => decoderSequence(task, e, vocab));
  const batchSize = examples.length;
  const seqLen = Math.max(...sequences.map((s) => s.length));
  const inputs = new Int32Array(batchSize * seqLen).fill(vocab.pad);
  const targets = new Int32Array(batchSize * seqLen).fill(vocab.pad);
  const mask = new Uint8Array(batchSize * seqLen);
  const tokenCounts = Int32Array.from(sequences, (s) => s.length);
  const coupled = examples.some((e) => e.decoderPositionIds !== undefined);
  const positionIds = coupled ? new Float64Array(batchSize * seqLen) : undefined;
  for (let b = 0; b < batchSize; b++) {
    const seq = sequences[b];
    const row = b * seqLen;
    // The answer starts right after the input (and SEP): targets at t = answerStart-1 .. seq.length-2.
    const answerStart = seq.length - examples[b].output.length - 1;
    for (let t = 0; t < seq.length; t++) {
      inputs[row + t] = seq[t];
      if (t + 1 < seq.length) targets[row + t] = seq[t + 1];
      if (t + 1 >= answerStart && t + 1 < seq.length) mask[row + t] = 1;
    }
    if (positionIds) {
      const ids = examples[b].decoderPositionIds;
      if (!ids || ids.length !== seq.length) {
        throw new RangeError(
          `formatBatch: example ${b} has ${ids?.length ?? 0} position ids for a sequence of ${seq.length} tokens`,
        );
      }
      for (let t = 0; t < seq.length; t++) positionIds[row + t] = ids[t];
    }
  }
  const batch: TaskBatch = {
    inputs,
    targets,
    mask,
    batchSize,
    seqLen,
    lengths,
    tokenCounts,
    layout: "decoder",
  };
  if (positionIds) batch.positionIds = positionIds;
  return batch;
}

/**
 * TaskBatch.targetOrder from the examples' TaskExample.targetOrder, the input starting at position `start` of each
 * row: pi[start + i] = start + targetOrder[i] (-1 stays -1), -1 at every other token; undefined when no example has
 * a target order.
 */
function targetOrderIds(
  examples: readonly TaskExample[],
  seqLen: number,
  start: number,
): Float64Array | undefined {
  if (!examples.some((e) => e.targetOrder)) return undefined;
  const out = new Float64Array(examples.length * seqLen).fill(-1);
  examples.forEach((e, b) => {
    e.targetOrder?.forEach((j, i) => {
      if (j >= 0) out[b * seqLen + start + i] = start + j;
    });
  });
  return out;
}

function formatEncoder(
  task: TaskDefinition,
  examples: readonly TaskExample[],
  lengths: Int32Array,
  vocab: Vocabulary,
): TaskBatch {
  if (examples.some((e) => e.decoderPositionIds !== undefined)) {
    throw new PosencConfigError(
      "conflict",
      "layout",
      "encoder",
      `"decoder" for task ${task.id}: its coupled position ids are defined for the decoder sequence only`,
    );
  }
  const batchSize = examples.length;
  const slots = Array.from(lengths, (n) => task.encoderOutputLength(n));
  const seqLen = Math.max(...examples.map((e, b) => e.input.length + slots[b]));
  const inputs = new Int32Array(batchSize * seqLen).fill(vocab.pad);
  const targets = new Int32Array(batchSize * seqLen).fill(vocab.pad);
  const mask = new Uint8Array(batchSize * seqLen);
  for (let b = 0; b < batchSize; b++) {
    const { input, output } = examples[b];
    const answer = task.terminated ? [...output, vocab.eos] : output;
    if (answer.length > slots[b]) {
      throw new RangeError(
        `formatBatch: task ${task.id} answer of ${answer.length} tokens exceeds its ${slots[b]} encoder slots`,
      );
    }
    const row = b * seqLen;
    for (let t = 0; t < input.length; t++) inputs[row + t] = input[t];
    for (let j = 0; j < slots[b]; j++) inputs[row + input.length + j] = vocab.query;
    for (let j = 0; j < answer.length; j++) {
      targets[row + input.length + j] = answer[j];
      mask[row + input.length + j] = 1;
    }
  }
  const tokenCounts = Int32Array.from(examples, (e, b) => e.input.length + slots[b]);
  return { inputs, targets, mask, batchSize, seqLen, lengths, tokenCounts, layout: "encoder" };
}

/**
 * Samples and formats: the `sample(rng, batchSize, length)` of every task. With a length range, the decoder layout
 * draws a length per example (right padding is invisible to causal attention); the encoder layout draws ONE
 * length for the whole batch, as DeepMind's training loop does, because bidirectional attention would see padding.
 */
export function sampleBatch(
  task: TaskDefinition,
  rng: Rng,
  batchSize: number,
  length: LengthSpec,
  layout: TaskLayout = "decoder",
): TaskBatch {
  const spec = layout === "encoder" && typeof length !== "number" ? checkLengthSpec(task, length) : undefined;
  const perBatch = spec ? (spec.min === spec.max ? spec.min : rng.intBetween(spec.min, spec.max)) : length;
  const { examples, lengths } = sampleExamples(task, rng, batchSize, perBatch);
  return formatBatch(task, examples, lengths, layout);
}
