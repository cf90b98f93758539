/**
 * The contract every positional-encoding method implements, and the parameter schema its registry line declares.
 *
 * A method is one file in src/encodings/ that exports pure math functions and one `EncodingSpec`. The spec's
 * `create(params)` returns a `PositionalEncoding`: the method's plain-number form of the hooks a transformer
 * offers (the model in src/model/ wires the trainable forms to the same slots):
 *   (a) embedding      add a vector to each token embedding          (sinusoidal, learned absolute)
 *   (b) positionIds    map a sequence to position ids                (randomized, coupling, BiPE, Ms-PoE)
 *   (c) transformQK    rotate/scale queries and keys                 (RoPE and its scaled variants, xPos)
 *                      with `rotary`: the frequencies and attention factor it rotates with
 *   (d) attentionBias  add a bias to the attention logits            (ALiBi, T5, Kerple, FIRE)
 *   (e) contextual     content-aware: from the layer input, q, k and its own parameters, new q and k, a bias,
 *                      or the scores themselves (multiplicative)   (CoPE; trainable only, see trainable.ts)
 *   (f) layerInput     replace a block's input x [B, T, D]          (CPE/PEG; trainable only)
 *   (g) transformValues / transformOutput: values before attention, its output before the heads are merged
 *                                                                    (GTA; trainable only)
 * A spec declares its parameter schema (values typed from it: `defineEncoding`), the parameters the model fills
 * (`modelParams`), and how many coordinates each position id has (`positionCoordinates`, default 1).
 * Adding a method: its file here, one registry line, its tests (docs/encodings.md is regenerated).
 */
import type { Rng } from "../util/rng.js";
import {
  checkBoolean,
  checkChoice,
  checkKnownKeys,
  checkNumber,
  checkObject,
  describeNumberRule,
  PosencConfigError,
} from "../util/validation.js";
import type { ModelDims, TrainableEncoding } from "./trainable.js";

export type EncodingFamily =
  | "absolute"
  | "rotary"
  | "context-extension"
  | "attention-bias"
  | "position-ids"
  | "analysis";

export type HookSlot =
  | "embedding"
  | "positionIds"
  | "transformQK"
  | "attentionBias"
  | "contextual"
  | "layerInput"
  | "transformValues"
  | "transformOutput";

export interface PaperRef {
  title: string;
  /** arXiv identifier, e.g. "2104.09864". */
  arxiv: string;
  year: number;
}

export interface PositionIdContext {
  /** Required by randomized schemes; ignored by deterministic ones. */
  rng?: Rng;
  /** Token ids, for schemes that depend on content (position coupling, BiPE segments). */
  tokens?: ArrayLike<number>;
}

/** cos/sin tables of a rotation, row-major [positions, pairs], attention factor and any per-role scale included. */
export interface RotaryTables {
  cos: Float32Array;
  sin: Float32Array;
}

/**
 * The rotary form of a transformQK that rotates channel pairs (RoPE and its rescaled variants, xPos): what it
 * rotates with, so the trainable form builds its tables directly (no probing of the transform).
 */
export interface RotaryForm {
  readonly layout: "half" | "interleaved";
  /** Rotated channel pairs P; channels 2P .. headDim - 1 pass through. */
  readonly pairs: number;
  /**
   * theta_i and the attention factor for a sequence whose largest position id is seqLen - 1: HF's init functions'
   * (inv_freq, attention_factor). Fixed methods ignore seqLen; dynamic ones (dynamic NTK, LongRoPE) compute them
   * for that length from their initial state (no memory of earlier calls).
   */
  frequencies(seqLen: number): { invFreq: Float64Array; attentionFactor: number };
  /**
   * Tables [positions.length, P] at `positions` for `role` (xPos scales queries and keys apart); dynamic methods
   * use frequencies(max(positions) + 1). transformQK(x) at the same positions rotates with exactly these values.
   */
  tables(positions: ArrayLike<number>, role: "query" | "key"): RotaryTables;
}

/** The framework-free form of a method. Every member is optional: a method fills the slots it uses. */
export interface PositionalEncoding {
  readonly id: string;
  /** The validated parameters, defaults filled in. */
  readonly params: Readonly<Record<string, unknown>>;
  /** (a) Row-major [positions.length, dModel] table to add to the token embeddings. */
  embedding?(positions: ArrayLike<number>, dModel: number): Float32Array;
  /** (b) Position ids for a sequence of `length` tokens. */
  positionIds?(length: number, context?: PositionIdContext): Float64Array;
  /**
   * (c) Transform queries or keys in place. `x` is row-major [positions.length, numHeads, headDim]:
   * token t, head h, channel c at ((t * numHeads) + h) * headDim + c.
   */
  transformQK?(
    x: Float32Array,
    positions: ArrayLike<number>,
    numHeads: number,
    headDim: number,
    role: "query" | "key",
  ): void;
  /** (c) When transformQK rotates channel pairs: its frequencies and tables (the trainable form uses them). */
  rotary?: RotaryForm;
  /** (d) Row-major [numHeads, queryPositions.length, keyPositions.length] bias added to attention logits. */
  attentionBias?(
    queryPositions: ArrayLike<number>,
    keyPositions: ArrayLike<number>,
    numHeads: number,
  ): Float32Array;
}

/**
 * One parameter of a method, as `posenc list`, the docs and config validation see it. `aliases`: earlier names of
 * the parameter, still accepted in configs (renamed to one name for one idea; giving both is a conflict).
 */
