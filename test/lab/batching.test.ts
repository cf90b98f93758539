import { describe, expect, it } from "vitest";
import { noGrad, tidy } from "../../src/engine/index.js";
import { padBatch, trainingPadLength } from "../../src/lab/batching.js";
import { parseExperimentConfig } from "../../src/lab/config.js";
import { buildRunModel } from "../../src/lab/train.js";
import { buildVocabulary } from "../../src/tasks/format.js";
import { createTask } from "../../src/tasks/registry.js";
import { Rng } from "../../src/util/rng.js";

describe("right-padding of decoder batches", () => {
  it("pads rows with PAD, unscored, and keeps task position ids row by row", () => {
    const task = createTask("addition_coupled");
    const batch = task.sample(new Rng(1), 3, { min: 1, max: 3 });
    const pad = buildVocabulary(task.symbols).pad;
    const padded = padBatch(batch, batch.seqLen + 5, pad);
    expect(padded.seqLen).toBe(batch.seqLen + 5);
    for (let b = 0; b < 3; b++) {
      const row = (a: ArrayLike<number>, T: number) => Array.from(a).slice(b * T, (b + 1) * T);
      expect(row(padded.inputs, padded.seqLen)).toEqual([
        ...row(batch.inputs, batch.seqLen),
        ...Array(5).fill(pad),
      ]);
      expect(row(padded.mask, padded.seqLen)).toEqual([...row(batch.mask, batch.seqLen), 0, 0, 0, 0, 0]);
      expect(row(padded.positionIds as Float64Array, padded.seqLen)).toEqual([
        ...row(batch.positionIds as Float64Array, batch.seqLen),
        0,
        0,
        0,
        0,
        0,
      ]);
    }
    expect(padBatch(batch, batch.seqLen - 1, pad)).toBe(batch);
    expect(trainingPadLength(createTask("reverse", { vocabSize: 4 }), "decoder", { min: 1, max: 7 })).toBe(
      2 * 7 + 3,
    );
  });

  it("changes no logit at a real position of a causal transformer (padding is on the right)", () => {
    const config = parseExperimentConfig({
      task: { id: "reverse", params: { vocabSize: 4 } },
      model: { layers: 1, dModel: 8, heads: 2 },
      encodings: [{ id: "alibi" }],
      train: { length: "1..6", steps: 1 },
      eval: { length: "1..6" },
    });
    const { model, task } = buildRunModel({ config, encoding: config.encodings[0], seed: 0 });
    const batch = task.sample(new Rng(2), 4, { min: 1, max: 6 });
    const padded = padBatch(batch, batch.seqLen + 7, buildVocabulary(task.symbols).pad);
    const run = (b: typeof batch) =>
      tidy(() => noGrad(() => Array.from(model.forward(b, { rng: new Rng(0), training: false }).data)));
    const plain = run(batch);
    const wide = run(padded);
    const V = plain.length / (batch.batchSize * batch.seqLen);
    for (let b = 0; b < batch.batchSize; b++) {
      for (let t = 0; t < batch.seqLen; t++) {
        const at = (rows: number[], T: number) => rows.slice((b * T + t) * V, (b * T + t + 1) * V);
        const expected = at(plain, batch.seqLen);
        const got = at(wide, padded.seqLen);
        for (let i = 0; i < V; i++) expect(got[i]).toBeCloseTo(expected[i], 5);
      }
    }
  });
});
