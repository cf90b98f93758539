import { describe, expect, it } from "vitest";
import { Rng } from "../util/rng.js";
import { PosencConfigError } from "../util/validation.js";
import { ABF_LLAMA2_LONG_BASE, abfInverseFrequencies, abfSpec } from "./abf.js";
import { ropeInverseFrequencies, ropeSpec } from "./rope.js";

describe("abfInverseFrequencies", () => {
  it("is RoPE's frequencies with base 500000 by default", () => {
    expect(ABF_LLAMA2_LONG_BASE).toBe(500000);
    expect(abfInverseFrequencies(128)).toEqual(ropeInverseFrequencies(128, 500000));
    expect(abfInverseFrequencies(16, 5000)).toEqual(ropeInverseFrequencies(16, 5000));
  });

  it("hand values: d = 4, b = 500000 gives [1, 500000^(-1/2)]", () => {
    const f = abfInverseFrequencies(4);
    expect(f[0]).toBe(1);
    expect(f[1]).toBeCloseTo(1 / Math.sqrt(500000), 15);
    // The lowest frequency of Llama 2 (d = 128) drops from 10000^(-126/128) to 500000^(-126/128): a wavelength
    // 2 pi / theta of about 4.8e5 tokens instead of 5.4e4.
    const low = abfInverseFrequencies(128)[63];
    expect((2 * Math.PI) / low).toBeCloseTo(2 * Math.PI * 500000 ** (126 / 128), 3);
    expect((2 * Math.PI) / low / ((2 * Math.PI) / ropeInverseFrequencies(128, 10000)[63])).toBeCloseTo(
      50 ** (126 / 128),
      9,
    );
  });

  it("rejects odd dims and bases <= 1", () => {
    expect(() => abfInverseFrequencies(7, 500000)).toThrow(PosencConfigError);
    expect(() => abfInverseFrequencies(8, 1)).toThrow(
      /Invalid newBase: expected a finite number > 1, received 1/,
    );
    expect(() => abfInverseFrequencies(0)).toThrow(/Invalid dim/);
  });
});

describe("abfSpec", () => {
  it("is registered as abf with base 500000 by default", () => {
    expect(abfSpec.id).toBe("abf");
    expect(abfSpec.family).toBe("context-extension");
    expect(abfSpec.create({ headDim: 8 }).params).toEqual({
      headDim: 8,
      base: 500000,
      partialRotaryFactor: 1,
      layout: "half",
    });
    expect(() => abfSpec.create({ base: 0.5 })).toThrow(/Invalid abf.base/);
    expect(() => abfSpec.create({ newBase: 5 })).toThrow(/Unknown key abf.newBase/);
  });

  it("transforms exactly like rope with the same base", () => {
    const headDim = 8;
    const positions = [0, 1, 77, 30000];
    const rng = new Rng(3);
    const x = new Float32Array(positions.length * headDim).map(() => 2 * rng.next() - 1);
    for (const layout of ["half", "interleaved"]) {
      const a = x.slice();
      const b = x.slice();
      abfSpec.create({ headDim, layout }).transformQK?.(a, positions, 1, headDim, "key");
      ropeSpec.create({ headDim, base: 500000, layout }).transformQK?.(b, positions, 1, headDim, "key");
      expect(a).toEqual(b);
      expect(a).not.toEqual(x);
    }
  });
});
