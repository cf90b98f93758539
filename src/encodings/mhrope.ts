/**
 * MHRoPE (Multi-Head RoPE), from "Revisiting Multimodal Positional Encoding in Vision-Language Models"
 * (Huang et al., 2025), arXiv:2510.23095; official code JJJYmmm/Multimodal-RoPEs
 * (multimodal_ropes/freq_allocation/mhrope.py, MHRopeEmbedding.apply_transformation; config default [2, 3, 3] of
 * 8 key/value heads).
 *
 * Instead of splitting the frequencies of every head among (t, h, w) (M-RoPE), MHRoPE gives whole heads to an
 * axis, each with all P frequencies theta_i = base^(-2i/d): with section [n_t, n_h, n_w] (head counts,
 * n_t + n_h + n_w <= H),
 *   head j rotates pair i by theta_i * t   for j < n_t
 *                            theta_i * h   for n_t <= j < n_t + n_h
 *                            theta_i * w   for n_t + n_h <= j < n_t + n_h + n_w
 *                            0 (no rotation: NoPE)  for the remaining heads
 * The official code allocates key/value heads (with grouped-query attention, query head j uses key/value head
 * floor(j / (H / H_kv))); the models here have H_kv = H. On text (t = h = w) every allocated head is RoPE.
 */
import { PosencConfigError } from "../util/validation.js";
import { defaultMropeSection } from "./mrope.js";
import {
  axisAllocatedTables,
  type MultiAxisRotaryForm,
  multiAxisRotaryEncoding,
  multiAxisRotaryTrainable,
} from "./multi-axis-rotary.js";
import { ROPE_BASE_PARAMS, ropeInverseFrequencies } from "./rope.js";
import type { RopeLayout } from "./rope-kernel.js";
import { defineEncoding, type RotaryTables, resolveParams } from "./types.js";

/** The axis of each head: 0 = t, 1 = h, 2 = w, -1 = none (NoPE), from head counts [n_t, n_h, n_w]. */
export function mhropeHeadAxes(section: readonly number[], numHeads: number): Int8Array {
  const axes = new Int8Array(numHeads).fill(-1);
  let j = 0;
  section.forEach((count, axis) => {
    axes.fill(axis, j, j + count);
    j += count;
  });
  return axes;
}

/** The section for H heads: the given head counts (integers >= 0, sum <= H), or [H/4, 3H/8, 3H/8] by default. */
export function resolveMhropeSection(path: string, section: readonly number[], numHeads: number): number[] {
  if (section.length === 0) return defaultMropeSection(numHeads);
  const sum = section.reduce((a, b) => a + b, 0);
  if (section.length !== 3 || !section.every((n) => Number.isInteger(n) && n >= 0) || sum > numHeads) {
    throw new PosencConfigError(
      "invalid_value",
      `${path}.mropeSection`,
      section,
      `three head counts [t, h, w], integers >= 0 summing to at most numHeads = ${numHeads} (the rest are NoPE heads)`,
    );
  }
  return [...section];
}

const PARAMS = {
  headDim: ROPE_BASE_PARAMS.headDim,
  numHeads: {
    type: "integer",
    description: "Attention heads (key/value heads); the model fills it.",
    default: 8,
    min: 1,
  },
  base: ROPE_BASE_PARAMS.base,
  mropeSection: {
    type: "number[]",
    description:
      "Heads per axis [t, h, w], summing to at most numHeads (the official default [2, 3, 3] of 8); [] = [H/4, 3H/8, 3H/8].",
    default: [],
  },
  layout: ROPE_BASE_PARAMS.layout,
} as const;

function form(
  p: { headDim: number; base: number; layout: RopeLayout },
  headAxes: Int8Array,
  owner: string,
): MultiAxisRotaryForm {
  const invFreq = ropeInverseFrequencies(p.headDim, p.base);
  const P = invFreq.length;
  const byAxis = new Map<number, Int8Array>();
  for (const axis of [-1, 0, 1, 2]) byAxis.set(axis, new Int8Array(P).fill(axis));
  return {
    layout: p.layout,
    pairs: P,
    coordinates: 3,
    perHead: true,
    tables(ids, head): RotaryTables {
      if (head >= headAxes.length) {
        throw new RangeError(`${owner}: head ${head} beyond numHeads = ${headAxes.length}`);
      }
      return axisAllocatedTables(invFreq, byAxis.get(headAxes[head]!)!, ids, 3);
    },
  };
}

export const mhropeSpec = defineEncoding({
  id: "mhrope",
  name: "MHRoPE (multi-head RoPE)",
  family: "rotary",
  paper: {
    title: "Revisiting Multimodal Positional Encoding in Vision-Language Models",
    arxiv: "2510.23095",
    year: 2025,
  },
  formula:
    "head j rotates every pair i by base^(-2i/d) times the one axis (t, h or w) its head section gives; leftover heads NoPE",
  summary:
    "Multimodal RoPE that allocates whole attention heads to t, h and w (each with the full frequency range) instead of splitting each head's frequencies.",
  slots: ["transformQK"],
  params: PARAMS,
  positionCoordinates: 3,
  modelParams: (dims) => ({ headDim: dims.headDim, numHeads: dims.numHeads }),
  create(params, path = "mhrope") {
    const p = resolveParams(path, PARAMS, params);
    const section = resolveMhropeSection(path, p.mropeSection, p.numHeads);
    const encoding = multiAxisRotaryEncoding(
      "mhrope",
      { ...p, mropeSection: section },
      form(p, mhropeHeadAxes(section, p.numHeads), "mhrope"),
      p.headDim,
    );
    const transform = encoding.transformQK!;
    return {
      ...encoding,
      transformQK(x, positions, numHeads, headDim, role) {
        if (numHeads !== p.numHeads) {
          throw new RangeError(`mhrope: numHeads ${numHeads} does not match params.numHeads = ${p.numHeads}`);
        }
        transform(x, positions, numHeads, headDim, role);
      },
    };
  },
  trainable(p, dims, _rng, path = "mhrope") {
    if (p.numHeads !== dims.numHeads) {
      throw new PosencConfigError(
        "conflict",
        `${path}.numHeads`,
        p.numHeads,
        `the model's head count ${dims.numHeads} (or leave it out: the model fills it in)`,
      );
    }
    const section = resolveMhropeSection(path, p.mropeSection, p.numHeads);
    return multiAxisRotaryTrainable(
      "mhrope",
      form(p, mhropeHeadAxes(section, p.numHeads), "mhrope"),
      dims,
      p.headDim,
      path,
    );
  },
});
