/**
 * Cable, from "Context-aware Biases for Length Extrapolation" (Veisi, Amirzadeh, Mansourian, 2025),
 * arXiv:2503.08067. Official code: axiomlab/Cable, src/Cable.py (`CausalSelfAttention.forward`, commit 2d7410b4e5c7).
 *
 * An ALiBi whose slope is learned per token from its content: each token t pays a non-negative cost per head,
 *   s_t^h = softplus(w_h . x_t + c_h)                      x_t the attention sublayer's input, (w, c) per layer
 *   b_t^h = - sum_(u <= t) s_u^h                            (the official `cumsum(-softplus(h_attn(x)))`)
 *   bias_ij^h = b_i^h - b_j^h = - sum_(j < u <= i) s_u^h   (<= 0 for j <= i; 0 on the diagonal)
 * added to the attention logits. A constant s recovers ALiBi with slope s: bias = -s (i - j). No other position
 * encoding is used.
 *
 * Differences from the official code, stated:
 *   - the official logits are q k^T with no 1/sqrt(d_head) (it divides by sqrt(C / n_embd) = 1); here the model's
 *     usual q k^T / sqrt(Dh) is kept and the bias is added to it, as for every other bias in the library;
 *   - the official layer is causal only. In an encoder (keys after the query) this file uses the symmetric
 *     -|b_i - b_j| = - sum of s between the two tokens, the same value as the official one for j <= i.
 * Init as the official nanoGPT init: w ~ N(0, 0.02^2), c = 0 (so every slope starts near softplus(0) = ln 2).
 */
import {
  abs,
  constantParameter,
  cumsum,
  mul,
  normalParameter,
  type Parameter,
  reshape,
  softplus,
  sub,
  type Tensor,
} from "../engine/index.js";
import { layerEntry, softplusOf, tokenHeadLogits, tokenHeadLogitsTensor } from "./token-head-logits.js";
import type { ContentAttentionInput, TrainableEncoding } from "./trainable.js";
import { defineEncoding, type EncodingSpec, resolveParams } from "./types.js";

/**
 * The Cable bias over plain arrays (float64): x row-major [T, D] of one example, weight [D, H] (x @ W as nn.Linear
 * stores W^T), bias c [H] -> [H, T, T]. `causal` false gives the symmetric -|b_i - b_j| for keys after the query.
 */
export function cableBias(
  x: ArrayLike<number>,
  weight: ArrayLike<number>,
  c: ArrayLike<number>,
  seqLen: number,
  causal = true,
): Float64Array {
  const H = c.length;
  const z = tokenHeadLogits("cableBias", x, weight, c, seqLen);
  const b = new Float64Array(H * seqLen); // b_t^h = -sum_(u <= t) softplus(w_h . x_u + c_h)
  for (let h = 0; h < H; h++) {
    let acc = 0;
    for (let t = 0; t < seqLen; t++) {
      acc -= softplusOf(z[h * seqLen + t]!);
      b[h * seqLen + t] = acc;
    }
  }
  const out = new Float64Array(H * seqLen * seqLen);
  for (let h = 0; h < H; h++) {
    for (let i = 0; i < seqLen; i++) {
      for (let j = 0; j < seqLen; j++) {
        const diff = b[h * seqLen + i]! - b[h * seqLen + j]!;
        out[(h * seqLen + i) * seqLen + j] = j <= i || causal ? diff : -Math.abs(diff);
      }
    }
  }
  return out;
}

/**
 * The Cable bias through engine ops: x [B, T, D], weight [D, H], c [H] -> [B, H, T, T]. Causal: b_i - b_j (the
 * entries j > i are masked by the model); otherwise -|b_i - b_j|.
 */
export function cableBiasTensor(x: Tensor, weight: Tensor, c: Tensor, causal: boolean): Tensor {
  const [B, T] = x.shape as [number, number, number];
  const H = c.shape[0]!;
  const total = cumsum(softplus(tokenHeadLogitsTensor(x, weight, c)), -1); // -b: [B, H, T]
  const diff = sub(reshape(total, [B, H, 1, T]), reshape(total, [B, H, T, 1])); // b_i - b_j = total_j - total_i
  return causal ? diff : mul(abs(diff), -1);
}

const CABLE_PARAMS = {} as const satisfies EncodingSpec["params"];

export const cableSpec = defineEncoding({
  id: "cable",
  name: "Cable (context-aware biases)",
  family: "attention-bias",
  paper: { title: "Context-aware Biases for Length Extrapolation", arxiv: "2503.08067", year: 2025 },
  formula:
    "bias_ij^h = -sum_(j < u <= i) softplus(w_h . x_u + c_h): ALiBi with a slope per token learned from content",
  summary:
    "An ALiBi whose per-token slope softplus(w.x + c) is computed from each token's content and accumulated over the tokens between query and key.",
  slots: ["contextual"],
  params: CABLE_PARAMS,
  create(params, path = "cable") {
    resolveParams(path, CABLE_PARAMS, params);
    // No framework-free hook: the bias depends on the layer input (cableBias gives the math over arrays).
    return { id: "cable", params: Object.freeze({}) };
  },
  trainable(_params, dims, rng): TrainableEncoding {
    const { dModel: D, numHeads: H, numLayers, causal } = dims;
    const layers = Array.from({ length: numLayers }, (_, l) => ({
      weight: normalParameter(rng, [D, H], 0.02, `cable.layer${l}.weight`),
      bias: constantParameter([H], 0, `cable.layer${l}.bias`),
    }));
    return {
      id: "cable",
      parameters: () => layers.flatMap((p): Parameter[] => [p.weight, p.bias]),
      contentAttention({ x, layer }: ContentAttentionInput) {
        const p = layerEntry("cable", layers, layer);
        return { bias: cableBiasTensor(x, p.weight, p.bias, causal) };
      },
    };
  },
});
