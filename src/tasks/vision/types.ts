/**
 * The contract of the 2-D (and video) tasks: a task draws one example at a given grid size, as patches of pixel
 * values and one class label, so a model trained at one grid can be tested at larger ones (resolution
 * extrapolation, the 2-D analogue of length generalization).
 *
 *   sampleExample(rng, grid) -> { patches [T, patchDim], label }     T = grid^2 (2-D) or frames * grid^2 (video)
 *   sample(rng, batchSize, grid) -> VisionBatch                      ids [B, T, k] row-major, k = coordinates
 *
 * Position ids follow the repository's convention: (row, col) of each patch in raster order for 2-D, (t, h, w)
 * for video (the order of HF Qwen2-VL's M-RoPE ids). Scoring is exact: an example is right when the argmax of the
 * logits is its label (scoreVisionBatch). The seeded Rng is the only randomness: same seed, same examples.
 */
import type { Rng } from "../../util/rng.js";
import { checkNumber } from "../../util/validation.js";

export interface VisionExample {
  /** Pixel values of every patch, row-major [T, patchDim] (patches in raster order). */
  patches: Float32Array;
  label: number;
}

export interface VisionTaskDefinition {
  readonly id: string;
  /** One line: what is drawn and what is asked, with an example. */
  readonly description: string;
  /** Where the task comes from (a paper's title and arXiv id, or "procedural"). */
  readonly source: string;
  /** Class names; labels are indices into this list. */
  readonly classes: readonly string[];
  /** Values per patch. */
  readonly patchDim: number;
  /** Coordinates per position id: 2 = (row, col), 3 = (t, h, w). */
  readonly coordinates: 2 | 3;
  /** Frames per example for video tasks (1 for images). */
  readonly frames: number;
  /** The smallest valid grid side. */
  readonly minGrid: number;
  sampleExample(rng: Rng, grid: number): VisionExample;
}

export interface VisionBatch {
  /** [batchSize, seqLen, patchDim] row-major. */
  patches: Float32Array;
  /** [batchSize, seqLen, coordinates] row-major. */
  positionIds: Float64Array;
  /** [batchSize]. */
  labels: Int32Array;
  batchSize: number;
  seqLen: number;
  grid: number;
}

export interface VisionTask extends VisionTaskDefinition {
  sample(rng: Rng, batchSize: number, grid: number): VisionBatch;
}

/** Ids of one example: (row, col) per patch in raster order, or (t, h, w) for `frames` > 1 / 3 coordinates. */
export function gridPositionIds(grid: number, coordinates: 2 | 3, frames = 1): Float64Array {
  const T = frames * grid * grid;
  const out = new Float64Array(T * coordinates);
  for (let i = 0; i < T; i++) {
    const f = Math.floor(i / (grid * grid));
    const r = Math.floor(i / grid) % grid;
    const c = i % grid;
    if (coordinates === 3) out.set([f, r, c], 3 * i);
    else out.set([r, c], 2 * i);
  }
  return out;
}

export function defineVisionTask(definition: VisionTaskDefinition): VisionTask {
  return {
    ...definition,
    sampleExample: definition.sampleExample.bind(definition),
    sample(rng, batchSize, grid) {
      checkNumber(`${definition.id}.grid`, grid, { integer: true, min: definition.minGrid, max: 256 });
      checkNumber(`${definition.id}.batchSize`, batchSize, { integer: true, min: 1 });
      const seqLen = definition.frames * grid * grid;
      const patches = new Float32Array(batchSize * seqLen * definition.patchDim);
      const labels = new Int32Array(batchSize);
      const ids = gridPositionIds(grid, definition.coordinates, definition.frames);
      const positionIds = new Float64Array(batchSize * ids.length);
      for (let b = 0; b < batchSize; b++) {
        const example = definition.sampleExample(rng, grid);
        patches.set(example.patches, b * seqLen * definition.patchDim);
        labels[b] = example.label;
        positionIds.set(ids, b * ids.length);
      }
      return { patches, positionIds, labels, batchSize, seqLen, grid };
    },
  };
}

/** Cuts a square image [side, side] (row-major) into grid^2 patches of patch^2 pixels, raster order. */
export function patchify(image: Float32Array, grid: number, patch: number): Float32Array {
  const side = grid * patch;
  const out = new Float32Array(image.length);
  let o = 0;
  for (let gr = 0; gr < grid; gr++)
    for (let gc = 0; gc < grid; gc++)
      for (let y = 0; y < patch; y++)
        for (let x = 0; x < patch; x++) out[o++] = image[(gr * patch + y) * side + gc * patch + x]!;
  return out;
}

/** Exact scoring: right examples (argmax of logits [B, C] equals the label; ties go to the lowest class). */
export function scoreVisionBatch(logits: ArrayLike<number>, labels: Int32Array, classes: number): number {
  let right = 0;
  for (let b = 0; b < labels.length; b++) {
    let best = 0;
    for (let c = 1; c < classes; c++) if (logits[b * classes + c]! > logits[b * classes + best]!) best = c;
    if (best === labels[b]) right++;
  }
  return right;
}
