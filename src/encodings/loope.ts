/**
 * LOOPE, from "LOOPE: Learnable Optimal Patch Order in Positional Embeddings for Vision Transformers" (Chowdhury,
 * Rahman, Taki, 2025), arXiv:2504.14386. No official code was found.
 *
 * A 1-D sinusoidal embedding of each patch's place in a patch order, the order learned around a space-filling curve:
 *   X(r, c) = X_G(r, c) + X_C(r, c),   E(X) = [sin(X w_k) | cos(X w_k)],   w_k = 10000^(-2k / D), k < D/2
 * X_G is the patch's index along the Gilbert curve (Cerveny's generalized Hilbert curve, any H x W) of the example's
 * grid (rows and columns = the largest ids + 1), which keeps neighbours close in the 1-D order; X_C is a learned
 * offset per grid cell (zero at initialisation: LOOPE starts from the Gilbert order). Added to the token embeddings.
 * Our reading, stated: the paper's summaries give X = X_G + X_C with a learnable "context bias" X_C and fixed
 * frequencies W; the exact form of X_C (here one scalar per cell, up to `maxGrid` x `maxGrid` cells) could not be
 * checked against the paper's method section or code. The Gilbert order is checked against a transcription of
 * gilbert2d (test/fixtures/gilbert-reference.py).
 */
import {
  add,
  concat,
  constantParameter,
  cos,
  embedding,
  matmul,
  type Parameter,
  reshape,
  sin,
  type Tensor,
  tensor,
} from "../engine/index.js";
import { PosencConfigError } from "../util/validation.js";
import { checkGridIds, exampleIds, tokenGrid } from "./grid-positions.js";
import { PerForward, type TrainableEncoding } from "./trainable.js";
import { defineEncoding, type EncodingSpec, type PositionalEncoding, resolveParams } from "./types.js";

function* generate2d(
  x: number,
  y: number,
  ax: number,
  ay: number,
  bx: number,
  by: number,
): Generator<[number, number]> {
  const w = Math.abs(ax + ay);
  const h = Math.abs(bx + by);
  const [dax, day, dbx, dby] = [Math.sign(ax), Math.sign(ay), Math.sign(bx), Math.sign(by)];
  if (h === 1 || w === 1) {
    // A single row (or column): walk it.
    const [sx, sy, n] = h === 1 ? [dax, day, w] : [dbx, dby, h];
    for (let i = 0; i < n; i++) yield [x + i * sx, y + i * sy];
    return;
  }
  let [ax2, ay2, bx2, by2] = [Math.floor(ax / 2), Math.floor(ay / 2), Math.floor(bx / 2), Math.floor(by / 2)];
  const w2 = Math.abs(ax2 + ay2);
  const h2 = Math.abs(bx2 + by2);
  if (2 * w > 3 * h) {
    // Long case: split in two along the major direction (an even first half where possible).
    if (w2 % 2 !== 0 && w > 2) [ax2, ay2] = [ax2 + dax, ay2 + day];
    yield* generate2d(x, y, ax2, ay2, bx, by);
    yield* generate2d(x + ax2, y + ay2, ax - ax2, ay - ay2, bx, by);
  } else {
    // Standard case: one step up, one long horizontal, one step down.
    if (h2 % 2 !== 0 && h > 2) [bx2, by2] = [bx2 + dbx, by2 + dby];
    yield* generate2d(x, y, bx2, by2, ax2, ay2);
    yield* generate2d(x + bx2, y + by2, ax, ay, bx - bx2, by - by2);
    yield* generate2d(
      x + (ax - dax) + (bx2 - dbx),
      y + (ay - day) + (by2 - dby),
      -bx2,
      -by2,
      -(ax - ax2),
      -(ay - ay2),
    );
  }
}

/** Gilbert-curve index of every cell of an H x W grid, row-major [H * W]. */
export function gilbertOrder(height: number, width: number): Int32Array {
  const index = new Int32Array(height * width);
  const curve =
    width >= height ? generate2d(0, 0, width, 0, 0, height) : generate2d(0, 0, 0, height, width, 0);
  let n = 0;
  for (const [x, y] of curve) index[y * width + x] = n++;
  return index;
}

/** w_k = 10000^(-2k / D), k < D / 2. */
function frequencies(dModel: number): Float64Array {
  return Float64Array.from({ length: dModel / 2 }, (_, k) => 10000 ** ((-2 * k) / dModel));
}

/** Gilbert index X_G and cell (r * maxGrid + c) of each token of one example. */
function curvePlaces(owner: string, ids: ArrayLike<number>, T: number, maxGrid: number) {
  const grid = tokenGrid(owner, ids, T);
  if (grid.rows > maxGrid || grid.cols > maxGrid) {
    throw new PosencConfigError(
      "out_of_range",
      `${owner}.maxGrid`,
      maxGrid,
      `at least the grid's ${Math.max(grid.rows, grid.cols)} rows or columns`,
    );
  }
  const order = gilbertOrder(grid.rows, grid.cols);
  const xg = new Float64Array(T);
  const cell = new Int32Array(T);
  for (let t = 0; t < T; t++) {
    const at = grid.tokenCell[t]!;
    xg[t] = order[at]!;
    cell[t] = Math.floor(at / grid.cols) * maxGrid + (at % grid.cols);
  }
  return { xg, cell };
}

