import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { expectCloseTo } from "../../test/helpers/arrays.js";
import { PosencConfigError } from "../util/validation.js";
import {
  type SinusoidalLayout,
  sinusoidalEncoding,
  sinusoidalFrequencies,
  sinusoidalPairChannels,
  sinusoidalSpec,
} from "./sinusoidal.js";

const f = Math.fround;

describe("sinusoidalFrequencies", () => {
  it("are base^(-2i/d) for the paper", () => {
    expectCloseTo(sinusoidalFrequencies(8), [1, 0.1, 0.01, 0.001], 15);
    expectCloseTo(sinusoidalFrequencies(6, { base: 1000 }), [1, 0.1, 0.01], 15);
  });

  it("are log-spaced from 1 to exactly 1/base for tensor2tensor", () => {
    // t2t get_timing_signal_1d: exp(-i * log(10000) / (d/2 - 1)); d = 8: 10000^(-i/3).
    const w = sinusoidalFrequencies(8, { frequencies: "tensor2tensor" });
    expectCloseTo(w, [1, 10000 ** (-1 / 3), 10000 ** (-2 / 3), 1e-4], 15);
    expect(sinusoidalFrequencies(2, { frequencies: "tensor2tensor" })).toEqual(Float64Array.of(1));
  });
});

describe("sinusoidalEncoding", () => {
  it("matches hand-computed values in the paper's interleaved layout", () => {
    // d = 4: w = [1, 0.01]; position 1 -> [sin 1, cos 1, sin 0.01, cos 0.01].
    const pe = sinusoidalEncoding([0, 1, 2.5], 4);
    expect(Array.from(pe.subarray(0, 4))).toEqual([0, 1, 0, 1]);
    expect(Array.from(pe.subarray(4, 8))).toEqual([
      f(Math.sin(1)),
      f(Math.cos(1)),
      f(Math.sin(0.01)),
      f(Math.cos(0.01)),
    ]);
    expectCloseTo(
      pe.subarray(4, 8),
      [0.8414709848078965, 0.5403023058681398, 0.009999833334166664, 0.9999500004166653],
      7,
    );
    // Fractional position 2.5.
    expectCloseTo(
      pe.subarray(8, 12),
      [0.5984721441039564, -0.8011436155469337, 0.024997395914712332, 0.9996875162757026],
      7,
    );
  });

  it("matches hand-computed tensor2tensor values (concatenated, t2t frequencies)", () => {
    // d = 6: w = [1, 0.01, 0.0001]; position 3.
    const pe = sinusoidalEncoding([3], 6, { layout: "concatenated", frequencies: "tensor2tensor" });
    expectCloseTo(
      pe,
      [Math.sin(3), Math.sin(0.03), Math.sin(0.0003), Math.cos(3), Math.cos(0.03), Math.cos(0.0003)],
      7,
    );
  });

  it("concatenated is the interleaved table with its channels permuted", () => {
    const positions = [0, 1, 7, 42.5, 1000];
    const d = 16;
    const interleaved = sinusoidalEncoding(positions, d);
    const concatenated = sinusoidalEncoding(positions, d, { layout: "concatenated" });
    for (let t = 0; t < positions.length; t++) {
      for (let i = 0; i < d / 2; i++) {
        expect(concatenated[t * d + i]).toBe(interleaved[t * d + 2 * i]);
        expect(concatenated[t * d + d / 2 + i]).toBe(interleaved[t * d + 2 * i + 1]);
      }
    }
    expect(sinusoidalPairChannels(3, 16, "interleaved")).toEqual([6, 7]);
    expect(sinusoidalPairChannels(3, 16, "concatenated")).toEqual([3, 11]);
  });

  it("PE(pos + k) is PE(pos) rotated by k * w_i in every frequency pair", () => {
    const d = 32;
    const w = sinusoidalFrequencies(d);
    fc.assert(
      fc.property(
        fc.double({ min: -500, max: 500, noNaN: true }),
        fc.double({ min: -100, max: 100, noNaN: true }),
        fc.constantFrom<SinusoidalLayout>("interleaved", "concatenated"),
        (pos, k, layout) => {
          const [at, shifted] = [
            sinusoidalEncoding([pos], d, { layout }),
            sinusoidalEncoding([pos + k], d, { layout }),
          ];
          let worst = 0;
          for (let i = 0; i < d / 2; i++) {
            const [s, c] = sinusoidalPairChannels(i, d, layout);
            const cosK = Math.cos(k * w[i]);
            const sinK = Math.sin(k * w[i]);
            // [sin(a + b), cos(a + b)] = [[cos b, sin b], [-sin b, cos b]] [sin a, cos a]
            worst = Math.max(
              worst,
              Math.abs(shifted[s] - (cosK * at[s] + sinK * at[c])),
              Math.abs(shifted[c] - (-sinK * at[s] + cosK * at[c])),
            );
          }
          expect(worst).toBeLessThan(1e-6); // float32 storage of the two tables
        },
      ),
      { numRuns: 200 },
    );
  });

  it("has unit norm per frequency pair", () => {
    const pe = sinusoidalEncoding([123.456], 8);
    for (let i = 0; i < 4; i++) expect(pe[2 * i] ** 2 + pe[2 * i + 1] ** 2).toBeCloseTo(1, 6);
  });

  it("names the argument on invalid input", () => {
    expect(() => sinusoidalEncoding([0], 5)).toThrow(PosencConfigError);
    expect(() => sinusoidalEncoding([0], 5)).toThrow(/dModel/);
    expect(() => sinusoidalEncoding([0], 0)).toThrow(/dModel/);
    expect(() => sinusoidalEncoding([0], 8.5)).toThrow(/dModel/);
    expect(() => sinusoidalEncoding([0], 8, { base: 1 })).toThrow(/base/);
    expect(() => sinusoidalEncoding([0], 8, { layout: "half" as SinusoidalLayout })).toThrow(/layout/);
    expect(() => sinusoidalFrequencies(8, { frequencies: "t5" as "paper" })).toThrow(/frequencies/);
    expect(() => sinusoidalEncoding([0, Number.POSITIVE_INFINITY], 8)).toThrow(/positions\[1\]/);
  });
});

describe("sinusoidalSpec", () => {
  it("declares the registry line", () => {
    expect(sinusoidalSpec.id).toBe("sinusoidal");
    expect(sinusoidalSpec.family).toBe("absolute");
    expect(sinusoidalSpec.slots).toEqual(["embedding"]);
    expect(sinusoidalSpec.paper.arxiv).toBe("1706.03762");
  });

  it("creates an embedding equal to sinusoidalEncoding", () => {
    const encoding = sinusoidalSpec.create();
    expect(encoding.params).toEqual({ base: 10000, layout: "interleaved", frequencies: "paper" });
    expect(encoding.embedding?.([0, 3, 9], 12)).toEqual(sinusoidalEncoding([0, 3, 9], 12));
    const t2t = sinusoidalSpec.create({ layout: "concatenated", frequencies: "tensor2tensor", base: 500 });
    const options = { layout: "concatenated", frequencies: "tensor2tensor", base: 500 } as const;
    expect(t2t.embedding?.([1, 2], 10)).toEqual(sinusoidalEncoding([1, 2], 10, options));
  });

  it("rejects bad parameters with their path", () => {
    expect(() => sinusoidalSpec.create({ base: 0.5 })).toThrow(/sinusoidal\.base/);
    expect(() => sinusoidalSpec.create({ layout: "half" })).toThrow(/sinusoidal\.layout/);
    expect(() => sinusoidalSpec.create({ dModel: 8 })).toThrow(/sinusoidal\.dModel/);
  });
});
