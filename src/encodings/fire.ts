/**
 * FIRE, from "Functional Interpolation for Relative Positions Improves Long Context Transformers"
 * (Li, You, Guruganesh, Ainslie, Ontanon, Zaheer, Sanghai, Yang, Kumar and Bhojanapalli, 2023; ICLR 2024),
 * arXiv:2310.04418.
 *
 * Each layer learns one small MLP f_theta: R -> R^H (one output per head) and adds its value at a normalised
 * query-key distance to the attention logits:
 *   bias[h, i, j] = f_theta( psi(i - j) / psi(max(L, i)) )_h        psi(x) = log(|c x| + 1)
 * i the query position, j the key position. The log transform psi amplifies differences between nearby
 * positions; dividing by psi(i) maps every distance into [0, 1] whatever the sequence length ("progressive
 * interpolation"), and the threshold L keeps short prefixes (i < L) from being over-normalised.
 *
 * Details, from the FIRE module the paper's authors published as PyTorch pseudocode (reproduced, with the same
 * defaults and comments, in VITA-Group/TAPE models/llama/fire.py and mcleish7/arithmetic
 * cramming/architectures/embeddings.py, the "FIRE attention bias module (https://arxiv.org/abs/2310.04418)"):
 *   f_theta   Linear(1, 32) -> ReLU -> Linear(32, numHeads), both with biases, PyTorch's default init
 *             (U(-1/sqrt(fanIn), 1/sqrt(fanIn)) for weights and biases); one MLP per attention layer.
 *   c         learnable scalar, init 0.1; enters as |c x|.
 *   L         |L_multiplier * L0|: L0 = 512 fixed, L_multiplier learnable, init 1.
 *   distance  |i - j| (the code takes abs, so keys after the query get the mirrored value; a causal model masks
 *             them), positions 0-based; normaliser max(i, L) with the query's own position i.
 *   eps       psi(i - j) / (psi(max(i, L)) + 1e-6).
 * The position-coupling repository's FIRE (HanseulJo/position-coupling) deviates (no MLP biases, an extra hidden
 * layer, and `clamp_max` where the paper has max(L, i)); we follow the paper's module.
 *
 * Framework-free form: `fireBias` over plain arrays with given MLP weights. Future keys (j > i) get bias 0 in the
 * causal variant, as in alibi.ts and kerple.ts (the attention masks them). The trainable form (`fire` spec's
 * `trainable`, hook (d)) owns the MLP, c and L_multiplier of every layer as engine Parameters.
 */
import {
  abs,
  add,
  div,
  log,
  matmul,
  mul,
  type Parameter,
  parameter,
  permute,
  relu,
  reshape,
  type Tensor,
  tensor,
  where,
} from "../engine/index.js";
import type { Rng } from "../util/rng.js";
import { checkBoolean, checkNumber, PosencConfigError } from "../util/validation.js";
import { checkPositions } from "./alibi.js";
import {
  biasVariantOf,
  checkPositionIds,
  type ModelDims,
  PerForward,
  rowsShareIds,
  type TrainableEncoding,
} from "./trainable.js";
import { defineEncoding, type EncodingSpec, type PositionalEncoding, resolveParams } from "./types.js";

/** The paper's module's constants: c0, L0, MLP width and the normaliser's epsilon. */
export const FIRE_DEFAULTS = { c: 0.1, threshold: 512, mlpWidth: 32, eps: 1e-6 } as const;

export interface FireScaleOptions {
  /** The log transform's scale c (> 0); the learned c enters as |c|. */
  c: number;
  /** The threshold L (>= 0) of the normaliser psi(max(L, i)). */
  threshold: number;
  /** Added to the normaliser (default 1e-6, the paper's module). */
  eps?: number;
}

function checkScale(options: FireScaleOptions): { c: number; threshold: number; eps: number } {
  if (typeof options !== "object" || options === null) {
    throw new PosencConfigError("invalid_type", "options", options, "an object { c, threshold, eps? }");
  }
  return {
    c: checkNumber("c", options.c, { min: 0, exclusiveMin: true }),
    threshold: checkNumber("threshold", options.threshold, { min: 0 }),
    eps: checkNumber("eps", options.eps ?? FIRE_DEFAULTS.eps, { min: 0 }),
  };
}

