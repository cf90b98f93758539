/**
 * RoPE with Adjusted Base Frequency (ABF), from "Effective Long-Context Scaling of Foundation Models" (Xiong et al.,
 * 2023; Llama 2 Long), arXiv:2309.16039.
 *
 * ABF is plain RoPE with a larger base, nothing more:
 *   theta_i = base^(-2i/d),   base = 500,000 instead of 10,000   (i = 0 .. d/2 - 1)
 * followed, in the paper, by continual pretraining on long sequences (the paper always pairs the base change
 * with that training). A larger base lowers every frequency but the first (theta_0 = 1 always), which slows
 * RoPE's long-term decay of attention between distant tokens; the paper's appendix B shows that the spacing of
 * the rotated embeddings depends logarithmically on the base, where Position Interpolation shrinks it linearly.
 * This file exists so that "abf" is a named, documented baseline; the math is `ropeInverseFrequencies`.
 */
import { checkNumber, PosencConfigError } from "../util/validation.js";
import { defineRopeVariant, ROPE_BASE_PARAMS, ropeInverseFrequencies } from "./rope.js";
import type { EncodingSpec } from "./types.js";

/** The base Llama 2 Long uses (the original Llama 2 uses 10,000). */
export const ABF_LLAMA2_LONG_BASE = 500000;

/** RoPE's inverse frequencies newBase^(-2i/dim), i = 0 .. dim/2 - 1: ABF is exactly a base change. */
export function abfInverseFrequencies(dim: number, newBase: number = ABF_LLAMA2_LONG_BASE): Float64Array {
  checkNumber("dim", dim, { integer: true, min: 2 });
  if (dim % 2 !== 0) throw new PosencConfigError("invalid_value", "dim", dim, "an even integer >= 2");
  checkNumber("newBase", newBase, { min: 1, exclusiveMin: true });
  return ropeInverseFrequencies(dim, newBase);
}

const ABF_PARAMS = {
  ...ROPE_BASE_PARAMS,
  base: {
    ...ROPE_BASE_PARAMS.base,
    description: "The adjusted RoPE base b in theta_i = b^(-2i/d) (Llama 2 Long: 500000, up from 10000).",
    default: ABF_LLAMA2_LONG_BASE,
  },
} as const satisfies EncodingSpec["params"];

export const abfSpec = defineRopeVariant({
  id: "abf",
  name: "RoPE ABF (adjusted base frequency)",
  family: "context-extension",
  paper: {
    title: "Effective Long-Context Scaling of Foundation Models",
    arxiv: "2309.16039",
    year: 2023,
  },
  formula:
    "theta_i = b^(-2i/d) with b = 500000 (RoPE with a larger base; the paper then continues pretraining)",
  summary:
    "Plain RoPE with its base raised from 10,000 to 500,000, which slows the decay of attention with distance before long-context continual pretraining.",
  params: ABF_PARAMS,
  frequencies: (p, dim) => ({ invFreq: abfInverseFrequencies(dim, p.base) }),
});
