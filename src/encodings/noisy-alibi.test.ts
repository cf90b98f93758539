import { describe, expect, it } from "vitest";
import { noGrad, tidy } from "../engine/index.js";
import { Rng } from "../util/rng.js";
import { alibiSlopes } from "./alibi.js";
import { noisyAlibiBias, noisyAlibiSpec, sampleNoisyAlibiRow } from "./noisy-alibi.js";
import { resolveParams } from "./types.js";

/**
 * The official construction, transcribed (google-deepmind/randomized_positional_encodings @57bc5d0,
 * `compute_noisy_alibi_encodings_biases` with `_rel_shift_inner`): the row [_, left..., 0, right...] tiled over
 * Tq rows, viewed [Tq + Tk, Tq], first row dropped, viewed [Tq, Tq + Tk - 1], first Tk columns kept.
 */
function officialBias(left: number[], right: number[], Tq: number, Tk: number): number[][] {
  const row = [Number.NaN, ...left.map((v) => v + 0.5), 0, ...right];
  const flat = Array.from({ length: Tq }, () => row).flat(); // [Tq, Tq + Tk]
  const shifted = flat.slice(Tq); // drop the first row of the [Tq + Tk, Tq] view
  return Array.from({ length: Tq }, (_, i) => shifted.slice(i * (Tq + Tk - 1), i * (Tq + Tk - 1) + Tk));
}

describe("noisy ALiBi (the paper's randomized ALiBi)", () => {
  it("equals the official relative-shift construction, symmetric draw (Tq = Tk and Tq != Tk)", () => {
    for (const [Tq, Tk] of [
      [5, 5],
      [3, 6],
      [6, 3],
    ] as const) {
      const row = sampleNoisyAlibiRow(Tq, Tk, 40, new Rng(7));
      // Recover the official arrays from the sorted draw s_1 < ... < s_n.
      const n = Math.max(Tq, Tk) - 1;
      const s = Array.from({ length: n }, (_, d) =>
        d < Tk - 1 ? -row.values[Tq - 1 + d + 1]! : -row.values[Tq - 2 - d]! + 0.5,
      );
      const symmetric = s.map((v) => -v); // -sort(S)
      const right = symmetric.slice(0, Tk - 1);
      const left = [...symmetric].reverse().slice(0, Tq - 1);
      const expected = officialBias(left, right, Tq, Tk);
      const bias = noisyAlibiBias([1], row);
      for (let i = 0; i < Tq; i++)
        for (let j = 0; j < Tk; j++) expect(bias[i * Tk + j]).toBeCloseTo(expected[i]![j]!, 5);
      // Sorted distinct draws from [1, L).
      for (let d = 1; d < n; d++) expect(s[d]!).toBeGreaterThan(s[d - 1]!);
      expect(s.every((v) => Number.isInteger(v) && v >= 1 && v < 40)).toBe(true);
    }
  });

  it("depends on i - j only, is 0 on the diagonal, and puts the 0.5 on the left (keys before the query)", () => {
    const T = 6;
    const bias = noisyAlibiBias([1], sampleNoisyAlibiRow(T, T, 100, new Rng(3)));
    const at = (i: number, j: number) => bias[i * T + j]!;
    for (let i = 0; i + 1 < T; i++) for (let j = 0; j + 1 < T; j++) expect(at(i + 1, j + 1)).toBe(at(i, j));
    for (let i = 0; i < T; i++) expect(at(i, i)).toBe(0);
    for (let d = 1; d < T; d++) expect(at(d, 0) - at(0, d)).toBeCloseTo(0.5, 6);
  });

  it("draws both sides apart with randomizeBothSides, and multiplies by the ALiBi slopes", () => {
    const row = sampleNoisyAlibiRow(8, 8, 1000, new Rng(5), true);
    const left = Array.from({ length: 7 }, (_, d) => row.values[7 - 1 - d]! - 0.5);
    const right = Array.from({ length: 7 }, (_, d) => row.values[7 + 1 + d]!);
    expect(left).not.toEqual(right);
    const slopes = alibiSlopes(4);
    const bias = noisyAlibiBias(slopes, row);
    for (let h = 0; h < 4; h++)
      expect(bias[h * 64 + 8 * 3 + 1]).toBeCloseTo(slopes[h]! * row.values[7 - 2]!, 5);
  });

  it("rejects a range too small for the sequence", () => {
    expect(() => sampleNoisyAlibiRow(10, 10, 9, new Rng(1))).toThrow(/Invalid maxPositions/);
    expect(() => noisyAlibiSpec.create({ maxPositions: 1 })).toThrow(/noisy-alibi\.maxPositions/);
  });

  it("trains: a new draw per layer and per forward, from the step's Rng (seeded)", () => {
    const dims = { dModel: 4, numHeads: 2, headDim: 2, numLayers: 2, maxSeqLen: 8, causal: false };
    const params = resolveParams("noisy-alibi", noisyAlibiSpec.params, { maxPositions: 50 });
    const encoding = noisyAlibiSpec.trainable!(params, dims, new Rng(1));
    const forward = (seed: number) => {
      const ids = encoding.positionIds!({ batchSize: 2, seqLen: 4, rng: new Rng(seed), training: true });
      expect(Array.from(ids)).toEqual([0, 1, 2, 3, 0, 1, 2, 3]);
      return tidy(() => noGrad(() => [0, 1].map((l) => encoding.attentionBias!(ids, 2, 4, l).toArray())));
    };
    const [a0, a1] = forward(1);
    const [b0] = forward(2);
    const [c0] = forward(1);
    expect(a0).not.toEqual(a1);
    expect(a0).not.toEqual(b0);
    expect(c0).toEqual(a0);
  });
});
