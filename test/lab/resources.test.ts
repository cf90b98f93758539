/**
 * The size estimate (src/lab/resources.ts): sequence lengths extrapolated exactly for a linear task, memory
 * estimates that bound the engine's measured heap of a real training step and evaluation, and one-line refusals
 * naming the key, the estimate and the limit.
 */
import { describe, expect, it } from "vitest";
import { memoryStats } from "../../src/engine/memory.js";
import { parseExperimentConfig } from "../../src/lab/config.js";
import { evaluate } from "../../src/lab/evaluate.js";
import {
  checkRunFits,
  estimateRun,
  MAX_RUN_SECONDS,
  type MemoryLimits,
  sequenceLengthModel,
} from "../../src/lab/resources.js";
import { useSingleThreadKernels } from "../../src/lab/runtime.js";
import { train } from "../../src/lab/train.js";
import { createTask } from "../../src/tasks/registry.js";
import { Rng } from "../../src/util/rng.js";
import { PosencConfigError } from "../../src/util/validation.js";

useSingleThreadKernels();

const base = {
  task: { id: "reverse", params: { vocabSize: 8 } },
  model: { layers: 2, dModel: 32, heads: 4 },
  encodings: [{ id: "rope" }],
  train: { length: "1..24", steps: 1, batchSize: 32, checkpointEvery: 0 },
  eval: { length: "40", samplesPerLength: 16, batchSize: 16 },
};

const plenty: MemoryLimits = { tensorBytes: 2 ** 50, jsBytes: 2 ** 50, describe: () => "1 PiB (test)" };
const oneTiB: MemoryLimits = { tensorBytes: 2 ** 40, jsBytes: 2 ** 40, describe: () => "1 TiB (test)" };

function refusal(raw: unknown, limits: MemoryLimits = plenty): PosencConfigError {
  try {
    checkRunFits(parseExperimentConfig(raw), limits);
  } catch (error) {
    if (error instanceof PosencConfigError) return error;
    throw error;
  }
  throw new Error("expected a refusal");
}

describe("sequence length model", () => {
  it("extrapolates reverse's decoder sequence [BOS] x SEP reverse(x) EOS = 2n + 3 exactly, without sampling n", () => {
    const task = createTask("reverse", { vocabSize: 8 });
    const model = sequenceLengthModel(task, "decoder", { min: 1, max: 100_000_000 });
    expect(model.slope).toBe(2);
    expect(model.at(100_000_000)).toBe(200_000_003);
    expect(model.at(7)).toBe(task.sample(new Rng(1), 4, 7).seqLen);
  });
});

describe("memory estimate against the engine's measured heap", () => {
  it("bounds a real training step and a real evaluation from above, within a factor of 8", async () => {
    const config = parseExperimentConfig(base);
    const estimate = estimateRun(config);
    const before = memoryStats().heapBytes;
    const outcome = await train({ config, encoding: config.encodings[0], seed: 0 });
    const trained = memoryStats().heapBytes - before;
    expect(estimate.trainTensorBytes).toBeGreaterThanOrEqual(trained);
    expect(estimate.trainTensorBytes).toBeLessThan(8 * trained);
    const beforeEval = memoryStats().heapBytes;
    evaluate(outcome.model, { config, encoding: config.encodings[0], seed: 0 });
    // Evaluation reuses the training step's freed blocks: its need is at most the heap it reached.
    const evalPeak = Math.max(memoryStats().heapBytes - beforeEval, 1);
    expect(estimate.evalTensorBytes).toBeGreaterThanOrEqual(evalPeak);
  });
});

describe("refusals", () => {
  it("names the key, the estimate and the limit", () => {
    const history = refusal({ ...base, train: { ...base.train, steps: 1e12 } }, oneTiB);
    expect(history.message).toMatch(
      /^Invalid train\.steps: expected sizes that fit: this needs about 58\.2 TiB of JavaScript memory \(examples and loss history\), the limit is 1 TiB \(test\), received 1000000000000$/,
    );
    // 8 layers of width 512, batch 256 of ~400 tokens: ~1.8e13 FLOPs a step, 176 s at 100 GFLOP/s.
    const large = { ...base, model: { layers: 8, dModel: 512, heads: 8 } };
    const steps = refusal({
      ...large,
      train: { ...base.train, length: "1..200", batchSize: 256, steps: 100_000 },
    });
    expect(steps.key).toBe("train.steps");
    expect(steps.message).toMatch(
      /^Invalid train\.steps: expected sizes that fit: this needs about 204 days of training even at 100 GFLOP\/s, the limit is 30\.0 days per run, received 100000$/,
    );
    const evalLength = refusal({ ...base, eval: { ...base.eval, length: "1..100000000" } });
    expect(evalLength.key).toBe("eval.length");
    expect(evalLength.message).toMatch(/sequences of ~200000003 tokens.*received "1\.\.100000000"$/);
    const trainLength = refusal({ ...base, train: { ...base.train, length: "1..100000000" } });
    expect(trainLength.key).toBe("train.length");
    const sixtyFour: MemoryLimits = { ...oneTiB, tensorBytes: 2 ** 36, describe: () => "64 GiB (test)" };
    const model = refusal({ ...base, model: { layers: 64, dModel: 4096, heads: 4 } }, sixtyFour);
    expect(model.key).toBe("model");
    expect(model.message).toMatch(/about 192 GiB for 1\.29e\+10 parameters .*the limit is 64 GiB \(test\)/);
  });

  it("caps steps where the checkpoint's loss history would not fit one JSON string (about 22 million)", () => {
    expect(() =>
      checkRunFits(parseExperimentConfig({ ...base, train: { ...base.train, steps: 20_000_000 } }), plenty),
    ).not.toThrow();
    const error = refusal({ ...base, train: { ...base.train, steps: 30_000_000 } });
    expect(error.message).toBe(
      "Invalid train.steps: expected sizes that fit: this needs about 687 MiB of loss history in each checkpoint's JSON, the limit is 512 MiB (the longest JavaScript string), about 22369620 steps, received 30000000",
    );
  });

  it("refuses at the machine's limit: a batch that fits 1 PiB but not 64 MiB", () => {
    const raw = { ...base, train: { ...base.train, batchSize: 4096 } };
    const small: MemoryLimits = {
      tensorBytes: 64 * 2 ** 20,
      jsBytes: 2 ** 40,
      describe: () => "64.0 MiB (test)",
    };
    expect(() => checkRunFits(parseExperimentConfig(raw), plenty)).not.toThrow();
    const error = refusal(raw, small);
    expect(error.key).toBe("train.batchSize");
    expect(error.message).toMatch(/the limit is 64\.0 MiB \(test\), received 4096$/);
  });

  it("accepts the largest run that fits the time limit and refuses the next power of ten", () => {
    const config = parseExperimentConfig(base);
    const perStep = estimateRun(config).trainSeconds;
    const fits = Math.floor(MAX_RUN_SECONDS / perStep);
    expect(() =>
      checkRunFits(
        parseExperimentConfig({ ...base, train: { ...base.train, steps: Math.min(fits, 1e6) } }),
        plenty,
      ),
    ).not.toThrow();
    expect(refusal({ ...base, train: { ...base.train, steps: fits * 10 } }).key).toBe("train.steps");
  });
});
