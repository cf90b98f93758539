import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { Rng } from "../util/rng.js";
import { PosencConfigError } from "../util/validation.js";
import {
  randomizedPositionIds,
  randomizedPositionsSpec,
  sequentialPositionIds,
} from "./randomized-positions.js";

/** Index of the first id that is not an integer in [0, maxPosition) above its predecessor; -1 if none. */
function firstOrderViolation(ids: Float64Array, maxPosition: number): number {
  for (let i = 0; i < ids.length; i++) {
    const id = ids[i];
    if (!Number.isInteger(id) || id < 0 || id >= maxPosition || (i > 0 && id <= ids[i - 1])) return i;
  }
  return -1;
}

function expectSortedDistinctInRange(ids: Float64Array, maxPosition: number): void {
  expect(firstOrderViolation(ids, maxPosition)).toBe(-1);
}

/** Pearson chi-square of observed counts against equal expected counts. */
function chiSquareUniform(counts: Map<string, number>, categories: number, samples: number): number {
  const expected = samples / categories;
  let chi = 0;
  let seen = 0;
  for (const observed of counts.values()) {
    chi += (observed - expected) ** 2 / expected;
    seen++;
  }
  // Categories never observed contribute expected^2 / expected = expected each.
  chi += (categories - seen) * expected;
  return chi;
}

function subsetCounts(
  sampler: (rng: Rng) => Float64Array,
  samples: number,
  seed: number,
): Map<string, number> {
  const rng = new Rng(seed);
  const counts = new Map<string, number>();
  for (let s = 0; s < samples; s++) {
    const key = Array.from(sampler(rng)).join(",");
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return counts;
}

// Upper 0.1% points of the chi-square distribution (19 and 14 degrees of freedom).
const CHI2_999_DF19 = 43.82;
const CHI2_999_DF14 = 36.12;

describe("randomizedPositionIds", () => {
  it("returns every position when length equals maxPosition, and nothing for length 0", () => {
    const rng = new Rng(1);
    expect(Array.from(randomizedPositionIds(5, 5, rng))).toEqual([0, 1, 2, 3, 4]);
    expect(Array.from(randomizedPositionIds(1, 1, rng))).toEqual([0]);
    expect(randomizedPositionIds(0, 10, rng).length).toBe(0);
  });

  it("gives sorted, distinct integers in [0, maxPosition) on both the sparse and the dense path", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 300 }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        fc.integer({ min: 0, max: 2 ** 31 }),
        (maxPosition, fraction, seed) => {
          const length = Math.floor(fraction * maxPosition);
          const ids = randomizedPositionIds(length, maxPosition, new Rng(seed));
          expect(ids.length).toBe(length);
          expectSortedDistinctInRange(ids, maxPosition);
        },
      ),
      { numRuns: 200, seed: 7 },
    );
  });

  it("is reproducible: same seed, same ids; different seeds, different ids", () => {
    const a = randomizedPositionIds(40, 2048, new Rng(123));
    const b = randomizedPositionIds(40, 2048, new Rng(123));
    const c = randomizedPositionIds(40, 2048, new Rng(124));
    expect(Array.from(a)).toEqual(Array.from(b));
    expect(Array.from(a)).not.toEqual(Array.from(c));
    // Successive calls on one Rng advance the stream.
    const rng = new Rng(5);
    expect(Array.from(randomizedPositionIds(40, 2048, rng))).not.toEqual(
      Array.from(randomizedPositionIds(40, 2048, rng)),
    );
  });

  it("is uniform over the C(6, 3) = 20 subsets (sparse path): chi-square below the 0.1% critical value", () => {
    const samples = 20000;
    const counts = subsetCounts((rng) => randomizedPositionIds(3, 6, rng), samples, 2024);
    expect(counts.size).toBe(20);
    expect(chiSquareUniform(counts, 20, samples)).toBeLessThan(CHI2_999_DF19);
  });

  it("is uniform over the C(6, 4) = 15 subsets (dense complement path)", () => {
    const samples = 15000;
    const counts = subsetCounts((rng) => randomizedPositionIds(4, 6, rng), samples, 2025);
    expect(counts.size).toBe(15);
    expect(chiSquareUniform(counts, 15, samples)).toBeLessThan(CHI2_999_DF14);
  });

  it("the same chi-square check rejects a subtly biased sampler (so the tolerance can fail)", () => {
    // Biased: on a collision take the next free value upwards (mod L) instead of Floyd's j.
    const biased = (rng: Rng): Float64Array => {
      const chosen = new Set<number>();
      while (chosen.size < 3) {
        let t = rng.int(6);
        while (chosen.has(t)) t = (t + 1) % 6;
        chosen.add(t);
      }
      return Float64Array.from(chosen).sort();
    };
    const samples = 20000;
    const counts = subsetCounts(biased, samples, 2024);
    expect(chiSquareUniform(counts, 20, samples)).toBeGreaterThan(CHI2_999_DF19);
  });

  it("includes each position with probability n / L (marginals, L = 50, n = 10)", () => {
    const rng = new Rng(99);
    const hits = new Float64Array(50);
    const samples = 5000;
    for (let s = 0; s < samples; s++) for (const id of randomizedPositionIds(10, 50, rng)) hits[id]++;
    // Each count is Binomial(5000, 0.2): mean 1000, sd ~28.3; 5 sd = 141.
    for (const h of hits) expect(Math.abs(h - 1000)).toBeLessThan(141);
  });

  it("stays cheap for L >> n and for n close to L", () => {
    const sparse = randomizedPositionIds(2000, 2 ** 32, new Rng(3));
    expect(sparse.length).toBe(2000);
    expectSortedDistinctInRange(sparse, 2 ** 32);
    const dense = randomizedPositionIds(99_990, 100_000, new Rng(4));
    expect(dense.length).toBe(99_990);
    expectSortedDistinctInRange(dense, 100_000);
  });

  it("rejects bad arguments with errors naming the argument", () => {
    const rng = new Rng(0);
    expect(() => randomizedPositionIds(11, 10, rng)).toThrow(PosencConfigError);
    expect(() => randomizedPositionIds(11, 10, rng)).toThrow(
      "Invalid length: expected an integer in [0, maxPosition = 10]",
    );
    expect(() => randomizedPositionIds(-1, 10, rng)).toThrow(/Invalid length/);
    expect(() => randomizedPositionIds(2.5, 10, rng)).toThrow(/Invalid length.*received 2.5/);
    expect(() => randomizedPositionIds(1, 0, rng)).toThrow(/Invalid maxPosition.*received 0/);
    expect(() => randomizedPositionIds(1, 2 ** 33, rng)).toThrow(/Invalid maxPosition/);
    expect(() => randomizedPositionIds(1, 10, undefined as unknown as Rng)).toThrow(/Invalid rng/);
  });
});

