/**
 * YaRN, from "YaRN: Efficient Context Window Extension of Large Language Models" (Peng, Quesnelle, Fan,
 * Shippole, 2023), arXiv:2309.00071. Hugging Face rope_type "yarn".
 *
 * "NTK-by-parts" interpolation plus an attention temperature. With scale s, trained length L (the
 * original_max_position_embeddings), rotary dim d and theta_i = base^(-2i/d):
 *   correction dim  c(r) = d * ln(L / (2 pi r)) / (2 ln base)     the pair index whose wavelength fits r turns in L
 *   low  = max(floor(c(beta_fast)), 0),  high = min(ceil(c(beta_slow)), d - 1)   (no floor/ceil if truncate = false)
 *   ramp_i = clamp((i - low) / (high - low), 0, 1)                (high += 0.001 when low = high)
 *   theta'_i = theta_i * (1 - ramp_i) + (theta_i / s) * ramp_i
 * so high-frequency pairs (i < low, many turns within L) keep theta_i, low-frequency pairs (i > high) are
 * interpolated like PI (theta_i / s), with a linear blend between. beta_fast = 32, beta_slow = 1 by default.
 * The temperature multiplies cos and sin (so logits scale by its square):
 *   get_mscale(s, m) = 1 if s <= 1, else 0.1 * m * ln(s) + 1
 *   attention_factor = given attention_factor, else get_mscale(s, mscale) / get_mscale(s, mscale_all_dim) when
 *                      both mscale and mscale_all_dim are set and non-zero (DeepSeek), else get_mscale(s, 1)
 */
import { checkBoolean, checkNumber, PosencConfigError } from "../util/validation.js";
import { defineRopeVariant, ROPE_BASE_PARAMS } from "./rope.js";
import {
  checkFactor,
  isSet,
  type RopeCommon,
  type RopeTypeEntry,
  readAttentionFactor,
  readMaxPositionEmbeddings,
  readOptionalMaxPositionEmbeddings,
  readOriginal,
  type TypeContext,
} from "./rope-config-types.js";
import type { EncodingSpec } from "./types.js";

/** YaRN's attention temperature sqrt(1/t): 1 for scale <= 1, else 0.1 * mscale * ln(scale) + 1. */
export function yarnGetMscale(scale: number, mscale = 1): number {
  checkNumber("scale", scale, { min: 0, exclusiveMin: true });
  checkNumber("mscale", mscale);
  if (scale <= 1) return 1;
  return 0.1 * mscale * Math.log(scale) + 1;
}

export interface YarnAttentionFactorOptions {
  /** Scale s (> 0). */
  factor: number;
  /** Explicit value; when given (not null/undefined) it wins. */
  attentionFactor?: number | null;
  /** DeepSeek-style numerator multiplier; used only when it and mscaleAllDim are both non-zero. */
  mscale?: number | null;
  /** DeepSeek-style denominator multiplier; used only when it and mscale are both non-zero. */
  mscaleAllDim?: number | null;
}

/** The factor HF multiplies cos and sin by (see the file comment for the rule). */
export function yarnAttentionFactor(options: YarnAttentionFactorOptions): number {
  const { factor, attentionFactor, mscale, mscaleAllDim } = options;
  checkNumber("factor", factor, { min: 0, exclusiveMin: true });
  if (attentionFactor !== undefined && attentionFactor !== null)
    return checkNumber("attentionFactor", attentionFactor);
  // HF tests `if mscale and mscale_all_dim`: null/undefined and 0 both fall back to the paper's rule.
  if (mscale && mscaleAllDim) return yarnGetMscale(factor, mscale) / yarnGetMscale(factor, mscaleAllDim);
  return yarnGetMscale(factor);
}

/** c(r) = d * ln(L / (2 pi r)) / (2 ln base): the (fractional) pair index whose wavelength is L / r. */
export function yarnCorrectionDim(
  numRotations: number,
  dim: number,
  base: number,
  originalMaxPositionEmbeddings: number,
): number {
  return (
    (dim * Math.log(originalMaxPositionEmbeddings / (numRotations * 2 * Math.PI))) / (2 * Math.log(base))
  );
}

