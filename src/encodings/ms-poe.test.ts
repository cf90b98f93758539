import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { PosencConfigError } from "../util/validation.js";
import {
  createMsPoeEncoding,
  inversePermutation,
  msPoeHeadOrderFromAttention,
  msPoePositionIds,
  msPoePositionIdsPerHead,
  msPoeScalePositions,
  msPoeScalingRatios,
  msPoeSpec,
} from "./ms-poe.js";

describe("msPoeScalingRatios", () => {
  it("official spacing: r_k = 1.2 + 0.6 k / H, first = alpha, last = beta - (beta - alpha) / H", () => {
    const ratios = msPoeScalingRatios(4);
    [1.2, 1.35, 1.5, 1.65].forEach((r, h) => {
      expect(ratios[h]).toBeCloseTo(r, 14);
    });
    const r32 = msPoeScalingRatios(32);
    expect(r32[0]).toBe(1.2);
    expect(r32[31]).toBeCloseTo(1.78125, 14);
  });

  it("endpoints spacing: the ends equal alpha and beta exactly", () => {
    for (const heads of [2, 3, 5, 7, 32]) {
      const ratios = msPoeScalingRatios(heads, { minRatio: 1.2, maxRatio: 1.8, spacing: "endpoints" });
      expect(ratios[0]).toBe(1.2);
      expect(ratios[heads - 1]).toBe(1.8);
      const odd = msPoeScalingRatios(heads, { minRatio: 1.1, maxRatio: 1.7, spacing: "endpoints" });
      expect([odd[0], odd[heads - 1]]).toEqual([1.1, 1.7]);
      for (let h = 1; h < heads; h++) expect(ratios[h] - ratios[h - 1]).toBeCloseTo(0.6 / (heads - 1), 14);
    }
    expect(Array.from(msPoeScalingRatios(1, { spacing: "endpoints" }))).toEqual([1.2]);
  });

  it("gives rank k's ratio to head headOrder[k]", () => {
    const ratios = msPoeScalingRatios(4, { minRatio: 1, maxRatio: 2, headOrder: [2, 0, 3, 1] });
    // head 2 is most position-aware -> 1; head 0 -> 1.25; head 3 -> 1.5; head 1 -> 1.75
    expect(Array.from(ratios)).toEqual([1.25, 1.75, 1, 1.5]);
  });

  it("reproduces the official gather cos[head_order] when given the inverse permutation", () => {
    fc.assert(
      fc.property(fc.shuffledSubarray([0, 1, 2, 3, 4, 5], { minLength: 6, maxLength: 6 }), (order) => {
        const base = msPoeScalingRatios(6, { minRatio: 1.2, maxRatio: 1.8 });
        const official = order.map((k) => base[k]); // head j gets r_{order[j]}
        const ours = msPoeScalingRatios(6, {
          minRatio: 1.2,
          maxRatio: 1.8,
          headOrder: inversePermutation(order),
        });
        expect(Array.from(ours)).toEqual(official);
      }),
      { numRuns: 50, seed: 5 },
    );
  });

  it("rejects bad arguments, naming them", () => {
    expect(() => msPoeScalingRatios(0)).toThrow(/Invalid numHeads/);
    expect(() => msPoeScalingRatios(4, { minRatio: 0 })).toThrow(/Invalid minRatio/);
    expect(() => msPoeScalingRatios(4, { minRatio: 2, maxRatio: 1.5 })).toThrow(
      "Invalid maxRatio: expected a finite number >= 2, received 1.5",
    );
    expect(() => msPoeScalingRatios(3, { headOrder: [0, 0, 1] })).toThrow(
      /Invalid headOrder: expected a permutation of the head indices 0 .. 2/,
    );
    expect(() => msPoeScalingRatios(3, { headOrder: [0, 1] })).toThrow(PosencConfigError);
    expect(() => msPoeScalingRatios(3, { spacing: "linear" as "official" })).toThrow(/Invalid spacing/);
  });
});

