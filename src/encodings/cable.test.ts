import { describe, expect, it } from "vitest";
import { noGrad, tensor, tidy } from "../engine/index.js";
import { gradCheck, randomValues } from "../engine/testing/gradcheck.js";
import { Rng } from "../util/rng.js";
import { cableBias, cableBiasTensor, cableSpec } from "./cable.js";
import { resolveParams } from "./types.js";

const [B, T, D, H] = [2, 5, 3, 2];

describe("Cable", () => {
  it("matches the official formula b = cumsum(-softplus(x W + c)), bias = b_i - b_j (hand-computed)", () => {
    // One head, D = 1, W = 1, c = 0, x = [0, ln(e - 1), 0]: softplus = [ln 2, 1, ln 2], b = [-ln2, -ln2 - 1, -2 ln2 - 1].
    const bias = cableBias([0, Math.log(Math.E - 1), 0], [1], [0], 3);
    const ln2 = Math.LN2;
    const expected = [0, 0, 0, -1, 0, 0, -1 - ln2, -ln2, 0]; // upper triangle: b_i - b_j, masked later
    expected[1] = 1;
    expected[2] = 1 + ln2;
    expected[5] = ln2;
    for (let n = 0; n < 9; n++) expect(bias[n]).toBeCloseTo(expected[n]!, 12);
  });

  it("constant content is ALiBi with slope softplus(c); a non-causal model gets the symmetric -|b_i - b_j|", () => {
    const x = new Array(T * D).fill(0);
    const c = [0.3, -1.2];
    const causal = cableBias(x, new Array(D * H).fill(0), c, T);
    const symmetric = cableBias(x, new Array(D * H).fill(0), c, T, false);
    for (let h = 0; h < H; h++) {
      const slope = Math.log1p(Math.exp(c[h]!));
      for (let i = 0; i < T; i++)
        for (let j = 0; j < T; j++) {
          const n = (h * T + i) * T + j;
          if (j <= i) expect(causal[n]).toBeCloseTo(-slope * (i - j), 12);
          expect(symmetric[n]).toBeCloseTo(-slope * Math.abs(i - j), 12);
        }
    }
  });

  const x = randomValues(1, B * T * D);
  const w = randomValues(2, D * H, 0.7);
  const c = randomValues(3, H, 0.5);

  it("the tensor form equals the array form per example, causal and not", () => {
    for (const causal of [true, false]) {
      const got = tidy(() =>
        noGrad(() =>
          cableBiasTensor(tensor(x, [B, T, D]), tensor(w, [D, H]), tensor(c, [H]), causal).toArray(),
        ),
      );
      for (let b = 0; b < B; b++) {
        const ref = cableBias(x.slice(b * T * D, (b + 1) * T * D), w, c, T, causal);
        for (let n = 0; n < ref.length; n++) expect(got[b * ref.length + n]).toBeCloseTo(ref[n]!, 5);
      }
    }
  });

  it("has exact gradients for x, W and c (float64 finite differences)", () => {
    for (const causal of [true, false]) {
      const result = gradCheck(
        ([a, b, d]) => cableBiasTensor(a!, b!, d!, causal),
        [
          { shape: [B, T, D], values: x },
          { shape: [D, H], values: w },
          { shape: [H], values: c },
        ],
      );
      expect(result.worstRatio, result.worst).toBeLessThanOrEqual(1);
    }
  });

  it("owns W [D, H] and c [H] per layer, initialized as the official nanoGPT init (c = 0)", () => {
    const dims = { dModel: 4, numHeads: 2, headDim: 2, numLayers: 2, maxSeqLen: 8, causal: true };
    const enc = cableSpec.trainable!(resolveParams("cable", cableSpec.params, {}), dims, new Rng(1));
    const params = enc.parameters();
    expect(params.map((p) => p.shape)).toEqual([[4, 2], [2], [4, 2], [2]]);
    expect(Array.from(params[1]!.data)).toEqual([0, 0]);
  });
});
