/**
 * Resolution extrapolation runs: for each (encoding, seed) of a config, train the patch encoder at the training grid
 * and measure exact accuracy at every test grid; then results.json and the reports.
 *
 *   for step = 0 .. steps-1:   batch = task.sample(Rng(seed, train, step), batchSize, train.grid)
 *                              loss = crossEntropy(model(batch), labels); backward; clip; AdamW at lr(step)
 *   for grid in eval.grids:    samples fresh examples from Rng(seed, eval, grid), accuracy = right / samples
 *
 * Every stream is a pure function of (seed, stream, index) (../seeds.ts), so a run is reproducible bit for bit.
 * Resume is per run: each finished run writes runs/<label>-s<seed>.json atomically, and `resume` reads finished
 * runs back instead of training them again (a run killed midway starts over; runs here take minutes).
 */
import { existsSync, mkdirSync, readdirSync } from "node:fs";
import { join } from "node:path";
import {
  AdamW,
  clipGradNorm,
  crossEntropy,
  learningRateAt,
  noGrad,
  type Parameter,
  tidy,
} from "../../engine/index.js";
import { createVisionTransformer, type VisionTransformer } from "../../model/vision.js";
import { type IdLayout, layoutPositionIds } from "../../tasks/vision/position-layouts.js";
import { createVisionTask } from "../../tasks/vision/registry.js";
import { scoreVisionBatch, type VisionBatch, type VisionTask } from "../../tasks/vision/types.js";
import type { Rng } from "../../util/rng.js";
import { PosencConfigError } from "../../util/validation.js";
import { encodingLabel } from "../config.js";
import { readInputJson, writeFileAtomic } from "../files.js";
import type { RunSummary } from "../results.js";
import { STREAM, streamRng } from "../seeds.js";
import { recordAttention, type VisionAttention } from "./attention.js";
import { type VisionExperimentConfig, visionIdLayout, visionModelConfig } from "./config.js";

export const VISION_RESULTS_FORMAT = "posenc-vision-results/1";

/** Accuracy of one run at one grid: the unit every report is built from. */
export interface VisionRow {
  encoding: string;
  seed: number;
  grid: number;
  accuracy: number;
  samples: number;
}

/** A run's facts: the lab's (tokens are patches), its parameter count and the CPU time of its training steps. */
export interface VisionRunSummary extends RunSummary {
  parameters: number;
  /** User + system CPU seconds of this process over the training steps (absent in results of older versions). */
  trainCpuSeconds?: number;
}

export interface VisionResults {
  format: typeof VISION_RESULTS_FORMAT;
  name: string;
  config: VisionExperimentConfig;
  runs: VisionRunSummary[];
  rows: VisionRow[];
  /** Attention of the centre patch per layer and head, first seed of each encoding (./attention.ts). */
  attention?: VisionAttention[];
}

/** The model on a batch, fed the ids of the encoding's layout (the task's grid ids unless the method has its own). */
function forward(
  model: VisionTransformer,
  batch: VisionBatch,
  layout: IdLayout,
  training: boolean,
  rng: Rng,
  testTemporalScale: number,
) {
  return model.forward({
    patches: batch.patches,
    batchSize: batch.batchSize,
    seqLen: batch.seqLen,
    positionIds: layoutPositionIds(batch, layout, { training, rng, testTemporalScale }),
    training,
    rng,
  });
}

