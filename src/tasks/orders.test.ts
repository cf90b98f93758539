import { describe, expect, it } from "vitest";
import { Rng } from "../util/rng.js";
import { countdownBatch, leftToRightOrderBatch, randomOrderBatch } from "./orders.js";
import { createTask } from "./registry.js";

const copy = createTask("copy", { vocabSize: 8 });
/** copy of lengths 2..5 in one padded batch: rows of different token counts. */
const sample = () => copy.sample(new Rng(4), 6, { min: 2, max: 5 });

describe("random orders (sigma-GPT)", () => {
  it("keeps the prompt, shuffles the answer and its EOS, and ids say (own, next)", () => {
    const batch = sample();
    const shuffled = randomOrderBatch(batch, new Rng(9));
    const { seqLen: T } = batch;
    const ids = shuffled.positionIds as Float64Array;
    expect(ids.length).toBe(batch.batchSize * T * 2);
    for (let b = 0; b < batch.batchSize; b++) {
      const N = batch.tokenCounts![b]!;
      const original = Array.from(batch.inputs.subarray(b * T, b * T + N));
      const own = Array.from({ length: N }, (_, t) => ids[2 * (b * T + t)]!);
      const next = Array.from({ length: N }, (_, t) => ids[2 * (b * T + t) + 1]!);
      // sigma is a permutation of 0..N-1 whose next ids are the following own ids, then N.
      expect([...own].sort((x, y) => x - y)).toEqual(original.map((_, t) => t));
      expect(next).toEqual([...own.slice(1), N]);
      for (let t = 0; t < N; t++) {
        // The token at t is the original token at sigma(t); its target is the original token at sigma(t + 1).
        expect(shuffled.inputs[b * T + t]).toBe(original[own[t]!]);
        if (t + 1 < N) expect(shuffled.targets[b * T + t]).toBe(original[next[t]!]);
      }
      // The prompt ([BOS] x [SEP]) is in place: own = t up to the first scored position.
      const firstScored = Array.from(batch.mask.subarray(b * T, b * T + N)).indexOf(1);
      for (let t = 0; t <= firstScored; t++) expect(own[t]).toBe(t);
    }
    expect(Array.from(shuffled.mask)).toEqual(Array.from(batch.mask));
  });

  it("draws different orders for different seeds and is the identity left to right", () => {
    const batch = sample();
    const a = randomOrderBatch(batch, new Rng(1)).positionIds;
    const b = randomOrderBatch(batch, new Rng(2)).positionIds;
    expect(Array.from(a!)).not.toEqual(Array.from(b!));
    const ltr = leftToRightOrderBatch(batch);
    expect(ltr.inputs).toBe(batch.inputs);
    const T = batch.seqLen;
    expect(Array.from(ltr.positionIds!.subarray(0, 2 * T))).toEqual(
      Array.from({ length: 2 * T }, (_, i) => Math.floor(i / 2) + (i % 2)),
    );
  });
});

describe("countdown ids (LDPE)", () => {
  it("counts the answer tokens still to write: A on the prompt, 0 where EOS is due", () => {
    const batch = sample();
    const ids = countdownBatch(batch).positionIds as Float64Array;
    const T = batch.seqLen;
    for (let b = 0; b < batch.batchSize; b++) {
      const A = batch.lengths[b]!; // copy: answer length = input length
      const N = batch.tokenCounts![b]!;
      const remaining = Array.from({ length: T }, (_, t) => ids[2 * (b * T + t) + 1]!);
      const positions = Array.from({ length: T }, (_, t) => ids[2 * (b * T + t)]!);
      expect(positions).toEqual(Array.from({ length: T }, (_, t) => t));
      // [BOS] x1..xA [SEP] y1..yA [EOS]: nothing written at SEP (index A + 1, r = A), one fewer after each answer
      // token, r = 0 at yA, whose target is the EOS.
      expect(remaining.slice(0, A + 2)).toEqual(Array<number>(A + 2).fill(A));
      expect(remaining.slice(A + 1, N - 1)).toEqual(Array.from({ length: A + 1 }, (_, i) => A - i));
      expect(batch.targets[b * T + N - 2]).toBe(11); // EOS of the copy vocabulary: PAD 8, BOS 9, SEP 10, EOS 11
      expect(remaining.slice(N - 1)).toEqual(Array<number>(T - N + 1).fill(0));
    }
  });

  it("refuses the encoder layout", () => {
    const enc = copy.sample(new Rng(1), 2, 3, "encoder");
    expect(() => countdownBatch(enc)).toThrow(/decoder layout/);
    expect(() => randomOrderBatch(enc, new Rng(1))).toThrow(/decoder layout/);
  });
});
