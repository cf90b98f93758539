import { describe, expect, it } from "vitest";
import { attention, noGrad, tensor, tidy } from "../engine/index.js";
import { Rng } from "../util/rng.js";
import { attentionByHead } from "./attention-by-head.js";
import type { EncodingChoice } from "./config.js";
import { createTransformer } from "./transformer.js";

function normals(rng: Rng, n: number): number[] {
  return Array.from({ length: n }, () => rng.normal());
}

/** Logits with the graph recorded (the fused op, all heads at once) and under noGrad (head by head, per layer). */
function bothWays(encoding: EncodingChoice, B: number, T: number) {
  const model = createTransformer(
    { vocabSize: 11, dModel: 24, numHeads: 3, numLayers: 2, maxSeqLen: 64, encoding },
    new Rng(4),
  );
  const rng = new Rng(9);
  const inputs = Int32Array.from({ length: B * T }, () => rng.int(11));
  const run = () => model.forward({ inputs, batchSize: B, seqLen: T, training: false, rng: new Rng(2) });
  const recorded = tidy(() => run().toArray());
  const evaluated = tidy(() => noGrad(() => run().toArray()));
  return { recorded, evaluated };
}

describe("attentionByHead", () => {
  it("equals the fused op bit for bit, with a per-head bias broadcast over the batch", () => {
    const rng = new Rng(1);
    const [B, H, T, D] = [2, 3, 7, 4];
    const q = tensor(normals(rng, B * H * T * D), [B, H, T, D]);
    const k = tensor(normals(rng, B * H * T * D), [B, H, T, D]);
    const v = tensor(normals(rng, B * H * T * D), [B, H, T, D]);
    const bias = tensor(normals(rng, H * T * T), [1, H, T, T]);
    for (const causal of [true, false]) {
      for (const b of [undefined, bias]) {
        const fused = attention(q, k, v, { causal, bias: b }).toArray();
        // Whole heads, and blocks of 1, 2 and 3 query rows (scores of at most 7, 14, 21 floats per call).
        for (const blockFloats of [undefined, 7, 14, 21]) {
          const byHead = noGrad(() => attentionByHead(q, k, v, { causal, bias: b }, blockFloats).toArray());
          expect(byHead).toEqual(fused);
        }
      }
    }
  });

  it("leaves a model's logits unchanged under noGrad (rope, alibi's bias, learned absolute), B = 2", () => {
    for (const encoding of [{ id: "rope" }, { id: "alibi" }, { id: "learned-absolute" }]) {
      const { recorded, evaluated } = bothWays(encoding, 2, 13);
      expect(evaluated).toEqual(recorded);
    }
  });
});
