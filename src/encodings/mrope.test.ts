import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { randomArray } from "../../test/helpers/arrays.js";
import { tensor } from "../engine/index.js";
import { Rng } from "../util/rng.js";
import { PosencConfigError } from "../util/validation.js";
import {
  applyMrope,
  checkMropeSection,
  defaultMropeSection,
  mropeCosSinTable,
  mropePairAxes,
  mropeSpec,
} from "./mrope.js";
import { mropeIdsToRows, mropeRopeIndex } from "./mrope-index.js";
import { ropeEncodingFromFrequencies, ropeInverseFrequencies } from "./rope.js";
import { resolveParams } from "./types.js";

interface ApplyCase {
  head_dim: number;
  mrope_section: number[];
  rope_theta: number;
  num_heads: number;
  position_ids: number[][];
  cos: number[][];
  sin: number[][];
  q: number[][][];
  q_embed: number[][][];
  k: number[][][];
  k_embed: number[][][];
}
interface IndexCase {
  name: string;
  input_ids: number[][];
  image_grid_thw: number[][] | null;
  video_grid_thw: number[][] | null;
  attention_mask: number[][] | null;
  spatial_merge_size: number;
  second_per_grid_ts: number[] | null;
  tokens_per_second: number | null;
  position_ids: number[][][];
  rope_deltas: number[][];
}
const fixture = JSON.parse(
  readFileSync(new URL("../../test/fixtures/qwen2-vl-mrope.json", import.meta.url), "utf8"),
) as {
  token_ids: { image: number; video: number; vision_start: number };
  rope_index: IndexCase[];
  apply: ApplyCase[];
};
const tokenIds = {
  image: fixture.token_ids.image,
  video: fixture.token_ids.video,
  visionStart: fixture.token_ids.vision_start,
};

/** [T][H][D] (HF's q[0] is [H][T][D]) as the row-major [T, H, D] the framework-free transform takes. */
function tokensMajor(x: number[][][]): Float32Array {
  const H = x.length;
  const T = x[0]!.length;
  const D = x[0]![0]!.length;
  const out = new Float32Array(T * H * D);
  for (let h = 0; h < H; h++) for (let t = 0; t < T; t++) out.set(x[h]![t]!, (t * H + h) * D);
  return out;
}

/** ids (3, T) as [T, 3]. */
function rowsOf(ids: number[][]): Float64Array {
  return mropeIdsToRows(ids.map((axis) => [axis]));
}

describe("M-RoPE section allocation", () => {
  it("gives contiguous t, h, w sections and Qwen2-VL's default proportions", () => {
    expect(Array.from(mropePairAxes([2, 3, 3]))).toEqual([0, 0, 1, 1, 1, 2, 2, 2]);
    expect(defaultMropeSection(64)).toEqual([16, 24, 24]);
    expect(defaultMropeSection(8)).toEqual([2, 3, 3]);
    expect(defaultMropeSection(3)).toEqual([0, 2, 1]);
  });

  it("rejects sections that do not sum to the pairs, in one line naming the key", () => {
    expect(() => checkMropeSection("rope_scaling.mrope_section", [16, 24, 16], 64)).toThrow(
      /rope_scaling\.mrope_section.*sum to 56/,
    );
    expect(() => checkMropeSection("s", [1, 2], 3)).toThrow(PosencConfigError);
    expect(() => checkMropeSection("s", [1, 1.5, 0.5], 3)).toThrow(PosencConfigError);
    expect(() => mropeSpec.create({ headDim: 16, mropeSection: [2, 2, 2] })).toThrow(/mrope\.mropeSection/);
  });
});

describe("M-RoPE against Hugging Face (test/fixtures/qwen2-vl-mrope.json)", () => {
  it.each(fixture.apply.map((c, i) => [i, c] as const))("case %i: cos/sin and rotated q, k", (_i, c) => {
    const T = c.position_ids[0]!.length;
    const P = c.head_dim / 2;
    const invFreq = ropeInverseFrequencies(c.head_dim, c.rope_theta);
    const table = mropeCosSinTable(invFreq, c.mrope_section, rowsOf(c.position_ids));
    let worst = 0;
    for (let t = 0; t < T; t++) {
      for (let i = 0; i < P; i++) {
        // HF's merged table is [T, d]: the pair table twice along the channels.
        for (const half of [0, P]) {
          worst = Math.max(worst, Math.abs(table.cos[t * P + i]! - c.cos[t]![i + half]!));
          worst = Math.max(worst, Math.abs(table.sin[t * P + i]! - c.sin[t]![i + half]!));
        }
      }
    }
    expect(worst).toBeLessThan(2e-6);
    for (const [input, expected] of [
      [c.q, c.q_embed],
      [c.k, c.k_embed],
    ] as const) {
      const x = tokensMajor(input);
      applyMrope(x, table, { numHeads: c.num_heads, headDim: c.head_dim });
      const want = tokensMajor(expected);
      let diff = 0;
      for (let n = 0; n < x.length; n++) diff = Math.max(diff, Math.abs(x[n]! - want[n]!));
      expect(diff).toBeLessThan(1e-5);
      // The spec's transformQK rotates the same way.
      const y = tokensMajor(input);
      const encoding = mropeSpec.create({
        headDim: c.head_dim,
        base: c.rope_theta,
        mropeSection: c.mrope_section,
      });
      encoding.transformQK!(y, rowsOf(c.position_ids), c.num_heads, c.head_dim, "query");
      for (let n = 0; n < y.length; n++) expect(Math.abs(y[n]! - x[n]!)).toBeLessThan(1e-6);
    }
  });
});

