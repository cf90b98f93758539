/**
 * The experiment config of the lab: one file (JSON or YAML) says what to train, on what, and how to score it.
 *
 *   name: reverse-rope
 *   task: { id: reverse_string, params: { vocabSize: 16 } }
 *   model: { numLayers: 4, dModel: 64, numHeads: 4 }
 *   encodings: [ { id: rope }, { id: alibi } ]
 *   train: { length: "1..20", steps: 2000, batchSize: 64, lr: 0.001 }
 *   eval: { length: "1..60", samplesPerLength: 30 }
 *   seeds: [0, 1]
 *
 * Defaults are the PyTorch calibration's setup (the project's PyTorch calibration notes): AdamW with betas
 * 0.9/0.98 and weight decay 0.01, linear warmup over 5% of the steps then cosine down to 10% of the peak lr,
 * gradient clipping at 1.0, batch 64, fresh random examples every step.
 *
 * Validation is strict: an unknown key or a bad value throws ONE PosencConfigError naming the key path, the value
 * and what is valid (`Invalid train.lr: expected a finite number > 0, received -1`). Task parameters are checked
 * by the task registry and encoding parameters by each encoding's own schema (`resolveParams`).
 */
import { z } from "zod";
import { getEncoding } from "../encodings/registry.js";
import { checkLengthSpec } from "../tasks/format.js";
import { createTask, taskEntry } from "../tasks/registry.js";
import { checkSegments } from "../tasks/text/segmented.js";
import type { Task } from "../tasks/types.js";
import {
  checkIntegerRange,
  formatIntegerRange,
  type IntegerRange,
  parseIntegerRange,
} from "../util/range.js";
import { describeNumberRule, type NumberRule, PosencConfigError } from "../util/validation.js";
import { zodIssueToConfigError } from "./zod-issues.js";

/** An inclusive integer range of task lengths. */
export type LengthRange = IntegerRange;

/** Task lengths are integers >= 1. */
const LENGTH_RULE = { min: 1 } as const;
const RANGE_WORDING = 'a length range "A..B" with 1 <= A <= B, a single integer, or {min, max}';

/**
 * Parses "A..B", "A" (the shared range parser, src/util/range.ts), an integer or {min, max} into a range;
 * returns undefined when it is none of these.
 */
export function parseLengthRange(value: unknown): LengthRange | undefined {
  if (typeof value === "number") return checkIntegerRange(value, value, LENGTH_RULE);
  if (typeof value === "string") return parseIntegerRange(value, LENGTH_RULE);
  if (value && typeof value === "object" && !Array.isArray(value)) {
    const keys = Object.keys(value);
    if (keys.length !== 2 || !keys.includes("min") || !keys.includes("max")) return undefined;
    const { min, max } = value as Record<string, unknown>;
    return checkIntegerRange(min, max, LENGTH_RULE);
  }
  return undefined;
}

/** "1..20" (or "7" for a single length). */
export const formatLengthRange: (range: LengthRange) => string = formatIntegerRange;

const lengthRange = z.unknown().transform((value, ctx): LengthRange => {
  const range = parseLengthRange(value);
  if (!range) {
    ctx.addIssue({ code: "custom", message: RANGE_WORDING });
    return z.NEVER;
  }
  return range;
});

const num = (rule: NumberRule) => {
  let schema = rule.integer ? z.number().int() : z.number();
  if (rule.min !== undefined) schema = rule.exclusiveMin ? schema.gt(rule.min) : schema.gte(rule.min);
  if (rule.max !== undefined) schema = rule.exclusiveMax ? schema.lt(rule.max) : schema.lte(rule.max);
  return schema.describe(describeNumberRule(rule));
};

const params = z.record(z.string(), z.unknown()).describe("an object of parameters");

const encodingRef = z.strictObject({
  /** Registry id of the encoding. */
  id: z.string().min(1).describe("an encoding id (see 'posenc list')"),
  params: params.default({}),
});

