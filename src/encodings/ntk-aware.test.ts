import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { Rng } from "../util/rng.js";
import { PosencConfigError } from "../util/validation.js";
import { ntkAwareBase, ntkAwareInverseFrequencies, ntkAwareSpec } from "./ntk-aware.js";
import { ropeInverseFrequencies, ropeSpec } from "./rope.js";

interface DynamicCase {
  name: string;
  dim: number;
  base: number;
  factor: number;
  seqLen: number;
  originalMaxPositions: number;
  effectiveScale: number;
  invFreq: number[];
}
const fixture = JSON.parse(
  readFileSync(new URL("../../test/fixtures/ntk-aware-hf-dynamic.json", import.meta.url), "utf8"),
) as { cases: DynamicCase[] };

function relativeError(actual: number, expected: number): number {
  return Math.abs(actual - expected) / Math.abs(expected);
}

describe("ntkAwareBase", () => {
  it("is base * s^(d/(d-2)): hand values", () => {
    // d = 32, s = 4: 4^(32/30) = 4.38730..., so base' = 43873.0 (the notes' anchor, recomputed with numpy).
    expect(ntkAwareBase(10000, 4, 32)).toBeCloseTo(43873.0, 1);
    // d = 4: exponent 2, so base' = base * s^2 exactly.
    expect(ntkAwareBase(10000, 3, 4)).toBe(90000);
    // s = 1 leaves the base alone.
    expect(ntkAwareBase(500000, 1, 128)).toBe(500000);
  });

  it("rejects d = 2 (exponent d/(d-2) infinite), odd d, s < 1 and base <= 1", () => {
    expect(() => ntkAwareBase(10000, 2, 2)).toThrow(PosencConfigError);
    expect(() => ntkAwareBase(10000, 2, 7)).toThrow(/Invalid dim: expected an even integer >= 4, received 7/);
    expect(() => ntkAwareBase(10000, 0.5, 64)).toThrow(/Invalid scale: expected a finite number >= 1/);
    expect(() => ntkAwareBase(1, 2, 64)).toThrow(/Invalid base/);
    expect(() => ntkAwareBase(10000, Number.NaN, 64)).toThrow(/received NaN/);
  });
});

describe("ntkAwareInverseFrequencies", () => {
  it("keeps the highest frequency and divides the lowest by exactly s", () => {
    for (const [dim, base, s] of [
      [128, 10000, 8],
      [64, 500000, 4],
      [16, 100, 2.5],
      [4, 10000, 16],
    ] as const) {
      const ntk = ntkAwareInverseFrequencies(dim, base, s);
      const rope = ropeInverseFrequencies(dim, base);
      expect(ntk[0]).toBe(1);
      const last = dim / 2 - 1;
      expect(relativeError(ntk[last], rope[last] / s)).toBeLessThan(1e-13);
    }
  });

  it("divides pair i by s^(2i/(d-2)), interpolating geometrically between the two ends", () => {
    const dim = 32;
    const s = 4;
    const ntk = ntkAwareInverseFrequencies(dim, 10000, s);
    const rope = ropeInverseFrequencies(dim, 10000);
    for (let i = 0; i < dim / 2; i++) {
      expect(relativeError(rope[i] / ntk[i], s ** ((2 * i) / (dim - 2)))).toBeLessThan(1e-12);
    }
  });

  it("matches Hugging Face dynamic NTK past the original length (static NTK at the effective scale)", () => {
    expect(fixture.cases.length).toBeGreaterThanOrEqual(6);
    for (const c of fixture.cases) {
      expect(c.effectiveScale).toBeCloseTo(
        c.factor * (c.seqLen / c.originalMaxPositions) - (c.factor - 1),
        12,
      );
      const ours = ntkAwareInverseFrequencies(c.dim, c.base, c.effectiveScale);
      expect(ours.length).toBe(c.invFreq.length);
      // HF computes base^(2i/d) in float32: agreement to float32 precision.
      for (let i = 0; i < ours.length; i++) expect(relativeError(ours[i], c.invFreq[i])).toBeLessThan(2e-6);
    }
  });
});

describe("ntkAwareSpec", () => {
  it("is registered as ntk-aware with validated, defaulted params", () => {
    expect(ntkAwareSpec.id).toBe("ntk-aware");
    expect(ntkAwareSpec.family).toBe("context-extension");
    expect(ntkAwareSpec.create({ headDim: 8 }).params).toEqual({
      headDim: 8,
      base: 10000,
      partialRotaryFactor: 1,
      layout: "half",
      factor: 2,
    });
    expect(() => ntkAwareSpec.create({ factor: 0.5 })).toThrow(/Invalid ntk-aware.factor/);
    expect(() => ntkAwareSpec.create({ scale: 2 })).toThrow(/Unknown key ntk-aware.scale/);
    expect(() => ntkAwareSpec.create({ headDim: 2 })).toThrow(/Invalid ntk-aware.headDim/);
    expect(() => ntkAwareSpec.create({ headDim: 8, partialRotaryFactor: 0.25 })).toThrow(
      /Invalid ntk-aware.partialRotaryFactor/,
    );
  });

  it("transforms exactly like rope with the NTK-aware base", () => {
    const headDim = 16;
    const s = 4;
    const positions = [0, 3, 100, 4097.5];
    const rng = new Rng(5);
    const x = new Float32Array(positions.length * 2 * headDim).map(() => 2 * rng.next() - 1);
    for (const layout of ["half", "interleaved"]) {
      const a = x.slice();
      const b = x.slice();
      ntkAwareSpec.create({ headDim, factor: s, layout }).transformQK?.(a, positions, 2, headDim, "query");
      ropeSpec
        .create({ headDim, base: ntkAwareBase(10000, s, headDim), layout })
        .transformQK?.(b, positions, 2, headDim, "query");
      expect(a).toEqual(b);
      expect(a).not.toEqual(x);
    }
  });
});
