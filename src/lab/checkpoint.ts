/**
 * Training checkpoints: a safetensors file with the parameters AND the AdamW moments, plus a JSON sidecar.
 *
 *   <dir>/weights-000300.safetensors   param.<i>.<name>, adam.m.<i>.<name>, adam.v.<i>.<name> (float32)
 *   <dir>/checkpoint.json              { format, weights: "weights-000300.safetensors", step, optimizerStep,
 *                                        config, encoding, seed, lossHistory, tokensSeen, trainSeconds, rng }
 *
 * Atomicity: the weights go to a NEW file name (temporary name, then rename), then the sidecar is replaced the
 * same way, and only then are older weights files deleted. The sidecar is the commit point: whenever the process
 * dies, `checkpoint.json` names a complete weights file of the same step, so `--resume` never sees a torn pair.
 * The data stream needs no saved state: each step's Rng is derived from (seed, step) (see seeds.ts).
 *
 * Reading is validated like a config: the sidecar by a zod schema (its config re-checked in full, its encoding one
 * of the config's, its weights a file name inside the folder, also after symlinks), and the weights must be the
 * ones the sidecar claims: the safetensors metadata holds the step and a SHA-256 fingerprint of (config,
 * encoding, seed), every tensor must have the shape the claimed config builds, and every value must be finite.
 */
import { createHash } from "node:crypto";
import { existsSync, readdirSync, realpathSync, rmSync } from "node:fs";
import { join, relative } from "node:path";
import { z } from "zod";
import type { Adam, Parameter } from "../engine/index.js";
import { PosencConfigError } from "../util/validation.js";
import {
  type EncodingChoice,
  type ExperimentConfig,
  encodingLabel,
  parseExperimentConfig,
} from "./config.js";
import { checkExperimentConfig } from "./config-file.js";
import { readInputFile, readInputJson, withinFile, writeFileAtomic } from "./files.js";
import { decodeSafetensors, encodeSafetensors, type TensorData } from "./safetensors.js";
import { zodIssueToConfigError } from "./zod-issues.js";

export const CHECKPOINT_FORMAT = "posenc-checkpoint/1";
export const SIDECAR_NAME = "checkpoint.json";

export interface CheckpointSidecar {
  format: typeof CHECKPOINT_FORMAT;
  /** The weights file this sidecar belongs to (in the same folder). */
  weights: string;
  /** Steps completed: training resumes at this 0-based step. */
  step: number;
  /** The optimizer's bias-correction counter t. */
  optimizerStep: number;
  config: ExperimentConfig;
  encoding: EncodingChoice;
  seed: number;
  /** Training loss of every completed step, in order (float32 values, exact in JSON). */
  lossHistory: number[];
  /** Non-pad input tokens seen so far. */
  tokensSeen: number;
  /** Training wall time so far (excluding checkpoint writes), seconds. */
  trainSeconds: number;
  /** How the data and model randomness is derived (no state to save). */
  rng: { scheme: string };
}

/** Adam's moment buffers. The engine keeps them private; this reads them without copying. */
export function adamMoments(optimizer: Adam): { m: Float32Array[]; v: Float32Array[] } {
  const state = optimizer as unknown as { m?: Float32Array[]; v?: Float32Array[] };
  if (!Array.isArray(state.m) || !Array.isArray(state.v)) {
    throw new RangeError("checkpoint: the optimizer does not expose Adam moments m and v");
  }
  return { m: state.m, v: state.v };
}

function tensorName(prefix: string, index: number, param: Parameter): string {
  return `${prefix}.${String(index).padStart(3, "0")}.${param.name || "unnamed"}`;
}

/** The weights-file name of a step. */
export function weightsFileName(step: number): string {
  return `weights-${String(step).padStart(6, "0")}.safetensors`;
}

