import { describe, expect, it } from "vitest";
import { randomArray } from "../../test/helpers/arrays.js";
import { Rng } from "../util/rng.js";
import { PosencConfigError } from "../util/validation.js";
import { applyRope, ropeCosSinTable, ropeInverseFrequencies } from "./rope.js";
import { convertRopeLayoutVector, convertRopeLayoutWeights, ropeLayoutPermutation } from "./rope-layout.js";

/** y = W x for W row-major [rows, cols]. */
function matVec(w: Float32Array, x: Float32Array, rows: number, cols: number): Float32Array {
  const y = new Float32Array(rows);
  for (let r = 0; r < rows; r++) {
    let s = 0;
    for (let c = 0; c < cols; c++) s += w[r * cols + c] * x[c];
    y[r] = s;
  }
  return y;
}

describe("ropeLayoutPermutation", () => {
  it("matches hand-written permutations", () => {
    expect(Array.from(ropeLayoutPermutation(8, 8, "interleaved", "half"))).toEqual([0, 2, 4, 6, 1, 3, 5, 7]);
    expect(Array.from(ropeLayoutPermutation(8, 8, "half", "interleaved"))).toEqual([0, 4, 1, 5, 2, 6, 3, 7]);
    // Partial rotary: only the first 4 channels move.
    expect(Array.from(ropeLayoutPermutation(8, 4, "interleaved", "half"))).toEqual([0, 2, 1, 3, 4, 5, 6, 7]);
    expect(Array.from(ropeLayoutPermutation(6, 6, "half", "half"))).toEqual([0, 1, 2, 3, 4, 5]);
  });

  it("the two directions are inverse permutations", () => {
    for (const [d, r] of [
      [128, 128],
      [80, 32],
      [6, 2],
    ]) {
      const forward = ropeLayoutPermutation(d, r, "interleaved", "half");
      const back = ropeLayoutPermutation(d, r, "half", "interleaved");
      for (let j = 0; j < d; j++) expect(forward[back[j]]).toBe(j);
    }
  });

  it("rejects bad dims and layouts with PosencConfigError", () => {
    expect(() => ropeLayoutPermutation(8, 5, "half", "interleaved")).toThrow(/rotaryDim/);
    expect(() => ropeLayoutPermutation(8, 10, "half", "interleaved")).toThrow(PosencConfigError);
    expect(() => ropeLayoutPermutation(0, 0, "half", "half")).toThrow(/headDim/);
    expect(() => ropeLayoutPermutation(8, 8, "meta" as "half", "half")).toThrow(/from/);
  });
});

