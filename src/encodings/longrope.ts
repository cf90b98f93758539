/**
 * LongRoPE, from "LongRoPE: Extending LLM Context Window Beyond 2 Million Tokens" (Ding, Zhang, Zhang, Xu,
 * Shang, Xu, Yang, Yang, 2024), arXiv:2402.13753. Hugging Face rope_type "longrope" (Phi-3, Phi-3.5, Phi-4-mini).
 *
 * An evolutionary search finds one rescale factor lambda_i >= 1 per frequency (non-uniform interpolation):
 *   theta'_i = 1 / (lambda_i * base^(2i/d)),   i = 0 .. d/2 - 1
 * Models ship two searched lists: `short_factor` for sequences within the trained length L and `long_factor`
 * beyond it; Hugging Face picks long_factor when seq_len > L (original_max_position_embeddings), else
 * short_factor (also when seq_len is unknown). With scale s (factor, or max_position_embeddings / L) the
 * attention factor that multiplies cos and sin is
 *   attention_factor = sqrt(1 + ln(s) / ln(L))   (1 when s <= 1; an explicit attention_factor wins)
 */
import { checkNumber, PosencConfigError } from "../util/validation.js";
import {
  defineRopeVariant,
  ROPE_BASE_PARAMS,
  type RopeFrequencySchedule,
  type RopeFrequencyUpdate,
} from "./rope.js";
import {
  checkFactor,
  isSet,
  type RopeCommon,
  type RopeTypeEntry,
  readAttentionFactor,
  readMaxPositionEmbeddings,
  readOriginal,
  type TypeContext,
} from "./rope-config-types.js";
import type { EncodingSpec } from "./types.js";

/** 1 / (rescaleFactors[i] * base^(2i/d)): RoPE frequencies divided pair-wise by the searched factors. */
export function longropeRescaledInverseFrequencies(
  dim: number,
  base: number,
  rescaleFactors: ArrayLike<number>,
  key = "rescaleFactors",
): Float64Array {
  checkNumber("dim", dim, { integer: true, min: 2 });
  if (dim % 2 !== 0) throw new PosencConfigError("invalid_value", "dim", dim, "an even integer >= 2");
  checkNumber("base", base, { min: 0, exclusiveMin: true });
  const half = dim / 2;
  if (rescaleFactors.length !== half) {
    throw new PosencConfigError(
      "invalid_value",
      key,
      Array.from(rescaleFactors),
      `a list of dim / 2 = ${half} numbers, one per rotated pair (the list has ${rescaleFactors.length})`,
    );
  }
  const invFreq = new Float64Array(half);
  for (let i = 0; i < half; i++) {
    const lambda = checkNumber(`${key}[${i}]`, rescaleFactors[i], { min: 0, exclusiveMin: true });
    invFreq[i] = 1 / (lambda * base ** ((2 * i) / dim));
  }
  return invFreq;
}

/** HF's switch: long factors when seqLen is given (non-zero) and exceeds the trained length L. */
export function longropeUsesLongFactors(
  seqLen: number | undefined,
  originalMaxPositionEmbeddings: number,
): boolean {
  return seqLen !== undefined && seqLen > 0 && seqLen > originalMaxPositionEmbeddings;
}

export interface LongropeOptions {
  /** Rotary dimension d, an even integer >= 2. */
  dim: number;
  /** RoPE base (rope_theta), > 0. */
  base: number;
  /** d/2 factors for seqLen <= L (or unknown). */
  shortFactor: ArrayLike<number>;
  /** d/2 factors for seqLen > L. */
  longFactor: ArrayLike<number>;
  /** Trained context length L (HF original_max_position_embeddings). */
  originalMaxPositionEmbeddings: number;
  /** Current sequence length (max position id + 1); undefined selects the short factors. */
  seqLen?: number;
}

/** LongRoPE frequencies for the current length: long_factor beyond L, short_factor otherwise. */
export function longropeInverseFrequencies(options: LongropeOptions): Float64Array {
  const { dim, base, shortFactor, longFactor, originalMaxPositionEmbeddings, seqLen } = options;
  checkNumber("originalMaxPositionEmbeddings", originalMaxPositionEmbeddings, { min: 0, exclusiveMin: true });
  if (seqLen !== undefined) checkNumber("seqLen", seqLen, { min: 0 });
  return longropeUsesLongFactors(seqLen, originalMaxPositionEmbeddings)
    ? longropeRescaledInverseFrequencies(dim, base, longFactor, "longFactor")
    : longropeRescaledInverseFrequencies(dim, base, shortFactor, "shortFactor");
}

