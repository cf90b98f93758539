/**
 * What a run will cost, estimated from its sizes before anything is allocated, and a refusal of what cannot fit.
 *
 * Sequence length. T(n) of a task length n is measured on a few examples at two small lengths and extended
 * linearly (every task's sequence grows linearly with its length): T(n) ~ T2 + slope * (n - n2). Nothing is ever
 * sampled at the requested maximum, which is what ran out of memory before (1..100000000).
 *
 * Memory (bytes; float32 tensors in the engine's wasm32 heap, at most 4 GiB):
 *   parameters   16 P                  (weights, gradients, AdamW m and v), P ~ L (4 + 2r) d^2 + 2 V d, plus
 *                16 Tmax d             for a learned position table (counted with the lengths)
 *   activations  4 B T L (12 d + 3 r d + 4 H T) + 12 B T V, doubled for training (the backward pass' gradients);
 *                evaluation (noGrad) frees each layer before the next and scores one head at a time
 *                (src/model/attention-by-head.ts): 4 B T (2 (12 d + 3 r d) + H T) + 12 B T V, the H T term
 *                for an encoding's (H, T, T) bias (ALiBi), built once per forward pass
 * and in JavaScript: 64 bytes per sampled token (256 examples at the longest length pick the padding length) and
 * 64 bytes per training step (the loss history and its JSON in each checkpoint).
 *
 * Time: FLOPs of the matmuls, 6 B T (L (4 + 2r) d^2 + V d) + 12 B L T^2 d per training step (forward 1/3,
 * backward 2/3), 2 and 4 for evaluation, at an OPTIMISTIC 100 GFLOP/s (the engine's best measured matmul rate on
 * two threads is about 50; a lab job runs one thread). A run is refused only when even that rate needs more than
 * MAX_RUN_SECONDS: the estimate is a lower bound of the time, so nothing feasible is refused.
 *
 * Steps are also bounded by the checkpoint: its sidecar keeps every step's loss as JSON text (~24 bytes a step),
 * which must fit in one JavaScript string (512 MiB): about 22 million steps.
 *
 * Each refusal is one PosencConfigError naming the key to change, the estimate and the limit.
 */
import { freemem, totalmem } from "node:os";
import { getHeapStatistics } from "node:v8";
import { createTask } from "../tasks/registry.js";
import type { Task, TaskLayout } from "../tasks/types.js";
import { Rng } from "../util/rng.js";
import { PosencConfigError } from "../util/validation.js";
import { type ExperimentConfig, evalTaskOf, formatLengthRange, type LengthRange } from "./config.js";
import { MAX_TEXT_BYTES } from "./files.js";

/** The engine's heap: wasm32 addresses 4 GiB. */
export const ENGINE_HEAP_BYTES = 4 * 2 ** 30;
/** Optimistic throughput of the time estimate (see the file comment). */
export const OPTIMISTIC_FLOPS_PER_SECOND = 100e9;
/** Longest run accepted: 30 days at the optimistic throughput. */
export const MAX_RUN_SECONDS = 30 * 86400;
const JS_BYTES_PER_TOKEN = 64;
const JS_BYTES_PER_STEP = 64;
/** A float32 loss printed as JSON: up to 15 digits, a sign, a point, an exponent and a comma. */
const LOSS_JSON_BYTES = 24;

export interface MemoryLimits {
  /** Bytes the engine's tensors may use: min(wasm32 heap, machine memory). */
  tensorBytes: number;
  /** Bytes JavaScript objects may use: min(V8 heap limit, machine memory). */
  jsBytes: number;
  /** How the limit reads in an error. */
  describe(kind: "tensor" | "js"): string;
}

/** This machine's limits: the smaller of the wasm32 heap and the memory available (or total) here. */
export function machineLimits(): MemoryLimits {
  const machine = Math.max(freemem(), totalmem() / 2);
  const v8 = getHeapStatistics().heap_size_limit;
  return {
    tensorBytes: Math.min(ENGINE_HEAP_BYTES, machine),
    jsBytes: Math.min(v8, machine),
    describe: (kind) =>
      kind === "tensor"
        ? `${formatBytes(Math.min(ENGINE_HEAP_BYTES, machine))} (the engine's 4 GiB wasm32 heap, ${formatBytes(machine)} of memory here)`
        : `${formatBytes(Math.min(v8, machine))} (the JavaScript heap limit, ${formatBytes(machine)} of memory here)`,
  };
}

