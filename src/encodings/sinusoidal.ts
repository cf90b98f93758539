/**
 * Sinusoidal absolute positional encoding, from "Attention Is All You Need" (Vaswani, Shazeer, Parmar, Uszkoreit,
 * Jones, Gomez, Kaiser and Polosukhin, 2017), arXiv:1706.03762, section 3.5:
 *   PE(pos, 2i)     = sin(pos * w_i)
 *   PE(pos, 2i + 1) = cos(pos * w_i)        w_i = base^(-2i/d), i = 0 .. d/2 - 1, base = 10000
 * added to the token embeddings. For every i the pair (sin, cos) at pos + k is the pair at pos rotated by the angle
 * k * w_i, a linear map that depends on k only: the paper's reason for the choice.
 *
 * Channel layouts (the same values, permuted):
 *   "interleaved"   sin(pos w_i) at channel 2i, cos(pos w_i) at 2i + 1   (the paper; XLM's
 *                   `create_sinusoidal_embeddings`)
 *   "concatenated"  sin(pos w_i) at channel i, cos(pos w_i) at d/2 + i   (HF Marian/Pegasus `_init_weight` and
 *                   DeepMind's randomized_positional_encodings `sinusoid_position_encoding`, both with the
 *                   paper's w_i; tensor2tensor and fairseq, with their own w_i below)
 * Frequencies:
 *   "paper"          w_i = base^(-2i/d)                    lowest frequency base^(-(d-2)/d)
 *   "tensor2tensor"  w_i = base^(-i/(d/2 - 1))             t2t `get_timing_signal_1d` (min_timescale 1,
 *                    max_timescale base) and fairseq `SinusoidalPositionalEmbedding.get_embedding`: log-spaced so
 *                    the lowest frequency is exactly 1/base (w_0 = 1 alone for d = 2)
 * Either frequency set works with either layout; t2t and fairseq are concatenated + "tensor2tensor".
 *
 * dModel must be even: the encoding is made of (sin, cos) pairs. An odd dModel is rejected (tensor2tensor pads a
 * zero channel, fairseq a zero column; a model that wants that can pad itself). Positions may be fractional.
 * Angles are computed in float64 and rounded to float32 once, after sin/cos.
 */
import { checkNumber, PosencConfigError } from "../util/validation.js";
import { fixedTrainable, type TrainableEncoding } from "./trainable.js";
import { defineEncoding, type EncodingSpec, type PositionalEncoding, resolveParams } from "./types.js";

export type SinusoidalLayout = "interleaved" | "concatenated";
export const SINUSOIDAL_LAYOUTS: readonly SinusoidalLayout[] = ["interleaved", "concatenated"];

export type SinusoidalFrequencies = "paper" | "tensor2tensor";
export const SINUSOIDAL_FREQUENCIES: readonly SinusoidalFrequencies[] = ["paper", "tensor2tensor"];

export interface SinusoidalOptions {
  /** The base of the geometric frequency sequence (the paper's 10000, t2t's max_timescale). Must be > 1. */
  base?: number;
  /** Default "interleaved" (the paper). */
  layout?: SinusoidalLayout;
  /** Default "paper". */
  frequencies?: SinusoidalFrequencies;
}

function checkOptions(options: SinusoidalOptions): Required<SinusoidalOptions> {
  const base = checkNumber("base", options.base ?? 10000, { min: 1, exclusiveMin: true });
  const layout = options.layout ?? "interleaved";
  if (!SINUSOIDAL_LAYOUTS.includes(layout)) {
    throw new PosencConfigError("invalid_value", "layout", layout, `one of "interleaved", "concatenated"`);
  }
  const frequencies = options.frequencies ?? "paper";
  if (!SINUSOIDAL_FREQUENCIES.includes(frequencies)) {
    throw new PosencConfigError(
      "invalid_value",
      "frequencies",
      frequencies,
      `one of "paper", "tensor2tensor"`,
    );
  }
  return { base, layout, frequencies };
}

function checkDModel(dModel: number): number {
  checkNumber("dModel", dModel, { integer: true, min: 2 });
  if (dModel % 2 !== 0) {
    throw new PosencConfigError(
      "invalid_value",
      "dModel",
      dModel,
      "an even integer >= 2 (the encoding is made of sin/cos pairs)",
    );
  }
  return dModel;
}

/**
 * The d/2 angular frequencies w_i (radians per position), float64:
 *   "paper":          base^(-2i/d)
 *   "tensor2tensor":  exp(-i * log(base) / max(d/2 - 1, 1))
 */
