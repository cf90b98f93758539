/**
 * RoFormer: Enhanced Transformer with Rotary Position Embedding (Su et al., 2021), arXiv:2104.09864.
 *
 * Channel pair i of a query/key at position m is rotated by the angle m * theta_i, with
 *   theta_i = base^(-2i/d),  i = 0 .. d/2 - 1   (d = rotary dimension, base = 10000 in the paper)
 * so that <R(m) q, R(n) k> depends on q, k and m - n only:
 *   out_a = x_a cos(m theta_i) - x_b sin(m theta_i)
 *   out_b = x_b cos(m theta_i) + x_a sin(m theta_i)
 * where the pair (a, b) is (i, i + d/2) in the "half" layout (Hugging Face / GPT-NeoX `rotate_half`) and
 * (2i, 2i + 1) in the "interleaved" layout (GPT-J / Meta's complex multiplication). Channels d .. headDim - 1
 * (partial rotary) pass through unchanged.
 *
 * This file: inverse frequencies, the factories other rotary methods (p-RoPE, NTK, YaRN, ...) build their encoding
 * with, `defineRopeVariant` that turns "params -> frequencies" into a whole spec, and the `rope` spec. The cos/sin tables and the rotation kernels live in rope-kernel.ts (re-exported
 * here), the conversion of weights between layouts in rope-layout.ts.
 */
import { checkNumber, PosencConfigError } from "../util/validation.js";
import type { RopeCommon, RopeTypeEntry } from "./rope-config-types.js";
import {
  applyRope,
  inverseFrequencyRow,
  ROPE_LAYOUTS,
  type RopeLayout,
  type RopeTable,
  ropeCosSinTable,
} from "./rope-kernel.js";
import {
  type EncodingSpec,
  type ParamSchema,
  type ParamValues,
  type PositionalEncoding,
  type RotaryForm,
  resolveParams,
} from "./types.js";

export {
  type ApplyRopeOptions,
  applyRope,
  applyRopeReference,
  ROPE_LAYOUTS,
  type RopeLayout,
  type RopeTable,
  type RopeTableOptions,
  ropeCosSinTable,
} from "./rope-kernel.js";

import { fixedTrainable, type TrainableEncoding } from "./trainable.js";

/**
 * Inverse frequencies theta_i = base^(-2i/d) for i = 0 .. d/2 - 1, the `inv_freq` of Hugging Face transformers.
 * Computed in float64 (HF computes them in float32; the two agree to about 1e-7 relative).
 */
export function ropeInverseFrequencies(dim: number, base = 10000): Float64Array {
  // dim 0 is a head with no rotated channels (partial rotary factor 0); a base <= 0 gives NaN or Infinity.
  checkNumber("dim", dim, { integer: true, min: 0 });
  checkNumber("base", base, { min: 0, exclusiveMin: true });
  return inverseFrequencyRow(dim, base);
}

/** Hugging Face rope_type "default" (`compute_default_rope_parameters`). */
export interface DefaultRopeConfig extends RopeCommon {
  ropeType: "default";
}

/** HF rope_type "default": theta_i = base^(-2i/d), attention factor 1 (the rope type table's first entry). */
export const defaultRopeType: RopeTypeEntry<DefaultRopeConfig> = {
  keys: [],
  read: ({ dim, base }) => ({ ropeType: "default", dim, base }),
  compute: ({ dim, base }) => ({ invFreq: ropeInverseFrequencies(dim, base), attentionFactor: 1 }),
};

export interface RopeEncodingOptions {
  id: string;
  params: Record<string, unknown>;
  /** theta_i, one per rotated channel pair; rotary dim = 2 * invFreq.length. */
  invFreq: ArrayLike<number>;
  /** Multiplies cos and sin (HF `attention_scaling`). Default 1. */
  attentionFactor?: number;
  /** Default "half" (Hugging Face). */
  layout?: RopeLayout;
}

/**
 * Builds a transformQK encoding that rotates the first 2 * invFreq.length channels of each head by
 * position * invFreq (times attentionFactor on cos and sin), the same for queries and keys. Every rotary method
 * that only changes the frequencies or the attention factor (NTK, YaRN, Llama 3, p-RoPE, ...) builds on this.
 */
