import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { noGrad, tensor, tidy } from "../engine/index.js";
import { randomValues } from "../engine/testing/gradcheck.js";
import { Rng } from "../util/rng.js";
import { PosencConfigError } from "../util/validation.js";
import { getEncoding } from "./registry.js";
import { applyAxialRope, axialRopeFrequencies, axialRopeTables, rope2dSpec } from "./rope-2d.js";

/** Transcription of the official code (naver-ai/rope-vit), see test/fixtures/rope-2d-axial-replica.py. */
const fixture = JSON.parse(
  readFileSync(new URL("../../test/fixtures/rope-2d-axial.json", import.meta.url), "utf8"),
) as { headDim: number; numHeads: number; base: number; ids: number[]; q: number[]; rotated: number[] };

describe("rope-2d (axial 2-D RoPE, arXiv:2403.13298)", () => {
  it("matches the official axial rotation (compute_axial_cis + apply_rotary_emb, transcribed)", () => {
    const x = Float32Array.from(fixture.q);
    applyAxialRope(x, fixture.ids, fixture.numHeads, fixture.headDim, fixture.base);
    for (let i = 0; i < x.length; i++) expect(x[i]).toBeCloseTo(fixture.rotated[i]!, 6);
  });

  it("frequencies: base^(-4k/Dh); columns on the first Dh/4 pairs, rows on the rest", () => {
    expect(Array.from(axialRopeFrequencies(8, 100))).toEqual([1, 100 ** -0.5]);
    const { cos, sin } = axialRopeTables([2, 3], 8, 100); // row 2, col 3
    const theta1 = 100 ** -0.5;
    expect(Array.from(sin)).toEqual(
      [Math.sin(3), Math.sin(3 * theta1), Math.sin(2), Math.sin(2 * theta1)].map(Math.fround),
    );
    expect(cos[0]).toBe(Math.fround(Math.cos(3)));
    expect(() => axialRopeFrequencies(6)).toThrow(/multiple of 4/);
  });

  it("q . k depends only on (row - row', col - col')", () => {
    const H = 1;
    const D = 16;
    const q = randomValues(1, D);
    const k = randomValues(2, D);
    const dot = (a: number[], b: number[]) => {
      const rq = applyAxialRope(Float32Array.from(q), a, H, D);
      const rk = applyAxialRope(Float32Array.from(k), b, H, D);
      return rq.reduce((s, v, i) => s + v * rk[i]!, 0);
    };
    const base = dot([1, 2], [4, 0]);
    expect(dot([6, 9], [9, 7])).toBeCloseTo(base, 4); // shifted by (5, 7)
    expect(Math.abs(dot([1, 2], [0, 4]) - base)).toBeGreaterThan(1e-3); // axes not interchangeable
  });

  it("the trainable form rotates each example at its own (row, col) ids, as the library does", () => {
    const B = 2;
    const H = 2;
    const T = 4;
    const D = 8;
    const dims = { dModel: H * D, numHeads: H, headDim: D, numLayers: 1, maxSeqLen: 64, causal: false };
    const encoding = rope2dSpec.trainable!(
      rope2dSpec.create({ headDim: D }).params as never,
      dims,
      new Rng(0),
    );
    const ids = Float64Array.from([0, 0, 0, 1, 1, 0, 1, 1, 3, 2, 0, 5, 7, 7, 2, 1]); // [B, T, 2]
    const q = randomValues(3, B * H * T * D);
    const out = tidy(() =>
      noGrad(() =>
        encoding.transformQK!(tensor(q, [B, H, T, D]), tensor(q, [B, H, T, D]), ids, 0).q.toArray(),
      ),
    );
    for (let b = 0; b < B; b++) {
      // Library layout [T, H, D] of example b.
      const rows = new Float32Array(T * H * D);
      for (let h = 0; h < H; h++)
        for (let t = 0; t < T; t++)
          for (let c = 0; c < D; c++) rows[(t * H + h) * D + c] = q[((b * H + h) * T + t) * D + c]!;
      applyAxialRope(rows, ids.subarray(b * T * 2, (b + 1) * T * 2), H, D);
      for (let h = 0; h < H; h++)
        for (let t = 0; t < T; t++)
          for (let c = 0; c < D; c++)
            expect(out[((b * H + h) * T + t) * D + c]).toBeCloseTo(rows[(t * H + h) * D + c]!, 6);
    }
  });

  it("is registered with 2 coordinates per position; a head size not divisible by 4 is refused", () => {
    expect(getEncoding("rope-2d").positionCoordinates).toBe(2);
    expect(() => rope2dSpec.create({ headDim: 6 })).toThrow(PosencConfigError);
    expect(() => rope2dSpec.create({ headDim: 6 })).toThrow(/rope-2d\.headDim.*multiple of 4/);
  });
});
