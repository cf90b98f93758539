export * from "./embedding-analysis.js";
export { frequencySpec, octaveMatrix } from "./frequency.js";
export { identitySpec } from "./identity.js";
export { learnableFourierFeatures, learnableFourierSpec } from "./learnable-fourier.js";
export {
  levelResolutions,
  type NeudaGrid,
  neudaAnchors,
  neudaEncode,
  neudaGrid,
  neudaSpec,
  vertexAnchors,
} from "./neuda.js";
export { bandSigmas, progressiveBandsSpec } from "./progressive-bands.js";
export { gaussianFrequencies, randomFourierSpec, toUnitCube } from "./random-fourier.js";
export { coordinateEncodingRegistry, getCoordinateEncoding } from "./registry.js";
export {
  basisValue,
  maxEmbeddingNorm,
  SHIFTED_BASES,
  type ShiftedBasis,
  shiftedBasisSpec,
  shiftedEmbedding1D,
  shifts,
} from "./shifted-basis.js";
export type { CoordinateEncoder, CoordinateEncodingSpec, CoordinateOptions } from "./types.js";
