/**
 * BAM, from "Bayesian Attention Mechanism: A Probabilistic Framework for Positional Encoding and Context Length
 * Extrapolation" (Bianchessi, Aguirre, Barros and Kupssinskü, 2025; ICLR 2026), arXiv:2505.22842.
 *
 * Attention as a posterior: softmax(q.k / sqrt(d) + log prior(j | i)). BAM's prior over the key-query offset is a
 * generalized Gaussian, per head h:
 *   bias[h, i, j] = -alpha_h * (|(j - i) - mu_h| + eps)^beta_h       alpha_h > 0 (scale), beta_h (shape), mu_h (location)
 * Special cases (the paper's unification):
 *   beta = 0                     a constant per head: softmax ignores it, NoPE exactly (uniform prior)
 *   beta = 1, mu = 0, eps = 0    -alpha |i - j|: ALiBi with slope alpha (Laplace prior)
 *   beta = 2, eps = 0            -alpha (j - i - mu)^2: a Gaussian prior, variance 1 / (2 alpha)
 * (with eps > 0, beta = 1 is ALiBi minus the per-head constant alpha * eps, which softmax also ignores).
 *
 * Official code: ArthurSBianchessi/BAM, models/bam_ssmax.py `AttentionPrior.forward` at snapshot 5a6579d9cb0a:
 * `b = positions[None, :] - positions[:, None]` (key minus query), `b -= exp(loc) - exp(-loc)`,
 * `-((|b| + eps) ** shape) * exp(scale)`, eps = 1e-5; learned per head: log scale (init log of ALiBi's slopes,
 * `scale_init = 'slope'`), shape (init 1), loc (init 0, frozen: `train_loc = False`); one prior shared by every
 * layer (`global_positional_encoding = True`). An earlier version of that file (index commit 18adddb3b0cb) put the
 * scale inside the power, -((|b - mu| e^theta_alpha) + eps)^beta; we follow the snapshot (the paper's form).
 * The code also offers Scalable-Softmax (SSMax, logits times log(#visible keys) * s_h), a separate method that is
 * not part of this encoding.
 *
 * Future keys (j > i) of the causal variant get 0 in the framework-free form (masked by the attention, as alibi.ts);
 * the trainable form computes every pair, as the official code does, and the causal mask removes the future.
 */
import {
  abs,
  add,
  exp,
  log,
  mul,
  neg,
  type Parameter,
  parameter,
  reshape,
  sub,
  type Tensor,
  tensor,
} from "../engine/index.js";
import type { Rng } from "../util/rng.js";
import { checkNumber, PosencConfigError } from "../util/validation.js";
import { ALIBI_MAX_HEADS, alibiSlopes, checkPositions } from "./alibi.js";
import {
  biasVariantOf,
  type ModelDims,
  PerForward,
  RowTableCache,
  type TrainableEncoding,
} from "./trainable.js";
import {
  defineEncoding,
  type EncodingSpec,
  type ParamValues,
  type PositionalEncoding,
  resolveParams,
} from "./types.js";

/** The official code's eps inside the power. */
export const BAM_EPS = 1e-5;

/** Per-head prior parameters (equal lengths = numHeads). */
export interface BamPrior {
  /** alpha_h > 0: the prior's scale (the slope for beta = 1). */
  scale: ArrayLike<number>;
  /** beta_h: the prior's shape (0 uniform, 1 Laplace, 2 Gaussian). */
  shape: ArrayLike<number>;
  /** mu_h: the prior's location, in key-minus-query offset units. */
  location: ArrayLike<number>;
  /** Added to |offset - mu| before the power (default 1e-5, the official value). */
  eps?: number;
}

/** mu from the official location parameter theta_mu: exp(theta) - exp(-theta) = 2 sinh(theta). */
export function bamLocation(thetaMu: number): number {
  return Math.exp(thetaMu) - Math.exp(-thetaMu);
}

function checkPrior(prior: BamPrior): number {
  const { scale, shape, location } = prior;
  const numHeads = scale.length;
  if (numHeads < 1 || shape.length !== numHeads || location.length !== numHeads) {
    throw new RangeError(
      `BAM prior: scale, shape and location need one value per head (equal lengths >= 1), received ${scale.length}, ${shape.length}, ${location.length}`,
    );
  }
  for (let h = 0; h < numHeads; h++) {
    checkNumber(`scale[${h}]`, scale[h], { min: 0, exclusiveMin: true });
    checkNumber(`shape[${h}]`, shape[h]);
    checkNumber(`location[${h}]`, location[h]);
  }
  checkNumber("eps", prior.eps ?? BAM_EPS, { min: 0 });
  return numHeads;
}

