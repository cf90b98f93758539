/**
 * The 2-D tasks: determinism, position ids, exact scoring, and brute-force checkers that recover every label from
 * the patches alone with rules written independently of the generators (geometry of the thresholded mask for
 * shapes, a scan for the markers and headers).
 */
import { describe, expect, it } from "vitest";
import { Rng } from "../../util/rng.js";
import { PosencConfigError } from "../../util/validation.js";
import { createVisionTask, visionTaskIds } from "./registry.js";
import { gridPositionIds, scoreVisionBatch, type VisionTask } from "./types.js";

/** Patch-major [T, P] patches back to the image [S, S] (S = grid * patch). */
function unpatchify(patches: Float32Array, grid: number, patch: number): Float32Array {
  const side = grid * patch;
  const image = new Float32Array(side * side);
  for (let t = 0; t < grid * grid; t++)
    for (let i = 0; i < patch * patch; i++) {
      const y = Math.floor(t / grid) * patch + Math.floor(i / patch);
      const x = (t % grid) * patch + (i % patch);
      image[y * side + x] = patches[t * patch * patch + i]!;
    }
  return image;
}

/** Shapes by geometry: fill of the bounding box, vertical mirror symmetry, the point (1/4, 1/4) of the box. */
function classifyShape(image: Float32Array, side: number): number {
  let [x0, y0, x1, y1, count] = [side, side, -1, -1, 0];
  const on = (y: number, x: number) => image[y * side + x]! > 0.5;
  for (let y = 0; y < side; y++)
    for (let x = 0; x < side; x++)
      if (on(y, x)) {
        [x0, y0, x1, y1] = [Math.min(x0, x), Math.min(y0, y), Math.max(x1, x), Math.max(y1, y)];
        count++;
      }
  const w = x1 - x0 + 1;
  const h = y1 - y0 + 1;
  if (count / (w * h) > 0.97) return 0; // square
  let agree = 0;
  for (let y = y0; y <= y1; y++) for (let x = x0; x <= x1; x++) if (on(y, x) === on(y0 + y1 - y, x)) agree++;
  if (agree / (w * h) < 0.9) return 2; // triangle: not symmetric top to bottom
  return on(y0 + Math.floor(h / 4), x0 + Math.floor(w / 4)) ? 1 : 3; // disk covers the quarter point, plus not
}

function classifyRelation(patches: Float32Array, grid: number, dim: number): number {
  let a = -1;
  let b = -1;
  for (let t = 0; t < grid * grid; t++) {
    const cell = patches.subarray(t * dim, (t + 1) * dim);
    if (cell.every((v) => v === 1)) a = t;
    else if (cell.some((v) => v === 0) && cell.every((v) => v === 0 || v === 1)) b = t;
  }
  const [ra, ca, rb, cb] = [Math.floor(a / grid), a % grid, Math.floor(b / grid), b % grid];
  if (ra === rb) return ca < cb ? 0 : 1;
  expect(ca).toBe(cb);
  return ra < rb ? 2 : 3;
}

function classifyLookup(patches: Float32Array, grid: number, dim: number, mode: "row" | "column"): number {
  const V = dim - 2;
  const value = (t: number) => patches.subarray(t * dim, t * dim + V).indexOf(1);
  let marked = -1;
  for (let t = 0; t < grid * grid; t++) if (patches[t * dim + V + 1] === 1) marked = t;
  const [r, c] = [Math.floor(marked / grid), marked % grid];
  for (let t = 0; t < grid * grid; t++) {
    const isHeader = patches[t * dim + V] === 1;
    if (isHeader && (mode === "row" ? Math.floor(t / grid) === r : t % grid === c)) return value(t);
  }
  return -1;
}

/** The marker's cell in each frame, then the sign of its steps. */
function classifyMotion(patches: Float32Array, grid: number, dim: number, frames: number): number {
  const at: [number, number][] = [];
  for (let t = 0; t < frames; t++)
    for (let i = 0; i < grid * grid; i++)
      if (
        patches.subarray((t * grid * grid + i) * dim, (t * grid * grid + i + 1) * dim).every((v) => v === 1)
      )
        at.push([Math.floor(i / grid), i % grid]);
  expect(at).toHaveLength(frames);
  const [dr, dc] = [at[1]![0] - at[0]![0], at[1]![1] - at[0]![1]];
  for (let t = 1; t < frames; t++)
    expect([at[t]![0] - at[t - 1]![0], at[t]![1] - at[t - 1]![1]]).toEqual([dr, dc]);
  return dc === 1 ? 0 : dc === -1 ? 1 : dr === 1 ? 2 : 3;
}

