import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { applyRopeReference, ropeInverseFrequencies } from "./rope.js";
import {
  yarnAttentionFactor,
  yarnCorrectionDim,
  yarnCorrectionRange,
  yarnGetMscale,
  yarnInverseFrequencies,
  yarnSpec,
} from "./yarn.js";

// biome-ignore lint/suspicious/noApproximativeNumericConstant: the literal of DeepSeek's configs, not sqrt(1/2).
const DEEPSEEK_MSCALE = 0.707;

describe("yarnGetMscale / yarnAttentionFactor", () => {
  it("is 0.1 m ln s + 1, and 1 for s <= 1", () => {
    expect(yarnGetMscale(4)).toBeCloseTo(1.138629436111989, 15);
    expect(yarnGetMscale(16)).toBeCloseTo(1.2772588722239782, 15);
    expect(yarnGetMscale(40, DEEPSEEK_MSCALE)).toBeCloseTo(0.1 * DEEPSEEK_MSCALE * Math.log(40) + 1, 15);
    expect(yarnGetMscale(1)).toBe(1);
    expect(yarnGetMscale(0.5, 3)).toBe(1);
  });

  it("prefers an explicit attention factor, then the mscale / mscale_all_dim ratio, then get_mscale(s)", () => {
    expect(yarnAttentionFactor({ factor: 4, attentionFactor: 1.25, mscale: 1, mscaleAllDim: 1 })).toBe(1.25);
    // DeepSeek-V3: mscale = mscale_all_dim -> exactly 1.
    expect(yarnAttentionFactor({ factor: 40, mscale: 1, mscaleAllDim: 1 })).toBe(1);
    expect(yarnAttentionFactor({ factor: 40, mscale: DEEPSEEK_MSCALE, mscaleAllDim: 1 })).toBeCloseTo(
      0.9210423553163399,
      15,
    );
    // HF tests `mscale and mscale_all_dim`: a missing or zero one falls back to get_mscale(s).
    expect(yarnAttentionFactor({ factor: 4, mscale: DEEPSEEK_MSCALE })).toBe(yarnGetMscale(4));
    expect(yarnAttentionFactor({ factor: 4, mscale: 0, mscaleAllDim: 1 })).toBe(yarnGetMscale(4));
    expect(yarnAttentionFactor({ factor: 4, attentionFactor: null })).toBe(yarnGetMscale(4));
  });
});

describe("yarnCorrectionRange", () => {
  it("matches hand-computed ranges", () => {
    // d = 32, base 1e4, L = 64: c(32) = -1.99 -> floor -2 -> 0; c(1) = 4.03 -> ceil 5.
    expect(yarnCorrectionDim(1, 32, 10000, 64)).toBeCloseTo(4.0320004225030885, 12);
    expect(yarnCorrectionRange({ dim: 32, base: 10000, originalMaxPositionEmbeddings: 64 })).toEqual([0, 5]);
    expect(yarnCorrectionRange({ dim: 128, base: 10000, originalMaxPositionEmbeddings: 4096 })).toEqual([
      20, 46,
    ]);
    const [low, high] = yarnCorrectionRange({
      dim: 128,
      base: 10000,
      originalMaxPositionEmbeddings: 4096,
      truncate: false,
    });
    expect(low).toBeCloseTo(20.94448162063605, 12);
    expect(high).toBeCloseTo(45.02688127375455, 12);
  });

  it("clamps low at 0 and high at d - 1, and only those sides (as HF)", () => {
    const options = { dim: 8, base: 2, originalMaxPositionEmbeddings: 1e6, betaFast: 1e-3 };
    const [low, high] = yarnCorrectionRange(options);
    expect(low).toBe(Math.floor(yarnCorrectionDim(1e-3, 8, 2, 1e6))); // 108: beyond d - 1, kept as is
    expect(high).toBe(7);
  });
});

