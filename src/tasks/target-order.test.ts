/**
 * Target-order positions (TaskBatch.targetOrder, read by DPE's order loss): where each input symbol stands once
 * the input is put in the answer's order, in the batch's own coordinates, -1 at every other token.
 */
import { describe, expect, it } from "vitest";
import { Rng } from "../util/rng.js";
import { createTask } from "./registry.js";
import type { TaskBatch } from "./types.js";

const rows = (batch: TaskBatch) =>
  Array.from({ length: batch.batchSize }, (_, b) =>
    Array.from(batch.targetOrder!.subarray(b * batch.seqLen, (b + 1) * batch.seqLen)),
  );

describe("target-order positions", () => {
  it("reverse_string, decoder: [BOS] x1 x2 x3 [SEP] ... -> x_i at 1 + i takes position 1 + (n - 1 - i)", () => {
    const batch = createTask("reverse_string").sample(new Rng(1), 2, { min: 1, max: 3 }, "decoder");
    rows(batch).forEach((row, b) => {
      const n = batch.lengths[b]!;
      const expected = new Array(batch.seqLen).fill(-1);
      for (let i = 0; i < n; i++) expected[1 + i] = 1 + (n - 1 - i);
      expect(row).toEqual(expected);
    });
    expect(Array.from(batch.lengths)).toContain(3);
    // The answer is the reversed input: the input symbol at t is the answer symbol at SEP + 1 + (pi_t - 1).
    for (let b = 0; b < batch.batchSize; b++) {
      const n = batch.lengths[b]!;
      for (let t = 1; t <= n; t++) {
        const pi = batch.targetOrder![b * batch.seqLen + t]!;
        expect(batch.inputs[b * batch.seqLen + n + 2 + (pi - 1)]).toBe(batch.inputs[b * batch.seqLen + t]);
      }
    }
  });

  it("reverse_string, encoder: x1..xn QUERY..QUERY -> n - 1 - i on the input, -1 on the queries", () => {
    const batch = createTask("reverse_string").sample(new Rng(2), 2, 4, "encoder");
    expect(rows(batch)).toEqual([
      [3, 2, 1, 0, -1, -1, -1, -1],
      [3, 2, 1, 0, -1, -1, -1, -1],
    ]);
  });

  it("copy: the identity on the input symbols", () => {
    const batch = createTask("copy").sample(new Rng(3), 1, 3, "decoder");
    expect(rows(batch)).toEqual([[-1, 1, 2, 3, -1, -1, -1, -1, -1]]);
  });

  it("odds_first: odd (0-based) indices first, then even: n = 5 -> 2 0 3 1 4 (x0 x1 x2 x3 x4 -> x1 x3 x0 x2 x4)", () => {
    const batch = createTask("odds_first").sample(new Rng(5), 1, 5, "encoder");
    expect(rows(batch)).toEqual([[2, 0, 3, 1, 4, -1, -1, -1, -1, -1]]);
  });

  it("is absent for tasks that do not supply it (answers that are no fixed reordering of the input)", () => {
    for (const id of ["bucket_sort", "parity_check", "addition_coupled"]) {
      expect(createTask(id).sample(new Rng(4), 2, 3, "decoder").targetOrder, id).toBeUndefined();
    }
  });
});
