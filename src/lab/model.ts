/**
 * What the lab needs from a model, and how it builds one from an experiment config.
 *
 * The lab owns the loss and the metrics: a model only maps a task batch to logits [B*T, vocab]. The loss is the
 * mean cross-entropy over the scored positions (answer tokens and EOS, `batch.mask`), the calibration's loss,
 * plus the model's auxiliary terms when it has any (`auxiliaryLoss`: an encoding's own training objective).
 * A `ModelFactory` lets tests and benchmarks swap in another model; the default builds the transformer of
 * src/model/ with the encoding chosen by registry id.
 */
import type { Parameter, Tensor } from "../engine/index.js";
import { createTask } from "../tasks/registry.js";
import type { Task, TaskBatch, TaskLayout } from "../tasks/types.js";
import { Rng } from "../util/rng.js";
import { type EncodingChoice, type ExperimentConfig, evalTaskOf, type LengthRange } from "./config.js";
import { createTransformerModel } from "./transformer-adapter.js";

/** Per-call context: the step's Rng (randomized position ids) and whether this is a training step. */
export interface ForwardContext {
  rng: Rng;
  training: boolean;
}

export interface LabModel {
  /** Every trainable parameter, in a fixed order (checkpoints store them by index and name). */
  parameters(): Parameter[];
  /** Logits [B*T, vocab] for a task batch (token ids row-major [B, T], optional task position ids). */
  forward(batch: TaskBatch, context: ForwardContext): Tensor;
  /**
   * The model's auxiliary loss terms for the last forward pass (an encoding's, e.g. DPE's order loss, weighted),
   * which training adds to the task loss; null when there are none, and after an evaluation pass.
   */
  auxiliaryLoss?(): Tensor | null;
}

export interface ModelRequest {
  model: ExperimentConfig["model"];
  encoding: EncodingChoice;
  vocabSize: number;
  /** Longest sequence the model will see (training or evaluation). */
  maxSeqLen: number;
  layout: TaskLayout;
}

export type ModelFactory = (request: ModelRequest, rng: Rng) => LabModel;

/** The default factory: the transformer of src/model/ (see transformer-adapter.ts). */
export const defaultModelFactory: ModelFactory = (request, rng) => createTransformerModel(request, rng);

/**
 * An upper bound of the sequence length of a run, training and evaluation: the longest of 32 sampled examples at
 * each range's maximum (answers may vary in length), plus a quarter as margin.
 */
export function maxSequenceLength(config: ExperimentConfig): number {
  const layout = config.task.layout;
  const cases: [Task, LengthRange][] = [
    [createTask(config.task.id, config.task.params), config.train.length],
    [evalTaskOf(config), config.eval.length],
  ];
  let longest = 1;
  const rng = new Rng(0x5eed);
  for (const [task, range] of cases)
    longest = Math.max(longest, task.sample(rng, 32, range.max, layout).seqLen);
  // Segmented rows carry position ids up to train.segments.span - 1: a learned table must hold them.
  longest = Math.max(longest, config.train.segments?.span ?? 0);
  return Math.max(Math.ceil(longest * 1.25) + 2, Math.ceil(longest / 16) * 16);
}