describe("get_rope_index against Hugging Face", () => {
  it.each(fixture.rope_index.map((c) => [c.name, c] as const))("%s", (_name, c) => {
    const result = mropeRopeIndex({
      inputIds: c.input_ids,
      imageGridThw: c.image_grid_thw ?? undefined,
      videoGridThw: c.video_grid_thw ?? undefined,
      attentionMask: c.attention_mask ?? undefined,
      spatialMergeSize: c.spatial_merge_size,
      tokenIds,
      tokensPerSecond: c.tokens_per_second ?? undefined,
      secondPerGridTs: c.second_per_grid_ts ?? undefined,
    });
    expect(result.positionIds).toEqual(c.position_ids);
    expect(result.ropeDeltas).toEqual(c.rope_deltas.map((d) => d[0]));
  });

  it("refuses grids that do not match the placeholder tokens", () => {
    const S = tokenIds.visionStart;
    const I = tokenIds.image;
    const base = { spatialMergeSize: 2, tokenIds };
    expect(() => mropeRopeIndex({ ...base, inputIds: [[S, I, I, 5]], imageGridThw: [[1, 4, 4]] })).toThrow(
      /placeholder tokens/,
    );
    expect(() => mropeRopeIndex({ ...base, inputIds: [[S, I, 5]], imageGridThw: [[1, 3, 2]] })).toThrow(
      /imageGridThw\[0\]/,
    );
    expect(() => mropeRopeIndex({ ...base, inputIds: [[S, I, 5]], videoGridThw: [] })).toThrow(
      /imageGridThw\[0\]/,
    );
  });
});

describe("M-RoPE properties", () => {
  const headDim = 16;
  const encoding = mropeSpec.create({ headDim, mropeSection: [2, 3, 3] });

  it("is RoPE on text (t = h = w)", () => {
    const T = 5;
    const x = randomArray(new Rng(1), T * 2 * headDim);
    const y = Float32Array.from(x);
    const ids = new Float64Array(T * 3).map((_, n) => Math.floor(n / 3) * 1.5);
    encoding.transformQK!(x, ids, 2, headDim, "query");
    const rope = ropeEncodingFromFrequencies({
      id: "rope",
      params: {},
      invFreq: ropeInverseFrequencies(headDim),
    });
    rope.transformQK!(y, [0, 1.5, 3, 4.5, 6], 2, headDim, "query");
    for (let n = 0; n < x.length; n++) expect(x[n]).toBeCloseTo(y[n]!, 6);
  });

  it("scores depend only on the differences of (t, h, w)", () => {
    const rng = new Rng(2);
    const q = randomArray(rng, headDim);
    const k = randomArray(rng, headDim);
    const score = (pq: number[], pk: number[]) => {
      const a = Float32Array.from(q);
      const b = Float32Array.from(k);
      encoding.transformQK!(a, pq, 1, headDim, "query");
      encoding.transformQK!(b, pk, 1, headDim, "key");
      return a.reduce((s, v, i) => s + v * b[i]!, 0);
    };
    const s1 = score([3, 1, 4], [1, 5, 9]);
    expect(score([13, 8, -2], [11, 12, 3])).toBeCloseTo(s1, 4);
    expect(Math.abs(score([3, 1, 4], [1, 5, 8]) - s1)).toBeGreaterThan(1e-3);
  });

  it("the trainable form rotates each example at its own ids, as the framework-free form", () => {
    const B = 2;
    const H = 2;
    const T = 3;
    const params = resolveParams("mrope", mropeSpec.params, { headDim, mropeSection: [2, 3, 3] });
    const dims = { dModel: H * headDim, numHeads: H, headDim, numLayers: 1, maxSeqLen: 8, causal: true };
    const trainable = mropeSpec.trainable!(params, dims, new Rng(0));
    const qData = randomArray(new Rng(3), B * H * T * headDim);
    const ids = Float64Array.from([0, 0, 0, 1, 1, 2, 1, 2, 1, 5, 5, 5, 6, 7, 8, 9, 9, 9]);
    for (const rows of [ids, Float64Array.from([...ids.subarray(0, 9), ...ids.subarray(0, 9)])]) {
      const { q } = trainable.transformQK!(
        tensor(qData, [B, H, T, headDim]),
        tensor(qData, [B, H, T, headDim]),
        rows,
        0,
      );
      for (let b = 0; b < B; b++) {
        // [H, T, D] of example b as [T, H, D] for the framework-free transform.
        const x = new Float32Array(T * H * headDim);
        for (let h = 0; h < H; h++) {
          for (let t = 0; t < T; t++) {
            const from = ((b * H + h) * T + t) * headDim;
            x.set(qData.subarray(from, from + headDim), (t * H + h) * headDim);
          }
        }
        encoding.transformQK!(x, rows.subarray(b * T * 3, (b + 1) * T * 3), H, headDim, "query");
        for (let h = 0; h < H; h++) {
          for (let t = 0; t < T; t++) {
            for (let c = 0; c < headDim; c++) {
              const got = q.data[((b * H + h) * T + t) * headDim + c]!;
              expect(got).toBeCloseTo(x[(t * H + h) * headDim + c]!, 5);
            }
          }
        }
      }
    }
  });
});
