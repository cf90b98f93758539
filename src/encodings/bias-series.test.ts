import { describe, expect, it } from "vitest";
import { alibiSlopes, alibiSpec } from "./alibi.js";
import {
  analyzeBiasSeries,
  condensationTailBound,
  condensationVerdict,
  condensedLogRatios,
  encodingBiasAtDistances,
} from "./bias-series.js";
import { copeSpec } from "./cope.js";
import { kerpleLogSpec, kerplePowerSpec } from "./kerple.js";
import { nopeSpec } from "./nope.js";
import { ropeSpec } from "./rope.js";
import { t5BiasSpec } from "./t5-bias.js";
import type { EncodingSpec } from "./types.js";

const Q = 2 ** 30;
const analyze = (spec: Pick<EncodingSpec, "create" | "slots">, params = {}, heads = 4) => {
  const encoding = spec.create(params);
  const bias = encodingBiasAtDistances(spec, encoding, heads, Q);
  if (!bias) throw new Error("no bias");
  return analyzeBiasSeries(bias, { window: 4096 });
};

describe("condensation test", () => {
  it("ln rho tends to (1 - p) ln 2 for a power tail n^-p, -inf for an exponential one, ln 2 for a constant", () => {
    const powers = (f: (n: number) => number) => Array.from({ length: 31 }, (_, k) => f(2 ** k));
    const p2 = condensedLogRatios(powers((n) => -2 * Math.log(n)));
    expect(p2.at(-1)).toBeCloseTo(-Math.LN2, 12);
    expect(condensedLogRatios(powers(() => 0)).at(-1)).toBeCloseTo(Math.LN2, 12);
    const alibi = condensedLogRatios(powers((n) => -0.5 * n));
    expect(alibi.at(-1)).toBeLessThan(-1e8);
    expect(condensationVerdict([-0.5, -0.6, -0.7], 0.01)).toBe("converges");
    expect(condensationVerdict([0.5, 0.6, 0.7], 0.01)).toBe("diverges");
    expect(condensationVerdict([-0.5, 0.001, -0.7], 0.01)).toBe("inconclusive");
  });

  it("bounds the tail beyond the window: n^-2 past 2^10 is below its condensation bound, which is within 4x", () => {
    const b = (n: number) => -2 * Math.log(n);
    const powers = Array.from({ length: 31 }, (_, k) => b(2 ** k));
    const bound = condensationTailBound(powers, 0, 1023);
    // sum_{n >= 1024} n^-2 ~ 1/1023.5
    const tail = 1 / 1023.5;
    expect(bound).toBeGreaterThanOrEqual(tail);
    expect(bound).toBeLessThan(4 * tail);
    expect(
      condensationTailBound(
        Array.from({ length: 31 }, () => 0),
        0,
        1023,
      ),
    ).toBe(Number.POSITIVE_INFINITY);
  });
});

describe("the paper's examples", () => {
  it("ALiBi converges for every head; its TRF is ceil(ln(1/(1-c)) / m) - 1 (geometric series)", () => {
    const heads = analyze(alibiSpec, {}, 8);
    const slopes = alibiSlopes(8);
    heads.forEach((h, i) => {
      expect(h.verdict).toBe("converges");
      expect(h.receptiveField).toBe(Math.ceil(Math.log(100) / slopes[i]!) - 1);
    });
  });

  it("NoPE (b = 0) and T5 (constant past its last bucket, even with a decaying learned table) diverge", () => {
    for (const h of analyze(nopeSpec)) {
      expect(h.verdict).toBe("diverges");
      expect(h.receptiveField).toBeNull();
    }
    // A table falling by 1 per bucket, the same for every head: still constant beyond maxDistance = 128.
    const table = Array.from({ length: 32 * 4 }, (_, i) => -Math.floor(i / 4));
    for (const h of analyze(t5BiasSpec, { bidirectional: false, table })) expect(h.verdict).toBe("diverges");
  });

  it("Kerple-log converges iff r1 > 1 (a p-series); r1 = 1 is inconclusive by sampling", () => {
    const r2 = analyze(kerpleLogSpec, { r1: [2], r2: [1] });
    expect(r2.every((h) => h.verdict === "converges")).toBe(true);
    // sum (1 + n)^-2 = pi^2 / 6: the 0.99 field is the N whose tail sum_{m > N + 1} m^-2 ~ 1 / (N + 1.5) is 1%.
    const target = 0.99 * (Math.PI ** 2 / 6);
    let partial = 0;
    let exact = -1;
    for (let n = 0; exact < 0; n++) if ((partial += (1 + n) ** -2) >= target) exact = n;
    expect(Math.abs(r2[0]!.receptiveField! - exact)).toBeLessThanOrEqual(1);
    expect(analyze(kerpleLogSpec, { r1: [0.5] }).every((h) => h.verdict === "diverges")).toBe(true);
    expect(analyze(kerpleLogSpec, { r1: [1] }).every((h) => h.verdict === "inconclusive")).toBe(true);
  });

  it("Kerple-power converges for r2 in (0, 2]", () => {
    for (const r2 of [0.25, 1, 2]) {
      expect(analyze(kerplePowerSpec, { r1: [0.5], r2: [r2] }).every((h) => h.verdict === "converges")).toBe(
        true,
      );
    }
  });

  it("a method that is not an additive bias has no b(n): rotary, and content-aware ones (not NoPE's zero)", () => {
    expect(encodingBiasAtDistances(ropeSpec, ropeSpec.create({ headDim: 8 }), 2, Q)).toBeNull();
    expect(encodingBiasAtDistances(copeSpec, copeSpec.create(), 2, Q)).toBeNull();
  });
});
