/**
 * The kernel dispatch table. Ops call kernels only through `kernels()`, so a faster implementation (the WASM SIMD
 * kernels in ../wasm/) replaces a reference kernel with `setKernels({ matmul: fast })` without touching any op.
 * Every replacement must honour the reference's signature and semantics (llm.c argument order: outputs, saved
 * buffers, inputs, weights, sizes; backward kernels accumulate +=); tests hold replacements to the references.
 *
 * Inside `withFloat64Storage` (gradient checks) `kernels()` always returns the references, which also run on
 * Float64Array.
 */
import { isFloat64Storage } from "../storage.js";
import { attentionBackward, attentionForward } from "./attention.js";
import { depthwiseConv2dBackward, depthwiseConv2dForward } from "./conv.js";
import {
  affineBackward,
  affineForward,
  atan2Backward,
  atan2Forward,
  binaryBackward,
  binaryForward,
  powBackward,
  powForward,
  stridedAdd,
  stridedCopy,
  unaryKernels,
  whereBackward,
  whereForward,
} from "./elementwise.js";
import { matrixExpBackward, matrixExpForward } from "./expm.js";
import {
  embeddingBackward,
  embeddingForward,
  lerpGatherBackward,
  lerpGatherForward,
  scatterRowsBackward,
  scatterRowsForward,
} from "./gather.js";
import { fillRows, headsToSlabs, slabsToHeads, sumRows } from "./heads.js";
import { layernormBackward, layernormForward, rmsnormBackward, rmsnormForward } from "./layernorm.js";
import { matmulReference } from "./matmul.js";
import { adamUpdate, scaleInPlace, sgdUpdate, sumOfSquares } from "./optimizer.js";
import { cumsumBackward, cumsumForward, maxBackward, maxForward, sumBackward, sumForward } from "./reduce.js";
import { rotatePairsBackward, rotatePairsForward } from "./rotate.js";
import {
  crossEntropyBackward,
  crossEntropyForward,
  logSoftmaxBackward,
  logSoftmaxForward,
  softmaxBackward,
  softmaxForward,
} from "./softmax.js";
import type { MatmulKernel } from "./types.js";

/** The TypeScript reference kernels. Frozen: replacements go through `setKernels`. */
export const referenceKernels = Object.freeze({
  matmul: matmulReference as MatmulKernel,
  unary: unaryKernels,
  powForward,
  powBackward,
  binaryForward,
  binaryBackward,
  whereForward,
  whereBackward,
  atan2Forward,
  atan2Backward,
  stridedCopy,
  stridedAdd,
  affineForward,
  affineBackward,
  sumForward,
  sumBackward,
  maxForward,
  maxBackward,
  cumsumForward,
  cumsumBackward,
  softmaxForward,
  softmaxBackward,
  logSoftmaxForward,
  logSoftmaxBackward,
  crossEntropyForward,
  crossEntropyBackward,
  layernormForward,
  layernormBackward,
  rmsnormForward,
  rmsnormBackward,
  attentionForward,
  attentionBackward,
  rotatePairsForward,
  rotatePairsBackward,
  embeddingForward,
  embeddingBackward,
  lerpGatherForward,
  lerpGatherBackward,
  scatterRowsForward,
  scatterRowsBackward,
  depthwiseConv2dForward,
  depthwiseConv2dBackward,
  matrixExpForward,
  matrixExpBackward,
  headsToSlabs,
  slabsToHeads,
  fillRows,
  sumRows,
  adamUpdate,
  sgdUpdate,
  sumOfSquares,
  scaleInPlace,
});

/** The kernel table's type: one entry per kernel family, with the reference's signature. */
export type Kernels = { -readonly [K in keyof typeof referenceKernels]: (typeof referenceKernels)[K] };

const active: Kernels = { ...referenceKernels };

/** The kernels ops should call now: the active table, or the references under float64 storage. */
export function kernels(): Readonly<Kernels> {
  return isFloat64Storage() ? referenceKernels : active;
}

/** Replaces some kernels; returns the replaced entries so a caller can restore them with another `setKernels`. */
export function setKernels(replacements: Partial<Kernels>): Partial<Kernels> {
  const previous: Partial<Kernels> = {};
  for (const key of Object.keys(replacements) as (keyof Kernels)[]) {
    if (!(key in referenceKernels)) {
      throw new RangeError(
        `setKernels: unknown kernel '${String(key)}'; known kernels are ${Object.keys(referenceKernels).join(", ")}`,
      );
    }
    (previous as Record<string, unknown>)[key] = active[key];
    (active as Record<string, unknown>)[key] = replacements[key];
  }
  return previous;
}

/** Restores every reference kernel. */
export function resetKernels(): void {
  Object.assign(active, referenceKernels);
}
