/**
 * Variants of CoPE (Golovneva, Wang, Weston, Sukhbaatar 2024, "Contextual Position Encoding: Learning to Count
 * What's Important", arXiv:2405.18719; see cope.ts for the method) that the official code offers as options
 * (facebookresearch/RAM, projects/cope/src/cope/context_position.py `ContextPosSelfAttn`, commit 5420e20124c7, and
 * src/models/relative_position.py `RelPosEmb`):
 *
 *   cope-separate-gate-keys   --cope-sep-key: the gates read a separate key projection of the layer input,
 *                             g_ij = sigmoid(q_i . kc_j / sqrt(d)), kc = x W_kc per head (no bias); the attention logits keep
 *                             the model's q . k. (CoPE reuses q . k for both.)
 *   cope-relative             pos_emb = "cope+rel": CoPE plus a learned relative-position logit,
 *                             r_ij = q_i . R[:, npos_r - 1 - (i - j)] for j <= i (0 for keys after the query, the
 *                             official rel2abs padding), added before the 1/sqrt(d) scaling (so the bias is r / sqrt(d),
 *                             with or without --cope-nodiv). R [d, npos_r] ~ N(0, 1/d) per layer (RelPosEmb init).
 *                             `copeEvery` K (--cope-layers): CoPE only on layers with (l + 1) % K = 0, the relative
 *                             term alone elsewhere.
 * The third gate option, --cope-val-gates (g_ij = sigmoid(q_i . v_j / sqrt(d))), needs the values, which the
 * content slot (e) does not receive: it is not offered (it would need v in ContentAttentionInput).
 */
import {
  add,
  constantParameter,
  lerpGather,
  matmul,
  mul,
  normalParameter,
  type Parameter,
  reshape,
  splitHeads,
  type Tensor,
  tensor,
  uniformParameter,
} from "../engine/index.js";
import type { Rng } from "../util/rng.js";
import { checkNumber } from "../util/validation.js";
import { COPE_PARAMS, copeBiasTensor } from "./cope.js";
import { layerEntry } from "./token-head-logits.js";
import type { ContentAttentionInput, ModelDims, TrainableEncoding } from "./trainable.js";
import { defineEncoding, type EncodingSpec, type ParamValues, resolveParams } from "./types.js";

const PAPER = {
  title: "Contextual Position Encoding: Learning to Count What's Important",
  arxiv: "2405.18719",
  year: 2024,
} as const;

function copeTables(p: ParamValues<typeof COPE_PARAMS>, dims: ModelDims, owner: string): Parameter[] {
  const numPositions =
    p.maxPositions === 0
      ? checkNumber("dims.maxSeqLen", dims.maxSeqLen, { integer: true, min: 1 }) + 1
      : p.maxPositions;
  const count = p.shareAcrossLayers ? 1 : dims.numLayers;
  return Array.from({ length: count }, (_, l) =>
    constantParameter([dims.headDim, numPositions], 0, `${owner}.layer${l}.positionEmbedding`),
  );
}

// ---------------------------------------------------------------------------------------------------------------
// cope-separate-gate-keys
// ---------------------------------------------------------------------------------------------------------------

export const copeSeparateGateKeysSpec = defineEncoding({
  id: "cope-separate-gate-keys",
  name: "CoPE with separate gate keys",
  family: "attention-bias",
  paper: PAPER,
  formula:
    "p_ij = sum_{t=j..i} sigmoid(q_i.kc_t / sqrt(d)), kc = x W_kc; bias_ij = q_i.e[p_ij] / sqrt(d) (--cope-sep-key)",
  summary:
    "CoPE whose counting gates read their own key projection of the layer input instead of the attention keys.",
  slots: ["contextual"],
  params: COPE_PARAMS,
  create(params, path = "cope-separate-gate-keys") {
    const p = resolveParams(path, COPE_PARAMS, params);
    return { id: "cope-separate-gate-keys", params: Object.freeze(p) };
  },
  trainable(p, dims, rng): TrainableEncoding {
    const { dModel: D, numHeads: H, numLayers } = dims;
    const tables = copeTables(p, dims, "cope-separate-gate-keys");
    const bound = 1 / Math.sqrt(D); // nn.Linear's default scale, as the model's own key projection
    const gateKeys = Array.from({ length: numLayers }, (_, l) =>
      uniformParameter(rng, [D, D], -bound, bound, `cope-separate-gate-keys.layer${l}.gateKey`),
    );
    const options = { causal: dims.causal, scalePositionLogits: p.scalePositionLogits };
    return {
      id: "cope-separate-gate-keys",
      parameters: () => [...tables, ...gateKeys],
      contentAttention({ x, q, layer }: ContentAttentionInput) {
        const w = layerEntry("cope-separate-gate-keys", gateKeys, layer);
        const table = tables[p.shareAcrossLayers ? 0 : layer]!;
        const [B, T] = x.shape as [number, number, number];
        const kc = splitHeads(reshape(matmul(reshape(x, [B * T, D]), w), [B, T, D]), 1, H)[0]!;
        return { bias: copeBiasTensor(q, kc, table, options) };
      },
    };
  },
});

