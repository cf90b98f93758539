/**
 * The patch encoder against PyTorch: `npm run bench:vision -- [--config FILE] [--encoding LABEL] [--seed N]
 * [--steps N] [--samples N] [--no-torch] [--torch-blas DIR] [--json]`.
 *
 * Trains one run of a vision config (default experiments/rope2d-resolution/vision.yaml, its first encoding and
 * seed, 300 steps, the config's model, task, optimizer and schedule) with the lab's own run (runVision, in this
 * process) and with the PyTorch twin (bench/vision_pytorch.py) in a child process, one thread each. The twin loads
 * torch and the examples, says it is ready, and both start training at that moment. Prints, for both: tokens
 * (patches) per second of training wall time, CPU seconds of the training steps (user + system of each process: on
 * a shared machine only CPU time compares the two fairly), their ratios, and accuracy at every test grid.
 *
 * Same examples: every training batch and every evaluation batch of the run (the lab's seeded streams,
 * src/lab/seeds.ts) go to a JSON file the twin reads. Model, encodings, loss, AdamW, clipping, schedule and
 * scoring are the twin's own. Twins: nope, learned-2d, rope-2d; other encodings, or no python3 with torch, skip the
 * twin with one line.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { initEngineSync } from "../src/engine/index.js";
import { encodingLabel, stackOf } from "../src/lab/config.js";
import { parseConfigText } from "../src/lab/config-file.js";
import { readInputText } from "../src/lab/files.js";
import { STREAM, streamRng } from "../src/lab/seeds.js";
import {
  parseVisionConfig,
  type VisionExperimentConfig,
  visionModelConfig,
} from "../src/lab/vision/config.js";
import { runVision } from "../src/lab/vision/run.js";
import { createVisionTask } from "../src/tasks/vision/registry.js";
import type { VisionBatch } from "../src/tasks/vision/types.js";
import { PosencConfigError } from "../src/util/validation.js";
import { benchArgs } from "./bench-args.js";
import { findOpenBlasDir, findTorchPython, NETLIB_BLAS_WARNING, torchEnvironment } from "./torch-peer.js";

const { option, intOption, flag, json, log } = benchArgs("bench:vision");

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const configPath = option("--config") ?? join(root, "experiments/rope2d-resolution/vision.yaml");
let base: VisionExperimentConfig;
try {
  base = parseVisionConfig(parseConfigText(configPath, readInputText("config file", configPath)));
} catch (error) {
  if (!(error instanceof PosencConfigError)) throw error;
  console.error(`bench:vision: ${error.message}`);
  process.exit(2);
}
const labels = base.encodings.map(encodingLabel);
const label = option("--encoding") ?? labels[0]!;
if (!labels.includes(label)) {
  console.error(
    `bench:vision: --encoding "${label}" is not in the config: valid values are ${labels.join(", ")}`,
  );
  process.exit(2);
}
const seed = intOption("--seed", base.seeds[0]!, 0);
const config: VisionExperimentConfig = {
  ...base,
  encodings: [base.encodings[labels.indexOf(label)]!],
  seeds: [seed],
  train: { ...base.train, steps: intOption("--steps", 300, 1), logEvery: 1_000_000 },
  eval: { ...base.eval, samples: intOption("--samples", 100, 1) },
};
const task = createVisionTask(config.task.id, config.task.params);

/** A batch as the twin reads it: flat arrays. */
const twinBatch = (batch: VisionBatch, grid?: number) => ({
  batchSize: batch.batchSize,
  seqLen: batch.seqLen,
  patches: Array.from(batch.patches),
  positionIds: Array.from(batch.positionIds),
  labels: Array.from(batch.labels),
  grid,
});

/** Every training and evaluation batch of the run, drawn from the streams runVision draws them from. */
function runData(): Record<string, unknown> {
  const t = config.train;
  const steps = Array.from({ length: t.steps }, (_, step) =>
    twinBatch(task.sample(streamRng(seed, STREAM.train, step), t.batchSize, t.grid)),
  );
  const evalBatches = config.eval.grids.flatMap((grid) => {
    const rng = streamRng(seed, STREAM.eval, grid);
    const out = [];
    for (let done = 0; done < config.eval.samples; done += config.eval.batchSize) {
      const n = Math.min(config.eval.batchSize, config.eval.samples - done);
      out.push(twinBatch(task.sample(rng, n, grid), grid));
    }
    return out;
  });
  const stack = stackOf(config.encodings[0]!);
  const model = visionModelConfig(config, 0);
  return {
    seed,
    encoding: stack.length === 1 && Object.keys(stack[0]!.params).length === 0 ? stack[0]!.id : label,
    model: config.model,
    patchDim: model.patchDim,
    numClasses: model.numClasses,
    grid: t.grid,
    train: t,
    steps,
    eval: evalBatches,
  };
}

interface TwinResult {
  skipped?: string;
  torch: string;
  blas: string;
  tokensPerSecond: number;
  trainSeconds: number;
  trainCpuSeconds: number;
  finalLoss: number;
  rows: { grid: number; accuracy: number; samples: number }[];
}

