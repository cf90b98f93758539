import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { Rng } from "../util/rng.js";
import { PosencConfigError } from "../util/validation.js";
import { alibiBiasAt } from "./alibi.js";
import {
  kerpleBiasAt,
  kerpleInitialParameters,
  kerpleLogBias,
  kerpleLogSpec,
  kerplePowerBias,
  kerplePowerSpec,
} from "./kerple.js";

const f = Math.fround;

describe("kerpleLogBias", () => {
  it("matches a hand-computed causal matrix", () => {
    // Head 0: r1 = 2, r2 = 0.5; head 1: r1 = 1, r2 = 1.
    const bias = kerpleLogBias({ r1: [2, 1], r2: [0.5, 1] }, 3, 3);
    const a = -2 * Math.log(1.5); // distance 1
    const b = -2 * Math.log(2); // distance 2
    expect(Array.from(bias.subarray(0, 9))).toEqual([0, 0, 0, f(a), 0, 0, f(b), f(a), 0]);
    const c = -Math.log(2);
    const d = -Math.log(3);
    expect(Array.from(bias.subarray(9))).toEqual([0, 0, 0, f(c), 0, 0, f(d), f(c), 0]);
  });

  it("is symmetric in |i - j| when causal is false", () => {
    const bias = kerpleLogBias({ r1: [1], r2: [1] }, 3, 3, { causal: false });
    const c = f(-Math.log(2));
    const d = f(-Math.log(3));
    expect(Array.from(bias)).toEqual([0, c, d, c, 0, c, d, c, 0]);
  });
});

describe("kerplePowerBias", () => {
  it("matches a hand-computed matrix", () => {
    // r1 = 0.5, r2 = 2: -0.5 d^2.
    expect(Array.from(kerplePowerBias({ r1: [0.5], r2: [2] }, 4, 4, { causal: false }).subarray(12))).toEqual(
      [-4.5, -2, -0.5, 0],
    );
    // r1 = 1, r2 = 0.5: -sqrt(d), from query position 3 (queryOffset) over keys 0..3.
    const row = kerplePowerBias({ r1: [1], r2: [0.5] }, 1, 4, { queryOffset: 3 });
    expect(Array.from(row)).toEqual([f(-Math.sqrt(3)), f(-Math.sqrt(2)), -1, 0]);
  });

  it("is ALiBi with slope r1 when r2 = 1", () => {
    const q = [4, 5, 6.5];
    const k = [0, 1, 2, 3, 4, 5, 6, 7];
    const slopes = [0.5, 0.25, 0.0625];
    for (const causal of [true, false]) {
      expect(kerpleBiasAt("power", { r1: slopes, r2: [1, 1, 1] }, q, k, { causal })).toEqual(
        alibiBiasAt(slopes, q, k, { causal }),
      );
    }
  });
});

describe("kerpleBiasAt", () => {
  const positiveParameter = fc.double({ min: 0.01, max: 2, noNaN: true });

  it("is 0 at distance 0, 0 on future keys, and strictly decreasing with distance", () => {
    fc.assert(
      fc.property(
        fc.constantFrom("log" as const, "power" as const),
        positiveParameter,
        positiveParameter,
        (kernel, r1, r2) => {
          const keys = Array.from({ length: 40 }, (_, j) => j);
          const bias = kerpleBiasAt(kernel, { r1: [r1], r2: [r2] }, [20], keys);
          expect(Object.is(bias[20], 0)).toBe(true);
          let violations = 0;
          for (let j = 21; j < 40; j++) if (bias[j] !== 0) violations++; // future keys
          // Past keys: j = 19 down to 0 is distance 1 up to 20; each farther key gets a smaller bias.
          for (let j = 19; j >= 0; j--) if (!(bias[j] < bias[j + 1])) violations++;
          expect(violations).toBe(0);
        },
      ),
      { numRuns: 100 },
    );
  });

  it("names the argument on invalid parameters", () => {
    expect(() => kerpleLogBias({ r1: [0], r2: [1] }, 2, 2)).toThrow(/r1\[0\]/);
    expect(() => kerpleLogBias({ r1: [1, -1], r2: [1, 1] }, 2, 2)).toThrow(/r1\[1\]/);
    expect(() => kerpleLogBias({ r1: [1], r2: [0] }, 2, 2)).toThrow(/r2\[0\]/);
    expect(() => kerpleLogBias({ r1: [1], r2: [2.5] }, 2, 2)).not.toThrow(); // log: any r2 > 0
    expect(() => kerplePowerBias({ r1: [1], r2: [2.5] }, 2, 2)).toThrow(PosencConfigError);
    expect(() => kerplePowerBias({ r1: [1], r2: [2.5] }, 2, 2)).toThrow(/r2\[0\]/);
    expect(() => kerplePowerBias({ r1: [1, 2], r2: [1] }, 2, 2)).toThrow(RangeError);
    expect(() => kerplePowerBias({ r1: [], r2: [] }, 2, 2)).toThrow(/r1 and r2/);
    expect(() => kerplePowerBias({ r1: [1], r2: [1] }, 2, 2, { queryOffset: -2 })).toThrow(/queryOffset/);
    expect(() => kerpleBiasAt("cubic" as "log", { r1: [1], r2: [1] }, [0], [0])).toThrow(/kernel/);
    expect(() => kerpleBiasAt("log", { r1: [1], r2: [1] }, [0], [Number.NaN])).toThrow(/keyPositions\[0\]/);
  });
});