describe("Ms-PoE position ids", () => {
  it("divides positions by the head's ratio", () => {
    expect(Array.from(msPoePositionIds(4, 2))).toEqual([0, 0.5, 1, 1.5]);
    expect(Array.from(msPoePositionIds(3, 1.25))).toEqual([0, 0.8, 1.6]);
    expect(Array.from(msPoeScalePositions([10, 11], 2))).toEqual([5, 5.5]);
    expect(() => msPoePositionIds(3, 0)).toThrow(/Invalid ratio/);
    expect(() => msPoePositionIds(-1, 1.5)).toThrow(/Invalid length/);
  });

  it("lays per-head ids out row-major [numHeads, length]", () => {
    expect(Array.from(msPoePositionIdsPerHead(3, [1, 2]))).toEqual([0, 1, 2, 0, 0.5, 1]);
  });
});

describe("msPoeHeadOrderFromAttention", () => {
  it("orders heads by the outlier share of the last query row, most outliers first", () => {
    // 3 heads, 2 queries, 4 keys; only the last row of each head matters (mean 0.25, threshold 0.75 at 3x).
    const attention = [
      // head 0: last row flat -> 0 outliers
      1, 0, 0, 0, 0.25, 0.25, 0.25, 0.25,
      // head 1: last row one spike -> 1/4
      0.25, 0.25, 0.25, 0.25, 0.91, 0.03, 0.03, 0.03,
      // head 2: last row one spike too -> 1/4 (tie with head 1: lower index first)
      0.25, 0.25, 0.25, 0.25, 0.03, 0.03, 0.03, 0.91,
    ];
    expect(msPoeHeadOrderFromAttention(attention, 3, 2, 4)).toEqual([1, 2, 0]);
    // With factor 4 (an earlier official version) the 0.91 spikes are below 4 * 0.25 = 1: all tie.
    expect(msPoeHeadOrderFromAttention(attention, 3, 2, 4, { outlierFactor: 4 })).toEqual([0, 1, 2]);
  });

  it("checks the attention shape", () => {
    expect(() => msPoeHeadOrderFromAttention([1, 2, 3], 2, 1, 2)).toThrow(RangeError);
  });
});

describe("msPoeSpec", () => {
  it("declares the registry line", () => {
    expect(msPoeSpec.id).toBe("ms-poe");
    expect(msPoeSpec.family).toBe("position-ids");
    expect(msPoeSpec.slots).toEqual(["positionIds"]);
    expect(msPoeSpec.paper.arxiv).toBe("2403.04797");
  });

  it("returns numHeads * length ids, head h's row at h * length", () => {
    const encoding = createMsPoeEncoding({ numHeads: 2, minRatio: 1, maxRatio: 2, headOrder: [1, 0] });
    expect(Array.from(encoding.ratios)).toEqual([1.5, 1]);
    expect(Array.from(encoding.positionIds(3))).toEqual([0, 1 / 1.5, 2 / 1.5, 0, 1, 2]);
    expect(Array.from(encoding.positionIdsPerHead(3, 2))).toEqual(Array.from(encoding.positionIds(3)));
    expect(() => encoding.positionIdsPerHead(3, 4)).toThrow(/numHeads 4 does not match params.numHeads = 2/);
    const defaults = msPoeSpec.create();
    expect(defaults.params).toEqual({
      numHeads: 32,
      minRatio: 1.2,
      maxRatio: 1.8,
      ratioSpacing: "official",
      headOrder: [],
    });
    expect(defaults.positionIds!(5).length).toBe(160);
  });

  it("names what is wrong", () => {
    expect(() => msPoeSpec.create({ minRatio: 2, maxRatio: 1.5 })).toThrow(
      /ms-poe.maxRatio: expected a number >= ms-poe.minRatio = 2/,
    );
    expect(() => msPoeSpec.create({ numHeads: 2, headOrder: [0, 2] })).toThrow(/Invalid ms-poe.headOrder/);
    expect(() => msPoeSpec.create({ ratioSpacing: "linear" })).toThrow(/Invalid ms-poe.ratioSpacing/);
    expect(() => msPoeSpec.create({ heads: 4 })).toThrow(/Unknown key ms-poe.heads/);
  });
});
