/**
 * MRoPE-Interleave, MHRoPE, the video HoPE and VRoPE against transcriptions of their authors' code
 * (test/fixtures/multimodal-ropes-reference.py -> multimodal-ropes.json), and their properties.
 */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { randomArray } from "../../test/helpers/arrays.js";
import { tensor } from "../engine/index.js";
import { Rng } from "../util/rng.js";
import { hopePairAxes, hopeVideoRopeIndex, hopeVideoSpec } from "./hope-video.js";
import { mhropeHeadAxes, mhropeSpec } from "./mhrope.js";
import { mropeIdsToRows } from "./mrope-index.js";
import { mropeInterleavePairAxes, mropeInterleaveSpec } from "./mrope-interleave.js";
import { axisAllocatedTables } from "./multi-axis-rotary.js";
import { ropeInverseFrequencies } from "./rope.js";
import { resolveParams } from "./types.js";
import { type VropeSegment, vropePositionIds, vropeSpec } from "./vrope.js";

interface TableCase {
  head_dim: number;
  mrope_section: number[];
  num_heads?: number;
  cos: number[][] | number[][][];
  sin: number[][] | number[][][];
}
const fixture = JSON.parse(
  readFileSync(new URL("../../test/fixtures/multimodal-ropes.json", import.meta.url), "utf8"),
) as {
  position_ids: number[][];
  mrope_interleave: TableCase[];
  mhrope: TableCase[];
  hope_hfa: TableCase[];
  hope_index: {
    name: string;
    input_ids: number[][];
    image_grid_thw: number[][] | null;
    video_grid_thw: number[][] | null;
    temporal_scale: number;
    position_ids: number[][][];
    rope_deltas: number[];
  }[];
  vrope: {
    name: string;
    parts: [string, number | number[]][];
    half_head_dim: number;
    pair_ids: number[][];
  }[];
};
const ids = mropeIdsToRows(fixture.position_ids.map((axis) => [axis]));

/** Largest |ours - theirs| of a [T, P] table against the reference's [T, d] (the pair table twice). */
function tableError(
  ours: { cos: Float32Array; sin: Float32Array },
  cos: number[][],
  sin: number[][],
): number {
  const T = cos.length;
  const P = cos[0]!.length / 2;
  let worst = 0;
  for (let t = 0; t < T; t++) {
    for (let i = 0; i < P; i++) {
      for (const half of [0, P]) {
        worst = Math.max(worst, Math.abs(ours.cos[t * P + i]! - cos[t]![i + half]!));
        worst = Math.max(worst, Math.abs(ours.sin[t * P + i]! - sin[t]![i + half]!));
      }
    }
  }
  return worst;
}

describe("MRoPE-Interleave (JJJYmmm/Multimodal-RoPEs mrope_i.py)", () => {
  it("interleaves t, h, w and keeps t beyond 3 * section", () => {
    expect(Array.from(mropeInterleavePairAxes([2, 3, 3]))).toEqual([0, 1, 2, 0, 1, 2, 0, 1]);
    const axes = Array.from(mropeInterleavePairAxes([24, 20, 20]));
    expect(axes.slice(0, 6)).toEqual([0, 1, 2, 0, 1, 2]);
    expect(axes.slice(57)).toEqual([0, 1, 2, 0, 0, 0, 0]);
  });

  it.each(fixture.mrope_interleave.map((c) => [c.head_dim, c] as const))("head dim %i: cos/sin", (_d, c) => {
    const invFreq = ropeInverseFrequencies(c.head_dim);
    const ours = axisAllocatedTables(invFreq, mropeInterleavePairAxes(c.mrope_section), ids, 3);
    expect(tableError(ours, c.cos as number[][], c.sin as number[][])).toBeLessThan(2e-6);
  });
});

