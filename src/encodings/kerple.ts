/**
 * KERPLE, from "KERPLE: Kernelized Relative Positional Embedding for Length Extrapolation"
 * (Chi, Fan, Ramadge and Rudnicky, 2022; NeurIPS 2022), arXiv:2205.09921.
 *
 * Each head adds a conditionally positive definite kernel of the distance |m - n| to its attention logits, with two
 * learned positive parameters per head:
 *   logarithmic:  bias = -r1 * log(1 + r2 * |m - n|)     r1 > 0, r2 > 0
 *   power:        bias = -r1 * |m - n|^r2                 r1 > 0, 0 < r2 <= 2
 * Both are 0 at distance 0 and decrease with distance. Power with r2 = 1 is ALiBi with slope r1.
 *
 * Official implementation (chijames/KERPLE, megatron/mpu/layers.py, `ParallelKerpleLog`, `ParallelKerplePower`):
 * the log kernel is `-bias_p * log(1 + bias_a * diff)` (r1 = bias_p, r2 = bias_a), the power kernel
 * `-bias_a * diff^bias_p` (r1 = bias_a, r2 = bias_p); `diff = tril(i - j)`, so future keys get 0 and the causal
 * mask removes them, as in alibi.ts. Initialisation: bias_p = 2 * U(0, 1), bias_a = U(0, 1), one per head; after
 * each step both are clamped to >= 0.01 and the power exponent to <= 2. `kerpleInitialParameters` reproduces that
 * init with the seeded Rng. The paper's runs use `pos_emb` "kerple_log" and "kerple_power_ap_" (generate_ymls.py):
 * both parameters learned, and no "weight kernel" (the power class's optional multiplicative kernel, which is not
 * part of the paper's two variants and not implemented here).
 *
 * The parameters are learned in the trainable form; this framework-free form takes them as per-head arrays.
 */

import {
  add,
  exp,
  log,
  mul,
  neg,
  type Parameter,
  parameter,
  reshape,
  type Tensor,
  tensor,
} from "../engine/index.js";
import type { Rng } from "../util/rng.js";
import { checkNumber, PosencConfigError } from "../util/validation.js";
import { type BiasGridOptions, biasGridPositions, checkPositions } from "./alibi.js";
import {
  biasVariantOf,
  type ModelDims,
  PerForward,
  RowTableCache,
  type TrainableEncoding,
} from "./trainable.js";
import { defineEncoding, type EncodingSpec, type PositionalEncoding, resolveParams } from "./types.js";

export type KerpleKernel = "log" | "power";

/** Per-head parameters: r1[h] and r2[h] (equal lengths; numHeads = r1.length). */
export interface KerpleParameters {
  r1: ArrayLike<number>;
  r2: ArrayLike<number>;
}

/** The official code's lower clamp on every Kerple parameter. */
export const KERPLE_MIN_PARAMETER = 0.01;

/** Checks one parameter value: r1 > 0; r2 > 0, and r2 <= 2 for the power kernel (conditional positive definiteness). */
function checkKerpleValue(kernel: KerpleKernel, which: "r1" | "r2", key: string, value: unknown): void {
  if (which === "r2" && kernel === "power") checkNumber(key, value, { min: 0, exclusiveMin: true, max: 2 });
  else checkNumber(key, value, { min: 0, exclusiveMin: true });
}

function checkKerpleParameters(kernel: KerpleKernel, params: KerpleParameters): number {
  const { r1, r2 } = params;
  if (r1.length < 1 || r2.length !== r1.length) {
    throw new RangeError(
      `r1 and r2 must hold one value per head (equal lengths >= 1), received lengths ${r1.length} and ${r2.length}`,
    );
  }
  for (let h = 0; h < r1.length; h++) {
    checkKerpleValue(kernel, "r1", `r1[${h}]`, r1[h]);
    checkKerpleValue(kernel, "r2", `r2[${h}]`, r2[h]);
  }
  return r1.length;
}

/**
 * Kerple bias for arbitrary positions, row-major [numHeads, queryPositions.length, keyPositions.length].
 * causal (default): the kernel of q_i - k_j for keys at or before the query, 0 for future keys (masked by the
 * attention, as the official `tril`); causal false: the kernel of |q_i - k_j| (the paper's symmetric form).
 */
