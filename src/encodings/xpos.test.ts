import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { dot, randomArray } from "../../test/helpers/arrays.js";
import { Rng } from "../util/rng.js";
import { PosencConfigError } from "../util/validation.js";
import { ropeSpec } from "./rope.js";
import { xposScale, xposSpec, xposZeta } from "./xpos.js";

interface TorchscaleReplica {
  headDim: number;
  length: number;
  minPos: number;
  q: number[][];
  k: number[][];
  qOut: number[][];
  kOut: number[][];
}
const torchscale = JSON.parse(
  readFileSync(new URL("../../test/fixtures/xpos-torchscale-replica.json", import.meta.url), "utf8"),
) as TorchscaleReplica;

/** One head, one position: returns the transformed copy of v. */
function transform(
  spec: typeof xposSpec,
  params: Record<string, unknown>,
  v: Float32Array,
  position: number,
  role: "query" | "key",
): Float32Array {
  const out = v.slice();
  spec.create(params).transformQK?.(out, [position], 1, v.length, role);
  return out;
}

describe("xposZeta", () => {
  it("hand values: d = 8, gamma = 0.4 gives (0, 0.25, 0.5, 0.75) + 0.4, over 1.4", () => {
    const z = xposZeta(8);
    expect(z[0]).toBeCloseTo(0.4 / 1.4, 15);
    expect(z[1]).toBeCloseTo(0.65 / 1.4, 15);
    expect(z[2]).toBeCloseTo(0.9 / 1.4, 15);
    expect(z[3]).toBeCloseTo(1.15 / 1.4, 15);
  });

  it("equals torchscale's (arange(0, d, 2) + 0.4 d) / (1.4 d)", () => {
    const d = 64;
    const z = xposZeta(d, 0.4);
    for (let i = 0; i < d / 2; i++) expect(z[i]).toBeCloseTo((2 * i + 0.4 * d) / (1.4 * d), 15);
  });

  it("rejects odd dims and gamma <= 0", () => {
    expect(() => xposZeta(7)).toThrow(PosencConfigError);
    expect(() => xposZeta(8, 0)).toThrow(/Invalid gamma: expected a finite number > 0, received 0/);
  });
});

describe("xposScale", () => {
  it("hand values: zeta^(p/512) for queries, its reciprocal for keys", () => {
    const z = xposZeta(4);
    const q = xposScale(4, [0, 512, -1024]);
    expect(Array.from(q.subarray(0, 2))).toEqual([1, 1]);
    expect(q[2]).toBeCloseTo(z[0], 15);
    expect(q[3]).toBeCloseTo(z[1], 15);
    expect(q[4]).toBeCloseTo(z[0] ** -2, 12);
    const k = xposScale(4, [512], { role: "key" });
    expect(k[0]).toBeCloseTo(1 / z[0], 14);
    // Centre 256, scale base 128: exponent (512 - 256) / 128 = 2.
    const c = xposScale(4, [512], { center: 256, scaleBase: 128 });
    expect(c[1]).toBeCloseTo(z[1] ** 2, 15);
  });

  it("rejects bad options and non-finite positions", () => {
    expect(() => xposScale(4, [0], { scaleBase: 0 })).toThrow(/Invalid scaleBase/);
    expect(() => xposScale(4, [0], { center: Number.NaN })).toThrow(/Invalid center/);
    expect(() => xposScale(4, [Number.POSITIVE_INFINITY])).toThrow(RangeError);
  });
});

