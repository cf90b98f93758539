import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { SMOKE_TIMEOUT, trainSmoke } from "../../test/helpers/train-smoke.js";
import { attention, parameter, sum, type Tensor, tensor, tidy, withFloat64Storage } from "../engine/index.js";
import { gradCheck, randomValues } from "../engine/testing/gradcheck.js";
import { Rng } from "../util/rng.js";
import { ropeCosSinTable, ropeInverseFrequencies } from "./rope.js";
import { imaginaryQueryTables, isImaginaryHead, pairHeads, ropePlusPlusSpec } from "./rope-plus-plus.js";
import type { ModelDims } from "./trainable.js";

const official = JSON.parse(
  readFileSync(new URL("../../test/fixtures/rope-plus-plus-official.json", import.meta.url), "utf8"),
) as Record<"q" | "k" | "kRope" | "qHalf" | "qInterleaved" | "qAll", number[]> & {
  numHeads: number;
  seqLen: number;
  headDim: number;
};
const { numHeads: H, seqLen: T, headDim: D } = official;
const positions = Array.from({ length: T }, (_, t) => t);

/** [1, H, T, D] (the fixture's layout) to [T, H, D] (transformQK's) and back. */
const toTokenMajor = (x: ArrayLike<number>) =>
  Float32Array.from({ length: H * T * D }, (_, n) => {
    const t = Math.floor(n / (H * D));
    const h = Math.floor(n / D) % H;
    return x[(h * T + t) * D + (n % D)];
  });

const MODES = { half: "qHalf", interleaved: "qInterleaved", all: "qAll" } as const;

describe("rope-plus-plus framework-free", () => {
  it("matches the official apply_rotary_pos_emb (imagh / imagx / imago) for queries and keys", () => {
    for (const [mode, key] of Object.entries(MODES)) {
      const enc = ropePlusPlusSpec.create({ headDim: D, imaginaryHeads: mode });
      const q = toTokenMajor(official.q);
      const k = toTokenMajor(official.k);
      enc.transformQK!(q, positions, H, D, "query");
      enc.transformQK!(k, positions, H, D, "key");
      const qExpected = toTokenMajor(official[key]);
      const kExpected = toTokenMajor(official.kRope);
      q.forEach((v, n) => {
        expect(v).toBeCloseTo(qExpected[n], 5);
      });
      k.forEach((v, n) => {
        expect(v).toBeCloseTo(kExpected[n], 5);
      });
    }
  });

  it("an imaginary head's score per pair is (q.k) sin(delta) - (q x k) cos(delta), delta = (m - n) theta", () => {
    const enc = ropePlusPlusSpec.create({ headDim: 2, imaginaryHeads: "all", base: 7 });
    const theta = 1; // headDim 2: theta_0 = base^0 = 1
    for (const [m, n] of [
      [3, 1],
      [0, 4],
      [5, 5],
    ]) {
      const q = Float32Array.from([0.3, -1.2]);
      const k = Float32Array.from([0.8, 0.5]);
      const dot = q[0] * k[0] + q[1] * k[1];
      const cross = q[0] * k[1] - q[1] * k[0];
      enc.transformQK!(q, [m], 1, 2, "query");
      enc.transformQK!(k, [n], 1, 2, "key");
      const delta = (m - n) * theta;
      expect(q[0] * k[0] + q[1] * k[1]).toBeCloseTo(dot * Math.sin(delta) - cross * Math.cos(delta), 6);
    }
  });

  it("turns RoPE's query tables by -pi/2 exactly and picks heads as the official modes", () => {
    const tables = ropeCosSinTable(ropeInverseFrequencies(4), [0, 1, 2]);
    const turned = imaginaryQueryTables(tables);
    expect(Array.from(turned.cos)).toEqual(Array.from(tables.sin));
    expect(Array.from(turned.sin)).toEqual(Array.from(tables.cos, (c) => -c));
    const heads = (mode: "half" | "interleaved" | "all", n: number) =>
      Array.from({ length: n }, (_, h) => isImaginaryHead(h, n, mode));
    expect(heads("half", 4)).toEqual([false, false, true, true]);
    expect(heads("half", 3)).toEqual([false, true, true]);
    expect(heads("interleaved", 4)).toEqual([false, true, false, true]);
    expect(heads("all", 2)).toEqual([true, true]);
    expect(() => ropePlusPlusSpec.create({ imaginaryHeads: "pairs" })).toThrow(
      /rope-plus-plus\.imaginaryHeads/,
    );
  });
});

