import { describe, expect, it } from "vitest";
import { alibiSlopes, alibiSpec } from "./alibi.js";
import { extendedMindSpec, memoryPositionIds } from "./extended-mind.js";
import { ropeSpec } from "./rope.js";

describe("extended-mind memory positions", () => {
  it("matches the worked example for both rules", () => {
    expect(Array.from(memoryPositionIds([4, 5, 6, 9, 1, 2], [9], 0))).toEqual([0, 0, 0, 0, 1, 2]);
    expect(Array.from(memoryPositionIds([4, 5, 6, 9, 1, 2], [9], -1))).toEqual([-1, -1, -1, 0, 1, 2]);
    expect(Array.from(memoryPositionIds([1, 2, 3], [9]))).toEqual([0, 1, 2]);
  });

  it("RoPE rule: a key at id 0 scores with a query at m exactly as the official unrotated memory key", () => {
    const headDim = 8;
    const rope = ropeSpec.create({ headDim });
    const q = Float32Array.from({ length: headDim }, (_, i) => Math.cos(i + 0.3));
    const k = Float32Array.from({ length: headDim }, (_, i) => Math.sin(2 * i + 1));
    const m = 37;
    const qRotated = Float32Array.from(q);
    rope.transformQK!(qRotated, [m], 1, headDim, "query");
    const kAtZero = Float32Array.from(k);
    rope.transformQK!(kAtZero, [0], 1, headDim, "key");
    const dot = (a: Float32Array, b: Float32Array) => a.reduce((s, v, i) => s + v * b[i]!, 0);
    expect(dot(qRotated, kAtZero)).toBeCloseTo(dot(qRotated, k), 5);
  });

  it("ALiBi rule: a memory at id -1 gets -slope * (local length so far) for every query", () => {
    const alibi = alibiSpec.create({ variant: "causal" });
    const heads = 4;
    const queries = [0, 1, 2, 3];
    const bias = alibi.attentionBias!(queries, [-1, -1], heads);
    const slopes = alibiSlopes(heads);
    for (let h = 0; h < heads; h++) {
      queries.forEach((i, qi) => {
        for (let j = 0; j < 2; j++) {
          expect(bias[(h * queries.length + qi) * 2 + j]).toBeCloseTo(-slopes[h]! * (i + 1), 6);
        }
      });
    }
  });

  it("names bad parameters and missing tokens", () => {
    expect(() => extendedMindSpec.create({ memoryPosition: 3 })).toThrow(/extended-mind\.memoryPosition/);
    expect(() => extendedMindSpec.create({ memoryEnd: [-2] })).toThrow(/extended-mind\.memoryEnd\[0\]/);
    expect(() => extendedMindSpec.create({ memoryEnd: [9] }).positionIds!(2, {})).toThrow(/context\.tokens/);
  });
});
