/**
 * Shifted-basis embeddings, from "Rethinking Positional Encoding" (Zheng, Ramasinghe and Lucey, 2021),
 * arXiv:2107.02561. A coordinate v in [0, 1] is embedded by D shifted copies of one basis function phi:
 *   psi_k(v) = phi((v - t_k) / sigma),   t_k = k / (D - 1),  k = 0..D-1
 * (the official notebooks build the same thing as rows of scipy's circulant(c) for a sampled basis c). The paper's
 * claim: an embedding's quality is set by the trade-off between the STABLE RANK of the embedded training points
 * (too high: memorisation, too low: underfitting) and how well inner products PRESERVE DISTANCE between points
 * (./embedding-analysis.ts measures both), and Fourier features are one case among many: a non-Fourier basis with
 * the right width does as well.
 * Basis families:
 *   gaussian   exp(-u^2 / 2)        laplacian  exp(-|u|)
 *   triangle   max(0, 1 - |u|)      sinc       sin(pi u) / (pi u)   (1 at u = 0)
 * For points x in [-1, 1]^d, v = (x + 1) / 2 per coordinate and the d embeddings are concatenated (the paper's
 * separable form; d D outputs). Normalisation: every output is divided by the largest embedding norm over a dense
 * grid of the domain (the notebooks divide by the largest row norm of the embedded training matrix; ours does not
 * depend on the data).
 */
import {
  abs,
  concat,
  div,
  exp,
  mul,
  relu,
  sin,
  slice,
  sub,
  type Tensor,
  tensor,
  where,
} from "../../engine/index.js";
import { PosencConfigError } from "../../util/validation.js";
import { toUnitCube } from "./random-fourier.js";
import type { CoordinateEncoder, CoordinateEncodingSpec } from "./types.js";
import { checkInputDim, numberOption, resolveOptions } from "./types.js";

export const SHIFTED_BASES = ["gaussian", "laplacian", "triangle", "sinc"] as const;
export type ShiftedBasis = (typeof SHIFTED_BASES)[number];

/** phi(u) of each family, plain math. */
export function basisValue(basis: ShiftedBasis, u: number): number {
  switch (basis) {
    case "gaussian":
      return Math.exp(-0.5 * u * u);
    case "laplacian":
      return Math.exp(-Math.abs(u));
    case "triangle":
      return Math.max(0, 1 - Math.abs(u));
    case "sinc":
      return u === 0 ? 1 : Math.sin(Math.PI * u) / (Math.PI * u);
  }
}

/** The shifts t_k = k / (D - 1) (one shift at 0.5 when D = 1). */
export function shifts(count: number): number[] {
  return Array.from({ length: count }, (_, k) => (count === 1 ? 0.5 : k / (count - 1)));
}

/** The unnormalised 1-D embedding psi(v), plain math: D values. */
export function shiftedEmbedding1D(basis: ShiftedBasis, v: number, count: number, sigma: number): number[] {
  return shifts(count).map((t) => basisValue(basis, (v - t) / sigma));
}

/** The largest norm of psi(v) over 16 D + 1 evenly spaced v in [0, 1]. */
export function maxEmbeddingNorm(basis: ShiftedBasis, count: number, sigma: number): number {
  let best = 0;
  const points = 16 * count;
  for (let i = 0; i <= points; i++) {
    const e = shiftedEmbedding1D(basis, i / points, count, sigma);
    best = Math.max(best, Math.hypot(...e));
  }
  return best;
}

/** phi applied elementwise to a tensor of u values, with gradients (sinc's removable singularity included). */
export function basisOp(basis: ShiftedBasis, u: Tensor): Tensor {
  switch (basis) {
    case "gaussian":
      return exp(mul(mul(u, u), -0.5));
    case "laplacian":
      return exp(mul(abs(u), -1));
    case "triangle":
      return relu(sub(1, abs(u)));
    case "sinc": {
      // sin(pi u)/(pi u) is evaluated at u = 1 where u == 0, and replaced by its limit 1 there, so neither the
      // value nor the gradient (0 at u = 0, its limit) meets 0/0.
      const zero = tensor(
        Array.from(u.data, (v) => (v === 0 ? 1 : 0)),
        u.shape,
      );
      const one = tensor([1], [1]);
      const safe = mul(where(zero, one, u), Math.PI);
      return where(zero, one, div(sin(safe), safe));
    }
  }
}

export const shiftedBasisSpec: CoordinateEncodingSpec = {
  id: "shifted-basis",
  citation: "Rethinking Positional Encoding (Zheng, Ramasinghe and Lucey, 2021), arXiv:2107.02561",
  formula:
    "psi_k(v) = phi((v - k/(D-1)) / sigma), phi in {gaussian, laplacian, triangle, sinc}, per coordinate",
  defaults: {
    basis: { value: "gaussian", description: `phi: ${SHIFTED_BASES.join(", ")}` },
    count: { value: 128, description: "D, shifts per coordinate (d D outputs)" },
    sigma: { value: 0.01, description: "the basis width, in units of v in [0, 1]" },
  },
  create(inputDim, _rng, given): CoordinateEncoder {
    checkInputDim("shifted-basis", inputDim);
    const options = resolveOptions(shiftedBasisSpec, given);
    const basis = options.basis as ShiftedBasis;
    if (!SHIFTED_BASES.includes(basis)) {
      throw new PosencConfigError(
        "invalid_value",
        "shifted-basis.basis",
        basis,
        `one of ${SHIFTED_BASES.join(", ")}`,
      );
    }
    const count = numberOption("shifted-basis", options, "count", { integer: true, min: 1, max: 4096 });
    const sigma = numberOption("shifted-basis", options, "sigma", { min: 0, exclusiveMin: true, max: 10 });
    const norm = Math.sqrt(inputDim) * maxEmbeddingNorm(basis, count, sigma);
    const t = shifts(count);
    return {
      id: "shifted-basis",
      inputDim,
      outputDim: inputDim * count,
      parameters: [],
      options,
      encode(x: Tensor): Tensor {
        const v = toUnitCube(x);
        const shiftsRow = tensor(t, [1, count]);
        const parts: Tensor[] = [];
        for (let j = 0; j < inputDim; j++) {
          const u = mul(sub(slice(v, 1, j, j + 1), shiftsRow), 1 / sigma); // [N, D]
          parts.push(basisOp(basis, u));
        }
        return mul(concat(parts, 1), 1 / norm);
      },
    };
  },
};
