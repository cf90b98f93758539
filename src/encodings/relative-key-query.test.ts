import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { SMOKE_TIMEOUT, trainSmoke } from "../../test/helpers/train-smoke.js";
import { tensor, tidy, withFloat64Storage } from "../engine/index.js";
import { gradCheck, randomValues } from "../engine/testing/gradcheck.js";
import { Rng } from "../util/rng.js";
import {
  relativeKeyQueryBias,
  relativeKeyQueryBiasTensor,
  relativeKeyQuerySpec,
  relativeRowTensors,
  relativeTableRow,
} from "./relative-key-query.js";
import type { ModelDims } from "./trainable.js";

const hf = JSON.parse(
  readFileSync(new URL("../../test/fixtures/relative-key-query-hf.json", import.meta.url), "utf8"),
) as {
  numHeads: number;
  seqLen: number;
  headDim: number;
  maxPositions: number;
  q: number[];
  k: number[];
  table: number[];
  scoresKeyQuery: number[];
  scoresKey: number[];
};

const { numHeads: H, seqLen: T, headDim: D, maxPositions: P } = hf;
const positions = Array.from({ length: T }, (_, i) => i);

/** q.k / sqrt(d) of head h from the fixture. */
function contentScore(h: number, i: number, j: number): number {
  let s = 0;
  for (let c = 0; c < D; c++) s += hf.q[(h * T + i) * D + c] * hf.k[(h * T + j) * D + c];
  return s / Math.sqrt(D);
}

describe("relativeKeyQueryBias", () => {
  it("q.k/sqrt(d) + the bias equals HF BERT's relative_key_query and relative_key scores (float64 transcription)", () => {
    for (const interaction of ["key-query", "key"] as const) {
      const expected = interaction === "key-query" ? hf.scoresKeyQuery : hf.scoresKey;
      for (let h = 0; h < H; h++) {
        const slice = (a: number[]) => a.slice(h * T * D, (h + 1) * T * D);
        const bias = relativeKeyQueryBias(slice(hf.q), slice(hf.k), hf.table, positions, {
          maxPositions: P,
          headDim: D,
          interaction,
        });
        for (let i = 0; i < T; i++) {
          for (let j = 0; j < T; j++) {
            expect(contentScore(h, i, j) + bias[i * T + j]).toBeCloseTo(expected[(h * T + i) * T + j], 13);
          }
        }
      }
    }
  });

  it("clips distances beyond maxPositions - 1 and interpolates fractional distances", () => {
    expect([-10, -3, 0, 2.5, 3, 99].map((d) => relativeTableRow(d, 4))).toEqual([0, 0, 3, 5.5, 6, 6]);
    // One channel, table [0, 1, 2, ..., 6]: q = 1, k = 0 reads the row value itself (times 1/sqrt(1)).
    const table = [0, 1, 2, 3, 4, 5, 6];
    const bias = relativeKeyQueryBias([1, 1], [0, 0], table, [0, 1.5], { maxPositions: 4, headDim: 1 });
    expect(Array.from(bias)).toEqual([3, 1.5, 4.5, 3]);
  });
});

describe("relative-key-query trainable form", () => {
  it("equals the array form per head (batch rows with their own ids)", () => {
    withFloat64Storage(() =>
      tidy(() => {
        const ids = Float64Array.from([0, 1, 2, 3, 4, 2, 7, 8]);
        const q = tensor(randomValues(1, 2 * H * 4 * D), [2, H, 4, D]);
        const k = tensor(randomValues(2, 2 * H * 4 * D), [2, H, 4, D]);
        const table = tensor(hf.table, [2 * P - 1, D]);
        const out = relativeKeyQueryBiasTensor(q, k, table, relativeRowTensors(ids, 2, 4, H, P)).toArray();
        for (let b = 0; b < 2; b++) {
          for (let h = 0; h < H; h++) {
            const part = (t: number[]) => t.slice((b * H + h) * 4 * D, ((b * H + h) * 4 + 4) * D);
            const expected = relativeKeyQueryBias(
              part(q.toArray()),
              part(k.toArray()),
              hf.table,
              ids.subarray(b * 4, b * 4 + 4),
              {
                maxPositions: P,
                headDim: D,
              },
            );
            expected.forEach((v, n) => {
              expect(out[(b * H + h) * 16 + n]).toBeCloseTo(v, 12);
            });
          }
        }
      }),
    );
  });

  it("has exact gradients for q, k and the table (float64 finite differences)", () => {
    const ids = Float64Array.from([0, 1, 2, 4.5]);
    const result = gradCheck(
      ([q, k, table]) => {
        const rows = relativeRowTensors(ids, 1, 4, 2, 3);
        return relativeKeyQueryBiasTensor(q, k, table, rows);
      },
      [
        { shape: [1, 2, 4, 3], values: randomValues(5, 24) },
        { shape: [1, 2, 4, 3], values: randomValues(6, 24) },
        { shape: [5, 3], values: randomValues(7, 15) },
      ],
    );
    expect(result.worstRatio, result.worst).toBeLessThanOrEqual(1);
  });

  it("owns one N(0, 0.02) table of 2 * maxPositions - 1 rows per layer (the model's maxSeqLen by default)", () => {
    const dims: ModelDims = { dModel: 8, numHeads: 2, headDim: 4, numLayers: 3, maxSeqLen: 10, causal: true };
    const enc = relativeKeyQuerySpec.trainable!(
      { interaction: "key-query", maxPositions: 0 },
      dims,
      new Rng(1),
    );
    expect(enc.parameters().map((p) => p.shape)).toEqual([
      [19, 4],
      [19, 4],
      [19, 4],
    ]);
    const values = enc.parameters()[0].toArray();
    const std = Math.sqrt(values.reduce((s, v) => s + v * v, 0) / values.length);
    expect(std).toBeGreaterThan(0.01);
    expect(std).toBeLessThan(0.03);
    expect(() => relativeKeyQuerySpec.create({ interaction: "value" })).toThrow(
      /relative-key-query\.interaction/,
    );
    // A zero table adds nothing.
    tidy(() => {
      const q = tensor(randomValues(1, 8), [1, 1, 2, 4]);
      const zero = tensor(new Float32Array(7 * 4), [7, 4]);
      const bias = relativeKeyQueryBiasTensor(
        q,
        q,
        zero,
        relativeRowTensors(Float64Array.from([0, 1]), 1, 2, 1, 4),
      );
      expect(bias.toArray()).toEqual([0, 0, 0, 0]);
    });
  });

  it("trains in the lab's transformer: the loss falls and the tables move", SMOKE_TIMEOUT, () => {
    const result = trainSmoke({ id: "relative-key-query" });
    expect(result.last).toBeLessThan(0.8 * result.first);
    expect(result.encodingParamChange).toBeGreaterThan(1e-3);
  });
});