/** Writes a checkpoint atomically (weights, then sidecar, then old weights removed). */
export function saveCheckpoint(
  dir: string,
  params: readonly Parameter[],
  optimizer: Adam,
  sidecar: Omit<CheckpointSidecar, "format" | "weights" | "optimizerStep" | "rng"> & {
    rng?: { scheme: string };
  },
): CheckpointSidecar {
  const { m, v } = adamMoments(optimizer);
  const tensors = new Map<string, { shape: readonly number[]; data: TensorData }>();
  params.forEach((p, i) => {
    tensors.set(tensorName("param", i, p), { shape: p.shape, data: p.data });
    tensors.set(tensorName("adam.m", i, p), { shape: p.shape, data: m[i] });
    tensors.set(tensorName("adam.v", i, p), { shape: p.shape, data: v[i] });
  });
  const weights = weightsFileName(sidecar.step);
  writeFileAtomic(
    join(dir, weights),
    encodeSafetensors(tensors, {
      format: CHECKPOINT_FORMAT,
      step: String(sidecar.step),
      run: runFingerprint(sidecar.config, sidecar.encoding, sidecar.seed),
    }),
  );
  const full: CheckpointSidecar = {
    format: CHECKPOINT_FORMAT,
    weights,
    optimizerStep: optimizer.stepCount,
    rng: sidecar.rng ?? { scheme: "per-step Rng derived from (seed, stream, step)" },
    ...sidecar,
  };
  writeFileAtomic(join(dir, SIDECAR_NAME), `${JSON.stringify(full, null, 1)}\n`);
  // Older weights, and temporary files a killed writer left behind (their pid is not ours).
  const ours = `.${process.pid}.tmp`;
  for (const name of readdirSync(dir)) {
    const oldWeights = name !== weights && /^weights-\d+\.safetensors$/.test(name);
    const staleTemporary =
      /^\.(weights-\d+\.safetensors|checkpoint\.json)\.\d+\.tmp$/.test(name) && !name.endsWith(ours);
    if (oldWeights || staleTemporary) rmSync(join(dir, name), { force: true });
  }
  return full;
}

/** JSON with every object's keys sorted: the same text for the same content, whatever the key order. */
function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_, v: unknown) =>
    v && typeof v === "object" && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : v,
  );
}

/**
 * SHA-256 of the run a checkpoint belongs to, stored in the weights' metadata so that an edited sidecar is
 * detected. Over the config with its defaults filled in (as a sidecar's config is read back), the encoding's label
 * (unique in a config) and the seed, in canonical JSON.
 */
export function runFingerprint(config: ExperimentConfig, encoding: EncodingChoice, seed: number): string {
  const run = { config: parseExperimentConfig(config), encoding: encodingLabel(encoding), seed };
  return createHash("sha256").update(canonicalJson(run)).digest("hex");
}

const count = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER).describe("an integer >= 0");
const sidecarSchema = z.strictObject({
  format: z.literal(CHECKPOINT_FORMAT).describe(`"${CHECKPOINT_FORMAT}"`),
  weights: z
    .string()
    .regex(/^weights-\d+\.safetensors$/)
    .describe('a weights file in the checkpoint folder, "weights-NNNNNN.safetensors"'),
  step: count,
  optimizerStep: count,
  config: z.unknown(),
  encoding: z.unknown(),
  seed: z.number().int().min(0).max(4294967295).describe("an integer from 0 to 4294967295"),
  // A diverged loss is NaN, which JSON writes as null.
  lossHistory: z.array(z.number().nullable().describe("a number or null")).describe("a list of losses"),
  tokensSeen: count,
  trainSeconds: z.number().min(0).describe("a finite number >= 0"),
  rng: z.strictObject({ scheme: z.string().describe("a string") }),
});

/** Validates a parsed sidecar of `path`; throws one PosencConfigError naming the file and the key. */
export function parseSidecar(path: string, input: unknown): CheckpointSidecar {
  return withinFile(path, () => {
    const parsed = sidecarSchema.safeParse(input);
    if (!parsed.success) throw zodIssueToConfigError(sidecarSchema, input, parsed.error.issues);
    const raw = parsed.data;
    const config = withinFile("config", () => checkExperimentConfig(raw.config), ".");
    const encoding = config.encodings.find((e) => JSON.stringify(e) === JSON.stringify(raw.encoding));
    if (!encoding) {
      throw new PosencConfigError("invalid_value", "encoding", raw.encoding, "one of the config's encodings");
    }
    if (raw.lossHistory.length < raw.step) {
      throw new PosencConfigError(
        "conflict",
        "lossHistory",
        `${raw.lossHistory.length} losses`,
        `at least one loss per completed step (step is ${raw.step})`,
      );
    }
    if (raw.step > config.train.steps) {
      throw new PosencConfigError(
        "out_of_range",
        "step",
        raw.step,
        `at most train.steps (${config.train.steps})`,
      );
    }
    return {
      ...raw,
      config,
      encoding,
      lossHistory: raw.lossHistory.map((loss) => loss ?? Number.NaN),
    } as CheckpointSidecar;
  });
}