/** sqrt(1 + ln(s) / ln(L)), 1 when s <= 1; an explicit attentionFactor (not null/undefined) wins. */
export function longropeAttentionFactor(options: {
  factor: number;
  originalMaxPositionEmbeddings: number;
  attentionFactor?: number | null;
}): number {
  const { factor, originalMaxPositionEmbeddings, attentionFactor } = options;
  if (attentionFactor !== undefined && attentionFactor !== null)
    return checkNumber("attentionFactor", attentionFactor);
  checkNumber("factor", factor, { min: 0, exclusiveMin: true });
  if (factor <= 1) return 1;
  checkNumber("originalMaxPositionEmbeddings", originalMaxPositionEmbeddings, { min: 1, exclusiveMin: true });
  return Math.sqrt(1 + Math.log(factor) / Math.log(originalMaxPositionEmbeddings));
}

/**
 * HF `longrope_frequency_update`: update(L) uses the long-factor frequencies when L > original (computed once,
 * as HF does with seq_len = original + 1) and the short-factor ones otherwise. The attention factor is fixed.
 */
export function createLongropeFrequencySwitch(
  options: Omit<LongropeOptions, "seqLen"> & { attentionFactor: number },
): RopeFrequencySchedule {
  const { originalMaxPositionEmbeddings, attentionFactor } = options;
  const short = longropeInverseFrequencies({ ...options, seqLen: undefined });
  const long = longropeInverseFrequencies({ ...options, seqLen: originalMaxPositionEmbeddings + 1 });
  let invFreq = short;
  return {
    get invFreq() {
      return invFreq;
    },
    attentionFactor,
    update(seqLen: number): RopeFrequencyUpdate {
      checkNumber("seqLen", seqLen, { min: 0 });
      const previous = invFreq;
      invFreq = longropeUsesLongFactors(seqLen, originalMaxPositionEmbeddings) ? long : short;
      return { invFreq, attentionFactor, changed: invFreq !== previous };
    },
  };
}

/** Hugging Face rope_type "longrope" (Phi-3 style), with HF's fallbacks applied. */
export interface LongropeRopeConfig extends RopeCommon {
  ropeType: "longrope";
  shortFactor: number[];
  longFactor: number[];
  originalMaxPositionEmbeddings: number;
  factor: number;
  attentionFactor: number | null;
}

function readFactorList(at: TypeContext, name: "short_factor" | "long_factor"): number[] {
  const { reader, path, dict, dim } = at;
  const key = `${path}.${name}`;
  const expected = `a list of rotary dim / 2 = ${dim / 2} numbers > 0`;
  const value = reader.required(key, dict[name], expected);
  if (!Array.isArray(value)) throw new PosencConfigError("invalid_type", key, value, expected);
  if (value.length !== dim / 2) {
    throw new PosencConfigError("invalid_value", key, value, `${expected} (the list has ${value.length})`);
  }
  return value.map((v, i) => reader.number(`${key}[${i}]`, v, "a finite number > 0", (n) => n > 0));
}

function readLongrope(at: TypeContext): LongropeRopeConfig {
  const { reader, path, dict, dim, base } = at;
  const shortFactor = readFactorList(at, "short_factor");
  const longFactor = readFactorList(at, "long_factor");
  const original = readOriginal(at);
  const needMax = "longrope infers original_max_position_embeddings and factor from it";
  const originalMaxPositionEmbeddings = original?.value ?? readMaxPositionEmbeddings(reader, needMax);
  const factor = isSet(dict.factor)
    ? checkFactor(reader, `${path}.factor`, dict.factor)
    : readMaxPositionEmbeddings(reader, needMax) / originalMaxPositionEmbeddings;
  return {
    ropeType: "longrope",
    dim,
    base,
    shortFactor,
    longFactor,
    originalMaxPositionEmbeddings,
    factor,
    attentionFactor: readAttentionFactor(at),
  };
}

