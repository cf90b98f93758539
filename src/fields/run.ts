/**
 * A fields experiment: every (method, seed) of one task trained in turn into `<out>/<method>/seed-<s>/`, then the
 * aggregate tables and the HTML report. `<out>/plan.json` records the plan; `resume` continues a folder whose plan
 * is the same (finished runs are read back from their result.json, interrupted ones resume from their checkpoint);
 * without `resume` a non-empty folder is refused before any work, so nothing is overwritten.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { writeFileAtomic } from "../lab/files.js";
import { formatDuration } from "../lab/progress.js";
import { PosencConfigError } from "../util/validation.js";
import type { MethodConfig, TaskName } from "./methods.js";
import { renderFieldsReport, resultsTable } from "./report.js";
import { createTask } from "./tasks.js";
import {
  type Clock,
  FIELDS_RESULT_FORMAT,
  type FieldRunResult,
  metricFromJson,
  nonFiniteAsText,
  readJsonOrFail,
  trainField,
} from "./train.js";

export interface FieldsPlan {
  task: TaskName;
  /** Image side or SDF grid size (defaults: 64, 256, 48). */
  size?: number;
  methods: MethodConfig[];
  seeds: number[];
  steps: number;
  batch: number;
  evalEvery: number;
  checkpointEvery: number;
  budgetSeconds?: number;
  /** What the budget and training seconds count (train.ts; default wall). */
  clock?: Clock;
  /** Image task: train on the even-row even-column quarter, score PSNR on the other pixels. */
  heldOut?: boolean;
}

export interface RunOptions {
  resume: boolean;
  /**
   * Run only shard index/count (1-based, the lab's convention): the runs at positions j of the training order
   * (seed by seed) with j mod count = index - 1. Shards of one
   * plan share the folder (start them with resume); the tables and report are written by whichever process finds
   * every run finished, or by a later `--resume` without a shard.
   */
  shard?: { index: number; count: number };
  /** Progress lines (one call per line or in-place redraw). */
  log?: (line: string, inPlace: boolean) => void;
}

function readResult(path: string): FieldRunResult {
  const parsed = readJsonOrFail(path, "a result.json written by posenc fields") as FieldRunResult;
  if (
    parsed?.format !== FIELDS_RESULT_FORMAT ||
    typeof parsed.metrics !== "object" ||
    !Array.isArray(parsed.curve)
  ) {
    throw new PosencConfigError(
      "invalid_value",
      `${path} format`,
      parsed?.format,
      `"${FIELDS_RESULT_FORMAT}"`,
    );
  }
  try {
    for (const key of Object.keys(parsed.metrics)) parsed.metrics[key] = metricFromJson(parsed.metrics[key]);
  } catch (error) {
    throw new PosencConfigError(
      "invalid_value",
      `${path} metrics`,
      parsed.metrics,
      `numbers (${(error as Error).message})`,
    );
  }
  return parsed;
}

/** Checks the output folder against `resume` before any work (one clear error otherwise). */
export function prepareOutput(out: string, plan: FieldsPlan, resume: boolean): void {
  const planPath = join(out, "plan.json");
  const text = `${JSON.stringify(plan, null, 1)}\n`;
  if (existsSync(out) && readdirSync(out).length > 0) {
    if (!resume) {
      throw new PosencConfigError(
        "invalid_value",
        "--out",
        out,
        "an empty or new folder (or pass --resume to continue the run in it)",
      );
    }
    if (!existsSync(planPath) || readFileSync(planPath, "utf8") !== text) {
      throw new PosencConfigError(
        "invalid_value",
        `--resume ${planPath}`,
        "a different plan",
        "the same task, methods, seeds and sizes as the run being resumed",
      );
    }
    return;
  }
  mkdirSync(out, { recursive: true });
  writeFileAtomic(planPath, text);
}

