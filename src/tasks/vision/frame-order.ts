/**
 * Frame order (a small video task): a marker moves one patch per frame; which way does it move?
 *
 * A clip of `frames` frames of grid x grid patches (patchSize^2 pixels, background noise in [0, 0.3)); in frame t the
 * marker patch (all 1) sits at p0 + t * d, d one of right (0, +1), left (0, -1), down (+1, 0), up (-1, 0), with p0
 * uniform among the starts that keep the path on the grid. The label is d. Each frame alone shows one marker, and
 * the set of frames without their times is the same for "right" and "left": the answer needs the temporal
 * coordinate as well as the spatial ones. Ids [T, 3] = (t, h, w), T = frames * grid^2, frames in order.
 *
 *   frames 3, grid 4: marker at (2, 0), (2, 1), (2, 2) -> "right" (label 0)
 */
import type { Rng } from "../../util/rng.js";
import { checkNumber } from "../../util/validation.js";
import { defineVisionTask, type VisionTask } from "./types.js";

export const MOTION_CLASSES = ["right", "left", "down", "up"] as const;
const STEPS: readonly [number, number][] = [
  [0, 1],
  [0, -1],
  [1, 0],
  [-1, 0],
];

export interface FrameOrderParams {
  /** Frames per clip (default 3). */
  frames?: number;
  /** Patch side in pixels (default 2). */
  patchSize?: number;
}

export function frameOrderTask(params: FrameOrderParams = {}): VisionTask {
  const frames = checkNumber("frame_order.frames", params.frames ?? 3, { integer: true, min: 2, max: 16 });
  const patch = checkNumber("frame_order.patchSize", params.patchSize ?? 2, {
    integer: true,
    min: 1,
    max: 16,
  });
  const dim = patch * patch;
  return defineVisionTask({
    id: "frame_order",
    description: "which way a marker moves across the frames of a clip (right, left, down, up)",
    source: "procedural (the issue's frame-order video task)",
    classes: MOTION_CLASSES,
    patchDim: dim,
    coordinates: 3,
    frames,
    minGrid: frames,
    sampleExample(rng: Rng, grid: number) {
      const cells = grid * grid;
      const patches = new Float32Array(frames * cells * dim);
      for (let i = 0; i < patches.length; i++) patches[i] = 0.3 * rng.next();
      const label = rng.int(4);
      const [dr, dc] = STEPS[label]!;
      const span = frames - 1;
      // Starts that keep p0 + t * d on the grid for t = 0 .. frames - 1.
      const start = (d: number) =>
        d > 0 ? rng.int(grid - span) : d < 0 ? span + rng.int(grid - span) : rng.int(grid);
      const r0 = start(dr);
      const c0 = start(dc);
      for (let t = 0; t < frames; t++) {
        const cell = t * cells + (r0 + t * dr) * grid + (c0 + t * dc);
        patches.fill(1, cell * dim, (cell + 1) * dim);
      }
      return { patches, label };
    },
  });
}
