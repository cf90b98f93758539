import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { expectCloseTo, maxAbsDiff, randomArray } from "../../test/helpers/arrays.js";
import { Rng } from "../util/rng.js";
import { PosencConfigError } from "../util/validation.js";
import {
  applyRopeReference,
  type RopeLayout,
  ropeEncodingFromFrequencies,
  ropeInverseFrequencies,
  ropeRotaryDim,
  ropeSpec,
} from "./rope.js";

interface DefaultCase {
  name: string;
  config: {
    hidden_size: number;
    num_attention_heads: number;
    partial_rotary_factor?: number;
    rope_theta: number;
  };
  expected: { inv_freq: number[]; attention_factor: number };
}
const fixture = JSON.parse(
  readFileSync(new URL("../../test/fixtures/rope-default-cases.json", import.meta.url), "utf8"),
) as { cases: DefaultCase[] };

describe("ropeInverseFrequencies", () => {
  it("matches hand-computed values", () => {
    expect(Array.from(ropeInverseFrequencies(4, 10000))).toEqual([1, 0.01]);
    const f8 = ropeInverseFrequencies(8, 10000);
    expectCloseTo(f8, [1, 0.1, 0.01, 0.001], 15);
    const f6 = ropeInverseFrequencies(6, 1000);
    expectCloseTo(f6, [1, 0.1, 0.01], 15);
  });

  it.each(fixture.cases.map((c) => [c.name, c] as const))("matches Hugging Face %s", (_name, c) => {
    const headDim = c.config.hidden_size / c.config.num_attention_heads;
    const rotaryDim = ropeRotaryDim(headDim, c.config.partial_rotary_factor ?? 1);
    const ours = ropeInverseFrequencies(rotaryDim, c.config.rope_theta);
    expect(ours.length).toBe(c.expected.inv_freq.length);
    for (const [i, v] of c.expected.inv_freq.entries()) expect(Math.abs(ours[i] - v) / v).toBeLessThan(1e-6);
    expect(c.expected.attention_factor).toBe(1);
  });

  it("ropeRotaryDim follows HF's int(headDim * factor) and rejects odd or empty results", () => {
    expect(ropeRotaryDim(80, 0.4)).toBe(32);
    expect(ropeRotaryDim(96, 0.25)).toBe(24);
    expect(() => ropeRotaryDim(10, 0.5)).toThrow(PosencConfigError);
    expect(() => ropeRotaryDim(64, 0.01)).toThrow(/partialRotaryFactor/);
  });
});

