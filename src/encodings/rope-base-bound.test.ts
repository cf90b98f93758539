import { describe, expect, it } from "vitest";
import { PosencConfigError } from "../util/validation.js";
import { ropeSpec } from "./rope.js";
import {
  DEFAULT_GRID_RATIO,
  ropeBaseBoundSpec,
  ropeBaseLowerBound,
  ropeContextLengthForBase,
  ropeDiscriminativeScore,
  ropeDiscriminativeScores,
} from "./rope-base-bound.js";

/** 2-significant-digit rounding, the precision of both published tables. */
function twoDigits(x: number): number {
  return Number(x.toPrecision(2));
}

/** Exact check of the criterion, straight from the definition (no recurrence, no Taylor polynomial). */
function admissibleByDefinition(contextLength: number, dim: number, base: number): boolean {
  for (let m = 0; m < contextLength; m++) if (ropeDiscriminativeScore(m, dim, base) < 0) return false;
  return true;
}

// d = 128, L = 1024 * k. The paper's Figure 1 (arXiv:2405.14591) and Su's brute-force recomputation at a 1e-5
// step (kexue.fm/archives/10122), which also lists the paper's values.
const PAPER = { 1: 4.3e3, 2: 1.6e4, 4: 2.7e4, 8: 8.4e4, 16: 3.1e5, 32: 6.4e5, 64: 2.1e6, 128: 7.8e6 };
const SU = { 1: 4.3e3, 2: 1.2e4, 4: 2.7e4, 8: 8.4e4, 16: 2.3e5, 32: 6.3e5, 64: 2.1e6, 128: 4.9e6 };

/** ropeBaseLowerBound(1024 * k, 128, { gridRatio }), computed once per test file. */
const boundCache = new Map<string, number>();
function boundForK(k: number, gridRatio = DEFAULT_GRID_RATIO): number {
  const key = `${k}/${gridRatio}`;
  let bound = boundCache.get(key);
  if (bound === undefined) {
    bound = ropeBaseLowerBound(1024 * k, 128, { gridRatio });
    boundCache.set(key, bound);
  }
  return bound;
}

describe("ropeDiscriminativeScore (B_{m,theta})", () => {
  it("B_0 = d/2 and hand values", () => {
    expect(ropeDiscriminativeScore(0, 128, 10000)).toBe(64);
    expect(ropeDiscriminativeScore(0, 16, 500)).toBe(8);
    // d = 4, b = 100: theta = (1, 0.1), so B_m = cos(m) + cos(0.1 m).
    expect(ropeDiscriminativeScore(3, 4, 100)).toBeCloseTo(Math.cos(3) + Math.cos(0.3), 15);
    expect(ropeDiscriminativeScore(-3, 4, 100)).toBe(ropeDiscriminativeScore(3, 4, 100));
  });

  it("ropeDiscriminativeScores equals the direct sum to 1e-8 (recurrence + Taylor blocks)", () => {
    for (const [dim, base, maxDistance] of [
      [128, 10000, 5000],
      [128, 6.5e7, 40000],
      [16, 500, 3000],
      [256, 1e9, 20000],
    ] as const) {
      const scores = ropeDiscriminativeScores(dim, base, maxDistance);
      expect(scores.length).toBe(maxDistance + 1);
      expect(scores[0]).toBeCloseTo(dim / 2, 8);
      for (let m = 0; m <= maxDistance; m += 37) {
        expect(Math.abs(scores[m] - ropeDiscriminativeScore(m, dim, base))).toBeLessThan(1e-8);
      }
    }
  });

  it("rejects odd dims, non-positive bases and negative distances", () => {
    expect(() => ropeDiscriminativeScore(1, 7, 100)).toThrow(PosencConfigError);
    expect(() => ropeDiscriminativeScores(8, 0, 10)).toThrow(/Invalid base/);
    expect(() => ropeDiscriminativeScores(8, 100, -1)).toThrow(/Invalid maxDistance/);
  });
});

describe("ropeContextLengthForBase", () => {
  it("is the first distance with a negative score", () => {
    const dim = 32;
    const base = 1000;
    const length = ropeContextLengthForBase(dim, base, 100000);
    expect(length).toBeGreaterThan(10);
    expect(ropeDiscriminativeScore(length, dim, base)).toBeLessThan(0);
    for (let m = 0; m < length; m++) expect(ropeDiscriminativeScore(m, dim, base)).toBeGreaterThanOrEqual(0);
    // A limit below the first negative distance is returned as is.
    expect(ropeContextLengthForBase(dim, base, 5)).toBe(5);
  });
});

