import { describe, expect, it } from "vitest";
import { noGrad, tidy } from "../engine/index.js";
import { Rng } from "../util/rng.js";
import { alibiSlopes } from "./alibi.js";
import { bipePositionIds } from "./bipe.js";
import { BIPE_ALIBI_SLOPE_SCALE, bipeAlibiSlopes, bipeAlibiSpec } from "./bipe-alibi.js";
import { resolveParams } from "./types.js";

/** The official `_init_alibi_mul96` slopes (zhenyuhe00/BiPE @2dbed6f), transcribed for 4 and 6 heads. */
function officialMul96(n: number): number[] {
  const pow2 = (k: number) => {
    const start = 2 ** -(2 ** -(Math.log2(k) - 3));
    return Array.from({ length: k }, (_, i) => start * start ** i * 96);
  };
  if (Number.isInteger(Math.log2(n))) return pow2(n);
  const closest = 2 ** Math.floor(Math.log2(n));
  return [
    ...pow2(closest),
    ...officialMul96(2 * closest)
      .filter((_, i) => i % 2 === 0)
      .slice(0, n - closest),
  ];
}

describe("BiPE-ALiBi", () => {
  it("scales every ALiBi slope by 96, as the official code (powers of two and the interleaved rest)", () => {
    expect(BIPE_ALIBI_SLOPE_SCALE).toBe(96);
    expect(bipeAlibiSlopes(4)).toEqual([24, 6, 1.5, 0.375]);
    for (const n of [1, 2, 4, 6, 8, 12]) {
      const ours = bipeAlibiSlopes(n);
      const official = officialMul96(n);
      for (const [h, m] of ours.entries()) expect(m).toBeCloseTo(official[h]!, 12);
      for (const [h, m] of ours.entries()) expect(m / alibiSlopes(n)[h]!).toBeCloseTo(96, 12);
    }
  });

  it("biases by -96 m_h (seg_i - seg_j) over the segment ids", () => {
    const tokens = [5, 1, 5, 5, 1, 5];
    const { segmentIds } = bipePositionIds(tokens, [1]);
    expect(Array.from(segmentIds)).toEqual([0, 0, 1, 1, 1, 2]);
    const bias = bipeAlibiSpec.create({ separatorTokens: [1] }).attentionBias!(segmentIds, segmentIds, 2);
    const m = bipeAlibiSlopes(2);
    for (let h = 0; h < 2; h++)
      for (let i = 0; i < 6; i++)
        for (let j = 0; j <= i; j++) {
          expect(bias[(h * 6 + i) * 6 + j]).toBeCloseTo(-m[h]! * (segmentIds[i]! - segmentIds[j]!), 5);
        }
  });

  it("trains: the model reads segment ids, the bias uses the x96 slopes, the intra table gets gradients", () => {
    const dims = { dModel: 4, numHeads: 2, headDim: 2, numLayers: 1, maxSeqLen: 8, causal: true };
    const params = resolveParams("bipe-alibi", bipeAlibiSpec.params, {
      separatorTokens: [1],
      variant: "causal",
    });
    const encoding = bipeAlibiSpec.trainable!(params, dims, new Rng(1));
    const tokens = Int32Array.from([5, 1, 5, 5]);
    const ids = encoding.positionIds!({ batchSize: 1, seqLen: 4, rng: new Rng(2), training: true, tokens });
    expect(Array.from(ids)).toEqual([0, 0, 1, 1]);
    const bias = tidy(() => noGrad(() => encoding.attentionBias!(ids, 1, 4, 0).toArray()));
    // head 0, query 2 (segment 1), key 0 (segment 0): -96 m_0 * 1
    expect(bias[2 * 4 + 0]).toBeCloseTo(-bipeAlibiSlopes(2)[0]!, 5);
    expect(encoding.parameters().map((p) => p.shape)).toEqual([[1024, 4]]);
  });
});
