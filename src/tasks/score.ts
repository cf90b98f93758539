/**
 * Exact scoring of argmax predictions against a task batch, and per-length aggregation.
 *
 * For row b with scored positions M_b = {t : mask[t] = 1} (the answer tokens and EOS):
 *   correct_b        = 1 iff predictions[t] = targets[t] for every t in M_b   (teacher-forced exact match,
 *                      equal to greedy exact match in the decoder layout; see format.ts)
 *   tokenCorrect_b   = #{t in M_b : predictions[t] = targets[t]},  tokenCount_b = |M_b|
 *   sequenceAccuracy = mean_b correct_b
 *   tokenAccuracy    = sum_b tokenCorrect_b / sum_b tokenCount_b   (micro average over scored tokens, the
 *                      calibration's "tok-acc"; per length it equals Ruoss et al.'s per-token accuracy for
 *                      fixed-length answers)
 */
import type { TaskBatch } from "./types.js";

export interface BatchScore {
  /** [B] 1 where every scored position is right. */
  correct: Uint8Array;
  /** [B] right predictions among the scored positions. */
  tokenCorrect: Int32Array;
  /** [B] scored positions. */
  tokenCount: Int32Array;
  sequenceAccuracy: number;
  tokenAccuracy: number;
}

/** Scores `predictions` (argmax token ids, row-major [B*T], like batch.inputs) against the batch targets. */
export function scoreBatch(batch: TaskBatch, predictions: ArrayLike<number>): BatchScore {
  const { batchSize, seqLen, targets, mask } = batch;
  if (predictions.length !== batchSize * seqLen) {
    throw new RangeError(
      `scoreBatch: predictions has ${predictions.length} entries, expected batchSize * seqLen = ${batchSize * seqLen}`,
    );
  }
  const correct = new Uint8Array(batchSize);
  const tokenCorrect = new Int32Array(batchSize);
  const tokenCount = new Int32Array(batchSize);
  let right = 0;
  let total = 0;
  let sequencesRight = 0;
  for (let b = 0; b < batchSize; b++) {
    let rowRight = 0;
    let rowCount = 0;
    for (let t = b * seqLen; t < (b + 1) * seqLen; t++) {
      if (mask[t] === 0) continue;
      rowCount++;
      if (predictions[t] === targets[t]) rowRight++;
    }
    tokenCorrect[b] = rowRight;
    tokenCount[b] = rowCount;
    correct[b] = rowRight === rowCount ? 1 : 0;
    sequencesRight += correct[b];
    right += rowRight;
    total += rowCount;
  }
  return {
    correct,
    tokenCorrect,
    tokenCount,
    sequenceAccuracy: sequencesRight / batchSize,
    tokenAccuracy: total === 0 ? 0 : right / total,
  };
}

/** Accuracy of all sequences of one task length. */
export interface LengthAccuracy {
  length: number;
  sequences: number;
  sequencesCorrect: number;
  tokens: number;
  tokensCorrect: number;
  sequenceAccuracy: number;
  tokenAccuracy: number;
}

/** Accumulates scores over batches, per task length (batch.lengths). */
export class LengthAccuracyTally {
  private readonly byLength = new Map<
    number,
    { sequences: number; right: number; tokens: number; tokensRight: number }
  >();

  add(batch: TaskBatch, score: BatchScore): this {
    if (score.correct.length !== batch.batchSize) {
      throw new RangeError(
        `LengthAccuracyTally.add: score of ${score.correct.length} rows for a batch of ${batch.batchSize}`,
      );
    }
    for (let b = 0; b < batch.batchSize; b++) {
      const n = batch.lengths[b];
      let entry = this.byLength.get(n);
      if (!entry) {
        entry = { sequences: 0, right: 0, tokens: 0, tokensRight: 0 };
        this.byLength.set(n, entry);
      }
      entry.sequences++;
      entry.right += score.correct[b];
      entry.tokens += score.tokenCount[b];
      entry.tokensRight += score.tokenCorrect[b];
    }
    return this;
  }

  /** One row per length seen, sorted by length. */
  rows(): LengthAccuracy[] {
    return [...this.byLength.entries()]
      .sort((a, b) => a[0] - b[0])
      .map(([length, e]) => ({
        length,
        sequences: e.sequences,
        sequencesCorrect: e.right,
        tokens: e.tokens,
        tokensCorrect: e.tokensRight,
        sequenceAccuracy: e.right / e.sequences,
        tokenAccuracy: e.tokens === 0 ? 0 : e.tokensRight / e.tokens,
      }));
  }
}

/** Per-length accuracy of one scored batch (use LengthAccuracyTally to accumulate many). */
export function accuracyByLength(batch: TaskBatch, score: BatchScore): LengthAccuracy[] {
  return new LengthAccuracyTally().add(batch, score).rows();
}

/**
 * Mean over a set of length rows (e.g. the out-of-distribution lengths 21..40), each length weighted
 * equally, as the calibration's bucket columns and DeepMind's "mean accuracy over lengths > 40".
 */
export function meanOverLengths(
  rows: readonly LengthAccuracy[],
  range: { min: number; max: number },
): { sequenceAccuracy: number; tokenAccuracy: number; lengths: number } {
  const inRange = rows.filter((r) => r.length >= range.min && r.length <= range.max);
  if (inRange.length === 0) return { sequenceAccuracy: Number.NaN, tokenAccuracy: Number.NaN, lengths: 0 };
  const mean = (f: (r: LengthAccuracy) => number) => inRange.reduce((s, r) => s + f(r), 0) / inRange.length;
  return {
    sequenceAccuracy: mean((r) => r.sequenceAccuracy),
    tokenAccuracy: mean((r) => r.tokenAccuracy),
    lengths: inRange.length,
  };
}
