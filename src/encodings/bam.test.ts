import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { SMOKE_TIMEOUT, trainSmoke } from "../../test/helpers/train-smoke.js";
import { attention, tensor, tidy, withFloat64Storage } from "../engine/index.js";
import { gradCheck, randomValues } from "../engine/testing/gradcheck.js";
import { Rng } from "../util/rng.js";
import { alibiBiasAt, alibiSlopes } from "./alibi.js";
import { bamBiasAt, bamBiasTensor, bamLocation, bamOffsets, bamSpec } from "./bam.js";
import type { ModelDims } from "./trainable.js";

const official = JSON.parse(
  readFileSync(new URL("../../test/fixtures/bam-prior-official.json", import.meta.url), "utf8"),
) as {
  numHeads: number;
  seqLen: number;
  slopes: number[];
  shape: number[];
  thetaMu: number[];
  prior: number[];
};

const range = (n: number) => Array.from({ length: n }, (_, i) => i);

describe("bamBiasAt", () => {
  it("matches the official AttentionPrior (float64 transcription, snapshot 5a6579d9cb0a) on every pair", () => {
    const positions = range(official.seqLen);
    const bias = bamBiasAt(
      { scale: official.slopes, shape: official.shape, location: official.thetaMu.map(bamLocation) },
      positions,
      positions,
      { causal: false },
    );
    expect(bias.length).toBe(official.prior.length);
    bias.forEach((v, n) => {
      expect(v).toBeCloseTo(official.prior[n], 12);
    });
  });

  it("beta = 0 is NoPE: a constant per head, so attention equals attention without a bias", () => {
    const positions = range(6);
    const bias = bamBiasAt({ scale: [0.7, 2], shape: [0, 0], location: [0, 1.5] }, positions, positions, {
      causal: false,
    });
    for (let h = 0; h < 2; h++) {
      for (let n = 0; n < 36; n++) expect(bias[h * 36 + n]).toBe(-[0.7, 2][h]);
    }
    withFloat64Storage(() =>
      tidy(() => {
        const shape = [1, 2, 6, 4];
        const q = tensor(randomValues(1, 48), shape);
        const k = tensor(randomValues(2, 48), shape);
        const v = tensor(randomValues(3, 48), shape);
        const withPrior = attention(q, k, v, { causal: true, bias: tensor(bias, [1, 2, 6, 6]) }).toArray();
        const nope = attention(q, k, v, { causal: true }).toArray();
        withPrior.forEach((x, n) => {
          expect(x).toBeCloseTo(nope[n], 14);
        });
      }),
    );
  });

  it("beta = 1, mu = 0, eps = 0 is ALiBi exactly (both variants); eps > 0 only shifts each head by -alpha eps", () => {
    const slopes = alibiSlopes(4);
    const positions = [0, 1, 2, 3, 4, 7.5];
    for (const causal of [true, false]) {
      const alibi = alibiBiasAt(slopes, positions, positions, { causal });
      const prior = { scale: slopes, shape: [1, 1, 1, 1], location: [0, 0, 0, 0] };
      const exact = bamBiasAt({ ...prior, eps: 0 }, positions, positions, { causal });
      expect(Array.from(Float32Array.from(exact))).toEqual(Array.from(alibi));
      const shifted = bamBiasAt(prior, positions, positions, { causal: false });
      const symmetric = bamBiasAt({ ...prior, eps: 0 }, positions, positions, { causal: false });
      shifted.forEach((x, n) => {
        const h = Math.floor(n / 36);
        expect(x - symmetric[n]).toBeCloseTo(-slopes[h] * 1e-5, 15);
      });
    }
  });

  it("beta = 2, eps = 0 is the log of a Gaussian prior with variance 1 / (2 alpha), centred at mu", () => {
    const sigma = 1.7;
    const mu = -2;
    const positions = range(7);
    const bias = bamBiasAt(
      { scale: [1 / (2 * sigma ** 2)], shape: [2], location: [mu], eps: 0 },
      positions,
      positions,
      {
        causal: false,
      },
    );
    for (const i of positions) {
      for (const j of positions) {
        expect(bias[i * 7 + j]).toBeCloseTo(-((j - i - mu) ** 2) / (2 * sigma ** 2), 14);
      }
    }
  });

  it("gives future keys 0 in the causal variant and rejects bad priors", () => {
    const bias = bamBiasAt({ scale: [1], shape: [1.5], location: [0] }, [0, 1, 2], [0, 1, 2]);
    expect([bias[1], bias[2], bias[5]]).toEqual([0, 0, 0]);
    expect(bias[3]).toBeCloseTo(-((1 + 1e-5) ** 1.5), 14);
    expect(() => bamBiasAt({ scale: [0], shape: [1], location: [0] }, [0], [0])).toThrow(/scale\[0\]/);
    expect(() => bamBiasAt({ scale: [1, 1], shape: [1], location: [0] }, [0], [0])).toThrow(RangeError);
  });
});