export function kerpleBiasAt(
  kernel: KerpleKernel,
  params: KerpleParameters,
  queryPositions: ArrayLike<number>,
  keyPositions: ArrayLike<number>,
  options: { causal?: boolean } = {},
): Float32Array {
  if (kernel !== "log" && kernel !== "power") {
    throw new PosencConfigError("invalid_value", "kernel", kernel, 'one of "log", "power"');
  }
  const causal = options.causal ?? true;
  if (typeof causal !== "boolean")
    throw new PosencConfigError("invalid_type", "causal", causal, "true or false");
  const numHeads = checkKerpleParameters(kernel, params);
  checkPositions("queryPositions", queryPositions);
  checkPositions("keyPositions", keyPositions);
  const q = queryPositions.length;
  const k = keyPositions.length;
  const out = new Float32Array(numHeads * q * k);
  for (let h = 0; h < numHeads; h++) {
    const r1 = params.r1[h];
    const r2 = params.r2[h];
    for (let i = 0; i < q; i++) {
      const row = (h * q + i) * k;
      const qi = queryPositions[i];
      for (let j = 0; j < k; j++) {
        const d = qi - keyPositions[j];
        if (causal && d < 0) continue; // future key: stays 0
        const distance = Math.abs(d);
        // -r1 log(1 + r2 d) or -r1 d^r2; "0 - x" keeps distance 0 at +0 rather than -0.
        out[row + j] = kernel === "log" ? 0 - r1 * Math.log1p(r2 * distance) : 0 - r1 * distance ** r2;
      }
    }
  }
  return out;
}

export interface KerpleBiasOptions extends BiasGridOptions {
  /** true (default): past keys only, future keys 0; false: symmetric |m - n|. */
  causal?: boolean;
}

/** Logarithmic Kerple, -r1[h] log(1 + r2[h] |i - j|), over a [numHeads, queryLength, keyLength] grid. */
export function kerpleLogBias(
  params: KerpleParameters,
  queryLength: number,
  keyLength: number,
  options: KerpleBiasOptions = {},
): Float32Array {
  const { queryPositions, keyPositions } = biasGridPositions(queryLength, keyLength, options.queryOffset);
  return kerpleBiasAt("log", params, queryPositions, keyPositions, options);
}

/** Power Kerple, -r1[h] |i - j|^r2[h], over a [numHeads, queryLength, keyLength] grid. */
export function kerplePowerBias(
  params: KerpleParameters,
  queryLength: number,
  keyLength: number,
  options: KerpleBiasOptions = {},
): Float32Array {
  const { queryPositions, keyPositions } = biasGridPositions(queryLength, keyLength, options.queryOffset);
  return kerpleBiasAt("power", params, queryPositions, keyPositions, options);
}

/**
 * The official initialisation for `numHeads` heads, drawn from `rng`: log kernel r1 = 2 U, r2 = U; power kernel
 * r1 = U, r2 = 2 U (bias_p = 2 U is the multiplier of the log kernel and the exponent of the power kernel),
 * clamped to >= 0.01 as the official code does before first use.
 */
export function kerpleInitialParameters(
  kernel: KerpleKernel,
  numHeads: number,
  rng: Rng,
): { r1: Float64Array; r2: Float64Array } {
  checkNumber("numHeads", numHeads, { integer: true, min: 1 });
  const clamp = (v: number) => Math.max(KERPLE_MIN_PARAMETER, v);
  // Two separate draws of numHeads values, p first then a, like the official constructor's order.
  const p = Float64Array.from({ length: numHeads }, () => clamp(2 * rng.next()));
  const a = Float64Array.from({ length: numHeads }, () => clamp(rng.next()));
  return kernel === "log" ? { r1: p, r2: a } : { r1: a, r2: p };
}

// ---------------------------------------------------------------------------------------------------------------
// Specs. r1 / r2 take one value per head or a single value for every head (a bare number is accepted too).
// ---------------------------------------------------------------------------------------------------------------

