import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { Rng } from "../util/rng.js";
import { PosencConfigError } from "../util/validation.js";
import { applyRopeReference, ropeInverseFrequencies } from "./rope.js";
import { linearScaledInverseFrequencies, ropeLinearSpec } from "./rope-linear.js";

describe("linearScaledInverseFrequencies", () => {
  it("matches hand-computed values", () => {
    expect(Array.from(linearScaledInverseFrequencies({ dim: 4, base: 10000, factor: 4 }))).toEqual([
      0.25, 0.0025,
    ]);
  });

  it("is the default frequencies divided by the factor (property)", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 64 }),
        fc.double({ min: 2, max: 1e6, noNaN: true }),
        fc.double({ min: 1, max: 64, noNaN: true }),
        (half, base, factor) => {
          const scaled = linearScaledInverseFrequencies({ dim: 2 * half, base, factor });
          const plain = ropeInverseFrequencies(2 * half, base);
          for (let i = 0; i < half; i++) expect(scaled[i]).toBeCloseTo(plain[i] / factor, 14);
        },
      ),
      { numRuns: 50 },
    );
  });

  it("rotating position m with factor s equals plain RoPE at position m / s (Position Interpolation)", () => {
    const x = Float32Array.from({ length: 16 }, (_, i) => Math.sin(i + 1));
    const scaled = applyRopeReference(
      x,
      [1000],
      linearScaledInverseFrequencies({ dim: 16, base: 10000, factor: 8 }),
      {
        numHeads: 1,
        headDim: 16,
        layout: "half",
      },
    );
    const interpolated = applyRopeReference(x, [125], ropeInverseFrequencies(16, 10000), {
      numHeads: 1,
      headDim: 16,
      layout: "half",
    });
    for (let i = 0; i < 16; i++) expect(scaled[i]).toBeCloseTo(interpolated[i], 12);
  });

  it("rejects an invalid dim, base or factor, naming the argument", () => {
    expect(() => linearScaledInverseFrequencies({ dim: 5, base: 10000, factor: 2 })).toThrow(/dim/);
    expect(() => linearScaledInverseFrequencies({ dim: 8, base: 0, factor: 2 })).toThrow(/base/);
    expect(() => linearScaledInverseFrequencies({ dim: 8, base: 10000, factor: 0 })).toThrow(
      PosencConfigError,
    );
  });
});

describe("ropeLinearSpec", () => {
  it("is a context-extension spec on transformQK", () => {
    expect(ropeLinearSpec).toMatchObject({
      id: "rope-linear",
      family: "context-extension",
      slots: ["transformQK"],
    });
  });

  it("create() rotates queries/keys with the scaled frequencies", () => {
    const encoding = ropeLinearSpec.create({ headDim: 8, base: 100, factor: 4, layout: "interleaved" });
    expect(encoding.params).toMatchObject({ headDim: 8, base: 100, factor: 4, partialRotaryFactor: 1 });
    const rng = new Rng(3);
    const x = Float32Array.from({ length: 3 * 2 * 8 }, () => rng.normal());
    const positions = [0, 7, 300];
    const expected = applyRopeReference(
      x,
      positions,
      linearScaledInverseFrequencies({ dim: 8, base: 100, factor: 4 }),
      {
        numHeads: 2,
        headDim: 8,
        layout: "interleaved",
      },
    );
    encoding.transformQK!(x, positions, 2, 8, "query");
    for (let i = 0; i < x.length; i++) expect(x[i]).toBeCloseTo(expected[i], 5);
  });

  it("create() rejects unknown parameters and a bad factor", () => {
    expect(() => ropeLinearSpec.create({ scale: 2 })).toThrow(/rope-linear.scale/);
    expect(() => ropeLinearSpec.create({ factor: -1 })).toThrow(/rope-linear.factor/);
  });
});
