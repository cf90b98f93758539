import { describe, expect, it } from "vitest";
import type { CheckpointSidecar } from "./checkpoint.js";
import { parseExperimentConfig } from "./config.js";
import { finetuneConfig } from "./extension-eval.js";

// Only the config of a sidecar matters to finetuneConfig: trained at 64 with batches of 32.
const sidecar = {
  config: parseExperimentConfig({
    name: "t",
    task: { id: "brown_chars", params: { split: "train" } },
    model: { layers: 2, dModel: 64, heads: 4 },
    encodings: [{ id: "rope" }],
    train: { length: 64, steps: 1500, batchSize: 32, lr: 0.002, checkpointEvery: 250 },
    eval: { length: 64, taskParams: { split: "validation" } },
    seeds: [0],
  }),
} as CheckpointSidecar;

describe("finetuneConfig: the rows of a fine-tune, at the original tokens per step", () => {
  it("rows of the target (4x): a quarter of the batch; rows of the trained 64 (Giraffe): the batch as trained", () => {
    const at256 = finetuneConfig(sidecar, 256, 100).train;
    expect([at256.length, at256.batchSize, at256.steps, at256.checkpointEvery]).toEqual([
      { min: 256, max: 256 },
      8,
      100,
      0,
    ]);
    const at64 = finetuneConfig(sidecar, 64, 100).train;
    expect([at64.length, at64.batchSize]).toEqual([{ min: 64, max: 64 }, 32]);
    // Learning rate and schedule are the checkpoint's.
    expect([at64.lr, at64.warmupFraction]).toEqual([0.002, sidecar.config.train.warmupFraction]);
  });

  it("segmented: rows of the trained length, n segments spanning the length given", () => {
    const seg = finetuneConfig(sidecar, 256, 50, 4).train;
    expect([seg.length, seg.batchSize, seg.segments]).toEqual([
      { min: 64, max: 64 },
      32,
      { span: 256, count: 4 },
    ]);
  });
});
