/**
 * Selective RoPE, from "Selective Rotary Position Embedding" (Movahedi, Carstensen, Afzal, Hutter, Orvieto,
 * Cevher, 2025), arXiv:2511.17388. Authors' code: timurcarstensen/selective-rope,
 * src/selective_rope/modules/rotary.py (`SelectiveRoPE.forward`, commit 9d06c3365ec7), default configuration.
 *
 * Input-dependent rotation angles, accumulated over positions (the imaginary part of a selective SSM transition):
 *   u_t        = x_t split into H chunks of D/H, each L2-normalised             x_t: the attention sublayer's input
 *   omega_t    = U (V u_t)                      low rank: V [D -> r], U [r -> H P], no biases (rank r = 16)
 *   omega'_t   = sum_(s=0..K-1) c_s . omega_(t-s)   causal depthwise convolution, kernel K = 4, no bias (fla's
 *                                                 ShortConvolution; weight[K-1-s] there is c_s here), no activation
 *   phi_t      = sum_(s <= t) omega'_s           (cumsum over time)
 *   angle_(t,i)= tau_i phi_(t,i),  tau_i = theta^(-2i/d), theta = 500000 (a fixed, untrained temperature)
 *   q_t, k_t of head h rotated by angle_(t, h, i) in the half layout (pair i = channels (i, i + P)).
 * The score of query i and key j depends on sum_(j < s <= i) omega'_s: a rotation by what the content in between
 * contributes. RoPE (base theta) is the special case omega' = 1 for every token and pair.
 * Init as PyTorch's defaults: V, U ~ U(+-1/sqrt(fan_in)) (nn.Linear), c ~ U(+-1/sqrt(K)) (nn.Conv1d, groups = C).
 * Off by default in the authors' code and not included: the phase gate (`use_gate`), the exp bias (`use_bias`),
 * the full-rank per-head projection, and the "rfa" temperature.
 */
import {
  add,
  cumsum,
  div,
  matmul,
  mul,
  type Parameter,
  permute,
  reshape,
  slice,
  sqrt,
  sum,
  type Tensor,
  tensor,
  uniformParameter,
} from "../engine/index.js";
import type { Rng } from "../util/rng.js";
import { PosencConfigError } from "../util/validation.js";
import { rotateHalfByAngles } from "./content-rotation.js";
import { shiftLater } from "./path.js";
import { layerEntry } from "./token-head-logits.js";
import type { ContentAttentionInput, ModelDims, TrainableEncoding } from "./trainable.js";
import { defineEncoding, type EncodingSpec, resolveParams } from "./types.js";

/** The L2 norm's epsilon under the square root (fla's l2_norm). */
const L2_EPS = 1e-6;

/** tau_i = theta^(-2i/d), i = 0 .. P - 1 (the authors' `rotary_temperature("rope", theta, d, 1)`). */
export function selectiveRopeTemperature(theta: number, headDim: number): Float64Array {
  const pairs = Math.floor(headDim / 2);
  return Float64Array.from({ length: pairs }, (_, i) => theta ** (-(2 * i) / headDim));
}

export interface SelectiveRopeWeights {
  /** V: [D, r], x @ V. */
  down: ArrayLike<number>;
  /** U: [r, H * P], head-major columns (head h, pair i at h * P + i). */
  up: ArrayLike<number>;
  /** Convolution taps [K, H * P]: row s multiplies omega_(t - s). */
  conv: ArrayLike<number>;
}

/**
 * Selective RoPE angles over plain arrays (float64): x row-major [T, D] of one example -> angles [H, T, P].
 */
export function selectiveRopeAngles(
  x: ArrayLike<number>,
  weights: SelectiveRopeWeights,
  seqLen: number,
  numHeads: number,
  temperature: ArrayLike<number>,
): Float64Array {
  const D = x.length / seqLen;
  const P = temperature.length;
  const C = numHeads * P;
  const r = weights.down.length / D;
  const K = weights.conv.length / C;
  if (
    !Number.isInteger(D) ||
    D % numHeads !== 0 ||
    !Number.isInteger(r) ||
    weights.up.length !== r * C ||
    !Number.isInteger(K)
  ) {
    throw new RangeError("selectiveRopeAngles: x must be [T, D], down [D, r], up [r, H P], conv [K, H P]");
  }
  const chunk = D / numHeads;
  const omega = new Float64Array(seqLen * C);
  for (let t = 0; t < seqLen; t++) {
    const u = new Float64Array(D);
    for (let h = 0; h < numHeads; h++) {
      let norm = 0;
      for (let d = 0; d < chunk; d++) norm += x[t * D + h * chunk + d]! ** 2;
      for (let d = 0; d < chunk; d++) u[h * chunk + d] = x[t * D + h * chunk + d]! / Math.sqrt(norm + L2_EPS);
    }
    const low = new Float64Array(r);
    for (let a = 0; a < r; a++) for (let d = 0; d < D; d++) low[a]! += u[d]! * weights.down[d * r + a]!;
    for (let col = 0; col < C; col++)
      for (let a = 0; a < r; a++) omega[t * C + col]! += low[a]! * weights.up[a * C + col]!;
  }
  const angles = new Float64Array(numHeads * seqLen * P);
  for (let col = 0; col < C; col++) {
    const h = Math.floor(col / P);
    const i = col % P;
    let phi = 0;
    for (let t = 0; t < seqLen; t++) {
      let conv = 0;
      for (let s = 0; s < K && s <= t; s++) conv += weights.conv[s * C + col]! * omega[(t - s) * C + col]!;
      phi += conv;
      angles[(h * seqLen + t) * P + i] = temperature[i]! * phi;
    }
  }
  return angles;
}

