/**
 * Converting between the two RoPE channel layouts (see rope.ts for the rotation itself). RoPE: RoFormer (Su et al.,
 * 2021), arXiv:2104.09864, which rotates adjacent pairs; GPT-NeoX's rotate_half pairs channel i with i + r/2.
 *
 *   interleaved (GPT-J, Meta's Llama checkpoints): pair i = channels (2i, 2i + 1)
 *   half        (Hugging Face, GPT-NeoX):          pair i = channels (i, i + r/2),   r = rotary dimension
 *
 * RoPE in one layout is RoPE in the other after permuting each head's channels, so a checkpoint trained with one
 * layout runs with the other once the output rows of its q and k projections are permuted the same way:
 *   half[i] = interleaved[2i],  half[r/2 + i] = interleaved[2i + 1]   (i < r/2; channels >= r stay put)
 * This is the `permute` of Hugging Face's convert_llama_weights_to_hf.py (Meta -> HF), which reshapes each head's
 * rows to [r/2, 2], transposes to [2, r/2] and flattens. Attention scores are unchanged because the same
 * permutation is applied to q and k and a permutation preserves dot products.
 */
import { PosencConfigError } from "../util/validation.js";
import { ROPE_LAYOUTS, type RopeLayout } from "./rope.js";

function checkLayout(key: string, value: unknown): RopeLayout {
  if (value !== "half" && value !== "interleaved") {
    throw new PosencConfigError(
      "invalid_value",
      key,
      value,
      `one of ${ROPE_LAYOUTS.map((l) => `"${l}"`).join(", ")}`,
    );
  }
  return value;
}

function checkDims(headDim: number, rotaryDim: number): void {
  if (!Number.isInteger(headDim) || headDim < 1) {
    throw new PosencConfigError("invalid_value", "headDim", headDim, "an integer >= 1");
  }
  if (!Number.isInteger(rotaryDim) || rotaryDim < 0 || rotaryDim % 2 !== 0 || rotaryDim > headDim) {
    throw new PosencConfigError(
      "invalid_value",
      "rotaryDim",
      rotaryDim,
      `an even integer in [0, headDim = ${headDim}]`,
    );
  }
}

/**
 * Gather permutation of one head's channels: channel j of the `to` layout is channel perm[j] of the `from`
 * layout (out[j] = in[perm[j]]). Channels at or past rotaryDim map to themselves.
 */
export function ropeLayoutPermutation(
  headDim: number,
  rotaryDim: number,
  from: RopeLayout,
  to: RopeLayout,
): Int32Array {
  checkDims(headDim, rotaryDim);
  checkLayout("from", from);
  checkLayout("to", to);
  const perm = new Int32Array(headDim);
  for (let j = 0; j < headDim; j++) perm[j] = j;
  if (from === to) return perm;
  const half = rotaryDim / 2;
  for (let i = 0; i < half; i++) {
    if (from === "interleaved") {
      // to half: half[i] <- interleaved[2i], half[half + i] <- interleaved[2i + 1]
      perm[i] = 2 * i;
      perm[half + i] = 2 * i + 1;
    } else {
      // to interleaved: interleaved[2i] <- half[i], interleaved[2i + 1] <- half[half + i]
      perm[2 * i] = i;
      perm[2 * i + 1] = half + i;
    }
  }
  return perm;
}

export interface RopeWeightLayoutOptions {
  numHeads: number;
  headDim: number;
  /** Default headDim. */
  rotaryDim?: number;
  /** Columns of the weight (the model width for a q/k projection). */
  inFeatures: number;
  from: RopeLayout;
  to: RopeLayout;
}

/**
 * Permutes the output rows of a q or k projection weight, row-major [numHeads * headDim, inFeatures]
 * (PyTorch nn.Linear layout), from one RoPE layout to the other, head by head. Returns a new array.
 * A bias vector [numHeads * headDim] converts with `inFeatures: 1`.
 */
export function convertRopeLayoutWeights(
  weights: Float32Array,
  options: RopeWeightLayoutOptions,
): Float32Array {
  const { numHeads, headDim, inFeatures } = options;
  const rotaryDim = options.rotaryDim ?? headDim;
  if (!Number.isInteger(numHeads) || numHeads < 1) {
    throw new PosencConfigError("invalid_value", "numHeads", numHeads, "an integer >= 1");
  }
  if (!Number.isInteger(inFeatures) || inFeatures < 1) {
    throw new PosencConfigError("invalid_value", "inFeatures", inFeatures, "an integer >= 1");
  }
  const perm = ropeLayoutPermutation(headDim, rotaryDim, options.from, options.to);
  const expected = numHeads * headDim * inFeatures;
  if (weights.length !== expected) {
    throw new RangeError(
      `weights.length must be numHeads * headDim * inFeatures = ${numHeads} * ${headDim} * ${inFeatures} = ${expected}, received ${weights.length}`,
    );
  }
  const out = new Float32Array(expected);
  for (let h = 0; h < numHeads; h++) {
    for (let j = 0; j < headDim; j++) {
      const src = (h * headDim + perm[j]) * inFeatures;
      out.set(weights.subarray(src, src + inFeatures), (h * headDim + j) * inFeatures);
    }
  }
  return out;
}

/**
 * Permutes activations [..., headDim] (any number of leading rows, e.g. [seq, numHeads, headDim]) from one
 * layout to the other. Returns a new array.
 */
export function convertRopeLayoutVector(
  x: Float32Array,
  options: { headDim: number; rotaryDim?: number; from: RopeLayout; to: RopeLayout },
): Float32Array {
  const { headDim } = options;
  const perm = ropeLayoutPermutation(headDim, options.rotaryDim ?? headDim, options.from, options.to);
  if (x.length % headDim !== 0) {
    throw new RangeError(`x.length must be a multiple of headDim = ${headDim}, received ${x.length}`);
  }
  const out = new Float32Array(x.length);
  for (let base = 0; base < x.length; base += headDim) {
    for (let j = 0; j < headDim; j++) out[base + j] = x[base + perm[j]];
  }
  return out;
}
