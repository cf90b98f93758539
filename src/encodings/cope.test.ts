import { describe, expect, it } from "vitest";
import { trainPreviousTokenAttention } from "../../test/helpers/previous-token.js";
import { Adam, attention, sum, tensor, tidy, withFloat64Storage } from "../engine/index.js";
import { gradCheck, randomValues } from "../engine/testing/gradcheck.js";
import { Rng } from "../util/rng.js";
import { PosencConfigError } from "../util/validation.js";
import {
  copeBias,
  copeBiasTensor,
  copeGates,
  copeInterpolate,
  copePositions,
  copeSpec,
  createCopeTrainable,
} from "./cope.js";
import type { ModelDims } from "./trainable.js";

const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));

/** Causal all-ones gates for one [T, T] block. */
function onesGates(T: number): Float64Array {
  const g = new Float64Array(T * T);
  for (let i = 0; i < T; i++) for (let j = 0; j <= i; j++) g[i * T + j] = 1;
  return g;
}

describe("copeGates", () => {
  it("is sigmoid(q.k / sqrt(d)) for past keys and 0 for future keys", () => {
    // T = 2, d = 2: q0 = [2, 0], q1 = [0, 2]; k0 = [1, 0], k1 = [1, 1].
    const q = [2, 0, 0, 2];
    const k = [1, 0, 1, 1];
    const g = copeGates(q, k, 2, 2);
    const s = Math.SQRT1_2;
    expect(Array.from(g)).toEqual([sigmoid(2 * s), 0, sigmoid(0), sigmoid(2 * s)]);
    const all = copeGates(q, k, 2, 2, { causal: false });
    expect(all[1]).toBeCloseTo(sigmoid(2 * s), 15);
    expect(copeGates(q, k, 2, 2, { scale: 1 })[0]).toBeCloseTo(sigmoid(2), 15);
  });

  it("rejects mismatched shapes", () => {
    expect(() => copeGates([1, 2, 3], [1, 2, 3], 2, 2)).toThrow(/whole number >= 1 of \[seqLen, headDim\]/);
    expect(() => copeGates([1, 2, 3, 4], [1, 2], 2, 2)).toThrow(/k must have the length of q/);
    expect(() => copeGates([1, 2], [1, 2], 0, 2)).toThrow(PosencConfigError);
  });
});

describe("copePositions", () => {
  it("counts i - j + 1 when every gate is 1, 0 for future keys", () => {
    const T = 4;
    const p = copePositions(onesGates(T), T, 100);
    for (let i = 0; i < T; i++) {
      for (let j = 0; j < T; j++) expect(p[i * T + j]).toBe(j > i ? 0 : i - j + 1);
    }
  });

  it("clamps to numPositions - 1", () => {
    const T = 4;
    const p = copePositions(onesGates(T), T, 3);
    expect(Array.from(p.subarray(12))).toEqual([2, 2, 2, 1]); // row i = 3: 4, 3, 2, 1 clamped to 2
  });

  it("sums the gates from the key to the query (a reverse cumulative sum)", () => {
    // One row of 3 keys for query 2: gates 0.5, 0, 0.25 -> p = 0.75, 0.25, 0.25.
    const gates = new Float64Array(9);
    gates.set([0.5, 0, 0.25], 6);
    expect(Array.from(copePositions(gates, 3, 10).subarray(6))).toEqual([0.75, 0.25, 0.25]);
    expect(() => copePositions(gates, 2, 10)).toThrow(RangeError);
    expect(() => copePositions(gates, 3, 0)).toThrow(/numPositions/);
  });
});

