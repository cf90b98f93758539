/**
 * Shape classification on procedurally drawn images (generated in code; nothing is downloaded).
 *
 * An image of side S = grid * patchSize pixels holds one shape on a dark background: a square, a disk, a triangle
 * (apex up) or a plus. Its bounding box has side s uniform in [0.45 S, 0.8 S] pixels, at a uniform position
 * inside the image; pixel (y, x) is inside when its centre, in box coordinates u = (x + 0.5 - x0) / s,
 * v = (y + 0.5 - y0) / s, satisfies
 *   square    always (the whole box)
 *   disk      (u - 1/2)^2 + (v - 1/2)^2 <= 1/4
 *   triangle  |u - 1/2| <= v / 2
 *   plus      |u - 1/2| <= 1/6  or  |v - 1/2| <= 1/6
 * Inside pixels are 1, outside 0, plus N(0, noise^2) on every pixel. The label is the shape. Shapes scale with
 * the image, so a larger grid shows the same kind of picture at a higher resolution, as a ViT evaluated at a
 * larger input size (Heo et al., arXiv:2403.13298, section 4's multi-resolution evaluation).
 *
 *   grid 4, patchSize 4: a 16 x 16 image, 16 patches of 16 pixels; "disk" -> label 1
 */
import type { Rng } from "../../util/rng.js";
import { checkNumber } from "../../util/validation.js";
import { defineVisionTask, patchify, type VisionTask } from "./types.js";

export const SHAPE_CLASSES = ["square", "disk", "triangle", "plus"] as const;

export interface ShapesParams {
  /** Patch side in pixels (default 4). */
  patchSize?: number;
  /** Std of the pixel noise (default 0.05). */
  noise?: number;
}

/** Whether box coordinates (u, v) in [0, 1)^2 are inside shape `label`. */
export function insideShape(label: number, u: number, v: number): boolean {
  switch (SHAPE_CLASSES[label]) {
    case "square":
      return true;
    case "disk":
      return (u - 0.5) ** 2 + (v - 0.5) ** 2 <= 0.25;
    case "triangle":
      return Math.abs(u - 0.5) <= v / 2;
    default:
      return Math.abs(u - 0.5) <= 1 / 6 || Math.abs(v - 0.5) <= 1 / 6;
  }
}

/** The image [S, S] of shape `label` with box side s at (x0, y0), noise-free. */
export function drawShape(side: number, label: number, s: number, x0: number, y0: number): Float32Array {
  const image = new Float32Array(side * side);
  for (let y = y0; y < y0 + s; y++)
    for (let x = x0; x < x0 + s; x++) {
      if (insideShape(label, (x + 0.5 - x0) / s, (y + 0.5 - y0) / s)) image[y * side + x] = 1;
    }
  return image;
}

export function shapesTask(params: ShapesParams = {}): VisionTask {
  const patch = checkNumber("shapes.patchSize", params.patchSize ?? 4, { integer: true, min: 2, max: 16 });
  const noise = checkNumber("shapes.noise", params.noise ?? 0.05, { min: 0, max: 0.1 });
  return defineVisionTask({
    id: "shapes",
    description: "which shape is drawn (square, disk, triangle, plus); shapes scale with the image",
    source: "procedural",
    classes: SHAPE_CLASSES,
    patchDim: patch * patch,
    coordinates: 2,
    frames: 1,
    minGrid: 2,
    sampleExample(rng: Rng, grid: number) {
      const side = grid * patch;
      const label = rng.int(SHAPE_CLASSES.length);
      const lo = Math.min(side, Math.max(5, Math.ceil(0.45 * side)));
      const hi = Math.max(lo, Math.floor(0.8 * side));
      const s = rng.intBetween(lo, hi);
      const x0 = rng.int(side - s + 1);
      const y0 = rng.int(side - s + 1);
      const image = drawShape(side, label, s, x0, y0);
      if (noise > 0) for (let i = 0; i < image.length; i++) image[i] += noise * rng.normal();
      return { patches: patchify(image, grid, patch), label };
    },
  });
}
