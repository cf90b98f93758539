import { describe, expect, it } from "vitest";
import { randomArray } from "../../test/helpers/arrays.js";
import { Rng } from "../util/rng.js";
import { PosencConfigError } from "../util/validation.js";
import { pRopeInverseFrequencies, pRopeRotatedPairs, pRopeSpec } from "./p-rope.js";
import { ropeInverseFrequencies, ropeSpec } from "./rope.js";

describe("pRopeInverseFrequencies", () => {
  it("p = 1 is RoPE's frequencies", () => {
    expect(pRopeInverseFrequencies(64, 10000, 1)).toEqual(ropeInverseFrequencies(64, 10000));
  });

  it("p = 0 is all zero (NoPE)", () => {
    expect(Array.from(pRopeInverseFrequencies(16, 10000, 0))).toEqual(new Array(8).fill(0));
  });

  it("keeps the highest floor(p * d / 2) frequencies with RoPE's exponents over the full d", () => {
    // d = 8, p = 0.5: 2 kept pairs, theta_i = 10000^(-2i/8) = 10^(-i).
    const f = pRopeInverseFrequencies(8, 10000, 0.5);
    expect(f.length).toBe(4);
    expect(f[0]).toBe(1);
    expect(f[1]).toBeCloseTo(0.1, 15);
    expect(f[2]).toBe(0);
    expect(f[3]).toBe(0);
    // d = 10, p = 0.25: floor(1.25) = 1 kept pair.
    expect(Array.from(pRopeInverseFrequencies(10, 10000, 0.25))).toEqual([1, 0, 0, 0, 0]);
    // d = 64, p = 0.75: 24 kept, and they equal RoPE's first 24.
    const g = pRopeInverseFrequencies(64, 10000, 0.75);
    const rope = ropeInverseFrequencies(64, 10000);
    expect(pRopeRotatedPairs(64, 0.75)).toBe(24);
    expect(Array.from(g.subarray(0, 24))).toEqual(Array.from(rope.subarray(0, 24)));
    expect(g.subarray(24).every((v) => v === 0)).toBe(true);
  });

  it("rejects p outside [0, 1], odd-free sizes and bad bases", () => {
    expect(() => pRopeInverseFrequencies(8, 10000, 1.5)).toThrow(PosencConfigError);
    expect(() => pRopeInverseFrequencies(8, 10000, -0.1)).toThrow(/Invalid p/);
    expect(() => pRopeInverseFrequencies(1, 10000, 0.5)).toThrow(/Invalid dim/);
    expect(() => pRopeInverseFrequencies(8, 1, 0.5)).toThrow(/Invalid base/);
  });
});

describe("pRopeSpec", () => {
  const headDim = 8;
  const positions = [0, 5, 12.5];
  const x = randomArray(new Rng(11), positions.length * 2 * headDim);

  it("has id p-rope and fills defaults", () => {
    expect(pRopeSpec.id).toBe("p-rope");
    expect(pRopeSpec.family).toBe("rotary");
    expect(pRopeSpec.create({ headDim }).params).toEqual({ headDim, base: 10000, p: 0.75, layout: "half" });
  });

  it("p = 1 transforms exactly like rope", () => {
    for (const layout of ["half", "interleaved"]) {
      const a = x.slice();
      const b = x.slice();
      pRopeSpec.create({ headDim, p: 1, layout }).transformQK?.(a, positions, 2, headDim, "query");
      ropeSpec.create({ headDim, layout }).transformQK?.(b, positions, 2, headDim, "query");
      expect(a).toEqual(b);
    }
  });

  it("p = 0 leaves q and k unchanged (NoPE)", () => {
    const a = x.slice();
    pRopeSpec.create({ headDim, p: 0 }).transformQK?.(a, positions, 2, headDim, "key");
    expect(a).toEqual(x);
  });

  it("p = 0.5, half layout: NoPE pairs (i, i + d/2) for i >= 2 pass through, pairs 0 and 1 rotate", () => {
    const a = x.slice();
    pRopeSpec.create({ headDim, p: 0.5 }).transformQK?.(a, positions, 2, headDim, "key");
    for (let row = 0; row < positions.length * 2; row++) {
      const t = Math.floor(row / 2);
      const b = row * headDim;
      for (const c of [2, 3, 6, 7]) expect(a[b + c]).toBe(x[b + c]);
      // Pair 0 = channels (0, 4), angle = position * 1.
      const angle = positions[t];
      expect(a[b]).toBeCloseTo(x[b] * Math.cos(angle) - x[b + 4] * Math.sin(angle), 6);
      expect(a[b + 4]).toBeCloseTo(x[b + 4] * Math.cos(angle) + x[b] * Math.sin(angle), 6);
    }
  });

  it("rejects p out of range, odd headDim and a mismatched model head size", () => {
    expect(() => pRopeSpec.create({ p: 2 })).toThrow(/p-rope.p/);
    expect(() => pRopeSpec.create({ headDim: 7 })).toThrow(/p-rope.headDim/);
    const enc = pRopeSpec.create({ headDim: 8 });
    expect(() => enc.transformQK?.(new Float32Array(4), [0], 1, 4, "query")).toThrow(/params.headDim = 8/);
  });
});
