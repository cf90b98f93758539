import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { broadcastTo, lerpGather, reshape, tensor, tidy } from "../engine/index.js";
import { gradCheck, randomInput, randomValues } from "../engine/testing/gradcheck.js";
import { Rng } from "../util/rng.js";
import {
  irpeBucketCount,
  irpeBuckets,
  irpeContextualLookup,
  irpeContextualTerm,
  irpeSpec,
  piecewiseIndex,
} from "./irpe.js";

/** Computed by test/fixtures/irpe-reference.py, a transcription of microsoft/Cream iRPE/DeiT-with-iRPE/irpe.py. */
const FIXTURE = JSON.parse(
  readFileSync(new URL("../../test/fixtures/irpe-buckets.json", import.meta.url), "utf8"),
);

const DIMS = { dModel: 8, numHeads: 2, headDim: 4, numLayers: 1, maxSeqLen: 64, causal: false };

function gridIds(H: number, W: number): Float64Array {
  return Float64Array.from({ length: 2 * H * W }, (_, i) =>
    i % 2 === 0 ? Math.floor(i / 2 / W) : (i / 2 - 0.5) % W,
  );
}

describe("irpe", () => {
  it("piecewise index g(x) equals the official function for ratios 1.9, 1 and 3 on x in -40..40", () => {
    for (const [ratio, { x, g }] of Object.entries(FIXTURE.piecewise) as [
      string,
      { x: number[]; g: number[] },
    ][]) {
      const r = Number(ratio);
      expect(x.map((v) => piecewiseIndex(v, r, 2 * r, 8 * r))).toEqual(g);
    }
  });

  it("bucket ids of every mapping function equal the official ones on a 5 x 8 grid (query minus key)", () => {
    const ids = gridIds(5, 8);
    const buckets = FIXTURE.buckets;
    for (const method of ["euclidean", "quant", "product"] as const) {
      expect(Array.from(irpeBuckets(method, ids, ids, 1.9)[0]!)).toEqual(buckets[method].ids);
    }
    const [rows, cols] = irpeBuckets("cross", ids, ids, 1.9);
    expect(Array.from(rows!)).toEqual(buckets["cross-rows"].ids);
    expect(Array.from(cols!)).toEqual(buckets["cross-cols"].ids);
    expect(irpeBucketCount("product", 1.9)).toBe(49); // int(3.8) = 3: 7 x 7
    expect(irpeBucketCount("cross", 1.9)).toBe(7);
  });

  it("the contextual term (q/sqrt(d)) . r_bucket equals the official rpe_k(q), framework-free and in the hook", () => {
    const c = FIXTURE.contextual;
    const buckets = irpeBuckets("product", gridIds(c.height, c.width), gridIds(c.height, c.width), 1.9)[0]!;
    const free = irpeContextualTerm(c.q, c.weight, buckets, c.heads, c.headDim, c.numBuckets);
    free.forEach((v, n) => {
      expect(v).toBeCloseTo(c.term[n], 10);
    });
    const enc = irpeSpec.trainable!(
      irpeSpec.create({ sharedHeads: false }).params as never,
      { ...DIMS, numHeads: c.heads, headDim: c.headDim },
      new Rng(1),
    );
    enc.parameters()[0]!.data.set(c.weight);
    const L = c.height * c.width;
    // The hook scales q by 1/sqrt(Dh) itself (the official attention passes q * scale).
    const q = tensor(
      c.q.map((v: number) => v * Math.sqrt(c.headDim)),
      [1, c.heads, L, c.headDim],
    );
    const bias = tidy(() =>
      enc.contentAttention!({
        x: q,
        q,
        k: q,
        positionIds: gridIds(c.height, c.width),
        layer: 0,
      }).bias!.toArray(),
    );
    bias.forEach((v, n) => {
      expect(v).toBeCloseTo(c.term[n], 4);
    });
  });

  it("bias mode: the trainable bias equals the framework-free one (cross: two tables; per-head tables)", () => {
    const params = irpeSpec.create({ mode: "bias", method: "cross", sharedHeads: false }).params as never;
    const enc = irpeSpec.trainable!(params, DIMS, new Rng(1));
    const [rowsTable, colsTable] = enc.parameters();
    rowsTable!.data.set(randomValues(1, 14));
    colsTable!.data.set(randomValues(2, 14));
    const ids = Float64Array.from([...gridIds(2, 3), 0, 0, 5, 1, 2, 9, 1, 1, 0, 7, 3, 3]);
    const got = tidy(() => enc.attentionBias!(ids, 2, 6, 0).toArray());
    const table = [...rowsTable!.toArray(), ...colsTable!.toArray()];
    const free = irpeSpec.create({ mode: "bias", method: "cross", sharedHeads: false, table });
    for (let b = 0; b < 2; b++) {
      const row = ids.subarray(b * 12, b * 12 + 12);
      const want = free.attentionBias!(row, row, 2);
      want.forEach((v, n) => {
        expect(got[b * 72 + n]).toBeCloseTo(v, 5);
      });
    }
    expect(enc).not.toHaveProperty("contentAttention");
  });

  it("has exact gradients for q and the contextual table, and for the bias table (float64 finite differences)", () => {
    const ids = gridIds(2, 3);
    const buckets = irpeBuckets("product", ids, ids, 1.9)[0]!;
    const positions = { shape: [1, 2, 6, 6], values: [...buckets, ...buckets], requiresGrad: false };
    const contextual = gradCheck(
      ([q, w, pos]) => lerpGather(irpeContextualLookup(q!, w!, false), pos!),
      [randomInput([1, 2, 6, 4], 1), randomInput([2, 4, 49], 2), positions],
    );
    expect(contextual.worstRatio, contextual.worst).toBeLessThanOrEqual(1);
    const bias = gradCheck(
      ([table, pos]) => lerpGather(broadcastTo(reshape(table!, [1, 1, 1, 49]), [1, 2, 6, 49]), pos!),
      [randomInput([1, 49], 3), positions],
    );
    expect(bias.worstRatio, bias.worst).toBeLessThanOrEqual(1);
  });

  it("rejects a framework-free table of the wrong size, and the contextual mode without q", () => {
    expect(() => irpeSpec.create({ mode: "bias", table: [1, 2] }).attentionBias!([0, 0], [0, 0], 1)).toThrow(
      /irpe\.table.*1 \* 1 \* 49/,
    );
    expect(() => irpeSpec.create({}).attentionBias!([0, 0], [0, 0], 1)).toThrow(/contextual mode needs q/);
  });
});