describe("MHRoPE (JJJYmmm/Multimodal-RoPEs mhrope.py)", () => {
  it("gives whole heads to t, h, w and leaves the rest NoPE", () => {
    expect(Array.from(mhropeHeadAxes([2, 3, 3], 8))).toEqual([0, 0, 1, 1, 1, 2, 2, 2]);
    expect(Array.from(mhropeHeadAxes([1, 1, 2], 6))).toEqual([0, 1, 2, 2, -1, -1]);
    expect(() => mhropeSpec.create({ headDim: 8, numHeads: 4, mropeSection: [2, 2, 2] })).toThrow(
      /mhrope\.mropeSection.*at most numHeads = 4/,
    );
  });

  it.each(fixture.mhrope.map((c) => [c.head_dim, c] as const))(
    "head dim %i: per-head cos/sin via transformQK",
    (_d, c) => {
      const H = c.num_heads!;
      const D = c.head_dim;
      const T = fixture.position_ids[0]!.length;
      const encoding = mhropeSpec.create({ headDim: D, numHeads: H, mropeSection: c.mrope_section });
      // Probe with unit vectors: channel 0 of each head rotated gives (cos, sin) of pair 0 at channels 0 and P.
      const P = D / 2;
      for (let i = 0; i < P; i++) {
        const x = new Float32Array(T * H * D);
        for (let t = 0; t < T; t++) for (let h = 0; h < H; h++) x[(t * H + h) * D + i] = 1;
        encoding.transformQK!(x, ids, H, D, "query");
        for (let h = 0; h < H; h++) {
          const cos = (c.cos as number[][][])[h]!;
          const sin = (c.sin as number[][][])[h]!;
          for (let t = 0; t < T; t++) {
            expect(Math.abs(x[(t * H + h) * D + i]! - cos[t]![i]!)).toBeLessThan(2e-6);
            expect(Math.abs(x[(t * H + h) * D + i + P]! - sin[t]![i + P]!)).toBeLessThan(2e-6);
          }
        }
      }
    },
  );

  it("the trainable form rotates per head as the framework-free form", () => {
    const B = 2;
    const H = 4;
    const T = 3;
    const D = 8;
    const dims = { dModel: H * D, numHeads: H, headDim: D, numLayers: 1, maxSeqLen: 8, causal: true };
    const params = resolveParams("mhrope", mhropeSpec.params, {
      headDim: D,
      numHeads: H,
      mropeSection: [1, 1, 1],
    });
    const trainable = mhropeSpec.trainable!(params, dims, new Rng(0));
    const encoding = mhropeSpec.create(params);
    const data = randomArray(new Rng(5), B * H * T * D);
    const rows = Float64Array.from([0, 0, 0, 1, 2, 3, 4, 1, 5, 2, 2, 2, 3, 3, 3, 7, 8, 9]);
    const { q } = trainable.transformQK!(tensor(data, [B, H, T, D]), tensor(data, [B, H, T, D]), rows, 0);
    for (let b = 0; b < B; b++) {
      const x = new Float32Array(T * H * D);
      for (let h = 0; h < H; h++) {
        for (let t = 0; t < T; t++) {
          const from = ((b * H + h) * T + t) * D;
          x.set(data.subarray(from, from + D), (t * H + h) * D);
        }
      }
      encoding.transformQK!(x, rows.subarray(b * T * 3, (b + 1) * T * 3), H, D, "query");
      for (let h = 0; h < H; h++) {
        for (let t = 0; t < T; t++) {
          for (let c = 0; c < D; c++) {
            expect(q.data[((b * H + h) * T + t) * D + c]!).toBeCloseTo(x[(t * H + h) * D + c]!, 5);
          }
        }
      }
    }
    // The NoPE head (the fourth) passes through.
    for (let t = 0; t < T; t++) {
      for (let c = 0; c < D; c++)
        expect(q.data[((0 * H + 3) * T + t) * D + c]).toBe(data[((0 * H + 3) * T + t) * D + c]);
    }
  });
});