describe("convertRopeLayoutWeights", () => {
  const numHeads = 3;
  const headDim = 8;
  const inFeatures = 5;

  it("equals HF's permute: view(heads, d/2, 2, in).transpose(1, 2).reshape(heads * d, in)", () => {
    const w = randomArray(new Rng(1), numHeads * headDim * inFeatures);
    const converted = convertRopeLayoutWeights(w, {
      numHeads,
      headDim,
      inFeatures,
      from: "interleaved",
      to: "half",
    });
    // transposed[h][j][i][c] = w[h][i][j][c] with i < d/2, j < 2
    for (let h = 0; h < numHeads; h++) {
      for (let j = 0; j < 2; j++) {
        for (let i = 0; i < headDim / 2; i++) {
          for (let c = 0; c < inFeatures; c++) {
            const newRow = h * headDim + j * (headDim / 2) + i;
            const oldRow = h * headDim + 2 * i + j;
            expect(converted[newRow * inFeatures + c]).toBe(w[oldRow * inFeatures + c]);
          }
        }
      }
    }
  });

  it("round-trips to the identity", () => {
    const w = randomArray(new Rng(2), numHeads * headDim * inFeatures);
    for (const rotaryDim of [8, 4]) {
      const opts = { numHeads, headDim, rotaryDim, inFeatures };
      const there = convertRopeLayoutWeights(w, { ...opts, from: "interleaved", to: "half" });
      expect(there).not.toEqual(w);
      expect(convertRopeLayoutWeights(there, { ...opts, from: "half", to: "interleaved" })).toEqual(w);
    }
  });

  it("scores with interleaved weights + interleaved RoPE equal scores with converted weights + half RoPE", () => {
    const rng = new Rng(3);
    const wq = randomArray(rng, numHeads * headDim * inFeatures);
    const wk = randomArray(rng, numHeads * headDim * inFeatures);
    const opts = { numHeads, headDim, rotaryDim: 6, inFeatures };
    const wqHalf = convertRopeLayoutWeights(wq, { ...opts, from: "interleaved", to: "half" });
    const wkHalf = convertRopeLayoutWeights(wk, { ...opts, from: "interleaved", to: "half" });
    const positions = [0, 3, 10.5, 250];
    const invFreq = ropeInverseFrequencies(6, 10000);
    const { cos, sin } = ropeCosSinTable(invFreq, positions);
    const tokens = positions.map(() => randomArray(rng, inFeatures));
    const project = (w: Float32Array, layout: "half" | "interleaved"): Float32Array => {
      const x = new Float32Array(positions.length * numHeads * headDim);
      for (const [t, e] of tokens.entries())
        x.set(matVec(w, e, numHeads * headDim, inFeatures), t * numHeads * headDim);
      return applyRope(x, cos, sin, { numHeads, headDim, rotaryDim: 6, layout });
    };
    const [qI, kI, qH, kH] = [
      project(wq, "interleaved"),
      project(wk, "interleaved"),
      project(wqHalf, "half"),
      project(wkHalf, "half"),
    ];
    let checked = 0;
    for (let m = 0; m < positions.length; m++) {
      for (let n = 0; n < positions.length; n++) {
        for (let h = 0; h < numHeads; h++) {
          let sI = 0;
          let sH = 0;
          for (let c = 0; c < headDim; c++) {
            sI += qI[(m * numHeads + h) * headDim + c] * kI[(n * numHeads + h) * headDim + c];
            sH += qH[(m * numHeads + h) * headDim + c] * kH[(n * numHeads + h) * headDim + c];
          }
          expect(Math.abs(sI - sH)).toBeLessThan(1e-5);
          checked++;
        }
      }
    }
    expect(checked).toBe(48);
  });

  it("rejects mismatched lengths and bad counts", () => {
    const w = new Float32Array(2 * 8 * 3);
    expect(() =>
      convertRopeLayoutWeights(w, {
        numHeads: 2,
        headDim: 8,
        inFeatures: 4,
        from: "half",
        to: "interleaved",
      }),
    ).toThrow(/weights.length must be numHeads \* headDim \* inFeatures/);
    expect(() =>
      convertRopeLayoutWeights(w, {
        numHeads: 0,
        headDim: 8,
        inFeatures: 3,
        from: "half",
        to: "interleaved",
      }),
    ).toThrow(/numHeads/);
  });
});

describe("convertRopeLayoutVector", () => {
  it("half RoPE of converted activations equals converted interleaved RoPE (the layouts are one rotation)", () => {
    const numHeads = 2;
    const headDim = 8;
    const positions = [1, 42.5];
    const x = randomArray(new Rng(4), positions.length * numHeads * headDim);
    const { cos, sin } = ropeCosSinTable(ropeInverseFrequencies(headDim), positions);
    const toHalf = { headDim, from: "interleaved", to: "half" } as const;
    const viaInterleaved = convertRopeLayoutVector(
      applyRope(x, cos, sin, { numHeads, headDim, layout: "interleaved", out: new Float32Array(x.length) }),
      toHalf,
    );
    const viaHalf = applyRope(convertRopeLayoutVector(x, toHalf), cos, sin, {
      numHeads,
      headDim,
      layout: "half",
    });
    expect(viaHalf).toEqual(viaInterleaved); // same arithmetic on the same pairs: bit-identical
  });

  it("permutes each head block and rejects a length that is not a multiple of headDim", () => {
    const v = Float32Array.from([10, 11, 12, 13, 20, 21, 22, 23]);
    expect(Array.from(convertRopeLayoutVector(v, { headDim: 4, from: "interleaved", to: "half" }))).toEqual([
      10, 12, 11, 13, 20, 22, 21, 23,
    ]);
    expect(() =>
      convertRopeLayoutVector(v.subarray(1), { headDim: 4, from: "half", to: "interleaved" }),
    ).toThrow(RangeError);
  });
});