/** E(X) [T, D] for ids [T, 2] and the offsets X_C [maxGrid * maxGrid] (row-major cells), float64. */
export function loopeEmbedding(
  ids: ArrayLike<number>,
  offsets: ArrayLike<number>,
  maxGrid: number,
  dModel: number,
): Float64Array {
  const T = ids.length / 2;
  const { xg, cell } = curvePlaces("loope", ids, T, maxGrid);
  const w = frequencies(dModel);
  const half = dModel / 2;
  const out = new Float64Array(T * dModel);
  for (let t = 0; t < T; t++) {
    const x = xg[t]! + offsets[cell[t]!]!;
    for (let k = 0; k < half; k++) {
      out[t * dModel + k] = Math.sin(x * w[k]!);
      out[t * dModel + half + k] = Math.cos(x * w[k]!);
    }
  }
  return out;
}

/** E over engine tensors: X_G [N, 1] constant, cells [N] into the offset table [cells, 1] -> [N, D]. */
export function loopeTensor(xg: Tensor, cells: Int32Array, offsets: Tensor, dModel: number): Tensor {
  const x = add(xg, embedding(offsets, cells)); // [N, 1]
  const angles = matmul(x, tensor(Float32Array.from(frequencies(dModel)), [1, dModel / 2]));
  return concat([sin(angles), cos(angles)], -1);
}

const LOOPE_PARAMS = {
  maxGrid: {
    type: "integer",
    min: 1,
    default: 32,
    description: "side of the largest grid the offsets X_C cover",
  },
  offsets: {
    type: "number[]",
    default: [],
    description: "framework-free form only: trained X_C, maxGrid * maxGrid values row-major ([] = zeros)",
  },
} as const satisfies EncodingSpec["params"];

function checkEven(path: string, dModel: number): void {
  if (dModel % 2 !== 0) {
    throw new PosencConfigError(
      "invalid_value",
      `${path.replace(/\.params$/, "")}.id`,
      "loope",
      `an even dModel (sin | cos halves); it is ${dModel}`,
    );
  }
}

export const loopeSpec = defineEncoding({
  id: "loope",
  name: "LOOPE (learnable patch order)",
  family: "absolute",
  paper: {
    title: "LOOPE: Learnable Optimal Patch Order in Positional Embeddings for Vision Transformers",
    arxiv: "2504.14386",
    year: 2025,
  },
  formula:
    "E = [sin(X w) | cos(X w)], X(r, c) = Gilbert-curve index + learned offset X_C(r, c), w_k = 10000^(-2k/D)",
  summary:
    "A sinusoidal embedding of each patch's place along a Gilbert space-filling curve, shifted by learned per-cell offsets, so the 1-D order keeps 2-D neighbours close.",
  slots: ["embedding"],
  params: LOOPE_PARAMS,
  positionCoordinates: 2,
  create(params, path = "loope"): PositionalEncoding {
    const p = resolveParams(path, LOOPE_PARAMS, params);
    const cells = p.maxGrid * p.maxGrid;
    if (p.offsets.length !== 0 && p.offsets.length !== cells) {
      throw new PosencConfigError(
        "invalid_value",
        `${path}.offsets`,
        `${p.offsets.length} values`,
        `[] or maxGrid * maxGrid = ${cells} values`,
      );
    }
    const offsets = p.offsets.length === 0 ? new Float64Array(cells) : p.offsets;
    return {
      id: "loope",
      params: Object.freeze(p),
      embedding(positions, dModel) {
        checkEven(path, dModel);
        return Float32Array.from(loopeEmbedding(positions, offsets, p.maxGrid, dModel));
      },
    };
  },
  trainable(p, dims, _rng, path = "loope"): TrainableEncoding {
    checkEven(path, dims.dModel);
    const offsets = constantParameter([p.maxGrid * p.maxGrid, 1], 0, "loope.offsets");
    const perForward = new PerForward<Tensor>();
    return {
      id: "loope",
      parameters: (): Parameter[] => [offsets],
      embedding(ids, batchSize, seqLen) {
        checkGridIds("loope", ids, batchSize, seqLen);
        return perForward.get(ids, () => {
          const xg = new Float32Array(batchSize * seqLen);
          const cells = new Int32Array(batchSize * seqLen);
          for (let b = 0; b < batchSize; b++) {
            const places = curvePlaces("loope", exampleIds(ids, b, seqLen), seqLen, p.maxGrid);
            xg.set(places.xg, b * seqLen);
            cells.set(places.cell, b * seqLen);
          }
          const e = loopeTensor(tensor(xg, [batchSize * seqLen, 1]), cells, offsets, dims.dModel);
          return reshape(e, [batchSize, seqLen, dims.dModel]);
        });
      },
    };
  },
});
