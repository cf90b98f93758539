/**
 * Dynamic NTK-aware RoPE scaling. First posted on Reddit (r/LocalLLaMA) by /u/emozilla as "Dynamically Scaled
 * RoPE", building on /u/bloc97's "NTK-aware" base change; formalized as "Dynamic NTK" in "YaRN: Efficient
 * Context Window Extension of Large Language Models" (Peng, Quesnelle, Fan, Shippole, 2023), arXiv:2309.00071,
 * section 3.3. This is Hugging Face's rope_type "dynamic".
 *
 * Instead of a fixed scale, the base grows with the current sequence length L (never below the trained length
 * L0 = max_position_embeddings), so sequences up to L0 see plain RoPE and longer ones are stretched just enough:
 *   L'     = max(L, L0)                                     (L undefined: L' = L0, i.e. plain RoPE)
 *   base'  = base * ((s * L' / L0) - (s - 1)) ^ (d / (d - 2))
 *   theta_i = base'^(-2i/d),  i = 0 .. d/2 - 1,   attention factor 1
 * The exponent d/(d-2) makes the lowest frequency (i = d/2 - 1) slow down by exactly s L'/L0 - (s - 1), while
 * the highest (i = 0) is unchanged: NTK-aware scaling interpolates low frequencies and extrapolates high ones.
 *
 * During generation Hugging Face recomputes the frequencies as the sequence grows (`dynamic_rope_update`):
 * createDynamicNtkFrequencyCache reproduces that state machine.
 */

import { checkNumber, PosencConfigError } from "../util/validation.js";
import {
  defineRopeVariant,
  ROPE_BASE_PARAMS,
  type RopeFrequencySchedule,
  type RopeFrequencyUpdate,
} from "./rope.js";
import {
  type RopeCommon,
  type RopeTypeEntry,
  readFactor,
  readMaxPositionEmbeddings,
  type TypeContext,
} from "./rope-config-types.js";
import { inverseFrequencyRow } from "./rope-kernel.js";
import type { EncodingSpec } from "./types.js";

// The schedule contract and the encoding that follows it live in rope.ts (LongRoPE and defineRopeVariant use them
// too); re-exported here, where they were first defined.
export {
  type RopeFrequencySchedule,
  type RopeFrequencyUpdate,
  ropeEncodingFollowingSequenceLength,
} from "./rope.js";

export interface DynamicNtkOptions {
  /** Rotary dimension d: an even integer >= 4 (the exponent d / (d - 2) needs d > 2). */
  dim: number;
  /** RoPE base (rope_theta), > 0. */
  base: number;
  /** Scale s, > 0 (HF rope_scaling.factor). */
  factor: number;
  /** Trained context length L0 (HF max_position_embeddings), an integer >= 1. */
  maxPositionEmbeddings: number;
  /**
   * Current sequence length L (max position id + 1). Undefined means L0, as at HF model initialisation, which
   * gives plain RoPE; lengths below L0 are raised to L0.
   */
  seqLen?: number;
}

function checkDynamicNtkOptions(options: DynamicNtkOptions): void {
  checkNumber("dim", options.dim, { integer: true, min: 4 });
  if (options.dim % 2 !== 0)
    throw new PosencConfigError("invalid_value", "dim", options.dim, "an even integer >= 4");
  checkNumber("base", options.base, { min: 0, exclusiveMin: true });
  checkNumber("factor", options.factor, { min: 0, exclusiveMin: true });
  checkNumber("maxPositionEmbeddings", options.maxPositionEmbeddings, { integer: true, min: 1 });
  if (options.seqLen !== undefined) checkNumber("seqLen", options.seqLen, { min: 0 });
}

/** The rescaled base' = base * ((s * L' / L0) - (s - 1))^(d / (d - 2)), with L' = max(seqLen ?? L0, L0). */
export function dynamicNtkBase(options: DynamicNtkOptions): number {
  checkDynamicNtkOptions(options);
  const { dim, base, factor, maxPositionEmbeddings } = options;
  const seqLen = Math.max(options.seqLen ?? maxPositionEmbeddings, maxPositionEmbeddings);
  // Same operation order as HF: (factor * seq_len) / max_position_embeddings.
  return base * ((factor * seqLen) / maxPositionEmbeddings - (factor - 1)) ** (dim / (dim - 2));
}

/** theta_i = base'^(-2i/d) with the dynamic NTK base'; attention factor is 1. */
export function dynamicNtkInverseFrequencies(options: DynamicNtkOptions): Float64Array {
  // The computed base may cancel to 0 (factor >= 1e16): the strict config reader names rope_scaling.factor.
  return inverseFrequencyRow(options.dim, dynamicNtkBase(options));
}

export interface DynamicNtkFrequencyCache extends RopeFrequencySchedule {
  /** HF `max_seq_len_cached`: the length the current frequencies were computed for (starts at L0). */
  readonly maxSeqLenCached: number;
}

/**
 * HF `dynamic_frequency_update` for rope_type "dynamic". Starts with the frequencies for seqLen undefined
 * (plain RoPE, cached length L0). On update(L):
 *   - growth: L > maxSeqLenCached  -> recompute with seqLen = L, maxSeqLenCached = L
 *   - reset:  L < L0 and maxSeqLenCached > L0 -> back to the original frequencies, maxSeqLenCached = L0
 *     (short sequences regain full precision after a long one)
 * Otherwise (L0 <= L <= maxSeqLenCached) the frequencies stay as they are: they never shrink while L >= L0.
 */
