/**
 * The Hugging Face rope block each context-extension method would use to run a model at a target context: what
 * `posenc extend` prints. The block replaces the config's scaling, so it starts from the unscaled RoPE: trained
 * context L0 = original_max_position_embeddings when the config has it, max_position_embeddings / factor for a
 * linear (PI) config, else max_position_embeddings; base b (rope_theta), rotary dim d, target T, s = T / L0:
 *   pi        rope_type linear, factor s                                  PI, arXiv:2306.15595
 *   ntk       rope_type default, rope_theta b s^(d/(d-2))                 NTK-aware (bloc97), as ntk-aware.ts
 *   dynamic   rope_type dynamic, factor s; max_position_embeddings L0     (it grows from L0 by itself)
 *   yarn      rope_type yarn, factor s, original_max_position_embeddings L0             arXiv:2309.00071
 *   llama3    rope_type llama3, factor s, low/high_freq_factor 1/4 (or the config's), original L0   arXiv:2407.21783
 *   longrope  rope_type longrope, long/short_factor from a search on the model, original L0       arXiv:2402.13753
 *   abf       rope_type default, rope_theta = the given base, else max(b, b*(T)), the RoPE base lower bound
 *             for T tokens ("Base of RoPE Bounds Context Length", arXiv:2405.14591; ABF: arXiv:2309.16039)
 * Every block sets max_position_embeddings = T (dynamic: L0) and keeps the config's format (legacy rope_scaling
 * with a top-level rope_theta, or v5 rope_parameters with rope_theta inside; per-layer-type rope_parameters keep
 * the other layer types). Giraffe, entropy-aware ABF and p-RoPE change more than a rope block can say: refused.
 *
 * Each block is checked by reading the patched config back with `ropeParameters` in strict mode at seq len T,
 * which also gives the frequencies the block produces.
 */
import { checkNumber, checkObject, PosencConfigError } from "../util/validation.js";
import { ntkAwareBase } from "./ntk-aware.js";
import { ropeInverseFrequencies } from "./rope.js";
import { ropeBaseLowerBound } from "./rope-base-bound.js";
import { readRopeConfig, ropeLayerTypes } from "./rope-config.js";
import { isSet } from "./rope-config-types.js";
import { ropeParameters } from "./rope-parameters.js";

export const ROPE_EXTENSION_METHODS = ["pi", "ntk", "dynamic", "yarn", "llama3", "longrope", "abf"] as const;
export type RopeExtensionMethod = (typeof ROPE_EXTENSION_METHODS)[number];

/** Methods posenc has that no Hugging Face rope block can express, and why. */
export const NOT_HF_EXPRESSIBLE: Readonly<Record<string, string>> = {
  giraffe: "Giraffe's power-scaled or truncated frequencies are no Hugging Face rope type",
  "entropy-aware-abf": "entropy-aware ABF also scales queries by log(position), which no rope block holds",
  eabf: "entropy-aware ABF also scales queries by log(position), which no rope block holds",
  "p-rope": "p-RoPE zeroes the lowest frequencies, which no Hugging Face rope type does",
};

/** Largest target context whose RoPE base bound is computed (2^20 takes about 1.6 s; longer ones much more). */
export const BASE_BOUND_MAX_CONTEXT = 2 ** 20;

/** LongRoPE's searched factors, one per rotary pair: long for T > L0, short (default all 1) within L0. */
export interface LongropeFactors {
  longFactor: number[];
  shortFactor?: number[];
}

/** The trained context, base and rotary dim a config extends from (per layer type for hybrid configs). */
export interface RopeExtensionOrigin {
  /** L0: original_max_position_embeddings, max_position_embeddings / factor (linear), or max_position_embeddings. */
  originalContext: number;
  originalContextKey: string;
  /** b: rope_theta. */
  base: number;
  /** d: the rotary dim. */
  dim: number;
  /** Where the rope dict lives: "rope_scaling" (legacy) or "rope_parameters" (v5). */
  format: "rope_scaling" | "rope_parameters";
}

