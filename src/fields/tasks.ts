/**
 * The three fitting tasks of `posenc fields`, each a source of training batches and an exact evaluation:
 *   image  regress RGB from (x, y) on a generated image (images.ts); scored by PSNR and SSIM over every pixel;
 *          files: the reconstruction PNG beside the target PNG
 *   sdf2d  regress the signed distance of the 2-D scene (shapes.ts); scored on the n x n grid over [-1, 1]^2
 *          (n = 256): IoU of the inside masks, Chamfer distance of the zero level sets, and both again on the
 *          THIN-PART MASK (grid points / level-set points within `margin` of the thin bar, ring and holes);
 *          files: level-set images of the prediction and the target
 *   sdf3d  the same for the 3-D scene on an n^3 grid (n = 48); files: the marching-tetrahedra mesh as PLY and
 *          OBJ, and a rendered PNG of prediction and target
 * Held-out images (`heldOut`, the protocol of Tancik et al. and "Rethinking Positional Encoding"): training uses
 * only the pixels at even row and even column (a regular quarter of the image); `psnr` scores the other three
 * quarters (the pixels never seen), `trainPsnr` the training quarter, and SSIM the whole reconstruction.
 * Training points: images use the pixel centres (all, or a random subset when the batch is smaller); SDF tasks
 * draw half their points uniformly in the box and half near the surface (a level-set point of the target plus
 * N(0, 0.01^2) noise per coordinate), fresh every step from the step's Rng.
 */
import type { Rng } from "../util/rng.js";
import { generateImage, type ImageName, pixelCoordinates } from "./images.js";
import { marchingTetrahedra, renderMesh, toObj, toPly } from "./mesh.js";
import type { TaskName } from "./methods.js";
import { chamfer, iou, psnr, ssim, zeroCrossings } from "./metrics.js";
import { encodePng } from "./png.js";
import { gridPoints, SCENE_2D, SCENE_3D, type SdfScene, sampleGrid } from "./shapes.js";

/** Model outputs [n, outputs] for points [n, d] (flat). */
export type Predictor = (points: Float64Array, n: number) => Float64Array;

export interface TaskFile {
  name: string;
  content: Uint8Array | string;
}

export interface TaskEvaluation {
  metrics: Record<string, number>;
  files: TaskFile[];
}

export interface FieldTask {
  name: TaskName;
  inputDim: number;
  outputs: number;
  /** Short description for reports. */
  describe: string;
  batch(rng: Rng, size: number): { x: Float64Array; y: Float64Array; n: number };
  /** A cheap score for training curves (PSNR for images, grid IoU for SDFs). */
  quickScore(predict: Predictor): number;
  evaluate(predict: Predictor, withFiles: boolean): TaskEvaluation;
  /** Files of the target itself (written once per task). */
  targetFiles(): TaskFile[];
}

/** Indices of the training pixels (even row and even column) and of the held-out rest, row-major. */
export function heldOutSplit(size: number): { train: number[]; test: number[] } {
  const train: number[] = [];
  const test: number[] = [];
  for (let r = 0; r < size; r++)
    for (let c = 0; c < size; c++) (r % 2 === 0 && c % 2 === 0 ? train : test).push(r * size + c);
  return { train, test };
}

/** Rows `indices` of a [n, width] matrix. */
function rows(values: Float64Array, width: number, indices: number[]): Float64Array {
  const out = new Float64Array(indices.length * width);
  indices.forEach((p, i) => {
    out.set(values.subarray(p * width, (p + 1) * width), i * width);
  });
  return out;
}

export function imageTask(size: number, image: ImageName = "pattern", heldOut = false): FieldTask {
  const target = generateImage(image, size, size);
  const coords = pixelCoordinates(size, size);
  const count = size * size;
  const split = heldOut ? heldOutSplit(size) : undefined;
  const trainCoords = split ? rows(coords, 2, split.train) : coords;
  const trainPixels = split ? rows(target.pixels, 3, split.train) : target.pixels;
  const trainCount = trainCoords.length / 2;
  const testPixels = split ? rows(target.pixels, 3, split.test) : target.pixels;
  /** PSNR on the held-out pixels (all pixels without a split) of a full reconstruction. */
  const testPsnr = (out: Float64Array) => psnr(split ? rows(out, 3, split.test) : out, testPixels);
  return {
    name: "image",
    inputDim: 2,
    outputs: 3,
    describe: `${image} image, ${size} x ${size} RGB${heldOut ? ", trained on the even-row even-column quarter, PSNR on the other pixels" : ""}`,
    batch(rng, batchSize) {
      if (batchSize >= trainCount) return { x: trainCoords, y: trainPixels, n: trainCount };
      const x = new Float64Array(batchSize * 2);
      const y = new Float64Array(batchSize * 3);
      for (let i = 0; i < batchSize; i++) {
        const p = rng.int(trainCount);
        x.set(trainCoords.subarray(2 * p, 2 * p + 2), 2 * i);
        y.set(trainPixels.subarray(3 * p, 3 * p + 3), 3 * i);
      }
      return { x, y, n: batchSize };
    },
    quickScore: (predict) => testPsnr(clip(predict(coords, count))),
    evaluate(predict, withFiles) {
      const out = clip(predict(coords, count));
      const metrics: Record<string, number> = {
        psnr: testPsnr(out),
        ssim: ssim(out, target.pixels, size, size, 3),
      };
      if (split) metrics.trainPsnr = psnr(rows(out, 3, split.train), trainPixels);
      return {
        metrics,
        files: withFiles ? [{ name: "reconstruction.png", content: encodePng(out, size, size) }] : [],
      };
    },
    targetFiles: () => [{ name: "target.png", content: encodePng(target.pixels, size, size) }],
  };
}

