/**
 * A tiny stand-in model for the lab's tests: logits = (wte[token] + wpe[t + offset]) @ W, where the position
 * offset is drawn from the step's Rng during training (0 or 1) so the tests also cover model randomness derived
 * from (seed, step). Trains in milliseconds; not a transformer.
 */
import { add, embedding, matmul, normalParameter, reshape } from "../../src/engine/index.js";
import type { ModelFactory } from "../../src/lab/model.js";

export const modelFactory: ModelFactory = (request, rng) => {
  const width = 8;
  const wte = normalParameter(rng, [request.vocabSize, width], 0.5, "wte");
  const wpe = normalParameter(rng, [request.maxSeqLen + 2, width], 0.5, "wpe");
  const head = normalParameter(rng, [width, request.vocabSize], 0.5, "head");
  return {
    parameters: () => [wte, wpe, head],
    forward(batch, context) {
      const { batchSize: B, seqLen: T } = batch;
      const positions = new Int32Array(B * T);
      for (let b = 0; b < B; b++) {
        const offset = context.training ? context.rng.int(2) : 0;
        for (let t = 0; t < T; t++) positions[b * T + t] = t + offset;
      }
      const x = add(embedding(wte, batch.inputs, [B * T]), embedding(wpe, positions, [B * T]));
      return reshape(matmul(x, head), [B * T, request.vocabSize]);
    },
  };
};

/** A valid experiment config small enough to train in a test: 1 layer of width 8, 6 steps, two encodings, two seeds. */
export const TINY_EXPERIMENT = {
  name: "tiny",
  task: { id: "reverse", params: { vocabSize: 4 } },
  model: { layers: 1, dModel: 8, heads: 2 },
  encodings: [{ id: "rope" }, { id: "alibi" }],
  train: { length: "1..4", steps: 6, batchSize: 8, checkpointEvery: 4 },
  eval: { length: "1..6", samplesPerLength: 4 },
  seeds: [0, 1],
};
