import { describe, expect, it } from "vitest";
import { Rng } from "../util/rng.js";
import { ldpeEmbedding, ldpeSpec } from "./ldpe.js";
import { sinusoidalEncoding } from "./sinusoidal.js";

describe("ldpe", () => {
  it("adds PE(t) + scale * PE(r) per (t, r) row", () => {
    const ids = [0, 3, 1, 2, 2, 1, 3, 0];
    const out = ldpeEmbedding(ids, 8, { scale: 0.5, absolute: true });
    const base = sinusoidalEncoding([0, 1, 2, 3], 8);
    const countdown = sinusoidalEncoding([3, 2, 1, 0], 8);
    out.forEach((v, i) => {
      expect(v).toBeCloseTo(base[i]! + 0.5 * countdown[i]!, 6);
    });
    const only = ldpeEmbedding(ids, 8, { scale: 1, absolute: false });
    expect(Array.from(only)).toEqual(Array.from(countdown));
  });

  it("two tokens at the same position with different countdowns get different vectors (the length signal)", () => {
    const a = ldpeEmbedding([5, 2], 16, { scale: 1, absolute: true });
    const b = ldpeEmbedding([5, 7], 16, { scale: 1, absolute: true });
    expect(Array.from(a)).not.toEqual(Array.from(b));
  });

  it("the trainable form is the framework-free table per example; [n, 2] rows are required", () => {
    const dims = { dModel: 8, numHeads: 2, headDim: 4, numLayers: 1, maxSeqLen: 8, causal: true };
    const enc = ldpeSpec.trainable!({ scale: 1, absolute: true }, dims, new Rng(1));
    const ids = Float64Array.from([0, 2, 1, 1, 2, 0, 0, 1, 1, 0, 2, 0]);
    const out = enc.embedding!(ids, 2, 3);
    expect(out.shape).toEqual([2, 3, 8]);
    expect(Array.from(out.toArray())).toEqual(
      Array.from(ldpeEmbedding(ids, 8, { scale: 1, absolute: true })),
    );
    expect(() => ldpeSpec.create().embedding!([0, 1, 2], 8)).toThrow(/\[n, 2\]/);
    expect(() => ldpeSpec.create({ scale: -1 })).toThrow(/ldpe\.scale/);
  });
});
