import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { tidy } from "../engine/index.js";
import { gradCheck, randomValues } from "../engine/testing/gradcheck.js";
import { Rng } from "../util/rng.js";
import { gilbertOrder, loopeEmbedding, loopeSpec, loopeTensor } from "./loope.js";

/** Computed by test/fixtures/gilbert-reference.py, a transcription of Cerveny's gilbert2d. */
const ORDERS: { height: number; width: number; index: number[] }[] = JSON.parse(
  readFileSync(new URL("../../test/fixtures/gilbert-orders.json", import.meta.url), "utf8"),
);

const DIMS = { dModel: 6, numHeads: 1, headDim: 6, numLayers: 1, maxSeqLen: 64, causal: false };

function gridIds(H: number, W: number): Float64Array {
  return Float64Array.from({ length: 2 * H * W }, (_, i) =>
    i % 2 === 0 ? Math.floor(i / 2 / W) : (i / 2 - 0.5) % W,
  );
}

describe("loope", () => {
  it("orders cells along the Gilbert curve exactly as gilbert2d, square and ragged grids", () => {
    for (const { height, width, index } of ORDERS) {
      expect(Array.from(gilbertOrder(height, width)), `${height} x ${width}`).toEqual(index);
    }
  });

  it("with zero offsets is the 1-D sinusoid [sin(x w) | cos(x w)] at each cell's Gilbert index", () => {
    const D = 4;
    const e = loopeEmbedding(gridIds(4, 4), new Float64Array(16), 4, D);
    ORDERS[0]!.index.forEach((x, t) => {
      const w = [1, 10000 ** (-2 / D)];
      expect(e[t * D]).toBeCloseTo(Math.sin(x * w[0]!), 12);
      expect(e[t * D + 1]).toBeCloseTo(Math.sin(x * w[1]!), 12);
      expect(e[t * D + 2]).toBeCloseTo(Math.cos(x * w[0]!), 12);
      expect(e[t * D + 3]).toBeCloseTo(Math.cos(x * w[1]!), 12);
    });
  });

  it("the trainable embedding equals the framework-free one with learned offsets, per example grid", () => {
    const enc = loopeSpec.trainable!(loopeSpec.create({ maxGrid: 4 }).params as never, DIMS, new Rng(1));
    const offsets = enc.parameters()[0]!;
    offsets.data.set(randomValues(2, 16, 0.3));
    const ids = Float64Array.from([...gridIds(2, 3), 0, 0, 1, 0, 2, 0, 3, 0, 0, 1, 1, 1]); // 2 x 3, then 4 x 2
    const got = tidy(() => enc.embedding!(ids, 2, 6).toArray());
    const free = loopeSpec.create({ maxGrid: 4, offsets: offsets.toArray() });
    for (let b = 0; b < 2; b++) {
      const want = free.embedding!(ids.subarray(b * 12, b * 12 + 12), 6);
      want.forEach((v, n) => {
        expect(got[b * 36 + n]).toBeCloseTo(v, 5);
      });
    }
  });

  it("has exact gradients for the offsets X_C (float64 finite differences)", () => {
    const cells = Int32Array.from([0, 1, 4, 5, 1]);
    const result = gradCheck(
      ([xg, offsets]) => loopeTensor(xg!, cells, offsets!, 6),
      [
        { shape: [5, 1], values: [0, 3, 1, 2, 3], requiresGrad: false },
        { shape: [16, 1], values: randomValues(3, 16, 0.5) },
      ],
    );
    expect(result.worstRatio, result.worst).toBeLessThanOrEqual(1);
  });

  it("rejects a grid larger than maxGrid and offsets of the wrong size, in one line each", () => {
    expect(() => loopeSpec.create({ maxGrid: 2 }).embedding!(gridIds(3, 1), 4)).toThrow(
      /loope\.maxGrid.*3 rows/,
    );
    expect(() => loopeSpec.create({ maxGrid: 2, offsets: [1] })).toThrow(/loope\.offsets.*4 values/);
  });
});
