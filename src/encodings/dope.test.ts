import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { SMOKE_TIMEOUT, trainSmoke } from "../../test/helpers/train-smoke.js";
import { add, mul, parameter, sum, tensor, tidy, withFloat64Storage } from "../engine/index.js";
import { gradCheck, randomValues } from "../engine/testing/gradcheck.js";
import { Rng } from "../util/rng.js";
import { dopeSpec, noisyHeads, symmetricEigenvalues, truncatedEffectiveRank } from "./dope.js";
import { ropeSpec } from "./rope.js";
import { fixedTrainable, type ModelDims } from "./trainable.js";

const reference = JSON.parse(
  readFileSync(new URL("../../test/fixtures/dope-reference.json", import.meta.url), "utf8"),
) as {
  shape: [number, number, number, number];
  keys: number[];
  effectiveRank: Record<"1" | "2" | "16", number[]>;
  eigenvalues: number[][];
};
const [B, H, T, D] = reference.shape;
const head = (b: number, h: number) => reference.keys.slice((b * H + h) * T * D, (b * H + h + 1) * T * D);

describe("dope truncated matrix entropy", () => {
  it("eigenvalues of a head's Gram matrix and its effective rank match torch.linalg.svdvals", () => {
    for (let b = 0; b < B; b++) {
      for (let h = 0; h < H; h++) {
        const x = head(b, h);
        const gram = Array.from({ length: D * D }, (_, n) => {
          let s = 0;
          for (let t = 0; t < T; t++) s += x[t * D + Math.floor(n / D)] * x[t * D + (n % D)];
          return s;
        });
        symmetricEigenvalues(gram, D).forEach((v, i) => {
          expect(v).toBeCloseTo(reference.eigenvalues[b * H + h][i], 10);
        });
        for (const r of ["1", "2", "16"] as const) {
          expect(truncatedEffectiveRank(x, T, D, Number(r))).toBeCloseTo(
            reference.effectiveRank[r][b * H + h],
            10,
          );
        }
      }
    }
  });

  it("is 1 for a rank-one head and r for an isotropic one (orthogonal rows of equal norm)", () => {
    const rankOne = Array.from({ length: 5 * 3 }, (_, n) => (Math.floor(n / 3) + 1) * [1, -2, 0.5][n % 3]);
    expect(truncatedEffectiveRank(rankOne, 5, 3, 3)).toBeCloseTo(1, 10);
    const isotropic = [2, 0, 0, 0, 2, 0, 0, 0, 2];
    expect(truncatedEffectiveRank(isotropic, 3, 3, 3)).toBeCloseTo(3, 12);
    expect(truncatedEffectiveRank(isotropic, 3, 3, 2)).toBeCloseTo(2, 12);
  });

  it("flags the near rank-one head first, then the next lowest (batch-averaged)", () => {
    expect(noisyHeads(reference.keys, reference.shape, 1, 16)).toEqual([1]);
    const mean = (h: number) => (reference.effectiveRank["16"][h] + reference.effectiveRank["16"][H + h]) / 2;
    const second = mean(0) < mean(2) ? 0 : 2;
    expect(noisyHeads(reference.keys, reference.shape, 2, 16)).toEqual([1, second]);
    expect(noisyHeads(reference.keys, reference.shape, 9, 16)).toHaveLength(3);
  });
});

