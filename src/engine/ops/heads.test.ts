/**
 * The fused layout ops of the attention block (splitHeads, mergeHeads, linear) against their compositions of
 * primitive ops, in float64, over random shapes: values and gradients must agree.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { tensor } from "../tensor.js";
import { compareFunctions, gradCheck, randomInput } from "../testing/gradcheck.js";
import { add } from "./elementwise.js";
import { mergeHeads, splitHeads } from "./heads.js";
import { linear } from "./linear.js";
import { matmul } from "./matmul.js";
import { concat, permute, reshape, slice } from "./movement.js";

const input = randomInput;

function expectAgree(result: { outputDiff: number; gradDiff: number }): void {
  expect(result.outputDiff).toBeLessThan(1e-12);
  expect(result.gradDiff).toBeLessThan(1e-12);
}

const dims = fc.record({
  B: fc.integer({ min: 1, max: 3 }),
  T: fc.integer({ min: 1, max: 4 }),
  H: fc.integer({ min: 1, max: 3 }),
  Dh: fc.integer({ min: 1, max: 4 }),
  parts: fc.integer({ min: 1, max: 3 }),
  seed: fc.nat(),
});

describe("splitHeads and mergeHeads", () => {
  it("splitHeads = slice + reshape + permute per part, in values and gradients", () => {
    fc.assert(
      fc.property(dims, ({ B, T, H, Dh, parts, seed }) => {
        const C = H * Dh;
        expectAgree(
          compareFunctions(
            ([x]) => concat(splitHeads(x, parts, H), 0),
            ([x]) =>
              concat(
                Array.from({ length: parts }, (_, p) =>
                  permute(reshape(slice(x, -1, p * C, (p + 1) * C), [B, T, H, Dh]), [0, 2, 1, 3]),
                ),
                0,
              ),
            [input([B, T, parts * C], seed)],
          ),
        );
      }),
      { numRuns: 40 },
    );
  });

  it("mergeHeads = permute + reshape, and undoes a one-part split", () => {
    fc.assert(
      fc.property(dims, ({ B, T, H, Dh, seed }) => {
        expectAgree(
          compareFunctions(
            ([y]) => mergeHeads(y),
            ([y]) => reshape(permute(y, [0, 2, 1, 3]), [B, T, H * Dh]),
            [input([B, H, T, Dh], seed)],
          ),
        );
        expectAgree(
          compareFunctions(
            ([x]) => mergeHeads(splitHeads(x, 1, H)[0]),
            ([x]) => x,
            [input([B, T, H * Dh], seed)],
          ),
        );
      }),
      { numRuns: 40 },
    );
  });

  it("places head h of part p at columns (p H + h) Dh.. of each row (hand-built case)", () => {
    // B = 1, T = 2, H = 2, Dh = 1, parts = 2: row t holds [q_h0, q_h1, k_h0, k_h1] = 10 t + column.
    const x = tensor([0, 1, 2, 3, 10, 11, 12, 13], [1, 2, 4]);
    const [q, k] = splitHeads(x, 2, 2);
    expect(q.shape).toEqual([1, 2, 2, 1]);
    expect(q.toArray()).toEqual([0, 10, 1, 11]); // (h0: t0, t1), (h1: t0, t1)
    expect(k.toArray()).toEqual([2, 12, 3, 13]);
    expect(mergeHeads(k).toArray()).toEqual([2, 3, 12, 13]);
  });

  it("rejects shapes that do not split, naming the shapes", () => {
    const x = tensor(new Array(12).fill(0), [1, 2, 6]);
    expect(() => splitHeads(x, 4, 1)).toThrow(
      /splitHeads: x must be \(B, T, parts \* heads \* Dh\).*\[1, 2, 6\]/,
    );
    expect(() => mergeHeads(x)).toThrow(/mergeHeads: y must be \(B, H, T, Dh\), got \[1, 2, 6\]/);
  });
});

describe("linear", () => {
  it("= matmul + bias (and = matmul without one), in values and gradients, with a passing gradcheck", () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 1, max: 3 }), { minLength: 1, maxLength: 3 }),
        fc.integer({ min: 1, max: 5 }),
        fc.integer({ min: 1, max: 5 }),
        fc.nat(),
        (lead, K, N, seed) => {
          const x = input([...lead, K], seed);
          const w = input([K, N], seed + 1);
          const b = input([N], seed + 2);
          const asMatrix = lead.length === 1; // matmul needs rank >= 2: give a vector input a leading 1
          const mm = (xs: ReturnType<typeof tensor>, ws: ReturnType<typeof tensor>) =>
            asMatrix ? reshape(matmul(reshape(xs, [1, ...xs.shape]), ws), [...lead, N]) : matmul(xs, ws);
          expectAgree(
            compareFunctions(
              ([xs, ws, bs]) => linear(xs, ws, bs),
              ([xs, ws, bs]) => add(mm(xs, ws), bs),
              [x, w, b],
            ),
          );
          expectAgree(
            compareFunctions(
              ([xs, ws]) => linear(xs, ws),
              ([xs, ws]) => mm(xs, ws),
              [x, w],
            ),
          );
          expect(gradCheck(([xs, ws, bs]) => linear(xs, ws, bs), [x, w, b]).worstRatio).toBeLessThan(1);
        },
      ),
      { numRuns: 30 },
    );
  });

  it("rejects mismatched shapes, naming them", () => {
    const x = tensor([1, 2, 3, 4, 5, 6], [2, 3]);
    const w = tensor([1, 2, 3, 4], [2, 2]);
    expect(() => linear(x, w)).toThrow("linear: expected x (..., K), weight (K, N): x [2, 3], weight [2, 2]");
    const w3 = tensor(new Array(6).fill(1), [3, 2]);
    expect(() => linear(x, w3, tensor([1, 2, 3]))).toThrow("linear: bias must have shape [2]");
  });
});
