import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { SMOKE_TIMEOUT, trainSmoke } from "../../test/helpers/train-smoke.js";
import { tensor, tidy, withFloat64Storage } from "../engine/index.js";
import { gradCheck, randomValues } from "../engine/testing/gradcheck.js";
import { Rng } from "../util/rng.js";
import {
  COPE_COMPLEX_VARIANTS,
  type CopeComplexVariant,
  complexPositionPart,
  copeComplexScores,
  copeComplexScoresTensor,
  copeComplexSpec,
} from "./cope-complex.js";

type Weights = Record<"qr" | "qi" | "kr" | "ki", number[]>;
const official = JSON.parse(
  readFileSync(new URL("../../test/fixtures/cope-complex-official.json", import.meta.url), "utf8"),
) as {
  dModel: number;
  numHeads: number;
  seqLen: number;
  gamma: number;
  alpha: number;
  positions: number[];
  imag: number[];
  real: number[];
  weights: Weights;
  scores: Record<CopeComplexVariant, number[]>;
};
const { dModel: D, numHeads: H, seqLen: T, alpha } = official;

const weightTensors = (w: Weights) => ({
  qr: tensor(w.qr, [D, D]),
  qi: tensor(w.qi, [D, D]),
  kr: tensor(w.kr, [D, D]),
  ki: tensor(w.ki, [D, D]),
});

describe("cope-complex math", () => {
  it("builds the official imaginary part: gamma sin(omega_j t) on channels 2j and 2j + 1", () => {
    const p = complexPositionPart(official.positions, D, official.gamma);
    p.forEach((v, n) => {
      expect(v).toBeCloseTo(official.imag[n], 14);
    });
    expect(() => complexPositionPart([0], 7)).toThrow(/even integer/);
  });

  it("matches the author's MultiHeadAttentionComplex scores for every variant, array and tensor forms", () => {
    for (const variant of COPE_COMPLEX_VARIANTS) {
      const options = { numHeads: H, variant, alpha };
      const expected = official.scores[variant];
      const scores = copeComplexScores(official.real, official.imag, official.weights, options);
      scores.forEach((v, n) => {
        expect(v).toBeCloseTo(expected[n], 12);
      });
      const fromTensors = withFloat64Storage(() =>
        tidy(() =>
          copeComplexScoresTensor(
            tensor(official.real, [1, T, D]),
            tensor(official.imag, [1, T, D]),
            weightTensors(official.weights),
            options,
          ).toArray(),
        ),
      );
      fromTensors.forEach((v, n) => {
        expect(v).toBeCloseTo(expected[n], 12);
      });
    }
  });

  it("is absolute: without the imaginary part (gamma = 0) the scores ignore positions; with it, a shift changes them", () => {
    const options = { numHeads: H, variant: "hybrid" as const, alpha };
    const at = (positions: number[], gamma: number) =>
      copeComplexScores(official.real, complexPositionPart(positions, D, gamma), official.weights, options);
    const ids = [0, 1, 2, 3, 4];
    const shifted = ids.map((t) => t + 7);
    expect(Array.from(at(shifted, 0))).toEqual(Array.from(at(ids, 0)));
    const a = at(ids, 1);
    const b = at(shifted, 1);
    expect(Math.max(...a.map((v, n) => Math.abs(v - b[n])))).toBeGreaterThan(1e-3);
  });

  it("'real' is the real part of the Hermitian product: with W_i = 0 it is (x W_q).(x W_k) + (p W_q).(p W_k), over d_k", () => {
    const zero = new Array<number>(D * D).fill(0);
    const w = { ...official.weights, qi: zero, ki: zero };
    const scores = copeComplexScores(official.real, official.imag, w, {
      numHeads: H,
      variant: "real",
      alpha,
    });
    const project = (a: number[], m: number[], t: number, c: number) =>
      Array.from({ length: D }, (_, i) => a[t * D + i] * m[i * D + c]).reduce((s, v) => s + v, 0);
    const dk = D / H;
    for (let h = 0; h < H; h++)
      for (let i = 0; i < T; i++)
        for (let j = 0; j < T; j++) {
          let s = 0;
          for (let c = h * dk; c < (h + 1) * dk; c++) {
            s += project(official.real, w.qr, i, c) * project(official.real, w.kr, j, c);
            s += project(official.imag, w.qr, i, c) * project(official.imag, w.kr, j, c);
          }
          expect(scores[(h * T + i) * T + j]).toBeCloseTo(s / dk, 12);
        }
  });

  it("has exact gradients for x and the four projections in every variant (float64 finite differences)", () => {
    const d = 4;
    const p = complexPositionPart([0, 1, 3], d);
    for (const variant of COPE_COMPLEX_VARIANTS) {
      const result = gradCheck(
        ([x, qr, qi, kr, ki]) =>
          copeComplexScoresTensor(
            x,
            tensor(p, [1, 3, d]),
            { qr, qi, kr, ki },
            { numHeads: 2, variant, alpha: 0.3 },
          ),
        [
          { shape: [2, 3, d], values: randomValues(1, 2 * 3 * d) },
          ...[2, 3, 4, 5].map((seed) => ({ shape: [d, d], values: randomValues(seed, d * d, 0.5) })),
        ],
      );
      expect(result.worstRatio, `${variant}: ${result.worst}`).toBeLessThanOrEqual(1);
    }
  });
});

describe("cope-complex trainable form", () => {
  const dims = { dModel: 8, numHeads: 2, headDim: 4, numLayers: 2, maxSeqLen: 8, causal: true };

  it("owns the first layer's four complex projections and scores only layer 0, each example at its own ids", () => {
    const params = copeComplexSpec.create({}).params;
    expect(params).toEqual({ variant: "hybrid", alpha: 0.2, gamma: 1, base: 10000 });
    const enc = copeComplexSpec.trainable!(params as never, dims, new Rng(1));
    expect(enc.parameters().map((p) => p.shape)).toEqual([
      [8, 8],
      [8, 8],
      [8, 8],
      [8, 8],
    ]);
    const [qr, qi, kr, ki] = enc.parameters().map((p) => Array.from(p.data));
    const rows = [
      [0, 1, 2],
      [4, 5, 9],
    ];
    const x = randomValues(9, 2 * 3 * 8);
    const got = withFloat64Storage(() =>
      tidy(() => {
        const input = {
          x: tensor(x, [2, 3, 8]),
          q: tensor(new Array(48).fill(0), [2, 2, 3, 4]),
          k: tensor(new Array(48).fill(0), [2, 2, 3, 4]),
          positionIds: Float64Array.from(rows.flat()),
        };
        expect(enc.contentAttention!({ ...input, layer: 1 })).toEqual({});
        return enc.contentAttention!({ ...input, layer: 0 }).scores!.toArray();
      }),
    );
    rows.forEach((row, b) => {
      const expected = copeComplexScores(
        x.slice(b * 24, (b + 1) * 24),
        complexPositionPart(row, 8),
        { qr, qi, kr, ki },
        { numHeads: 2, variant: "hybrid", alpha: 0.2 },
      );
      expected.forEach((v, n) => {
        expect(got[b * 18 + n]).toBeCloseTo(v, 5);
      });
    });
    expect(() => copeComplexSpec.create({ variant: "hybrid_norm" })).toThrow(/cope-complex\.variant/);
  });

  it("trains in the lab's transformer: the loss falls and the projections move", SMOKE_TIMEOUT, () => {
    const result = trainSmoke({ id: "cope-complex" });
    expect(result.last).toBeLessThan(0.8 * result.first);
    expect(result.encodingParamChange).toBeGreaterThan(1e-3);
  });
});