/** HF rope_type "longrope" (`_compute_longrope_parameters`, `longrope_frequency_update`). */
export const longropeRopeType: RopeTypeEntry<LongropeRopeConfig> = {
  keys: ["short_factor", "long_factor", "factor", "attention_factor", "original_max_position_embeddings"],
  read: readLongrope,
  compute: (resolved, seqLen) => ({
    invFreq: longropeInverseFrequencies({ ...resolved, seqLen }),
    attentionFactor: longropeAttentionFactor(resolved),
  }),
  schedule: (resolved) =>
    createLongropeFrequencySwitch({ ...resolved, attentionFactor: longropeAttentionFactor(resolved) }),
  scaleInput: (resolved, seqLen) =>
    longropeUsesLongFactors(seqLen, resolved.originalMaxPositionEmbeddings)
      ? { key: "long_factor", value: resolved.longFactor }
      : { key: "short_factor", value: resolved.shortFactor },
};

const LONGROPE_PARAMS = {
  ...ROPE_BASE_PARAMS,
  shortFactor: {
    type: "number[]",
    description:
      "Searched per-pair rescale factors for sequences within L (d/2 values); [] = all 1 (plain RoPE).",
    default: [],
  },
  longFactor: {
    type: "number[]",
    description:
      "Searched per-pair rescale factors for sequences beyond L (d/2 values); [] = all 1 (plain RoPE).",
    default: [],
  },
  originalMaxPositionEmbeddings: {
    type: "integer",
    description: "Trained context length L: the switch point between short and long factors.",
    default: 4096,
    min: 2,
  },
  factor: {
    type: "number",
    description:
      "Extension scale s (max_position_embeddings / L) used by the attention factor sqrt(1 + ln s / ln L).",
    default: 1,
    min: 0,
    exclusiveMin: true,
  },
  attentionFactor: {
    type: "number",
    description: "Explicit factor on cos and sin; 0 = infer sqrt(1 + ln s / ln L).",
    default: 0,
    min: 0,
  },
  seqLen: {
    type: "integer",
    description:
      "Fixed sequence length selecting the factor list; 0 = follow each call's positions (max position + 1).",
    default: 0,
    min: 0,
  },
} as const satisfies EncodingSpec["params"];

export const longropeSpec = defineRopeVariant({
  id: "longrope",
  name: "LongRoPE",
  family: "context-extension",
  paper: {
    title: "LongRoPE: Extending LLM Context Window Beyond 2 Million Tokens",
    arxiv: "2402.13753",
    year: 2024,
  },
  formula:
    "theta'_i = 1 / (lambda_i * base^(2i/d)), lambda = long_factor if seq_len > L else short_factor; cos, sin *= sqrt(1 + ln s / ln L)",
  summary:
    "Rescales each RoPE frequency by its own searched factor, with separate factor lists within and beyond the trained length.",
  params: LONGROPE_PARAMS,
  frequencies(p, dim) {
    const ones = new Array<number>(dim / 2).fill(1);
    const factorList = (key: "shortFactor" | "longFactor") => {
      const list = p[key];
      if (list.length === 0) return ones;
      if (list.length !== dim / 2) {
        throw new PosencConfigError(
          "invalid_value",
          `longrope.${key}`,
          list,
          `a list of rotary dim / 2 = ${dim / 2} numbers, or [] for all 1 (the list has ${list.length})`,
        );
      }
      return list;
    };
    const originalMaxPositionEmbeddings = p.originalMaxPositionEmbeddings;
    const options = {
      dim,
      base: p.base,
      shortFactor: factorList("shortFactor"),
      longFactor: factorList("longFactor"),
      originalMaxPositionEmbeddings,
    };
    const attentionFactor = longropeAttentionFactor({
      factor: p.factor,
      originalMaxPositionEmbeddings,
      attentionFactor: p.attentionFactor > 0 ? p.attentionFactor : undefined,
    });
    const seqLen = p.seqLen;
    return seqLen > 0
      ? { invFreq: longropeInverseFrequencies({ ...options, seqLen }), attentionFactor }
      : createLongropeFrequencySwitch({ ...options, attentionFactor });
  },
});
