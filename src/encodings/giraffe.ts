/**
 * The power-scaled and the truncated RoPE bases of "Giraffe: Adventures in Expanding Context Lengths in LLMs"
 * (Pal, Karkhanis, Roberts, Dooley, Sundararajan, Naidu, 2023), arXiv:2308.10882. Formulas checked
 * against the official code, abacusai/Long-Context python/models/interpolate.py (`ScaledLlamaRotaryEmbedding`).
 *
 * Power scaling: low frequencies are stretched more than high ones,
 *   theta'_i = theta_i * (1 - 2i/d)^k,   theta_i = base^(-2i/d),  i = 0 .. d/2 - 1
 * (code: `freq *= (1 - arange(d/2) / (d/2)) ** scale_power`), so theta'_0 = theta_0 = 1 and the lowest pair is
 * multiplied by (2/d)^k. The repository reports k = 0.5.
 *
 * Truncated basis: keep only frequencies fast enough to complete a full cycle within the trained length; set the
 * slower ones to one small constant rho or to 0 (no rotation: that pair is equally visible at every distance),
 *   theta'_i = theta_i   if theta_i >= b
 *            = rho       if a <= theta_i < b
 *            = 0         if theta_i < a
 * The code (`truncate_frequency(f, t, low, z)`) derives all three from a length T in tokens:
 *   b = 2 pi / T,   a = b / 8,   rho = 2 pi / (16 T) = b / 16
 * and its inequalities (f < t replaced, f < t/z zeroed) fix the boundary cases used here. The paper's scale
 * evaluation and randomised positions are not part of this file (linear scaling is rope-linear).
 */
import { checkNumber, PosencConfigError } from "../util/validation.js";
import { defineRopeVariant, ROPE_BASE_PARAMS, ropeInverseFrequencies } from "./rope.js";
import type { EncodingSpec } from "./types.js";

function checkRotaryDim(dim: number): void {
  checkNumber("dim", dim, { integer: true, min: 2 });
  if (dim % 2 !== 0) throw new PosencConfigError("invalid_value", "dim", dim, "an even integer >= 2");
}

/** theta_i * (1 - 2i/dim)^power for i = 0 .. dim/2 - 1 (power >= 0; power = 0 is RoPE). */
export function giraffePowerInverseFrequencies(dim: number, base: number, power: number): Float64Array {
  checkRotaryDim(dim);
  checkNumber("base", base, { min: 1, exclusiveMin: true });
  checkNumber("power", power, { min: 0 });
  const invFreq = ropeInverseFrequencies(dim, base);
  for (let i = 0; i < invFreq.length; i++) invFreq[i] *= (1 - (2 * i) / dim) ** power;
  return invFreq;
}

/** Thresholds of the truncated basis, in radians per token. */
export interface GiraffeTruncation {
  /** Frequencies >= b are kept. */
  b: number;
  /** Frequencies in [a, b) become rho; frequencies < a become 0. 0 <= a <= b. */
  a: number;
  /** The constant that replaces frequencies in [a, b). */
  rho: number;
}

/**
 * The official code's thresholds for a truncation length of T tokens: b = 2 pi / T (a pair is kept when its
 * wavelength 2 pi / theta is at most T), a = b / 8, rho = 2 pi / (16 T).
 */
export function giraffeTruncationThresholds(truncateLength: number): GiraffeTruncation {
  checkNumber("truncateLength", truncateLength, { min: 0, exclusiveMin: true });
  const b = (2 * Math.PI) / truncateLength;
  return { b, a: b / 8, rho: (2 * Math.PI) / (16 * truncateLength) };
}

/** Applies the truncation rule to RoPE's frequencies base^(-2i/dim), i = 0 .. dim/2 - 1. */
export function giraffeTruncatedInverseFrequencies(
  dim: number,
  base: number,
  truncation: GiraffeTruncation,
): Float64Array {
  checkRotaryDim(dim);
  checkNumber("base", base, { min: 1, exclusiveMin: true });
  const b = checkNumber("truncation.b", truncation.b, { min: 0, exclusiveMin: true });
  const a = checkNumber("truncation.a", truncation.a, { min: 0, max: b });
  const rho = checkNumber("truncation.rho", truncation.rho, { min: 0 });
  const invFreq = ropeInverseFrequencies(dim, base);
  for (let i = 0; i < invFreq.length; i++) {
    const theta = invFreq[i];
    if (theta < a) invFreq[i] = 0;
    else if (theta < b) invFreq[i] = rho;
  }
  return invFreq;
}

const GIRAFFE_POWER_PARAMS = {
  ...ROPE_BASE_PARAMS,
  power: {
    type: "number",
    description: "Exponent k in theta'_i = theta_i * (1 - 2i/d)^k (the Giraffe repository reports k = 0.5).",
    default: 0.5,
    min: 0,
  },
} as const satisfies EncodingSpec["params"];

const GIRAFFE_TRUNCATED_PARAMS = {
  ...ROPE_BASE_PARAMS,
  truncateLength: {
    type: "number",
    description:
      "Length T in tokens: pairs with wavelength <= T are kept, b = 2 pi/T, a = b/8, rho = 2 pi/(16 T) (official code).",
    default: 2048,
    min: 0,
    exclusiveMin: true,
  },
} as const satisfies EncodingSpec["params"];

const GIRAFFE_PAPER = {
  title: "Giraffe: Adventures in Expanding Context Lengths in LLMs",
  arxiv: "2308.10882",
  year: 2023,
} as const;

export const giraffePowerSpec = defineRopeVariant({
  id: "giraffe-power",
  name: "Giraffe power-scaled RoPE basis",
  family: "context-extension",
  paper: GIRAFFE_PAPER,
  formula: "theta'_i = base^(-2i/d) * (1 - 2i/d)^k",
  summary:
    "Shrinks each RoPE frequency by (1 - 2i/d)^k, stretching the low frequencies most while the highest stays at one radian per token.",
  params: GIRAFFE_POWER_PARAMS,
  frequencies: (p, dim) => ({
    invFreq: giraffePowerInverseFrequencies(dim, p.base, p.power),
  }),
});

export const giraffeTruncatedSpec = defineRopeVariant({
  id: "giraffe-truncated",
  name: "Giraffe truncated RoPE basis",
  family: "context-extension",
  paper: GIRAFFE_PAPER,
  formula:
    "theta'_i = theta_i if theta_i >= b; rho if a <= theta_i < b; 0 if theta_i < a (b = 2 pi/T, a = b/8, rho = b/16)",
  summary:
    "Keeps the RoPE frequencies that complete a cycle within T tokens, replaces slower ones by one small constant or by 0 (no rotation).",
  params: GIRAFFE_TRUNCATED_PARAMS,
  frequencies: (p, dim) => ({
    invFreq: giraffeTruncatedInverseFrequencies(dim, p.base, giraffeTruncationThresholds(p.truncateLength)),
  }),
});