/** psi(x) = log(|c x| + 1). */
export function firePsi(x: number, c: number): number {
  return Math.log1p(Math.abs(c * x));
}

/**
 * The MLP's input for query position i and key position j: psi(|i - j|) / (psi(max(L, i)) + eps). In [0, 1) for
 * 0 <= j <= i; grows with the distance and shrinks as i grows past L.
 */
export function fireNormalizedDistance(
  queryPosition: number,
  keyPosition: number,
  options: FireScaleOptions,
): number {
  const { c, threshold, eps } = checkScale(options);
  checkNumber("queryPosition", queryPosition);
  checkNumber("keyPosition", keyPosition);
  return normalizedDistance(queryPosition, keyPosition, c, threshold, eps);
}

function normalizedDistance(i: number, j: number, c: number, threshold: number, eps: number): number {
  return firePsi(i - j, c) / (firePsi(Math.max(i, threshold), c) + eps);
}

/** f_theta: Linear(1, width) -> ReLU -> Linear(width, numHeads). w2 is row-major [width, numHeads]. */
export interface FireMlpWeights {
  w1: ArrayLike<number>;
  b1: ArrayLike<number>;
  w2: ArrayLike<number>;
  b2: ArrayLike<number>;
}

/** Checks the weights' lengths and values; returns { width, numHeads }. */
export function fireMlpShape(weights: FireMlpWeights): { width: number; numHeads: number } {
  if (typeof weights !== "object" || weights === null) {
    throw new PosencConfigError("invalid_type", "weights", weights, "an object { w1, b1, w2, b2 }");
  }
  const width = weights.w1?.length ?? 0;
  const numHeads = weights.b2?.length ?? 0;
  if (width < 1 || numHeads < 1 || weights.b1?.length !== width || weights.w2?.length !== width * numHeads) {
    throw new RangeError(
      `FIRE weights need w1 and b1 of length width >= 1, w2 of width * numHeads and b2 of numHeads >= 1; received lengths w1 ${weights.w1?.length}, b1 ${weights.b1?.length}, w2 ${weights.w2?.length}, b2 ${weights.b2?.length}`,
    );
  }
  for (const key of ["w1", "b1", "w2", "b2"] as const) checkPositions(key, weights[key]);
  return { width, numHeads };
}

/** Writes f_theta(x) (numHeads values) into `out`; `hidden` is scratch of length width. */
function evaluateMlp(weights: FireMlpWeights, x: number, hidden: Float64Array, out: Float64Array): void {
  const width = hidden.length;
  const numHeads = out.length;
  for (let u = 0; u < width; u++) hidden[u] = Math.max(0, weights.w1[u] * x + weights.b1[u]);
  for (let h = 0; h < numHeads; h++) {
    let s = weights.b2[h];
    for (let u = 0; u < width; u++) s += hidden[u] * weights.w2[u * numHeads + h];
    out[h] = s;
  }
}

/** f_theta(x), one value per head. */
export function fireMlp(weights: FireMlpWeights, x: number): Float64Array {
  const { width, numHeads } = fireMlpShape(weights);
  checkNumber("x", x);
  const out = new Float64Array(numHeads);
  evaluateMlp(weights, x, new Float64Array(width), out);
  return out;
}

export interface FireBiasOptions extends FireScaleOptions {
  /** true (default): keys after the query get 0 (the attention masks them); false: |i - j| both ways. */
  causal?: boolean;
}

/**
 * FIRE bias for arbitrary positions, row-major [numHeads, queryPositions.length, keyPositions.length], in float64:
 *   bias[h, a, b] = f_theta( psi(q_a - k_b) / (psi(max(L, q_a)) + eps) )_h.
 */
