import { describe, expect, it } from "vitest";
import { tensor, tidy } from "../engine/index.js";
import { gradCheck, randomInput, randomValues } from "../engine/testing/gradcheck.js";
import { Rng } from "../util/rng.js";
import { comropeCoefficients, comropeRotate, comropeRotateTensor, comropeSpec } from "./comrope.js";

const DIMS = { dModel: 16, numHeads: 2, headDim: 8, numLayers: 1, maxSeqLen: 64, causal: false };

/** q . k after rotating q at position x and k at y (one head, Dh channels), framework-free. */
function score(
  q: number[],
  k: number[],
  x: [number, number],
  y: [number, number],
  variant: "ap" | "ld",
  p: number[],
  lambda: number[],
  b: number,
) {
  const blocks = q.length / b;
  const rq = Float64Array.from(q);
  const rk = Float64Array.from(k);
  comropeRotate(rq, comropeCoefficients(x, variant, 2, blocks, lambda), p, 1, b);
  comropeRotate(rk, comropeCoefficients(y, variant, 2, blocks, lambda), p, 1, b);
  return rq.reduce((acc, v, i) => acc + v * rk[i]!, 0);
}

describe("comrope", () => {
  it("AP with 2 x 2 blocks and P = [[0, 0], [theta, 0]] is 2-D RoPE: block j turns by theta_j x_(j mod 2)", () => {
    // The official VanillaRoPEAttention's exponent blocks are theta [[0, -1], [1, 0]]: S = P - P^T here.
    const thetas = [0.7, 0.3, 0.11, 0.05];
    const p = thetas.flatMap((th) => [0, 0, th, 0]);
    const x = Float64Array.from(randomValues(1, 8));
    const pos: [number, number] = [3, 5];
    const rotated = Float64Array.from(x);
    comropeRotate(rotated, comropeCoefficients(pos, "ap", 2, 4), p, 1, 2);
    thetas.forEach((th, j) => {
      const angle = th * pos[j % 2]!;
      const [a, b] = [x[2 * j]!, x[2 * j + 1]!];
      expect(rotated[2 * j]).toBeCloseTo(a * Math.cos(angle) - b * Math.sin(angle), 12);
      expect(rotated[2 * j + 1]).toBeCloseTo(a * Math.sin(angle) + b * Math.cos(angle), 12);
    });
  });

  it("satisfies the RoPE equation: scores depend on the offset only (AP and LD, 4 x 4 blocks, fractional shifts)", () => {
    const b = 4;
    const p = randomValues(2, 2 * b * b, 0.4);
    const lambda = randomValues(3, 2 * 2);
    const q = randomValues(4, 8);
    const k = randomValues(5, 8);
    for (const variant of ["ap", "ld"] as const) {
      const base = score(q, k, [1, 2], [4, -1], variant, p, lambda, b);
      const shifted = score(q, k, [1 + 2.5, 2 - 7], [4 + 2.5, -1 - 7], variant, p, lambda, b);
      expect(shifted).toBeCloseTo(base, 10);
      // Rotations keep norms: the transform is orthogonal.
      const rq = Float64Array.from(q);
      comropeRotate(rq, comropeCoefficients([3, 9], variant, 2, 2, lambda), p, 1, b);
      expect(Math.hypot(...rq)).toBeCloseTo(Math.hypot(...q), 10);
    }
  });

  it("the trainable hook rotates q and k as the framework-free form, per example (LD, 2 heads)", () => {
    const enc = comropeSpec.trainable!(
      comropeSpec.create({ variant: "ld", blockSize: 4 }).params as never,
      DIMS,
      new Rng(6),
    );
    const [pParam, lambdaParam] = enc.parameters();
    const ids = Float64Array.from([0, 0, 0, 1, 2, 3, 5, 5, 1.5, 0, 7, 2]); // [2, 3, 2]
    const qData = randomValues(7, 2 * 2 * 3 * 8);
    const q = tensor(qData, [2, 2, 3, 8]);
    const out = tidy(() => enc.contentAttention!({ x: q, q, k: q, positionIds: ids, layer: 0 }).q!.toArray());
    for (let bIdx = 0; bIdx < 2; bIdx++) {
      // [H, T, Dh] -> [T, H, Dh] for the framework-free form.
      const x = new Float64Array(3 * 2 * 8);
      for (let h = 0; h < 2; h++)
        for (let t = 0; t < 3; t++)
          for (let d = 0; d < 8; d++) x[(t * 2 + h) * 8 + d] = qData[((bIdx * 2 + h) * 3 + t) * 8 + d]!;
      const row = ids.subarray(bIdx * 6, bIdx * 6 + 6);
      comropeRotate(x, comropeCoefficients(row, "ld", 2, 2, lambdaParam!.toArray()), pParam!.toArray(), 2, 4);
      for (let h = 0; h < 2; h++)
        for (let t = 0; t < 3; t++)
          for (let d = 0; d < 8; d++) {
            expect(out[((bIdx * 2 + h) * 3 + t) * 8 + d]).toBeCloseTo(x[(t * 2 + h) * 8 + d]!, 5);
          }
    }
  });

  it("has exact gradients for q, the block coefficients (LD's lambda path) and P (float64 finite differences)", () => {
    const result = gradCheck(
      ([x, coefficients, p]) => comropeRotateTensor(x!, coefficients!, p!),
      [randomInput([2, 2, 3, 8], 1), randomInput([2, 3, 2], 2), randomInput([2, 2, 4, 4], 3, (v) => 0.5 * v)],
    );
    expect(result.worstRatio, result.worst).toBeLessThanOrEqual(1);
  });

  it("rejects a block size that does not divide the head size, or leaves an axis without a block", () => {
    const make = (params: Record<string, unknown>) => () =>
      comropeSpec.trainable!(comropeSpec.create(params).params as never, DIMS, new Rng(1));
    expect(make({ blockSize: 3 })).toThrow(/comrope\.blockSize.*divisor of the head size 8/);
    expect(make({ blockSize: 8 })).toThrow(/comrope\.blockSize.*every axis needs a block/);
    expect(make({ blockSize: 8, axes: 1 })).not.toThrow();
  });
});
