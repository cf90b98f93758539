import { describe, expect, it } from "vitest";
import { Rng } from "../util/rng.js";
import { buildVocabulary, formatBatch } from "./format.js";
import { createTask } from "./registry.js";
import { accuracyByLength, LengthAccuracyTally, meanOverLengths, scoreBatch } from "./score.js";
import type { TaskExample } from "./types.js";

// copy on 16 symbols: PAD 16, BOS 17, SEP 18, EOS 19.
const copy = createTask("copy");
const vocab = buildVocabulary(copy.symbols);
const examples: TaskExample[] = [
  { input: [1, 2, 3], output: [1, 2, 3] }, // 4 scored targets (3 answer + EOS), seq = 9 tokens
  { input: [4], output: [4] }, // 2 scored targets, seq = 5 tokens
  { input: [5, 6], output: [5, 6] }, // 3 scored targets, seq = 7 tokens
];
const batch = formatBatch(copy, examples, Int32Array.from([3, 1, 2]));

/** Perfect predictions, then `wrong` masked positions of row b set to a wrong token. */
function predictions(errors: Record<number, number>, unmaskedNoise = false): Int32Array {
  const p = Int32Array.from(batch.targets);
  for (const [b, wrong] of Object.entries(errors)) {
    let left = wrong;
    for (let t = Number(b) * batch.seqLen; t < (Number(b) + 1) * batch.seqLen && left > 0; t++) {
      if (batch.mask[t]) {
        p[t] = (p[t] + 1) % vocab.size;
        left--;
      }
    }
  }
  if (unmaskedNoise) for (let t = 0; t < p.length; t++) if (!batch.mask[t]) p[t] = 7;
  return p;
}

describe("scoreBatch", () => {
  it("the hand-built batch has the expected layout", () => {
    expect(batch.seqLen).toBe(9);
    expect(Array.from(batch.inputs.subarray(0, 9))).toEqual([17, 1, 2, 3, 18, 1, 2, 3, 19]);
    // targets[t] = sequence[t + 1]: t = 4..7 predict 1 2 3 <eos>.
    expect(Array.from(batch.mask.subarray(0, 9))).toEqual([0, 0, 0, 0, 1, 1, 1, 1, 0]);
    expect(Array.from(batch.targets.subarray(9, 18))).toEqual([4, 18, 4, 19, 16, 16, 16, 16, 16]);
    expect(Array.from(batch.mask.subarray(9, 18))).toEqual([0, 0, 1, 1, 0, 0, 0, 0, 0]);
  });

  it("perfect predictions score 1, whatever happens at unscored positions", () => {
    const s = scoreBatch(batch, predictions({}, true));
    expect(Array.from(s.correct)).toEqual([1, 1, 1]);
    expect(Array.from(s.tokenCount)).toEqual([4, 2, 3]);
    expect(s.sequenceAccuracy).toBe(1);
    expect(s.tokenAccuracy).toBe(1);
  });

  it("known errors give exactly the expected accuracies", () => {
    // Row 0: 1 of 4 wrong; row 1: right; row 2: 3 of 3 wrong. Tokens: (3 + 2 + 0) / 9.
    const s = scoreBatch(batch, predictions({ 0: 1, 2: 3 }));
    expect(Array.from(s.correct)).toEqual([0, 1, 0]);
    expect(Array.from(s.tokenCorrect)).toEqual([3, 2, 0]);
    expect(s.sequenceAccuracy).toBeCloseTo(1 / 3, 15);
    expect(s.tokenAccuracy).toBeCloseTo(5 / 9, 15);
  });

  it("a wrong EOS alone makes the sequence wrong", () => {
    const p = predictions({});
    p[7] = 3; // row 0 target at t = 7 is EOS (19)
    const s = scoreBatch(batch, p);
    expect(Array.from(s.correct)).toEqual([0, 1, 1]);
    expect(s.tokenAccuracy).toBeCloseTo(8 / 9, 15);
  });

  it("rejects predictions of the wrong size", () => {
    expect(() => scoreBatch(batch, new Int32Array(5))).toThrow(/predictions has 5 entries, expected .* 27/);
  });
});

describe("accuracy by length", () => {
  it("aggregates per task length, micro-averaging tokens", () => {
    const rows = accuracyByLength(batch, scoreBatch(batch, predictions({ 0: 2 })));
    expect(rows).toEqual([
      {
        length: 1,
        sequences: 1,
        sequencesCorrect: 1,
        tokens: 2,
        tokensCorrect: 2,
        sequenceAccuracy: 1,
        tokenAccuracy: 1,
      },
      {
        length: 2,
        sequences: 1,
        sequencesCorrect: 1,
        tokens: 3,
        tokensCorrect: 3,
        sequenceAccuracy: 1,
        tokenAccuracy: 1,
      },
      {
        length: 3,
        sequences: 1,
        sequencesCorrect: 0,
        tokens: 4,
        tokensCorrect: 2,
        sequenceAccuracy: 0,
        tokenAccuracy: 0.5,
      },
    ]);
  });

  it("accumulates over batches and averages lengths equally", () => {
    const tally = new LengthAccuracyTally();
    tally.add(batch, scoreBatch(batch, predictions({ 0: 4 }))); // length 3: 0 of 4 tokens
    tally.add(batch, scoreBatch(batch, predictions({}))); // length 3: 4 of 4
    const rows = tally.rows();
    expect(rows.map((r) => [r.length, r.sequences, r.sequenceAccuracy, r.tokenAccuracy])).toEqual([
      [1, 2, 1, 1],
      [2, 2, 1, 1],
      [3, 2, 0.5, 0.5],
    ]);
    expect(meanOverLengths(rows, { min: 2, max: 3 })).toEqual({
      sequenceAccuracy: 0.75,
      tokenAccuracy: 0.75,
      lengths: 2,
    });
    expect(meanOverLengths(rows, { min: 10, max: 20 }).lengths).toBe(0);
  });

  it("scores the encoder layout the same way", () => {
    const task = createTask("binary_addition");
    const b = task.sample(new Rng(2), 16, 8, "encoder");
    const perfect = scoreBatch(b, b.targets);
    expect(perfect.sequenceAccuracy).toBe(1);
    const p = Int32Array.from(b.targets);
    const firstMasked = b.mask.indexOf(1);
    p[firstMasked] = (p[firstMasked] + 1) % 7;
    const s = scoreBatch(b, p);
    expect(s.sequenceAccuracy).toBeCloseTo(15 / 16, 15);
    const total = Array.from(s.tokenCount).reduce((x, y) => x + y, 0);
    expect(s.tokenAccuracy).toBeCloseTo((total - 1) / total, 15);
  });
});
