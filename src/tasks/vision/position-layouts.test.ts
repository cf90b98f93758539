/**
 * Id layouts: VRoPE's and the video HoPE's ids of a clip, hand-computed from the papers' formulas; the grid layout
 * passes the task's ids through; HoPE's training draw of gamma; the layout of a stack.
 */
import { describe, expect, it } from "vitest";
import { HOPE_TEMPORAL_SCALES } from "../../encodings/hope-video.js";
import { Rng } from "../../util/rng.js";
import { PosencConfigError } from "../../util/validation.js";
import { idLayoutCoordinates, idLayoutOf, layoutPositionIds } from "./position-layouts.js";
import { createVisionTask } from "./registry.js";

const video = (frames: number) => createVisionTask("frame_order", { frames, patchSize: 1 });
const test = { training: false, rng: new Rng(0) };

/** Ids of patch (i, j, l) of example b: [c] values. */
function at(ids: Float64Array, c: number, T: number, b: number, n: number): number[] {
  return Array.from(ids.subarray((b * T + n) * c, (b * T + n + 1) * c));
}

describe("id layouts", () => {
  it("grid passes the task's (t, h, w) ids through; mrope and 2-D methods read them", () => {
    const batch = video(2).sample(new Rng(1), 2, 2);
    expect(layoutPositionIds(batch, "grid", test)).toBe(batch.positionIds);
    expect(idLayoutOf(["mrope"])).toBe("grid");
    expect(idLayoutOf(["rope-2d", "cpe"])).toBe("grid");
    expect(idLayoutCoordinates("grid", 3)).toBe(3);
  });

  it("vrope: (j + l, j + W-1-l, H-1-j + l, H-1-j + W-1-l) + i (H + W - 1), for every clip of the batch", () => {
    const batch = video(2).sample(new Rng(1), 2, 2); // 2 frames of 2 x 2: span H + W - 1 = 3
    const ids = layoutPositionIds(batch, "vrope", test);
    expect(ids).toHaveLength(2 * 8 * 4);
    const T = 8;
    for (const b of [0, 1]) {
      expect(at(ids, 4, T, b, 0)).toEqual([0, 1, 1, 2]); // (0, 0, 0)
      expect(at(ids, 4, T, b, 1)).toEqual([1, 0, 2, 1]); // (0, 0, 1)
      expect(at(ids, 4, T, b, 6)).toEqual([4, 5, 3, 4]); // (1, 1, 0): (1, 2, 0, 1) + 3
      expect(at(ids, 4, T, b, 7)).toEqual([5, 4, 4, 3]); // (1, 1, 1)
    }
    expect(idLayoutOf(["vrope"])).toBe("vrope");
    expect(idLayoutCoordinates("vrope", 3)).toBe(4);
  });

  it("vrope on an image is a clip of one frame", () => {
    const batch = createVisionTask("shapes", { patchSize: 2 }).sample(new Rng(2), 1, 3); // H = W = 3
    const ids = layoutPositionIds(batch, "vrope", test);
    expect(at(ids, 4, 9, 0, 0)).toEqual([0, 2, 2, 4]);
    expect(at(ids, 4, 9, 0, 5)).toEqual([3, 1, 3, 1]); // (j, l) = (1, 2)
  });

  it("hope at test: t = gamma i, h = t + j - floor((H-1)/2), w = t + l - floor((W-1)/2)", () => {
    const batch = video(2).sample(new Rng(3), 1, 3); // H = W = 3: centre offset 1
    const one = layoutPositionIds(batch, "hope", test);
    expect(at(one, 3, 18, 0, 0)).toEqual([0, -1, -1]); // (0, 0, 0)
    expect(at(one, 3, 18, 0, 9 + 2 * 3)).toEqual([1, 2, 0]); // (1, 2, 0)
    const half = layoutPositionIds(batch, "hope", { ...test, testTemporalScale: 0.5 });
    expect(at(half, 3, 18, 0, 9 + 2 * 3)).toEqual([0.5, 1.5, -0.5]);
    expect(idLayoutOf(["hope-video"])).toBe("hope");
  });

  it("hope's relative ids do not depend on the grid: the same move gives the same (dt, dh, dw) at 4x4 and 6x6", () => {
    const diff = (grid: number) => {
      const ids = layoutPositionIds(video(2).sample(new Rng(4), 1, grid), "hope", test);
      const T = 2 * grid * grid;
      const a = at(ids, 3, T, 0, 1 * grid + 1); // (0, 1, 1)
      const b = at(ids, 3, T, 0, grid * grid + 1 * grid + 2); // (1, 1, 2): one frame later, one to the right
      return b.map((v, n) => v - a[n]!);
    };
    expect(diff(4)).toEqual([1, 1, 2]);
    expect(diff(6)).toEqual([1, 1, 2]);
  });

  it("hope in training draws gamma per clip from the official scales, reproducibly from the rng", () => {
    const batch = video(2).sample(new Rng(5), 40, 2);
    const draw = (seed: number) => layoutPositionIds(batch, "hope", { training: true, rng: new Rng(seed) });
    const ids = draw(7);
    const T = 8;
    const gammas = Array.from({ length: 40 }, (_, b) => at(ids, 3, T, b, 4)[0]!); // t of frame 1
    expect(gammas.every((g) => (HOPE_TEMPORAL_SCALES as readonly number[]).includes(g))).toBe(true);
    expect(new Set(gammas).size).toBeGreaterThan(2);
    for (let b = 0; b < 40; b++) expect(at(ids, 3, T, b, 0)).toEqual([0, 0, 0]); // frame 0 does not move
    expect(draw(7)).toEqual(ids);
    expect(draw(8)).not.toEqual(ids);
  });

  it("a stack of methods with different layouts is refused in one line", () => {
    expect(() => idLayoutOf(["vrope", "hope-video"], "encodings[2]")).toThrow(PosencConfigError);
    expect(() => idLayoutOf(["vrope", "hope-video"], "encodings[2]")).toThrow(
      /encodings\[2\].*different id layouts/,
    );
  });
});