/**
 * One encoding of the grid: a registry id with params, or a `stack` of encodings filling different hook slots
 * (e.g. randomized-positions feeding rope), with the label reports show (default: the id, or the ids joined by +).
 */
export const encodingChoice = z
  .strictObject({
    id: z.string().min(1).describe("an encoding id (see 'posenc list')").optional(),
    params: params.optional(),
    stack: z.array(encodingRef).min(1).describe("a non-empty list of {id, params}").optional(),
    label: z.string().min(1).describe("a non-empty label").optional(),
  })
  .superRefine((choice, ctx) => {
    if ((choice.id === undefined) === (choice.stack === undefined)) {
      ctx.addIssue({ code: "custom", message: "either id (with params) or stack, not both", path: [] });
    } else if (choice.stack && choice.params) {
      ctx.addIssue({ code: "custom", message: "params inside each stack entry", path: ["params"] });
    }
  });

/**
 * Earlier names of model keys, still accepted: the model's vocabulary (numLayers, numHeads, as ModelConfig in
 * src/model/config.ts) is the config's. Giving both names of one key is a conflict.
 */
const MODEL_KEY_ALIASES: Readonly<Record<string, string>> = { layers: "numLayers", heads: "numHeads" };

function renameModelAliases(value: unknown): unknown {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return value;
  const out: Record<string, unknown> = { ...value };
  for (const [alias, key] of Object.entries(MODEL_KEY_ALIASES)) {
    if (!Object.hasOwn(out, alias)) continue;
    if (Object.hasOwn(out, key)) {
      throw new PosencConfigError(
        "conflict",
        `model.${alias}`,
        out[alias],
        `only one of ${key} and its earlier name ${alias}`,
      );
    }
    out[key] = out[alias];
    delete out[alias];
  }
  return out;
}

/** The model section (also used to read results files written before the rename). */
export const modelSection = z.preprocess(
  renameModelAliases,
  z
    .strictObject({
      numLayers: num({ integer: true, min: 1, max: 64 }).default(4),
      dModel: num({ integer: true, min: 2, max: 4096 }).default(64),
      numHeads: num({ integer: true, min: 1, max: 256 }).default(4),
      mlpRatio: num({ integer: true, min: 1, max: 16 }).default(4),
    })
    .default({ numLayers: 4, dModel: 64, numHeads: 4, mlpRatio: 4 }),
);

