/**
 * The per-rope-type part of reading a Hugging Face config (see rope-config.ts for where keys live and the
 * error / issue policy): required and optional keys of each rope type, their ranges, the HF fallbacks
 * (factor inferred from max_position_embeddings / original_max_position_embeddings, beta defaults, ...) and the
 * consistency checks HF only warns about. Also the small reader that routes issues to warnings or errors.
 */
import { describeValue, PosencConfigError } from "../util/validation.js";

export interface RopeConfigOptions {
  /** Throw on everything HF only warns about. Default false. */
  strict?: boolean;
  /** Called with each warning (lax mode), as the PosencConfigError strict mode would throw. */
  onWarning?: (warning: PosencConfigError) => void;
}

export interface RopeCommon {
  /** Rotary dimension d (even, >= 2); invFreq has d / 2 entries. */
  dim: number;
  /** rope_theta. */
  base: number;
}

export type ResolvedRopeConfig = RopeCommon &
  (
    | { ropeType: "default" }
    | { ropeType: "linear"; factor: number }
    | { ropeType: "dynamic"; factor: number; maxPositionEmbeddings: number }
    | {
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
    | {
        ropeType: "longrope";
        shortFactor: number[];
        longFactor: number[];
        originalMaxPositionEmbeddings: number;
        factor: number;
        attentionFactor: number | null;
      }
    | {
        ropeType: "llama3";
        factor: number;
        lowFreqFactor: number;
        highFreqFactor: number;
        originalMaxPositionEmbeddings: number;
      }
  );

export const isSet = (value: unknown) => value !== undefined && value !== null;
export const sameValue = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

/**
 * One config being read. `issue` is for what HF only warns about: thrown in strict mode, otherwise recorded in
 * `warnings` and passed to `onWarning`. `number`, `positiveInteger` and `required` always throw.
 */
export class RopeConfigReader {
  readonly warnings: string[] = [];
  constructor(
    readonly config: Record<string, unknown>,
    readonly options: RopeConfigOptions,
  ) {}

  issue(warning: PosencConfigError): void {
    if (this.options.strict) throw warning;
    this.warnings.push(warning.message);
    this.options.onWarning?.(warning);
  }

  /** `value` as a finite number accepted by `ok`, else a PosencConfigError saying `expected`. */
  number(key: string, value: unknown, expected: string, ok: (v: number) => boolean = () => true): number {
    if (typeof value !== "number" || !Number.isFinite(value)) {
      throw new PosencConfigError("invalid_type", key, value, expected);
    }
    if (!ok(value)) throw new PosencConfigError("out_of_range", key, value, expected);
    return value;
  }

  positiveInteger(key: string, value: unknown): number {
    return this.number(key, value, "an integer >= 1", (v) => Number.isInteger(v) && v >= 1);
  }

  required(key: string, value: unknown, expected: string): unknown {
    if (!isSet(value)) throw new PosencConfigError("missing_key", key, value, expected);
    return value;
  }
}

/** What the per-type readers see. */
export interface TypeContext {
  reader: RopeConfigReader;
  path: string;
  dict: Record<string, unknown>;
  dim: number;
  base: number;
  baseKey: string;
}

/** A scaling factor: > 0 or an error; < 1 is an issue (HF warns: it shrinks instead of extending). */
function checkFactor(reader: RopeConfigReader, key: string, value: unknown): number {
  const factor = reader.number(key, value, "a finite number > 0 (>= 1 to extend the context)", (v) => v > 0);
  if (factor < 1) {
    reader.issue(
      new PosencConfigError(
        "out_of_range",
        key,
        factor,
        "a finite number >= 1 (HF warns on a factor below 1)",
      ),
    );
  }
  return factor;
}

export function readFactor({ reader, path, dict }: TypeContext): number {
  const key = `${path}.factor`;
  return checkFactor(reader, key, reader.required(key, dict.factor, "a number >= 1 (the scaling factor)"));
}

function readMaxPositionEmbeddings(reader: RopeConfigReader, why: string): number {
  const key = "max_position_embeddings";
  return reader.positiveInteger(key, reader.required(key, reader.config[key], `an integer >= 1 (${why})`));
}

function readOptionalMaxPositionEmbeddings(reader: RopeConfigReader): number | undefined {
  const value = reader.config.max_position_embeddings;
  return isSet(value) ? reader.positiveInteger("max_position_embeddings", value) : undefined;
}

/**
 * original_max_position_embeddings for yarn / longrope / llama3: top level (Phi-3 style) wins over the rope
 * dict, as in HF's standardize_rope_params. Undefined when neither is set: callers fall back to
 * max_position_embeddings, each with its own rule.
 */
function readOriginal({ reader, path, dict }: TypeContext): { value: number; key: string } | undefined {
  const top = reader.config.original_max_position_embeddings;
  const inner = dict.original_max_position_embeddings;
  const innerKey = `${path}.original_max_position_embeddings`;
  if (isSet(top) && isSet(inner) && top !== inner) {
    reader.issue(
      new PosencConfigError(
        "conflict",
        innerKey,
        inner,
        `the same value as the top-level original_max_position_embeddings (${describeValue(top)}), which HF uses`,
      ),
    );
  }
  if (!isSet(top) && !isSet(inner)) return undefined;
  const key = isSet(top) ? "original_max_position_embeddings" : innerKey;
  const value = reader.number(key, isSet(top) ? top : inner, "an integer >= 1", (v) => v > 0);
  if (!Number.isInteger(value))
    reader.issue(new PosencConfigError("invalid_type", key, value, "an integer >= 1"));
  return { value, key };
}

/** attention_factor: null when absent (inferred later); a negative value is an issue, as HF warns. */
function readAttentionFactor({ reader, path, dict }: TypeContext): number | null {
  const key = `${path}.attention_factor`;
  if (!isSet(dict.attention_factor)) return null;
  const value = reader.number(key, dict.attention_factor, "a finite number >= 0");
  if (value < 0) reader.issue(new PosencConfigError("out_of_range", key, value, "a finite number >= 0"));
  return value;
}

export function readDynamic(at: TypeContext): ResolvedRopeConfig {
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

export function readYarn(at: TypeContext): ResolvedRopeConfig {
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

export function readLongrope(at: TypeContext): ResolvedRopeConfig {
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

export function readLlama3(at: TypeContext): ResolvedRopeConfig {
  const { reader, path, dict, dim, base } = at;
  const factor = readFactor(at);
  const band = (name: "low_freq_factor" | "high_freq_factor") => {
    const key = `${path}.${name}`;
    const expected = "a finite number > 0 (Llama 3.1: low 1, high 4)";
    return reader.number(key, reader.required(key, dict[name], expected), expected, (v) => v > 0);
  };
  const lowFreqFactor = band("low_freq_factor");
  const highFreqFactor = band("high_freq_factor");
  if (highFreqFactor <= lowFreqFactor) {
    reader.issue(
      new PosencConfigError(
        "conflict",
        `${path}.high_freq_factor`,
        highFreqFactor,
        `a number > ${path}.low_freq_factor = ${lowFreqFactor}`,
      ),
    );
  }
  const maxPos = readOptionalMaxPositionEmbeddings(reader);
  const original = readOriginal(at);
  let originalMaxPositionEmbeddings: number;
  if (original) {
    originalMaxPositionEmbeddings = original.value;
    if (maxPos !== undefined && originalMaxPositionEmbeddings >= maxPos) {
      reader.issue(
        new PosencConfigError(
          "out_of_range",
          original.key,
          originalMaxPositionEmbeddings,
          `an integer < max_position_embeddings = ${maxPos} (the pre-scaling context length)`,
        ),
      );
    }
  } else {
    originalMaxPositionEmbeddings = readMaxPositionEmbeddings(
      reader,
      "llama3 falls back to it when original_max_position_embeddings is absent",
    );
    reader.issue(
      new PosencConfigError(
        "missing_key",
        `${path}.original_max_position_embeddings`,
        undefined,
        `an integer < max_position_embeddings (Llama 3.1: 8192); HF falls back to max_position_embeddings = ${originalMaxPositionEmbeddings}`,
      ),
    );
  }
  return {
    ropeType: "llama3",
    dim,
    base,
    factor,
    lowFreqFactor,
    highFreqFactor,
    originalMaxPositionEmbeddings,
  };
}
