/**
 * The progressive frequency bands of PINs, from "PINs: Progressive Implicit Networks for Multi-Scale Neural
 * Representations" (Landgraf, Sorkine-Hornung and Cheng, ICML 2022), arXiv:2202.04713. Fourier features are split
 * into L bands of increasing frequency; the network (src/fields/mlp.ts, architecture "progressive") feeds band l
 * into its l-th block together with the previous block's hidden state, and sums one output head per block, so
 * coarse blocks learn the low frequencies and later blocks add detail:
 *   gamma_l(v) = [sin(2 pi v B_l^T), cos(2 pi v B_l^T)],  B_l [m, d] ~ N(0, sigma_l^2),
 *   sigma_l = sigma_min (sigma_max / sigma_min)^(l / (L - 1)),  l = 0..L-1          (v = (x + 1)/2 in [0, 1]^d)
 * No official code was found; the band schedule (geometric in sigma) is our reading of the paper's "incremental
 * frequency bands". `encode` concatenates the bands, so the same features can also feed a plain MLP (the
 * "fixed encoding" baseline of the progressive/fixed comparison).
 */
import { concat, type Tensor, tensor } from "../../engine/index.js";
import { PosencConfigError } from "../../util/validation.js";
import { sinCosFeatures } from "./projection.js";
import { gaussianFrequencies, toUnitCube } from "./random-fourier.js";
import type { CoordinateEncoder, CoordinateEncodingSpec } from "./types.js";
import { checkInputDim, numberOption, resolveOptions } from "./types.js";

/** sigma_l for l = 0..L-1, geometric from sigma_min to sigma_max. */
export function bandSigmas(levels: number, sigmaMin: number, sigmaMax: number): number[] {
  return Array.from({ length: levels }, (_, l) =>
    levels === 1 ? sigmaMax : sigmaMin * (sigmaMax / sigmaMin) ** (l / (levels - 1)),
  );
}

export const progressiveBandsSpec: CoordinateEncodingSpec = {
  id: "pins",
  citation:
    "PINs: Progressive Implicit Networks (Landgraf, Sorkine-Hornung and Cheng, ICML 2022), arXiv:2202.04713",
  formula:
    "gamma_l(v) = [sin(2 pi v B_l^T), cos(2 pi v B_l^T)], B_l ~ N(0, sigma_l^2), sigma_l geometric, l = 0..L-1",
  defaults: {
    levels: { value: 4, description: "L, the number of bands (network blocks)" },
    features: { value: 32, description: "m, frequencies per band (2m outputs per band)" },
    sigmaMin: { value: 1, description: "sigma of the coarsest band, for v in [0, 1]" },
    sigmaMax: { value: 16, description: "sigma of the finest band" },
  },
  create(inputDim, rng, given): CoordinateEncoder {
    checkInputDim("pins", inputDim);
    const options = resolveOptions(progressiveBandsSpec, given);
    const levels = numberOption("pins", options, "levels", { integer: true, min: 1, max: 16 });
    const m = numberOption("pins", options, "features", { integer: true, min: 1, max: 1024 });
    const sigmaMin = numberOption("pins", options, "sigmaMin", { min: 0, exclusiveMin: true });
    const sigmaMax = numberOption("pins", options, "sigmaMax", { min: 0, exclusiveMin: true });
    if (sigmaMax < sigmaMin)
      throw new PosencConfigError("out_of_range", "pins.sigmaMax", sigmaMax, `>= sigmaMin (${sigmaMin})`);
    const bands = bandSigmas(levels, sigmaMin, sigmaMax).map((s) => gaussianFrequencies(rng, inputDim, m, s));
    const encodeLevels = (x: Tensor): Tensor[] => {
      const v = toUnitCube(x);
      return bands.map((bT) => sinCosFeatures(v, tensor(bT, [inputDim, m]), 2 * Math.PI));
    };
    return {
      id: "pins",
      inputDim,
      outputDim: 2 * m * levels,
      parameters: [],
      options,
      encodeLevels,
      encode: (x) => concat(encodeLevels(x), 1),
    };
  },
};
