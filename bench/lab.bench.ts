/**
 * Side-by-side lab benchmark: `npm run bench:lab -- --config FILE [--encoding LABEL] [--seed N] [--steps N]
 * [--bucket K] [--samples N] [--no-torch] [--torch-blas DIR] [--json]`.
 *
 * Trains one run of an experiment config (default: its first encoding and seed, 300 steps, the config's model,
 * task, optimizer and schedule) with `posenc train` in a child process and with the PyTorch twin
 * (bench/lab_pytorch.py) in another, one thread each, started at the same moment, then prints both tokens/s, their
 * ratio and both per-length accuracy tables. Tokens/s counts the input tokens that predict something (every real
 * token but the final EOS) per second of training, for both.
 *
 * Same examples: before starting either, this script writes every training batch of the run (exactly the batches
 * `train` draws: src/lab/batching.ts, so `--bucket K` gives both the length-bucketed batches) and every evaluation
 * batch (src/lab/evaluate.ts's streams) to a JSON file that the twin reads. The twin implements everything else
 * itself (model, encodings, loss, AdamW, clipping, schedule, scoring), so its accuracy table is an independent check
 * of the lab's, within seed spread (its initial weights and randomized ids are its own draws).
 * Without a Python that imports torch, or for an encoding the twin lacks, the twin is skipped with one line.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { trainingBatches } from "../src/lab/batching.js";
import { type ExperimentConfig, encodingLabel, evalTaskOf } from "../src/lab/config.js";
import { loadExperimentConfig } from "../src/lab/config-file.js";
import type { ResultRow } from "../src/lab/evaluate.js";
import type { JobResult } from "../src/lab/job.js";
import { STREAM, streamRng } from "../src/lab/seeds.js";
import { countTokens, scoredTargets } from "../src/lab/train.js";
import { buildVocabulary } from "../src/tasks/format.js";
import { createTask } from "../src/tasks/registry.js";
import type { TaskBatch } from "../src/tasks/types.js";
import { benchArgs } from "./bench-args.js";
import { findOpenBlasDir, findTorchPython, NETLIB_BLAS_WARNING, torchEnvironment } from "./torch-peer.js";

const { option, intOption, flag, json, log } = benchArgs("bench:lab");

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const configPath = option("--config");
if (!configPath) {
  console.error("bench:lab: --config FILE is required (e.g. experiments/copy-nope/config.yaml)");
  process.exit(2);
}
const base = loadExperimentConfig(configPath);
const labels = base.encodings.map(encodingLabel);
const label = option("--encoding") ?? labels[0];
if (!labels.includes(label)) {
  console.error(
    `bench:lab: --encoding "${label}" is not in the config: valid values are ${labels.join(", ")}`,
  );
  process.exit(2);
}
const encoding = base.encodings[labels.indexOf(label)];
const seed = intOption("--seed", base.seeds[0], 0);
const bucket = intOption("--bucket", 1, 1);
const config: ExperimentConfig = {
  ...base,
  encodings: [encoding],
  seeds: [seed],
  train: {
    ...base.train,
    steps: intOption("--steps", 300, 1),
    checkpointEvery: 0,
    ...(bucket > 1 ? { bucketWindow: bucket } : { bucketWindow: undefined }),
  },
  eval: {
    ...base.eval,
    samplesPerLength: intOption("--samples", Math.min(base.eval.samplesPerLength, 30), 1),
  },
};

/** A batch as the twin reads it: flat arrays, targets -1 where unscored. */
function twinBatch(batch: TaskBatch, extra: Record<string, number>): Record<string, unknown> {
  return {
    batchSize: batch.batchSize,
    seqLen: batch.seqLen,
    inputs: Array.from(batch.inputs),
    targets: Array.from(scoredTargets(batch)),
    rowLengths: Array.from(batch.tokenCounts ?? new Int32Array(batch.batchSize).fill(batch.seqLen)),
    positionIds: batch.positionIds ? Array.from(batch.positionIds) : null,
    ...extra,
  };
}

