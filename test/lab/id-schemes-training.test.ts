/**
 * The id schemes trained end to end by the lab (src/lab/train.ts, the real transformer): each stacks its ids under
 * RoPE (the consumer of the ids) on a task that has the structure the scheme reads, and the loss must fall.
 *   bipe  brown_chars, segments end at "." and newline (the paper's separators): segment ids feed RoPE, the
 *         intra-segment offsets index BiPE's learned table
 *   v2pe  passkey, the filler symbols f0..f7 (token ids 10..17) are the compressed runs
 *   gpe   copy (alphabet 8), SEP (token id 10) opens the target group
 *   sigma-gpt  copy with task.positionIds "order" and train.order "random": answers in a random order per example,
 *         (own, next) ids; evaluation left to right
 *   ldpe  copy with task.positionIds "countdown": (t, answer tokens left) ids
 *   seqpe copy, positions up to 999 written as 3 digits
 *   extended-mind  associative_recall: the key-value pairs before "?" are in-sequence memories at id 0
 * Small on purpose (1 layer, width 16, 40 steps): this shows the lab trains them, not how well they generalize.
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parseExperimentConfig } from "../../src/lab/config.js";
import { type RunSpec, train } from "../../src/lab/train.js";
import { buildVocabulary } from "../../src/tasks/format.js";
import { createTask } from "../../src/tasks/registry.js";

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

async function lossesOf(
  task: Record<string, unknown>,
  stack: Record<string, unknown>[],
  length: string | number,
  trainOptions: Record<string, unknown> = {},
) {
  const config = parseExperimentConfig({
    task,
    model: { numLayers: 1, dModel: 16, numHeads: 2 },
    encodings: [{ stack }],
    train: { length, steps: 40, batchSize: 16, lr: 0.01, ...trainOptions },
    eval: {
      length,
      samplesPerLength: 2,
      ...(task.id === "brown_chars" ? { taskParams: { split: "validation" } } : {}),
    },
    seeds: [1],
  });
  const run: RunSpec = { config, encoding: config.encodings[0]!, seed: 1 };
  return (await train(run)).lossHistory;
}

describe("id schemes train in the lab", () => {
  it("bipe + rope on brown_chars: the loss falls", { timeout: 60_000 }, async () => {
    const symbols = createTask("brown_chars", {}).symbols;
    const separators = [symbols.indexOf("."), symbols.indexOf("\n")];
    expect(separators.every((s) => s >= 0)).toBe(true);
    const losses = await lossesOf(
      { id: "brown_chars" },
      [{ id: "bipe", params: { separatorTokens: separators, maxIntraPosition: 64 } }, { id: "rope" }],
      32,
    );
    expect(mean(losses.slice(-5))).toBeLessThan(0.85 * mean(losses.slice(0, 5)));
  });

  it("v2pe + rope on passkey (filler runs compressed): the loss falls", { timeout: 60_000 }, async () => {
    const task = createTask("passkey", {});
    const filler = task.symbols.flatMap((s, i) => (s.startsWith("f") ? [i] : []));
    expect(filler).toEqual([10, 11, 12, 13, 14, 15, 16, 17]);
    const losses = await lossesOf(
      { id: "passkey" },
      [{ id: "v2pe", params: { compressedTokens: filler, trainIncrements: [0.25, 0.5, 1] } }, { id: "rope" }],
      "8..16",
    );
    expect(mean(losses.slice(-5))).toBeLessThan(0.85 * mean(losses.slice(0, 5)));
  });

  it("gpe + rope on copy (SEP opens the target group): the loss falls", { timeout: 60_000 }, async () => {
    const sep = buildVocabulary(createTask("copy", { vocabSize: 8 }).symbols).sep;
    const losses = await lossesOf(
      { id: "copy", params: { vocabSize: 8 } },
      [{ id: "gpe", params: { targetOpeners: [sep] } }, { id: "rope" }],
      "2..6",
    );
    expect(mean(losses.slice(-5))).toBeLessThan(0.85 * mean(losses.slice(0, 5)));
  });

  it("sigma-gpt on copy in random orders (train.order random): the loss falls", {
    timeout: 60_000,
  }, async () => {
    const losses = await lossesOf(
      { id: "copy", params: { vocabSize: 8 }, positionIds: "order" },
      [{ id: "sigma-gpt" }],
      "2..6",
      { order: "random" },
    );
    expect(mean(losses.slice(-5))).toBeLessThan(0.85 * mean(losses.slice(0, 5)));
  });

  it("ldpe on copy with countdown ids (task.positionIds countdown): the loss falls", {
    timeout: 60_000,
  }, async () => {
    const losses = await lossesOf(
      { id: "copy", params: { vocabSize: 8 }, positionIds: "countdown" },
      [{ id: "ldpe" }],
      "2..6",
    );
    expect(mean(losses.slice(-5))).toBeLessThan(0.85 * mean(losses.slice(0, 5)));
  });
});

describe("extended-mind trains in the lab", () => {
  it("extended-mind + rope on associative_recall (the pairs are the memories, at id 0): the loss falls", {
    timeout: 60_000,
  }, async () => {
    const ask = createTask("associative_recall", { numKeys: 8, numValues: 4 }).symbols.indexOf("?");
    expect(ask).toBe(12);
    const losses = await lossesOf(
      { id: "associative_recall", params: { numKeys: 8, numValues: 4 } },
      [{ id: "extended-mind", params: { memoryEnd: [ask] } }, { id: "rope" }],
      "2..6",
    );
    expect(mean(losses.slice(-5))).toBeLessThan(0.85 * mean(losses.slice(0, 5)));
  });
});

describe("seqpe trains in the lab", () => {
  it("seqpe on copy (positions encoded from their digits): the loss falls", { timeout: 60_000 }, async () => {
    const losses = await lossesOf(
      { id: "copy", params: { vocabSize: 8 } },
      [{ id: "seqpe", params: { maxDigits: 3, width: 16, heads: 2 } }],
      "2..6",
    );
    expect(mean(losses.slice(-5))).toBeLessThan(0.85 * mean(losses.slice(0, 5)));
  });
});

describe("task.positionIds and train.order", () => {
  const base = {
    task: { id: "copy", params: { vocabSize: 8 } },
    encodings: [{ id: "sigma-gpt" }],
    train: { length: 4, steps: 1 },
    eval: { length: 4 },
  };
  it("train.order random needs task.positionIds order; ids need the decoder layout", () => {
    expect(() => parseExperimentConfig({ ...base, train: { ...base.train, order: "random" } })).toThrow(
      /train\.order.*task\.positionIds "order"/,
    );
    expect(() =>
      parseExperimentConfig({ ...base, task: { ...base.task, layout: "encoder", positionIds: "countdown" } }),
    ).toThrow(/task\.positionIds.*decoder/);
    expect(() => parseExperimentConfig({ ...base, task: { ...base.task, positionIds: "spiral" } })).toThrow(
      /task\.positionIds/,
    );
  });

  it("a random-order run resumed mid-way equals the uninterrupted run (orders drawn from (seed, step))", async () => {
    const config = parseExperimentConfig({
      ...base,
      task: { ...base.task, positionIds: "order" },
      model: { numLayers: 1, dModel: 8, numHeads: 2 },
      train: { length: "2..4", steps: 6, batchSize: 4, order: "random", checkpointEvery: 3 },
      eval: { length: 4, samplesPerLength: 2 },
    });
    const run: RunSpec = { config, encoding: config.encodings[0]!, seed: 2 };
    const whole = await train(run);
    const dir = mkdtempSync(join(tmpdir(), "posenc-order-resume-"));
    await train(run, { checkpointDir: dir, stopAfter: 4 });
    const resumed = await train(run, { checkpointDir: dir, resume: true });
    expect(resumed.lossHistory).toEqual(whole.lossHistory);
  });
});
