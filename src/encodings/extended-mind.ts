/**
 * Extended Mind Transformers (Klett, Ahle, 2024), arXiv:2406.02332: the positions given to retrieved memories.
 *
 * EMT keeps a long document as a cache of keys and values ("memories"); each query attends, in one softmax, to its
 * local causal context and to its top-k memories by cosine similarity. The method's point about positions is how
 * memories are placed relative to the query at position m:
 *   RoPE models (official normal-computing/extended-mind-transformers, src/llama/modeling.py): memory keys are cached
 *     BEFORE rotation and used unrotated, i.e. at position 0: relative distance m from the query.
 *   ALiBi models (src/mpt/modeling.py, build_mpt_alibi_tensor with for_ae=True): every memory gets the same bias,
 *     -slope * (current length), as if it sat just before the start of the context.
 * Both are one position id shared by every memory:
 *   id(memory) = memoryPosition           (0: the RoPE rule; -1: the ALiBi rule, distance m + 1 = the length so far)
 *   id(local token t) = t - (number of memory tokens before it)      (the local context keeps 0, 1, 2, ...)
 *
 * Here the memories are in the sequence (a prefix the task marks): every token before the first `memoryEnd` token is
 * a memory, the rest is local context. That is the id scheme alone; retrieval (per-layer, per-head top-k by cosine
 * similarity, `sim_threshold`, from a cache outside the sequence) is a change to the attention sublayer (extra keys
 * and values with their own positions) that the model does not offer yet. With every memory kept (k = all) and
 * memories in the sequence, the attention a query gives them matches EMT's placement. Worked example, memoryEnd 9:
 *   token:  4  5  6  9  1  2          memoryPosition 0:   ids 0 0 0 0 1 2
 *                                     memoryPosition -1:  ids -1 -1 -1 0 1 2
 */
import { checkTokenIdList, sequenceTokens } from "./token-ids.js";
import { fixedTrainable, type TrainableEncoding } from "./trainable.js";
import {
  defineEncoding,
  type EncodingSpec,
  type PositionalEncoding,
  type PositionIdContext,
  resolveParams,
} from "./types.js";

/** Memory tokens (before the first of `memoryEnd`) at `memoryPosition`; the rest 0, 1, 2, ... */
export function memoryPositionIds(
  tokens: ArrayLike<number>,
  memoryEnd: Iterable<number>,
  memoryPosition = 0,
): Float64Array {
  const ends = new Set(memoryEnd);
  let boundary = -1;
  for (let t = 0; t < tokens.length && boundary < 0; t++) if (ends.has(tokens[t])) boundary = t;
  const ids = new Float64Array(tokens.length);
  for (let t = 0; t < tokens.length; t++) {
    ids[t] = boundary < 0 ? t : t < boundary ? memoryPosition : t - boundary;
  }
  return ids;
}

const EXTENDED_MIND_PARAMS = {
  memoryEnd: {
    type: "number[]",
    description:
      "Token ids whose first occurrence ends the memory prefix (that token opens the local context at id 0). Empty: no memories, ids 0..n-1.",
    default: [],
  },
  memoryPosition: {
    type: "integer",
    description:
      "Id of every memory: 0 = EMT's RoPE rule (unrotated keys), -1 = its ALiBi rule (bias -slope * length).",
    default: 0,
    min: -1,
    max: 0,
  },
} as const satisfies EncodingSpec["params"];

export const extendedMindSpec = defineEncoding({
  id: "extended-mind",
  name: "Extended Mind memory positions",
  family: "position-ids",
  paper: { title: "Extended Mind Transformers", arxiv: "2406.02332", year: 2024 },
  formula:
    "memory tokens (before the first memoryEnd): id = memoryPosition (0 RoPE rule, -1 ALiBi rule); local tokens: 0, 1, 2, ...",
  summary:
    "Places every memory at one position before the local context (EMT's rule for retrieved memories), so memories never push local positions out of range.",
  slots: ["positionIds"],
  params: EXTENDED_MIND_PARAMS,
  create(params, path = "extended-mind"): PositionalEncoding {
    const p = resolveParams(path, EXTENDED_MIND_PARAMS, params);
    checkTokenIdList(path, "memoryEnd", p.memoryEnd);
    return {
      id: "extended-mind",
      params: Object.freeze(p),
      positionIds(length: number, context?: PositionIdContext) {
        const tokens = sequenceTokens(length, context, "the memory prefix ends at memoryEnd");
        return memoryPositionIds(tokens, p.memoryEnd, p.memoryPosition);
      },
    };
  },
  trainable: (params, dims, _rng, path): TrainableEncoding =>
    fixedTrainable(extendedMindSpec, params, dims, path),
});
