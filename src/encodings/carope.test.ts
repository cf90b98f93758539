import { describe, expect, it } from "vitest";
import { matmul, noGrad, tensor, tidy, transpose } from "../engine/index.js";
import { gradCheck, randomValues } from "../engine/testing/gradcheck.js";
import { Rng } from "../util/rng.js";
import { caropeInitialBias, caropePhases, caropePhasesTensor, caropeSpec } from "./carope.js";
import { rotateHalfByAngles, rotateHalfRows } from "./content-rotation.js";
import { ropeInverseFrequencies } from "./rope.js";
import { resolveParams } from "./types.js";

const [B, T, D, H, Dh] = [2, 5, 3, 2, 6];
const P = Dh / 2;

describe("CARoPE", () => {
  it("at init (w = 0, c = softplus^-1(base^(2/d) - 1)) is RoPE: phi_(t, i) = (t + 1) theta_i", () => {
    const c0 = caropeInitialBias(10000, Dh);
    const phi = caropePhases(randomValues(1, T * D), new Array(D * H).fill(0), [c0, c0], T, P);
    const theta = ropeInverseFrequencies(Dh, 10000); // [1, 10000^(-1/3), 10000^(-2/3)]
    expect(theta[1]).toBeCloseTo(10000 ** (-2 / Dh), 12);
    for (let h = 0; h < H; h++)
      for (let t = 0; t < T; t++)
        for (let i = 0; i < P; i++) expect(phi[(h * T + t) * P + i]).toBeCloseTo((t + 1) * theta[i]!, 10);
  });

  it("hand-computed phases: softplus(z) = 1 gives f = 1/2, omega = [1, 1/2, 1/4], accumulated", () => {
    const z = Math.log(Math.E - 1); // softplus(z) = 1
    const phi = caropePhases([0, 0], [0], [z], 2, 3); // D = 1, H = 1, T = 2
    expect(Array.from(phi)).toEqual([1, 0.5, 0.25, 2, 1, 0.5].map((v) => expect.closeTo(v, 12)));
  });

  const x = randomValues(2, B * T * D);
  const w = randomValues(3, D * H, 0.8);
  const c = randomValues(4, H, 0.5);
  const q = randomValues(5, B * H * T * Dh);

  it("the tensor form rotates q as the array form does, per example and head", () => {
    const got = tidy(() =>
      noGrad(() => {
        const phi = caropePhasesTensor(tensor(x, [B, T, D]), tensor(w, [D, H]), tensor(c, [H]), P);
        return rotateHalfByAngles(tensor(q, [B, H, T, Dh]), phi).toArray();
      }),
    );
    for (let b = 0; b < B; b++) {
      const phi = caropePhases(x.slice(b * T * D, (b + 1) * T * D), w, c, T, P);
      for (let h = 0; h < H; h++) {
        const row = Float64Array.from(q.slice((b * H + h) * T * Dh, (b * H + h + 1) * T * Dh));
        rotateHalfRows(row, phi.subarray(h * T * P, (h + 1) * T * P), T, Dh);
        for (let n = 0; n < row.length; n++) expect(got[(b * H + h) * T * Dh + n]).toBeCloseTo(row[n]!, 5);
      }
    }
  });

  it("scores are relative in content time: changing a token at or before the key leaves q_i . k_j unchanged", () => {
    const scores = (input: number[]) =>
      tidy(() =>
        noGrad(() => {
          const phi = caropePhasesTensor(tensor(input, [1, T, D]), tensor(w, [D, H]), tensor(c, [H]), P);
          const rq = rotateHalfByAngles(tensor(q.slice(0, H * T * Dh), [1, H, T, Dh]), phi);
          const rk = rotateHalfByAngles(tensor(q.slice(H * T * Dh, 2 * H * T * Dh), [1, H, T, Dh]), phi);
          return matmul(rq, transpose(rk, -1, -2)).toArray();
        }),
      );
    const base = scores(x.slice(0, T * D));
    const changed = x.slice(0, T * D);
    for (let d = 0; d < D; d++) changed[1 * D + d]! += 0.7; // token 1
    const after = scores(changed);
    for (let h = 0; h < H; h++)
      for (let i = 0; i < T; i++)
        for (let j = 0; j < T; j++) {
          const n = (h * T + i) * T + j;
          if (j >= 1 && i >= 1) expect(after[n]).toBeCloseTo(base[n]!, 4); // both phases shift by the same amount
          if (i === 2 && j === 0) expect(Math.abs(after[n]! - base[n]!)).toBeGreaterThan(1e-4);
        }
  });

  it("has exact gradients for q, x, W and c (float64 finite differences)", () => {
    const result = gradCheck(
      ([qq, xx, ww, cc]) => rotateHalfByAngles(qq!, caropePhasesTensor(xx!, ww!, cc!, P)),
      [
        { shape: [B, H, T, Dh], values: q },
        { shape: [B, T, D], values: x },
        { shape: [D, H], values: w },
        { shape: [H], values: c },
      ],
    );
    expect(result.worstRatio, result.worst).toBeLessThanOrEqual(1);
  });

  it("owns W [D, H] (zeros) and c [H] per layer", () => {
    const dims = { dModel: 4, numHeads: 2, headDim: 2, numLayers: 2, maxSeqLen: 8, causal: true };
    const enc = caropeSpec.trainable!(resolveParams("carope", caropeSpec.params, {}), dims, new Rng(1));
    expect(enc.parameters().map((p) => p.shape)).toEqual([[4, 2], [2], [4, 2], [2]]);
    expect(enc.parameters()[1]!.data[0]).toBe(9999); // softplus(c) = 10000^(2/2) - 1, softplus(z) = z past 30
  });
});
