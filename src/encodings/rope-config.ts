/**
 * Reading and validating the RoPE part of a Hugging Face `config.json` (RoPE: RoFormer, arXiv:2104.09864; the scaled
 * types cite their papers in rope-linear.ts, rope-dynamic-ntk.ts, yarn.ts, longrope.ts, llama3-rope.ts), with the
 * semantics of transformers v5
 * (`modeling_rope_utils.py`: `standardize_rope_params`, `validate_rope`, the `_compute_*_parameters` functions).
 *
 * Where the parameters live:
 *   - `rope_parameters` (v5) or the legacy `rope_scaling` (rope_scaling wins when both are set and non-empty,
 *     as in HF's `convert_rope_params_to_dict`); neither, null or {} means default RoPE;
 *   - `rope_type`, or the pre-4.43 key `type` (rope_type wins when both are set);
 *   - `rope_theta` inside the dict (v5) or at top level (inside wins);
 *   - `partial_rotary_factor` at top level or inside the dict (top level wins, as in standardize_rope_params);
 *   - `original_max_position_embeddings` (yarn, longrope, llama3): top level (Phi-3 style) wins over the dict,
 *     and max_position_embeddings is the fallback;
 *   - rotary dim d = int(head_dim * partial_rotary_factor), head_dim defaulting to hidden_size / num_attention_heads;
 *     d above MAX_ROTARY_DIM is refused before anything of its size is allocated;
 *   - per-layer-type rope_parameters (transformers v5 hybrid models): {layer type: dict}, keyed by the names in
 *     `layer_types` (every name needs a dict); the `layerType` option picks one, the top-level rope_theta is only
 *     the default of those without one (HF's standardize_rope_params, case 2).
 *
 * Every problem is a PosencConfigError naming the dotted key, the value and what is valid. Two severities:
 *   - errors: what HF itself rejects or cannot compute (missing required keys, unknown rope_type, non-numbers,
 *     factor <= 0, wrong LongRoPE list length, partial_rotary_factor outside (0, 1], rope_theta <= 0, ...):
 *     always thrown;
 *   - issues: what HF accepts with a logger warning (unknown keys, factor < 1, beta_fast < beta_slow,
 *     high_freq_factor <= low_freq_factor, a YaRN factor that disagrees with max / original, llama3
 *     original >= max_position_embeddings, conflicting duplicate keys, ...): thrown when `strict` is true,
 *     otherwise collected as warnings (and passed to `onWarning`), and computed as HF does.
 * One deliberate difference: HF's advice to prefer `factor` over a Phi-3-style top-level
 * `original_max_position_embeddings` for LongRoPE is not reported, since every published Phi-3 config uses it.
 *
 * This file: where the keys are, the checks every rope type shares and ROPE_TYPE_TABLE; each type's keys, reader
 * and frequencies are its RopeTypeEntry (rope-config-types.ts) in its method file.
 */
import { checkObject, describeValue, PosencConfigError } from "../util/validation.js";
import { llama3RopeType } from "./llama3-rope.js";
import { longropeRopeType } from "./longrope.js";
import { checkMropeSection } from "./mrope.js";
import { defaultRopeType } from "./rope.js";
import {
  isSet,
  type RopeConfigOptions,
  RopeConfigReader,
  type RopeTypeEntry,
  sameValue,
} from "./rope-config-types.js";
import { dynamicRopeType } from "./rope-dynamic-ntk.js";
import { linearRopeType } from "./rope-linear.js";
import { yarnRopeType } from "./yarn.js";

/**
 * The one table of Hugging Face rope types (HF's ROPE_INIT_FUNCTIONS, plus "default"): rope_type -> {keys, read,
 * compute, schedule}. Each entry lives in its method file; reading, computing and scheduling all go through here.
 */
export const ROPE_TYPE_TABLE = {
  default: defaultRopeType,
  linear: linearRopeType,
  dynamic: dynamicRopeType,
  yarn: yarnRopeType,
  longrope: longropeRopeType,
  llama3: llama3RopeType,
} as const;

export type RopeType = keyof typeof ROPE_TYPE_TABLE;
export const ROPE_TYPES = Object.keys(ROPE_TYPE_TABLE) as readonly RopeType[];

type ResolvedOf<T> = T extends RopeTypeEntry<infer R> ? R : never;
/** The typed parameters of a validated config, one shape per rope type (discriminated by `ropeType`). */
export type ResolvedRopeConfig = { [K in RopeType]: ResolvedOf<(typeof ROPE_TYPE_TABLE)[K]> }[RopeType];

/** The table entry of a resolved config, typed to accept it. */
export function ropeTypeEntry(resolved: ResolvedRopeConfig): RopeTypeEntry<ResolvedRopeConfig> {
  return ROPE_TYPE_TABLE[resolved.ropeType] as unknown as RopeTypeEntry<ResolvedRopeConfig>;
}

