/**
 * `posenc bench length-gen`: the length-generalization grid (encodings x seeds on one task), then results.json,
 * report.md, accuracy.svg, token-accuracy.svg and report.html in the output folder. From flags or a config file.
 */
import { join } from "node:path";
import type { ExperimentConfig } from "../../lab/config.js";
import { checkExperimentConfig, loadExperimentConfig } from "../../lab/config-file.js";
import { checkOutputFolder } from "../../lab/files.js";
import { GridProgress } from "../../lab/grid-progress.js";
import { formatPlan, planRuns } from "../../lab/plan.js";
import { renderSummaryTable } from "../../lab/report/markdown.js";
import type { ResultsFile } from "../../lab/results.js";
import { shardOfFlags } from "../../lab/scheduler-shard.js";
import { checkGridOutput, runGrid } from "../../lab/sweep.js";
import {
  type Command,
  parseIntegerFlag,
  parsePositiveNumberFlag,
  parseRangeFlag,
  requireFlag,
} from "../args.js";
import { UsageError } from "../errors.js";

const GRID_FLAGS = [
  "task",
  "task-params",
  "encodings",
  "train-length",
  "test-length",
  "seeds",
  "steps",
  "batch",
  "lr",
  "layers",
  "d-model",
  "heads",
  "samples",
  "name",
] as const;

/**
 * Prints the plan (runs and the estimated time from a measured warm-up), then, unless `planOnly`, runs the grid
 * with progress on stderr and prints the summary table and where the reports are.
 */
export async function runGridCommand(
  config: ExperimentConfig,
  options: {
    outDir: string;
    shard?: { index: number; count: number };
    parallel: number;
    resume: boolean;
    planOnly?: boolean;
    force: boolean;
  },
): Promise<ResultsFile | undefined> {
  checkOutputFolder("--out", options.outDir);
  checkGridOutput(config, options);
  const plan = await planRuns(config, {
    parallel: options.parallel,
    ...(options.shard ? { shard: options.shard } : {}),
  });
  // With --plan the plan is the output; before a run it goes to stderr with the progress, so that stdout holds
  // only the results.
  (options.planOnly ? process.stdout : process.stderr).write(`${formatPlan(config, plan)}\n`);
  if (options.planOnly) return undefined;
  const progress = new GridProgress(process.stderr, config);
  const started = performance.now();
  const results = await runGrid(config, { ...options, onEvent: progress.handle });
  progress.finish();
  const seconds = (performance.now() - started) / 1000;
  process.stdout.write(`\n${renderSummaryTable(results)}\n\n`);
  process.stdout.write(
    `${results.runs.length} runs in ${seconds.toFixed(1)} s. Wrote results.json, report.md, accuracy.svg, token-accuracy.svg and report.html to ${options.outDir}\n`,
  );
  return results;
}

function parseJsonFlag(name: string, text: string): Record<string, unknown> {
  try {
    const value = JSON.parse(text);
    if (value && typeof value === "object" && !Array.isArray(value)) return value;
  } catch {
    // fall through
  }
  throw new UsageError(
    `posenc bench: --${name} must be a JSON object such as '{"vocabSize":16}', received '${text}'`,
  );
}

/** The config of the flags: the calibration's setup unless a flag says otherwise. */
export function configFromFlags(values: Record<string, string | boolean | undefined>): ExperimentConfig {
  const str = (name: string) => (typeof values[name] === "string" ? (values[name] as string) : undefined);
  const int = (name: string, fallback: number, min = 1, max = 10_000_000) => {
    const text = str(name);
    return text === undefined ? fallback : parseIntegerFlag("bench", name, text, min, max);
  };
  const task = requireFlag("bench", values, "task", "ID");
  const encodings = requireFlag("bench", values, "encodings", "LIST")
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);
  const seedCount = int("seeds", 1, 1, 1000);
  const raw = {
    name: str("name") ?? `${task}-length-gen`,
    task: {
      id: task,
      params: str("task-params") ? parseJsonFlag("task-params", str("task-params") as string) : {},
    },
    model: {
      numLayers: int("layers", 4, 1, 64),
      dModel: int("d-model", 64, 2, 4096),
      numHeads: int("heads", 4, 1, 256),
    },
    encodings: encodings.map((id) => ({ id })),
    train: {
      length: parseRangeFlag("bench", "train-length", requireFlag("bench", values, "train-length", "A..B"), {
        min: 1,
      }),
      steps: int("steps", 1500),
      batchSize: int("batch", 64, 1, 4096),
      lr: str("lr") ? parsePositiveNumberFlag("bench", "lr", str("lr") as string) : 1e-3,
    },
    eval: {
      length: parseRangeFlag("bench", "test-length", requireFlag("bench", values, "test-length", "A..B"), {
        min: 1,
      }),
      samplesPerLength: int("samples", 50, 1, 100_000),
    },
    seeds: Array.from({ length: seedCount }, (_, i) => i),
  };
  return checkExperimentConfig(raw);
}