describe("yarnInverseFrequencies", () => {
  it("matches hand-computed ratios theta'_i / theta_i: d = 32, base 1e4, L = 64, s = 4", () => {
    const scaled = yarnInverseFrequencies({
      dim: 32,
      base: 10000,
      factor: 4,
      originalMaxPositionEmbeddings: 64,
    });
    const plain = ropeInverseFrequencies(32, 10000);
    const ratios = Array.from(scaled, (v, i) => v / plain[i]);
    const expected = [1, 0.85, 0.7, 0.55, 0.4, ...new Array(11).fill(0.25)];
    for (let i = 0; i < 16; i++) expect(ratios[i]).toBeCloseTo(expected[i], 12);
  });

  it("keeps high frequencies and divides low ones by s", () => {
    const options = { dim: 128, base: 10000, factor: 16, originalMaxPositionEmbeddings: 4096 };
    const scaled = yarnInverseFrequencies(options);
    const plain = ropeInverseFrequencies(128, 10000);
    for (let i = 0; i <= 20; i++) expect(scaled[i]).toBeCloseTo(plain[i], 15);
    for (let i = 46; i < 64; i++) expect(scaled[i] / plain[i]).toBeCloseTo(1 / 16, 12);
  });

  it("turns the ramp into a step when low = high (HF adds 0.001 to high)", () => {
    const options = {
      dim: 16,
      base: 500,
      factor: 4,
      originalMaxPositionEmbeddings: 128,
      betaFast: 5,
      betaSlow: 5,
      truncate: false,
    };
    const edge = yarnCorrectionDim(5, 16, 500, 128); // 1.808...: pairs 0, 1 kept, 2.. divided by 4
    expect(edge).toBeCloseTo(1.808275293089275, 12);
    const scaled = yarnInverseFrequencies(options);
    const plain = ropeInverseFrequencies(16, 500);
    for (let i = 0; i < 8; i++) expect(scaled[i] / plain[i]).toBeCloseTo(i <= 1 ? 1 : 0.25, 12);
  });

  it("equals plain RoPE for factor 1 (property)", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 64 }),
        fc.double({ min: 2, max: 1e6, noNaN: true }),
        fc.integer({ min: 16, max: 100000 }),
        fc.boolean(),
        (half, base, originalMaxPositionEmbeddings, truncate) => {
          const dim = 2 * half;
          const yarn = yarnInverseFrequencies({
            dim,
            base,
            factor: 1,
            originalMaxPositionEmbeddings,
            truncate,
          });
          const plain = ropeInverseFrequencies(dim, base);
          for (let i = 0; i < half; i++) expect(yarn[i]).toBeCloseTo(plain[i], 14);
        },
      ),
      { numRuns: 50 },
    );
    expect(yarnAttentionFactor({ factor: 1 })).toBe(1);
  });

  it("stays between theta_i / s and theta_i (property)", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 64 }),
        fc.double({ min: 1, max: 64, noNaN: true }),
        (half, factor) => {
          const yarn = yarnInverseFrequencies({
            dim: 2 * half,
            base: 500,
            factor,
            originalMaxPositionEmbeddings: 256,
          });
          const plain = ropeInverseFrequencies(2 * half, 500);
          for (let i = 0; i < half; i++) {
            expect(yarn[i]).toBeLessThanOrEqual(plain[i] * (1 + 1e-12));
            expect(yarn[i]).toBeGreaterThanOrEqual((plain[i] / factor) * (1 - 1e-12));
          }
        },
      ),
      { numRuns: 50 },
    );
  });

  it("rejects base <= 1 (ln base divides) and non-positive betas, naming the argument", () => {
    expect(() =>
      yarnInverseFrequencies({ dim: 8, base: 1, factor: 2, originalMaxPositionEmbeddings: 64 }),
    ).toThrow(/base/);
    expect(() =>
      yarnInverseFrequencies({
        dim: 8,
        base: 100,
        factor: 2,
        originalMaxPositionEmbeddings: 64,
        betaSlow: 0,
      }),
    ).toThrow(/betaSlow/);
  });
});

describe("yarnSpec", () => {
  it("is a context-extension spec on transformQK", () => {
    expect(yarnSpec).toMatchObject({ id: "yarn", family: "context-extension", slots: ["transformQK"] });
  });

  it("create() rotates with the YaRN frequencies and scales cos and sin by the attention factor", () => {
    const params = { headDim: 16, base: 500, factor: 8, originalMaxPositionEmbeddings: 128 };
    const encoding = yarnSpec.create(params);
    expect(encoding.params).toMatchObject({ ...params, betaFast: 32, betaSlow: 1, truncate: true });
    const x = Float32Array.from({ length: 2 * 16 }, (_, i) => Math.sin(3 * i));
    const positions = [5, 900];
    const invFreq = yarnInverseFrequencies({
      dim: 16,
      base: 500,
      factor: 8,
      originalMaxPositionEmbeddings: 128,
    });
    const expected = applyRopeReference(x, positions, invFreq, {
      numHeads: 1,
      headDim: 16,
      layout: "half",
      attentionFactor: 0.1 * Math.log(8) + 1,
    });
    encoding.transformQK!(x, positions, 1, 16, "query");
    for (let i = 0; i < x.length; i++) expect(x[i]).toBeCloseTo(expected[i], 5);
  });

  it("create() uses an explicit attentionFactor and the mscale ratio", () => {
    const x = () => Float32Array.from({ length: 16 }, () => 1);
    const norm = (params: Record<string, unknown>) => {
      const v = x();
      yarnSpec.create({ headDim: 16, ...params }).transformQK!(v, [0], 1, 16, "key");
      return v[0]; // at position 0 the rotation is the identity: only the factor remains
    };
    expect(norm({ attentionFactor: 1.25 })).toBeCloseTo(1.25, 6);
    expect(norm({ factor: 40, mscale: 1, mscaleAllDim: 1 })).toBeCloseTo(1, 6);
  });
});
