/**
 * The benchmark grid: every (encoding, seed) job of a config (or of one shard i/n), run in this process or as
 * single-threaded child processes side by side (`parallel`, the calibration's 2 jobs on 2 cores), then
 * `results.json` and the reports written atomically to the output folder.
 *
 * Each job is a pure function of (config, encoding, seed): where it runs and in what order changes no number,
 * so shards merged with `mergeResults` equal the unsharded grid.
 */
import { type ChildProcess, fork } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { PosencConfigError } from "../util/validation.js";
import type { ExperimentConfig } from "./config.js";
import { checkOutputFolder, writeFileAtomic } from "./files.js";
import { type JobOptions, type JobResult, jobDirName, jobRun, runJob } from "./job.js";
import { checkGridFolder, checkJobFolder } from "./overwrite-guard.js";
import type { ProgressEvent } from "./progress.js";
import { writeReports } from "./report/index.js";
import {
  canonicalize,
  type GridJob,
  gridJobs,
  RESULTS_FORMAT,
  type ResultsFile,
  shardJobs,
} from "./results.js";
import type { ChildMessage, ParentMessage } from "./worker.js";

export type GridEvent =
  | { type: "start"; job: GridJob; label: string; total: number }
  | { type: "progress"; job: GridJob; event: ProgressEvent }
  | { type: "done"; job: GridJob; result: JobResult; completed: number; total: number };

export interface GridOptions {
  /** Output folder: results.json, reports, and runs/<job>/ (checkpoints and per-job results). */
  outDir: string;
  shard?: { index: number; count: number };
  /** Jobs at once; 1 runs them in this process, >= 2 in single-threaded child processes. Default 1. */
  parallel?: number;
  /** Skip finished jobs and continue interrupted ones from their checkpoints. */
  resume?: boolean;
  /** Overwrite a folder holding another experiment's results (refused otherwise, before any work). */
  force?: boolean;
  /** A module exporting `modelFactory` (tests, custom models); default: the transformer of src/model/. */
  modelModule?: string;
  onEvent?: (event: GridEvent) => void;
}

/** The worker entry: the compiled worker.js beside this file, or worker.ts run through tsx (development). */
function workerEntry(): { path: string; execArgv: string[] } {
  const js = fileURLToPath(new URL("./worker.js", import.meta.url));
  if (existsSync(js)) return { path: js, execArgv: [] };
  return { path: fileURLToPath(new URL("./worker.ts", import.meta.url)), execArgv: ["--import", "tsx"] };
}

/** Runs one job in a child process; rejects with the child's error. */
function runJobInChild(
  config: ExperimentConfig,
  job: GridJob,
  options: Omit<JobOptions, "onProgress">,
  onProgress: (event: ProgressEvent) => void,
): Promise<JobResult> {
  const entry = workerEntry();
  return new Promise((resolve, reject) => {
    const child: ChildProcess = fork(entry.path, [], {
      execArgv: entry.execArgv,
      stdio: ["ignore", "inherit", "inherit", "ipc"],
    });
    let settled = false;
    child.on("message", (message: ChildMessage) => {
      if (message.type === "progress") onProgress(message.event);
      else if (message.type === "done") {
        settled = true;
        resolve(message.result);
      } else {
        settled = true;
        reject(
          message.configError
            ? new PosencConfigError("invalid_value", "job", job.index, "a valid job", message.message)
            : new Error(
                `lab job ${job.index} failed in a child process: ${message.stack ?? message.message}`,
              ),
        );
      }
    });
    child.on("error", (error) => {
      if (!settled) reject(error);
      settled = true;
    });
    child.on("exit", (code, signal) => {
      if (!settled)
        reject(new Error(`lab job ${job.index}: child process exited (${signal ?? code}) without a result`));
      settled = true;
    });
    const message: ParentMessage = { type: "job", config, job, options };
    child.send(message);
  });
}

/**
 * Before any work (the CLI calls it before its plan's warm-up steps too): a usable output folder, and no other
 * experiment's results in it or in its job folders unless `force`.
 */
export function checkGridOutput(
  config: ExperimentConfig,
  options: Pick<GridOptions, "outDir" | "shard" | "force">,
): void {
  const shard = options.shard ?? { index: 1, count: 1 };
  const force = options.force === true;
  checkOutputFolder("output folder", options.outDir);
  checkGridFolder(options.outDir, config, [shard], force);
  for (const job of shardJobs(gridJobs(config), shard)) {
    const jobDir = join(options.outDir, "runs", jobDirName(config, job));
    checkOutputFolder("output folder", jobDir);
    checkJobFolder(jobDir, jobRun(config, job, jobDir), force);
  }
}

/** Runs the grid (or a shard), writes results.json and the reports, and returns the results. */
export async function runGrid(config: ExperimentConfig, options: GridOptions): Promise<ResultsFile> {
  const shard = options.shard ?? { index: 1, count: 1 };
  const jobs = shardJobs(gridJobs(config), shard);
  const parallel = Math.max(1, Math.floor(options.parallel ?? 1));
  const results = new Map<number, JobResult>();
  let next = 0;
  let completed = 0;
  const emit = options.onEvent ?? (() => {});
  const force = options.force === true;
  checkGridOutput(config, options);

  const worker = async (): Promise<void> => {
    while (next < jobs.length) {
      const job = jobs[next++];
      const label = jobDirName(config, job);
      emit({ type: "start", job, label, total: jobs.length });
      const jobOptions = {
        jobDir: join(options.outDir, "runs", label),
        resume: options.resume === true,
        force,
        ...(options.modelModule ? { modelModule: options.modelModule } : {}),
      };
      const onProgress = (event: ProgressEvent) => emit({ type: "progress", job, event });
      const result =
        parallel > 1
          ? await runJobInChild(config, job, jobOptions, onProgress)
          : await runJob(config, job, { ...jobOptions, onProgress });
      results.set(job.index, result);
      completed++;
      emit({ type: "done", job, result, completed, total: jobs.length });
    }
  };
  await Promise.all(Array.from({ length: Math.min(parallel, jobs.length) }, worker));

  const ordered = jobs.map((job) => results.get(job.index) as JobResult);
  const file = canonicalize({
    format: RESULTS_FORMAT,
    name: config.name,
    config,
    shards: [shard],
    runs: ordered.map((r) => r.summary),
    rows: ordered.flatMap((r) => r.rows),
  });
  writeResults(options.outDir, file);
  return file;
}

/** Writes results.json and every report of `file` into `dir` (atomically, file by file). */
export function writeResults(dir: string, file: ResultsFile): string[] {
  writeFileAtomic(join(dir, "results.json"), `${JSON.stringify(file, null, 1)}\n`);
  return ["results.json", ...writeReports(dir, file)];
}