/**
 * The BAM log-prior for arbitrary positions, row-major [numHeads, queryPositions.length, keyPositions.length], in
 * float64: -scale_h * (|(k_j - q_i) - location_h| + eps)^shape_h; with `causal` (default) future keys get 0.
 */
export function bamBiasAt(
  prior: BamPrior,
  queryPositions: ArrayLike<number>,
  keyPositions: ArrayLike<number>,
  options: { causal?: boolean } = {},
): Float64Array {
  const numHeads = checkPrior(prior);
  const eps = prior.eps ?? BAM_EPS;
  const causal = options.causal ?? true;
  checkPositions("queryPositions", queryPositions);
  checkPositions("keyPositions", keyPositions);
  const q = queryPositions.length;
  const k = keyPositions.length;
  const out = new Float64Array(numHeads * q * k);
  for (let h = 0; h < numHeads; h++) {
    const alpha = prior.scale[h];
    const beta = prior.shape[h];
    const mu = prior.location[h];
    for (let i = 0; i < q; i++) {
      for (let j = 0; j < k; j++) {
        const offset = keyPositions[j] - queryPositions[i];
        if (causal && offset > 0) continue; // future key: stays 0 (masked by the attention)
        out[(h * q + i) * k + j] = 0 - alpha * (Math.abs(offset - mu) + eps) ** beta;
      }
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------------------
// Trainable form: theta_alpha = log alpha, beta and theta_mu per head, one prior shared by every layer.
// ---------------------------------------------------------------------------------------------------------------

/** The learned prior as tensors, each [H]: log scale (theta_alpha), shape (beta), location parameter (theta_mu). */
export interface BamTensors {
  logScale: Tensor;
  shape: Tensor;
  thetaMu: Tensor;
}

/** Key-minus-query offsets of one row of ids, [T, T]. */
export function bamOffsets(positions: ArrayLike<number>): Float32Array {
  checkPositions("positions", positions);
  const T = positions.length;
  const out = new Float32Array(T * T);
  for (let i = 0; i < T; i++) for (let j = 0; j < T; j++) out[i * T + j] = positions[j] - positions[i];
  return out;
}

/**
 * The differentiable prior over offsets [rows, T, T]: -exp(logScale) * exp(shape * log(|offset - mu| + eps)),
 * mu = exp(thetaMu) - exp(-thetaMu); returns [rows, H, T, T].
 */
export function bamBiasTensor(prior: BamTensors, offsets: Tensor, eps = BAM_EPS): Tensor {
  const H = prior.shape.size;
  const [rows, T] = offsets.shape;
  const perHead = (t: Tensor) => reshape(t, [H, 1, 1]);
  const mu = sub(exp(prior.thetaMu), exp(neg(prior.thetaMu)));
  const distance = add(abs(sub(reshape(offsets, [rows, 1, T, T]), perHead(mu))), eps);
  const power = exp(mul(perHead(prior.shape), log(distance)));
  return neg(mul(perHead(exp(prior.logScale)), power));
}

/** Initial per-head values (the official defaults): scale = ALiBi slopes or `scale`, shape, location. */
function initialValues(values: number[], numHeads: number, path: string, fallback: () => number[]): number[] {
  if (values.length === 0) return fallback();
  if (values.length === 1) return new Array<number>(numHeads).fill(values[0]);
  if (values.length === numHeads) return values;
  throw new PosencConfigError(
    "invalid_value",
    path,
    values,
    `one value for every head or numHeads = ${numHeads} values`,
  );
}

function bamTrainable(
  params: BamParamValues,
  dims: ModelDims,
  _rng: Rng,
  path = "bam",
): TrainableEncoding & { prior: BamTensors } {
  const H = dims.numHeads;
  const prior = resolvePrior(params, H, path);
  const thetaMu = prior.location.map((mu) => Math.asinh(mu / 2)); // mu = 2 sinh(theta_mu)
  const logScale = parameter(prior.scale.map(Math.log), [H], "bam.logScale");
  const shape = parameter(prior.shape, [H], "bam.shape");
  const location = parameter(thetaMu, [H], "bam.thetaMu");
  const learned: Parameter[] = [];
  if (params.trainScale) learned.push(logScale);
  if (params.trainShape) learned.push(shape);
  if (params.trainLocation) learned.push(location);
  const offsets = new RowTableCache(bamOffsets);
  const perForward = new PerForward<Tensor>();
  const tensors: BamTensors = { logScale, shape, thetaMu: location };
  return {
    id: "bam",
    prior: tensors,
    parameters: () => learned,
    attentionBias(ids, batchSize, seqLen) {
      return perForward.get(ids, () => {
        const { data, rows } = offsets.get(ids, batchSize, seqLen);
        return bamBiasTensor(tensors, tensor(data, [rows, seqLen, seqLen]), params.eps);
      });
    },
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Spec.
// ---------------------------------------------------------------------------------------------------------------

const BAM_PARAMS = {
  variant: {
    type: "string",
    description:
      'Framework-free form: "causal" = future keys get 0 (masked by the attention), "symmetric" = the prior on both sides.',
    default: "causal",
    choices: ["causal", "symmetric"],
  },
  scale: {
    type: "number[]",
    description:
      "alpha_h > 0 (initial value when trained, learned as log alpha): one per head or one for all; empty (default) = ALiBi's slopes, the official init.",
    default: [],
  },
  shape: {
    type: "number[]",
    description:
      "beta_h (initial value when trained): 0 = NoPE, 1 = ALiBi/Laplace (official init), 2 = Gaussian; one per head or one for all.",
    default: [1],
  },
  location: {
    type: "number[]",
    description:
      "mu_h, the prior's centre in key-minus-query offsets (learned as theta with mu = 2 sinh theta); one per head or one for all.",
    default: [0],
  },
  eps: {
    type: "number",
    description:
      "Added to |offset - mu| before the power (official: 1e-5; 0 gives ALiBi and the Gaussian exactly).",
    default: BAM_EPS,
    min: 0,
  },
  trainScale: {
    type: "boolean",
    description: "Trainable form: learn alpha (official: true).",
    default: true,
  },
  trainShape: { type: "boolean", description: "Trainable form: learn beta (official: true).", default: true },
  trainLocation: {
    type: "boolean",
    description: "Trainable form: learn mu (official: false, mu stays at its initial value).",
    default: false,
  },
} as const satisfies EncodingSpec["params"];

type BamParamValues = ParamValues<typeof BAM_PARAMS>;

function resolvePrior(
  p: BamParamValues,
  numHeads: number,
  path: string,
): { scale: number[]; shape: number[]; location: number[] } {
  checkNumber("numHeads", numHeads, { integer: true, min: 1, max: ALIBI_MAX_HEADS });
  const scale = initialValues(p.scale, numHeads, `${path}.scale`, () => alibiSlopes(numHeads));
  scale.forEach((v, h) => {
    checkNumber(`${path}.scale[${h}]`, v, { min: 0, exclusiveMin: true });
  });
  return {
    scale,
    shape: initialValues(p.shape, numHeads, `${path}.shape`, () => [1]),
    location: initialValues(p.location, numHeads, `${path}.location`, () => [0]),
  };
}

export const bamSpec = defineEncoding({
  id: "bam",
  name: "BAM (Bayesian attention, generalized Gaussian prior)",
  family: "attention-bias",
  paper: {
    title:
      "Bayesian Attention Mechanism: A Probabilistic Framework for Positional Encoding and Context Length Extrapolation",
    arxiv: "2505.22842",
    year: 2025,
  },
  formula:
    "bias[h, i, j] = -alpha_h * (|(j - i) - mu_h| + eps)^beta_h; beta = 0 NoPE, beta = 1 ALiBi, beta = 2 Gaussian; alpha, beta (mu) learned per head",
  summary:
    "Adds the log of a learned generalized-Gaussian prior over the key-query offset, which contains NoPE, ALiBi and a Gaussian window as special cases.",
  slots: ["attentionBias"],
  modelParams: (dims) => ({ variant: biasVariantOf(dims) }),
  params: BAM_PARAMS,
  trainable: (params, dims, rng, path) => bamTrainable(params, dims, rng, path),
  create(params, path = "bam"): PositionalEncoding {
    const p = resolveParams(path, BAM_PARAMS, params);
    const causal = p.variant === "causal";
    return {
      id: "bam",
      params: Object.freeze(p),
      attentionBias(queryPositions, keyPositions, numHeads) {
        const prior = resolvePrior(p, numHeads, path);
        return Float32Array.from(
          bamBiasAt({ ...prior, eps: p.eps }, queryPositions, keyPositions, { causal }),
        );
      },
    };
  },
});
