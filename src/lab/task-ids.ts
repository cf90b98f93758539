/**
 * The two-coordinate position ids a config asks of the task layer (task.positionIds, train.order), applied to a
 * padded decoder batch: LDPE's countdown, σ-GPT's (own, next) positions in left-to-right or random order (see
 * src/tasks/orders.ts). Batches of configs without task.positionIds pass through unchanged.
 */
import { countdownBatch, leftToRightOrderBatch, randomOrderBatch } from "../tasks/orders.js";
import type { TaskBatch } from "../tasks/types.js";
import type { ExperimentConfig } from "./config.js";
import { STREAM, streamRng } from "./seeds.js";

/** A training batch with its ids; the random order of step `step` comes from (seed, STREAM.order, step). */
export function withTrainingIds(
  batch: TaskBatch,
  config: Pick<ExperimentConfig, "task" | "train">,
  seed: number,
  step: number,
): TaskBatch {
  if (config.task.positionIds === "order" && config.train.order === "random") {
    return randomOrderBatch(batch, streamRng(seed, STREAM.order, step));
  }
  return withEvaluationIds(batch, config);
}

/** An evaluation batch with its ids (σ-GPT evaluates left to right). */
export function withEvaluationIds(batch: TaskBatch, config: Pick<ExperimentConfig, "task">): TaskBatch {
  switch (config.task.positionIds) {
    case "countdown":
      return countdownBatch(batch);
    case "order":
      return leftToRightOrderBatch(batch);
    default:
      return batch;
  }
}