/** The sidecar of `dir`, validated, or undefined when the folder has no checkpoint yet. */
export function readSidecar(dir: string): CheckpointSidecar | undefined {
  const path = join(dir, SIDECAR_NAME);
  if (!existsSync(path)) return undefined;
  return parseSidecar(path, readInputJson("checkpoint sidecar", path));
}

/** The path of the sidecar's weights file, refused when it (or a symlink on the way) leaves the folder. */
function weightsPath(dir: string, sidecar: CheckpointSidecar): string {
  const path = join(dir, sidecar.weights);
  let outside = false;
  try {
    const rel = relative(realpathSync(dir), realpathSync(path));
    outside = rel.startsWith("..") || rel === "" || rel.includes("/") || rel.includes("\\");
  } catch {
    // a missing file is reported by the reader
  }
  if (outside) {
    throw new PosencConfigError(
      "invalid_value",
      `${join(dir, SIDECAR_NAME)}: weights`,
      sidecar.weights,
      "a weights file inside the checkpoint folder (it links outside)",
    );
  }
  return path;
}

function firstNonFinite(data: TensorData): number {
  for (let i = 0; i < data.length; i++) if (!Number.isFinite(data[i])) return i;
  return -1;
}

/**
 * Loads the weights named by `sidecar` into `params` and the optimizer (moments and step counter). The weights
 * must belong to the sidecar's run (fingerprint and step), every tensor must be present with the parameter's
 * shape, and every value finite; anything else is one PosencConfigError naming the file and the tensor.
 */
export function loadCheckpointInto(
  dir: string,
  sidecar: CheckpointSidecar,
  params: readonly Parameter[],
  optimizer?: Adam,
): void {
  const path = weightsPath(dir, sidecar);
  const file = decodeSafetensors(new Uint8Array(readInputFile("checkpoint weights", path)), path);
  const sidecarPath = join(dir, SIDECAR_NAME);
  const { step, run } = file.metadata;
  if (step !== undefined && step !== String(sidecar.step)) {
    throw new PosencConfigError(
      "conflict",
      `${sidecarPath}: step`,
      sidecar.step,
      `the step of ${sidecar.weights} (${step})`,
    );
  }
  if (run !== undefined && run !== runFingerprint(sidecar.config, sidecar.encoding, sidecar.seed)) {
    throw new PosencConfigError(
      "conflict",
      `${sidecarPath}: config, encoding or seed`,
      `${JSON.stringify(sidecar.encoding)} seed ${sidecar.seed}`,
      `the run ${sidecar.weights} was trained for (the sidecar was edited)`,
    );
  }
  const take = (name: string, param: Parameter, into: Float32Array): void => {
    const t = file.tensors.get(name);
    const wanted = `[${param.shape.join(", ")}] F32, as the config in ${SIDECAR_NAME} builds it`;
    if (t?.dtype !== "F32" || t.shape.join(",") !== param.shape.join(",")) {
      throw new PosencConfigError(
        t ? "conflict" : "missing_key",
        `${path}: tensor "${name}"`,
        t ? `[${t.shape.join(", ")}] ${t.dtype}` : undefined,
        wanted,
      );
    }
    const bad = firstNonFinite(t.data);
    if (bad >= 0) {
      throw new PosencConfigError(
        "invalid_value",
        `${path}: tensor "${name}"[${bad}]`,
        t.data[bad],
        "finite weights (the run diverged or the file is damaged)",
      );
    }
    into.set(t.data as Float32Array);
  };
  const moments = optimizer ? adamMoments(optimizer) : undefined;
  params.forEach((p, i) => {
    take(tensorName("param", i, p), p, p.data);
    if (moments) {
      take(tensorName("adam.m", i, p), p, moments.m[i]);
      take(tensorName("adam.v", i, p), p, moments.v[i]);
    }
  });
  if (optimizer) optimizer.stepCount = sidecar.optimizerStep;
}
