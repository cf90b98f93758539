/**
 * Context extension of a trained RoPE checkpoint (issue 9 part 2): the encoding a model trained at context L0 reads
 * a target context T with, for each method `posenc extend` writes, built from the same Hugging Face rope block.
 *
 * The checkpoint's rotary setup (base b, head dim, partial rotary factor) is written as a Hugging Face config with
 * max_position_embeddings = L0; `ropeExtensionBlock` (src/encodings/rope-config-extension.ts) patches it for T as
 * `posenc extend` does and reads it back in strict mode; the lab then runs the registry method of that rope type
 * with the block's values:
 *   pi -> rope-linear (factor s = T / L0)      ntk -> ntk-aware (factor s)      abf -> abf (base = the block's)
 *   dynamic -> rope-dynamic-ntk (factor s, maxPositionEmbeddings L0)
 *   yarn -> yarn (factor s, originalMaxPositionEmbeddings L0)   llama3 -> llama3-rope (factor s, low 1, high 4, L0)
 *   longrope -> longrope (short/long factors, factor s, originalMaxPositionEmbeddings L0)
 *   eabf -> entropy-aware-abf (ABF's block and base; queries past L0 scaled by ln(m+1)/ln L0 from layer 1 on)
 * so the frequencies the model rotates with at every sequence length are those `ropeParameters` gives for the
 * patched config (test: extension.test.ts). None of the methods has trainable parameters: the extended model
 * loads the checkpoint's weights unchanged.
 *
 * Giraffe's bases (arXiv:2308.10882) have no Hugging Face rope type, so they have no block: the lab runs the
 * registry method with the checkpoint's base and the Giraffe parameters, and the test holds its frequencies to
 * src/encodings/giraffe.ts's functions instead of ropeParameters. Neither depends on the target:
 *   giraffe-power -> giraffe-power (theta_i (1 - 2i/d)^k, k = 0.5 as the authors' repository reports)
 *   giraffe-truncated -> giraffe-truncated (truncateLength = L0: keep the pairs that complete a cycle within the
 *     trained context, "only frequencies fast enough to complete at least one full cycle during training")
 *
 * Dynamic NTK in the model: each forward pass of T tokens uses the frequencies HF computes for seq_len T from a
 * fresh cache. The evaluation scores context lengths in ascending order, every window of one length T tokens long,
 * which is exactly what HF's cache does over that sequence of calls (grow to T at its first window, never reset
 * while T > L0; below L0 the original frequencies): the test replays `createRopeFrequencyCache` over such a grid.
 */

import { giraffePowerSpec } from "../encodings/giraffe.js";
import { getEncoding } from "../encodings/registry.js";
import {
  type LongropeFactors,
  ROPE_EXTENSION_METHODS,
  type RopeExtensionBlock,
  ropeExtensionBlock,
} from "../encodings/rope-config-extension.js";
import { PosencConfigError } from "../util/validation.js";
import { type EncodingChoice, encodingLabel, stackOf } from "./config.js";

/**
 * The Hugging Face methods, entropy-aware ABF (ABF's block plus a query scale no block holds) and Giraffe's two
 * bases (no block at all).
 */
export const LAB_EXTENSION_METHODS = [
  ...ROPE_EXTENSION_METHODS,
  "eabf",
  "giraffe-power",
  "giraffe-truncated",
] as const;
export type LabExtensionMethod = (typeof LAB_EXTENSION_METHODS)[number];
/** The lab methods without a Hugging Face block. */
const GIRAFFE_METHODS = ["giraffe-power", "giraffe-truncated"] as const;
type GiraffeMethod = (typeof GIRAFFE_METHODS)[number];

/** Giraffe's power k when none is given: the registry's default, the value the authors' repository reports. */
export const GIRAFFE_DEFAULT_POWER = giraffePowerSpec.params.power.default;

/**
 * Layers whose queries entropy-aware ABF leaves unscaled in the lab: the authors skip 2 of Llama 2's 32; the lab's
 * models have 2-4 layers, so only the first (as the paper notes' small-model experiment).
 */
