/**
 * Gaussian random Fourier features, from "Fourier Features Let Networks Learn High Frequency Functions in Low
 * Dimensional Domains" (Tancik, Srinivasan, Mildenhall, Fridovich-Keil, Raghavan, Singhal, Ramamoorthi, Barron
 * and Ng, NeurIPS 2020), arXiv:2006.10739, section 5:
 *   gamma(v) = [sin(2 pi v B^T), cos(2 pi v B^T)],   B [m, d] with entries ~ N(0, sigma^2), fixed
 * The paper's coordinates are v in [0, 1]^d, so points x in [-1, 1]^d enter as v = (x + 1) / 2 and sigma keeps
 * the paper's meaning (its image experiments use sigma = 10; the demo notebook draws m = 256 rows).
 */
import { add, mul, type Tensor, tensor } from "../../engine/index.js";
import type { Rng } from "../../util/rng.js";
import { sinCosFeatures } from "./projection.js";
import type { CoordinateEncoder, CoordinateEncodingSpec } from "./types.js";
import { checkInputDim, numberOption, resolveOptions } from "./types.js";

/** x in [-1, 1] -> v in [0, 1], the unit-cube coordinates of the Fourier-feature papers. */
export function toUnitCube(x: Tensor): Tensor {
  return add(mul(x, 0.5), 0.5);
}

/** B^T as [d, m], entries N(0, sigma^2), drawn row of B by row (m rows of d). */
export function gaussianFrequencies(rng: Rng, inputDim: number, count: number, sigma: number): number[] {
  const bT = new Array<number>(inputDim * count);
  for (let r = 0; r < count; r++) for (let j = 0; j < inputDim; j++) bT[j * count + r] = sigma * rng.normal();
  return bT;
}

export const randomFourierSpec: CoordinateEncodingSpec = {
  id: "gaussian-fourier",
  citation:
    "Fourier Features Let Networks Learn High Frequency Functions (Tancik et al., NeurIPS 2020), arXiv:2006.10739",
  formula: "gamma(v) = [sin(2 pi v B^T), cos(2 pi v B^T)], B ~ N(0, sigma^2), v in [0,1]^d",
  defaults: {
    features: { value: 128, description: "m, rows of B (2m outputs)" },
    sigma: { value: 10, description: "standard deviation of B's entries, for v in [0, 1]" },
  },
  create(inputDim, rng, given): CoordinateEncoder {
    checkInputDim("gaussian-fourier", inputDim);
    const options = resolveOptions(randomFourierSpec, given);
    const m = numberOption("gaussian-fourier", options, "features", { integer: true, min: 1, max: 4096 });
    const sigma = numberOption("gaussian-fourier", options, "sigma", {
      min: 0,
      exclusiveMin: true,
      max: 1e4,
    });
    const bT = gaussianFrequencies(rng, inputDim, m, sigma);
    return {
      id: "gaussian-fourier",
      inputDim,
      outputDim: 2 * m,
      parameters: [],
      options,
      encode: (x) => sinCosFeatures(toUnitCube(x), tensor(bT, [inputDim, m]), 2 * Math.PI),
    };
  },
};
