/**
 * NeRF's frequency ("positional") encoding, from "NeRF: Representing Scenes as Neural Radiance Fields for View
 * Synthesis" (Mildenhall, Srinivasan, Tancik, Barron, Ramamoorthi and Ng, ECCV 2020), arXiv:2003.08934, eq. 4:
 *   gamma(p) = (sin(2^0 pi p), cos(2^0 pi p), ..., sin(2^(L-1) pi p), cos(2^(L-1) pi p))   per coordinate
 * optionally preceded by p itself (the official code's `include_input`, on by default there and here).
 *
 * Layout here: [p (d), sin(2^k pi p_j) for k < L, j < d (k major), then the same cosines]: a fixed permutation of
 * the paper's interleaving, which a following linear layer cannot tell apart. No parameters.
 */
import { concat, type Tensor, tensor } from "../../engine/index.js";
import { sinCosFeatures } from "./projection.js";
import type { CoordinateEncoder, CoordinateEncodingSpec } from "./types.js";
import { checkInputDim, numberOption, resolveOptions } from "./types.js";

/** B [d, L d]: column k d + j holds 2^k at row j (times pi in the projection). */
export function octaveMatrix(inputDim: number, levels: number): number[] {
  const cols = levels * inputDim;
  const b = new Array<number>(inputDim * cols).fill(0);
  for (let k = 0; k < levels; k++) for (let j = 0; j < inputDim; j++) b[j * cols + k * inputDim + j] = 2 ** k;
  return b;
}

export const frequencySpec: CoordinateEncodingSpec = {
  id: "frequency",
  citation: "NeRF (Mildenhall et al., ECCV 2020), arXiv:2003.08934",
  formula: "gamma(p) = [p, sin(2^k pi p), cos(2^k pi p)], k = 0..L-1",
  defaults: {
    levels: { value: 8, description: "L, the number of octaves" },
    includeInput: {
      value: 1,
      description: "1: prepend p itself (the official code's include_input), 0: omit",
    },
  },
  create(inputDim, _rng, given): CoordinateEncoder {
    checkInputDim("frequency", inputDim);
    const options = resolveOptions(frequencySpec, given);
    const levels = numberOption("frequency", options, "levels", { integer: true, min: 1, max: 16 });
    const includeInput = numberOption("frequency", options, "includeInput", {
      integer: true,
      min: 0,
      max: 1,
    });
    const values = octaveMatrix(inputDim, levels);
    const shape = [inputDim, levels * inputDim];
    return {
      id: "frequency",
      inputDim,
      outputDim: includeInput * inputDim + 2 * levels * inputDim,
      parameters: [],
      options,
      encode(x: Tensor): Tensor {
        const features = sinCosFeatures(x, tensor(values, shape), Math.PI);
        return includeInput ? concat([x, features], 1) : features;
      },
    };
  },
};
