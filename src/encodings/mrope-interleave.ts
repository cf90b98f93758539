/**
 * MRoPE-Interleave (MRoPE-I), from "Revisiting Multimodal Positional Encoding in Vision-Language Models"
 * (Huang et al., 2025), arXiv:2510.23095; official code JJJYmmm/Multimodal-RoPEs
 * (multimodal_ropes/freq_allocation/mrope_i.py, MRopeInterleaveEmbedding.apply_transformation). Qwen3-VL uses the
 * same allocation (its config's `mrope_interleaved: true`).
 *
 * M-RoPE (mrope.ts) gives each of t, h, w a contiguous block of the P frequency pairs, so the width axis only ever
 * sees the lowest frequencies. MRoPE-I interleaves them instead, so every axis spans the whole frequency range:
 * with section [s_t, s_h, s_w] (s_t + s_h + s_w = P; default [24, 20, 20] of 64),
 *   pair i rotates by theta_i * h   if i mod 3 = 1 and i < 3 s_h
 *                     theta_i * w   if i mod 3 = 2 and i < 3 s_w
 *                     theta_i * t   otherwise
 * i.e. [t h w t h w ... t t] (theta_i = base^(-2i/d), the same in both rotate_half halves). On text (t = h = w)
 * it is RoPE. Position ids are M-RoPE's (t, h, w): mrope-index.ts.
 */

import { defineSectionedRope } from "./mrope.js";

/** The axis (0 = t, 1 = h, 2 = w) of each of the P pairs under the interleaved allocation. */
export function mropeInterleavePairAxes(section: readonly number[]): Int8Array {
  const pairs = section.reduce((a, b) => a + b, 0);
  const axes = new Int8Array(pairs); // t everywhere, then h and w overwrite their residues
  for (const axis of [1, 2]) {
    const end = Math.min(pairs, 3 * section[axis]!);
    for (let i = axis; i < end; i += 3) axes[i] = axis;
  }
  return axes;
}

export const mropeInterleaveSpec = defineSectionedRope({
  id: "mrope-interleave",
  name: "MRoPE-Interleave",
  paper: {
    title: "Revisiting Multimodal Positional Encoding in Vision-Language Models",
    arxiv: "2510.23095",
    year: 2025,
  },
  formula:
    "pair i rotates by base^(-2i/d) times h (i mod 3 = 1, i < 3 s_h), w (i mod 3 = 2, i < 3 s_w), else t",
  summary:
    "M-RoPE with the (t, h, w) frequencies interleaved instead of in blocks, so each axis spans the full frequency range (Qwen3-VL's allocation).",
  sectionDescription:
    "Frequency pairs per axis [t, h, w], summing to headDim / 2 (the official default [24, 20, 20] for 64 pairs); [] = [P/4, 3P/8, 3P/8].",
  pairAxes: mropeInterleavePairAxes,
});
