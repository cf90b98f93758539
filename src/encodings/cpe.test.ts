import { describe, expect, it } from "vitest";
import { tensor, tidy } from "../engine/index.js";
import { gradCheck, randomInput, randomValues } from "../engine/testing/gradcheck.js";
import { Rng } from "../util/rng.js";
import { PosencConfigError } from "../util/validation.js";
import { conditionalPositionEncoding, cpeSpec, pegTensor } from "./cpe.js";

const DIMS = { dModel: 3, numHeads: 1, headDim: 3, numLayers: 2, maxSeqLen: 16, causal: false };

/** Row-major ids of an H x W grid: token t at (t // W, t % W). */
function gridIds(H: number, W: number): Float64Array {
  return Float64Array.from({ length: 2 * H * W }, (_, i) =>
    i % 2 === 0 ? Math.floor(i / 2 / W) : (i / 2 - 0.5) % W,
  );
}

describe("cpe (CPVT's PEG)", () => {
  it("adds the 3 x 3 neighbourhood sum with zero padding (unit kernel, no bias: PyTorch Conv2d(1, 1, 3, padding=1, groups=1))", () => {
    const x = Array.from({ length: 9 }, (_, i) => i + 1);
    const out = conditionalPositionEncoding(x, gridIds(3, 3), new Array(9).fill(1), [0], 3);
    // conv = [12, 21, 16, 27, 45, 33, 24, 39, 28] (corners see 4 cells, edges 6), plus x itself.
    expect(Array.from(out)).toEqual([13, 23, 19, 31, 50, 39, 31, 47, 37]);
  });

  it("lays tokens out by their ids, not their order: a permuted sequence gives the permuted result", () => {
    const D = 2;
    const x = randomValues(1, 6 * D);
    const w = randomValues(2, 9 * D);
    const b = randomValues(3, D);
    const ids = gridIds(2, 3);
    const base = conditionalPositionEncoding(x, ids, w, b, 3);
    const perm = [4, 0, 5, 2, 1, 3];
    const px = perm.flatMap((t) => x.slice(t * D, t * D + D));
    const pids = perm.flatMap((t) => [ids[2 * t]!, ids[2 * t + 1]!]);
    const out = conditionalPositionEncoding(px, pids, w, b, 3);
    perm.forEach((t, i) => {
      for (let d = 0; d < D; d++) expect(out[i * D + d]).toBeCloseTo(base[t * D + d]!, 12);
    });
  });

  it("the trainable hook equals the framework-free PEG per example (grids of different sizes in one batch)", () => {
    const cpe = cpeSpec.trainable!(cpeSpec.create({}).params as never, DIMS, new Rng(4));
    const [weight, bias] = cpe.parameters();
    // Example 0: a 2 x 3 grid; example 1: 6 tokens on a 3 x 2 grid (the batch grid is 3 x 3).
    const ids = Float64Array.from([...gridIds(2, 3), ...gridIds(3, 2)]);
    const x = randomValues(5, 2 * 6 * 3);
    const got = tidy(() => cpe.layerInput!(tensor(x, [2, 6, 3]), ids, 1).toArray());
    for (let b = 0; b < 2; b++) {
      const want = conditionalPositionEncoding(
        x.slice(b * 18, b * 18 + 18),
        ids.subarray(b * 12, b * 12 + 12),
        weight!.toArray(),
        bias!.toArray(),
        3,
      );
      want.forEach((v, n) => {
        expect(got[b * 18 + n]).toBeCloseTo(v, 5);
      });
    }
    // Other layers pass x through untouched.
    const x0 = tensor(x, [2, 6, 3]);
    expect(cpe.layerInput!(x0, ids, 0)).toBe(x0);
  });

  it("has exact gradients for x, the kernel and the bias (float64 finite differences)", () => {
    const ids = Float64Array.from([...gridIds(2, 3), 1, 1, 0, 0, 2, 2, 0, 2, 2, 0, 1, 0]);
    const result = gradCheck(
      ([x, w, b]) => pegTensor(x!, w!, b!, ids),
      [randomInput([2, 6, 3], 6), randomInput([3, 3, 3], 7), randomInput([3], 8)],
    );
    expect(result.worstRatio, result.worst).toBeLessThanOrEqual(1);
  });

  it("rejects an even kernel, a layer past the model and tokens sharing a cell, in one line each", () => {
    expect(() => cpeSpec.create({ kernelSize: 2 })).toThrow(/cpe\.kernelSize.*odd/);
    const p = cpeSpec.create({ layer: 2 }).params as never;
    expect(() => cpeSpec.trainable!(p, DIMS, new Rng(1))).toThrow(PosencConfigError);
    expect(() => cpeSpec.trainable!(p, DIMS, new Rng(1))).toThrow(/cpe\.layer.*0\.\.1/);
    expect(() => conditionalPositionEncoding([1, 2], [0, 0, 0, 0], [1], [0], 1)).toThrow(
      /both sit at \(0, 0\)/,
    );
    expect(() => conditionalPositionEncoding([1], [0.5, 0], [1], [0], 1)).toThrow(/integer \(row, column\)/);
  });
});
