import { describe, expect, it } from "vitest";
import { Rng } from "../util/rng.js";
import { gpeSpec, groupPositionIds } from "./gpe.js";

/**
 * The official streaming ids (EIT-NLP/StreamingLLM `calculate_lengths`, _mode 'streaming'), written out:
 * list(range(S)) + list(range(pe_cache_length, pe_cache_length + N - S)).
 */
function officialStreaming(total: number, sourceLength: number, peCacheLength: number): number[] {
  const ids = Array.from({ length: sourceLength }, (_, i) => i);
  for (let i = 0; i < total - sourceLength; i++) ids.push(peCacheLength + i);
  return ids;
}

describe("gpe ids", () => {
  it("matches the worked example and the official streaming ids", () => {
    expect(Array.from(groupPositionIds([5, 1, 2, 7, 3, 4], [7]))).toEqual([0, 1, 2, 0, 1, 2]);
    const tokens = [1, 2, 3, 4, 5, 7, 8, 8, 8];
    for (const start of [0, 3, 100]) {
      expect(Array.from(groupPositionIds(tokens, [7], start))).toEqual(officialStreaming(9, 5, start));
    }
  });

  it("only the first opener opens the target group; without one every token is source", () => {
    expect(Array.from(groupPositionIds([7, 1, 7, 2], [7]))).toEqual([0, 1, 2, 3]);
    expect(Array.from(groupPositionIds([1, 2, 3], [7]))).toEqual([0, 1, 2]);
  });

  it("target ids do not depend on how much source came before (the streaming invariance)", () => {
    const short = groupPositionIds([1, 2, 7, 3, 4], [7], 2);
    const long = groupPositionIds([1, 2, 1, 2, 1, 2, 7, 3, 4], [7], 2);
    expect(Array.from(short.subarray(2))).toEqual(Array.from(long.subarray(6)));
  });

  it("batch mode is 0..N-1; errors name the key", () => {
    const batch = gpeSpec.create({ targetOpeners: [7], mode: "batch" });
    expect(Array.from(batch.positionIds!(4, { tokens: [1, 7, 2, 3] }))).toEqual([0, 1, 2, 3]);
    expect(() => gpeSpec.create({ targetOpeners: [1.5] })).toThrow(/gpe\.targetOpeners\[0\]/);
    expect(() => gpeSpec.create({ targetOpeners: [7], targetStart: -1 })).toThrow(/gpe\.targetStart/);
    expect(() => gpeSpec.create({ targetOpeners: [7] }).positionIds!(2, {})).toThrow(/context\.tokens/);
  });

  it("the trainable form gives each row its own groups; padding repeats the last id", () => {
    const dims = { dModel: 8, numHeads: 2, headDim: 4, numLayers: 1, maxSeqLen: 16, causal: true };
    const enc = gpeSpec.trainable!(
      { targetOpeners: [7], targetStart: 0, mode: "streaming" },
      dims,
      new Rng(1),
    );
    const tokens = Int32Array.from([1, 7, 2, 3, 1, 1, 7, 0]);
    const ids = enc.positionIds!({
      batchSize: 2,
      seqLen: 4,
      rng: new Rng(2),
      training: true,
      tokens,
      rowLengths: Int32Array.from([4, 3]),
    });
    expect(Array.from(ids)).toEqual([0, 0, 1, 2, 0, 1, 0, 0]);
  });
});