export const EABF_SKIP_LAYERS = 1;

/** The rotary setup of a plain-RoPE checkpoint and the context it was trained at. */
export interface RopeCheckpointOrigin {
  base: number;
  headDim: number;
  partialRotaryFactor: number;
  layout: "half" | "interleaved";
  /** L0: the training length (the longest training sequence). */
  trainedContext: number;
}

/** The rotary setup of a checkpoint's encoding; one line naming the encoding when it is not plain RoPE. */
export function ropeOriginOf(
  choice: EncodingChoice,
  headDim: number,
  trainedContext: number,
  key = "--extend",
): RopeCheckpointOrigin {
  const stack = stackOf(choice);
  if (stack.length !== 1 || stack[0]!.id !== "rope") {
    throw new PosencConfigError(
      "invalid_value",
      key,
      encodingLabel(choice),
      "a checkpoint trained with plain rope (context extension rescales its frequencies)",
    );
  }
  const p = stack[0]!.params;
  return {
    base: typeof p.base === "number" ? p.base : 10000,
    headDim,
    partialRotaryFactor: typeof p.partialRotaryFactor === "number" ? p.partialRotaryFactor : 1,
    layout: p.layout === "interleaved" ? "interleaved" : "half",
    trainedContext,
  };
}

/** The checkpoint's rope as a Hugging Face config.json (legacy form, no scaling), trained context L0. */
export function hfConfigOf(origin: RopeCheckpointOrigin): Record<string, unknown> {
  return {
    rope_theta: origin.base,
    rope_scaling: { rope_type: "default" },
    head_dim: origin.headDim,
    hidden_size: origin.headDim,
    num_attention_heads: 1,
    ...(origin.partialRotaryFactor !== 1 ? { partial_rotary_factor: origin.partialRotaryFactor } : {}),
    max_position_embeddings: origin.trainedContext,
  };
}

export interface ExtensionOptions {
  /** LongRoPE's per-pair factors (required for longrope): a search result (longrope-search.ts). */
  longrope?: LongropeFactors;
  /** ABF's new base (default: the RoPE base lower bound for T, at least b). */
  abfBase?: number;
  /** giraffe-power's exponent k (default GIRAFFE_DEFAULT_POWER). */
  giraffePower?: number;
  /** giraffe-truncated's length T in tokens (default L0, the trained context). */
  giraffeTruncateLength?: number;
}

export interface LabExtension {
  method: LabExtensionMethod;
  target: number;
  /** The Hugging Face block (patch of config.json) and what it gives at T; null for Giraffe (no rope type). */
  block: RopeExtensionBlock | null;
  /** config.json of the checkpoint with the block applied; null for Giraffe. */
  hfConfig: Record<string, unknown> | null;
  /** The registry encoding the lab runs (same frequencies as ropeParameters(hfConfig) at every length). */
  choice: EncodingChoice;
  /**
   * Parameters of a method without a block (Giraffe) that differ from their defaults (power 0.5, truncateLength
   * L0), e.g. { power: 1 }; absent when all are the defaults. Reports name curves by them, so two settings never
   * merge.
   */
  params?: Record<string, number>;
}

