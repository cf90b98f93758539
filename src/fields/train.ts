/**
 * Training one (method, seed) of a fields task, resumable: Adam on the mean squared error of the field's outputs.
 *
 * A run folder holds `checkpoint.json` (the sidecar: step, optimizer step, loss history, score curve, training
 * seconds, and the run's identity) and `weights-<step>.safetensors` (parameters and Adam moments, float32, the
 * lab's safetensors writer), written atomically (weights, then sidecar, then the older weights removed), so a
 * killed run resumes from its last checkpoint. Each step's batch comes from an Rng derived from (seed, step), so a
 * resumed run draws the same batches as an uninterrupted one. `result.json` marks a finished run.
 */
import { existsSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { stableRank } from "../encodings/coordinate/embedding-analysis.js";
import { getCoordinateEncoding } from "../encodings/coordinate/registry.js";
import { Adam, mean, mul, noGrad, sub, type Tensor, tensor, tidy } from "../engine/index.js";
import { adamMoments } from "../lab/checkpoint.js";
import { writeFileAtomic } from "../lab/files.js";
import { decodeSafetensors, encodeSafetensors } from "../lab/safetensors.js";
import { deriveSeed } from "../lab/seeds.js";
import { Rng } from "../util/rng.js";
import { PosencConfigError } from "../util/validation.js";
import type { MethodConfig } from "./methods.js";
import { CoordinateMlp } from "./mlp.js";
import type { FieldTask, Predictor, TaskEvaluation } from "./tasks.js";

/**
 * What a run's training seconds count: "wall" (performance.now) or "cpu" (process.cpuUsage user + system of this
 * process). The engine trains on one thread, so CPU time equals wall time on a quiet machine and stays fair when
 * other processes share the cores (the fixed-time comparison on a shared machine).
 */
export const CLOCKS = ["wall", "cpu"] as const;
export type Clock = (typeof CLOCKS)[number];

/** Seconds on `clock` since an arbitrary origin. */
export function clockSeconds(clock: Clock): number {
  if (clock === "wall") return performance.now() / 1000;
  const { user, system } = process.cpuUsage();
  return (user + system) / 1e6;
}

export const FIELDS_CHECKPOINT_FORMAT = "posenc-fields-checkpoint/1";
export const FIELDS_RESULT_FORMAT = "posenc-fields-result/1";

export interface FieldRunSpec {
  task: FieldTask;
  method: MethodConfig;
  seed: number;
  steps: number;
  batch: number;
  /** Score the field every this many steps (the training curve). */
  evalEvery: number;
  checkpointEvery: number;
  /** Stop early once this much training time has passed (seconds; the fixed-time comparison). */
  budgetSeconds?: number;
  /** What trainSeconds, the budget and the curve's seconds count (default wall). */
  clock?: Clock;
}

export interface CurvePoint {
  step: number;
  seconds: number;
  score: number;
}

export interface FieldRunResult {
  format: typeof FIELDS_RESULT_FORMAT;
  task: string;
  method: MethodConfig;
  seed: number;
  steps: number;
  parameterCount: number;
  trainSeconds: number;
  /** Mean seconds per training step. */
  stepSeconds: number;
  lossHistory: number[];
  curve: CurvePoint[];
  metrics: Record<string, number>;
  /** Training seconds until the curve's score first reached 25 (PSNR in dB, image task); null if never. */
  secondsTo25dB: number | null;
}

interface Sidecar {
  format: typeof FIELDS_CHECKPOINT_FORMAT;
  weights: string;
  task: string;
  method: MethodConfig;
  seed: number;
  step: number;
  optimizerStep: number;
  lossHistory: number[];
  curve: CurvePoint[];
  trainSeconds: number;
}

export function buildModel(task: FieldTask, method: MethodConfig, seed: number): CoordinateMlp {
  const rng = new Rng(deriveSeed(seed, 101));
  const encoder = getCoordinateEncoding(method.encoding).create(task.inputDim, rng, method.options);
  return new CoordinateMlp(
    encoder,
    {
      hidden: method.hidden,
      layers: method.layers,
      activation: method.activation,
      architecture: method.architecture,
      outputs: task.outputs,
    },
    rng,
  );
}

/** The model as a Predictor: chunks of 4096 points, no graph, float64 out. */
export function predictor(model: CoordinateMlp, inputDim: number): Predictor {
  return (points, n) =>
    noGrad(() => {
      const out = new Float64Array(n * model.config.outputs);
      for (let start = 0; start < n; start += 4096) {
        const m = Math.min(4096, n - start);
        tidy(() => {
          const y = model.forward(
            tensor(points.subarray(start * inputDim, (start + m) * inputDim), [m, inputDim]),
          );
          out.set(y.data, start * model.config.outputs);
        });
      }
      return out;
    });
}

function saveCheckpoint(
  dir: string,
  model: CoordinateMlp,
  optimizer: Adam,
  sidecar: Omit<Sidecar, "format" | "weights" | "optimizerStep">,
): void {
  const { m, v } = adamMoments(optimizer);
  const tensors = new Map<string, { shape: readonly number[]; data: Float32Array }>();
  model.parameters.forEach((p, i) => {
    const key = `${String(i).padStart(3, "0")}.${p.name}`;
    tensors.set(`param.${key}`, { shape: p.shape, data: p.data });
    tensors.set(`adam.m.${key}`, { shape: p.shape, data: m[i] });
    tensors.set(`adam.v.${key}`, { shape: p.shape, data: v[i] });
  });
  const weights = `weights-${String(sidecar.step).padStart(6, "0")}.safetensors`;
  writeFileAtomic(join(dir, weights), encodeSafetensors(tensors, { format: FIELDS_CHECKPOINT_FORMAT }));
  const full: Sidecar = {
    format: FIELDS_CHECKPOINT_FORMAT,
    weights,
    optimizerStep: optimizer.stepCount,
    ...sidecar,
  };
  writeFileAtomic(join(dir, "checkpoint.json"), `${JSON.stringify(full)}\n`);
  for (const name of readdirSync(dir))
    if (name !== weights && /^weights-\d+\.safetensors$/.test(name)) rmSync(join(dir, name));
}

function loadCheckpoint(
  dir: string,
  spec: FieldRunSpec,
  model: CoordinateMlp,
  optimizer: Adam,
): Sidecar | undefined {
  const path = join(dir, "checkpoint.json");
  if (!existsSync(path)) return undefined;
  const sidecar = readJsonOrFail(path, "a checkpoint.json written by posenc fields") as Sidecar;
  const same =
    sidecar?.format === FIELDS_CHECKPOINT_FORMAT &&
    sidecar.task === spec.task.name &&
    sidecar.seed === spec.seed &&
    JSON.stringify(sidecar.method) === JSON.stringify(spec.method) &&
    Number.isInteger(sidecar.step) &&
    sidecar.step >= 0 &&
    sidecar.step <= spec.steps &&
    Array.isArray(sidecar.lossHistory) &&
    sidecar.lossHistory.length === sidecar.step &&
    Array.isArray(sidecar.curve);
  if (!same) {
    throw new PosencConfigError(
      "invalid_value",
      path,
      "a different or damaged run",
      `a checkpoint of ${spec.task.name} / ${spec.method.name} / seed ${spec.seed} with at most ${spec.steps} steps`,
    );
  }
  const file = decodeSafetensors(new Uint8Array(readFileSync(join(dir, sidecar.weights))));
  const { m, v } = adamMoments(optimizer);
  model.parameters.forEach((p, i) => {
    const key = `${String(i).padStart(3, "0")}.${p.name}`;
    for (const [prefix, into] of [
      ["param", p.data],
      ["adam.m", m[i]],
      ["adam.v", v[i]],
    ] as const) {
      const t = file.tensors.get(`${prefix}.${key}`);
      if (t?.dtype !== "F32" || t.shape.join(",") !== p.shape.join(",")) {
        throw new PosencConfigError(
          "invalid_value",
          `${join(dir, sidecar.weights)} tensor ${prefix}.${key}`,
          t ? t.shape : "missing",
          `F32 [${p.shape.join(", ")}]`,
        );
      }
      into.set(t.data as Float32Array);
    }
  });
  optimizer.stepCount = sidecar.optimizerStep;
  return sidecar;
}

/** JSON has no Infinity or NaN: a perfect PSNR (Infinity) or an empty level set's Chamfer is written as text. */
export function nonFiniteAsText(_key: string, value: unknown): unknown {
  return typeof value === "number" && !Number.isFinite(value) ? String(value) : value;
}

/** The inverse of `nonFiniteAsText` for metric values. */
export function metricFromJson(value: unknown): number {
  if (value === "Infinity" || value === "-Infinity" || value === "NaN") return Number(value);
  if (typeof value !== "number") throw new RangeError(`not a metric value: ${JSON.stringify(value)}`);
  return value;
}

/**
 * The stable rank ("Rethinking Positional Encoding", arXiv:2107.02561) of the encoder's features of 1024 training
 * points (a fixed sample), as trained: the quantity whose balance with distance preservation the paper studies.
 */
export function encoderStableRank(task: FieldTask, model: CoordinateMlp): number {
  const { x, n } = task.batch(new Rng(12345), 1024);
  return noGrad(() =>
    tidy(() => {
      const f = model.encoder.encode(tensor(x, [n, task.inputDim]));
      return stableRank(f.data, f.shape[0], f.shape[1]);
    }),
  );
}

/** Parses a JSON file posenc fields wrote, or throws one clear error naming it. */
export function readJsonOrFail(path: string, expected: string): unknown {
  try {
    return JSON.parse(readFileSync(path, "utf8"));
  } catch {
    throw new PosencConfigError("invalid_value", path, "unreadable or unparsable JSON", expected);
  }
}

export interface TrainHooks {
  /** After every step: steps done, the step's loss, training seconds so far in this process. */
  onStep?(step: number, loss: number, seconds: number): void;
}

/** Trains (or resumes) one run in `dir` and returns its result (also written to `dir/result.json`). */
export function trainField(
  spec: FieldRunSpec,
  dir: string,
  hooks: TrainHooks = {},
): { result: FieldRunResult; evaluation: TaskEvaluation } {
  const { task, method, seed } = spec;
  const clock = spec.clock ?? "wall";
  const model = buildModel(task, method, seed);
  const optimizer = new Adam(model.parameters, { lr: method.lr });
  const resumed = loadCheckpoint(dir, spec, model, optimizer);
  let step = resumed?.step ?? 0;
  const lossHistory = resumed?.lossHistory ?? [];
  const curve = resumed?.curve ?? [];
  let trainSeconds = resumed?.trainSeconds ?? 0;
  const predict = predictor(model, task.inputDim);
  const checkpoint = () =>
    saveCheckpoint(dir, model, optimizer, {
      task: task.name,
      method,
      seed,
      step,
      lossHistory,
      curve,
      trainSeconds,
    });
  const score = () => curve.push({ step, seconds: trainSeconds, score: task.quickScore(predict) });
  if (step === 0 && curve.length === 0) score();
  const stepsThisProcess = { start: step, seconds: 0 };
  while (step < spec.steps && !(spec.budgetSeconds !== undefined && trainSeconds >= spec.budgetSeconds)) {
    const { x, y, n } = task.batch(new Rng(deriveSeed(seed, 202, step)), spec.batch);
    const started = clockSeconds(clock);
    const loss = tidy(() => {
      optimizer.zeroGrad();
      const diff = sub(model.forward(tensor(x, [n, task.inputDim])), tensor(y, [n, task.outputs]));
      const l: Tensor = mean(mul(diff, diff));
      l.backward();
      optimizer.step();
      return l.item();
    });
    const seconds = clockSeconds(clock) - started;
    trainSeconds += seconds;
    stepsThisProcess.seconds += seconds;
    step++;
    lossHistory.push(loss);
    if (!Number.isFinite(loss))
      throw new RangeError(`fields: ${method.name} seed ${seed} diverged at step ${step} (loss ${loss})`);
    if (step % spec.evalEvery === 0 || step === spec.steps) score();
    if (step % spec.checkpointEvery === 0 && step < spec.steps) {
      checkpoint();
    }
    hooks.onStep?.(step, loss, stepsThisProcess.seconds);
  }
  if (curve[curve.length - 1]?.step !== step) score();
  const evaluation = task.evaluate(predict, true);
  evaluation.metrics.srank = encoderStableRank(task, model);
  const reached = curve.find((c) => c.score >= 25);
  const result: FieldRunResult = {
    format: FIELDS_RESULT_FORMAT,
    task: task.name,
    method,
    seed,
    steps: step,
    parameterCount: model.parameterCount,
    trainSeconds,
    stepSeconds: step > 0 ? trainSeconds / step : 0,
    lossHistory,
    curve,
    metrics: evaluation.metrics,
    secondsTo25dB: task.name === "image" && reached ? reached.seconds : null,
  };
  checkpoint();
  for (const file of evaluation.files) writeFileAtomic(join(dir, file.name), file.content);
  writeFileAtomic(join(dir, "result.json"), `${JSON.stringify(result, nonFiniteAsText)}\n`);
  optimizer.dispose();
  for (const p of model.parameters) p.dispose();
  return { result, evaluation };
}