// ---------------------------------------------------------------------------------------------------------------
// cope-relative
// ---------------------------------------------------------------------------------------------------------------

/**
 * The official relative logit (RelPosEmb + rel2abs) through engine ops: q [B, H, T, Dh], R [Dh, n] ->
 * [B, H, T, T] with r_ij = q_i . R[:, n - 1 - (i - j)] for 0 <= i - j <= n - 1, else 0.
 */
export function relativePositionLogits(q: Tensor, table: Tensor): Tensor {
  const [B, H, T] = q.shape as [number, number, number, number];
  const n = table.shape[1]!;
  const index = new Float64Array(B * H * T * T);
  const keep = new Float64Array(T * T);
  for (let i = 0; i < T; i++)
    for (let j = 0; j <= i && i - j <= n - 1; j++) {
      keep[i * T + j] = 1;
      for (let s = 0; s < B * H; s++) index[(s * T + i) * T + j] = n - 1 - (i - j);
    }
  return mul(lerpGather(matmul(q, table), tensor(index, [B, H, T, T])), tensor(keep, [T, T]));
}

const COPE_RELATIVE_PARAMS = {
  ...COPE_PARAMS,
  copeEvery: {
    type: "integer",
    description:
      "CoPE only on every K-th layer ((layer + 1) % K = 0), the relative term alone elsewhere (--cope-layers).",
    default: 1,
    min: 1,
  },
  relativePositions: {
    type: "integer",
    description: "Distances the relative table covers (0 .. n - 1); 0 (default): the model's maxSeqLen.",
    default: 0,
    min: 0,
  },
} as const satisfies EncodingSpec["params"];

export const copeRelativeSpec = defineEncoding({
  id: "cope-relative",
  name: "CoPE plus learned relative positions",
  family: "attention-bias",
  paper: PAPER,
  formula:
    "bias_ij = (q_i.e[p_ij] + q_i.R[n-1-(i-j)]) / sqrt(d): CoPE's contextual logit plus a learned relative one (cope+rel)",
  summary:
    "CoPE with the official code's learned relative-position logits added, optionally using CoPE only every K layers.",
  slots: ["contextual"],
  params: COPE_RELATIVE_PARAMS,
  create(params, path = "cope-relative") {
    const p = resolveParams(path, COPE_RELATIVE_PARAMS, params);
    return { id: "cope-relative", params: Object.freeze(p) };
  },
  trainable(p, dims, rng: Rng): TrainableEncoding {
    const { headDim: Dh, numLayers } = dims;
    const n = p.relativePositions === 0 ? dims.maxSeqLen : p.relativePositions;
    const tables = copeTables(p, dims, "cope-relative");
    const relative = Array.from({ length: numLayers }, (_, l) =>
      normalParameter(rng, [Dh, n], Dh ** -0.5, `cope-relative.layer${l}.relative`),
    );
    const options = { causal: dims.causal, scalePositionLogits: p.scalePositionLogits };
    return {
      id: "cope-relative",
      parameters: () => [...tables, ...relative],
      contentAttention({ q, k, layer }: ContentAttentionInput) {
        const r = layerEntry("cope-relative", relative, layer);
        const rel = mul(relativePositionLogits(q, r), 1 / Math.sqrt(Dh));
        if ((layer + 1) % p.copeEvery !== 0) return { bias: rel };
        const table = tables[p.shareAcrossLayers ? 0 : layer]!;
        return { bias: add(rel, copeBiasTensor(q, k, table, options)) };
      },
    };
  },
});