describe("kerpleInitialParameters", () => {
  it("draws the official init from the seeded Rng", () => {
    const log = kerpleInitialParameters("log", 64, new Rng(7));
    const again = kerpleInitialParameters("log", 64, new Rng(7));
    expect(log).toEqual(again);
    // log: r1 = bias_p = 2 U, r2 = bias_a = U, both clamped to >= 0.01.
    expect(Math.min(...log.r1)).toBeGreaterThanOrEqual(0.01);
    expect(Math.max(...log.r1)).toBeLessThan(2);
    expect(Math.max(...log.r1)).toBeGreaterThan(1); // 64 draws of 2U: one exceeds 1 with probability 1 - 2^-64
    expect(Math.min(...log.r2)).toBeGreaterThanOrEqual(0.01);
    expect(Math.max(...log.r2)).toBeLessThan(1);
    // power: the same two draws with the roles swapped (r2 = bias_p is the exponent).
    const power = kerpleInitialParameters("power", 64, new Rng(7));
    expect(power.r1).toEqual(log.r2);
    expect(power.r2).toEqual(log.r1);
    expect(() => kerpleInitialParameters("log", 0, new Rng(1))).toThrow(/numHeads/);
  });
});

describe("kerple specs", () => {
  it("declare their registry lines", () => {
    for (const [spec, id] of [
      [kerpleLogSpec, "kerple-log"],
      [kerplePowerSpec, "kerple-power"],
    ] as const) {
      expect(spec.id).toBe(id);
      expect(spec.family).toBe("attention-bias");
      expect(spec.slots).toEqual(["attentionBias"]);
      expect(spec.paper.arxiv).toBe("2205.09921");
    }
  });

  it("broadcast one value to every head and accept per-head arrays or a bare number", () => {
    const q = [2, 3];
    const k = [0, 1, 2, 3];
    const broadcast = kerpleLogSpec.create({ r1: 2, r2: [0.5] });
    expect(broadcast.params).toEqual({ variant: "causal", r1: [2], r2: [0.5] });
    expect(broadcast.attentionBias?.(q, k, 3)).toEqual(
      kerpleBiasAt("log", { r1: [2, 2, 2], r2: [0.5, 0.5, 0.5] }, q, k),
    );
    const perHead = kerplePowerSpec.create({ r1: [1, 0.5], r2: [1, 2], variant: "symmetric" });
    expect(perHead.attentionBias?.(q, k, 2)).toEqual(
      kerpleBiasAt("power", { r1: [1, 0.5], r2: [1, 2] }, q, k, { causal: false }),
    );
    expect(kerpleLogSpec.create().attentionBias?.([1], [0, 1], 1)).toEqual(
      Float32Array.of(f(-Math.log(2)), 0),
    );
  });

  it("reject bad parameters with their path", () => {
    expect(() => kerpleLogSpec.create({ r1: 0 })).toThrow(/kerple-log\.r1\[0\]/);
    expect(() => kerplePowerSpec.create({ r2: [1, 3] })).toThrow(/kerple-power\.r2\[1\]/);
    expect(() => kerplePowerSpec.create({ r1: [1, 2], r2: [1, 1, 1] })).toThrow(/kerple-power\.r2/);
    expect(() => kerpleLogSpec.create({ r1: [] })).toThrow(/kerple-log\.r1/);
    expect(() => kerpleLogSpec.create({ variant: "both" })).toThrow(/kerple-log\.variant/);
    expect(() => kerpleLogSpec.create({ r1: [1, 2] }).attentionBias?.([0], [0], 3)).toThrow(/kerple-log\.r1/);
  });
});