describe("copeInterpolate and copeBias", () => {
  it("interpolates q.e between floor and ceil of the position", () => {
    // d = 1, npos = 3, e = [10, 20, 40]; T = 2 with q = [2, 1]: q.e rows [20, 40, 80] and [10, 20, 40].
    const positions = [1.25, 0, 2, 0.5];
    const z = copeInterpolate([2, 1], positions, [10, 20, 40], 2, 1);
    expect(Array.from(z)).toEqual([0.75 * 40 + 0.25 * 80, 20, 40, 0.5 * 10 + 0.5 * 20]);
    expect(() => copeInterpolate([2, 1], [3, 0, 0, 0], [10, 20, 40], 2, 1)).toThrow(
      /positions\[0\] must lie in \[0, 2\]/,
    );
  });

  it("with all gates near 1 reduces to a relative position bias q_i . e[i - j + 1] / sqrt(d)", () => {
    // Large q.k makes every gate 1 to double precision.
    const d = 2;
    const T = 3;
    const q = [30, 30, 40, 40, 50, 50];
    const k = [30, 30, 30, 30, 30, 30];
    const e = [1, 2, 3, 4, 5, 6, 7, 8]; // [d, npos = 4]: e[p] = [1 + p, 5 + p]
    const bias = copeBias(q, k, e, T, d);
    for (let i = 0; i < T; i++) {
      for (let j = 0; j <= i; j++) {
        const p = i - j + 1;
        const expected = (q[i * d] * (1 + p) + q[i * d + 1] * (5 + p)) / Math.sqrt(d);
        expect(bias[i * T + j]).toBeCloseTo(expected, 9);
      }
    }
    const nodiv = copeBias(q, k, e, T, d, { scalePositionLogits: false });
    expect(nodiv[4]).toBeCloseTo(bias[4] * Math.sqrt(d), 9);
  });

  it("does not let later keys change earlier rows (causality)", () => {
    const T = 4;
    const d = 3;
    const q = randomValues(1, T * d);
    const k = randomValues(2, T * d);
    const e = randomValues(3, d * 6);
    const before = copeBias(q, k, e, T, d);
    const k2 = [...k];
    for (let c = 0; c < d; c++) k2[3 * d + c] += 5; // change the last key only
    const after = copeBias(q, k2, e, T, d);
    expect(Array.from(after.subarray(0, 3 * T))).toEqual(Array.from(before.subarray(0, 3 * T)));
    expect(after[3 * T]).not.toBe(before[3 * T]);
  });

  it("rejects a table that does not match numPositions", () => {
    expect(() => copeBias([1, 1], [1, 1], [1, 2, 3], 1, 2)).toThrow(/numPositions/);
    expect(() => copeBias([1, 1], [1, 1], [1, 2, 3, 4], 1, 2, { numPositions: 3 })).toThrow(
      /headDim \* numPositions/,
    );
  });
});