describe("ropeEncodingFromFrequencies", () => {
  it("transformQK applies RoPE with the given frequencies, factor and layout", () => {
    const invFreq = ropeInverseFrequencies(6, 10000); // rotary dim 6 inside head dim 8
    const positions = [3, 0.5, 17];
    const x = randomArray(new Rng(9), 3 * 2 * 8);
    for (const layout of ["half", "interleaved"] as const) {
      const enc = ropeEncodingFromFrequencies({
        id: "test-rope",
        params: { a: 1 },
        invFreq,
        attentionFactor: 0.9,
        layout,
      });
      expect(enc.id).toBe("test-rope");
      expect(enc.params).toEqual({ a: 1 });
      const y = x.slice();
      enc.transformQK?.(y, positions, 2, 8, "query");
      const expected = applyRopeReference(x, positions, invFreq, {
        numHeads: 2,
        headDim: 8,
        layout,
        attentionFactor: 0.9,
      });
      expect(maxAbsDiff(y, expected)).toBeLessThan(1e-6);
    }
  });

  it("reuses its table only for identical positions (mutated or different positions rebuild it)", () => {
    const invFreq = ropeInverseFrequencies(8, 10000);
    const enc = ropeEncodingFromFrequencies({ id: "r", params: {}, invFreq });
    const x = randomArray(new Rng(12), 3 * 8);
    const positions = [1, 2, 3];
    const check = (): void => {
      const y = x.slice();
      enc.transformQK?.(y, positions, 1, 8, "query");
      const expected = applyRopeReference(x, positions, invFreq, { numHeads: 1, headDim: 8, layout: "half" });
      expect(maxAbsDiff(y, expected)).toBeLessThan(1e-6);
    };
    check();
    check(); // cached
    positions[2] = 300; // same array, new content
    check();
    positions.push(4); // longer
    enc.transformQK?.(x.slice(0, 0), [], 1, 8, "key"); // empty sequence
    const x4 = randomArray(new Rng(13), 4 * 8);
    const y4 = x4.slice();
    enc.transformQK?.(y4, positions, 1, 8, "key");
    const expected4 = applyRopeReference(x4, positions, invFreq, { numHeads: 1, headDim: 8, layout: "half" });
    expect(maxAbsDiff(y4, expected4)).toBeLessThan(1e-6);
  });

  it("rejects a head too small for its frequencies, a wrong x length, and bad options", () => {
    const enc = ropeEncodingFromFrequencies({ id: "r", params: {}, invFreq: ropeInverseFrequencies(8) });
    expect(() => enc.transformQK?.(new Float32Array(6), [0], 1, 6, "key")).toThrow(/exceeds headDim = 6/);
    expect(() => enc.transformQK?.(new Float32Array(15), [0, 1], 1, 8, "key")).toThrow(/x.length/);
    expect(() => ropeEncodingFromFrequencies({ id: "r", params: {}, invFreq: [1, Number.NaN] })).toThrow(
      PosencConfigError,
    );
    expect(() =>
      ropeEncodingFromFrequencies({ id: "r", params: {}, invFreq: [1], layout: "x" as RopeLayout }),
    ).toThrow(/r.layout/);
  });
});

describe("ropeSpec", () => {
  it("has id rope, fills defaults and rotates like applyRopeReference", () => {
    expect(ropeSpec.id).toBe("rope");
    expect(ropeSpec.family).toBe("rotary");
    const enc = ropeSpec.create({ headDim: 8 });
    expect(enc.params).toEqual({ headDim: 8, base: 10000, partialRotaryFactor: 1, layout: "half" });
    const x = randomArray(new Rng(5), 2 * 8);
    const y = x.slice();
    enc.transformQK?.(y, [5, 9], 1, 8, "key");
    const expected = applyRopeReference(x, [5, 9], ropeInverseFrequencies(8), {
      numHeads: 1,
      headDim: 8,
      layout: "half",
    });
    expect(maxAbsDiff(y, expected)).toBeLessThan(1e-6);
  });

  it("partialRotaryFactor rotates floor(headDim * factor) channels", () => {
    const enc = ropeSpec.create({ headDim: 8, partialRotaryFactor: 0.5, base: 100, layout: "interleaved" });
    const x = randomArray(new Rng(6), 8);
    const y = x.slice();
    enc.transformQK?.(y, [3], 1, 8, "query");
    const expected = applyRopeReference(x, [3], ropeInverseFrequencies(4, 100), {
      numHeads: 1,
      headDim: 8,
      layout: "interleaved",
    });
    expect(maxAbsDiff(y, expected)).toBeLessThan(1e-6);
    expect(Array.from(y.subarray(4))).toEqual(Array.from(x.subarray(4)));
  });

  it("rejects bad params and a model head size that differs from params.headDim", () => {
    expect(() => ropeSpec.create({ bogus: 1 })).toThrow(/rope.bogus/);
    expect(() => ropeSpec.create({ base: 1 })).toThrow(PosencConfigError);
    expect(() => ropeSpec.create({ partialRotaryFactor: 0 })).toThrow(/rope.partialRotaryFactor/);
    expect(() => ropeSpec.create({ headDim: 10, partialRotaryFactor: 0.5 })).toThrow(
      /rope.partialRotaryFactor/,
    );
    const enc = ropeSpec.create({ headDim: 8 });
    expect(() => enc.transformQK?.(new Float32Array(16), [0], 1, 16, "query")).toThrow(/params.headDim = 8/);
  });
});
