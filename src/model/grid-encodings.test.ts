/**
 * 2-D position methods in the transformer: a forward and backward pass on task-supplied [B, T, 2] (row, column) ids
 * reaches each method's parameters, and the ids change the loss.
 */
import { describe, expect, it } from "vitest";
import { tidy } from "../engine/index.js";
import { Rng } from "../util/rng.js";
import { createTransformer } from "./index.js";

const inputs = Int32Array.from([1, 2, 3, 4, 1, 1, 2, 2]);
const grid = [0, 0, 0, 1, 1, 0, 1, 1]; // a 2 x 2 grid, row-major (row, column)

/** Loss of one forward/backward on [2, 4, 2] ids; gradients are left in the parameters. */
function lossAt(id: string, ids: number[], params: Record<string, unknown> = {}, numLayers = 1) {
  const model = createTransformer(
    { vocabSize: 5, dModel: 8, numHeads: 2, numLayers, causal: false, encoding: { id, params } },
    new Rng(3),
  );
  const loss = tidy(() => {
    const l = model.loss({
      inputs,
      targets: inputs,
      mask: new Uint8Array(8).fill(1),
      batchSize: 2,
      seqLen: 4,
      positionIds: Float64Array.from(ids),
      training: true,
      rng: new Rng(1),
    });
    l.backward();
    return l.item();
  });
  const gradOf = (name: string) => {
    const p = model.parameters().find((q) => q.name === name);
    if (!p) throw new Error(`no parameter ${name}`);
    return Math.max(0, ...Array.from(p.grad ?? [], Math.abs));
  };
  return { loss, gradOf };
}

describe("2-D position methods in the transformer ([B, T, 2] task ids)", () => {
  // zeroInit: tables start at zero (iRPE's official init), so the ids cannot change the first loss.
  const cases: {
    id: string;
    param: string;
    params?: Record<string, unknown>;
    layers?: number;
    zeroInit?: boolean;
    /** Ids that only scale the grid keep its traversal ranks: the same loss. */
    sameRanks?: boolean;
  }[] = [
    { id: "learnable-fourier", param: "learnable-fourier.wr" },
    { id: "irpe", param: "irpe.layer0.product", zeroInit: true },
    { id: "irpe", param: "irpe.layer0.rows", params: { mode: "bias", method: "cross" }, zeroInit: true },
    { id: "comrope", param: "comrope.layer0.p" },
    { id: "loope", param: "loope.offsets" },
    { id: "cpe", param: "cpe.weight", layers: 2 },
    { id: "cpe", param: "cpe.bias", params: { layer: 0 } },
    { id: "2d-tpe", param: "2d-tpe.layer0.gate3", sameRanks: true },
    { id: "comrope", param: "comrope.layer0.lambda", params: { variant: "ld", blockSize: 2 } },
  ];
  for (const c of cases) {
    it(`${c.id} ${JSON.stringify(c.params ?? {})}: gradients reach ${c.param}, and other ids give another loss`, () => {
      const a = lossAt(c.id, [...grid, ...grid], c.params, c.layers);
      expect(Number.isFinite(a.loss)).toBe(true);
      expect(a.gradOf(c.param)).toBeGreaterThan(0);
      if (c.zeroInit || c.sameRanks) return;
      const b = lossAt(c.id, [...grid, ...grid.map((v) => 2 * v)], c.params, c.layers);
      expect(b.loss).not.toBe(a.loss);
    });
  }
});

describe("GTA in the transformer: (e) q, k and (g) v, o", () => {
  it("the loss is the same for every translation of the grid (GTA's outputs are relative), and differs for a rescaled grid", () => {
    const shifted = grid.map((v, n) => v + (n % 2 === 0 ? 5 : 2));
    const a = lossAt("gta", [...grid, ...grid], {}, 2);
    const b = lossAt("gta", [...shifted, ...grid], {}, 2);
    expect(b.loss).toBeCloseTo(a.loss, 5);
    const c = lossAt("gta", [...grid.map((v) => 3 * v), ...grid], {}, 2);
    expect(Math.abs(c.loss - a.loss)).toBeGreaterThan(1e-4);
  });
});