export function sinusoidalFrequencies(
  dModel: number,
  options: Pick<SinusoidalOptions, "base" | "frequencies"> = {},
): Float64Array {
  checkDModel(dModel);
  const { base, frequencies } = checkOptions(options);
  const half = dModel / 2;
  const w = new Float64Array(half);
  if (frequencies === "paper") {
    for (let i = 0; i < half; i++) w[i] = base ** ((-2 * i) / dModel);
  } else {
    const increment = Math.log(base) / Math.max(half - 1, 1);
    for (let i = 0; i < half; i++) w[i] = Math.exp(-i * increment);
  }
  return w;
}

/** The channels of frequency pair i in a layout: [sinChannel, cosChannel]. */
export function sinusoidalPairChannels(
  i: number,
  dModel: number,
  layout: SinusoidalLayout,
): [number, number] {
  return layout === "interleaved" ? [2 * i, 2 * i + 1] : [i, dModel / 2 + i];
}

/**
 * The sinusoidal table for `positions` (any finite reals), row-major [positions.length, dModel] float32, to be added
 * to the token embeddings. See the file comment for the layouts and frequency sets.
 */
export function sinusoidalEncoding(
  positions: ArrayLike<number>,
  dModel: number,
  options: SinusoidalOptions = {},
): Float32Array {
  checkDModel(dModel);
  const { layout } = checkOptions(options);
  const w = sinusoidalFrequencies(dModel, options);
  const half = dModel / 2;
  // Channel of each pair's sin and cos, computed once instead of per position.
  const sinChannel = new Int32Array(half);
  const cosChannel = new Int32Array(half);
  for (let i = 0; i < half; i++) [sinChannel[i], cosChannel[i]] = sinusoidalPairChannels(i, dModel, layout);
  const out = new Float32Array(positions.length * dModel);
  for (let t = 0; t < positions.length; t++) {
    const pos = positions[t];
    if (!Number.isFinite(pos))
      throw new RangeError(`positions[${t}] must be a finite number, received ${pos}`);
    const row = t * dModel;
    for (let i = 0; i < half; i++) {
      const angle = pos * w[i];
      out[row + sinChannel[i]] = Math.sin(angle);
      out[row + cosChannel[i]] = Math.cos(angle);
    }
  }
  return out;
}

const SINUSOIDAL_PARAMS = {
  base: {
    type: "number",
    description: "Base of the geometric frequency sequence (the paper's 10000).",
    default: 10000,
    min: 1,
    exclusiveMin: true,
  },
  layout: {
    type: "string",
    description:
      'Channel order: "interleaved" = sin/cos at channels 2i/2i+1 (the paper), "concatenated" = all sin then all cos (tensor2tensor).',
    default: "interleaved",
    choices: SINUSOIDAL_LAYOUTS,
  },
  frequencies: {
    type: "string",
    description:
      'Frequency set: "paper" = base^(-2i/d); "tensor2tensor" = base^(-i/(d/2-1)), whose lowest frequency is exactly 1/base.',
    default: "paper",
    choices: SINUSOIDAL_FREQUENCIES,
  },
} as const satisfies EncodingSpec["params"];

export const sinusoidalSpec = defineEncoding({
  id: "sinusoidal",
  name: "Sinusoidal",
  family: "absolute",
  paper: { title: "Attention Is All You Need", arxiv: "1706.03762", year: 2017 },
  formula: "PE(pos, 2i) = sin(pos / base^(2i/d)), PE(pos, 2i+1) = cos(pos / base^(2i/d))",
  summary:
    "Adds fixed sines and cosines of geometrically spaced frequencies to the token embeddings, so a shift by k positions is a rotation of each pair.",
  slots: ["embedding"],
  params: SINUSOIDAL_PARAMS,
  trainable: (params, dims, _rng, path): TrainableEncoding =>
    fixedTrainable(sinusoidalSpec, params, dims, path),
  create(params, path = "sinusoidal"): PositionalEncoding {
    const p = resolveParams(path, SINUSOIDAL_PARAMS, params);
    const options: SinusoidalOptions = {
      base: p.base,
      layout: p.layout as SinusoidalLayout,
      frequencies: p.frequencies as SinusoidalFrequencies,
    };
    return {
      id: "sinusoidal",
      params: Object.freeze(p),
      embedding: (positions, dModel) => sinusoidalEncoding(positions, dModel, options),
    };
  },
});
