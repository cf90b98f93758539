/**
 * M-RoPE, from "Qwen2-VL: Enhancing Vision-Language Model's Perception of the World at Any Resolution"
 * (Wang et al., 2024), arXiv:2409.12191, with the semantics of Hugging Face transformers'
 * `apply_multimodal_rotary_pos_emb` (models/qwen2_vl/modeling_qwen2_vl.py).
 *
 * Each token has three position ids (t, h, w) (text tokens: the same id three times, so M-RoPE is RoPE on text).
 * The P = d/2 rotary frequency pairs theta_i = base^(-2i/d) are split into three contiguous sections
 * mrope_section = [s_t, s_h, s_w], s_t + s_h + s_w = P (Qwen2-VL-7B: [16, 24, 24] of 64):
 *   pair i rotates by  theta_i * t   for i < s_t
 *                      theta_i * h   for s_t <= i < s_t + s_h
 *                      theta_i * w   for s_t + s_h <= i < P
 * HF builds cos/sin over the whole head (cat(freqs, freqs), d channels) and splits it into mrope_section * 2 =
 * [s_t, s_h, s_w, s_t, s_h, s_w] chunks, chunk j taking the row of axis j mod 3: in the rotate_half layout
 * channels i and i + P are one pair, so both halves pick the same axis for pair i, which is the rule above.
 * (Temporal pairs are the highest frequencies, width the lowest.)
 *
 * This file: the section allocation, the cos/sin tables, the framework-free rotation and the `mrope` spec. The ids
 * of a multimodal sequence (HF's get_rope_index) are in mrope-index.ts; the config's `mrope_section` is read by
 * rope-config.ts.
 */
import { PosencConfigError } from "../util/validation.js";
import {
  axisAllocatedTables,
  multiAxisRotaryEncoding,
  multiAxisRotaryTrainable,
  multiAxisTokens,
  pairAllocatedForm,
  rotateHeads,
} from "./multi-axis-rotary.js";
import { ROPE_BASE_PARAMS, rotaryModelParams } from "./rope.js";
import type { RopeLayout } from "./rope-kernel.js";
import { defineEncoding, type EncodingSpec, type RotaryTables, resolveParams } from "./types.js";

/** The three axes of M-RoPE position ids, in HF's order. */
export const MROPE_AXES = ["t", "h", "w"] as const;

/**
 * Checks a section list against P pairs: three integers >= 0 summing to P (HF's torch.split fails otherwise).
 * Errors name `key`.
 */
export function checkMropeSection(key: string, section: unknown, pairs: number): [number, number, number] {
  const valid = `three integers >= 0 for (t, h, w) summing to the rotary dim / 2 = ${pairs} (Qwen2-VL-7B: [16, 24, 24] for head_dim 128)`;
  if (!Array.isArray(section) || section.length !== 3) {
    throw new PosencConfigError("invalid_value", key, section, valid);
  }
  if (!section.every((s) => typeof s === "number" && Number.isInteger(s) && s >= 0)) {
    throw new PosencConfigError("invalid_value", key, section, valid);
  }
  const sum = section[0] + section[1] + section[2];
  if (sum !== pairs) {
    throw new PosencConfigError("invalid_value", key, section, `${valid}; these sum to ${sum}`);
  }
  return [section[0], section[1], section[2]];
}

/**
 * The default section for P pairs, in Qwen2-VL's proportions 1/4, 3/8, 3/8: t = floor(P / 4),
 * h = ceil((P - t) / 2), w = the rest ([16, 24, 24] for P = 64, [2, 3, 3] for P = 8).
 */
export function defaultMropeSection(pairs: number): [number, number, number] {
  const t = Math.floor(pairs / 4);
  const h = Math.ceil((pairs - t) / 2);
  return [t, h, pairs - t - h];
}

/** The axis (0 = t, 1 = h, 2 = w) of each of the P pairs: contiguous sections in t, h, w order. */
export function mropePairAxes(section: readonly number[]): Int8Array {
  const pairs = section.reduce((a, b) => a + b, 0);
  const axes = new Int8Array(pairs);
  let i = 0;
  section.forEach((size, axis) => {
    axes.fill(axis, i, i + size);
    i += size;
  });
  return axes;
}

/**
 * cos/sin [T, P] of M-RoPE for ids row-major [T, 3] (t, h, w): angle(t, i) = invFreq[i] * ids[t, axis(i)],
 * multiplied by attentionFactor (HF's attention_scaling, 1 for the default rope type). The rotate_half table of HF
 * (T x d, after the section merge) is this table twice along the channels.
 */
