/**
 * Id layouts: the position ids a method's paper gives the patches of a clip, built from a task's own grid ids.
 * Tasks give every patch its grid coordinates, (row, col) or (t, h, w) row-major (types.ts); some video methods
 * define their own ids for the same tokens, and the lab feeds those instead (src/lab/vision/run.ts):
 *
 *   grid   the task's ids as they are: (t, h, w) for video, (h, w) for images. M-RoPE's ids of a video segment
 *          that starts the sequence (Qwen2-VL's get_rope_index: t = i, h = j, w = l), so `mrope` and its
 *          variants read these.
 *   vrope  VRoPE's four ids (arXiv:2502.11664; vrope.ts, vropePositionIds): token (i, j, l) of a T x H x W clip
 *          gets (j + l, j + W-1-l, H-1-j + l, H-1-j + W-1-l) + i (H + W - 1). [B, T, 4].
 *   hope   the video HoPE's ids (arXiv:2505.20444; hope-video.ts, hopeVisionLayout) at temporal scale gamma:
 *          t = gamma i, h = t + j - floor((H-1)/2), w = t + l - floor((W-1)/2). [B, T, 3]. Dynamic temporal
 *          scaling: in training gamma is drawn per clip from HOPE_TEMPORAL_SCALES (the official training draws one
 *          per video); at test it is fixed (`testTemporalScale`, 1 unless given; the official code requires it set).
 *
 * An image task (ids (h, w)) is a clip of one frame (i = 0). The draw of gamma uses the rng it is given (the lab
 * passes the step's own stream), so runs stay reproducible.
 */
import { HOPE_TEMPORAL_SCALES, hopeVisionLayout } from "../../encodings/hope-video.js";
import { vropePositionIds } from "../../encodings/vrope.js";
import type { Rng } from "../../util/rng.js";
import { PosencConfigError } from "../../util/validation.js";
import type { VisionBatch } from "./types.js";

export const ID_LAYOUTS = ["grid", "vrope", "hope"] as const;
export type IdLayout = (typeof ID_LAYOUTS)[number];

/** The layout each method's paper defines; every other method reads the task's grid ids. */
const METHOD_LAYOUTS: Readonly<Record<string, IdLayout>> = { vrope: "vrope", "hope-video": "hope" };

/** The layout of a stack of encodings: the one its members define (two different ones are a conflict). */
export function idLayoutOf(encodingIds: readonly string[], path = "encoding"): IdLayout {
  const own = [...new Set(encodingIds.map((id) => METHOD_LAYOUTS[id]).filter((l) => l !== undefined))];
  if (own.length > 1) {
    throw new PosencConfigError(
      "conflict",
      path,
      encodingIds.join("+"),
      `encodings that agree on their position ids (these define different id layouts: ${own.join(", ")})`,
    );
  }
  return own[0] ?? "grid";
}

/** Coordinates per position of a layout for a task with `taskCoordinates` (2 or 3). */
export function idLayoutCoordinates(layout: IdLayout, taskCoordinates: number): number {
  return layout === "vrope" ? 4 : layout === "hope" ? 3 : taskCoordinates;
}

export interface IdLayoutOptions {
  training: boolean;
  /** Draws gamma per clip in training (hope). */
  rng: Rng;
  /** hope's gamma at test (default 1). */
  testTemporalScale?: number;
}

/**
 * The batch's ids in `layout`: [B, T, idLayoutCoordinates(layout, k)] row-major, from its [B, T, k] grid ids
 * (k = 2: (h, w), k = 3: (t, h, w)). The clip's sizes are read from the ids (max + 1 per axis); a batch's clips
 * share their grid (defineVisionTask).
 */
export function layoutPositionIds(
  batch: VisionBatch,
  layout: IdLayout,
  options: IdLayoutOptions,
): Float64Array {
  if (layout === "grid") return batch.positionIds;
  const { batchSize: B, seqLen: T } = batch;
  const k = batch.positionIds.length / (B * T);
  if (k !== 2 && k !== 3) {
    throw new RangeError(`layoutPositionIds: ids of ${k} coordinates per patch, expected 2 or 3`);
  }
  // (i, j, l) of every patch of one clip (all clips of a batch share their ids).
  const frame = (n: number) => (k === 3 ? batch.positionIds[n * k]! : 0);
  const row = (n: number) => batch.positionIds[n * k + k - 2]!;
  const col = (n: number) => batch.positionIds[n * k + k - 1]!;
  let frames = 0;
  let rows = 0;
  let cols = 0;
  for (let n = 0; n < T; n++) {
    frames = Math.max(frames, frame(n) + 1);
    rows = Math.max(rows, row(n) + 1);
    cols = Math.max(cols, col(n) + 1);
  }
  if (frames * rows * cols !== T) {
    throw new RangeError(`layoutPositionIds: ${T} patches are not a full ${frames} x ${rows} x ${cols} clip`);
  }
  const c = idLayoutCoordinates(layout, k);
  const out = new Float64Array(B * T * c);
  if (layout === "vrope") {
    // vropePositionIds lays the clip out in (i, j, l) raster order; map each patch to its entry.
    const clip = vropePositionIds([{ kind: "grid", t: frames, h: rows, w: cols }]);
    for (let b = 0; b < B; b++)
      for (let n = 0; n < T; n++) {
        const at = (frame(n) * rows + row(n)) * cols + col(n);
        out.set(clip.subarray(4 * at, 4 * at + 4), (b * T + n) * 4);
      }
    return out;
  }
  const test = options.testTemporalScale ?? 1;
  for (let b = 0; b < B; b++) {
    const gamma = options.training
      ? HOPE_TEMPORAL_SCALES[options.rng.int(HOPE_TEMPORAL_SCALES.length)]!
      : test;
    const hope = hopeVisionLayout(gamma);
    for (let n = 0; n < T; n++) {
      out.set(hope.ids(frame(n), row(n), col(n), [frames, rows, cols], 0), (b * T + n) * 3);
    }
  }
  return out;
}
