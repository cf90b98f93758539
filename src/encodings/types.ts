/**
 * The contract every positional-encoding method implements, and the parameter schema its registry line declares.
 *
 * A method is one file in src/encodings/ that exports pure math functions and one `EncodingSpec`. The spec's
 * `create(params)` returns a `PositionalEncoding`: the method's plain-number form of the hooks a transformer
 * offers (the model in src/model/ wires the trainable forms to the same slots):
 *   (a) embedding      add a vector to each token embedding          (sinusoidal, learned absolute)
 *   (b) positionIds    map a sequence to position ids                (randomized, coupling, BiPE, Ms-PoE)
 *   (c) transformQK    rotate/scale queries and keys                 (RoPE and its scaled variants, xPos)
 *   (d) attentionBias  add a bias to the attention logits            (ALiBi, T5, Kerple, FIRE)
 *   (e) contextual     positions computed from q and k               (CoPE; trainable only, see src/model/)
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
import type { TrainableFactory } from "./trainable.js";

export type EncodingFamily =
  | "absolute"
  | "rotary"
  | "context-extension"
  | "attention-bias"
  | "position-ids"
  | "analysis";

export type HookSlot = "embedding" | "positionIds" | "transformQK" | "attentionBias" | "contextual";

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
  /** (d) Row-major [numHeads, queryPositions.length, keyPositions.length] bias added to attention logits. */
  attentionBias?(
    queryPositions: ArrayLike<number>,
    keyPositions: ArrayLike<number>,
    numHeads: number,
  ): Float32Array;
}

/** One parameter of a method, as `posenc list`, the docs and config validation see it. */
export type ParamSpec =
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
  | { type: "number[]"; description: string; default?: readonly number[] };

export type ParamSchema = Readonly<Record<string, ParamSpec>>;

export interface EncodingSpec {
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
  params: ParamSchema;
  /** Validates `params` against the schema (unknown keys rejected, defaults applied) and builds the encoding. */
  create(params?: Record<string, unknown>): PositionalEncoding;
  /**
   * The trainable form for the transformer in src/model/ (see ./trainable.ts), given params already validated by
   * `resolveParams`. Absent for methods that are analysis only.
   */
  trainable?: TrainableFactory;
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
 * Validates `params` against `schema`: rejects unknown keys (listing the valid ones), checks each value, fills
 * defaults and throws a PosencConfigError naming `path.key` for a missing parameter without a default.
 */
export function resolveParams(
  path: string,
  schema: ParamSchema,
  params: Record<string, unknown> = {},
): Record<string, unknown> {
  checkObject(path, params);
  checkKnownKeys(path, params, Object.keys(schema));
  const resolved: Record<string, unknown> = {};
  for (const [key, spec] of Object.entries(schema)) {
    const full = path ? `${path}.${key}` : key;
    const value = params[key] === undefined ? spec.default : params[key];
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
  return resolved;
}
