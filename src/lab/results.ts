/**
 * The results file of a benchmark grid (`results.json`) and shard merging.
 *
 * A grid is every (encoding, seed) pair of a config, in config order: job j = encodings[floor(j / S)] with
 * seeds[j mod S]. Shard i/n (1-based) runs the jobs j with j mod n = i - 1. Merging shards concatenates their runs
 * and rows and sorts them into the grid's canonical order, so merged shards equal the unsharded result.
 */
import { PosencConfigError } from "../util/validation.js";
import { type ExperimentConfig, encodingLabel } from "./config.js";
import type { ResultRow } from "./evaluate.js";

export const RESULTS_FORMAT = "posenc-results/1";

/** Timing and training facts of one run (not used by the accuracy tables). */
export interface RunSummary {
  encoding: string;
  seed: number;
  steps: number;
  finalLoss: number;
  trainSeconds: number;
  tokensPerSecond: number;
}

export interface ResultsFile {
  format: typeof RESULTS_FORMAT;
  name: string;
  config: ExperimentConfig;
  /** The shards merged into this file (one entry for an unsharded grid: {index: 1, count: 1}). */
  shards: { index: number; count: number }[];
  runs: RunSummary[];
  rows: ResultRow[];
}

export interface GridJob {
  index: number;
  encodingIndex: number;
  seed: number;
}

/** Every job of the grid, in canonical order. */
export function gridJobs(config: ExperimentConfig): GridJob[] {
  const jobs: GridJob[] = [];
  config.encodings.forEach((_, e) => {
    for (const seed of config.seeds) jobs.push({ index: jobs.length, encodingIndex: e, seed });
  });
  return jobs;
}

/** Parses "i/n" with 1 <= i <= n. */
export function parseShard(text: string): { index: number; count: number } {
  const match = /^\s*(\d+)\s*\/\s*(\d+)\s*$/.exec(text);
  const index = match ? Number(match[1]) : Number.NaN;
  const count = match ? Number(match[2]) : Number.NaN;
  if (!match || !(count >= 1) || !(index >= 1) || index > count) {
    throw new PosencConfigError("invalid_value", "--shard", text, '"i/n" with 1 <= i <= n, e.g. "2/4"');
  }
  return { index, count };
}

/** The jobs of shard i/n. */
export function shardJobs(jobs: readonly GridJob[], shard: { index: number; count: number }): GridJob[] {
  return jobs.filter((job) => job.index % shard.count === shard.index - 1);
}

/** Sorts runs and rows into grid order (encoding order of the config, then seed order, then length). */
export function canonicalize(file: ResultsFile): ResultsFile {
  const labels = file.config.encodings.map(encodingLabel);
  const seeds = file.config.seeds;
  const rank = (encoding: string, seed: number) =>
    labels.indexOf(encoding) * seeds.length + seeds.indexOf(seed);
  const runs = [...file.runs].sort((a, b) => rank(a.encoding, a.seed) - rank(b.encoding, b.seed));
  const rows = [...file.rows].sort(
    (a, b) => rank(a.encoding, a.seed) - rank(b.encoding, b.seed) || a.length - b.length,
  );
  const shards = [...file.shards].sort((a, b) => a.count - b.count || a.index - b.index);
  return { ...file, shards, runs, rows };
}

/** The (encoding, seed) runs of the grid that no result covers. */
export function missingRuns(file: ResultsFile): { encoding: string; seed: number }[] {
  const have = new Set(file.runs.map((r) => `${r.encoding}\u0000${r.seed}`));
  return gridJobs(file.config)
    .map((j) => ({ encoding: encodingLabel(file.config.encodings[j.encodingIndex]), seed: j.seed }))
    .filter((r) => !have.has(`${r.encoding}\u0000${r.seed}`));
}

/**
 * Merges result files of the same config (shards, or partial reruns). Throws when the configs differ or when
 * two files hold the same (encoding, seed) run.
 */
export function mergeResults(files: readonly ResultsFile[]): ResultsFile {
  if (files.length === 0)
    throw new PosencConfigError("missing_key", "results", undefined, "at least one results file");
  const first = files[0];
  const key = JSON.stringify(first.config);
  const seen = new Set<string>();
  const runs: RunSummary[] = [];
  const rows: ResultRow[] = [];
  const shards: { index: number; count: number }[] = [];
  files.forEach((file, i) => {
    if (file.format !== RESULTS_FORMAT) {
      throw new PosencConfigError(
        "invalid_value",
        `results[${i}].format`,
        file.format,
        `"${RESULTS_FORMAT}"`,
      );
    }
    if (JSON.stringify(file.config) !== key) {
      throw new PosencConfigError(
        "conflict",
        `results[${i}].config`,
        file.name,
        `the same config as results[0] (${first.name})`,
      );
    }
    for (const run of file.runs) {
      const id = `${run.encoding} seed ${run.seed}`;
      if (seen.has(id))
        throw new PosencConfigError("conflict", `results[${i}]`, id, "each run in one file only");
      seen.add(id);
      runs.push(run);
    }
    rows.push(...file.rows);
    shards.push(...file.shards);
  });
  return canonicalize({ format: RESULTS_FORMAT, name: first.name, config: first.config, shards, runs, rows });
}
