/**
 * Two Stones Hit One Bird: Bilevel Positional Encoding for Better Length Extrapolation
 * (He, Feng, Luo, Yang, Wang, He, 2024), arXiv:2401.16421.
 *
 * A text is a sequence of segments (sentences, lines) ended by separator tokens. Each token t gets two ids:
 *   segment id      seg_t   = #{ s < t : token s is a separator }         (inter-segment level)
 *   intra-segment   intra_t = t - (1 + last separator index before t)      (-1 when there is none)
 * so a separator belongs to the segment it ends (its seg is that segment's, its intra the segment's last
 * offset), the next token opens a new segment at intra 0, and both ids start at 0. In the official model
 * (zhenyuhe00/BiPE, my_modeling_llama_bipe_rope.py, `get_bilevel_ids`; separators are Llama token 869 '.' and
 * 13 newline) intra ids index a learned absolute table of `train_scale` = 1024 rows, clipped at 1023, and
 * the segment ids are the RoPE position_ids, so all tokens of a segment share one rotary angle
 * (BiPE-ALiBi instead biases by slope * (seg_i - seg_j), my_modeling_llama_bipe_alibi.py). Segment ids are
 * not clipped.
 *
 * Worked example, separators {"."}:
 *   token:  .  a  b  .  c  .  .  d  .
 *   seg:    0  1  1  1  2  2  3  4  4
 *   intra:  0  0  1  2  0  1  0  0  1
 *
 * This file is hook (b): the spec's positionIds returns the intra-segment ids (the first level, consumed by
 * an absolute embedding); `bilevelIds` gives both levels, and the model wires the segment ids into the second
 * level (RoPE angles or ALiBi distances over segments).
 */
import { embedding, normalParameter, type Tensor } from "../engine/index.js";
import type { Rng } from "../util/rng.js";
import { checkNumber, PosencConfigError } from "../util/validation.js";
import { type ModelDims, PerForward, type TrainableEncoding } from "./trainable.js";
import {
  defineEncoding,
  type EncodingSpec,
  type ParamValues,
  type PositionalEncoding,
  type PositionIdContext,
  resolveParams,
} from "./types.js";

export interface BipePositionIds {
  /** Inter-segment ids: separators strictly before each token. */
  segmentIds: Float64Array;
  /** Intra-segment ids: offset of each token inside its segment (clipped at maxIntraPosition - 1). */
  intraSegmentIds: Float64Array;
}

/**
 * Bilevel ids of a token sequence. `separatorTokens` end a segment (the separator stays in the segment it
 * ends). `maxIntraPosition` (optional, an integer >= 1) clips intra ids at maxIntraPosition - 1 as the official
 * code does with train_scale; omitted, intra ids are not clipped.
 */
export function bipePositionIds(
  tokens: ArrayLike<number>,
  separatorTokens: Iterable<number>,
  options: { maxIntraPosition?: number } = {},
): BipePositionIds {
  if (tokens === null || typeof tokens !== "object" || typeof tokens.length !== "number") {
    throw new PosencConfigError("invalid_type", "tokens", tokens, "an array of token ids");
  }
  const separators = new Set(separatorTokens);
  const maxIntra =
    options.maxIntraPosition === undefined
      ? Number.POSITIVE_INFINITY
      : checkNumber("maxIntraPosition", options.maxIntraPosition, { integer: true, min: 1 });
  const n = tokens.length;
  const segmentIds = new Float64Array(n);
  const intraSegmentIds = new Float64Array(n);
  let segment = 0;
  let segmentStart = 0;
  for (let t = 0; t < n; t++) {
    segmentIds[t] = segment;
    intraSegmentIds[t] = Math.min(t - segmentStart, maxIntra - 1);
    if (separators.has(tokens[t])) {
      // The separator closes its own segment: the count rises for the tokens after it.
      segment++;
      segmentStart = t + 1;
    }
  }
  return { segmentIds, intraSegmentIds };
}

export const BIPE_PARAMS = {
  separatorTokens: {
    type: "number[]",
    description:
      "Token ids that end a segment (official: Llama 869 '.' and 13 newline). Empty: one segment, intra ids 0..n-1.",
    default: [],
  },
  maxIntraPosition: {
    type: "integer",
    description:
      "Rows of the intra-segment position table; longer offsets are clipped to maxIntraPosition - 1 (official train_scale 1024).",
    default: 1024,
    min: 1,
  },
} as const satisfies EncodingSpec["params"];

