import { describe, expect, it } from "vitest";
import { add, attention, mul, slice, type Tensor, tensor, tidy } from "../engine/index.js";
import { gradCheck, randomInput, randomValues } from "../engine/testing/gradcheck.js";
import { Rng } from "../util/rng.js";
import { ropeSpec } from "./rope.js";
import { tpeRouter, traversalRanks, twoDTpeSpec } from "./two-d-tpe.js";

const DIMS = { dModel: 8, numHeads: 2, headDim: 4, numLayers: 1, maxSeqLen: 16, causal: false };
const grid = Float64Array.from([0, 0, 0, 1, 0, 2, 1, 0, 1, 1, 1, 2]); // 2 x 3, row-major

/** The attention sublayer in the contract's order: (e) q, k; (g) v; attention; (g) output. */
function sublayer(
  enc: ReturnType<NonNullable<typeof twoDTpeSpec.trainable>>,
  x: Tensor,
  q: Tensor,
  k: Tensor,
  v: Tensor,
  ids: Float64Array,
  causal: boolean,
) {
  const qk = enc.contentAttention!({ x, q, k, positionIds: ids, layer: 0 });
  const vv = enc.transformValues!(v, ids, 0);
  return enc.transformOutput!(attention(qk.q!, qk.k!, vv, { causal }), ids, 0);
}

/** RoPE (the library's framework-free form) of x [1, H, T, Dh] at 1-D ids per token. */
function ropeAt(x: number[], ranks: Int32Array, H: number, Dh: number): Tensor {
  const T = ranks.length;
  const rows = new Float32Array(T * H * Dh); // [T, H, Dh] for transformQK
  for (let h = 0; h < H; h++)
    for (let t = 0; t < T; t++)
      for (let d = 0; d < Dh; d++) rows[(t * H + h) * Dh + d] = x[(h * T + t) * Dh + d]!;
  ropeSpec.create({ headDim: Dh }).transformQK!(rows, ranks, H, Dh, "query");
  const out = new Float32Array(T * H * Dh);
  for (let h = 0; h < H; h++)
    for (let t = 0; t < T; t++)
      for (let d = 0; d < Dh; d++) out[(h * T + t) * Dh + d] = rows[(t * H + h) * Dh + d]!;
  return tensor(out, [1, H, T, Dh]);
}

describe("2d-tpe", () => {
  it("ranks tokens row by row and column by column", () => {
    const { rowMajor, columnMajor } = traversalRanks(grid);
    expect(Array.from(rowMajor)).toEqual([0, 1, 2, 3, 4, 5]);
    expect(Array.from(columnMajor)).toEqual([0, 2, 4, 1, 3, 5]);
  });

  it("mixes RoPE attention at row-major ranks and at column-major ranks with the router's weights (encoder)", () => {
    const enc = twoDTpeSpec.trainable!(
      twoDTpeSpec.create({ routerHidden: 3 }).params as never,
      DIMS,
      new Rng(2),
    );
    const [w1, w2, w3] = enc.parameters();
    const [q, k, v] = [1, 2, 3].map((s) => randomValues(s, 2 * 6 * 4));
    const xData = randomValues(4, 6 * 8);
    tidy(() => {
      const x = tensor(xData, [1, 6, 8]);
      const got = sublayer(
        enc,
        x,
        tensor(q!, [1, 2, 6, 4]),
        tensor(k!, [1, 2, 6, 4]),
        tensor(v!, [1, 2, 6, 4]),
        grid,
        false,
      ).toArray();
      const { rowMajor, columnMajor } = traversalRanks(grid);
      const vt = tensor(v!, [1, 2, 6, 4]);
      const rowOut = attention(ropeAt(q!, rowMajor, 2, 4), ropeAt(k!, rowMajor, 2, 4), vt, { causal: false });
      const colOut = attention(ropeAt(q!, columnMajor, 2, 4), ropeAt(k!, columnMajor, 2, 4), vt, {
        causal: false,
      });
      const weights = tpeRouter(x, w1!, w2!, w3!, 2);
      const want = add(
        mul(rowOut, slice(weights, -1, 0, 1)),
        mul(colOut, slice(weights, -1, 1, 2)),
      ).toArray();
      want.forEach((value, n) => {
        expect(got[n]).toBeCloseTo(value, 5);
      });
      // The router's two weights are a softmax: each in (0, 1), summing to 1.
      const w = weights.toArray();
      for (let n = 0; n < w.length; n += 2) expect(w[n]! + w[n + 1]!).toBeCloseTo(1, 6);
    });
  });

  it("in a decoder the column branch is causal in column-major order: (1, 0) sees (0, 0) and itself only", () => {
    const enc = twoDTpeSpec.trainable!(
      twoDTpeSpec.create({}).params as never,
      { ...DIMS, causal: true },
      new Rng(3),
    );
    const [w1, w2, w3] = enc.parameters();
    const [q, k] = [5, 6].map((s) => randomValues(s, 2 * 6 * 4));
    tidy(() => {
      // Token 3 = (1, 0): row-major rank 3 (sees tokens 0..3), column-major rank 1 (sees tokens 0 and 3).
      // v marks tokens 1 and 2 in channel 0, so only the row branch brings anything there for token 3.
      const v = new Float32Array(2 * 6 * 4);
      for (let h = 0; h < 2; h++) for (const t of [1, 2]) v[(h * 6 + t) * 4] = 1;
      const x = tensor(randomValues(7, 48), [1, 6, 8]);
      const [qt, kt, vt] = [tensor(q!, [1, 2, 6, 4]), tensor(k!, [1, 2, 6, 4]), tensor(v, [1, 2, 6, 4])];
      const qk = enc.contentAttention!({ x, q: qt, k: kt, positionIds: grid, layer: 0 });
      const rowOut = attention(qk.q!, qk.k!, enc.transformValues!(vt, grid, 0), { causal: true });
      const out = enc.transformOutput!(rowOut, grid, 0).toArray();
      const row = rowOut.toArray();
      const weights = tpeRouter(x, w1!, w2!, w3!, 2).toArray(); // [1, H, T, 2]
      for (let h = 0; h < 2; h++) {
        const at = (h * 6 + 3) * 4;
        expect(row[at]).toBeGreaterThan(0.01);
        expect(out[at]).toBeCloseTo(weights[(h * 6 + 3) * 2]! * row[at]!, 6);
      }
    });
    expect(() =>
      tidy(() => {
        const t = tensor(randomValues(8, 48), [1, 2, 6, 4]);
        const ids = Float64Array.from([0, 1, 0, 0, 0, 2, 1, 0, 1, 1, 1, 2]);
        sublayer(enc, tensor(randomValues(9, 48), [1, 6, 8]), t, t, t, ids, true);
      }),
    ).toThrow(/row-major order/);
  });

  it("has exact router gradients (float64 finite differences)", () => {
    const result = gradCheck(
      ([x, w1, w2, w3]) => tpeRouter(x!, w1!, w2!, w3!, 2),
      [randomInput([2, 3, 8], 1), randomInput([4, 3], 2), randomInput([4, 3], 3), randomInput([3, 2], 4)],
    );
    expect(result.worstRatio, result.worst).toBeLessThanOrEqual(1);
  });
});
