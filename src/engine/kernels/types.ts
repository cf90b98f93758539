/**
 * The kernel contract: plain functions over Float32Array views (which live in the engine's memory, see
 * ../memory.ts, so a WASM implementation addresses them by `view.byteOffset`). Every kernel has a TypeScript
 * reference implementation in this folder; a WASM SIMD implementation (../wasm/) may replace it, and tests hold
 * the two to each other.
 *
 * Argument order follows llm.c: outputs first, then saved-for-backward buffers, then inputs, then weights, then
 * sizes. Backward kernels accumulate (+=) into their input gradients.
 */

/**
 * Batched matrix multiply: for each b in [0, batch):
 *   C_b (m x n)  (+)=  op(A_b) (m x k) . op(B_b) (k x n)
 * A_b starts at a[b * aBatchStride] and is stored row-major as m x k, or as k x m when transA (op = transpose);
 * B_b starts at b[b * bBatchStride], stored k x n, or n x k when transB; C_b starts at c[b * cBatchStride], m x n.
 * A batch stride of 0 broadcasts that operand over the batch. With accumulate, C += product; otherwise C = product.
 */
export interface MatmulShape {
  batch: number;
  m: number;
  n: number;
  k: number;
  transA: boolean;
  transB: boolean;
  aBatchStride: number;
  bBatchStride: number;
  cBatchStride: number;
  accumulate: boolean;
}

export type MatmulKernel = (a: Float32Array, b: Float32Array, c: Float32Array, shape: MatmulShape) => void;
