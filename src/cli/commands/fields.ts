/**
 * `posenc fields`: fit neural fields (an image, a 2-D SDF, a 3-D SDF) with coordinate encodings, over seeds, with
 * progress, checkpoints, --resume, tables, pictures and a self-contained HTML report (src/fields/).
 */
import { join } from "node:path";
import { initEngineSync } from "../../engine/index.js";
import { methodNames, TASK_NAMES } from "../../fields/methods.js";
import { planFromConfig } from "../../fields/plan-file.js";
import { resultsTable } from "../../fields/report.js";
import { runFields } from "../../fields/run.js";
import { checkOutputFolder } from "../../lab/files.js";
import { shardOfFlags } from "../../lab/scheduler-shard.js";
import { type Command, parseIntegerFlag } from "../args.js";
import { UsageError } from "../errors.js";
import { readJsonFile } from "../io.js";

const DEFAULT_METHODS = "relu,frequency,gaussian-fourier,siren,spder,neuda";

export const fieldsCommand: Command = {
  name: "fields",
  summary:
    "Fit neural fields (image, 2-D SDF, 3-D SDF) with coordinate encodings; tables, pictures, HTML report",
  usage:
    "posenc fields --task image|sdf2d|sdf3d [--encodings a,b,...] [--seeds N] [--steps N] [--out DIR] [--resume] [--shard i/n]\n       posenc fields --config experiments/fields-sdf2d-neuda/fields.json --out DIR",
  flags: {
    task: { type: "string", description: `${TASK_NAMES.join(", ")}`, valueName: "TASK" },
    encodings: {
      type: "string",
      description: `methods, comma-separated (default ${DEFAULT_METHODS})`,
      valueName: "LIST",
    },
    seeds: { type: "string", description: "seeds 0..N-1 (default 1)", valueName: "N" },
    steps: { type: "string", description: "training steps per run (default 300)", valueName: "N" },
    hidden: { type: "string", description: "hidden width (default 64)", valueName: "N" },
    layers: { type: "string", description: "hidden layers (default 3)", valueName: "N" },
    size: { type: "string", description: "image side / SDF grid (default 64 / 256 / 48)", valueName: "N" },
    batch: { type: "string", description: "points per step (default 4096)", valueName: "N" },
    config: {
      type: "string",
      description: "a JSON plan (experiments/fields-*/fields.json); flags override it",
      valueName: "FILE",
    },
    out: { type: "string", description: "output folder (default fields-<task>)", valueName: "DIR" },
    resume: { type: "boolean", description: "continue the run in --out (same plan)" },
    shard: {
      type: "string",
      description:
        "run only shard i of n (every n-th run) in the shared --out (start every shard with --resume); the last to finish writes the tables",
      valueName: "i/n|auto",
    },
  },
  run(values) {
    const config: Record<string, unknown> = values.config
      ? (readJsonFile("--config", String(values.config)) as Record<string, unknown>)
      : {};
    if (typeof config !== "object" || config === null || Array.isArray(config)) {
      throw new UsageError(`posenc fields: --config ${values.config} must hold a JSON object`);
    }
    const merged: Record<string, unknown> = { ...config };
    if (values.task !== undefined) merged.task = values.task;
    if (merged.task === undefined)
      throw new UsageError(`posenc fields: missing --task (one of ${TASK_NAMES.join(", ")})`);
    if (!TASK_NAMES.includes(merged.task as never)) {
      throw new UsageError(
        `posenc fields: --task must be one of ${TASK_NAMES.join(", ")}, received "${merged.task}"`,
      );
    }
    const task = merged.task as (typeof TASK_NAMES)[number];
    if (values.encodings !== undefined) {
      const list = String(values.encodings)
        .split(",")
        .map((s) => s.trim())
        .filter(Boolean);
      const unknown = list.find((m) => !methodNames(task).includes(m));
      if (unknown !== undefined || list.length === 0) {
        throw new UsageError(
          `posenc fields: --encodings has "${unknown ?? ""}"; valid methods are ${methodNames(task).join(", ")}`,
        );
      }
      merged.methods = list;
    }
    if (merged.methods === undefined) merged.methods = DEFAULT_METHODS.split(",");
    const limits: Record<string, [number, number]> = {
      seeds: [1, 100],
      steps: [1, 1_000_000],
      hidden: [1, 1024],
      layers: [1, 16],
      size: [16, 1024],
      batch: [1, 1 << 20],
    };
    for (const [flag, [min, max]] of Object.entries(limits)) {
      if (values[flag] !== undefined)
        merged[flag] = parseIntegerFlag("fields", flag, String(values[flag]), min, max);
    }
    const plan = planFromConfig(merged, values.config ? `--config ${values.config}` : "fields");
    const shard = shardOfFlags(
      values.shard === undefined ? undefined : String(values.shard),
      undefined,
      process.env,
    );
    const out = String(values.out ?? `fields-${task}`);
    checkOutputFolder("--out", out);
    initEngineSync({ threads: 1 });
    const tty = process.stderr.isTTY === true;
    const results = runFields(plan, out, {
      resume: values.resume === true,
      shard: shard ? { index: shard.index, count: shard.count } : undefined,
      log: (line, inPlace) => {
        if (inPlace && tty) process.stderr.write(`\r\x1b[2K${line}`);
        else if (!inPlace) process.stderr.write(`${tty ? "\r\x1b[2K" : ""}${line}\n`);
        else process.stderr.write(`${line}\n`);
      },
    });
    process.stdout.write(
      `\n${resultsTable(results)}\nWrote results.json, results.md, report.html and the pictures to ${join(out)}\n`,
    );
  },
};
