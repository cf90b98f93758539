/**
 * Right-padded rows: randomized position ids are drawn for each row's real tokens only, exactly as for that
 * sequence alone, so padding a short training example into a longer batch does not change its ids.
 */
import { describe, expect, it } from "vitest";
import { randomizedPositionIds } from "../encodings/randomized-positions.js";
import { Rng } from "../util/rng.js";
import { createModelEncoding } from "./encodings.js";

const dims = { dModel: 16, numHeads: 2, headDim: 8, numLayers: 1, maxSeqLen: 64, causal: true };

describe("position ids of right-padded rows", () => {
  it("draws a row's ids over its real length and repeats the last id over the padding", () => {
    const encoding = createModelEncoding(
      [{ id: "randomized-rope", params: { maxPosition: 256 } }],
      dims,
      new Rng(1),
    );
    const ids = encoding.positionIds({
      batchSize: 2,
      seqLen: 6,
      rng: new Rng(7),
      training: true,
      rowLengths: Int32Array.from([3, 6]),
    });
    const rng = new Rng(7);
    const first = randomizedPositionIds(3, 256, rng);
    const second = randomizedPositionIds(6, 256, rng);
    expect(Array.from(ids.subarray(0, 3))).toEqual(Array.from(first));
    expect(Array.from(ids.subarray(3, 6))).toEqual([first[2], first[2], first[2]]);
    expect(Array.from(ids.subarray(6, 12))).toEqual(Array.from(second));
  });

  it("draws over the whole row when no row lengths are given", () => {
    const encoding = createModelEncoding(
      [{ id: "randomized-rope", params: { maxPosition: 256 } }],
      dims,
      new Rng(1),
    );
    const ids = encoding.positionIds({ batchSize: 1, seqLen: 6, rng: new Rng(7), training: true });
    expect(Array.from(ids)).toEqual(Array.from(randomizedPositionIds(6, 256, new Rng(7))));
  });
});
