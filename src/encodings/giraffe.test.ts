import { describe, expect, it } from "vitest";
import { Rng } from "../util/rng.js";
import { PosencConfigError } from "../util/validation.js";
import {
  giraffePowerInverseFrequencies,
  giraffePowerSpec,
  giraffeTruncatedInverseFrequencies,
  giraffeTruncatedSpec,
  giraffeTruncationThresholds,
} from "./giraffe.js";
import { ropeEncodingFromFrequencies, ropeInverseFrequencies, ropeSpec } from "./rope.js";

function expectClose(actual: ArrayLike<number>, expected: readonly number[], digits = 15): void {
  expect(actual.length).toBe(expected.length);
  for (let i = 0; i < expected.length; i++) expect(actual[i]).toBeCloseTo(expected[i], digits);
}

describe("giraffePowerInverseFrequencies", () => {
  it("hand values: d = 8, base = 10^4 (theta = 1, 0.1, 0.01, 0.001), factors (1 - 2i/8)^k", () => {
    // k = 0.5: factors sqrt(1, 0.75, 0.5, 0.25) = 1, 0.8660254..., 0.7071067..., 0.5.
    expectClose(
      giraffePowerInverseFrequencies(8, 10000, 0.5),
      [1, 0.08660254037844387, 0.007071067811865476, 0.0005],
    );
    // k = 2: factors 1, 0.5625, 0.25, 0.0625.
    expectClose(giraffePowerInverseFrequencies(8, 10000, 2), [1, 0.05625, 0.0025, 0.0000625]);
  });

  it("k = 0 is RoPE; theta_0 is always 1 and the lowest pair is scaled by (2/d)^k", () => {
    expect(giraffePowerInverseFrequencies(64, 10000, 0)).toEqual(ropeInverseFrequencies(64, 10000));
    const f = giraffePowerInverseFrequencies(128, 10000, 0.5);
    const rope = ropeInverseFrequencies(128, 10000);
    expect(f[0]).toBe(1);
    expect(f[63] / rope[63]).toBeCloseTo((2 / 128) ** 0.5, 14);
    // Relative shrink grows monotonically with i: low frequencies are stretched the most.
    for (let i = 1; i < 64; i++) expect(f[i] / rope[i]).toBeLessThan(f[i - 1] / rope[i - 1]);
  });

  it("rejects negative powers, odd dims and bases <= 1", () => {
    expect(() => giraffePowerInverseFrequencies(8, 10000, -1)).toThrow(
      /Invalid power: expected a finite number >= 0, received -1/,
    );
    expect(() => giraffePowerInverseFrequencies(9, 10000, 1)).toThrow(PosencConfigError);
    expect(() => giraffePowerInverseFrequencies(8, 0.5, 1)).toThrow(/Invalid base/);
  });
});

describe("giraffeTruncationThresholds", () => {
  it("follows the official code: b = 2 pi/T, a = b/8, rho = 2 pi/(16 T)", () => {
    const t = giraffeTruncationThresholds(2048);
    expect(t.b).toBeCloseTo(0.0030679615757712823, 17);
    expect(t.a).toBeCloseTo(0.00038349519697141029, 18);
    expect(t.rho).toBeCloseTo(0.00019174759848570515, 18);
    expect(() => giraffeTruncationThresholds(0)).toThrow(/Invalid truncateLength/);
  });
});