export function ropeExtensionOrigin(config: object, layerType?: string): RopeExtensionOrigin {
  const { resolved, path } = readRopeConfig(config, { layerType });
  const c = config as Record<string, unknown>;
  let originalContext: number;
  let originalContextKey: string;
  if ("originalMaxPositionEmbeddings" in resolved) {
    originalContext = resolved.originalMaxPositionEmbeddings;
    const inner = (c[path.split(".")[0]!] as Record<string, unknown>) ?? {};
    const dict = layerType && isSet(inner[layerType]) ? (inner[layerType] as Record<string, unknown>) : inner;
    originalContextKey = isSet(c.original_max_position_embeddings)
      ? "original_max_position_embeddings"
      : isSet(dict.original_max_position_embeddings)
        ? `${path}.original_max_position_embeddings`
        : "max_position_embeddings";
  } else if (resolved.ropeType === "linear" && isSet(c.max_position_embeddings) && resolved.factor > 1) {
    // Position Interpolation sets max_position_embeddings = s L0: the unscaled RoPE was trained for L0.
    const max = checkNumber("max_position_embeddings", c.max_position_embeddings, { integer: true, min: 1 });
    originalContext = Math.max(1, Math.round(max / resolved.factor));
    originalContextKey = `max_position_embeddings / ${path}.factor`;
  } else if (isSet(c.original_max_position_embeddings)) {
    originalContextKey = "original_max_position_embeddings";
    originalContext = checkNumber(originalContextKey, c.original_max_position_embeddings, {
      integer: true,
      min: 1,
    });
  } else {
    originalContextKey = "max_position_embeddings";
    const value = c.max_position_embeddings;
    if (!isSet(value)) {
      throw new PosencConfigError(
        "missing_key",
        originalContextKey,
        value,
        "an integer >= 1: the context the model was trained for, which the extension factor is relative to",
      );
    }
    originalContext = checkNumber(originalContextKey, value, { integer: true, min: 1 });
  }
  const format = path.startsWith("rope_scaling") ? "rope_scaling" : "rope_parameters";
  return { originalContext, originalContextKey, base: resolved.base, dim: resolved.dim, format };
}

export interface RopeExtensionOptions {
  method: RopeExtensionMethod;
  /** Target context T in tokens, > L0. */
  target: number;
  /** Per-layer-type configs: the layer types to extend (default: every one); the others are kept. */
  layerTypes?: string[];
  /** LongRoPE's searched factors (required for "longrope"). */
  longrope?: LongropeFactors;
  /** ABF's new base (default: max(rope_theta, the RoPE base lower bound for T)). */
  abfBase?: number;
}

export interface RopeExtensionLayer {
  layerType: string | undefined;
  origin: RopeExtensionOrigin;
  /** theta_i of the config without scaling: base^(-2i/d). */
  originalInvFreq: Float64Array;
  /** What the patched config gives at seq len T (strict ropeParameters). */
  invFreq: Float64Array;
  attentionFactor: number;
}

export interface RopeExtensionBlock {
  method: RopeExtensionMethod;
  target: number;
  /** s = T / L0. */
  factor: number;
  /** The top-level keys of config.json to set (null: remove). */
  patch: Record<string, unknown>;
  layers: RopeExtensionLayer[];
}

/** The config with `patch` applied (null removes a key), as a user would edit config.json. */
export function applyRopePatch(config: object, patch: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...(config as Record<string, unknown>) };
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete out[key];
    else out[key] = value;
  }
  return out;
}

const baseBounds = new Map<string, number>();

/** The RoPE base lower bound b*(T) for rotary dim d, or undefined beyond BASE_BOUND_MAX_CONTEXT (memoized). */
export function extensionBaseBound(target: number, dim: number): number | undefined {
  if (target > BASE_BOUND_MAX_CONTEXT || dim < 4) return undefined;
  const key = `${target}/${dim}`;
  let bound = baseBounds.get(key);
  if (bound === undefined) {
    bound = ropeBaseLowerBound(target, dim);
    baseBounds.set(key, bound);
  }
  return bound;
}

function checkLongropeFactors(factors: LongropeFactors | undefined, dim: number): Required<LongropeFactors> {
  if (!factors) {
    throw new PosencConfigError(
      "missing_key",
      "longrope",
      undefined,
      "LongRoPE's per-pair factors, found by a search on the model: pass a lab result file (posenc extend --longrope-factors FILE)",
    );
  }
  const list = (key: "longFactor" | "shortFactor", value: unknown) => {
    const expected = `a list of rotary dim / 2 = ${dim / 2} numbers >= 1`;
    if (!Array.isArray(value)) throw new PosencConfigError("invalid_type", key, value, expected);
    if (value.length !== dim / 2) {
      throw new PosencConfigError("invalid_value", key, value, `${expected} (the list has ${value.length})`);
    }
    return value.map((v, i) => checkNumber(`${key}[${i}]`, v, { min: 1 }));
  };
  return {
    longFactor: list("longFactor", factors.longFactor),
    shortFactor: list("shortFactor", factors.shortFactor ?? new Array(dim / 2).fill(1)),
  };
}