/** RoPE++_EH (official imag1): q, k, v of the pairs' projections and the attention output, before o_proj. */
const paired = JSON.parse(
  readFileSync(new URL("../../test/fixtures/rope-plus-plus-paired.json", import.meta.url), "utf8"),
) as Record<"q" | "k" | "v" | "qRotated" | "kRotated" | "output", number[]> & {
  numHeads: number;
  seqLen: number;
  headDim: number;
};

describe("rope-plus-plus paired heads (RoPE++_EH)", () => {
  const { numHeads: HP, seqLen: TP, headDim: DP } = paired;
  const size = TP * DP;
  /**
   * [1, H, T, D] with head 2p = the official projection p and head 2p + 1 = unrelated values (the projections the
   * EH model does not have), so a test fails if an odd head's own input leaks through.
   */
  const spread = (x: number[], seed: number) => {
    const other = randomValues(seed, HP * size);
    return Array.from({ length: HP * size }, (_, n) => {
      const h = Math.floor(n / size);
      return h % 2 === 0 ? x[(h / 2) * size + (n % size)] : other[n];
    });
  };
  const toTokenMajorP = (x: ArrayLike<number>) =>
    Float32Array.from({ length: HP * size }, (_, n) => {
      const t = Math.floor(n / (HP * DP));
      const h = Math.floor(n / DP) % HP;
      return x[(h * TP + t) * DP + (n % DP)];
    });
  const positionsP = Array.from({ length: TP }, (_, t) => t);

  it("framework-free: pairs and rotates queries and keys as the official imag1 apply_rotary_pos_emb", () => {
    const enc = ropePlusPlusSpec.create({ headDim: DP, imaginaryHeads: "paired" });
    const q = toTokenMajorP(spread(paired.q, 11));
    const k = toTokenMajorP(spread(paired.k, 12));
    enc.transformQK!(q, positionsP, HP, DP, "query");
    enc.transformQK!(k, positionsP, HP, DP, "key");
    const qExpected = toTokenMajorP(paired.qRotated);
    const kExpected = toTokenMajorP(paired.kRotated);
    q.forEach((v, n) => {
      expect(v).toBeCloseTo(qExpected[n], 5);
    });
    k.forEach((v, n) => {
      expect(v).toBeCloseTo(kExpected[n], 5);
    });
    expect(() => pairHeads(new Float32Array(3 * 2), 3, 2)).toThrow(/numHeads must be even/);
  });

  const dimsP: ModelDims = {
    dModel: HP * DP,
    numHeads: HP,
    headDim: DP,
    numLayers: 1,
    maxSeqLen: 8,
    causal: true,
  };
  const pairedAttention = (q: Tensor, k: Tensor, v: Tensor) => {
    const params = ropePlusPlusSpec.create({ headDim: DP, imaginaryHeads: "paired" }).params;
    const enc = ropePlusPlusSpec.trainable!(params as never, dimsP, new Rng(1));
    const ids = Float64Array.from(positionsP);
    const r = enc.transformQK!(q, k, ids, 0);
    return attention(r.q, r.k, enc.transformValues!(v, ids, 0), { causal: true });
  };

  it("trainable: the attention output equals the official imag1 attention (float64)", () => {
    const out = withFloat64Storage(() =>
      tidy(() =>
        pairedAttention(
          tensor(spread(paired.q, 11), [1, HP, TP, DP]),
          tensor(spread(paired.k, 12), [1, HP, TP, DP]),
          tensor(spread(paired.v, 13), [1, HP, TP, DP]),
        ).toArray(),
      ),
    );
    // Float32 cos/sin tables (as every rotary method's): agreement to ~1e-7.
    out.forEach((v, n) => {
      expect(v).toBeCloseTo(paired.output[n], 6);
    });
  });

  it("trainable: exact gradients for q, k, v (float64 finite differences), zero for the odd heads' inputs", () => {
    const n = HP * size;
    const result = gradCheck(
      ([q, k, v]) => pairedAttention(q, k, v),
      [
        { shape: [1, HP, TP, DP], values: randomValues(21, n) },
        { shape: [1, HP, TP, DP], values: randomValues(22, n) },
        { shape: [1, HP, TP, DP], values: randomValues(23, n) },
      ],
    );
    expect(result.worstRatio, result.worst).toBeLessThanOrEqual(1);
    const grads = withFloat64Storage(() =>
      tidy(() => {
        const inputs = [21, 22, 23].map((seed) => parameter(randomValues(seed, n), [1, HP, TP, DP]));
        sum(pairedAttention(inputs[0], inputs[1], inputs[2])).backward();
        return inputs.map((p) => Array.from(p.grad!));
      }),
    );
    for (const g of grads) {
      g.forEach((value, i) => {
        if (Math.floor(i / size) % 2 === 1) expect(value).toBe(0);
      });
      expect(g.some((value) => value !== 0)).toBe(true);
    }
    expect(() =>
      ropePlusPlusSpec.trainable!(
        { headDim: DP, base: 10000, imaginaryHeads: "paired", layout: "half" } as never,
        { ...dimsP, numHeads: 3 },
        new Rng(1),
      ),
    ).toThrow(/even number of heads/);
  });

  it("trains in the lab's transformer: the loss falls", SMOKE_TIMEOUT, () => {
    const result = trainSmoke({ id: "rope-plus-plus", params: { imaginaryHeads: "paired" } });
    expect(result.last).toBeLessThan(0.8 * result.first);
  });
});