/** The extension `method` of a RoPE checkpoint to `target` tokens; see the file comment. */
export function labExtension(
  origin: RopeCheckpointOrigin,
  method: string,
  target: number,
  options: ExtensionOptions = {},
): LabExtension {
  if (!(LAB_EXTENSION_METHODS as readonly string[]).includes(method)) {
    throw new PosencConfigError(
      "invalid_value",
      "--extend",
      method,
      `one of ${LAB_EXTENSION_METHODS.join(", ")}`,
    );
  }
  const m = method as LabExtensionMethod;
  if ((GIRAFFE_METHODS as readonly string[]).includes(m)) {
    return giraffeExtension(origin, m as GiraffeMethod, target, options);
  }
  const hf = m as Exclude<LabExtensionMethod, GiraffeMethod>;
  const config = hfConfigOf(origin);
  const block = ropeExtensionBlock(config, {
    method: hf === "eabf" ? "abf" : hf,
    target,
    ...(options.longrope ? { longrope: options.longrope } : {}),
    ...(options.abfBase !== undefined ? { abfBase: options.abfBase } : {}),
  });
  const hfConfig = { ...config };
  for (const [key, value] of Object.entries(block.patch)) {
    if (value === null) delete hfConfig[key];
    else hfConfig[key] = value;
  }
  // The block's rope dict: legacy rope_scaling, or v5 rope_parameters (rope_theta inside).
  const scaling = (hfConfig.rope_scaling ?? hfConfig.rope_parameters ?? {}) as Record<string, unknown>;
  const theta = scaling.rope_theta ?? hfConfig.rope_theta;
  const s = block.factor;
  const l0 = origin.trainedContext;
  const common = commonParams(origin);
  const registry: Record<
    Exclude<LabExtensionMethod, GiraffeMethod>,
    { id: string; params: Record<string, unknown> }
  > = {
    pi: { id: "rope-linear", params: { ...common, factor: s } },
    ntk: { id: "ntk-aware", params: { ...common, factor: s } },
    dynamic: { id: "rope-dynamic-ntk", params: { ...common, factor: s, maxPositionEmbeddings: l0 } },
    yarn: { id: "yarn", params: { ...common, factor: s, originalMaxPositionEmbeddings: l0 } },
    llama3: {
      id: "llama3-rope",
      params: {
        ...common,
        factor: s,
        lowFreqFactor: scaling.low_freq_factor,
        highFreqFactor: scaling.high_freq_factor,
        originalMaxPositionEmbeddings: l0,
      },
    },
    longrope: {
      id: "longrope",
      params: {
        ...common,
        factor: s,
        originalMaxPositionEmbeddings: l0,
        shortFactor: scaling.short_factor,
        longFactor: scaling.long_factor,
      },
    },
    abf: { id: "abf", params: { ...common, base: theta } },
    eabf: {
      id: "entropy-aware-abf",
      params: { ...common, base: theta, trainedContext: l0, skipLayers: EABF_SKIP_LAYERS },
    },
  };
  const { id, params } = registry[hf];
  return {
    method: hf,
    target,
    block,
    hfConfig,
    choice: { id, label: `rope+${m}`, params } as EncodingChoice,
  };
}

/** The checkpoint's rotary setup as registry parameters (base, and partial factor and layout when not default). */
function commonParams(origin: RopeCheckpointOrigin): Record<string, unknown> {
  return {
    base: origin.base,
    ...(origin.partialRotaryFactor !== 1 ? { partialRotaryFactor: origin.partialRotaryFactor } : {}),
    ...(origin.layout !== "half" ? { layout: origin.layout } : {}),
  };
}

/** Giraffe's bases: the registry method with the checkpoint's rotary setup; see the file comment. */
function giraffeExtension(
  origin: RopeCheckpointOrigin,
  method: GiraffeMethod,
  target: number,
  options: ExtensionOptions,
): LabExtension {
  // The method's one parameter: its value, and the default it falls back to.
  const [key, given, fallback] =
    method === "giraffe-power"
      ? ["power", options.giraffePower, GIRAFFE_DEFAULT_POWER]
      : ["truncateLength", options.giraffeTruncateLength, origin.trainedContext];
  const value = given ?? fallback;
  const params = { ...commonParams(origin), [key]: value };
  // The registry's schema checks the value (a negative power, a zero length) in one line, before any work.
  getEncoding(method).create({ ...params, headDim: origin.headDim });
  return {
    method,
    target,
    block: null,
    hfConfig: null,
    choice: { id: method, label: `rope+${method}`, params } as EncodingChoice,
    ...(value !== fallback ? { params: { [key]: value } } : {}),
  };
}