function clip(values: Float64Array): Float64Array {
  return values.map((v) => Math.min(1, Math.max(0, v)));
}

/** Colours an SDF sampled on an n x n grid: blue inside, sand outside, distance bands, the zero set black. */
export function levelSetImage(values: ArrayLike<number>, n: number): Float64Array {
  const img = new Float64Array(n * n * 3);
  const pixel = 2 / (n - 1);
  for (let r = 0; r < n; r++) {
    for (let c = 0; c < n; c++) {
      const v = values[c * n + r]; // grid axis 0 is x (columns), axis 1 is y (rows, down)
      const band = 0.85 + 0.15 * Math.cos(2 * Math.PI * v * 20);
      let rgb = v < 0 ? [0.25 * band, 0.45 * band, 0.85 * band] : [0.95 * band, 0.85 * band, 0.65 * band];
      if (Math.abs(v) < pixel) rgb = [0, 0, 0];
      img.set(rgb, (r * n + c) * 3);
    }
  }
  return img;
}

function thinPoints(points: number[], d: number, scene: SdfScene, margin: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < points.length; i += d) {
    const p = points.slice(i, i + d);
    if (scene.thinDistance(p) < margin) out.push(...p);
  }
  return out;
}

/** Every k-th point, so at most `max` remain (Chamfer is quadratic in the point count). */
function thin(points: number[], d: number, max: number): number[] {
  const n = points.length / d;
  if (n <= max) return points;
  const stride = Math.ceil(n / max);
  const out: number[] = [];
  for (let i = 0; i < n; i += stride) out.push(...points.slice(i * d, (i + 1) * d));
  return out;
}

export function sdfTask(
  dim: 2 | 3,
  gridSize = dim === 2 ? 256 : 48,
  margin = dim === 2 ? 0.03 : 0.05,
): FieldTask {
  const scene = dim === 2 ? SCENE_2D : SCENE_3D;
  const dims = new Array<number>(dim).fill(gridSize);
  const points = gridPoints(dim, gridSize);
  const count = gridSize ** dim;
  const truth = sampleGrid(scene.sdf, dim, gridSize);
  const surface = zeroCrossings(truth, dims, -1, 1);
  const surfaceCount = surface.length / dim;
  const thinMask = Array.from(
    { length: count },
    (_, i) => scene.thinDistance(Array.from(points.subarray(i * dim, (i + 1) * dim))) < margin,
  );
  const maxChamfer = dim === 2 ? 6000 : 3000;
  const truthSurface = thin(surface, dim, maxChamfer);
  const truthThin = thinPoints(surface, dim, scene, margin);
  return {
    name: dim === 2 ? "sdf2d" : "sdf3d",
    inputDim: dim,
    outputs: 1,
    describe: `${dim}-D SDF scene, scored on a ${dims.join(" x ")} grid over [-1, 1]^${dim}, thin-part margin ${margin}`,
    batch(rng, size) {
      const x = new Float64Array(size * dim);
      const y = new Float64Array(size);
      const p = new Array<number>(dim);
      for (let i = 0; i < size; i++) {
        if (i % 2 === 0) {
          for (let j = 0; j < dim; j++) p[j] = 2 * rng.next() - 1;
        } else {
          const s = rng.int(surfaceCount);
          for (let j = 0; j < dim; j++)
            p[j] = Math.min(1, Math.max(-1, surface[s * dim + j] + 0.01 * rng.normal()));
        }
        x.set(p, i * dim);
        y[i] = scene.sdf(p);
      }
      return { x, y, n: size };
    },
    quickScore: (predict) => iou(predict(points, count), truth),
    evaluate(predict, withFiles) {
      const pred = predict(points, count);
      const predSurface = zeroCrossings(pred, dims, -1, 1);
      const metrics = {
        iou: iou(pred, truth),
        thinIou: iou(pred, truth, thinMask),
        chamfer: chamfer(thin(predSurface, dim, maxChamfer), truthSurface, dim),
        thinChamfer: chamfer(
          thin(thinPoints(predSurface, dim, scene, margin), dim, maxChamfer),
          thin(truthThin, dim, maxChamfer),
          dim,
        ),
      };
      return { metrics, files: withFiles ? sdfFiles(pred, dim, gridSize, "") : [] };
    },
    targetFiles: () => sdfFiles(truth, dim, gridSize, "target"),
  };
}

function sdfFiles(values: Float64Array, dim: number, n: number, prefix: string): TaskFile[] {
  const name = (base: string) => (prefix ? `${prefix}-${base}` : base);
  if (dim === 2) return [{ name: name("level-set.png"), content: encodePng(levelSetImage(values, n), n, n) }];
  const mesh = marchingTetrahedra(values, n);
  return [
    { name: name("mesh.ply"), content: toPly(mesh) },
    { name: name("mesh.obj"), content: toObj(mesh) },
    { name: name("render.png"), content: encodePng(renderMesh(mesh, 256), 256, 256) },
  ];
}

export function createTask(name: TaskName, size?: number, heldOut = false): FieldTask {
  if (name === "image") return imageTask(size ?? 64, "pattern", heldOut);
  return sdfTask(name === "sdf2d" ? 2 : 3, size);
}
