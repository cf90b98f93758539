/**
 * The contract of one Hugging Face rope type, and what its reader shares with the others (see rope-config.ts for
 * where keys live and the error / issue policy).
 *
 * A rope type is one `RopeTypeEntry` ({keys, read, compute, schedule}), exported by its method file (rope.ts,
 * rope-linear.ts, rope-dynamic-ntk.ts, yarn.ts, longrope.ts, llama3-rope.ts) and listed once in rope-config.ts's
 * ROPE_TYPE_TABLE, as HF lists its `_compute_*_parameters` in ROPE_INIT_FUNCTIONS. Adding a rope type is one entry.
 * Also here: the reader that routes issues to warnings or errors, and the key readers several types share
 * (factor, original_max_position_embeddings with its fallbacks, attention_factor).
 */
import { describeValue, PosencConfigError } from "../util/validation.js";
import type { RopeFrequencySchedule } from "./rope.js";

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

/** What HF's rope initializers return: `(inv_freq, attention_factor)`. */
export interface RopeFrequencies {
  /** theta_i, i = 0 .. d/2 - 1 (float64). */
  invFreq: Float64Array;
  /** Multiplies cos and sin (HF `attention_scaling`). */
  attentionFactor: number;
}

/** One Hugging Face rope type: its keys, its reader, its frequencies and its generation-time schedule. */
export interface RopeTypeEntry<R extends RopeCommon = RopeCommon> {
  /** Keys this type accepts in the rope dict, beside rope_type, type, rope_theta and partial_rotary_factor. */
  readonly keys: readonly string[];
  /** Validates this type's keys (the dim and base are already read) and returns its typed parameters. */
  read(at: TypeContext): R;
  /** HF's ROPE_INIT_FUNCTIONS[rope_type](config, seq_len): the frequencies for sequence length `seqLen`. */
  compute(resolved: R, seqLen: number | undefined): RopeFrequencies;
  /** HF's `dynamic_rope_update` for this type (dynamic, longrope); absent: the frequencies never change. */
  schedule?(resolved: R): RopeFrequencySchedule;
  /**
   * The key (inside the rope dict) and value that set the frequencies' scale, blamed when a computed frequency is
   * not a normal float32 while plain RoPE of the same base is. Default: factor. LongRoPE: the factor list in use.
   */
  scaleInput?(resolved: R, seqLen: number | undefined): { key: string; value: unknown };
}

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
export function checkFactor(reader: RopeConfigReader, key: string, value: unknown): number {
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

export function readMaxPositionEmbeddings(reader: RopeConfigReader, why: string): number {
  const key = "max_position_embeddings";
  return reader.positiveInteger(key, reader.required(key, reader.config[key], `an integer >= 1 (${why})`));
}

export function readOptionalMaxPositionEmbeddings(reader: RopeConfigReader): number | undefined {
  const value = reader.config.max_position_embeddings;
  return isSet(value) ? reader.positiveInteger("max_position_embeddings", value) : undefined;
}

/**
 * original_max_position_embeddings for yarn / longrope / llama3: top level (Phi-3 style) wins over the rope
 * dict, as in HF's standardize_rope_params. Undefined when neither is set: callers fall back to
 * max_position_embeddings, each with its own rule.
 */
export function readOriginal({
  reader,
  path,
  dict,
}: TypeContext): { value: number; key: string } | undefined {
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

/**
 * attention_factor: null when absent (inferred later). Outside [2^-63, 2^63] is an issue (HF warns only below 0):
 * it multiplies cos and sin, so the logits scale by its square, which must stay a normal float32.
 */
export function readAttentionFactor({ reader, path, dict }: TypeContext): number | null {
  const key = `${path}.attention_factor`;
  if (!isSet(dict.attention_factor)) return null;
  const expected =
    "a number in [2^-63, 2^63] (it multiplies cos and sin, so the logits scale by its square, which must stay a normal float32; HF warns below 0)";
  const value = reader.number(key, dict.attention_factor, expected);
  if (!(value >= 2 ** -63 && value <= 2 ** 63)) {
    reader.issue(new PosencConfigError("out_of_range", key, value, expected));
  }
  return value;
}
