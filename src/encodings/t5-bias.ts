/**
 * T5 relative position bias, from "Exploring the Limits of Transfer Learning with a Unified Text-to-Text
 * Transformer" (Raffel, Shazeer, Roberts, Lee, Narang, Matena, Zhou, Li and Liu, 2019), arXiv:1910.10683.
 *
 * Each head h adds a learned scalar per bucket of relative position to its attention logits:
 *   bias[h, i, j] = table[bucket(k_j - q_i), h]       (table: [numBuckets, numHeads], HF's relative_attention_bias)
 * The bucket of relative position r = keyPosition - queryPosition (Hugging Face `T5Attention._relative_position_bucket`,
 * itself from Mesh TensorFlow):
 *   bidirectional: B = numBuckets / 2 (floor), offset = B if r > 0 else 0, n = |r|
 *   unidirectional: B = numBuckets, offset = 0, n = max(-r, 0)            (future keys share bucket 0)
 *   maxExact = floor(B / 2)
 *   bucket = offset + n                                                    if n < maxExact
 *          = offset + min(B - 1, maxExact + trunc(log(n / maxExact) / log(maxDistance / maxExact) * (B - maxExact)))
 * so half the buckets hold exact small distances and half are logarithmically wider bins up to maxDistance;
 * every distance >= maxDistance shares the last bucket.
 *
 * The learned table belongs to the trainable model. Without a `table` this framework-free form returns a zero
 * bias; `t5BucketTable` gives the bucket indices a model gathers its own table with.
 */

import { embedding, parameter, permute, type Tensor } from "../engine/index.js";
import type { Rng } from "../util/rng.js";
import { checkBoolean, checkNumber, PosencConfigError } from "../util/validation.js";
import { type BiasGridOptions, biasGridPositions, checkPositions } from "./alibi.js";
import { type ModelDims, PerForward, RowTableCache, type TrainableEncoding } from "./trainable.js";
import {
  defineEncoding,
  type EncodingSpec,
  type ParamValues,
  type PositionalEncoding,
  resolveParams,
} from "./types.js";

export interface T5BucketOptions {
  /** true for encoder self-attention (separate buckets for past and future), false for the decoder. */
  bidirectional: boolean;
  /** Total buckets (T5: 32). At least 2 unidirectional, 4 bidirectional, so that maxExact >= 1. */
  numBuckets: number;
  /** Distances at or beyond it share the last bucket (T5: 128). Must exceed maxExact. */
  maxDistance: number;
}

/** The derived constants of one bucket configuration, checked once. */
interface BucketPlan {
  bidirectional: boolean;
  /** Buckets per direction (B above). */
  perSide: number;
  maxExact: number;
  /** log(maxDistance / maxExact) as PyTorch sees it: a float64 Python scalar cast to float32. */
  logRange: number;
}

function planBuckets(options: T5BucketOptions): BucketPlan {
  if (typeof options !== "object" || options === null) {
    throw new PosencConfigError(
      "invalid_type",
      "options",
      options,
      "an object { bidirectional, numBuckets, maxDistance }",
    );
  }
  const bidirectional = checkBoolean("bidirectional", options.bidirectional);
  const minBuckets = bidirectional ? 4 : 2;
  const numBuckets = checkNumber("numBuckets", options.numBuckets, { integer: true, min: minBuckets });
  const perSide = bidirectional ? Math.floor(numBuckets / 2) : numBuckets;
  const maxExact = Math.floor(perSide / 2);
  const maxDistance = checkNumber("maxDistance", options.maxDistance, { min: maxExact, exclusiveMin: true });
  return { bidirectional, perSide, maxExact, logRange: Math.fround(Math.log(maxDistance / maxExact)) };
}

/**
 * Bucket of an integer relative position under a checked plan, reproducing PyTorch's float32 arithmetic:
 *   torch.log(n.float() / maxExact) / math.log(maxDistance / maxExact) * (B - maxExact), then .to(long)
 * Every operation is rounded to float32 (Math.fround) as PyTorch does on CPU: the tensor is float32 and the Python
 * scalars are cast to float32. It matters at the bin edges, where the exact value is an integer. Example:
 * numBuckets 10, maxDistance 160, unidirectional, r = -10: log(2) / log(32) * 5 = 1 exactly; float32 rounds it to
 * 1 (bucket 6), float64 to 0.9999999999999999 (bucket 5). The float32 log is fround(Math.log(x)), the correctly
 * rounded value, which PyTorch's logf matches except in rare last-bit cases. CUDA divides by the scalar as a
 * multiplication by its reciprocal, which can move an edge by one bucket (e.g. numBuckets 128, maxDistance 100,
 * unidirectional, r = -80: CPU 96, reciprocal 95); we follow the CPU.
 */
function bucketOf(plan: BucketPlan, relativePosition: number): number {
  let offset = 0;
  let n: number;
  if (plan.bidirectional) {
    if (relativePosition > 0) offset = plan.perSide;
    n = Math.abs(relativePosition);
  } else {
    n = relativePosition < 0 ? -relativePosition : 0;
  }
  if (n < plan.maxExact) return offset + n;
  const ratio = Math.fround(Math.fround(n) / plan.maxExact);
  const logRatio = Math.fround(Math.log(ratio));
  const scaled = Math.fround(Math.fround(logRatio / plan.logRange) * (plan.perSide - plan.maxExact));
  const large = plan.maxExact + Math.trunc(scaled);
  return offset + Math.min(large, plan.perSide - 1);
}

