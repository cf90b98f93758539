/**
 * PaTH Attention: Position Encoding via Accumulating Householder Transformations (Yang, Shen, Wen, Tan, Mishra, Ren,
 * Panda, Kim, 2025), arXiv:2505.16381. Official code: fla-org/flash-linear-attention, fla/layers/path_attn.py
 * (`PaTHAttention`) and the reference fla/ops/path_attn/naive.py (`naive_path_attn`).
 *
 * A data-dependent, multiplicative position encoding: between key j and query i the score passes through the
 * Householder-like transforms of every token in between,
 *   logit_ij = q_i^T H_i H_(i-1) ... H_(j+1) k_j / sqrt(Dh)   (j <= i; causal),   H_t = I - beta_t w_t w_t^T
 *   w_t = L2norm(W_w x_t) per head,   beta_t = 2 sigmoid(W_beta x_t + b) in (0, 2)   (beta = 2: a reflection)
 * where x_t is the attention sublayer's input. No RoPE. With every beta = 0 it is NoPE.
 *
 * The simplest correct O(T^2 Dh) form (the paper's kernels are blockwise UT transforms, unnecessary at this scale):
 * by offset m = i - j, u_i^(0) = q_i and u_i^(m) = H_(i-m+1) u_i^(m-1) (each H is symmetric, so the transposed
 * product applies H_i first), and logit_(i, i-m) = u_i^(m) . k_(i-m) / sqrt(Dh): T steps of O(T Dh) vector ops,
 * all engine ops, so gradients reach q, k, W_w, W_beta and b.
 * Differences from the official layer, stated: w is a full-rank projection without the official low-rank
 * bottleneck (hidden -> 32 -> heads * Dh) and without its short convolution (kernel 3) before the L2 norm; the
 * optional forget gate is not included. The transform itself is the paper's.
 */
import {
  add,
  concat,
  div,
  matmul,
  mul,
  type Parameter,
  permute,
  reshape,
  sigmoid,
  slice,
  splitHeads,
  sqrt,
  sub,
  sum,
  type Tensor,
  tensor,
  uniformParameter,
} from "../engine/index.js";
import { PosencConfigError } from "../util/validation.js";
import type { ContentAttentionInput, TrainableEncoding } from "./trainable.js";
import { defineEncoding, type EncodingSpec, resolveParams } from "./types.js";

/** x shifted `s` steps later along axis -2 (rows 0 .. s-1 become 0): out[t] = x[t - s]. */
export function shiftLater(x: Tensor, s: number): Tensor {
  if (s === 0) return x;
  const T = x.shape[x.rank - 2]!;
  if (s >= T) return mul(x, 0);
  const zeros = mul(slice(x, -2, 0, s), 0);
  return concat([zeros, slice(x, -2, 0, T - s)], -2);
}

/**
 * PaTH scores [B, H, T, T] (0 above the diagonal; the causal mask removes it) from q, k [B, H, T, Dh], unit w
 * [B, H, T, Dh] and beta [B, H, T, 1].
 */
export function pathScores(q: Tensor, k: Tensor, w: Tensor, beta: Tensor): Tensor {
  const [B, H, T, Dh] = q.shape as [number, number, number, number];
  const scale = 1 / Math.sqrt(Dh);
  let u = q;
  let scores: Tensor | null = null;
  for (let m = 0; m < T; m++) {
    if (m > 0) {
      const wm = shiftLater(w, m - 1); // w_(i-m+1) at row i
      const bm = shiftLater(beta, m - 1);
      u = sub(u, mul(mul(sum(mul(u, wm), -1, true), bm), wm)); // H u = u - beta (u . w) w
    }
    const dots = sum(mul(u, shiftLater(k, m)), -1, true); // [B, H, T, 1]: u_i . k_(i-m)
    const onehot = new Float32Array(T * T);
    for (let i = m; i < T; i++) onehot[i * T + (i - m)] = scale;
    const term = mul(dots, tensor(onehot, [T, T])); // placed on the m-th subdiagonal
    scores = scores ? add(scores, term) : term;
  }
  return scores ?? tensor(new Float32Array(B * H * T * T), [B, H, T, T]);
}

const PATH_PARAMS = {} as const satisfies EncodingSpec["params"];

export const pathSpec = defineEncoding({
  id: "path",
  name: "PaTH (accumulated Householder transforms)",
  family: "attention-bias",
  paper: {
    title: "PaTH Attention: Position Encoding via Accumulating Householder Transformations",
    arxiv: "2505.16381",
    year: 2025,
  },
  formula:
    "logit_ij = q_i^T H_i ... H_(j+1) k_j / sqrt(d), H_t = I - beta_t w_t w_t^T, w_t = L2norm(W_w x_t), beta_t = 2 sigmoid(W_beta x_t + b)",
  summary:
    "Multiplies each query-key score by the product of data-dependent Householder transforms of the tokens in between, so position is what the content in between does.",
  slots: ["contextual"],
  params: PATH_PARAMS,
  create(params, path = "path") {
    resolveParams(path, PATH_PARAMS, params);
    return { id: "path", params: Object.freeze({}) };
  },
  trainable(_params, dims, rng, path = "path"): TrainableEncoding {
    if (!dims.causal) {
      throw new PosencConfigError(
        "invalid_value",
        `${path.replace(/\.params$/, "")}.id`,
        "path",
        "an encoding for a causal decoder (PaTH transforms keys by the tokens between key and query, j <= i)",
      );
    }
    const { dModel: D, numHeads: H, numLayers } = dims;
    const bound = 1 / Math.sqrt(D);
    const layers = Array.from({ length: numLayers }, (_, l) => ({
      w: uniformParameter(rng, [D, D], -bound, bound, `path.layer${l}.w`),
      beta: uniformParameter(rng, [D, H], -bound, bound, `path.layer${l}.beta.weight`),
      betaBias: uniformParameter(rng, [H], -bound, bound, `path.layer${l}.beta.bias`),
    }));
    return {
      id: "path",
      parameters: () => layers.flatMap((p): Parameter[] => [p.w, p.beta, p.betaBias]),
      contentAttention({ x, q, k, layer }: ContentAttentionInput) {
        const p = layers[layer];
        if (!p) throw new RangeError(`path: layer ${layer} is not in 0..${numLayers - 1}`);
        const [B, T] = x.shape as [number, number, number];
        const flat = reshape(x, [B * T, D]);
        const raw = splitHeads(reshape(matmul(flat, p.w), [B, T, D]), 1, H)[0]!; // [B, H, T, Dh]
        const w = div(raw, sqrt(add(sum(mul(raw, raw), -1, true), 1e-6))); // L2 norm per head
        const logits = reshape(add(matmul(flat, p.beta), p.betaBias), [B, T, H, 1]);
        const beta = mul(sigmoid(permute(logits, [0, 2, 1, 3])), 2); // [B, H, T, 1]
        return { scores: pathScores(q, k, w, beta) };
      },
    };
  },
});