export interface YarnCorrectionRangeOptions {
  /** Rotary dimension d, an even integer >= 2. */
  dim: number;
  /** RoPE base, > 1 (ln base is a denominator). */
  base: number;
  /** Trained context length L. */
  originalMaxPositionEmbeddings: number;
  /** Turns within L above which a pair is extrapolated (kept). Default 32. */
  betaFast?: number;
  /** Turns within L below which a pair is interpolated (divided by s). Default 1. */
  betaSlow?: number;
  /** floor/ceil the bounds to whole pairs (HF default true; false for gpt-oss-style configs). */
  truncate?: boolean;
}

function checkYarnRange(options: YarnCorrectionRangeOptions): Required<YarnCorrectionRangeOptions> {
  const { dim, base, originalMaxPositionEmbeddings } = options;
  checkNumber("dim", dim, { integer: true, min: 2 });
  if (dim % 2 !== 0) throw new PosencConfigError("invalid_value", "dim", dim, "an even integer >= 2");
  checkNumber("base", base, { min: 1, exclusiveMin: true });
  checkNumber("originalMaxPositionEmbeddings", originalMaxPositionEmbeddings, { min: 0, exclusiveMin: true });
  const betaFast = checkNumber("betaFast", options.betaFast ?? 32, { min: 0, exclusiveMin: true });
  const betaSlow = checkNumber("betaSlow", options.betaSlow ?? 1, { min: 0, exclusiveMin: true });
  const truncate = checkBoolean("truncate", options.truncate ?? true);
  return { dim, base, originalMaxPositionEmbeddings, betaFast, betaSlow, truncate };
}

/** [low, high]: the pair-index range over which the ramp goes from "keep" (0) to "interpolate" (1). */
export function yarnCorrectionRange(options: YarnCorrectionRangeOptions): [low: number, high: number] {
  const { dim, base, originalMaxPositionEmbeddings, betaFast, betaSlow, truncate } = checkYarnRange(options);
  let low = yarnCorrectionDim(betaFast, dim, base, originalMaxPositionEmbeddings);
  let high = yarnCorrectionDim(betaSlow, dim, base, originalMaxPositionEmbeddings);
  if (truncate) {
    low = Math.floor(low);
    high = Math.ceil(high);
  }
  return [Math.max(low, 0), Math.min(high, dim - 1)];
}

export interface YarnOptions extends YarnCorrectionRangeOptions {
  /** Scale s, > 0. */
  factor: number;
}

/** theta'_i = theta_i * (1 - ramp_i) + (theta_i / s) * ramp_i over i = 0 .. d/2 - 1. */
export function yarnInverseFrequencies(options: YarnOptions): Float64Array {
  const { dim, base } = checkYarnRange(options);
  const factor = checkNumber("factor", options.factor, { min: 0, exclusiveMin: true });
  const [low, rawHigh] = yarnCorrectionRange(options);
  const high = low === rawHigh ? rawHigh + 0.001 : rawHigh; // HF: "prevent singularity"
  const invFreq = new Float64Array(Math.floor(dim / 2));
  for (let i = 0; i < invFreq.length; i++) {
    const posFreq = base ** ((2 * i) / dim);
    const extrapolated = 1 / posFreq;
    const interpolated = 1 / (factor * posFreq);
    const ramp = Math.min(Math.max((i - low) / (high - low), 0), 1);
    // HF writes it as interpolated * (1 - e) + extrapolated * e with e = 1 - ramp (the extrapolation weight).
    const extrapolationWeight = 1 - ramp;
    invFreq[i] = interpolated * (1 - extrapolationWeight) + extrapolated * extrapolationWeight;
  }
  return invFreq;
}

