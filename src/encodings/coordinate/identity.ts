/**
 * The raw coordinates, x in [-1, 1]^d unchanged: the input of SIREN and SPDER networks (their sine activations do
 * the frequency work) and the plain ReLU baseline of "Fourier Features Let Networks Learn High Frequency
 * Functions" (arXiv:2006.10739, the "no mapping" row).
 */

import type { CoordinateEncoder, CoordinateEncodingSpec } from "./types.js";
import { checkInputDim, resolveOptions } from "./types.js";

export const identitySpec: CoordinateEncodingSpec = {
  id: "identity",
  citation: "no encoding (arXiv:2006.10739's 'no mapping' baseline)",
  formula: "gamma(x) = x",
  defaults: {},
  create(inputDim, _rng, given): CoordinateEncoder {
    checkInputDim("identity", inputDim);
    const options = resolveOptions(identitySpec, given);
    return { id: "identity", inputDim, outputDim: inputDim, parameters: [], options, encode: (x) => x };
  },
};
