import { describe, expect, it } from "vitest";
import { Rng } from "../util/rng.js";
import { createTask } from "./registry.js";

describe("sampleBatch over a length range", () => {
  it("draws one length per batch in the encoder layout (no padding for bidirectional attention)", () => {
    const task = createTask("reverse_string", {});
    for (let seed = 0; seed < 5; seed++) {
      const batch = task.sample(new Rng(seed), 16, { min: 1, max: 20 }, "encoder");
      expect(new Set(batch.lengths).size).toBe(1);
      expect(Array.from(batch.tokenCounts!)).toEqual(new Array(16).fill(batch.seqLen));
    }
  });
  it("draws a length per example in the decoder layout and records each row's real tokens", () => {
    const task = createTask("reverse", { vocabSize: 16 });
    const batch = task.sample(new Rng(3), 32, { min: 1, max: 20 }, "decoder");
    expect(new Set(batch.lengths).size).toBeGreaterThan(1);
    for (let b = 0; b < batch.batchSize; b++) {
      // [BOS] x [SEP] reverse(x) [EOS]: 2n + 3 tokens.
      expect(batch.tokenCounts![b]).toBe(2 * batch.lengths[b]! + 3);
    }
  });
});
