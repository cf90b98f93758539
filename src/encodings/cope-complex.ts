/**
 * Complex CoPE, from "CoPE: A Lightweight Complex Positional Encoding" (Avinash Amballa, 2025), arXiv:2508.18308.
 * Not Golovneva et al.'s contextual position encoding (id `cope`): this one is complex-valued and absolute.
 *
 * Each token is a complex vector whose real part is its content and whose imaginary part its position:
 *   z_t = x_t + i p_t,   p_(t, 2j) = p_(t, 2j+1) = gamma sin(omega_j t),   omega_j = base^(-2j/d),  j < d/2
 * (the code repeats each frequency on two adjacent channels; sine only). Only the first layer sees the imaginary
 * part, through complex-linear projections Q = W_q z, K = W_k z with W = W_r + i W_i:
 *   Q_r = x W_qr - p W_qi,   Q_i = p W_qr + x W_qi        (the same for K)
 * and "phase-aware" scores from the Hermitian product S = s Q K^H (s = 1/sqrt(d_k), per head):
 *   Re S = s (Q_r K_r^T + Q_i K_i^T),   Im S = s (Q_i K_r^T - Q_r K_i^T)
 *   variant "real"       Re S / sqrt(d_k)
 *           "magnitude"  |S| / sqrt(d_k)
 *           "phase"      cos(arg S) / sqrt(d_k) = (Re S / |S|) / sqrt(d_k)
 *           "hybrid"     (|S| + alpha cos(arg S)) / sqrt(d_k)
 * (the code divides by sqrt(d_k) twice: once in S and once per variant; kept). Values are real (V = W_v x), and the
 * imaginary part is dropped after the first layer: later layers are standard attention with no position signal.
 * The paper's claims: no long-term decay (|S| does not shrink with distance as RoPE's bound does), GLUE gains over
 * RoPE, sinusoidal and learned encodings with a 6-layer, 8-head, d = 256 encoder.
 *
 * Reference: AmballaAvinash/cope (the author's), complex_transformer_single_realV.py `ComplexEmbeddings`,
 * `MultiHeadAttentionComplex` (commit a7c3a4bc3361); its GLUE scripts train the variants real, magnitude, phase,
 * hybrid and hybrid_norm with alpha = 0.2, gamma = 1. Not implemented: "hybrid_norm" divides |S| by its maximum over
 * the whole batch tensor (an example's scores then depend on the other examples), and "apatt" / "riatt" do not run
 * in that file (undefined names). Defaults: "hybrid", alpha 0.2, gamma 1, base 10000 (the code's).
 *
 * In this model (pre-norm): the first layer's x is the attention sublayer's input LN(x) (the code's post-norm layer
 * reads the raw embedding), p comes from the position ids, and this encoding owns W_qr, W_qi, W_kr, W_ki of the
 * first layer (Xavier-uniform, no bias, as the code): its scores replace that layer's q k^T, so the model's own query
 * and key projections of layer 0 get no gradient. Slot (e) contentAttention returning scores; the causal mask and
 * residual (real) path are the model's.
 */
import {
  add,
  div,
  matmul,
  mul,
  type Parameter,
  splitHeads,
  sqrt,
  sub,
  type Tensor,
  tensor,
  xavierUniform,
} from "../engine/index.js";
import type { Rng } from "../util/rng.js";
import { checkNumber } from "../util/validation.js";
import { checkPositions } from "./alibi.js";
import {
  checkPositionIds,
  type ModelDims,
  PerForward,
  rowsShareIds,
  type TrainableEncoding,
} from "./trainable.js";
import { defineEncoding, type EncodingSpec, type PositionalEncoding, resolveParams } from "./types.js";

export type CopeComplexVariant = "real" | "magnitude" | "phase" | "hybrid";
export const COPE_COMPLEX_VARIANTS: readonly CopeComplexVariant[] = ["real", "magnitude", "phase", "hybrid"];

/** Under the square root of |S|: keeps d|S| and d(Re S / |S|) finite where S = 0 (relative change < 1e-12). */
export const COPE_COMPLEX_EPS = 1e-24;