describe("sequentialPositionIds", () => {
  it("is 0..n-1", () => {
    expect(Array.from(sequentialPositionIds(4))).toEqual([0, 1, 2, 3]);
    expect(() => sequentialPositionIds(-2)).toThrow(/Invalid length/);
  });
});

describe("randomizedPositionsSpec", () => {
  it("declares the registry line", () => {
    expect(randomizedPositionsSpec.id).toBe("randomized-positions");
    expect(randomizedPositionsSpec.family).toBe("position-ids");
    expect(randomizedPositionsSpec.slots).toEqual(["positionIds"]);
    expect(randomizedPositionsSpec.paper.arxiv).toBe("2305.16843");
  });

  it("samples from context.rng by default, matching the pure function", () => {
    const encoding = randomizedPositionsSpec.create();
    expect(encoding.params).toEqual({ maxPositions: 2048, mode: "sampled" });
    const ids = encoding.positionIds!(30, { rng: new Rng(42) });
    expect(Array.from(ids)).toEqual(Array.from(randomizedPositionIds(30, 2048, new Rng(42))));
  });

  it('gives 0..n-1 in mode "sequential" without needing an rng', () => {
    const encoding = randomizedPositionsSpec.create({ mode: "sequential", maxPosition: 8 });
    expect(Array.from(encoding.positionIds!(3))).toEqual([0, 1, 2]);
    expect(() => encoding.positionIds!(9)).toThrow(/maxPosition = 8/);
  });

  it("names what is wrong: missing rng, unknown keys, bad values", () => {
    const encoding = randomizedPositionsSpec.create({ maxPosition: 16 });
    expect(() => encoding.positionIds!(4)).toThrow("Missing required key context.rng");
    expect(() => encoding.positionIds!(17, { rng: new Rng(1) })).toThrow(/Invalid length/);
    expect(() => randomizedPositionsSpec.create({ noise_max_length: 5 })).toThrow(
      /Unknown key randomized-positions.noise_max_length/,
    );
    expect(() => randomizedPositionsSpec.create({ mode: "train" })).toThrow(
      /Invalid randomized-positions.mode: expected one of "sampled", "sequential"/,
    );
    expect(() => randomizedPositionsSpec.create({ maxPosition: 0 })).toThrow(
      /Invalid randomized-positions.maxPosition/,
    );
  });
});
