import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { dot, expectCloseTo, maxAbsDiff, randomArray } from "../../test/helpers/arrays.js";
import { Rng } from "../util/rng.js";
import { PosencConfigError } from "../util/validation.js";
import { ropeInverseFrequencies } from "./rope.js";
import { applyRope, applyRopeReference, type RopeLayout, ropeCosSinTable } from "./rope-kernel.js";

/** Rotates a single head vector at one position with the fast kernel. */
function rotateOne(
  v: Float32Array,
  position: number,
  invFreq: Float64Array,
  layout: RopeLayout,
): Float32Array {
  const { cos, sin } = ropeCosSinTable(invFreq, [position]);
  return applyRope(v, cos, sin, {
    numHeads: 1,
    headDim: v.length,
    rotaryDim: 2 * invFreq.length,
    layout,
    out: new Float32Array(v.length),
  });
}

describe("ropeCosSinTable", () => {
  const invFreq = ropeInverseFrequencies(8, 10000);
  const positions = [0, 1, 2.5, -3, 1000.25, 131071];

  it("equals Math.cos / Math.sin of position * invFreq, rounded once to float32", () => {
    const { cos, sin } = ropeCosSinTable(invFreq, positions);
    expect(cos.length).toBe(positions.length * 4);
    positions.forEach((m, t) => {
      for (let i = 0; i < 4; i++) {
        expect(cos[t * 4 + i]).toBe(Math.fround(Math.cos(m * invFreq[i])));
        expect(sin[t * 4 + i]).toBe(Math.fround(Math.sin(m * invFreq[i])));
      }
    });
    // Hand-computed: position 2.5, top frequency 1.
    expect(cos[2 * 4]).toBeCloseTo(-0.8011436155469337, 7);
    expect(sin[2 * 4]).toBeCloseTo(0.5984721441039564, 7);
  });

  it("is exact at large positions, where a float32 angle (as HF computes it) is not", () => {
    const { sin } = ropeCosSinTable([1], [131071.3]);
    expect(sin[0]).toBe(Math.fround(Math.sin(131071.3)));
    // The float32 angle is off by up to ulp(131071)/2 = 0.004 rad: far beyond float32 resolution of sin.
    expect(Math.abs(Math.sin(Math.fround(131071.3)) - Math.sin(131071.3))).toBeGreaterThan(1e-3);
  });

  it("scales both cos and sin by attentionFactor", () => {
    const plain = ropeCosSinTable(invFreq, positions);
    const scaled = ropeCosSinTable(invFreq, positions, { attentionFactor: 1.25 });
    for (let i = 0; i < plain.cos.length; i++) {
      expect(scaled.cos[i]).toBeCloseTo(1.25 * plain.cos[i], 6);
      expect(scaled.sin[i]).toBeCloseTo(1.25 * plain.sin[i], 6);
    }
  });

  /** Checks every entry against the direct float32-rounded value: equal, or one float32 ulp away. */
  function expectWithinOneUlp(
    table: { cos: Float32Array; sin: Float32Array },
    freqs: ArrayLike<number>,
    pos: ArrayLike<number>,
    factor = 1,
  ): number {
    let mismatches = 0;
    for (let t = 0; t < pos.length; t++) {
      for (let i = 0; i < freqs.length; i++) {
        const j = t * freqs.length + i;
        for (const [got, exact] of [
          [table.cos[j], Math.fround(factor * Math.cos(pos[t] * freqs[i]))],
          [table.sin[j], Math.fround(factor * Math.sin(pos[t] * freqs[i]))],
        ]) {
          if (got === exact) continue;
          mismatches++;
          const ulp = 2 ** (Math.floor(Math.log2(Math.max(Math.abs(exact), 2 ** -126))) - 23);
          if (Math.abs(got - exact) > ulp) expect.fail(`entry [${t}, ${i}]: ${got} vs ${exact}`);
        }
      }
    }
    return mismatches;
  }

  it("the recurrence on arithmetic progressions stays within one float32 ulp of Math.cos up to 131072", () => {
    const freqs = Float64Array.from([1, 0.75, 0.1, 1e-3, 1e-4, 3.7e-5]);
    const arange = Float64Array.from({ length: 131072 }, (_, t) => t);
    const mismatches = expectWithinOneUlp(ropeCosSinTable(freqs, arange), freqs, arange);
    expect(mismatches / (2 * arange.length * freqs.length)).toBeLessThan(0.01); // nearly all bit-equal
    // Fractional and descending progressions, with an attention factor.
    const frac = Float64Array.from({ length: 3000 }, (_, t) => 5.5 + 0.25 * t);
    expectWithinOneUlp(ropeCosSinTable(freqs, frac, { attentionFactor: 1.3 }), freqs, frac, 1.3);
    const down = Float64Array.from({ length: 3000 }, (_, t) => 9000 - 3 * t);
    expectWithinOneUlp(ropeCosSinTable(freqs, down), freqs, down);
    // A progression that breaks and resumes with another step.
    const broken = [0, 1, 2, 3, 10, 10.5, 11, 11.5, 12, 100, 100, 100, 7];
    expectWithinOneUlp(ropeCosSinTable(freqs, broken), freqs, broken);
  });

  it("writes into options.out when given, and checks its size", () => {
    const out = { cos: new Float32Array(positions.length * 4), sin: new Float32Array(positions.length * 4) };
    const table = ropeCosSinTable(invFreq, positions, { out });
    expect(table.cos).toBe(out.cos);
    expect(table.sin).toBe(out.sin);
    expect(out.cos).toEqual(ropeCosSinTable(invFreq, positions).cos);
    expect(() =>
      ropeCosSinTable(invFreq, positions, { out: { cos: out.cos, sin: new Float32Array(3) } }),
    ).toThrow(/out.cos and out.sin must hold/);
  });

  it("rejects non-finite positions, frequencies and factors", () => {
    expect(() => ropeCosSinTable(invFreq, [0, Number.NaN])).toThrow(/positions\[1\]/);
    expect(() => ropeCosSinTable([1, Number.POSITIVE_INFINITY], [0])).toThrow(/invFreq\[1\]/);
    expect(() => ropeCosSinTable(invFreq, [0], { attentionFactor: Number.NaN })).toThrow(PosencConfigError);
  });

  it("accepts only a finite attention factor > 0, with the one-line validation error", () => {
    for (const [factor, shown] of [
      [-1, "-1"],
      [0, "0"],
      [Number.NaN, "NaN"],
      [Number.POSITIVE_INFINITY, "Infinity"],
      [Number.NEGATIVE_INFINITY, "-Infinity"],
    ] as const) {
      expect(() => ropeCosSinTable(invFreq, [0], { attentionFactor: factor })).toThrow(
        `Invalid attentionFactor: expected a finite number > 0 and <= 3.4028234663852886e+38, received ${shown}`,
      );
    }
    expect(ropeCosSinTable(invFreq, [0], { attentionFactor: 1e-300 }).cos[0]).toBe(Math.fround(1e-300));
  });

  it("refuses out.cos and out.sin sharing memory, and reads positions stored in out's memory correctly", () => {
    const buffer = new Float32Array(positions.length * 4 + 2);
    const cos = buffer.subarray(0, positions.length * 4);
    const sin = buffer.subarray(2, 2 + positions.length * 4);
    expect(() => ropeCosSinTable(invFreq, positions, { out: { cos, sin } })).toThrow(
      "out.cos and out.sin must not overlap: they hold different values",
    );
    // Positions 0..5 stored at the start of the cos output: overwritten by row 0 unless read from a copy.
    const out = { cos: new Float32Array(6 * 4), sin: new Float32Array(6 * 4) };
    out.cos.set([0, 1, 2, 3, 4, 5]);
    ropeCosSinTable(invFreq, out.cos.subarray(0, 6), { out });
    const expected = ropeCosSinTable(invFreq, [0, 1, 2, 3, 4, 5]);
    expect(out.cos).toEqual(expected.cos);
    expect(out.sin).toEqual(expected.sin);
  });
});

