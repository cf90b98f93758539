/**
 * The JSON config of `posenc fields --config FILE` (the reproductions in experiments/fields-*), validated like every
 * file posenc reads: unknown keys, wrong types and out-of-range values are one line naming the key.
 *   { "task": "sdf2d", "steps": 1500, "seeds": 3, "batch": 4096, "hidden": 64, "layers": 3, "size": 256,
 *     "evalEvery": 50, "budgetSeconds": 120, "clock": "cpu", "heldOut": true,
 *     "methods": ["neuda", { "name": "frequency-wide", "preset": "frequency", "hidden": 96, "options": {...} }] }
 * A method is a preset name (methods.ts) or an object deriving from a preset with overrides.
 */
import { z } from "zod";
import { getCoordinateEncoding } from "../encodings/coordinate/registry.js";
import { zodIssueToConfigError } from "../lab/zod-issues.js";
import { Rng } from "../util/rng.js";
import { PosencConfigError } from "../util/validation.js";
import { type MethodConfig, methodPreset, TASK_NAMES, type TaskName } from "./methods.js";
import { ACTIVATIONS, ARCHITECTURES } from "./mlp.js";
import type { FieldsPlan } from "./run.js";
import { CLOCKS } from "./train.js";

const int = (min: number, max: number) =>
  z.number().int().min(min).max(max).describe(`an integer from ${min} to ${max}`);

const methodSchema = z.union([
  z.string().describe("a method preset name"),
  z.strictObject({
    name: z
      .string()
      .regex(/^[a-z0-9][a-z0-9-]*$/)
      .describe("a folder-safe name (a-z, 0-9, -)"),
    preset: z.string().describe("a method preset name"),
    options: z
      .record(z.string(), z.union([z.number(), z.string()]))
      .optional()
      .describe("encoding options"),
    hidden: int(1, 1024).optional(),
    layers: int(1, 16).optional(),
    lr: z.number().positive().max(1).optional().describe("a learning rate in (0, 1]"),
    activation: z.enum(ACTIVATIONS).optional(),
    architecture: z.enum(ARCHITECTURES).optional(),
  }),
]);

export const planFileSchema = z.strictObject({
  task: z.enum(TASK_NAMES as [TaskName, ...TaskName[]]),
  methods: z.array(methodSchema).min(1).describe("a non-empty list of methods"),
  seeds: int(1, 100).default(1),
  steps: int(1, 1_000_000).default(300),
  batch: int(1, 1 << 20).default(4096),
  hidden: int(1, 1024).default(64),
  layers: int(1, 16).default(3),
  size: int(16, 1024).optional(),
  evalEvery: int(1, 1_000_000).default(50),
  checkpointEvery: int(1, 1_000_000).default(500),
  budgetSeconds: z.number().positive().optional().describe("a number of seconds > 0"),
  clock: z.enum(CLOCKS).optional(),
  heldOut: z.boolean().optional().describe("true or false (image task only)"),
});

export type PlanFile = z.input<typeof planFileSchema>;

/** Validates a parsed config and turns it into a plan (method presets resolved; names must be unique). */
export function planFromConfig(input: unknown, prefix = "config"): FieldsPlan {
  const parsed = planFileSchema.safeParse(input);
  if (!parsed.success) throw zodIssueToConfigError(planFileSchema, input, parsed.error.issues, prefix);
  const c = parsed.data;
  if (c.heldOut !== undefined && c.task !== "image")
    throw new PosencConfigError(
      "invalid_value",
      `${prefix}.heldOut`,
      c.heldOut,
      "absent for the sdf tasks (image only)",
    );
  const methods: MethodConfig[] = c.methods.map((m) => {
    if (typeof m === "string") return methodPreset(c.task, m, c.hidden, c.layers);
    const base = methodPreset(c.task, m.preset, m.hidden ?? c.hidden, m.layers ?? c.layers);
    return {
      ...base,
      name: m.name,
      options: { ...base.options, ...(m.options ?? {}) },
      lr: m.lr ?? base.lr,
      activation: m.activation ?? base.activation,
      architecture: m.architecture ?? base.architecture,
    };
  });
  // Build every encoder once now, so a bad option fails before any work (one line naming it).
  const dim = c.task === "sdf3d" ? 3 : 2;
  for (const m of methods) {
    for (const p of getCoordinateEncoding(m.encoding).create(dim, new Rng(0), m.options).parameters)
      p.dispose();
  }
  const names = methods.map((m) => m.name);
  const duplicate = names.find((n, i) => names.indexOf(n) !== i);
  if (duplicate)
    throw zodIssueToConfigError(
      planFileSchema,
      input,
      [
        {
          code: "custom",
          path: ["methods"],
          message: `unique method names (${duplicate} appears twice)`,
          input,
        } as never,
      ],
      prefix,
    );
  return {
    task: c.task,
    size: c.size,
    methods,
    seeds: Array.from({ length: c.seeds }, (_, i) => i),
    steps: c.steps,
    batch: c.batch,
    evalEvery: c.evalEvery,
    checkpointEvery: c.checkpointEvery,
    budgetSeconds: c.budgetSeconds,
    clock: c.clock,
    heldOut: c.heldOut,
  };
}