/** The BiPE encoding: positionIds gives the intra-segment ids; bilevelIds gives both levels. */
export interface BipeEncoding extends PositionalEncoding {
  positionIds(length: number, context?: PositionIdContext): Float64Array;
  bilevelIds(tokens: ArrayLike<number>): BipePositionIds;
}

function tokensFromContext(length: number, context: PositionIdContext | undefined): ArrayLike<number> {
  const tokens = context?.tokens;
  if (tokens === undefined) {
    throw new PosencConfigError(
      "missing_key",
      "context.tokens",
      undefined,
      "the token ids (BiPE finds segments at separator tokens)",
    );
  }
  if (tokens.length !== length) {
    throw new RangeError(`context.tokens.length must equal length = ${length}, received ${tokens.length}`);
  }
  return tokens;
}

export function createBipeEncoding(params?: Record<string, unknown>): BipeEncoding {
  const p = resolveParams("bipe", BIPE_PARAMS, params);
  const separators = p.separatorTokens;
  const maxIntraPosition = p.maxIntraPosition;
  separators.forEach((s, i) => {
    checkNumber(`bipe.separatorTokens[${i}]`, s, { integer: true, min: 0 });
  });
  return {
    id: "bipe",
    params: Object.freeze(p),
    positionIds(length, context) {
      checkNumber("length", length, { integer: true, min: 0 });
      return bipePositionIds(tokensFromContext(length, context), separators, { maxIntraPosition })
        .intraSegmentIds;
    },
    bilevelIds(tokens) {
      return bipePositionIds(tokens, separators, { maxIntraPosition });
    },
  };
}

/**
 * Trainable BiPE (BiPE-RoPE / BiPE-ALiBi when combined with rope or alibi): hook (b) returns the SEGMENT ids, which
 * the consumer (RoPE angles, ALiBi distances) reads; hook (a) adds a learned [maxIntraPosition, dModel] table at the
 * INTRA-segment ids, N(0, 1) init like learned-absolute (the official table's init was not checked). The intra ids
 * of a forward pass are those computed by its positionIds call, which the model makes first.
 */
export function bipeTrainable(
  params: ParamValues<typeof BIPE_PARAMS>,
  dims: ModelDims,
  rng: Rng,
): TrainableEncoding {
  const encoding = createBipeEncoding(params);
  const rows = params.maxIntraPosition;
  const table = normalParameter(rng, [rows, dims.dModel], 1, "bipe.intraTable");
  let intra: Int32Array | null = null;
  const perForward = new PerForward<Tensor>();
  return {
    id: "bipe",
    parameters: () => [table],
    positionIds({ batchSize, seqLen, tokens }) {
      if (!tokens) throw new PosencConfigError("missing_key", "tokens", undefined, "the batch's token ids");
      const segments = new Float64Array(batchSize * seqLen);
      intra = new Int32Array(batchSize * seqLen);
      for (let b = 0; b < batchSize; b++) {
        const ids = encoding.bilevelIds(tokens.subarray(b * seqLen, (b + 1) * seqLen));
        segments.set(ids.segmentIds, b * seqLen);
        intra.set(ids.intraSegmentIds, b * seqLen);
      }
      return segments;
    },
    embedding(ids, batchSize, seqLen) {
      return perForward.get(ids, () => {
        if (!intra || intra.length !== batchSize * seqLen) {
          throw new RangeError("bipe: embedding called before positionIds for this batch");
        }
        return embedding(table, intra, [batchSize, seqLen]); // (B, T, D)
      });
    },
  };
}

export const bipeSpec = defineEncoding({
  id: "bipe",
  name: "BiPE (bilevel positional encoding)",
  family: "position-ids",
  paper: {
    title: "Two Stones Hit One Bird: Bilevel Positional Encoding for Better Length Extrapolation",
    arxiv: "2401.16421",
    year: 2024,
  },
  formula:
    "seg_t = #separators before t; intra_t = offset of t in its segment (a separator ends its own segment); positionIds = intra, segment ids via bilevelIds",
  summary:
    "Splits position into an intra-segment offset (absolute embedding) and a segment index (RoPE/ALiBi), so both stay small on long texts.",
  slots: ["positionIds"],
  params: BIPE_PARAMS,
  trainable: bipeTrainable,
  create: createBipeEncoding,
});
