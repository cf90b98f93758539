/**
 * Reading results back: `results.json` of a grid (read by `posenc report merge` and before a bench overwrites a
 * folder) and `runs/<job>/result.json` of one job (read by `--resume`). Validated like a config, with zod: every
 * accuracy a number in [0, 1], every row belonging to a run of the file's config, every run with a row for every
 * length of the file, so a missing or garbage value is one error line, never a 0.00 or a NaN in a report.
 */
import { z } from "zod";
import { PosencConfigError } from "../util/validation.js";
import { encodingLabel, parseExperimentConfig } from "./config.js";
import type { ResultRow } from "./evaluate.js";
import { readInputJson, withinFile } from "./files.js";
import type { JobResult } from "./job.js";
import { RESULTS_FORMAT, type ResultsFile, type RunSummary } from "./results.js";
import { zodIssueToConfigError } from "./zod-issues.js";

const count = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER).describe("an integer >= 0");
const fraction = z.number().min(0).max(1).describe("a number from 0 to 1");
const nonNegative = z.number().min(0).describe("a finite number >= 0");

const runSchema = z.strictObject({
  encoding: z.string().min(1).describe("an encoding label"),
  seed: count,
  steps: count,
  // A diverged run's final loss is NaN, which JSON writes as null.
  finalLoss: z.number().nullable().describe("a number or null"),
  trainSeconds: nonNegative,
  tokensPerSecond: nonNegative,
});

const rowSchema = z.strictObject({
  encoding: z.string().min(1).describe("an encoding label"),
  task: z.string().min(1).describe("a task id"),
  length: z.number().int().min(1).describe("an integer >= 1"),
  seed: count,
  tokenAccuracy: fraction,
  sequenceAccuracy: fraction,
  samples: z.number().int().min(1).describe("an integer >= 1"),
});

const resultsSchema = z.strictObject({
  format: z.literal(RESULTS_FORMAT).describe(`"${RESULTS_FORMAT}"`),
  name: z.string().describe("a string"),
  config: z.unknown(),
  shards: z
    .array(
      z.strictObject({
        index: z.number().int().min(1).describe("an integer >= 1"),
        count: z.number().int().min(1).describe("an integer >= 1"),
      }),
    )
    .min(1)
    .describe("a non-empty list of {index, count}"),
  runs: z.array(runSchema).describe("a list of runs"),
  rows: z.array(rowSchema).describe("a list of result rows"),
});

const jobResultSchema = z.strictObject({ summary: runSchema, rows: z.array(rowSchema) });

function parseWith<S extends z.ZodType>(schema: S, input: unknown): z.output<S> {
  const parsed = schema.safeParse(input);
  if (!parsed.success) throw zodIssueToConfigError(schema, input, parsed.error.issues);
  return parsed.data;
}

function toRun(run: z.output<typeof runSchema>): RunSummary {
  return { ...run, finalLoss: run.finalLoss ?? Number.NaN };
}

/**
 * Rows and runs agree: every row is of a run (encoding and seed) of the file, no row is there twice, and every
 * run has a row for every length in the file.
 */
function checkRowsCoverRuns(runs: readonly RunSummary[], rows: readonly ResultRow[], task: string): void {
  const runKeys = new Set(runs.map((r) => `${r.encoding} seed ${r.seed}`));
  const seen = new Set<string>();
  const lengths = new Set<number>();
  rows.forEach((row, i) => {
    const run = `${row.encoding} seed ${row.seed}`;
    if (!runKeys.has(run)) {
      throw new PosencConfigError("conflict", `rows[${i}]`, run, "a row of one of the file's runs");
    }
    if (row.task !== task) throw new PosencConfigError("conflict", `rows[${i}].task`, row.task, `"${task}"`);
    const key = `${run} length ${row.length}`;
    if (seen.has(key))
      throw new PosencConfigError("conflict", `rows[${i}]`, key, "one row per run and length");
    seen.add(key);
    lengths.add(row.length);
  });
  for (const run of runKeys) {
    for (const length of lengths) {
      if (!seen.has(`${run} length ${length}`)) {
        throw new PosencConfigError(
          "missing_key",
          `rows (${run} length ${length})`,
          undefined,
          "a row for every length of every run",
        );
      }
    }
  }
}

/** Validates a parsed results.json; `path` names the file in the error. */
export function parseResultsFile(path: string, input: unknown): ResultsFile {
  return withinFile(path, () => {
    const raw = parseWith(resultsSchema, input);
    // The schema and registries only: reading results needs no model, and the run need not fit this machine.
    const config = withinFile("config", () => parseExperimentConfig(raw.config), ".");
    const labels = config.encodings.map(encodingLabel);
    raw.shards.forEach((shard, i) => {
      if (shard.index > shard.count) {
        throw new PosencConfigError(
          "out_of_range",
          `shards[${i}].index`,
          shard.index,
          `at most count (${shard.count})`,
        );
      }
    });
    const runs = raw.runs.map(toRun);
    const seen = new Set<string>();
    runs.forEach((run, i) => {
      if (!labels.includes(run.encoding)) {
        throw new PosencConfigError(
          "invalid_value",
          `runs[${i}].encoding`,
          run.encoding,
          `one of the config's encodings (${labels.join(", ")})`,
        );
      }
      const key = `${run.encoding} seed ${run.seed}`;
      if (seen.has(key)) throw new PosencConfigError("conflict", `runs[${i}]`, key, "each run once");
      seen.add(key);
    });
    checkRowsCoverRuns(runs, raw.rows, config.task.id);
    return { format: RESULTS_FORMAT, name: raw.name, config, shards: raw.shards, runs, rows: raw.rows };
  });
}

/** Reads and validates a results.json file. */
export function readResultsFile(path: string): ResultsFile {
  return parseResultsFile(path, readInputJson("results file", path));
}

/** Validates a parsed job result.json (`runs/<job>/result.json`); `path` names the file in the error. */
export function parseJobResult(path: string, input: unknown): JobResult {
  return withinFile(path, () => {
    const raw = parseWith(jobResultSchema, input);
    const summary = toRun(raw.summary);
    checkRowsCoverRuns([summary], raw.rows, raw.rows[0]?.task ?? "");
    return { summary, rows: raw.rows };
  });
}

/** Reads and validates a job's result.json. */
export function readJobResult(path: string): JobResult {
  return parseJobResult(path, readInputJson("job result", path));
}
