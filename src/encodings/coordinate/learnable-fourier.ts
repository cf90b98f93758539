/**
 * Learnable Fourier features, from "Learnable Fourier Features for Multi-Dimensional Spatial Positional Encoding"
 * (Li, Si, Li, Hsieh and Bengio, NeurIPS 2021), arXiv:2106.02795, Algorithm 1:
 *   r(x) = 1/sqrt(F) [cos(x W_r^T), sin(x W_r^T)],   W_r [F/2, d] learnable, initialised N(0, gamma^-2)
 * (cosines first, as the paper). The paper follows r(x) with a small MLP (Linear-GELU-Linear); in a neural field
 * the coordinate MLP plays that role, so only the feature map lives here. No official code exists; the
 * willGuimont/learnable_fourier_positional_encoding package reads N(0, gamma^-2) as a standard deviation of
 * gamma^-2, and the paper's notation is a variance (std 1/gamma): we use std 1/gamma and say so.
 * Points x in [-1, 1]^d enter as v = (x + 1)/2; the default gamma = 1/(2 pi 10) makes W_r at initialisation
 * distributed as 2 pi B of the Gaussian Fourier features with sigma = 10, so the two start alike and differ in
 * that W_r trains.
 */
import { mul, normalParameter, type Tensor } from "../../engine/index.js";
import { sinCosFeatures } from "./projection.js";
import { toUnitCube } from "./random-fourier.js";
import type { CoordinateEncoder, CoordinateEncodingSpec } from "./types.js";
import { checkInputDim, numberOption, resolveOptions } from "./types.js";

/** r(v) for points x [N, d] (v = (x + 1)/2) and W_r stored transposed, [d, F/2]. */
export function learnableFourierFeatures(x: Tensor, w: Tensor): Tensor {
  return mul(sinCosFeatures(toUnitCube(x), w, 1, true), 1 / Math.sqrt(2 * w.shape[1]));
}

export const learnableFourierSpec: CoordinateEncodingSpec = {
  id: "learnable-fourier",
  citation:
    "Learnable Fourier Features for Multi-Dimensional Spatial PE (Li et al., NeurIPS 2021), arXiv:2106.02795",
  formula: "r(v) = 1/sqrt(F) [cos(v W^T), sin(v W^T)], W [F/2, d] learnable, W ~ N(0, gamma^-2)",
  defaults: {
    features: { value: 128, description: "F/2, rows of W_r (F outputs)" },
    gamma: { value: 1 / (2 * Math.PI * 10), description: "W_r's initial standard deviation is 1/gamma" },
  },
  create(inputDim, rng, given): CoordinateEncoder {
    checkInputDim("learnable-fourier", inputDim);
    const options = resolveOptions(learnableFourierSpec, given);
    const half = numberOption("learnable-fourier", options, "features", { integer: true, min: 1, max: 4096 });
    const gamma = numberOption("learnable-fourier", options, "gamma", { min: 0, exclusiveMin: true });
    // Stored transposed, [d, F/2], so the projection is v W (the layout of `matmul`).
    const w = normalParameter(rng, [inputDim, half], 1 / gamma, "learnable-fourier.W");
    return {
      id: "learnable-fourier",
      inputDim,
      outputDim: 2 * half,
      parameters: [w],
      options,
      encode: (x: Tensor) => learnableFourierFeatures(x, w),
    };
  },
};
