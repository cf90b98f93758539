/**
 * Signed-distance scenes (negative inside) with the parts NeuDA is about: sharp corners, thin bars and small holes.
 * Exact SDFs of primitives (Inigo Quilez's formulas): box, circle/sphere, capsule (segment), and their
 * union min(a, b) and subtraction max(a, -b) (exact outside/inside up to the usual union bound).
 *
 *   2-D "scene": a square plate with a sharp notch, two small holes, a thin bar and a thin ring
 *   3-D "scene": a box with a small hole, a sphere, and a thin plate (the thin part) joining them
 * Each scene also defines its THIN-PART MASK: the points within `margin` of the thin bar, the ring and the holes,
 * where the reproductions score IoU and Chamfer separately.
 */

export type Sdf = (p: readonly number[]) => number;

export function boxSdf(p: readonly number[], centre: readonly number[], half: readonly number[]): number {
  let outside = 0;
  let inside = Number.NEGATIVE_INFINITY;
  for (let j = 0; j < p.length; j++) {
    const q = Math.abs(p[j] - centre[j]) - half[j];
    outside += Math.max(q, 0) ** 2;
    inside = Math.max(inside, q);
  }
  return Math.sqrt(outside) + Math.min(inside, 0);
}

export function ballSdf(p: readonly number[], centre: readonly number[], radius: number): number {
  return Math.hypot(...p.map((v, j) => v - centre[j])) - radius;
}

/** A segment a-b thickened by `radius`. */
export function capsuleSdf(
  p: readonly number[],
  a: readonly number[],
  b: readonly number[],
  radius: number,
): number {
  const ab = a.map((v, j) => b[j] - v);
  const ap = a.map((v, j) => p[j] - v);
  const t = Math.min(
    1,
    Math.max(0, ap.reduce((s, v, j) => s + v * ab[j], 0) / ab.reduce((s, v) => s + v * v, 0)),
  );
  return Math.hypot(...ap.map((v, j) => v - t * ab[j])) - radius;
}

export interface SdfScene {
  dim: 2 | 3;
  sdf: Sdf;
  /** Distance to the thin parts' own surfaces (|sdf| of the thin primitives); the mask is thinDistance < margin. */
  thinDistance: Sdf;
}

const HOLES_2D: [number, number, number][] = [
  [-0.25, 0.2, 0.05],
  [0.05, 0.35, 0.035],
];

export const SCENE_2D: SdfScene = {
  dim: 2,
  sdf: (p) => {
    let plate = boxSdf(p, [-0.15, 0.2], [0.45, 0.35]);
    plate = Math.max(plate, -boxSdf(p, [0.3, -0.15], [0.12, 0.12])); // a sharp notch at a corner
    for (const [x, y, r] of HOLES_2D) plate = Math.max(plate, -ballSdf(p, [x, y], r));
    const bar = capsuleSdf(p, [-0.8, -0.55], [0.6, -0.55], 0.02);
    const ring = Math.abs(ballSdf(p, [0.55, 0.45], 0.22)) - 0.015;
    return Math.min(plate, bar, ring);
  },
  thinDistance: (p) =>
    Math.min(
      Math.abs(capsuleSdf(p, [-0.8, -0.55], [0.6, -0.55], 0.02)),
      Math.abs(Math.abs(ballSdf(p, [0.55, 0.45], 0.22)) - 0.015),
      ...HOLES_2D.map(([x, y, r]) => Math.abs(ballSdf(p, [x, y], r))),
    ),
};

export const SCENE_3D: SdfScene = {
  dim: 3,
  sdf: (p) => {
    let box = boxSdf(p, [-0.35, 0, 0], [0.3, 0.3, 0.3]);
    box = Math.max(box, -capsuleSdf(p, [-0.35, -0.5, 0], [-0.35, 0.5, 0], 0.08)); // a small hole through it
    const ball = ballSdf(p, [0.45, 0, 0], 0.3);
    const plate = boxSdf(p, [0.05, 0, 0], [0.35, 0.03, 0.2]); // thin: 0.06 thick
    return Math.min(box, ball, plate);
  },
  thinDistance: (p) =>
    Math.min(
      Math.abs(boxSdf(p, [0.05, 0, 0], [0.35, 0.03, 0.2])),
      Math.abs(capsuleSdf(p, [-0.35, -0.5, 0], [-0.35, 0.5, 0], 0.08)),
    ),
};

/** Samples `sdf` on the regular grid of `n` points per axis over [-1, 1]^d (last axis fastest, as metrics.ts). */
export function sampleGrid(sdf: Sdf, dim: number, n: number): Float64Array {
  const out = new Float64Array(n ** dim);
  const p = new Array<number>(dim).fill(0);
  for (let flat = 0; flat < out.length; flat++) {
    let rest = flat;
    for (let j = dim - 1; j >= 0; j--) {
      p[j] = -1 + (2 * (rest % n)) / (n - 1);
      rest = Math.floor(rest / n);
    }
    out[flat] = sdf(p);
  }
  return out;
}

/** The grid points as coordinates [n^d, d] in the order of `sampleGrid`. */
export function gridPoints(dim: number, n: number): Float64Array {
  const out = new Float64Array(n ** dim * dim);
  for (let flat = 0; flat < n ** dim; flat++) {
    let rest = flat;
    for (let j = dim - 1; j >= 0; j--) {
      out[flat * dim + j] = -1 + (2 * (rest % n)) / (n - 1);
      rest = Math.floor(rest / n);
    }
  }
  return out;
}
