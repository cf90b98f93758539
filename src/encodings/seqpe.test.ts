import { describe, expect, it } from "vitest";
import { noGrad, tidy } from "../engine/index.js";
import { Rng } from "../util/rng.js";
import { seqpeDigits, seqpeEncoderForTest, seqpeSpec } from "./seqpe.js";

describe("seqpe digits", () => {
  it("writes positions as the official prepare_seqpe_data does: left-padded decimal digits and a pad mask", () => {
    // The official self-test input [1, 12, 123, 1234, 12345] with max_digits 5, left padding, pad value 0.
    const rows = [1, 12, 123, 1234, 12345].map((p) => seqpeDigits(p, 5));
    expect(rows.map((r) => r.digits)).toEqual([
      [0, 0, 0, 0, 1],
      [0, 0, 0, 1, 2],
      [0, 0, 1, 2, 3],
      [0, 1, 2, 3, 4],
      [1, 2, 3, 4, 5],
    ]);
    expect(rows.map((r) => r.mask)).toEqual([
      [0, 0, 0, 0, 1],
      [0, 0, 0, 1, 1],
      [0, 0, 1, 1, 1],
      [0, 1, 1, 1, 1],
      [1, 1, 1, 1, 1],
    ]);
    expect(seqpeDigits(0, 3)).toEqual({ digits: [0, 0, 0], mask: [0, 0, 1] });
  });

  it("names maxDigits for a position it cannot write", () => {
    expect(() => seqpeDigits(1000, 3)).toThrow(/seqpe\.maxDigits/);
    expect(() => seqpeDigits(1.5, 3)).toThrow(/seqpe\.maxDigits/);
    expect(() => seqpeSpec.create({ maxDigits: 2 }).embedding!([5, 100], 4)).toThrow(/position id 100/);
  });
});

describe("seqpe encoder", () => {
  const encodeAll = (params: Record<string, unknown>, positions: number[]) =>
    tidy(() =>
      noGrad(() => Array.from(seqpeEncoderForTest(params, 8, new Rng(4)).encode(positions).toArray())),
    );

  it("gives each position one vector, whatever else is in the batch, and different positions different vectors", () => {
    const alone = encodeAll({}, [7]);
    const together = encodeAll({}, [3, 7, 250]);
    expect(together.slice(8, 16).map((v) => Math.round(v * 1e5))).toEqual(
      alone.map((v) => Math.round(v * 1e5)),
    );
    expect(together.slice(0, 8)).not.toEqual(together.slice(8, 16));
  });

  it("rows are independent with bidirectional attention too (each position attends only to its own digits)", () => {
    const a = encodeAll({ attention: "bidirectional" }, [42]);
    const b = encodeAll({ attention: "bidirectional" }, [42, 99999]);
    expect(b.slice(0, 8).map((v) => Math.round(v * 1e5))).toEqual(a.map((v) => Math.round(v * 1e5)));
  });

  it("the trainable form gathers one encoded row per id", () => {
    const dims = { dModel: 8, numHeads: 2, headDim: 4, numLayers: 1, maxSeqLen: 8, causal: true };
    const params = {
      maxDigits: 3,
      width: 8,
      heads: 2,
      layers: 1,
      attention: "causal" as const,
      temperature: 1,
    };
    const enc = seqpeSpec.trainable!(params, dims, new Rng(2));
    const out = tidy(() =>
      noGrad(() => Array.from(enc.embedding!(Float64Array.from([3, 3, 5, 5]), 2, 2).toArray())),
    );
    expect(out.slice(0, 8)).toEqual(out.slice(8, 16));
    expect(out.slice(16, 24)).toEqual(out.slice(24, 32));
    expect(out.slice(0, 8)).not.toEqual(out.slice(16, 24));
    expect(() => seqpeSpec.trainable!({ ...params, width: 9 }, dims, new Rng(2))).toThrow(/seqpe\.width/);
  });
});
