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
import { encodingLabel, evalTaskOf } from "./config.js";
import type { LabModel } from "./model.js";
import { STREAM, streamRng } from "./seeds.js";
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

/** Evaluates `model` on every length of the run's eval range (examples from `evalTaskOf(config)`). */
export function evaluate(model: LabModel, run: RunSpec): ResultRow[] {
  const { config, seed } = run;
  const task = evalTaskOf(config);
  const { min, max } = config.eval.length;
  const layout = config.task.layout;
  const vocabSize = buildVocabulary(task.symbols, layout).size;
  const tally = new LengthAccuracyTally();
  for (let length = min; length <= max; length++) {
    const rng = streamRng(seed, STREAM.eval, length);
    for (let done = 0; done < config.eval.samplesPerLength; ) {
      const size = Math.min(config.eval.batchSize, config.eval.samplesPerLength - done);
      tidy(() =>
        noGrad(() => {
          const batch = task.sample(rng, size, length, layout);
          const logits = model.forward(batch, { rng, training: false });
          tally.add(batch, scoreBatch(batch, argmaxRows(logits.data, vocabSize)));
        }),
      );
      done += size;
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
