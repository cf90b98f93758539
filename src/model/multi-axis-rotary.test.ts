/**
 * The multimodal rotary methods (mrope, mrope-interleave, mhrope, hope-video: ids [B, T, 3]; vrope: [B, T, 4]) in
 * the transformer: task ids with k coordinates reach them, gradients flow, and a tiny M-RoPE decoder learns to copy
 * (text ids: t = h = w = p, where M-RoPE is RoPE).
 */
import { describe, expect, it } from "vitest";
import { AdamW, clipGradNorm, tidy } from "../engine/index.js";
import { Rng } from "../util/rng.js";
import { createTransformer } from "./transformer.js";

const SMALL = { vocabSize: 12, dModel: 32, numHeads: 2, numLayers: 2, maxSeqLen: 32 };

function copyBatch(rng: Rng, B: number, n: number, k: number) {
  const T = 2 * n + 2;
  const inputs = new Int32Array(B * T);
  const targets = new Int32Array(B * T);
  const mask = new Uint8Array(B * T);
  const positionIds = new Float64Array(B * T * k);
  for (let b = 0; b < B; b++) {
    const x = Array.from({ length: n }, () => rng.int(8));
    const seq = [10, ...x, 11, ...x];
    for (let t = 0; t < T; t++) {
      inputs[b * T + t] = seq[t]!;
      targets[b * T + t] = t + 1 < T ? seq[t + 1]! : 0;
      mask[b * T + t] = t >= n + 1 && t + 1 < T ? 1 : 0;
      positionIds.fill(t, (b * T + t) * k, (b * T + t + 1) * k);
    }
  }
  return { inputs, targets, mask, batchSize: B, seqLen: T, positionIds };
}

describe("multimodal rotary encodings in the transformer", () => {
  it.each([
    ["mrope", 3],
    ["mrope-interleave", 3],
    ["mhrope", 3],
    ["hope-video", 3],
    ["vrope", 4],
  ] as const)("%s takes [B, T, %i] task ids and sends gradients to the attention weights", (id, k) => {
    const model = createTransformer({ ...SMALL, encoding: { id } }, new Rng(1));
    const rng = new Rng(2);
    const batch = copyBatch(rng, 2, 3, k);
    // Distinct per-example ids with different coordinates (a grid), so the per-example tables are exercised.
    for (let n = 0; n < batch.positionIds.length; n++) batch.positionIds[n] = (n * 7) % 5;
    tidy(() => model.loss({ ...batch, training: true, rng }).backward());
    const attention = model.parameters().filter((p) => /q|k/i.test(p.name) && p.grad);
    expect(attention.length).toBeGreaterThan(0);
    expect(attention.every((p) => p.grad!.every(Number.isFinite))).toBe(true);
    expect(attention.some((p) => p.grad!.some((g) => g !== 0))).toBe(true);
    // Ids with too few coordinates are refused.
    expect(() =>
      model.loss({
        ...batch,
        positionIds: batch.positionIds.subarray(0, 2 * batch.seqLen),
        training: true,
        rng,
      }),
    ).toThrow(/coordinates/);
  });

  it("a tiny M-RoPE decoder lowers the copy loss within 80 steps", { timeout: 60_000 }, () => {
    const model = createTransformer({ ...SMALL, encoding: { id: "mrope" } }, new Rng(1));
    const opt = new AdamW(model.parameters(), { lr: 3e-3 });
    const rng = new Rng(9);
    const losses: number[] = [];
    for (let step = 0; step < 80; step++) {
      losses.push(
        tidy(() => {
          opt.zeroGrad();
          const loss = model.loss({ ...copyBatch(rng, 16, 5, 3), training: true, rng });
          loss.backward();
          clipGradNorm(model.parameters(), 1);
          return loss.item();
        }),
      );
      opt.step();
    }
    const head = losses.slice(0, 5).reduce((a, b) => a + b) / 5;
    const tail = losses.slice(-5).reduce((a, b) => a + b) / 5;
    expect(tail).toBeLessThan(0.6 * head);
  });
});