export function fireBias(
  weights: FireMlpWeights,
  queryPositions: ArrayLike<number>,
  keyPositions: ArrayLike<number>,
  options: FireBiasOptions,
): Float64Array {
  const { width, numHeads } = fireMlpShape(weights);
  const { c, threshold, eps } = checkScale(options);
  const causal = checkBoolean("causal", options.causal ?? true);
  checkPositions("queryPositions", queryPositions);
  checkPositions("keyPositions", keyPositions);
  const q = queryPositions.length;
  const k = keyPositions.length;
  const out = new Float64Array(numHeads * q * k);
  const hidden = new Float64Array(width);
  const heads = new Float64Array(numHeads);
  for (let a = 0; a < q; a++) {
    for (let b = 0; b < k; b++) {
      if (causal && keyPositions[b] > queryPositions[a]) continue; // future key: stays 0
      evaluateMlp(
        weights,
        normalizedDistance(queryPositions[a], keyPositions[b], c, threshold, eps),
        hidden,
        heads,
      );
      for (let h = 0; h < numHeads; h++) out[(h * q + a) * k + b] = heads[h];
    }
  }
  return out;
}

/**
 * Initial MLP weights as PyTorch's nn.Linear draws them: every weight and bias of a layer with fan-in n from
 * U(-1/sqrt(n), 1/sqrt(n)); order w1, b1, w2, b2 (w2 row-major [width, numHeads]).
 */
export function fireInitialWeights(
  numHeads: number,
  width: number,
  rng: Rng,
): { w1: Float64Array; b1: Float64Array; w2: Float64Array; b2: Float64Array } {
  checkNumber("numHeads", numHeads, { integer: true, min: 1 });
  checkNumber("width", width, { integer: true, min: 1 });
  const uniform = (count: number, bound: number) =>
    Float64Array.from({ length: count }, () => bound * (2 * rng.next() - 1));
  const bound2 = 1 / Math.sqrt(width);
  const w1 = uniform(width, 1);
  const b1 = uniform(width, 1);
  const w2 = uniform(width * numHeads, bound2);
  const b2 = uniform(numHeads, bound2);
  return { w1, b1, w2, b2 };
}

// ---------------------------------------------------------------------------------------------------------------
// Trainable form (hook d) over engine tensors.
// ---------------------------------------------------------------------------------------------------------------

/** One layer's learned FIRE parameters as tensors: w1 [1, W], b1 [W], w2 [W, H], b2 [H], c [1], lMultiplier [1]. */
export interface FireTensors {
  w1: Tensor;
  b1: Tensor;
  w2: Tensor;
  b2: Tensor;
  c: Tensor;
  lMultiplier: Tensor;
}

/** The parameter-free inputs of the FIRE bias for one batch of ids: |i - j| [R, T, T] and query ids [R, T, 1]. */
export interface FirePositionTensors {
  /** 1 when every example has the same ids (the bias is then shared across the batch), else batchSize. */
  rows: number;
  distances: Tensor;
  queryIds: Tensor;
}

/** Builds the distance and query-id tensors of row-major [batchSize, seqLen] ids (one row when all agree). */
export function firePositionTensors(
  positionIds: Float64Array,
  batchSize: number,
  seqLen: number,
): FirePositionTensors {
  checkPositionIds("fire", positionIds, batchSize, seqLen);
  const rows = rowsShareIds(positionIds, batchSize, seqLen) ? 1 : batchSize;
  const distances = new Float64Array(rows * seqLen * seqLen);
  for (let r = 0; r < rows; r++) {
    const base = r * seqLen;
    for (let i = 0; i < seqLen; i++) {
      for (let j = 0; j < seqLen; j++) {
        distances[(base + i) * seqLen + j] = Math.abs(positionIds[base + i] - positionIds[base + j]);
      }
    }
  }
  return {
    rows,
    distances: tensor(distances, [rows, seqLen, seqLen]),
    queryIds: tensor(positionIds.subarray(0, rows * seqLen), [rows, seqLen, 1]),
  };
}

/**
 * The FIRE bias of one layer through differentiable engine ops, [R, H, T, T] (R from `positions`). threshold0 is
 * L0; the threshold is |lMultiplier * L0|. Every pair gets f(psi(|i - j|) / (psi(max(i, L)) + eps)), as the
 * paper's module; the attention's causal mask removes future keys.
 */
