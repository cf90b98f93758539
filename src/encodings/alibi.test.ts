import { readFileSync } from "node:fs";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { PosencConfigError } from "../util/validation.js";
import { alibiBias, alibiBiasAt, alibiSlopes, alibiSpec, biasGridPositions } from "./alibi.js";

const fixture = JSON.parse(
  readFileSync(new URL("../../test/fixtures/alibi-slopes.json", import.meta.url), "utf8"),
) as { alibi_slopes: { num_heads: number; slopes: number[] }[] };

/** bias[h, i, j] of a row-major [H, Q, K] array. */
function at(bias: Float32Array, q: number, k: number, h: number, i: number, j: number): number {
  return bias[(h * q + i) * k + j];
}

describe("alibiSlopes", () => {
  it.each(fixture.alibi_slopes.map((c) => [c.num_heads, c.slopes] as const))(
    "is bit-identical to the official get_slopes for %i heads",
    (numHeads, expected) => {
      expect(alibiSlopes(numHeads)).toEqual(expected);
    },
  );

  it("rounds the powers like C's pow, not like V8's **", () => {
    // 2^-0.5: pow gives the correctly rounded SQRT1_2; V8's ** is one ulp low. The fixture's 16-head slopes
    // (0.7071067811865476, 0.5000000000000001, ...) depend on it.
    expect(alibiSlopes(16)[0]).toBe(Math.SQRT1_2);
    expect(alibiSlopes(16)[1]).toBe(0.5000000000000001);
  });

  it("is the geometric sequence 2^(-8h/n) for powers of two", () => {
    expect(alibiSlopes(8)).toEqual([1 / 2, 1 / 4, 1 / 8, 1 / 16, 1 / 32, 1 / 64, 1 / 128, 1 / 256]);
    expect(alibiSlopes(4)).toEqual([1 / 4, 1 / 16, 1 / 64, 1 / 256]);
    for (const n of [16, 32, 64]) {
      for (const [h, m] of alibiSlopes(n).entries()) expect(m).toBeCloseTo(2 ** ((-8 * (h + 1)) / n), 14);
    }
  });

  it("extends a non-power of two with every other slope of the doubled count", () => {
    for (const n of [3, 5, 6, 7, 12, 20, 24, 40, 48, 96]) {
      const p = 2 ** Math.floor(Math.log2(n));
      const slopes = alibiSlopes(n);
      expect(slopes).toHaveLength(n);
      expect(slopes.slice(0, p)).toEqual(alibiSlopes(p));
      const doubled = alibiSlopes(2 * p);
      expect(slopes.slice(p)).toEqual(doubled.filter((_, i) => i % 2 === 0).slice(0, n - p));
    }
    expect(alibiSlopes(3)).toEqual([1 / 16, 1 / 256, 1 / 4]);
  });

  it("rejects head counts that are not positive integers, naming numHeads", () => {
    for (const bad of [0, -4, 1.5, Number.NaN, Number.POSITIVE_INFINITY, "8", 65537]) {
      expect(() => alibiSlopes(bad as number)).toThrow(PosencConfigError);
      expect(() => alibiSlopes(bad as number)).toThrow(/numHeads/);
    }
  });
});

