/**
 * LLM as Effective Streaming Processor: Bridging Streaming-Batch Mismatches with Group Position Encoding
 * (Tong, Fu, Lin, Fan, Zhao, Su, Shen, 2025; Findings of ACL 2025), arXiv:2505.16983.
 *
 * In streaming (simultaneous) generation the source is read in chunks while the target is written, interleaved.
 * GPE gives the source and the target two position groups, each contiguous in itself and independent of the
 * interleaving:
 *   source token s (s = 0..S-1):  id = s
 *   target token u (u = 0..):     id = targetStart + u            (targetStart = the official pe_cache_length)
 * so the ids a token sees never change as more source arrives. Batch (non-streaming) mode uses 0..N-1. Official
 * code: EIT-NLP/StreamingLLM, StreamingLLM_GPE/dataloader_hf.py, `StreamingDataCollator.calculate_lengths`
 * (_mode == 'streaming': range(source_token_len) then range(pe_cache_length, pe_cache_length + rest); source =
 * instruction + user marker + source text + end marker, target = assistant marker + target text + end marker;
 * pe_cache_length defaults to 0).
 *
 * Here the group boundary is a token: the first `targetOpeners` token of a sequence (the lab's SEP, the official
 * assistant marker) opens the target group; without it every token is source. Worked example, opener 7,
 * targetStart 0:
 *   token:  5  1  2  7  3  4
 *   id:     0  1  2  0  1  2
 * Hook (b): the ids feed a consumer in the stack (rope, alibi, a learned table). The official streaming attention
 * masks (wait-k: a target token sees only the source read so far) are a model/task change not made here: trained
 * with the ordinary causal mask, the ids are those a streaming decoder would use.
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

/**
 * Group ids: 0..S-1 up to the first opener (any of `targetOpeners`), targetStart + 0, 1, ... from it on (the opener
 * is target token 0).
 */
export function groupPositionIds(
  tokens: ArrayLike<number>,
  targetOpeners: Iterable<number>,
  targetStart = 0,
): Float64Array {
  const openers = new Set(targetOpeners);
  const ids = new Float64Array(tokens.length);
  let opened = -1;
  for (let t = 0; t < tokens.length; t++) {
    if (opened < 0 && openers.has(tokens[t])) opened = t;
    ids[t] = opened < 0 ? t : targetStart + (t - opened);
  }
  return ids;
}

const GPE_MODES = ["streaming", "batch"] as const;

const GPE_PARAMS = {
  targetOpeners: {
    type: "number[]",
    description:
      "Token ids whose first occurrence opens the target group (the lab's SEP, the official assistant marker). Empty: every token is source, ids 0..n-1.",
    default: [],
  },
  targetStart: {
    type: "integer",
    description: "Id of the first target token (official pe_cache_length, default 0).",
    default: 0,
    min: 0,
  },
  mode: {
    type: "string",
    description: '"streaming": group ids; "batch": 0..N-1 (the official batch mode, an ablation).',
    default: "streaming",
    choices: GPE_MODES,
  },
} as const satisfies EncodingSpec["params"];

export const gpeSpec = defineEncoding({
  id: "gpe",
  name: "GPE (group position encoding for streaming)",
  family: "position-ids",
  paper: {
    title:
      "LLM as Effective Streaming Processor: Bridging Streaming-Batch Mismatches with Group Position Encoding",
    arxiv: "2505.16983",
    year: 2025,
  },
  formula:
    "source token s: id = s; target token u (from the first of targetOpeners on): id = targetStart + u",
  summary:
    "Source and target keep separate contiguous position groups, so interleaved streaming reads and writes never shift either group's ids.",
  slots: ["positionIds"],
  params: GPE_PARAMS,
  create(params, path = "gpe"): PositionalEncoding {
    const p = resolveParams(path, GPE_PARAMS, params);
    checkTokenIdList(path, "targetOpeners", p.targetOpeners);
    return {
      id: "gpe",
      params: Object.freeze(p),
      positionIds(length: number, context?: PositionIdContext) {
        const tokens = sequenceTokens(length, context, "GPE finds the target group at targetOpeners");
        if (p.mode === "batch") return Float64Array.from({ length }, (_, t) => t);
        return groupPositionIds(tokens, p.targetOpeners, p.targetStart);
      },
    };
  },
  trainable: (params, dims, _rng, path): TrainableEncoding => fixedTrainable(gpeSpec, params, dims, path),
});
