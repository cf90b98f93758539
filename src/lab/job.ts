/**
 * One job of a benchmark grid: train one (encoding, seed) run with checkpoints in its own folder, evaluate it on
 * held-out lengths, and store the rows. Runs the same in the calling process and in a child (worker.ts).
 *
 *   <outDir>/runs/<label>-s<seed>/checkpoint.json, weights-*.safetensors   (resume mid-run)
 *   <outDir>/runs/<label>-s<seed>/result.json                             (the job's rows; resume skips it)
 *
 * A job's identity (what its checkpoint and result are checked against) is its own run: the grid's config cut down
 * to this encoding and seed, the config `posenc train` gives one run. So appending encodings to a grid's config
 * leaves its finished and interrupted jobs resumable; only the new jobs train (`jobRun`).
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { readSidecar } from "./checkpoint.js";
import { type ExperimentConfig, encodingLabel } from "./config.js";
import { evaluate, type ResultRow } from "./evaluate.js";
import { checkOutputFolder, writeFileAtomic } from "./files.js";
import type { ModelFactory } from "./model.js";
import { checkJobFolder } from "./overwrite-guard.js";
import type { ProgressEvent } from "./progress.js";
import type { GridJob, RunSummary } from "./results.js";
import { readJobResult } from "./results-file.js";
import { useSingleThreadKernels } from "./runtime.js";
import { type RunSpec, train } from "./train.js";

export interface JobResult {
  summary: RunSummary;
  rows: ResultRow[];
}

export interface JobOptions {
  /** The job's folder (checkpoints and result.json); none written when absent. */
  jobDir?: string;
  /** Reuse result.json and continue from the checkpoint when present. */
  resume?: boolean;
  /** Overwrite a job folder holding another run's files (refused otherwise, before any work). */
  force?: boolean;
  /** A module (path or file URL) exporting `modelFactory: ModelFactory`; default: the transformer of src/model/. */
  modelModule?: string;
  onProgress?: (event: ProgressEvent) => void;
}

/** A folder-safe name of a job: "randomized-rope-s2". */
export function jobDirName(config: ExperimentConfig, job: GridJob): string {
  const label = encodingLabel(config.encodings[job.encodingIndex]).replace(/[^A-Za-z0-9_.+-]/g, "_");
  return `${label}-s${job.seed}`;
}

/**
 * The run of a grid job: the config with this encoding and seed only (its training and scores depend on nothing
 * else). A job folder written before runs had their own identity holds the whole grid's config in its checkpoint:
 * that config is kept, so such folders still resume.
 */
export function jobRun(config: ExperimentConfig, job: GridJob, jobDir?: string): RunSpec {
  const encoding = config.encodings[job.encodingIndex];
  if (jobDir && JSON.stringify(existingSidecarConfig(jobDir)) === JSON.stringify(config)) {
    return { config, encoding, seed: job.seed };
  }
  return { config: { ...config, encodings: [encoding], seeds: [job.seed] }, encoding, seed: job.seed };
}

/** The config of the checkpoint in `dir`, or undefined (none, or unreadable: checkJobFolder then says why). */
function existingSidecarConfig(dir: string): unknown {
  try {
    return readSidecar(dir)?.config;
  } catch {
    return undefined;
  }
}

/** Loads `modelFactory` from a module path (tests and custom models). */
export async function loadModelFactory(modelModule: string | undefined): Promise<ModelFactory | undefined> {
  if (!modelModule) return undefined;
  const url = modelModule.startsWith("file:") ? modelModule : pathToFileURL(modelModule).href;
  const mod = (await import(url)) as { modelFactory?: ModelFactory };
  if (typeof mod.modelFactory !== "function") {
    throw new Error(`lab: ${modelModule} does not export a modelFactory function`);
  }
  return mod.modelFactory;
}

export async function runJob(
  config: ExperimentConfig,
  job: GridJob,
  options: JobOptions = {},
): Promise<JobResult> {
  const run = jobRun(config, job, options.jobDir);
  const resultPath = options.jobDir ? join(options.jobDir, "result.json") : undefined;
  if (options.jobDir) {
    checkOutputFolder("output folder", options.jobDir);
    checkJobFolder(options.jobDir, run, options.force === true);
  }
  if (options.resume && resultPath && existsSync(resultPath) && options.force !== true) {
    return readJobResult(resultPath);
  }
  useSingleThreadKernels();
  const modelFactory = await loadModelFactory(options.modelModule);
  const outcome = await train(run, {
    ...(options.jobDir ? { checkpointDir: options.jobDir } : {}),
    resume: options.resume === true,
    ...(modelFactory ? { modelFactory } : {}),
    ...(options.onProgress ? { onProgress: options.onProgress } : {}),
  });
  const rows = evaluate(outcome.model, run);
  for (const p of outcome.model.parameters()) p.dispose();
  const result: JobResult = {
    summary: {
      encoding: encodingLabel(run.encoding),
      seed: job.seed,
      steps: outcome.step,
      finalLoss: outcome.lossHistory[outcome.lossHistory.length - 1] ?? Number.NaN,
      trainSeconds: outcome.trainSeconds,
      tokensPerSecond: outcome.tokensPerSecond,
    },
    rows,
  };
  if (resultPath) writeFileAtomic(resultPath, `${JSON.stringify(result)}\n`);
  return result;
}