const CHECKERS: [
  string,
  Record<string, unknown>,
  (task: VisionTask, p: Float32Array, grid: number) => number,
][] = [
  ["shapes", {}, (_, p, g) => classifyShape(unpatchify(p, g, 4), g * 4)],
  ["shapes", { patchSize: 3, noise: 0 }, (_, p, g) => classifyShape(unpatchify(p, g, 3), g * 3)],
  ["spatial_relation", {}, (t, p, g) => classifyRelation(p, g, t.patchDim)],
  ["table_lookup", {}, (t, p, g) => classifyLookup(p, g, t.patchDim, "row")],
  ["table_lookup", { mode: "column", numValues: 5 }, (t, p, g) => classifyLookup(p, g, t.patchDim, "column")],
  ["frame_order", {}, (t, p, g) => classifyMotion(p, g, t.patchDim, t.frames)],
  ["frame_order", { frames: 2, patchSize: 1 }, (t, p, g) => classifyMotion(p, g, t.patchDim, t.frames)],
];

describe("2-D tasks", () => {
  it("registry: every task, unknown ids and keys refused in one line", () => {
    expect(visionTaskIds()).toEqual(["shapes", "spatial_relation", "table_lookup", "frame_order"]);
    expect(() => createVisionTask("mnist")).toThrow(/Invalid task\.id: expected one of shapes/);
    expect(() => createVisionTask("shapes", { size: 3 })).toThrow(PosencConfigError);
    expect(() => createVisionTask("table_lookup", { mode: "diagonal" })).toThrow(/table_lookup\.mode/);
  });

  it.each(CHECKERS)(
    "%s %o: a brute-force checker recovers every label at grids 3..9",
    (id, params, check) => {
      const task = createVisionTask(id, params);
      const counts = new Array(task.classes.length).fill(0);
      for (let grid = 3; grid <= 9; grid++) {
        const rng = new Rng(100 + grid);
        for (let n = 0; n < 60; n++) {
          const { patches, label } = task.sampleExample(rng, grid);
          expect(patches).toHaveLength(task.frames * grid * grid * task.patchDim);
          expect(check(task, patches, grid), `grid ${grid} example ${n}`).toBe(label);
          counts[label]++;
        }
      }
      // Every class occurs (roughly balanced: at least half its fair share of 420 examples).
      for (const c of counts) expect(c).toBeGreaterThan(420 / task.classes.length / 2);
      const small = task.sample(new Rng(1), 4, task.minGrid);
      expect(small.seqLen).toBe(task.frames * task.minGrid ** 2);
      expect(small.positionIds).toHaveLength(4 * small.seqLen * task.coordinates);
    },
  );

  it("same seed, same batch; another seed, another batch", () => {
    for (const id of visionTaskIds()) {
      const task = createVisionTask(id);
      const a = task.sample(new Rng(7), 8, 5);
      const b = task.sample(new Rng(7), 8, 5);
      const c = task.sample(new Rng(8), 8, 5);
      expect(a.patches).toEqual(b.patches);
      expect(a.labels).toEqual(b.labels);
      expect(Array.from(a.patches).some((v, i) => v !== c.patches[i])).toBe(true);
    }
  });

  it("ids are (row, col) in raster order, or (t, h, w); the batch repeats them per example", () => {
    expect(Array.from(gridPositionIds(2, 2))).toEqual([0, 0, 0, 1, 1, 0, 1, 1]);
    expect(Array.from(gridPositionIds(2, 3, 2)).slice(12, 18)).toEqual([1, 0, 0, 1, 0, 1]);
    const batch = createVisionTask("spatial_relation").sample(new Rng(1), 3, 4);
    expect(batch.positionIds).toHaveLength(3 * 16 * 2);
    expect(Array.from(batch.positionIds.subarray(32, 36))).toEqual([0, 0, 0, 1]);
    expect(() => createVisionTask("shapes").sample(new Rng(1), 2, 1)).toThrow(/shapes\.grid/);
  });

  it("scoring is exact: argmax against the label, ties to the lowest class", () => {
    const logits = [0.1, 0.9, 0.2, /**/ 0.5, 0.5, 0.1, /**/ -1, -2, -0.5];
    expect(scoreVisionBatch(logits, Int32Array.from([1, 0, 2]), 3)).toBe(3);
    expect(scoreVisionBatch(logits, Int32Array.from([1, 1, 0]), 3)).toBe(1);
  });
});
