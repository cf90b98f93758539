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
 */
import { existsSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { writeFileAtomic } from "../cli/io.js";
import type { Adam, Parameter } from "../engine/index.js";
import { PosencConfigError } from "../util/validation.js";
import type { EncodingChoice, ExperimentConfig } from "./config.js";
import { decodeSafetensors, encodeSafetensors, type TensorData } from "./safetensors.js";

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
    encodeSafetensors(tensors, { format: CHECKPOINT_FORMAT, step: String(sidecar.step) }),
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

/** The sidecar of `dir`, or undefined when the folder has no checkpoint yet. */
export function readSidecar(dir: string): CheckpointSidecar | undefined {
  const path = join(dir, SIDECAR_NAME);
  if (!existsSync(path)) return undefined;
  const sidecar = JSON.parse(readFileSync(path, "utf8")) as CheckpointSidecar;
  if (sidecar.format !== CHECKPOINT_FORMAT) {
    throw new PosencConfigError("invalid_value", `${path} format`, sidecar.format, `"${CHECKPOINT_FORMAT}"`);
  }
  return sidecar;
}

/**
 * Loads the weights named by `sidecar` into `params` and the optimizer (moments and step counter). Every tensor
 * must be present with the parameter's shape.
 */
export function loadCheckpointInto(
  dir: string,
  sidecar: CheckpointSidecar,
  params: readonly Parameter[],
  optimizer?: Adam,
): void {
  const file = decodeSafetensors(new Uint8Array(readFileSync(join(dir, sidecar.weights))));
  const take = (name: string, param: Parameter, into: Float32Array): void => {
    const t = file.tensors.get(name);
    if (t?.dtype !== "F32" || t.shape.join(",") !== param.shape.join(",")) {
      throw new RangeError(
        `checkpoint ${sidecar.weights}: tensor "${name}" ${t ? `[${t.shape.join(", ")}] ${t.dtype}` : "missing"}, expected [${param.shape.join(", ")}] F32`,
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