export const benchCommand: Command = {
  name: "bench",
  summary: "Run the length-generalization benchmark grid (encodings x seeds) and write results and reports.",
  usage:
    "posenc bench [length-gen] --task ID --encodings A,B,... --train-length A..B --test-length A..B [--seeds N] [--steps N] [--out DIR] [--shard i/n|auto [--shards N]] [--parallel N] [--resume] [--force] [--plan]\n       posenc bench [length-gen] --config FILE [--out DIR] [--shard i/n|auto [--shards N]] [--parallel N] [--resume] [--force] [--plan]",
  flags: {
    config: {
      type: "string",
      description: "Experiment config (JSON or YAML) instead of the grid flags",
      valueName: "FILE",
    },
    task: { type: "string", description: "Task id, e.g. reverse_string", valueName: "ID" },
    "task-params": {
      type: "string",
      description: "Task parameters as JSON, e.g. '{\"vocabSize\":16}'",
      valueName: "JSON",
    },
    encodings: {
      type: "string",
      description: "Comma-separated encoding ids, e.g. nope,rope,alibi,t5,fire",
      valueName: "LIST",
    },
    "train-length": { type: "string", description: "Training lengths, e.g. 1..20", valueName: "A..B" },
    "test-length": { type: "string", description: "Test lengths, e.g. 1..60", valueName: "A..B" },
    seeds: { type: "string", description: "Number of seeds (0..N-1; default 1)", valueName: "N" },
    steps: { type: "string", description: "Training steps per run (default 1500)", valueName: "N" },
    batch: { type: "string", description: "Batch size (default 64)", valueName: "N" },
    lr: { type: "string", description: "Peak learning rate (default 0.001)", valueName: "LR" },
    layers: { type: "string", description: "Transformer layers (default 4)", valueName: "N" },
    "d-model": { type: "string", description: "Model width (default 64)", valueName: "N" },
    heads: { type: "string", description: "Attention heads (default 4)", valueName: "N" },
    samples: {
      type: "string",
      description: "Held-out examples per test length (default 50)",
      valueName: "N",
    },
    name: {
      type: "string",
      description: "Name of the experiment (default TASK-length-gen)",
      valueName: "NAME",
    },
    out: {
      type: "string",
      description: "Output folder (default results/NAME, plus shard-i-of-n)",
      valueName: "DIR",
    },
    shard: {
      type: "string",
      description:
        "Run only shard i of n (every n-th job), or 'auto' from a Slurm job array or Kubernetes Indexed Job; merge with 'posenc report merge'",
      valueName: "i/n|auto",
    },
    shards: {
      type: "string",
      description: `Shard count for --shard auto where the scheduler exports none (Kubernetes); or set POSENC_SHARD_COUNT`,
      valueName: "N",
    },
    parallel: {
      type: "string",
      description: "Jobs side by side, one thread each (default 2)",
      valueName: "N",
    },
    resume: {
      type: "boolean",
      description: "Skip finished runs and continue interrupted ones from their checkpoints",
    },
    plan: {
      type: "boolean",
      description: "Print the plan and the estimated time (a few measured steps), then stop",
    },
    force: {
      type: "boolean",
      description: "Overwrite an output folder that holds another experiment's results",
    },
  },
  acceptsPositionals: true,
  async run(values, positionals) {
    const benchmark = positionals[0] ?? "length-gen";
    if (benchmark !== "length-gen" || positionals.length > 1) {
      throw new UsageError(
        `posenc bench: unknown benchmark "${positionals.join(" ")}": valid benchmarks are length-gen`,
      );
    }
    let config: ExperimentConfig;
    if (typeof values.config === "string") {
      const conflicting = GRID_FLAGS.find((f) => values[f] !== undefined);
      if (conflicting)
        throw new UsageError(`posenc bench: --${conflicting} conflicts with --config (set it in the file)`);
      config = loadExperimentConfig(values.config);
    } else {
      config = configFromFlags(values);
    }
    const str = (v: unknown) => (typeof v === "string" ? v : undefined);
    const scheduled = shardOfFlags(str(values.shard), str(values.shards), process.env);
    const shard = scheduled ? { index: scheduled.index, count: scheduled.count } : undefined;
    const parallel =
      typeof values.parallel === "string" ? parseIntegerFlag("bench", "parallel", values.parallel, 1, 64) : 2;
    const outDir =
      typeof values.out === "string"
        ? values.out
        : join("results", config.name, ...(shard ? [`shard-${shard.index}-of-${shard.count}`] : []));
    await runGridCommand(config, {
      outDir,
      ...(shard ? { shard } : {}),
      parallel,
      resume: values.resume === true,
      planOnly: values.plan === true,
      force: values.force === true,
    });
  },
};