describe("xposSpec", () => {
  it("matches torchscale's XPOS (interleaved pairs, centre = -min_pos) on queries and keys", () => {
    const { headDim: d, length, minPos } = torchscale;
    const positions = Array.from({ length }, (_, t) => t);
    const encoding = xposSpec.create({ headDim: d, layout: "interleaved", center: -minPos });
    for (const [input, expected, role] of [
      [torchscale.q, torchscale.qOut, "query"],
      [torchscale.k, torchscale.kOut, "key"],
    ] as const) {
      const x = Float32Array.from(input.flat());
      encoding.transformQK?.(x, positions, 1, d, role);
      const flat = expected.flat();
      for (let i = 0; i < flat.length; i++) expect(x[i]).toBeCloseTo(flat[i], 6);
    }
  });

  const headDim = 16;
  const rng = new Rng(2212);
  const q = randomArray(rng, headDim);
  const k = randomArray(rng, headDim);

  it("is registered as xpos (rotary) with validated defaults", () => {
    expect(xposSpec.id).toBe("xpos");
    expect(xposSpec.family).toBe("rotary");
    expect(xposSpec.slots).toEqual(["transformQK"]);
    expect(xposSpec.create({ headDim }).params).toEqual({
      headDim,
      base: 10000,
      gamma: 0.4,
      scaleBase: 512,
      center: 0,
      layout: "half",
    });
    expect(() => xposSpec.create({ headDim: 7 })).toThrow(/Invalid xpos.headDim/);
    expect(() => xposSpec.create({ gamma: -1 })).toThrow(/Invalid xpos.gamma/);
    expect(() => xposSpec.create({ decay: 1 })).toThrow(/Unknown key xpos.decay/);
    const x = new Float32Array(2 * 8);
    expect(() => xposSpec.create({ headDim: 16 }).transformQK?.(x, [0, 1], 1, 8, "query")).toThrow(
      RangeError,
    );
  });

  it("each pair's score is RoPE's times zeta_i^((n - m)/B): the decay depends only on n - m", () => {
    const params = { headDim, scaleBase: 64 };
    const zeta = xposZeta(headDim);
    const half = headDim / 2;
    for (const [n, m] of [
      [10, 3],
      [200, 0],
      [70, 70],
      [5, 40],
    ]) {
      const xq = transform(xposSpec, params, q, n, "query");
      const xk = transform(xposSpec, params, k, m, "key");
      const rq = q.slice();
      const rk = k.slice();
      ropeSpec.create({ headDim }).transformQK?.(rq, [n], 1, headDim, "query");
      ropeSpec.create({ headDim }).transformQK?.(rk, [m], 1, headDim, "key");
      let expected = 0;
      for (let i = 0; i < half; i++) {
        // Half layout: pair i is channels (i, i + d/2).
        const pairScore = rq[i] * rk[i] + rq[i + half] * rk[i + half];
        expected += zeta[i] ** ((n - m) / 64) * pairScore;
      }
      expect(dot(xq, xk)).toBeCloseTo(expected, 5);
    }
  });

  it("keeps relative invariance: shifting both positions, or the centre, leaves q . k unchanged", () => {
    for (const layout of ["half", "interleaved"]) {
      const params = { headDim, layout, scaleBase: 128 };
      const score = (n: number, m: number, center = 0) =>
        dot(
          transform(xposSpec, { ...params, center }, q, n, "query"),
          transform(xposSpec, { ...params, center }, k, m, "key"),
        );
      const reference = score(40, 13);
      expect(score(140, 113)).toBeCloseTo(reference, 5);
      expect(score(1040, 1013, 1000)).toBeCloseTo(reference, 5);
      expect(score(40, 13, -77.5)).toBeCloseTo(reference, 5);
    }
  });

  it("decays with distance for a query past its key, per pair, strictly", () => {
    // Only pair i set in q and k: the xPos / RoPE score ratio is zeta_i^((n - m)/B), decreasing in n - m.
    for (const i of [0, 3, 7]) {
      const qi = new Float32Array(headDim);
      const ki = new Float32Array(headDim);
      qi[i] = 1;
      ki[i] = 1;
      let previous = Number.POSITIVE_INFINITY;
      for (const distance of [0, 1, 10, 100, 1000]) {
        const xs = dot(
          transform(xposSpec, { headDim }, qi, distance, "query"),
          transform(xposSpec, { headDim }, ki, 0, "key"),
        );
        // RoPE's score for this pair is cos(distance * theta_i); xPos multiplies it by zeta_i^(distance/512).
        const theta = 10000 ** ((-2 * i) / headDim);
        const ratio = xs / Math.cos(distance * theta);
        expect(ratio).toBeCloseTo(xposZeta(headDim)[i] ** (distance / 512), 5);
        expect(ratio).toBeLessThan(previous);
        previous = ratio;
      }
    }
  });

  it("scales each rotated query pair's norm by zeta_i^(n/B) and each key pair's by zeta_i^(-m/B)", () => {
    const zeta = xposZeta(headDim);
    const half = headDim / 2;
    const xq = transform(xposSpec, { headDim }, q, 300, "query");
    const xk = transform(xposSpec, { headDim }, k, 300, "key");
    for (let i = 0; i < half; i++) {
      const norm = (v: Float32Array) => Math.hypot(v[i], v[i + half]);
      expect(norm(xq) / norm(q)).toBeCloseTo(zeta[i] ** (300 / 512), 5);
      expect(norm(xk) / norm(k)).toBeCloseTo(zeta[i] ** (-300 / 512), 5);
    }
  });

  it("refuses factors outside float32's range, and the centre fixes them", () => {
    // zeta_0 = 0.286, so at position 40000 the query factor is 0.286^(40000/512) = 1e-42: below float32's range.
    const x = new Float32Array(headDim);
    expect(() => xposSpec.create({ headDim }).transformQK?.(x.slice(), [40000], 1, headDim, "query")).toThrow(
      /xpos: the query factor at position 40000 is .* set params.center/,
    );
    expect(() => xposSpec.create({ headDim }).transformQK?.(x.slice(), [40000], 1, headDim, "key")).toThrow(
      RangeError,
    );
    expect(() =>
      xposSpec
        .create({ headDim, center: 40000 })
        .transformQK?.(new Float32Array(2 * headDim), [40000, 39000], 1, headDim, "key"),
    ).not.toThrow();
  });

  it("hand value: d = 2, q = k = (1, 0), n = 512, m = 0 gives cos(512) * (0.4/1.4)", () => {
    const one = new Float32Array([1, 0]);
    const s = dot(
      transform(xposSpec, { headDim: 2 }, one, 512, "query"),
      transform(xposSpec, { headDim: 2 }, one, 0, "key"),
    );
    expect(s).toBeCloseTo(Math.cos(512) * (0.4 / 1.4), 6);
  });
});
