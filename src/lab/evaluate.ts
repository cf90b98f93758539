/**
 * Held-out evaluation: per-length accuracy of a trained model, per token and per sequence.
 *
 * For every length n of the config's eval range, `samplesPerLength` fresh examples of length exactly n are drawn
 * from the evaluation stream Rng(seed, "eval", n), disjoint from the training stream Rng(seed, "train", step), and
 * scored teacher-forced over the masked positions (answer tokens and EOS) by tasks/score.ts:
 *   sequenceAccuracy(n) = fraction of examples with every scored position right (exact match)
 *   tokenAccuracy(n)    = right scored positions / scored positions
 * The output is one row per (encoding, task, length, seed); every report is built from rows only.
 */
import { noGrad, tidy } from "../engine/index.js";
import { buildVocabulary } from "../tasks/format.js";
import { LengthAccuracyTally, scoreBatch } from "../tasks/score.js";
import type { TaskBatch } from "../tasks/types.js";
import { encodingLabel, evalTaskOf } from "./config.js";
import type { LabModel } from "./model.js";
import { STREAM, streamRng } from "./seeds.js";
import { withEvaluationIds } from "./task-ids.js";
import { argmaxRows, type RunSpec } from "./train.js";

/** One result row: the unit every report is built from. */
export interface ResultRow {
  encoding: string;
  task: string;
  length: number;
  seed: number;
  tokenAccuracy: number;
  sequenceAccuracy: number;
  /** Examples scored at this length. */
  samples: number;
}

/** The first `rows` examples of a batch (views, no copy). */
function firstRows(batch: TaskBatch, rows: number): TaskBatch {
  if (rows === batch.batchSize) return batch;
  const n = rows * batch.seqLen;
  const out: TaskBatch = {
    ...batch,
    batchSize: rows,
    inputs: batch.inputs.subarray(0, n),
    targets: batch.targets.subarray(0, n),
    mask: batch.mask.subarray(0, n),
    lengths: batch.lengths.subarray(0, rows),
  };
  // Ids are [B, T, k]: k coordinates per token.
  if (batch.positionIds)
    out.positionIds = batch.positionIds.subarray(0, (n * batch.positionIds.length) / batch.inputs.length);
  if (batch.targetOrder) out.targetOrder = batch.targetOrder.subarray(0, n);
  return out;
}

/** Evaluates `model` on every length of the run's eval range (examples from `evalTaskOf(config)`). */
export function evaluate(model: LabModel, run: RunSpec): ResultRow[] {
  const { config, seed } = run;
  const task = evalTaskOf(config);
  const { min, max } = config.eval.length;
  const layout = config.task.layout;
  const vocab = buildVocabulary(task.symbols, layout);
  const tally = new LengthAccuracyTally();
  // Longest first: an allocator that reuses larger free blocks then never grows past the first length's peak.
  for (let length = max; length >= min; length--) {
    const rng = streamRng(seed, STREAM.eval, length);
    // Every batch has the same size (one buffer shape per length); the last one scores only the rows it needs.
    const batchSize = Math.min(config.eval.batchSize, config.eval.samplesPerLength);
    for (let done = 0; done < config.eval.samplesPerLength; done += batchSize) {
      const needed = Math.min(batchSize, config.eval.samplesPerLength - done);
      tidy(() =>
        noGrad(() => {
          const batch = withEvaluationIds(task.sample(rng, batchSize, length, layout), config);
          const logits = model.forward(batch, { rng, training: false });
          const scored = firstRows(batch, needed);
          tally.add(
            scored,
            scoreBatch(scored, argmaxRows(logits.data, vocab.size).subarray(0, needed * batch.seqLen)),
          );
        }),
      );
    }
  }
  const encoding = encodingLabel(run.encoding);
  return tally.rows().map((r) => ({
    encoding,
    task: config.task.id,
    length: r.length,
    seed,
    tokenAccuracy: r.tokenAccuracy,
    sequenceAccuracy: r.sequenceAccuracy,
    samples: r.sequences,
  }));
}
