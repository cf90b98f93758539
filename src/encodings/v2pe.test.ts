import { describe, expect, it } from "vitest";
import { Rng } from "../util/rng.js";
import { PosencConfigError } from "../util/validation.js";
import { V2PE_OFFICIAL_INCREMENTS, v2peIds, v2peSpec } from "./v2pe.js";

/**
 * The official rule (OpenGVLab/V2PE `get_rope_pos_id`, read by hand): text ids count up by 1 from the last id; the
 * image run after <img> (id `last`) gets linspace(last, last + delta * n, n + 1)[1:]; the text after it resumes at
 * ceil(last visual id) + 1. Written out here for <img> = token 8, visual token 9, </img> = token 10.
 */
function officialRule(tokens: number[], delta: number): number[] {
  const out: number[] = [];
  let last = -1;
  let t = 0;
  while (t < tokens.length) {
    if (tokens[t] === 9) {
      let n = 0;
      while (tokens[t + n] === 9) n++;
      for (let k = 1; k <= n; k++) out.push(last + delta * k);
      last = Math.ceil(last + delta * n);
      t += n;
    } else {
      out.push(++last);
      t++;
    }
  }
  return out;
}

describe("v2pe ids", () => {
  it("matches the worked example of the file comment", () => {
    const ids = v2peIds([1, 2, 9, 9, 9, 9, 9, 3, 4], new Set([9]), () => 0.25);
    expect(Array.from(ids)).toEqual([0, 1, 1.25, 1.5, 1.75, 2, 2.25, 4, 5]);
  });

  it("matches the official rule on a text / image / text / image / text layout at every official delta", () => {
    const image = (n: number) => [8, ...Array<number>(n).fill(9), 10];
    const tokens = [1, 2, 3, ...image(256), 4, 5, ...image(512), 6];
    for (const delta of V2PE_OFFICIAL_INCREMENTS) {
      const ids = v2peIds(tokens, new Set([9]), () => delta);
      expect(Array.from(ids)).toEqual(officialRule(tokens, delta));
    }
    // delta = 1 (stride 256) is the ordinary 0..n-1, as the official 'default' version asserts.
    const plain = v2peIds(tokens, new Set([9]), () => 1);
    expect(Array.from(plain)).toEqual(tokens.map((_, t) => t));
  });

  it("a long compressed run spans n * delta positions: 256 tokens at delta 1/16 use 16", () => {
    const tokens = [1, ...Array<number>(256).fill(9), 2];
    const ids = v2peIds(tokens, new Set([9]), () => 1 / 16);
    expect(ids[256]).toBeCloseTo(16, 12);
    expect(ids[257]).toBe(17);
  });

  it("draws one delta per run in training (mode random) and uses the fixed increment without randomness", () => {
    const tokens = [1, 9, 9, 2, 9, 9, 9, 3];
    const random = v2peSpec.create({ compressedTokens: [9], trainIncrements: [0.5, 0.125] });
    const ids = random.positionIds!(tokens.length, { tokens, rng: new Rng(3) });
    const steps = Array.from(ids).map((v, i) => (i === 0 ? v : v - ids[i - 1]!));
    expect([0.5, 0.125]).toContain(steps[1]);
    expect(steps[2]).toBe(steps[1]); // one delta within a run
    expect([0.5, 0.125]).toContain(steps[4]);
    const fixed = v2peSpec.create({ compressedTokens: [9], mode: "fixed", increment: 0.5 });
    expect(Array.from(fixed.positionIds!(tokens.length, { tokens }))).toEqual([0, 0.5, 1, 2, 2.5, 3, 3.5, 5]);
  });

  it("rejects bad parameters and missing tokens with a config error naming the key", () => {
    expect(() => v2peSpec.create({ increment: 0 })).toThrow(/v2pe\.increment/);
    expect(() => v2peSpec.create({ trainIncrements: [2] })).toThrow(/v2pe\.trainIncrements\[0\]/);
    expect(() => v2peSpec.create({ compressedTokens: [-1] })).toThrow(/compressedTokens\[0\]/);
    expect(() => v2peSpec.create({ mode: "random", trainIncrements: [] })).toThrow(PosencConfigError);
    expect(() => v2peSpec.create().positionIds!(3, {})).toThrow(/context\.tokens/);
  });

  it("the trainable form draws deltas in training and uses the fixed increment at evaluation", () => {
    const dims = { dModel: 8, numHeads: 2, headDim: 4, numLayers: 1, maxSeqLen: 16, causal: true };
    const params = {
      compressedTokens: [9],
      increment: 0.25,
      mode: "random" as const,
      trainIncrements: [0.5],
    };
    const enc = v2peSpec.trainable!(params, dims, new Rng(1));
    const tokens = Int32Array.from([1, 9, 9, 2, 1, 1, 9, 2]);
    const input = { batchSize: 2, seqLen: 4, rng: new Rng(2), tokens };
    expect(Array.from(enc.positionIds!({ ...input, training: true }))).toEqual([0, 0.5, 1, 2, 0, 1, 1.5, 3]);
    expect(Array.from(enc.positionIds!({ ...input, training: false }))).toEqual([
      0, 0.25, 0.5, 2, 0, 1, 1.25, 3,
    ]);
  });
});
