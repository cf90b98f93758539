/**
 * ComplexFormer's head-specific complex attention, from "ComplexFormer: Disruptively Advancing Transformer Inference
 * Ability via Head-Specific Complex Vector Attention" (Shao, Huang, Wu, Zhang, Wu, Shan, Zheng, 2025), arXiv:2505.10222
 * (withdrawn by its authors on 27 May 2025, v2; v1 and the code remain the reference).
 *
 * Each head reads its query and key as d/2 complex numbers (first half real, second half imaginary: the "Euler
 * transform" z = r e^(i phi)) and scores them with a learned, head-specific map of the semantic phase difference
 * plus RoPE's relative angle:
 *   score[h, i, j] = sum_c r^q_(i,c) r^k_(j,c) cos( delta_(h,c) (phi^q_(i,c) - phi^k_(j,c)) + b_(h,c) + (p_i - p_j) g_c )
 *   r = sqrt(re^2 + im^2 + 1e-9),  phi = atan2(im, re),  g_c = 10000^(-2c/d)
 * delta ~ N(0, 1/sqrt(d/2)) and b = 0 at initialisation (learned, per layer). With delta = 1 and b = 0 the score is
 * RoPE's q.k without the 1/sqrt(d) (each pair rotated by p g_c); delta scales how much a head cares about the
 * semantic angle, b shifts it.
 * The score replaces scale * q.k^T (no 1/sqrt(d), as the code); the causal mask and any bias still apply.
 *
 * Reference: shaojintian/complexFormer, attention/complex_attention.py `ComplexMultiHeadAttentionV2.forward`
 * (index commit 3cbf10b0b5b6; the account is the first author's, Jintian Shao; the README does not link the paper). It
 * computes the relative term in bfloat16 (its frequencies are cast to bfloat16 and the scores run under autocast);
 * we compute in float32 (float64 in the tests), so values agree with its float64 math, not its bf16 rounding.
 *
 * Computation: cos(A_i - B_j) = cos A_i cos B_j + sin A_i sin B_j with A_i = delta phi^q_i + b + p_i g and
 * B_j = delta phi^k_j + p_j g, so the scores are one matmul of [r cos A, r sin A] with [r cos B, r sin B] (no
 * [T, T, d/2] tensor). Phases come from the engine's atan2 op.
 */
import {
  add,
  atan2,
  concat,
  cos,
  matmul,
  mul,
  normalParameter,
  type Parameter,
  parameter,
  reshape,
  sin,
  slice,
  sqrt,
  type Tensor,
  tensor,
} from "../engine/index.js";
import type { Rng } from "../util/rng.js";
import { checkNumber } from "../util/validation.js";
import { checkPositions } from "./alibi.js";
import { ropeInverseFrequencies } from "./rope.js";
import {
  checkPositionIds,
  type ModelDims,
  PerForward,
  rowsShareIds,
  type TrainableEncoding,
} from "./trainable.js";
import { defineEncoding, type EncodingSpec, type PositionalEncoding, resolveParams } from "./types.js";

/** The official magnitude's epsilon under the square root. */
export const COMPLEXFORMER_EPS = 1e-9;

/**
 * One head's scores over plain arrays, row-major [T, T]: q, k [T, d] (halves = real, imaginary), delta and bias
 * [d/2], positions [T], frequencies g [d/2].
 */
export function complexFormerScores(
  q: ArrayLike<number>,
  k: ArrayLike<number>,
  options: {
    delta: ArrayLike<number>;
    bias: ArrayLike<number>;
    positions: ArrayLike<number>;
    frequencies: ArrayLike<number>;
  },
): Float64Array {
  const { delta, bias, positions, frequencies: g } = options;
  const P = g.length;
  const d = 2 * P;
  const T = positions.length;
  checkPositions("positions", positions);
  if (q.length !== T * d || k.length !== T * d || delta.length !== P || bias.length !== P) {
    throw new RangeError(
      `complexFormerScores: q and k need T * d = ${T * d} values, delta and bias d/2 = ${P}; received ${q.length}, ${k.length}, ${delta.length}, ${bias.length}`,
    );
  }
  const polar = (x: ArrayLike<number>, t: number, c: number) => {
    const re = x[t * d + c];
    const im = x[t * d + P + c];
    return { r: Math.sqrt(re * re + im * im + COMPLEXFORMER_EPS), phi: Math.atan2(im, re) };
  };
  const out = new Float64Array(T * T);
  for (let i = 0; i < T; i++) {
    for (let j = 0; j < T; j++) {
      let s = 0;
      for (let c = 0; c < P; c++) {
        const a = polar(q, i, c);
        const b = polar(k, j, c);
        s +=
          a.r * b.r * Math.cos(delta[c] * (a.phi - b.phi) + bias[c] + (positions[i] - positions[j]) * g[c]);
      }
      out[i * T + j] = s;
    }
  }
  return out;
}