export const experimentSchema = z.strictObject({
  name: z.string().min(1).describe("a non-empty name").default("experiment"),
  task: z.strictObject({
    id: z.string().min(1).describe("a task id (see src/tasks/registry.ts)"),
    params: params.default({}),
    layout: z.enum(["decoder", "encoder"]).describe('one of "decoder", "encoder"').default("decoder"),
    /**
     * Two-coordinate position ids built from each decoder batch (src/tasks/orders.ts): "countdown" (t, answer
     * tokens left; LDPE) or "order" ((own, next) position; σ-GPT, left to right unless train.order is "random").
     */
    positionIds: z.enum(["countdown", "order"]).describe('one of "countdown", "order"').optional(),
  }),
  model: modelSection,
  encodings: z.array(encodingChoice).min(1).describe("a non-empty list of {id, params}"),
  train: z.strictObject({
    length: lengthRange,
    steps: num({ integer: true, min: 1 }),
    batchSize: num({ integer: true, min: 1, max: 4096 }).default(64),
    lr: num({ min: 0, exclusiveMin: true }).default(1e-3),
    /** Linear warmup over this fraction of the steps. */
    warmupFraction: num({ min: 0, max: 1 }).default(0.05),
    /** The cosine decays to minLrRatio * lr at the last step. */
    minLrRatio: num({ min: 0, max: 1 }).default(0.1),
    beta1: num({ min: 0, max: 1, exclusiveMax: true }).default(0.9),
    beta2: num({ min: 0, max: 1, exclusiveMax: true }).default(0.98),
    eps: num({ min: 0, exclusiveMin: true }).default(1e-8),
    weightDecay: num({ min: 0 }).default(0.01),
    gradClip: num({ min: 0, exclusiveMin: true }).default(1),
    /** Write a checkpoint every N steps (and at the end); 0 = only at the end. */
    checkpointEvery: num({ integer: true, min: 0 }).default(100),
    /** Progress line every N steps when stdout is not a TTY. */
    logEvery: num({ integer: true, min: 1 }).default(100),
    /**
     * Length-bucketed batches (decoder layout): sample this many batches at once, sort their examples by length
     * into that many batches, train them in a seeded order (src/lab/batching.ts). Absent or 1: every batch is
     * padded to the run's longest sequence.
     */
    bucketWindow: num({ integer: true, min: 1, max: 1024 }).optional(),
    /**
     * "random": each training example's answer is generated in a random order (σ-GPT; needs task.positionIds
     * "order"); evaluation stays left to right. Absent: left to right.
     */
    order: z.enum(["left-to-right", "random"]).describe('one of "left-to-right", "random"').optional(),
    /**
     * Training on segmented sequences (arXiv:2310.14633; src/tasks/text/segmented.ts): each row is `count`
     * segments of a stretch of `span` characters, keeping their position ids in [0, span). Text tasks, one length.
     */
    segments: z
      .strictObject({
        span: num({ integer: true, min: 1 }),
        count: num({ integer: true, min: 1 }),
      })
      .optional(),
  }),
  eval: z.strictObject({
    length: lengthRange,
    /** Task parameters that differ at evaluation (e.g. addition's sameLength: true), merged over task.params. */
    taskParams: params.optional(),
    samplesPerLength: num({ integer: true, min: 1, max: 100000 }).default(50),
    /**
     * Examples per evaluation forward pass. Each test length is its own sequence length, and the engine keeps
     * freed buffers per exact size, so memory grows with batchSize x the number of test lengths: keep it small.
     */
    batchSize: num({ integer: true, min: 1, max: 4096 }).default(16),
  }),
  seeds: z
    .array(num({ integer: true, min: 0, max: 4294967295 }))
    .min(1)
    .describe("a non-empty list of seeds")
    .default([0]),
});

export type ExperimentConfig = z.output<typeof experimentSchema>;
export type EncodingChoice = ExperimentConfig["encodings"][number];

/**
 * Validates a parsed config object: the schema, then the task (id, params, lengths) through the task registry and
 * each encoding through the encoding registry. Returns the config with every default filled in.
 */
export function parseExperimentConfig(input: unknown): ExperimentConfig {
  const parsed = experimentSchema.safeParse(input);
  if (!parsed.success) throw zodIssueToConfigError(experimentSchema, input, parsed.error.issues);
  const config = parsed.data;
  const entry = taskEntry(config.task.id, "task.id");
  const task = createTask(entry.id, config.task.params, "task.params");
  checkLengthSpec(task, config.train.length, "train.length");
  const evalTask = evalTaskOf(config, "eval.taskParams");
  checkLengthSpec(evalTask, config.eval.length, "eval.length");
  const evalSplit = { ...config.task.params, ...config.eval.taskParams }.split ?? "train";
  if (entry.level === "text" && evalSplit === "train") {
    // Text tasks evaluate on held-out documents: the training split would measure memorisation.
    throw new PosencConfigError("conflict", "eval.taskParams.split", evalSplit, '"validation" or "test"');
  }
  checkTaskPositionIds(config);
  checkTrainSegments(config, entry.level);
  config.encodings.forEach((choice, i) => {
    stackOf(choice).forEach((ref, j) => {
      const path = choice.stack ? `encodings[${i}].stack[${j}]` : `encodings[${i}]`;
      getEncoding(ref.id, `${path}.id`);
    });
  });
  checkDistinctLabels(config.encodings);
  if (config.model.dModel % config.model.numHeads !== 0) {
    throw new PosencConfigError(
      "conflict",
      "model.dModel",
      config.model.dModel,
      `a multiple of model.numHeads (${config.model.numHeads})`,
    );
  }
  return config;
}