/** Every training and evaluation batch of the run, as train() and evaluate() draw them. */
function runData(): Record<string, unknown> {
  const task = createTask(config.task.id, config.task.params);
  const vocab = buildVocabulary(task.symbols, config.task.layout);
  const batchAt = trainingBatches(task, config, seed, vocab.pad);
  const steps = Array.from({ length: config.train.steps }, (_, step) => {
    const { batch, lossScale } = batchAt(step, streamRng(seed, STREAM.train, step));
    return twinBatch(batch, { lossScale, tokens: countTokens(batch, vocab.pad) });
  });
  const evalTask = evalTaskOf(config);
  const evalBatches: Record<string, unknown>[] = [];
  const { min, max } = config.eval.length;
  const per = config.eval.samplesPerLength;
  const size = Math.min(config.eval.batchSize, per);
  for (let length = max; length >= min; length--) {
    const rng = streamRng(seed, STREAM.eval, length);
    for (let done = 0; done < per; done += size) {
      const batch = evalTask.sample(rng, size, length, config.task.layout);
      evalBatches.push(twinBatch(batch, { length, rows: Math.min(size, per - done) }));
    }
  }
  const { model, train } = config;
  return {
    seed,
    vocabSize: vocab.size,
    model,
    encoding: {
      id: "id" in encoding && encoding.id ? encoding.id : label,
      params: "params" in encoding ? (encoding.params ?? {}) : {},
    },
    train,
    steps,
    eval: evalBatches,
  };
}

/** User + system CPU seconds of a running process (Linux /proc; null elsewhere or once it has exited). */
function cpuSecondsOf(pid: number | undefined): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // Fields after the parenthesized command name: state is field 3, utime 14, stime 15 (clock ticks, 100 a second).
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return null;
  }
}

/**
 * CPU time of `posenc train` over its training steps 2..N: its progress lines (stderr, one after step 1 and one
 * after the last step when not a TTY) mark the window; /proc gives the process's CPU time at each mark. Reported
 * as the CPU share of the window's wall time (1 = the process had a core to itself throughout).
 */
function watchTrainingCpu(child: ChildProcess, steps: number): () => number | null {
  let first: { cpu: number; wall: number } | null = null;
  let share: number | null = null;
  const firstMark = new RegExp(`(^|\\s)1/${steps}\\s`);
  const lastMark = new RegExp(`\\s${steps}/${steps}\\s`);
  child.stderr?.on("data", (d) => {
    const text = String(d);
    const now = performance.now() / 1000;
    if (!first && steps > 1 && firstMark.test(text)) {
      const cpu = cpuSecondsOf(child.pid);
      if (cpu !== null) first = { cpu, wall: now };
    } else if (first && share === null && lastMark.test(text)) {
      const cpu = cpuSecondsOf(child.pid);
      if (cpu !== null && now > first.wall) share = (cpu - first.cpu) / (now - first.wall);
    }
  });
  return () => share;
}

function finished(child: ChildProcess, what: string): Promise<string> {
  let out = "";
  let err = "";
  child.stdout?.on("data", (d) => (out += d));
  child.stderr?.on("data", (d) => (err += d));
  return new Promise((resolveRun, reject) => {
    child.on("error", reject);
    child.on("exit", (code) =>
      code === 0
        ? resolveRun(out)
        : reject(new Error(`${what} exited with ${code}: ${err.trim().split("\n").slice(-3).join(" | ")}`)),
    );
  });
}

interface TwinResult {
  skipped?: string;
  torch: string;
  blas: string;
  tokensPerSecond: number;
  trainSeconds: number;
  trainCpuSeconds?: number;
  finalLoss: number;
  rows: Omit<ResultRow, "encoding" | "task" | "seed">[];
}

const loadAtStart = loadavg()[0];
const work = mkdtempSync(join(tmpdir(), "posenc-bench-lab-"));
const configFile = join(work, "config.json");
writeFileSync(configFile, JSON.stringify(config));
const python = flag("--no-torch") ? null : findTorchPython();
let twin: Promise<TwinResult> | null = null;
const dataFile = join(work, "data.json");
if (python) writeFileSync(dataFile, JSON.stringify(runData()));

const cli = join(root, "dist/cli/main.js");
const posencArgs = existsSync(cli) ? [cli] : ["--import", "tsx", join(root, "src/cli/main.ts")];
const posencChild = spawn(
  process.execPath,
  [...posencArgs, "train", "--config", configFile, "--out", join(work, "posenc")],
  { stdio: ["ignore", "pipe", "pipe"] },
);
const posencCpuShare = watchTrainingCpu(posencChild, config.train.steps);
const posenc = finished(posencChild, "posenc train");
if (python) {
  const blasDir = findOpenBlasDir(option("--torch-blas"));
  twin = finished(
    spawn(python, [join(root, "bench/lab_pytorch.py"), dataFile, "--threads", "1"], {
      env: torchEnvironment(blasDir, 1),
      stdio: ["ignore", "pipe", "pipe"],
    }),
    "pytorch twin",
  ).then((out) => JSON.parse(out.trim().split("\n").pop() as string) as TwinResult);
}
const [_, twinResult] = await Promise.all([posenc, twin]);
const ours = JSON.parse(readFileSync(join(work, "posenc", "result.json"), "utf8")) as JobResult;
rmSync(work, { recursive: true, force: true });