/** The largest rotary dim a config may give: 2^20, checked before anything is allocated. */
export const MAX_ROTARY_DIM = 2 ** 20;

/**
 * Keys every rope type accepts. mrope_section (Qwen2-VL / Qwen2.5-VL M-RoPE: frequency pairs per (t, h, w)) and
 * mrope_interleaved (Qwen3-VL) sit beside any rope type: HF's VL configs pass them as ignore_keys to validation.
 */
const COMMON_KEYS = [
  "rope_type",
  "type",
  "rope_theta",
  "partial_rotary_factor",
  "mrope_section",
  "mrope_interleaved",
];

/** HF's `RotaryEmbeddingConfigMixin.default_theta`, used when no rope_theta is given (a warning; strict: error). */
export const DEFAULT_ROPE_THETA = 10000;

export type { RopeConfigOptions } from "./rope-config-types.js";

/** Picks the rope dict and its dotted path; an empty dict (default RoPE) when the config has none. */
function selectRopeDict(reader: RopeConfigReader): { path: string; dict: Record<string, unknown> } {
  const { config } = reader;
  const read = (key: string) => {
    const value = config[key];
    return isSet(value) ? checkObject(key, value) : undefined;
  };
  const scaling = read("rope_scaling");
  const parameters = read("rope_parameters");
  if (scaling && parameters && Object.keys(scaling).length > 0 && !sameValue(scaling, parameters)) {
    reader.issue(
      new PosencConfigError(
        "conflict",
        "rope_scaling",
        scaling,
        `only one of rope_scaling and rope_parameters, or both equal (rope_parameters is ${describeValue(parameters)}); rope_scaling is used, as in HF`,
      ),
    );
  }
  if (scaling && Object.keys(scaling).length > 0) return { path: "rope_scaling", dict: scaling };
  if (parameters) return { path: "rope_parameters", dict: parameters };
  return { path: scaling ? "rope_scaling" : "rope_parameters", dict: {} };
}

/** A dict whose values are all dicts: transformers v5's per-layer-type form, {full_attention: {...}, ...}. */
function isPerLayerType(dict: Record<string, unknown>): boolean {
  const values = Object.values(dict);
  return values.length > 0 && values.every((v) => typeof v === "object" && v !== null && !Array.isArray(v));
}

/**
 * The layer types of a per-layer-type rope dict, validated as HF's standardize_rope_params reads it: every key
 * of the dict is a name in `layer_types`, and every name in `layer_types` has a dict. In layer_types order.
 */
function readLayerTypes(reader: RopeConfigReader, path: string, dict: Record<string, unknown>): string[] {
  const { layer_types: layerTypes } = reader.config;
  const listed = `a list of layer type names (per-layer-type ${path} is keyed by them)`;
  if (!Array.isArray(layerTypes) || layerTypes.length === 0) {
    const code = isSet(layerTypes) ? "invalid_type" : "missing_key";
    throw new PosencConfigError(code, "layer_types", layerTypes, listed);
  }
  layerTypes.forEach((name, i) => {
    if (typeof name !== "string")
      throw new PosencConfigError("invalid_type", `layer_types[${i}]`, name, "a string");
  });
  const names = [...new Set(layerTypes as string[])];
  for (const key of Object.keys(dict)) {
    if (!names.includes(key)) {
      throw new PosencConfigError(
        "unknown_key",
        `${path}.${key}`,
        dict[key],
        `the layer types ${names.join(", ")}`,
      );
    }
  }
  for (const name of names) {
    if (!(name in dict)) {
      throw new PosencConfigError(
        "missing_key",
        `${path}.${name}`,
        undefined,
        `a rope parameter dict for layer type "${name}" (listed in layer_types)`,
      );
    }
  }
  return names;
}

/**
 * The layer types of a config with per-layer-type rope parameters (transformers v5 hybrid models, e.g.
 * {"full_attention": {...}, "sliding_attention": {...}} keyed by `layer_types`), in layer_types order; undefined
 * when one rope dict serves every layer. Throws a PosencConfigError when the per-layer form is malformed.
 */
export function ropeLayerTypes(config: unknown, options: RopeConfigOptions = {}): string[] | undefined {
  const reader = new RopeConfigReader(checkObject("config", config), options);
  const { path, dict } = selectRopeDict(reader);
  return isPerLayerType(dict) ? readLayerTypes(reader, path, dict) : undefined;
}