describe("alibiBias", () => {
  const m0 = 1 / 16;
  const m1 = 1 / 256;

  it("matches a hand-computed causal matrix (future keys 0)", () => {
    const bias = alibiBias(2, 3, 3);
    expect(Array.from(bias)).toEqual([
      // head 0, slope 1/16
      0,
      0,
      0,
      -m0,
      0,
      0,
      -2 * m0,
      -m0,
      0,
      // head 1, slope 1/256
      0,
      0,
      0,
      -m1,
      0,
      0,
      -2 * m1,
      -m1,
      0,
    ]);
    expect(Object.is(bias[0], 0)).toBe(true); // +0, not -0
  });

  it("matches a hand-computed symmetric matrix", () => {
    const bias = alibiBias(2, 3, 3, { causal: false });
    expect(Array.from(bias.subarray(0, 9))).toEqual([0, -m0, -2 * m0, -m0, 0, -m0, -2 * m0, -m0, 0]);
    expect(Array.from(bias.subarray(9))).toEqual([0, -m1, -2 * m1, -m1, 0, -m1, -2 * m1, -m1, 0]);
  });

  it("places query i at queryOffset + i (decoding with a cache)", () => {
    const full = alibiBias(4, 5, 5);
    const last = alibiBias(4, 1, 5, { queryOffset: 4 });
    for (let h = 0; h < 4; h++) {
      for (let j = 0; j < 5; j++) expect(at(last, 1, 5, h, 0, j)).toBe(at(full, 5, 5, h, 4, j));
    }
    const m = alibiSlopes(4)[0];
    expect(Array.from(last.subarray(0, 5))).toEqual([-4 * m, -3 * m, -2 * m, -m, 0].map(Math.fround));
  });

  it("agrees with the symmetric variant on past keys and is 0 on future keys", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 12 }),
        fc.integer({ min: 0, max: 9 }),
        fc.integer({ min: 0, max: 9 }),
        fc.integer({ min: 0, max: 6 }),
        (numHeads, q, k, offset) => {
          const causal = alibiBias(numHeads, q, k, { queryOffset: offset });
          const symmetric = alibiBias(numHeads, q, k, { queryOffset: offset, causal: false });
          let mismatches = 0;
          for (let h = 0; h < numHeads; h++) {
            for (let i = 0; i < q; i++) {
              for (let j = 0; j < k; j++) {
                const c = at(causal, q, k, h, i, j);
                const expected = j <= offset + i ? at(symmetric, q, k, h, i, j) : 0;
                if (!Object.is(c, expected)) mismatches++;
              }
            }
          }
          expect(mismatches).toBe(0);
        },
      ),
      { numRuns: 60 },
    );
  });

  it("differs from the official fairseq form (+m j) by a per-row constant, which softmax ignores", () => {
    const slopes = alibiSlopes(8);
    const n = 7;
    const bias = alibiBias(8, n, n);
    for (let h = 0; h < 8; h++) {
      for (let i = 0; i < n; i++) {
        for (let j = 0; j <= i; j++) {
          expect(at(bias, n, n, h, i, j) - slopes[h] * j).toBeCloseTo(-slopes[h] * i, 6);
        }
      }
    }
  });

  it("uses custom slopes and arbitrary (fractional) positions", () => {
    expect(Array.from(alibiBias(1, 2, 2, { slopes: [2] }))).toEqual([0, 0, -2, 0]);
    expect(Array.from(alibiBiasAt([0.5], [2.5], [0, 1, 3]))).toEqual([-1.25, -0.75, 0]);
    expect(Array.from(alibiBiasAt([0.5], [2.5], [0, 1, 3], { causal: false }))).toEqual([
      -1.25, -0.75, -0.25,
    ]);
  });

  it("names the argument on invalid input", () => {
    expect(() => alibiBias(0, 2, 2)).toThrow(/numHeads/);
    expect(() => alibiBias(2, -1, 2)).toThrow(/queryLength/);
    expect(() => alibiBias(2, 2, 1.5)).toThrow(/keyLength/);
    expect(() => alibiBias(2, 2, 2, { queryOffset: -1 })).toThrow(/queryOffset/);
    expect(() => alibiBias(2, 2, 2, { slopes: [1] })).toThrow(/slopes/);
    expect(() => alibiBias(2, 2, 2, { slopes: [1, Number.NaN] })).toThrow(PosencConfigError);
    expect(() => alibiBias(2, 2, 2, { causal: "yes" as unknown as boolean })).toThrow(/causal/);
    expect(() => alibiBiasAt([1], [0, Number.NaN], [0])).toThrow(/queryPositions\[1\]/);
    expect(() => alibiBiasAt([], [0], [0])).toThrow(/slopes/);
  });

  it("biasGridPositions lays out queries from the offset and keys from 0", () => {
    const { queryPositions, keyPositions } = biasGridPositions(2, 3, 5);
    expect(Array.from(queryPositions)).toEqual([5, 6]);
    expect(Array.from(keyPositions)).toEqual([0, 1, 2]);
  });
});

describe("alibiSpec", () => {
  it("declares the registry line", () => {
    expect(alibiSpec.id).toBe("alibi");
    expect(alibiSpec.family).toBe("attention-bias");
    expect(alibiSpec.slots).toEqual(["attentionBias"]);
    expect(alibiSpec.paper.arxiv).toBe("2108.12409");
  });

  it("creates an attentionBias equal to alibiBiasAt with the official slopes", () => {
    const encoding = alibiSpec.create();
    expect(encoding.params).toEqual({ variant: "causal", slopes: [] });
    const q = [3, 4];
    const k = [0, 1, 2, 3, 4];
    expect(encoding.attentionBias?.(q, k, 6)).toEqual(alibiBiasAt(alibiSlopes(6), q, k));
    const symmetric = alibiSpec.create({ variant: "symmetric" });
    expect(symmetric.attentionBias?.(q, k, 6)).toEqual(alibiBiasAt(alibiSlopes(6), q, k, { causal: false }));
    const custom = alibiSpec.create({ slopes: [1, 0.5] });
    expect(Array.from(custom.attentionBias?.([1], [0, 1], 2) ?? [])).toEqual([-1, 0, -0.5, 0]);
  });

  it("rejects bad parameters with their path", () => {
    expect(() => alibiSpec.create({ variant: "both" })).toThrow(/alibi\.variant/);
    expect(() => alibiSpec.create({ slope: [1] })).toThrow(/alibi\.slope/);
    const custom = alibiSpec.create({ slopes: [1, 0.5] });
    expect(() => custom.attentionBias?.([0], [0], 4)).toThrow(/alibi\.slopes/);
    expect(() => alibiSpec.create().attentionBias?.([0], [0], 0)).toThrow(/numHeads/);
  });
});
