import { describe, expect, it } from "vitest";
import { noGrad, tensor, tidy } from "../engine/index.js";
import { gradCheck, randomValues } from "../engine/testing/gradcheck.js";
import { Rng } from "../util/rng.js";
import { pathScores, pathSpec } from "./path.js";
import { resolveParams } from "./types.js";

const [B, H, T, D] = [1, 2, 5, 3];

function unitRows(values: number[]): number[] {
  const out = [...values];
  for (let r = 0; r < out.length / D; r++) {
    const n = Math.hypot(...out.slice(r * D, r * D + D));
    for (let c = 0; c < D; c++) out[r * D + c]! /= n;
  }
  return out;
}

/** The definition, in float64 with explicit matrices: q_i^T H_i ... H_(j+1) k_j / sqrt(D) for j <= i, else 0. */
function bruteForce(q: number[], k: number[], w: number[], beta: number[]): number[] {
  const out = new Array<number>(B * H * T * T).fill(0);
  const row = (a: number[], s: number, t: number) => a.slice((s * T + t) * D, (s * T + t + 1) * D);
  for (let s = 0; s < B * H; s++) {
    for (let i = 0; i < T; i++) {
      for (let j = 0; j <= i; j++) {
        let v = row(k, s, j); // apply H_(j+1) first, H_i last: the product H_i ... H_(j+1) times k_j
        for (let t = j + 1; t <= i; t++) {
          const wt = row(w, s, t);
          const dot = v.reduce((acc, x, c) => acc + x * wt[c]!, 0);
          v = v.map((x, c) => x - beta[s * T + t]! * dot * wt[c]!);
        }
        out[(s * T + i) * T + j] = row(q, s, i).reduce((acc, x, c) => acc + x * v[c]!, 0) / Math.sqrt(D);
      }
    }
  }
  return out;
}

describe("PaTH", () => {
  const q = randomValues(1, B * H * T * D);
  const k = randomValues(2, B * H * T * D);
  const w = unitRows(randomValues(3, B * H * T * D));
  const beta = randomValues(4, B * H * T).map((v) => 2 / (1 + Math.exp(-v)));

  it("equals the definition q_i^T H_i ... H_(j+1) k_j / sqrt(d) (brute force, float64 reference)", () => {
    const got = tidy(() =>
      noGrad(() =>
        pathScores(
          tensor(q, [B, H, T, D]),
          tensor(k, [B, H, T, D]),
          tensor(w, [B, H, T, D]),
          tensor(beta, [B, H, T, 1]),
        ).toArray(),
      ),
    );
    const expected = bruteForce(q, k, w, beta);
    for (let i = 0; i < expected.length; i++) expect(got[i]).toBeCloseTo(expected[i]!, 5);
  });

  it("is NoPE's q.k / sqrt(d) when every beta is 0, and a true reflection keeps norms when beta = 2", () => {
    const zero = tidy(() =>
      noGrad(() =>
        pathScores(
          tensor(q, [B, H, T, D]),
          tensor(k, [B, H, T, D]),
          tensor(w, [B, H, T, D]),
          tensor(new Array(B * H * T).fill(0), [B, H, T, 1]),
        ).toArray(),
      ),
    );
    for (let i = 0; i < T; i++)
      for (let j = 0; j <= i; j++) {
        const dot = [0, 1, 2].reduce((a, c) => a + q[i * D + c]! * k[j * D + c]!, 0);
        expect(zero[i * T + j]).toBeCloseTo(dot / Math.sqrt(D), 5);
      }
    // beta = 2: H is orthogonal, so |logit_ij| <= |q_i| |k_j| / sqrt(d).
    const reflected = bruteForce(q, k, w, new Array(B * H * T).fill(2));
    for (let i = 0; i < T; i++)
      for (let j = 0; j <= i; j++) {
        const nq = Math.hypot(...q.slice(i * D, i * D + D));
        const nk = Math.hypot(...k.slice(j * D, j * D + D));
        expect(Math.abs(reflected[i * T + j]!)).toBeLessThanOrEqual((nq * nk) / Math.sqrt(D) + 1e-12);
      }
  });

  it("has exact gradients for q, k, w and beta (float64 finite differences)", () => {
    const result = gradCheck(
      ([a, b, c, d]) => pathScores(a!, b!, c!, d!),
      [
        { shape: [B, H, T, D], values: q },
        { shape: [B, H, T, D], values: k },
        { shape: [B, H, T, D], values: w },
        { shape: [B, H, T, 1], values: beta },
      ],
    );
    expect(result.worstRatio, result.worst).toBeLessThanOrEqual(1);
  });

  it("owns W_w, W_beta, b per layer and refuses an encoder", () => {
    const dims = { dModel: 4, numHeads: 2, headDim: 2, numLayers: 2, maxSeqLen: 8, causal: true };
    const params = resolveParams("path", pathSpec.params, {});
    const enc = pathSpec.trainable!(params, dims, new Rng(1));
    expect(enc.parameters().map((p) => p.shape)).toEqual([[4, 4], [4, 2], [2], [4, 4], [4, 2], [2]]);
    expect(() =>
      pathSpec.trainable!(params, { ...dims, causal: false }, new Rng(1), "model.encoding.params"),
    ).toThrow(/Invalid model\.encoding\.id: expected an encoding for a causal decoder/);
  });
});