/** The rope dict for `layerType` (the per-layer-type one, or the single dict every layer shares). */
function selectLayerDict(
  reader: RopeConfigReader,
  selected: { path: string; dict: Record<string, unknown> },
  layerType: string | undefined,
): { path: string; dict: Record<string, unknown> } {
  const { path, dict } = selected;
  if (!isPerLayerType(dict)) {
    const { layer_types: layerTypes } = reader.config;
    if (layerType !== undefined && Array.isArray(layerTypes) && !layerTypes.includes(layerType)) {
      throw new PosencConfigError(
        "invalid_value",
        "layerType",
        layerType,
        `one of layer_types: ${[...new Set(layerTypes)].join(", ")}`,
      );
    }
    return selected;
  }
  const names = readLayerTypes(reader, path, dict);
  if (layerType === undefined) {
    throw new PosencConfigError(
      "invalid_value",
      path,
      dict,
      `one rope parameter dict; this config has one per layer type (${names.join(", ")}): choose one with the layerType option (posenc: --layer-type)`,
    );
  }
  if (!names.includes(layerType)) {
    throw new PosencConfigError(
      "invalid_value",
      "layerType",
      layerType,
      `one of the layer types of ${path}: ${names.join(", ")}`,
    );
  }
  return { path: `${path}.${layerType}`, dict: checkObject(`${path}.${layerType}`, dict[layerType]) };
}

function readRopeType(reader: RopeConfigReader, path: string, dict: Record<string, unknown>): RopeType {
  const { rope_type: ropeType, type: legacyType } = dict;
  if (isSet(ropeType) && isSet(legacyType) && ropeType !== legacyType) {
    reader.issue(
      new PosencConfigError(
        "conflict",
        `${path}.type`,
        legacyType,
        `the same value as ${path}.rope_type (${describeValue(ropeType)}), which is used; type is the pre-4.43 name of rope_type`,
      ),
    );
  }
  const key = isSet(ropeType) ? `${path}.rope_type` : `${path}.type`;
  const given = isSet(ropeType) ? ropeType : isSet(legacyType) ? legacyType : "default";
  // Qwen2-VL's legacy "mrope" is default RoPE frequencies (HF's VL configs map it to "default"); the split of
  // the pairs among (t, h, w) is mrope_section.
  const value = given === "mrope" ? "default" : given;
  if (typeof value !== "string" || !(ROPE_TYPES as readonly string[]).includes(value)) {
    throw new PosencConfigError(
      "invalid_value",
      key,
      value,
      `one of ${ROPE_TYPES.map((t) => `"${t}"`).join(", ")}, or "mrope" (Qwen2-VL: default with mrope_section)`,
    );
  }
  return value as RopeType;
}

/** head_dim, partial_rotary_factor and the rotary dim d = int(head_dim * partial_rotary_factor). */
function readRotaryDim(reader: RopeConfigReader, path: string, dict: Record<string, unknown>): number {
  const { config } = reader;
  let headDim: number;
  if (isSet(config.head_dim)) {
    headDim = reader.positiveInteger("head_dim", config.head_dim);
  } else {
    const how = "(head_dim is absent, so head_dim = hidden_size / num_attention_heads)";
    const hidden = reader.positiveInteger(
      "hidden_size",
      reader.required("hidden_size", config.hidden_size, `an integer >= 1 ${how}`),
    );
    const heads = reader.positiveInteger(
      "num_attention_heads",
      reader.required("num_attention_heads", config.num_attention_heads, `an integer >= 1 ${how}`),
    );
    if (hidden % heads !== 0) {
      reader.issue(
        new PosencConfigError(
          "conflict",
          "hidden_size",
          hidden,
          `a multiple of num_attention_heads = ${heads} (or an explicit head_dim); HF uses floor(${hidden} / ${heads}) = ${Math.floor(hidden / heads)}`,
        ),
      );
    }
    headDim = Math.floor(hidden / heads);
  }
  const top = config.partial_rotary_factor;
  const inner = dict.partial_rotary_factor;
  if (isSet(top) && isSet(inner) && top !== inner) {
    reader.issue(
      new PosencConfigError(
        "conflict",
        `${path}.partial_rotary_factor`,
        inner,
        `the same value as the top-level partial_rotary_factor (${describeValue(top)}), which is used`,
      ),
    );
  }
  const prfKey = isSet(top) ? "partial_rotary_factor" : `${path}.partial_rotary_factor`;
  const prfValue = isSet(top) ? top : isSet(inner) ? inner : 1;
  const prf = reader.number(prfKey, prfValue, "a number > 0 and <= 1", (v) => v > 0 && v <= 1);
  const dim = Math.trunc(headDim * prf);
  if (dim > MAX_ROTARY_DIM) {
    const key = isSet(config.head_dim) ? "head_dim" : "hidden_size";
    throw new PosencConfigError(
      "out_of_range",
      key,
      config[key],
      `a value giving a rotary dim d <= ${MAX_ROTARY_DIM} (d / 2 frequencies of 8 bytes: at most 4 MiB; published models use 32 .. 512): int(head_dim ${headDim} * partial_rotary_factor ${prf}) = ${dim}`,
    );
  }
  if (dim < 2 || dim % 2 !== 0) {
    throw new PosencConfigError(
      "invalid_value",
      isSet(top) || isSet(inner) ? prfKey : "head_dim",
      isSet(top) || isSet(inner) ? prf : headDim,
      `a value giving an even rotary dim >= 2: int(head_dim ${headDim} * partial_rotary_factor ${prf}) = ${dim}`,
    );
  }
  return dim;
}