/**
 * The differentiable scores [B, H, T, T] from q, k [B, H, T, Dh], delta and bias [H, P], position angles
 * p_t g_c as [rows, 1, T, P] (rows 1 or B).
 */
export function complexFormerScoresTensor(
  q: Tensor,
  k: Tensor,
  delta: Tensor,
  bias: Tensor,
  positionAngles: Tensor,
): Tensor {
  const [, H, , Dh] = q.shape;
  const P = Dh / 2;
  const perHead = (t: Tensor) => reshape(t, [1, H, 1, P]);
  const polar = (x: Tensor) => {
    const re = slice(x, 3, 0, P);
    const im = slice(x, 3, P, Dh);
    return { r: sqrt(add(add(mul(re, re), mul(im, im)), COMPLEXFORMER_EPS)), phi: atan2(im, re) };
  };
  const a = polar(q);
  const b = polar(k);
  const angleQ = add(add(mul(perHead(delta), a.phi), perHead(bias)), positionAngles);
  const angleK = add(mul(perHead(delta), b.phi), positionAngles);
  const left = concat([mul(a.r, cos(angleQ)), mul(a.r, sin(angleQ))], 3);
  const right = concat([mul(b.r, cos(angleK)), mul(b.r, sin(angleK))], 3);
  return matmul(left, right, { transB: true });
}

function createComplexFormerTrainable(
  params: { base: number },
  dims: ModelDims,
  rng: Rng,
): TrainableEncoding {
  const H = dims.numHeads;
  const Dh = checkNumber("dims.headDim", dims.headDim, { integer: true, min: 2 });
  if (Dh % 2 !== 0) throw new RangeError(`complexformer: the head size must be even, received ${Dh}`);
  const P = Dh / 2;
  const layers = Array.from({ length: dims.numLayers }, (_, l) => ({
    delta: normalParameter(rng, [H, P], 1 / Math.sqrt(P), `complexformer.layer${l}.delta`),
    bias: parameter(new Array<number>(H * P).fill(0), [H, P], `complexformer.layer${l}.bias`),
  }));
  const g = ropeInverseFrequencies(Dh, params.base);
  const anglesPerForward = new PerForward<Tensor>();
  return {
    id: "complexformer",
    parameters: () => layers.flatMap((l): Parameter[] => [l.delta, l.bias]),
    contentAttention({ q, k, positionIds, layer }) {
      const weights = layers[layer];
      if (!weights) throw new RangeError(`complexformer: layer ${layer} is not in 0..${layers.length - 1}`);
      const [B, , T] = q.shape;
      checkPositionIds("complexformer", positionIds, B, T);
      const angles = anglesPerForward.get(positionIds, () => {
        const rows = rowsShareIds(positionIds, B, T) ? 1 : B;
        const data = new Float32Array(rows * T * P);
        for (let n = 0; n < rows * T; n++)
          for (let c = 0; c < P; c++) data[n * P + c] = positionIds[n] * g[c];
        return tensor(data, [rows, 1, T, P]);
      });
      return { scores: complexFormerScoresTensor(q, k, weights.delta, weights.bias, angles) };
    },
  };
}

const COMPLEXFORMER_PARAMS = {
  base: {
    type: "number",
    description: "Base of the relative angle's frequencies g_c = base^(-2c/d) (the code: 10000).",
    default: 10000,
    min: 1,
    exclusiveMin: true,
  },
} as const satisfies EncodingSpec["params"];

export const complexFormerSpec = defineEncoding({
  id: "complexformer",
  name: "ComplexFormer (head-specific complex attention)",
  family: "rotary",
  paper: {
    title:
      "ComplexFormer: Disruptively Advancing Transformer Inference Ability via Head-Specific Complex Vector Attention",
    arxiv: "2505.10222",
    year: 2025,
  },
  formula:
    "score_ij = sum_c |q_ic| |k_jc| cos(delta_hc (phi_q - phi_k) + b_hc + (i - j) g_c), q and k as complex pairs; delta, b learned per head",
  summary:
    "Scores queries and keys as complex vectors, with a learned head-specific scaling and shift of their phase difference added to RoPE's relative angle.",
  slots: ["contextual"],
  params: COMPLEXFORMER_PARAMS,
  create(params, path = "complexformer"): PositionalEncoding {
    const p = resolveParams(path, COMPLEXFORMER_PARAMS, params);
    // No framework-free hook: the scores need q and k (complexFormerScores is the math over arrays).
    return { id: "complexformer", params: Object.freeze(p) };
  },
  trainable: (params, dims, rng) => createComplexFormerTrainable(params, dims, rng),
});
