/**
 * Position Interpolation (linear RoPE scaling), from "Extending Context Window of Large Language Models via
 * Positional Interpolation" (Chen, Wong, Chen, Tian, 2023), arXiv:2306.15595. First posted by /u/kaiokendev.
 *
 * To run a model trained on L positions at s * L positions, positions are squeezed back into the trained range:
 *   f'(x, m) = f(x, m / s)          (s = factor >= 1)
 * For RoPE the angle is m * theta_i, so dividing the position equals dividing every frequency:
 *   theta'_i = theta_i / s = base^(-2i/d) / s,   i = 0 .. d/2 - 1
 * which is how Hugging Face implements rope_type "linear" (inv_freq /= factor). The attention factor is 1.
 */
import { checkNumber, PosencConfigError } from "../util/validation.js";
import { defineRopeVariant, ROPE_BASE_PARAMS, ropeInverseFrequencies } from "./rope.js";
import { type RopeCommon, type RopeTypeEntry, readFactor } from "./rope-config-types.js";
import type { EncodingSpec } from "./types.js";

export interface LinearScalingOptions {
  /** Rotary dimension d (even, >= 2): the number of rotated channels per head. */
  dim: number;
  /** RoPE base (rope_theta), > 0. */
  base: number;
  /** Position-interpolation factor s, > 0 (>= 1 to extend the context). */
  factor: number;
}

/** theta_i / factor for i = 0 .. dim/2 - 1 (Position Interpolation expressed on the frequencies). */
export function linearScaledInverseFrequencies(options: LinearScalingOptions): Float64Array {
  const { dim, base, factor } = options;
  checkEvenDim(dim);
  checkNumber("base", base, { min: 0, exclusiveMin: true });
  checkNumber("factor", factor, { min: 0, exclusiveMin: true });
  const invFreq = ropeInverseFrequencies(dim, base);
  for (let i = 0; i < invFreq.length; i++) invFreq[i] /= factor;
  return invFreq;
}

function checkEvenDim(dim: number): void {
  checkNumber("dim", dim, { integer: true, min: 2 });
  if (dim % 2 !== 0) throw new PosencConfigError("invalid_value", "dim", dim, "an even integer >= 2");
}

/** Hugging Face rope_type "linear": {factor}. */
export interface LinearRopeConfig extends RopeCommon {
  ropeType: "linear";
  factor: number;
}

/** HF rope_type "linear" (`_compute_linear_scaling_rope_parameters`): theta_i / factor, attention factor 1. */
export const linearRopeType: RopeTypeEntry<LinearRopeConfig> = {
  keys: ["factor"],
  read: (at) => ({ ropeType: "linear", dim: at.dim, base: at.base, factor: readFactor(at) }),
  compute: (resolved) => ({ invFreq: linearScaledInverseFrequencies(resolved), attentionFactor: 1 }),
};

const ROPE_LINEAR_PARAMS = {
  ...ROPE_BASE_PARAMS,
  factor: {
    type: "number",
    description: "Interpolation factor s: positions are divided by s (HF rope_scaling.factor).",
    default: 2,
    min: 0,
    exclusiveMin: true,
  },
} as const satisfies EncodingSpec["params"];

export const ropeLinearSpec = defineRopeVariant({
  id: "rope-linear",
  name: "RoPE + Position Interpolation (linear scaling)",
  family: "context-extension",
  paper: {
    title: "Extending Context Window of Large Language Models via Positional Interpolation",
    arxiv: "2306.15595",
    year: 2023,
  },
  formula: "theta'_i = base^(-2i/d) / s  (equivalently, rotate by (m / s) * theta_i)",
  summary:
    "Divides every RoPE frequency by the extension factor so positions up to s * L map into the trained range [0, L).",
  params: ROPE_LINEAR_PARAMS,
  frequencies: (p, dim) => ({
    invFreq: linearScaledInverseFrequencies({ dim, base: p.base, factor: p.factor }),
  }),
});
