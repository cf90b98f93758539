import { describe, expect, it } from "vitest";
import { attention, type Tensor, tensor, tidy } from "../engine/index.js";
import { gradCheck, randomInput, randomValues } from "../engine/testing/gradcheck.js";
import { Rng } from "../util/rng.js";
import { gtaAngles, gtaAttention, gtaSpec } from "./gta.js";

const DIMS = { dModel: 16, numHeads: 2, headDim: 8, numLayers: 1, maxSeqLen: 64, causal: false };

/** The trainable hooks around the engine's attention: (e) q, k; (g) v before, o after. */
function hookedAttention(q: Tensor, k: Tensor, v: Tensor, ids: Float64Array, maxFreq = 1 / 16): Tensor {
  const gta = gtaSpec.trainable!({ maxFreq }, DIMS, new Rng(1));
  const qk = gta.contentAttention!({ x: q, q, k, positionIds: ids, layer: 0 });
  const out = attention(qk.q!, qk.k!, gta.transformValues!(v, ids, 0), { causal: false });
  return gta.transformOutput!(out, ids, 0);
}

describe("gta", () => {
  it("angles follow make_SO2mats: pair 2f + a turns by 2 pi maxFreq x_a 2^(f+1-F), frequency-major", () => {
    // Official coordinates arange(N) / N, maxFreq 1: x = (0.25, 0.1), F = 2 frequencies 1/2 and 1.
    const angles = gtaAngles([0.25, 0.1], 4, 1);
    const want = [Math.PI / 4, 0.1 * Math.PI, Math.PI / 2, 0.2 * Math.PI];
    angles.forEach((a, n) => {
      expect(a).toBeCloseTo(want[n]!, 12);
    });
  });

  it("is translation invariant in its output, not only its scores: o(ids + shift) = o(ids)", () => {
    const T = 5;
    const [q, k, v] = [1, 2, 3].map((s) => randomValues(s, T * 8));
    const ids = [0, 0, 0, 1, 1, 0, 2, 3, 4, 1];
    const shifted = ids.map((x, n) => x + (n % 2 === 0 ? 3 : -7));
    const a = gtaAttention(q!, k!, v!, ids, 1 / 16);
    const b = gtaAttention(q!, k!, v!, shifted, 1 / 16);
    a.forEach((x, n) => {
      expect(b[n]).toBeCloseTo(x, 10);
    });
  });

  it("messages are relative: with uniform attention o_0 = (v_0 + rho(g_1 - g_0) v_1) / 2", () => {
    const v = randomValues(7, 2 * 4);
    const ids = [2, 5, 3, 1]; // g_1 - g_0 = (1, -4)
    const out = gtaAttention(new Array(8).fill(0), new Array(8).fill(0), v, ids, 0.1);
    const angles = gtaAngles([1, -4], 2, 0.1);
    for (let n = 0; n < 2; n++) {
      const [c, s] = [Math.cos(angles[n]!), Math.sin(angles[n]!)];
      const [a, b] = [v[4 + 2 * n]!, v[4 + 2 * n + 1]!];
      expect(out[2 * n]).toBeCloseTo((v[2 * n]! + a * c - b * s) / 2, 12);
      expect(out[2 * n + 1]).toBeCloseTo((v[2 * n + 1]! + a * s + b * c) / 2, 12);
    }
  });

  it("the hooks (e) q, k and (g) v, o around the engine's attention equal the framework-free GTA per example and head", () => {
    const T = 4;
    const ids = Float64Array.from([0, 0, 0, 1, 1, 0, 1, 1, 5, 2, 0, 7, 3, 3, 1.5, 0]); // [2, 4, 2]: examples differ
    const [q, k, v] = [4, 5, 6].map((s) => randomValues(s, 2 * 2 * T * 8));
    const got = tidy(() =>
      hookedAttention(
        tensor(q!, [2, 2, T, 8]),
        tensor(k!, [2, 2, T, 8]),
        tensor(v!, [2, 2, T, 8]),
        ids,
      ).toArray(),
    );
    for (let b = 0; b < 2; b++) {
      for (let h = 0; h < 2; h++) {
        const at = (b * 2 + h) * T * 8;
        const slice = (x: number[]) => x.slice(at, at + T * 8);
        const want = gtaAttention(
          slice(q!),
          slice(k!),
          slice(v!),
          ids.subarray(b * 2 * T, (b + 1) * 2 * T),
          1 / 16,
        );
        want.forEach((x, n) => {
          expect(got[at + n]).toBeCloseTo(x, 5);
        });
      }
    }
  });

  it("has exact gradients through the hooks for q, k and v (float64 finite differences)", () => {
    const ids = Float64Array.from([0, 0, 0, 1, 1, 0, 2, 1, 4, 4, 3, 0]);
    const result = gradCheck(
      ([q, k, v]) => hookedAttention(q!, k!, v!, ids, 0.2),
      [randomInput([2, 2, 3, 8], 1), randomInput([2, 2, 3, 8], 2), randomInput([2, 2, 3, 8], 3)],
    );
    expect(result.worstRatio, result.worst).toBeLessThanOrEqual(1);
  });

  it("rejects a head size that is not a multiple of 4, in one line", () => {
    expect(() => gtaSpec.trainable!({ maxFreq: 1 }, { ...DIMS, headDim: 6 }, new Rng(1))).toThrow(
      /gta.*multiple of 4.*6/,
    );
  });
});