/** Hugging Face rope_type "yarn", with HF's fallbacks applied. */
export interface YarnRopeConfig extends RopeCommon {
  ropeType: "yarn";
  factor: number;
  originalMaxPositionEmbeddings: number;
  betaFast: number;
  betaSlow: number;
  truncate: boolean;
  attentionFactor: number | null;
  mscale: number | null;
  mscaleAllDim: number | null;
}

/** beta_fast / beta_slow: absent or null -> the default; 0 -> the default with an issue (HF's `or`). */
function readBeta(at: TypeContext, name: "beta_fast" | "beta_slow", fallback: number): number {
  const { reader, path, dict } = at;
  const key = `${path}.${name}`;
  if (!isSet(dict[name])) return fallback;
  const value = reader.number(key, dict[name], "a finite number > 0", (v) => v >= 0);
  if (value === 0) {
    reader.issue(
      new PosencConfigError("out_of_range", key, value, `a finite number > 0 (HF replaces 0 by ${fallback})`),
    );
    return fallback;
  }
  return value;
}

function readYarn(at: TypeContext): YarnRopeConfig {
  const { reader, path, dict, dim, base, baseKey } = at;
  if (base <= 1) {
    throw new PosencConfigError(
      "out_of_range",
      baseKey,
      base,
      "a finite number > 1 for yarn (ln(rope_theta) is a divisor)",
    );
  }
  const maxPos = readOptionalMaxPositionEmbeddings(reader);
  const original = readOriginal(at);
  const originalMaxPositionEmbeddings =
    original?.value ??
    readMaxPositionEmbeddings(reader, "yarn uses it as original_max_position_embeddings when that is absent");
  const factorKey = `${path}.factor`;
  let factor: number;
  if (isSet(dict.factor)) {
    factor = checkFactor(reader, factorKey, dict.factor);
    const implicit = maxPos === undefined ? 1 : maxPos / originalMaxPositionEmbeddings;
    if (original && implicit !== factor && implicit !== 1) {
      reader.issue(
        new PosencConfigError(
          "conflict",
          factorKey,
          factor,
          `max_position_embeddings / original_max_position_embeddings = ${maxPos} / ${originalMaxPositionEmbeddings} = ${implicit} (HF uses the explicit factor and warns)`,
        ),
      );
    }
  } else if (original && maxPos !== undefined) {
    factor = maxPos / originalMaxPositionEmbeddings;
    reader.issue(
      new PosencConfigError(
        "missing_key",
        factorKey,
        dict.factor,
        `a number >= 1; inferred as max_position_embeddings / original_max_position_embeddings = ${maxPos} / ${originalMaxPositionEmbeddings} = ${factor}, as HF does`,
      ),
    );
  } else {
    throw new PosencConfigError(
      "missing_key",
      factorKey,
      dict.factor,
      "a number >= 1 (or original_max_position_embeddings with max_position_embeddings, from which factor = max / original is inferred)",
    );
  }
  const betaFast = readBeta(at, "beta_fast", 32);
  const betaSlow = readBeta(at, "beta_slow", 1);
  if (betaFast < betaSlow) {
    reader.issue(
      new PosencConfigError(
        "conflict",
        `${path}.beta_fast`,
        betaFast,
        `a number >= ${path}.beta_slow = ${betaSlow} (defaults: beta_fast 32, beta_slow 1)`,
      ),
    );
  }
  const optionalNumber = (name: "mscale" | "mscale_all_dim") =>
    isSet(dict[name]) ? reader.number(`${path}.${name}`, dict[name], "a finite number") : null;
  let truncate = true;
  if (dict.truncate === null) {
    truncate = false; // HF: `if truncate:` with None -> no rounding
    reader.issue(
      new PosencConfigError(
        "invalid_type",
        `${path}.truncate`,
        null,
        "true or false (HF reads null as false)",
      ),
    );
  } else if (dict.truncate !== undefined) {
    if (typeof dict.truncate !== "boolean") {
      throw new PosencConfigError("invalid_type", `${path}.truncate`, dict.truncate, "true or false");
    }
    truncate = dict.truncate;
  }
  return {
    ropeType: "yarn",
    dim,
    base,
    factor,
    originalMaxPositionEmbeddings,
    betaFast,
    betaSlow,
    truncate,
    attentionFactor: readAttentionFactor(at),
    mscale: optionalNumber("mscale"),
    mscaleAllDim: optionalNumber("mscale_all_dim"),
  };
}

