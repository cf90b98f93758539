import { describe, expect, it } from "vitest";
import { tidy } from "../engine/index.js";
import { gradCheck, randomInput } from "../engine/testing/gradcheck.js";
import { Rng } from "../util/rng.js";
import {
  learnableFourier2dSpec,
  learnableFourierEmbedding,
  learnableFourierTensor,
} from "./learnable-fourier.js";

const DIMS = { dModel: 4, numHeads: 2, headDim: 2, numLayers: 1, maxSeqLen: 16, causal: false };

describe("learnable-fourier (transformer form)", () => {
  it("computes Algorithm 1 by hand: cos first, 1/sqrt(F), GeLU (tanh form), then the second layer", () => {
    // F/2 = 1, hidden 1, D = 1; x = (1, 2), W_r = [0.5, 0.25] so the angle is 1.
    const w = { wr: [0.5, 0.25], w1: [1, 2], b1: [0.1], w2: [3], b2: [-1] };
    const a = (Math.cos(1) + 2 * Math.sin(1)) / Math.SQRT2 + 0.1;
    const gelu = 0.5 * a * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (a + 0.044715 * a ** 3)));
    expect(learnableFourierEmbedding([1, 2], w, 1, 1)[0]).toBeCloseTo(3 * gelu - 1, 12);
  });

  it("the trainable embedding equals the framework-free form at each example's (row, column)", () => {
    const enc = learnableFourier2dSpec.trainable!(
      learnableFourier2dSpec.create({ features: 3, hidden: 5 }).params as never,
      DIMS,
      new Rng(2),
    );
    const [wr, w1, b1, w2, b2] = enc.parameters().map((p) => p.toArray());
    const ids = Float64Array.from([0, 0, 0, 1, 2, 3, 7, 1, 1.5, 0.5, 9, 9]); // [2, 3, 2], fractional too
    const got = tidy(() => enc.embedding!(ids, 2, 3).toArray());
    const want = learnableFourierEmbedding(ids, { wr: wr!, w1: w1!, b1: b1!, w2: w2!, b2: b2! }, 3, 5);
    want.forEach((v, n) => {
      expect(got[n]).toBeCloseTo(v, 5);
    });
    // The framework-free spec reads the same weights concatenated.
    const flat = [wr!, w1!, b1!, w2!, b2!].flat();
    const free = learnableFourier2dSpec.create({ features: 3, hidden: 5, weights: flat }).embedding!(ids, 4);
    free.forEach((v, n) => {
      expect(v).toBeCloseTo(want[n]!, 5);
    });
  });

  it("has exact gradients for W_r and the MLP (float64 finite differences)", () => {
    const positions = { shape: [4, 2], values: [0, 0, 1, 2, 3, 1, 2, 2], requiresGrad: false };
    const result = gradCheck(
      ([pos, wr, w1, b1, w2, b2]) =>
        learnableFourierTensor(pos!, { wr: wr!, w1: w1!, b1: b1!, w2: w2!, b2: b2! }),
      [
        positions,
        randomInput([2, 3], 1),
        randomInput([6, 4], 2),
        randomInput([4], 3),
        randomInput([4, 5], 4),
        randomInput([5], 5),
      ],
    );
    expect(result.worstRatio, result.worst).toBeLessThanOrEqual(1);
  });

  it("rejects framework-free weights of the wrong size, naming the count", () => {
    expect(() =>
      learnableFourier2dSpec.create({ features: 1, hidden: 1, weights: [1, 2, 3] }).embedding!([0, 0], 1),
    ).toThrow(/learnable-fourier\.weights.*7 values/);
  });
});