export function ropeEncodingFromFrequencies(options: RopeEncodingOptions): PositionalEncoding {
  const invFreq = Float64Array.from(options.invFreq);
  for (let i = 0; i < invFreq.length; i++) {
    if (!Number.isFinite(invFreq[i])) {
      throw new PosencConfigError(
        "invalid_value",
        `${options.id}.invFreq[${i}]`,
        invFreq[i],
        "a finite number",
      );
    }
  }
  const attentionFactor = options.attentionFactor ?? 1;
  if (!Number.isFinite(attentionFactor)) {
    throw new PosencConfigError(
      "invalid_type",
      `${options.id}.attentionFactor`,
      attentionFactor,
      "a finite number",
    );
  }
  const layout = options.layout ?? "half";
  if (layout !== "half" && layout !== "interleaved") {
    throw new PosencConfigError(
      "invalid_value",
      `${options.id}.layout`,
      layout,
      `one of "half", "interleaved"`,
    );
  }
  const rotaryDim = 2 * invFreq.length;
  const params = Object.freeze({ ...options.params });
  // The last table built, keyed by a copy of its positions: queries and keys of one step share their positions,
  // so the second call reuses the table (comparing positions is O(seq), building the table O(seq * d/2)).
  let cachedPositions: Float64Array | undefined;
  let cachedTable: RopeTable | undefined;
  const tableFor = (positions: ArrayLike<number>): RopeTable => {
    if (cachedTable && cachedPositions && samePositions(cachedPositions, positions)) return cachedTable;
    cachedTable = ropeCosSinTable(invFreq, positions, { attentionFactor });
    cachedPositions = Float64Array.from(positions);
    return cachedTable;
  };
  const frequencies = { invFreq, attentionFactor };
  return {
    id: options.id,
    params,
    rotary: {
      layout,
      pairs: invFreq.length,
      frequencies: () => frequencies,
      tables: (positions) => ropeCosSinTable(invFreq, positions, { attentionFactor }),
    },
    transformQK(x, positions, numHeads, headDim, _role) {
      if (rotaryDim > headDim) {
        throw new RangeError(
          `${options.id}: rotary dimension 2 * ${invFreq.length} = ${rotaryDim} exceeds headDim = ${headDim}`,
        );
      }
      if (x.length !== positions.length * numHeads * headDim) {
        throw new RangeError(
          `${options.id}: x.length must be positions.length * numHeads * headDim = ${positions.length} * ${numHeads} * ${headDim} = ${positions.length * numHeads * headDim}, received ${x.length}`,
        );
      }
      const { cos, sin } = tableFor(positions);
      applyRope(x, cos, sin, { numHeads, headDim, rotaryDim, layout });
    },
  };
}

function samePositions(cached: Float64Array, positions: ArrayLike<number>): boolean {
  if (cached.length !== positions.length) return false;
  for (let t = 0; t < cached.length; t++) if (cached[t] !== positions[t]) return false;
  return true;
}

/** Frequencies in use after a generation step, and whether that step changed them. */
export interface RopeFrequencyUpdate {
  invFreq: Float64Array;
  attentionFactor: number;
  /** True when this update replaced the frequencies in use before it. */
  changed: boolean;
}

/** A stateful source of frequencies that follows the sequence length, as HF's `dynamic_rope_update` does. */
export interface RopeFrequencySchedule {
  /** Frequencies for a forward pass whose largest position id is seqLen - 1. */
  update(seqLen: number): RopeFrequencyUpdate;
  /** The frequencies currently in use (a copy is not made: do not mutate). */
  readonly invFreq: Float64Array;
  readonly attentionFactor: number;
}

/**
 * A transformQK encoding whose frequencies follow the positions of each call: seqLen = max(positions) + 1 goes
 * through `schedule.update`, and the rotation uses the frequencies that returns (HF generation semantics).
 * Queries and keys of one step see the same positions, hence the same frequencies.
 */