describe("video HoPE (hrlics/HoPE modeling_hope.py)", () => {
  it("alternates h, w over the highest frequencies and leaves the lowest s_t pairs NoPE", () => {
    expect(Array.from(hopePairAxes([2, 3, 3]))).toEqual([1, 2, 1, 2, 1, 2, -1, -1]);
  });

  it.each(fixture.hope_hfa.map((c) => [c.head_dim, c] as const))("head dim %i: HFA cos/sin", (_d, c) => {
    const invFreq = ropeInverseFrequencies(c.head_dim);
    const ours = axisAllocatedTables(invFreq, hopePairAxes(c.mrope_section), ids, 3);
    expect(tableError(ours, c.cos as number[][], c.sin as number[][])).toBeLessThan(2e-6);
    // The spec rotates with the same tables (probe: x = e_0 gives cos of pair 0 at channel 0).
    const encoding = hopeVideoSpec.create({ headDim: c.head_dim, mropeSection: c.mrope_section });
    const T = fixture.position_ids[0]!.length;
    const x = new Float32Array(T * c.head_dim);
    for (let t = 0; t < T; t++) x[t * c.head_dim] = 1;
    encoding.transformQK!(x, ids, 1, c.head_dim, "key");
    for (let t = 0; t < T; t++) expect(x[t * c.head_dim]).toBeCloseTo((c.cos as number[][])[t]![0]!, 6);
  });

  it.each(fixture.hope_index.map((c) => [c.name, c] as const))("get_dynamic_rope_index: %s", (_name, c) => {
    const result = hopeVideoRopeIndex(
      {
        inputIds: c.input_ids,
        imageGridThw: c.image_grid_thw ?? undefined,
        videoGridThw: c.video_grid_thw ?? undefined,
        attentionMask: c.input_ids.map((row) => row.map(() => 1)),
        spatialMergeSize: 2,
        tokenIds: { image: 151655, video: 151656, visionStart: 151652 },
      },
      c.temporal_scale,
    );
    expect(result.positionIds).toEqual(c.position_ids);
    expect(result.ropeDeltas).toEqual(c.rope_deltas);
  });

  it("the NoPE pairs pass through at any position (no decay along the video)", () => {
    const D = 16;
    const encoding = hopeVideoSpec.create({ headDim: D, mropeSection: [2, 3, 3] });
    const q = new Float32Array(D);
    q[7] = 1; // pair 7: NoPE
    const a = Float32Array.from(q);
    encoding.transformQK!(a, [1000, 3, 4], 1, D, "query");
    expect(Array.from(a, (v) => v + 0)).toEqual(Array.from(q));
  });
});

describe("interleave and HoPE specs", () => {
  it("reject sections that do not fit the head", () => {
    expect(() => mropeInterleaveSpec.create({ headDim: 16, mropeSection: [4, 4, 4] })).toThrow(
      /mrope-interleave\.mropeSection/,
    );
    expect(() => hopeVideoSpec.create({ headDim: 16, mropeSection: [1, 1, 1] })).toThrow(
      /hope-video\.mropeSection/,
    );
  });
});

describe("VRoPE (johncaged/VRoPE vrope.py)", () => {
  it.each(fixture.vrope.map((c) => [c.name, c] as const))(
    "ids of %s, pair k reading c_{k mod 4}",
    (_name, c) => {
      const segments: VropeSegment[] = c.parts.map(([kind, size]) =>
        kind === "text"
          ? { kind: "text", length: size as number }
          : { kind: "grid", t: (size as number[])[0]!, h: (size as number[])[1]!, w: (size as number[])[2]! },
      );
      const ids = vropePositionIds(segments);
      expect(ids.length).toBe(4 * c.pair_ids.length);
      const got = c.pair_ids.map((_, l) =>
        Array.from({ length: c.half_head_dim }, (_, k) => ids[4 * l + (k % 4)]),
      );
      expect(got).toEqual(c.pair_ids);
    },
  );

  it("rotates pair k by theta_k c_{k mod 4}, and is RoPE on text", () => {
    const D = 16;
    const encoding = vropeSpec.create({ headDim: D });
    const c = [3, 6, 5, 8];
    const x = new Float32Array(D).fill(0);
    for (let k = 0; k < D / 2; k++) x[k] = 1;
    encoding.transformQK!(x, c, 1, D, "query");
    const invFreq = ropeInverseFrequencies(D);
    for (let k = 0; k < D / 2; k++) {
      expect(x[k]).toBeCloseTo(Math.cos(c[k % 4]! * invFreq[k]!), 6);
      expect(x[k + D / 2]).toBeCloseTo(Math.sin(c[k % 4]! * invFreq[k]!), 6);
    }
    expect(() => vropePositionIds([{ kind: "grid", t: 0, h: 2, w: 2 }])).toThrow(/segments\[0\]/);
  });
});
