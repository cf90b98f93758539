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
import {
  type RopeCommon,
  type RopeTypeEntry,
  readFactor,
  readMaxPositionEmbeddings,
  readOptionalMaxPositionEmbeddings,
  readOriginal,
  type TypeContext,
} from "./rope-config-types.js";
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

/** Hugging Face rope_type "llama3", with HF's fallbacks applied. */
export interface Llama3RopeConfig extends RopeCommon {
  ropeType: "llama3";
  factor: number;
  lowFreqFactor: number;
  highFreqFactor: number;
  originalMaxPositionEmbeddings: number;
}

function readLlama3(at: TypeContext): Llama3RopeConfig {
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

/** HF rope_type "llama3" (`_compute_llama3_parameters`). */
export const llama3RopeType: RopeTypeEntry<Llama3RopeConfig> = {
  keys: ["factor", "original_max_position_embeddings", "low_freq_factor", "high_freq_factor"],
  read: readLlama3,
  compute: (resolved) => ({ invFreq: llama3InverseFrequencies(resolved), attentionFactor: 1 }),
};

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
