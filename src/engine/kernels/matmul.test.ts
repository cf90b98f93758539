import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { Rng } from "../../util/rng.js";
import { matmulNaive, matmulReference } from "./matmul.js";
import type { MatmulShape } from "./types.js";

function randomArray(rng: Rng, n: number): Float32Array {
  return Float32Array.from({ length: n }, () => rng.normal());
}

describe("matmulReference", () => {
  it("computes a hand-checked 2x3 @ 3x2 product, and its transposed forms", () => {
    const a = Float32Array.from([1, 2, 3, 4, 5, 6]); // [[1,2,3],[4,5,6]]
    const b = Float32Array.from([7, 8, 9, 10, 11, 12]); // [[7,8],[9,10],[11,12]]
    const c = new Float32Array(4);
    const shape: MatmulShape = {
      batch: 1,
      m: 2,
      n: 2,
      k: 3,
      transA: false,
      transB: false,
      aBatchStride: 0,
      bBatchStride: 0,
      cBatchStride: 0,
      accumulate: false,
    };
    matmulReference(a, b, c, shape);
    expect(Array.from(c)).toEqual([58, 64, 139, 154]);
    // a^T stored (3x2) and b^T stored (2x3) give the same product.
    const aT = Float32Array.from([1, 4, 2, 5, 3, 6]);
    const bT = Float32Array.from([7, 9, 11, 8, 10, 12]);
    matmulReference(aT, bT, c, { ...shape, transA: true, transB: true });
    expect(Array.from(c)).toEqual([58, 64, 139, 154]);
    matmulReference(a, b, c, { ...shape, accumulate: true });
    expect(Array.from(c)).toEqual([116, 128, 278, 308]);
  });

  it("matches the naive triple loop for random shapes, transposes, broadcast strides and accumulate", () => {
    fc.assert(
      fc.property(
        fc.record({
          batch: fc.integer({ min: 1, max: 3 }),
          m: fc.integer({ min: 1, max: 11 }),
          n: fc.integer({ min: 1, max: 11 }),
          k: fc.integer({ min: 1, max: 9 }),
          transA: fc.boolean(),
          transB: fc.boolean(),
          shareA: fc.boolean(),
          shareB: fc.boolean(),
          accumulate: fc.boolean(),
          seed: fc.integer(),
        }),
        (r) => {
          const rng = new Rng(r.seed);
          const shape: MatmulShape = {
            batch: r.batch,
            m: r.m,
            n: r.n,
            k: r.k,
            transA: r.transA,
            transB: r.transB,
            aBatchStride: r.shareA ? 0 : r.m * r.k,
            bBatchStride: r.shareB ? 0 : r.k * r.n,
            cBatchStride: r.m * r.n,
            accumulate: r.accumulate,
          };
          const a = randomArray(rng, r.m * r.k * (r.shareA ? 1 : r.batch));
          const b = randomArray(rng, r.k * r.n * (r.shareB ? 1 : r.batch));
          const c0 = randomArray(rng, r.m * r.n * r.batch);
          const expected = Float32Array.from(c0);
          const actual = Float32Array.from(c0);
          matmulNaive(a, b, expected, shape);
          matmulReference(a, b, actual, shape);
          for (let i = 0; i < actual.length; i++) expect(actual[i]).toBeCloseTo(expected[i], 4);
        },
      ),
      { numRuns: 150 },
    );
  });

  it("rejects operands too small for the shape, naming the operand", () => {
    const shape: MatmulShape = {
      batch: 2,
      m: 2,
      n: 2,
      k: 2,
      transA: false,
      transB: false,
      aBatchStride: 4,
      bBatchStride: 4,
      cBatchStride: 4,
      accumulate: false,
    };
    expect(() =>
      matmulReference(new Float32Array(4), new Float32Array(8), new Float32Array(8), shape),
    ).toThrow(/matmul kernel: a has 4 elements, needs 8/);
  });
});
