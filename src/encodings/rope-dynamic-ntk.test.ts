import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { Rng } from "../util/rng.js";
import { applyRopeReference, ropeInverseFrequencies } from "./rope.js";
import {
  createDynamicNtkFrequencyCache,
  dynamicNtkBase,
  dynamicNtkInverseFrequencies,
  ropeDynamicNtkSpec,
} from "./rope-dynamic-ntk.js";

describe("dynamicNtkBase / dynamicNtkInverseFrequencies", () => {
  it("matches a hand-computed base: d = 32, base 1e4, s = 2, L = 128, L0 = 64", () => {
    // 1e4 * (2 * 128 / 64 - 1)^(32 / 30) = 1e4 * 3^(16/15)
    const options = { dim: 32, base: 10000, factor: 2, maxPositionEmbeddings: 64, seqLen: 128 };
    expect(dynamicNtkBase(options)).toBeCloseTo(10000 * 3 ** (16 / 15), 8);
    expect(dynamicNtkBase(options)).toBeCloseTo(32279.6887, 3);
    expect(dynamicNtkInverseFrequencies(options)).toEqual(ropeInverseFrequencies(32, 10000 * 3 ** (16 / 15)));
  });

  it("slows the lowest frequency by exactly s L / L0 - (s - 1) and keeps the highest", () => {
    const options = { dim: 16, base: 500, factor: 4, maxPositionEmbeddings: 100, seqLen: 250 };
    const scaled = dynamicNtkInverseFrequencies(options);
    const plain = ropeInverseFrequencies(16, 500);
    expect(scaled[0]).toBe(1);
    // i = d/2 - 1: (base')^(-(d-2)/d) = base^(-(d-2)/d) / (4 * 2.5 - 3)
    expect(plain[7] / scaled[7]).toBeCloseTo(7, 10);
  });

  it("equals plain RoPE for seqLen undefined or <= max_position_embeddings (property)", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 2, max: 64 }),
        fc.double({ min: 1, max: 16, noNaN: true }),
        fc.integer({ min: 1, max: 10000 }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        (half, factor, maxPositionEmbeddings, fraction) => {
          const dim = 2 * half;
          const plain = ropeInverseFrequencies(dim, 10000);
          const seqLen = Math.floor(fraction * maxPositionEmbeddings);
          for (const length of [undefined, seqLen, maxPositionEmbeddings]) {
            const ntk = dynamicNtkInverseFrequencies({
              dim,
              base: 10000,
              factor,
              maxPositionEmbeddings,
              seqLen: length,
            });
            for (let i = 0; i < half; i++) expect(ntk[i]).toBeCloseTo(plain[i], 14);
          }
        },
      ),
      { numRuns: 50 },
    );
  });

  it("rejects a rotary dim of 2 (d / (d - 2)) and a bad seqLen, naming the argument", () => {
    expect(() => dynamicNtkBase({ dim: 2, base: 10000, factor: 2, maxPositionEmbeddings: 64 })).toThrow(
      /dim/,
    );
    expect(() =>
      dynamicNtkBase({ dim: 8, base: 10000, factor: 2, maxPositionEmbeddings: 64, seqLen: Number.NaN }),
    ).toThrow(/seqLen/);
  });
});

describe("createDynamicNtkFrequencyCache", () => {
  const options = { dim: 8, base: 10000, factor: 2, maxPositionEmbeddings: 64 };
  it("grows with the sequence, keeps the longest while >= L0, resets below L0", () => {
    const cache = createDynamicNtkFrequencyCache(options);
    expect(cache.maxSeqLenCached).toBe(64);
    expect(cache.update(64).changed).toBe(false);
    expect(cache.update(80)).toMatchObject({
      changed: true,
      invFreq: dynamicNtkInverseFrequencies({ ...options, seqLen: 80 }),
    });
    expect(cache.maxSeqLenCached).toBe(80);
    expect(cache.update(70).changed).toBe(false);
    expect(cache.update(63)).toMatchObject({ changed: true, invFreq: ropeInverseFrequencies(8, 10000) });
    expect(cache.maxSeqLenCached).toBe(64);
  });
});

describe("ropeDynamicNtkSpec", () => {
  it("is a context-extension spec on transformQK", () => {
    expect(ropeDynamicNtkSpec).toMatchObject({
      id: "rope-dynamic-ntk",
      family: "context-extension",
      slots: ["transformQK"],
    });
  });

  const params = { headDim: 8, base: 10000, factor: 2, maxPositionEmbeddings: 16 };
  const rotate = (
    seqLenParam: number,
    positions: number[],
    encodingRef?: ReturnType<typeof ropeDynamicNtkSpec.create>,
  ) => {
    const encoding = encodingRef ?? ropeDynamicNtkSpec.create({ ...params, seqLen: seqLenParam });
    const x = Float32Array.from({ length: positions.length * 8 }, (_, i) => Math.cos(i));
    const input = Float32Array.from(x);
    encoding.transformQK!(x, positions, 1, 8, "key");
    return { x, input };
  };
  const reference = (input: Float32Array, positions: number[], seqLen?: number) =>
    applyRopeReference(
      input,
      positions,
      dynamicNtkInverseFrequencies({ dim: 8, base: 10000, factor: 2, maxPositionEmbeddings: 16, seqLen }),
      {
        numHeads: 1,
        headDim: 8,
        layout: "half",
      },
    );

  it("with a fixed seqLen uses the frequencies of that length", () => {
    const positions = [0, 5, 40];
    const { x, input } = rotate(64, positions);
    const expected = reference(input, positions, 64);
    for (let i = 0; i < x.length; i++) expect(x[i]).toBeCloseTo(expected[i], 5);
  });

  it("with seqLen 0 follows each call's positions (max position + 1)", () => {
    const encoding = ropeDynamicNtkSpec.create({ ...params, seqLen: 0 });
    const long = [0, 1, 39]; // seqLen 40 > 16: scaled
    const first = rotate(0, long, encoding);
    const expectedLong = reference(first.input, long, 40);
    for (let i = 0; i < first.x.length; i++) expect(first.x[i]).toBeCloseTo(expectedLong[i], 5);
    const short = [3, 9]; // seqLen 10 < 16 after a longer sequence: reset to plain RoPE
    const second = rotate(0, short, encoding);
    const expectedShort = reference(second.input, short, undefined);
    for (let i = 0; i < second.x.length; i++) expect(second.x[i]).toBeCloseTo(expectedShort[i], 5);
  });

  it("changes nothing within the trained length (random inputs)", () => {
    const rng = new Rng(11);
    const encoding = ropeDynamicNtkSpec.create(params);
    const x = Float32Array.from({ length: 4 * 8 }, () => rng.normal());
    const positions = [0, 3, 8, 15];
    const expected = applyRopeReference(x, positions, ropeInverseFrequencies(8, 10000), {
      numHeads: 1,
      headDim: 8,
      layout: "half",
    });
    encoding.transformQK!(x, positions, 1, 8, "query");
    for (let i = 0; i < x.length; i++) expect(x[i]).toBeCloseTo(expected[i], 5);
  });
});