export function fireBiasTensor(
  weights: FireTensors,
  positions: FirePositionTensors,
  threshold0: number,
  eps: number = FIRE_DEFAULTS.eps,
): Tensor {
  const { rows, distances, queryIds } = positions;
  const seqLen = distances.shape[1];
  const numHeads = weights.b2.size;
  // L = |lMultiplier * L0|; normaliser max(i, L): `where` routes the gradient to the chosen operand.
  const threshold = abs(mul(weights.lMultiplier, threshold0));
  const L = threshold.data[0];
  const beyond = tensor(
    Float64Array.from(queryIds.data, (i) => (i > L ? 1 : 0)),
    queryIds.shape,
  );
  const normaliser = where(beyond, queryIds, threshold);
  const psi = (x: Tensor) => log(add(abs(mul(x, weights.c)), 1));
  const x = div(psi(distances), add(psi(normaliser), eps));
  const hidden = relu(add(matmul(reshape(x, [rows * seqLen * seqLen, 1]), weights.w1), weights.b1));
  const out = add(matmul(hidden, weights.w2), weights.b2);
  return permute(reshape(out, [rows, seqLen, seqLen, numHeads]), [0, 3, 1, 2]);
}

/** One layer's parameters, drawn by `fireInitialWeights` (so the two initialisations cannot drift apart). */
function createFireLayer(name: string, numHeads: number, width: number, c0: number, rng: Rng) {
  const init = fireInitialWeights(numHeads, width, rng);
  return {
    w1: parameter(init.w1, [1, width], `${name}.w1`),
    b1: parameter(init.b1, [width], `${name}.b1`),
    w2: parameter(init.w2, [width, numHeads], `${name}.w2`),
    b2: parameter(init.b2, [numHeads], `${name}.b2`),
    c: parameter([c0], [1], `${name}.c`),
    lMultiplier: parameter([1], [1], `${name}.lMultiplier`),
  } satisfies Record<keyof FireTensors, Parameter>;
}