export function ropeEncodingFollowingSequenceLength(options: {
  id: string;
  params: Record<string, unknown>;
  schedule: RopeFrequencySchedule;
  layout: RopeLayout;
  /** A new schedule in its initial state: the rotary form's frequencies(seqLen) are those of a fresh sequence. */
  freshSchedule: () => RopeFrequencySchedule;
}): PositionalEncoding {
  const { id, params, schedule, layout, freshSchedule } = options;
  // Stateless: the frequencies a fresh schedule uses for a sequence of seqLen tokens (each example its own).
  const frequencies = (seqLen: number) => {
    const step = freshSchedule().update(seqLen);
    return { invFreq: step.invFreq, attentionFactor: step.attentionFactor };
  };
  const rotary: RotaryForm = {
    layout,
    pairs: schedule.invFreq.length,
    frequencies,
    tables(positions) {
      let seqLen = 0;
      for (let t = 0; t < positions.length; t++) seqLen = Math.max(seqLen, positions[t] + 1);
      const { invFreq, attentionFactor } = frequencies(seqLen);
      return ropeCosSinTable(invFreq, positions, { attentionFactor });
    },
  };
  const build = (invFreq: Float64Array, attentionFactor: number) =>
    ropeEncodingFromFrequencies({ id, params, invFreq, attentionFactor, layout });
  let inner = build(schedule.invFreq, schedule.attentionFactor);
  return {
    id,
    params: inner.params,
    rotary,
    transformQK(x, positions, numHeads, headDim, role) {
      if (positions.length === 0) return;
      let maxPosition = -Infinity;
      for (let t = 0; t < positions.length; t++) maxPosition = Math.max(maxPosition, positions[t]);
      const step = schedule.update(maxPosition + 1);
      if (step.changed) inner = build(step.invFreq, step.attentionFactor);
      inner.transformQK!(x, positions, numHeads, headDim, role);
    },
  };
}

/** The rotary dimension HF uses: int(headDim * partialRotaryFactor), which must come out even and >= 2. */
export function ropeRotaryDim(
  headDim: number,
  partialRotaryFactor: number,
  key = "partialRotaryFactor",
): number {
  const rotaryDim = Math.floor(headDim * partialRotaryFactor);
  if (rotaryDim < 2 || rotaryDim % 2 !== 0) {
    throw new PosencConfigError(
      "invalid_value",
      key,
      partialRotaryFactor,
      `a factor in (0, 1] with floor(headDim * factor) even and >= 2 (headDim = ${headDim} gives ${rotaryDim})`,
    );
  }
  return rotaryDim;
}

/** Shared parameter schema of the plain rotary methods. */
export const ROPE_BASE_PARAMS = {
  headDim: {
    type: "integer",
    description: "Channels per attention head; transformQK checks the model's head size against it.",
    default: 128,
    min: 2,
  },
  base: {
    type: "number",
    description: "Frequency base b in theta_i = b^(-2i/d).",
    default: 10000,
    min: 1,
    exclusiveMin: true,
  },
  partialRotaryFactor: {
    type: "number",
    description:
      "Fraction of each head's channels that is rotated (HF partial_rotary_factor); the rest pass through.",
    default: 1,
    min: 0,
    exclusiveMin: true,
    max: 1,
  },
  layout: {
    type: "string",
    description:
      'Channel pairing: "half" = (i, i + d/2) as in HF/GPT-NeoX, "interleaved" = (2i, 2i+1) as in GPT-J/Meta.',
    default: "half",
    choices: ROPE_LAYOUTS,
  },
} as const satisfies EncodingSpec["params"];

/** Wraps an encoding so transformQK rejects a head size other than the one the frequencies were built for. */
export function withHeadDimCheck(encoding: PositionalEncoding, headDim: number): PositionalEncoding {
  const transform = encoding.transformQK;
  if (!transform) return encoding;
  return {
    ...encoding,
    transformQK(x, positions, numHeads, actualHeadDim, role) {
      if (actualHeadDim !== headDim) {
        throw new RangeError(
          `${encoding.id}: headDim ${actualHeadDim} does not match params.headDim = ${headDim}`,
        );
      }
      transform.call(encoding, x, positions, numHeads, actualHeadDim, role);
    },
  };
}

/** What a rotary variant computes from its validated params (see defineRopeVariant). */
export interface RopeVariantFrequencies {
  /** theta'_i, one per rotated channel pair (rotaryDim / 2 values). */
  invFreq: ArrayLike<number>;
  /** Multiplies cos and sin (HF `attention_scaling`). Default 1. */
  attentionFactor?: number;
  /** Values derived on the way that the encoding's `params` report too (rope-base-bound's computed base). */
  derivedParams?: Record<string, unknown>;
}

/** The schema every rotary variant declares: headDim and layout (the model fills headDim). */
export type RopeVariantSchema = ParamSchema & {
  readonly headDim: { type: "integer"; description: string; default?: number; min?: number };
  readonly layout: { type: "string"; description: string; default?: string; choices: readonly RopeLayout[] };
};

/**
 * A rotary method that differs from RoPE only in its frequencies and attention factor: the spec's descriptive
 * fields, its schema, and how params become frequencies.
 */
