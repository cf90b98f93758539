/**
 * End-to-end gradient check of every registry encoding that owns parameters: the whole model runs in float64
 * (withFloat64Storage: float64 buffers, reference kernels), and the gradient of the masked loss with respect to
 * the encoding's parameters is held to central finite differences. It checks the backward path through the hooks
 * (a parameter used outside the tape, a per-forward cache serving a stale tensor, a shared table not accumulating
 * from every layer would fail); forward values are held to the library in encodings.test.ts.
 */
import { describe, expect, it } from "vitest";
import { encodingRegistry } from "../encodings/registry.js";
import { noGrad, tidy, withFloat64Storage } from "../engine/index.js";
import { Rng } from "../util/rng.js";
import { createTransformer } from "./transformer.js";

const DIMS = { vocabSize: 7, dModel: 8, numHeads: 2, numLayers: 2, maxSeqLen: 16 } as const;
const B = 2;
const T = 6;

/** Extra params for a tiny model (randomized ids must fit; bipe needs a separator). */
const PARAMS: Record<string, Record<string, unknown>> = {
  "randomized-learned": { maxPosition: 16 },
  "randomized-t5": { maxPosition: 16 },
  bipe: { separatorTokens: [3] },
  "bipe-alibi": { separatorTokens: [3] },
};

function batch() {
  const rng = new Rng(21);
  const inputs = Int32Array.from({ length: B * T }, () => rng.int(7));
  const targets = Int32Array.from({ length: B * T }, () => rng.int(7));
  const mask = Uint8Array.from({ length: B * T }, (_, i) => (i % T >= 2 ? 1 : 0));
  return { inputs, targets, mask, batchSize: B, seqLen: T, training: true };
}

/** Encoder methods (CPE's convolution reads later tokens) run bidirectional; the rest as causal decoders. */
const ENCODER_ONLY = new Set(["cpe"]);
const causalFor = (id: string) => !ENCODER_ONLY.has(id);

/** Registry ids whose trainable form owns parameters (checked on a throwaway model). */
const learned = encodingRegistry
  .filter((s) => s.trainable)
  .map((s) => s.id)
  .filter((id) => {
    const model = createTransformer(
      { ...DIMS, causal: causalFor(id), encoding: { id, params: PARAMS[id] } },
      new Rng(1),
    );
    const base = createTransformer({ ...DIMS, causal: causalFor(id), encoding: { id: "nope" } }, new Rng(1));
    return model.parameters().length > base.parameters().length;
  });

describe("gradients of learned encodings inside the model (float64 finite differences)", () => {
  it("covers the learned encodings", () => {
    for (const id of [
      "t5-bias",
      "kerple-log",
      "kerple-power",
      "learned-absolute",
      "randomized-learned",
      "bipe",
    ]) {
      expect(learned).toContain(id);
    }
  });

  it.each(learned)("%s", (id) => {
    withFloat64Storage(() => {
      const causal = causalFor(id);
      const model = createTransformer({ ...DIMS, causal, encoding: { id, params: PARAMS[id] } }, new Rng(3));
      const baseCount = createTransformer(
        { ...DIMS, causal, encoding: { id: "nope" } },
        new Rng(3),
      ).parameters().length;
      const own = model.parameters().slice(baseCount);
      const data = batch();
      // A fresh Rng per evaluation: randomized ids are the same in every forward pass.
      const lossAt = () => tidy(() => noGrad(() => model.loss({ ...data, rng: new Rng(5) }).item()));
      tidy(() => model.loss({ ...data, rng: new Rng(5) }).backward());
      const h = 1e-6;
      let checked = 0;
      for (const p of own) {
        const analytic = Array.from(p.grad ?? new Float64Array(p.size));
        // Up to 8 elements per parameter, spread over the tensor.
        const stride = Math.max(1, Math.floor(p.size / 8));
        for (let i = 0; i < p.size; i += stride) {
          const original = p.data[i];
          p.data[i] = original + h;
          const plus = lossAt();
          p.data[i] = original - h;
          const minus = lossAt();
          p.data[i] = original;
          const numeric = (plus - minus) / (2 * h);
          const tolerance = 1e-8 + 1e-5 * Math.max(Math.abs(numeric), Math.abs(analytic[i]));
          expect(
            Math.abs(analytic[i] - numeric),
            `${p.name}[${i}]: analytic ${analytic[i]}, numeric ${numeric}`,
          ).toBeLessThanOrEqual(tolerance);
          checked++;
        }
      }
      expect(checked).toBeGreaterThan(0);
    });
  });
});
