import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { SMOKE_TIMEOUT, trainSmoke } from "../../test/helpers/train-smoke.js";
import { permute, tensor, tidy, withFloat64Storage } from "../engine/index.js";
import { gradCheck, randomValues } from "../engine/testing/gradcheck.js";
import { alibiBiasAt, alibiSlopes } from "./alibi.js";
import {
  grapeAdditiveBias,
  grapeAdditiveBiasTensor,
  grapeRotate,
  grapeRotateTensor,
  grapeSpec,
  softplusInverse,
} from "./grape.js";

const official = JSON.parse(
  readFileSync(new URL("../../test/fixtures/grape-official.json", import.meta.url), "utf8"),
) as {
  seqLen: number;
  numHeads: number;
  headDim: number;
  logFreq: number[];
  q: number[];
  k: number[];
  qRotated: number[];
  kRotated: number[];
  omega: number[];
  v: number[];
  bias: number[];
};
const { seqLen: T, numHeads: H, headDim: D } = official;
const P = D / 2;
const positions = Array.from({ length: T }, (_, t) => t);
/** (B, T, H, D) fixture values as a [1, H, T, D] tensor. */
const headsFirst = (values: number[]) => permute(tensor(values, [1, T, H, D]), [0, 2, 1, 3]);

describe("GRAPE multiplicative", () => {
  it("matches the official MSGRAPECommuting rotation (per-head spectra) for queries and keys", () => {
    withFloat64Storage(() =>
      tidy(() => {
        const logFreq = tensor(official.logFreq, [H, P]);
        const ids = tensor(positions, [1, T]);
        for (const [x, expected] of [
          [official.q, official.qRotated],
          [official.k, official.kRotated],
        ] as const) {
          const got = grapeRotateTensor(headsFirst(x), logFreq, ids).toArray();
          const want = headsFirst(expected).toArray();
          got.forEach((v, n) => {
            expect(v).toBeCloseTo(want[n], 12);
          });
        }
      }),
    );
  });

  it("framework-free: RoPE's spectrum rotated by -n omega, as the official head with the initial spectrum", () => {
    const enc = grapeSpec.create({ headDim: D });
    const x = Float32Array.from(official.q); // (T, H, D) token-major: transformQK's layout
    enc.transformQK!(x, positions, H, D, "query");
    for (let t = 0; t < T; t++) {
      for (let c = 0; c < D; c++)
        expect(x[(t * H + 0) * D + c]).toBeCloseTo(official.qRotated[(t * H + 0) * D + c], 5);
    }
    // The same as the array reference.
    const omega = Array.from({ length: P }, (_, j) => 10000 ** ((-2 * j) / D));
    const ref = grapeRotate(official.q.slice(2 * H * D, 2 * H * D + D), 2, omega);
    ref.forEach((v, c) => {
      expect(x[2 * H * D + c]).toBeCloseTo(v, 5);
    });
  });

  it("is relative: <G(m) q, G(n) k> depends on m - n only", () => {
    const omega = [0.9, 0.2, 0.05];
    const q = [0.3, -1, 0.5, 2, 0.1, -0.4];
    const k = [1.2, 0.7, -0.3, 0.2, -1, 0.6];
    const score = (m: number, n: number) => {
      const a = grapeRotate(q, m, omega);
      const b = grapeRotate(k, n, omega);
      return a.reduce((s, v, c) => s + v * b[c], 0);
    };
    expect(score(7, 3)).toBeCloseTo(score(4, 0), 12);
    expect(score(2, 9)).toBeCloseTo(score(10, 17), 12);
  });

  it("has exact gradients for the log-frequencies and the input (float64 finite differences)", () => {
    const ids = [0, 1, 3, 4.5];
    const result = gradCheck(
      ([x, logFreq]) => grapeRotateTensor(x, logFreq, tensor(ids, [1, 4])),
      [
        { shape: [1, 2, 4, 6], values: randomValues(1, 48) },
        { shape: [2, 2], values: [-2, 8, -1, 5] }, // per head, 2 of 3 pairs rotated: channels 4..5 pass through
      ],
    );
    expect(result.worstRatio, result.worst).toBeLessThanOrEqual(1);
  });
});

describe("GRAPE additive", () => {
  it("matches the official QueryGatedAdditiveBias", () => {
    withFloat64Storage(() =>
      tidy(() => {
        const dist = tensor(
          positions.flatMap((i) => positions.map((j) => Math.max(i - j, 0))),
          [1, 1, T, T],
        );
        const bias = grapeAdditiveBiasTensor(
          headsFirst(official.q),
          tensor(official.omega, [H]),
          tensor(official.v, [H, D]),
          dist,
          tensor(alibiSlopes(H), [H]),
        ).toArray();
        bias.forEach((v, n) => {
          expect(v).toBeCloseTo(official.bias[n], 12);
        });
        // The array form agrees head by head.
        const q = headsFirst(official.q).toArray();
        for (let h = 0; h < H; h++) {
          const ref = grapeAdditiveBias(
            q.slice(h * T * D, (h + 1) * T * D),
            official.v.slice(h * D, (h + 1) * D),
            {
              omega: Math.log1p(Math.exp(official.omega[h])),
              slope: alibiSlopes(H)[h],
              positions,
            },
          );
          ref.forEach((v, n) => {
            expect(v).toBeCloseTo(official.bias[h * T * T + n], 12);
          });
        }
      }),
    );
  });

  it("with a constant gate is ALiBi: q = 0 gives softplus(0) = ln 2, and omega = 1 / ln 2 cancels it", () => {
    const bias = grapeAdditiveBias(new Array(4 * 3).fill(0), [1, 2, 3], {
      omega: 1 / Math.LN2,
      slope: 0.25,
      positions: [0, 1, 2, 3],
    });
    const alibi = alibiBiasAt([0.25], [0, 1, 2, 3], [0, 1, 2, 3]);
    bias.forEach((v, n) => {
      expect(v).toBeCloseTo(alibi[n], 12);
    });
    expect(softplusInverse(1)).toBeCloseTo(Math.log(Math.E - 1), 15);
  });

  it("has exact gradients for q, w and v (float64 finite differences)", () => {
    const dist = tensor([0, 0, 0, 1, 0, 0, 2, 1, 0], [1, 1, 3, 3]);
    const result = gradCheck(
      ([q, w, v]) => grapeAdditiveBiasTensor(q, w, v, dist, tensor([0.5, 0.25], [2])),
      [
        { shape: [1, 2, 3, 4], values: randomValues(3, 24) },
        { shape: [2], values: [0.54, -0.3] },
        { shape: [2, 4], values: randomValues(4, 8) },
      ],
    );
    expect(result.worstRatio, result.worst).toBeLessThanOrEqual(1);
  });
});

describe("grape in the lab's transformer", () => {
  it("multiplicative: the loss falls and the learned frequencies move", SMOKE_TIMEOUT, () => {
    const result = trainSmoke({ id: "grape" });
    expect(result.last).toBeLessThan(0.8 * result.first);
    expect(result.encodingParamChange).toBeGreaterThan(1e-3);
  });

  it("additive: the loss falls and omega, v move", SMOKE_TIMEOUT, () => {
    const result = trainSmoke({ id: "grape", params: { form: "additive" } });
    expect(result.last).toBeLessThan(0.8 * result.first);
    expect(result.encodingParamChange).toBeGreaterThan(1e-3);
  });

  it("rejects a spectrum of the wrong size, naming the key", () => {
    expect(() => grapeSpec.create({ headDim: 8, frequencies: [1, 2] })).toThrow(/grape\.frequencies/);
  });
});
