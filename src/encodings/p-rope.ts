/**
 * p-RoPE, from "Round and Round We Go! What makes Rotary Positional Encodings useful?"
 * (Barbero, Vitvitskyi, Perivolaropoulos, Pascanu, Velickovic, 2024; ICLR 2025), arXiv:2410.06205.
 *
 * RoPE keeps rotating only the highest-frequency fraction p of its frequencies; the lowest (1 - p) fraction gets
 * frequency 0, so those channel pairs are position-free (NoPE) "semantic" channels:
 *   kept = floor(p * d / 2)                      (the paper's `rope_angles = int(rope_percentage * head_dim // 2)`)
 *   theta_i = base^(-2i/d)   for i < kept        (the same exponents as RoPE over the full head dim d)
 *   theta_i = 0              for kept <= i < d/2 (the paper pads the timescale with infinity)
 * p = 1 is RoPE; p = 0 is NoPE. The paper reports 0.25- and 0.75-RoPE matching or beating RoPE on Gemma 2B.
 * Hugging Face's rope_type "proportional" (Gemma) computes the same frequencies (before its extra / factor).
 *
 * The zero frequencies stay in the table (cos = 1, sin = 0): in the half layout the NoPE pairs are channels
 * (i, i + d/2) for i >= kept, not a contiguous tail, so the whole head goes through the rotation kernel.
 */
import { checkNumber, PosencConfigError } from "../util/validation.js";
import { defineRopeVariant, ROPE_BASE_PARAMS } from "./rope.js";
import type { EncodingSpec } from "./types.js";

/** Number of rotated (highest-frequency) pairs: floor(p * dim / 2), as in the paper's reference code. */
export function pRopeRotatedPairs(dim: number, p: number): number {
  checkNumber("dim", dim, { integer: true, min: 0 });
  checkNumber("p", p, { min: 0, max: 1 });
  return Math.floor((p * dim) / 2);
}

/**
 * p-RoPE inverse frequencies for head dim `dim` (floor(dim / 2) values): base^(-2i/dim) for the first
 * floor(p * dim / 2) pairs, 0 for the rest.
 */
export function pRopeInverseFrequencies(dim: number, base: number, p: number): Float64Array {
  if (!Number.isInteger(dim) || dim < 2)
    throw new PosencConfigError("out_of_range", "dim", dim, "an integer >= 2");
  if (!Number.isFinite(base) || base <= 1)
    throw new PosencConfigError("out_of_range", "base", base, "a finite number > 1");
  if (!Number.isFinite(p) || p < 0 || p > 1)
    throw new PosencConfigError("out_of_range", "p", p, "a finite number >= 0 and <= 1");
  const pairs = Math.floor(dim / 2);
  const kept = pRopeRotatedPairs(dim, p);
  const invFreq = new Float64Array(pairs); // zero-filled: the NoPE pairs
  for (let i = 0; i < kept; i++) invFreq[i] = 1 / base ** ((2 * i) / dim);
  return invFreq;
}

const P_ROPE_PARAMS = {
  headDim: ROPE_BASE_PARAMS.headDim,
  base: ROPE_BASE_PARAMS.base,
  p: {
    type: "number",
    description:
      "Fraction of the frequencies kept (the highest ones); the rest become NoPE channels. 1 = RoPE, 0 = NoPE.",
    default: 0.75,
    min: 0,
    max: 1,
  },
  layout: ROPE_BASE_PARAMS.layout,
} as const satisfies EncodingSpec["params"];

export const pRopeSpec = defineRopeVariant({
  id: "p-rope",
  name: "p-RoPE",
  family: "rotary",
  paper: {
    title: "Round and Round We Go! What makes Rotary Positional Encodings useful?",
    arxiv: "2410.06205",
    year: 2024,
  },
  formula:
    "theta_i = base^(-2i/d) for i < floor(p * d / 2), theta_i = 0 otherwise; rotate pair i by m * theta_i",
  summary:
    "RoPE with only the highest-frequency fraction p of its frequencies; the low-frequency channels carry position-free semantics.",
  params: P_ROPE_PARAMS,
  // No partialRotaryFactor: d = headDim (even), and the NoPE pairs are the zero frequencies.
  frequencies: (p, headDim) => ({
    invFreq: pRopeInverseFrequencies(headDim, p.base, p.p),
  }),
});