export function formatBytes(bytes: number): string {
  const units = ["bytes", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${Math.round(value)} bytes` : `${value.toPrecision(3)} ${units[unit]}`;
}

export function formatSeconds(seconds: number): string {
  if (seconds < 120) return `${seconds.toPrecision(3)} s`;
  if (seconds < 7200) return `${(seconds / 60).toPrecision(3)} min`;
  if (seconds < 2 * 86400) return `${(seconds / 3600).toPrecision(3)} h`;
  if (seconds < 730 * 86400) return `${(seconds / 86400).toPrecision(3)} days`;
  return `${(seconds / (365 * 86400)).toPrecision(3)} years`;
}

/** T(n) = base + slope * n, fitted on examples at two small lengths (see the file comment). */
export function sequenceLengthModel(
  task: Task,
  layout: TaskLayout,
  range: LengthRange,
): { base: number; slope: number; at(n: number): number } {
  // Measured at two small lengths and extrapolated (T is affine in n): sampling at the range itself would build
  // the very sequences whose size is being checked (a test length of 3,000,000 ran out of memory here).
  const n1 = Math.max(1, task.minLength, Math.min(range.min, 64));
  const n2 = Math.max(n1, Math.min(n1 + 32, task.maxLength ?? Number.POSITIVE_INFINITY));
  const rng = new Rng(0xe57);
  const t1 = task.sample(rng, 8, n1, layout).seqLen;
  const t2 = n2 === n1 ? t1 : task.sample(rng, 8, n2, layout).seqLen;
  const slope = n2 === n1 ? t1 / n1 : Math.max(0, (t2 - t1) / (n2 - n1));
  const base = t2 - slope * n2;
  return { base, slope, at: (n) => Math.max(1, base + slope * n) };
}

export interface RunEstimate {
  parameters: number;
  trainSeqLen: number;
  evalSeqLen: number;
  /** Engine bytes of position tables as long as the longest sequence (learned or cached per position). */
  tableBytes: number;
  /** Engine bytes of a training step (parameters, optimizer and activations). */
  trainTensorBytes: number;
  /** Engine bytes of an evaluation batch at the longest test length. */
  evalTensorBytes: number;
  /** JavaScript bytes: sampled examples and the loss history. */
  jsBytes: number;
  trainSeconds: number;
  evalSeconds: number;
}

/** Estimates memory and time of one run of `config` (one encoding, one seed). */
export function estimateRun(config: ExperimentConfig): RunEstimate {
  const { numLayers: L, dModel: d, numHeads: H, mlpRatio: r } = config.model;
  const layout = config.task.layout;
  const train = config.train;
  const evalCfg = config.eval;
  const trainTask = createTask(config.task.id, config.task.params);
  const evalTask = evalTaskOf(config);
  const trainT = sequenceLengthModel(trainTask, layout, train.length);
  const evalT = sequenceLengthModel(evalTask, layout, evalCfg.length);
  const Ttrain = trainT.at(train.length.max);
  const Teval = evalT.at(evalCfg.length.max);
  const V = trainTask.symbols.length + 8;
  const Tmax = Math.max(Ttrain, Teval) * 1.25 + 16;
  const perToken = L * (4 + 2 * r) * d * d + V * d; // matmul weights a token passes through
  const parameters = perToken + V * d + L * 8 * d;
  // A learned position table grows with the longest sequence: counted with the lengths, not the model.
  const tableBytes = 16 * Tmax * d;
  const activations = (B: number, T: number) => 4 * B * T * (L * (12 * d + 3 * r * d + 4 * H * T) + 3 * V);
  const trainTensorBytes = 16 * parameters + tableBytes + 2 * activations(train.batchSize, Ttrain);
  const evalBatch = Math.min(evalCfg.batchSize, evalCfg.samplesPerLength);
  const evalActivations = (B: number, T: number) =>
    4 * B * T * (2 * (12 * d + 3 * r * d) + H * T) + 12 * B * T * V;
  const evalTensorBytes = 4 * parameters + tableBytes / 4 + evalActivations(evalBatch, Teval);
  const jsBytes = JS_BYTES_PER_TOKEN * 256 * Math.max(Ttrain, Teval) + JS_BYTES_PER_STEP * train.steps;
  const stepFlops = 6 * train.batchSize * Ttrain * perToken + 12 * train.batchSize * L * Ttrain ** 2 * d;
  // Sum over test lengths n of samples * (2 T(n) perToken + 4 L T(n)^2 d), in closed form for T = a + b n.
  const { min, max } = evalCfg.length;
  const count = max - min + 1;
  const sumN = ((min + max) * count) / 2;
  const sumN2 = (max * (max + 1) * (2 * max + 1) - (min - 1) * min * (2 * min - 1)) / 6;
  const a = evalT.base;
  const b = evalT.slope;
  const sumT = count * a + b * sumN;
  const sumT2 = count * a * a + 2 * a * b * sumN + b * b * sumN2;
  const evalFlops = evalCfg.samplesPerLength * (2 * sumT * perToken + 4 * L * d * sumT2);
  return {
    parameters,
    trainSeqLen: Ttrain,
    evalSeqLen: Teval,
    tableBytes,
    trainTensorBytes,
    evalTensorBytes,
    jsBytes,
    trainSeconds: (train.steps * stepFlops) / OPTIMISTIC_FLOPS_PER_SECOND,
    evalSeconds: evalFlops / OPTIMISTIC_FLOPS_PER_SECOND,
  };
}

/**
 * Refuses a config whose run cannot fit this machine's memory or would take longer than MAX_RUN_SECONDS even at
 * the optimistic throughput: one PosencConfigError naming the key, the estimate and the limit.
 */
export function checkRunFits(config: ExperimentConfig, limits: MemoryLimits = machineLimits()): RunEstimate {
  const e = estimateRun(config);
  const { train, model } = config;
  const evalCfg = config.eval;
  const refuse = (key: string, received: unknown, needs: string, limit: string): never => {
    throw new PosencConfigError(
      "out_of_range",
      key,
      received,
      `sizes that fit: this needs about ${needs}, the limit is ${limit}`,
    );
  };
  const paramBytes = 16 * e.parameters;
  if (paramBytes > limits.tensorBytes / 2) {
    refuse(
      "model",
      model,
      `${formatBytes(paramBytes)} for ${e.parameters.toPrecision(3)} parameters with their gradients and AdamW state`,
      limits.describe("tensor"),
    );
  }
  if (e.trainTensorBytes > limits.tensorBytes) {
    // A position table sized by the longest test sequence is the eval length's fault, not the batch's.
    const table = e.tableBytes > e.trainTensorBytes / 2 && e.evalSeqLen > e.trainSeqLen;
    if (table) {
      refuse(
        "eval.length",
        formatLengthRange(evalCfg.length),
        `${formatBytes(e.trainTensorBytes)} per training step (position tables for sequences of ~${Math.ceil(e.evalSeqLen)} tokens)`,
        limits.describe("tensor"),
      );
    }
    const key =
      e.trainSeqLen > 4096 || e.tableBytes > e.trainTensorBytes / 2 ? "train.length" : "train.batchSize";
    const received = key === "train.length" ? formatLengthRange(train.length) : train.batchSize;
    refuse(
      key,
      received,
      `${formatBytes(e.trainTensorBytes)} per training step (sequences of ~${Math.ceil(e.trainSeqLen)} tokens, batch ${train.batchSize})`,
      limits.describe("tensor"),
    );
  }
  if (e.evalTensorBytes > limits.tensorBytes) {
    const key = e.evalSeqLen > 4096 ? "eval.length" : "eval.batchSize";
    const received = key === "eval.length" ? formatLengthRange(evalCfg.length) : evalCfg.batchSize;
    refuse(
      key,
      received,
      `${formatBytes(e.evalTensorBytes)} per evaluation batch (sequences of ~${Math.ceil(e.evalSeqLen)} tokens)`,
      limits.describe("tensor"),
    );
  }
  if (e.jsBytes > limits.jsBytes) {
    const steps =
      JS_BYTES_PER_STEP * train.steps > JS_BYTES_PER_TOKEN * 256 * Math.max(e.trainSeqLen, e.evalSeqLen);
    const key = steps ? "train.steps" : e.evalSeqLen > e.trainSeqLen ? "eval.length" : "train.length";
    const received = steps
      ? train.steps
      : formatLengthRange(key === "eval.length" ? evalCfg.length : train.length);
    refuse(
      key,
      received,
      `${formatBytes(e.jsBytes)} of JavaScript memory (examples and loss history)`,
      limits.describe("js"),
    );
  }
  // Each checkpoint's sidecar holds the loss of every step as JSON text, which must fit in one JS string.
  if (train.steps * LOSS_JSON_BYTES > MAX_TEXT_BYTES) {
    refuse(
      "train.steps",
      train.steps,
      `${formatBytes(train.steps * LOSS_JSON_BYTES)} of loss history in each checkpoint's JSON`,
      `${formatBytes(MAX_TEXT_BYTES)} (the longest JavaScript string), about ${Math.floor(MAX_TEXT_BYTES / LOSS_JSON_BYTES)} steps`,
    );
  }
  if (e.trainSeconds > MAX_RUN_SECONDS) {
    refuse(
      "train.steps",
      train.steps,
      `${formatSeconds(e.trainSeconds)} of training even at ${OPTIMISTIC_FLOPS_PER_SECOND / 1e9} GFLOP/s`,
      `${formatSeconds(MAX_RUN_SECONDS)} per run`,
    );
  }
  if (e.evalSeconds > MAX_RUN_SECONDS) {
    const key =
      e.evalSeqLen > 4096 || evalCfg.length.max - evalCfg.length.min > 10000
        ? "eval.length"
        : "eval.samplesPerLength";
    const received = key === "eval.length" ? formatLengthRange(evalCfg.length) : evalCfg.samplesPerLength;
    refuse(
      key,
      received,
      `${formatSeconds(e.evalSeconds)} of evaluation even at ${OPTIMISTIC_FLOPS_PER_SECOND / 1e9} GFLOP/s`,
      `${formatSeconds(MAX_RUN_SECONDS)} per run`,
    );
  }
  return e;
}