export interface RopeVariantDefinition<S extends RopeVariantSchema>
  extends Pick<EncodingSpec, "id" | "name" | "family" | "paper" | "formula" | "summary"> {
  /** Must declare headDim and layout; with partialRotaryFactor the rotary dim is a fraction of headDim. */
  params: S;
  /**
   * The frequencies for validated params `p` and rotary dimension d (HF's init functions: inv_freq and
   * attention_factor): fixed ones, or a RopeFrequencySchedule that follows each call's sequence length (dynamic
   * NTK, LongRoPE). Validation beyond the schema goes here, with keys under `path`.
   */
  frequencies(
    p: ParamValues<S>,
    rotaryDim: number,
    path: string,
  ): RopeVariantFrequencies | RopeFrequencySchedule;
}

/** The model fills the head size: every rotary method rotates the model's heads. */
export const rotaryModelParams = (dims: { headDim: number }) => ({ headDim: dims.headDim });

/** A rotary method's head size given explicitly must be the model's (the config key named by `path`). */
export function checkModelHeadDim(headDim: number, dims: { headDim: number }, path = "headDim"): void {
  if (headDim !== dims.headDim) {
    throw new PosencConfigError(
      "conflict",
      path,
      headDim,
      `the model's head size dModel / numHeads = ${dims.headDim} (or leave it out: the model fills it in)`,
    );
  }
}

/**
 * The EncodingSpec of a RoPE variant. create(params) validates params against the schema, takes the rotary
 * dimension d = floor(headDim * partialRotaryFactor) (or d = headDim, which must be even, when the schema has no
 * partialRotaryFactor), asks `frequencies(p, d)` for theta' (and the attention factor), rotates with them in
 * params.layout and checks the model's head size against params.headDim. The trainable form is the fixed one: its
 * tables come straight from the frequencies (the encoding's `rotary` form).
 */
export function defineRopeVariant<S extends RopeVariantSchema>(
  definition: RopeVariantDefinition<S>,
): EncodingSpec<S> {
  const { params: schema, frequencies, ...descriptive } = definition;
  const id = descriptive.id;
  const spec: EncodingSpec<S> = {
    ...descriptive,
    slots: ["transformQK"],
    params: schema,
    modelParams: (dims) => rotaryModelParams(dims) as Partial<ParamValues<S>>,
    trainable(params, dims, _rng, path = id): TrainableEncoding {
      const headDim: number = params.headDim;
      checkModelHeadDim(headDim, dims, `${path}.headDim`);
      return fixedTrainable(spec, params, dims, path);
    },
    create(params, path = id) {
      const p = resolveParams(path, schema, params);
      const headDim: number = p.headDim;
      const layout: RopeLayout = p.layout;
      // Schemas without partialRotaryFactor rotate the whole head (the key is then absent from p).
      const factor = (p as Record<string, unknown>).partialRotaryFactor;
      const rotaryDim =
        typeof factor === "number"
          ? ropeRotaryDim(headDim, factor, `${path}.partialRotaryFactor`)
          : evenHeadDim(path, headDim);
      const computed = frequencies(p, rotaryDim, path);
      const encoding =
        "update" in computed
          ? ropeEncodingFollowingSequenceLength({
              id,
              params: p,
              schedule: computed,
              layout,
              freshSchedule: () => frequencies(p, rotaryDim, path) as RopeFrequencySchedule,
            })
          : ropeEncodingFromFrequencies({
              id,
              params: computed.derivedParams ? { ...p, ...computed.derivedParams } : p,
              invFreq: computed.invFreq,
              attentionFactor: computed.attentionFactor,
              layout,
            });
      return withHeadDimCheck(encoding, headDim);
    },
  };
  return spec;
}

function evenHeadDim(id: string, headDim: number): number {
  if (headDim % 2 !== 0) {
    throw new PosencConfigError("invalid_value", `${id}.headDim`, headDim, "an even integer >= 2");
  }
  return headDim;
}

export const ropeSpec = defineRopeVariant({
  id: "rope",
  name: "RoPE",
  family: "rotary",
  paper: {
    title: "RoFormer: Enhanced Transformer with Rotary Position Embedding",
    arxiv: "2104.09864",
    year: 2021,
  },
  formula:
    "rotate channel pair i of q and k at position m by m * base^(-2i/d), d = floor(headDim * partialRotaryFactor)",
  summary:
    "Rotates query/key channel pairs by position-proportional angles so attention scores depend only on relative position.",
  params: ROPE_BASE_PARAMS,
  frequencies: (p, rotaryDim) => ({ invFreq: ropeInverseFrequencies(rotaryDim, p.base) }),
});