describe("giraffeTruncatedInverseFrequencies", () => {
  it("hand values, d = 8, base = 10^4 (theta = 1, 0.1, 0.01, 0.001)", () => {
    // T = 20: b = 0.314, a = 0.0393, rho = 2 pi/320 = 0.019635: 1 kept, 0.1 -> rho, 0.01 and 0.001 -> 0.
    expectClose(
      giraffeTruncatedInverseFrequencies(8, 10000, giraffeTruncationThresholds(20)),
      [1, 0.019634954084936207, 0, 0],
    );
    // T = 100: b = 0.0628, a = 0.00785, rho = 0.003927: 1 and 0.1 kept, 0.01 -> rho, 0.001 -> 0.
    expectClose(
      giraffeTruncatedInverseFrequencies(8, 10000, giraffeTruncationThresholds(100)),
      [1, 0.1, 0.003926990816987241, 0],
    );
  });

  it("keeps theta = b, maps theta = a to rho (the code's strict inequalities)", () => {
    const f = giraffeTruncatedInverseFrequencies(8, 10000, { b: 0.1, a: 0.01, rho: 0.005 });
    expect(Array.from(f)).toEqual([1, 0.1, 0.005, 0]);
    // a = 0: nothing is zeroed; a = b: nothing becomes rho.
    expect(Array.from(giraffeTruncatedInverseFrequencies(8, 10000, { b: 0.05, a: 0, rho: 0.002 }))).toEqual([
      1, 0.1, 0.002, 0.002,
    ]);
    expect(
      Array.from(giraffeTruncatedInverseFrequencies(8, 10000, { b: 0.05, a: 0.05, rho: 0.002 })),
    ).toEqual([1, 0.1, 0, 0]);
  });

  it("truncating past every wavelength leaves RoPE unchanged", () => {
    // The slowest pair of d = 16, base 10^4 has wavelength 2 pi * 10^(4 * 14/16) = 2.0e4 tokens < T = 10^5.
    expect(giraffeTruncatedInverseFrequencies(16, 10000, giraffeTruncationThresholds(1e5))).toEqual(
      ropeInverseFrequencies(16, 10000),
    );
  });

  it("rejects a > b, negative rho and b <= 0", () => {
    expect(() => giraffeTruncatedInverseFrequencies(8, 10000, { b: 0.1, a: 0.2, rho: 0 })).toThrow(
      /Invalid truncation.a: expected a finite number >= 0 and <= 0.1, received 0.2/,
    );
    expect(() => giraffeTruncatedInverseFrequencies(8, 10000, { b: 0.1, a: 0.01, rho: -1 })).toThrow(
      /Invalid truncation.rho/,
    );
    expect(() => giraffeTruncatedInverseFrequencies(8, 10000, { b: 0, a: 0, rho: 0 })).toThrow(
      /Invalid truncation.b/,
    );
  });
});

describe("giraffe specs", () => {
  const headDim = 8;
  const positions = [0, 2, 50, 1000.5];
  const rng = new Rng(17);
  const x = new Float32Array(positions.length * 3 * headDim).map(() => 2 * rng.next() - 1);

  it("have their ids, families and validated defaults", () => {
    expect(giraffePowerSpec.id).toBe("giraffe-power");
    expect(giraffeTruncatedSpec.id).toBe("giraffe-truncated");
    expect(giraffePowerSpec.family).toBe("context-extension");
    expect(giraffeTruncatedSpec.family).toBe("context-extension");
    expect(giraffePowerSpec.create({ headDim }).params).toMatchObject({ power: 0.5, base: 10000 });
    expect(giraffeTruncatedSpec.create({ headDim }).params).toMatchObject({ truncateLength: 2048 });
    expect(() => giraffePowerSpec.create({ power: -0.5 })).toThrow(/Invalid giraffe-power.power/);
    expect(() => giraffeTruncatedSpec.create({ truncateLength: 0 })).toThrow(
      /Invalid giraffe-truncated.truncateLength/,
    );
    expect(() => giraffeTruncatedSpec.create({ rho: 1 })).toThrow(/Unknown key giraffe-truncated.rho/);
  });

  it("power 0 transforms exactly like rope; other powers like rope with the scaled frequencies", () => {
    const a = x.slice();
    const b = x.slice();
    giraffePowerSpec.create({ headDim, power: 0 }).transformQK?.(a, positions, 3, headDim, "query");
    ropeSpec.create({ headDim }).transformQK?.(b, positions, 3, headDim, "query");
    expect(a).toEqual(b);
    const c = x.slice();
    const d = x.slice();
    giraffePowerSpec
      .create({ headDim, power: 2, layout: "interleaved" })
      .transformQK?.(c, positions, 3, headDim, "key");
    ropeEncodingFromFrequencies({
      id: "check",
      params: {},
      invFreq: [1, 0.05625, 0.0025, 0.0000625],
      layout: "interleaved",
    }).transformQK?.(d, positions, 3, headDim, "key");
    for (let i = 0; i < c.length; i++) expect(c[i]).toBeCloseTo(d[i], 6);
  });

  it("truncated pairs with theta = 0 pass through unrotated", () => {
    // T = 20 keeps pair 0, sets pair 1 to rho, zeroes pairs 2 and 3 (half layout: channels 2, 3, 6, 7).
    const a = x.slice();
    giraffeTruncatedSpec
      .create({ headDim, truncateLength: 20 })
      .transformQK?.(a, positions, 3, headDim, "query");
    for (let row = 0; row < positions.length * 3; row++) {
      for (const c of [2, 3, 6, 7]) expect(a[row * headDim + c]).toBe(x[row * headDim + c]);
    }
    expect(a).not.toEqual(x);
  });
});
