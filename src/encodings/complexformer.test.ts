import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { SMOKE_TIMEOUT, trainSmoke } from "../../test/helpers/train-smoke.js";
import { tensor, tidy, withFloat64Storage } from "../engine/index.js";
import { gradCheck, randomValues } from "../engine/testing/gradcheck.js";
import { Rng } from "../util/rng.js";
import { complexFormerScores, complexFormerScoresTensor, complexFormerSpec } from "./complexformer.js";
import { applyRope, ropeCosSinTable, ropeInverseFrequencies } from "./rope.js";

const official = JSON.parse(
  readFileSync(new URL("../../test/fixtures/complexformer-official.json", import.meta.url), "utf8"),
) as Record<"q" | "k" | "delta" | "bias" | "scores", number[]> & {
  numHeads: number;
  seqLen: number;
  headDim: number;
};
const { numHeads: H, seqLen: T, headDim: D } = official;
const P = D / 2;
const positions = Array.from({ length: T }, (_, t) => t);
const g = ropeInverseFrequencies(D);
const angles = (ids: number[], freqs: Float64Array = g) =>
  tensor(
    ids.flatMap((p) => Array.from(freqs, (f) => p * f)),
    [1, 1, ids.length, freqs.length],
  );

describe("complexformer scores", () => {
  it("match the official ComplexMultiHeadAttentionV2 scores (float64 transcription), array and tensor forms", () => {
    for (let h = 0; h < H; h++) {
      const part = (a: number[], size: number) => a.slice(h * size, (h + 1) * size);
      const scores = complexFormerScores(part(official.q, T * D), part(official.k, T * D), {
        delta: part(official.delta, P),
        bias: part(official.bias, P),
        positions,
        frequencies: g,
      });
      scores.forEach((v, n) => {
        expect(v).toBeCloseTo(official.scores[h * T * T + n], 12);
      });
    }
    const fromTensors = withFloat64Storage(() =>
      tidy(() =>
        complexFormerScoresTensor(
          tensor(official.q, [1, H, T, D]),
          tensor(official.k, [1, H, T, D]),
          tensor(official.delta, [H, P]),
          tensor(official.bias, [H, P]),
          angles(positions),
        ).toArray(),
      ),
    );
    fromTensors.forEach((v, n) => {
      expect(v).toBeCloseTo(official.scores[n], 12);
    });
  });

  it("with delta = 1, b = 0 is RoPE's q.k (half layout) without the 1/sqrt(d)", () => {
    const q = official.q.slice(0, T * D);
    const k = official.k.slice(0, T * D);
    const scores = complexFormerScores(q, k, {
      delta: [1, 1, 1, 1],
      bias: [0, 0, 0, 0],
      positions,
      frequencies: g,
    });
    const { cos, sin } = ropeCosSinTable(g, positions);
    const qr = applyRope(Float32Array.from(q), cos, sin, { numHeads: 1, headDim: D, layout: "half" });
    const kr = applyRope(Float32Array.from(k), cos, sin, { numHeads: 1, headDim: D, layout: "half" });
    for (let i = 0; i < T; i++) {
      for (let j = 0; j < T; j++) {
        let dot = 0;
        for (let c = 0; c < D; c++) dot += qr[i * D + c] * kr[j * D + c];
        expect(scores[i * T + j]).toBeCloseTo(dot, 5);
      }
    }
  });

  it("has exact gradients for q, k, delta and b (float64 finite differences)", () => {
    const result = gradCheck(
      ([q, k, delta, bias]) =>
        complexFormerScoresTensor(q, k, delta, bias, angles([0, 1, 2.5], ropeInverseFrequencies(4))),
      [
        { shape: [1, 2, 3, 4], values: randomValues(1, 24) },
        { shape: [1, 2, 3, 4], values: randomValues(2, 24) },
        { shape: [2, 2], values: randomValues(3, 4) },
        { shape: [2, 2], values: randomValues(4, 4, 0.3) },
      ],
    );
    expect(result.worstRatio, result.worst).toBeLessThanOrEqual(1);
  });
});

describe("complexformer trainable form", () => {
  it("owns delta ~ N(0, 1/sqrt(d/2)) and b = 0 per layer, and refuses an odd head size", () => {
    const dims = { dModel: 32, numHeads: 4, headDim: 8, numLayers: 2, maxSeqLen: 8, causal: true };
    const enc = complexFormerSpec.trainable!({ base: 10000 }, dims, new Rng(1));
    const [delta, bias] = enc.parameters();
    expect(enc.parameters().map((p) => p.shape)).toEqual([
      [4, 4],
      [4, 4],
      [4, 4],
      [4, 4],
    ]);
    expect(bias.toArray().every((v) => v === 0)).toBe(true);
    expect(delta.toArray().some((v) => v !== 0)).toBe(true);
    expect(() => complexFormerSpec.trainable!({ base: 10000 }, { ...dims, headDim: 7 }, new Rng(1))).toThrow(
      /head size must be even/,
    );
  });

  it("trains in the lab's transformer: the loss falls and delta, b move", SMOKE_TIMEOUT, () => {
    const result = trainSmoke({ id: "complexformer" });
    expect(result.last).toBeLessThan(0.8 * result.first);
    expect(result.encodingParamChange).toBeGreaterThan(1e-3);
  });
});