/** The trainable FIRE: one MLP, c and L multiplier per layer (or one set for all with shareAcrossLayers). */
export function createFireTrainable(
  params: Record<string, unknown>,
  dims: ModelDims,
  rng: Rng,
  path = "fire",
): TrainableEncoding & {
  layers: readonly FireTensors[];
  attentionBias: NonNullable<TrainableEncoding["attentionBias"]>;
} {
  const p = resolveParams(path, FIRE_PARAMS, params);
  checkNumber("dims.numHeads", dims.numHeads, { integer: true, min: 1 });
  checkNumber("dims.numLayers", dims.numLayers, { integer: true, min: 1 });
  const width = p.mlpWidth;
  const count = p.shareAcrossLayers ? 1 : dims.numLayers;
  const layers = Array.from({ length: count }, (_, l) =>
    createFireLayer(`fire.layer${l}`, dims.numHeads, width, p.c, rng),
  );
  const threshold0 = p.threshold;
  // Per forward pass (the model passes one ids array per forward): the ids-only tensors serve every layer, and
  // with shared parameters the bias itself does.
  const positionsCache = new PerForward<Tensor[]>();
  const sharedBias = new PerForward<Tensor>();
  return {
    id: "fire",
    layers,
    parameters: () => layers.flatMap((l) => [l.w1, l.b1, l.w2, l.b2, l.c, l.lMultiplier]),
    attentionBias(positionIds, batchSize, seqLen, layer) {
      const weights = layers[p.shareAcrossLayers ? 0 : layer];
      if (!weights) throw new RangeError(`fire.attentionBias: layer ${layer} is not in 0..${count - 1}`);
      const [distances, queryIds] = positionsCache.get(positionIds, () => {
        const t = firePositionTensors(positionIds, batchSize, seqLen);
        return [t.distances, t.queryIds];
      });
      const build = () =>
        fireBiasTensor(weights, { rows: distances.shape[0], distances, queryIds }, threshold0);
      return p.shareAcrossLayers ? sharedBias.get(positionIds, build) : build();
    },
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Spec.
// ---------------------------------------------------------------------------------------------------------------

const FIRE_PARAMS = {
  variant: {
    type: "string",
    description:
      'Framework-free form only: "causal" = keys after the query get 0 (masked by the attention), "symmetric" = f(psi(|i - j|) / psi(max(L, i))) both ways.',
    default: "causal",
    choices: ["causal", "symmetric"],
  },
  c: {
    type: "number",
    description: "Scale c of the log transform psi(x) = log(|c x| + 1); the initial value of the learned c.",
    default: FIRE_DEFAULTS.c,
    min: 0,
    exclusiveMin: true,
  },
  threshold: {
    type: "number",
    description:
      "L0: the normaliser is psi(max(L, i)) with L = |m * L0|, m learned from 1 (the paper: 512; use about the training length for short runs).",
    default: FIRE_DEFAULTS.threshold,
    min: 0,
  },
  mlpWidth: {
    type: "integer",
    description: "Hidden width of f_theta: Linear(1, width) -> ReLU -> Linear(width, numHeads).",
    default: FIRE_DEFAULTS.mlpWidth,
    min: 1,
  },
  shareAcrossLayers: {
    type: "boolean",
    description: "Trainable form: one f_theta, c and L for all layers instead of one per layer.",
    default: false,
  },
  weights: {
    type: "number[]",
    description:
      "Framework-free form: f_theta's weights flattened as w1 (width), b1 (width), w2 (row-major [width, numHeads]), b2 (numHeads). Empty (default): zero bias; the trainable model learns its own.",
    default: [],
  },
} as const satisfies EncodingSpec["params"];

/** Splits flattened weights [w1, b1, w2, b2] for `numHeads` heads and the given width. */
export function unflattenFireWeights(
  flat: ArrayLike<number>,
  width: number,
  numHeads: number,
): FireMlpWeights {
  const expected = 2 * width + width * numHeads + numHeads;
  if (flat.length !== expected) {
    throw new PosencConfigError(
      "invalid_value",
      "fire.weights",
      Array.from(flat),
      `2 * mlpWidth + mlpWidth * numHeads + numHeads = ${expected} values, or [] for a zero bias`,
    );
  }
  const values = Float64Array.from(flat);
  return {
    w1: values.subarray(0, width),
    b1: values.subarray(width, 2 * width),
    w2: values.subarray(2 * width, 2 * width + width * numHeads),
    b2: values.subarray(2 * width + width * numHeads),
  };
}

export const fireSpec = defineEncoding({
  id: "fire",
  name: "FIRE (functional interpolation for relative positions)",
  family: "attention-bias",
  paper: {
    title: "Functional Interpolation for Relative Positions Improves Long Context Transformers",
    arxiv: "2310.04418",
    year: 2023,
  },
  formula:
    "bias[h, i, j] = MLP(psi(i - j) / psi(max(L, i)))_h, psi(x) = log(|c x| + 1); MLP, c and L learned",
  summary:
    "Adds a learned function (a small MLP, one output per head) of the log-scaled distance normalised by the query position, so any length maps into the trained range.",
  slots: ["attentionBias"],
  modelParams: (dims) => ({ variant: biasVariantOf(dims) }),
  params: FIRE_PARAMS,
  create(params, path = "fire"): PositionalEncoding {
    const p = resolveParams(path, FIRE_PARAMS, params);
    const flat = p.weights;
    const width = p.mlpWidth;
    const options = { c: p.c, threshold: p.threshold, causal: p.variant === "causal" };
    return {
      id: "fire",
      params: Object.freeze(p),
      attentionBias(queryPositions, keyPositions, numHeads) {
        checkNumber("numHeads", numHeads, { integer: true, min: 1 });
        checkPositions("queryPositions", queryPositions);
        checkPositions("keyPositions", keyPositions);
        if (flat.length === 0)
          return new Float32Array(numHeads * queryPositions.length * keyPositions.length);
        const weights = unflattenFireWeights(flat, width, numHeads);
        return Float32Array.from(fireBias(weights, queryPositions, keyPositions, options));
      },
    };
  },
  trainable: createFireTrainable,
});