/** rope_theta and the key it was read from. */
function readRopeTheta(
  reader: RopeConfigReader,
  path: string,
  dict: Record<string, unknown>,
  perLayerType: boolean,
): [number, string] {
  const top = reader.config.rope_theta;
  const inner = dict.rope_theta;
  // Per layer type, the top-level rope_theta is only the default of the layer types that give none (HF's
  // standardize_rope_params), so a different one inside is no conflict.
  if (isSet(top) && isSet(inner) && top !== inner && !perLayerType) {
    reader.issue(
      new PosencConfigError(
        "conflict",
        "rope_theta",
        top,
        `the same value as ${path}.rope_theta (${describeValue(inner)}), which is used`,
      ),
    );
  }
  if (!isSet(top) && !isSet(inner)) {
    reader.issue(
      new PosencConfigError(
        "missing_key",
        `${path}.rope_theta`,
        undefined,
        `a number > 0 (top-level rope_theta is accepted too); HF falls back to ${DEFAULT_ROPE_THETA}`,
      ),
    );
    return [DEFAULT_ROPE_THETA, `${path}.rope_theta`];
  }
  const key = isSet(inner) ? `${path}.rope_theta` : "rope_theta";
  return [reader.number(key, isSet(inner) ? inner : top, "a finite number > 0", (v) => v > 0), key];
}

export interface ReadRopeConfigOptions extends RopeConfigOptions {
  /** For per-layer-type rope parameters: the layer type to read (a name in the config's `layer_types`). */
  layerType?: string;
}

export interface ReadRopeConfigResult {
  resolved: ResolvedRopeConfig;
  /** Warning messages (lax mode), in the order found. */
  warnings: string[];
  /** Dotted path of the rope dict that was read (`rope_scaling`, `rope_parameters.full_attention`, ...). */
  path: string;
  /** The key rope_theta was read from. */
  baseKey: string;
  /** M-RoPE (Qwen2-VL family): pairs per (t, h, w), summing to dim / 2, and Qwen3-VL's interleaved flag. */
  mrope?: { section: [number, number, number]; interleaved: boolean };
}

/** mrope_section (three integers summing to dim / 2) and mrope_interleaved (a boolean), when the dict has them. */
function readMrope(
  path: string,
  dict: Record<string, unknown>,
  dim: number,
): ReadRopeConfigResult["mrope"] | undefined {
  const { mrope_section: section, mrope_interleaved: interleaved } = dict;
  if (!isSet(section)) {
    if (isSet(interleaved)) {
      throw new PosencConfigError(
        "missing_key",
        `${path}.mrope_section`,
        undefined,
        "three integers for (t, h, w) (mrope_interleaved needs them)",
      );
    }
    return undefined;
  }
  if (isSet(interleaved) && typeof interleaved !== "boolean") {
    throw new PosencConfigError("invalid_type", `${path}.mrope_interleaved`, interleaved, "true or false");
  }
  return {
    section: checkMropeSection(`${path}.mrope_section`, section, dim / 2),
    interleaved: interleaved === true,
  };
}

/** Validates the RoPE part of a HF config.json object and returns the typed parameters of its rope type. */
export function readRopeConfig(config: unknown, options: ReadRopeConfigOptions = {}): ReadRopeConfigResult {
  const reader = new RopeConfigReader(checkObject("config", config), options);
  const selected = selectRopeDict(reader);
  const { path, dict } = selectLayerDict(reader, selected, options.layerType);
  const ropeType = readRopeType(reader, path, dict);
  const entry = ROPE_TYPE_TABLE[ropeType] as unknown as RopeTypeEntry<ResolvedRopeConfig>;
  const known = [...COMMON_KEYS, ...entry.keys];
  for (const key of Object.keys(dict)) {
    if (!known.includes(key)) {
      reader.issue(
        new PosencConfigError(
          "unknown_key",
          `${path}.${key}`,
          dict[key],
          `${known.join(", ")} (for rope_type "${ropeType}"; HF ignores the others with a warning)`,
        ),
      );
    }
  }
  const dim = readRotaryDim(reader, path, dict);
  const [base, baseKey] = readRopeTheta(reader, path, dict, path !== selected.path);
  const resolved = entry.read({ reader, path, dict, dim, base, baseKey });
  const mrope = readMrope(path, dict, dim);
  return { resolved, warnings: reader.warnings, path, baseKey, ...(mrope ? { mrope } : {}) };
}
