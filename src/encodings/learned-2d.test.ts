import { describe, expect, it } from "vitest";
import { noGrad, tidy } from "../engine/index.js";
import { Rng } from "../util/rng.js";
import { PosencConfigError } from "../util/validation.js";
import {
  gridOfIds,
  learned2dEmbedding,
  learned2dLookupMatrix,
  learned2dSpec,
  resizeWeights,
} from "./learned-2d.js";

/** ids [T, 2] of a rows x cols grid, row-major. */
const gridIds = (rows: number, cols: number) =>
  Array.from({ length: rows * cols }, (_, t) => [Math.floor(t / cols), t % cols]).flat();

describe("learned-2d (ViT's table, arXiv:2010.11929)", () => {
  it("bicubic weights: PyTorch's align_corners=False cubic convolution (A = -0.75), worked by hand", () => {
    // 2 -> 4: output 0 sits at s = (0 + 0.5) * 2/4 - 0.5 = -0.25, i0 = -1, t = 0.75; taps -2, -1, 0, 1 (the first
    // three clamped to 0) weigh W(1.75) = -0.03515625, W(0.75) = 0.26171875, W(0.25) = 0.87890625, W(1.25) = -0.10546875.
    const w = resizeWeights(2, 4, "bicubic");
    expect(w[0]).toBeCloseTo(-0.03515625 + 0.26171875 + 0.87890625, 12);
    expect(w[1]).toBeCloseTo(-0.10546875, 12);
    // Rows sum to 1 (a constant table stays constant); the output is symmetric about the middle.
    for (let o = 0; o < 4; o++) expect(w[2 * o]! + w[2 * o + 1]!).toBeCloseTo(1, 12);
    expect(w[6]).toBeCloseTo(w[1]!, 12);
    // Same size: exactly the identity (t = 0 gives taps 0, 1, 0, 0).
    expect(Array.from(resizeWeights(3, 3, "bicubic"))).toEqual([1, 0, 0, 0, 1, 0, 0, 0, 1]);
    // Nearest: floor(o * in / out).
    expect(Array.from(resizeWeights(2, 4, "nearest"))).toEqual([1, 0, 1, 0, 0, 1, 0, 1]);
  });

  it("bicubic resize of a linear ramp is symmetric about the middle and stays monotone", () => {
    // A = -0.75 is exact on constants only (a = -0.5 would be exact on quadratics), so the ramp bends near the
    // samples; it must still rise and mirror: v(o) + v(out - 1 - o) = first + last.
    const w = resizeWeights(8, 16, "bicubic");
    const v = Array.from({ length: 16 }, (_, o) => {
      let s = 0;
      for (let i = 0; i < 8; i++) s += w[o * 8 + i]! * (3 * i + 1);
      return s;
    });
    for (let o = 1; o < 16; o++) expect(v[o]).toBeGreaterThan(v[o - 1]!);
    for (let o = 0; o < 8; o++) expect(v[o]! + v[15 - o]!).toBeCloseTo(1 + 22, 10);
  });

  it("looks up P[r, c] at the trained grid and the separable resize at a larger one", () => {
    const rows = 2;
    const cols = 3;
    const D = 2;
    const table = Array.from({ length: rows * cols * D }, (_, i) => i + 1);
    expect(Array.from(learned2dEmbedding(table, rows, cols, D, gridIds(rows, cols)))).toEqual(table);
    // 4 x 6 grid: token (r, c) = sum_ij wr[r, i] wc[c, j] P[i, j].
    const ids = gridIds(4, 6);
    const out = learned2dEmbedding(table, rows, cols, D, ids);
    const wr = resizeWeights(rows, 4, "bicubic");
    const wc = resizeWeights(cols, 6, "bicubic");
    for (const t of [0, 7, 23]) {
      const [r, c] = [ids[2 * t]!, ids[2 * t + 1]!];
      for (let d = 0; d < D; d++) {
        let v = 0;
        for (let i = 0; i < rows; i++)
          for (let j = 0; j < cols; j++)
            v += wr[r * rows + i]! * wc[c * cols + j]! * table[(i * cols + j) * D + d]!;
        expect(out[t * D + d]).toBeCloseTo(v, 5);
      }
    }
    expect(learned2dLookupMatrix(ids, rows, cols, "nearest").every((v) => v === 0 || v === 1)).toBe(true);
  });

  it("the grid comes from the ids; bad ids are one clear error", () => {
    expect(gridOfIds(gridIds(3, 5))).toEqual([3, 5]);
    expect(() => gridOfIds([0, 1.5])).toThrow(PosencConfigError);
    expect(() => gridOfIds([0, -1])).toThrow(/learned-2d position id/);
  });

  it("trainable: sized from the model's training grid; embeddings [1, T, D] for shared ids, [B, T, D] otherwise", () => {
    const dims = {
      dModel: 4,
      numHeads: 1,
      headDim: 4,
      numLayers: 1,
      maxSeqLen: 64,
      causal: false,
      grid: [2, 2],
    };
    const params = { ...learned2dSpec.create({}).params, ...learned2dSpec.modelParams!(dims) };
    expect(params).toMatchObject({ rows: 2, cols: 2, resize: "bicubic" });
    const encoding = learned2dSpec.trainable!(params as never, dims, new Rng(1));
    const table = encoding.parameters()[0]!;
    expect(table.shape).toEqual([4, 4]);
    tidy(() =>
      noGrad(() => {
        const shared = Float64Array.from([...gridIds(2, 2), ...gridIds(2, 2)]);
        const e = encoding.embedding!(shared, 2, 4);
        expect(e.shape).toEqual([1, 4, 4]);
        expect(Array.from(e.toArray())).toEqual(Array.from(table.data, Math.fround));
        const mixed = Float64Array.from([...gridIds(2, 2), 0, 0, 0, 1, 0, 2, 0, 3]);
        expect(encoding.embedding!(mixed, 2, 4).shape).toEqual([2, 4, 4]);
      }),
    );
  });
});
