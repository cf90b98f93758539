/**
 * Entropy-aware ABF, from "Extending LLMs' Context Window with 100 Samples" (Zhang et al., 2024; GAIR-NLP),
 * arXiv:2401.07004.
 *
 * ABF (a larger RoPE base, abf.ts) plus a dynamic attention scaling that keeps attention entropy stable as the
 * context grows: after RoPE, the QUERY at position m is multiplied by
 *   lambda_m = max(1, ln(m + 1) / ln L)          (L = the trained context; 4096 for Llama 2)
 * so the logits of queries beyond L scale by log_L(m + 1); keys are unscaled. The scaling is skipped in the first
 * `skipLayers` layers (the authors' apply_eabf(count = 2): their attention-entropy pattern differs).
 *   theta_i = b^(-2i/d), b = 500000 in the paper (Llama 2: 10000 before).
 * Authors' code: GAIR-NLP/Entropy-ABF, patch/EABF.py (apply_rotary_pos_emb_scale: q * max(1, log(pos+1)/log 4096)).
 * Anchors (L = 64): lambda = 1 up to m = 63, 1.0037 at m = 64, 1.1073 at m = 100, 1.3333 at m = 255.
 *
 * The framework-free form rotates and scales queries (every layer: it has no layer index); the trainable form
 * leaves the first skipLayers layers unscaled. No Hugging Face rope block holds the query scale (posenc extend
 * refuses it).
 */
import { mul, tensor } from "../engine/index.js";
import { checkNumber } from "../util/validation.js";
import { ABF_LLAMA2_LONG_BASE, abfSpec } from "./abf.js";
import { ROPE_BASE_PARAMS } from "./rope.js";
import { checkPositionIds, type TrainableEncoding } from "./trainable.js";
import { type EncodingSpec, resolveParams } from "./types.js";

/** lambda_m = max(1, ln(m + 1) / ln L) for query position m and trained context L (> 1). */
export function entropyAwareQueryScale(position: number, trainedContext: number): number {
  checkNumber("trainedContext", trainedContext, { min: 1, exclusiveMin: true });
  return Math.max(1, Math.log(position + 1) / Math.log(trainedContext));
}

const EABF_PARAMS = {
  ...ROPE_BASE_PARAMS,
  base: {
    ...ROPE_BASE_PARAMS.base,
    description: "The adjusted RoPE base b (the paper: 500000, up from Llama 2's 10000).",
    default: ABF_LLAMA2_LONG_BASE,
  },
  trainedContext: {
    type: "integer",
    description:
      "L in lambda_m = max(1, ln(m+1) / ln L): the context the model was trained at (Llama 2: 4096).",
    default: 4096,
    min: 2,
  },
  skipLayers: {
    type: "integer",
    description: "The first layers whose queries are not scaled (the authors: 2).",
    default: 2,
    min: 0,
  },
} as const satisfies EncodingSpec["params"];

type Params = {
  base: number;
  headDim: number;
  partialRotaryFactor: number;
  layout: string;
  trainedContext: number;
  skipLayers: number;
};

function ropePart(p: Params): Record<string, unknown> {
  return { base: p.base, headDim: p.headDim, partialRotaryFactor: p.partialRotaryFactor, layout: p.layout };
}

export const entropyAwareAbfSpec: EncodingSpec<typeof EABF_PARAMS> = {
  id: "entropy-aware-abf",
  name: "Entropy-aware ABF",
  family: "context-extension",
  paper: { title: "Extending LLMs' Context Window with 100 Samples", arxiv: "2401.07004", year: 2024 },
  formula:
    "theta_i = b^(-2i/d) (b = 500000); after RoPE, q_m *= max(1, ln(m+1) / ln L), keys unscaled, first 2 layers unscaled",
  summary:
    "ABF's larger RoPE base plus a log-length scale on queries beyond the trained context, keeping attention entropy stable.",
  slots: ["transformQK"],
  params: EABF_PARAMS,
  modelParams: abfSpec.modelParams as EncodingSpec<typeof EABF_PARAMS>["modelParams"],
  create(params, path = "entropy-aware-abf") {
    const p = resolveParams(path, EABF_PARAMS, params) as unknown as Params;
    const rope = abfSpec.create(ropePart(p), path);
    return {
      ...rope,
      id: "entropy-aware-abf",
      params: p as unknown as Record<string, unknown>,
      transformQK(x, positions, numHeads, headDim, role) {
        rope.transformQK!(x, positions, numHeads, headDim, role);
        if (role !== "query") return;
        // x is row-major [positions.length, numHeads, headDim].
        const width = numHeads * headDim;
        for (let t = 0; t < positions.length; t++) {
          const scale = entropyAwareQueryScale(positions[t]!, p.trainedContext);
          if (scale === 1) continue;
          for (let c = 0; c < width; c++) x[t * width + c]! *= scale;
        }
      },
    };
  },
  trainable(params, dims, rng, path = "entropy-aware-abf"): TrainableEncoding {
    const p = params as unknown as Params;
    const rope = abfSpec.trainable!(resolveParams(path, abfSpec.params, ropePart(p)), dims, rng, path);
    return {
      id: "entropy-aware-abf",
      parameters: () => [],
      transformQK(q, k, ids, layer) {
        const rotated = rope.transformQK!(q, k, ids, layer);
        if (layer < p.skipLayers) return rotated;
        const [B, , T] = q.shape as [number, number, number, number];
        checkPositionIds("entropy-aware-abf", ids, B!, T!);
        const scale = new Float32Array(B! * T!);
        for (let i = 0; i < scale.length; i++) scale[i] = entropyAwareQueryScale(ids[i]!, p.trainedContext);
        return { q: mul(rotated.q, tensor(scale, [B!, 1, T!, 1])), k: rotated.k };
      },
    };
  },
};