describe("ropeBaseLowerBound", () => {
  it("reproduces the brute-force table (d = 128) to its two digits, 1k .. 128k", () => {
    for (const k of [1, 2, 8, 16, 32, 64, 128] as const) {
      expect(twoDigits(boundForK(k))).toBe(SU[k]);
    }
    // 4k: the lowest island, [26954, 26973], is 0.07% wide: it takes a 0.02% step to land in it.
    expect(twoDigits(boundForK(4))).toBe(2.9e4);
    expect(twoDigits(boundForK(4, 1.0002))).toBe(SU[4]);
  });

  it("matches the paper's Figure 1 where it is tight and never exceeds it", () => {
    // The paper's values came from a coarser search: equal at 1k, 4k, 8k, 64k; elsewhere above ours.
    for (const k of [1, 8, 64] as const) expect(twoDigits(boundForK(k))).toBe(PAPER[k]);
    expect(twoDigits(boundForK(4, 1.0002))).toBe(PAPER[4]);
    for (const k of [2, 16, 32, 128] as const) expect(boundForK(k)).toBeLessThan(PAPER[k] * 1.05);
  });

  it("returns an admissible base, and a base 0.02% below it is not (small d, checked from the definition)", () => {
    // Anchors recomputed with numpy in the research notes: d = 16, L = 64 -> 1.71e3; d = 32, L = 64 -> 316.
    const cases = [
      [16, 64, 1706],
      [16, 128, 2768],
      [32, 64, 314.7],
      [32, 256, 2168],
    ] as const;
    for (const [dim, length, expected] of cases) {
      const bound = ropeBaseLowerBound(length, dim);
      expect(bound).toBeCloseTo(expected, -1);
      expect(admissibleByDefinition(length, dim, bound)).toBe(true);
      expect(admissibleByDefinition(length, dim, bound * (1 - 2e-4))).toBe(false);
    }
  });

  it("is not monotone in the base (islands) but never decreases with the context length", () => {
    // L = 4096, d = 128: 26960 is admissible (an island), 28000 is not, 28700 is.
    expect(ropeContextLengthForBase(128, 26960, 4096)).toBe(4096);
    expect(ropeContextLengthForBase(128, 28000, 4096)).toBeLessThan(4096);
    expect(ropeContextLengthForBase(128, 28700, 4096)).toBe(4096);
    let previous = 0;
    for (let length = 16; length <= 2048; length += 16) {
      const bound = ropeBaseLowerBound(length, 32, { gridRatio: 1.01 });
      expect(bound).toBeGreaterThanOrEqual(previous);
      expect(ropeContextLengthForBase(32, bound, length)).toBe(length);
      previous = bound;
    }
  });

  it("L = 2^20 is feasible and admissible with a coarse grid", () => {
    const length = 1 << 20;
    const bound = ropeBaseLowerBound(length, 128, { gridRatio: 1.02 });
    expect(ropeContextLengthForBase(128, bound, length)).toBe(length);
    expect(bound).toBeGreaterThan(6e7);
    expect(bound).toBeLessThan(5.1e8);
  });

  it("handles the edges: L <= 2 takes the minimum base; d = 2 has no bound beyond L = 2", () => {
    expect(ropeBaseLowerBound(1, 128)).toBe(1);
    expect(ropeBaseLowerBound(2, 2)).toBe(1);
    expect(ropeBaseLowerBound(2, 64, { minBase: 10 })).toBe(10);
    expect(() => ropeBaseLowerBound(3, 2)).toThrow(/Invalid contextLength: expected at most 2 when dim = 2/);
    expect(() => ropeBaseLowerBound(4096, 128, { maxBase: 100 })).toThrow(PosencConfigError);
  });

  it("validates its arguments", () => {
    expect(DEFAULT_GRID_RATIO).toBe(1.002);
    expect(() => ropeBaseLowerBound(0, 128)).toThrow(/Invalid contextLength/);
    expect(() => ropeBaseLowerBound(100.5, 128)).toThrow(/Invalid contextLength/);
    expect(() => ropeBaseLowerBound(100, 9)).toThrow(/Invalid dim/);
    expect(() => ropeBaseLowerBound(100, 8, { gridRatio: 1 })).toThrow(/Invalid options.gridRatio/);
    expect(() => ropeBaseLowerBound(100, 8, { relativeTolerance: 0 })).toThrow(
      /Invalid options.relativeTolerance/,
    );
    expect(() => ropeBaseLowerBound(100, 8, { minBase: 0.5 })).toThrow(/Invalid options.minBase/);
  });
});

describe("ropeBaseBoundSpec", () => {
  it("is registered as rope-base-bound (analysis) and builds RoPE with the computed base", () => {
    expect(ropeBaseBoundSpec.id).toBe("rope-base-bound");
    expect(ropeBaseBoundSpec.family).toBe("analysis");
    const encoding = ropeBaseBoundSpec.create({ headDim: 16, contextLength: 128 });
    const base = encoding.params.base as number;
    expect(base).toBe(ropeBaseLowerBound(128, 16));
    expect(encoding.params).toMatchObject({ headDim: 16, contextLength: 128, layout: "half" });
    const positions = [0, 7, 127];
    const x = new Float32Array(positions.length * 16).map((_, i) => Math.sin(i));
    const a = x.slice();
    const b = x.slice();
    encoding.transformQK?.(a, positions, 1, 16, "query");
    ropeSpec.create({ headDim: 16, base }).transformQK?.(b, positions, 1, 16, "query");
    expect(a).toEqual(b);
  });

  it("validates its params, naming them", () => {
    expect(() => ropeBaseBoundSpec.create({ headDim: 15 })).toThrow(/Invalid rope-base-bound.headDim/);
    expect(() => ropeBaseBoundSpec.create({ contextLength: 0 })).toThrow(
      /Invalid rope-base-bound.contextLength/,
    );
    expect(() => ropeBaseBoundSpec.create({ headDim: 2, contextLength: 10 })).toThrow(
      /Invalid rope-base-bound.contextLength: expected at most 2/,
    );
    expect(() => ropeBaseBoundSpec.create({ base: 10 })).toThrow(/Unknown key rope-base-bound.base/);
  });
});
