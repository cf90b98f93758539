/**
 * NeuDA's deformable anchor grid, from "NeuDA: Neural Deformable Anchor for High-Fidelity Implicit Surface
 * Reconstruction" (Cai, Li, Ye, Zhang, Yan, Li and Tang, CVPR 2023), arXiv:2303.02375. Checked against the
 * official `DAGrid` (3D-FRONT-FUTURE/NeuDA, models/embedder.py); our code is written from the formulas below.
 *
 * L grids over the box [-bound, bound]^d, level l with r_l = floor(base * b^l) cells per side. Each grid vertex v
 * stores a LEARNABLE anchor position a_v in R^d, initialised at the vertex itself. A point x is encoded per level
 * by encoding the anchors of its cell's 2^d corners with the level's frequency and interpolating:
 *   u = (clamp(x) + bound) / (2 bound),   f = u r_l,   i = floor(f),   w = f - i       (per coordinate)
 *   feature_l(x) = sum_{c in {0,1}^d} prod_j (c_j ? w_j : 1 - w_j) * [sin(2^l a_{i+c}), cos(2^l a_{i+c})]
 *   NeuDA(x) = [x, feature_0(x), ..., feature_{L-1}(x)]                      (d + 2 d L outputs)
 * The frequency grows with the level (2^l, no pi, as the official code), so fine grids carry high frequencies;
 * moving an anchor deforms where the level samples its sinusoids, which is how thin parts and small holes are
 * meant to be recovered. Corner order (first coordinate most significant) and vertex layout (first coordinate
 * major) follow the official code; its 3-D configuration is L = 8, base 16, b = 1.38, bound 1.01. Our defaults are
 * smaller so that a CPU can train them (see `defaults`).
 *
 * Gradients reach the anchors (through the gather) and the points x (through the weights w and the leading x).
 */
import {
  add,
  concat,
  cos,
  embedding,
  mul,
  type Parameter,
  parameter,
  reshape,
  sin,
  slice,
  sub,
  sum,
  type Tensor,
  tensor,
  where,
} from "../../engine/index.js";
import type { CoordinateEncoder, CoordinateEncodingSpec } from "./types.js";
import { checkInputDim, numberOption, resolveOptions } from "./types.js";

/** Keeps u = (x + bound) / 2 bound strictly below 1, so a cell's far corner exists (the official eps). */
const EDGE_EPS = 1e-6;

/** r_l = floor(base * b^l) for l = 0..L-1 (the official `int(base_resolution * b**i)`). */
export function levelResolutions(levels: number, base: number, growth: number): number[] {
  return Array.from({ length: levels }, (_, l) => Math.floor(base * growth ** l + 1e-9));
}

/** The initial anchors: every level's vertices, row-major with the first coordinate major, [sum (r+1)^d, d]. */
export function vertexAnchors(resolutions: readonly number[], inputDim: number, bound: number): number[] {
  const out: number[] = [];
  for (const r of resolutions) {
    const count = (r + 1) ** inputDim;
    for (let v = 0; v < count; v++) {
      for (let j = 0; j < inputDim; j++) {
        const index = Math.floor(v / (r + 1) ** (inputDim - 1 - j)) % (r + 1);
        out.push(-bound + (2 * bound * index) / r);
      }
    }
  }
  return out;
}

/** The grid layout of one NeuDA encoder. */
export interface NeudaGrid {
  inputDim: number;
  bound: number;
  resolutions: number[];
  /** First anchor row of each level. */
  offsets: number[];
  /** Anchor rows in all. */
  vertices: number;
}

export function neudaGrid(
  inputDim: number,
  levels: number,
  base: number,
  growth: number,
  bound: number,
): NeudaGrid {
  const resolutions = levelResolutions(levels, base, growth);
  const offsets: number[] = [];
  let vertices = 0;
  for (const r of resolutions) {
    offsets.push(vertices);
    vertices += (r + 1) ** inputDim;
  }
  return { inputDim, bound, resolutions, offsets, vertices };
}