function checkRelativePosition(key: string, value: number): void {
  if (!Number.isSafeInteger(value)) {
    throw new PosencConfigError("invalid_value", key, value, "an integer (key position - query position)");
  }
}

/**
 * T5 bucket of relativePosition = keyPosition - queryPosition, exactly as Hugging Face
 * `T5Attention._relative_position_bucket` (PyTorch, float32). Returns an integer in [0, numBuckets).
 */
export function t5RelativePositionBucket(relativePosition: number, options: T5BucketOptions): number {
  checkRelativePosition("relativePosition", relativePosition);
  return bucketOf(planBuckets(options), relativePosition);
}

/**
 * Buckets for arbitrary integer positions, row-major [queryPositions.length, keyPositions.length]:
 * out[i, j] = bucket(keyPositions[j] - queryPositions[i]).
 */
export function t5BucketTableAt(
  queryPositions: ArrayLike<number>,
  keyPositions: ArrayLike<number>,
  options: T5BucketOptions,
): Int32Array {
  const plan = planBuckets(options);
  checkPositions("queryPositions", queryPositions);
  checkPositions("keyPositions", keyPositions);
  const q = queryPositions.length;
  const k = keyPositions.length;
  const out = new Int32Array(q * k);
  for (let i = 0; i < q; i++) {
    for (let j = 0; j < k; j++) {
      const r = keyPositions[j] - queryPositions[i];
      checkRelativePosition(`keyPositions[${j}] - queryPositions[${i}]`, r);
      out[i * k + j] = bucketOf(plan, r);
    }
  }
  return out;
}

/**
 * Buckets of query i at absolute position queryOffset + i against keys 0 .. keyLength - 1, row-major
 * [queryLength, keyLength]: HF's `compute_bias` bucket matrix (with `cache_position` = queryOffset + i).
 */
export function t5BucketTable(
  queryLength: number,
  keyLength: number,
  options: T5BucketOptions & BiasGridOptions,
): Int32Array {
  planBuckets(options);
  const { queryPositions, keyPositions } = biasGridPositions(queryLength, keyLength, options.queryOffset);
  return t5BucketTableAt(queryPositions, keyPositions, options);
}

/** numHeads of a [numBuckets, numHeads] table; throws unless its length is a positive multiple of numBuckets. */
function headsOfTable(table: ArrayLike<number>, numBuckets: number): number {
  const numHeads = table.length / numBuckets;
  if (!Number.isInteger(numHeads) || numHeads < 1) {
    throw new RangeError(
      `table must hold [numBuckets = ${numBuckets}, numHeads] values (a positive multiple of ${numBuckets}), received ${table.length}`,
    );
  }
  for (let i = 0; i < table.length; i++) {
    if (!Number.isFinite(table[i]))
      throw new RangeError(`table[${i}] must be a finite number, received ${table[i]}`);
  }
  return numHeads;
}

/**
 * T5 bias for arbitrary integer positions from a learned table, row-major
 * [numHeads, queryPositions.length, keyPositions.length]: bias[h, i, j] = table[bucket(k_j - q_i) * numHeads + h].
 * `table` is row-major [numBuckets, numHeads], the layout of HF's `relative_attention_bias.weight`.
 */
export function t5BiasAt(
  table: ArrayLike<number>,
  queryPositions: ArrayLike<number>,
  keyPositions: ArrayLike<number>,
  options: T5BucketOptions,
): Float32Array {
  planBuckets(options); // validates numBuckets before it sizes the table
  const numHeads = headsOfTable(table, options.numBuckets);
  const buckets = t5BucketTableAt(queryPositions, keyPositions, options);
  const cells = buckets.length;
  const out = new Float32Array(numHeads * cells);
  for (let h = 0; h < numHeads; h++) {
    for (let c = 0; c < cells; c++) out[h * cells + c] = table[buckets[c] * numHeads + h];
  }
  return out;
}

/**
 * T5 bias of query i at absolute position queryOffset + i against keys 0 .. keyLength - 1, row-major
 * [numHeads, queryLength, keyLength], numHeads = table.length / numBuckets: HF's `compute_bias` output.
 */
export function t5Bias(
  table: ArrayLike<number>,
  queryLength: number,
  keyLength: number,
  options: T5BucketOptions & BiasGridOptions,
): Float32Array {
  const { queryPositions, keyPositions } = biasGridPositions(queryLength, keyLength, options.queryOffset);
  return t5BiasAt(table, queryPositions, keyPositions, options);
}

// ---------------------------------------------------------------------------------------------------------------
// Trainable form: the learned table as an engine Parameter.
// ---------------------------------------------------------------------------------------------------------------

