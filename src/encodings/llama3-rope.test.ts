import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { llama3InverseFrequencies, llama3RopeSpec } from "./llama3-rope.js";
import { applyRopeReference, ropeInverseFrequencies } from "./rope.js";

const llama31 = {
  dim: 128,
  base: 500000,
  factor: 8,
  lowFreqFactor: 1,
  highFreqFactor: 4,
  originalMaxPositionEmbeddings: 8192,
};

describe("llama3InverseFrequencies", () => {
  it("Llama 3.1 defaults: 29 pairs unchanged, 29 divided by 8, 6 blended", () => {
    const scaled = llama3InverseFrequencies(llama31);
    const plain = ropeInverseFrequencies(128, 500000);
    const ratios = Array.from(scaled, (v, i) => v / plain[i]);
    expect(ratios.filter((r) => r === 1)).toHaveLength(29);
    expect(ratios.filter((r) => Math.abs(r - 1 / 8) < 1e-15)).toHaveLength(29);
    const blended = ratios.slice(29, 35);
    for (const r of blended) {
      expect(r).toBeGreaterThan(1 / 8);
      expect(r).toBeLessThan(1);
    }
    // Hand-computed blend for pair 29: g = (L / w - 1) / 3 with w = 2 pi * 500000^(58/128).
    const g = (8192 / ((2 * Math.PI) / plain[29]) - 1) / 3;
    expect(ratios[29]).toBeCloseTo((1 - g) / 8 + g, 14);
  });

  it("keeps high frequencies and divides low ones by the factor (property)", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 64 }),
        fc.double({ min: 100, max: 1e6, noNaN: true }),
        fc.double({ min: 1, max: 32, noNaN: true }),
        fc.integer({ min: 16, max: 100000 }),
        (half, base, factor, originalMaxPositionEmbeddings) => {
          const options = {
            dim: 2 * half,
            base,
            factor,
            lowFreqFactor: 1,
            highFreqFactor: 4,
            originalMaxPositionEmbeddings,
          };
          const scaled = llama3InverseFrequencies(options);
          const plain = ropeInverseFrequencies(2 * half, base);
          for (let i = 0; i < half; i++) {
            const wavelen = (2 * Math.PI) / plain[i];
            if (wavelen < originalMaxPositionEmbeddings / 4) expect(scaled[i]).toBe(plain[i]);
            else if (wavelen > originalMaxPositionEmbeddings)
              expect(scaled[i]).toBeCloseTo(plain[i] / factor, 15);
            else {
              expect(scaled[i]).toBeLessThanOrEqual(plain[i] * (1 + 1e-12));
              expect(scaled[i]).toBeGreaterThanOrEqual((plain[i] / factor) * (1 - 1e-12));
            }
          }
        },
      ),
      { numRuns: 50 },
    );
  });

  it("is continuous at the band edges (g = 0 at L / low, g = 1 at L / high)", () => {
    // Choose L so that pair 1's wavelength is exactly L / high: w_1 = 2 pi * 100^(2/8) = 2 pi sqrt(10).
    const w1 = 2 * Math.PI * 100 ** 0.25;
    const atHigh = llama3InverseFrequencies({
      dim: 8,
      base: 100,
      factor: 4,
      lowFreqFactor: 1,
      highFreqFactor: 4,
      originalMaxPositionEmbeddings: 4 * w1,
    });
    expect(atHigh[1]).toBeCloseTo(ropeInverseFrequencies(8, 100)[1], 14);
    const atLow = llama3InverseFrequencies({
      dim: 8,
      base: 100,
      factor: 4,
      lowFreqFactor: 1,
      highFreqFactor: 4,
      originalMaxPositionEmbeddings: w1,
    });
    expect(atLow[1]).toBeCloseTo(ropeInverseFrequencies(8, 100)[1] / 4, 14);
  });

  it("rejects non-positive band factors, naming the argument", () => {
    expect(() => llama3InverseFrequencies({ ...llama31, lowFreqFactor: 0 })).toThrow(/lowFreqFactor/);
  });
});

describe("llama3RopeSpec", () => {
  it("is a context-extension spec on transformQK with the Llama 3.1 defaults", () => {
    expect(llama3RopeSpec).toMatchObject({
      id: "llama3-rope",
      family: "context-extension",
      slots: ["transformQK"],
    });
    expect(llama3RopeSpec.create().params).toMatchObject({
      headDim: 128,
      base: 500000,
      factor: 8,
      lowFreqFactor: 1,
      highFreqFactor: 4,
      originalMaxPositionEmbeddings: 8192,
    });
  });

  it("create() rotates with the Llama 3.1 frequencies", () => {
    const encoding = llama3RopeSpec.create({ headDim: 16, base: 500, originalMaxPositionEmbeddings: 64 });
    const x = Float32Array.from({ length: 2 * 16 }, (_, i) => Math.cos(7 * i));
    const positions = [1, 250];
    const invFreq = llama3InverseFrequencies({
      dim: 16,
      base: 500,
      factor: 8,
      lowFreqFactor: 1,
      highFreqFactor: 4,
      originalMaxPositionEmbeddings: 64,
    });
    const expected = applyRopeReference(x, positions, invFreq, { numHeads: 1, headDim: 16, layout: "half" });
    encoding.transformQK!(x, positions, 1, 16, "key");
    for (let i = 0; i < x.length; i++) expect(x[i]).toBeCloseTo(expected[i], 5);
  });

  it("create() rejects highFreqFactor <= lowFreqFactor", () => {
    expect(() => llama3RopeSpec.create({ lowFreqFactor: 4, highFreqFactor: 2 })).toThrow(
      "Invalid llama3-rope.highFreqFactor: expected a number > lowFreqFactor = 4, received 2",
    );
  });
});