describe("rope-plus-plus trainable form", () => {
  const dims: ModelDims = { dModel: 32, numHeads: H, headDim: D, numLayers: 1, maxSeqLen: 16, causal: true };

  it("equals the framework-free transform for every mode, also with per-example ids", () => {
    for (const mode of ["half", "interleaved", "all"] as const) {
      const params = ropePlusPlusSpec.create({ headDim: D, imaginaryHeads: mode }).params;
      const trainable = ropePlusPlusSpec.trainable!(params as never, dims, new Rng(1));
      const rows = [positions, [2, 3, 5, 8, 13]];
      const ids = Float64Array.from(rows.flat());
      const qData = [...official.q, ...official.k];
      const out = tidy(() => {
        const q = tensor(qData, [2, H, T, D]);
        const r = trainable.transformQK!(q, q, ids, 0);
        return { q: r.q.toArray(), k: r.k.toArray() };
      });
      rows.forEach((row, b) => {
        const enc = ropePlusPlusSpec.create({ headDim: D, imaginaryHeads: mode });
        const slab = qData.slice(b * H * T * D, (b + 1) * H * T * D);
        for (const role of ["query", "key"] as const) {
          const x = toTokenMajor(slab);
          enc.transformQK!(x, row, H, D, role);
          const got = toTokenMajor(
            // back to [1, H, T, D] -> token-major for comparison
            (role === "query" ? out.q : out.k).slice(b * H * T * D, (b + 1) * H * T * D),
          );
          got.forEach((v, n) => {
            expect(v).toBeCloseTo(x[n], 5);
          });
        }
      });
    }
  });

  it("trains in the lab's transformer: the loss falls", SMOKE_TIMEOUT, () => {
    const result = trainSmoke({ id: "rope-plus-plus" });
    expect(result.last).toBeLessThan(0.8 * result.first);
  });
});