/** The imaginary part p [T, d] row-major: p_(t, 2j) = p_(t, 2j+1) = gamma sin(base^(-2j/d) t). */
export function complexPositionPart(
  positions: ArrayLike<number>,
  dModel: number,
  gamma = 1,
  base = 10000,
): Float64Array {
  checkPositions("positions", positions);
  if (!Number.isInteger(dModel) || dModel < 2 || dModel % 2 !== 0) {
    throw new RangeError(`complexPositionPart: dModel must be an even integer >= 2, received ${dModel}`);
  }
  const out = new Float64Array(positions.length * dModel);
  for (let t = 0; t < positions.length; t++) {
    for (let j = 0; j < dModel / 2; j++) {
      const v = gamma * Math.sin(positions[t] * base ** (-(2 * j) / dModel));
      out[t * dModel + 2 * j] = v;
      out[t * dModel + 2 * j + 1] = v;
    }
  }
  return out;
}

/** The variant's score from Re S and |S| (S already scaled by 1/sqrt(d_k)), divided by sqrt(d_k) once more. */
function variantScore(
  variant: CopeComplexVariant,
  re: number,
  mag: number,
  alpha: number,
  dk: number,
): number {
  const phase = re / mag;
  const s =
    variant === "real"
      ? re
      : variant === "magnitude"
        ? mag
        : variant === "phase"
          ? phase
          : mag + alpha * phase;
  return s / Math.sqrt(dk);
}

export interface CopeComplexWeights<W> {
  /** [d, d] each, row-major [in, out] (x W). */
  qr: W;
  qi: W;
  kr: W;
  ki: W;
}

/**
 * The first layer's pre-softmax scores over plain arrays: x, p [T, d] (real and imaginary parts), weights [d, d];
 * returns [H, T, T] row-major.
 */
export function copeComplexScores(
  x: ArrayLike<number>,
  p: ArrayLike<number>,
  weights: CopeComplexWeights<ArrayLike<number>>,
  options: { numHeads: number; variant: CopeComplexVariant; alpha: number },
): Float64Array {
  const { numHeads: H, variant, alpha } = options;
  const d = Math.round(Math.sqrt(weights.qr.length));
  const T = x.length / d;
  if (!Number.isInteger(T) || p.length !== x.length || d % H !== 0) {
    throw new RangeError(
      `copeComplexScores: x and p need T * d values with d = ${d} divisible by numHeads = ${H}; received ${x.length}, ${p.length}`,
    );
  }
  const project = (a: ArrayLike<number>, w: ArrayLike<number>) => {
    const out = new Float64Array(T * d);
    for (let t = 0; t < T; t++)
      for (let o = 0; o < d; o++) {
        let s = 0;
        for (let c = 0; c < d; c++) s += a[t * d + c] * w[c * d + o];
        out[t * d + o] = s;
      }
    return out;
  };
  const complex = (wr: ArrayLike<number>, wi: ArrayLike<number>) => {
    const [xr, pi, pr, xi] = [project(x, wr), project(p, wi), project(p, wr), project(x, wi)];
    return { re: xr.map((v, n) => v - pi[n]), im: pr.map((v, n) => v + xi[n]) };
  };
  const q = complex(weights.qr, weights.qi);
  const k = complex(weights.kr, weights.ki);
  const dk = d / H;
  const out = new Float64Array(H * T * T);
  for (let h = 0; h < H; h++) {
    for (let i = 0; i < T; i++) {
      for (let j = 0; j < T; j++) {
        let re = 0;
        let im = 0;
        for (let c = h * dk; c < (h + 1) * dk; c++) {
          const [a, b] = [i * d + c, j * d + c];
          re += q.re[a] * k.re[b] + q.im[a] * k.im[b];
          im += q.im[a] * k.re[b] - q.re[a] * k.im[b];
        }
        re /= Math.sqrt(dk);
        im /= Math.sqrt(dk);
        const mag = Math.sqrt(re * re + im * im + COPE_COMPLEX_EPS);
        out[(h * T + i) * T + j] = variantScore(variant, re, mag, alpha, dk);
      }
    }
  }
  return out;
}

/**
 * The differentiable scores [B, H, T, T] from x [B, T, d], the imaginary part p [rows, T, d] (rows 1 or B) and
 * the complex projections [d, d].
 */
