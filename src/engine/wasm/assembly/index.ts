/** The engine's WASM kernels (AssemblyScript). Entry point compiled by scripts/build-wasm.mjs. */
export { matmul, WORKSPACE_BYTES } from "./matmul";
export { attentionRowsBackward, attentionRowsForward } from "./attention";
export { attentionSoftmax, attentionSoftmaxBackward, softmaxRows, softmaxRowsBackward } from "./softmax";
export { affineBackward, geluBackward, geluForward } from "./elementwise";
export { cosBackward, cosForward, sinBackward, sinForward, sinSqrtAbsBackward, sinSqrtAbsForward } from "./sine";
export { layernormBackward, layernormForward } from "./layernorm";
export { binaryBackwardRows, binaryForwardRows } from "./binary";
export { fillRows, moveHeads, rotateHalf, sumRows } from "./rows";
