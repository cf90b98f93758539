/**
 * DPE's order loss in training (TrainableEncoding.auxiliaryLoss, TaskBatch.targetOrder): the model computes the
 * term only in a training pass with gradients on, a zero weight trains exactly as DPE did before the term existed,
 * a short run lowers the term, and bad weights are one-line config errors.
 */
import { existsSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { noGrad, tidy } from "../../src/engine/index.js";
import { selectRows } from "../../src/lab/batching.js";
import { parseExperimentConfig } from "../../src/lab/config.js";
import { useSingleThreadKernels } from "../../src/lab/runtime.js";
import { train } from "../../src/lab/train.js";
import { createTransformer } from "../../src/model/transformer.js";
import { buildVocabulary } from "../../src/tasks/format.js";
import { createTask } from "../../src/tasks/registry.js";
import { Rng } from "../../src/util/rng.js";
import { runCli } from "../helpers/run-command.js";

useSingleThreadKernels();

const rawConfig = (params: Record<string, unknown>, steps: number) => ({
  task: { id: "reverse_string", params: { vocabSize: 4 } },
  model: { layers: 1, dModel: 8, heads: 2 },
  encodings: [{ id: "dpe", params }],
  train: { length: "1..6", steps, batchSize: 8, lr: 0.01 },
  eval: { length: "1..6", samplesPerLength: 2 },
  seeds: [5],
});

/** A 31-multiplier hash of every parameter's float32 bits, in parameter order. */
function weightsHash(params: { data: Float32Array | Float64Array }[]): number {
  let h = 0;
  for (const p of params) {
    for (const v of new Uint32Array(Float32Array.from(p.data).buffer)) h = (Math.imul(h, 31) + v) >>> 0;
  }
  return h;
}

describe("dpe order loss in the model", () => {
  const task = createTask("reverse_string", { vocabSize: 4 });
  const vocab = buildVocabulary(task.symbols);
  const model = (id: string) =>
    createTransformer(
      { vocabSize: vocab.size, dModel: 8, numHeads: 2, numLayers: 1, maxSeqLen: 32, encoding: { id } },
      new Rng(1),
    );
  const input = (batch: ReturnType<typeof task.sample>, training: boolean) => ({
    inputs: batch.inputs,
    batchSize: batch.batchSize,
    seqLen: batch.seqLen,
    targetOrder: batch.targetOrder!,
    training,
    rng: new Rng(0),
  });

  it("is computed after a training pass with gradients only (not in evaluation, not under noGrad)", () => {
    const m = model("dpe");
    const batch = task.sample(new Rng(2), 4, 5);
    tidy(() => {
      m.forward(input(batch, true));
      expect(m.auxiliaryLoss()!.item()).toBeGreaterThan(0);
      m.forward(input(batch, false));
      expect(m.auxiliaryLoss()).toBeNull();
      noGrad(() => m.forward(input(batch, true)));
      expect(m.auxiliaryLoss()).toBeNull();
      m.forward({ ...input(batch, true), targetOrder: undefined });
      expect(m.auxiliaryLoss()).toBeNull();
      const other = model("sinusoidal");
      other.forward(input(batch, true));
      expect(other.auxiliaryLoss()).toBeNull();
    });
  });

  it("is 0 at initialisation on copy (target order = input order) and positive on reverse_string", () => {
    const copy = createTask("copy", { vocabSize: 4 }).sample(new Rng(3), 4, 5);
    const m = model("dpe");
    tidy(() => {
      m.forward(input(copy, true));
      expect(m.auxiliaryLoss()!.item()).toBe(0);
      m.forward(input(task.sample(new Rng(3), 4, 5), true));
      expect(m.auxiliaryLoss()!.item()).toBeGreaterThan(0.05);
    });
  });

  it("rejects a target order of the wrong size", () => {
    const batch = task.sample(new Rng(2), 2, 3);
    expect(() => model("dpe").forward({ ...input(batch, true), targetOrder: new Float64Array(3) })).toThrow(
      /targetOrder holds 3 values, expected batchSize \* seqLen/,
    );
  });

  it("padding and row selection carry the target order (-1 on the padding)", () => {
    const batch = task.sample(new Rng(4), 3, { min: 1, max: 4 });
    const picked = selectRows(batch, [2, 0], batch.seqLen + 2, vocab.pad);
    const row = (b: { targetOrder?: Float64Array; seqLen: number }, r: number) =>
      Array.from(b.targetOrder!.subarray(r * b.seqLen, (r + 1) * b.seqLen));
    expect(row(picked, 0)).toEqual([...row(batch, 2), -1, -1]);
    expect(row(picked, 1)).toEqual([...row(batch, 0), -1, -1]);
  });
});

describe("dpe order loss in lab training", () => {
  it("weight 0 trains bit for bit as DPE did before the order loss existed", {
    timeout: 60_000,
  }, async () => {
    const config = parseExperimentConfig(rawConfig({ orderLossWeight: 0 }, 8));
    const events: (number | undefined)[] = [];
    const out = await train(
      { config, encoding: config.encodings[0]!, seed: 5 },
      { onProgress: (e) => events.push(e.auxiliaryLoss) },
    );
    // Recorded with the code before the hook (main at 195bbf1, the same config, seed and single-thread kernels).
    expect(out.lossHistory).toEqual([
      2.466428279876709, 2.276977300643921, 2.2061047554016113, 1.9562166929244995, 2.02693510055542,
      1.9977481365203857, 1.942206859588623, 1.8975759744644165,
    ]);
    expect(weightsHash(out.model.parameters())).toBe(2794239208);
    expect(events.every((v) => v === undefined)).toBe(true);
  });

  it("the default weight trains the order loss: its value falls over a short run", {
    timeout: 60_000,
  }, async () => {
    const config = parseExperimentConfig({
      ...rawConfig({}, 60),
      model: { layers: 2, dModel: 32, heads: 4 },
      train: { length: "1..8", steps: 60, batchSize: 16, lr: 0.003 },
    });
    const aux: number[] = [];
    const out = await train(
      { config, encoding: config.encodings[0]!, seed: 0 },
      { onProgress: (e) => aux.push(e.auxiliaryLoss!) },
    );
    expect(aux).toHaveLength(60);
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    expect(mean(aux.slice(-10))).toBeLessThan(0.7 * mean(aux.slice(0, 10)));
    // The task loss (the history) is the cross-entropy alone, and it falls too.
    expect(mean(out.lossHistory.slice(-10))).toBeLessThan(mean(out.lossHistory.slice(0, 10)));
  });

  it("bad weights are one-line config errors, exit 2, before any work", async () => {
    const scratch = mkdtempSync(join(tmpdir(), "posenc-dpe-order-"));
    const cases: [unknown, string][] = [
      [-1, "received -1"],
      ["heavy", 'received "heavy"'],
      [null, "received null"],
    ];
    for (const [value, received] of cases) {
      const file = join(scratch, "config.json");
      writeFileSync(file, JSON.stringify(rawConfig({ orderLossWeight: value }, 4)));
      const out = join(scratch, "run");
      const outcome = await runCli(["train", "--config", file, "--out", out]);
      expect(outcome.code).toBe(2);
      expect(outcome.stderr).toBe(
        `Invalid encodings[0].params.orderLossWeight: expected a finite number >= 0, ${received}\n`,
      );
      expect(existsSync(out)).toBe(false);
    }
  });
});
