import { describe, expect, it } from "vitest";
import { noGrad, tensor, tidy } from "../engine/index.js";
import { gradCheck, randomValues } from "../engine/testing/gradcheck.js";
import { Rng } from "../util/rng.js";
import { rotateHalfByAngles } from "./content-rotation.js";
import { ropeInverseFrequencies } from "./rope.js";
import {
  selectiveRopeAngles,
  selectiveRopeAnglesTensor,
  selectiveRopeSpec,
  selectiveRopeTemperature,
} from "./selective-rope.js";
import { resolveParams } from "./types.js";

const [B, T, D, H, Dh, r, K] = [2, 6, 4, 2, 4, 3, 2];
const P = Dh / 2;
const C = H * P;

describe("Selective RoPE", () => {
  it("temperature is the authors' rotary_temperature('rope', 500000, d): RoPE's inverse frequencies at base 500000", () => {
    const tau = selectiveRopeTemperature(500000, 8);
    const inv = ropeInverseFrequencies(8, 500000);
    expect(Array.from(tau)).toEqual(Array.from(inv).map((v) => expect.closeTo(v, 15)));
  });

  it("hand-computed: one head, D = 2, r = 1, P = 1, K = 2 (L2 norm, projection, causal conv, cumsum)", () => {
    // x_0 = (3, 4) -> u = (0.6, 0.8); x_1 = (1, 0) -> u = (1, 0). V = [1, 1]^T, U = [2]: omega = [2.8, 2].
    // conv taps c_0 = 1, c_1 = 0.5: omega' = [2.8, 2 + 1.4] = [2.8, 3.4]; phi = [2.8, 6.2]; tau_0 = 1.
    const angles = selectiveRopeAngles([3, 4, 1, 0], { down: [1, 1], up: [2], conv: [1, 0.5] }, 2, 1, [1]);
    expect(angles[0]).toBeCloseTo(2.8, 5); // the L2 epsilon 1e-6 moves the 6th digit
    expect(angles[1]).toBeCloseTo(6.2, 5);
  });

  const x = randomValues(1, B * T * D);
  const down = randomValues(2, D * r, 0.6);
  const up = randomValues(3, r * C, 0.6);
  const conv = randomValues(4, K * C, 0.6);
  const tau = selectiveRopeTemperature(10, Dh); // a small theta so every pair rotates visibly

  it("the tensor form equals the array form per example", () => {
    const got = tidy(() =>
      noGrad(() =>
        selectiveRopeAnglesTensor(
          tensor(x, [B, T, D]),
          tensor(down, [D, r]),
          tensor(up, [r, C]),
          tensor(conv, [K, C]),
          H,
          tensor(tau, [P]),
        ).toArray(),
      ),
    );
    for (let b = 0; b < B; b++) {
      const ref = selectiveRopeAngles(x.slice(b * T * D, (b + 1) * T * D), { down, up, conv }, T, H, tau);
      for (let n = 0; n < ref.length; n++) expect(got[b * ref.length + n]).toBeCloseTo(ref[n]!, 5);
    }
  });

  it("is causal: angles at t do not depend on tokens after t", () => {
    const changed = x.slice(0, T * D);
    for (let d = 0; d < D; d++) changed[(T - 1) * D + d]! += 1;
    const a = selectiveRopeAngles(x.slice(0, T * D), { down, up, conv }, T, H, tau);
    const b = selectiveRopeAngles(changed, { down, up, conv }, T, H, tau);
    for (let h = 0; h < H; h++)
      for (let t = 0; t < T - 1; t++)
        for (let i = 0; i < P; i++) expect(b[(h * T + t) * P + i]).toBe(a[(h * T + t) * P + i]);
  });

  it("has exact gradients for q, x and every weight (float64 finite differences)", () => {
    const result = gradCheck(
      ([q, xx, v, u, c]) =>
        rotateHalfByAngles(q!, selectiveRopeAnglesTensor(xx!, v!, u!, c!, H, tensor(tau, [P]))),
      [
        { shape: [1, H, T, Dh], values: randomValues(5, H * T * Dh) }, // one example: the check is per element
        { shape: [1, T, D], values: x.slice(0, T * D) },
        { shape: [D, r], values: down },
        { shape: [r, C], values: up },
        { shape: [K, C], values: conv },
      ],
    );
    expect(result.worstRatio, result.worst).toBeLessThanOrEqual(1);
  });

  it("owns V [D, r], U [r, H P] and conv taps [K, H P] per layer", () => {
    const dims = { dModel: 8, numHeads: 2, headDim: 4, numLayers: 2, maxSeqLen: 8, causal: true };
    const params = resolveParams("selective-rope", selectiveRopeSpec.params, {});
    expect(params).toEqual({ rank: 16, convKernel: 4, theta: 500000 });
    const enc = selectiveRopeSpec.trainable!(params, dims, new Rng(1));
    expect(enc.parameters().map((p) => p.shape)).toEqual([
      [8, 16],
      [16, 4],
      [4, 4],
      [8, 16],
      [16, 4],
      [4, 4],
    ]);
  });
});
