/**
 * The video HoPE, from "HoPE: Hybrid of Position Embedding for Length Generalization in Vision-Language Models"
 * (Li et al., 2025), arXiv:2505.20444; official code hrlics/HoPE (modeling_hope.py:
 * apply_hybrid_multimodal_rotary_pos_emb, Qwen2VLForConditionalGeneration.get_dynamic_rope_index). Not the
 * hyperbolic HoPE (hope-hyperbolic, another method).
 *
 * Hybrid frequency allocation (HFA), on M-RoPE's section [s_t, s_h, s_w] of the P = d/2 pairs
 * (theta_i = base^(-2i/d)), S = s_h + s_w:
 *   pair i < S   rotates by theta_i * h if i is even, theta_i * w if i is odd   (the highest frequencies)
 *   pair i >= S  does not rotate (cos 1, sin 0): the lowest s_t frequencies carry no position (NoPE), so
 *                semantic similarity does not decay over long videos.
 * The t coordinate never rotates anything: a video's temporal order is carried by its h and w ids, which HoPE
 * offsets by the frame's scaled time (get_dynamic_rope_index, "dynamic temporal scaling", DTS):
 *   token (i, j, l) of frame i, LLM grid T' x H' x W', first id s:
 *     t = s + gamma i,   h = t + j - floor((H' - 1) / 2),   w = t + l - floor((W' - 1) / 2)
 *   and text after a segment continues at 1 + the largest t so far. Training draws gamma per video from
 *   HOPE_TEMPORAL_SCALES; at inference it is chosen (the official code asserts that it is set).
 * `hopeVideoRopeIndex` gives these ids (HF's get_rope_index scan, mrope-index.ts, with HoPE's layout).
 */
import { PosencConfigError } from "../util/validation.js";
import { defineSectionedRope } from "./mrope.js";
import {
  type MropeIndex,
  type MropeIndexInput,
  type MropeVisionLayout,
  mropeRopeIndex,
} from "./mrope-index.js";

/** The temporal scales gamma the official training draws from, one per video. */
export const HOPE_TEMPORAL_SCALES = [0.5, 0.75, 1, 1.25, 1.5] as const;

/** The axis of each pair under HFA: 1 = h, 2 = w (alternating over the first s_h + s_w pairs), -1 = NoPE. */
export function hopePairAxes(section: readonly number[]): Int8Array {
  const pairs = section.reduce((a, b) => a + b, 0);
  const spatial = section[1]! + section[2]!;
  const axes = new Int8Array(pairs).fill(-1);
  for (let i = 0; i < spatial; i++) axes[i] = i % 2 === 0 ? 1 : 2;
  return axes;
}

/** HoPE's id layout of a vision segment at temporal scale gamma (see the file comment). */
export function hopeVisionLayout(temporalScale: number): MropeVisionLayout {
  if (!Number.isFinite(temporalScale) || temporalScale <= 0) {
    throw new PosencConfigError("invalid_value", "temporalScale", temporalScale, "a finite number > 0");
  }
  return {
    nextStartFrom: "t",
    ids(i, j, l, [, H, W], start) {
      const t = start + i * temporalScale;
      return [t, t + j - Math.floor((H - 1) / 2), t + l - Math.floor((W - 1) / 2)];
    },
  };
}

/** The official get_dynamic_rope_index at one temporal scale (for every video of the batch). */
export function hopeVideoRopeIndex(
  input: Omit<MropeIndexInput, "layout" | "tokensPerSecond" | "secondPerGridTs">,
  temporalScale: number,
): MropeIndex {
  return mropeRopeIndex({ ...input, layout: hopeVisionLayout(temporalScale) });
}

export const hopeVideoSpec = defineSectionedRope({
  id: "hope-video",
  name: "HoPE (video, hybrid frequency allocation)",
  paper: {
    title: "HoPE: Hybrid of Position Embedding for Length Generalization in Vision-Language Models",
    arxiv: "2505.20444",
    year: 2025,
  },
  formula:
    "pair i < s_h + s_w rotates by base^(-2i/d) times h (i even) or w (i odd); the lowest s_t pairs are NoPE; video h, w ids offset by gamma * frame",
  summary:
    "Video RoPE whose temporal frequencies are zero (NoPE) and whose h/w ids carry a scaled frame time (dynamic temporal scaling), for long-video generalization.",
  sectionDescription:
    "M-RoPE section [t, h, w] summing to headDim / 2: the lowest t pairs are NoPE, the rest alternate h, w (Qwen2-VL's [16, 24, 24]); [] = [P/4, 3P/8, 3P/8].",
  pairAxes: hopePairAxes,
});
