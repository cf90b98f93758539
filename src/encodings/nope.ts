/**
 * NoPE, no positional encoding, from "The Impact of Positional Encoding on Length Generalization in Transformers"
 * (Kazemnejad, Padhi, Natesan Ramamurthy, Das and Reddy, 2023; NeurIPS 2023), arXiv:2305.19466.
 *
 *   attention(q, k, v) = softmax(q k^T / sqrt(d) + causal mask) v        (no term depends on position)
 *
 * A causal decoder without any positional encoding still knows positions: the causal mask lets a token count its
 * predecessors, and the paper proves that the first layer can recover absolute positions and that later layers can
 * then implement relative ones. Its experiments find NoPE extrapolating better than RoPE, ALiBi, T5 and absolute
 * encodings on small algorithmic tasks. A bidirectional encoder without positions is permutation-invariant, so NoPE
 * only makes sense with a causal model.
 *
 * Every hook slot stays empty; the spec exists so "nope" is a registry id like any other method (and the slot-
 * conflict rules apply uniformly).
 */
import type { TrainableEncoding } from "./trainable.js";
import { defineEncoding, type EncodingSpec, type PositionalEncoding, resolveParams } from "./types.js";

const NOPE_PARAMS = {} as const satisfies EncodingSpec["params"];

export const nopeSpec = defineEncoding({
  id: "nope",
  name: "NoPE (no positional encoding)",
  family: "absolute",
  paper: {
    title: "The Impact of Positional Encoding on Length Generalization in Transformers",
    arxiv: "2305.19466",
    year: 2023,
  },
  formula:
    "softmax(q k^T / sqrt(d) + causal mask) v: no positional term; the causal mask alone carries order",
  summary:
    "Uses no positional encoding at all: a causal decoder infers positions from its mask, and often extrapolates better than explicit encodings.",
  slots: [],
  params: NOPE_PARAMS,
  trainable: (): TrainableEncoding => ({ id: "nope", parameters: () => [] }),
  create(params, path = "nope"): PositionalEncoding {
    const p = resolveParams(path, NOPE_PARAMS, params);
    return { id: "nope", params: Object.freeze(p) };
  },
});
