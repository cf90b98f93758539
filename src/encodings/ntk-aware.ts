/**
 * Static NTK-aware scaled RoPE. First posted by /u/bloc97 ("NTK-Aware Scaled RoPE allows LLaMA models to have
 * extended (8k+) context size without any fine-tuning and minimal perplexity degradation", r/LocalLLaMA, 2023);
 * formalised as Definition 1 of "YaRN: Efficient Context Window Extension of Large Language Models" (Peng,
 * Quesnelle, Fan, Shippole, 2023), arXiv:2309.00071, section 3.1.
 *
 * Instead of dividing every frequency by the extension factor s (Position Interpolation), change the base:
 *   base' = base * s^(d / (d - 2))
 *   theta'_i = base'^(-2i/d) = theta_i * s^(-2i / (d - 2)),   i = 0 .. d/2 - 1
 * The exponent d/(d-2) is chosen so that the lowest frequency (i = d/2 - 1) is divided by exactly s, as in
 * Position Interpolation, while the highest (i = 0, one radian per token) is untouched: high frequencies, which
 * resolve nearby tokens, are extrapolated; low frequencies are interpolated; the pairs between are spread
 * geometrically. This is the older Hugging Face rope_type "ntk" (base * factor^(dim / (dim - 2))) and
 * x-transformers' `rotary_base_rescale_factor`. The attention factor is 1.
 */
import { checkNumber, PosencConfigError } from "../util/validation.js";
import { defineRopeVariant, ROPE_BASE_PARAMS, ropeInverseFrequencies } from "./rope.js";
import type { EncodingSpec } from "./types.js";

/** Throws unless `dim` is an even integer >= 4 (d = 2 makes the exponent d/(d-2) infinite). */
function checkNtkDim(dim: number): void {
  checkNumber("dim", dim, { integer: true, min: 4 });
  if (dim % 2 !== 0) throw new PosencConfigError("invalid_value", "dim", dim, "an even integer >= 4");
}

/**
 * The NTK-aware base base * scale^(dim / (dim - 2)) for a rotary dimension `dim` (even, >= 4), a base > 1 and
 * an extension factor scale >= 1 (scale = 1 returns base).
 */
export function ntkAwareBase(base: number, scale: number, dim: number): number {
  checkNumber("base", base, { min: 1, exclusiveMin: true });
  checkNumber("scale", scale, { min: 1 });
  checkNtkDim(dim);
  return base * scale ** (dim / (dim - 2));
}

/**
 * theta'_i = ntkAwareBase(base, scale, dim)^(-2i/dim) for i = 0 .. dim/2 - 1: theta'_0 = 1 as in RoPE, and
 * theta'_{dim/2-1} = theta_{dim/2-1} / scale.
 */
export function ntkAwareInverseFrequencies(dim: number, base: number, scale: number): Float64Array {
  return ropeInverseFrequencies(dim, ntkAwareBase(base, scale, dim));
}

const NTK_AWARE_PARAMS = {
  ...ROPE_BASE_PARAMS,
  headDim: { ...ROPE_BASE_PARAMS.headDim, min: 4 },
  factor: {
    type: "number",
    description:
      "Context extension factor s (HF rope_scaling.factor): the base becomes base * s^(d/(d-2)), d = rotary dimension.",
    default: 2,
    min: 1,
  },
} as const satisfies EncodingSpec["params"];

export const ntkAwareSpec = defineRopeVariant({
  id: "ntk-aware",
  name: "NTK-aware scaled RoPE",
  family: "context-extension",
  paper: {
    title:
      "YaRN: Efficient Context Window Extension of Large Language Models (NTK-aware interpolation, Def. 1)",
    arxiv: "2309.00071",
    year: 2023,
  },
  formula:
    "base' = base * s^(d/(d-2)); theta'_i = base'^(-2i/d) (theta_0 unchanged, theta_{d/2-1} divided by s)",
  summary:
    "Raises the RoPE base so the lowest frequency is interpolated by s while the highest is kept, extending the context without fine-tuning.",
  params: NTK_AWARE_PARAMS,
  frequencies(p, dim) {
    if (dim < 4) {
      throw new PosencConfigError(
        "invalid_value",
        "ntk-aware.partialRotaryFactor",
        p.partialRotaryFactor,
        `a factor giving a rotary dimension >= 4 (headDim = ${p.headDim} gives ${dim}; d = 2 makes d/(d-2) infinite)`,
      );
    }
    return { invFreq: ntkAwareInverseFrequencies(dim, p.base, p.factor) };
  },
});