export function mropeCosSinTable(
  invFreq: ArrayLike<number>,
  section: readonly number[],
  ids: ArrayLike<number>,
  attentionFactor = 1,
): RotaryTables {
  const axes = mropePairAxes(checkMropeSection("mropeSection", [...section], invFreq.length));
  multiAxisTokens("mrope", ids, 3);
  return axisAllocatedTables(invFreq, axes, ids, 3, { attentionFactor });
}

/** Options of applyMrope. */
export interface ApplyMropeOptions {
  numHeads: number;
  headDim: number;
  /** Default "half" (HF). */
  layout?: RopeLayout;
}

/**
 * Rotates x [T, H, Dh] in place with M-RoPE tables (from mropeCosSinTable): HF's q * cos + rotate_half(q) * sin
 * over the first 2P channels of each head.
 */
export function applyMrope(x: Float32Array, tables: RotaryTables, options: ApplyMropeOptions): void {
  const { numHeads, headDim } = options;
  const T = x.length / (numHeads * headDim);
  if (!Number.isInteger(T)) {
    throw new RangeError(`applyMrope: x.length ${x.length} is not a multiple of numHeads * headDim`);
  }
  const pairs = T === 0 ? 0 : tables.cos.length / T;
  rotateHeads(x, () => tables, { numHeads, headDim, pairs, layout: options.layout ?? "half" });
}

/** The parameters of the section-allocated methods (mrope, mrope-interleave, hope-video). */
function sectionedParams(sectionDescription: string) {
  return {
    headDim: ROPE_BASE_PARAMS.headDim,
    base: {
      ...ROPE_BASE_PARAMS.base,
      description: "Frequency base b (HF rope_theta; Qwen2-VL uses 1000000).",
    },
    mropeSection: { type: "number[]", description: sectionDescription, default: [] as number[] },
    layout: ROPE_BASE_PARAMS.layout,
  } as const;
}

/** The validated section of an mrope-family spec: the given one, or the default for headDim / 2 pairs. */
export function resolveMropeSection(path: string, section: readonly number[], headDim: number) {
  if (headDim % 2 !== 0) {
    throw new PosencConfigError("invalid_value", `${path}.headDim`, headDim, "an even integer >= 2");
  }
  const pairs = headDim / 2;
  return section.length === 0
    ? defaultMropeSection(pairs)
    : checkMropeSection(`${path}.mropeSection`, section, pairs);
}

/** A method that allocates the pairs among (t, h, w) by an M-RoPE section: only the allocation differs. */
export interface SectionedRopeDefinition
  extends Pick<EncodingSpec, "id" | "name" | "paper" | "formula" | "summary"> {
  /** What `mropeSection` means for this method (docs and `posenc list`). */
  sectionDescription: string;
  /** The axis of each pair (0 = t, 1 = h, 2 = w, -1 = no rotation) for a section summing to P. */
  pairAxes(section: readonly number[]): Int8Array;
}

/** The spec of a section-allocated method on ids [B, T, 3]: framework-free and trainable forms from one form. */
export function defineSectionedRope(definition: SectionedRopeDefinition) {
  const { sectionDescription, pairAxes, ...descriptive } = definition;
  const id = descriptive.id;
  const params = sectionedParams(sectionDescription);
  return defineEncoding({
    ...descriptive,
    family: "rotary",
    slots: ["transformQK"],
    params,
    positionCoordinates: 3,
    modelParams: rotaryModelParams,
    create(values, path = id) {
      const p = resolveParams(path, params, values);
      const section = resolveMropeSection(path, p.mropeSection, p.headDim);
      const form = pairAllocatedForm(p, pairAxes(section), 3);
      return multiAxisRotaryEncoding(id, { ...p, mropeSection: section }, form, p.headDim);
    },
    trainable(p, dims, _rng, path = id) {
      const section = resolveMropeSection(path, p.mropeSection, p.headDim);
      return multiAxisRotaryTrainable(id, pairAllocatedForm(p, pairAxes(section), 3), dims, p.headDim, path);
    },
  });
}

export const mropeSpec = defineSectionedRope({
  id: "mrope",
  name: "M-RoPE (Qwen2-VL)",
  paper: {
    title: "Qwen2-VL: Enhancing Vision-Language Model's Perception of the World at Any Resolution",
    arxiv: "2409.12191",
    year: 2024,
  },
  formula:
    "pair i rotates by base^(-2i/d) times t, h or w: contiguous sections [s_t, s_h, s_w] of the d/2 pairs (HF mrope_section)",
  summary:
    "Multimodal RoPE with position ids (t, h, w): each axis rotates its own contiguous block of frequencies; on text (t = h = w) it is RoPE.",
  sectionDescription:
    "Frequency pairs per axis [t, h, w], summing to headDim / 2 (HF mrope_section); [] = Qwen2-VL's proportions [P/4, 3P/8, 3P/8].",
  pairAxes: mropePairAxes,
});
