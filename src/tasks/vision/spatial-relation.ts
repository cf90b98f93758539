/**
 * Spatial relation: which of two marked patches is left of / above the other.
 *
 * A grid x grid image of patches of patchSize^2 pixels: background patches hold uniform noise in [0, 0.3); patch A
 * is all 1, patch B a checkerboard (1 where y + x is even, else 0). A and B share a row (then the answer is
 * "left" or "right": where A is relative to B) or a column ("above" or "below"), each case equally likely, at
 * uniform distinct positions. Without position information (patches are a set) the answer is at chance (1/4); a
 * model that reads relative positions can answer at any grid size.
 *
 *   grid 3: A at (1, 0), B at (1, 2) -> "left" (label 0)
 */
import type { Rng } from "../../util/rng.js";
import { checkNumber } from "../../util/validation.js";
import { defineVisionTask, type VisionTask } from "./types.js";

export const RELATION_CLASSES = ["left", "right", "above", "below"] as const;

export interface SpatialRelationParams {
  /** Patch side in pixels (default 3). */
  patchSize?: number;
}

/** Pixels of the marker patches: A all ones, B a checkerboard. */
export function markerPatch(which: "A" | "B", patch: number): Float32Array {
  return Float32Array.from({ length: patch * patch }, (_, i) =>
    which === "A" || (Math.floor(i / patch) + (i % patch)) % 2 === 0 ? 1 : 0,
  );
}

export function spatialRelationTask(params: SpatialRelationParams = {}): VisionTask {
  const patch = checkNumber("spatial_relation.patchSize", params.patchSize ?? 3, {
    integer: true,
    min: 2,
    max: 16,
  });
  const dim = patch * patch;
  const markers = { A: markerPatch("A", patch), B: markerPatch("B", patch) };
  return defineVisionTask({
    id: "spatial_relation",
    description:
      "is patch A (all 1) left of, right of, above or below patch B (checkerboard) in its row/column",
    source: "procedural (the issue's spatial relation task)",
    classes: RELATION_CLASSES,
    patchDim: dim,
    coordinates: 2,
    frames: 1,
    minGrid: 2,
    sampleExample(rng: Rng, grid: number) {
      const patches = new Float32Array(grid * grid * dim);
      for (let i = 0; i < patches.length; i++) patches[i] = 0.3 * rng.next();
      const horizontal = rng.int(2) === 0;
      const line = rng.int(grid); // the shared row (horizontal) or column
      const a = rng.int(grid);
      const b = (a + 1 + rng.int(grid - 1)) % grid; // distinct from a
      const at = (along: number) => (horizontal ? line * grid + along : along * grid + line);
      patches.set(markers.A, at(a) * dim);
      patches.set(markers.B, at(b) * dim);
      const label = horizontal ? (a < b ? 0 : 1) : a < b ? 2 : 3;
      return { patches, label };
    },
  });
}
