/**
 * CARoPE, from "Context-aware Rotary Position Embedding" (Veisi, Fartoot, Amirzadeh, 2025), arXiv:2507.23083.
 * No official code was found; the formula is the paper's description as recorded in the project's paper notes
 * (head-specific frequencies generated from the token embedding by a bounded transformation, phases accumulated over
 * positions, initialized to reproduce RoPE), in this reading:
 *   f_h(x_t)        = 1 / (1 + softplus(w_h . x_t + c_h))   in (0, 1): a per-token, per-head base frequency
 *   omega_(h,t,i)   = f_h(x_t)^i,   i = 0 .. P - 1           (RoPE: theta_i = theta_1^i with theta_1 = base^(-2/d))
 *   phi_(h,t,i)     = sum_(s <= t) omega_(h,s,i)             (the phase accumulates over the sequence)
 *   q_t, k_t of head h rotated by phi_(h,t,i) in the half layout, exactly as RoPE rotates by t theta_i.
 * The score of query i and key j then depends on phi_i - phi_j = sum_(j < s <= i) omega_s: relative, in content
 * time. x_t is the attention sublayer's input (after its LayerNorm), (w, c) are per layer.
 * Initialization: w = 0 and c = softplus^-1(base^(2/d) - 1), so f = base^(-2/d) = theta_1 for every token and
 * phi_(t, i) = (t + 1) theta_i: RoPE at ids 1 .. T (a common shift, so the same scores as RoPE at 0 .. T-1).
 * Stated choices of this reading: the exponent runs from 0 (RoPE's first frequency, 1) rather than 1, the map is one
 * linear layer to H scalars, and the phase starts with the first token's increment.
 */
import {
  add,
  constantParameter,
  cumsum,
  exp,
  log,
  mul,
  type Parameter,
  reshape,
  softplus,
  type Tensor,
  tensor,
} from "../engine/index.js";
import { rotateHalfByAngles } from "./content-rotation.js";
import { layerEntry, softplusOf, tokenHeadLogits, tokenHeadLogitsTensor } from "./token-head-logits.js";
import type { ContentAttentionInput, TrainableEncoding } from "./trainable.js";
import { defineEncoding, type EncodingSpec, resolveParams } from "./types.js";

/** c such that 1 / (1 + softplus(c)) = base^(-2/d): the init that makes CARoPE RoPE. */
export function caropeInitialBias(base: number, headDim: number): number {
  const target = base ** (2 / headDim) - 1; // softplus(c) = base^(2/d) - 1 > 0
  return target > 30 ? target : Math.log(Math.expm1(target));
}

/**
 * CARoPE phases over plain arrays (float64): x row-major [T, D] of one example, weight [D, H], c [H], P pairs ->
 * phi [H, T, P].
 */
export function caropePhases(
  x: ArrayLike<number>,
  weight: ArrayLike<number>,
  c: ArrayLike<number>,
  seqLen: number,
  pairs: number,
): Float64Array {
  const H = c.length;
  const z = tokenHeadLogits("caropePhases", x, weight, c, seqLen);
  const phi = new Float64Array(H * seqLen * pairs);
  for (let h = 0; h < H; h++) {
    for (let t = 0; t < seqLen; t++) {
      const f = 1 / (1 + softplusOf(z[h * seqLen + t]!));
      for (let i = 0; i < pairs; i++) {
        const previous = t > 0 ? phi[(h * seqLen + t - 1) * pairs + i]! : 0;
        phi[(h * seqLen + t) * pairs + i] = previous + f ** i;
      }
    }
  }
  return phi;
}

/** CARoPE phases through engine ops: x [B, T, D], weight [D, H], c [H] -> phi [B, H, T, P]. */
export function caropePhasesTensor(x: Tensor, weight: Tensor, c: Tensor, pairs: number): Tensor {
  const [B, H, T] = [x.shape[0]!, c.shape[0]!, x.shape[1]!];
  const logF = mul(log(add(softplus(tokenHeadLogitsTensor(x, weight, c)), 1)), -1); // log f = -log(1 + softplus(z))
  const exponents = tensor(
    Float64Array.from({ length: pairs }, (_, i) => i),
    [pairs],
  );
  return cumsum(exp(mul(reshape(logF, [B, H, T, 1]), exponents)), -2); // sum_(s <= t) f_s^i
}

const CAROPE_PARAMS = {
  base: {
    type: "number",
    description: "RoPE base the frequencies start from (theta_1 = base^(-2/headDim) at init).",
    default: 10000,
    min: 1,
    exclusiveMin: true,
  },
} as const satisfies EncodingSpec["params"];

export const caropeSpec = defineEncoding({
  id: "carope",
  name: "CARoPE (context-aware RoPE)",
  family: "rotary",
  paper: { title: "Context-aware Rotary Position Embedding", arxiv: "2507.23083", year: 2025 },
  formula:
    "phi_(h,t,i) = sum_(s<=t) f_h(x_s)^i, f_h(x) = 1/(1 + softplus(w_h.x + c_h)); rotate q_t, k_t of head h by phi_(h,t,i)",
  summary:
    "RoPE whose per-head base frequency is computed from each token's content and whose phase accumulates over the sequence, so distance is measured in content time.",
  slots: ["contextual"],
  params: CAROPE_PARAMS,
  create(params, path = "carope") {
    const p = resolveParams(path, CAROPE_PARAMS, params);
    // No framework-free hook: the angles depend on the layer input (caropePhases gives the math over arrays).
    return { id: "carope", params: Object.freeze(p) };
  },
  trainable(params, dims): TrainableEncoding {
    const { dModel: D, numHeads: H, headDim, numLayers } = dims;
    const pairs = Math.floor(headDim / 2);
    const c0 = caropeInitialBias(params.base, 2 * pairs);
    const layers = Array.from({ length: numLayers }, (_, l) => ({
      weight: constantParameter([D, H], 0, `carope.layer${l}.weight`),
      bias: constantParameter([H], c0, `carope.layer${l}.bias`),
    }));
    return {
      id: "carope",
      parameters: () => layers.flatMap((p): Parameter[] => [p.weight, p.bias]),
      contentAttention({ x, q, k, layer }: ContentAttentionInput) {
        const p = layerEntry("carope", layers, layer);
        const phi = caropePhasesTensor(x, p.weight, p.bias, pairs);
        return { q: rotateHalfByAngles(q, phi), k: rotateHalfByAngles(k, phi) };
      },
    };
  },
});
