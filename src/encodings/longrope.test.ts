import { describe, expect, it } from "vitest";
import { PosencConfigError } from "../util/validation.js";
import {
  createLongropeFrequencySwitch,
  longropeAttentionFactor,
  longropeInverseFrequencies,
  longropeRescaledInverseFrequencies,
  longropeSpec,
  longropeUsesLongFactors,
} from "./longrope.js";
import { applyRopeReference, ropeInverseFrequencies } from "./rope.js";

const shortFactor = [1, 1.5, 2, 4];
const longFactor = [1, 2, 8, 16];
const options = { dim: 8, base: 10000, shortFactor, longFactor, originalMaxPositionEmbeddings: 64 };

describe("longropeRescaledInverseFrequencies", () => {
  it("divides each RoPE frequency by its own factor", () => {
    const plain = ropeInverseFrequencies(8, 10000);
    const scaled = longropeRescaledInverseFrequencies(8, 10000, longFactor);
    for (let i = 0; i < 4; i++) expect(scaled[i]).toBeCloseTo(plain[i] / longFactor[i], 15);
    expect(scaled[3]).toBeCloseTo(1e-3 / 16, 15);
  });

  it("rejects a factor list whose length is not dim / 2, and non-positive factors", () => {
    expect(() => longropeRescaledInverseFrequencies(8, 10000, [1, 2, 3])).toThrow(
      "Invalid rescaleFactors: expected a list of dim / 2 = 4 numbers, one per rotated pair (the list has 3), received [1, 2, 3]",
    );
    expect(() => longropeRescaledInverseFrequencies(8, 10000, [1, 2, 0, 4])).toThrow(/rescaleFactors\[2\]/);
  });
});

describe("longropeInverseFrequencies", () => {
  it("uses short factors up to the trained length (and when seqLen is unknown), long factors beyond", () => {
    const short = longropeRescaledInverseFrequencies(8, 10000, shortFactor);
    const long = longropeRescaledInverseFrequencies(8, 10000, longFactor);
    expect(longropeInverseFrequencies(options)).toEqual(short);
    expect(longropeInverseFrequencies({ ...options, seqLen: 0 })).toEqual(short);
    expect(longropeInverseFrequencies({ ...options, seqLen: 64 })).toEqual(short);
    expect(longropeInverseFrequencies({ ...options, seqLen: 65 })).toEqual(long);
    expect(longropeUsesLongFactors(undefined, 64)).toBe(false);
  });

  it("names the list with the wrong length", () => {
    expect(() => longropeInverseFrequencies({ ...options, longFactor: [1], seqLen: 100 })).toThrow(
      /longFactor/,
    );
  });
});

describe("longropeAttentionFactor", () => {
  it("is sqrt(1 + ln s / ln L), 1 for s <= 1, or the explicit value", () => {
    expect(longropeAttentionFactor({ factor: 4, originalMaxPositionEmbeddings: 64 })).toBeCloseTo(
      1.1547005383792517,
      15,
    );
    expect(longropeAttentionFactor({ factor: 32, originalMaxPositionEmbeddings: 2048 })).toBeCloseTo(
      1.2060453783110545,
      15,
    );
    expect(longropeAttentionFactor({ factor: 1, originalMaxPositionEmbeddings: 64 })).toBe(1);
    expect(
      longropeAttentionFactor({ factor: 4, originalMaxPositionEmbeddings: 64, attentionFactor: 1.3 }),
    ).toBe(1.3);
  });
});

describe("createLongropeFrequencySwitch", () => {
  it("switches at the trained length in both directions, keeping the attention factor", () => {
    const sw = createLongropeFrequencySwitch({ ...options, attentionFactor: 1.2 });
    const short = sw.invFreq;
    expect(sw.update(64)).toMatchObject({ changed: false, attentionFactor: 1.2 });
    const toLong = sw.update(65);
    expect(toLong.changed).toBe(true);
    expect(toLong.invFreq).toEqual(longropeRescaledInverseFrequencies(8, 10000, longFactor));
    expect(sw.update(1000).changed).toBe(false);
    expect(sw.update(3)).toMatchObject({ changed: true, invFreq: short });
  });
});

describe("longropeSpec", () => {
  it("is a context-extension spec on transformQK", () => {
    expect(longropeSpec).toMatchObject({
      id: "longrope",
      family: "context-extension",
      slots: ["transformQK"],
    });
  });

  const params = { headDim: 8, shortFactor, longFactor, originalMaxPositionEmbeddings: 64, factor: 4 };
  const attentionFactor = Math.sqrt(1 + Math.log(4) / Math.log(64));
  const check = (encodingParams: Record<string, unknown>, positions: number[], factors: number[]) => {
    const encoding = longropeSpec.create(encodingParams);
    const x = Float32Array.from({ length: positions.length * 8 }, (_, i) => Math.sin(i + 0.5));
    const expected = applyRopeReference(x, positions, longropeRescaledInverseFrequencies(8, 10000, factors), {
      numHeads: 1,
      headDim: 8,
      layout: "half",
      attentionFactor,
    });
    encoding.transformQK!(x, positions, 1, 8, "query");
    for (let i = 0; i < x.length; i++) expect(x[i]).toBeCloseTo(expected[i], 5);
  };

  it("follows each call's positions: short factors within L, long factors beyond", () => {
    check(params, [0, 10, 63], shortFactor);
    check(params, [0, 10, 64], longFactor);
  });

  it("with a fixed seqLen uses that length's factors for every call", () => {
    check({ ...params, seqLen: 1000 }, [0, 1, 2], longFactor);
  });

  it("rejects factor lists of the wrong length, naming the parameter", () => {
    const error = (() => {
      try {
        longropeSpec.create({ ...params, shortFactor: [1, 2] });
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(PosencConfigError);
    expect((error as PosencConfigError).key).toBe("longrope.shortFactor");
  });
});
