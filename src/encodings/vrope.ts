/**
 * VRoPE, from "VRoPE: Rotary Position Embedding for Video Large Language Models" (Liu et al., 2025),
 * arXiv:2502.11664; official code johncaged/VRoPE (vrope.py, VRoPE.generate_nd_positions / generate_1d_positions;
 * the released code forces half_time_dim = 0, so no channel is reserved for time).
 *
 * Each token carries four position ids c_0..c_3; pair k of the P = d/2 pairs rotates by theta_k * c_{k mod 4}
 * (theta_k = base^(-2k/d)). Text tokens: c_0 = c_1 = c_2 = c_3 = p, p counting on from the current index (RoPE).
 * A video of T frames of H x W tokens (an image: T = 1), starting at index s: token (i, j, l) gets the four
 * symmetric diagonal sums of its row and column and their flips,
 *   c = (j + l,  j + (W-1-l),  (H-1-j) + l,  (H-1-j) + (W-1-l))  +  s + i (H + W - 1)
 * so every frame spans H + W - 1 indices and the positions nearest the following text are balanced among the four
 * corners (no spatial attention bias); the index then continues at s + T (H + W - 1).
 * The lab's position ids are [B, T, 4]: `vropePositionIds` builds them for a sequence of text and grids.
 */
import { PosencConfigError } from "../util/validation.js";
import { multiAxisRotaryEncoding, multiAxisRotaryTrainable, pairAllocatedForm } from "./multi-axis-rotary.js";
import { ROPE_BASE_PARAMS, rotaryModelParams } from "./rope.js";
import { defineEncoding, resolveParams } from "./types.js";

/** A part of a VRoPE sequence: text tokens, or a grid of T frames x H x W tokens (an image is T = 1). */
export type VropeSegment =
  | { kind: "text"; length: number }
  | { kind: "grid"; t: number; h: number; w: number };

/** Row-major [L, 4] ids of a sequence (see the file comment), starting at `start` (VRoPE's current_index). */
export function vropePositionIds(segments: readonly VropeSegment[], start = 0): Float64Array {
  let total = 0;
  segments.forEach((s, n) => {
    const sizes = s.kind === "text" ? [s.length] : [s.t, s.h, s.w];
    const min = s.kind === "text" ? 0 : 1;
    if (!sizes.every((v) => Number.isSafeInteger(v) && v >= min)) {
      throw new PosencConfigError("invalid_value", `segments[${n}]`, s, `integer sizes >= ${min}`);
    }
    total += s.kind === "text" ? s.length : s.t * s.h * s.w;
  });
  const out = new Float64Array(total * 4);
  let index = start;
  let token = 0;
  for (const s of segments) {
    if (s.kind === "text") {
      for (let n = 0; n < s.length; n++) out.fill(index + n, 4 * token, 4 * ++token);
      index += s.length;
      continue;
    }
    const span = s.h + s.w - 1;
    for (let i = 0; i < s.t; i++) {
      for (let j = 0; j < s.h; j++) {
        for (let l = 0; l < s.w; l++) {
          const base = index + i * span;
          const flipJ = s.h - 1 - j;
          const flipL = s.w - 1 - l;
          out.set([base + j + l, base + j + flipL, base + flipJ + l, base + flipJ + flipL], 4 * token++);
        }
      }
    }
    index += s.t * span;
  }
  return out;
}

const PARAMS = {
  headDim: ROPE_BASE_PARAMS.headDim,
  base: ROPE_BASE_PARAMS.base,
  layout: ROPE_BASE_PARAMS.layout,
} as const;

/** Pair k reads coordinate k mod 4. */
const vropeForm = (p: { headDim: number; base: number; layout: "half" | "interleaved" }) =>
  pairAllocatedForm(
    p,
    Int8Array.from({ length: p.headDim / 2 }, (_, k) => k % 4),
    4,
  );

export const vropeSpec = defineEncoding({
  id: "vrope",
  name: "VRoPE (video RoPE)",
  family: "rotary",
  paper: {
    title: "VRoPE: Rotary Position Embedding for Video Large Language Models",
    arxiv: "2502.11664",
    year: 2025,
  },
  formula:
    "pair k rotates by base^(-2k/d) times c_{k mod 4}: text c = (p, p, p, p); video c = the 4 sums of (row or flipped row) and (column or flipped column) + frame * (H + W - 1)",
  summary:
    "Video RoPE over four symmetric diagonal indices per token, which removes MRoPE's spatial attention bias and keeps video-to-text positions continuous.",
  slots: ["transformQK"],
  params: PARAMS,
  positionCoordinates: 4,
  modelParams: rotaryModelParams,
  create(params, path = "vrope") {
    const p = resolveParams(path, PARAMS, params);
    if (p.headDim % 2 !== 0) {
      throw new PosencConfigError("invalid_value", `${path}.headDim`, p.headDim, "an even integer >= 2");
    }
    return multiAxisRotaryEncoding("vrope", p, vropeForm(p), p.headDim);
  },
  trainable(p, dims, _rng, path = "vrope") {
    if (p.headDim % 2 !== 0) {
      throw new PosencConfigError("invalid_value", `${path}.headDim`, p.headDim, "an even integer >= 2");
    }
    return multiAxisRotaryTrainable("vrope", vropeForm(p), dims, p.headDim, path);
  },
});
