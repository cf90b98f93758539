import { describe, expect, it } from "vitest";
import { mul, sum, tensor, withFloat64Storage } from "../engine/index.js";
import { Rng } from "../util/rng.js";
import { doublePositionEmbedding, sigmaGptSpec } from "./sigma-gpt.js";

const dims = { dModel: 4, numHeads: 1, headDim: 4, numLayers: 1, maxSeqLen: 4, causal: true };
/** A [5, 2] table: row r = (10 r, 10 r + 1). */
const table = [0, 1, 10, 11, 20, 21, 30, 31, 40, 41];

/**
 * The official `_pos_emb` written out: order has t + 1 entries; token t gets wpe[order[t]] then wpe[order[t + 1]]
 * (cat along a new last axis, then flatten(2)).
 */
function officialPosEmb(wpe: number[][], order: number[]): number[][] {
  return order.slice(0, -1).map((own, t) => [...wpe[own]!, ...wpe[order[t + 1]!]!]);
}

describe("sigma-gpt", () => {
  it("embeds (own, next) as [P[own] ‖ P[next]], as the official _pos_emb", () => {
    const order = [0, 3, 1, 4, 2];
    const ids = order.slice(0, -1).flatMap((own, t) => [own, order[t + 1]!]);
    const wpe = [0, 1, 2, 3, 4].map((r) => [10 * r, 10 * r + 1]);
    const expected = officialPosEmb(wpe, order).flat();
    expect(Array.from(doublePositionEmbedding(table, 5, ids))).toEqual(expected);
    const enc = sigmaGptSpec.create({ maxPositions: 5, table });
    expect(Array.from(enc.embedding!(ids, 4))).toEqual(expected);
  });

  it("the trainable form gives the same rows per example; its gradient is the sum of the upstream rows", () => {
    withFloat64Storage(() => {
      const enc = sigmaGptSpec.trainable!({ maxPositions: 5, initStd: 1, table }, dims, new Rng(1));
      const ids = Float64Array.from([0, 1, 1, 2, 2, 3, 0, 2, 2, 1, 1, 4]); // B = 2, T = 3
      const out = enc.embedding!(ids, 2, 3);
      expect(out.shape).toEqual([2, 3, 4]);
      expect(Array.from(out.toArray())).toEqual(Array.from(doublePositionEmbedding(table, 5, ids)));
      // loss = sum(out * w): d loss / d P[r, c] = sum of w over the (token, half) slots that read row r.
      const w = Float64Array.from({ length: 24 }, (_, i) => Math.sin(i + 1));
      const [param] = enc.parameters();
      sum(mul(out, tensor(w, [2, 3, 4]))).backward();
      const expected = new Array<number>(table.length).fill(0);
      for (let i = 0; i < 6; i++) {
        for (let k = 0; k < 2; k++) {
          const row = ids[2 * i + k]!;
          for (let c = 0; c < 2; c++) expected[row * 2 + c]! += w[i * 4 + k * 2 + c]!;
        }
      }
      const grad = Array.from(param!.grad!);
      expected.forEach((g, i) => {
        expect(grad[i]).toBeCloseTo(g, 12);
      });
    });
  });

  it("names the table size for out-of-range ids and checks the table length", () => {
    const enc = sigmaGptSpec.create({ maxPositions: 3 });
    expect(() => enc.embedding!([0, 3], 4)).toThrow(/sigma-gpt\.maxPositions/);
    expect(() => enc.embedding!([0, 1, 2], 4)).toThrow(/\[n, 2\]/);
    expect(() => sigmaGptSpec.create({ maxPositions: 3, table: [1, 2] }).embedding!([0, 1], 4)).toThrow(
      /sigma-gpt\.table/,
    );
    expect(Array.from(enc.embedding!([0, 1], 4))).toEqual([0, 0, 0, 0]);
  });
});