/** NeuDA(x) for points x [N, d] and anchors [vertices, d] (any tensor: the encoder passes its Parameter). */
export function neudaEncode(grid: NeudaGrid, anchors: Tensor, x: Tensor): Tensor {
  const { inputDim: d, bound, resolutions, offsets } = grid;
  const n = x.shape[0];
  const levels = resolutions.length;
  const corners = 2 ** d;
  const size = 2 * bound;
  // cornerBits[c, j] = bit j of corner c, first coordinate most significant (the official offsets_pos).
  const cornerBits = Array.from(
    { length: corners * d },
    (_, k) => (Math.floor(k / d) >> (d - 1 - (k % d))) & 1,
  );
  // Clamp to the box (the gradient passes inside it, as torch's min/max).
  const xs = x.data;
  const clamped = Array.from(xs, (v) => Math.min(Math.max(v, -bound), bound - EDGE_EPS * size));
  const inside = tensor(
    Array.from(xs, (v, i) => (v === clamped[i] ? 1 : 0)),
    x.shape,
  );
  const xc = where(inside, x, tensor(clamped, x.shape));
  // Cell indices (no gradient) and the fractional positions w (with gradient), [N, L, d].
  const ids = new Int32Array(n * levels * corners);
  const floors = new Array<number>(n * levels * d);
  for (let p = 0; p < n; p++) {
    for (let l = 0; l < levels; l++) {
      const r = resolutions[l];
      let cell = 0;
      for (let j = 0; j < d; j++) {
        const i = Math.floor(((clamped[p * d + j] + bound) / size) * r);
        floors[(p * levels + l) * d + j] = i;
        cell = cell * (r + 1) + i;
      }
      for (let c = 0; c < corners; c++) {
        let offset = 0;
        for (let j = 0; j < d; j++) offset = offset * (r + 1) + cornerBits[c * d + j];
        ids[(p * levels + l) * corners + c] = offsets[l] + cell + offset;
      }
    }
  }
  const u = mul(add(xc, bound), 1 / size); // [N, d]
  const scaled = mul(reshape(u, [n, 1, d]), tensor(resolutions, [1, levels, 1])); // [N, L, d]
  const w = reshape(sub(scaled, tensor(floors, [n, levels, d])), [n, levels, 1, d]);
  // Per corner and coordinate: c ? w : 1 - w  =  (1 - w) + c (2 w - 1); product over coordinates.
  const factor = add(sub(1, w), mul(tensor(cornerBits, [1, 1, corners, d]), sub(mul(w, 2), 1)));
  let weight = slice(factor, 3, 0, 1);
  for (let j = 1; j < d; j++) weight = mul(weight, slice(factor, 3, j, j + 1)); // [N, L, C, 1]
  // Every vertex's anchor encoded once with its level's frequency 2^l ([V, 2d]), then gathered per corner
  // ([N, L, C, 2d]): the same values as encoding each gathered corner, with V trig evaluations instead of N L 2^d.
  const rowFrequency = new Array<number>(grid.vertices);
  for (const [l, r] of resolutions.entries())
    rowFrequency.fill(2 ** l, offsets[l], offsets[l] + (r + 1) ** d);
  const z = mul(anchors, tensor(rowFrequency, [grid.vertices, 1]));
  const encoded = embedding(concat([sin(z), cos(z)], 1), ids, [n, levels, corners]);
  const features = sum(mul(encoded, weight), 2); // [N, L, 2d]
  return concat([x, reshape(features, [n, 2 * d * levels])], 1);
}

export const neudaSpec: CoordinateEncodingSpec = {
  id: "neuda",
  citation: "NeuDA: Neural Deformable Anchor (Cai et al., CVPR 2023), arXiv:2303.02375",
  formula:
    "[x, sum_c w_c(x) [sin(2^l a_c), cos(2^l a_c)] per level l], anchors a_c learnable, init at the vertices",
  defaults: {
    levels: { value: 6, description: "L, the number of grids" },
    base: { value: 8, description: "cells per side of the coarsest grid (official: 16)" },
    growth: { value: 1.38, description: "b, the resolution ratio between levels (official: 1.38)" },
    bound: { value: 1.01, description: "the grids cover [-bound, bound]^d (official: 1.01)" },
  },
  create(inputDim, _rng, given): CoordinateEncoder {
    checkInputDim("neuda", inputDim);
    const options = resolveOptions(neudaSpec, given);
    const levels = numberOption("neuda", options, "levels", { integer: true, min: 1, max: 12 });
    const base = numberOption("neuda", options, "base", { integer: true, min: 1, max: 256 });
    const growth = numberOption("neuda", options, "growth", { min: 1, max: 4 });
    const bound = numberOption("neuda", options, "bound", { min: 0, exclusiveMin: true, max: 100 });
    const grid = neudaGrid(inputDim, levels, base, growth, bound);
    const anchors = parameter(
      vertexAnchors(grid.resolutions, inputDim, bound),
      [grid.vertices, inputDim],
      "neuda.anchors",
    );
    return {
      id: "neuda",
      inputDim,
      outputDim: inputDim + 2 * inputDim * levels,
      parameters: [anchors],
      options,
      encode: (x: Tensor) => neudaEncode(grid, anchors, x),
    };
  },
};

/** The anchor Parameter of a NeuDA encoder (for inspection and tests). */
export function neudaAnchors(encoder: CoordinateEncoder): Parameter {
  if (encoder.id !== "neuda") throw new RangeError(`neudaAnchors: encoder "${encoder.id}" is not NeuDA`);
  return encoder.parameters[0];
}