/** The twin's result line, and a promise that resolves when it prints "ready" on stderr (or exits). */
function startTwin(python: string, dataFile: string) {
  const child: ChildProcess = spawn(
    python,
    [join(root, "bench/vision_pytorch.py"), dataFile, "--threads", "1"],
    {
      env: torchEnvironment(findOpenBlasDir(option("--torch-blas")), 1),
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  let out = "";
  let err = "";
  let markReady: () => void = () => {};
  const ready = new Promise<void>((r) => (markReady = r));
  child.stdout?.on("data", (d) => (out += d));
  child.stderr?.on("data", (d) => {
    err += d;
    if (err.includes("ready\n")) markReady();
  });
  const result = new Promise<TwinResult>((resolveRun, reject) => {
    child.on("error", reject);
    child.on("exit", (code) => {
      markReady();
      if (code === 0) resolveRun(JSON.parse(out.trim().split("\n").pop() as string) as TwinResult);
      else
        reject(
          new Error(`pytorch twin exited with ${code}: ${err.trim().split("\n").slice(-3).join(" | ")}`),
        );
    });
  });
  return { ready, result };
}

initEngineSync({ threads: 1 });
const python = flag("--no-torch") ? null : findTorchPython();
const work = mkdtempSync(join(tmpdir(), "posenc-bench-vision-"));
let twin: ReturnType<typeof startTwin> | null = null;
if (python) {
  const dataFile = join(work, "data.json");
  writeFileSync(dataFile, JSON.stringify(runData()));
  twin = startTwin(python, dataFile);
  await twin.ready;
}
const ours = runVision(config, 0, seed);
const twinResult = twin ? await twin.result : null;
rmSync(work, { recursive: true, force: true });

const c = config.model;
log(
  `bench:vision ${config.name}: ${label}, task ${config.task.id}, seed ${seed}, ${config.train.steps} steps of ${config.train.batchSize} at ${config.train.grid}x${config.train.grid}, ${c.numLayers} layers, d_model ${c.dModel}; one thread each, started together`,
);
const cpuRate = (tokens: number, cpu: number) => (cpu > 0 ? tokens / cpu : 0);
const tokens = config.train.steps * config.train.batchSize * task.frames * config.train.grid ** 2;
const oursCpu = ours.run.trainCpuSeconds ?? 0;
log(
  `posenc:  ${ours.run.tokensPerSecond.toFixed(0)} tokens/s (wall ${ours.run.trainSeconds.toFixed(1)} s), ${cpuRate(tokens, oursCpu).toFixed(0)} tokens per CPU s (CPU ${oursCpu.toFixed(1)} s), final loss ${ours.run.finalLoss.toFixed(4)}`,
);
let ratio: number | null = null;
let cpuRatio: number | null = null;
if (!python) log("pytorch: no python3 with torch found: twin skipped (apt-get install python3-torch)");
else if (twinResult?.skipped) log(`pytorch: ${twinResult.skipped}: twin skipped`);
else if (twinResult) {
  if (!twinResult.blas.includes("openblas")) log(NETLIB_BLAS_WARNING);
  ratio = ours.run.tokensPerSecond / twinResult.tokensPerSecond;
  cpuRatio = twinResult.trainCpuSeconds / oursCpu;
  log(
    `pytorch: ${twinResult.tokensPerSecond.toFixed(0)} tokens/s (wall ${twinResult.trainSeconds.toFixed(1)} s), ${cpuRate(tokens, twinResult.trainCpuSeconds).toFixed(0)} tokens per CPU s (CPU ${twinResult.trainCpuSeconds.toFixed(1)} s), final loss ${twinResult.finalLoss.toFixed(4)} (torch ${twinResult.torch}, BLAS ${twinResult.blas})`,
  );
  log(`ratio posenc / pytorch: ${ratio.toFixed(2)} by wall time, ${cpuRatio.toFixed(2)} by CPU time`);
}
const twinRows = new Map((twinResult?.rows ?? []).map((r) => [r.grid, r]));
log("\n| grid | posenc accuracy | pytorch accuracy |");
log("|---|---|---|");
for (const row of ours.rows) {
  const t = twinRows.get(row.grid)?.accuracy;
  log(`| ${row.grid}x${row.grid} | ${row.accuracy.toFixed(2)} | ${t === undefined ? "-" : t.toFixed(2)} |`);
}
if (json) {
  console.log(
    JSON.stringify({
      config: config.name,
      encoding: label,
      seed,
      steps: config.train.steps,
      tokensPerSecond: ours.run.tokensPerSecond,
      trainCpuSeconds: oursCpu,
      pytorchTokensPerSecond: twinResult && !twinResult.skipped ? twinResult.tokensPerSecond : null,
      pytorchTrainCpuSeconds: twinResult && !twinResult.skipped ? twinResult.trainCpuSeconds : null,
      ratio,
      cpuRatio,
      rows: ours.rows,
      pytorchRows: twinResult?.rows ?? null,
    }),
  );
}
