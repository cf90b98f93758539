/**
 * The transformer with pluggable positional encodings (see transformer.ts for the API and encodings.ts for how
 * registry ids become hook implementations).
 */
export { Block, createLinear, type Linear, linear } from "./block.js";
export { DEFAULT_MODEL_CONFIG, type EncodingChoice, type ModelConfig, resolveModelConfig } from "./config.js";
export { createModelEncoding, createTrainableEncoding, type ModelEncoding } from "./encodings.js";
export { createTransformer, type ForwardInput, type LossInput, type Transformer } from "./transformer.js";
export {
  createVisionTransformer,
  resolveVisionConfig,
  type VisionConfig,
  type VisionInput,
  type VisionTransformer,
} from "./vision.js";
