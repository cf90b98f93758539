import { describe, expect, it } from "vitest";
import { Rng } from "../util/rng.js";
import { PosencConfigError } from "../util/validation.js";
import { learnedAbsoluteEmbedding, learnedAbsoluteSpec, learnedPositionRows } from "./learned-absolute.js";
import { createEncoding, getEncoding } from "./registry.js";

const dims = { dModel: 3, numHeads: 1, headDim: 3, numLayers: 1, maxSeqLen: 8, causal: true };

describe("learned-absolute", () => {
  it("looks up rows of a [maxPositions, dModel] table", () => {
    const table = [0, 1, 2, 10, 11, 12, 20, 21, 22, 30, 31, 32];
    expect(Array.from(learnedAbsoluteEmbedding(table, 4, 3, [2, 0, 2]))).toEqual([
      20, 21, 22, 0, 1, 2, 20, 21, 22,
    ]);
    const encoding = createEncoding("learned-absolute", { maxPositions: 4, table });
    expect(Array.from(encoding.embedding?.([3], 3) ?? [])).toEqual([30, 31, 32]);
  });

  it("names an id past the table, a negative or fractional id, with the table size", () => {
    expect(() => learnedPositionRows([0, 1, 4], 4)).toThrow(PosencConfigError);
    expect(() => learnedPositionRows([0, 1, 4], 4)).toThrow(
      /position id 4 \(index 2\) has no row in the table of 4 rows \(ids 0\.\.3\).*at least 5/,
    );
    expect(() => learnedPositionRows([-1], 4)).toThrow(/position id -1/);
    expect(() => learnedPositionRows([1.5], 4)).toThrow(/position id 1\.5/);
  });

  it("adds zeros without a table (the learned values live in the model) and checks the table size", () => {
    const encoding = createEncoding("learned-absolute", { maxPositions: 4 });
    expect(Array.from(encoding.embedding?.([0, 3], 2) ?? [])).toEqual([0, 0, 0, 0]);
    expect(() => encoding.embedding?.([4], 2)).toThrow(/table of 4 rows/);
    const bad = createEncoding("learned-absolute", { maxPositions: 4, table: [1, 2, 3] });
    expect(() => bad.embedding?.([0], 2)).toThrow(/learned-absolute\.table/);
  });

  it("trainable form: an N(0, initStd^2) table from the Rng, deterministic, or the given table", () => {
    const params = { maxPositions: 200, initStd: 0.5, table: [] };
    const a = learnedAbsoluteSpec.trainable?.(params, dims, new Rng(4)).parameters()[0].toArray() ?? [];
    const b = learnedAbsoluteSpec.trainable?.(params, dims, new Rng(4)).parameters()[0].toArray() ?? [];
    expect(a).toEqual(b);
    const std = Math.sqrt(a.reduce((s, v) => s + v * v, 0) / a.length);
    expect(std).toBeGreaterThan(0.45);
    expect(std).toBeLessThan(0.55);
    const given = learnedAbsoluteSpec.trainable?.(
      { ...params, maxPositions: 1, table: [1, 2, 3] },
      dims,
      new Rng(4),
    );
    expect(given?.parameters()[0].toArray()).toEqual([1, 2, 3]);
    expect(getEncoding("learned-absolute")).toBe(learnedAbsoluteSpec);
  });
});