export function createDynamicNtkFrequencyCache(
  options: Omit<DynamicNtkOptions, "seqLen">,
): DynamicNtkFrequencyCache {
  const original = dynamicNtkInverseFrequencies({ ...options, seqLen: undefined });
  const originalMaxSeqLen = options.maxPositionEmbeddings;
  let invFreq = original;
  let maxSeqLenCached = originalMaxSeqLen;
  return {
    get invFreq() {
      return invFreq;
    },
    attentionFactor: 1,
    get maxSeqLenCached() {
      return maxSeqLenCached;
    },
    update(seqLen: number): RopeFrequencyUpdate {
      checkNumber("seqLen", seqLen, { min: 0 });
      const cachedBefore = maxSeqLenCached;
      const previous = invFreq;
      if (seqLen > cachedBefore) {
        invFreq = dynamicNtkInverseFrequencies({ ...options, seqLen });
        maxSeqLenCached = seqLen;
      }
      if (seqLen < originalMaxSeqLen && cachedBefore > originalMaxSeqLen) {
        invFreq = original;
        maxSeqLenCached = originalMaxSeqLen;
      }
      return { invFreq, attentionFactor: 1, changed: invFreq !== previous };
    },
  };
}

/** Hugging Face rope_type "dynamic": {factor} and the trained length max_position_embeddings. */
export interface DynamicRopeConfig extends RopeCommon {
  ropeType: "dynamic";
  factor: number;
  maxPositionEmbeddings: number;
}

function readDynamic(at: TypeContext): DynamicRopeConfig {
  const { reader, dim, base } = at;
  const factor = readFactor(at);
  const maxPositionEmbeddings = readMaxPositionEmbeddings(reader, "dynamic NTK scales relative to it");
  if (dim < 4) {
    throw new PosencConfigError(
      "invalid_value",
      `${at.path}.rope_type`,
      "dynamic",
      `a rope type other than "dynamic" for a rotary dim of ${dim} (the dynamic NTK exponent d / (d - 2) needs d >= 4)`,
    );
  }
  return { ropeType: "dynamic", dim, base, factor, maxPositionEmbeddings };
}

/** HF rope_type "dynamic" (`_compute_dynamic_ntk_parameters`, `dynamic_frequency_update`). */
export const dynamicRopeType: RopeTypeEntry<DynamicRopeConfig> = {
  keys: ["factor"],
  read: readDynamic,
  compute: (resolved, seqLen) => ({
    invFreq: dynamicNtkInverseFrequencies({ ...resolved, seqLen }),
    attentionFactor: 1,
  }),
  schedule: ({ dim, base, factor, maxPositionEmbeddings }) =>
    createDynamicNtkFrequencyCache({ dim, base, factor, maxPositionEmbeddings }),
};

const ROPE_DYNAMIC_NTK_PARAMS = {
  ...ROPE_BASE_PARAMS,
  factor: {
    type: "number",
    description: "Scale s (HF rope_scaling.factor); the base grows as (s * L / L0 - (s - 1))^(d / (d - 2)).",
    default: 2,
    min: 0,
    exclusiveMin: true,
  },
  maxPositionEmbeddings: {
    type: "integer",
    description:
      "Trained context length L0 (HF max_position_embeddings): up to L0 the encoding is plain RoPE.",
    default: 2048,
    min: 1,
  },
  seqLen: {
    type: "integer",
    description:
      "Fixed sequence length L for the frequencies; 0 = follow each call's positions (L = max position + 1), growing and resetting like HF generation.",
    default: 0,
    min: 0,
  },
} as const satisfies EncodingSpec["params"];

export const ropeDynamicNtkSpec = defineRopeVariant({
  id: "rope-dynamic-ntk",
  name: "Dynamic NTK-aware RoPE scaling",
  family: "context-extension",
  paper: {
    title: "YaRN: Efficient Context Window Extension of Large Language Models",
    arxiv: "2309.00071",
    year: 2023,
  },
  formula: "base' = base * (s * max(L, L0) / L0 - (s - 1))^(d / (d - 2)); theta_i = base'^(-2i/d)",
  summary:
    "Raises the RoPE base with the current sequence length so short sequences keep plain RoPE and longer ones are stretched just enough (Dynamic NTK, /u/emozilla).",
  params: ROPE_DYNAMIC_NTK_PARAMS,
  frequencies(p, dim) {
    if (dim < 4) {
      throw new PosencConfigError(
        "invalid_value",
        "rope-dynamic-ntk.headDim",
        p.headDim,
        "a head size whose rotary dimension is >= 4 (the exponent d / (d - 2) needs d > 2)",
      );
    }
    const ntk = {
      dim,
      base: p.base,
      factor: p.factor,
      maxPositionEmbeddings: p.maxPositionEmbeddings,
    };
    const seqLen = p.seqLen;
    return seqLen > 0
      ? { invFreq: dynamicNtkInverseFrequencies({ ...ntk, seqLen }) }
      : createDynamicNtkFrequencyCache(ntk);
  },
});
