/**
 * Array helpers the encoding tests share: seeded random inputs, a dot product and element-wise comparisons.
 * Test-only (vitest's expect); the package never imports this folder.
 */
import { expect } from "vitest";
import type { Rng } from "../../src/util/rng.js";

/** n values uniform in [-1, 1), from the seeded rng. */
export function randomArray(rng: Rng, n: number): Float32Array {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = 2 * rng.next() - 1;
  return a;
}

/** sum_i a_i * b_i over a's length. */
export function dot(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}

/** max_i |a_i - b_i|, after asserting the lengths are equal. */
export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

/** Asserts equal lengths and actual[i] close to expected[i] to `digits` decimal digits. */
export function expectCloseTo(actual: ArrayLike<number>, expected: number[], digits: number): void {
  expect(actual.length).toBe(expected.length);
  for (const [i, e] of expected.entries()) expect(actual[i]).toBeCloseTo(e, digits);
}

/** max_i |actual_i - expected_i| / |expected_i|, after asserting the lengths are equal. */
export function maxRelativeError(actual: ArrayLike<number>, expected: ArrayLike<number>): number {
  expect(actual.length).toBe(expected.length);
  let worst = 0;
  for (let i = 0; i < expected.length; i++) {
    worst = Math.max(worst, Math.abs(actual[i] - expected[i]) / Math.abs(expected[i]));
  }
  return worst;
}
