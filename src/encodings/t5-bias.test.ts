import { readFileSync } from "node:fs";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { PosencConfigError } from "../util/validation.js";
import {
  type T5BucketOptions,
  t5Bias,
  t5BiasAt,
  t5BiasSpec,
  t5BucketTable,
  t5BucketTableAt,
  t5RelativePositionBucket,
} from "./t5-bias.js";

interface BucketCase {
  bidirectional: boolean;
  num_buckets: number;
  max_distance: number;
  query_offset: number;
  query_length: number;
  key_length: number;
  buckets: number[][];
}
const fixture = JSON.parse(
  readFileSync(new URL("../../test/fixtures/t5-buckets.json", import.meta.url), "utf8"),
) as { t5_relative_position_bucket: BucketCase[] };

const encoder: T5BucketOptions = { bidirectional: true, numBuckets: 32, maxDistance: 128 };
const decoder: T5BucketOptions = { bidirectional: false, numBuckets: 32, maxDistance: 128 };

describe("t5RelativePositionBucket", () => {
  it.each(fixture.t5_relative_position_bucket.map((c) => [c.bidirectional, c] as const))(
    "matches every bucket of the Hugging Face table (bidirectional %s)",
    (_bidirectional, c) => {
      const table = t5BucketTable(c.query_length, c.key_length, {
        bidirectional: c.bidirectional,
        numBuckets: c.num_buckets,
        maxDistance: c.max_distance,
        queryOffset: c.query_offset,
      });
      expect(Array.from(table)).toEqual(c.buckets.flat());
      // The fixture reaches every bucket (bidirectional: all but 16, "future at distance 0", which cannot occur).
      expect(new Set(table).size).toBe(c.bidirectional ? 31 : 32);
    },
  );

  it("matches hand-computed buckets (T5 defaults: 32 buckets, max distance 128)", () => {
    // Bidirectional: 16 buckets per direction, 8 exact; keys after the query (r > 0) are offset by 16.
    const expected: [number, number][] = [
      [0, 0],
      [-1, 1],
      [-7, 7],
      [-8, 8], // first log bucket: 8 + trunc(log(1) / log(16) * 8) = 8
      [-20, 10], // 8 + trunc(log(2.5) / log(16) * 8) = 8 + trunc(2.64)
      [-127, 15],
      [-128, 15],
      [-100000, 15],
      [1, 17],
      [7, 23],
      [20, 26],
      [100000, 31],
    ];
    for (const [r, bucket] of expected) expect(t5RelativePositionBucket(r, encoder)).toBe(bucket);
    // Unidirectional: future keys share bucket 0; 32 buckets for the past, 16 exact.
    const causal: [number, number][] = [
      [5, 0],
      [0, 0],
      [-15, 15],
      [-16, 16],
      [-40, 23], // 16 + trunc(log(2.5) / log(8) * 16) = 16 + trunc(7.05)
      [-1000, 31],
    ];
    for (const [r, bucket] of causal) expect(t5RelativePositionBucket(r, decoder)).toBe(bucket);
  });

  it("reproduces PyTorch's float32 rounding at a bin edge where float64 disagrees", () => {
    // log(2) / log(32) * 5 is exactly 1: float32 gives 1 (bucket 5 + 1), float64 gives 0.9999999999999999.
    const options = { bidirectional: false, numBuckets: 10, maxDistance: 160 };
    expect(Math.trunc((Math.log(10 / 5) / Math.log(160 / 5)) * 5)).toBe(0);
    expect(t5RelativePositionBucket(-10, options)).toBe(6);
    expect(t5RelativePositionBucket(10, { ...options, bidirectional: true, numBuckets: 20 })).toBe(16);
    // Exact power relation log(1.25) / log(1.5625) = 1/2: CPU division keeps 32, a reciprocal would give 31.
    expect(t5RelativePositionBucket(-80, { bidirectional: false, numBuckets: 128, maxDistance: 100 })).toBe(
      96,
    );
  });

  it("is monotone in distance, within range, and mirrors past and future when bidirectional", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 4, max: 64 }),
        fc.integer({ min: 1, max: 400 }),
        fc.integer({ min: 0, max: 2000 }),
        (numBuckets, extraDistance, n) => {
          const perSide = Math.floor(numBuckets / 2);
          const options = {
            bidirectional: true,
            numBuckets,
            maxDistance: Math.floor(perSide / 2) + extraDistance,
          };
          const past = t5RelativePositionBucket(-n, options);
          const farther = t5RelativePositionBucket(-(n + 1), options);
          expect(past).toBeGreaterThanOrEqual(0);
          expect(past).toBeLessThan(perSide);
          expect(farther).toBeGreaterThanOrEqual(past);
          expect(t5RelativePositionBucket(n + 1, options)).toBe(farther + perSide);
          const causal = {
            bidirectional: false,
            numBuckets,
            maxDistance: Math.floor(numBuckets / 2) + extraDistance,
          };
          const causalPast = t5RelativePositionBucket(-n, causal);
          expect(t5RelativePositionBucket(n + 1, causal)).toBe(0);
          expect(t5RelativePositionBucket(-(n + 1), causal)).toBeGreaterThanOrEqual(causalPast);
          expect(causalPast).toBeLessThan(numBuckets);
        },
      ),
      { numRuns: 300 },
    );
  });

  it("names the argument on invalid input", () => {
    expect(() => t5RelativePositionBucket(1.5, encoder)).toThrow(/relativePosition/);
    expect(() => t5RelativePositionBucket(Number.NaN, encoder)).toThrow(PosencConfigError);
    expect(() => t5RelativePositionBucket(0, { ...encoder, numBuckets: 0 })).toThrow(/numBuckets/);
    expect(() => t5RelativePositionBucket(0, { ...encoder, numBuckets: 3 })).toThrow(/numBuckets/);
    expect(() => t5RelativePositionBucket(0, { ...decoder, numBuckets: 2.5 })).toThrow(/numBuckets/);
    // 32 bidirectional buckets: 8 exact, so maxDistance must exceed 8.
    expect(() => t5RelativePositionBucket(0, { ...encoder, maxDistance: 8 })).toThrow(/maxDistance/);
    expect(() => t5RelativePositionBucket(0, { ...encoder, maxDistance: 9 })).not.toThrow();
    expect(() =>
      t5RelativePositionBucket(0, { numBuckets: 32, maxDistance: 128 } as unknown as T5BucketOptions),
    ).toThrow(/bidirectional/);
    expect(() => t5RelativePositionBucket(0, undefined as unknown as T5BucketOptions)).toThrow(/options/);
  });
});

