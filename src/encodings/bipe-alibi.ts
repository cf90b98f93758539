/**
 * BiPE-ALiBi, from "Two Stones Hit One Bird: Bilevel Positional Encoding for Better Length Extrapolation"
 * (He, Feng, Luo, Yang, Wang, He, 2024), arXiv:2401.16421: BiPE's two levels (./bipe.ts) with ALiBi over the
 * segment level,
 *   x_t += P[intra_t]                      (learned intra-segment table, as BiPE-RoPE)
 *   bias[h, i, j] = -96 m_h (seg_i - seg_j)   (causal; -96 m_h |seg_i - seg_j| for an encoder)
 * with m_h ALiBi's slopes. The factor 96 is the official code's (zhenyuhe00/BiPE, my_modeling_llama_bipe_alibi.py
 * @2dbed6f, `_init_alibi_mul96`: every slope, those interleaved in for a head count that is not a power of two
 * included, is multiplied by 96): segment distances are far smaller than token distances (a sentence is tens of
 * tokens), so the slopes grow to penalize them at a comparable scale. The paper's text does not state the factor.
 * The official bias is slope * seg_j along the key axis; with the causal mask and softmax's shift invariance
 * this equals -slope * (seg_i - seg_j).
 */
import { ALIBI_VARIANTS, alibiBiasAt, alibiSlopes, alibiSpec } from "./alibi.js";
import { BIPE_PARAMS, bipeSpec, bipeTrainable, createBipeEncoding } from "./bipe.js";
import { biasVariantOf, fixedTrainable, type TrainableEncoding } from "./trainable.js";
import { defineEncoding, type EncodingSpec, resolveParams } from "./types.js";

/** The official BiPE-ALiBi slope multiplier (`_init_alibi_mul96`). */
export const BIPE_ALIBI_SLOPE_SCALE = 96;

/** 96 m_h for each of numHeads heads (m_h the official ALiBi slopes). */
export function bipeAlibiSlopes(numHeads: number): number[] {
  return alibiSlopes(numHeads).map((m) => BIPE_ALIBI_SLOPE_SCALE * m);
}

const BIPE_ALIBI_PARAMS = {
  ...BIPE_PARAMS,
  variant: {
    type: "string",
    description:
      'Segment-distance penalty: "causal" = -96 m (seg_i - seg_j) for past keys; "symmetric" = -96 m |seg_i - seg_j| (the model fills it).',
    default: "causal",
    choices: ALIBI_VARIANTS,
  },
} as const satisfies EncodingSpec["params"];

export const bipeAlibiSpec = defineEncoding({
  id: "bipe-alibi",
  name: "BiPE-ALiBi",
  family: "position-ids",
  paper: bipeSpec.paper,
  formula:
    "x_t += P[intra_t]; bias[h, i, j] = -96 m_h (seg_i - seg_j) (official slopes x 96), seg/intra the BiPE levels",
  summary:
    "BiPE with ALiBi over segment indices: a learned offset inside each segment, a linear penalty (slopes x 96, as the official code) across segments.",
  slots: ["positionIds", "attentionBias"],
  params: BIPE_ALIBI_PARAMS,
  modelParams: (dims) => ({ variant: biasVariantOf(dims) }),
  create(params, path = "bipe-alibi") {
    const p = resolveParams(path, BIPE_ALIBI_PARAMS, params);
    const { variant, ...bipeParams } = p;
    const bipe = createBipeEncoding(bipeParams);
    return {
      ...bipe,
      id: "bipe-alibi",
      params: Object.freeze(p),
      // Positions here are segment ids (bilevelIds(tokens).segmentIds).
      attentionBias: (queryPositions, keyPositions, numHeads) =>
        alibiBiasAt(bipeAlibiSlopes(numHeads), queryPositions, keyPositions, {
          causal: variant === "causal",
        }),
    };
  },
  trainable(params, dims, rng, path = "bipe-alibi"): TrainableEncoding {
    const { variant, ...bipeParams } = params;
    const bipe = bipeTrainable(bipeParams, dims, rng);
    const alibi = fixedTrainable(alibiSpec, { variant, slopes: bipeAlibiSlopes(dims.numHeads) }, dims, path);
    return { ...bipe, id: "bipe-alibi", attentionBias: alibi.attentionBias };
  },
});