export type ParamSpec = (
  | {
      type: "number" | "integer";
      description: string;
      default?: number;
      min?: number;
      exclusiveMin?: boolean;
      max?: number;
      exclusiveMax?: boolean;
    }
  | { type: "boolean"; description: string; default?: boolean }
  | { type: "string"; description: string; default?: string; choices: readonly string[] }
  | { type: "number[]"; description: string; default?: readonly number[] }
) & { aliases?: readonly string[] };

export type ParamSchema = Readonly<Record<string, ParamSpec>>;

/** The value type a parameter spec validates to: number, boolean, one of the string choices, number[]. */
export type ParamValue<P extends ParamSpec> = P extends { type: "number" | "integer" }
  ? number
  : P extends { type: "boolean" }
    ? boolean
    : P extends { type: "string"; choices: readonly (infer C extends string)[] }
      ? C
      : P extends { type: "number[]" }
        ? number[]
        : never;

/** Validated parameters of a schema, typed per key (what `resolveParams` returns). */
export type ParamValues<S extends ParamSchema> = { -readonly [K in keyof S]: ParamValue<S[K]> };

export interface EncodingSpec<S extends ParamSchema = ParamSchema> {
  /** Registry id, kebab-case: "rope", "alibi", "t5-bias". */
  id: string;
  /** Display name. */
  name: string;
  family: EncodingFamily;
  paper: PaperRef;
  /** The formula in one or two lines of plain text. */
  formula: string;
  /** One sentence: what it does and why. */
  summary: string;
  /** The hook slots the created encoding fills. */
  slots: readonly HookSlot[];
  params: S;
  /**
   * Coordinates per position id the method reads (position ids are [B, T, k]; 1 = a token index, the default;
   * 2-D/3-D and segment/token id schemes read more). The model refuses ids with fewer coordinates.
   */
  positionCoordinates?: number;
  /**
   * Validates `params` against the schema (unknown keys rejected, aliases renamed, defaults applied) and builds the
   * encoding. `path` names the parameters in errors (default: the id), e.g. `encodings[0].params`.
   */
  create(params?: Record<string, unknown>, path?: string): PositionalEncoding;
  /**
   * The parameters the model owns (head size, causal or not, longest sequence), filled in when a config leaves
   * them out; given explicitly they must agree (the method checks). Declared per method, never matched by name.
   */
  modelParams?(dims: ModelDims): Partial<ParamValues<S>>;
  /**
   * The trainable form for the transformer in src/model/ (see ./trainable.ts), given params already validated by
   * `resolveParams` under `path`. Absent for methods that are analysis only.
   */
  trainable?(params: ParamValues<S>, dims: ModelDims, rng: Rng, path?: string): TrainableEncoding;
}

/** Declares a spec with its parameter types inferred from its schema (`p.base` is a number, no casts). */
export function defineEncoding<S extends ParamSchema>(spec: EncodingSpec<S>): EncodingSpec<S> {
  return spec;
}

/** Human wording of what a parameter accepts, for docs and errors. */
export function describeParam(spec: ParamSpec): string {
  switch (spec.type) {
    case "number":
    case "integer":
      return describeNumberRule({ ...spec, integer: spec.type === "integer" });
    case "boolean":
      return "true or false";
    case "string":
      return `one of ${spec.choices.map((c) => `"${c}"`).join(", ")}`;
    case "number[]":
      return "an array of finite numbers";
  }
}

/**
 * Validates `params` against `schema`: renames aliases (earlier names) to their parameter, rejects unknown keys
 * (listing the valid ones), checks each value, fills defaults and throws a PosencConfigError naming `path.key` for a
 * missing parameter without a default.
 */
export function resolveParams<S extends ParamSchema>(
  path: string,
  schema: S,
  params: Record<string, unknown> = {},
): ParamValues<S> {
  checkObject(path, params);
  const named = renameAliases(path, schema, params);
  checkKnownKeys(path, named, Object.keys(schema));
  const resolved: Record<string, unknown> = {};
  for (const [key, spec] of Object.entries(schema)) {
    const full = path ? `${path}.${key}` : key;
    const value = named[key] === undefined ? spec.default : named[key];
    if (value === undefined) throw new PosencConfigError("missing_key", full, undefined, describeParam(spec));
    switch (spec.type) {
      case "number":
      case "integer":
        resolved[key] = checkNumber(full, value, { ...spec, integer: spec.type === "integer" });
        break;
      case "boolean":
        resolved[key] = checkBoolean(full, value);
        break;
      case "string":
        resolved[key] = checkChoice(full, value, spec.choices);
        break;
      case "number[]":
        if (!Array.isArray(value) || !value.every((v) => typeof v === "number" && Number.isFinite(v))) {
          throw new PosencConfigError("invalid_type", full, value, describeParam(spec));
        }
        resolved[key] = [...value];
        break;
    }
  }
  return resolved as ParamValues<S>;
}

/** `params` with every alias key renamed to its parameter; an alias given beside its parameter is a conflict. */
function renameAliases(
  path: string,
  schema: ParamSchema,
  params: Record<string, unknown>,
): Record<string, unknown> {
  const out = { ...params };
  for (const [key, spec] of Object.entries(schema)) {
    for (const alias of spec.aliases ?? []) {
      if (!Object.hasOwn(out, alias)) continue;
      if (Object.hasOwn(out, key)) {
        const full = path ? `${path}.${alias}` : alias;
        throw new PosencConfigError(
          "conflict",
          full,
          out[alias],
          `only one of ${key} and its earlier name ${alias}`,
        );
      }
      out[key] = out[alias];
      delete out[alias];
    }
  }
  return out;
}