/**
 * bias[r, h, i, j] = table[buckets[r, i, j], h]: a differentiable gather from the learned table [numBuckets, H],
 * for bucket indices [rows, T, T] (rows = 1 when all examples share their ids). Returns [rows, H, T, T].
 */
export function t5BiasFromTable(table: Tensor, buckets: Int32Array, rows: number, seqLen: number): Tensor {
  return permute(embedding(table, buckets, [rows, seqLen, seqLen]), [0, 3, 1, 2]); // (rows, T, T, H) -> (rows, H, T, T)
}

/**
 * Trainable T5 bias: one learned [numBuckets, numHeads] table shared by all layers (HF T5 computes it in the first
 * layer and passes it on; the calibration does the same), zero-initialized like the calibration (a non-empty
 * `params.table` is used as the initial value instead).
 */
function t5Trainable(
  params: ParamValues<typeof T5_PARAMS>,
  dims: ModelDims,
  _rng?: Rng,
  path = "t5-bias",
): TrainableEncoding {
  const options: T5BucketOptions = {
    bidirectional: params.bidirectional,
    numBuckets: params.numBuckets,
    maxDistance: params.maxDistance,
  };
  planBuckets(options);
  const H = dims.numHeads;
  const initial = params.table;
  if (initial.length !== 0 && initial.length !== options.numBuckets * H) {
    throw new PosencConfigError(
      "invalid_value",
      `${path}.table`,
      initial,
      `numBuckets * numHeads = ${options.numBuckets * H} values, or [] for the zero init`,
    );
  }
  const values = initial.length > 0 ? initial : new Array<number>(options.numBuckets * H).fill(0);
  const table = parameter(values, [options.numBuckets, H], "t5-bias.table");
  const buckets = new RowTableCache((row) => Float32Array.from(t5BucketTableAt(row, row, options)));
  const perForward = new PerForward<Tensor>();
  return {
    id: "t5-bias",
    parameters: () => [table],
    attentionBias(ids, batchSize, seqLen) {
      return perForward.get(ids, () => {
        const { data, rows } = buckets.get(ids, batchSize, seqLen);
        return t5BiasFromTable(table, Int32Array.from(data), rows, seqLen);
      });
    },
  };
}

const T5_PARAMS = {
  bidirectional: {
    type: "boolean",
    description:
      "Separate buckets for past and future keys (T5 encoder: true; decoder self-attention: false).",
    default: true,
  },
  numBuckets: {
    type: "integer",
    description: "Number of relative-position buckets (HF relative_attention_num_buckets).",
    default: 32,
    min: 2,
  },
  maxDistance: {
    type: "number",
    description:
      "Distance from which all positions share the last bucket (HF relative_attention_max_distance); must exceed the exact-bucket count.",
    default: 128,
    min: 1,
  },
  table: {
    type: "number[]",
    description:
      "Learned bias values, row-major [numBuckets, numHeads] like HF relative_attention_bias.weight. Empty (default): zero bias; the trainable model learns its own table.",
    default: [],
  },
} as const satisfies EncodingSpec["params"];

export const t5BiasSpec = defineEncoding({
  id: "t5-bias",
  name: "T5 relative position bias",
  family: "attention-bias",
  paper: {
    title: "Exploring the Limits of Transfer Learning with a Unified Text-to-Text Transformer",
    arxiv: "1910.10683",
    year: 2019,
  },
  formula:
    "bias[h, i, j] = table[bucket(j - i), h]; buckets exact below numBuckets/4 (bidirectional) and log-spaced up to maxDistance",
  summary:
    "Adds a learned scalar per head and per bucket of relative distance (exact for short, logarithmic for long distances) to attention logits.",
  slots: ["attentionBias"],
  modelParams: (dims) => ({ bidirectional: !dims.causal }),
  params: T5_PARAMS,
  trainable: t5Trainable,
  create(params, path = "t5-bias"): PositionalEncoding {
    const p = resolveParams(path, T5_PARAMS, params);
    const options: T5BucketOptions = {
      bidirectional: p.bidirectional,
      numBuckets: p.numBuckets,
      maxDistance: p.maxDistance,
    };
    try {
      planBuckets(options);
    } catch (error) {
      if (!(error instanceof PosencConfigError)) throw error;
      throw new PosencConfigError(error.code, `t5-bias.${error.key}`, error.received, error.expected);
    }
    const table = p.table;
    return {
      id: "t5-bias",
      params: Object.freeze(p),
      attentionBias(queryPositions, keyPositions, numHeads) {
        checkNumber("numHeads", numHeads, { integer: true, min: 1 });
        if (table.length === 0) {
          // Validates the positions the same way, then returns the zero bias of an untrained table.
          t5BucketTableAt(queryPositions, keyPositions, options);
          return new Float32Array(numHeads * queryPositions.length * keyPositions.length);
        }
        if (table.length !== options.numBuckets * numHeads) {
          throw new PosencConfigError(
            "invalid_value",
            `${path}.table`,
            table,
            `numBuckets * numHeads = ${options.numBuckets} * ${numHeads} = ${options.numBuckets * numHeads} values, or [] for a zero bias`,
          );
        }
        return t5BiasAt(table, queryPositions, keyPositions, options);
      },
    };
  },
});