function kerpleParams(kernel: KerpleKernel) {
  return {
    variant: {
      type: "string",
      description:
        'Distance used: "causal" = past keys only (future keys 0, masked by the attention), "symmetric" = |i - j| for bidirectional attention.',
      default: "causal",
      choices: ["causal", "symmetric"],
    },
    r1: {
      type: "number[]",
      description: `Per-head r1 > 0 (${kernel === "log" ? "multiplier of the log" : "multiplier of the power"}); one value (or a number) is used for every head.`,
      default: [1],
    },
    r2: {
      type: "number[]",
      description:
        kernel === "log"
          ? "Per-head r2 > 0 (scale of the distance inside the log); one value (or a number) is used for every head."
          : "Per-head exponent r2 in (0, 2]; one value (or a number) is used for every head.",
      default: [1],
    },
  } as const satisfies EncodingSpec["params"];
}

/** Broadcasts one value to every head, or checks that there is one value per head. */
function perHead(path: string, values: number[], numHeads: number): number[] {
  if (values.length === 1) return new Array<number>(numHeads).fill(values[0]);
  if (values.length === numHeads) return values;
  throw new PosencConfigError(
    "invalid_value",
    path,
    values,
    `one value for every head or numHeads = ${numHeads} values`,
  );
}

function createKerple(
  kernel: KerpleKernel,
  id: string,
  params?: Record<string, unknown>,
  path = id,
): PositionalEncoding {
  const schema = kerpleParams(kernel);
  // A bare number means "the same value for every head".
  const given = { ...(params ?? {}) };
  for (const key of ["r1", "r2"]) if (typeof given[key] === "number") given[key] = [given[key]];
  const p = resolveParams(path, schema, given);
  const r1 = p.r1;
  const r2 = p.r2;
  for (const [which, values] of [
    ["r1", r1],
    ["r2", r2],
  ] as const) {
    if (values.length === 0) {
      throw new PosencConfigError("invalid_value", `${path}.${which}`, values, "at least one value");
    }
    for (const [h, v] of values.entries()) checkKerpleValue(kernel, which, `${path}.${which}[${h}]`, v);
  }
  if (r1.length > 1 && r2.length > 1 && r1.length !== r2.length) {
    throw new PosencConfigError(
      "conflict",
      `${path}.r2`,
      r2,
      `a single value or as many values as ${path}.r1 (${r1.length})`,
    );
  }
  const causal = p.variant === "causal";
  return {
    id,
    params: Object.freeze(p),
    attentionBias(queryPositions, keyPositions, numHeads) {
      checkNumber("numHeads", numHeads, { integer: true, min: 1 });
      const heads = { r1: perHead(`${path}.r1`, r1, numHeads), r2: perHead(`${path}.r2`, r2, numHeads) };
      return kerpleBiasAt(kernel, heads, queryPositions, keyPositions, { causal });
    },
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Trainable form: r1, r2 as engine Parameters.
// ---------------------------------------------------------------------------------------------------------------

/**
 * The distance grid the kernels read, [T, T] for one row of ids: causal q_i - k_j for past keys and 0 for future
 * keys (whose kernel value is then 0, as the official `tril`), symmetric |q_i - k_j|.
 */
export function kerpleDistances(positions: ArrayLike<number>, causal: boolean): Float32Array {
  checkPositions("positions", positions);
  const T = positions.length;
  const out = new Float32Array(T * T);
  for (let i = 0; i < T; i++) {
    for (let j = 0; j < T; j++) {
      const d = positions[i] - positions[j];
      out[i * T + j] = causal ? Math.max(d, 0) : Math.abs(d);
    }
  }
  return out;
}

/**
 * Differentiable Kerple bias from per-head parameters r1, r2 (each [H]) over distances [rows, T, T]:
 *   log:    -r1 * log(1 + r2 * d)
 *   power:  -r1 * d^r2, computed as -r1 * [d > 0] * exp(r2 * log d) (log d := 0 where d = 0), so distance 0 gives
 *           exactly 0 with a finite gradient for any r2 > 0.
 * Returns [rows, H, T, T].
 */
export function kerpleBiasFromParameters(
  kernel: KerpleKernel,
  r1: Tensor,
  r2: Tensor,
  distances: Float32Array,
  rows: number,
  seqLen: number,
): Tensor {
  const H = r1.size;
  const a = reshape(r1, [H, 1, 1]);
  const b = reshape(r2, [H, 1, 1]);
  if (kernel === "log") {
    const d = tensor(distances, [rows, 1, seqLen, seqLen]);
    return neg(mul(a, log(add(mul(b, d), 1)))); // (rows, H, T, T)
  }
  const positive = new Float32Array(distances.length);
  const logDistance = new Float32Array(distances.length);
  for (let i = 0; i < distances.length; i++) {
    positive[i] = distances[i] > 0 ? 1 : 0;
    logDistance[i] = distances[i] > 0 ? Math.log(distances[i]) : 0;
  }
  const power = mul(
    tensor(positive, [rows, 1, seqLen, seqLen]),
    exp(mul(b, tensor(logDistance, [rows, 1, seqLen, seqLen]))),
  );
  return neg(mul(a, power)); // (rows, H, T, T)
}

/**
 * Trainable Kerple: r1, r2 per head, shared by all layers (the official GPT2ModelPipe builds one module and passes it
 * to every layer), initialized by `kerpleInitialParameters` (the official U(0, 1) draws) from the model's Rng; the
 * params' r1/r2 only serve the framework-free form. Positivity as the official forward: before each use the values
 * are clamped in place to >= 0.01 (and the power exponent to <= 2), outside the gradient.
 */
function kerpleTrainable(kernel: KerpleKernel, id: string) {
  return (params: { variant: string }, dims: ModelDims, rng: Rng): TrainableEncoding => {
    const causal = params.variant === "causal";
    const init = kerpleInitialParameters(kernel, dims.numHeads, rng);
    const r1: Parameter = parameter(init.r1, [dims.numHeads], `${id}.r1`);
    const r2: Parameter = parameter(init.r2, [dims.numHeads], `${id}.r2`);
    const distances = new RowTableCache((row) => kerpleDistances(row, causal));
    const perForward = new PerForward<Tensor>();
    const clamp = () => {
      for (let h = 0; h < dims.numHeads; h++) {
        r1.data[h] = Math.max(KERPLE_MIN_PARAMETER, r1.data[h]);
        const upper = kernel === "power" ? 2 : Number.POSITIVE_INFINITY;
        r2.data[h] = Math.min(upper, Math.max(KERPLE_MIN_PARAMETER, r2.data[h]));
      }
    };
    return {
      id,
      parameters: () => [r1, r2],
      attentionBias(ids, batchSize, seqLen) {
        return perForward.get(ids, () => {
          clamp();
          const { data, rows } = distances.get(ids, batchSize, seqLen);
          return kerpleBiasFromParameters(kernel, r1, r2, data, rows, seqLen);
        });
      },
    };
  };
}

const KERPLE_PAPER = {
  title: "KERPLE: Kernelized Relative Positional Embedding for Length Extrapolation",
  arxiv: "2205.09921",
  year: 2022,
};

export const kerpleLogSpec = defineEncoding({
  id: "kerple-log",
  name: "KERPLE (logarithmic)",
  family: "attention-bias",
  paper: KERPLE_PAPER,
  formula: "bias[h, i, j] = -r1_h * log(1 + r2_h * |i - j|), r1_h, r2_h > 0 (learned per head)",
  summary:
    "Adds a per-head logarithmic distance penalty, a conditionally positive definite kernel, to attention logits for length extrapolation.",
  slots: ["attentionBias"],
  modelParams: (dims) => ({ variant: biasVariantOf(dims) }),
  params: kerpleParams("log"),
  trainable: kerpleTrainable("log", "kerple-log"),
  create: (params, path) => createKerple("log", "kerple-log", params, path),
});

export const kerplePowerSpec = defineEncoding({
  id: "kerple-power",
  name: "KERPLE (power)",
  family: "attention-bias",
  paper: KERPLE_PAPER,
  formula: "bias[h, i, j] = -r1_h * |i - j|^r2_h, r1_h > 0, 0 < r2_h <= 2 (learned per head)",
  summary:
    "Adds a per-head power-law distance penalty (ALiBi when r2 = 1) to attention logits for length extrapolation.",
  slots: ["attentionBias"],
  modelParams: (dims) => ({ variant: biasVariantOf(dims) }),
  params: kerpleParams("power"),
  trainable: kerpleTrainable("power", "kerple-power"),
  create: (params, path) => createKerple("power", "kerple-power", params, path),
});