describe("t5BucketTable", () => {
  it("is bucket(key - (queryOffset + i)) over the grid", () => {
    const table = t5BucketTable(2, 4, { ...encoder, queryOffset: 1 });
    expect(Array.from(table)).toEqual([1, 0, 17, 18, 2, 1, 0, 17]);
    expect(Array.from(t5BucketTableAt([1, 2], [0, 1, 2, 3], encoder))).toEqual(Array.from(table));
  });

  it("rejects non-integer relative positions and bad sizes", () => {
    expect(() => t5BucketTableAt([0.5], [0], encoder)).toThrow(/keyPositions\[0\] - queryPositions\[0\]/);
    expect(() => t5BucketTable(-1, 2, encoder)).toThrow(/queryLength/);
    expect(() => t5BucketTable(1, 2, { ...encoder, queryOffset: 0.5 })).toThrow(/queryOffset/);
  });
});

describe("t5Bias", () => {
  // [numBuckets = 32, numHeads = 2], row-major like HF's relative_attention_bias.weight: value 100 h + bucket.
  const table = Array.from({ length: 64 }, (_, i) => 100 * (i % 2) + Math.floor(i / 2));

  it("gathers table[bucket, h] into [numHeads, q, k]", () => {
    const bias = t5Bias(table, 2, 3, encoder);
    const buckets = t5BucketTable(2, 3, encoder);
    expect(Array.from(buckets)).toEqual([0, 17, 18, 1, 0, 17]);
    expect(Array.from(bias)).toEqual([0, 17, 18, 1, 0, 17, 100, 117, 118, 101, 100, 117]);
    expect(t5BiasAt(table, [0, 1], [0, 1, 2], encoder)).toEqual(bias);
  });

  it("derives numHeads from the table and rejects a table of the wrong size", () => {
    expect(t5Bias(new Array(96).fill(1), 1, 1, encoder)).toHaveLength(3);
    expect(() => t5Bias(new Array(33).fill(0), 1, 1, encoder)).toThrow(/table/);
    expect(() => t5Bias([], 1, 1, encoder)).toThrow(/table/);
    const bad = new Array(32).fill(0);
    bad[5] = Number.NaN;
    expect(() => t5Bias(bad, 1, 1, encoder)).toThrow(/table\[5\]/);
  });
});

describe("t5BiasSpec", () => {
  it("declares the registry line", () => {
    expect(t5BiasSpec.id).toBe("t5-bias");
    expect(t5BiasSpec.family).toBe("attention-bias");
    expect(t5BiasSpec.slots).toEqual(["attentionBias"]);
    expect(t5BiasSpec.paper.arxiv).toBe("1910.10683");
  });

  it("returns a zero bias without a learned table", () => {
    const encoding = t5BiasSpec.create();
    expect(encoding.params).toEqual({ bidirectional: true, numBuckets: 32, maxDistance: 128, table: [] });
    const bias = encoding.attentionBias?.([0, 1], [0, 1, 2], 4);
    expect(bias).toEqual(new Float32Array(24));
    expect(() => encoding.attentionBias?.([0.5], [0], 4)).toThrow(PosencConfigError);
  });

  it("gathers from the given table", () => {
    const table = Array.from({ length: 16 }, (_, i) => i);
    const encoding = t5BiasSpec.create({ numBuckets: 8, maxDistance: 20, bidirectional: false, table });
    const options = { numBuckets: 8, maxDistance: 20, bidirectional: false };
    expect(encoding.attentionBias?.([5], [0, 3, 5, 9], 2)).toEqual(
      t5BiasAt(table, [5], [0, 3, 5, 9], options),
    );
    expect(() => encoding.attentionBias?.([0], [0], 4)).toThrow(/t5-bias\.table/);
  });

  it("rejects bad parameters with their path", () => {
    expect(() => t5BiasSpec.create({ numBuckets: 3 })).toThrow(/t5-bias\.numBuckets/);
    expect(() => t5BiasSpec.create({ maxDistance: 4 })).toThrow(/t5-bias\.maxDistance/);
    expect(() => t5BiasSpec.create({ bidirectional: "yes" })).toThrow(/t5-bias\.bidirectional/);
    expect(() => t5BiasSpec.create({ buckets: 32 })).toThrow(/t5-bias\.buckets/);
  });
});