export function runFields(plan: FieldsPlan, out: string, options: RunOptions): FieldRunResult[] {
  prepareOutput(out, plan, options.resume);
  const task = createTask(plan.task, plan.size, plan.heldOut === true);
  for (const file of task.targetFiles())
    if (!existsSync(join(out, file.name))) writeFileAtomic(join(out, file.name), file.content);
  const runs = plan.methods.flatMap((method) => plan.seeds.map((seed) => ({ method, seed })));
  const results: (FieldRunResult | undefined)[] = runs.map(() => undefined);
  // Trained seed by seed (every method's seed 0 first), so a run cut short has every method at some seeds; the
  // results stay in plan order (method by method).
  const order = runs.map((_, index) => index);
  order.sort((a, b) => runs[a].seed - runs[b].seed || a - b);
  // Shard i/n takes every n-th run of that order (so shards together also finish seed 0 first).
  const position = new Map(order.map((index, at) => [index, at]));
  const mine = (index: number) =>
    options.shard === undefined ||
    (position.get(index) as number) % options.shard.count === options.shard.index - 1;
  // ETA: runs left to train in this process, each counted by the larger of its step and budget fractions.
  const todo = runs.filter(
    ({ method, seed }, index) =>
      mine(index) && !existsSync(join(out, method.name, `seed-${seed}`, "result.json")),
  ).length;
  const started = performance.now();
  let trainedHere = 0;
  for (const index of order) {
    const { method, seed } = runs[index];
    const dir = join(out, method.name, `seed-${seed}`);
    const resultPath = join(dir, "result.json");
    if (!mine(index)) continue; // another shard's run: read back at the end
    if (existsSync(resultPath)) {
      results[index] = readResult(resultPath);
      continue;
    }
    mkdirSync(dir, { recursive: true });
    const label = `${plan.task} ${method.name} s${seed} (${index + 1}/${runs.length})`;
    let last = 0;
    const { result } = trainField(
      {
        task,
        method,
        seed,
        steps: plan.steps,
        batch: plan.batch,
        evalEvery: plan.evalEvery,
        checkpointEvery: plan.checkpointEvery,
        budgetSeconds: plan.budgetSeconds,
        clock: plan.clock,
      },
      dir,
      {
        onStep(step, loss, seconds) {
          const now = performance.now();
          if (now - last < 1000 && step !== plan.steps) return;
          last = now;
          const elapsed = (now - started) / 1000;
          const budget = plan.budgetSeconds === undefined ? 0 : seconds / plan.budgetSeconds;
          const done = trainedHere + Math.min(1, Math.max(step / plan.steps, budget));
          const eta = done > 0 ? ((todo - done) * elapsed) / done : Number.NaN;
          options.log?.(
            `${label} step ${step}/${plan.steps}  loss ${loss.toExponential(3)}  ETA ${formatDuration(eta)}`,
            true,
          );
        },
      },
    );
    trainedHere++;
    const metrics = Object.entries(result.metrics)
      .map(([k, v]) => `${k} ${v.toFixed(4)}`)
      .join("  ");
    options.log?.(`${label} done in ${formatDuration(result.trainSeconds)}: ${metrics}`, false);
    results[index] = result;
  }
  runs.forEach(({ method, seed }, index) => {
    const path = join(out, method.name, `seed-${seed}`, "result.json");
    if (results[index] === undefined && existsSync(path)) results[index] = readResult(path);
  });
  const done = results.filter((r): r is FieldRunResult => r !== undefined);
  if (done.length < runs.length) {
    options.log?.(
      `shard ${options.shard?.index}/${options.shard?.count} done; ${runs.length - done.length} runs of other shards unfinished: the tables are written when the last shard ends (or by --resume without --shard)`,
      false,
    );
    return done;
  }
  writeFileAtomic(join(out, "results.json"), `${JSON.stringify(done, nonFiniteAsText)}\n`);
  writeFileAtomic(join(out, "results.md"), resultsTable(done));
  writeFileAtomic(join(out, "report.html"), renderFieldsReport(plan, done, out, task.describe));
  return done;
}