/** The same angles through engine ops: x [B, T, D] -> [B, H, T, P]. */
export function selectiveRopeAnglesTensor(
  x: Tensor,
  down: Tensor,
  up: Tensor,
  conv: Tensor,
  numHeads: number,
  temperature: Tensor,
): Tensor {
  const [B, T, D] = x.shape as [number, number, number];
  const H = numHeads;
  const P = temperature.shape[0]!;
  const K = conv.shape[0]!;
  const chunks = reshape(x, [B, T, H, D / H]);
  const unit = div(chunks, sqrt(add(sum(mul(chunks, chunks), -1, true), L2_EPS)));
  const omega = reshape(matmul(matmul(reshape(unit, [B * T, D]), down), up), [B, T, H * P]);
  let filtered: Tensor | null = null;
  for (let s = 0; s < K; s++) {
    const tap = mul(shiftLater(omega, s), reshape(slice(conv, 0, s, s + 1), [H * P])); // c_s . omega_(t-s);
    filtered = filtered ? add(filtered, tap) : tap;
  }
  const perHead = permute(reshape(filtered!, [B, T, H, P]), [0, 2, 1, 3]); // [B, H, T, P]
  return mul(cumsum(perHead, -2), temperature);
}

const SELECTIVE_ROPE_PARAMS = {
  rank: {
    type: "integer",
    description: "Rank r of the low-rank projection x -> omega (the authors' phi_proj_rank, default 16).",
    default: 16,
    min: 1,
  },
  convKernel: {
    type: "integer",
    description: "Length K of the causal depthwise convolution over omega (the authors' d_conv, default 4).",
    default: 4,
    min: 1,
  },
  theta: {
    type: "number",
    description:
      "Base of the fixed temperature tau_i = theta^(-2i/d) (the authors' temp_theta, default 500000).",
    default: 500000,
    min: 1,
  },
} as const satisfies EncodingSpec["params"];

function createSelectiveRope(
  params: { rank: number; convKernel: number; theta: number },
  dims: ModelDims,
  rng: Rng,
  path = "selective-rope",
): TrainableEncoding {
  const { dModel: D, numHeads: H, headDim, numLayers } = dims;
  if (D % H !== 0) {
    throw new PosencConfigError(
      "invalid_value",
      `${path.replace(/\.params$/, "")}.id`,
      "selective-rope",
      "a model whose dModel is a multiple of its heads (the input is split per head)",
    );
  }
  const temperatureValues = selectiveRopeTemperature(params.theta, headDim);
  const P = temperatureValues.length;
  const r = params.rank;
  const K = params.convKernel;
  const uniform = (shape: number[], fanIn: number, name: string) =>
    uniformParameter(rng, shape, -1 / Math.sqrt(fanIn), 1 / Math.sqrt(fanIn), name);
  const layers = Array.from({ length: numLayers }, (_, l) => ({
    down: uniform([D, r], D, `selective-rope.layer${l}.down`),
    up: uniform([r, H * P], r, `selective-rope.layer${l}.up`),
    conv: uniform([K, H * P], K, `selective-rope.layer${l}.conv`),
  }));
  return {
    id: "selective-rope",
    parameters: () => layers.flatMap((p): Parameter[] => [p.down, p.up, p.conv]),
    contentAttention({ x, q, k, layer }: ContentAttentionInput) {
      const p = layerEntry("selective-rope", layers, layer);
      const temperature = tensor(temperatureValues, [P]);
      const angles = selectiveRopeAnglesTensor(x, p.down, p.up, p.conv, H, temperature);
      return { q: rotateHalfByAngles(q, angles), k: rotateHalfByAngles(k, angles) };
    },
  };
}

export const selectiveRopeSpec = defineEncoding({
  id: "selective-rope",
  name: "Selective RoPE (input-dependent rotations)",
  family: "rotary",
  paper: { title: "Selective Rotary Position Embedding", arxiv: "2511.17388", year: 2025 },
  formula:
    "angle_(t,i) = theta^(-2i/d) sum_(s<=t) conv_K(U V L2norm_h(x))_(s,i); rotate q_t, k_t by angle_t (half layout)",
  summary:
    "Rotates queries and keys by angles accumulated from a low-rank, convolved projection of the layer input, so the rotation between two tokens is what the content in between adds.",
  slots: ["contextual"],
  params: SELECTIVE_ROPE_PARAMS,
  create(params, path = "selective-rope") {
    const p = resolveParams(path, SELECTIVE_ROPE_PARAMS, params);
    // No framework-free hook: the angles depend on the layer input (selectiveRopeAngles gives the math over arrays).
    return { id: "selective-rope", params: Object.freeze(p) };
  },
  trainable: createSelectiveRope,
});
