/**
 * Llama 3.1 RoPE scaling, from "The Llama 3 Herd of Models" (Grattafiori, Dubey, Jauhri, et al., Meta, 2024),
 * arXiv:2407.21783; the formula is Meta's reference code (`apply_scaling` in llama-models), which Hugging Face
 * ships as rope_type "llama3".
 *
 * A by-wavelength version of NTK-by-parts. With theta_i = base^(-2i/d), wavelength w_i = 2 pi / theta_i, trained
 * length L (original_max_position_embeddings, 8192 for Llama 3.1), scale s (8), low/high frequency factors
 * (1 and 4):
 *   w_i < L / high                 theta'_i = theta_i                      (high frequencies: unchanged)
 *   w_i > L / low                  theta'_i = theta_i / s                  (low frequencies: interpolated as PI)
 *   otherwise, with g = (L / w_i - low) / (high - low):
 *                                  theta'_i = (1 - g) * theta_i / s + g * theta_i
 * g is 0 at w = L / low and 1 at w = L / high, so theta' is continuous. The attention factor is 1.
 */
import { checkNumber, PosencConfigError } from "../util/validation.js";
import { defineRopeVariant, ROPE_BASE_PARAMS, ropeInverseFrequencies } from "./rope.js";
import type { EncodingSpec } from "./types.js";

export interface Llama3ScalingOptions {
  /** Rotary dimension d, an even integer >= 2. */
  dim: number;
  /** RoPE base (rope_theta; 500000 for Llama 3), > 0. */
  base: number;
  /** Scale s applied to the low frequencies (8 for Llama 3.1), > 0. */
  factor: number;
  /** Wavelengths above L / lowFreqFactor are divided by s (1 for Llama 3.1), > 0. */
  lowFreqFactor: number;
  /** Wavelengths below L / highFreqFactor are kept (4 for Llama 3.1), > 0; should exceed lowFreqFactor. */
  highFreqFactor: number;
  /** Trained context length L (8192 for Llama 3.1), > 0. */
  originalMaxPositionEmbeddings: number;
}

/** Llama 3.1 frequencies: keep short wavelengths, divide long ones by s, blend linearly in L / w between. */
export function llama3InverseFrequencies(options: Llama3ScalingOptions): Float64Array {
  const { dim, base } = options;
  checkNumber("dim", dim, { integer: true, min: 2 });
  if (dim % 2 !== 0) throw new PosencConfigError("invalid_value", "dim", dim, "an even integer >= 2");
  checkNumber("base", base, { min: 0, exclusiveMin: true });
  const factor = checkNumber("factor", options.factor, { min: 0, exclusiveMin: true });
  const low = checkNumber("lowFreqFactor", options.lowFreqFactor, { min: 0, exclusiveMin: true });
  const high = checkNumber("highFreqFactor", options.highFreqFactor, { min: 0, exclusiveMin: true });
  const oldContextLen = checkNumber("originalMaxPositionEmbeddings", options.originalMaxPositionEmbeddings, {
    min: 0,
    exclusiveMin: true,
  });
  const lowFreqWavelen = oldContextLen / low;
  const highFreqWavelen = oldContextLen / high;
  const invFreq = ropeInverseFrequencies(dim, base);
  for (let i = 0; i < invFreq.length; i++) {
    const theta = invFreq[i];
    const wavelen = (2 * Math.PI) / theta;
    if (wavelen > lowFreqWavelen) {
      invFreq[i] = theta / factor;
    } else if (wavelen >= highFreqWavelen && high !== low) {
      // Medium band (HF: not below high_freq_wavelen and not above low_freq_wavelen). When high == low the
      // band is the single point w = L / low and g would be 0 / 0; theta is kept there, as is w < L / high.
      const smooth = (oldContextLen / wavelen - low) / (high - low);
      invFreq[i] = ((1 - smooth) * theta) / factor + smooth * theta;
    }
  }
  return invFreq;
}

const LLAMA3_ROPE_PARAMS = {
  ...ROPE_BASE_PARAMS,
  base: { ...ROPE_BASE_PARAMS.base, default: 500000 },
  factor: {
    type: "number",
    description: "Scale s applied to the low-frequency pairs (Llama 3.1: 8).",
    default: 8,
    min: 0,
    exclusiveMin: true,
  },
  lowFreqFactor: {
    type: "number",
    description: "Pairs with wavelength > L / lowFreqFactor are divided by s (Llama 3.1: 1).",
    default: 1,
    min: 0,
    exclusiveMin: true,
  },
  highFreqFactor: {
    type: "number",
    description:
      "Pairs with wavelength < L / highFreqFactor are unchanged (Llama 3.1: 4); must exceed lowFreqFactor.",
    default: 4,
    min: 0,
    exclusiveMin: true,
  },
  originalMaxPositionEmbeddings: {
    type: "integer",
    description: "Trained context length L (Llama 3.1: 8192).",
    default: 8192,
    min: 1,
  },
} as const satisfies EncodingSpec["params"];

export const llama3RopeSpec = defineRopeVariant({
  id: "llama3-rope",
  name: "Llama 3.1 RoPE scaling",
  family: "context-extension",
  paper: { title: "The Llama 3 Herd of Models", arxiv: "2407.21783", year: 2024 },
  formula:
    "w_i = 2 pi / theta_i; theta'_i = theta_i if w_i < L/high, theta_i / s if w_i > L/low, else (1-g) theta_i/s + g theta_i, g = (L/w_i - low)/(high - low)",
  summary:
    "Keeps short-wavelength RoPE pairs, divides long-wavelength ones by the scale and blends between, extending Llama 3 from 8K to 128K.",
  params: LLAMA3_ROPE_PARAMS,
  frequencies(p, dim) {
    const lowFreqFactor = p.lowFreqFactor;
    const highFreqFactor = p.highFreqFactor;
    if (highFreqFactor <= lowFreqFactor) {
      throw new PosencConfigError(
        "conflict",
        "llama3-rope.highFreqFactor",
        highFreqFactor,
        `a number > lowFreqFactor = ${lowFreqFactor}`,
      );
    }
    const invFreq = llama3InverseFrequencies({
      dim,
      base: p.base,
      factor: p.factor,
      lowFreqFactor,
      highFreqFactor,
      originalMaxPositionEmbeddings: p.originalMaxPositionEmbeddings,
    });
    return { invFreq };
  },
});
