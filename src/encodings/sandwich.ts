/**
 * Sandwich, from "Dissecting Transformer Length Extrapolation via the Lens of Receptive Field Analysis"
 * (Chi, Fan, Rudnicky and Ramadge, 2022; ACL 2023), arXiv:2212.10356.
 *
 * The paper explains ALiBi's extrapolation by its receptive field, and derives a parameter-free bias from the
 * sinusoidal embeddings instead: the inner product of two sinusoidal position vectors p_m . p_n of dimension d
 * (sin . sin + cos . cos per frequency = cos of the distance), shifted to 0 at distance 0 and compressed per head
 * with ALiBi-like rates:
 *   bias[h, i, j] = ( sum_{k=1..d/2} cos((i - j) * 10000^(-2k/d)) - d/2 ) / (8 h / H),    h = 1 .. H
 * Every term is <= 0 and the bias is 0 at distance 0; for small distances it falls like -(i - j)^2 (a smooth,
 * decaying window), and the slowest frequencies make it keep decreasing over long distances.
 *
 * Reference: the authors' code was not found; NVIDIA NeMo implements the paper (nemo/collections/nlp/modules/common/
 * megatron/position_embedding/sandwich_relative_position_embedding.py, `SandwichRelativePositionEmbedding`): its
 * frequencies start at k = 1 (so the fastest one is 10000^(-2/d), not 1), d is the head size (`hidden_size =
 * hidden // heads` or kv_channels), and the causal variant zeroes the future distances (`tril`), so future keys get
 * a bias of 0 (masked by the attention, as alibi.ts). We follow it; test/fixtures/sandwich-nemo.json holds its values.
 */
import { checkNumber } from "../util/validation.js";
import { ALIBI_MAX_HEADS, checkPositions } from "./alibi.js";
import { biasVariantOf, fixedTrainable, type TrainableEncoding } from "./trainable.js";
import { defineEncoding, type EncodingSpec, type PositionalEncoding, resolveParams } from "./types.js";

/** The frequencies 10000^(-2k/d), k = 1 .. d/2 (NeMo's `inv_freq`, which starts at k = 1). */
export function sandwichFrequencies(dim: number, base = 10000): Float64Array {
  checkNumber("dim", dim, { integer: true, min: 2 });
  checkNumber("base", base, { min: 0, exclusiveMin: true });
  const half = Math.floor(dim / 2);
  return Float64Array.from({ length: half }, (_, k) => base ** ((-2 * (k + 1)) / dim));
}

/** sum_k cos(distance * w_k) - d/2: the shifted inner product of two sinusoidal embeddings (<= 0, 0 at 0). */
export function sandwichKernel(distance: number, frequencies: ArrayLike<number>): number {
  let s = 0;
  for (let k = 0; k < frequencies.length; k++) s += Math.cos(distance * frequencies[k]) - 1;
  return s;
}

/**
 * The Sandwich bias for arbitrary positions, row-major [numHeads, queryPositions.length, keyPositions.length]:
 * kernel(q_i - k_j) / (8 h / numHeads) for heads h = 1 .. numHeads; causal (default): future keys get 0.
 */
export function sandwichBiasAt(
  numHeads: number,
  dim: number,
  queryPositions: ArrayLike<number>,
  keyPositions: ArrayLike<number>,
  options: { causal?: boolean; base?: number } = {},
): Float64Array {
  checkNumber("numHeads", numHeads, { integer: true, min: 1, max: ALIBI_MAX_HEADS });
  const frequencies = sandwichFrequencies(dim, options.base);
  const causal = options.causal ?? true;
  checkPositions("queryPositions", queryPositions);
  checkPositions("keyPositions", keyPositions);
  const q = queryPositions.length;
  const k = keyPositions.length;
  // One kernel grid, then one compression rate per head.
  const kernel = new Float64Array(q * k);
  for (let i = 0; i < q; i++) {
    for (let j = 0; j < k; j++) {
      const d = queryPositions[i] - keyPositions[j];
      kernel[i * k + j] = causal && d < 0 ? 0 : sandwichKernel(d, frequencies);
    }
  }
  const out = new Float64Array(numHeads * q * k);
  for (let h = 0; h < numHeads; h++) {
    const rate = (8 * (h + 1)) / numHeads;
    for (let n = 0; n < q * k; n++) out[h * q * k + n] = kernel[n] / rate;
  }
  return out;
}

const SANDWICH_PARAMS = {
  variant: {
    type: "string",
    description:
      'Distance penalty: "causal" = past keys only (future keys 0, masked by the attention), "symmetric" = both sides.',
    default: "causal",
    choices: ["causal", "symmetric"],
  },
  dim: {
    type: "integer",
    description:
      "d, the dimension of the sinusoidal embeddings whose inner product is the bias (NeMo: the head size).",
    default: 128,
    min: 2,
  },
  base: {
    type: "number",
    description: "Frequency base b in w_k = b^(-2k/d) (the sinusoidal embeddings' 10000).",
    default: 10000,
    min: 1,
    exclusiveMin: true,
  },
} as const satisfies EncodingSpec["params"];

export const sandwichSpec = defineEncoding({
  id: "sandwich",
  name: "Sandwich",
  family: "attention-bias",
  paper: {
    title: "Dissecting Transformer Length Extrapolation via the Lens of Receptive Field Analysis",
    arxiv: "2212.10356",
    year: 2022,
  },
  formula:
    "bias[h, i, j] = (sum_{k=1..d/2} cos((i - j) * 10000^(-2k/d)) - d/2) / (8h / H): the inner product of sinusoidal embeddings, compressed per head",
  summary:
    "A parameter-free bias from the inner product of two sinusoidal position embeddings, shifted to 0 at distance 0 and compressed per head like ALiBi, so the receptive field stays bounded.",
  slots: ["attentionBias"],
  modelParams: (dims) => ({ variant: biasVariantOf(dims), dim: dims.headDim }),
  params: SANDWICH_PARAMS,
  trainable: (params, dims, _rng, path): TrainableEncoding =>
    fixedTrainable(sandwichSpec, params, dims, path),
  create(params, path = "sandwich"): PositionalEncoding {
    const p = resolveParams(path, SANDWICH_PARAMS, params);
    const causal = p.variant === "causal";
    return {
      id: "sandwich",
      params: Object.freeze(p),
      attentionBias: (queryPositions, keyPositions, numHeads) =>
        Float32Array.from(
          sandwichBiasAt(numHeads, p.dim, queryPositions, keyPositions, { causal, base: p.base }),
        ),
    };
  },
});