export function copeComplexScoresTensor(
  x: Tensor,
  p: Tensor,
  weights: CopeComplexWeights<Tensor>,
  options: { numHeads: number; variant: CopeComplexVariant; alpha: number },
): Tensor {
  const { numHeads: H, variant, alpha } = options;
  const d = x.shape[2];
  const dk = d / H;
  const heads = (t: Tensor) => splitHeads(t, 1, H)[0];
  const complex = (wr: Tensor, wi: Tensor) => ({
    re: heads(sub(matmul(x, wr), matmul(p, wi))),
    im: heads(add(matmul(p, wr), matmul(x, wi))),
  });
  const q = complex(weights.qr, weights.qi);
  const k = complex(weights.kr, weights.ki);
  const s = 1 / Math.sqrt(dk);
  const dot = (a: Tensor, b: Tensor) => matmul(a, b, { transB: true });
  const re = mul(add(dot(q.re, k.re), dot(q.im, k.im)), s);
  if (variant === "real") return mul(re, s);
  const im = mul(sub(dot(q.im, k.re), dot(q.re, k.im)), s);
  const mag = sqrt(add(add(mul(re, re), mul(im, im)), COPE_COMPLEX_EPS));
  if (variant === "magnitude") return mul(mag, s);
  const phase = div(re, mag);
  if (variant === "phase") return mul(phase, s);
  return mul(add(mag, mul(phase, alpha)), s);
}

const COPE_COMPLEX_PARAMS = {
  variant: {
    type: "string",
    description:
      'Score of the first layer from S = Q K^H / sqrt(d_k): "real" Re S, "magnitude" |S|, "phase" cos(arg S), "hybrid" |S| + alpha cos(arg S) (each / sqrt(d_k)).',
    default: "hybrid",
    choices: COPE_COMPLEX_VARIANTS,
  },
  alpha: {
    type: "number",
    description: 'Weight of cos(arg S) in the "hybrid" score (the code: 0.2).',
    default: 0.2,
  },
  gamma: {
    type: "number",
    description: "Amplitude of the imaginary (position) part gamma sin(omega t) (the code: 1).",
    default: 1,
  },
  base: {
    type: "number",
    description: "Base of the frequencies omega_j = base^(-2j/d) (the code: 10000).",
    default: 10000,
    min: 1,
    exclusiveMin: true,
  },
} as const satisfies EncodingSpec["params"];

type CopeComplexParams = {
  variant: CopeComplexVariant;
  alpha: number;
  gamma: number;
  base: number;
};

function createCopeComplexTrainable(params: CopeComplexParams, dims: ModelDims, rng: Rng): TrainableEncoding {
  const d = checkNumber("dims.dModel", dims.dModel, { integer: true, min: 2 });
  if (d % 2 !== 0) throw new RangeError(`cope-complex: dModel must be even, received ${d}`);
  const weight = (name: string) => xavierUniform(rng, [d, d], `cope-complex.layer0.${name}`);
  const weights: CopeComplexWeights<Parameter> = {
    qr: weight("queryReal"),
    qi: weight("queryImag"),
    kr: weight("keyReal"),
    ki: weight("keyImag"),
  };
  const imagPerForward = new PerForward<Tensor>();
  return {
    id: "cope-complex",
    parameters: () => [weights.qr, weights.qi, weights.kr, weights.ki],
    contentAttention({ x, positionIds, layer }) {
      if (layer !== 0) return {};
      const [B, T] = x.shape;
      checkPositionIds("cope-complex", positionIds, B, T);
      const p = imagPerForward.get(positionIds, () => {
        const rows = rowsShareIds(positionIds, B, T) ? 1 : B;
        const data = complexPositionPart(positionIds.subarray(0, rows * T), d, params.gamma, params.base);
        return tensor(data, [rows, T, d]);
      });
      return {
        scores: copeComplexScoresTensor(x, p, weights, {
          numHeads: dims.numHeads,
          variant: params.variant,
          alpha: params.alpha,
        }),
      };
    },
  };
}

export const copeComplexSpec = defineEncoding({
  id: "cope-complex",
  name: "Complex CoPE (lightweight complex positional encoding)",
  family: "absolute",
  paper: { title: "CoPE: A Lightweight Complex Positional Encoding", arxiv: "2508.18308", year: 2025 },
  formula:
    "z = x + i gamma sin(omega t); first layer Q = W_q z, K = W_k z complex-linear, S = Q K^H / sqrt(d_k), score (|S| + alpha cos(arg S)) / sqrt(d_k)",
  summary:
    "Puts the position in the imaginary part of a complex token vector, read only by the first layer's phase-aware attention (magnitude and phase of the Hermitian product).",
  slots: ["contextual"],
  params: COPE_COMPLEX_PARAMS,
  create(params, path = "cope-complex"): PositionalEncoding {
    const p = resolveParams(path, COPE_COMPLEX_PARAMS, params);
    // No framework-free hook: the scores need the layer input (copeComplexScores is the math over arrays).
    return { id: "cope-complex", params: Object.freeze(p) };
  },
  trainable: (params, dims, rng) => createCopeComplexTrainable(params, dims, rng),
});