/** train.segments: a text task, one training length, no other position-id scheme, count and span fit it. */
function checkTrainSegments(config: ExperimentConfig, level: string): void {
  const segments = config.train.segments;
  if (!segments) return;
  const conflict = (key: string, value: unknown, expected: string) => {
    throw new PosencConfigError("conflict", key, value, expected);
  };
  if (level !== "text") conflict("train.segments", "(set)", "a text task (segments of running text)");
  const { min, max } = config.train.length;
  if (min !== max) conflict("train.length", `${min}..${max}`, "one length with train.segments");
  if (config.task.positionIds)
    conflict("task.positionIds", config.task.positionIds, "nothing with train.segments");
  if ((config.train.bucketWindow ?? 1) > 1)
    conflict("train.bucketWindow", config.train.bucketWindow, "1 or nothing with train.segments");
  checkSegments(segments, max);
}

/** task.positionIds needs the decoder layout; train.order "random" needs task.positionIds "order". */
function checkTaskPositionIds(config: ExperimentConfig): void {
  const scheme = config.task.positionIds;
  if (scheme && config.task.layout !== "decoder") {
    throw new PosencConfigError(
      "conflict",
      "task.positionIds",
      scheme,
      'task.layout "decoder" (ids follow its answer)',
    );
  }
  if (config.train.order === "random" && scheme !== "order") {
    throw new PosencConfigError(
      "conflict",
      "train.order",
      config.train.order,
      'task.positionIds "order" (the shuffled tokens carry their (own, next) positions)',
    );
  }
}

/**
 * The test lengths that count as in distribution: the training range, extended down to the task's smallest length
 * when a training length bounds the example size (addition trained with "10" sees operands of 1..10 digits).
 */
export function inDistributionRange(config: ExperimentConfig): LengthRange {
  const train = config.train.length;
  const task = createTask(config.task.id, config.task.params);
  return task.lengthIsUpperBound ? { min: task.minLength, max: train.max } : train;
}

/** The task the held-out examples come from: task.params with eval.taskParams merged over them. */
export function evalTaskOf(config: ExperimentConfig, paramsPath?: string): Task {
  return createTask(config.task.id, { ...config.task.params, ...(config.eval.taskParams ?? {}) }, paramsPath);
}

/** The name an encoding has in results and reports. */
export function encodingLabel(choice: EncodingChoice): string {
  return (
    choice.label ??
    choice.id ??
    stackOf(choice)
      .map((e) => e.id)
      .join("+")
  );
}

/** The registry encodings of a choice, in order (one for a plain id). */
export function stackOf(choice: EncodingChoice): { id: string; params: Record<string, unknown> }[] {
  return choice.stack ?? [{ id: choice.id ?? "", params: choice.params ?? {} }];
}

/** The encodings' labels (reports key on them), each distinct; a repeated one is a conflict naming it. */
export function checkDistinctLabels(encodings: readonly EncodingChoice[]): string[] {
  const labels = encodings.map(encodingLabel);
  const duplicate = labels.find((label, i) => labels.indexOf(label) !== i);
  if (duplicate !== undefined) {
    throw new PosencConfigError(
      "conflict",
      "encodings",
      duplicate,
      "distinct ids or labels for every encoding",
    );
  }
  return labels;
}

/** Peak, floor, warmup and decay of the engine's `learningRateAt` for a training config. */
export function scheduleOf(train: ExperimentConfig["train"]): {
  maxLr: number;
  minLr: number;
  warmupSteps: number;
  decaySteps: number;
} {
  return {
    maxLr: train.lr,
    minLr: train.lr * train.minLrRatio,
    warmupSteps: Math.round(train.warmupFraction * train.steps),
    decaySteps: train.steps,
  };
}
