/**
 * The resolution-extrapolation config: train a patch encoder on one grid, test it at several larger grids.
 *
 *   name: rope2d-resolution
 *   task: { id: shapes, params: { patchSize: 4 } }
 *   model: { numLayers: 2, dModel: 64, numHeads: 4, mlpRatio: 4 }
 *   encodings: [ { id: rope-2d }, { id: learned-2d }, { id: nope } ]
 *   train: { grid: 4, steps: 600, batchSize: 32, lr: 0.001 }
 *   eval: { grids: [4, 6, 8, 10], samples: 200 }
 *   seeds: [0, 1, 2]
 *
 * Video methods with ids of their own (vrope, hope-video) are fed those, built from the task's (t, h, w) ids
 * (src/tasks/vision/position-layouts.ts); `eval.temporalScale` is the video HoPE's gamma at test (default 1).
 * Training defaults are the lab's (AdamW 0.9/0.98, weight decay 0.01, 5% warmup then cosine to 10%, clipping 1).
 * Validation is strict and names the key: `Invalid eval.grids[1]: expected an integer >= 2, received 1`; the task
 * and its parameters by the 2-D task registry, every encoding by building the model once at the largest grid.
 */
import { z } from "zod";
import { createVisionTransformer } from "../../model/vision.js";
import { idLayoutCoordinates, idLayoutOf } from "../../tasks/vision/position-layouts.js";
import { createVisionTask } from "../../tasks/vision/registry.js";
import { Rng } from "../../util/rng.js";
import { PosencConfigError } from "../../util/validation.js";
import { checkDistinctLabels, encodingChoice, modelSection, stackOf } from "../config.js";
import { zodIssueToConfigError } from "../zod-issues.js";

const int = (min: number, max: number, what: string) =>
  z.number().int().gte(min).lte(max).describe(`${what} (an integer in ${min}..${max})`);

export const visionExperimentSchema = z.strictObject({
  name: z.string().min(1).describe("a non-empty name").default("vision"),
  task: z.strictObject({
    id: z.string().min(1).describe("a 2-D task id: shapes, spatial_relation, table_lookup, frame_order"),
    params: z.record(z.string(), z.unknown()).describe("an object of parameters").default({}),
  }),
  model: modelSection,
  encodings: z.array(encodingChoice).min(1).describe("a non-empty list of {id, params}"),
  train: z.strictObject({
    grid: int(2, 64, "the training grid side"),
    steps: int(1, 10_000_000, "training steps"),
    batchSize: int(1, 4096, "examples per step").default(32),
    lr: z.number().gt(0).describe("a number > 0").default(1e-3),
    warmupFraction: z.number().gte(0).lte(1).describe("a number in [0, 1]").default(0.05),
    minLrRatio: z.number().gte(0).lte(1).describe("a number in [0, 1]").default(0.1),
    weightDecay: z.number().gte(0).describe("a number >= 0").default(0.01),
    gradClip: z.number().gt(0).describe("a number > 0").default(1),
    logEvery: int(1, 1_000_000, "steps between progress lines").default(100),
  }),
  eval: z.strictObject({
    grids: z
      .array(int(2, 64, "a test grid side"))
      .min(1)
      .describe("a non-empty list of grid sides"),
    samples: int(1, 100_000, "test examples per grid").default(200),
    batchSize: int(1, 4096, "examples per evaluation pass").default(50),
    /** The video HoPE's temporal scale gamma at test (position-layouts.ts); training draws it per clip. */
    temporalScale: z.number().gt(0).lte(16).describe("a number in (0, 16]").default(1),
  }),
  seeds: z
    .array(int(0, 4294967295, "a seed"))
    .min(1)
    .describe("a non-empty list of seeds")
    .default([0]),
});

export type VisionExperimentConfig = z.output<typeof visionExperimentSchema>;

/** The id layout of one encoding of the config (the method's own ids, or the task's grid ids). */
export function visionIdLayout(config: VisionExperimentConfig, index: number) {
  return idLayoutOf(
    stackOf(config.encodings[index]!).map((e) => e.id),
    `encodings[${index}]`,
  );
}

/** The model request of one encoding of the config, at the training grid, sized for the largest test grid. */
export function visionModelConfig(config: VisionExperimentConfig, index: number): Record<string, unknown> {
  const task = createVisionTask(config.task.id, config.task.params);
  const choice = config.encodings[index]!;
  const largest = Math.max(config.train.grid, ...config.eval.grids);
  const grid =
    task.frames > 1
      ? [task.frames, config.train.grid, config.train.grid]
      : [config.train.grid, config.train.grid];
  return {
    ...config.model,
    patchDim: task.patchDim,
    numClasses: task.classes.length,
    grid,
    maxSeqLen: task.frames * largest * largest,
    idCoordinates: idLayoutCoordinates(visionIdLayout(config, index), task.coordinates),
    encoding: stackOf(choice).map((e) => ({ id: e.id, params: { ...e.params } })),
  };
}

/** Parses and fully checks a config object (schema, task, labels, every encoding built once). */
export function parseVisionConfig(input: unknown): VisionExperimentConfig {
  const parsed = visionExperimentSchema.safeParse(input);
  if (!parsed.success) throw zodIssueToConfigError(visionExperimentSchema, input, parsed.error.issues);
  const config = parsed.data;
  createVisionTask(config.task.id, config.task.params, "task");
  if (config.model.dModel % config.model.numHeads !== 0) {
    throw new PosencConfigError(
      "conflict",
      "model.dModel",
      config.model.dModel,
      `a multiple of model.numHeads (${config.model.numHeads})`,
    );
  }
  const labels = checkDistinctLabels(config.encodings);
  config.encodings.forEach((_, i) => {
    try {
      const model = createVisionTransformer(visionModelConfig(config, i), new Rng(0));
      for (const p of model.parameters()) p.dispose();
    } catch (error) {
      if (error instanceof PosencConfigError) {
        throw new PosencConfigError(
          "invalid_value",
          `encodings[${i}]`,
          labels[i],
          `an encoding the patch encoder can use (${error.message})`,
        );
      }
      throw error;
    }
  });
  return config;
}
