/**
 * Fused ops against compositions of primitive ops (both in float64; values and gradients must agree).
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { type Tensor, tensor } from "../tensor.js";
import { compareFunctions, randomInput, randomValues } from "../testing/gradcheck.js";
import { attention } from "./attention.js";
import { add, div, exp, log, mul, neg, sqrt, sub, where } from "./elementwise.js";
import { matmul } from "./matmul.js";
import { reshape } from "./movement.js";
import { crossEntropy, layerNorm, logSoftmax, rmsNorm, rotatePairs, softmax } from "./nn.js";
import { max, mean, sum } from "./reduce.js";

const input = randomInput;

function expectAgree(result: { outputDiff: number; gradDiff: number }): void {
  expect(result.outputDiff).toBeLessThan(1e-10);
  expect(result.gradDiff).toBeLessThan(1e-10);
}

const composedSoftmax = (x: Tensor): Tensor => {
  const e = exp(sub(x, max(x, -1, true)));
  return div(e, sum(e, -1, true));
};

describe("fused ops equal their compositions", () => {
  it("softmax = exp(x - max) / sum; logSoftmax = x - max - log(sum(exp(x - max)))", () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 1, max: 5 }), { minLength: 1, maxLength: 3 }),
        fc.nat(),
        (shape, seed) => {
          expectAgree(
            compareFunctions(
              ([x]) => softmax(x),
              ([x]) => composedSoftmax(x),
              [input(shape, seed)],
            ),
          );
          expectAgree(
            compareFunctions(
              ([x]) => logSoftmax(x),
              ([x]) => {
                const shifted = sub(x, max(x, -1, true));
                return sub(shifted, log(sum(exp(shifted), -1, true)));
              },
              [input(shape, seed)],
            ),
          );
        },
      ),
      { numRuns: 15 },
    );
  });

  it("crossEntropy = mean over unmasked rows of -logSoftmax at the target", () => {
    const N = 6;
    const V = 5;
    const targets = Int32Array.from([3, -1, 0, 4, -1, 1]);
    const onehot = new Array<number>(N * V).fill(0);
    const keep = new Array<number>(N).fill(0);
    targets.forEach((t, r) => {
      if (t >= 0) {
        onehot[r * V + t] = 1;
        keep[r] = 1;
      }
    });
    const count = keep.reduce((a, b) => a + b, 0);
    expectAgree(
      compareFunctions(
        ([x]) => crossEntropy(x, targets),
        ([x]) => div(neg(sum(mul(logSoftmax(x), tensor(onehot, [N, V])))), count),
        [input([N, V], 4)],
      ),
    );
  });

  it("layerNorm and rmsNorm equal their formulas", () => {
    const eps = 1e-5;
    const shape = [3, 4, 6];
    expectAgree(
      compareFunctions(
        ([x, w, b]) => layerNorm(x, w, b, eps),
        ([x, w, b]) => {
          const centered = sub(x, mean(x, -1, true));
          const variance = mean(mul(centered, centered), -1, true);
          return add(mul(div(centered, sqrt(add(variance, eps))), w), b);
        },
        [input(shape, 1), input([6], 2), input([6], 3)],
      ),
    );
    expectAgree(
      compareFunctions(
        ([x, w]) => rmsNorm(x, w, eps),
        ([x, w]) => mul(div(x, sqrt(add(mean(mul(x, x), -1, true), eps))), w),
        [input(shape, 1), input([6], 2)],
      ),
    );
  });

  it("rotatePairs equals the rotation written with slices of x", () => {
    // half layout, D = 4, P = 2: out = [x1 c - x2 s, x1 s + x2 c] with x1 = x[..., :2], x2 = x[..., 2:].
    const T = 3;
    const angles = randomValues(8, T * 2);
    const c = tensor(angles.map(Math.cos), [T, 2]);
    const s = tensor(angles.map(Math.sin), [T, 2]);
    const x = tensor(randomValues(9, 2 * T * 4), [2, T, 4]);
    const out = rotatePairs(x, c, s);
    for (let b = 0; b < 2; b++) {
      for (let t = 0; t < T; t++) {
        for (let p = 0; p < 2; p++) {
          const base = (b * T + t) * 4;
          const x1 = x.data[base + p];
          const x2 = x.data[base + p + 2];
          const cp = Math.cos(angles[t * 2 + p]);
          const sp = Math.sin(angles[t * 2 + p]);
          expect(out.data[base + p]).toBeCloseTo(x1 * cp - x2 * sp, 5);
          expect(out.data[base + p + 2]).toBeCloseTo(x1 * sp + x2 * cp, 5);
        }
      }
    }
    for (const t of [c, s, x, out]) t.dispose();
  });

  it("attention = softmax(scale q k^T + bias, masked) v, causal and not, with a per-head bias", () => {
    for (const causal of [false, true]) {
      const [B, H, Tq, Tk, D, Dv] = [2, 2, 3, 5, 4, 3];
      const mask = Array.from({ length: Tq * Tk }, (_, idx) => {
        const i = Math.floor(idx / Tk);
        const j = idx % Tk;
        return !causal || j <= i + Tk - Tq ? 1 : 0;
      });
      const scale = 0.6;
      expectAgree(
        compareFunctions(
          ([q, k, v, bias]) => attention(q, k, v, { causal, bias, scale }),
          ([q, k, v, bias]) => {
            const scores = add(mul(matmul(q, k, { transB: true }), scale), bias);
            const masked = where(tensor(mask, [Tq, Tk]), scores, tensor([Number.NEGATIVE_INFINITY], [1]));
            return matmul(composedSoftmax(masked), v);
          },
          [input([B, H, Tq, D], 1), input([B, H, Tk, D], 2), input([B, H, Tk, Dv], 3), input([H, Tq, Tk], 4)],
        ),
      );
    }
  });

  it("matmul with a shared weight equals the per-row product (the folded-rows path)", () => {
    expectAgree(
      compareFunctions(
        ([x, w]) => matmul(x, w),
        ([x, w]) => reshape(matmul(reshape(x, [6, 4]), w), [2, 3, 5]),
        [input([2, 3, 4], 1), input([4, 5], 2)],
      ),
    );
  });
});