/** HF rope_type "yarn" (`_compute_yarn_parameters`). */
export const yarnRopeType: RopeTypeEntry<YarnRopeConfig> = {
  keys: [
    "factor",
    "original_max_position_embeddings",
    "attention_factor",
    "beta_fast",
    "beta_slow",
    "mscale",
    "mscale_all_dim",
    "truncate",
  ],
  read: readYarn,
  compute: (resolved) => ({
    invFreq: yarnInverseFrequencies(resolved),
    attentionFactor: yarnAttentionFactor(resolved),
  }),
};

const YARN_PARAMS = {
  ...ROPE_BASE_PARAMS,
  factor: {
    type: "number",
    description: "Scale s: the target context is s times the trained one (HF rope_scaling.factor).",
    default: 4,
    min: 0,
    exclusiveMin: true,
  },
  originalMaxPositionEmbeddings: {
    type: "integer",
    description: "Trained context length L the correction range is computed for.",
    default: 2048,
    min: 1,
  },
  betaFast: {
    type: "number",
    description: "Pairs turning more than beta_fast times within L are kept (extrapolated).",
    default: 32,
    min: 0,
    exclusiveMin: true,
  },
  betaSlow: {
    type: "number",
    description: "Pairs turning fewer than beta_slow times within L are interpolated (divided by s).",
    default: 1,
    min: 0,
    exclusiveMin: true,
  },
  truncate: {
    type: "boolean",
    description:
      "Round the correction range out to whole pairs (floor low, ceil high), as HF does by default.",
    default: true,
  },
  mscale: {
    type: "number",
    description:
      "DeepSeek numerator multiplier of ln(s) in the temperature; 0 = unset (used only with mscaleAllDim).",
    default: 0,
  },
  mscaleAllDim: {
    type: "number",
    description:
      "DeepSeek denominator multiplier of ln(s) in the temperature; 0 = unset (used only with mscale).",
    default: 0,
  },
  attentionFactor: {
    type: "number",
    description:
      "Explicit factor on cos and sin; 0 = infer it from s (0.1 ln s + 1) or from mscale / mscaleAllDim.",
    default: 0,
    min: 0,
  },
} as const satisfies EncodingSpec["params"];

export const yarnSpec = defineRopeVariant({
  id: "yarn",
  name: "YaRN",
  family: "context-extension",
  paper: {
    title: "YaRN: Efficient Context Window Extension of Large Language Models",
    arxiv: "2309.00071",
    year: 2023,
  },
  formula:
    "theta'_i = theta_i (1 - ramp_i) + (theta_i / s) ramp_i, ramp over pairs turning beta_slow..beta_fast times in L; cos, sin *= 0.1 ln s + 1",
  summary:
    "Keeps high-frequency RoPE pairs, interpolates low-frequency ones and blends between, with an attention temperature that offsets the entropy rise at long range.",
  params: YARN_PARAMS,
  frequencies(p, dim) {
    const factor = p.factor;
    const invFreq = yarnInverseFrequencies({
      dim,
      base: p.base,
      factor,
      originalMaxPositionEmbeddings: p.originalMaxPositionEmbeddings,
      betaFast: p.betaFast,
      betaSlow: p.betaSlow,
      truncate: p.truncate,
    });
    const attentionFactor = yarnAttentionFactor({
      factor,
      attentionFactor: p.attentionFactor > 0 ? p.attentionFactor : undefined,
      mscale: p.mscale,
      mscaleAllDim: p.mscaleAllDim,
    });
    return { invFreq, attentionFactor };
  },
});