/** Trains one (encoding, seed) run and evaluates it at every test grid. */
export function runVision(
  config: VisionExperimentConfig,
  encodingIndex: number,
  seed: number,
  log: (line: string) => void = () => {},
): { run: VisionRunSummary; rows: VisionRow[]; attention: VisionAttention[] } {
  const label = encodingLabel(config.encodings[encodingIndex]!);
  const task: VisionTask = createVisionTask(config.task.id, config.task.params);
  const model = createVisionTransformer(
    visionModelConfig(config, encodingIndex),
    streamRng(seed, STREAM.init),
  );
  const params: Parameter[] = model.parameters();
  const layout = visionIdLayout(config, encodingIndex);
  const gamma = config.eval.temporalScale;
  const t = config.train;
  const optimizer = new AdamW(params, {
    lr: t.lr,
    beta1: 0.9,
    beta2: 0.98,
    eps: 1e-8,
    weightDecay: t.weightDecay,
  });
  const schedule = {
    maxLr: t.lr,
    minLr: t.lr * t.minLrRatio,
    warmupSteps: Math.round(t.warmupFraction * t.steps),
    decaySteps: t.steps,
  };
  let seconds = 0;
  let cpuMicros = 0;
  let tokens = 0;
  let loss = Number.NaN;
  let recentRight = 0;
  let recentSeen = 0;
  for (let step = 0; step < t.steps; step++) {
    const began = performance.now();
    const cpuBegan = process.cpuUsage();
    const rng = streamRng(seed, STREAM.train, step);
    const batch = task.sample(rng, t.batchSize, t.grid);
    tidy(() => {
      optimizer.zeroGrad();
      const logits = forward(model, batch, layout, true, rng, gamma);
      const value = crossEntropy(logits, batch.labels);
      value.backward();
      clipGradNorm(params, t.gradClip);
      optimizer.step(learningRateAt(step, schedule));
      loss = value.item();
      recentRight += scoreVisionBatch(logits.data, batch.labels, task.classes.length);
      recentSeen += batch.batchSize;
    });
    seconds += (performance.now() - began) / 1000;
    const cpu = process.cpuUsage(cpuBegan);
    cpuMicros += cpu.user + cpu.system;
    tokens += batch.batchSize * batch.seqLen;
    if ((step + 1) % t.logEvery === 0 || step + 1 === t.steps) {
      log(
        `${label} s${seed} step ${step + 1}/${t.steps} loss ${loss.toFixed(4)} train acc ${(recentRight / recentSeen).toFixed(3)} ${Math.round(tokens / seconds)} tok/s`,
      );
      recentRight = 0;
      recentSeen = 0;
    }
  }
  optimizer.dispose();
  const rows = config.eval.grids.map((grid) => {
    const rng = streamRng(seed, STREAM.eval, grid);
    let right = 0;
    for (let done = 0; done < config.eval.samples; done += config.eval.batchSize) {
      const n = Math.min(config.eval.batchSize, config.eval.samples - done);
      const batch = task.sample(rng, n, grid);
      right += tidy(() =>
        noGrad(() =>
          scoreVisionBatch(
            forward(model, batch, layout, false, rng, gamma).data,
            batch.labels,
            task.classes.length,
          ),
        ),
      );
    }
    return {
      encoding: label,
      seed,
      grid,
      accuracy: right / config.eval.samples,
      samples: config.eval.samples,
    };
  });
  // Pictures: the first seed only, at the training grid and the largest test grid, on the evaluation's first batch.
  const attention =
    seed !== config.seeds[0]
      ? []
      : [...new Set([t.grid, Math.max(...config.eval.grids)])].flatMap((grid) => {
          const rng = streamRng(seed, STREAM.eval, grid);
          const batch = task.sample(rng, Math.min(config.eval.batchSize, config.eval.samples), grid);
          const ids = layoutPositionIds(batch, layout, { training: false, rng, testTemporalScale: gamma });
          return recordAttention(model, batch, ids, { encoding: label, seed, frames: task.frames }, rng);
        });
  log(
    `${label} s${seed} accuracy ${rows.map((r) => `${r.grid}x${r.grid} ${r.accuracy.toFixed(3)}`).join(", ")}`,
  );
  const run = {
    encoding: label,
    seed,
    steps: t.steps,
    finalLoss: loss,
    trainSeconds: seconds,
    trainCpuSeconds: cpuMicros / 1e6,
    tokensPerSecond: seconds > 0 ? tokens / seconds : 0,
    parameters: params.reduce((s, p) => s + p.size, 0),
  };
  for (const p of params) p.dispose();
  return { run, rows, attention };
}

function runFile(out: string, label: string, seed: number): string {
  return join(out, "runs", `${label.replace(/[^A-Za-z0-9._-]/g, "_")}-s${seed}.json`);
}

/** A finished run read back: validated against the config's encoding, seed and grids. */
function readRun(path: string, label: string, seed: number, grids: readonly number[]) {
  const value = readInputJson("run file", path) as {
    run?: VisionRunSummary;
    rows?: VisionRow[];
    attention?: VisionAttention[];
  };
  const rows = value?.rows;
  const attention = value?.attention ?? [];
  const ok =
    value?.run?.encoding === label &&
    value.run.seed === seed &&
    Array.isArray(rows) &&
    rows.length === grids.length &&
    rows.every(
      (r, i) =>
        r.encoding === label && r.seed === seed && r.grid === grids[i] && r.accuracy >= 0 && r.accuracy <= 1,
    ) &&
    Array.isArray(attention) &&
    attention.every(
      (a) =>
        a?.encoding === label &&
        a.seed === seed &&
        Array.isArray(a.heads) &&
        a.heads.every(
          (h) => Array.isArray(h) && h.length === a.frames * a.grid * a.grid && h.every(Number.isFinite),
        ),
    );
  if (!ok) {
    throw new PosencConfigError(
      "invalid_value",
      path,
      "its contents",
      `the result of ${label} seed ${seed} at grids ${grids.join(", ")} (delete the file to run it again)`,
    );
  }
  return { run: value.run!, rows: rows!, attention };
}

/**
 * Every run of the config into `out` (runs/*.json, then results.json), in config order. Without `resume` the
 * folder must be empty or new; with it, finished runs are read back.
 */
export function runVisionGrid(
  config: VisionExperimentConfig,
  out: string,
  options: { resume: boolean; log?: (line: string) => void },
): VisionResults {
  const log = options.log ?? (() => {});
  if (existsSync(out) && readdirSync(out).length > 0 && !options.resume) {
    throw new PosencConfigError(
      "invalid_value",
      "--out",
      out,
      "an empty or new folder (or pass --resume to continue the runs in it)",
    );
  }
  mkdirSync(join(out, "runs"), { recursive: true });
  writeFileAtomic(join(out, "config.json"), `${JSON.stringify(config, null, 1)}\n`);
  const results: VisionResults = {
    format: VISION_RESULTS_FORMAT,
    name: config.name,
    config,
    runs: [],
    rows: [],
    attention: [],
  };
  config.encodings.forEach((choice, e) => {
    const label = encodingLabel(choice);
    for (const seed of config.seeds) {
      const path = runFile(out, label, seed);
      const done =
        options.resume && existsSync(path)
          ? readRun(path, label, seed, config.eval.grids)
          : runVision(config, e, seed, log);
      if (!existsSync(path) || !options.resume) writeFileAtomic(path, `${JSON.stringify(done, null, 1)}\n`);
      results.runs.push(done.run);
      results.rows.push(...done.rows);
      results.attention!.push(...done.attention);
    }
  });
  writeFileAtomic(join(out, "results.json"), `${JSON.stringify(results, null, 1)}\n`);
  return results;
}