describe("CoPE trainable form", () => {
  const B = 2;
  const H = 2;
  const T = 5;
  const D = 3;
  const npos = 4; // small enough that some positions are clamped
  const qValues = randomValues(10, B * H * T * D, 1.5);
  const kValues = randomValues(11, B * H * T * D, 1.5);
  const eValues = randomValues(12, D * npos);

  it("equals copeBias on the same q, k and table", () => {
    const expected = copeBias(qValues, kValues, eValues, T, D, { numPositions: npos });
    const tensorBias = () =>
      tidy(() =>
        copeBiasTensor(
          tensor(qValues, [B, H, T, D]),
          tensor(kValues, [B, H, T, D]),
          tensor(eValues, [D, npos]),
          {
            causal: true,
            scalePositionLogits: true,
          },
        ).toArray(),
      );
    const got = withFloat64Storage(tensorBias);
    expect(got.length).toBe(expected.length);
    got.forEach((v, n) => {
      expect(v).toBeCloseTo(expected[n], 12);
    });
    // float32 storage agrees to float32 precision.
    const f32 = tensorBias();
    f32.forEach((v, n) => {
      expect(v).toBeCloseTo(expected[n], 4);
    });
  });

  it("has exact gradients for q, k and the position table (float64 finite differences)", () => {
    for (const causal of [true, false]) {
      const result = gradCheck(
        ([q, k, e]) => copeBiasTensor(q, k, e, { causal, scalePositionLogits: true }),
        [
          { shape: [B, H, T, D], values: qValues },
          { shape: [B, H, T, D], values: kValues },
          { shape: [D, npos], values: eValues },
        ],
      );
      expect(result.worstRatio, result.worst).toBeLessThanOrEqual(1);
    }
  });

  it("feeds gradients from an attention loss into the zero-initialised table", () => {
    const dims: ModelDims = {
      dModel: H * D,
      numHeads: H,
      headDim: D,
      numLayers: 2,
      maxSeqLen: 8,
      causal: true,
    };
    const cope = createCopeTrainable({}, dims, new Rng(1));
    expect(cope.tables.length).toBe(2);
    expect(cope.tables[0].shape).toEqual([D, 9]); // npos = maxSeqLen + 1
    expect(cope.tables[0].toArray().every((v) => v === 0)).toBe(true);
    tidy(() => {
      const q = tensor(qValues, [B, H, T, D]);
      const k = tensor(kValues, [B, H, T, D]);
      const v = tensor(randomValues(13, B * H * T * D), [B, H, T, D]);
      const bias = cope.contentAttention({ x: q, q: q, k: k, positionIds: new Float64Array(0), layer: 1 })
        .bias!;
      expect(bias.toArray().every((x) => x === 0)).toBe(true); // zero table, zero bias
      sum(attention(q, k, v, { causal: true, bias })).backward();
    });
    const grad = cope.tables[1].grad;
    expect(grad && Array.from(grad).some((g) => g !== 0)).toBe(true);
    expect(cope.tables[0].grad).toBeNull();
  });

  it("learns to attend to the previous token by training the position table", () => {
    // q = k = [2, 0, 0, 0] everywhere: q.k gives no preference and every gate is sigmoid(1), so the previous
    // token sits at the fractional position 2 sigmoid(1); only the table can make attention find it.
    const T = 8;
    const dims: ModelDims = { dModel: 4, numHeads: 1, headDim: 4, numLayers: 1, maxSeqLen: T, causal: true };
    const cope = createCopeTrainable({}, dims, new Rng(1));
    const opt = new Adam(cope.parameters(), { lr: 0.1 });
    const v = tensor(randomValues(5, T * 4), [1, 1, T, 4]);
    const q = tensor(
      Array.from({ length: T * 4 }, (_, n) => (n % 4 === 0 ? 2 : 0)),
      [1, 1, T, 4],
    );
    const losses = trainPreviousTokenAttention({
      q,
      v,
      optimizer: opt,
      steps: 60,
      bias: () =>
        cope.contentAttention({ x: q, q: q, k: q, positionIds: new Float64Array(0), layer: 0 }).bias!,
    });
    expect(losses[0]).toBeGreaterThan(0.3);
    expect(losses[59]).toBeLessThan(0.02);
    v.dispose();
    q.dispose();
  });

  it("owns one table per layer, one when shared, sized by numPositions", () => {
    const dims: ModelDims = { dModel: 8, numHeads: 2, headDim: 4, numLayers: 3, maxSeqLen: 16, causal: true };
    expect(createCopeTrainable({}, dims, new Rng(1)).parameters().length).toBe(3);
    const shared = createCopeTrainable({ shareAcrossLayers: true, numPositions: 5 }, dims, new Rng(1));
    expect(shared.parameters().map((p) => p.shape)).toEqual([[4, 5]]);
    const q = tensor(new Array(2 * 4).fill(0.1), [1, 1, 2, 4]);
    expect(
      () =>
        createCopeTrainable({}, dims, new Rng(1)).contentAttention({
          x: q,
          q: q,
          k: q,
          positionIds: new Float64Array(0),
          layer: 3,
        }).bias!,
    ).toThrow(/layer 3/);
    q.dispose();
  });
});

describe("copeSpec", () => {
  it("declares the contextual slot and validates params", () => {
    expect(copeSpec.id).toBe("cope");
    expect(copeSpec.slots).toEqual(["contextual"]);
    const enc = copeSpec.create({ maxPositions: 17 });
    expect(enc.params.maxPositions).toBe(17);
    expect(enc.attentionBias).toBeUndefined();
    expect(() => copeSpec.create({ maxPositions: -1 })).toThrow(/Invalid cope.maxPositions/);
    expect(() => copeSpec.create({ maxPositions: 2.5 })).toThrow(PosencConfigError);
    // The earlier name still parses (old configs), and cannot be given beside the new one.
    expect(copeSpec.create({ numPositions: 17 }).params.maxPositions).toBe(17);
    expect(() => copeSpec.create({ numPositions: 17, maxPositions: 17 })).toThrow(
      /cope\.numPositions.*only one of/,
    );
    expect(() => copeSpec.create({ scalePositionLogits: "yes" })).toThrow(/cope.scalePositionLogits/);
    expect(() => copeSpec.create({ npos: 3 })).toThrow(/Unknown key cope.npos/);
  });
});