const what = `${config.name}: ${label}, seed ${seed}, ${config.train.steps} steps, ${config.model.numLayers} layers, d_model ${config.model.dModel}${bucket > 1 ? `, length-bucketed (window ${bucket})` : ""}`;
log(
  `bench:lab ${what}; one thread each, started together; load average ${loadAtStart.toFixed(1)} at the start, ${loadavg()[0].toFixed(1)} at the end`,
);
// Tokens per CPU second: wall tokens/s divided by the share of a core each process got while training (on a
// shared machine the wall figures measure the load as much as the code; CPU time compares the code).
const oursShare = posencCpuShare();
const oursCpu = oursShare ? ours.summary.tokensPerSecond / oursShare : null;
const twinShare =
  twinResult?.trainCpuSeconds && twinResult.trainSeconds > 0
    ? twinResult.trainCpuSeconds / twinResult.trainSeconds
    : null;
const twinCpu = twinResult && twinShare ? twinResult.tokensPerSecond / twinShare : null;
const cpuText = (perCpu: number | null, share: number | null) =>
  perCpu && share ? `, ${perCpu.toFixed(0)} tokens per CPU second (CPU share ${share.toFixed(2)})` : "";
log(
  `posenc:  ${ours.summary.tokensPerSecond.toFixed(0)} tokens/s${cpuText(oursCpu, oursShare)}, final loss ${ours.summary.finalLoss.toFixed(4)}`,
);
let ratio: number | null = null;
let cpuRatio: number | null = null;
if (!python)
  log(
    "pytorch: no python3 with torch found: twin skipped (apt-get install python3-torch libopenblas0-pthread)",
  );
else if (twinResult?.skipped) log(`pytorch: ${twinResult.skipped}: twin skipped`);
else if (twinResult) {
  if (!twinResult.blas.includes("openblas")) log(NETLIB_BLAS_WARNING);
  ratio = ours.summary.tokensPerSecond / twinResult.tokensPerSecond;
  log(
    `pytorch: ${twinResult.tokensPerSecond.toFixed(0)} tokens/s${cpuText(twinCpu, twinShare)}, final loss ${twinResult.finalLoss.toFixed(4)} (torch ${twinResult.torch}, BLAS ${twinResult.blas})`,
  );
  cpuRatio = oursCpu && twinCpu ? oursCpu / twinCpu : null;
  log(
    `ratio posenc / pytorch: ${ratio.toFixed(2)} (wall)${cpuRatio ? `, ${cpuRatio.toFixed(2)} (per CPU second)` : ""}`,
  );
}
const twinRows = new Map((twinResult?.rows ?? []).map((r) => [r.length, r]));
const fmt = (v: number | undefined) => (v === undefined ? "-" : v.toFixed(2));
log("\n| length | posenc exact | pytorch exact | posenc token acc | pytorch token acc |");
log("|---|---|---|---|---|");
for (const row of ours.rows) {
  const t = twinRows.get(row.length);
  log(
    `| ${row.length} | ${fmt(row.sequenceAccuracy)} | ${fmt(t?.sequenceAccuracy)} | ${fmt(row.tokenAccuracy)} | ${fmt(t?.tokenAccuracy)} |`,
  );
}
if (json) {
  console.log(
    JSON.stringify({
      config: config.name,
      encoding: label,
      seed,
      steps: config.train.steps,
      bucketWindow: bucket,
      tokensPerSecond: ours.summary.tokensPerSecond,
      pytorchTokensPerSecond: twinResult && !twinResult.skipped ? twinResult.tokensPerSecond : null,
      ratio,
      cpuTokensPerSecond: oursCpu,
      pytorchCpuTokensPerSecond: twinCpu,
      cpuRatio,
      loadAverage: [loadAtStart, loadavg()[0]],
      rows: ours.rows,
      pytorchRows: twinResult?.rows ?? null,
    }),
  );
}
