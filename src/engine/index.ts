/**
 * posenc's engine: tensors on float32 storage in one WebAssembly.Memory, reverse-mode autograd, ops with
 * TypeScript reference kernels (replaceable through `setKernels`), optimizers and initializers.
 */

export {
  constantParameter,
  kaimingNormal,
  normalParameter,
  uniformParameter,
  xavierUniform,
} from "./init.js";
export { expmSmall } from "./kernels/expm.js";
export { type Kernels, kernels, referenceKernels, resetKernels, setKernels } from "./kernels/index.js";
export type { MatmulKernel, MatmulShape } from "./kernels/types.js";
export { memoryStats } from "./memory.js";
export { type AttentionOptions, attention } from "./ops/attention.js";
export * from "./ops/elementwise.js";
export { mergeHeads, splitHeads } from "./ops/heads.js";
export { linear } from "./ops/linear.js";
export { type MatmulOptions, matmul } from "./ops/matmul.js";
export {
  concat,
  embedding,
  lerpGather,
  permute,
  reshape,
  scatterRows,
  slice,
  transpose,
} from "./ops/movement.js";
export * from "./ops/nn.js";
export { type Axes, cumsum, max, mean, sum } from "./ops/reduce.js";
export { depthwiseConv2d, matrixExp } from "./ops/spatial.js";
export {
  Adam,
  type AdamConfig,
  AdamW,
  clipGradNorm,
  learningRateAt,
  type Optimizer,
  type ScheduleConfig,
  Sgd,
  type SgdConfig,
} from "./optim.js";
export {
  type EngineInfo,
  type EngineOptions,
  engineInfo,
  initEngine,
  initEngineSync,
  type KernelChoice,
  shutdownEngine,
} from "./setup.js";
export { isFloat64Storage, withFloat64Storage } from "./storage.js";
export {
  backward,
  empty,
  full,
  type GraphNode,
  gradOrNull,
  inputGrad,
  isGradEnabled,
  noGrad,
  ones,
  Parameter,
  parameter,
  record,
  type Shape,
  scalar,
  Tensor,
  tensor,
  tidy,
  uninitialized,
  zeros,
} from "./tensor.js";