describe("dope Gaussian heads", () => {
  const dims: ModelDims = {
    dModel: H * D,
    numHeads: H,
    headDim: D,
    numLayers: 2,
    maxSeqLen: 8,
    causal: true,
  };
  const params = (denoisedHeads: number[]) =>
    ({ ...dopeSpec.create({ headDim: D, denoisedHeads }).params }) as never;
  const ids = Float64Array.from([0, 1, 2, 3, 4, 5, 0, 1, 2, 3, 4, 5]);
  const q = randomValues(5, B * H * T * D);
  const forward = (denoised: number[], layer: number) =>
    tidy(() => {
      const enc = dopeSpec.trainable!(params(denoised), dims, new Rng(1));
      const r = enc.transformQK!(tensor(q, [B, H, T, D]), tensor(reference.keys, [B, H, T, D]), ids, layer);
      return { q: r.q.toArray(), k: r.k.toArray() };
    });

  it("replaces exactly the listed heads of the layer with N(0, sigma_t^2) values; the rest is RoPE", () => {
    const rope = fixedTrainable(ropeSpec, { headDim: D }, dims);
    const plain = tidy(() => {
      const r = rope.transformQK!(tensor(q, [B, H, T, D]), tensor(reference.keys, [B, H, T, D]), ids, 0);
      return { q: r.q.toArray(), k: r.k.toArray() };
    });
    expect(forward([], 0)).toEqual(plain);
    expect(forward([H + 1], 0)).toEqual(plain); // layer 1's head 1: not this layer
    const a = forward([1], 0);
    const size = T * D;
    for (let n = 0; n < a.q.length; n++) {
      if (Math.floor(n / size) % H === 1) continue;
      expect(a.q[n]).toBe(plain.q[n]);
      expect(a.k[n]).toBe(plain.k[n]);
    }
    // Head 1's values: per token, sigma_t times a N(0, 1) draw, sigma_t = std of the token's rotated q over heads.
    for (let t = 0; t < T; t++) {
      const token = Array.from(
        { length: H * D },
        (_, i) => plain.q[(Math.floor(i / D) * T + t) * D + (i % D)],
      );
      const m = token.reduce((s, v) => s + v, 0) / token.length;
      const sigma = Math.sqrt(token.reduce((s, v) => s + (v - m) ** 2, 0) / token.length);
      const draws = Array.from({ length: D }, (_, c) => a.q[(1 * T + t) * D + c] / sigma);
      expect(Math.max(...draws.map(Math.abs))).toBeLessThan(6);
      expect(draws.some((v, c) => v !== plain.q[(1 * T + t) * D + c] / sigma)).toBe(true);
    }
    expect(forward([1], 0)).toEqual(a);
    // Layer 1's head 1 draws from its own stream: same kept values, other noise.
    const layer1 = forward([H + 1], 1);
    expect(layer1.q.slice(0, size)).toEqual(a.q.slice(0, size));
    expect(layer1.q.slice(size, 2 * size)).not.toEqual(a.q.slice(size, 2 * size));
  });

  it("the framework-free transform is layer 0's, the trainable one's for a single example", () => {
    const enc = dopeSpec.create({ headDim: D, denoisedHeads: [1] });
    const one = tidy(() => {
      const t = dopeSpec.trainable!(params([1]), dims, new Rng(1));
      return t.transformQK!(
        tensor(q.slice(0, H * T * D), [1, H, T, D]),
        tensor(reference.keys.slice(0, H * T * D), [1, H, T, D]),
        ids.subarray(0, T),
        0,
      );
    });
    const toTokenMajor = (x: ArrayLike<number>) =>
      Float32Array.from({ length: H * T * D }, (_, n) => {
        const t = Math.floor(n / (H * D));
        const h = Math.floor(n / D) % H;
        return x[(h * T + t) * D + (n % D)];
      });
    for (const [role, input, expected] of [
      ["query", q, one.q],
      ["key", reference.keys, one.k],
    ] as const) {
      const x = toTokenMajor(input.slice(0, H * T * D));
      enc.transformQK!(x, [0, 1, 2, 3, 4, 5], H, D, role);
      const want = toTokenMajor(expected.toArray());
      x.forEach((v, n) => {
        expect(v).toBeCloseTo(want[n], 5);
      });
    }
    expect(() => dopeSpec.create({ denoisedHeads: [1.5] })).toThrow(/dope\.denoisedHeads/);
    expect(() => dopeSpec.trainable!(params([2 * H]), dims, new Rng(1))).toThrow(/0\.\.5/);
  });

  it("has exact gradients through the kept heads, none into the replaced one (float64 finite differences)", () => {
    const enc = dopeSpec.trainable!(params([1]), dims, new Rng(1));
    const keep = tensor([1, 0, 1], [1, H, 1, 1]);
    // sigma_t is a statistic taken without gradient (as the noise); finite differences would see it move, so the
    // check reads the kept heads, and the replaced head's inputs must get exactly zero.
    const result = gradCheck(
      ([qq, kk]) => {
        const r = enc.transformQK!(qq, kk, ids, 0);
        return mul(add(r.q, r.k), keep);
      },
      [
        { shape: [B, H, T, D], values: q },
        { shape: [B, H, T, D], values: reference.keys },
      ],
    );
    expect(result.worstRatio, result.worst).toBeLessThanOrEqual(1);
    const grads = withFloat64Storage(() =>
      tidy(() => {
        const qq = parameter(q, [B, H, T, D]);
        const kk = parameter(reference.keys, [B, H, T, D]);
        const r = enc.transformQK!(qq, kk, ids, 0);
        sum(add(r.q, r.k)).backward();
        return [Array.from(qq.grad!), Array.from(kk.grad!)];
      }),
    );
    for (const g of grads) {
      g.forEach((v, n) => {
        if (Math.floor(n / (T * D)) % H === 1) expect(v).toBe(0);
      });
    }
  });

  it("trains in the lab's transformer with a replaced head: the loss falls", SMOKE_TIMEOUT, () => {
    const result = trainSmoke({ id: "dope", params: { denoisedHeads: [1] } });
    expect(result.last).toBeLessThan(0.8 * result.first);
  });
});