/** One layer type's new rope dict (without rope_theta placement) and its new base. */
function methodDict(
  options: RopeExtensionOptions,
  origin: RopeExtensionOrigin,
  old: Record<string, unknown>,
): { dict: Record<string, unknown>; base: number } {
  const { method, target } = options;
  const { originalContext: l0, base, dim } = origin;
  const factor = target / l0;
  switch (method) {
    case "pi":
      return { dict: { rope_type: "linear", factor }, base };
    case "ntk":
      return { dict: { rope_type: "default" }, base: ntkAwareBase(base, factor, dim) };
    case "dynamic":
      return { dict: { rope_type: "dynamic", factor }, base };
    case "yarn":
      return { dict: { rope_type: "yarn", factor, original_max_position_embeddings: l0 }, base };
    case "llama3": {
      const isLlama3 = old.rope_type === "llama3" || old.type === "llama3";
      const low = isLlama3 && typeof old.low_freq_factor === "number" ? old.low_freq_factor : 1;
      const high = isLlama3 && typeof old.high_freq_factor === "number" ? old.high_freq_factor : 4;
      return {
        dict: {
          rope_type: "llama3",
          factor,
          low_freq_factor: low,
          high_freq_factor: high,
          original_max_position_embeddings: l0,
        },
        base,
      };
    }
    case "longrope": {
      const { longFactor, shortFactor } = checkLongropeFactors(options.longrope, dim);
      return {
        dict: {
          rope_type: "longrope",
          factor,
          original_max_position_embeddings: l0,
          short_factor: shortFactor,
          long_factor: longFactor,
        },
        base,
      };
    }
    case "abf": {
      const bound = options.abfBase === undefined ? extensionBaseBound(target, dim) : undefined;
      if (options.abfBase === undefined && bound === undefined) {
        throw new PosencConfigError(
          "missing_key",
          "abfBase",
          undefined,
          `a new rope_theta for ABF (posenc extend --base B): the RoPE base bound is computed only up to ${BASE_BOUND_MAX_CONTEXT} tokens`,
        );
      }
      const newBase =
        options.abfBase === undefined
          ? Math.max(base, bound!)
          : checkNumber("abfBase", options.abfBase, { min: 1, exclusiveMin: true });
      return { dict: { rope_type: "default" }, base: newBase };
    }
  }
}

/**
 * The rope block `method` needs for `target` tokens, as a patch of config.json's top-level keys, checked by
 * reading the patched config back in strict mode at seq len `target` (a PosencConfigError if anything is off).
 */
export function ropeExtensionBlock(config: object, options: RopeExtensionOptions): RopeExtensionBlock {
  const c = checkObject("config", config);
  const { method } = options;
  if (!(ROPE_EXTENSION_METHODS as readonly string[]).includes(method)) {
    const why = NOT_HF_EXPRESSIBLE[method];
    throw new PosencConfigError(
      "invalid_value",
      "method",
      method,
      `${why ? `a method a Hugging Face rope block can express (${why}): ` : ""}one of ${ROPE_EXTENSION_METHODS.join(", ")}`,
    );
  }
  const all = ropeLayerTypes(config, { strict: true });
  const chosen = options.layerTypes ?? all ?? [undefined];
  if (all) {
    for (const layerType of chosen) {
      if (!layerType || !all.includes(layerType)) {
        throw new PosencConfigError("invalid_value", "layerType", layerType, `one of ${all.join(", ")}`);
      }
    }
  }
  const origins = chosen.map((layerType) => ropeExtensionOrigin(config, layerType));
  const origin = origins[0]!;
  if (origins.some((o) => o.originalContext !== origin.originalContext)) {
    throw new PosencConfigError(
      "conflict",
      "layerTypes",
      chosen,
      `layer types with one trained context (they have ${origins.map((o) => o.originalContext).join(", ")}): extend one at a time (posenc extend --layer-type NAME)`,
    );
  }
  const target = checkNumber("target", options.target, { integer: true, min: origin.originalContext + 1 });
  const root = origin.format;
  const other = root === "rope_scaling" ? "rope_parameters" : "rope_scaling";
  const oldRoot = isSet(c[root]) ? checkObject(root, c[root]) : {};
  const patch: Record<string, unknown> = {};
  const dicts: Record<string, unknown> = all ? { ...oldRoot } : {};
  for (const [i, layerType] of chosen.entries()) {
    const old = layerType ? checkObject(`${root}.${layerType}`, oldRoot[layerType]) : oldRoot;
    const { dict, base } = methodDict(options, origins[i]!, old);
    if (isSet(old.partial_rotary_factor)) dict.partial_rotary_factor = old.partial_rotary_factor;
    if (root === "rope_parameters") dict.rope_theta = base;
    else patch.rope_theta = base;
    if (layerType) dicts[layerType] = dict;
    else Object.assign(dicts, dict);
  }
  // Legacy configs say "default" with rope_scaling null; a v5 config keeps its top-level rope_theta in step.
  patch[root] = root === "rope_scaling" && dicts.rope_type === "default" ? null : dicts;
  if (root === "rope_parameters" && !all && isSet(c.rope_theta)) patch.rope_theta = dicts.rope_theta;
  if (isSet(c[other])) patch[other] = null;
  patch.max_position_embeddings = method === "dynamic" ? origin.originalContext : target;

  const patched = applyRopePatch(config, patch);
  const layers = chosen.map((layerType, i) => {
    const result = ropeParameters(patched, { strict: true, seqLen: target, layerType });
    const o = origins[i]!;
    return {
      layerType,
      origin: o,
      originalInvFreq: ropeInverseFrequencies(o.dim, o.base),
      invFreq: result.invFreq,
      attentionFactor: result.attentionFactor,
    };
  });
  return { method, target, factor: target / origin.originalContext, patch, layers };
}
