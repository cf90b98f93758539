/**
 * The task contract of the lab's length-generalization suite.
 *
 * A task is a generator of raw problems: `sampleExample(rng, length)` returns the input symbols and the answer
 * symbols (indices into `task.symbols`). A shared formatter (format.ts) turns raw examples into model batches
 * in two layouts (decoder: `[BOS] input [SEP] answer [EOS]`; encoder: `input QUERY...QUERY`), and score.ts
 * scores argmax predictions exactly. The design follows the task API of Ruoss et al. 2023, "Randomized
 * Positional Encodings Boost Length Generalization of Transformers" (arXiv:2305.16843;
 * google-deepmind/randomized_positional_encodings `tasks/task.py`): `sample_batch(rng, batch_size, length)`,
 * `output_length(n)`, and an accuracy mask that stops at the termination token.
 *
 * `length` means what each task documents in `lengthMeaning` (the input length n for most tasks; the number
 * of digits per operand for decimal addition; the number of statements, pairs or filler tokens for the
 * synthetic retrieval tasks). The seeded Rng is the only randomness: same seed, same examples.
 */
import type { Rng } from "../util/rng.js";

/** Chomsky-hierarchy level of the DeepMind suite (regular, deterministic context-free, context-sensitive). */
export type TaskLevel = "regular" | "dcf" | "cs" | "synthetic" | "text";

/** The two batch layouts: causal decoder (the calibration's) or bidirectional encoder (DeepMind's). */
export type TaskLayout = "decoder" | "encoder";

export interface TaskPaper {
  title: string;
  authors: string;
  year: number;
  /** arXiv identifier, e.g. "2305.16843". */
  arxiv: string;
}

/** One raw problem. Symbols are indices into `task.symbols`. */
export interface TaskExample {
  input: number[];
  /** The answer: one symbol for classification tasks, a sequence otherwise. */
  output: number[];
  /**
   * Structure-aware position ids of the whole decoder sequence `[BOS] input [SEP?] output [EOS]`, one per
   * token (only tasks with coupled positions set this; other tasks use 0..T-1).
   */
  decoderPositionIds?: number[];
  /**
   * Where each input symbol stands in the order of the answer: targetOrder[i] = the index in `output` of input
   * symbol i's counterpart (reverse_string: n - 1 - i; copy: i), or -1 where none is defined. Only tasks whose
   * answer is a reordering of the input set this (the target-order positions of DPE's order loss).
   */
  targetOrder?: number[];
}

/** A task's raw definition: what the files under src/tasks/{regular,dcf,cs,synthetic}/ export. */
export interface TaskDefinition {
  /** Registry id, e.g. "reverse_string". */
  readonly id: string;
  readonly level: TaskLevel;
  /** The paper that defines the task. */
  readonly paper: TaskPaper;
  /** One-line description with a literal example. */
  readonly description: string;
  /** What `length` means for this task. */
  readonly lengthMeaning: string;
  /** The smallest valid length. */
  readonly minLength: number;
  /**
   * True when a training length n also trains every shorter length (addition: n bounds the digits of each operand,
   * each drawn from 1..n), so the in-distribution test lengths are minLength..n, not n alone.
   */
  readonly lengthIsUpperBound?: boolean;
  /** The largest valid length, when bounded (coupled ids must fit the table; keys must stay distinct). */
  readonly maxLength?: number;
  /** Task symbols; token ids 0..symbols.length-1 in every vocabulary (special tokens come after). */
  readonly symbols: readonly string[];
  /**
   * The answer has a variable length ended by a termination token (DeepMind's stack_manipulation,
   * binary_addition, binary_multiplication). In the encoder layout the answer is then followed by EOS (their
   * termination symbol) in the fixed `encoderOutputLength(n)` query slots, and only answer + EOS are scored.
   */
  readonly terminated: boolean;
  /** The decoder layout puts SEP between input and answer (false when the input already ends with '='). */
  readonly decoderSeparator: boolean;
  /** Number of query slots in the encoder layout for length n (DeepMind's `output_length(n)`). */
  encoderOutputLength(length: number): number;
  /** One raw problem of task length `length` (>= minLength). */
  sampleExample(rng: Rng, length: number): TaskExample;
  /**
   * Text tasks only (language modelling, every position scored): builds its own batches instead of the
   * `[BOS] input [SEP] answer [EOS]` formatter. See text/char-lm.ts.
   */
  sampleBatch?(rng: Rng, batchSize: number, length: LengthSpec, layout: TaskLayout): TaskBatch;
  /** Text tasks only: the whole text of the task's split as token ids (what bits per character are measured on). */
  readonly textTokens?: Int32Array;
}

/** A length, or a range {min, max} from which each example's length is drawn uniformly (inclusive). */
export type LengthSpec = number | { min: number; max: number };

/**
 * A model batch, row-major [batchSize, seqLen]. `targets[t]` is what the model must output at position t;
 * `mask[t]` is 1 exactly at the scored positions (answer tokens and EOS), which are also the loss positions.
 */
export interface TaskBatch {
  inputs: Int32Array;
  targets: Int32Array;
  mask: Uint8Array;
  batchSize: number;
  seqLen: number;
  /** The task length each example was sampled at. */
  lengths: Int32Array;
  /**
   * Real (unpadded) tokens of each row: row b is tokens 0..tokenCounts[b]-1, then PAD on the right. Randomized
   * position ids are drawn for the real tokens only, as for a sequence of that length alone.
   */
  tokenCounts?: Int32Array;
  /** Structure-aware position ids (coupled addition); absent means 0..T-1 for every row. */
  positionIds?: Float64Array;
  /**
   * A weighted part of the loss (absent: the plain mean over scored positions). `mask` marks scored positions of the
   * group G, the others S are the rest: loss = (1 - weight) mean_S CE + weight mean_G CE (a part with no position
   * drops out and the other gets weight 1), so a few answer positions can carry a fixed share of the loss.
   */
  weightedGroup?: { mask: Uint8Array; weight: number };
  /**
   * Target-order positions [B, T] in the batch's own coordinates: for an input symbol at position t, the position
   * the symbol takes when the input is put in the answer's order (decoder: 1 + targetOrder[i] after BOS; encoder:
   * targetOrder[i]); -1 at every other token (BOS, SEP, answer, EOS, QUERY, PAD). Set only by tasks with
   * TaskExample.targetOrder; read only by auxiliary losses (DPE's).
   */
  targetOrder?: Float64Array;
  layout: TaskLayout;
}

/** A task bound to its parameters, with the formatter attached. */
export interface Task extends TaskDefinition {
  /** Fresh examples formatted as one batch (decoder layout unless stated). */
  sample(rng: Rng, batchSize: number, length: LengthSpec, layout?: TaskLayout): TaskBatch;
}