describe("bam spec", () => {
  it("defaults to ALiBi's slopes with shape 1 (the official init) for the model's head count", () => {
    const enc = bamSpec.create({ eps: 0 });
    const positions = range(5);
    expect(Array.from(enc.attentionBias!(positions, positions, 4))).toEqual(
      Array.from(alibiBiasAt(alibiSlopes(4), positions, positions)),
    );
    expect(() => bamSpec.create({ scale: [1, 2, 3] }).attentionBias!([0], [0], 2)).toThrow(
      /bam\.scale.*one value for every head or numHeads = 2 values/,
    );
    expect(() => bamSpec.create({ scale: [-1] }).attentionBias!([0], [0], 2)).toThrow(/bam\.scale\[0\]/);
  });
});

const DIMS: ModelDims = { dModel: 8, numHeads: 4, headDim: 2, numLayers: 2, maxSeqLen: 16, causal: true };

describe("bam trainable form", () => {
  it("equals the framework-free prior at its initial values, per example ids", () => {
    const enc = bamSpec.trainable!(
      bamSpec.create({ shape: [0.5, 1, 1.5, 2], location: [0, 0.5, 0, -0.3] }).params as never,
      DIMS,
      new Rng(1),
    );
    const rows = [
      [0, 1, 2, 3],
      [5, 6, 8, 9.5],
    ];
    const out = tidy(() => enc.attentionBias!(Float64Array.from(rows.flat()), 2, 4, 0).toArray());
    rows.forEach((row, b) => {
      const expected = bamBiasAt(
        { scale: alibiSlopes(4), shape: [0.5, 1, 1.5, 2], location: [0, 0.5, 0, -0.3] },
        row,
        row,
        { causal: false },
      );
      expected.forEach((v, n) => {
        expect(out[b * 64 + n]).toBeCloseTo(v, 5);
      });
    });
  });

  it("learns scale and shape by default, location only when asked (official train_loc = False)", () => {
    const names = (params: Record<string, unknown>) =>
      bamSpec.trainable!(bamSpec.create(params).params as never, DIMS, new Rng(1))
        .parameters()
        .map((p) => p.name);
    expect(names({})).toEqual(["bam.logScale", "bam.shape"]);
    expect(names({ trainLocation: true, trainScale: false })).toEqual(["bam.shape", "bam.thetaMu"]);
  });

  it("has exact gradients for log scale, shape and location (float64 finite differences)", () => {
    const offsets = bamOffsets([0, 1, 2, 4, 7]);
    const result = gradCheck(
      ([logScale, shape, thetaMu]) => bamBiasTensor({ logScale, shape, thetaMu }, tensor(offsets, [1, 5, 5])),
      [
        { shape: [3], values: [-1, 0.2, 0.5] },
        { shape: [3], values: [0.3, 1.1, 1.9] },
        { shape: [3], values: [0.05, -0.4, 0.7] },
      ],
    );
    expect(result.worstRatio, result.worst).toBeLessThanOrEqual(1);
  });

  it("trains in the lab's transformer: the loss falls and the prior's parameters move", SMOKE_TIMEOUT, () => {
    const result = trainSmoke({ id: "bam" });
    expect(result.last).toBeLessThan(0.8 * result.first);
    expect(result.encodingParamChange).toBeGreaterThan(1e-3);
  });
});