describe("applyRope", () => {
  const numHeads = 3;
  const headDim = 16;
  const positions = [0, 1, 7.5, 100, 4095.25];
  const seq = positions.length;

  for (const layout of ["half", "interleaved"] as const) {
    for (const rotaryDim of [16, 10, 0]) {
      it(`${layout}, rotaryDim ${rotaryDim}: matches the float64 reference, in place and out of place`, () => {
        const rng = new Rng(rotaryDim + (layout === "half" ? 1 : 2));
        const x = randomArray(rng, seq * numHeads * headDim);
        const invFreq = ropeInverseFrequencies(rotaryDim, 500);
        const { cos, sin } = ropeCosSinTable(invFreq, positions, { attentionFactor: 1.1 });
        const expected = applyRopeReference(x, positions, invFreq, {
          numHeads,
          headDim,
          layout,
          attentionFactor: 1.1,
        });
        const original = x.slice();
        const out = new Float32Array(x.length).fill(Number.NaN);
        const returned = applyRope(x, cos, sin, { numHeads, headDim, rotaryDim, layout, out });
        expect(returned).toBe(out);
        expect(x).toEqual(original); // out of place leaves x alone
        expect(maxAbsDiff(out, expected)).toBeLessThan(1e-6);
        const inPlace = applyRope(x, cos, sin, { numHeads, headDim, rotaryDim, layout });
        expect(inPlace).toBe(x);
        expect(x).toEqual(out); // bit-identical
        const selfOut = original.slice();
        applyRope(selfOut, cos, sin, { numHeads, headDim, rotaryDim, layout, out: selfOut });
        expect(selfOut).toEqual(out);
        // Partial rotary: the tail channels pass through bit for bit.
        for (let t = 0; t < seq * numHeads; t++) {
          for (let c = rotaryDim; c < headDim; c++)
            expect(out[t * headDim + c]).toBe(original[t * headDim + c]);
        }
      });
    }
  }

  it("handles every head count (the kernel pairs heads; an odd last head runs alone)", () => {
    const positions2 = [2, 9.25];
    for (const heads of [1, 2, 3, 4, 5, 7, 8]) {
      for (const layout of ["half", "interleaved"] as const) {
        const x = randomArray(new Rng(heads), positions2.length * heads * 12);
        const invFreq = ropeInverseFrequencies(8, 10000);
        const { cos, sin } = ropeCosSinTable(invFreq, positions2);
        const got = applyRope(x.slice(), cos, sin, { numHeads: heads, headDim: 12, rotaryDim: 8, layout });
        const expected = applyRopeReference(x, positions2, invFreq, { numHeads: heads, headDim: 12, layout });
        expect(maxAbsDiff(got, expected)).toBeLessThan(1e-6);
      }
    }
  });

  it("position 0 is the identity, exactly", () => {
    const x = randomArray(new Rng(3), 2 * numHeads * headDim);
    const { cos, sin } = ropeCosSinTable(ropeInverseFrequencies(headDim), [0, 0]);
    for (const layout of ["half", "interleaved"] as const) {
      const out = applyRope(x, cos, sin, { numHeads, headDim, layout, out: new Float32Array(x.length) });
      expect(out).toEqual(x);
    }
  });

  it("rotates a hand-computed vector (half: pairs (i, i + d/2); interleaved: pairs (2i, 2i+1))", () => {
    const invFreq = Float64Array.from([Math.PI / 2, Math.PI]); // position 1: quarter turn and half turn
    const v = Float32Array.from([1, 2, 3, 4]);
    const half = rotateOne(v, 1, invFreq, "half"); // pairs (1,3) by 90 deg, (2,4) by 180 deg
    expectCloseTo(half, [-3, -2, 1, -4], 6);
    const inter = rotateOne(v, 1, invFreq, "interleaved"); // pairs (1,2) by 90 deg, (3,4) by 180 deg
    expectCloseTo(inter, [-2, 1, -3, -4], 6);
  });

  it("preserves the norm of every rotated head", () => {
    const invFreq = ropeInverseFrequencies(headDim, 10000);
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 1e6 }),
        fc.double({ min: -1e5, max: 1e5, noNaN: true }),
        (seed, m) => {
          const v = randomArray(new Rng(seed), headDim);
          for (const layout of ["half", "interleaved"] as const) {
            const r = rotateOne(v, m, invFreq, layout);
            expect(Math.abs(Math.sqrt(dot(r, r)) - Math.sqrt(dot(v, v)))).toBeLessThan(
              1e-5 * Math.sqrt(dot(v, v)),
            );
          }
        },
      ),
      { numRuns: 50 },
    );
  });

  it("scores depend only on m - n: shifting both positions (also fractionally) keeps q_m . k_n", () => {
    const invFreq = ropeInverseFrequencies(headDim, 10000);
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 1e6 }),
        fc.double({ min: 0, max: 4096, noNaN: true }),
        fc.double({ min: 0, max: 4096, noNaN: true }),
        fc.double({ min: -2048, max: 2048, noNaN: true }),
        (seed, m, n, offset) => {
          const rng = new Rng(seed);
          const q = randomArray(rng, headDim);
          const k = randomArray(rng, headDim);
          const scale = Math.sqrt(dot(q, q) * dot(k, k));
          for (const layout of ["half", "interleaved"] as const) {
            const s1 = dot(rotateOne(q, m, invFreq, layout), rotateOne(k, n, invFreq, layout));
            const s2 = dot(
              rotateOne(q, m + offset, invFreq, layout),
              rotateOne(k, n + offset, invFreq, layout),
            );
            expect(Math.abs(s1 - s2)).toBeLessThan(1e-4 * scale);
          }
        },
      ),
      { numRuns: 60 },
    );
  });

  it("gives the out-of-place result when out partly overlaps x, cos or sin (views of one buffer)", () => {
    const rng = new Rng(11);
    const n = seq * numHeads * headDim;
    for (const layout of ["half", "interleaved"] as const) {
      for (const rotaryDim of [16, 10]) {
        const { cos, sin } = ropeCosSinTable(ropeInverseFrequencies(rotaryDim), positions);
        const options = { numHeads, headDim, rotaryDim, layout };
        const values = randomArray(rng, n);
        const expected = applyRope(values, cos, sin, { ...options, out: new Float32Array(n) });
        for (const shift of [1, 5, -3, -headDim]) {
          // x and out: n floats each, `shift` floats apart in one buffer (out after x when shift > 0).
          const buffer = new Float32Array(n + Math.abs(shift));
          const x = buffer.subarray(Math.max(0, -shift), Math.max(0, -shift) + n);
          const out = buffer.subarray(Math.max(0, shift), Math.max(0, shift) + n);
          x.set(values);
          expect(applyRope(x, cos, sin, { ...options, out })).toBe(out);
          expect(Array.from(out), `${layout} ${rotaryDim} shift ${shift}`).toEqual(Array.from(expected));
        }
        // A different view of x's exact bytes is in place.
        const x = Float32Array.from(values);
        applyRope(x, cos, sin, { ...options, out: new Float32Array(x.buffer) });
        expect(Array.from(x)).toEqual(Array.from(expected));
        // out sharing memory with the cos table: the table is read from a copy.
        const shared = new Float32Array(n + cos.length);
        const tableCos = shared.subarray(n - 4, n - 4 + cos.length);
        tableCos.set(cos);
        const out = shared.subarray(0, n);
        applyRope(values, tableCos, sin, { ...options, out });
        expect(Array.from(out)).toEqual(Array.from(expected));
      }
    }
  });

  it("throws RangeErrors that name the bad shape", () => {
    const x = new Float32Array(2 * 2 * 8);
    const { cos, sin } = ropeCosSinTable(ropeInverseFrequencies(8), [0, 1]);
    const ok = { numHeads: 2, headDim: 8, layout: "half" as const };
    expect(() => applyRope(x, cos, sin, ok)).not.toThrow();
    expect(() => applyRope(x.subarray(1), cos, sin, ok)).toThrow(
      /x.length must be a multiple of numHeads \* headDim/,
    );
    expect(() => applyRope(x, cos.subarray(1), sin, ok)).toThrow(/cos and sin must hold/);
    expect(() => applyRope(x, cos, sin, { ...ok, rotaryDim: 7 })).toThrow(
      /rotaryDim must be an even integer/,
    );
    expect(() => applyRope(x, cos, sin, { ...ok, rotaryDim: 10 })).toThrow(/rotaryDim/);
    expect(() => applyRope(x, cos, sin, { ...ok, numHeads: 0 })).toThrow(/numHeads/);
    expect(() => applyRope(x, cos, sin, { ...ok, out: new Float32Array(3) })).toThrow(/out.length/);
    expect(() => applyRope(x, cos, sin, { ...ok, layout: "neox" as RopeLayout })).toThrow(/layout/);
    expect(() => applyRope(x, cos, sin, { ...ok, rotaryDim: 4 })).toThrow(RangeError); // table built for 8
  });
});
